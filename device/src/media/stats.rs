//! Media statistics, as the vendor statistics command and the daemon's
//! stats file report them.

use serde::Serialize;

/// Logical pages by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageCounts {
    pub unwritten: u64,
    pub zero: u64,
    pub same_filled: u64,
    pub compressed: u64,
    pub raw: u64,
    pub poisoned: u64,
}

impl PageCounts {
    pub fn as_array(&self) -> [u64; 6] {
        [
            self.unwritten,
            self.zero,
            self.same_filled,
            self.compressed,
            self.raw,
            self.poisoned,
        ]
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WatermarkStats {
    pub low_percent: u8,
    pub high_percent: u8,
    pub low_bytes: u64,
    pub high_bytes: u64,
    pub pressure: bool,
    pub crossings_high: u64,
    pub crossings_low: u64,
}

/// Everything the media accounts. `used_bytes` = `blob_bytes` +
/// `metadata_bytes` + `fragmentation_bytes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MediaStats {
    pub logical_bytes: u64,
    pub media_bytes: u64,
    pub used_bytes: u64,
    pub free_bytes: u64,
    pub blob_bytes: u64,
    pub metadata_bytes: u64,
    pub fragmentation_bytes: u64,
    pub pages: PageCounts,
    /// Pages with a page-table entry (every state but unwritten, and
    /// poisoned pages that kept their content).
    pub written_pages: u64,
    /// Logical bytes stored since start (4 KiB per successful store).
    pub bytes_in: u64,
    /// Blob bytes written to the media since start.
    pub bytes_out: u64,
    /// Logical bytes held / media bytes used (0 when nothing is used).
    pub ratio: f64,
    pub stores: u64,
    pub loads: u64,
    pub failed_stores: u64,
    pub discarded_pages: u64,
    pub watermarks: WatermarkStats,
}

/// Figures recomputed from the data structures by `Media::audit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audit {
    pub pages: [u64; 6],
    pub written_pages: u64,
    pub blob_bytes: u64,
    /// Slot bytes referenced by the page table.
    pub slot_bytes: u64,
    /// Slot bytes the arena believes are in use.
    pub arena_slot_bytes: u64,
    pub arena_slabs: u64,
    /// Slabs × slab size + written pages × metadata.
    pub used_bytes: u64,
}
