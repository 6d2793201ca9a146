//! What `ReadStats` reports: decoding time is CPU time, so it never exceeds
//! the CPU the process used, even while other processes crowd the cores
//! (summed wall time would: a decoding thread waiting for a core counts).

use std::process::{Child, Command};

use async_cog::{CogReader, Options, TileCaching};
use bytes::Bytes;

mod support;
use support::fixtures_dir;

/// User + system CPU time of this process, in milliseconds (Linux).
fn process_cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15 of the whole line, in clock ticks (100 per second).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks * 10
}

struct Hogs(Vec<Child>);

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decoding_time_is_cpu_time_not_time_spent_waiting_for_a_core() {
    let bytes = std::fs::read(fixtures_dir().join("real/hot-oam_drone_jpeg_mask.tif")).unwrap();
    let options = Options::default().with_tile_caching(TileCaching::Off);
    let cog = CogReader::from_bytes(Bytes::from(bytes), options).await.unwrap();
    let level = cog.level(0).unwrap().clone();
    let tiles: Vec<(u64, u64)> = (0..level.image.blocks_down())
        .flat_map(|y| (0..level.image.blocks_across()).map(move |x| (x, y)))
        .collect();
    cog.read_blocks(0, &tiles).await.unwrap();
    // Three busy processes per core compete with the decoding threads.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let _hogs = Hogs(
        (0..3 * cores)
            .map(|_| Command::new("sh").args(["-c", "while :; do :; done"]).spawn().unwrap())
            .collect(),
    );
    let (cpu0, dec0) = (process_cpu_ms(), cog.stats().decoding);
    for _ in 0..4 {
        cog.read_blocks(0, &tiles).await.unwrap();
    }
    let cpu = process_cpu_ms() - cpu0;
    let decoding = (cog.stats().decoding - dec0).as_millis() as u64;
    assert!(decoding > 0, "no decoding time recorded");
    // 20 ms of slack for the 10 ms resolution of the process clock.
    assert!(
        decoding <= cpu + 20,
        "decoding reported {decoding} ms but the process used {cpu} ms of CPU"
    );
}
