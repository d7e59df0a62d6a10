//! Match-length extension: how many bytes two positions of a page share.
//!
//! [`count_scalar`] is the reference (8 bytes per step, safe);
//! [`count_wide`] compares 16 bytes per iteration without bounds checks.
//! Both return the same length, which the tests check on random and
//! adversarial inputs. [`split_at_difference`] serves the compressor's
//! common case, a match that ends within its first 8 bytes.

use crate::geometry::{Page, PAGE_SIZE};

/// Length of the common prefix of `page[a..end]` and `page[b..]`, `b < a`.
#[inline(always)]
pub fn count_scalar(page: &Page, a: usize, b: usize, end: usize) -> usize {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&page[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let mut n = 0;
    while a + n + 8 <= end {
        let diff = word(a + n) ^ word(b + n);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while a + n < end && page[a + n] == page[b + n] {
        n += 1;
    }
    n
}

/// [`count_scalar`] without bounds checks, 16 bytes per iteration as two
/// independent 8-byte comparisons. (An SSE2 compare + movemask version
/// measured slower: its mask extraction sits on the path to the exit
/// branch.)
///
/// # Safety
/// `b < a <= end <= PAGE_SIZE`.
#[inline(always)]
pub unsafe fn count_wide(page: &Page, a: usize, b: usize, end: usize) -> usize {
    let p = page.as_ptr();
    let word = |i: usize| {
        debug_assert!(i + 8 <= PAGE_SIZE);
        // SAFETY: every call below reads at i with i + 8 <= a + n + 16 <=
        // end <= PAGE_SIZE (or the same for b < a).
        u64::from_le(unsafe { p.add(i).cast::<u64>().read_unaligned() })
    };
    let mut n = 0;
    while a + n + 16 <= end {
        // b < a, so b + n + 16 <= end as well.
        let x = word(a + n) ^ word(b + n);
        if x != 0 {
            return n + (x.trailing_zeros() / 8) as usize;
        }
        let y = word(a + n + 8) ^ word(b + n + 8);
        if y != 0 {
            return n + 8 + (y.trailing_zeros() / 8) as usize;
        }
        n += 16;
    }
    // Fewer than 16 bytes left: the reference finishes.
    n + count_scalar(page, a + n, b + n, end)
}

/// Where a match ends inside its first 8 bytes, and what follows it.
///
/// `lo` and `hi` are the words at positions `a` and `a + 8`, and `x` is
/// `lo` XOR the word at the match source, not zero. Returns the match
/// length (0..8) and the 8 bytes at `a` + that length, shifted out of
/// `lo` and `hi` rather than loaded again. The compressor hashes those
/// bytes to look for the next match straight away; taking them from
/// registers keeps a load whose address hangs on the match length off the
/// chain that the (often mispredicted) check for that match waits for.
#[inline(always)]
pub fn split_at_difference(lo: u64, hi: u64, x: u64) -> (usize, u64) {
    debug_assert!(x != 0);
    // Whole bytes (0..=56 bits): the low 64 bits of the shifted pair are
    // bytes sh / 8 .. sh / 8 + 8 of the 16 bytes at `a`.
    let sh = x.trailing_zeros() & 56;
    let next = ((u128::from(hi) << 64 | u128::from(lo)) >> sh) as u64;
    ((sh / 8) as usize, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn wide_count_matches_scalar(
            seed in any::<u64>(),
            period in 1usize..40,
            b in 0usize..PAGE_SIZE,
            gap in 1usize..PAGE_SIZE,
            flip in any::<usize>(),
        ) {
            // A periodic page with one flipped byte gives long matches that
            // end at every possible offset within a 16-byte block.
            let mut page = [0u8; PAGE_SIZE];
            let mut x = seed | 1;
            let pattern: Vec<u8> = (0..period).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x as u8 }).collect();
            for (i, byte) in page.iter_mut().enumerate() {
                *byte = pattern[i % period];
            }
            page[flip % PAGE_SIZE] ^= 0x40;
            let a = (b + gap).min(PAGE_SIZE - 1);
            prop_assume!(b < a);
            for end in [a, (a + 3).min(PAGE_SIZE), (a + 100).min(PAGE_SIZE), PAGE_SIZE] {
                let want = count_scalar(&page, a, b, end);
                // SAFETY: b < a <= end <= PAGE_SIZE.
                let got = unsafe { count_wide(&page, a, b, end) };
                prop_assert_eq!(got, want, "a={} b={} end={}", a, b, end);
                prop_assert!(a + want <= end);
            }
        }
    }

    #[test]
    fn a_difference_splits_the_words_where_the_bytes_do() {
        let bytes: [u8; 16] = *b"0123456789abcdef";
        let lo = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        let hi = u64::from_le_bytes(bytes[8..].try_into().unwrap());
        for first in 0..8 {
            for bit in 0..8 {
                // The source agrees on bytes 0..first, then differs in one bit
                // of byte `first` (and maybe later bytes, which must not count).
                let mut source = bytes;
                source[first] ^= 1 << bit;
                if first < 7 {
                    source[7] ^= 0x80;
                }
                let x = lo ^ u64::from_le_bytes(source[..8].try_into().unwrap());
                let want = u64::from_le_bytes(bytes[first..first + 8].try_into().unwrap());
                assert_eq!(split_at_difference(lo, hi, x), (first, want));
            }
        }
    }

    #[test]
    fn counts_stop_at_the_first_difference_and_at_end() {
        let mut page = [7u8; PAGE_SIZE];
        assert_eq!(count_scalar(&page, 100, 0, PAGE_SIZE), PAGE_SIZE - 100);
        page[100 + 37] = 1;
        assert_eq!(count_scalar(&page, 100, 0, PAGE_SIZE), 37);
        // SAFETY: 0 < 100 <= PAGE_SIZE.
        assert_eq!(unsafe { count_wide(&page, 100, 0, PAGE_SIZE) }, 37);
        assert_eq!(count_scalar(&page, 100, 0, 120), 20);
        // SAFETY: 0 < 100 <= 120 <= PAGE_SIZE.
        assert_eq!(unsafe { count_wide(&page, 100, 0, 120) }, 20);
    }
}
