//! The label storage area (LSA) behind Get LSA / Set LSA.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Where the device keeps its labels.
pub trait LabelStorage: Send {
    /// Size of the area in bytes.
    fn size(&self) -> usize;
    /// Fills `buf` from `offset`; the caller keeps the range in bounds.
    fn read(&self, offset: usize, buf: &mut [u8]) -> io::Result<()>;
    /// Writes `data` at `offset`; the caller keeps the range in bounds.
    fn write(&mut self, offset: usize, data: &[u8]) -> io::Result<()>;
}

/// Labels that live as long as the process.
#[derive(Debug, Clone)]
pub struct MemoryLabels(Vec<u8>);

impl MemoryLabels {
    pub fn new(size: usize) -> Self {
        Self(vec![0; size])
    }
}

impl LabelStorage for MemoryLabels {
    fn size(&self) -> usize {
        self.0.len()
    }

    fn read(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        buf.copy_from_slice(&self.0[offset..offset + buf.len()]);
        Ok(())
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> io::Result<()> {
        self.0[offset..offset + data.len()].copy_from_slice(data);
        Ok(())
    }
}

/// Labels kept in a file, written through (and synced) on every Set LSA, so
/// they survive a restart of whatever runs the device.
#[derive(Debug)]
pub struct FileLabels {
    file: File,
    size: usize,
}

impl FileLabels {
    /// Opens `path`, creating it with `size` zero bytes if missing. An
    /// existing file must have exactly `size` bytes: a different size means
    /// it belongs to another configuration, and silently resizing it would
    /// lose or invent labels.
    pub fn open(path: &Path, size: usize) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            file.set_len(size as u64)?;
        } else if len != size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "label file {} has {len} bytes but the label area is {size} bytes",
                    path.display()
                ),
            ));
        }
        Ok(Self { file, size })
    }
}

impl LabelStorage for FileLabels {
    fn size(&self) -> usize {
        self.size
    }

    fn read(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset as u64)
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset as u64)?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_labels_persist_and_refuse_a_size_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lsa");
        {
            let mut l = FileLabels::open(&path, 1024).unwrap();
            l.write(1000, b"label!").unwrap();
        }
        let l = FileLabels::open(&path, 1024).unwrap();
        let mut buf = [0u8; 6];
        l.read(1000, &mut buf).unwrap();
        assert_eq!(&buf, b"label!");
        let err = FileLabels::open(&path, 2048).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn memory_labels_round_trip() {
        let mut l = MemoryLabels::new(16);
        l.write(4, &[1, 2, 3]).unwrap();
        let mut buf = [9u8; 5];
        l.read(3, &mut buf).unwrap();
        assert_eq!(buf, [0, 1, 2, 3, 0]);
    }
}
