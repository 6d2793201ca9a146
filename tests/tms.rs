//! `cog create-tms` prints morecantile's TileMatrixSet 2.0 of a COG's own
//! grid (fixtures/generate_tms.py with morecantile 7.1: one matrix per
//! level, coarsest first, aiocogeo's layout, morecantile's scale
//! denominators): the same JSON, numbers within 1e-9 relative, on files in
//! metres, degrees and US survey feet, with strips and with overviews of
//! other block sizes.

use assert_cmd::Command;
use serde_json::Value;

fn same(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0) {
                Ok(())
            } else {
                Err(format!("{path}: {x} vs {y}"))
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<_> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.iter().try_for_each(|k| {
                same(
                    x.get(*k).unwrap_or(&Value::Null),
                    y.get(*k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .try_for_each(|(i, (p, q))| same(p, q, &format!("{path}[{i}]"))),
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn create_tms_matches_morecantile() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut n = 0;
    for rel in [
        "u8_big_header",
        "u8_ovr_blocksize",
        "i8_deflate",
        "u16_stateplane_ftus_native",
        "u8_striped_rgb",
        "real/hot-oam_drone_jpeg_mask",
    ] {
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(format!("{rel}.tms.json"))).unwrap()).unwrap();
        let out = Command::cargo_bin("cog")
            .unwrap()
            .args(["create-tms", &root.join(format!("{rel}.tif")).to_string_lossy()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{rel}: {}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Err(e) = same(&got, &want, rel) {
            panic!("{rel}: {e}\n{}", String::from_utf8_lossy(&out.stdout));
        }
        n += 1;
    }
    assert_eq!(n, 6);
}
