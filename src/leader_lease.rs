//! The leader lease manager: lets a leader serve linearizable reads from its own
//! state, with no network round trip, while it holds a lease a quorum granted it.
//!
//! Its interface: `renew_lease(acks, total)`, validity judged on the node's *local* clock,
//! revoke on stepping down, stats, and a "smart config" that refuses unsafe settings. It
//! offers the three [`LeaderLeasePolicy`]s the page compares:
//!
//! * [`LeaderLeasePolicy::RenewAtAck`] — renew to `now + duration` whenever,
//!   after a Ready, a quorum of peers is `recent_active`. Subtly unsafe: `now` is when the ack
//!   was *processed*, not when the acknowledged heartbeat was *sent*, so a pause or delay
//!   between the two stretches the lease past the followers' promise. And raft-rs marks a peer
//!   `recent_active` on *any* append or heartbeat response, rejections included, so a
//!   brand-new leader gets a lease before it has committed an entry of its term — while its
//!   commit index may still miss writes the previous leader committed and acknowledged.
//! * [`LeaderLeasePolicy::SendTimeAnchored`] — safe: the lease starts when the heartbeat round
//!   that a quorum acknowledged was sent (raft thesis §6.4.1, TiKV `next_expired_time(send_ts)`).
//!   That round is a ReadIndex, which raft-rs answers only once the leader has committed an
//!   entry of its term.
//!
//! Every clock-based policy rests on the followers' promise that `check_quorum` makes ("I
//! heard from a leader, so I ignore vote requests for an election timeout"): with it off the
//! smart config disables leases ([`smart_config`]); a restarted node keeps the promise by
//! waiting an election timeout before it votes (`ClusterConfig::restart_vote_wait`); and a
//! lease read is served only once everything committed is applied ([`LeaseRead`]).
//! * [`LeaderLeasePolicy::RaftLeaseBased`] — raft-rs's own `ReadOnlyOption::LeaseBased`: no
//!   clock at all, the leader trusts `check_quorum` (known to allow two leaders for up to an
//!   election timeout, etcd-io/raft#166).

use crate::time::LocalTime;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaderLeasePolicy {
    /// Renew at the time a quorum is seen `recent_active` (unsafe under pauses and delays; and
    /// since raft-rs marks a peer recent_active on any append or heartbeat response, rejections
    /// included, a brand-new leader holds a lease before it has committed an entry of its term).
    #[serde(alias = "SeedRenewAtAck")]
    RenewAtAck,
    /// Anchor the lease at the send time of a ReadIndex round a quorum acknowledged.
    SendTimeAnchored,
    RaftLeaseBased,
    /// LeaseGuard: the lease is carried by the log (`crate::lease_guard`).
    LeaseGuard,
    /// LeaseGuard measured on each node's own timer, with no bound on clock offsets: leases
    /// run from when an entry was created or received, and there are no inherited reads.
    LeaseGuardTimers,
}

impl LeaderLeasePolicy {
    pub const ALL: [LeaderLeasePolicy; 5] = [
        LeaderLeasePolicy::RenewAtAck,
        LeaderLeasePolicy::SendTimeAnchored,
        LeaderLeasePolicy::RaftLeaseBased,
        LeaderLeasePolicy::LeaseGuard,
        LeaderLeasePolicy::LeaseGuardTimers,
    ];
    /// LeaseGuard or its timer-only variant: the lease travels in the log.
    pub fn in_log(self) -> bool {
        matches!(self, LeaderLeasePolicy::LeaseGuard | LeaderLeasePolicy::LeaseGuardTimers)
    }
    pub fn label(self) -> &'static str {
        match self {
            LeaderLeasePolicy::RenewAtAck => "renew at ack time",
            LeaderLeasePolicy::SendTimeAnchored => "safe: anchored at send time",
            LeaderLeasePolicy::RaftLeaseBased => "raft-rs LeaseBased (no clock)",
            LeaderLeasePolicy::LeaseGuard => "LeaseGuard: lease in the log",
            LeaderLeasePolicy::LeaseGuardTimers => "LeaseGuard, timers only",
        }
    }
}

