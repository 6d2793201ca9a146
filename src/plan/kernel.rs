//! Bilinear, cubic and average reads, planned: GDAL's taps per output pixel,
//! the source span they cover (read with nearest at 1:1, then resampled),
//! and the CPU job that resamples it with GDAL's values and rasterio's mask.

use ndarray::Array3;

use crate::error::{Error, Location, Result};
use crate::geo::Window;
use crate::levels::Level;
use crate::profile::Profile;
use crate::raster::{ArrayData, DataType, Mask, MaskSource, MaskedArray, Sample, dispatch};
use crate::request::Shape;
use crate::resample::{Axis, Resampling, Taps, axis_taps, output_blocks, relative, resample_band};
use crate::tiff::Limits;

use super::read::LevelRead;

/// A kernel read: the source span to sample, and the job that resamples it.
pub(crate) struct KernelPlan {
    /// Source columns of the level to read (empty: nothing of the level is used).
    pub cols: Vec<i64>,
    /// Source rows.
    pub rows: Vec<i64>,
    /// What to run on the sampled span.
    pub job: KernelJob,
}

impl KernelPlan {
    /// Plans resampling `s.win` of `level` into `out` with `r`. `levels` is
    /// the number of levels of the file (GDAL resamples bands together only
    /// when no overview could serve).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: &Profile,
        level: &Level,
        levels: usize,
        s: &LevelRead,
        r: Resampling,
        out: Shape,
        read: &ReadShared<'_>,
    ) -> Result<KernelPlan> {
        let (w, h) = (level.width() as i64, level.height() as i64);
        let (rows, cols) = (out.rows, out.cols);
        let win = s.win;
        let x = Axis {
            off: win.col_off,
            size: win.width,
            int_off: s.int_off.0,
            out: cols,
            len: w,
        };
        let y = Axis {
            off: win.row_off,
            size: win.height,
            int_off: s.int_off.1,
            out: rows,
            len: h,
        };
        let (rx, ry) = (win.width / cols as f64, win.height / rows as f64);
        // GDAL resamples several bands at once (`GDALDataset::RasterIOResampled`)
        // for bilinear and cubic when no band has an overview to use and the
        // mask is not nodata: margins from the larger ratio, and outputs
        // without valid input are 0, never nodata.
        let reduced = (cols as f64) < win.width.max(1.0).trunc() || (rows as f64) < win.height.max(1.0).trunc();
        let dataset_level = read.bands.len() >= 2
            && matches!(r, Resampling::Bilinear | Resampling::Cubic)
            && p.mask != Some(MaskSource::Nodata)
            && !(s.z == 0 && levels > 1 && reduced);
        let (mut fx, mut fy) = (((0.5 + rx) as i64).max(1), ((0.5 + ry) as i64).max(1));
        if dataset_level {
            (fx, fy) = (fx.max(fy), fx.max(fy));
        }
        let (bx, by) = output_blocks(&x, &y, level.image.block_width as i64);
        let (xt, yt) = (axis_taps(r, &x, bx, fx), axis_taps(r, &y, by, fy));
        let span = |t: &[Taps]| {
            let used = t.iter().filter(|t| !t.weights.is_empty());
            let lo = used.clone().map(|t| t.start).min().unwrap_or(0);
            let hi = used.map(|t| t.start + t.weights.len()).max().unwrap_or(lo);
            (lo, hi)
        };
        let ((x0, x1), (y0, y1)) = (span(&xt), span(&yt));
        let (sw, sh) = (x1 - x0, y1 - y0);
        // The source span is held as f64 and validity while the kernel runs,
        // and the horizontal pass holds source rows x output columns.
        let held = (sw as u64)
            .checked_mul(sh as u64)
            .and_then(|n| n.checked_mul(read.bands.len() as u64));
        let pass = (sh as u64).checked_mul(cols as u64).and_then(|n| n.checked_mul(2));
        Limits::check(
            "max_read_bytes",
            held.zip(pass).and_then(|(a, b)| a.checked_add(b)?.checked_mul(9)),
            read.limits.max_read_bytes,
            Location::new(),
        )?;
        let nodata = if dataset_level {
            None
        } else {
            p.nodata.map(|n| n.as_f64())
        };
        let dtype = p.dtype;
        let bits = level.image.bits_per_sample;
        let job = KernelJob {
            r,
            mask: p.mask,
            nodata,
            invalid_value: nodata.unwrap_or(0.0),
            fill: read.fill,
            nbits_max: (r == Resampling::Cubic && usize::from(bits) < dtype.size() * 8)
                .then(|| 2f64.powi(i32::from(bits)) - 1.0),
            dtype,
            xt: relative(&xt, x0),
            yt: relative(&yt, y0),
            sw,
            win,
            size: (w, h),
            out: (rows, cols),
            bands: read.bands.len(),
            boundless: read.boundless,
        };
        let (cols, rows) = if sw == 0 || sh == 0 {
            (Vec::new(), Vec::new())
        } else {
            ((x0 as i64..x1 as i64).collect(), (y0 as i64..y1 as i64).collect())
        };
        Ok(KernelPlan { cols, rows, job })
    }
}

