//! The rules the safe leader lease policy (send-time anchored) rests on, each shown by the run
//! that breaks without it (SPEC §5):
//!
//! * without `check_quorum` there is no promise at all, so the smart config grants no lease.

use leaselab::{ClusterConfig, Command, NodeId, OpId, ReadMode, ReadPath, Sim, SimTime};

const N1: NodeId = NodeId(1);
const N3: NodeId = NodeId(3);

fn run_to(sim: &mut Sim, ms: u64) {
    sim.run_until(SimTime::from_ms(ms));
}

fn read_at(sim: &mut Sim, node: NodeId) -> OpId {
    sim.apply(Command::Read { node, key: "x".into(), mode: ReadMode::Linearizable }).unwrap().unwrap()
}

fn path(sim: &Sim, op: OpId) -> Option<ReadPath> {
    sim.history().get(op).unwrap().trace.as_ref().and_then(|t| t.path)
}

#[test]
fn without_check_quorum_no_leader_lease_is_granted_so_the_old_leader_serves_no_stale_read() {
    // No check_quorum: followers vote whenever asked and a cut-off leader never steps down on
    // its own. n1↔n3 cut at 3.2 s: n3 times out, n2 votes for it, and n1 leads on until a
    // message of the newer term reaches it.
    let config = ClusterConfig { check_quorum: false, pre_vote: false, ..ClusterConfig::default() };
    let mut sim = Sim::new(10, config).unwrap();
    run_to(&mut sim, 3_000);
    let leader = sim.leader().expect("a leader by 3 s");
    assert_eq!(leader, N1);
    let stats = sim.node(N1).leader_lease_stats(sim.node(N1).clock.local_at(sim.now())).unwrap();
    assert!(!stats.enabled && stats.config_reason.starts_with("check_quorum is off"), "{stats:?}");
    sim.apply(Command::Put { node: N1, key: "x".into(), value: "1".into() }).unwrap();
    run_to(&mut sim, 3_200);
    sim.apply(Command::CutLink { from: N1, to: N3 }).unwrap();
    sim.apply(Command::CutLink { from: N3, to: N1 }).unwrap();
    let (mut wrote, mut reads, mut two_leaders) = (false, Vec::new(), false);
    for ms in 3_201..=7_000 {
        run_to(&mut sim, ms);
        if !wrote && sim.node(N3).is_leader() {
            wrote = true;
            sim.apply(Command::Put { node: N3, key: "x".into(), value: "2".into() }).unwrap();
        }
        if ms % 5 == 0 && sim.node(N1).is_leader() {
            two_leaders |= sim.node(N3).is_leader();
            reads.push(read_at(&mut sim, N1));
        }
    }
    run_to(&mut sim, 10_000);
    assert!(wrote && two_leaders, "n3 was elected while n1 still believed it led");
    assert!(reads.iter().all(|op| path(&sim, *op) == Some(ReadPath::ReadIndex)), "no lease read at n1");
    let trace = sim.history().get(reads[0]).unwrap().trace.clone().unwrap();
    assert!(trace.steps[0].text.contains("check_quorum is off"), "{:?}", trace.steps);
    let stale = sim.check().stale_reads().len();
    println!("check_quorum off: {} reads at n1, all ReadIndex, {stale} stale", reads.len());
    assert_eq!(stale, 0);
}

/// raft-rs refuses LeaseBased reads without check_quorum; the config says so in words.
#[test]
fn lease_based_without_check_quorum_is_refused_with_a_readable_reason() {
    let mut config = ClusterConfig { check_quorum: false, ..ClusterConfig::default() };
    config.leader_lease.policy = leaselab::LeaderLeasePolicy::RaftLeaseBased;
    let e = Sim::new(1, config).err().expect("refused");
    assert_eq!(e.field, "check_quorum");
    assert!(e.to_string().contains("check_quorum is off"), "{e}");
}
