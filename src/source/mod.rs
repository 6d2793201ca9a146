//! The one way bytes come in: [`ByteSource`].
//!
//! A thin layer over `object_store` (any backend) or over `Bytes` already in
//! memory. It counts requests and bytes, and pins the object: the ETag and
//! version of the first response are sent as `If-Match`/version on every
//! later request, so an object replaced mid-read is an [`crate::Error::Changed`],
//! not silently mixed data. Ranged GETs only: no HEAD, ever; the object's
//! size is learnt from the first response (`Content-Range`).
//!
//! We do not use object_store's `get_ranges`: it merges gaps up to 1 MiB.
//! The [`Fetcher`] plans and merges ranges and asks for each request through
//! the layers in `layers` (the one fetch trait, `RangeRead`).

pub(crate) mod cache;
mod clients;
mod coalesce;
mod fetch;
mod layers;
#[cfg(feature = "http")]
mod signed;
mod tile_cache;
mod transport;
mod url;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};

use crate::error::{Error, Result};
pub use cache::{BlockCache, HeaderCache};
pub use tile_cache::TileCache;
pub(crate) use tile_cache::TileKey;

pub(crate) use fetch::Fetcher;
pub use layers::RequestBudget;
pub use transport::Transport;
pub(crate) use url::identity;
pub use url::resolve;

/// What the opening response told about the object a reader reads; later
/// responses must agree with it (else the read fails with `Changed`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The URL or path, or `<memory>` for bytes in memory.
    pub url: String,
    /// The object's size in bytes.
    pub size: Option<u64>,
    /// The ETag, when the store sent one.
    pub etag: Option<String>,
    /// The object version (S3 versioned buckets, GCS generations).
    pub version: Option<String>,
    /// The Last-Modified time, when the store sent one.
    pub last_modified: Option<std::time::SystemTime>,
    /// Whether the bytes were handed over in memory.
    pub in_memory: bool,
}

/// Requests made and bytes received by a source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestStats {
    /// GET requests (or slices of in-memory bytes).
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
}

/// What the first response told about the object: checked against every
/// later response, and sent as a precondition where the server can honour it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectPin {
    pub(crate) etag: Option<String>,
    pub(crate) version: Option<String>,
    /// `None` when the server sent no Last-Modified.
    pub(crate) last_modified: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) size: u64,
}

impl ObjectPin {
    /// The ETag when it is strong: a weak one (`W/"..."`) cannot be sent as
    /// `If-Match` (servers answer 412 to it, RFC 9110 13.1.1), only compared.
    fn strong_etag(&self) -> Option<&str> {
        self.etag.as_deref().filter(|e| !e.starts_with("W/"))
    }

    /// A string that changes whenever the object's bytes may have changed,
    /// or `None` when the server gave nothing to tell versions apart.
    fn validator(&self) -> Option<String> {
        if let Some(e) = self.strong_etag() {
            return Some(format!("etag {e}"));
        }
        if let Some(v) = &self.version {
            return Some(format!("version {v}"));
        }
        if self.etag.is_none() && self.last_modified.is_none() {
            return None;
        }
        Some(format!(
            "weak {} modified {} size {}",
            self.etag.as_deref().unwrap_or("-"),
            self.last_modified.map_or(0, |t| t.timestamp_micros()),
            self.size
        ))
    }

    /// The pin a response implies, with object_store's epoch-0 stand-in for
    /// a missing Last-Modified turned back into `None`.
    fn of(meta: &object_store::ObjectMeta) -> ObjectPin {
        ObjectPin {
            etag: meta.e_tag.clone(),
            version: meta.version.clone(),
            last_modified: Some(meta.last_modified).filter(|t| t.timestamp() != 0),
            size: meta.size,
        }
    }

    /// Whether `later` describes another object than `self`.
    fn differs(&self, later: &ObjectPin) -> bool {
        let differ = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a != b);
        later.size != self.size
            || differ(&self.etag, &later.etag)
            || differ(&self.version, &later.version)
            || matches!((self.last_modified, later.last_modified), (Some(a), Some(b)) if a != b)
    }
}

#[derive(Debug)]
enum Backend {
    Store {
        store: Arc<dyn ObjectStore>,
        path: Path,
    },
    /// An http(s) URL sent as given (query string, credentials).
    #[cfg(feature = "http")]
    Signed(signed::SignedUrl),
    Memory(Bytes),
}

