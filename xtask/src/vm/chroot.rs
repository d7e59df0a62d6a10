//! Running programs inside the Debian root.
//!
//! Every command runs in a private mount namespace (`unshare --mount`): the
//! bind mounts it needs (/dev, /dev/shm, /proc, /sys and the directories a
//! task shares with the root) exist only for that process tree and vanish
//! with it, even when it is killed — nothing stacks on the host, nothing
//! leaks on error. A target that is already a mount point (someone mounted it
//! on the host) is reused, not mounted over.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Host directories every command in the root gets, at the same path.
pub const SYSTEM_BINDS: &[&str] = &["/dev", "/dev/shm", "/proc", "/sys"];

/// A host directory made visible inside the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub host: PathBuf,
    /// Absolute path inside the root.
    pub inside: PathBuf,
}

impl Bind {
    pub fn new(host: impl Into<PathBuf>, inside: impl Into<PathBuf>) -> Self {
        Bind {
            host: host.into(),
            inside: inside.into(),
        }
    }
}

/// Runs inside the new mount namespace: `$1` is the root, then pairs of
/// (host, target) up to `--`, then the command. Constant text; everything
/// variable arrives as arguments, so nothing needs quoting.
const ENTER_SCRIPT: &str = r#"set -e
root=$1; shift
while [ "$1" != -- ]; do mkdir -p "$2"; mount --bind "$1" "$2"; shift 2; done
shift
exec chroot "$root" "$@""#;

const ROOT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A command that runs `program args…` chrooted into `root` with the system
/// binds, then `binds`, and a clean environment plus `env`. Add the
/// program's arguments to the returned command.
pub fn command(root: &Path, binds: &[Bind], env: &[(&str, &str)], program: &str) -> Command {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let plan = mount_plan(root, binds, &mount_points(&mountinfo));
    let mut c = Command::new("unshare");
    // mount and chroot live in sbin, which the caller's PATH may lack.
    c.env("PATH", super::root::host_path());
    c.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        ENTER_SCRIPT,
        "sh",
    ])
    .arg(root);
    for (host, target) in plan {
        c.arg(host).arg(target);
    }
    c.args([
        "--",
        "/usr/bin/env",
        "-i",
        ROOT_PATH,
        "HOME=/root",
        "LC_ALL=C",
    ])
    .arg("DEBIAN_FRONTEND=noninteractive");
    if let Ok(term) = std::env::var("TERM") {
        c.arg(format!("TERM={term}"));
    }
    for (k, v) in env {
        c.arg(format!("{k}={v}"));
    }
    c.arg(program);
    c
}

/// The mounts to make, in order, skipping those already mounted.
pub fn mount_plan(root: &Path, binds: &[Bind], mounted: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    let system = SYSTEM_BINDS
        .iter()
        .map(|p| Bind::new(*p, *p))
        .filter(|b| b.host.is_dir());
    system
        .chain(binds.iter().cloned())
        .map(|b| {
            let target = root.join(b.inside.strip_prefix("/").unwrap_or(&b.inside));
            (b.host, target)
        })
        .filter(|(_, target)| !mounted.contains(target))
        .collect()
}

/// Mount points listed in a mountinfo text (field 5, octal escapes decoded).
pub fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_octal(p)))
        .collect()
}

fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 4)
            .filter(|_| bytes[i] == b'\\')
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match escaped {
            Some(v) => {
                out.push(v);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_mounts_then_chroots_with_a_clean_environment() {
        let root = Path::new("/nonexistent-root");
        let c = command(
            root,
            &[Bind::new("/tmp", "/zcxl/ws")],
            &[("A", "b")],
            "qemu",
        );
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(c.get_program(), "unshare");
        let at = |s: &str| args.iter().position(|a| a == s).unwrap();
        assert!(at("/tmp") < at("/nonexistent-root/zcxl/ws"));
        let sep = args.iter().rposition(|a| a == "--").unwrap();
        assert!(at("/nonexistent-root/zcxl/ws") < sep);
        assert_eq!(args[sep + 1..sep + 3], ["/usr/bin/env", "-i"]);
        assert!(args[sep..].contains(&"A=b".to_string()));
        assert_eq!(args.last().map(String::as_str), Some("qemu"));
    }

    /// Runs for real when the tests run as root (as CI does): the host's own
    /// `/` serves as the root.
    #[test]
    fn binds_are_seen_inside_and_gone_afterwards() {
        if !std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        {
            eprintln!("not root: the mount namespace test is skipped");
            return;
        }
        let shared = tempfile::tempdir().unwrap();
        std::fs::write(shared.path().join("marker"), "x").unwrap();
        let target = tempfile::tempdir().unwrap();
        let inside = target.path().to_path_buf();
        let status = command(
            Path::new("/"),
            &[Bind::new(shared.path(), &inside)],
            &[("WHO", "zcxl")],
            "sh",
        )
        .arg("-c")
        .arg(format!(
            "test -e {}/marker && test \"$WHO\" = zcxl",
            inside.display()
        ))
        .status()
        .unwrap();
        assert!(
            status.success(),
            "the bind and the environment are visible inside"
        );
        assert!(
            !inside.join("marker").exists(),
            "nothing is left mounted on the host"
        );
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mount_points(&info).contains(&inside));
    }

    #[test]
    fn mountinfo_mount_points_are_decoded() {
        let info = "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
                    30 22 0:5 / /dev rw shared:2 - devtmpfs udev rw\n\
                    40 22 0:9 / /var/tmp/with\\040space rw - tmpfs t rw\n";
        assert_eq!(
            mount_points(info),
            vec![
                PathBuf::from("/"),
                PathBuf::from("/dev"),
                PathBuf::from("/var/tmp/with space")
            ]
        );
    }

    #[test]
    fn plan_orders_system_binds_first_and_skips_existing_mounts() {
        let root = Path::new("/cache/root");
        let binds = [Bind::new("/work/ws/target/vm", "/zcxl/ws")];
        let plan = mount_plan(root, &binds, &[PathBuf::from("/cache/root/proc")]);
        let targets: Vec<_> = plan.iter().map(|(_, t)| t.clone()).collect();
        assert!(
            !targets.contains(&PathBuf::from("/cache/root/proc")),
            "already mounted"
        );
        assert_eq!(targets.first(), Some(&PathBuf::from("/cache/root/dev")));
        assert_eq!(
            plan.last(),
            Some(&(
                PathBuf::from("/work/ws/target/vm"),
                PathBuf::from("/cache/root/zcxl/ws")
            ))
        );
        let dev = targets.iter().position(|t| t.ends_with("dev")).unwrap();
        let shm = targets.iter().position(|t| t.ends_with("dev/shm")).unwrap();
        assert!(dev < shm, "/dev/shm goes on top of /dev, not under it");
    }
}
