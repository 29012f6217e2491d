//! The model checker: is there an order of the operations, respecting real time, in which a
//! register with compare-and-set gives every answer that was seen? For histories that carry
//! no revisions — Jepsen's logs of etcd, and this simulator's own histories with the
//! revisions stripped (to check the revision checker).
//!
//! The search is the just-in-time linearization of Wing & Gong (1993) and Lowe (2017), as
//! Porcupine implements it, with Horn & Kroening's P-compositionality: the history is split
//! per key (a register per key is linearizable exactly when each key is), and a depth-first
//! search builds an order one operation at a time. At each point the candidates are the
//! unplaced operations invoked before the earliest unplaced one is due (its return); if none
//! of them leads anywhere, the search backtracks. A cache of (set of operations placed,
//! register value) — the set hashed incrementally (Zobrist) — keeps it from exploring the same
//! situation twice. Four reductions keep real histories small, none of which changes the
//! answer (each is argued where it is made):
//! - candidates are tried earliest-due first, and an enabled read is placed at once, with no
//!   alternative;
//! - a branch stops as soon as the register leaves a value an unplaced read still needs and
//!   nothing left can write it again;
//! - values no operation ever tests are one value to the search, and of candidates that do
//!   the same thing only the one due first is tried (a burst of writes queued behind an
//!   election no longer means every subset of the burst);
//! - an unknown write is offered only right before an observer of its value, and dropped at
//!   the last observer's return.
//!
//! An operation of unknown outcome (a timeout, Jepsen's `:info`) may take effect at any time
//! after its invocation, or never. One that can change nothing (a read whose answer was lost)
//! is dropped; so is an unknown write of a value nothing else ever mentions, when no operation
//! on the key observes a value by inequality (a failed compare-and-set): no answer can depend
//! on it. With such an inequality on the key, unknown writes stay open to the end, as in
//! Porcupine.
//!
//! It never passes off a search it did not finish: past [`Limits`] it tries to refute the
//! key with fewer of its reads ([`refute_with_fewer_reads`]), and failing that the answer is
//! [`Outcome::Unknown`], with why.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A register's content: a value, or absent (`None`).
pub type Value = Option<String>;

/// A condition an operation observed about the register at its linearization point.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cond {
    /// The register held this (a read's answer; a successful compare-and-set's compare).
    Eq(Value),
    /// The register did not hold this (a compare-and-set that answered false).
    Ne(Value),
}

/// What an operation did to the register at its linearization point.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Keep,
    Set(Value),
    /// A compare-and-set whose answer is unknown: sets `to` only if the register held `from`.
    SetIf {
        from: Value,
        to: Value,
    },
}

/// One client operation on one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The caller's name for it (an operation id, a line number).
    pub id: u64,
    /// Who issued it (a Jepsen process, a node).
    pub client: u64,
    pub key: String,
    pub conds: Vec<Cond>,
    pub effect: Effect,
    pub invoke: u64,
    /// `None`: outcome unknown — it may take effect any time after `invoke`, or never.
    pub ret: Option<u64>,
}

impl Operation {
    /// A read that returned `value`.
    pub fn read(id: u64, key: &str, value: Value, invoke: u64, ret: u64) -> Operation {
        Operation::new(id, key, vec![Cond::Eq(value)], Effect::Keep, invoke, Some(ret))
    }
    /// A write of `value` (`ret` None: outcome unknown).
    pub fn write(id: u64, key: &str, value: Value, invoke: u64, ret: Option<u64>) -> Operation {
        Operation::new(id, key, vec![], Effect::Set(value), invoke, ret)
    }
    fn new(id: u64, key: &str, conds: Vec<Cond>, effect: Effect, invoke: u64, ret: Option<u64>) -> Operation {
        Operation { id, client: 0, key: key.to_string(), conds, effect, invoke, ret }
    }

    /// In words, as a counterexample lists it: "read → 3", "cas 3→0 ok", "write 4 (outcome unknown)".
    pub fn describe(&self) -> String {
        let show = |v: &Value| v.clone().unwrap_or_else(|| "nil".into());
        let mut text = match (&self.conds[..], &self.effect) {
            ([Cond::Eq(v)], Effect::Keep) => format!("read → {}", show(v)),
            ([Cond::Ne(v)], Effect::Keep) => format!("cas from {} → failed", show(v)),
            ([], Effect::Set(v)) => format!("write {}", show(v)),
            ([Cond::Eq(a)], Effect::Set(b)) => format!("cas {}→{} ok", show(a), show(b)),
            (_, Effect::SetIf { from, to }) => format!("cas {}→{}", show(from), show(to)),
            (conds, effect) => format!("{conds:?} then {effect:?}"),
        };
        if !self.key.is_empty() {
            text = format!("{}: {text}", self.key);
        }
        match self.ret {
            Some(ret) => format!("{text} [{}, {ret}]", self.invoke),
            None => format!("{text} [{}, outcome unknown]", self.invoke),
        }
    }
}

/// How far the search may go before it answers [`Outcome::Unknown`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Search steps per key.
    pub steps_max: u64,
    /// Bytes the cache of visited situations may hold per key.
    pub cache_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { steps_max: 200_000_000, cache_bytes_max: 1 << 30 }
    }
}

/// The checker's answer for a history or one key of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Linearizable,
    NotLinearizable(Counterexample),
    /// The search stopped at a limit: no verdict (and never a pass).
    Unknown {
        reason: String,
    },
}

impl Outcome {
    /// The answer in words.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Linearizable => "linearizable",
            Outcome::NotLinearizable(_) => "not linearizable",
            Outcome::Unknown { .. } => "unknown",
        }
    }
}

/// Where the search got stuck: the longest order it found and the operation that could not
/// be placed after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    pub key: String,
    /// Operations of the key, and how many the longest order found placed.
    pub total: usize,
    pub placed: usize,
    /// The register's content after that order.
    pub value: Value,
    /// The operation whose return came with no order able to place it (index into the
    /// checked slice), and the others still unplaced that overlapped it.
    pub stuck: usize,
    pub overlapping: Vec<usize>,
    /// Reads of the key, and conditions of its writes, left out of the search (see
    /// [`refute_with_fewer_reads`]): both 0 when the key's operations were searched as they are.
    pub reads_set_aside: usize,
    pub conditions_set_aside: usize,
}

