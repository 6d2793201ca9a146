//! Image File Directories: entries, and values loaded or deferred.
//!
//! An IFD is a count, `count` fixed-size entries and the offset of the next
//! IFD (TIFF 6.0 section 2; BigTIFF widens every field). A value that fits
//! the entry's value field is decoded at once; a larger one lies elsewhere in
//! the file and starts as [`EntryValue::Deferred`] until its bytes arrive.
//!
//! Tile and strip offset/byte-count arrays may *stay* deferred after open:
//! they are decoded at open when they lie in bytes already fetched, and
//! otherwise loaded by the reader on first use, so that opening a COG whose
//! arrays outgrow the first GET still costs one request.

use std::ops::Range;

use super::error::{Location, TiffError, TiffResult};
use super::header::TiffHeader;
use super::limits::Limits;
use super::tags::{FieldType, Tag};
use super::value::Value;

/// One IFD entry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// The tag.
    pub tag: Tag,
    /// The raw type code (kept even when unknown).
    pub type_code: u16,
    /// The field type, when the code is one TIFF defines.
    pub field_type: Option<FieldType>,
    /// Number of elements.
    pub count: u64,
    /// The value, or where to find it.
    pub value: EntryValue,
}

/// An entry's value: decoded, or still in the file.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EntryValue {
    /// Decoded.
    Loaded(Value),
    /// Not fetched yet: `len` bytes at `offset`.
    Deferred {
        /// Byte offset in the file.
        offset: u64,
        /// Length in bytes (`count * type size`).
        len: u64,
    },
    /// An unknown field type, skipped as TIFF 6.0 asks readers to.
    UnknownType,
}

impl Entry {
    /// The tag's name from the tag table.
    pub fn name(&self) -> &'static str {
        self.tag.name().unwrap_or("Unknown")
    }

    /// The decoded value, if loaded.
    pub fn loaded(&self) -> Option<&Value> {
        match &self.value {
            EntryValue::Loaded(v) => Some(v),
            _ => None,
        }
    }

    /// The byte range of a deferred value.
    pub fn deferred_range(&self) -> Option<Range<u64>> {
        match self.value {
            EntryValue::Deferred { offset, len } => Some(offset..offset.saturating_add(len)),
            _ => None,
        }
    }
}

/// Tags whose values may stay in the file after open (they can be large and
/// reads need few of their elements).
pub fn is_lazy_tag(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::TileOffsets | Tag::TileByteCounts | Tag::StripOffsets | Tag::StripByteCounts
    )
}

/// A parsed IFD.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Ifd {
    /// Position in the chain, 0 = first.
    pub index: usize,
    /// Byte offset of the IFD in the file.
    pub offset: u64,
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// Offset of the next IFD (0 = last).
    pub next: u64,
}

impl Ifd {
    /// Bytes needed to read the entry count of an IFD.
    pub fn count_len(header: &TiffHeader) -> u64 {
        header.count_size()
    }

    /// Bytes of the IFD after its count field: entries and next offset.
    /// Fails if `n` is over the limit or overflows.
    pub fn body_len(header: &TiffHeader, n: u64, loc: &Location, limits: &Limits) -> TiffResult<u64> {
        if n > limits.max_tags_per_ifd {
            return Err(TiffError::LimitExceeded {
                location: loc.clone(),
                what: "max_tags_per_ifd",
                value: n,
                limit: limits.max_tags_per_ifd,
            });
        }
        if n == 0 {
            return Err(TiffError::corrupt(loc.clone(), "IFD has no entries"));
        }
        n.checked_mul(header.entry_size())
            .and_then(|x| x.checked_add(header.offset_size()))
            .ok_or_else(|| TiffError::corrupt(loc.clone(), format!("IFD entry count {n} overflows")))
    }

