//! The measurement protocol: how one codec is timed on one set of pages.
//!
//! This file depends on `std` and `serde` only, because the lz4_flex-unsafe
//! helper binary (`bench/flex-unsafe`) includes it by path: both processes
//! measure with exactly this code (see the crate docs for why there are two
//! processes).
//!
//! Per codec and page set:
//! 1. One untimed pass compresses every page, decompresses the blob and
//!    checks the round trip (a codec that loses data fails the run).
//! 2. `reps` timed compression passes and `reps` timed decompression passes
//!    over all pages, each split over `threads` threads that start together
//!    at a barrier. One thread times its pages in chunks of [`CHUNK`] pages
//!    and keeps, per chunk, the fastest of its passes; its time is the sum of
//!    those. On a shared machine a pass of tens of milliseconds is almost
//!    always cut by the scheduler somewhere; per-chunk minima discard those
//!    cuts, where a best whole pass cannot. Several threads are timed on the
//!    wall clock instead, from the barrier that starts a pass to the one that
//!    ends it, best pass kept: per-chunk minima of threads that share cores
//!    would add up to more throughput than the cores have.
//! 3. One pass timing every page on its own for the latency percentiles,
//!    minus the measured cost of reading the clock.

use serde::{Deserialize, Serialize};
use std::sync::Barrier;
use std::time::{Duration, Instant};

pub const PAGE_SIZE: usize = 4096;
pub type Page = [u8; PAGE_SIZE];
/// Room every codec gets to compress one page into (more than any worst case).
pub const OUT_LEN: usize = 2 * PAGE_SIZE;
/// Pages timed together in a timed pass.
pub const CHUNK: usize = 32;

/// What compressing one page produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packed {
    /// Bytes written to the output buffer.
    pub len: usize,
    /// The page is one repeated word: it costs only metadata on the media.
    pub same: bool,
}

impl Packed {
    pub fn blob(len: usize) -> Self {
        Self { len, same: false }
    }
}

/// A page compressor as the benchmark drives it. One instance per thread,
/// so instances may keep state (tables, contexts) between pages.
pub trait Codec: Send {
    fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String>;
    fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String>;
}

/// Builds a codec instance (called once per thread).
pub type MakeCodec<'a> = &'a (dyn Fn() -> Box<dyn Codec> + Sync);

/// Raw results for one codec on one page set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub pages: usize,
    pub threads: usize,
    /// Blob length per page; 0 for a page stored as a repeated word.
    pub blob_lens: Vec<u32>,
    /// Time to compress all pages (per-chunk best of the passes, summed).
    pub compress_secs: f64,
    /// Time to decompress all pages (likewise).
    pub decompress_secs: f64,
    pub compress_ns: Percentiles,
    pub decompress_ns: Percentiles,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

/// Measures one codec on `pages` (see the module docs for the protocol).
pub fn measure(
    make: MakeCodec,
    pages: &[Page],
    threads: usize,
    reps: usize,
) -> Result<Measurement, String> {
    let threads = threads.clamp(1, pages.len().max(1));
    let shares: Vec<&[Page]> = pages.chunks(pages.len().div_ceil(threads).max(1)).collect();
    let barrier = Barrier::new(shares.len());
    let clock = clock_overhead_ns();

    let per_thread: Vec<Result<ThreadResult, String>> = std::thread::scope(|s| {
        let workers: Vec<_> = shares
            .iter()
            .map(|share| {
                let barrier = &barrier;
                let sync = (barrier, shares.len());
                s.spawn(move || run_thread(make(), share, reps.max(1), sync, clock))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a worker thread panicked".into()))
            })
            .collect()
    });

    let mut m = Measurement {
        pages: pages.len(),
        threads: shares.len(),
        blob_lens: Vec::with_capacity(pages.len()),
        compress_secs: 0.0,
        decompress_secs: 0.0,
        compress_ns: Percentiles::default(),
        decompress_ns: Percentiles::default(),
    };
    let (mut c_lat, mut d_lat) = (Vec::new(), Vec::new());
    for r in per_thread {
        let r = r?;
        m.blob_lens.extend(r.blob_lens);
        // The run lasts as long as its slowest thread (with several
        // threads, every one measured the same wall-clock passes).
        m.compress_secs = m.compress_secs.max(r.compress_secs);
        m.decompress_secs = m.decompress_secs.max(r.decompress_secs);
        c_lat.extend(r.compress_lat);
        d_lat.extend(r.decompress_lat);
    }
    m.compress_ns = percentiles(&mut c_lat);
    m.decompress_ns = percentiles(&mut d_lat);
    Ok(m)
}

