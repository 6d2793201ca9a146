//! Reused output buffers. A decoded chunk is usually copied into its tile
//! (deinterleaved) and dropped; handing it back with [`recycle`] lets the
//! next chunk decoded on the same thread write into pages already mapped,
//! instead of faulting in fresh zeroed ones (a third of JPEG decoding's
//! time went to page faults). Pure: thread-local, no I/O.

use std::cell::RefCell;

/// Buffers kept per thread.
const KEPT: usize = 4;
/// Larger buffers are not kept (a blocking-pool thread would hold them).
const MAX_KEPT_BYTES: usize = 16 << 20;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// `len` zero bytes, in a recycled buffer when one is large enough and
/// not more than twice as large (the result may become a cached tile's
/// plane, weighed by its length).
pub fn zeroed(len: usize) -> Vec<u8> {
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let fits = |b: &Vec<u8>| b.capacity() >= len && b.capacity() / 2 <= len;
        let i = p.iter().position(fits)?;
        Some(p.swap_remove(i))
    });
    match reused {
        Some(mut b) => {
            b.clear();
            b.resize(len, 0);
            b
        }
        None => vec![0; len],
    }
}

/// Hands `buf` back for a later [`zeroed`] on this thread.
pub fn recycle(buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_BYTES {
        return;
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < KEPT {
            p.push(buf);
        } else if let Some(smallest) = p.iter_mut().min_by_key(|b| b.capacity())
            && smallest.capacity() < buf.capacity()
        {
            *smallest = buf;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_buffers_come_back_zeroed() {
        let mut b = zeroed(1000);
        b.fill(7);
        let ptr = b.as_ptr();
        recycle(b);
        let again = zeroed(500);
        assert_eq!(again.as_ptr(), ptr, "the buffer was reused");
        assert_eq!(again.len(), 500);
        assert!(again.iter().all(|&v| v == 0), "and zeroed");
        assert!(zeroed(2000).len() == 2000, "a larger one is new");
        recycle(zeroed(4000));
        assert_eq!(zeroed(100).capacity(), 100, "a much larger one is not lent out");
    }
}
