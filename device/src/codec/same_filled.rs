//! Same-filled page detection: is the page one 64-bit word repeated?

use crate::geometry::Page;

/// The repeated little-endian word if `page` is one word repeated.
///
/// Checks the last word first (a cheap reject for most data pages), then
/// compares 64-byte chunks against a broadcast of the first word with an
/// OR-reduction per chunk, so the compiler vectorises the inner loop and the
/// scan stops at the first differing chunk.
pub fn same_filled(page: &Page) -> Option<u64> {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&page[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let first = word(0);
    if word(page.len() / 8 - 1) != first {
        return None;
    }
    for chunk in page.chunks_exact(64) {
        let mut diff = 0u64;
        for w in chunk.chunks_exact(8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            diff |= u64::from_le_bytes(b) ^ first;
        }
        if diff != 0 {
            return None;
        }
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::PAGE_SIZE;

    #[test]
    fn detects_repeated_words_and_rejects_any_difference() {
        assert_eq!(same_filled(&[0; PAGE_SIZE]), Some(0));
        let mut page = [0u8; PAGE_SIZE];
        for c in page.chunks_exact_mut(8) {
            c.copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
        }
        assert_eq!(same_filled(&page), Some(0x0102_0304_0506_0708));
        for pos in [0, 1, 63, 64, 2047, 4000, PAGE_SIZE - 1] {
            let mut p = page;
            p[pos] ^= 0x80;
            assert_eq!(same_filled(&p), None, "flip at {pos}");
        }
    }
}
