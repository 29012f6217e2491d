//! The revision checker: linearizability from etcd's revisions, with no search.
//!
//! etcd orders every write by its revision, and every answer says where in that order it
//! stands: a write's revision, a read's header revision and the mod revision of each key it
//! returned. Per key, that puts every operation at a **place** in one total order: a write at
//! its revision W, a read just after the write it read from (its source s: the key's mod
//! revision, or for an absent key the newest delete at or below the header revision). A
//! history is linearizable exactly when (a) each read's value is the one its source wrote and
//! (b) real time never runs against the places: if `a` returned before `b` was invoked, `a`'s
//! place is not after `b`'s. (Sorting by place, reads of one place by answer time, then gives a
//! linearization: this is the register case with a known reads-from relation and a known write
//! order, decidable without backtracking — Gibbons & Korach 1997; etcd's robustness tests and
//! Jepsen's Elle use revisions the same way.)
//!
//! (b) is checked as operations finish: for each operation `b`, the furthest place among the
//! operations that had finished before `b` began must not lie beyond `b`'s own. Which rule
//! broke says what went wrong:
//! - a write acknowledged before a read began is beyond the read's source: a **stale read**;
//! - an earlier read saw a newer write than a later read: the later read went back in time
//!   (also stale: it missed what the earlier read had already shown the world);
//! - a read saw a write that was invoked only after the read returned: a read from the future;
//! - a write acknowledged before another began got the higher revision.
//!
//! Only what the client saw matters: a write's end is its acknowledgement to the client, not
//! its first apply (a read overlapping an unacknowledged write may see either state). A write
//! whose outcome is unknown has no end, so it never precedes anything; it takes its place at
//! the revision it applied at, however late that is (there is no grace period), and one that
//! never applied takes no part. Serializable reads are excluded (allowed staleness).
//!
//! Memory is bounded: per key the newest [`WRITES_KEPT_PER_KEY`] writes and at most
//! [`FINISHED_KEPT_PER_KEY`] finished reads and writes are kept; each kept finished entry
//! carries the furthest place of everything finished before it, so forgetting old entries
//! loses no rule. In practice a key keeps far fewer finished entries: those that finished
//! before the earliest invocation still open go, but for the last of them (see
//! `Finished::insert`).

use super::{StaleRead, Verdict};
use crate::client_op::ClientOp;
use crate::event::OpOutcome;
use crate::history::{History, OpKind, OpRecord};
use crate::read::ReadMode;
use crate::time::SimTime;
use crate::types::OpId;
use fxhash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

/// Writes remembered per key, by revision (a read's source is looked up here).
pub const WRITES_KEPT_PER_KEY: usize = 4_096;
/// Finished reads and acknowledged writes remembered per key, by answer time.
pub const FINISHED_KEPT_PER_KEY: usize = 4_096;
/// Writes of unknown outcome that have not applied, watched for a late apply.
const UNRESOLVED_KEPT_MAX: usize = 4_096;
/// Verdicts kept for the newest operations (the page shows a few hundred rows); older ones are
/// folded into [`Checker::violations`]' count, so a clone (every time-travel checkpoint makes
/// one) stays small however long the run.
pub const VERDICTS_KEPT: usize = 10_000;

/// A place in one key's order: a write at its revision comes just before the reads that saw
/// it (`after_write`), and those come before the next write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    revision: u64,
    after_write: bool,
}

impl Place {
    fn write(revision: u64) -> Place {
        Place { revision, after_write: false }
    }
    fn read(source: u64) -> Place {
        Place { revision: source, after_write: true }
    }
}

/// A write as a key's log remembers it. The value is shared (`Rc`): every time-travel
/// checkpoint clones the checker, and with it thousands of writes per key.
#[derive(Clone, Debug)]
struct WriteInfo {
    op: OpId,
    value: Option<Rc<str>>,
}

/// One finished operation on a key, and the furthest place reached by it and everything
/// that finished before it.
#[derive(Clone, Copy, Debug)]
struct Finish {
    at: u64,
    place: Place,
    op: OpId,
    furthest: (Place, OpId, u64),
}

/// Finished operations of one key in answer-time order (see [`Finish`]).
#[derive(Clone, Debug, Default)]
struct Finished {
    entries: VecDeque<Finish>,
}

impl Finished {
    /// Adds an operation that finished at `at`. `horizon` is a time no operation judged from
    /// now on was invoked before (see [`Checker::update`]): entries only such operations
    /// would have needed are dropped.
    fn insert(&mut self, at: u64, place: Place, op: OpId, horizon: u64) {
        // Answers arrive almost in time order: the position is nearly always the end.
        let pos = match self.entries.back() {
            Some(last) if last.at > at => self.entries.partition_point(|f| f.at <= at),
            _ => self.entries.len(),
        };
        self.entries.insert(pos, Finish { at, place, op, furthest: (place, op, at) });
        for i in pos..self.entries.len() {
            let mut furthest = (self.entries[i].place, self.entries[i].op, self.entries[i].at);
            if i > 0 && self.entries[i - 1].furthest.0 > furthest.0 {
                furthest = self.entries[i - 1].furthest;
            }
            self.entries[i].furthest = furthest;
        }
        // Every later question asks about a time t ≥ horizon, and is answered by the last
        // entry finished before t, which carries the furthest place of all before it: of the
        // entries finished before the horizon only the last can still be that entry. Without
        // this, each key would keep thousands of entries, and every time-travel checkpoint
        // would copy them.
        while self.entries.len() > FINISHED_KEPT_PER_KEY || self.entries.get(1).is_some_and(|f| f.at < horizon) {
            self.entries.pop_front();
        }
    }

