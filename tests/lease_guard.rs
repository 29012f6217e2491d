//! LeaseGuard in a running cluster, each test after a rule of the paper's TLA+ spec
//! (`leaseGuard.tla`): deferred commit (`CommitEntry`), inherited lease reads and the limbo
//! guard (`ClientRead`), and what happens when clocks leave the bound.

use leaselab::checker::Verdict;
use leaselab::{ClusterConfig, Command, LeaderLeasePolicy, NodeId, OpId, OpOutcome, ReadMode, ReadPath, Sim, SimTime};

fn config() -> ClusterConfig {
    let mut c = ClusterConfig::default();
    c.leader_lease.policy = LeaderLeasePolicy::LeaseGuard;
    c
}

fn put(sim: &mut Sim, node: NodeId, key: &str, value: &str) -> OpId {
    sim.apply(Command::put(node, key, value)).unwrap().unwrap()
}

fn read(sim: &mut Sim, node: NodeId, key: &str) -> OpId {
    sim.apply(Command::read(node, key, ReadMode::Linearizable)).unwrap().unwrap()
}

fn path(sim: &Sim, op: OpId) -> Option<ReadPath> {
    sim.history().get(op).unwrap().trace.as_ref().and_then(|t| t.path)
}

/// Runs until a leader other than `old` leads, in steps of 5 ms.
fn next_leader(sim: &mut Sim, old: NodeId) -> (NodeId, SimTime) {
    for _ in 0..2_000 {
        sim.run_for_ms(5);
        if let Some(l) = sim.leader().filter(|l| *l != old) {
            return (l, sim.now());
        }
    }
    panic!("no new leader");
}

/// A settled cluster whose leader has written x=1 and y=1 under LeaseGuard.
fn settled() -> (Sim, NodeId) {
    settled_with(config())
}

fn settled_with(config: ClusterConfig) -> (Sim, NodeId) {
    let mut sim = Sim::new(3, config).unwrap();
    sim.run_for_ms(4_000);
    let leader = sim.leader().unwrap();
    put(&mut sim, leader, "x", "1");
    put(&mut sim, leader, "y", "1");
    sim.run_for_ms(300);
    (sim, leader)
}

/// A leader serves reads on the lease its own committed entries carry, with no messages.
#[test]
fn a_leader_serves_on_the_lease_in_its_log() {
    let (mut sim, leader) = settled();
    let op = read(&mut sim, leader, "x");
    assert_eq!(path(&sim, op), Some(ReadPath::LeaseRead));
    sim.run_for_ms(100);
    let stats = sim.node(leader).leader_lease_stats(sim.local_time(leader), sim.config()).unwrap();
    assert!(stats.valid && stats.last_reason.contains("own entry"), "{stats:?}");
    // Idle, the log renews it: an empty stamped entry every quarter lease.
    let before = sim.node(leader).last_index();
    sim.run_for_ms(2_000);
    assert!(sim.node(leader).last_index() >= before + 3, "{} → {}", before, sim.node(leader).last_index());
    let op = read(&mut sim, leader, "x");
    assert_eq!(path(&sim, op), Some(ReadPath::LeaseRead));
    // The inspector's log shows each entry's lease: its stamp + Δ, the newest in the future.
    let tail = sim.log_tail(leader, 3);
    let newest = tail.last().unwrap().lease_until.expect("stamped");
    assert!(newest > sim.local_time(leader) && newest.0 <= sim.local_time(leader).0 + 2_000_000, "{newest}");
    assert!(tail.iter().all(|e| e.lease_until.is_some()));
    // The space-time diagram draws the lease of each entry the leader committed: from the
    // commit until stamp + Δ, a little under Δ since the entry was stamped before it committed.
    let d = leaselab::spacetime::build(&sim, 3_000_000, 1_500);
    assert!(d.entry_leases.len() >= 4, "{:?}", d.entry_leases);
    for l in &d.entry_leases {
        assert_eq!(l.node, leader);
        let lasts = l.until.saturating_sub(l.committed);
        assert!(lasts > 1_800_000 && lasts <= 2_000_000, "{l:?}");
    }
}

