//! Fetching many blocks with few requests: cache first, then merged,
//! bounded, concurrent range requests, shared with concurrent readers.
//!
//! Every byte after the opening GET comes through here: the header's
//! further rounds and deferred tag arrays ([`Fetcher::fetch_metadata`]) as
//! well as tiles ([`Fetcher::start`], which hands blocks out as their
//! requests land). The ranges are merged into requests by the one
//! coalescer ([`super::coalesce`]).
//!
//! A fetch serves blocks that lie in the bytes fetched at open
//! ([`Fetcher::hold`]) and cached blocks, waits on requests already in
//! flight that carry a block (so concurrent reads of one tile cost one
//! request), and issues the rest concurrently (at most `max_concurrency`
//! in flight per reader, across all its reads, by the [`Bounded`] layer
//! below it), each as a task of its own that caches its blocks. This
//! in-flight map is the one single-flight mechanism; `layers` says how the
//! stack is built. May use: `source`, `tiff` (`RangeBuffers`), `error`.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};

use super::cache::BlockCache;
use super::coalesce::{METADATA_GAP, Request, plan_requests};
use super::layers::{Bounded, RangeRead, RequestBudget};
use super::{ByteSource, ObjectId};
use crate::error::{Error, Result};
use crate::tiff::RangeBuffers;

/// One request in flight, shared by every read that needs its bytes.
type Flight = Shared<BoxFuture<'static, std::result::Result<Bytes, Arc<Error>>>>;

/// Requests in flight by byte range.
type Flights = Arc<Mutex<HashMap<(u64, u64), Flight>>>;

/// Fetches block ranges of one object through the cache.
///
/// Each request runs as its own task: a read that is dropped mid-way
/// (cancelled, timed out by its caller) leaves its requests to finish,
/// fill the cache and leave the in-flight map, so the reader is as if the
/// read had never started. A failed request leaves the map too: the next
/// read asks again instead of inheriting the error.
pub struct Fetcher {
    /// The layers below: the concurrency bound over the byte source.
    reader: Arc<dyn RangeRead>,
    cache: Option<Arc<BlockCache>>,
    gap: Option<u64>,
    cap: u64,
    /// The bytes fetched while opening, set once the header is parsed.
    held: std::sync::OnceLock<RangeBuffers>,
    inflight: Flights,
    wait_nanos: AtomicU64,
}

impl Fetcher {
    /// A fetcher for `source`, its requests in flight bounded by `budget`
    /// (its own, or one shared with other readers).
    pub fn new(
        source: Arc<ByteSource>,
        cache: Option<Arc<BlockCache>>,
        gap: Option<u64>,
        cap: u64,
        budget: Arc<RequestBudget>,
    ) -> Self {
        Self {
            reader: Arc::new(Bounded::new(source, budget)),
            cache,
            gap,
            cap,
            held: std::sync::OnceLock::new(),
            inflight: Arc::default(),
            wait_nanos: AtomicU64::new(0),
        }
    }

    /// Keeps the bytes fetched while opening: later fetches take blocks
    /// that lie inside them from there (a small COG's tiles often do).
    pub fn hold(&self, bytes: RangeBuffers) {
        let _ = self.held.set(bytes);
    }

    /// The bytes fetched while opening (empty until [`Fetcher::hold`]).
    pub fn held(&self) -> &RangeBuffers {
        static EMPTY: std::sync::LazyLock<RangeBuffers> = std::sync::LazyLock::new(RangeBuffers::new);
        self.held.get().unwrap_or(&EMPTY)
    }

    /// The cache in use, if any.
    pub fn cache(&self) -> Option<&Arc<BlockCache>> {
        self.cache.as_ref()
    }

    /// Nanoseconds spent waiting for bytes.
    pub fn wait_nanos(&self) -> u64 {
        self.wait_nanos.load(Ordering::Relaxed)
    }

