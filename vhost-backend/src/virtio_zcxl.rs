//! The zcxl virtio device on the wire (specs/virtio.md): config space,
//! queue layout, data-queue requests and event reports.
//!
//! Everything here is plain data and pure parsing, so the fuzz targets and
//! the queue code share one definition.

use vm_memory::ByteValued;
use zcxl_device::PAGE_SIZE;

/// Config space magic: "ZCXL" read as a little-endian u32.
pub const CONFIG_MAGIC: u32 = 0x4c58_435a;
pub const CONFIG_VERSION: u16 = 1;
/// Bytes of config space QEMU must be told about (`config_size=`).
pub const CONFIG_SIZE: usize = 64;
/// Largest CCI payload the mailbox carries.
pub const MAX_CCI_PAYLOAD: u32 = 4096;
/// Largest number of ranges in one data request.
pub const MAX_RANGES: usize = 256;
/// Most data queues a device may have.
pub const MAX_DATA_QUEUES: u16 = 16;

/// Queue indices.
pub const MAILBOX_QUEUE: usize = 0;
pub const EVENTS_QUEUE: usize = 1;
pub const FIRST_DATA_QUEUE: usize = 2;

/// Largest mapping the daemon asks the front-end for with one SHMEM_MAP.
pub const MAX_MAP_CHUNK: u64 = 1 << 30;
/// Shared memory region id of the window.
pub const WINDOW_SHMID: u8 = 0;

/// How the window is backed on the host (config field 28h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackingMode {
    /// The window keeps every page; the device holds compressed copies.
    Shadow = 0,
    /// Stored pages live only compressed; read-prepare restores them.
    Compressed = 1,
}

/// The 64-byte config space (specs/virtio.md §2), little-endian.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, packed)]
pub struct ConfigSpace {
    pub magic: u32,
    pub version: u16,
    pub data_queues: u16,
    pub serial: u64,
    pub logical_bytes: u64,
    pub media_bytes: u64,
    pub page_size: u32,
    pub max_cci_payload: u32,
    pub backing_mode: u32,
    pub max_ranges: u32,
    pub scan_interval_ms: u32,
    pub reserved: [u8; 12],
}

// SAFETY: ConfigSpace is packed plain old data: any byte pattern is a value
// and it has no padding.
unsafe impl ByteValued for ConfigSpace {}

const _: () = assert!(std::mem::size_of::<ConfigSpace>() == CONFIG_SIZE);

impl ConfigSpace {
    pub fn new(
        data_queues: u16,
        serial: u64,
        logical_bytes: u64,
        media_bytes: u64,
        backing: BackingMode,
        scan_interval_ms: u32,
    ) -> Self {
        Self {
            magic: CONFIG_MAGIC.to_le(),
            version: CONFIG_VERSION.to_le(),
            data_queues: data_queues.to_le(),
            serial: serial.to_le(),
            logical_bytes: logical_bytes.to_le(),
            media_bytes: media_bytes.to_le(),
            page_size: (PAGE_SIZE as u32).to_le(),
            max_cci_payload: MAX_CCI_PAYLOAD.to_le(),
            backing_mode: (backing as u32).to_le(),
            max_ranges: (MAX_RANGES as u32).to_le(),
            scan_interval_ms: scan_interval_ms.to_le(),
            reserved: [0; 12],
        }
    }

    /// The bytes a GET_CONFIG of `size` bytes at `offset` returns; a
    /// window reaching past the end is cut off there.
    pub fn read(&self, offset: u32, size: u32) -> Vec<u8> {
        let bytes = self.as_slice();
        let start = (offset as usize).min(bytes.len());
        let end = start.saturating_add(size as usize).min(bytes.len());
        bytes[start..end].to_vec()
    }
}

/// Data queue operations (specs/virtio.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOp {
    WriteHint,
    Discard,
    ReadPrepare,
    /// An operation code this version does not define.
    Unknown(u16),
}

impl DataOp {
    pub fn from_wire(v: u16) -> Self {
        match v {
            1 => Self::WriteHint,
            2 => Self::Discard,
            3 => Self::ReadPrepare,
            other => Self::Unknown(other),
        }
    }

