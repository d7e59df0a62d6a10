//! `cargo xtask vm run`: the demo's VM with an interactive console.

use super::boot::{self, AccelChoice};
use super::daemon::{self, Daemon, DeviceArgs};
use super::qemu::{self, Console};
use crate::{guest, kernel};
use anyhow::{bail, Result};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Boot without the zcxl device (no daemon).
    #[arg(long)]
    pub no_device: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[arg(long, value_enum, default_value_t = AccelChoice::Auto)]
    pub accel: AccelChoice,
}

pub fn run(args: &RunArgs) -> Result<()> {
    let env = super::setup()?;
    let kern = kernel::ensure(&env)?;
    let built = guest::build(&env, &kern)?;
    let image = guest::image(&env, &kern, &built)?;
    let key = kern.key.clone();
    drop(kern);
    let params = args.device.params();
    let daemon = if args.no_device {
        None
    } else if daemon::present() {
        let bin = daemon::build()?;
        Some(Daemon::start(
            &bin,
            &params,
            &env.ws.join("run"),
            &env.ws.join("logs/run-daemon.log"),
        )?)
    } else {
        eprintln!("    {}", daemon::ABSENT);
        None
    };
    let accel = boot::choose_accel(&env, &image, args.accel, &key)?;
    let p = daemon.as_ref().map(|_| &params);
    let with: Vec<String> = built
        .have_driver
        .then(|| "driver".to_string())
        .into_iter()
        .collect();
    let files = boot::Files::prepare(&env, &image, p.is_some())?;
    let g = boot::guest(
        &env,
        &image,
        accel,
        files.append_to(boot::append("shell", p, &with)),
        p,
        files.swap,
        Console::Interactive,
    );
    let args = g.args();
    eprintln!("==> {}", qemu::shell_line("qemu-system-x86_64", &args));
    if let Some(d) = &daemon {
        eprintln!(
            "    zcxl-vhost: {} (log {})",
            d.command_line(),
            d.log.display()
        );
    }
    eprintln!("    Ctrl-A X quits QEMU; `poweroff -f` in the guest does too.");
    let status = env.qemu_command().args(&args).status()?;
    drop(daemon);
    if !status.success() {
        bail!("QEMU exited with {status}");
    }
    Ok(())
}
