//! Turns fuzz input into one descriptor chain in guest memory, the way a
//! hostile driver would lay it out: descriptors with arbitrary addresses
//! (inside buffers, past the end of memory), lengths, flags (NEXT, WRITE,
//! INDIRECT) and next indices, over buffers filled with the rest of the
//! input.

use virtio_queue::desc::{split::Descriptor, RawDescriptor};
use virtio_queue::mock::MockSplitQueue;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use zcxl_vhost::chain::Chain;

pub const MEM: u64 = 1 << 20;
const BUFFERS: u64 = 0x10000;
const QUEUE: u16 = 16;

/// Guest memory and the chain the input describes.
pub fn chain_from(data: &[u8]) -> Option<(GuestMemoryMmap<()>, Chain)> {
    let (&count, rest) = data.split_first()?;
    let count = usize::from(count % 8) + 1;
    let table_len = count * 6;
    if rest.len() < table_len {
        return None;
    }
    let (table, payload) = rest.split_at(table_len);
    let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEM as usize)]).ok()?;
    mem.write_slice(
        &payload[..payload.len().min((MEM - BUFFERS) as usize)],
        GuestAddress(BUFFERS),
    )
    .ok()?;
    let vq = MockSplitQueue::new(&mem, QUEUE);
    for (i, d) in table.chunks_exact(6).enumerate() {
        // Address: mostly inside the buffer area, sometimes far outside.
        let addr = if d[0] == 0xff {
            1u64 << 40
        } else {
            BUFFERS + u64::from(d[0]) * 64
        };
        let len = u32::from(u16::from_le_bytes([d[1], d[2]])) << (d[3] >> 6);
        let flags = u16::from(d[3] & 0x7);
        let next = u16::from(d[4]) % QUEUE;
        let desc = RawDescriptor::from(Descriptor::new(addr, len, flags, next));
        vq.desc_table().store(i as u16, desc).ok()?;
    }
    vq.avail().ring().ref_at(0).ok()?.store(0);
    vq.avail().idx().store(1);
    let mut q: Queue = vq.create_queue().ok()?;
    let chain = q.pop_descriptor_chain(&mem)?;
    let chain = Chain::collect(chain);
    Some((mem, chain))
}
