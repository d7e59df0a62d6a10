//! A hostile event buffer: accepted only if it can hold a report, and
//! then written entirely inside it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zcxl_vhost::queues;
use zcxl_vhost::virtio_zcxl::EventReport;
use zcxl_vhost_fuzz::chain_from;

fuzz_target!(|data: &[u8]| {
    let Some((mem, chain)) = chain_from(data) else {
        return;
    };
    let ok = queues::event_buffer_ok(&chain);
    match queues::event(&chain, &mem, EventReport::new(0b1010, 0b11)) {
        Some(len) => {
            assert!(ok);
            assert_eq!(len, 8);
        }
        None => {
            // Refused, or its buffer is outside guest memory.
        }
    }
    if !ok {
        assert!(
            chain.writable_len() < 8 || !chain.readable.is_empty() || chain.shape_error.is_some()
        );
    }
});
