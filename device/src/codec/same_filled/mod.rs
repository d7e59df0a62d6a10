//! Same-filled page detection: is the page one 64-bit word repeated?
//!
//! Every stored page goes through this check first, so it has one kernel per
//! instruction set and picks the widest the CPU has, once per process
//! ([`kernel`]). Every kernel has the same shape: compare the last word with
//! the first (a cheap reject for most data pages), then scan the page in
//! chunks, XOR each word against a broadcast of the first word and OR the
//! results, and stop at the first chunk that is not all zero.
//!
//! [`scalar`] is the reference: the SIMD kernels are tested against it on
//! every page shape the tests know, and any CPU without a wider kernel runs it.

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::geometry::{Page, PAGE_SIZE};
use std::sync::OnceLock;

/// A detection kernel. `unsafe` because a kernel may only run on a CPU that
/// has its instruction set; [`kernel`] guarantees that.
type KernelFn = unsafe fn(&Page) -> Option<u64>;

/// One entry of the dispatch table.
#[derive(Clone, Copy)]
pub struct Kernel {
    /// Instruction set, as shown by benchmarks and tests.
    pub name: &'static str,
    run: KernelFn,
}

impl Kernel {
    /// Runs this kernel.
    #[inline]
    pub fn run(&self, page: &Page) -> Option<u64> {
        // SAFETY: `Kernel`s are only handed out by `available()`, which lists
        // a kernel only after checking that the CPU supports its features.
        unsafe { (self.run)(page) }
    }
}

/// The repeated little-endian word if `page` is one word repeated.
#[inline]
pub fn same_filled(page: &Page) -> Option<u64> {
    kernel().run(page)
}

/// The kernel [`same_filled`] uses: the widest one this CPU supports,
/// decided on first use and cached.
pub fn kernel() -> Kernel {
    static CHOSEN: OnceLock<Kernel> = OnceLock::new();
    // `available()` lists the widest kernel first.
    *CHOSEN.get_or_init(|| available()[0])
}

/// Every kernel this CPU can run, widest first; the scalar one is last.
pub fn available() -> &'static [Kernel] {
    static LIST: OnceLock<Vec<Kernel>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list = Vec::new();
        #[cfg(target_arch = "x86_64")]
        x86::detect(&mut list);
        #[cfg(target_arch = "aarch64")]
        neon::detect(&mut list);
        list.push(Kernel {
            name: "scalar",
            run: scalar_kernel,
        });
        list
    })
}

/// Reads the little-endian word at word index `i`.
#[inline(always)]
fn word(page: &Page, i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&page[i * 8..i * 8 + 8]);
    u64::from_le_bytes(w)
}

/// The reference kernel: 64-byte chunks of eight words, OR-reduced, so the
/// compiler can vectorise the inner loop with the baseline instruction set.
pub fn scalar(page: &Page) -> Option<u64> {
    let first = word(page, 0);
    if word(page, PAGE_SIZE / 8 - 1) != first {
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

/// [`scalar`] with the kernel signature.
///
/// # Safety
/// None: it runs on any CPU. `unsafe` only to fit [`KernelFn`].
unsafe fn scalar_kernel(page: &Page) -> Option<u64> {
    scalar(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filled(w: u64) -> Page {
        let mut page = [0u8; PAGE_SIZE];
        for c in page.chunks_exact_mut(8) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        page
    }

    /// Asserts every kernel agrees with the scalar reference on `page`.
    fn all_agree(page: &Page) -> Option<u64> {
        let want = scalar(page);
        for k in available() {
            assert_eq!(k.run(page), want, "kernel {}", k.name);
        }
        assert_eq!(same_filled(page), want);
        want
    }

    #[test]
    fn detects_repeated_words_and_rejects_any_difference() {
        assert_eq!(all_agree(&[0; PAGE_SIZE]), Some(0));
        for w in [0x0102_0304_0506_0708u64, u64::MAX, 1, 1 << 63] {
            let page = filled(w);
            assert_eq!(all_agree(&page), Some(w));
            // A single flipped bit anywhere, in every chunk position any
            // kernel has, is found by every kernel.
            for pos in 0..PAGE_SIZE {
                let mut p = page;
                p[pos] ^= 1 << (pos % 8);
                assert_eq!(all_agree(&p), None, "flip at {pos}, word {w:#x}");
            }
        }
    }

    #[test]
    fn the_widest_kernel_is_chosen_and_scalar_is_always_there() {
        let list = available();
        assert_eq!(list.last().map(|k| k.name), Some("scalar"));
        assert_eq!(kernel().name, list[0].name);
        #[cfg(target_arch = "x86_64")]
        assert!(list.iter().any(|k| k.name == "sse2"), "sse2 is baseline");
    }

    proptest! {
        #[test]
        fn kernels_match_scalar_on_patterned_pages(
            w in any::<u64>(),
            edits in proptest::collection::vec((0..PAGE_SIZE, any::<u8>()), 0..3),
        ) {
            let mut page = filled(w);
            for (pos, b) in edits {
                page[pos] = b;
            }
            all_agree(&page);
        }
    }
}
