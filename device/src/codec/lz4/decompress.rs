//! LZ4 block decompressor for one 4 KiB page, bounds-checked throughout.
//!
//! Two loops share the work. [`decode_exact`] is the safe reference: slice
//! accesses, exact copies, every length validated; it is also the whole
//! decoder of [`decompress_page_checked`]. [`decode_fast`] handles the
//! sequences far enough from both ends that wide copies fit: before
//! touching memory it checks that every read and write of the sequence,
//! overrun included, stays inside the blob and the page. Anything else — a
//! sequence near an end, or anything malformed — it leaves, at the start of
//! that sequence, to [`decode_exact`], which decodes or rejects it. The one
//! exception is a valid ending the exact loop would only repeat: a final
//! run of 32 or more literals that fills the page exactly (an
//! incompressible page is one), which the fast loop copies itself
//! ([`last_literals`]). So the fast path never reports an error itself,
//! and both paths accept exactly the same blobs with exactly the same
//! errors.
//!
//! What limits the fast loop (measured against liblz4's, which has the same
//! shape): the serial chain from one token to the next (load, shift, add:
//! the token is read through a pointer so the load needs no index), branch
//! mispredictions on the rarer sequence shapes (long literals, long
//! matches, short offsets: their copies take one 32-byte step for the usual
//! lengths, so the loop exits predictably), and matches that read output
//! still in the store buffer. The exact loop runs only for the last
//! sequence or two of a page, so it avoids library calls for short copies.
//! Long runs are not given to memcpy either ([`long_copy`]: AVX2 where the
//! CPU has it, in the fast loop), as glibc's memcpy took ~110 or ~380 ns
//! for the same all-literal page depending on where the blob lay.
//!
//! Fed liblz4's own blobs this decoder runs at 0.93-0.97x liblz4's; the
//! blobs of our compressor (fewer, longer sequences) decode at ~1.1x
//! (README, "Benchmarks"; bench/LZ4-EXPERIMENTS.md).

use super::long_copy;
use crate::geometry::{Page, PAGE_SIZE};
use thiserror::Error;

/// Why a blob is not an LZ4 block of one page.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Lz4Error {
    #[error("blob ends inside the sequence starting at byte {at}")]
    Truncated { at: usize },
    #[error("sequence at byte {at} has offset {offset} at output byte {pos}")]
    BadOffset {
        at: usize,
        offset: usize,
        pos: usize,
    },
    #[error("sequence at byte {at} writes past the end of the page")]
    Overflow { at: usize },
    #[error("blob decodes to {len} bytes")]
    ShortOutput { len: usize },
}

/// Shortest match the format can express.
const MIN_MATCH: usize = 4;
/// Bytes one wild copy step moves.
const STEP: usize = 16;

/// Decodes `src` into `page`: the fast loop, then the exact loop for the rest.
pub fn decompress_page(src: &[u8], page: &mut Page) -> Result<(), Lz4Error> {
    let (ip, op) = decode_fast(src, page);
    if (ip, op) == (src.len(), PAGE_SIZE) {
        // The fast loop decoded the whole blob (it ended in a long run of
        // literals, see `last_literals`).
        return Ok(());
    }
    decode_exact(src, page, ip, op)
}

/// The safe reference twin of [`decompress_page`].
pub fn decompress_page_checked(src: &[u8], page: &mut Page) -> Result<(), Lz4Error> {
    decode_exact(src, page, 0, 0)
}

/// Reads the extension bytes of a length field whose nibble was 15.
/// `None` if the blob ends first.
#[inline(always)]
pub(super) fn extend_length(src: &[u8], ip: &mut usize, mut len: usize) -> Option<usize> {
    loop {
        let b = *src.get(*ip)?;
        *ip += 1;
        len += usize::from(b);
        if b != 255 {
            return Some(len);
        }
    }
}

