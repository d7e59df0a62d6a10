//! The daemon: builds the device, listens on the socket, serves one
//! front-end connection after another, and shuts down cleanly on SIGINT or
//! SIGTERM.

use crate::cli::{Config, Error};
use crate::scanner::Scanner;
use crate::stats::{ScannerStats, Stats};
use crate::tracker::PageTracker;
use crate::vhu_zcxl::{VirtioSettings, ZcxlBackend};
use crate::window::Window;
use parking_lot::Mutex;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vhost::vhost_user::Listener;
use vhost_user_backend::{ShutdownHandle, VhostUserDaemon};
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;
use zcxl_device::labels::FileLabels;
use zcxl_device::{Device, DeviceConfig, Identity};

/// Size of the label storage area the daemon gives the device.
pub const LSA_BYTES: usize = 128 << 10;

/// The control socket `zcxl-vhost stats` talks to, beside the vhost-user
/// socket.
pub fn control_path(socket: &Path) -> PathBuf {
    let mut p = socket.as_os_str().to_owned();
    p.push(".stats");
    PathBuf::from(p)
}

/// State shared by the daemon's threads.
pub struct Runtime {
    pub backend: Arc<ZcxlBackend>,
    pub scanner: Option<Arc<Scanner>>,
    connected: AtomicBool,
    connections: AtomicU64,
    shutdown: AtomicBool,
    session: Mutex<Option<ShutdownHandle>>,
    /// Raw fds of the listening sockets, shut down to wake their accepts.
    listeners: Mutex<Vec<i32>>,
}

impl Runtime {
    pub fn stats(&self) -> Stats {
        let b = &self.backend;
        let dev = b.device();
        let names = |i: usize| match i {
            0 => "mailbox".to_string(),
            1 => "events".to_string(),
            n => format!("data{}", n - 2),
        };
        Stats {
            version: env!("CARGO_PKG_VERSION"),
            connected: self.connected.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            backing: b.settings().backing,
            window: b.mapper().stats(),
            released_pages: b.service().tracker.released_count(),
            media: dev.media().stats(),
            event_logs: zcxl_device::events::LogKind::ALL.map(|k| dev.events().counters(k)),
            queues: b
                .counters()
                .iter()
                .enumerate()
                .map(|(i, c)| c.snapshot(names(i)))
                .collect(),
            scanner: self
                .scanner
                .as_ref()
                .map_or(ScannerStats::default(), |s| s.stats()),
        }
    }

    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Stops everything: wakes the accept calls and ends the session.
    pub fn request_shutdown(&self) {
        // Only the first request touches the fds: later ones may come after
        // the threads that owned them ended and the numbers were reused.
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        for &fd in self.listeners.lock().iter() {
            // SAFETY: shutdown() on a listening socket we own wakes threads
            // blocked in accept() on it; the fd stays open until the
            // daemon's final cleanup, after every such thread has ended.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        }
        if let Some(h) = self.session.lock().as_ref() {
            h.shutdown();
        }
    }
}

/// Builds the device model the daemon serves.
pub fn build_device(cfg: &Config) -> Result<Device, Error> {
    let mut dc = DeviceConfig::new(cfg.capacity, cfg.media);
    dc.identity = Identity::virtio(cfg.virtio_id, cfg.serial);
    dc.policy = cfg.policy;
    dc.watermarks = cfg.watermarks;
    dc.lsa_bytes = LSA_BYTES;
    Ok(match &cfg.lsa {
        Some(path) => {
            let labels = FileLabels::open(path, LSA_BYTES).map_err(|source| Error::Labels {
                path: path.clone(),
                source,
            })?;
            Device::with_labels(dc, Box::new(labels))?
        }
        None => Device::new(dc)?,
    })
}

/// Builds the back-end (device, window, tracker) for `cfg`.
pub fn build_backend(cfg: &Config) -> Result<Arc<ZcxlBackend>, Error> {
    let device = Arc::new(build_device(cfg)?);
    let window = Arc::new(Window::new(cfg.capacity).map_err(|source| Error::Window {
        len: cfg.capacity,
        source,
    })?);
    let tracker = Arc::new(PageTracker::new(
        cfg.capacity / zcxl_device::PAGE_SIZE as u64,
    ));
    let settings = VirtioSettings {
        data_queues: cfg.queues,
        queue_size: cfg.queue_size,
        backing: cfg.backing,
        scan_interval_ms: cfg.scan_interval_ms,
    };
    let backend =
        ZcxlBackend::new(settings, device, window, tracker).map_err(|source| Error::Io {
            what: "starting the back-end",
            source,
        })?;
    Ok(Arc::new(backend))
}

/// Binds a Unix socket at `path` with `mode`, refusing a path that a live
/// process listens on or that is not a socket; a stale socket is replaced.
pub fn bind_socket(path: &Path, mode: u32) -> Result<UnixListener, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(Error::SocketInUse(path.to_owned()));
            }
            // Nobody listens: a leftover of a daemon that died.
            std::fs::remove_file(path).map_err(|source| Error::Listen {
                path: path.to_owned(),
                source,
            })?;
        }
        Ok(_) => return Err(Error::NotASocket(path.to_owned())),
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(|source| Error::Listen {
        path: path.to_owned(),
        source,
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        Error::Listen {
            path: path.to_owned(),
            source,
        }
    })?;
    Ok(listener)
}

