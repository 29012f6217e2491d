//! What one call into a node produced, for the simulator to turn into network sends,
//! history updates and trace events.

use crate::read::{ReadAnswer, ReadPath};
use crate::types::{MsgKind, NodeId, OpId, Role};
use raft::eraftpb::Message;
/// An entry applied on this node that answers a client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedOp {
    pub op: OpId,
    pub index: u64,
    pub revision: u64,
    /// Per-key register writes the entry made (see [`crate::kv::Applied`]).
    pub effects: Vec<(String, Option<String>)>,
    /// The store refused the request; nothing changed.
    pub error: Option<String>,
    /// What a transaction did (see [`crate::kv::Applied::result`]).
    pub result: Option<crate::kv::TxnOutcome>,
    /// A log read's answer, read from the store as the entry applied.
    pub read: Option<Result<ReadAnswer, String>>,
}

/// What one call into a node produced. The simulator drains it after every call.
#[derive(Clone, Debug, Default)]
pub struct NodeOutput {
    /// The one input, kept here by the simulator: the highest raft index some node has
    /// applied. The history holds the effects of every entry up to it (from its first
    /// apply), so applying those entries again elsewhere builds none.
    pub effects_recorded_through: u64,
    /// Messages to put on the network, already in a deterministic order.
    pub messages: Vec<Message>,
    pub applied_ops: Vec<AppliedOp>,
    pub role_change: Option<(Role, u64, NodeId)>,
    pub commit_advanced: Option<u64>,
    pub snapshot_installed: Option<(u64, u64)>,
    pub compacted_through: Option<u64>,
    /// Key leases revoked by entries applied here, with the keys deleted.
    pub key_leases_revoked: Vec<(u64, Vec<String>)>,
    /// Steps of pending reads, in order (the simulator stamps them with true time).
    pub read_notes: Vec<(OpId, String)>,
    /// Reads that started waiting, with the path chosen (shown while they wait).
    pub reads_started: Vec<(OpId, ReadPath)>,
    pub reads_done: Vec<ReadDone>,
    /// Vote and pre-vote requests a restarted node ignored while it waits out the promise it
    /// may have made before its crash: sender, kind, and the raft ticks the wait has left.
    pub votes_withheld: Vec<(NodeId, MsgKind, u64)>,
    /// A MsgTimeoutNow this node ignored as stale: its sender, the index it was sent at, and
    /// this node's last index.
    pub timeout_now_ignored: Option<(NodeId, u64, u64)>,
    /// What the watches served here answered, in order.
    pub watch_responses: Vec<crate::watch::WatchResponse>,
    /// The configuration in force after the changes applied here.
    pub membership_applied: Option<crate::membership::Membership>,
    /// Keep-alives this node held (see [`KeepAliveRequest`]) whose wait ended, with their
    /// answer.
    pub keep_alives_answered: Vec<(KeepAliveRequest, KeepAliveResult)>,
}

/// A keep-alive a node serves: the client's operation, the key lease, the node the client
/// reached (the answer goes back there) and that node's revision as the request arrived.
/// The node may hold it: a leader whose process was stopped long enough to miss three ticks
/// until a ReadIndex round confirms it still leads (etcd's `ensureLeadership`); one for a key
/// lease that has expired on this primary, as etcd's `Renew` does, until the revoke on its
/// way applies (then: not found). Either wait ends if the node stops leading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAliveRequest {
    pub op: OpId,
    pub id: crate::types::KeyLeaseId,
    pub reply_to: NodeId,
    pub header_revision: u64,
    /// The client's own request at the node it reached, not a peer's forward or a retry:
    /// only those wait for a leadership check.
    pub direct: bool,
}

/// A node's answer to a keep-alive: the TTL in ms, or why not.
pub type KeepAliveResult = Result<i64, KeepAliveRefusal>;

/// Why a key lease was not renewed. `retry`: the node the client reached tries again at the
/// leader it knows, as etcd's server does on "not primary" until its request timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeepAliveRefusal {
    pub reason: String,
    pub retry: bool,
}

/// A read that finished at this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadDone {
    pub op: OpId,
    pub path: ReadPath,
    pub read_index: Option<u64>,
    pub retries: u32,
    pub result: Result<ReadAnswer, String>,
}
