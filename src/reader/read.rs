//! Window and bounds reads: `read`, `read_with`, `read_window`, `point`,
//! `preview`. The plan (`crate::plan::ReadPlan`) decides the level, the
//! window, the tiles and the output; this runs it: only the tiles the
//! sampled pixels fall in are fetched (one batch of merged requests through
//! the block cache), decoded in parallel on the blocking pool, and pasted
//! straight into the output. Samples outside the image are filled with
//! nodata (else the fill value) and masked.

use std::sync::{Arc, Mutex};

use ndarray::Array3;

use crate::error::{Error, Result};
use crate::geo::{Bounds, Window};
use crate::plan::{Grid, KernelPlan, LevelRead, MaskOut, NearestPlan, ReadPlan, ReadShared, finite, nearest_indices};
use crate::raster::{ArrayData, MaskedArray, Sample, dispatch};
use crate::request::{Placement, Raster, ReadRequest, Shape};
use crate::resample::Resampling;

use super::CogReader;

impl CogReader {
    /// Reads `bounds` (in the file's CRS) into `shape` (rows, cols) with
    /// nearest resampling at the level GDAL would choose.
    pub async fn read(&self, bounds: Bounds, shape: impl Into<Shape>) -> Result<Raster> {
        let s = shape.into();
        self.read_with(ReadRequest::bounds(bounds).shape(s.rows, s.cols)).await
    }

    /// Reads pixel `window` of level `level` at its own size.
    pub async fn read_window(&self, window: Window, level: usize) -> Result<Raster> {
        self.read_with(ReadRequest::window(window, level)).await
    }

    /// Values of every band at map coordinate (x, y): a 1 x 1 raster of the
    /// full-resolution pixel holding the point (rasterio's `index`); a
    /// point outside the image is [`Error::PointOutsideBounds`].
    pub async fn point(&self, x: f64, y: f64) -> Result<Raster> {
        finite("point", &[x, y])?;
        let p = self.profile();
        let (row, col) = p.transform.rowcol(x, y).ok_or_else(|| Error::InvalidRequest {
            message: "the transform cannot be inverted".into(),
        })?;
        let (col, row) = (col.floor(), row.floor());
        if col < 0.0 || row < 0.0 || col >= p.width as f64 || row >= p.height as f64 {
            return Err(Error::PointOutsideBounds {
                url: self.url().to_string(),
                x,
                y,
            });
        }
        self.read_window(Window::from_f64(col, row, 1.0, 1.0), 0).await
    }

    /// The whole image at most `max_size` pixels on its long side, as
    /// rio-tiler's `preview`: a smaller image at its own size, else scaled
    /// to `max_size` on the long side (the other rounded up, in rio-tiler's
    /// floating-point steps), read with nearest resampling from the level
    /// GDAL would choose.
    pub async fn preview(&self, max_size: usize) -> Result<Raster> {
        let p = self.profile();
        let (w, h) = (p.width as usize, p.height as usize);
        let max = max_size.max(1);
        let ratio = h as f64 / w as f64;
        let shape = if w.max(h) < max {
            Shape::new(h, w)
        } else if ratio > 1.0 {
            Shape::new(max, ((max as f64 / ratio).ceil() as usize).max(1))
        } else {
            Shape::new(((max as f64 * ratio).ceil() as usize).max(1), max)
        };
        self.read_with(ReadRequest::bounds(p.bounds).shape(shape.rows, shape.cols))
            .await
    }

    /// The general read (see [`ReadRequest`]).
    pub async fn read_with(&self, req: ReadRequest) -> Result<Raster> {
        let p = self.profile();
        let options = self.options();
        let plan = ReadPlan::new(self.levels(), p, &req, options.limits(), options.fill_value())
            .map_err(|e| e.with_source(self.url()))?;
        let mut array = self.sample(&plan, &plan.data, &req).await?;
        if let Some(m) = &plan.mask {
            array.mask = self.sample(&plan, m, &req).await?.mask;
        }
        let at = Placement {
            transform: plan.transform,
            crs: p.crs.clone(),
            level: plan.data.z,
            nodata: p.nodata,
            fill_value: plan.fill,
        };
        Ok(Raster::new(array, at))
    }

