//! `cog serve`, started as a real process on loopback and asked over HTTP:
//! every endpoint answers as documented; tiles are rio-tiler's pixels
//! (fixtures/*.xyz, generate_xyz.py) with the mask as alpha, in PNG and
//! WebP; `rescale` is rio-tiler's linear_rescale; bad requests are 4xx
//! with a JSON `detail`; CORS allows any origin; many concurrent tiles
//! all succeed. Sources may be remote: one comes from the range server.
//!
//! With Chromium installed (`.ci/run` installs Debian's), the map page is
//! opened headless and its screenshot must show the served tiles' pixels.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use support::{RangeServer, fixtures_dir, read_gz};

/// A `cog serve` process, stopped when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(srcs: &[String]) -> Serve {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("cog"))
            .arg("serve")
            .args(["--port", "0"])
            .args(srcs)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cog serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("banner");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("banner {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Serve { child, base }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.base)).await.expect(path)
    }

    async fn json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap_or_default();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// rio-tiler's tile of a fixture: (data as f64, mask) of case `case`.
fn rio_tiler_tile(stem: &str, case: &str) -> (Vec<f64>, Vec<bool>) {
    let dir = fixtures_dir().join(format!("{stem}.xyz"));
    let data = support::npy::from_npy(&read_gz(dir.join(format!("{case}.npy.gz")))).expect("npy");
    let mask = support::npy::from_npy(&read_gz(dir.join(format!("{case}.mask.npy.gz")))).expect("npy");
    (data.to_f64_vec(), mask.to_f64_vec().iter().map(|&m| m != 0.0).collect())
}

/// The first nearest-resampled, partly valid tile rio-tiler wrote for `stem`.
fn partial_case(stem: &str) -> (u64, u64, u64, String) {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join(format!("{stem}.xyz.json"))).unwrap())
            .unwrap();
    let c = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resampling"] == "nearest" && c["invalid"].as_u64().is_some_and(|n| n > 0 && n < 65536))
        .expect("a partial tile");
    let n = |k: &str| c[k].as_u64().unwrap();
    (n("z"), n("x"), n("y"), c["arrays"].as_str().unwrap().to_string())
}

