//! What a tile costs at the server, and what a tampered or impossible tile
//! request says: one GET when the mask is interleaved (or there is none),
//! two overlapping GETs when it is not; GDAL's block leader and trailer are
//! checked.

mod support;

use std::time::Duration;

use async_cog::{CogReader, Error, Options};
use bytes::Bytes;
use support::{RangeServer, fixtures_dir};

#[tokio::test]
async fn interleaved_mask_costs_one_get_per_tile() {
    let server = RangeServer::start(fixtures_dir()).await;
    for rel in [
        "real/hot-oam_drone_jpeg_mask.tif",
        "u8_jpeg_mask.tif",
        "u8_mask_deflate.tif",
    ] {
        let cog = CogReader::open(&server.url(rel)).await.unwrap();
        assert!(cog.ghost_area().unwrap().mask_interleaved_with_imagery, "{rel}");
        for (x, y, z) in [(0, 0, 0), (1, 1, 0), (0, 0, 1)] {
            server.clear();
            let t = cog.get_tile(x, y, z).await.unwrap().array;
            assert!(
                t.invalid_count() < t.mask.len(),
                "{rel}: tile ({x},{y},{z}) is not all masked"
            );
            assert_eq!(server.count("GET"), 1, "{rel} ({x},{y},{z}): {:?}", server.log());
        }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_mask_is_fetched_concurrently() {
    // rasterstats_f32_mask.tif: one strip of data, one strip of mask, no ghost area.
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url("real/rasterstats_f32_mask.tif"))
        .await
        .unwrap();
    server.clear();
    server.set_latency(Duration::from_millis(200));
    cog.get_tile(0, 0, 0).await.unwrap();
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
