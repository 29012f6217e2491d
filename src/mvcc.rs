//! An in-memory MVCC store with etcd's semantics (etcd `server/storage/mvcc`):
//! revisions `{main, sub}`, a key index of generations and tombstones, ranges at a revision,
//! transactions, compaction and watch-from-revision.
//!
//! * The store starts at revision 1; the first write is revision 2. All writes of one
//!   transaction share `main` and count up `sub`; the revision bumps only if something changed.
//! * A key's *generation* runs from its creation to its deletion (tombstone); `version`
//!   counts puts within a generation and restarts after a delete.
//! * `range(key, end)`: empty `end` means the single key; `end == "\0"` means every key ≥ `key`;
//!   otherwise the half-open `[key, end)`. `rev == 0` is the current revision.

use crate::types::KeyLeaseId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::rc::Rc;

/// A store revision: transactions get increasing `main`; writes inside one count up `sub`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
pub struct Revision {
    pub main: u64,
    pub sub: u64,
}

impl Revision {
    pub fn new(main: u64, sub: u64) -> Revision {
        Revision { main, sub }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.main, self.sub)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MvccError {
    /// The requested revision has been compacted away.
    Compacted {
        requested: u64,
        compacted: u64,
    },
    /// The requested revision is in the future.
    FutureRev {
        requested: u64,
        current: u64,
    },
    /// The key has no version at the requested revision.
    RevisionNotFound,
    EmptyKey,
    /// A transaction served as a read has a write in the branch it took.
    NotReadOnly,
    ValueTooLarge {
        bytes: usize,
        max: usize,
    },
}

impl fmt::Display for MvccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MvccError::Compacted { requested, compacted } => {
                write!(f, "mvcc: required revision {requested} has been compacted (compacted through {compacted})")
            }
            MvccError::FutureRev { requested, current } => {
                write!(f, "mvcc: required revision {requested} is a future revision (current {current})")
            }
            MvccError::RevisionNotFound => write!(f, "mvcc: revision not found"),
            MvccError::EmptyKey => write!(f, "key is not provided"),
            MvccError::NotReadOnly => write!(f, "a transaction served as a read may only get"),
            MvccError::ValueTooLarge { bytes, max } => {
                write!(f, "value of {bytes} bytes exceeds the {max}-byte limit")
            }
        }
    }
}

impl std::error::Error for MvccError {}

/// One generation of a key: from its creation to its tombstone (last rev, if deleted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Generation {
    pub ver: u64,
    pub created: Revision,
    pub revs: Vec<Revision>,
}

impl Generation {
    fn is_empty(&self) -> bool {
        self.revs.is_empty()
    }
}

/// Every revision at which one key changed, grouped in generations (etcd `keyIndex`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct KeyIndex {
    pub modified: Revision,
    pub generations: Vec<Generation>,
}

impl KeyIndex {
    pub fn put(&mut self, rev: Revision) {
        assert!(rev > self.modified || self.generations.is_empty(), "put {rev} not after {}", self.modified);
        if self.generations.is_empty() {
            self.generations.push(Generation::default());
        }
        let g = self.generations.last_mut().expect("one generation");
        if g.is_empty() {
            g.created = rev;
        }
        g.revs.push(rev);
        g.ver += 1;
        self.modified = rev;
    }

    /// Ends the current generation at `rev` (a delete).
    pub fn tombstone(&mut self, rev: Revision) -> Result<(), MvccError> {
        if self.generations.last().is_none_or(Generation::is_empty) {
            return Err(MvccError::RevisionNotFound);
        }
        self.put(rev);
        self.generations.push(Generation::default());
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.generations.len() == 1 && self.generations[0].is_empty()
    }

    /// The generation alive at `rev`, if the key existed then.
    fn find_generation(&self, rev: u64) -> Option<&Generation> {
        let last = self.generations.len().checked_sub(1)?;
        for (i, g) in self.generations.iter().enumerate().rev() {
            if g.is_empty() {
                continue;
            }
            if i != last && g.revs.last().expect("non-empty").main <= rev {
                // Deleted by then (the tombstone is at or before `rev`).
                return None;
            }
            if g.revs[0].main <= rev {
                return Some(g);
            }
        }
        None
    }

