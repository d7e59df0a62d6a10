//! `cargo xtask`: the project's task runner.
//!
//! Every task does its own set-up, so a newcomer on a fresh machine needs only
//! `cargo xtask test` and `cargo xtask demo`.

mod bench;
mod cmd;
mod fuzz;
mod test;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "zcxl developer tasks", version)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every check CI runs: formatting, clippy, unit/property/integration
    /// tests, short fuzz runs and (once they exist) the VM end-to-end tests.
    Test(test::TestArgs),
    /// Run the main job end to end (arrives with the VM environment).
    Demo,
    /// Compare the page codecs (zcxl vs liblz4, lz4_flex, zstd) on Silesia
    /// and a synthetic mix; report in target/bench/.
    Bench(bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.task {
        Task::Test(args) => test::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::Demo => anyhow::bail!(
            "`cargo xtask demo` needs the VM environment, which is not built yet; \
             see README.md (\"Status\") for what works today"
        ),
    }
}
