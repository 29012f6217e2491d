//! LeaseGuard at one node (see [`crate::lease_guard`] for the rules): stamping what the leader
//! appends, renewing the lease with empty entries, deferring a new leader's commits, and the
//! read decision — the lease of the newest committed entry, inherited from an earlier term or
//! not, and the limbo keys that must wait.
//!
//! The timer-only variant ([`LeaderLeasePolicy::LeaseGuardTimers`]) trusts no clock offsets,
//! only how fast each node's own clock runs. A leader's lease runs from its own stamp on its
//! own clock (the same clock, so no offset enters); a new leader defers its commits until Δ + ε
//! after it last wrote to its log (at boot, or when it received entries or a snapshot), which
//! is no earlier than when it received any entry of an earlier term, so no earlier than that
//! entry's lease started. Nothing tells it how long ago the old leader *created* an entry, so it
//! cannot know the old lease still holds: no inherited reads.

use super::{Node, Process};
use crate::client_op::ClientOp;
use crate::config::ClusterConfig;
use crate::leader_lease::{LeaderLeasePolicy, LeaderLeaseStats};
use crate::lease_guard::{may_write, stamp, stamp_of, written_keys, LeaseGuardTiming};
use crate::storage::DiskStorage;
use crate::time::LocalTime;
use raft::StateRole;

/// What a LeaseGuard node remembers (its process's memory: lost in a crash).
#[derive(Clone, Debug)]
pub(super) struct LeaseGuardState {
    /// The term the deferral below was computed for.
    term: u64,
    /// Commits wait through this local time (the newest earlier-term lease, plus ε).
    deferred_through: Option<LocalTime>,
    /// When this leader last appended a stamped entry.
    last_append: LocalTime,
    /// When this process last wrote entries or a snapshot to its log, or booted (the
    /// timer-only variant's bound on when it received any entry it holds).
    pub(super) log_written: LocalTime,
}

impl LeaseGuardState {
    pub(super) fn booted(now: LocalTime) -> LeaseGuardState {
        LeaseGuardState { term: 0, deferred_through: None, last_append: now, log_written: now }
    }
}

/// How a LeaseGuard leader may answer a read now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum LeaseGuardRead {
    /// The lease of the newest committed entry holds; `inherited` when that entry is of an
    /// earlier term. Answer once the commit index is applied.
    Serve { inherited: bool, until: LocalTime, commit: u64 },
    /// No local answer (the words say why): use ReadIndex.
    No(String),
}

/// Δ and ε (the drift bound), from the config.
pub fn timing(config: &ClusterConfig) -> LeaseGuardTiming {
    LeaseGuardTiming {
        lease_us: i64::from(config.leader_lease.lease_guard_lease_ms) * 1_000,
        epsilon_us: i64::from(config.leader_lease.clock_drift_bound_ms) * 1_000,
    }
}

impl Node {
    /// Before raft runs: what the leader appends carries this clock reading.
    pub(super) fn stamp_appends(p: &mut Process, config: &ClusterConfig, now: LocalTime) {
        if config.leader_lease.policy.in_log() {
            p.raw.raft.entry_stamp = stamp(now);
        }
    }

    /// Deferred commit: a leader's commit index stays put while an earlier term's lease may
    /// still be served (on any clock within ε); anyone else keeps the gate shut, so that a
    /// node turning leader inside raft cannot commit before this has looked at its log.
    pub(super) fn gate_commits(p: &mut Process, disk: &DiskStorage, config: &ClusterConfig, now: LocalTime) {
        if p.raw.raft.state != StateRole::Leader {
            p.raw.raft.commit_deferred = true;
            p.lease_guard.term = 0;
            return;
        }
        let term = p.raw.raft.term;
        if p.lease_guard.term != term {
            p.lease_guard.term = term;
            p.lease_guard.last_append = now;
            let applied = p.kv.applied();
            let in_log = disk
                .entries_in(applied + 1, p.raw.raft.raft_log.last_index() + 1)
                .into_iter()
                .filter(|e| e.term < term)
                .filter_map(|e| stamp_of(&e.context).map(|t| t.0));
            let newest = in_log.chain(p.kv.applied_stamps().max).max();
            // With timers only, the stamps (other nodes' clocks) are not comparable with this
            // clock: the lease is counted from when this node last wrote to its log.
            let timers = config.leader_lease.policy == LeaderLeasePolicy::LeaseGuardTimers;
            let from = |ts: i64| if timers { p.lease_guard.log_written } else { LocalTime(ts) };
            p.lease_guard.deferred_through = newest.map(|ts| timing(config).deferred_through(from(ts)));
        }
        match p.lease_guard.deferred_through {
            Some(through) if now <= through => p.raw.raft.commit_deferred = true,
            _ => {
                p.lease_guard.deferred_through = None;
                if std::mem::replace(&mut p.raw.raft.commit_deferred, false) && p.raw.raft.maybe_commit() {
                    p.raw.raft.bcast_append();
                }
            }
        }
    }

