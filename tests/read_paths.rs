//! Read-path scenarios: each reads like a script — set up, act, expect the
//! path, the values behind it and the checker's verdict.

use leaselab::checker::{Checker, Verdict};
use leaselab::history::OpRecord;
use leaselab::ClientOp;
use leaselab::{ClusterConfig, Command, LeaderLeasePolicy, NodeId, OpId, OpOutcome, ReadMode, ReadPath, Sim};

fn cluster(nodes: usize, policy: LeaderLeasePolicy) -> ClusterConfig {
    let mut c = ClusterConfig { node_count: nodes, ..ClusterConfig::default() };
    c.leader_lease.policy = policy;
    c
}

/// A simulation with an elected leader that has written `x=1`.
fn settled(seed: u64, config: ClusterConfig) -> (Sim, NodeId) {
    let mut sim = Sim::new(seed, config).unwrap();
    sim.run_for_ms(4_000);
    let leader = sim.leader().expect("leader within 4 s");
    put(&mut sim, leader, "x", "1");
    sim.run_for_ms(500);
    (sim, leader)
}

fn put(sim: &mut Sim, node: NodeId, key: &str, value: &str) -> OpId {
    sim.apply(Command::Client { node, op: ClientOp::Put { key: key.into(), value: value.into(), key_lease: None } })
        .unwrap()
        .unwrap()
}

fn read(sim: &mut Sim, node: NodeId, key: &str, mode: ReadMode) -> OpId {
    sim.apply(Command::Client { node, op: ClientOp::Read { key: key.into(), mode } }).unwrap().unwrap()
}

fn record(sim: &Sim, op: OpId) -> &OpRecord {
    sim.history().get(op).unwrap()
}

fn path(sim: &Sim, op: OpId) -> ReadPath {
    record(sim, op).trace.as_ref().unwrap().path.expect("finished read has a path")
}

fn value(sim: &Sim, op: OpId) -> Option<String> {
    record(sim, op).read.as_ref().unwrap().value.clone()
}

fn follower_of(sim: &Sim, leader: NodeId) -> NodeId {
    sim.nodes().iter().find(|n| n.id != leader).unwrap().id
}

fn checked(sim: &Sim) -> Checker {
    let mut c = Checker::new();
    c.update(sim.history());
    c
}

