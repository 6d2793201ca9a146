//! Pure georeferencing: affine transforms, bounds, GeoKeys and CRSs, and
//! the outlines of masks as polygons.
//!
//! Nothing here does I/O; it reads tag values already parsed by
//! [`crate::tiff`]. May use: `tiff`.

mod affine;
mod approx;
mod epsg_units;
mod geokeys;
mod georef;
mod polygonize;
mod proj;
mod window;

pub use affine::{Affine, Bounds};
pub use approx::approx_row;
pub use geokeys::{Crs, GeoKey, GeoKeyId, GeoKeyValue, GeoKeys, projected_metres_per_unit};
pub use georef::{Georeference, RasterType};
pub use polygonize::{MultiPolygon, polygonize};
pub use proj::{CrsTransform, FromWebMercator, proj4_of_epsg};
pub use window::{Window, from_bounds};
