//! The file header (classic TIFF and BigTIFF) and GDAL's ghost area.
//!
//! Classic TIFF (TIFF 6.0 section 2): `II`/`MM`, 42, a 4-byte first-IFD
//! offset. BigTIFF: `II`/`MM`, 43, offset size 8, zero, an 8-byte offset.
//! GDAL writes a "ghost area" right after the header of COGs, a small text
//! block `GDAL_STRUCTURAL_METADATA_SIZE=nnnnnn bytes\n` followed by
//! `KEY=VALUE` lines that describe the layout (see GDAL's COG driver docs,
//! "Header ghost area"); later reads use it to fetch mask tiles with their
//! image tiles and to check tile sizes.

use std::ops::Range;

use super::error::{Location, TiffError, TiffResult};
use super::value::ByteOrder;

/// The parsed file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TiffHeader {
    /// `II` or `MM`.
    pub byte_order: ByteOrder,
    /// BigTIFF (magic 43) rather than classic TIFF (42).
    pub bigtiff: bool,
    /// Offset of the first IFD.
    pub first_ifd: u64,
}

impl TiffHeader {
    /// Bytes needed to parse any header.
    pub const MAX_LEN: u64 = 16;

    /// Parses the header from the first bytes of the file (8 suffice for
    /// classic TIFF, 16 for BigTIFF). `Ok(None)` means more bytes are needed.
    pub fn parse(b: &[u8]) -> TiffResult<Option<TiffHeader>> {
        let loc = || Location::new().range(0..Self::MAX_LEN);
        let Some(magic) = b.get(0..2) else {
            return Ok(None);
        };
        let byte_order = match magic {
            b"II" => ByteOrder::LittleEndian,
            b"MM" => ByteOrder::BigEndian,
            _ => {
                return Err(TiffError::corrupt(
                    loc(),
                    format!("not a TIFF file: starts with {magic:02x?}, not II or MM"),
                ));
            }
        };
        let Some(version) = byte_order.u16(b, 2) else {
            return Ok(None);
        };
        match version {
            42 => Ok(byte_order.u32(b, 4).map(|off| TiffHeader {
                byte_order,
                bigtiff: false,
                first_ifd: u64::from(off),
            })),
            43 => {
                let (Some(size), Some(zero), Some(off)) =
                    (byte_order.u16(b, 4), byte_order.u16(b, 6), byte_order.u64(b, 8))
                else {
                    return Ok(None);
                };
                if size != 8 || zero != 0 {
                    return Err(TiffError::corrupt(
                        loc(),
                        format!("BigTIFF header has offset size {size} and reserved {zero}, expected 8 and 0"),
                    ));
                }
                Ok(Some(TiffHeader {
                    byte_order,
                    bigtiff: true,
                    first_ifd: off,
                }))
            }
            v => Err(TiffError::corrupt(
                loc(),
                format!("not a TIFF file: version {v}, expected 42 (TIFF) or 43 (BigTIFF)"),
            )),
        }
    }

    /// Length of the header itself (where a ghost area would start).
    pub fn len(&self) -> u64 {
        if self.bigtiff { 16 } else { 8 }
    }

    /// Always false: a header is never empty (for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Size of an offset (and of an entry's value field): 4 or 8.
    pub fn offset_size(&self) -> u64 {
        if self.bigtiff { 8 } else { 4 }
    }

    /// Size of an IFD's entry-count field: 2 or 8.
    pub fn count_size(&self) -> u64 {
        if self.bigtiff { 8 } else { 2 }
    }

    /// Size of one IFD entry: 12 or 20.
    pub fn entry_size(&self) -> u64 {
        if self.bigtiff { 20 } else { 12 }
    }

    /// Reads an offset-sized unsigned value.
    pub fn read_offset(&self, b: &[u8], pos: usize) -> Option<u64> {
        if self.bigtiff {
            self.byte_order.u64(b, pos)
        } else {
            self.byte_order.u32(b, pos).map(u64::from)
        }
    }
}

/// Declares a ghost-area value: the values GDAL writes, each as a variant
/// with its spelling, and `Other(text)` for anything else.
macro_rules! ghost_value {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this crate does not know, as written.
            Other(String),
        }

        impl $name {
            /// The value for `text` as the ghost area spells it.
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_string()),
                }
            }

            /// The value as the ghost area spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(s) => s,
                }
            }
        }
    };
}

ghost_value! {
    /// `LAYOUT`.
    Layout {
        /// Every IFD before any tile data (a COG).
        IfdsBeforeData = "IFDS_BEFORE_DATA",
    }
}

ghost_value! {
    /// `BLOCK_ORDER`.
    BlockOrder {
        /// Tiles in row-major order, overviews from the smallest.
        RowMajor = "ROW_MAJOR",
    }
}

ghost_value! {
    /// `BLOCK_LEADER`.
    BlockLeader {
        /// Each tile is preceded by its size as a 4-byte integer.
        SizeAsUint4 = "SIZE_AS_UINT4",
    }
}

ghost_value! {
    /// `BLOCK_TRAILER`.
    BlockTrailer {
        /// Each tile is followed by a copy of its last 4 bytes.
        Last4BytesRepeated = "LAST_4_BYTES_REPEATED",
    }
}

