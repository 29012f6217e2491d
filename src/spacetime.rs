//! The space-time diagram's data: true time down, one column per node. Built from
//! the retained trace, the history and the local-read spans as plain data; the page only
//! draws it.
//!
//! The *stale-read window* is where a newer leader exists while an older leader still
//! believes it may answer reads locally (a leader lease valid on its own clock, or simply
//! being leader under raft-rs LeaseBased). A local read served inside it can miss writes the
//! new leader has already acknowledged.

use crate::event::Event;
use crate::read::ReadPath;
use crate::sim::{EntryLease, LocalReadSpan, Sim};
use crate::time::SimTime;
use crate::types::{MsgKind, NodeId, OpId};
use serde::{Deserialize, Serialize};

/// Entry leases drawn at most (a busy leader commits many entries a second; the newest show
/// the lease the log keeps renewing).
pub const ENTRY_LEASES_SHOWN: usize = 48;

/// A message: sent by `from` at `sent`, reaching `to` at `end` (or dropped at `end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrow {
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub kind: MsgKind,
    pub sent: SimTime,
    pub end: SimTime,
    pub dropped: bool,
}

/// A node's time as leader of `term`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderSpan {
    pub node: NodeId,
    pub term: u64,
    pub from: SimTime,
    pub until: SimTime,
}

/// Where a stale local read is possible: `old` (of `old_term`) still believes in its local
/// reads while `new` leads a newer term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleWindow {
    /// Under LeaseGuard the overlap is safe by design (within its clock bound): the newer leader
    /// defers its commits until the old lease is over, so nothing the old leader might miss
    /// can commit, and it serves only keys no uncommitted older entry writes.
    pub guarded: bool,
    pub old: NodeId,
    pub old_term: u64,
    pub new: NodeId,
    pub new_term: u64,
    pub from: SimTime,
    pub until: SimTime,
}

/// A fault or notable moment: on one node's column, or across the diagram (`node: None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub at: SimTime,
    pub node: Option<NodeId>,
    pub label: String,
}

/// A client operation on the node that served it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSpan {
    pub op: OpId,
    pub node: NodeId,
    pub invoked: SimTime,
    /// `None` while pending.
    pub completed: Option<SimTime>,
    pub read: bool,
    pub path: Option<ReadPath>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpaceTime {
    pub from: SimTime,
    pub to: SimTime,
    pub nodes: usize,
    /// Most recent last; at most the `max_arrows` latest sends.
    pub arrows: Vec<Arrow>,
    pub leaders: Vec<LeaderSpan>,
    pub local_reads: Vec<LocalReadSpan>,
    /// Under LeaseGuard, the leases of entries leaders committed in the window (the newest
    /// [`ENTRY_LEASES_SHOWN`]).
    pub entry_leases: Vec<EntryLease>,
    pub stale_windows: Vec<StaleWindow>,
    pub markers: Vec<Marker>,
    pub ops: Vec<OpSpan>,
    /// True when older arrows in the window were left out.
    pub arrows_truncated: bool,
    /// True when the window ends before the simulation's present (drawn at an earlier moment).
    pub past: bool,
}

/// How far before the window the operation scan looks for operations still open in it.
const OPS_LOOKBACK_US: u64 = 10_000_000;

/// The diagram of true time `[to − window_us, to]`, where `to` is the present.
pub fn build(sim: &Sim, window_us: u64, max_arrows: usize) -> SpaceTime {
    build_at(sim, sim.now(), window_us, max_arrows)
}

