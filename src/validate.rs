//! The COG layout rules, as rio-cogeo's `cog_validate` applies them
//! (errors and warnings, in its order and words), and the stricter checks
//! of GDAL's `validate_cloud_optimized_geotiff.py` that need no pixel
//! bytes (main IFD right after the ghost area, blocks in the declared
//! order, each mask block right after its image block), reported as notes
//! that do not change the verdict.
//!
//! Pure: the parsed header and the block offset arrays in, a [`Verdict`]
//! out. Overviews are taken as GDAL takes them: the reduced-resolution,
//! non-mask IFDs of the chain with the image's samples per pixel, in chain
//! order (never sorted), at most 30.
//!
//! May use: `tiff`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::tiff::{BlockOrder, ImageIfd, TiffFile};

/// GDAL opens at most this many overviews.
const MAX_OVERVIEWS: usize = 30;
/// rio-cogeo's size above which tiling and overviews are expected.
const SMALL: u64 = 512;
/// Notes one level's full check may add before counting the rest.
const MAX_NOTES_PER_LEVEL: usize = 100;
/// rio-cogeo's bound on the main IFD's offset.
const MAX_MAIN_IFD_OFFSET: u64 = 300;

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verdict {
    /// rio-cogeo's errors: any makes the file not a valid COG.
    pub errors: Vec<String>,
    /// rio-cogeo's warnings: they make it invalid only when strict.
    pub warnings: Vec<String>,
    /// GDAL's stricter layout checks that failed; not part of the verdict.
    pub notes: Vec<String>,
}

impl Verdict {
    /// rio-cogeo's `is_valid`: no errors, and no warnings when `strict`.
    pub fn is_valid(&self, strict: bool) -> bool {
        self.errors.is_empty() && (!strict || self.warnings.is_empty())
    }
}

/// Block offsets and byte counts of each IFD (by chain index) that has
/// them loaded; an IFD missing here is treated as having no blocks.
pub type BlockArrays = HashMap<usize, (Arc<Vec<u64>>, Arc<Vec<u64>>)>;

/// Python's `round()` of a positive ratio (halves to even), as an integer.
fn round_half_even(v: f64) -> u64 {
    if !v.is_finite() || v <= 0.0 {
        return 0;
    }
    let floor = v.floor();
    let frac = v - floor;
    let r = if frac > 0.5 || (frac == 0.5 && floor % 2.0 != 0.0) {
        floor + 1.0
    } else {
        floor
    };
    r as u64
}

/// The IFDs GDAL would open as images, in chain order.
pub(crate) fn images(tiff: &TiffFile) -> Vec<ImageIfd> {
    tiff.ifds.iter().filter_map(|i| ImageIfd::from_ifd(i).ok()).collect()
}

/// rio-cogeo's first-block probe of one level: the level's (`w`, `h`)
/// walked in the main image's blocks with the axes swapped (`h / bw` rows
/// of `w / bh`), row-major; the first block inside the level's own grid
/// with a non-zero byte count and offset. For ordinary files, block 0.
fn first_block(level: &ImageIfd, (w, h): (u64, u64), (bw, bh): (u64, u64), arrays: &BlockArrays) -> Option<u64> {
    let (offsets, counts) = arrays.get(&level.ifd)?;
    let rows = h.div_ceil(bw.max(1)).min(level.blocks_down());
    let cols = w.div_ceil(bh.max(1)).min(level.blocks_across());
    let across = level.blocks_across();
    for y in 0..rows {
        for x in 0..cols {
            let id = usize::try_from(y.checked_mul(across)?.checked_add(x)?).ok()?;
            match (offsets.get(id), counts.get(id)) {
                (Some(&o), Some(&c)) if c != 0 && o > 0 => return Some(o),
                (None, _) | (_, None) => return None,
                _ => {}
            }
        }
    }
    None
}

