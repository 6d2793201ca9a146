//! What readers share (a block cache, requests in flight) never changes what
//! a read returns: a shared cache never hands one file's bytes to another or
//! a replaced object's old bytes to a new reader; a failed request is asked
//! again by the next read; a dropped read leaves nothing behind; weak ETags
//! and servers without ETags work. Expected pixels are GDAL's
//! (fixtures/NAME.tiles.json).

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_cog::BlockCache;
use async_cog::{CogReader, Error, Options, TileCache, TileCaching};
use bytes::Bytes;
use support::{RangeServer, Validators, fixtures_dir, gdal_tile_hashes, tile_hashes};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(rel)).unwrap()
}

/// An uncompressed tiled fixture, so that its tile bytes can be edited.
const PLAIN: &str = "u8_none_1b.tif";

/// Two in-memory files with the same layout share a cache: each reader
/// still gets its own pixels (they once got the same cache keys, so the
/// second reader was handed the first one's tile).
#[tokio::test]
async fn a_shared_cache_never_mixes_in_memory_files() {
    let a = read(PLAIN);
    let probe = CogReader::from_bytes(Bytes::from(a.clone()), Options::default())
        .await
        .unwrap();
    let (off, len) = (
        probe.block_offsets(0).await.unwrap()[0],
        probe.block_byte_counts(0).await.unwrap()[0],
    );
    // B: A with tile (0, 0)'s samples inverted, but for the last 4, which
    // GDAL's block trailer repeats.
    let mut b = a.clone();
    for v in &mut b[off as usize..(off + len - 4) as usize] {
        *v = !*v;
    }
    let cache = Arc::new(BlockCache::new(1 << 20));
    let tiles = Arc::new(TileCache::new(1 << 20));
    let opts = Options::default()
        .with_shared_block_cache(cache.clone())
        .with_tile_caching(TileCaching::Shared(tiles.clone()));
    let ra = CogReader::from_bytes(Bytes::from(a), opts.clone()).await.unwrap();
    let rb = CogReader::from_bytes(Bytes::from(b), opts).await.unwrap();
    let ta = ra.get_tile(0, 0, 0).await.unwrap().array;
    assert_eq!(tile_hashes(&ta), gdal_tile_hashes(PLAIN, 0, 0, 0), "A is GDAL's tile");
    let tb = rb.get_tile(0, 0, 0).await.unwrap().array;
    let (pa, pb) = (ta.data.as_array::<u8>().unwrap(), tb.data.as_array::<u8>().unwrap());
    let (_, rows, cols) = ta.shape();
    let valid_rows = probe.profile().height.min(rows as u64) as usize;
    for r in 0..valid_rows {
        for c in 0..cols {
            if (r * cols + c) as u64 >= len - 4 {
                continue;
            }
            assert_eq!(pb[[0, r, c]], !pa[[0, r, c]], "B's pixel ({r}, {c}) came from A");
        }
    }
    assert!(cache.hits() == 0, "nothing of A may serve B");
    assert!(tiles.hits() == 0, "no decoded tile of A may serve B");
}

/// Writes `rel`'s bytes to `path` with modification time `mtime`.
fn put(path: &std::path::Path, rel: &str, mtime: SystemTime) {
    std::fs::write(path, read(rel)).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
}

