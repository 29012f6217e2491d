//! About the paths: what each read path costs, measured on this machine's simulator for 1, 3,
//! 5 and 7 nodes (the support matrix, `leaselab matrix`), with the figure a design document
//! claims beside the one measured.
//!
//! Like the comparison, the results are one piece of markup built here ([`matrix_html`]) from
//! numbers and the simulator's fixed words, drawn once when the measurement ends.

use crate::lab::lab;
use leaselab::decimal::{fixed, signed};
use leaselab::matrix::{Cell, Measurement, PATHS, SIZES};
use leptos::prelude::*;
use std::fmt::Write as _;

/// The chart's plot area in SVG units: left, top, width, height.
const PLOT: (f64, f64, f64, f64) = (44.0, 8.0, 480.0, 120.0);
/// The reads-per-second axis: log10 from 10 to 10,000.
const DECADES: (f64, f64) = (1.0, 4.0);

/// What the seed design claims leader leases gain over ReadIndex, per cluster size.
fn claim(nodes: usize) -> &'static str {
    match nodes {
        1 => "< 5 %",
        3 => "20–50 %",
        _ => "30–100 %",
    }
}

/// The table, the chart of reads a second by path and cluster size (log scale), and the gains
/// against the claim.
pub fn matrix_html(seed: u64, cells: &[Cell]) -> String {
    let mut h = format!(
        "<p class=\"status\" data-testid=\"paths-status\">Seed {seed}: four clients each read again 1 ms after every answer, for 10 simulated seconds, beside 100 operations a second of background load.</p>\
         <div class=\"compare-table\" tabindex=\"0\" role=\"region\" aria-label=\"Read paths table\"><table data-testid=\"paths-table\"><thead><tr>\
         <th>nodes</th><th>path</th><th>mean ms</th><th>p99 ms</th><th>reads/s</th><th>messages per read</th><th>stale</th></tr></thead><tbody>"
    );
    for c in cells {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.nodes,
            c.path,
            fixed(c.mean_ms, 1),
            fixed(c.p99_ms, 1),
            fixed(c.reads_per_sec, 0),
            fixed(c.messages_per_read, 1),
            c.stale
        );
    }
    h.push_str("</tbody></table></div>");
    chart(&mut h, cells);
    h.push_str("<ul class=\"paths-gains\" data-testid=\"paths-gains\">");
    for n in SIZES {
        if let Some(gain) = Measurement::lease_gain_percent(cells, n) {
            let _ = write!(
                h,
                "<li>{n} node{}: lease reads serve {} % reads/s over ReadIndex (claimed: {})</li>",
                if n == 1 { "" } else { "s" },
                signed(gain, 0),
                claim(n)
            );
        }
    }
    h.push_str(
        "</ul><p class=\"muted\">The simulator models the network, not the servers' CPUs: a read's cost here is its wait and its messages, so the gains are larger than a CPU-bound claim.</p>",
    );
    h
}

/// Grouped bars: one group per cluster size, one bar per path, height log10(reads/s).
fn chart(h: &mut String, cells: &[Cell]) {
    let (left, top, width, height) = PLOT;
    let y = |rate: f64| top + height * (1.0 - (rate.max(10.0).log10() - DECADES.0) / (DECADES.1 - DECADES.0));
    let _ = write!(
        h,
        "<svg class=\"compare-chart\" data-testid=\"paths-chart\" viewBox=\"0 0 540 160\" role=\"img\" aria-label=\"Reads a second by read path and cluster size, log scale\">"
    );
    for d in 1..=4 {
        let rate = 10f64.powi(d);
        let _ = write!(
            h,
            "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            fixed(left, 1),
            fixed(left + width, 1),
            fixed(y(rate), 1),
            fixed(y(rate), 1),
            fixed(left - 4.0, 1),
            fixed(y(rate) + 3.0, 1),
            rate as u64
        );
    }
    let group = width / SIZES.len() as f64;
    let bar = group / (PATHS.len() as f64 + 1.0);
    for (g, n) in SIZES.iter().enumerate() {
        let x0 = left + g as f64 * group + bar / 2.0;
        let _ = write!(
            h,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{n} node{}</text>",
            fixed(x0 + bar * PATHS.len() as f64 / 2.0, 1),
            fixed(top + height + 12.0, 1),
            if *n == 1 { "" } else { "s" }
        );
        for (i, p) in PATHS.iter().enumerate() {
            let Some(c) = cells.iter().find(|c| c.nodes == *n && c.path == p.name) else { continue };
            let (x, top_y) = (x0 + i as f64 * bar, y(c.reads_per_sec));
            let _ = write!(
                h,
                "<rect class=\"path-bar p{i}\" data-testid=\"paths-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{n} nodes · {}: {} reads/s, {} ms mean</title></rect>",
                fixed(x, 1),
                fixed(top_y, 1),
                fixed(bar * 0.9, 1),
                fixed(top + height - top_y, 1),
                c.path,
                fixed(c.reads_per_sec, 0),
                fixed(c.mean_ms, 1)
            );
        }
    }
    h.push_str("</svg><p class=\"paths-legend\">");
    for (i, p) in PATHS.iter().enumerate() {
        let _ = write!(h, "<span class=\"path-key p{i}\"></span>{} ", p.name);
    }
    h.push_str("</p>");
}

#[component]
pub(crate) fn PathsPanel() -> impl IntoView {
    let lab = lab();
    view! {
        <div class="panel compare" data-testid="paths-panel">
            <h2>"About the paths"</h2>
            <p class="muted">"What each read path costs at 1, 3, 5 and 7 nodes: latency, reads a second and messages per read, measured on the simulator a cell per frame (a few seconds)."</p>
            <button data-testid="paths-run" on:click=move |_| lab.start_matrix()>"Measure the paths"</button>
            {move || lab.matrix.with(|m| m.as_ref().map(|(seed, (done, total), cells)| if done < total {
                format!("<p class=\"status\" data-testid=\"paths-status\">Measuring: {done} of {total} cells…</p>")
            } else {
                matrix_html(*seed, cells)
            })).map(|html| view! { <div inner_html=html></div> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_results_show_every_cell_in_the_table_the_chart_and_the_gains() {
        let cells = leaselab::matrix::matrix(0);
        let html = matrix_html(0, &cells);
        assert_eq!(html.matches("<tr>").count(), cells.len() + 1, "a header and a row per cell");
        assert_eq!(html.matches("data-testid=\"paths-bar\"").count(), cells.len());
        assert_eq!(html.matches("<li>").count(), SIZES.len());
        assert!(html.contains("claimed: 20–50 %"));
    }
}
