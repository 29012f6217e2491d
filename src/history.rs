//! The client-side record of every operation: what was asked, at which node, when it was
//! invoked and completed (true time), and how it ended. Checkers read it from outside.

use crate::client_op::ClientOp;
use crate::event::OpOutcome;
use crate::kv::{RangeSpan, RegisterRead};
use crate::read::{ReadPath, ReadStep, ReadTrace, ReadValue, READ_TRACE_MESSAGES_MAX};
use crate::time::{LocalTime, SimTime};
use crate::types::{NodeId, OpId};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::rc::Rc;

/// Operations kept in memory; older ones are forgotten (a bound on a long run's memory).
pub const HISTORY_RETAINED_MAX: usize = 50_000;
/// The newest operations a time-travel checkpoint keeps whatever their state (see
/// [`History::thin_for_checkpoint`]); a run export is compared with its replay over these.
pub const HISTORY_CHECKPOINT_KEPT: usize = 2_000;

/// What an operation in the history was: a client's request, or a change the cluster made on
/// its own (the leader revoking an expired key lease, recorded at the entry's first apply so
/// the checker knows those keys were deleted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Client(ClientOp),
    KeyLeaseExpiry { index: u64 },
}

impl OpKind {
    /// The client's request, if a client asked.
    pub fn client(&self) -> Option<&ClientOp> {
        match self {
            OpKind::Client(op) => Some(op),
            OpKind::KeyLeaseExpiry { .. } => None,
        }
    }

    /// The registers (keys) the operation may touch, when known before it is applied.
    pub fn register_keys(&self) -> Option<Vec<&str>> {
        match self {
            OpKind::Client(op) => op.register_keys(),
            OpKind::KeyLeaseExpiry { .. } => Some(vec![]),
        }
    }

    pub fn is_read(&self) -> bool {
        self.client().is_some_and(ClientOp::is_read)
    }

    /// The key a read reads.
    pub fn read_key(&self) -> Option<&str> {
        match self {
            OpKind::Client(ClientOp::Read { key, .. }) => Some(key),
            _ => None,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            OpKind::Client(op) => op.summary(),
            OpKind::KeyLeaseExpiry { index } => format!("key lease expired: revoke (entry {index})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub id: OpId,
    pub node: NodeId,
    pub kind: OpKind,
    pub invoked_at: SimTime,
    pub completed_at: Option<SimTime>,
    pub outcome: OpOutcome,
    /// Raft index of the entry that carried a write, once applied somewhere.
    pub index: Option<u64>,
    /// True time the write's entry was first applied on any node (its effect happened by then).
    pub applied_at: Option<SimTime>,
    /// The per-key register writes the entry made when applied (ground truth for the checker;
    /// empty for a refused request).
    pub effects: Option<Vec<(String, Option<String>)>>,
    /// What a successful read returned.
    pub read: Option<Box<ReadValue>>,
    /// How a read was served (path, decisions, messages); `None` for writes. Boxed: most
    /// operations in a long run are writes, and the history is the run's largest table.
    pub trace: Option<Box<ReadTrace>>,
    /// What a transaction did, in words: the branch that ran and what its gets returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Store revision after the entry's first apply (the write's place in etcd's order);
    /// `None` until it applies or if it changed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// What a transaction's reads of the current state saw, for the checkers; `None` for other
    /// operations and for transactions without such reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn_reads: Option<Box<TxnReads>>,
}

/// A transaction's reads of the current state (see [`crate::kv::TxnOutcome::reads`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnReads {
    pub reads: Vec<RegisterRead>,
    pub ranges: Vec<RangeSpan>,
}

impl TxnReads {
    /// Key by key, what the reads saw: every value returned, and every key of `known` that a
    /// range vouched absent (a key never written can only be absent, so others are left out).
    pub fn key_reads<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> Vec<RegisterRead> {
        let mut reads = self.reads.clone();
        for key in known {
            for span in self.ranges.iter().filter(|s| s.covers(key)) {
                if !self.reads.iter().any(|r| r.revision == span.revision && r.key == key) {
                    reads.push(RegisterRead {
                        key: key.to_string(),
                        value: None,
                        mod_revision: 0,
                        revision: span.revision,
                    });
                }
            }
        }
        reads
    }
}

/// A write's first apply anywhere in the cluster, as [`History::set_applied`] records it.
pub struct AppliedWrite {
    /// Raft index of the entry that carried it.
    pub index: u64,
    /// True time of the apply.
    pub at: SimTime,
    /// Store revision after it.
    pub revision: u64,
    /// The per-key register writes it made (empty: it changed nothing).
    pub effects: Vec<(String, Option<String>)>,
    pub result: Option<crate::kv::TxnOutcome>,
}

/// Records are shared (`Rc`) so that cloning a history — every time-travel checkpoint does —
/// copies pointers, not records; a shared record is copied only when it changes.
///
/// There is a slot per operation from `first_id` to `next_id`: the slots, not the records
/// held, decide when the oldest are forgotten, so a history thinned for a checkpoint forgets
/// the same operations at the same moments as the run it was taken from.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Slot `i` holds operation `first_id + i`'s record; empty where a checkpoint dropped a
    /// finished one ([`History::thin_for_checkpoint`]).
    ops: VecDeque<Option<Rc<OpRecord>>>,
    /// Id of `ops[0]`: the oldest operation not forgotten.
    first_id: u64,
    next_id: u64,
    /// Records held (slots not empty).
    held: usize,
    /// The highest store revision written by an operation whose record is forgotten (0:
    /// none), counting one that applied only after it was forgotten: a checker that never saw
    /// those records cannot tell a read of such a write from a read of a value nobody wrote.
    forgotten_writes_through: u64,
    /// The same for the writes that applied only after their record was forgotten: the ones
    /// even a checker that saw every record before it was forgotten never learnt of.
    late_writes_through: u64,
    /// The highest revision written by a record a checkpoint dropped (it counts once such a
    /// record is forgotten; which one is, the slot no longer says).
    dropped_writes_through: u64,
}

impl History {
    pub fn new() -> History {
        History {
            ops: VecDeque::new(),
            first_id: 1,
            next_id: 1,
            held: 0,
            forgotten_writes_through: 0,
            late_writes_through: 0,
            dropped_writes_through: 0,
        }
    }

