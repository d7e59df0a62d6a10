//! The VM end-to-end stage of `cargo xtask test`: set-up, kernel, driver,
//! daemon, then one guest boot that runs every guest check (xtask/guest/checks
//! and driver/tests/e2e) and reports one line per check. Checks marked
//! `# boot: 2` run in a second boot, with a new daemon that keeps the first
//! one's label file (--lsa): what must survive a daemon restart.

use crate::guest;
use crate::kernel;
use crate::vm::boot::{self, AccelChoice, Run};
use crate::vm::console::{Event, Next, Verdict};
use crate::vm::daemon::{self, Daemon, DeviceParams};
use anyhow::{bail, Result};
use std::time::Duration;

/// The whole guest run (boot + all checks) must end within this.
const GUEST_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// One line of the stage's report.
pub struct Line {
    pub name: String,
    pub result: Result<()>,
    pub skipped: Option<String>,
    pub took: Duration,
}

/// Run the stage, reporting each step through `step` (name, body) and each
/// guest check through `guest_line`.
pub fn run(
    accel: AccelChoice,
    mut step: impl FnMut(&str, &mut dyn FnMut() -> Result<()>),
    mut guest_line: impl FnMut(Line),
) {
    let mut env = None;
    step("vm: set-up (Debian root, QEMU 11.1)", &mut || {
        env = Some(crate::vm::setup()?);
        Ok(())
    });
    let Some(env) = env else { return };
    let mut kern = None;
    step("vm: guest kernel", &mut || {
        kern = Some(kernel::ensure(&env)?);
        Ok(())
    });
    let Some(kern) = kern else { return };
    let mut built = None;
    step("vm: guest modules (W=1) and programs", &mut || {
        let b = guest::build(&env, &kern)?;
        if !b.have_driver {
            eprintln!("    driver/zcxl is not in this checkout: checks that need it are skipped");
        }
        let warnings = b.warnings.clone();
        built = Some(b);
        if !warnings.is_empty() {
            bail!(
                "W=1 build has {} warning(s):\n{}",
                warnings.len(),
                warnings.join("\n")
            );
        }
        Ok(())
    });
    let Some(built) = built else { return };
    let mut bin = None;
    if daemon::present() {
        step("vm: zcxl-vhost (release build)", &mut || {
            bin = Some(daemon::build()?);
            Ok(())
        });
        if bin.is_none() {
            return;
        }
    } else {
        guest_line(Line {
            name: "vm: zcxl-vhost".into(),
            result: Ok(()),
            skipped: Some("vhost-backend/ is not in this checkout".into()),
            took: Duration::ZERO,
        });
    }
    let mut checks_seen = Vec::new();
    let run_dir = env.ws.join("run");
    // One label file for both boots, fresh for every run.
    let lsa = run_dir.join("lsa.img");
    let _ = std::fs::remove_file(&lsa);
    let params = DeviceParams {
        lsa: Some(lsa),
        ..DeviceParams::default()
    };
    let mut boots = None;
    let mut boot1_ok = false;
    step("vm: guest boots and runs its checks", &mut || {
        let image = guest::image(&env, &kern, &built)?;
        let accel = boot::choose_accel(&env, &image, accel, &kern.key)?;
        let b = boots.insert(Boots {
            env: &env,
            image,
            accel,
            bin: bin.as_deref(),
            params: &params,
            built: &built,
        });
        b.run(1, &mut checks_seen)?;
        boot1_ok = true;
        Ok(())
    });
    // After a boot that hung or died, a second one would most likely do the
    // same, and could take the run past CI's time limit before any result
    // is printed.
    if let Some(b) = boots.filter(|_| boot1_ok && second_boot_wanted()) {
        step(
            "vm: guest boots again (new daemon, same --lsa file) and runs its boot-2 checks",
            &mut || b.run(2, &mut checks_seen),
        );
    }
    let logs = env.ws.join("logs");
    for c in checks_seen {
        let (result, skipped) = match c.verdict {
            Verdict::Pass => (Ok(()), None),
            Verdict::Fail => {
                // What the check printed, so the failure reads in a CI log
                // without the console file (which stays in the clone).
                let said = std::fs::read_to_string(logs.join(console_log(c.boot)))
                    .map(|text| check_output(&text, &c.name, 60))
                    .unwrap_or_default();
                (
                    Err(anyhow::anyhow!(
                        "{said}(console: target/vm/logs/{})",
                        console_log(c.boot)
                    )),
                    None,
                )
            }
            Verdict::Skip(why) => (Ok(()), Some(why)),
        };
        guest_line(Line {
            name: if c.boot == 1 {
                format!("vm guest: {}", c.name)
            } else {
                format!("vm guest (boot {}): {}", c.boot, c.name)
            },
            result,
            skipped,
            took: c.took,
        });
    }
}

