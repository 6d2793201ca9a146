//! Nearest-neighbour sampling, planned: which source pixel each output
//! pixel takes (GDAL's rule), which tiles hold them, and where each tile's
//! pixels go in the output.

use crate::levels::Level;
use ndarray::{Array2, Array3};

use crate::raster::{Mask, MaskSource, MaskedArray, Sample};

/// Source indices of `out` nearest samples over a window starting at `off`
/// of `size` pixels, as GDAL's RasterIO computes them: the pixel holding
/// each output pixel's centre, `(i + 0.5) * size / out + off + 1e-10`.
/// Along rows GDAL accumulates the position sample by sample
/// (`accumulate`), down columns it computes each directly; the two differ
/// in the last bit, which decides ties. With `clamp` (reads within the
/// image) indices are clamped to `0..clamp`; without it (boundless reads)
/// they may fall outside.
pub(crate) fn nearest_indices(out: usize, off: f64, size: f64, clamp: Option<i64>, accumulate: bool) -> Vec<i64> {
    let inc = size / out.max(1) as f64;
    let mut at = 0.5 * inc + off + 1e-10;
    let mut v = Vec::with_capacity(out);
    for i in 0..out {
        if !accumulate {
            at = (i as f64 + 0.5) * inc + off + 1e-10;
        }
        let x = at.floor() as i64;
        v.push(clamp.map_or(x, |n| x.clamp(0, (n - 1).max(0))));
        at += inc;
    }
    v
}

/// Block and level sizes of the level sampled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid {
    bw: i64,
    bh: i64,
    w: i64,
    h: i64,
}

impl Grid {
    pub fn of(level: &Level) -> Grid {
        Grid {
            bw: (level.image.block_width as i64).max(1),
            bh: (level.image.block_height as i64).max(1),
            w: level.width() as i64,
            h: level.height() as i64,
        }
    }
}

/// The source pixels `xs` x `ys` of one level, and the tiles that hold them.
#[derive(Debug, Clone)]
pub(crate) struct NearestPlan {
    /// Tiles (x, y) to fetch and decode, row by row.
    pub tiles: Vec<(u64, u64)>,
    /// Where their pixels go.
    pub paste: PastePlan,
}

impl NearestPlan {
    /// Samples columns `xs` and rows `ys` of the level (indices outside it
    /// stay unfilled) for the 0-based `bands`.
    pub fn new(g: Grid, xs: &[i64], ys: &[i64], bands: &[usize]) -> NearestPlan {
        let mut txs: Vec<u64> = xs
            .iter()
            .filter(|&&x| x >= 0 && x < g.w)
            .map(|&x| (x / g.bw) as u64)
            .collect();
        let mut tys: Vec<u64> = ys
            .iter()
            .filter(|&&y| y >= 0 && y < g.h)
            .map(|&y| (y / g.bh) as u64)
            .collect();
        txs.sort_unstable();
        txs.dedup();
        tys.sort_unstable();
        tys.dedup();
        NearestPlan {
            tiles: tys.iter().flat_map(|&y| txs.iter().map(move |&x| (x, y))).collect(),
            paste: PastePlan::new(&g, xs, ys, bands),
        }
    }
}

/// A run of output columns that read consecutive pixels of one tile column.
#[derive(Debug, Clone)]
struct Run {
    /// First output column.
    c0: usize,
    /// Columns in the run.
    len: usize,
    /// Index into the distinct tile columns.
    txi: usize,
    /// First pixel column inside the tile.
    ix0: usize,
}

/// Where each tile's pixels go in the output: runs of output columns that
/// read consecutive pixels of one tile column, and each output row's tile
/// row. Pasting copies runs as slices (a 1:1 read is a memcpy per tile row).
#[derive(Debug, Clone)]
pub(crate) struct PastePlan {
    txs: Vec<u64>,
    runs: Vec<Run>,
    rows: Vec<Option<(u64, usize)>>,
    cols: usize,
    bands: Vec<usize>,
    /// Every output pixel samples a pixel inside the level.
    complete: bool,
}

