//! One descriptor chain as the device sees it: a device-readable part
//! followed by a device-writable part, with every way a guest can get that
//! wrong turned into a value instead of a panic.

use std::ops::Deref;
use virtio_queue::DescriptorChain;
use vm_memory::{Bytes, GuestAddress, GuestMemory};

/// One descriptor's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub addr: GuestAddress,
    pub len: u32,
}

/// What is wrong with a chain's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("a device-readable descriptor follows a device-writable one")]
    ReadableAfterWritable,
    #[error("the readable part is longer than the {0} bytes this queue accepts")]
    TooLong(usize),
    #[error("a buffer lies outside guest memory")]
    Memory,
}

/// The buffers of one chain, in order.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub head: u16,
    pub readable: Vec<Segment>,
    pub writable: Vec<Segment>,
    /// Set when the chain's shape is wrong; the buffers collected so far
    /// are kept so the device can still report an error into them.
    pub shape_error: Option<ChainError>,
}

impl Chain {
    /// Walks `chain`. The walk itself is bounded by the queue size and ends
    /// at an unreadable or malformed descriptor (virtio-queue's iterator
    /// handles loops and bad indirect tables that way).
    pub fn collect<M>(chain: DescriptorChain<M>) -> Self
    where
        M: Deref,
        M::Target: GuestMemory,
    {
        let mut out = Chain {
            head: chain.head_index(),
            ..Default::default()
        };
        for desc in chain {
            let seg = Segment {
                addr: desc.addr(),
                len: desc.len(),
            };
            if desc.is_write_only() {
                out.writable.push(seg);
            } else if out.writable.is_empty() {
                out.readable.push(seg);
            } else {
                out.shape_error
                    .get_or_insert(ChainError::ReadableAfterWritable);
            }
        }
        out
    }

    pub fn readable_len(&self) -> u64 {
        self.readable.iter().map(|s| u64::from(s.len)).sum()
    }

    pub fn writable_len(&self) -> u64 {
        self.writable.iter().map(|s| u64::from(s.len)).sum()
    }

    /// Reads the whole readable part, refusing more than `limit` bytes.
    pub fn read<M: GuestMemory>(&self, mem: &M, limit: usize) -> Result<Vec<u8>, ChainError> {
        let total = self.readable_len();
        if total > limit as u64 {
            return Err(ChainError::TooLong(limit));
        }
        let mut out = vec![0u8; total as usize];
        let mut at = 0usize;
        for seg in &self.readable {
            let len = seg.len as usize;
            mem.read_slice(&mut out[at..at + len], seg.addr)
                .map_err(|_| ChainError::Memory)?;
            at += len;
        }
        Ok(out)
    }

    /// Reads at most `max` bytes from the start of the readable part.
    pub fn read_prefix<M: GuestMemory>(&self, mem: &M, max: usize) -> Result<Vec<u8>, ChainError> {
        let mut out = Vec::with_capacity(max.min(self.readable_len() as usize));
        for seg in &self.readable {
            let room = max - out.len();
            if room == 0 {
                break;
            }
            let n = room.min(seg.len as usize);
            let at = out.len();
            out.resize(at + n, 0);
            mem.read_slice(&mut out[at..], seg.addr)
                .map_err(|_| ChainError::Memory)?;
        }
        Ok(out)
    }

