//! Compare leader lease policies: the run so far re-run under every policy from its seed, with
//! each policy's cluster at the end, one table of how its reads were served, and a chart of how
//! soon reads sent just after a leader change were answered.
//!
//! The results are drawn once, when the comparison ends, as one piece of markup built here in
//! plain Rust ([`results_html`]): a static table and chart need no reactive nodes, and as
//! markup they cost the page a third of the bytes. Everything in it is numbers and the
//! simulator's own fixed words, never text a user typed.

use crate::lab::lab;
use leaselab::compare::{PolicyRun, AFTER_CHANGE_MS};
use leaselab::decimal::fixed;
use leaselab::LeaderLeasePolicy;
use leptos::prelude::*;
use std::fmt::Write as _;

/// The chart's plot area in SVG units: left, top, width, height.
const PLOT: (f64, f64, f64, f64) = (40.0, 8.0, 300.0, 120.0);

fn role_class(role: char) -> &'static str {
    match role {
        'L' => "leader",
        'C' => "candidate",
        'x' => "crashed",
        _ => "follower",
    }
}

/// The comparison's results: each policy's cluster at the end of its run, the table, and the
/// chart of the share of reads sent within a second of a leader's election that were answered
/// within t ms (the LeaseGuard paper's failover experiment, on this run).
pub(crate) fn results_html(what: &str, runs: &[PolicyRun]) -> String {
    let labels = LeaderLeasePolicy::ALL.map(LeaderLeasePolicy::label);
    let mut h = format!("<p class=\"status\" data-testid=\"compare-status\">{what} under each policy (linearizable reads):</p><div class=\"compare-cards\">");
    for (i, r) in runs.iter().enumerate() {
        let width = 28 * r.nodes.len();
        let _ = write!(
            h,
            "<figure class=\"compare-card\" data-testid=\"compare-card-{i}\"><svg width=\"{width}\" viewBox=\"0 0 {width} 28\" role=\"img\" aria-label=\"{}: roles at the end (L leader, F follower, C candidate, x crashed); a ring: it could answer reads locally\">",
            labels[i]
        );
        for (n, (role, local)) in r.nodes.iter().enumerate() {
            let x = 14 + 28 * n;
            let ring = if *local {
                format!("<circle class=\"leader-lease-ring\" cx=\"{x}\" cy=\"14\" r=\"13\"/>")
            } else {
                String::new()
            };
            let _ = write!(h, "<g class=\"node {}\">{ring}<circle cx=\"{x}\" cy=\"14\" r=\"10\"/><text x=\"{x}\" y=\"18\">{role}</text></g>", role_class(*role));
        }
        let _ = write!(
            h,
            "</svg><figcaption><span class=\"swatch c{i}\"></span>{}<br><span class=\"{}\">{} stale</span></figcaption></figure>",
            labels[i],
            if r.stale_reads > 0 { "error" } else { "muted" },
            r.stale_reads
        );
    }
    // The paths any run took, in one order (inserted one by one: collecting into a map would
    // compile a sort for it into the page).
    let mut paths = std::collections::BTreeMap::new();
    for p in runs.iter().flat_map(|r| r.reads_by_path.keys()) {
        paths.insert(p.as_str(), ());
    }
    let paths: Vec<&str> = paths.into_keys().collect();
    h.push_str("</div><div class=\"compare-table\" tabindex=\"0\" role=\"region\" aria-label=\"Comparison table\"><table data-testid=\"compare-table\"><thead><tr><th>policy</th>");
    for p in &paths {
        let _ = write!(h, "<th>{p}</th>");
    }
    let _ = write!(
        h,
        "<th>failed</th><th>waited</th><th>mean ms</th><th>p99 ms</th><th>elections</th><th title=\"Of the reads sent within {AFTER_CHANGE_MS} ms of a leader's election: the share answered at once, and within 100 ms\">after a leader change: at once · ≤100 ms</th><th>stale</th></tr></thead><tbody>"
    );
    for (i, r) in runs.iter().enumerate() {
        let _ =
            write!(h, "<tr data-testid=\"compare-row-{i}\"><td><span class=\"swatch c{i}\"></span>{}</td>", labels[i]);
        for p in &paths {
            let _ = write!(h, "<td>{}</td>", r.reads_by_path.get(*p).copied().unwrap_or(0));
        }
        let _ = write!(
            h,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}% · {}%</td><td class=\"{}\">{}</td></tr>",
            r.reads_failed,
            r.reads_waited,
            fixed(r.mean_latency_ms, 1),
            fixed(r.p99_latency_ms, 1),
            r.elections,
            fixed(100.0 * r.served_within(0.0), 0),
            fixed(100.0 * r.served_within(100.0), 0),
            if r.stale_reads > 0 { "error" } else { "" },
            r.stale_reads
        );
    }
    h.push_str("</tbody></table></div>");
    chart(&mut h, runs, &labels);
    h
}