/// The diagram of `[to − window_us, to]` for an earlier `to` (to look at an operation that
/// scrolled out of view): only what had happened by `to` is drawn, as it stood then — as far
/// back as the trace still retains events.
pub fn build_at(sim: &Sim, to: SimTime, window_us: u64, max_arrows: usize) -> SpaceTime {
    let to = to.min(sim.now());
    let from = SimTime(to.0.saturating_sub(window_us));
    let nodes = sim.nodes().len();
    let mut d = SpaceTime { from, to, nodes, past: to < sim.now(), ..SpaceTime::default() };

    // Leader spans from the simulator's record of tenures (an election long before the window
    // still draws its leader), as they stood at `to`.
    for t in sim.leader_tenures() {
        let until = t.ended.map_or(to, |e| e.min(to));
        if t.elected <= to && until >= from {
            d.leaders.push(LeaderSpan { node: t.node, term: t.term, from: t.elected.max(from), until });
        }
    }
    crate::order::sort_by_key(&mut d.leaders, |s| (s.from.0, s.node.0, 0));
    let mut sent: Vec<Arrow> = Vec::new();
    // Message id → its arrow, so a drop can end the arrow it belongs to.
    let mut arrow_of: std::collections::BTreeMap<u64, usize> = std::collections::BTreeMap::new();
    for e in sim.trace().since_time(from).take_while(|e| e.at <= to) {
        match &e.event {
            Event::MessageSent { id, from: f, to: t, kind, deliver_at, .. } => {
                arrow_of.insert(*id, sent.len());
                sent.push(Arrow {
                    id: *id,
                    from: *f,
                    to: *t,
                    kind: *kind,
                    sent: e.at,
                    end: *deliver_at,
                    dropped: false,
                });
            }
            // A drop ends its arrow where it happened; a message lost as it was sent (a cut
            // link) is a stub at the sender.
            Event::MessageDropped { id, from: f, to: t, kind, .. } => match arrow_of.get(id) {
                Some(&i) => {
                    sent[i].dropped = true;
                    sent[i].end = e.at;
                }
                None => {
                    sent.push(Arrow { id: *id, from: *f, to: *t, kind: *kind, sent: e.at, end: e.at, dropped: true })
                }
            },
            Event::NodeCrashed { node } => {
                d.markers.push(Marker { at: e.at, node: Some(*node), label: "crash".into() })
            }
            Event::NodeRestarted { node, .. } => {
                d.markers.push(Marker { at: e.at, node: Some(*node), label: "restart".into() })
            }
            Event::NodePaused { node } => d.markers.push(Marker { at: e.at, node: Some(*node), label: "pause".into() }),
            Event::NodeResumed { node, .. } => {
                d.markers.push(Marker { at: e.at, node: Some(*node), label: "resume".into() })
            }
            Event::SnapshotInstalled { node, index, .. } => {
                d.markers.push(Marker { at: e.at, node: Some(*node), label: format!("snapshot @{index}") })
            }
            Event::CommandApplied { summary } => {
                d.markers.push(Marker { at: e.at, node: None, label: summary.clone() })
            }
            // A watch response, at the node that sent it.
            Event::WatchResponded { watch, node, note, .. } => {
                d.markers.push(Marker { at: e.at, node: Some(*node), label: format!("{watch} {note}") })
            }
            _ => {}
        }
    }

    d.arrows_truncated = sent.len() > max_arrows;
    d.arrows = sent.split_off(sent.len().saturating_sub(max_arrows));

    // Local-read beliefs and the stale windows they open against newer leaders.
    d.local_reads = sim.local_read_spans().filter(|s| s.until >= from && s.from <= to).collect();
    let mut leases: Vec<EntryLease> =
        sim.entry_leases().filter(|l| l.until >= from && l.committed <= to).copied().collect();
    d.entry_leases = leases.split_off(leases.len().saturating_sub(ENTRY_LEASES_SHOWN));
    let newer_leaders: Vec<(SimTime, NodeId, u64)> = sim.leader_changes().filter(|c| c.0 <= to).collect();
    let guarded = sim.config().leader_lease.policy == crate::leader_lease::LeaderLeasePolicy::LeaseGuard;
    for belief in &d.local_reads {
        for &(elected, leader, term) in &newer_leaders {
            let start = elected.max(belief.from).max(from);
            let until = belief.until.min(to);
            if term > belief.term && leader != belief.node && start < until {
                d.stale_windows.push(StaleWindow {
                    guarded,
                    old: belief.node,
                    old_term: belief.term,
                    new: leader,
                    new_term: term,
                    from: start,
                    until,
                });
                break; // the first newer leader opens the window; later ones add nothing
            }
        }
    }

    // Operations overlapping the window: scanned from the newest back until they were invoked
    // long before it (every operation ends within the client timeout, a few seconds).
    let lookback = SimTime(from.0.saturating_sub(OPS_LOOKBACK_US));
    d.ops = sim
        .history()
        .iter()
        .rev()
        .take_while(|r| r.completed_at.is_none_or(|c| c >= from) || r.invoked_at >= lookback)
        .filter(|r| r.completed_at.is_none_or(|c| c >= from) && r.invoked_at <= to && r.id != OpId(0))
        .map(|r| OpSpan {
            op: r.id,
            node: r.node,
            invoked: r.invoked_at,
            completed: r.completed_at.filter(|c| *c <= to),
            read: r.kind.is_read(),
            path: r.trace.as_ref().and_then(|t| t.path),
        })
        .collect();
    d.ops.reverse();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_op::ClientOp;
    use crate::command::Command;
    use crate::config::ClusterConfig;
    use crate::leader_lease::LeaderLeasePolicy;

    fn elected(seed: u64, config: ClusterConfig) -> (Sim, NodeId) {
        let mut sim = Sim::new(seed, config).unwrap();
        sim.run_for_ms(3_000);
        let leader = sim.leader().expect("a leader within 3 s");
        (sim, leader)
    }

    #[test]
    fn a_healthy_cluster_has_one_leader_column_messages_and_no_stale_window() {
        let (mut sim, leader) = elected(1, ClusterConfig::default());
        sim.apply(Command::Client {
            node: leader,
            op: ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None },
        })
        .unwrap();
        sim.run_for_ms(500);
        let d = build(&sim, 2_000_000, 10_000);
        assert_eq!(d.from, SimTime::from_ms(1_500));
        assert!(d.leaders.iter().all(|s| s.node == leader));
        assert_eq!(d.leaders.last().unwrap().until, sim.now());
        assert!(d.arrows.iter().any(|a| a.kind == MsgKind::Append));
        assert!(d.arrows.iter().all(|a| a.sent >= d.from && a.end >= a.sent && !a.dropped));
        assert!(d.stale_windows.is_empty());
        assert!(d.local_reads.iter().any(|s| s.node == leader), "a healthy leader holds a leader lease");
        assert_eq!(d.ops.len(), 1);
        assert!(!d.ops[0].read && d.ops[0].completed.is_some());
        let few = build(&sim, 2_000_000, 5);
        assert_eq!(few.arrows.len(), 5);
        assert!(few.arrows_truncated);
        assert_eq!(few.arrows.last(), d.arrows.last());
    }

    /// An isolated leader under LeaseBased keeps believing it leads while the majority elects
    /// a new one: the diagram shows the window, and cut messages as drops.
    #[test]
    fn an_isolated_lease_based_leader_opens_a_stale_window() {
        // The guided tour's run: the leader is isolated at 3.6 s.
        let tour = crate::scenario::builtin("lease-based-two-leaders").unwrap();
        assert_eq!(tour.config.leader_lease.policy, LeaderLeasePolicy::RaftLeaseBased);
        let (mut sim, old) = elected(tour.seed, tour.config);
        sim.run_until(SimTime::from_ms(3_600));
        sim.apply(Command::Isolate { node: old }).unwrap();
        sim.run_for_ms(3_000);
        let new = sim.leader().filter(|l| *l != old).expect("the majority elects a new leader");
        let d = build(&sim, 4_000_000, 100_000);
        let w = d.stale_windows.first().expect("a stale window");
        assert!(!w.guarded, "a classic policy's overlap is the danger zone");
        assert_eq!((w.old, w.new), (old, new));
        assert!(w.new_term > w.old_term && w.until > w.from);
        assert!(d.arrows.iter().any(|a| a.dropped && a.from == old));
        assert!(d.markers.iter().any(|m| m.node.is_none() && m.label.contains("isolate")));
        assert!(d.leaders.iter().any(|s| s.node == new));
    }

    /// Under the safe policy the old leader's lease expires before anyone else can be elected:
    /// no window.
    #[test]
    fn the_safe_policy_leaves_no_stale_window_when_the_leader_is_isolated() {
        let (mut sim, old) = elected(2, ClusterConfig::default());
        sim.apply(Command::Isolate { node: old }).unwrap();
        sim.run_for_ms(3_000);
        assert!(sim.leader().is_some_and(|l| l != old));
        let d = build(&sim, 4_000_000, 100_000);
        assert!(d.stale_windows.is_empty(), "{:?}", d.stale_windows);
        let belief =
            d.local_reads.iter().rfind(|s| s.node == old).expect("the old leader believed in its leader lease");
        let elected = sim.leader_changes().last().unwrap().0;
        assert!(belief.until <= elected, "leader lease until {} vs new leader at {elected}", belief.until);
    }

    #[test]
    fn crash_and_restart_are_marked_on_the_node() {
        let (mut sim, leader) = elected(3, ClusterConfig::default());
        let follower = NodeId(if leader.0 == 1 { 2 } else { 1 });
        sim.apply(Command::Crash { node: follower }).unwrap();
        sim.run_for_ms(200);
        sim.apply(Command::Restart { node: follower }).unwrap();
        sim.run_for_ms(200);
        let d = build(&sim, 1_000_000, 1_000);
        let labels: Vec<&str> =
            d.markers.iter().filter(|m| m.node == Some(follower)).map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["crash", "restart"]);
    }

    /// A leader elected long before the window (its election gone from the trace's recent
    /// events) still has its column drawn across the whole window; a crashed one's ends.
    #[test]
    fn a_long_lived_leader_is_drawn_however_long_ago_it_was_elected() {
        let (mut sim, leader) = elected(4, ClusterConfig::default());
        sim.run_for_ms(60_000);
        assert_eq!(sim.leader(), Some(leader), "no election in a healthy minute");
        let d = build(&sim, 3_000_000, 1_000);
        let spans: Vec<_> = d.leaders.iter().map(|s| (s.node, s.from, s.until)).collect();
        assert_eq!(spans, [(leader, d.from, d.to)]);

        sim.apply(Command::Crash { node: leader }).unwrap();
        let crashed_at = sim.now();
        sim.run_for_ms(4_000);
        let d = build(&sim, 5_000_000, 1_000);
        let old = d.leaders.iter().find(|s| s.node == leader).expect("the old leader's column");
        assert_eq!((old.from, old.until), (d.from, crashed_at), "drawn until the crash");
        let new = d.leaders.iter().find(|s| s.node != leader).expect("a new leader within 4 s");
        assert_eq!(new.until, d.to);
    }
}

