//! AArch64 kernel: NEON (baseline on AArch64), 64-byte chunks.

use super::{Kernel, Page};
use crate::geometry::PAGE_SIZE;
use std::arch::aarch64::*;

pub(super) fn detect(list: &mut Vec<Kernel>) {
    if std::arch::is_aarch64_feature_detected!("neon") {
        list.push(Kernel {
            name: "neon",
            run: neon,
        });
    }
}

/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
unsafe fn neon(page: &Page) -> Option<u64> {
    let first = super::word(page, 0);
    if super::word(page, PAGE_SIZE / 8 - 1) != first {
        return None;
    }
    let pattern = vdupq_n_u64(first);
    for chunk in page.chunks_exact(64) {
        let p = chunk.as_ptr();
        // SAFETY: `chunk` is 64 bytes: the four 16-byte loads at 0, 16, 32
        // and 48 stay inside it (vld1q has no alignment requirement).
        let (a, b, c, d) = unsafe {
            (
                vld1q_u8(p),
                vld1q_u8(p.add(16)),
                vld1q_u8(p.add(32)),
                vld1q_u8(p.add(48)),
            )
        };
        let x = |v: uint8x16_t| veorq_u64(vreinterpretq_u64_u8(v), pattern);
        let diff = vorrq_u64(vorrq_u64(x(a), x(b)), vorrq_u64(x(c), x(d)));
        if vmaxvq_u32(vreinterpretq_u32_u64(diff)) != 0 {
            return None;
        }
    }
    Some(first)
}
