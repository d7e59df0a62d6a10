//! The vhost-user back-end: turns descriptor chains into device calls and
//! front-end lifecycle messages into device state changes.

use crate::chain::Chain;
use crate::hints::PageService;
use crate::mapper::Mapper;
use crate::queues::{self, Outcome};
use crate::stats::QueueCounters;
use crate::tracker::PageTracker;
use crate::virtio_zcxl::{
    BackingMode, ConfigSpace, EventReport, EVENTS_QUEUE, FIRST_DATA_QUEUE, MAILBOX_QUEUE,
    STATUS_POISON, STATUS_PRESSURE, STATUS_WINDOW_MAPPED,
};
use crate::window::Window;
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use vhost::vhost_user::message::{VhostUserProtocolFeatures, VhostUserShMemConfig};
use vhost::vhost_user::Backend;
use vhost_user_backend::{VhostUserBackend, VringRwLock, VringT};
use virtio_bindings::bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_bindings::bindings::virtio_ring::{
    VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
};
use virtio_queue::QueueT;
use vm_memory::{GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::event::{
    new_event_consumer_and_notifier, EventConsumer, EventFlag, EventNotifier,
};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};
use zcxl_device::Device;

type GuestMemory = GuestMemoryAtomic<GuestMemoryMmap<()>>;

/// What the daemon was configured with that shapes the virtio device.
#[derive(Debug, Clone)]
pub struct VirtioSettings {
    pub data_queues: u16,
    pub queue_size: u16,
    pub backing: BackingMode,
    pub scan_interval_ms: u32,
}

/// The event queue's memory of what it last told the driver.
struct EventState {
    /// Wakes worker thread 0 to look at the event queue.
    wake: EventFd,
    /// A log with interrupts enabled gained a record since the last report.
    due: AtomicBool,
    /// What the last completed buffer said; `None` after a start, so the
    /// first posted buffer is completed at once.
    last: Mutex<Option<(u32, u32)>>,
    mapped: AtomicBool,
    /// The media's status bits when last looked at ([`media_status`]).
    media: AtomicU32,
    /// Posted buffers waiting for a report (only worker thread 0 and
    /// lifecycle handlers touch them).
    held: Mutex<VecDeque<Chain>>,
    /// The event queue's vring, once served: a stop hands `held` back
    /// through it.
    vring: Mutex<Option<VringRwLock>>,
}

impl EventState {
    fn poke(&self) {
        if let Err(e) = self.wake.write(1) {
            tracing::error!("waking the event queue: {e}");
        }
    }
}

pub struct ZcxlBackend {
    settings: VirtioSettings,
    config: ConfigSpace,
    device: Arc<Device>,
    service: PageService,
    mem: RwLock<Option<GuestMemory>>,
    event_idx: AtomicBool,
    events: Arc<EventState>,
    mapper: Mapper,
    counters: Vec<QueueCounters>,
}

/// Epoll data of the event-queue wake-up on worker thread 0 (beyond the
/// queue and exit ids the library reserves).
fn wake_event_id(num_queues: usize) -> u16 {
    (num_queues + 1) as u16
}

impl ZcxlBackend {
    pub fn new(
        settings: VirtioSettings,
        device: Arc<Device>,
        window: Arc<Window>,
        tracker: Arc<PageTracker>,
    ) -> io::Result<Self> {
        let m = device.media();
        let config = ConfigSpace::new(
            settings.data_queues,
            device.config().identity.serial,
            m.geometry().logical_bytes(),
            m.geometry().media_bytes(),
            settings.backing,
            settings.scan_interval_ms,
        );
        let events = Arc::new(EventState {
            wake: EventFd::new(EFD_NONBLOCK)?,
            due: AtomicBool::new(false),
            last: Mutex::new(None),
            mapped: AtomicBool::new(false),
            media: AtomicU32::new(media_status(&device)),
            held: Mutex::new(VecDeque::new()),
            vring: Mutex::new(None),
        });
        let ev = events.clone();
        device.set_event_notifier(Some(Arc::new(move |_log| {
            ev.due.store(true, Ordering::Release);
            ev.poke();
        })));
        let ev = events.clone();
        let (d, w, t, e) = (
            device.clone(),
            window.clone(),
            tracker.clone(),
            events.clone(),
        );
        let mapper = Mapper::spawn(
            window.clone(),
            move |mapped| {
                ev.mapped.store(mapped, Ordering::Release);
                ev.poke();
            },
            move || reset_model(&d, &w, &t, &e),
        )?;
        let queues = 2 + usize::from(settings.data_queues);
        Ok(Self {
            service: PageService {
                device: device.clone(),
                window,
                tracker,
                backing: settings.backing,
                hash_pages: settings.scan_interval_ms > 0,
                abandon: AtomicBool::new(false),
            },
            config,
            device,
            settings,
            mem: RwLock::new(None),
            event_idx: AtomicBool::new(false),
            events,
            mapper,
            counters: (0..queues).map(|_| QueueCounters::default()).collect(),
        })
    }

