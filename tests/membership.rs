//! Membership changes through raft-rs's `ConfChangeV2`, as etcd's member API makes them: a new
//! node joins as a learner (`member add --learner`) and is promoted once in sync
//! (`member promote`), members are removed (`member remove`) with leadership moved off a
//! leader being removed first, and several voters change at once through a joint
//! configuration in which a leader lease needs a majority of both sides (raft thesis §4.3).

use leaselab::membership::Member;
use leaselab::{ClusterConfig, Command, Event, NodeId, ReadMode, ReadPath, Sim};

fn ids(v: &[u64]) -> Vec<NodeId> {
    v.iter().map(|&i| NodeId(i)).collect()
}

fn settled(nodes: usize, seed: u64) -> Sim {
    let mut sim = Sim::new(seed, ClusterConfig { node_count: nodes, ..ClusterConfig::default() }).unwrap();
    sim.run_for_ms(4_000);
    assert!(sim.leader().is_some());
    sim
}

fn promote(sim: &mut Sim, node: u64) {
    sim.apply(Command::ChangeMembership { promote: ids(&[node]), remove: vec![] }).unwrap();
    sim.run_for_ms(500);
}

fn add_learner(sim: &mut Sim) -> NodeId {
    sim.apply(Command::AddLearner).unwrap();
    sim.run_for_ms(500);
    NodeId(sim.nodes().len() as u64)
}

/// A settled 3-node cluster whose nodes compact their logs every 16 entries, keeping 4 for
/// slow followers (etcd's tests shrink `SnapshotCatchUpEntries` the same way).
fn compacting_every_16(seed: u64) -> Sim {
    let mut config = ClusterConfig { node_count: 3, ..ClusterConfig::default() };
    config.log_compaction_entries = 16;
    config.log_catch_up_entries = 4;
    let mut sim = Sim::new(seed, config).unwrap();
    sim.run_for_ms(4_000);
    sim
}

/// Every read of `key` at every member answers `value`, and the checker finds nothing stale.
fn reads_agree(sim: &mut Sim, key: &str, value: &str) {
    let members = sim.membership().all_voters();
    let ops: Vec<_> =
        members.iter().map(|&n| sim.apply(Command::read(n, key, ReadMode::Linearizable)).unwrap().unwrap()).collect();
    sim.run_for_ms(1_000);
    for op in ops {
        let read = sim.history().get(op).unwrap().read.clone();
        assert_eq!(read.and_then(|r| r.value).as_deref(), Some(value), "op {op}");
    }
    assert_eq!(sim.check().stale_reads().len(), 0);
}

/// The page's promise: a cluster grows from 1 node to 7 while it runs, each newcomer a
/// learner first, and serves linearizable reads at every size.
#[test]
fn a_cluster_grows_from_one_node_to_seven_through_learners() {
    let mut sim = settled(1, 3);
    let leader = sim.leader().unwrap();
    sim.apply(Command::put(leader, "x", "0")).unwrap();
    for size in 2..=7u64 {
        let node = add_learner(&mut sim);
        assert_eq!(node, NodeId(size));
        assert_eq!(sim.member(node), Member::Learner);
        assert_eq!(sim.node(node).kv().unwrap().get("x").as_deref(), Some(&*(size - 2).to_string()), "caught up");
        promote(&mut sim, size);
        assert_eq!(sim.member(node), Member::Voter);
        let leader = sim.leader().unwrap();
        sim.apply(Command::put(leader, "x", &(size - 1).to_string())).unwrap();
        sim.run_for_ms(300);
        reads_agree(&mut sim, "x", &(size - 1).to_string());
    }
    assert_eq!(sim.membership().voters, ids(&[1, 2, 3, 4, 5, 6, 7]));
    let e = sim.apply(Command::AddLearner).unwrap_err().to_string();
    assert!(e.contains("never reused"), "{e}");
    // Every node applied the same configuration.
    for n in sim.nodes() {
        assert_eq!(n.membership().unwrap().voters, ids(&[1, 2, 3, 4, 5, 6, 7]), "{}", n.id);
    }
}

