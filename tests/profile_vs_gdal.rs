//! Every fixture's profile equals what GDAL says of it (fixtures/*.expected.json,
//! written by fixtures/generate.py from GDAL's Python API), whether the bytes
//! come from memory, a local path or the local HTTP server; and opening over
//! HTTP costs what the server log says it should.

mod support;

use async_cog::{CogReader, Nodata, Options, Profile};
use bytes::Bytes;
use serde_json::Value;
use support::{RangeServer, fixtures, fixtures_dir};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Every difference between our reader and GDAL's expectation for one file.
fn differences(cog: &CogReader, exp: &Value) -> Vec<String> {
    let p: &Profile = cog.profile();
    let mut d = Vec::new();
    let mut eq = |what: &str, ours: Value, gdal: &Value| {
        if &ours != gdal {
            d.push(format!("{what}: ours {ours}, GDAL {gdal}"));
        }
    };
    eq("width", p.width.into(), &exp["width"]);
    eq("height", p.height.into(), &exp["height"]);
    eq("count", p.count.into(), &exp["count"]);
    eq("dtype", p.dtype.name().into(), &exp["dtype"]);
    eq("epsg", p.epsg().into(), &exp["epsg"]);
    eq("has_crs", p.crs.is_some().into(), &exp["has_crs"]);
    eq("blockxsize", p.blockxsize.into(), &exp["blockxsize"]);
    eq("blockysize", p.blockysize.into(), &exp["blockysize"]);
    eq("compress", p.compress_name().into(), &exp["compress"]);
    eq("interleave", p.interleave.name().into(), &exp["interleave"]);
    eq("overviews", p.overviews.clone().into(), &exp["overviews"]);
    eq("mask", p.mask.map(|m| m.name()).into(), &exp["mask"]);
    eq("has_colormap", p.colormap.is_some().into(), &exp["has_colormap"]);
    let levels: Vec<Value> = cog
        .levels()
        .iter()
        .map(|l| {
            serde_json::json!({"width": l.width(), "height": l.height(),
                "blockxsize": l.image.block_width, "blockysize": l.image.block_height})
        })
        .collect();
    eq("levels", levels.into(), &exp["levels"]);
    if p.mask == Some(async_cog::MaskSource::Internal) {
        let masks: Vec<Value> = cog
            .levels()
            .iter()
            .filter_map(|l| l.mask.as_ref())
            .map(|m| serde_json::json!({"width": m.width, "height": m.height}))
            .collect();
        eq("mask_levels", masks.into(), &exp["mask_levels"]);
    }
    let bands: Vec<Value> = p
        .bands
        .iter()
        .map(|b| {
            serde_json::json!({"description": b.description.clone().unwrap_or_default(),
                "scale": b.scale, "offset": b.offset})
        })
        .collect();
    let gdal_bands: Vec<Value> = exp["bands"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| serde_json::json!({"description": b["description"], "scale": b["scale"], "offset": b["offset"]}))
                .collect()
        })
        .unwrap_or_default();
    eq("bands", bands.into(), &gdal_bands.into());
    let gdal_t: Vec<f64> = exp["transform"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    if !p.transform.to_array().iter().zip(&gdal_t).all(|(a, b)| close(*a, *b)) {
        d.push(format!("transform: ours {:?}, GDAL {gdal_t:?}", p.transform.to_array()));
    }
    // 64-bit integer nodata must be exact: GDAL writes it as a JSON integer.
    let nodata_ok = match (&exp["nodata"], p.nodata) {
        (Value::Null, None) => true,
        (Value::String(s), Some(v)) if s == "nan" => v.is_nan(),
        (Value::Number(n), Some(Nodata::Int(v))) => n.as_i64() == Some(v),
        (Value::Number(n), Some(Nodata::UInt(v))) => n.as_u64() == Some(v),
        (Value::Number(n), Some(Nodata::Float(v))) => close(n.as_f64().unwrap(), v),
        _ => false,
    };
    if !nodata_ok {
        d.push(format!("nodata: ours {:?}, GDAL {}", p.nodata, exp["nodata"]));
    }
    d
}

fn report(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} mismatches with GDAL:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Opens every fixture with `open` and compares it with GDAL; `extra` adds
/// source-specific checks.
async fn check_all(
    open: impl AsyncFn(&str) -> async_cog::Result<CogReader>,
    extra: impl Fn(&CogReader) -> Option<String>,
) {
    let mut failures = Vec::new();
    for (rel, exp) in fixtures() {
        match open(&rel).await {
            Ok(cog) => {
                failures.extend(differences(&cog, &exp).into_iter().map(|m| format!("{rel}: {m}")));
                failures.extend(extra(&cog).map(|m| format!("{rel}: {m}")));
            }
            Err(e) => failures.push(format!("{rel}: open failed: {e}")),
        }
    }
    report(failures);
}

#[tokio::test]
async fn profile_matches_gdal_from_memory() {
    let open = async |rel: &str| {
        let bytes = Bytes::from(std::fs::read(fixtures_dir().join(rel)).unwrap());
        CogReader::from_bytes(bytes, Options::default()).await
    };
    check_all(open, |_| None).await;
}

#[tokio::test]
async fn profile_matches_gdal_from_local_path() {
    let open = async |rel: &str| CogReader::open(fixtures_dir().join(rel).to_str().unwrap()).await;
    check_all(open, |_| None).await;
}

#[tokio::test]
async fn profile_matches_gdal_from_an_object_store_built_by_the_caller() {
    use object_store::{ObjectStoreExt, PutPayload, memory::InMemory, path::Path};
    let store = std::sync::Arc::new(InMemory::new());
    let open = async |rel: &str| {
        let path = Path::from(rel);
        let bytes = std::fs::read(fixtures_dir().join(rel)).unwrap();
        store.put(&path, PutPayload::from(bytes)).await.unwrap();
        CogReader::from_store(store.clone(), path, Options::default()).await
    };
    check_all(open, |cog| {
        cog.object().etag.is_none().then(|| "no ETag recorded".to_string())
    })
    .await;
}

#[tokio::test]
async fn profile_matches_gdal_over_http_with_one_get_per_open() {
    let server = RangeServer::start(fixtures_dir()).await;
    let mut failures = Vec::new();
    for (rel, exp) in fixtures() {
        server.clear();
        match CogReader::open(&server.url(&rel)).await {
            Ok(cog) => failures.extend(differences(&cog, &exp).into_iter().map(|m| format!("{rel}: {m}"))),
            Err(e) => failures.push(format!("{rel}: open failed: {e}")),
        }
        let (gets, heads) = (server.count("GET"), server.count("HEAD"));
        let header_end = exp["layout"]["header_end"].as_u64().unwrap();
        if heads != 0 {
            failures.push(format!("{rel}: {heads} HEAD requests"));
        }
        if header_end <= 16384 && gets != 1 {
            failures.push(format!(
                "{rel}: header ends at {header_end}, but opening took {gets} GETs"
            ));
        }
        if header_end > 16384 && gets > 3 {
            failures.push(format!(
                "{rel}: header ends at {header_end}, opening took {gets} GETs (> 3)"
            ));
        }
    }
    report(failures);
}
