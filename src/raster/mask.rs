//! Validity: where it comes from ([`MaskSource`], in GDAL's `GetMaskBand()`
//! order) and which samples are invalid ([`Mask`]). `true` in a mask means
//! invalid, as in numpy.ma.
//!
//! A mask is stored as compactly as it really varies: GDAL's per-dataset
//! masks (an internal mask, an alpha band) hold one value per pixel shared
//! by every band, a nodata mask one per sample, and an array without a
//! mask source holds nothing at all. Every form reads as a (bands, rows,
//! cols) array of `bool`.

use ndarray::{Array2, Array3, ArrayView2, ShapeBuilder};

/// Where a pixel's validity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskSource {
    /// An internal mask IFD (GDAL's `GMF_PER_DATASET`).
    Internal,
    /// An alpha band (`GMF_ALPHA`); it is then not counted as a data band.
    Alpha,
    /// The nodata value (`GMF_NODATA`).
    Nodata,
}

impl MaskSource {
    /// `"internal"`, `"alpha"` or `"nodata"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Alpha => "alpha",
            Self::Nodata => "nodata",
        }
    }

    /// True when one validity value serves every band of a pixel (an
    /// internal mask or alpha; GDAL's `GMF_PER_DATASET`), false when each
    /// band has its own (nodata).
    pub fn is_per_pixel(self) -> bool {
        !matches!(self, Self::Nodata)
    }
}

static VALID: bool = false;
static INVALID: bool = true;

/// Which samples of a (bands, rows, cols) array are invalid (`true`), as
/// numpy.ma's mask: every sample valid, one value per pixel shared by all
/// bands, or one value per sample.
#[derive(Debug, Clone)]
pub struct Mask {
    shape: (usize, usize, usize),
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Valid,
    Pixel(Array2<bool>),
    Sample(Array3<bool>),
}

impl Mask {
    /// Every sample of a (bands, rows, cols) array valid; holds no memory.
    pub fn valid(shape: (usize, usize, usize)) -> Mask {
        Mask {
            shape,
            kind: Kind::Valid,
        }
    }

    /// One value per pixel (rows, cols), shared by `bands` bands.
    pub fn per_pixel(bands: usize, pixels: Array2<bool>) -> Mask {
        let (rows, cols) = pixels.dim();
        Mask {
            shape: (bands, rows, cols),
            kind: Kind::Pixel(pixels),
        }
    }

    /// One value per sample (bands, rows, cols).
    pub fn per_sample(samples: Array3<bool>) -> Mask {
        Mask {
            shape: samples.dim(),
            kind: Kind::Sample(samples),
        }
    }

    /// (bands, rows, cols).
    pub fn shape(&self) -> (usize, usize, usize) {
        self.shape
    }

    /// Number of samples (bands x rows x cols).
    pub fn len(&self) -> usize {
        self.shape.0 * self.shape.1 * self.shape.2
    }

    /// True when the array has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when no sample is invalid by construction (no mask applies).
    pub fn is_all_valid(&self) -> bool {
        matches!(self.kind, Kind::Valid)
    }

