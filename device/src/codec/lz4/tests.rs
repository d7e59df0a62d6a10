//! Our LZ4 against itself (fast path vs safe twin) and against the C
//! reference, on generated pages and on malformed blobs.

use super::c_reference;
use super::*;
use crate::geometry::PAGE_SIZE;
use proptest::prelude::*;

/// A page made of segments of different character: repeated short
/// patterns, text-like words, zero runs and random bytes, so one page has
/// long and short matches, small and large offsets, and literal runs.
fn page_from(segments: &[(u8, u16, u64)]) -> Box<Page> {
    let mut page = Box::new([0u8; PAGE_SIZE]);
    let mut pos = 0;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let next = |x: &mut u64| {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    };
    for &(kind, len, seed) in segments.iter().cycle() {
        if pos == PAGE_SIZE {
            break;
        }
        let len = usize::from(len).clamp(1, PAGE_SIZE - pos);
        x ^= seed | 1;
        let seg = &mut page[pos..pos + len];
        match kind % 4 {
            0 => {
                let period = (seed % 23 + 1) as usize;
                let pat: Vec<u8> = (0..period).map(|_| next(&mut x) as u8).collect();
                for (i, b) in seg.iter_mut().enumerate() {
                    *b = pat[i % period];
                }
            }
            1 => {
                const WORDS: [&[u8]; 8] = [
                    b"the ",
                    b"page ",
                    b"memory ",
                    b"of ",
                    b"compressed ",
                    b"cxl ",
                    b"node ",
                    b"zswap ",
                ];
                let mut i = 0;
                while i < len {
                    let w = WORDS[(next(&mut x) % 8) as usize];
                    let n = w.len().min(len - i);
                    seg[i..i + n].copy_from_slice(&w[..n]);
                    i += n;
                }
            }
            2 => seg.fill(0),
            _ => seg.iter_mut().for_each(|b| *b = next(&mut x) as u8),
        }
        pos += len;
    }
    page
}

fn segments() -> impl Strategy<Value = Vec<(u8, u16, u64)>> {
    proptest::collection::vec((any::<u8>(), 1u16..1500, any::<u64>()), 1..12)
}

/// Compresses with both twins, asserts identical blobs, returns the blob.
fn compress_both(page: &Page) -> Vec<u8> {
    let mut fast = vec![0u8; OUT_CAPACITY];
    let mut checked = vec![0u8; OUT_CAPACITY];
    let n = PageCompressor::new().compress(page, &mut fast).unwrap();
    let m = PageCompressor::new()
        .compress_checked(page, &mut checked)
        .unwrap();
    assert_eq!(fast[..n], checked[..m], "fast and checked blobs differ");
    fast.truncate(n);
    fast
}

/// Decodes with both twins, asserts they agree, returns the result.
fn decode_both(blob: &[u8]) -> Result<Box<Page>, Lz4Error> {
    let mut fast = Box::new([0xa5u8; PAGE_SIZE]);
    let mut checked = Box::new([0x5au8; PAGE_SIZE]);
    let a = decompress_page(blob, &mut fast);
    let b = decompress_page_checked(blob, &mut checked);
    assert_eq!(a, b, "fast and checked decoders disagree");
    a.map(|()| {
        assert_eq!(fast, checked);
        fast
    })
}

