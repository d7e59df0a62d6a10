//! Command tests: layouts byte by byte, and every error path a host can
//! provoke.

use super::commands::{events as ev_cmd, generic::CEL_UUID, poison, vendor};
use super::*;
use crate::events::{LogKind, VENDOR_EVENT_UUID};
use crate::geometry::{CAPACITY_UNIT, PAGE_SIZE};
use crate::testutil::random_page;
use crate::{Device, DeviceConfig, Identity};

const MEDIA: u64 = 4 << 20;

fn device() -> Device {
    let mut cfg = DeviceConfig::new(CAPACITY_UNIT, MEDIA);
    cfg.identity = Identity::virtio(6, 0x1122_3344_5566_7788);
    cfg.lsa_bytes = 1024;
    cfg.event_log_capacity = 8;
    cfg.inject_poison_limit = 4;
    Device::new(cfg).unwrap()
}

/// Sends `payload` to `opcode`; returns the return code and the payload.
fn call(dev: &Device, opcode: u16, payload: &[u8]) -> (ReturnCode, Vec<u8>) {
    let mut msg = Header::request(0x5a, opcode, payload.len())
        .encode()
        .to_vec();
    msg.extend_from_slice(payload);
    let resp = dev.handle_cci(&msg);
    let head: [u8; HEADER_LEN] = resp[..HEADER_LEN].try_into().unwrap();
    let h = Header::decode(&head).unwrap();
    assert_eq!(h.category, Category::Response);
    assert_eq!(h.tag, 0x5a);
    assert_eq!(h.opcode, opcode);
    assert_eq!(h.payload_len as usize, resp.len() - HEADER_LEN);
    let rc = ReturnCode::from_wire(h.return_code).expect("known return code");
    (rc, resp[HEADER_LEN..].to_vec())
}

fn ok(dev: &Device, opcode: u16, payload: &[u8]) -> Vec<u8> {
    let (rc, out) = call(dev, opcode, payload);
    assert_eq!(rc, ReturnCode::Success, "opcode {opcode:#06x}");
    out
}

fn rc(dev: &Device, opcode: u16, payload: &[u8]) -> ReturnCode {
    call(dev, opcode, payload).0
}

fn le16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn le64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

#[test]
fn header_round_trips_and_packs_the_length_field() {
    let h = Header {
        category: Category::Response,
        tag: 7,
        opcode: 0x4302,
        payload_len: 0xabcde,
        background: true,
        return_code: 0x16,
        vendor_status: 0xbeef,
    };
    let b = h.encode();
    assert_eq!(
        b,
        [1, 7, 0, 0x02, 0x43, 0xde, 0xbc, 0x8a, 0x16, 0, 0xef, 0xbe]
    );
    assert_eq!(Header::decode(&b), Ok(h));
}

#[test]
fn malformed_headers_get_the_right_return_code() {
    let dev = device();
    let resp = |msg: &[u8]| {
        let r = dev.handle_cci(msg);
        assert!(r.len() >= HEADER_LEN);
        (
            u16::from_le_bytes([r[8], r[9]]),
            r[1],
            u16::from_le_bytes([r[3], r[4]]),
        )
    };
    // Too short for a header: a bare error response.
    assert_eq!(
        resp(&[0; 5]),
        (ReturnCode::InvalidPayloadLength as u16, 0, 0)
    );
    let good = Header::request(9, 0x0001, 0).encode();
    // Reserved bits in byte 0, byte 2 and byte 7.
    // The response still echoes the request's tag and opcode.
    for (byte, bits) in [(0, 0x10), (2, 0x01), (7, 0x40)] {
        let mut m = good;
        m[byte] |= bits;
        assert_eq!(
            resp(&m),
            (ReturnCode::InvalidInput as u16, 9, 1),
            "byte {byte}"
        );
    }
    // A response sent as a request, a background flag, a return code.
    for (byte, v) in [(0, 1), (0, 2), (7, 0x80), (8, 1), (10, 1)] {
        let mut m = good;
        m[byte] = v;
        assert_eq!(
            resp(&m),
            (ReturnCode::InvalidInput as u16, 9, 1),
            "byte {byte}"
        );
    }
    // Length field disagreeing with the bytes that follow.
    let mut m = Header::request(9, 0x0300, 4).encode().to_vec();
    m.extend_from_slice(&[0; 3]);
    assert_eq!(resp(&m).0, ReturnCode::InvalidPayloadLength as u16);
    // Oversized payload.
    let mut m = Header::request(9, 0x4103, MAX_PAYLOAD + 1)
        .encode()
        .to_vec();
    m.resize(HEADER_LEN + MAX_PAYLOAD + 1, 0);
    assert_eq!(resp(&m).0, ReturnCode::InvalidPayloadLength as u16);
}