    pub fn device(&self) -> &Arc<Device> {
        &self.device
    }

    pub fn service(&self) -> &PageService {
        &self.service
    }

    pub fn mapper(&self) -> &Mapper {
        &self.mapper
    }

    pub fn counters(&self) -> &[QueueCounters] {
        &self.counters
    }

    pub fn settings(&self) -> &VirtioSettings {
        &self.settings
    }

    /// The fd worker thread 0 must watch (with [`Self::wake_event`] as
    /// its epoll data) for event-queue work.
    pub fn wake_fd(&self) -> &EventFd {
        &self.events.wake
    }

    pub fn wake_event(&self) -> u16 {
        wake_event_id(self.num_queues())
    }

    /// The front-end is going: data requests still running end at their
    /// next page, so that its worker threads can be joined promptly.
    pub fn abandon_requests(&self) {
        self.service.abandon.store(true, Ordering::Relaxed);
    }

    /// The front-end went away (its workers joined): back to reset state
    /// for the next one.
    pub fn disconnected(&self) {
        self.mapper.set_channel(None);
        *self.mem.write() = None;
        self.reset_state();
        self.service.abandon.store(false, Ordering::Relaxed);
    }

    /// Device reset: mappings, model, window, tracking and event state.
    fn reset_state(&self) {
        self.mapper.stop();
        // Buffers posted before a front-end reset are gone with its rings.
        // (A reset found at the next start keeps the new ones.)
        self.events.held.lock().clear();
        *self.events.vring.lock() = None;
        let s = &self.service;
        reset_model(&self.device, &s.window, &s.tracker, &self.events);
    }

    /// Pokes the event queue if the media's status bits (pressure,
    /// poison) moved since we last looked: a watermark crossing with
    /// interrupts off logs no notifier call, and poison comes and goes
    /// without one, but the status word still changes.
    pub(crate) fn check_status(&self) {
        let now = media_status(&self.device);
        if self.events.media.swap(now, Ordering::AcqRel) != now {
            self.events.poke();
        }
    }

    fn current_report(&self) -> (u32, u32) {
        let pending = self
            .device
            .events()
            .pending()
            .into_iter()
            .fold(0u32, |acc, k| acc | 1 << (k as u32));
        let mut status = media_status(&self.device);
        if self.events.mapped.load(Ordering::Acquire) {
            status |= STATUS_WINDOW_MAPPED;
        }
        (pending, status)
    }

    fn memory(&self) -> Option<GuestMemory> {
        self.mem.read().clone()
    }

    /// Pops every available chain of `vring` and answers it with `serve`.
    fn drain(
        &self,
        vring: &VringRwLock,
        queue: usize,
        serve: impl Fn(&Chain, &GuestMemoryMmap<()>) -> (u32, Outcome),
    ) {
        let Some(mem) = self.memory() else {
            tracing::warn!(queue, "kick before the memory table; ignored");
            return;
        };
        let mut served = false;
        self.pop_all(vring, queue, &mem, |chain, guard| {
            let (len, outcome) = serve(&chain, guard);
            self.counters[queue].record(outcome);
            self.complete(vring, chain.head, len, queue);
            served = true;
        });
        if served {
            self.check_status();
        }
    }

