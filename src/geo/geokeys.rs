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
use crate::tiff::{Tag, tiff_enum};

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
    /// The key id, e.g. `ProjectedCSTypeGeoKey` (3072).
    pub id: GeoKeyId,
    /// Its value.
    pub value: GeoKeyValue,
}

impl GeoKey {
    /// The key's name from the GeoTIFF spec, or `"Unknown"`.
    pub fn name(&self) -> &'static str {
        self.id.name().unwrap_or("Unknown")
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

/// Metres per EPSG length unit `code`.
fn unit_metres(code: u16) -> Option<f64> {
    let units = &epsg_units::LENGTH_UNITS;
    units
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .and_then(|i| units.get(i))
        .map(|&(_, m)| m)
}

/// Metres in one unit of the axes of projected EPSG CRS `code` (PROJ's
/// database: 0.3048006096 for US survey feet); 1 for codes it lists in
/// metres.
pub fn projected_metres_per_unit(code: u32) -> Option<f64> {
    epsg_units::NON_METRE_CRS
        .binary_search_by_key(&code, |&(c, _)| c)
        .map_or(Some(1.0), |i| {
            epsg_units::NON_METRE_CRS.get(i).and_then(|&(_, u)| unit_metres(u))
        })
}

/// Code meaning "user-defined" in GeoTIFF.
pub const USER_DEFINED: u16 = 32767;

tiff_enum! {
    /// A GeoKey id, named as GeoTIFF 1.1 (OGC 19-008r4, section 7) names it.
    #[allow(missing_docs)]
    GeoKeyId {
        GTModelTypeGeoKey = 1024,
        GTRasterTypeGeoKey = 1025,
        GTCitationGeoKey = 1026,
        GeographicTypeGeoKey = 2048,
        GeogCitationGeoKey = 2049,
        GeogGeodeticDatumGeoKey = 2050,
        GeogPrimeMeridianGeoKey = 2051,
        GeogLinearUnitsGeoKey = 2052,
        GeogLinearUnitSizeGeoKey = 2053,
        GeogAngularUnitsGeoKey = 2054,
        GeogAngularUnitSizeGeoKey = 2055,
        GeogEllipsoidGeoKey = 2056,
        GeogSemiMajorAxisGeoKey = 2057,
        GeogSemiMinorAxisGeoKey = 2058,
        GeogInvFlatteningGeoKey = 2059,
        GeogAzimuthUnitsGeoKey = 2060,
        GeogPrimeMeridianLongGeoKey = 2061,
        GeogTOWGS84GeoKey = 2062,
        ProjectedCSTypeGeoKey = 3072,
        PCSCitationGeoKey = 3073,
        ProjectionGeoKey = 3074,
        ProjCoordTransGeoKey = 3075,
        ProjLinearUnitsGeoKey = 3076,
        ProjLinearUnitSizeGeoKey = 3077,
        ProjStdParallel1GeoKey = 3078,
        ProjStdParallel2GeoKey = 3079,
        ProjNatOriginLongGeoKey = 3080,
        ProjNatOriginLatGeoKey = 3081,
        ProjFalseEastingGeoKey = 3082,
        ProjFalseNorthingGeoKey = 3083,
        ProjFalseOriginLongGeoKey = 3084,
        ProjFalseOriginLatGeoKey = 3085,
        ProjFalseOriginEastingGeoKey = 3086,
        ProjFalseOriginNorthingGeoKey = 3087,
        ProjCenterLongGeoKey = 3088,
        ProjCenterLatGeoKey = 3089,
        ProjCenterEastingGeoKey = 3090,
        ProjCenterNorthingGeoKey = 3091,
        ProjScaleAtNatOriginGeoKey = 3092,
        ProjScaleAtCenterGeoKey = 3093,
        ProjAzimuthAngleGeoKey = 3094,
        ProjStraightVertPoleLongGeoKey = 3095,
        ProjRectifiedGridAngleGeoKey = 3096,
        VerticalCSTypeGeoKey = 4096,
        VerticalCitationGeoKey = 4097,
        VerticalDatumGeoKey = 4098,
        VerticalUnitsGeoKey = 4099,
    }
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
            let (id, location, count, value) = (GeoKeyId::from_code(k[0]), k[1], usize::from(k[2]), k[3]);
            let start = usize::from(value);
            let v = match Tag::from_code(location) {
                Tag::Unknown(0) => Some(GeoKeyValue::Short(vec![value])),
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
                None => tracing::warn!("GeoKey {} ({id}) points outside its parameter array", id.code()),
            }
        }
        Some(GeoKeys { version, keys })
    }

    /// The key with `id`.
    pub fn get(&self, id: GeoKeyId) -> Option<&GeoKeyValue> {
        self.keys.iter().find(|k| k.id == id).map(|k| &k.value)
    }

    /// A SHORT key's single value.
    pub fn short(&self, id: GeoKeyId) -> Option<u16> {
        match self.get(id)? {
            GeoKeyValue::Short(v) => v.first().copied(),
            _ => None,
        }
    }

    /// A DOUBLE key's first value.
    pub fn double(&self, id: GeoKeyId) -> Option<f64> {
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
            GeoKeyId::ProjectionGeoKey,
            GeoKeyId::ProjCoordTransGeoKey,
            GeoKeyId::GeographicTypeGeoKey,
            GeoKeyId::GeogGeodeticDatumGeoKey,
            GeoKeyId::GeogEllipsoidGeoKey,
        ];
        if others.iter().any(|&k| self.get(k).is_some()) {
            return false;
        }
        let in_keys = match self.short(GeoKeyId::ProjLinearUnitsGeoKey) {
            None => return false,
            Some(USER_DEFINED) => self.double(GeoKeyId::ProjLinearUnitSizeGeoKey),
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
    pub fn ascii(&self, id: GeoKeyId) -> Option<&str> {
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
        let model_type = keys.short(GeoKeyId::GTModelTypeGeoKey);
        let projected = code(GeoKeyId::ProjectedCSTypeGeoKey);
        let epsg = match (model_type, projected) {
            (_, Some(p)) if keys.unit_overrides_code(p) => None,
            (_, Some(p)) => Some(p),
            (Some(1), None) => None,
            _ => code(GeoKeyId::GeographicTypeGeoKey),
        };
        let has_any = model_type.is_some()
            || keys.get(GeoKeyId::ProjectedCSTypeGeoKey).is_some()
            || keys.get(GeoKeyId::GeographicTypeGeoKey).is_some()
            || keys.get(GeoKeyId::VerticalCSTypeGeoKey).is_some();
        if !has_any {
            return None;
        }
        let citation = [
            GeoKeyId::PCSCitationGeoKey,
            GeoKeyId::GTCitationGeoKey,
            GeoKeyId::GeogCitationGeoKey,
        ]
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
        assert_eq!(keys.short(GeoKeyId::GTModelTypeGeoKey), Some(1));
        assert_eq!(keys.ascii(GeoKeyId::GTCitationGeoKey), Some("lcc 1"));
        assert_eq!(
            keys.get(GeoKeyId::ProjStdParallel1GeoKey),
            Some(&GeoKeyValue::Double(vec![33.5]))
        );
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