/// Decodes sequences from input byte `ip` / output byte `op` to the end.
fn decode_exact(src: &[u8], page: &mut Page, mut ip: usize, mut op: usize) -> Result<(), Lz4Error> {
    loop {
        let at = ip;
        let truncated = Lz4Error::Truncated { at };
        let overflow = Lz4Error::Overflow { at };
        let token = *src.get(ip).ok_or(truncated.clone())?;
        ip += 1;

        let mut lit = usize::from(token >> 4);
        if lit == 15 {
            lit = extend_length(src, &mut ip, lit).ok_or(truncated.clone())?;
        }
        if lit > src.len() - ip {
            return Err(truncated);
        }
        if lit > PAGE_SIZE - op {
            return Err(overflow);
        }
        copy_short(&mut page[op..op + lit], &src[ip..ip + lit]);
        ip += lit;
        op += lit;

        if ip == src.len() {
            // The last sequence is literals only.
            return match op {
                PAGE_SIZE => Ok(()),
                len => Err(Lz4Error::ShortOutput { len }),
            };
        }
        let Some(&[lo, hi]) = src.get(ip..ip + 2) else {
            return Err(truncated);
        };
        ip += 2;
        let offset = usize::from(u16::from_le_bytes([lo, hi]));
        if offset == 0 || offset > op {
            return Err(Lz4Error::BadOffset {
                at,
                offset,
                pos: op,
            });
        }
        let mut ml = usize::from(token & 15);
        if ml == 15 {
            ml = extend_length(src, &mut ip, ml).ok_or(truncated)?;
        }
        ml += MIN_MATCH;
        if ml > PAGE_SIZE - op {
            return Err(overflow);
        }
        copy_match_exact(page, op, offset, ml);
        op += ml;
    }
}

/// `dst.copy_from_slice(src)` (equal lengths) without a library call: two
/// overlapping fixed-size copies cover every length up to 32 (the last
/// sequences of a block), the safe [`long_copy::copy_portable`] anything
/// longer.
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = dst.len();
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        8..=16 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        17..=32 => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        _ => long_copy::copy_portable(dst, src),
    }
}

/// Copies the `ml`-byte match at distance `offset` to `page[op..]`, exactly
/// (`1 <= offset <= op`, `op + ml <= PAGE_SIZE`).
fn copy_match_exact(page: &mut Page, op: usize, offset: usize, ml: usize) {
    if offset >= ml {
        // Source and destination do not overlap.
        let (before, after) = page.split_at_mut(op);
        copy_short(&mut after[..ml], &before[op - offset..op - offset + ml]);
    } else if ml <= 32 {
        // Overlapping: each byte repeats the one `offset` before it.
        for i in op..op + ml {
            page[i] = page[i - offset];
        }
    } else {
        copy_doubling(page, op, offset, ml);
    }
}

/// Copies the `ml`-byte match at distance `offset` to `page[op..]` in
/// growing steps from the start of its period: after each step the written
/// bytes are a whole number of periods, so the next step can copy all of
/// them at once (a zero run takes ~12 bulk copies, not 4096 byte moves).
fn copy_doubling(page: &mut Page, op: usize, offset: usize, ml: usize) {
    let from = op - offset;
    let mut done = 0;
    while done < ml {
        let n = (offset + done).min(ml - done);
        page.copy_within(from..from + n, op + done);
        done += n;
    }
}

/// Input bytes a sequence needs to start in the fast loop: the token and 16
/// readable bytes for the literal copy (which also holds the offset).
const FAST_IN: usize = 1 + STEP;
/// Bytes a wide copy moves per loop iteration (and may write past its end).
const WIDE: usize = 2 * STEP;
/// Output bytes the fast loop keeps free past the end of every sequence it
/// decodes: room for the next sequence's 16-byte literal copy plus its
/// 18-byte short match, and for the overrun of the wide copies.
const OUT_SLACK: usize = WIDE;
/// Every sequence the fast loop decodes ends at or before this output byte.
const OP_LIMIT: usize = PAGE_SIZE - OUT_SLACK;

/// Marks the path that calls it as rare, for code layout.
#[cold]
fn cold() {}

/// `b`, with the hint that it is usually true.
#[inline(always)]
fn likely(b: bool) -> bool {
    if !b {
        cold();
    }
    b
}

