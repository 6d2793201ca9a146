//! The byte spans of a file fetched so far.
//!
//! The sans-I/O parser owns one [`RangeBuffers`]: the caller pushes fetched
//! spans into it, and the parser asks it for byte ranges. It can tell which
//! parts of a range are still missing, so that nothing is fetched twice.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

/// Fetched spans of one file, keyed by their start offset.
#[derive(Debug, Default, Clone)]
pub struct RangeBuffers {
    /// Sorted by start; spans never overlap (overlapping pushes are trimmed).
    spans: Vec<(u64, Bytes)>,
}

impl RangeBuffers {
    /// No bytes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the bytes of `start..start + bytes.len()`. Parts already held are
    /// dropped from the new span, so spans stay disjoint.
    pub fn push(&mut self, start: u64, bytes: Bytes) {
        let end = start.saturating_add(bytes.len() as u64);
        for gap in self.missing(start..end) {
            let (Ok(a), Ok(b)) = (usize::try_from(gap.start - start), usize::try_from(gap.end - start)) else {
                continue;
            };
            let piece = bytes.slice(a..b);
            let pos = self.spans.partition_point(|(s, _)| *s < gap.start);
            self.spans.insert(pos, (gap.start, piece));
        }
    }

    /// Every span held, as (start offset, bytes), in order.
    pub fn spans(&self) -> impl Iterator<Item = (u64, &Bytes)> {
        self.spans.iter().map(|(s, b)| (*s, b))
    }

    /// The bytes of `range`, if every byte of it is held.
    pub fn get(&self, range: Range<u64>) -> Option<Bytes> {
        if range.start >= range.end {
            return Some(Bytes::new());
        }
        // Last span starting at or before range.start.
        let idx = self.spans.partition_point(|(s, _)| *s <= range.start).checked_sub(1)?;
        let (s, b) = self.spans.get(idx)?;
        let span_end = s + b.len() as u64;
        if range.end <= span_end {
            let a = usize::try_from(range.start - s).ok()?;
            let e = usize::try_from(range.end - s).ok()?;
            return Some(b.slice(a..e));
        }
        // The range crosses into following spans: they must touch.
        let mut out = BytesMut::with_capacity(usize::try_from(range.end - range.start).ok()?);
        let mut pos = range.start;
        for (s, b) in self.spans.get(idx..)? {
            if *s > pos {
                return None;
            }
            let span_end = s + b.len() as u64;
            let take_end = span_end.min(range.end);
            if take_end > pos {
                let a = usize::try_from(pos - s).ok()?;
                let e = usize::try_from(take_end - s).ok()?;
                out.extend_from_slice(b.get(a..e)?);
                pos = take_end;
            }
            if pos >= range.end {
                return Some(out.freeze());
            }
        }
        None
    }

    /// The parts of `range` not held, in order.
    pub fn missing(&self, range: Range<u64>) -> Vec<Range<u64>> {
        let mut out = Vec::new();
        let mut pos = range.start;
        for (s, b) in &self.spans {
            let e = s + b.len() as u64;
            if e <= pos {
                continue;
            }
            if *s >= range.end {
                break;
            }
            if *s > pos {
                out.push(pos..*s);
            }
            pos = pos.max(e);
            if pos >= range.end {
                break;
            }
        }
        if pos < range.end {
            out.push(pos..range.end);
        }
        out
    }

    /// Total bytes held.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.spans.iter().map(|(_, b)| b.len() as u64).sum()
    }

    /// True when nothing is held.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_across_touching_spans_and_missing_parts() {
        let mut b = RangeBuffers::new();
        b.push(0, Bytes::from_static(b"abcd"));
        b.push(4, Bytes::from_static(b"efgh"));
        b.push(12, Bytes::from_static(b"mnop"));
        assert_eq!(b.get(2..6).as_deref(), Some(&b"cdef"[..]));
        assert_eq!(b.get(13..16).as_deref(), Some(&b"nop"[..]));
        assert_eq!(b.get(6..13), None, "8..12 is missing");
        assert_eq!(b.missing(0..20), vec![8..12, 16..20]);
        assert_eq!(b.missing(1..3), Vec::<Range<u64>>::new());
        // A push that overlaps what is held keeps only the new bytes.
        b.push(6, Bytes::from_static(b"ghijklmn"));
        assert_eq!(b.len(), 16);
        assert_eq!(b.get(0..16).as_deref(), Some(&b"abcdefghijklmnop"[..]));
    }
}
