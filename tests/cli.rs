//! The `cog` binary: `cog info --json` agrees with GDAL on every fixture and
//! has the documented keys; `cog info` over HTTP costs one GET; failures exit
//! non-zero with a message that names the problem.

mod support;

use assert_cmd::Command;
use serde_json::Value;
use support::{RangeServer, fixtures, fixtures_dir, sha256_hex};

fn cog() -> Command {
    let mut c = Command::cargo_bin("cog").unwrap();
    c.env_remove("INGESTED_BYTES_AT_OPEN")
        .env_remove("RUST_LOG")
        .env_remove("LOG_LEVEL");
    c
}

fn info_json(src: &str) -> Value {
    let out = cog().args(["info", "--json", src]).output().unwrap();
    assert!(out.status.success(), "{src}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

const KEYS: &[&str] = &[
    "width",
    "height",
    "count",
    "dtype",
    "transform",
    "crs",
    "epsg",
    "nodata",
    "blockxsize",
    "blockysize",
    "compress",
    "interleave",
    "photometric",
    "bounds",
    "overviews",
    "levels",
    "mask",
    "ifds",
    "requests",
];

#[test]
fn info_json_agrees_with_gdal_on_every_fixture() {
    let mut failures = Vec::new();
    for (rel, exp) in fixtures() {
        let j = info_json(fixtures_dir().join(&rel).to_str().unwrap());
        for k in KEYS {
            if j.get(k).is_none() {
                failures.push(format!("{rel}: key {k} missing"));
            }
        }
        for k in [
            "width",
            "height",
            "count",
            "dtype",
            "epsg",
            "nodata",
            "blockxsize",
            "blockysize",
            "compress",
            "interleave",
            "overviews",
            "mask",
        ] {
            let same = match (&j[k], &exp[k]) {
                (Value::Number(a), Value::Number(b)) => close(a.as_f64().unwrap(), b.as_f64().unwrap()),
                (a, b) => a == b,
            };
            if !same {
                failures.push(format!("{rel}: {k}: cog {} GDAL {}", j[k], exp[k]));
            }
        }
        let t: Vec<f64> = j["transform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let g: Vec<f64> = exp["transform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        if t.len() != 6 || t.iter().zip(&g).any(|(a, b)| (a - b).abs() > 1e-9 * a.abs().max(1.0)) {
            failures.push(format!("{rel}: transform: cog {t:?} GDAL {g:?}"));
        }
        let levels: Vec<Value> = j["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::json!({"width": l["width"], "height": l["height"],
                    "blockxsize": l["blockxsize"], "blockysize": l["blockysize"]})
            })
            .collect();
        if Value::from(levels.clone()) != exp["levels"] {
            failures.push(format!("{rel}: levels: cog {levels:?} GDAL {}", exp["levels"]));
        }
        if j["ifds"].as_array().is_none_or(|a| a.is_empty()) {
            failures.push(format!("{rel}: no IFDs listed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_over_http_costs_one_get_for_a_normal_cog() {
    let server = RangeServer::start(fixtures_dir()).await;
    for rel in [
        "real/hot-oam_drone_jpeg_mask.tif",
        "u8_jpeg_mask.tif",
        "u16_bigtiff.tif",
    ] {
        server.clear();
        let url = server.url(rel);
        let j = tokio::task::spawn_blocking(move || info_json(&url)).await.unwrap();
        assert_eq!(server.count("GET"), 1, "{rel}: {:?}", server.log());
        assert_eq!(server.count("HEAD"), 0, "{rel}");
        assert_eq!(j["requests"]["count"], 1, "{rel}: the JSON reports what the server saw");
    }
    // The big-header COG: opening is one GET; info's tile statistics need the
    // byte-count arrays that lie past the first 16 KiB: one more GET.
    server.clear();
    let url = server.url("u8_big_header.tif");
    let j = tokio::task::spawn_blocking(move || info_json(&url)).await.unwrap();
    assert_eq!(j["requests"]["open_count"], 1);
    assert_eq!(server.count("GET"), 2, "{:?}", server.log());
}

#[test]
fn info_text_for_the_bundled_fixture() {
    let out = cog()
        .args(["info", "fixtures/real/hot-oam_drone_jpeg_mask.tif"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "999",
        "1000",
        "EPSG:32613",
        "jpeg",
        "Mask:          internal",
        "MASK_INTERLEAVED_WITH_IMAGERY=YES",
        "1 GET, 16384 bytes to open",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn failures_exit_non_zero_and_say_why() {
    let out = cog().args(["info", "no/such/file.tif"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found: no/such/file.tif"));
    let out = cog()
        .args(["info", "fixtures/u8_none_1b.tif"])
        .env("INGESTED_BYTES_AT_OPEN", "lots")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("INGESTED_BYTES_AT_OPEN"));
    let out = cog()
        .args(["info", "fixtures/generate.py"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a TIFF"));
}

#[test]
fn tile_writes_gdal_equal_npy_mask_and_a_png() {
    let dir = std::env::temp_dir().join(format!("async-cog-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // u8_sparse_nodata.tif tile (0, 0) is sparse (all nodata): every sample masked.
    for (rel, x, y) in [
        ("u16_deflate_pred2.tif", 1u64, 1u64),
        ("u8_sparse_nodata.tif", 0, 0),
        ("u8_mask_deflate.tif", 2, 3),
    ] {
        let tiles: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures_dir().join(rel.replace(".tif", ".tiles.json"))).unwrap(),
        )
        .unwrap();
        let gdal = tiles["levels"][0]["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["x"] == x && t["y"] == y)
            .unwrap()
            .clone();
        let (npy, mask, png) = (dir.join("t.npy"), dir.join("m.npy"), dir.join("t.png"));
        let src = fixtures_dir().join(rel);
        let out = cog()
            .args(["tile", src.to_str().unwrap(), &x.to_string(), &y.to_string(), "0", "-o"])
            .arg(&npy)
            .arg("--mask")
            .arg(&mask)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let data = support::npy::from_npy(&std::fs::read(&npy).unwrap()).unwrap();
        assert_eq!(
            sha256_hex(&data.to_le_bytes()),
            gdal["data"].as_str().unwrap(),
            "{rel}: data equals GDAL's"
        );
        let m = std::fs::read(&mask).unwrap();
        assert!(String::from_utf8_lossy(&m[..64]).contains("'|b1'"));
        let header_len = m.len() - data.to_le_bytes().len() / data.dtype().size();
        assert_eq!(
            sha256_hex(&m[header_len..]),
            gdal["mask"].as_str().unwrap(),
            "{rel}: mask equals GDAL's"
        );
        let out = cog()
            .args(["tile", src.to_str().unwrap(), &x.to_string(), &y.to_string(), "0", "-o"])
            .arg(&png)
            .output()
            .unwrap();
        assert!(out.status.success());
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let info = decoder.read_info().unwrap().info().clone();
        let (_, rows, cols) = data.shape();
        assert_eq!((info.width as usize, info.height as usize), (cols, rows));
    }
    let out = cog()
        .args([
            "tile",
            "fixtures/u8_mask_deflate.tif",
            "9",
            "9",
            "0",
            "-o",
            "/tmp/x.npy",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn read_writes_what_gdal_reads() {
    let dir = std::env::temp_dir().join(format!("async-cog-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("u8_lzw_pred2_rgb.reads.json")).unwrap())
            .unwrap();
    let src = fixtures_dir().join("u8_lzw_pred2_rgb.tif");
    let mut checked = 0;
    for c in doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["resampling"] == "nearest")
    {
        let join = |v: &Value| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let npy = dir.join("r.npy");
        let mut cmd = cog();
        cmd.args(["read", src.to_str().unwrap(), "-o"]).arg(&npy);
        if c["kind"] == "window" {
            cmd.args(["--window", &join(&c["window"]), "--level", &c["level"].to_string()]);
        } else {
            cmd.args(["--bounds", &join(&c["bounds"]), "--shape", &join(&c["shape"])]);
        }
        if c["boundless"] == true {
            cmd.arg("--boundless");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{c}: {}", String::from_utf8_lossy(&out.stderr));
        let data = support::npy::from_npy(&std::fs::read(&npy).unwrap()).unwrap();
        assert_eq!(sha256_hex(&data.to_le_bytes()), c["data"].as_str().unwrap(), "{c}");
        checked += 1;
    }
    assert!(checked >= 10);
    let out = cog()
        .args([
            "read",
            src.to_str().unwrap(),
            "--window",
            "5000,5000,10,10",
            "-o",
            "/tmp/x.npy",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Empty, scheme-less and host-less endpoint variables (which made
/// object_store panic, exit 101) are a configuration error naming the
/// variable, exit 1, before any request.
#[test]
fn bad_endpoint_variables_are_errors_that_name_them() {
    for (var, src) in [
        ("AWS_ENDPOINT_URL", "s3://bucket/key.tif"),
        ("AWS_ENDPOINT_URL_S3", "s3://bucket/key.tif"),
        ("GOOGLE_BASE_URL", "gs://bucket/key.tif"),
        ("AZURE_STORAGE_ENDPOINT", "az://container/key.tif"),
    ] {
        for value in ["", "localhost:9000", "http://"] {
            let out = cog().env(var, value).args(["info", src]).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{var}={value:?}: {err}");
            assert!(err.contains(var) && !err.contains("panicked"), "{var}={value:?}: {err}");
        }
    }
}

/// `cog info … | head`: a reader that closes the pipe early ends the
/// command quietly (exit 0, no panic message), as with `cat`.
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [&["info", "--json"][..], &["info"][..]] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cog"))
            .args(args)
            .arg(fixtures_dir().join("u8_big_header.tif"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// With no credentials at all, cloud URLs fail at once with a message that
/// says what was looked for (object_store would wait up to 120 s for a
/// metadata service); a bad boolean is an error naming its variable.
#[test]
fn missing_credentials_fail_fast_and_say_what_was_looked_for() {
    let clean = |c: &mut Command| {
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("GOOGLE_") || k.starts_with("AZURE_") || k == "SERVICE_ACCOUNT" {
                c.env_remove(k);
            }
        }
        c.env("HOME", std::env::temp_dir());
    };
    for (src, var) in [
        ("s3://bucket/key.tif", "AWS_ACCESS_KEY_ID"),
        ("gs://bucket/key.tif", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("az://container/key.tif", "AZURE_STORAGE_ACCOUNT_KEY"),
    ] {
        let t = std::time::Instant::now();
        let mut c = cog();
        clean(&mut c);
        if src.starts_with("az") {
            c.env("AZURE_STORAGE_ACCOUNT_NAME", "account");
        }
        let out = c.args(["info", src]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{src}: {err}");
        assert!(err.contains("no credentials") && err.contains(var), "{src}: {err}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{src} took {:?}",
            t.elapsed()
        );
    }
    let mut c = cog();
    clean(&mut c);
    let out = c
        .env("AWS_NO_SIGN_REQUEST", "maybe")
        .args(["info", "s3://b/k.tif"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AWS_NO_SIGN_REQUEST") && err.contains("maybe"), "{err}");
}

/// LOG_LEVEL takes the names logging users write (NOTICE, CRITICAL, any
/// case); an unknown one is a warning naming the allowed names, not a
/// failure; VERBOSE_LOGS=TRUE logs debug; no colour codes go to a pipe.
#[test]
fn log_settings_are_forgiving_and_plain() {
    let fixture = fixtures_dir().join("u8_packbits.tif");
    let run = |vars: &[(&str, &str)]| {
        let mut c = cog();
        c.env_remove("VERBOSE_LOGS");
        c.envs(vars.iter().copied()).arg("info").arg(&fixture);
        c.output().unwrap()
    };
    let out = run(&[("LOG_LEVEL", "loud")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("LOG_LEVEL") && err.contains("NOTICE"), "{err}");
    for ok in ["Notice", "critical", "WARNING", "debug"] {
        let out = run(&[("LOG_LEVEL", ok)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !err.contains("not a level"), "{ok}: {err}");
        assert!(!err.contains('\x1b'), "{ok}: colour codes in a pipe: {err:?}");
    }
    let out = run(&[("VERBOSE_LOGS", "TRUE")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "VERBOSE_LOGS=TRUE logs debug: {err}");
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// `cog point --crs EPSG:4326 --json` prints rio-tiler's `Reader.point`
/// values (fixtures/webmap.json; null where masked) and fails, naming the
/// problem, for a point outside the image.
#[test]
fn point_prints_rio_tiler_s_values() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("webmap.json")).unwrap()).unwrap();
    let mut checked = 0;
    for name in [
        "u8_mask_deflate.tif",
        "u16_deflate_pred2.tif",
        "f32_deflate_pred3_nan.tif",
    ] {
        let src = fixtures_dir().join(name);
        for p in doc["files"][name]["points"].as_array().unwrap() {
            let (lon, lat) = (p["lon"].to_string(), p["lat"].to_string());
            let out = cog()
                .args([
                    "point",
                    "--json",
                    "--crs",
                    "EPSG:4326",
                    src.to_str().unwrap(),
                    &lon,
                    &lat,
                ])
                .output()
                .unwrap();
            if p["outside"].as_bool() == Some(true) {
                assert!(!out.status.success());
                assert!(String::from_utf8_lossy(&out.stderr).contains("outside the bounds"));
                continue;
            }
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let got: Value = serde_json::from_slice(&out.stdout).unwrap();
            let want: Vec<Value> = p["values"]
                .as_array()
                .unwrap()
                .iter()
                .zip(p["mask"].as_array().unwrap())
                .map(|(v, m)| if m.as_bool().unwrap() { Value::Null } else { v.clone() })
                .collect();
            assert_eq!(got["values"], Value::Array(want), "{name} ({lon}, {lat})");
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}

/// `cog preview --max-size N -o OUT.npy` writes rio-tiler's preview
/// (shape and data hash from fixtures/*.reads.json).
#[test]
fn preview_writes_rio_tiler_s_preview() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("u8_mask_deflate.reads.json")).unwrap())
            .unwrap();
    let dir = std::env::temp_dir().join(format!("cog-preview-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let previews = doc["previews"].as_array().unwrap();
    assert!(!previews.is_empty());
    for pv in previews {
        let n = pv["max_size"].to_string();
        let out = dir.join(format!("p{n}.npy"));
        let src = fixtures_dir().join("u8_mask_deflate.tif");
        let run = cog()
            .args([
                "preview",
                src.to_str().unwrap(),
                "--max-size",
                &n,
                "-o",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let a = support::npy::from_npy(&std::fs::read(&out).unwrap()).unwrap();
        let (b, h, w) = a.shape();
        assert_eq!(serde_json::json!([b, h, w]), pv["out_shape"], "max_size {n}");
        assert_eq!(
            sha256_hex(&a.to_le_bytes()),
            pv["data"].as_str().unwrap(),
            "max_size {n}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// `cog validate --json` against fixtures/validate.json (made by
/// fixtures/generate_validate.py): on every fixture and every deliberately
/// broken file in fixtures/layout, the verdict, errors and warnings are
/// rio-cogeo 7.0.4's, strict too, and the exit code says the verdict; the
/// notes are what GDAL 3.6's validate_cloud_optimized_geotiff.py
/// (full check) reports beyond rio-cogeo, less the leader and trailer
/// bytes we do not read. Two known differences: rio-cogeo divides by zero
/// on an overview wider than twice the image (we say "Invalid Decimation
/// 0"), and it reads a side-car .ovr's offsets (we only say it is there).
#[test]
fn validate_agrees_with_rio_cogeo_and_gdal() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("validate.json")).unwrap()).unwrap();
    let files = doc["files"].as_object().unwrap();
    assert!(files.len() >= 90, "{}", files.len());
    let mut failures = Vec::new();
    let mut invalid = 0;
    for (rel, want) in files {
        let src = fixtures_dir().join(rel);
        let run = |strict: bool| {
            let mut c = cog();
            c.args(["validate", "--json", src.to_str().unwrap()]);
            if strict {
                c.arg("--strict");
            }
            let out = c.output().unwrap();
            let j: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            (out.status.code(), j)
        };
        let (code, got) = run(false);
        let valid = got["COG"].as_bool();
        if code != Some(if valid == Some(true) { 0 } else { 1 }) {
            failures.push(format!("{rel}: exit {code:?} for COG {valid:?}"));
        }
        if want["raises"].is_string() {
            // rio-cogeo's ZeroDivisionError: ours is a verdict.
            if valid != Some(false)
                || !strings(&got["Errors"])
                    .iter()
                    .any(|e| e.contains("Invalid Decimation 0"))
            {
                failures.push(format!("{rel}: {got}"));
            }
            continue;
        }
        let (errors, rio_errors) = (strings(&got["Errors"]), strings(&want["errors"]));
        let sidecar = rel.contains("external_overviews");
        if valid != want["valid"].as_bool()
            || (!sidecar && (errors != rio_errors || got["Warnings"] != want["warnings"]))
            || (sidecar && !errors.iter().all(|e| rio_errors.contains(e)))
        {
            failures.push(format!("{rel}: ours {got}\n  rio-cogeo {want}"));
        }
        if !want["warnings"].as_array().unwrap().is_empty() && run(true).1["COG"] != want["strict_valid"] {
            failures.push(format!("{rel}: --strict verdict differs"));
        }
        let mut notes = strings(&got["GDAL_Notes"]);
        let mut gdal_only: Vec<String> = strings(&want["gdal"]["errors"])
            .into_iter()
            .filter(|e| !rio_errors.contains(e) && !e.contains("leader bytes") && !e.contains("trailer bytes"))
            .collect();
        notes.sort();
        gdal_only.sort();
        if notes != gdal_only {
            failures.push(format!("{rel}: notes {notes:?}, GDAL beyond rio-cogeo {gdal_only:?}"));
        }
        invalid += usize::from(valid == Some(false));
    }
    assert!(invalid >= 14, "{invalid}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Validating a normal COG over HTTP costs the opening GET alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_over_http_costs_one_get() {
    let server = RangeServer::start(fixtures_dir()).await;
    for rel in [
        "u8_mask_deflate.tif",
        "layout/cog_mask.tif",
        "real/hot-oam_drone_jpeg_mask.tif",
    ] {
        server.clear();
        let url = server.url(rel);
        let out = tokio::task::spawn_blocking(move || cog().args(["validate", &url]).output().unwrap())
            .await
            .unwrap();
        assert!(out.status.success(), "{rel}: {}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(
            (server.count("GET"), server.count("HEAD")),
            (1, 0),
            "{rel}: {:?}",
            server.log()
        );
    }
}

/// What `cog info --json` adds for gdalinfo users, against each fixture's
/// `gdalinfo -json` (GDAL 3.6): every band's colour interpretation, the
/// corner coordinates (gdalinfo rounds them to 3 decimals), their longitudes and latitudes (gdalinfo's
/// wgs84Extent, rounded to 7 decimals), the file size, and the COG
/// verdict of fixtures/validate.json (rio-cogeo).
#[test]
fn info_shows_what_gdalinfo_users_miss() {
    let verdicts: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("validate.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut lonlat_checked = 0;
    for (rel, _) in fixtures() {
        let path = fixtures_dir().join(&rel);
        let j = info_json(path.to_str().unwrap());
        let g: Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("gdalinfo.json")).unwrap()).unwrap();
        let ours: Vec<&Value> = j["bands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["colorinterp"])
            .collect();
        let gdal: Vec<&Value> = g["bands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["colorInterpretation"])
            .collect();
        if ours != gdal {
            failures.push(format!("{rel}: colour interpretation {ours:?}, GDAL {gdal:?}"));
        }
        for (k, want) in g["cornerCoordinates"].as_object().unwrap() {
            let got = &j["corners"][k];
            let near = got.as_array().zip(want.as_array()).is_some_and(|(a, b)| {
                a.iter()
                    .zip(b)
                    .all(|(a, b)| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= 5e-4)
            });
            if !near {
                failures.push(format!("{rel}: corner {k}: {got}, GDAL {want}"));
            }
        }
        // Longitudes and latitudes need an EPSG code (user-defined CRSs are
        // not reprojected yet).
        let ring = g["wgs84Extent"]["coordinates"][0]
            .as_array()
            .filter(|_| j["epsg"].is_u64());
        if let Some(ring) = ring {
            // gdalinfo's ring: upper left, lower left, lower right, upper right.
            for (k, want) in ["upperLeft", "lowerLeft", "lowerRight", "upperRight"].iter().zip(ring) {
                let got = &j["lonlat_corners"][k];
                let near = got.as_array().is_some_and(|a| {
                    a.iter()
                        .zip(want.as_array().unwrap())
                        .all(|(a, b)| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-7)
                });
                if !near {
                    failures.push(format!("{rel}: lon/lat {k}: {got}, GDAL {want}"));
                }
            }
            lonlat_checked += 1;
        }
        if j["file_size"].as_u64() != Some(std::fs::metadata(&path).unwrap().len()) {
            failures.push(format!("{rel}: file_size {}", j["file_size"]));
        }
        let want_valid = &verdicts["files"][&rel]["valid"];
        if want_valid.is_boolean() && &j["cog"]["valid"] != want_valid {
            failures.push(format!(
                "{rel}: COG verdict {}, rio-cogeo {want_valid}",
                j["cog"]["valid"]
            ));
        }
    }
    assert!(lonlat_checked >= 40, "{lonlat_checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
