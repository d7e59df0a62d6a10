//! Long steps: their output goes to a log file while the terminal shows that
//! they are alive (elapsed time and the latest log line), and a failure shows
//! the log's tail.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// How many lines of a failed step's log are shown.
const TAIL_LINES: usize = 40;

/// Run `cmd` as the step `what`, its stdout and stderr appended to `log`.
/// While it runs the terminal shows progress; on failure the error carries
/// the tail of the log and `hint` (what to do about it).
pub fn run_step(what: &str, cmd: &mut Command, log: &Path, hint: &str) -> Result<Duration> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening log {}", log.display()))?;
    let start_offset = out.seek(SeekFrom::End(0)).unwrap_or(0);
    writeln!(out, "\n### {what}\n### {cmd:?}")?;
    let err = out.try_clone()?;
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;

    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let done = Arc::clone(&done);
        let what = what.to_string();
        let log = log.to_path_buf();
        thread::spawn(move || show_progress(&what, &log, start, &done))
    };
    let status = child.wait();
    done.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    let took = start.elapsed();
    let status = status.with_context(|| format!("waiting for {shown}"))?;
    if !status.success() {
        let tail = log_tail(log, start_offset, TAIL_LINES);
        bail!(
            "{what} failed ({status}) after {:.0}s.\n--- last lines of {} ---\n{tail}\n---\n{hint}",
            took.as_secs_f64(),
            log.display()
        );
    }
    eprintln!("    {what}: done in {}", human_duration(took));
    Ok(took)
}

/// On a terminal: one line rewritten every second. Elsewhere (CI): a line
/// every 30 seconds, so logs stay short but a stalled step is visible.
fn show_progress(what: &str, log: &Path, start: Instant, done: &AtomicBool) {
    let tty = std::io::stderr().is_terminal();
    let every = if tty {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(30)
    };
    let mut next = Instant::now() + every;
    let spinner = ['|', '/', '-', '\\'];
    let mut tick = 0usize;
    while !done.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(200));
        if Instant::now() < next {
            continue;
        }
        next += every;
        tick += 1;
        let last = last_line(log).unwrap_or_default();
        let elapsed = human_duration(start.elapsed());
        if tty {
            let mut line = format!("  {} {what} [{elapsed}] {last}", spinner[tick % 4]);
            line = line.chars().take(terminal_width()).collect();
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("    … {what} [{elapsed}] {last}");
        }
    }
    if tty {
        eprint!("\r\x1b[2K");
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// The last non-empty line of a log, trimmed for a status line.
fn last_line(log: &Path) -> Option<String> {
    let mut f = File::open(log).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().chars().take(200).collect())
}

/// The last `n` lines written to `log` since `offset`.
pub fn log_tail(log: &Path, offset: u64, n: usize) -> String {
    let Ok(mut f) = File::open(log) else {
        return String::from("(log unreadable)");
    };
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(offset)).is_err() || f.read_to_end(&mut buf).is_err() {
        return String::from("(log unreadable)");
    }
    tail_lines(&String::from_utf8_lossy(&buf), n)
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `75s` → `1m15s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(human_duration(Duration::from_secs(75)), "1m15s");
        assert_eq!(human_duration(Duration::from_secs(3600)), "60m00s");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }

    #[test]
    fn failed_step_reports_log_tail_and_hint() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("step.log");
        let err = run_step(
            "failing step",
            Command::new("sh").args(["-c", "echo first; echo the-cause >&2; exit 3"]),
            &log,
            "do the right thing",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("the-cause"), "{err}");
        assert!(err.contains("do the right thing"), "{err}");
        assert!(err.contains("failing step failed"), "{err}");
    }

    #[test]
    fn successful_step_appends_to_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sub/step.log");
        run_step("ok step", Command::new("echo").arg("hello"), &log, "").unwrap();
        run_step("ok step", Command::new("echo").arg("again"), &log, "").unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("hello") && text.contains("again"));
    }
}
