//! GeoKeys (GeoTIFF 1.1, OGC 19-008r4, section 7) and the CRS they describe.
//!
//! The GeoKeyDirectory is a SHORT array: a 4-short header (version,
//! revision, minor revision, key count), then 4 shorts per key (id, location,
//! count, value-or-index). Location 0 means the value is the short itself;
//! GeoDoubleParams (34736) and GeoAsciiParams (34737) hold DOUBLE and ASCII
//! values at the given index; 34735 points back into the directory itself.
//! Every index is bounds-checked: a lying directory drops the key, with a
//! warning, rather than failing the open (GDAL is as lenient).

use super::epsg_units;
use crate::tiff::Tag;

/// A GeoKey's value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GeoKeyValue {
    /// SHORT values (inline or from the directory).
    Short(Vec<u16>),
    /// DOUBLE values from GeoDoubleParams.
    Double(Vec<f64>),
    /// ASCII from GeoAsciiParams, without the `|` terminator.
    Ascii(String),
}

/// One GeoKey.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoKey {
    /// The key id, e.g. 3072 for ProjectedCSTypeGeoKey.
    pub id: u16,
    /// Its value.
    pub value: GeoKeyValue,
}

impl GeoKey {
    /// The key's name from the GeoTIFF spec, or `"Unknown"`.
    pub fn name(&self) -> &'static str {
        geokey_name(self.id)
    }
}

/// The parsed GeoKeyDirectory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeoKeys {
    /// `(KeyDirectoryVersion, KeyRevision, MinorRevision)`.
    pub version: (u16, u16, u16),
    /// Keys in directory order.
    pub keys: Vec<GeoKey>,
}

/// GeoKey ids used here.
pub mod key {
    /// 1 projected, 2 geographic, 3 geocentric.
    pub const GT_MODEL_TYPE: u16 = 1024;
    /// 1 PixelIsArea, 2 PixelIsPoint.
    pub const GT_RASTER_TYPE: u16 = 1025;
    /// Free-text citation.
    pub const GT_CITATION: u16 = 1026;
    /// Geographic CRS code.
    pub const GEOGRAPHIC_TYPE: u16 = 2048;
    /// Geographic CRS citation.
    pub const GEOG_CITATION: u16 = 2049;
    /// Projected CRS code.
    pub const PROJECTED_CS_TYPE: u16 = 3072;
    /// Projected CRS citation.
    pub const PCS_CITATION: u16 = 3073;
    /// Geodetic datum code.
    pub const GEOG_GEODETIC_DATUM: u16 = 2050;
    /// Ellipsoid code.
    pub const GEOG_ELLIPSOID: u16 = 2056;
    /// Projection (coordinate conversion) code.
    pub const PROJECTION: u16 = 3074;
    /// Coordinate transformation method.
    pub const PROJ_COORD_TRANS: u16 = 3075;
    /// Linear unit of the projected CRS (EPSG unit code).
    pub const PROJ_LINEAR_UNITS: u16 = 3076;
    /// Size in metres of a user-defined (32767) linear unit.
    pub const PROJ_LINEAR_UNIT_SIZE: u16 = 3077;
    /// Vertical CRS code.
    pub const VERTICAL_CS_TYPE: u16 = 4096;
}

/// Metres per EPSG length unit `code`.
fn unit_metres(code: u16) -> Option<f64> {
    let units = &epsg_units::LENGTH_UNITS;
    units
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .and_then(|i| units.get(i))
        .map(|&(_, m)| m)
}

/// Code meaning "user-defined" in GeoTIFF.
pub const USER_DEFINED: u16 = 32767;

