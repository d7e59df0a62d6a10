//! `cargo xtask vm setup`: the Debian trixie root that builds the guest
//! kernel, modules and programs, and runs QEMU 11.1 when the host has no
//! QEMU that new.
//!
//! Idempotent: each stage writes a stamp when it is complete and is skipped
//! when its stamp matches the recipe; an incomplete stage is redone.

use super::chroot::{self, Bind};
use crate::progress::run_step;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the way the root is made changes: forces a fresh root.
const RECIPE_VERSION: &str = "1";
const SUITE: &str = "trixie";
const BACKPORTS: &str = "trixie-backports";

/// Installed from trixie-backports in one apt-get call: QEMU from backports
/// pulls libelf from backports, so a separate libelf-dev from trixie would
/// conflict.
pub const PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "busybox-static",
    "gcc",
    "make",
    "bc",
    "flex",
    "bison",
    "libelf-dev",
    "libssl-dev",
    "xz-utils",
    "cpio",
    "kmod",
    "perl",
    "python3",
    "ndctl",
    "numactl",
    "linux-source-7.3",
];

/// The oldest QEMU with vhost-user-test-device-pci and vhost-user shared memory.
pub const MIN_QEMU: (u32, u32) = (11, 1);

/// The Debian root, at `<cache>/root`.
pub struct Root {
    pub dir: PathBuf,
    logs: PathBuf,
}

impl Root {
    pub fn at(cache: &Path) -> Root {
        Root {
            dir: cache.join("root"),
            logs: cache.join("logs"),
        }
    }

    fn stamp(&self, name: &str) -> PathBuf {
        self.dir.join(format!(".zcxl-{name}"))
    }

    /// What the finished root must have been made from.
    fn recipe() -> String {
        format!(
            "recipe {RECIPE_VERSION}\nsuite {SUITE}\npackages {}\n",
            PACKAGES.join(" ")
        )
    }

    pub fn is_ready(&self) -> bool {
        std::fs::read_to_string(self.stamp("ready")).is_ok_and(|s| s == Self::recipe())
    }

    /// A command run chrooted in the root with the given extra binds.
    pub fn command(&self, binds: &[Bind], env: &[(&str, &str)], program: &str) -> Command {
        chroot::command(&self.dir, binds, env, program)
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.logs.join(name)
    }

    /// Make the root ready (the whole of `vm setup` except the QEMU choice).
    pub fn ensure(&self) -> Result<()> {
        if self.is_ready() {
            return Ok(());
        }
        let cache = self.dir.parent().unwrap_or(Path::new("/"));
        let _lock = crate::cache::lock(&cache.join("locks/root.lock"), "Debian root")?;
        if self.is_ready() {
            return Ok(()); // another run finished it while we waited
        }
        require_root_user()?;
        let base_stamp = format!("{RECIPE_VERSION} {SUITE}\n");
        if std::fs::read_to_string(self.stamp("debootstrap")).ok() != Some(base_stamp.clone()) {
            self.remove()?;
            self.debootstrap()?;
            std::fs::write(self.stamp("debootstrap"), &base_stamp)?;
        }
        self.add_backports()?;
        self.install_packages()?;
        std::fs::write(self.stamp("ready"), Self::recipe())?;
        Ok(())
    }

