//! What a tile costs at the server, and what a tampered or impossible tile
//! request says: one GET when the mask is interleaved (or there is none),
//! two overlapping GETs when it is not, none when the tile lies in the bytes
//! fetched at open; GDAL's block leader and trailer are checked.

mod support;

use std::time::Duration;

use async_cog::tiff::Tag;
use async_cog::{CogReader, Error, Options};
use bytes::Bytes;
use support::{RangeServer, fixtures_dir};

/// A tile with an interleaved mask costs one GET, or none when its bytes
/// (mask and GDAL's leader and trailer included) came with the opening
/// requests, as all of a small file's do.
#[tokio::test]
async fn interleaved_mask_costs_one_get_per_tile() {
    let server = RangeServer::start(fixtures_dir()).await;
    let (mut fetched, mut held) = (0, 0);
    for rel in [
        "real/hot-oam_drone_jpeg_mask.tif",
        "u8_jpeg_mask.tif",
        "u8_mask_deflate.tif",
    ] {
        server.clear();
        let cog = CogReader::open(&server.url(rel)).await.unwrap();
        let opening: Vec<(u64, u64)> = server.log().iter().filter_map(|l| l.range).collect();
        assert!(cog.ghost_area().unwrap().mask_interleaved_with_imagery, "{rel}");
        for (x, y, z) in [(0, 0, 0), (1, 1, 0), (0, 0, 1)] {
            let level = cog.level(z).unwrap().clone();
            let mut spans = Vec::new();
            for image in std::iter::once(&level.image).chain(level.mask.as_ref()) {
                let i = (y * image.blocks_across() + x) as usize;
                let off = cog.block_offsets(image.ifd).await.unwrap()[i];
                let len = cog.block_byte_counts(image.ifd).await.unwrap()[i];
                spans.push((off - 4, off + len + 4));
            }
            let inside = spans
                .iter()
                .all(|&(a, b)| opening.iter().any(|&(s, e)| s <= a && b <= e));
            server.clear();
            let t = cog.get_tile(x, y, z).await.unwrap().array;
            assert!(
                t.invalid_count() < t.mask.len(),
                "{rel}: tile ({x},{y},{z}) is not all masked"
            );
            let expected = if inside { 0 } else { 1 };
            assert_eq!(server.count("GET"), expected, "{rel} ({x},{y},{z}): {:?}", server.log());
            *(if inside { &mut held } else { &mut fetched }) += 1;
        }
    }
    assert!(
        fetched > 0 && held > 0,
        "both cases ran: {fetched} fetched, {held} held"
    );
}

/// A COG smaller than the opening GET costs that one GET, tiles included:
/// every tile of every level is served from the bytes fetched at open.
#[tokio::test]
async fn a_cog_inside_the_opening_bytes_costs_one_get_in_all() {
    let server = RangeServer::start(fixtures_dir()).await;
    for rel in ["u8_webp_lossy_rgb.tif", "u8_jpeg_mask.tif", "u8_palette.tif"] {
        assert!(std::fs::metadata(fixtures_dir().join(rel)).unwrap().len() < 16 * 1024);
        server.clear();
        let cog = CogReader::open(&server.url(rel)).await.unwrap();
        for l in cog.levels() {
            for y in 0..l.image.blocks_down() {
                for x in 0..l.image.blocks_across() {
                    let t = cog.get_tile(x, y, l.z).await.unwrap().array;
                    assert_eq!(t.shape().0, cog.profile().count);
                }
            }
        }
        assert_eq!(server.count("GET"), 1, "{rel}: {:?}", server.log());
    }
}

#[tokio::test]
async fn tile_without_mask_costs_one_get() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url("u16_deflate_pred2.tif")).await.unwrap();
    server.clear();
    cog.get_tile(1, 2, 0).await.unwrap();
    assert_eq!(server.count("GET"), 1);
}

