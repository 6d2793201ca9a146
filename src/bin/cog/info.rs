//! `cog info`: a COG's profile, georeferencing, IFDs, masks and ghost area,
//! as text for people (like `rio cogeo info`) or as one JSON object whose
//! schema README.md documents.

use async_cog::tiff::{EntryValue, Value};
use async_cog::{CogReader, Level, Nodata, Options, Profile, Result};
use serde_json::{Value as Json, json};

/// Most elements of one tag value printed in JSON before truncating.
const MAX_JSON_VALUES: usize = 64;

/// Tile byte-count statistics of one level.
struct TileBytes {
    min: u64,
    max: u64,
    mean: f64,
    sparse: usize,
}

pub async fn run(src: &str, options: Options, as_json: bool) -> Result<()> {
    let cog = CogReader::open_with(src, options).await?;
    // Validation loads every image's offsets and byte counts at once (one
    // request at most past the header); the tile statistics reuse them.
    // A file too large to validate within the limits is still described.
    let verdict = crate::validate::verdict(&cog, src).await.map_err(|e| e.to_string());
    let mut stats = Vec::new();
    for level in cog.levels() {
        stats.push(tile_bytes(&cog, level).await?);
    }
    let text = if as_json {
        let doc = to_json(&cog, &stats, &verdict);
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        text_report(&cog, &stats, &verdict)
    };
    crate::print_stdout(&text)
}

async fn tile_bytes(cog: &CogReader, level: &Level) -> Result<TileBytes> {
    let counts = cog.block_byte_counts(level.image.ifd).await?;
    let used = counts.get(..level.image.block_count as usize).unwrap_or(&counts);
    let present: Vec<u64> = used.iter().copied().filter(|&c| c > 0).collect();
    Ok(TileBytes {
        min: present.iter().copied().min().unwrap_or(0),
        max: present.iter().copied().max().unwrap_or(0),
        mean: if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<u64>() as f64 / present.len() as f64
        },
        sparse: used.len() - present.len(),
    })
}

fn nodata_json(v: Option<Nodata>) -> Json {
    let v = match v {
        None => return Json::Null,
        Some(Nodata::Int(i)) => return json!(i),
        Some(Nodata::UInt(u)) => return json!(u),
        Some(Nodata::Float(x)) => Some(x),
    };
    match v {
        None => Json::Null,
        Some(x) if x.is_nan() => json!("nan"),
        Some(x) if x == f64::INFINITY => json!("inf"),
        Some(x) if x == f64::NEG_INFINITY => json!("-inf"),
        Some(x) => json!(x),
    }
}

fn value_json(v: &Value) -> Json {
    fn list<T: Into<Json> + Clone>(v: &[T]) -> Json {
        Json::Array(v.iter().take(MAX_JSON_VALUES).cloned().map(Into::into).collect())
    }
    match v {
        Value::Ascii(s) => json!(s),
        Value::Byte(x) | Value::Undefined(x) => list(x),
        Value::SByte(x) => list(x),
        Value::Short(x) => list(x),
        Value::SShort(x) => list(x),
        Value::Long(x) | Value::Ifd(x) => list(x),
        Value::SLong(x) => list(x),
        Value::Long8(x) | Value::Ifd8(x) => list(x),
        Value::SLong8(x) => list(x),
        Value::Float(x) => list(&x.iter().map(|&f| f64::from(f)).collect::<Vec<_>>()),
        Value::Double(x) => list(x),
        Value::Rational(x) => Json::Array(x.iter().take(MAX_JSON_VALUES).map(|&(n, d)| json!([n, d])).collect()),
        Value::SRational(x) => Json::Array(x.iter().take(MAX_JSON_VALUES).map(|&(n, d)| json!([n, d])).collect()),
        _ => Json::Null,
    }
}

fn ifd_kind(cog: &CogReader, ifd: usize) -> String {
    for l in cog.levels() {
        if l.image.ifd == ifd {
            return if l.z == 0 {
                "image".into()
            } else {
                format!("overview {}", l.z)
            };
        }
        if l.mask.as_ref().is_some_and(|m| m.ifd == ifd) {
            return if l.z == 0 {
                "mask".into()
            } else {
                format!("mask of overview {}", l.z)
            };
        }
    }
    "other".into()
}

