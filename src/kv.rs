//! The replicated state machine: etcd's MVCC store (see [`crate::mvcc`]) plus the raft index
//! applied so far. Every node applies the same entries in the same order, so every node's
//! store is identical at equal applied indexes (checked by the swarm).

use crate::client_op::ClientOp;
use crate::error::must;
use crate::history::TxnReads;
use crate::lessor::{Lessor, LessorError};
use crate::mvcc::{Compare, MvccStore, TxnOp, TxnOpResult};
use crate::read::{ReadAnswer, ReadValue};
use crate::request::Request;
use crate::time::LocalTime;

#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct KvStore {
    mvcc: MvccStore,
    lessor: Lessor,
    /// Raft index of the last entry applied (including entries without a request).
    applied: u64,
    /// Client operations already applied (see [`AppliedOps`]).
    applied_ops: AppliedOps,
    /// The LeaseGuard stamps of applied entries.
    applied_stamps: crate::lease_guard::AppliedStamps,
}

/// The client operations whose proposals a store has applied, as a bitset over operation ids
/// (dense: the simulator numbers operations 1, 2, 3, …; a simulated hour at 100 operations
/// per second is 45 KB).
///
/// Raft commits a proposal at least once, not exactly once: a follower forwards a client's
/// proposal to the leader as a `MsgPropose`, and when the network duplicates that message
/// the leader appends, commits and every node applies the same operation twice — after
/// its client was answered from the first copy. The state machine applies each operation
/// once by remembering which it has applied: the raft thesis's client sessions (§6.3),
/// where unique operation ids stand in for (client, serial number) pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
struct AppliedOps {
    words: Vec<u64>,
}

impl AppliedOps {
    /// Records `op`; false if it was already recorded.
    fn insert(&mut self, op: u64) -> bool {
        let (word, bit) = ((op / 64) as usize, 1u64 << (op % 64));
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let first = self.words[word] & bit == 0;
        self.words[word] |= bit;
        first
    }
}

/// What applying needs besides the request: the applying node's local clock (the primary
/// starts key lease expiries on it), the minimum key lease TTL, and whether anyone wants the
/// entry's effects.
#[derive(Clone, Copy, Debug)]
pub struct ApplyContext {
    pub now: LocalTime,
    pub min_ttl_ms: i64,
    /// The checkpoint interval when key lease checkpointing is on (the primary schedules
    /// checkpoints as grants and checkpoints apply).
    pub checkpoint_interval_ms: Option<i64>,
    /// Build [`Applied::effects`]. The history records an entry's effects once, from its
    /// first apply anywhere in the cluster; every other replica skips building them (a put
    /// then moves its strings into the store instead of copying them).
    pub record_effects: bool,
}

/// The result of applying one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Store revision after the request.
    pub revision: u64,
    /// Register writes it made, per key: `Some(value)` for a put, `None` for a delete. The
    /// linearizability checker models each key as a register and uses these as ground truth.
    /// Empty unless [`ApplyContext::record_effects`].
    pub effects: Vec<(String, Option<String>)>,
    /// The store refused the request (e.g. compaction of a future revision); nothing changed.
    pub error: Option<String>,
    /// A key lease this request revoked (with the keys it deleted).
    pub revoked: Option<(u64, Vec<String>)>,
    /// What a transaction did. Only with [`ApplyContext::record_effects`].
    pub result: Option<TxnOutcome>,
}

/// What a transaction did, recorded at its entry's first apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnOutcome {
    /// In words: the branch that ran and what its gets returned (etcd's `succeeded` and
    /// responses).
    pub text: String,
    /// What its reads of the current state saw, key by key, for the linearizability checkers:
    /// a single-key get is one register read; a range read is a register read of every key it
    /// returned, plus a [`RangeSpan`] for the keys it found absent. Counting and historical
    /// reads (at an explicit revision) do not read the current state and are left out.
    pub reads: Vec<RegisterRead>,
    /// The ranges among its reads (see [`TxnOutcome::reads`]).
    pub ranges: Vec<RangeSpan>,
}