    /// Writes `data` across the writable part, cut to what fits. Returns
    /// the number of bytes written.
    pub fn write<M: GuestMemory>(&self, mem: &M, data: &[u8]) -> Result<u32, ChainError> {
        let mut rest = data;
        let mut written = 0u32;
        for seg in &self.writable {
            if rest.is_empty() {
                break;
            }
            let n = rest.len().min(seg.len as usize);
            mem.write_slice(&rest[..n], seg.addr)
                .map_err(|_| ChainError::Memory)?;
            rest = &rest[n..];
            // n <= seg.len, and the sum of segment lengths fits in u32
            // (virtio-queue stops a chain whose lengths overflow it).
            written += n as u32;
        }
        Ok(written)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds descriptor chains in mock guest memory.

    use virtio_queue::desc::{split::Descriptor as SplitDescriptor, RawDescriptor};
    use virtio_queue::mock::MockSplitQueue;
    use virtio_queue::{Queue, QueueT};
    use vm_memory::{GuestAddress, GuestMemoryMmap};

    pub const VRING_DESC_F_NEXT: u16 = 1;
    pub const VRING_DESC_F_WRITE: u16 = 2;

    /// Guest memory of 1 MiB at 0 with a queue of 16 at 0x1000; buffers
    /// go from 0x10000 on.
    pub fn memory() -> GuestMemoryMmap<()> {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap()
    }

    /// Puts `descs` (chained by the caller's flags/next) in the table at
    /// index 0, makes one available chain starting at 0, and returns the
    /// queue ready to pop it.
    pub fn queue_with(mem: &GuestMemoryMmap<()>, descs: &[(u64, u32, u16, u16)]) -> Queue {
        let vq = MockSplitQueue::new(mem, 16);
        for (i, &(addr, len, flags, next)) in descs.iter().enumerate() {
            let d = RawDescriptor::from(SplitDescriptor::new(addr, len, flags, next));
            vq.desc_table().store(i as u16, d).unwrap();
        }
        vq.avail().ring().ref_at(0).unwrap().store(0);
        vq.avail().idx().store(1);
        vq.create_queue().unwrap()
    }

    pub fn pop(q: &mut Queue, mem: &GuestMemoryMmap<()>) -> super::Chain {
        let c = q.pop_descriptor_chain(mem).unwrap();
        super::Chain::collect(c)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn splits_readable_and_writable_parts() {
        let mem = memory();
        mem.write_slice(b"hello", GuestAddress(0x10000)).unwrap();
        let mut q = queue_with(
            &mem,
            &[
                (0x10000, 3, VRING_DESC_F_NEXT, 1),
                (0x10003, 2, VRING_DESC_F_NEXT, 2),
                (0x20000, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3),
                (0x30000, 4, VRING_DESC_F_WRITE, 0),
            ],
        );
        let c = pop(&mut q, &mem);
        assert_eq!(c.shape_error, None);
        assert_eq!(c.readable_len(), 5);
        assert_eq!(c.writable_len(), 8);
        assert_eq!(c.read(&mem, 5).unwrap(), b"hello");
        assert_eq!(c.read(&mem, 4), Err(ChainError::TooLong(4)));
        assert_eq!(c.write(&mem, b"abcdefghij").unwrap(), 8);
        let mut got = [0u8; 4];
        mem.read_slice(&mut got, GuestAddress(0x30000)).unwrap();
        assert_eq!(&got, b"efgh");
    }

    #[test]
    fn wrong_direction_loops_and_bad_addresses_are_values() {
        let mem = memory();
        // Readable after writable.
        let mut q = queue_with(
            &mem,
            &[
                (0x20000, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1),
                (0x10000, 4, VRING_DESC_F_NEXT, 2),
                (0x20010, 4, VRING_DESC_F_WRITE, 0),
            ],
        );
        let c = pop(&mut q, &mem);
        assert_eq!(c.shape_error, Some(ChainError::ReadableAfterWritable));
        assert_eq!(c.writable.len(), 2);

        // A loop ends after queue-size descriptors.
        let mut q = queue_with(
            &mem,
            &[
                (0x10000, 1, VRING_DESC_F_NEXT, 1),
                (0x10000, 1, VRING_DESC_F_NEXT, 0),
            ],
        );
        let c = pop(&mut q, &mem);
        assert_eq!(c.readable.len(), 16);

        // A buffer outside guest memory.
        let mut q = queue_with(&mem, &[(1 << 40, 8, 0, 0)]);
        let c = pop(&mut q, &mem);
        assert_eq!(c.read(&mem, 64), Err(ChainError::Memory));
    }
}
