//! The four CXL event logs (informational, warning, failure, fatal), their
//! interrupt settings, and the vendor event records the device raises.
//!
//! Each log is a bounded queue. When a log is full, new records are dropped
//! and counted as overflow (with the first and last overflow timestamps), as
//! CXL 3.x Get Event Records reports it; clearing the log empty resets the
//! overflow status.

use crate::clock::DeviceClock;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use thiserror::Error;

/// An event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum LogKind {
    Informational = 0,
    Warning = 1,
    Failure = 2,
    Fatal = 3,
}

impl LogKind {
    pub const ALL: [LogKind; 4] = [
        LogKind::Informational,
        LogKind::Warning,
        LogKind::Failure,
        LogKind::Fatal,
    ];

    pub fn from_wire(v: u8) -> Option<Self> {
        Self::ALL.get(usize::from(v)).copied()
    }
}

/// Length of every event record on the wire.
pub const RECORD_LEN: usize = 128;
/// Length of the record-specific data.
pub const RECORD_DATA_LEN: usize = 0x50;

/// Event record flag bits (byte 0 of the 3-byte flags field, above the
/// 2-bit severity).
pub mod flags {
    pub const PERMANENT: u8 = 1 << 2;
    pub const MAINTENANCE_NEEDED: u8 = 1 << 3;
    pub const PERFORMANCE_DEGRADED: u8 = 1 << 4;
}

/// A CXL common event record (CXL 3.1 Table 8-43).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub uuid: [u8; 16],
    pub flags: [u8; 3],
    pub handle: u16,
    pub related_handle: u16,
    pub timestamp: u64,
    pub maint_op_class: u8,
    pub maint_op_subclass: u8,
    pub data: [u8; RECORD_DATA_LEN],
}

impl EventRecord {
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut b = [0u8; RECORD_LEN];
        b[0..16].copy_from_slice(&self.uuid);
        b[16] = RECORD_LEN as u8;
        b[17..20].copy_from_slice(&self.flags);
        b[20..22].copy_from_slice(&self.handle.to_le_bytes());
        b[22..24].copy_from_slice(&self.related_handle.to_le_bytes());
        b[24..32].copy_from_slice(&self.timestamp.to_le_bytes());
        b[32] = self.maint_op_class;
        b[33] = self.maint_op_subclass;
        b[0x30..].copy_from_slice(&self.data);
        b
    }
}

/// What Get Event Records returns for one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    pub overflow: bool,
    pub more: bool,
    pub overflow_count: u16,
    pub first_overflow_ns: u64,
    pub last_overflow_ns: u64,
    pub records: Vec<EventRecord>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ClearError {
    #[error("handle {got:#x} is not the oldest record's handle ({expected:?})")]
    InvalidHandle { got: u16, expected: Option<u16> },
}

/// Interrupt mode of a log (bits 1:0 of its setting byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InterruptMode {
    None,
    Msi,
}

struct Log {
    records: VecDeque<EventRecord>,
    capacity: usize,
    next_handle: u16,
    overflow_count: u16,
    first_overflow_ns: u64,
    last_overflow_ns: u64,
    total_logged: u64,
    /// Raw interrupt-settings byte as last set (mode in bits 1:0, message
    /// number in bits 7:4).
    interrupt_settings: u8,
}

impl Log {
    fn new(capacity: usize) -> Self {
        Self {
            records: VecDeque::with_capacity(capacity),
            capacity,
            next_handle: 1,
            overflow_count: 0,
            first_overflow_ns: 0,
            last_overflow_ns: 0,
            total_logged: 0,
            interrupt_settings: 0,
        }
    }

    fn take_handle(&mut self) -> u16 {
        let h = self.next_handle;
        // Handle 0 is reserved ("no related record").
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        h
    }
}

/// Callback run (outside any lock) when a log gains a record while its
/// interrupts are enabled.
pub type Notifier = Arc<dyn Fn(LogKind) + Send + Sync>;

/// The device's event logs.
pub struct EventLogs {
    logs: Mutex<[Log; 4]>,
    clock: Arc<DeviceClock>,
    notifier: RwLock<Option<Notifier>>,
}

