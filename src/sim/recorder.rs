//! The recorder: what an observer outside the cluster writes down as the run goes — the
//! client-side history of operations and the linearizability checker over it, the event
//! trace and its hash, who led when, and when leaders believed they could read locally.
//! Nothing here feeds back into the nodes.

use crate::checker::Checker;
use crate::clock::NodeClock;
use crate::config::ClusterConfig;
use crate::event::{Event, OpOutcome, Trace};
use crate::history::{History, OpKind};
use crate::leader_lease::LeaderLeasePolicy;
use crate::node::Node;
use crate::time::SimTime;
use crate::types::{NodeId, OpId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Raft indexes of internal proposals remembered to record each once.
const INTERNAL_APPLIED_REMEMBERED: usize = 10_000;

/// Leader elections remembered for explaining stale reads.
const LEADER_TENURES_MAX: usize = 4_096;

/// Closed local-read spans remembered.
const LOCAL_READ_SPANS_MAX: usize = 1_024;

/// Operation records the history forgets at once when full (after the checker has judged
/// what it can of them).
const HISTORY_FORGET_BATCH: usize = 1_000;

/// True time during which a leader believed it could answer reads locally: its
/// leader lease valid on its own clock, or under raft-rs LeaseBased simply being leader. The
/// space-time diagram shades where such a belief outlives the election of a newer leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalReadSpan {
    pub node: NodeId,
    pub term: u64,
    pub from: SimTime,
    /// When the belief ends (for an open span: when it would end if nothing changes).
    pub until: SimTime,
}

/// Under LeaseGuard, the lease of the entry a leader's commit index reached: from that commit
/// until the entry's lease ends (`X(e)`, on the leader's clock as it ran then).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryLease {
    pub node: NodeId,
    pub index: u64,
    pub term: u64,
    pub committed: SimTime,
    pub until: SimTime,
}

/// Entry leases kept for the diagram (a ring: the oldest go first).
const ENTRY_LEASES_MAX: usize = 512;

/// One node's time as leader of one term, by true time: from its election until it stepped
/// down or crashed (`ended` is `None` while it still leads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderTenure {
    pub elected: SimTime,
    pub node: NodeId,
    pub term: u64,
    pub ended: Option<SimTime>,
}

#[derive(Clone)]
pub(super) struct Recorder {
    pub history: History,
    /// The linearizability checker over `history`, carried in every clone: a checkpoint
    /// restored, a shared run replayed and the live run all give the same verdicts, even for
    /// operations whose records the history has since forgotten.
    pub checker: Checker,
    pub trace: Trace,
    /// Closed local-read spans, oldest first, and each node's open one.
    local_read_spans: VecDeque<LocalReadSpan>,
    open_local_read: Vec<Option<LocalReadSpan>>,
    /// Under LeaseGuard, the leases of the entries leaders committed, oldest first (bounded).
    entry_leases: VecDeque<EntryLease>,
    /// Every node's tenures as leader, most recent last (bounded).
    leader_tenures: VecDeque<LeaderTenure>,
    /// Raft indexes of the nodes' own proposals already recorded in the history.
    internal_applied: BTreeSet<u64>,
    /// True time each key lease was first revoked (applied) anywhere.
    key_leases_revoked: BTreeMap<u64, SimTime>,
    /// Every watch's log.
    pub watches: super::watches::WatchLogs,
}

impl Recorder {
    pub fn new(node_count: usize) -> Recorder {
        Recorder {
            history: History::new(),
            checker: Checker::new(),
            trace: Trace::default(),
            local_read_spans: VecDeque::new(),
            open_local_read: vec![None; node_count],
            entry_leases: VecDeque::new(),
            leader_tenures: VecDeque::new(),
            internal_applied: BTreeSet::new(),
            watches: Default::default(),
            key_leases_revoked: BTreeMap::new(),
        }
    }

    /// A node joined the cluster.
    pub fn add_node(&mut self) {
        self.open_local_read.push(None);
    }

    pub fn emit(&mut self, now: SimTime, event: Event) {
        self.trace.push(now, event);
    }

    /// Opens a history record for a client operation and reports its invocation.
    pub fn invoke(&mut self, now: SimTime, node: NodeId, kind: OpKind) -> OpId {
        let summary = kind.summary();
        self.make_room_in_history();
        let op = self.history.invoke(now, node, kind);
        self.emit(now, Event::OpInvoked { op, node, summary });
        op
    }

    /// Ends operation `op` (once: a later answer for it is ignored).
    pub fn complete(&mut self, now: SimTime, op: OpId, outcome: OpOutcome) {
        if self.history.complete(op, now, outcome.clone()) {
            let node = self.history.get(op).map_or(NodeId::NONE, |r| r.node);
            self.emit(now, Event::OpCompleted { op, node, outcome });
        }
    }

    /// Makes room for one more operation record: before the full history forgets its oldest
    /// batch, the checker judges whatever it can of it.
    pub fn make_room_in_history(&mut self) {
        if self.history.is_full() {
            self.checker.update(&self.history);
            self.history.forget_oldest(HISTORY_FORGET_BATCH);
        }
    }

    /// Records the effects of a node's own proposal (a key lease expiry's revoke) once, at its
    /// first apply anywhere, so the checker knows those keys were deleted.
    pub fn record_internal(
        &mut self,
        now: SimTime,
        node: NodeId,
        index: u64,
        revision: u64,
        effects: Vec<(String, Option<String>)>,
    ) {
        if effects.is_empty() || !self.internal_applied.insert(index) {
            return;
        }
        if self.internal_applied.len() > INTERNAL_APPLIED_REMEMBERED {
            self.internal_applied.pop_first();
        }
        self.make_room_in_history();
        self.history.record_internal(now, node, index, revision, effects);
    }