    /// Hands every available chain of `vring` to `each`. With EVENT_IDX it
    /// then publishes where the driver must kick next (without that, the
    /// driver stops kicking) and goes on if chains came in meanwhile.
    fn pop_all(
        &self,
        vring: &VringRwLock,
        queue: usize,
        mem: &GuestMemory,
        mut each: impl FnMut(Chain, &GuestMemoryMmap<()>),
    ) {
        let event_idx = self.event_idx.load(Ordering::Relaxed);
        loop {
            if event_idx {
                if let Err(e) = vring.disable_notification() {
                    tracing::warn!(queue, "disabling notifications: {e}");
                }
            }
            let guard = mem.memory();
            while let Some(chain) = next_chain(vring, &guard) {
                each(chain, &guard);
            }
            if !event_idx {
                break;
            }
            match vring.enable_notification() {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(queue, "enabling notifications: {e}");
                    break;
                }
            }
        }
    }

    fn complete(&self, vring: &VringRwLock, head: u16, len: u32, queue: usize) {
        if let Err(e) = vring.add_used(head, len) {
            tracing::warn!(queue, "adding a used entry: {e}");
            return;
        }
        let notify =
            !self.event_idx.load(Ordering::Relaxed) || vring.needs_notification().unwrap_or(true);
        if notify {
            if let Err(e) = vring.signal_used_queue() {
                tracing::warn!(queue, "signalling the guest: {e}");
            }
        }
    }

    /// Takes every posted event buffer (completing at once those that
    /// cannot hold a report), and completes the oldest held buffer if a
    /// report is due.
    fn serve_events(&self, vring: &VringRwLock) {
        {
            let state = vring.get_ref();
            if !state.get_queue().ready() || !state.is_enabled() {
                return;
            }
        }
        let Some(mem) = self.memory() else { return };
        *self.events.vring.lock() = Some(vring.clone());
        let mut held = self.events.held.lock();
        // Buffers the driver posts without a kick would otherwise wait
        // unseen until some other report came due.
        self.pop_all(vring, EVENTS_QUEUE, &mem, |chain, _| {
            if queues::event_buffer_ok(&chain) {
                held.push_back(chain);
            } else {
                self.counters[EVENTS_QUEUE].record(Outcome::Rejected);
                self.complete(vring, chain.head, 0, EVENTS_QUEUE);
            }
        });
        let guard = mem.memory();
        // Taken before the report is read: a record logged meanwhile sets
        // it again rather than being lost.
        let was_due = self.events.due.swap(false, Ordering::AcqRel);
        let now = self.current_report();
        if !was_due && *self.events.last.lock() == Some(now) {
            return;
        }
        while let Some(chain) = held.pop_front() {
            match queues::event(&chain, &*guard, EventReport::new(now.0, now.1)) {
                Some(len) => {
                    *self.events.last.lock() = Some(now);
                    self.counters[EVENTS_QUEUE].record(Outcome::Done);
                    self.complete(vring, chain.head, len, EVENTS_QUEUE);
                    return;
                }
                None => {
                    // Its buffer left guest memory since it was posted.
                    self.counters[EVENTS_QUEUE].record(Outcome::Rejected);
                    self.complete(vring, chain.head, 0, EVENTS_QUEUE);
                }
            }
        }
        // No buffer to report in: the next one posted gets it.
        if was_due {
            self.events.due.store(true, Ordering::Release);
        }
    }
}

/// Returns the device model, the window contents, the page tracking and
/// the event state to their power-on state.
fn reset_model(device: &Device, window: &Window, tracker: &PageTracker, events: &EventState) {
    // A scan, hint or read-prepare in progress finishes first, and none
    // starts until the reset is done: none reads before and stores after.
    let _pages = tracker.lock_all();
    device.reset();
    if let Err(e) = window.clear() {
        tracing::error!("emptying the window: {e}");
    }
    tracker.reset();
    *events.last.lock() = None;
    events.due.store(false, Ordering::Release);
    events.media.store(media_status(device), Ordering::Release);
}

/// The status bits the media decides (specs/virtio.md §3.2).
fn media_status(device: &Device) -> u32 {
    let m = device.media();
    let mut status = 0;
    if m.under_pressure() {
        status |= STATUS_PRESSURE;
    }
    if m.holds_poison() {
        status |= STATUS_POISON;
    }
    status
}

impl VhostUserBackend for ZcxlBackend {
    type Bitmap = ();
    type Vring = VringRwLock;

    fn num_queues(&self) -> usize {
        FIRST_DATA_QUEUE + usize::from(self.settings.data_queues)
    }

    fn max_queue_size(&self) -> usize {
        usize::from(self.settings.queue_size)
    }