impl Counterexample {
    /// The counterexample in words, naming operations as `ops` describes them.
    pub fn describe(&self, ops: &[Operation]) -> String {
        let show = |v: &Value| v.clone().unwrap_or_else(|| "nil".into());
        let register = if self.key.is_empty() { "the register".to_string() } else { format!("key {:?}", self.key) };
        let mut text = format!(
            "{register}: not linearizable. The longest order found places {} of {} operations and leaves {}; \
             then no order can place #{} {} before it returned",
            self.placed,
            self.total,
            show(&self.value),
            ops[self.stuck].id,
            ops[self.stuck].describe()
        );
        if self.reads_set_aside + self.conditions_set_aside > 0 {
            text.push_str(&format!(
                " (found with {} reads and failed compare-and-sets set aside and the conditions of {} writes \
                 dropped: if that has no order, neither has the whole)",
                self.reads_set_aside, self.conditions_set_aside
            ));
        }
        if !self.overlapping.is_empty() {
            text.push_str(
                ", given the operations still open then (overlapping it, or needing a value no later write gives):",
            );
            for &i in &self.overlapping {
                text.push_str(&format!("\n  #{} {}", ops[i].id, ops[i].describe()));
            }
        }
        text
    }
}

/// One key's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyReport {
    pub key: String,
    pub ops: usize,
    pub outcome: Outcome,
    pub steps: u64,
}

/// The verdict on a whole history, key by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub keys: Vec<KeyReport>,
}

impl Report {
    /// The history's verdict: not linearizable if any key is not, else unknown if any key is
    /// unknown, else linearizable.
    pub fn outcome(&self) -> &Outcome {
        let bad = self.keys.iter().find(|k| matches!(k.outcome, Outcome::NotLinearizable(_)));
        let unknown = self.keys.iter().find(|k| matches!(k.outcome, Outcome::Unknown { .. }));
        bad.or(unknown).map_or(&Outcome::Linearizable, |k| &k.outcome)
    }
    pub fn steps(&self) -> u64 {
        self.keys.iter().map(|k| k.steps).sum()
    }
    pub fn key(&self, key: &str) -> Option<&KeyReport> {
        self.keys.iter().find(|k| k.key == key)
    }
}

/// Checks `ops` (any order; keys independent). Counterexample indices refer to `ops`.
pub fn check(ops: &[Operation], limits: Limits) -> Report {
    let mut by_key: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        by_key.entry(op.key.as_str()).or_default().push(i);
    }
    let keys = by_key
        .into_iter()
        .map(|(key, idx)| {
            let (outcome, steps) = check_key(key, ops, &idx, limits);
            KeyReport { key: key.to_string(), ops: idx.len(), outcome, steps }
        })
        .collect();
    Report { keys }
}

/// An operation ready for the search: values interned, the step it takes.
#[derive(Clone, Debug)]
struct Op {
    /// Index into the caller's slice.
    index: usize,
    eq: Vec<u32>,
    ne: Vec<u32>,
    effect: Step,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Keep,
    Set(u32),
    SetIf(u32, u32),
}

impl Op {
    fn apply(&self, state: u32) -> Option<u32> {
        if self.eq.iter().any(|v| *v != state) || self.ne.contains(&state) {
            return None;
        }
        Some(match self.effect {
            Step::Keep => state,
            Step::Set(v) => v,
            Step::SetIf(from, to) => {
                if state == from {
                    to
                } else {
                    state
                }
            }
        })
    }
}

/// The operations of one key worth searching over (see the module docs on what is dropped).
fn searched<'a>(ops: &'a [Operation], idx: &[usize]) -> Vec<(usize, &'a Operation)> {
    let key_ops: Vec<(usize, &Operation)> = idx.iter().map(|&i| (i, &ops[i])).collect();
    let any_ne = key_ops.iter().any(|(_, o)| o.conds.iter().any(|c| matches!(c, Cond::Ne(_))));
    let mentioned = |v: &Value| {
        key_ops.iter().any(|(_, o)| {
            o.conds.iter().any(|c| matches!(c, Cond::Eq(x) if x == v))
                || matches!(&o.effect, Effect::SetIf { from, .. } if from == v)
        })
    };
    key_ops
        .iter()
        .copied()
        .filter(|(_, o)| match (&o.effect, o.ret) {
            (Effect::Keep, None) => false,
            (Effect::Set(v), None) => any_ne || mentioned(v),
            _ => true,
        })
        .collect()
}

/// A hasher for keys that are already well mixed (Zobrist sums).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Cache = HashMap<u64, Vec<(u32, Box<[u64]>)>, BuildHasherDefault<PassThrough>>;

