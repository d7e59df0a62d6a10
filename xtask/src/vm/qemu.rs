//! The QEMU command line of a zcxl guest (pure: built from a spec, tested).
//!
//! Memory layout: guest RAM is one shared memfd backend (the daemon must read
//! the vrings) given to NUMA node 0 with the CPUs; node 1 has no memory. With
//! `slots`/`maxmem`, QEMU's SRAT describes a hot-pluggable range on the last
//! node, which makes node 1 *possible*: the driver hot-adds the device's
//! window (BAR 4, in the 64-bit PCI hole) there. Without slots/maxmem node 1
//! is not possible and the hot-add fails.

use std::path::PathBuf;

/// The node QEMU makes possible for the window (the last, memory-less one).
pub const WINDOW_NODE: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Tcg,
    Kvm,
}

/// How the serial console is wired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// Serial on stdout only, read by the harness (no monitor).
    Harness,
    /// Serial and monitor multiplexed on the terminal (Ctrl-A X quits).
    Interactive,
}

/// The zcxl device as QEMU must be told about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// zcxl-vhost's socket, as QEMU sees it.
    pub socket: PathBuf,
    pub virtio_id: u16,
    pub data_queues: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guest {
    pub accel: Accel,
    pub cpus: u32,
    pub ram_mib: u64,
    /// Room QEMU reserves for hot-plugged memory (it makes node 1 possible).
    pub hotplug_mib: u64,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub append: String,
    pub device: Option<Device>,
    /// A raw image the guest sees as its virtio-blk disk (/dev/vda): swap.
    pub swap: Option<PathBuf>,
    pub console: Console,
}

/// The `config_size=` QEMU must give the device (specs/virtio.md §2).
pub const CONFIG_SIZE: u32 = 64;

impl Guest {
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |parts: &[&str]| a.extend(parts.iter().map(|s| s.to_string()));
        push(&["-nodefaults", "-no-user-config", "-no-reboot"]);
        push(&["-machine", "q35"]);
        match self.accel {
            Accel::Tcg => push(&["-accel", "tcg"]),
            Accel::Kvm => push(&["-accel", "kvm", "-cpu", "host"]),
        }
        let ram = format!("{}M", self.ram_mib);
        let maxmem = format!("{}M", self.ram_mib + self.hotplug_mib.max(128));
        let last_cpu = self.cpus.max(1) - 1;
        push(&["-smp", &self.cpus.max(1).to_string()]);
        push(&["-m", &format!("{ram},slots=4,maxmem={maxmem}")]);
        push(&[
            "-object",
            &format!("memory-backend-memfd,id=mem,size={ram},share=on"),
        ]);
        push(&[
            "-numa",
            &format!("node,nodeid=0,memdev=mem,cpus=0-{last_cpu}"),
        ]);
        push(&["-numa", &format!("node,nodeid={WINDOW_NODE}")]);
        push(&["-kernel", &self.kernel.to_string_lossy()]);
        push(&["-initrd", &self.initrd.to_string_lossy()]);
        push(&["-append", &self.append]);
        match self.console {
            Console::Harness => push(&["-display", "none", "-monitor", "none", "-serial", "stdio"]),
            Console::Interactive => push(&["-nographic", "-serial", "mon:stdio"]),
        }
        if let Some(d) = &self.device {
            push(&[
                "-chardev",
                &format!("socket,id=zc,path={}", d.socket.to_string_lossy()),
            ]);
            push(&[
                "-device",
                &format!(
                    "vhost-user-test-device-pci,chardev=zc,virtio-id={},num_vqs={},config_size={CONFIG_SIZE}",
                    d.virtio_id,
                    2 + u32::from(d.data_queues)
                ),
            ]);
        }
        if let Some(img) = &self.swap {
            // Scratch swap: no need to flush it to the host's disk.
            push(&[
                "-drive",
                &format!(
                    "file={},if=virtio,format=raw,cache=unsafe",
                    img.to_string_lossy()
                ),
            ]);
        }
        a
    }
}

/// `program arg…` with arguments quoted for a POSIX shell, to show users
/// the command so they can run it themselves.
pub fn shell_line(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=,./:+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest() -> Guest {
        Guest {
            accel: Accel::Tcg,
            cpus: 2,
            ram_mib: 1024,
            hotplug_mib: 2048,
            kernel: "/zcxl/ws/boot/bzImage".into(),
            initrd: "/zcxl/ws/boot/initramfs.cpio".into(),
            append: "console=ttyS0 ZCXL_NODE=1".into(),
            device: Some(Device {
                socket: "/zcxl/ws/run/zcxl.sock".into(),
                virtio_id: 6,
                data_queues: 2,
            }),
            swap: None,
            console: Console::Harness,
        }
    }

    fn value_of<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn memory_is_shared_and_node_one_is_possible() {
        let a = guest().args();
        assert_eq!(value_of(&a, "-m"), ["1024M,slots=4,maxmem=3072M"]);
        assert_eq!(
            value_of(&a, "-object"),
            ["memory-backend-memfd,id=mem,size=1024M,share=on"]
        );
        assert_eq!(
            value_of(&a, "-numa"),
            ["node,nodeid=0,memdev=mem,cpus=0-1", "node,nodeid=1"]
        );
        // -numa memdev and -machine memory-backend are mutually exclusive.
        assert_eq!(value_of(&a, "-machine"), ["q35"]);
    }

    #[test]
    fn device_has_two_plus_n_queues_and_the_spec_config_size() {
        let a = guest().args();
        assert_eq!(
            value_of(&a, "-chardev"),
            ["socket,id=zc,path=/zcxl/ws/run/zcxl.sock"]
        );
        assert_eq!(
            value_of(&a, "-device"),
            ["vhost-user-test-device-pci,chardev=zc,virtio-id=6,num_vqs=4,config_size=64"]
        );
        let mut g = guest();
        g.device = None;
        assert!(value_of(&g.args(), "-device").is_empty());
    }

    #[test]
    fn swap_image_is_a_raw_virtio_disk() {
        assert!(value_of(&guest().args(), "-drive").is_empty());
        let mut g = guest();
        g.swap = Some("/zcxl/ws/run/swap.img".into());
        assert_eq!(
            value_of(&g.args(), "-drive"),
            ["file=/zcxl/ws/run/swap.img,if=virtio,format=raw,cache=unsafe"]
        );
    }

    #[test]
    fn accel_and_console_choices() {
        let a = guest().args();
        assert_eq!(value_of(&a, "-accel"), ["tcg"]);
        assert!(value_of(&a, "-cpu").is_empty());
        assert_eq!(value_of(&a, "-serial"), ["stdio"]);
        assert_eq!(value_of(&a, "-monitor"), ["none"]);
        let mut g = guest();
        g.accel = Accel::Kvm;
        g.console = Console::Interactive;
        let a = g.args();
        assert_eq!(value_of(&a, "-accel"), ["kvm"]);
        assert_eq!(value_of(&a, "-cpu"), ["host"]);
        assert_eq!(value_of(&a, "-serial"), ["mon:stdio"]);
        assert!(a.contains(&"-nographic".to_string()));
    }

    #[test]
    fn shell_line_quotes_what_needs_it() {
        let line = shell_line(
            "qemu-system-x86_64",
            &[
                "-append".into(),
                "console=ttyS0 quiet".into(),
                "it's".into(),
            ],
        );
        assert_eq!(
            line,
            r"qemu-system-x86_64 -append 'console=ttyS0 quiet' 'it'\''s'"
        );
    }
}
