//! `cargo xtask test`: everything CI checks, one summary line per check.

use crate::cmd::{self, cargo};
use crate::vm::boot::AccelChoice;
use anyhow::{bail, Result};
use std::cell::RefCell;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct TestArgs {
    /// Seconds each fuzz target runs (0 skips fuzzing).
    #[arg(long, default_value_t = 20)]
    pub fuzz_seconds: u64,
    /// Skip the VM end-to-end stage (Debian root, guest kernel, guest checks).
    #[arg(long, conflicts_with = "only_vm")]
    pub no_vm: bool,
    /// Run only the VM end-to-end stage (for iterating on guest checks).
    #[arg(long)]
    pub only_vm: bool,
    /// Accelerator for the VM stage.
    #[arg(long, value_enum, default_value_t = AccelChoice::Auto)]
    pub accel: AccelChoice,
}

/// One named check and how it went.
struct Outcome {
    name: String,
    result: Result<()>,
    /// Not run, and why (counted apart from passes and failures).
    skipped: Option<String>,
    took: Duration,
}

fn check(outcomes: &mut Vec<Outcome>, name: &str, f: impl FnOnce() -> Result<()>) {
    eprintln!("==> {name}");
    let start = Instant::now();
    let result = f();
    if let Err(e) = &result {
        eprintln!("FAILED {name}: {e:#}");
    }
    outcomes.push(Outcome {
        name: name.to_string(),
        result,
        skipped: None,
        took: start.elapsed(),
    });
}

pub fn run(args: &TestArgs) -> Result<()> {
    let mut outcomes = Vec::new();
    if !args.only_vm {
        host_checks(&mut outcomes, args);
    }
    if !args.no_vm {
        vm_stage(&mut outcomes, args.accel);
    }
    summarize(&outcomes)
}

/// Everything but the VM stage: formatting, lints, tests, fuzz smoke runs.
fn host_checks(outcomes: &mut Vec<Outcome>, args: &TestArgs) {
    check(outcomes, "rustfmt", || {
        cmd::run(cargo().args(["fmt", "--all", "--", "--check"]))
    });
    check(outcomes, "clippy", || {
        cmd::run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    check(outcomes, "cargo test", || {
        cmd::run(cargo().args(["test", "--workspace"]))
    });
    if args.fuzz_seconds > 0 {
        fuzz_smoke(outcomes, args.fuzz_seconds);
    }
}

/// The VM end-to-end stage (crate::e2e): its steps and each guest check.
fn vm_stage(outcomes: &mut Vec<Outcome>, accel: AccelChoice) {
    let shared = RefCell::new(std::mem::take(outcomes));
    crate::e2e::run(
        accel,
        |name, body| check(&mut shared.borrow_mut(), name, body),
        |line| {
            if let Some(why) = &line.skipped {
                eprintln!("    {}: skipped ({why})", line.name);
            } else if let Err(e) = &line.result {
                eprintln!("FAILED {}: {e:#}", line.name);
            }
            shared.borrow_mut().push(Outcome {
                name: line.name,
                result: line.result,
                skipped: line.skipped,
                took: line.took,
            })
        },
    );
    *outcomes = shared.into_inner();
}

/// A short run of every cargo-fuzz target; installs cargo-fuzz when missing.
fn fuzz_smoke(outcomes: &mut Vec<Outcome>, seconds: u64) {
    let mut targets = Vec::new();
    check(outcomes, "fuzz: set-up", || {
        crate::fuzz::ensure_cargo_fuzz()?;
        targets = crate::fuzz::targets()?;
        Ok(())
    });
    for target in targets {
        check(
            outcomes,
            &format!("fuzz {} ({seconds}s)", target.name),
            || crate::fuzz::run(&target, seconds),
        );
    }
}

fn summarize(outcomes: &[Outcome]) -> Result<()> {
    println!();
    for o in outcomes {
        let verdict = match (&o.skipped, &o.result) {
            (Some(_), _) => "SKIP",
            (None, Ok(())) => "PASS",
            (None, Err(_)) => "FAIL",
        };
        let why = o
            .skipped
            .as_ref()
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
        println!("{verdict} {} ({:.1}s){why}", o.name, o.took.as_secs_f64());
    }
    let skipped = outcomes.iter().filter(|o| o.skipped.is_some()).count();
    let failed = outcomes
        .iter()
        .filter(|o| o.skipped.is_none() && o.result.is_err())
        .count();
    let passed = outcomes.len() - failed - skipped;
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}