    fn features(&self) -> u64 {
        (1 << VIRTIO_F_VERSION_1)
            | (1 << VIRTIO_RING_F_EVENT_IDX)
            | (1 << VIRTIO_RING_F_INDIRECT_DESC)
            | vhost::vhost_user::message::VhostUserVirtioFeatures::PROTOCOL_FEATURES.bits()
    }

    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        VhostUserProtocolFeatures::CONFIG
            | VhostUserProtocolFeatures::MQ
            | VhostUserProtocolFeatures::BACKEND_REQ
            | VhostUserProtocolFeatures::BACKEND_SEND_FD
            | VhostUserProtocolFeatures::REPLY_ACK
            | VhostUserProtocolFeatures::RESET_DEVICE
            | VhostUserProtocolFeatures::SHMEM
    }

    fn reset_device(&self) {
        tracing::info!("front-end reset the device");
        self.reset_state();
    }

    fn set_event_idx(&self, enabled: bool) {
        self.event_idx.store(enabled, Ordering::Relaxed);
    }

    fn get_config(&self, offset: u32, size: u32) -> Vec<u8> {
        self.config.read(offset, size)
    }

    fn set_config(&self, offset: u32, buf: &[u8]) -> io::Result<()> {
        tracing::debug!(offset, len = buf.len(), "config write ignored");
        Ok(())
    }

    fn update_memory(&self, mem: GuestMemory) -> io::Result<()> {
        tracing::debug!("memory table updated; device started");
        *self.mem.write() = Some(mem);
        // Only a started device gets a memory table from QEMU, so this is
        // the earliest safe moment for SHMEM_MAP; the mapper thread sends it.
        self.mapper.start();
        Ok(())
    }

    fn set_backend_req_fd(&self, backend: Backend) {
        tracing::debug!("back-end request channel set up");
        self.mapper.set_channel(Some(Arc::new(backend)));
    }

    fn get_shmem_config(&self) -> io::Result<VhostUserShMemConfig> {
        Ok(VhostUserShMemConfig::new(1, &[self.service.window.len()]))
    }

    fn queues_per_thread(&self) -> Vec<u64> {
        // Thread 0: mailbox and events; then one thread per data queue.
        let mut v = vec![(1 << MAILBOX_QUEUE) | (1 << EVENTS_QUEUE)];
        v.extend(
            (0..self.settings.data_queues).map(|i| 1u64 << (FIRST_DATA_QUEUE + usize::from(i))),
        );
        v
    }

    fn exit_event(&self, _thread_index: usize) -> Option<(EventConsumer, EventNotifier)> {
        match new_event_consumer_and_notifier(EventFlag::NONBLOCK) {
            Ok(pair) => Some(pair),
            Err(e) => {
                tracing::error!("creating an exit event: {e}");
                None
            }
        }
    }

    fn stop_vring(&self, queue_index: u32) -> io::Result<()> {
        tracing::debug!(queue_index, "vring stopped");
        self.mapper.stop();
        *self.events.last.lock() = None;
        if queue_index as usize == EVENTS_QUEUE {
            // Hand the held buffers back, empty: the front-end's ring state
            // counts them as taken, so after a pause the driver would
            // otherwise never see them again, and no report could reach it.
            let held = std::mem::take(&mut *self.events.held.lock());
            if let Some(vring) = self.events.vring.lock().clone() {
                for chain in held {
                    self.counters[EVENTS_QUEUE].record(Outcome::Rejected);
                    self.complete(&vring, chain.head, 0, EVENTS_QUEUE);
                }
            }
        }
        Ok(())
    }

    fn handle_event(
        &self,
        device_event: u16,
        evset: EventSet,
        vrings: &[VringRwLock],
        thread_id: usize,
    ) -> io::Result<()> {
        if evset != EventSet::IN {
            tracing::warn!(?evset, "unexpected epoll event");
            return Ok(());
        }
        // Errors here would end the worker thread for good; a guest's
        // mistakes are answered on the queue and logged, never returned.
        match (thread_id, device_event) {
            (0, 0) => {
                let device = &self.device;
                self.drain(&vrings[0], MAILBOX_QUEUE, |c, m| {
                    queues::mailbox(c, m, device)
                });
            }
            (0, 1) => self.serve_events(&vrings[1]),
            (0, e) if e == self.wake_event() => {
                let _ = self.events.wake.read();
                self.serve_events(&vrings[1]);
            }
            (t, 0) if t >= 1 && t <= usize::from(self.settings.data_queues) => {
                let queue = FIRST_DATA_QUEUE + t - 1;
                let service = &self.service;
                self.drain(&vrings[0], queue, |c, m| queues::data(c, m, service));
            }
            other => tracing::warn!(?other, "event for no queue"),
        }
        Ok(())
    }
}

/// The next available descriptor chain of `vring`, collected.
fn next_chain<M>(vring: &VringRwLock, mem: &M) -> Option<Chain>
where
    M: Clone + std::ops::Deref,
    M::Target: vm_memory::GuestMemory,
{
    vring
        .get_mut()
        .get_queue_mut()
        .pop_descriptor_chain(mem.clone())
        .map(Chain::collect)
}