    /// The furthest place among operations that finished strictly before `t`: (place, op,
    /// when it finished).
    fn furthest_before(&self, t: u64) -> Option<(Place, OpId, u64)> {
        let pos = self.entries.partition_point(|f| f.at < t);
        pos.checked_sub(1).map(|i| self.entries[i].furthest)
    }
}

/// Everything the checker knows of one key.
#[derive(Clone, Debug, Default)]
struct KeyLog {
    writes: BTreeMap<u64, WriteInfo>,
    /// Highest revision forgotten from `writes`.
    forgotten_through: u64,
    acked_writes: Finished,
    reads: Finished,
    /// Violations found on this key (the cross-check compares keys).
    violations: usize,
}

impl KeyLog {
    fn remember_write(&mut self, revision: u64, info: WriteInfo) {
        self.writes.entry(revision).or_insert(info);
        while self.writes.len() > WRITES_KEPT_PER_KEY {
            if let Some((rev, _)) = self.writes.pop_first() {
                self.forgotten_through = self.forgotten_through.max(rev);
            }
        }
    }
}

/// A read of one key as the checker judges it: the store's own record of it.
type KeyRead = crate::kv::RegisterRead;

/// Verdicts for the newest [`VERDICTS_KEPT`] operation ids: slot `i` holds op `first + i`'s
/// verdict, empty while the op is undecided. Operation ids are dense, so a slot per id wastes
/// little, and judging costs O(1) wherever the id falls (one update judges key after key, so
/// verdicts arrive interleaved across a batch's ids).
#[derive(Clone, Debug, Default)]
struct Verdicts {
    first: u64,
    slots: VecDeque<Option<Verdict>>,
    /// Violations among verdicts no longer kept.
    forgotten_violations: usize,
}

impl Verdicts {
    fn get(&self, op: &OpId) -> Option<&Verdict> {
        self.slots.get(op.0.checked_sub(self.first)? as usize)?.as_ref()
    }
    /// The slot of `op`, made if there is none yet; `None` if `op` is already forgotten. Ids
    /// may arrive out of order (a checker started over a long run's history sees op 310,000
    /// decided before op 309,990), so the window grows at the front too until it is full. A
    /// newer id moves the window on at once, never past its size, so the deque's capacity
    /// stays that of the window.
    fn slot(&mut self, op: OpId) -> Option<&mut Option<Verdict>> {
        if self.slots.is_empty() {
            self.first = op.0;
        }
        while op.0 < self.first && self.slots.len() < VERDICTS_KEPT {
            self.first -= 1;
            self.slots.push_front(None);
        }
        while op.0 >= self.first + self.slots.len() as u64 {
            self.slots.push_back(None);
            self.forget_oldest();
        }
        self.slots.get_mut(op.0.checked_sub(self.first)? as usize)
    }
    /// Records `verdict` unless `op` already has a violation: an operation is judged per key
    /// it touched, and a violation on any key is its verdict.
    fn judge(&mut self, op: OpId, verdict: Verdict) {
        match self.slot(op) {
            Some(slot) if slot.as_ref().is_some_and(Verdict::is_violation) => {}
            Some(slot) => *slot = Some(verdict),
            // Judged after it was forgotten.
            None => self.forgotten_violations += usize::from(verdict.is_violation()),
        }
    }
    fn forget_oldest(&mut self) {
        while self.slots.len() > VERDICTS_KEPT {
            self.first += 1;
            if self.slots.pop_front().flatten().is_some_and(|v| v.is_violation()) {
                self.forgotten_violations += 1;
            }
        }
    }
    fn violations(&self) -> usize {
        self.forgotten_violations + self.slots.iter().flatten().filter(|v| v.is_violation()).count()
    }
}

/// The live checker of the simulator's history (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Checker {
    keys: KeyLogs,
    verdicts: Verdicts,
    stale: Vec<StaleRead>,
    /// Every op with id below this has been judged for good.
    cursor: u64,
    /// Ops at or past `cursor` already judged for good.
    done_ahead: BTreeSet<OpId>,
    /// Writes placed in the order (applied) whose answer has not come yet.
    placed: BTreeSet<OpId>,
    /// Writes of unknown outcome not applied so far: a late apply places them.
    unresolved: BTreeSet<OpId>,
    checked_ops: u64,
    /// The oldest operation id of the history at the first update: a checker started over a
    /// history that had already forgotten records never saw the writes they made.
    first_seen: Option<u64>,
    /// The highest revision a write this checker never saw may have made (see
    /// [`History::forgotten_writes_through`]): a read of an unknown write at or below it may
    /// have read such a write, so its value cannot be judged.
    unseen_writes_through: u64,
}

impl Checker {
    pub fn new() -> Checker {
        Checker { cursor: 1, ..Default::default() }
    }

