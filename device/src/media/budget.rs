//! The media budget: one counter of media bytes in use, shared by the arena
//! (slabs) and the page table (per-page metadata).
//!
//! Reservations are all-or-nothing, so concurrent stores can never push the
//! total past the media capacity, and the counter is exactly the media use
//! the device reports.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct MediaBudget {
    capacity: u64,
    used: AtomicU64,
}

impl MediaBudget {
    pub fn new(capacity: u64) -> Self {
        Self {
            capacity,
            used: AtomicU64::new(0),
        }
    }

    /// Takes `bytes` if they fit; `false` (and nothing taken) otherwise.
    pub fn reserve(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&n| n <= self.capacity)
            })
            .is_ok()
    }

    /// Gives back bytes taken with [`MediaBudget::reserve`].
    pub fn release(&self, bytes: u64) {
        let prev = self.used.fetch_sub(bytes, Ordering::AcqRel);
        debug_assert!(prev >= bytes, "media budget released more than reserved");
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_never_exceed_capacity() {
        let b = MediaBudget::new(100);
        assert!(b.reserve(60));
        assert!(!b.reserve(41));
        assert_eq!(b.used(), 60);
        assert!(b.reserve(40));
        assert!(!b.reserve(1));
        b.release(100);
        assert_eq!(b.used(), 0);
        assert!(!b.reserve(u64::MAX));
    }

    #[test]
    fn concurrent_reservations_stop_exactly_at_capacity() {
        let b = std::sync::Arc::new(MediaBudget::new(10_000));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || (0..10_000).filter(|_| b.reserve(3)).count())
            })
            .collect();
        let granted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(granted, 3333);
        assert_eq!(b.used(), 9999);
    }
}
