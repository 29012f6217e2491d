//! Time travel over a run long and busy enough that its history forgets its oldest records and
//! its checkpoints drop the finished records they no longer need: scrubbing back and forward
//! must give the same run, the same verdicts and a file that imports, and the checkpoints must
//! hold a bounded number of records.

use leaselab::explain::explain_stale_read;
use leaselab::history::{HISTORY_CHECKPOINT_KEPT, HISTORY_RETAINED_MAX};
use leaselab::leader_lease::LeaderLeasePolicy;
use leaselab::share::RunExport;
use leaselab::time::SimTime;
use leaselab::timeline::Timeline;
use leaselab::{ClusterConfig, Command};

/// 3 nodes under the renew-at-ack policy at 1,000 background operations a second; twice the
/// leader's clock runs slow and the leader is cut off for 4 s, so that it serves stale leader
/// lease reads to its clients while the others elect a new leader. Past 50 simulated seconds
/// the history forgets its oldest records.
fn busy_run(until_s: u64) -> Timeline {
    let mut config = ClusterConfig { node_count: 3, ..ClusterConfig::default() };
    config.leader_lease.policy = LeaderLeasePolicy::RenewAtAck;
    let mut t = Timeline::new(5, config).unwrap();
    t.apply(Command::SetWorkload { ops_per_sec: 1_000 }).unwrap();
    for fault_s in [20, 40] {
        t.seek(SimTime::from_ms(fault_s * 1_000)).unwrap();
        let leader = t.sim().leader().expect("a leader");
        t.apply(Command::SetClockRate { node: leader, rate_ppm: 800_000 }).unwrap();
        t.seek(SimTime::from_ms(fault_s * 1_000 + 500)).unwrap();
        t.apply(Command::Isolate { node: leader }).unwrap();
        t.seek(SimTime::from_ms(fault_s * 1_000 + 4_500)).unwrap();
        t.apply(Command::HealAll).unwrap();
        t.apply(Command::SetClockRate { node: leader, rate_ppm: 1_000_000 }).unwrap();
    }
    t.seek(SimTime::from_ms(until_s * 1_000)).unwrap();
    t
}

/// What the checker concluded about the newest operations, with the run's counts and how the
/// page explains each stale read (from the read's record).
fn verdicts(t: &mut Timeline) -> (usize, usize, Vec<String>, Vec<String>) {
    t.check();
    let sim = t.sim();
    let newest = sim.history().next_id().0;
    let checker = sim.checker();
    let recent =
        (newest.saturating_sub(3_000)..newest).map(|id| format!("{:?}", checker.verdict(leaselab::OpId(id)))).collect();
    let explained = checker.stale_reads().iter().map(|s| explain_stale_read(sim, s)).collect();
    (checker.violations(), checker.stale_reads().len(), recent, explained)
}

#[test]
fn scrubbing_a_long_busy_run_gives_the_same_run_verdicts_and_file() {
    let end = SimTime::from_ms(70_000);
    let mut t = busy_run(70);
    assert!(t.sim().history().first_id().0 > 1, "the history forgot its oldest records");
    let hash = t.sim().trace_hash();
    let ops = t.sim().history().len();
    let judged = verdicts(&mut t);
    assert!(judged.1 > 0, "the slow clock made stale reads for the checker to find");

    // Back into the run's middle (a thinned checkpoint), then to its end.
    t.seek(SimTime::from_ms(45_500)).unwrap();
    let mid_hash = t.sim().trace_hash();
    let mid_snapshot = t.sim().snapshot();
    t.seek(end).unwrap();
    assert_eq!(t.sim().trace_hash(), hash, "replay from a thinned checkpoint diverged");
    assert_eq!(verdicts(&mut t), judged, "the verdicts or their explanations differ after the scrub");
    assert!(t.sim().history().len() < ops, "the run restored from a checkpoint holds fewer old records");
    assert!(!t.sim().history().is_whole());

    // The same instant reached without a scrub shows the same.
    let mut straight = busy_run(45);
    straight.seek(SimTime::from_ms(45_500)).unwrap();
    assert_eq!(straight.sim().trace_hash(), mid_hash);
    assert_eq!(straight.sim().snapshot(), mid_snapshot);

    // A file saved after the scrub imports (its replay holds every record; only the newest
    // and the open ones are compared), and so does one saved from the run without a scrub.
    let unscrubbed = busy_run(70);
    for sim in [t.sim(), unscrubbed.sim()] {
        let text = RunExport::of(sim).unwrap().to_json_pretty();
        let (_, imported) = RunExport::import(&text).expect("the file imports");
        assert_eq!(imported.sim().trace_hash(), hash);
    }

    // A checker started afresh (a guided tour's final check) needs every record: replayed
    // from the start, the run holds them all again and is the same run.
    t.rebuild_whole_history().unwrap();
    assert!(t.sim().history().is_whole());
    assert_eq!(t.sim().history().len(), ops);
    assert_eq!(t.sim().trace_hash(), hash);
    let afresh = |sim: &leaselab::Sim| {
        let mut checker = leaselab::checker::Checker::new();
        checker.update(sim.history());
        (checker.violations(), checker.stale_reads().len())
    };
    assert_eq!(afresh(t.sim()), afresh(unscrubbed.sim()), "afresh, the same verdicts as the run never scrubbed");
}

#[test]
fn checkpoints_hold_few_finished_records() {
    let t = busy_run(60);
    let held = t.checkpoint_records();
    let bound = t.checkpoint_count() * (HISTORY_CHECKPOINT_KEPT + 2_000);
    assert!(
        held <= bound,
        "{} checkpoints hold {held} records (whole histories would be up to {} each)",
        t.checkpoint_count(),
        HISTORY_RETAINED_MAX
    );
}

/// A guided tour under a background load heavy enough that its checkpoints drop records,
/// scrubbed back before its last step: as the page does, the run is rebuilt from its start
/// before the tour's final check, which then reports exactly what the unscrubbed tour reports.
#[test]
fn a_tour_scrubbed_back_ends_with_the_same_report() {
    use leaselab::scenario::{builtin, ScenarioRunner};
    let tour = || {
        let (mut runner, sim) = ScenarioRunner::start(builtin("leader-isolated").unwrap());
        let mut t = Timeline::from_sim(sim);
        t.apply(Command::SetWorkload { ops_per_sec: 1_000 }).unwrap();
        while !runner.is_done() {
            t.drive(|sim| runner.step(sim));
            t.advance(t.sim().now().plus_us(500_000), usize::MAX);
        }
        (runner, t)
    };
    let (mut runner, mut t) = tour();
    let report = t.drive(|sim| runner.finish(sim));
    assert!(report.expectations.iter().all(|e| e.passed), "{:?}", report.expectations);

    let (mut runner, mut t) = tour();
    let horizon = t.horizon();
    t.seek(SimTime::from_ms(1_000)).unwrap();
    t.seek(horizon).unwrap();
    assert!(!t.sim().history().is_whole(), "the tour's run was restored from a thinned checkpoint");
    t.rebuild_whole_history().unwrap();
    assert_eq!(t.drive(|sim| runner.finish(sim)), report);
}
