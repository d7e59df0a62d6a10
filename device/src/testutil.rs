//! Page contents shared by the unit tests.

use crate::geometry::{Page, PAGE_SIZE};

/// An incompressible page (xorshift64 stream seeded by `seed`).
pub fn random_page(seed: u64) -> Box<Page> {
    let mut page: Box<Page> = Box::new([0; PAGE_SIZE]);
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for c in page.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes());
    }
    page
}

/// A page of English-like text that every codec compresses well.
pub fn text_page(seed: u8) -> Box<Page> {
    let words: [&[u8]; 6] = [
        b"memory ",
        b"device ",
        b"compress ",
        b"page ",
        b"cxl ",
        b"node ",
    ];
    let mut page: Box<Page> = Box::new([0; PAGE_SIZE]);
    let mut i = 0;
    let mut k = usize::from(seed);
    while i < PAGE_SIZE {
        let w = words[k % words.len()];
        let n = w.len().min(PAGE_SIZE - i);
        page[i..i + n].copy_from_slice(&w[..n]);
        i += n;
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    page
}

/// One little-endian word repeated over the page.
pub fn same_page(word: u64) -> Box<Page> {
    let mut page: Box<Page> = Box::new([0; PAGE_SIZE]);
    for c in page.chunks_exact_mut(8) {
        c.copy_from_slice(&word.to_le_bytes());
    }
    page
}
