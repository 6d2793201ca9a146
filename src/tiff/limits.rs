//! [`Limits`]: upper bounds on what an untrusted file may make us allocate.
//!
//! Every count and size in a TIFF comes from the file, so each is checked
//! against a limit before anything it sizes is allocated or fetched (the
//! model is image-tiff's `Limits`). They live in the core because the core
//! does the first checks (IFD counts, array lengths); the reader checks the
//! read-sized ones with the same function. May use: `tiff::error`.

use super::error::{Location, TiffError, TiffResult};

/// Upper bounds on what a file may make us allocate or fetch while opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    pub fn check(what: &'static str, value: Option<u64>, limit: u64, location: Location) -> TiffResult<u64> {
        match value {
            Some(v) if v <= limit => Ok(v),
            v => Err(TiffError::LimitExceeded {
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
    /// Sets the most IFDs followed along the chain (`max_ifds`).
    pub fn with_max_ifds(mut self, value: usize) -> Self {
        self.max_ifds = value;
        self
    }

    /// Sets the most entries in one IFD (`max_tags_per_ifd`).
    pub fn with_max_tags_per_ifd(mut self, value: u64) -> Self {
        self.max_tags_per_ifd = value;
        self
    }

    /// Sets the most elements in one tag value (`max_array_len`).
    pub fn with_max_array_len(mut self, value: u64) -> Self {
        self.max_array_len = value;
        self
    }

    /// Sets the most bytes opening may fetch (`max_header_bytes`).
    pub fn with_max_header_bytes(mut self, value: u64) -> Self {
        self.max_header_bytes = value;
        self
    }

    /// Sets the most bytes of one decoded block (`max_block_bytes`).
    pub fn with_max_block_bytes(mut self, value: u64) -> Self {
        self.max_block_bytes = value;
        self
    }

    /// Sets the most bytes one read may return and hold (`max_read_bytes`).
    pub fn with_max_read_bytes(mut self, value: u64) -> Self {
        self.max_read_bytes = value;
        self
    }

    /// Sets the most tiles one read may decode (`max_read_tiles`).
    pub fn with_max_read_tiles(mut self, value: u64) -> Self {
        self.max_read_tiles = value;
        self
    }

    /// Sets the most bytes of tag arrays loaded after opening (`max_deferred_bytes`).
    pub fn with_max_deferred_bytes(mut self, value: u64) -> Self {
        self.max_deferred_bytes = value;
        self
    }
}