/// One key as a read saw it: its value (`None`: absent), the revision of the write that set it
/// (0 when absent) and the store revision the read was served at.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegisterRead {
    pub key: String,
    pub value: Option<String>,
    pub mod_revision: u64,
    pub revision: u64,
}

/// A range read's extent: every key in `[key, end)` (the store's range conventions) that it
/// did not return was absent at `revision` — up to `through` when a limit cut the answer short.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RangeSpan {
    pub key: String,
    pub end: String,
    pub revision: u64,
    /// The last key returned when the limit truncated the answer: keys after it are unknown.
    pub through: Option<String>,
}

/// Whether `k` lies in the range `[key, end)` by the store's conventions (`end` empty: `key`
/// alone; `"\0"`: every key from `key` on).
pub fn range_covers(key: &str, end: &str, k: &str) -> bool {
    if end.is_empty() {
        k == key
    } else if end == "\0" {
        k >= key
    } else {
        k >= key && k < end
    }
}

impl RangeSpan {
    /// Whether the range read vouches for `k`: inside the range and not past a truncation.
    pub fn covers(&self, k: &str) -> bool {
        range_covers(&self.key, &self.end, k) && self.through.as_deref().is_none_or(|t| k <= t)
    }
}

/// The reads of the current state among a transaction's operations (see [`TxnOutcome::reads`]).
fn txn_register_reads(ops: &[TxnOp], results: &[TxnOpResult]) -> (Vec<RegisterRead>, Vec<RangeSpan>) {
    let mut reads = Vec::new();
    let mut ranges = Vec::new();
    for (op, res) in ops.iter().zip(results) {
        let (TxnOp::Range(r), TxnOpResult::Range(got)) = (op, res) else { continue };
        if r.rev != 0 || r.count_only {
            continue;
        }
        let revision = got.rev;
        for kv in &got.kvs {
            reads.push(RegisterRead {
                key: kv.key.clone(),
                value: Some(kv.value.clone()),
                mod_revision: kv.mod_revision,
                revision,
            });
        }
        let truncated = got.kvs.len() < got.count;
        ranges.push(RangeSpan {
            key: r.key.clone(),
            end: r.end.clone(),
            revision,
            through: if truncated { got.kvs.last().map(|kv| kv.key.clone()) } else { None },
        });
    }
    (reads, ranges)
}

/// A range's answer in words: "3 keys: a=1, b=2, c=3" (the first few), or its count.
fn range_text(result: &TxnOpResult) -> String {
    let TxnOpResult::Range(got) = result else { return String::new() };
    const SHOWN: usize = 8;
    let mut text = format!("{} of {}", got.kvs.len(), crate::client_op::counted(got.count, "key"));
    for (i, kv) in got.kvs.iter().take(SHOWN).enumerate() {
        text.push_str(if i == 0 { ": " } else { ", " });
        text.push_str(&format!("{}={}", kv.key, kv.value));
    }
    if got.kvs.len() > SHOWN {
        text.push_str(", …");
    }
    text
}

/// A transaction's outcome in words: "then ran: get x → 5; put y" (else: "else ran: …").
fn txn_result_text(succeeded: bool, ops: &[TxnOp], results: &[TxnOpResult]) -> String {
    let mut text = String::from(if succeeded { "then ran" } else { "else ran" });
    for (i, (op, res)) in ops.iter().zip(results).enumerate() {
        text.push_str(if i == 0 { ": " } else { "; " });
        match (op, res) {
            (TxnOp::Range(r), TxnOpResult::Range(got)) if !r.end.is_empty() => {
                let n = got.kvs.len();
                text.push_str(&format!("range from {} → {n} key{}", r.key, if n == 1 { "" } else { "s" }))
            }
            (TxnOp::Range(r), TxnOpResult::Range(got)) => text.push_str(&match got.kvs.first() {
                None => format!("get {} → (absent)", r.key),
                Some(kv) => format!("get {} → {}", r.key, kv.value),
            }),
            (TxnOp::Put { key, .. }, _) => text.push_str(&format!("put {key}")),
            (_, TxnOpResult::DeleteRange { deleted, .. }) => text.push_str(&format!("deleted {deleted}")),
            _ => {}
        }
    }
    text
}