    /// (modified, created, version) of the key as of `rev`.
    pub fn get(&self, rev: u64) -> Result<(Revision, Revision, u64), MvccError> {
        let g = self.find_generation(rev).ok_or(MvccError::RevisionNotFound)?;
        let n = g.revs.iter().rposition(|r| r.main <= rev).ok_or(MvccError::RevisionNotFound)?;
        Ok((g.revs[n], g.created, g.ver - (g.revs.len() - n - 1) as u64))
    }

    /// Revisions with `main >= rev`, one per main revision (the highest sub), oldest first.
    pub fn since(&self, rev: u64) -> Vec<Revision> {
        let since = Revision::new(rev, 0);
        let mut start = 0;
        for (i, g) in self.generations.iter().enumerate().rev() {
            if i == 0 {
                break;
            }
            if !g.is_empty() && since > g.created {
                start = i;
                break;
            }
        }
        let mut out: Vec<Revision> = Vec::new();
        for g in &self.generations[start..] {
            for r in &g.revs {
                if since > *r {
                    continue;
                }
                match out.last_mut() {
                    Some(last) if last.main == r.main => *last = *r,
                    _ => out.push(*r),
                }
            }
        }
        out
    }

    /// Drops history up to `at`, as etcd's `keyIndex.compact` does (v3.5.16 and later, 3.6):
    /// every generation whose tombstone is below `at` goes; in the first generation left, the
    /// newest revision ≤ `at` (the value, or the tombstone, a read or watch at `at` sees) and
    /// everything after it stay. A tombstone exactly at `at` is therefore kept (etcd PR 18274;
    /// earlier releases dropped it). Returns the revisions kept at or before `at`, which the
    /// backend must keep too.
    pub fn compact(&mut self, at: u64) -> Vec<Revision> {
        let mut gi = 0;
        while gi + 1 < self.generations.len() {
            let tomb = self.generations[gi].revs.last().expect("closed generations are non-empty").main;
            if tomb >= at {
                break;
            }
            gi += 1;
        }
        let mut keep = Vec::new();
        let g = &mut self.generations[gi];
        if let Some(n) = g.revs.iter().rposition(|r| r.main <= at) {
            keep.push(g.revs[n]);
            g.revs.drain(..n);
        }
        self.generations.drain(..gi);
        keep
    }
}

/// A key's value as stored at one revision (etcd `mvccpb.KeyValue`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    pub create_revision: u64,
    pub mod_revision: u64,
    pub version: u64,
    /// The key lease the key is attached to (etcd's `lease`, where 0 is none).
    pub key_lease: Option<KeyLeaseId>,
}

/// What is stored at one revision: a value, or a tombstone. Values are shared (`Rc`): a
/// node's log compaction keeps a copy of its whole store, which then costs a reference count
/// per revision instead of two string copies.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
enum Stored {
    Put(Rc<KeyValue>),
    Tombstone(String),
}

/// The "backend": every retained revision's content, in revision order. Revisions only ever
/// grow, so a write appends and a lookup is a binary search; compaction removes from anywhere.
/// (Encoded exactly like the ordered map it replaces: a length, then the pairs.)
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
struct Backend(VecDeque<(Revision, Stored)>);

impl Backend {
    fn get(&self, rev: &Revision) -> Option<&Stored> {
        let i = self.0.binary_search_by(|(r, _)| r.cmp(rev)).ok()?;
        Some(&self.0[i].1)
    }

    fn push(&mut self, rev: Revision, stored: Stored) {
        assert!(self.0.back().is_none_or(|(last, _)| *last < rev), "revision {rev} written out of order");
        self.0.push_back((rev, stored));
    }