#[test]
fn unknown_opcodes_are_unsupported_and_fixed_sizes_are_enforced() {
    let dev = device();
    for op in [0x0000, 0x0002, 0x4400, 0x4500, 0xc0ff, 0xffff] {
        assert_eq!(rc(&dev, op, &[]), ReturnCode::Unsupported, "{op:#x}");
    }
    for spec in COMMANDS {
        let bad = match spec.input {
            InputSize::Exact(n) => n + 1,
            InputSize::OneOf(sizes) => sizes.iter().max().unwrap() + 1,
            InputSize::AtLeast(n) => n - 1,
        };
        assert_eq!(
            rc(&dev, spec.opcode, &vec![0; bad]),
            ReturnCode::InvalidPayloadLength,
            "{}",
            spec.name
        );
    }
}

#[test]
fn identify_reports_pci_identity_and_serial() {
    let out = ok(&device(), 0x0001, &[]);
    assert_eq!(out.len(), 18);
    assert_eq!(le16(&out, 0), 0x1af4);
    assert_eq!(le16(&out, 2), 0x1046);
    assert_eq!(le16(&out, 4), 0x1af4);
    assert_eq!(le16(&out, 6), 0x1100);
    assert_eq!(le64(&out, 8), 0x1122_3344_5566_7788);
    assert_eq!(out[16], MAX_PAYLOAD_SHIFT);
    assert_eq!(out[17], 3);
}

#[test]
fn supported_logs_and_cel_match_the_registry() {
    let dev = device();
    let out = ok(&dev, 0x0400, &[]);
    assert_eq!(le16(&out, 0), 1);
    assert_eq!(&out[8..24], &CEL_UUID);
    let size = le32(&out, 24);
    assert_eq!(size as usize, COMMANDS.len() * 4);
    let mut req = CEL_UUID.to_vec();
    req.extend_from_slice(&0u32.to_le_bytes());
    req.extend_from_slice(&size.to_le_bytes());
    let cel = ok(&dev, 0x0401, &req);
    let opcodes: Vec<u16> = cel.chunks_exact(4).map(|e| le16(e, 0)).collect();
    assert!(opcodes.contains(&0x4000) && opcodes.contains(&0xc001));
    assert_eq!(opcodes.len(), COMMANDS.len());
    // A window in the middle.
    req[16..20].copy_from_slice(&8u32.to_le_bytes());
    req[20..24].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(ok(&dev, 0x0401, &req), cel[8..12].to_vec());
    // Past the end, or an unknown log.
    req[20..24].copy_from_slice(&size.to_le_bytes());
    assert_eq!(rc(&dev, 0x0401, &req), ReturnCode::InvalidInput);
    let mut other = req.clone();
    other[0] ^= 1;
    assert_eq!(rc(&dev, 0x0401, &other), ReturnCode::InvalidLog);
}

#[test]
fn timestamp_and_fw_info() {
    let dev = device();
    assert_eq!(le64(&ok(&dev, 0x0300, &[]), 0), 0);
    ok(&dev, 0x0301, &5_000_000_000u64.to_le_bytes());
    assert!(le64(&ok(&dev, 0x0300, &[]), 0) >= 5_000_000_000);
    let fw = ok(&dev, 0x0200, &[]);
    assert_eq!(fw.len(), 0x50);
    assert_eq!((fw[0], fw[1]), (1, 1));
    assert!(fw[16..32].starts_with(b"zcxl "));
}