impl KvStore {
    /// Answers a read from this store as it stands: a key, a range, or a read-only
    /// transaction (evaluated here, without a revision of its own, as etcd evaluates one
    /// after its read barrier). A range at a compacted or future revision is refused.
    pub fn answer(&self, op: &ClientOp) -> Result<ReadAnswer, String> {
        let revision = self.revision();
        let (ops, succeeded, results) = match op {
            ClientOp::Read { key, .. } => {
                let (value, mod_revision) = match self.get_with_revision(key) {
                    Some((v, r)) => (Some(v), r),
                    None => (None, 0),
                };
                return Ok(ReadAnswer { value: ReadValue { value, mod_revision, revision }, text: None, reads: None });
            }
            ClientOp::Range { range, .. } => {
                let got = self.mvcc.range(range).map_err(|e| e.to_string())?;
                (vec![TxnOp::Range(range.clone())], None, vec![TxnOpResult::Range(got)])
            }
            ClientOp::Txn { compares, success, failure } => {
                let result = self.mvcc.txn_read_only(compares, success, failure).map_err(|e| e.to_string())?;
                let ops = if result.succeeded { success.clone() } else { failure.clone() };
                (ops, Some(result.succeeded), result.results)
            }
            other => return Err(format!("{} is not a read", other.summary())),
        };
        let (reads, ranges) = txn_register_reads(&ops, &results);
        let text = match succeeded {
            Some(succeeded) => txn_result_text(succeeded, &ops, &results),
            None => range_text(&results[0]),
        };
        let value = ReadValue { value: None, mod_revision: 0, revision };
        Ok(ReadAnswer { value, text: Some(text), reads: Some(TxnReads { reads, ranges }) })
    }

    pub fn revision(&self) -> u64 {
        self.mvcc.current_revision()
    }
    pub fn compacted_revision(&self) -> u64 {
        self.mvcc.compacted_revision()
    }
    pub fn applied(&self) -> u64 {
        self.applied
    }
    pub fn mvcc(&self) -> &MvccStore {
        &self.mvcc
    }
    pub fn lessor(&self) -> &Lessor {
        &self.lessor
    }
    pub fn lessor_mut(&mut self) -> &mut Lessor {
        &mut self.lessor
    }
    /// Live keys.
    pub fn len(&self) -> usize {
        self.mvcc.len()
    }
    pub fn is_empty(&self) -> bool {
        self.mvcc.is_empty()
    }
    pub fn get(&self, key: &str) -> Option<String> {
        self.mvcc.get(key).map(|kv| kv.value)
    }
    /// The value of `key` and the revision of the write that set it.
    pub fn get_with_revision(&self, key: &str) -> Option<(String, u64)> {
        self.mvcc.get(key).map(|kv| (kv.value, kv.mod_revision))
    }
    /// Keys and values in key order, at most `limit`.
    pub fn entries(&self, limit: usize) -> Vec<(String, String)> {
        self.mvcc.live(limit).into_iter().map(|kv| (kv.key, kv.value)).collect()
    }

    /// Records that client operation `op` (not 0, the cluster's own proposals) is being
    /// applied; false if it was applied before, from an earlier copy of its proposal, and
    /// must not be applied again.
    pub fn first_apply_of(&mut self, op: u64) -> bool {
        op == 0 || self.applied_ops.insert(op)
    }

    /// Records that raft entry `index` was applied (called for every entry, in order).
    /// Notes the LeaseGuard stamp (if any) of the entry just applied.
    pub fn note_stamp(&mut self, context: &[u8]) {
        self.applied_stamps.note(context);
    }