impl PastePlan {
    fn new(g: &Grid, xs: &[i64], ys: &[i64], bands: &[usize]) -> PastePlan {
        let mut txs: Vec<u64> = Vec::new();
        let mut runs: Vec<Run> = Vec::new();
        for (c, &x) in xs.iter().enumerate() {
            if x < 0 || x >= g.w {
                continue;
            }
            let (tx, ix) = ((x / g.bw) as u64, (x % g.bw) as usize);
            let txi = match txs.iter().position(|&t| t == tx) {
                Some(i) => i,
                None => {
                    txs.push(tx);
                    txs.len() - 1
                }
            };
            match runs.last_mut() {
                Some(r) if r.txi == txi && r.c0 + r.len == c && r.ix0 + r.len == ix => r.len += 1,
                _ => runs.push(Run {
                    c0: c,
                    len: 1,
                    txi,
                    ix0: ix,
                }),
            }
        }
        let rows: Vec<_> = ys
            .iter()
            .map(|&y| (y >= 0 && y < g.h).then(|| ((y / g.bh) as u64, (y % g.bh) as usize)))
            .collect();
        let complete = rows.iter().all(Option::is_some) && runs.iter().map(|r| r.len).sum::<usize>() == xs.len();
        PastePlan {
            txs,
            runs,
            rows,
            cols: xs.len(),
            bands: bands.to_vec(),
            complete,
        }
    }

    /// True when every output pixel samples a pixel inside the level (so
    /// that none is left unpasted).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Output (bands, rows, cols).
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.bands.len(), self.rows.len(), self.cols)
    }

    /// Copies tile (tx, ty)'s samples and mask into the output.
    pub fn paste<T: Sample>(&self, tx: u64, ty: u64, tile: &MaskedArray, data: &mut [T], mask: &mut MaskOut) {
        let Some(txi) = self.txs.iter().position(|&t| t == tx) else {
            return;
        };
        let Some(src) = T::view(&tile.data).and_then(|a| a.as_slice()) else {
            return;
        };
        let (tb, th, tw) = tile.shape();
        let nrows = self.rows.len();
        for (r, row) in self.rows.iter().enumerate() {
            let Some((rty, iy)) = *row else { continue };
            if rty != ty {
                continue;
            }
            for run in self.runs.iter().filter(|run| run.txi == txi) {
                if iy >= th || run.ix0 + run.len > tw {
                    continue;
                }
                for (o, &b) in self.bands.iter().enumerate() {
                    if b >= tb {
                        continue;
                    }
                    let s0 = (b * th + iy) * tw + run.ix0;
                    let d0 = (o * nrows + r) * self.cols + run.c0;
                    if let (Some(d), Some(s)) = (data.get_mut(d0..d0 + run.len), src.get(s0..s0 + run.len)) {
                        d.copy_from_slice(s);
                    }
                    if let MaskOut::Sample(m) = mask
                        && let Some(d) = m.get_mut(d0..d0 + run.len)
                    {
                        mask_run(&tile.mask, b, iy, run.ix0, d);
                    }
                }
                if let (MaskOut::Pixel(m), Some(&b)) = (&mut *mask, self.bands.first()) {
                    let d0 = r * self.cols + run.c0;
                    if let Some(d) = m.get_mut(d0..d0 + run.len) {
                        mask_run(&tile.mask, b.min(tb.saturating_sub(1)), iy, run.ix0, d);
                    }
                }
            }
        }
    }
}

/// The mask of a read being pasted: none (no mask source, and every
/// output pixel lies inside the level), one value per output pixel (the
/// mask is per pixel, or there is none), or one per output sample
/// (nodata). Unpasted values stay `true` (invalid).
#[derive(Debug, Clone)]
pub(crate) enum MaskOut {
    /// All valid: nothing to paste.
    Valid,
    /// (rows, cols).
    Pixel(Vec<bool>),
    /// (bands, rows, cols).
    Sample(Vec<bool>),
}

