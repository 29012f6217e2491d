//! The plain-data picture of the simulation that the page draws each frame. No references
//! into the simulation, no raft types: everything here is owned, serializable data.

use crate::config::{ClusterConfig, LinkConfig};
use crate::history::OpRecord;
use crate::leader_lease::LeaderLeaseStats;
use crate::time::{LocalTime, SimTime};
use crate::types::{MsgKind, NodeId, Role};
use serde::{Deserialize, Serialize};

/// Keys of a node's store shown in a snapshot (the inspector pages through more on demand).
pub const SNAPSHOT_KEYS_MAX: usize = 32;
/// In-flight messages included in a snapshot (enough to draw; the rest are counted).
pub const SNAPSHOT_MESSAGES_MAX: usize = 512;
/// Most recent operations included in a snapshot.
pub const SNAPSHOT_OPS_MAX: usize = 64;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    pub id: NodeId,
    /// `None` when crashed.
    pub role: Option<Role>,
    pub term: u64,
    pub leader: NodeId,
    pub commit: u64,
    pub applied: u64,
    pub first_index: u64,
    pub last_index: u64,
    pub local_time: LocalTime,
    /// Local minus true time, µs.
    pub offset_us: i64,
    pub rate_ppm: u32,
    pub paused: bool,
    pub crashed: bool,
    pub election_timeout_ticks: usize,
    pub revision: u64,
    pub key_count: usize,
    /// Live keys with their MVCC metadata (create/mod revision, version, key lease).
    pub keys: Vec<crate::mvcc::KeyValue>,
    pub compacted_revision: u64,
    /// The leader lease manager's view (crashed nodes have none).
    pub leader_lease: Option<LeaderLeaseStats>,
    pub pending_reads: usize,
    /// The node's lessor: key leases with their TTL bars.
    pub key_leases: Vec<KeyLeaseView>,
    pub lessor_primary: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyLeaseView {
    pub id: u64,
    pub ttl_ms: i64,
    /// Remaining on this node's clock (primary only; others hold key leases "forever").
    pub remaining_ms: Option<i64>,
    /// The last checkpointed remaining TTL (0: none).
    pub checkpoint_ms: i64,
    pub keys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkView {
    pub from: NodeId,
    pub to: NodeId,
    pub cut: bool,
    pub config: LinkConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub kind: MsgKind,
    pub term: u64,
    pub sent_at: SimTime,
    pub deliver_at: SimTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub seed: u64,
    pub now: SimTime,
    pub config: ClusterConfig,
    pub nodes: Vec<NodeView>,
    pub links: Vec<LinkView>,
    pub messages: Vec<MessageView>,
    pub messages_in_flight: usize,
    pub recent_ops: Vec<OpRecord>,
    /// The leader of the highest term that currently has one, if any.
    pub leader: Option<NodeId>,
    pub event_count: u64,
    pub trace_hash: u64,
}
