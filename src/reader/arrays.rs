//! Tag arrays loaded after opening: tile offsets and byte counts that lay
//! outside the opening bytes are fetched on first use, once, and charged
//! against `Limits::max_deferred_bytes`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::error::{Error, Location, Result};
use crate::tiff::{Limits, Value, merge_ranges};

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
    pub async fn tag_array(&self, ifd: usize, tag: u16) -> Result<Arc<Vec<u64>>> {
        self.load_tag_arrays(&[(ifd, tag)]).await?;
        self.cell(ifd, tag)
            .get()
            .cloned()
            .ok_or_else(|| Error::Internal(format!("tag {tag} of IFD {ifd} was not loaded")))
    }

    /// Loads several array tags at once: the parts of their byte ranges not
    /// already fetched at open are merged (touching or under 4 KiB apart)
    /// and fetched concurrently, so `cog info` reads every level's byte
    /// counts in a request or two. Arrays already loaded cost nothing;
    /// concurrent callers wait for one load instead of fetching again. The
    /// decoded arrays count against `Limits::max_deferred_bytes`.
    pub async fn load_tag_arrays(&self, wanted: &[(usize, u16)]) -> Result<()> {
        let todo = || -> Vec<(usize, u16)> {
            wanted
                .iter()
                .copied()
                .filter(|&(i, t)| self.cell(i, t).get().is_none())
                .collect()
        };
        if todo().is_empty() {
            return Ok(());
        }
        let _loading = self.inner.array_loading.lock().await;
        let todo = todo();
        // Checked before fetching, counted once loaded: a failed or dropped
        // load costs nothing against the budget.
        let bytes = self.deferred_cost(&todo)?;
        for ((ifd, tag), value) in self.fetch_values(&todo).await? {
            let array = self.to_array(ifd, tag, Some(value))?;
            let _ = self.cell(ifd, tag).set(array);
        }
        self.inner.deferred_bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    /// The decoded size of the deferred arrays in `todo` (8 bytes an entry),
    /// refused when it would take the reader past `max_deferred_bytes`.
    fn deferred_cost(&self, todo: &[(usize, u16)]) -> Result<u64> {
        let mut bytes: u64 = 0;
        for &(ifd, tag) in todo {
            if let Some(e) = self.ifds().get(ifd).and_then(|i| i.entry(tag))
                && e.deferred_range().is_some()
            {
                bytes = bytes.saturating_add(e.count.saturating_mul(8));
            }
        }
        let before = self.inner.deferred_bytes.load(Ordering::Relaxed);
        Limits::check(
            "max_deferred_bytes",
            before.checked_add(bytes),
            self.options().limits().max_deferred_bytes,
            Location::new().source(self.url()).ifd(todo.first().map_or(0, |t| t.0)),
        )?;
        Ok(bytes)
    }

    fn cell(&self, ifd: usize, tag: u16) -> ArrayCell {
        let mut map = self.inner.arrays.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((ifd, tag)).or_default().clone()
    }

    /// The values of the given tags, fetching the deferred ones' missing bytes.
    async fn fetch_values(&self, wanted: &[(usize, u16)]) -> Result<Vec<((usize, u16), Value)>> {
        let url = self.url();
        let entry = |ifd: usize, tag: u16| {
            self.ifds()
                .get(ifd)
                .and_then(|i| i.entry(tag))
                .ok_or_else(|| Error::format(Location::new().source(url).ifd(ifd).tag(tag), "tag missing"))
        };
        let mut missing = Vec::new();
        for &(ifd, tag) in wanted {
            if let Some(r) = entry(ifd, tag)?.deferred_range() {
                missing.extend(self.inner.header_bytes.missing(r));
            }
        }
        let mut buffers = self.inner.header_bytes.clone();
        if !missing.is_empty() {
            let merged = merge_ranges(missing, 4096);
            let fetched = self.inner.source.get_ranges(&merged).await?;
            for (r, b) in merged.iter().zip(fetched) {
                buffers.push(r.start, b);
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

    fn to_array(&self, ifd: usize, tag: u16, value: Option<Value>) -> Result<Arc<Vec<u64>>> {
        value.as_ref().and_then(Value::to_u64_vec).map(Arc::new).ok_or_else(|| {
            Error::format(
                Location::new().source(self.url()).ifd(ifd).tag(tag),
                "not an unsigned integer array",
            )
        })
    }
}
