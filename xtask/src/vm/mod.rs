//! The VM environment: the Debian root, QEMU, booting guests.

pub mod boot;
pub mod chroot;
pub mod console;
pub mod corpus;
pub mod daemon;
pub mod initramfs;
pub mod interactive;
pub mod qemu;
pub mod root;
pub mod swap;

use anyhow::{Context, Result};
use chroot::Bind;
use root::Root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the workspace's VM files live on the host (`<repo>/target/vm`) and
/// where the root sees them.
pub const WS_INSIDE: &str = "/zcxl/ws";

/// Which QEMU runs the guests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Qemu {
    /// The host's own, new enough: runs directly.
    Host(PathBuf),
    /// The root's, run chrooted.
    Root,
}

/// Everything a task needs to build for and boot guests.
pub struct Env {
    pub cache: PathBuf,
    pub root: Root,
    /// `<repo>/target/vm`: boot files, logs, sockets of this checkout.
    pub ws: PathBuf,
    pub qemu: Qemu,
}

impl Env {
    /// The bind that shows `ws` inside the root.
    pub fn ws_bind(&self) -> Bind {
        Bind::new(&self.ws, WS_INSIDE)
    }

    /// A host path under `ws` as QEMU sees it.
    pub fn qemu_path(&self, host: &Path) -> PathBuf {
        match self.qemu {
            Qemu::Host(_) => host.to_path_buf(),
            Qemu::Root => match host.strip_prefix(&self.ws) {
                Ok(rel) => Path::new(WS_INSIDE).join(rel),
                Err(_) => host.to_path_buf(),
            },
        }
    }

    /// A command that runs QEMU with the given arguments.
    pub fn qemu_command(&self) -> Command {
        match &self.qemu {
            Qemu::Host(bin) => Command::new(bin),
            Qemu::Root => self
                .root
                .command(&[self.ws_bind()], &[], "qemu-system-x86_64"),
        }
    }
}

/// `cargo xtask vm setup`: idempotent; prints what it uses.
pub fn setup() -> Result<Env> {
    let cache = crate::cache::cache_root();
    let root = Root::at(&cache);
    // debootstrap makes the root; unshare/mount/chroot run everything in it;
    // git swaps kernel patch series.
    root::ensure_host_tools(
        &[
            ("debootstrap", "debootstrap"),
            ("unshare", "util-linux"),
            ("mount", "mount"),
            ("chroot", "coreutils"),
            ("git", "git"),
        ],
        &cache.join("logs/host-apt.log"),
    )?;
    let first = !root.is_ready();
    if first {
        eprintln!("==> setting up the VM environment in {}", cache.display());
    }
    root.ensure()?;
    let ws = crate::cmd::workspace_root().join("target/vm");
    std::fs::create_dir_all(ws.join("run"))
        .with_context(|| format!("creating {}", ws.display()))?;
    let qemu = match host_qemu() {
        Some(bin) => Qemu::Host(bin),
        None => Qemu::Root,
    };
    if first {
        eprintln!("    Debian root: {}", root.dir.display());
        match &qemu {
            Qemu::Host(bin) => eprintln!("    QEMU: the host's {}", bin.display()),
            Qemu::Root => eprintln!("    QEMU: the root's (the host has none ≥ 11.1)"),
        }
    }
    Ok(Env {
        cache,
        root,
        ws,
        qemu,
    })
}

/// The host's qemu-system-x86_64 when it is ≥ 11.1.
fn host_qemu() -> Option<PathBuf> {
    let bin = root::find_on_path("qemu-system-x86_64")?;
    let out = Command::new(&bin).arg("--version").output().ok()?;
    let version = root::parse_qemu_version(&String::from_utf8_lossy(&out.stdout))?;
    (version >= root::MIN_QEMU).then_some(bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(qemu: Qemu) -> Env {
        Env {
            cache: "/c".into(),
            root: Root::at(Path::new("/c")),
            ws: "/work/repo/target/vm".into(),
            qemu,
        }
    }

    #[test]
    fn qemu_in_the_root_sees_the_workspace_through_its_bind() {
        let e = env(Qemu::Root);
        assert_eq!(
            e.qemu_path(Path::new("/work/repo/target/vm/boot/bzImage")),
            PathBuf::from("/zcxl/ws/boot/bzImage")
        );
        assert_eq!(e.ws_bind(), Bind::new("/work/repo/target/vm", WS_INSIDE));
        let host = env(Qemu::Host("/usr/bin/qemu-system-x86_64".into()));
        assert_eq!(
            host.qemu_path(Path::new("/work/repo/target/vm/boot/bzImage")),
            PathBuf::from("/work/repo/target/vm/boot/bzImage")
        );
    }
}