const NAMES: &[(u16, &str)] = &[
    (1024, "GTModelTypeGeoKey"),
    (1025, "GTRasterTypeGeoKey"),
    (1026, "GTCitationGeoKey"),
    (2048, "GeographicTypeGeoKey"),
    (2049, "GeogCitationGeoKey"),
    (2050, "GeogGeodeticDatumGeoKey"),
    (2051, "GeogPrimeMeridianGeoKey"),
    (2052, "GeogLinearUnitsGeoKey"),
    (2053, "GeogLinearUnitSizeGeoKey"),
    (2054, "GeogAngularUnitsGeoKey"),
    (2055, "GeogAngularUnitSizeGeoKey"),
    (2056, "GeogEllipsoidGeoKey"),
    (2057, "GeogSemiMajorAxisGeoKey"),
    (2058, "GeogSemiMinorAxisGeoKey"),
    (2059, "GeogInvFlatteningGeoKey"),
    (2060, "GeogAzimuthUnitsGeoKey"),
    (2061, "GeogPrimeMeridianLongGeoKey"),
    (2062, "GeogTOWGS84GeoKey"),
    (3072, "ProjectedCSTypeGeoKey"),
    (3073, "PCSCitationGeoKey"),
    (3074, "ProjectionGeoKey"),
    (3075, "ProjCoordTransGeoKey"),
    (3076, "ProjLinearUnitsGeoKey"),
    (3077, "ProjLinearUnitSizeGeoKey"),
    (3078, "ProjStdParallel1GeoKey"),
    (3079, "ProjStdParallel2GeoKey"),
    (3080, "ProjNatOriginLongGeoKey"),
    (3081, "ProjNatOriginLatGeoKey"),
    (3082, "ProjFalseEastingGeoKey"),
    (3083, "ProjFalseNorthingGeoKey"),
    (3084, "ProjFalseOriginLongGeoKey"),
    (3085, "ProjFalseOriginLatGeoKey"),
    (3086, "ProjFalseOriginEastingGeoKey"),
    (3087, "ProjFalseOriginNorthingGeoKey"),
    (3088, "ProjCenterLongGeoKey"),
    (3089, "ProjCenterLatGeoKey"),
    (3090, "ProjCenterEastingGeoKey"),
    (3091, "ProjCenterNorthingGeoKey"),
    (3092, "ProjScaleAtNatOriginGeoKey"),
    (3093, "ProjScaleAtCenterGeoKey"),
    (3094, "ProjAzimuthAngleGeoKey"),
    (3095, "ProjStraightVertPoleLongGeoKey"),
    (3096, "ProjRectifiedGridAngleGeoKey"),
    (4096, "VerticalCSTypeGeoKey"),
    (4097, "VerticalCitationGeoKey"),
    (4098, "VerticalDatumGeoKey"),
    (4099, "VerticalUnitsGeoKey"),
];

/// The spec's name of a GeoKey id, or `"Unknown"`.
pub fn geokey_name(id: u16) -> &'static str {
    NAMES
        .binary_search_by_key(&id, |&(k, _)| k)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or("Unknown", |&(_, n)| n)
}

impl GeoKeys {
    /// Parses the directory with its DOUBLE and ASCII parameter arrays.
    /// Returns `None` when the directory is too short to have a header.
    pub fn parse(dir: &[u16], doubles: &[f64], ascii: &str) -> Option<GeoKeys> {
        let header = dir.get(0..4)?;
        let version = (header[0], header[1], header[2]);
        let n = usize::from(header[3]);
        let mut keys = Vec::with_capacity(n.min(dir.len() / 4));
        for i in 0..n {
            let Some(k) = dir.get(4 + 4 * i..8 + 4 * i) else {
                tracing::warn!("GeoKeyDirectory announces {n} keys but holds {i}");
                break;
            };
            let (id, location, count, value) = (k[0], k[1], usize::from(k[2]), k[3]);
            let start = usize::from(value);
            let v = match location {
                0 => Some(GeoKeyValue::Short(vec![value])),
                Tag::GeoKeyDirectory => dir.get(start..start + count).map(|s| GeoKeyValue::Short(s.to_vec())),
                Tag::GeoDoubleParams => doubles
                    .get(start..start + count)
                    .map(|s| GeoKeyValue::Double(s.to_vec())),
                Tag::GeoAsciiParams => ascii
                    .get(start..start + count)
                    .map(|s| GeoKeyValue::Ascii(s.trim_end_matches(['|', '\0']).to_string())),
                _ => None,
            };
            match v {
                Some(value) => keys.push(GeoKey { id, value }),
                None => tracing::warn!("GeoKey {id} ({}) points outside its parameter array", geokey_name(id)),
            }
        }
        Some(GeoKeys { version, keys })
    }

