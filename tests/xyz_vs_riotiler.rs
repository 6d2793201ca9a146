//! Web-map tiles against rio-tiler 9.4 (GDAL 3.10 warping,
//! fixtures/generate_xyz.py): for each fixture a handful of tiles, nearest
//! and bilinear. rio-tiler sets up a warped grid at the file's native
//! resolution and reads
//! that at the tile's size, which GDAL does by warping straight onto the
//! tile from the overview its RasterIO picks; we do the same. Checked:
//! nearest equals rio-tiler pixel for pixel, data and mask, on every
//! lossless fixture, overview zooms included (JPEG: a value rio-tiler has
//! within one pixel, within 8 levels, but for at most 2%, as our JPEG
//! decoding differs from the libjpeg of rasterio's wheel); masks are equal for bilinear too; bilinear values lie within
//! the range of rio-tiler's two pixels around, but for at most 0.5% where
//! GDAL downsamples with a widened kernel (ours stays 2x2); tiles outside
//! the image are `TileOutsideBounds`.

mod support;

use async_cog::{CogReader, Error, Resampling, XyzRequest};
use serde_json::Value;
use support::{fixtures_dir, read_gz};

fn npy_f64(bytes: &[u8]) -> (Vec<usize>, Vec<f64>) {
    let a = support::npy::from_npy(bytes).expect("npy");
    let (b, r, c) = a.shape();
    (vec![b, r, c], a.to_f64_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_agree_with_rio_tiler() {
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for name in [
        "u8_big_header",
        "u8_mask_deflate",
        "f32_deflate_pred3_nan",
        "i8_deflate",
        "u16_deflate_pred2",
        "real/riotiler_cog_rgb_jpeg",
    ] {
        let stem = fixtures_dir().join(name);
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(stem.with_extension("xyz.json")).unwrap()).unwrap();
        let cog = CogReader::open(&stem.with_extension("tif").to_string_lossy())
            .await
            .unwrap();
        // Our JPEG decoding differs from libjpeg's by up to 8 levels
        // (tests/tiles_vs_gdal.rs).
        let slack = if cog.profile().compress_name().contains("jpeg") {
            8.0
        } else {
            0.0
        };
        for c in doc["cases"].as_array().unwrap() {
            let (x, y, z) = (
                c["x"].as_u64().unwrap(),
                c["y"].as_u64().unwrap(),
                c["z"].as_u64().unwrap() as u8,
            );
            let r = if c["resampling"] == "nearest" {
                Resampling::Nearest
            } else {
                Resampling::Bilinear
            };
            let label = format!("{name} {z}/{x}/{y} {}", c["resampling"]);
            n += 1;
            let got = cog.read_xyz_with(x, y, z, &XyzRequest::new().resampling(r)).await;
            if c["outside"].as_bool().unwrap() {
                if !matches!(got, Err(Error::TileOutsideBounds { .. })) {
                    failures.push(format!(
                        "{label}: {:?}, rio-tiler TileOutsideBounds",
                        got.map(|t| t.shape())
                    ));
                }
                continue;
            }
            let got = match got {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let stem_arrays = stem
                .parent()
                .unwrap()
                .join(format!("{}.xyz", stem.file_name().unwrap().to_string_lossy()));
            let arrays = c["arrays"].as_str().unwrap();
            let (shape, want) = npy_f64(&read_gz(stem_arrays.join(format!("{arrays}.npy.gz"))));
            let (_, wmask) = npy_f64(&read_gz(stem_arrays.join(format!("{arrays}.mask.npy.gz"))));
            let (b, h, w) = (shape[0], shape[1], shape[2]);
            if got.shape() != (b, h, w) {
                failures.push(format!("{label}: shape {:?}, rio-tiler {shape:?}", got.shape()));
                continue;
            }
            let data = got.array.data.to_f64_vec();
            let mask: Vec<bool> = got.array.mask.iter().copied().collect();
            let idx = |b: usize, r: usize, c: usize| (b * h + r) * w + c;
            let (mut mask_diff, mut mask_far, mut equal, mut near, mut far, mut valid) = (0, 0, 0, 0, 0, 0);
            for bb in 0..b {
                for rr in 0..h {
                    for cc in 0..w {
                        let k = idx(bb, rr, cc);
                        let around = |d: usize| -> Vec<usize> {
                            (rr.saturating_sub(d)..(rr + d + 1).min(h))
                                .flat_map(|r2| (cc.saturating_sub(d)..(cc + d + 1).min(w)).map(move |c2| (r2, c2)))
                                .map(|(r2, c2)| idx(bb, r2, c2))
                                .collect()
                        };
                        let neigh = around(1);
                        let theirs_invalid = wmask[k] != 0.0;
                        if mask[k] != theirs_invalid {
                            mask_diff += 1;
                            if neigh.iter().all(|&q| (wmask[q] != 0.0) == theirs_invalid) {
                                mask_far += 1;
                            }
                        }
                        if mask[k] || theirs_invalid {
                            continue;
                        }
                        valid += 1;
                        let v = data[k];
                        let same = |a: f64, b: f64| (a - b).abs() <= slack || (a.is_nan() && b.is_nan());
                        if same(v, want[k]) {
                            equal += 1;
                            continue;
                        }
                        let ok = if r == Resampling::Nearest {
                            neigh.iter().filter(|&&q| wmask[q] == 0.0).any(|&q| same(want[q], v))
                        } else {
                            // GDAL widens the bilinear kernel when it
                            // downsamples; ours stays 2x2: values within
                            // the range rio-tiler has two pixels around.
                            let vals: Vec<f64> = around(2)
                                .iter()
                                .filter(|&&q| wmask[q] == 0.0)
                                .map(|&q| want[q])
                                .collect();
                            let lo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
                            let hi = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                            v >= lo - 1.0 - slack && v <= hi + 1.0 + slack
                        };
                        if ok { near += 1 } else { far += 1 }
                    }
                }
            }
            report.push(format!(
                "{label}: level {}, {valid} valid, {equal} equal, {near} within a pixel, {far} beyond; mask differs at {mask_diff} ({mask_far} not at an edge)",
                got.level
            ));
            // Nearest equals rio-tiler's but for JPEG's decoding; masks are
            // equal; bilinear values outside rio-tiler's neighbourhood stay
            // under 0.5% (GDAL widens the kernel when it downsamples).
            let exact = r == Resampling::Nearest && slack == 0.0;
            // JPEG: our decoding differs from rasterio's GDAL 3.10 by more
            // than 8 levels at 1.2% of the full image's samples (max 58;
            // within 8 of GDAL 3.6's, tests/tiles_vs_gdal.rs), so up to 2%.
            let far_allowed = match (r, slack > 0.0) {
                (Resampling::Nearest, false) => 0,
                (Resampling::Nearest, true) => valid / 50,
                _ => valid / 200,
            };
            if far > far_allowed || mask_diff > 0 || (exact && near > 0) {
                failures.push(report.last().unwrap().clone());
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(n >= 40, "{n} cases");
    assert!(
        failures.is_empty(),
        "{} of {n} tiles disagree with rio-tiler:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `cog xyz` writes rio-tiler's tile: the .npy holds the same samples.
#[test]
fn cli_writes_rio_tilers_tile() {
    let dir = std::env::temp_dir().join(format!("async-cog-xyz-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("tile.npy");
    let src = fixtures_dir().join("u8_mask_deflate.tif");
    let status = assert_cmd::Command::cargo_bin("cog")
        .unwrap()
        .args([
            "xyz",
            &src.to_string_lossy(),
            "14",
            "3413",
            "6163",
            "-o",
            &out.to_string_lossy(),
        ])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let got = support::npy::from_npy(&std::fs::read(&out).unwrap()).unwrap();
    let want = support::npy::from_npy(&read_gz(fixtures_dir().join("u8_mask_deflate.xyz/case2.npy.gz"))).unwrap();
    let wmask = support::npy::from_npy(&read_gz(fixtures_dir().join("u8_mask_deflate.xyz/case2.mask.npy.gz"))).unwrap();
    // Masked samples hold the fill value in ours and whatever in theirs.
    let (g, w, m) = (got.to_f64_vec(), want.to_f64_vec(), wmask.to_f64_vec());
    assert_eq!(g.len(), w.len());
    assert!(g.iter().zip(&w).zip(&m).all(|((a, b), &bad)| bad != 0.0 || a == b));
    std::fs::remove_dir_all(&dir).ok();
}
