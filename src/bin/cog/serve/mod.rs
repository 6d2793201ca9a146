//! `cog serve SRC... [--host H] [--port P]`: web-map tiles of one or more
//! COGs over HTTP (axum), with a Leaflet map page, as titiler serves them.
//!
//! Each source gets a name (its file name without extension, made unique)
//! and its routes under `/{name}/`; the first is also served at the root.
//! Tiles are the lazy geo reader's `read_xyz` drawn as PNG or WebP
//! (`picture`); they come through each reader's decoded-tile cache, and at
//! most `--max-concurrent` are read at once (the rest wait up to 30 s,
//! then get 503). Every failure is a JSON `{"detail": ...}` with a 4xx or
//! 5xx status. The viewer's JavaScript (Leaflet, BSD-2-Clause) is compiled
//! into the binary from `assets/` (see `assets/vendor.sh`).

mod routes;

use std::collections::HashMap;
use std::sync::Arc;

use async_cog::{CogReader, Options, Result};
use futures::future::try_join_all;
use tokio::sync::Semaphore;

use crate::picture::valid_range;

/// Arguments of `cog serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Local paths, or file://, http(s)://, s3://, gs://, az:// URLs.
    #[arg(required = true)]
    srcs: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Tiles read at once; more wait.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=4096))]
    max_concurrent: u16,
}

/// One served COG.
pub(crate) struct Source {
    /// Its routes' prefix: `/{name}/`.
    pub name: String,
    /// The reader every request uses.
    pub cog: CogReader,
    /// (minzoom, maxzoom) as rio-tiler gives them.
    pub zooms: (u8, u8),
    /// West, south, east, north in degrees.
    pub lonlat: [f64; 4],
    /// Per-band (min, max) of a 1024-pixel preview, to stretch non-8-bit
    /// data the same way on every tile when a request gives no `rescale`.
    pub auto_rescale: Option<Vec<(f64, f64)>>,
}

/// What every handler shares.
pub(crate) struct AppState {
    pub sources: Vec<Source>,
    pub by_name: HashMap<String, usize>,
    pub permits: Semaphore,
}

/// Names the routes use themselves, which a source cannot take.
const RESERVED: [&str; 6] = ["assets", "tiles", "info", "tilejson.json", "cogs", "point"];

/// File names without extension, made unique with `-2`, `-3`, ...
fn names(srcs: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::new();
    for src in srcs {
        let file = src.trim_end_matches('/').rsplit(['/', '\\']).next().unwrap_or(src);
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        let clean: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let base = if clean.is_empty() || RESERVED.contains(&clean.as_str()) {
            format!("cog_{clean}")
        } else {
            clean
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.push(name);
    }
    taken
}

/// Opens a source and works out what its tiles need.
async fn source(name: String, src: &str, options: Options) -> Result<Source> {
    let cog = CogReader::open_with(src, options).await?;
    let zooms = cog.web_map_zooms()?;
    let b = cog.bounds_in(4326)?;
    let p = cog.profile();
    let auto_rescale = if p.dtype == async_cog::DataType::UInt8 {
        None
    } else {
        // rio-tiler's preview size: at most 1024 pixels a side, read from
        // the overview GDAL would choose.
        let r = cog.preview(1024).await?;
        let (bands, rows, cols) = r.array.shape();
        let values = r.array.data.to_f64_vec();
        let mask: Vec<bool> = r.array.mask.iter().copied().collect();
        let plane = rows * cols;
        Some(
            (0..bands)
                .map(|b| {
                    let span = b * plane..(b + 1) * plane;
                    valid_range(values.get(span.clone()).unwrap_or(&[]), mask.get(span).unwrap_or(&[]))
                        .unwrap_or((0.0, 1.0))
                })
                .collect(),
        )
    };
    Ok(Source {
        name,
        cog,
        zooms,
        lonlat: [b.minx, b.miny, b.maxx, b.maxy],
        auto_rescale,
    })
}

/// Opens every source concurrently, binds, prints the address and serves
/// until the process is stopped.
pub async fn run(args: ServeArgs, options: Options) -> Result<()> {
    // One block cache, one decoded-tile cache and one request budget for
    // all sources: memory and upstream concurrency stay bounded however
    // many files are served.
    let options = options.shared();
    let names = names(&args.srcs);
    let opened = try_join_all(
        names
            .iter()
            .zip(&args.srcs)
            .map(|(name, src)| source(name.clone(), src, options.clone())),
    )
    .await?;
    let by_name = opened.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
    let state = Arc::new(AppState {
        sources: opened,
        by_name,
        permits: Semaphore::new(usize::from(args.max_concurrent)),
    });
    let addr = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| async_cog::Error::InvalidRequest {
            message: format!("cannot listen on {addr}: {e}"),
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| async_cog::Error::Internal(format!("no local address: {e}")))?;
    let mut banner = format!("listening on http://{local}/\n");
    for s in &state.sources {
        banner.push_str(&format!("  http://{local}/{}/  {}\n", s.name, s.cog.url()));
    }
    crate::print_stdout(&banner)?;
    axum::serve(listener, routes::router(state))
        .await
        .map_err(|e| async_cog::Error::Internal(format!("server stopped: {e}")))
}

#[cfg(test)]
mod tests {
    use super::names;

    /// Names are file stems, unique, and never a route of the server.
    #[test]
    fn names_are_unique_stems() {
        let srcs = ["a/b.tif", "s3://x/b.tif", "https://h/tiles.tif", "c"].map(String::from);
        assert_eq!(names(&srcs), ["b", "b-2", "cog_tiles", "c"]);
    }
}