    /// The key with `id`.
    pub fn get(&self, id: u16) -> Option<&GeoKeyValue> {
        self.keys.iter().find(|k| k.id == id).map(|k| &k.value)
    }

    /// A SHORT key's single value.
    pub fn short(&self, id: u16) -> Option<u16> {
        match self.get(id)? {
            GeoKeyValue::Short(v) => v.first().copied(),
            _ => None,
        }
    }

    /// A DOUBLE key's first value.
    pub fn double(&self, id: u16) -> Option<f64> {
        match self.get(id)? {
            GeoKeyValue::Double(v) => v.first().copied(),
            _ => None,
        }
    }

    /// Whether ProjLinearUnitsGeoKey gives the projected CRS `code` a unit
    /// other than its own, with no other CRS key beside it. GDAL then
    /// rebuilds the CRS in the file's unit and drops the code
    /// (gt_wkt_srs.cpp): a NAD83 state plane in metres (26966) whose keys
    /// say US survey feet (9003) has no EPSG code. With other CRS keys
    /// present GDAL keeps the code, and so do we.
    fn unit_overrides_code(&self, code: u16) -> bool {
        let others = [
            key::PROJECTION,
            key::PROJ_COORD_TRANS,
            key::GEOGRAPHIC_TYPE,
            key::GEOG_GEODETIC_DATUM,
            key::GEOG_ELLIPSOID,
        ];
        if others.iter().any(|&k| self.get(k).is_some()) {
            return false;
        }
        let in_keys = match self.short(key::PROJ_LINEAR_UNITS) {
            None => return false,
            Some(USER_DEFINED) => self.double(key::PROJ_LINEAR_UNIT_SIZE),
            Some(u) => unit_metres(u),
        };
        let own = epsg_units::NON_METRE_CRS
            .binary_search_by_key(&u32::from(code), |&(c, _)| c)
            .map_or(Some(1.0), |i| {
                epsg_units::NON_METRE_CRS.get(i).and_then(|&(_, u)| unit_metres(u))
            });
        match (in_keys, own) {
            (Some(a), Some(b)) => (a - b).abs() > 1e-15 * a.abs(),
            _ => false,
        }
    }

    /// An ASCII key's text.
    pub fn ascii(&self, id: u16) -> Option<&str> {
        match self.get(id)? {
            GeoKeyValue::Ascii(s) => Some(s),
            _ => None,
        }
    }
}

/// A coordinate reference system as the GeoKeys give it. We carry no PROJ
/// database: an EPSG code is reported as such, and a user-defined CRS is
/// kept as its GeoKeys.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    /// EPSG code of the projected or geographic CRS, when the file names one.
    pub epsg: Option<u32>,
    /// GTModelTypeGeoKey: 1 projected, 2 geographic, 3 geocentric.
    pub model_type: Option<u16>,
    /// The best citation string found (PCS, geographic or GT citation).
    pub citation: Option<String>,
    /// All GeoKeys, for user-defined CRSs and introspection.
    pub geokeys: GeoKeys,
}

impl Crs {
    /// The CRS of a key directory, or `None` when the keys define none.
    /// EPSG comes from ProjectedCSTypeGeoKey, else (for a geographic model,
    /// or when no projected code is given) from GeographicTypeGeoKey.
    pub fn from_geokeys(keys: &GeoKeys) -> Option<Crs> {
        let code = |id| keys.short(id).filter(|&c| c != 0 && c != USER_DEFINED);
        let model_type = keys.short(key::GT_MODEL_TYPE);
        let projected = code(key::PROJECTED_CS_TYPE);
        let epsg = match (model_type, projected) {
            (_, Some(p)) if keys.unit_overrides_code(p) => None,
            (_, Some(p)) => Some(p),
            (Some(1), None) => None,
            _ => code(key::GEOGRAPHIC_TYPE),
        };
        let has_any = model_type.is_some()
            || keys.get(key::PROJECTED_CS_TYPE).is_some()
            || keys.get(key::GEOGRAPHIC_TYPE).is_some()
            || keys.get(key::VERTICAL_CS_TYPE).is_some();
        if !has_any {
            return None;
        }
        let citation = [key::PCS_CITATION, key::GT_CITATION, key::GEOG_CITATION]
            .iter()
            .find_map(|&id| keys.ascii(id))
            .map(str::to_string);
        Some(Crs {
            epsg: epsg.map(u32::from),
            model_type,
            citation,
            geokeys: keys.clone(),
        })
    }

