//! Maps the window into the guest with SHMEM_MAP, from its own thread.
//!
//! QEMU 11.1.3 crashes on a SHMEM_MAP that arrives before the guest set
//! DRIVER_OK, and the front-end waits for our reply while it handles our
//! request, so mapping from inside a front-end message handler can
//! deadlock. The vhost-user handler therefore only *asks* for a mapping
//! (when the device starts) and this thread does it. A start repeats
//! (QEMU sends the memory table more than once, and our own mapping makes
//! it send it again), so mapping is idempotent; QEMU drops the mappings on
//! device reset, so a later start maps again.

use crate::virtio_zcxl::{MAX_MAP_CHUNK, WINDOW_SHMID};
use crate::window::Window;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use vhost::vhost_user::message::{VhostUserMMap, VhostUserMMapFlags};
use vhost::vhost_user::VhostUserFrontendReqHandler;

/// The front-end side of the mapping requests, so tests can stand in for
/// QEMU's back-end channel.
pub trait ShmemChannel: Send + Sync {
    fn map(&self, req: &VhostUserMMap, window: &Window) -> std::io::Result<()>;
    fn unmap(&self, req: &VhostUserMMap) -> std::io::Result<()>;
}

impl ShmemChannel for vhost::vhost_user::Backend {
    fn map(&self, req: &VhostUserMMap, window: &Window) -> std::io::Result<()> {
        self.shmem_map(req, window.file()).map(|_| ())
    }

    fn unmap(&self, req: &VhostUserMMap) -> std::io::Result<()> {
        self.shmem_unmap(req).map(|_| ())
    }
}

/// The SHMEM_MAP requests that cover a window of `len` bytes.
pub fn chunks(len: u64) -> Vec<VhostUserMMap> {
    (0..len.div_ceil(MAX_MAP_CHUNK))
        .map(|i| {
            let off = i * MAX_MAP_CHUNK;
            VhostUserMMap {
                shmid: WINDOW_SHMID,
                padding: [0; 7],
                fd_offset: off,
                shm_offset: off,
                len: MAX_MAP_CHUNK.min(len - off),
                flags: VhostUserMMapFlags::WRITABLE.bits(),
            }
        })
        .collect()
}

#[derive(Default)]
struct State {
    channel: Option<Arc<dyn ShmemChannel>>,
    /// A start asked for the window and it is not mapped yet.
    wanted: bool,
    mapped: bool,
    /// Bumped by every stop; a mapping finished under an older epoch is
    /// not trusted.
    epoch: u64,
    /// Epoch of the mapping being sent right now, if any.
    in_flight: Option<u64>,
    /// The window was mapped at least once on this connection.
    ever_mapped: bool,
    exit: bool,
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    window: Arc<Window>,
    on_change: Box<dyn Fn(bool) + Send + Sync>,
    on_reset: Box<dyn Fn() + Send + Sync>,
    maps_sent: AtomicU64,
    map_failures: AtomicU64,
}

/// Counters for statistics.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct MapperStats {
    pub mapped: bool,
    pub map_requests_sent: u64,
    pub map_failures: u64,
}