/// The last `max` console lines check `name` printed: from its
/// `ZCXL-RUN` line to its verdict.
fn check_output(console: &str, name: &str, max: usize) -> String {
    let lines: Vec<&str> = console.lines().collect();
    let is_run = |l: &&str| {
        l.strip_prefix("ZCXL-RUN: ")
            .and_then(|rest| rest.split_once(' '))
            .is_some_and(|(_, n)| n.trim() == name)
    };
    let Some(start) = lines.iter().rposition(is_run) else {
        return String::new();
    };
    let end = lines[start..]
        .iter()
        .position(|l| l.starts_with("ZCXL-CHECK: ") && l.trim_end().ends_with(name))
        .map_or(lines.len(), |i| start + i + 1);
    let from = start.max(end.saturating_sub(max));
    let mut out: String = lines[from..end].iter().map(|l| format!("{l}\n")).collect();
    if from > start {
        out.insert_str(0, "...\n");
    }
    out
}

/// Whether a guest check asks for the second boot (`# boot: 2`).
fn second_boot_wanted() -> bool {
    guest::checks().is_ok_and(|all| {
        all.iter().any(|(name, path)| {
            name.ends_with(".sh")
                && std::fs::read_to_string(path)
                    .is_ok_and(|text| text.lines().any(|l| l.trim() == "# boot: 2"))
        })
    })
}

/// A guest check's result.
struct Seen {
    name: String,
    verdict: Verdict,
    took: Duration,
    boot: u32,
}

/// The file name suffix of boot `boot`'s logs.
fn boot_suffix(boot: u32) -> String {
    if boot == 1 {
        String::new()
    } else {
        format!("-boot{boot}")
    }
}

fn console_log(boot: u32) -> String {
    format!("e2e-console{}.log", boot_suffix(boot))
}

/// What the guest boots of a run share.
struct Boots<'a> {
    env: &'a crate::vm::Env,
    image: guest::Image,
    accel: crate::vm::qemu::Accel,
    bin: Option<&'a std::path::Path>,
    params: &'a DeviceParams,
    built: &'a guest::Built,
}

impl Boots<'_> {
    /// One guest boot running the checks of boot `boot` (into `seen`, also
    /// when the boot fails later), with a daemon of its own when this
    /// checkout has one.
    fn run(&self, boot: u32, seen: &mut Vec<Seen>) -> Result<()> {
        let (env, params, accel) = (self.env, self.params, self.accel);
        let suffix = boot_suffix(boot);
        let before = seen.len();
        let mut d = match self.bin {
            Some(b) => Some(Daemon::start(
                b,
                params,
                &env.ws.join("run"),
                &env.ws.join(format!("logs/e2e-daemon{suffix}.log")),
            )?),
            None => None,
        };
        let mut with = Vec::new();
        if self.built.have_driver {
            with.push("driver".to_string());
        }
        let started = std::time::Instant::now();
        let mut last = started;
        let log_name = console_log(boot);
        let ran = Run {
            env,
            image: &self.image,
            accel,
            params: d.as_ref().map(|_| params),
            daemon: d.as_mut(),
            mode: "checks",
            with,
            timeout: GUEST_TIMEOUT,
            echo: false,
            log_name: &log_name,
            boot,
        }
        .go(|e, _| {
            match e {
                Event::Running { name, .. } => {
                    eprintln!("    guest: running {name}");
                    last = std::time::Instant::now();
                }
                Event::Check { name, verdict, .. } => {
                    let took = match verdict {
                        Verdict::Skip(_) => Duration::ZERO,
                        _ => last.elapsed(),
                    };
                    seen.push(Seen {
                        name: name.clone(),
                        verdict: verdict.clone(),
                        took,
                        boot,
                    });
                    last = std::time::Instant::now();
                }
                Event::Done { .. } => return Next::Stop,
                _ => {}
            }
            Next::Continue
        })?;
        let b = &ran.boot;
        eprintln!(
            "    {accel:?} guest ran in {:.1}s; console log: {}",
            b.took.as_secs_f64(),
            b.log.display()
        );
        if let Some(p) = b.panic() {
            bail!("the guest panicked: {p}\n{}", b.tail(40));
        }
        if b.timed_out {
            bail!(
                "the guest did not finish within {}s:\n{}",
                GUEST_TIMEOUT.as_secs(),
                b.tail(40)
            );
        }
        let Some((passed, failed, skipped)) = b.done() else {
            bail!(
                "the guest stopped ({}) before its runner finished:\n{}",
                b.status.map_or("killed".to_string(), |s| s.to_string()),
                b.tail(40)
            );
        };
        let counted = (seen.len() - before) as u32;
        if passed + failed + skipped != counted {
            bail!("the runner reported {passed}+{failed}+{skipped} checks but printed {counted} check lines");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_check_brings_its_own_output() {
        let console = "ZCXL-RUN: 1 10-a\nZCXL-CHECK: ok 1 10-a\nZCXL-RUN: 2 20-b\n  note one\nFAIL: it broke\nZCXL-CHECK: FAIL 2 20-b\nZCXL-RUN: 3 30-c\n";
        assert_eq!(
            super::check_output(console, "20-b", 60),
            "ZCXL-RUN: 2 20-b\n  note one\nFAIL: it broke\nZCXL-CHECK: FAIL 2 20-b\n"
        );
        assert_eq!(
            super::check_output(console, "20-b", 2),
            "...\nFAIL: it broke\nZCXL-CHECK: FAIL 2 20-b\n"
        );
        // A check that never finished: everything after its start.
        assert_eq!(
            super::check_output(console, "30-c", 60),
            "ZCXL-RUN: 3 30-c\n"
        );
        assert_eq!(super::check_output(console, "99-none", 60), "");
    }
}