struct ThreadResult {
    blob_lens: Vec<u32>,
    compress_secs: f64,
    decompress_secs: f64,
    compress_lat: Vec<f64>,
    decompress_lat: Vec<f64>,
}

fn run_thread(
    mut codec: Box<dyn Codec>,
    pages: &[Page],
    reps: usize,
    sync: (&Barrier, usize),
    clock_ns: f64,
) -> Result<ThreadResult, String> {
    let (barrier, threads) = sync;
    // A thread whose pages fail the check still takes its part in every
    // barrier below, or the other threads would wait for it forever.
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check(codec.as_mut(), pages)
    }))
    .unwrap_or_else(|_| Err("the codec panicked".into()));
    let wall = threads > 1;
    let (mut c_pass, mut d_pass) = (Duration::MAX, Duration::MAX);
    let chunks = pages.len().div_ceil(CHUNK);
    let mut c_best = vec![Duration::MAX; chunks];
    let mut d_best = vec![Duration::MAX; chunks];
    let mut out = vec![0u8; OUT_LEN];
    let mut back: Box<Page> = Box::new([0; PAGE_SIZE]);
    let work = checked.as_ref().ok();

    // 2. Timed passes, per chunk of pages.
    for _ in 0..reps {
        barrier.wait();
        let start = Instant::now();
        if work.is_some() {
            for (best, chunk) in c_best.iter_mut().zip(pages.chunks(CHUNK)) {
                let t = Instant::now();
                for page in chunk {
                    let _ =
                        std::hint::black_box(codec.compress(std::hint::black_box(page), &mut out));
                }
                *best = (*best).min(t.elapsed());
            }
        }
        barrier.wait();
        c_pass = c_pass.min(start.elapsed());
    }
    for _ in 0..reps {
        barrier.wait();
        let start = Instant::now();
        if let Some(v) = work {
            for (best, chunk) in d_best.iter_mut().zip(v.spans.chunks(CHUNK)) {
                let t = Instant::now();
                for span in chunk {
                    // Verified above; errors cannot happen on these blobs.
                    let _ =
                        std::hint::black_box(codec.decompress(&v.blobs[span.clone()], &mut back));
                }
                *best = (*best).min(t.elapsed());
            }
        }
        barrier.wait();
        d_pass = d_pass.min(start.elapsed());
    }
    let checked = checked?;
    let secs = |d: Duration| (d.as_nanos() as f64 - clock_ns).max(0.0) / 1e9;
    let total = |best: &[Duration], pass: Duration| {
        if wall {
            secs(pass)
        } else {
            best.iter().map(|&d| secs(d)).sum::<f64>()
        }
    };

    // 3. Per-page latency.
    let mut compress_lat = Vec::with_capacity(pages.len());
    let mut decompress_lat = Vec::with_capacity(pages.len());
    for (page, span) in pages.iter().zip(&checked.spans) {
        let t = Instant::now();
        let _ = std::hint::black_box(codec.compress(std::hint::black_box(page), &mut out));
        compress_lat.push((t.elapsed().as_nanos() as f64 - clock_ns).max(0.0));
        let t = Instant::now();
        let _ = std::hint::black_box(codec.decompress(&checked.blobs[span.clone()], &mut back));
        decompress_lat.push((t.elapsed().as_nanos() as f64 - clock_ns).max(0.0));
    }

    Ok(ThreadResult {
        blob_lens: checked.blob_lens,
        compress_secs: total(&c_best, c_pass),
        decompress_secs: total(&d_best, d_pass),
        compress_lat,
        decompress_lat,
    })
}

/// The blobs of a thread's pages, each round trip checked.
struct Checked {
    blobs: Vec<u8>,
    spans: Vec<std::ops::Range<usize>>,
    blob_lens: Vec<u32>,
}

/// 1. Compresses every page once, keeps the blobs, checks the round trip.
fn check(codec: &mut dyn Codec, pages: &[Page]) -> Result<Checked, String> {
    let mut out = vec![0u8; OUT_LEN];
    let mut back: Box<Page> = Box::new([0; PAGE_SIZE]);
    let mut c = Checked {
        blobs: Vec::with_capacity(pages.len() * PAGE_SIZE / 2),
        spans: Vec::with_capacity(pages.len()),
        blob_lens: Vec::with_capacity(pages.len()),
    };
    for (i, page) in pages.iter().enumerate() {
        let packed = codec
            .compress(page, &mut out)
            .map_err(|e| format!("page {i}: {e}"))?;
        if packed.len > out.len() {
            return Err(format!(
                "page {i}: blob of {} B overflows the buffer",
                packed.len
            ));
        }
        let blob = &out[..packed.len];
        codec
            .decompress(blob, &mut back)
            .map_err(|e| format!("page {i}: its own blob does not decode: {e}"))?;
        if back[..] != page[..] {
            return Err(format!("page {i}: round trip changed the page"));
        }
        c.spans.push(c.blobs.len()..c.blobs.len() + packed.len);
        c.blobs.extend_from_slice(blob);
        c.blob_lens
            .push(if packed.same { 0 } else { packed.len as u32 });
    }
    Ok(c)
}

