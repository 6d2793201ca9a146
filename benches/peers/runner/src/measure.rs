//! Wall time, process CPU time and peak RSS around a measured part.

use std::time::Instant;

use serde_json::{Value, json};

/// A measurement in progress.
pub struct Span {
    wall: Instant,
    cpu_us: u64,
    maxrss_kb: i64,
}

fn usage() -> libc::rusage {
    // SAFETY: an all-zero rusage is a valid value for getrusage to fill.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u
}

fn cpu_us(u: &libc::rusage) -> u64 {
    let t = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    t(u.ru_utime) + t(u.ru_stime)
}

impl Span {
    /// Starts measuring.
    pub fn start() -> Span {
        let u = usage();
        Span {
            wall: Instant::now(),
            cpu_us: cpu_us(&u),
            maxrss_kb: u.ru_maxrss,
        }
    }

    /// Stops: `wall_ms`, `cpu_ms`, `peak_rss_growth_kb`.
    pub fn stop(self) -> Value {
        let wall = self.wall.elapsed();
        let u = usage();
        json!({
            "wall_ms": wall.as_secs_f64() * 1e3,
            "cpu_ms": (cpu_us(&u) - self.cpu_us) as f64 / 1e3,
            "peak_rss_growth_kb": u.ru_maxrss - self.maxrss_kb,
        })
    }
}

/// Stores `count` per second of `clock` (`"wall_ms"` or `"cpu_ms"`) under
/// `key`.
pub fn rate(out: &mut Value, key: &str, count: f64, clock: &str) {
    let seconds = out[clock].as_f64().unwrap_or(f64::NAN) / 1e3;
    out[key] = json!(count / seconds);
}

/// The figures of a decode of a `w` x `h` image: megapixels, and
/// megapixels per CPU-second.
pub fn decoded(out: &mut Value, w: u64, h: u64) {
    let mpx = (w * h) as f64 / 1e6;
    out["mpx"] = json!(mpx);
    rate(out, "mpx_per_cpu_s", mpx, "cpu_ms");
}
