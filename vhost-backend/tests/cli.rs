//! The binary as a user runs it: messages, permissions, the stats command,
//! signals.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_zcxl-vhost");

/// zcxl-vhost on `sock` with the smallest valid device.
fn daemon(sock: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("-s").arg(sock).args(["-c", "256M", "-m", "64M"]);
    c
}

fn spawn(sock: &Path, extra: &[&str]) -> (Child, Vec<String>) {
    let mut child = daemon(sock)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let out = child.stdout.take().unwrap();
    let mut r = BufReader::new(out);
    for _ in 0..3 {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        lines.push(l.trim_end().to_string());
    }
    (child, lines)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "daemon did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn runs_prints_its_qemu_fragment_serves_stats_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("z.sock");
    let stats = dir.path().join("stats.json");
    let (mut child, lines) = spawn(
        &sock,
        &["--stats", stats.to_str().unwrap(), "--queues", "3"],
    );
    assert!(lines[1].contains(&format!(
        "-chardev socket,id=zcxl0,path={} -device vhost-user-test-device-pci,chardev=zcxl0,virtio-id=6,num_vqs=5,vq_size=256,config_size=64",
        sock.display()
    )), "{lines:?}");
    assert!(std::fs::metadata(&sock).unwrap().file_type().is_socket());
    assert_eq!(mode(&sock), 0o600);
    assert_eq!(mode(&stats), 0o600);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(json["media"]["media_bytes"], 64 << 20);
    let out = Command::new(BIN)
        .args(["stats", "-s"])
        .arg(&sock)
        .output()
        .unwrap();
    assert!(out.status.success());
    let live: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(live["queues"].as_array().unwrap().len(), 5);
    assert_eq!(live["connected"], false);
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(wait_exit(&mut child).success());
    assert!(!sock.exists(), "socket removed");
    assert!(!dir.path().join("z.sock.stats").exists());
}

#[test]
fn a_socket_in_use_is_refused_and_a_stale_one_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("z.sock");
    let (mut first, _) = spawn(&sock, &["--socket-mode", "660"]);
    assert_eq!(mode(&sock), 0o660);
    let out = daemon(&sock).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is in use") && err.contains("--socket-path"),
        "{err}"
    );
    Command::new("kill")
        .args(["-KILL", &first.id().to_string()])
        .status()
        .unwrap();
    wait_exit(&mut first);
    // SIGKILL left the socket behind; nobody listens on it now.
    assert!(sock.exists());
    let (mut second, _) = spawn(&sock, &[]);
    Command::new("kill")
        .args(["-INT", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_exit(&mut second).success());
    // A path that is not a socket is left alone.
    std::fs::write(&sock, b"precious").unwrap();
    let out = daemon(&sock).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a socket"));
    assert_eq!(std::fs::read(&sock).unwrap(), b"precious");
}

#[test]
fn invalid_configuration_says_what_to_change() {
    let out = Command::new(BIN)
        .args(["-s", "/nonexistent/x.sock", "-c", "3G", "-m", "1G"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--capacity 3G: must be a power of two"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["stats", "-s", "/nonexistent/x.sock"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is zcxl-vhost running"));
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for word in [
        "--socket-path",
        "--capacity",
        "--backing",
        "memory-backend-memfd",
        "stats",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
}