    /// `s.win` of level `s.z` resampled to the plan's output.
    async fn sample(&self, plan: &ReadPlan, s: &LevelRead, req: &ReadRequest) -> Result<MaskedArray> {
        let level = self.level(s.z)?;
        let out = plan.out;
        let progress = req.progress.as_ref().map(|p| p.0.clone());
        match plan.resampling {
            Resampling::Nearest => {
                let (w, h) = (level.width() as i64, level.height() as i64);
                let (cw, ch) = if plan.boundless {
                    (None, None)
                } else {
                    (Some(w), Some(h))
                };
                let xs = nearest_indices(out.cols, s.win.col_off, s.win.width, cw, true);
                let ys = nearest_indices(out.rows, s.win.row_off, s.win.height, ch, false);
                let np = NearestPlan::new(Grid::of(level), &xs, &ys, &plan.bands);
                self.sample_nearest(s, np, plan, progress).await
            }
            r => {
                let shared = ReadShared {
                    bands: &plan.bands,
                    fill: plan.fill.as_f64(),
                    boundless: plan.boundless,
                    limits: self.options().limits(),
                };
                let kp = KernelPlan::new(self.profile(), level, self.levels().len(), s, r, out, &shared)
                    .map_err(|e| e.with_source(self.url()))?;
                if kp.cols.is_empty() {
                    return kp.job.empty();
                }
                let np = NearestPlan::new(Grid::of(level), &kp.cols, &kp.rows, &plan.bands);
                let src = self.sample_nearest(s, np, plan, progress).await?;
                // The kernel and the conversion to the output type are CPU
                // work: off the async runtime.
                let job = kp.job;
                tokio::task::spawn_blocking(move || job.run(&src))
                    .await
                    .map_err(|e| Error::Internal(format!("resampling task failed: {e}")))?
            }
        }
    }

    /// The planned pixels of level `z`, each tile pasted by the task that
    /// decoded it, in parallel with the decoding of the others.
    async fn sample_nearest(
        &self,
        s: &LevelRead,
        np: NearestPlan,
        plan: &ReadPlan,
        progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    ) -> Result<MaskedArray> {
        let paste = Arc::new(np.paste);
        let shape = paste.shape();
        let n = shape.0 * shape.1 * shape.2;
        let fill = plan.fill;
        let source = self.profile().mask;
        macro_rules! go {
            ($t:ty) => {{
                let fill = <$t>::from_nodata(fill).unwrap_or_else(|| <$t>::from_f64(fill.as_f64()));
                let out = Arc::new(Mutex::new((vec![fill; n], MaskOut::new(source, &paste))));
                let (p, o) = (paste.clone(), out.clone());
                let paste = move |tx: u64, ty: u64, tile: Arc<MaskedArray>| -> Result<()> {
                    let mut g = o.lock().unwrap_or_else(|e| e.into_inner());
                    let (data, mask) = &mut *g;
                    p.paste::<$t>(tx, ty, &tile, data, mask);
                    Ok(())
                };
                self.decode_tiles(&np.tiles, s.z, s.mask_only, progress, paste)
                    .await?;
                let (data, mask) = std::mem::replace(
                    &mut *out.lock().unwrap_or_else(|e| e.into_inner()),
                    (Vec::new(), MaskOut::Pixel(Vec::new())),
                );
                (
                    ArrayData::from(Array3::from_shape_vec(shape, data).map_err(|e| Error::Internal(e.to_string()))?),
                    mask.finish(shape)
                        .ok_or_else(|| Error::Internal("the read's mask has the wrong size".into()))?,
                )
            }};
        }
        let (data, mask) = dispatch!(self.profile().dtype, go);
        Ok(MaskedArray { data, mask })
    }
}
