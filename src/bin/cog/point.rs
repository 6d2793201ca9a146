//! `cog point SRC X Y [--crs EPSG:N] [--json]`: every band's value at a
//! point, as rio-tiler's `point` finds it (the full-resolution pixel
//! under the point), printed as `gdallocationinfo -geoloc` reports it;
//! masked values say so.

use async_cog::{CogReader, Error, Options, Result};
use serde_json::json;

/// EPSG code of "EPSG:4326", "epsg:4326" or "4326".
fn epsg(text: &str) -> Result<u32> {
    let t = text.trim();
    let code = t
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("epsg:"))
        .map_or(t, |_| &t[5..]);
    code.parse().map_err(|_| Error::InvalidRequest {
        message: format!("--crs {text:?}: give EPSG:CODE"),
    })
}

/// Reads the point and prints the report (or JSON).
pub async fn run(src: &str, (x, y): (f64, f64), crs: Option<&str>, as_json: bool, options: Options) -> Result<()> {
    let code = crs.map(epsg).transpose()?;
    let cog = CogReader::open_with(src, options).await?;
    let r = match code {
        Some(c) => cog.point_in(x, y, c).await?,
        None => cog.point(x, y).await?,
    };
    let values = r.array.data.to_f64_vec();
    let masked: Vec<bool> = r.array.mask.iter().copied().collect();
    // The pixel's corner is the 1 x 1 raster's origin.
    let (row, col) = cog
        .profile()
        .transform
        .rowcol(r.transform.c, r.transform.f)
        .map_or((-1, -1), |(row, col)| (row.round() as i64, col.round() as i64));
    let text = if as_json {
        let v: Vec<_> = values
            .iter()
            .zip(&masked)
            .map(|(v, m)| if *m || !v.is_finite() { json!(null) } else { json!(v) })
            .collect();
        let doc = json!({
            "source": cog.url(),
            "coordinates": [x, y],
            "crs": code.map_or_else(|| cog.profile().epsg().map(|c| format!("EPSG:{c}")), |c| Some(format!("EPSG:{c}"))),
            "pixel": [col, row],
            "values": v,
            "mask": masked,
            "band_descriptions": cog.profile().bands.iter().map(|b| b.description.clone()).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        // gdallocationinfo's report.
        let mut out = format!("Report:\n  Location: ({col}P,{row}L)\n");
        for (i, (v, m)) in values.iter().zip(&masked).enumerate() {
            out.push_str(&format!(
                "  Band {}:\n    Value: {v}{}\n",
                i + 1,
                if *m { " (masked)" } else { "" }
            ));
        }
        out
    };
    crate::print_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::epsg;

    /// `--crs` takes EPSG:CODE in any case, or the bare code.
    #[test]
    fn crs_is_an_epsg_code() {
        assert_eq!(epsg("EPSG:4326").ok(), Some(4326));
        assert_eq!(epsg("epsg:32613").ok(), Some(32613));
        assert_eq!(epsg("3857").ok(), Some(3857));
        assert!(epsg("WGS84").is_err());
    }
}
