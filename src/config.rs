//! Cluster configuration: everything a run depends on besides the seed and the command log.
//! Defaults are etcd's: 100 ms raft tick, election timeout 10 ticks
//! (1 s), heartbeat every tick, network latency 10 ms ± 5 ms.

use crate::error::ConfigError;
use crate::leader_lease::LeaderLeasePolicy;
use serde::{Deserialize, Serialize};

/// The most nodes a cluster may have (1–7). Every per-node table is bounded by it.
pub const NODES_MAX: usize = 7;

/// How every directed link behaves unless a command changes that one link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// One-way base latency in microseconds.
    pub latency_us: u32,
    /// Uniform jitter added to the base, in ± microseconds. Jitter reorders messages.
    pub jitter_us: u32,
    /// Probability that a message is lost, in parts per million.
    pub drop_ppm: u32,
    /// Probability that a message is delivered twice, in parts per million.
    pub duplicate_ppm: u32,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig { latency_us: 10_000, jitter_us: 5_000, drop_ppm: 0, duplicate_ppm: 0 }
    }
}

/// Latency and jitter above this (10 s) are refused as absurd.
pub const LATENCY_US_MAX: u32 = 10_000_000;

impl LinkConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.latency_us > LATENCY_US_MAX {
            return Err(ConfigError::new(
                "latency_us",
                format!("{} µs is more than the 10 s the simulator allows", self.latency_us),
            ));
        }
        if self.jitter_us > LATENCY_US_MAX {
            return Err(ConfigError::new(
                "jitter_us",
                format!("{} µs is more than the 10 s the simulator allows", self.jitter_us),
            ));
        }
        for (field, v) in [("drop_ppm", self.drop_ppm), ("duplicate_ppm", self.duplicate_ppm)] {
            if v > 1_000_000 {
                return Err(ConfigError::new(field, format!("{v} ppm is not a probability (0..=1,000,000)")));
            }
        }
        Ok(())
    }
}

/// When a leader tells its followers that the commit index moved (raft-rs `skip_bcast_commit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommitBroadcast {
    /// etcd's raft: as soon as the commit index moves, an append (often empty) to every
    /// follower carries it. Followers apply about one round trip after the leader.
    #[default]
    Eager,
    /// TiKV's raftstore: followers learn the commit index from the next append or heartbeat,
    /// so a write costs no commit-only append and response per follower (≈40 % fewer
    /// messages under a steady write load), and a follower applies up to one write gap (or one
    /// heartbeat interval, when idle) later. A new leader broadcasts eagerly until its term's
    /// first entry commits, as TiKV does for its "urgent" proposals.
    Lazy,
}

impl CommitBroadcast {
    pub const ALL: [CommitBroadcast; 2] = [CommitBroadcast::Eager, CommitBroadcast::Lazy];
    pub fn label(self) -> &'static str {
        match self {
            CommitBroadcast::Eager => "eager (etcd)",
            CommitBroadcast::Lazy => "lazy (TiKV)",
        }
    }
}

/// Lessor (key lease) settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LessorConfig {
    /// Whether the primary checkpoints remaining TTLs through raft.
    pub checkpointing: bool,
    /// How often it does (etcd's default is 5 minutes; demos want seconds).
    pub checkpoint_interval_ms: u32,
}

impl Default for LessorConfig {
    fn default() -> Self {
        LessorConfig { checkpointing: true, checkpoint_interval_ms: 5_000 }
    }
}

/// Leader lease settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaderLeaseConfig {
    /// The user's switch (the smart config may still disable leases, e.g. unknown size).
    pub enabled: bool,
    pub policy: LeaderLeasePolicy,
    /// The assumed bound on clock drift, subtracted from the lease duration (ms). Under
    /// LeaseGuard it is ε, the bound on any clock's error.
    pub clock_drift_bound_ms: u32,
    /// LeaseGuard's Δ: how long an entry's stamp leases reads (ms). Twice the election timeout
    /// by default, as in the authors' failover experiment, so that a new leader elected after
    /// a failure still finds the old lease running and can serve inherited reads.
    pub lease_guard_lease_ms: u32,
    /// While a leadership transfer is pending, and after an abandoned one until an entry
    /// appended after its TimeoutNow commits, a clock-based leader lease is suspect (reads go
    /// through ReadIndex), and a TimeoutNow older than its receiver's log is ignored.
    pub transfer_guard: bool,
}

