//! MVCC conformance, described after the cases etcd's own `key_index_test.go`,
//! `index_test.go` and `kv_test.go` cover (our words, our code). Each table row is one check.

use leaselab::mvcc::*;

fn rev(main: u64, sub: u64) -> Revision {
    Revision::new(main, sub)
}

/// The generations fixture: created at 2, updated at 4, deleted at 6; recreated at 8,
/// updated at 10, deleted at 12; recreated at 14 and updated within the same revision
/// (14.1), deleted at 16.
fn fixture() -> KeyIndex {
    let mut ki = KeyIndex::default();
    ki.put(rev(2, 0));
    ki.put(rev(4, 0));
    ki.tombstone(rev(6, 0)).unwrap();
    ki.put(rev(8, 0));
    ki.put(rev(10, 0));
    ki.tombstone(rev(12, 0)).unwrap();
    ki.put(rev(14, 0));
    ki.put(rev(14, 1));
    ki.tombstone(rev(16, 0)).unwrap();
    ki
}

#[test]
fn key_index_get_at_every_revision() {
    let ki = fixture();
    // (at, expected (modified, created, version)); None = not found.
    type Found = Option<(Revision, Revision, u64)>;
    let table: &[(u64, Found)] = &[
        (0, None),
        (1, None),
        (2, Some((rev(2, 0), rev(2, 0), 1))),
        (3, Some((rev(2, 0), rev(2, 0), 1))),
        (4, Some((rev(4, 0), rev(2, 0), 2))),
        (5, Some((rev(4, 0), rev(2, 0), 2))),
        (6, None),
        (7, None),
        (8, Some((rev(8, 0), rev(8, 0), 1))),
        (9, Some((rev(8, 0), rev(8, 0), 1))),
        (10, Some((rev(10, 0), rev(8, 0), 2))),
        (11, Some((rev(10, 0), rev(8, 0), 2))),
        (12, None),
        (13, None),
        (14, Some((rev(14, 1), rev(14, 0), 2))),
        (15, Some((rev(14, 1), rev(14, 0), 2))),
        (16, None),
        (17, None),
    ];
    for (at, want) in table {
        assert_eq!(ki.get(*at).ok(), *want, "get at {at}");
    }
}

#[test]
fn key_index_since_lists_one_revision_per_main() {
    let ki = fixture();
    let all = [rev(2, 0), rev(4, 0), rev(6, 0), rev(8, 0), rev(10, 0), rev(12, 0), rev(14, 1), rev(16, 0)];
    for (since, skip) in [(0u64, 0usize), (1, 0), (2, 0), (3, 1), (4, 1), (13, 6), (14, 6), (15, 7), (16, 7), (17, 8)] {
        assert_eq!(ki.since(since), all[skip..].to_vec(), "since {since}");
    }
}

/// etcd's current key index fixture (`newTestKeyIndex` in key_index_test.go): like
/// [`fixture`] but the third generation's second write is at 15.1.
fn etcd_fixture() -> KeyIndex {
    let mut ki = KeyIndex::default();
    for (r, tomb) in [(2, false), (4, false), (6, true), (8, false), (10, false), (12, true)] {
        if tomb {
            ki.tombstone(rev(r, 0)).unwrap();
        } else {
            ki.put(rev(r, 0));
        }
    }
    ki.put(rev(14, 0));
    ki.put(rev(15, 1));
    ki.tombstone(rev(16, 0)).unwrap();
    ki
}

