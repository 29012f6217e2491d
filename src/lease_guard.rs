//! LeaseGuard (Davis and Demirbas, "LeaseGuard: Raft Leases Done Right", SIGMOD 2026; its
//! TLA+ spec `leaseGuard.tla`): the leader lease is carried by the log itself.
//!
//! * The leader stamps every entry it appends with its clock reading (the entry's context; a
//!   patch in the vendored raft-rs writes it, forwarded proposals and the new term's empty
//!   entry included), and appends an empty entry whenever its newest one is a quarter of a
//!   lease old, so the log keeps renewing the lease.
//! * An entry `e`'s lease ends at `X(e) = e.ts + Δ`; every node computes the same `X` because
//!   the stamp travels in the log. Δ is `lease_guard_lease_ms` (twice the election timeout by
//!   default, as in the authors' failover experiment).
//! * A leader serves a read locally only while `now + ε < X(newest committed entry)`, with ε the
//!   bound on clock error (the configured drift bound). No extra messages; voting is unchanged.
//! * **Deferred commit:** a new leader replicates at once but does not advance its commit index
//!   while any entry `p` of an earlier term it holds (or has applied) has `now − ε ≤ X(p)`. The
//!   vendored raft-rs gates `maybe_commit` for it: every commit a leader reveals (appends,
//!   heartbeats, ReadIndex answers) passes there.
//! * **Inherited lease reads:** while the newest committed entry is of an earlier term and its
//!   lease still holds, the new leader serves a read of key k locally unless an earlier-term
//!   entry past its commit index writes k (the *limbo* region); a read of a limbo key waits.
//!
//! Why it is safe: an old leader serves only while `now + ε < X(e)` for an entry `e` it knows
//! committed, which every newer leader holds; a newer leader commits only once `now − ε > X(e)`.
//! With clocks within ε of each other the two never hold at once, so nothing commits behind a
//! lease reader's back. Clocks further apart than ε break it, and the checker catches it.

use crate::client_op::ClientOp;
use crate::mvcc::TxnOp;
use crate::request::{Proposal, Request};
use crate::time::LocalTime;
use serde::{Deserialize, Serialize};

/// The first byte of an entry stamp (then the clock reading, 8 bytes little-endian µs).
const STAMP_TAG: u8 = b'G';

/// An entry stamp for the leader's clock reading `now`.
pub fn stamp(now: LocalTime) -> Vec<u8> {
    let mut s = Vec::with_capacity(9);
    s.push(STAMP_TAG);
    s.extend_from_slice(&now.0.to_le_bytes());
    s
}

/// The clock reading an entry's context carries, if it is a stamp.
pub fn stamp_of(context: &[u8]) -> Option<LocalTime> {
    match context {
        [STAMP_TAG, rest @ ..] => Some(LocalTime(i64::from_le_bytes(rest.try_into().ok()?))),
        _ => None,
    }
}

/// Δ and ε, in µs of local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseGuardTiming {
    pub lease_us: i64,
    pub epsilon_us: i64,
}

impl LeaseGuardTiming {
    /// `X(e)`: when the lease of an entry stamped `ts` ends.
    pub fn lease_end(&self, ts: LocalTime) -> LocalTime {
        LocalTime(ts.0 + self.lease_us)
    }

    /// Whether a leader may serve a read locally at `now` on the lease of the newest committed
    /// entry, stamped `ts`: `now + ε < X(e)`.
    pub fn may_serve(&self, now: LocalTime, ts: LocalTime) -> bool {
        now.0 + self.epsilon_us < self.lease_end(ts).0
    }

    /// The last local time at which a new leader must still defer its commits, given the
    /// newest stamp among entries of earlier terms: commits wait while `now − ε ≤ X(p)`.
    pub fn deferred_through(&self, newest_earlier_stamp: LocalTime) -> LocalTime {
        LocalTime(self.lease_end(newest_earlier_stamp).0 + self.epsilon_us)
    }

    /// How often a leader appends an empty entry to renew its lease when nothing else is
    /// written: a quarter of a lease.
    pub fn renew_every_us(&self) -> i64 {
        (self.lease_us / 4).max(1)
    }
}

/// The stamps a store has applied (replicated in raft snapshots, so a node whose log was
/// compacted, or that installed a snapshot, still knows the leases of what it applied).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct AppliedStamps {
    /// The newest stamp of any applied entry (µs).
    pub max: Option<i64>,
    /// The stamp of the entry at the applied index (µs), if it had one.
    pub last: Option<i64>,
}

impl AppliedStamps {
    pub fn note(&mut self, context: &[u8]) {
        let ts = stamp_of(context).map(|t| t.0);
        self.last = ts;
        if let Some(ts) = ts {
            self.max = Some(self.max.map_or(ts, |m| m.max(ts)));
        }
    }
}

