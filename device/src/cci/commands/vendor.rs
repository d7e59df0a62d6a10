//! zcxl vendor commands (C000h–C005h): compression capabilities,
//! statistics, watermarks and policy. Layouts are in specs/device.md.

use crate::cci::wire::{In, Out};
use crate::cci::ReturnCode;
use crate::codec::{CodecId, CompressionPolicy, ZSTD_LEVELS};
use crate::geometry::PAGE_SHIFT;
use crate::media::{WatermarkConfig, CLASS_GRANULE, META_BYTES_PER_PAGE, SLAB_SIZE};
use crate::Device;

pub const GET_CAPABILITIES: u16 = 0xc000;
pub const GET_STATISTICS: u16 = 0xc001;
pub const GET_WATERMARKS: u16 = 0xc002;
pub const SET_WATERMARKS: u16 = 0xc003;
pub const GET_POLICY: u16 = 0xc004;
pub const SET_POLICY: u16 = 0xc005;

/// Version of the vendor command set.
pub const VENDOR_VERSION: u8 = 1;

/// Codec bits in the capabilities' codec mask.
pub const CODEC_ZERO: u16 = 1 << 0;
pub const CODEC_SAME_FILLED: u16 = 1 << 1;
pub const CODEC_LZ4: u16 = 1 << 2;
pub const CODEC_ZSTD: u16 = 1 << 3;

/// Get Compression Capabilities (C000h), 32 bytes.
pub fn get_capabilities(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let g = dev.media().geometry();
    let mut o = Out::with_capacity(32);
    o.u8(VENDOR_VERSION)
        .u8(PAGE_SHIFT as u8)
        .u16(CODEC_ZERO | CODEC_SAME_FILLED | CODEC_LZ4 | CODEC_ZSTD)
        .u8(*ZSTD_LEVELS.start() as u8)
        .u8(*ZSTD_LEVELS.end() as u8)
        .u16(META_BYTES_PER_PAGE as u16)
        .u64(g.logical_bytes())
        .u64(g.media_bytes())
        .u32(SLAB_SIZE as u32)
        .u16(CLASS_GRANULE as u16)
        .u16(0);
    Ok(o.done())
}

/// Get Compression Statistics (C001h), 160 bytes.
pub fn get_statistics(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let s = dev.media().stats();
    let failure_events = dev.events().counters(crate::events::LogKind::Failure);
    let mut o = Out::with_capacity(160);
    o.u64(s.media_bytes)
        .u64(s.used_bytes)
        .u64(s.free_bytes)
        .u64(s.blob_bytes)
        .u64(s.metadata_bytes)
        .u64(s.fragmentation_bytes);
    for n in s.pages.as_array() {
        o.u64(n);
    }
    o.u64(s.bytes_in)
        .u64(s.bytes_out)
        .u32((s.ratio * 1000.0).round().min(f64::from(u32::MAX)) as u32)
        .u8(u8::from(s.watermarks.pressure))
        .zeros(3)
        .u32(s.watermarks.crossings_high as u32)
        .u32(s.watermarks.crossings_low as u32)
        .u32(s.failed_stores as u32)
        .u32(failure_events.overflowed as u32)
        .u64(s.stores)
        .u64(s.loads)
        .u64(s.discarded_pages);
    Ok(o.done())
}

/// Get Watermarks (C002h), 24 bytes.
pub fn get_watermarks(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let m = dev.media();
    let w = m.watermarks();
    let (low, high) = w.bytes(m.geometry().media_bytes());
    let mut o = Out::with_capacity(24);
    o.u8(w.low_percent)
        .u8(w.high_percent)
        .u8(u8::from(m.under_pressure()))
        .zeros(5)
        .u64(low)
        .u64(high);
    Ok(o.done())
}

/// Set Watermarks (C003h): low %, high %, 2 reserved bytes.
pub fn set_watermarks(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    p.reserved(2, 2)?;
    let config = WatermarkConfig::new(p.u8(0)?, p.u8(1)?).map_err(|_| ReturnCode::InvalidInput)?;
    dev.media().set_watermarks(config);
    Ok(Vec::new())
}

/// Get Compression Policy (C004h), 8 bytes.
pub fn get_policy(dev: &Device, _: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let p = dev.media().policy();
    let mut o = Out::with_capacity(8);
    o.u8(p.codec as u8)
        .u8(p.zstd_level as u8)
        .u16(p.raw_margin)
        .u32(0);
    Ok(o.done())
}

/// Set Compression Policy (C005h): codec, zstd level, raw margin, 4
/// reserved bytes.
pub fn set_policy(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    p.reserved(4, 4)?;
    let codec = CodecId::from_wire(p.u8(0)?).ok_or(ReturnCode::InvalidInput)?;
    let policy = CompressionPolicy {
        codec,
        zstd_level: p.u8(1)? as i8,
        raw_margin: p.u16(2)?,
    };
    dev.media()
        .set_policy(policy)
        .map_err(|_| ReturnCode::InvalidInput)?;
    Ok(Vec::new())
}
