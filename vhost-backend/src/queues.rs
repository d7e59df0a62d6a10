//! One request of each queue: a collected descriptor chain in, the bytes
//! written back and the used length out (specs/virtio.md §3). Pure over
//! guest memory, so the fuzz targets drive exactly this code.

use crate::chain::{Chain, ChainError};
use crate::hints::PageService;
use crate::virtio_zcxl::{
    DataRequest, EventReport, RangeStatus, EVENT_REPORT_LEN, MAX_CCI_PAYLOAD, MAX_DATA_REQUEST,
};
use vm_memory::{ByteValued, GuestMemory};
use zcxl_device::cci::HEADER_LEN;
use zcxl_device::Device;

/// How a request went, for the queue counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The guest got an error status (or an empty completion).
    Rejected,
}

/// Readable bytes handed to the CCI layer at most: one more than the
/// largest valid message, so an oversized request still reaches it and
/// gets its Invalid Payload Length answer.
const MAILBOX_READ_LIMIT: usize = HEADER_LEN + MAX_CCI_PAYLOAD as usize + 1;

/// Mailbox (queue 0): one CCI request in, the response written back.
pub fn mailbox<M: GuestMemory>(chain: &Chain, mem: &M, device: &Device) -> (u32, Outcome) {
    if chain.shape_error.is_some()
        || chain.readable.is_empty()
        || chain.writable_len() < HEADER_LEN as u64
    {
        return (0, Outcome::Rejected);
    }
    // A request longer than the limit arrives cut there, which the CCI
    // layer answers with Invalid Payload Length.
    let Ok(request) = chain.read_prefix(mem, MAILBOX_READ_LIMIT) else {
        return (0, Outcome::Rejected);
    };
    let response = device.handle_cci(&request);
    match chain.write(mem, &response) {
        Ok(n) => (n, Outcome::Done),
        Err(_) => (0, Outcome::Rejected),
    }
}

/// Data queue: a batch of page hints, one status byte per range.
pub fn data<M: GuestMemory>(chain: &Chain, mem: &M, service: &PageService) -> (u32, Outcome) {
    let fail = |status: RangeStatus| {
        let n = chain.write(mem, &[status as u8]).unwrap_or(0);
        (n, Outcome::Rejected)
    };
    if chain.shape_error.is_some() {
        return fail(RangeStatus::Malformed);
    }
    let bytes = match chain.read(mem, MAX_DATA_REQUEST) {
        Ok(b) => b,
        Err(ChainError::Memory) => return fail(RangeStatus::DeviceError),
        Err(_) => return fail(RangeStatus::Malformed),
    };
    let req = match DataRequest::parse(&bytes) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!("malformed data request: {e}");
            return fail(RangeStatus::Malformed);
        }
    };
    if chain.writable_len() < req.ranges.len() as u64 {
        return fail(RangeStatus::Malformed);
    }
    let statuses = service.execute(&req);
    let bytes: Vec<u8> = statuses.iter().map(|&s| s as u8).collect();
    let outcome = if statuses.iter().all(|&s| s == RangeStatus::Ok) {
        Outcome::Done
    } else {
        Outcome::Rejected
    };
    match chain.write(mem, &bytes) {
        Ok(n) => (n, outcome),
        Err(_) => (0, Outcome::Rejected),
    }
}

/// Whether a posted event buffer can hold a report: only device-writable
/// descriptors, at least 8 bytes.
pub fn event_buffer_ok(chain: &Chain) -> bool {
    chain.shape_error.is_none()
        && chain.readable.is_empty()
        && chain.writable_len() >= EVENT_REPORT_LEN as u64
}

/// Events (queue 1): writes `report` into a posted buffer. `None` when the
/// buffer cannot hold one (it is then completed empty).
pub fn event<M: GuestMemory>(chain: &Chain, mem: &M, report: EventReport) -> Option<u32> {
    if !event_buffer_ok(chain) {
        return None;
    }
    chain.write(mem, report.as_slice()).ok()
}