#[test]
fn a_leader_with_a_valid_lease_answers_locally_with_no_messages() {
    let (mut sim, leader) = settled(1, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    let op = read(&mut sim, leader, "x", ReadMode::Linearizable);
    let r = record(&sim, op);
    assert_eq!(r.completed_at, Some(r.invoked_at), "zero latency: answered in the same instant");
    assert_eq!(path(&sim, op), ReadPath::LeaseRead);
    assert!(r.trace.as_ref().unwrap().messages.is_empty());
    assert!(r.trace.as_ref().unwrap().steps[0].text.contains("leader lease valid"));
    assert_eq!(value(&sim, op).as_deref(), Some("1"));
}

#[test]
fn a_leader_without_a_lease_uses_read_index() {
    let mut config = cluster(3, LeaderLeasePolicy::SendTimeAnchored);
    config.leader_lease.enabled = false;
    let (mut sim, leader) = settled(2, config);
    let op = read(&mut sim, leader, "x", ReadMode::Linearizable);
    sim.run_for_ms(200);
    assert_eq!(path(&sim, op), ReadPath::ReadIndex);
    let trace = record(&sim, op).trace.clone().unwrap();
    assert!(trace.steps[0].text.contains("disabled"), "{:?}", trace.steps);
    assert!(trace.read_index.is_some());
    assert!(trace.messages.len() >= 2, "a heartbeat round: {:?}", trace.messages);
    assert_eq!(value(&sim, op).as_deref(), Some("1"));
}

#[test]
fn a_follower_forwards_the_read_index_and_answers_from_its_own_store() {
    let (mut sim, leader) = settled(3, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    let follower = follower_of(&sim, leader);
    let op = read(&mut sim, follower, "x", ReadMode::Linearizable);
    sim.run_for_ms(200);
    assert_eq!(path(&sim, op), ReadPath::ForwardedReadIndex);
    let r = record(&sim, op);
    assert!(r.completed_at.unwrap() > r.invoked_at, "needs a round trip");
    assert_eq!(value(&sim, op).as_deref(), Some("1"));
    assert!(r.trace.as_ref().unwrap().steps.iter().any(|s| s.text.contains("forward ReadIndex")));
}

#[test]
fn a_single_node_cluster_renews_its_lease_and_serves_lease_reads() {
    let (mut sim, leader) = settled(4, cluster(1, LeaderLeasePolicy::SendTimeAnchored));
    let stats = sim.node(leader).leader_lease_stats(sim.local_time(leader), sim.config()).unwrap();
    assert!(stats.renew_count > 0 && stats.valid, "{stats:?}");
    let op = read(&mut sim, leader, "x", ReadMode::Linearizable);
    assert_eq!(path(&sim, op), ReadPath::LeaseRead);
    assert_eq!(value(&sim, op).as_deref(), Some("1"));
}

#[test]
fn the_renew_at_ack_policy_also_renews_on_a_single_node() {
    let (mut sim, leader) = settled(4, cluster(1, LeaderLeasePolicy::RenewAtAck));
    let op = read(&mut sim, leader, "x", ReadMode::Linearizable);
    assert_eq!(path(&sim, op), ReadPath::LeaseRead);
}

#[test]
fn a_serializable_read_at_a_cut_off_follower_is_stale_by_design_and_reports_its_lag() {
    let (mut sim, leader) = settled(5, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    let follower = follower_of(&sim, leader);
    sim.apply(Command::Isolate { node: follower }).unwrap();
    put(&mut sim, leader, "x", "2");
    put(&mut sim, leader, "y", "3");
    sim.run_for_ms(300);
    let op = read(&mut sim, follower, "x", ReadMode::Serializable);
    assert_eq!(path(&sim, op), ReadPath::Serializable);
    assert_eq!(value(&sim, op).as_deref(), Some("1"));
    assert_eq!(record(&sim, op).trace.as_ref().unwrap().revision_lag, Some(2));
    let c = checked(&sim);
    assert_eq!(c.verdict(op), Some(&Verdict::AllowedStaleness { lag: 2 }));
    assert_eq!(c.violations(), 0);
}

#[test]
fn a_leader_cut_off_from_the_majority_loses_its_lease_and_its_reads_time_out() {
    let (mut sim, leader) = settled(6, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    sim.apply(Command::Isolate { node: leader }).unwrap();
    sim.run_for_ms(350);
    // Still leader (check_quorum has not fired yet) but the lease has run out.
    assert!(sim.node(leader).is_leader());
    let op = read(&mut sim, leader, "x", ReadMode::Linearizable);
    assert!(record(&sim, op).trace.as_ref().unwrap().steps[0].text.contains("leader lease expired"));
    sim.run_for_ms(4_000);
    let r = record(&sim, op);
    assert!(matches!(&r.outcome, OpOutcome::Failed { .. }), "{:?}", r.outcome);
    // Meanwhile the majority elected a new leader that serves reads.
    let new_leader = sim.leader().unwrap();
    assert_ne!(new_leader, leader);
    put(&mut sim, new_leader, "x", "2");
    sim.run_for_ms(300);
    let op2 = read(&mut sim, new_leader, "x", ReadMode::Linearizable);
    sim.run_for_ms(300);
    assert_eq!(value(&sim, op2).as_deref(), Some("2"));
    assert_eq!(checked(&sim).violations(), 0);
}

#[test]
fn a_read_arriving_before_the_new_leader_commits_in_its_term_is_retried() {
    let mut config = cluster(3, LeaderLeasePolicy::SendTimeAnchored);
    config.leader_lease.enabled = false;
    let mut sim = Sim::new(8, config).unwrap();
    // Read at every node right away: nobody is leader yet, and the first leader has not
    // committed in its term. Every read must still finish, after retries.
    let ops: Vec<OpId> = (1..=3).map(|i| read(&mut sim, NodeId(i), "x", ReadMode::Linearizable)).collect();
    sim.run_for_ms(2_900);
    let retried = ops.iter().any(|&op| record(&sim, op).trace.as_ref().unwrap().retries > 0);
    assert!(retried, "some read needed a retry");
    for op in ops {
        let r = record(&sim, op);
        assert!(matches!(r.outcome, OpOutcome::Ok { .. }), "{op}: {:?} {:?}", r.outcome, r.trace);
        assert_eq!(value(&sim, op), None);
    }
}

/// The drift scenario: leader clock at `rate_ppm`, leader partitioned away, the
/// majority elects a new leader which commits a write; then a client keeps reading at the old
/// leader every 10 ms. Returns the reads and their verdicts.
fn drift_scenario(seed: u64, policy: LeaderLeasePolicy, rate_ppm: u32) -> (Sim, Vec<(OpId, Option<Verdict>)>) {
    let (mut sim, old) = settled(seed, cluster(3, policy));
    sim.apply(Command::SetClockRate { node: old, rate_ppm }).unwrap();
    sim.run_for_ms(500);
    sim.apply(Command::Isolate { node: old }).unwrap();
    let mut new_leader = None;
    for _ in 0..800 {
        sim.run_for_ms(5);
        new_leader = sim.nodes().iter().find(|n| n.is_leader() && n.id != old).map(|n| n.id);
        if new_leader.is_some() {
            break;
        }
    }
    let new_leader = new_leader.expect("the majority elects a leader");
    let write = put(&mut sim, new_leader, "x", "2");
    while record(&sim, write).outcome == OpOutcome::Pending {
        sim.run_for_ms(1);
    }
    let reads: Vec<OpId> = (0..100)
        .map(|_| {
            let op = read(&mut sim, old, "x", ReadMode::Linearizable);
            sim.run_for_ms(10);
            op
        })
        .collect();
    sim.run_for_ms(4_000);
    let c = checked(&sim);
    let verdicts = reads.into_iter().map(|op| (op, c.verdict(op).cloned())).collect();
    (sim, verdicts)
}

fn stale_reads(verdicts: &[(OpId, Option<Verdict>)]) -> Vec<OpId> {
    verdicts.iter().filter(|(_, v)| matches!(v, Some(Verdict::Stale(_)))).map(|(op, _)| *op).collect()
}

#[test]
fn drift_beyond_the_bound_gives_a_stale_lease_read_under_the_renew_at_ack_policy() {
    // The window depends on where the isolation falls in the old leader's check-quorum cycle
    // and on the followers' randomized timeouts, so look over a few seeds.
    let mut seen = 0;
    for seed in 20..30 {
        let (sim, verdicts) = drift_scenario(seed, LeaderLeasePolicy::RenewAtAck, 800_000);
        for op in stale_reads(&verdicts) {
            seen += 1;
            assert_eq!(path(&sim, op), ReadPath::LeaseRead, "seed {seed}");
            assert_eq!(value(&sim, op).as_deref(), Some("1"));
            match &verdicts.iter().find(|(o, _)| *o == op).unwrap().1 {
                Some(Verdict::Stale(s)) => assert_eq!(s.missed_value.as_deref(), Some("2")),
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(seen > 0, "the renew-at-ack policy never served a stale lease read over 10 seeds");
}

#[test]
fn the_same_runs_under_the_safe_policy_read_no_stale_value() {
    for seed in 20..30 {
        let (_, verdicts) = drift_scenario(seed, LeaderLeasePolicy::SendTimeAnchored, 800_000);
        assert!(stale_reads(&verdicts).is_empty(), "seed {seed}");
        assert!(verdicts.iter().all(|(_, v)| !matches!(v, Some(Verdict::Violation { .. }))), "seed {seed}");
    }
}

#[test]
fn raft_lease_based_reads_show_the_two_leader_window() {
    let mut seen = 0;
    for seed in 20..25 {
        let (sim, verdicts) = drift_scenario(seed, LeaderLeasePolicy::RaftLeaseBased, 1_000_000);
        for op in stale_reads(&verdicts) {
            seen += 1;
            assert_eq!(path(&sim, op), ReadPath::RaftLeaseBased);
        }
    }
    assert!(seen > 0, "LeaseBased never served a stale read while two leaders existed");
}

/// A pause longer than the bound: the leader stops just after a heartbeat round, is cut off,
/// the majority moves on, and the leader resumes to the acknowledgements waiting in its inbox.
fn pause_scenario(policy: LeaderLeasePolicy) -> (Sim, OpId, Option<Verdict>) {
    let (mut sim, old) = settled(10, cluster(3, policy));
    sim.run_for_ms(5);
    sim.apply(Command::Pause { node: old }).unwrap();
    sim.run_for_ms(30); // acks of the last round arrive and queue up
    sim.apply(Command::Isolate { node: old }).unwrap();
    sim.run_for_ms(2_500);
    let new_leader = sim.nodes().iter().find(|n| n.is_leader() && n.id != old).expect("new leader").id;
    put(&mut sim, new_leader, "x", "2");
    sim.run_for_ms(100);
    sim.apply(Command::Resume { node: old }).unwrap();
    let op = read(&mut sim, old, "x", ReadMode::Linearizable);
    sim.run_for_ms(4_000);
    let verdict = checked(&sim).verdict(op).cloned();
    (sim, op, verdict)
}

#[test]
fn a_pause_longer_than_the_bound_gives_a_stale_read_under_the_renew_at_ack_policy() {
    let (sim, op, verdict) = pause_scenario(LeaderLeasePolicy::RenewAtAck);
    assert_eq!(path(&sim, op), ReadPath::LeaseRead);
    assert!(matches!(verdict, Some(Verdict::Stale(_))), "{verdict:?}");
}

#[test]
fn the_same_pause_under_the_safe_policy_reads_no_stale_value() {
    let (_sim, _op, verdict) = pause_scenario(LeaderLeasePolicy::SendTimeAnchored);
    assert!(!matches!(verdict, Some(Verdict::Stale(_)) | Some(Verdict::Violation { .. })), "{verdict:?}");
}

#[test]
fn a_leader_change_aborts_a_pending_read_index() {
    let mut config = cluster(3, LeaderLeasePolicy::SendTimeAnchored);
    config.leader_lease.enabled = false;
    let (mut sim, leader) = settled(11, config);
    let follower = follower_of(&sim, leader);
    // Cut the leader off, then read at the follower: the forwarded ReadIndex is lost, and
    // when the follower learns of the new leader the read is aborted.
    sim.apply(Command::Isolate { node: leader }).unwrap();
    let op = read(&mut sim, follower, "x", ReadMode::Linearizable);
    sim.run_for_ms(4_000);
    let r = record(&sim, op);
    match &r.outcome {
        OpOutcome::Failed { reason } => assert_eq!(reason, "leader changed"),
        other => panic!("{other:?} {:?}", r.trace),
    }
}

#[test]
fn a_read_answered_at_once_is_judged_at_once_while_time_stands_still() {
    // The page pauses, a client reads on the leader lease: the verdict must show without
    // waiting for time to move (no later operation can overlap a read that already ended).
    let (mut sim, leader) = settled(1, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    let op = read(&mut sim, leader, "x", ReadMode::Linearizable);
    assert_eq!(record(&sim, op).completed_at, Some(sim.now()));
    let mut checker = Checker::new();
    checker.update(sim.history());
    assert_eq!(checker.verdict(op), Some(&Verdict::Linearizable));
    // A write sent in the same microsecond, after the read ended, is ordered after it.
    let write = put(&mut sim, leader, "x", "2");
    let again = read(&mut sim, leader, "x", ReadMode::Linearizable);
    checker.update(sim.history());
    assert_eq!(checker.verdict(op), Some(&Verdict::Linearizable));
    // The read after it overlaps the pending write; its revision places it before the write,
    // so it is judged at once too.
    assert_eq!(checker.verdict(again), Some(&Verdict::Linearizable));
    sim.run_for_ms(500);
    checker.update(sim.history());
    assert!(matches!(record(&sim, write).outcome, OpOutcome::Ok { .. }), "{:?}", record(&sim, write).outcome);
    assert_eq!(checker.verdict(again), Some(&Verdict::Linearizable));
}

fn range(sim: &mut Sim, node: NodeId, key: &str, end: &str, mode: ReadMode) -> OpId {
    let range = leaselab::mvcc::RangeRequest { key: key.into(), end: end.into(), ..Default::default() };
    sim.apply(Command::Client { node, op: ClientOp::Range { range, mode } }).unwrap().unwrap()
}

/// etcd serves a Range like a Get: linearizable through the read barrier (here each read path
/// in turn), serializable from the local store. The answer's keys are checked one by one, and
/// the keys it found absent too.
#[test]
fn a_range_read_takes_every_read_path_and_is_checked_key_by_key() {
    let (mut sim, leader) = settled(3, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    put(&mut sim, leader, "x2", "2");
    put(&mut sim, leader, "y", "9");
    sim.run_for_ms(500);
    let follower = follower_of(&sim, leader);
    let at_leader = range(&mut sim, leader, "x", "y", ReadMode::Linearizable);
    let at_follower = range(&mut sim, follower, "x", "y", ReadMode::Linearizable);
    let serializable = range(&mut sim, follower, "x", "y", ReadMode::Serializable);
    sim.run_for_ms(500);
    assert_eq!(path(&sim, at_leader), ReadPath::LeaseRead);
    assert_eq!(path(&sim, at_follower), ReadPath::ForwardedReadIndex);
    assert_eq!(path(&sim, serializable), ReadPath::Serializable);
    let r = record(&sim, at_follower);
    assert_eq!(r.result.as_deref(), Some("2 of 2 keys: x=1, x2=2"));
    assert!(r.index.is_none(), "no raft entry");
    let reads = r.txn_reads.as_deref().unwrap();
    assert_eq!(reads.reads.len(), 2);
    assert!(reads.ranges[0].covers("x1") && !reads.ranges[0].covers("y"));
    let c = checked(&sim);
    assert_eq!(c.verdict(at_leader), Some(&Verdict::Linearizable));
    assert_eq!(c.verdict(at_follower), Some(&Verdict::Linearizable));
    assert!(matches!(c.verdict(serializable), Some(Verdict::AllowedStaleness { .. })));

    // Without a leader lease the leader's range read confirms leadership with ReadIndex.
    let mut config = cluster(3, LeaderLeasePolicy::SendTimeAnchored);
    config.leader_lease.enabled = false;
    let (mut sim, leader) = settled(3, config);
    let op = range(&mut sim, leader, "x", "\0", ReadMode::Linearizable);
    sim.run_for_ms(500);
    assert_eq!(path(&sim, op), ReadPath::ReadIndex);
    assert_eq!(checked(&sim).verdict(op), Some(&Verdict::Linearizable));
}

/// A range at a compacted revision is refused as etcd refuses it, and the read fails with
/// that reason (nothing to check).
#[test]
fn a_range_at_a_compacted_revision_fails_with_etcds_error() {
    let (mut sim, leader) = settled(3, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    put(&mut sim, leader, "x", "2");
    sim.run_for_ms(300);
    sim.apply(Command::Client { node: leader, op: ClientOp::Compact { revision: 3 } }).unwrap();
    sim.run_for_ms(300);
    let range = leaselab::mvcc::RangeRequest { key: "x".into(), rev: 2, ..Default::default() };
    let op = sim.apply(Command::Client { node: leader, op: ClientOp::Range { range, mode: ReadMode::Linearizable } });
    let op = op.unwrap().unwrap();
    sim.run_for_ms(300);
    let OpOutcome::Failed { reason } = &record(&sim, op).outcome else { panic!("{:?}", record(&sim, op)) };
    assert!(reason.contains("has been compacted"), "{reason}");
}

/// etcd serves a transaction of gets only (`isTxnReadonly`) through the read barrier, not the
/// log: here it takes the leader's lease read, and at a follower the forwarded ReadIndex.
#[test]
fn a_read_only_transaction_is_served_by_the_read_paths() {
    use leaselab::mvcc::{Compare, CompareOp, CompareTarget, RangeRequest, TxnOp};
    let (mut sim, leader) = settled(3, cluster(3, LeaderLeasePolicy::SendTimeAnchored));
    let get = |k: &str| TxnOp::Range(RangeRequest { key: k.into(), ..Default::default() });
    let txn = |node| {
        let compare =
            Compare { key: "x".into(), target: CompareTarget::Value, op: CompareOp::Equal, operand: "1".into() };
        Command::Client {
            node,
            op: ClientOp::Txn { compares: vec![compare], success: vec![get("x")], failure: vec![get("y")] },
        }
    };
    let at_leader = sim.apply(txn(leader)).unwrap().unwrap();
    let follower = follower_of(&sim, leader);
    let at_follower = sim.apply(txn(follower)).unwrap().unwrap();
    sim.run_for_ms(500);
    assert_eq!(path(&sim, at_leader), ReadPath::LeaseRead);
    assert_eq!(path(&sim, at_follower), ReadPath::ForwardedReadIndex);
    let r = record(&sim, at_follower);
    assert_eq!(r.result.as_deref(), Some("then ran: get x → 1"));
    assert!(r.index.is_none() && r.revision.is_none(), "no entry, no revision");
    assert_eq!(checked(&sim).verdict(at_follower), Some(&Verdict::Linearizable));
}

/// A stale range read is caught like a stale get: the pause tour's old leader, under
/// renew-at-ack, answers a range from its own store after a newer leader wrote x=2.
#[test]
fn a_stale_range_read_is_caught_and_explained() {
    let mut scenario = leaselab::scenario::builtin("pause-stale").unwrap();
    let last = scenario.steps.last_mut().unwrap();
    let range = leaselab::mvcc::RangeRequest { key: "x".into(), end: "y".into(), ..Default::default() };
    last.commands =
        vec![Command::Client { node: NodeId(0), op: ClientOp::Range { range, mode: ReadMode::Linearizable } }];
    let (report, mut sim) = leaselab::scenario::run(&scenario);
    assert!(report.passed(), "{:?}", report.expectations);
    let checker = sim.check();
    let stale = checker.stale_reads().last().expect("the range read is stale").clone();
    assert_eq!(
        (stale.key.as_str(), stale.returned.as_deref(), stale.missed_value.as_deref()),
        ("x", Some("1"), Some("2"))
    );
    let text = leaselab::explain::explain_stale_read(&sim, &stale);
    assert!(text.contains("via lease read"), "{text}");
}

/// A log read (etcd v2's `quorum=true` get, a consensus read) is proposed through the raft
/// log like a write and answered where it applies: from a follower too, with the value of
/// every write committed before it. It trusts no clock or lease: at a leader whose process
/// stopped while a new leader was elected, a log read after it resumes goes through the new
/// leader's log and sees the new write.
#[test]
fn a_log_read_goes_through_the_log_and_trusts_no_clock() {
    let (mut sim, leader) = settled(2, cluster(3, LeaderLeasePolicy::RenewAtAck));
    let follower = sim.nodes().iter().map(|n| n.id).find(|n| *n != leader).unwrap();
    let before = sim.node(leader).last_index();
    let r = read(&mut sim, follower, "x", ReadMode::Log);
    sim.run_for_ms(200);
    assert_eq!(path(&sim, r), ReadPath::LogRead);
    assert_eq!(record(&sim, r).read.as_ref().unwrap().value.as_deref(), Some("1"));
    assert_eq!(sim.node(leader).last_index(), before + 1, "the read took one log entry");
    assert!(
        record(&sim, r).completed_at.unwrap().saturating_sub(record(&sim, r).invoked_at) > 0,
        "it waited for a commit"
    );
    // The leader's process stops while a new leader is elected and writes x=2: after it resumes,
    // a lease read there would trust its clock; a log read at it waits for the new leader's log.
    sim.apply(Command::Pause { node: leader }).unwrap();
    sim.run_for_ms(3_000);
    let new = sim.leader().filter(|l| *l != leader).expect("a new leader");
    put(&mut sim, new, "x", "2");
    sim.run_for_ms(300);
    sim.apply(Command::Resume { node: leader }).unwrap();
    let r = read(&mut sim, leader, "x", ReadMode::Log);
    sim.run_for_ms(2_000);
    let done = record(&sim, r);
    assert!(matches!(done.outcome, OpOutcome::Ok { .. }), "{:?}", done.outcome);
    assert_eq!(done.read.as_ref().unwrap().value.as_deref(), Some("2"));
    let mut checker = Checker::new();
    checker.update(sim.history());
    assert_eq!(checker.verdict(r), Some(&Verdict::Linearizable));
    assert_eq!(checker.stale_reads().len(), 0);
}
