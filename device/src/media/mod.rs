//! Compressed media: the page table, the arena that holds page blobs, exact
//! accounting of media use, watermarks, discard and poison.
//!
//! Media use is `live blob bytes + per-page metadata + arena fragmentation`,
//! where every written page (any state but unwritten) costs
//! [`META_BYTES_PER_PAGE`] of metadata and the arena takes media a slab at a
//! time. That figure is what the device reports, what the watermarks watch,
//! and what runs out: a store that cannot get media poisons its page and
//! logs a failure event, and nothing else changes.

mod arena;
mod budget;
mod page_table;
mod stats;
mod watermark;

pub use arena::{footprint, Slot, CLASSES, CLASS_GRANULE, SLAB_SIZE};
pub use page_table::{PageState, Poison, PoisonSource};
pub use stats::{MediaStats, PageCounts, WatermarkStats};
pub use watermark::{Crossing, WatermarkConfig, WatermarkError};

use crate::codec::{self, CodecError, CodecId, CompressionPolicy, Encoded};
use crate::events::{EventLogs, MediaSnapshot, VendorEvent};
use crate::geometry::{DpaError, Geometry, Page, LINES_PER_PAGE, LINE_SIZE, PAGE_SHIFT, PAGE_SIZE};
use arena::Arena;
use budget::MediaBudget;
use page_table::{Content, PageTable, STRIPES};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use thiserror::Error;
use watermark::Watermarks;

/// Media bytes of page-table metadata each written page costs.
pub const META_BYTES_PER_PAGE: u64 = 16;

/// Why a media operation failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MediaError {
    #[error(transparent)]
    Dpa(#[from] DpaError),
    #[error("media exhausted: the page at DPA {dpa:#x} could not be stored and is now poisoned")]
    Exhausted { dpa: u64 },
    #[error("DPA {dpa:#x} is poisoned (lines {lines:#018x})")]
    Poisoned { dpa: u64, lines: u64 },
    #[error("page at DPA {dpa:#x} does not decode: {source}")]
    Corrupt { dpa: u64, source: CodecError },
    #[error("the inject-poison limit of {limit} lines is reached")]
    InjectLimit { limit: u32 },
}

/// What a successful store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOutcome {
    pub state: PageState,
    /// Codec of a compressed page.
    pub codec: Option<CodecId>,
    /// Bytes of blob on the media (0 for zero and same-filled pages).
    pub blob_bytes: usize,
}

/// One Get Poison List media error record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoisonRecord {
    /// DPA of the first poisoned line.
    pub dpa: u64,
    /// Number of consecutive poisoned lines.
    pub lines: u32,
    pub source: PoisonSource,
}

thread_local! {
    static SCRATCH: RefCell<Box<[u8; codec::SCRATCH_LEN]>> =
        RefCell::new(Box::new([0; codec::SCRATCH_LEN]));
}

#[derive(Default)]
struct Counters {
    pages: [AtomicU64; 6],
    written_pages: AtomicU64,
    blob_bytes: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    stores: AtomicU64,
    loads: AtomicU64,
    failed_stores: AtomicU64,
    discarded_pages: AtomicU64,
    crossings_high: AtomicU64,
    crossings_low: AtomicU64,
}

