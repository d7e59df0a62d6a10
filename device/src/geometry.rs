//! Capacities and device physical addresses (DPAs).

use thiserror::Error;

/// The device's page: the unit of compression, hints and discard.
pub const PAGE_SIZE: usize = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;
/// CXL capacity unit: capacities in Identify Memory Device are multiples of it.
pub const CAPACITY_UNIT: u64 = 256 << 20;
/// CXL poison granularity (one cache line).
pub const LINE_SIZE: u64 = 64;
/// Cache lines per page.
pub const LINES_PER_PAGE: u64 = PAGE_SIZE as u64 / LINE_SIZE;
/// Largest logical capacity accepted. The page table costs 16 bytes of host
/// memory per logical page, so 1 TiB of logical capacity costs 4 GiB.
pub const MAX_LOGICAL_BYTES: u64 = 1 << 40;

/// One page of data.
pub type Page = [u8; PAGE_SIZE];

/// Invalid capacity configuration.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum GeometryError {
    #[error(
        "logical capacity {0} B is not a positive multiple of 256 MiB (the CXL capacity unit)"
    )]
    LogicalNotCapacityUnit(u64),
    #[error("logical capacity {0} B exceeds the supported maximum of 1 TiB")]
    LogicalTooLarge(u64),
    #[error("media capacity {0} B is not a positive multiple of the 4 KiB page size")]
    MediaNotPageMultiple(u64),
    #[error("media capacity {media} B is smaller than one {min} B arena slab")]
    MediaTooSmall { media: u64, min: u64 },
}

/// Logical and media capacity of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    logical_bytes: u64,
    media_bytes: u64,
}

impl Geometry {
    /// Validates and builds a geometry. The media may be larger than the
    /// logical capacity (a vendor may want to model that); transports are free
    /// to be stricter.
    pub fn new(logical_bytes: u64, media_bytes: u64) -> Result<Self, GeometryError> {
        if logical_bytes == 0 || !logical_bytes.is_multiple_of(CAPACITY_UNIT) {
            return Err(GeometryError::LogicalNotCapacityUnit(logical_bytes));
        }
        if logical_bytes > MAX_LOGICAL_BYTES {
            return Err(GeometryError::LogicalTooLarge(logical_bytes));
        }
        if media_bytes == 0 || !media_bytes.is_multiple_of(PAGE_SIZE as u64) {
            return Err(GeometryError::MediaNotPageMultiple(media_bytes));
        }
        let min = crate::media::SLAB_SIZE as u64;
        if media_bytes < min {
            return Err(GeometryError::MediaTooSmall {
                media: media_bytes,
                min,
            });
        }
        Ok(Self {
            logical_bytes,
            media_bytes,
        })
    }

    /// Logical capacity in bytes (the DPA space).
    pub fn logical_bytes(&self) -> u64 {
        self.logical_bytes
    }

    /// Media capacity in bytes.
    pub fn media_bytes(&self) -> u64 {
        self.media_bytes
    }

    /// Number of logical pages.
    pub fn pages(&self) -> u64 {
        self.logical_bytes >> PAGE_SHIFT
    }

    /// Whether `[dpa, dpa + len)` lies inside the logical capacity.
    pub fn contains(&self, dpa: u64, len: u64) -> bool {
        dpa.checked_add(len)
            .is_some_and(|end| end <= self.logical_bytes)
    }

    /// Checks that `[dpa, dpa + len)` is aligned to `align` (start and
    /// length) and lies inside the logical capacity.
    pub fn check(&self, dpa: u64, len: u64, align: u64) -> Result<(), DpaError> {
        if !dpa.is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(DpaError::Misaligned { dpa, align });
        }
        if !self.contains(dpa, len) {
            return Err(DpaError::OutOfRange {
                dpa,
                len,
                capacity: self.logical_bytes,
            });
        }
        Ok(())
    }

    /// The page index of a page-aligned, in-range DPA.
    pub fn page_of(&self, dpa: u64) -> Result<u64, DpaError> {
        self.check(dpa, PAGE_SIZE as u64, PAGE_SIZE as u64)?;
        Ok(dpa >> PAGE_SHIFT)
    }

    /// The pages of a page-aligned, in-range DPA range.
    pub fn page_range(&self, dpa: u64, len: u64) -> Result<std::ops::Range<u64>, DpaError> {
        self.check(dpa, len, PAGE_SIZE as u64)?;
        Ok(dpa >> PAGE_SHIFT..(dpa + len) >> PAGE_SHIFT)
    }
}

/// A DPA the device cannot accept.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum DpaError {
    #[error("DPA {dpa:#x} is not aligned to {align} bytes")]
    Misaligned { dpa: u64, align: u64 },
    #[error("DPA range {dpa:#x}+{len:#x} lies outside the {capacity:#x}-byte logical capacity")]
    OutOfRange { dpa: u64, len: u64, capacity: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_capacities_that_are_not_capacity_units() {
        assert_eq!(
            Geometry::new(CAPACITY_UNIT + 4096, 1 << 20),
            Err(GeometryError::LogicalNotCapacityUnit(CAPACITY_UNIT + 4096))
        );
        assert_eq!(
            Geometry::new(0, 1 << 20),
            Err(GeometryError::LogicalNotCapacityUnit(0))
        );
        assert_eq!(
            Geometry::new(2 << 40, 1 << 20),
            Err(GeometryError::LogicalTooLarge(2 << 40))
        );
        assert_eq!(
            Geometry::new(CAPACITY_UNIT, 1000),
            Err(GeometryError::MediaNotPageMultiple(1000))
        );
        assert!(matches!(
            Geometry::new(CAPACITY_UNIT, 4096),
            Err(GeometryError::MediaTooSmall { .. })
        ));
    }

    #[test]
    fn page_ranges_check_alignment_and_bounds() {
        let g = Geometry::new(CAPACITY_UNIT, 1 << 20).unwrap();
        assert_eq!(g.pages(), 65536);
        assert_eq!(g.page_of(8192), Ok(2));
        assert!(matches!(g.page_of(100), Err(DpaError::Misaligned { .. })));
        assert!(matches!(
            g.page_of(CAPACITY_UNIT),
            Err(DpaError::OutOfRange { .. })
        ));
        assert_eq!(g.page_range(4096, 8192), Ok(1..3));
        assert!(matches!(
            g.page_range(CAPACITY_UNIT - 4096, 8192),
            Err(DpaError::OutOfRange { .. })
        ));
        assert!(matches!(
            g.page_range(u64::MAX - 4095, 4096),
            Err(DpaError::OutOfRange { .. })
        ));
    }
}