/// The chart: one line per policy, the share of after-change reads answered within t.
fn chart(h: &mut String, runs: &[PolicyRun], labels: &[&str]) {
    let (left, top, width, height) = PLOT;
    let x = |t: u64| left + width * t as f64 / AFTER_CHANGE_MS as f64;
    let y = |f: f64| top + height * (1.0 - f);
    h.push_str("<svg class=\"compare-chart\" data-testid=\"compare-chart\" viewBox=\"0 0 360 150\" role=\"img\" aria-label=\"Share of the reads sent within a second of a leader change that were answered within t ms, one line per policy\">");
    for k in 0..=4u64 {
        let (t, f) = (AFTER_CHANGE_MS * k / 4, k as f64 / 4.0);
        let _ = write!(
            h,
            "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{t}</text><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}%</text>",
            fixed(left, 1),
            fixed(left + width, 1),
            fixed(y(f), 1),
            fixed(y(f), 1),
            fixed(x(t), 1),
            fixed(top + height + 12.0, 1),
            fixed(left - 4.0, 1),
            fixed(y(f) + 3.0, 1),
            25 * k
        );
    }
    for (i, r) in runs.iter().enumerate() {
        let _ = write!(h, "<polyline class=\"curve c{i}\" data-testid=\"compare-curve-{i}\" points=\"");
        for (t, f) in r.curve(10) {
            let _ = write!(h, "{},{} ", fixed(x(t), 1), fixed(y(f), 1));
        }
        let _ = write!(
            h,
            "\"><title>{}: {}% at once</title></polyline>",
            labels[i],
            fixed(100.0 * r.served_within(0.0), 0)
        );
    }
    let _ = write!(
        h,
        "<text class=\"tick\" x=\"{}\" y=\"148\" text-anchor=\"middle\">t: ms from sending a read to its answer</text></svg>",
        fixed(left + width / 2.0, 1)
    );
}

#[component]
pub(crate) fn ComparePanel() -> impl IntoView {
    let lab = lab();
    view! {
        <div class="panel compare" data-testid="compare-panel">
            <h2>"Compare leader lease policies"</h2>
            <p class="muted">"The run so far, re-run from its seed under every policy: the same commands at the same times (yours exactly), so the runs differ only in the policy."</p>
            <button data-testid="compare-run" on:click=move |_| {
                if let Err(e) = lab.start_compare() {
                    lab.error.set(Some(e));
                }
            }>"Compare this run"</button>
            {move || lab.compare.with(|c| c.as_ref().map(|(what, ran, runs)| if runs.is_empty() {
                format!("<p class=\"status\" data-testid=\"compare-status\">Comparing {what}: {ran} of {} policies run…</p>", LeaderLeasePolicy::ALL.len())
            } else {
                results_html(what, runs)
            })).map(|html| view! { <div inner_html=html></div> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_results_show_every_policy_in_the_cards_the_table_and_the_chart() {
        let mut sim = leaselab::Sim::new(2, leaselab::ClusterConfig::default()).unwrap();
        sim.run_for_ms(2_000);
        sim.apply(leaselab::Command::SetWorkload { ops_per_sec: 100 }).unwrap();
        sim.run_for_ms(2_000);
        let mut c = leaselab::compare::Comparison::of_run(2, sim.config(), sim.command_log(), sim.now()).unwrap();
        assert!(c.advance(usize::MAX));
        let html = results_html("seed 2", &c.results());
        for i in 0..LeaderLeasePolicy::ALL.len() {
            for id in ["compare-card", "compare-row", "compare-curve"] {
                assert!(html.contains(&format!("data-testid=\"{id}-{i}\"")), "{id}-{i}");
            }
        }
        assert_eq!(html.matches("<polyline").count(), 5);
        assert!(html.contains("lease read") && html.contains("LeaseGuard, timers only"));
        assert_eq!(html.matches("<tr").count(), 6, "a header and a row per policy");
    }
}