/// Counters per log, for statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LogCounters {
    pub pending: u64,
    pub logged: u64,
    pub overflowed: u64,
}

impl EventLogs {
    pub fn new(capacity: u16, clock: Arc<DeviceClock>) -> Self {
        let cap = usize::from(capacity);
        Self {
            logs: Mutex::new([Log::new(cap), Log::new(cap), Log::new(cap), Log::new(cap)]),
            clock,
            notifier: RwLock::new(None),
        }
    }

    pub fn capacity(&self) -> u16 {
        self.logs.lock()[0].capacity as u16
    }

    pub fn set_notifier(&self, notifier: Option<Notifier>) {
        *self.notifier.write() = notifier;
    }

    /// Appends a record to `kind`; assigns handle and timestamp. Returns the
    /// handle, or `None` if the log was full and the record was dropped.
    pub fn log(
        &self,
        kind: LogKind,
        uuid: [u8; 16],
        extra_flags: u8,
        data: [u8; RECORD_DATA_LEN],
    ) -> Option<u16> {
        let now = self.clock.now_ns();
        let (handle, notify) = {
            let mut logs = self.logs.lock();
            let log = &mut logs[kind as usize];
            if log.records.len() >= log.capacity {
                if log.overflow_count == 0 {
                    log.first_overflow_ns = now;
                }
                log.overflow_count = log.overflow_count.saturating_add(1);
                log.last_overflow_ns = now;
                tracing::warn!(?kind, "event log full; record dropped");
                return None;
            }
            let handle = log.take_handle();
            log.records.push_back(EventRecord {
                uuid,
                flags: [kind as u8 | extra_flags, 0, 0],
                handle,
                related_handle: 0,
                timestamp: now,
                maint_op_class: 0,
                maint_op_subclass: 0,
                data,
            });
            log.total_logged += 1;
            (handle, log.interrupt_settings & 0x3 == 1)
        };
        if notify {
            if let Some(n) = self.notifier.read().clone() {
                n(kind);
            }
        }
        Some(handle)
    }

    /// Up to `max` of the oldest records of `kind`.
    pub fn get(&self, kind: LogKind, max: usize) -> RecordBatch {
        let logs = self.logs.lock();
        let log = &logs[kind as usize];
        let records: Vec<_> = log.records.iter().take(max).cloned().collect();
        RecordBatch {
            overflow: log.overflow_count > 0,
            more: log.records.len() > records.len(),
            overflow_count: log.overflow_count,
            first_overflow_ns: log.first_overflow_ns,
            last_overflow_ns: log.last_overflow_ns,
            records,
        }
    }

    /// Clears the oldest records of `kind`, which must carry `handles` in
    /// that order. Nothing is cleared if any handle does not match.
    pub fn clear(&self, kind: LogKind, handles: &[u16]) -> Result<(), ClearError> {
        let mut logs = self.logs.lock();
        let log = &mut logs[kind as usize];
        for (i, &h) in handles.iter().enumerate() {
            let expected = log.records.get(i).map(|r| r.handle);
            if expected != Some(h) {
                return Err(ClearError::InvalidHandle { got: h, expected });
            }
        }
        log.records.drain(..handles.len());
        if log.records.is_empty() {
            log.overflow_count = 0;
            log.first_overflow_ns = 0;
            log.last_overflow_ns = 0;
        }
        Ok(())
    }

    /// Clears every record of `kind` and its overflow status.
    pub fn clear_all(&self, kind: LogKind) {
        let mut logs = self.logs.lock();
        let log = &mut logs[kind as usize];
        log.records.clear();
        log.overflow_count = 0;
        log.first_overflow_ns = 0;
        log.last_overflow_ns = 0;
    }

    pub fn interrupt_settings(&self) -> [u8; 4] {
        let logs = self.logs.lock();
        [0, 1, 2, 3].map(|i| logs[i].interrupt_settings)
    }

    pub fn set_interrupt_settings(&self, settings: [u8; 4]) {
        let mut logs = self.logs.lock();
        for (log, s) in logs.iter_mut().zip(settings) {
            log.interrupt_settings = s;
        }
    }

