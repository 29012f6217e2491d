//! Time travel over a run long and busy enough that its history forgets its oldest records and
//! its checkpoints drop the finished records they no longer need: scrubbing back and forward
//! must give the same run, the same verdicts and a file that imports, and the checkpoints must
//! hold a bounded number of records.

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

/// What the checker concluded about the newest operations, with the run's counts.
fn verdicts(t: &mut Timeline) -> (usize, usize, Vec<String>) {
    t.check();
    let sim = t.sim();
    let newest = sim.history().next_id().0;
    let checker = sim.checker();
    let recent =
        (newest.saturating_sub(3_000)..newest).map(|id| format!("{:?}", checker.verdict(leaselab::OpId(id)))).collect();
    (checker.violations(), checker.stale_reads().len(), recent)
}

#[test]
fn scrubbing_a_long_busy_run_gives_the_same_run_verdicts_and_file() {
    let end = SimTime::from_ms(70_000);
    let mut t = busy_run(70);
    assert!(t.sim().history().first_id().0 > 1, "the history forgot its oldest records");
    let hash = t.sim().trace_hash();
    let ops = t.sim().history().len();
    let judged = verdicts(&mut t);
    assert!(judged.1 > 0, "the fast clock made stale reads for the checker to find");

    // Back into the run's middle (a thinned checkpoint), then to a minute's end.
    t.seek(SimTime::from_ms(45_500)).unwrap();
    let mid_hash = t.sim().trace_hash();
    let mid_snapshot = t.sim().snapshot();
    t.seek(end).unwrap();
    assert_eq!(t.sim().trace_hash(), hash, "replay from a thinned checkpoint diverged");
    assert_eq!(verdicts(&mut t), judged, "the verdicts differ after the scrub");
    assert!(t.sim().history().len() < ops, "the run restored from a checkpoint holds fewer old records");

    // The same instant reached without a scrub shows the same.
    let mut straight = busy_run(45);
    straight.seek(SimTime::from_ms(45_500)).unwrap();
    assert_eq!(straight.sim().trace_hash(), mid_hash);
    assert_eq!(straight.sim().snapshot(), mid_snapshot);

    // A file saved after the scrub imports (its replay holds every record; only the newest
    // and the open ones are compared), and so does one saved from the run without a scrub.
    for sim in [t.sim(), busy_run(70).sim()] {
        let text = RunExport::of(sim).unwrap().to_json_pretty();
        let (_, imported) = RunExport::import(&text).expect("the file imports");
        assert_eq!(imported.sim().trace_hash(), hash);
    }
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
