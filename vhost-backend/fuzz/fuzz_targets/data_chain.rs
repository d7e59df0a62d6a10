//! A hostile data-queue chain: statuses land inside the writable part,
//! each is a defined status, and the device's accounting stays exact.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use vm_memory::Bytes;
use zcxl_device::{Device, DeviceConfig, CAPACITY_UNIT, PAGE_SIZE};
use zcxl_vhost::hints::PageService;
use zcxl_vhost::queues;
use zcxl_vhost::tracker::PageTracker;
use zcxl_vhost::virtio_zcxl::BackingMode;
use zcxl_vhost::window::Window;
use zcxl_vhost_fuzz::chain_from;

fn services() -> &'static [PageService; 2] {
    static S: OnceLock<[PageService; 2]> = OnceLock::new();
    S.get_or_init(|| {
        [BackingMode::Shadow, BackingMode::Compressed].map(|backing| PageService {
            device: Arc::new(
                Device::new(DeviceConfig::new(CAPACITY_UNIT, 1 << 20)).expect("device"),
            ),
            window: Arc::new(Window::new(CAPACITY_UNIT).expect("window")),
            tracker: Arc::new(PageTracker::new(CAPACITY_UNIT / PAGE_SIZE as u64)),
            backing,
            hash_pages: true,
            abandon: AtomicBool::new(false),
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some((mem, chain)) = chain_from(rest) else {
        return;
    };
    let svc = &services()[usize::from(which & 1)];
    let (len, _) = queues::data(&chain, &mem, svc);
    assert!(u64::from(len) <= chain.writable_len());
    if let Some(first) = chain.writable.first() {
        let mut status = vec![0u8; len.min(first.len) as usize];
        if mem.read_slice(&mut status, first.addr).is_ok() {
            assert!(status.iter().all(|&s| s <= 6), "{status:?}");
        }
    }
    let stats = svc.device.media().stats();
    assert_eq!(
        stats.used_bytes,
        stats.blob_bytes + stats.metadata_bytes + stats.fragmentation_bytes
    );
});
