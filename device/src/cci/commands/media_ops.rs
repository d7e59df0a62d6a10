//! Media Operations (4402h): Discovery and Zero.
//!
//! Zero is the device's discard: the pages of each range become unwritten
//! and their media is freed. Ranges are page granular.

use super::poison::media_rc;
use crate::cci::wire::{In, Out};
use crate::cci::ReturnCode;
use crate::geometry::PAGE_SIZE;
use crate::Device;

pub const CLASS_GENERAL: u8 = 0;
pub const SUBCLASS_DISCOVERY: u8 = 0;
pub const CLASS_SANITIZE: u8 = 1;
pub const SUBCLASS_ZERO: u8 = 1;

/// (class, subclass) pairs the device supports, as Discovery lists them.
const SUPPORTED: [(u8, u8); 2] = [
    (CLASS_GENERAL, SUBCLASS_DISCOVERY),
    (CLASS_SANITIZE, SUBCLASS_ZERO),
];

/// DPA range granularity of Zero.
pub const GRANULARITY: u64 = PAGE_SIZE as u64;

const HEADER: usize = 8;
const RANGE: usize = 16;

pub fn media_operations(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let class = p.u8(0)?;
    let subclass = p.u8(1)?;
    p.reserved(2, 2)?;
    let ranges = p.u32(4)?;
    match (class, subclass) {
        (CLASS_GENERAL, SUBCLASS_DISCOVERY) => discovery(p, ranges),
        (CLASS_SANITIZE, SUBCLASS_ZERO) => zero(dev, p, ranges),
        _ => Err(ReturnCode::Unsupported),
    }
}

fn discovery(p: In<'_>, ranges: u32) -> Result<Vec<u8>, ReturnCode> {
    if p.len() != HEADER + 4 {
        return Err(ReturnCode::InvalidPayloadLength);
    }
    if ranges != 0 {
        return Err(ReturnCode::InvalidInput);
    }
    let start = usize::from(p.u16(8)?);
    let count = usize::from(p.u16(10)?);
    if start + count > SUPPORTED.len() {
        return Err(ReturnCode::InvalidInput);
    }
    let mut o = Out::with_capacity(12 + 2 * count);
    o.u64(GRANULARITY)
        .u16(SUPPORTED.len() as u16)
        .u16(count as u16);
    for (c, s) in &SUPPORTED[start..start + count] {
        o.u8(*c).u8(*s);
    }
    Ok(o.done())
}

fn zero(dev: &Device, p: In<'_>, ranges: u32) -> Result<Vec<u8>, ReturnCode> {
    let count = ranges as usize;
    if count.checked_mul(RANGE).and_then(|n| n.checked_add(HEADER)) != Some(p.len()) {
        return Err(ReturnCode::InvalidPayloadLength);
    }
    let geometry = *dev.media().geometry();
    let mut list = Vec::with_capacity(count);
    // Validate every range before touching any, so a bad range changes
    // nothing.
    for i in 0..count {
        let dpa = p.u64(HEADER + i * RANGE)?;
        let len = p.u64(HEADER + i * RANGE + 8)?;
        if len == 0 || dpa % GRANULARITY != 0 || len % GRANULARITY != 0 {
            return Err(ReturnCode::InvalidInput);
        }
        if !geometry.contains(dpa, len) {
            return Err(ReturnCode::InvalidPhysicalAddress);
        }
        list.push((dpa, len));
    }
    for (dpa, len) in list {
        dev.media().discard(dpa, len).map_err(|e| media_rc(&e))?;
    }
    Ok(Vec::new())
}