/// `p`, hidden from the optimiser, which then keeps it as a value of its
/// own. The fast loop computes `token + 3` this way while the token is
/// still loading, so that the next token's address is one add away from
/// the literal length; left alone, the optimiser folds the `+ 3` back in
/// after that add, one more step on the loop's critical path.
#[inline(always)]
// The pointer only passes through a register; nothing reads memory.
#[allow(clippy::pointers_in_nomem_asm_block)]
fn opaque(p: *const u8) -> *const u8 {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        let mut p = p;
        // SAFETY: the template is a comment: no instruction runs, no memory
        // or flag is touched, and the register comes back unchanged.
        unsafe {
            core::arch::asm!("/* {0} */", inout(reg) p, options(pure, nomem, nostack, preserves_flags));
        }
        p
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        p
    }
}

/// Copies `N` bytes from `from` to `to`.
///
/// # Safety
/// Both ranges must be in bounds of their buffers and must not overlap.
#[inline(always)]
unsafe fn copy<const N: usize>(from: *const u8, to: *mut u8) {
    // SAFETY: forwarded to the caller.
    unsafe { std::ptr::copy_nonoverlapping(from, to, N) };
}

/// Decodes the sequences that are far from both ends with wide copies and
/// returns the input and output position of the first one it left alone.
///
/// Like liblz4's fast loop: the common sequence (fewer than 15 literals, a
/// match of at most 18 bytes at an offset of 8 or more) costs one 16-byte
/// literal copy and match copies of 8, 8 and 2 bytes, with tests that are
/// almost always false. Longer runs take 32-byte steps that may write up
/// to [`OUT_SLACK`] bytes past their end, which is why every sequence must
/// end by [`OP_LIMIT`]; the exact loop decodes the last few.
pub(crate) fn decode_fast(src: &[u8], page: &mut Page) -> (usize, usize) {
    let len = src.len();
    let s = src.as_ptr();
    let d = page.as_mut_ptr();
    // Blob positions are kept as pointers (`p` is the next token): a load
    // through a plain pointer is a cycle faster than one through base +
    // index, and the token chain is the loop's critical path.
    let at = |p: *const u8| p.addr() - s.addr();
    // The loop starts a sequence only while its token is at or before
    // `last`, so 16 bytes follow it.
    let Some(ip_max) = len.checked_sub(FAST_IN) else {
        return (0, 0);
    };
    let last = s.wrapping_add(ip_max);
    let mut p = s;
    let mut op = 0usize;
    loop {
        // Here op <= OP_LIMIT (true at 0, kept by every sequence below).
        if p > last {
            return (at(p), op);
        }
        // Where this sequence starts, for handing it to the exact loop
        // (computed only then).
        let (p0, op0) = (p, op);
        let start = || (at(p0), op0);
        debug_assert!(at(p) + FAST_IN <= len && op <= OP_LIMIT);
        // SAFETY: at(p) + 17 <= len.
        let token = unsafe { *p };
        // The position after the token, the offset and no literals: the
        // next token's when there are none. (In the blob, as p + 3 <= len.)
        let p3 = opaque(p.wrapping_add(3));
        let lit = usize::from(token >> 4);
        if likely(lit != 15) {
            // SAFETY: reads [p + 1, p + 17) with at(p) + 17 <= len; writes
            // [op, op + 16) with op + 16 <= OP_LIMIT + 16 <= PAGE_SIZE;
            // different buffers.
            unsafe { copy::<16>(p.add(1), d.add(op)) };
            // At most 14 literals: the offset ends at or before p + 17.
            p = p3.wrapping_add(lit);
            op += lit;
        } else {
            let mut ip = at(p) + 1;
            let Some(lit) = extend_length(src, &mut ip, lit) else {
                return start();
            };
            // 32-byte steps read and write up to 31 bytes past the
            // literals: keep 32 input bytes (which also hold the offset)
            // and end by OP_LIMIT.
            if lit + WIDE > len - ip || lit > OP_LIMIT - op {
                return last_literals(src, page, ip, op, lit).unwrap_or_else(start);
            }
            // SAFETY: lit >= 15 > 0; ip + lit + 32 <= len and
            // op + lit + 32 <= PAGE_SIZE, as checked just above.
            unsafe { wild_copy(s.add(ip), d.add(op), lit) };
            op += lit;
            p = s.wrapping_add(ip + lit + 2);
        }

        // `p` is just past the offset, inside the blob: 17 - 1 - 14 bytes
        // remain after short literals, 30 after long ones.
        debug_assert!(at(p) <= len);
        // SAFETY: [p - 2, p) is in the blob by the above.
        let offset = usize::from(u16::from_le(unsafe {
            p.sub(2).cast::<u16>().read_unaligned()
        }));
        let nibble = usize::from(token & 15);
        if likely(nibble != 15) {
            let ml = nibble + MIN_MATCH;
            if likely(offset >= 8 && offset <= op && op + ml <= OP_LIMIT) {
                // Copies of 8, 8 and 2 bytes: each reads bytes at least 8
                // before those it writes, so it never overlaps itself, and
                // runs after the copy before it has written what it may
                // read. (Measured against one 16-byte copy plus 2 bytes for
                // offsets of 16 or more, 8 + 8 + 8 bytes, and AVX-512 masked
                // copies of exactly the match: all slower.)
                debug_assert!(op + 18 <= PAGE_SIZE);
                // SAFETY: 8 <= offset <= op and op + 18 <= OP_LIMIT + 14 <=
                // PAGE_SIZE.
                unsafe {
                    let m = d.add(op - offset);
                    copy::<8>(m, d.add(op));
                    copy::<8>(m.add(8), d.add(op + 8));
                    copy::<2>(m.add(16), d.add(op + 16));
                }
                op += ml;
                continue;
            }
        }
        let mut ip = at(p);
        let mut ml = nibble;
        if ml == 15 {
            match extend_length(src, &mut ip, ml) {
                Some(n) => ml = n,
                None => return start(),
            }
        }
        ml += MIN_MATCH;
        // (op may exceed OP_LIMIT here, by short literals.)
        if offset == 0 || offset > op || op + ml > OP_LIMIT {
            return start();
        }
        // SAFETY: 1 <= offset <= op and op + ml + OUT_SLACK <= PAGE_SIZE.
        unsafe { copy_match(d, op, offset, ml) };
        op += ml;
        p = s.wrapping_add(ip);
    }
}