    pub fn verdict(&self, op: OpId) -> Option<&Verdict> {
        self.verdicts.get(&op)
    }

    /// Every stale read found so far, in the order found.
    pub fn stale_reads(&self) -> &[StaleRead] {
        &self.stale
    }

    /// Operations judged not linearizable (stale reads and other violations), each counted once.
    pub fn violations(&self) -> usize {
        self.verdicts.violations()
    }

    /// Keys on which a violation was found, with how many.
    pub fn violations_by_key(&self) -> impl Iterator<Item = (&str, usize)> {
        self.keys.iter().filter(|(_, k)| k.violations > 0).map(|(key, k)| (key, k.violations))
    }

    /// Operations checked so far (reads judged and writes placed in the order).
    pub fn checked_ops(&self) -> u64 {
        self.checked_ops
    }

    /// Judges every operation that finished (or applied) since the last call.
    pub fn update(&mut self, history: &History) {
        let first_seen = *self.first_seen.get_or_insert(history.first_id().0);
        let unseen = if first_seen > 1 { history.forgotten_writes_through() } else { history.late_writes_through() };
        self.unseen_writes_through = self.unseen_writes_through.max(unseen);
        // Writes first: a read may return a write with a higher id (invoked after the read,
        // applied before it was served), and its source must be known when it is judged.
        let late: Vec<OpId> = self.unresolved.iter().copied().collect();
        // No operation judged or placed from now on was invoked before `horizon`: the
        // earliest invocation among the operations still open (later ones are invoked later
        // still).
        let mut horizon = u64::MAX;
        for r in late.iter().filter_map(|id| history.get(*id)).chain(history.iter_from(OpId(self.cursor))) {
            horizon = horizon.min(r.invoked_at.0);
            self.remember_writes(r);
        }
        for id in late {
            match history.get(id) {
                Some(r) if r.revision.is_some() => {
                    self.unresolved.remove(&id);
                    self.place_write(r);
                    self.verdicts.judge(id, Verdict::Linearizable);
                }
                Some(r) if r.applied_at.is_some() => {
                    self.unresolved.remove(&id);
                    self.verdicts.judge(id, Verdict::NotChecked { reason: "changed no key".into() });
                }
                Some(_) => {}
                None => {
                    self.unresolved.remove(&id);
                }
            }
        }
        let mut new_cursor: Option<u64> = None;
        for r in history.iter_from(OpId(self.cursor)) {
            if self.done_ahead.contains(&r.id) {
                continue;
            }
            if self.judge(r, horizon) {
                if new_cursor.is_none() && r.id.0 == self.cursor {
                    // Everything before it is judged for good: the cursor moves on at once.
                    self.cursor += 1;
                } else {
                    self.done_ahead.insert(r.id);
                }
            } else {
                new_cursor.get_or_insert(r.id.0);
            }
        }
        let target = new_cursor.unwrap_or(u64::MAX);
        while self.cursor < target && self.done_ahead.remove(&OpId(self.cursor)) {
            self.cursor += 1;
        }
        // A history that forgot records the cursor still points at moves the cursor on.
        while self.cursor < history.first_id().0 {
            self.done_ahead.remove(&OpId(self.cursor));
            self.placed.remove(&OpId(self.cursor));
            self.cursor += 1;
        }
    }

    /// Whether the checker may still read `op`'s record: not yet judged for good, or a write
    /// of unknown outcome watched for a late apply. A time-travel checkpoint keeps those.
    pub fn needs_record(&self, op: OpId) -> bool {
        op.0 >= self.cursor || self.unresolved.contains(&op)
    }

    /// Registers the register writes of an applied operation at its revision.
    fn remember_writes(&mut self, r: &OpRecord) {
        let (Some(revision), Some(effects)) = (r.revision, &r.effects) else { return };
        for (key, value) in last_effect_per_key(effects) {
            let info = WriteInfo { op: r.id, value: value.as_deref().map(Rc::from) };
            self.keys.log(key).remember_write(revision, info);
        }
    }

