//! The TIFF/BigTIFF core, sans I/O: bytes in, structs (or "I need these
//! byte ranges") out.
//!
//! `HeaderDecoder` walks the header, GDAL's ghost area and the IFD chain
//! from pushed byte spans; [`ImageIfd`] reads one IFD as an image. Nothing
//! here touches the network or the file system, so all of it is testable
//! with byte arrays and safe to fuzz.

mod buffers;
pub(crate) mod decoder;
mod enums;
mod error;
mod header;
mod ifd;
mod image;
mod limits;
pub mod tags;
mod value;

pub(crate) use buffers::RangeBuffers;
pub use decoder::TiffFile;
pub(crate) use decoder::{DecodeResult, HeaderDecoder};
pub(crate) use enums::tiff_enum;
pub use enums::{Compression, ExtraSamples, Photometric, PlanarConfig, Predictor, SampleFormat};
pub use error::{Location, TiffError, TiffResult};
pub use header::{BlockLeader, BlockOrder, BlockTrailer, GhostArea, Layout, TiffHeader};
pub use ifd::{Entry, EntryValue, Ifd};
pub use image::{ImageIfd, SUBFILE_MASK, SUBFILE_REDUCED, StripChop};
pub use limits::Limits;
pub use tags::{FieldType, Tag};
pub use value::{ByteOrder, Value};
