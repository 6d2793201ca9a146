//! The one way bytes come in: [`ByteSource`].
//!
//! A thin layer over `object_store` (any backend) or over `Bytes` already in
//! memory. It counts requests and bytes, and pins the object: the ETag and
//! version of the first response are sent as `If-Match`/version on every
//! later request, so an object replaced mid-read is an [`Error::Changed`],
//! not silently mixed data. Ranged GETs only: no HEAD, ever; the object's
//! size is learnt from the first response (`Content-Range`).
//!
//! We do not use object_store's `get_ranges`: it merges gaps up to 1 MiB.
//! Callers plan and merge their own ranges and hand them to
//! [`ByteSource::get_ranges`], which issues them concurrently.

mod url;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures::future::try_join_all;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};

use crate::error::{Error, Result};
pub use url::resolve;

/// Requests made and bytes received by a source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// GET requests (or slices of in-memory bytes).
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
}

#[derive(Debug, Clone)]
struct ObjectPin {
    etag: Option<String>,
    version: Option<String>,
    size: u64,
}

#[derive(Debug)]
enum Backend {
    Store { store: Arc<dyn ObjectStore>, path: Path },
    Memory(Bytes),
}

/// A readable object: a store and a path, or bytes in memory.
#[derive(Debug)]
pub struct ByteSource {
    backend: Backend,
    url: String,
    requests: AtomicU64,
    bytes: AtomicU64,
    pin: OnceLock<ObjectPin>,
}

impl ByteSource {
    /// A source reading `path` from `store`; `url` names it in errors.
    pub fn from_store(store: Arc<dyn ObjectStore>, path: Path, url: impl Into<String>) -> Self {
        Self::new(Backend::Store { store, path }, url.into())
    }

    /// A source over bytes in memory (named `<memory>` in errors).
    pub fn from_bytes(bytes: Bytes) -> Self {
        Self::new(Backend::Memory(bytes), "<memory>".into())
    }

    fn new(backend: Backend, url: String) -> Self {
        Self {
            backend,
            url,
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            pin: OnceLock::new(),
        }
    }

    /// The URL or path this source reads.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The object's size, once a response has told it.
    pub fn size(&self) -> Option<u64> {
        match &self.backend {
            Backend::Memory(b) => Some(b.len() as u64),
            Backend::Store { .. } => self.pin.get().map(|p| p.size),
        }
    }

    /// The ETag recorded from the first response.
    pub fn etag(&self) -> Option<&str> {
        self.pin.get().and_then(|p| p.etag.as_deref())
    }

    /// The object version recorded from the first response.
    pub fn version(&self) -> Option<&str> {
        self.pin.get().and_then(|p| p.version.as_deref())
    }

    /// Pins the object to a version known from an earlier open (no request).
    pub(crate) fn pin_known(&self, etag: Option<String>, version: Option<String>, size: u64) {
        let _ = self.pin.set(ObjectPin { etag, version, size });
    }

    /// True for in-memory bytes.
    pub fn is_memory(&self) -> bool {
        matches!(self.backend, Backend::Memory(_))
    }

    /// Requests and bytes so far.
    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// Fetches `range`. A range running past the end of the object returns
    /// the bytes up to the end (so one opening GET works on small files); a
    /// range starting at or past the end is an error.
    pub async fn get_range(&self, range: Range<u64>) -> Result<Bytes> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let bytes = match &self.backend {
            Backend::Memory(all) => {
                let len = all.len() as u64;
                if range.start >= len && range.end > range.start {
                    return Err(Error::format(
                        crate::Location::new().range(range).source(&self.url),
                        format!("range starts past the end of the object ({len} bytes)"),
                    ));
                }
                let (a, b) = (range.start.min(len) as usize, range.end.min(len) as usize);
                all.slice(a..b.max(a))
            }
            Backend::Store { store, path } => {
                let pin = self.pin.get();
                let opts = GetOptions {
                    range: Some(GetRange::Bounded(range.clone())),
                    if_match: pin.and_then(|p| p.etag.clone()),
                    version: pin.and_then(|p| p.version.clone()),
                    ..Default::default()
                };
                tracing::debug!(url = %self.url, start = range.start, end = range.end, "GET range");
                let res = store.get_opts(path, opts).await.map_err(|e| self.map_err(e, &range))?;
                let _ = self.pin.set(ObjectPin {
                    etag: res.meta.e_tag.clone(),
                    version: res.meta.version.clone(),
                    size: res.meta.size,
                });
                res.bytes().await.map_err(|e| self.map_err(e, &range))?
            }
        };
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    /// Fetches several ranges concurrently, one request each, in order.
    pub async fn get_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        try_join_all(ranges.iter().cloned().map(|r| self.get_range(r))).await
    }

    fn map_err(&self, e: object_store::Error, range: &Range<u64>) -> Error {
        let url = self.url.clone();
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound { url },
            object_store::Error::Precondition { .. } => Error::Changed {
                url,
                expected: self.etag().or(self.version()).unwrap_or("?").to_string(),
            },
            e @ (object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }) => {
                Error::PermissionDenied {
                    url,
                    message: e.to_string(),
                }
            }
            source => Error::Io {
                url,
                range: range.clone(),
                source: Arc::new(source),
            },
        }
    }
}