    /// Keeps revisions at or after `boundary`, and those before it listed in `keep` (sorted).
    fn retain_before(&mut self, boundary: Revision, keep: &[Revision]) {
        self.0.retain(|(r, _)| *r >= boundary || keep.binary_search(r).is_ok());
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct RangeRequest {
    pub key: String,
    /// Empty: just `key`. `"\0"`: every key ≥ `key`. Otherwise `[key, end)`.
    pub end: String,
    /// 0 = current.
    pub rev: u64,
    /// 0 = no limit.
    pub limit: usize,
    pub count_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeResult {
    pub kvs: Vec<KeyValue>,
    /// Total matches (before `limit`).
    pub count: usize,
    /// The store's current revision (not the one read at).
    pub rev: u64,
}

/// What a compare tests (etcd's `Compare.target`). Every target but the value is a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub enum CompareTarget {
    Value,
    Version,
    CreateRevision,
    ModRevision,
    /// The id of the key lease the key is attached to, 0 for none (etcd's `LEASE`).
    KeyLease,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Greater,
    Less,
}

/// A transaction guard on one key (a missing key has version/revisions 0; any value compare on
/// it fails, as in etcd).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Compare {
    pub key: String,
    pub target: CompareTarget,
    pub op: CompareOp,
    /// Compared as a string for `Value`, as a number otherwise.
    pub operand: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub enum TxnOp {
    Range(RangeRequest),
    Put {
        key: String,
        value: String,
        /// Older files wrote `"lease": 0` for none.
        #[serde(default, alias = "lease", deserialize_with = "crate::types::key_lease_or_zero")]
        key_lease: Option<KeyLeaseId>,
    },
    DeleteRange {
        key: String,
        end: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOpResult {
    Range(RangeResult),
    Put { prev: Option<KeyValue> },
    DeleteRange { deleted: usize, keys: Vec<String> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnResult {
    pub succeeded: bool,
    pub results: Vec<TxnOpResult>,
    /// The store revision after the transaction.
    pub rev: u64,
}

/// A change a watcher sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchEvent {
    Put(KeyValue),
    Delete { key: String, mod_revision: u64 },
}

/// One change in the backend, borrowed: a watcher that wants it makes it a [`WatchEvent`].
pub struct Change<'a> {
    pub revision: Revision,
    stored: &'a Stored,
}

impl Change<'_> {
    pub fn key(&self) -> &str {
        match self.stored {
            Stored::Put(kv) => &kv.key,
            Stored::Tombstone(key) => key,
        }
    }

    pub fn event(&self) -> WatchEvent {
        match self.stored {
            Stored::Put(kv) => WatchEvent::Put(KeyValue::clone(kv)),
            Stored::Tombstone(key) => WatchEvent::Delete { key: key.clone(), mod_revision: self.revision.main },
        }
    }
}

/// Values are at most this many bytes.
pub const VALUE_BYTES_MAX: usize = 4_096;

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct MvccStore {
    index: BTreeMap<String, KeyIndex>,
    revs: Backend,
    current: u64,
    /// The compaction revision; `None` before the first compaction (etcd's −1, so that the
    /// first compact(0) of a fresh store succeeds).
    compacted: Option<u64>,
}

impl Default for MvccStore {
    fn default() -> Self {
        MvccStore { index: BTreeMap::new(), revs: Backend::default(), current: 1, compacted: None }
    }
}

/// Keys in `[key, end)` per the range conventions above.
fn in_range<'a>(
    index: &'a BTreeMap<String, KeyIndex>,
    key: &'a str,
    end: &'a str,
) -> Box<dyn Iterator<Item = (&'a String, &'a KeyIndex)> + 'a> {
    if end.is_empty() {
        Box::new(index.get_key_value(key).into_iter())
    } else if end == "\0" {
        Box::new(index.range::<str, _>((std::ops::Bound::Included(key), std::ops::Bound::Unbounded)))
    } else if key >= end {
        Box::new(std::iter::empty())
    } else {
        Box::new(index.range::<str, _>((std::ops::Bound::Included(key), std::ops::Bound::Excluded(end))))
    }
}

/// The write half of a transaction: all writes share `main`, `sub` counts up.
struct TxnWriter<'a> {
    store: &'a mut MvccStore,
    main: u64,
    sub: u64,
}

