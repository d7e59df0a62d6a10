//! The device: media, event logs, labels, timestamp and identity behind one
//! CCI entry point.

use crate::cci::{self, commands::AlertConfig};
use crate::clock::DeviceClock;
use crate::codec::{CompressionPolicy, PolicyError};
use crate::events::{EventLogs, Notifier};
use crate::geometry::{Geometry, GeometryError};
use crate::labels::{LabelStorage, MemoryLabels};
use crate::media::{Media, WatermarkConfig};
use parking_lot::Mutex;
use std::sync::Arc;
use thiserror::Error;

/// PCI identity reported by Identify (opcode 0001h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub vendor_id: u16,
    pub device_id: u16,
    pub subsystem_vendor_id: u16,
    pub subsystem_id: u16,
    pub serial: u64,
}

impl Identity {
    /// The identity of a virtio PCI device with `virtio_id` (vendor 1AF4h,
    /// device 1040h + ID, QEMU's subsystem 1AF4h:1100h).
    pub fn virtio(virtio_id: u16, serial: u64) -> Self {
        Self {
            vendor_id: 0x1af4,
            device_id: 0x1040 + virtio_id,
            subsystem_vendor_id: 0x1af4,
            subsystem_id: 0x1100,
            serial,
        }
    }
}

/// Everything that configures a device.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub logical_bytes: u64,
    pub media_bytes: u64,
    pub identity: Identity,
    pub policy: CompressionPolicy,
    pub watermarks: WatermarkConfig,
    /// Records each event log holds before it overflows.
    pub event_log_capacity: u16,
    /// Poisoned lines Inject Poison may have outstanding.
    pub inject_poison_limit: u16,
    /// Size of the label storage area when the caller does not provide one.
    pub lsa_bytes: usize,
}

impl DeviceConfig {
    pub fn new(logical_bytes: u64, media_bytes: u64) -> Self {
        Self {
            logical_bytes,
            media_bytes,
            identity: Identity::virtio(6, 0),
            policy: CompressionPolicy::default(),
            watermarks: WatermarkConfig::default(),
            event_log_capacity: 64,
            inject_poison_limit: 256,
            lsa_bytes: 128 << 10,
        }
    }
}

#[derive(Debug, Error)]
pub enum DeviceError {
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("event logs must hold at least one record")]
    EventLogCapacity,
    #[error("the label storage area must not be larger than 16 MiB (got {0} bytes)")]
    LabelArea(usize),
    #[error("cannot map {bytes} bytes of media: {source}")]
    MediaMemory { bytes: u64, source: std::io::Error },
}

/// Where the last Get Poison List stopped, so that a repeated request
/// continues (the "More Media Error Records" protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoisonCursor {
    pub dpa: u64,
    pub len: u64,
    /// DPA just past the last line returned: poison that comes or goes
    /// in between moves no record across it.
    pub resume: u64,
}

/// A compressed CXL Type-3 memory expander.
pub struct Device {
    config: DeviceConfig,
    clock: Arc<DeviceClock>,
    events: Arc<EventLogs>,
    media: Media,
    labels: Mutex<Box<dyn LabelStorage>>,
    pub(crate) alerts: Mutex<AlertConfig>,
    pub(crate) poison_cursor: Mutex<Option<PoisonCursor>>,
    cel: Vec<u8>,
}

/// Largest label storage area accepted.
pub const MAX_LSA_BYTES: usize = 16 << 20;

impl Device {
    /// A device with an in-memory label area of `config.lsa_bytes`.
    pub fn new(config: DeviceConfig) -> Result<Self, DeviceError> {
        let labels = Box::new(MemoryLabels::new(config.lsa_bytes));
        Self::with_labels(config, labels)
    }

    /// A device whose labels live in `labels` (its size wins over
    /// `config.lsa_bytes`).
    pub fn with_labels(
        mut config: DeviceConfig,
        labels: Box<dyn LabelStorage>,
    ) -> Result<Self, DeviceError> {
        let geometry = Geometry::new(config.logical_bytes, config.media_bytes)?;
        config.policy.validate()?;
        if config.event_log_capacity == 0 {
            return Err(DeviceError::EventLogCapacity);
        }
        if labels.size() > MAX_LSA_BYTES {
            return Err(DeviceError::LabelArea(labels.size()));
        }
        config.lsa_bytes = labels.size();
        let clock = Arc::new(DeviceClock::default());
        let events = Arc::new(EventLogs::new(config.event_log_capacity, clock.clone()));
        let media = Media::new(
            geometry,
            config.policy,
            config.watermarks,
            u32::from(config.inject_poison_limit),
            events.clone(),
        )
        .map_err(|source| DeviceError::MediaMemory {
            bytes: config.media_bytes,
            source,
        })?;
        Ok(Self {
            clock,
            events,
            media,
            labels: Mutex::new(labels),
            alerts: Mutex::new(AlertConfig::default()),
            poison_cursor: Mutex::new(None),
            cel: cci::registry_cel(),
            config,
        })
    }

    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    pub fn media(&self) -> &Media {
        &self.media
    }

    pub fn events(&self) -> &EventLogs {
        &self.events
    }

    pub fn clock(&self) -> &DeviceClock {
        &self.clock
    }

    pub(crate) fn labels(&self) -> parking_lot::MutexGuard<'_, Box<dyn LabelStorage>> {
        self.labels.lock()
    }

    pub(crate) fn cel(&self) -> &[u8] {
        &self.cel
    }

    /// Runs `notifier` when an event log with interrupts enabled gains a
    /// record.
    pub fn set_event_notifier(&self, notifier: Option<Notifier>) {
        self.events.set_notifier(notifier);
    }

    /// Handles one CCI request message; returns the response message.
    pub fn handle_cci(&self, request: &[u8]) -> Vec<u8> {
        cci::process(self, request)
    }

    /// Returns the device to its power-on state: every page unwritten and
    /// unpoisoned, event logs empty, policy, watermarks and alert settings
    /// as configured. Labels and the timestamp survive, as they do on real
    /// devices.
    pub fn reset(&self) {
        self.media.discard_all();
        // The policy was validated when the device was built.
        if let Err(e) = self.media.set_policy(self.config.policy) {
            tracing::error!("restoring the configured policy failed: {e}");
        }
        self.media.set_watermarks(self.config.watermarks);
        // Emptying the media may have logged a low-watermark crossing; after
        // a reset the logs start empty all the same.
        self.events.reset();
        *self.alerts.lock() = AlertConfig::default();
        *self.poison_cursor.lock() = None;
    }
}
