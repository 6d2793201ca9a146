//! `cog validate SRC [--strict] [--json]`: is SRC a Cloud-Optimized
//! GeoTIFF? rio-cogeo's verdict (its errors and warnings, in its words;
//! `--strict` makes warnings fail too) with GDAL's stricter layout checks
//! as notes; exits 1 when not valid. Costs the opening request alone on a
//! normal COG.

use async_cog::{CogReader, Options, Result, Verdict};
use serde_json::json;

/// rio-cogeo's first check: a `NAME.tif.ovr` side-car beside a local file.
fn sidecar_ovr(src: &str) -> bool {
    let path = src.strip_prefix("file://").unwrap_or(src);
    if path.contains("://") {
        return false;
    }
    ["ovr", "OVR"]
        .iter()
        .any(|ext| std::path::Path::new(&format!("{path}.{ext}")).is_file())
}

/// The verdict on `src`, with the side-car rule added where it applies.
pub async fn verdict(cog: &CogReader, src: &str) -> Result<Verdict> {
    let mut v = cog.validate().await?;
    if sidecar_ovr(src) {
        v.errors.insert(
            0,
            "Overviews found in external .ovr file. They should be internal".into(),
        );
    }
    Ok(v)
}

/// Prints the verdict; `Ok(false)` when the file is not a valid COG.
pub async fn run(src: &str, options: Options, strict: bool, as_json: bool) -> Result<bool> {
    let cog = CogReader::open_with(src, options).await?;
    let v = verdict(&cog, src).await?;
    let valid = v.is_valid(strict);
    let text = if as_json {
        let doc = json!({
            "Path": src,
            "COG": valid,
            "Compression": cog.profile().compress_name(),
            "Errors": v.errors,
            "Warnings": v.warnings,
            "GDAL_Notes": v.notes,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        let mut out = if valid {
            format!("{src} is a valid cloud optimized GeoTIFF\n")
        } else {
            format!("{src} is NOT a valid cloud optimized GeoTIFF\n")
        };
        for (title, lines) in [
            ("The following errors were found:", &v.errors),
            ("The following warnings were found:", &v.warnings),
            ("GDAL's full layout check would also report:", &v.notes),
        ] {
            if !lines.is_empty() {
                out.push_str(&format!("\n{title}\n"));
                for l in lines {
                    out.push_str(&format!("- {l}\n"));
                }
            }
        }
        out
    };
    crate::print_stdout(&text)?;
    Ok(valid)
}
