//! The `leaselab` command line as a user meets it: help, bad input, and one short run of each
//! command (the binary cargo built for this test).
use std::process::{Command, Output};

fn leaselab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leaselab")).args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_prints_every_command_and_succeeds() {
    for args in [&["--help"][..], &["help"], &["-h"], &["swarm", "--seed", "3", "--help"]] {
        let o = leaselab(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        for command in ["run|swarm|sweep", "scenarios", "scenario NAME|FILE", "--commit-broadcast"] {
            assert!(stdout(&o).contains(command), "{args:?} help lacks {command}: {}", stdout(&o));
        }
    }
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "usage:"),
        (&["fly"], "unknown command \"fly\""),
        (&["swarm", "--nodes"], "--nodes needs a value"),
        (&["swarm", "--nodes", "nine"], "--nodes: \"nine\" is not a number"),
        (&["swarm", "--nodes", "9"], "node"),
        (&["swarm", "--seeds", "5..3"], "--seeds 5..3: the range is empty"),
        (&["swarm", "--seeds", "5"], "--seeds takes A..B"),
        (&["swarm", "--faults", "meteors"], "meteors"),
        (&["swarm", "--policy", "optimistic"], "optimistic"),
        (&["run", "--format", "xml"], "--format: \"xml\" is not text or json"),
        (&["run", "--colour", "red"], "unknown flag --colour"),
        (&["scenario", "no-such-tour"], "no-such-tour"),
    ];
    for (args, expected) in cases {
        let o = leaselab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?} exits 2; stdout {}", stdout(&o));
        assert!(stderr(&o).contains(expected), "{args:?}: expected {expected:?} in {:?}", stderr(&o));
    }
}

#[test]
fn run_prints_one_line_per_event_and_the_trace_hash() {
    let o = leaselab(&["run", "--seed", "7", "--nodes", "3", "--duration-ms", "2000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().count() > 50, "a 3-second run of 3 nodes has many events:\n{out}");
    assert!(out.contains("leader"), "an election appears in the trace:\n{out}");
    let summary = stderr(&o);
    let events: usize =
        summary.split(", ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert_eq!(events, out.lines().count(), "the summary counts the printed events: {summary}");
    // JSON lines: each line parses on its own.
    let o = leaselab(&["run", "--seed", "7", "--nodes", "3", "--duration-ms", "2000", "--format", "json"]);
    let lines: Vec<_> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), events, "the same events as JSON lines");
    for l in &lines {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    assert_eq!(stderr(&o), summary, "the same run, the same trace hash");
}

#[test]
fn swarm_reports_seeds_passed_and_replays_one_seed() {
    let o = leaselab(&["swarm", "--seeds", "0..3", "--nodes", "3", "--duration-ms", "3000", "--faults", "all"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("3 passed, 0 failed"), "{}", stdout(&o));
    let o = leaselab(&["swarm", "--seed", "2", "--nodes", "3", "--duration-ms", "3000", "--faults", "all"]);
    assert!(stdout(&o).starts_with("seed 2: "), "one seed prints its summary line: {}", stdout(&o));
}

#[test]
fn scenarios_lists_the_tours_and_scenario_runs_one() {
    let o = leaselab(&["scenarios"]);
    assert!(o.status.success());
    let first = stdout(&o).lines().next().and_then(|l| l.split_whitespace().next()).map(str::to_owned).unwrap();
    let o = leaselab(&["scenario", &first]);
    assert!(o.status.success(), "the built-in tour {first} meets its expectations: {}", stdout(&o));
    assert!(stdout(&o).contains("## expectations"), "{}", stdout(&o));
}
