//! Where a COG sits on a web map, against rio-tiler 9.4
//! (fixtures/generate_webmap.py → webmap.json): the zoom range and the
//! longitude/latitude bounds `cog serve` puts in its TileJSON, and the
//! values at points given in longitude and latitude (`point_in`). The
//! fixtures' bounds have their extremes at corners, so the 21 points per
//! edge change nothing here (they matter far from a UTM central meridian).

mod support;

use async_cog::{CogReader, Error};
use serde_json::Value;
use support::fixtures_dir;

fn value(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[tokio::test]
async fn zooms_bounds_and_points_agree_with_rio_tiler() {
    let text = std::fs::read_to_string(fixtures_dir().join("webmap.json")).expect("webmap.json");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let files = doc["files"].as_object().expect("files");
    assert!(files.len() >= 6);
    let mut points = 0;
    for (name, want) in files {
        let path = fixtures_dir().join(name);
        let cog = CogReader::open(path.to_str().unwrap()).await.unwrap();
        let zooms = cog.web_map_zooms().unwrap();
        assert_eq!(
            (u64::from(zooms.0), u64::from(zooms.1)),
            (want["minzoom"].as_u64().unwrap(), want["maxzoom"].as_u64().unwrap()),
            "{name}: (minzoom, maxzoom)"
        );
        let b = cog.bounds_in(4326).unwrap().to_array();
        for (got, w) in b.iter().zip(want["bounds"].as_array().unwrap()) {
            assert!(
                (got - value(w)).abs() < 1e-9,
                "{name}: bounds {b:?}, rio-tiler {}",
                want["bounds"]
            );
        }
        // JPEG: our decoder and the libjpeg of rasterio's wheel differ by up
        // to 58 levels on some pixels (see tests/xyz_vs_riotiler.rs).
        let tolerance = if name.contains("jpeg") { 64.0 } else { 0.0 };
        for p in want["points"].as_array().unwrap() {
            let (lon, lat) = (value(&p["lon"]), value(&p["lat"]));
            let got = cog.point_in(lon, lat, 4326).await;
            if p["outside"].as_bool() == Some(true) {
                assert!(
                    matches!(got, Err(Error::PointOutsideBounds { .. })),
                    "{name} ({lon}, {lat}): {got:?}"
                );
                continue;
            }
            let r = got.unwrap_or_else(|e| panic!("{name} ({lon}, {lat}): {e}"));
            let values = r.array.data.to_f64_vec();
            let mask: Vec<bool> = r.array.mask.iter().copied().collect();
            let want_mask: Vec<bool> = p["mask"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_bool().unwrap())
                .collect();
            assert_eq!(mask, want_mask, "{name} ({lon}, {lat}): mask");
            for (g, w) in values.iter().zip(p["values"].as_array().unwrap()) {
                let w = value(w);
                assert!(
                    (g.is_nan() && w.is_nan()) || (g - w).abs() <= tolerance,
                    "{name} ({lon}, {lat}): {values:?}, rio-tiler {}",
                    p["values"]
                );
            }
            points += 1;
        }
    }
    assert!(points >= 20, "only {points} points inside");
}
