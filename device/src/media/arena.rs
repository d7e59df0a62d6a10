//! The media arena: a flat byte range of media capacity, carved into fixed
//! slabs, each slab serving one size class.
//!
//! Accounting is exact by construction: a slab is the unit the arena takes
//! from the media budget, so the arena's share of media use is
//! `slabs in use × SLAB_SIZE`. Of that, the live blob bytes are what pages
//! hold and the rest (slot rounding, free slots, slab tails) is fragmentation.
//!
//! Slots are handed out as [`Slot`] tokens, which are neither `Copy` nor
//! `Clone`: whoever holds the token owns the bytes, which is what makes the
//! lock-free blob copies in [`MediaMemory`] sound.

use super::budget::MediaBudget;
use crate::geometry::PAGE_SIZE;
use memmap2::MmapMut;
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};

/// Bytes the arena takes from the media budget at a time.
pub const SLAB_SIZE: usize = 64 << 10;
/// Size-class granule: blob footprints are rounded up to a multiple of it.
pub const CLASS_GRANULE: usize = 32;
/// Number of size classes (32 B ... 4 KiB).
pub const CLASSES: usize = PAGE_SIZE / CLASS_GRANULE;

/// Size class of a blob of `len` bytes (1..=PAGE_SIZE).
pub fn class_of(len: usize) -> usize {
    debug_assert!((1..=PAGE_SIZE).contains(&len));
    len.max(1).div_ceil(CLASS_GRANULE) - 1
}

/// Slot size of class `class`.
pub fn slot_size(class: usize) -> usize {
    (class + 1) * CLASS_GRANULE
}

/// Media bytes a blob of `len` bytes occupies.
pub fn footprint(len: usize) -> usize {
    slot_size(class_of(len))
}

/// Ownership of one slot. Only the arena creates and consumes these.
///
/// Packed into one word (offset in the low 48 bits, class above) to keep
/// page-table entries at 16 bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Slot(u64);

impl Slot {
    fn new(offset: u64, class: usize) -> Self {
        debug_assert!(offset < 1 << 48 && class < CLASSES);
        Self(offset | (class as u64) << 48)
    }

    /// Byte offset of the slot on the media.
    pub fn offset(&self) -> u64 {
        self.0 & ((1 << 48) - 1)
    }

    fn class(&self) -> usize {
        (self.0 >> 48) as usize
    }

    /// Size of the slot.
    pub fn size(&self) -> usize {
        slot_size(self.class())
    }
}

/// The media bytes. Anonymous memory: only slabs that were written cost
/// host memory, and freed slabs are returned to the host.
pub struct MediaMemory {
    map: MmapMut,
    base: *mut u8,
}

// SAFETY: `base` points into `map`, which lives as long as `self`. Concurrent
// access goes through `write`/`read`, whose callers hold the `Slot` token for
// the bytes they touch; tokens are unique, so no two threads ever access the
// same bytes unless both only read them.
unsafe impl Send for MediaMemory {}
// SAFETY: see `Send` above; `&self` methods only touch bytes of a slot the
// caller proves ownership of.
unsafe impl Sync for MediaMemory {}

impl MediaMemory {
    fn new(len: usize) -> std::io::Result<Self> {
        let mut map = MmapMut::map_anon(len.max(1))?;
        let base = map.as_mut_ptr();
        Ok(Self { map, base })
    }

