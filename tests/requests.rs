//! Request counts, as the local HTTP server saw them: a header larger than
//! the opening GET costs few requests and no byte twice; deferred arrays are
//! loaded in merged requests, once, however many tasks ask.

mod support;

use async_cog::{CogReader, Options};
use support::{Logged, RangeServer, fixtures_dir};

const BIG: &str = "u8_big_header.tif";

/// Asserts that no two served ranges overlap, and returns their total.
fn assert_disjoint(log: &[Logged]) -> u64 {
    let mut ranges: Vec<(u64, u64)> = log.iter().filter_map(|l| l.range).collect();
    assert_eq!(ranges.len(), log.len(), "every request is ranged: {log:?}");
    ranges.sort();
    for w in ranges.windows(2) {
        assert!(w[0].1 <= w[1].0, "bytes fetched twice: {:?} and {:?}", w[0], w[1]);
    }
    ranges.iter().map(|(a, b)| b - a).sum()
}

#[tokio::test]
async fn header_past_the_prefetch_costs_few_gets_and_no_byte_twice() {
    let server = RangeServer::start(fixtures_dir()).await;
    // The IFD chain of u8_big_header.tif ends at byte 1612 and its arrays at
    // 25436; a 1 KiB prefetch forces the chain walk to fetch more.
    for prefetch in [16u64, 256, 1024, 4096] {
        server.clear();
        let opts = Options::default().with_ingested_bytes_at_open(prefetch);
        let cog = CogReader::open_with(&server.url(BIG), opts).await.unwrap();
        assert_eq!(cog.levels().len(), 7);
        let log = server.log();
        assert!(log.len() <= 3, "prefetch {prefetch}: {} GETs: {log:?}", log.len());
        assert_eq!(
            log.iter().filter(|l| l.range.map(|r| r.0) == Some(0)).count(),
            1,
            "byte 0 fetched once"
        );
        assert_disjoint(&log);
        assert_eq!(server.count("HEAD"), 0);
    }
}

#[tokio::test]
async fn ifd_at_the_end_of_the_file_costs_two_gets() {
    // bigtiff_motorola.tif keeps its IFD at the end of its 12480 bytes.
    let server = RangeServer::start(fixtures_dir()).await;
    let opts = Options::default().with_ingested_bytes_at_open(1024);
    CogReader::open_with(&server.url("real/bigtiff_motorola.tif"), opts)
        .await
        .unwrap();
    let log = server.log();
    assert!(log.len() <= 2, "{log:?}");
    assert_disjoint(&log);
}

#[tokio::test]
async fn deferred_arrays_load_in_one_merged_request_and_skip_prefetched_bytes() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url(BIG)).await.unwrap();
    assert_eq!(
        server.count("GET"),
        1,
        "opening is one GET although the arrays end at 25436"
    );
    let wanted: Vec<(usize, async_cog::tiff::Tag)> = cog
        .levels()
        .iter()
        .map(|l| (l.image.ifd, l.image.byte_counts_tag()))
        .collect();
    cog.load_tag_arrays(&wanted).await.unwrap();
    let log = server.log();
    assert_eq!(log.len(), 2, "all 7 levels' byte counts in one more GET: {log:?}");
    assert_disjoint(&log);
    // Every level's counts are complete and were loaded once.
    for l in cog.levels() {
        let counts = cog.block_byte_counts(l.image.ifd).await.unwrap();
        assert_eq!(counts.len() as u64, l.image.block_count);
        assert!(counts.iter().all(|&c| c > 0));
    }
    assert_eq!(server.log().len(), 2, "loaded arrays cost nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_array_share_one_request() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url(BIG)).await.unwrap();
    server.clear();
    server.set_latency(std::time::Duration::from_millis(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cog = cog.clone();
            tokio::spawn(async move { cog.block_offsets(2).await.map(|a| a.len()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(
            t.await.unwrap().unwrap(),
            144,
            "IFD 2 is the 1500x1500 overview: 12x12 tiles"
        );
    }
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
}
