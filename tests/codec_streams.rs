//! Every codec on a real GDAL-made stream: it decodes to exactly the tile;
//! truncated, it is an error; asked for more rows than the stream holds, it
//! is an error; asked for fewer, byte-stream codecs return exactly what was
//! asked (as libtiff reads a chunk, never allocating past it) and the
//! image codecs (JPEG, WebP, LERC), whose streams carry their own size,
//! refuse the mismatch.

mod support;

use async_cog::internals::{ChunkSpec, Codec, decode_chunk};
use async_cog::tiff::{Tag, Value};
use async_cog::{CogReader, Options};
use bytes::Bytes;
use support::fixtures_dir;

const CASES: &[&str] = &[
    "u8_none_1b.tif",
    "u8_lzw_pred2_rgb.tif",
    "u16_deflate_pred2.tif",
    "u8_packbits.tif",
    "i16_zstd_pred2_2b.tif",
    "u32_lzma.tif",
    "f64_zstd_pred3_3b.tif",
    "f16_deflate_pred3.tif",
    "u8_jpeg_rgb.tif",
    "u8_jpeg_gray.tif",
    "u8_webp_lossy_rgb.tif",
    "u8_webp_lossless_rgba.tif",
    "f32_lerc.tif",
    "f32_lerc_deflate.tif",
    "u16_lerc_zstd.tif",
];

#[tokio::test]
async fn every_codec_on_real_streams_rejects_what_does_not_fit() {
    for rel in CASES {
        let file = std::fs::read(fixtures_dir().join(rel)).unwrap();
        let cog = CogReader::from_bytes(Bytes::from(file.clone()), Options::default())
            .await
            .unwrap();
        let img = &cog.levels()[0].image;
        let codec = Codec::from_tiff(img.compression, img.lerc_parameters.as_deref()).unwrap();
        let off = cog.block_offsets(img.ifd).await.unwrap()[0] as usize;
        let len = cog.block_byte_counts(img.ifd).await.unwrap()[0] as usize;
        let stream = &file[off..off + len];
        let tables = match cog.ifds()[img.ifd].value(Tag::JPEGTables) {
            Some(Value::Undefined(b)) => Some(b.clone()),
            _ => None,
        };
        let spec = ChunkSpec::of(img, cog.tiff().header.byte_order).unwrap();
        let t = tables.as_deref();
        let out = decode_chunk(codec, stream, &spec, t).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(out.len(), spec.output_len(), "{rel}");

        assert!(
            decode_chunk(codec, &stream[..len / 2], &spec, t).is_err(),
            "{rel}: truncated stream accepted"
        );

        let taller = ChunkSpec {
            height: spec.height + 16,
            ..spec
        };
        assert!(
            decode_chunk(codec, stream, &taller, t).is_err(),
            "{rel}: stream too short for the tile accepted"
        );

        let shorter = ChunkSpec {
            height: spec.height - 16,
            ..spec
        };
        let r = decode_chunk(codec, stream, &shorter, t);
        if matches!(codec, Codec::Jpeg | Codec::WebP | Codec::Lerc(_)) {
            assert!(r.is_err(), "{rel}: image codec accepted a size mismatch");
        } else {
            assert_eq!(
                r.unwrap().len(),
                shorter.output_len(),
                "{rel}: no allocation past the chunk"
            );
        }
    }
}