    /// Copies `data` into the start of `slot`.
    pub fn write(&self, slot: &mut Slot, data: &[u8]) {
        assert!(data.len() <= slot.size(), "blob larger than its slot");
        let start = slot.offset() as usize;
        assert!(start + slot.size() <= self.map.len(), "slot outside media");
        // SAFETY: the range is inside the mapping (checked above) and owned
        // exclusively by the holder of `slot` (`&mut`), so no other thread
        // reads or writes it concurrently.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(start), data.len());
        }
    }

    /// The first `len` bytes of `slot`.
    pub fn read<'a>(&'a self, slot: &'a Slot, len: usize) -> &'a [u8] {
        assert!(len <= slot.size(), "read past the end of a slot");
        let start = slot.offset() as usize;
        assert!(start + slot.size() <= self.map.len(), "slot outside media");
        // SAFETY: in bounds (checked above); the bytes belong to `slot`, and
        // writes need `&mut Slot`, which cannot coexist with this borrow.
        unsafe { std::slice::from_raw_parts(self.base.add(start), len) }
    }

    /// Gives a freed slab's memory back to the host.
    fn release(&self, slab: u32) {
        let start = slab as usize * SLAB_SIZE;
        if start + SLAB_SIZE > self.map.len() {
            return;
        }
        // SAFETY: the range lies inside our private anonymous mapping and no
        // slot in it is owned by anyone (the slab was just freed), so
        // discarding its contents cannot affect live data.
        let rc =
            unsafe { libc::madvise(self.base.add(start).cast(), SLAB_SIZE, libc::MADV_DONTNEED) };
        if rc != 0 {
            tracing::debug!(slab, "madvise(DONTNEED) failed; slab memory stays resident");
        }
    }
}

/// Free slots of one slab. Never-used slots are handed out by bumping
/// `fresh`, so a slab costs a few bytes of bookkeeping until slots are freed.
#[derive(Debug, Default)]
struct SlabSlots {
    fresh: u16,
    freed: Vec<u16>,
    in_use: u16,
}

#[derive(Debug, Default)]
struct ClassState {
    slabs: HashMap<u32, SlabSlots>,
    /// Slabs with at least one free slot; the lowest id is used first so
    /// that allocations pack into few slabs.
    partial: BTreeSet<u32>,
}

#[derive(Debug, Default)]
struct SlabPool {
    free: Vec<u32>,
    next_fresh: u32,
}

/// What the arena's own structures say is in use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArenaUsage {
    pub slabs: u64,
    pub slot_bytes: u64,
}

/// The size-class allocator.
pub struct Arena {
    memory: MediaMemory,
    classes: Vec<Mutex<ClassState>>,
    pool: Mutex<SlabPool>,
    max_slabs: u32,
}

impl Arena {
    pub fn new(media_bytes: u64) -> std::io::Result<Self> {
        let max_slabs = u32::try_from(media_bytes / SLAB_SIZE as u64).unwrap_or(u32::MAX);
        Ok(Self {
            memory: MediaMemory::new(max_slabs as usize * SLAB_SIZE)?,
            classes: (0..CLASSES).map(|_| Mutex::default()).collect(),
            pool: Mutex::default(),
            max_slabs,
        })
    }

    pub fn memory(&self) -> &MediaMemory {
        &self.memory
    }

    /// A slot for a blob of `len` bytes, taking a new slab from `budget` if
    /// the class has no free slot. `None` when the media is exhausted.
    pub fn alloc(&self, len: usize, budget: &MediaBudget) -> Option<Slot> {
        let class = class_of(len);
        let size = slot_size(class);
        let per_slab = (SLAB_SIZE / size) as u16;
        let mut state = self.classes[class].lock();
        let slab = match state.partial.first() {
            Some(&slab) => slab,
            None => {
                let slab = self.take_slab(budget)?;
                state.slabs.insert(slab, SlabSlots::default());
                state.partial.insert(slab);
                slab
            }
        };
        let slots = state.slabs.get_mut(&slab)?;
        let index = match slots.freed.pop() {
            Some(i) => i,
            None => {
                slots.fresh += 1;
                slots.fresh - 1
            }
        };
        slots.in_use += 1;
        if slots.freed.is_empty() && slots.fresh == per_slab {
            state.partial.remove(&slab);
        }
        drop(state);
        Some(Slot::new(
            u64::from(slab) * SLAB_SIZE as u64 + u64::from(index) * size as u64,
            class,
        ))
    }

