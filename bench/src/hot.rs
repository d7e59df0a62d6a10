//! Same-filled detection against a 4 KiB memcpy on cache-hot pages.
//!
//! A few same-filled pages (the worst case: the whole page must be read)
//! stay in L1; each kernel scans them round-robin, and memcpy copies them
//! into one hot destination. Best of several passes per contender, all in
//! this one run, so the ratio is comparable even on a busy machine.

use crate::harness::{Page, PAGE_SIZE};
use serde::Serialize;
use std::time::Instant;
use zcxl_device::codec::same_filled;

#[derive(Debug, Clone, Serialize)]
pub struct Hot {
    pub memcpy_mbps: f64,
    /// MB/s of every kernel this CPU runs, widest first.
    pub same_filled_mbps: Vec<(String, f64)>,
    /// The kernel `same_filled` dispatches to.
    pub dispatched: String,
    /// Dispatched kernel MB/s over memcpy MB/s.
    pub same_over_memcpy: f64,
}

const PAGES: usize = 4;
const ITERS: usize = 250_000;
const PASSES: usize = 7;

fn best_mbps(mut pass: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..PASSES {
        let t = Instant::now();
        pass();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (ITERS * PAGE_SIZE) as f64 / best / 1e6
}

pub fn measure() -> Hot {
    let mut pages: Vec<Page> = vec![[0; PAGE_SIZE]; PAGES];
    for (i, p) in pages.iter_mut().enumerate() {
        let w = 0x0101_0101_0101_0101u64 * (i as u64 + 1);
        p.chunks_exact_mut(8)
            .for_each(|c| c.copy_from_slice(&w.to_le_bytes()));
    }
    let mut dst: Box<Page> = Box::new([0; PAGE_SIZE]);
    let memcpy_mbps = best_mbps(|| {
        for i in 0..ITERS {
            dst.copy_from_slice(std::hint::black_box(&pages[i % PAGES]));
            std::hint::black_box(&mut dst);
        }
    });
    let mut same_filled_mbps = Vec::new();
    for k in same_filled::available() {
        let mbps = best_mbps(|| {
            for i in 0..ITERS {
                std::hint::black_box(k.run(std::hint::black_box(&pages[i % PAGES])));
            }
        });
        same_filled_mbps.push((k.name.to_string(), mbps));
    }
    let dispatched = same_filled::kernel().name.to_string();
    let dispatched_mbps = best_mbps(|| {
        for i in 0..ITERS {
            std::hint::black_box(same_filled::same_filled(std::hint::black_box(
                &pages[i % PAGES],
            )));
        }
    });
    Hot {
        memcpy_mbps,
        same_filled_mbps,
        dispatched,
        same_over_memcpy: dispatched_mbps / memcpy_mbps,
    }
}

pub fn print(h: &Hot) {
    println!("\n## cache-hot 4 KiB pages (same-filled: full scan)");
    println!("{:<24} {:>10.0} MB/s", "memcpy", h.memcpy_mbps);
    for (name, mbps) in &h.same_filled_mbps {
        println!("{:<24} {:>10.0} MB/s", format!("same-filled {name}"), mbps);
    }
    println!(
        "dispatched ({}) / memcpy = {:.2}",
        h.dispatched, h.same_over_memcpy
    );
}
