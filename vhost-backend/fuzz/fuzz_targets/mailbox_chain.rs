//! A hostile mailbox chain: the daemon must answer within the writable
//! part, never panic, and write a well-formed CCI response when it writes
//! one at all.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use zcxl_device::{Device, DeviceConfig, CAPACITY_UNIT};
use zcxl_vhost::queues;
use zcxl_vhost_fuzz::chain_from;

fn device() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| {
        let mut cfg = DeviceConfig::new(CAPACITY_UNIT, 1 << 20);
        cfg.lsa_bytes = 4096;
        Device::new(cfg).expect("valid fuzz device")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((mem, chain)) = chain_from(data) else {
        return;
    };
    let (len, _) = queues::mailbox(&chain, &mem, device());
    assert!(u64::from(len) <= chain.writable_len());
    if len > 0 {
        assert!(len >= 12, "a response starts with a whole header");
    }
});
