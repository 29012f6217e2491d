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
    assert_eq!(again.replay().expect("a format-2 link replays").sim().trace_hash(), hash);
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
