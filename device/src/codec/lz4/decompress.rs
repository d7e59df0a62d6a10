//! LZ4 block decompressor for one 4 KiB page, bounds-checked throughout.
//!
//! Two loops share the work. [`decode_exact`] is the safe reference: slice
//! accesses, exact copies, every length validated; it is also the whole
//! decoder of [`decompress_page_checked`]. [`decode_fast`] handles the
//! sequences far enough from both ends that 16-byte wild copies fit: before
//! touching memory it checks that every read and write of the sequence,
//! overrun included, stays inside the blob and the page. Anything else — a
//! sequence near an end, or anything malformed — it leaves, at the start of
//! that sequence, to [`decode_exact`], which decodes or rejects it. So the
//! fast path never reports an error itself, and both paths accept exactly
//! the same blobs with exactly the same errors.

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
    decode_exact(src, page, ip, op)
}

/// The safe reference twin of [`decompress_page`].
pub fn decompress_page_checked(src: &[u8], page: &mut Page) -> Result<(), Lz4Error> {
    decode_exact(src, page, 0, 0)
}

/// Reads the extension bytes of a length field whose nibble was 15.
/// `None` if the blob ends first.
#[inline(always)]
fn extend_length(src: &[u8], ip: &mut usize, mut len: usize) -> Option<usize> {
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
        page[op..op + lit].copy_from_slice(&src[ip..ip + lit]);
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
        copy_doubling(page, op, offset, ml);
        op += ml;
    }
}

/// Input bytes a sequence needs to start in the fast loop: the token and 16
/// readable bytes for the literal copy (which also holds the offset).
const FAST_IN: usize = 1 + STEP;
/// Output bytes it needs: 16 writable bytes for the literal copy.
const FAST_OUT: usize = STEP;
/// Bytes the short-match copy writes.
const SHORT_MATCH: usize = 18;

/// Copies 16 bytes from `from` to `to` inside or between buffers.
///
/// # Safety
/// Both ranges must be in bounds of their buffers and must not overlap.
#[inline(always)]
unsafe fn copy16(from: *const u8, to: *mut u8) {
    // SAFETY: forwarded to the caller.
    unsafe { std::ptr::copy_nonoverlapping(from, to, STEP) };
}

/// Decodes the sequences that are far from both ends with wide copies and
/// returns the input and output position of the first one it left alone.
///
/// The common sequence (fewer than 15 literals, a match of at most 18 bytes
/// at an offset of 8 or more) takes no loop: one 16-byte literal copy and
/// match copies of 8, 8 and 2 bytes, each guarded by one room check. Other
/// sequences get checked loops ([`copy_match`]); the loop stays on until the
/// last few input or output bytes, like C's, so the exact loop only ever
/// decodes the final sequence or two.
pub(crate) fn decode_fast(src: &[u8], page: &mut Page) -> (usize, usize) {
    let len = src.len();
    let s = src.as_ptr();
    let d = page.as_mut_ptr();
    let (mut ip, mut op) = (0usize, 0usize);
    // The loop runs while ip <= ip_max and op <= op_max.
    let Some(ip_max) = len.checked_sub(FAST_IN) else {
        return (0, 0);
    };
    let op_max = PAGE_SIZE - FAST_OUT;
    loop {
        let leave = (ip, op);
        if ip > ip_max || op > op_max {
            return leave;
        }
        // SAFETY: ip + 17 <= len.
        let token = unsafe { *s.add(ip) };
        ip += 1;
        let mut lit = usize::from(token >> 4);
        if lit < 15 {
            // SAFETY: reads [ip, ip + 16) with ip + 16 = old ip + 17 <= len;
            // writes [op, op + 16) with op + 16 <= PAGE_SIZE; different
            // buffers.
            unsafe { copy16(s.add(ip), d.add(op)) };
        } else {
            match extend_length(src, &mut ip, lit) {
                Some(n) => lit = n,
                None => return leave,
            }
            // Long literals: 16-byte steps need 16 bytes of room past them
            // on both sides (which also leaves the offset in the input).
            if lit + STEP > len - ip || lit + STEP > PAGE_SIZE - op {
                return leave;
            }
            let mut k = 0;
            while k < lit {
                // SAFETY: k < lit: the read ends before ip + lit + 16 <= len,
                // the write before op + lit + 16 <= PAGE_SIZE.
                unsafe { copy16(s.add(ip + k), d.add(op + k)) };
                k += STEP;
            }
        }
        ip += lit;
        op += lit;

        // At least 2 input bytes remain: 2 after short literals (17 - 1 -
        // 14), 16 after long ones. So this is not the last sequence.
        // SAFETY: ip + 2 <= len by the above.
        let offset = usize::from(u16::from_le(unsafe {
            s.add(ip).cast::<u16>().read_unaligned()
        }));
        ip += 2;
        let nibble = usize::from(token & 15);
        if nibble < 15 && offset >= 8 && offset <= op && op + SHORT_MATCH <= PAGE_SIZE {
            // A match of at most 18 bytes: copies of 8, 8 and 2 bytes, no
            // loop. (Writing exactly 18 keeps later loads from straddling
            // stale wide stores, which defeats store forwarding.)
            // Each reads bytes at least 8 before those it writes, so it
            // never overlaps itself, and runs after the copy before it has
            // written what it may read. Narrow copies also forward from
            // recent stores better than 16-byte ones.
            // SAFETY: 8 <= offset <= op, and op + 18 <= PAGE_SIZE.
            unsafe {
                std::ptr::copy_nonoverlapping(d.add(op - offset), d.add(op), 8);
                std::ptr::copy_nonoverlapping(d.add(op - offset + 8), d.add(op + 8), 8);
                std::ptr::copy_nonoverlapping(d.add(op - offset + 16), d.add(op + 16), 2);
            }
            op += nibble + MIN_MATCH;
            continue;
        }
        if offset == 0 || offset > op {
            return leave;
        }
        let mut ml = nibble;
        if ml == 15 {
            match extend_length(src, &mut ip, ml) {
                Some(n) => ml = n,
                None => return leave,
            }
        }
        ml += MIN_MATCH;
        if ml > PAGE_SIZE - op {
            return leave;
        }
        copy_match(page, op, offset, ml);
        op += ml;
    }
}