    pub fn counters(&self, kind: LogKind) -> LogCounters {
        let logs = self.logs.lock();
        let log = &logs[kind as usize];
        LogCounters {
            pending: log.records.len() as u64,
            logged: log.total_logged,
            overflowed: u64::from(log.overflow_count),
        }
    }

    /// Kinds that currently hold records.
    pub fn pending(&self) -> Vec<LogKind> {
        let logs = self.logs.lock();
        LogKind::ALL
            .into_iter()
            .filter(|k| !logs[*k as usize].records.is_empty())
            .collect()
    }

    /// Forgets every record and interrupt setting (device reset).
    pub fn reset(&self) {
        let mut logs = self.logs.lock();
        for log in logs.iter_mut() {
            *log = Log::new(log.capacity);
        }
    }
}

/// UUID of every zcxl vendor event record:
/// `28dd5f2d-f06c-4400-85b2-dfa6fb425505`, in the byte order CXL uses.
pub const VENDOR_EVENT_UUID: [u8; 16] = [
    0x28, 0xdd, 0x5f, 0x2d, 0xf0, 0x6c, 0x44, 0x00, 0x85, 0xb2, 0xdf, 0xa6, 0xfb, 0x42, 0x55, 0x05,
];

/// The zcxl vendor events (specs/device.md, "Vendor event records").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum VendorEvent {
    /// Media use reached the high watermark (warning log).
    WatermarkHigh(MediaSnapshot),
    /// Media use fell below the low watermark (informational log).
    WatermarkLow(MediaSnapshot),
    /// A store found the media full; the page at `dpa` is poisoned
    /// (failure log).
    MediaExhausted { snapshot: MediaSnapshot, dpa: u64 },
}

/// Media figures carried by every vendor event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MediaSnapshot {
    pub used: u64,
    pub capacity: u64,
    pub low: u64,
    pub high: u64,
    pub pressure: bool,
}

impl VendorEvent {
    pub const TYPE_WATERMARK_HIGH: u8 = 1;
    pub const TYPE_WATERMARK_LOW: u8 = 2;
    pub const TYPE_MEDIA_EXHAUSTED: u8 = 3;

    pub fn log_kind(&self) -> LogKind {
        match self {
            VendorEvent::WatermarkHigh(_) => LogKind::Warning,
            VendorEvent::WatermarkLow(_) => LogKind::Informational,
            VendorEvent::MediaExhausted { .. } => LogKind::Failure,
        }
    }

    pub fn flags(&self) -> u8 {
        match self {
            VendorEvent::WatermarkHigh(_) => flags::PERFORMANCE_DEGRADED,
            VendorEvent::WatermarkLow(_) => 0,
            VendorEvent::MediaExhausted { .. } => flags::MAINTENANCE_NEEDED,
        }
    }

    /// The 80 record-specific bytes.
    pub fn data(&self) -> [u8; RECORD_DATA_LEN] {
        let (kind, snap, dpa) = match *self {
            VendorEvent::WatermarkHigh(s) => (Self::TYPE_WATERMARK_HIGH, s, 0),
            VendorEvent::WatermarkLow(s) => (Self::TYPE_WATERMARK_LOW, s, 0),
            VendorEvent::MediaExhausted { snapshot, dpa } => {
                (Self::TYPE_MEDIA_EXHAUSTED, snapshot, dpa)
            }
        };
        let mut d = [0u8; RECORD_DATA_LEN];
        d[0] = kind;
        d[1] = u8::from(snap.pressure);
        d[8..16].copy_from_slice(&snap.used.to_le_bytes());
        d[16..24].copy_from_slice(&snap.capacity.to_le_bytes());
        d[24..32].copy_from_slice(&snap.low.to_le_bytes());
        d[32..40].copy_from_slice(&snap.high.to_le_bytes());
        d[40..48].copy_from_slice(&dpa.to_le_bytes());
        d
    }

