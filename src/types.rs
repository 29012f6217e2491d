//! Small shared vocabulary: node and operation ids, roles, message kinds.

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
