//! Arbitrary pages (the input repeated to fill 4 KiB, so short inputs make
//! compressible pages): the fast compressor and its safe twin produce the
//! same blob, our decoder and C's decode it back to the page, and C's blob
//! decodes with ours. One compressor is reused across inputs, as on a
//! device thread, while the safe twin starts fresh each time: their blobs
//! must still agree (a blob depends only on its page).

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use zcxl_device::codec::lz4::{
    c_reference, decompress_page, PageCompressor, MAX_BLOB, OUT_CAPACITY,
};
use zcxl_device::PAGE_SIZE;

thread_local! {
    static REUSED: RefCell<PageCompressor> = RefCell::new(PageCompressor::new());
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let mut page = [0u8; PAGE_SIZE];
    for (dst, src) in page.iter_mut().zip(data.iter().cycle()) {
        *dst = *src;
    }

    let mut fast = [0u8; OUT_CAPACITY];
    let mut checked = [0u8; OUT_CAPACITY];
    let n = REUSED
        .with(|c| c.borrow_mut().compress(&page, &mut fast))
        .expect("a full-size buffer always fits");
    let m = PageCompressor::new()
        .compress_checked(&page, &mut checked)
        .expect("a full-size buffer always fits");
    assert!(fast[..n] == checked[..m], "twins produced different blobs");
    assert!(n <= MAX_BLOB);

    let mut back = [0u8; PAGE_SIZE];
    decompress_page(&fast[..n], &mut back).expect("our blob decodes");
    assert!(back == page, "round trip changed the page");
    let mut c = [0u8; PAGE_SIZE];
    assert_eq!(c_reference::decompress_safe(&fast[..n], &mut c), Some(PAGE_SIZE));
    assert!(c == page, "C decodes our blob to a different page");

    let mut c_blob = [0u8; MAX_BLOB];
    let k = c_reference::compress_default(&page, &mut c_blob).expect("C compresses");
    decompress_page(&c_blob[..k], &mut back).expect("C's blob decodes");
    assert!(back == page, "C's blob decodes to a different page");
});
