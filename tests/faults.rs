//! Faults at a real loopback server (the test support's range server with
//! faults injected): reads that retries can save succeed with the right
//! pixels, answers no retry can fix are clear errors, and the reader stays
//! usable after both.

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_cog::{BlockCaching, CogReader, Error, Options, TileCaching};
use support::{Chaos, RangeServer, fixtures_dir};

const BIG: &str = "u8_big_header.tif";

fn uncached() -> Options {
    Options::default()
        .with_block_caching(BlockCaching::Off)
        .with_tile_caching(TileCaching::Off)
}

/// 1,000 block reads over 64 tasks, with no cache (each read is a request),
/// against a server that answers 5% of ranged GETs with 503, cuts 1% of
/// connections after half the body, and delays every answer by up to 5 ms:
/// every read succeeds, and every block equals the same block decoded from
/// the file's bytes in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_block_reads_survive_injected_faults() {
    let server = RangeServer::start(fixtures_dir()).await;
    let bytes = std::fs::read(fixtures_dir().join(BIG)).unwrap();
    let clean = CogReader::from_bytes(bytes.into(), uncached()).await.unwrap();
    let image = &clean.levels()[0].image;
    let (across, down) = (image.blocks_across(), image.blocks_down());
    let cog = CogReader::open_with(&server.url(BIG), uncached()).await.unwrap();
    server.clear();
    server.set_chaos(Some(Chaos {
        seed: 42,
        unavailable: 0.05,
        reset: 0.01,
        max_delay: Duration::from_millis(5),
    }));
    let (tasks, total) = (64u64, 1000u64);
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (cog, clean, failures) = (cog.clone(), clean.clone(), failures.clone());
            tokio::spawn(async move {
                for k in (t..total).step_by(tasks as usize) {
                    let i = (k * 7) % (across * down);
                    let (x, y) = (i % across, i / across);
                    let want = clean.get_tile(x, y, 0).await.unwrap();
                    match cog.get_tile(x, y, 0).await {
                        Ok(got) if got.array == want.array => {}
                        Ok(_) => failures.lock().unwrap().push(format!("block ({x}, {y}): other pixels")),
                        Err(e) => failures.lock().unwrap().push(format!("block ({x}, {y}): {e}")),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    server.set_chaos(None);
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {total} reads failed: {failures:?}",
        failures.len()
    );
    let log = server.log();
    let unavailable = log.iter().filter(|l| l.status == 503).count();
    let cut = log
        .iter()
        .filter(|l| l.status == 206 && l.range.is_some_and(|(a, b)| l.bytes < b - a))
        .count();
    assert!(
        unavailable >= 20 && cut >= 3,
        "the faults were injected: {unavailable} 503s, {cut} cut bodies in {} answers",
        log.len()
    );
}

/// A 200 with the whole object to a ranged GET, and a 206 whose
/// Content-Range is not the range asked for, cannot be fixed by asking
/// again: each is an `Io` error naming the object and the byte range, and
/// the next read of the same reader succeeds.
#[tokio::test]
async fn a_200_to_a_range_and_a_wrong_content_range_are_clear_errors() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open_with(&server.url(BIG), uncached()).await.unwrap();
    cog.get_tile(0, 0, 0).await.unwrap();
    server.ignore_range_next(20);
    let e = cog.get_tile(1, 0, 0).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "a 200 to a range: {e:?}");
    assert!(e.to_string().contains(BIG), "names the object: {e}");
    server.ignore_range_next(0);
    cog.get_tile(1, 0, 0).await.unwrap();
    server.wrong_range_next(20);
    let e = cog.get_tile(2, 0, 0).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "a wrong Content-Range: {e:?}");
    server.wrong_range_next(0);
    cog.get_tile(2, 0, 0).await.unwrap();
}
