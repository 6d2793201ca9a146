//! A 2048x2048 window read from a 512-tiled Deflate COG through the local
//! HTTP range server with 20 ms added per request: async-cog against GDAL
//! (python3-gdal through /vsicurl/, GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR),
//! measured in the same run. Requests and bytes are counted at the server.
//! Each run opens the file afresh (cold: no cache), then reads the window.
//! Prints a table; asserts nothing about time.
//!
//! Needs GDAL's Python bindings (Debian's python3-gdal, as
//! fixtures/generate.sh installs them). Run: `cargo bench --bench window_read`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use async_cog::{CogReader, Options, Window};
use support::RangeServer;

const RUNS: usize = 5;
const LATENCY: Duration = Duration::from_millis(20);
const PY: &str = "/usr/bin/python3";

/// Makes (once) a 4096x4096 RGB uint8 COG, Deflate, 512-pixel tiles.
fn input() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-data");
    let path = dir.join("rgb_deflate_512.tif");
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("bench data dir");
    let script = format!(
        r#"
import numpy as np
from osgeo import gdal, osr
gdal.UseExceptions()
n = 4096
y, x = np.mgrid[0:n, 0:n]
rng = np.random.default_rng(7)
ds = gdal.GetDriverByName("MEM").Create("", n, n, 3, gdal.GDT_Byte)
ds.SetGeoTransform((500000, 1, 0, 4500000, 0, -1))
s = osr.SpatialReference(); s.ImportFromEPSG(32613); ds.SetProjection(s.ExportToWkt())
for b in range(3):
    v = ((x * (b + 1) + y) / 64.0 + rng.random((n, n)) * 24).astype(np.uint8)
    ds.GetRasterBand(b + 1).WriteArray(v)
gdal.GetDriverByName("COG").CreateCopy("{}", ds, options=["COMPRESS=DEFLATE", "BLOCKSIZE=512"])
"#,
        path.display()
    );
    let ok = Command::new(PY)
        .arg("-c")
        .arg(script)
        .status()
        .expect("python3 with GDAL (apt-get install python3-gdal)");
    assert!(ok.success(), "making the bench COG failed");
    path
}

struct Run {
    wall: Duration,
    requests: usize,
    bytes: u64,
}

fn summary(name: &str, runs: &[Run]) -> (f64, f64, f64) {
    let mut walls: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64() * 1e3).collect();
    walls.sort_by(|a, b| a.total_cmp(b));
    let median = walls[walls.len() / 2];
    let req = runs.iter().map(|r| r.requests).sum::<usize>() as f64 / runs.len() as f64;
    let bytes = runs.iter().map(|r| r.bytes).sum::<u64>() as f64 / runs.len() as f64;
    println!(
        "{name:<34} median {median:>7.1} ms  (min {:>7.1}, max {:>7.1})  requests {req:>5.1}  bytes {:>10.0}",
        walls[0],
        walls[walls.len() - 1],
        bytes
    );
    (median, req, bytes)
}

fn gdal_run(url: &str, threads: Option<&str>) -> Duration {
    let script = format!(
        r#"
import time
from osgeo import gdal
gdal.UseExceptions()
t = time.perf_counter()
ds = gdal.Open("/vsicurl/{url}")
a = ds.ReadRaster(1024, 1024, 2048, 2048)
print(time.perf_counter() - t)
"#
    );
    let mut cmd = Command::new(PY);
    cmd.arg("-c")
        .arg(script)
        .env("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
        .env("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".tif")
        .env("VSI_CACHE", "FALSE");
    if let Some(t) = threads {
        cmd.env("GDAL_NUM_THREADS", t);
    }
    let out = cmd.output().expect("python3 with GDAL");
    assert!(
        out.status.success(),
        "GDAL read failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("seconds");
    Duration::from_secs_f64(secs)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let path = input();
    let server = RangeServer::start(path.parent().expect("dir")).await;
    server.set_latency(LATENCY);
    let url = server.url(path.file_name().and_then(|n| n.to_str()).expect("name"));
    let window = Window::new(1024, 1024, 2048, 2048);
    println!(
        "window read 2048x2048 of a 4096x4096 RGB uint8 COG (Deflate, 512 tiles), {} ms per request, {RUNS} cold runs each",
        LATENCY.as_millis()
    );
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        server.clear();
        let t = Instant::now();
        let cog = CogReader::open_with(&url, Options::default()).await.expect("open");
        let a = cog.read_window(window, 0).await.expect("read");
        let wall = t.elapsed();
        assert_eq!(a.array.shape(), (3, 2048, 2048));
        let log = server.log();
        let s = cog.stats();
        if std::env::var("BENCH_VERBOSE").is_ok() {
            println!(
                "  async-cog run: {wall:?} waiting {:?} decoding(cpu) {:?}",
                s.waiting, s.decoding
            );
        }
        ours.push(Run {
            wall,
            requests: log.len(),
            bytes: log.iter().map(|l| l.bytes).sum(),
        });
    }
    let mut gdal = Vec::new();
    let mut gdal_mt = Vec::new();
    for (runs, threads) in [(&mut gdal, None), (&mut gdal_mt, Some("ALL_CPUS"))] {
        for _ in 0..RUNS {
            server.clear();
            let u = url.clone();
            let wall = tokio::task::spawn_blocking(move || gdal_run(&u, threads))
                .await
                .expect("GDAL task");
            let log = server.log();
            runs.push(Run {
                wall,
                requests: log.len(),
                bytes: log.iter().map(|l| l.bytes).sum(),
            });
        }
    }
    let version = Command::new(PY)
        .args(["-c", "from osgeo import gdal; print(gdal.__version__)"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let (o, oreq, obytes) = summary("async-cog", &ours);
    let (g, greq, gbytes) = summary(&format!("GDAL {version}"), &gdal);
    let (gm, gmreq, _) = summary(&format!("GDAL {version}, GDAL_NUM_THREADS=ALL_CPUS"), &gdal_mt);
    println!(
        "ratio async-cog / GDAL: wall {:.2}x (vs multi-threaded GDAL {:.2}x), requests {:.2}x ({oreq} vs {greq}, {gmreq}), bytes {:.3}x",
        o / g,
        o / gm,
        oreq / greq,
        obytes / gbytes
    );
}
