//! The page table: what each logical page holds, and which of its cache
//! lines are poisoned.
//!
//! Pages are spread over many independently locked stripes (page `p` lives
//! in stripe `p % STRIPES`), so stores to different pages almost never wait
//! for one another, while each page's updates stay atomic.

use super::arena::Slot;
use crate::codec::CodecId;
use parking_lot::{Mutex, MutexGuard};
use serde::Serialize;
use std::collections::HashMap;

/// Number of lock stripes (a power of two).
pub const STRIPES: usize = 256;

/// What a logical page holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Content {
    /// Never written, or discarded: reads as zeros, costs no media.
    Unwritten,
    /// All zeros.
    Zero,
    /// One little-endian 64-bit word repeated.
    Same(u64),
    /// A blob of `len` bytes made by `codec`.
    Compressed {
        codec: CodecId,
        len: u16,
        slot: Slot,
    },
    /// The page stored as-is.
    Raw { slot: Slot },
}

impl Content {
    /// Whether the page has a page-table entry on the media (every state but
    /// unwritten does).
    pub fn is_written(&self) -> bool {
        !matches!(self, Content::Unwritten)
    }

    /// Live blob bytes the page holds on the media.
    pub fn blob_bytes(&self) -> u64 {
        match self {
            Content::Compressed { len, .. } => u64::from(*len),
            Content::Raw { .. } => crate::geometry::PAGE_SIZE as u64,
            _ => 0,
        }
    }

    /// The slot backing the page, if any.
    pub fn slot(&self) -> Option<&Slot> {
        match self {
            Content::Compressed { slot, .. } | Content::Raw { slot } => Some(slot),
            _ => None,
        }
    }

    /// Takes the slot out, leaving the content unwritten.
    pub fn take(&mut self) -> Content {
        std::mem::replace(self, Content::Unwritten)
    }
}

/// Where poison came from (the CXL media error record source field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PoisonSource {
    /// Detected by the device itself: a store that found the media full.
    Internal = 2,
    /// Injected with Inject Poison.
    Injected = 3,
}

/// Poisoned cache lines of one page (bit `i` = line `i`), and which of
/// them were injected; the device found the others itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poison {
    pub lines: u64,
    /// A subset of `lines`.
    pub injected: u64,
}

impl Poison {
    /// Where the poison of `line` (a poisoned line) came from.
    pub fn source(&self, line: u32) -> PoisonSource {
        if self.injected & (1 << line) != 0 {
            PoisonSource::Injected
        } else {
            PoisonSource::Internal
        }
    }
}

/// The state a page is counted under in statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageState {
    Unwritten = 0,
    Zero = 1,
    SameFilled = 2,
    Compressed = 3,
    Raw = 4,
    Poisoned = 5,
}

impl PageState {
    pub const ALL: [PageState; 6] = [
        PageState::Unwritten,
        PageState::Zero,
        PageState::SameFilled,
        PageState::Compressed,
        PageState::Raw,
        PageState::Poisoned,
    ];

    /// The state of a page with `content` and, possibly, poison.
    pub fn of(content: &Content, poisoned: bool) -> Self {
        if poisoned {
            return PageState::Poisoned;
        }
        match content {
            Content::Unwritten => PageState::Unwritten,
            Content::Zero => PageState::Zero,
            Content::Same(_) => PageState::SameFilled,
            Content::Compressed { .. } => PageState::Compressed,
            Content::Raw { .. } => PageState::Raw,
        }
    }
}

/// One lock stripe.
pub struct Stripe {
    contents: Vec<Content>,
    poison: HashMap<u32, Poison>,
}

impl Stripe {
    pub fn content(&mut self, index: u32) -> &mut Content {
        &mut self.contents[index as usize]
    }

    pub fn poison(&self, index: u32) -> Option<Poison> {
        self.poison.get(&index).copied()
    }

    pub fn set_poison(&mut self, index: u32, poison: Option<Poison>) {
        match poison {
            Some(p) if p.lines != 0 => {
                self.poison.insert(index, p);
            }
            _ => {
                self.poison.remove(&index);
            }
        }
    }

    /// Indexes of poisoned pages in this stripe.
    pub fn poisoned(&self) -> impl Iterator<Item = (u32, Poison)> + '_ {
        self.poison.iter().map(|(&i, &p)| (i, p))
    }

    pub fn contents(&self) -> &[Content] {
        &self.contents
    }
}

pub struct PageTable {
    stripes: Box<[Mutex<Stripe>]>,
    pages: u64,
}

/// A locked page: its stripe guard and its index in the stripe.
pub struct PageGuard<'a> {
    pub stripe: MutexGuard<'a, Stripe>,
    pub index: u32,
}

impl PageGuard<'_> {
    pub fn content(&mut self) -> &mut Content {
        self.stripe.content(self.index)
    }

    pub fn poison(&self) -> Option<Poison> {
        self.stripe.poison(self.index)
    }

    pub fn set_poison(&mut self, poison: Option<Poison>) {
        let index = self.index;
        self.stripe.set_poison(index, poison)
    }

    pub fn state(&mut self) -> PageState {
        let poisoned = self.poison().is_some();
        PageState::of(self.content(), poisoned)
    }
}

impl PageTable {
    pub fn new(pages: u64) -> Self {
        let per_stripe = pages.div_ceil(STRIPES as u64) as usize;
        let stripes = (0..STRIPES)
            .map(|s| {
                // Stripe s holds pages s, s + STRIPES, ...; the last few
                // stripes may hold one page fewer.
                let len = if (s as u64) < pages % STRIPES as u64
                    || pages.is_multiple_of(STRIPES as u64)
                {
                    per_stripe
                } else {
                    per_stripe - 1
                };
                Mutex::new(Stripe {
                    contents: (0..len).map(|_| Content::Unwritten).collect(),
                    poison: HashMap::new(),
                })
            })
            .collect();
        Self { stripes, pages }
    }

    /// Locks page `page` (which must be `< pages()`).
    pub fn lock(&self, page: u64) -> PageGuard<'_> {
        debug_assert!(page < self.pages);
        PageGuard {
            stripe: self.stripes[page as usize % STRIPES].lock(),
            index: (page / STRIPES as u64) as u32,
        }
    }

    /// Locks stripe `s` for a walk over all its pages.
    pub fn lock_stripe(&self, s: usize) -> MutexGuard<'_, Stripe> {
        self.stripes[s].lock()
    }

    /// The page number of entry `index` of stripe `s`.
    pub fn page_number(s: usize, index: u32) -> u64 {
        u64::from(index) * STRIPES as u64 + s as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_small() {
        assert_eq!(std::mem::size_of::<Content>(), 16);
    }

    #[test]
    fn every_page_maps_to_exactly_one_entry() {
        for pages in [1u64, 255, 256, 257, 1000, 65536] {
            let table = PageTable::new(pages);
            let total: usize = (0..STRIPES)
                .map(|s| table.lock_stripe(s).contents().len())
                .sum();
            assert_eq!(total as u64, pages, "{pages} pages");
            for page in [0, pages / 2, pages - 1] {
                let mut g = table.lock(page);
                assert_eq!(*g.content(), Content::Unwritten);
                let s = page as usize % STRIPES;
                assert_eq!(PageTable::page_number(s, g.index), page);
            }
        }
    }
}