impl fmt::Display for LeaderLeasePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Timing the lease duration is computed from, all in microseconds of local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderLeaseTiming {
    pub election_timeout_us: i64,
    pub heartbeat_interval_us: i64,
    pub clock_drift_bound_us: i64,
}

impl LeaderLeaseTiming {
    /// `min(election_timeout / 2, heartbeat_interval × 3) − clock_drift_bound` (may be ≤ 0).
    pub fn duration_us(&self) -> i64 {
        (self.election_timeout_us / 2).min(self.heartbeat_interval_us * 3) - self.clock_drift_bound_us
    }
}

/// What the page shows about a node's leader lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderLeaseStats {
    pub enabled: bool,
    /// Why it is enabled or disabled (the smart config's words).
    pub config_reason: String,
    pub valid: bool,
    pub expire_at: Option<LocalTime>,
    pub renew_count: u64,
    /// The outcome of the last renewal attempt, in words.
    pub last_reason: String,
    pub duration_us: i64,
    /// The lease is suspect (a leadership transfer may elect another leader behind its back):
    /// the leader does not trust it, and the words say why.
    #[serde(default)]
    pub suspect: Option<String>,
}

/// Who acknowledged a leader lease round, counted against the configuration in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckCount {
    /// Voters (of either side, while joint) that acknowledged, the leader included.
    pub acks: usize,
    pub voters: usize,
    /// Whether they are a quorum (while joint: a majority of each side, raft-rs `has_quorum`).
    pub quorum: bool,
    pub joint: bool,
}

impl AckCount {
    /// `acks` of `voters` in a plain majority configuration; a single voter is its own quorum.
    pub fn majority(acks: usize, voters: usize) -> AckCount {
        let acks = if voters == 1 { acks.max(1) } else { acks };
        AckCount { acks, voters, quorum: voters > 0 && acks > voters / 2, joint: false }
    }
}

/// The smart config: the user's switch, raft's `check_quorum` and what is known of the cluster
/// size decide whether leases are used, with a reason a person can read.
///
/// A clock-based leader lease needs `check_quorum`: it is what makes a follower that heard
/// from the leader ignore vote requests for an election timeout (the promise the lease counts
/// on) and what makes a leader cut off from its quorum step down. A single node has no one to
/// promise anything, so it needs neither.
pub fn smart_config(user_enabled: bool, check_quorum: bool, cluster_size: Option<usize>) -> (bool, String) {
    match (user_enabled, cluster_size) {
        (false, _) => (false, "Disabled by configuration".to_string()),
        (true, None) | (true, Some(0)) => (false, "Unknown cluster size, disabled for safety".to_string()),
        (true, Some(1)) => (true, "Single-node cluster detected, enabled with special handling".to_string()),
        (true, Some(_)) if !check_quorum => (false, CHECK_QUORUM_OFF.to_string()),
        (true, Some(n)) => (true, format!("{n}-node cluster, enabled (quorum {})", n / 2 + 1)),
    }
}

/// The smart config's reason when `check_quorum` is off.
pub const CHECK_QUORUM_OFF: &str = "check_quorum is off: followers vote at any time and a leader cut off from its \
     quorum never steps down, so a leader lease cannot be trusted; disabled";

/// What a leader does with a linearizable read under a clock-based leader lease
/// ([`LeaderLeaseManager::read_decision`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseRead {
    /// The lease is valid and everything committed is applied: answer from the local store.
    Serve,
    /// The lease is valid but the store lags the commit index: the commit index is the read
    /// index, and the read waits for its apply (no round trip). Answering at once could miss
    /// a write that is committed, and acknowledged by a node that applied it, but not yet
    /// applied here.
    WaitForApply { applied: u64, commit: u64 },
    /// No valid lease: ask a quorum (ReadIndex).
    NoLease,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderLeaseManager {
    enabled: bool,
    config_reason: String,
    timing: LeaderLeaseTiming,
    is_leader: bool,
    expire_at: Option<LocalTime>,
    renew_count: u64,
    last_reason: String,
}