/// A mask stored apart from its image (no ghost area says they are
/// interleaved) is fetched by a request of its own, in flight together with
/// the image's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_mask_is_fetched_concurrently() {
    // u8_ovr_no_mask.tif: GDAL's GTiff layout, no ghost area; its last tile
    // lies past the bytes fetched at open.
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url("u8_ovr_no_mask.tif")).await.unwrap();
    assert!(cog.ghost_area().is_none());
    cog.load_tag_arrays(&[
        (0, Tag::TileOffsets),
        (0, Tag::TileByteCounts),
        (1, Tag::TileOffsets),
        (1, Tag::TileByteCounts),
    ])
    .await
    .unwrap();
    server.clear();
    server.set_latency(Duration::from_millis(200));
    cog.get_tile(2, 3, 0).await.unwrap();
    let log = server.log();
    assert_eq!(log.len(), 2, "{log:?}");
    let (a, b) = (&log[0], &log[1]);
    assert!(
        b.started < a.finished && a.started < b.finished,
        "image and mask requests did not overlap: {log:?}"
    );
}

#[tokio::test]
async fn tampered_block_leader_and_trailer_are_reported() {
    let path = fixtures_dir().join("u8_mask_deflate.tif");
    let good = std::fs::read(&path).unwrap();
    let cog = CogReader::from_bytes(Bytes::from(good.clone()), Options::default())
        .await
        .unwrap();
    let off = cog.block_offsets(0).await.unwrap()[0] as usize;
    let len = cog.block_byte_counts(0).await.unwrap()[0] as usize;

    let mut b = good.clone();
    b[off - 4] ^= 0x01;
    let cog = CogReader::from_bytes(Bytes::from(b), Options::default()).await.unwrap();
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert!(e.to_string().contains("BLOCK_LEADER"), "{e}");
    assert!(e.to_string().contains(&format!("bytes {off}..")), "{e}");

    let mut b = good.clone();
    b[off + len] ^= 0x01;
    let cog = CogReader::from_bytes(Bytes::from(b), Options::default()).await.unwrap();
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert!(e.to_string().contains("BLOCK_TRAILER"), "{e}");

    // Other tiles are unaffected.
    cog.get_tile(1, 0, 0).await.unwrap();
}

#[tokio::test]
async fn tiles_outside_the_grid_and_missing_levels_are_clear_errors() {
    let bytes = Bytes::from(std::fs::read(fixtures_dir().join("u8_mask_deflate.tif")).unwrap());
    let cog = CogReader::from_bytes(bytes, Options::default()).await.unwrap();
    let e = cog.get_tile(3, 0, 0).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    assert!(e.to_string().contains("3x4"), "names the grid: {e}");
    let e = cog.get_tile(0, 0, 9).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest { .. }) && e.to_string().contains("levels 0..=2"),
        "{e}"
    );
}

#[tokio::test]
async fn corrupt_tile_bytes_are_errors_with_location() {
    let path = fixtures_dir().join("u16_deflate_pred2.tif");
    let mut b = std::fs::read(&path).unwrap();
    let cog = CogReader::from_bytes(Bytes::from(b.clone()), Options::default())
        .await
        .unwrap();
    let off = cog.block_offsets(0).await.unwrap()[0] as usize;
    for i in 0..40 {
        b[off + i] = 0xAA;
    }
    let cog = CogReader::from_bytes(Bytes::from(b), Options::default()).await.unwrap();
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("IFD 0") && msg.contains("TileOffsets") && msg.contains("Deflate"),
        "{msg}"
    );
}

#[tokio::test]
async fn the_same_tile_asked_twice_is_decoded_once_and_returned_twice() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url("u16_deflate_pred2.tif")).await.unwrap();
    server.clear();
    let tiles = cog.read_blocks(0, &[(1, 1), (0, 0), (1, 1)]).await.unwrap();
    assert_eq!(tiles.len(), 3);
    assert_eq!(tiles[0], tiles[2]);
    assert_ne!(tiles[0], tiles[1]);
    assert_eq!(cog.get_tile(1, 1, 0).await.unwrap().array, tiles[0].array);
}
