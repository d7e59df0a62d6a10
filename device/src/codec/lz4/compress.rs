//! LZ4 block compressor specialised for one 4 KiB page.
//!
//! The algorithm is LZ4's greedy fast compressor (acceleration 1): hash the
//! bytes at each position, look the hash up in a table of earlier
//! positions, verify 4 bytes of the candidate, extend the match forwards
//! and backwards, and skip ahead faster the longer no match is found. The
//! output is the standard LZ4 block format, so any LZ4 decoder reads it.
//!
//! Two departures from C's parse, both for speed, both measured in one
//! run against the C-identical parse (bench/LZ4-EXPERIMENTS.md):
//! - The table is keyed by 5 bytes (C's `LZ4_hash5`, which C uses for
//!   large inputs), not 4. A 5-byte key finds the last place the next 5
//!   bytes occurred, so matches come out longer and fewer: compression
//!   is faster (fewer searches ended by a mispredicted branch), and so is
//!   decoding (less per-sequence work). It misses some 4-byte matches and
//!   finds more long ones; on its own it left totals 0.04% (Silesia) and
//!   0.6% (synthetic mix) below C's.
//! - After a match, only the position the next search starts from is
//!   indexed, not one inside the match (C indexes `ip - 2`). Those
//!   entries mostly yield more, shorter matches at short offsets, slow to
//!   decode: without them heap pages decode ~20% faster and compress ~6%
//!   faster, for ~0.5% more blob bytes (Silesia and the synthetic mix).
//!
//! A third, the table's size (half of C's), is described below.
//!
//! Where the code departs from C's without changing the parse: after a
//! match, the check for another match right there is the branch most often
//! mispredicted on dense pages (about every other time), and what a
//! misprediction costs is the chain of loads and arithmetic the branch
//! waits for. So that chain is kept short and started early:
//! - the 8 bytes after the match, which the check hashes, come from the
//!   words the extension compared ([`wide::split_at_difference`]), not from
//!   a reload whose address waits for the match length;
//! - after a search finds a match, its end and the check are worked out
//!   before the backward extension and the literal copy, which neither
//!   needs.
//!
//! Together: +10-12% on text and heap pages, +3% on Silesia
//! (bench/LZ4-EXPERIMENTS.md, second round).
//!
//! What the page size buys:
//! - A table sized for the page: one `u16` position per byte of it, 4096
//!   (8 KiB; C uses 8192 for inputs under 64 KiB), kept per thread and
//!   cleared with one fill per page. The clear is a page's fixed cost,
//!   bound by store bandwidth: halving the table took it from 144 to
//!   ~72 ns, which is most of a zero page's time and a tenth of a random
//!   page's (zero pages +29%, random +15%, text and heap within +-1%,
//!   Silesia +1%), for 0.1-0.3% more blob bytes from more collisions
//!   (bench/LZ4-EXPERIMENTS.md, ninth round). An empty entry
//!   names position 0, as in C, so every candidate is a real earlier
//!   position and the search loop needs no validity test. (Tables that
//!   need no clear were measured, generation tags, entries carrying the
//!   page's epoch and stale entries clamped below the probe: each cost
//!   1-18%, the clear about 2%; bench/LZ4-EXPERIMENTS.md.)
//! - Every limit is a constant, and the output buffer is sized for the worst
//!   case up front, so the loop never checks for output space.
//!
//! Blobs depend only on the page (the media accounting relies on that).
//!
//! The loop is written once, generic over [`Access`]: [`Checked`] indexes
//! slices (the safe reference twin), [`Wide`] reads unaligned words without
//! bounds checks, copies literals 16 bytes at a time and extends matches 16
//! bytes per step. Both produce byte-identical blobs, which the tests check.

use super::{long_copy, wide};
use crate::geometry::{Page, PAGE_SIZE};

/// Shortest match the format can express.
const MIN_MATCH: usize = 4;
/// No match may start in the last 12 bytes of a block (format rule).
const MF_LIMIT: usize = 12;
/// The last 5 bytes of a block are always literals (format rule).
const LAST_LITERALS: usize = 5;
/// A search position must be below this to start a match.
const MATCH_START_END: usize = PAGE_SIZE - MF_LIMIT + 1;
/// Matches end at or before this position.
const MATCH_END: usize = PAGE_SIZE - LAST_LITERALS;
/// After 2^6 misses in a row the search step grows by one (C's skip trigger).
const SKIP_TRIGGER: u32 = 6;
/// Probes that advance by one byte before the step first grows (C's
/// schedule: the step is `misses >> 6` with misses counting from 64, and
/// the first probe uses step 1).
const STEP1_PROBES: usize = (1 << SKIP_TRIGGER) + 1;

