//! Reader configuration: [`Options`], with the block cache, the decoded-tile
//! cache and range merging as one choice each ([`BlockCaching`],
//! [`TileCaching`], [`RangeMerging`]).
//!
//! Options are built with typed `with_*` methods, or read from the environment
//! with [`Options::from_env`] using the variable names aiocogeo uses
//! (`INGESTED_BYTES_AT_OPEN`, `ENABLE_BLOCK_CACHE`,
//! `HTTP_MERGE_CONSECUTIVE_RANGES`, `LOG_LEVEL`) plus our own, prefixed
//! `ASYNC_COG_`. A bad value is an [`Error::Config`] naming the variable.
//!
//! Allocation limits are the core's [`Limits`]; timeouts and retries the
//! source's [`Transport`]. May use: `cache`, `source`, `tiff`, `error`.

use std::time::Duration;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::source::Transport;
use crate::source::{BlockCache, HeaderCache, RequestBudget, TileCache};
use crate::tiff::Limits;

/// Whether and where a reader caches compressed blocks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BlockCaching {
    /// No cache: every read fetches (concurrent reads of one block still
    /// share one request).
    Off,
    /// A cache of its own with this byte budget, for each reader.
    Own(u64),
    /// One cache shared by every reader opened with these options (keys
    /// name the object and its version, so files never mix).
    Shared(Arc<BlockCache>),
}

/// Whether and where a reader caches decoded tiles (see [`TileCache`]).
/// Turn it off for reads that touch each tile once (a scan of a whole
/// file), where it only costs memory; keep it for tile servers and
/// repeated windows, where hot tiles then decode once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TileCaching {
    /// No cache: every read decodes (concurrent reads of one tile in one
    /// call still decode it once).
    Off,
    /// A cache of its own with this byte budget, for each reader.
    Own(u64),
    /// One cache shared by every reader opened with these options.
    Shared(Arc<TileCache>),
}

/// How byte ranges of one read are merged into requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeMerging {
    /// One request per block.
    Off,
    /// Ranges at most this many bytes apart share a request (the gap is
    /// fetched and thrown away); `Gap(0)` merges touching ranges only, as
    /// GDAL's `GDAL_HTTP_MERGE_CONSECUTIVE_RANGES` does.
    Gap(u64),
}

impl RangeMerging {
    /// The gap up to which ranges merge; `None` when they never do.
    pub fn gap(self) -> Option<u64> {
        match self {
            RangeMerging::Off => None,
            RangeMerging::Gap(g) => Some(g),
        }
    }
}

/// How a [`crate::CogReader`] fetches, caches and limits. Built with
/// `with_*` methods from [`Options::new`] or [`Options::from_env`], the one
/// place that reads the environment.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    ingested_bytes_at_open: u64,
    caching: BlockCaching,
    tile_caching: TileCaching,
    merging: RangeMerging,
    max_request_bytes: u64,
    max_concurrency: usize,
    transport: Transport,
    /// Whether a timeout or retry count was set, which a caller-built store
    /// or in-memory bytes cannot honour.
    transport_set: bool,
    limits: Limits,
    header_cache: Option<Arc<HeaderCache>>,
    budget: Option<Arc<RequestBudget>>,
    fill_value: f64,
    log_level: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ingested_bytes_at_open: 16384,
            caching: BlockCaching::Own(64 << 20),
            tile_caching: TileCaching::Own(64 << 20),
            merging: RangeMerging::Gap(0),
            max_request_bytes: 16 << 20,
            max_concurrency: 16,
            transport: Transport::default(),
            transport_set: false,
            limits: Limits::default(),
            header_cache: None,
            budget: None,
            fill_value: 0.0,
            log_level: None,
        }
    }
}