#[test]
fn identify_memory_device_reports_capacities_in_units() {
    let dev = device();
    let out = ok(&dev, 0x4000, &[]);
    assert_eq!(out.len(), 0x45);
    assert!(out[..16].starts_with(b"zcxl "));
    assert_eq!(le64(&out, 0x10), 1);
    assert_eq!(le64(&out, 0x18), 1);
    assert_eq!(le64(&out, 0x20), 0);
    assert_eq!(le64(&out, 0x28), 0);
    for i in 0..4 {
        assert_eq!(le16(&out, 0x30 + 2 * i), 8);
    }
    assert_eq!(le32(&out, 0x38), 1024);
    assert_eq!(&out[0x3c..0x3f], &[0xff, 0xff, 0xff]);
    assert_eq!(le16(&out, 0x3f), 4);
    let part = ok(&dev, 0x4100, &[]);
    assert_eq!((le64(&part, 0), le64(&part, 8)), (1, 0));
}

#[test]
fn label_area_reads_writes_and_bounds() {
    let dev = device();
    let mut set = vec![0u8; 8];
    set[..4].copy_from_slice(&1000u32.to_le_bytes());
    set.extend_from_slice(b"labels!!");
    ok(&dev, 0x4103, &set);
    let mut get = 996u32.to_le_bytes().to_vec();
    get.extend_from_slice(&12u32.to_le_bytes());
    assert_eq!(ok(&dev, 0x4102, &get), b"\0\0\0\0labels!!".to_vec());
    // Past the end of the 1024-byte area.
    get[4..8].copy_from_slice(&29u32.to_le_bytes());
    assert_eq!(rc(&dev, 0x4102, &get), ReturnCode::InvalidInput);
    set[..4].copy_from_slice(&1020u32.to_le_bytes());
    assert_eq!(rc(&dev, 0x4103, &set), ReturnCode::InvalidInput);
    // Reserved bytes in Set LSA.
    set[..4].copy_from_slice(&0u32.to_le_bytes());
    set[5] = 1;
    assert_eq!(rc(&dev, 0x4103, &set), ReturnCode::InvalidInput);
    // An offset near u32::MAX must not wrap.
    let mut get = u32::MAX.to_le_bytes().to_vec();
    get.extend_from_slice(&16u32.to_le_bytes());
    assert_eq!(rc(&dev, 0x4102, &get), ReturnCode::InvalidInput);
}

/// Fills the media with raw pages until the high watermark is crossed.
fn drive_to_high_watermark(dev: &Device) {
    let mut page = 0u64;
    while !dev.media().under_pressure() {
        dev.media().store(page * 4096, &random_page(page)).unwrap();
        page += 1;
    }
}

#[test]
fn event_records_get_and_clear() {
    let dev = device();
    ok(&dev, 0x0103, &[0x11, 0x21, 0x31, 0x41]);
    assert_eq!(ok(&dev, 0x0102, &[]), vec![0x11, 0x21, 0x31, 0x41, 0]);
    drive_to_high_watermark(&dev);
    let out = ok(&dev, 0x0100, &[LogKind::Warning as u8]);
    assert_eq!(out[0], 0, "no overflow, no more");
    assert_eq!(le16(&out, 0x14), 1);
    let rec = &out[0x20..0x20 + 128];
    assert_eq!(&rec[..16], &VENDOR_EVENT_UUID);
    assert_eq!(rec[16], 128);
    assert_eq!(rec[17] & 3, 1, "warning severity");
    assert_eq!(rec[0x30], 1, "watermark-high event");
    let handle = le16(rec, 20);
    // Wrong handle, then the right one.
    let mut clear = vec![LogKind::Warning as u8, 0, 1, 0, 0, 0];
    clear.extend_from_slice(&handle.wrapping_add(1).to_le_bytes());
    assert_eq!(rc(&dev, 0x0101, &clear), ReturnCode::InvalidHandle);
    clear[6..8].copy_from_slice(&handle.to_le_bytes());
    ok(&dev, 0x0101, &clear);
    assert_eq!(le16(&ok(&dev, 0x0100, &[1]), 0x14), 0);
    // Count and length disagree; clear-all with handles; reserved flags;
    // the dynamic capacity log does not exist.
    assert_eq!(
        rc(&dev, 0x0101, &[1, 0, 2, 0, 0, 0, 1, 0]),
        ReturnCode::InvalidPayloadLength
    );
    assert_eq!(
        rc(&dev, 0x0101, &[1, 1, 1, 0, 0, 0, 1, 0]),
        ReturnCode::InvalidInput
    );
    assert_eq!(
        rc(&dev, 0x0101, &[1, 2, 0, 0, 0, 0]),
        ReturnCode::InvalidInput
    );
    assert_eq!(
        rc(&dev, 0x0101, &[1, 0, 0, 1, 0, 0]),
        ReturnCode::InvalidInput
    );
    assert_eq!(rc(&dev, 0x0100, &[4]), ReturnCode::InvalidInput);
    assert_eq!(
        rc(&dev, 0x0101, &[4, 1, 0, 0, 0, 0]),
        ReturnCode::InvalidInput
    );
    ok(&dev, 0x0101, &[0, 1, 0, 0, 0, 0]);
}