/// GDAL's `GDAL_STRUCTURAL_METADATA` block, parsed into typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GhostArea {
    /// Where the block lies in the file (prefix line included).
    pub range: Range<u64>,
    /// Every `KEY=VALUE` line, in file order.
    pub entries: Vec<(String, String)>,
    /// `LAYOUT`.
    pub layout: Option<Layout>,
    /// `BLOCK_ORDER`.
    pub block_order: Option<BlockOrder>,
    /// `BLOCK_LEADER`.
    pub block_leader: Option<BlockLeader>,
    /// `BLOCK_TRAILER`.
    pub block_trailer: Option<BlockTrailer>,
    /// `KNOWN_INCOMPATIBLE_EDITION=YES`: the file was edited after creation
    /// and no longer follows its declared layout.
    pub known_incompatible_edition: bool,
    /// `MASK_INTERLEAVED_WITH_IMAGERY=YES`: each mask tile follows its image tile.
    pub mask_interleaved_with_imagery: bool,
}

impl GhostArea {
    /// The fixed prefix of the block.
    pub const PREFIX: &'static [u8] = b"GDAL_STRUCTURAL_METADATA_SIZE=";
    /// Length of the first line: prefix, 6 digits, ` bytes\n`.
    pub const FIRST_LINE_LEN: u64 = 30 + 6 + 7;

    /// Size of the body announced by the first line, if `b` starts with the
    /// ghost prefix; `None` when it is no ghost area.
    pub fn announced_size(first_line: &[u8]) -> Option<u64> {
        let rest = first_line.strip_prefix(Self::PREFIX)?;
        let digits = rest.get(..6)?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    /// Parses the body (the bytes after the first line) at `range`.
    pub fn parse(body: &[u8], range: Range<u64>) -> GhostArea {
        let text = String::from_utf8_lossy(body);
        let entries: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.trim().split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let yes = |key: &str| get(key).is_some_and(|v| v.eq_ignore_ascii_case("YES"));
        GhostArea {
            layout: get("LAYOUT").map(Layout::parse),
            block_order: get("BLOCK_ORDER").map(BlockOrder::parse),
            block_leader: get("BLOCK_LEADER").map(BlockLeader::parse),
            block_trailer: get("BLOCK_TRAILER").map(BlockTrailer::parse),
            known_incompatible_edition: yes("KNOWN_INCOMPATIBLE_EDITION"),
            mask_interleaved_with_imagery: yes("MASK_INTERLEAVED_WITH_IMAGERY"),
            range,
            entries,
        }
    }

    /// The raw value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Bytes before each tile holding its size (4 for `SIZE_AS_UINT4`).
    pub fn block_leader_size(&self) -> u64 {
        match self.block_leader {
            Some(BlockLeader::SizeAsUint4) => 4,
            _ => 0,
        }
    }

    /// Bytes after each tile repeating its end (4 for `LAST_4_BYTES_REPEATED`).
    pub fn block_trailer_size(&self) -> u64 {
        match self.block_trailer {
            Some(BlockTrailer::Last4BytesRepeated) => 4,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_classic_and_bigtiff_headers() {
        let h = TiffHeader::parse(b"II*\0\x08\0\0\0").unwrap().unwrap();
        assert_eq!(
            (h.bigtiff, h.first_ifd, h.byte_order),
            (false, 8, ByteOrder::LittleEndian)
        );
        let h = TiffHeader::parse(b"MM\0+\0\x08\0\0\0\0\0\0\0\0\0\x10")
            .unwrap()
            .unwrap();
        assert_eq!((h.bigtiff, h.first_ifd, h.byte_order), (true, 16, ByteOrder::BigEndian));
        assert_eq!(TiffHeader::parse(b"MM\0+\0\x08").unwrap(), None, "needs 16 bytes");
        assert!(TiffHeader::parse(b"PK\x03\x04").is_err());
        assert!(
            TiffHeader::parse(b"II\x2b\0\x04\0\0\0\0\0\0\0\0\0\0\0").is_err(),
            "offset size 4"
        );
    }

    #[test]
    fn ghost_area_keys() {
        let first = b"GDAL_STRUCTURAL_METADATA_SIZE=000140 bytes\n";
        assert_eq!(first.len() as u64, GhostArea::FIRST_LINE_LEN);
        assert_eq!(GhostArea::announced_size(first), Some(140));
        let g = GhostArea::parse(
            b"LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\n\
              BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n\
              MASK_INTERLEAVED_WITH_IMAGERY=YES\n ",
            8..191,
        );
        assert_eq!(g.layout, Some(Layout::IfdsBeforeData));
        assert_eq!(g.block_order, Some(BlockOrder::RowMajor));
        assert_eq!((g.block_leader_size(), g.block_trailer_size()), (4, 4));
        assert!(g.mask_interleaved_with_imagery);
        assert!(!g.known_incompatible_edition);
        let other = GhostArea::parse(b"BLOCK_LEADER=SIZE_AS_UINT8\nKNOWN_INCOMPATIBLE_EDITION=YES\n", 8..60);
        assert_eq!(other.block_leader, Some(BlockLeader::Other("SIZE_AS_UINT8".into())));
        assert_eq!((other.block_leader_size(), other.layout), (0, None));
        assert!(other.known_incompatible_edition);
    }
}
