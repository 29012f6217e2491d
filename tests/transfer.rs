//! Leadership transfer (etcd's move-leader, raft-rs `transfer_leader`) and the leader lease.
//! A transfer campaign is granted past every follower's promise (raft-rs skips the
//! in-lease check for it, as the raft thesis prescribes), so the lease must not be trusted
//! while a transfer is pending (TiKV marks it suspect), nor after an abandoned one while its
//! MsgTimeoutNow may still arrive (raft-rs issue 234).

use leaselab::checker::Verdict;
use leaselab::{ClusterConfig, Command, NodeId, OpId, OpOutcome, ReadMode, ReadPath, Sim};

fn settled(transfer_guard: bool) -> (Sim, NodeId) {
    let mut config = ClusterConfig::default();
    config.leader_lease.transfer_guard = transfer_guard;
    let mut sim = Sim::new(7, config).unwrap();
    sim.run_for_ms(4_000);
    let leader = sim.leader().unwrap();
    sim.apply(Command::put(leader, "x", "1")).unwrap();
    sim.run_for_ms(300);
    (sim, leader)
}

fn others(sim: &Sim, leader: NodeId) -> (NodeId, NodeId) {
    let o: Vec<NodeId> = sim.nodes().iter().map(|n| n.id).filter(|n| *n != leader).collect();
    (o[0], o[1])
}

fn read(sim: &mut Sim, node: NodeId) -> OpId {
    sim.apply(Command::read(node, "x", ReadMode::Linearizable)).unwrap().unwrap()
}

fn steps(sim: &Sim, op: OpId) -> String {
    let t = sim.history().get(op).unwrap().trace.as_ref().unwrap();
    t.steps.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" | ")
}

/// A transfer hands leadership over; while it is pending the old leader's reads go through
/// ReadIndex, its lease suspect, and the inspector says why.
#[test]
fn a_transfer_hands_over_and_the_lease_is_suspect_meanwhile() {
    let (mut sim, leader) = settled(true);
    let (to, _) = others(&sim, leader);
    // The transferee cannot be caught up while its link from the leader is cut: the transfer
    // stays pending.
    sim.apply(Command::CutLink { from: leader, to }).unwrap();
    sim.apply(Command::put(leader, "x", "2")).unwrap();
    sim.run_for_ms(50);
    sim.apply(Command::TransferLeader { to }).unwrap();
    let stats = sim.node(leader).leader_lease_stats(sim.local_time(leader), sim.config()).unwrap();
    assert!(stats.suspect.as_deref().is_some_and(|s| s.contains(&format!("transfer to {to} pending"))), "{stats:?}");
    let r = read(&mut sim, leader);
    sim.run_for_ms(50);
    assert_eq!(sim.history().get(r).unwrap().trace.as_ref().unwrap().path, Some(ReadPath::ReadIndex));
    assert!(steps(&sim, r).contains("leader lease suspect"), "{}", steps(&sim, r));
    // Heal: the transferee catches up, gets MsgTimeoutNow and wins at once.
    sim.apply(Command::HealLink { from: leader, to }).unwrap();
    sim.run_for_ms(500);
    assert_eq!(sim.leader(), Some(to));
    let r = read(&mut sim, to);
    sim.run_for_ms(500);
    assert_eq!(sim.history().get(r).unwrap().read.as_ref().unwrap().value.as_deref(), Some("2"));
    assert_eq!(sim.check().stale_reads().len(), 0);
    // Refusals change nothing.
    let e = sim.apply(Command::TransferLeader { to }).unwrap_err().to_string();
    assert!(e.contains("already leads"), "{e}");
}

/// An abandoned transfer whose MsgTimeoutNow arrives late (its receiver was paused): without
/// the guard the receiver campaigns past every promise, wins, commits a write, and the old
/// leader, trusting the lease it renewed after giving up, serves a stale read. With the guard
/// the leader appended an entry when it gave up and trusted its lease only once that committed,
/// so the late campaign cannot win.
#[test]
fn a_stray_timeout_now_cannot_elect_a_leader_behind_a_trusted_lease() {
    for guard in [false, true] {
        let (mut sim, leader) = settled(guard);
        let (to, other) = others(&sim, leader);
        let term = sim.node(leader).term();
        // The transferee is paused: the MsgTimeoutNow waits in its inbox until after the
        // leader has given the transfer up (an election timeout at most).
        sim.apply(Command::Pause { node: to }).unwrap();
        sim.apply(Command::CutLink { from: to, to: leader }).unwrap();
        sim.apply(Command::TransferLeader { to }).unwrap();
        sim.run_for_ms(1_200);
        assert_eq!(sim.leader(), Some(leader), "the transfer was abandoned");
        let stats = sim.node(leader).leader_lease_stats(sim.local_time(leader), sim.config()).unwrap();
        assert_eq!(stats.suspect, None, "guard {guard}: trusted again ({stats:?})");
        sim.apply(Command::Resume { node: to }).unwrap();
        let until = sim.now().plus_us(300_000);
        let won = |sim: &Sim| sim.leader_tenures().any(|t| t.node == to && t.term == term + 1);
        while sim.now() < until && !won(&sim) {
            assert!(sim.step());
        }
        let stray_won = won(&sim);
        assert_eq!(stray_won, !guard, "guard {guard}: the late TimeoutNow's campaign won");
        if guard {
            sim.run_for_ms(3_000);
            assert_eq!(sim.check().stale_reads().len(), 0);
            continue;
        }
        // The old leader hears nothing more; the new one commits x=2 with the third node.
        sim.apply(Command::CutLink { from: other, to: leader }).unwrap();
        let w = sim.apply(Command::put(to, "x", "2")).unwrap().unwrap();
        while !matches!(sim.history().get(w).unwrap().outcome, OpOutcome::Ok { .. }) {
            assert!(sim.step());
        }
        sim.run_for_ms(1);
        let r = read(&mut sim, leader);
        sim.run_for_ms(1_000);
        assert_eq!(sim.history().get(r).unwrap().trace.as_ref().unwrap().path, Some(ReadPath::LeaseRead));
        assert!(matches!(sim.check().verdict(r), Some(Verdict::Stale(_))), "{:?}", sim.check().verdict(r));
    }
}