    /// Logs the event in its log.
    pub fn log_to(&self, logs: &EventLogs) -> Option<u16> {
        logs.log(
            self.log_kind(),
            VENDOR_EVENT_UUID,
            self.flags(),
            self.data(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(cap: u16) -> EventLogs {
        EventLogs::new(cap, Arc::new(DeviceClock::default()))
    }

    #[test]
    fn records_encode_to_the_common_layout() {
        let r = EventRecord {
            uuid: VENDOR_EVENT_UUID,
            flags: [1 | flags::PERMANENT, 0, 0],
            handle: 0x1234,
            related_handle: 0x5678,
            timestamp: 0x0102_0304_0506_0708,
            maint_op_class: 9,
            maint_op_subclass: 10,
            data: [0xaa; RECORD_DATA_LEN],
        };
        let b = r.encode();
        assert_eq!(&b[..16], &VENDOR_EVENT_UUID);
        assert_eq!(b[16], 128);
        assert_eq!(b[17], 0b101);
        assert_eq!(&b[20..24], &[0x34, 0x12, 0x78, 0x56]);
        assert_eq!(b[24], 0x08);
        assert_eq!((b[32], b[33]), (9, 10));
        assert!(b[34..0x30].iter().all(|&x| x == 0));
        assert!(b[0x30..].iter().all(|&x| x == 0xaa));
    }

    #[test]
    fn full_logs_count_overflow_and_clearing_resets_it() {
        let l = logs(2);
        let d = [0; RECORD_DATA_LEN];
        let h1 = l.log(LogKind::Warning, [0; 16], 0, d).unwrap();
        let h2 = l.log(LogKind::Warning, [0; 16], 0, d).unwrap();
        assert_eq!(l.log(LogKind::Warning, [0; 16], 0, d), None);
        assert_eq!(l.log(LogKind::Warning, [0; 16], 0, d), None);
        let batch = l.get(LogKind::Warning, 1);
        assert!(batch.overflow && batch.more);
        assert_eq!(batch.overflow_count, 2);
        assert_eq!(batch.records[0].handle, h1);
        assert_eq!(batch.records[0].flags[0] & 3, LogKind::Warning as u8);
        // Out of order: nothing is cleared.
        assert_eq!(
            l.clear(LogKind::Warning, &[h2]),
            Err(ClearError::InvalidHandle {
                got: h2,
                expected: Some(h1)
            })
        );
        l.clear(LogKind::Warning, &[h1]).unwrap();
        assert!(l.get(LogKind::Warning, 5).overflow);
        l.clear(LogKind::Warning, &[h2]).unwrap();
        let batch = l.get(LogKind::Warning, 5);
        assert!(!batch.overflow && !batch.more && batch.records.is_empty());
        assert!(l.clear(LogKind::Warning, &[h2]).is_err());
        // Other logs were untouched.
        assert!(l.get(LogKind::Fatal, 5).records.is_empty());
    }

    #[test]
    fn notifier_runs_only_when_interrupts_are_enabled() {
        let l = logs(4);
        let hits = Arc::new(Mutex::new(Vec::new()));
        let h = hits.clone();
        l.set_notifier(Some(Arc::new(move |k| h.lock().push(k))));
        let ev = VendorEvent::WatermarkHigh(MediaSnapshot {
            used: 9,
            capacity: 10,
            low: 8,
            high: 9,
            pressure: true,
        });
        ev.log_to(&l);
        assert!(hits.lock().is_empty());
        l.set_interrupt_settings([0, 0x11, 0, 0]);
        ev.log_to(&l);
        assert_eq!(*hits.lock(), vec![LogKind::Warning]);
        assert_eq!(l.pending(), vec![LogKind::Warning]);
    }

    #[test]
    fn vendor_event_data_layout() {
        let d = VendorEvent::MediaExhausted {
            snapshot: MediaSnapshot {
                used: 1,
                capacity: 2,
                low: 3,
                high: 4,
                pressure: true,
            },
            dpa: 0x5000,
        }
        .data();
        assert_eq!(d[0], VendorEvent::TYPE_MEDIA_EXHAUSTED);
        assert_eq!(d[1], 1);
        assert_eq!(d[8], 1);
        assert_eq!(d[16], 2);
        assert_eq!(d[24], 3);
        assert_eq!(d[32], 4);
        assert_eq!(&d[40..48], &0x5000u64.to_le_bytes());
    }
}