/// log2 of the hash table size: one entry per byte of the page (C's is 13
/// for inputs below 64 KiB; see the module docs for the trade).
pub const HASH_LOG: u32 = 12;
const TABLE_LEN: usize = 1 << HASH_LOG;

/// Largest blob a page can produce: all literals (LZ4_compressBound(4096)).
pub const MAX_BLOB: usize = PAGE_SIZE + PAGE_SIZE / 255 + 16;
/// Bytes a wide literal copy may write past the end of the literals.
const WILD: usize = 16;
/// Output space the compressor writes into: the worst case plus wild-copy
/// overrun. Smaller output buffers go through a bounce buffer.
pub const OUT_CAPACITY: usize = MAX_BLOB + WILD;

// Positions fit a table entry.
const _: () = assert!(PAGE_SIZE <= 1 << 16);

/// Reusable compressor state: the hash table. Keep one per thread (8 KiB).
pub struct PageCompressor {
    table: Box<[u16; TABLE_LEN]>,
}

impl Default for PageCompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl PageCompressor {
    pub fn new() -> Self {
        Self {
            table: Box::new([0; TABLE_LEN]),
        }
    }

    /// Compresses `page` into `out` with the fast path; `None` if the blob
    /// does not fit in `out`.
    pub fn compress(&mut self, page: &Page, out: &mut [u8]) -> Option<usize> {
        self.compress_with::<Wide>(page, out)
    }

    /// The safe reference twin of [`PageCompressor::compress`]: the same
    /// algorithm with bounds-checked accesses and exact copies. Its blobs are
    /// byte-identical to the fast path's.
    pub fn compress_checked(&mut self, page: &Page, out: &mut [u8]) -> Option<usize> {
        self.compress_with::<Checked>(page, out)
    }

    fn compress_with<A: Access>(&mut self, page: &Page, out: &mut [u8]) -> Option<usize> {
        // Every entry names position 0 again: what came before this page
        // cannot influence its blob.
        self.table.fill(0);
        if out.len() >= OUT_CAPACITY {
            return Some(compress_block::<A>(&mut self.table, page, out));
        }
        let mut bounce = [0u8; OUT_CAPACITY];
        let len = compress_block::<A>(&mut self.table, page, &mut bounce);
        let dst = out.get_mut(..len)?;
        dst.copy_from_slice(&bounce[..len]);
        Some(len)
    }
}

/// C's multiplicative hash of the first 5 bytes of `w` (`LZ4_hash5`:
/// `(w << 24) * prime >> (64 - HASH_LOG)`, with the shift folded into the
/// constant).
#[inline(always)]
fn hash(w: u64) -> usize {
    const PRIME5: u64 = 889_523_592_379;
    (w.wrapping_mul(PRIME5 << 24) >> (64 - HASH_LOG)) as usize
}

/// How the compressor touches memory. The preconditions are what the
/// algorithm guarantees; [`Checked`] verifies them (a violation panics),
/// [`Wide`] relies on them.
pub(super) trait Access {
    /// `page[i..i + 4]` as a little-endian word.
    ///
    /// # Safety
    /// `i + 4 <= PAGE_SIZE`.
    unsafe fn read_u32(page: &Page, i: usize) -> u32;

    /// `page[i..i + 8]` as a little-endian word.
    ///
    /// # Safety
    /// `i + 8 <= PAGE_SIZE`.
    unsafe fn read_u64(page: &Page, i: usize) -> u64;

    /// Length of the common prefix of `page[a..end]` and `page[b..]`.
    ///
    /// # Safety
    /// `b < a <= end <= PAGE_SIZE`.
    unsafe fn count(page: &Page, a: usize, b: usize, end: usize) -> usize;

    /// `out[op..op + n] = page[from..from + n]`; may write up to [`WILD`]
    /// bytes past `op + n`.
    ///
    /// # Safety
    /// `from + n <= PAGE_SIZE` and `op + n + WILD <= out.len()`.
    unsafe fn copy_literals(out: &mut [u8], op: usize, page: &Page, from: usize, n: usize);