    /// `"EPSG:n"` when there is a code, else the citation, else `"user-defined"`.
    pub fn to_string_short(&self) -> String {
        match (self.epsg, &self.citation) {
            (Some(e), _) => format!("EPSG:{e}"),
            (None, Some(c)) if !c.is_empty() => format!("user-defined ({c})"),
            _ => "user-defined".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_double_and_ascii_keys() {
        let dir = [
            1, 1, 0, 4, //
            1024, 0, 1, 1, //
            1026, 34737, 6, 0, //
            3072, 0, 1, 32767, //
            3078, 34736, 1, 1,
        ];
        let keys = GeoKeys::parse(&dir, &[0.0, 33.5], "lcc 1|").unwrap();
        assert_eq!(keys.short(key::GT_MODEL_TYPE), Some(1));
        assert_eq!(keys.ascii(key::GT_CITATION), Some("lcc 1"));
        assert_eq!(keys.get(3078), Some(&GeoKeyValue::Double(vec![33.5])));
        let crs = Crs::from_geokeys(&keys).unwrap();
        assert_eq!(crs.epsg, None, "32767 is user-defined");
        assert_eq!(crs.to_string_short(), "user-defined (lcc 1)");
    }

    #[test]
    fn out_of_range_indices_drop_the_key() {
        let dir = [1, 1, 0, 3, 1024, 0, 1, 2, 2049, 34737, 50, 10, 2048, 0, 1, 4326];
        let keys = GeoKeys::parse(&dir, &[], "short|").unwrap();
        assert_eq!(keys.keys.len(), 2);
        assert_eq!(Crs::from_geokeys(&keys).unwrap().epsg, Some(4326));
        // A directory announcing more keys than it has stops at the end.
        assert_eq!(
            GeoKeys::parse(&[1, 1, 0, 99, 1024, 0, 1, 2], &[], "")
                .unwrap()
                .keys
                .len(),
            1
        );
        assert!(GeoKeys::parse(&[1, 1], &[], "").is_none());
    }

    fn projected(keys: &[(u16, u16)]) -> Option<u32> {
        let mut dir = vec![1, 1, 0, keys.len() as u16];
        for &(id, v) in keys {
            dir.extend([id, 0, 1, v]);
        }
        Crs::from_geokeys(&GeoKeys::parse(&dir, &[], "").unwrap()).unwrap().epsg
    }

    #[test]
    fn a_linear_unit_other_than_the_codes_own_drops_the_code_as_gdal_does() {
        // NAD83 / Georgia East is in metres; keys saying US survey feet drop it.
        assert_eq!(projected(&[(1024, 1), (3072, 26966), (3076, 9003)]), None);
        assert_eq!(projected(&[(1024, 1), (3072, 26966), (3076, 9001)]), Some(26966));
        assert_eq!(projected(&[(1024, 1), (3072, 26966)]), Some(26966));
        // NAD83 / North Carolina (ftUS) is in US survey feet already.
        assert_eq!(projected(&[(1024, 1), (3072, 2264), (3076, 9003)]), Some(2264));
        assert_eq!(projected(&[(1024, 1), (3072, 2264), (3076, 9001)]), None);
        // With other CRS keys beside it, GDAL keeps the code whatever the unit.
        assert_eq!(
            projected(&[(1024, 1), (3072, 26966), (3074, 16101), (3076, 9003)]),
            Some(26966)
        );
    }
}
