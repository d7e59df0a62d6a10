//! Media and poison management: Get Poison List, Inject/Clear Poison.

use crate::cci::wire::{In, Out};
use crate::cci::{ReturnCode, MAX_PAYLOAD};
use crate::device::PoisonCursor;
use crate::geometry::{DpaError, LINE_SIZE};
use crate::media::MediaError;
use crate::Device;

const LIST_HEADER: usize = 0x20;
const RECORD: usize = 16;
/// Records that fit in one response.
pub const MAX_RECORDS_PER_LIST: usize = (MAX_PAYLOAD - LIST_HEADER) / RECORD;
/// Get Poison List flag: more records follow; repeat the request.
pub const FLAG_MORE: u8 = 1 << 0;

/// How a media error maps onto CCI return codes.
pub(crate) fn media_rc(e: &MediaError) -> ReturnCode {
    match e {
        MediaError::Dpa(DpaError::Misaligned { .. }) => ReturnCode::InvalidInput,
        MediaError::Dpa(DpaError::OutOfRange { .. }) => ReturnCode::InvalidPhysicalAddress,
        MediaError::InjectLimit { .. } => ReturnCode::InjectPoisonLimitReached,
        MediaError::Exhausted { .. } | MediaError::Corrupt { .. } | MediaError::Poisoned { .. } => {
            ReturnCode::InternalError
        }
    }
}

/// A DPA field whose bits 5:0 are reserved.
fn line_dpa(p: In<'_>, off: usize) -> Result<u64, ReturnCode> {
    let dpa = p.u64(off)?;
    if dpa % LINE_SIZE != 0 {
        return Err(ReturnCode::InvalidInput);
    }
    Ok(dpa)
}

/// Get Poison List (4300h): records in a DPA range (length in 64-byte
/// units). When more records exist than fit, the More flag is set and the
/// same request returns the next ones.
pub fn get_list(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let dpa = line_dpa(p, 0)?;
    let units = p.u64(8)?;
    if units == 0 {
        return Err(ReturnCode::InvalidInput);
    }
    let len = units
        .checked_mul(LINE_SIZE)
        .ok_or(ReturnCode::InvalidPhysicalAddress)?;
    let mut cursor = dev.poison_cursor.lock();
    // A repeated request continues after the last line it returned (the
    // list may have changed since: counting records would skip or repeat).
    let from = match *cursor {
        Some(c) if c.dpa == dpa && c.len == len => c.resume,
        _ => dpa,
    };
    // The cursor lies inside [dpa, dpa + len): no overflow, never empty.
    let records = dev
        .media()
        .poison_records(from, len - (from - dpa))
        .map_err(|e| media_rc(&e))?;
    let page = &records[..records.len().min(MAX_RECORDS_PER_LIST)];
    let more = page.len() < records.len();
    *cursor = page.last().filter(|_| more).map(|last| PoisonCursor {
        dpa,
        len,
        resume: last.dpa + u64::from(last.lines) * LINE_SIZE,
    });
    drop(cursor);
    let mut o = Out::with_capacity(LIST_HEADER + page.len() * RECORD);
    o.u8(if more { FLAG_MORE } else { 0 })
        .u8(0)
        .u64(0) // overflow timestamp: the list never overflows
        .u16(page.len() as u16)
        .zeros(20);
    for r in page {
        o.u64(r.dpa | r.source as u64).u32(r.lines).u32(0);
    }
    Ok(o.done())
}

/// Inject Poison (4301h).
pub fn inject(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let dpa = line_dpa(p, 0)?;
    dev.media().inject_poison(dpa).map_err(|e| media_rc(&e))?;
    Ok(Vec::new())
}

/// Clear Poison (4302h): writes 64 bytes to the line and clears its poison.
pub fn clear(dev: &Device, p: In<'_>) -> Result<Vec<u8>, ReturnCode> {
    let dpa = line_dpa(p, 0)?;
    let data: [u8; 64] = p.array(8)?;
    dev.media()
        .clear_poison(dpa, &data)
        .map_err(|e| media_rc(&e))?;
    Ok(Vec::new())
}
