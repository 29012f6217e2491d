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
        for command in ["run|swarm|sweep|compare", "scenarios", "scenario NAME|FILE", "--commit-broadcast"] {
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

/// `check` answers with its exit code: 0 linearizable, 1 not (with the counterexample), 2 for
/// a file it cannot read — as a batch script needs.
#[test]
fn check_model_checks_a_history_file_and_exits_0_1_or_2() {
    let dir = std::env::temp_dir().join(format!("leaselab-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let ok = write(
        "ok.jsonl",
        "{\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 1}\n\
         {\"process\": 0, \"type\": \"ok\", \"f\": \"write\", \"value\": 1}\n\
         {\"process\": 1, \"type\": \"invoke\", \"f\": \"read\"}\n\
         {\"process\": 1, \"type\": \"ok\", \"f\": \"read\", \"value\": 1}\n",
    );
    let stale = write(
        "stale.edn",
        "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 0, :type :invoke, :f :write, :value 2}\n{:process 0, :type :ok, :f :write, :value 2}\n\
         {:process 1, :type :invoke, :f :read, :value nil}\n{:process 1, :type :ok, :f :read, :value 1}\n",
    );
    let broken = write("broken.jsonl", "{\"process\": 0, \"type\": \"ok\", \"f\": \"read\", \"value\": 1}\n");
    let o = leaselab(&["check", &ok]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("linearizable"));
    let o = leaselab(&["check", &stale]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("no order can place") && stdout(&o).contains("read → 1"), "{}", stdout(&o));
    let o = leaselab(&["check", &broken]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 1") && stderr(&o).contains("never invoked"), "{}", stderr(&o));
    let o = leaselab(&["check", &dir.join("missing").to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// Shards split a seed range, and their reports merge into one.
#[test]
fn swarm_shards_report_and_merge() {
    let dir = std::env::temp_dir().join(format!("leaselab-cli-shard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut reports = Vec::new();
    for k in 1..=2 {
        let report = dir.join(format!("s{k}.json")).to_string_lossy().into_owned();
        let shard = format!("{k}/2");
        let o =
            leaselab(&["swarm", "--seeds", "0..3", "--shard", &shard, "--duration-ms", "1500", "--report", &report]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        reports.push(report);
    }
    let o = leaselab(&["merge", &reports[0], &reports[1]]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"seeds\": 3"), "shards 1/2 and 2/2 of 0..3 run 2 + 1 seeds: {}", stdout(&o));
    let o = leaselab(&["swarm", "--shard", "3/2"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// `compare` runs one seed's fault schedule under every leader lease policy and prints one
/// row each (as JSON with `--format json`).
#[test]
fn compare_prints_a_row_per_policy() {
    let o = leaselab(&["compare", "--seed", "2", "--duration-ms", "3000", "--faults", "all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for policy in ["renew-at-ack", "safe", "lease-based", "leaseguard", "leaseguard-timers"] {
        assert!(text.lines().any(|l| l.starts_with(policy)), "no row for {policy}: {text}");
    }
    let o = leaselab(&["compare", "--seed", "2", "--duration-ms", "3000", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(runs.as_array().map(Vec::len), Some(5));
    assert!(runs[3]["reads_by_path"].is_object() && runs[3]["stale_reads"].is_u64(), "{runs}");
    assert!(runs[4]["after_change_latencies_us"].is_array() && runs[4]["elections"].is_u64(), "{runs}");
}

/// `failover` crashes the leader under every policy and says how soon the new leader answered.
#[test]
fn failover_prints_a_row_per_policy() {
    let o = leaselab(&["failover", "--seed", "3", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let runs = runs.as_array().expect("an array");
    assert_eq!(runs.len(), 5);
    assert!(runs.iter().all(|r| r["reads"].as_u64() > Some(100) && r["stale"] == 0), "{runs:?}");
}

/// `matrix` prints every read path at every cluster size (JSON with `--format json`).
#[test]
fn matrix_prints_every_path_at_every_size() {
    let o = leaselab(&["matrix", "--seed", "1", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cells: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let cells = cells.as_array().expect("an array");
    assert_eq!(cells.len(), 4 * 6 - 1, "no forwarded read on one node");
    assert!(cells.iter().all(|c| c["stale"] == 0 && c["reads"].as_u64() > Some(500)), "{cells:?}");
}