/// SplitMix64: the Zobrist keys (fixed, so the search is the same on every run).
fn zobrist(n: usize) -> Vec<u64> {
    let mut x = 0x5EED_0F7A_B1E5_u64;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// Per value, how many unplaced operations still need the register to hold it (their `Eq`
/// conditions) and how many could still write it. Once the register leaves a value that is
/// still needed and nothing left can write it again, no completion of the order exists: the
/// search prunes that branch at once instead of discovering it return by return. (Without
/// this, a burst of writes queued behind an election, with reads of the value before them,
/// sends the search through every subset of the burst.)
struct Demand {
    needed: Vec<u32>,
    writable: Vec<u32>,
}

impl Demand {
    fn new(ops: &[Op], values: usize) -> Demand {
        let mut d = Demand { needed: vec![0; values], writable: vec![0; values] };
        for op in ops {
            d.count(op, 1);
        }
        d
    }
    fn count(&mut self, op: &Op, by: i32) {
        for v in &op.eq {
            self.needed[*v as usize] = self.needed[*v as usize].wrapping_add_signed(by);
        }
        if let Step::Set(v) | Step::SetIf(_, v) = op.effect {
            self.writable[v as usize] = self.writable[v as usize].wrapping_add_signed(by);
        }
    }
    /// `op` is placed (or dropped).
    fn take(&mut self, op: &Op) {
        self.count(op, -1)
    }
    /// `op` is unplaced again.
    fn give_back(&mut self, op: &Op) {
        self.count(op, 1)
    }
    /// Whether taking `op`, moving the register from `before` to `after`, left a value needed
    /// that can no longer be had.
    fn strands(&self, op: &Op, before: u32, after: u32) -> bool {
        let stranded = |v: u32| v != after && self.needed[v as usize] > 0 && self.writable[v as usize] == 0;
        stranded(before) || matches!(op.effect, Step::Set(v) | Step::SetIf(_, v) if stranded(v))
    }
}

/// One key's verdict: the search over all its operations, and when that runs out of room,
/// [`refute_with_fewer_reads`].
fn check_key(key: &str, all: &[Operation], idx: &[usize], limits: Limits) -> (Outcome, u64) {
    let (outcome, steps) = search_key(key, all, idx, limits);
    let Outcome::Unknown { reason } = outcome else { return (outcome, steps) };
    match refute_with_fewer_reads(key, all, idx, limits) {
        (Some(example), more) => (Outcome::NotLinearizable(example), steps + more),
        (None, more) => (Outcome::Unknown { reason }, steps + more),
    }
}

/// Search steps one refutation may take: a key's writes with a few reads among them order in
/// about one step each, so this is room for a key of a million operations.
const REFUTATION_STEPS_PER_SEARCH: u64 = 1_000_000;

/// Reads in each window of [`refute_with_fewer_reads`]'s second pass.
const REFUTATION_WINDOW_READS: usize = 32;

/// A proof that a key is not linearizable when the search over all of it is too big to
/// finish (a non-linearizable key must be searched exhaustively, and under heavy concurrency
/// with many reads that can exceed any bound). It searches the key's writes, without the
/// conditions of those that succeeded, with only some of its reads: a read (or a failed
/// compare-and-set) changes nothing and a condition only rules orders out, so an order of the
/// whole history is an order of this smaller, looser one — if that one has none, neither has
/// the whole. With few values tested the search is short: writes of every other value are
/// interchangeable. The reads are taken first value by value, in the order their first read
/// returned: that finds a stale read of a value whose write is pinned before the write the
/// read missed, by its own completion or by an earlier read of the value (a deposed leader
/// serving from its store). Then a window of consecutive reads at a time, half overlapping:
/// that finds violations that take reads of several values close in time to see (reads of a
/// value that only a late, unacknowledged write could explain, followed by a read that rules
/// that write out). A violation spread wider than a window leaves the key unknown.
fn refute_with_fewer_reads(
    key: &str,
    all: &[Operation],
    idx: &[usize],
    limits: Limits,
) -> (Option<Counterexample>, u64) {
    let is_read = |i: &usize| all[*i].effect == Effect::Keep;
    let mut reads: Vec<usize> = idx.iter().copied().filter(is_read).filter(|&i| all[i].ret.is_some()).collect();
    crate::order::sort_by_key(&mut reads, |&i| (all[i].ret.unwrap_or(u64::MAX), i as u64, 0));
    // The reads grouped by the value they test, groups in the order of their first return (a
    // map from the value to its group: a key may have thousands of values).
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: std::collections::BTreeMap<&[Cond], usize> = std::collections::BTreeMap::new();
    for &i in &reads {
        match group_of.get(&all[i].conds[..]) {
            Some(&g) => groups[g].push(i),
            None => {
                group_of.insert(&all[i].conds, groups.len());
                groups.push(vec![i]);
            }
        }
    }
    // Then windows of consecutive reads, each half a window after the last, up to the last read.
    let mut start = 0;
    while start < reads.len() {
        let end = (start + REFUTATION_WINDOW_READS).min(reads.len());
        groups.push(reads[start..end].to_vec());
        if end == reads.len() {
            break;
        }
        start += REFUTATION_WINDOW_READS / 2;
    }
    if groups.is_empty() {
        return (None, 0);
    }
    // The writes, a condition they tested dropped: it only ruled orders out (the write's
    // effect stays), and every value it named would be one more the search tells apart. An
    // unknown compare-and-set keeps its compare, which decides its effect.
    let mut sub: Vec<Operation> = Vec::new();
    let mut back: Vec<usize> = Vec::new();
    let mut conditions_set_aside = 0;
    for &i in idx.iter().filter(|i| !is_read(i)) {
        let mut op = all[i].clone();
        if matches!(op.effect, Effect::Set(_)) && !op.conds.is_empty() {
            op.conds.clear();
            conditions_set_aside += 1;
        }
        sub.push(op);
        back.push(i);
    }
    let writes = sub.len();
    let mut steps = 0u64;
    for group in &groups {
        if steps >= limits.steps_max {
            break;
        }
        sub.truncate(writes);
        back.truncate(writes);
        sub.extend(group.iter().map(|&i| all[i].clone()));
        back.extend(group);
        let budget = Limits { steps_max: (limits.steps_max - steps).min(REFUTATION_STEPS_PER_SEARCH), ..limits };
        let (outcome, taken) = search_key(key, &sub, &(0..sub.len()).collect::<Vec<_>>(), budget);
        // Setting a search up costs about a step per operation: counted, so that a key of
        // many values and windows stays within the budget however few steps each search takes.
        steps += taken + sub.len() as u64;
        if let Outcome::NotLinearizable(mut example) = outcome {
            example.stuck = back[example.stuck];
            example.overlapping.iter_mut().for_each(|i| *i = back[*i]);
            example.reads_set_aside = reads.len() - group.len();
            example.conditions_set_aside = conditions_set_aside;
            return (Some(example), steps);
        }
    }
    (None, steps)
}

/// The search over one key's operations `idx` (see the module docs).
fn search_key(key: &str, all: &[Operation], idx: &[usize], limits: Limits) -> (Outcome, u64) {
    let kept = searched(all, idx);
    let n = kept.len();
    if n == 0 {
        return (Outcome::Linearizable, 0);
    }
    // Intern values: 0 is absent; 1 stands for every value no operation ever tests (no
    // condition names it, no unknown compare-and-set expects it): such values are all alike to
    // the search, so writes of them become interchangeable.
    let mentioned: Vec<&Value> = kept
        .iter()
        .flat_map(|(_, o)| {
            let conds = o.conds.iter().map(|c| match c {
                Cond::Eq(v) | Cond::Ne(v) => v,
            });
            let from = match &o.effect {
                Effect::SetIf { from, .. } => Some(from),
                _ => None,
            };
            conds.chain(from)
        })
        .collect();
    let mut values: Vec<Value> = vec![None, Some("(a value nothing tests)".into())];
    let mut intern = |v: &Value| -> u32 {
        if v.is_none() {
            return 0;
        }
        if !mentioned.contains(&v) {
            return 1;
        }
        match values.iter().skip(2).position(|x| x == v) {
            Some(i) => i as u32 + 2,
            None => {
                values.push(v.clone());
                (values.len() - 1) as u32
            }
        }
    };
    let ops: Vec<Op> = kept
        .iter()
        .map(|(i, o)| {
            let mut eq = Vec::new();
            let mut ne = Vec::new();
            for c in &o.conds {
                match c {
                    Cond::Eq(v) => eq.push(intern(v)),
                    Cond::Ne(v) => ne.push(intern(v)),
                }
            }
            let effect = match &o.effect {
                Effect::Keep => Step::Keep,
                Effect::Set(v) => Step::Set(intern(v)),
                Effect::SetIf { from, to } => Step::SetIf(intern(from), intern(to)),
            };
            Op { index: *i, eq, ne, effect }
        })
        .collect();

    // An unknown write whose value someone observed either happened before the last of
    // those observations returned, or may as well never have happened (nothing after it could
    // tell it happened: no failed compare-and-set is about). So it gets a deadline there, where
    // the search may drop it, instead of staying open to the end of the history.
    let any_ne = ops.iter().any(|o| !o.ne.is_empty());
    let deadline = |j: usize| -> Option<u64> {
        let Step::Set(v) = ops[j].effect else { return None };
        if any_ne || kept[j].1.ret.is_some() {
            return None;
        }
        let mentions = (0..n)
            .filter(|&m| m != j && (ops[m].eq.contains(&v) || matches!(ops[m].effect, Step::SetIf(f, _) if f == v)));
        mentions.map(|m| kept[m].1.ret).try_fold(kept[j].1.invoke, |latest, ret| ret.map(|r| latest.max(r)))
    };
    let optional: Vec<bool> = (0..n).map(|j| deadline(j).is_some()).collect();
    // When each operation is due: its return, an optional unknown write's deadline, or never.
    let due: Vec<u64> = (0..n).map(|j| deadline(j).or(kept[j].1.ret).unwrap_or(u64::MAX)).collect();
    let mut search = Search::new(&ops, kept.iter().map(|(_, o)| o.invoke).collect(), due, optional, values.len());
    match search.run(limits) {
        Ok(()) => (Outcome::Linearizable, search.steps),
        Err(None) => {
            let (count, stuck, value, set, stranded) = search.best.take().expect("a dead end was recorded");
            let stuck_due = search.due[stuck];
            let overlapping = (0..n)
                .filter(|&j| j != stuck && set[j / 64] >> (j % 64) & 1 == 0)
                .filter(|&j| search.invoke[j] <= stuck_due || stranded.contains(&j))
                .take(12)
                .map(|j| ops[j].index)
                .collect();
            let example = Counterexample {
                key: key.to_string(),
                total: n,
                placed: count,
                value: values[value as usize].clone(),
                stuck: ops[stuck].index,
                overlapping,
                reads_set_aside: 0,
                conditions_set_aside: 0,
            };
            (Outcome::NotLinearizable(example), search.steps)
        }
        Err(Some(limit)) => {
            let reason = format!("the search over key {key:?} ({n} operations) {limit}");
            (Outcome::Unknown { reason }, search.steps)
        }
    }
}

/// One way on from a point of the search: place an operation, or drop an optional one.
#[derive(Clone, Copy, Debug)]
enum Choice {
    Place(usize),
    Drop(usize),
}

impl Choice {
    fn op(self) -> usize {
        match self {
            Choice::Place(j) | Choice::Drop(j) => j,
        }
    }
}

/// A point of the depth-first search: the ways on from it, how many were tried, the register's
/// value there, and the choice currently taken.
struct Frame {
    choices: Vec<Choice>,
    tried: usize,
    state: u32,
    taken: Option<Choice>,
}

/// The depth-first search over one key's operations (see the module docs). At each point the
/// candidates are the unplaced operations invoked before the earliest one due; they are tried
/// earliest-due first, and an enabled read (it changes nothing and everything that must
/// precede it is placed) is placed at once with no alternative — any order that completes
/// can be rearranged to place it first.
struct Search<'a> {
    ops: &'a [Op],
    invoke: Vec<u64>,
    due: Vec<u64>,
    optional: Vec<bool>,
    /// The unplaced operations in invocation order: a linked list over `order` positions,
    /// `n` its head and `n + 1` its tail.
    order: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
    position: Vec<usize>,
    /// Unplaced operations by when they are due.
    dues: std::collections::BTreeSet<(u64, usize)>,
    placed: Vec<u64>,
    placed_count: usize,
    hash: u64,
    z: Vec<u64>,
    cache: Cache,
    cache_bytes: usize,
    demand: Demand,
    state: u32,
    steps: u64,
    /// The deepest dead end: (placed count, the operation due, value, placed set, operations
    /// needing a value nothing left writes).
    best: Option<DeadEnd>,
}

