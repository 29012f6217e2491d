//! The operation log: every operation with its path, outcome, latency and verdict.

use super::ReadTracePanel;
use crate::lab::lab;
use leaselab::checker::Verdict;
use leaselab::OpOutcome;
use leptos::prelude::*;

#[component]
pub(crate) fn OpLog() -> impl IntoView {
    let lab = lab();
    view! {
        <div class="panel" data-refresh="ops">
            <h2>"Operations"
                <span class="checker-summary" data-testid="checker-summary"
                    class:bad=move || lab.checker_summary.with(|c| c.stale > 0)>{move || lab.checker_summary.with(|c| {
                    format!("checker: {} checked, {} stale", crate::model::plural(c.checked as usize, "op"), c.stale)
                })}</span>
            </h2>
            {move || lab.checker_summary.with(|c| c.last_stale.clone()).map(|(text, op)| view! {
                <div class="stale-box" data-testid="stale-explanation" role="alert"><b>"Stale read caught. "</b>{text}" "
                    // Its row may have scrolled out of the log: this selects it all the same.
                    <button class="linklike" data-testid="stale-show" on:click=move |_| lab.selection.op.set(Some(op))>"show it"</button>
                </div>
            })}
            <table class="ops" data-testid="op-log" tabindex="0" aria-label="Operations">
                <thead><tr><th>"op"</th><th>"node"</th><th>"request"</th><th>"path"</th><th>"outcome"</th><th>"latency"</th><th>"verdict"</th></tr></thead>
                <tbody>
                {move || lab.ops.with(|rows| rows.iter().take(14).map(|row| {
                    let op = &row.record;
                    let id = op.id;
                    let (class, text) = match (&op.outcome, &op.read) {
                        (OpOutcome::Ok { .. }, Some(read)) => ("ok", format!(
                            "{} (mod rev {}, rev {})",
                            read.value.clone().unwrap_or_else(|| "(absent)".into()), read.mod_revision, read.revision)),
                        (outcome, _) => (crate::model::outcome_class(outcome), match &op.result {
                            // A transaction: which branch ran and what its gets returned.
                            Some(result) => format!("{outcome} · {result}"),
                            None => outcome.to_string(),
                        }),
                    };
                    let path = op.trace.as_ref().and_then(|t| t.path);
                    let badge = path.map(|p| view! { <span class=format!("badge {}", crate::model::path_class(p))>{p.label()}</span> });
                    let latency = op.completed_at.map(|c| format!("{} ms", leaselab::decimal::fixed(c.saturating_sub(op.invoked_at) as f64 / 1000.0, 1))).unwrap_or_default();
                    let vclass = if row.verdict.as_ref().is_some_and(Verdict::is_violation) { "verdict bad" } else { "verdict" };
                    let verdict = row.verdict.as_ref().map(Verdict::label).unwrap_or_default();
                    let selected = move || lab.selection.op.get() == Some(id);
                    view! {
                        <tr data-testid=format!("op-{}", id.0) class=class class:selected=selected
                            on:click=move |_| lab.selection.op.update(|s| *s = if *s == Some(id) { None } else { Some(id) })>
                            <td>{id.to_string()}</td><td>{op.node.to_string()}</td>
                            <td>{op.kind.summary()}</td>
                            <td data-testid=format!("op-path-{}", id.0)>{badge}</td>
                            <td data-testid=format!("op-outcome-{}", id.0)>{text}</td><td>{latency}</td>
                            <td class=vclass data-testid=format!("op-verdict-{}", id.0)>{verdict}</td>
                        </tr>
                    }
                }).collect_view())}
                </tbody>
            </table>
            <ReadTracePanel />
        </div>
    }
}