impl Options {
    /// Defaults: 16 KiB at open, 64 MiB block and tile caches per reader, touching ranges
    /// merged, 16 requests in flight per reader, 30 s timeout, 3 retries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults overridden by the process environment: aiocogeo's
    /// `INGESTED_BYTES_AT_OPEN`, `ENABLE_BLOCK_CACHE`,
    /// `HTTP_MERGE_CONSECUTIVE_RANGES` and `LOG_LEVEL`, and our own
    /// `ASYNC_COG_*` (see the README). A bad value is an [`Error::Config`]
    /// naming the variable.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(std::env::vars())
    }

    /// Defaults overridden by the given `(name, value)` pairs, read as
    /// [`Options::from_env`] reads the environment. Unknown names are ignored.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut o = Self::default();
        let (mut cache_on, mut cache_bytes) = (true, None);
        let (mut merge_on, mut gap) = (true, None);
        for (k, v) in vars {
            let (k, v) = (k.as_ref(), v.as_ref());
            let t = &mut o.transport;
            let l = &mut o.limits;
            match k {
                "INGESTED_BYTES_AT_OPEN" => {
                    o.ingested_bytes_at_open = parse_u64(k, v)?;
                    if o.ingested_bytes_at_open < 16 {
                        return Err(config(k, v, "at least 16 bytes (a BigTIFF header)"));
                    }
                }
                "ENABLE_BLOCK_CACHE" => cache_on = parse_bool(k, v)?,
                "HTTP_MERGE_CONSECUTIVE_RANGES" => merge_on = parse_bool(k, v)?,
                // Kept as given when it names no level: the CLI says which
                // names are allowed and goes on (a log setting is no reason
                // to refuse work).
                "LOG_LEVEL" => o.log_level = Some(log_level(v).map_or_else(|| v.to_string(), str::to_string)),
                "ASYNC_COG_TIMEOUT" => (t.timeout, o.transport_set) = (parse_seconds(k, v)?, true),
                "ASYNC_COG_CONNECT_TIMEOUT" => (t.connect_timeout, o.transport_set) = (parse_seconds(k, v)?, true),
                "ASYNC_COG_DEADLINE" => t.deadline = parse_seconds(k, v)?,
                "ASYNC_COG_MAX_RETRIES" => {
                    (t.max_retries, o.transport_set) = (usize::try_from(parse_u64(k, v)?).unwrap_or(usize::MAX), true)
                }
                "ASYNC_COG_MAX_GAP" => gap = Some(parse_u64(k, v)?),
                "ASYNC_COG_MAX_REQUEST_BYTES" => o.max_request_bytes = parse_u64(k, v)?.max(1),
                "ASYNC_COG_MAX_CONCURRENCY" => {
                    o.max_concurrency = usize::try_from(parse_u64(k, v)?).unwrap_or(usize::MAX).max(1)
                }
                "ASYNC_COG_BLOCK_CACHE_BYTES" => cache_bytes = Some(parse_u64(k, v)?),
                "ASYNC_COG_TILE_CACHE_BYTES" => {
                    o.tile_caching = match parse_u64(k, v)? {
                        0 => TileCaching::Off,
                        b => TileCaching::Own(b),
                    }
                }
                "ASYNC_COG_MAX_HEADER_BYTES" => l.max_header_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_BLOCK_BYTES" => l.max_block_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_READ_BYTES" => l.max_read_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_READ_TILES" => l.max_read_tiles = parse_u64(k, v)?,
                "ASYNC_COG_MAX_DEFERRED_BYTES" => l.max_deferred_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_IFDS" => l.max_ifds = usize::try_from(parse_u64(k, v)?).unwrap_or(usize::MAX),
                "ASYNC_COG_MAX_TAGS_PER_IFD" => l.max_tags_per_ifd = parse_u64(k, v)?,
                "ASYNC_COG_MAX_ARRAY_LEN" => l.max_array_len = parse_u64(k, v)?,
                "ASYNC_COG_FILL_VALUE" => {
                    o.fill_value = v.trim().parse::<f64>().map_err(|_| config(k, v, "a number"))?;
                }
                _ => {}
            }
        }
        o.caching = match (cache_on, cache_bytes) {
            (false, _) => BlockCaching::Off,
            (true, Some(b)) => BlockCaching::Own(b),
            (true, None) => o.caching,
        };
        // An explicit gap wins over the aiocogeo switch.
        o.merging = match (gap, merge_on) {
            (Some(g), _) => RangeMerging::Gap(g),
            (None, true) => RangeMerging::Gap(0),
            (None, false) => RangeMerging::Off,
        };
        Ok(o)
    }

    /// The options as the `(name, value)` pairs [`Options::from_vars`]
    /// reads, so that a reader can be described in one process and rebuilt
    /// in another. Shared caches, a header cache and a shared request
    /// budget live in one process and are left out (the rebuilt reader
    /// makes its own); timeouts and retries are written only when set.
    pub fn to_vars(&self) -> Vec<(String, String)> {
        let mut v: Vec<(&str, String)> = vec![("INGESTED_BYTES_AT_OPEN", self.ingested_bytes_at_open.to_string())];
        match &self.caching {
            BlockCaching::Off => v.push(("ENABLE_BLOCK_CACHE", "FALSE".into())),
            BlockCaching::Own(b) => v.push(("ASYNC_COG_BLOCK_CACHE_BYTES", b.to_string())),
            _ => {}
        }
        match &self.tile_caching {
            TileCaching::Off => v.push(("ASYNC_COG_TILE_CACHE_BYTES", "0".into())),
            TileCaching::Own(b) => v.push(("ASYNC_COG_TILE_CACHE_BYTES", b.to_string())),
            _ => {}
        }
        match self.merging {
            RangeMerging::Off => v.push(("HTTP_MERGE_CONSECUTIVE_RANGES", "FALSE".into())),
            RangeMerging::Gap(g) => v.push(("ASYNC_COG_MAX_GAP", g.to_string())),
        }
        let t = &self.transport;
        if self.transport_set {
            v.push(("ASYNC_COG_TIMEOUT", t.timeout.as_secs_f64().to_string()));
            v.push(("ASYNC_COG_CONNECT_TIMEOUT", t.connect_timeout.as_secs_f64().to_string()));
            v.push(("ASYNC_COG_MAX_RETRIES", t.max_retries.to_string()));
        }
        v.push(("ASYNC_COG_DEADLINE", t.deadline.as_secs_f64().to_string()));
        v.push(("ASYNC_COG_MAX_REQUEST_BYTES", self.max_request_bytes.to_string()));
        v.push(("ASYNC_COG_MAX_CONCURRENCY", self.max_concurrency.to_string()));
        let l = &self.limits;
        v.push(("ASYNC_COG_MAX_HEADER_BYTES", l.max_header_bytes.to_string()));
        v.push(("ASYNC_COG_MAX_BLOCK_BYTES", l.max_block_bytes.to_string()));
        v.push(("ASYNC_COG_MAX_READ_BYTES", l.max_read_bytes.to_string()));
        v.push(("ASYNC_COG_MAX_READ_TILES", l.max_read_tiles.to_string()));
        v.push(("ASYNC_COG_MAX_DEFERRED_BYTES", l.max_deferred_bytes.to_string()));
        v.push(("ASYNC_COG_MAX_IFDS", l.max_ifds.to_string()));
        v.push(("ASYNC_COG_MAX_TAGS_PER_IFD", l.max_tags_per_ifd.to_string()));
        v.push(("ASYNC_COG_MAX_ARRAY_LEN", l.max_array_len.to_string()));
        v.push(("ASYNC_COG_FILL_VALUE", self.fill_value.to_string()));
        if let Some(level) = &self.log_level {
            v.push(("LOG_LEVEL", level.clone()));
        }
        v.into_iter().map(|(k, val)| (k.to_string(), val)).collect()
    }

    /// Sets the size of the opening GET (at least 16 bytes are always fetched).
    pub fn with_ingested_bytes_at_open(mut self, bytes: u64) -> Self {
        self.ingested_bytes_at_open = bytes.max(16);
        self
    }

    /// Sets the block cache: off, a budget of the reader's own, or shared.
    pub fn with_block_caching(mut self, caching: BlockCaching) -> Self {
        self.caching = caching;
        self
    }

    /// Shares `cache` between the readers opened with these options
    /// (`with_block_caching(BlockCaching::Shared(cache))`).
    pub fn with_shared_block_cache(self, cache: Arc<BlockCache>) -> Self {
        self.with_block_caching(BlockCaching::Shared(cache))
    }

    /// These options with one request budget and one block and one tile
    /// cache for every reader opened with the result (a stack's files, a
    /// tile server's sources), so many files stay within one memory and
    /// concurrency bound; a budget or cache already shared is kept. Caches
    /// key entries by object, so files never see each other's pixels.
    pub fn shared(mut self) -> Options {
        if self.request_budget().is_none() {
            let budget = Arc::new(RequestBudget::new(self.max_concurrency()));
            self = self.with_request_budget(budget);
        }
        if let BlockCaching::Own(bytes) = self.caching {
            self = self.with_shared_block_cache(Arc::new(BlockCache::new(bytes)));
        }
        if let TileCaching::Own(bytes) = self.tile_caching {
            self = self.with_tile_caching(TileCaching::Shared(Arc::new(TileCache::new(bytes))));
        }
        self
    }

    /// Sets the decoded-tile cache: off, a budget of the reader's own, or shared.
    pub fn with_tile_caching(mut self, caching: TileCaching) -> Self {
        self.tile_caching = caching;
        self
    }

    /// Sets how byte ranges merge into requests.
    pub fn with_range_merging(mut self, merging: RangeMerging) -> Self {
        self.merging = merging;
        self
    }

    /// Sets the per-attempt timeout (URLs only: a store you built keeps its own).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.transport.timeout = timeout;
        self.transport_set = true;
        self
    }

    /// Sets the connection timeout (URLs only).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport.connect_timeout = timeout;
        self.transport_set = true;
        self
    }

    /// Sets how often a failed request is retried (URLs only).
    pub fn with_max_retries(mut self, retries: usize) -> Self {
        self.transport.max_retries = retries;
        self.transport_set = true;
        self
    }

    /// Sets the time allowed for one request, retries included (every
    /// source but in-memory bytes).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.transport.deadline = deadline;
        self
    }

    /// Caps the size of merged requests (a single block larger than this is
    /// still one request).
    pub fn with_max_request_bytes(mut self, bytes: u64) -> Self {
        self.max_request_bytes = bytes.max(1);
        self
    }

    /// Bounds the requests in flight at once for one reader, across all its
    /// concurrent reads.
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Reuses parsed headers from `cache`: opening a URL already in it costs
    /// no request.
    pub fn with_header_cache(mut self, cache: Arc<HeaderCache>) -> Self {
        self.header_cache = Some(cache);
        self
    }

    /// Bounds requests in flight by `budget`, shared with every reader given
    /// the same budget (a stack's files fetch through one), instead of the
    /// reader's own bound of [`Options::with_max_concurrency`].
    pub fn with_request_budget(mut self, budget: Arc<RequestBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Sets the value of boundless reads outside the image, for files
    /// without nodata (the nodata value wins when there is one).
    pub fn with_fill_value(mut self, value: f64) -> Self {
        self.fill_value = value;
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Bytes fetched from offset 0 by the single GET that opens a file.
    pub fn ingested_bytes_at_open(&self) -> u64 {
        self.ingested_bytes_at_open
    }

    /// The decoded-tile cache choice.
    pub fn tile_caching(&self) -> &TileCaching {
        &self.tile_caching
    }

    /// The block cache choice.
    pub fn block_caching(&self) -> &BlockCaching {
        &self.caching
    }

    /// The range merging choice.
    pub fn range_merging(&self) -> RangeMerging {
        self.merging
    }

    /// The cap on merged requests.
    pub fn max_request_bytes(&self) -> u64 {
        self.max_request_bytes
    }

    /// Requests in flight at once per reader.
    pub fn max_concurrency(&self) -> usize {
        self.max_concurrency
    }

    /// Timeouts, retries and the deadline.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The allocation and fetch limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The shared header cache, if any.
    pub fn header_cache(&self) -> Option<&Arc<HeaderCache>> {
        self.header_cache.as_ref()
    }

    /// The shared request budget, when one was given.
    pub fn request_budget(&self) -> Option<&Arc<RequestBudget>> {
        self.budget.as_ref()
    }

    /// The fill value of boundless reads for files without nodata.
    pub fn fill_value(&self) -> f64 {
        self.fill_value
    }

    /// The log level asked for with `LOG_LEVEL`, for the CLI's subscriber.
    pub fn log_level(&self) -> Option<&str> {
        self.log_level.as_deref()
    }

    /// Refuses timeouts and retries that a source built by the caller
    /// (`what`) cannot honour, instead of ignoring them.
    pub(crate) fn check_transport_applies(&self, what: &str) -> Result<()> {
        if !self.transport_set {
            return Ok(());
        }
        Err(Error::Config {
            key: "timeout/connect_timeout/max_retries".into(),
            value: format!("{:?}", self.transport),
            message: format!(
                "{what} does its own requests: set timeouts and retries on the store itself (the deadline still applies)"
            ),
        })
    }
}

/// The `tracing` level for a level name as Python's logging, rasterio,
/// aiocogeo and GDAL users write it, in any case: CRITICAL/FATAL and ERROR
/// are `error`, WARNING/WARN `warn`, NOTICE/INFO `info`, DEBUG `debug`,
/// TRACE `trace`, OFF/NONE/QUIET `off`. `None` for anything else.
pub fn log_level(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "critical" | "fatal" | "error" => "error",
        "warning" | "warn" => "warn",
        "notice" | "info" => "info",
        "debug" => "debug",
        "trace" => "trace",
        "off" | "none" | "quiet" => "off",
        _ => return None,
    })
}

