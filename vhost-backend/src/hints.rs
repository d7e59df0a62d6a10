//! Data-queue operations on the device and the window: write-hint,
//! discard, read-prepare, one status per range (specs/virtio.md §3.3).

use crate::tracker::{page_hash, PageTracker};
use crate::virtio_zcxl::{BackingMode, DataOp, DataRequest, PageRange, RangeStatus};
use crate::window::Window;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use zcxl_device::media::MediaError;
use zcxl_device::{Device, Page, PAGE_SIZE};

const PAGE: u64 = PAGE_SIZE as u64;

/// Everything a data-queue worker touches.
pub struct PageService {
    pub device: Arc<Device>,
    pub window: Arc<Window>,
    pub tracker: Arc<PageTracker>,
    pub backing: BackingMode,
    /// Remember each stored page's hash for the shadow scanner (off when
    /// there is no scanner: it costs a pass over the page).
    pub hash_pages: bool,
    /// The front-end is gone: requests still running stop at their next
    /// page (one request may cover the window 256 times over, and the
    /// daemon joins the workers before it takes the next front-end).
    pub abandon: AtomicBool,
}

impl PageService {
    /// Runs `req`, one status per range, in order.
    pub fn execute(&self, req: &DataRequest) -> Vec<RangeStatus> {
        let mut page: Box<Page> = Box::new([0; PAGE_SIZE]);
        req.ranges
            .iter()
            .map(|&r| self.range(req.op, r, &mut page))
            .collect()
    }

    /// The DPA range of `r`, if it is page aligned, non-empty and inside
    /// the window.
    fn check(&self, r: PageRange) -> Option<(u64, u64)> {
        let len = u64::from(r.pages).checked_mul(PAGE)?;
        let end = r.dpa.checked_add(len)?;
        (r.dpa % PAGE == 0 && r.pages > 0 && end <= self.window.len()).then_some((r.dpa, len))
    }

    fn range(&self, op: DataOp, r: PageRange, buf: &mut Page) -> RangeStatus {
        if let DataOp::Unknown(_) = op {
            return RangeStatus::Unsupported;
        }
        let Some((dpa, len)) = self.check(r) else {
            return RangeStatus::BadRange;
        };
        // A failing page does not stop the rest of its range; the range
        // reports the first failure (specs/virtio.md §3.3).
        let mut status = RangeStatus::Ok;
        for p in (dpa..dpa + len).step_by(PAGE_SIZE) {
            if self.abandon.load(Ordering::Relaxed) {
                return RangeStatus::DeviceError;
            }
            let s = match op {
                DataOp::WriteHint => self.write_hint(p, buf),
                DataOp::ReadPrepare => self.read_prepare(p, buf),
                DataOp::Discard => self.discard(p),
                DataOp::Unknown(_) => RangeStatus::Unsupported,
            };
            if status == RangeStatus::Ok {
                status = s;
            }
        }
        status
    }

    /// Stores the page the guest just wrote. In `compressed` backing its
    /// host memory is released afterwards.
    pub fn write_hint(&self, dpa: u64, buf: &mut Page) -> RangeStatus {
        let page = dpa / PAGE;
        let _g = self.tracker.lock(page);
        if self.tracker.released(page) {
            // Nothing to read: the page lives in the device already (the
            // guest hinted twice without writing in between).
            return RangeStatus::Ok;
        }
        if let Err(e) = self.window.read_page(dpa, buf) {
            tracing::error!(dpa, "reading the window: {e}");
            return RangeStatus::DeviceError;
        }
        let status = match self.device.media().store(dpa, buf) {
            Ok(_) => RangeStatus::Ok,
            Err(MediaError::Exhausted { .. }) => RangeStatus::MediaExhausted,
            Err(e) => {
                tracing::error!(dpa, "store failed: {e}");
                RangeStatus::DeviceError
            }
        };
        if self.hash_pages {
            self.tracker.set_hash(page, page_hash(buf));
        }
        if status == RangeStatus::Ok && self.backing == BackingMode::Compressed {
            if let Err(e) = self.window.punch(dpa, PAGE) {
                tracing::error!(dpa, "releasing the page: {e}");
                return RangeStatus::DeviceError;
            }
            self.tracker.set_released(page, true);
        }
        status
    }

    /// Makes the page readable in the window: restores a released page
    /// (`compressed` backing); reports poison in either mode.
    pub fn read_prepare(&self, dpa: u64, buf: &mut Page) -> RangeStatus {
        let page = dpa / PAGE;
        let _g = self.tracker.lock(page);
        let media = self.device.media();
        if !self.tracker.released(page) {
            return match media.page_state(dpa) {
                Ok(zcxl_device::media::PageState::Poisoned) => RangeStatus::Poisoned,
                Ok(_) => RangeStatus::Ok,
                Err(_) => RangeStatus::BadRange,
            };
        }
        match media.load(dpa, buf) {
            Ok(_) => {}
            Err(MediaError::Poisoned { .. }) => return RangeStatus::Poisoned,
            Err(e) => {
                tracing::error!(dpa, "restoring the page: {e}");
                return RangeStatus::DeviceError;
            }
        }
        if let Err(e) = self.window.write_page(dpa, buf) {
            tracing::error!(dpa, "writing the window: {e}");
            return RangeStatus::DeviceError;
        }
        self.tracker.set_released(page, false);
        RangeStatus::Ok
    }

    /// Discards the page at `dpa` and releases its host memory.
    fn discard(&self, dpa: u64) -> RangeStatus {
        let page = dpa / PAGE;
        let _g = self.tracker.lock(page);
        if let Err(e) = self.device.media().discard(dpa, PAGE) {
            tracing::error!(dpa, "discard failed: {e}");
            return RangeStatus::DeviceError;
        }
        if let Err(e) = self.window.punch(dpa, PAGE) {
            tracing::error!(dpa, "releasing the page: {e}");
            return RangeStatus::DeviceError;
        }
        self.tracker.set_zero(page);
        self.tracker.set_released(page, false);
        RangeStatus::Ok
    }
}