/// How a source's object is named in a cache shared between readers.
#[derive(Debug, Clone)]
enum Naming {
    /// A URL or absolute file path: the same name is the same object.
    Global(Arc<str>),
    /// A path in a store the caller built: only the same store instance
    /// names the same object.
    InStore,
    /// Nothing else names it (bytes in memory).
    Unique,
}

/// Which object a cached block belongs to. Two sources share blocks only
/// when their identities are equal: same URL (or same caller-built store
/// instance and path) and same validator (ETag, version, or Last-Modified
/// and size). In-memory bytes, and objects whose server gave no validator,
/// get an identity of their own, so a shared cache never hands one file's
/// bytes to another.
#[derive(Clone)]
pub struct ObjectId {
    name: ObjectName,
    validator: Arc<str>,
}

#[derive(Clone)]
enum ObjectName {
    Global(Arc<str>),
    /// The store is held, so its address cannot be reused while a key lives.
    Store(Arc<dyn ObjectStore>, Arc<str>),
    Unique(u64),
}

impl ObjectName {
    fn store_addr(store: &Arc<dyn ObjectStore>) -> usize {
        Arc::as_ptr(store) as *const () as usize
    }
}

impl PartialEq for ObjectId {
    fn eq(&self, other: &Self) -> bool {
        let names = match (&self.name, &other.name) {
            (ObjectName::Global(a), ObjectName::Global(b)) => a == b,
            (ObjectName::Store(s, a), ObjectName::Store(t, b)) => {
                ObjectName::store_addr(s) == ObjectName::store_addr(t) && a == b
            }
            (ObjectName::Unique(a), ObjectName::Unique(b)) => a == b,
            _ => false,
        };
        names && self.validator == other.validator
    }
}

impl Eq for ObjectId {}

impl std::hash::Hash for ObjectId {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match &self.name {
            ObjectName::Global(a) => (0u8, a).hash(h),
            ObjectName::Store(s, a) => (1u8, ObjectName::store_addr(s), a).hash(h),
            ObjectName::Unique(a) => (2u8, a).hash(h),
        }
        self.validator.hash(h);
    }
}

impl std::fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            ObjectName::Global(a) => write!(f, "{a}")?,
            ObjectName::Store(s, a) => write!(f, "{s}@{:x}/{a}", ObjectName::store_addr(s))?,
            ObjectName::Unique(a) => write!(f, "<unique #{a}>")?,
        }
        write!(f, " [{}]", self.validator)
    }
}

/// Ids of sources that nothing else may name.
static UNIQUE_IDS: AtomicU64 = AtomicU64::new(1);

/// A readable object: a store and a path, or bytes in memory.
#[derive(Debug)]
pub struct ByteSource {
    backend: Backend,
    url: String,
    naming: Naming,
    unique: u64,
    requests: AtomicU64,
    bytes: AtomicU64,
    pin: OnceLock<ObjectPin>,
    /// Time allowed for one remote request with its retries.
    deadline: OnceLock<std::time::Duration>,
}

impl ByteSource {
    /// A source reading `path` from a `store` the caller built; `url` names
    /// it in errors. Blocks are shared through a cache only with sources on
    /// the same store instance.
    pub fn from_store(store: Arc<dyn ObjectStore>, path: Path, url: impl Into<String>) -> Self {
        Self::new(Backend::Store { store, path }, url.into(), Naming::InStore)
    }

    /// A source whose `identity` (a URL, or an absolute path for local
    /// files) names the object for every reader.
    pub(crate) fn from_named_store(store: Arc<dyn ObjectStore>, path: Path, url: String, identity: String) -> Self {
        Self::new(Backend::Store { store, path }, url, Naming::Global(identity.into()))
    }

    /// A source for an `http(s)://` URL that must be sent as given (a
    /// presigned or SAS URL, a token query, `user:pass@`); `None` for other
    /// sources. Named in errors with its query and password redacted.
    #[cfg(feature = "http")]
    pub(crate) fn exact_url(src: &str, transport: &Transport) -> Result<Option<Self>> {
        let Ok(url) = ::url::Url::parse(src) else {
            return Ok(None);
        };
        if !matches!(url.scheme(), "http" | "https") || !signed::needs_exact_url(&url) {
            return Ok(None);
        }
        let name = signed::redacted(&url);
        let http = signed::SignedUrl::new(src, &url, transport)?;
        let id = signed::identity(&url);
        Ok(Some(Self::new(Backend::Signed(http), name, Naming::Global(id.into()))))
    }