/// Applies the rules to a parsed file. `sidecar_ovr`: a `NAME.tif.ovr`
/// lies beside the file (rio-cogeo's first error).
pub fn check(tiff: &TiffFile, arrays: &BlockArrays, sidecar_ovr: bool) -> Verdict {
    let mut v = Verdict::default();
    let all = images(tiff);
    let Some(main) = all.first().filter(|m| m.ifd == 0) else {
        v.errors.push("The file is not a GeoTIFF".into());
        return v;
    };
    let (w, h) = (main.width, main.height);
    let (bw, bh) = (main.block_width, main.block_height);
    let overviews: Vec<&ImageIfd> = all
        .iter()
        .skip(1)
        .filter(|i| i.is_reduced() && !i.is_mask() && i.samples_per_pixel == main.samples_per_pixel)
        .take(MAX_OVERVIEWS)
        .collect();
    let decimations: Vec<u64> = overviews
        .iter()
        .map(|o| round_half_even(w as f64 / o.width.max(1) as f64))
        .collect();
    let offset_of = |ifd: usize| tiff.ifds.get(ifd).map_or(0, |i| i.offset);

    if sidecar_ovr {
        v.errors
            .push("Overviews found in external .ovr file. They should be internal".into());
    }
    if w > SMALL || h > SMALL {
        if bw == w {
            v.errors
                .push("The file is greater than 512xH or 512xW, but is not tiled".into());
        }
        if overviews.is_empty() {
            v.warnings.push(
                "The file is greater than 512xH or 512xW, it is recommended to include internal overviews".into(),
            );
        }
    }
    let main_ifd = offset_of(0);
    if main_ifd > MAX_MAIN_IFD_OFFSET {
        v.errors.push(format!(
            "The offset of the main IFD should be < 300. It is {main_ifd} instead"
        ));
    }
    if tiff.ghost.as_ref().is_some_and(|g| g.known_incompatible_edition) {
        v.errors.push(
            "This file used to have optimizations in its layout, but those have been, at least partly, invalidated by later changes".into(),
        );
    }
    if decimations.windows(2).any(|d| d[0] > d[1]) {
        v.errors.push("Overviews should be sorted".into());
    }
    let mut ifd_offsets = vec![main_ifd];
    for (ix, (o, &dec)) in overviews.iter().zip(&decimations).enumerate() {
        if dec <= 1 {
            v.errors
                .push(format!("Invalid Decimation {dec} for overview level {ix}"));
        }
        let here = offset_of(o.ifd);
        let prev = ifd_offsets.last().copied().unwrap_or(0);
        if here < prev {
            v.errors.push(if ix == 0 {
                format!(
                    "The offset of the IFD for overview of index {ix} is {here}, whereas it should be greater than the one of the main image, which is at byte {prev}"
                )
            } else {
                format!(
                    "The offset of the IFD for overview of index {ix} is {here}, whereas it should be greater than the one of index {}, which is at byte {prev}",
                    ix - 1
                )
            });
        }
        ifd_offsets.push(here);
    }
    let mut data_offsets: Vec<u64> = Vec::new();
    data_offsets.extend(first_block(main, (w, h), (bw, bh), arrays));
    for (o, &dec) in overviews.iter().zip(&decimations) {
        // rio-cogeo divides by zero here (an overview over twice the
        // image's width); the decimation error above already says why.
        if let (Some(lw), Some(lh)) = (w.checked_div(dec), h.checked_div(dec)) {
            data_offsets.extend(first_block(o, (lw, lh), (bw, bh), arrays));
        }
    }
    let last_ifd = ifd_offsets.last().copied().unwrap_or(0);
    if data_offsets.last().is_some_and(|&d| d < last_ifd) {
        v.errors.push(if overviews.is_empty() {
            "The offset of the first block of the image should be after its IFD".into()
        } else {
            "The offset of the first block of the smallest overview should be after its IFD".into()
        });
    }
    for i in (1..data_offsets.len().saturating_sub(1)).rev() {
        if data_offsets[i] < data_offsets[i + 1] {
            v.errors.push(format!(
                "The offset of the first block of overview of index {} should be after the one of the overview of index {i}",
                i - 1
            ));
        }
    }
    if data_offsets.len() >= 2 && data_offsets[0] < data_offsets[1] {
        v.errors.push(format!(
            "The offset of the first block of the main resolution image should be after the one of the overview of index {}",
            overviews.len().saturating_sub(1)
        ));
    }
    for (ix, o) in overviews.iter().enumerate() {
        if (o.width > SMALL || o.height > SMALL) && o.block_width == o.width {
            v.errors.push(format!("Overview of index {ix} is not tiled"));
        }
    }
    v.notes = gdal_notes(tiff, main, &overviews, &all, arrays);
    v
}

/// What GDAL's ghost area declares, as its validator reads it: only when
/// the main IFD is not at byte 8 or 16.
#[derive(Default, Clone, Copy)]
struct Declared {
    row_major: bool,
    leader: u64,
    trailer: u64,
    mask_interleaved: bool,
}

