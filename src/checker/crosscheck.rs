//! Both checkers on one history, and whether they agree.
//!
//! The model checker sees the simulator's history as a Jepsen client would have: values, not
//! revisions. Each client operation becomes model operations, key by key:
//! - a linearizable read that answered: it observed its value;
//! - an acknowledged write: it set each key it wrote (what it wrote is the entry's effect, as
//!   the answer reports it); a transaction's reads of a key before its own write observe too;
//! - a put or delete of unknown outcome: it may have set its key any time after it was sent,
//!   or never; another write of unknown outcome (a range delete, a transaction) counts only if
//!   it applied, since only then are its keys known;
//! - failed operations and serializable reads take no part.
//!
//! They must agree on every key. The model checker does not know the order etcd chose for
//! concurrent writes, so it may find an order where the revisions prove a read stale — but
//! only where it has that freedom: a value written twice on the key, writes to the key that
//! overlapped in time, or a write of unknown outcome. Anything else is a disagreement, and
//! so is a key the model checker calls not linearizable while the revisions say it is, and
//! any key the model checker could not decide.

use super::model::{self, Cond, Effect, Limits, Operation, Outcome};
use super::revision::Checker;
use crate::client_op::ClientOp;
use crate::event::OpOutcome;
use crate::history::{History, OpKind, OpRecord};
use crate::read::ReadMode;
use std::collections::{BTreeMap, BTreeSet};

/// Both verdicts on one history.
#[derive(Debug)]
pub struct CrossCheck {
    pub revision: Checker,
    pub model: model::Report,
    /// Keys the two disagree on, in words (empty: they agree).
    pub disagreements: Vec<String>,
    /// Keys where the revisions found a violation the model checker's freedom explains.
    pub explained: Vec<String>,
    /// Keys the model checker could not decide.
    pub unknown: Vec<String>,
}

impl CrossCheck {
    pub fn agrees(&self) -> bool {
        self.disagreements.is_empty() && self.unknown.is_empty()
    }
}

/// Runs both checkers over `history` and compares them key by key.
pub fn cross_check(history: &History) -> CrossCheck {
    let mut revision = Checker::new();
    revision.update(history);
    let ops = model_operations(history);
    let model = model::check(&ops, Limits::default());
    // Inserted one by one: collecting into a map would compile a sort for it into the page.
    let mut rev_bad: BTreeMap<&str, usize> = BTreeMap::new();
    for (key, n) in revision.violations_by_key() {
        rev_bad.insert(key, n);
    }
    let mut disagreements = Vec::new();
    let mut explained = Vec::new();
    let mut unknown = Vec::new();
    for key in &model.keys {
        let by_revisions = rev_bad.get(key.key.as_str()).copied().unwrap_or(0);
        match (&key.outcome, by_revisions) {
            (Outcome::Unknown { reason }, _) => unknown.push(format!("key {:?}: {reason}", key.key)),
            (Outcome::Linearizable, 0) => {}
            (Outcome::NotLinearizable(_), n) if n > 0 => {}
            (Outcome::NotLinearizable(c), _) => disagreements.push(format!(
                "key {:?}: the revisions say linearizable, the model checker says not: {}",
                key.key,
                c.describe(&ops)
            )),
            (Outcome::Linearizable, n) => match model_freedom(&ops, &key.key) {
                Some(why) => explained.push(format!("key {:?}: {n} violation(s) by revision; {why}", key.key)),
                None => disagreements.push(format!(
                    "key {:?}: the revisions find {n} violation(s), the model checker none, with no freedom to explain it",
                    key.key
                )),
            },
        }
    }
    for key in rev_bad.keys() {
        if model.key(key).is_none() {
            disagreements.push(format!("key {key:?}: the revisions find a violation on a key the model never saw"));
        }
    }
    CrossCheck { revision, model, disagreements, explained, unknown }
}

