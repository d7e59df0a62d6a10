//! x86-64 kernels: SSE2 (baseline), AVX2 and AVX-512F.
//!
//! Each kernel XORs a 256-byte chunk against the broadcast first word, ORs
//! the results into one register and tests it, so a data page is rejected
//! after at most one chunk past its first difference.

use super::{Kernel, Page};
use crate::geometry::PAGE_SIZE;
use std::arch::x86_64::*;

pub(super) fn detect(list: &mut Vec<Kernel>) {
    if is_x86_feature_detected!("avx512f") {
        list.push(Kernel {
            name: "avx512",
            run: avx512,
        });
    }
    if is_x86_feature_detected!("avx2") {
        list.push(Kernel {
            name: "avx2",
            run: avx2,
        });
    }
    // SSE2 is part of x86-64: always there.
    list.push(Kernel {
        name: "sse2",
        run: sse2,
    });
}

/// Bytes compared per early-exit test.
const CHUNK: usize = 256;

/// First word, or `None` if the last word already differs from it.
#[inline(always)]
fn first_word(page: &Page) -> Option<u64> {
    let first = super::word(page, 0);
    (super::word(page, PAGE_SIZE / 8 - 1) == first).then_some(first)
}

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn avx512(page: &Page) -> Option<u64> {
    let first = first_word(page)?;
    let pattern = _mm512_set1_epi64(first as i64);
    for chunk in page.chunks_exact(CHUNK) {
        let p = chunk.as_ptr();
        // SAFETY: `chunk` is 256 bytes, so the four unaligned 64-byte loads
        // at offsets 0, 64, 128 and 192 stay inside it.
        let (a, b, c, d) = unsafe {
            (
                _mm512_loadu_si512(p.cast()),
                _mm512_loadu_si512(p.add(64).cast()),
                _mm512_loadu_si512(p.add(128).cast()),
                _mm512_loadu_si512(p.add(192).cast()),
            )
        };
        let diff = _mm512_or_si512(
            _mm512_or_si512(_mm512_xor_si512(a, pattern), _mm512_xor_si512(b, pattern)),
            _mm512_or_si512(_mm512_xor_si512(c, pattern), _mm512_xor_si512(d, pattern)),
        );
        if _mm512_test_epi64_mask(diff, diff) != 0 {
            return None;
        }
    }
    Some(first)
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn avx2(page: &Page) -> Option<u64> {
    let first = first_word(page)?;
    let pattern = _mm256_set1_epi64x(first as i64);
    for chunk in page.chunks_exact(CHUNK) {
        let p = chunk.as_ptr().cast::<__m256i>();
        let mut diff = _mm256_setzero_si256();
        for i in 0..CHUNK / 32 {
            // SAFETY: i < 8, so the 32-byte unaligned load at 32 * i stays
            // inside the 256-byte chunk.
            let v = unsafe { _mm256_loadu_si256(p.add(i)) };
            diff = _mm256_or_si256(diff, _mm256_xor_si256(v, pattern));
        }
        if _mm256_testz_si256(diff, diff) == 0 {
            return None;
        }
    }
    Some(first)
}

/// # Safety
/// None beyond x86-64 itself (SSE2 is baseline); `unsafe` to fit the table.
#[target_feature(enable = "sse2")]
unsafe fn sse2(page: &Page) -> Option<u64> {
    let first = first_word(page)?;
    let pattern = _mm_set1_epi64x(first as i64);
    let zero = _mm_setzero_si128();
    for chunk in page.chunks_exact(CHUNK) {
        let p = chunk.as_ptr().cast::<__m128i>();
        let mut diff = _mm_setzero_si128();
        for i in 0..CHUNK / 16 {
            // SAFETY: i < 16, so the 16-byte unaligned load at 16 * i stays
            // inside the 256-byte chunk.
            let v = unsafe { _mm_loadu_si128(p.add(i)) };
            diff = _mm_or_si128(diff, _mm_xor_si128(v, pattern));
        }
        if _mm_movemask_epi8(_mm_cmpeq_epi8(diff, zero)) != 0xffff {
            return None;
        }
    }
    Some(first)
}
