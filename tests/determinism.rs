//! The determinism fingerprint: reference runs (with every fault kind) must reproduce the
//! pinned trace hashes. The browser test in `www/tests/web.rs` checks the same file, so a
//! pass on both sides means native and wasm32 traces are identical.
//!
//! After an intended behaviour change, re-pin with `LEASELAB_BLESS=1 cargo test --test determinism`.

use leaselab::reference::{parse_golden, reference_run, REFERENCE_RUNS};

const GOLDEN_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/trace_hashes.txt");

#[test]
fn reference_runs_match_the_pinned_trace_hashes() {
    let actual: Vec<(usize, u64, u64)> =
        REFERENCE_RUNS.iter().map(|&(nodes, seed)| (nodes, seed, reference_run(nodes, seed).trace_hash())).collect();
    if std::env::var_os("LEASELAB_BLESS").is_some() {
        let mut text = String::from("# nodes seed trace-hash (written by LEASELAB_BLESS=1)\n");
        for (nodes, seed, hash) in &actual {
            text.push_str(&format!("{nodes} {seed} {hash:016x}\n"));
        }
        std::fs::write(GOLDEN_PATH, text).unwrap();
        return;
    }
    let golden = parse_golden(&std::fs::read_to_string(GOLDEN_PATH).unwrap());
    assert_eq!(actual, golden, "trace changed; if intended, re-pin with LEASELAB_BLESS=1");
}

#[test]
fn a_reference_run_replays_identically() {
    let a = reference_run(5, 99);
    let b = reference_run(5, 99);
    assert_eq!(a.trace_hash(), b.trace_hash());
    assert_eq!(a.trace().len(), b.trace().len());
}

#[test]
fn reference_runs_end_with_a_leader_and_converged_stores() {
    for (nodes, seed) in REFERENCE_RUNS {
        let sim = reference_run(nodes, seed);
        let leader = sim.leader().unwrap_or_else(|| panic!("no leader: nodes={nodes} seed={seed}"));
        let expected = sim.node(leader).kv().unwrap().entries(1_000);
        for n in sim.nodes() {
            assert_eq!(n.kv().unwrap().entries(1_000), expected, "{} nodes={nodes}", n.id);
        }
    }
}
