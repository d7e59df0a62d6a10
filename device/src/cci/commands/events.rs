//! Event commands: Get/Clear Event Records, Get/Set Event Interrupt Policy.

use crate::cci::wire::{In, Out};
use crate::cci::{ReturnCode, MAX_PAYLOAD};
use crate::events::{ClearError, LogKind, RECORD_LEN};
use crate::Device;

/// Get Event Records output header length.
const GET_HEADER: usize = 0x20;
/// Records that fit in one response.
pub const MAX_RECORDS_PER_GET: usize = (MAX_PAYLOAD - GET_HEADER) / RECORD_LEN;

fn log_kind(v: u8) -> Result<LogKind, ReturnCode> {
    // Log 4 (dynamic capacity) does not exist on this device.
    LogKind::from_wire(v).ok_or(ReturnCode::InvalidInput)
}

/// Get Event Records (0100h).
pub fn get_records(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let kind = log_kind(p.u8(0)?)?;
    let batch = dev.events().get(kind, MAX_RECORDS_PER_GET);
    let flags = u8::from(batch.overflow) | u8::from(batch.more) << 1;
    let mut o = Out::with_capacity(GET_HEADER + batch.records.len() * RECORD_LEN);
    o.u8(flags)
        .u8(0)
        .u16(batch.overflow_count)
        .u64(batch.first_overflow_ns)
        .u64(batch.last_overflow_ns)
        .u16(batch.records.len() as u16)
        .zeros(10);
    for r in &batch.records {
        o.bytes(&r.encode());
    }
    Ok(o.done())
}

/// Clear Event Records (0101h).
pub fn clear_records(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let kind = log_kind(p.u8(0)?)?;
    let flags = p.u8(1)?;
    let count = usize::from(p.u8(2)?);
    p.reserved(3, 3)?;
    if flags & !1 != 0 {
        return Err(ReturnCode::InvalidInput);
    }
    if p.len() != 6 + 2 * count {
        return Err(ReturnCode::InvalidPayloadLength);
    }
    if flags & 1 != 0 {
        // Clear All takes no handles.
        if count != 0 {
            return Err(ReturnCode::InvalidInput);
        }
        dev.events().clear_all(kind);
        return Ok(Vec::new());
    }
    let handles = (0..count)
        .map(|i| p.u16(6 + 2 * i))
        .collect::<Result<Vec<_>, _>>()?;
    dev.events()
        .clear(kind, &handles)
        .map_err(|ClearError::InvalidHandle { .. }| ReturnCode::InvalidHandle)?;
    Ok(Vec::new())
}

/// Get Event Interrupt Policy (0102h): four log settings and the (unused)
/// dynamic-capacity setting.
pub fn get_interrupt_policy(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let mut out = dev.events().interrupt_settings().to_vec();
    out.push(0);
    Ok(out)
}

/// Interrupt mode bits of a setting byte.
const MODE_MASK: u8 = 0x3;
const MODE_NONE: u8 = 0;
const MODE_MSI: u8 = 1;

/// Set Event Interrupt Policy (0103h). Only "no interrupts" and MSI/MSI-X
/// modes exist (FW-first is not supported); bits 3:2 are reserved.
pub fn set_interrupt_policy(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let settings: [u8; 4] = p.array(0)?;
    let dcd = if p.len() == 5 { Some(p.u8(4)?) } else { None };
    for s in settings.iter().chain(dcd.iter()) {
        let mode = s & MODE_MASK;
        if s & 0x0c != 0 || (mode != MODE_NONE && mode != MODE_MSI) {
            return Err(ReturnCode::InvalidInput);
        }
    }
    dev.events().set_interrupt_settings(settings);
    Ok(Vec::new())
}
