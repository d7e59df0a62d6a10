//! The CXL Component Command Interface: message format, return codes, the
//! command registry and the command handlers.
//!
//! A request is a 12-byte CCI message header (CXL 3.1 Figure 7-19) followed
//! by its payload; [`process`] turns one into a response message. Every
//! request gets a response: malformed ones get the return code the
//! specification gives for the fault, never a panic.

pub(crate) mod commands;
mod registry;
pub mod wire;

pub use registry::{CommandSpec, Effects, InputSize, COMMANDS};

use crate::Device;
use thiserror::Error;

/// Length of the CCI message header.
pub const HEADER_LEN: usize = 12;
/// log2 of the largest payload the device accepts or returns.
pub const MAX_PAYLOAD_SHIFT: u8 = 12;
/// Largest payload the device accepts or returns (both directions).
pub const MAX_PAYLOAD: usize = 1 << MAX_PAYLOAD_SHIFT;
/// Largest value the 20-bit payload length field can carry.
const PAYLOAD_LEN_FIELD_MAX: u32 = (1 << 20) - 1;

/// CCI command return codes (CXL 3.1 Table 8-34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[repr(u16)]
pub enum ReturnCode {
    #[error("success")]
    Success = 0x00,
    #[error("background command started")]
    BackgroundStarted = 0x01,
    #[error("invalid input")]
    InvalidInput = 0x02,
    #[error("unsupported")]
    Unsupported = 0x03,
    #[error("internal error")]
    InternalError = 0x04,
    #[error("retry required")]
    RetryRequired = 0x05,
    #[error("busy")]
    Busy = 0x06,
    #[error("media disabled")]
    MediaDisabled = 0x07,
    #[error("invalid handle")]
    InvalidHandle = 0x0e,
    #[error("invalid physical address")]
    InvalidPhysicalAddress = 0x0f,
    #[error("inject poison limit reached")]
    InjectPoisonLimitReached = 0x10,
    #[error("permanent media failure")]
    PermanentMediaFailure = 0x11,
    #[error("invalid payload length")]
    InvalidPayloadLength = 0x16,
    #[error("invalid log")]
    InvalidLog = 0x17,
    #[error("resources exhausted")]
    ResourcesExhausted = 0x1d,
}

impl ReturnCode {
    pub fn from_wire(v: u16) -> Option<Self> {
        use ReturnCode::*;
        [
            Success,
            BackgroundStarted,
            InvalidInput,
            Unsupported,
            InternalError,
            RetryRequired,
            Busy,
            MediaDisabled,
            InvalidHandle,
            InvalidPhysicalAddress,
            InjectPoisonLimitReached,
            PermanentMediaFailure,
            InvalidPayloadLength,
            InvalidLog,
            ResourcesExhausted,
        ]
        .into_iter()
        .find(|c| *c as u16 == v)
    }
}

/// Message category (byte 0, bits 3:0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Category {
    Request = 0,
    Response = 1,
}

/// A decoded CCI message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub category: Category,
    pub tag: u8,
    pub opcode: u16,
    pub payload_len: u32,
    pub background: bool,
    pub return_code: u16,
    pub vendor_status: u16,
}

/// A header the device refuses, and the return code that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("message shorter than the {HEADER_LEN}-byte header")]
    Truncated,
    #[error("reserved header bits are set")]
    ReservedBits,
    #[error("category {0} is not a request")]
    NotRequest(u8),
    #[error("request carries a background flag, return code or vendor status")]
    ResponseFieldsSet,
    #[error("payload length field {field} does not match the {actual} payload bytes")]
    LengthMismatch { field: u32, actual: usize },
    #[error("payload of {0} bytes exceeds the device's maximum of {MAX_PAYLOAD}")]
    TooLong(usize),
}

impl HeaderError {
    pub fn return_code(&self) -> ReturnCode {
        match self {
            HeaderError::Truncated
            | HeaderError::LengthMismatch { .. }
            | HeaderError::TooLong(_) => ReturnCode::InvalidPayloadLength,
            HeaderError::ReservedBits
            | HeaderError::NotRequest(_)
            | HeaderError::ResponseFieldsSet => ReturnCode::InvalidInput,
        }
    }
}

