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
//! Layers, from the edge inwards (see `DESIGN.md`): [`CogReader`] (the public
//! face) over [`source`] (the one way bytes come in) over the pure cores
//! [`tiff`] (header, IFDs, tags), [`geo`] (transforms, GeoKeys, CRSs) and
//! [`raster`] (data types). The cores do no I/O.

#![warn(missing_docs)]

// Layers, top to bottom; a module may use only those below it (each
// module's top comment says which).
mod cache; // block and header caches (keyed by object and version)
mod codec;
mod decode; // a tile's fetched chunks -> masked array (CPU)
mod error; // the public error
mod fetch; // the one byte path: coalesce, single-flight, bound, cache
mod gdal_tags; // GDAL_METADATA and GDAL_NODATA
pub mod geo; // affine, bounds, windows, GeoKeys, CRS (pure)
mod levels; // IFDs -> resolution levels
mod options; // Options: cache, merging, transport, limits
mod plan; // pure planning: level, window, tiles, byte ranges, paste
mod profile; // the rasterio-style profile
pub mod raster; // data types, arrays, masks (pure)
mod reader; // CogReader: open, tag arrays, tile and window reads
mod request; // ReadRequest in, Raster out
mod resample; // resampling kernels (pure)
mod source; // object_store, bytes in memory, signed URLs
pub mod tiff; // header, IFDs, tags (pure) // decompression and predictors (pure)

#[cfg(feature = "internals")]
pub mod internals;

pub use cache::{BlockCache, HeaderCache};
pub use codec::CodecError;
pub use error::{Error, Location, Result};
pub use geo::{Affine, Bounds, Crs, Window};
pub use levels::Level;
pub use options::{BlockCaching, Options, RangeMerging, log_level};
pub use profile::{BandInfo, Interleave, Profile};
pub use raster::{ArrayData, DataType, MaskSource, MaskedArray, Nodata, Sample};
pub use reader::{CogReader, ReadStats};
pub use request::{Area, Progress, Raster, ReadRequest, Shape};
pub use resample::Resampling;
pub use source::{RequestStats, Transport};
pub use tiff::Limits;

/// README.md's code blocks, compiled by `cargo test` so that the examples
/// people copy stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