    /// The run of literals that ends the page: as [`Access::copy_literals`].
    ///
    /// # Safety
    /// As [`Access::copy_literals`].
    unsafe fn copy_last_literals(out: &mut [u8], op: usize, page: &Page, from: usize, n: usize) {
        // SAFETY: forwarded precondition.
        unsafe { Self::copy_literals(out, op, page, from, n) }
    }

    /// `out[op] = b`.
    ///
    /// # Safety
    /// `op < out.len()`.
    unsafe fn put(out: &mut [u8], op: usize, b: u8);

    /// The extension bytes of a length field for `len >= 255`: `len / 255`
    /// bytes of 255, then `len % 255`; returns the position after them. May
    /// write up to [`WILD`] bytes past them.
    ///
    /// # Safety
    /// `255 <= len <= PAGE_SIZE` and `op + len / 255 + 1 + WILD <= out.len()`.
    unsafe fn put_long_length(out: &mut [u8], mut op: usize, mut len: usize) -> usize {
        while len >= 255 {
            // SAFETY: forwarded precondition (one byte per 255 of `len`).
            unsafe { Self::put(out, op, 255) };
            op += 1;
            len -= 255;
        }
        // SAFETY: forwarded precondition (the final byte).
        unsafe { Self::put(out, op, len as u8) };
        op + 1
    }

    /// `page[i] == page[j]`.
    ///
    /// # Safety
    /// `i < PAGE_SIZE` and `j < PAGE_SIZE`.
    unsafe fn same_byte(page: &Page, i: usize, j: usize) -> bool;
}

/// Safe reference: slice indexing and exact copies.
pub(super) struct Checked;

impl Access for Checked {
    #[inline(always)]
    unsafe fn read_u32(page: &Page, i: usize) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&page[i..i + 4]);
        u32::from_le_bytes(w)
    }

    #[inline(always)]
    unsafe fn read_u64(page: &Page, i: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&page[i..i + 8]);
        u64::from_le_bytes(w)
    }

    #[inline(always)]
    unsafe fn count(page: &Page, a: usize, b: usize, end: usize) -> usize {
        wide::count_scalar(page, a, b, end)
    }

    #[inline(always)]
    unsafe fn copy_literals(out: &mut [u8], op: usize, page: &Page, from: usize, n: usize) {
        out[op..op + n].copy_from_slice(&page[from..from + n]);
    }

    #[inline(always)]
    unsafe fn put(out: &mut [u8], op: usize, b: u8) {
        out[op] = b;
    }

    #[inline(always)]
    unsafe fn same_byte(page: &Page, i: usize, j: usize) -> bool {
        page[i] == page[j]
    }
}

/// Fast path: unchecked unaligned reads, 16-byte literal copies and match
/// extension. The debug assertions restate the preconditions so the test
/// suite and the fuzzers (debug builds) catch any violation.
pub(super) struct Wide;

impl Access for Wide {
    #[inline(always)]
    unsafe fn read_u32(page: &Page, i: usize) -> u32 {
        debug_assert!(i + 4 <= PAGE_SIZE);
        // SAFETY: the caller guarantees i + 4 <= PAGE_SIZE.
        u32::from_le(unsafe { page.as_ptr().add(i).cast::<u32>().read_unaligned() })
    }

    #[inline(always)]
    unsafe fn read_u64(page: &Page, i: usize) -> u64 {
        debug_assert!(i + 8 <= PAGE_SIZE);
        // SAFETY: the caller guarantees i + 8 <= PAGE_SIZE.
        u64::from_le(unsafe { page.as_ptr().add(i).cast::<u64>().read_unaligned() })
    }

    #[inline(always)]
    unsafe fn count(page: &Page, a: usize, b: usize, end: usize) -> usize {
        debug_assert!(b < a && a <= end && end <= PAGE_SIZE);
        // SAFETY: forwarded precondition.
        unsafe { wide::count_wide(page, a, b, end) }
    }

