//! The node table: role, term, indexes, leader lease, clock (rate slider, jumps) and the
//! per-node fault buttons.

use crate::lab::lab;
use crate::model::{node_class, role_label};
use crate::widgets::text_box;
use leaselab::membership::Member;
use leaselab::{Command, NodeId};
use leptos::prelude::*;

#[component]
pub(crate) fn NodeTable() -> impl IntoView {
    let lab = lab();
    let rows = Memo::new(move |_| {
        lab.panel_snap.with(|s| {
            s.nodes
                .iter()
                .map(|n| {
                    // Isolated: it has links and every one to or from it is cut.
                    let mut links = s.links.iter().filter(|l| l.from == n.id || l.to == n.id).peekable();
                    let isolated = links.peek().is_some() && links.all(|l| l.cut);
                    (n.id, n.crashed, n.paused, n.rate_ppm, isolated, n.member)
                })
                .collect::<Vec<_>>()
        })
    });
    let act = move |c: Command| {
        let _ = lab.command(c);
    };
    // How far the −Δ / +Δ buttons step a clock, typed in ms below the table.
    let jump_text = RwSignal::new("500".to_string());
    let jump = move |node: NodeId, sign: i64| match crate::model::parse_jump_us(&jump_text.get_untracked()) {
        Ok(us) => act(Command::JumpClock { node, delta_us: sign * us }),
        Err(e) => lab.error.set(Some(e)),
    };
    view! {
        <div class="panel" data-refresh="tables">
            <h2>"Nodes" <span class="leader-summary" data-testid="leader-summary" aria-live="polite">{move || lab.panel_snap.with(|s| match s.leader {
                Some(l) => format!("leader {l}"),
                None => "no leader".to_string(),
            })}</span></h2>
            <table class="nodes" data-testid="node-table">
                <thead><tr>
                    <th>"node"</th><th>"role"</th><th>"term"</th><th title="commit index">"commit"</th>
                    <th title="applied index">"applied"</th><th title="leader lease on the node's own clock">"leader lease"</th>
                    <th title="local clock and rate">"clock"</th><th>"faults"</th>
                </tr></thead>
                <tbody>
                // Rows are rebuilt only when a node's buttons change (crash, pause, rate); the
                // cells that move (role, indexes, leader lease, clock) update in place.
                {move || rows.get().into_iter().map(|(id, crashed, paused, rate_ppm, isolated, member)| {
                    let cell = move |f: fn(&leaselab::snapshot::NodeView) -> String| {
                        move || lab.panel_snap.with(|s| s.nodes.get(id.index()).map(f).unwrap_or_default())
                    };
                    view! {
                        <tr data-testid=format!("node-row-{}", id.0) on:click=move |_| lab.selection.node.set(Some(id))>
                            <td><label class="pick" title="Pick for a partition (or shift-click the node)">
                                <input type="checkbox" data-testid=format!("pick-{}", id.0)
                                    prop:checked=move || lab.selection.partition_pick.with(|p| p.contains(&id))
                                    on:click=|ev| ev.stop_propagation()
                                    on:change=move |_| lab.toggle_pick(id) />
                                {id.to_string()}</label>
                                {match member {
                                    Member::Voter => None,
                                    Member::Learner => Some(view! { <span class="member-tag" data-testid=format!("member-{}", id.0)>"learner"</span> }),
                                    Member::None => Some(view! { <span class="member-tag" data-testid=format!("member-{}", id.0)>"removed"</span> }),
                                }}</td>
                            <td class=cell(|n| node_class(n.role, n.paused).to_string()) data-testid=format!("node-role-{}", id.0)>
                                {cell(|n| role_label(n.role, n.paused).to_string())}</td>
                            <td data-testid=format!("node-term-{}", id.0)>{cell(|n| n.term.to_string())}</td>
                            <td data-testid=format!("node-commit-{}", id.0)>{cell(|n| n.commit.to_string())}</td>
                            <td data-testid=format!("node-applied-{}", id.0)>{cell(|n| n.applied.to_string())}</td>
                            <td class="mono" data-testid=format!("node-leader-lease-{}", id.0)
                                title=cell(|n| n.leader_lease.as_ref().map(|l| format!("{} — {}", l.config_reason, l.last_reason)).unwrap_or_default())>
                                {cell(|n| crate::model::leader_lease_label(n.role, n.local_time, n.leader_lease.as_ref()))}</td>
                            <td class="mono clockcell">
                                <span data-testid=format!("node-clock-{}", id.0)>{cell(|n| format!("{}s", leaselab::decimal::fixed(n.local_time.as_ms_f64() / 1000.0, 1)))}</span>
                                <input type="range" class="rate" data-testid=format!("rate-{}", id.0) disabled=crashed
                                    min="0" max=(crate::model::RATE_STEPS.len() - 1).to_string() step="1"
                                    aria-label=format!("clock rate of {id}")
                                    title="Drag to drift this clock: 0.1× to 10× true time"
                                    prop:value=crate::model::rate_step_index(rate_ppm).to_string()
                                    // While dragging, the label beside the slider follows it; the
                                    // rate itself changes once, on release.
                                    on:input=|ev| {
                                        let slider = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
                                        let step = event_target_value(&ev).parse::<usize>().ok();
                                        if let (Some(label), Some(ppm)) = (
                                            slider.and_then(|s| s.next_element_sibling()),
                                            step.and_then(|i| crate::model::RATE_STEPS.get(i)),
                                        ) {
                                            label.set_text_content(Some(&crate::model::rate_label(*ppm)));
                                        }
                                    }
                                    on:change=move |ev| {
                                        let step = event_target_value(&ev).parse::<usize>().ok();
                                        if let Some(rate_ppm) = step.and_then(|i| crate::model::RATE_STEPS.get(i)) {
                                            act(Command::SetClockRate { node: id, rate_ppm: *rate_ppm });
                                        }
                                    } />
                                <span class="rate-label" data-testid=format!("rate-label-{}", id.0)>{crate::model::rate_label(rate_ppm)}</span>
                                <button data-testid=format!("jump-back-{}", id.0) title="step this clock back by Δ (set below the table)"
                                    on:click=move |_| jump(id, -1)>"−Δ"</button>
                                <button data-testid=format!("jump-fwd-{}", id.0) title="step this clock forward by Δ (set below the table)"
                                    on:click=move |_| jump(id, 1)>"+Δ"</button>
                            </td>
                            <td class="actions">
                                <button data-testid=format!("pause-{}", id.0) disabled=crashed
                                    on:click=move |_| act(if paused { Command::Resume { node: id } } else { Command::Pause { node: id } })>
                                    {if paused { "resume" } else { "pause" }}</button>
                                <button data-testid=format!("crash-{}", id.0)
                                    on:click=move |_| act(if crashed { Command::Restart { node: id } } else { Command::Crash { node: id } })>
                                    {if crashed { "restart" } else { "crash" }}</button>
                                <button data-testid=format!("isolate-{}", id.0)
                                    on:click=move |_| if isolated { lab.rejoin(id) } else { act(Command::Isolate { node: id }) }>
                                    {if isolated { "rejoin" } else { "isolate" }}</button>
                                <button data-testid=format!("transfer-{}", id.0) disabled=crashed
                                    title="Hand leadership to this node (etcd's move-leader): the leader catches it up and sends it TimeoutNow"
                                    on:click=move |_| act(Command::TransferLeader { to: id })>"lead"</button>
                                <button data-testid=format!("membership-{}", id.0) disabled=member == Member::None
                                    title=if member == Member::Learner {
                                        "Make this learner a voter (etcd's member promote)"
                                    } else {
                                        "Remove this node from the cluster (etcd's member remove); a leader hands leadership over first"
                                    }
                                    on:click=move |_| act(if member == Member::Learner {
                                        Command::ChangeMembership { promote: vec![id], remove: vec![] }
                                    } else {
                                        Command::ChangeMembership { promote: vec![], remove: vec![id] }
                                    })>
                                    {match member { Member::Learner => "promote", Member::Voter => "remove", Member::None => "removed" }}</button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
            <div class="row">
                <label title="How far the −Δ and +Δ buttons step a node's clock">"clock jump Δ "
                    {text_box(jump_text, "jump-input".into(), "tiny", None)}" ms"</label>
                <button data-testid="heal-all" on:click=move |_| act(Command::HealAll)>"Heal all links"</button>
                <button data-testid="add-learner" title="Start a new node and add it as a learner (etcd's member add --learner); promote it once it has caught up"
                    on:click=move |_| act(Command::AddLearner)>"Add a node"</button>
                <span class="mono" data-testid="membership-summary">{move || lab.panel_snap.with(|s| s.membership.to_string())}</span>
                <button data-testid="partition-apply" disabled=move || lab.selection.partition_pick.with(|p| p.is_empty())
                    title="Cut every link between the picked nodes and the others (this replaces any earlier partition and cut links)"
                    on:click=move |_| lab.partition_picked()>
                    {move || lab.selection.partition_pick.with(|p| if p.is_empty() {
                        "Partition: pick nodes".to_string()
                    } else {
                        format!("Partition {{{}}} | rest", p.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "))
                    })}
                </button>
                <span class="error" data-testid="command-error" aria-live="polite">{move || lab.error.get()}</span>
            </div>
        </div>
    }
}
