//! The rasterio-style profile of a COG: what `src.profile`, `src.bounds`,
//! `src.overviews()` and `src.mask_flag_enums` tell a rasterio user.
//!
//! Everything comes from the full-resolution IFD and the levels; names follow
//! GDAL and rasterio (numpy dtypes, GDAL's lowercase compression names,
//! rasterio's affine order). The mask source follows GDAL's precedence in
//! `GetMaskBand()`: an internal mask first, then nodata, then an alpha band
//! (only for 2-band or 4-band Byte/UInt16 images whose last band is alpha).

use std::collections::BTreeMap;

use crate::error::{Error, Location, Result};
use crate::gdal_tags::GdalMetadata;
use crate::geo::{Affine, Bounds, Crs, Georeference, RasterType};
use crate::levels::Level;
pub use crate::raster::MaskSource;
use crate::raster::{DataType, Nodata};
use crate::tiff::{Compression, ExtraSamples, Ifd, Photometric, PlanarConfig, Tag, TiffFile};

/// Sample layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interleave {
    /// All samples of a pixel together (PlanarConfiguration 1, several bands).
    Pixel,
    /// One plane per band (PlanarConfiguration 2, or a single band; GDAL says
    /// BAND for one-band images).
    Band,
}

impl Interleave {
    /// `"pixel"` or `"band"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pixel => "pixel",
            Self::Band => "band",
        }
    }
}

/// Per-band properties from GDAL_METADATA.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BandInfo {
    /// Band description.
    pub description: Option<String>,
    /// Scale applied to raw values (`value * scale + offset`).
    pub scale: Option<f64>,
    /// Offset applied to raw values.
    pub offset: Option<f64>,
}

/// The profile of a COG.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Profile {
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
    /// Data bands (an alpha band that serves as the mask is not counted).
    pub count: usize,
    /// Samples per pixel in the file (alpha included).
    pub samples: usize,
    /// Sample type.
    pub dtype: DataType,
    /// Pixel-corner transform; the identity when the file has none.
    pub transform: Affine,
    /// Whether the file gives a transform at all.
    pub georeferenced: bool,
    /// The CRS, when the GeoKeys define one.
    pub crs: Option<Crs>,
    /// Area or point (the transform is corner-based either way).
    pub raster_type: RasterType,
    /// Ground control points, when the tiepoints are GCPs.
    pub gcps: Vec<[f64; 6]>,
    /// GDAL_NODATA.
    pub nodata: Option<Nodata>,
    /// Block width of the full-resolution image.
    pub blockxsize: u64,
    /// Block height of the full-resolution image.
    pub blockysize: u64,
    /// Tiled rather than striped.
    pub tiled: bool,
    /// The compression of the full-resolution image; its `Display` is GDAL's
    /// lowercase name (see [`Profile::compress_name`] for LERC's variants).
    pub compress: Compression,
    /// For LERC, the codec its blobs are wrapped in (Deflate or ZSTD).
    pub lerc_compress: Option<Compression>,
    /// Sample layout.
    pub interleave: Interleave,
    /// Photometric interpretation (its `Display` is rasterio's lowercase name).
    pub photometric: Option<Photometric>,
    /// Extent in CRS units.
    pub bounds: Bounds,
    /// Pixel size `(x, y)`.
    pub res: (f64, f64),
    /// Overview decimation factors, as rasterio's `src.overviews(1)`.
    pub overviews: Vec<u64>,
    /// Which mask applies.
    pub mask: Option<MaskSource>,
    /// 0-based index of the alpha sample, when there is one.
    pub alpha_band: Option<usize>,
    /// Per band (of all samples), from GDAL_METADATA.
    pub bands: Vec<BandInfo>,
    /// Dataset-level GDAL_METADATA items.
    pub metadata: BTreeMap<String, String>,
    /// ColorMap as 16-bit `[r, g, b]` entries.
    pub colormap: Option<Vec<[u16; 3]>>,
    /// Each sample's colour interpretation, as GDAL names it ("Gray",
    /// "Red", "Alpha", "Undefined", ...), alpha included.
    pub colorinterp: Vec<String>,
}