#[test]
fn event_overflow_is_reported() {
    let dev = device();
    // Capacity 8: log 10 records into the fatal log.
    for _ in 0..10 {
        dev.events().log(LogKind::Fatal, [0; 16], 0, [0; 80]);
    }
    let out = ok(&dev, 0x0100, &[LogKind::Fatal as u8]);
    assert_eq!(out[0] & 1, 1, "overflow flag");
    assert_eq!(le16(&out, 2), 2, "overflow count");
    assert_eq!(le16(&out, 0x14), 8);
    assert_eq!(out.len(), 0x20 + 8 * 128);
    ok(&dev, 0x0101, &[LogKind::Fatal as u8, 1, 0, 0, 0, 0]);
    assert_eq!(ok(&dev, 0x0100, &[LogKind::Fatal as u8])[0], 0);
    assert_eq!(ev_cmd::MAX_RECORDS_PER_GET, 31);
}

#[test]
fn interrupt_policy_rejects_unsupported_modes() {
    let dev = device();
    for bad in [[2, 0, 0, 0], [3, 0, 0, 0], [0, 0x04, 0, 0], [0, 0, 0, 0x08]] {
        assert_eq!(rc(&dev, 0x0103, &bad), ReturnCode::InvalidInput, "{bad:?}");
    }
    ok(&dev, 0x0103, &[1, 1, 1, 1, 0]);
    assert_eq!(rc(&dev, 0x0103, &[1, 1, 1, 1, 2]), ReturnCode::InvalidInput);
}

#[test]
fn health_and_alert_configuration() {
    let dev = device();
    let h = ok(&dev, 0x4200, &[]);
    assert_eq!(h.len(), 18);
    assert_eq!((h[0], h[1], h[3]), (0, 0, 0xff));
    let a = ok(&dev, 0x4201, &[]);
    assert_eq!(a.len(), 16);
    assert_eq!((a[0], a[1], a[2]), (0, 0x1f, 100));
    // Enable a life-used warning at 80 and an over-temperature warning.
    let mut set = vec![0x03, 0x03, 80, 0];
    set.extend_from_slice(&70u16.to_le_bytes());
    set.extend_from_slice(&[0; 6]);
    ok(&dev, 0x4202, &set);
    let a = ok(&dev, 0x4201, &[]);
    assert_eq!((a[0], a[3], le16(&a, 8)), (0x03, 80, 70));
    // Warning at or above critical; enable without valid; reserved bits.
    let mut bad = set.clone();
    bad[2] = 100;
    assert_eq!(rc(&dev, 0x4202, &bad), ReturnCode::InvalidInput);
    for (i, v) in [(1, 0x04), (0, 0x20), (3, 1)] {
        let mut bad = set.clone();
        bad[i] = v;
        assert_eq!(rc(&dev, 0x4202, &bad), ReturnCode::InvalidInput, "byte {i}");
    }
    // A failed store shows as maintenance needed.
    let mut page = 0;
    while dev.media().store(page * 4096, &random_page(page)).is_ok() {
        page += 1;
    }
    assert_eq!(ok(&dev, 0x4200, &[])[0] & 1, 1);
}