    pub fn invoke(&mut self, now: SimTime, node: NodeId, kind: OpKind) -> OpId {
        let id = OpId(self.next_id);
        if self.ops.len() == HISTORY_RETAINED_MAX {
            self.forget_oldest(1);
        }
        self.next_id += 1;
        self.held += 1;
        let read = kind.is_read();
        self.ops.push_back(Some(Rc::new(OpRecord {
            id,
            node,
            kind,
            invoked_at: now,
            completed_at: None,
            outcome: OpOutcome::Pending,
            index: None,
            applied_at: None,
            effects: None,
            read: None,
            trace: read.then(Box::default),
            result: None,
            revision: None,
            txn_reads: None,
        })));
        id
    }

    pub fn get(&self, id: OpId) -> Option<&OpRecord> {
        let i = id.0.checked_sub(self.first_id)?;
        self.ops.get(i as usize)?.as_deref()
    }

    fn get_mut(&mut self, id: OpId) -> Option<&mut OpRecord> {
        let i = id.0.checked_sub(self.first_id)?;
        self.ops.get_mut(i as usize)?.as_mut().map(Rc::make_mut)
    }

    /// Completes a pending operation; returns false if it was already complete (or forgotten).
    pub fn complete(&mut self, id: OpId, now: SimTime, outcome: OpOutcome) -> bool {
        match self.get_mut(id) {
            Some(op) if op.outcome == OpOutcome::Pending => {
                op.outcome = outcome;
                op.completed_at = Some(now);
                true
            }
            _ => false,
        }
    }

    /// Records that the write's entry `index` was applied at `now` (first time counts).
    pub fn set_applied(&mut self, id: OpId, applied: AppliedWrite) {
        if id.0 < self.first_id && !applied.effects.is_empty() {
            self.late_writes_through = self.late_writes_through.max(applied.revision);
            self.forgotten_writes_through = self.forgotten_writes_through.max(applied.revision);
        }
        if let Some(op) = self.get_mut(id) {
            if op.applied_at.is_some() {
                return;
            }
            op.index = Some(applied.index);
            op.applied_at = Some(applied.at);
            op.revision = (!applied.effects.is_empty()).then_some(applied.revision);
            op.effects = Some(applied.effects);
            if let (None, Some(outcome)) = (&op.result, applied.result) {
                op.result = Some(outcome.text);
                if !outcome.reads.is_empty() || !outcome.ranges.is_empty() {
                    op.txn_reads = Some(Box::new(TxnReads { reads: outcome.reads, ranges: outcome.ranges }));
                }
            }
        }
    }

    /// Appends a step to a read's trace.
    pub fn read_step(&mut self, id: OpId, at: SimTime, local: LocalTime, text: String) {
        if let Some(trace) = self.get_mut(id).and_then(|op| op.trace.as_mut()) {
            trace.steps.push(ReadStep { at, local, text });
        }
    }

