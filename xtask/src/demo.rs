//! `cargo xtask demo`: the main job end to end. Sets up what is missing,
//! starts zcxl-vhost, boots a guest that loads zcxl.ko and fills the device
//! (xtask/guest/demo.sh), then prints the device's own statistics and the
//! commands it used. On the patched kernel (driver/patches) the window is a
//! protected node and the pages arrive through zswap: a workload in a memory
//! cgroup below its working set swaps to the guest's swap disk, and zswap
//! stores the pages on the device. On a stock kernel the page-mix workload
//! binds its memory to the window's node (zcxl-workload.c).

use crate::vm::boot::{self, AccelChoice, Run};
use crate::vm::console::{Event, Next};
use crate::vm::daemon::{self, Daemon, DeviceArgs};
use crate::{guest, kernel};
use anyhow::{bail, Result};
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    #[arg(long, value_enum, default_value_t = AccelChoice::Auto)]
    pub accel: AccelChoice,
    /// Show the guest's whole console, not just the demo's lines.
    #[arg(long)]
    pub console: bool,
}

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

pub fn run(args: &DemoArgs) -> Result<()> {
    // Say at once what is missing rather than after a 15-minute kernel build.
    if !daemon::present() {
        bail!("{}", daemon::ABSENT);
    }
    if !crate::cmd::workspace_root().join("driver/zcxl").is_dir() {
        bail!(
            "driver/zcxl (zcxl.ko) is not in this checkout yet: it lands with the driver branch. \
             Until then `cargo xtask vm run` boots the guest kernel, and `cargo xtask test` runs \
             the guest checks that need only the device"
        );
    }
    let started = Instant::now();
    let env = crate::vm::setup()?;
    let kern = kernel::ensure(&env)?;
    let built = guest::build(&env, &kern)?;
    if !built.have_driver {
        bail!("driver/zcxl has no Kbuild/Makefile yet: zcxl.ko cannot be built");
    }
    let image = guest::image(&env, &kern, &built)?;
    let key = kern.key.clone();
    drop(kern);
    let bin = daemon::build()?;
    let accel = boot::choose_accel(&env, &image, args.accel, &key)?;
    let params = args.device.params();
    let mut d = Daemon::start(
        &bin,
        &params,
        &env.ws.join("run"),
        &env.ws.join("logs/demo-daemon.log"),
    )?;
    eprintln!(
        "==> booting the guest ({accel:?}; set-up took {:.0}s)",
        started.elapsed().as_secs_f64()
    );
    let mut stats = None;
    let mut guest_ok = false;
    let ran = Run {
        env: &env,
        image: &image,
        accel,
        params: Some(&params),
        daemon: Some(&mut d),
        mode: "demo",
        with: vec!["driver".into()],
        timeout: TIMEOUT,
        echo: args.console,
        log_name: "demo-console.log",
        boot: 1,
    }
    .go(|e, daemon| {
        if let Event::Demo(line) = e {
            if !args.console {
                println!("  guest: {line}");
            }
            if line == "done" || line == "failed" {
                guest_ok = line == "done";
                if let Some(d) = daemon {
                    stats = Some(settled_stats(d));
                }
                return Next::Stop;
            }
        }
        Next::Continue
    })?;
    let b = &ran.boot;
    if let Some(p) = b.panic() {
        bail!("the guest panicked: {p}\nconsole log: {}", b.log.display());
    }
    if b.timed_out {
        bail!(
            "the demo did not finish within {}s; console log: {}",
            TIMEOUT.as_secs(),
            b.log.display()
        );
    }
    let Some(stats) = stats else {
        bail!(
            "the guest stopped before the workload ended:\n{}",
            b.tail(30)
        );
    };
    let stats = stats?;
    println!();
    println!("{}", stats_table(&stats)?);
    println!("QEMU command:\n  {}\n", ran.qemu_line);
    println!("zcxl-vhost command:\n  {}\n", d.command_line());
    println!(
        "console log: {}\ndaemon log:  {}\ntotal time:  {:.0}s",
        b.log.display(),
        d.log.display(),
        started.elapsed().as_secs_f64()
    );
    if !guest_ok {
        bail!("the guest workload failed; see the console log");
    }
    Ok(())
}

/// Statistics once the device has caught up: the shadow scanner stores
/// pages written without hints, so poll until two readings agree.
fn settled_stats(d: &mut Daemon) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = d.stats()?;
    loop {
        std::thread::sleep(Duration::from_secs(3));
        let now = d.stats()?;
        let settled = stores(&now) == stores(&last);
        last = now;
        if settled || Instant::now() > deadline {
            return Ok(last);
        }
    }
}

fn stores(json: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(json).ok()?;
    v.pointer("/media/stores")?.as_u64()
}

fn mib(v: Option<&Value>) -> String {
    match v.and_then(Value::as_u64) {
        Some(b) => format!("{:.1} MiB", b as f64 / 1048576.0),
        None => "?".into(),
    }
}

fn num(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "?".into(),
    }
}

