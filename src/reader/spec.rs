//! A reader's description, for rebuilding it in another process: the URL,
//! the options as `(name, value)` settings and, optionally, the header
//! bytes opening fetched with what the server said about the object
//! (size, ETag, version, Last-Modified). A reader rebuilt with the header
//! makes no request to open, and still refuses an object that changed.
//!
//! Serialisable with serde (JSON, bincode, ...), so that a tokio worker
//! pool, Ray or Dask workers (through bindings) or DataFusion tasks can fan
//! reads out.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::options::Options;
use crate::source::ObjectPin;
use crate::source::cache::CachedHeader;
use crate::tiff::{DecodeResult, HeaderDecoder, RangeBuffers};

use super::CogReader;

/// What opening learnt: the header's bytes and the object's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HeaderSnapshot {
    /// Byte spans of the file read while opening: (offset, bytes).
    pub spans: Vec<(u64, Vec<u8>)>,
    /// Object size in bytes.
    pub size: Option<u64>,
    /// ETag, as the server sent it.
    pub etag: Option<String>,
    /// Object version, where the store has versions.
    pub version: Option<String>,
    /// Last-Modified as (seconds, nanoseconds) since the Unix epoch.
    pub last_modified: Option<(i64, u32)>,
}

/// A reader described: enough to open the same object with the same
/// options elsewhere ([`CogReader::from_spec`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReaderSpec {
    /// The URL or absolute path.
    pub url: String,
    /// The options, as [`Options::to_vars`] writes them.
    pub settings: Vec<(String, String)>,
    /// The header, when described with it.
    pub header: Option<HeaderSnapshot>,
}

impl CogReader {
    /// Describes this reader; `with_header` adds the header bytes so that
    /// the rebuilt reader opens without a request. A reader of bytes in
    /// memory or of a caller-built store has no URL to reopen and is
    /// refused.
    pub fn spec(&self, with_header: bool) -> Result<ReaderSpec> {
        let url = self.inner.source.global_name().ok_or_else(|| Error::InvalidRequest {
            message: format!(
                "{} cannot be described for another process: it was not opened from a URL or path",
                self.url()
            ),
        })?;
        let header = with_header.then(|| {
            let pin = self.inner.source.pin();
            HeaderSnapshot {
                spans: self
                    .inner
                    .fetcher
                    .held()
                    .spans()
                    .map(|(s, b)| (s, b.to_vec()))
                    .collect(),
                size: pin.as_ref().map(|p| p.size).or(self.inner.source.size()),
                etag: pin.as_ref().and_then(|p| p.etag.clone()),
                version: pin.as_ref().and_then(|p| p.version.clone()),
                last_modified: pin
                    .as_ref()
                    .and_then(|p| p.last_modified)
                    .map(|t| (t.timestamp(), t.timestamp_subsec_nanos())),
            }
        });
        Ok(ReaderSpec {
            url: url.to_string(),
            settings: self.options().to_vars(),
            header,
        })
    }

    /// Opens the reader `spec` describes, with its options.
    pub async fn from_spec(spec: &ReaderSpec) -> Result<CogReader> {
        Self::from_spec_with(spec, Options::from_vars(spec.settings.iter().cloned())?).await
    }

    /// Opens the reader `spec` describes with `options` (e.g. the spec's
    /// settings plus this process's shared caches). With a header, no
    /// request is made, and reads still check the object's identity.
    pub async fn from_spec_with(spec: &ReaderSpec, options: Options) -> Result<CogReader> {
        let source = Self::source_for(&spec.url, &options)?;
        let known = match &spec.header {
            Some(h) => snapshot_header(h, &options).map_err(|e| e.with_source(&spec.url))?,
            None => None,
        };
        Self::from_source(source, options, known.map(Arc::new)).await
    }
}

/// The parsed header of a snapshot; `None` when its bytes do not hold the
/// whole header (the reader then opens as usual).
fn snapshot_header(h: &HeaderSnapshot, options: &Options) -> Result<Option<CachedHeader>> {
    let mut decoder = HeaderDecoder::new(*options.limits());
    if let Some(size) = h.size {
        decoder.set_file_size(size);
    }
    let mut buffers = RangeBuffers::new();
    for (start, bytes) in &h.spans {
        let b = Bytes::from(bytes.clone());
        decoder.push_range(*start, b.clone());
        buffers.push(*start, b);
    }
    let tiff = match decoder.try_decode()? {
        DecodeResult::Data(t) => t,
        DecodeResult::NeedsData(_) => {
            tracing::warn!("the header snapshot is incomplete; opening with a request");
            return Ok(None);
        }
    };
    let pin = h.size.map(|size| ObjectPin {
        etag: h.etag.clone(),
        version: h.version.clone(),
        last_modified: h
            .last_modified
            .and_then(|(s, n)| chrono::DateTime::from_timestamp(s, n)),
        size,
    });
    Ok(Some(CachedHeader {
        tiff,
        header_bytes: buffers,
        pin,
    }))
}
