//! `cargo xtask`: the project's task runner.
//!
//! Every task does its own set-up, so a newcomer on a fresh machine needs only
//! `cargo xtask test` and `cargo xtask demo`.

mod bench;
mod cache;
mod cmd;
mod demo;
mod e2e;
mod fuzz;
mod guest;
mod kernel;
mod progress;
mod test;
mod vm;

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
    /// The main job: boot a guest with a zcxl device, load the driver, fill
    /// the device with a realistic page mix, show the device's statistics.
    Demo(demo::DemoArgs),
    /// Compare the page codecs (zcxl vs liblz4, lz4_flex, zstd) on Silesia
    /// and a synthetic mix; report in target/bench/.
    Bench(bench::BenchArgs),
    /// Build the guest kernel (cached by content hash; see driver/config/README.md).
    Kernel,
    /// The VM environment.
    #[command(subcommand)]
    Vm(VmTask),
}

#[derive(Subcommand)]
enum VmTask {
    /// Make the Debian root with QEMU 11.1 and the guest build tools (idempotent).
    Setup,
    /// Boot the demo's guest with an interactive console (busybox shell).
    Run(vm::interactive::RunArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.task {
        Task::Test(args) => test::run(&args),
        Task::Demo(args) => demo::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::Vm(VmTask::Setup) => {
            let env = vm::setup()?;
            println!("Debian root: {}", env.root.dir.display());
            match &env.qemu {
                vm::Qemu::Host(bin) => println!("QEMU: {} (the host's)", bin.display()),
                vm::Qemu::Root => println!("QEMU: qemu-system-x86_64 in the root (run chrooted)"),
            }
            println!("cache: {}", env.cache.display());
            Ok(())
        }
        Task::Vm(VmTask::Run(args)) => vm::interactive::run(&args),
        Task::Kernel => {
            let env = vm::setup()?;
            let k = kernel::ensure(&env)?;
            println!("kernel {} (key {})", k.release, k.key);
            println!("bzImage: {}", k.bzimage.display());
            println!("build tree (O=): {}", k.obj.display());
            Ok(())
        }
    }
}
