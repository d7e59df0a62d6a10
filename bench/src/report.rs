//! Turning measurements into rows (with the device's media accounting),
//! the console table, the target checks and the JSON report.

use crate::harness::{Measurement, PAGE_SIZE};
use crate::hot::Hot;
use serde::Serialize;
use zcxl_device::codec::{keeps_blob, CompressionPolicy};
use zcxl_device::media::{footprint, META_BYTES_PER_PAGE};

/// One codec on one input: the JSON object and the table line.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub input: String,
    /// Logical bytes / media bytes, by the device's accounting.
    pub ratio: f64,
    /// Uncompressed MB (10^6 B) per second.
    pub compress_mbps: f64,
    pub decompress_mbps: f64,
    /// Per-page compression latency.
    pub p50_ns: f64,
    pub p99_ns: f64,
    pub decompress_p50_ns: f64,
    pub decompress_p99_ns: f64,
    pub pages: usize,
    pub threads: usize,
    pub logical_bytes: u64,
    /// Media the device would use: per page 16 B of metadata plus the
    /// blob's size class, or a raw page when the blob is not kept.
    pub media_bytes: u64,
    /// Sum of the codec's blob lengths (repeated-word pages count 0).
    pub compressed_bytes: u64,
}

/// Media bytes of one page stored with a blob of `len` bytes (0 = stored as
/// a repeated word), under the device's default raw margin.
pub fn media_bytes(len: u32) -> u64 {
    let margin = CompressionPolicy::default().raw_margin;
    let len = len as usize;
    let body = if len == 0 {
        0
    } else if keeps_blob(len, margin, footprint) {
        footprint(len)
    } else {
        PAGE_SIZE
    };
    META_BYTES_PER_PAGE + body as u64
}

impl Row {
    pub fn new(name: String, input: String, m: &Measurement) -> Self {
        let logical = (m.pages * PAGE_SIZE) as u64;
        let media: u64 = m.blob_lens.iter().map(|&l| media_bytes(l)).sum();
        let mbps = |secs: f64| logical as f64 / secs / 1e6;
        Self {
            name,
            input,
            ratio: logical as f64 / media as f64,
            compress_mbps: mbps(m.compress_secs),
            decompress_mbps: mbps(m.decompress_secs),
            p50_ns: m.compress_ns.p50,
            p99_ns: m.compress_ns.p99,
            decompress_p50_ns: m.decompress_ns.p50,
            decompress_p99_ns: m.decompress_ns.p99,
            pages: m.pages,
            threads: m.threads,
            logical_bytes: logical,
            media_bytes: media,
            compressed_bytes: m.blob_lens.iter().map(|&l| u64::from(l)).sum(),
        }
    }
}

/// One target of issue 3, checked on one input.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub input: String,
    pub what: String,
    pub measured: f64,
    pub goal: String,
    pub met: bool,
}

fn find<'a>(rows: &'a [Row], input: &str, name: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.input == input && r.name == name)
}

/// The targets, for every input that has the codecs they compare.
pub fn targets(rows: &[Row], hot: Option<&Hot>) -> Vec<Target> {
    let mut out = Vec::new();
    let mut inputs: Vec<&str> = rows.iter().map(|r| r.input.as_str()).collect();
    inputs.dedup();
    for input in inputs {
        let mut at_least = |what: String, measured: f64, goal: f64| {
            out.push(Target {
                input: input.to_string(),
                what,
                measured,
                goal: format!(">= {goal:.2}"),
                met: measured >= goal,
            })
        };
        if let (Some(z), Some(c)) = (find(rows, input, "zcxl-lz4"), find(rows, input, "lz4-c")) {
            at_least(
                "zcxl-lz4 / lz4-c compress MB/s".into(),
                z.compress_mbps / c.compress_mbps,
                1.2,
            );
            at_least(
                "zcxl-lz4 / lz4-c decompress MB/s".into(),
                z.decompress_mbps / c.decompress_mbps,
                1.1,
            );
            let size = z.compressed_bytes as f64 / c.compressed_bytes as f64;
            out.push(Target {
                input: input.to_string(),
                what: "zcxl-lz4 / lz4-c compressed bytes".into(),
                measured: size,
                goal: "<= 1.01".into(),
                met: size <= 1.01,
            });
        }
        for ours in rows.iter().filter(|r| r.input == input) {
            let Some(level) = ours.name.strip_prefix("zcxl-zstd-") else {
                continue;
            };
            let theirs = format!("zstd-{level}");
            if let Some(b) = find(rows, input, &theirs) {
                out.push(Target {
                    input: input.to_string(),
                    what: format!("{} / {theirs} compress MB/s", ours.name),
                    measured: ours.compress_mbps / b.compress_mbps,
                    goal: ">= 1.30".into(),
                    met: ours.compress_mbps / b.compress_mbps >= 1.3,
                });
            }
        }
    }
    if let Some(h) = hot {
        out.push(Target {
            input: "cache-hot pages".into(),
            what: format!("same-filled ({}) / memcpy 4 KiB", h.dispatched),
            measured: h.same_over_memcpy,
            goal: ">= 0.50".into(),
            met: h.same_over_memcpy >= 0.5,
        });
    }
    out
}

