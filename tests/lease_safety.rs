//! The rules the safe leader lease policy (send-time anchored) rests on, each shown by the run
//! that breaks without it:
//!
//! * a restarted node keeps the promise it may have made before its crash (no vote for an
//!   election timeout, `ClusterConfig::restart_vote_wait`);
//! * without `check_quorum` there is no promise at all, so the smart config grants no lease.

use leaselab::event::Event;
use leaselab::ClientOp;
use leaselab::{ClusterConfig, Command, NodeId, OpId, ReadMode, ReadPath, Sim, SimTime};

const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const N3: NodeId = NodeId(3);

fn run_to(sim: &mut Sim, ms: u64) {
    sim.run_until(SimTime::from_ms(ms));
}

fn read_at(sim: &mut Sim, node: NodeId) -> OpId {
    sim.apply(Command::Client { node, op: ClientOp::Read { key: "x".into(), mode: ReadMode::Linearizable } })
        .unwrap()
        .unwrap()
}

fn path(sim: &Sim, op: OpId) -> Option<ReadPath> {
    sim.history().get(op).unwrap().trace.as_ref().and_then(|t| t.path)
}

/// What a run shows: stale reads, lease reads at the old leader, who was elected next and
/// when, how many vote requests the restarted n2 ignored.
#[derive(Debug)]
struct Outcome {
    stale: usize,
    lease_reads: usize,
    new_leader: Option<(NodeId, u64)>,
    withheld: usize,
}

/// Seed 10, 3 nodes, perfect clocks, n1 leads. x=1 at 3.0 s; n1↔n3 cut at 3.2 s; n2 crashes
/// at 4,480 ms, just after acknowledging n1's heartbeat round (n1's leader lease counts on that
/// ack), and restarts at 4,481 ms while n1→n2 is cut, so n1 never reaches it again. The
/// moment a new leader is elected it writes x=2; linearizable reads at n1 every 10 ms from
/// 4,560 to 4,700 ms.
fn restart_after_ack(restart_vote_wait: bool) -> (Sim, Outcome) {
    restart_after_ack_with(restart_vote_wait, None)
}

/// The same, optionally jumping n2's clock by `jump_us` right after its restart.
fn restart_after_ack_with(restart_vote_wait: bool, jump_us: Option<i64>) -> (Sim, Outcome) {
    let config = ClusterConfig { restart_vote_wait, ..ClusterConfig::default() };
    let mut sim = Sim::new(10, config).unwrap();
    run_to(&mut sim, 3_000);
    assert_eq!(sim.leader(), Some(N1));
    sim.apply(Command::Client { node: N1, op: ClientOp::Put { key: "x".into(), value: "1".into(), key_lease: None } })
        .unwrap();
    run_to(&mut sim, 3_200);
    sim.apply(Command::CutLink { from: N1, to: N3 }).unwrap();
    sim.apply(Command::CutLink { from: N3, to: N1 }).unwrap();
    run_to(&mut sim, 4_480);
    sim.apply(Command::Crash { node: N2 }).unwrap();
    run_to(&mut sim, 4_481);
    sim.apply(Command::Restart { node: N2 }).unwrap();
    sim.apply(Command::CutLink { from: N1, to: N2 }).unwrap();
    let lease = sim.node(N1).leader_lease_stats(sim.local_time(N1), sim.config()).unwrap();
    assert!(lease.valid && lease.expire_at.is_some_and(|e| e.0 > 4_580_000), "n1 leases on n2's ack: {lease:?}");
    if let Some(delta_us) = jump_us {
        sim.apply(Command::JumpClock { node: N2, delta_us }).unwrap();
    }
    let (mut new_leader, mut reads) = (None, Vec::new());
    for ms in 4_482..=6_500 {
        run_to(&mut sim, ms);
        if let (None, Some(node)) = (new_leader, sim.leader().filter(|l| *l != N1)) {
            new_leader = Some((node, ms));
            sim.apply(Command::Client {
                node,
                op: ClientOp::Put { key: "x".into(), value: "2".into(), key_lease: None },
            })
            .unwrap();
        }
        if (4_560..=4_700).contains(&ms) && ms % 10 == 0 {
            reads.push(read_at(&mut sim, N1));
        }
    }
    run_to(&mut sim, 8_000);
    let lease_reads = reads.iter().filter(|op| path(&sim, **op) == Some(ReadPath::LeaseRead)).count();
    let withheld = sim.events_since(0).filter(|e| matches!(e.event, Event::VoteWithheld { node: N2, .. })).count();
    let stale = sim.check().stale_reads().len();
    (sim, Outcome { stale, lease_reads, new_leader, withheld })
}

