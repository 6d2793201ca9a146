//! What reads cost at the HTTP server: merged contiguous tiles, all in
//! flight together; nothing for a repeat with the cache on; one request
//! for 100 concurrent readers of a tile; a cache that keeps its budget.

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_cog::BlockCache;
use async_cog::{BlockCaching, CogReader, Options, RangeMerging, ReadRequest, TileCaching, Window};
use support::{Logged, RangeServer, fixtures_dir};

const BIG: &str = "u8_big_header.tif";

/// u8_big_header.tif, with every level's block arrays already loaded, so
/// that the log shows only tile requests.
async fn open_big(server: &RangeServer, options: Options) -> CogReader {
    let cog = CogReader::open_with(&server.url(BIG), options).await.unwrap();
    let arrays: Vec<(usize, async_cog::tiff::Tag)> = cog
        .levels()
        .iter()
        .flat_map(|l| {
            [
                (l.image.ifd, l.image.offsets_tag()),
                (l.image.ifd, l.image.byte_counts_tag()),
            ]
        })
        .collect();
    cog.load_tag_arrays(&arrays).await.unwrap();
    server.clear();
    cog
}

/// Bytes of level-0 tiles (x0..x1, y0..y1) with GDAL's 4-byte leader and trailer.
async fn tile_bytes(cog: &CogReader, xs: std::ops::Range<u64>, ys: std::ops::Range<u64>) -> u64 {
    let counts = cog.block_byte_counts(0).await.unwrap();
    let across = cog.levels()[0].image.blocks_across();
    ys.flat_map(|y| xs.clone().map(move |x| (y * across + x) as usize))
        .map(|i| counts[i] + 8)
        .sum()
}

