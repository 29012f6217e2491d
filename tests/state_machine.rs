//! The etcd state machine through raft: every change is a log entry applied on every node;
//! refused requests fail with the store's error on the node that was asked, and change nothing.

use leaselab::mvcc::{Compare, CompareOp, CompareTarget, TxnOp};
use leaselab::ClientOp;
use leaselab::{ClusterConfig, Command, NodeId, OpId, OpOutcome, Sim};

fn cluster() -> (Sim, NodeId) {
    let mut sim = Sim::new(3, ClusterConfig { node_count: 3, ..ClusterConfig::default() }).unwrap();
    sim.run_for_ms(4_000);
    let leader = sim.leader().unwrap();
    (sim, leader)
}

fn run(sim: &mut Sim, cmd: Command) -> OpOutcome {
    let op: OpId = sim.apply(cmd).unwrap().unwrap();
    sim.run_for_ms(300);
    sim.history().get(op).unwrap().outcome.clone()
}

fn put(node: NodeId, key: &str, value: &str) -> Command {
    Command::Client { node, op: ClientOp::Put { key: key.into(), value: value.into(), key_lease: None } }
}

#[test]
fn a_transaction_commits_atomically_on_every_node() {
    let (mut sim, leader) = cluster();
    run(&mut sim, put(leader, "a", "1"));
    let cas = |expect: &str, new: &str| Command::Client {
        node: leader,
        op: ClientOp::Txn {
            compares: vec![Compare {
                key: "a".into(),
                target: CompareTarget::Value,
                op: CompareOp::Equal,
                operand: expect.into(),
            }],
            success: vec![
                TxnOp::Put { key: "a".into(), value: new.into(), key_lease: None },
                TxnOp::Put { key: "b".into(), value: new.into(), key_lease: None },
            ],
            failure: vec![],
        },
    };
    assert_eq!(run(&mut sim, cas("1", "2")), OpOutcome::Ok { revision: 3 }, "both puts share revision 3");
    assert_eq!(run(&mut sim, cas("1", "9")), OpOutcome::Ok { revision: 3 }, "compare failed: nothing changed");
    for n in sim.nodes() {
        let kv = n.kv().unwrap();
        assert_eq!(
            (kv.get("a").as_deref(), kv.get("b").as_deref(), kv.revision()),
            (Some("2"), Some("2"), 3),
            "{}",
            n.id
        );
        assert_eq!(kv.mvcc().key_index("b").unwrap().generations[0].revs[0].sub, 1);
    }
}

#[test]
fn compaction_goes_through_raft_and_its_errors_reach_the_client() {
    let (mut sim, leader) = cluster();
    for i in 0..4 {
        run(&mut sim, put(leader, "k", &i.to_string()));
    }
    assert_eq!(
        run(&mut sim, Command::Client { node: leader, op: ClientOp::Compact { revision: 3 } }),
        OpOutcome::Ok { revision: 5 }
    );
    match run(&mut sim, Command::Client { node: leader, op: ClientOp::Compact { revision: 9 } }) {
        OpOutcome::Failed { reason } => assert!(reason.contains("future revision"), "{reason}"),
        other => panic!("{other:?}"),
    }
    match run(&mut sim, Command::Client { node: leader, op: ClientOp::Compact { revision: 2 } }) {
        OpOutcome::Failed { reason } => assert!(reason.contains("compacted"), "{reason}"),
        other => panic!("{other:?}"),
    }
    for n in sim.nodes() {
        assert_eq!(n.kv().unwrap().compacted_revision(), 3, "{}", n.id);
    }
}

#[test]
fn a_range_delete_removes_the_keys_on_every_node() {
    let (mut sim, leader) = cluster();
    for k in ["a1", "a2", "b1"] {
        run(&mut sim, put(leader, k, "x"));
    }
    run(&mut sim, Command::Client { node: leader, op: ClientOp::DeleteRange { key: "a".into(), end: "b".into() } });
    for n in sim.nodes() {
        assert_eq!(n.kv().unwrap().entries(10), vec![("b1".to_string(), "x".to_string())]);
    }
}

#[test]
fn bad_requests_are_refused_before_raft_and_change_nothing() {
    let (mut sim, leader) = cluster();
    let before = sim.snapshot();
    for bad in [
        put(leader, "", "v"),
        put(leader, "k", &"v".repeat(5_000)),
        Command::Client { node: leader, op: ClientOp::DeleteRange { key: String::new(), end: "z".into() } },
    ] {
        let e = sim.apply(bad).unwrap_err();
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(sim.snapshot(), before);
}

/// etcd decides a compaction's revision when it applies (kvstore's `updateCompactRev`): a
/// fresh cluster's compact(0) succeeds, the same again fails as already compacted, one in the
/// future fails with `ErrFutureRev`, and every failure names the revisions.
#[test]
fn compaction_revisions_are_judged_when_they_apply() {
    let (mut sim, leader) = cluster();
    let mut compact = |revision: u64| {
        let op = sim.apply(Command::Client { node: leader, op: ClientOp::Compact { revision } }).unwrap().unwrap();
        sim.run_for_ms(300);
        sim.history().get(op).unwrap().outcome.clone()
    };
    assert!(matches!(compact(0), OpOutcome::Ok { .. }));
    let OpOutcome::Failed { reason } = compact(0) else { panic!("compact(0) twice") };
    assert!(reason.contains("required revision 0 has been compacted"), "{reason}");
    let OpOutcome::Failed { reason } = compact(1_000) else { panic!("a compaction in the future") };
    assert!(reason.contains("1000"), "{reason}");
}

/// A writing transaction's gets are reads the checker checks, like any linearizable read.
#[test]
fn a_transactions_gets_are_checked_as_reads() {
    use leaselab::checker::Verdict;
    use leaselab::mvcc::RangeRequest;
    let (mut sim, leader) = cluster();
    run(&mut sim, put(leader, "a", "1"));
    let get = |key: &str| TxnOp::Range(RangeRequest { key: key.into(), ..RangeRequest::default() });
    let txn = Command::Client {
        node: leader,
        op: ClientOp::Txn {
            compares: vec![],
            success: vec![get("a"), get("none"), TxnOp::Put { key: "b".into(), value: "2".into(), key_lease: None }],
            failure: vec![],
        },
    };
    let op = sim.apply(txn).unwrap().unwrap();
    sim.run_for_ms(300);
    let record = sim.history().get(op).unwrap().clone();
    let reads = record.txn_reads.as_deref().expect("the gets are recorded");
    let seen: Vec<(&str, Option<&str>)> = reads.reads.iter().map(|r| (r.key.as_str(), r.value.as_deref())).collect();
    assert_eq!(seen, [("a", Some("1"))]);
    assert!(reads.ranges[1].covers("none"), "the absent key is vouched for by its get's span");
    let checker = sim.check();
    assert_eq!(checker.verdict(op), Some(&Verdict::Linearizable), "it read what was there");
    assert_eq!(
        checker.checked_ops(),
        3,
        "the put of a, the txn's write of b and its get of a (a key never written can only be absent)"
    );
    // Were a get stale, its explanation names where it ran (it has no read trace).
    let stale = leaselab::checker::StaleRead {
        read: op,
        key: "a".into(),
        returned: None,
        missed: OpId(1),
        missed_value: Some("1".into()),
        missed_done_at: record.invoked_at,
        read_invoked_at: record.invoked_at,
        seen_by: None,
    };
    let text = leaselab::explain::explain_stale_read(&sim, &stale);
    assert!(text.contains("returned a=(absent) via its transaction's raft entry"), "{text}");
}