/// `CommitEntry`: a new leader commits nothing while an earlier term's entry may still be
/// leased (its stamp + Δ + ε not yet past on its clock) — but it serves inherited reads at once.
#[test]
fn a_new_leader_defers_its_commits_and_serves_inherited_reads_meanwhile() {
    let (mut sim, old) = settled();
    put(&mut sim, old, "z", "1");
    sim.run_for_ms(50);
    sim.apply(Command::Isolate { node: old }).unwrap();
    let (new, elected) = next_leader(&mut sim, old);
    let commit_at_election = sim.node(new).commit();
    let inherited = read(&mut sim, new, "y");
    assert_eq!(path(&sim, inherited), Some(ReadPath::InheritedLeaseRead), "served at once");
    let write = put(&mut sim, new, "y", "2");
    // The old leader's last stamp was 50 ms before its isolation, so the new leader waits
    // until 2.1 s after it (Δ = 2 s, ε = 100 ms) before it commits.
    sim.run_for_ms(100);
    assert_eq!(sim.node(new).commit(), commit_at_election, "deferred");
    let stats = sim.node(new).leader_lease_stats(sim.local_time(new), sim.config()).unwrap();
    assert!(stats.last_reason.starts_with("deferred commit through local"), "{}", stats.last_reason);
    sim.run_for_ms(2_000);
    assert!(sim.node(new).commit() > commit_at_election, "the deferral ended");
    let done = sim.history().get(write).unwrap();
    assert!(matches!(done.outcome, OpOutcome::Ok { .. }));
    assert!(done.completed_at.unwrap().saturating_sub(elected) > 200_000, "the write waited for the deferral");
    let checker = sim.check();
    assert_eq!(checker.verdict(inherited), Some(&Verdict::Linearizable));
    assert_eq!(checker.stale_reads().len(), 0);
}

/// `ClientRead`'s limbo guard: an earlier-term entry past the new leader's commit index that
/// writes k makes a read of k wait (here through ReadIndex, answered after the deferral); a
/// read of another key is served at once.
#[test]
fn a_limbo_key_waits_while_others_are_served() {
    // A lease long enough to outlast the election after a partition.
    let mut config = config();
    config.leader_lease.lease_guard_lease_ms = 5_000;
    config.client_timeout_ms = 10_000;
    let (mut sim, old) = settled_with(config);
    put(&mut sim, old, "x", "2");
    // Step until a follower holds the entry but does not yet know it committed; then cut the
    // old leader off so that it never tells them.
    let follower = sim.nodes().iter().map(|n| n.id).find(|n| *n != old).unwrap();
    let target = sim.node(old).last_index();
    while sim.node(follower).last_index() < target {
        assert!(sim.step());
    }
    assert!(sim.node(follower).commit() < target, "appended, not known committed");
    sim.apply(Command::Isolate { node: old }).unwrap();
    let (new, _) = next_leader(&mut sim, old);
    assert!(sim.node(new).last_index() >= target, "the new leader holds the limbo entry");
    let view = sim.snapshot().nodes.into_iter().find(|n| n.id == new).unwrap();
    assert_eq!(view.limbo_keys, vec![Some("x".to_string())], "the inspector greys x");
    // The old leader still trusts its lease while the new one leads: the diagram shows the
    // overlap, as LeaseGuard's safe kind, not a stale-read window.
    let d = leaselab::spacetime::build(&sim, 3_000_000, 1_500);
    assert!(!d.stale_windows.is_empty() && d.stale_windows.iter().all(|w| w.guarded), "{:?}", d.stale_windows);
    let limbo = read(&mut sim, new, "x");
    let free = read(&mut sim, new, "y");
    let steps = &sim.history().get(free).unwrap().trace.as_ref().unwrap().steps;
    assert_eq!(path(&sim, free), Some(ReadPath::InheritedLeaseRead), "{steps:?}");
    let steps = &sim.history().get(limbo).unwrap().trace.as_ref().unwrap().steps;
    assert!(steps.iter().any(|s| s.text.contains("limbo key x")), "{steps:?}");
    sim.run_for_ms(6_000);
    let r = sim.history().get(limbo).unwrap();
    assert!(matches!(r.outcome, OpOutcome::Ok { .. }), "{:?}", r.outcome);
    assert_eq!(r.read.as_ref().unwrap().value.as_deref(), Some("2"), "it waited for x=2 to commit");
    assert_eq!(sim.check().stale_reads().len(), 0);
}