/// Why the model checker may order `key`'s writes differently from etcd, if it may.
fn model_freedom(ops: &[Operation], key: &str) -> Option<String> {
    let writes: Vec<&Operation> = ops.iter().filter(|o| o.key == key && o.effect != Effect::Keep).collect();
    if let Some(w) = writes.iter().find(|w| w.ret.is_none()) {
        return Some(format!("#{} is a write of unknown outcome", w.id));
    }
    let mut seen = BTreeSet::new();
    for w in &writes {
        if let Effect::Set(v) = &w.effect {
            if !seen.insert(v.clone()) {
                return Some(format!("the value {v:?} was written more than once"));
            }
        }
    }
    // Sorted by invocation, a write overlaps an earlier one exactly when it was invoked before
    // the latest answer so far (all writes here have answers: unknown ones returned above).
    let mut by_invoke: Vec<&&Operation> = writes.iter().collect();
    crate::order::sort_by_key(&mut by_invoke, |w| (w.invoke, 0, 0));
    let mut latest: Option<&Operation> = None;
    for w in by_invoke {
        if let Some(l) = latest.filter(|l| w.invoke <= l.ret.unwrap_or(u64::MAX)) {
            return Some(format!("writes #{} and #{} overlapped", l.id, w.id));
        }
        if latest.is_none_or(|l| w.ret > l.ret) {
            latest = Some(w);
        }
    }
    None
}

/// The history as the model checker sees it (see the module docs).
pub fn model_operations(history: &History) -> Vec<Operation> {
    let mut ops = Vec::new();
    let mut known_keys: BTreeSet<&str> = BTreeSet::new();
    for k in history.iter().flat_map(|r| r.effects.iter().flatten().map(|(k, _)| k.as_str()).chain(read_key(r))) {
        known_keys.insert(k);
    }
    for r in history.iter() {
        ops.extend(operations_of(r, &known_keys));
    }
    if !history.holds_the_whole_run() {
        ops.extend(writes_before_the_history(&ops));
    }
    ops
}

/// For a history that forgot its oldest records: a write, invoked at time zero, of each value
/// some operation observed on a key but no operation kept wrote there — the value of a
/// forgotten write — and a delete on each key some operation observed absent. Each must have
/// taken effect before the first operation that observed it returned, so that is its return:
/// the model then knows such a value may have been there, as the revision checker knows a
/// read of a forgotten write may be right, and its search does not carry the write open
/// through the whole history.
fn writes_before_the_history(ops: &[Operation]) -> Vec<Operation> {
    // The first return among the operations that observed each value on each key...
    let mut first_seen: BTreeMap<(&str, &model::Value), u64> = BTreeMap::new();
    for op in ops {
        let Some(ret) = op.ret else { continue };
        for cond in &op.conds {
            if let Cond::Eq(v) = cond {
                let first = first_seen.entry((op.key.as_str(), v)).or_insert(ret);
                *first = (*first).min(ret);
            }
        }
    }
    // ...less the values a kept operation wrote there (an absence observed may be a
    // forgotten delete's, whatever the kept ones did).
    for op in ops {
        if let Effect::Set(v @ Some(_)) | Effect::SetIf { to: v @ Some(_), .. } = &op.effect {
            first_seen.remove(&(op.key.as_str(), v));
        }
    }
    first_seen.into_iter().map(|((key, v), ret)| Operation::write(0, key, v.clone(), 0, Some(ret))).collect()
}

fn read_key(r: &OpRecord) -> Option<&str> {
    match &r.kind {
        OpKind::Client(ClientOp::Read { key, .. }) => Some(key),
        _ => None,
    }
}

