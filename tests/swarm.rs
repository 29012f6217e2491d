//! Seeded swarm runs with every fault kind; invariants after every step. A failure prints the
//! seed and the exact command that replays it. `make swarm` runs thousands of seeds.

use leaselab::swarm::{run_swarm, FaultMix, SwarmConfig};

fn sweep(nodes: usize, seeds: std::ops::Range<u64>, faults: FaultMix) {
    let config = SwarmConfig { nodes, faults, duration_ms: 15_000, ..SwarmConfig::default() };
    let mut failures = Vec::new();
    let mut acknowledged = 0;
    for seed in seeds {
        let report = run_swarm(seed, &config);
        acknowledged += report.writes_ok;
        if !report.violations.is_empty() {
            failures.push(format!(
                "seed={seed}: {}\n  reproduce with: {}",
                report.violations.join("; "),
                report.replay_command(&config)
            ));
        }
    }
    assert!(failures.is_empty(), "{} failing seeds:\n{}", failures.len(), failures.join("\n"));
    assert!(acknowledged > 0, "the sweep acknowledged no write at all");
}

#[test]
fn swarm_three_nodes_all_faults() {
    sweep(3, 0..200, FaultMix::ALL);
}

#[test]
fn swarm_five_nodes_all_faults() {
    sweep(5, 1_000..1_150, FaultMix::ALL);
}

#[test]
fn swarm_seven_nodes_all_faults() {
    sweep(7, 2_000..2_080, FaultMix::ALL);
}

#[test]
fn swarm_single_node_with_clock_and_pause_faults() {
    sweep(1, 3_000..3_050, FaultMix::parse("clocks,pauses").unwrap());
}

#[test]
fn a_swarm_run_replays_to_the_same_trace() {
    let config = SwarmConfig::default();
    assert_eq!(run_swarm(42, &config), run_swarm(42, &config));
}