/// The device's statistics (zcxl-vhost's JSON) as a table.
pub fn stats_table(json: &str) -> Result<String> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| anyhow::anyhow!("zcxl-vhost stats is not JSON ({e}): {json}"))?;
    let m = |p: &str| v.pointer(&format!("/media/{p}"));
    let mut out = String::from("zcxl device statistics (from zcxl-vhost)\n");
    let mut row = |k: &str, val: String| out.push_str(&format!("  {k:<22} {val}\n"));
    row("logical capacity", mib(m("logical_bytes")));
    row("media capacity", mib(m("media_bytes")));
    out.push_str("  pages by state\n");
    for state in [
        "unwritten",
        "zero",
        "same_filled",
        "compressed",
        "raw",
        "poisoned",
    ] {
        out.push_str(&format!(
            "    {:<20} {}\n",
            state.replace('_', "-"),
            num(m(&format!("pages/{state}")))
        ));
    }
    let mut row = |k: &str, val: String| out.push_str(&format!("  {k:<22} {val}\n"));
    let used = m("used_bytes").and_then(Value::as_u64);
    let media = m("media_bytes").and_then(Value::as_u64);
    let pct = match (used, media) {
        (Some(u), Some(t)) if t > 0 => format!(" ({:.1}% of media)", u as f64 * 100.0 / t as f64),
        _ => String::new(),
    };
    row("media used", format!("{}{pct}", mib(m("used_bytes"))));
    row(
        "  = blobs + metadata",
        format!(
            "{} + {} + {} fragmentation",
            mib(m("blob_bytes")),
            mib(m("metadata_bytes")),
            mib(m("fragmentation_bytes"))
        ),
    );
    row(
        "ratio",
        match m("ratio").and_then(Value::as_f64) {
            Some(r) => format!("{r:.2} : 1 (logical bytes held / media used)"),
            None => "?".into(),
        },
    );
    row(
        "stores / loads",
        format!("{} / {}", num(m("stores")), num(m("loads"))),
    );
    row("failed stores", num(m("failed_stores")));
    row("discarded pages", num(m("discarded_pages")));
    row(
        "watermarks",
        format!(
            "low {}% high {}%, pressure {}, crossed high {}x, low {}x",
            num(m("watermarks/low_percent")),
            num(m("watermarks/high_percent")),
            num(m("watermarks/pressure")),
            num(m("watermarks/crossings_high")),
            num(m("watermarks/crossings_low"))
        ),
    );
    if let Some(logs) = v.get("event_logs").and_then(Value::as_array) {
        let names = ["informational", "warning", "failure", "fatal"];
        let parts: Vec<String> = logs
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "{} {} logged/{} pending",
                    names.get(i).unwrap_or(&"log"),
                    num(l.get("logged")),
                    num(l.get("pending"))
                )
            })
            .collect();
        row("events", parts.join(", "));
    }
    if let Some(qs) = v.get("queues").and_then(Value::as_array) {
        let parts: Vec<String> = qs
            .iter()
            .map(|q| format!("{} {}", num(q.get("name")), num(q.get("requests"))))
            .collect();
        row("queue requests", parts.join(", "));
    }
    row(
        "shadow scanner",
        format!(
            "{} scans, {} pages examined, {} stored without a hint",
            num(v.pointer("/scanner/scans")),
            num(v.pointer("/scanner/pages_examined")),
            num(v.pointer("/scanner/pages_restored"))
        ),
    );
    Ok(out.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"version":"0.1.0","connected":true,"connections":1,"backing":"shadow",
      "window":{"mapped":true,"map_requests_sent":2,"map_failures":0},"released_pages":0,
      "media":{"logical_bytes":2147483648,"media_bytes":536870912,"used_bytes":134217728,
        "free_bytes":402653184,"blob_bytes":120000000,"metadata_bytes":4000000,"fragmentation_bytes":10217728,
        "pages":{"unwritten":262144,"zero":52000,"same_filled":26000,"compressed":150000,"raw":34000,"poisoned":0},
        "written_pages":262000,"bytes_in":1073741824,"bytes_out":120000000,"ratio":8.0,"stores":262144,"loads":0,
        "failed_stores":0,"discarded_pages":0,
        "watermarks":{"low_percent":80,"high_percent":90,"low_bytes":1,"high_bytes":2,"pressure":false,"crossings_high":0,"crossings_low":0}},
      "event_logs":[{"pending":0,"logged":3,"overflowed":0},{"pending":1,"logged":1,"overflowed":0},{"pending":0,"logged":0,"overflowed":0},{"pending":0,"logged":0,"overflowed":0}],
      "queues":[{"name":"mailbox","requests":40,"rejected":0},{"name":"data0","requests":9,"rejected":0}],
      "scanner":{"scans":12,"pages_examined":100,"pages_restored":7,"pages_lost":0}}"#;

    #[test]
    fn table_shows_states_media_ratio_and_events() {
        let t = stats_table(SAMPLE).unwrap();
        for want in [
            "logical capacity       2048.0 MiB",
            "media capacity         512.0 MiB",
            "same-filled          26000",
            "raw                  34000",
            "media used             128.0 MiB (25.0% of media)",
            "ratio                  8.00 : 1",
            "informational 3 logged/0 pending",
            "warning 1 logged/1 pending",
            "mailbox 40",
            "12 scans",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
        assert_eq!(stores(SAMPLE), Some(262144));
    }

    #[test]
    fn missing_fields_show_as_unknown_and_garbage_is_an_error() {
        let t = stats_table(r#"{"media":{}}"#).unwrap();
        assert!(t.contains("logical capacity       ?"));
        assert!(stats_table("not json").is_err());
    }
}
