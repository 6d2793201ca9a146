//! Seeded random window and bounds reads against GDAL (rasterio 1.4.4 /
//! GDAL 3.10.3, fixtures/generate_random_reads.py): thousands of requests
//! drawn near the places where readers tend to disagree (reductions close
//! to the overview factors, areas flush with or beyond the image edges,
//! tiny and upsampled outputs, band subsets).
//!
//! Areas partly outside the image are answered by GDAL reading the level it
//! picks from a VRT that pads the image with nothing, not by rasterio's
//! boundless read (whose VRT shifts pixels); see the generator's docs.
//!
//! Every case runs; disagreements are counted per fixture and method and
//! summed up in tables (per fixture, per method, per kind and placement),
//! with a few failing cases printed in full, before the test asserts there
//! are none.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use async_cog::{CogReader, DataType, Options, Raster};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use support::npy::from_npy;
use support::{fixtures_dir, read_gz, sha256_hex};

/// Cases that disagree for a reason understood and accepted, as (fixture,
/// case index, why). Still run and printed; not counted as failures.
const KNOWN: &[(&str, usize, &str)] = &[(
    "u8_webp_lossless_rgba",
    213,
    "boundless cubic by an alpha edge: the reference reads a VRT that pads the level with \
     transparent pixels, whose cubic lobes mark 12 more output pixels per band invalid; we \
     do not resample outside the level (data equal)",
)];

/// Reads in flight at once per fixture.
const CONCURRENCY: usize = 16;
/// Failing cases printed per (failure class, method).
const EXAMPLES: usize = 3;
/// Largest |ours - GDAL| allowed for kernel resampling of integer data:
/// GDAL and we both round a weighted sum computed in floating point, so a
/// sum that lands near .5 may round either way.
const INT_TOLERANCE: f64 = 1.0;
/// Largest |ours - GDAL| allowed for kernel resampling of float data,
/// relative to the largest |value| in the case's output. A kernel output
/// is a weighted sum of at most ~100 taps per axis (a cubic stretched 20x
/// spans 80); accumulated in float32 that loses at most ~100 x 6e-8 of the
/// magnitude of the terms, which is below 1e-5 of the case's largest value.
/// A wrong tap, weight or level changes values by far more than that.
const FLOAT_RELATIVE_TOLERANCE: f64 = 1e-5;

/// The levels GDAL was seen reading (empty: unknown).
fn gdal_levels(c: &Value) -> Vec<usize> {
    match &c["gdal_level"] {
        Value::Number(n) => vec![n.as_u64().unwrap() as usize],
        Value::Array(a) => a.iter().map(|v| v.as_u64().unwrap() as usize).collect(),
        _ => Vec::new(),
    }
}

/// One line describing a case's request.
fn describe(c: &Value) -> String {
    let area = if c["kind"] == "window" {
        format!("window {} at level {}", c["window"], c["level"])
    } else {
        format!("bounds {}", c["bounds"])
    };
    let shape = if c["shape"].is_null() {
        "natural".to_string()
    } else {
        c["shape"].to_string()
    };
    format!(
        "{area}, shape {shape}, {}, bands {}, boundless {}, {} (reduction {})",
        c["resampling"].as_str().unwrap(),
        c["bands"],
        c["boundless"],
        c["placement"].as_str().unwrap(),
        c["reduction"]
    )
}

/// Disagreements counted for a group of cases.
#[derive(Default, Clone)]
struct Tally {
    cases: usize,
    failed: usize,
    level: usize,
    data: usize,
    mask: usize,
    /// Data or mask differ although the level read is GDAL's.
    same_level: usize,
    errors: usize,
    max_diff: f64,
}

impl Outcome {
    fn failed(&self) -> bool {
        self.error.is_some() || self.level || self.data || self.mask
    }
}

impl Tally {
    fn add(&mut self, o: &Outcome) {
        self.cases += 1;
        let failed = o.failed();
        self.failed += usize::from(failed);
        self.level += usize::from(o.level);
        self.data += usize::from(o.data);
        self.mask += usize::from(o.mask);
        self.same_level += usize::from((o.data || o.mask) && !o.level);
        self.errors += usize::from(o.error.is_some());
        self.max_diff = self.max_diff.max(o.max_diff);
    }
}

/// What one case found.
#[derive(Default)]
struct Outcome {
    /// Our read failed or returned another shape.
    error: Option<String>,
    /// We read another level than GDAL (when GDAL's is known).
    level: bool,
    data: bool,
    mask: bool,
    /// Kernels: largest |ours - GDAL| where both are valid.
    max_diff: f64,
    /// What to print if the case is an example.
    detail: String,
}

