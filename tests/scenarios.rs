//! Every built-in guided tour runs from its seed and meets its expectations; the scenario
//! format rejects malformed files with the line and field.

use leaselab::scenario::{builtin, parse, run, BUILTIN};
use leaselab::ClientOp;

#[test]
fn every_builtin_tour_meets_its_expectations() {
    let mut failures = Vec::new();
    for (name, _) in BUILTIN {
        let scenario = builtin(name).unwrap();
        let (report, _) = run(&scenario);
        for e in report.expectations.iter().filter(|e| !e.passed) {
            failures.push(format!("{name}: expected {} — {}", e.description, e.detail));
        }
        if !report.refused.is_empty() {
            failures.push(format!("{name}: refused commands {:?}", report.refused));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_tour_replays_to_the_same_trace() {
    let s = builtin("clock-drift-stale").unwrap();
    assert_eq!(run(&s).0.trace_hash, run(&s).0.trace_hash);
}

#[test]
fn malformed_scenarios_are_rejected_with_line_and_field() {
    let e = parse("{\n  \"name\": \"x\",\n  \"title\": \"t\",\n  \"seed\": 1,\n  \"stepz\": []\n}").unwrap_err();
    assert!(e.contains("unknown field `stepz`") && e.contains("line 5"), "{e}");
    let e = parse(r#"{"name":"x","title":"t","seed":"one","steps":[]}"#).unwrap_err();
    assert!(e.contains("invalid type") && e.contains("line 1"), "{e}");
    let e = parse(r#"{"name":"x","title":"t","seed":1,"config":{"node_count":9},"steps":[]}"#).unwrap_err();
    assert!(e.contains("node_count"), "{e}");
    let e =
        parse(r#"{"name":"x","title":"t","seed":1,"steps":[{"at_ms":5,"narration":""},{"at_ms":1,"narration":""}]}"#)
            .unwrap_err();
    assert!(e.contains("step 2"), "{e}");
    assert!(builtin("nope").unwrap_err().contains("healthy-lease-read"));
}

const GOLDEN_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/scenario_hashes.txt");

/// Pins each tour's trace hash; the browser test checks the same file (native == wasm32).
/// Re-pin after an intended change with `LEASELAB_BLESS=1 cargo test --test scenarios`.
#[test]
fn tour_trace_hashes_are_pinned() {
    let actual: String = BUILTIN
        .iter()
        .map(|(name, _)| format!("{name} {:016x}\n", run(&builtin(name).unwrap()).0.trace_hash))
        .collect();
    if std::env::var_os("LEASELAB_BLESS").is_some() {
        std::fs::write(GOLDEN_PATH, &actual).unwrap();
        return;
    }
    assert_eq!(actual, std::fs::read_to_string(GOLDEN_PATH).unwrap(), "re-pin with LEASELAB_BLESS=1 if intended");
}

/// Sharing: every tour's run, shared as a URL and as a JSON file, replays to the
/// identical trace hash and history.
#[test]
fn every_tour_round_trips_through_a_url_and_a_file() {
    use leaselab::share::{Recording, RunExport};
    for (name, _) in BUILTIN {
        let (report, sim) = run(&builtin(name).unwrap());
        let fragment = Recording::of(&sim).unwrap().to_url_fragment();
        let from_url = Recording::from_url_fragment(&fragment).and_then(|r| r.replay());
        let from_url = from_url.unwrap_or_else(|e| panic!("{name}: URL replay failed: {e}"));
        assert_eq!(from_url.sim().trace_hash(), report.trace_hash, "{name}: URL round trip");
        let text = RunExport::of(&sim).unwrap().to_json_pretty();
        let (export, from_file) = RunExport::import(&text).unwrap_or_else(|e| panic!("{name}: import failed: {e}"));
        assert_eq!(from_file.sim().trace_hash(), report.trace_hash, "{name}: JSON round trip");
        assert_eq!(export.history.len(), sim.history().len());
    }
}

/// Prediction prompts come with answers that the tour's own expectations can check.
#[test]
fn prediction_questions_point_at_the_operation_the_step_issues() {
    use leaselab::scenario::{QuestionKind, ScenarioRunner};
    let mut asked = 0;
    for (name, _) in BUILTIN {
        let (mut runner, mut sim) = ScenarioRunner::start(builtin(name).unwrap());
        while let Some(step) = runner.upcoming().cloned() {
            let question = runner.upcoming_question();
            runner.step(&mut sim);
            let Some(q) = question else { continue };
            asked += 1;
            assert!(step.predict.is_some(), "{name}: a question without a prompt");
            let id = runner.op_id(q.op).unwrap_or_else(|| panic!("{name}: op {} was not issued by its step", q.op));
            let record = sim.history().get(id).unwrap();
            assert!(record.kind.is_read(), "{name}: op {} is not a read", q.op);
            assert!(q.choices().len() >= 2);
            if q.kind == QuestionKind::Path {
                sim.run_for_ms(50);
                let path = sim.history().get(id).unwrap().trace.as_ref().and_then(|t| t.path).map(|p| p.label());
                assert!(path.is_some_and(|p| q.choices().contains(&p)), "{name}: path {path:?} not offered");
            }
        }
    }
    assert!(asked >= 5, "only {asked} tours ask a checkable question");
}

/// The checker lives in the simulation: a stale read stays counted after the history forgot
/// its record, whether the moment is reached live, by scrubbing back and forth, or by opening
/// a shared link (all three once showed "0 stale" for the same moment).
#[test]
fn a_stale_read_stays_counted_after_its_record_is_forgotten() {
    use leaselab::share::Recording;
    use leaselab::{Command, SimTime};
    let (_, sim) = run(&builtin("clock-drift-stale").unwrap());
    let mut timeline = Recording::of(&sim).unwrap().replay().unwrap();
    timeline.apply(Command::HealAll).unwrap();
    timeline.apply(Command::SetWorkload { ops_per_sec: 1_000 }).unwrap();
    let end = SimTime(timeline.sim().now().0 + 60_000_000);
    timeline.seek(end).unwrap();
    let first = timeline.sim().history().iter().next().unwrap().id;
    let stale = |t: &mut leaselab::timeline::Timeline| {
        t.check();
        let c = t.sim().checker();
        (c.stale_reads().len(), c.violations(), c.stale_reads().first().map(|s| s.read))
    };
    let live = stale(&mut timeline);
    assert!(live.0 >= 1, "{live:?}");
    assert!(live.2.unwrap() < first, "the stale read's record is gone: {live:?}, oldest kept {first}");
    timeline.seek(SimTime(end.0 / 2)).unwrap();
    timeline.seek(end).unwrap();
    assert_eq!(stale(&mut timeline), live, "after scrubbing back and forth");
    let mut shared = Recording::of(timeline.sim()).unwrap().replay().unwrap();
    assert_eq!(stale(&mut shared), live, "after opening a shared link");
}

/// A tour driven step by step says when someone played past a step's planned moment (the
/// step then runs late and the tour may not go as written); undisturbed, no step is late.
#[test]
fn a_step_played_past_is_marked_late() {
    use leaselab::scenario::ScenarioRunner;
    use leaselab::SimTime;
    let (mut runner, mut sim) = ScenarioRunner::start(builtin("clock-drift-stale").unwrap());
    while runner.step(&mut sim) {
        assert_eq!(runner.late, None, "step {}", runner.next);
    }
    let (mut runner, mut sim) = ScenarioRunner::start(builtin("clock-drift-stale").unwrap());
    runner.step(&mut sim);
    sim.run_for_ms(20_000);
    runner.step(&mut sim);
    assert_eq!(runner.late, Some(SimTime::from_ms(3_100)));
    // A step timed after the previous one is late too when time ran on in between.
    while runner.next < 4 {
        runner.step(&mut sim);
    }
    sim.run_for_ms(1_000);
    let applied = sim.now();
    runner.step(&mut sim);
    assert!(runner.late.is_some_and(|planned| planned < applied), "{:?}", runner.late);
}

/// A tour's checks name operations by the ids the operation log shows, even when someone
/// issued operations of their own between its steps (the tour's "read 3" is then not op3).
#[test]
fn tour_checks_name_the_operations_the_log_shows() {
    use leaselab::scenario::ScenarioRunner;
    use leaselab::{Command, NodeId, ReadMode};
    let (mut runner, mut sim) = ScenarioRunner::start(builtin("pause-safe").unwrap());
    let mut own = Vec::new();
    while runner.step(&mut sim) {
        let read =
            Command::Client { node: NodeId(2), op: ClientOp::Read { key: "y".into(), mode: ReadMode::Serializable } };
        own.extend(sim.apply(read).unwrap());
    }
    let report = runner.finish(&mut sim);
    let third = report.ops[2];
    assert!(!own.is_empty() && third.0 != 3, "the interleaved reads moved the tour's read 3 to {third}");
    let names: Vec<&str> = report.expectations.iter().map(|e| e.description.as_str()).collect();
    // The tour's own checks, then the one every tour ends with.
    assert_eq!(
        names,
        [
            format!("read {third} takes ReadIndex"),
            format!("read {third} is not stale"),
            "both linearizability checkers agree and decide".to_string()
        ]
    );
    assert!(report.expectations[2].passed, "{}", report.expectations[2].detail);
    let stale_check = &report.expectations[1];
    assert!(stale_check.passed, "{}", stale_check.detail);
    assert_eq!(stale_check.detail, "it failed with “leader changed”: no value, so nothing stale");
    // Without ids (a scenario not yet run) the scenario's own numbering is used.
    assert_eq!(builtin("pause-safe").unwrap().expect[0].describe(), "read 3 takes ReadIndex");
}

/// A hand-written tour file says what is wrong with it rather than running as if it were
/// empty: a misspelt config field, a refused command, a run of years.
#[test]
fn a_tour_file_says_what_is_wrong_with_it() {
    let e = parse(r#"{"name":"x","title":"t","seed":1,"config":{"election_tick":0},"steps":[]}"#).unwrap_err();
    assert!(e.contains("unknown field `election_tick`"), "{e}");
    let e = parse(r#"{"name":"x","title":"t","seed":1,"steps":[],"end_ms":99999999999}"#).unwrap_err();
    assert!(e.contains("end_ms is 99999999999 ms, past the 24 h"), "{e}");
    let e =
        parse(r#"{"name":"x","title":"t","seed":1,"steps":[{"at_ms":5,"narration":"","after_previous_ms":90000000}]}"#)
            .unwrap_err();
    assert!(e.contains("step 1 runs at 90000000 ms"), "{e}");

    let refusing = r#"{"name":"x","title":"t","seed":1,"steps":[
        {"at_ms":2000,"narration":"an empty key","target":"leader","commands":[{"Put":{"node":0,"key":"","value":"1"}}]},
        {"at_ms":2100,"narration":"a stopped clock","commands":[{"SetClockRate":{"node":1,"rate_ppm":0}}]}]}"#;
    let (report, sim) = leaselab::scenario::run(&parse(refusing).unwrap());
    assert!(!report.passed(), "refused commands fail the scenario");
    assert_eq!(report.refused.len(), 2);
    assert_eq!(report.refused[0].0, 1);
    assert!(
        report.refused[0].1.contains("refused") && report.refused[0].1.contains("key must not be empty"),
        "{:?}",
        report.refused
    );
    assert!(report.refused[1].1.contains("clock rate must be between"), "{:?}", report.refused);
    let failed = report.expectations.iter().find(|e| !e.passed).unwrap();
    assert!(failed.detail.contains("step 1: put =1") && failed.detail.contains("step 2: "), "{}", failed.detail);
    assert!(sim.history().iter().next().is_none(), "nothing was invoked");

    // A step that says its commands will be refused passes when they are, fails when not.
    let meant =
        refusing.replace("\"narration\":\"an empty key\",", "\"narration\":\"an empty key\",\"expect_refused\":true,");
    let meant = meant
        .replace("\"narration\":\"a stopped clock\",", "\"narration\":\"a stopped clock\",\"expect_refused\":true,");
    assert!(leaselab::scenario::run(&parse(&meant).unwrap()).0.passed());
    let accepted = meant.replace("\"key\":\"\"", "\"key\":\"k\"");
    let (report, _) = leaselab::scenario::run(&parse(&accepted).unwrap());
    let failed = report.expectations.iter().find(|e| !e.passed).expect("an accepted step meant to be refused fails");
    assert!(failed.detail.contains("step 1 was meant to be refused"), "{}", failed.detail);
}
