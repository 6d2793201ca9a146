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