    /// The leader appends an empty stamped entry when its newest is a quarter of a lease old,
    /// so that the log renews its lease while nothing is written.
    pub(super) fn renew_by_log(p: &mut Process, config: &ClusterConfig, now: LocalTime) {
        if p.raw.raft.state != StateRole::Leader {
            return;
        }
        if now.0 - p.lease_guard.last_append.0 >= timing(config).renew_every_us() {
            p.lease_guard.last_append = now;
            let _ = p.raw.propose(vec![], vec![]);
        }
    }

    /// A proposal this leader appended renews its lease too.
    pub(super) fn note_append(p: &mut Process, now: LocalTime) {
        if p.raw.raft.state == StateRole::Leader {
            p.lease_guard.last_append = now;
        }
    }

    /// The stamp of the entry at the commit index (applied, or still in the log), and its term.
    fn committed_stamp(p: &Process, disk: &DiskStorage) -> Option<(LocalTime, u64)> {
        let commit = p.raw.raft.raft_log.committed;
        let term = p.raw.raft.raft_log.term(commit).ok()?;
        let ts = if commit == p.kv.applied() {
            p.kv.applied_stamps().last.map(LocalTime)
        } else {
            disk.entries_in(commit, commit + 1).first().and_then(|e| stamp_of(&e.context))
        };
        Some((ts?, term))
    }

    /// May this leader answer `query` locally now, and why not.
    pub(super) fn lease_guard_read(
        p: &Process,
        disk: &DiskStorage,
        config: &ClusterConfig,
        now: LocalTime,
        query: &ClientOp,
    ) -> LeaseGuardRead {
        let t = timing(config);
        let commit = p.raw.raft.raft_log.committed;
        let Some((ts, entry_term)) = Self::committed_stamp(p, disk) else {
            return LeaseGuardRead::No(format!("LeaseGuard: the entry at the commit index {commit} carries no lease"));
        };
        let until = LocalTime(t.lease_end(ts).0 - t.epsilon_us);
        if !t.may_serve(now, ts) {
            return LeaseGuardRead::No(format!(
                "LeaseGuard: the lease of committed entry {commit} (stamped local {ts}) is usable until local {until} (X − ε); now local {now}"
            ));
        }
        let term = p.raw.raft.term;
        if entry_term == term {
            return LeaseGuardRead::Serve { inherited: false, until, commit };
        }
        if config.leader_lease.policy == LeaderLeasePolicy::LeaseGuardTimers {
            return LeaseGuardRead::No(format!(
                "LeaseGuard, timers only: committed entry {commit} is of term {entry_term}, not this leader's; its stamp is another node's clock, so no inherited read"
            ));
        }
        // Inherited: an earlier-term entry past the commit index may write what is read.
        let last = p.raw.raft.raft_log.last_index();
        for e in disk.entries_in(commit + 1, last + 1).into_iter().filter(|e| e.term < term) {
            if let Some(key) = may_write(crate::request::normal_data(&e), query) {
                let deferred = p
                    .lease_guard
                    .deferred_through
                    .map_or(String::new(), |d| format!("; commits are deferred through local {d}"));
                return LeaseGuardRead::No(format!(
                    "LeaseGuard: limbo key {key}: entry {} of term {} may write it and is not known committed{deferred}",
                    e.index, e.term
                ));
            }
        }
        LeaseGuardRead::Serve { inherited: true, until, commit }
    }

