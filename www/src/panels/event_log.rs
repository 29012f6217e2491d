//! The event log: the newest events of the trace.

use crate::lab::lab;
use leptos::prelude::*;

#[component]
pub(crate) fn EventLog() -> impl IntoView {
    let lab = lab();
    view! {
        <section class="panel events" data-refresh="tables">
            <h2>"Event log"</h2>
            <pre data-testid="event-log" tabindex="0" role="log" aria-label="Event log">{move || lab.log.with(|l| {
                l.iter().rev().take(40).cloned().collect::<Vec<_>>().join("\n")
            })}</pre>
        </section>
    }
}
