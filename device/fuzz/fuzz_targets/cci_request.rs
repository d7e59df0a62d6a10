//! Arbitrary bytes as CCI requests: the device must answer every one with a
//! well-formed response and never panic.
//!
//! Half the inputs are wrapped in a valid header for a registered opcode, so
//! the fuzzer spends its time inside the command handlers rather than only
//! in header validation. The device is shared across inputs, so sequences of
//! commands (inject, clear, zero, policy changes...) are explored too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use zcxl_device::cci::{Category, Header, COMMANDS, HEADER_LEN, MAX_PAYLOAD};
use zcxl_device::{Device, DeviceConfig, CAPACITY_UNIT};

fn device() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| {
        let mut cfg = DeviceConfig::new(CAPACITY_UNIT, 1 << 20);
        cfg.lsa_bytes = 4096;
        Device::new(cfg).expect("valid fuzz device")
    })
}

fuzz_target!(|data: &[u8]| {
    let dev = device();
    let msg = match data.split_first() {
        Some((&sel, rest)) if sel & 1 == 1 && rest.len() >= 2 => {
            let spec = &COMMANDS[usize::from(rest[0]) % COMMANDS.len()];
            let payload = &rest[1..rest.len().min(1 + MAX_PAYLOAD)];
            let mut m = Header::request(rest[0], spec.opcode, payload.len())
                .encode()
                .to_vec();
            m.extend_from_slice(payload);
            m
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    let resp = dev.handle_cci(&msg);
    assert!(resp.len() >= HEADER_LEN);
    let head: [u8; HEADER_LEN] = resp[..HEADER_LEN].try_into().unwrap();
    let h = Header::decode(&head).expect("responses decode");
    assert_eq!(h.category, Category::Response);
    assert_eq!(h.payload_len as usize, resp.len() - HEADER_LEN);
    assert!(resp.len() - HEADER_LEN <= MAX_PAYLOAD);
    if h.return_code != 0 {
        assert_eq!(resp.len(), HEADER_LEN, "errors carry no payload");
    }
});
