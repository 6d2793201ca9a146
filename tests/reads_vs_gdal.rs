//! Window and bounds reads equal GDAL's RasterIO (rasterio 1.4.4 / GDAL
//! 3.10.3, fixtures/generate_reads.py): nearest bit for bit, data and mask;
//! bilinear, cubic and average within 1 on 8-bit data where both sides are
//! valid (the measured differences are printed).

mod support;

use async_cog::{Area, CogReader, Options};
use bytes::Bytes;
use serde_json::Value;
use support::{fixtures_dir, read_npy_gz, sha256_hex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_match_gdal() {
    let mut failures = Vec::new();
    let mut report = Vec::new();
    let mut n = 0;
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".reads.json"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "read expectations missing: run fixtures/generate.sh");
    for name in names {
        let tif = name.replace(".reads.json", ".tif");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join(&name)).unwrap()).unwrap();
        let bytes = Bytes::from(std::fs::read(fixtures_dir().join(&tif)).unwrap());
        let cog = CogReader::from_bytes(bytes, Options::default()).await.unwrap();
        for (i, c) in doc["cases"].as_array().unwrap().iter().enumerate() {
            n += 1;
            let req = support::read_request(c);
            let label = format!(
                "{tif} case {i} ({} {} {})",
                c["kind"],
                c["resampling"],
                if let Area::Window { window: w, .. } = req.area() {
                    format!("{w:?} z{}", c["level"])
                } else {
                    format!("shape {}", c["shape"])
                }
            );
            let got = match cog.read_with(req).await {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let (b, r, cc) = got.array.shape();
            if vec![b, r, cc]
                != c["out_shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect::<Vec<_>>()
            {
                failures.push(format!(
                    "{label}: shape {:?}, GDAL {}",
                    got.array.shape(),
                    c["out_shape"]
                ));
                continue;
            }
            let mask: Vec<u8> = got.array.mask.iter().map(|&m| u8::from(m)).collect();
            if c["resampling"] == "nearest" {
                if sha256_hex(&got.array.data.to_le_bytes()) != c["data"].as_str().unwrap() {
                    failures.push(format!("{label}: data differs (level read {})", got.level));
                }
                if sha256_hex(&mask) != c["mask"].as_str().unwrap() {
                    failures.push(format!(
                        "{label}: mask differs: {} invalid, GDAL {}",
                        got.array.invalid_count(),
                        c["invalid"]
                    ));
                }
            } else {
                let stem = c["arrays"].as_str().unwrap();
                let dir = fixtures_dir().join(tif.replace(".tif", ".reads"));
                let gdal = read_npy_gz(dir.join(format!("{stem}.npy.gz")));
                let gmask = read_npy_gz(dir.join(format!("{stem}.mask.npy.gz")));
                let ours = got.array.data.to_f64_vec();
                let (mut max, mut sum, mut k, mut mask_diff) = (0f64, 0f64, 0usize, 0usize);
                for j in 0..ours.len() {
                    let (om, gm) = (mask[j] == 1, gmask[j] != 0.0);
                    if om != gm {
                        mask_diff += 1;
                    }
                    if !om && !gm {
                        let d = (ours[j] - gdal[j]).abs();
                        max = max.max(d);
                        sum += d;
                        k += 1;
                    }
                }
                report.push(format!(
                    "{label}: level {} max |diff| {max}, mean {:.4}, mask differs at {mask_diff} of {}",
                    got.level,
                    sum / k.max(1) as f64,
                    ours.len()
                ));
                if max > 1.0 {
                    failures.push(format!("{label}: max |diff| {max} > 1"));
                }
            }
        }
    }
    println!("{n} read cases\n{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_and_previews_match_gdal() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap().filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".reads.json") {
            continue;
        }
        let tif = name.replace(".reads.json", ".tif");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        let bytes = Bytes::from(std::fs::read(fixtures_dir().join(&tif)).unwrap());
        let cog = CogReader::from_bytes(bytes, Options::default()).await.unwrap();
        for p in doc["points"].as_array().unwrap() {
            checked += 1;
            let (x, y) = (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap());
            let got = cog.point(x, y).await.unwrap().array;
            let values = got.data.to_f64_vec();
            let ours: Vec<Value> = values
                .iter()
                .zip(got.mask.iter())
                .map(|(v, m)| if *m { Value::Null } else { serde_json::json!(v) })
                .collect();
            let gdal: Vec<Value> = p["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    if v.is_null() {
                        Value::Null
                    } else {
                        serde_json::json!(v.as_f64().unwrap())
                    }
                })
                .collect();
            if ours != gdal {
                failures.push(format!("{tif} point ({x}, {y}): ours {ours:?}, GDAL {gdal:?}"));
            }
        }
        for pv in doc["previews"].as_array().unwrap() {
            checked += 1;
            let r = cog.preview(pv["max_size"].as_u64().unwrap() as usize).await.unwrap();
            let mask: Vec<u8> = r.array.mask.iter().map(|&m| u8::from(m)).collect();
            let (b, h, w) = r.array.shape();
            if serde_json::json!([b, h, w]) != pv["out_shape"]
                || sha256_hex(&r.array.data.to_le_bytes()) != pv["data"].as_str().unwrap()
                || sha256_hex(&mask) != pv["mask"].as_str().unwrap()
            {
                failures.push(format!(
                    "{tif} preview {}: shape {:?} (rio-tiler {}), level {}",
                    pv["max_size"],
                    r.array.shape(),
                    pv["out_shape"],
                    r.level
                ));
            }
        }
    }
    assert!(checked >= 70, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
