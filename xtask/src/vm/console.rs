//! Booting a guest and reading its serial console: every line goes to a log
//! file; the runner's `ZCXL-` lines (xtask/guest/init.sh) become events.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a console line means to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A check is starting.
    Running { n: u32, name: String },
    /// A check finished (or was skipped).
    Check {
        n: u32,
        name: String,
        verdict: Verdict,
    },
    /// The runner finished all checks.
    Done {
        passed: u32,
        failed: u32,
        skipped: u32,
    },
    /// The guest asks the host to SIGKILL the daemon.
    KillDaemon,
    /// The KVM probe guest reached init.
    ProbeAlive,
    /// A line of the demo for the user.
    Demo(String),
    /// The guest kernel panicked.
    Panic(String),
}

/// The event a console line carries, if any. The marker may follow other
/// text on the same line (kernel messages can interleave with the runner's).
pub fn parse_line(line: &str) -> Option<Event> {
    if let Some(at) = line.find("Kernel panic - not syncing") {
        return Some(Event::Panic(line[at..].trim().to_string()));
    }
    let at = line.find("ZCXL-")?;
    let (tag, rest) = line[at..].split_once(':')?;
    let rest = rest.trim();
    match tag {
        "ZCXL-RUN" => {
            let (n, name) = rest.split_once(' ')?;
            Some(Event::Running {
                n: n.parse().ok()?,
                name: name.trim().to_string(),
            })
        }
        "ZCXL-CHECK" => {
            let mut w = rest.splitn(4, ' ');
            let (kind, n, name) = (w.next()?, w.next()?.parse().ok()?, w.next()?);
            let verdict = match kind {
                "ok" => Verdict::Pass,
                "FAIL" => Verdict::Fail,
                "skip" => Verdict::Skip(
                    w.next()
                        .unwrap_or("")
                        .trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .to_string(),
                ),
                _ => return None,
            };
            Some(Event::Check {
                n,
                name: name.trim().to_string(),
                verdict,
            })
        }
        "ZCXL-DONE" => {
            // "P passed, F failed, S skipped"
            let mut nums = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty());
            let passed = nums.next()?.parse().ok()?;
            let failed = nums.next()?.parse().ok()?;
            let skipped = nums.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            Some(Event::Done {
                passed,
                failed,
                skipped,
            })
        }
        "ZCXL-HOST" if rest == "kill-daemon" => Some(Event::KillDaemon),
        "ZCXL-PROBE" if rest == "alive" => Some(Event::ProbeAlive),
        "ZCXL-DEMO" => Some(Event::Demo(rest.to_string())),
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Not run: what it needs (device, driver…) is not in this checkout.
    Skip(String),
}

/// What the host does after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Stop the guest now (the harness has what it needs).
    Stop,
}

/// How a boot ended.
#[derive(Debug)]
pub struct Boot {
    pub events: Vec<Event>,
    pub timed_out: bool,
    pub status: Option<ExitStatus>,
    pub log: PathBuf,
    pub took: Duration,
}