    #[inline(always)]
    unsafe fn copy_literals(out: &mut [u8], op: usize, page: &Page, from: usize, n: usize) {
        debug_assert!(from + n <= PAGE_SIZE && op + n + WILD <= out.len());
        let dst = out.as_mut_ptr();
        let src = page.as_ptr();
        if from + n + WILD <= PAGE_SIZE {
            // 16-byte chunks, the first one unconditionally (most literal
            // runs are shorter): the last chunk reads and writes at most 15
            // bytes past the literals, inside the page and inside `out` by
            // the checks above.
            // SAFETY: [from, from + 16) and [op, op + 16) end before
            // from + n + WILD <= PAGE_SIZE and op + n + WILD <= out.len();
            // page and out are distinct buffers.
            unsafe { std::ptr::copy_nonoverlapping(src.add(from), dst.add(op), 16) };
            let mut k = 16;
            while k < n {
                // SAFETY: k < n, so [from + k, from + k + 16) ends before
                // from + n + WILD <= PAGE_SIZE, and [op + k, op + k + 16)
                // before op + n + WILD <= out.len().
                unsafe { std::ptr::copy_nonoverlapping(src.add(from + k), dst.add(op + k), 16) };
                k += 16;
            }
        } else {
            // Near the page end, where a 16-byte chunk could read past it:
            // rare in the loop (a run that ends at a match starting in the
            // last 16 bytes), and the last literals when they are short.
            // SAFETY: both ranges are in bounds by the precondition; page
            // and out are distinct buffers.
            unsafe { copy_exact(src.add(from), dst.add(op), n) };
        }
    }

    #[inline(always)]
    unsafe fn copy_last_literals(out: &mut [u8], op: usize, page: &Page, from: usize, n: usize) {
        if n >= long_copy::STEP {
            // A whole page of them for an incompressible page. Not `memcpy`:
            // glibc's `rep movsb` took 1,700 instead of 610 ns per random
            // page when `out` sat a few bytes before a page boundary
            // (bench/LZ4-EXPERIMENTS.md, ninth round).
            long_copy::copy(&mut out[op..op + n], &page[from..from + n]);
        } else {
            // SAFETY: forwarded precondition.
            unsafe { Self::copy_literals(out, op, page, from, n) }
        }
    }

    #[inline(always)]
    unsafe fn put(out: &mut [u8], op: usize, b: u8) {
        debug_assert!(op < out.len());
        // SAFETY: the caller guarantees op < out.len().
        unsafe { *out.get_unchecked_mut(op) = b };
    }

    #[inline(always)]
    unsafe fn same_byte(page: &Page, i: usize, j: usize) -> bool {
        debug_assert!(i < PAGE_SIZE && j < PAGE_SIZE);
        // SAFETY: the caller guarantees both indices are in the page.
        unsafe { page.get_unchecked(i) == page.get_unchecked(j) }
    }

    /// One 16-byte store of 255s and the final byte over or after them
    /// (`len / 255 <= PAGE_SIZE / 255 = 16`), instead of a loop that LLVM
    /// turns into a `memset` call.
    #[inline(always)]
    unsafe fn put_long_length(out: &mut [u8], op: usize, len: usize) -> usize {
        let q = len / 255;
        debug_assert!(len >= 255 && q <= 16 && op + q + 1 + WILD <= out.len());
        // SAFETY: [op, op + 16) and op + q (q <= 16) lie below
        // op + q + 1 + WILD <= out.len().
        unsafe {
            out.as_mut_ptr()
                .add(op)
                .cast::<[u8; 16]>()
                .write_unaligned([255; 16]);
            *out.get_unchecked_mut(op + q) = (len - 255 * q) as u8;
        }
        op + q + 1
    }
}

/// Copies exactly `n` bytes from `src` to `dst`: 16-byte chunks, then the
/// rest in at most two overlapping pieces. Not `copy_nonoverlapping(.., n)`:
/// that is a `memcpy` call, and a call anywhere in the compressor's loop
/// makes LLVM spill values live across it, with the spills and reloads on
/// paths every sequence takes; without the calls (here and in
/// [`Access::put_long_length`]) text pages compress ~3% faster, heap
/// pages ~4%, Silesia's 3-5% (bench/LZ4-EXPERIMENTS.md, ninth round).
///
/// # Safety
/// `src..src + n` is readable, `dst..dst + n` writable, and they do not
/// overlap.
#[inline(always)]
unsafe fn copy_exact(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: every piece below lies inside the first `n` bytes of both.
    unsafe {
        let piece =
            |at: usize, len: usize| std::ptr::copy_nonoverlapping(src.add(at), dst.add(at), len);
        let mut k = 0;
        while k + 16 <= n {
            piece(k, 16);
            k += 16;
        }
        if k == n {
            return;
        }
        if n >= 16 {
            piece(n - 16, 16);
        } else if n >= 8 {
            piece(0, 8);
            piece(n - 8, 8);
        } else if n >= 4 {
            piece(0, 4);
            piece(n - 4, 4);
        } else {
            // n is 1, 2 or 3.
            piece(0, 1);
            piece(n / 2, 1);
            piece(n - 1, 1);
        }
    }
}

