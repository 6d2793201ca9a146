//! The one fetch trait, [`RangeRead`], and the layers stacked on it.
//!
//! Every byte after the opening GET takes the same stack, built once per
//! reader by [`super::Fetcher::new`]:
//!
//! ```text
//! Fetcher     blocks: cache, coalescer (gap, cap, dedup), single-flight
//!   Bounded   at most `max_concurrency` requests in flight per reader
//!     ByteSource   one ranged GET, pinned to the object's ETag/version
//! ```
//!
//! The block cache stays in the top layer with the single-flight map rather
//! than being a `RangeRead` layer of its own: it is keyed by block, while a
//! `RangeRead` sees requests, which the coalescer cuts differently from one
//! read to the next; and a request's own task fills it, so a read dropped
//! mid-way still leaves its blocks cached. May use: `source`, `error`.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use tokio::sync::Semaphore;

use super::{ByteSource, ObjectId};
use crate::error::{Error, Result};

/// Reads byte ranges of one object, one request per call.
pub(crate) trait RangeRead: Send + Sync {
    /// The bytes of `range`.
    fn read_range(&self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>>;
    /// The URL or path, for messages.
    fn url(&self) -> &str;
    /// The object's identity once pinned, for cache keys.
    fn object_id(&self) -> ObjectId;
}

impl RangeRead for ByteSource {
    fn read_range(&self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        self.get_range(range).boxed()
    }
    fn url(&self) -> &str {
        ByteSource::url(self)
    }
    fn object_id(&self) -> ObjectId {
        ByteSource::object_id(self)
    }
}

/// A bound on requests in flight that several readers can share (the
/// files of a stack fetch through one budget): give the same
/// `Arc<RequestBudget>` to each reader's [`crate::Options`].
#[derive(Debug)]
pub struct RequestBudget {
    permits: Semaphore,
    limit: usize,
}

impl RequestBudget {
    /// At most `limit` (at least 1) requests in flight across every reader
    /// that uses this budget.
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Semaphore::new(limit.max(1)),
            limit: limit.max(1),
        }
    }

    /// The bound.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Requests that could start now without waiting.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

/// The concurrency layer: at most the budget's limit of requests of the
/// layer below in flight at once, across every read (and every reader)
/// that shares the budget.
pub(crate) struct Bounded<R> {
    inner: R,
    budget: Arc<RequestBudget>,
}

impl<R> Bounded<R> {
    /// `inner`, with requests in flight bounded by `budget`.
    pub(crate) fn new(inner: R, budget: Arc<RequestBudget>) -> Self {
        Self { inner, budget }
    }
}

impl<R: RangeRead + ?Sized> RangeRead for Arc<R> {
    fn read_range(&self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        (**self).read_range(range)
    }
    fn url(&self) -> &str {
        (**self).url()
    }
    fn object_id(&self) -> ObjectId {
        (**self).object_id()
    }
}

impl<R: RangeRead> RangeRead for Bounded<R> {
    fn read_range(&self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        async move {
            let _permit = self
                .budget
                .permits
                .acquire()
                .await
                .map_err(|e| Error::Internal(e.to_string()))?;
            self.inner.read_range(range).await
        }
        .boxed()
    }
    fn url(&self) -> &str {
        self.inner.url()
    }
    fn object_id(&self) -> ObjectId {
        self.inner.object_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound holds across concurrent callers: with a limit of 2, the
    /// third read waits until one of the first two finishes.
    #[tokio::test]
    async fn bounded_admits_at_most_its_limit() {
        let source = Arc::new(ByteSource::from_bytes(Bytes::from(vec![7u8; 64])));
        let bounded = Arc::new(Bounded::new(source, Arc::new(RequestBudget::new(2))));
        let first = bounded.budget.permits.try_acquire().ok();
        let second = bounded.budget.permits.try_acquire().ok();
        assert!(first.is_some() && second.is_some());
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), bounded.read_range(0..4)).await;
        assert!(waiting.is_err(), "a third request went through a bound of 2");
        drop(first);
        let got = bounded.read_range(0..4).await.map_err(|e| e.to_string());
        assert_eq!(got, Ok(Bytes::from(vec![7u8; 4])));
    }
}