/// etcd's `TestKeyIndexCompactAndKeep` (v3.5.16+, 3.6): the generations left and the revisions
/// kept after compacting at every revision 1–17, compacting one key index step by step and a
/// fresh one at each revision. A tombstone at the compaction revision is kept (compact(6)
/// leaves `[6]` with 6 kept), so a watch from the compaction revision still sees the delete.
#[test]
fn key_index_compaction_follows_etcd_at_every_revision() {
    let g = |revs: &[(u64, u64)]| revs.iter().map(|&(m, s)| rev(m, s)).collect::<Vec<_>>();
    let (g1, g2, g3) = (g(&[(2, 0), (4, 0), (6, 0)]), g(&[(8, 0), (10, 0), (12, 0)]), g(&[(14, 0), (15, 1), (16, 0)]));
    let table: Vec<(u64, Vec<Vec<Revision>>, Vec<Revision>)> = vec![
        (1, vec![g1.clone(), g2.clone(), g3.clone(), vec![]], vec![]),
        (2, vec![g1.clone(), g2.clone(), g3.clone(), vec![]], g(&[(2, 0)])),
        (3, vec![g1.clone(), g2.clone(), g3.clone(), vec![]], g(&[(2, 0)])),
        (4, vec![g(&[(4, 0), (6, 0)]), g2.clone(), g3.clone(), vec![]], g(&[(4, 0)])),
        (5, vec![g(&[(4, 0), (6, 0)]), g2.clone(), g3.clone(), vec![]], g(&[(4, 0)])),
        (6, vec![g(&[(6, 0)]), g2.clone(), g3.clone(), vec![]], g(&[(6, 0)])),
        (7, vec![g2.clone(), g3.clone(), vec![]], vec![]),
        (8, vec![g2.clone(), g3.clone(), vec![]], g(&[(8, 0)])),
        (9, vec![g2.clone(), g3.clone(), vec![]], g(&[(8, 0)])),
        (10, vec![g(&[(10, 0), (12, 0)]), g3.clone(), vec![]], g(&[(10, 0)])),
        (11, vec![g(&[(10, 0), (12, 0)]), g3.clone(), vec![]], g(&[(10, 0)])),
        (12, vec![g(&[(12, 0)]), g3.clone(), vec![]], g(&[(12, 0)])),
        (13, vec![g3.clone(), vec![]], vec![]),
        (14, vec![g3.clone(), vec![]], g(&[(14, 0)])),
        (15, vec![g(&[(15, 1), (16, 0)]), vec![]], g(&[(15, 1)])),
        (16, vec![g(&[(16, 0)]), vec![]], g(&[(16, 0)])),
        (17, vec![vec![]], vec![]),
    ];
    let gens = |ki: &KeyIndex| ki.generations.iter().map(|g| g.revs.clone()).collect::<Vec<_>>();
    let mut stepwise = etcd_fixture();
    for (at, want_gens, want_keep) in &table {
        let keep = stepwise.compact(*at);
        assert_eq!(&gens(&stepwise), want_gens, "generations after successive compactions up to {at}");
        assert_eq!(&keep, want_keep, "kept after successive compactions up to {at}");
        let mut once = etcd_fixture();
        let keep = once.compact(*at);
        assert_eq!(&gens(&once), want_gens, "generations after compact({at})");
        assert_eq!(&keep, want_keep, "kept after compact({at})");
    }
    // etcd's TestKeyIndexCompactOnFurtherRev: past the last write the newest value stays.
    let mut ki = KeyIndex::default();
    ki.put(rev(1, 0));
    ki.put(rev(2, 0));
    assert_eq!(ki.compact(3), vec![rev(2, 0)]);
    assert_eq!(gens(&ki), vec![vec![rev(2, 0)]]);
    // Created revision and version survive compaction: a read at 5 still sees version 2.
    let mut ki = fixture();
    ki.compact(4);
    assert_eq!(ki.get(5).unwrap(), (rev(4, 0), rev(2, 0), 2));
    assert!(ki.get(3).is_err(), "history before the compaction point is gone");
}

#[test]
fn tombstone_of_a_missing_key_is_refused() {
    let mut ki = KeyIndex::default();
    assert_eq!(ki.tombstone(rev(2, 0)), Err(MvccError::RevisionNotFound));
    ki.put(rev(3, 0));
    ki.tombstone(rev(4, 0)).unwrap();
    assert_eq!(ki.tombstone(rev(5, 0)), Err(MvccError::RevisionNotFound), "already deleted");
}

fn store_with(keys: &[(&str, &str)]) -> MvccStore {
    let mut s = MvccStore::default();
    for (k, v) in keys {
        s.put(k, v, None).unwrap();
    }
    s
}

fn range(s: &MvccStore, key: &str, end: &str, rev: u64, limit: usize) -> Result<(Vec<String>, usize, u64), MvccError> {
    let r = s.range(&RangeRequest { key: key.into(), end: end.into(), rev, limit, count_only: false })?;
    Ok((r.kvs.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect(), r.count, r.rev))
}

#[test]
fn revisions_start_at_one_and_the_first_write_is_two() {
    let mut s = MvccStore::default();
    assert_eq!(s.current_revision(), 1);
    assert_eq!(s.put("foo", "bar", None).unwrap(), 2);
    let kv = s.get("foo").unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 2, 1));
    assert_eq!(s.put("foo", "baz", None).unwrap(), 3);
    let kv = s.get("foo").unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 3, 2));
}

#[test]
fn ranges_are_half_open_with_the_nul_end_meaning_everything_after() {
    let s = store_with(&[("foo", "0"), ("foo1", "1"), ("foo2", "2")]);
    let check = |key: &str, end: &str, want: &[&str]| {
        let (kvs, count, rev) = range(&s, key, end, 0, 0).unwrap();
        assert_eq!(kvs, want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "range [{key:?}, {end:?})");
        assert_eq!(count, want.len());
        assert_eq!(rev, 4, "the result revision is always the current one");
    };
    check("foo", "", &["foo=0"]);
    check("foo", "foo1", &["foo=0"]);
    check("foo", "foo3", &["foo=0", "foo1=1", "foo2=2"]);
    check("foo1", "\0", &["foo1=1", "foo2=2"]);
    check("\0", "\0", &["foo=0", "foo1=1", "foo2=2"]);
    check("foo3", "\0", &[]);
    check("foo2", "foo1", &[]);
}

