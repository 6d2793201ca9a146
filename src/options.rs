//! Reader configuration: [`Options`] and the allocation [`Limits`].
//!
//! Options are built with typed `with_*` methods, or read from the environment
//! with [`Options::from_env`] using the variable names aiocogeo uses
//! (`INGESTED_BYTES_AT_OPEN`, `ENABLE_BLOCK_CACHE`,
//! `HTTP_MERGE_CONSECUTIVE_RANGES`, `LOG_LEVEL`) plus our own, prefixed
//! `ASYNC_COG_`. A bad value is an [`Error::Config`] naming the variable.
//!
//! Limits exist because every count and size in a TIFF comes from an
//! untrusted file: they are checked before any allocation the file sizes.

use std::time::Duration;

use crate::error::{Error, Result};

/// Upper bounds on what a file may make us allocate or fetch while opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most IFDs followed along the chain.
    pub max_ifds: usize,
    /// Most entries in one IFD.
    pub max_tags_per_ifd: u64,
    /// Most elements in one tag value (e.g. TileOffsets entries).
    pub max_array_len: u64,
    /// Most bytes opening may fetch in all (the first GET included).
    pub max_header_bytes: u64,
    /// Most bytes one decoded block (tile or strip, all its samples, in the
    /// output type) may take, like image-tiff's `decoding_buffer_size`. A
    /// file claiming a 2^31-pixel tile is refused before anything is allocated.
    pub max_block_bytes: u64,
    /// Most bytes one read may return (data, in the output type), and so the
    /// most its tiles and intermediate buffers may hold.
    pub max_read_bytes: u64,
    /// Most tiles one read may decode.
    pub max_read_tiles: u64,
    /// Most bytes of tag arrays (tile offsets and byte counts) loaded after
    /// opening, over the reader's life. Arrays loaded during opening count
    /// against `max_header_bytes`.
    pub max_deferred_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_ifds: 1024,
            max_tags_per_ifd: 4096,
            // 16 Mi entries: a 1,000,000 x 1,000,000 image in 256-pixel tiles.
            max_array_len: 1 << 24,
            max_header_bytes: 64 << 20,
            max_block_bytes: 256 << 20,
            max_read_bytes: 1 << 30,
            max_read_tiles: 1 << 16,
            max_deferred_bytes: 256 << 20,
        }
    }
}

impl Limits {
    /// Refuses `value` (computed with checked arithmetic: `None` means it
    /// overflowed) when it is above `limit`, naming the limit.
    pub(crate) fn check(what: &'static str, value: Option<u64>, limit: u64, location: crate::Location) -> Result<u64> {
        match value {
            Some(v) if v <= limit => Ok(v),
            v => Err(Error::LimitExceeded {
                location,
                what,
                value: v.unwrap_or(u64::MAX),
                limit,
            }),
        }
    }

    /// No limits at all: only for files you trust.
    pub fn unlimited() -> Self {
        Self {
            max_ifds: usize::MAX,
            max_tags_per_ifd: u64::MAX,
            max_array_len: u64::MAX,
            max_header_bytes: u64::MAX,
            max_block_bytes: u64::MAX,
            max_read_bytes: u64::MAX,
            max_read_tiles: u64::MAX,
            max_deferred_bytes: u64::MAX,
        }
    }
}