/// What every level read of one request shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadShared<'a> {
    /// 0-based bands.
    pub bands: &'a [usize],
    /// Outside-the-image value as f64.
    pub fill: f64,
    pub boundless: bool,
    pub limits: &'a Limits,
}

/// A kernel read's CPU part: every band of the source span resampled,
/// with GDAL's values and rasterio's mask.
pub(crate) struct KernelJob {
    r: Resampling,
    mask: Option<MaskSource>,
    /// Band-level nodata (valid outputs equal to it are replaced).
    nodata: Option<f64>,
    /// What outputs without valid input hold.
    invalid_value: f64,
    /// What a boundless read's outputs outside the level hold.
    fill: f64,
    /// GDAL clamps cubic results of NBITS bands to `2^NBITS - 1`.
    nbits_max: Option<f64>,
    dtype: DataType,
    xt: Vec<Taps>,
    yt: Vec<Taps>,
    sw: usize,
    win: Window,
    size: (i64, i64),
    out: (usize, usize),
    bands: usize,
    boundless: bool,
}

impl KernelJob {
    /// The output when no source pixel is used: all fill, all masked.
    pub fn empty(&self) -> Result<MaskedArray> {
        let n = self.bands * self.out.0 * self.out.1;
        typed(
            self.dtype,
            (self.bands, self.out.0, self.out.1),
            &vec![self.fill; n],
            vec![true; n],
        )
    }

    /// Resamples the sampled span `src` into the output, in the file's type.
    pub fn run(&self, src: &MaskedArray) -> Result<MaskedArray> {
        let (values, mask) = self.resample(src);
        typed(self.dtype, (self.bands, self.out.0, self.out.1), &values, mask)
    }

