//! Membership changes at one node: the leader proposes them (after the checks raft-rs and
//! etcd make), every node applies them in log order (raft-rs `apply_conf_change`), and a
//! leader that finds itself in a joint configuration it should leave proposes leaving it.

use super::{Node, NodeOutput, Process};
use crate::config::ClusterConfig;
use crate::membership::{refusal, Membership, MembershipChange};
use crate::time::LocalTime;
use raft::eraftpb::{ConfChangeV2, ConfState, Entry};
use raft::StateRole;

impl Node {
    /// Proposes `change` at this node, which must lead. A refusal (with its reason) changes
    /// nothing: it is checked before anything reaches raft, which would otherwise append an
    /// empty entry in its place and say nothing.
    pub fn propose_membership(
        &mut self,
        change: &MembershipChange,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) -> Result<(), String> {
        if let Some(why) = self.membership_refusal(change) {
            return Err(why);
        }
        let p = self.process();
        Self::stamp_appends(p, config, now);
        if Self::propose_conf_data(p, change.encode()).is_err() {
            return Err("raft-rs dropped the proposal".into());
        }
        Self::note_append(p, now);
        self.handle_ready(config, now, out);
        Ok(())
    }

    /// Applies the configuration changes among entries just applied, in log order: raft-rs
    /// switches to each, the leader lease's smart config judges the new voter count, and the
    /// output reports the configuration now in force. A leader that applies its own removal
    /// steps down in its term, as etcd's raft does with `StepDownOnRemoval` (raft-rs keeps it
    /// leading outside its own configuration, and its next commit finds no progress for
    /// itself and panics). The simulator moves leadership off a node before proposing its
    /// removal, but a leader elected while the removal is in flight can still apply it. A change raft-rs rejects (none reach
    /// the log from this simulator's leaders, but a log is not to be trusted blindly) is
    /// skipped, as raft-rs asks of an application that rejects one.
    pub(super) fn apply_conf_changes(
        p: &mut Process,
        config: &ClusterConfig,
        changes: Vec<ConfChangeV2>,
        out: &mut NodeOutput,
    ) {
        for cc in changes {
            if let Ok(cs) = p.raw.apply_conf_change(&cc) {
                Self::adopt_configuration(p, config, &cs, out);
                let raft = &mut p.raw.raft;
                if raft.state == StateRole::Leader
                    && p.membership.member(crate::types::NodeId(raft.id)) != crate::membership::Member::Voter
                {
                    let term = raft.term;
                    raft.become_follower(term, raft::INVALID_ID);
                }
            }
        }
    }

    /// Takes `cs`, the configuration raft-rs now has, as this node's: after a change is
    /// applied, and after a raft snapshot is installed (raft-rs restores the configuration the
    /// snapshot carries, which may be several changes ahead of the one the node had). The
    /// leader lease's quorum and the output follow it.
    pub(super) fn adopt_configuration(p: &mut Process, config: &ClusterConfig, cs: &ConfState, out: &mut NodeOutput) {
        p.membership = Membership::from_conf_state(cs);
        p.leader_lease.reconfigure(config.leader_lease.enabled, config.check_quorum, &p.membership);
        out.membership_applied = Some(p.membership.clone());
    }

    /// The configuration change an applied entry carries, if it is one.
    pub(super) fn conf_change_of(entry: &Entry) -> Option<ConfChangeV2> {
        use protobuf::Message as _;
        match entry.get_entry_type() {
            raft::eraftpb::EntryType::EntryConfChangeV2 => {
                let mut cc = ConfChangeV2::default();
                cc.merge_from_bytes(&entry.data).ok().map(|()| cc)
            }
            // The simulator proposes only V2 changes (V1 is etcd's older single-step form).
            raft::eraftpb::EntryType::EntryConfChange | raft::eraftpb::EntryType::EntryNormal => None,
        }
    }

    /// A leader in a joint configuration that asks to be left automatically, with nothing
    /// pending, proposes the empty change that leaves it. raft-rs proposes it when the leader
    /// that entered the joint configuration applies it; a leader elected in between would
    /// otherwise stay joint for good (raft-rs notes this gap in `commit_apply`), as etcd's
    /// raft does not.
    pub(super) fn leave_joint_if_due(p: &mut Process) {
        let raft = &p.raw.raft;
        if raft.state == StateRole::Leader
            && p.committed_in_term
            && p.membership.is_joint()
            && *raft.prs().conf().auto_leave()
            && !raft.has_pending_conf()
        {
            let _ = Self::propose_conf_data(p, Vec::new());
        }
    }

    /// Proposes a configuration-change entry with `data` (an encoded `ConfChangeV2`), as
    /// raft-rs's `propose_conf_change` does after encoding one.
    fn propose_conf_data(p: &mut Process, data: Vec<u8>) -> raft::Result<()> {
        let mut entry = Entry::default();
        entry.set_entry_type(raft::eraftpb::EntryType::EntryConfChangeV2);
        entry.data = data.into();
        let mut m = raft::eraftpb::Message::default();
        m.set_msg_type(raft::eraftpb::MessageType::MsgPropose);
        m.set_entries(vec![entry].into());
        p.raw.raft.step(m)
    }

    /// Why this node would refuse to propose `change` now (`None`: it would propose it).
    pub fn membership_refusal(&self, change: &MembershipChange) -> Option<String> {
        let Some(p) = self.process.as_ref().filter(|p| p.raw.raft.state == StateRole::Leader) else {
            return Some(format!("{} does not lead", self.id));
        };
        let raft = &p.raw.raft;
        refusal(raft.prs(), raft.has_pending_conf(), change, raft.raft_log.last_index())
    }

    /// Whether a membership change this node proposed is not yet applied here (raft-rs takes
    /// one at a time).
    pub fn membership_change_pending(&self) -> bool {
        self.process.as_ref().is_some_and(|p| p.raw.raft.has_pending_conf())
    }

    /// Whether this leader is handing leadership over.
    pub fn transferring(&self) -> bool {
        self.process.as_ref().is_some_and(|p| p.raw.raft.lead_transferee.is_some())
    }

    /// The configuration this node has applied (`None` while crashed).
    pub fn membership(&self) -> Option<&Membership> {
        self.process.as_ref().map(|p| &p.membership)
    }

    /// How far the leader knows `follower`'s log to match its own (`None` unless leading).
    pub fn matched(&self, follower: crate::types::NodeId) -> Option<u64> {
        let p = self.process.as_ref().filter(|p| p.raw.raft.state == StateRole::Leader)?;
        p.raw.raft.prs().get(follower.0).map(|pr| pr.matched)
    }
}
