//! GDAL's private TIFF tags: `GDAL_NODATA` (42113) and `GDAL_METADATA` (42112).
//!
//! GDAL_NODATA is ASCII holding one number for all bands: `-9999`, `nan`,
//! `-3.4e+38`, `255`, `inf`. GDAL_METADATA is a small XML document,
//! `<GDALMetadata><Item name=".." sample="0" role="..">value</Item>...`,
//! where items with a `sample` attribute belong to that band (0-based) and
//! the roles `description`, `scale`, `offset` carry band properties.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Band-level properties from GDAL_METADATA.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BandMetadata {
    /// `role="description"`.
    pub description: Option<String>,
    /// `role="scale"`.
    pub scale: Option<f64>,
    /// `role="offset"`.
    pub offset: Option<f64>,
    /// `role="colorinterp"` (e.g. `Alpha`, `Undefined`), which overrides
    /// what PhotometricInterpretation and ExtraSamples imply.
    pub colorinterp: Option<String>,
    /// Other band items by name.
    pub items: BTreeMap<String, String>,
}

/// The parsed GDAL_METADATA document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GdalMetadata {
    /// Dataset-level items (no `sample` attribute) by name.
    pub dataset: BTreeMap<String, String>,
    /// Per band, indexed by the `sample` attribute.
    pub bands: BTreeMap<usize, BandMetadata>,
}

impl GdalMetadata {
    /// Parses the XML; malformed XML yields what was read before the error
    /// (with a warning), never a failure to open.
    pub fn parse(xml: &str) -> GdalMetadata {
        let mut out = GdalMetadata::default();
        let mut reader = Reader::from_str(xml);
        let mut current: Option<(String, Option<usize>, Option<String>)> = None;
        let mut text = String::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) if e.name().as_ref() == b"Item" => {
                    let (mut name, mut sample, mut role) = (String::new(), None, None);
                    for a in e.attributes().flatten() {
                        let v = a.unescape_value().map(|c| c.into_owned()).unwrap_or_default();
                        match a.key.as_ref() {
                            b"name" => name = v,
                            b"sample" => sample = v.trim().parse().ok(),
                            b"role" => role = Some(v),
                            _ => {}
                        }
                    }
                    current = Some((name, sample, role));
                    text.clear();
                }
                Ok(Event::Text(t)) if current.is_some() => {
                    if let Ok(s) = t.decode() {
                        text.push_str(&s);
                    }
                }
                Ok(Event::GeneralRef(r)) if current.is_some() => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                        continue;
                    }
                    let name = r.decode().map(|c| c.into_owned()).unwrap_or_default();
                    text.push_str(match name.as_str() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
                Ok(Event::End(e)) if e.name().as_ref() == b"Item" => {
                    if let Some((name, sample, role)) = current.take() {
                        out.add(name, sample, role.as_deref(), std::mem::take(&mut text));
                    }
                }
                Ok(Event::Eof) => break,
                Err(err) => {
                    tracing::warn!("GDAL_METADATA is not well-formed XML: {err}");
                    break;
                }
                _ => {}
            }
        }
        out
    }

    fn add(&mut self, name: String, sample: Option<usize>, role: Option<&str>, value: String) {
        // GDAL escapes values before putting them in the XML tree, which
        // escapes them again, and unescapes once more on reading: do the same.
        let value = unescape_xml(&value);
        let Some(band) = sample else {
            self.dataset.insert(name, value);
            return;
        };
        let b = self.bands.entry(band).or_default();
        match role {
            Some("description") => b.description = Some(value),
            Some("scale") => b.scale = value.trim().parse().ok(),
            Some("offset") => b.offset = value.trim().parse().ok(),
            Some("colorinterp") => b.colorinterp = Some(value.trim().to_string()),
            _ => {
                b.items.insert(name, value);
            }
        }
    }
}

/// Undoes XML's five predefined entities (`&amp;` last).
fn unescape_xml(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_items_by_band_and_role() {
        let m = GdalMetadata::parse(
            r#"<GDALMetadata>
  <Item name="SOURCE">fixtures</Item>
  <Item name="DESCRIPTION" sample="0" role="description">slope &amp;amp; aspect</Item>
  <Item name="SCALE" sample="0" role="scale">0.5</Item>
  <Item name="OFFSET" sample="1" role="offset">-1.5</Item>
  <Item name="STATISTICS_MEAN" sample="1">3</Item>
</GDALMetadata>"#,
        );
        assert_eq!(m.dataset.get("SOURCE").map(String::as_str), Some("fixtures"));
        let b0 = m.bands.get(&0).unwrap();
        assert_eq!(b0.description.as_deref(), Some("slope & aspect"));
        assert_eq!(b0.scale, Some(0.5));
        let b1 = m.bands.get(&1).unwrap();
        assert_eq!(b1.offset, Some(-1.5));
        assert_eq!(b1.items.get("STATISTICS_MEAN").map(String::as_str), Some("3"));
        // Broken XML keeps what came before the break.
        assert_eq!(
            GdalMetadata::parse("<GDALMetadata><Item name=\"A\">1</Item><Item")
                .dataset
                .len(),
            1
        );
    }
}
