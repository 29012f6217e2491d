//! Membership: which nodes vote, which only learn, and how the set changes while the cluster
//! runs, with raft-rs's joint consensus (`ConfChangeV2`).
//!
//! A change is proposed to the leader as a log entry and takes effect on each node when that
//! node applies it (raft-rs `apply_conf_change`). One voter added or removed is a *simple*
//! change: the old and new majorities always overlap. Several voters changed at once go
//! through a *joint* configuration (raft thesis §4.3): while joint, every decision — commit,
//! election, ReadIndex and a leader lease's renewal — needs a majority of the outgoing voters
//! **and** a majority of the incoming ones. raft-rs leaves the joint configuration on its own
//! (`auto_leave`) once the leader has applied it, by proposing an empty change.
//!
//! New nodes join as learners (etcd's `member add --learner`): they receive the log but do not
//! vote, so a slow newcomer cannot stall commits; they are promoted once caught up
//! (`member promote`, which etcd refuses while the learner's log is less than 90 % of the
//! leader's).

use crate::leader_lease::AckCount;
use crate::types::NodeId;
use raft::eraftpb::{ConfChangeSingle, ConfChangeType, ConfChangeV2, ConfState};
use serde::{Deserialize, Serialize};
use std::fmt;

/// etcd refuses to promote a learner whose matched index is below this share of the
/// leader's (`readyPercentThreshold` in etcd's server).
pub const LEARNER_READY_SHARE: f64 = 0.9;

/// A configuration as the page shows it: raft-rs's `ConfState` in node ids, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    /// The incoming voters (the only voters unless joint).
    pub voters: Vec<NodeId>,
    /// While joint: the outgoing voters, whose majority must also agree.
    pub outgoing: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    /// While joint: voters of the outgoing configuration that become learners on leaving it.
    pub learners_next: Vec<NodeId>,
}

/// One node's place in a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Member {
    Voter,
    Learner,
    /// Not in the configuration (removed, or added to none yet).
    None,
}

impl Membership {
    pub fn from_conf_state(cs: &ConfState) -> Membership {
        let ids = |v: &[u64]| {
            let mut ids: Vec<NodeId> = v.iter().map(|&id| NodeId(id)).collect();
            crate::order::sort_by_key(&mut ids, |n| (n.0, 0, 0));
            ids
        };
        Membership {
            voters: ids(&cs.voters),
            outgoing: ids(&cs.voters_outgoing),
            learners: ids(&cs.learners),
            learners_next: ids(&cs.learners_next),
        }
    }

    pub fn is_joint(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// Every voter of either side.
    pub fn all_voters(&self) -> Vec<NodeId> {
        self.each_voter().copied().collect()
    }

    /// Counts the voters for which `acked` holds: a quorum is a majority of the voters and,
    /// while joint, a majority of the outgoing voters too (raft-rs `JointConfig::vote_result`).
    pub fn count_acks(&self, acked: impl Fn(NodeId) -> bool) -> AckCount {
        let majority = |side: &[NodeId]| side.iter().filter(|&&n| acked(n)).count() > side.len() / 2;
        AckCount {
            acks: self.each_voter().filter(|&&n| acked(n)).count(),
            voters: self.voter_count(),
            quorum: !self.voters.is_empty()
                && majority(&self.voters)
                && (self.outgoing.is_empty() || majority(&self.outgoing)),
            joint: self.is_joint(),
        }
    }

    /// Every voter once: the incoming ones, then the outgoing ones not among them (no
    /// allocation: the renew-at-ack policy counts after every Ready).
    fn each_voter(&self) -> impl Iterator<Item = &NodeId> {
        self.voters.iter().chain(self.outgoing.iter().filter(|n| !self.voters.contains(n)))
    }

    /// Voters of either side.
    pub fn voter_count(&self) -> usize {
        self.each_voter().count()
    }

    pub fn member(&self, node: NodeId) -> Member {
        if self.voters.contains(&node) || self.outgoing.contains(&node) {
            Member::Voter
        } else if self.learners.contains(&node) || self.learners_next.contains(&node) {
            Member::Learner
        } else {
            Member::None
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, nodes: &[NodeId]) -> fmt::Result {
    f.write_str("{")?;
    for (i, n) in nodes.iter().enumerate() {
        write!(f, "{}{n}", if i == 0 { "" } else { ", " })?;
    }
    f.write_str("}")
}

/// `voters {n1, n2, n3}`, or while joint `voters {n1, n2, n3} & {n1, n4, n5}` (incoming first),
/// then the learners if any.
impl fmt::Display for Membership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("voters ")?;
        list(f, &self.voters)?;
        if self.is_joint() {
            f.write_str(" & ")?;
            list(f, &self.outgoing)?;
            f.write_str(" (joint)")?;
        }
        if !self.learners.is_empty() {
            f.write_str(", learners ")?;
            list(f, &self.learners)?;
        }
        Ok(())
    }
}

/// A membership change: voters to add (a learner is promoted; a node outside the configuration
/// joins as a voter at once), nodes to remove, a node to add as a learner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipChange {
    pub promote: Vec<NodeId>,
    pub remove: Vec<NodeId>,
    pub add_learner: Option<NodeId>,
}

