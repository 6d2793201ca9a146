//! The cases, read with the async-tiff crate (0.4), as its own examples use
//! it: an `ObjectReader` over one object_store store, metadata through its
//! `ReadaheadMetadataCache`, `fetch_tiles` (its own range merging) and
//! `Tile::decode` on the blocking pool. It has no windows, masks or cache:
//! a window is its tiles fetched and decoded (not pasted), a warm tile is
//! fetched and decoded again.

use std::sync::Arc;

use async_tiff::decoder::DecoderRegistry;
use async_tiff::metadata::TiffMetadataReader;
use async_tiff::metadata::cache::ReadaheadMetadataCache;
use async_tiff::reader::{AsyncFileReader, ObjectReader};
use async_tiff::{ImageFileDirectory, TIFF};
use object_store::ObjectStore;
use object_store::path::Path;
use serde_json::{Value, json};

use crate::measure::{Span, decoded, rate};

type Res<T> = Result<T, String>;

fn e<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A store and path for `src` (an http(s) URL or a local path).
fn store(src: &str) -> Res<(Arc<dyn ObjectStore>, Path)> {
    if let Some(rest) = src.strip_prefix("http://").or_else(|| src.strip_prefix("https://")) {
        let (host, path) = rest.split_once('/').ok_or("no path")?;
        let scheme = if src.starts_with("https") { "https" } else { "http" };
        let store = object_store::http::HttpBuilder::new()
            .with_url(format!("{scheme}://{host}"))
            .with_client_options(object_store::ClientOptions::new().with_allow_http(true))
            .build()
            .map_err(e)?;
        Ok((Arc::new(store), Path::from(path)))
    } else {
        let abs = std::fs::canonicalize(src).map_err(e)?;
        let path = Path::from_absolute_path(&abs).map_err(e)?;
        Ok((Arc::new(object_store::local::LocalFileSystem::new()), path))
    }
}

async fn open(reader: &ObjectReader) -> Res<TIFF> {
    let cache = ReadaheadMetadataCache::new(reader.clone());
    let mut meta = TiffMetadataReader::try_open(&cache).await.map_err(e)?;
    meta.read(&cache).await.map_err(e)
}

/// Fetches tiles `xy` of `ifd` in one call and decodes them concurrently on
/// the blocking pool.
async fn fetch_decode(ifd: &ImageFileDirectory, xy: &[(usize, usize)], reader: &ObjectReader) -> Res<usize> {
    let tiles = ifd.fetch_tiles(xy, reader as &dyn AsyncFileReader).await.map_err(e)?;
    let registry = Arc::new(DecoderRegistry::default());
    let handles: Vec<_> = tiles
        .into_iter()
        .map(|t| {
            let r = registry.clone();
            tokio::task::spawn_blocking(move || t.decode(&r).map(|a| a.shape()[0] * a.shape()[1]))
        })
        .collect();
    let mut px = 0;
    for h in handles {
        px += h.await.map_err(e)?.map_err(e)?;
    }
    Ok(px)
}

fn tiles_of(ifd: &ImageFileDirectory, x: u64, y: u64, w: u64, h: u64) -> Res<Vec<(usize, usize)>> {
    let (tw, th) = (
        u64::from(ifd.tile_width().ok_or("not tiled")?),
        u64::from(ifd.tile_height().ok_or("not tiled")?),
    );
    let mut out = Vec::new();
    for ty in y / th..(y + h).div_ceil(th) {
        for tx in x / tw..(x + w).div_ceil(tw) {
            out.push((tx as usize, ty as usize));
        }
    }
    Ok(out)
}

/// Runs `case` on `src`.
pub async fn run(case: &str, src: &str, nums: &[u64]) -> Res<Value> {
    let arg = |i: usize| nums.get(i).copied().ok_or(format!("missing argument {i}"));
    // The store (and its HTTP client) is built inside the timed span of
    // the cases that open, as `CogReader::open(url)` builds its own: a
    // fresh process pays for its client either way.
    let started = Span::start();
    let (store, path) = store(src)?;
    let reader = ObjectReader::new(store, path);
    let mut started = Some(started);
    let mut span_from_store = || started.take().unwrap_or_else(Span::start);
    match case {
        "window" => {
            let span = span_from_store();
            let tiff = open(&reader).await?;
            let ifd = tiff.ifds().first().ok_or("no IFD")?;
            let xy = tiles_of(ifd, arg(0)?, arg(1)?, arg(2)?, arg(3)?)?;
            let px = fetch_decode(ifd, &xy, &reader).await?;
            let mut out = span.stop();
            out["tile_pixels"] = json!(px);
            Ok(out)
        }
        "decode" => {
            let tiff = open(&reader).await?;
            let ifd = tiff.ifds().first().ok_or("no IFD")?;
            let (w, h) = (u64::from(ifd.image_width()), u64::from(ifd.image_height()));
            let xy = tiles_of(ifd, 0, 0, w, h)?;
            let span = Span::start();
            fetch_decode(ifd, &xy, &reader).await?;
            let mut out = span.stop();
            decoded(&mut out, w, h);
            Ok(out)
        }
        "warm_tile" => {
            let (x, y, n) = (arg(0)? as usize, arg(1)? as usize, arg(2)?);
            let tiff = Arc::new(open(&reader).await?);
            fetch_decode(tiff.ifds().first().ok_or("no IFD")?, &[(x, y)], &reader).await?;
            let span = Span::start();
            let tasks = 64.min(n.max(1));
            let per = n.div_ceil(tasks);
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let (tiff, reader) = (tiff.clone(), reader.clone());
                    tokio::spawn(async move {
                        for _ in 0..per {
                            fetch_decode(&tiff.ifds()[0], &[(x, y)], &reader).await?;
                        }
                        Ok::<_, String>(())
                    })
                })
                .collect();
            for h in handles {
                h.await.map_err(e)??;
            }
            let mut out = span.stop();
            out["tiles"] = json!(per * tasks);
            rate(&mut out, "tiles_per_s", (per * tasks) as f64, "wall_ms");
            Ok(out)
        }
        "opens" => {
            let (n, c) = (arg(0)?, arg(1)?);
            let sem = Arc::new(tokio::sync::Semaphore::new(c.max(1) as usize));
            let span = span_from_store();
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let (sem, reader) = (sem.clone(), reader.clone());
                    tokio::spawn(async move {
                        let _p = sem.acquire().await.map_err(e)?;
                        open(&reader).await.map(|_| ())
                    })
                })
                .collect();
            for h in handles {
                h.await.map_err(e)??;
            }
            let mut out = span.stop();
            out["opens"] = json!(n);
            rate(&mut out, "opens_per_s", n as f64, "wall_ms");
            Ok(out)
        }
        "one_tile" => {
            let (x, y) = (arg(0)? as usize, arg(1)? as usize);
            let span = span_from_store();
            let tiff = open(&reader).await?;
            fetch_decode(tiff.ifds().first().ok_or("no IFD")?, &[(x, y)], &reader).await?;
            Ok(span.stop())
        }
        other => Err(format!("unknown case {other}")),
    }
}
