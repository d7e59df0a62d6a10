//! Statistics: the device's vendor statistics plus the daemon's own
//! counters, as one JSON document (written to `--stats` and served on the
//! control socket for `zcxl-vhost stats`).

use crate::mapper::MapperStats;
use crate::queues::Outcome;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use zcxl_device::events::LogCounters;
use zcxl_device::media::MediaStats;

/// Requests a queue answered.
#[derive(Debug, Default)]
pub struct QueueCounters {
    requests: AtomicU64,
    rejected: AtomicU64,
}

impl QueueCounters {
    pub fn record(&self, outcome: Outcome) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if outcome == Outcome::Rejected {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self, name: String) -> QueueStats {
        QueueStats {
            name,
            requests: self.requests.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueStats {
    pub name: String,
    pub requests: u64,
    /// Requests answered with an error status or an empty completion.
    pub rejected: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScannerStats {
    pub scans: u64,
    pub pages_examined: u64,
    /// Pages stored because they changed without a hint.
    pub pages_restored: u64,
    /// Released pages found touched without read-prepare (now poisoned).
    pub pages_lost: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub version: &'static str,
    pub connected: bool,
    pub connections: u64,
    pub backing: crate::virtio_zcxl::BackingMode,
    pub window: MapperStats,
    pub released_pages: u64,
    pub media: MediaStats,
    pub event_logs: [LogCounters; 4],
    pub queues: Vec<QueueStats>,
    pub scanner: ScannerStats,
}
