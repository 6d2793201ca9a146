//! Web Mercator → file CRS reprojection (proj4rs with EPSG definitions)
//! agrees with PROJ 9.5 (pyproj, fixtures/generate_proj.py) on 20 points
//! per CRS for UTM north and south, NAD83 UTM, WGS 84, state plane in US
//! survey feet, Web Mercator itself, LAEA, LCC and polar stereographic:
//! within 1 mm for projected CRSs and 1e-8 degrees for geographic ones.

use async_cog::Crs;
use async_cog::geo::FromWebMercator;
use serde_json::Value;

fn crs(code: u32) -> Crs {
    Crs {
        epsg: Some(code),
        model_type: None,
        citation: None,
        geokeys: Default::default(),
    }
}

#[test]
fn reprojection_agrees_with_proj() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/proj_reference.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut worst = Vec::new();
    for (code, pts) in doc["crs"].as_object().unwrap() {
        let code: u32 = code.parse().unwrap();
        let t = FromWebMercator::web_mercator_to(&crs(code)).unwrap_or_else(|e| panic!("EPSG:{code}: {e}"));
        let pts: Vec<Vec<f64>> = serde_json::from_value(pts.clone()).unwrap();
        let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = pts.iter().map(|p| (p[0], p[1])).unzip();
        t.transform(&mut xs, &mut ys);
        let tol = if code == 4326 { 1e-8 } else { 1e-3 };
        let mut max = 0f64;
        for (i, p) in pts.iter().enumerate() {
            let d = (xs[i] - p[2]).abs().max((ys[i] - p[3]).abs());
            assert!(
                d <= tol,
                "EPSG:{code} point {i}: ({}, {}) vs PROJ ({}, {})",
                xs[i],
                ys[i],
                p[2],
                p[3]
            );
            max = max.max(d);
        }
        worst.push(format!("EPSG:{code} {max:.2e}"));
    }
    assert_eq!(worst.len(), 10);
    eprintln!("largest difference from PROJ per CRS: {}", worst.join(", "));
}

/// A CRS without an EPSG code is refused with a reason, not a panic.
#[test]
fn unknown_crs_is_an_error() {
    let mut c = crs(0);
    c.epsg = None;
    assert!(FromWebMercator::web_mercator_to(&c).is_err());
    assert!(FromWebMercator::web_mercator_to(&crs(99999)).is_err());
}