impl Boot {
    pub fn panic(&self) -> Option<&str> {
        self.events.iter().find_map(|e| match e {
            Event::Panic(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn done(&self) -> Option<(u32, u32, u32)> {
        self.events.iter().find_map(|e| match e {
            Event::Done {
                passed,
                failed,
                skipped,
            } => Some((*passed, *failed, *skipped)),
            _ => None,
        })
    }

    /// The console log's last lines, for error messages.
    pub fn tail(&self, n: usize) -> String {
        crate::progress::log_tail(&self.log, 0, n)
    }
}

/// Boot `qemu` (a fully built QEMU command), log its console to `log`, call
/// `on_event` for each event; stop after `timeout`, or when `on_event` says
/// so, or when the guest powers off. `echo` prints console lines live.
pub fn boot(
    qemu: &mut Command,
    log: &Path,
    timeout: Duration,
    echo: bool,
    mut on_event: impl FnMut(&Event) -> Next,
) -> Result<Boot> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    writeln!(out, "### {qemu:?}")?;
    let start = Instant::now();
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start QEMU")?;
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(spawn_reader(stdout, tx.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(spawn_reader(stderr, tx.clone()));
    }
    drop(tx);
    let deadline = start + timeout;
    let mut events = Vec::new();
    let mut timed_out = false;
    let mut stopping = false;
    loop {
        let now = Instant::now();
        if now >= deadline {
            timed_out = !stopping;
            break;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(line) => {
                let _ = writeln!(out, "{line}");
                if echo {
                    println!("{line}");
                }
                if let Some(ev) = parse_line(&line) {
                    let next = on_event(&ev);
                    let fatal = matches!(ev, Event::Panic(_));
                    events.push(ev);
                    if (next == Next::Stop || fatal) && !stopping {
                        stopping = true;
                        stop(&mut child);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = !stopping;
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if timed_out {
        let _ = writeln!(out, "### timed out after {}s: killed", timeout.as_secs());
    }
    stop(&mut child);
    let status = child.wait().ok();
    // Keep what is still buffered, but never wait on a grandchild that
    // holds the pipe open.
    let drain_until = Instant::now() + Duration::from_secs(2);
    while let Some(left) = drain_until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let _ = writeln!(out, "{line}");
                if echo {
                    println!("{line}");
                }
                if let Some(ev) = parse_line(&line) {
                    events.push(ev);
                }
            }
            Err(_) => break,
        }
    }
    drop(readers);
    Ok(Boot {
        events,
        timed_out,
        status,
        log: log.to_path_buf(),
        took: start.elapsed(),
    })
}

fn stop(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
    }
}

fn spawn_reader(
    stream: impl std::io::Read + Send + 'static,
    tx: mpsc::Sender<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_string();
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_lines_parse() {
        assert_eq!(
            parse_line("ZCXL-CHECK: ok 3 10-identify"),
            Some(Event::Check {
                n: 3,
                name: "10-identify".into(),
                verdict: Verdict::Pass
            })
        );
        assert_eq!(
            parse_line("[   12.3] zcxl 0000:00:03.0: hi ZCXL-CHECK: FAIL 4 11-node\r"),
            Some(Event::Check {
                n: 4,
                name: "11-node".into(),
                verdict: Verdict::Fail
            })
        );
        assert_eq!(
            parse_line("ZCXL-CHECK: skip 5 12-hints (needs driver)"),
            Some(Event::Check {
                n: 5,
                name: "12-hints".into(),
                verdict: Verdict::Skip("needs driver".into())
            })
        );
        assert_eq!(
            parse_line("ZCXL-DONE: 5 passed, 1 failed, 2 skipped"),
            Some(Event::Done {
                passed: 5,
                failed: 1,
                skipped: 2
            })
        );
        assert_eq!(
            parse_line("ZCXL-DONE: 5 passed, 1 failed"),
            Some(Event::Done {
                passed: 5,
                failed: 1,
                skipped: 0
            })
        );
        assert_eq!(
            parse_line("ZCXL-HOST: kill-daemon"),
            Some(Event::KillDaemon)
        );
        assert_eq!(parse_line("ZCXL-PROBE: alive"), Some(Event::ProbeAlive));
        assert_eq!(
            parse_line("ZCXL-RUN: 2 01-node"),
            Some(Event::Running {
                n: 2,
                name: "01-node".into()
            })
        );
        assert_eq!(
            parse_line("ZCXL-DEMO: wrote 512 MiB"),
            Some(Event::Demo("wrote 512 MiB".into()))
        );
    }

    #[test]
    fn other_lines_are_not_events() {
        for line in [
            "",
            "Linux version 7.3.4-zcxl",
            "ZCXL-CHECK: maybe 1 x",
            "ZCXL-CHECK: ok x name",
            "ZCXL-CHECK: ok 1",
            "ZCXL-DONE: none",
            "ZCXL-HOST: reboot",
            "ZCXL-UNKNOWN: 1",
            "ZCXL-",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn panics_are_seen_anywhere_in_a_line() {
        assert!(matches!(
            parse_line("[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root"),
            Some(Event::Panic(s)) if s.starts_with("Kernel panic")
        ));
    }

    #[test]
    fn boot_collects_events_and_stops_on_request() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("console.log");
        let mut fake = Command::new("sh");
        fake.args([
            "-c",
            "echo boot; echo 'ZCXL-CHECK: ok 1 a'; echo 'ZCXL-HOST: kill-daemon'; \
             echo 'ZCXL-DONE: 1 passed, 0 failed'; exec sleep 30",
        ]);
        let mut kills = 0;
        let b = boot(
            &mut fake,
            &log,
            Duration::from_secs(20),
            false,
            |e| match e {
                Event::KillDaemon => {
                    kills += 1;
                    Next::Continue
                }
                Event::Done { .. } => Next::Stop,
                _ => Next::Continue,
            },
        )
        .unwrap();
        assert_eq!(kills, 1);
        assert!(!b.timed_out);
        assert_eq!(b.done(), Some((1, 0, 0)));
        assert!(b.events.contains(&Event::Check {
            n: 1,
            name: "a".into(),
            verdict: Verdict::Pass
        }));
        assert!(
            b.took < Duration::from_secs(20),
            "stopped early, not by the sleep"
        );
        assert!(std::fs::read_to_string(&log).unwrap().contains("boot"));
    }

    #[test]
    fn boot_times_out_and_kills() {
        let d = tempfile::tempdir().unwrap();
        let mut hang = Command::new("sh");
        hang.args(["-c", "echo starting; exec sleep 30"]);
        let b = boot(
            &mut hang,
            &d.path().join("c.log"),
            Duration::from_millis(500),
            false,
            |_| Next::Continue,
        )
        .unwrap();
        assert!(b.timed_out);
        assert!(b.done().is_none());
        assert!(b.took < Duration::from_secs(10));
    }
}