/// Median cost of an `Instant::now()` / `elapsed()` pair with nothing in
/// between: what every latency sample carries on top of the work.
pub fn clock_overhead_ns() -> f64 {
    let mut samples: Vec<f64> = (0..10_001)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(t.elapsed().as_nanos() as f64)
        })
        .collect();
    percentiles(&mut samples).p50
}

/// p50 and p99 (nearest rank) of `samples`, which get sorted.
pub fn percentiles(samples: &mut [f64]) -> Percentiles {
    if samples.is_empty() {
        return Percentiles::default();
    }
    samples.sort_by(f64::total_cmp);
    let rank =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    Percentiles {
        p50: rank(0.50),
        p99: rank(0.99),
    }
}

/// Raw page file format between zcxl-bench and its helper: pages back to back.
/// (Only the helper reads page files.)
#[allow(dead_code)]
pub fn read_pages(bytes: &[u8]) -> Result<Vec<Page>, String> {
    if !bytes.len().is_multiple_of(PAGE_SIZE) {
        return Err(format!(
            "{} bytes is not a whole number of pages",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(PAGE_SIZE)
        .map(|c| {
            let mut p = [0u8; PAGE_SIZE];
            p.copy_from_slice(c);
            p
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Copy;
    impl Codec for Copy {
        fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
            out[..PAGE_SIZE].copy_from_slice(page);
            Ok(Packed::blob(PAGE_SIZE))
        }
        fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
            page.copy_from_slice(blob);
            Ok(())
        }
    }

    struct Lossy;
    impl Codec for Lossy {
        fn compress(&mut self, _: &Page, _: &mut [u8]) -> Result<Packed, String> {
            Ok(Packed::blob(0))
        }
        fn decompress(&mut self, _: &[u8], page: &mut Page) -> Result<(), String> {
            page.fill(1);
            Ok(())
        }
    }

    #[test]
    fn measures_every_page_on_every_thread() {
        let pages = vec![[7u8; PAGE_SIZE]; 10];
        let m = measure(&|| Box::new(Copy), &pages, 3, 2).unwrap();
        assert_eq!(m.pages, 10);
        assert_eq!(m.threads, 3);
        assert_eq!(m.blob_lens, vec![PAGE_SIZE as u32; 10]);
        assert!(m.compress_secs > 0.0 && m.compress_secs.is_finite());
        assert!(m.decompress_secs > 0.0 && m.decompress_secs.is_finite());
    }

    #[test]
    fn a_codec_that_loses_data_fails_the_run() {
        let pages = vec![[0u8; PAGE_SIZE]; 2];
        let err = measure(&|| Box::new(Lossy), &pages, 1, 1).unwrap_err();
        assert!(err.contains("round trip"), "{err}");
    }

    /// Loses pages that start with 9, panics on pages that start with 8.
    struct Picky;
    impl Codec for Picky {
        fn compress(&mut self, page: &Page, out: &mut [u8]) -> Result<Packed, String> {
            assert_ne!(page[0], 8, "a codec bug");
            Copy.compress(page, out)
        }
        fn decompress(&mut self, blob: &[u8], page: &mut Page) -> Result<(), String> {
            Copy.decompress(blob, page)?;
            page[0] = page[0].min(8);
            Ok(())
        }
    }

    #[test]
    fn one_failing_thread_fails_the_run_without_stalling_the_others() {
        // Two threads: the second share holds the bad page. Before, the
        // first thread waited at the barrier for ever.
        for bad in [9u8, 8] {
            let mut pages = vec![[7u8; PAGE_SIZE]; 4];
            pages[3][0] = bad;
            let err = measure(&|| Box::new(Picky), &pages, 2, 2).unwrap_err();
            let want = if bad == 9 { "round trip" } else { "panicked" };
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut s: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = percentiles(&mut s);
        assert_eq!((p.p50, p.p99), (50.0, 99.0));
        assert_eq!(percentiles(&mut [5.0]).p99, 5.0);
    }

    #[test]
    fn page_files_must_be_whole_pages() {
        assert_eq!(read_pages(&[0; 2 * PAGE_SIZE]).unwrap().len(), 2);
        assert!(read_pages(&[0; 100]).is_err());
    }
}