/// Writes the extension bytes of a length field (`len` already minus 15);
/// may write up to [`WILD`] bytes past them.
///
/// # Safety
/// `len <= PAGE_SIZE` and `op + len / 255 + 1 + WILD <= out.len()`.
#[inline(always)]
unsafe fn put_length<A: Access>(out: &mut [u8], op: usize, len: usize) -> usize {
    if len >= 255 {
        // SAFETY: forwarded precondition.
        return unsafe { A::put_long_length(out, op, len) };
    }
    // SAFETY: forwarded precondition (the one byte).
    unsafe { A::put(out, op, len as u8) };
    op + 1
}

/// The 8 bytes at `i` after a match that ends there, for the immediate
/// check; 0 where no match can start (the check's result is not used
/// there, see [`immediate_candidate`]).
#[inline(always)]
fn next_word<A: Access>(page: &Page, i: usize) -> u64 {
    if i < MATCH_START_END {
        // SAFETY: i + 8 <= MATCH_START_END + 7 <= PAGE_SIZE.
        unsafe { A::read_u64(page, i) }
    } else {
        0
    }
}

/// Where the match at `ip` (from `m`, its first 4 bytes verified) ends,
/// and the 8 bytes there (see [`next_word`]).
///
/// When the match ends within its first 8 bytes (most matches on dense
/// pages), those bytes are shifted out of the two words the extension
/// compared ([`wide::split_at_difference`]) rather than read again: the
/// check for a match right after this one does not wait for a load whose
/// address hangs on the match length.
#[inline(always)]
fn match_end<A: Access>(page: &Page, ip: usize, m: usize) -> (usize, u64) {
    let (a, b) = (ip + MIN_MATCH, m + MIN_MATCH);
    let (n, next) = 'extend: {
        // Bytes of the match already compared when the counting loop takes
        // over.
        let mut known = 0;
        if a + 16 <= MATCH_END {
            // SAFETY: b < a and a + 16 <= MATCH_END <= PAGE_SIZE.
            let (lo, hi, x) = unsafe {
                let lo = A::read_u64(page, a);
                (lo, A::read_u64(page, a + 8), lo ^ A::read_u64(page, b))
            };
            if x != 0 {
                break 'extend wide::split_at_difference(lo, hi, x);
            }
            known = 8;
            if a + 24 <= MATCH_END {
                // The next 8 bytes the same way (matches of 12-19 bytes are
                // common in text): `hi` is already loaded.
                // SAFETY: b + 8 < a + 8 and a + 24 <= MATCH_END <= PAGE_SIZE.
                let (after, x) =
                    unsafe { (A::read_u64(page, a + 16), hi ^ A::read_u64(page, b + 8)) };
                if x != 0 {
                    let (k, next) = wide::split_at_difference(hi, after, x);
                    break 'extend (8 + k, next);
                }
                known = 16;
            }
        }
        // A long match, or one near the end of the page.
        // SAFETY: b + known < a + known <= MATCH_END <= PAGE_SIZE (the search
        // only starts matches below MATCH_START_END, so a <= MATCH_END).
        let n = known + unsafe { A::count(page, a + known, b + known, MATCH_END) };
        (n, next_word::<A>(page, a + n))
    };
    debug_assert!(a + n >= MATCH_START_END || next == next_word::<A>(page, a + n));
    (a + n, next)
}

/// The check for a match starting right where the previous one ended, at
/// `i`, whose 8 bytes are `next`: indexes `i` and looks up the earlier
/// position that may share its first 4 bytes.
///
/// No match may start at or past `MATCH_START_END`, yet the check runs
/// there too: both callers leave the loop at that point before they look
/// at the result, and the entry written there is the page's last, never
/// read. Testing for it here as well cost ~1% on Silesia pages and ~4% on
/// random pages (bench/LZ4-EXPERIMENTS.md, eighth round).
///
/// Unlike C, no position inside the match is indexed: on heap pages those
/// entries lead to more, shorter matches at short offsets, which cost
/// decoding time (measured: +20% decode speed on heap pages, +6%
/// compression, for +0.5% blob bytes).
#[inline(always)]
fn immediate_candidate<A: Access>(
    table: &mut [u16; TABLE_LEN],
    page: &Page,
    i: usize,
    next: u64,
) -> Immediate {
    let h = hash(next);
    let c = usize::from(table[h]);
    debug_assert!(c < MATCH_START_END);
    table[h] = i as u16;
    Immediate {
        candidate: c,
        // SAFETY: c < MATCH_START_END: every lookup comes before the only
        // store at or past MATCH_START_END (the page's last), so the table
        // holds positions below it (or 0), and the 4-byte read is in the
        // page.
        theirs: unsafe { A::read_u32(page, c) },
        // The first 4 of the 8 bytes at `i`.
        ours: next as u32,
    }
}