    /// Starts fetching every block range in `chunks` (from the bytes held,
    /// the cache, requests already in flight that cover them, or new
    /// requests merged at the configured gap) without waiting for the
    /// requests: [`Arrivals::take`] hands out blocks as the requests
    /// carrying them land, so that a read decodes its first tiles while
    /// the rest are still on the wire.
    pub async fn start(&self, chunks: &[Range<u64>]) -> Result<Arrivals<'_>> {
        self.start_with(chunks, self.gap, self.cache.as_ref()).await
    }

    /// The bytes of header values or tag arrays: the same path (cache,
    /// requests in flight, bound), merged at [`METADATA_GAP`].
    pub async fn fetch_metadata(&self, ranges: &[Range<u64>]) -> Result<RangeBuffers> {
        self.start_with(ranges, Some(METADATA_GAP), self.cache.as_ref())
            .await?
            .take(ranges)
            .await
    }

    async fn start_with<'a>(
        &'a self,
        chunks: &[Range<u64>],
        gap: Option<u64>,
        cache: Option<&'a Arc<BlockCache>>,
    ) -> Result<Arrivals<'a>> {
        let started = Instant::now();
        // Known once the object is pinned (after the first response).
        let object = self.reader.object_id();
        let mut ready = RangeBuffers::new();
        let mut missing = Vec::new();
        for c in chunks {
            if let Some(b) = self.held().get(c.clone()) {
                ready.push(c.start, b);
                continue;
            }
            let cached = match cache {
                Some(cache) => cache.get(&BlockCache::key(&object, c)).await,
                None => None,
            };
            match cached {
                Some(b) => ready.push(c.start, b),
                None => missing.push(c.clone()),
            }
        }
        // Chunks a request in flight already carries wait for it. The task
        // of a request caches the chunks it was started for; chunks that
        // joined it are cached by the read that joined (`joined`).
        let mut waits: Vec<Wait> = Vec::new();
        let mut rest = Vec::new();
        {
            let flights = lock(&self.inflight);
            for c in missing {
                match flights.iter().find(|(k, _)| k.0 <= c.start && c.end <= k.1) {
                    Some((&(a, b), f)) => waits.push(Wait {
                        range: a..b,
                        flight: f.clone(),
                        joined: true,
                        chunks: vec![c],
                    }),
                    None => rest.push(c),
                }
            }
        }
        for req in plan_requests(&rest, gap, self.cap) {
            let (flight, started) = self.flight(&req, cache, &object);
            waits.push(Wait {
                range: req.range,
                flight,
                joined: !started,
                chunks: req.chunks,
            });
        }
        let mut carrier = HashMap::new();
        for (i, w) in waits.iter().enumerate() {
            for c in &w.chunks {
                carrier.insert((c.start, c.end), i);
            }
        }
        Ok(Arrivals {
            fetcher: self,
            cache,
            object,
            ready,
            waits,
            carrier,
            started,
            landed: AtomicU64::new(started.elapsed().as_nanos() as u64),
        })
    }

    /// The request for `req` in flight, started as a task of its own if
    /// none is. The task caches the request's chunks, then leaves the
    /// in-flight map, whether it succeeded or failed.
    /// Whether it was started here comes with it.
    fn flight(&self, req: &Request, cache: Option<&Arc<BlockCache>>, object: &ObjectId) -> (Flight, bool) {
        let key = (req.range.start, req.range.end);
        let mut flights = lock(&self.inflight);
        if let Some(f) = flights.get(&key) {
            return (f.clone(), false);
        }
        let (reader, cache, object) = (self.reader.clone(), cache.cloned(), object.clone());
        let (map, req) = (self.inflight.clone(), req.clone());
        let task = tokio::spawn(async move {
            // Leaves the map however the task ends: done, failed, panicked
            // or dropped with the runtime.
            let _leave = Leave {
                map,
                key: (req.range.start, req.range.end),
            };
            let result = reader.read_range(req.range.clone()).await.map_err(Arc::new);
            if let (Ok(all), Some(cache)) = (&result, &cache) {
                for c in &req.chunks {
                    if let Ok(b) = slice(all, &req.range, c, reader.url()) {
                        cache.insert(BlockCache::key(&object, c), b).await;
                    }
                }
            }
            result
        });
        let flight = async move {
            task.await
                .unwrap_or_else(|e| Err(Arc::new(Error::Internal(format!("fetch task failed: {e}")))))
        }
        .boxed()
        .shared();
        flights.insert(key, flight.clone());
        (flight, true)
    }
}