impl TxnWriter<'_> {
    fn rev(&mut self) -> Revision {
        let r = Revision::new(self.main, self.sub);
        self.sub += 1;
        r
    }

    /// Writes `key` and returns what it held before (a transaction reports it).
    fn put(&mut self, key: &str, value: &str, key_lease: Option<KeyLeaseId>) -> Option<KeyValue> {
        let prev = self.store.get_kv(key, self.main);
        self.write(key.to_string(), value.to_string(), key_lease);
        prev
    }

    /// Writes `key` at the next sub-revision (the stored value owns the strings).
    fn write(&mut self, key: String, value: String, key_lease: Option<KeyLeaseId>) {
        let rev = self.rev();
        // One index lookup: the key's index knows its live generation's creation and version
        // (what the stored value at its last revision also says).
        let ki = match self.store.index.get_mut(&key) {
            Some(ki) => ki,
            None => self.store.index.entry(key.clone()).or_default(),
        };
        let (create_revision, version) = match ki.get(rev.main) {
            Ok((_, created, version)) => (created.main, version + 1),
            Err(_) => (rev.main, 1),
        };
        ki.put(rev);
        let kv = KeyValue { key, value, create_revision, mod_revision: rev.main, version, key_lease };
        self.store.revs.push(rev, Stored::Put(Rc::new(kv)));
    }

    fn delete_range(&mut self, key: &str, end: &str) -> Vec<String> {
        let now = self.main;
        let keys: Vec<String> = in_range(&self.store.index, key, end)
            .filter(|(_, ki)| ki.get(now).is_ok())
            .map(|(k, _)| k.clone())
            .collect();
        for k in &keys {
            let rev = self.rev();
            crate::error::must(self.store.index.get_mut(k).expect("listed").tombstone(rev), "alive");
            self.store.revs.push(rev, Stored::Tombstone(k.clone()));
        }
        keys
    }
}

impl MvccStore {
    pub fn current_revision(&self) -> u64 {
        self.current
    }
    /// The compaction revision (0 before the first compaction).
    pub fn compacted_revision(&self) -> u64 {
        self.compacted.unwrap_or(0)
    }

