//! The VM end-to-end stage of `cargo xtask test`: set-up, kernel, driver,
//! daemon, then one guest boot that runs every guest check (xtask/guest/checks
//! and driver/tests/e2e) and reports one line per check.

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
    step("vm: guest boots and runs its checks", &mut || {
        let image = guest::image(&env, &kern, &built)?;
        let accel = boot::choose_accel(&env, &image, accel, &kern.key)?;
        let params = DeviceParams::default();
        let mut d = match &bin {
            Some(b) => Some(Daemon::start(
                b,
                &params,
                &env.ws.join("run"),
                &env.ws.join("logs/e2e-daemon.log"),
            )?),
            None => None,
        };
        let mut with = Vec::new();
        if built.have_driver {
            with.push("driver".to_string());
        }
        let started = std::time::Instant::now();
        let mut last = started;
        let ran = Run {
            env: &env,
            image: &image,
            accel,
            params: d.as_ref().map(|_| &params),
            daemon: d.as_mut(),
            mode: "checks",
            with,
            timeout: GUEST_TIMEOUT,
            echo: false,
            log_name: "e2e-console.log",
        }
        .go(|e, _| {
            match e {
                Event::Running { name, .. } => {
                    eprintln!("    guest: running {name}");
                    last = std::time::Instant::now();
                }
                Event::Check { name, verdict, .. } => {
                    checks_seen.push((name.clone(), verdict.clone(), last.elapsed()));
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
        let counted = checks_seen.len() as u32;
        if passed + failed + skipped != counted {
            bail!("the runner reported {passed}+{failed}+{skipped} checks but printed {counted} check lines");
        }
        Ok(())
    });
    for (name, verdict, took) in checks_seen {
        let (result, skipped) = match verdict {
            Verdict::Pass => (Ok(()), None),
            Verdict::Fail => (
                Err(anyhow::anyhow!("see target/vm/logs/e2e-console.log")),
                None,
            ),
            Verdict::Skip(why) => (Ok(()), Some(why)),
        };
        guest_line(Line {
            name: format!("vm guest: {name}"),
            result,
            skipped,
            took,
        });
    }
}
