//! Opening: one GET of `Options::ingested_bytes_at_open` bytes from offset
//! 0, pushed into the sans-I/O header decoder; only if the header is larger
//! does the reader fetch the exact missing spans it asks for (never byte 0
//! again), through the same fetcher as every other byte.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use object_store::ObjectStore;
use object_store::path::Path;

use crate::error::{Error, Location, Result};
use crate::levels::classify;
use crate::options::{BlockCaching, Options, TileCaching};
use crate::profile::Profile;
use crate::source::Fetcher;
use crate::source::cache::CachedHeader;
use crate::source::{BlockCache, ByteSource, RequestBudget, TileCache, identity, resolve};
use crate::tiff::{DecodeResult, HeaderDecoder, RangeBuffers, TiffFile};

use super::{CogReader, Inner};

/// Most fetch rounds opening may take before giving up (each round is one
/// batch of concurrent requests; a sane file needs 1 to 3).
const MAX_OPEN_ROUNDS: usize = 64;

impl CogReader {
    /// Opens a local path or a `file://`, `http(s)://`, `s3://`, `gs://`,
    /// `az://`/`azure://`/`abfs(s)://` URL with default [`Options`].
    pub async fn open(src: &str) -> Result<Self> {
        Self::open_with(src, Options::default()).await
    }

    /// Opens `src` with the given options.
    pub async fn open_with(src: &str, options: Options) -> Result<Self> {
        let source = Self::source_for(src, &options)?;
        Self::from_source(source, options, None).await
    }

    /// The byte source of a path or URL.
    pub(crate) fn source_for(src: &str, options: &Options) -> Result<ByteSource> {
        let transport = options.transport();
        if let Some(source) = ByteSource::exact_url(src, &transport)? {
            return Ok(source);
        }
        let (store, path, name) = resolve(src, &transport)?;
        let id = identity(src, &path);
        Ok(ByteSource::from_named_store(store, path, name, id))
    }

    /// Opens `path` in an object store you built yourself. The store keeps
    /// its own timeouts and retries: options that set them are refused
    /// (the deadline still applies).
    pub async fn from_store(store: Arc<dyn ObjectStore>, path: Path, options: Options) -> Result<Self> {
        options.check_transport_applies("a caller-built store")?;
        let name = format!("{store}/{path}");
        Self::from_source(ByteSource::from_store(store, path, name), options, None).await
    }

    /// Opens a COG already in memory: no file is written, no copy is made.
    /// There are no requests, so options that set timeouts or retries are
    /// refused.
    pub async fn from_bytes(bytes: Bytes, options: Options) -> Result<Self> {
        options.check_transport_applies("in-memory bytes")?;
        Self::from_source(ByteSource::from_bytes(bytes), options, None).await
    }

    /// Opens `source`; with `known`, from that header instead of fetching
    /// or looking one up (no request).
    pub(crate) async fn from_source(
        source: ByteSource,
        options: Options,
        known: Option<Arc<CachedHeader>>,
    ) -> Result<Self> {
        source.set_deadline(options.transport().deadline);
        let url = source.url().to_string();
        let source = Arc::new(source);
        let cache = match options.block_caching() {
            BlockCaching::Shared(shared) => Some(shared.clone()),
            BlockCaching::Own(bytes) => Some(Arc::new(BlockCache::new(*bytes))),
            _ => None,
        };
        let fetcher = Fetcher::new(
            source.clone(),
            cache,
            options.range_merging().gap(),
            options.max_request_bytes(),
            options
                .request_budget()
                .cloned()
                .unwrap_or_else(|| Arc::new(RequestBudget::new(options.max_concurrency()))),
        );
        let tag = |e: Error| e.with_source(&url);
        // Only a name every reader shares (a URL, an absolute path) keys the header cache.
        let header_cache = options
            .header_cache()
            .cloned()
            .zip(source.global_name().map(str::to_string));
        let cached = match (&header_cache, known) {
            (_, Some(k)) => Some(k),
            (Some((c, id)), None) => c.get(id).await,
            (None, None) => None,
        };
        let (tiff, header_bytes) = match cached {
            Some(h) => {
                if let Some(pin) = &h.pin {
                    source.pin_known(pin.clone());
                }
                (h.tiff.clone(), h.header_bytes.clone())
            }
            None => {
                let (tiff, bytes) = Self::read_header(&source, &fetcher, &options).await?;
                // Only an object with a validator (ETag, version, Last-Modified)
                // can be told apart from a replacement of the same size.
                if let Some((c, id)) = header_cache.as_ref().filter(|_| source.has_validator()) {
                    let header = CachedHeader {
                        tiff: tiff.clone(),
                        header_bytes: bytes.clone(),
                        pin: source.pin(),
                    };
                    c.insert(id.clone(), header).await;
                }
                (tiff, bytes)
            }
        };
        fetcher.hold(header_bytes);
        let levels = classify(&tiff).map_err(tag)?;
        let profile = Profile::build(&tiff, &levels).map_err(tag)?;
        let open_stats = source.stats();
        tracing::debug!(%url, requests = open_stats.requests, bytes = open_stats.bytes, "opened");
        Ok(Self {
            inner: Arc::new(Inner {
                source,
                fetcher,
                tile_cache: match options.tile_caching() {
                    TileCaching::Shared(shared) => Some(shared.clone()),
                    TileCaching::Own(bytes) => Some(Arc::new(TileCache::new(*bytes))),
                    _ => None,
                },
                decode_nanos: AtomicU64::new(0),
                tiles_decoded: AtomicU64::new(0),
                options,
                tiff,
                levels,
                profile,
                open_stats,
                arrays: Mutex::new(HashMap::new()),
                paged: Mutex::new(HashMap::new()),
                deferred_bytes: AtomicU64::new(0),
            }),
        })
    }

    /// One GET of the opening bytes (straight from the source: the one
    /// request that may find the object shorter than asked), then whatever
    /// the header still needs, through the fetcher.
    async fn read_header(
        source: &ByteSource,
        fetcher: &Fetcher,
        options: &Options,
    ) -> Result<(TiffFile, RangeBuffers)> {
        let url = source.url().to_string();
        let tag = |e: Error| e.with_source(&url);
        let mut decoder = HeaderDecoder::new(*options.limits());
        let first = source.get_range(0..options.ingested_bytes_at_open().max(16)).await?;
        if let Some(size) = source.size() {
            decoder.set_file_size(size);
        }
        decoder.push_range(0, first);
        let mut rounds = 0;
        let tiff = loop {
            match decoder.try_decode().map_err(|e| tag(e.into()))? {
                DecodeResult::Data(t) => break t,
                DecodeResult::NeedsData(ranges) => {
                    rounds += 1;
                    if rounds > MAX_OPEN_ROUNDS {
                        return Err(Error::format(
                            Location::new().source(&url),
                            format!("header still incomplete after {MAX_OPEN_ROUNDS} fetch rounds"),
                        ));
                    }
                    tracing::debug!(%url, ?ranges, "header needs more bytes");
                    let before = decoder.bytes_pushed();
                    let got = fetcher.fetch_metadata(&ranges).await?;
                    for r in &ranges {
                        if let Some(b) = got.get(r.clone()) {
                            decoder.push_range(r.start, b);
                        }
                    }
                    if decoder.bytes_pushed() == before {
                        let first = ranges.first().cloned().unwrap_or(0..0);
                        return Err(Error::format(
                            Location::new().source(&url).range(first),
                            "the source returned no bytes for a range the header needs (truncated file?)",
                        ));
                    }
                }
            }
        };
        Ok((tiff, decoder.take_buffers()))
    }
}