/// gdalinfo's corner names and the pixel (col, row) of each.
fn corner_pixels(p: &Profile) -> [(&'static str, f64, f64); 5] {
    let (w, h) = (p.width as f64, p.height as f64);
    [
        ("upperLeft", 0.0, 0.0),
        ("lowerLeft", 0.0, h),
        ("upperRight", w, 0.0),
        ("lowerRight", w, h),
        ("center", w / 2.0, h / 2.0),
    ]
}

/// The corners in the file's CRS (pixel and line without a transform),
/// and in longitude and latitude when the CRS can be transformed.
/// Named points: (gdalinfo's corner name, [x, y]).
type Corners = Vec<(&'static str, [f64; 2])>;

fn corners(p: &Profile) -> (Corners, Option<Vec<[f64; 2]>>) {
    let map: Corners = corner_pixels(p)
        .iter()
        .map(|&(name, c, r)| {
            let (x, y) = p.transform.apply(c, r);
            (name, [x, y])
        })
        .collect();
    let lonlat = p
        .crs
        .as_ref()
        .filter(|_| p.georeferenced)
        .and_then(|crs| async_cog::geo::CrsTransform::new(4326, crs).ok())
        .map(|t| {
            let mut xs: Vec<f64> = map.iter().map(|(_, c)| c[0]).collect();
            let mut ys: Vec<f64> = map.iter().map(|(_, c)| c[1]).collect();
            t.inverse(&mut xs, &mut ys);
            xs.into_iter().zip(ys).map(|(x, y)| [x, y]).collect::<Vec<_>>()
        })
        .filter(|v: &Vec<[f64; 2]>| v.iter().all(|c| c[0].is_finite() && c[1].is_finite()));
    (map, lonlat)
}

/// The verdict, or why there is none.
type Verdict = std::result::Result<async_cog::Verdict, String>;

fn to_json(cog: &CogReader, stats: &[TileBytes], verdict: &Verdict) -> Json {
    let p: &Profile = cog.profile();
    let levels: Vec<Json> = cog
        .levels()
        .iter()
        .zip(stats)
        .map(|(l, s)| {
            json!({
                "z": l.z,
                "ifd": l.image.ifd,
                "width": l.width(),
                "height": l.height(),
                "blockxsize": l.image.block_width,
                "blockysize": l.image.block_height,
                "decimation": [l.decimation.0, l.decimation.1],
                "compress": l.image.compression_name(),
                "mask_ifd": l.mask.as_ref().map(|m| m.ifd),
                "tiles": l.image.block_count,
                "tile_bytes": {"min": s.min, "max": s.max, "mean": s.mean, "sparse": s.sparse},
            })
        })
        .collect();
    let ifds: Vec<Json> = cog
        .ifds()
        .iter()
        .map(|ifd| {
            let tags: Vec<Json> = ifd
                .entries
                .iter()
                .map(|e| {
                    let (value, truncated) = match &e.value {
                        EntryValue::Loaded(v) => (value_json(v), v.len() > MAX_JSON_VALUES && v.as_str().is_none()),
                        EntryValue::Deferred { offset, len } => (json!({"deferred": {"offset": offset, "length": len}}), false),
                        _ => (Json::Null, false),
                    };
                    json!({
                        "code": e.tag.code(),
                        "name": e.name(),
                        "type": e.field_type.map_or_else(|| format!("UNKNOWN({})", e.type_code), |t| t.name().to_string()),
                        "count": e.count,
                        "value": value,
                        "truncated": truncated,
                    })
                })
                .collect();
            json!({
                "index": ifd.index,
                "offset": ifd.offset,
                "kind": ifd_kind(cog, ifd.index),
                "width": ifd.u64(async_cog::tiff::Tag::ImageWidth),
                "height": ifd.u64(async_cog::tiff::Tag::ImageLength),
                "tags": tags,
            })
        })
        .collect();
    let geokeys: Vec<Json> = p
        .crs
        .as_ref()
        .map(|c| {
            c.geokeys
                .keys
                .iter()
                .map(|k| {
                    let value = match &k.value {
                        async_cog::geo::GeoKeyValue::Short(v) => json!(v),
                        async_cog::geo::GeoKeyValue::Double(v) => json!(v),
                        async_cog::geo::GeoKeyValue::Ascii(s) => json!(s),
                        _ => Json::Null,
                    };
                    json!({"id": k.id.code(), "name": k.name(), "value": value})
                })
                .collect()
        })
        .unwrap_or_default();
    let ghost = cog
        .ghost_area()
        .map(|g| Json::Object(g.entries.iter().map(|(k, v)| (k.clone(), json!(v))).collect()));
    let total = cog.stats();
    let open = cog.open_stats();
    let (corner_map, lonlat) = corners(p);
    json!({
        "source": cog.url(),
        "width": p.width,
        "height": p.height,
        "count": p.count,
        "dtype": p.dtype.name(),
        "transform": p.transform.to_array(),
        "crs": p.crs.as_ref().map(|c| c.to_string_short()),
        "epsg": p.epsg(),
        "nodata": nodata_json(p.nodata),
        "blockxsize": p.blockxsize,
        "blockysize": p.blockysize,
        "tiled": p.tiled,
        "compress": p.compress_name(),
        "interleave": p.interleave.name(),
        "photometric": p.photometric.map(|x| x.to_string()),
        "bounds": p.bounds.to_array(),
        "res": [p.res.0, p.res.1],
        "overviews": p.overviews,
        "levels": levels,
        "mask": p.mask.map(|m| m.name()),
        "alpha_band": p.alpha_band.map(|a| a + 1),
        "bands": p.bands.iter().zip(&p.colorinterp).map(|(b, ci)| json!({"description": b.description, "scale": b.scale, "offset": b.offset, "colorinterp": ci})).collect::<Vec<_>>(),
        "corners": Json::Object(corner_map.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()),
        "lonlat_corners": lonlat.as_ref().map(|ll| Json::Object(corner_map.iter().zip(ll).map(|((k, _), v)| (k.to_string(), json!(v))).collect())),
        "proj4": p.epsg().and_then(async_cog::geo::proj4_of_epsg),
        "file_size": cog.object().size,
        "cog": match verdict {
            Ok(v) => json!({"valid": v.is_valid(false), "errors": v.errors, "warnings": v.warnings, "gdal_notes": v.notes}),
            Err(e) => json!({"valid": null, "error": e}),
        },
        "metadata": p.metadata,
        "colormap": p.colormap.as_ref().map(|c| c.len()),
        "pixel_is_point": p.raster_type == async_cog::geo::RasterType::PixelIsPoint,
        "georeferenced": p.georeferenced,
        "geokeys": geokeys,
        "bigtiff": cog.tiff().header.bigtiff,
        "byte_order": if cog.tiff().header.byte_order == async_cog::tiff::ByteOrder::BigEndian { "big" } else { "little" },
        "ghost_area": ghost,
        "ifds": ifds,
        "requests": {
            "count": total.requests,
            "bytes": total.bytes,
            "open_count": open.requests,
            "open_bytes": open.bytes,
        },
    })
}

/// `writeln!` into a String (which cannot fail).
macro_rules! say {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// rio-cogeo's verdict in one line.
fn verdict_line(v: &Verdict) -> String {
    let v = match v {
        Ok(v) => v,
        Err(e) => return format!("unknown ({e})"),
    };
    let warnings = match v.warnings.len() {
        0 => String::new(),
        1 => ", 1 warning".into(),
        n => format!(", {n} warnings"),
    };
    match v.errors.first() {
        None => format!("valid (rio-cogeo's rules{warnings}; see cog validate)"),
        Some(e) => format!("NOT valid: {e} ({} errors{warnings}; see cog validate)", v.errors.len()),
    }
}

/// Degrees, minutes and seconds as gdalinfo prints them (GDALDecToDMS,
/// two decimals): `105d 0' 0.00"W`.
fn dms(angle: f64, positive: &str, negative: &str) -> String {
    let eps = 0.5 / 3600.0 * 0.01;
    let a = angle.abs() + eps;
    let degrees = a.trunc();
    let minutes = ((a - degrees) * 60.0).trunc();
    let mut seconds = a * 3600.0 - degrees * 3600.0 - minutes * 60.0;
    if seconds > eps * 3600.0 {
        seconds -= eps * 3600.0;
    }
    let hemisphere = if angle < 0.0 { negative } else { positive };
    format!(
        "{:3}d{:2}'{:5.2}\"{hemisphere}",
        degrees as i64, minutes as i64, seconds
    )
}

fn fmt_f(v: f64) -> String {
    let s = format!("{v:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" { "0".into() } else { s.into() }
}

/// The text report, as one string (written at once, so that a closed pipe
/// is noticed in one place).
fn text_report(cog: &CogReader, stats: &[TileBytes], verdict: &Verdict) -> String {
    let mut out = String::new();
    let p = cog.profile();
    let yes = |b: bool| if b { "yes" } else { "no" };
    let layout = cog
        .ghost_area()
        .and_then(|g| g.layout.as_ref())
        .map_or("none declared", |l| l.as_str());
    say!(out, "File:          {}", cog.url());
    say!(
        out,
        "Format:        {} ({}-endian), layout {layout}",
        if cog.tiff().header.bigtiff { "BigTIFF" } else { "TIFF" },
        if cog.tiff().header.byte_order == async_cog::tiff::ByteOrder::BigEndian {
            "big"
        } else {
            "little"
        }
    );
    say!(out, "Compression:   {}", p.compress_name());
    if let Some(size) = cog.object().size {
        say!(out, "Size:          {size} bytes");
    }
    say!(out, "COG:           {}", verdict_line(verdict));
    say!(
        out,
        "Photometric:   {}",
        p.photometric.map_or("-".to_string(), |x| x.to_string())
    );
    say!(out);
    say!(out, "Profile");
    say!(out, "    Width:         {}", p.width);
    say!(out, "    Height:        {}", p.height);
    say!(
        out,
        "    Bands:         {}{}",
        p.count,
        if p.samples != p.count {
            format!(" (+ alpha, {} samples)", p.samples)
        } else {
            String::new()
        }
    );
    say!(out, "    Dtype:         {}", p.dtype);
    say!(
        out,
        "    NoData:        {}",
        p.nodata.map_or("none".into(), |n| match n {
            Nodata::Float(v) => fmt_f(v),
            n => n.to_string(),
        })
    );
    say!(out, "    Tiled:         {}", yes(p.tiled));
    say!(out, "    Block size:    {}x{}", p.blockxsize, p.blockysize);
    say!(out, "    Interleave:    {}", p.interleave.name());
    say!(
        out,
        "    Mask:          {}",
        p.mask.map_or("none (all valid)", |m| m.name())
    );
    say!(
        out,
        "    ColorMap:      {}",
        p.colormap
            .as_ref()
            .map_or("no".into(), |c| format!("{} entries", c.len()))
    );
    for (i, (b, ci)) in p.bands.iter().zip(&p.colorinterp).enumerate() {
        let mut line = ci.clone();
        if let Some(d) = &b.description {
            line.push_str(&format!(" {d:?}"));
        }
        if b.scale.is_some() || b.offset.is_some() {
            line.push_str(&format!(
                " scale {} offset {}",
                b.scale.map_or("-".into(), fmt_f),
                b.offset.map_or("-".into(), fmt_f)
            ));
        }
        say!(
            out,
            "    Band {}:{:width$}{line}",
            i + 1,
            "",
            width = 9usize.saturating_sub(digits(i + 1))
        );
    }
    say!(out);
    say!(out, "Geo");
    say!(
        out,
        "    CRS:           {}",
        p.crs.as_ref().map_or("none".into(), |c| c.to_string_short())
    );
    if let Some(proj) = p.epsg().and_then(async_cog::geo::proj4_of_epsg) {
        say!(out, "    PROJ:          {proj}");
    }
    if p.georeferenced {
        say!(
            out,
            "    Origin:        ({}, {})",
            fmt_f(p.transform.c),
            fmt_f(p.transform.f)
        );
        say!(out, "    Resolution:    ({}, {})", fmt_f(p.res.0), fmt_f(p.res.1));
        let b = p.bounds;
        say!(
            out,
            "    Bounds:        ({}, {}, {}, {})",
            fmt_f(b.minx),
            fmt_f(b.miny),
            fmt_f(b.maxx),
            fmt_f(b.maxy)
        );
        if p.raster_type == async_cog::geo::RasterType::PixelIsPoint {
            say!(
                out,
                "    Raster type:   PixelIsPoint (origin shifted to the pixel corner, as GDAL does)"
            );
        }
    } else {
        say!(
            out,
            "    Transform:     none (identity){}",
            if p.gcps.is_empty() {
                String::new()
            } else {
                format!(", {} GCPs", p.gcps.len())
            }
        );
    }
    say!(out);
    say!(out, "Corner Coordinates");
    let (map, lonlat) = corners(p);
    let geographic = p.crs.as_ref().is_some_and(|c| c.model_type == Some(2));
    for (i, (name, [x, y])) in map.iter().enumerate() {
        let label = match *name {
            "upperLeft" => "Upper Left ",
            "lowerLeft" => "Lower Left ",
            "upperRight" => "Upper Right",
            "lowerRight" => "Lower Right",
            _ => "Center     ",
        };
        let at = if geographic {
            format!("({x:12.7},{y:12.7})")
        } else {
            format!("({x:12.3},{y:12.3})")
        };
        let ll = lonlat.as_ref().and_then(|ll| ll.get(i)).map_or(String::new(), |c| {
            format!(" ({},{})", dms(c[0], "E", "W"), dms(c[1], "N", "S"))
        });
        say!(out, "    {label} {at}{ll}");
    }
    say!(out);
    say!(out, "Levels");
    say!(
        out,
        "    {:<3} {:<4} {:<13} {:<11} {:<13} {:<6} {:<5} {:>10}",
        "z",
        "IFD",
        "size",
        "block",
        "compression",
        "mask",
        "tiles",
        "tile bytes min/max/mean"
    );
    for (l, s) in cog.levels().iter().zip(stats) {
        say!(
            out,
            "    {:<3} {:<4} {:<13} {:<11} {:<13} {:<6} {:<5} {}/{}/{:.0}{}",
            l.z,
            l.image.ifd,
            format!("{}x{}", l.width(), l.height()),
            format!("{}x{}", l.image.block_width, l.image.block_height),
            l.image.compression_name(),
            l.mask.as_ref().map_or("-".into(), |m| format!("IFD {}", m.ifd)),
            l.image.block_count,
            s.min,
            s.max,
            s.mean,
            if s.sparse > 0 {
                format!(" ({} sparse)", s.sparse)
            } else {
                String::new()
            }
        );
    }
    if let Some(g) = cog.ghost_area() {
        say!(out);
        say!(out, "GDAL structural metadata");
        for (k, v) in &g.entries {
            say!(out, "    {k}={v}");
        }
    }
    let open = cog.open_stats();
    let total = cog.stats();
    say!(out);
    say!(
        out,
        "Requests:      {} GET, {} bytes to open; {} GET, {} bytes in all",
        open.requests,
        open.bytes,
        total.requests,
        total.bytes
    );
    out
}

#[cfg(test)]
mod tests {
    use super::dms;

    /// GDAL 3.6's `gdal.DecToDMS(angle, axis, 2)` for these angles.
    #[test]
    fn dms_is_gdalinfo_s() {
        assert_eq!(dms(-105.0, "E", "W"), "105d 0' 0.00\"W");
        assert_eq!(dms(40.6508565, "N", "S"), " 40d39' 3.08\"N");
        assert_eq!(dms(-104.955077, "E", "W"), "104d57'18.28\"W");
        assert_eq!(dms(-0.5, "N", "S"), "  0d30' 0.00\"S");
        assert_eq!(dms(179.99999, "E", "W"), "179d59'59.96\"E");
    }
}