fn overlapping(log: &[Logged]) -> bool {
    let first_end = log.iter().map(|l| l.finished).min().unwrap();
    log.iter().all(|l| l.started < first_end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_contiguous_tiles_cost_one_get_each_all_in_flight() {
    let server = RangeServer::start(fixtures_dir()).await;
    // The block cache alone answers the repeat (no decoded tiles kept).
    let cog = open_big(&server, Options::default().with_tile_caching(TileCaching::Off)).await;
    server.set_latency(Duration::from_millis(100));
    // Tiles x 2..7, y 3..6 of 128-pixel tiles: 3 rows of 5 contiguous tiles.
    let w = Window::new(2 * 128 + 10, 3 * 128 + 5, 5 * 128 - 20, 3 * 128 - 10);
    let a = cog.read_window(w, 0).await.unwrap().array;
    assert_eq!(a.shape(), (1, 374, 620));
    let log = server.log();
    assert!(log.len() <= 3, "3 rows of tiles took {} GETs: {log:?}", log.len());
    assert!(
        overlapping(&log),
        "the row requests were not in flight together: {log:?}"
    );
    let fetched: u64 = log.iter().map(|l| l.bytes).sum();
    let needed = tile_bytes(&cog, 2..7, 3..6).await;
    assert!(
        fetched as f64 <= needed as f64 * 1.05,
        "fetched {fetched} bytes for {needed} bytes of tiles"
    );
    // The same read again: the cache answers.
    server.clear();
    let b = cog.read_window(w, 0).await.unwrap().array;
    assert_eq!(a, b);
    assert_eq!(server.log().len(), 0, "a repeated read costs no request");
    assert!(cog.stats().cache_hits >= 15);
}

#[tokio::test]
async fn without_the_cache_a_repeat_fetches_again() {
    let server = RangeServer::start(fixtures_dir()).await;
    let options = Options::default()
        .with_block_caching(BlockCaching::Off)
        .with_tile_caching(TileCaching::Off);
    let cog = open_big(&server, options).await;
    let w = Window::new(0, 0, 256, 128);
    cog.read_window(w, 0).await.unwrap();
    let first = server.log().len();
    cog.read_window(w, 0).await.unwrap();
    assert_eq!(server.log().len(), 2 * first);
    assert_eq!(first, 1, "two touching tiles, one request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_readers_of_one_tile_cost_one_get() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = open_big(&server, Options::default()).await;
    server.set_latency(Duration::from_millis(50));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let cog = cog.clone();
            tokio::spawn(async move { cog.get_tile(7, 9, 0).await.map(|t| t.array.shape()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), (1, 128, 128));
    }
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
}

#[tokio::test]
async fn gaps_merging_and_concurrency_follow_the_options() {
    let server = RangeServer::start(fixtures_dir()).await;
    let w = Window::new(0, 0, 3 * 128, 2 * 128); // 2 rows of 3 tiles
    // No merging: one request per tile.
    let cog = open_big(&server, Options::default().with_range_merging(RangeMerging::Off)).await;
    cog.read_window(w, 0).await.unwrap();
    assert_eq!(server.log().len(), 6);
    // A gap as large as a row of the file: both rows in one request.
    let cog = open_big(
        &server,
        Options::default().with_range_merging(RangeMerging::Gap(1 << 20)),
    )
    .await;
    cog.read_window(w, 0).await.unwrap();
    assert_eq!(server.log().len(), 1);
    // One request in flight at a time.
    let cog = open_big(&server, Options::default().with_max_concurrency(1)).await;
    server.set_latency(Duration::from_millis(30));
    cog.read_window(w, 0).await.unwrap();
    let mut log = server.log();
    assert_eq!(log.len(), 2);
    log.sort_by_key(|l| l.started);
    assert!(
        log[0].finished <= log[1].started,
        "requests overlapped with max_concurrency 1"
    );
}

#[tokio::test]
async fn the_cache_keeps_its_byte_budget_and_is_shared() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cache = Arc::new(BlockCache::new(20_000));
    let a = open_big(&server, Options::default().with_shared_block_cache(cache.clone())).await;
    a.read_window(Window::new(0, 0, 1280, 640), 0).await.unwrap(); // 50 tiles of ~900 bytes
    let held = cache.weighted_size().await;
    assert!(held <= 20_000, "cache holds {held} bytes over its 20000 budget");
    assert!(held > 0);
    // Another reader of the same object shares it: a read of cached tiles is free.
    let b = CogReader::open_with(
        &server.url(BIG),
        Options::default().with_shared_block_cache(cache.clone()),
    )
    .await
    .unwrap();
    a.get_tile(0, 0, 3).await.unwrap();
    server.clear();
    b.load_tag_arrays(&[
        (3, async_cog::tiff::Tag::TileOffsets),
        (3, async_cog::tiff::Tag::TileByteCounts),
    ])
    .await
    .unwrap();
    server.clear();
    b.get_tile(0, 0, 3).await.unwrap();
    assert_eq!(
        server.log().len(),
        0,
        "the second reader found the tile in the shared cache"
    );
}

#[tokio::test]
async fn bounds_reads_choose_overviews_and_carry_their_transform() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = open_big(&server, Options::default()).await;
    let p = cog.profile().clone();
    // The whole image into 300x300: a 20x reduction reads level 4 (factor 16).
    let r = cog.read(p.bounds, (300, 300)).await.unwrap();
    assert_eq!(r.level, 4);
    assert_eq!(r.bounds, p.bounds);
    assert!((r.transform.a - p.transform.a * 20.0).abs() < 1e-9);
    // Only level-4 tiles were fetched: 3x3 of them.
    assert!(server.log().len() <= 3, "{:?}", server.log());
    let explicit = cog
        .read_with(ReadRequest::bounds(p.bounds).shape(300, 300).level(5))
        .await
        .unwrap();
    assert_eq!(explicit.level, 5);
}

#[tokio::test]
async fn a_header_cache_opens_again_with_no_request_and_still_detects_changes() {
    use async_cog::HeaderCache;
    let dir = std::env::temp_dir().join(format!("async-cog-hc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixtures_dir().join("u8_mask_deflate.tif"), dir.join("a.tif")).unwrap();
    let server = RangeServer::start(&dir).await;
    let options = Options::default().with_header_cache(Arc::new(HeaderCache::new(100)));
    CogReader::open_with(&server.url("a.tif"), options.clone())
        .await
        .unwrap();
    assert_eq!(server.log().len(), 1);
    server.clear();
    let again = CogReader::open_with(&server.url("a.tif"), options.clone())
        .await
        .unwrap();
    assert_eq!(server.log().len(), 0, "the second open was served by the header cache");
    again.get_tile(0, 0, 0).await.unwrap();
    assert_eq!(server.log().len(), 1);
    // The object is replaced: the cached version no longer matches.
    std::fs::copy(fixtures_dir().join("u8_jpeg_mask.tif"), dir.join("a.tif")).unwrap();
    let stale = CogReader::open_with(&server.url("a.tif"), options).await.unwrap();
    let e = stale.get_tile(1, 1, 0).await.unwrap_err();
    assert!(matches!(e, async_cog::Error::Changed { .. }), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn progress_counts_every_tile_of_a_read() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = open_big(&server, Options::default()).await;
    let (calls, last) = (Arc::new(AtomicU64::new(0)), Arc::new(std::sync::Mutex::new((0, 0))));
    let (c, l) = (calls.clone(), last.clone());
    let req = ReadRequest::window(Window::new(0, 0, 5 * 128, 3 * 128), 0).progress(move |done, total| {
        c.fetch_add(1, Ordering::Relaxed);
        let mut g = l.lock().unwrap();
        *g = (g.0.max(done), total);
    });
    cog.read_with(req).await.unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 15, "one call per tile");
    assert_eq!(*last.lock().unwrap(), (15, 15));
}

/// Decoding overlaps the transfer: in a read of two rows of tiles (two
/// requests), the first row's tiles are decoded and pasted while the
/// second row's request is still on its way, not after it lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_decode_as_their_request_lands_not_after_the_last() {
    use std::time::Instant;
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = open_big(&server, Options::default()).await;
    let offsets = cog.block_offsets(cog.levels()[0].image.ifd).await.unwrap();
    let across = cog.levels()[0].image.blocks_across();
    // Tile rows are stored in order: row 4's request is held back 1.5 s.
    let hold = Duration::from_millis(1500);
    server.slow_from(offsets[(4 * across) as usize], hold);
    let started = Instant::now();
    let first = Arc::new(std::sync::Mutex::new(None));
    let f = first.clone();
    // Tiles x 2..7 of rows 3 and 4.
    let req = ReadRequest::window(Window::new(2 * 128, 3 * 128, 5 * 128, 2 * 128), 0).progress(move |done, _| {
        if done == 1 {
            *f.lock().unwrap() = Some(started.elapsed());
        }
    });
    cog.read_with(req).await.unwrap();
    let total = started.elapsed();
    let log = server.log();
    assert_eq!(log.len(), 2, "one GET per row of tiles: {log:?}");
    assert!(total >= hold, "the held request was not waited for ({total:?})");
    let first = first.lock().unwrap().expect("progress was reported");
    assert!(
        first < hold / 2,
        "the first tile was done {first:?} after the start, with the last request landing at {total:?}"
    );
}

/// 64 concurrent first reads of different tiles load the deferred block
/// arrays once: the server sees the array request(s) one reader needs plus
/// one request per tile (it once saw 128 GETs: the arrays once per task).
/// The tiles are in the last two rows, whose array entries lie past the
/// opening GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_reads_load_the_block_arrays_once() {
    let server = RangeServer::start(fixtures_dir()).await;
    // What one first read costs beyond its tile: the array request(s).
    let one = CogReader::open(&server.url(BIG)).await.unwrap();
    server.clear();
    one.get_tile(0, 46, 0).await.unwrap();
    let array_gets = server.count("GET") - 1;
    assert!(array_gets >= 1, "the arrays of {BIG} lie past the opening GET");

    let cog = CogReader::open(&server.url(BIG)).await.unwrap();
    server.clear();
    // Latency keeps the first load in flight while the other reads start.
    server.set_latency(Duration::from_millis(50));
    let reads: Vec<_> = (0..64u64)
        .map(|i| {
            let cog = cog.clone();
            tokio::spawn(async move { cog.get_tile(i % 40, 46 - i / 40, 0).await })
        })
        .collect();
    for r in reads {
        r.await.unwrap().unwrap();
    }
    assert_eq!(server.count("GET"), 64 + array_gets, "{:#?}", server.log().len());
}

/// Deferred arrays count against `Limits::max_deferred_bytes`: a budget
/// smaller than level 0's arrays refuses the first read before fetching them.
#[tokio::test]
async fn deferred_arrays_count_against_their_budget() {
    let server = RangeServer::start(fixtures_dir()).await;
    let limits = async_cog::Limits::default().with_max_deferred_bytes(1000);
    let cog = CogReader::open_with(&server.url(BIG), Options::default().with_limits(limits))
        .await
        .unwrap();
    server.clear();
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert!(
        matches!(
            e,
            async_cog::Error::LimitExceeded {
                what: "max_deferred_bytes",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(server.count("GET"), 0, "refused before fetching");
    // The default budget reads it.
    let cog = CogReader::open(&server.url(BIG)).await.unwrap();
    cog.get_tile(0, 0, 0).await.unwrap();
}

/// A failed load of the deferred arrays costs nothing against
/// `max_deferred_bytes`: with a budget of exactly level 0's arrays, a read
/// whose array request failed (503) is followed by one that succeeds.
#[tokio::test]
async fn a_failed_array_load_is_not_charged() {
    let server = RangeServer::start(fixtures_dir()).await;
    let probe = CogReader::open(&server.url(BIG)).await.unwrap();
    let level = probe.level(0).unwrap().image.clone();
    let ifd = &probe.ifds()[level.ifd];
    let cost: u64 = [level.offsets_tag(), level.byte_counts_tag()]
        .iter()
        .filter_map(|&t| ifd.entry(t))
        .filter(|e| e.deferred_range().is_some())
        .map(|e| e.count * 8)
        .sum();
    assert!(cost > 0, "level 0's arrays of {BIG} are deferred");
    let limits = async_cog::Limits::default().with_max_deferred_bytes(cost);
    let opts = Options::default().with_limits(limits).with_max_retries(0);
    let cog = CogReader::open_with(&server.url(BIG), opts).await.unwrap();
    server.fail_next(1);
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert!(matches!(e, async_cog::Error::Io { .. }), "{e}");
    cog.get_tile(0, 0, 0).await.unwrap();
}

/// A bounds read served by an overview stored without a mask borrows the
/// mask of a level that has one, and fetches only that level's mask blocks:
/// none of its image blocks (they were once fetched and decoded, then
/// thrown away).
#[tokio::test]
async fn a_borrowed_mask_fetches_no_image_blocks_of_its_level() {
    let rel = "u8_ovr_no_mask.tif";
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open_with(
        &server.url(rel),
        Options::default().with_block_caching(BlockCaching::Off),
    )
    .await
    .unwrap();
    let full = cog.levels()[0].clone();
    let mask = full.mask.clone().expect("level 0 has a mask");
    assert!(cog.levels()[2].mask.is_none(), "level 2 is stored without a mask");
    let offsets = cog.block_offsets(full.image.ifd).await.unwrap();
    let counts = cog.block_byte_counts(full.image.ifd).await.unwrap();
    cog.block_offsets(mask.ifd).await.unwrap();
    cog.block_byte_counts(mask.ifd).await.unwrap();
    server.clear();
    // The whole image at level 2's size: level 2's pixels, level 0's mask.
    let r = cog
        .read_with(ReadRequest::bounds(cog.profile().bounds).shape(50, 45))
        .await
        .unwrap();
    assert_eq!(r.level, 2);
    assert!(
        r.array.mask.iter().any(|&m| m),
        "the borrowed mask marks pixels invalid"
    );
    for l in server.log() {
        let (a, b) = l.range.expect("ranged GET");
        for (i, (&o, &n)) in offsets.iter().zip(counts.iter()).enumerate() {
            assert!(
                b <= o || a >= o + n,
                "request {a}..{b} fetched level 0's image block {i} ({o}..{})",
                o + n
            );
        }
    }
}

/// With the decoded-tile cache (on by default), a repeated read neither
/// fetches nor decodes: every tile comes from the cache, equal to the first.
/// 100 concurrent first readers of one tile share one decode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_tiles_decode_once() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = open_big(&server, Options::default().with_block_caching(BlockCaching::Off)).await;
    let w = Window::new(2 * 128 + 10, 3 * 128 + 5, 5 * 128 - 20, 3 * 128 - 10);
    let a = cog.read_window(w, 0).await.unwrap().array;
    let (decoded, misses) = (cog.stats().tiles_decoded, cog.stats().tile_cache_misses);
    server.clear();
    let b = cog.read_window(w, 0).await.unwrap().array;
    assert_eq!(a, b);
    assert_eq!(server.log().len(), 0, "the repeat fetched");
    assert_eq!(cog.stats().tiles_decoded, decoded, "the repeat decoded");
    assert_eq!(decoded, 15);
    assert_eq!(cog.stats().tile_cache_misses, misses);
    assert_eq!(cog.stats().tile_cache_hits, 15, "3 rows of 5 tiles");

    server.set_latency(Duration::from_millis(50));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let cog = cog.clone();
            tokio::spawn(async move { cog.get_tile(7, 9, 0).await.map(|t| t.array) })
        })
        .collect();
    let mut tiles = Vec::new();
    for t in tasks {
        tiles.push(t.await.unwrap().unwrap());
    }
    assert!(tiles.iter().all(|t| *t == tiles[0]));
    assert_eq!(server.count("GET"), 1, "{:?}", server.log());
    assert_eq!(
        cog.stats().tiles_decoded,
        decoded + 1,
        "the other 99 waited for the one decode"
    );
}

/// A first read loads only the pages of the block arrays that hold its
/// tiles' entries, not the whole arrays (a 200000² sparse COG's arrays are
/// megabytes; GDAL reads them piecewise too). Pixels still equal GDAL's.
#[tokio::test]
async fn a_first_read_fetches_only_its_pages_of_the_block_arrays() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url(BIG)).await.unwrap();
    let opened = server.log().iter().filter_map(|l| l.range).map(|r| r.1).max().unwrap();
    // Level 0's byte counts straddle the end of the opening GET: loading
    // the array whole would fetch the rest of it.
    let counts_range = cog.ifds()[0]
        .entry(async_cog::tiff::Tag::TileByteCounts)
        .unwrap()
        .deferred_range()
        .expect("deferred");
    let whole_rest = counts_range.end - opened.max(counts_range.start);
    assert!(whole_rest > 2048, "{counts_range:?}, opened 0..{opened}");
    server.clear();
    let t = cog.get_tile(20, 46, 0).await.unwrap().array;
    assert_eq!(support::tile_hashes(&t), support::gdal_tile_hashes(BIG, 0, 20, 46));
    let log = server.log();
    let counts = cog.block_byte_counts(0).await.unwrap();
    let tile = counts[46 * 47 + 20] + 8;
    let arrays: u64 = log.iter().map(|l| l.bytes).sum::<u64>() - tile;
    // Entry 2182 of a LONG array lies in its third 4 KiB page.
    assert!(
        arrays <= counts_range.end - (counts_range.start + 2 * 4096),
        "{arrays} bytes of arrays fetched for one tile, {whole_rest} would load the array whole: {log:?}"
    );
}
