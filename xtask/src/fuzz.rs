//! cargo-fuzz targets: discovery, installation of cargo-fuzz, short runs.
//!
//! The toolchain here is stable-only; cargo-fuzz needs `-Z` flags, which
//! `RUSTC_BOOTSTRAP=1` unlocks for this one invocation.

use crate::cmd::{self, cargo, workspace_root};
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Crates that carry a `fuzz/` directory.
const FUZZED_CRATES: &[&str] = &["device", "vhost-backend"];

pub struct Target {
    /// `crate/target`, as shown in the summary.
    pub name: String,
    crate_dir: PathBuf,
    target: String,
}

pub fn ensure_cargo_fuzz() -> Result<()> {
    let installed = cargo()
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    eprintln!("cargo-fuzz is missing; installing it from crates.io (once)");
    cmd::run(cargo().args(["install", "--locked", "cargo-fuzz"]))
}

pub fn targets() -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for krate in FUZZED_CRATES {
        let crate_dir = workspace_root().join(krate);
        let targets_dir = crate_dir.join("fuzz/fuzz_targets");
        if !targets_dir.is_dir() {
            continue;
        }
        let mut names: Vec<String> = std::fs::read_dir(&targets_dir)
            .with_context(|| format!("reading {}", targets_dir.display()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".rs").map(str::to_string)
            })
            .collect();
        names.sort();
        for target in names {
            out.push(Target {
                name: format!("{krate}/{target}"),
                crate_dir: crate_dir.clone(),
                target,
            });
        }
    }
    Ok(out)
}

pub fn run(target: &Target, seconds: u64) -> Result<()> {
    cmd::run(
        cargo()
            .current_dir(&target.crate_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", &target.target, "--"])
            .arg(format!("-max_total_time={seconds}"))
            // libFuzzer's default of 4096 bytes is shorter than the largest
            // LZ4 blob of a page (an incompressible page takes 4113 bytes).
            .arg("-max_len=8192")
            .arg("-rss_limit_mb=4096"),
    )
}
