//! `CogReader::validate`: loads every image IFD's block offsets and byte
//! counts (already in the header on a normal COG: no request) and applies
//! the layout rules of `crate::validate`.

use super::CogReader;
use crate::error::Result;
use crate::validate::{BlockArrays, Verdict, check, images};

impl CogReader {
    /// rio-cogeo's verdict on the file's layout, with GDAL's stricter
    /// offset checks as notes. A side-car `.ovr` is not looked for: a
    /// caller that can see the file system adds that error itself.
    pub async fn validate(&self) -> Result<Verdict> {
        let images = images(self.tiff());
        let wanted: Vec<_> = images
            .iter()
            .flat_map(|i| [(i.ifd, i.offsets_tag()), (i.ifd, i.byte_counts_tag())])
            .collect();
        self.load_tag_arrays(&wanted).await?;
        let mut arrays = BlockArrays::new();
        for i in &images {
            let offsets = self.tag_array(i.ifd, i.offsets_tag()).await?;
            let counts = self.tag_array(i.ifd, i.byte_counts_tag()).await?;
            arrays.insert(i.ifd, (offsets, counts));
        }
        Ok(check(self.tiff(), &arrays, false))
    }
}