#[test]
fn range_at_a_revision_limit_and_count() {
    let s = store_with(&[("foo", "0"), ("foo1", "1"), ("foo2", "2")]);
    assert_eq!(range(&s, "foo", "foo3", 2, 0).unwrap().0, vec!["foo=0"]);
    assert_eq!(range(&s, "foo", "foo3", 3, 0).unwrap().0, vec!["foo=0", "foo1=1"]);
    let (kvs, count, _) = range(&s, "foo", "foo3", 0, 1).unwrap();
    assert_eq!((kvs.len(), count), (1, 3), "limit truncates, count stays the total");
    let r = s
        .range(&RangeRequest { key: "foo".into(), end: "foo3".into(), count_only: true, ..Default::default() })
        .unwrap();
    assert_eq!((r.kvs.len(), r.count), (0, 3));
    assert_eq!(range(&s, "foo", "", 5, 0), Err(MvccError::FutureRev { requested: 5, current: 4 }));
}

#[test]
fn delete_returns_the_count_and_bumps_only_when_something_changed() {
    let mut s = store_with(&[("foo", "0"), ("foo1", "1"), ("foo2", "2")]);
    assert_eq!(s.delete_range("nope", "").unwrap(), (0, 4));
    assert_eq!(s.delete_range("foo", "foo2").unwrap(), (2, 5));
    assert_eq!(range(&s, "foo", "\0", 0, 0).unwrap().0, vec!["foo2=2"]);
    assert_eq!(range(&s, "foo", "\0", 4, 0).unwrap().0.len(), 3, "history still readable");
    assert_eq!(s.delete_range("foo", "foo2").unwrap(), (0, 5), "already gone");
}

#[test]
fn delete_then_put_restarts_version_and_create_revision() {
    let mut s = store_with(&[("foo", "a"), ("foo", "b")]);
    s.delete_range("foo", "").unwrap();
    s.put("foo", "c", None).unwrap();
    let kv = s.get("foo").unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (5, 5, 1));
}

#[test]
fn a_txn_shares_the_main_revision_and_counts_sub_revisions() {
    let mut s = MvccStore::default();
    let ops = [
        TxnOp::Put { key: "a".into(), value: "1".into(), key_lease: None },
        TxnOp::Put { key: "b".into(), value: "2".into(), key_lease: None },
        TxnOp::Put { key: "a".into(), value: "3".into(), key_lease: None },
    ];
    let r = s.txn(&[], &ops, &[]).unwrap();
    assert!(r.succeeded);
    assert_eq!(r.rev, 2);
    let ki = s.key_index("a").unwrap();
    assert_eq!(ki.generations[0].revs, vec![rev(2, 0), rev(2, 2)]);
    assert_eq!(s.key_index("b").unwrap().generations[0].revs, vec![rev(2, 1)]);
    assert_eq!(s.get("a").unwrap().version, 2);
    // A txn that changes nothing keeps the revision.
    let r = s.txn(&[], &[TxnOp::Range(RangeRequest { key: "a".into(), ..Default::default() })], &[]).unwrap();
    assert_eq!(r.rev, 2);
}

#[test]
fn txn_compares_pick_the_branch() {
    let mut s = store_with(&[("k", "v")]);
    let cmp = |target, op, operand: &str| Compare { key: "k".into(), target, op, operand: operand.into() };
    let put = |v: &str| vec![TxnOp::Put { key: "out".into(), value: v.into(), key_lease: None }];
    let cases = [
        (cmp(CompareTarget::Value, CompareOp::Equal, "v"), true),
        (cmp(CompareTarget::Value, CompareOp::Greater, "a"), true),
        (cmp(CompareTarget::Version, CompareOp::Equal, "1"), true),
        (cmp(CompareTarget::CreateRevision, CompareOp::Equal, "2"), true),
        (cmp(CompareTarget::ModRevision, CompareOp::Less, "2"), false),
        (cmp(CompareTarget::Version, CompareOp::NotEqual, "1"), false),
    ];
    for (c, want) in cases {
        let r = s.txn(std::slice::from_ref(&c), &put("then"), &put("else")).unwrap();
        assert_eq!(r.succeeded, want, "{c:?}");
        assert_eq!(s.get("out").unwrap().value, if want { "then" } else { "else" });
    }
    // A missing key compares as version 0.
    let missing =
        Compare { key: "none".into(), target: CompareTarget::Version, op: CompareOp::Equal, operand: "0".into() };
    assert!(s.txn(&[missing], &[], &[]).unwrap().succeeded);
    // ...but any value compare on it fails, even "not equal" and "equal to empty" (etcd's
    // applyCompare: a missing value cannot be told from an empty one).
    for (op, operand) in [(CompareOp::NotEqual, "1"), (CompareOp::Equal, ""), (CompareOp::Less, "1")] {
        let c = Compare { key: "none".into(), target: CompareTarget::Value, op, operand: operand.into() };
        assert!(!s.txn(std::slice::from_ref(&c), &[], &[]).unwrap().succeeded, "{c:?}");
    }
}

