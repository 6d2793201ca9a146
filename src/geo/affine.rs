//! The affine transform from pixel to map coordinates, in rasterio's order.

/// `x = a*col + b*row + c`, `y = d*col + e*row + f`, as rasterio's `Affine`
/// (GDAL's geotransform is `[c, a, b, f, d, e]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// x per column.
    pub a: f64,
    /// x per row (rotation/shear).
    pub b: f64,
    /// x of the top-left corner.
    pub c: f64,
    /// y per column (rotation/shear).
    pub d: f64,
    /// y per row (negative for north-up).
    pub e: f64,
    /// y of the top-left corner.
    pub f: f64,
}

impl Affine {
    /// The identity, which rasterio reports for files without georeferencing.
    pub const IDENTITY: Affine = Affine {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 0.0,
        e: 1.0,
        f: 0.0,
    };

    /// From GDAL's geotransform order `[c, a, b, f, d, e]`.
    pub fn from_gdal(gt: [f64; 6]) -> Affine {
        Affine {
            a: gt[1],
            b: gt[2],
            c: gt[0],
            d: gt[4],
            e: gt[5],
            f: gt[3],
        }
    }

    /// In GDAL's geotransform order.
    pub fn to_gdal(&self) -> [f64; 6] {
        [self.c, self.a, self.b, self.f, self.d, self.e]
    }

    /// The six coefficients in rasterio's order `a, b, c, d, e, f`.
    pub fn to_array(&self) -> [f64; 6] {
        [self.a, self.b, self.c, self.d, self.e, self.f]
    }

    /// Map coordinates of pixel corner `(col, row)`.
    pub fn apply(&self, col: f64, row: f64) -> (f64, f64) {
        (
            self.a * col + self.b * row + self.c,
            self.d * col + self.e * row + self.f,
        )
    }

    /// A translation by `(x, y)`.
    pub fn translation(x: f64, y: f64) -> Affine {
        Affine {
            c: x,
            f: y,
            ..Affine::IDENTITY
        }
    }

    /// A scaling by `sx` along x and `sy` along y.
    pub fn scale(sx: f64, sy: f64) -> Affine {
        Affine {
            a: sx,
            e: sy,
            ..Affine::IDENTITY
        }
    }

    /// `self * other`: `other` applied first, as the affine package's `*`
    /// (same operations, same rounding).
    pub fn compose(&self, o: &Affine) -> Affine {
        Affine {
            a: self.a * o.a + self.b * o.d,
            b: self.a * o.b + self.b * o.e,
            c: self.a * o.c + self.b * o.f + self.c,
            d: self.d * o.a + self.e * o.d,
            e: self.d * o.b + self.e * o.e,
            f: self.d * o.c + self.e * o.f + self.f,
        }
    }

    /// The inverse transform (map to pixel), computed as the affine package
    /// does (the last bit decides which pixel a boundary falls in); `None`
    /// when the transform is degenerate.
    pub fn inverse(&self) -> Option<Affine> {
        let det = self.a * self.e - self.b * self.d;
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let idet = 1.0 / det;
        let (ra, rb, rd, re) = (self.e * idet, -self.b * idet, -self.d * idet, self.a * idet);
        Some(Affine {
            a: ra,
            b: rb,
            c: -self.c * ra - self.f * rb,
            d: rd,
            e: re,
            f: -self.c * rd - self.f * re,
        })
    }

    /// rasterio's `rowcol` before flooring: the fractional (row, col) of map
    /// point `(x, y)`; `None` when the transform cannot be inverted.
    pub fn rowcol(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let (col, row) = self.inverse()?.apply(x, y);
        Some((row, col))
    }

    /// rasterio's `xy`: map coordinates of the centre of pixel (row, col).
    pub fn xy(&self, row: f64, col: f64) -> (f64, f64) {
        self.apply(col + 0.5, row + 0.5)
    }

    /// The transform of a level whose pixels are `fx` x `fy` of these.
    pub fn decimated(&self, fx: f64, fy: f64) -> Affine {
        self.compose(&Affine::scale(fx, fy))
    }

    /// True when there is no rotation or shear.
    pub fn is_rectilinear(&self) -> bool {
        self.b == 0.0 && self.d == 0.0
    }

    /// Pixel size along each axis: `(|a|, |e|)` without rotation, else the
    /// lengths of the column and row vectors.
    pub fn resolution(&self) -> (f64, f64) {
        if self.is_rectilinear() {
            (self.a.abs(), self.e.abs())
        } else {
            (self.a.hypot(self.d), self.b.hypot(self.e))
        }
    }

    /// The extent of a `width` x `height` raster: min/max over its four corners.
    pub fn bounds(&self, width: u64, height: u64) -> Bounds {
        let (w, h) = (width as f64, height as f64);
        let corners = [
            self.apply(0.0, 0.0),
            self.apply(w, 0.0),
            self.apply(0.0, h),
            self.apply(w, h),
        ];
        let mut b = Bounds {
            minx: f64::INFINITY,
            miny: f64::INFINITY,
            maxx: f64::NEG_INFINITY,
            maxy: f64::NEG_INFINITY,
        };
        for (x, y) in corners {
            b.minx = b.minx.min(x);
            b.miny = b.miny.min(y);
            b.maxx = b.maxx.max(x);
            b.maxy = b.maxy.max(y);
        }
        b
    }
}

/// An axis-aligned extent in map coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// West.
    pub minx: f64,
    /// South.
    pub miny: f64,
    /// East.
    pub maxx: f64,
    /// North.
    pub maxy: f64,
}

impl Bounds {
    /// `[minx, miny, maxx, maxy]`.
    pub fn to_array(&self) -> [f64; 4] {
        [self.minx, self.miny, self.maxx, self.maxy]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_resolution_of_north_up_and_rotated() {
        let t = Affine {
            a: 10.0,
            b: 0.0,
            c: 100.0,
            d: 0.0,
            e: -5.0,
            f: 200.0,
        };
        assert_eq!(t.bounds(3, 4).to_array(), [100.0, 180.0, 130.0, 200.0]);
        assert_eq!(t.resolution(), (10.0, 5.0));
        let r = Affine {
            a: 3.0,
            b: 4.0,
            c: 0.0,
            d: 4.0,
            e: -3.0,
            f: 0.0,
        };
        assert_eq!(r.resolution(), (5.0, 5.0));
        assert_eq!(Affine::from_gdal(t.to_gdal()), t);
    }
}