impl MaskOut {
    /// The mask of an output of `shape` read from a file with mask source
    /// `source` by `plan`: all valid when there is no source and the plan
    /// leaves no output pixel unpasted, else all invalid until pasted.
    pub fn new(source: Option<MaskSource>, plan: &PastePlan) -> MaskOut {
        let (bands, rows, cols) = plan.shape();
        match source {
            None if plan.is_complete() => MaskOut::Valid,
            Some(s) if !s.is_per_pixel() => MaskOut::Sample(vec![true; bands * rows * cols]),
            _ => MaskOut::Pixel(vec![true; rows * cols]),
        }
    }

    /// The finished mask of an output of `shape` (all valid, holding
    /// nothing, when no value is invalid).
    pub fn finish(self, shape: (usize, usize, usize)) -> Option<Mask> {
        let (bands, rows, cols) = shape;
        match self {
            MaskOut::Valid => Some(Mask::valid(shape)),
            MaskOut::Pixel(v) | MaskOut::Sample(v) if !v.contains(&true) => Some(Mask::valid(shape)),
            MaskOut::Pixel(v) => Array2::from_shape_vec((rows, cols), v)
                .ok()
                .map(|p| Mask::per_pixel(bands, p)),
            MaskOut::Sample(v) => Array3::from_shape_vec(shape, v).ok().map(Mask::per_sample),
        }
    }
}

/// `dst.len()` values of band `b`'s mask from (`iy`, `ix0`) along the row.
fn mask_run(mask: &Mask, b: usize, iy: usize, ix0: usize, dst: &mut [bool]) {
    if mask.is_all_valid() {
        dst.fill(false);
        return;
    }
    let Some(band) = mask.band(b) else {
        return;
    };
    let (rows, cols) = band.dim();
    if iy >= rows || ix0 + dst.len() > cols {
        return;
    }
    let run = band.row(iy).slice_move(ndarray::s![ix0..ix0 + dst.len()]);
    match run.as_slice() {
        Some(s) => dst.copy_from_slice(s),
        None => dst.iter_mut().zip(run.iter()).for_each(|(d, &s)| *d = s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_indices_take_the_pixel_holding_the_centre() {
        assert_eq!(nearest_indices(4, 0.0, 4.0, None, true), [0, 1, 2, 3]);
        assert_eq!(nearest_indices(2, 0.0, 4.0, None, false), [1, 3]);
        assert_eq!(nearest_indices(3, 10.5, 3.0, None, true), [11, 12, 13]);
        assert_eq!(
            nearest_indices(2, -2.0, 4.0, None, true),
            [-1, 1],
            "outside stays outside"
        );
        assert_eq!(
            nearest_indices(2, -2.0, 4.0, Some(4), true),
            [0, 1],
            "clamped inside the image"
        );
    }

    #[test]
    fn only_tiles_holding_sampled_pixels_are_planned() {
        // A 1000 x 600 level in 256-pixel tiles: 4 x 3 tiles.
        let g = Grid {
            bw: 256,
            bh: 256,
            w: 1000,
            h: 600,
        };
        // Columns 250..262 straddle tiles 0 and 1; rows 520..530 lie in tile 2.
        let xs: Vec<i64> = (250..262).collect();
        let ys: Vec<i64> = (520..530).collect();
        let p = NearestPlan::new(g, &xs, &ys, &[0]);
        assert_eq!(p.tiles, [(0, 2), (1, 2)]);
        assert_eq!(p.paste.shape(), (1, 10, 12));
        assert!(p.paste.is_complete(), "every sampled pixel is inside the level");
        // Every 300th column of the level: tiles 0, 1, 2 and 3 of row 0, once each.
        let sparse = NearestPlan::new(g, &[0, 300, 600, 900], &[0], &[0, 1]);
        assert_eq!(sparse.tiles, [(0, 0), (1, 0), (2, 0), (3, 0)]);
        // Outside the level (a boundless read): nothing to fetch.
        let outside = NearestPlan::new(g, &[-5, 1000, 2000], &[-1, 600], &[0]);
        assert!(outside.tiles.is_empty());
        assert!(!outside.paste.is_complete());
        let partly = NearestPlan::new(g, &[998, 999, 1000], &[0], &[0]);
        assert!(!partly.paste.is_complete(), "column 1000 lies outside");
    }
}