    /// Live keys at the current revision.
    pub fn len(&self) -> usize {
        self.index.values().filter(|ki| ki.get(self.current).is_ok()).count()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key index of `key` (for the inspector and tests).
    pub fn key_index(&self, key: &str) -> Option<&KeyIndex> {
        self.index.get(key)
    }

    fn get_kv(&self, key: &str, rev: u64) -> Option<KeyValue> {
        self.stored_at(self.index.get(key)?, rev).cloned()
    }

    /// The value a key index points to at `rev` (none if absent or deleted then).
    fn stored_at(&self, ki: &KeyIndex, rev: u64) -> Option<&KeyValue> {
        let (modified, _, _) = ki.get(rev).ok()?;
        match self.revs.get(&modified)? {
            Stored::Put(kv) => Some(kv.as_ref()),
            Stored::Tombstone(_) => None,
        }
    }

    /// The current value of one key.
    pub fn get(&self, key: &str) -> Option<KeyValue> {
        self.get_kv(key, self.current)
    }

    pub fn range(&self, req: &RangeRequest) -> Result<RangeResult, MvccError> {
        let rev = match req.rev {
            0 => self.current,
            r if r > self.current => return Err(MvccError::FutureRev { requested: r, current: self.current }),
            r if self.compacted.is_some_and(|c| r < c) => {
                return Err(MvccError::Compacted { requested: r, compacted: self.compacted_revision() })
            }
            r => r,
        };
        let mut kvs = Vec::new();
        let mut count = 0;
        for (_, ki) in in_range(&self.index, &req.key, &req.end) {
            if let Some(kv) = self.stored_at(ki, rev) {
                count += 1;
                if !req.count_only && (req.limit == 0 || kvs.len() < req.limit) {
                    kvs.push(kv.clone());
                }
            }
        }
        Ok(RangeResult { kvs, count, rev: self.current })
    }

    /// Why a put of `key = value` would be refused (empty key, value too large), if it would.
    pub fn validate_put(key: &str, value: &str) -> Result<(), MvccError> {
        if key.is_empty() {
            return Err(MvccError::EmptyKey);
        }
        if value.len() > VALUE_BYTES_MAX {
            return Err(MvccError::ValueTooLarge { bytes: value.len(), max: VALUE_BYTES_MAX });
        }
        Ok(())
    }

    /// Writes `key = value`; returns the new revision.
    /// A transaction of one put (the hot path of every write, so without building one).
    pub fn put(&mut self, key: &str, value: &str, key_lease: Option<KeyLeaseId>) -> Result<u64, MvccError> {
        Self::validate_put(key, value)?;
        Ok(self.put_valid(key.to_string(), value.to_string(), key_lease))
    }

    /// [`MvccStore::put`] of a pair [`MvccStore::validate_put`] accepted, taking the strings
    /// it stores (a replica applying a decoded entry has them already; copying would be waste).
    pub fn put_valid(&mut self, key: String, value: String, key_lease: Option<KeyLeaseId>) -> u64 {
        debug_assert!(Self::validate_put(&key, &value).is_ok());
        let main = self.current + 1;
        TxnWriter { store: self, main, sub: 0 }.write(key, value, key_lease);
        self.current = main;
        main
    }

    /// Deletes the keys in range; returns (number deleted, revision after).
    pub fn delete_range(&mut self, key: &str, end: &str) -> Result<(usize, u64), MvccError> {
        let r = self.txn(&[], &[TxnOp::DeleteRange { key: key.into(), end: end.into() }], &[])?;
        match r.results.first() {
            Some(TxnOpResult::DeleteRange { deleted, .. }) => Ok((*deleted, r.rev)),
            _ => unreachable!("one delete, one result"),
        }
    }

    fn compare(&self, c: &Compare) -> bool {
        let kv = self.get(&c.key);
        let ord = match c.target {
            // etcd's applyCompare: a value compare on a missing key always fails (gRPC cannot
            // tell a missing value from an empty one), whatever the operator.
            CompareTarget::Value => match kv {
                Some(k) => k.value.as_str().cmp(c.operand.as_str()),
                None => return false,
            },
            // etcd's compareInt: signed 64-bit numbers, so `version > -1` holds.
            target => {
                let actual = kv.map_or(0, |k| match target {
                    CompareTarget::Version => k.version,
                    CompareTarget::CreateRevision => k.create_revision,
                    CompareTarget::KeyLease => k.key_lease.map_or(0, KeyLeaseId::get),
                    _ => k.mod_revision,
                });
                let Ok(operand) = c.operand.parse::<i64>() else {
                    return false;
                };
                (actual as i64).cmp(&operand)
            }
        };
        match c.op {
            CompareOp::Equal => ord.is_eq(),
            CompareOp::NotEqual => ord.is_ne(),
            CompareOp::Greater => ord.is_gt(),
            CompareOp::Less => ord.is_lt(),
        }
    }

    /// A transaction of gets only, evaluated against the store as it stands (no revision, no
    /// change): its compares pick the branch, whose ranges are read.
    pub fn txn_read_only(
        &self,
        compares: &[Compare],
        success: &[TxnOp],
        failure: &[TxnOp],
    ) -> Result<TxnResult, MvccError> {
        let (succeeded, ops) = self.txn_branch(compares, success, failure);
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            let TxnOp::Range(r) = op else {
                return Err(MvccError::NotReadOnly);
            };
            results.push(TxnOpResult::Range(self.range(r)?));
        }
        Ok(TxnResult { succeeded, results, rev: self.current })
    }