    pub fn applied_stamps(&self) -> crate::lease_guard::AppliedStamps {
        self.applied_stamps
    }

    pub fn advance_applied(&mut self, index: u64) {
        assert!(index > self.applied, "entry {index} applied twice (applied {})", self.applied);
        self.applied = index;
    }

    /// Applies one committed request. Takes it by value: a put (the common entry, applied by
    /// every node) moves its key and value into the store (copying them into the effects only
    /// when those are wanted).
    pub fn apply(&mut self, request: Request, ctx: ApplyContext) -> Applied {
        let before = self.mvcc.current_revision();
        let mut revoked = None;
        let mut result = None;
        let (mut effects, error) = match request {
            Request::Client(ClientOp::Put { key, value, key_lease: None }) => {
                match MvccStore::validate_put(&key, &value) {
                    Err(e) => (vec![], Some(e.to_string())),
                    Ok(()) => {
                        self.lessor.detach(&key);
                        let effects =
                            if ctx.record_effects { vec![(key.clone(), Some(value.clone()))] } else { vec![] };
                        self.mvcc.put_valid(key, value, None);
                        (effects, None)
                    }
                }
            }
            ref request => self.apply_ref(request, ctx, &mut revoked, &mut result),
        };
        if !ctx.record_effects {
            effects.clear();
        }
        debug_assert!(error.is_none() || self.mvcc.current_revision() == before);
        Applied { revision: self.mvcc.current_revision(), effects, error, revoked, result }
    }

    /// Every request but a plain put: (effects, error).
    fn apply_ref(
        &mut self,
        request: &Request,
        ctx: ApplyContext,
        revoked: &mut Option<(u64, Vec<String>)>,
        result: &mut Option<TxnOutcome>,
    ) -> (Vec<(String, Option<String>)>, Option<String>) {
        let op = match request {
            Request::KeyLeaseCheckpoint { checkpoints } => {
                for (id, remaining) in checkpoints {
                    self.lessor.checkpoint(*id, *remaining, ctx.now, ctx.checkpoint_interval_ms);
                }
                return (vec![], None);
            }
            Request::Client(op) => op,
        };
        match op {
            ClientOp::Put { key, value, key_lease: None } => match self.mvcc.put(key, value, None) {
                Ok(_) => {
                    self.lessor.detach(key);
                    (vec![(key.clone(), Some(value.clone()))], None)
                }
                Err(e) => (vec![], Some(e.to_string())),
            },
            ClientOp::Put { key, value, key_lease: Some(id) } => {
                if self.lessor.get(id.get()).is_none() {
                    (vec![], Some(LessorError::NotFound { id: id.get() }.to_string()))
                } else {
                    match self.mvcc.put(key, value, Some(*id)) {
                        Ok(_) => {
                            must(self.lessor.attach(key, id.get()), "checked above");
                            (vec![(key.clone(), Some(value.clone()))], None)
                        }
                        Err(e) => (vec![], Some(e.to_string())),
                    }
                }
            }
            // The node the request reached assigned an id before proposing it; an entry without
            // one is refused as etcd's lessor refuses id 0 (lease not found).
            ClientOp::KeyLeaseGrant { id: None, .. } => (vec![], Some(LessorError::NotFound { id: 0 }.to_string())),
            ClientOp::KeyLeaseGrant { id: Some(id), ttl } => {
                match self.lessor.grant(
                    id.get(),
                    ttl.saturating_mul(1_000),
                    ctx.min_ttl_ms,
                    ctx.now,
                    ctx.checkpoint_interval_ms,
                ) {
                    Ok(_) => (vec![], None),
                    Err(e) => (vec![], Some(e.to_string())),
                }
            }
            ClientOp::KeyLeaseRevoke { id } => match self.lessor.revoke(id.get()) {
                Ok(keys) => {
                    // Every attached key, in key order, deleted in one transaction.
                    let ops: Vec<TxnOp> =
                        keys.iter().map(|k| TxnOp::DeleteRange { key: k.clone(), end: String::new() }).collect();
                    must(self.mvcc.txn(&[], &ops, &[]), "deleting existing keys cannot fail");
                    *revoked = Some((id.get(), keys.clone()));
                    (keys.into_iter().map(|k| (k, None)).collect(), None)
                }
                Err(e) => (vec![], Some(e.to_string())),
            },
            ClientOp::Delete { key } => match self.mvcc.delete_range(key, "") {
                Ok((0, revision)) => {
                    // Nothing to delete: etcd makes no revision, so it is no write in the
                    // order — it is an observation that the key was absent at `revision`.
                    if ctx.record_effects {
                        *result = Some(TxnOutcome {
                            text: format!("deleted nothing: {key} was absent"),
                            reads: vec![],
                            ranges: vec![RangeSpan { key: key.clone(), end: String::new(), revision, through: None }],
                        });
                    }
                    (vec![], None)
                }
                Ok(_) => {
                    self.lessor.detach(key);
                    (vec![(key.clone(), None)], None)
                }
                Err(e) => (vec![], Some(e.to_string())),
            },
            ClientOp::DeleteRange { key, end } => {
                let op = TxnOp::DeleteRange { key: key.clone(), end: end.clone() };
                match self.mvcc.txn(&[], &[op], &[]) {
                    Ok(r) => match r.results.into_iter().next() {
                        Some(TxnOpResult::DeleteRange { keys, .. }) => {
                            for k in &keys {
                                self.lessor.detach(k);
                            }
                            (keys.into_iter().map(|k| (k, None)).collect(), None)
                        }
                        _ => unreachable!("one delete, one result"),
                    },
                    Err(e) => (vec![], Some(e.to_string())),
                }
            }
            ClientOp::Txn { compares, success, failure } => {
                match self.missing_key_lease(self.mvcc.txn_branch(compares, success, failure).1) {
                    Some(id) => (vec![], Some(LessorError::NotFound { id }.to_string())),
                    None => self.apply_txn(compares, success, failure, ctx, result),
                }
            }
            ClientOp::Compact { revision } => match self.mvcc.compact(*revision) {
                Ok(()) => (vec![], None),
                Err(e) => (vec![], Some(e.to_string())),
            },
            // Answered by a node without a raft entry: never proposed.
            ClientOp::Read { .. } | ClientOp::Range { .. } | ClientOp::KeyLeaseKeepAlive { .. } => {
                (vec![], Some(format!("{} is not a state change", op.summary())))
            }
        }
    }

