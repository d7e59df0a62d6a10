//! The shadow scanner: finds window pages the guest changed without a
//! write-hint and stores them, so the device's accounting converges for
//! any guest; in `compressed` backing it also finds released pages that
//! were touched without read-prepare and reports them as poison.
//!
//! Only pages that hold host memory are looked at (holes are skipped with
//! SEEK_DATA), so an idle, mostly empty window costs almost nothing.

use crate::stats::ScannerStats;
use crate::tracker::page_hash;
use crate::vhu_zcxl::ZcxlBackend;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use zcxl_device::{Page, PAGE_SIZE};

const PAGE: u64 = PAGE_SIZE as u64;

pub struct Scanner {
    backend: Arc<ZcxlBackend>,
    interval: Duration,
    stats: Mutex<ScannerStats>,
}

impl Scanner {
    pub fn new(backend: Arc<ZcxlBackend>, interval: Duration) -> Self {
        Self {
            backend,
            interval,
            stats: Mutex::new(ScannerStats::default()),
        }
    }

    pub fn stats(&self) -> ScannerStats {
        *self.stats.lock()
    }

    /// Scans every `interval` until `stop()` says so.
    pub fn run(&self, stop: impl Fn() -> bool) {
        let step = Duration::from_millis(20).min(self.interval);
        loop {
            let mut waited = Duration::ZERO;
            while waited < self.interval {
                if stop() {
                    return;
                }
                std::thread::sleep(step);
                waited += step;
            }
            self.scan_once(&stop);
        }
    }

    /// One pass over the window's resident pages.
    pub fn scan_once(&self, stop: &dyn Fn() -> bool) {
        let svc = self.backend.service();
        let media = svc.device.media();
        let mut buf: Box<Page> = Box::new([0; PAGE_SIZE]);
        let mut s = ScannerStats::default();
        let mut from = 0;
        while !stop() {
            let (start, end) = match svc.window.next_data(from) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    tracing::error!("scanning the window: {e}");
                    break;
                }
            };
            for dpa in (start / PAGE * PAGE..end).step_by(PAGE_SIZE) {
                let page = dpa / PAGE;
                let _g = svc.tracker.lock(page);
                s.pages_examined += 1;
                if svc.tracker.released(page) {
                    // Holes are skipped, so a released page here has host
                    // memory again: the guest touched it without
                    // read-prepare and may have read zeros.
                    if !matches!(svc.window.page_resident(dpa), Ok(true)) {
                        continue;
                    }
                    if let Err(e) = media.poison_lost_page(dpa) {
                        tracing::error!(dpa, "poisoning a lost page: {e}");
                    }
                    svc.tracker.set_released(page, false);
                    if svc.window.read_page(dpa, &mut buf).is_ok() {
                        svc.tracker.set_hash(page, page_hash(&buf));
                    }
                    s.pages_lost += 1;
                    tracing::warn!(dpa, "released page touched without read-prepare");
                    continue;
                }
                if let Err(e) = svc.window.read_page(dpa, &mut buf) {
                    tracing::error!(dpa, "reading the window: {e}");
                    continue;
                }
                let h = page_hash(&buf);
                if h == svc.tracker.hash(page) {
                    continue;
                }
                // Media exhaustion poisons the page and logs an event
                // inside the device; either way this content is now known.
                let _ = media.store(dpa, &buf);
                svc.tracker.set_hash(page, h);
                s.pages_restored += 1;
            }
            from = end;
        }
        if s.pages_lost > 0 || s.pages_restored > 0 {
            // Pages it poisoned (or whose poison a store cleared) change
            // the status word without necessarily logging an event.
            self.backend.check_status();
        }
        s.scans = 1;
        let mut total = self.stats.lock();
        total.scans += s.scans;
        total.pages_examined += s.pages_examined;
        total.pages_restored += s.pages_restored;
        total.pages_lost += s.pages_lost;
    }
}