fn operations_of(r: &OpRecord, known_keys: &BTreeSet<&str>) -> Vec<Operation> {
    let id = r.id.0;
    let client = r.node.0;
    let invoke = r.invoked_at.0;
    let op = |key: &str, conds: Vec<Cond>, effect: Effect, ret: Option<u64>| Operation {
        id,
        client,
        key: key.to_string(),
        conds,
        effect,
        invoke,
        ret,
    };
    match (&r.kind, &r.outcome) {
        (
            OpKind::Client(ClientOp::Read { mode: ReadMode::Linearizable | ReadMode::Log, key }),
            OpOutcome::Ok { .. },
        ) => {
            let value = r.read.as_ref().and_then(|v| v.value.clone());
            let ret = r.completed_at.map(|t| t.0);
            vec![op(key, vec![Cond::Eq(value)], Effect::Keep, ret)]
        }
        (OpKind::Client(ClientOp::Read { .. } | ClientOp::Range { mode: ReadMode::Serializable, .. }), _)
        | (_, OpOutcome::Failed { .. }) => vec![],
        // A read still waiting returned nothing yet.
        (OpKind::Client(op), OpOutcome::Pending) if op.is_read() => vec![],
        (_, OpOutcome::Ok { .. }) => {
            let ret = r.completed_at.map(|t| t.0);
            let mut per_key: BTreeMap<String, (Vec<Cond>, Effect)> = BTreeMap::new();
            for (key, value) in r.effects.iter().flatten() {
                per_key.entry(key.clone()).or_insert((vec![], Effect::Keep)).1 = Effect::Set(value.clone());
            }
            if let Some(txn) = r.txn_reads.as_deref() {
                // Reads of the state before the transaction's own write (at its revision, a
                // read saw its own write).
                let before = |rev: u64| r.revision.is_none_or(|w| rev < w);
                for read in txn.key_reads(known_keys.iter().copied()).into_iter().filter(|x| before(x.revision)) {
                    per_key.entry(read.key).or_insert((vec![], Effect::Keep)).0.push(Cond::Eq(read.value));
                }
            }
            per_key.into_iter().map(|(key, (conds, effect))| op(&key, conds, effect, ret)).collect()
        }
        // A write still waiting (or whose answer was lost) may have taken effect at any time
        // after its invocation, as Jepsen treats an `:info` operation: what it would write is
        // known, its return is not.
        (kind, OpOutcome::Indeterminate { .. } | OpOutcome::Pending) => match kind {
            // What the client sent is known whether or not it applied.
            OpKind::Client(ClientOp::Put { key, value, .. }) => {
                vec![op(key, vec![], Effect::Set(Some(value.clone())), None)]
            }
            OpKind::Client(ClientOp::Delete { key }) => vec![op(key, vec![], Effect::Set(None), None)],
            _ => r
                .effects
                .iter()
                .flatten()
                .map(|(key, value)| op(key, vec![], Effect::Set(value.clone()), None))
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::AppliedWrite;
    use crate::read::{ReadPath, ReadValue};
    use crate::time::SimTime;
    use crate::types::NodeId;

    fn put(h: &mut History, key: &str, value: &str, invoke: u64, ret: u64, rev: u64) {
        let id = h.invoke(
            SimTime(invoke),
            NodeId(1),
            OpKind::Client(ClientOp::Put { key: key.into(), value: value.into(), key_lease: None }),
        );
        let effects = vec![(key.to_string(), Some(value.to_string()))];
        h.set_applied(id, AppliedWrite { index: rev, at: SimTime(ret), revision: rev, effects, result: None });
        h.complete(id, SimTime(ret), OpOutcome::Ok { revision: rev });
    }
    fn read(h: &mut History, key: &str, value: &str, rev: u64, invoke: u64, ret: u64) {
        let id = h.invoke(
            SimTime(invoke),
            NodeId(2),
            OpKind::Client(ClientOp::Read { key: key.into(), mode: ReadMode::Linearizable }),
        );
        let seen = ReadValue { value: Some(value.into()), mod_revision: rev, revision: rev };
        h.read_finished(id, ReadPath::LeaseRead, None, 0, Some(seen.into()), None);
        h.complete(id, SimTime(ret), OpOutcome::Ok { revision: rev });
    }

    #[test]
    fn a_stale_read_is_caught_by_both() {
        let mut h = History::new();
        put(&mut h, "x", "1", 0, 10, 2);
        put(&mut h, "x", "2", 20, 30, 3);
        read(&mut h, "x", "1", 2, 40, 50);
        let c = cross_check(&h);
        assert!(c.agrees(), "{:?}", c.disagreements);
        assert_eq!(c.revision.violations(), 1);
        assert!(matches!(c.model.outcome(), Outcome::NotLinearizable(_)));
    }

    /// A history that forgot its oldest records (a long run keeps the newest 50,000): reads of
    /// the forgotten writes' values are no violation for either checker, and a stale read among
    /// the records kept is still caught by both.
    #[test]
    fn a_history_that_forgot_its_start_is_judged_alike_by_both() {
        let mut h = History::new();
        put(&mut h, "x", "1", 0, 10, 2);
        put(&mut h, "y", "1", 0, 10, 3);
        h.forget_oldest(2);
        read(&mut h, "x", "1", 2, 20, 30);
        read(&mut h, "y", "1", 3, 20, 30);
        let c = cross_check(&h);
        assert!(c.agrees(), "{:?} {:?}", c.disagreements, c.unknown);
        assert_eq!(c.revision.violations(), 0);
        assert_eq!(*c.model.outcome(), Outcome::Linearizable);
        put(&mut h, "x", "2", 40, 50, 4);
        read(&mut h, "x", "1", 2, 60, 70);
        let c = cross_check(&h);
        assert!(c.agrees(), "{:?} {:?}", c.disagreements, c.unknown);
        assert_eq!(c.revision.violations(), 1);
        assert!(matches!(c.model.outcome(), Outcome::NotLinearizable(_)));
    }

    #[test]
    fn a_repeated_value_explains_a_model_pass_on_a_stale_read() {
        // x=1, x=2, x=1 again: a stale read of the first 1 looks fine without revisions.
        let mut h = History::new();
        put(&mut h, "x", "1", 0, 10, 2);
        put(&mut h, "x", "2", 20, 30, 3);
        put(&mut h, "x", "1", 35, 80, 4);
        read(&mut h, "x", "1", 2, 40, 50);
        let c = cross_check(&h);
        assert_eq!(c.revision.violations(), 1);
        assert!(c.agrees(), "{:?}", c.disagreements);
        assert_eq!(c.explained.len(), 1, "{:?}", c.explained);
    }

    /// A write whose client is still waiting (its node stopped before answering) may have
    /// taken effect, as Jepsen's `:info` operations may: a later read of its value is no
    /// violation for either checker.
    #[test]
    fn a_write_still_pending_may_explain_a_read_of_its_value() {
        let mut h = History::new();
        put(&mut h, "x", "1", 0, 10, 2);
        let id = h.invoke(
            SimTime(20),
            NodeId(1),
            OpKind::Client(ClientOp::Put { key: "x".into(), value: "2".into(), key_lease: None }),
        );
        let effects = vec![("x".to_string(), Some("2".to_string()))];
        h.set_applied(id, AppliedWrite { index: 3, at: SimTime(60), revision: 3, effects, result: None });
        read(&mut h, "x", "2", 3, 70, 80);
        let c = cross_check(&h);
        assert!(c.agrees(), "{:?}", c.disagreements);
        assert_eq!(c.revision.violations(), 0);
        assert!(matches!(c.model.outcome(), Outcome::Linearizable), "{:?}", c.model.outcome());
    }

    #[test]
    fn a_model_pass_with_no_freedom_is_a_disagreement() {
        // A read that the revisions call stale but the values alone allow, with unique values
        // and sequential writes, can only mean one checker is wrong: made here by a read that
        // claims an older revision for the current value.
        let mut h = History::new();
        put(&mut h, "x", "1", 0, 10, 2);
        put(&mut h, "y", "9", 12, 14, 3);
        put(&mut h, "x", "2", 20, 30, 4);
        read(&mut h, "x", "2", 2, 40, 50);
        let c = cross_check(&h);
        assert!(!c.agrees(), "a value-revision mismatch is flagged by revisions only");
    }
}
