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

pub mod cache;
pub mod codec;
mod error;
mod fetch;
pub mod gdal_tags;
pub mod geo;
mod levels;
mod options;
mod profile;
pub mod raster;
mod read;
mod reader;
pub mod resample;
pub mod source;
pub mod tiff;
mod tile;

pub use error::{Error, Location, Result};

/// README.md's code blocks, compiled by `cargo test` so that the examples
/// people copy stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use geo::{Affine, Bounds};
pub use levels::Level;
pub use options::{BlockCaching, Options, RangeMerging, log_level};
pub use profile::{BandInfo, Interleave, MaskSource, Profile};
pub use raster::{ArrayData, DataType, MaskedArray, Nodata, Sample};
pub use read::{Area, Progress, Raster, ReadRequest, Window, choose_level};
pub use reader::{CogReader, ReadStats};
pub use resample::Resampling;
pub use source::RequestStats;
pub use tiff::Limits;