pub struct Mapper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Mapper {
    /// Starts the mapping thread. `on_change(mapped)` runs (on that thread,
    /// or on the caller's for unmapping) whenever the mapped state changes;
    /// `on_reset()` runs on that thread, before the window is reported
    /// mapped, when a start shows that the front-end reset the device.
    /// Both run under the mapper's lock: they must not call the mapper.
    pub fn spawn(
        window: Arc<Window>,
        on_change: impl Fn(bool) + Send + Sync + 'static,
        on_reset: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            window,
            on_change: Box::new(on_change),
            on_reset: Box::new(on_reset),
            maps_sent: AtomicU64::new(0),
            map_failures: AtomicU64::new(0),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("zcxl-mapper".into())
            .spawn(move || run(&s))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// A front-end connected (or went away: `None`).
    pub fn set_channel(&self, channel: Option<Arc<dyn ShmemChannel>>) {
        let mut st = self.shared.state.lock();
        let gone = channel.is_none();
        st.channel = channel;
        st.ever_mapped = false;
        if gone {
            self.stop_locked(&mut st);
        }
        self.shared.cv.notify_all();
    }

    /// The device started: map the window unless it is mapped.
    pub fn start(&self) {
        let mut st = self.shared.state.lock();
        // Our own SHMEM_MAP makes QEMU send a new memory table, which
        // arrives here while that mapping is still in flight.
        let in_flight = st.in_flight == Some(st.epoch);
        if !st.mapped && !st.wanted && !in_flight {
            st.wanted = true;
            self.shared.cv.notify_all();
        }
    }

    /// The device stopped: whatever we mapped may be dropped by the
    /// front-end from now on.
    pub fn stop(&self) {
        let mut st = self.shared.state.lock();
        self.stop_locked(&mut st);
    }

    fn stop_locked(&self, st: &mut State) {
        st.epoch += 1;
        st.wanted = false;
        if std::mem::take(&mut st.mapped) {
            (self.shared.on_change)(false);
        }
    }

    pub fn is_mapped(&self) -> bool {
        self.shared.state.lock().mapped
    }

    pub fn stats(&self) -> MapperStats {
        MapperStats {
            mapped: self.is_mapped(),
            map_requests_sent: self.shared.maps_sent.load(Ordering::Relaxed),
            map_failures: self.shared.map_failures.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Mapper {
    fn drop(&mut self) {
        self.shared.state.lock().exit = true;
        self.shared.cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(s: &Shared) {
    loop {
        let (channel, epoch) = {
            let mut st = s.state.lock();
            loop {
                if st.exit {
                    return;
                }
                if st.wanted && st.channel.is_some() {
                    break;
                }
                s.cv.wait(&mut st);
            }
            st.wanted = false;
            let Some(channel) = st.channel.clone() else {
                continue;
            };
            st.in_flight = Some(st.epoch);
            (channel, st.epoch)
        };
        let outcome = map_all(s, channel.as_ref());
        let mut st = s.state.lock();
        st.in_flight = None;
        // Both callbacks run under the state lock: a stop that comes in
        // meanwhile waits, so its on_change(false) cannot be overtaken by
        // this on_change(true).
        if outcome != MapOutcome::Failed && st.epoch == epoch && !st.mapped {
            let reset = outcome == MapOutcome::Fresh && st.ever_mapped;
            st.ever_mapped = true;
            if reset {
                // QEMU drops the mappings on a device reset and only then;
                // a pause keeps them. It forwards the reset itself only as
                // vring stops, the same as a pause, so this is where we
                // learn of it.
                tracing::info!("the front-end reset the device");
                (s.on_reset)();
            }
            st.mapped = true;
            tracing::info!(bytes = s.window.len(), "window mapped");
            (s.on_change)(true);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MapOutcome {
    /// The front-end had no mapping: mapped from scratch.
    Fresh,
    /// The front-end still had our mapping (a paused VM): mapped again.
    Remapped,
    Failed,
}

/// Maps every chunk. A chunk the front-end refuses is unmapped and mapped
/// again once: after a stop that was not a reset (a paused VM) the old
/// mapping is still there and a new one would overlap it.
fn map_all(s: &Shared, channel: &dyn ShmemChannel) -> MapOutcome {
    let mut outcome = MapOutcome::Fresh;
    for req in chunks(s.window.len()) {
        s.maps_sent.fetch_add(1, Ordering::Relaxed);
        if channel.map(&req, &s.window).is_ok() {
            continue;
        }
        outcome = MapOutcome::Remapped;
        let off = req.shm_offset;
        let remapped = channel.unmap(&req).is_ok() && {
            s.maps_sent.fetch_add(1, Ordering::Relaxed);
            channel.map(&req, &s.window).is_ok()
        };
        if !remapped {
            s.map_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(offset = off, "the front-end refused to map the window");
            return MapOutcome::Failed;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    /// A front-end that refuses overlapping maps, like QEMU, and (when
    /// given a mapper) sends a new memory table while it maps, as QEMU
    /// does.
    #[derive(Default)]
    struct FakeFrontend {
        maps: Mutex<BTreeSet<u64>>,
        requests: AtomicU64,
        restart_during_map: Mutex<Option<Arc<Mapper>>>,
    }

    impl ShmemChannel for FakeFrontend {
        fn map(&self, req: &VhostUserMMap, _w: &Window) -> std::io::Result<()> {
            self.requests.fetch_add(1, Ordering::Relaxed);
            if let Some(m) = self.restart_during_map.lock().as_ref() {
                m.start();
            }
            if self.maps.lock().insert(req.shm_offset) {
                Ok(())
            } else {
                Err(std::io::Error::other(
                    "VIRTIO Shared Memory mapping overlap",
                ))
            }
        }
        fn unmap(&self, req: &VhostUserMMap) -> std::io::Result<()> {
            let off = req.shm_offset;
            if self.maps.lock().remove(&off) {
                Ok(())
            } else {
                Err(std::io::Error::other("not found"))
            }
        }
    }

    fn wait_for(f: impl Fn() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(5), "timed out");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn chunks_cover_the_window_in_1g_pieces() {
        let c = chunks(5 << 29);
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.iter().map(|m| (m.shm_offset, m.len)).collect::<Vec<_>>(),
            vec![(0, 1 << 30), (1 << 30, 1 << 30), (2 << 30, 1 << 29)]
        );
        assert!(c
            .iter()
            .all(|m| m.fd_offset == m.shm_offset && m.flags == 1));
    }

    #[test]
    fn maps_once_per_start_and_again_after_a_stop() {
        let w = Arc::new(Window::new(1 << 20).unwrap());
        let changes = Arc::new(Mutex::new(Vec::new()));
        let c2 = changes.clone();
        let resets = Arc::new(AtomicU64::new(0));
        let r2 = resets.clone();
        let m = Mapper::spawn(
            w,
            move |v| c2.lock().push(v),
            move || {
                r2.fetch_add(1, Ordering::Relaxed);
            },
        )
        .unwrap();
        let fe = Arc::new(FakeFrontend::default());
        // No mapping before a start.
        m.set_channel(Some(fe.clone()));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(fe.requests.load(Ordering::Relaxed), 0);
        m.start();
        wait_for(|| m.is_mapped());
        m.start();
        m.start();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(fe.requests.load(Ordering::Relaxed), 1, "idempotent");
        // A stop that the front-end treats as a pause keeps its mapping;
        // the next start must not fail on the overlap.
        m.stop();
        assert!(!m.is_mapped());
        m.start();
        wait_for(|| m.is_mapped());
        assert_eq!(fe.maps.lock().len(), 1);
        assert_eq!(resets.load(Ordering::Relaxed), 0, "a pause is no reset");
        // A reset drops the front-end's mappings: the next start maps.
        m.stop();
        fe.maps.lock().clear();
        m.start();
        wait_for(|| m.is_mapped());
        assert_eq!(resets.load(Ordering::Relaxed), 1);
        assert_eq!(*changes.lock(), vec![true, false, true, false, true]);
        m.set_channel(None);
        assert!(!m.is_mapped());
        assert_eq!(m.stats().map_failures, 0);
    }

    #[test]
    fn a_start_while_mapping_does_not_map_twice() {
        let w = Arc::new(Window::new(1 << 20).unwrap());
        let m = Arc::new(Mapper::spawn(w, |_| {}, || {}).unwrap());
        let fe = Arc::new(FakeFrontend::default());
        *fe.restart_during_map.lock() = Some(m.clone());
        m.set_channel(Some(fe.clone()));
        m.start();
        wait_for(|| m.is_mapped());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(fe.requests.load(Ordering::Relaxed), 1);
        *fe.restart_during_map.lock() = None;
        m.set_channel(None);
    }
}
