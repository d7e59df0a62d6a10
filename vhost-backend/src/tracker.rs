//! What the daemon remembers about each window page, beside the device
//! model: the hash of the content last stored (so the shadow scanner can
//! tell a page changed without a hint) and whether its host memory was
//! released (`compressed` backing). Per-page work is serialised by a
//! striped lock so the scanner never sees a page half-way through a hint.

use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicU64, Ordering};
use zcxl_device::{Page, PAGE_SIZE};

const STRIPES: usize = 256;

/// Hash of one page: four interleaved multiply-xor lanes over its words.
/// Not cryptographic; it only has to notice that a page changed.
pub fn page_hash(page: &Page) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut lanes = [K, K.rotate_left(16), K.rotate_left(32), K.rotate_left(48)];
    for chunk in page.chunks_exact(32) {
        for (lane, w) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            *lane = (*lane ^ u64::from_le_bytes(b))
                .wrapping_mul(K)
                .rotate_left(29);
        }
    }
    lanes
        .iter()
        .fold(0u64, |acc, l| (acc ^ l).wrapping_mul(K).rotate_left(31))
}

/// The hash of an all-zero page: what every page holds after a reset.
pub fn zero_hash() -> u64 {
    page_hash(&[0; PAGE_SIZE])
}

pub struct PageTracker {
    hashes: Vec<AtomicU64>,
    released: Vec<AtomicU64>,
    locks: Vec<Mutex<()>>,
    zero: u64,
}

impl PageTracker {
    pub fn new(pages: u64) -> Self {
        let zero = zero_hash();
        Self {
            hashes: (0..pages).map(|_| AtomicU64::new(zero)).collect(),
            released: (0..pages.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            zero,
        }
    }

    pub fn pages(&self) -> u64 {
        self.hashes.len() as u64
    }

    /// Serialises work on `page` (hint, read-prepare, scan).
    pub fn lock(&self, page: u64) -> MutexGuard<'_, ()> {
        self.locks[(page % STRIPES as u64) as usize].lock()
    }

    /// Every page's lock, taken in ascending order (as no one else takes
    /// more than one): a device reset holds them so that no hint, scan or
    /// read-prepare straddles it.
    pub fn lock_all(&self) -> Vec<MutexGuard<'_, ()>> {
        self.locks.iter().map(|l| l.lock()).collect()
    }

    pub fn hash(&self, page: u64) -> u64 {
        self.hashes[page as usize].load(Ordering::Relaxed)
    }

    pub fn set_hash(&self, page: u64, hash: u64) {
        self.hashes[page as usize].store(hash, Ordering::Relaxed);
    }

    pub fn set_zero(&self, page: u64) {
        self.set_hash(page, self.zero);
    }

    pub fn released(&self, page: u64) -> bool {
        self.released[(page / 64) as usize].load(Ordering::Acquire) & (1 << (page % 64)) != 0
    }

    pub fn set_released(&self, page: u64, released: bool) {
        let word = &self.released[(page / 64) as usize];
        let bit = 1u64 << (page % 64);
        if released {
            word.fetch_or(bit, Ordering::AcqRel);
        } else {
            word.fetch_and(!bit, Ordering::AcqRel);
        }
    }

    /// Pages whose host memory is released right now.
    pub fn released_count(&self) -> u64 {
        self.released
            .iter()
            .map(|w| u64::from(w.load(Ordering::Relaxed).count_ones()))
            .sum()
    }

    /// Forgets everything (device reset: the window is empty again).
    pub fn reset(&self) {
        for h in &self.hashes {
            h.store(self.zero, Ordering::Relaxed);
        }
        for w in &self.released {
            w.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_notices_any_single_byte_change() {
        let mut page = [0u8; PAGE_SIZE];
        let base = page_hash(&page);
        assert_eq!(base, zero_hash());
        for i in [0, 1, 7, 8, 31, 32, 2048, 4095] {
            page[i] = 1;
            assert_ne!(page_hash(&page), base, "byte {i}");
            page[i] = 0;
        }
    }

    #[test]
    fn lock_all_holds_off_every_page() {
        let t = std::sync::Arc::new(PageTracker::new(1000));
        let all = t.lock_all();
        let (tx, rx) = std::sync::mpsc::channel();
        let t2 = t.clone();
        let worker = std::thread::spawn(move || {
            for page in [0, 1, 255, 256, 999] {
                drop(t2.lock(page));
                tx.send(page).unwrap();
            }
        });
        let wait = std::time::Duration::from_millis(100);
        assert!(
            rx.recv_timeout(wait).is_err(),
            "a page lock while all are held"
        );
        drop(all);
        let got: Vec<u64> = (0..5).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got, [0, 1, 255, 256, 999]);
        worker.join().unwrap();
    }

    #[test]
    fn released_bits_and_reset() {
        let t = PageTracker::new(130);
        t.set_released(129, true);
        t.set_released(3, true);
        assert!(t.released(129) && t.released(3) && !t.released(4));
        assert_eq!(t.released_count(), 2);
        t.set_released(3, false);
        assert_eq!(t.released_count(), 1);
        t.set_hash(5, 42);
        t.reset();
        assert_eq!(t.hash(5), zero_hash());
        assert_eq!(t.released_count(), 0);
    }
}
