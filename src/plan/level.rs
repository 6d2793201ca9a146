//! Which level a read takes its pixels from, and GDAL's integer window
//! offset there.

use crate::geo::Window;
use crate::request::Shape;
use crate::resample::Resampling;

/// A size in pixels, width first (a level's, or a window's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Size {
    pub width: f64,
    pub height: f64,
}

impl Size {
    pub fn of(width: u64, height: u64) -> Size {
        Size {
            width: width as f64,
            height: height as f64,
        }
    }
}

/// GDAL's overview choice (`GDALBandGetBestOverviewLevel2`, GDAL 3.10).
/// `sizes` are the levels' sizes, full resolution first; `win` is the
/// full-resolution window size and `out` the output shape.
///
/// Overviews are tried only when an axis is reduced. The asked reduction is
/// that of the less reduced axis, on the window's whole-pixel size. An
/// overview of factor `f` (the smaller of its two axes' factors) qualifies
/// when `f < asked * threshold + 0.1` (threshold 1.2 for nearest, else 1.0);
/// the most reduced qualifying one wins, and the search stops at the first
/// whose factor is within 0.1 of the asked reduction.
pub(crate) fn choose_level(sizes: &[Size], win: Size, out: Shape, r: Resampling) -> usize {
    let Some(full) = sizes.first() else { return 0 };
    // GDAL works on the integer window size, int(max(1, size)).
    let (ww, wh) = (win.width.max(1.0).trunc(), win.height.max(1.0).trunc());
    let (bw, bh) = (out.cols.max(1) as f64, out.rows.max(1) as f64);
    if !(bw < ww || bh < wh) {
        return 0;
    }
    let desired = if ww / bw < wh / bh || out.rows == 1 {
        ww / bw
    } else {
        wh / bh
    };
    let limit = desired * r.oversampling_threshold() + 0.1;
    let (mut best, mut best_factor) = (0, 0.0);
    for (z, s) in sizes.iter().enumerate().skip(1) {
        if s.width > full.width || s.height > full.height || s.width == 0.0 || s.height == 0.0 {
            continue;
        }
        let factor = (full.width / s.width).min(full.height / s.height);
        if factor >= limit || factor <= best_factor {
            continue;
        }
        best = z;
        best_factor = factor;
        if (desired - factor).abs() < 0.1 {
            break;
        }
    }
    best
}

/// GDAL's integer window offset at the level read: `int()` of the window's
/// offset at full resolution or at an explicitly chosen level; at an
/// overview chosen for bounds, the full-resolution integer offset divided by
/// the level's factor and rounded (`GDALBandGetBestOverviewLevel2`), which
/// may lie after the floating-point offset.
pub(crate) fn int_offset(full: &Window, win: &Window, explicit: bool, factor: (f64, f64), level: Size) -> (i64, i64) {
    let (fx, fy) = factor;
    if explicit || (fx == 1.0 && fy == 1.0) {
        return (win.col_off.trunc() as i64, win.row_off.trunc() as i64);
    }
    let (nx, ny) = (full.col_off.trunc(), full.row_off.trunc());
    (
        ((nx / fx + 0.5).trunc().min(level.width - 1.0)) as i64,
        ((ny / fy + 0.5).trunc().min(level.height - 1.0)) as i64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_choice_follows_gdal_thresholds() {
        // GDAL 3.10: an overview of factor f qualifies when f < asked * 1.2 + 0.1
        // (nearest) or f < asked + 0.1 (other resampling).
        let sizes = [
            Size::of(1000, 1000),
            Size::of(500, 500),
            Size::of(250, 250),
            Size::of(125, 125),
        ];
        let pick = |rows, cols, r| choose_level(&sizes, Size::of(1000, 1000), Shape::new(rows, cols), r);
        assert_eq!(pick(1000, 1000, Resampling::Nearest), 0, "no reduction");
        // Asked 1.923: 2 < 1.923 + 0.1 for bilinear too (the 1.01 factor once refused it).
        assert_eq!(pick(520, 520, Resampling::Bilinear), 1);
        // Asked 1.802: 2 >= 1.902 for bilinear, but 2 < 2.262 for nearest.
        assert_eq!(pick(555, 555, Resampling::Bilinear), 0);
        assert_eq!(pick(555, 555, Resampling::Nearest), 1);
        // Asked 4: factor 4 is within 0.1, the search stops there.
        assert_eq!(pick(250, 250, Resampling::Average), 2);
        // The less reduced axis decides: 500 rows of 1000 is a reduction of 2.
        assert_eq!(pick(500, 100, Resampling::Nearest), 1);
        // Overview sizes GDAL rounded down: 1001 px over a 500 px overview is
        // factor 2.002, taken at a reduction of 1.641 with nearest.
        let odd = [Size::of(1001, 1001), Size::of(500, 500)];
        let z = choose_level(&odd, Size::of(1001, 1001), Shape::new(610, 610), Resampling::Nearest);
        assert_eq!(z, 1);
    }
}
