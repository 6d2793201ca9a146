//! Block arrays read by pages: a read needs the offsets and byte counts of
//! its own tiles only, so a deferred TileOffsets/TileByteCounts array larger
//! than one page is fetched page by page, as reads ask for entries (GDAL
//! does the same), instead of whole (7 MB for a 200000² sparse COG).
//!
//! An array being paged is held at full length (so plans index it as a
//! slice) with a flag per page; its decoded size is charged against
//! `Limits::max_deferred_bytes` once, when paging starts. Pages are fetched
//! through the fetcher's metadata path (merged at 4 KiB, cached, in flight
//! once). An array already loaded whole is used as it is.

use std::sync::{Arc, RwLock};

use crate::error::{Error, Location, Result};
use crate::tiff::{Tag, Value};

use super::CogReader;

/// Bytes of one page of an array in the file.
const PAGE_BYTES: u64 = 4096;

/// A deferred array, loaded page by page.
#[derive(Debug)]
pub(crate) struct PagedArray {
    /// Every entry, 0 where its page is not loaded yet.
    pub values: Vec<u64>,
    loaded: Vec<bool>,
    /// Where the array lies in the file.
    offset: u64,
    /// Bytes of one entry in the file.
    elem: u64,
}

impl PagedArray {
    fn entries_per_page(&self) -> usize {
        (PAGE_BYTES / self.elem.max(1)) as usize
    }
}

/// A paged array, shared by the reads that fill and use it.
pub(crate) type SharedPages = Arc<RwLock<PagedArray>>;

/// A block array as a read sees it: whole, or paged.
pub(crate) enum ArrayView {
    Whole(Arc<Vec<u64>>),
    Paged(Arc<RwLock<PagedArray>>),
}

impl CogReader {
    /// Array `tag` of IFD `ifd` with at least the entries `indices` loaded:
    /// the whole array when it was loaded at open (or already loaded whole),
    /// else the pages that hold `indices`.
    pub(crate) async fn array_entries(&self, ifd: usize, tag: Tag, indices: &[usize]) -> Result<ArrayView> {
        let url = self.url();
        let loc = || Location::new().source(url).ifd(ifd).tag(tag);
        let entry = self
            .ifds()
            .get(ifd)
            .and_then(|i| i.entry(tag))
            .ok_or_else(|| Error::format(loc(), "tag missing"))?;
        let (range, field) = match (entry.deferred_range(), entry.field_type) {
            (Some(r), Some(ft)) if r.end - r.start > PAGE_BYTES && self.whole_array(ifd, tag).is_none() => (r, ft),
            _ => return Ok(ArrayView::Whole(self.tag_array(ifd, tag).await?)),
        };
        let array = self.paged(ifd, tag, &range, field.size())?;
        // The pages still missing, as byte ranges of the file.
        let wanted: Vec<(usize, std::ops::Range<u64>)> = {
            let a = array.read().unwrap_or_else(|p| p.into_inner());
            let per = a.entries_per_page();
            let mut pages: Vec<usize> = indices.iter().map(|i| i / per).collect();
            pages.sort_unstable();
            pages.dedup();
            pages
                .into_iter()
                .filter(|&p| a.loaded.get(p) == Some(&false))
                .map(|p| {
                    let start = a.offset.saturating_add(p as u64 * PAGE_BYTES);
                    (p, start..range.end.min(start.saturating_add(PAGE_BYTES)))
                })
                .collect()
        };
        if wanted.is_empty() {
            return Ok(ArrayView::Paged(array));
        }
        let ranges: Vec<_> = wanted.iter().map(|(_, r)| r.clone()).collect();
        let fetched = self.inner.fetcher.fetch_metadata(&ranges).await?;
        let order = self.tiff().header.byte_order;
        let mut decoded = Vec::with_capacity(wanted.len());
        for (p, r) in wanted {
            let bytes = fetched.get(r.clone()).ok_or_else(|| {
                Error::format(
                    loc().range(r.clone()),
                    "the source returned fewer bytes than the array needs",
                )
            })?;
            let values = Value::decode(field, &bytes, order)
                .to_u64_vec()
                .ok_or_else(|| Error::format(loc(), "not an unsigned integer array"))?;
            decoded.push((p, values));
        }
        {
            let mut a = array.write().unwrap_or_else(|p| p.into_inner());
            let per = a.entries_per_page();
            for (p, values) in decoded {
                let start = p.saturating_mul(per);
                if let Some(slot) = a.values.get_mut(start..start.saturating_add(values.len())) {
                    slot.copy_from_slice(&values);
                }
                if let Some(l) = a.loaded.get_mut(p) {
                    *l = true;
                }
            }
        }
        Ok(ArrayView::Paged(array))
    }

    /// The paged array of (ifd, tag), made (and charged) on first use.
    fn paged(&self, ifd: usize, tag: Tag, range: &std::ops::Range<u64>, elem: u64) -> Result<Arc<RwLock<PagedArray>>> {
        let mut map = self.inner.paged.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = map.get(&(ifd, tag)) {
            return Ok(a.clone());
        }
        let cost = self.deferred_cost(&[(ifd, tag)])?;
        let count = usize::try_from((range.end - range.start) / elem.max(1))
            .map_err(|_| Error::format(Location::new().source(self.url()).ifd(ifd).tag(tag), "array too long"))?;
        let pages = (range.end - range.start).div_ceil(PAGE_BYTES) as usize;
        let array = Arc::new(RwLock::new(PagedArray {
            values: vec![0; count],
            loaded: vec![false; pages],
            offset: range.start,
            elem,
        }));
        self.inner
            .deferred_bytes
            .fetch_add(cost, std::sync::atomic::Ordering::Relaxed);
        map.insert((ifd, tag), array.clone());
        Ok(array)
    }
}

/// A read lock on an [`ArrayView`]'s entries, usable as a slice.
pub(crate) enum ArrayGuard<'a> {
    Whole(&'a [u64]),
    Paged(std::sync::RwLockReadGuard<'a, PagedArray>),
}

impl std::ops::Deref for ArrayGuard<'_> {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        match self {
            ArrayGuard::Whole(v) => v,
            ArrayGuard::Paged(g) => &g.values,
        }
    }
}

impl ArrayView {
    /// The entries, locked for reading while plans are made.
    pub(crate) fn read(&self) -> ArrayGuard<'_> {
        match self {
            ArrayView::Whole(v) => ArrayGuard::Whole(v),
            ArrayView::Paged(a) => ArrayGuard::Paged(a.read().unwrap_or_else(|p| p.into_inner())),
        }
    }
}
