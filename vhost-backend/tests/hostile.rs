//! Hostile guests: every malformed chain gets its error status (or an
//! empty completion) and the daemon keeps serving the next request.

mod common;

use common::*;
use zcxl_vhost::virtio_zcxl::DataOp;

const OUTSIDE: u64 = 1 << 40;

/// Status bytes written by the last completion on `q` into `inb`.
fn statuses(g: &mut Guest, q: usize, inb: Buf) -> Vec<u8> {
    let (_, len) = g.wait_used(q);
    g.read(inb)[..len as usize].to_vec()
}

#[test]
fn malformed_data_requests_get_statuses_and_the_queue_goes_on() {
    let dir = temp_dir();
    let d = start_daemon(&dir, &["-c", "256M", "-m", "64M", "--scan-interval", "0"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    let good = data_request(DataOp::WriteHint, &[(0, 1)]);

    // Ranges the window does not hold, misaligned or empty: status 1 each,
    // and the good range between them is still done.
    let st = g.data(
        2,
        &data_request(
            DataOp::WriteHint,
            &[
                (256 << 20, 1),
                (0x1000, 1),
                (0x1001, 1),
                (0x2000, 0),
                ((256 << 20) - 4096, 2),
                (!0xfff, u32::MAX),
            ],
        ),
        6,
    );
    assert_eq!(st, vec![1, 0, 1, 1, 1, 1]);
    // Unknown operation: 4 per range.
    assert_eq!(
        g.data(2, &data_request(DataOp::Unknown(9), &[(0, 1), (0, 1)]), 2),
        vec![4, 4]
    );
    // n = 0, reserved bits, short and long readable parts: 5.
    let mut zero = good.clone();
    zero[2] = 0;
    assert_eq!(g.data(2, &zero, 4), vec![5]);
    let mut reserved = good.clone();
    reserved[4] = 1;
    assert_eq!(g.data(2, &reserved, 4), vec![5]);
    assert_eq!(g.data(2, &good[..20], 4), vec![5]);
    let mut long = good.clone();
    long.extend_from_slice(&[0; 16]);
    assert_eq!(g.data(2, &long, 4), vec![5]);
    // Too few writable bytes for the ranges.
    let two = data_request(DataOp::WriteHint, &[(0, 1), (0x1000, 1)]);
    assert_eq!(g.data(2, &two, 1), vec![5]);

    // Wrong direction: readable after writable.
    let out = g.out_buf(&good);
    let inb = g.in_buf(4);
    g.submit_raw(
        2,
        &[
            (inb.addr, 4, F_WRITE | F_NEXT, 1),
            (out.addr, out.len, 0, 0),
        ],
    );
    assert_eq!(statuses(&mut g, 2, inb), vec![5]);
    // A readable buffer outside guest memory: 6.
    let inb = g.in_buf(4);
    g.submit_raw(2, &[(OUTSIDE, 24, F_NEXT, 1), (inb.addr, 4, F_WRITE, 0)]);
    assert_eq!(statuses(&mut g, 2, inb), vec![6]);
    // An oversized length.
    let inb = g.in_buf(4);
    g.submit_raw(
        2,
        &[(out.addr, 1 << 31, F_NEXT, 1), (inb.addr, 4, F_WRITE, 0)],
    );
    assert_eq!(statuses(&mut g, 2, inb), vec![5]);
    // Lengths that overflow 32 bits end the chain there (virtio-queue),
    // so the status has nowhere to go: an empty completion.
    let inb = g.in_buf(4);
    g.submit_raw(
        2,
        &[(out.addr, u32::MAX, F_NEXT, 1), (inb.addr, 4, F_WRITE, 0)],
    );
    assert_eq!(g.wait_used(2).1, 0);
    // A loop of readable descriptors: the walk ends at the queue size and
    // the request (far too long, no writable part) completes empty.
    g.submit_raw(
        2,
        &[
            (out.addr, out.len, F_NEXT, 1),
            (out.addr, out.len, F_NEXT, 0),
        ],
    );
    assert_eq!(g.wait_used(2).1, 0);
    // The writable buffer itself outside guest memory.
    g.submit_raw(
        2,
        &[(out.addr, out.len, F_NEXT, 1), (OUTSIDE, 4, F_WRITE, 0)],
    );
    assert_eq!(g.wait_used(2).1, 0);
    // An indirect table outside guest memory ends the chain at once.
    g.submit_raw(2, &[(OUTSIDE, 64, 4, 0)]);
    assert_eq!(g.wait_used(2).1, 0);
    // A head index beyond the queue is refused by the queue layer; the
    // queue goes on with the next request either way.

    // Still serving, with exact results.
    g.write_window(0, &text_page(9));
    assert_eq!(g.data(2, &good, 1), vec![0]);
    let s = d.runtime().stats();
    assert!(s.connected);
    assert_eq!(
        s.media.pages.zero, 1,
        "0x1000, never written, hinted earlier"
    );
    assert_eq!(s.media.pages.compressed, 1, "0 now");
    assert!(s.queues[2].rejected >= 12);
}

#[test]
fn malformed_mailbox_and_event_chains_complete_empty() {
    let dir = temp_dir();
    let d = start_daemon(&dir, &["-c", "256M", "-m", "64M"]);
    let mut g = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    g.start();
    let identify = cci_request(1, 0x0001, &[]);
    let out = g.out_buf(&identify);
    // No readable part.
    let inb = g.in_buf(4108);
    g.submit(0, &[inb]);
    assert_eq!(g.wait_used(0).1, 0);
    // Fewer than 12 writable bytes.
    let small = g.in_buf(11);
    g.submit(0, &[out, small]);
    assert_eq!(g.wait_used(0).1, 0);
    // Request outside guest memory.
    let inb = g.in_buf(4108);
    g.submit_raw(0, &[(OUTSIDE, 12, F_NEXT, 1), (inb.addr, 4108, F_WRITE, 0)]);
    assert_eq!(g.wait_used(0).1, 0);
    // Garbage shorter than a header: the CCI layer answers it.
    let junk = g.out_buf(&[0xff; 5]);
    let inb = g.in_buf(4108);
    g.submit(0, &[junk, inb]);
    let (_, len) = g.wait_used(0);
    assert_eq!(len, 12);
    assert_ne!(cci_rc(&g.read(inb)), 0);
    // An oversized request: Invalid Payload Length, not a hang.
    let mut big = cci_request(2, 0x4103, &vec![0u8; 5000]);
    big[5..8].copy_from_slice(&[0x88, 0x13, 0]);
    let bigb = g.out_buf(&big);
    let inb = g.in_buf(4108);
    g.submit(0, &[bigb, inb]);
    let (_, len) = g.wait_used(0);
    assert_eq!(len, 12);
    assert_eq!(cci_rc(&g.read(inb)), 0x16, "Invalid Payload Length");
    // A response cut to a short writable buffer keeps its full length field.
    let inb = g.in_buf(16);
    let out2 = g.out_buf(&identify);
    g.submit(0, &[out2, inb]);
    let (_, len) = g.wait_used(0);
    assert_eq!(len, 16);
    let r = g.read(inb);
    assert_eq!(u32::from_le_bytes([r[5], r[6], r[7], 0]), 18);

    // Event buffers that cannot hold a report complete empty.
    let b = g.post_event();
    let _ = g.wait_event(b);
    let tiny = g.in_buf(4);
    g.submit(1, &[tiny]);
    assert_eq!(g.wait_used(1).1, 0);
    let ro = g.out_buf(&[0; 8]);
    g.submit(1, &[ro]);
    assert_eq!(g.wait_used(1).1, 0);

    // Still serving.
    let resp = g.cci(&identify);
    assert_eq!(cci_rc(&resp), 0);
    assert!(d.runtime().stats().connected);
    assert_eq!(d.runtime().stats().queues[0].rejected, 3);
}