/// Blocks SIGINT and SIGTERM in the calling thread, so that threads it
/// spawns afterwards inherit the mask, and returns the set.
fn block_signals() -> Result<libc::sigset_t, Error> {
    // SAFETY: sigset_t is plain data; sigemptyset/sigaddset initialise it.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        set
    };
    // SAFETY: changes only this thread's signal mask, with a valid set.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(Error::Io {
            what: "blocking SIGINT/SIGTERM",
            source: std::io::Error::from_raw_os_error(rc),
        });
    }
    Ok(set)
}

/// Waits for one of the signals in `set`.
fn wait_for_signal(set: &libc::sigset_t) -> i32 {
    loop {
        let mut sig = 0;
        // SAFETY: waits for one of the blocked signals in `set`; `sig` is a
        // valid out-pointer.
        if unsafe { libc::sigwait(set, &mut sig) } == 0 {
            return sig;
        }
    }
}

/// Writes the stats file atomically (temporary file + rename), 0600.
pub fn write_stats(path: &Path, stats: &Stats) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    serde_json::to_writer_pretty(&mut f, stats)?;
    f.write_all(b"\n")?;
    std::fs::rename(&tmp, path)
}

/// Sleeps up to `total`, returning early once shutdown is requested.
fn nap(rt: &Runtime, total: Duration) {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !rt.shutting_down() && !left.is_zero() {
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
}

fn spawn_stats_writer(rt: Arc<Runtime>, path: PathBuf, every: Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("zcxl-stats".into())
        .spawn(move || {
            while !rt.shutting_down() {
                if let Err(e) = write_stats(&path, &rt.stats()) {
                    tracing::warn!("writing {}: {e}", path.display());
                }
                nap(&rt, every);
            }
        })?;
    Ok(())
}

fn spawn_control(rt: Arc<Runtime>, listener: UnixListener) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("zcxl-control".into())
        .spawn(move || {
            for conn in listener.incoming() {
                if rt.shutting_down() {
                    return;
                }
                let Ok(mut conn) = conn else {
                    if rt.shutting_down() {
                        return;
                    }
                    continue;
                };
                let body = serde_json::to_vec_pretty(&rt.stats()).unwrap_or_default();
                if let Err(e) = conn.write_all(&body).and_then(|_| conn.write_all(b"\n")) {
                    tracing::debug!("stats client went away: {e}");
                }
            }
        })?;
    Ok(())
}

/// `zcxl-vhost stats`: asks a running daemon for its statistics.
pub fn query_stats(socket: &Path) -> Result<String, Error> {
    let path = control_path(socket);
    let err = |source| Error::Control {
        path: path.clone(),
        source,
    };
    let mut conn = UnixStream::connect(&path).map_err(err)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(err)?;
    let mut out = String::new();
    conn.read_to_string(&mut out).map_err(err)?;
    Ok(out)
}

/// A daemon running in this process.
pub struct Handle {
    rt: Arc<Runtime>,
    thread: Option<std::thread::JoinHandle<Result<(), Error>>>,
    cfg: Config,
}

impl Handle {
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }

    /// Stops the daemon and waits for it; removes its sockets.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.rt.request_shutdown();
        self.finish()
    }

    fn finish(&mut self) -> Result<(), Error> {
        let result = match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::VhostUser("the serving thread panicked".into())),
            None => Ok(()),
        };
        let _ = std::fs::remove_file(&self.cfg.socket_path);
        let _ = std::fs::remove_file(control_path(&self.cfg.socket_path));
        if let Some(path) = &self.cfg.stats {
            if let Err(e) = write_stats(path, &self.rt.stats()) {
                tracing::warn!("writing {}: {e}", path.display());
            }
        }
        result
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.rt.request_shutdown();
            let _ = self.finish();
        }
    }
}

