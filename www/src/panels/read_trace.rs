//! The selected read's trace: each decision with the values behind it.

use crate::lab::lab;
use leptos::prelude::*;

/// The selected operation's trace: each decision with the values behind it.
#[component]
pub(crate) fn ReadTracePanel() -> impl IntoView {
    let lab = lab();
    move || {
        let op = lab.selection.op.get()?;
        lab.ops.with(|rows| {
            let row = rows.iter().find(|r| r.record.id == op)?;
            let trace = row.record.trace.clone();
            let explanation = row.explanation.clone();
            Some(view! {
                <div class="trace" data-testid="read-trace">
                    <h3>{format!("{} — {}", op, row.record.kind.summary())}</h3>
                    {match trace {
                        None => view! { <p>"Not a read: it travels through raft as a log entry and is answered once applied at the node it was sent to."</p> }.into_any(),
                        Some(t) => view! {
                            <ol>
                                {t.steps.iter().map(|st| view! {
                                    <li><span class="mono">{format!("true {} · local {}", st.at, st.local)}</span>" "{st.text.clone()}</li>
                                }).collect_view()}
                            </ol>
                            <p class="muted">{format!(
                                "read index {}, retries {}, messages caused {}{}",
                                t.read_index.map_or("—".to_string(), |i| i.to_string()),
                                t.retries,
                                t.messages.len(),
                                t.revision_lag.map_or(String::new(), |l| format!(", revision lag {l}"))
                            )}</p>
                        }.into_any(),
                    }}
                    {explanation.map(|e| view! { <p class="stale-box">{e}</p> })}
                </div>
            })
        })
    }
}