#[test]
fn poison_inject_list_clear() {
    let dev = device();
    let dpa_in = |dpa: u64| dpa.to_le_bytes().to_vec();
    ok(&dev, 0x4301, &dpa_in(0x2040));
    ok(&dev, 0x4301, &dpa_in(0x2080));
    assert_eq!(rc(&dev, 0x4301, &dpa_in(0x2001)), ReturnCode::InvalidInput);
    assert_eq!(
        rc(&dev, 0x4301, &dpa_in(CAPACITY_UNIT)),
        ReturnCode::InvalidPhysicalAddress
    );
    let list = |start: u64, units: u64| {
        let mut p = start.to_le_bytes().to_vec();
        p.extend_from_slice(&units.to_le_bytes());
        call(&dev, 0x4300, &p)
    };
    let (code, out) = list(0, CAPACITY_UNIT / 64);
    assert_eq!(code, ReturnCode::Success);
    assert_eq!(le16(&out, 10), 1);
    assert_eq!(le64(&out, 0x20), 0x2040 | 3, "DPA | injected source");
    assert_eq!(le32(&out, 0x28), 2);
    assert_eq!(list(0x2000, 0).0, ReturnCode::InvalidInput);
    assert_eq!(list(0x2001, 1).0, ReturnCode::InvalidInput);
    assert_eq!(
        list(0, CAPACITY_UNIT / 64 + 1).0,
        ReturnCode::InvalidPhysicalAddress
    );
    assert_eq!(list(0, u64::MAX).0, ReturnCode::InvalidPhysicalAddress);
    // Clear one line: it gets the data, the other stays poisoned.
    let mut clear = dpa_in(0x2040);
    clear.extend_from_slice(&[0x77; 64]);
    ok(&dev, 0x4302, &clear);
    let (_, out) = list(0, CAPACITY_UNIT / 64);
    assert_eq!((le64(&out, 0x20), le32(&out, 0x28)), (0x2080 | 3, 1));
    // Inject limit (4).
    for dpa in [0x0, 0x40, 0x80] {
        ok(&dev, 0x4301, &dpa_in(dpa));
    }
    assert_eq!(
        rc(&dev, 0x4301, &dpa_in(0xc0)),
        ReturnCode::InjectPoisonLimitReached
    );
}

#[test]
fn poison_list_pages_with_the_more_flag() {
    let mut cfg = DeviceConfig::new(CAPACITY_UNIT, MEDIA);
    cfg.inject_poison_limit = 600;
    let dev = Device::new(cfg).unwrap();
    // One line in each of 300 pages: 300 records, 254 per response.
    for page in 0..300u64 {
        ok(&dev, 0x4301, &(page * 4096 + 64).to_le_bytes());
    }
    let mut req = 0u64.to_le_bytes().to_vec();
    req.extend_from_slice(&(CAPACITY_UNIT / 64).to_le_bytes());
    let first = ok(&dev, 0x4300, &req);
    assert_eq!(first[0] & poison::FLAG_MORE, poison::FLAG_MORE);
    assert_eq!(le16(&first, 10) as usize, poison::MAX_RECORDS_PER_LIST);
    let second = ok(&dev, 0x4300, &req);
    assert_eq!(second[0] & poison::FLAG_MORE, 0);
    assert_eq!(le16(&second, 10), 300 - poison::MAX_RECORDS_PER_LIST as u16);
    assert_eq!(le64(&second, 0x20) & !0x3f, 254 * 4096 + 64);
    // A fresh request starts over.
    assert_eq!(
        ok(&dev, 0x4300, &req)[0] & poison::FLAG_MORE,
        poison::FLAG_MORE
    );
    // Records that go away between two requests move nothing past the
    // cursor: clearing 10 returned ones still leaves the same 46 to come.
    for page in 0..10u64 {
        let mut clear = (page * 4096 + 64).to_le_bytes().to_vec();
        clear.extend_from_slice(&[0; 64]);
        ok(&dev, 0x4302, &clear);
    }
    let second = ok(&dev, 0x4300, &req);
    assert_eq!(second[0] & poison::FLAG_MORE, 0);
    assert_eq!(le16(&second, 10), 300 - poison::MAX_RECORDS_PER_LIST as u16);
    assert_eq!(le64(&second, 0x20) & !0x3f, 254 * 4096 + 64);
    // Poison added before the cursor waits for the next fresh listing.
    ok(&dev, 0x4301, &(128u64).to_le_bytes());
    let first = ok(&dev, 0x4300, &req);
    assert_eq!(le64(&first, 0x20) & !0x3f, 128, "a fresh listing");
    ok(&dev, 0x4301, &(0u64).to_le_bytes());
    let second = ok(&dev, 0x4300, &req);
    assert_eq!(
        le16(&second, 10) as usize,
        291 - poison::MAX_RECORDS_PER_LIST,
        "the line injected at 0 is before the cursor"
    );
}