/// Compares our read of case `c` with GDAL's answer.
fn compare(c: &Value, got: Result<Raster, async_cog::Error>, arrays: &[u8]) -> Outcome {
    let mut o = Outcome::default();
    let got = match got {
        Ok(r) => r,
        Err(e) => {
            o.error = Some(format!("error: {e}"));
            o.detail = format!("our read failed: {e}");
            return o;
        }
    };
    let want: Vec<usize> = c["out_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let (b, r, cc) = got.array.shape();
    if vec![b, r, cc] != want {
        o.error = Some("shape".into());
        o.detail = format!("shape {:?}, GDAL {want:?}", got.array.shape());
        return o;
    }
    let levels = gdal_levels(c);
    o.level = !levels.is_empty() && !levels.contains(&got.level);
    let gdal_level = match levels.len() {
        0 => "unknown".to_string(),
        1 => levels[0].to_string(),
        _ => format!("{levels:?}"),
    };
    let mut detail = format!("level {} (GDAL {gdal_level})", got.level);
    let mask: Vec<u8> = got.array.mask.iter().map(|&m| u8::from(m)).collect();
    let ours = got.array.data.to_f64_vec();
    let invalid = got.array.invalid_count();
    if c["resampling"] == "nearest" {
        o.data = sha256_hex(&got.array.data.to_le_bytes()) != c["data"].as_str().unwrap();
        o.mask = sha256_hex(&mask) != c["mask"].as_str().unwrap();
        let sum: f64 = ours.iter().zip(&mask).filter(|(_, m)| **m == 0).map(|(v, _)| v).sum();
        let _ = write!(
            detail,
            "; invalid {invalid} (GDAL {}), sum of valid {sum} (GDAL {})",
            c["invalid"], c["sum"]
        );
    } else {
        let a = c["arrays"].as_array().unwrap();
        let at = |i: usize| a[i].as_u64().unwrap() as usize;
        let gdal = from_npy(&arrays[at(0)..at(0) + at(1)]).expect("npy").to_f64_vec();
        let gmask = from_npy(&arrays[at(2)..at(2) + at(3)]).expect("npy").to_f64_vec();
        let float = matches!(got.array.data.dtype(), DataType::Float32 | DataType::Float64);
        let scale = gdal
            .iter()
            .zip(&gmask)
            .filter(|(v, m)| **m == 0.0 && v.is_finite())
            .fold(0f64, |s, (v, _)| s.max(v.abs()));
        let tolerance = if float {
            FLOAT_RELATIVE_TOLERANCE * scale.max(1.0)
        } else {
            INT_TOLERANCE
        };
        let (mut only_ours, mut only_gdal, mut over) = (0, 0, 0);
        for j in 0..ours.len() {
            match (mask[j] == 1, gmask[j] != 0.0) {
                (true, false) => only_ours += 1,
                (false, true) => only_gdal += 1,
                (false, false) => {
                    let d = (ours[j] - gdal[j]).abs();
                    let d = if d.is_nan() { f64::INFINITY } else { d };
                    o.max_diff = o.max_diff.max(d);
                    over += usize::from(d > tolerance);
                }
                (true, true) => {}
            }
        }
        o.data = over > 0;
        o.mask = only_ours + only_gdal > 0;
        let _ = write!(
            detail,
            "; max |diff| {:.4} (tolerance {tolerance:.3e}), {over} of {} samples over; \
             invalid only in ours {only_ours}, only in GDAL's {only_gdal}",
            o.max_diff,
            ours.len()
        );
    }
    o.detail = detail;
    o
}

/// Replays every random case: nearest must equal GDAL bit for bit (data
/// and mask), bilinear / cubic / average must have GDAL's mask and be within
/// 1 of GDAL's data on integer types (within 1e-5 of the largest value on
/// floats), and the level read must be the one GDAL was seen reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_reads_match_gdal() {
    let started = std::time::Instant::now();
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".random_reads.json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 10,
        "random read expectations missing: run fixtures/generate.sh"
    );
    let mut by_fixture: BTreeMap<(String, &'static str), Tally> = BTreeMap::new();
    let mut by_placement: BTreeMap<(String, String, &'static str), Tally> = BTreeMap::new();
    let mut by_method: BTreeMap<String, Tally> = BTreeMap::new();
    let mut examples: BTreeMap<(&'static str, bool), Vec<String>> = BTreeMap::new();
    let mut header = String::new();
    let mut oracle = String::new();
    let mut known = String::new();
    for name in &names {
        let stem = name.trim_end_matches(".random_reads.json");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join(name)).unwrap()).unwrap();
        if header.is_empty() {
            header = format!(
                "GDAL {}, rasterio {}, seed {}",
                doc["gdal"], doc["rasterio"], doc["seed"]
            );
        }
        let arrays = read_gz(fixtures_dir().join(format!("{stem}.random_reads.npy.gz")));
        let bytes = Bytes::from(std::fs::read(fixtures_dir().join(format!("{stem}.tif"))).unwrap());
        let cog = CogReader::from_bytes(bytes, Options::default()).await.unwrap();
        let cases = doc["cases"].as_array().unwrap();
        let kept: u64 = cases.iter().filter_map(|c| c["vrt_kept"].as_u64()).sum();
        let _ = writeln!(
            oracle,
            "  {stem}: padded VRT = direct read on inside cases {}; outside cases dropped {}; \
             centred-outside kernel pixels the VRT filled {kept}",
            doc["padded_check"], doc["outside_dropped"]
        );
        let results: Vec<_> = futures::stream::iter(cases.iter())
            .map(|c| {
                let cog = &cog;
                async move { cog.read_with(support::read_request(c)).await }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for (i, (c, got)) in cases.iter().zip(results).enumerate() {
            let mut o = compare(c, got, &arrays);
            if let Some((_, _, why)) = KNOWN.iter().find(|k| k.0 == stem && k.1 == i)
                && o.failed()
            {
                let _ = writeln!(known, "  {stem} case {i}: {}\n      known: {why}", describe(c));
                o = Outcome::default();
            }
            let method = c["resampling"].as_str().unwrap().to_string();
            let group: &'static str = if method == "nearest" { "nearest" } else { "kernels" };
            let placement = format!("{} {}", c["kind"].as_str().unwrap(), c["placement"].as_str().unwrap());
            by_fixture.entry((stem.to_string(), group)).or_default().add(&o);
            by_placement
                .entry((placement, method.clone(), group))
                .or_default()
                .add(&o);
            by_method.entry(method).or_default().add(&o);
            let nearest = group == "nearest";
            let classes = [
                ("error", o.error.is_some()),
                ("level", o.level),
                ("data", o.data && !o.level),
                ("mask", o.mask && !o.level && !o.data),
            ];
            for (class, hit) in classes {
                let list = examples.entry((class, nearest)).or_default();
                if hit && list.len() < EXAMPLES {
                    list.push(format!("{stem} case {i}: {}\n      {}", describe(c), o.detail));
                }
            }
        }
    }
    let mut out = String::new();
    let row = |out: &mut String, label: &str, t: &Tally, kernels: bool| {
        let diff = if kernels {
            format!("{:>10.4}", t.max_diff)
        } else {
            format!("{:>10}", "")
        };
        let _ = writeln!(
            out,
            "{label:<44} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>6} {diff}",
            t.cases, t.failed, t.level, t.data, t.mask, t.same_level, t.errors
        );
    };
    let head = format!(
        "{:<44} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9} {:>6} {:>10}\n",
        "", "cases", "failed", "level", "data", "mask", "same lvl", "error", "max |diff|"
    );
    let _ = writeln!(
        out,
        "random reads vs {header}\n\
         (failed: any disagreement; level: we read another level than GDAL was seen reading;\n \
         data / mask: differ; same lvl: data or mask differ although the level agrees)\n"
    );
    out.push_str(&head);
    let mut total = Tally::default();
    for ((fixture, group), t) in &by_fixture {
        row(&mut out, &format!("{fixture} [{group}]"), t, *group == "kernels");
        total.cases += t.cases;
        total.failed += t.failed;
        total.level += t.level;
        total.data += t.data;
        total.mask += t.mask;
        total.same_level += t.same_level;
        total.errors += t.errors;
    }
    row(&mut out, "all", &total, false);
    out.push('\n');
    out.push_str(&head);
    for (method, t) in &by_method {
        row(&mut out, method, t, method != "nearest");
    }
    out.push('\n');
    out.push_str(&head);
    for ((placement, method, group), t) in &by_placement {
        row(&mut out, &format!("{placement} {method}"), t, *group == "kernels");
    }
    let _ = writeln!(
        out,
        "\nreference for areas partly outside the image ([same, cases] per method):\n{oracle}"
    );
    for ((class, nearest), list) in &examples {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\nexamples: {class} ({})",
            if *nearest { "nearest" } else { "kernels" }
        );
        for e in list {
            let _ = writeln!(out, "  {e}");
        }
    }
    if !known.is_empty() {
        let _ = writeln!(out, "\nknown differences (not counted):\n{known}");
    }
    let _ = writeln!(out, "\n{} cases in {:.1?}", total.cases, started.elapsed());
    println!("{out}");
    assert!(total.cases >= 3000, "only {} random cases", total.cases);
    assert_eq!(
        total.failed, 0,
        "{} of {} random reads disagree with GDAL (table above)",
        total.failed, total.cases
    );
}