impl Default for LeaderLeaseConfig {
    fn default() -> Self {
        LeaderLeaseConfig {
            enabled: true,
            policy: LeaderLeasePolicy::SendTimeAnchored,
            clock_drift_bound_ms: 100,
            lease_guard_lease_ms: 2_000,
            transfer_guard: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Number of voters, 1..=7.
    pub node_count: usize,
    /// Length of one raft tick in milliseconds of the node's *local* clock.
    pub tick_ms: u32,
    /// raft `election_tick`: followers campaign after this many ticks without a leader (the
    /// actual timeout is drawn per node from the seeded RNG in `[election_ticks, 2×)`).
    pub election_ticks: u32,
    /// raft `heartbeat_tick`.
    pub heartbeat_ticks: u32,
    /// raft `check_quorum`: a leader that has not heard from a quorum for an election timeout
    /// steps down.
    pub check_quorum: bool,
    /// raft `pre_vote`.
    pub pre_vote: bool,
    /// A restarted node grants no vote and no pre-vote until one election timeout (raft ticks
    /// of its own clock) has passed since it started (default on). Before its crash it may have
    /// acknowledged a leader's heartbeat, and under `check_quorum` that ack is a promise: "I
    /// heard from a leader, so I ignore vote requests for an election timeout" — the promise
    /// a leader lease rests on (raft thesis §6.4.1). raft-rs keeps it only in memory (a
    /// restarted follower knows no leader), so without this wait a crash and restart breaks
    /// it: a new leader is elected while the old one still serves lease reads. Applies only
    /// with `check_quorum`, the setting that makes the promise.
    pub restart_vote_wait: bool,
    /// How followers learn that entries committed.
    pub commit_broadcast: CommitBroadcast,
    /// The default behaviour of every link.
    pub network: LinkConfig,
    /// A client operation not answered within this many true milliseconds times out.
    pub client_timeout_ms: u32,
    /// A node compacts its raft log once it holds this many applied entries.
    pub log_compaction_entries: u32,
    /// Entries a compaction keeps in the log before the snapshot's index, for followers a
    /// little behind (etcd's `SnapshotCatchUpEntries`, 5,000 beside its 10,000-entry snapshot
    /// count; here 500 beside 1,000). 0 compacts through the snapshot, as runs recorded before
    /// this setting existed did (they replay with 0: see `share::FORMAT`).
    pub log_catch_up_entries: u32,
    pub leader_lease: LeaderLeaseConfig,
    pub lessor: LessorConfig,
    /// MVCC revisions the leader's auto-compactor keeps (0: never compact automatically).
    pub auto_compaction_retention: u64,
    /// A watch that asked for progress notifications and got no event for this long gets one
    /// (etcd's `--experimental-watch-progress-notify-interval`, 10 minutes by default; demos
    /// want seconds).
    pub watch_progress_notify_ms: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node_count: 3,
            tick_ms: 100,
            election_ticks: 10,
            heartbeat_ticks: 1,
            check_quorum: true,
            // etcd's default: a node cut off with a stale log cannot disrupt the cluster.
            pre_vote: true,
            restart_vote_wait: true,
            commit_broadcast: CommitBroadcast::default(),
            network: LinkConfig::default(),
            client_timeout_ms: 3_000,
            log_compaction_entries: 1_000,
            log_catch_up_entries: 500,
            leader_lease: LeaderLeaseConfig::default(),
            lessor: LessorConfig::default(),
            auto_compaction_retention: 1_000,
            watch_progress_notify_ms: 2_000,
        }
    }
}

impl ClusterConfig {
    /// The election timeout in local milliseconds.
    pub fn election_timeout_ms(&self) -> u64 {
        u64::from(self.tick_ms) * u64::from(self.election_ticks)
    }
    /// etcd's server request timeout (`ServerConfig.ReqTimeout`): 5 s plus two election
    /// timeouts, 7 s with the defaults. etcd's server hands it to its lessor as the interval
    /// after which an unapplied revoke of an expired key lease is proposed again.
    pub fn request_timeout_ms(&self) -> u64 {
        5_000 + 2 * self.election_timeout_ms()
    }
    /// The key lease checkpoint interval, `None` when checkpointing is off.
    pub fn key_lease_checkpoint_interval_ms(&self) -> Option<i64> {
        self.lessor.checkpointing.then_some(i64::from(self.lessor.checkpoint_interval_ms))
    }

