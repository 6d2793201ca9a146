//! Resolution levels: which IFD is the full-resolution image, which are its
//! overviews, and which mask goes with each.
//!
//! IFDs are classified by NewSubfileType: 0 is full resolution, bit 1 an
//! overview, bit 4 a mask (5 = mask of an overview). Overviews are sorted
//! from finest to coarsest (z = 0 is full resolution, as in aiocogeo), and
//! masks are paired with images *by size*, not by position: GDAL writes the
//! full-resolution mask right after IFD0, before the overviews, and the
//! overview masks after all the overviews. An overview that does not match
//! the full image's bands and sample type is ignored, as GDAL ignores it.

use crate::error::{Error, Location, Result};
use crate::geo::Window;
use crate::raster::DataType;
use crate::tiff::{ImageIfd, TiffFile};

/// One resolution level: an image IFD and its optional mask IFD.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Level {
    /// z: 0 = full resolution, higher = coarser.
    pub z: usize,
    /// The image.
    pub image: ImageIfd,
    /// Its transparency mask, when the file has one.
    pub mask: Option<ImageIfd>,
    /// Decimation relative to full resolution, `(x, y)`.
    pub decimation: (f64, f64),
}

impl Level {
    /// Width in pixels.
    pub fn width(&self) -> u64 {
        self.image.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u64 {
        self.image.height
    }

    /// rasterio's `block_windows()`: every block's (row, col) and its window
    /// of this level, cut to the image, row by row.
    pub fn block_windows(&self) -> impl Iterator<Item = ((u64, u64), Window)> + '_ {
        let (bw, bh) = (self.image.block_width.max(1), self.image.block_height.max(1));
        let (w, h) = (self.width(), self.height());
        let (across, down) = (w.div_ceil(bw), h.div_ceil(bh));
        (0..down).flat_map(move |j| {
            (0..across).map(move |i| {
                let (c, r) = (i * bw, j * bh);
                let win = Window::from_f64(c as f64, r as f64, bw.min(w - c) as f64, bh.min(h - r) as f64);
                ((j, i), win)
            })
        })
    }
}

/// Classifies the IFDs of `tiff` into levels, full resolution first.
pub fn classify(tiff: &TiffFile) -> Result<Vec<Level>> {
    let first = tiff
        .ifds
        .first()
        .ok_or_else(|| Error::format(Location::new(), "the file has no IFD"))?;
    let full = ImageIfd::from_ifd(first)?;
    let dtype: DataType = full.data_type()?;
    let mut overviews = Vec::new();
    let mut masks = Vec::new();
    for ifd in tiff.ifds.iter().skip(1) {
        let image = match ImageIfd::from_ifd(ifd) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!("ignoring IFD {}: {e}", ifd.index);
                continue;
            }
        };
        if image.is_mask() {
            masks.push(image);
        } else if image.is_reduced() {
            let compatible = image.samples_per_pixel == full.samples_per_pixel
                && image.data_type().ok() == Some(dtype)
                && (image.width < full.width || image.height < full.height);
            if compatible {
                overviews.push(image);
            } else {
                tracing::warn!(
                    "ignoring overview IFD {}: it does not match the full-resolution image",
                    ifd.index
                );
            }
        } else {
            tracing::debug!(
                "ignoring IFD {}: another page (NewSubfileType {})",
                ifd.index,
                image.subfile_type
            );
        }
    }
    overviews.sort_by(|a, b| b.width.cmp(&a.width).then(b.height.cmp(&a.height)));
    let (fw, fh) = (full.width as f64, full.height as f64);
    let mut levels: Vec<Level> = std::iter::once(full)
        .chain(overviews)
        .enumerate()
        .map(|(z, image)| {
            let decimation = (fw / image.width as f64, fh / image.height as f64);
            Level {
                z,
                image,
                mask: None,
                decimation,
            }
        })
        .collect();
    for level in &mut levels {
        if let Some(pos) = masks
            .iter()
            .position(|m| m.width == level.image.width && m.height == level.image.height)
        {
            level.mask = Some(masks.remove(pos));
        }
    }
    for m in &masks {
        tracing::warn!("mask IFD {} ({}x{}) matches no image", m.ifd, m.width, m.height);
    }
    Ok(levels)
}
