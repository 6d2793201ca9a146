//! Web-map tiles: `read_xyz(x, y, z, tile_size)` returns the Web Mercator
//! (EPSG:3857, GoogleMapsCompatible) tile, reprojected from the file's CRS
//! in pure Rust, from the level GDAL would read for the area the tile
//! covers, nearest or bilinear. A tile wholly outside the image is an
//! error ([`Error::TileOutsideBounds`], as rio-tiler raises) or a fully
//! masked tile, as the caller chooses.
//!
//! May use: `reader`, `request`, `plan`, `geo`, `raster`, `resample`,
//! `error`.

use crate::error::{Error, Result};
use crate::geo::{Affine, Bounds, Crs, FromWebMercator, GeoKeys};
use crate::plan::{choose_grid_level, grid_coords, plan_warp, warp_sample};
use crate::raster::{ArrayData, Mask, MaskedArray, Nodata};
use crate::reader::CogReader;
use crate::request::{Placement, Raster, ReadRequest, Shape};
use crate::resample::Resampling;

/// Half the side of the Web Mercator square, in metres.
const HALF: f64 = 20_037_508.342_789_244;

/// The bounds of web-map tile `x`, `y` at zoom `z`, in EPSG:3857 metres
/// (morecantile's `xy_bounds` for WebMercatorQuad).
pub fn web_mercator_tile_bounds(x: u64, y: u64, z: u8) -> Result<Bounds> {
    let n = 1u64
        .checked_shl(u32::from(z))
        .filter(|_| z <= 30)
        .ok_or_else(|| Error::InvalidRequest {
            message: format!("zoom {z} is beyond 30"),
        })?;
    if x >= n || y >= n {
        return Err(Error::InvalidRequest {
            message: format!("tile {z}/{x}/{y} does not exist: x and y are below {n} at zoom {z}"),
        });
    }
    let size = 2.0 * HALF / n as f64;
    Ok(Bounds {
        minx: -HALF + x as f64 * size,
        maxx: -HALF + (x + 1) as f64 * size,
        maxy: HALF - y as f64 * size,
        miny: HALF - (y + 1) as f64 * size,
    })
}

/// What a web-map tile read returns for a tile wholly outside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutsideTile {
    /// [`Error::TileOutsideBounds`] (rio-tiler's behaviour; the default).
    #[default]
    Error,
    /// A tile of the fill value, every sample masked.
    Masked,
}

/// A web-map tile read with every option.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct XyzRequest {
    /// Tile side in pixels (256 by default).
    pub tile_size: usize,
    /// Nearest (default) or bilinear.
    pub resampling: Resampling,
    /// What a tile outside the image gives.
    pub outside: OutsideTile,
    /// 1-based bands (default: every data band).
    pub bands: Option<Vec<usize>>,
}

impl Default for XyzRequest {
    fn default() -> Self {
        Self {
            tile_size: 256,
            resampling: Resampling::Nearest,
            outside: OutsideTile::Error,
            bands: None,
        }
    }
}

impl XyzRequest {
    /// 256-pixel tiles, nearest, an error outside the image, every band.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the tile side in pixels.
    pub fn tile_size(mut self, pixels: usize) -> Self {
        self.tile_size = pixels;
        self
    }

    /// Sets the resampling (nearest or bilinear).
    pub fn resampling(mut self, r: Resampling) -> Self {
        self.resampling = r;
        self
    }

    /// Sets what a tile outside the image gives.
    pub fn outside(mut self, o: OutsideTile) -> Self {
        self.outside = o;
        self
    }

    /// Sets the 1-based bands.
    pub fn bands(mut self, bands: Vec<usize>) -> Self {
        self.bands = Some(bands);
        self
    }
}

/// Python's `round()` (halves to even), as rio-tiler sizes its grids.
fn round_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - v.signum()
    } else {
        r
    }
}

fn web_mercator() -> Crs {
    Crs {
        epsg: Some(3857),
        model_type: Some(1),
        citation: Some("WGS 84 / Pseudo-Mercator".into()),
        geokeys: GeoKeys::default(),
    }
}

