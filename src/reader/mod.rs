//! [`CogReader`]: the public face of the crate, a thin async loop over the
//! pure layers: plan (what to read) → fetch (the one byte path) → decode
//! (on the blocking pool) → paste.
//!
//! Opening ([`open`]) is one GET of the header; tag arrays ([`arrays`]) load
//! on first use; tile reads ([`tiles`]) and window reads ([`read`]) run
//! plans from [`crate::plan`].
//!
//! A `CogReader` is `Clone + Send + Sync` (an `Arc` inside): parse once,
//! share everywhere. May use every layer below it; nothing imports it.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::options::Options;
use crate::profile::Profile;
use crate::source::Fetcher;
use crate::source::{BlockCache, TileCache};
use crate::source::{ByteSource, ObjectInfo, RequestStats};
use crate::tiff::{GhostArea, Ifd, Tag, TiffFile};

mod arrays;
mod open;
mod pages;
mod read;
mod spec;
mod tiles;
mod validate;

pub use spec::{HeaderSnapshot, ReaderSpec};

/// A tag array, set once by `load_tag_arrays` (which alone fetches).
type ArrayCell = Arc<std::sync::OnceLock<Arc<Vec<u64>>>>;

/// What a reader has cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadStats {
    /// GET requests (opening included).
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Block lookups served by the cache (a shared cache counts every reader's).
    pub cache_hits: u64,
    /// Block lookups the cache could not serve.
    pub cache_misses: u64,
    /// Wall time reads spent waiting for bytes (cache lookups included).
    pub waiting: Duration,
    /// CPU time spent decoding tiles, summed over threads.
    pub decoding: Duration,
    /// Tiles decoded (each decode once, however many reads shared it).
    pub tiles_decoded: u64,
    /// Tile lookups served by the decoded-tile cache (a shared cache counts
    /// every reader's).
    pub tile_cache_hits: u64,
    /// Tile lookups the decoded-tile cache could not serve.
    pub tile_cache_misses: u64,
}

struct Inner {
    source: Arc<ByteSource>,
    fetcher: Fetcher,
    /// The decoded-tile cache, when on.
    tile_cache: Option<Arc<TileCache>>,
    decode_nanos: AtomicU64,
    tiles_decoded: AtomicU64,
    options: Options,
    tiff: TiffFile,
    levels: Vec<Level>,
    profile: Profile,
    open_stats: RequestStats,
    arrays: Mutex<HashMap<(usize, Tag), ArrayCell>>,
    /// Deferred block arrays being loaded page by page.
    paged: Mutex<HashMap<(usize, Tag), pages::SharedPages>>,
    /// Bytes of deferred arrays decoded so far (against `max_deferred_bytes`).
    deferred_bytes: AtomicU64,
}

/// An open COG. Cheap to clone; clones share metadata, caches and counters.
#[derive(Clone)]
pub struct CogReader {
    inner: Arc<Inner>,
}

impl fmt::Debug for CogReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CogReader")
            .field("url", &self.url())
            .field("width", &self.inner.profile.width)
            .field("height", &self.inner.profile.height)
            .field("levels", &self.inner.levels.len())
            .finish()
    }
}

impl CogReader {
    /// The rasterio-style profile.
    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    /// Resolution levels, full resolution first (z = 0).
    pub fn levels(&self) -> &[Level] {
        &self.inner.levels
    }

    /// The level `z`, or an error naming the valid range.
    pub fn level(&self, z: usize) -> Result<&Level> {
        self.inner.levels.get(z).ok_or_else(|| Error::InvalidRequest {
            message: format!(
                "no level {z}: {} has levels 0..={}",
                self.url(),
                self.inner.levels.len().saturating_sub(1)
            ),
        })
    }

    /// rasterio's `block_windows()` for level `z`: every block's (row, col)
    /// and its window of that level, cut to the image, row by row.
    pub fn block_windows(&self, z: usize) -> Result<impl Iterator<Item = ((u64, u64), crate::geo::Window)> + '_> {
        Ok(self.level(z)?.block_windows())
    }

    /// The parsed TIFF: header, ghost area, every IFD.
    pub fn tiff(&self) -> &TiffFile {
        &self.inner.tiff
    }

    /// Every IFD in chain order, with every tag.
    pub fn ifds(&self) -> &[Ifd] {
        &self.inner.tiff.ifds
    }

    /// GDAL's structural metadata, when the file has a ghost area.
    pub fn ghost_area(&self) -> Option<&GhostArea> {
        self.inner.tiff.ghost.as_ref()
    }

    /// The URL or path read.
    pub fn url(&self) -> &str {
        self.inner.source.url()
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// What the opening response told about the object: size, ETag,
    /// version, Last-Modified.
    pub fn object(&self) -> ObjectInfo {
        self.inner.source.info()
    }

    /// Requests, bytes, cache use and time so far, opening included.
    pub fn stats(&self) -> ReadStats {
        let io = self.inner.source.stats();
        let cache = self.inner.fetcher.cache();
        ReadStats {
            requests: io.requests,
            bytes: io.bytes,
            cache_hits: cache.map_or(0, |c| c.hits()),
            cache_misses: cache.map_or(0, |c| c.misses()),
            waiting: Duration::from_nanos(self.inner.fetcher.wait_nanos()),
            decoding: Duration::from_nanos(self.inner.decode_nanos.load(Ordering::Relaxed)),
            tiles_decoded: self.inner.tiles_decoded.load(Ordering::Relaxed),
            tile_cache_hits: self.inner.tile_cache.as_ref().map_or(0, |c| c.hits()),
            tile_cache_misses: self.inner.tile_cache.as_ref().map_or(0, |c| c.misses()),
        }
    }

    /// The block cache in use (shared or the reader's own), if enabled.
    pub fn block_cache(&self) -> Option<&Arc<BlockCache>> {
        self.inner.fetcher.cache()
    }

    /// Requests and bytes opening took.
    pub fn open_stats(&self) -> RequestStats {
        self.inner.open_stats
    }
}
