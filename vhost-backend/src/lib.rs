//! `zcxl-vhost`: the vhost-user back-end that presents the `zcxl-device`
//! model to QEMU as a virtio device (specs/virtio.md).
//!
//! Layout, after rust-vmm's vhost-device daemons: [`cli`] (arguments,
//! validation, errors), [`daemon`] (socket, connections, signals),
//! [`vhu_zcxl`] (the `VhostUserBackend`), [`queues`] (one request of each
//! queue), [`virtio_zcxl`] (wire formats), [`chain`] (descriptor chains),
//! [`hints`] (page hints on device and window), [`window`] (the memfd
//! window), [`mapper`] (SHMEM_MAP), [`tracker`] and [`scanner`] (pages
//! changed without hints), [`stats`].

pub mod chain;
pub mod cli;
pub mod daemon;
pub mod hints;
pub mod mapper;
pub mod queues;
pub mod scanner;
pub mod stats;
pub mod tracker;
pub mod vhu_zcxl;
pub mod virtio_zcxl;
pub mod window;
