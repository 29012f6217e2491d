//! The client panel: puts, deletes, reads, transactions, compaction and key leases, sent to
//! the leader or a chosen node.

use crate::lab::lab;
use crate::widgets::{choice_box, text_box};
use leaselab::{ClientOp, Command, NodeId, ReadMode};
use leptos::prelude::*;

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
    let lease_id = RwSignal::new("1".to_string());
    let lease_ttl = RwSignal::new("5".to_string());
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
    // One signal per field of the transaction form, so each box is a plain `text_box`.
    let example = crate::model::TxnForm::example();
    let [if_key, if_target, if_op, if_operand, then_kind, then_key, then_value, else_kind, else_key, else_value] = [
        example.key,
        example.target,
        example.op,
        example.operand,
        example.then_kind,
        example.then_key,
        example.then_value,
        example.else_kind,
        example.else_key,
        example.else_value,
    ]
    .map(RwSignal::new);
    let txn_form = move || crate::model::TxnForm {
        key: if_key.get_untracked(),
        target: if_target.get_untracked(),
        op: if_op.get_untracked(),
        operand: if_operand.get_untracked(),
        then_kind: then_kind.get_untracked(),
        then_key: then_key.get_untracked(),
        then_value: then_value.get_untracked(),
        else_kind: else_kind.get_untracked(),
        else_key: else_key.get_untracked(),
        else_value: else_value.get_untracked(),
    };
    let send_txn = move || match crate::model::build_txn(&txn_form()) {
        Ok((compares, success, failure)) => send_cmd(Box::new(move |node| Command::Client {
            node,
            op: ClientOp::Txn { compares: compares.clone(), success: success.clone(), failure: failure.clone() },
        })),
        Err(e) => say(e),
    };
    let compact = move || match compact_rev.get_untracked().trim().parse::<u64>() {
        Ok(revision) => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::Compact { revision } })),
        Err(_) => say("a revision is a whole number up to 18446744073709551615".into()),
    };
    let with_lease = move |action: u8| {
        let id = match crate::model::parse_key_lease_id(&lease_id.get_untracked()) {
            Ok(id) => id,
            Err(e) => return say(e),
        };
        match action {
            0 => match crate::model::parse_ttl_ms(&lease_ttl.get_untracked()) {
                Ok(ttl_ms) => {
                    send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::KeyLeaseGrant { id, ttl_ms } }))
                }
                Err(e) => say(e),
            },
            1 => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::KeyLeaseKeepAlive { id } })),
            2 => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::KeyLeaseRevoke { id } })),
            _ => {
                let (k, v) = (key.get_untracked(), value.get_untracked());
                send_cmd(Box::new(move |node| Command::Client {
                    node,
                    op: ClientOp::Put { key: k.clone(), value: v.clone(), key_lease: Some(id) },
                }))
            }
        }
    };
    view! {
        <div class="panel client">
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
            <details class="txn" data-testid="txn-builder">
                <summary>"Transaction (if … then … else …)"</summary>
                <div class="row">
                    "if "
                    {text_box(if_key, "txn-key".into(), "short", Some("compare key"))}
                    {choice_box(if_target, "txn-target", "compare target", &[("value", "value"), ("version", "version"), ("create", "create"), ("mod", "mod")])}
                    {choice_box(if_op, "txn-op", "comparison", &[("=", "="), ("!=", "!="), (">", ">"), ("<", "<")])}
                    {text_box(if_operand, "txn-operand".into(), "tiny", Some("compare with"))}
                </div>
                <div class="row">
                    "then "
                    {choice_box(then_kind, "txn-then-kind", "then operation", &[("put", "put"), ("delete", "delete"), ("get", "get")])}
                    {text_box(then_key, "txn-then-key".into(), "short", Some("then key"))}
                    <span class:hidden=move || then_kind.get() != "put">"= "
                        {text_box(then_value, "txn-then-value".into(), "short", Some("then value"))}</span>
                </div>
                <div class="row">
                    "else "
                    {choice_box(else_kind, "txn-else-kind", "else operation", &[("get", "get"), ("put", "put"), ("delete", "delete"), ("", "nothing")])}
                    {text_box(else_key, "txn-else-key".into(), "short", Some("else key"))}
                    <span class:hidden=move || else_kind.get() != "put">"= "
                        {text_box(else_value, "txn-else-value".into(), "short", Some("else value"))}</span>
                    <button data-testid="txn-button" on:click=move |_| send_txn()>"Send txn"</button>
                </div>
            </details>
            <div class="row">
                <label>"compact to rev " {text_box(compact_rev, "compact-rev".into(), "tiny", None)}</label>
                <button data-testid="compact-button" on:click=move |_| compact()>"Compact"</button>
            </div>
            <div class="row">
                <label>"key lease " {text_box(lease_id, "lease-id".into(), "tiny", None)}</label>
                <label>"TTL " {text_box(lease_ttl, "lease-ttl".into(), "tiny", None)}" s"</label>
                <button data-testid="lease-grant" on:click=move |_| with_lease(0)>"Grant"</button>
                <button data-testid="lease-keepalive" on:click=move |_| with_lease(1)>"Keep-alive"</button>
                <button data-testid="lease-revoke" on:click=move |_| with_lease(2)>"Revoke"</button>
                <button data-testid="put-with-lease" on:click=move |_| with_lease(3)>"Put with lease"</button>
            </div>
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