    /// Values (in f64, rounded through float32 where GDAL works in it) and
    /// the mask, band after band. The mask is rasterio's: all valid without
    /// a mask source; for nodata, valid where the kernel found valid input;
    /// for an internal mask or alpha, the mask itself resampled (0 or 255)
    /// and valid from 0.5 up.
    fn resample(&self, src: &MaskedArray) -> (Vec<f64>, Vec<bool>) {
        let nb = self.bands;
        let values = src.data.to_f64_vec();
        let (rows, cols) = self.out;
        let plane = values.len() / nb.max(1);
        let float32_work = matches!(
            self.dtype,
            DataType::UInt8 | DataType::UInt16 | DataType::Int8 | DataType::Int16 | DataType::Float32
        );
        let mut data_out = Vec::with_capacity(nb * rows * cols);
        let mut mask_out = Vec::with_capacity(nb * rows * cols);
        for b in 0..nb {
            let (Some(vals), Some(band_mask)) = (values.get(b * plane..(b + 1) * plane), src.mask.band(b)) else {
                continue;
            };
            let ok_in: &[bool] = &band_mask.iter().map(|m| !m).collect::<Vec<_>>();
            let data_valid = self.mask.map(|_| ok_in);
            let (v, ok) = resample_band(self.r, vals, data_valid, self.sw, &self.xt, &self.yt);
            let mask_ok: Vec<bool> = match self.mask {
                None => vec![true; v.len()],
                Some(MaskSource::Nodata) => ok.clone(),
                Some(_) => {
                    let m: Vec<f64> = ok_in.iter().map(|&o| if o { 255.0 } else { 0.0 }).collect();
                    let (mv, _) = resample_band(self.r, &m, None, self.sw, &self.xt, &self.yt);
                    mv.iter().map(|&x| (x as f32) >= 0.5).collect()
                }
            };
            for (i, ((val, good), keep)) in v.into_iter().zip(ok).zip(mask_ok).enumerate() {
                let mut value = if good { val } else { self.invalid_value };
                if let (true, Some(max)) = (good, self.nbits_max) {
                    value = value.min(max);
                }
                if float32_work {
                    value = f64::from(value as f32);
                }
                if good && let Some(nd) = self.nodata {
                    value = replace_nodata(self.dtype, value, nd);
                }
                // A boundless read's outputs centred outside the level stay invalid.
                let (oc, or) = ((i % cols) as f64 + 0.5, (i / cols) as f64 + 0.5);
                let (cx, cy) = (
                    self.win.col_off + oc * self.win.width / cols as f64,
                    self.win.row_off + or * self.win.height / rows as f64,
                );
                let inside = cx >= 0.0 && cy >= 0.0 && cx < self.size.0 as f64 && cy < self.size.1 as f64;
                let keep = keep && (!self.boundless || inside);
                data_out.push(if keep || !self.boundless { value } else { self.fill });
                mask_out.push(!keep);
            }
        }
        (data_out, mask_out)
    }
}

/// GDAL's `replaceValIfNodata`: a valid output that would store as the
/// nodata value is stored as the next value instead (nodata + 1, or - 1 at
/// the type's maximum; the next float towards +max for floats).
fn replace_nodata(dtype: DataType, value: f64, nd: f64) -> f64 {
    if dtype.is_float() {
        let stored = if dtype == DataType::Float32 {
            f64::from(value as f32)
        } else {
            value
        };
        if stored != nd {
            return value;
        }
        return match dtype {
            DataType::Float32 => {
                let n = nd as f32;
                f64::from(if n == f32::MAX { n.next_down() } else { n.next_up() })
            }
            _ => {
                if nd == f64::MAX {
                    nd.next_down()
                } else {
                    nd.next_up()
                }
            }
        };
    }
    let rounded = if value >= 0.0 {
        (value + 0.5).trunc()
    } else {
        (value - 0.5).trunc()
    };
    if rounded != nd {
        return value;
    }
    let max = match dtype {
        DataType::UInt8 => f64::from(u8::MAX),
        DataType::Int8 => f64::from(i8::MAX),
        DataType::UInt16 => f64::from(u16::MAX),
        DataType::Int16 => f64::from(i16::MAX),
        DataType::UInt32 => f64::from(u32::MAX),
        DataType::Int32 => f64::from(i32::MAX),
        _ => f64::MAX,
    };
    if nd == max { nd - 1.0 } else { nd + 1.0 }
}

/// f64 values and a mask as a masked array of `dtype` (rounded and
/// saturated as GDAL stores resampled values).
fn typed(dtype: DataType, shape: (usize, usize, usize), values: &[f64], mask: Vec<bool>) -> Result<MaskedArray> {
    macro_rules! go {
        ($t:ty) => {{
            let v: Vec<$t> = values.iter().map(|&x| <$t>::from_f64(x)).collect();
            ArrayData::from(Array3::from_shape_vec(shape, v).map_err(|e| Error::Internal(e.to_string()))?)
        }};
    }
    let data = dispatch!(dtype, go);
    let mask = Mask::per_sample(Array3::from_shape_vec(shape, mask).map_err(|e| Error::Internal(e.to_string()))?);
    Ok(MaskedArray { data, mask })
}