    /// Records a state change the cluster made on its own (a key lease expiry's revoke),
    /// first applied at `now` by `node` at raft `index`: a completed write with its effects,
    /// at the store `revision` it made.
    pub fn record_internal(
        &mut self,
        now: SimTime,
        node: NodeId,
        index: u64,
        revision: u64,
        effects: Vec<(String, Option<String>)>,
    ) {
        let id = self.invoke(now, node, OpKind::KeyLeaseExpiry { index });
        if let Some(op) = self.get_mut(id) {
            op.outcome = OpOutcome::Ok { revision };
            op.completed_at = Some(now);
            op.index = Some(index);
            op.applied_at = Some(now);
            op.revision = Some(revision);
            op.effects = Some(effects);
        }
    }

    /// Records the path a read is taking while it waits.
    pub fn read_path(&mut self, id: OpId, path: ReadPath) {
        if let Some(trace) = self.get_mut(id).and_then(|op| op.trace.as_mut()) {
            trace.path = Some(path);
        }
    }

    /// Records a network message caused by a read.
    pub fn read_message(&mut self, id: OpId, message: u64) {
        if let Some(trace) = self.get_mut(id).and_then(|op| op.trace.as_mut()) {
            if trace.messages.len() < READ_TRACE_MESSAGES_MAX {
                trace.messages.push(message);
            }
        }
    }