/// How a [`crate::CogReader`] fetches and caches.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bytes fetched from offset 0 by the single GET that opens a file.
    pub ingested_bytes_at_open: u64,
    /// Whether decoded-block caching is on (used by tile reads).
    pub enable_block_cache: bool,
    /// Merge touching byte ranges into one request (GDAL's
    /// `GDAL_HTTP_MERGE_CONSECUTIVE_RANGES`).
    pub merge_consecutive_ranges: bool,
    /// Log level for the CLI's subscriber (`LOG_LEVEL`), e.g. `info`.
    pub log_level: Option<String>,
    /// Allocation and fetch limits.
    pub limits: Limits,
    /// Time allowed for one request, from connecting to the last body byte.
    pub timeout: Duration,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one request with all its retries: `timeout` is per
    /// attempt, so without this a server that accepts and never answers
    /// holds a read for (retries + 1) x timeout.
    pub deadline: Duration,
    /// Retries of a failed request (transport errors, 5xx, 429), with
    /// exponential backoff. object_store's own default (10 retries over up to
    /// 3 minutes) is far too patient for a tile server.
    pub max_retries: usize,
    /// Largest gap, in bytes, between two byte ranges that are still merged
    /// into one request (the gap is fetched and thrown away). `None` follows
    /// `merge_consecutive_ranges`: touching ranges only, or no merging.
    pub max_gap: Option<u64>,
    /// Merged requests are not grown past this many bytes (a single block
    /// larger than this is still one request).
    pub max_request_bytes: u64,
    /// Most requests in flight at once for one read.
    pub max_concurrency: usize,
    /// Byte budget of the block cache created for a reader, when
    /// `enable_block_cache` is on and no shared cache is given.
    pub block_cache_bytes: u64,
    /// A cache shared between readers (overrides `block_cache_bytes`).
    pub block_cache: Option<std::sync::Arc<crate::cache::BlockCache>>,
    /// Parsed headers shared between opens (off unless given).
    pub header_cache: Option<std::sync::Arc<crate::cache::HeaderCache>>,
    /// Value written where a boundless read falls outside the image, when
    /// the file has no nodata (the nodata value wins when there is one).
    pub fill_value: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ingested_bytes_at_open: 16384,
            enable_block_cache: true,
            merge_consecutive_ranges: true,
            log_level: None,
            limits: Limits::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            max_retries: 3,
            max_gap: None,
            max_request_bytes: 16 << 20,
            max_concurrency: 16,
            block_cache_bytes: 64 << 20,
            block_cache: None,
            header_cache: None,
            fill_value: 0.0,
        }
    }
}

