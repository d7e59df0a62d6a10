//! The daemon driven over a real vhost-user socket by an in-process
//! front-end: handshake, config, shared memory, every queue, reset,
//! disconnect and reconnect.

mod common;

use common::*;
use std::time::{Duration, Instant};
use vhost::vhost_user::VhostUserFrontend;
use zcxl_device::cci::{InputSize, COMMANDS};
use zcxl_device::codec::CompressionPolicy;
use zcxl_device::events::EventLogs;
use zcxl_device::media::{Media, WatermarkConfig};
use zcxl_device::{Geometry, CAPACITY_UNIT};
use zcxl_vhost::virtio_zcxl::DataOp;

#[test]
fn handshake_config_shared_memory_and_mapping_after_start() {
    let dir = temp_dir();
    let d = start_daemon(
        &dir,
        &["-c", "2G", "-m", "256M", "--queues", "2", "--serial", "77"],
    );
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 4);
    let cfg = g.config();
    assert_eq!(&cfg[0..4], b"ZCXL");
    assert_eq!(u16::from_le_bytes([cfg[6], cfg[7]]), 2, "data queues");
    assert_eq!(u64::from_le_bytes(cfg[8..16].try_into().unwrap()), 77);
    assert_eq!(u64::from_le_bytes(cfg[16..24].try_into().unwrap()), 2 << 30);
    assert_eq!(
        u64::from_le_bytes(cfg[24..32].try_into().unwrap()),
        256 << 20
    );
    let shm = g.fe.get_shmem_config().unwrap();
    assert_eq!(shm.nregions, 1);
    let sizes = shm.memory_sizes;
    assert_eq!(sizes[0], 2 << 30);
    // Nothing is mapped before the device starts.
    std::thread::sleep(Duration::from_millis(100));
    assert!(g.shm.maps.lock().is_empty());
    g.start();
    wait_until(|| g.shm.maps.lock().len() == 2);
    let mut maps = g.shm.maps.lock().clone();
    maps.sort();
    assert_eq!(maps, vec![(0, 1 << 30, 1), (1 << 30, 1 << 30, 1)]);
    // The first event buffer reports the mapped window.
    let b = g.post_event();
    let mut ev = g.wait_event(b);
    if ev.1 & 1 == 0 {
        let b = g.post_event();
        ev = g.wait_event(b);
    }
    assert_eq!(ev, (0, 1));
    // A repeated start (QEMU resends the memory table) maps nothing twice.
    g.start();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(g.shm.maps.lock().len(), 2);
    assert!(d.runtime().stats().window.mapped);
    d.shutdown().unwrap();
    assert!(!dir.path().join("zcxl.sock").exists());
}

