//! Tile reads: the chunks of the tiles asked for are fetched in one batch
//! of merged requests through the block cache, and each tile is decoded on
//! the blocking pool as soon as its bytes have landed, at most one tile per
//! core at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::decode::DecodeContext;
use crate::error::{Error, Location, Result};
use crate::geo::Window;
use crate::levels::Level;
use crate::plan::{BlockIndex, TilePlan};
use crate::raster::{MaskedArray, Nodata};
use crate::request::{Placement, Raster};
use crate::source::TileKey;
use crate::tiff::{Limits, RangeBuffers, Value};

use super::CogReader;

impl CogReader {
    /// Block (tile or strip) (x, y) of level `z` (0 = full resolution), as
    /// stored: the data in the file's own type with shape (bands, block
    /// height, block width), edge blocks padded as stored, its mask (`true`
    /// = invalid) and its transform. An alpha band that serves as the mask
    /// is not returned as data. One request when the mask is interleaved
    /// with the image (or there is no mask), else the image and mask chunks
    /// are fetched concurrently; decoding runs on the blocking pool.
    ///
    /// These are the file's own blocks, not web-map tiles.
    pub async fn read_block(&self, z: usize, x: u64, y: u64) -> Result<Raster> {
        let mut blocks = self.read_blocks(z, &[(x, y)]).await?;
        blocks.pop().ok_or_else(|| Error::Internal("no block decoded".into()))
    }

    /// aiocogeo's name for [`CogReader::read_block`], in its argument order:
    /// block (x, y) of level z, where z = 0 is full resolution (not a
    /// web-map zoom level).
    pub async fn get_tile(&self, x: u64, y: u64, z: usize) -> Result<Raster> {
        self.read_block(z, x, y).await
    }

    /// Several blocks of level `z` at once: every chunk (image and mask)
    /// they need is fetched in one batch of merged, concurrent requests
    /// through the block cache, then they decode in parallel on the
    /// blocking pool. Returned in the order asked; a block asked for twice
    /// is decoded once.
    pub async fn read_blocks(&self, z: usize, blocks: &[(u64, u64)]) -> Result<Vec<Raster>> {
        let mut distinct = blocks.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let decoded: Vec<Arc<MaskedArray>> = self.decode_tiles(&distinct, z, false, None, |_, _, t| Ok(t)).await?;
        let level = self.level(z)?;
        let (bw, bh) = (level.image.block_width, level.image.block_height);
        let p = self.profile();
        let t = p.transform.decimated(level.decimation.0, level.decimation.1);
        blocks
            .iter()
            .map(|xy| {
                // A block asked for twice is one shared array.
                let array = distinct
                    .binary_search(xy)
                    .ok()
                    .and_then(|i| decoded.get(i))
                    .cloned()
                    .ok_or_else(|| Error::Internal(format!("block {xy:?} was not decoded")))?;
                let (col, row) = (xy.0.saturating_mul(bw), xy.1.saturating_mul(bh));
                let window = Window::from_f64(col as f64, row as f64, bw as f64, bh as f64);
                let (_, rows, cols) = array.shape();
                let at = Placement {
                    transform: window.transform(&t, cols, rows),
                    crs: p.crs.clone(),
                    level: z,
                    nodata: p.nodata,
                    fill_value: p.nodata.unwrap_or(Nodata::Float(self.options().fill_value())),
                };
                Ok(Raster::new(array, at))
            })
            .collect()
    }