impl Header {
    /// Decodes the header bytes, checking only what the header itself says.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Result<Self, HeaderError> {
        let category = b[0] & 0x0f;
        if b[0] & 0xf0 != 0 || b[2] != 0 || b[7] & 0x70 != 0 {
            return Err(HeaderError::ReservedBits);
        }
        let category = match category {
            0 => Category::Request,
            1 => Category::Response,
            other => return Err(HeaderError::NotRequest(other)),
        };
        let len_field = u32::from_le_bytes([b[5], b[6], b[7] & 0x0f, 0]);
        Ok(Self {
            category,
            tag: b[1],
            opcode: u16::from_le_bytes([b[3], b[4]]),
            payload_len: len_field,
            background: b[7] & 0x80 != 0,
            return_code: u16::from_le_bytes([b[8], b[9]]),
            vendor_status: u16::from_le_bytes([b[10], b[11]]),
        })
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let len = self.payload_len.min(PAYLOAD_LEN_FIELD_MAX).to_le_bytes();
        let mut b = [0u8; HEADER_LEN];
        b[0] = self.category as u8;
        b[1] = self.tag;
        b[3..5].copy_from_slice(&self.opcode.to_le_bytes());
        b[5] = len[0];
        b[6] = len[1];
        b[7] = len[2] & 0x0f | if self.background { 0x80 } else { 0 };
        b[8..10].copy_from_slice(&self.return_code.to_le_bytes());
        b[10..12].copy_from_slice(&self.vendor_status.to_le_bytes());
        b
    }

    /// A request header for `opcode` with a payload of `payload_len` bytes.
    pub fn request(tag: u8, opcode: u16, payload_len: usize) -> Self {
        Self {
            category: Category::Request,
            tag,
            opcode,
            payload_len: payload_len as u32,
            background: false,
            return_code: 0,
            vendor_status: 0,
        }
    }
}

/// A request the device refuses before dispatch, with its tag and opcode
/// whenever it had a whole header to read them from (even one with
/// reserved bits set), so the response can echo them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    pub echo: Option<(u8, u16)>,
    pub error: HeaderError,
}

/// Splits and validates a request message.
pub fn parse_request(msg: &[u8]) -> Result<(Header, &[u8]), Rejected> {
    let reject = |echo, error| Rejected { echo, error };
    let Some((head, payload)) = msg.split_first_chunk::<HEADER_LEN>() else {
        return Err(reject(None, HeaderError::Truncated));
    };
    let echo = Some((head[1], u16::from_le_bytes([head[3], head[4]])));
    let h = Header::decode(head).map_err(|e| reject(echo, e))?;
    let error = if h.category != Category::Request {
        HeaderError::NotRequest(h.category as u8)
    } else if h.background || h.return_code != 0 || h.vendor_status != 0 {
        HeaderError::ResponseFieldsSet
    } else if payload.len() > MAX_PAYLOAD {
        HeaderError::TooLong(payload.len())
    } else if h.payload_len as usize != payload.len() {
        HeaderError::LengthMismatch {
            field: h.payload_len,
            actual: payload.len(),
        }
    } else {
        return Ok((h, payload));
    };
    Err(reject(echo, error))
}

/// Builds a response message.
pub fn response(tag: u8, opcode: u16, rc: ReturnCode, payload: &[u8]) -> Vec<u8> {
    let h = Header {
        category: Category::Response,
        tag,
        opcode,
        payload_len: payload.len() as u32,
        background: false,
        return_code: rc as u16,
        vendor_status: 0,
    };
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&h.encode());
    out.extend_from_slice(payload);
    out
}

/// The Command Effects Log of the registry.
pub(crate) fn registry_cel() -> Vec<u8> {
    registry::command_effects_log()
}

/// Handles one request message and returns the response message.
///
/// A request too short to carry a header still gets a header-only response
/// (tag and opcode 0, Invalid Payload Length), so a transport always has
/// something to return.
pub fn process(device: &Device, msg: &[u8]) -> Vec<u8> {
    let (header, payload) = match parse_request(msg) {
        Ok(parsed) => parsed,
        Err(Rejected { echo, error }) => {
            tracing::debug!("rejected CCI request: {error}");
            let (tag, opcode) = echo.unwrap_or((0, 0));
            return response(tag, opcode, error.return_code(), &[]);
        }
    };
    let (rc, out) = match registry::dispatch(device, header.opcode, payload) {
        Ok(out) => (ReturnCode::Success, out),
        Err(rc) => (rc, Vec::new()),
    };
    if rc != ReturnCode::Success {
        tracing::debug!(opcode = header.opcode, ?rc, "CCI command failed");
    }
    response(header.tag, header.opcode, rc, &out)
}

#[cfg(test)]
mod tests;
