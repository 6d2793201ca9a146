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

/// RGBA (or gray+alpha) PNG → (channels, pixels).
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut r = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("png");
    let mut buf = vec![0; r.output_buffer_size().expect("size")];
    let info = r.next_frame(&mut buf).expect("frame");
    buf.truncate(info.buffer_size());
    (info.width as usize, info.color_type.samples(), buf)
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

/// Checks a decoded gray+alpha picture against rio-tiler's tile.
fn assert_same_as_rio_tiler(
    what: &str,
    channels: usize,
    pixels: &[u8],
    want: &(Vec<f64>, Vec<bool>),
    map: impl Fn(f64) -> u8,
) {
    assert_eq!(channels, 2, "{what}: gray + alpha");
    let mut wrong = 0;
    for (i, (v, m)) in want.0.iter().zip(&want.1).enumerate() {
        let (g, a) = (pixels[2 * i], pixels[2 * i + 1]);
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
    let js = s.get("/assets/leaflet.js").await;
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.text().await.unwrap().contains("Leaflet"));
    assert_eq!(s.get("/u16_deflate_pred2/").await.status(), 200);

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
    let (w, ch, px) = decode_png(&png.bytes().await.unwrap());
    assert_eq!(w, 256);
    assert_same_as_rio_tiler("u8 PNG", ch, &px, &want, |v| v as u8);
    let webp = s.get(&format!("/tiles/{z}/{x}/{y}.webp")).await;
    assert_eq!(webp.headers()["content-type"], "image/webp");
    let bytes = webp.bytes().await.unwrap();
    let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(&bytes[..])).expect("webp");
    let mut rgba = vec![0; d.output_buffer_size().expect("size")];
    d.read_image(&mut rgba).expect("decode webp");
    let ga: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[3]]).collect();
    assert_same_as_rio_tiler("u8 WebP", 2, &ga, &want, |v| v as u8);

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
    let (_, ch, px) = decode_png(&r.bytes().await.unwrap());
    let rescale = |v: f64| ((v.clamp(lo, hi) - lo) / (hi - lo) * 255.0) as u8;
    assert_same_as_rio_tiler("u16 rescaled", ch, &px, &want, rescale);

    // Failures: 4xx with a JSON detail, and the server lives on.
    for (path, status) in [
        ("/tiles/1/1/1.png", 404),                        // outside the image
        ("/tiles/x/1/1.png", 400),                        // not a number
        ("/tiles/14/3429/6180.gif", 400),                 // no such format
        (&format!("/tiles/{z}/{x}/{y}.png?bidx=2"), 400), // no such band
        (&format!("/tiles/{z}/{x}/{y}.png?rescale=5"), 400),
        ("/nope/info", 404),
        ("/nope/a/b", 404),
        ("/assets/nope.js", 404),
    ] {
        let (got, body) = s.json(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{path}: {body}");
    }

    // Many tiles at once: all served.
    let tiles: Vec<String> = (0..48)
        .map(|i| format!("/u16_deflate_pred2/tiles/{}/{}/{}.png", z, x + i % 2, y + (i / 2) % 2))
        .collect();
    let answers = futures::future::join_all(tiles.iter().map(|t| s.get(t))).await;
    assert!(answers.iter().all(|r| r.status() == 200 || r.status() == 404));
    assert_eq!(s.get("/info").await.status(), 200);
}
