//! Safety checkers that observe the cluster from outside:
//! they read nodes' persisted logs and state machines but never change anything.
//!
//! * **Election safety** — at most one leader per term.
//! * **Log matching / state-machine safety** — every node that commits index `i` commits the
//!   same entry (term and payload) there.
//! * **Leader completeness** — the leader of the highest term holds every committed entry.
//! * **Applied prefixes** — nodes that applied the same number of entries hold identical
//!   state machines.
//! * **Durability** — a write acknowledged to a client is the committed entry at its index,
//!   and every node eventually applies it (checked after healing).

use crate::event::OpOutcome;
use crate::history::OpKind;
use crate::request::Proposal;
use crate::sim::Sim;
use crate::types::{NodeId, OpId};
use std::collections::BTreeMap;

/// Committed entries remembered for comparison; older ones are forgotten past this bound.
const COMMITTED_REMEMBERED_MAX: usize = 200_000;

#[derive(Clone, Debug, PartialEq, Eq)]
struct CommittedEntry {
    term: u64,
    op: Option<OpId>,
    first_seen_at: NodeId,
    /// The observing node's term when it saw the entry committed: an upper bound on the
    /// term in which the entry was committed. Leaders of *higher* terms must hold it.
    seen_in_term: u64,
}

#[derive(Debug, Default)]
pub struct Invariants {
    leaders_by_term: BTreeMap<u64, NodeId>,
    committed: BTreeMap<u64, CommittedEntry>,
    checked_commit: Vec<u64>,
    /// Applied index -> (digest of the state machine, node that reported it first).
    digests: BTreeMap<u64, (u64, NodeId)>,
    violations: Vec<String>,
}

impl Invariants {
    pub fn new() -> Invariants {
        Invariants::default()
    }

    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    fn violate(&mut self, sim: &Sim, what: String) {
        // Bounded: one broken invariant tends to repeat; the first few say enough.
        if self.violations.len() < 32 {
            self.violations.push(format!("at {}: {what}", sim.now()));
        }
    }

    /// Cheap checks, meant to run after every simulation step.
    pub fn observe(&mut self, sim: &Sim) {
        if self.checked_commit.len() != sim.nodes().len() {
            self.checked_commit = vec![0; sim.nodes().len()];
        }
        for node in sim.nodes() {
            if node.is_leader() {
                let term = node.term();
                match self.leaders_by_term.get(&term) {
                    Some(&other) if other != node.id => {
                        self.violate(sim, format!("two leaders in term {term}: {other} and {}", node.id));
                    }
                    Some(_) => {}
                    None => {
                        self.leaders_by_term.insert(term, node.id);
                    }
                }
            }
            self.observe_commits(sim, node.id);
        }
        self.check_leader_completeness(sim);
    }

    fn observe_commits(&mut self, sim: &Sim, id: NodeId) {
        let node = sim.node(id);
        if node.is_crashed() {
            return;
        }
        let commit = node.commit();
        let checked = self.checked_commit[id.index()];
        if commit <= checked {
            return;
        }
        for entry in node.disk().entries_in(checked + 1, commit + 1) {
            let op = Proposal::of_entry(&entry).map(|p| p.op);
            let seen = CommittedEntry { term: entry.term, op, first_seen_at: id, seen_in_term: node.term() };
            match self.committed.get(&entry.index) {
                Some(prev) if (prev.term, prev.op) != (seen.term, seen.op) => {
                    let msg = format!(
                        "index {} committed differently: {} has term {} {:?}, {id} has term {} {:?}",
                        entry.index, prev.first_seen_at, prev.term, prev.op, seen.term, seen.op
                    );
                    self.violate(sim, msg);
                }
                Some(_) => {}
                None => {
                    self.committed.insert(entry.index, seen);
                }
            }
        }
        while self.committed.len() > COMMITTED_REMEMBERED_MAX {
            self.committed.pop_first();
        }
        self.checked_commit[id.index()] = commit;
    }

    fn check_leader_completeness(&mut self, sim: &Sim) {
        let Some(leader) = sim.leader() else { return };
        let node = sim.node(leader);
        // The newest committed entry that this leader's term is bound to hold. (A stale leader
        // of an old term, cut off from the cluster, legitimately lacks newer entries.)
        let Some((&max_committed, _)) = self.committed.iter().rev().find(|(_, e)| e.seen_in_term < node.term()) else {
            return;
        };
        let last = node.last_index();
        if last < max_committed {
            let msg = format!(
                "leader {leader} (term {}) lacks committed index {max_committed} (its last index is {last})",
                node.term()
            );
            self.violate(sim, msg);
            return;
        }
        // Spot-check the newest committed entry's term in the leader's log.
        if let (Some(term), Some(entry)) = (node.term_at(max_committed), self.committed.get(&max_committed)) {
            if term != entry.term {
                let msg = format!(
                    "leader {leader} holds term {term} at committed index {max_committed}, committed term is {}",
                    entry.term
                );
                self.violate(sim, msg);
            }
        }
    }

    /// State-machine comparison: nodes at the same applied index hold identical stores.
    /// Costs a pass over each store, so run it less often than [`Invariants::observe`].
    pub fn observe_state(&mut self, sim: &Sim) {
        for node in sim.nodes() {
            let Some(kv) = node.kv() else { continue };
            let applied = kv.applied();
            let digest = kv.digest();
            match self.digests.get(&applied) {
                Some(&(d, first)) if d != digest => {
                    let msg = format!("state machines differ at applied index {applied}: {first} and {}", node.id);
                    self.violate(sim, msg);
                }
                Some(_) => {}
                None => {
                    self.digests.insert(applied, (digest, node.id));
                }
            }
        }
        while self.digests.len() > COMMITTED_REMEMBERED_MAX {
            self.digests.pop_first();
        }
    }

    /// Durability: every acknowledged write is the committed entry at its index, and (once the
    /// cluster has healed and settled) applied on every running node.
    pub fn check_acknowledged_writes(&mut self, sim: &Sim, expect_all_applied: bool) {
        let acknowledged: Vec<(OpId, u64)> = sim
            .history()
            .iter()
            // The cluster's own proposals (key lease expiries) carry no client op id.
            .filter(|r| matches!(r.outcome, OpOutcome::Ok { .. }) && !matches!(r.kind, OpKind::KeyLeaseExpiry { .. }))
            .filter_map(|r| r.index.map(|i| (r.id, i)))
            .collect();
        for (op, index) in acknowledged {
            if let Some(entry) = self.committed.get(&index) {
                if entry.op != Some(op) {
                    let msg =
                        format!("acknowledged {op} at index {index} lost: committed entry there is {:?}", entry.op);
                    self.violate(sim, msg);
                }
            }
            if expect_all_applied {
                // A removed node hears no more: only the configuration's members catch up.
                let members = sim.membership();
                let member = |n: &&crate::node::Node| members.member(n.id) != crate::membership::Member::None;
                for node in sim.nodes().iter().filter(|n| !n.is_crashed()).filter(member) {
                    if node.applied() < index {
                        let msg = format!(
                            "acknowledged {op} (index {index}) not applied on {} (applied {})",
                            node.id,
                            node.applied()
                        );
                        self.violate(sim, msg);
                    }
                }
            }
        }
    }
}