fn c_decode(blob: &[u8]) -> Option<Box<Page>> {
    let mut out = Box::new([0u8; PAGE_SIZE]);
    (c_reference::decompress_safe(blob, &mut out[..]) == Some(PAGE_SIZE)).then_some(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn our_blobs_round_trip_and_decode_with_c(segs in segments()) {
        let page = page_from(&segs);
        let blob = compress_both(&page);
        prop_assert!(blob.len() <= MAX_BLOB);
        prop_assert_eq!(decode_both(&blob).unwrap(), page.clone());
        prop_assert_eq!(c_decode(&blob), Some(page));
    }

    #[test]
    fn c_blobs_decode_with_ours(segs in segments(), accel in 1i32..20) {
        let page = page_from(&segs);
        let mut blob = vec![0u8; MAX_BLOB];
        let n = c_reference::compress_fast(&page, accel, &mut blob).unwrap();
        prop_assert_eq!(decode_both(&blob[..n]).unwrap(), page);
    }

    #[test]
    fn damaged_blobs_get_the_same_verdict_from_both_decoders_and_c(
        segs in segments(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in any::<usize>(),
    ) {
        let page = page_from(&segs);
        let mut blob = compress_both(&page);
        for (pos, b) in edits {
            let i = pos % blob.len();
            blob[i] = b;
        }
        if cut % 3 == 0 {
            blob.truncate(cut % (blob.len() + 1));
        }
        // Both twins agree (checked inside decode_both); whatever C decodes
        // to a page, we decode to the same page.
        agrees_with_c(&blob)?;
    }

    #[test]
    fn random_bytes_never_break_the_decoders(blob in proptest::collection::vec(any::<u8>(), 0..200)) {
        agrees_with_c(&blob)?;
    }

    #[test]
    fn generated_sequences_get_the_same_verdict_from_both_decoders_and_c(
        seqs in proptest::collection::vec(sequence(), 1..400),
        exact_end in any::<bool>(),
        valid in any::<bool>(),
        seed in any::<u64>(),
    ) {
        // Hand-built blobs reach what compressed pages rarely do: every
        // length class and small offset right up to the page end, and
        // sequences that overrun it by a few bytes.
        let blob = encode_sequences(&seqs, exact_end, valid, seed);
        let ours = decode_both(&blob);
        agrees_with_c(&blob)?;
        if exact_end && valid {
            // Well-formed by construction: it must decode, like C does.
            prop_assert!(ours.is_ok(), "{:?}", ours.err());
            prop_assert!(c_decode(&blob).is_some());
        }
    }
}

/// (literals, match length, offset selector, offset value).
fn sequence() -> impl Strategy<Value = (usize, usize, u8, u16)> {
    (
        prop_oneof![0usize..15, 15usize..300],
        prop_oneof![4usize..19, 19usize..80, 80usize..1200],
        any::<u8>(),
        any::<u16>(),
    )
}

/// Appends the extension bytes of a length field (`n` already minus 15).
fn put_len(blob: &mut Vec<u8>, mut n: usize) {
    while n >= 255 {
        blob.push(255);
        n -= 255;
    }
    blob.push(n as u8);
}

/// LZ4-encodes `seqs`. The offset selector picks a small offset (1..=20),
/// an offset inside the output so far, or any 16-bit value (often
/// invalid, 0 included); with `valid`, offsets are clamped into
/// `1..=` the output so far (and the first sequence gets a literal). With `exact_end`, sequences stop
/// while the format's end rules still hold and final literals fill the
/// page exactly; otherwise the last sequence's literal count ends the
/// block wherever the output is.
fn encode_sequences(
    seqs: &[(usize, usize, u8, u16)],
    exact_end: bool,
    valid: bool,
    seed: u64,
) -> Vec<u8> {
    let mut x = seed | 1;
    let mut literals = |blob: &mut Vec<u8>, n: usize| {
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // A small alphabet, so that matches of random offsets vary.
            blob.push(b"abcd"[(x % 4) as usize]);
        }
    };
    let token = |lit: usize, ml: usize| ((lit.min(15) as u8) << 4) | (ml - 4).min(15) as u8;
    let mut blob = Vec::new();
    let mut op = 0usize;
    for &(lit, ml, sel, value) in seqs {
        let lit = if valid && op == 0 { lit.max(1) } else { lit };
        if exact_end && op + lit + ml + 12 > PAGE_SIZE {
            break;
        }
        let offset = match sel % 3 {
            0 => 1 + usize::from(value) % 20,
            1 => 1 + usize::from(value) % (op + lit).max(1),
            _ => usize::from(value),
        };
        // `op + lit >= 1` here when `valid` (the first sequence has a literal).
        let offset = if valid {
            offset.clamp(1, op + lit)
        } else {
            offset
        };
        blob.push(token(lit, ml));
        if lit >= 15 {
            put_len(&mut blob, lit - 15);
        }
        literals(&mut blob, lit);
        blob.extend_from_slice(&(offset as u16).to_le_bytes());
        if ml - 4 >= 15 {
            put_len(&mut blob, ml - 19);
        }
        op += lit + ml;
    }
    let last = if exact_end {
        PAGE_SIZE.saturating_sub(op)
    } else {
        seqs[0].0
    };
    blob.push(token(last, 4) & 0xf0);
    if last >= 15 {
        put_len(&mut blob, last - 15);
    }
    literals(&mut blob, last);
    blob
}

/// Whatever C decodes to a page, we decode to the same page, with one
/// deliberate exception: offset 0, which the format declares invalid and C's
/// safe decoder lets through for speed (copying bytes onto themselves).
fn agrees_with_c(blob: &[u8]) -> Result<(), TestCaseError> {
    let ours = decode_both(blob);
    if let Some(c) = c_decode(blob) {
        match ours {
            Ok(page) => prop_assert_eq!(page, c),
            Err(Lz4Error::BadOffset { offset: 0, .. }) => {}
            Err(e) => prop_assert!(false, "C decodes a page, we say {e}"),
        }
    }
    Ok(())
}

#[test]
fn blob_sizes_stay_within_one_percent_of_c_on_sample_pages() {
    // C's greedy parse with a 5-byte key and no positions inside matches
    // indexed: the total must never exceed C's by more than the 1% the
    // codec is held to.
    let (mut ours, mut c) = (0usize, 0usize);
    for seed in 0..200u64 {
        let segs: Vec<_> = (0..6)
            .map(|i| {
                (
                    (seed + i) as u8,
                    (seed * 37 + i * 101) as u16 % 900 + 50,
                    seed ^ i,
                )
            })
            .collect();
        let page = page_from(&segs);
        ours += compress_both(&page).len();
        let mut blob = vec![0u8; MAX_BLOB];
        c += c_reference::compress_default(&page, &mut blob).unwrap();
    }
    assert!(ours as f64 <= c as f64 * 1.01, "ours {ours} B vs C {c} B");
}

/// The first sequence of a blob: (literals, offset, match length).
fn first_sequence(blob: &[u8]) -> (usize, usize, usize) {
    // A length field: the token's nibble, plus extension bytes after 15.
    fn length(blob: &[u8], i: &mut usize, nibble: u8) -> usize {
        let n = usize::from(nibble);
        if nibble == 15 {
            super::decompress::extend_length(blob, i, n).expect("length runs past the blob")
        } else {
            n
        }
    }
    let mut i = 1;
    let lit = length(blob, &mut i, blob[0] >> 4);
    i += lit;
    let offset = usize::from(u16::from_le_bytes([blob[i], blob[i + 1]]));
    i += 2;
    let ml = length(blob, &mut i, blob[0] & 15) + 4;
    (lit, offset, ml)
}

#[test]
fn matches_are_extended_to_their_full_length() {
    // Random bytes with one copy of `len` bytes from 2 to 60: the first
    // sequence must be 60 literals and that match, whole. Lengths cover
    // every way the extension ends (in its first 8 bytes, its second 8,
    // the counting loop); the bytes before and after the copy differ from
    // those around its source.
    let base = page_from(&[(3, PAGE_SIZE as u16, 0x2545_f491_4f6c_dd1d)]);
    for len in 5..=57 {
        let mut page = *base;
        page.copy_within(2..2 + len, 60);
        page[60 + len] = page[2 + len] ^ 1;
        page[59] = page[1] ^ 1;
        let blob = compress_both(&page);
        assert_eq!(first_sequence(&blob), (60, 58, len), "copy of {len} bytes");
    }
}

#[test]
fn blobs_do_not_depend_on_earlier_pages() {
    // A reused compressor produces exactly what a fresh one does.
    let pages: Vec<_> = (0..40)
        .map(|i| page_from(&[(i as u8, 300, i as u64), (1, 200, 7), (0, 100, i as u64)]))
        .collect();
    let mut reused = PageCompressor::new();
    for page in &pages {
        let mut out = vec![0u8; OUT_CAPACITY];
        let n = reused.compress(page, &mut out).unwrap();
        assert_eq!(out[..n], compress_both(page)[..]);
    }
}

#[test]
fn small_output_buffers_fit_or_refuse() {
    let page = page_from(&[(1, 4096, 3)]);
    let blob = compress_both(&page);
    let mut c = PageCompressor::new();
    let mut exact = vec![0u8; blob.len()];
    assert_eq!(c.compress(&page, &mut exact), Some(blob.len()));
    assert_eq!(exact, blob);
    let mut short = vec![0u8; blob.len() - 1];
    assert_eq!(c.compress(&page, &mut short), None);
    assert_eq!(c.compress_checked(&page, &mut short), None);
}

#[test]
fn extreme_pages_round_trip() {
    let zero = Box::new([0u8; PAGE_SIZE]);
    let blob = compress_both(&zero);
    assert!(blob.len() < 32, "zero page took {} B", blob.len());
    let mut ramp = Box::new([0u8; PAGE_SIZE]);
    ramp.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    let random = page_from(&[(3, 4096, 1)]);
    for page in [zero, ramp, random] {
        let blob = compress_both(&page);
        assert_eq!(decode_both(&blob).unwrap(), page);
        assert_eq!(c_decode(&blob), Some(page));
    }
}

#[test]
fn literal_runs_that_end_near_the_page_end_are_copied_exactly() {
    // Zeros, then `lit` distinct bytes ending where a copy of their first
    // 12 starts, in the last 16 bytes a match may start in: the run cannot
    // be copied in 16-byte chunks there, so the fast path takes its exact
    // copy (every length class of it) and must agree with the checked one.
    for start in PAGE_SIZE - 20..=PAGE_SIZE - 12 {
        for lit in 1..=64 {
            let mut page = Box::new([0u8; PAGE_SIZE]);
            let from = start - lit;
            for (i, b) in page[from..start].iter_mut().enumerate() {
                *b = final_literal(i) | 1;
            }
            page.copy_within(from..from + (PAGE_SIZE - start).min(12), start);
            let blob = compress_both(&page);
            assert_eq!(decode_both(&blob).unwrap(), page, "start {start} lit {lit}");
            assert_eq!(c_decode(&blob), Some(page));
        }
    }
}

/// The `i`th literal of [`zeros_then_literals`]'s final run.
fn final_literal(i: usize) -> u8 {
    (i * 31 + 7) as u8
}

/// A blob of `op` zero bytes (one literal and a match at offset 1), then
/// one final run of `lit` literals ([`final_literal`]), with the last `cut`
/// bytes removed.
fn zeros_then_literals(op: usize, lit: usize, cut: usize) -> (Vec<u8>, usize) {
    let mut blob = Vec::new();
    if op > 0 {
        // The match's length field counts beyond the 4 bytes every match has.
        let ml = op - 1 - 4;
        blob.extend_from_slice(&[0x10 | ml.min(15) as u8, 0, 1, 0]);
        if ml >= 15 {
            put_len(&mut blob, ml - 15);
        }
    }
    let token_at = blob.len();
    blob.push((lit.min(15) as u8) << 4);
    if lit >= 15 {
        put_len(&mut blob, lit - 15);
    }
    blob.extend((0..lit).map(final_literal));
    blob.truncate(blob.len() - cut);
    (blob, token_at)
}

#[test]
fn final_literal_runs_must_fill_the_page_exactly() {
    // The fast loop copies a long final run itself; short, long and cut
    // runs must still get the exact loop's verdict (decode_both compares).
    use Lz4Error::*;
    for op in [0, 5, 1000, PAGE_SIZE - 64, PAGE_SIZE - 33, PAGE_SIZE - 20] {
        let rest = PAGE_SIZE - op;
        let (blob, _) = zeros_then_literals(op, rest, 0);
        let page = decode_both(&blob).unwrap_or_else(|e| panic!("op {op}: {e}"));
        assert!(page[..op].iter().all(|&b| b == 0), "op {op}: prefix");
        assert!(
            page[op..]
                .iter()
                .enumerate()
                .all(|(i, &b)| b == final_literal(i)),
            "op {op}: literals"
        );
        assert_eq!(c_decode(&blob), Some(page), "op {op}: C");

        let (blob, _) = zeros_then_literals(op, rest - 1, 0);
        let want = ShortOutput { len: PAGE_SIZE - 1 };
        assert_eq!(decode_both(&blob).unwrap_err(), want, "op {op}, one short");
        let (blob, at) = zeros_then_literals(op, rest + 1, 0);
        assert_eq!(
            decode_both(&blob).unwrap_err(),
            Overflow { at },
            "op {op}, one over"
        );
        let (blob, at) = zeros_then_literals(op, rest, 1);
        assert_eq!(
            decode_both(&blob).unwrap_err(),
            Truncated { at },
            "op {op}, cut"
        );
        assert_eq!(c_decode(&blob), None, "op {op}: C accepted a cut run");
    }
}

#[test]
fn malformed_blobs_get_precise_errors() {
    use Lz4Error::*;
    let cases: &[(&[u8], Lz4Error)] = &[
        (&[], Truncated { at: 0 }),
        // 15 literals announced, extension byte missing.
        (&[0xf0], Truncated { at: 0 }),
        // 2 literals, then the blob ends: a short page.
        (&[0x20, 1, 2], ShortOutput { len: 2 }),
        // 1 literal, then a match with offset 0.
        (
            &[0x10, 9, 0, 0],
            BadOffset {
                at: 0,
                offset: 0,
                pos: 1,
            },
        ),
        // 1 literal, then a match reaching 2 bytes back.
        (
            &[0x10, 9, 2, 0],
            BadOffset {
                at: 0,
                offset: 2,
                pos: 1,
            },
        ),
        // 1 literal, then the offset is cut off.
        (&[0x10, 9, 1], Truncated { at: 0 }),
        // A match of 15 + 255 * 17 + 4 bytes: longer than the page.
        (
            &[
                0x1f, 9, 1, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                255, 255, 255, 255, 0,
            ],
            Overflow { at: 0 },
        ),
        // A block that ends right after a match (no final literals).
        (&[0x10, 9, 1, 0], Truncated { at: 4 }),
    ];
    for (blob, want) in cases {
        assert_eq!(decode_both(blob).unwrap_err(), *want, "blob {blob:?}");
        assert_eq!(c_decode(blob), None, "C accepted {blob:?}");
    }
}

#[test]
fn trait_impl_reports_codec_errors() {
    let mut out = [0u8; PAGE_SIZE];
    let err = Lz4.decompress(&[0x20, 1, 2], &mut out).unwrap_err();
    assert_eq!(err.codec, "lz4");
    assert_eq!(err.len, 3);
    assert!(err.reason.contains("2 bytes"), "{}", err.reason);
}
