//! Errors of the pure core (`tiff`, `codec`, `geo`): what is wrong with the
//! bytes, and where.
//!
//! The core knows nothing of URLs, networks or readers, so it cannot build
//! the crate's public [`crate::Error`]; it reports a [`TiffError`] carrying a
//! [`Location`] (IFD, tag, byte range), which converts into the public error
//! with `From`. The reader fills in the source. May use: `tiff::tags` only.

use std::fmt;
use std::ops::Range;

use super::tags::Tag;

/// Where in a file something went wrong. Every part is optional; `Display`
/// prints the parts that are known, e.g. `s3://b/k.tif, IFD 2, tag
/// TileOffsets (324), bytes 1024..2048`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The URL or path of the object, or `<memory>` for in-memory bytes.
    pub source: Option<String>,
    /// Index of the IFD in the file's chain (0 = first).
    pub ifd: Option<usize>,
    /// The TIFF tag.
    pub tag: Option<Tag>,
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
    pub fn tag(mut self, tag: Tag) -> Self {
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
            parts.push(format!("tag {} ({})", t.name().unwrap_or("Unknown"), t.code()));
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

/// What the core found wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TiffError {
    /// The bytes are not a valid TIFF, or contradict themselves.
    #[error("invalid TIFF at {location}: {message}")]
    Corrupt {
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
    /// The file asks for more than a [`super::Limits`] allows.
    #[error("limit exceeded at {location}: {what} is {value}, the limit is {limit}")]
    LimitExceeded {
        /// Where the offending value is.
        location: Location,
        /// Which limit (the `Limits` field name).
        what: &'static str,
        /// The value the file asked for (`u64::MAX` when it overflowed).
        value: u64,
        /// The configured maximum.
        limit: u64,
    },
}

/// Result of the core.
pub type TiffResult<T> = std::result::Result<T, TiffError>;

impl TiffError {
    /// A corrupt-file error at `location`.
    pub fn corrupt(location: Location, message: impl Into<String>) -> Self {
        TiffError::Corrupt {
            location,
            message: message.into(),
        }
    }

    /// An unsupported-feature error at `location`.
    pub fn unsupported(location: Location, message: impl Into<String>) -> Self {
        TiffError::Unsupported {
            location,
            message: message.into(),
        }
    }
}
