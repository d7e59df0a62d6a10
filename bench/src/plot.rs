//! The SVG chart: compression ratio against speed, one point per codec and
//! input; compression speed on the left, decompression on the right, both
//! on a log scale.

use crate::report::Row;
use std::fmt::Write;

const PANEL_W: f64 = 520.0;
const H: f64 = 440.0;
const M_LEFT: f64 = 60.0;
const M_RIGHT: f64 = 20.0;
const M_TOP: f64 = 40.0;
const M_BOTTOM: f64 = 50.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// Renders the chart for `rows`.
pub fn svg(rows: &[Row]) -> String {
    let mut inputs: Vec<&str> = Vec::new();
    for r in rows {
        if !inputs.contains(&r.input.as_str()) {
            inputs.push(&r.input);
        }
    }
    // Headroom above the highest point for its label.
    let ratio_max = (rows.iter().map(|r| r.ratio).fold(1.0, f64::max) * 1.15).ceil();
    let speeds = rows
        .iter()
        .flat_map(|r| [r.compress_mbps, r.decompress_mbps])
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = speeds.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        )
    } else {
        (1.0, 10.0)
    };

    let mut s = String::new();
    let width = 2.0 * PANEL_W;
    let legend_h = 18.0 * (inputs.len() as f64 + 1.0);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{}" font-family="sans-serif" font-size="11">"#,
        H + legend_h
    );
    let _ = write!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (panel, title) in ["compression", "decompression"].iter().enumerate() {
        let x0 = panel as f64 * PANEL_W;
        let (pw, ph) = (PANEL_W - M_LEFT - M_RIGHT, H - M_TOP - M_BOTTOM);
        let sx = |v: f64| x0 + M_LEFT + (v.log10() - lo.log10()) / (hi.log10() - lo.log10()) * pw;
        let sy = |r: f64| M_TOP + ph - r / ratio_max * ph;
        let _ = write!(
            s,
            r#"<text x="{}" y="20" text-anchor="middle" font-size="14">ratio vs {title} speed</text>"#,
            x0 + M_LEFT + pw / 2.0
        );
        let _ = write!(
            s,
            r#"<rect x="{}" y="{M_TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#,
            x0 + M_LEFT
        );
        // Decades on x, unit steps on y.
        let mut d = lo;
        while d <= hi * 1.0001 {
            let x = sx(d);
            let _ = write!(
                s,
                r##"<line x1="{x}" y1="{M_TOP}" x2="{x}" y2="{}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle">{d}</text>"##,
                M_TOP + ph,
                M_TOP + ph + 15.0
            );
            d *= 10.0;
        }
        let mut r = 0.0;
        while r <= ratio_max {
            let y = sy(r);
            let _ = write!(
                s,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{r:.0}</text>"##,
                x0 + M_LEFT,
                x0 + M_LEFT + pw,
                x0 + M_LEFT - 5.0,
                y + 4.0
            );
            r += 1.0;
        }
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">MB/s (log)</text><text x="{}" y="{}" transform="rotate(-90 {} {})" text-anchor="middle">ratio</text>"#,
            x0 + M_LEFT + pw / 2.0,
            H - 12.0,
            x0 + 18.0,
            M_TOP + ph / 2.0,
            x0 + 18.0,
            M_TOP + ph / 2.0
        );
        let mut placed: Vec<Label> = Vec::new();
        for row in rows {
            let speed = if panel == 0 {
                row.compress_mbps
            } else {
                row.decompress_mbps
            };
            if !(speed.is_finite() && speed > 0.0) {
                continue;
            }
            let i = inputs.iter().position(|n| *n == row.input).unwrap_or(0);
            let color = COLORS[i % COLORS.len()];
            let (x, y) = (sx(speed), sy(row.ratio));
            let label = place(&mut placed, x + 6.0, y - 4.0, &row.name, M_TOP + LABEL_H);
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{color}"><title>{} ({}): ratio {:.3}, {speed:.0} MB/s</title></circle><text x="{:.1}" y="{:.1}" fill="{color}">{}</text>"#,
                row.name,
                escape(&row.input),
                row.ratio,
                label.x,
                label.y,
                row.name
            );
            if (label.y - (y - 4.0)).abs() > 1.0 {
                // A leader line from the point to its moved label.
                let _ = write!(
                    s,
                    r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="0.5"/>"#,
                    label.x,
                    label.y - 4.0
                );
            }
        }
    }
    for (i, input) in inputs.iter().enumerate() {
        let y = H + 14.0 + 18.0 * i as f64;
        let _ = write!(
            s,
            r#"<circle cx="{}" cy="{}" r="5" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            M_LEFT,
            y - 4.0,
            COLORS[i % COLORS.len()],
            M_LEFT + 10.0,
            y,
            escape(input)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A label's box (left end of its baseline, width) on the chart.
#[derive(Clone, Copy)]
struct Label {
    x: f64,
    y: f64,
    w: f64,
}

const LABEL_H: f64 = 12.0;

/// Puts a label near (x, y), moving it down or up a line at a time until
/// it overlaps no label placed before it; never above `min_y`.
fn place(placed: &mut Vec<Label>, x: f64, y: f64, text: &str, min_y: f64) -> Label {
    let w = 6.2 * text.len() as f64;
    let overlaps = |c: &Label| {
        placed
            .iter()
            .any(|p| c.x < p.x + p.w && p.x < c.x + c.w && (c.y - p.y).abs() < LABEL_H)
    };
    let mut label = Label {
        x,
        y: y.max(min_y),
        w,
    };
    for k in 1..40 {
        if !overlaps(&label) {
            break;
        }
        // +1, -1, +2, -2 ... lines away, skipping places above min_y.
        let step = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        let candidate = y + f64::from(step) * LABEL_H;
        if candidate >= min_y {
            label.y = candidate;
        }
    }
    placed.push(label);
    label
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_gets_a_point_in_each_panel() {
        let row = |name: &str, ratio, mbps| Row {
            name: name.into(),
            input: "a<b".into(),
            ratio,
            compress_mbps: mbps,
            decompress_mbps: mbps * 4.0,
            p50_ns: 0.0,
            p99_ns: 0.0,
            decompress_p50_ns: 0.0,
            decompress_p99_ns: 0.0,
            pages: 1,
            threads: 1,
            logical_bytes: 4096,
            media_bytes: 2048,
            compressed_bytes: 2000,
        };
        let svg = svg(&[row("zcxl-lz4", 2.0, 900.0), row("zstd-3", 3.0, 200.0)]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle cx").count(), 2 * 2 + 1);
        assert!(svg.contains("a&lt;b"), "input names are escaped");
    }
}
