//! `zcxl-device`: a CXL Type-3 memory expander with inline page compression,
//! as a library with no transport.
//!
//! The device has a logical capacity (the DPA space the host sees, split in
//! 4 KiB pages) and a smaller media capacity (the bytes it physically owns).
//! Pages written to it are classified (zero, same-filled) or compressed
//! (LZ4, zstd) into a size-class arena on the media, and the device reports
//! exactly how much media that takes. It speaks the CXL CCI message format
//! and a CXL 3.x memory-device command set plus a vendor set for compression.
//!
//! Layout: [`geometry`] (capacities, DPAs), [`codec`] (page classification and
//! compression), [`media`] (page table, arena, accounting, watermarks,
//! poison), [`events`] (the four CXL event logs), [`labels`] (label storage
//! area), [`cci`] (message format, command registry, handlers) and
//! [`Device`], which ties them together.
//!
//! The normative description is `specs/device.md` in the repository.

pub mod cci;
pub mod clock;
pub mod codec;
pub mod device;
pub mod events;
pub mod geometry;
pub mod labels;
pub mod media;

pub use device::{Device, DeviceConfig, DeviceError, Identity};
pub use geometry::{Geometry, GeometryError, Page, CAPACITY_UNIT, PAGE_SIZE};

#[cfg(test)]
pub(crate) mod testutil;
