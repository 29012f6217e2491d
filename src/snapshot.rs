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
    /// Under LeaseGuard, a leader's limbo keys: what entries of earlier terms past its commit
    /// index may write (`None`: an entry whose keys are not known, so every key).
    pub limbo_keys: Vec<Option<String>>,
    /// What becoming primary did to the key leases' expiries (while primary).
    pub key_lease_promotion: Option<crate::lessor::Promotion>,
    /// Its place in the cluster's configuration (voter, learner, or removed).
    pub member: crate::membership::Member,
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

/// One raft log entry as the inspector lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    pub index: u64,
    pub term: u64,
    /// What the entry carries, in words ("no-op", "put x=1", …).
    pub summary: String,
    /// The client operation it carries (none for no-ops and the nodes' own proposals).
    pub op: Option<crate::types::OpId>,
    /// Under LeaseGuard: when the lease its stamp carries ends (`X(e)`), in local time.
    pub lease_until: Option<LocalTime>,
}

/// The newest `count` entries of a node's persisted raft log, oldest first.
/// `lease_us` is LeaseGuard's Δ when that is the policy: each stamped entry then shows its
/// lease's end.
pub fn log_tail(node: &crate::node::Node, count: usize, lease_us: Option<i64>) -> Vec<LogEntryView> {
    let last = node.last_index();
    let low = last.saturating_sub(count as u64 - 1).max(1);
    node.disk()
        .entries_in(low, last + 1)
        .into_iter()
        .map(|e| {
            let proposal = crate::request::Proposal::of_entry(&e);
            let stamp = crate::lease_guard::stamp_of(&e.context);
            let summary = match (&proposal, e.get_entry_type()) {
                (_, raft::eraftpb::EntryType::EntryConfChange | raft::eraftpb::EntryType::EntryConfChangeV2) => {
                    "configuration change".to_string()
                }
                (None, _) if stamp.is_some() => "empty entry (a new term's first, or a lease renewal)".to_string(),
                (None, _) => "no-op (a new leader's first entry)".to_string(),
                (Some(p), _) => p.request.summary(),
            };
            let op = proposal.map(|p| p.op).filter(|op| op.0 != 0);
            let lease_until = stamp.zip(lease_us).map(|(ts, lease)| LocalTime(ts.0 + lease));
            LogEntryView { index: e.index, term: e.term, summary, op, lease_until }
        })
        .collect()
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
    /// Background client operations per simulated second (0: off).
    pub workload_ops_per_sec: u32,
    /// The newest watches, newest first (at most [`SNAPSHOT_WATCHES_MAX`]).
    pub watches: Vec<WatchView>,
    /// Watches still open, of all the run created.
    pub watches_open: usize,
    /// The configuration in force (the leader's).
    pub membership: crate::membership::Membership,
}

/// Watches shown in the snapshot.
pub const SNAPSHOT_WATCHES_MAX: usize = 16;

/// Events shown per watch.
pub const SNAPSHOT_WATCH_EVENTS_MAX: usize = 8;

/// One watch as the page shows it: what its client saw, and what the simulator knows of how
/// far behind it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchView {
    pub id: crate::watch::WatchId,
    pub node: NodeId,
    pub request: crate::watch::WatchRequest,
    /// Why it ended, `None` while open.
    pub ended: Option<String>,
    pub events_received: u64,
    pub progress_received: u64,
    /// The serving node's revision in its newest response: all its client knows.
    pub header_revision: u64,
    /// Revisions the serving node has not applied yet that the leader has (0: none, or no
    /// leader to compare with).
    pub lag: u64,
    /// Why the watch is where it is, in the simulator's words.
    pub status: String,
    /// The newest events, newest first: (true time, "put x=1" or "delete x", revision).
    pub recent: Vec<(SimTime, String, u64)>,
}

#[cfg(test)]
mod log_tail_tests {
    use crate::{ClientOp, ClusterConfig, Command, NodeId, Sim};

    #[test]
    fn the_log_tail_names_no_ops_and_client_writes_in_order() {
        let mut sim = Sim::new(1, ClusterConfig::default()).unwrap();
        sim.run_for_ms(3_000);
        let leader = sim.leader().unwrap();
        let op = sim
            .apply(Command::Client {
                node: leader,
                op: ClientOp::Put { key: "x".into(), value: "7".into(), key_lease: None },
            })
            .unwrap();
        sim.run_for_ms(500);
        let tail = sim.log_tail(NodeId(1), 5);
        assert!(tail.iter().all(|e| e.lease_until.is_none()), "no stamps outside LeaseGuard");
        assert!(tail.windows(2).all(|w| w[0].index + 1 == w[1].index));
        let last = tail.last().unwrap();
        assert_eq!((last.summary.as_str(), last.op), ("put x=7", op));
        assert!(tail.iter().any(|e| e.summary.starts_with("no-op")));
        assert!(sim.log_tail(NodeId(1), 1).len() == 1);
    }
}