/// etcd's `member remove` of the leader: leadership moves to a voter that stays, which then
/// proposes the removal; the removed node neither campaigns nor disturbs the rest.
#[test]
fn removing_the_leader_moves_leadership_off_it_first() {
    let mut sim = settled(5, 11);
    let leader = sim.leader().unwrap();
    sim.apply(Command::put(leader, "x", "1")).unwrap();
    sim.run_for_ms(300);
    sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![leader] }).unwrap();
    sim.run_for_ms(2_000);
    let new = sim.leader().unwrap();
    assert_ne!(new, leader);
    assert_eq!(sim.member(leader), Member::None);
    assert_eq!(sim.membership().all_voters().len(), 4);
    let text: Vec<String> = sim.events_since(0).map(|t| t.to_string()).collect();
    assert!(text.iter().any(|t| t.contains(&format!("first hands leadership to {new}"))), "{text:?}");
    assert!(text.iter().any(|t| t.contains("proposed by")), "the new leader proposed it");
    // The removed node stays quiet: no term change for 5 s.
    let term = sim.node(new).term();
    sim.apply(Command::put(new, "x", "2")).unwrap();
    sim.run_for_ms(5_000);
    assert_eq!(sim.node(new).term(), term);
    assert_eq!(sim.leader(), Some(new));
    reads_agree(&mut sim, "x", "2");
}

/// Shrinking to one voter works; removing the last is refused, as raft-rs's `Changer` refuses
/// it ("removed all voters"); a second change while one is unapplied is refused, as raft-rs's
/// leader refuses it; a learner not yet in sync is not promoted, as etcd refuses it. No refusal
/// changes anything.
#[test]
fn refused_changes_leave_the_cluster_as_it_was() {
    let mut sim = settled(3, 5);
    let leader = sim.leader().unwrap();
    let others: Vec<NodeId> = sim.membership().voters.into_iter().filter(|n| *n != leader).collect();
    let before = sim.membership();
    let e = sim.apply(Command::ChangeMembership { promote: vec![], remove: ids(&[1, 2, 3]) }).unwrap_err().to_string();
    assert!(e.contains("every voter"), "{e}");
    assert_eq!(sim.membership(), before);
    // Two changes back to back: the second comes while the first is not yet applied.
    sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![others[0]] }).unwrap();
    let e = sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![others[1]] }).unwrap_err().to_string();
    assert!(e.contains("not yet applied"), "{e}");
    sim.run_for_ms(500);
    assert_eq!(sim.membership().voters.len(), 2);
    sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![others[1]] }).unwrap();
    sim.run_for_ms(500);
    assert_eq!(sim.membership().voters, vec![leader]);
    let e = sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![leader] }).unwrap_err().to_string();
    assert!(e.contains("every voter") || e.contains("could take over"), "{e}");
    // A learner cut off from the leader never catches up, and is not promoted.
    let nodes_before = sim.nodes().len();
    sim.apply(Command::put(leader, "y", "1")).unwrap();
    sim.run_for_ms(100);
    sim.apply(Command::AddLearner).unwrap();
    let learner = NodeId(nodes_before as u64 + 1);
    sim.apply(Command::Isolate { node: learner }).unwrap();
    sim.run_for_ms(500);
    let e = sim.apply(Command::ChangeMembership { promote: vec![learner], remove: vec![] }).unwrap_err().to_string();
    assert!(e.contains("not yet in sync"), "{e}");
    assert_eq!(sim.member(learner), Member::Learner);
    let e = sim.apply(Command::ChangeMembership { promote: vec![NodeId(9)], remove: vec![] }).unwrap_err().to_string();
    assert!(e.contains("unknown node n9"), "{e}");
}