/// Outside its bound LeaseGuard fails, and the checker says so: the old leader's clock runs at
/// a fifth of true speed, far more error than ε, so it keeps trusting a lease the new leader
/// has waited out on its own clock (and, its ticks slowed too, it has not stepped down).
#[test]
fn a_clock_error_above_epsilon_is_caught() {
    let (mut sim, old) = settled();
    sim.apply(Command::SetClockRate { node: old, rate_ppm: 200_000 }).unwrap();
    sim.apply(Command::Isolate { node: old }).unwrap();
    let (new, _) = next_leader(&mut sim, old);
    put(&mut sim, new, "x", "2");
    sim.run_for_ms(2_500);
    assert!(matches!(sim.history().iter().last().unwrap().outcome, OpOutcome::Ok { .. }), "x=2 committed");
    assert!(sim.node(old).is_leader(), "still leading on its slow clock");
    let stale = read(&mut sim, old, "x");
    sim.run_for_ms(100);
    assert_eq!(path(&sim, stale), Some(ReadPath::LeaseRead));
    let checker = sim.check();
    assert!(matches!(checker.verdict(stale), Some(Verdict::Stale(_))), "{:?}", checker.verdict(stale));
}

fn timers_config() -> ClusterConfig {
    let mut c = ClusterConfig::default();
    c.leader_lease.policy = LeaderLeasePolicy::LeaseGuardTimers;
    c
}

/// The timer-only variant: a new leader cannot tell how long ago the old leader stamped its
/// entries (the stamps are another clock), so it serves no inherited read, and it defers its
/// commits until Δ + ε after it last wrote to its log, timed on its own clock.
#[test]
fn timers_only_a_new_leader_waits_out_the_lease_on_its_own_timer() {
    let (mut sim, old) = settled_with(timers_config());
    let op = read(&mut sim, old, "x");
    assert_eq!(path(&sim, op), Some(ReadPath::LeaseRead), "a leader's own lease is on its own clock");
    sim.apply(Command::Isolate { node: old }).unwrap();
    let (new, elected) = next_leader(&mut sim, old);
    let commit_at_election = sim.node(new).commit();
    let waits = read(&mut sim, new, "y");
    assert_eq!(path(&sim, waits), Some(ReadPath::ReadIndex), "no inherited read");
    let steps = &sim.history().get(waits).unwrap().trace.as_ref().unwrap().steps;
    assert!(steps.iter().any(|s| s.text.contains("timers only")), "{steps:?}");
    let stats = sim.node(new).leader_lease_stats(sim.local_time(new), sim.config()).unwrap();
    assert!(stats.last_reason.starts_with("deferred commit through local"), "{}", stats.last_reason);
    sim.run_for_ms(150);
    assert_eq!(sim.node(new).commit(), commit_at_election, "deferred");
    sim.run_for_ms(2_500);
    assert!(sim.node(new).commit() > commit_at_election, "the deferral ended");
    let r = sim.history().get(waits).unwrap();
    assert!(matches!(r.outcome, OpOutcome::Ok { .. }), "{:?}", r.outcome);
    // The new leader last received an entry an election timeout or more before it won, so
    // the wait after its election is shorter than Δ + ε.
    let waited = r.completed_at.unwrap().saturating_sub(elected);
    assert!(waited > 150_000 && waited < 2_100_000, "{waited}");
    assert_eq!(sim.check().stale_reads().len(), 0);
}