    /// Without the `http` feature no URL is read this way.
    #[cfg(not(feature = "http"))]
    pub(crate) fn exact_url(_: &str, _: &Transport) -> Result<Option<Self>> {
        Ok(None)
    }

    /// A source over bytes in memory (named `<memory>` in errors).
    pub fn from_bytes(bytes: Bytes) -> Self {
        Self::new(Backend::Memory(bytes), "<memory>".into(), Naming::Unique)
    }

    fn new(backend: Backend, url: String, naming: Naming) -> Self {
        Self {
            backend,
            url,
            naming,
            unique: UNIQUE_IDS.fetch_add(1, Ordering::Relaxed),
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            pin: OnceLock::new(),
            deadline: OnceLock::new(),
        }
    }

    /// Bounds every later remote request, retries included, by `deadline`.
    pub(crate) fn set_deadline(&self, deadline: std::time::Duration) {
        let _ = self.deadline.set(deadline);
    }

    /// The URL or path this source reads.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The identity of the object's bytes, for cache keys (see [`ObjectId`]).
    /// Known once the first response has pinned the object.
    pub fn object_id(&self) -> ObjectId {
        let validator = self.pin.get().and_then(ObjectPin::validator);
        let unique = ObjectId {
            name: ObjectName::Unique(self.unique),
            validator: "".into(),
        };
        let Some(validator) = validator else {
            return unique;
        };
        let name = match (&self.naming, &self.backend) {
            (Naming::Global(n), _) => ObjectName::Global(n.clone()),
            (Naming::InStore, Backend::Store { store, path }) => ObjectName::Store(store.clone(), path.as_ref().into()),
            _ => return unique,
        };
        ObjectId {
            name,
            validator: validator.into(),
        }
    }

    /// The name that identifies the object for every reader (a URL, or an
    /// absolute path), when there is one: caller-built stores and bytes in
    /// memory have none.
    pub(crate) fn global_name(&self) -> Option<&str> {
        match &self.naming {
            Naming::Global(n) => Some(n),
            _ => None,
        }
    }

    /// The object's size, once a response has told it.
    pub fn size(&self) -> Option<u64> {
        match &self.backend {
            Backend::Memory(b) => Some(b.len() as u64),
            _ => self.pin.get().map(|p| p.size),
        }
    }

    /// Whether the object has anything that tells versions apart.
    pub(crate) fn has_validator(&self) -> bool {
        self.pin.get().and_then(ObjectPin::validator).is_some()
    }

    /// What the first response told about the object.
    pub(crate) fn pin(&self) -> Option<ObjectPin> {
        self.pin.get().cloned()
    }

    /// Pins the object to what an earlier open learnt (no request).
    pub(crate) fn pin_known(&self, pin: ObjectPin) {
        let _ = self.pin.set(pin);
    }

