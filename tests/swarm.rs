//! Seeded swarm runs with every fault kind; invariants after every step. A failure prints the
//! seed and the exact command that replays it. `make swarm` runs thousands of seeds.

use leaselab::swarm::{run_swarm, FaultMix, SwarmConfig};
use leaselab::CommitBroadcast;

fn sweep(nodes: usize, seeds: std::ops::Range<u64>, faults: FaultMix) {
    sweep_with(SwarmConfig { nodes, faults, duration_ms: 15_000, ..SwarmConfig::default() }, seeds);
}

fn sweep_with(config: SwarmConfig, seeds: std::ops::Range<u64>) {
    let mut failures = Vec::new();
    let mut acknowledged = 0;
    for seed in seeds {
        let report = run_swarm(seed, &config);
        acknowledged += report.writes_ok;
        if !report.violations.is_empty() {
            failures.push(format!(
                "seed={seed}: {}\n  reproduce with: {}",
                report.violations.join("; "),
                report.replay_command(&config)
            ));
        }
    }
    assert!(failures.is_empty(), "{} failing seeds:\n{}", failures.len(), failures.join("\n"));
    assert!(acknowledged > 0, "the sweep acknowledged no write at all");
}

#[test]
fn swarm_three_nodes_all_faults() {
    sweep(3, 0..200, FaultMix::ALL);
}

#[test]
fn swarm_five_nodes_all_faults() {
    sweep(5, 1_000..1_150, FaultMix::ALL);
}

#[test]
fn swarm_seven_nodes_all_faults() {
    sweep(7, 2_000..2_080, FaultMix::ALL);
}

/// TiKV's lazy commit broadcast: followers learn commits late, nothing else may change.
#[test]
fn swarm_lazy_commit_broadcast_all_faults() {
    for (nodes, seeds) in [(3, 4_000..4_060), (5, 5_000..5_040)] {
        let config = SwarmConfig {
            nodes,
            faults: FaultMix::ALL,
            duration_ms: 15_000,
            commit_broadcast: CommitBroadcast::Lazy,
            ..SwarmConfig::default()
        };
        sweep_with(config, seeds);
    }
}

/// Five times the default write rate: logs pass the compaction threshold (1,000 entries) every
/// few seconds, so followers that were cut off, paused or crashed are caught up by snapshots
/// while faults go on. These seeds once failed: a snapshot whose answer was lost left its
/// follower without appends for good (raft-rs waits for the snapshot's report), and the
/// leader-completeness check read compacted indexes as term 0.
#[test]
fn swarm_heavy_writes_snapshots_under_all_faults() {
    for (nodes, seeds) in [(3, 0..12), (5, 0..30), (7, 0..10)] {
        let config = SwarmConfig { nodes, faults: FaultMix::ALL, writes_per_sec: 100, ..SwarmConfig::default() };
        sweep_with(config, seeds);
    }
}

/// A leader reports each raft snapshot when the network delivers or loses it, so it never has
/// two snapshots on their way to one follower in one term. Reported at send instead, a
/// rejected probe sent another while the first was in flight (seed 76 sent five within 10 ms).
/// One path is raft-rs's own and allowed: an append response the follower sent *before* the
/// snapshot, arriving late (jitter reorders), can show progress past the snapshot and end the
/// Snapshot state; replication then resumes and may need another snapshot.
#[test]
fn a_leader_has_one_raft_snapshot_at_a_time_in_flight_to_a_follower() {
    use leaselab::event::Event;
    use leaselab::swarm::{cluster_config, random_schedule};
    use leaselab::{MsgKind, SimTime};
    use std::collections::BTreeMap;
    let config = SwarmConfig { nodes: 3, faults: FaultMix::ALL, writes_per_sec: 100, ..SwarmConfig::default() };
    let mut snapshots_sent = 0;
    // Without the fix seed 17 fails first; about one seed in two sends a snapshot at all.
    for seed in 0..80 {
        let mut sim = leaselab::Sim::new(seed, cluster_config(&config)).expect("valid");
        for (at, cmd) in random_schedule(seed, &config) {
            sim.schedule(at, cmd).expect("valid");
        }
        // (from, to, term) -> the snapshot message on its way: (id, true time sent).
        let mut in_flight: BTreeMap<(u64, u64, u64), (u64, SimTime)> = BTreeMap::new();
        // Append responses on their way, by id: true time sent.
        let mut responses: BTreeMap<u64, SimTime> = BTreeMap::new();
        let mut seen = 0;
        let end = SimTime::from_ms(1_000 + config.duration_ms);
        while sim.next_due().is_some_and(|t| t <= end) {
            sim.step();
            for e in sim.events_since(seen) {
                match e.event {
                    Event::MessageSent { id, from, to, kind: MsgKind::Snapshot, term, .. } => {
                        snapshots_sent += 1;
                        if let Some((first, _)) = in_flight.insert((from.0, to.0, term), (id, e.at)) {
                            panic!(
                                "seed={seed} at {}: {from} sent {to} snapshot m{id} while m{first} was in flight (term {term})\n  see the sends with: {} --trace",
                                e.at,
                                run_swarm(seed, &config).replay_command(&config)
                            );
                        }
                    }
                    Event::MessageDelivered { id, kind: MsgKind::Snapshot, .. }
                    | Event::MessageDropped { id, kind: MsgKind::Snapshot, .. } => {
                        in_flight.retain(|_, (m, _)| *m != id);
                    }
                    Event::MessageSent { id, kind: MsgKind::AppendResp, .. } => {
                        responses.insert(id, e.at);
                    }
                    Event::MessageDropped { id, kind: MsgKind::AppendResp, .. } => {
                        responses.remove(&id);
                    }
                    Event::MessageDelivered { id, from, to, kind: MsgKind::AppendResp } => {
                        // A response sent before the snapshot may end its Snapshot state.
                        let sent = responses.remove(&id);
                        in_flight.retain(|(leader, follower, _), (_, snapshot_sent)| {
                            !(*leader == to.0 && *follower == from.0 && sent.is_some_and(|t| t < *snapshot_sent))
                        });
                    }
                    _ => {}
                }
            }
            seen = sim.trace().len();
        }
    }
    assert!(snapshots_sent >= 20, "only {snapshots_sent} raft snapshots sent: the test would prove nothing");
}

