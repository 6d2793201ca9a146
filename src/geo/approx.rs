//! GDAL's approximate transformer (`GDALApproxTransform`): along one row
//! of output pixels, transform the first, middle and last points exactly,
//! and when the middle one lies within `max_error` (source pixels, |dx| +
//! |dy|) of the straight line between the ends, interpolate every point
//! linearly; otherwise split the row in two at the middle and repeat.
//! GDAL's warper, and so rasterio's `WarpedVRT` and rio-tiler, place
//! pixels this way (error threshold 0.125 pixel), so doing the same keeps
//! nearest-neighbour picks where theirs are.
//!
//! Pure. May use nothing else in the crate.

/// Transforms the points `xs[i], ys[i]` (one row: equal `ys`, increasing
/// `xs`) in place with `exact`, approximating as GDAL does.
pub fn approx_row<F>(xs: &mut [f64], ys: &mut [f64], max_error: f64, exact: &F)
where
    F: Fn(&mut [f64], &mut [f64]),
{
    let n = xs.len();
    if n <= 5 || max_error <= 0.0 {
        exact(xs, ys);
        return;
    }
    let mid = (n - 1) / 2;
    let (mut px, mut py) = ([xs[0], xs[mid], xs[n - 1]], [ys[0], ys[mid], ys[n - 1]]);
    exact(&mut px, &mut py);
    if px.iter().chain(py.iter()).any(|v| !v.is_finite()) {
        exact(xs, ys);
        return;
    }
    let step = |i: usize| (xs[i] - xs[0]) / (xs[n - 1] - xs[0]);
    let t = step(mid);
    let (ix, iy) = (px[0] + (px[2] - px[0]) * t, py[0] + (py[2] - py[0]) * t);
    let error = (ix - px[1]).abs() + (iy - py[1]).abs();
    if error > max_error {
        let (lx, rx) = xs.split_at_mut(mid);
        let (ly, ry) = ys.split_at_mut(mid);
        approx_row(lx, ly, max_error, exact);
        approx_row(rx, ry, max_error, exact);
        return;
    }
    let (x0, x1) = (xs[0], xs[n - 1]);
    for i in 0..n {
        let t = if x1 == x0 { 0.0 } else { (xs[i] - x0) / (x1 - x0) };
        xs[i] = px[0] + (px[2] - px[0]) * t;
        ys[i] = py[0] + (py[2] - py[0]) * t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear transform is interpolated from three exact points; a curved
    /// one is split until each piece is within the error.
    #[test]
    fn linear_rows_interpolate_and_curved_rows_split() {
        let calls = std::cell::Cell::new(0usize);
        let lin = |x: &mut [f64], y: &mut [f64]| {
            calls.set(calls.get() + x.len());
            for (a, b) in x.iter_mut().zip(y.iter_mut()) {
                (*a, *b) = (2.0 * *a + 1.0, *b - 3.0);
            }
        };
        let mut xs: Vec<f64> = (0..256).map(|i| i as f64 + 0.5).collect();
        let mut ys = vec![10.5; 256];
        approx_row(&mut xs, &mut ys, 0.125, &lin);
        assert_eq!(calls.get(), 3);
        assert!((xs[100] - 201.0 - 1.0).abs() < 1e-9 && (ys[7] - 7.5).abs() < 1e-12);
        let curved = |x: &mut [f64], y: &mut [f64]| {
            for (a, b) in x.iter_mut().zip(y.iter_mut()) {
                (*a, *b) = (*a, *b + (*a / 16.0).powi(2));
            }
        };
        let mut xs: Vec<f64> = (0..256).map(|i| i as f64 + 0.5).collect();
        let mut ys = vec![0.0; 256];
        approx_row(&mut xs, &mut ys, 0.125, &curved);
        for (i, y) in ys.iter().enumerate() {
            let want = ((i as f64 + 0.5) / 16.0).powi(2);
            assert!((y - want).abs() <= 0.25, "pixel {i}: {y} vs {want}");
        }
    }
}