/// A dead end of the search: (placed count, the operation due, value, placed set, operations
/// needing a value nothing left writes).
type DeadEnd = (usize, usize, u32, Vec<u64>, Vec<usize>);

impl<'a> Search<'a> {
    fn new(ops: &'a [Op], invoke: Vec<u64>, due: Vec<u64>, optional: Vec<bool>, values: usize) -> Search<'a> {
        let n = ops.len();
        let mut order: Vec<usize> = (0..n).collect();
        crate::order::sort_by_key(&mut order, |&j| (invoke[j], j as u64, 0));
        let mut position = vec![0; n];
        for (p, &j) in order.iter().enumerate() {
            position[j] = p;
        }
        // Positions 0..n, head n, tail n + 1.
        let next = (0..n + 2)
            .map(|p| {
                if p == n {
                    0
                } else if p == n - 1 {
                    n + 1
                } else {
                    p + 1
                }
            })
            .collect();
        let prev = (0..n + 2)
            .map(|p| {
                if p == 0 {
                    n
                } else if p == n + 1 {
                    n - 1
                } else {
                    p.wrapping_sub(1)
                }
            })
            .collect();
        // Inserted one by one: collecting into a set would compile a sort for it into the page.
        let mut dues = std::collections::BTreeSet::new();
        for (j, d) in due.iter().enumerate() {
            dues.insert((*d, j));
        }
        Search {
            ops,
            invoke,
            due,
            optional,
            order,
            next,
            prev,
            position,
            dues,
            placed: vec![0; n.div_ceil(64)],
            placed_count: 0,
            hash: 0,
            z: zobrist(n),
            cache: HashMap::default(),
            cache_bytes: 0,
            demand: Demand::new(ops, values),
            state: 0,
            steps: 0,
            best: None,
        }
    }

    /// `Ok`: every operation placed. `Err(None)`: no order exists. `Err(Some(why))`: a limit.
    fn run(&mut self, limits: Limits) -> Result<(), Option<String>> {
        let mut frames: Vec<Frame> = Vec::new();
        loop {
            if self.placed_count == self.ops.len() {
                return Ok(());
            }
            let choices = self.choices();
            frames.push(Frame { choices, tried: 0, state: self.state, taken: None });
            // Take the next choice that leads somewhere new, backtracking through exhausted
            // frames.
            loop {
                let Some(frame) = frames.last_mut() else { return Err(None) };
                if let Some(taken) = frame.taken.take() {
                    self.undo(taken, frame.state);
                }
                if frame.tried == frame.choices.len() {
                    self.dead_end();
                    frames.pop();
                    continue;
                }
                let choice = frame.choices[frame.tried];
                frame.tried += 1;
                self.steps += 1;
                if self.steps > limits.steps_max {
                    return Err(Some(format!("passed {} steps", limits.steps_max)));
                }
                if self.take(choice) {
                    frame.taken = Some(choice);
                    if self.cache_bytes > limits.cache_bytes_max {
                        return Err(Some(format!("needed more than {} bytes", self.cache_bytes)));
                    }
                    break;
                }
            }
        }
    }

    /// The ways on from here (see the type's docs).
    fn choices(&self) -> Vec<Choice> {
        let n = self.ops.len();
        let Some(&(first_due, due_op)) = self.dues.first() else { return vec![] };
        let mut candidates = Vec::new();
        // Values that a candidate needs and the register does not hold.
        let mut wanted: Vec<u32> = Vec::new();
        let mut optional = Vec::new();
        let mut p = self.next[n];
        while p != n + 1 && self.invoke[self.order[p]] <= first_due {
            let j = self.order[p];
            if self.optional[j] {
                optional.push(j);
            } else if self.ops[j].apply(self.state).is_some() {
                if matches!(self.ops[j].effect, Step::Keep) {
                    return vec![Choice::Place(j)];
                }
                candidates.push(j);
            } else {
                wanted.extend(self.ops[j].eq.iter().filter(|v| **v != self.state));
            }
            p = self.next[p];
        }
        // An optional unknown write is only worth placing right before an observer of its
        // value: anywhere else it is overwritten or redundant before anyone sees it, and the
        // order without it is as good. So it is a candidate only while an observer wants it.
        candidates.extend(
            optional.into_iter().filter(|&j| matches!(self.ops[j].effect, Step::Set(v) if wanted.contains(&v))),
        );
        crate::order::sort_by_key(&mut candidates, |&j| (self.due[j], self.invoke[j], j as u64));
        // Of operations that do the same thing, only the one due first need be tried: in any
        // order that places another of them here, swapping the two keeps it valid (the one due
        // first may come earlier; the other still precedes everything invoked after it
        // returned) and gives the same values throughout.
        let mut kept: Vec<usize> = Vec::with_capacity(candidates.len());
        for j in candidates {
            let same = |k: &usize| {
                let (a, b) = (&self.ops[j], &self.ops[*k]);
                a.eq == b.eq && a.ne == b.ne && a.effect == b.effect
            };
            if !kept.iter().any(same) {
                kept.push(j);
            }
        }
        let candidates = kept;
        let mut choices: Vec<Choice> = candidates.into_iter().map(Choice::Place).collect();
        if self.optional[due_op] {
            choices.push(Choice::Drop(due_op));
        }
        choices
    }

    /// Takes `choice` if it leads to a situation not seen before and leaves no needed value
    /// unwritable; false (and nothing changed) otherwise.
    fn take(&mut self, choice: Choice) -> bool {
        let j = choice.op();
        let before = self.state;
        let after = match choice {
            Choice::Place(j) => self.ops[j].apply(before).expect("candidates are enabled"),
            Choice::Drop(_) => before,
        };
        self.mark(j, true);
        let stranded = self.demand.strands(&self.ops[j], before, after);
        let words = self.placed.len();
        let slot = self.cache.entry(self.hash ^ u64::from(after).wrapping_mul(0x9E37_79B9_7F4A_7C15)).or_default();
        if stranded || slot.iter().any(|(s, set)| *s == after && set[..] == self.placed[..]) {
            self.mark(j, false);
            return false;
        }
        slot.push((after, self.placed.clone().into_boxed_slice()));
        self.cache_bytes += words * 8 + 24;
        self.state = after;
        true
    }

    /// Undoes `choice`, back to the register holding `state`.
    fn undo(&mut self, choice: Choice, state: u32) {
        self.mark(choice.op(), false);
        self.state = state;
    }

    /// Places (or unplaces) `j`: the set, its hash, the demand, the list and the due set.
    fn mark(&mut self, j: usize, placed: bool) {
        self.placed[j / 64] ^= 1 << (j % 64);
        self.hash ^= self.z[j];
        let p = self.position[j];
        if placed {
            self.placed_count += 1;
            self.demand.take(&self.ops[j]);
            self.next[self.prev[p]] = self.next[p];
            self.prev[self.next[p]] = self.prev[p];
            self.dues.remove(&(self.due[j], j));
        } else {
            self.placed_count -= 1;
            self.demand.give_back(&self.ops[j]);
            self.next[self.prev[p]] = p;
            self.prev[self.next[p]] = p;
            self.dues.insert((self.due[j], j));
        }
    }

    /// Remembers this point if it is the deepest the search could not get past.
    fn dead_end(&mut self) {
        if self.best.as_ref().is_some_and(|b| b.0 >= self.placed_count) {
            return;
        }
        let Some(&(_, stuck)) = self.dues.first() else { return };
        let n = self.ops.len();
        let stranded = (0..n)
            .filter(|&m| self.placed[m / 64] >> (m % 64) & 1 == 0)
            .filter(|&m| self.ops[m].eq.iter().any(|v| self.demand.writable[*v as usize] == 0))
            .collect();
        self.best = Some((self.placed_count, stuck, self.state, self.placed.clone(), stranded));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Some(v.to_string())
    }
    fn w(id: u64, v: &str, invoke: u64, ret: u64) -> Operation {
        Operation::write(id, "k", s(v), invoke, Some(ret))
    }
    fn r(id: u64, v: Option<&str>, invoke: u64, ret: u64) -> Operation {
        Operation::read(id, "k", v.map(Into::into), invoke, ret)
    }
    fn cas(id: u64, from: &str, to: &str, ok: bool, invoke: u64, ret: u64) -> Operation {
        let (conds, effect) =
            if ok { (vec![Cond::Eq(s(from))], Effect::Set(s(to))) } else { (vec![Cond::Ne(s(from))], Effect::Keep) };
        Operation { id, client: 0, key: "k".into(), conds, effect, invoke, ret: Some(ret) }
    }
    fn outcome(ops: &[Operation]) -> Outcome {
        check(ops, Limits::default()).outcome().clone()
    }
    fn linearizable(ops: &[Operation]) -> bool {
        match outcome(ops) {
            Outcome::Linearizable => true,
            Outcome::NotLinearizable(_) => false,
            Outcome::Unknown { reason } => panic!("unknown: {reason}"),
        }
    }

    #[test]
    fn sequential_reads_of_the_latest_write_are_linearizable() {
        assert!(linearizable(&[w(1, "a", 0, 10), r(2, Some("a"), 20, 30), w(3, "b", 40, 50), r(4, Some("b"), 60, 70)]));
    }

    #[test]
    fn a_read_concurrent_with_a_write_may_see_either_value() {
        assert!(linearizable(&[w(1, "a", 0, 10), w(2, "b", 20, 40), r(3, Some("a"), 25, 30)]));
        assert!(linearizable(&[w(1, "a", 0, 10), w(2, "b", 20, 40), r(3, Some("b"), 25, 30)]));
    }

    #[test]
    fn a_read_that_misses_a_finished_write_is_not_linearizable_and_is_named() {
        let ops = [w(1, "a", 0, 10), w(2, "b", 20, 30), r(3, Some("a"), 40, 50)];
        match outcome(&ops) {
            Outcome::NotLinearizable(c) => {
                // Placing b would leave the read of a with nothing to read: the search is stuck
                // after the first write, at b's return, and names the read that blocks it.
                assert_eq!(
                    (c.stuck, c.placed, c.value.clone(), c.overlapping.clone()),
                    (1, 1, s("a"), vec![2]),
                    "{c:?}"
                );
                assert!(c.describe(&ops).contains("#3 k: read → a [40, 50]"), "{}", c.describe(&ops));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_going_back_in_time_are_not_linearizable() {
        assert!(linearizable(&[w(1, "a", 0, 100), w(2, "b", 0, 10), r(3, Some("b"), 20, 30), r(4, Some("a"), 40, 50)]));
        assert!(!linearizable(&[
            w(1, "a", 0, 100),
            w(2, "b", 0, 10),
            r(3, Some("a"), 20, 30),
            r(4, Some("b"), 40, 50)
        ]));
    }

    #[test]
    fn two_concurrent_successful_cas_from_the_same_value_are_not_linearizable() {
        // Porcupine rejects this: only one of cas 0→1 and cas 0→2 can find 0.
        let ops = [w(1, "0", 0, 5), cas(2, "0", "1", true, 10, 20), cas(3, "0", "2", true, 10, 20)];
        assert!(!linearizable(&ops));
        let ops = [w(1, "0", 0, 5), cas(2, "0", "1", true, 10, 20), cas(3, "0", "2", false, 10, 20)];
        assert!(linearizable(&ops), "one succeeds, the other finds 1 and fails");
    }

    #[test]
    fn an_unknown_write_may_take_effect_late_or_never() {
        let unknown = Operation::write(2, "k", s("b"), 20, None);
        // Seen long after it was invoked.
        assert!(linearizable(&[
            w(1, "a", 0, 10),
            unknown.clone(),
            r(3, Some("a"), 30, 40),
            r(4, Some("b"), 60_000_000, 60_000_010)
        ]));
        // Never seen.
        assert!(linearizable(&[w(1, "a", 0, 10), unknown.clone(), r(3, Some("a"), 30, 40)]));
        // But not before it was invoked.
        assert!(!linearizable(&[w(1, "a", 0, 10), r(3, Some("b"), 12, 15), unknown]));
    }

    #[test]
    fn an_unknown_write_nobody_could_see_is_dropped_from_the_search() {
        let ops = [w(1, "a", 0, 10), Operation::write(2, "k", s("zzz"), 5, None), r(3, Some("a"), 20, 30)];
        assert_eq!(searched(&ops, &[0, 1, 2]).len(), 2);
        let mut with_failed_cas = ops.to_vec();
        with_failed_cas.push(cas(4, "a", "c", false, 40, 50));
        assert_eq!(searched(&with_failed_cas, &[0, 1, 2, 3]).len(), 4, "a failed cas could have seen it");
        // And it does: landing after the read, it explains why the cas did not find a.
        assert!(linearizable(&with_failed_cas));
        with_failed_cas.remove(1);
        assert!(!linearizable(&with_failed_cas), "without it the register held a when the cas failed to find a");
    }

    #[test]
    fn keys_are_independent() {
        let mut ops = vec![w(1, "a", 0, 10), r(2, Some("a"), 20, 30)];
        ops.push(Operation::write(3, "j", s("x"), 0, Some(10)));
        ops.push(Operation::read(4, "j", None, 20, 30));
        let report = check(&ops, Limits::default());
        assert_eq!(report.key("k").map(|k| &k.outcome), Some(&Outcome::Linearizable));
        assert!(matches!(report.key("j").map(|k| &k.outcome), Some(Outcome::NotLinearizable(_))));
        assert!(matches!(report.outcome(), Outcome::NotLinearizable(_)));
    }

    #[test]
    fn a_search_past_its_limit_is_unknown_never_a_pass() {
        // Many overlapping writes, then reads that each saw a different one of them after
        // all had returned: exhausting every order takes far more than 50 steps, and no
        // single read is wrong on its own (it takes two to see the violation), so no
        // one-read refutation exists either. (Each value is read, so no two writes are alike
        // to the search.)
        let mut ops: Vec<Operation> = (0..12).map(|i| w(i, &i.to_string(), 0, 100)).collect();
        ops.extend((0..12).map(|i| r(20 + i, Some(&i.to_string()), 200, 300)));
        let tight = Limits { steps_max: 50, cache_bytes_max: 1 << 20 };
        assert!(matches!(check(&ops, tight).outcome(), Outcome::Unknown { .. }));
        assert!(matches!(check(&ops, Limits::default()).outcome(), Outcome::NotLinearizable(_)));
    }

    /// `n` overlapping writes, each value read while they overlap: the full search has every
    /// order of the burst to go through.
    fn burst(n: u64) -> Vec<Operation> {
        let mut ops: Vec<Operation> = (0..n).map(|i| w(i, &i.to_string(), 0, 100)).collect();
        ops.extend((0..n).map(|i| r(20 + i, Some(&i.to_string()), 0, 100)));
        ops
    }

    /// A burst, then a write, then a read of the first value: stale.
    fn burst_then_stale_read() -> Vec<Operation> {
        let mut ops = burst(12);
        ops.push(w(50, "z", 200, 210));
        ops.push(r(60, Some("0"), 300, 310));
        ops
    }

    #[test]
    fn a_stale_read_is_proved_even_when_the_whole_key_is_too_big_to_search() {
        let ops = burst_then_stale_read();
        let idx: Vec<usize> = (0..ops.len()).collect();
        let tight = Limits { steps_max: 2_000, cache_bytes_max: 1 << 20 };
        // The search over the whole key gives up within these limits...
        assert!(matches!(search_key("k", &ops, &idx, tight).0, Outcome::Unknown { .. }));
        // ...and the read after the write, alone with the writes, cannot be placed: the key is
        // not linearizable, and the counterexample names the write it missed and that read.
        let report = check(&ops, tight);
        let Outcome::NotLinearizable(example) = report.outcome() else { panic!("{report:?}") };
        let named: Vec<u64> = example.overlapping.iter().chain([&example.stuck]).map(|&i| ops[i].id).collect();
        assert!(named.contains(&50) && named.contains(&60), "{}", example.describe(&ops));
        assert_eq!(example.reads_set_aside, 11);
        assert!(
            example.describe(&ops).contains("11 reads and failed compare-and-sets set aside"),
            "{}",
            example.describe(&ops)
        );
        // Unbounded, the whole search reaches the same verdict.
        assert!(matches!(check(&ops, Limits::default()).outcome(), Outcome::NotLinearizable(_)));
    }

    /// A write of "a" still open while read 71 sees "a" before "z" is written, then read 72
    /// of "a" after "z" returned: stale only given both reads of "a".
    fn pinned_stale_read() -> [Operation; 4] {
        [
            Operation::write(70, "k", s("a"), 0, Some(1_000)),
            r(71, Some("a"), 0, 100),
            w(50, "z", 200, 210),
            r(72, Some("a"), 400, 410),
        ]
    }

    #[test]
    fn a_stale_read_of_a_write_still_open_is_proved_by_the_earlier_read_that_pins_it() {
        // The write of "a" has not returned when the last read sees "a", so that read alone
        // could follow a late "a"; but an earlier read saw "a" before "z" was written, which
        // pins the write before "z". Only the reads of "a" together show the stale read (the
        // pattern of a deposed leader serving reads from its own store).
        let mut ops = burst(12);
        ops.extend(pinned_stale_read());
        let tight = Limits { steps_max: 2_000, cache_bytes_max: 1 << 20 };
        let idx: Vec<usize> = (0..ops.len()).collect();
        assert!(matches!(search_key("k", &ops, &idx, tight).0, Outcome::Unknown { .. }));
        let Outcome::NotLinearizable(example) = check(&ops, tight).outcome().clone() else { panic!("not refuted") };
        assert_eq!(example.reads_set_aside, 12);
        assert!(matches!(check(&ops, Limits::default()).outcome(), Outcome::NotLinearizable(_)));
        // Without the earlier read, "a" may have been written after "z": linearizable.
        ops.retain(|o| o.id != 71);
        assert_eq!(check(&ops, Limits::default()).outcome(), &Outcome::Linearizable);
    }

    #[test]
    fn a_refutation_takes_the_writes_as_unconditional() {
        // The pinned stale read of "a" as above, but the burst's writes are compare-and-sets
        // that each saw the value before it: with their conditions, every value of the burst
        // is tested and no two writes are alike, so even the reads of "a" alone with the
        // writes are too many orders for the limit. Without them (a condition only rules
        // orders out, so a history with none is looser) the writes are interchangeable.
        let mut ops: Vec<Operation> =
            (0..12).map(|i| cas(i, &format!("{}", i + 100), &i.to_string(), true, 0, 100)).collect();
        ops.extend((0..12).map(|i| w(20 + i, &format!("{}", i + 100), 0, 100)));
        ops.extend(pinned_stale_read());
        let tight = Limits { steps_max: 2_000, cache_bytes_max: 1 << 20 };
        let idx: Vec<usize> = (0..ops.len()).collect();
        assert!(matches!(search_key("k", &ops, &idx, tight).0, Outcome::Unknown { .. }));
        let Outcome::NotLinearizable(example) = check(&ops, tight).outcome().clone() else { panic!("not refuted") };
        let named: Vec<u64> = example.overlapping.iter().chain([&example.stuck]).map(|&i| ops[i].id).collect();
        assert!(named.contains(&50) && named.contains(&72), "{}", example.describe(&ops));
        assert_eq!((example.reads_set_aside, example.conditions_set_aside), (0, 12));
        assert!(example.describe(&ops).contains("the conditions of 12 writes"), "{}", example.describe(&ops));
        assert!(matches!(check(&ops, Limits::default()).outcome(), Outcome::NotLinearizable(_)));
    }

    #[test]
    fn reads_of_two_values_close_in_time_refute_a_key_together() {
        // A burst that makes the whole key long to search, a run of sequential writes and
        // reads, then: an unacknowledged delete, a write of "x" that returned, reads of nil
        // after it (explained only by the delete taking effect late) and a read of "x" after
        // those (which the late delete rules out). Neither value's reads alone are wrong: it
        // takes the window of reads around them.
        let mut ops = burst(14);
        for j in 0..40u64 {
            ops.push(w(100 + 2 * j, &format!("y{j}"), 110 + 10 * j, 112 + 10 * j));
            ops.push(r(101 + 2 * j, Some(&format!("y{j}")), 113 + 10 * j, 115 + 10 * j));
        }
        ops.push(Operation::write(200, "k", None, 600, None));
        ops.push(w(201, "x", 610, 650));
        ops.push(r(202, None, 660, 665));
        ops.push(r(203, None, 670, 675));
        ops.push(r(204, Some("x"), 700, 705));
        let limits = Limits { steps_max: 20_000, cache_bytes_max: 1 << 20 };
        let idx: Vec<usize> = (0..ops.len()).collect();
        assert!(matches!(search_key("k", &ops, &idx, limits).0, Outcome::Unknown { .. }));
        let Outcome::NotLinearizable(example) = check(&ops, limits).outcome().clone() else { panic!("not refuted") };
        assert!(example.reads_set_aside > 0, "{}", example.describe(&ops));
        assert!(matches!(check(&ops, Limits::default()).outcome(), Outcome::NotLinearizable(_)));
        // Without the read of "x", the late delete explains the reads of nil.
        ops.retain(|o| o.id != 204);
        assert_eq!(check(&ops, Limits::default()).outcome(), &Outcome::Linearizable);
    }

    /// The refutation is sound on random small histories: wherever the whole search finds an
    /// order, it finds no proof against one (reads, failed and unknown compare-and-sets,
    /// unknown writes and deletes, overlapping at random).
    #[test]
    fn the_refutation_never_refutes_a_random_history_the_search_linearizes() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut linearizable, mut refuted, mut not) = (0, 0, 0);
        for _ in 0..3_000 {
            let value = |v: u64| if v == 0 { None } else { Some(v.to_string()) };
            let ops: Vec<Operation> = (0..10)
                .map(|id| {
                    let invoke = next(100);
                    let ret = (next(5) > 0).then(|| invoke + 1 + next(30));
                    let (v, w) = (value(next(4)), value(next(4)));
                    let (conds, effect) = match next(4) {
                        0 | 1 => (vec![], Effect::Set(v)),
                        2 => (vec![Cond::Eq(v)], Effect::Keep),
                        _ if ret.is_none() => (vec![], Effect::SetIf { from: v, to: w }),
                        _ if next(2) == 0 => (vec![Cond::Eq(v)], Effect::Set(w)),
                        _ => (vec![Cond::Ne(v)], Effect::Keep),
                    };
                    Operation { id, client: 0, key: "k".into(), conds, effect, invoke, ret }
                })
                .collect();
            let idx: Vec<usize> = (0..ops.len()).collect();
            let found = refute_with_fewer_reads("k", &ops, &idx, Limits::default()).0;
            match search_key("k", &ops, &idx, Limits::default()).0 {
                Outcome::Linearizable => {
                    assert!(found.is_none(), "refuted a linearizable history: {ops:#?}");
                    linearizable += 1;
                }
                Outcome::NotLinearizable(_) => {
                    not += 1;
                    refuted += usize::from(found.is_some());
                }
                Outcome::Unknown { reason } => panic!("{reason}"),
            }
        }
        println!("{linearizable} linearizable left alone; {refuted} of {not} others refuted");
        assert!(linearizable > 100 && refuted > 100);
    }

    /// The refutation on real histories: on every one of Porcupine's Jepsen etcd histories it
    /// must find nothing where Porcupine found an order (a refutation there would be a false
    /// "not linearizable"), and it proves some of the others on its own. Read from the
    /// workspace's shared corpus when present; says "skipped" when not.
    #[test]
    fn the_refutation_never_refutes_a_history_porcupine_linearized() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/porcupine-etcd");
        let Ok(expected) = std::fs::read_to_string(dir.join("expected.txt")) else {
            println!("skipped: corpus not present (../shared/corpus/porcupine-etcd)");
            return;
        };
        let (mut linearizable, mut refuted, mut not) = (0, 0, 0);
        for line in expected.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (file, verdict) = line.split_once(' ').expect("name verdict");
            let text = std::fs::read_to_string(dir.join("jepsen").join(file)).expect("corpus file");
            let ops = crate::checker::external::parse(&text).expect("corpus parses");
            let idx: Vec<usize> = (0..ops.len()).collect();
            let found = refute_with_fewer_reads("", &ops, &idx, Limits::default()).0;
            match verdict.trim() {
                "true" => {
                    assert!(
                        found.is_none(),
                        "{file}: refuted a history Porcupine linearized: {}",
                        found.map(|c| c.describe(&ops)).unwrap_or_default()
                    );
                    linearizable += 1;
                }
                _ => {
                    not += 1;
                    refuted += usize::from(found.is_some());
                }
            }
        }
        println!("{linearizable} linearizable histories left alone; {refuted} of {not} others refuted");
        assert!(linearizable > 0 && refuted > 0);
    }

    #[test]
    fn a_key_too_big_to_search_without_a_stale_read_stays_unknown() {
        // The same burst with the last read seeing the last write: linearizable, but the
        // search is told to stop before it can say so; no read refutes it, so unknown.
        let mut ops = burst_then_stale_read();
        ops.last_mut().expect("ops").conds = vec![Cond::Eq(s("z"))];
        let tight = Limits { steps_max: 5, cache_bytes_max: 1 << 20 };
        assert!(matches!(check(&ops, tight).outcome(), Outcome::Unknown { .. }));
        assert_eq!(check(&ops, Limits::default()).outcome(), &Outcome::Linearizable);
    }

    #[test]
    fn a_long_sequential_history_is_checked_quickly() {
        let mut ops = Vec::new();
        for i in 0..5_000u64 {
            ops.push(w(2 * i, &i.to_string(), 100 * i, 100 * i + 10));
            ops.push(r(2 * i + 1, Some(&i.to_string()), 100 * i + 20, 100 * i + 30));
        }
        let report = check(&ops, Limits::default());
        assert_eq!(report.outcome(), &Outcome::Linearizable);
        assert!(report.steps() < 100_000, "{} steps", report.steps());
    }
}