    /// Judges `r` if it can be: true when its verdict is final. `horizon`: see [`Checker::update`].
    fn judge(&mut self, r: &OpRecord, horizon: u64) -> bool {
        let id = r.id;
        match (&r.kind, &r.outcome) {
            (OpKind::Client(op), OpOutcome::Pending) if op.is_read() => false,
            (_, OpOutcome::Pending) => {
                // A write still waiting for its answer takes its place once applied.
                if r.revision.is_some() && self.placed.insert(id) {
                    self.place_write(r);
                    self.verdicts.judge(id, Verdict::Linearizable);
                }
                false
            }
            (
                OpKind::Client(
                    ClientOp::Read { mode: ReadMode::Serializable, .. }
                    | ClientOp::Range { mode: ReadMode::Serializable, .. },
                ),
                OpOutcome::Ok { .. },
            ) => {
                let lag = r.trace.as_ref().and_then(|t| t.revision_lag).unwrap_or(0);
                self.verdicts.judge(id, Verdict::AllowedStaleness { lag });
                true
            }
            (OpKind::Client(ClientOp::Read { key, .. }), OpOutcome::Ok { .. }) => {
                let Some(seen) = r.read.as_deref() else {
                    self.verdicts.judge(id, Verdict::NotChecked { reason: "no value recorded".into() });
                    return true;
                };
                let read = KeyRead {
                    key: key.clone(),
                    value: seen.value.clone(),
                    mod_revision: seen.mod_revision,
                    revision: seen.revision,
                };
                let ret = r.completed_at.map_or(r.invoked_at.0, |t| t.0);
                self.judge_read(id, read, r.invoked_at.0, ret, horizon);
                true
            }
            (_, OpOutcome::Failed { reason }) => {
                self.verdicts.judge(id, Verdict::NotChecked { reason: format!("failed: {reason}") });
                true
            }
            (OpKind::Client(ClientOp::Read { .. }), OpOutcome::Indeterminate { reason }) => {
                self.verdicts.judge(id, Verdict::NotChecked { reason: reason.clone() });
                true
            }
            (_, OpOutcome::Indeterminate { .. }) => {
                if r.revision.is_none() {
                    if r.applied_at.is_some() {
                        self.verdicts.judge(id, Verdict::NotChecked { reason: "changed no key".into() });
                    } else {
                        // It may still apply: watch for that, and judge it then.
                        self.verdicts.judge(
                            id,
                            Verdict::NotChecked { reason: "outcome unknown and not applied (so far)".into() },
                        );
                        self.unresolved.insert(id);
                        while self.unresolved.len() > UNRESOLVED_KEPT_MAX {
                            self.unresolved.pop_first();
                        }
                    }
                } else if !self.placed.remove(&id) {
                    self.place_write(r);
                    self.verdicts.judge(id, Verdict::Linearizable);
                }
                true
            }
            (_, OpOutcome::Ok { .. }) => {
                let ret = r.completed_at.map_or(r.invoked_at.0, |t| t.0);
                let mut judged = false;
                if let Some(revision) = r.revision {
                    if !self.placed.remove(&id) {
                        self.place_write(r);
                    }
                    for (key, _) in last_effect_per_key(r.effects.as_deref().unwrap_or_default()) {
                        self.keys.log(key).acked_writes.insert(ret, Place::write(revision), id, horizon);
                    }
                    self.verdicts.judge(id, Verdict::Linearizable);
                    judged = true;
                }
                if let Some(txn) = r.txn_reads.as_deref() {
                    for read in txn.key_reads(self.keys.names()) {
                        self.judge_read(id, read, r.invoked_at.0, ret, horizon);
                    }
                    judged = true;
                }
                if !judged {
                    self.verdicts.judge(id, Verdict::NotChecked { reason: "changed no key".into() });
                }
                true
            }
        }
    }

    /// Puts an applied write at its revision on each key it wrote, checking real time against
    /// what had finished before it was invoked.
    fn place_write(&mut self, r: &OpRecord) {
        let Some(revision) = r.revision else { return };
        self.checked_ops += 1;
        let invoke = r.invoked_at.0;
        for (key, _) in last_effect_per_key(r.effects.as_deref().unwrap_or_default()) {
            let log = self.keys.log(key);
            if let Some((place, read, _)) = log.reads.furthest_before(invoke) {
                if place >= Place::read(revision) {
                    // That read saw this write's revision (or a later one) before it was sent.
                    log.violations += 1;
                    let note = format!(
                        "read from the future: it saw {key} at revision {}, but {} (revision {revision}) was invoked only after it returned",
                        place.revision, r.id
                    );
                    self.verdicts.judge(read, Verdict::Violation { note });
                }
            }
            if let Some((place, write, _)) = log.acked_writes.furthest_before(invoke) {
                if place > Place::write(revision) {
                    log.violations += 1;
                    let note = format!(
                        "{write} was acknowledged at revision {} before this write began, yet this one got revision {revision}",
                        place.revision
                    );
                    self.verdicts.judge(r.id, Verdict::Violation { note });
                }
            }
        }
    }

    /// Judges one key of a read: its value against the write order, then real time.
    fn judge_read(&mut self, id: OpId, read: KeyRead, invoke: u64, ret: u64, horizon: u64) {
        self.checked_ops += 1;
        let log = self.keys.log(&read.key);
        let (source, mismatch) = source_of(log, &read, self.unseen_writes_through);
        let Some(source) = source else {
            let reason = "it read the key absent, and a delete older than the history checked may be what it read";
            self.verdicts.judge(id, Verdict::NotChecked { reason: reason.into() });
            return;
        };
        let verdict = if let Some(note) = mismatch {
            Verdict::Violation { note }
        } else if let Some(stale) = stale_against(log, &read, source, id, invoke) {
            self.stale.push(stale.clone());
            Verdict::Stale(Box::new(stale))
        } else {
            Verdict::Linearizable
        };
        if verdict.is_violation() {
            log.violations += 1;
        }
        log.reads.insert(ret, Place::read(source), id, horizon);
        self.verdicts.judge(id, verdict);
    }
}

