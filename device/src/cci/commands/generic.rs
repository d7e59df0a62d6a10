//! Generic component commands: Identify, firmware info, timestamp, logs.

use super::fw_revision;
use crate::cci::wire::{In, Out};
use crate::cci::{ReturnCode, MAX_PAYLOAD, MAX_PAYLOAD_SHIFT};
use crate::Device;

/// UUID of the Command Effects Log, `0da9c0b5-bf41-4b78-8f79-96b1623b3f17`.
pub const CEL_UUID: [u8; 16] = [
    0x0d, 0xa9, 0xc0, 0xb5, 0xbf, 0x41, 0x4b, 0x78, 0x8f, 0x79, 0x96, 0xb1, 0x62, 0x3b, 0x3f, 0x17,
];

/// Component type "Type 3 device" in the Identify output.
const COMPONENT_TYPE3: u8 = 3;

/// Identify (0001h): PCI identity, serial, message size, component type.
pub fn identify(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let id = dev.config().identity;
    let mut o = Out::with_capacity(18);
    o.u16(id.vendor_id)
        .u16(id.device_id)
        .u16(id.subsystem_vendor_id)
        .u16(id.subsystem_id)
        .u64(id.serial)
        .u8(MAX_PAYLOAD_SHIFT)
        .u8(COMPONENT_TYPE3);
    Ok(o.done())
}

/// Get FW Info (0200h): one slot, active, holding this build.
pub fn get_fw_info(_: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let mut o = Out::with_capacity(0x50);
    o.u8(1) // slots supported
        .u8(1) // active slot 1, nothing staged
        .u8(0) // no online activation
        .zeros(13)
        .text(&fw_revision(), 16)
        .zeros(48);
    Ok(o.done())
}

/// Get Timestamp (0300h).
pub fn get_timestamp(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    Ok(dev.clock().now_ns().to_le_bytes().to_vec())
}

/// Set Timestamp (0301h).
pub fn set_timestamp(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    dev.clock().set_ns(p.u64(0)?);
    Ok(Vec::new())
}

/// Get Supported Logs (0400h): the CEL only.
pub fn get_supported_logs(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let mut o = Out::with_capacity(28);
    o.u16(1)
        .zeros(6)
        .bytes(&CEL_UUID)
        .u32(dev.cel().len() as u32);
    Ok(o.done())
}

/// Get Log (0401h): a window of the CEL.
pub fn get_log(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    if p.bytes(0, 16)? != CEL_UUID {
        return Err(ReturnCode::InvalidLog);
    }
    let offset = p.u32(16)? as usize;
    let length = p.u32(20)? as usize;
    let cel = dev.cel();
    if length > MAX_PAYLOAD || offset.saturating_add(length) > cel.len() {
        return Err(ReturnCode::InvalidInput);
    }
    Ok(cel[offset..offset + length].to_vec())
}
