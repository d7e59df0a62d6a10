//! Booting zcxl guests: the kernel command line, the accelerator choice (TCG
//! unless a KVM probe boot succeeds) and the runs the tasks need.

use super::console::{self, Boot, Event, Next};
use super::daemon::{Daemon, DeviceParams};
use super::qemu::{self, Accel, Console, Device, Guest, WINDOW_NODE};
use super::Env;
use crate::guest::Image;
use anyhow::{Context, Result};
use std::time::Duration;

/// How long the KVM probe may take before KVM counts as hanging.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
pub const GUEST_RAM_MIB: u64 = 1024;
pub const GUEST_CPUS: u32 = 2;

/// Which accelerator the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AccelChoice {
    /// KVM if a probe boot succeeds on this host, else TCG.
    Auto,
    Tcg,
    Kvm,
}

/// The kernel command line: console, policy, and the runner's settings.
pub fn append(mode: &str, params: Option<&DeviceParams>, with: &[String]) -> String {
    let mut a = vec![
        "console=ttyS0".to_string(),
        "quiet".into(),
        "panic=-1".into(),
        "memhp_default_state=online_movable".into(),
        "rdinit=/init".into(),
        format!("ZCXL_MODE={mode}"),
        format!("ZCXL_NODE={WINDOW_NODE}"),
    ];
    let mut have = vec![];
    if let Some(p) = params {
        a.push(format!("ZCXL_CAPACITY={}", p.capacity));
        a.push(format!("ZCXL_MEDIA={}", p.media));
        a.push(format!("ZCXL_SERIAL={}", p.serial));
        a.push(format!("ZCXL_VIRTIO_ID={}", p.virtio_id));
        a.push(format!("ZCXL_DATA_QUEUES={}", p.data_queues));
        have.push("device".to_string());
    }
    have.extend(with.iter().cloned());
    a.push(format!(
        "ZCXL_HAVE={}",
        if have.is_empty() {
            "none".into()
        } else {
            have.join(",")
        }
    ));
    a.join(" ")
}

/// The guest spec for a boot.
pub fn guest(
    env: &Env,
    image: &Image,
    accel: Accel,
    append: String,
    params: Option<&DeviceParams>,
    console: Console,
) -> Guest {
    Guest {
        accel,
        cpus: GUEST_CPUS,
        ram_mib: GUEST_RAM_MIB,
        hotplug_mib: params.map_or(0, |p| p.capacity >> 20),
        kernel: env.qemu_path(&image.bzimage),
        initrd: env.qemu_path(&image.initrd),
        append,
        device: params.map(|p| Device {
            socket: env.qemu_path(&env.ws.join("run/zcxl.sock")),
            virtio_id: p.virtio_id,
            data_queues: p.data_queues,
        }),
        console,
    }
}

/// TCG, or KVM when asked or when a probe boot with KVM reaches init. The
/// verdict is remembered per host boot, QEMU and kernel.
pub fn choose_accel(
    env: &Env,
    image: &Image,
    choice: AccelChoice,
    kernel_key: &str,
) -> Result<Accel> {
    match choice {
        AccelChoice::Tcg => return Ok(Accel::Tcg),
        AccelChoice::Kvm => return Ok(Accel::Kvm),
        AccelChoice::Auto => {}
    }
    if !std::path::Path::new("/dev/kvm").exists() {
        return Ok(Accel::Tcg);
    }
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let id = format!("{} {:?} {kernel_key}", boot_id.trim(), env.qemu);
    let memo = env.cache.join("kvm-probe");
    if let Ok(text) = std::fs::read_to_string(&memo) {
        if let Some(verdict) = text.strip_prefix(&format!("{id} => ")) {
            return Ok(if verdict.trim() == "ok" {
                Accel::Kvm
            } else {
                Accel::Tcg
            });
        }
    }
    eprintln!(
        "==> probing KVM (a boot with a {}s limit)",
        PROBE_TIMEOUT.as_secs()
    );
    let g = guest(
        env,
        image,
        Accel::Kvm,
        append("probe", None, &[]),
        None,
        Console::Harness,
    );
    let mut cmd = env.qemu_command();
    cmd.args(g.args());
    let b = console::boot(
        &mut cmd,
        &env.ws.join("logs/kvm-probe.log"),
        PROBE_TIMEOUT,
        false,
        |e| {
            if *e == Event::ProbeAlive {
                Next::Stop
            } else {
                Next::Continue
            }
        },
    )?;
    let ok = b.events.contains(&Event::ProbeAlive);
    std::fs::write(
        &memo,
        format!("{id} => {}\n", if ok { "ok" } else { "fail" }),
    )?;
    if ok {
        eprintln!("    KVM works here: using it");
        Ok(Accel::Kvm)
    } else {
        eprintln!(
            "    KVM {} (log: {}): using TCG",
            if b.timed_out { "hung" } else { "failed" },
            b.log.display()
        );
        Ok(Accel::Tcg)
    }
}

