//! The block cache: fetched block bytes, shared between readers.
//!
//! Entries are compressed block bytes keyed by (object, ETag/version, byte
//! range), weighted by their length and bounded by a byte budget (moka's
//! TinyLFU eviction). The object's identity is part of the key (a URL with
//! its ETag, version or Last-Modified and size; a caller-built store
//! instance; or an id of its own for bytes in memory and for objects without
//! any validator), so a replaced object never serves stale bytes and one
//! file's blocks are never handed to another. One cache can serve many
//! readers (`Options::with_shared_block_cache`); concurrent loads are merged
//! by the fetcher, not here.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::source::ObjectId;

/// Identifies a block's bytes: the object (its identity includes its
/// ETag, version or Last-Modified, see [`ObjectId`]) and the byte range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlockKey {
    /// The object and its version.
    pub object: ObjectId,
    /// Start of the byte range.
    pub start: u64,
    /// End of the byte range (exclusive).
    pub end: u64,
}

/// A byte-weighted moka cache that counts its hits and misses: the block
/// cache and the decoded-tile cache are each one of these.
pub(crate) struct Counted<K, V> {
    pub(crate) inner: moka::future::Cache<K, V>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> Counted<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `max_bytes`, each value weighing `weigh(value)` bytes.
    pub(crate) fn new(max_bytes: u64, weigh: fn(&V) -> u32) -> Self {
        let inner = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(move |_k: &K, v: &V| weigh(v))
            .build();
        Self {
            inner,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached value, counting a hit or a miss.
    pub(crate) async fn get(&self, key: &K) -> Option<V> {
        let v = self.inner.get(key).await;
        let counter = if v.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        v
    }

    /// Bytes held (after pending evictions are applied).
    pub(crate) async fn weighted_size(&self) -> u64 {
        self.inner.run_pending_tasks().await;
        self.inner.weighted_size()
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    pub(crate) fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("bytes", &self.inner.weighted_size())
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

/// A byte-bounded cache of block bytes.
pub struct BlockCache(Counted<BlockKey, Bytes>);

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.debug("BlockCache", f)
    }
}

impl BlockCache {
    /// A cache holding at most `max_bytes` bytes of blocks.
    pub fn new(max_bytes: u64) -> Self {
        Self(Counted::new(max_bytes, |v: &Bytes| {
            u32::try_from(v.len()).unwrap_or(u32::MAX)
        }))
    }

    /// The key of `range` of `object`.
    pub fn key(object: &ObjectId, range: &Range<u64>) -> BlockKey {
        BlockKey {
            object: object.clone(),
            start: range.start,
            end: range.end,
        }
    }

    /// The cached bytes, counting a hit or a miss.
    pub async fn get(&self, key: &BlockKey) -> Option<Bytes> {
        self.0.get(key).await
    }

    /// Stores `bytes` under `key`.
    pub async fn insert(&self, key: BlockKey, bytes: Bytes) {
        self.0.inner.insert(key, bytes).await;
    }

    /// Bytes held (after pending evictions are applied).
    pub async fn weighted_size(&self) -> u64 {
        self.0.weighted_size().await
    }

    /// Lookups that found bytes.
    pub fn hits(&self) -> u64 {
        self.0.hits()
    }

    /// Lookups that did not.
    pub fn misses(&self) -> u64 {
        self.0.misses()
    }
}

/// What opening a file learnt: enough to open it again with no request.
#[derive(Debug)]
pub(crate) struct CachedHeader {
    pub tiff: crate::tiff::TiffFile,
    pub header_bytes: crate::tiff::RangeBuffers,
    pub pin: Option<crate::source::ObjectPin>,
}

/// Parsed headers by URL, so that opening the same object again costs no
/// request. Opt-in (`Options::with_header_cache`): the cached ETag/version
/// is still sent with every later request, so an object replaced since is
/// reported as [`crate::Error::Changed`] when its blocks are read, never mixed.
pub struct HeaderCache {
    inner: moka::future::Cache<String, Arc<CachedHeader>>,
}

impl std::fmt::Debug for HeaderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderCache")
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

impl HeaderCache {
    /// A cache of at most `max_entries` headers.
    pub fn new(max_entries: u64) -> Self {
        Self {
            inner: moka::future::Cache::new(max_entries),
        }
    }

    pub(crate) async fn get(&self, url: &str) -> Option<Arc<CachedHeader>> {
        self.inner.get(url).await
    }

    pub(crate) async fn insert(&self, url: String, header: CachedHeader) {
        self.inner.insert(url, Arc::new(header)).await;
    }
}