    /// An etcd transaction whose key leases all exist: its compares pick the branch, whose
    /// puts attach or detach their keys and whose deletes detach theirs.
    fn apply_txn(
        &mut self,
        compares: &[Compare],
        success: &[TxnOp],
        failure: &[TxnOp],
        ctx: ApplyContext,
        result: &mut Option<TxnOutcome>,
    ) -> (Vec<(String, Option<String>)>, Option<String>) {
        match self.mvcc.txn(compares, success, failure) {
            Ok(txn) => {
                let ops = if txn.succeeded { success } else { failure };
                if ctx.record_effects {
                    let (reads, ranges) = txn_register_reads(ops, &txn.results);
                    *result =
                        Some(TxnOutcome { text: txn_result_text(txn.succeeded, ops, &txn.results), reads, ranges });
                }
                let mut effects = Vec::new();
                for (op, res) in ops.iter().zip(&txn.results) {
                    match (op, res) {
                        (TxnOp::Put { key, value, key_lease }, _) => {
                            match key_lease {
                                None => self.lessor.detach(key),
                                Some(id) => must(self.lessor.attach(key, id.get()), "checked by the guard"),
                            }
                            effects.push((key.clone(), Some(value.clone())));
                        }
                        (TxnOp::DeleteRange { .. }, TxnOpResult::DeleteRange { keys, .. }) => {
                            for k in keys {
                                self.lessor.detach(k);
                            }
                            effects.extend(keys.iter().map(|k| (k.clone(), None)));
                        }
                        _ => {}
                    }
                }
                (effects, None)
            }
            Err(e) => (vec![], Some(e.to_string())),
        }
    }