#[cfg(test)]
mod focus_tests {
    use super::*;
    use crate::client_op::ClientOp;
    use crate::command::Command;
    use crate::config::ClusterConfig;

    /// Looking back at an earlier moment shows the diagram as it was then: the same as a
    /// diagram built when that moment was the present.
    #[test]
    fn a_diagram_of_an_earlier_moment_matches_the_one_drawn_then() {
        let mut sim = Sim::new(5, ClusterConfig::default()).unwrap();
        sim.run_for_ms(2_500);
        let leader = sim.leader().unwrap();
        sim.apply(Command::Client {
            node: leader,
            op: ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None },
        })
        .unwrap();
        sim.run_for_ms(5);
        let then = build(&sim, 2_000_000, 10_000);
        sim.run_for_ms(1);
        sim.apply(Command::Isolate { node: leader }).unwrap();
        sim.run_for_ms(4_000);
        let looked_back = build_at(&sim, then.to, 2_000_000, 10_000);
        assert_eq!(looked_back.arrows, then.arrows);
        assert_eq!(looked_back.leaders, then.leaders);
        assert_eq!(looked_back.ops, then.ops);
        assert_eq!(looked_back.markers, then.markers);
        assert!(looked_back.stale_windows.is_empty());
        assert!(!then.past && looked_back.past, "drawn at the present, then at an earlier moment");
    }
}
