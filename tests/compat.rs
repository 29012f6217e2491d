//! Files written before client operations had one type and key leases were named as such
//! (recording format 1) keep opening and reproduce the same run: a shared link, an exported
//! run and a tour file, each saved by that version (in `tests/fixtures/`). The run grants a
//! key lease, puts with it (also one that does not exist), runs a transaction with a key lease
//! put, keeps the key lease alive at the leader, drifts a clock and revokes it.

use leaselab::scenario;
use leaselab::share::{Recording, RunExport, FORMAT};

/// The trace hash the format-1 run reproduces today (its event texts now say "key lease").
const FORMAT1_RUN_HASH: u64 = 0xd24c_8995_6ac4_4ee7;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_format1_link_and_export_open_and_reproduce_the_same_run() {
    let link = Recording::from_url_fragment(fixture("format1-link.txt").trim()).expect("a format-1 link still reads");
    assert_eq!(link.format, 1);
    assert!(link.hash_predates_wording(), "the run grants, uses and revokes a key lease");
    let from_link = link.replay().expect("and replays");
    let hash = from_link.sim().trace_hash();
    assert_eq!(hash, FORMAT1_RUN_HASH, "got {hash:016x}");

    let (export, from_file) =
        RunExport::import(&fixture("format1-export.json")).expect("a format-1 export still imports");
    assert_eq!(from_file.sim().trace_hash(), hash, "the file reproduces the link's run");
    assert_eq!(export.recording.format, FORMAT, "what it gives back is in today's format");

    // Saved again today, the same run opens with its trace hash checked.
    let again = Recording::from_url_fragment(&Recording::of(from_link.sim()).unwrap().to_url_fragment()).unwrap();
    assert_eq!(again.format, FORMAT);
    assert!(!again.hash_predates_wording());
    assert_eq!(again.replay().expect("a link in today's format replays").sim().trace_hash(), hash);
}

#[test]
fn an_edited_format1_link_is_still_refused() {
    let mut link = Recording::from_url_fragment(fixture("format1-link.txt").trim()).unwrap();
    // Move a command to a position the run never reaches at that time.
    let c = link.commands.iter_mut().rev().find(|c| c.after > 10).expect("a command after the election");
    c.after -= 5;
    let Err(e) = link.replay() else { panic!("an edited link replays") };
    assert!(e.contains("does not reproduce") || e.contains("out of order"), "{e}");
}

#[test]
fn a_format1_tour_file_runs_as_the_built_in_tour_does() {
    let old = scenario::parse(&fixture("format1-tour-key-lease-churn-checkpoints.json")).expect("old names still read");
    let new = scenario::builtin("key-lease-churn-checkpoints").unwrap();
    assert_eq!(old.steps, new.steps, "the same commands under today's names");
    let (old_report, old_sim) = scenario::run(&old);
    let (_, new_sim) = scenario::run(&new);
    assert!(old_report.passed());
    assert_eq!(old_sim.trace_hash(), new_sim.trace_hash());
}

/// Before raft log compaction kept catch-up entries (recording format 2), a node compacted
/// through its snapshot's index. A format-2 link to a run long enough to compact still
/// replays that way, to the trace hash it was saved with; read as today's format, the same
/// commands compact differently and the hash would not match.
#[test]
fn a_format2_run_that_compacted_replays_with_the_compaction_it_was_recorded_with() {
    use leaselab::{ClientOp, ClusterConfig, Command, Sim};
    let config = ClusterConfig { log_catch_up_entries: 0, ..ClusterConfig::default() };
    let mut sim = Sim::new(3, config).unwrap();
    sim.run_for_ms(3_000);
    for i in 0..1_500u64 {
        let node = sim.leader().unwrap();
        let op = ClientOp::Put { key: format!("k{}", i % 8), value: i.to_string(), key_lease: None };
        sim.apply(Command::Client { node, op }).unwrap();
        sim.run_for_ms(10);
    }
    sim.run_for_ms(1_000);
    let compacted = sim.nodes().iter().all(|n| n.first_index() > 1_000);
    assert!(compacted, "every node compacted its log");
    // The link as format 2 wrote it: no `log_catch_up_entries` in its config.
    let mut json: serde_json::Value = serde_json::from_str(&Recording::of(&sim).unwrap().to_json()).unwrap();
    json["format"] = 2.into();
    json["config"].as_object_mut().unwrap().remove("log_catch_up_entries");
    let format2 = Recording::from_json(&json.to_string()).unwrap();
    let replayed = format2.replay().expect("a format-2 run replays as recorded");
    assert_eq!(replayed.sim().trace_hash(), sim.trace_hash());
    assert_eq!(replayed.sim().config().log_catch_up_entries, 0);

    json["format"] = FORMAT.into();
    let Err(e) = Recording::from_json(&json.to_string()).unwrap().replay() else {
        panic!("read as today's format, the run compacts as today and does not reproduce")
    };
    assert!(e.contains("does not reproduce"), "{e}");
}
