//! Booting zcxl guests: the kernel command line, the accelerator choice (TCG
//! unless a KVM probe boot succeeds) and the runs the tasks need.

use super::console::{self, Boot, Event, Next};
use super::daemon::{Daemon, DeviceParams};
use super::qemu::{self, Accel, Console, Device, Guest, WINDOW_NODE};
use super::{swap, Env};
use crate::guest::Image;
use anyhow::{Context, Result};
use std::path::PathBuf;
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

/// What a boot with the device gets besides the initramfs: a swap disk
/// (made fresh) and the settings that tell init about it and the corpus.
pub struct Files {
    pub swap: Option<PathBuf>,
    pub env: Vec<String>,
}

impl Files {
    /// Files for a boot; `device`: whether the zcxl device is attached
    /// (only those boots swap through zswap).
    pub fn prepare(env: &Env, image: &Image, device: bool) -> Result<Files> {
        if !device {
            return Ok(Files {
                swap: None,
                env: vec![],
            });
        }
        let img = env.ws.join("run/swap.img");
        swap::create(&img)?;
        Ok(Files {
            swap: Some(env.qemu_path(&img)),
            env: files_env(true, image.corpus.as_deref()),
        })
    }

    /// `append` with the files' settings added.
    pub fn append_to(&self, append: String) -> String {
        std::iter::once(append)
            .chain(self.env.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Init's settings for the guest's files: ZCXL_SWAP (the swap disk's
/// device) and ZCXL_CORPUS (a file to fill pages from).
pub fn files_env(swap: bool, corpus: Option<&str>) -> Vec<String> {
    let mut e = Vec::new();
    if swap {
        e.push(format!("ZCXL_SWAP={}", swap::GUEST_DEVICE));
    }
    if let Some(c) = corpus {
        e.push(format!("ZCXL_CORPUS={c}"));
    }
    e
}

/// The guest spec for a boot.
pub fn guest(
    env: &Env,
    image: &Image,
    accel: Accel,
    append: String,
    params: Option<&DeviceParams>,
    swap: Option<PathBuf>,
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
        swap,
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
        let files = Files::prepare(self.env, self.image, self.params.is_some())?;
        let g = guest(
            self.env,
            self.image,
            self.accel,
            files.append_to(format!(
                "{} ZCXL_BOOT={}",
                append(self.mode, self.params, &self.with),
                self.boot
            )),
            self.params,
            files.swap,
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

    #[test]
    fn files_env_names_the_swap_disk_and_the_corpus() {
        assert!(files_env(false, None).is_empty());
        assert_eq!(files_env(true, None), ["ZCXL_SWAP=/dev/vda"]);
        let e = files_env(true, Some("/zcxl/corpus/dickens"));
        assert_eq!(
            e,
            ["ZCXL_SWAP=/dev/vda", "ZCXL_CORPUS=/zcxl/corpus/dickens"]
        );
        // init gets only dot-free words from the command line
        assert!(e.iter().all(|w| !w.contains('.') && !w.contains(' ')));
    }
}