/// Replacing two of three voters at once goes through a joint configuration. While the new
/// voters cannot be reached the cluster stays joint, and the leader lease is not renewed even
/// though the old voters all answer: a lease needs a majority of each side. Once healed, raft-rs
/// leaves the joint configuration and leases resume with the new voters.
#[test]
fn a_joint_configuration_needs_a_majority_of_both_sides_for_a_leader_lease() {
    let mut sim = settled(3, 7);
    let leader = sim.leader().unwrap();
    sim.apply(Command::put(leader, "x", "1")).unwrap();
    let a = add_learner(&mut sim);
    let b = add_learner(&mut sim);
    let old: Vec<NodeId> = ids(&[1, 2, 3]).into_iter().filter(|n| *n != leader).collect();
    sim.apply(Command::Partition { groups: vec![vec![a, b]] }).unwrap();
    sim.apply(Command::ChangeMembership { promote: vec![a, b], remove: old.clone() }).unwrap();
    sim.run_for_ms(150);
    let joint = sim.membership();
    assert!(joint.is_joint(), "{joint}");
    let mut incoming = vec![leader, a, b];
    incoming.sort();
    assert_eq!(joint.voters, incoming);
    assert_eq!(joint.outgoing, ids(&[1, 2, 3]));
    sim.run_for_ms(300);
    let stats = sim.node(leader).leader_lease_stats(sim.local_time(leader), sim.config()).unwrap();
    assert!(!stats.valid && stats.config_reason.contains("a majority of each side"), "{stats:?}");
    // A read at the leader can be neither served locally nor confirmed by ReadIndex.
    let r = sim.apply(Command::read(leader, "x", ReadMode::Linearizable)).unwrap().unwrap();
    sim.run_for_ms(300);
    assert!(sim.history().get(r).unwrap().read.is_none(), "waits for a majority of the new voters");
    // check_quorum counts both sides too: the leader steps down, and no one can be elected.
    sim.run_for_ms(2_000);
    assert_eq!(sim.leader(), None);
    sim.apply(Command::HealAll).unwrap();
    sim.run_for_ms(3_000);
    let after = sim.membership();
    assert!(!after.is_joint(), "{after}");
    assert_eq!(after.voters, incoming);
    let changes: Vec<String> = sim
        .events_since(0)
        .filter_map(|t| match &t.event {
            Event::MembershipChanged { membership, .. } => Some(membership.clone()),
            _ => None,
        })
        .collect();
    assert!(
        changes.iter().any(|m| m.ends_with("(joint)")) && changes.last() == Some(&after.to_string()),
        "{changes:?}"
    );
    let leader = sim.leader().unwrap();
    let r = sim.apply(Command::read(leader, "x", ReadMode::Linearizable)).unwrap().unwrap();
    sim.run_for_ms(300);
    let t = sim.history().get(r).unwrap();
    assert_eq!(t.read.as_ref().and_then(|r| r.value.as_deref()), Some("1"));
    assert_eq!(t.trace.as_ref().unwrap().path, Some(ReadPath::LeaseRead), "a lease from the new voters");
    assert_eq!(sim.check().stale_reads().len(), 0);
}

/// A node restarted after applying changes rebuilds its configuration from its disk: the
/// snapshot's configuration, then the changes in the entries after it, applied once each.
#[test]
fn a_restarted_node_rebuilds_its_configuration_from_snapshot_and_log() {
    for compaction in [10_000, 16] {
        let mut config = ClusterConfig { node_count: 3, ..ClusterConfig::default() };
        config.log_compaction_entries = compaction;
        let mut sim = Sim::new(21, config).unwrap();
        sim.run_for_ms(4_000);
        let a = add_learner(&mut sim);
        promote(&mut sim, a.0);
        let leader = sim.leader().unwrap();
        for i in 0..12 {
            sim.apply(Command::put(leader, "k", &i.to_string())).unwrap();
            sim.run_for_ms(20);
        }
        let b = add_learner(&mut sim);
        sim.run_for_ms(500);
        let expected = sim.membership();
        assert_eq!(expected.voters.len(), 4);
        assert_eq!(expected.learners, vec![b]);
        for n in [a, NodeId(if leader == NodeId(1) { 2 } else { 1 })] {
            sim.apply(Command::Crash { node: n }).unwrap();
            sim.run_for_ms(100);
            sim.apply(Command::Restart { node: n }).unwrap();
            sim.run_for_ms(1_000);
            assert_eq!(sim.node(n).membership(), Some(&expected), "{n} after restart, compaction every {compaction}");
        }
    }
}

