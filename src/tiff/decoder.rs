//! The sans-I/O header decoder: bytes in, [`TiffFile`] or "I need these
//! ranges" out.
//!
//! The caller pushes whatever bytes it has ([`HeaderDecoder::push_range`]),
//! then calls [`HeaderDecoder::try_decode`], which answers either
//! [`DecodeResult::Data`] with the parsed file or [`DecodeResult::NeedsData`]
//! with the byte ranges still missing. Prefetching is simply pushing more
//! bytes before the first call. The decoder never does I/O, so tests drive
//! it with plain byte arrays and count exactly how many fetches a file costs.
//!
//! Stages, advanced in one loop: the header, GDAL's ghost area, the IFD
//! chain (walked one IFD at a time; when an IFD lies past the bytes held it
//! asks for a span that grows geometrically, since the next IFDs usually
//! follow), then the out-of-line values of every IFD, asked for in one
//! batch. Ranges asked for never overlap bytes already held, and the
//! [`Limits`] bound the IFD count, entry counts, array lengths and the total
//! bytes fetched. A loop in the chain is an error, not a hang.

use std::collections::HashMap;
use std::ops::Range;

use bytes::Bytes;

use super::buffers::RangeBuffers;
use super::error::{Location, TiffError, TiffResult};
use super::header::{GhostArea, TiffHeader};
use super::ifd::{EntryValue, Ifd, is_lazy_tag};
use super::limits::Limits;
use super::tags::Tag;
use super::value::Value;

/// What one decoding step produced.
#[derive(Debug)]
pub enum DecodeResult<T> {
    /// Fetch these ranges, push them, and call again.
    NeedsData(Vec<Range<u64>>),
    /// Done.
    Data(T),
}

/// A parsed TIFF: header, ghost area and every IFD of the chain.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TiffFile {
    /// The header.
    pub header: TiffHeader,
    /// GDAL's structural metadata, when present.
    pub ghost: Option<GhostArea>,
    /// The IFD chain in file order.
    pub ifds: Vec<Ifd>,
    /// The object's size, when the source told it.
    pub file_size: Option<u64>,
}

impl TiffFile {
    /// Decodes a deferred value of IFD `ifd`, tag `tag` from its bytes.
    pub fn decode_deferred(&self, ifd: usize, tag: Tag, bytes: &[u8]) -> TiffResult<Value> {
        let entry = self
            .ifds
            .get(ifd)
            .and_then(|i| i.entry(tag))
            .ok_or_else(|| TiffError::corrupt(Location::new().ifd(ifd).tag(tag), "no such tag"))?;
        let (Some(ft), Some(range)) = (entry.field_type, entry.deferred_range()) else {
            return Err(TiffError::corrupt(
                Location::new().ifd(ifd).tag(tag),
                "value is not deferred",
            ));
        };
        if bytes.len() as u64 != range.end - range.start {
            return Err(TiffError::corrupt(
                Location::new().ifd(ifd).tag(tag).range(range),
                format!("got {} bytes for the value", bytes.len()),
            ));
        }
        Ok(Value::decode(ft, bytes, self.header.byte_order))
    }
}

/// Start of the geometric growth used when walking an unknown IFD chain.
const CHAIN_FETCH_START: u64 = 16 * 1024;

/// Pushes bytes in, gets a [`TiffFile`] out. See the module docs.
#[derive(Debug)]
pub struct HeaderDecoder {
    limits: Limits,
    buffers: RangeBuffers,
    file_size: Option<u64>,
    header: Option<TiffHeader>,
    ghost: Option<Option<GhostArea>>,
    ifds: Vec<Ifd>,
    next_ifd: u64,
    seen: HashMap<u64, usize>,
    chain_fetch: u64,
    fetched: u64,
    done: bool,
}

