//! Arbitrary bytes as LZ4 blobs: the fast decoder and its safe twin must
//! give the same verdict (same page or same error), never touch memory out
//! of bounds (the fast path's debug assertions and the sanitizer watch),
//! and decode to C's page whenever C's `LZ4_decompress_safe` accepts the
//! blob as exactly one page (except offset 0: invalid by the format, passed
//! by C).

#![no_main]

use libfuzzer_sys::fuzz_target;
use zcxl_device::codec::lz4::{c_reference, decompress_page, decompress_page_checked, Lz4Error};
use zcxl_device::PAGE_SIZE;

fuzz_target!(|blob: &[u8]| {
    let mut fast = [0x11u8; PAGE_SIZE];
    let mut checked = [0x22u8; PAGE_SIZE];
    let a = decompress_page(blob, &mut fast);
    let b = decompress_page_checked(blob, &mut checked);
    assert_eq!(a, b, "decoders disagree");
    if a.is_ok() {
        assert!(fast == checked, "decoders produced different pages");
    }
    let mut c = [0u8; PAGE_SIZE];
    if c_reference::decompress_safe(blob, &mut c) == Some(PAGE_SIZE) {
        match a {
            Ok(()) => assert!(fast == c, "C decodes a different page"),
            // The format declares offset 0 invalid; C's safe decoder lets it
            // through for speed. We follow the format.
            Err(Lz4Error::BadOffset { offset: 0, .. }) => {}
            Err(e) => panic!("C decodes a page we reject: {e}"),
        }
    }
});
