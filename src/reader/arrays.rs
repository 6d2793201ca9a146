//! Tag arrays loaded after opening: tile offsets and byte counts that lay
//! outside the opening bytes are fetched on first use, once, and charged
//! against `Limits::max_deferred_bytes`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::error::{Error, Location, Result};
use crate::tiff::{Limits, Tag, Value};

use super::{ArrayCell, CogReader};

impl CogReader {
    /// Byte offsets of every block of IFD `ifd` (TileOffsets or StripOffsets),
    /// fetched on first use if they were not in the opening bytes.
    pub async fn block_offsets(&self, ifd: usize) -> Result<Arc<Vec<u64>>> {
        let tag = self.image_of(ifd)?.offsets_tag();
        self.tag_array(ifd, tag).await
    }

    /// Byte counts of every block of IFD `ifd`, fetched on first use.
    pub async fn block_byte_counts(&self, ifd: usize) -> Result<Arc<Vec<u64>>> {
        let tag = self.image_of(ifd)?.byte_counts_tag();
        self.tag_array(ifd, tag).await
    }

    fn image_of(&self, ifd: usize) -> Result<&crate::tiff::ImageIfd> {
        self.inner
            .levels
            .iter()
            .flat_map(|l| std::iter::once(&l.image).chain(l.mask.as_ref()))
            .find(|i| i.ifd == ifd)
            .ok_or_else(|| {
                Error::format(
                    Location::new().source(self.url()).ifd(ifd),
                    "IFD is not an image of any level",
                )
            })
    }

    /// An integer array tag of IFD `ifd` as u64s, loading it once if deferred
    /// (concurrent callers share one request).
    pub async fn tag_array(&self, ifd: usize, tag: Tag) -> Result<Arc<Vec<u64>>> {
        self.load_tag_arrays(&[(ifd, tag)]).await?;
        self.cell(ifd, tag)
            .get()
            .cloned()
            .ok_or_else(|| Error::Internal(format!("tag {tag} of IFD {ifd} was not loaded")))
    }

    /// Loads several array tags at once: the parts of their byte ranges not
    /// already fetched at open go through the fetcher (merged when under
    /// 4 KiB apart, fetched concurrently), so `cog info` reads every level's
    /// byte counts in a request or two. Arrays already loaded cost nothing;
    /// concurrent first loads share the fetcher's requests in flight. The
    /// decoded arrays count against `Limits::max_deferred_bytes`.
    pub async fn load_tag_arrays(&self, wanted: &[(usize, Tag)]) -> Result<()> {
        let todo: Vec<(usize, Tag)> = wanted
            .iter()
            .copied()
            .filter(|&(i, t)| self.cell(i, t).get().is_none())
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        // Checked before fetching; charged for each array this load sets:
        // a failed or dropped load, or one another load finished first,
        // costs nothing against the budget.
        self.deferred_cost(&todo)?;
        for ((ifd, tag), value) in self.fetch_values(&todo).await? {
            let array = self.to_array(ifd, tag, Some(value))?;
            if self.cell(ifd, tag).set(array).is_ok() {
                let cost = self.deferred_len(ifd, tag);
                self.inner.deferred_bytes.fetch_add(cost, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Decoded bytes of a deferred array (8 an entry); 0 when it was loaded
    /// at open.
    fn deferred_len(&self, ifd: usize, tag: Tag) -> u64 {
        match self.ifds().get(ifd).and_then(|i| i.entry(tag)) {
            Some(e) if e.deferred_range().is_some() => e.count.saturating_mul(8),
            _ => 0,
        }
    }

    /// The decoded size of the deferred arrays in `todo`, refused when it
    /// would take the reader past `max_deferred_bytes`.
    pub(super) fn deferred_cost(&self, todo: &[(usize, Tag)]) -> Result<u64> {
        let bytes = todo
            .iter()
            .fold(0u64, |n, &(ifd, tag)| n.saturating_add(self.deferred_len(ifd, tag)));
        let before = self.inner.deferred_bytes.load(Ordering::Relaxed);
        Limits::check(
            "max_deferred_bytes",
            before.checked_add(bytes),
            self.options().limits().max_deferred_bytes,
            Location::new().source(self.url()).ifd(todo.first().map_or(0, |t| t.0)),
        )?;
        Ok(bytes)
    }

    /// The array, if it was already loaded whole.
    pub(super) fn whole_array(&self, ifd: usize, tag: Tag) -> Option<Arc<Vec<u64>>> {
        self.cell(ifd, tag).get().cloned()
    }

    fn cell(&self, ifd: usize, tag: Tag) -> ArrayCell {
        let mut map = self.inner.arrays.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((ifd, tag)).or_default().clone()
    }

    /// The values of the given tags, fetching the deferred ones' missing bytes.
    async fn fetch_values(&self, wanted: &[(usize, Tag)]) -> Result<Vec<((usize, Tag), Value)>> {
        let url = self.url();
        let entry = |ifd: usize, tag: Tag| {
            self.ifds()
                .get(ifd)
                .and_then(|i| i.entry(tag))
                .ok_or_else(|| Error::format(Location::new().source(url).ifd(ifd).tag(tag), "tag missing"))
        };
        let mut missing = Vec::new();
        for &(ifd, tag) in wanted {
            if let Some(r) = entry(ifd, tag)?.deferred_range() {
                missing.extend(self.inner.fetcher.held().missing(r));
            }
        }
        let mut buffers = self.inner.fetcher.held().clone();
        if !missing.is_empty() {
            let fetched = self.inner.fetcher.fetch_metadata(&missing).await?;
            for r in missing {
                if let Some(b) = fetched.get(r.clone()) {
                    buffers.push(r.start, b);
                }
            }
        }
        let mut out = Vec::with_capacity(wanted.len());
        for &(ifd, tag) in wanted {
            let e = entry(ifd, tag)?;
            let value = match (e.loaded(), e.deferred_range()) {
                (Some(v), _) => v.clone(),
                (None, Some(range)) => {
                    let bytes = buffers.get(range.clone()).ok_or_else(|| {
                        Error::format(
                            Location::new().source(url).ifd(ifd).tag(tag).range(range),
                            "the source returned fewer bytes than the value needs",
                        )
                    })?;
                    self.inner
                        .tiff
                        .decode_deferred(ifd, tag, &bytes)
                        .map_err(|e| Error::from(e).with_source(url))?
                }
                _ => {
                    return Err(Error::unsupported(
                        Location::new().source(url).ifd(ifd).tag(tag),
                        "unknown field type",
                    ));
                }
            };
            out.push(((ifd, tag), value));
        }
        Ok(out)
    }

    fn to_array(&self, ifd: usize, tag: Tag, value: Option<Value>) -> Result<Arc<Vec<u64>>> {
        value.as_ref().and_then(Value::to_u64_vec).map(Arc::new).ok_or_else(|| {
            Error::format(
                Location::new().source(self.url()).ifd(ifd).tag(tag),
                "not an unsigned integer array",
            )
        })
    }
}
