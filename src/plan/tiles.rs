//! One tile, planned: which stored chunks (image, per-band planes, mask)
//! hold it and which byte ranges to fetch, from the block arrays alone.
//!
//! A tile (x, y) of a level is one stored chunk for pixel-interleaved data
//! or one chunk per band for planar data, plus the matching chunk of the
//! level's mask IFD. Strips are tiles as wide as the image (the last one
//! holds only the remaining rows); libtiff's virtual strips of a single
//! uncompressed strip are slices of it. Sparse chunks (offset or byte count
//! 0) are not fetched.
//!
//! When GDAL's ghost area declares `BLOCK_LEADER=SIZE_AS_UINT4` and
//! `BLOCK_TRAILER=LAST_4_BYTES_REPEATED` (and the file was not edited since,
//! `KNOWN_INCOMPATIBLE_EDITION=NO`), each chunk is fetched with its 4-byte
//! leader and trailer, to be checked when decoding. Touching ranges are
//! merged by the fetcher, so with `MASK_INTERLEAVED_WITH_IMAGERY=YES` a tile
//! and its mask are one request.

use std::ops::Range;

use crate::error::{Error, Location, Result};
use crate::levels::Level;
use crate::tiff::{GhostArea, ImageIfd, PlanarConfig};

/// Compressed chunks larger than this multiple of their decoded size (plus
/// 1 MiB) are refused before fetching: a lying byte count must not make us
/// download gigabytes.
const MAX_COMPRESSION_OVERHEAD: u64 = 2;

/// One stored chunk of a tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRef {
    /// IFD the chunk belongs to.
    pub ifd: usize,
    /// Its index in the IFD's offset array.
    pub index: usize,
    /// Its bytes, or `None` for a sparse chunk.
    pub range: Option<Range<u64>>,
    /// Rows stored in it (fewer than the block height for a last strip).
    pub rows: usize,
}

/// Everything needed to fetch and decode one tile.
#[derive(Debug, Clone)]
pub struct TilePlan {
    /// Image chunks: one, or one per band when planar; none when only the
    /// mask is wanted (the tile then decodes to zeros beside its mask).
    pub chunks: Vec<ChunkRef>,
    /// The mask chunk, when the level has a mask.
    pub mask: Option<ChunkRef>,
    /// Bytes before each chunk to fetch and check (GDAL's block leader).
    pub leader: u64,
    /// Bytes after each chunk to fetch and check (GDAL's block trailer).
    pub trailer: u64,
    /// Rows of the tile inside the image (fewer in the last row of tiles).
    pub valid_rows: usize,
    /// Columns of the tile inside the image (fewer in the last column).
    pub valid_cols: usize,
}

/// The offset and byte-count arrays of one IFD.
#[derive(Debug, Clone, Copy)]
pub struct BlockIndex<'a> {
    /// Block offsets.
    pub offsets: &'a [u64],
    /// Block byte counts.
    pub counts: &'a [u64],
}

fn chunk_ref(
    image: &ImageIfd,
    index: BlockIndex<'_>,
    i: usize,
    x: u64,
    y: u64,
    file_size: Option<u64>,
) -> Result<ChunkRef> {
    let loc = || Location::new().ifd(image.ifd).tag(image.offsets_tag());
    let first_row = y.saturating_mul(image.block_height);
    let rows_left = image.height.saturating_sub(first_row);
    let rows = if image.tiled {
        image.block_height
    } else {
        image.block_height.min(rows_left)
    } as usize;
    let (off, count) = match image.strip_chop {
        Some(chop) => {
            let (Some(&base), Some(&total)) = (index.offsets.first(), index.counts.first()) else {
                return Err(Error::format(loc(), "no strip offset"));
            };
            let start = first_row.checked_mul(chop.scanline_bytes);
            let len = (rows as u64).checked_mul(chop.scanline_bytes);
            let (Some(start), Some(len)) = (start, len) else {
                return Err(Error::format(loc(), "strip size overflows"));
            };
            if start.saturating_add(len) > total {
                return Err(Error::format(
                    loc(),
                    format!(
                        "strip holds {total} bytes, row {first_row} needs {}",
                        start.saturating_add(len)
                    ),
                ));
            }
            if base == 0 {
                (0, 0)
            } else {
                let at = base
                    .checked_add(start)
                    .ok_or_else(|| Error::format(loc(), "strip offset overflows"))?;
                (at, len)
            }
        }
        None => {
            let (Some(&o), Some(&c)) = (index.offsets.get(i), index.counts.get(i)) else {
                return Err(Error::format(
                    loc(),
                    format!(
                        "block {i} (tile {x},{y}) is past the {} entries of the offset array",
                        index.offsets.len()
                    ),
                ));
            };
            (o, c)
        }
    };
    let range = if off == 0 || count == 0 {
        None
    } else {
        let end = off
            .checked_add(count)
            .ok_or_else(|| Error::format(loc(), "block offset overflows"))?;
        if let Some(size) = file_size
            && end > size
        {
            return Err(Error::format(
                loc().range(off..end),
                format!("block {i} lies past the end of the file ({size} bytes)"),
            ));
        }
        // A lying byte count must not make us download gigabytes: a chunk
        // may be at most twice its decoded size, plus 1 MiB.
        let limit = image
            .decoded_block_bytes()
            .unwrap_or(u64::MAX)
            .saturating_mul(MAX_COMPRESSION_OVERHEAD)
            .saturating_add(1 << 20);
        if count > limit {
            return Err(Error::LimitExceeded {
                location: loc().range(off..end),
                what: "compressed block size",
                value: count,
                limit,
            });
        }
        Some(off..end)
    };
    Ok(ChunkRef {
        ifd: image.ifd,
        index: i,
        range,
        rows,
    })
}

