//! Plans checked without bytes: which tiles a read needs, which byte
//! ranges those tiles are, and which level and window a request reads.

use super::*;
use crate::geo::{Affine, Bounds, Window};
use crate::levels::Level;
use crate::raster::{DataType, MaskSource};
use crate::request::{ReadRequest, Shape};
use crate::resample::Resampling;
use crate::tiff::{Compression, ImageIfd, Limits, PlanarConfig, Predictor, SampleFormat};

/// A tiled u8 image of `spp` samples, chunky or planar, in 256-pixel tiles.
fn image(ifd: usize, width: u64, height: u64, spp: u16, planar: bool, mask: bool) -> ImageIfd {
    let across = width.div_ceil(256);
    let down = height.div_ceil(256);
    ImageIfd {
        ifd,
        width,
        height,
        samples_per_pixel: spp,
        bits_per_sample: if mask { 1 } else { 8 },
        sample_format: SampleFormat::Uint,
        compression: Compression::Deflate,
        photometric: None,
        planar_config: if planar {
            PlanarConfig::Planar
        } else {
            PlanarConfig::Chunky
        },
        predictor: Predictor::None,
        subfile_type: if mask { 4 } else { 0 },
        tiled: true,
        block_width: 256,
        block_height: 256,
        extra_samples: Vec::new(),
        lerc_parameters: None,
        block_count: across * down * if planar { u64::from(spp) } else { 1 },
        strip_chop: None,
    }
}

fn level(z: usize, image: ImageIfd, mask: Option<ImageIfd>, full: (u64, u64)) -> Level {
    let decimation = (full.0 as f64 / image.width as f64, full.1 as f64 / image.height as f64);
    Level {
        z,
        image,
        mask,
        decimation,
    }
}

#[test]
fn a_tile_is_its_chunks_and_mask_with_gdal_framing() {
    // 600 x 300 planar, 3 bands: 3 x 2 tiles per plane, 6 chunks per plane.
    let l = level(
        0,
        image(0, 600, 300, 3, true, false),
        Some(image(1, 600, 300, 1, false, true)),
        (600, 300),
    );
    let offsets: Vec<u64> = (0..18).map(|i| 1000 + i * 100).collect();
    let counts = vec![90; 18];
    let mask_offsets: Vec<u64> = (0..6).map(|i| 5000 + i * 50).collect();
    let mask_counts = vec![40; 6];
    let index = BlockIndex {
        offsets: &offsets,
        counts: &counts,
    };
    let mask = BlockIndex {
        offsets: &mask_offsets,
        counts: &mask_counts,
    };
    let p = TilePlan::new(&l, 2, 1, Some(index), Some(mask), None, Some(10_000)).unwrap();
    // Tile (2, 1) is block 5 of each band's plane (planes of 6 blocks).
    assert_eq!(p.chunk_ranges(), [1500..1590, 2100..2190, 2700..2790, 5250..5290]);
    // The last column and row of tiles hold the image's remainder.
    assert_eq!((p.valid_cols, p.valid_rows), (88, 44));
    // Sparse chunks (offset 0) are not fetched.
    let mut sparse = offsets.clone();
    sparse[5] = 0;
    let index = BlockIndex {
        offsets: &sparse,
        counts: &counts,
    };
    let p = TilePlan::new(&l, 2, 1, Some(index), None, None, None).unwrap();
    assert_eq!(p.chunk_ranges(), [2100..2190, 2700..2790]);
    // A borrowed mask fetches the mask block alone.
    let p = TilePlan::new(&l, 2, 1, None, Some(mask), None, None).unwrap();
    assert_eq!(p.chunk_ranges(), vec![std::ops::Range { start: 5250, end: 5290 }]);
    // Outside the grid, past the file's end, or a lying byte count: refused
    // before any byte is fetched.
    assert!(TilePlan::new(&l, 3, 0, Some(index), None, None, None).is_err());
    assert!(TilePlan::new(&l, 0, 0, Some(index), None, None, Some(1050)).is_err());
    let huge = vec![u64::MAX / 2; 18];
    let lying = BlockIndex {
        offsets: &offsets,
        counts: &huge,
    };
    assert!(TilePlan::new(&l, 0, 0, Some(lying), None, None, None).is_err());
}

fn profile(levels: &[Level], mask: Option<MaskSource>) -> crate::profile::Profile {
    let full = &levels[0].image;
    crate::profile::Profile {
        width: full.width,
        height: full.height,
        count: usize::from(full.samples_per_pixel),
        samples: usize::from(full.samples_per_pixel),
        dtype: DataType::UInt8,
        transform: Affine::from_gdal([0.0, 10.0, 0.0, 0.0, 0.0, -10.0]),
        georeferenced: true,
        crs: None,
        raster_type: crate::geo::RasterType::PixelIsArea,
        gcps: Vec::new(),
        nodata: None,
        blockxsize: 256,
        blockysize: 256,
        tiled: true,
        compress: crate::tiff::Compression::Deflate,
        lerc_compress: None,
        interleave: crate::profile::Interleave::Pixel,
        photometric: None,
        bounds: Affine::from_gdal([0.0, 10.0, 0.0, 0.0, 0.0, -10.0]).bounds(full.width, full.height),
        res: (10.0, 10.0),
        overviews: Vec::new(),
        mask,
        alpha_band: None,
        bands: Vec::new(),
        metadata: Default::default(),
        colormap: None,
        colorinterp: Vec::new(),
    }
}

