//! lz4_flex as a benchmark codec. Whether this is the safe or the unsafe
//! lz4_flex is decided by the crate features of the binary that includes
//! this file: zcxl-bench builds it safe, the helper in `bench/flex-unsafe`
//! (which includes this file by path) builds it unsafe.

use crate::harness::{Codec, Packed, Page, PAGE_SIZE};

/// lz4_flex with its reusable table (the least per-page work its API allows).
#[derive(Default)]
pub struct Lz4Flex(lz4_flex::block::CompressTable);

impl Codec for Lz4Flex {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
        lz4_flex::block::compress_into_with_table(page, out, &mut self.0)
            .map(Packed::blob)
            .map_err(|e| e.to_string())
    }
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
        match lz4_flex::block::decompress_into(blob, page) {
            Ok(PAGE_SIZE) => Ok(()),
            Ok(n) => Err(format!("lz4_flex decoded {n} bytes")),
            Err(e) => Err(e.to_string()),
        }
    }
}
