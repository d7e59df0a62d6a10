//! zstd with one reusable compression and decompression context per thread.

use super::{CodecError, PageCodec};
use crate::geometry::{Page, PAGE_SIZE};
use std::cell::RefCell;

thread_local! {
    // Contexts are expensive to create (hundreds of KiB, tables to reset), so
    // each thread keeps one of each and only changes the level when asked.
    static COMPRESSOR: RefCell<Option<(i8, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// zstd at a fixed level, one frame per page.
#[derive(Debug, Clone, Copy)]
pub struct Zstd {
    level: i8,
}

impl Zstd {
    pub fn new(level: i8) -> Self {
        Self { level }
    }
}

impl PageCodec for Zstd {
    fn compress(&self, page: &Page, out: &mut [u8]) -> Option<usize> {
        COMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            let reuse = matches!(&*slot, Some((level, _)) if *level == self.level);
            if !reuse {
                let c = zstd::bulk::Compressor::new(i32::from(self.level)).ok()?;
                *slot = Some((self.level, c));
            }
            let (_, c) = slot.as_mut()?;
            c.compress_to_buffer(&page[..], out).ok()
        })
    }

    fn decompress(&self, blob: &[u8], page: &mut Page) -> Result<(), CodecError> {
        let err = |reason: String| CodecError {
            codec: "zstd",
            len: blob.len(),
            reason,
        };
        DECOMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = Some(zstd::bulk::Decompressor::new().map_err(|e| err(e.to_string()))?);
            }
            let Some(d) = slot.as_mut() else {
                return Err(err("no decompression context".into()));
            };
            match d.decompress_to_buffer(blob, &mut page[..]) {
                Ok(PAGE_SIZE) => Ok(()),
                Ok(n) => Err(err(format!("decoded {n} bytes"))),
                Err(e) => Err(err(e.to_string())),
            }
        })
    }
}
