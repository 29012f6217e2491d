//! Reference runs: fixed scripts whose trace hashes are pinned in
//! `tests/golden/trace_hashes.txt`. The native tests and the browser tests both replay them
//! and compare against the same pinned hashes, which proves native and wasm32 runs identical.

use crate::client_op::ClientOp;
use crate::clock::RATE_PERFECT_PPM;
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::read::ReadMode;
use crate::sim::Sim;
use crate::types::NodeId;

/// Cluster sizes and seeds of the pinned reference runs.
pub const REFERENCE_RUNS: [(usize, u64); 4] = [(1, 1), (3, 2), (5, 3), (7, 4)];

/// Elects a leader, writes through several nodes, then exercises every fault kind — a
/// partition, a one-way cut, clock drift and a jump, a pause, a crash and a restart — and
/// heals. Returns the simulation so callers can inspect more than the hash.
pub fn reference_run(nodes: usize, seed: u64) -> Sim {
    let config = ClusterConfig { node_count: nodes, ..ClusterConfig::default() };
    let mut sim = Sim::new(seed, config).expect("default config is valid");
    let n = |i: u64| NodeId(1 + i % nodes as u64);
    sim.run_for_ms(3_000);
    for i in 0..10u64 {
        let cmd = Command::Client {
            node: n(i),
            op: ClientOp::Put { key: format!("k{}", i % 3), value: i.to_string(), key_lease: None },
        };
        sim.apply(cmd).expect("valid");
        sim.run_for_ms(40);
    }
    let script = [
        Command::Isolate { node: n(0) },
        Command::SetClockRate { node: n(1), rate_ppm: 1_100_000 },
        Command::Client {
            node: n(1),
            op: ClientOp::Put { key: "during".into(), value: "partition".into(), key_lease: None },
        },
        Command::HealAll,
        Command::CutLink { from: n(2), to: n(0) },
        Command::JumpClock { node: n(2), delta_us: -250_000 },
        Command::Client { node: n(0), op: ClientOp::Read { key: "k1".into(), mode: ReadMode::Linearizable } },
        Command::Client { node: n(1), op: ClientOp::Read { key: "k2".into(), mode: ReadMode::Linearizable } },
        Command::Client { node: n(2), op: ClientOp::Read { key: "k0".into(), mode: ReadMode::Serializable } },
        Command::Pause { node: n(1) },
        Command::Client { node: n(1), op: ClientOp::Read { key: "k1".into(), mode: ReadMode::Linearizable } },
        Command::Resume { node: n(1) },
        Command::Crash { node: n(2) },
        Command::Client {
            node: n(0),
            op: ClientOp::Put { key: "after".into(), value: "crash".into(), key_lease: None },
        },
        Command::Restart { node: n(2) },
        Command::SetClockRate { node: n(1), rate_ppm: RATE_PERFECT_PPM },
        Command::HealAll,
    ];
    for cmd in script {
        // Some commands are refused in a 1-node cluster (e.g. restart of a node that the
        // clamp made the same as another); refusals are part of the deterministic script.
        let _ = sim.apply(cmd);
        sim.run_for_ms(700);
    }
    sim.run_for_ms(3_000);
    sim
}

/// Parses the golden file: lines of `nodes seed hash-in-hex`, `#` comments allowed.
pub fn parse_golden(text: &str) -> Vec<(usize, u64, u64)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "golden line {l:?} is not `nodes seed hash`");
            let hash = u64::from_str_radix(f[2].trim_start_matches("0x"), 16).expect("hex hash");
            (f[0].parse().expect("nodes"), f[1].parse().expect("seed"), hash)
        })
        .collect()
}