/// A read's wait on one request in flight: the chunks it takes from it,
/// and whether it joined a request started for other chunks (then it
/// caches its chunks itself).
struct Wait {
    range: Range<u64>,
    flight: Flight,
    joined: bool,
    chunks: Vec<Range<u64>>,
}

/// The blocks of one fetch, on their way ([`Fetcher::start`]). The
/// requests run as tasks of their own, so blocks land whether or not
/// anyone is taking them yet.
pub struct Arrivals<'a> {
    fetcher: &'a Fetcher,
    cache: Option<&'a Arc<BlockCache>>,
    object: ObjectId,
    /// Blocks held or cached when the fetch started.
    ready: RangeBuffers,
    waits: Vec<Wait>,
    /// The wait carrying each block range.
    carrier: HashMap<(u64, u64), usize>,
    started: Instant,
    /// Nanoseconds from the start to the last block taken.
    landed: AtomicU64,
}

impl Arrivals<'_> {
    /// The bytes of `chunks` (each one of the ranges the fetch was started
    /// with), once the requests carrying them have landed.
    pub async fn take(&self, chunks: &[Range<u64>]) -> Result<RangeBuffers> {
        let url = self.fetcher.reader.url();
        let mut out = RangeBuffers::new();
        for c in chunks {
            if let Some(b) = self.ready.get(c.clone()) {
                out.push(c.start, b);
                continue;
            }
            let w = self
                .carrier
                .get(&(c.start, c.end))
                .and_then(|&i| self.waits.get(i))
                .ok_or_else(|| Error::Internal(format!("bytes {c:?} were not asked for")))?;
            let all = w.flight.clone().await.map_err(|e| (*e).clone())?;
            let b = slice(&all, &w.range, c, url)?;
            if let (true, Some(cache)) = (w.joined, self.cache) {
                cache.insert(BlockCache::key(&self.object, c), b.clone()).await;
            }
            out.push(c.start, b);
        }
        self.landed
            .fetch_max(self.started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Ok(out)
    }
}

/// The time from the start to the last block taken counts as waiting.
impl Drop for Arrivals<'_> {
    fn drop(&mut self) {
        self.fetcher
            .wait_nanos
            .fetch_add(self.landed.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Removes a flight's entry from the in-flight map when dropped.
struct Leave {
    map: Flights,
    key: (u64, u64),
}

impl Drop for Leave {
    fn drop(&mut self) {
        lock(&self.map).remove(&self.key);
    }
}

fn lock(flights: &Flights) -> std::sync::MutexGuard<'_, HashMap<(u64, u64), Flight>> {
    flights.lock().unwrap_or_else(|p| p.into_inner())
}

/// Chunk `c` out of the bytes `all` fetched for `range`; a body shorter
/// than the chunk needs means the object ends early (a truncated file).
fn slice(all: &Bytes, range: &Range<u64>, c: &Range<u64>, url: &str) -> Result<Bytes> {
    let (a, b) = (c.start.saturating_sub(range.start), c.end.saturating_sub(range.start));
    match (usize::try_from(a), usize::try_from(b)) {
        (Ok(a), Ok(b)) if a <= b && b <= all.len() => Ok(all.slice(a..b)),
        _ => Err(Error::format(
            crate::Location::new().source(url).range(c.clone()),
            format!(
                "the object ended after {} of the {} bytes asked for",
                all.len(),
                range.end - range.start
            ),
        )),
    }
}