    /// Parses the entries and next offset from `body` (the bytes after the
    /// count field). Values that fit inline are decoded; others are deferred.
    pub fn parse(
        header: &TiffHeader,
        index: usize,
        offset: u64,
        n: u64,
        body: &[u8],
        file_size: Option<u64>,
        limits: &Limits,
    ) -> TiffResult<Ifd> {
        let es = header.entry_size() as usize;
        let os = header.offset_size() as usize;
        let order = header.byte_order;
        let base = offset.saturating_add(header.count_size());
        let loc = Location::new().ifd(index);
        let truncated = || {
            TiffError::corrupt(
                loc.clone().range(offset..base.saturating_add(body.len() as u64)),
                "IFD truncated",
            )
        };
        let n = usize::try_from(n).map_err(|_| truncated())?;
        let mut entries = Vec::with_capacity(n);
        for i in 0..n {
            let p = i * es;
            let raw = body.get(p..p + es).ok_or_else(truncated)?;
            let tag = Tag::from_code(order.u16(raw, 0).ok_or_else(truncated)?);
            let type_code = order.u16(raw, 2).ok_or_else(truncated)?;
            let count = header.read_offset(raw, 4).ok_or_else(truncated)?;
            let field = raw.get(4 + os..4 + 2 * os).ok_or_else(truncated)?;
            let entry_pos = base.saturating_add(p as u64);
            let eloc = loc
                .clone()
                .tag(tag)
                .range(entry_pos..entry_pos.saturating_add(es as u64));
            let Some(ft) = FieldType::from_code(type_code) else {
                entries.push(Entry {
                    tag,
                    type_code,
                    field_type: None,
                    count,
                    value: EntryValue::UnknownType,
                });
                continue;
            };
            if count > limits.max_array_len {
                return Err(TiffError::LimitExceeded {
                    location: eloc,
                    what: "max_array_len",
                    value: count,
                    limit: limits.max_array_len,
                });
            }
            let len = count
                .checked_mul(ft.size())
                .ok_or_else(|| TiffError::corrupt(eloc.clone(), format!("count {count} overflows")))?;
            let value = if len <= os as u64 {
                EntryValue::Loaded(Value::decode(ft, field.get(..len as usize).unwrap_or_default(), order))
            } else {
                let voff = header.read_offset(field, 0).ok_or_else(truncated)?;
                let end = voff.checked_add(len).ok_or_else(|| {
                    TiffError::corrupt(eloc.clone(), format!("value offset {voff} + length {len} overflows"))
                })?;
                if let Some(size) = file_size
                    && end > size
                {
                    return Err(TiffError::corrupt(
                        loc.clone().tag(tag).range(voff..end),
                        format!("value lies past the end of the file ({size} bytes)"),
                    ));
                }
                EntryValue::Deferred { offset: voff, len }
            };
            entries.push(Entry {
                tag,
                type_code,
                field_type: Some(ft),
                count,
                value,
            });
        }
        let next = header.read_offset(body, n * es).ok_or_else(truncated)?;
        Ok(Ifd {
            index,
            offset,
            entries,
            next,
        })
    }

    /// The entry for `tag` (the first one, should a file repeat a tag).
    pub fn entry(&self, tag: Tag) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// The loaded value of `tag`.
    pub fn value(&self, tag: Tag) -> Option<&Value> {
        self.entry(tag)?.loaded()
    }

    /// The first element of an integer tag.
    pub fn u64(&self, tag: Tag) -> Option<u64> {
        self.value(tag)?.first_u64()
    }

    /// An ASCII tag's string.
    pub fn str(&self, tag: Tag) -> Option<&str> {
        self.value(tag)?.as_str()
    }

    /// A numeric tag as f64s.
    pub fn f64s(&self, tag: Tag) -> Option<Vec<f64>> {
        self.value(tag)?.to_f64_vec()
    }

    /// Byte range this IFD occupies.
    pub fn range(&self, header: &TiffHeader) -> Range<u64> {
        let len = header.count_size() + self.entries.len() as u64 * header.entry_size() + header.offset_size();
        self.offset..self.offset + len
    }
}