    /// The lease end `X(e)` of the entry at this leader's commit index, and that entry's term.
    pub(super) fn lease_end_of_commit(
        p: &Process,
        disk: &DiskStorage,
        config: &ClusterConfig,
    ) -> Option<(LocalTime, u64)> {
        let (ts, term) = Self::committed_stamp(p, disk)?;
        Some((timing(config).lease_end(ts), term))
    }

    /// A LeaseGuard leader's limbo: what entries of earlier terms past its commit index may write
    /// (`None` in the list: an entry whose keys are not known, so every key waits).
    pub(super) fn limbo(p: &Process, disk: &DiskStorage) -> Vec<Option<String>> {
        if p.raw.raft.state != StateRole::Leader {
            return Vec::new();
        }
        let (term, commit, last) = (p.raw.raft.term, p.raw.raft.raft_log.committed, p.raw.raft.raft_log.last_index());
        // Kept sorted and distinct as they come (a sort would add its own code to the page).
        let mut keys: Vec<Option<String>> = Vec::new();
        for e in disk.entries_in(commit + 1, last + 1).into_iter().filter(|e| e.term < term) {
            let written: Vec<Option<String>> = match written_keys(crate::request::normal_data(&e)) {
                Some(written) => written.into_iter().map(Some).collect(),
                None => vec![None],
            };
            for k in written {
                if let Err(i) = keys.binary_search(&k) {
                    keys.insert(i, k);
                }
            }
        }
        keys
    }

    /// Until when (local time, X − ε) this leader may serve on the newest committed entry's
    /// lease, and that entry's term; `None` when it may not. No words: the simulator asks
    /// after every message.
    pub(super) fn lease_guard_until(
        p: &Process,
        disk: &DiskStorage,
        config: &ClusterConfig,
        now: LocalTime,
    ) -> Option<(LocalTime, u64)> {
        let t = timing(config);
        let leader = p.raw.raft.state == StateRole::Leader;
        let timers = config.leader_lease.policy == LeaderLeasePolicy::LeaseGuardTimers;
        let (ts, term) = Self::committed_stamp(p, disk)
            .filter(|(ts, term)| leader && t.may_serve(now, *ts) && !(timers && *term != p.raw.raft.term))?;
        Some((LocalTime(t.lease_end(ts).0 - t.epsilon_us), term))
    }

    /// The leader lease a LeaseGuard node shows: the newest committed entry's.
    pub(super) fn lease_guard_stats(
        p: &Process,
        disk: &DiskStorage,
        config: &ClusterConfig,
        now: LocalTime,
    ) -> LeaderLeaseStats {
        let t = timing(config);
        let leader = p.raw.raft.state == StateRole::Leader;
        let lease = Self::lease_guard_until(p, disk, config, now);
        let last_reason = match (leader, p.lease_guard.deferred_through) {
            (false, _) => "not leader".to_string(),
            (true, Some(d)) if now <= d => {
                format!("deferred commit through local {d}: an earlier term's lease may be in use")
            }
            (true, _) => match lease {
                Some((until, term)) if term == p.raw.raft.term => {
                    format!("lease of its own entry, usable until local {until}")
                }
                Some((until, term)) => format!("inherited lease of a term-{term} entry, usable until local {until}"),
                None => "the newest committed entry's lease is over".to_string(),
            },
        };
        LeaderLeaseStats {
            enabled: true,
            config_reason: match config.leader_lease.policy {
                LeaderLeasePolicy::LeaseGuardTimers => {
                    "LeaseGuard, timers only: the lease travels in the log, timed on each node's own clock"
                }
                _ => "LeaseGuard: the lease travels in the log",
            }
            .into(),
            valid: lease.is_some(),
            expire_at: lease.map(|(until, _)| until),
            renew_count: 0,
            last_reason,
            duration_us: t.lease_us,
            suspect: None,
        }
    }
}