    pub fn to_wire(self) -> u16 {
        match self {
            Self::WriteHint => 1,
            Self::Discard => 2,
            Self::ReadPrepare => 3,
            Self::Unknown(v) => v,
        }
    }
}

/// Per-range status byte of a data request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RangeStatus {
    Ok = 0,
    BadRange = 1,
    MediaExhausted = 2,
    Poisoned = 3,
    Unsupported = 4,
    Malformed = 5,
    DeviceError = 6,
}

/// Header of a data request.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, packed)]
pub struct DataHeader {
    pub op: u16,
    pub count: u16,
    pub reserved: u32,
}

// SAFETY: packed plain old data, no padding, every byte pattern valid.
unsafe impl ByteValued for DataHeader {}

/// One range of a data request.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, packed)]
pub struct DataRangeWire {
    pub dpa: u64,
    pub pages: u32,
    pub reserved: u32,
}

// SAFETY: packed plain old data, no padding, every byte pattern valid.
unsafe impl ByteValued for DataRangeWire {}

pub const DATA_HEADER_LEN: usize = std::mem::size_of::<DataHeader>();
pub const DATA_RANGE_LEN: usize = std::mem::size_of::<DataRangeWire>();
/// Largest readable part of a well-formed data request.
pub const MAX_DATA_REQUEST: usize = DATA_HEADER_LEN + MAX_RANGES * DATA_RANGE_LEN;

/// A range as requested (not yet checked against the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    pub dpa: u64,
    pub pages: u32,
}

/// A well-formed data request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRequest {
    pub op: DataOp,
    pub ranges: Vec<PageRange>,
}

/// Why a data request is malformed (status 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("request of {0} bytes is shorter than its 8-byte header")]
    Short(usize),
    #[error("range count {0} is outside 1..=256")]
    Count(u16),
    #[error("reserved header bits are set")]
    ReservedHeader,
    #[error("{got} readable bytes, but {count} ranges need exactly {want}")]
    Length { got: usize, count: u16, want: usize },
    #[error("reserved bits of range {0} are set")]
    ReservedRange(usize),
}