/// A run with membership changes replays to the same trace.
#[test]
fn membership_changes_replay_exactly() {
    let run = || {
        let mut sim = settled(3, 9);
        sim.apply(Command::SetWorkload { ops_per_sec: 50 }).unwrap();
        let a = add_learner(&mut sim);
        promote(&mut sim, a.0);
        let leader = sim.leader().unwrap();
        sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![leader] }).unwrap();
        sim.run_for_ms(3_000);
        sim
    };
    let (one, two) = (run(), run());
    assert_eq!(one.trace_hash(), two.trace_hash());
    let mut replayed = Sim::new(one.seed(), one.config().clone()).unwrap();
    replayed.set_replay(one.command_log().to_vec()).unwrap();
    replayed.run_until(one.now());
    assert_eq!(replayed.replay_diverged(), None);
    assert_eq!(replayed.trace_hash(), one.trace_hash());
}

/// A node added after the log was compacted gets a raft snapshot that names it: the newest
/// compaction's snapshot predates it and raft-rs's receiver would reject that one for good, so
/// the leader takes a fresh one when raft-rs asks (as TiKV generates snapshots on demand).
#[test]
fn a_learner_added_after_a_compaction_catches_up_from_a_fresh_snapshot() {
    let mut sim = compacting_every_16(4);
    let leader = sim.leader().unwrap();
    for i in 0..40 {
        sim.apply(Command::put(leader, "k", &i.to_string())).unwrap();
        sim.run_for_ms(10);
    }
    sim.run_for_ms(500);
    assert!(sim.node(leader).first_index() > 2, "the log was compacted");
    // No write after this: no later compaction would come to the rescue.
    let learner = add_learner(&mut sim);
    sim.run_for_ms(1_000);
    assert_eq!(sim.node(learner).kv().unwrap().get("k").as_deref(), Some("39"));
    assert!(sim.events_since(0).any(|e| matches!(e.event, Event::SnapshotInstalled { node, .. } if node == learner)));
    promote(&mut sim, learner.0);
    assert_eq!(sim.member(learner), Member::Voter);
}

/// A node that catches up from a raft snapshot takes the configuration the snapshot carries
/// (raft-rs restores it from the snapshot's `ConfState`, as etcd's raft does): here the node
/// was down while a learner was removed and another added, and its own log is older than the
/// leader's first entry. Its view of the members — the leader lease's quorum, the page's
/// membership — must be the new one, not the one it had on its disk.
#[test]
fn a_node_restored_from_a_raft_snapshot_takes_the_snapshots_configuration() {
    let mut sim = compacting_every_16(4);
    let gone = add_learner(&mut sim);
    let leader = sim.leader().unwrap();
    let follower = NodeId(if leader == NodeId(1) { 2 } else { 1 });
    sim.apply(Command::Crash { node: follower }).unwrap();
    sim.run_for_ms(100);
    sim.apply(Command::ChangeMembership { promote: vec![], remove: vec![gone] }).unwrap();
    sim.run_for_ms(500);
    let added = add_learner(&mut sim);
    for i in 0..40 {
        sim.apply(Command::put(leader, "k", &i.to_string())).unwrap();
        sim.run_for_ms(10);
    }
    sim.run_for_ms(500);
    let expected = sim.membership();
    assert_eq!(expected.learners, vec![added]);
    let restarted_at = sim.trace().len();
    sim.apply(Command::Restart { node: follower }).unwrap();
    sim.run_for_ms(1_000);
    assert!(
        sim.events_since(restarted_at)
            .any(|e| matches!(e.event, Event::SnapshotInstalled { node, .. } if node == follower)),
        "the follower caught up from a snapshot"
    );
    assert_eq!(sim.node(follower).kv().unwrap().get("k").as_deref(), Some("39"));
    assert_eq!(sim.node(follower).membership(), Some(&expected));
}