fn media_op(class: u8, subclass: u8, ranges: &[(u64, u64)]) -> Vec<u8> {
    let mut p = vec![class, subclass, 0, 0];
    p.extend_from_slice(&(ranges.len() as u32).to_le_bytes());
    for (dpa, len) in ranges {
        p.extend_from_slice(&dpa.to_le_bytes());
        p.extend_from_slice(&len.to_le_bytes());
    }
    p
}

#[test]
fn media_operations_discovery() {
    let dev = device();
    let mut req = media_op(0, 0, &[]);
    req.extend_from_slice(&[0, 0, 2, 0]);
    let out = ok(&dev, 0x4402, &req);
    assert_eq!(le64(&out, 0), 4096);
    assert_eq!((le16(&out, 8), le16(&out, 10)), (2, 2));
    assert_eq!(&out[12..], &[0, 0, 1, 1]);
    req[10] = 3;
    assert_eq!(rc(&dev, 0x4402, &req), ReturnCode::InvalidInput);
    let mut with_ranges = media_op(0, 0, &[]);
    with_ranges[4] = 1;
    with_ranges.extend_from_slice(&[0, 0, 1, 0]);
    assert_eq!(rc(&dev, 0x4402, &with_ranges), ReturnCode::InvalidInput);
    assert_eq!(
        rc(&dev, 0x4402, &media_op(0, 0, &[])),
        ReturnCode::InvalidPayloadLength
    );
}

#[test]
fn media_operations_zero_discards_atomically() {
    let dev = device();
    for page in 0..8u64 {
        dev.media().store(page * 4096, &[0x11; PAGE_SIZE]).unwrap();
    }
    assert_eq!(dev.media().stats().written_pages, 8);
    // A probe with no ranges succeeds and does nothing.
    ok(&dev, 0x4402, &media_op(1, 1, &[]));
    // One bad range: nothing is zeroed.
    for (bad, code) in [
        ((0x1000, 0), ReturnCode::InvalidInput),
        ((0x1001, 4096), ReturnCode::InvalidInput),
        ((0, 100), ReturnCode::InvalidInput),
        ((CAPACITY_UNIT, 4096), ReturnCode::InvalidPhysicalAddress),
        ((u64::MAX - 4095, 4096), ReturnCode::InvalidPhysicalAddress),
    ] {
        assert_eq!(
            rc(&dev, 0x4402, &media_op(1, 1, &[(0, 8192), bad])),
            code,
            "{bad:?}"
        );
    }
    assert_eq!(dev.media().stats().written_pages, 8);
    ok(
        &dev,
        0x4402,
        &media_op(1, 1, &[(0, 8192), (0x5000, 0x3000)]),
    );
    assert_eq!(dev.media().stats().written_pages, 3);
    // Count that does not match the bytes; unsupported operations.
    let mut short = media_op(1, 1, &[(0, 4096)]);
    short[4] = 2;
    assert_eq!(rc(&dev, 0x4402, &short), ReturnCode::InvalidPayloadLength);
    assert_eq!(
        rc(&dev, 0x4402, &media_op(1, 0, &[])),
        ReturnCode::Unsupported
    );
    assert_eq!(
        rc(&dev, 0x4402, &media_op(2, 0, &[])),
        ReturnCode::Unsupported
    );
    let mut reserved = media_op(1, 1, &[]);
    reserved[3] = 1;
    assert_eq!(rc(&dev, 0x4402, &reserved), ReturnCode::InvalidInput);
}