/// Checks a decoded one-band picture (as RGBA) against rio-tiler's tile:
/// gray where valid, transparent where masked.
fn assert_same_as_rio_tiler(what: &str, pixels: &[[u8; 4]], want: &(Vec<f64>, Vec<bool>), map: impl Fn(f64) -> u8) {
    assert_eq!(pixels.len(), want.0.len(), "{what}");
    let mut wrong = 0;
    for (i, (v, m)) in want.0.iter().zip(&want.1).enumerate() {
        let (g, a) = (pixels[i][0], pixels[i][3]);
        if a != if *m { 0 } else { 255 } || (!m && g != map(*v)) {
            wrong += 1;
        }
    }
    assert_eq!(wrong, 0, "{what}: {wrong} pixels differ from rio-tiler's tile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_tiles_and_errors() {
    let range = RangeServer::start(fixtures_dir()).await;
    let srcs = [
        fixtures_dir().join("u8_big_header.tif").display().to_string(),
        range.url("u16_deflate_pred2.tif"),
    ];
    let s = Serve::start(&srcs);

    // The page and its vendored viewer.
    let page = s.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["access-control-allow-origin"] == "*");
    let html = page.text().await.unwrap();
    assert!(html.contains("/assets/leaflet.js") && html.contains("tilejson.json"));
    let license = s.get("/assets/LICENSE-leaflet.txt").await.text().await.unwrap();
    assert!(license.contains("BSD 2-Clause"), "Leaflet's licence is served");
    let js = s.get("/assets/leaflet.js").await;
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.text().await.unwrap().contains("Leaflet"));
    assert_eq!(s.get("/u16_deflate_pred2/").await.status(), 200);
    // The page without its slash redirects, keeping the query.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/u16_deflate_pred2?rescale=0,9", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/u16_deflate_pred2/?rescale=0,9");

    // Sources, info, TileJSON: zooms and bounds are rio-tiler's.
    let (_, cogs) = s.json("/cogs").await;
    assert_eq!(cogs.as_array().unwrap().len(), 2);
    let webmap: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("webmap.json")).unwrap()).unwrap();
    for (prefix, stem) in [("", "u8_big_header"), ("/u16_deflate_pred2", "u16_deflate_pred2")] {
        let want = &webmap["files"][format!("{stem}.tif")];
        let (status, info) = s.json(&format!("{prefix}/info")).await;
        assert_eq!(status, 200);
        assert_eq!(
            (&info["minzoom"], &info["maxzoom"]),
            (&want["minzoom"], &want["maxzoom"]),
            "{stem}"
        );
        let (_, tj) = s.json(&format!("{prefix}/tilejson.json?rescale=0,1000")).await;
        assert_eq!(tj["tilejson"], "3.0.0");
        assert_eq!(tj["minzoom"], want["minzoom"]);
        let template = tj["tiles"][0].as_str().unwrap();
        assert!(
            template.ends_with(&format!("{prefix}/tiles/{{z}}/{{x}}/{{y}}.png?rescale=0,1000")),
            "{template}"
        );
        for (g, w) in tj["bounds"]
            .as_array()
            .unwrap()
            .iter()
            .zip(want["bounds"].as_array().unwrap())
        {
            assert!(
                (g.as_f64().unwrap() - w.as_f64().unwrap()).abs() < 1e-9,
                "{stem} bounds"
            );
        }
    }

    // A u8 tile, PNG and WebP: rio-tiler's pixels, mask as alpha.
    let (z, x, y, case) = partial_case("u8_big_header");
    let want = rio_tiler_tile("u8_big_header", &case);
    let png = s.get(&format!("/tiles/{z}/{x}/{y}.png")).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    let (w, _, px) = rgba(&png.bytes().await.unwrap());
    assert_eq!(w, 256);
    assert_same_as_rio_tiler("u8 PNG", &px, &want, |v| v as u8);
    let webp = s.get(&format!("/tiles/{z}/{x}/{y}.webp")).await;
    assert_eq!(webp.headers()["content-type"], "image/webp");
    let bytes = webp.bytes().await.unwrap();
    let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(&bytes[..])).expect("webp");
    let mut decoded = vec![0; d.output_buffer_size().expect("size")];
    d.read_image(&mut decoded).expect("decode webp");
    let px: Vec<[u8; 4]> = decoded.chunks(4).map(|p| [p[0], p[1], p[2], p[3]]).collect();
    assert_same_as_rio_tiler("u8 WebP", &px, &want, |v| v as u8);

    // A u16 tile from the range server, rescaled as rio-tiler rescales.
    let (z, x, y, case) = partial_case("u16_deflate_pred2");
    let want = rio_tiler_tile("u16_deflate_pred2", &case);
    let valid = want.0.iter().zip(&want.1).filter(|(_, m)| !**m).map(|(v, _)| *v);
    let (lo, hi) = valid.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // A range inside the data's, so that clipping and scaling both show.
    let (lo, hi) = (lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.1);
    let r = s
        .get(&format!("/u16_deflate_pred2/tiles/{z}/{x}/{y}?rescale={lo},{hi}"))
        .await;
    assert_eq!(r.status(), 200);
    let (_, _, px) = rgba(&r.bytes().await.unwrap());
    let rescale = |v: f64| ((v.clamp(lo, hi) - lo) / (hi - lo) * 255.0) as u8;
    assert_same_as_rio_tiler("u16 rescaled", &px, &want, rescale);

    // Failures: 4xx with a JSON detail, and the server lives on.
    let many_bands = format!("/tiles/{z}/{x}/{y}.png?bidx={}", vec!["1"; 17].join(","));
    for (path, status) in [
        ("/tiles/1/1/1.png", 404),                        // outside the image
        ("/tiles/x/1/1.png", 400),                        // not a number
        ("/tiles/14/3429/6180.gif", 400),                 // no such format
        (&format!("/tiles/{z}/{x}/{y}.png?bidx=2"), 400), // no such band
        (&format!("/tiles/{z}/{x}/{y}.png?rescale=5"), 400),
        (&format!("/tiles/{z}/{x}/{y}.png?rescale=1,x,2"), 400),
        (&format!("/tiles/{z}/{x}/{y}.png?tilesize=5000"), 400),
        (&format!("/tiles/{z}/{x}/{y}.png?resampling=cubic"), 400),
        (&many_bands, 400),
        ("/tiles/31/0/0.png", 400), // no such zoom
        ("/tiles/3/99/0.png", 400), // no such column
        ("/tiles/255/18446744073709551615/18446744073709551615.png", 400),
        ("/tiles/%FF/1/1.png", 400), // undecodable path
        ("/nope/info", 404),
        ("/nope/a/b", 404),
        ("/assets/nope.js", 404),
    ] {
        let (got, body) = s.json(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{path}: {body}");
    }
    let post = reqwest::Client::new()
        .post(format!("{}/info", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert!(post.text().await.unwrap().contains("detail"));

    // Many tiles at once: every answer equals the same tile asked alone.
    let tiles: Vec<String> = (0..48)
        .map(|i| format!("/u16_deflate_pred2/tiles/{}/{}/{}.png", z, x + i % 2, y + (i / 2) % 2))
        .collect();
    let server = &s;
    let answers = futures::future::join_all(tiles.iter().map(|t| async move {
        let r = server.get(t).await;
        (r.status().as_u16(), r.bytes().await.unwrap())
    }))
    .await;
    assert!(answers.iter().filter(|(st, _)| *st == 200).count() >= 12);
    for (t, (status, body)) in tiles.iter().zip(&answers).take(4) {
        let alone = s.get(t).await;
        assert_eq!(alone.status().as_u16(), *status, "{t}");
        assert_eq!(&alone.bytes().await.unwrap(), body, "{t}");
    }
    assert_eq!(s.get("/info").await.status(), 200);
}

/// The Chromium binary: ASYNC_COG_CHROMIUM, else `chromium` on the PATH.
fn chromium() -> Option<String> {
    let name = std::env::var("ASYNC_COG_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    found.then_some(name)
}

/// The north-west corner of web-map tile (x, y, z) in degrees.
fn tile_corner(x: u64, y: u64, z: u64) -> (f64, f64) {
    let n = (1u64 << z) as f64;
    let lon = x as f64 / n * 360.0 - 180.0;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * y as f64 / n))
        .sinh()
        .atan()
        .to_degrees();
    (lon, lat)
}

/// RGBA pixels of a PNG (gray, gray+alpha, RGB or RGBA).
fn rgba(bytes: &[u8]) -> (usize, usize, Vec<[u8; 4]>) {
    let mut r = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("png");
    let mut buf = vec![0; r.output_buffer_size().expect("size")];
    let info = r.next_frame(&mut buf).expect("frame");
    let n = info.color_type.samples();
    let px = buf[..info.buffer_size()]
        .chunks(n)
        .map(|p| match n {
            1 => [p[0], p[0], p[0], 255],
            2 => [p[0], p[0], p[0], p[1]],
            3 => [p[0], p[1], p[2], 255],
            _ => [p[0], p[1], p[2], p[3]],
        })
        .collect();
    (info.width as usize, info.height as usize, px)
}

/// The map page, opened in headless Chromium on the corner shared by four
/// tiles, shows exactly those tiles as the server sends them (pixels
/// compared away from the zoom control and the info box; transparent
/// pixels show the page's #dddddd). Skipped without Chromium unless
/// ASYNC_COG_REQUIRE_BROWSER is set (`.ci/run` sets it and installs
/// Debian's chromium).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_page_shows_the_tiles_in_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("ASYNC_COG_REQUIRE_BROWSER").is_none(),
            "Chromium is required (ASYNC_COG_REQUIRE_BROWSER) but not found"
        );
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let stem = "real/riotiler_cog_rgb_jpeg";
    let s = Serve::start(&[fixtures_dir().join(format!("{stem}.tif")).display().to_string()]);
    // Four tiles around the image's centre at its maxzoom.
    let (_, tj) = s.json("/tilejson.json").await;
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let z = tj["maxzoom"].as_u64().unwrap();
    let n = (1u64 << z) as f64;
    let (lon, lat) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let x = ((lon + 180.0) / 360.0 * n).round() as u64 - 1;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).round() as u64 - 1;
    let (clon, clat) = tile_corner(x + 1, y + 1, z);
    let mut want = vec![[0u8; 4]; 512 * 512];
    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let r = s.get(&format!("/tiles/{z}/{}/{}.png", x + dx, y + dy)).await;
        assert_eq!(r.status(), 200, "tile {z}/{}/{}", x + dx, y + dy);
        let (w, h, px) = rgba(&r.bytes().await.unwrap());
        assert_eq!((w, h), (256, 256));
        for (i, p) in px.iter().enumerate() {
            let (col, row) = (i % 256 + 256 * dx as usize, i / 256 + 256 * dy as usize);
            want[row * 512 + col] = if p[3] == 0 { [221, 221, 221, 255] } else { *p };
        }
    }
    let dir = std::env::temp_dir().join(format!("cog-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("shot.png");
    let url = format!("{}/#{z}/{clat}/{clon}", s.base);
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--force-color-profile=srgb",
        // Lay the page out at the screenshot's size from the start (without
        // these, Chromium lays out 143 px shorter, then resizes: Leaflet's
        // centring then rounds to a 1-pixel shift).
        "--kiosk",
        "--screen-info={0,0 512x512}",
        "--window-size=512,512",
        // Virtual time waits while requests are pending: the tiles load.
        "--virtual-time-budget=10000",
    ];
    let (profile, shot_arg) = (
        format!("--user-data-dir={}", dir.join("profile").display()),
        format!("--screenshot={}", shot.display()),
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .arg("90")
            .arg(&chromium)
            .args(args)
            .arg(profile)
            .arg(shot_arg)
            .arg(url)
            .output()
            .expect("run chromium")
    })
    .await
    .unwrap();
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let (w, h, got) = rgba(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (512, 512));
    let (mut compared, mut differ, mut imagery) = (0, 0, 0);
    for row in 0..512 {
        for col in 0..512 {
            // The zoom control (top left) and the info box (top right).
            if (col < 60 && row < 90) || (col > 280 && row < 50) {
                continue;
            }
            let (g, e) = (got[row * 512 + col], want[row * 512 + col]);
            compared += 1;
            imagery += usize::from(e != [221, 221, 221, 255]);
            differ += usize::from((0..3).any(|c| g[c].abs_diff(e[c]) > 2));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        imagery * 10 > compared * 4,
        "the view is mostly background: {imagery} of {compared}"
    );
    assert!(
        differ * 1000 <= compared,
        "{differ} of {compared} screenshot pixels differ from the tiles"
    );
}
