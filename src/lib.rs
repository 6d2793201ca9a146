//! # async-cog
//!
//! A pure-Rust async reader for Cloud-Optimized GeoTIFFs, over any
//! `object_store` backend (S3, GCS, Azure, HTTP, local files) or bytes in
//! memory, with no GDAL underneath.
//!
//! ```no_run
//! # async fn demo() -> async_cog::Result<()> {
//! let cog = async_cog::CogReader::open("fixtures/u8_jpeg_rgb.tif").await?;
//! let p = cog.profile();
//! println!("{}x{} {} bands of {}, EPSG {:?}", p.width, p.height, p.count, p.dtype, p.epsg());
//! # Ok(()) }
//! ```
//!
//! Start with [`CogReader`]: open a COG, look at its [`Profile`] and
//! [`Level`]s, and read: [`CogReader::read`] (bounds into a shape),
//! [`CogReader::read_with`] (a [`ReadRequest`]: window or bounds, bands,
//! resampling, boundless), [`CogReader::read_block`] (one stored block,
//! alias `get_tile`), [`CogReader::point`] and [`CogReader::preview`]. Every
//! read returns a [`Raster`]: a [`MaskedArray`] (bands, rows, cols; mask
//! `true` = invalid) with its transform, CRS and the level read. Configure
//! with [`Options`] (caching, merging, [`Transport`], [`Limits`]); every
//! failure is an [`Error`].
//!
//! The modules [`tiff`], [`geo`] and [`raster`] are the pure cores (header,
//! IFDs and tags; transforms, windows and GeoKeys; data types and arrays):
//! they do no I/O.

#![warn(missing_docs)]

// Layers, top to bottom; a module may use only those below it, and its
// top comment says which:
//   view (CogView, CogStack)           lazy views and multi-file stacks over readers
//   reader (CogReader)                 open, tag arrays, block and window reads
//   options                            cache choice, merging, transport, limits
//   decode                             a tile's fetched chunks -> masked array
//   plan                               pure planning: level, window, tiles, ranges, paste
//   request                            ReadRequest in, Raster out
//   profile, levels, gdal_tags         what the file is
//   validate                           COG layout rules (rio-cogeo's, GDAL's)
//   source                             the one byte path: backends, coalescer, fetcher, caches
//   error                              the public error (From the core's errors)
//   resample, geo, codec, tiff, raster the pure core
mod codec;
mod decode;
mod error;
mod gdal_tags;
pub mod geo;
mod levels;
mod options;
mod plan;
mod profile;
pub mod raster;
mod reader;
mod request;
mod resample;
mod source;
pub mod tiff;
mod validate;
mod view;

#[cfg(feature = "internals")]
pub mod internals;

pub use codec::CodecError;
pub use error::{Error, Location, Result};
pub use geo::{Affine, Bounds, Crs, Window};
pub use levels::Level;
pub use options::{BlockCaching, Options, RangeMerging, TileCaching, log_level};
pub use profile::{BandInfo, Interleave, Profile};
pub use raster::{ArrayData, DataType, Mask, MaskSource, MaskedArray, Nodata, Sample};
pub use reader::{CogReader, HeaderSnapshot, ReadStats, ReaderSpec};
pub use request::{Area, Progress, Raster, ReadRequest, Shape};
pub use resample::Resampling;
pub use source::{BlockCache, HeaderCache, ObjectInfo, RequestBudget, RequestStats, TileCache, Transport};
pub use tiff::Limits;
pub use validate::Verdict;
pub use view::{
    Axis, CogStack, CogView, OutsideTile, StackOptions, StackRaster, StackSpec, TileMatrix, TileMatrixSet, ViewSpec,
    XyzRequest, web_mercator_tile_bounds,
};

/// README.md's code blocks, compiled by `cargo test` so that the examples
/// people copy stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