    /// Fetches the tiles of level `z` (one batch of merged requests through
    /// the block cache), decodes each on the blocking pool and hands it to
    /// `then(x, y, tile)` there, so that consumers paste in parallel with
    /// the decoding of other tiles. Tiles in the decoded-tile cache are
    /// neither fetched nor decoded; concurrent reads of one tile share its
    /// decode. At most one tile per core decodes at a time; results come
    /// back in the order of `tiles`.
    pub(crate) async fn decode_tiles<T, F>(
        &self,
        tiles: &[(u64, u64)],
        z: usize,
        mask_only: bool,
        progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
        then: F,
    ) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(u64, u64, Arc<MaskedArray>) -> Result<T> + Send + Sync + 'static,
    {
        let level = Arc::new(self.level(z)?.clone());
        self.check_tile_budget(&level, tiles.len())?;
        // Only a level with a mask can lend it without its image blocks.
        let mask_only = mask_only && level.mask.is_some();
        let tile_cache = self.inner.tile_cache.clone();
        let object = self.inner.source.object_id();
        let key = |x: u64, y: u64| TileKey {
            object: object.clone(),
            ifd: level.image.ifd,
            x,
            y,
            mask_only,
        };
        let mut cached = HashMap::new();
        if let Some(cache) = &tile_cache {
            for &(x, y) in tiles {
                if let Some(t) = cache.get(&key(x, y)).await {
                    cached.insert((x, y), t);
                }
            }
        }
        let missing: Vec<(u64, u64)> = tiles.iter().copied().filter(|xy| !cached.contains_key(xy)).collect();
        let mut plans = HashMap::new();
        let mut arrivals = None;
        if !missing.is_empty() {
            for (x, y, plan) in self.plan_tiles(&level, &missing, mask_only).await? {
                plans.insert((x, y), plan);
            }
            let ranges: Vec<_> = plans.values().flat_map(TilePlan::chunk_ranges).collect();
            arrivals = Some(self.inner.fetcher.start(&ranges).await?);
        }
        let arrivals = arrivals.as_ref();
        let ctx = Arc::new(self.decode_context(&level));
        let total = tiles.len() as u64;
        let done = AtomicU64::new(0);
        let slots = tokio::sync::Semaphore::new(decode_slots());
        let then = Arc::new(then);
        // One tile handed over from the cache needs no thread of its own.
        let inline = tiles.len() == 1 && cached.len() == 1;
        let jobs = tiles.iter().map(|&(x, y)| {
            let hit = cached.get(&(x, y)).cloned();
            let plan = plans.remove(&(x, y));
            let (level, ctx, then) = (level.clone(), ctx.clone(), then.clone());
            let (reader, done, progress, slots) = (self.clone(), &done, progress.clone(), &slots);
            let (cache, key) = (tile_cache.clone(), key(x, y));
            async move {
                // A slot is taken once the tile's bytes have landed and
                // kept until it is handed on, so that decoded tiles do not
                // pile up waiting to be pasted.
                let (tile, slot) = match (hit, plan) {
                    (Some(t), _) => (t, None),
                    (None, Some(plan)) => {
                        let chunks = plan.chunk_ranges();
                        let buffers = match arrivals {
                            Some(a) => a.take(&chunks).await?,
                            None => RangeBuffers::new(),
                        };
                        let slot = slots.acquire().await.ok();
                        let decode = async move {
                            tokio::task::spawn_blocking(move || {
                                let started = thread_cpu_nanos();
                                let tile = plan.decode(&level, &buffers, &ctx);
                                reader
                                    .inner
                                    .decode_nanos
                                    .fetch_add(thread_cpu_nanos().saturating_sub(started), Ordering::Relaxed);
                                reader.inner.tiles_decoded.fetch_add(1, Ordering::Relaxed);
                                tile
                            })
                            .await
                            .map_err(|e| Error::Internal(format!("tile decoding task failed: {e}")))?
                        };
                        let tile = match &cache {
                            Some(cache) => cache.get_or_decode(key, decode).await?,
                            None => Arc::new(decode.await?),
                        };
                        (tile, slot)
                    }
                    (None, None) => return Err(Error::Internal(format!("tile ({x}, {y}) was not planned"))),
                };
                let r = if inline {
                    then(x, y, tile)
                } else {
                    let _slot = match slot {
                        Some(s) => Some(s),
                        None => slots.acquire().await.ok(),
                    };
                    tokio::task::spawn_blocking(move || then(x, y, tile))
                        .await
                        .map_err(|e| Error::Internal(format!("tile task failed: {e}")))?
                };
                if let Some(p) = progress {
                    p(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
                r
            }
        });
        // Every tile waits for its bytes at once; results come in order.
        futures::future::try_join_all(jobs).await
    }

    /// The fetch and decode plan of each tile of `tiles` at `level`. Only
    /// the block-array entries these tiles need are loaded (see `pages`).
    async fn plan_tiles(
        &self,
        level: &Level,
        tiles: &[(u64, u64)],
        mask_only: bool,
    ) -> Result<Vec<(u64, u64, TilePlan)>> {
        let img = &level.image;
        let across = img.blocks_across();
        let plane = across.saturating_mul(img.blocks_down());
        let blocks: Vec<u64> = tiles
            .iter()
            .map(|&(x, y)| y.saturating_mul(across).saturating_add(x))
            .collect();
        let as_index = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let image_entries: Vec<usize> = if img.strip_chop.is_some() {
            vec![0]
        } else if img.planar_config == crate::tiff::PlanarConfig::Planar {
            (0..u64::from(img.samples_per_pixel))
                .flat_map(|b| {
                    blocks
                        .iter()
                        .map(move |&i| as_index(b.saturating_mul(plane).saturating_add(i)))
                })
                .collect()
        } else {
            blocks.iter().map(|&i| as_index(i)).collect()
        };
        let mask_entries: Vec<usize> = blocks.iter().map(|&i| as_index(i)).collect();
        let image_arrays = match mask_only {
            true => None,
            false => Some((
                self.array_entries(img.ifd, img.offsets_tag(), &image_entries).await?,
                self.array_entries(img.ifd, img.byte_counts_tag(), &image_entries)
                    .await?,
            )),
        };
        let mask_arrays = match &level.mask {
            Some(m) => Some((
                self.array_entries(m.ifd, m.offsets_tag(), &mask_entries).await?,
                self.array_entries(m.ifd, m.byte_counts_tag(), &mask_entries).await?,
            )),
            None => None,
        };
        let image_guards = image_arrays.as_ref().map(|(o, c)| (o.read(), c.read()));
        let mask_guards = mask_arrays.as_ref().map(|(o, c)| (o.read(), c.read()));
        tiles
            .iter()
            .map(|&(x, y)| {
                let index = image_guards.as_ref().map(|(o, c)| BlockIndex { offsets: o, counts: c });
                let mask_index = mask_guards.as_ref().map(|(o, c)| BlockIndex { offsets: o, counts: c });
                TilePlan::new(
                    level,
                    x,
                    y,
                    index,
                    mask_index,
                    self.ghost_area(),
                    self.inner.source.size(),
                )
                .map(|p| (x, y, p))
                .map_err(|e| e.with_source(self.url()))
            })
            .collect()
    }

    /// Refuses, before anything is fetched or allocated, blocks larger than
    /// `max_block_bytes` and reads whose tiles could hold more than
    /// `max_read_bytes` decoded, or number more than `max_read_tiles`.
    fn check_tile_budget(&self, level: &Level, tiles: usize) -> Result<()> {
        let limits = self.options().limits();
        let loc = |ifd: usize| Location::new().source(self.url()).ifd(ifd);
        let mut block = 0;
        for image in std::iter::once(&level.image).chain(level.mask.as_ref()) {
            block += Limits::check(
                "max_block_bytes",
                image.decoded_block_bytes(),
                limits.max_block_bytes,
                loc(image.ifd).tag(crate::tiff::Tag::TileWidth),
            )?;
        }
        let tiles = tiles as u64;
        let at = loc(level.image.ifd);
        Limits::check("max_read_tiles", Some(tiles), limits.max_read_tiles, at.clone())?;
        Limits::check("max_read_bytes", tiles.checked_mul(block), limits.max_read_bytes, at)?;
        Ok(())
    }

    fn decode_context(&self, level: &Level) -> DecodeContext {
        let p = self.profile();
        let tables = |ifd: usize| match self.ifds().get(ifd).and_then(|i| i.value(crate::tiff::Tag::JPEGTables)) {
            Some(Value::Undefined(b) | Value::Byte(b)) => Some(b.clone()),
            _ => None,
        };
        DecodeContext {
            url: self.url().to_string(),
            byte_order: self.tiff().header.byte_order,
            count: p.count,
            mask_source: p.mask,
            nodata: p.nodata,
            alpha_band: p.alpha_band,
            jpeg_tables: tables(level.image.ifd),
            mask_jpeg_tables: level.mask.as_ref().and_then(|m| tables(m.ifd)),
        }
    }
}

/// CPU time of the calling thread, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`),
/// so that decoding time is CPU time even when threads wait for a core.
#[cfg(unix)]
fn thread_cpu_nanos() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; the call only writes it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return 0;
    }
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

/// Elsewhere, wall time since the first call stands in for CPU time.
#[cfg(not(unix))]
fn thread_cpu_nanos() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_nanos() as u64
}

/// Tiles decoding at once: one per core (the blocking pool would otherwise
/// start a thread per tile of a large read). Asked once: the answer reads
/// cgroup files.
fn decode_slots() -> usize {
    static SLOTS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}