/// An operation's final write to each key (a transaction may write a key twice), in key
/// order. Nearly every operation writes one key: that case allocates nothing.
fn last_effect_per_key(effects: &[(String, Option<String>)]) -> LastEffects<'_> {
    match effects {
        [] => LastEffects::One(None),
        [(k, v)] => LastEffects::One(Some((k.as_str(), v))),
        _ => {
            // Inserted one by one (a later write replaces an earlier one): collecting into a
            // map would compile a sort for it into the page.
            let mut last = BTreeMap::new();
            for (k, v) in effects {
                last.insert(k.as_str(), v);
            }
            LastEffects::Many(last.into_iter())
        }
    }
}

/// What [`last_effect_per_key`] returns.
enum LastEffects<'a> {
    One(Option<(&'a str, &'a Option<String>)>),
    Many(std::collections::btree_map::IntoIter<&'a str, &'a Option<String>>),
}

impl<'a> Iterator for LastEffects<'a> {
    type Item = (&'a str, &'a Option<String>);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            LastEffects::One(one) => one.take(),
            LastEffects::Many(many) => many.next(),
        }
    }
}

/// Every key's log: found by hashing (the checker looks a key up several times for every
/// operation it judges, and an ordered map's string comparisons cost the most of that), and
/// listed in key order.
#[derive(Clone, Debug, Default)]
struct KeyLogs {
    logs: FxHashMap<String, KeyLog>,
    names: BTreeSet<String>,
}

impl KeyLogs {
    /// The log of `key`, made if there is none (the key's string is copied only then).
    fn log(&mut self, key: &str) -> &mut KeyLog {
        if !self.logs.contains_key(key) {
            self.logs.insert(key.to_string(), KeyLog::default());
            self.names.insert(key.to_string());
        }
        self.logs.get_mut(key).expect("just made")
    }

    /// Every key with a log, in key order.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Every key and its log, in key order.
    fn iter(&self) -> impl Iterator<Item = (&str, &KeyLog)> {
        self.names.iter().map(|name| (name.as_str(), &self.logs[name]))
    }
}

/// The revision of the write a read saw on its key, and why its value cannot be right, if it
/// cannot. `unseen_through`: the highest revision a write the checker never saw may have
/// (see [`Checker::update`]); only what no such write can explain is a violation.
fn source_of(log: &KeyLog, read: &KeyRead, unseen_through: u64) -> (Option<u64>, Option<String>) {
    let latest = log.writes.range(..=read.revision).next_back();
    let show = |v: &Option<Rc<str>>| v.as_deref().unwrap_or("(absent)").to_string();
    match &read.value {
        Some(value) => {
            let source = read.mod_revision;
            match log.writes.get(&source) {
                Some(w) if w.value.as_deref() != Some(value.as_str()) => (
                    Some(source),
                    Some(format!(
                        "returned {}={value} from revision {source}, but {} wrote {} there",
                        read.key,
                        w.op,
                        show(&w.value)
                    )),
                ),
                None if source > log.forgotten_through.max(unseen_through) => (
                    Some(source),
                    Some(format!("returned {}={value} from revision {source}, where no write of it is known", read.key)),
                ),
                _ => match latest {
                    Some((rev, w)) if *rev > source => (
                        Some(source),
                        Some(format!(
                            "returned {}={value} from revision {source}, but {} wrote {} at revision {rev}, before the read's revision {}",
                            read.key,
                            w.op,
                            show(&w.value),
                            read.revision
                        )),
                    ),
                    _ => (Some(source), None),
                },
            }
        }
        None => {
            let unseen = log.forgotten_through.max(unseen_through);
            match latest {
                Some((rev, w)) if *rev >= unseen => match &w.value {
                    Some(_) => (
                        Some(*rev),
                        Some(format!(
                            "returned {} absent at revision {}, but {} wrote {} at revision {rev}",
                            read.key,
                            read.revision,
                            w.op,
                            show(&w.value)
                        )),
                    ),
                    None => (Some(*rev), None),
                },
                // A delete the checker never saw (forgotten, or older than the writes kept for
                // the key) may be what it read: where the read stands is not known.
                _ if unseen > 0 => (None, None),
                _ => (Some(0), None),
            }
        }
    }
}

