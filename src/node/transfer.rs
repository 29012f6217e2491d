//! Leadership transfer at a node (raft-rs `transfer_leader`: the leader catches the transferee
//! up, then sends it MsgTimeoutNow, on which it campaigns at once) and what it does to the
//! leader lease.
//!
//! A transfer campaign is one followers grant even while they have heard from their leader
//! within an election timeout: raft-rs skips that check for it, as the thesis prescribes. So
//! the promise every clock-based leader lease rests on does not hold against it, and:
//!
//! * **While a transfer is pending** the leader's lease is *suspect* (as TiKV marks it when it
//!   sends MsgTimeoutNow): its reads go through ReadIndex.
//! * **After an abandoned transfer** (raft-rs gives up after an election timeout) the
//!   MsgTimeoutNow may still be on its way, and its receiver would still campaign past every
//!   promise (raft-rs issue 234). The leader appends an empty entry, and its lease stays
//!   suspect until that entry commits. A MsgTimeoutNow carries the index it was sent at (raft-rs
//!   leaves the field unused), and a receiver whose log has grown past it ignores it: either the
//!   receiver has the new entry and drops the stale message, or it lacks an entry a quorum holds
//!   and cannot win.
//!
//! Both rules are the config's `leader_lease.transfer_guard` (on by default); with it off the
//! stale read they prevent can happen (tour `leader-transfer`).

use super::{Node, NodeOutput, Process};
use crate::config::ClusterConfig;
use crate::leader_lease::LeaderLeasePolicy;
use crate::time::LocalTime;
use crate::types::NodeId;
use raft::eraftpb::MessageType;
use raft::StateRole;

/// What a leader remembers of the transfers it started (lost in a crash, like raft's own).
#[derive(Clone, Debug, Default)]
pub(super) struct TransferState {
    /// The term in which this leader sent a MsgTimeoutNow for a transfer not yet known over.
    timeout_now_term: Option<u64>,
    /// After an abandoned transfer: the empty entry that makes its MsgTimeoutNow stale; the
    /// leader lease is suspect until it commits.
    fence: Option<u64>,
}

impl Node {
    /// Starts handing leadership to `to` (only a leader acts on it; the simulator sends it to
    /// the leader).
    pub fn transfer_leader(&mut self, to: NodeId, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let p = self.process.as_mut().expect("callers check the node is running");
        Self::stamp_appends(p, config, now);
        p.raw.transfer_leader(to.0);
        self.handle_ready(config, now, out);
    }

    /// Before the Ready is drained: fences a transfer this leader has abandoned, and forgets
    /// the fence once it committed.
    pub(super) fn fence_abandoned_transfer(p: &mut Process, config: &ClusterConfig) {
        if p.transfer.timeout_now_term.is_none() && p.transfer.fence.is_none() {
            return; // the common case, after every input: no transfer to look after
        }
        let r = &p.raw.raft;
        if r.state != StateRole::Leader || !config.leader_lease.transfer_guard {
            p.transfer = TransferState::default();
            return;
        }
        if p.transfer.timeout_now_term == Some(r.term) && r.lead_transferee.is_none() {
            p.transfer.timeout_now_term = None;
            // Refused only while a transfer is pending, which it no longer is.
            let _ = p.raw.propose(vec![], vec![]);
            p.transfer.fence = Some(p.raw.raft.raft_log.last_index());
        }
        if p.transfer.fence.is_some_and(|i| p.raw.raft.raft_log.committed >= i) {
            p.transfer.fence = None;
        }
    }

    /// After the Ready is drained: each MsgTimeoutNow this leader sends carries its last index.
    pub(super) fn mark_timeout_now(p: &mut Process, config: &ClusterConfig, out: &mut NodeOutput) {
        // raft-rs sends MsgTimeoutNow only while a transfer is pending.
        if !config.leader_lease.transfer_guard || p.raw.raft.lead_transferee.is_none() {
            return;
        }
        let (term, last) = (p.raw.raft.term, p.raw.raft.raft_log.last_index());
        for m in out.messages.iter_mut().filter(|m| m.get_msg_type() == MessageType::MsgTimeoutNow && m.index == 0) {
            m.index = last;
            p.transfer.timeout_now_term = Some(term);
        }
    }

    /// Whether to ignore an incoming MsgTimeoutNow: one sent before entries this node already
    /// holds is left over from an abandoned transfer.
    pub(super) fn stale_timeout_now(p: &Process, config: &ClusterConfig, msg: &raft::eraftpb::Message) -> Option<u64> {
        let last = p.raw.raft.raft_log.last_index();
        (config.leader_lease.transfer_guard && msg.get_msg_type() == MessageType::MsgTimeoutNow && msg.index < last)
            .then_some(last)
    }

    /// Why this leader's clock-based leader lease is suspect now, if it is.
    pub(super) fn transfer_suspect(p: &Process, config: &ClusterConfig) -> Option<String> {
        let clock_based =
            matches!(config.leader_lease.policy, LeaderLeasePolicy::RenewAtAck | LeaderLeasePolicy::SendTimeAnchored);
        if !config.leader_lease.transfer_guard || !clock_based || p.raw.raft.state != StateRole::Leader {
            return None;
        }
        match (p.raw.raft.lead_transferee, p.transfer.fence) {
            (Some(to), _) => Some(format!("leadership transfer to n{to} pending: a transfer campaign is granted past every follower's promise")),
            (None, Some(i)) => Some(format!(
                "an abandoned transfer's TimeoutNow may still arrive: suspect until entry {i}, appended after it, commits"
            )),
            (None, None) => None,
        }
    }
}
