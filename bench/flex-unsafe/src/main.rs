//! `zcxl-bench-lz4-flex-unsafe PAGES THREADS REPS`: measures the unsafe
//! lz4_flex on the pages in file PAGES (4 KiB pages back to back) with
//! zcxl-bench's own measurement code, and prints the measurement as JSON.
//! zcxl-bench runs this; see its crate docs.

#[path = "../../src/flex.rs"]
mod flex;
#[path = "../../src/harness.rs"]
mod harness;

use std::process::ExitCode;

fn run() -> Result<String, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pages, threads, reps] = args.as_slice() else {
        return Err("usage: zcxl-bench-lz4-flex-unsafe PAGES THREADS REPS".into());
    };
    let number = |s: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|n| (1..=1024).contains(n))
            .ok_or_else(|| format!("`{s}` is not a count in 1..=1024"))
    };
    let bytes = std::fs::read(pages).map_err(|e| format!("reading {pages}: {e}"))?;
    let pages = harness::read_pages(&bytes)?;
    let make = || Box::new(flex::Lz4Flex::default()) as Box<dyn harness::Codec>;
    let m = harness::measure(&make, &pages, number(threads)?, number(reps)?)?;
    serde_json::to_string(&m).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zcxl-bench-lz4-flex-unsafe: {e}");
            ExitCode::FAILURE
        }
    }
}
