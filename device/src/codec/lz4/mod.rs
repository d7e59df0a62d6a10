//! LZ4 block format, one self-contained block per page, with our own
//! page-specialised compressor ([`compress`]) and decompressor
//! ([`decompress`]).
//!
//! Blobs are plain LZ4 blocks (no frame, no size prefix: the decoded size is
//! always one page), interchangeable with the C reference library in both
//! directions. Each fast path has a safe twin (`*_checked`) that produces
//! the same bytes and the same errors; the tests and fuzz targets hold them
//! to that.

#[cfg(any(test, feature = "c-reference"))]
pub mod c_reference;
mod compress;
mod decompress;
mod long_copy;
pub mod wide;

pub use compress::{PageCompressor, HASH_LOG, MAX_BLOB, OUT_CAPACITY};
pub use decompress::{decompress_page, decompress_page_checked, Lz4Error};

use super::{CodecError, PageCodec};
use crate::geometry::Page;
use std::cell::RefCell;

thread_local! {
    // One compressor per thread: its table survives from page to page.
    static COMPRESSOR: RefCell<PageCompressor> = RefCell::new(PageCompressor::new());
}

/// Compresses `page` into `out` with this thread's compressor (fast path).
/// `None` if the blob does not fit in `out`.
pub fn compress_page(page: &Page, out: &mut [u8]) -> Option<usize> {
    COMPRESSOR.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => c.compress(page, out),
        // Only reachable if a caller re-entered from inside a compression.
        Err(_) => PageCompressor::new().compress(page, out),
    })
}

/// LZ4 (block format, no frame, no size prefix: the size is always a page).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lz4;

impl PageCodec for Lz4 {
    fn compress(&self, page: &Page, out: &mut [u8]) -> Option<usize> {
        compress_page(page, out)
    }

    fn decompress(&self, blob: &[u8], page: &mut Page) -> Result<(), CodecError> {
        decompress_page(blob, page).map_err(|e| CodecError {
            codec: "lz4",
            len: blob.len(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