impl LeaderLeaseManager {
    pub fn new(user_enabled: bool, check_quorum: bool, cluster_size: Option<usize>, timing: LeaderLeaseTiming) -> Self {
        let (enabled, config_reason) = smart_config(user_enabled, check_quorum, cluster_size);
        LeaderLeaseManager {
            enabled,
            config_reason,
            timing,
            is_leader: false,
            expire_at: None,
            renew_count: 0,
            last_reason: "not leader".to_string(),
        }
    }

    pub fn duration_us(&self) -> i64 {
        self.timing.duration_us()
    }

    /// The configuration changed: the smart config judges the new voter count (a single voter
    /// needs no check-quorum promise, more do). The lease already held stands: every quorum of
    /// the new configuration overlaps one that acknowledged it, since the change itself was
    /// committed by such quorums.
    pub fn reconfigure(&mut self, user_enabled: bool, check_quorum: bool, members: &crate::membership::Membership) {
        (self.enabled, self.config_reason) = smart_config(user_enabled, check_quorum, Some(members.voter_count()));
        if self.enabled && members.is_joint() {
            self.config_reason = format!("{members}: enabled, a quorum is a majority of each side");
        }
    }

    /// The renew-at-ack renewal: on success the lease runs until `now + duration`.
    pub fn renew_lease(&mut self, received_acks: usize, total_nodes: usize, now: LocalTime) -> bool {
        self.renew_anchored(received_acks, total_nodes, now)
    }

    /// Renews with the lease starting at `anchor` (the send time of the acknowledged round for
    /// the safe policy; `now` for renew-at-ack) if the acks are a majority of `total_nodes`
    /// voters. Never shortens a lease already held.
    pub fn renew_anchored(&mut self, received_acks: usize, total_nodes: usize, anchor: LocalTime) -> bool {
        self.renew(AckCount::majority(received_acks, total_nodes), anchor)
    }

    /// Renews if `acks` reached a quorum of the configuration in force (while joint, a
    /// majority of each side).
    pub fn renew(&mut self, acks: AckCount, anchor: LocalTime) -> bool {
        if !self.enabled {
            self.last_reason = format!("refused: {}", self.config_reason);
            return false;
        }
        if !self.is_leader {
            self.last_reason = "refused: not leader".to_string();
            return false;
        }
        if acks.voters == 0 {
            self.last_reason = "refused: cluster size unknown (no Progress yet)".to_string();
            return false;
        }
        let AckCount { acks, voters: total, quorum, joint } = acks;
        if !quorum {
            self.last_reason = if joint {
                format!("refused: {acks} of {total} acks are not a majority of both the outgoing and the incoming voters (joint configuration)")
            } else {
                format!("refused: {acks} of {total} acks, quorum is {}", total / 2 + 1)
            };
            return false;
        }
        let duration = self.timing.duration_us();
        if duration <= 0 {
            self.last_reason = format!(
                "refused: lease duration min({} ms / 2, 3 × {} ms) − drift bound {} ms = {} ms is not positive",
                self.timing.election_timeout_us / 1_000,
                self.timing.heartbeat_interval_us / 1_000,
                self.timing.clock_drift_bound_us / 1_000,
                duration / 1_000
            );
            return false;
        }
        let expire = anchor.plus_us(duration);
        self.expire_at = Some(self.expire_at.map_or(expire, |e| e.max(expire)));
        self.renew_count += 1;
        let sides = if joint { " (a majority of each side of the joint configuration)" } else { "" };
        self.last_reason = format!("renewed by {acks} of {total}{sides}: valid until local {expire}");
        true
    }

    /// Valid iff enabled, leader, and `now` (local) is before the expiry.
    pub fn has_valid_lease(&self, now: LocalTime) -> bool {
        self.enabled && self.is_leader && self.expire_at.is_some_and(|e| now < e)
    }

