//! The pure part of a view: which level, which whole-pixel window of it
//! and which bands a view stands for, and the algebra that makes a new
//! focus from an old one (sub-windows, band selections, `isel`, another
//! level). No reader, no I/O: views and stacks wrap this.
//!
//! May use: `error`, `geo`.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::geo::{Affine, Window};

/// An axis of a view, for [`crate::CogView::isel`] and
/// [`crate::CogStack::isel`]: time (files of a stack), band, rows, columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Axis {
    /// The files of a stack (T).
    Time,
    /// Bands (C).
    Band,
    /// Rows (H).
    Y,
    /// Columns (W).
    X,
}

/// A whole-pixel window of one level and a band selection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct Focus {
    /// The level read as if it were the image (0 = full resolution).
    pub level: usize,
    /// First column, in pixels of `level` (negative: left of the image).
    pub col: i64,
    /// First row.
    pub row: i64,
    /// Columns (at least 1).
    pub width: u64,
    /// Rows (at least 1).
    pub height: u64,
    /// 1-based bands of the file, in output order.
    pub bands: Vec<usize>,
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidRequest {
        message: message.into(),
    }
}

/// `v` as a whole number of pixels, or an error naming `what`.
fn whole(what: &str, v: f64) -> Result<i64> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
        Ok(v as i64)
    } else {
        Err(invalid(format!(
            "{what} {v} is not a whole number of pixels (views focus on whole pixels)"
        )))
    }
}

impl Focus {
    /// All of a `width` x `height` level `level`, every one of `count` bands.
    pub fn whole(level: usize, width: u64, height: u64, count: usize) -> Focus {
        Focus {
            level,
            col: 0,
            row: 0,
            width,
            height,
            bands: (1..=count).collect(),
        }
    }

    /// The focus as a [`Window`] of its level.
    pub fn window(&self) -> Window {
        Window::new(self.col, self.row, self.width, self.height)
    }

    /// The transform of the focus, given its level's transform.
    pub fn transform(&self, level_transform: &Affine) -> Affine {
        level_transform.compose(&Affine::translation(self.col as f64, self.row as f64))
    }

    /// The focus moved to `w`, a window relative to the current focus
    /// (georeader's `set_window`). `image` is the level's size: when
    /// `boundless` is false, the new focus is cut to the image and must
    /// overlap it.
    pub fn sub_window(&self, w: &Window, boundless: bool, image: (u64, u64)) -> Result<Focus> {
        let (c, r) = (whole("col_off", w.col_off)?, whole("row_off", w.row_off)?);
        let (wd, ht) = (whole("width", w.width)?, whole("height", w.height)?);
        if wd <= 0 || ht <= 0 {
            return Err(invalid(format!("empty window {w:?}")));
        }
        let (mut c0, mut r0) = (self.col + c, self.row + r);
        let (mut c1, mut r1) = (c0 + wd, r0 + ht);
        if !boundless {
            let (iw, ih) = (image.0.min(i64::MAX as u64) as i64, image.1.min(i64::MAX as u64) as i64);
            (c0, r0, c1, r1) = (c0.max(0), r0.max(0), c1.min(iw), r1.min(ih));
            if c1 <= c0 || r1 <= r0 {
                return Err(invalid(format!(
                    "window {w:?} lies outside the {}x{} image (ask for a boundless window)",
                    image.0, image.1
                )));
            }
        }
        Ok(Focus {
            col: c0,
            row: r0,
            width: (c1 - c0) as u64,
            height: (r1 - r0) as u64,
            ..self.clone()
        })
    }

