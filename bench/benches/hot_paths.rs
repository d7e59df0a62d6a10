//! Criterion benches of the hot functions, each beside its reference:
//! same-filled kernels vs memcpy, our LZ4 (fast vs checked twin) vs C on
//! a text page and on an incompressible one, match extension (wide vs
//! scalar), zstd with reused vs fresh contexts.
//!
//! `cargo bench -p zcxl-bench --bench hot_paths`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use zcxl_device::codec::lz4::{self, c_reference, wide, PageCompressor, OUT_CAPACITY};
use zcxl_device::codec::{same_filled, PageCodec, Zstd};
use zcxl_device::{Page, PAGE_SIZE};

/// Text-like page with matches of all lengths: the LZ4 workload.
fn text_page() -> Box<Page> {
    let words: [&[u8]; 9] = [
        b"the ",
        b"memory ",
        b"device ",
        b"compresses ",
        b"pages ",
        b"of ",
        b"4096 ",
        b"bytes, ",
        b"quickly. ",
    ];
    let mut page = Box::new([0u8; PAGE_SIZE]);
    let (mut i, mut x) = (0, 0x2545_f491u32);
    while i < PAGE_SIZE {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let w = words[x as usize % words.len()];
        let n = w.len().min(PAGE_SIZE - i);
        page[i..i + n].copy_from_slice(&w[..n]);
        i += n;
    }
    page
}

fn same_filled_vs_memcpy(c: &mut Criterion) {
    let mut g = c.benchmark_group("same_filled");
    g.throughput(Throughput::Bytes(PAGE_SIZE as u64));
    let page = Box::new([0x5au8; PAGE_SIZE]);
    let mut dst = Box::new([0u8; PAGE_SIZE]);
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&page[..]));
            black_box(&mut dst);
        })
    });
    for k in same_filled::available() {
        g.bench_function(k.name, |b| b.iter(|| k.run(black_box(&page))));
    }
    g.finish();
}

fn lz4(c: &mut Criterion) {
    let page = text_page();
    let mut out = vec![0u8; OUT_CAPACITY];
    let mut comp = PageCompressor::new();
    let mut g = c.benchmark_group("lz4_compress");
    g.throughput(Throughput::Bytes(PAGE_SIZE as u64));
    g.bench_function("zcxl", |b| {
        b.iter(|| comp.compress(black_box(&page), &mut out))
    });
    g.bench_function("zcxl_checked", |b| {
        b.iter(|| comp.compress_checked(black_box(&page), &mut out))
    });
    g.bench_function("c_default", |b| {
        b.iter(|| c_reference::compress_default(black_box(&page), &mut out))
    });
    g.finish();

    let n = comp.compress(&page, &mut out).unwrap_or(0);
    lz4_decompress(c, "lz4_decompress", &out[..n]);

    // An incompressible page: its blob is one run of 4,096 literals, which
    // the fast path copies with long_copy (AVX2 where present).
    let mut noise = Box::new([0u8; PAGE_SIZE]);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for w in noise.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w.copy_from_slice(&x.to_le_bytes());
    }
    let n = comp.compress(&noise, &mut out).unwrap_or(0);
    lz4_decompress(c, "lz4_decompress_incompressible", &out[..n]);

    // A long match: 3 KiB of repeated text after a 1 KiB prefix.
    let mut long = Box::new([0u8; PAGE_SIZE]);
    for (i, b) in long.iter_mut().enumerate() {
        *b = (i % 1024) as u8;
    }
    let mut g = c.benchmark_group("lz4_match_length");
    g.bench_function("wide", |b| {
        // SAFETY: 0 < 1024 <= PAGE_SIZE.
        b.iter(|| unsafe { wide::count_wide(black_box(&long), 1024, 0, PAGE_SIZE) })
    });
    g.bench_function("scalar", |b| {
        b.iter(|| wide::count_scalar(black_box(&long), 1024, 0, PAGE_SIZE))
    });
    g.finish();
}

/// One blob decoded by our fast decoder, its checked twin and C's.
fn lz4_decompress(c: &mut Criterion, group: &str, blob: &[u8]) {
    let mut back = Box::new([0u8; PAGE_SIZE]);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(PAGE_SIZE as u64));
    g.bench_function("zcxl", |b| {
        b.iter(|| lz4::decompress_page(black_box(blob), &mut back))
    });
    g.bench_function("zcxl_checked", |b| {
        b.iter(|| lz4::decompress_page_checked(black_box(blob), &mut back))
    });
    g.bench_function("c_safe", |b| {
        b.iter(|| c_reference::decompress_safe(black_box(blob), &mut back[..]))
    });
    g.finish();
}

fn zstd_contexts(c: &mut Criterion) {
    let page = text_page();
    let mut out = vec![0u8; 2 * PAGE_SIZE];
    let mut g = c.benchmark_group("zstd3_compress");
    g.throughput(Throughput::Bytes(PAGE_SIZE as u64));
    let zcxl = Zstd::new(3);
    g.bench_function("reused_context", |b| {
        b.iter(|| zcxl.compress(black_box(&page), &mut out))
    });
    g.bench_function("bulk_per_page", |b| {
        b.iter(|| zstd::bulk::compress_to_buffer(black_box(&page[..]), &mut out, 3))
    });
    g.finish();
}

criterion_group!(benches, same_filled_vs_memcpy, lz4, zstd_contexts);
criterion_main!(benches);