fn config(key: &str, value: &str, message: &str) -> Error {
    Error::Config {
        key: key.to_string(),
        value: value.to_string(),
        message: message.to_string(),
    }
}

fn parse_u64(key: &str, value: &str) -> Result<u64> {
    value
        .trim()
        .parse()
        .map_err(|_| config(key, value, "a non-negative whole number"))
}

/// Seconds, fractions allowed (`0.5`), positive.
fn parse_seconds(key: &str, value: &str) -> Result<Duration> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| config(key, value, "a positive number of seconds"))
}

/// GDAL-style booleans: TRUE/FALSE, YES/NO, ON/OFF, 1/0, any case.
fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_uppercase().as_str() {
        "TRUE" | "YES" | "ON" | "1" => Ok(true),
        "FALSE" | "NO" | "OFF" | "0" => Ok(false),
        _ => Err(config(key, value, "TRUE or FALSE (also YES/NO, ON/OFF, 1/0)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vars_reads_aiocogeo_names() {
        let o = Options::from_vars([
            ("INGESTED_BYTES_AT_OPEN", "32768"),
            ("ENABLE_BLOCK_CACHE", "false"),
            ("HTTP_MERGE_CONSECUTIVE_RANGES", "NO"),
            ("LOG_LEVEL", "DEBUG"),
            ("UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(o.ingested_bytes_at_open, 32768);
        assert!(matches!(o.block_caching(), BlockCaching::Off));
        assert_eq!(o.range_merging(), RangeMerging::Off);
        assert_eq!(o.log_level(), Some("debug"));
    }

    #[test]
    fn bad_value_names_the_variable() {
        let e = Options::from_vars([("INGESTED_BYTES_AT_OPEN", "lots")]).unwrap_err();
        assert!(e.to_string().contains("INGESTED_BYTES_AT_OPEN"), "{e}");
        let e = Options::from_vars([("ENABLE_BLOCK_CACHE", "maybe")]).unwrap_err();
        assert!(e.to_string().contains("ENABLE_BLOCK_CACHE"), "{e}");
        for (given, level) in [
            ("Notice", "info"),
            ("CRITICAL", "error"),
            ("warning", "warn"),
            ("loud", "loud"),
        ] {
            let o = Options::from_vars([("LOG_LEVEL", given)]).unwrap();
            assert_eq!(o.log_level(), Some(level), "{given}");
        }
        let e = Options::from_vars([("ASYNC_COG_TIMEOUT", "-1")]).unwrap_err();
        assert!(e.to_string().contains("ASYNC_COG_TIMEOUT"), "{e}");
        let o = Options::from_vars([("ASYNC_COG_TIMEOUT", "0.5"), ("ASYNC_COG_MAX_RETRIES", "0")]).unwrap();
        let t = o.transport();
        assert_eq!((t.timeout, t.max_retries), (Duration::from_millis(500), 0));
        let e = Options::from_vars([("INGESTED_BYTES_AT_OPEN", "4")]).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
    }

    /// Every setting survives `to_vars` → `from_vars`: non-default values
    /// of each come back (compared through the debug form, which shows
    /// every field), and so do the defaults.
    #[test]
    fn to_vars_round_trips() {
        let o = Options::new()
            .with_ingested_bytes_at_open(65536)
            .with_block_caching(BlockCaching::Own(1 << 20))
            .with_tile_caching(TileCaching::Off)
            .with_range_merging(RangeMerging::Gap(4096))
            .with_timeout(Duration::from_millis(1500))
            .with_max_retries(1)
            .with_deadline(Duration::from_secs(9))
            .with_max_request_bytes(1 << 22)
            .with_max_concurrency(3)
            .with_fill_value(f64::NAN)
            .with_limits(
                Limits::default()
                    .with_max_ifds(7)
                    .with_max_array_len(99)
                    .with_max_tags_per_ifd(55),
            );
        for o in [o, Options::new(), Options::new().with_range_merging(RangeMerging::Off)] {
            let back = Options::from_vars(o.to_vars()).unwrap();
            assert_eq!(format!("{back:?}"), format!("{o:?}"));
        }
    }
}