    /// What the responses so far told about the object.
    pub fn info(&self) -> ObjectInfo {
        let pin = self.pin.get();
        ObjectInfo {
            url: self.url().to_string(),
            size: self.size(),
            etag: pin.and_then(|p| p.etag.clone()),
            version: pin.and_then(|p| p.version.clone()),
            last_modified: pin.and_then(|p| p.last_modified).map(std::time::SystemTime::from),
            in_memory: self.is_memory(),
        }
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
    /// range starting at or past the end is an error. A body cut short by
    /// the transport is asked for once more, then reported as [`Error::Io`].
    pub async fn get_range(&self, range: Range<u64>) -> Result<Bytes> {
        let bytes = match &self.backend {
            Backend::Memory(all) => {
                self.requests.fetch_add(1, Ordering::Relaxed);
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
            _ => {
                let attempts = async {
                    match self.get_remote_range(&range).await {
                        Err(ShortBody(_)) => self.get_remote_range(&range).await,
                        done => done,
                    }
                };
                let attempt = match self.deadline.get() {
                    None => attempts.await,
                    Some(&limit) => tokio::time::timeout(limit, attempts).await.unwrap_or_else(|_| {
                        let late = object_store::Error::Generic {
                            store: "async-cog",
                            source: format!("no answer within the {limit:?} deadline (retries included)").into(),
                        };
                        Ok(Err(self.io(late, &range)))
                    }),
                };
                return attempt.map_err(|ShortBody(e)| self.io(e, &range))?;
            }
        };
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    /// One ranged GET with the pin's preconditions; the outer error is a
    /// body shorter than the object's size allows (worth one retry).
    async fn get_remote_range(&self, range: &Range<u64>) -> std::result::Result<Result<Bytes>, ShortBody> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let pin = self.pin.get();
        let if_match = pin.and_then(|p| p.strong_etag().map(str::to_string));
        // Without a strong ETag or a version, Last-Modified is the precondition.
        let if_unmodified_since = pin
            .filter(|p| p.strong_etag().is_none() && p.version.is_none())
            .and_then(|p| p.last_modified);
        tracing::debug!(url = %self.url, start = range.start, end = range.end, "GET range");
        let (meta, body) = match &self.backend {
            #[cfg(feature = "http")]
            Backend::Signed(http) => {
                let when = signed::Conditions {
                    if_match,
                    if_unmodified_since,
                };
                match http.get(range, &when).await {
                    Ok((meta, body)) => (meta, Body::Ready(body)),
                    Err(e) => return Ok(Err(self.map_err(e, range))),
                }
            }
            Backend::Store { store, path } => {
                let opts = GetOptions {
                    range: Some(GetRange::Bounded(range.clone())),
                    if_match,
                    version: pin.and_then(|p| p.version.clone()),
                    if_unmodified_since,
                    ..Default::default()
                };
                match store.get_opts(path, opts).await {
                    Ok(r) => (r.meta.clone(), Body::Stream(r)),
                    // A 206 for other bytes than asked (object_store's range check:
                    // "Requested a..b, got a..c"); the test suite guards the wording.
                    Err(e @ object_store::Error::Generic { .. }) if e.to_string().contains("Requested") => {
                        return Err(ShortBody(e));
                    }
                    Err(e) => return Ok(Err(self.map_err(e, range))),
                }
            }
            Backend::Memory(_) => return Ok(Err(Error::Internal("memory is not remote".into()))),
        };
        let seen = ObjectPin::of(&meta);
        let pin = self.pin.get_or_init(|| seen.clone());
        // Servers that ignore If-Match, and weak ETags, are caught here.
        if pin.differs(&seen) {
            return Ok(Err(self.changed()));
        }
        // A body cut short by the transport is worth asking again.
        let bytes = match body {
            Body::Ready(b) => b,
            Body::Stream(r) => r.bytes().await.map_err(ShortBody)?,
        };
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let expected = range.end.min(pin.size).saturating_sub(range.start);
        if (bytes.len() as u64) < expected {
            return Err(ShortBody(object_store::Error::Generic {
                store: "async-cog",
                source: format!(
                    "the body ended after {} of {expected} bytes (connection cut?)",
                    bytes.len()
                )
                .into(),
            }));
        }
        Ok(Ok(bytes))
    }

    fn changed(&self) -> Error {
        let pin = self.pin.get();
        Error::Changed {
            url: self.url.clone(),
            expected: pin
                .and_then(|p| p.etag.clone().or(p.version.clone()))
                .or(pin.and_then(|p| p.last_modified.map(|t| format!("last modified {t}"))))
                .unwrap_or_else(|| "?".into()),
        }
    }

    fn io(&self, source: object_store::Error, range: &Range<u64>) -> Error {
        Error::Io {
            url: self.url.clone(),
            range: range.clone(),
            source: Arc::new(source),
        }
    }

    fn map_err(&self, e: object_store::Error, range: &Range<u64>) -> Error {
        match e {
            // Found at open, gone now: replaced (GCS answers a read of a
            // replaced generation with 404) or deleted while reading.
            object_store::Error::NotFound { .. } if self.has_validator() => self.changed(),
            e @ object_store::Error::NotFound { .. } => Error::NotFound {
                url: self.url.clone(),
                // S3, GCS and Azure say which in the error body.
                what: if ["NoSuchBucket", "ContainerNotFound", "bucket does not exist"]
                    .iter()
                    .any(|m| e.to_string().contains(m))
                {
                    "no such bucket".into()
                } else {
                    "no such object".into()
                },
            },
            object_store::Error::Precondition { .. } => self.changed(),
            e @ (object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }) => {
                Error::PermissionDenied {
                    url: self.url.clone(),
                    message: format!(
                        "{} refused access: the credentials are wrong or expired, or may not read this object \
                         (unsigned requests read public objects only): {e}",
                        url::Service::of(&self.url).map_or("the store", url::Service::name)
                    ),
                }
            }
            source => self.io(source, range),
        }
    }
}

/// A body shorter than asked for, though the object is long enough, or
/// one that failed while being read.
struct ShortBody(object_store::Error);

/// An answer's body: still to read, or read.
enum Body {
    Stream(object_store::GetResult),
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Ready(Bytes),
}
