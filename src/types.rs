//! Small shared vocabulary: node, operation and key lease ids, roles, message kinds.

use raft::eraftpb::MessageType;
use raft::StateRole;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A node id, 1..=7 (raft ids are 1-based; 0 means "none").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u64);

impl NodeId {
    pub const NONE: NodeId = NodeId(0);
    /// Index into per-node tables.
    pub fn index(self) -> usize {
        (self.0 - 1) as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            write!(f, "none")
        } else {
            write!(f, "n{}", self.0)
        }
    }
}

/// A client operation id, unique within a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub u64);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op{}", self.0)
    }
}

/// A key lease id (etcd's `LeaseID`). Never 0: etcd's wire format uses 0 for "no key lease",
/// which here is `Option::<KeyLeaseId>::None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, bincode::Encode, bincode::Decode)]
#[serde(transparent)]
pub struct KeyLeaseId(u64);

impl KeyLeaseId {
    /// `None` for 0, which is no key lease id.
    pub fn new(id: u64) -> Option<KeyLeaseId> {
        (id != 0).then_some(KeyLeaseId(id))
    }
    pub fn get(self) -> u64 {
        self.0
    }
    /// A key lease id written out as a literal, as tests and examples do.
    ///
    /// # Panics
    /// On 0, which is no key lease id ([`KeyLeaseId::new`] says so without panicking).
    pub const fn of(id: u64) -> KeyLeaseId {
        assert!(id != 0, "key lease id 0 means no key lease");
        KeyLeaseId(id)
    }
}

impl fmt::Display for KeyLeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Read as a number; 0 is refused with the reason.
impl<'de> Deserialize<'de> for KeyLeaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyLeaseId, D::Error> {
        KeyLeaseId::new(u64::deserialize(d)?)
            .ok_or_else(|| serde::de::Error::custom("key lease id 0 means \"no key lease\"; ids start at 1"))
    }
}

/// Reads an optional key lease id where older files wrote 0 for none (etcd's wire format).
pub fn key_lease_or_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<KeyLeaseId>, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.and_then(KeyLeaseId::new))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

impl From<StateRole> for Role {
    fn from(r: StateRole) -> Role {
        match r {
            StateRole::Follower => Role::Follower,
            StateRole::PreCandidate => Role::PreCandidate,
            StateRole::Candidate => Role::Candidate,
            StateRole::Leader => Role::Leader,
        }
    }
}

/// The raft message types, grouped the way the page colours them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MsgKind {
    Append,
    AppendResp,
    Heartbeat,
    HeartbeatResp,
    Vote,
    VoteResp,
    PreVote,
    PreVoteResp,
    Snapshot,
    ReadIndex,
    ReadIndexResp,
    Propose,
    TimeoutNow,
    Other,
    /// A key lease keep-alive a follower forwards to the leader, and its answer.
    KeepAlive,
    KeepAliveResp,
}

impl From<MessageType> for MsgKind {
    fn from(t: MessageType) -> MsgKind {
        use MessageType::*;
        match t {
            MsgAppend => MsgKind::Append,
            MsgAppendResponse => MsgKind::AppendResp,
            MsgHeartbeat => MsgKind::Heartbeat,
            MsgHeartbeatResponse => MsgKind::HeartbeatResp,
            MsgRequestVote => MsgKind::Vote,
            MsgRequestVoteResponse => MsgKind::VoteResp,
            MsgRequestPreVote => MsgKind::PreVote,
            MsgRequestPreVoteResponse => MsgKind::PreVoteResp,
            MsgSnapshot => MsgKind::Snapshot,
            MsgReadIndex => MsgKind::ReadIndex,
            MsgReadIndexResp => MsgKind::ReadIndexResp,
            MsgPropose => MsgKind::Propose,
            MsgTimeoutNow => MsgKind::TimeoutNow,
            _ => MsgKind::Other,
        }
    }
}
