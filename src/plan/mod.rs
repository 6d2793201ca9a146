//! Planning a read, sans I/O: from the levels, the profile and a request to
//! the level read, the window there, the tiles (image and mask chunks), the
//! byte ranges, where each tile's pixels go in the output, and the output
//! transform. Nothing here fetches or decodes, so every decision can be
//! tested with plain structs, in the manner of arrow-rs's parquet push
//! decoder.
//!
//! Following GDAL's RasterIO:
//!
//! * **Level.** When the output is smaller than the window, the level read
//!   is the most reduced overview whose factor stays below the requested
//!   reduction times the oversampling threshold (1.2 for nearest, 1.0
//!   otherwise); the requested reduction is that of the less reduced axis.
//!   An explicit level overrides.
//! * **Window at that level.** The full-resolution window, in floating
//!   point, divided by the level's factor on each axis.
//! * **Nearest.** Output pixel `i` takes source pixel
//!   `floor((i + 0.5) * size / out + offset + 1e-10)`: the pixel that holds
//!   the output pixel's centre (GDAL's rule, epsilon included).
//! * **Other resampling.** The source span the kernels touch, read 1:1,
//!   then resampled (see [`crate::resample`]).
//!
//! May use: `request`, `levels`, `profile`, `resample`, `geo`, `raster`,
//! `tiff`, `error`. The reader above runs the plans: fetch, decode, paste.

mod kernel;
mod level;
mod nearest;
mod read;
mod tiles;
mod warp;

pub(crate) use kernel::{KernelPlan, ReadShared};
pub(crate) use nearest::{Grid, MaskOut, NearestPlan, nearest_indices};
pub(crate) use read::{LevelRead, ReadPlan, finite};
pub(crate) use tiles::{BlockIndex, ChunkRef, TilePlan};
pub(crate) use warp::{choose_grid_level, grid_coords, plan_warp, warp_sample};

#[cfg(test)]
mod tests;