impl Options {
    /// Defaults: 16 KiB at open, cache on, merge touching ranges.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults overridden by the process environment.
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
        for (k, v) in vars {
            let (k, v) = (k.as_ref(), v.as_ref());
            match k {
                "INGESTED_BYTES_AT_OPEN" => {
                    o.ingested_bytes_at_open = parse_u64(k, v)?;
                    if o.ingested_bytes_at_open < 16 {
                        return Err(config(k, v, "at least 16 bytes (a BigTIFF header)"));
                    }
                }
                "ENABLE_BLOCK_CACHE" => o.enable_block_cache = parse_bool(k, v)?,
                "HTTP_MERGE_CONSECUTIVE_RANGES" => o.merge_consecutive_ranges = parse_bool(k, v)?,
                // Kept as given when it names no level: the CLI says which
                // names are allowed and goes on (a log setting is no reason
                // to refuse work).
                "LOG_LEVEL" => o.log_level = Some(log_level(v).map_or_else(|| v.to_string(), str::to_string)),
                "ASYNC_COG_TIMEOUT" => o.timeout = parse_seconds(k, v)?,
                "ASYNC_COG_CONNECT_TIMEOUT" => o.connect_timeout = parse_seconds(k, v)?,
                "ASYNC_COG_DEADLINE" => o.deadline = parse_seconds(k, v)?,
                "ASYNC_COG_MAX_RETRIES" => o.max_retries = usize::try_from(parse_u64(k, v)?).unwrap_or(usize::MAX),
                "ASYNC_COG_MAX_GAP" => o.max_gap = Some(parse_u64(k, v)?),
                "ASYNC_COG_MAX_REQUEST_BYTES" => o.max_request_bytes = parse_u64(k, v)?.max(1),
                "ASYNC_COG_MAX_CONCURRENCY" => {
                    o.max_concurrency = usize::try_from(parse_u64(k, v)?).unwrap_or(usize::MAX).max(1)
                }
                "ASYNC_COG_BLOCK_CACHE_BYTES" => o.block_cache_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_HEADER_BYTES" => o.limits.max_header_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_BLOCK_BYTES" => o.limits.max_block_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_READ_BYTES" => o.limits.max_read_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_READ_TILES" => o.limits.max_read_tiles = parse_u64(k, v)?,
                "ASYNC_COG_MAX_DEFERRED_BYTES" => o.limits.max_deferred_bytes = parse_u64(k, v)?,
                "ASYNC_COG_MAX_IFDS" => o.limits.max_ifds = usize::try_from(parse_u64(k, v)?).unwrap_or(usize::MAX),
                _ => {}
            }
        }
        Ok(o)
    }

    /// Sets the size of the opening GET (at least 16 bytes are always fetched).
    pub fn with_ingested_bytes_at_open(mut self, bytes: u64) -> Self {
        self.ingested_bytes_at_open = bytes.max(16);
        self
    }

    /// Turns the block cache on or off.
    pub fn with_block_cache(mut self, enabled: bool) -> Self {
        self.enable_block_cache = enabled;
        self
    }

    /// Turns merging of touching byte ranges on or off.
    pub fn with_merge_consecutive_ranges(mut self, merge: bool) -> Self {
        self.merge_consecutive_ranges = merge;
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the time allowed for one request, retries included.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the connection timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how often a failed request is retried.
    pub fn with_max_retries(mut self, retries: usize) -> Self {
        self.max_retries = retries;
        self
    }

    /// Merges byte ranges whose gap is at most `gap` bytes.
    pub fn with_max_gap(mut self, gap: u64) -> Self {
        self.max_gap = Some(gap);
        self
    }

    /// Caps the size of merged requests.
    pub fn with_max_request_bytes(mut self, bytes: u64) -> Self {
        self.max_request_bytes = bytes.max(1);
        self
    }

    /// Bounds the requests in flight for one read.
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Sets the byte budget of the reader's own block cache.
    pub fn with_block_cache_bytes(mut self, bytes: u64) -> Self {
        self.block_cache_bytes = bytes;
        self
    }

    /// Shares `cache` between the readers opened with these options.
    pub fn with_shared_block_cache(mut self, cache: std::sync::Arc<crate::cache::BlockCache>) -> Self {
        self.block_cache = Some(cache);
        self.enable_block_cache = true;
        self
    }

    /// Reuses parsed headers from `cache`: opening a URL already in it costs
    /// no request.
    pub fn with_header_cache(mut self, cache: std::sync::Arc<crate::cache::HeaderCache>) -> Self {
        self.header_cache = Some(cache);
        self
    }

    /// Sets the fill value of boundless reads for files without nodata.
    pub fn with_fill_value(mut self, value: f64) -> Self {
        self.fill_value = value;
        self
    }

    /// The gap up to which ranges merge: `max_gap`, else 0 (touching) when
    /// `merge_consecutive_ranges`, else no merging (`None`).
    pub fn merge_gap(&self) -> Option<u64> {
        match (self.max_gap, self.merge_consecutive_ranges) {
            (Some(g), _) => Some(g),
            (None, true) => Some(0),
            (None, false) => None,
        }
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
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
        assert!(!o.enable_block_cache);
        assert!(!o.merge_consecutive_ranges);
        assert_eq!(o.log_level.as_deref(), Some("debug"));
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
            assert_eq!(o.log_level.as_deref(), Some(level), "{given}");
        }
        let e = Options::from_vars([("ASYNC_COG_TIMEOUT", "-1")]).unwrap_err();
        assert!(e.to_string().contains("ASYNC_COG_TIMEOUT"), "{e}");
        let o = Options::from_vars([("ASYNC_COG_TIMEOUT", "0.5"), ("ASYNC_COG_MAX_RETRIES", "0")]).unwrap();
        assert_eq!((o.timeout, o.max_retries), (Duration::from_millis(500), 0));
        let e = Options::from_vars([("INGESTED_BYTES_AT_OPEN", "4")]).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
    }
}