#[test]
fn vendor_capabilities_and_statistics() {
    let dev = device();
    let caps = ok(&dev, vendor::GET_CAPABILITIES, &[]);
    assert_eq!(caps.len(), 32);
    assert_eq!((caps[0], caps[1]), (1, 12));
    assert_eq!(le16(&caps, 2), 0xf);
    assert_eq!(le64(&caps, 8), CAPACITY_UNIT);
    assert_eq!(le64(&caps, 16), MEDIA);
    dev.media().store(0, &[0; PAGE_SIZE]).unwrap();
    dev.media().store(4096, &[7; PAGE_SIZE]).unwrap();
    let s = ok(&dev, vendor::GET_STATISTICS, &[]);
    assert_eq!(s.len(), 160);
    let stats = dev.media().stats();
    assert_eq!(le64(&s, 0), MEDIA);
    assert_eq!(le64(&s, 8), stats.used_bytes);
    assert_eq!(le64(&s, 8), 32, "two pages of metadata");
    assert_eq!(le64(&s, 0x30), CAPACITY_UNIT / 4096 - 2, "unwritten");
    assert_eq!((le64(&s, 0x38), le64(&s, 0x40)), (1, 1), "zero, same");
    assert_eq!(le64(&s, 0x60), 8192, "bytes in");
    assert_eq!(le32(&s, 0x70), 256_000, "ratio x1000");
    assert_eq!(le64(&s, 0x88), 2, "stores");
}

#[test]
fn vendor_watermarks_and_policy() {
    let dev = device();
    let w = ok(&dev, vendor::GET_WATERMARKS, &[]);
    assert_eq!((w[0], w[1], w[2]), (80, 90, 0));
    assert_eq!(le64(&w, 16), MEDIA * 9 / 10);
    ok(&dev, vendor::SET_WATERMARKS, &[10, 20, 0, 0]);
    for bad in [
        [20, 10, 0, 0],
        [0, 10, 0, 0],
        [10, 101, 0, 0],
        [10, 20, 1, 0],
    ] {
        assert_eq!(
            rc(&dev, vendor::SET_WATERMARKS, &bad),
            ReturnCode::InvalidInput
        );
    }
    assert_eq!(&ok(&dev, vendor::GET_WATERMARKS, &[])[..2], &[10, 20]);
    assert_eq!(
        ok(&dev, vendor::GET_POLICY, &[]),
        vec![1, 3, 0, 1, 0, 0, 0, 0]
    );
    ok(&dev, vendor::SET_POLICY, &[2, 9, 0, 2, 0, 0, 0, 0]);
    assert_eq!(
        ok(&dev, vendor::GET_POLICY, &[]),
        vec![2, 9, 0, 2, 0, 0, 0, 0]
    );
    for bad in [
        [3, 9, 0, 2, 0, 0, 0, 0],
        [2, 0, 0, 2, 0, 0, 0, 0],
        [2, 20, 0, 2, 0, 0, 0, 0],
        [2, 9, 1, 8, 0, 0, 0, 0],
        [2, 9, 0, 2, 0, 0, 1, 0],
    ] {
        assert_eq!(
            rc(&dev, vendor::SET_POLICY, &bad),
            ReturnCode::InvalidInput,
            "{bad:?}"
        );
    }
    // Reset restores the configured policy and watermarks.
    dev.reset();
    assert_eq!(ok(&dev, vendor::GET_POLICY, &[])[0], 1);
    assert_eq!(&ok(&dev, vendor::GET_WATERMARKS, &[])[..2], &[80, 90]);
}

#[test]
fn reset_empties_media_and_logs_but_keeps_labels() {
    let dev = device();
    let mut set = vec![0u8; 8];
    set.extend_from_slice(b"keep");
    ok(&dev, 0x4103, &set);
    drive_to_high_watermark(&dev);
    ok(&dev, 0x4301, &0x40u64.to_le_bytes());
    dev.reset();
    let s = dev.media().stats();
    assert_eq!((s.used_bytes, s.pages.poisoned), (0, 0));
    assert!(dev.events().pending().is_empty());
    let mut get = 0u32.to_le_bytes().to_vec();
    get.extend_from_slice(&4u32.to_le_bytes());
    assert_eq!(ok(&dev, 0x4102, &get), b"keep".to_vec());
}
