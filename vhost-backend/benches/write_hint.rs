//! Data-queue write-hint throughput against the bare codec on the same
//! pages, in the same run (target: the queue path reaches >= 80% of the
//! codec's rate on its one worker thread).
//!
//! `codec/lz4` runs the device's page pipeline (zero/same-filled
//! detection, then LZ4) on the pages and nothing else: no queue, window or
//! media. `data_queue/write_hint` runs the whole path: an in-process
//! vhost-user front-end posts write-hint requests (256 one-page ranges
//! each) on data queue 0 of a running daemon, whose worker thread reads
//! the pages from the window, classifies, compresses and stores them, and
//! completes the request; the front-end sleeps on the queue's call eventfd
//! until each completion.
//!
//! Both are measured in CPU time of the whole process (the daemon runs in
//! it), not wall time: the machine is shared, and CPU time per page is
//! what "per worker thread" means. The queue path is charged for every
//! thread the daemon and the front-end use, so the comparison is
//! conservative.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;
use zcxl_device::codec::{encode, CompressionPolicy, Encoded, SCRATCH_LEN};
use zcxl_device::media::footprint;
use zcxl_device::Page;
use zcxl_vhost::virtio_zcxl::DataOp;

const PAGES: u64 = 4096;
const BATCH: usize = 256;

/// Pages like a swapped-out heap: mostly text-like, some binary runs,
/// some incompressible, a few zero.
fn page(i: u64) -> Vec<u8> {
    match i % 8 {
        0 => random_page(i),
        1 => vec![0; 4096],
        2 | 3 => {
            let mut p = text_page(i);
            for (k, b) in p.iter_mut().enumerate().skip(2048) {
                *b = (k as u64 * i % 251) as u8;
            }
            p
        }
        _ => text_page(i),
    }
}

/// CPU time consumed by this process (all threads).
struct ProcessCpu;

fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ProcessCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu()
    }
    fn end(&self, i: Duration) -> Duration {
        process_cpu().saturating_sub(i)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Values in CPU milliseconds, throughput in pages per CPU second.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e6);
        "ms CPU"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let n = match *t {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => n,
            _ => 1,
        } as f64;
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v / 1e3);
        "Kpages/CPU-s"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn bench(c: &mut Criterion<ProcessCpu>) {
    let pages: Vec<Vec<u8>> = (0..PAGES).map(page).collect();
    let mut g = c.benchmark_group("write_hint");
    g.throughput(Throughput::Elements(PAGES));
    g.sample_size(20);

    g.bench_function("codec/lz4", |b| {
        let mut scratch = vec![0u8; SCRATCH_LEN];
        let policy = CompressionPolicy::default();
        b.iter(|| {
            let mut out = 0usize;
            for p in &pages {
                let p: &Page = p.as_slice().try_into().unwrap();
                out += match encode(p, &policy, footprint, &mut scratch) {
                    Encoded::Compressed { blob, .. } => blob.len(),
                    Encoded::Raw => 4096,
                    Encoded::Zero | Encoded::Same(_) => 0,
                };
            }
            out
        })
    });

    let dir = temp_dir();
    let d = start_daemon(
        &dir,
        &[
            "-c",
            "256M",
            "-m",
            "256M",
            "--scan-interval",
            "0",
            "--queue-size",
            "64",
        ],
    );
    let mut guest = Guest::connect(&dir.path().join("zcxl.sock"), 3);
    guest.start();
    for (i, p) in pages.iter().enumerate() {
        guest.write_window(i as u64 * 4096, p);
    }
    let requests: Vec<Vec<u8>> = (0..PAGES)
        .collect::<Vec<_>>()
        .chunks(BATCH)
        .map(|c| {
            let ranges: Vec<(u64, u32)> = c.iter().map(|&i| (i * 4096, 1)).collect();
            data_request(DataOp::WriteHint, &ranges)
        })
        .collect();
    // Buffers are allocated once and reused by every iteration.
    let bufs: Vec<(Buf, Buf)> = requests
        .iter()
        .map(|r| (guest.out_buf(r), guest.in_buf(BATCH)))
        .collect();
    g.bench_function("data_queue/write_hint", |b| {
        b.iter(|| {
            for &(out, inb) in &bufs {
                guest.submit(2, &[out, inb]);
                let (_, len) = guest.wait_used_blocking(2);
                assert_eq!(len as usize, BATCH);
            }
        })
    });
    g.finish();
    let s = d.runtime().stats();
    assert_eq!(s.queues[2].rejected, 0);
    assert!(s.media.stores >= PAGES);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ProcessCpu);
    targets = bench
}
criterion_main!(benches);