    /// The branch a transaction takes now: whether every compare holds, and its ops. etcd
    /// checks a transaction's requests (a put's key lease, a range's revision) on this branch
    /// only (`checkRequests` along `compareToPath`).
    pub fn txn_branch<'a>(
        &self,
        compares: &[Compare],
        success: &'a [TxnOp],
        failure: &'a [TxnOp],
    ) -> (bool, &'a [TxnOp]) {
        let succeeded = compares.iter().all(|c| self.compare(c));
        (succeeded, if succeeded { success } else { failure })
    }

    /// etcd's Txn: if every compare holds run `success`, else `failure`. Validates every op
    /// first, so a bad op changes nothing. All writes share one main revision.
    pub fn txn(&mut self, compares: &[Compare], success: &[TxnOp], failure: &[TxnOp]) -> Result<TxnResult, MvccError> {
        let (succeeded, ops) = self.txn_branch(compares, success, failure);
        for op in ops {
            match op {
                TxnOp::Put { key, value, .. } => Self::validate_put(key, value)?,
                TxnOp::DeleteRange { key, .. } if key.is_empty() => return Err(MvccError::EmptyKey),
                TxnOp::Range(r) => {
                    if r.rev > self.current {
                        return Err(MvccError::FutureRev { requested: r.rev, current: self.current });
                    }
                    if r.rev != 0 && self.compacted.is_some_and(|c| r.rev < c) {
                        return Err(MvccError::Compacted { requested: r.rev, compacted: self.compacted_revision() });
                    }
                }
                _ => {}
            }
        }
        let main = self.current + 1;
        let mut results = Vec::with_capacity(ops.len());
        let mut w = TxnWriter { store: self, main, sub: 0 };
        for op in ops {
            let result = match op {
                TxnOp::Range(r) => {
                    // Reads inside a txn see the txn's own earlier writes.
                    let mut req = r.clone();
                    if req.rev == 0 && w.sub > 0 {
                        req.rev = main;
                    }
                    let saved = w.store.current;
                    if w.sub > 0 {
                        w.store.current = main;
                    }
                    let res = w.store.range(&req);
                    w.store.current = saved;
                    let mut res = res?;
                    res.rev = if w.sub > 0 { main } else { saved };
                    TxnOpResult::Range(res)
                }
                TxnOp::Put { key, value, key_lease } => TxnOpResult::Put { prev: w.put(key, value, *key_lease) },
                TxnOp::DeleteRange { key, end } => {
                    let keys = w.delete_range(key, end);
                    TxnOpResult::DeleteRange { deleted: keys.len(), keys }
                }
            };
            results.push(result);
        }
        let changed = w.sub > 0;
        if changed {
            self.current = main;
        }
        Ok(TxnResult { succeeded, results, rev: self.current })
    }

    /// Forgets every revision older than `rev` except what a read at `rev` still needs.
    pub fn compact(&mut self, rev: u64) -> Result<(), MvccError> {
        // etcd's updateCompactRev: a revision at or below the last compaction is refused.
        if self.compacted.is_some_and(|c| rev <= c) {
            return Err(MvccError::Compacted { requested: rev, compacted: self.compacted_revision() });
        }
        if rev > self.current {
            return Err(MvccError::FutureRev { requested: rev, current: self.current });
        }
        let mut keep = Vec::new();
        self.index.retain(|_, ki| {
            keep.extend(ki.compact(rev));
            !ki.is_empty() && !ki.generations.is_empty()
        });
        crate::order::sort_by_key(&mut keep, |r| (r.main, r.sub, 0));
        self.revs.retain_before(Revision::new(rev + 1, 0), &keep);
        self.compacted = Some(rev);
        Ok(())
    }

    /// Changes to keys in range since `start_rev` (inclusive), oldest first (etcd watch
    /// with a start revision). As etcd's watcher group decides (`minRev < compactRev`), only a
    /// start *below* the compaction revision is an error: a watch from the compaction revision
    /// itself gets what is kept at it (a tombstone there included).
    pub fn watch_since(&self, key: &str, end: &str, start_rev: u64) -> Result<Vec<(Revision, WatchEvent)>, MvccError> {
        if start_rev != 0 && self.compacted.is_some_and(|c| start_rev < c) {
            return Err(MvccError::Compacted { requested: start_rev, compacted: self.compacted_revision() });
        }
        let start = start_rev.max(1);
        let mut events = Vec::new();
        for (k, ki) in in_range(&self.index, key, end) {
            for g in &ki.generations {
                for r in &g.revs {
                    if r.main < start {
                        continue;
                    }
                    let event = match self.revs.get(r) {
                        Some(Stored::Put(kv)) => WatchEvent::Put(KeyValue::clone(kv)),
                        Some(Stored::Tombstone(_)) => WatchEvent::Delete { key: k.clone(), mod_revision: r.main },
                        None => continue,
                    };
                    events.push((*r, event));
                }
            }
        }
        crate::order::sort_by_key(&mut events, |(r, _)| (r.main, r.sub, 0));
        Ok(events)
    }

    /// Every change at revision `from` or later, in revision order, read from the backend by
    /// revision as etcd's watchers catch up (`syncWatchers` ranges the backend by revision).
    pub fn changes_from(&self, from: u64) -> impl Iterator<Item = Change<'_>> + '_ {
        let start = self.revs.0.partition_point(|(r, _)| r.main < from);
        self.revs.0.range(start..).map(|(revision, stored)| Change { revision: *revision, stored })
    }

    /// Keys with a value at the current revision, in key order, at most `limit`.
    pub fn live(&self, limit: usize) -> Vec<KeyValue> {
        self.index.keys().filter_map(|k| self.get(k)).take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, rev: u64) -> Stored {
        let value = format!("v{rev}");
        Stored::Put(Rc::new(KeyValue {
            key: key.into(),
            value,
            create_revision: rev,
            mod_revision: rev,
            version: 1,
            key_lease: None,
        }))
    }

    /// etcd's `compareInt` and `Compare_LEASE` (server/etcdserver/txn/txn.go): numeric
    /// targets compare as signed 64-bit numbers, and a key's key lease is one of them (0
    /// when it has none or is missing).
    #[test]
    fn numeric_compares_are_signed_and_a_key_lease_is_one_of_them() {
        let mut store = MvccStore::default();
        let lease = KeyLeaseId::new(7);
        store.put("a", "1", lease).unwrap();
        store.put("b", "1", None).unwrap();
        let holds = |store: &MvccStore, key: &str, target, op, operand: &str| {
            store.compare(&Compare { key: key.into(), target, op, operand: operand.into() })
        };
        assert!(holds(&store, "a", CompareTarget::Version, CompareOp::Greater, "-1"));
        assert!(holds(&store, "missing", CompareTarget::ModRevision, CompareOp::Greater, "-1"));
        assert!(holds(&store, "a", CompareTarget::KeyLease, CompareOp::Equal, "7"));
        assert!(holds(&store, "b", CompareTarget::KeyLease, CompareOp::Equal, "0"));
        assert!(holds(&store, "missing", CompareTarget::KeyLease, CompareOp::Equal, "0"));
        assert!(!holds(&store, "a", CompareTarget::KeyLease, CompareOp::Less, "x"), "not a number");
    }

    #[test]
    fn the_backend_finds_keeps_and_encodes_revisions_like_an_ordered_map() {
        let mut backend = Backend::default();
        let mut map = BTreeMap::new();
        for main in 2..8 {
            backend.push(Revision::new(main, 0), kv("a", main));
            map.insert(Revision::new(main, 0), kv("a", main));
        }
        backend.push(Revision::new(8, 0), Stored::Tombstone("a".into()));
        map.insert(Revision::new(8, 0), Stored::Tombstone("a".into()));
        let config = bincode::config::standard();
        assert_eq!(bincode::encode_to_vec(&backend, config).unwrap(), bincode::encode_to_vec(&map, config).unwrap());
        assert_eq!(backend.get(&Revision::new(5, 0)), map.get(&Revision::new(5, 0)));
        assert_eq!(backend.get(&Revision::new(5, 1)), None);
        // Before revision 6 only revision 3 is kept; 6 and later all stay.
        backend.retain_before(Revision::new(6, 0), &[Revision::new(3, 0)]);
        let left: Vec<u64> = backend.0.iter().map(|(r, _)| r.main).collect();
        assert_eq!(left, vec![3, 6, 7, 8]);
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn the_backend_refuses_a_revision_older_than_its_newest() {
        let mut backend = Backend::default();
        backend.push(Revision::new(3, 0), kv("a", 3));
        backend.push(Revision::new(2, 0), kv("b", 2));
    }
}