/// What the immediate check found: a candidate, and the two words whose
/// equality makes it a match. The caller compares them at its branch, so
/// that the compare and the jump fuse. A verdict worked out here came back
/// as a flag (`sete`, later `test`): two more cycles on the chain the
/// branch waits for, which cost 2% on text and heap pages
/// (bench/LZ4-EXPERIMENTS.md, eighth round).
struct Immediate {
    candidate: usize,
    theirs: u32,
    ours: u32,
}

impl Immediate {
    fn hit(&self) -> bool {
        self.theirs == self.ours
    }
}

/// Compresses one page into `out` (at least [`OUT_CAPACITY`] bytes) and
/// returns the blob length. `table` holds positions of this page only.
///
/// Output bounds: the blob never exceeds [`MAX_BLOB`] (every sequence costs
/// at most what its bytes would cost as literals), and every write happens
/// below the final blob length plus [`WILD`], so no write needs a check.
/// Reads: every `read_u32` and `read_u64` is at a position up to
/// `MATCH_START_END` or a candidate below that position, so
/// `i + 8 <= PAGE_SIZE`.
#[inline(always)]
fn compress_block<A: Access>(table: &mut [u16; TABLE_LEN], page: &Page, out: &mut [u8]) -> usize {
    assert!(out.len() >= OUT_CAPACITY, "compressor output too small");
    let rd = |i: usize| {
        debug_assert!(i <= MATCH_START_END);
        // SAFETY: the positions read are 0, 1, search positions up to
        // MATCH_START_END, positions after a match below it, and
        // candidates below the position they were looked up for: all at
        // most PAGE_SIZE - 11, so i + 4 <= PAGE_SIZE.
        unsafe { A::read_u32(page, i) }
    };
    // The 8 bytes at `i`, for the 5-byte hash key (same positions as `rd`).
    let key = |i: usize| {
        debug_assert!(i <= MATCH_START_END);
        // SAFETY: as for `rd`; i + 8 <= PAGE_SIZE - 11 + 8 <= PAGE_SIZE.
        hash(unsafe { A::read_u64(page, i) })
    };
    // Whether the earlier position `c` starts a 4-byte match at `ip`. The
    // table only ever holds positions of this page that the search has
    // passed (or 0), so `c < ip` and the read is in the page.
    let matches = |c: usize, ip: usize| rd(c) == rd(ip);
    let mut op = 0;
    let mut anchor = 0;

    table[key(0)] = 0;
    let mut ip = 1;
    let mut forward_h = key(1);

    'sequences: loop {
        // Search for a match at `ip` onwards; `forward_h` is ip's hash.
        // C's schedule: the first STEP1_PROBES probes advance by one byte,
        // then the step grows by one every 2^SKIP_TRIGGER misses. Written
        // as C writes it (a miss counter shifted into the step, and a test
        // of the next position against the page end on every probe), the
        // loop was issue-bound at 17 instructions per probe; as rounds of
        // one constant step, each with one bound, it is 12, and random
        // pages compress ~22% faster, Silesia's ~4%, text and heap pages
        // ~2% (bench/LZ4-EXPERIMENTS.md, ninth round). The parse is C's.
        let mut m;
        'found: {
            let end = (ip + STEP1_PROBES).min(MATCH_START_END);
            if ip < end {
                loop {
                    let h = forward_h;
                    let next = ip + 1;
                    let c = usize::from(table[h]);
                    forward_h = key(next);
                    table[h] = ip as u16;
                    if matches(c, ip) {
                        m = c;
                        break 'found;
                    }
                    ip = next;
                    if ip >= end {
                        break;
                    }
                }
            }
            if ip >= MATCH_START_END {
                break 'sequences;
            }
            // Then rounds of 2^SKIP_TRIGGER probes at steps 2, 3, ...: C's
            // step is `misses >> SKIP_TRIGGER` with `misses` counting on
            // from 2 * 2^SKIP_TRIGGER. A probe at `ip` is made only if the
            // position after it, `ip + step`, can still start a match (as
            // in C), so one bound per round covers both the round's
            // length and the page end. The probe is written out in both
            // loops: shared through a closure, it compiled to other
            // register allocation and random pages lost 10-11% in two of
            // three placements (bench/LZ4-EXPERIMENTS.md, ninth round).
            let mut step = 2;
            loop {
                let stop = (ip + (step << SKIP_TRIGGER)).min(MATCH_START_END + 1 - step);
                while ip < stop {
                    let h = forward_h;
                    let next = ip + step;
                    let c = usize::from(table[h]);
                    forward_h = key(next);
                    table[h] = ip as u16;
                    if matches(c, ip) {
                        m = c;
                        break 'found;
                    }
                    ip = next;
                }
                if ip + step > MATCH_START_END {
                    break 'sequences;
                }
                step += 1;
            }
        }

        // Where the match ends, and whether another one starts right
        // there, are worked out before the literals are written: that
        // check's branch is the one most often mispredicted on dense pages,
        // and the sooner its inputs are ready, the less a misprediction
        // costs (bench/LZ4-EXPERIMENTS.md). Neither depends on the match's
        // start, which the backward extension below may still move.
        let (mut end, next) = match_end::<A>(page, ip, m);
        let mut again = immediate_candidate::<A>(table, page, end, next);

        // Extend the match backwards over literals not yet emitted.
        // SAFETY: m < ip <= PAGE_SIZE, and both are > 0 when read.
        while ip > anchor && m > 0 && unsafe { A::same_byte(page, ip - 1, m - 1) } {
            ip -= 1;
            m -= 1;
        }

        // Token and literals.
        let lit = ip - anchor;
        let mut token = op;
        op += 1;
        let mut tok = if lit >= 15 {
            // SAFETY: lit <= PAGE_SIZE; the length bytes are part of the
            // blob (<= MAX_BLOB), and out has WILD bytes more.
            op = unsafe { put_length::<A>(out, op, lit - 15) };
            15 << 4
        } else {
            (lit as u8) << 4
        };
        // SAFETY: anchor + lit = ip <= PAGE_SIZE; op + lit stays within the
        // blob (<= MAX_BLOB), so op + lit + WILD <= OUT_CAPACITY.
        unsafe { A::copy_literals(out, op, page, anchor, lit) };
        op += lit;

        loop {
            // Offset (1..PAGE_SIZE, little-endian).
            let offset = (ip - m) as u16;
            // SAFETY: two blob bytes (< MAX_BLOB).
            unsafe {
                A::put(out, op, offset as u8);
                A::put(out, op + 1, (offset >> 8) as u8);
            }
            op += 2;

            // Match length beyond the 4 verified bytes.
            let ml = end - ip - MIN_MATCH;
            ip = end;
            if ml >= 15 {
                tok |= 15;
                // SAFETY: as for the literal length above.
                op = unsafe { put_length::<A>(out, op, ml - 15) };
            } else {
                tok |= ml as u8;
            }
            // SAFETY: `token` is an earlier blob position.
            unsafe { A::put(out, token, tok) };
            anchor = ip;
            if ip >= MATCH_START_END {
                break 'sequences;
            }

            // A match right at `ip` (no literals in between)?
            if !again.hit() {
                break;
            }
            m = again.candidate;
            token = op;
            op += 1;
            tok = 0;
            let next;
            (end, next) = match_end::<A>(page, ip, m);
            again = immediate_candidate::<A>(table, page, end, next);
        }
        ip += 1;
        forward_h = key(ip);
    }

    // The last literals.
    let lit = PAGE_SIZE - anchor;
    let token = op;
    op += 1;
    let tok = if lit >= 15 {
        // SAFETY: as in the loop.
        op = unsafe { put_length::<A>(out, op, lit - 15) };
        15 << 4
    } else {
        (lit as u8) << 4
    };
    // SAFETY: `token` is a blob position; the literals end the blob.
    unsafe {
        A::put(out, token, tok);
        A::copy_last_literals(out, op, page, anchor, lit);
    }
    op + lit
}