/// The blob's last sequence when it is a long run of literals that ends
/// the blob and fills the page exactly (an incompressible page is one):
/// copies the `lit` literals at `ip` to `op` and returns where both ends
/// are. `None` for anything else, which the exact loop then decodes or
/// rejects; for this sequence it would reach the same result, only after
/// parsing the run's length again.
#[cold]
#[inline(never)]
fn last_literals(
    src: &[u8],
    page: &mut Page,
    ip: usize,
    op: usize,
    lit: usize,
) -> Option<(usize, usize)> {
    if ip + lit != src.len() || op + lit != PAGE_SIZE || lit < long_copy::STEP {
        return None;
    }
    long_copy::copy(&mut page[op..], &src[ip..]);
    Some((src.len(), PAGE_SIZE))
}

/// Copies `n` bytes from `from` to `to` in 32-byte steps (so up to 31 bytes
/// more), like liblz4's `LZ4_wildCopy32`: runs up to 32 bytes, most of
/// them, take one iteration, and the loop exit is predictable.
///
/// # Safety
/// `n > 0`; `from` readable and `to` writable for `n + 31` bytes, not
/// overlapping.
#[inline(always)]
unsafe fn wild_copy(from: *const u8, to: *mut u8, n: usize) {
    debug_assert!(n > 0);
    let mut k = 0;
    loop {
        // SAFETY: k < n, so both steps end before n + 32.
        unsafe {
            copy::<16>(from.add(k), to.add(k));
            copy::<16>(from.add(k + STEP), to.add(k + STEP));
        }
        k += WIDE;
        if k >= n {
            break;
        }
    }
}

/// `LOW_BYTES[o]` keeps the first `o` bytes of a little-endian word.
const LOW_BYTES: [u64; 8] = [
    0,
    0xff,
    0xffff,
    0xff_ffff,
    0xffff_ffff,
    0xff_ffff_ffff,
    0xffff_ffff_ffff,
    0xff_ffff_ffff_ffff,
];
/// Multiplying the first `o` bytes by `REPEAT[o]` repeats them every `o`
/// bytes across the word (the shifted copies do not overlap: no carries).
const REPEAT: [u64; 8] = [
    0,
    0x0101_0101_0101_0101,
    0x0001_0001_0001_0001,
    0x0001_0000_0100_0001,
    0x0000_0001_0000_0001,
    0x0000_0100_0000_0001,
    0x0001_0000_0000_0001,
    0x0100_0000_0000_0001,
];
/// `8 % o` for offsets below 8 (a division costs more than the load).
const PHASE: [usize; 8] = [0, 0, 0, 2, 0, 3, 2, 1];
/// Largest multiple of `o` (< 16) that is at most 16: how far a 16-byte
/// pattern store may advance and stay in phase.
const PATTERN_STEP: [usize; 16] = [0, 16, 16, 15, 16, 15, 12, 14, 16, 9, 10, 11, 12, 13, 14, 15];