    /// The shortest key lease TTL, as etcd's server sets it: `ceil(1.5 × election timeout)` in
    /// whole seconds (`(3 × election ticks / 2) × tick`, rounded up to a second): 2 s at the
    /// default 1 s election timeout.
    pub fn key_lease_min_ttl_ms(&self) -> i64 {
        let min_ms = i64::from(3 * self.election_ticks / 2) * i64::from(self.tick_ms);
        (min_ms + 999) / 1_000 * 1_000
    }
    /// The heartbeat interval in local milliseconds.
    pub fn heartbeat_interval_ms(&self) -> u64 {
        u64::from(self.tick_ms) * u64::from(self.heartbeat_ticks)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.node_count == 0 || self.node_count > NODES_MAX {
            return Err(ConfigError::new(
                "node_count",
                format!("{} nodes: a cluster has 1 to {NODES_MAX} nodes", self.node_count),
            ));
        }
        if !(1..=10_000).contains(&self.tick_ms) {
            return Err(ConfigError::new("tick_ms", format!("{} ms: a raft tick lasts 1 to 10,000 ms", self.tick_ms)));
        }
        if self.heartbeat_ticks == 0 || self.heartbeat_ticks > 1_000 {
            return Err(ConfigError::new(
                "heartbeat_ticks",
                format!("{}: heartbeat_ticks must be 1 to 1,000", self.heartbeat_ticks),
            ));
        }
        if self.election_ticks <= self.heartbeat_ticks || self.election_ticks > 10_000 {
            return Err(ConfigError::new(
                "election_ticks",
                format!(
                    "{}: election_ticks must exceed heartbeat_ticks ({}) and be at most 10,000",
                    self.election_ticks, self.heartbeat_ticks
                ),
            ));
        }
        if !(1..=3_600_000).contains(&self.client_timeout_ms) {
            return Err(ConfigError::new(
                "client_timeout_ms",
                format!("{} ms: the client timeout is 1 ms to 1 h", self.client_timeout_ms),
            ));
        }
        if !(16..=1_000_000).contains(&self.log_compaction_entries) {
            return Err(ConfigError::new(
                "log_compaction_entries",
                format!("{}: must be 16 to 1,000,000", self.log_compaction_entries),
            ));
        }
        if self.log_catch_up_entries > 1_000_000 {
            return Err(ConfigError::new(
                "log_catch_up_entries",
                format!("{}: must be 0 to 1,000,000", self.log_catch_up_entries),
            ));
        }
        if self.leader_lease.clock_drift_bound_ms > 60_000 {
            return Err(ConfigError::new(
                "clock_drift_bound_ms",
                format!("{} ms: the drift bound is at most 60 s", self.leader_lease.clock_drift_bound_ms),
            ));
        }
        if !(100..=3_600_000).contains(&self.lessor.checkpoint_interval_ms) {
            return Err(ConfigError::new(
                "checkpoint_interval_ms",
                format!("{} ms: the checkpoint interval is 100 ms to 1 h", self.lessor.checkpoint_interval_ms),
            ));
        }
        if !(10..=600_000).contains(&self.leader_lease.lease_guard_lease_ms) {
            return Err(ConfigError::new(
                "lease_guard_lease_ms",
                format!("{} ms: LeaseGuard's lease is 10 ms to 10 min", self.leader_lease.lease_guard_lease_ms),
            ));
        }
        if !(100..=3_600_000).contains(&self.watch_progress_notify_ms) {
            return Err(ConfigError::new(
                "watch_progress_notify_ms",
                format!("{} ms: the watch progress interval is 100 ms to 1 h", self.watch_progress_notify_ms),
            ));
        }
        if self.leader_lease.policy == LeaderLeasePolicy::RaftLeaseBased && !self.check_quorum {
            return Err(ConfigError::new(
                "check_quorum",
                "check_quorum is off: raft-rs LeaseBased reads trust check_quorum alone (a leader cut off from \
                 its quorum would never step down), so raft-rs refuses this config"
                    .into(),
            ));
        }
        self.network.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_entries_default_to_500_and_are_bounded() {
        let partial: ClusterConfig = serde_json::from_str(r#"{"node_count": 5}"#).unwrap();
        assert_eq!(partial.log_catch_up_entries, 500, "a missing setting takes its default");
        assert_eq!(ClusterConfig::default().log_catch_up_entries, 500);
        let bad = ClusterConfig { log_catch_up_entries: 1_000_001, ..ClusterConfig::default() };
        assert!(bad.validate().is_err());
    }

    /// etcd's `ReqTimeout`: 5 s plus two election timeouts (100 ms ticks × 10 here, as etcd's
    /// defaults: 7 s).
    #[test]
    fn the_request_timeout_is_etcds() {
        assert_eq!(ClusterConfig::default().request_timeout_ms(), 7_000);
        assert_eq!(ClusterConfig { tick_ms: 200, ..ClusterConfig::default() }.request_timeout_ms(), 9_000);
    }

    #[test]
    fn defaults_are_the_seed_designs() {
        let c = ClusterConfig::default();
        assert_eq!(c.election_timeout_ms(), 1_000);
        assert_eq!(c.heartbeat_interval_ms(), 100);
        c.validate().unwrap();
    }

    #[test]
    fn invalid_configs_name_the_field() {
        let check = |c: ClusterConfig, field: &str| {
            let e = c.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
        };
        check(ClusterConfig { node_count: 0, ..Default::default() }, "node_count");
        check(ClusterConfig { node_count: 8, ..Default::default() }, "node_count");
        check(ClusterConfig { tick_ms: 0, ..Default::default() }, "tick_ms");
        check(ClusterConfig { election_ticks: 1, ..Default::default() }, "election_ticks");
        let mut c = ClusterConfig::default();
        c.network.drop_ppm = 2_000_000;
        check(c, "drop_ppm");
    }
}