    /// The focus with bands picked by 1-based position in the current
    /// selection (a fresh view's positions are the file's band numbers).
    pub fn select_bands(&self, picks: &[usize]) -> Result<Focus> {
        if picks.is_empty() {
            return Err(invalid("no bands selected"));
        }
        let bands = picks
            .iter()
            .map(|&b| {
                b.checked_sub(1)
                    .and_then(|i| self.bands.get(i))
                    .copied()
                    .ok_or_else(|| {
                        invalid(format!(
                            "band {b} does not exist: the view has bands 1..={} (bands are 1-based)",
                            self.bands.len()
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Focus { bands, ..self.clone() })
    }

    /// numpy-style `isel` along one axis: `range` is 0-based and relative to
    /// the focus, cut to its size as numpy cuts slices; an empty result is
    /// an error. `Axis::Time` is for stacks and refused here.
    pub fn isel(&self, axis: Axis, range: Range<usize>) -> Result<Focus> {
        let cut = |len: usize| -> Result<Range<usize>> {
            let (a, b) = (range.start.min(len), range.end.min(len));
            if a >= b {
                return Err(invalid(format!("isel {axis:?} {range:?} selects nothing of {len}")));
            }
            Ok(a..b)
        };
        let mut f = self.clone();
        match axis {
            Axis::Time => return Err(invalid("a single file has no time axis")),
            Axis::Band => {
                let r = cut(self.bands.len())?;
                f.bands = self.bands.get(r).map(<[usize]>::to_vec).unwrap_or_default();
            }
            Axis::Y => {
                let r = cut(usize::try_from(self.height).unwrap_or(usize::MAX))?;
                f.row = self.row + r.start as i64;
                f.height = (r.end - r.start) as u64;
            }
            Axis::X => {
                let r = cut(usize::try_from(self.width).unwrap_or(usize::MAX))?;
                f.col = self.col + r.start as i64;
                f.width = (r.end - r.start) as u64;
            }
        }
        Ok(f)
    }

    /// The same area on level `level`, whose pixels are `factor` (x, y)
    /// times the current level's: the window scaled and widened to whole
    /// pixels (first pixel floored, last one ceiled).
    pub fn at_level(&self, level: usize, factor: (f64, f64)) -> Result<Focus> {
        let w = self.window().decimate(factor.0, factor.1);
        let (c0, r0) = (w.col_off.floor(), w.row_off.floor());
        let (c1, r1) = ((w.col_off + w.width).ceil(), (w.row_off + w.height).ceil());
        let (c0, r0) = (whole("col_off", c0)?, whole("row_off", r0)?);
        let (c1, r1) = (whole("col_off", c1)?, whole("row_off", r1)?);
        Ok(Focus {
            level,
            col: c0,
            row: r0,
            width: (c1 - c0).max(1) as u64,
            height: (r1 - r0).max(1) as u64,
            bands: self.bands.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> Focus {
        Focus::whole(0, 100, 80, 3)
    }

    /// Sub-windows are relative to the focus; bounded ones are cut to the
    /// image and refused outside it; fractional ones are refused.
    #[test]
    fn sub_windows_compose_and_cut() {
        let a = f().sub_window(&Window::new(10, 20, 30, 30), true, (100, 80)).unwrap();
        let b = a.sub_window(&Window::new(-15, 5, 10, 10), true, (100, 80)).unwrap();
        assert_eq!((b.col, b.row, b.width, b.height), (-5, 25, 10, 10));
        let c = a.sub_window(&Window::new(-15, 5, 10, 10), false, (100, 80)).unwrap();
        assert_eq!((c.col, c.row, c.width, c.height), (0, 25, 5, 10));
        assert!(a.sub_window(&Window::new(-50, 0, 10, 10), false, (100, 80)).is_err());
        assert!(
            a.sub_window(&Window::from_f64(0.5, 0.0, 10.0, 10.0), true, (100, 80))
                .is_err()
        );
    }

    /// Band picks are 1-based positions in the current selection; isel cuts
    /// like numpy and refuses empty results.
    #[test]
    fn bands_and_isel() {
        let a = f().select_bands(&[3, 1]).unwrap();
        assert_eq!(a.bands, vec![3, 1]);
        assert_eq!(a.select_bands(&[2]).unwrap().bands, vec![1]);
        assert!(a.select_bands(&[0]).is_err() && a.select_bands(&[3]).is_err());
        let y = f().isel(Axis::Y, 70..200).unwrap();
        assert_eq!((y.row, y.height), (70, 10));
        assert!(f().isel(Axis::X, 100..120).is_err());
        assert_eq!(f().isel(Axis::Band, 1..3).unwrap().bands, vec![2, 3]);
        assert!(f().isel(Axis::Time, 0..1).is_err());
    }

    /// Moving to a coarser level widens the window to whole pixels.
    #[test]
    fn other_levels_widen_to_whole_pixels() {
        let a = f().sub_window(&Window::new(3, 5, 10, 10), true, (100, 80)).unwrap();
        let o = a.at_level(1, (2.0, 2.0)).unwrap();
        assert_eq!((o.level, o.col, o.row, o.width, o.height), (1, 1, 2, 6, 6));
    }
}
