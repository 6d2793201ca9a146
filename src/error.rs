//! The crate's one public error type.
//!
//! Every failure a user can meet (a bad file, a missing object, a limit, a
//! misconfigured environment) is a variant of [`Error`]. Format errors carry a
//! [`Location`]: the source, the IFD, the tag and the byte range involved, so
//! that a message alone is enough to find the problem in the file. The pure
//! core reports a [`TiffError`] (and codecs a [`CodecError`]) without knowing
//! where its bytes came from; both convert into [`Error`] with `From`, and
//! the reader fills in the source with [`Error::with_source`].
//!
//! May use: the core (`tiff`, `codec`). Nothing here knows object_store.

use std::ops::Range;

use crate::codec::CodecError;
pub use crate::tiff::Location;
use crate::tiff::TiffError;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// The object changed between two requests (its ETag/version no longer
    /// matches), or was removed after it was opened.
    #[error("object changed or removed while reading: {url} (expected ETag/version {expected})")]
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
        /// The underlying transport error (shared, so that one failed
        /// request can be reported to every reader waiting on it).
        #[source]
        source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
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
    /// A web-map tile wholly outside the image (rio-tiler's
    /// `TileOutsideBounds`), when the caller asked for an error.
    #[error("tile {z}/{x}/{y} is outside the bounds of {url}")]
    TileOutsideBounds {
        /// The file.
        url: String,
        /// Tile column.
        x: u64,
        /// Tile row.
        y: u64,
        /// Zoom.
        z: u8,
    },
    /// A point outside the image's bounds (rio-tiler's `PointOutsideBounds`).
    #[error("point ({x}, {y}) is outside the bounds of {url}")]
    PointOutsideBounds {
        /// The file.
        url: String,
        /// The point's x (longitude), as given.
        x: f64,
        /// The point's y (latitude), as given.
        y: f64,
    },
    /// Files that cannot be stacked: another CRS, transform, shape, data
    /// type or band count than the stack's first file.
    #[error("cannot stack {url}: {message}")]
    Mismatch {
        /// The file that differs.
        url: String,
        /// What differs, with both values.
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

impl From<TiffError> for Error {
    fn from(e: TiffError) -> Self {
        match e {
            TiffError::Corrupt { location, message } => Error::Format { location, message },
            TiffError::Unsupported { location, message } => Error::Unsupported { location, message },
            TiffError::LimitExceeded {
                location,
                what,
                value,
                limit,
            } => Error::LimitExceeded {
                location,
                what,
                value,
                limit,
            },
            // `TiffError` is non-exhaustive: a variant added later is a
            // format error until it gets its own mapping.
            #[allow(unreachable_patterns)]
            other => Error::Format {
                location: Location::new(),
                message: other.to_string(),
            },
        }
    }
}

impl Error {
    /// A codec failure decoding `what` at `location`: an unsupported
    /// feature (a predictor, a sample depth) or a corrupt stream.
    pub(crate) fn codec(location: Location, what: &str, e: CodecError) -> Self {
        let message = format!("{what}: {e}");
        match e {
            CodecError::Unsupported(_) => Error::Unsupported { location, message },
            _ => Error::Format { location, message },
        }
    }
}
