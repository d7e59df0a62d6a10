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
    // Each page once, however the ranges overlap: up to 255 ranges of the
    // whole device would otherwise walk it 255 times, holding the mailbox.
    for (dpa, len) in coalesce(list) {
        dev.media().discard(dpa, len).map_err(|e| media_rc(&e))?;
    }
    Ok(Vec::new())
}

/// `(dpa, len)` ranges merged where they overlap or touch, in DPA order.
/// The ranges are inside the device, so `dpa + len` does not overflow.
fn coalesce(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (dpa, len) in ranges {
        match out.last_mut() {
            Some((start, l)) if dpa <= *start + *l => {
                *l = (*l).max(dpa + len - *start);
            }
            _ => out.push((dpa, len)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::coalesce;

    #[test]
    fn ranges_merge_where_they_overlap_or_touch() {
        assert_eq!(coalesce(vec![(0, 4096); 255]), [(0, 4096)]);
        assert_eq!(
            coalesce(vec![(8192, 4096), (0, 4096), (4096, 4096)]),
            [(0, 12288)]
        );
        assert_eq!(
            coalesce(vec![(0, 16384), (4096, 4096), (65536, 4096)]),
            [(0, 16384), (65536, 4096)]
        );
        assert_eq!(
            coalesce(vec![(0, 8192), (4096, 8192)]),
            [(0, 12288)],
            "a partial overlap extends the range"
        );
        assert!(coalesce(Vec::new()).is_empty());
    }
}
