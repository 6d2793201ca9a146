//! A COG's footprint: the outline of its valid pixels, drawn from the
//! coarsest level (its mask, or the mask GDAL derives there from nodata,
//! alpha or a finer mask), as rasterio's `features.shapes` draws
//! `dataset_mask()`: a pixel is valid when any band is.
//!
//! May use: `reader`, `geo`, `error`.

use ndarray::Array2;

use crate::error::Result;
use crate::geo::{MultiPolygon, polygonize};
use crate::reader::CogReader;

impl CogReader {
    /// The valid-data outline as a GeoJSON-serialisable MultiPolygon in
    /// the file's CRS, from the coarsest level (one read of that level).
    /// A file without a mask is its whole extent.
    pub async fn footprint(&self) -> Result<MultiPolygon> {
        let coarsest = self.levels().len().saturating_sub(1);
        let r = self.view().overview(coarsest)?.load().await?;
        let (bands, rows, cols) = r.shape();
        let mut valid = Array2::from_elem((rows, cols), false);
        for b in 0..bands {
            if let Some(m) = r.array.mask.band(b) {
                valid.zip_mut_with(&m, |v, &bad| *v |= !bad);
            }
        }
        Ok(polygonize(valid.view(), &r.transform))
    }
}