    /// Returns a slot; a slab left empty goes back to `budget`.
    pub fn free(&self, slot: Slot, budget: &MediaBudget) {
        let class = slot.class();
        let size = slot_size(class);
        let slab = (slot.offset() / SLAB_SIZE as u64) as u32;
        let index = ((slot.offset() % SLAB_SIZE as u64) / size as u64) as u16;
        let mut state = self.classes[class].lock();
        let Some(slots) = state.slabs.get_mut(&slab) else {
            // Tokens come only from `alloc`, so this cannot happen; losing a
            // slot is better than corrupting the allocator if it ever does.
            tracing::error!(slab, class, "freeing a slot of an unknown slab");
            return;
        };
        slots.in_use -= 1;
        if slots.in_use == 0 {
            state.slabs.remove(&slab);
            state.partial.remove(&slab);
            drop(state);
            self.give_back_slab(slab, budget);
        } else {
            slots.freed.push(index);
            state.partial.insert(slab);
        }
    }

    fn take_slab(&self, budget: &MediaBudget) -> Option<u32> {
        if !budget.reserve(SLAB_SIZE as u64) {
            return None;
        }
        let mut pool = self.pool.lock();
        let slab = match pool.free.pop() {
            Some(slab) => slab,
            None if pool.next_fresh < self.max_slabs => {
                pool.next_fresh += 1;
                pool.next_fresh - 1
            }
            None => {
                drop(pool);
                budget.release(SLAB_SIZE as u64);
                return None;
            }
        };
        drop(pool);
        Some(slab)
    }

    fn give_back_slab(&self, slab: u32, budget: &MediaBudget) {
        self.memory.release(slab);
        self.pool.lock().free.push(slab);
        budget.release(SLAB_SIZE as u64);
    }

    /// Recounts slabs and slot bytes from the allocator's own structures.
    pub fn audit(&self) -> ArenaUsage {
        let mut usage = ArenaUsage::default();
        for (class, state) in self.classes.iter().enumerate() {
            let state = state.lock();
            usage.slabs += state.slabs.len() as u64;
            for slots in state.slabs.values() {
                usage.slot_bytes += u64::from(slots.in_use) * slot_size(class) as u64;
            }
        }
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_the_granule() {
        assert_eq!(class_of(1), 0);
        assert_eq!(footprint(1), 32);
        assert_eq!(footprint(32), 32);
        assert_eq!(footprint(33), 64);
        assert_eq!(footprint(PAGE_SIZE), PAGE_SIZE);
        assert_eq!(class_of(PAGE_SIZE), CLASSES - 1);
    }

    #[test]
    fn slabs_are_taken_and_returned_whole() {
        let budget = MediaBudget::new(2 * SLAB_SIZE as u64);
        let arena = Arena::new(2 * SLAB_SIZE as u64).unwrap();
        let mut slots: Vec<Slot> = (0..16)
            .map(|_| arena.alloc(4096, &budget).unwrap())
            .collect();
        assert_eq!(arena.audit().slabs, 1);
        assert_eq!(budget.used(), SLAB_SIZE as u64);
        slots.push(arena.alloc(100, &budget).unwrap());
        assert_eq!(arena.audit().slabs, 2);
        // Both slabs are taken: a third class has nowhere to go.
        assert!(arena.alloc(1000, &budget).is_none());
        assert_eq!(budget.used(), 2 * SLAB_SIZE as u64);
        for slot in slots.drain(..) {
            arena.free(slot, &budget);
        }
        assert_eq!(arena.audit(), ArenaUsage::default());
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn freed_slots_are_reused_and_data_stays_put() {
        let budget = MediaBudget::new(SLAB_SIZE as u64);
        let arena = Arena::new(SLAB_SIZE as u64).unwrap();
        let mut a = arena.alloc(64, &budget).unwrap();
        let mut b = arena.alloc(64, &budget).unwrap();
        arena.memory().write(&mut a, &[1; 64]);
        arena.memory().write(&mut b, &[2; 64]);
        let a_offset = a.offset();
        arena.free(a, &budget);
        let c = arena.alloc(50, &budget).unwrap();
        assert_eq!(c.offset(), a_offset);
        assert_eq!(arena.memory().read(&b, 64), &[2; 64]);
        assert_eq!(arena.audit().slot_bytes, 128);
        assert_eq!(arena.audit().slabs, 1);
    }
}
