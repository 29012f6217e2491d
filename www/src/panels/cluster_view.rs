//! The cluster drawn as a ring: nodes by role, the leader lease ring, links (cut ones dashed)
//! and messages in flight; and its legend.

use crate::lab::lab;
use crate::model::{
    message_group, message_position, node_class, px, ring_position, role_label, MESSAGE_CLASSES, VIEW_SIZE,
};
use leaselab::decimal::fixed;
use leaselab::{Command, NodeId};
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NodeFace {
    id: NodeId,
    role: Option<leaselab::Role>,
    paused: bool,
    term: u64,
    member: leaselab::membership::Member,
}

#[component]
pub(crate) fn ClusterView() -> impl IntoView {
    let lab = lab();
    let links = Memo::new(move |_| lab.snap.with(|s| (s.nodes.len(), s.links.clone())));
    // What a node's circle shows; the clock and leader lease parts change every frame, these rarely.
    let nodes = Memo::new(move |_| {
        lab.snap.with(|s| {
            s.nodes
                .iter()
                .map(|n| NodeFace { id: n.id, role: n.role, paused: n.paused, term: n.term, member: n.member })
                .collect::<Vec<_>>()
        })
    });
    let size = px(VIEW_SIZE);
    view! {
        <svg data-testid="cluster-view" class="cluster" viewBox=format!("0 0 {size} {size}")
            role="img" aria-label="Cluster: nodes on a ring, links and messages in flight">
            // Links: one line per unordered pair, red and dashed when either direction is cut.
            // (Memoized: redrawn when a link changes, not every frame.)
            {move || links.with(|(n, links)| {
                let n = *n;
                links.iter().filter(|l| l.from < l.to).map(|l| {
                    let back_cut = links.iter().any(|r| r.from == l.to && r.to == l.from && r.cut);
                    let (a, b) = (ring_position(l.from.index(), n), ring_position(l.to.index(), n));
                    let class = match (l.cut, back_cut) {
                        (false, false) => "link",
                        (true, true) => "link cut",
                        _ => "link oneway",
                    };
                    let (from, to, cut_ab) = (l.from, l.to, l.cut);
                    let click = move |ev: leptos::ev::MouseEvent| {
                        for (f, t, cut) in crate::model::link_click(from, to, cut_ab, back_cut, ev.shift_key(), ev.alt_key()) {
                            let command = if cut { Command::CutLink { from: f, to: t } } else { Command::HealLink { from: f, to: t } };
                            if lab.command(command).is_err() { break; }
                        }
                    };
                    view! {
                        // A one-way cut: ✕ near the end that no longer hears the other.
                        {(l.cut != back_cut).then(|| {
                            let (src, dst) = if l.cut { (a, b) } else { (b, a) };
                            let (x, y) = (src.0 + (dst.0 - src.0) * 0.72, src.1 + (dst.1 - src.1) * 0.72);
                            view! { <text class="oneway-mark" x=px(x) y=px(y + 5.0) text-anchor="middle"
                                data-testid=format!("oneway-{}-{}", if l.cut { from.0 } else { to.0 }, if l.cut { to.0 } else { from.0 })>"✕"</text> }
                        })}
                        <g class="link-group" on:click=click>
                            <title>{format!("{from}–{to}: click to cut or heal both ways; shift-click {from}→{to} only; alt-click {to}→{from} only")}</title>
                            <line class=class x1=px(a.0) y1=px(a.1) x2=px(b.0) y2=px(b.1) />
                            <line class="link-hit" x1=px(a.0) y1=px(a.1) x2=px(b.0) y2=px(b.1)
                                data-testid=format!("link-{}-{}", l.from.0, l.to.0) />
                        </g>
                    }
                }).collect_view()
            })}
            // Messages in flight; those of the selected read are ringed.
            {move || {
                let selected: Vec<u64> = lab.selection.op.get().and_then(|op| lab.ops.with(|rows| {
                    rows.iter().find(|r| r.record.id == op).and_then(|r| r.record.trace.as_ref().map(|t| t.messages.clone()))
                })).unwrap_or_default();
                // One path of round dots per kind, always the same paths in the same order: a
                // handful of attribute updates per frame however many messages fly, and no
                // element added or removed as kinds come and go.
                lab.snap.with(|s| {
                    use std::fmt::Write as _;
                    let n = s.nodes.len();
                    let mut paths: [String; MESSAGE_CLASSES.len()] = Default::default();
                    let mut ringed = String::new();
                    for m in &s.messages {
                        let (x, y) = message_position(
                            ring_position(m.from.index(), n), ring_position(m.to.index(), n),
                            (m.sent_at, m.deliver_at), s.now, lab.reduced_motion);
                        let _ = write!(paths[message_group(m.kind)], "M{} {}h0", px(x), px(y));
                        if selected.contains(&m.id) {
                            let _ = write!(ringed, "M{} {}h0", px(x), px(y));
                        }
                    }
                    view! {
                        <path class="msgdots selected" data-testid="messages-selected" d=ringed />
                        {MESSAGE_CLASSES.iter().zip(paths).map(|(class, d)| view! { <path class=format!("msgdots {class}") d=d /> }).collect_view()}
                    }
                })
            }}
            // The leader lease ring: drains as the lease runs out on the leader's own clock.
            {move || lab.snap.with(|s| {
                let n = s.nodes.len();
                s.nodes.iter().filter_map(|node| {
                    let stats = node.leader_lease.as_ref()?;
                    let expire = stats.expire_at?;
                    if node.role != Some(leaselab::Role::Leader) || stats.duration_us <= 0 { return None; }
                    let left = crate::model::leader_lease_fraction_left(node.local_time, expire, stats.duration_us);
                    let (x, y) = ring_position(node.id.index(), n);
                    let circumference = std::f64::consts::TAU * 42.0;
                    Some(view! {
                        <circle class=if stats.suspect.is_some() { "leader-lease-ring suspect" } else { "leader-lease-ring" }
                            data-testid=format!("leader-lease-ring-{}", node.id.0) cx=px(x) cy=px(y) r="42"
                            stroke-dasharray=format!("{} {}", fixed(circumference * left, 1), fixed(circumference, 1))
                            transform=format!("rotate(-90 {} {})", px(x), px(y)) />
                    })
                }).collect_view()
            })}
            // Messages dropped in the last moment: a red ✕ on their link (a message lost as it
            // was sent, near its sender).
            <path class="drop-mark" data-testid="drop-marks" d=move || lab.drop_marks.get() />
            // Each node's clock: its local reading and rate, under the node.
            {move || lab.snap.with(|s| {
                let n = s.nodes.len();
                s.nodes.iter().map(|node| {
                    let (x, y) = ring_position(node.id.index(), n);
                    let drifting = node.rate_ppm != 1_000_000;
                    view! {
                        <text class="node-clock" class:drifting=drifting x=px(x) y=px(y + 50.0) text-anchor="middle"
                            data-testid=format!("ring-clock-{}", node.id.0)>
                            {format!("{} s · {}", fixed(node.local_time.as_ms_f64() / 1_000.0, 2), crate::model::rate_label(node.rate_ppm))}
                        </text>
                    }
                }).collect_view()
            })}
            // Nodes.
            {move || nodes.with(|nodes| {
                let n = nodes.len();
                nodes.iter().map(|node| {
                    let (x, y) = ring_position(node.id.index(), n);
                    let label = role_label(node.role, node.paused);
                    view! {
                        <g class=node_class(node.role, node.paused)
                            data-testid=format!("node-{}", node.id.0) data-role=label
                            class:picked=lab.selection.partition_pick.with(|p| p.contains(&node.id))
                            on:click={let id = node.id; move |ev: leptos::ev::MouseEvent| {
                                if ev.shift_key() { lab.toggle_pick(id) } else { lab.selection.node.set(Some(id)) }
                            }}>
                            <circle cx=px(x) cy=px(y) r="34" />
                            <text x=px(x) y=px(y - 8.0) class="node-name">{node.id.to_string()}</text>
                            <text x=px(x) y=px(y + 8.0) class="node-role">{label}</text>
                            <text x=px(x) y=px(y + 21.0) class="node-term">{match node.member {
                                leaselab::membership::Member::Voter => format!("term {}", node.term),
                                leaselab::membership::Member::Learner => "learner".to_string(),
                                leaselab::membership::Member::None => "removed".to_string(),
                            }}</text>
                        </g>
                    }
                }).collect_view()
            })}
        </svg>
    }
}

#[component]
pub(crate) fn Legend() -> impl IntoView {
    view! {
        <div class="legend">
            <span><i class="dot leader"></i>"leader"</span>
            <span><i class="dot follower"></i>"follower"</span>
            <span><i class="dot candidate"></i>"candidate"</span>
            <span><i class="dot paused"></i>"paused"</span>
            <span><i class="dot crashed"></i>"crashed"</span>
            <span class="sep"></span>
            <span><i class="dot msg append"></i>"append"</span>
            <span><i class="dot msg heartbeat"></i>"heartbeat"</span>
            <span><i class="dot msg vote"></i>"vote"</span>
            <span><i class="dot msg readindex"></i>"ReadIndex"</span>
        </div>
    }
}