    /// Whether a linearizable read may be answered from the local store at `now`: only with a
    /// valid lease, and only once the applied index has reached the commit index.
    pub fn read_decision(&self, now: LocalTime, applied: u64, commit: u64) -> LeaseRead {
        if !self.has_valid_lease(now) {
            LeaseRead::NoLease
        } else if applied < commit {
            LeaseRead::WaitForApply { applied, commit }
        } else {
            LeaseRead::Serve
        }
    }

    pub fn expire_at(&self) -> Option<LocalTime> {
        self.expire_at
    }

    pub fn on_become_leader(&mut self) {
        self.is_leader = true;
        self.expire_at = None;
        self.last_reason = "became leader: no lease until a quorum confirms".to_string();
    }

    /// Stepping down revokes the lease at once.
    pub fn on_become_follower(&mut self) {
        self.is_leader = false;
        if self.expire_at.take().is_some() {
            self.last_reason = "stepped down: lease revoked".to_string();
        } else {
            self.last_reason = "not leader".to_string();
        }
    }

    pub fn stats(&self, now: LocalTime) -> LeaderLeaseStats {
        LeaderLeaseStats {
            enabled: self.enabled,
            config_reason: self.config_reason.clone(),
            valid: self.has_valid_lease(now),
            expire_at: self.expire_at,
            renew_count: self.renew_count,
            last_reason: self.last_reason.clone(),
            duration_us: self.timing.duration_us(),
            suspect: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_TIMING: LeaderLeaseTiming = LeaderLeaseTiming {
        election_timeout_us: 1_000_000,
        heartbeat_interval_us: 100_000,
        clock_drift_bound_us: 100_000,
    };

    fn leader(cluster: usize) -> LeaderLeaseManager {
        let mut m = LeaderLeaseManager::new(true, true, Some(cluster), SEED_TIMING);
        m.on_become_leader();
        m
    }

    #[test]
    fn seed_defaults_give_a_200ms_lease() {
        assert_eq!(SEED_TIMING.duration_us(), 200_000);
        let mut m = leader(3);
        assert!(m.renew_lease(2, 3, LocalTime(1_000)));
        assert_eq!(m.expire_at(), Some(LocalTime(201_000)));
        assert!(m.has_valid_lease(LocalTime(200_999)));
        assert!(!m.has_valid_lease(LocalTime(201_000)));
        assert_eq!(m.stats(LocalTime(0)).renew_count, 1);
    }

    #[test]
    fn single_node_is_its_own_quorum() {
        let mut m = leader(1);
        assert!(m.renew_lease(0, 1, LocalTime(0)), "acks are raised to 1");
        assert!(m.has_valid_lease(LocalTime(1)));
        assert_eq!(m.stats(LocalTime(0)).config_reason, "Single-node cluster detected, enabled with special handling");
    }

    #[test]
    fn zero_of_zero_is_refused() {
        let mut m = leader(3);
        assert!(!m.renew_lease(0, 0, LocalTime(0)));
        assert!(m.stats(LocalTime(0)).last_reason.contains("cluster size unknown"));
        assert!(!m.has_valid_lease(LocalTime(0)));
    }

    #[test]
    fn a_minority_is_refused() {
        let mut m = leader(5);
        assert!(!m.renew_lease(2, 5, LocalTime(0)));
        assert!(m.stats(LocalTime(0)).last_reason.contains("2 of 5 acks, quorum is 3"));
        assert!(m.renew_lease(3, 5, LocalTime(0)));
    }

    #[test]
    fn disabled_means_no_lease_with_the_reason() {
        let mut m = LeaderLeaseManager::new(false, true, Some(3), SEED_TIMING);
        m.on_become_leader();
        assert!(!m.renew_lease(3, 3, LocalTime(0)));
        assert!(!m.has_valid_lease(LocalTime(0)));
        assert_eq!(smart_config(true, true, None).1, "Unknown cluster size, disabled for safety");
        assert!(!smart_config(true, true, Some(0)).0);
    }

    #[test]
    fn a_non_positive_duration_is_refused_with_its_reason() {
        for (bound_us, shown) in [(300_000, "= 0 ms is not positive"), (400_000, "= -100 ms is not positive")] {
            let timing = LeaderLeaseTiming { clock_drift_bound_us: bound_us, ..SEED_TIMING };
            let mut m = LeaderLeaseManager::new(true, true, Some(3), timing);
            m.on_become_leader();
            assert!(!m.renew_lease(3, 3, LocalTime(0)));
            let reason = m.stats(LocalTime(0)).last_reason;
            assert!(reason.contains(shown), "{reason}");
        }
    }

    #[test]
    fn stepping_down_revokes_at_once_and_followers_never_renew() {
        let mut m = leader(3);
        m.renew_lease(3, 3, LocalTime(0));
        m.on_become_follower();
        assert!(!m.has_valid_lease(LocalTime(1)));
        assert!(!m.renew_lease(3, 3, LocalTime(2)));
    }

    /// While joint, a round's acks renew the lease only if they are a majority of each side
    /// (raft thesis §4.3), and the reasons say so.
    #[test]
    fn a_joint_configuration_renews_only_on_a_majority_of_each_side() {
        let mut m = leader(5);
        let joint = |acks, quorum| AckCount { acks, voters: 5, quorum, joint: true };
        assert!(!m.renew(joint(3, false), LocalTime(0)), "three of five, but not of each side");
        let reason = m.stats(LocalTime(0)).last_reason;
        assert!(
            reason.contains("3 of 5 acks are not a majority of both the outgoing and the incoming voters"),
            "{reason}"
        );
        assert!(m.renew(joint(3, true), LocalTime(0)));
        assert!(m.stats(LocalTime(0)).last_reason.contains("a majority of each side of the joint configuration"));
        // A majority of the voters alone is the plain rule.
        assert!(AckCount::majority(2, 3).quorum);
        assert!(!AckCount::majority(1, 3).quorum);
        assert!(AckCount::majority(0, 1).quorum, "a single voter is its own quorum");
    }

    #[test]
    fn an_older_anchor_never_shortens_the_lease() {
        let mut m = leader(3);
        m.renew_anchored(2, 3, LocalTime(500_000));
        m.renew_anchored(2, 3, LocalTime(100_000));
        assert_eq!(m.expire_at(), Some(LocalTime(700_000)));
    }

    #[test]
    fn without_check_quorum_no_lease_is_granted_and_the_reason_says_why() {
        let (enabled, reason) = smart_config(true, false, Some(3));
        assert!(!enabled);
        assert!(reason.starts_with("check_quorum is off") && reason.ends_with("disabled"), "{reason}");
        let mut m = LeaderLeaseManager::new(true, false, Some(3), SEED_TIMING);
        m.on_become_leader();
        assert!(!m.renew_lease(3, 3, LocalTime(0)));
        assert_eq!(m.stats(LocalTime(0)).last_reason, format!("refused: {CHECK_QUORUM_OFF}"));
        assert!(!m.has_valid_lease(LocalTime(1)));
        // A single node promises no one anything: check_quorum does not matter there.
        assert!(smart_config(true, false, Some(1)).0);
    }

    #[test]
    fn a_lease_read_is_served_only_once_the_commit_index_is_applied() {
        let mut m = leader(3);
        assert_eq!(m.read_decision(LocalTime(0), 5, 5), LeaseRead::NoLease, "no lease yet");
        m.renew_anchored(2, 3, LocalTime(0));
        assert_eq!(m.read_decision(LocalTime(1), 5, 5), LeaseRead::Serve);
        assert_eq!(m.read_decision(LocalTime(1), 6, 5), LeaseRead::Serve, "applied past commit");
        assert_eq!(m.read_decision(LocalTime(1), 4, 5), LeaseRead::WaitForApply { applied: 4, commit: 5 });
        assert_eq!(m.read_decision(LocalTime(200_000), 4, 5), LeaseRead::NoLease, "expired: lag no longer matters");
    }
}
