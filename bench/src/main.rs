//! `zcxl-bench`: compares page compressors on 4 KiB pages.
//!
//! `zcxl-bench codecs` runs every selected codec over every input (a
//! corpus split into pages, and/or a seeded synthetic mix) and reports, per
//! codec: ratio by the device's own media accounting, compression and
//! decompression MB/s, and per-page latency percentiles; plus a cache-hot
//! same-filled vs memcpy comparison and the issue-3 targets, all as ratios
//! measured within this one run.
//!
//! ## lz4_flex safe and unsafe in one comparison
//!
//! lz4_flex chooses safe or unsafe code with Cargo features
//! (`safe-encode`, `safe-decode`), and Cargo unifies features: one binary
//! can only contain one of the two. So `lz4_flex-unsafe` runs in a helper
//! binary, `zcxl-bench-lz4-flex-unsafe` (crate `bench/flex-unsafe`, kept
//! out of the workspace so its features are not unified with ours). It
//! includes the same measurement code (`harness.rs`) and the same lz4_flex
//! codec (`flex.rs`) by path, receives the very same pages through a
//! temporary file, and prints its measurement as JSON; zcxl-bench turns it
//! into a row like any other. `cargo xtask bench` builds the helper next to
//! zcxl-bench, where zcxl-bench looks for it by default.

mod codecs;
mod flex;
mod harness;
mod hot;
mod pages;
mod plot;
mod report;
mod synthetic;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use codecs::Kind;
use harness::{Measurement, Page};
use indicatif::{ProgressBar, ProgressStyle};
use report::Row;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Parser)]
#[command(
    name = "zcxl-bench",
    version,
    about = "Benchmark page compressors on 4 KiB pages (zcxl vs liblz4, lz4_flex, zstd)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compare codecs side by side on corpus and/or synthetic pages.
    ///
    /// Every codec compresses and decompresses every page (the round trip is
    /// verified once, untimed), then runs timed passes; the best pass counts.
    /// Ratio = logical bytes / media bytes, where media bytes follow the
    /// device: 16 B of metadata per page plus the blob's 32-byte size class,
    /// or a raw 4 KiB page when the blob does not save the default raw
    /// margin (256 B); repeated-word pages (zcxl-same) cost metadata only.
    /// Without --corpus and --synthetic, the default synthetic mix is used.
    ///
    /// Codec names: zcxl-lz4, zcxl-zstd-N, zcxl-same (the device's own
    /// functions), lz4_flex-safe, lz4_flex-unsafe (helper process), lz4-c
    /// (LZ4_compress_default / LZ4_decompress_safe), lz4-c-fast-N
    /// (LZ4_compress_fast, acceleration N), zstd-N (zstd::bulk per page, a
    /// fresh context each call), memcpy (the copy ceiling).
    Codecs(CodecsArgs),
}

#[derive(clap::Args)]
struct CodecsArgs {
    /// Files, directories (their regular files) or .zip archives (each
    /// member, read in place) to split into 4 KiB pages; one input in all.
    #[arg(long, value_name = "DIR|FILE", num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// A seeded synthetic mix as a second input, e.g.
    /// `zero=15,same=2,text=30,heap=38,random=15,pages=8192,seed=1`, or
    /// `default` (that mix).
    #[arg(long, value_name = "MIX")]
    synthetic: Option<String>,
    /// Codecs to compare, in order (repeat or list several). Default: the
    /// standard comparison (zcxl-lz4, lz4-c, lz4-c-fast-4, lz4_flex-safe,
    /// lz4_flex-unsafe, zcxl-zstd-1, zstd-1, zcxl-zstd-3, zstd-3,
    /// zcxl-same, memcpy).
    #[arg(long = "codec", value_name = "NAME", num_args = 1..)]
    codecs: Vec<String>,
    /// Worker threads per codec; pages are split between them. With more
    /// than one, each pass is timed on the wall clock (start to end of all
    /// threads), so the figure is what the threads together achieve.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
    /// Rounds over the codec list; each codec keeps its best pass. Rounds
    /// interleave the codecs, so load from elsewhere hits them alike.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    rounds: u16,
    /// Timed passes per codec per round.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=100))]
    reps: u16,
    /// Write the report as JSON (one object per codec and input under
    /// `codecs`, plus `hot` and `targets`).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an SVG chart of ratio against compression and decompression
    /// speed.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// The lz4_flex-unsafe helper binary [default: zcxl-bench-lz4-flex-unsafe
    /// next to this executable].
    #[arg(long, value_name = "PATH")]
    flex_unsafe_helper: Option<PathBuf>,
    /// Skip the cache-hot same-filled vs memcpy measurement.
    #[arg(long)]
    no_hot: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Codecs(args) => codecs_cmd(&args),
    }
}