    /// Records how a read ended: its path, read index, retries, value and revision lag.
    pub fn read_finished(
        &mut self,
        id: OpId,
        path: ReadPath,
        read_index: Option<u64>,
        retries: u32,
        answer: Option<crate::read::ReadAnswer>,
        revision_lag: Option<u64>,
    ) {
        if let Some(op) = self.get_mut(id) {
            if let Some(answer) = answer {
                // A key's value; a range's or read-only transaction's words and key reads.
                match answer.reads {
                    Some(reads) => {
                        op.result = answer.text;
                        op.txn_reads = Some(Box::new(reads));
                    }
                    None => op.read = Some(Box::new(answer.value)),
                }
            }
            if let Some(trace) = op.trace.as_mut() {
                trace.path = Some(path);
                trace.read_index = read_index;
                trace.retries = retries;
                trace.revision_lag = revision_lag;
            }
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &OpRecord> {
        self.ops.iter().flatten().map(|r| &**r)
    }

    /// The records from operation `id` on (all of them if `id` is already forgotten).
    pub fn iter_from(&self, id: OpId) -> impl Iterator<Item = &OpRecord> {
        let skip = id.0.saturating_sub(self.first_id).min(self.ops.len() as u64);
        self.ops.range(skip as usize..).flatten().map(|r| &**r)
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.held
    }

    /// Whether every operation not forgotten has its record: false in a run restored from a
    /// time-travel checkpoint until the operations it dropped are forgotten.
    pub fn is_whole(&self) -> bool {
        self.held == self.ops.len()
    }

    /// Whether it holds the record of every operation of the run: none forgotten, none dropped
    /// by a checkpoint. Only then can a checker started afresh over it see every write.
    pub fn holds_the_whole_run(&self) -> bool {
        self.first_id == 1 && self.is_whole()
    }

    /// The oldest operation id not forgotten (its record may have been thinned away).
    pub fn first_id(&self) -> OpId {
        OpId(self.first_id)
    }

    /// The id the next operation will get.
    pub fn next_id(&self) -> OpId {
        OpId(self.next_id)
    }

    /// Whether the next operation would make it forget its oldest record.
    pub fn is_full(&self) -> bool {
        self.ops.len() >= HISTORY_RETAINED_MAX
    }

    /// Forgets the `n` oldest operations.
    pub fn forget_oldest(&mut self, n: usize) {
        for _ in 0..n.min(self.ops.len()) {
            let revision = match self.ops.pop_front() {
                Some(Some(record)) => {
                    self.held -= 1;
                    record.revision.unwrap_or(0)
                }
                // A record a checkpoint dropped: any of the dropped ones may be this one.
                Some(None) => self.dropped_writes_through,
                None => 0,
            };
            self.forgotten_writes_through = self.forgotten_writes_through.max(revision);
            self.first_id += 1;
        }
    }

    /// The highest revision written by an operation whose record is forgotten (0: none).
    pub fn forgotten_writes_through(&self) -> u64 {
        self.forgotten_writes_through
    }

    /// The highest revision written by an operation that applied only after its record was
    /// forgotten (0: none).
    pub fn late_writes_through(&self) -> u64 {
        self.late_writes_through
    }

    /// The oldest of the newest [`HISTORY_CHECKPOINT_KEPT`] operations: from it on, and for
    /// the open ones, every copy of the run holds the records alike (see
    /// [`History::thin_for_checkpoint`]).
    pub fn recent_from(&self) -> OpId {
        OpId(self.next_id.saturating_sub(HISTORY_CHECKPOINT_KEPT as u64))
    }

    /// Whether `r` is recent (see [`History::recent_from`]) or still open.
    pub fn is_recent_or_open(&self, r: &OpRecord) -> bool {
        r.id >= self.recent_from() || r.outcome == OpOutcome::Pending
    }

    /// Drops the records a time-travel checkpoint can do without: finished operations older
    /// than the newest [`HISTORY_CHECKPOINT_KEPT`] that `needed` (the checker's question) does
    /// not ask for. Every checkpoint held a whole history, and at 1,000 operations a second
    /// their windows do not overlap: 33 checkpoints held 33 × 50,000 records, over a gigabyte.
    /// A run restored from a thinned checkpoint behaves as the original: a finished record is
    /// only read back for the page and the checker (who asks to keep what it has not judged).
    /// It shows fewer old operations, as its trace shows fewer old events.
    pub fn thin_for_checkpoint(&mut self, needed: impl Fn(OpId) -> bool) {
        for i in 0..self.ops.len() {
            if self.ops[i].as_ref().is_some_and(|r| !self.is_recent_or_open(r) && !needed(r.id)) {
                let revision = self.ops[i].take().and_then(|r| r.revision).unwrap_or(0);
                self.dropped_writes_through = self.dropped_writes_through.max(revision);
                self.held -= 1;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.held == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history thinned for a checkpoint answers for the records it kept as the whole one
    /// does, and forgets the same operations at the same moments, so a run restored from it
    /// evolves as the original.
    #[test]
    fn a_thinned_history_keeps_what_is_asked_and_forgets_in_step_with_the_whole_one() {
        let delete = || OpKind::Client(ClientOp::Delete { key: "k".into() });
        let mut whole = History::new();
        for i in 0..HISTORY_CHECKPOINT_KEPT as u64 + 100 {
            let id = whole.invoke(SimTime(i), NodeId(1), delete());
            // Every third operation stays open.
            if !id.0.is_multiple_of(3) {
                whole.complete(id, SimTime(i), OpOutcome::Ok { revision: id.0 });
            }
        }
        let mut thinned = whole.clone();
        thinned.thin_for_checkpoint(|op| op == OpId(50));
        let kept: Vec<u64> = thinned.iter().map(|r| r.id.0).collect();
        let newest = HISTORY_CHECKPOINT_KEPT as u64 + 100;
        let expected: Vec<u64> = (1..=newest)
            .filter(|id| id % 3 == 0 || *id == 50 || id + HISTORY_CHECKPOINT_KEPT as u64 > newest)
            .collect();
        assert_eq!(kept, expected);
        for id in [1, 3, 50, 51, 99, newest - 1, newest, newest + 1] {
            let want = whole.get(OpId(id)).filter(|r| expected.contains(&r.id.0));
            assert_eq!(thinned.get(OpId(id)), want, "op {id}");
            let from = |h: &History| {
                h.iter_from(OpId(id)).map(|r| r.id.0).filter(|i| expected.contains(i)).collect::<Vec<_>>()
            };
            assert_eq!(from(&thinned), from(&whole), "from op {id}");
        }
        assert!(
            !thinned.complete(OpId(4), SimTime(0), OpOutcome::Pending),
            "a dropped record is not there to complete"
        );
        assert!(thinned.complete(OpId(3), SimTime(9), OpOutcome::Ok { revision: 3 }));
        // Run both on past the retained maximum: the same ids are forgotten at the same time.
        for i in 0..HISTORY_RETAINED_MAX as u64 {
            for h in [&mut whole, &mut thinned] {
                if h.is_full() {
                    h.forget_oldest(1_000);
                }
                h.invoke(SimTime(i), NodeId(1), delete());
            }
            assert_eq!(thinned.first_id(), whole.first_id());
        }
        assert!(whole.first_id().0 > 1_000);
        assert_eq!(thinned.len(), whole.len(), "past the dropped records the two hold the same");
    }

    #[test]
    fn iter_from_starts_at_the_id_or_at_the_oldest_record_kept() {
        let mut h = History::new();
        for _ in 0..10 {
            h.invoke(SimTime(0), NodeId(1), OpKind::Client(ClientOp::Delete { key: "k".into() }));
        }
        h.forget_oldest(3);
        let ids = |from: u64| h.iter_from(OpId(from)).map(|r| r.id.0).collect::<Vec<_>>();
        assert_eq!(ids(6), [6, 7, 8, 9, 10]);
        assert_eq!(ids(1), [4, 5, 6, 7, 8, 9, 10], "forgotten ids start at the oldest kept");
        assert_eq!(ids(11), Vec::<u64>::new());
        assert_eq!(ids(u64::MAX), Vec::<u64>::new());
    }
}