/// The console table of one input.
pub fn print_table(rows: &[Row], input: &str) {
    println!("\n## {input}");
    println!(
        "{:<16} {:>7} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9}",
        "codec",
        "ratio",
        "comp MB/s",
        "decomp MB/s",
        "c p50 ns",
        "c p99 ns",
        "d p50 ns",
        "d p99 ns"
    );
    for r in rows.iter().filter(|r| r.input == input) {
        println!(
            "{:<16} {:>7.3} {:>11.1} {:>11.1} {:>9.0} {:>9.0} {:>9.0} {:>9.0}",
            r.name,
            r.ratio,
            r.compress_mbps,
            r.decompress_mbps,
            r.p50_ns,
            r.p99_ns,
            r.decompress_p50_ns,
            r.decompress_p99_ns
        );
    }
}

pub fn print_targets(targets: &[Target]) {
    if targets.is_empty() {
        return;
    }
    println!("\n## targets (ratios within this run)");
    for t in targets {
        println!(
            "{:<4} {:<44} {:>7.3} (goal {}) [{}]",
            if t.met { "MET" } else { "MISS" },
            t.what,
            t.measured,
            t.goal,
            t.input
        );
    }
}

/// The whole JSON report.
#[derive(Serialize)]
pub struct Report<'a> {
    pub command: String,
    pub cpu: String,
    pub threads: usize,
    pub rounds: usize,
    /// One object per codec and input.
    pub codecs: &'a [Row],
    pub hot: Option<&'a Hot>,
    pub targets: &'a [Target],
}

/// The CPU model, from /proc/cpuinfo where there is one.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Percentiles;

    fn measurement(blob_lens: Vec<u32>, secs: f64) -> Measurement {
        Measurement {
            pages: blob_lens.len(),
            threads: 1,
            blob_lens,
            compress_secs: secs,
            decompress_secs: secs / 2.0,
            compress_ns: Percentiles { p50: 1.0, p99: 2.0 },
            decompress_ns: Percentiles::default(),
        }
    }

    #[test]
    fn media_accounting_follows_the_device() {
        // Repeated word: metadata only. Small blob: its 32-byte class.
        assert_eq!(media_bytes(0), 16);
        assert_eq!(media_bytes(1), 16 + 32);
        assert_eq!(media_bytes(33), 16 + 64);
        // Blobs that do not save the default 256-byte margin go raw.
        assert_eq!(media_bytes(3840), 16 + 3840);
        assert_eq!(media_bytes(3841), 16 + 4096);
        assert_eq!(media_bytes(5000), 16 + 4096);
    }

    #[test]
    fn rows_and_targets_compute_ratios_within_the_run() {
        let pages = 1000;
        let ours = Row::new(
            "zcxl-lz4".into(),
            "x".into(),
            &measurement(vec![2000; pages], 1.0),
        );
        let c = Row::new(
            "lz4-c".into(),
            "x".into(),
            &measurement(vec![2010; pages], 1.5),
        );
        assert!((ours.ratio - 4096.0 / (16.0 + 2016.0)).abs() < 1e-9);
        assert!((ours.compress_mbps - 4.096).abs() < 1e-9);
        let t = targets(&[ours, c], None);
        assert_eq!(t.len(), 3);
        assert!(t[0].met && (t[0].measured - 1.5).abs() < 1e-9);
        assert!(t[1].met);
        assert!(t[2].met && t[2].measured < 1.0);
    }
}