    /// Delete a partial or outdated root — never through a mount point, so a
    /// mount left on the host (e.g. /dev) is never emptied.
    fn remove(&self) -> Result<()> {
        if !self.dir.exists() {
            return Ok(());
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let inside: Vec<_> = chroot::mount_points(&mountinfo)
            .into_iter()
            .filter(|m| m.starts_with(&self.dir))
            .collect();
        if !inside.is_empty() {
            bail!(
                "the root {} must be rebuilt but has mounts inside: {}; unmount them \
                 (umount -R {}) and run again",
                self.dir.display(),
                inside
                    .iter()
                    .map(|m| m.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.dir.display()
            );
        }
        eprintln!(
            "    removing the incomplete or outdated root {}",
            self.dir.display()
        );
        crate::cmd::run(
            Command::new("rm")
                .args(["-rf", "--one-file-system"])
                .arg(&self.dir),
        )
    }

    fn debootstrap(&self) -> Result<()> {
        let mut c = Command::new("unshare");
        // In its own mount namespace, so mounts debootstrap leaves behind on
        // failure die with it.
        c.env("PATH", host_path())
            .args(["--mount", "--propagation", "private", "--", "debootstrap"])
            .args(["--variant=minbase", SUITE])
            .arg(&self.dir);
        if let Ok(mirror) = std::env::var("ZCXL_DEBIAN_MIRROR") {
            c.arg(mirror);
        }
        run_step(
            &format!("debootstrap {SUITE} (about 25 s)"),
            &mut c,
            &self.log("debootstrap.log"),
            "debootstrap needs Debian's package archive; set ZCXL_DEBIAN_MIRROR to another mirror if \
             the default one is unreachable, then run `cargo xtask vm setup` again",
        )?;
        Ok(())
    }

    /// Add the backports line, using the mirror debootstrap wrote.
    fn add_backports(&self) -> Result<()> {
        let sources = self.dir.join("etc/apt/sources.list");
        let text = std::fs::read_to_string(&sources)
            .with_context(|| format!("reading {}", sources.display()))?;
        if let Some(updated) = with_backports(&text)? {
            std::fs::write(&sources, updated)
                .with_context(|| format!("writing {}", sources.display()))?;
        }
        Ok(())
    }

    fn install_packages(&self) -> Result<()> {
        let hint = "the package install in the root failed; if the archive was unreachable run \
                    `cargo xtask vm setup` again";
        // An install cut short (a killed run) leaves dpkg half-done, and
        // apt then refuses to do anything until it is finished.
        run_step(
            "finish any interrupted package install (root)",
            self.command(&[], &[], "dpkg").args(["--configure", "-a"]),
            &self.log("apt.log"),
            hint,
        )?;
        run_step(
            "apt-get update (root)",
            self.command(&[], &[], "apt-get").args(["update", "-q"]),
            &self.log("apt.log"),
            hint,
        )?;
        run_step(
            "install QEMU 11.1, compilers, linux-source-7.3 (about 1 min)",
            self.command(&[], &[], "apt-get")
                .args([
                    "install",
                    "-y",
                    "-q",
                    "--no-install-recommends",
                    "-t",
                    BACKPORTS,
                ])
                .args(PACKAGES),
            &self.log("apt.log"),
            hint,
        )?;
        Ok(())
    }

    /// `dpkg-query` versions of the given packages inside the root, one
    /// `name version` line each (part of the kernel cache key).
    pub fn package_versions(&self, packages: &[&str]) -> Result<String> {
        let out = self
            .command(&[], &[], "dpkg-query")
            .args(["-W", "-f", "${Package} ${Version}\\n"])
            .args(packages)
            .output()
            .context("running dpkg-query in the root")?;
        if !out.status.success() {
            bail!(
                "dpkg-query in the root failed: {}; run `cargo xtask vm setup`",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// `sources.list` with a backports line for the mirror of its first `deb`
/// line, or None when it already has one.
pub fn with_backports(sources: &str) -> Result<Option<String>> {
    if sources
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some(BACKPORTS))
    {
        return Ok(None);
    }
    let Some(mirror) = sources
        .lines()
        .map(str::split_whitespace)
        .find_map(|mut w| (w.next() == Some("deb")).then(|| w.next()).flatten())
    else {
        bail!("the root's sources.list has no `deb` line to take the mirror from");
    };
    let mut out = sources.to_string();
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("deb {mirror} {BACKPORTS} main\n"));
    Ok(Some(out))
}

/// Fail early, saying why, when not root: chroot and mounts need it.
pub fn require_root_user() -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next().map(str::to_string));
    if uid.as_deref() != Some("0") {
        bail!(
            "the VM environment needs root (debootstrap, chroot and bind mounts); \
             run this command as root (e.g. with sudo -E)"
        );
    }
    Ok(())
}

/// Install host packages (tool, package) whose tool is missing, with
/// `apt-get update` + `apt-get install`.
pub fn ensure_host_tools(tools: &[(&str, &str)], log: &Path) -> Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    require_root_user()?;
    let hint = format!(
        "could not install the host packages {}; install them by hand and run again",
        missing.join(" ")
    );
    run_step(
        "apt-get update (host)",
        Command::new("apt-get").args(["update", "-q"]),
        log,
        &hint,
    )?;
    run_step(
        &format!("install {} (host)", missing.join(" ")),
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing),
        log,
        &hint,
    )?;
    Ok(())
}

/// Whether `tool` is an executable on PATH (or in the sbin directories,
/// which a non-login root shell may lack).
pub fn on_path(tool: &str) -> bool {
    find_on_path(tool).is_some()
}

pub fn find_on_path(tool: &str) -> Option<PathBuf> {
    host_path()
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

/// The host's `PATH` with the sbin directories a non-login root shell may
/// lack: where `find_on_path` looks, and what the tools it found are run
/// with (debootstrap, chroot, mount).
pub fn host_path() -> String {
    with_system_dirs(&std::env::var("PATH").unwrap_or_default())
}

/// `path` with the system bin and sbin directories appended where missing.
fn with_system_dirs(path: &str) -> String {
    let mut dirs: Vec<&str> = path.split(':').filter(|d| !d.is_empty()).collect();
    for d in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs.join(":")
}

/// `(major, minor)` from `qemu-system-x86_64 --version` output.
pub fn parse_qemu_version(text: &str) -> Option<(u32, u32)> {
    let rest = text.split("version ").nth(1)?;
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbin_is_on_the_path_tools_run_with() {
        assert_eq!(
            with_system_dirs("/root/.cargo/bin:/usr/bin"),
            "/root/.cargo/bin:/usr/bin:/usr/sbin:/sbin:/bin"
        );
        assert_eq!(
            with_system_dirs("/usr/sbin:/sbin:/usr/bin:/bin"),
            "/usr/sbin:/sbin:/usr/bin:/bin"
        );
        assert_eq!(with_system_dirs(""), "/usr/sbin:/sbin:/usr/bin:/bin");
    }

    #[test]
    fn backports_line_uses_the_existing_mirror_once() {
        let base = "deb http://mirror.example/debian trixie main\n";
        let with = with_backports(base).unwrap().unwrap();
        assert_eq!(
            with,
            "deb http://mirror.example/debian trixie main\n\
             deb http://mirror.example/debian trixie-backports main\n"
        );
        assert_eq!(with_backports(&with).unwrap(), None, "idempotent");
        assert!(with_backports("# nothing\n").is_err());
    }

    #[test]
    fn qemu_versions_parse() {
        let debian = "QEMU emulator version 11.1.3 (Debian 1:11.1.3+ds-1~bpo13+1)\nCopyright";
        assert_eq!(parse_qemu_version(debian), Some((11, 1)));
        assert_eq!(
            parse_qemu_version("QEMU emulator version 7.2.15"),
            Some((7, 2))
        );
        assert_eq!(parse_qemu_version("garbage"), None);
        assert!(Some((10, 0)) < Some(MIN_QEMU) && Some((11, 1)) >= Some(MIN_QEMU));
        assert!(Some((12, 0)) >= Some(MIN_QEMU));
    }

    #[test]
    fn recipe_names_every_package() {
        let r = Root::recipe();
        for p in PACKAGES {
            assert!(r.contains(p));
        }
    }
}