#[test]
fn swarm_single_node_with_clock_and_pause_faults() {
    sweep(1, 3_000..3_050, FaultMix::parse("clocks,pauses").unwrap());
}

#[test]
fn a_swarm_run_replays_to_the_same_trace() {
    let config = SwarmConfig::default();
    assert_eq!(run_swarm(42, &config), run_swarm(42, &config));
}

/// With the safe policy, clock faults within the drift bound (jumps, pauses, and rate
/// errors of at most 100 ms over a lease) and partitions never yield a stale read. `make
/// sweep` runs the full 100,000-read version and prints the table for every policy.
#[test]
fn the_safe_policy_serves_no_stale_read_with_clock_faults_within_the_bound() {
    let config = SwarmConfig {
        nodes: 3,
        duration_ms: 15_000,
        reads_per_sec: 50,
        policy: leaselab::LeaderLeasePolicy::SendTimeAnchored,
        clock_error_ms_max: Some(100),
        faults: FaultMix::parse("partitions,loss,clocks,pauses").unwrap(),
        ..SwarmConfig::default()
    };
    let (mut reads, mut flagged) = (0, 0);
    for seed in 0..30 {
        let report = run_swarm(seed, &config);
        reads += report.linearizable_reads;
        flagged += report.checker_violations;
        assert!(
            report.checker_violations == 0 && report.violations.is_empty(),
            "seed={seed}: {:?} {:?}\n  reproduce with: {}",
            report.stale_examples,
            report.violations,
            report.replay_command(&config)
        );
    }
    assert_eq!(flagged, 0);
    assert!(reads > 15_000, "only {reads} linearizable reads answered");
}

/// The other side of the bound: pauses and clock faults far beyond it make the
/// renew-at-ack policy serve stale reads, and the checker catches them.
#[test]
fn the_renew_at_ack_policy_serves_stale_reads_when_faults_exceed_the_bound() {
    let config = SwarmConfig {
        nodes: 3,
        reads_per_sec: 50,
        policy: leaselab::LeaderLeasePolicy::RenewAtAck,
        faults: FaultMix::parse("partitions,clocks,pauses").unwrap(),
        ..SwarmConfig::default()
    };
    let flagged: usize = (0..30).map(|seed| run_swarm(seed, &config).checker_violations).sum();
    assert!(flagged > 0, "no stale read over 30 seeds");
}

/// A swarm run (scheduled faults, some refused when they come due) replays exactly from its
/// recording, and scrubbing back and forward through it reproduces the same trace.
#[test]
fn swarm_runs_replay_from_their_recording() {
    use leaselab::share::Recording;
    use leaselab::swarm::run_swarm_keeping_sim;
    use leaselab::SimTime;
    let config = SwarmConfig { nodes: 5, faults: FaultMix::ALL, duration_ms: 15_000, ..SwarmConfig::default() };
    for seed in 0..12 {
        let (_, sim) = run_swarm_keeping_sim(seed, &config);
        let recording = Recording::of(&sim).unwrap();
        let mut timeline = recording.replay().unwrap_or_else(|e| panic!("seed={seed}: {e}"));
        assert_eq!(timeline.sim().trace_hash(), sim.trace_hash(), "seed={seed}");
        timeline.seek(SimTime::from_ms(6_123)).unwrap();
        timeline.seek(sim.now()).unwrap();
        assert_eq!(timeline.sim().trace_hash(), sim.trace_hash(), "seed={seed}: scrub back and forward");
    }
}
