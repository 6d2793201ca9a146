//! Lazy views over readers, in the style of georeader's `RasterioReader`:
//! a view knows its shape, transform, bounds and dtype without reading a
//! pixel; narrowing it (a window, bands, a level, `isel`) makes a new cheap
//! value; `load()` reads.
//!
//! [`CogView`] views one COG, [`CogStack`] many on one grid; the pure
//! focus algebra both use lives in `focus`.
//! Views sit above the reader and use it only through its public reads.
//!
//! May use: `reader`, `request`, `options`, `profile`, `levels`, `error`,
//! `resample`, `geo`, `raster`.

mod focus;
mod footprint;
mod single;
mod spec;
mod stack;
mod tms;
mod webmap;
mod xyz;

pub use focus::Axis;
pub use single::CogView;
pub use spec::{StackSpec, ViewSpec};
pub use stack::{CogStack, StackOptions, StackRaster};
pub use tms::{TileMatrix, TileMatrixSet};
pub use xyz::{OutsideTile, XyzRequest, web_mercator_tile_bounds};
