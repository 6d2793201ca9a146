//! Internals for benchmarks and codec tests (feature `internals`): the
//! sans-I/O header decoder and the chunk codecs. Not part of the stable API.

pub use crate::codec::{ChunkSpec, Codec, LercWrap, decode_chunk};
pub use crate::tiff::decoder::{DecodeResult, HeaderDecoder};
