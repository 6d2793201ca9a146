//! Lazy views read what rasterio reads (rasterio 1.4.4 / GDAL 3.10,
//! fixtures/generate_views.py): a view narrowed to a level, bands and a
//! boundless window loads rasterio's masked boundless read of that window
//! bit for bit (data and mask; JPEG files mask only), and its shape,
//! transform and bounds are rasterio's before any pixel is read. Block
//! windows equal rasterio's `block_windows()` at every level.

mod support;

use async_cog::{Axis, CogReader, Options, Window};
use bytes::Bytes;
use serde_json::Value;
use support::{fixtures_dir, ints, sha256_hex};

fn expectations() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for dir in [fixtures_dir(), fixtures_dir().join("real")] {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".views.json") {
                let doc = serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
                out.push((dir.join(format!("{stem}.tif")).to_string_lossy().into_owned(), doc));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "view expectations missing: run fixtures/generate.sh");
    out
}

async fn open(path: &str) -> CogReader {
    let bytes = Bytes::from(std::fs::read(path).unwrap());
    CogReader::from_bytes(bytes, Options::default()).await.unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6 * x.abs().max(1.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_load_what_rasterio_reads() {
    let mut failures = Vec::new();
    let mut n = 0;
    for (path, doc) in expectations() {
        let cog = open(&path).await;
        let lossy = cog.profile().compress_name().contains("jpeg");
        let name = path.rsplit('/').next().unwrap().to_string();
        for (i, c) in doc["reads"].as_array().unwrap().iter().enumerate() {
            n += 1;
            let w = ints(&c["window"]);
            let bands: Vec<usize> = ints(&c["bands"]).iter().map(|&b| b as usize).collect();
            let label = format!("{name} read {i} (level {} window {w:?} bands {bands:?})", c["level"]);
            let mut view = cog
                .view()
                .overview(c["level"].as_u64().unwrap() as usize)
                .unwrap()
                .select_bands(&bands)
                .unwrap()
                .window(Window::new(w[0], w[1], w[2] as u64, w[3] as u64))
                .unwrap();
            if let Some(f) = c.get("fill") {
                view = view.with_fill_value(f.as_f64().unwrap());
            }
            // Known before reading.
            let shape = ints(&c["shape"]);
            let (vb, vr, vc) = view.shape();
            if [vb as i64, vr as i64, vc as i64] != shape[..] {
                failures.push(format!("{label}: shape {:?}, rasterio {shape:?}", view.shape()));
            }
            if !close(&view.transform().to_array(), &floats(&c["transform"])) {
                failures.push(format!(
                    "{label}: transform {:?}, rasterio {}",
                    view.transform(),
                    c["transform"]
                ));
            }
            if !close(&view.bounds().to_array(), &floats(&c["bounds"])) {
                failures.push(format!("{label}: bounds {:?}, rasterio {}", view.bounds(), c["bounds"]));
            }
            let got = match view.load().await {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            if got.shape() != view.shape() || got.transform != view.transform() {
                failures.push(format!(
                    "{label}: loaded {:?} at {:?}, view said {:?}",
                    got.shape(),
                    got.transform,
                    view.shape()
                ));
            }
            let mask: Vec<u8> = got.array.mask.iter().map(|&m| u8::from(m)).collect();
            if sha256_hex(&mask) != c["mask"].as_str().unwrap() {
                failures.push(format!(
                    "{label}: mask differs: {} invalid, rasterio {}",
                    got.array.invalid_count(),
                    c["invalid"]
                ));
            }
            if !lossy && sha256_hex(&got.array.data.to_le_bytes()) != c["data"].as_str().unwrap() {
                failures.push(format!("{label}: data differs (fill {})", got.fill_value));
            }
        }
    }
    assert!(n >= 80, "only {n} view reads");
    assert!(
        failures.is_empty(),
        "{} of {n} view reads differ from rasterio:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn block_windows_are_rasterios() {
    for (path, doc) in expectations() {
        let cog = open(&path).await;
        let levels = doc["block_windows"].as_array().unwrap();
        assert_eq!(levels.len(), cog.levels().len(), "{path}: levels");
        for (z, want) in levels.iter().enumerate() {
            let got: Vec<Vec<i64>> = cog
                .block_windows(z)
                .unwrap()
                .map(|((j, i), w)| {
                    vec![
                        j as i64,
                        i as i64,
                        w.col_off as i64,
                        w.row_off as i64,
                        w.width as i64,
                        w.height as i64,
                    ]
                })
                .collect();
            let want: Vec<Vec<i64>> = want.as_array().unwrap().iter().map(ints).collect();
            assert_eq!(got, want, "{path} level {z}");
        }
    }
}

/// Chips of a tiled scan over a boundless view all have one shape, and the
/// chips put back together are the whole image read at once (data and
/// mask); the padding past the image is masked and holds the fill value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chips_of_a_scan_share_one_shape_and_tile_the_image() {
    let cog = open(&fixtures_dir().join("u8_mask_deflate.tif").to_string_lossy()).await;
    let whole = cog.view().load().await.unwrap();
    let (_, rows, cols) = whole.shape();
    let chip = 96usize;
    let view = cog.view().with_fill_value(9.0);
    let whole_data = whole.as_array::<u8>().unwrap();
    let whole_mask = whole.mask_array();
    for r0 in (0..rows).step_by(chip) {
        for c0 in (0..cols).step_by(chip) {
            let v = view
                .window(Window::new(c0 as i64, r0 as i64, chip as u64, chip as u64))
                .unwrap();
            let got = v.load().await.unwrap();
            assert_eq!(got.shape(), (1, chip, chip));
            let (d, m) = (got.as_array::<u8>().unwrap(), got.mask_array());
            for r in 0..chip {
                for c in 0..chip {
                    let (wr, wc) = (r0 + r, c0 + c);
                    if wr < rows && wc < cols {
                        assert_eq!(d[[0, r, c]], whole_data[[0, wr, wc]], "chip {r0},{c0} pixel {r},{c}");
                        assert_eq!(m[[0, r, c]], whole_mask[[0, wr, wc]], "chip {r0},{c0} mask {r},{c}");
                    } else {
                        assert!(m[[0, r, c]], "padding at chip {r0},{c0} pixel {r},{c} is not masked");
                        assert_eq!(d[[0, r, c]], 9, "padding holds the fill value");
                    }
                }
            }
            // filled() puts the fill value in every masked sample.
            let filled = got.filled();
            let f = filled.as_array::<u8>().unwrap();
            assert!(f.iter().zip(m.iter()).all(|(&v, &bad)| !bad || v == 9));
        }
    }
}

/// Views are values: narrowing one leaves the original as it was; `isel`
/// over rows, columns and bands equals the matching window and band pick;
/// a bounded window is cut to the image; a whole-image view is the profile.
#[tokio::test]
async fn view_algebra() {
    let cog = open(&fixtures_dir().join("u8_lzw_pred2_rgb.tif").to_string_lossy()).await;
    let p = cog.profile().clone();
    let v = cog.view();
    assert_eq!(v.shape(), (3, p.height as usize, p.width as usize));
    assert_eq!(v.transform(), p.transform);
    assert_eq!(v.bounds(), p.bounds);
    let w = v.window(Window::new(10, 20, 30, 40)).unwrap();
    assert_eq!(
        v.shape(),
        (3, p.height as usize, p.width as usize),
        "the original changed"
    );
    let by_isel = v
        .isel(Axis::Y, 20..60)
        .unwrap()
        .isel(Axis::X, 10..40)
        .unwrap()
        .isel(Axis::Band, 1..3)
        .unwrap();
    let by_window = w.select_bands(&[2, 3]).unwrap();
    assert_eq!(by_isel.shape(), (2, 40, 30));
    assert_eq!(by_isel.transform(), by_window.transform());
    assert_eq!(
        by_isel.load().await.unwrap().array,
        by_window.load().await.unwrap().array
    );
    let cut = v.read_window(Window::new(-5, -5, 20, 20), false).unwrap();
    assert_eq!(cut.shape(), (3, 15, 15));
    assert_eq!(
        cut.transform(),
        p.transform.compose(&async_cog::Affine::translation(0.0, 0.0))
    );
    assert!(v.read_window(Window::new(-50, 0, 20, 20), false).is_err());
    assert!(v.isel(Axis::Time, 0..1).is_err());
    assert!(v.select_bands(&[4]).is_err());
}

/// A ring without its closing point and straight-on vertices, starting at
/// its smallest vertex and turning one fixed way, so that two outlines of
/// one region compare equal however they were traced.
fn normal_ring(ring: &[Vec<f64>]) -> Vec<(i64, i64)> {
    let mut pts: Vec<(i64, i64)> = ring
        .iter()
        .map(|p| ((p[0] * 1e3).round() as i64, (p[1] * 1e3).round() as i64))
        .collect();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let n = pts.len();
    let cross = |a: (i64, i64), b: (i64, i64), c: (i64, i64)| (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0);
    let mut pts: Vec<(i64, i64)> = (0..n)
        .filter(|&k| cross(pts[(k + n - 1) % n], pts[k], pts[(k + 1) % n]) != 0)
        .map(|k| pts[k])
        .collect();
    let area: i64 = (0..pts.len())
        .map(|k| pts[k].0 * pts[(k + 1) % pts.len()].1 - pts[(k + 1) % pts.len()].0 * pts[k].1)
        .sum();
    if area < 0 {
        pts.reverse();
    }
    let start = (0..pts.len()).min_by_key(|&k| pts[k]).unwrap_or(0);
    pts.rotate_left(start);
    pts
}

fn normal_polygons(polys: &[Vec<Vec<Vec<f64>>>]) -> Vec<Vec<Vec<(i64, i64)>>> {
    let mut out: Vec<Vec<Vec<(i64, i64)>>> = polys
        .iter()
        .map(|p| {
            let mut rings: Vec<_> = p.iter().map(|r| normal_ring(r)).collect();
            rings[1..].sort();
            rings
        })
        .collect();
    out.sort();
    out
}

/// The footprint is rasterio's `features.shapes` of `dataset_mask()` at the
/// coarsest level: the same polygons, holes and vertices (rings compared
/// without regard to start point and direction), and outer rings run
/// counter-clockwise as GeoJSON wants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn footprints_are_rasterios_shapes() {
    let mut checked = 0;
    for (path, doc) in expectations() {
        let fp = &doc["footprint"];
        let cog = open(&path).await;
        let got = cog.footprint().await.unwrap();
        let json: Value = serde_json::to_value(&got).unwrap();
        assert_eq!(json["type"], "MultiPolygon");
        let to_vec = |v: &Value| -> Vec<Vec<Vec<Vec<f64>>>> { serde_json::from_value(v.clone()).unwrap() };
        let want = normal_polygons(&to_vec(&fp["polygons"]));
        let have = normal_polygons(&to_vec(&json["coordinates"]));
        assert_eq!(
            have,
            want,
            "{path}: footprint differs from rasterio's ({} polygons, rasterio {})",
            have.len(),
            want.len()
        );
        for p in &got.coordinates {
            let r = &p[0];
            let a: f64 = r.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum();
            assert!(a > 0.0, "{path}: an outer ring runs clockwise");
        }
        checked += 1;
    }
    assert!(checked >= 10);
}