/// Copies the `ml`-byte match at distance `offset` to `page[op..]` in
/// growing steps from the start of its period: after each step the written
/// bytes are a whole number of periods, so the next step can copy all of
/// them at once (a zero run takes ~12 bulk copies, not 4096 byte moves, and
/// no copy waits on the store just before it).
fn copy_doubling(page: &mut Page, op: usize, offset: usize, ml: usize) {
    let from = op - offset;
    let mut done = 0;
    while done < ml {
        let n = (offset + done).min(ml - done);
        page.copy_within(from..from + n, op + done);
        done += n;
    }
}

/// Copies the `ml`-byte match at distance `offset` to `page[op..]` with
/// wide steps where they fit in the page. Bytes past `op + ml` may be
/// overwritten (with pattern bytes); later sequences write them again.
///
/// The output is periodic with period `offset`, hence with any multiple of
/// it, and a copy step of `w` bytes at distance `dist` needs `dist >= w`.
/// So: offsets below 8 lay down a multiple of the period of at least 8
/// bytes bytewise (at most 14 bytes); 8-byte steps then build a multiple of
/// at least 16 (at most 30); 16-byte steps do the rest.
#[inline(always)]
fn copy_match(page: &mut Page, op: usize, offset: usize, ml: usize) {
    debug_assert!(offset >= 1 && offset <= op && op + ml <= PAGE_SIZE);
    if ml > 64 && offset < STEP {
        // A long run of a short period: 16-byte steps at a distance below
        // 32 would each wait on the store of the step before.
        copy_doubling(page, op, offset, ml);
        return;
    }
    let end = op + ml;
    let mut cur = op;
    let mut dist = offset;
    if dist < 8 {
        // Doubling keeps a multiple of the period (no division).
        while dist < 8 {
            dist *= 2;
        }
        for i in cur..cur + dist.min(ml) {
            page[i] = page[i - offset];
        }
        cur += dist.min(ml);
    }
    let d = page.as_mut_ptr();
    if dist < STEP {
        let mut dist16 = dist;
        while dist16 < STEP {
            dist16 *= 2;
        }
        let stop = (op + dist16).min(end);
        while cur < stop && cur + 8 <= PAGE_SIZE {
            // SAFETY: cur + 8 <= PAGE_SIZE bounds the write. The read
            // starts at cur - dist >= op - offset (dist == offset, cur >=
            // op) or >= op (the bytewise head moved cur to op + dist), and
            // ends at cur - dist + 8 <= cur as dist >= 8: in the page, no
            // overlap with the write.
            unsafe { std::ptr::copy_nonoverlapping(d.add(cur - dist), d.add(cur), 8) };
            cur += 8;
        }
        dist = dist16;
    }
    while cur < end && cur + STEP <= PAGE_SIZE {
        // SAFETY: cur + 16 <= PAGE_SIZE bounds the write. The read starts at
        // cur - dist, which is op - offset >= 0 on the first step when
        // dist == offset, and >= op otherwise (the steps above moved cur to
        // at least op + dist before dist grew to it); it ends at
        // cur - dist + 16 <= cur as dist >= 16: in the page, no overlap.
        unsafe { copy16(d.add(cur - dist), d.add(cur)) };
        cur += STEP;
    }
    // The last few bytes before the page end.
    for i in cur..end {
        page[i] = page[i - offset];
    }
}