impl DataRequest {
    /// Parses the readable part of a data request.
    pub fn parse(bytes: &[u8]) -> Result<Self, Malformed> {
        let header = DataHeader::from_slice(bytes.get(..DATA_HEADER_LEN).unwrap_or(&[]))
            .copied()
            .ok_or(Malformed::Short(bytes.len()))?;
        let count = u16::from_le(header.count);
        if count == 0 || usize::from(count) > MAX_RANGES {
            return Err(Malformed::Count(count));
        }
        if header.reserved != 0 {
            return Err(Malformed::ReservedHeader);
        }
        let want = DATA_HEADER_LEN + usize::from(count) * DATA_RANGE_LEN;
        if bytes.len() != want {
            return Err(Malformed::Length {
                got: bytes.len(),
                count,
                want,
            });
        }
        let ranges = bytes[DATA_HEADER_LEN..]
            .chunks_exact(DATA_RANGE_LEN)
            .enumerate()
            .map(|(i, raw)| {
                let r = DataRangeWire::from_slice(raw)
                    .copied()
                    .ok_or(Malformed::Short(bytes.len()))?;
                if r.reserved != 0 {
                    return Err(Malformed::ReservedRange(i));
                }
                Ok(PageRange {
                    dpa: u64::from_le(r.dpa),
                    pages: u32::from_le(r.pages),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            op: DataOp::from_wire(u16::from_le(header.op)),
            ranges,
        })
    }

    /// Encodes a request (the driver's side; tests and benchmarks use it).
    pub fn encode(&self) -> Vec<u8> {
        let header = DataHeader {
            op: self.op.to_wire().to_le(),
            count: (self.ranges.len() as u16).to_le(),
            reserved: 0,
        };
        let mut out = header.as_slice().to_vec();
        for r in &self.ranges {
            let w = DataRangeWire {
                dpa: r.dpa.to_le(),
                pages: r.pages.to_le(),
                reserved: 0,
            };
            out.extend_from_slice(w.as_slice());
        }
        out
    }
}

/// Status bits of an event report (specs/virtio.md §3.2).
pub const STATUS_WINDOW_MAPPED: u32 = 1 << 0;
pub const STATUS_PRESSURE: u32 = 1 << 1;
pub const STATUS_POISON: u32 = 1 << 2;

/// What the device writes into an event buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, packed)]
pub struct EventReport {
    /// Bit i set when event log i holds records.
    pub pending_logs: u32,
    pub status: u32,
}

// SAFETY: packed plain old data, no padding, every byte pattern valid.
unsafe impl ByteValued for EventReport {}

pub const EVENT_REPORT_LEN: usize = std::mem::size_of::<EventReport>();

impl EventReport {
    pub fn new(pending_logs: u32, status: u32) -> Self {
        Self {
            pending_logs: pending_logs.to_le(),
            status: status.to_le(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_space_layout_matches_the_spec() {
        let c = ConfigSpace::new(3, 0x1122, 1 << 32, 1 << 30, BackingMode::Compressed, 500);
        let b = c.as_slice();
        assert_eq!(b.len(), 64);
        assert_eq!(&b[0..4], b"ZCXL");
        assert_eq!(&b[4..6], &1u16.to_le_bytes());
        assert_eq!(&b[6..8], &3u16.to_le_bytes());
        assert_eq!(&b[8..0x10], &0x1122u64.to_le_bytes());
        assert_eq!(&b[0x10..0x18], &(1u64 << 32).to_le_bytes());
        assert_eq!(&b[0x18..0x20], &(1u64 << 30).to_le_bytes());
        assert_eq!(&b[0x20..0x24], &4096u32.to_le_bytes());
        assert_eq!(&b[0x24..0x28], &4096u32.to_le_bytes());
        assert_eq!(&b[0x28..0x2c], &1u32.to_le_bytes());
        assert_eq!(&b[0x2c..0x30], &256u32.to_le_bytes());
        assert_eq!(&b[0x30..0x34], &500u32.to_le_bytes());
        assert_eq!(&b[0x34..], &[0; 12]);
        assert_eq!(c.read(0x10, 8), (1u64 << 32).to_le_bytes());
        assert_eq!(c.read(60, 8).len(), 4, "cut at the end");
        assert!(c.read(200, 8).is_empty());
        assert!(c.read(u32::MAX, u32::MAX).is_empty());
    }

    #[test]
    fn data_requests_round_trip() {
        let req = DataRequest {
            op: DataOp::Discard,
            ranges: vec![
                PageRange {
                    dpa: 0x1000,
                    pages: 3,
                },
                PageRange { dpa: 0, pages: 1 },
            ],
        };
        let bytes = req.encode();
        assert_eq!(bytes.len(), 8 + 32);
        assert_eq!(DataRequest::parse(&bytes), Ok(req));
    }

    #[test]
    fn malformed_data_requests_are_named() {
        let good = DataRequest {
            op: DataOp::WriteHint,
            ranges: vec![PageRange { dpa: 0, pages: 1 }],
        }
        .encode();
        assert_eq!(DataRequest::parse(&good[..5]), Err(Malformed::Short(5)));
        let mut zero = good.clone();
        zero[2] = 0;
        assert_eq!(DataRequest::parse(&zero), Err(Malformed::Count(0)));
        let mut many = good.clone();
        many[2..4].copy_from_slice(&257u16.to_le_bytes());
        assert_eq!(DataRequest::parse(&many), Err(Malformed::Count(257)));
        let mut res = good.clone();
        res[7] = 1;
        assert_eq!(DataRequest::parse(&res), Err(Malformed::ReservedHeader));
        assert!(matches!(
            DataRequest::parse(&good[..20]),
            Err(Malformed::Length { got: 20, .. })
        ));
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            DataRequest::parse(&long),
            Err(Malformed::Length { got: 25, .. })
        ));
        let mut rr = good.clone();
        rr[20] = 1;
        assert_eq!(DataRequest::parse(&rr), Err(Malformed::ReservedRange(0)));
        let mut unknown = good;
        unknown[0] = 9;
        assert_eq!(
            DataRequest::parse(&unknown).map(|r| r.op),
            Ok(DataOp::Unknown(9))
        );
    }
}
