//! The inspector: one node's raft state, newest log entries, leader lease, key leases, the
//! watches it serves and MVCC keys.

use crate::lab::lab;
use crate::model::role_label;
use leaselab::decimal::fixed;
use leptos::prelude::*;

/// The node inspector: raft state, leader lease, lessor key leases with TTL bars, MVCC keys.
/// Raft log entries the inspector lists.
pub(crate) const INSPECTOR_LOG_ENTRIES: usize = 10;

#[component]
pub(crate) fn Inspector() -> impl IntoView {
    let lab = lab();
    move || {
        let id = lab.selection.node.get()?;
        lab.panel_snap.with(|s| {
            let n = s.nodes.iter().find(|n| n.id == id)?.clone();
            let log = lab.log_tail(id, INSPECTOR_LOG_ENTRIES);
            let leases = log.iter().any(|e| e.lease_until.is_some());
            let lease_ms = f64::from(s.config.leader_lease.lease_guard_lease_ms);
            let watches: Vec<_> = s.watches.iter().filter(|w| w.node == id && w.ended.is_none()).cloned().collect();
            Some(view! {
                <div class="panel inspector" data-testid="inspector" data-refresh="tables">
                    <h2>{format!("Inspector — {}", n.id)}
                        <button class="linklike" data-testid="inspector-close" on:click=move |_| lab.selection.node.set(None)>"close"</button></h2>
                    <p class="mono" data-testid="inspector-raft">{format!(
                        "{} · term {} · leader {} · log [{}..{}] · commit {} · applied {} · election timeout {} ticks",
                        role_label(n.role, n.paused), n.term, n.leader, n.first_index, n.last_index, n.commit, n.applied,
                        n.election_timeout_ticks)}</p>
                    // Each direction of each of its links, cut or healed by a tap: the way to a
                    // one-way cut without a keyboard's shift or alt (a phone, a tablet).
                    <div class="row link-directions" role="group" aria-label=format!("Links of {id}, one direction each")>
                        {s.links.iter().filter(|l| l.from == id || l.to == id).map(|l| {
                            let (from, to, cut) = (l.from, l.to, l.cut);
                            let command = move |_| {
                                let c = if cut { leaselab::Command::HealLink { from, to } } else { leaselab::Command::CutLink { from, to } };
                                let _ = lab.command(c);
                            };
                            view! {
                                <button data-testid=format!("direction-{}-{}", from.0, to.0) aria-pressed=cut.to_string()
                                    title=format!("{from}→{to}: messages from {from} to {to} {}", if cut { "are dropped; tap to heal" } else { "flow; tap to cut" })
                                    on:click=command>{format!("{from}→{to}{}", if cut { " ✕" } else { "" })}</button>
                            }
                        }).collect_view()}
                    </div>
                    {n.leader_lease.as_ref().map(|l| view! {
                        <p class="muted" data-testid="inspector-leader-lease">{format!(
                            "leader lease: {} · renewed {} times · {} · duration {} ms{}",
                            l.config_reason, l.renew_count, l.last_reason, l.duration_us / 1_000,
                            l.suspect.as_ref().map_or(String::new(), |s| format!(" · SUSPECT: {s}")))}</p>
                    })}
                    <h3>{format!("Raft log (newest {}; {} compacted away before index {})", log.len(),
                        if n.first_index > 1 { "older entries" } else { "nothing" }, n.first_index)}</h3>
                    <table class="ops raftlog" data-testid="inspector-log" tabindex="0" aria-label="Raft log">
                        <thead><tr><th>"index"</th><th>"term"</th><th>"entry"</th><th>"state"</th>
                            {leases.then(|| view! { <th title="LeaseGuard: when the lease this entry's stamp carries ends (stamp + Δ), on this node's clock">"lease"</th> })}</tr></thead>
                        <tbody>{log.into_iter().map(|e| {
                            let state = if e.index <= n.applied { "applied" } else if e.index <= n.commit { "committed" } else { "uncommitted" };
                            let marks = format!("{}{}", if e.index == n.commit { "◀ commit " } else { "" }, if e.index == n.applied { "◀ applied" } else { "" });
                            view! {
                                <tr class=state data-testid=format!("log-entry-{}", e.index)>
                                    <td>{e.index}</td><td>{e.term}</td>
                                    <td>{e.summary}{e.op.map(|op| format!(" ({op})"))}</td>
                                    <td>{state}" "<b>{marks}</b></td>
                                    {leases.then(|| {
                                        let left_ms = e.lease_until.map(|x| (x.0 - n.local_time.0) as f64 / 1e3);
                                        let frac = left_ms.map_or(0.0, |l| (l / lease_ms).clamp(0.0, 1.0));
                                        view! { <td data-testid=format!("log-lease-{}", e.index)>
                                            <span class="ttlbar"><span style=format!("width:{}%", fixed(frac * 100.0, 0))></span></span>
                                            {match left_ms { Some(l) if l > 0.0 => format!(" {} s left", fixed(l / 1e3, 1)), Some(_) => " over".to_string(), None => " —".to_string() }}
                                        </td> }
                                    })}
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    <h3>{format!("Key leases ({})", if n.lessor_primary { "primary: expiries on this clock" } else { "held forever: not primary" })}</h3>
                    {n.key_lease_promotion.map(|p| view! {
                        <p class="muted" data-testid="inspector-promotion">{crate::model::promotion_text(&p)}</p>
                    })}
                    <table class="ops" data-testid="inspector-key-leases" tabindex="0" aria-label="Key leases">
                        <thead><tr><th>"id"</th><th>"TTL"</th><th>"remaining"</th><th>"checkpoint"</th><th>"keys"</th></tr></thead>
                        <tbody>{n.key_leases.iter().map(|l| {
                            let frac = l.remaining_ms.map_or(1.0, |r| (r as f64 / l.ttl_ms.max(1) as f64).clamp(0.0, 1.0));
                            view! {
                                <tr>
                                    <td>{l.id}</td><td>{format!("{} s", fixed(l.ttl_ms as f64 / 1e3, 1))}</td>
                                    <td><span class="ttlbar"><span style=format!("width:{}%", fixed(frac * 100.0, 0))></span></span>
                                        {l.remaining_ms.map_or("forever".to_string(), |r| format!(" {} s", fixed(r as f64 / 1e3, 1)))}</td>
                                    <td>{if l.checkpoint_ms > 0 { format!("{} s", fixed(l.checkpoint_ms as f64 / 1e3, 1)) } else { "—".into() }}</td>
                                    <td>{l.keys.join(", ")}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    <h3>{format!("Watches served here ({})", watches.len())}</h3>
                    <table class="ops" data-testid="inspector-watches" tabindex="0" aria-label="Watches served">
                        <thead><tr><th>"watch"</th><th>"keys"</th><th>"events"</th><th>"behind leader"</th></tr></thead>
                        <tbody>{watches.into_iter().map(|w| view! {
                            <tr><td>{w.id.to_string()}</td><td>{w.request.keys()}</td><td>{w.events_received}</td>
                                <td>{crate::model::plural(w.lag as usize, "revision")}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                    {(!n.limbo_keys.is_empty()).then(|| view! {
                        <p class="muted" data-testid="inspector-limbo">{format!("LeaseGuard limbo (reads of these wait until the deferral ends): {}",
                            n.limbo_keys.iter().map(|k| k.clone().unwrap_or_else(|| "every key".into())).collect::<Vec<_>>().join(", "))}</p>
                    })}
                    <h3>{format!("MVCC: revision {}, compacted {}, {} keys", n.revision, n.compacted_revision, n.key_count)}</h3>
                    <table class="ops" data-testid="inspector-keys" tabindex="0" aria-label="MVCC keys">
                        <thead><tr><th>"key"</th><th>"value"</th><th>"create"</th><th>"mod"</th><th>"version"</th><th>"key lease"</th></tr></thead>
                        <tbody>{n.keys.iter().map(|kv| {
                            let limbo = n.limbo_keys.iter().any(|k| k.as_ref().is_none_or(|k| *k == kv.key));
                            view! {
                            <tr class=if limbo { "limbo" } else { "" } data-testid=format!("key-{}", kv.key)
                                title=if limbo { "LeaseGuard limbo: an entry of an earlier term past the commit index may write it; reads of it wait" } else { "" }>
                                <td>{kv.key.clone()}</td><td>{kv.value.clone()}</td><td>{kv.create_revision}</td>
                                <td>{kv.mod_revision}</td><td>{kv.version}</td>
                                <td>{kv.key_lease.map_or_else(|| "—".to_string(), |id| id.to_string())}</td></tr>
                        }}).collect_view()}</tbody>
                    </table>
                </div>
            })
        })
    }
}