impl CogReader {
    /// The level a tile is read from, and where each of its pixels' centres
    /// falls in that level, as rio-tiler's `Reader.tile` arrives at them
    /// through GDAL: the tile is warped onto a grid over its bounds at the
    /// file's native resolution in Web Mercator (`calculate_default_transform`:
    /// the transformed image diagonal over its pixel diagonal), or at the
    /// tile's if that is finer; GDAL's RasterIO then picks the warped grid's
    /// overview (one per overview of the file) for the tile's size; nearest
    /// reads that grid's pixels into the tile as RasterIO does, bilinear
    /// warps onto the tile from the level directly.
    fn xyz_coords<F>(
        &self,
        b: &Bounds,
        size: usize,
        resampling: Resampling,
        to_file: &FromWebMercator,
        transform: &F,
    ) -> Result<(usize, Vec<(f64, f64)>)>
    where
        F: Fn(&mut [f64], &mut [f64]),
    {
        let p = self.profile();
        let (w, h) = (p.width as f64, p.height as f64);
        let native = self.native_resolution(to_file);
        let (ew, eh) = (b.maxx - b.minx, b.maxy - b.miny);
        let tile_res = ew / size as f64;
        let res = if native.is_finite() && native > 0.0 && native < tile_res {
            native
        } else {
            tile_res
        };
        let gw = round_even(ew / res).clamp(1.0, 1e7) as u64;
        let gh = round_even(eh / res).clamp(1.0, 1e7) as u64;
        let mut sizes = vec![(gw, gh)];
        for l in self.levels().iter().skip(1) {
            let ratio = w / l.width() as f64;
            let (ow, oh) = ((gw as f64 / ratio + 0.5) as u64, (gh as f64 / ratio + 0.5) as u64);
            if ow < 1 || oh < 1 {
                break;
            }
            sizes.push((ow, oh));
        }
        let shape = Shape::new(size, size);
        let z = choose_grid_level(&sizes, shape, resampling);
        let level = self.level(z)?;
        let decimation = (w / level.width() as f64, h / level.height() as f64);
        let t = Affine::from_gdal([b.minx, tile_res, 0.0, b.maxy, 0.0, -eh / size as f64]);
        let coords = grid_coords(&p.transform, decimation, &t, shape, transform)?;
        Ok((z, coords))
    }

    /// The web-map tile `x`, `y`, `z` (GoogleMapsCompatible), `tile_size`
    /// pixels a side, reprojected with nearest resampling; a tile wholly
    /// outside the image is [`Error::TileOutsideBounds`].
    pub async fn read_xyz(&self, x: u64, y: u64, z: u8, tile_size: usize) -> Result<Raster> {
        let req = XyzRequest {
            tile_size,
            ..XyzRequest::default()
        };
        self.read_xyz_with(x, y, z, &req).await
    }

    /// The web-map tile `x`, `y`, `z` with the options of `req`.
    pub async fn read_xyz_with(&self, x: u64, y: u64, z: u8, req: &XyzRequest) -> Result<Raster> {
        if !matches!(req.resampling, Resampling::Nearest | Resampling::Bilinear) {
            return Err(Error::InvalidRequest {
                message: format!("web-map tiles resample nearest or bilinear, not {:?}", req.resampling),
            });
        }
        let size = req.tile_size;
        if size == 0 || size > 4096 {
            return Err(Error::InvalidRequest {
                message: format!("tile size {size} is not within 1..=4096"),
            });
        }
        let b = web_mercator_tile_bounds(x, y, z)?;
        let p = self.profile();
        let to_file = self.to_crs(3857)?;
        // Projecting every pixel centre (up to 4096² of them) is CPU work:
        // it runs on the blocking pool, not on the async runtime.
        let (cog, resampling) = (self.clone(), req.resampling);
        let (zl, coords) = tokio::task::spawn_blocking(move || {
            let transform = |xs: &mut [f64], ys: &mut [f64]| to_file.transform(xs, ys);
            cog.xyz_coords(&b, size, resampling, &to_file, &transform)
        })
        .await
        .map_err(|e| Error::Internal(format!("projecting a tile's pixels failed: {e}")))??;
        let out_t = Affine::from_gdal([
            b.minx,
            (b.maxx - b.minx) / size as f64,
            0.0,
            b.maxy,
            0.0,
            -(b.maxy - b.miny) / size as f64,
        ]);
        let shape = Shape::new(size, size);
        let level = self.level(zl)?;
        let plan = plan_warp(zl, (level.width(), level.height()), coords, shape, req.resampling);
        let bands = req.bands.clone().unwrap_or_else(|| (1..=p.count).collect());
        let fill = p.nodata.unwrap_or(Nodata::Float(self.options().fill_value()));
        let at = |level: usize| Placement {
            transform: out_t,
            crs: Some(web_mercator()),
            level,
            nodata: p.nodata,
            fill_value: fill,
        };
        let Some(plan) = plan else {
            return match req.outside {
                OutsideTile::Error => Err(Error::TileOutsideBounds {
                    url: self.url().to_string(),
                    x,
                    y,
                    z,
                }),
                OutsideTile::Masked => {
                    let empty = MaskedArray {
                        data: ArrayData::full(p.dtype, (bands.len(), size, size), fill),
                        mask: Mask::per_sample(ndarray::Array3::from_elem((bands.len(), size, size), true)),
                    };
                    Ok(Raster::new(empty, at(self.levels().len().saturating_sub(1))))
                }
            };
        };
        let read = ReadRequest::window(plan.window, plan.z).bands(bands);
        let src = self.read_with(read).await?;
        let level = plan.z;
        let resampling = req.resampling;
        let array = tokio::task::spawn_blocking(move || warp_sample(&src.array, &plan, resampling, fill))
            .await
            .map_err(|e| Error::Internal(format!("warping task failed: {e}")))??;
        Ok(Raster::new(array, at(level)))
    }
}