#[test]
fn compaction_boundaries() {
    let mut s = store_with(&[("foo", "0"), ("foo", "1"), ("foo", "2"), ("bar", "x")]);
    assert_eq!(s.compact(6), Err(MvccError::FutureRev { requested: 6, current: 5 }));
    s.compact(3).unwrap();
    assert_eq!(range(&s, "foo", "", 3, 0).unwrap().0, vec!["foo=1"], "a read at the compaction point is allowed");
    assert_eq!(range(&s, "foo", "", 2, 0), Err(MvccError::Compacted { requested: 2, compacted: 3 }));
    assert_eq!(s.compact(3), Err(MvccError::Compacted { requested: 3, compacted: 3 }));
    assert_eq!(s.compact(2), Err(MvccError::Compacted { requested: 2, compacted: 3 }));
    s.compact(5).unwrap();
    assert_eq!(range(&s, "\0", "\0", 0, 0).unwrap().0, vec!["bar=x", "foo=2"], "the latest value of each key survives");
}

#[test]
fn compaction_forgets_keys_deleted_before_it() {
    let mut s = store_with(&[("gone", "1")]);
    s.delete_range("gone", "").unwrap();
    s.put("other", "1", None).unwrap();
    s.compact(4).unwrap();
    assert!(s.key_index("gone").is_none());
    assert_eq!(range(&s, "gone", "", 0, 0).unwrap().1, 0);
}

#[test]
fn watch_from_a_revision_sees_puts_and_deletes_in_order() {
    let mut s = store_with(&[("a", "1"), ("b", "1")]);
    s.delete_range("a", "").unwrap();
    s.put("a", "2", None).unwrap();
    let events = s.watch_since("a", "\0", 3).unwrap();
    let kinds: Vec<String> = events
        .iter()
        .map(|(r, e)| match e {
            WatchEvent::Put(kv) => format!("{r} put {}={}", kv.key, kv.value),
            WatchEvent::Delete { key, .. } => format!("{r} delete {key}"),
        })
        .collect();
    assert_eq!(kinds, vec!["3.0 put b=1", "4.0 delete a", "5.0 put a=2"]);
    s.compact(4).unwrap();
    // etcd's watcher group refuses only a start below the compaction revision (`minRev <
    // compactRev`); from the compaction revision itself the delete kept there is delivered.
    assert_eq!(s.watch_since("a", "\0", 3), Err(MvccError::Compacted { requested: 3, compacted: 4 }));
    let from_compaction: Vec<u64> = s.watch_since("a", "\0", 4).unwrap().iter().map(|(r, _)| r.main).collect();
    assert_eq!(from_compaction, vec![4, 5], "the delete at the compaction revision, then the put");
    assert_eq!(s.watch_since("a", "\0", 5).unwrap().len(), 1);
}

/// etcd's compaction revision starts at −1 (kvstore.go), so a fresh store's first compact(0)
/// succeeds and a second one is refused as already compacted; a compaction in the future is
/// refused (`ErrFutureRev`).
#[test]
fn compact_zero_on_a_fresh_store_succeeds_once() {
    let mut s = MvccStore::default();
    assert_eq!(s.compact(0), Ok(()));
    assert_eq!(s.compact(0), Err(MvccError::Compacted { requested: 0, compacted: 0 }));
    assert_eq!(s.compact(2), Err(MvccError::FutureRev { requested: 2, current: 1 }));
    assert_eq!(s.compact(1), Ok(()), "the current revision may be compacted");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut s = store_with(&[("k", "v")]);
    let before = s.clone();
    assert_eq!(s.put("", "v", None), Err(MvccError::EmptyKey));
    let big = "x".repeat(VALUE_BYTES_MAX + 1);
    assert!(matches!(s.put("k", &big, None), Err(MvccError::ValueTooLarge { .. })));
    let ops = [
        TxnOp::Put { key: "ok".into(), value: "1".into(), key_lease: None },
        TxnOp::Put { key: String::new(), value: "1".into(), key_lease: None },
    ];
    assert_eq!(s.txn(&[], &ops, &[]), Err(MvccError::EmptyKey), "a txn is all or nothing");
    assert_eq!(s, before);
}
