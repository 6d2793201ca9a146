//! The decoded-tile cache: tiles as they come out of the decoder, shared
//! between reads and readers, so that a hot tile is decoded once.
//!
//! The block cache ([`super::BlockCache`]) keeps compressed bytes and saves
//! requests; this one keeps decoded arrays and saves CPU. Entries are keyed
//! like blocks, by the object's identity (with its ETag, version or
//! Last-Modified), so files and versions never mix; weighted by their
//! decoded bytes (data plus the bytes its mask holds) against a byte budget.
//! Concurrent loads of one tile share one decode (moka's single-flight per
//! key). May use: `source`, `raster`, `error`.

use std::sync::Arc;

use super::cache::Counted;
use crate::error::{Error, Result};
use crate::raster::MaskedArray;
use crate::source::ObjectId;

/// Identifies a decoded tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TileKey {
    /// The object and its version.
    pub object: ObjectId,
    /// The IFD of the level's image.
    pub ifd: usize,
    /// Tile column.
    pub x: u64,
    /// Tile row.
    pub y: u64,
    /// Decoded for its mask alone (its data is zeros): never handed out as
    /// a whole tile.
    pub mask_only: bool,
}

/// A byte-bounded cache of decoded tiles.
pub struct TileCache(Counted<TileKey, Arc<MaskedArray>>);

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.debug("TileCache", f)
    }
}

/// Bytes a decoded tile holds.
fn weight(tile: &Arc<MaskedArray>) -> u32 {
    let (b, r, c) = tile.data.shape();
    let samples = b.saturating_mul(r).saturating_mul(c);
    let bytes = samples
        .saturating_mul(tile.data.dtype().size())
        .saturating_add(tile.mask.nbytes());
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl TileCache {
    /// A cache holding at most `max_bytes` bytes of decoded tiles.
    pub fn new(max_bytes: u64) -> Self {
        Self(Counted::new(max_bytes, weight))
    }

    /// The cached tile, counting a hit or a miss.
    pub(crate) async fn get(&self, key: &TileKey) -> Option<Arc<MaskedArray>> {
        self.0.get(key).await
    }

    /// The tile under `key`, decoded by `decode` unless it is cached or
    /// another read is decoding it already (then this waits for that one).
    pub(crate) async fn get_or_decode<F>(&self, key: TileKey, decode: F) -> Result<Arc<MaskedArray>>
    where
        F: std::future::Future<Output = Result<MaskedArray>>,
    {
        self.0
            .inner
            .try_get_with(key, async move { decode.await.map(Arc::new) })
            .await
            .map_err(|e: Arc<Error>| (*e).clone())
    }

    /// Bytes held (after pending evictions are applied).
    pub async fn weighted_size(&self) -> u64 {
        self.0.weighted_size().await
    }

    /// Lookups that found a tile.
    pub fn hits(&self) -> u64 {
        self.0.hits()
    }

    /// Lookups that did not.
    pub fn misses(&self) -> u64 {
        self.0.misses()
    }
}
