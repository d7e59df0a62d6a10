//! Safe wrappers around the C reference LZ4 (liblz4 via `lz4-sys`), used to
//! cross-check our blobs in both directions (tests, fuzz targets) and as the
//! yardstick of the benchmarks. Not used by the device itself.

use crate::geometry::{Page, PAGE_SIZE};
use std::os::raw::{c_char, c_int};

/// `LZ4_compress_default`: `None` if the blob does not fit in `out`.
pub fn compress_default(page: &Page, out: &mut [u8]) -> Option<usize> {
    let cap = c_int::try_from(out.len()).unwrap_or(c_int::MAX);
    // SAFETY: `page` is PAGE_SIZE readable bytes and `out` has `cap`
    // writable bytes; liblz4 writes at most `cap` bytes.
    let n = unsafe {
        lz4_sys::LZ4_compress_default(
            page.as_ptr().cast::<c_char>(),
            out.as_mut_ptr().cast::<c_char>(),
            PAGE_SIZE as c_int,
            cap,
        )
    };
    usize::try_from(n).ok().filter(|&n| n > 0)
}

/// `LZ4_compress_fast` at `acceleration` (1 = default).
pub fn compress_fast(page: &Page, acceleration: i32, out: &mut [u8]) -> Option<usize> {
    let cap = c_int::try_from(out.len()).unwrap_or(c_int::MAX);
    // SAFETY: as in `compress_default`.
    let n = unsafe {
        lz4_sys::LZ4_compress_fast(
            page.as_ptr().cast::<c_char>(),
            out.as_mut_ptr().cast::<c_char>(),
            PAGE_SIZE as c_int,
            cap,
            acceleration,
        )
    };
    usize::try_from(n).ok().filter(|&n| n > 0)
}

/// `LZ4_decompress_safe` into `out`: the decoded length, or `None` if the
/// blob is malformed or decodes to more than `out` holds.
pub fn decompress_safe(blob: &[u8], out: &mut [u8]) -> Option<usize> {
    let src_len = c_int::try_from(blob.len()).ok()?;
    let cap = c_int::try_from(out.len()).unwrap_or(c_int::MAX);
    // SAFETY: `blob` has `src_len` readable bytes and `out` `cap` writable
    // bytes; LZ4_decompress_safe never reads or writes outside them.
    let n = unsafe {
        lz4_sys::LZ4_decompress_safe(
            blob.as_ptr().cast::<c_char>(),
            out.as_mut_ptr().cast::<c_char>(),
            src_len,
            cap,
        )
    };
    usize::try_from(n).ok()
}