impl Profile {
    /// GDAL's lowercase compression name, as rasterio's `profile["compress"]`
    /// gives it: `deflate`, `jpeg`, `lerc_zstd`, ...
    pub fn compress_name(&self) -> String {
        self.compress.gdal_name(self.lerc_compress)
    }

    /// The EPSG code of the CRS, if it has one.
    pub fn epsg(&self) -> Option<u32> {
        self.crs.as_ref().and_then(|c| c.epsg)
    }

    /// Builds the profile from the parsed file and its levels.
    pub fn build(tiff: &TiffFile, levels: &[Level]) -> Result<Profile> {
        let no_image = || Error::format(Location::new(), "the file has no image");
        let full = levels.first().ok_or_else(no_image)?;
        let img = &full.image;
        let ifd0 = tiff.ifds.get(img.ifd).ok_or_else(no_image)?;
        let dtype = img.data_type()?;
        let geo = Georeference::from_ifd(ifd0);
        let transform = geo.transform.unwrap_or(Affine::IDENTITY);
        let nodata = ifd0.str(Tag::GdalNodata).and_then(|s| Nodata::parse(s, dtype));
        let gdal_md = ifd0.str(Tag::GdalMetadata).map(GdalMetadata::parse).unwrap_or_default();
        let samples = usize::from(img.samples_per_pixel);
        // GDAL_METADATA's colorinterp, when given, decides which band is alpha;
        // otherwise ExtraSamples does.
        let colorinterp = |i: usize| gdal_md.bands.get(&i).and_then(|b| b.colorinterp.as_deref());
        let alpha_band = if (0..samples).any(|i| colorinterp(i).is_some()) {
            (0..samples).find(|&i| colorinterp(i).is_some_and(|c| c.eq_ignore_ascii_case("alpha")))
        } else {
            alpha_index(img.samples_per_pixel, &img.extra_samples)
        };
        let alpha_as_mask = alpha_band.is_some_and(|a| a + 1 == samples)
            && (samples == 2 || samples == 4)
            && matches!(dtype, DataType::UInt8 | DataType::UInt16);
        let mask = if full.mask.is_some() {
            Some(MaskSource::Internal)
        } else if nodata.is_some() {
            Some(MaskSource::Nodata)
        } else if alpha_as_mask {
            Some(MaskSource::Alpha)
        } else {
            None
        };
        let colormap = colormap(ifd0, img);
        // A colour map (a bilevel image's made-up one too) makes band 1 a
        // palette, as in GDAL.
        let colorinterp = (0..samples)
            .map(|i| match colorinterp(i) {
                Some(ci) => gdal_color_name(ci).to_string(),
                None if i == 0 && colormap.is_some() => "Palette".into(),
                None => color_interp(img.photometric, i, samples, &img.extra_samples, img.compression).to_string(),
            })
            .collect();
        let bands = (0..samples)
            .map(|i| {
                let b = gdal_md.bands.get(&i);
                BandInfo {
                    description: b.and_then(|b| b.description.clone()),
                    scale: b.and_then(|b| b.scale),
                    offset: b.and_then(|b| b.offset),
                }
            })
            .collect();
        Ok(Profile {
            width: img.width,
            height: img.height,
            count: samples - usize::from(mask == Some(MaskSource::Alpha)),
            samples,
            dtype,
            transform,
            georeferenced: geo.transform.is_some(),
            crs: geo.crs,
            raster_type: geo.raster_type,
            gcps: geo.gcps,
            nodata,
            blockxsize: img.block_width,
            blockysize: img.block_height,
            tiled: img.tiled,
            compress: img.compression,
            lerc_compress: img.lerc_inner(),
            interleave: if img.planar_config == PlanarConfig::Planar || samples == 1 {
                Interleave::Band
            } else {
                Interleave::Pixel
            },
            photometric: img.photometric,
            bounds: transform.bounds(img.width, img.height),
            res: transform.resolution(),
            overviews: levels
                .iter()
                .skip(1)
                .map(|l| (img.width as f64 / l.width() as f64).round() as u64)
                .collect(),
            mask,
            alpha_band,
            bands,
            metadata: gdal_md.dataset,
            colormap,
            colorinterp,
        })
    }
}

