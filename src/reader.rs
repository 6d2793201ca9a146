//! [`CogReader`]: the public face of the crate.
//!
//! Opening is one GET of `Options::ingested_bytes_at_open` bytes from offset
//! 0, pushed into the sans-I/O [`HeaderDecoder`]; only if the header is
//! larger does the reader fetch the exact missing spans it asks for (never
//! byte 0 again). Tile offset and byte-count arrays that lie outside the
//! fetched bytes are loaded on first use, once, however many tasks ask.
//!
//! A `CogReader` is `Clone + Send + Sync` (an `Arc` inside): parse once,
//! share everywhere.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use object_store::ObjectStore;
use object_store::path::Path;

use crate::cache::{BlockCache, CachedHeader};
use crate::error::{Error, Location, Result};
use crate::fetch::Fetcher;
use crate::levels::{Level, classify};
use crate::options::{BlockCaching, Options};
use crate::profile::Profile;
use crate::raster::MaskedArray;
use crate::source::{ByteSource, RequestStats, identity, resolve};
use crate::tiff::Limits;
use crate::tiff::{DecodeResult, GhostArea, HeaderDecoder, Ifd, RangeBuffers, TiffFile, Value, merge_ranges};
use crate::tile::{BlockIndex, DecodeContext, TilePlan};

/// Most fetch rounds opening may take before giving up (each round is one
/// batch of concurrent requests; a sane file needs 1 to 3).
const MAX_OPEN_ROUNDS: usize = 64;

/// A tag array, set once by `load_tag_arrays` (which alone fetches).
type ArrayCell = Arc<std::sync::OnceLock<Arc<Vec<u64>>>>;

/// What a reader has cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
}

struct Inner {
    source: Arc<ByteSource>,
    fetcher: Fetcher,
    decode_nanos: AtomicU64,
    options: Options,
    tiff: TiffFile,
    levels: Vec<Level>,
    profile: Profile,
    open_stats: RequestStats,
    /// The bytes fetched while opening, kept so later loads skip them.
    header_bytes: RangeBuffers,
    arrays: Mutex<HashMap<(usize, u16), ArrayCell>>,
    /// Held while deferred arrays load, so that concurrent first reads
    /// load each array once.
    array_loading: tokio::sync::Mutex<()>,
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
    /// Opens a local path or a `file://`, `http(s)://`, `s3://`, `gs://`,
    /// `az://`/`azure://`/`abfs(s)://` URL with default [`Options`].
    pub async fn open(src: &str) -> Result<Self> {
        Self::open_with(src, Options::default()).await
    }

    /// Opens `src` with the given options.
    pub async fn open_with(src: &str, options: Options) -> Result<Self> {
        let transport = options.transport();
        if let Some(source) = ByteSource::exact_url(src, &transport)? {
            return Self::from_source(source, options).await;
        }
        let (store, path, name) = resolve(src, &transport)?;
        let id = identity(src, &path);
        Self::from_source(ByteSource::from_named_store(store, path, name, id), options).await
    }

    /// Opens `path` in an object store you built yourself. The store keeps
    /// its own timeouts and retries: options that set them are refused
    /// (the deadline still applies).
    pub async fn from_store(store: Arc<dyn ObjectStore>, path: Path, options: Options) -> Result<Self> {
        options.check_transport_applies("a caller-built store")?;
        let name = format!("{store}/{path}");
        Self::from_source(ByteSource::from_store(store, path, name), options).await
    }

    /// Opens a COG already in memory: no file is written, no copy is made.
    /// There are no requests, so options that set timeouts or retries are
    /// refused.
    pub async fn from_bytes(bytes: Bytes, options: Options) -> Result<Self> {
        options.check_transport_applies("in-memory bytes")?;
        Self::from_source(ByteSource::from_bytes(bytes), options).await
    }

