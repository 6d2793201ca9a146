//! Multi-file stacks read what rasterio reads file by file
//! (fixtures/generate_views.py → fixtures/stacks.json): the union grid of
//! files of different sizes and origins, and every window's pixels and mask
//! equal to the files' rasterio reads concatenated. Files that cannot be
//! stacked are refused with an error naming the file and what differs.
//! Opening a 12-file stack over HTTP costs 12 GETs, and a load of all
//! twelve keeps at most the shared budget's requests in flight, counted at
//! the server.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_cog::{Axis, CogStack, Error, Options, RequestBudget, StackOptions, Window};
use serde_json::Value;
use support::{RangeServer, fixtures_dir, ints, sha256_hex};

fn path(name: &str) -> String {
    fixtures_dir().join(name).to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stacks_read_what_rasterio_reads_file_by_file() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("stacks.json")).unwrap()).unwrap();
    let mut n = 0;
    for st in doc["stacks"].as_array().unwrap() {
        let files: Vec<String> = st["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| path(f.as_str().unwrap()))
            .collect();
        let opts = StackOptions::new().allow_different_shapes(st["allow_different_shapes"].as_bool().unwrap());
        let stack = CogStack::open(&files, opts).await.unwrap();
        let name = st["name"].as_str().unwrap();
        let g = &st["grid"];
        let t: Vec<f64> = g["transform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(stack.transform().to_array().to_vec(), t, "{name}: grid transform");
        let (h, w) = (
            g["height"].as_u64().unwrap() as usize,
            g["width"].as_u64().unwrap() as usize,
        );
        assert_eq!(stack.shape(), vec![files.len(), 1, h, w], "{name}: shape");
        for c in st["reads"].as_array().unwrap() {
            n += 1;
            let win = ints(&c["window"]);
            let view = stack
                .overview(c["level"].as_u64().unwrap() as usize)
                .unwrap()
                .window(Window::new(win[0], win[1], win[2] as u64, win[3] as u64))
                .unwrap();
            let got = view.load().await.unwrap();
            let label = format!("{name} level {} window {win:?}", c["level"]);
            let (b, r, cc) = got.raster.shape();
            assert_eq!(vec![b as i64, r as i64, cc as i64], ints(&c["shape"]), "{label}: shape");
            assert_eq!(got.shape(), view.shape(), "{label}: loaded shape is not the view's");
            let mask: Vec<u8> = got.raster.array.mask.iter().map(|&m| u8::from(m)).collect();
            assert_eq!(
                sha256_hex(&mask),
                c["mask"].as_str().unwrap(),
                "{label}: mask ({} invalid, rasterio {})",
                got.raster.array.invalid_count(),
                c["invalid"]
            );
            assert_eq!(
                sha256_hex(&got.raster.array.data.to_le_bytes()),
                c["data"].as_str().unwrap(),
                "{label}: data"
            );
        }
    }
    assert!(n >= 6);
}

/// (T, C, H, W) and its unstacked (T*C, H, W) form hold the same samples;
/// `isel` over time picks files; `time(t)` is file t's own read.
#[tokio::test]
async fn stacked_and_unstacked_shapes() {
    let files = [
        path("u16_deflate_pred2.tif"),
        path("u16_bigendian_pred2.tif"),
        path("u16_deflate_pred2.tif"),
    ];
    let stack = CogStack::open(&files, StackOptions::new()).await.unwrap();
    let flat = CogStack::open(&files, StackOptions::new().stack(false)).await.unwrap();
    assert_eq!(stack.shape(), vec![3, 1, 300, 260]);
    assert_eq!(flat.shape(), vec![3, 300, 260]);
    let w = Window::new(10, 10, 20, 30);
    let a = stack.window(w).unwrap().load().await.unwrap();
    let b = flat.window(w).unwrap().load().await.unwrap();
    assert_eq!(a.shape(), vec![3, 1, 30, 20]);
    assert_eq!(b.shape(), vec![3, 30, 20]);
    assert_eq!(a.raster.array, b.raster.array);
    let four = a.as_array4::<u16>().unwrap();
    let one = stack
        .readers()
        .nth(1)
        .unwrap()
        .view()
        .window(w)
        .unwrap()
        .load()
        .await
        .unwrap();
    assert_eq!(
        four.index_axis(ndarray::Axis(0), 1).to_owned(),
        *one.as_array::<u16>().unwrap()
    );
    assert_eq!(a.time(1).unwrap().data, one.array.data);
    let picked = stack.isel(Axis::Time, 1..2).unwrap();
    assert_eq!(picked.shape(), vec![1, 1, 300, 260]);
    let p = picked.window(w).unwrap().load().await.unwrap();
    assert_eq!(p.raster.array.data, one.array.data);
}

/// A file that cannot be stacked is an `Error::Mismatch` naming it and
/// what differs.
#[tokio::test]
async fn mismatches_name_the_file_and_the_difference() {
    let base = path("u16_deflate_pred2.tif");
    let cases = [
        ("u8_none_1b.tif", "data type uint8"),
        ("u16_bigtiff.tif", "2 bands"),
        ("u16_stateplane_ftus_native.tif", "CRS"),
        ("u16_lerc_zstd.tif", "200x200 pixels"),
    ];
    for (other, what) in cases {
        let files = [base.clone(), path(other)];
        match CogStack::open(&files, StackOptions::new()).await {
            Err(Error::Mismatch { url, message }) => {
                assert!(url.ends_with(other), "{other}: names {url}");
                assert!(message.contains(what), "{other}: {message}");
                assert!(message.contains("u16_deflate_pred2.tif"), "{other}: {message}");
            }
            other_result => panic!("{other}: {:?}", other_result.map(|s| s.shape())),
        }
    }
    // Off the grid: an origin a fraction of a pixel away.
    let off = path("u16_stateplane_ftus.tif");
    let r = CogStack::open(&[base.clone(), off], StackOptions::new().allow_different_shapes(true)).await;
    assert!(matches!(r, Err(Error::Mismatch { .. })), "{:?}", r.map(|s| s.shape()));
}

/// Twelve files over HTTP: opening costs one GET each; loading a window
/// of all twelve through a budget of 4 never has more than 4 requests in
/// flight at the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_files_open_with_one_request_each_and_share_one_budget() {
    let dir = std::env::temp_dir().join(format!("async-cog-stack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..12 {
        std::fs::copy(
            fixtures_dir().join("u8_mask_deflate.tif"),
            dir.join(format!("t{i:02}.tif")),
        )
        .unwrap();
    }
    let server = RangeServer::start(&dir).await;
    server.set_latency(Duration::from_millis(20));
    let urls: Vec<String> = (0..12).map(|i| server.url(&format!("t{i:02}.tif"))).collect();
    let opts = Options::new()
        .with_request_budget(Arc::new(RequestBudget::new(4)))
        .with_range_merging(async_cog::RangeMerging::Off);
    let started = Instant::now();
    let stack = CogStack::open(&urls, StackOptions::new().options(opts)).await.unwrap();
    let opened = started.elapsed();
    assert_eq!(server.count("GET"), 12, "opening 12 files");
    assert_eq!(server.count("HEAD"), 0);
    server.clear();
    let started = Instant::now();
    let got = stack.window(Window::new(0, 0, 256, 256)).unwrap().load().await.unwrap();
    let loaded = started.elapsed();
    assert_eq!(got.shape(), vec![12, 1, 256, 256]);
    let log = server.log();
    let peak = support::peak_in_flight(&log);
    assert!(log.len() >= 12, "{} requests", log.len());
    assert!(peak <= 4, "{peak} requests in flight through a budget of 4");
    assert!(peak >= 2, "requests did not overlap ({peak})");
    eprintln!(
        "12-file stack at 20 ms: open {opened:?} (12 GETs), 256x256 load {loaded:?} ({} GETs, peak {peak} in flight)",
        log.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
