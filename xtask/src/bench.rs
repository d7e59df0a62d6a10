//! `cargo xtask bench`: the standard codec comparison, written to
//! `target/bench/` (codecs.txt, codecs.json, codecs.svg).
//!
//! Builds zcxl-bench and its lz4_flex-unsafe helper (a separate crate, see
//! bench/src/main.rs) into the same target directory, then runs
//! `zcxl-bench codecs` on the Silesia corpus (read in place from
//! `../shared/corpus/silesia`) and the default synthetic mix.

use crate::cmd::{self, cargo, workspace_root};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Corpus files or directories [default: ../shared/corpus/silesia].
    #[arg(long, value_name = "DIR|FILE")]
    corpus: Vec<PathBuf>,
    /// Further `zcxl-bench codecs` options, after `--` (e.g. `-- --threads 2`).
    #[arg(last = true)]
    extra: Vec<String>,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let root = workspace_root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    cmd::run(cargo().args(["build", "--release", "-p", "zcxl-bench"]))?;
    cmd::run(
        cargo()
            .args(["build", "--release", "--manifest-path"])
            .arg(root.join("bench/flex-unsafe/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir),
    )?;

    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut corpus = args.corpus.clone();
    if corpus.is_empty() {
        let silesia = root.join("../shared/corpus/silesia");
        if silesia.is_dir() {
            corpus.push(silesia);
        } else {
            eprintln!(
                "note: {} not found; measuring the synthetic mix only",
                silesia.display()
            );
        }
    }

    let mut bench = Command::new(target_dir.join("release/zcxl-bench"));
    bench.arg("codecs");
    if !corpus.is_empty() {
        bench.arg("--corpus").args(&corpus);
    }
    bench
        .args(["--synthetic", "default", "--json"])
        .arg(out_dir.join("codecs.json"))
        .arg("--plot")
        .arg(out_dir.join("codecs.svg"))
        .args(&args.extra)
        .stderr(Stdio::inherit());
    let shown = format!("{bench:?}");
    eprintln!("==> {shown}");
    let output = bench
        .output()
        .with_context(|| format!("cannot start {shown}"))?;
    let table = String::from_utf8_lossy(&output.stdout);
    print!("{table}");
    if !output.status.success() {
        anyhow::bail!("{shown} failed: {}", output.status);
    }
    let report = out_dir.join("codecs.txt");
    std::fs::write(&report, format!("$ {shown}\n{table}"))
        .with_context(|| format!("writing {}", report.display()))?;
    eprintln!("report: {}", out_dir.display());
    Ok(())
}