    async fn from_source(source: ByteSource, options: Options) -> Result<Self> {
        source.set_deadline(options.transport().deadline);
        let url = source.url().to_string();
        let tag = |e: Error| e.with_source(&url);
        // Only a name every reader shares (a URL, an absolute path) keys the header cache.
        let header_cache = options
            .header_cache()
            .cloned()
            .zip(source.global_name().map(str::to_string));
        let cached = match &header_cache {
            Some((c, id)) => c.get(id).await,
            None => None,
        };
        let (tiff, header_bytes) = match cached {
            Some(h) => {
                if let Some(pin) = &h.pin {
                    source.pin_known(pin.clone());
                }
                (h.tiff.clone(), h.header_bytes.clone())
            }
            None => {
                let (tiff, bytes) = Self::read_header(&source, &options).await?;
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
        let levels = classify(&tiff).map_err(tag)?;
        let profile = Profile::build(&tiff, &levels).map_err(tag)?;
        let open_stats = source.stats();
        tracing::debug!(%url, requests = open_stats.requests, bytes = open_stats.bytes, "opened");
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
            options.max_concurrency(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                source,
                fetcher,
                decode_nanos: AtomicU64::new(0),
                options,
                tiff,
                levels,
                profile,
                open_stats,
                header_bytes,
                arrays: Mutex::new(HashMap::new()),
                array_loading: tokio::sync::Mutex::new(()),
                deferred_bytes: AtomicU64::new(0),
            }),
        })
    }

    /// One GET of the opening bytes, then whatever the header still needs.
    async fn read_header(source: &ByteSource, options: &Options) -> Result<(TiffFile, RangeBuffers)> {
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
                    let got = source.get_ranges(&ranges).await?;
                    for (r, b) in ranges.iter().zip(got) {
                        decoder.push_range(r.start, b);
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

    /// Tile (x, y) of level z (0 = full resolution): the data in the file's
    /// own type with shape (bands, tile height, tile width), edge tiles
    /// padded as stored, and its mask (`true` = invalid). An alpha band that
    /// serves as the mask is not returned as data. One request when the mask
    /// is interleaved with the image (or there is no mask), else the image
    /// and mask chunks are fetched concurrently; decoding runs on the
    /// blocking pool.
    pub async fn get_tile(&self, x: u64, y: u64, z: usize) -> Result<MaskedArray> {
        let mut tiles = self.get_tiles(&[(x, y)], z).await?;
        tiles.pop().ok_or_else(|| Error::Internal("no tile decoded".into()))
    }

    /// Several tiles of level `z` at once: every chunk (image and mask) they
    /// need is fetched in one batch of merged, concurrent requests through
    /// the block cache, then the tiles decode in parallel on the blocking
    /// pool. Returned in the order asked.
    pub async fn get_tiles(&self, tiles: &[(u64, u64)], z: usize) -> Result<Vec<MaskedArray>> {
        let slots: Arc<Mutex<Vec<Option<MaskedArray>>>> = Arc::new(Mutex::new(vec![None; tiles.len()]));
        // Each distinct tile is decoded once and goes to every position asking for it.
        let mut index: std::collections::HashMap<(u64, u64), Vec<usize>> = std::collections::HashMap::new();
        let mut distinct = Vec::new();
        for (i, &t) in tiles.iter().enumerate() {
            let positions = index.entry(t).or_default();
            if positions.is_empty() {
                distinct.push(t);
            }
            positions.push(i);
        }
        let sink = {
            let slots = slots.clone();
            move |x: u64, y: u64, tile: MaskedArray| -> Result<()> {
                let positions = index.get(&(x, y)).map(Vec::as_slice).unwrap_or_default();
                let mut s = slots.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((&last, rest)) = positions.split_last() {
                    for &i in rest {
                        if let Some(slot) = s.get_mut(i) {
                            *slot = Some(tile.clone());
                        }
                    }
                    if let Some(slot) = s.get_mut(last) {
                        *slot = Some(tile);
                    }
                }
                Ok(())
            }
        };
        self.for_each_tile(&distinct, z, None, Arc::new(sink)).await?;
        let mut s = slots.lock().unwrap_or_else(|p| p.into_inner());
        tiles
            .iter()
            .zip(s.iter_mut())
            .map(|(t, slot)| {
                slot.take()
                    .ok_or_else(|| Error::Internal(format!("tile {t:?} was not decoded")))
            })
            .collect()
    }

    /// Fetches the tiles of level `z` (one batch of merged requests through
    /// the block cache), decodes each on the blocking pool and hands it to
    /// `sink(x, y, tile)` there, so that consumers paste in parallel with
    /// the decoding of other tiles.
    pub(crate) async fn for_each_tile(
        &self,
        tiles: &[(u64, u64)],
        z: usize,
        progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
        sink: Arc<dyn Fn(u64, u64, MaskedArray) -> Result<()> + Send + Sync>,
    ) -> Result<()> {
        let level = Arc::new(self.level(z)?.clone());
        self.check_tile_budget(&level, tiles.len())?;
        let mut arrays = vec![
            (level.image.ifd, level.image.offsets_tag()),
            (level.image.ifd, level.image.byte_counts_tag()),
        ];
        if let Some(m) = &level.mask {
            arrays.extend([(m.ifd, m.offsets_tag()), (m.ifd, m.byte_counts_tag())]);
        }
        self.load_tag_arrays(&arrays).await?;
        let offsets = self.block_offsets(level.image.ifd).await?;
        let counts = self.block_byte_counts(level.image.ifd).await?;
        let mask_arrays = match &level.mask {
            Some(m) => Some((self.block_offsets(m.ifd).await?, self.block_byte_counts(m.ifd).await?)),
            None => None,
        };
        let plans = tiles
            .iter()
            .map(|&(x, y)| {
                TilePlan::new(
                    &level,
                    x,
                    y,
                    BlockIndex {
                        offsets: &offsets,
                        counts: &counts,
                    },
                    mask_arrays.as_ref().map(|(o, c)| BlockIndex { offsets: o, counts: c }),
                    self.ghost_area(),
                    self.inner.source.size(),
                )
                .map(|p| (x, y, p))
                .map_err(|e| e.with_source(self.url()))
            })
            .collect::<Result<Vec<_>>>()?;
        let ranges: Vec<_> = plans.iter().flat_map(|(_, _, p)| p.chunk_ranges()).collect();
        let buffers = Arc::new(self.inner.fetcher.fetch(&ranges).await?);
        let ctx = Arc::new(self.decode_context(&level));
        let total = plans.len() as u64;
        let done = Arc::new(AtomicU64::new(0));
        let decodes = plans.into_iter().map(|(x, y, plan)| {
            let (level, buffers, ctx, sink) = (level.clone(), buffers.clone(), ctx.clone(), sink.clone());
            let (reader, done, progress) = (self.clone(), done.clone(), progress.clone());
            tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let tile = plan.decode(&level, &buffers, &ctx);
                reader
                    .inner
                    .decode_nanos
                    .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                let r = tile.and_then(|t| sink(x, y, t));
                if let Some(p) = progress {
                    p(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
                r
            })
        });
        for r in futures::future::join_all(decodes).await {
            r.map_err(|e| Error::Internal(format!("tile decoding task failed: {e}")))??;
        }
        Ok(())
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

    /// The byte source (request counters, ETag, size).
    pub fn source(&self) -> &ByteSource {
        &self.inner.source
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

    /// Byte offsets of every block of IFD `ifd` (TileOffsets or StripOffsets),
    /// fetched on first use if they were not in the opening bytes.
    pub async fn block_offsets(&self, ifd: usize) -> Result<Arc<Vec<u64>>> {
        let tag = self.image_of(ifd)?.offsets_tag();
        self.tag_array(ifd, tag).await
    }

    /// Byte counts of every block of IFD `ifd`, fetched on first use.
    pub async fn block_byte_counts(&self, ifd: usize) -> Result<Arc<Vec<u64>>> {
        let tag = self.image_of(ifd)?.byte_counts_tag();
        self.tag_array(ifd, tag).await
    }

    fn image_of(&self, ifd: usize) -> Result<&crate::tiff::ImageIfd> {
        self.inner
            .levels
            .iter()
            .flat_map(|l| std::iter::once(&l.image).chain(l.mask.as_ref()))
            .find(|i| i.ifd == ifd)
            .ok_or_else(|| {
                Error::format(
                    Location::new().source(self.url()).ifd(ifd),
                    "IFD is not an image of any level",
                )
            })
    }

    /// An integer array tag of IFD `ifd` as u64s, loading it once if deferred
    /// (concurrent callers share one request).
    pub async fn tag_array(&self, ifd: usize, tag: u16) -> Result<Arc<Vec<u64>>> {
        self.load_tag_arrays(&[(ifd, tag)]).await?;
        self.cell(ifd, tag)
            .get()
            .cloned()
            .ok_or_else(|| Error::Internal(format!("tag {tag} of IFD {ifd} was not loaded")))
    }

    /// Loads several array tags at once: the parts of their byte ranges not
    /// already fetched at open are merged (touching or under 4 KiB apart)
    /// and fetched concurrently, so `cog info` reads every level's byte
    /// counts in a request or two. Arrays already loaded cost nothing;
    /// concurrent callers wait for one load instead of fetching again. The
    /// decoded arrays count against `Limits::max_deferred_bytes`.
    pub async fn load_tag_arrays(&self, wanted: &[(usize, u16)]) -> Result<()> {
        let todo = || -> Vec<(usize, u16)> {
            wanted
                .iter()
                .copied()
                .filter(|&(i, t)| self.cell(i, t).get().is_none())
                .collect()
        };
        if todo().is_empty() {
            return Ok(());
        }
        let _loading = self.inner.array_loading.lock().await;
        let todo = todo();
        // Checked before fetching, counted once loaded: a failed or dropped
        // load costs nothing against the budget.
        let bytes = self.deferred_cost(&todo)?;
        for ((ifd, tag), value) in self.fetch_values(&todo).await? {
            let array = self.to_array(ifd, tag, Some(value))?;
            let _ = self.cell(ifd, tag).set(array);
        }
        self.inner.deferred_bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    /// The decoded size of the deferred arrays in `todo` (8 bytes an entry),
    /// refused when it would take the reader past `max_deferred_bytes`.
    fn deferred_cost(&self, todo: &[(usize, u16)]) -> Result<u64> {
        let mut bytes: u64 = 0;
        for &(ifd, tag) in todo {
            if let Some(e) = self.ifds().get(ifd).and_then(|i| i.entry(tag))
                && e.deferred_range().is_some()
            {
                bytes = bytes.saturating_add(e.count.saturating_mul(8));
            }
        }
        let before = self.inner.deferred_bytes.load(Ordering::Relaxed);
        Limits::check(
            "max_deferred_bytes",
            before.checked_add(bytes),
            self.options().limits().max_deferred_bytes,
            Location::new().source(self.url()).ifd(todo.first().map_or(0, |t| t.0)),
        )?;
        Ok(bytes)
    }

    fn cell(&self, ifd: usize, tag: u16) -> ArrayCell {
        let mut map = self.inner.arrays.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((ifd, tag)).or_default().clone()
    }

    /// The values of the given tags, fetching the deferred ones' missing bytes.
    async fn fetch_values(&self, wanted: &[(usize, u16)]) -> Result<Vec<((usize, u16), Value)>> {
        let url = self.url();
        let entry = |ifd: usize, tag: u16| {
            self.ifds()
                .get(ifd)
                .and_then(|i| i.entry(tag))
                .ok_or_else(|| Error::format(Location::new().source(url).ifd(ifd).tag(tag), "tag missing"))
        };
        let mut missing = Vec::new();
        for &(ifd, tag) in wanted {
            if let Some(r) = entry(ifd, tag)?.deferred_range() {
                missing.extend(self.inner.header_bytes.missing(r));
            }
        }
        let mut buffers = self.inner.header_bytes.clone();
        if !missing.is_empty() {
            let merged = merge_ranges(missing, 4096);
            let fetched = self.inner.source.get_ranges(&merged).await?;
            for (r, b) in merged.iter().zip(fetched) {
                buffers.push(r.start, b);
            }
        }
        let mut out = Vec::with_capacity(wanted.len());
        for &(ifd, tag) in wanted {
            let e = entry(ifd, tag)?;
            let value = match (e.loaded(), e.deferred_range()) {
                (Some(v), _) => v.clone(),
                (None, Some(range)) => {
                    let bytes = buffers.get(range.clone()).ok_or_else(|| {
                        Error::format(
                            Location::new().source(url).ifd(ifd).tag(tag).range(range),
                            "the source returned fewer bytes than the value needs",
                        )
                    })?;
                    self.inner
                        .tiff
                        .decode_deferred(ifd, tag, &bytes)
                        .map_err(|e| Error::from(e).with_source(url))?
                }
                _ => {
                    return Err(Error::unsupported(
                        Location::new().source(url).ifd(ifd).tag(tag),
                        "unknown field type",
                    ));
                }
            };
            out.push(((ifd, tag), value));
        }
        Ok(out)
    }

    fn to_array(&self, ifd: usize, tag: u16, value: Option<Value>) -> Result<Arc<Vec<u64>>> {
        value.as_ref().and_then(Value::to_u64_vec).map(Arc::new).ok_or_else(|| {
            Error::format(
                Location::new().source(self.url()).ifd(ifd).tag(tag),
                "not an unsigned integer array",
            )
        })
    }
}