#[test]
fn without_the_wait_a_restarted_follower_votes_at_once_and_the_old_leaders_lease_reads_go_stale() {
    let (_, o) = restart_after_ack(false);
    println!("restart_vote_wait off: {o:?}");
    // n3 wins n2's votes right after the restart (≈4,521 ms) and its x=2 is acknowledged at
    // ≈4,554 ms, while n1's lease (anchored at the round n2 acked) runs to ≈4,586 ms.
    assert!(o.new_leader.is_some_and(|(node, ms)| node == N3 && ms < 4_560), "{o:?}");
    assert_eq!(o.withheld, 0);
    assert!(o.lease_reads >= 3, "{o:?}");
    assert!(o.stale >= 3, "the lease reads at n1 after x=2 was acknowledged return x=1: {o:?}");
}

#[test]
fn with_the_wait_the_restarted_follower_keeps_its_promise_and_no_read_is_stale() {
    let (sim, o) = restart_after_ack(true);
    println!("restart_vote_wait on: {o:?}");
    assert_eq!(o.stale, 0, "{o:?}");
    assert!(o.withheld >= 1, "n3's pre-vote was ignored: {o:?}");
    // n2 votes only one election timeout (1 s) after its restart at 4,481 ms, long after n1's
    // lease ran out; then n2 itself times out and wins (n3 grants it).
    let (_, elected) = o.new_leader.expect("a new leader once n2 may vote");
    assert!(elected >= 5_481, "{o:?}");
    let first = sim.events_since(0).find(|e| matches!(e.event, Event::VoteWithheld { .. })).unwrap();
    let text = first.to_string();
    assert!(text.contains("withhold n2 ignores PreVote from n3") && text.contains("votes in 10 ticks"), "{text}");
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
    let stats = sim.node(N1).leader_lease_stats(sim.local_time(N1), sim.config()).unwrap();
    assert!(!stats.enabled && stats.config_reason.starts_with("check_quorum is off"), "{stats:?}");
    sim.apply(Command::Client { node: N1, op: ClientOp::Put { key: "x".into(), value: "1".into(), key_lease: None } })
        .unwrap();
    run_to(&mut sim, 3_200);
    sim.apply(Command::CutLink { from: N1, to: N3 }).unwrap();
    sim.apply(Command::CutLink { from: N3, to: N1 }).unwrap();
    let (mut wrote, mut reads, mut two_leaders) = (false, Vec::new(), false);
    for ms in 3_201..=7_000 {
        run_to(&mut sim, ms);
        if !wrote && sim.node(N3).is_leader() {
            wrote = true;
            sim.apply(Command::Client {
                node: N3,
                op: ClientOp::Put { key: "x".into(), value: "2".into(), key_lease: None },
            })
            .unwrap();
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

/// The wait is counted in raft ticks, as raft-rs counts the promise itself: a clock jump
/// re-arms the ticker rather than firing it, so jumping the restarted node's clock a second
/// ahead does not let it vote any sooner.
#[test]
fn a_forward_clock_jump_does_not_shorten_the_wait() {
    let (_, o) = restart_after_ack_with(true, Some(1_000_000));
    assert_eq!(o.stale, 0, "{o:?}");
    assert!(o.new_leader.is_some_and(|(_, ms)| ms >= 5_481), "{o:?}");
}