impl HeaderDecoder {
    /// A decoder with the given limits and no bytes.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buffers: RangeBuffers::new(),
            file_size: None,
            header: None,
            ghost: None,
            ifds: Vec::new(),
            next_ifd: 0,
            seen: HashMap::new(),
            chain_fetch: CHAIN_FETCH_START,
            fetched: 0,
            done: false,
        }
    }

    /// Tells the decoder the object's total size, so that it can report
    /// offsets past the end and never ask for bytes beyond it.
    pub fn set_file_size(&mut self, size: u64) {
        self.file_size = Some(size);
    }

    /// Adds fetched bytes starting at `start`.
    pub fn push_range(&mut self, start: u64, bytes: Bytes) {
        self.fetched = self.fetched.saturating_add(bytes.len() as u64);
        self.buffers.push(start, bytes);
    }

    /// Bytes pushed so far.
    pub fn bytes_pushed(&self) -> u64 {
        self.fetched
    }

    /// Hands over the bytes held (after decoding, so that later loads of
    /// deferred values fetch only what opening did not already fetch).
    pub fn take_buffers(&mut self) -> RangeBuffers {
        std::mem::take(&mut self.buffers)
    }

    /// Advances as far as the bytes held allow.
    pub fn try_decode(&mut self) -> TiffResult<DecodeResult<TiffFile>> {
        if self.done {
            return Err(TiffError::corrupt(Location::new(), "header decoder already finished"));
        }
        // 1. Header.
        let header = match self.header {
            Some(h) => h,
            None => {
                let need = self.clamp(0..TiffHeader::MAX_LEN);
                let have = self.buffers.get(need.clone()).or_else(|| self.buffers.get(0..8));
                let parsed = match have {
                    Some(b) => TiffHeader::parse(&b)?,
                    None => None,
                };
                match parsed {
                    Some(h) => {
                        self.header = Some(h);
                        self.next_ifd = h.first_ifd;
                        if h.first_ifd == 0 {
                            return Err(TiffError::corrupt(
                                Location::new().range(0..h.len()),
                                "the file has no IFD",
                            ));
                        }
                        h
                    }
                    None => {
                        return self.need_or_truncated(vec![need], 0..TiffHeader::MAX_LEN, "header");
                    }
                }
            }
        };
        // 2. Ghost area (between the header and the first IFD).
        if self.ghost.is_none()
            && let Some(r) = self.ghost_area(&header)?
        {
            return Ok(r);
        }
        // 3. The IFD chain.
        while self.next_ifd != 0 {
            if let Some(r) = self.step_chain(&header)? {
                return Ok(r);
            }
        }
        // 4. Out-of-line values.
        let mut missing = Vec::new();
        for ifd in &mut self.ifds {
            for e in &mut ifd.entries {
                let EntryValue::Deferred { offset, len } = e.value else {
                    continue;
                };
                let range = offset..offset + len;
                match (self.buffers.get(range.clone()), e.field_type) {
                    (Some(b), Some(ft)) => e.value = EntryValue::Loaded(Value::decode(ft, &b, header.byte_order)),
                    _ if is_lazy_tag(e.tag) => {}
                    _ => missing.push(range),
                }
            }
        }
        if !missing.is_empty() {
            // Sorted and deduplicated; merging neighbours into requests is
            // the caller's coalescer's job.
            missing.sort_by_key(|r| (r.start, r.end));
            missing.dedup();
            let needs: Vec<Range<u64>> = missing.into_iter().flat_map(|r| self.buffers.missing(r)).collect();
            self.check_budget(&needs)?;
            return Ok(DecodeResult::NeedsData(needs));
        }
        self.done = true;
        Ok(DecodeResult::Data(TiffFile {
            header,
            ghost: self.ghost.take().flatten(),
            ifds: std::mem::take(&mut self.ifds),
            file_size: self.file_size,
        }))
    }

    /// Parses the ghost area, or decides there is none. `Some` = needs data.
    fn ghost_area(&mut self, header: &TiffHeader) -> TiffResult<Option<DecodeResult<TiffFile>>> {
        let start = header.len();
        let first_line = start..start + GhostArea::FIRST_LINE_LEN;
        if header.first_ifd < first_line.end {
            self.ghost = Some(None);
            return Ok(None);
        }
        let Some(line) = self.buffers.get(first_line.clone()) else {
            if self.file_size.is_some_and(|s| s < first_line.end) {
                self.ghost = Some(None);
                return Ok(None);
            }
            // The span grows past the line, so the ghost area and the IFDs
            // that usually follow it come in the same request.
            return Ok(Some(self.need_span(first_line)?));
        };
        let Some(size) = GhostArea::announced_size(&line) else {
            self.ghost = Some(None);
            return Ok(None);
        };
        let body = first_line.end..first_line.end + size;
        match self.buffers.get(body.clone()) {
            Some(b) => {
                self.ghost = Some(Some(GhostArea::parse(&b, start..body.end)));
                Ok(None)
            }
            None => {
                if self.file_size.is_some_and(|s| s < body.end) {
                    return Err(TiffError::corrupt(
                        Location::new().range(body),
                        "GDAL ghost area runs past the end of the file",
                    ));
                }
                Ok(Some(self.need_span(body)?))
            }
        }
    }

    /// Reads the IFD at `next_ifd` if held. `Some` = needs data.
    fn step_chain(&mut self, header: &TiffHeader) -> TiffResult<Option<DecodeResult<TiffFile>>> {
        let off = self.next_ifd;
        let index = self.ifds.len();
        let loc = Location::new().ifd(index);
        if let Some(prev) = self.seen.get(&off) {
            return Err(TiffError::corrupt(
                loc.range(off..off.saturating_add(1)),
                format!("IFD loop: the chain points back to IFD {prev} at offset {off}"),
            ));
        }
        if index >= self.limits.max_ifds {
            return Err(TiffError::LimitExceeded {
                location: loc,
                what: "max_ifds",
                value: index as u64 + 1,
                limit: self.limits.max_ifds as u64,
            });
        }
        let count_range = off..off.saturating_add(header.count_size());
        let Some(cb) = self.buffers.get(count_range.clone()) else {
            return self.need_chain(count_range, loc).map(Some);
        };
        let n = if header.bigtiff {
            header.byte_order.u64(&cb, 0)
        } else {
            header.byte_order.u16(&cb, 0).map(u64::from)
        }
        .unwrap_or(0);
        let body_len = Ifd::body_len(header, n, &loc.clone().range(count_range.clone()), &self.limits)?;
        let body_range = count_range.end..count_range.end.saturating_add(body_len);
        let Some(body) = self.buffers.get(body_range.clone()) else {
            return self.need_chain(body_range, loc).map(Some);
        };
        let ifd = Ifd::parse(header, index, off, n, &body, self.file_size, &self.limits)?;
        self.seen.insert(off, index);
        self.next_ifd = ifd.next;
        self.ifds.push(ifd);
        Ok(None)
    }

    /// Asks for `range` of an IFD plus a growing margin (the next IFDs tend
    /// to follow), or reports truncation when the file ends first.
    fn need_chain(&mut self, range: Range<u64>, loc: Location) -> TiffResult<DecodeResult<TiffFile>> {
        if let Some(size) = self.file_size
            && range.end > size
        {
            return Err(TiffError::corrupt(
                loc.range(range),
                format!("IFD lies past the end of the file ({size} bytes)"),
            ));
        }
        self.need_span(range)
    }

    /// Asks for `range` grown to the current chain-fetch size (which then
    /// doubles), clamped to the file, less the bytes already held.
    fn need_span(&mut self, range: Range<u64>) -> TiffResult<DecodeResult<TiffFile>> {
        let want_end = range.end.max(range.start.saturating_add(self.chain_fetch));
        self.chain_fetch = self.chain_fetch.saturating_mul(2);
        self.need(vec![self.clamp(range.start..want_end)])
    }

    /// NeedsData for the parts of `ranges` not held, after checking the fetch budget.
    fn need(&self, ranges: Vec<Range<u64>>) -> TiffResult<DecodeResult<TiffFile>> {
        let missing: Vec<Range<u64>> = ranges.into_iter().flat_map(|r| self.buffers.missing(r)).collect();
        self.check_budget(&missing)?;
        Ok(DecodeResult::NeedsData(missing))
    }

    /// NeedsData, unless the file is known to end before `range`.
    fn need_or_truncated(
        &self,
        ranges: Vec<Range<u64>>,
        range: Range<u64>,
        what: &str,
    ) -> TiffResult<DecodeResult<TiffFile>> {
        if let Some(size) = self.file_size
            && self.buffers.missing(0..size).is_empty()
        {
            return Err(TiffError::corrupt(
                Location::new().range(range),
                format!("file of {size} bytes is too short for a TIFF {what}"),
            ));
        }
        self.need(ranges)
    }

    fn check_budget(&self, ranges: &[Range<u64>]) -> TiffResult<()> {
        let more: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        let total = self.fetched.saturating_add(more);
        if total > self.limits.max_header_bytes {
            let first = ranges.first().cloned().unwrap_or(0..0);
            return Err(TiffError::LimitExceeded {
                location: Location::new().range(first),
                what: "max_header_bytes",
                value: total,
                limit: self.limits.max_header_bytes,
            });
        }
        Ok(())
    }

    fn clamp(&self, r: Range<u64>) -> Range<u64> {
        match self.file_size {
            Some(s) => r.start.min(s)..r.end.min(s),
            None => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiff::{ByteOrder, FieldType, Tag};

    /// Builds a one-IFD TIFF holding `entries` (tag, type code, count, raw
    /// value bytes in the file's byte order); values too big for the entry
    /// go after the IFD.
    fn build(big: bool, order: ByteOrder, entries: &[(u16, u16, u64, Vec<u8>)]) -> Vec<u8> {
        let w16 = |v: u16| match order {
            ByteOrder::LittleEndian => v.to_le_bytes().to_vec(),
            ByteOrder::BigEndian => v.to_be_bytes().to_vec(),
        };
        let w32 = |v: u32| match order {
            ByteOrder::LittleEndian => v.to_le_bytes().to_vec(),
            ByteOrder::BigEndian => v.to_be_bytes().to_vec(),
        };
        let w64 = |v: u64| match order {
            ByteOrder::LittleEndian => v.to_le_bytes().to_vec(),
            ByteOrder::BigEndian => v.to_be_bytes().to_vec(),
        };
        let off = |v: u64| if big { w64(v) } else { w32(v as u32) };
        let mut f = if order == ByteOrder::LittleEndian {
            b"II".to_vec()
        } else {
            b"MM".to_vec()
        };
        let ifd_at: u64 = if big { 16 } else { 8 };
        if big {
            f.extend(w16(43));
            f.extend(w16(8));
            f.extend(w16(0));
            f.extend(w64(ifd_at));
        } else {
            f.extend(w16(42));
            f.extend(w32(ifd_at as u32));
        }
        let (cs, es, os) = if big { (8u64, 20u64, 8u64) } else { (2, 12, 4) };
        let mut extra_at = ifd_at + cs + es * entries.len() as u64 + os;
        let mut extra: Vec<u8> = Vec::new();
        f.extend(if big {
            w64(entries.len() as u64)
        } else {
            w16(entries.len() as u16)
        });
        for (tag, typ, count, raw) in entries {
            f.extend(w16(*tag));
            f.extend(w16(*typ));
            f.extend(off(*count));
            if raw.len() as u64 <= os {
                let mut v = raw.clone();
                v.resize(os as usize, 0);
                f.extend(v);
            } else {
                f.extend(off(extra_at));
                extra.extend(raw);
                extra_at += raw.len() as u64;
            }
        }
        f.extend(off(0));
        f.extend(extra);
        f
    }

    /// Runs the decoder against `file` with simulated I/O, starting from a
    /// prefetch of `prefetch` bytes; returns the file and the fetch rounds.
    fn decode(file: &[u8], prefetch: usize) -> (TiffFile, usize) {
        let mut d = HeaderDecoder::new(Limits::default());
        d.set_file_size(file.len() as u64);
        d.push_range(0, Bytes::copy_from_slice(&file[..prefetch.min(file.len())]));
        let mut rounds = 0;
        loop {
            match d.try_decode().unwrap() {
                DecodeResult::Data(t) => return (t, rounds),
                DecodeResult::NeedsData(ranges) => {
                    rounds += 1;
                    assert!(rounds < 10, "decoder keeps asking: {ranges:?}");
                    for r in ranges {
                        d.push_range(r.start, Bytes::copy_from_slice(&file[r.start as usize..r.end as usize]));
                    }
                }
            }
        }
    }

    #[test]
    fn every_field_type_inline_and_out_of_line_in_both_orders_and_kinds() {
        for big in [false, true] {
            for order in [ByteOrder::LittleEndian, ByteOrder::BigEndian] {
                let e = |v: &[u64], size: usize| -> Vec<u8> {
                    v.iter()
                        .flat_map(|&x| {
                            let b = x.to_be_bytes();
                            let be = b[8 - size..].to_vec();
                            if order == ByteOrder::BigEndian {
                                be
                            } else {
                                be.into_iter().rev().collect()
                            }
                        })
                        .collect()
                };
                // (type code, element size, values): small ones fit inline,
                // the 5-element copies do not.
                let cases: Vec<(u16, usize, Vec<u64>)> = vec![
                    (1, 1, vec![7]),
                    (3, 2, vec![513]),
                    (4, 4, vec![70000]),
                    (5, 4, vec![3, 2]),
                    (6, 1, vec![0xfe]),
                    (7, 1, vec![9]),
                    (8, 2, vec![0xfffe]),
                    (9, 4, vec![0xffff_fffe]),
                    (10, 4, vec![0xffff_ffff, 2]),
                    (11, 4, vec![u64::from(1.5f32.to_bits())]),
                    (12, 8, vec![2.25f64.to_bits()]),
                    (13, 4, vec![123]),
                    (16, 8, vec![5 << 33]),
                    (17, 8, vec![(-7i64) as u64]),
                    (18, 8, vec![6 << 33]),
                ];
                let mut entries = vec![(Tag::ImageDescription.code(), 2, 6, b"hello\0".to_vec())];
                for (i, (typ, size, vals)) in cases.iter().enumerate() {
                    let count = if *typ == 5 || *typ == 10 { 1 } else { vals.len() as u64 };
                    entries.push((40000 + i as u16, *typ, count, e(vals, *size)));
                    let five: Vec<u64> = vals.iter().cycle().take(vals.len() * 5).copied().collect();
                    entries.push((41000 + i as u16, *typ, count * 5, e(&five, *size)));
                }
                let file = build(big, order, &entries);
                let (t, rounds) = decode(&file, 8192);
                assert_eq!(rounds, 0, "everything was in the prefetch");
                let ifd = &t.ifds[0];
                let v = |code: u16| ifd.value(Tag::from_code(code)).unwrap().clone();
                assert_eq!(v(Tag::ImageDescription.code()).as_str(), Some("hello"));
                for i in 0..cases.len() as u16 {
                    assert_eq!(
                        v(40000 + i).len() * 5,
                        v(41000 + i).len(),
                        "type {}",
                        cases[i as usize].0
                    );
                }
                assert_eq!(v(40000), Value::Byte(vec![7]));
                assert_eq!(v(40001), Value::Short(vec![513]));
                assert_eq!(v(41002), Value::Long(vec![70000; 5]));
                assert_eq!(v(40003).to_f64_vec(), Some(vec![1.5]));
                assert_eq!(v(40004), Value::SByte(vec![-2]));
                assert_eq!(v(40005), Value::Undefined(vec![9]));
                assert_eq!(v(40006), Value::SShort(vec![-2]));
                assert_eq!(v(41007), Value::SLong(vec![-2; 5]));
                assert_eq!(v(40008).to_f64_vec(), Some(vec![-0.5]));
                assert_eq!(v(41009), Value::Float(vec![1.5; 5]));
                assert_eq!(v(40010), Value::Double(vec![2.25]));
                assert_eq!(v(40011), Value::Ifd(vec![123]));
                assert_eq!(v(41012), Value::Long8(vec![5 << 33; 5]));
                assert_eq!(v(40013), Value::SLong8(vec![-7]));
                assert_eq!(v(40014), Value::Ifd8(vec![6 << 33]));
                assert_eq!(
                    ifd.entry(Tag::from_code(40003)).unwrap().field_type,
                    Some(FieldType::Rational)
                );
                // A 40-byte prefetch gets the rest in one round, then values in another at most.
                let (t2, rounds) = decode(&file, 40);
                assert!(rounds <= 2, "{rounds} rounds");
                assert_eq!(t2.ifds, t.ifds);
            }
        }
    }

    #[test]
    fn unknown_field_types_are_skipped_not_fatal() {
        let file = build(
            false,
            ByteOrder::LittleEndian,
            &[(256, 3, 1, vec![1, 0]), (50000, 99, 3, vec![0; 4])],
        );
        let (t, _) = decode(&file, 4096);
        assert_eq!(
            t.ifds[0].entry(Tag::from_code(50000)).unwrap().value,
            EntryValue::UnknownType
        );
        assert_eq!(t.ifds[0].u64(Tag::ImageWidth), Some(1));
    }
}
