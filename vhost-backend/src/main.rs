use clap::Parser;
use zcxl_vhost::cli::{Cli, Command};
use zcxl_vhost::daemon;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Stats { socket_path }) => print!("{}", daemon::query_stats(&socket_path)?),
        None => daemon::run(cli.daemon.validate()?)?,
    }
    Ok(())
}
