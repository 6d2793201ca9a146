//! Soak: open + read + drop cycles over every fixture, through one shared
//! block cache and one shared tile cache (8 MiB each), at the HTTP range
//! server. Resident memory after a warm-up stays within the two budgets
//! plus a fixed margin, and the curve is printed. Leaks are judged on live
//! heap bytes (a counting allocator) less what the two caches hold, not on
//! RSS, which the allocator's fragmentation and the caches' filling move
//! by several KiB per cycle: that figure's trend over the second half
//! stays below 8 KiB per cycle. Leaking one reader per cycle shows as
//! about 33 KiB; cached blocks pinning a partly evicted merged response
//! move it by up to 4. `cargo test` runs 2,000 cycles;
//! `ASYNC_COG_SOAK_CYCLES=10000 cargo test --release --test soak
//! -- --nocapture` runs the long form.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_cog::{BlockCache, CogReader, Options, TileCache, TileCaching};
use support::{RangeServer, fixtures_dir};

const BUDGET: u64 = 8 << 20;
/// Allocator slack, thread stacks and the server's own file copies.
const MARGIN: u64 = 40 << 20;
/// The most live heap bytes outside the caches may grow per cycle over
/// the second half of the run.
const MAX_SLOPE: f64 = 8.0 * 1024.0;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is
// updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Least-squares slope of `points` (cycle, bytes), in bytes per cycle.
fn slope(points: &[(usize, u64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), &(c, b)| (x + c as f64 / n, y + b as f64 / n));
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), &(c, b)| {
        let dx = c as f64 - mx;
        (num + dx * (b as f64 - my), den + dx * dx)
    });
    if den == 0.0 { 0.0 } else { num / den }
}

/// Resident set size of this process, in bytes (Linux).
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_read_drop_cycles_stay_within_the_cache_budgets() {
    let cycles: usize = std::env::var("ASYNC_COG_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let server = RangeServer::start(fixtures_dir()).await;
    let mut files: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tif"))
        .collect();
    files.sort();
    let blocks = Arc::new(BlockCache::new(BUDGET));
    let tiles = Arc::new(TileCache::new(BUDGET));
    let options = Options::default()
        .with_shared_block_cache(blocks.clone())
        .with_tile_caching(TileCaching::Shared(tiles.clone()));
    let warmup = files.len().min(cycles);
    let mut baseline = 0;
    let mut peak = 0;
    let mut curve = Vec::new();
    let mut samples = Vec::new();
    for i in 0..cycles {
        let url = server.url(&files[i % files.len()]);
        let cog = CogReader::open_with(&url, options.clone()).await.unwrap();
        // Every fixture's first block, and a small preview (some fail by
        // design, e.g. unsupported layouts: a failed read is still a cycle).
        let _ = cog.get_tile(0, 0, 0).await;
        let _ = cog.preview(64).await;
        drop(cog);
        if i + 1 == warmup {
            baseline = rss().unwrap_or(0);
        }
        if i + 1 >= warmup {
            let now = rss().unwrap_or(0);
            peak = peak.max(now);
            if (i + 1) % (cycles / 100).max(1) == 0 && i + 1 > cycles / 2 {
                let cached = blocks.weighted_size().await + tiles.weighted_size().await;
                let live = LIVE.load(Ordering::Relaxed) as u64;
                samples.push((i + 1, live.saturating_sub(cached)));
            }
            if (i + 1) % (cycles / 10).max(1) == 0 {
                curve.push((i + 1, now >> 20));
            }
        }
        server.clear();
    }
    let trend = slope(&samples);
    println!(
        "soak: {cycles} cycles, RSS after warm-up {} MiB, peak {} MiB, second-half trend of live heap outside the caches {:.1} KiB/cycle, block cache {} MiB, tile cache {} MiB; curve (cycle, MiB): {curve:?}",
        baseline >> 20,
        peak >> 20,
        trend / 1024.0,
        blocks.weighted_size().await >> 20,
        tiles.weighted_size().await >> 20,
    );
    assert!(
        peak.saturating_sub(baseline) <= 2 * BUDGET + MARGIN,
        "RSS grew by {} MiB over {cycles} cycles (budgets 2 x {} MiB + {} MiB margin): {curve:?}",
        peak.saturating_sub(baseline) >> 20,
        BUDGET >> 20,
        MARGIN >> 20
    );
    assert!(
        trend <= MAX_SLOPE,
        "live heap outside the caches still grows by {:.1} KiB per cycle over the second half: {samples:?}",
        trend / 1024.0
    );
}