    /// The per-pixel mask shared by every band, when the mask is one (an
    /// internal mask or alpha); `None` for all-valid and per-sample masks.
    pub fn per_pixel_view(&self) -> Option<ArrayView2<'_, bool>> {
        match &self.kind {
            Kind::Pixel(p) => Some(p.view()),
            _ => None,
        }
    }

    /// Band `band` (0-based) as a (rows, cols) view; `None` past the last band.
    pub fn band(&self, band: usize) -> Option<ArrayView2<'_, bool>> {
        let (bands, rows, cols) = self.shape;
        if band >= bands {
            return None;
        }
        match &self.kind {
            // A view of one `false` repeated with zero strides.
            Kind::Valid => ArrayView2::from_shape((rows, cols).strides((0, 0)), std::slice::from_ref(&VALID)).ok(),
            Kind::Pixel(p) => Some(p.view()),
            Kind::Sample(s) => Some(s.index_axis(ndarray::Axis(0), band)),
        }
    }

    /// Whether sample (band, row, col) is invalid; `None` outside the array.
    pub fn get(&self, band: usize, row: usize, col: usize) -> Option<bool> {
        let (bands, rows, cols) = self.shape;
        if band >= bands || row >= rows || col >= cols {
            return None;
        }
        match &self.kind {
            Kind::Valid => Some(false),
            Kind::Pixel(p) => p.get((row, col)).copied(),
            Kind::Sample(s) => s.get((band, row, col)).copied(),
        }
    }

    /// Every sample's validity in (bands, rows, cols) order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = &bool> + '_> {
        let bands = self.shape.0;
        match &self.kind {
            Kind::Valid => Box::new(std::iter::repeat_n(&VALID, self.len())),
            Kind::Pixel(p) => Box::new((0..bands).flat_map(move |_| p.iter())),
            Kind::Sample(s) => Box::new(s.iter()),
        }
    }

    /// The mask as a full (bands, rows, cols) array, as numpy.ma holds it.
    pub fn to_array(&self) -> Array3<bool> {
        match &self.kind {
            Kind::Sample(s) => s.clone(),
            _ => Array3::from_shape_fn(self.shape, |(b, r, c)| self.get(b, r, c).unwrap_or(true)),
        }
    }

    /// Number of invalid samples.
    pub fn invalid_count(&self) -> usize {
        match &self.kind {
            Kind::Valid => 0,
            Kind::Pixel(p) => p.iter().filter(|&&m| m).count() * self.shape.0,
            Kind::Sample(s) => s.iter().filter(|&&m| m).count(),
        }
    }

    /// Bytes the mask holds in memory.
    pub fn nbytes(&self) -> usize {
        match &self.kind {
            Kind::Valid => 0,
            Kind::Pixel(p) => p.len(),
            Kind::Sample(s) => s.len(),
        }
    }
}

impl std::ops::Index<[usize; 3]> for Mask {
    type Output = bool;

    /// Sample `[band, row, col]`; panics outside the array, as ndarray's
    /// indexing does.
    fn index(&self, [b, r, c]: [usize; 3]) -> &bool {
        match self.get(b, r, c) {
            Some(true) => &INVALID,
            Some(false) => &VALID,
            None => panic!("mask index [{b}, {r}, {c}] is outside {:?}", self.shape),
        }
    }
}

/// Masks are equal when they mark the same samples, however they are stored.
impl PartialEq for Mask {
    fn eq(&self, other: &Mask) -> bool {
        self.shape == other.shape && self.iter().eq(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_as_bands_rows_cols() {
        let pixels = Array2::from_shape_vec((2, 2), vec![true, false, false, true]).unwrap();
        let pixel = Mask::per_pixel(3, pixels.clone());
        assert_eq!(pixel.shape(), (3, 2, 2));
        assert_eq!(pixel.invalid_count(), 6);
        assert!(pixel[[2, 1, 1]] && !pixel[[2, 0, 1]]);
        assert_eq!(pixel.get(3, 0, 0), None);
        let full = Array3::from_shape_fn((3, 2, 2), |(_, r, c)| pixels[[r, c]]);
        assert_eq!(pixel.to_array(), full);
        assert_eq!(pixel, Mask::per_sample(full), "equal whatever the storage");
        let valid = Mask::valid((2, 3, 4));
        assert_eq!(valid.nbytes(), 0);
        assert_eq!(valid.band(1).unwrap().dim(), (3, 4));
        assert!(valid.band(1).unwrap().iter().all(|&m| !m));
        assert!(valid.band(2).is_none());
        assert_eq!(valid, Mask::per_sample(Array3::from_elem((2, 3, 4), false)));
        assert_ne!(valid, Mask::per_pixel(2, Array2::from_elem((3, 4), true)));
    }
}