/// GDAL's checks that rio-cogeo leaves out and offsets alone can decide,
/// in its words: where the main IFD must be, overview sizes, and with a
/// declared layout the full check of every level and mask (block order,
/// masks interleaved). Leader and trailer bytes need the data: not checked.
fn gdal_notes(
    tiff: &TiffFile,
    main: &ImageIfd,
    overviews: &[&ImageIfd],
    all: &[ImageIfd],
    arrays: &BlockArrays,
) -> Vec<String> {
    let mut notes = Vec::new();
    let main_ifd = tiff.ifds.first().map_or(0, |i| i.offset);
    let mut declared = Declared::default();
    if main_ifd != 8 && main_ifd != 16 {
        let mut expected = if tiff.header.bigtiff { 16 } else { 8 };
        if let Some(g) = &tiff.ghost {
            declared = Declared {
                row_major: g.block_order == Some(BlockOrder::RowMajor),
                leader: g.block_leader_size(),
                trailer: g.block_trailer_size(),
                mask_interleaved: g.mask_interleaved_with_imagery,
            };
            if g.known_incompatible_edition {
                notes.push("KNOWN_INCOMPATIBLE_EDITION=YES is declared in the file".into());
            }
            expected = g.range.end + g.range.end % 2;
        }
        if expected != main_ifd {
            notes.push(format!(
                "The offset of the main IFD should be {expected}. It is {main_ifd} instead"
            ));
        }
    }
    for (i, o) in overviews.iter().enumerate() {
        let prev = if i == 0 { main } else { overviews[i - 1] };
        if o.width > prev.width || o.height > prev.height {
            notes.push(if i == 0 {
                "First overview has larger dimension than main band".into()
            } else {
                format!(
                    "Overview of index {i} has larger dimension than overview of index {}",
                    i - 1
                )
            });
        }
    }
    let d = declared;
    if !(d.row_major || d.leader > 0 || d.trailer > 0 || d.mask_interleaved) {
        return notes;
    }
    // A level's mask: NewSubfileType 4 (main) or 5 (overview), same size.
    let mask_of = |img: &ImageIfd| {
        all.iter().find(|m| {
            m.is_mask() && m.is_reduced() == img.is_reduced() && m.width == img.width && m.height == img.height
        })
    };
    let levels = std::iter::once((
        main,
        "Main resolution image".to_string(),
        "main resolution image".to_string(),
    ))
    .chain(
        overviews
            .iter()
            .enumerate()
            .map(|(i, o)| (*o, format!("Overview {i}"), format!("overview {i}"))),
    );
    for (img, name, lower) in levels {
        let mask = mask_of(img);
        full_check(&mut notes, &name, img, mask.filter(|_| d.mask_interleaved), d, arrays);
        if let Some(m) = mask {
            full_check(&mut notes, &format!("Mask band of {lower}"), m, None, d, arrays);
        }
    }
    notes
}

/// GDAL's `full_check_band` without the leader and trailer bytes: blocks
/// in row-major order when declared, and each mask block right after its
/// image block (trailer, then leader) when interleaved. Offenders are
/// named as GDAL names them, the first [`MAX_NOTES_PER_LEVEL`] of a level,
/// then how many more.
fn full_check(
    notes: &mut Vec<String>,
    name: &str,
    img: &ImageIfd,
    mask: Option<&ImageIfd>,
    d: Declared,
    arrays: &BlockArrays,
) {
    let Some((offsets, counts)) = arrays.get(&img.ifd) else {
        return;
    };
    let mask = match mask {
        Some(m) if (m.block_width, m.block_height) != (img.block_width, img.block_height) => {
            notes.push(format!("{name}: mask block size is different from its imagery band"));
            None
        }
        Some(m) => arrays.get(&m.ifd),
        None => None,
    };
    // BLOCK_OFFSET_x_y: the offset of a block with bytes, else 0.
    let at = |(o, c): (&Vec<u64>, &Vec<u64>), id: usize| match (o.get(id), c.get(id)) {
        (Some(&o), Some(&c)) if c > 0 => (o, c),
        _ => (0, 0),
    };
    let across = img.blocks_across();
    let blocks = usize::try_from(across.saturating_mul(img.blocks_down())).unwrap_or(usize::MAX);
    let mut found = Vec::new();
    let mut more = 0usize;
    let mut note = |text: String| {
        if found.len() < MAX_NOTES_PER_LEVEL {
            found.push(text);
        } else {
            more += 1;
        }
    };
    let mut last = 0;
    for id in 0..blocks.min(offsets.len()) {
        let (x, y) = (id as u64 % across.max(1), id as u64 / across.max(1));
        let (mut offset, count) = at((offsets, counts), id);
        if offset > 0 && d.row_major && offset < last {
            note(format!(
                "{name}: offset of block ({x}, {y}) is smaller than previous block"
            ));
        }
        if let Some((mo, mc)) = mask {
            let (offset_mask, _) = at((mo, mc), id);
            if offset > 0 && offset_mask > 0 {
                let expected = offset.saturating_add(count).saturating_add(d.leader + d.trailer);
                if offset_mask != expected {
                    note(format!(
                        "Mask of {name}: for block ({x}, {y}), offset is {offset_mask}, whereas {expected} was expected"
                    ));
                }
            } else if offset == 0 && offset_mask > 0 {
                if d.row_major && offset_mask < last {
                    note(format!(
                        "Mask of {name}: offset of block ({x}, {y}) is smaller than previous block"
                    ));
                }
                offset = offset_mask;
            }
        }
        last = offset;
    }
    notes.extend(found);
    if more > 0 {
        notes.push(format!("{name}: {more} more blocks out of place"));
    }
}

#[cfg(test)]
mod tests {
    use super::round_half_even;

    /// Python's round(): 2.5 → 2, 3.5 → 4, 1000/700 → 1; nothing for 0.
    #[test]
    fn decimations_round_like_python() {
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(3.5), 4);
        assert_eq!(round_half_even(1000.0 / 700.0), 1);
        assert_eq!(round_half_even(2.0), 2);
        assert_eq!(round_half_even(0.0), 0);
    }
}