/// The keys the entry with payload `data` may write: `Some(keys)` when they are known before it
/// applies (none for an empty entry, a compaction, a grant), `None` when they are not (a range
/// delete, a transaction with a delete, a key lease revoke: any key).
pub fn written_keys(data: &[u8]) -> Option<Vec<String>> {
    let Some(proposal) = Proposal::decode(data) else {
        return Some(vec![]);
    };
    let Request::Client(op) = proposal.request else {
        return Some(vec![]);
    };
    match op {
        ClientOp::Put { key, .. } | ClientOp::Delete { key } => Some(vec![key]),
        ClientOp::Txn { success, failure, .. } => success
            .into_iter()
            .chain(failure)
            .filter(|o| !matches!(o, TxnOp::Range(_)))
            .map(|o| match o {
                TxnOp::Put { key, .. } => Some(key),
                _ => None,
            })
            .collect(),
        // A log read is an entry that writes nothing.
        ClientOp::Compact { .. } | ClientOp::KeyLeaseGrant { .. } | ClientOp::Read { .. } | ClientOp::Range { .. } => {
            Some(vec![])
        }
        _ => None,
    }
}

/// A key the entry with payload `data` may write that `read` reads, if any (in words). An
/// entry whose writes are not known until it applies may write anything; a read-only
/// transaction reads anything.
pub fn may_write(data: &[u8], read: &ClientOp) -> Option<String> {
    let reads = |k: &str| match read {
        ClientOp::Read { key, .. } => k == key,
        ClientOp::Range { range, .. } => crate::kv::range_covers(&range.key, &range.end, k),
        _ => true,
    };
    match written_keys(data) {
        Some(keys) => keys.into_iter().find(|k| reads(k)),
        None => {
            Some(format!("the keys of “{}”", Proposal::decode(data).map_or_else(String::new, |p| p.request.summary())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::OpId;

    fn timing() -> LeaseGuardTiming {
        LeaseGuardTiming { lease_us: 1_000_000, epsilon_us: 100_000 }
    }

    #[test]
    fn a_stamp_round_trips_and_other_contexts_are_not_stamps() {
        assert_eq!(stamp_of(&stamp(LocalTime(-7))), Some(LocalTime(-7)));
        assert_eq!(stamp_of(&stamp(LocalTime(123_456_789))), Some(LocalTime(123_456_789)));
        assert_eq!(stamp_of(&[]), None);
        assert_eq!(stamp_of(b"G123"), None);
    }

    /// The spec's `ClientRead` guard `ts + Δ ≥ clock`, made strict by ε on the reader's side.
    #[test]
    fn a_lease_holds_until_its_end_less_the_clock_error() {
        let t = timing();
        let ts = LocalTime(5_000_000);
        assert_eq!(t.lease_end(ts), LocalTime(6_000_000));
        assert!(t.may_serve(LocalTime(5_899_999), ts));
        assert!(!t.may_serve(LocalTime(5_900_000), ts), "now + ε must be before X");
    }

    /// The spec's `CommitEntry` guard `∀ p of another term: p.ts + Δ < clock`, with ε on the
    /// committer's side.
    #[test]
    fn commits_wait_until_the_earlier_lease_is_over_by_the_clock_error() {
        let t = timing();
        let through = t.deferred_through(LocalTime(5_000_000));
        assert_eq!(through, LocalTime(6_100_000), "deferred while now − ε ≤ X");
        // An old leader serving at its last moment and a new leader committing at its first
        // are 2ε apart: clocks within ε of each other never see both at once.
        let last_read = LocalTime(5_899_999);
        let first_commit = LocalTime(through.0 + 1);
        assert!(first_commit.0 - last_read.0 > 2 * t.epsilon_us);
    }

    fn entry(op: ClientOp) -> Vec<u8> {
        Proposal { op: OpId(1), request: Request::Client(op) }.encode()
    }

    /// The spec's limbo guard: `LastCommitted(k) = LastInPriorTerm(k)`.
    #[test]
    fn a_limbo_entry_blocks_reads_of_what_it_may_write() {
        let read = |k: &str| ClientOp::Read { key: k.into(), mode: crate::read::ReadMode::Linearizable };
        let put = entry(ClientOp::Put { key: "x".into(), value: "1".into(), key_lease: None });
        assert_eq!(may_write(&put, &read("x")), Some("x".into()));
        assert_eq!(may_write(&put, &read("y")), None);
        assert_eq!(may_write(&[], &read("x")), None, "an empty entry writes nothing");
        let compact = entry(ClientOp::Compact { revision: 3 });
        assert_eq!(may_write(&compact, &read("x")), None);
        let revoke = entry(ClientOp::KeyLeaseRevoke { id: crate::types::KeyLeaseId::new(3).unwrap() });
        assert!(may_write(&revoke, &read("x")).unwrap().contains("revoke key lease 3"), "its keys are not known");
        let range = |key: &str, end: &str| ClientOp::Range {
            range: crate::mvcc::RangeRequest { key: key.into(), end: end.into(), ..Default::default() },
            mode: crate::read::ReadMode::Linearizable,
        };
        assert_eq!(may_write(&put, &range("a", "z")), Some("x".into()), "a range over a limbo key waits");
        assert_eq!(may_write(&put, &range("y", "z")), None);
    }
}