impl Counters {
    fn transition(&self, from: PageState, to: PageState) {
        if from != to {
            self.pages[from as usize].fetch_sub(1, Ordering::Relaxed);
            self.pages[to as usize].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The compressed media of one device.
pub struct Media {
    geometry: Geometry,
    table: PageTable,
    arena: Arena,
    budget: MediaBudget,
    watermarks: Watermarks,
    policy: AtomicU64,
    events: Arc<EventLogs>,
    counters: Counters,
    inject_limit: u32,
    inject_lock: parking_lot::Mutex<()>,
}

impl Media {
    /// Empty media: every page unwritten, nothing used.
    pub fn new(
        geometry: Geometry,
        policy: CompressionPolicy,
        watermarks: WatermarkConfig,
        inject_limit: u32,
        events: Arc<EventLogs>,
    ) -> std::io::Result<Self> {
        let counters = Counters::default();
        counters.pages[PageState::Unwritten as usize].store(geometry.pages(), Ordering::Relaxed);
        Ok(Self {
            table: PageTable::new(geometry.pages()),
            arena: Arena::new(geometry.media_bytes())?,
            budget: MediaBudget::new(geometry.media_bytes()),
            watermarks: Watermarks::new(geometry.media_bytes(), watermarks),
            policy: AtomicU64::new(policy.pack()),
            geometry,
            events,
            counters,
            inject_limit,
            inject_lock: parking_lot::Mutex::new(()),
        })
    }

    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    pub fn policy(&self) -> CompressionPolicy {
        CompressionPolicy::unpack(self.policy.load(Ordering::Relaxed))
    }

    /// Applies to pages stored from now on; stored pages keep their codec.
    pub fn set_policy(&self, policy: CompressionPolicy) -> Result<(), codec::PolicyError> {
        policy.validate()?;
        self.policy.store(policy.pack(), Ordering::Relaxed);
        Ok(())
    }

    pub fn watermarks(&self) -> WatermarkConfig {
        self.watermarks.config()
    }

    pub fn set_watermarks(&self, config: WatermarkConfig) {
        self.watermarks
            .set(config, || self.budget.used(), |c| self.report_crossing(c));
    }

    pub fn under_pressure(&self) -> bool {
        self.watermarks.under_pressure()
    }

    /// Whether any page holds poison (one atomic read: the transports poll
    /// it after every batch of requests).
    pub fn holds_poison(&self) -> bool {
        self.counters.pages[PageState::Poisoned as usize].load(Ordering::Relaxed) > 0
    }

    /// Whether any line holds poison the device found itself (a failed
    /// store, a lost page) rather than one injected. Visits only the
    /// poisoned pages, and none once one is found.
    pub fn holds_internal_poison(&self) -> bool {
        self.holds_poison()
            && (0..STRIPES).any(|s| {
                self.table
                    .lock_stripe(s)
                    .poisoned()
                    .any(|(_, p)| p.lines & !p.injected != 0)
            })
    }

    /// Media bytes in use right now.
    pub fn used(&self) -> u64 {
        self.budget.used()
    }

    pub fn inject_limit(&self) -> u32 {
        self.inject_limit
    }

    /// Compresses and stores the page at page-aligned `dpa`, replacing what
    /// it held. On media exhaustion the page is poisoned and a failure event
    /// is logged.
    pub fn store(&self, dpa: u64, data: &Page) -> Result<StoreOutcome, MediaError> {
        let page = self.geometry.page_of(dpa)?;
        self.store_page(page, data, None)
    }

    fn store_page(
        &self,
        page: u64,
        data: &Page,
        poison_after: Option<Poison>,
    ) -> Result<StoreOutcome, MediaError> {
        // Compression runs before the page is locked.
        self.encode(data, |encoded| {
            self.commit(self.table.lock(page), page, encoded, data, poison_after)
        })
    }

    /// Encodes `data` with the current policy into this thread's scratch
    /// buffer and hands the result to `then`.
    fn encode<R>(&self, data: &Page, then: impl FnOnce(Encoded<'_>) -> R) -> R {
        let policy = self.policy();
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            then(codec::encode(data, &policy, footprint, &mut scratch[..]))
        })
    }

    /// Replaces page `page`, locked by `g`, with `encoded` (made from
    /// `data`). Every counter the page contributes to changes before the
    /// lock is released, so no other operation on the page can see (or
    /// make) them go below zero.
    fn commit(
        &self,
        mut g: page_table::PageGuard<'_>,
        page: u64,
        encoded: Encoded<'_>,
        data: &Page,
        poison_after: Option<Poison>,
    ) -> Result<StoreOutcome, MediaError> {
        let dpa = page << PAGE_SHIFT;
        let old_state = g.state();
        // The old content is stale from here on: free it first, so that a
        // rewrite of similar size succeeds on a nearly full media.
        let old = g.content().take();
        let had_meta = old.is_written();
        self.free_content(old);
        if !had_meta && !self.budget.reserve(META_BYTES_PER_PAGE) {
            return self.fail_store(g, old_state, dpa, false);
        }
        let (content, outcome) = match encoded {
            Encoded::Zero => (Content::Zero, (PageState::Zero, None, 0)),
            Encoded::Same(w) => (Content::Same(w), (PageState::SameFilled, None, 0)),
            Encoded::Compressed { codec, blob } => {
                let Some(mut slot) = self.arena.alloc(blob.len(), &self.budget) else {
                    return self.fail_store(g, old_state, dpa, true);
                };
                self.arena.memory().write(&mut slot, blob);
                let len = blob.len() as u16;
                (
                    Content::Compressed { codec, len, slot },
                    (PageState::Compressed, Some(codec), blob.len()),
                )
            }
            Encoded::Raw => {
                let Some(mut slot) = self.arena.alloc(PAGE_SIZE, &self.budget) else {
                    return self.fail_store(g, old_state, dpa, true);
                };
                self.arena.memory().write(&mut slot, data);
                (Content::Raw { slot }, (PageState::Raw, None, PAGE_SIZE))
            }
        };
        let blob = content.blob_bytes();
        *g.content() = content;
        g.set_poison(poison_after);
        let new_state = g.state();
        let c = &self.counters;
        c.transition(old_state, new_state);
        c.written_pages.fetch_add(1, Ordering::Relaxed);
        c.blob_bytes.fetch_add(blob, Ordering::Relaxed);
        drop(g);

        c.bytes_in.fetch_add(PAGE_SIZE as u64, Ordering::Relaxed);
        c.bytes_out.fetch_add(blob, Ordering::Relaxed);
        c.stores.fetch_add(1, Ordering::Relaxed);
        self.check_watermarks();
        let (state, codec, blob_bytes) = outcome;
        Ok(StoreOutcome {
            state: if poison_after.is_some() {
                PageState::Poisoned
            } else {
                state
            },
            codec,
            blob_bytes,
        })
    }

    /// The store of page `dpa` found no media: the page loses its content
    /// (already freed) and becomes poisoned. `holds_meta` says whether a
    /// metadata reservation is still held for the page.
    fn fail_store(
        &self,
        mut g: page_table::PageGuard<'_>,
        old_state: PageState,
        dpa: u64,
        holds_meta: bool,
    ) -> Result<StoreOutcome, MediaError> {
        // Every line is lost; those injected before stay injected.
        let injected = g.poison().map_or(0, |p| p.injected);
        g.set_poison(Some(Poison {
            lines: u64::MAX,
            injected,
        }));
        let c = &self.counters;
        c.transition(old_state, PageState::Poisoned);
        drop(g);
        if holds_meta {
            self.budget.release(META_BYTES_PER_PAGE);
        }
        c.failed_stores.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(dpa, "media exhausted; page poisoned");
        VendorEvent::MediaExhausted {
            snapshot: self.snapshot(),
            dpa,
        }
        .log_to(&self.events);
        self.check_watermarks();
        Err(MediaError::Exhausted { dpa })
    }

    /// Frees the media behind `content` (slot and blob accounting; the
    /// caller settles the metadata).
    fn free_content(&self, content: Content) {
        let blob = content.blob_bytes();
        let had_meta = content.is_written();
        match content {
            Content::Compressed { slot, .. } | Content::Raw { slot } => {
                self.arena.free(slot, &self.budget);
            }
            Content::Unwritten | Content::Zero | Content::Same(_) => {}
        }
        if blob > 0 {
            self.counters.blob_bytes.fetch_sub(blob, Ordering::Relaxed);
        }
        if had_meta {
            self.counters.written_pages.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Reads the page at `dpa` into `out`.
    pub fn load(&self, dpa: u64, out: &mut Page) -> Result<PageState, MediaError> {
        let page = self.geometry.page_of(dpa)?;
        let mut g = self.table.lock(page);
        if let Some(p) = g.poison() {
            return Err(MediaError::Poisoned {
                dpa,
                lines: p.lines,
            });
        }
        let state = g.state();
        self.decode(g.content(), dpa, out)?;
        drop(g);
        self.counters.loads.fetch_add(1, Ordering::Relaxed);
        Ok(state)
    }

    fn decode(&self, content: &Content, dpa: u64, out: &mut Page) -> Result<(), MediaError> {
        match content {
            Content::Unwritten | Content::Zero => out.fill(0),
            Content::Same(w) => {
                for chunk in out.chunks_exact_mut(8) {
                    chunk.copy_from_slice(&w.to_le_bytes());
                }
            }
            Content::Compressed { codec, len, slot } => {
                let blob = self.arena.memory().read(slot, usize::from(*len));
                codec::decompress_with(*codec, blob, out)
                    .map_err(|source| MediaError::Corrupt { dpa, source })?;
            }
            Content::Raw { slot } => out.copy_from_slice(self.arena.memory().read(slot, PAGE_SIZE)),
        }
        Ok(())
    }

    /// The state of the page at `dpa`.
    pub fn page_state(&self, dpa: u64) -> Result<PageState, MediaError> {
        let page = self.geometry.page_of(dpa)?;
        Ok(self.table.lock(page).state())
    }

    /// Discards (zeroes) a page-aligned range: its pages become unwritten,
    /// their media is freed and their poison cleared. Returns how many pages
    /// held media or poison.
    pub fn discard(&self, dpa: u64, len: u64) -> Result<u64, MediaError> {
        let pages = self.geometry.page_range(dpa, len)?;
        let mut freed = 0;
        for page in pages {
            let mut g = self.table.lock(page);
            let old_state = g.state();
            if old_state == PageState::Unwritten {
                continue;
            }
            let old = g.content().take();
            let had_meta = old.is_written();
            g.set_poison(None);
            self.free_content(old);
            self.counters.transition(old_state, PageState::Unwritten);
            drop(g);
            if had_meta {
                self.budget.release(META_BYTES_PER_PAGE);
            }
            freed += 1;
        }
        self.counters
            .discarded_pages
            .fetch_add(freed, Ordering::Relaxed);
        self.check_watermarks();
        Ok(freed)
    }

    /// Discards every page (device reset).
    pub fn discard_all(&self) {
        let len = self.geometry.logical_bytes();
        if let Err(e) = self.discard(0, len) {
            // The whole range is valid by construction.
            tracing::error!("discarding the whole media failed: {e}");
        }
    }

    fn line_of(&self, dpa: u64) -> Result<(u64, u32), MediaError> {
        self.geometry.check(dpa, LINE_SIZE, LINE_SIZE)?;
        Ok((
            dpa >> PAGE_SHIFT,
            ((dpa % PAGE_SIZE as u64) / LINE_SIZE) as u32,
        ))
    }

    /// Poisons the cache line at `dpa` (Inject Poison). Injecting an already
    /// poisoned line succeeds without counting against the limit.
    pub fn inject_poison(&self, dpa: u64) -> Result<(), MediaError> {
        let (page, line) = self.line_of(dpa)?;
        // Injections are rare; serialising them makes the limit exact.
        let _serial = self.inject_lock.lock();
        let bit = 1u64 << line;
        if self
            .table
            .lock(page)
            .poison()
            .is_some_and(|p| p.lines & bit != 0)
        {
            return Ok(());
        }
        if self.injected_lines() >= u64::from(self.inject_limit) {
            return Err(MediaError::InjectLimit {
                limit: self.inject_limit,
            });
        }
        let mut g = self.table.lock(page);
        // Poisoned since the check (a failed store, a lost page): a no-op.
        if g.poison().is_some_and(|p| p.lines & bit != 0) {
            return Ok(());
        }
        let old_state = g.state();
        let poison = match g.poison() {
            Some(p) => Poison {
                lines: p.lines | bit,
                injected: p.injected | bit,
            },
            None => Poison {
                lines: bit,
                injected: bit,
            },
        };
        g.set_poison(Some(poison));
        self.counters.transition(old_state, PageState::Poisoned);
        Ok(())
    }

    /// Poisons every line of the page at `dpa` (source internal) because a
    /// transport found its content lost, and logs a failure event (type 3,
    /// naming the page) as a failed store would. The page keeps its stored
    /// content; a later successful store or a discard clears the poison.
    pub fn poison_lost_page(&self, dpa: u64) -> Result<(), MediaError> {
        let page = self.geometry.page_of(dpa)?;
        let mut g = self.table.lock(page);
        let old_state = g.state();
        let injected = g.poison().map_or(0, |p| p.injected);
        g.set_poison(Some(Poison {
            lines: u64::MAX,
            injected,
        }));
        self.counters.transition(old_state, PageState::Poisoned);
        drop(g);
        tracing::warn!(dpa, "page content lost; page poisoned");
        VendorEvent::MediaExhausted {
            snapshot: self.snapshot(),
            dpa,
        }
        .log_to(&self.events);
        Ok(())
    }

    /// Poisoned lines that were injected and are still outstanding.
    pub fn injected_lines(&self) -> u64 {
        (0..STRIPES)
            .map(|s| {
                self.table
                    .lock_stripe(s)
                    .poisoned()
                    .map(|(_, p)| u64::from(p.injected.count_ones()))
                    .sum::<u64>()
            })
            .sum()
    }

    /// Writes `data` to the cache line at `dpa` and clears its poison (Clear
    /// Poison). The rest of the page keeps its content and poison.
    pub fn clear_poison(
        &self,
        dpa: u64,
        data: &[u8; LINE_SIZE as usize],
    ) -> Result<(), MediaError> {
        let (page, line) = self.line_of(dpa)?;
        let mut buf: Box<Page> = Box::new([0; PAGE_SIZE]);
        // The page stays locked from the read to the commit (compressing
        // under the lock: Clear Poison is rare), so no store, discard or
        // injection on it can be undone by this one.
        let mut g = self.table.lock(page);
        let remaining = g.poison().and_then(|p| {
            let keep = !(1u64 << line);
            let lines = p.lines & keep;
            (lines != 0).then_some(Poison {
                lines,
                injected: p.injected & keep,
            })
        });
        self.decode(g.content(), page << PAGE_SHIFT, &mut buf)?;
        let start = line as usize * LINE_SIZE as usize;
        buf[start..start + LINE_SIZE as usize].copy_from_slice(data);
        self.encode(&buf, |encoded| {
            self.commit(g, page, encoded, &buf, remaining)
        })?;
        Ok(())
    }

    /// Poison records in `[dpa, dpa + len)` (line aligned), in DPA order,
    /// one per run of consecutive poisoned lines within a page.
    pub fn poison_records(&self, dpa: u64, len: u64) -> Result<Vec<PoisonRecord>, MediaError> {
        self.geometry.check(dpa, len, LINE_SIZE)?;
        let end = dpa + len;
        // Only pages that overlap the range are sorted and expanded.
        let (first_page, last_page) = (dpa >> PAGE_SHIFT, (end - 1) >> PAGE_SHIFT);
        let mut pages: Vec<(u64, Poison)> = Vec::new();
        for s in 0..STRIPES {
            let stripe = self.table.lock_stripe(s);
            pages.extend(
                stripe
                    .poisoned()
                    .map(|(i, p)| (PageTable::page_number(s, i), p))
                    .filter(|(page, _)| (first_page..=last_page).contains(page)),
            );
        }
        pages.sort_unstable_by_key(|(page, _)| *page);
        let mut out = Vec::new();
        for (page, poison) in pages {
            let base = page << PAGE_SHIFT;
            let mut line = 0;
            while line < LINES_PER_PAGE {
                if poison.lines & (1 << line) == 0 {
                    line += 1;
                    continue;
                }
                // A run ends where the poison or its source changes.
                let first = line;
                let source = poison.source(first as u32);
                while line < LINES_PER_PAGE
                    && poison.lines & (1 << line) != 0
                    && poison.source(line as u32) == source
                {
                    line += 1;
                }
                // Clip the run to the requested range.
                let run_start = (base + first * LINE_SIZE).max(dpa);
                let run_end = (base + line * LINE_SIZE).min(end);
                if run_start < run_end {
                    out.push(PoisonRecord {
                        dpa: run_start,
                        lines: ((run_end - run_start) / LINE_SIZE) as u32,
                        source,
                    });
                }
            }
        }
        Ok(out)
    }

    fn snapshot(&self) -> MediaSnapshot {
        let (low, high) = self.watermarks.config().bytes(self.geometry.media_bytes());
        MediaSnapshot {
            used: self.budget.used(),
            capacity: self.geometry.media_bytes(),
            low,
            high,
            pressure: self.watermarks.under_pressure(),
        }
    }

    fn check_watermarks(&self) {
        // Logged under the watermarks' transition lock: two racing
        // crossings reach the log in the order they happened, each with
        // the pressure state it produced.
        self.watermarks
            .evaluate(|| self.budget.used(), |c| self.report_crossing(c));
    }

    /// Counts and logs a crossing. Runs under the transition lock, so it
    /// must not evaluate the watermarks (the snapshot only reads atomics).
    fn report_crossing(&self, crossing: Crossing) {
        let snapshot = self.snapshot();
        let event = match crossing {
            Crossing::RoseAboveHigh => {
                self.counters.crossings_high.fetch_add(1, Ordering::Relaxed);
                VendorEvent::WatermarkHigh(snapshot)
            }
            Crossing::FellBelowLow => {
                self.counters.crossings_low.fetch_add(1, Ordering::Relaxed);
                VendorEvent::WatermarkLow(snapshot)
            }
        };
        tracing::info!(?crossing, used = snapshot.used, "media watermark crossed");
        event.log_to(&self.events);
    }

    /// Current figures. Each is exact; taken while stores run, they may come
    /// from slightly different instants.
    pub fn stats(&self) -> MediaStats {
        let c = &self.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let used = self.budget.used();
        let written = load(&c.written_pages);
        let blob = load(&c.blob_bytes);
        let metadata = written * META_BYTES_PER_PAGE;
        let capacity = self.geometry.media_bytes();
        let config = self.watermarks.config();
        let (low_bytes, high_bytes) = config.bytes(capacity);
        MediaStats {
            logical_bytes: self.geometry.logical_bytes(),
            media_bytes: capacity,
            used_bytes: used,
            free_bytes: capacity.saturating_sub(used),
            blob_bytes: blob,
            metadata_bytes: metadata,
            fragmentation_bytes: used.saturating_sub(blob + metadata),
            pages: PageCounts {
                unwritten: load(&c.pages[0]),
                zero: load(&c.pages[1]),
                same_filled: load(&c.pages[2]),
                compressed: load(&c.pages[3]),
                raw: load(&c.pages[4]),
                poisoned: load(&c.pages[5]),
            },
            written_pages: written,
            bytes_in: load(&c.bytes_in),
            bytes_out: load(&c.bytes_out),
            ratio: if used == 0 {
                0.0
            } else {
                (written * PAGE_SIZE as u64) as f64 / used as f64
            },
            stores: load(&c.stores),
            loads: load(&c.loads),
            failed_stores: load(&c.failed_stores),
            discarded_pages: load(&c.discarded_pages),
            watermarks: WatermarkStats {
                low_percent: config.low_percent,
                high_percent: config.high_percent,
                low_bytes,
                high_bytes,
                pressure: self.watermarks.under_pressure(),
                crossings_high: load(&c.crossings_high),
                crossings_low: load(&c.crossings_low),
            },
        }
    }

    /// Recomputes every accounted figure from the page table and the arena's
    /// own structures, independently of the running counters. Meant for
    /// tests and debugging: it locks every stripe in turn.
    pub fn audit(&self) -> stats::Audit {
        let mut a = stats::Audit::default();
        for s in 0..STRIPES {
            let stripe = self.table.lock_stripe(s);
            let poisoned: std::collections::HashSet<u32> =
                stripe.poisoned().map(|(i, _)| i).collect();
            for (i, content) in stripe.contents().iter().enumerate() {
                let state = PageState::of(content, poisoned.contains(&(i as u32)));
                a.pages[state as usize] += 1;
                a.blob_bytes += content.blob_bytes();
                a.slot_bytes += content.slot().map_or(0, |s| s.size() as u64);
                if content.is_written() {
                    a.written_pages += 1;
                }
            }
        }
        let arena = self.arena.audit();
        a.arena_slabs = arena.slabs;
        a.arena_slot_bytes = arena.slot_bytes;
        a.used_bytes = arena.slabs * SLAB_SIZE as u64 + a.written_pages * META_BYTES_PER_PAGE;
        a
    }
}

#[cfg(test)]
mod tests;
