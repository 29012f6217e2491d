//! The Watches panel: open a watch at a node (a key, a prefix or every key from one; from a
//! revision or from now; with progress notifications and require-leader), and follow each
//! watch: the node serving it, what it received, the revision its node reports, how far that
//! is behind the leader and why.

use crate::lab::lab;
use crate::widgets::{choice_box, text_box};
use leaselab::snapshot::WatchView;
use leaselab::{Command, NodeId, WatchId};
use leptos::prelude::*;

const RANGES: &[(&str, &str)] =
    &[("key", "just this key"), ("prefix", "keys with this prefix"), ("from", "every key from it")];

#[component]
pub(crate) fn WatchesPanel() -> impl IntoView {
    let lab = lab();
    let node = RwSignal::new("1".to_string());
    let key = RwSignal::new("x".to_string());
    let range = RwSignal::new("key".to_string());
    let start = RwSignal::new(String::new());
    let progress_notify = RwSignal::new(false);
    let require_leader = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    Effect::new(move |_| {
        lab.run_generation.track();
        status.set(String::new());
    });
    let open = move || {
        let request = crate::model::watch_request(
            &key.get_untracked(),
            &range.get_untracked(),
            &start.get_untracked(),
            progress_notify.get_untracked(),
            require_leader.get_untracked(),
        );
        let node = NodeId(node.get_untracked().parse().unwrap_or(1));
        let said = match request.map(|watch| lab.command(Command::Watch { node, watch })) {
            Err(bad_input) => bad_input,
            Ok(Err(refused)) => refused.to_string(),
            Ok(Ok(_)) => lab.panel_snap.with_untracked(|s| {
                s.watches.first().map_or(String::new(), |w| format!("watch {} opened at {}", w.id, w.node))
            }),
        };
        status.set(said);
    };
    let act = move |command: Command| {
        if let Err(e) = lab.command(command) {
            status.set(e.to_string());
        }
    };
    view! {
        <div class="panel watches" data-testid="watches-panel" data-refresh="tables">
            <h2>"Watches"</h2>
            <div class="row">
                <label>"watch at "
                    <select data-testid="watch-node" prop:value=move || node.get()
                        on:change=move |ev| node.set(event_target_value(&ev))>
                        {move || lab.panel_snap.with(|s| s.nodes.iter().map(|n| view! {
                            <option value=n.id.0.to_string()>{n.id.to_string()}</option>
                        }).collect_view())}
                    </select>
                </label>
                <label>"key " {text_box(key, "watch-key".into(), "short", None)}</label>
                {choice_box(range, "watch-range", "which keys", RANGES)}
                <label title="Blank: from the next change on. An older revision replays what changed since (refused below the compaction revision)">
                    "from rev " {text_box(start, "watch-start".into(), "tiny", None)}</label>
            </div>
            <div class="row">
                <label title="etcd's progress_notify: a quiet watch gets its node's revision every interval">
                    <input type="checkbox" data-testid="watch-progress-notify" prop:checked=move || progress_notify.get()
                        on:change=move |ev| progress_notify.set(event_target_checked(&ev)) />" progress notify"</label>
                <label title="etcd's WithRequireLeader: cancelled when its node knows no leader">
                    <input type="checkbox" data-testid="watch-require-leader" prop:checked=move || require_leader.get()
                        on:change=move |ev| require_leader.set(event_target_checked(&ev)) />" require leader"</label>
                <button class="primary" data-testid="watch-button" on:click=move |_| open()>"Watch"</button>
            </div>
            <div class="status" data-testid="watch-status">{move || status.get()}</div>
            <table class="ops watch-list" data-testid="watch-list" tabindex="0" aria-label="Watches">
                <thead><tr><th>"watch"</th><th>"at"</th><th>"keys"</th><th>"events"</th><th>"node rev"</th>
                    <th>"behind leader"</th><th></th></tr></thead>
                <tbody>{move || lab.panel_snap.with(|s| s.watches.iter().map(|w| watch_rows(w, act)).collect_view())}</tbody>
            </table>
            <p class="muted">{move || lab.panel_snap.with(|s| format!(
                "{} of {} watches open; a watch is served by one node from its own store, so it can fall behind without saying so.",
                s.watches_open, s.watches.first().map_or(0, |w| w.id.0)))}</p>
        </div>
    }
}

/// A watch's row, its status line and its newest events.
fn watch_rows(w: &WatchView, act: impl Fn(Command) + Copy + 'static) -> impl IntoView {
    let id: WatchId = w.id;
    let open = w.ended.is_none();
    let events = w
        .recent
        .iter()
        .map(|(at, what, rev)| format!("rev {rev} {what} ({})", crate::model::format_time(*at)))
        .collect::<Vec<_>>()
        .join(" · ");
    let behind = if open { crate::model::plural(w.lag as usize, "revision") } else { "—".to_string() };
    let lag_class = if w.lag > 0 { "lagging" } else { "" };
    view! {
        <tr class=if open { "watch-open" } else { "watch-ended" } data-testid=format!("watch-row-{}", id.0)>
            <td>{id.to_string()}</td><td>{w.node.to_string()}</td><td>{w.request.keys()}</td>
            <td>{w.events_received}</td><td>{w.header_revision}</td><td class=lag_class>{behind}</td>
            <td>{open.then(|| view! {
                <button class="linklike" data-testid=format!("watch-progress-{}", id.0)
                    title="Ask its node for a progress notification (etcd's RequestProgress)"
                    on:click=move |_| act(Command::RequestWatchProgress { watch: id })>"progress"</button>
                " "
                <button class="linklike" data-testid=format!("watch-cancel-{}", id.0)
                    on:click=move |_| act(Command::CancelWatch { watch: id })>"cancel"</button>
            })}</td>
        </tr>
        <tr class="watch-detail" data-testid=format!("watch-detail-{}", id.0)>
            <td colspan="7">
                <div class="muted">{w.status.clone()}</div>
                <div class="mono">{if events.is_empty() { "no events yet".to_string() } else { events }}</div>
            </td>
        </tr>
    }
}
