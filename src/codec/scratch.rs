//! Reused output buffers. A decoded chunk is usually copied into its tile
//! (deinterleaved) and dropped; handing it back with [`recycle`] lets the
//! next chunk decoded write into pages already mapped, instead of faulting
//! in fresh zeroed ones (a third of JPEG decoding's time went to page
//! faults). One pool for the process, bounded in bytes: a pool per thread
//! that kept its largest buffers grew with every blocking-pool thread
//! that ever decoded. Pure: no I/O.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// Most buffers kept.
const KEPT: usize = 16;
/// Most bytes kept, all buffers together: the pool is process-wide, so
/// this bounds it whatever number of threads decode.
const KEPT_BYTES: usize = 32 << 20;

/// The process's pool.
static POOL: Mutex<Pool> = Mutex::new(Pool::new());

/// Buffers handed back, oldest first.
struct Pool {
    buffers: VecDeque<Vec<u8>>,
    /// Capacity of all `buffers`.
    bytes: usize,
}

impl Pool {
    const fn new() -> Pool {
        Pool {
            buffers: VecDeque::new(),
            bytes: 0,
        }
    }

    /// The smallest kept buffer of at least `len` bytes and at most an
    /// eighth more, taken out of the pool.
    fn take(&mut self, len: usize) -> Option<Vec<u8>> {
        let fits = |b: &Vec<u8>| b.capacity() >= len && b.capacity() - b.capacity() / 9 <= len;
        let best = (self.buffers.iter().enumerate())
            .filter(|(_, b)| fits(b))
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i)?;
        let b = self.buffers.remove(best)?;
        self.bytes = self.bytes.saturating_sub(b.capacity());
        Some(b)
    }

    /// Keeps `buf`; the oldest buffers make room.
    fn keep(&mut self, buf: Vec<u8>) {
        let size = buf.capacity();
        if size == 0 || size > KEPT_BYTES / 2 {
            return;
        }
        while self.buffers.len() >= KEPT || self.bytes + size > KEPT_BYTES {
            let Some(old) = self.buffers.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(old.capacity());
        }
        self.bytes += size;
        self.buffers.push_back(buf);
    }
}

fn pool() -> MutexGuard<'static, Pool> {
    // A panic while the lock was held leaves a list of plain buffers,
    // still consistent.
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `len` zero bytes, in a recycled buffer when one is large enough and
/// at most an eighth larger (the result may become a cached tile's plane,
/// weighed by its length); the smallest such one is taken.
pub fn zeroed(len: usize) -> Vec<u8> {
    let reused = pool().take(len);
    match reused {
        Some(mut b) => {
            b.clear();
            b.resize(len, 0);
            b
        }
        None => vec![0; len],
    }
}

/// Hands `buf` back for a later [`zeroed`]; the oldest buffers make room.
pub fn recycle(buf: Vec<u8>) {
    pool().keep(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    // On a pool of their own: the process's is shared with every test
    // running beside these.

    #[test]
    fn kept_buffers_are_lent_when_they_fit() {
        let mut p = Pool::new();
        let b = vec![7u8; 1000];
        let ptr = b.as_ptr();
        p.keep(b);
        let again = p.take(900).expect("lent");
        assert_eq!(again.as_ptr(), ptr, "the buffer was reused");
        p.keep(again);
        assert!(p.take(1001).is_none(), "a smaller one is not lent");
        assert!(p.take(800).is_none(), "a much larger one is not lent");
        assert_eq!(p.bytes, 1000);
    }

    #[test]
    fn recycled_buffers_come_back_zeroed() {
        let mut b = zeroed(13_000_001);
        b.fill(7);
        recycle(b);
        let again = zeroed(11_600_000);
        assert_eq!(again.len(), 11_600_000);
        assert!(again.iter().all(|&v| v == 0), "zeroed");
    }

    #[test]
    fn the_pool_stays_within_its_byte_bound() {
        let mut p = Pool::new();
        for _ in 0..40 {
            p.keep(vec![0; 3 << 20]);
            assert!(p.bytes <= KEPT_BYTES, "{} bytes kept", p.bytes);
            assert_eq!(p.bytes, p.buffers.iter().map(Vec::capacity).sum::<usize>());
        }
        let mut p = Pool::new();
        for _ in 0..40 {
            p.keep(vec![0; 1000]);
        }
        assert_eq!(p.buffers.len(), KEPT, "at most {KEPT} buffers");
    }
}