#[test]
fn every_mailbox_command_is_answered_with_its_tag_and_opcode() {
    let dir = temp_dir();
    let _d = start_daemon(&dir, &["-c", "256M", "-m", "64M"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    for (i, cmd) in COMMANDS.iter().enumerate() {
        let min = match cmd.input {
            InputSize::Exact(n) | InputSize::AtLeast(n) => n,
            InputSize::OneOf(sizes) => sizes[0],
        };
        let payload = vec![0u8; min];
        let tag = i as u8 + 1;
        let resp = g.cci(&cci_request(tag, cmd.opcode, &payload));
        assert!(resp.len() >= 12, "{}: {} bytes", cmd.name, resp.len());
        assert_eq!(resp[0], 1, "{}: response category", cmd.name);
        assert_eq!(resp[1], tag, "{}: tag", cmd.name);
        assert_eq!(
            u16::from_le_bytes([resp[3], resp[4]]),
            cmd.opcode,
            "{}",
            cmd.name
        );
        let len = u32::from_le_bytes([resp[5], resp[6], resp[7], 0]) as usize;
        assert_eq!(len, resp.len() - 12, "{}: payload length", cmd.name);
    }
    // Identify carries the virtio PCI identity and the serial.
    let id = g.cci(&cci_request(9, 0x0001, &[]));
    assert_eq!(cci_rc(&id), 0);
    assert_eq!(u16::from_le_bytes([id[12], id[13]]), 0x1af4);
    assert_eq!(u16::from_le_bytes([id[14], id[15]]), 0x1046);
    assert_eq!(u64::from_le_bytes(id[20..28].try_into().unwrap()), 1);
}

#[test]
fn write_hints_and_discards_account_exactly() {
    let dir = temp_dir();
    let d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    // The same pages stored into an independent model of the media.
    let model = Media::new(
        Geometry::new(CAPACITY_UNIT, 64 << 20).unwrap(),
        CompressionPolicy::default(),
        WatermarkConfig::default(),
        256,
        std::sync::Arc::new(EventLogs::new(64, Default::default())),
    )
    .unwrap();
    let mut pages = Vec::new();
    for i in 0..40u64 {
        let dpa = i * 0x3000;
        let data = match i % 4 {
            0 => vec![0u8; 4096],
            1 => random_page(i),
            2 => vec![(i as u8) | 1; 4096],
            _ => text_page(i),
        };
        g.write_window(dpa, &data);
        model
            .store(dpa, data.as_slice().try_into().unwrap())
            .unwrap();
        pages.push((dpa, 1));
    }
    for chunk in pages.chunks(16) {
        let st = g.data(2, &data_request(DataOp::WriteHint, chunk), chunk.len());
        assert_eq!(st, vec![0; chunk.len()]);
    }
    let stats = d.runtime().stats().media;
    let want = model.stats();
    assert_eq!(stats.used_bytes, want.used_bytes);
    assert_eq!(stats.blob_bytes, want.blob_bytes);
    assert_eq!(stats.pages, want.pages);
    // Discard half, in one multi-page range per request.
    let st = g.data(2, &data_request(DataOp::Discard, &[(0, 30)]), 1);
    assert_eq!(st, vec![0]);
    model.discard(0, 30 * 4096).unwrap();
    let stats = d.runtime().stats().media;
    assert_eq!(stats.used_bytes, model.stats().used_bytes);
    assert_eq!(stats.discarded_pages, model.stats().discarded_pages);
    assert_eq!(g.read_window(0x3000, 8), vec![0; 8], "discarded reads zero");
    // read-prepare in shadow mode only checks poison.
    let st = g.data(2, &data_request(DataOp::ReadPrepare, &[(0x1e000, 3)]), 1);
    assert_eq!(st, vec![0]);
    let q = &d.runtime().stats().queues[2];
    assert_eq!((q.name.as_str(), q.requests, q.rejected), ("data0", 5, 0));
}

#[test]
fn watermark_crossings_complete_event_buffers() {
    let dir = temp_dir();
    // 1 MiB of media, watermarks 50/75: a few dozen raw pages cross them.
    let _d = start_daemon(
        &dir,
        &[
            "-c",
            "256M",
            "-m",
            "1M",
            "--watermarks",
            "50,75",
            "--scan-interval",
            "0",
        ],
    );
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    let b = g.post_event();
    let first = g.wait_event(b);
    assert_eq!(first.0, 0, "no log holds records yet");
    // Interrupts on for every log.
    let resp = g.cci(&cci_request(1, 0x0103, &[1, 1, 1, 1]));
    assert_eq!(cci_rc(&resp), 0);
    let b = g.post_event();
    if first.1 & 1 == 0 {
        assert_eq!(g.wait_event(b), (0, 1), "window mapped");
    }
    let b = if first.1 & 1 == 0 { g.post_event() } else { b };
    let mut n = 0u64;
    let ev = loop {
        let dpa = n * 4096;
        g.write_window(dpa, &random_page(n));
        assert_eq!(
            g.data(2, &data_request(DataOp::WriteHint, &[(dpa, 1)]), 1),
            vec![0]
        );
        n += 1;
        if let Some((_, len)) = g.try_wait_used(1, Duration::from_millis(0)) {
            assert_eq!(len, 8);
            let v = g.read(b);
            break (
                u32::from_le_bytes(v[0..4].try_into().unwrap()),
                u32::from_le_bytes(v[4..8].try_into().unwrap()),
            );
        }
        assert!(n < 400, "no event before the media filled");
    };
    assert_eq!(
        ev.0 & 0b10,
        0b10,
        "warning log holds the high-watermark record"
    );
    assert_eq!(ev.1, 0b11, "mapped and under pressure");
    // Get Event Records (warning log) shows the vendor record.
    let recs = g.cci(&cci_request(2, 0x0100, &[1]));
    assert_eq!(cci_rc(&recs), 0);
    assert_eq!(u16::from_le_bytes([recs[12 + 0x14], recs[12 + 0x15]]), 1);
    assert_eq!(recs[12 + 0x20 + 0x30], 1, "watermark high event");
}

#[test]
fn poison_sets_and_clears_the_status_bit() {
    let dir = temp_dir();
    let _d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    g.wait_mapped();
    let dpa = 0x5000u64;
    // Inject Poison: no event log gains a record, the status word changes.
    let resp = g.cci(&cci_request(1, 0x4301, &dpa.to_le_bytes()));
    assert_eq!(cci_rc(&resp), 0);
    let b = g.post_event();
    assert_eq!(g.wait_event(b), (0, 0b101), "mapped and holds poison");
    // A second injection changes nothing the driver is told.
    let resp = g.cci(&cci_request(2, 0x4301, &(dpa + 0x40).to_le_bytes()));
    assert_eq!(cci_rc(&resp), 0);
    let b = g.post_event();
    assert!(g.try_wait_used(1, Duration::from_millis(300)).is_none());
    // Clear Poison of both lines: the bit goes once the last one is gone.
    for (tag, line) in [(3u8, dpa), (4, dpa + 0x40)] {
        let mut clear = line.to_le_bytes().to_vec();
        clear.extend_from_slice(&[0u8; 64]);
        assert_eq!(cci_rc(&g.cci(&cci_request(tag, 0x4302, &clear))), 0);
    }
    assert_eq!(g.wait_event(b), (0, 0b001), "mapped, no poison");
}

#[test]
fn with_event_idx_the_event_queue_asks_for_the_next_kick() {
    let dir = temp_dir();
    let _d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect_with(&dir.path().join("zcxl.sock"), 3, 1 << 29);
    g.start();
    g.wait_mapped();
    // A driver with EVENT_IDX kicks only when it passes avail_event: the
    // device must have moved it past every buffer it took, or buffers
    // posted later would go unseen until some other report came due.
    let b = g.post_event();
    wait_until(|| g.avail_event(1) == g.avail_idx(1));
    // The buffer is held for the next report.
    let resp = g.cci(&cci_request(1, 0x4301, &0x1000u64.to_le_bytes()));
    assert_eq!(cci_rc(&resp), 0);
    assert_eq!(g.wait_event(b), (0, 0b101));
}

#[test]
fn a_stop_hands_the_held_event_buffers_back() {
    let dir = temp_dir();
    let _d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    g.wait_mapped();
    // Two buffers the device holds until a report is due.
    g.post_event();
    g.post_event();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        g.try_wait_used(1, Duration::ZERO).is_none(),
        "no report due"
    );
    // A pause (GET_VRING_BASE) counts them as taken: they must come back
    // (one may carry the "window unmapped" report the stop causes, the
    // rest come back empty), or the driver would never see them again.
    g.stop();
    for _ in 0..2 {
        let (_, len) = g
            .try_wait_used(1, Duration::from_secs(5))
            .expect("a held buffer came back");
        assert!(len == 0 || len == 8, "used length {len}");
    }
}

#[test]
fn a_front_end_that_leaves_mid_request_does_not_hold_up_the_next() {
    let dir = temp_dir();
    let sock = dir.path().join("zcxl.sock");
    let _d = start_daemon(&dir, &["-c", "1G", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect(&sock, 3);
    g.start();
    // 256 discards of the whole window in one request: minutes of work
    // for one worker thread, which the daemon joins before it serves the
    // next front-end.
    let pages = ((1u64 << 30) / 4096) as u32;
    let ranges = vec![(0, pages); 256];
    let out = g.out_buf(&data_request(DataOp::Discard, &ranges));
    let inb = g.in_buf(ranges.len());
    g.submit(2, &[out, inb]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        g.try_wait_used(2, Duration::ZERO).is_none(),
        "still running"
    );
    drop(g);
    let t = Instant::now();
    let mut g = Guest::connect(&sock, 3);
    g.start();
    assert_eq!(cci_rc(&g.cci(&cci_request(1, 0x0001, &[]))), 0);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "the next front-end waited {:?}",
        t.elapsed()
    );
}

#[test]
fn reset_disconnect_and_reconnect() {
    let dir = temp_dir();
    let sock = dir.path().join("zcxl.sock");
    let d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect(&sock, 3);
    g.start();
    g.write_window(0, &text_page(1));
    assert_eq!(
        g.data(2, &data_request(DataOp::WriteHint, &[(0, 1)]), 1),
        vec![0]
    );
    assert!(d.runtime().stats().media.used_bytes > 0);
    // A pause: stop and start; the front-end keeps its mappings.
    g.stop();
    g.start();
    wait_until(|| d.runtime().stats().window.mapped);
    assert!(
        d.runtime().stats().media.used_bytes > 0,
        "a pause keeps the data"
    );
    assert_eq!(g.read_window(0, 4096), text_page(1));
    // A reset: QEMU drops the mappings; the next start resets the device.
    g.stop();
    g.shm.maps.lock().clear();
    g.start();
    g.wait_mapped();
    assert_eq!(
        d.runtime().stats().media.used_bytes,
        0,
        "reset before mapped"
    );
    assert_eq!(g.read_window(0, 7), vec![0; 7]);
    // Disconnect: the daemon resets and takes the next front-end.
    g.write_window(0, &text_page(2));
    assert_eq!(
        g.data(2, &data_request(DataOp::WriteHint, &[(0, 1)]), 1),
        vec![0]
    );
    drop(g);
    wait_until(|| !d.runtime().stats().connected);
    assert_eq!(d.runtime().stats().media.used_bytes, 0);
    let mut g2 = Guest::connect(&sock, 3);
    g2.start();
    assert_eq!(cci_rc(&g2.cci(&cci_request(1, 0x0001, &[]))), 0);
    assert_eq!(g2.read_window(0, 7), vec![0; 7], "window emptied");
    assert_eq!(d.runtime().stats().connections, 2);
}

#[test]
fn compressed_backing_releases_restores_and_catches_lost_pages() {
    let dir = temp_dir();
    let d = start_daemon(
        &dir,
        &[
            "-c",
            "256M",
            "-m",
            "64M",
            "--backing",
            "compressed",
            "--scan-interval",
            "20",
        ],
    );
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    let cfg = g.config();
    assert_eq!(u32::from_le_bytes(cfg[0x28..0x2c].try_into().unwrap()), 1);
    let page = text_page(5);
    g.write_window(0x10000, &page);
    g.write_window(0x11000, &page);
    assert_eq!(
        g.data(2, &data_request(DataOp::WriteHint, &[(0x10000, 2)]), 1),
        vec![0]
    );
    assert_eq!(d.runtime().stats().released_pages, 2);
    // Read-prepare restores the content.
    assert_eq!(
        g.data(2, &data_request(DataOp::ReadPrepare, &[(0x10000, 1)]), 1),
        vec![0]
    );
    assert_eq!(g.read_window(0x10000, 4096), page);
    // Touching the other released page without read-prepare is caught.
    let _ = g.read_window(0x11000, 8);
    wait_until(|| d.runtime().stats().scanner.pages_lost == 1);
    assert_eq!(
        g.data(2, &data_request(DataOp::ReadPrepare, &[(0x11000, 1)]), 1),
        vec![3]
    );
    let s = d.runtime().stats();
    assert_eq!(s.media.pages.poisoned, 1);
    assert_eq!(s.event_logs[2].pending, 1, "failure event logged");
}

#[test]
fn shadow_scanner_stores_pages_changed_without_hints() {
    let dir = temp_dir();
    let d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "20"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    g.write_window(0x40000, &text_page(3));
    wait_until(|| d.runtime().stats().media.pages.compressed == 1);
    assert_eq!(d.runtime().stats().scanner.pages_restored, 1);
    // A hinted page is not stored twice.
    g.write_window(0x50000, &random_page(3));
    assert_eq!(
        g.data(2, &data_request(DataOp::WriteHint, &[(0x50000, 1)]), 1),
        vec![0]
    );
    let stores = d.runtime().stats().media.stores;
    std::thread::sleep(Duration::from_millis(100));
    let s = d.runtime().stats();
    assert_eq!(s.media.stores, stores, "no rescans of unchanged pages");
    assert_eq!(s.media.pages.raw, 1);
}
