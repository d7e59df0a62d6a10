//! `cargo xtask test`: everything CI checks, one summary line per check.

use crate::cmd::{self, cargo};
use anyhow::{bail, Result};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct TestArgs {
    /// Seconds each fuzz target runs (0 skips fuzzing).
    #[arg(long, default_value_t = 20)]
    pub fuzz_seconds: u64,
}

/// One named check and how it went.
struct Outcome {
    name: String,
    result: Result<()>,
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
        took: start.elapsed(),
    });
}

pub fn run(args: &TestArgs) -> Result<()> {
    let mut outcomes = Vec::new();
    check(&mut outcomes, "rustfmt", || {
        cmd::run(cargo().args(["fmt", "--all", "--", "--check"]))
    });
    check(&mut outcomes, "clippy", || {
        cmd::run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    check(&mut outcomes, "cargo test", || {
        cmd::run(cargo().args(["test", "--workspace"]))
    });
    if args.fuzz_seconds > 0 {
        fuzz_smoke(&mut outcomes, args.fuzz_seconds);
    }
    summarize(&outcomes)
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
        let verdict = if o.result.is_ok() { "PASS" } else { "FAIL" };
        println!("{verdict} {} ({:.1}s)", o.name, o.took.as_secs_f64());
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    println!("{} passed, {} failed", outcomes.len() - failed, failed);
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}