/// What the timer-only variant buys: clocks may be any distance apart. The old leader is
/// paused just after an entry it stamped commits (so it neither steps down nor serves) while the others,
/// their clocks a second ahead of its clock (ε is 100 ms), elect a new leader and commit a
/// write. Under LeaseGuard the new leader's deferral ends a second early by its clock, and
/// the old leader, resumed inside its lease, serves a stale lease read; timed on its own clock,
/// the new leader commits only after the old lease is over.
#[test]
fn timers_only_is_safe_where_clock_offsets_break_leaseguard() {
    for (policy, stale_expected) in
        [(LeaderLeasePolicy::LeaseGuard, true), (LeaderLeasePolicy::LeaseGuardTimers, false)]
    {
        let mut config = config();
        config.leader_lease.policy = policy;
        config.leader_lease.lease_guard_lease_ms = 5_000;
        config.client_timeout_ms = 10_000;
        let (mut sim, old) = settled_with(config);
        let others: Vec<NodeId> = sim.nodes().iter().map(|n| n.id).filter(|n| *n != old).collect();
        for n in &others {
            sim.apply(Command::JumpClock { node: *n, delta_us: 1_000_000 }).unwrap();
        }
        let stamped = sim.node(old).last_index();
        while sim.node(old).commit() <= stamped {
            assert!(sim.step());
        }
        let t0 = sim.now();
        sim.apply(Command::Pause { node: old }).unwrap();
        sim.apply(Command::Isolate { node: old }).unwrap();
        let (new, _) = next_leader(&mut sim, old);
        let write = put(&mut sim, new, "x", "2");
        sim.run_until(SimTime(t0.0 + 4_500_000));
        let committed = matches!(sim.history().get(write).unwrap().outcome, OpOutcome::Ok { .. });
        assert_eq!(committed, stale_expected, "{policy:?}: x=2 committed inside the old lease");
        sim.apply(Command::Resume { node: old }).unwrap();
        let r = read(&mut sim, old, "x");
        sim.run_for_ms(3_000);
        let verdict = sim.check().verdict(r).cloned();
        assert_eq!(matches!(verdict, Some(Verdict::Stale(_))), stale_expected, "{policy:?}: {verdict:?}");
    }
}

/// The failover tour's comparison, as the page makes it at the tour's compare step: the run so
/// far re-run under every policy. LeaseGuard's run is the tour's own (its commands re-applied
/// where they were); no policy serves a stale read after the crash; LeaseGuard answers more of
/// the reads sent just after the new leader's election at once than its timer-only variant,
/// which must wait out the old lease before its first commit.
#[test]
fn the_failover_tour_compares_every_policy_on_its_own_run() {
    use leaselab::compare::Comparison;
    use leaselab::scenario::{builtin, ScenarioRunner};
    let (mut runner, mut sim) = ScenarioRunner::start(builtin("failover-compare").unwrap());
    loop {
        let compare = runner.upcoming().expect("the tour has a compare step").compare;
        runner.step(&mut sim);
        if compare {
            break;
        }
    }
    let mut comparison = Comparison::of_run(sim.seed(), sim.config(), sim.command_log(), sim.now()).unwrap();
    assert!(comparison.advance(usize::MAX));
    let runs = comparison.results();
    println!("{}", leaselab::compare::table(sim.seed(), &runs));
    let by = |name: &str| runs.iter().find(|r| r.policy == name).unwrap();
    assert_eq!(by("leaseguard").trace_hash, sim.trace_hash(), "the tour's own run");
    for r in &runs {
        assert_eq!(r.stale_reads, 0, "{}", r.policy);
        assert!(r.elections >= 2 && r.after_change_reads > 20, "{r:?}");
    }
    assert!(by("leaseguard").served_within(0.0) > by("leaseguard-timers").served_within(0.0));
    assert!(by("leaseguard").reads_by_path.get("inherited lease").is_some_and(|n| *n > 0));
}
