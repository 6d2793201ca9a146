//! The crate's one public error type.
//!
//! Every failure a user can meet (a bad file, a missing object, a limit, a
//! misconfigured environment) is a variant of [`Error`]. Format errors carry a
//! [`Location`]: the source, the IFD, the tag and the byte range involved, so
//! that a message alone is enough to find the problem in the file. The pure
//! TIFF core does not know where its bytes came from; the reader fills in the
//! source with [`Error::with_source`].

use std::fmt;
use std::ops::Range;

use crate::tiff::tags::tag_name;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a file something went wrong. Every part is optional; `Display`
/// prints the parts that are known, e.g. `s3://b/k.tif, IFD 2, tag
/// TileOffsets (324), bytes 1024..2048`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The URL or path of the object, or `<memory>` for in-memory bytes.
    pub source: Option<String>,
    /// Index of the IFD in the file's chain (0 = first).
    pub ifd: Option<usize>,
    /// TIFF tag code.
    pub tag: Option<u16>,
    /// Byte range in the file.
    pub range: Option<Range<u64>>,
}

impl Location {
    /// An empty location, to be refined with the `with_*` methods.
    pub fn new() -> Self {
        Self::default()
    }
    /// The same location in the given source (URL or path).
    pub fn source(mut self, source: &str) -> Self {
        self.source = Some(source.to_string());
        self
    }
    /// The same location in the given IFD.
    pub fn ifd(mut self, ifd: usize) -> Self {
        self.ifd = Some(ifd);
        self
    }
    /// The same location at the given tag.
    pub fn tag(mut self, tag: u16) -> Self {
        self.tag = Some(tag);
        self
    }
    /// The same location at the given byte range.
    pub fn range(mut self, range: Range<u64>) -> Self {
        self.range = Some(range);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = &self.source {
            parts.push(s.clone());
        }
        if let Some(i) = self.ifd {
            parts.push(format!("IFD {i}"));
        }
        if let Some(t) = self.tag {
            parts.push(format!("tag {} ({t})", tag_name(t)));
        }
        if let Some(r) = &self.range {
            parts.push(format!("bytes {}..{}", r.start, r.end));
        }
        if parts.is_empty() {
            f.write_str("<unknown location>")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Everything that can go wrong in async-cog.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid TIFF/GeoTIFF, or contradict themselves.
    #[error("invalid TIFF at {location}: {message}")]
    Format {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A valid file using a feature this crate does not handle.
    #[error("unsupported at {location}: {message}")]
    Unsupported {
        /// Where the feature is used.
        location: Location,
        /// Which feature.
        message: String,
    },
    /// The file asks for more than a configured [`crate::Limits`] allows.
    #[error("limit exceeded at {location}: {what} is {value}, the limit is {limit}")]
    LimitExceeded {
        /// Where the offending value is.
        location: Location,
        /// Which limit (the `Limits` field name).
        what: &'static str,
        /// The value the file asked for.
        value: u64,
        /// The configured maximum.
        limit: u64,
    },
    /// The object does not exist (HTTP 404, missing file or key).
    #[error("not found: {url} ({what})")]
    NotFound {
        /// The URL or path that was asked for.
        url: String,
        /// What is missing: `no such object`, `no such bucket`, `no such file`.
        what: String,
    },
    /// Access was refused (HTTP 401/403, missing credentials).
    #[error("permission denied: {url}: {message}")]
    PermissionDenied {
        /// The URL or path that was asked for.
        url: String,
        /// The store's explanation.
        message: String,
    },
    /// The object changed between two requests (its ETag/version no longer matches).
    #[error("object changed while reading: {url} (expected ETag/version {expected})")]
    Changed {
        /// The URL or path.
        url: String,
        /// The ETag or version recorded at open.
        expected: String,
    },
    /// Any other failure to fetch bytes (network, timeout, server error).
    /// The message spells out the whole chain of causes (refused
    /// connection, timeout, bad certificate), not just "error sending request".
    #[error("I/O error reading {url} bytes {}..{}: {}", range.start, range.end, causes(source.as_ref()))]
    Io {
        /// The URL or path.
        url: String,
        /// The byte range that was being fetched.
        range: Range<u64>,
        /// The underlying object_store error (shared, so that one failed
        /// request can be reported to every reader waiting on it).
        #[source]
        source: std::sync::Arc<object_store::Error>,
    },
    /// A source string that is not a usable path or URL.
    #[error("invalid source {url:?}: {message}")]
    InvalidSource {
        /// The string given.
        url: String,
        /// Why it cannot be used.
        message: String,
    },
    /// A request that does not fit the file (a tile outside the grid, a
    /// level that does not exist, ...).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong with it.
        message: String,
    },
    /// A bug or a failed task (e.g. a decoding task that panicked).
    #[error("internal error: {0}")]
    Internal(String),
    /// A bad configuration value (an environment variable or option).
    #[error("invalid configuration {key}={value:?}: {message}")]
    Config {
        /// The variable or option name.
        key: String,
        /// The value found.
        value: String,
        /// What was expected.
        message: String,
    },
}

/// `e` and each of its sources, joined with ": ", repeats left out (many
/// errors print their source inside their own message).
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

impl Error {
    /// A format error at `location`.
    pub(crate) fn format(location: Location, message: impl Into<String>) -> Self {
        Error::Format {
            location,
            message: message.into(),
        }
    }

    /// An unsupported-feature error at `location`.
    pub(crate) fn unsupported(location: Location, message: impl Into<String>) -> Self {
        Error::Unsupported {
            location,
            message: message.into(),
        }
    }

    /// Fills in the source (URL) of a location-carrying error that lacks one.
    pub fn with_source(mut self, source: &str) -> Self {
        if let Error::Format { location, .. }
        | Error::Unsupported { location, .. }
        | Error::LimitExceeded { location, .. } = &mut self
            && location.source.is_none()
        {
            location.source = Some(source.to_string());
        }
        self
    }

    /// The location of a format, unsupported or limit error.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Format { location, .. }
            | Error::Unsupported { location, .. }
            | Error::LimitExceeded { location, .. } => Some(location),
            _ => None,
        }
    }
}
