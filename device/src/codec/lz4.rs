//! LZ4 block format, one self-contained block per page.

use super::{CodecError, PageCodec};
use crate::geometry::{Page, PAGE_SIZE};

/// LZ4 (block format, no frame, no size prefix: the size is always a page).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lz4;

impl PageCodec for Lz4 {
    fn compress(&self, page: &Page, out: &mut [u8]) -> Option<usize> {
        lz4_flex::block::compress_into(page, out).ok()
    }

    fn decompress(&self, blob: &[u8], page: &mut Page) -> Result<(), CodecError> {
        let err = |reason: String| CodecError {
            codec: "lz4",
            len: blob.len(),
            reason,
        };
        match lz4_flex::block::decompress_into(blob, page) {
            Ok(PAGE_SIZE) => Ok(()),
            Ok(n) => Err(err(format!("decoded {n} bytes"))),
            Err(e) => Err(err(e.to_string())),
        }
    }
}