impl TilePlan {
    /// Plans tile (x, y) of `level`. `index` is the image IFD's block
    /// arrays (`None` plans the mask block alone, for a borrowed mask),
    /// `mask_index` the mask IFD's (when the level has a mask).
    pub fn new(
        level: &Level,
        x: u64,
        y: u64,
        index: Option<BlockIndex<'_>>,
        mask_index: Option<BlockIndex<'_>>,
        ghost: Option<&GhostArea>,
        file_size: Option<u64>,
    ) -> Result<TilePlan> {
        let img = &level.image;
        let (across, down) = (img.blocks_across(), img.blocks_down());
        if x >= across || y >= down {
            return Err(Error::InvalidRequest {
                message: format!(
                    "tile ({x}, {y}) is outside level {}'s grid of {across}x{down} tiles",
                    level.z
                ),
            });
        }
        let plane = across * down;
        let i = (y * across + x) as usize;
        let chunks = match index {
            None => Vec::new(),
            Some(index) if img.planar_config == PlanarConfig::Planar => (0..u64::from(img.samples_per_pixel))
                .map(|b| chunk_ref(img, index, (b * plane) as usize + i, x, y, file_size))
                .collect::<Result<Vec<_>>>()?,
            Some(index) => vec![chunk_ref(img, index, i, x, y, file_size)?],
        };
        let mask = match (&level.mask, mask_index) {
            (Some(m), Some(mi)) => {
                if m.blocks_across() != across || m.blocks_down() != down {
                    return Err(Error::unsupported(
                        Location::new().ifd(m.ifd),
                        "mask blocks do not line up with image blocks",
                    ));
                }
                Some(chunk_ref(m, mi, i, x, y, file_size)?)
            }
            _ => None,
        };
        let checked = ghost.filter(|g| !g.known_incompatible_edition && img.strip_chop.is_none());
        Ok(TilePlan {
            valid_rows: img.height.saturating_sub(y * img.block_height).min(img.block_height) as usize,
            valid_cols: img.width.saturating_sub(x * img.block_width).min(img.block_width) as usize,
            chunks,
            mask,
            leader: checked.map_or(0, GhostArea::block_leader_size),
            trailer: checked.map_or(0, GhostArea::block_trailer_size),
        })
    }

    fn all_chunks(&self) -> impl Iterator<Item = &ChunkRef> {
        self.chunks.iter().chain(self.mask.as_ref())
    }

    fn with_framing(&self, r: &Range<u64>) -> Range<u64> {
        if r.start >= self.leader {
            r.start - self.leader..r.end + self.trailer
        } else {
            r.clone()
        }
    }

    /// The byte ranges to fetch: every non-sparse chunk with its leader and
    /// trailer (merging them into requests is the fetcher's job).
    pub fn chunk_ranges(&self) -> Vec<Range<u64>> {
        self.all_chunks()
            .filter_map(|c| c.range.as_ref())
            .map(|r| self.with_framing(r))
            .collect()
    }
}