/// The 16 bytes from position `op` on when the output repeats with period
/// `offset` < 16 from there, built in registers from the `offset` bytes
/// before `op` (bytes from `op` on are read but masked off).
///
/// # Safety
/// `1 <= offset <= op` and `op + 8 <= PAGE_SIZE`.
#[inline(always)]
unsafe fn period_pattern(d: *const u8, op: usize, offset: usize) -> (u64, u64) {
    debug_assert!((1..STEP).contains(&offset) && offset <= op && op + 8 <= PAGE_SIZE);
    let word = |i: usize| {
        debug_assert!(i + 8 <= op + 8);
        // SAFETY: both calls below read at i <= op, so [i, i + 8) ends by
        // op + 8 <= PAGE_SIZE.
        u64::from_le(unsafe { d.add(i).cast::<u64>().read_unaligned() })
    };
    let first = word(op - offset);
    if offset < 8 {
        // The first `offset` bytes, repeated; the next 8 bytes start at
        // phase 8 % offset, and the first word holds a whole period from
        // there (8 % offset + offset <= 8).
        let lo = (first & LOW_BYTES[offset]).wrapping_mul(REPEAT[offset]);
        let hi = ((lo >> (8 * PHASE[offset])) & LOW_BYTES[offset]).wrapping_mul(REPEAT[offset]);
        (lo, hi)
    } else {
        // Bytes 8.. of the period are the `offset - 8` bytes still before
        // `op`, then the period starts again.
        let rest = offset - 8;
        let hi = (word(op - rest) & LOW_BYTES[rest]) | (first << (8 * rest));
        (first, hi)
    }
}

/// Copies the `ml`-byte match at distance `offset` to `op` with 32-byte
/// steps, writing up to [`OUT_SLACK`] bytes more (bytes that later
/// sequences overwrite).
///
/// The output is periodic with period `offset`. Offsets of 16 or more copy
/// 16-byte blocks, each ending at or before the bytes it writes. Shorter
/// periods build one 16-byte block of the period in registers and store it
/// again and again, advancing by a whole number of periods: no load waits
/// on the stores just made.
///
/// # Safety
/// `1 <= offset <= op` and `op + ml + OUT_SLACK <= PAGE_SIZE`.
#[inline(always)]
unsafe fn copy_match(d: *mut u8, op: usize, offset: usize, ml: usize) {
    debug_assert!(offset >= 1 && offset <= op && op + ml + OUT_SLACK <= PAGE_SIZE);
    let end = op + ml;
    let mut cur = op;
    if offset >= STEP {
        loop {
            // SAFETY: each copy reads the 16 bytes `offset` >= 16 before
            // the ones it writes (inside the page, not overlapping them, and
            // already written by the copies before it); cur < end, so the
            // writes end by end + 32 <= PAGE_SIZE.
            unsafe {
                copy::<16>(d.add(cur - offset), d.add(cur));
                copy::<16>(d.add(cur + STEP - offset), d.add(cur + STEP));
            }
            cur += WIDE;
            if cur >= end {
                break;
            }
        }
    } else {
        // SAFETY: 1 <= offset <= op, op + 8 <= PAGE_SIZE.
        let (lo, hi) = unsafe { period_pattern(d, op, offset) };
        let block = ((u128::from(hi) << 64) | u128::from(lo)).to_le();
        let step = PATTERN_STEP[offset];
        loop {
            // SAFETY: cur < end and step <= 16, so both stores end by
            // end + 32 <= PAGE_SIZE.
            unsafe {
                d.add(cur).cast::<u128>().write_unaligned(block);
                d.add(cur + step).cast::<u128>().write_unaligned(block);
            }
            cur += 2 * step;
            if cur >= end {
                break;
            }
        }
    }
}
