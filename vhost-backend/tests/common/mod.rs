//! An in-process vhost-user front-end (rust-vmm `vhost`'s front-end side)
//! and a minimal split-ring virtio driver, so the daemon can be driven over
//! a real socket without QEMU.

#![allow(dead_code)]

use clap::Parser;
use parking_lot::Mutex;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vhost::vhost_user::message::{
    VhostUserConfigFlags, VhostUserMMap, VhostUserProtocolFeatures, VhostUserVirtioFeatures,
};
use vhost::vhost_user::{
    Frontend, FrontendReqHandler, HandlerResult, VhostUserFrontend, VhostUserFrontendReqHandler,
};
use vhost::{VhostBackend, VhostUserMemoryRegionInfo, VringConfigData};
use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, MmapRegion};
use vmm_sys_util::eventfd::EventFd;
use zcxl_vhost::cli::Cli;
use zcxl_vhost::daemon::{self, Handle};

pub const RAM: u64 = 16 << 20;
pub const QSIZE: u16 = 64;
/// Guest-physical layout: rings from 0, buffers from 1 MiB.
const RINGS: u64 = 0;
const RING_STRIDE: u64 = 0x4000;
const BUFFERS: u64 = 1 << 20;

pub const F_NEXT: u16 = 1;
pub const F_WRITE: u16 = 2;

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Starts a daemon with the given extra arguments on `dir/zcxl.sock`.
pub fn start_daemon(dir: &tempfile::TempDir, extra: &[&str]) -> Handle {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let sock = dir.path().join("zcxl.sock");
    let mut args = vec![
        "zcxl-vhost".to_string(),
        "-s".into(),
        sock.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let cli = Cli::try_parse_from(args).unwrap();
    daemon::spawn(cli.daemon.validate().unwrap()).unwrap()
}

fn memfd(name: &str, len: u64) -> File {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid NUL-terminated name.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: fd is new and owned by us.
    let f = unsafe { File::from_raw_fd(fd) };
    f.set_len(len).unwrap();
    f
}

/// What the front-end was asked to map, and the window as the guest sees
/// it (our own mapping of the fd the daemon sent).
#[derive(Default)]
pub struct ShmemRecorder {
    pub maps: Mutex<Vec<(u64, u64, u64)>>,
    pub unmaps: Mutex<Vec<u64>>,
    pub window: Mutex<Option<Arc<MmapRegion>>>,
}

impl VhostUserFrontendReqHandler for ShmemRecorder {
    fn shmem_map(&self, req: &VhostUserMMap, fd: &dyn AsRawFd) -> HandlerResult<u64> {
        let (off, len, flags) = (req.shm_offset, req.len, req.flags);
        let mut maps = self.maps.lock();
        if maps.iter().any(|&(o, _, _)| o == off) {
            return Err(std::io::Error::other(
                "VIRTIO Shared Memory mapping overlap",
            ));
        }
        maps.push((off, len, flags));
        let mut w = self.window.lock();
        if w.is_none() {
            // SAFETY: dup of a valid fd we were handed.
            let file = unsafe { File::from_raw_fd(libc::dup(fd.as_raw_fd())) };
            let size = file.metadata().unwrap().len() as usize;
            *w = Some(Arc::new(
                MmapRegion::build(
                    Some(FileOffset::new(file, 0)),
                    size,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                )
                .unwrap(),
            ));
        }
        Ok(0)
    }

    fn shmem_unmap(&self, req: &VhostUserMMap) -> HandlerResult<u64> {
        let off = req.shm_offset;
        let mut maps = self.maps.lock();
        let before = maps.len();
        maps.retain(|&(o, _, _)| o != off);
        if maps.len() == before {
            return Err(std::io::Error::other("not found"));
        }
        self.unmaps.lock().push(off);
        Ok(0)
    }
}

/// One split virtqueue driven by the test.
pub struct Vq {
    pub index: usize,
    desc: u64,
    avail: u64,
    used: u64,
    next_desc: u16,
    avail_idx: u16,
    last_used: u16,
    pub kick: EventFd,
    pub call: EventFd,
}

/// A descriptor for [`Guest::submit`]: an address and length in guest
/// memory and whether the device writes it.
#[derive(Debug, Clone, Copy)]
pub struct Buf {
    pub addr: u64,
    pub len: u32,
    pub write: bool,
}

pub struct Guest {
    pub fe: Frontend,
    pub mem: GuestMemoryMmap<()>,
    _ram: File,
    pub shm: Arc<ShmemRecorder>,
    pub vqs: Vec<Vq>,
    next_buf: u64,
    pub socket: PathBuf,
}

impl Guest {
    /// Connects and negotiates, without starting the device.
    pub fn connect(socket: &Path, queues: usize) -> Self {
        Self::connect_with(socket, queues, 0)
    }

    /// As [`Guest::connect`], also acking the virtio feature bits `extra`
    /// (which the device must offer).
    pub fn connect_with(socket: &Path, queues: usize, extra: u64) -> Self {
        let mut fe = None;
        let t = Instant::now();
        while fe.is_none() {
            match Frontend::connect(socket, queues as u64) {
                Ok(f) => fe = Some(f),
                Err(e) => {
                    assert!(t.elapsed() < Duration::from_secs(5), "connect: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        let mut fe = fe.unwrap();
        fe.set_owner().unwrap();
        let features = fe.get_features().unwrap();
        assert!(features & (1 << 32) != 0, "VERSION_1");
        assert_eq!(features & extra, extra, "features offered");
        fe.set_features((1 << 32) | extra | VhostUserVirtioFeatures::PROTOCOL_FEATURES.bits())
            .unwrap();
        let pf = fe.get_protocol_features().unwrap();
        for want in [
            VhostUserProtocolFeatures::CONFIG,
            VhostUserProtocolFeatures::MQ,
            VhostUserProtocolFeatures::BACKEND_REQ,
            VhostUserProtocolFeatures::BACKEND_SEND_FD,
            VhostUserProtocolFeatures::REPLY_ACK,
            VhostUserProtocolFeatures::SHMEM,
        ] {
            assert!(pf.contains(want), "{want:?} offered");
        }
        fe.set_protocol_features(pf).unwrap();
        assert_eq!(fe.get_queue_num().unwrap(), queues as u64);

        let shm = Arc::new(ShmemRecorder::default());
        let mut handler = FrontendReqHandler::new(shm.clone()).unwrap();
        handler.set_reply_ack_flag(true);
        fe.set_backend_request_fd(&handler.get_tx_raw_fd()).unwrap();
        // A refused request is answered and the channel stays up.
        std::thread::spawn(move || {
            while let Ok(_) | Err(vhost::vhost_user::Error::ReqHandlerError(_)) =
                handler.handle_request()
            {}
        });

        let ram = memfd("guest-ram", RAM);
        let mem = GuestMemoryMmap::from_ranges_with_files(&[(
            GuestAddress(0),
            RAM as usize,
            Some(FileOffset::new(ram.try_clone().unwrap(), 0)),
        )])
        .unwrap();
        let vqs = (0..queues)
            .map(|i| {
                let base = RINGS + i as u64 * RING_STRIDE;
                Vq {
                    index: i,
                    desc: base,
                    avail: base + 16 * u64::from(QSIZE),
                    used: base + 0x2000,
                    next_desc: 0,
                    avail_idx: 0,
                    last_used: 0,
                    kick: EventFd::new(0).unwrap(),
                    call: EventFd::new(0).unwrap(),
                }
            })
            .collect();
        Guest {
            fe,
            mem,
            _ram: ram,
            shm,
            vqs,
            next_buf: BUFFERS,
            socket: socket.to_owned(),
        }
    }

    pub fn config(&mut self) -> Vec<u8> {
        let (_, buf) = self
            .fe
            .get_config(0, 64, VhostUserConfigFlags::WRITABLE, &[0; 64])
            .unwrap();
        buf
    }

    /// What QEMU does after DRIVER_OK: memory table, then every vring.
    pub fn start(&mut self) {
        let host = self.mem.get_host_address(GuestAddress(0)).unwrap() as u64;
        let region = VhostUserMemoryRegionInfo {
            guest_phys_addr: 0,
            memory_size: RAM,
            userspace_addr: host,
            mmap_offset: 0,
            mmap_handle: self._ram.as_raw_fd(),
        };
        self.fe.set_mem_table(&[region]).unwrap();
        for vq in &mut self.vqs {
            vq.next_desc = 0;
            vq.avail_idx = 0;
            vq.last_used = 0;
            // Fresh rings.
            self.mem
                .write_slice(&[0u8; RING_STRIDE as usize], GuestAddress(vq.desc))
                .unwrap();
            self.fe.set_vring_num(vq.index, QSIZE).unwrap();
            self.fe
                .set_vring_addr(
                    vq.index,
                    &VringConfigData {
                        queue_max_size: QSIZE,
                        queue_size: QSIZE,
                        flags: 0,
                        // Ring addresses are the front-end's virtual
                        // addresses, as QEMU sends them.
                        desc_table_addr: host + vq.desc,
                        used_ring_addr: host + vq.used,
                        avail_ring_addr: host + vq.avail,
                        log_addr: None,
                    },
                )
                .unwrap();
            self.fe.set_vring_base(vq.index, 0).unwrap();
            self.fe.set_vring_call(vq.index, &vq.call).unwrap();
            self.fe.set_vring_kick(vq.index, &vq.kick).unwrap();
            self.fe.set_vring_enable(vq.index, true).unwrap();
        }
    }

    /// What QEMU does when the device stops (reset or pause).
    pub fn stop(&mut self) {
        for vq in &self.vqs {
            self.fe.get_vring_base(vq.index).unwrap();
        }
    }

    /// Allocates `len` bytes of guest memory for buffers.
    pub fn alloc(&mut self, len: usize) -> u64 {
        let a = self.next_buf;
        self.next_buf = (a + len as u64 + 63) & !63;
        assert!(self.next_buf < RAM, "test buffer space exhausted");
        a
    }

    /// Allocates and fills a device-readable buffer.
    pub fn out_buf(&mut self, data: &[u8]) -> Buf {
        let a = self.alloc(data.len().max(1));
        self.mem.write_slice(data, GuestAddress(a)).unwrap();
        Buf {
            addr: a,
            len: data.len() as u32,
            write: false,
        }
    }

    /// Allocates a zeroed device-writable buffer.
    pub fn in_buf(&mut self, len: usize) -> Buf {
        let a = self.alloc(len.max(1));
        self.mem
            .write_slice(&vec![0u8; len], GuestAddress(a))
            .unwrap();
        Buf {
            addr: a,
            len: len as u32,
            write: true,
        }
    }

    /// Writes raw descriptors (addr, len, flags, next) at table slots
    /// starting at the queue's next free slot and makes the first one
    /// available; `next` values are relative to that first slot.
    pub fn submit_raw(&mut self, q: usize, descs: &[(u64, u32, u16, u16)]) {
        let vq = &mut self.vqs[q];
        let first = vq.next_desc;
        for (i, &(addr, len, flags, next)) in descs.iter().enumerate() {
            let slot = (first + i as u16) % QSIZE;
            let at = vq.desc + 16 * u64::from(slot);
            let next = (first + next) % QSIZE;
            self.mem.write_obj(addr, GuestAddress(at)).unwrap();
            self.mem.write_obj(len, GuestAddress(at + 8)).unwrap();
            self.mem.write_obj(flags, GuestAddress(at + 12)).unwrap();
            self.mem.write_obj(next, GuestAddress(at + 14)).unwrap();
        }
        vq.next_desc = (first + descs.len() as u16) % QSIZE;
        let ring = vq.avail + 4 + 2 * u64::from(vq.avail_idx % QSIZE);
        self.mem.write_obj(first, GuestAddress(ring)).unwrap();
        vq.avail_idx = vq.avail_idx.wrapping_add(1);
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.mem
            .write_obj(vq.avail_idx, GuestAddress(vq.avail + 2))
            .unwrap();
        vq.kick.write(1).unwrap();
    }

    /// Submits a well-formed chain of `bufs`.
    pub fn submit(&mut self, q: usize, bufs: &[Buf]) {
        let descs: Vec<_> = bufs
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut flags = if b.write { F_WRITE } else { 0 };
                if i + 1 < bufs.len() {
                    flags |= F_NEXT;
                }
                (b.addr, b.len, flags, (i + 1) as u16)
            })
            .collect();
        self.submit_raw(q, &descs);
    }

    /// Waits for the next used entry of queue `q`: (descriptor id, length).
    pub fn wait_used(&mut self, q: usize) -> (u32, u32) {
        self.try_wait_used(q, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("queue {q}: no completion"))
    }

    pub fn try_wait_used(&mut self, q: usize, timeout: Duration) -> Option<(u32, u32)> {
        let vq = &mut self.vqs[q];
        let t = Instant::now();
        loop {
            let idx: u16 = self.mem.read_obj(GuestAddress(vq.used + 2)).unwrap();
            if idx != vq.last_used {
                let e = vq.used + 4 + 8 * u64::from(vq.last_used % QSIZE);
                let id: u32 = self.mem.read_obj(GuestAddress(e)).unwrap();
                let len: u32 = self.mem.read_obj(GuestAddress(e + 4)).unwrap();
                vq.last_used = vq.last_used.wrapping_add(1);
                return Some((id, len));
            }
            if t.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits for the next used entry of queue `q` by sleeping on its call
    /// eventfd, as a driver's interrupt handler would (no CPU spent
    /// waiting, which benchmarks that count CPU time rely on).
    pub fn wait_used_blocking(&mut self, q: usize) -> (u32, u32) {
        loop {
            if let Some(e) = self.try_wait_used(q, Duration::ZERO) {
                return e;
            }
            self.vqs[q].call.read().unwrap();
        }
    }

    pub fn read(&self, b: Buf) -> Vec<u8> {
        let mut v = vec![0u8; b.len as usize];
        self.mem.read_slice(&mut v, GuestAddress(b.addr)).unwrap();
        v
    }

    /// Sends one CCI request on the mailbox; returns the response bytes.
    pub fn cci(&mut self, request: &[u8]) -> Vec<u8> {
        let out = self.out_buf(request);
        let inb = self.in_buf(12 + 4096);
        self.submit(0, &[out, inb]);
        let (_, len) = self.wait_used(0);
        self.read(inb)[..len as usize].to_vec()
    }

    /// Sends a data request; returns the status bytes.
    pub fn data(&mut self, q: usize, request: &[u8], statuses: usize) -> Vec<u8> {
        let out = self.out_buf(request);
        let inb = self.in_buf(statuses);
        self.submit(q, &[out, inb]);
        let (_, len) = self.wait_used(q);
        self.read(inb)[..len as usize].to_vec()
    }

    /// With EVENT_IDX: the avail index past which the device wants a kick
    /// (the `avail_event` field after the used ring).
    pub fn avail_event(&self, q: usize) -> u16 {
        let vq = &self.vqs[q];
        let at = vq.used + 4 + 8 * u64::from(QSIZE);
        self.mem.read_obj(GuestAddress(at)).unwrap()
    }

    /// How many buffers the driver has made available on queue `q`.
    pub fn avail_idx(&self, q: usize) -> u16 {
        self.vqs[q].avail_idx
    }

    /// Posts an 8-byte event buffer on queue 1.
    pub fn post_event(&mut self) -> Buf {
        let b = self.in_buf(8);
        self.submit(1, &[b]);
        b
    }

    /// Posts event buffers until a report says the window is mapped.
    pub fn wait_mapped(&mut self) {
        loop {
            let b = self.post_event();
            if self.wait_event(b).1 & 1 != 0 {
                return;
            }
        }
    }

    /// Waits for an event report: (pending logs, status).
    pub fn wait_event(&mut self, b: Buf) -> (u32, u32) {
        let (_, len) = self.wait_used(1);
        assert_eq!(len, 8);
        let v = self.read(b);
        (
            u32::from_le_bytes(v[0..4].try_into().unwrap()),
            u32::from_le_bytes(v[4..8].try_into().unwrap()),
        )
    }

    /// The window as the guest sees it, once mapped.
    pub fn window(&self) -> Arc<MmapRegion> {
        wait_until(|| self.shm.window.lock().is_some());
        self.shm.window.lock().clone().unwrap()
    }

    /// Writes `data` into the guest's view of the window at `dpa`.
    pub fn write_window(&self, dpa: u64, data: &[u8]) {
        use vm_memory::VolatileMemory;
        let w = self.window();
        w.get_slice(dpa as usize, data.len())
            .unwrap()
            .copy_from(data);
    }

    pub fn read_window(&self, dpa: u64, len: usize) -> Vec<u8> {
        use vm_memory::VolatileMemory;
        let w = self.window();
        let mut v = vec![0u8; len];
        w.get_slice(dpa as usize, len).unwrap().copy_to(&mut v[..]);
        v
    }
}

pub fn wait_until(f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(10), "timed out waiting");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A CCI request message: header (tag, opcode, payload length) + payload.
pub fn cci_request(tag: u8, opcode: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8; 12];
    m[1] = tag;
    m[3..5].copy_from_slice(&opcode.to_le_bytes());
    let len = payload.len() as u32;
    m[5..8].copy_from_slice(&len.to_le_bytes()[..3]);
    m.extend_from_slice(payload);
    m
}

/// Return code of a CCI response.
pub fn cci_rc(resp: &[u8]) -> u16 {
    u16::from_le_bytes([resp[8], resp[9]])
}

/// A page of text that compresses well.
pub fn text_page(seed: u64) -> Vec<u8> {
    let words = ["memory ", "device ", "compress ", "page ", "cxl ", "node "];
    let mut v = Vec::with_capacity(4096);
    let mut k = seed as usize;
    while v.len() < 4096 {
        v.extend_from_slice(words[k % words.len()].as_bytes());
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    v.truncate(4096);
    v
}

/// A page nobody compresses.
pub fn random_page(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut v = Vec::with_capacity(4096);
    while v.len() < 4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v
}

/// A data-queue request of `op` over `(dpa, pages)` ranges.
pub fn data_request(op: zcxl_vhost::virtio_zcxl::DataOp, ranges: &[(u64, u32)]) -> Vec<u8> {
    use zcxl_vhost::virtio_zcxl::{DataRequest, PageRange};
    DataRequest {
        op,
        ranges: ranges
            .iter()
            .map(|&(dpa, pages)| PageRange { dpa, pages })
            .collect(),
    }
    .encode()
}
