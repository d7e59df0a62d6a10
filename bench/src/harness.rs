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
//!    at a barrier. Each thread times its pages in chunks of [`CHUNK`]
//!    pages and keeps, per chunk, the fastest of its passes; a thread's time
//!    is the sum of those, the run's time that of the slowest thread. On a
//!    shared machine a pass of tens of milliseconds is almost always cut by
//!    the scheduler somewhere; per-chunk minima discard those cuts, where a
//!    best whole pass cannot.
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
                s.spawn(move || run_thread(make(), share, reps.max(1), barrier, clock))
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
        // The run lasts as long as its slowest thread.
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
    barrier: &Barrier,
    clock_ns: f64,
) -> Result<ThreadResult, String> {
    let mut out = vec![0u8; OUT_LEN];
    let mut back: Box<Page> = Box::new([0; PAGE_SIZE]);

    // 1. Compress every page once, keep the blobs, check the round trip.
    let mut blobs = Vec::with_capacity(pages.len() * PAGE_SIZE / 2);
    let mut spans = Vec::with_capacity(pages.len());
    let mut blob_lens = Vec::with_capacity(pages.len());
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
        spans.push(blobs.len()..blobs.len() + packed.len);
        blobs.extend_from_slice(blob);
        blob_lens.push(if packed.same { 0 } else { packed.len as u32 });
    }

    // 2. Timed passes, per chunk of pages.
    let chunks = pages.len().div_ceil(CHUNK);
    let mut c_best = vec![Duration::MAX; chunks];
    let mut d_best = vec![Duration::MAX; chunks];
    for _ in 0..reps {
        barrier.wait();
        for (best, chunk) in c_best.iter_mut().zip(pages.chunks(CHUNK)) {
            let start = Instant::now();
            for page in chunk {
                let _ = std::hint::black_box(codec.compress(std::hint::black_box(page), &mut out));
            }
            *best = (*best).min(start.elapsed());
        }
    }
    for _ in 0..reps {
        barrier.wait();
        for (best, chunk) in d_best.iter_mut().zip(spans.chunks(CHUNK)) {
            let start = Instant::now();
            for span in chunk {
                // Verified above; errors cannot happen on these blobs.
                let _ = std::hint::black_box(codec.decompress(&blobs[span.clone()], &mut back));
            }
            *best = (*best).min(start.elapsed());
        }
    }
    let total = |best: &[Duration]| {
        best.iter()
            .map(|d| (d.as_nanos() as f64 - clock_ns).max(0.0) / 1e9)
            .sum::<f64>()
    };

    // 3. Per-page latency.
    let mut compress_lat = Vec::with_capacity(pages.len());
    let mut decompress_lat = Vec::with_capacity(pages.len());
    for (page, span) in pages.iter().zip(&spans) {
        let t = Instant::now();
        let _ = std::hint::black_box(codec.compress(std::hint::black_box(page), &mut out));
        compress_lat.push((t.elapsed().as_nanos() as f64 - clock_ns).max(0.0));
        let t = Instant::now();
        let _ = std::hint::black_box(codec.decompress(&blobs[span.clone()], &mut back));
        decompress_lat.push((t.elapsed().as_nanos() as f64 - clock_ns).max(0.0));
    }

    Ok(ThreadResult {
        blob_lens,
        compress_secs: total(&c_best),
        decompress_secs: total(&d_best),
        compress_lat,
        decompress_lat,
    })
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