    /// Reports key lease `id`'s revoke the first time any node applies it.
    pub fn key_lease_revoked(&mut self, now: SimTime, id: u64, node: NodeId, keys: Vec<String>) {
        if let std::collections::btree_map::Entry::Vacant(e) = self.key_leases_revoked.entry(id) {
            e.insert(now);
            self.trace.push(now, Event::KeyLeaseRevoked { id, node, keys });
        }
    }

    /// When key lease `id` was first revoked (expired or revoked by a client), if it was.
    pub fn key_lease_revoked_at(&self, id: u64) -> Option<SimTime> {
        self.key_leases_revoked.get(&id).copied()
    }

    /// `node` became leader of `term` now.
    pub fn start_tenure(&mut self, now: SimTime, node: NodeId, term: u64) {
        if self.leader_tenures.len() == LEADER_TENURES_MAX {
            self.leader_tenures.pop_front();
        }
        self.leader_tenures.push_back(LeaderTenure { elected: now, node, term, ended: None });
    }

    /// Ends `node`'s tenure as leader, if it has an open one.
    pub fn end_tenure(&mut self, now: SimTime, node: NodeId) {
        if let Some(t) = self.leader_tenures.iter_mut().rev().find(|t| t.node == node && t.ended.is_none()) {
            t.ended = Some(now);
        }
    }

    pub fn leader_tenures(&self) -> impl Iterator<Item = &LeaderTenure> {
        self.leader_tenures.iter()
    }

    /// A leader committed entry `index` of `term`, whose lease ends at `until`.
    pub fn entry_lease(&mut self, lease: EntryLease) {
        if self.entry_leases.len() == ENTRY_LEASES_MAX {
            self.entry_leases.pop_front();
        }
        self.entry_leases.push_back(lease);
    }

    pub fn entry_leases(&self) -> impl Iterator<Item = &EntryLease> {
        self.entry_leases.iter()
    }

    pub fn local_read_spans(&self) -> impl Iterator<Item = LocalReadSpan> + '_ {
        self.local_read_spans.iter().copied().chain(self.open_local_read.iter().flatten().copied())
    }

    /// Updates `node`'s local-read span after it did something (a renewal extends the span; a
    /// step-down, revoke or crash ends it now).
    pub fn track_local_reads(&mut self, now: SimTime, node: &Node, clock: &NodeClock, config: &ClusterConfig) {
        let policy = config.leader_lease.policy;
        let i = node.id.index();
        if self.open_local_read[i].is_none() && !node.is_leader() {
            // Only a leader believes it may read locally (the common case: a follower).
            return;
        }
        let local = clock.local_at(now);
        let until = node.local_read_until(local, config).map(|u| clock.true_time_reaching(now, u));
        let term = node.term();
        // Under LeaseBased the belief is "I am leader", continuous between two looks unless a
        // role change (which is itself a look) ended it; a lease can lapse between looks.
        let continuous = policy == LeaderLeasePolicy::RaftLeaseBased;
        let open = &mut self.open_local_read[i];
        match (until, open.as_mut()) {
            (Some(until), Some(span)) if span.term == term && (continuous || span.until >= now) => {
                span.until = span.until.max(until);
                return;
            }
            (None, None) => return,
            (None, Some(span)) if continuous => span.until = now,
            (None, Some(span)) => span.until = span.until.min(now),
            (Some(_), None) => {}
            (Some(_), Some(_)) => {}
        }
        if let Some(closed) = open.take() {
            if self.local_read_spans.len() == LOCAL_READ_SPANS_MAX {
                self.local_read_spans.pop_front();
            }
            self.local_read_spans.push_back(closed);
        }
        if let Some(until) = until {
            self.open_local_read[i] = Some(LocalReadSpan { node: node.id, term, from: now, until });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_op::ClientOp;

    #[test]
    fn an_operation_completes_once_and_reports_it_once() {
        let mut r = Recorder::new(3);
        let op = r.invoke(SimTime(1), NodeId(2), OpKind::Client(ClientOp::Delete { key: "k".into() }));
        r.complete(SimTime(5), op, OpOutcome::Ok { revision: 3 });
        r.complete(SimTime(9), op, OpOutcome::Failed { reason: "late answer".into() });
        assert_eq!(r.history.get(op).unwrap().outcome, OpOutcome::Ok { revision: 3 });
        let completions = r.trace.since(0).filter(|e| matches!(e.event, Event::OpCompleted { .. })).count();
        assert_eq!(completions, 1);
    }

    #[test]
    fn tenures_end_for_the_node_that_led_only() {
        let mut r = Recorder::new(3);
        r.start_tenure(SimTime(10), NodeId(1), 2);
        r.end_tenure(SimTime(20), NodeId(2));
        r.start_tenure(SimTime(30), NodeId(2), 3);
        r.end_tenure(SimTime(40), NodeId(1));
        let t: Vec<_> = r.leader_tenures().map(|t| (t.node.0, t.term, t.ended)).collect();
        assert_eq!(t, vec![(1, 2, Some(SimTime(40))), (2, 3, None)]);
    }

    #[test]
    fn a_key_lease_revoke_is_reported_at_its_first_apply_only() {
        let mut r = Recorder::new(3);
        r.key_lease_revoked(SimTime(7), 5, NodeId(1), vec!["a".into()]);
        r.key_lease_revoked(SimTime(9), 5, NodeId(2), vec!["a".into()]);
        assert_eq!(r.key_lease_revoked_at(5), Some(SimTime(7)));
        assert_eq!(r.trace.len(), 1);
    }
}