/// Boot a guest with a zcxl device in `mode`, calling `on_event`; kills
/// the daemon when the guest asks.
pub struct Run<'a> {
    pub env: &'a Env,
    pub image: &'a Image,
    pub accel: Accel,
    pub params: Option<&'a DeviceParams>,
    pub daemon: Option<&'a mut Daemon>,
    pub mode: &'a str,
    pub with: Vec<String>,
    pub timeout: Duration,
    pub echo: bool,
    pub log_name: &'a str,
    /// Which boot of a run this is (ZCXL_BOOT; the runner picks its checks).
    pub boot: u32,
}

pub struct Ran {
    pub boot: Boot,
    pub qemu_line: String,
}

impl Run<'_> {
    pub fn go(self, mut on_event: impl FnMut(&Event, Option<&mut Daemon>) -> Next) -> Result<Ran> {
        let g = guest(
            self.env,
            self.image,
            self.accel,
            format!(
                "{} ZCXL_BOOT={}",
                append(self.mode, self.params, &self.with),
                self.boot
            ),
            self.params,
            Console::Harness,
        );
        let args = g.args();
        let program = match &self.env.qemu {
            super::Qemu::Host(bin) => bin.to_string_lossy().into_owned(),
            super::Qemu::Root => {
                format!("chroot {} qemu-system-x86_64", self.env.root.dir.display())
            }
        };
        let qemu_line = qemu::shell_line(&program, &args);
        let mut cmd = self.env.qemu_command();
        cmd.args(&args);
        let mut daemon = self.daemon;
        let log = self.env.ws.join("logs").join(self.log_name);
        let boot = console::boot(&mut cmd, &log, self.timeout, self.echo, |e| {
            if *e == Event::KillDaemon {
                if let Some(d) = daemon.as_deref_mut() {
                    d.kill();
                }
            }
            on_event(e, daemon.as_deref_mut())
        })
        .context("booting the guest")?;
        Ok(Ran { boot, qemu_line })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_carries_the_runner_settings() {
        let p = DeviceParams::default();
        let a = append("checks", Some(&p), &["driver".to_string()]);
        let words: Vec<&str> = a.split(' ').collect();
        for w in [
            "console=ttyS0",
            "panic=-1",
            "memhp_default_state=online_movable",
            "ZCXL_MODE=checks",
            "ZCXL_NODE=1",
            "ZCXL_CAPACITY=2147483648",
            "ZCXL_MEDIA=536870912",
            "ZCXL_VIRTIO_ID=6",
            "ZCXL_DATA_QUEUES=2",
            "ZCXL_HAVE=device,driver",
        ] {
            assert!(words.contains(&w), "{w} missing from {a}");
        }
        // The kernel hands only dot-free KEY=VALUE words to init.
        assert!(words
            .iter()
            .filter(|w| w.starts_with("ZCXL_"))
            .all(|w| !w.contains('.')));
        assert!(append("probe", None, &[]).ends_with("ZCXL_HAVE=none"));
    }
}
