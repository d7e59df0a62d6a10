//! The HDM window: one memfd of L bytes that QEMU maps into the guest
//! (shared memory region 0) and that the daemon maps too, to read pages the
//! guest wrote and to restore pages it released.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use vm_memory::mmap::{MmapRegion, MmapRegionBuilder};
use vm_memory::{FileOffset, VolatileMemory};
use zcxl_device::{Page, PAGE_SIZE};

const PAGE: u64 = PAGE_SIZE as u64;

/// The window's memfd and the daemon's own mapping of it.
pub struct Window {
    file: File,
    map: MmapRegion<()>,
    len: u64,
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window").field("len", &self.len).finish()
    }
}

impl Window {
    /// A memfd of `len` bytes (all holes), mapped shared.
    pub fn new(len: u64) -> io::Result<Self> {
        // SAFETY: the name is a NUL-terminated literal; memfd_create only
        // reads it.
        let fd = unsafe { libc::memfd_create(c"zcxl-window".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just created and is owned by nobody else.
        let file = unsafe { File::from_raw_fd(fd) };
        file.set_len(len)?;
        let map = MmapRegionBuilder::new_with_bitmap(len as usize, ())
            .with_file_offset(FileOffset::new(file.try_clone()?, 0))
            .with_mmap_prot(libc::PROT_READ | libc::PROT_WRITE)
            .with_mmap_flags(libc::MAP_SHARED | libc::MAP_NORESERVE)
            .build()
            .map_err(|e| io::Error::other(format!("mapping the window: {e}")))?;
        Ok(Self { file, map, len })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The memfd QEMU maps.
    pub fn file(&self) -> &File {
        &self.file
    }

    fn check(&self, dpa: u64, len: u64) -> io::Result<()> {
        if dpa % PAGE != 0 || len % PAGE != 0 || dpa.checked_add(len).is_none_or(|e| e > self.len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("window range {dpa:#x}+{len:#x} is misaligned or outside the window"),
            ));
        }
        Ok(())
    }

    /// Copies the page at `dpa` out of the window.
    pub fn read_page(&self, dpa: u64, out: &mut Page) -> io::Result<()> {
        self.check(dpa, PAGE)?;
        let slice = self
            .map
            .get_slice(dpa as usize, PAGE_SIZE)
            .map_err(|e| io::Error::other(e.to_string()))?;
        slice.copy_to(&mut out[..]);
        Ok(())
    }

    /// Copies `data` into the page at `dpa`.
    pub fn write_page(&self, dpa: u64, data: &Page) -> io::Result<()> {
        self.check(dpa, PAGE)?;
        let slice = self
            .map
            .get_slice(dpa as usize, PAGE_SIZE)
            .map_err(|e| io::Error::other(e.to_string()))?;
        slice.copy_from(&data[..]);
        Ok(())
    }

    /// Releases the host memory behind `[dpa, dpa + len)`; it reads as
    /// zeros afterwards (for the guest too).
    pub fn punch(&self, dpa: u64, len: u64) -> io::Result<()> {
        self.check(dpa, len)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: fallocate only acts on the file behind the valid fd; the
        // range is inside the file (checked above).
        let rc = unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                dpa as libc::off_t,
                len as libc::off_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Empties the whole window (device reset).
    pub fn clear(&self) -> io::Result<()> {
        self.punch(0, self.len)
    }

    /// The next range at or after `from` that holds host memory, as
    /// `(start, end)`, or `None` when only holes remain.
    pub fn next_data(&self, from: u64) -> io::Result<Option<(u64, u64)>> {
        if from >= self.len {
            return Ok(None);
        }
        let start = match self.seek(from, libc::SEEK_DATA)? {
            Some(s) => s,
            None => return Ok(None),
        };
        let end = self.seek(start, libc::SEEK_HOLE)?.unwrap_or(self.len);
        Ok(Some((start, end.min(self.len))))
    }

    /// Whether the page at `dpa` holds host memory.
    pub fn page_resident(&self, dpa: u64) -> io::Result<bool> {
        self.check(dpa, PAGE)?;
        Ok(self.seek(dpa, libc::SEEK_DATA)? == Some(dpa))
    }

    fn seek(&self, offset: u64, whence: libc::c_int) -> io::Result<Option<u64>> {
        // SAFETY: lseek on a valid fd; SEEK_DATA/SEEK_HOLE do not touch
        // memory. The fd's offset is not used by anything else here (all
        // other accesses go through the mapping or take offsets).
        let r = unsafe { libc::lseek(self.file.as_raw_fd(), offset as libc::off_t, whence) };
        if r < 0 {
            let e = io::Error::last_os_error();
            // ENXIO: no data (or hole) at or after offset.
            if e.raw_os_error() == Some(libc::ENXIO) {
                return Ok(None);
            }
            return Err(e);
        }
        Ok(Some(r as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip_and_punching_frees_them() {
        let w = Window::new(1 << 20).unwrap();
        assert_eq!(w.next_data(0).unwrap(), None);
        let mut page: Box<Page> = Box::new([0x5a; PAGE_SIZE]);
        w.write_page(0x3000, &page).unwrap();
        assert!(w.page_resident(0x3000).unwrap());
        assert!(!w.page_resident(0x4000).unwrap());
        assert_eq!(w.next_data(0).unwrap(), Some((0x3000, 0x4000)));
        page.fill(0);
        w.read_page(0x3000, &mut page).unwrap();
        assert!(page.iter().all(|&b| b == 0x5a));
        w.punch(0x3000, 0x1000).unwrap();
        assert!(!w.page_resident(0x3000).unwrap());
        w.read_page(0x3000, &mut page).unwrap();
        assert!(page.iter().all(|&b| b == 0));
        assert!(w.read_page(0x100, &mut page).is_err());
        assert!(w.read_page(1 << 20, &mut page).is_err());
        assert!(w.punch(u64::MAX - 0xfff, 0x1000).is_err());
    }
}