/// GDAL's spelling of a colour interpretation name read from
/// GDAL_METADATA (compared without case, as GDAL does; unknown names are
/// "Undefined").
fn gdal_color_name(name: &str) -> &'static str {
    const NAMES: [&str; 19] = [
        "Undefined",
        "Gray",
        "Palette",
        "Red",
        "Green",
        "Blue",
        "Alpha",
        "Hue",
        "Saturation",
        "Lightness",
        "Cyan",
        "Magenta",
        "Yellow",
        "Black",
        "YCbCr_Y",
        "YCbCr_Cb",
        "YCbCr_Cr",
        "Pan",
        "NIR",
    ];
    NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(name.trim()))
        .copied()
        .unwrap_or("Undefined")
}

/// GDAL's colour interpretation of sample `i` from the TIFF tags alone
/// (GTiff's band set-up): the photometric's own samples (Gray, Palette,
/// RGB, JPEG-compressed YCbCr read as RGB, CMYK), then ExtraSamples
/// (Alpha for associated or unassociated alpha), the rest Undefined.
fn color_interp(
    photometric: Option<Photometric>,
    i: usize,
    samples: usize,
    extra: &[ExtraSamples],
    compression: Compression,
) -> &'static str {
    let first_extra = samples.saturating_sub(extra.len());
    if i >= first_extra {
        return match extra.get(i - first_extra) {
            Some(e) if e.is_alpha() => "Alpha",
            _ => "Undefined",
        };
    }
    const RGB: [&str; 3] = ["Red", "Green", "Blue"];
    const YCBCR: [&str; 3] = ["YCbCr_Y", "YCbCr_Cb", "YCbCr_Cr"];
    const CMYK: [&str; 4] = ["Cyan", "Magenta", "Yellow", "Black"];
    let pick = |names: &[&'static str]| names.get(i).copied().unwrap_or("Undefined");
    match photometric {
        Some(Photometric::MinIsBlack | Photometric::MinIsWhite) if i == 0 => "Gray",
        Some(Photometric::Palette) if i == 0 => "Palette",
        Some(Photometric::Rgb) if samples >= 3 => pick(&RGB),
        Some(Photometric::YCbCr) if compression == Compression::Jpeg => pick(&RGB),
        Some(Photometric::YCbCr) => pick(&YCBCR),
        Some(Photometric::Cmyk) if samples >= 4 => pick(&CMYK),
        _ => "Undefined",
    }
}

/// The sample that GDAL reads as alpha: an ExtraSamples entry of 1
/// (associated) or 2 (unassociated). ExtraSamples describe the last samples.
fn alpha_index(samples: u16, extra: &[ExtraSamples]) -> Option<usize> {
    let first_extra = usize::from(samples).checked_sub(extra.len())?;
    extra.iter().position(|e| e.is_alpha()).map(|p| first_extra + p)
}

/// ColorMap: 3 * 2^bits SHORTs, all reds, then greens, then blues. Like
/// GDAL, a one-band 1-bit image without one gets black and white (white and
/// black for MinIsWhite).
fn colormap(ifd: &Ifd, image: &crate::tiff::ImageIfd) -> Option<Vec<[u16; 3]>> {
    let Some(v) = ifd.value(Tag::ColorMap).and_then(|v| v.to_u64_vec()) else {
        let bilevel = image.bits_per_sample == 1 && image.samples_per_pixel == 1;
        return match (bilevel, image.photometric) {
            (true, Some(Photometric::MinIsWhite)) => Some(vec![[65535; 3], [0; 3]]),
            (true, None | Some(Photometric::MinIsBlack)) => Some(vec![[0; 3], [65535; 3]]),
            _ => None,
        };
    };
    let n = 1usize
        .checked_shl(u32::from(image.bits_per_sample))
        .filter(|&n| n.saturating_mul(3) <= v.len())?;
    let at = |i: usize| v.get(i).and_then(|&x| u16::try_from(x).ok()).unwrap_or(0);
    Some((0..n).map(|i| [at(i), at(n + i), at(2 * n + i)]).collect())
}
