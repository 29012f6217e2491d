//! The client panel: puts, deletes, reads, range reads, transactions, compaction and key
//! leases, sent to the leader or a chosen node.

use super::key_lease_form::KeyLeaseForm;
use super::txn_form::TxnFormPanel;
use crate::lab::lab;
use crate::widgets::{choice_box, text_box};
use leaselab::{ClientOp, Command, NodeId, ReadMode};
use leptos::prelude::*;

/// What the range row reads: the keys starting with the key box's text, or every key from it.
const RANGE_KINDS: &[(&str, &str)] =
    &[("prefix", "keys with the key as prefix"), ("from", "every key from the key on")];

/// The client panel's line when it has nowhere to send (shown until a leader is known).
pub(crate) const NO_LEADER: &str = "No leader right now: pick a node to send to.";

#[component]
pub(crate) fn ClientPanel() -> impl IntoView {
    let lab = lab();
    let key = RwSignal::new("x".to_string());
    let value = RwSignal::new("1".to_string());
    // 0 means "the current leader".
    let target = RwSignal::new(0u64);
    let status = RwSignal::new(String::new());
    // The true time (µs) the status line was said at.
    let said_at = StoredValue::new(0u64);
    // The client panel reports its own outcomes (sent, refused, bad input) on its status line,
    // so the cluster panel's error line does not keep an older refusal of a client command.
    let say = move |message: String| {
        lab.error.set(None);
        said_at.set_value(lab.snap.with_untracked(|s| s.now.0));
        status.set(message);
    };
    // A different run (reset, tour, link, import) starts with an empty status line, sending to
    // the leader (the chosen node may not exist in it).
    Effect::new(move |_| {
        lab.run_generation.track();
        status.set(String::new());
        target.set(0);
    });
    let target_node = move || {
        let t = target.get_untracked();
        if t != 0 {
            return Some(NodeId(t));
        }
        lab.snap.with_untracked(|s| s.leader)
    };
    #[derive(Clone, Copy)]
    enum Op {
        Put,
        Delete,
        Read(ReadMode),
    }
    let compact_rev = RwSignal::new("2".to_string());
    let range_kind = RwSignal::new("prefix".to_string());
    let range_limit = RwSignal::new(String::new());
    // Sends a command built for the chosen node; bad input is explained, nothing is lost.
    let send_cmd = move |build: Box<dyn Fn(NodeId) -> Command>| {
        let Some(node) = target_node() else {
            say(NO_LEADER.into());
            return;
        };
        match lab.command(build(node)) {
            Ok(Some(op)) => say(format!("{op} sent to {node}")),
            Ok(None) => {}
            Err(e) => say(e.to_string()),
        }
    };
    let send = move |what: Op| {
        let (k, v) = (key.get_untracked(), value.get_untracked());
        send_cmd(Box::new(move |node| match what {
            Op::Put => {
                Command::Client { node, op: ClientOp::Put { key: k.clone(), value: v.clone(), key_lease: None } }
            }
            Op::Delete => Command::Client { node, op: ClientOp::Delete { key: k.clone() } },
            Op::Read(mode) => Command::Client { node, op: ClientOp::Read { key: k.clone(), mode } },
        }))
    };
    let send_op = Callback::new(move |op: ClientOp| send_cmd(Box::new(move |node| Command::client(node, op.clone()))));
    let say_cb = Callback::new(say);
    let range = move |mode: ReadMode| match crate::model::range_request(
        &key.get_untracked(),
        &range_kind.get_untracked(),
        &range_limit.get_untracked(),
    ) {
        Ok(range) => {
            send_cmd(Box::new(move |node| Command::client(node, ClientOp::Range { range: range.clone(), mode })))
        }
        Err(e) => say(e),
    };
    let compact = move || match compact_rev.get_untracked().trim().parse::<u64>() {
        Ok(revision) => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::Compact { revision } })),
        Err(_) => say("a revision is a whole number up to 18446744073709551615".into()),
    };
    view! {
        <div class="panel client" data-refresh="tables">
            <h2>"Client"</h2>
            <div class="row">
                <label>"send to "
                    <select data-testid="write-node" prop:value=move || target.get().to_string()
                        on:change=move |ev| target.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">"leader"</option>
                        {move || lab.panel_snap.with(|s| s.nodes.iter().map(|n| view! {
                            <option value=n.id.0.to_string()>{n.id.to_string()}</option>
                        }).collect_view())}
                    </select>
                </label>
                <label>"key " {text_box(key, "write-key".into(), "short", None)}</label>
                <label>"value " {text_box(value, "write-value".into(), "short", None)}</label>
                <button data-testid="write-button" class="primary" on:click=move |_| send(Op::Put)>"Put"</button>
                <button data-testid="delete-button" on:click=move |_| send(Op::Delete)>"Delete"</button>
            </div>
            <div class="row">
                <button data-testid="read-button" class="primary" title="Linearizable read: lease read, ReadIndex or forwarded"
                    on:click=move |_| send(Op::Read(ReadMode::Linearizable))>"Read (linearizable)"</button>
                <button data-testid="serializable-read-button" title="Serializable read: local state, may be stale"
                    on:click=move |_| send(Op::Read(ReadMode::Serializable))>"Read (serializable)"</button>
                <button data-testid="log-read-button" title="Log read: proposed through the raft log like a write and answered where it applies; slowest, and trusts no clock"
                    on:click=move |_| send(Op::Read(ReadMode::Log))>"Read (log)"</button>
            </div>
            <div class="row">
                {choice_box(range_kind, "range-kind", "which keys", RANGE_KINDS)}
                <label>"limit " {text_box(range_limit, "range-limit".into(), "tiny", None)}</label>
                <button data-testid="range-button" title="Linearizable range read: the same paths as a read"
                    on:click=move |_| range(ReadMode::Linearizable)>"Range"</button>
                <button data-testid="serializable-range-button" title="Serializable range read: local state, may be stale"
                    on:click=move |_| range(ReadMode::Serializable)>"Range (serializable)"</button>
            </div>
            <div class="row">
                <label title="Seeded background operations: puts and reads on keys w0–w7">"background load "
                    <select data-testid="workload-select"
                        prop:value=move || lab.panel_snap.with(|s| s.workload_ops_per_sec.to_string())
                        on:change=move |ev| {
                            if let Ok(ops_per_sec) = event_target_value(&ev).parse::<u32>() {
                                if let Err(e) = lab.command(Command::SetWorkload { ops_per_sec }) {
                                    say(e.to_string());
                                }
                            }
                        }>
                        {crate::model::WORKLOADS.iter().map(|(rate, label)| view! {
                            <option value=rate.to_string()>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <TxnFormPanel send=send_op say=say_cb />
            <div class="row">
                <label>"compact to rev " {text_box(compact_rev, "compact-rev".into(), "tiny", None)}</label>
                <button data-testid="compact-button" on:click=move |_| compact()>"Compact"</button>
            </div>
            <KeyLeaseForm key value send=send_op say=say_cb />
            // Scrubbed back to before it was said, the line would name an operation not yet sent.
            <div class="status" data-testid="write-status">
                {move || {
                    // "No leader" goes once one is known: it described a moment, not the run.
                    let moot = status.with(|s| s == NO_LEADER) && lab.snap.with(|s| s.leader.is_some());
                    (lab.timeline_view.with(|v| v.now.0) >= said_at.get_value() && !moot).then(|| status.get())
                }}
            </div>
        </div>
    }
}
