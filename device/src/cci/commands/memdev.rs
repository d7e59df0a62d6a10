//! Memory device commands: Identify Memory Device, partitions, labels.

use super::fw_revision;
use crate::cci::wire::{In, Out};
use crate::cci::{ReturnCode, MAX_PAYLOAD};
use crate::geometry::CAPACITY_UNIT;
use crate::Device;

/// Media error records the device can report (the 24-bit field's maximum:
/// the poison list is bounded only by the number of lines).
pub const POISON_LIST_MAX_MER: u32 = 0x00ff_ffff;

/// Identify Memory Device (4000h), CXL 3.x layout (69 bytes).
pub fn identify(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let cfg = dev.config();
    let units = cfg.logical_bytes / CAPACITY_UNIT;
    let log_size = dev.events().capacity();
    let mut o = Out::with_capacity(0x45);
    o.text(&fw_revision(), 16)
        .u64(units) // total
        .u64(units) // volatile only
        .u64(0) // persistent only
        .u64(0) // partition alignment: not partitionable
        .u16(log_size)
        .u16(log_size)
        .u16(log_size)
        .u16(log_size)
        .u32(cfg.lsa_bytes as u32)
        .u24(POISON_LIST_MAX_MER)
        .u16(cfg.inject_poison_limit)
        .u8(0) // poison capabilities: injected poison is volatile, no scan media
        .u8(0) // no QoS telemetry
        .u16(0); // no dynamic capacity event log
    Ok(o.done())
}

/// Get Partition Info (4100h): all capacity volatile, nothing pending.
pub fn get_partition_info(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let units = dev.config().logical_bytes / CAPACITY_UNIT;
    let mut o = Out::with_capacity(32);
    o.u64(units).u64(0).u64(0).u64(0);
    Ok(o.done())
}

fn lsa_range(dev: &Device, offset: u32, len: usize) -> Result<usize, ReturnCode> {
    let offset = offset as usize;
    let size = dev.config().lsa_bytes;
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(ReturnCode::InvalidInput);
    }
    Ok(offset)
}

/// Get LSA (4102h).
pub fn get_lsa(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let length = p.u32(4)? as usize;
    if length > MAX_PAYLOAD {
        return Err(ReturnCode::InvalidInput);
    }
    let offset = lsa_range(dev, p.u32(0)?, length)?;
    let mut buf = vec![0u8; length];
    dev.labels().read(offset, &mut buf).map_err(|e| {
        tracing::error!("reading the label area failed: {e}");
        ReturnCode::InternalError
    })?;
    Ok(buf)
}

/// Set LSA (4103h): offset, 4 reserved bytes, data.
pub fn set_lsa(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    p.reserved(4, 4)?;
    let data = p.bytes(8, p.len() - 8)?;
    let offset = lsa_range(dev, p.u32(0)?, data.len())?;
    dev.labels().write(offset, data).map_err(|e| {
        tracing::error!("writing the label area failed: {e}");
        ReturnCode::InternalError
    })?;
    Ok(Vec::new())
}