/// Builds everything, binds the sockets and starts serving on a thread.
/// Errors in the configuration or the sockets are returned here.
pub fn spawn(cfg: Config) -> Result<Handle, Error> {
    let backend = build_backend(&cfg)?;
    let socket = bind_socket(&cfg.socket_path, cfg.socket_mode)?;
    let control = match bind_socket(&control_path(&cfg.socket_path), 0o600) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&cfg.socket_path);
            return Err(e);
        }
    };
    let scanner = (cfg.scan_interval_ms > 0).then(|| {
        Arc::new(Scanner::new(
            backend.clone(),
            Duration::from_millis(u64::from(cfg.scan_interval_ms)),
        ))
    });
    let rt = Arc::new(Runtime {
        backend,
        scanner: scanner.clone(),
        connected: AtomicBool::new(false),
        connections: AtomicU64::new(0),
        shutdown: AtomicBool::new(false),
        session: Mutex::new(None),
        listeners: Mutex::new(vec![socket.as_raw_fd(), control.as_raw_fd()]),
    });
    let (rt2, cfg2) = (rt.clone(), cfg.clone());
    let thread = std::thread::Builder::new()
        .name("zcxl-serve".into())
        .spawn(move || serve(&cfg2, &rt2, socket, control, scanner))
        .map_err(|source| Error::Io {
            what: "starting the serving thread",
            source,
        })?;
    Ok(Handle {
        rt,
        thread: Some(thread),
        cfg,
    })
}

/// Runs the daemon until SIGINT/SIGTERM.
pub fn run(cfg: Config) -> Result<(), Error> {
    // SAFETY: umask only changes this process's file creation mask. Files
    // and sockets we create are owner-only unless asked otherwise.
    unsafe { libc::umask(0o077) };
    let set = block_signals()?;
    let handle = spawn(cfg)?;
    let rt = handle.runtime().clone();
    std::thread::Builder::new()
        .name("zcxl-signals".into())
        .spawn(move || {
            let sig = wait_for_signal(&set);
            tracing::info!(signal = sig, "shutting down");
            rt.request_shutdown();
        })
        .map_err(|source| Error::Io {
            what: "starting the signal thread",
            source,
        })?;
    let mut handle = handle;
    handle.finish()
}

fn serve(
    cfg: &Config,
    rt: &Arc<Runtime>,
    socket: UnixListener,
    control: UnixListener,
    scanner: Option<Arc<Scanner>>,
) -> Result<(), Error> {
    let io = |what| move |source| Error::Io { what, source };
    spawn_control(rt.clone(), control).map_err(io("starting the control thread"))?;
    if let Some(path) = &cfg.stats {
        write_stats(path, &rt.stats()).map_err(|source| Error::StatsFile {
            path: path.clone(),
            source,
        })?;
        spawn_stats_writer(
            rt.clone(),
            path.clone(),
            Duration::from_millis(cfg.stats_interval_ms),
        )
        .map_err(io("starting the stats thread"))?;
    }
    if let Some(s) = scanner {
        let rt2 = rt.clone();
        std::thread::Builder::new()
            .name("zcxl-scanner".into())
            .spawn(move || s.run(|| rt2.shutting_down()))
            .map_err(io("starting the scanner"))?;
    }
    println!("zcxl-vhost listening on {}", cfg.socket_path.display());
    println!("QEMU: {}", cfg.qemu_fragment());
    println!("      {}", cfg.memory_hint());
    let mut listener = Listener::from(socket);
    let backend = &rt.backend;
    while !rt.shutting_down() {
        let mem = GuestMemoryAtomic::new(GuestMemoryMmap::new());
        let mut daemon = VhostUserDaemon::new("zcxl-vhost".into(), backend.clone(), mem)
            .map_err(|e| Error::VhostUser(e.to_string()))?;
        if let Some(h) = daemon.get_epoll_handlers().first() {
            h.register_listener(
                backend.wake_fd().as_raw_fd(),
                EventSet::IN,
                u64::from(backend.wake_event()),
            )
            .map_err(io("watching the event-queue wake-up"))?;
        }
        if let Err(e) = daemon.start(&mut listener) {
            if rt.shutting_down() {
                break;
            }
            tracing::error!("accepting a front-end: {e}");
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        rt.connections.fetch_add(1, Ordering::Relaxed);
        rt.connected.store(true, Ordering::Relaxed);
        *rt.session.lock() = daemon.shutdown_handle();
        tracing::info!("front-end connected");
        if rt.shutting_down() {
            daemon.request_shutdown();
        }
        match daemon.wait() {
            Ok(()) => tracing::info!("front-end disconnected"),
            Err(e) => tracing::info!("front-end connection ended: {e}"),
        }
        *rt.session.lock() = None;
        // Dropping the daemon stops and joins its worker threads; a
        // request still running ends at its next page.
        backend.abandon_requests();
        drop(daemon);
        backend.disconnected();
        rt.connected.store(false, Ordering::Release);
    }
    Ok(())
}
