//! zcxl-vhost on the host: built from this checkout, started for one guest,
//! killed (and its socket removed) when dropped.

use crate::cmd::{self, workspace_root};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The device a guest gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceParams {
    /// Logical capacity = window size, bytes (a power of two, ≥ 256 MiB).
    pub capacity: u64,
    /// Media capacity, bytes.
    pub media: u64,
    pub serial: u64,
    pub virtio_id: u16,
    pub data_queues: u16,
    /// The daemon keeps the label storage area in this file (--lsa), so
    /// that labels outlive it.
    pub lsa: Option<PathBuf>,
}

impl Default for DeviceParams {
    fn default() -> Self {
        DeviceParams {
            capacity: 2 << 30,
            media: 512 << 20,
            serial: 0x2c5a_0001,
            virtio_id: 6,
            data_queues: 2,
            lsa: None,
        }
    }
}

/// The device's sizes as the tasks take them on the command line.
#[derive(clap::Args)]
pub struct DeviceArgs {
    /// Logical capacity of the device (the window), MiB; a power of two.
    #[arg(long, default_value_t = 2048)]
    pub capacity_mib: u64,
    /// Media capacity of the device, MiB.
    #[arg(long, default_value_t = 512)]
    pub media_mib: u64,
}

impl DeviceArgs {
    pub fn params(&self) -> DeviceParams {
        DeviceParams {
            capacity: self.capacity_mib << 20,
            media: self.media_mib << 20,
            ..DeviceParams::default()
        }
    }
}

impl DeviceParams {
    /// The daemon's arguments for these parameters.
    pub fn daemon_args(&self, socket: &Path, stats: &Path) -> Vec<String> {
        let mut args = vec![
            "--socket-path".into(),
            socket.to_string_lossy().into_owned(),
            "--capacity".into(),
            self.capacity.to_string(),
            "--media".into(),
            self.media.to_string(),
            "--serial".into(),
            self.serial.to_string(),
            "--virtio-id".into(),
            self.virtio_id.to_string(),
            "--queues".into(),
            self.data_queues.to_string(),
            "--stats".into(),
            stats.to_string_lossy().into_owned(),
        ];
        if let Some(lsa) = &self.lsa {
            args.push("--lsa".into());
            args.push(lsa.to_string_lossy().into_owned());
        }
        args
    }
}

/// Whether this checkout has the daemon's sources.
pub fn present() -> bool {
    workspace_root().join("vhost-backend/Cargo.toml").is_file()
}

/// What to say when it does not.
pub const ABSENT: &str = "zcxl-vhost (vhost-backend/) is not in this checkout yet: it lands with \
    the daemon branch. Until then `cargo xtask vm run` boots the guest without the device";

/// Build zcxl-vhost (release) and return its path.
pub fn build() -> Result<PathBuf> {
    if !present() {
        bail!("{ABSENT}");
    }
    eprintln!("==> building zcxl-vhost (release)");
    cmd::run(cmd::cargo().args(["build", "--release", "-p", "zcxl-vhost"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("release/zcxl-vhost");
    if !bin.is_file() {
        bail!("cargo built zcxl-vhost but {} is missing", bin.display());
    }
    Ok(bin)
}

pub struct Daemon {
    child: Child,
    pub bin: PathBuf,
    pub socket: PathBuf,
    pub args: Vec<String>,
    pub log: PathBuf,
}

impl Daemon {
    /// Start it and wait until its socket is there.
    pub fn start(bin: &Path, params: &DeviceParams, run_dir: &Path, log: &Path) -> Result<Daemon> {
        std::fs::create_dir_all(run_dir)?;
        let socket = run_dir.join("zcxl.sock");
        // sun_path holds 108 bytes including the terminating NUL.
        if socket.as_os_str().len() >= 108 {
            bail!(
                "the socket path {} is too long for a unix socket; move the checkout to a \
                 shorter path",
                socket.display()
            );
        }
        let _ = std::fs::remove_file(&socket);
        let args = params.daemon_args(&socket, &run_dir.join("stats.json"));
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::File::create(log)?;
        let child = Command::new(bin)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut d = Daemon {
            child,
            bin: bin.to_path_buf(),
            socket,
            args,
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !d.socket.exists() {
            if let Ok(Some(status)) = d.child.try_wait() {
                bail!(
                    "zcxl-vhost exited at start ({status}):\n{}",
                    crate::progress::log_tail(log, 0, 20)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "zcxl-vhost did not create {} within 15 s",
                    d.socket.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(d)
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The daemon's statistics (JSON), from its control socket.
    pub fn stats(&self) -> Result<String> {
        let out = Command::new(&self.bin)
            .args(["stats", "--socket-path"])
            .arg(&self.socket)
            .output()
            .context("running zcxl-vhost stats")?;
        if !out.status.success() {
            bail!(
                "zcxl-vhost stats failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn command_line(&self) -> String {
        super::qemu::shell_line(&self.bin.to_string_lossy(), &self.args)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_issue_s_device() {
        let p = DeviceParams::default();
        assert_eq!(p.capacity, 2 * 1024 * 1024 * 1024);
        assert_eq!(p.media, 512 * 1024 * 1024);
        assert!(p.capacity.is_power_of_two());
        let args = p.daemon_args(Path::new("/r/zcxl.sock"), Path::new("/r/stats.json"));
        let at = |f: &str| args[args.iter().position(|a| a == f).unwrap() + 1].clone();
        assert_eq!(at("--socket-path"), "/r/zcxl.sock");
        assert_eq!(at("--capacity"), "2147483648");
        assert_eq!(at("--media"), "536870912");
        assert_eq!(at("--queues"), "2");
        assert_eq!(at("--virtio-id"), "6");
        assert!(!args.iter().any(|a| a == "--lsa"));
        let p = DeviceParams {
            lsa: Some("/r/lsa.img".into()),
            ..DeviceParams::default()
        };
        let args = p.daemon_args(Path::new("/r/zcxl.sock"), Path::new("/r/stats.json"));
        let i = args.iter().position(|a| a == "--lsa").unwrap();
        assert_eq!(args[i + 1], "/r/lsa.img");
    }
}
