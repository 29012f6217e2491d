//! The two linearizability checkers against outside evidence and against each other.
//!
//! Porcupine's Jepsen etcd histories (102 runs of Jepsen's etcd test: one register, read /
//! write / cas, with Porcupine's own verdict for each) are read from the workspace's shared
//! corpus when it is present; the test says "skipped" when it is not.

use leaselab::checker::external;
use leaselab::checker::model::{check, Limits, Outcome};
use std::path::PathBuf;
use std::time::Instant;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/porcupine-etcd");
    dir.join("expected.txt").exists().then_some(dir)
}

/// Every Porcupine verdict on its Jepsen etcd histories (porcupine_test.go's
/// `TestEtcdJepsenNNN`), matched with no unknown.
#[test]
fn the_model_checker_matches_porcupine_on_its_jepsen_etcd_histories() {
    let Some(dir) = corpus() else {
        println!("skipped: corpus not present (../shared/corpus/porcupine-etcd)");
        return;
    };
    let expected = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let mut checked = 0;
    let started = Instant::now();
    for line in expected.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (file, verdict) = line.split_once(' ').expect("name verdict");
        let text = std::fs::read_to_string(dir.join("jepsen").join(file)).unwrap();
        let ops = external::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let report = check(&ops, Limits::default());
        let got = match report.outcome() {
            Outcome::Linearizable => "true",
            Outcome::NotLinearizable(_) => "false",
            Outcome::Unknown { reason } => panic!("{file}: unknown ({reason})"),
        };
        assert_eq!(got, verdict.trim(), "{file}: Porcupine says {verdict}");
        checked += 1;
    }
    assert_eq!(checked, 102);
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("102 Porcupine histories matched in {:.2} s ({build} build)", started.elapsed().as_secs_f64());
}