    /// A key lease that a put of the branch a transaction takes names and that does not exist
    /// (etcd refuses the txn; a put in the other branch is never checked).
    fn missing_key_lease(&self, ops: &[TxnOp]) -> Option<u64> {
        ops.iter().find_map(|op| match op {
            TxnOp::Put { key_lease: Some(id), .. } if self.lessor.get(id.get()).is_none() => Some(id.get()),
            _ => None,
        })
    }

    /// A fingerprint of the contents (for comparing replicas).
    pub fn digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = crate::event::StableHasher::default();
        for kv in self.mvcc.live(usize::MAX) {
            kv.hash(&mut h);
        }
        self.mvcc.current_revision().hash(&mut h);
        self.mvcc.compacted_revision().hash(&mut h);
        // The replicated part of the lessor (expiries are per node and excluded).
        for l in self.lessor.leases() {
            l.hash(&mut h);
        }
        self.applied.hash(&mut h);
        self.applied_ops.words.hash(&mut h);
        h.finish()
    }

    /// The store as raft snapshot data (bincode's standard configuration: varints, little
    /// endian, identical on every platform).
    pub fn encode(&self) -> Vec<u8> {
        crate::request::bincode_encode(self)
    }
    pub fn decode(data: &[u8]) -> KvStore {
        crate::request::bincode_decode(data, "snapshot data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::KeyLeaseId;

    const CTX: ApplyContext = ApplyContext {
        now: LocalTime(0),
        min_ttl_ms: 1_500,
        checkpoint_interval_ms: Some(5_000),
        record_effects: true,
    };

    #[test]
    fn revisions_start_at_one_and_bump_only_on_change() {
        let mut kv = KvStore::default();
        assert_eq!(kv.revision(), 1);
        let put = Request::Client(ClientOp::Put { key: "a".into(), value: "1".into(), key_lease: None });
        assert_eq!(kv.apply(put, CTX).revision, 2);
        assert_eq!(kv.apply(Request::Client(ClientOp::Delete { key: "zz".into() }), CTX).revision, 2);
        assert_eq!(kv.apply(Request::Client(ClientOp::Delete { key: "a".into() }), CTX).revision, 3);
        let restored = KvStore::decode(&kv.encode());
        assert_eq!(restored, kv);
    }

    #[test]
    fn a_replica_that_records_no_effects_ends_in_the_same_state() {
        let requests = [
            Request::Client(ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(7)), ttl: 10 }),
            Request::Client(ClientOp::Put { key: "a".into(), value: "1".into(), key_lease: None }),
            Request::Client(ClientOp::Put { key: "b".into(), value: "2".into(), key_lease: Some(KeyLeaseId::of(7)) }),
            Request::Client(ClientOp::Put { key: "b".into(), value: "3".into(), key_lease: None }),
            Request::Client(ClientOp::Put { key: String::new(), value: "refused".into(), key_lease: None }),
            Request::Client(ClientOp::Delete { key: "a".into() }),
            Request::Client(ClientOp::KeyLeaseRevoke { id: KeyLeaseId::of(7) }),
        ];
        let (mut first, mut other) = (KvStore::default(), KvStore::default());
        let quiet = ApplyContext { record_effects: false, ..CTX };
        for r in requests {
            let (a, b) = (first.apply(r.clone(), CTX), other.apply(r, quiet));
            assert!(b.effects.is_empty(), "{b:?}");
            assert_eq!((a.revision, &a.error, &a.revoked), (b.revision, &b.error, &b.revoked));
        }
        assert_eq!(first, other);
        assert_eq!(first.mvcc().get("b").map(|kv| (kv.value, kv.key_lease)), Some(("3".to_string(), None)));
    }

    /// Snapshot data carries the replicated state (MVCC history, key leases and their keys,
    /// checkpoints, applied index) but not the primary's volatile expiries.
    #[test]
    fn snapshot_data_keeps_the_replicated_state_only() {
        let mut kv = KvStore::default();
        kv.apply(Request::Client(ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(7)), ttl: 5 }), CTX);
        kv.apply(
            Request::Client(ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: Some(KeyLeaseId::of(7)) }),
            CTX,
        );
        kv.apply(Request::Client(ClientOp::Put { key: "p".into(), value: "1".into(), key_lease: None }), CTX);
        kv.apply(Request::KeyLeaseCheckpoint { checkpoints: vec![(7, 3_000)] }, CTX);
        kv.apply(Request::Client(ClientOp::Delete { key: "p".into() }), CTX);
        kv.advance_applied(12);
        assert!(kv.first_apply_of(5));
        kv.lessor_mut().promote(LocalTime(1_000), 0, None);
        assert!(kv.lessor().is_primary());
        let restored = KvStore::decode(&kv.encode());
        assert!(!restored.lessor().is_primary(), "volatile: a restored store is not the primary");
        assert_eq!(restored.digest(), kv.digest());
        assert_eq!(restored.lessor().get(7), kv.lessor().get(7));
        assert_eq!(restored.applied(), 12);
        assert!(!restored.clone().first_apply_of(5), "applied operations survive a snapshot");
        let mut demoted = kv.clone();
        demoted.lessor_mut().demote();
        assert_eq!(restored, demoted);
    }

    #[test]
    fn each_client_operation_applies_once() {
        let mut kv = KvStore::default();
        assert!(kv.first_apply_of(3));
        assert!(kv.first_apply_of(200), "ids far apart");
        assert!(!kv.first_apply_of(3), "a second copy is refused");
        assert!(!kv.first_apply_of(200));
        assert!(kv.first_apply_of(64) && kv.first_apply_of(63), "word boundaries");
        assert!(kv.first_apply_of(0) && kv.first_apply_of(0), "the cluster's own proposals are not deduplicated");
    }

    #[test]
    fn a_refused_request_reports_its_error_and_changes_nothing() {
        let mut kv = KvStore::default();
        kv.apply(Request::Client(ClientOp::Put { key: "a".into(), value: "1".into(), key_lease: None }), CTX);
        let before = kv.clone();
        let r = kv.apply(Request::Client(ClientOp::Compact { revision: 9 }), CTX);
        assert_eq!(r.error.as_deref(), Some("mvcc: required revision 9 is a future revision (current 2)"));
        assert_eq!(kv, before);
    }

    /// `if a == expect then success else failure`.
    fn txn_on_a(expect: &str, success: Vec<TxnOp>, failure: Vec<TxnOp>) -> Request {
        use crate::mvcc::{Compare, CompareOp, CompareTarget};
        let compare =
            Compare { key: "a".into(), target: CompareTarget::Value, op: CompareOp::Equal, operand: expect.into() };
        Request::Client(ClientOp::Txn { compares: vec![compare], success, failure })
    }

    #[test]
    fn txn_effects_follow_the_branch_taken() {
        let mut kv = KvStore::default();
        kv.apply(Request::Client(ClientOp::Put { key: "a".into(), value: "1".into(), key_lease: None }), CTX);
        let txn = |expect: &str| {
            txn_on_a(
                expect,
                vec![TxnOp::Put { key: "a".into(), value: "then".into(), key_lease: None }],
                vec![TxnOp::Put { key: "b".into(), value: "else".into(), key_lease: None }],
            )
        };
        let then = kv.apply(txn("1"), CTX);
        assert_eq!(then.effects, vec![("a".to_string(), Some("then".to_string()))]);
        assert_eq!(then.result.map(|r| r.text).as_deref(), Some("then ran: put a"));
        let otherwise = kv.apply(txn("1"), CTX);
        assert_eq!(otherwise.effects, vec![("b".to_string(), Some("else".to_string()))]);
        assert_eq!(otherwise.result.map(|r| r.text).as_deref(), Some("else ran: put b"));
    }

    /// etcd checks a transaction's puts for their key leases along the branch it takes only
    /// (`checkRequests` over `compareToPath` in etcd's apply): a missing key lease named in the
    /// branch not taken refuses nothing, one in the branch taken refuses the whole txn.
    #[test]
    fn a_txn_is_refused_for_a_missing_key_lease_only_in_the_branch_it_takes() {
        let mut kv = KvStore::default();
        kv.apply(Request::Client(ClientOp::Put { key: "a".into(), value: "1".into(), key_lease: None }), CTX);
        let missing = KeyLeaseId::new(999);
        let txn = |expect: &str| {
            txn_on_a(
                expect,
                vec![TxnOp::Put { key: "x".into(), value: "then".into(), key_lease: None }],
                vec![TxnOp::Put { key: "y".into(), value: "else".into(), key_lease: missing }],
            )
        };
        let then = kv.apply(txn("1"), CTX);
        assert_eq!(then.error, None);
        assert_eq!(then.effects, vec![("x".to_string(), Some("then".to_string()))]);
        let before = kv.clone();
        let otherwise = kv.apply(txn("2"), CTX);
        assert_eq!(otherwise.error.as_deref(), Some("key lease 999 not found"));
        assert_eq!(kv, before);
    }

    #[test]
    fn a_txn_says_what_its_gets_returned() {
        use crate::mvcc::RangeRequest;
        let mut kv = KvStore::default();
        kv.apply(Request::Client(ClientOp::Put { key: "x".into(), value: "5".into(), key_lease: None }), CTX);
        let get = |key: &str| TxnOp::Range(RangeRequest { key: key.into(), ..RangeRequest::default() });
        let range = TxnOp::Range(RangeRequest { key: "a".into(), end: "z".into(), ..RangeRequest::default() });
        let txn = Request::Client(ClientOp::Txn {
            compares: vec![],
            success: vec![get("x"), get("nope"), range],
            failure: vec![],
        });
        let outcome = kv.apply(txn.clone(), CTX).result.expect("a txn");
        assert_eq!(outcome.text, "then ran: get x → 5; get nope → (absent); range from a → 1 key");
        // The checkers' register reads: x from the get and again from the range, both at
        // revision 2 where x was written; "nope" is vouched absent by its get's span.
        let x = RegisterRead { key: "x".into(), value: Some("5".into()), mod_revision: 2, revision: 2 };
        assert_eq!(outcome.reads, vec![x.clone(), x]);
        let spans: Vec<(&str, &str)> = outcome.ranges.iter().map(|r| (r.key.as_str(), r.end.as_str())).collect();
        assert_eq!(spans, [("x", ""), ("nope", ""), ("a", "z")]);
        assert!(outcome.ranges[1].covers("nope") && !outcome.ranges[1].covers("x"));
        assert!(outcome.ranges[2].covers("b") && !outcome.ranges[2].covers("z"));
        // A limit vouches only for the keys up to the last one returned.
        kv.apply(Request::Client(ClientOp::Put { key: "y".into(), value: "6".into(), key_lease: None }), CTX);
        let limited =
            TxnOp::Range(RangeRequest { key: "a".into(), end: "z".into(), limit: 1, ..RangeRequest::default() });
        let limited = Request::Client(ClientOp::Txn { compares: vec![], success: vec![limited], failure: vec![] });
        let outcome = kv.apply(limited, CTX).result.expect("a txn");
        assert_eq!(outcome.ranges[0].through.as_deref(), Some("x"));
        assert!(outcome.ranges[0].covers("w") && !outcome.ranges[0].covers("xa"));
        let quiet = ApplyContext { record_effects: false, ..CTX };
        assert_eq!(kv.apply(txn, quiet).result, None, "only the apply that records effects says it");
        let put = kv.apply(Request::Client(ClientOp::Put { key: "y".into(), value: "1".into(), key_lease: None }), CTX);
        assert_eq!(put.result, None, "not a transaction");
    }
}
