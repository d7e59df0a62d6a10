//! The guest's swap disk: a raw image the runner hands to QEMU as a
//! virtio-blk drive, so zswap has a swap device to sit in front of (the
//! issue-6 checks and the demo push pages out through it).
//!
//! The image lives under `target/vm/run/` (build output, never in the
//! repository) and is made fresh, sparse and empty for every boot: the guest
//! runs `mkswap` on it.

use anyhow::{Context, Result};
use std::path::Path;

/// Size of the image. The checks need at least 512 MiB; sparse, so it costs
/// only what the guest writes.
pub const SIZE_MIB: u64 = 1024;
const _: () = assert!(SIZE_MIB >= 512, "the checks need at least 512 MiB");

/// The guest's name for the disk: the only virtio-blk device it has.
pub const GUEST_DEVICE: &str = "/dev/vda";

/// Create (or empty) the image at `path`.
pub fn create(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.set_len(SIZE_MIB << 20)
        .with_context(|| format!("sizing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_is_fresh_and_big_enough_every_time() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run/swap.img");
        create(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), SIZE_MIB << 20);
        std::fs::write(&p, b"old swap signature").unwrap();
        create(&p).unwrap();
        let again = std::fs::read(&p).unwrap();
        assert_eq!(again.len() as u64, SIZE_MIB << 20);
        assert!(again.iter().all(|&b| b == 0), "a new boot starts empty");
    }
}