/// A 4096 x 4096 image with overviews of 2048, 1024 and 512, masks on
/// the full resolution and the first overview only.
fn pyramid() -> Vec<Level> {
    let full = (4096, 4096);
    vec![
        level(
            0,
            image(0, 4096, 4096, 1, false, false),
            Some(image(1, 4096, 4096, 1, false, true)),
            full,
        ),
        level(
            1,
            image(2, 2048, 2048, 1, false, false),
            Some(image(5, 2048, 2048, 1, false, true)),
            full,
        ),
        level(2, image(3, 1024, 1024, 1, false, false), None, full),
        level(3, image(4, 512, 512, 1, false, false), None, full),
    ]
}

#[test]
fn a_bounds_read_picks_the_level_window_tiles_and_transform() {
    let levels = pyramid();
    let p = profile(&levels, Some(MaskSource::Internal));
    // The whole image into 1000 x 1000: reduction 4.1, so the 1024 overview
    // (factor 4; 8 would exceed 4.1 * 1.2 + 0.1).
    let b = p.bounds;
    let req = ReadRequest::bounds(b).shape(1000, 1000);
    let plan = ReadPlan::new(&levels, &p, &req, &Limits::default(), 0.0).unwrap();
    assert_eq!(plan.data.z, 2);
    assert_eq!(plan.data.win, Window::from_f64(0.0, 0.0, 1024.0, 1024.0));
    assert_eq!(plan.out, Shape::new(1000, 1000));
    let t = plan.transform.to_gdal();
    assert!((t[1] - 40.96).abs() < 1e-9 && t[0] == 0.0, "{t:?}");
    // Level 2 has no mask: it comes from level 1, the best level with one,
    // whose image blocks are not wanted.
    assert_eq!(plan.mask.map(|m| (m.z, m.mask_only)), Some((1, true)));
    assert!(!plan.data.mask_only);
    // Unless the level was asked for: then it reads as GDAL's overview
    // mask band does (all valid), for bounds and windows alike.
    let forced = ReadPlan::new(&levels, &p, &req.clone().level(2), &Limits::default(), 0.0).unwrap();
    assert_eq!(forced.mask, None);
    let window = ReadRequest::window(Window::new(0, 0, 100, 100), 2);
    assert_eq!(
        ReadPlan::new(&levels, &p, &window, &Limits::default(), 0.0)
            .unwrap()
            .mask,
        None
    );
    // Nearest over level 2 touches all 4 x 4 of its tiles.
    let xs = nearest_indices(1000, 0.0, 1024.0, Some(1024), true);
    let np = NearestPlan::new(Grid::of(&levels[2]), &xs, &xs, &[0]);
    assert_eq!(np.tiles.len(), 16);
    // A small area at full resolution: pixels 300..310 x 520..530, inside
    // tile (1, 2) only.
    let small = Bounds {
        minx: 3000.0,
        maxx: 3100.0,
        maxy: -5200.0,
        miny: -5300.0,
    };
    let plan = ReadPlan::new(&levels, &p, &ReadRequest::bounds(small), &Limits::default(), 0.0).unwrap();
    assert_eq!((plan.data.z, plan.out), (0, Shape::new(10, 10)));
    assert_eq!(plan.mask, None, "level 0 has its own mask");
    let w = plan.data.win;
    let xs = nearest_indices(10, w.col_off, w.width, Some(4096), true);
    let ys = nearest_indices(10, w.row_off, w.height, Some(4096), false);
    let np = NearestPlan::new(Grid::of(&levels[0]), &xs, &ys, &[0]);
    assert_eq!(np.tiles, [(1, 2)]);
}

#[test]
fn requests_that_cannot_be_read_are_refused_before_any_fetch() {
    let levels = pyramid();
    let p = profile(&levels, None);
    let plan = |req: ReadRequest| ReadPlan::new(&levels, &p, &req, &Limits::default(), 0.0);
    // Columns 5000..5010 of a 4096-column image.
    let outside = Bounds {
        minx: 50_000.0,
        maxx: 50_100.0,
        miny: -100.0,
        maxy: 0.0,
    };
    assert!(plan(ReadRequest::bounds(outside)).is_err(), "outside, not boundless");
    assert!(plan(ReadRequest::bounds(outside).boundless(true)).is_ok());
    assert!(
        plan(ReadRequest::window(Window::new(0, 0, 10, 10), 9)).is_err(),
        "no level 9"
    );
    assert!(plan(ReadRequest::window(Window::new(0, 0, 10, 10), 0).bands(vec![2])).is_err());
    assert!(plan(ReadRequest::window(Window::from_f64(f64::NAN, 0.0, 1.0, 1.0), 0)).is_err());
    let e = plan(ReadRequest::window(Window::new(0, 0, 10, 10), 0).shape(1 << 20, 1 << 20)).unwrap_err();
    assert!(matches!(e, crate::Error::LimitExceeded { .. }), "{e}");
    // A window of an overview is read there, at its own size, and placed
    // by that level's transform.
    let plan = plan(ReadRequest::window(Window::new(10, 20, 30, 40), 3).resampling(Resampling::Bilinear)).unwrap();
    assert_eq!(
        (plan.data.z, plan.data.int_off, plan.out),
        (3, (10, 20), Shape::new(40, 30))
    );
    assert_eq!(plan.transform.to_gdal(), [800.0, 80.0, 0.0, -1600.0, 0.0, -80.0]);
}