/// One input: a name and its pages.
struct Input {
    name: String,
    pages: Vec<Page>,
}

fn codecs_cmd(args: &CodecsArgs) -> Result<()> {
    let names: Vec<String> = if args.codecs.is_empty() {
        codecs::DEFAULT.iter().map(|s| s.to_string()).collect()
    } else {
        args.codecs
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::to_string)
            .collect()
    };
    let mut kinds = names
        .iter()
        .map(|n| Kind::parse(n).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    for (i, k) in kinds.iter().enumerate() {
        if kinds[..i].contains(k) {
            bail!("codec {} is listed twice", k.name());
        }
    }

    let helper = helper_path(args.flex_unsafe_helper.as_deref());
    if kinds.contains(&Kind::Lz4FlexUnsafe) && !helper.is_file() {
        let msg = format!(
            "the lz4_flex-unsafe helper {} is missing; build it with `cargo build --release \
             --manifest-path bench/flex-unsafe/Cargo.toml --target-dir <this target dir>` \
             (cargo xtask bench does) or pass --flex-unsafe-helper",
            helper.display()
        );
        if !args.codecs.is_empty() {
            bail!(msg);
        }
        eprintln!("warning: {msg}; skipping lz4_flex-unsafe");
        kinds.retain(|k| *k != Kind::Lz4FlexUnsafe);
    }

    let mut inputs = Vec::new();
    if !args.corpus.is_empty() {
        let (pages, sources) = pages::load(&args.corpus)?;
        eprintln!(
            "corpus: {} pages from {} sources ({})",
            pages.len(),
            sources.len(),
            sources
                .iter()
                .map(|s| format!("{} {}", short_name(&s.name), s.pages))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let name = format!(
            "corpus:{}",
            args.corpus
                .iter()
                .map(|p| short_name(&p.display().to_string()))
                .collect::<Vec<_>>()
                .join("+")
        );
        inputs.push(Input { name, pages });
    }
    if args.synthetic.is_some() || args.corpus.is_empty() {
        let mix = synthetic::Mix::parse(args.synthetic.as_deref().unwrap_or("default"))?;
        inputs.push(Input {
            name: format!("synthetic:{}", mix.describe()),
            pages: mix.generate(),
        });
    }

    let hot = (!args.no_hot).then(|| {
        eprintln!("measuring cache-hot same-filled detection vs memcpy");
        hot::measure()
    });

    let rows = run_all(args, &kinds, &inputs, &helper)?;
    let targets = report::targets(&rows, hot.as_ref());
    for input in &inputs {
        report::print_table(&rows, &input.name);
    }
    if let Some(h) = &hot {
        hot::print(h);
    }
    report::print_targets(&targets);

    if let Some(path) = &args.json {
        let report = report::Report {
            command: std::env::args().collect::<Vec<_>>().join(" "),
            cpu: report::cpu_model(),
            threads: usize::from(args.threads),
            rounds: usize::from(args.rounds),
            codecs: &rows,
            hot: hot.as_ref(),
            targets: &targets,
        };
        write(path, &serde_json::to_string_pretty(&report)?)?;
    }
    if let Some(path) = &args.plot {
        write(path, &plot::svg(&rows))?;
    }
    Ok(())
}

/// Every round over every input and codec; keeps each codec's best passes.
fn run_all(args: &CodecsArgs, kinds: &[Kind], inputs: &[Input], helper: &Path) -> Result<Vec<Row>> {
    let threads = usize::from(args.threads);
    let reps = usize::from(args.reps);
    let rounds = usize::from(args.rounds);
    let bar = ProgressBar::new((rounds * inputs.len() * kinds.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut best: Vec<Option<Measurement>> = vec![None; inputs.len() * kinds.len()];
    for round in 0..rounds {
        for (i, input) in inputs.iter().enumerate() {
            // Written once per input and round, only when the helper runs.
            let mut page_file: Option<tempfile::NamedTempFile> = None;
            for (k, kind) in kinds.iter().enumerate() {
                bar.set_message(format!(
                    "round {}: {} on {}",
                    round + 1,
                    kind.name(),
                    input.name
                ));
                let m = match kind.instance() {
                    Some(_) => {
                        let make = || kind.instance().unwrap_or_else(|| Box::new(NoCodec));
                        harness::measure(&make, &input.pages, threads, reps)
                            .map_err(anyhow::Error::msg)
                    }
                    None => {
                        if page_file.is_none() {
                            page_file = Some(write_pages(&input.pages)?);
                        }
                        let file = page_file
                            .as_ref()
                            .map(|f| f.path())
                            .unwrap_or(Path::new(""));
                        run_helper(helper, file, threads, reps)
                    }
                }
                .with_context(|| format!("{} on {}", kind.name(), input.name))?;
                let slot = &mut best[i * kinds.len() + k];
                *slot = Some(match slot.take() {
                    None => m,
                    Some(prev) => keep_best(prev, m),
                });
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let mut rows = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for (k, kind) in kinds.iter().enumerate() {
            if let Some(m) = &best[i * kinds.len() + k] {
                rows.push(Row::new(kind.name(), input.name.clone(), m));
            }
        }
    }
    Ok(rows)
}

/// Merges two rounds: the best pass times, the lower latency percentiles.
fn keep_best(a: Measurement, b: Measurement) -> Measurement {
    Measurement {
        compress_secs: a.compress_secs.min(b.compress_secs),
        decompress_secs: a.decompress_secs.min(b.decompress_secs),
        compress_ns: if b.compress_ns.p50 < a.compress_ns.p50 {
            b.compress_ns
        } else {
            a.compress_ns
        },
        decompress_ns: if b.decompress_ns.p50 < a.decompress_ns.p50 {
            b.decompress_ns
        } else {
            a.decompress_ns
        },
        ..a
    }
}

/// Stand-in that is never built: `instance()` is only `None` for the
/// helper codec, which takes the other branch.
struct NoCodec;

impl harness::Codec for NoCodec {
    fn compress(&mut self, _: &Page, _: &mut [u8]) -> Result<harness::Packed, String> {
        Err("no in-process codec".into())
    }
    fn decompress(&mut self, _: &[u8], _: &mut Page) -> Result<(), String> {
        Err("no in-process codec".into())
    }
}

fn helper_path(given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name(format!(
        "zcxl-bench-lz4-flex-unsafe{}",
        std::env::consts::EXE_SUFFIX
    ))
}

fn write_pages(pages: &[Page]) -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().context("creating the page file for the helper")?;
    for p in pages {
        f.write_all(p)?;
    }
    f.flush()?;
    Ok(f)
}

fn run_helper(helper: &Path, pages: &Path, threads: usize, reps: usize) -> Result<Measurement> {
    let out = Command::new(helper)
        .arg(pages)
        .arg(threads.to_string())
        .arg(reps.to_string())
        .output()
        .with_context(|| format!("running {}", helper.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            helper.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{} printed no measurement", helper.display()))
}

fn short_name(path: &str) -> String {
    Path::new(path.split(':').next().unwrap_or(path))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