/// A URL whose object is replaced between two readers that share a block
/// cache: the second reader gets the new file's pixels, whatever validators
/// the server sends (strong ETag, weak ETag, Last-Modified only, none).
#[tokio::test]
async fn a_replaced_object_is_never_served_from_a_shared_cache() {
    let (old, new) = ("u8_packbits.tif", "u8_mask_deflate.tif");
    for mode in [
        Validators::Strong,
        Validators::Weak,
        Validators::LastModifiedOnly,
        Validators::None,
    ] {
        let dir = tempdir(&format!("replaced-{mode:?}"));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        put(&dir.join("a.tif"), old, t0);
        let server = RangeServer::start(&dir).await;
        server.set_validators(mode);
        let cache = Arc::new(BlockCache::new(64 << 20));
        let opts = Options::default()
            .with_shared_block_cache(cache)
            .with_tile_caching(TileCaching::Shared(Arc::new(TileCache::new(64 << 20))));
        let first = CogReader::open_with(&server.url("a.tif"), opts.clone()).await.unwrap();
        let t = first.get_tile(0, 0, 0).await.unwrap().array;
        assert_eq!(tile_hashes(&t), gdal_tile_hashes(old, 0, 0, 0), "{mode:?}: old file");
        put(&dir.join("a.tif"), new, t0 + Duration::from_secs(60));
        let second = CogReader::open_with(&server.url("a.tif"), opts).await.unwrap();
        let t = second.get_tile(0, 0, 0).await.unwrap().array;
        assert_eq!(
            tile_hashes(&t),
            gdal_tile_hashes(new, 0, 0, 0),
            "{mode:?}: the new reader got the old file's tile"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A server with weak ETags: If-Match with a weak tag fails (412), so
/// reads once failed as `Changed` right after opening. Reads now work,
/// and a replaced object is still reported as `Changed`, never mixed.
#[tokio::test]
async fn weak_etags_read_and_still_detect_a_replacement() {
    let dir = tempdir("weak");
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    put(&dir.join("a.tif"), "u8_big_header.tif", t0);
    let server = RangeServer::start(&dir).await;
    server.set_validators(Validators::Weak);
    let cog = CogReader::open(&server.url("a.tif")).await.unwrap();
    let t = cog.get_tile(1, 1, 0).await.unwrap().array;
    assert_eq!(tile_hashes(&t), gdal_tile_hashes("u8_big_header.tif", 0, 1, 1));
    put(&dir.join("a.tif"), "u8_none_1b.tif", t0 + Duration::from_secs(60));
    let e = cog.get_tile(2, 2, 1).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// One failed request (a 503 with no retries left) fails that read only:
/// the same read asked again succeeds with GDAL's pixels. The failure was
/// once kept in the in-flight map and returned to every later read.
#[tokio::test]
async fn a_failed_fetch_is_asked_again_by_the_next_read() {
    let server = RangeServer::start(fixtures_dir()).await;
    let opts = Options::default().with_max_retries(0);
    let rel = "u8_mask_deflate.tif";
    let cog = CogReader::open_with(&server.url(rel), opts).await.unwrap();
    server.fail_next(1);
    let e = cog.get_tile(1, 0, 0).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    let t = cog.get_tile(1, 0, 0).await.unwrap().array;
    assert_eq!(tile_hashes(&t), gdal_tile_hashes(rel, 0, 1, 0));
}

/// Reads dropped at seeded moments while their requests are in flight leave
/// the reader as if they had never started: afterwards every tile reads at
/// once and equals GDAL's. Abandoned requests were once left in the
/// in-flight map unpolled, timed out there, and failed later reads for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_reads_leave_the_reader_as_it_was() {
    let rel = "u8_big_header.tif";
    let server = RangeServer::start(fixtures_dir()).await;
    let opts = Options::default()
        .with_max_retries(0)
        .with_timeout(Duration::from_millis(400));
    let cog = CogReader::open_with(&server.url(rel), opts).await.unwrap();
    let level = cog.level(0).unwrap().clone();
    let (across, down) = (level.image.blocks_across(), level.image.blocks_down());
    server.set_latency(Duration::from_millis(40));
    for round in 0..12u64 {
        let mut tasks = Vec::new();
        for i in 0..8u64 {
            let (cog, k) = (cog.clone(), round * 8 + i);
            let (x, y) = (k % across, (k / across) % down);
            tasks.push(tokio::spawn(async move { cog.get_tile(x, y, 0).await }));
        }
        // Seeded drop times from 0 to 60 ms, inside the 40 ms latency and after it.
        tokio::time::sleep(Duration::from_millis((round * 37) % 61)).await;
        for t in tasks {
            t.abort();
        }
    }
    // Longer than the request timeout: an abandoned request left in the
    // in-flight map, polled by nobody, has timed out by now.
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.set_latency(Duration::ZERO);
    let gdal = support::gdal_tiles(rel);
    for k in 0..12 * 8 {
        let (x, y) = (k % across, (k / across) % down);
        {
            let t = tokio::time::timeout(Duration::from_secs(1), cog.get_tile(x, y, 0))
                .await
                .unwrap_or_else(|_| panic!("tile ({x}, {y}) waited on an abandoned request"))
                .unwrap_or_else(|e| panic!("tile ({x}, {y}): {e}"));
            assert_eq!(&tile_hashes(&t.array), &gdal[&(0, x, y)], "tile ({x}, {y})");
        }
    }
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("async-cog-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
