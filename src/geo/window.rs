//! Pixel windows and the algebra between windows, transforms and bounds,
//! written once (rasterio's `windows` module is the model).
//!
//! A [`Window`] may be fractional and may lie partly or wholly outside the
//! image; [`Window::crop`] is rasterio's `Window.crop`, [`from_bounds`] its
//! `windows.from_bounds`. May use: `geo::affine`.

use super::affine::{Affine, Bounds};

/// A window in pixels of one level (fractional offsets and sizes allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Window {
    /// First column (may be negative or fractional).
    pub col_off: f64,
    /// First row.
    pub row_off: f64,
    /// Columns.
    pub width: f64,
    /// Rows.
    pub height: f64,
}

impl Window {
    /// A whole-pixel window.
    pub fn new(col_off: i64, row_off: i64, width: u64, height: u64) -> Window {
        Window::from_f64(col_off as f64, row_off as f64, width as f64, height as f64)
    }

    /// A window with fractional offsets and sizes.
    pub fn from_f64(col_off: f64, row_off: f64, width: f64, height: f64) -> Window {
        Window {
            col_off,
            row_off,
            width,
            height,
        }
    }

    /// rasterio's `Window.crop`: the part of the window inside a `width` x
    /// `height` image (empty when there is none).
    pub fn crop(&self, width: f64, height: f64) -> Window {
        let (c0, r0) = (self.col_off.max(0.0).min(width), self.row_off.max(0.0).min(height));
        let (c1, r1) = (
            (self.col_off + self.width).min(width).max(0.0),
            (self.row_off + self.height).min(height).max(0.0),
        );
        Window::from_f64(c0, r0, (c1 - c0).max(0.0), (r1 - r0).max(0.0))
    }

    /// The same area in pixels `fx` x `fy` times larger (the window of a
    /// level decimated by those factors).
    pub fn decimate(&self, fx: f64, fy: f64) -> Window {
        Window::from_f64(self.col_off / fx, self.row_off / fy, self.width / fx, self.height / fy)
    }

    /// The same area in pixels `fx` x `fy` times smaller (the
    /// full-resolution window of a window of a level decimated by those).
    pub fn magnify(&self, fx: f64, fy: f64) -> Window {
        Window::from_f64(self.col_off * fx, self.row_off * fy, self.width * fx, self.height * fy)
    }

    /// The transform of this window read into `cols` x `rows` pixels, given
    /// the transform `t` of the level it is a window of: rasterio's
    /// `window_transform`, then scaled to the output size.
    pub fn transform(&self, t: &Affine, cols: usize, rows: usize) -> Affine {
        t.compose(&Affine::translation(self.col_off, self.row_off))
            .compose(&Affine::scale(self.width / cols as f64, self.height / rows as f64))
    }
}

/// rasterio's `windows.from_bounds`: the pixel window of `b` under `t`,
/// the four corners taken through the inverse transform. `None` when the
/// transform cannot be inverted.
pub fn from_bounds(t: &Affine, b: &Bounds) -> Option<Window> {
    let inv = t.inverse()?;
    let corners = [(b.minx, b.maxy), (b.maxx, b.maxy), (b.maxx, b.miny), (b.minx, b.miny)];
    let (mut c0, mut c1, mut r0, mut r1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in corners {
        let (c, r) = inv.apply(x, y);
        (c0, c1, r0, r1) = (c0.min(c), c1.max(c), r0.min(r), r1.max(r));
    }
    Some(Window::from_f64(c0, r0, c1 - c0, r1 - r0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_keeps_the_part_inside_and_from_bounds_inverts_the_transform() {
        let w = Window::from_f64(-2.0, 3.0, 10.0, 10.0).crop(5.0, 8.0);
        assert_eq!(w, Window::from_f64(0.0, 3.0, 5.0, 5.0));
        assert_eq!(Window::from_f64(9.0, 9.0, 1.0, 1.0).crop(5.0, 5.0).width, 0.0);
        let t = Affine::from_gdal([100.0, 10.0, 0.0, 200.0, 0.0, -5.0]);
        let b = Bounds {
            minx: 120.0,
            miny: 180.0,
            maxx: 150.0,
            maxy: 195.0,
        };
        assert_eq!(from_bounds(&t, &b), Some(Window::from_f64(2.0, 1.0, 3.0, 3.0)));
        let wt = Window::from_f64(2.0, 1.0, 3.0, 3.0).transform(&t, 6, 1);
        assert_eq!(wt.to_gdal(), [120.0, 5.0, 0.0, 195.0, 0.0, -15.0]);
    }
}