impl MembershipChange {
    /// The raft-rs change: simple when it has one step, joint (left automatically) when more.
    pub fn to_conf_change(&self) -> ConfChangeV2 {
        let single = |node: NodeId, ty: ConfChangeType| {
            let mut cc = ConfChangeSingle { node_id: node.0, ..Default::default() };
            cc.set_change_type(ty);
            cc
        };
        let mut changes = Vec::new();
        changes.extend(self.add_learner.map(|n| single(n, ConfChangeType::AddLearnerNode)));
        changes.extend(self.promote.iter().map(|&n| single(n, ConfChangeType::AddNode)));
        changes.extend(self.remove.iter().map(|&n| single(n, ConfChangeType::RemoveNode)));
        let mut cc = ConfChangeV2::default();
        cc.set_changes(changes.into());
        cc
    }

    /// The change as a configuration-change entry's data: `ConfChangeV2` in protobuf's wire
    /// format, written here rather than by the protobuf crate, whose encoder is otherwise
    /// unused in the page and costs its wasm ≈3.5 KB. The transition is left at its default
    /// (automatic) and the context empty, so only the changes are written.
    pub fn encode(&self) -> Vec<u8> {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut out = Vec::new();
        for single in self.to_conf_change().changes.iter() {
            let mut inner = Vec::new();
            let ty = single.get_change_type() as u64;
            if ty != 0 {
                inner.push(0x08); // field 1 (change_type), varint
                varint(&mut inner, ty);
            }
            inner.push(0x10); // field 2 (node_id), varint
            varint(&mut inner, single.node_id);
            out.push(0x12); // field 2 (changes), length-delimited
            varint(&mut out, inner.len() as u64);
            out.extend(inner);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.promote.is_empty() && self.remove.is_empty() && self.add_learner.is_none()
    }

    /// Whether raft-rs will go through a joint configuration for it.
    pub fn is_joint(&self) -> bool {
        self.to_conf_change().enter_joint().is_some()
    }
}

impl fmt::Display for MembershipChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.add_learner {
            parts.push(format!("add {n} as a learner"));
        }
        for n in &self.promote {
            parts.push(format!("make {n} a voter"));
        }
        for n in &self.remove {
            parts.push(format!("remove {n}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Why a leader refuses a change before proposing it: what raft-rs itself would refuse (its
/// leader turns a change proposed while another is unapplied, or while joint, into an empty
/// entry; its `Changer` rejects one that removes every voter), and etcd's learner-readiness
/// check. `None`: it may be proposed.
pub fn refusal(
    tracker: &raft::ProgressTracker,
    pending: bool,
    change: &MembershipChange,
    leader_last_index: u64,
) -> Option<String> {
    if pending {
        return Some(
            "another membership change is not yet applied by the leader (raft-rs allows one at a time)".into(),
        );
    }
    let current = Membership::from_conf_state(&tracker.conf().to_conf_state());
    if current.is_joint() {
        return Some(format!(
            "the cluster is in a joint configuration ({current}); it must leave it before another change"
        ));
    }
    for &n in &change.promote {
        if current.member(n) == Member::Learner {
            let matched = tracker.get(n.0).map_or(0, |pr| pr.matched);
            if (matched as f64) < leader_last_index as f64 * LEARNER_READY_SHARE {
                return Some(format!(
                    "{n} is a learner not yet in sync with the leader (its log reaches {matched} of {leader_last_index}; etcd promotes at 90 %)"
                ));
            }
        } else if current.member(n) == Member::Voter {
            return Some(format!("{n} is already a voter"));
        }
    }
    for &n in &change.remove {
        if current.member(n) == Member::None {
            return Some(format!("{n} is not a member"));
        }
    }
    let mut changer = raft::Changer::new(tracker);
    let cc = change.to_conf_change();
    let checked = match cc.enter_joint() {
        Some(auto_leave) => changer.enter_joint(auto_leave, &cc.changes),
        None => changer.simple(&cc.changes),
    };
    match checked {
        Ok(_) => None,
        Err(raft::Error::ConfChangeError(why)) if why == "removed all voters" => {
            Some("it would remove every voter: a cluster needs at least one".into())
        }
        Err(raft::Error::ConfChangeError(why)) => Some(format!("raft-rs refuses it: {why}")),
        Err(_) => Some("raft-rs refuses it".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leader's tracker for `voters` and `learners`, every peer's log at index 10: built one
    /// simple change at a time, as raft-rs restores a `ConfState`.
    fn tracker(voters: &[u64], learners: &[u64]) -> raft::ProgressTracker {
        let mut prs = raft::ProgressTracker::new(256);
        let adds = voters.iter().map(|&v| (v, ConfChangeType::AddNode));
        for (id, ty) in adds.chain(learners.iter().map(|&l| (l, ConfChangeType::AddLearnerNode))) {
            let mut c = ConfChangeSingle { node_id: id, ..Default::default() };
            c.set_change_type(ty);
            let (cfg, map) = raft::Changer::new(&prs).simple(&[c]).unwrap();
            prs.apply_conf(cfg, map, 10);
        }
        for (_, pr) in prs.iter_mut() {
            pr.matched = 10;
        }
        prs
    }

    fn ids(v: &[u64]) -> Vec<NodeId> {
        v.iter().map(|&i| NodeId(i)).collect()
    }

    /// The hand-written encoding is byte for byte what raft-rs's protobuf codec writes.
    #[test]
    fn the_entry_data_is_protobufs_encoding() {
        use protobuf::Message as _;
        let changes = [
            MembershipChange { add_learner: Some(NodeId(4)), ..Default::default() },
            MembershipChange { promote: ids(&[4, 5]), remove: ids(&[1, 200]), ..Default::default() },
            MembershipChange::default(),
        ];
        for change in changes {
            assert_eq!(change.encode(), change.to_conf_change().write_to_bytes().unwrap(), "{change}");
        }
    }

    #[test]
    fn one_voter_is_a_simple_change_and_two_are_joint() {
        let one = MembershipChange { promote: ids(&[4]), ..Default::default() };
        assert!(!one.is_joint());
        let two = MembershipChange { promote: ids(&[4]), remove: ids(&[1]), ..Default::default() };
        assert!(two.is_joint());
        assert_eq!(two.to_string(), "make n4 a voter, remove n1");
    }

    /// raft-rs `Changer::simple` and etcd's server refuse these; the refusal changes nothing.
    #[test]
    fn refusals_name_what_raft_and_etcd_refuse() {
        let prs = tracker(&[1, 2, 3], &[4]);
        let remove_all = MembershipChange { remove: ids(&[1, 2, 3]), ..Default::default() };
        assert!(refusal(&prs, false, &remove_all, 10).unwrap().contains("every voter"));
        let promote = MembershipChange { promote: ids(&[4]), ..Default::default() };
        assert_eq!(refusal(&prs, false, &promote, 10), None);
        assert!(refusal(&prs, true, &promote, 10).unwrap().contains("not yet applied"));
        assert!(refusal(&prs, false, &promote, 100).unwrap().contains("not yet in sync"), "etcd's 90 % rule");
        let voter = MembershipChange { promote: ids(&[2]), ..Default::default() };
        assert!(refusal(&prs, false, &voter, 10).unwrap().contains("already a voter"));
        let stranger = MembershipChange { remove: ids(&[6]), ..Default::default() };
        assert!(refusal(&prs, false, &stranger, 10).unwrap().contains("not a member"));
        assert_eq!(
            Membership::from_conf_state(&prs.conf().to_conf_state()).to_string(),
            "voters {n1, n2, n3}, learners {n4}"
        );
    }

    #[test]
    fn a_joint_configuration_refuses_a_second_change_until_it_is_left() {
        let mut prs = tracker(&[1, 2, 3], &[4]);
        let swap = MembershipChange { promote: ids(&[4]), remove: ids(&[3]), ..Default::default() };
        let cc = swap.to_conf_change();
        let (cfg, map) = raft::Changer::new(&prs).enter_joint(true, &cc.changes).unwrap();
        prs.apply_conf(cfg, map, 10);
        let joint = Membership::from_conf_state(&prs.conf().to_conf_state());
        assert_eq!(joint.to_string(), "voters {n1, n2, n4} & {n1, n2, n3} (joint)");
        assert_eq!(joint.member(NodeId(3)), Member::Voter, "an outgoing voter still votes");
        // A leader lease round needs a majority of each side.
        let acked = |ids: &'static [u64]| move |n: NodeId| ids.contains(&n.0);
        assert!(joint.count_acks(acked(&[1, 2])).quorum, "n1 and n2 are a majority of both sides");
        let old_only = joint.count_acks(acked(&[2, 3]));
        assert_eq!((old_only.acks, old_only.voters, old_only.quorum, old_only.joint), (2, 4, false, true));
        // Replacing two of three voters: a majority of all five is not enough.
        let replace = Membership { voters: ids(&[1, 4, 5]), outgoing: ids(&[1, 2, 3]), ..Default::default() };
        let most = replace.count_acks(acked(&[2, 3, 4]));
        assert_eq!((most.acks, most.voters, most.quorum), (3, 5, false), "only n4 of the incoming n1, n4, n5");
        assert!(replace.count_acks(acked(&[1, 2, 4])).quorum);
        let again = MembershipChange { remove: ids(&[2]), ..Default::default() };
        assert!(refusal(&prs, false, &again, 10).unwrap().contains("joint configuration"));
    }
}
