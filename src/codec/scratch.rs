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

/// Buffers handed back, oldest first.
static POOL: Mutex<Pool> = Mutex::new(Pool {
    buffers: VecDeque::new(),
    bytes: 0,
});

struct Pool {
    buffers: VecDeque<Vec<u8>>,
    /// Capacity of all `buffers`.
    bytes: usize,
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
    let reused = {
        let mut p = pool();
        let fits = |b: &Vec<u8>| b.capacity() >= len && b.capacity() - b.capacity() / 9 <= len;
        let best = (p.buffers.iter().enumerate())
            .filter(|(_, b)| fits(b))
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        let taken = best.and_then(|i| p.buffers.remove(i));
        if let Some(b) = &taken {
            p.bytes = p.bytes.saturating_sub(b.capacity());
        }
        taken
    };
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
    let size = buf.capacity();
    if size == 0 || size > KEPT_BYTES / 2 {
        return;
    }
    let mut p = pool();
    while p.buffers.len() >= KEPT || p.bytes + size > KEPT_BYTES {
        let Some(old) = p.buffers.pop_front() else {
            break;
        };
        p.bytes = p.bytes.saturating_sub(old.capacity());
    }
    p.bytes += size;
    p.buffers.push_back(buf);
}

/// Bytes the pool holds now.
#[cfg(test)]
fn kept_bytes() -> usize {
    pool().bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    // The pool is shared with every test running beside these, so sizes
    // here are ones no codec test decodes.

    #[test]
    fn recycled_buffers_come_back_zeroed() {
        let mut b = zeroed(13_000_001);
        b.fill(7);
        let ptr = b.as_ptr();
        recycle(b);
        let again = zeroed(11_600_000);
        assert_eq!(again.as_ptr(), ptr, "the buffer was reused");
        assert_eq!(again.len(), 11_600_000);
        assert!(again.iter().all(|&v| v == 0), "and zeroed");
        recycle(zeroed(14_000_003));
        assert_eq!(
            zeroed(5_000_000).capacity(),
            5_000_000,
            "a much larger one is not lent out"
        );
    }

    #[test]
    fn the_pool_stays_within_its_byte_bound() {
        for _ in 0..40 {
            recycle(vec![0; 3 << 20]);
            assert!(kept_bytes() <= KEPT_BYTES, "{} bytes kept", kept_bytes());
        }
    }
}
