//! Every tile at every level of every fixture equals what GDAL decodes
//! (fixtures/NAME.tiles.json, written by fixtures/generate.py from GDAL's
//! ReadBlock): bit for bit for lossless codecs, masks always exactly, and
//! within max |diff| <= 8, mean |diff| <= 1.0 for JPEG and lossy WebP.

mod support;

use async_cog::{CogReader, MaskedArray, Options};
use bytes::Bytes;
use serde_json::Value;
use support::{fixtures, fixtures_dir, read_npy_gz, sha256_hex};

fn mask_bytes(t: &MaskedArray) -> Vec<u8> {
    t.mask.iter().map(|&m| u8::from(m)).collect()
}

/// GDAL's decoded tile for a lossy fixture.
fn gdal_array(rel: &str, z: u64, x: u64, y: u64) -> Vec<f64> {
    let dir = fixtures_dir().join(rel.trim_end_matches(".tif").to_string() + ".tiles");
    read_npy_gz(dir.join(format!("z{z}_x{x}_y{y}.npy.gz")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tile_matches_gdal() {
    let mut failures = Vec::new();
    let mut lossy_report = Vec::new();
    let mut checked = 0;
    for (rel, _) in fixtures() {
        let tiles: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures_dir().join(rel.replace(".tif", ".tiles.json"))).unwrap(),
        )
        .unwrap();
        let lossy = tiles["lossy"].as_bool().unwrap();
        let bytes = Bytes::from(std::fs::read(fixtures_dir().join(&rel)).unwrap());
        let cog = CogReader::from_bytes(bytes, Options::default()).await.unwrap();
        let (mut max_diff, mut sum_diff, mut n) = (0f64, 0f64, 0usize);
        let mut bad = 0;
        for level in tiles["levels"].as_array().unwrap() {
            let z = level["z"].as_u64().unwrap();
            for t in level["tiles"].as_array().unwrap() {
                let (x, y) = (t["x"].as_u64().unwrap(), t["y"].as_u64().unwrap());
                checked += 1;
                let tile = match cog.get_tile(x, y, z as usize).await.map(|r| r.array) {
                    Ok(t) => t,
                    Err(e) => {
                        bad += 1;
                        if bad <= 2 {
                            failures.push(format!("{rel} z{z} ({x},{y}): {e}"));
                        }
                        continue;
                    }
                };
                if sha256_hex(&mask_bytes(&tile)) != t["mask"].as_str().unwrap() {
                    bad += 1;
                    if bad <= 2 {
                        failures.push(format!(
                            "{rel} z{z} ({x},{y}): mask differs: {} invalid, GDAL {}",
                            tile.invalid_count(),
                            t["invalid"]
                        ));
                    }
                }
                if lossy {
                    let ours = tile.data.to_f64_vec();
                    let gdal = gdal_array(&rel, z, x, y);
                    assert_eq!(ours.len(), gdal.len(), "{rel} z{z} ({x},{y}) shape");
                    for (a, b) in ours.iter().zip(&gdal) {
                        let d = (a - b).abs();
                        max_diff = max_diff.max(d);
                        sum_diff += d;
                    }
                    n += ours.len();
                } else if sha256_hex(&tile.data.to_le_bytes()) != t["data"].as_str().unwrap() {
                    bad += 1;
                    if bad <= 2 {
                        failures.push(format!("{rel} z{z} ({x},{y}): data differs from GDAL's"));
                    }
                }
            }
        }
        if bad > 2 {
            failures.push(format!("{rel}: {bad} tiles differ in all"));
        }
        if lossy {
            let mean = sum_diff / n.max(1) as f64;
            lossy_report.push(format!(
                "{rel}: max |diff| {max_diff}, mean |diff| {mean:.4} over {n} samples"
            ));
            if max_diff > 8.0 || mean > 1.0 {
                failures.push(format!(
                    "{rel}: lossy difference too large: max {max_diff}, mean {mean:.4}"
                ));
            }
        }
    }
    println!("{checked} tiles checked\n{}", lossy_report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