/// Whether a read whose source is `source` went back behind something that had finished
/// before it began: an acknowledged write, or what an earlier read had already returned.
fn stale_against(log: &KeyLog, read: &KeyRead, source: u64, id: OpId, invoke: u64) -> Option<StaleRead> {
    let base = |missed: OpId, missed_value: Option<String>, at: u64, seen_by: Option<OpId>| StaleRead {
        read: id,
        key: read.key.to_string(),
        returned: read.value.clone(),
        missed,
        missed_value,
        missed_done_at: SimTime(at),
        read_invoked_at: SimTime(invoke),
        seen_by,
    };
    if let Some((place, write, at)) = log.acked_writes.furthest_before(invoke) {
        if place > Place::read(source) {
            let value = log.writes.get(&place.revision).and_then(|w| w.value.as_deref().map(str::to_string));
            return Some(base(write, value, at, None));
        }
    }
    if let Some((place, earlier, at)) = log.reads.furthest_before(invoke) {
        if place > Place::read(source) {
            let (write, value) = log
                .writes
                .get(&place.revision)
                .map_or((OpId(0), None), |w| (w.op, w.value.as_deref().map(str::to_string)));
            return Some(base(write, value, at, Some(earlier)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::ReadValue;
    use crate::types::NodeId;

    /// A hand-made history: each call adds one operation with its times and revisions.
    struct Script {
        h: History,
    }

    impl Script {
        fn new() -> Script {
            Script { h: History::new() }
        }
        /// A put acknowledged at `ret` (None: outcome unknown), applied at `rev` (None: never).
        fn put(&mut self, key: &str, value: &str, invoke: u64, ret: Option<u64>, rev: Option<u64>) -> OpId {
            let id = self.h.invoke(
                SimTime(invoke),
                NodeId(1),
                OpKind::Client(ClientOp::Put { key: key.into(), value: value.into(), key_lease: None }),
            );
            if let Some(rev) = rev {
                self.apply(id, vec![(key.to_string(), Some(value.to_string()))], rev, ret.unwrap_or(invoke));
            }
            match ret {
                Some(t) => self.h.complete(id, SimTime(t), OpOutcome::Ok { revision: rev.unwrap_or(0) }),
                None => self.h.complete(id, SimTime(invoke + 1), OpOutcome::Indeterminate { reason: "timeout".into() }),
            };
            id
        }
        /// Operation `id`'s entry applied at `at`, making store revision `rev` with `effects`.
        fn apply(&mut self, id: OpId, effects: Vec<(String, Option<String>)>, rev: u64, at: u64) {
            let write =
                crate::history::AppliedWrite { index: rev, at: SimTime(at), revision: rev, effects, result: None };
            self.h.set_applied(id, write);
        }
        /// A delete of `key` acknowledged at `ret`, applied at `rev`.
        fn delete(&mut self, key: &str, invoke: u64, ret: u64, rev: u64) -> OpId {
            let id = self.h.invoke(SimTime(invoke), NodeId(1), OpKind::Client(ClientOp::Delete { key: key.into() }));
            self.apply(id, vec![(key.to_string(), None)], rev, ret);
            self.h.complete(id, SimTime(ret), OpOutcome::Ok { revision: rev });
            id
        }
        /// A linearizable read of `key` answered at `ret` from revision `rev`, returning
        /// `value` written at `mod_rev`.
        fn read(&mut self, key: &str, value: Option<&str>, mod_rev: u64, rev: u64, invoke: u64, ret: u64) -> OpId {
            let kind = OpKind::Client(ClientOp::Read { key: key.into(), mode: ReadMode::Linearizable });
            let id = self.h.invoke(SimTime(invoke), NodeId(1), kind);
            let seen = ReadValue { value: value.map(Into::into), mod_revision: mod_rev, revision: rev };
            self.h.read_finished(id, crate::read::ReadPath::LeaseRead, None, 0, Some(seen.into()), None);
            self.h.complete(id, SimTime(ret), OpOutcome::Ok { revision: rev });
            id
        }
        fn check(&self) -> Checker {
            let mut c = Checker::new();
            c.update(&self.h);
            c
        }
    }

    fn verdict(c: &Checker, op: OpId) -> Verdict {
        c.verdict(op).cloned().unwrap_or(Verdict::NotChecked { reason: "no verdict".into() })
    }

    #[test]
    fn sequential_reads_of_the_latest_write_are_linearizable() {
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        let r1 = s.read("k", Some("a"), 2, 2, 20, 30);
        s.put("k", "b", 40, Some(50), Some(3));
        let r2 = s.read("k", Some("b"), 3, 3, 60, 70);
        let c = s.check();
        assert_eq!((verdict(&c, r1), verdict(&c, r2)), (Verdict::Linearizable, Verdict::Linearizable));
        assert_eq!(c.violations(), 0);
        assert_eq!(c.checked_ops(), 4);
    }

    #[test]
    fn a_read_that_misses_an_acknowledged_write_is_stale_and_names_it() {
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        let b = s.put("k", "b", 20, Some(30), Some(3));
        let r = s.read("k", Some("a"), 2, 2, 40, 50);
        let c = s.check();
        match verdict(&c, r) {
            Verdict::Stale(st) => {
                assert_eq!((st.missed, st.missed_value.as_deref(), st.returned.as_deref()), (b, Some("b"), Some("a")));
                assert_eq!((st.missed_done_at, st.seen_by), (SimTime(30), None));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.violations(), 1, "one stale read is one violation, not its whole group");
    }

    #[test]
    fn a_read_overlapping_an_unacknowledged_write_may_see_the_old_value() {
        // The write applied at 5 ms but was acknowledged to its client (through a follower)
        // only at 59 ms: reads invoked in between overlap it and may return the old value.
        let mut s = Script::new();
        s.put("x", "1", 0, Some(1), Some(2));
        let h = &mut s.h;
        let w = h.invoke(
            SimTime(2),
            NodeId(2),
            OpKind::Client(ClientOp::Put { key: "x".into(), value: "2".into(), key_lease: None }),
        );
        let effects = vec![("x".to_string(), Some("2".to_string()))];
        h.set_applied(w, crate::history::AppliedWrite { index: 3, at: SimTime(5), revision: 3, effects, result: None });
        let reads: Vec<OpId> = [10, 30, 55].iter().map(|t| s.read("x", Some("1"), 2, 2, *t, t + 2)).collect();
        s.h.complete(w, SimTime(59), OpOutcome::Ok { revision: 3 });
        let after = s.read("x", Some("1"), 2, 2, 60, 62);
        let c = s.check();
        for r in reads {
            assert_eq!(verdict(&c, r), Verdict::Linearizable, "{r} overlaps the write");
        }
        assert!(matches!(verdict(&c, after), Verdict::Stale(_)), "invoked after the acknowledgement");
    }

    #[test]
    fn a_read_going_back_behind_an_earlier_read_is_stale() {
        // The write of b is never acknowledged, but a read already returned it: a later read
        // of the older a went back in time.
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        let b = s.put("k", "b", 20, None, Some(3));
        let r1 = s.read("k", Some("b"), 3, 3, 30, 40);
        let r2 = s.read("k", Some("a"), 2, 2, 50, 60);
        let c = s.check();
        assert_eq!(verdict(&c, r1), Verdict::Linearizable);
        match verdict(&c, r2) {
            Verdict::Stale(st) => assert_eq!((st.missed, st.seen_by), (b, Some(r1))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_write_that_commits_after_a_minute_is_judged_by_its_revision() {
        // Unknown outcome (timed out), applied 60 s later; a read then returns it.
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        let late = s.h.invoke(
            SimTime(20),
            NodeId(1),
            OpKind::Client(ClientOp::Put { key: "k".into(), value: "b".into(), key_lease: None }),
        );
        s.h.complete(late, SimTime(5_000), OpOutcome::Indeterminate { reason: "timeout".into() });
        let mut c = Checker::new();
        c.update(&s.h);
        assert!(matches!(verdict(&c, late), Verdict::NotChecked { .. }));
        let effects = vec![("k".to_string(), Some("b".to_string()))];
        let write =
            crate::history::AppliedWrite { index: 3, at: SimTime(60_000_020), revision: 3, effects, result: None };
        s.h.set_applied(late, write);
        let r = s.read("k", Some("b"), 3, 3, 60_000_100, 60_000_200);
        c.update(&s.h);
        assert_eq!(verdict(&c, r), Verdict::Linearizable);
        assert_eq!(verdict(&c, late), Verdict::Linearizable, "placed once it applied");
        assert_eq!(c.violations(), 0);
    }

    #[test]
    fn a_read_from_the_future_is_a_violation() {
        let mut s = Script::new();
        let r = s.read("k", Some("a"), 2, 2, 0, 10);
        s.put("k", "a", 20, Some(30), Some(2));
        let c = s.check();
        assert!(matches!(verdict(&c, r), Verdict::Violation { .. }), "{:?}", verdict(&c, r));
    }

    #[test]
    fn a_value_the_revision_did_not_write_is_a_violation() {
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        let r = s.read("k", Some("zzz"), 2, 2, 20, 30);
        let absent = s.read("k", None, 0, 2, 40, 50);
        let c = s.check();
        assert!(matches!(verdict(&c, r), Verdict::Violation { .. }));
        assert!(matches!(verdict(&c, absent), Verdict::Violation { .. }));
    }

    #[test]
    fn a_read_of_the_initial_absence_is_fine_until_a_write_is_acknowledged() {
        let mut s = Script::new();
        let r1 = s.read("k", None, 0, 1, 0, 5);
        s.put("k", "a", 10, Some(20), Some(2));
        let r2 = s.read("k", None, 0, 1, 30, 40);
        let c = s.check();
        assert_eq!(verdict(&c, r1), Verdict::Linearizable);
        assert!(matches!(verdict(&c, r2), Verdict::Stale(_)));
    }

    /// A checker started over a history that had already forgotten its oldest records never
    /// saw the writes they made: reading one of them is no violation, an absence a forgotten
    /// delete may explain is not judged, and what no forgotten write can explain still is.
    #[test]
    fn a_checker_over_a_history_that_forgot_its_start_judges_only_what_it_can() {
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        s.delete("k", 11, 15, 3);
        let seen_a = s.read("k", Some("a"), 2, 2, 12, 18);
        let absent = s.read("k", None, 0, 3, 30, 35);
        let bogus = s.read("k", Some("z"), 9, 9, 40, 45);
        let whole = s.check();
        assert_eq!(verdict(&whole, seen_a), Verdict::Linearizable);
        assert_eq!(verdict(&whole, absent), Verdict::Linearizable);
        assert!(verdict(&whole, bogus).is_violation());

        s.h.forget_oldest(2);
        assert_eq!(s.h.forgotten_writes_through(), 3);
        let fresh = s.check();
        assert_eq!(verdict(&fresh, seen_a), Verdict::Linearizable, "it read a forgotten write");
        assert!(matches!(verdict(&fresh, absent), Verdict::NotChecked { .. }), "{:?}", verdict(&fresh, absent));
        assert!(verdict(&fresh, bogus).is_violation(), "no forgotten write is at revision 9");
        assert_eq!(fresh.violations(), 1);
    }

    /// A write forgotten before it applied, then applied (an answer lost, the entry committed
    /// much later): a live checker never learns of it, and a read of its value is no violation.
    #[test]
    fn a_write_applied_after_its_record_was_forgotten_is_no_unknown_write() {
        let mut s = Script::new();
        let late = s.put("k", "late", 0, None, None);
        let mut live = Checker::new();
        live.update(&s.h);
        s.h.forget_oldest(1);
        s.apply(late, vec![("k".to_string(), Some("late".to_string()))], 5, 50);
        assert_eq!(s.h.late_writes_through(), 5);
        let read = s.read("k", Some("late"), 5, 5, 60, 65);
        live.update(&s.h);
        assert_eq!(verdict(&live, read), Verdict::Linearizable);
        assert_eq!(live.violations(), 0);
    }

    /// A write of unknown outcome that applies late but changes nothing (a transaction whose
    /// compare failed) is no longer said to be "not applied".
    #[test]
    fn a_late_apply_that_changed_nothing_is_said_so() {
        let mut s = Script::new();
        let op = s.put("k", "v", 0, None, None);
        let mut c = Checker::new();
        c.update(&s.h);
        let reason = |c: &Checker| match verdict(c, op) {
            Verdict::NotChecked { reason } => reason,
            v => panic!("{v:?}"),
        };
        assert_eq!(reason(&c), "outcome unknown and not applied (so far)");
        s.apply(op, vec![], 3, 40);
        c.update(&s.h);
        assert_eq!(reason(&c), "changed no key");
        assert!(!c.needs_record(op), "it is judged for good");
    }

    #[test]
    fn a_read_of_another_key_at_an_older_revision_is_not_stale() {
        // Per key: a write to j does not make an older snapshot of k stale.
        let mut s = Script::new();
        s.put("k", "a", 0, Some(10), Some(2));
        s.put("j", "x", 20, Some(30), Some(3));
        let r = s.read("k", Some("a"), 2, 2, 40, 50);
        assert_eq!(verdict(&s.check(), r), Verdict::Linearizable);
    }

    #[test]
    fn finished_entries_remember_the_furthest_place_before_them() {
        let mut f = Finished::default();
        f.insert(30, Place::write(5), OpId(1), 0);
        f.insert(10, Place::write(2), OpId(2), 0);
        f.insert(20, Place::write(9), OpId(3), 0);
        assert_eq!(f.furthest_before(10), None);
        assert_eq!(f.furthest_before(11).map(|x| x.1), Some(OpId(2)));
        assert_eq!(f.furthest_before(31).map(|x| x.1), Some(OpId(3)), "out-of-order insert updates later entries");
        for i in 0..(FINISHED_KEPT_PER_KEY as u64 + 10) {
            f.insert(100 + i, Place::write(1), OpId(10 + i), 0);
        }
        assert_eq!(f.entries.len(), FINISHED_KEPT_PER_KEY);
        assert_eq!(f.furthest_before(u64::MAX).map(|x| x.0), Some(Place::write(9)), "forgotten entries still count");
    }

    #[test]
    fn entries_before_the_horizon_are_dropped_without_changing_any_answer_after_it() {
        // Operations finish out of order, as a cluster's answers do; the horizon (the earliest
        // invocation still open) creeps forward. Every question asked at or after the horizon
        // must get the answer the full log gives.
        let (mut full, mut kept) = (Finished::default(), Finished::default());
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let mut horizon = 0;
        for i in 0..3_000u64 {
            horizon += next(3);
            let at = horizon + next(40);
            let place = Place { revision: next(500), after_write: next(2) == 0 };
            full.insert(at, place, OpId(i), 0);
            kept.insert(at, place, OpId(i), horizon);
            for t in [horizon, horizon + 1, horizon + next(60), u64::MAX] {
                let (a, b) = (full.furthest_before(t), kept.furthest_before(t));
                assert_eq!(a.map(|x| (x.0, x.1, x.2)), b.map(|x| (x.0, x.1, x.2)), "t={t} horizon={horizon}");
            }
        }
        assert!(kept.entries.len() < 60, "{} entries kept of {}", kept.entries.len(), full.entries.len());
    }

    #[test]
    fn verdicts_arriving_out_of_id_order_are_kept_and_the_oldest_forgotten_first() {
        let mut v = Verdicts::default();
        let n = VERDICTS_KEPT as u64 + 100;
        v.judge(OpId(1), Verdict::Violation { note: "x".into() });
        v.judge(OpId(1), Verdict::Linearizable); // a violation on any key stays
        assert!(v.get(&OpId(1)).is_some_and(Verdict::is_violation));
        for first in [1, 2] {
            for id in (first..=n).step_by(2) {
                v.judge(OpId(id), Verdict::Linearizable);
                assert!(v.slots.len() <= VERDICTS_KEPT, "the window moves, never grows past its size");
            }
        }
        assert!(v.slots.capacity() < 2 * VERDICTS_KEPT);
        assert_eq!(v.get(&OpId(100)), None);
        assert_eq!(v.get(&OpId(101)), Some(&Verdict::Linearizable));
        assert_eq!(v.violations(), 1, "the forgotten violation of op 1 still counts");
        v.judge(OpId(50), Verdict::Violation { note: "z".into() });
        assert_eq!(v.get(&OpId(50)), None, "a forgotten op stays forgotten");
        assert_eq!(v.violations(), 2, "but its late violation counts");
    }
}
