//! The support matrix: for 1, 3, 5 and 7 nodes, how each read path serves the same clients.
//!
//! Each cell is one run: the cluster settles, a background load of writes and reads runs (100
//! operations a second at random nodes), and four closed-loop clients read for ten simulated
//! seconds, each issuing its next read 1 ms after the previous one was answered (a client's own
//! round trip). The cell reports their reads' mean and p99 latency, the reads a second the four
//! clients got through, and the messages each read cost the cluster (the run's messages beyond
//! a run of the same seed without the clients, per read). The simulator models the network,
//! not servers' CPUs: what a path costs here is waiting and messages.

use crate::client_op::ClientOp;
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::event::OpOutcome;
use crate::leader_lease::LeaderLeasePolicy;
use crate::read::ReadMode;
use crate::sim::Sim;
use crate::time::SimTime;
use crate::types::{NodeId, OpId};
use serde::{Deserialize, Serialize};

/// Cluster sizes measured.
pub const SIZES: [usize; 4] = [1, 3, 5, 7];
/// Closed-loop clients per cell.
const CLIENTS: usize = 4;
/// Simulated time the clients read for.
const MEASURE_MS: u64 = 10_000;
/// A client's own round trip: it issues its next read this long after an answer.
const THINK_US: u64 = 1_000;

/// How the clients read in one column of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathSetup {
    pub name: &'static str,
    policy: LeaderLeasePolicy,
    leases: bool,
    mode: ReadMode,
    /// Read at a follower rather than at the leader.
    at_follower: bool,
}

/// The read paths compared, each as the clients get it.
pub const PATHS: [PathSetup; 6] = [
    PathSetup {
        name: "lease read",
        policy: LeaderLeasePolicy::SendTimeAnchored,
        leases: true,
        mode: ReadMode::Linearizable,
        at_follower: false,
    },
    PathSetup {
        name: "LeaseGuard",
        policy: LeaderLeasePolicy::LeaseGuard,
        leases: true,
        mode: ReadMode::Linearizable,
        at_follower: false,
    },
    PathSetup {
        name: "ReadIndex",
        policy: LeaderLeasePolicy::SendTimeAnchored,
        leases: false,
        mode: ReadMode::Linearizable,
        at_follower: false,
    },
    PathSetup {
        name: "forwarded",
        policy: LeaderLeasePolicy::SendTimeAnchored,
        leases: true,
        mode: ReadMode::Linearizable,
        at_follower: true,
    },
    PathSetup {
        name: "log read",
        policy: LeaderLeasePolicy::SendTimeAnchored,
        leases: true,
        mode: ReadMode::Log,
        at_follower: false,
    },
    PathSetup {
        name: "serializable",
        policy: LeaderLeasePolicy::SendTimeAnchored,
        leases: true,
        mode: ReadMode::Serializable,
        at_follower: false,
    },
];

/// One cell: a path at a cluster size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub nodes: usize,
    pub path: String,
    /// Reads the clients got answered.
    pub reads: usize,
    /// Of those, the share that took the path named (a lease read falls back to ReadIndex
    /// while the lease is renewed late, for instance).
    pub on_path: f64,
    pub mean_ms: f64,
    pub p99_ms: f64,
    pub reads_per_sec: f64,
    pub messages_per_read: f64,
    pub stale: usize,
}

/// A cluster of `nodes` under `setup`, settled, with the background load on.
fn settled(seed: u64, nodes: usize, setup: &PathSetup) -> Sim {
    let mut config = ClusterConfig { node_count: nodes, ..ClusterConfig::default() };
    config.leader_lease.policy = setup.policy;
    config.leader_lease.enabled = setup.leases;
    let mut sim = Sim::new(seed, config).expect("matrix configs are valid");
    sim.run_for_ms(3_000);
    let _ = sim.apply(Command::SetWorkload { ops_per_sec: 100 });
    sim.run_for_ms(1_000);
    sim
}

/// One cell, or `None` where the path does not exist (no follower in a one-node cluster).
pub fn cell(seed: u64, nodes: usize, setup: &PathSetup) -> Option<Cell> {
    cell_for(seed, nodes, setup, MEASURE_MS)
}

/// [`cell`] with the clients reading for `measure_ms` of simulated time.
pub fn cell_for(seed: u64, nodes: usize, setup: &PathSetup, measure_ms: u64) -> Option<Cell> {
    if setup.at_follower && nodes == 1 {
        return None;
    }
    let baseline = {
        let mut sim = settled(seed, nodes, setup);
        let from = sim.network().messages_sent();
        sim.run_for_ms(measure_ms);
        sim.network().messages_sent() - from
    };
    let mut sim = settled(seed, nodes, setup);
    let leader = sim.leader()?;
    let node = if setup.at_follower { NodeId(leader.0 % nodes as u64 + 1) } else { leader };
    let from_messages = sim.network().messages_sent();
    let end = SimTime(sim.now().0 + measure_ms * 1_000);
    let mut clients: Vec<(Option<OpId>, SimTime)> = vec![(None, sim.now()); CLIENTS];
    let mut ops = Vec::new();
    while sim.now() < end {
        for client in clients.iter_mut() {
            let ready = match client.0 {
                None => sim.now() >= client.1,
                Some(op) => sim
                    .history()
                    .get(op)
                    .and_then(|r| r.completed_at)
                    .is_some_and(|done| sim.now().0 >= done.0 + THINK_US),
            };
            if ready {
                let read = ClientOp::Read { key: "w1".into(), mode: setup.mode };
                if let Ok(Some(op)) = sim.apply(Command::Client { node, op: read }) {
                    ops.push(op);
                    *client = (Some(op), sim.now());
                }
            }
        }
        sim.run_until(SimTime(sim.now().0 + THINK_US));
    }
    let messages = sim.network().messages_sent() - from_messages;
    sim.run_for_ms(3_000);
    let stale = sim.check().stale_reads().len();
    let mut latencies = Vec::new();
    let mut on_path = 0;
    for op in &ops {
        let Some(r) = sim.history().get(*op) else { continue };
        let (OpOutcome::Ok { .. }, Some(done)) = (&r.outcome, r.completed_at) else { continue };
        if done > end {
            continue;
        }
        latencies.push(done.saturating_sub(r.invoked_at));
        let path = r.trace.as_ref().and_then(|t| t.path).map(|p| p.label());
        on_path +=
            usize::from(path.is_some_and(|p| setup.name == "LeaseGuard" && p == "lease read" || p == setup.name));
    }
    // The crate's one sort: another instantiation would cost the page its bytes.
    crate::order::sort_by_key(&mut latencies, |&l| (l, 0, 0));
    let reads = latencies.len();
    let at = |q: usize| latencies.get((reads.max(1) - 1) * q / 100).copied().unwrap_or(0) as f64 / 1_000.0;
    Some(Cell {
        nodes,
        path: setup.name.to_string(),
        reads,
        on_path: on_path as f64 / reads.max(1) as f64,
        mean_ms: latencies.iter().sum::<u64>() as f64 / reads.max(1) as f64 / 1_000.0,
        p99_ms: at(99),
        reads_per_sec: reads as f64 / (measure_ms as f64 / 1_000.0),
        messages_per_read: messages.saturating_sub(baseline) as f64 / reads.max(1) as f64,
        stale,
    })
}

/// Every cell, by cluster size then path.
pub fn matrix(seed: u64) -> Vec<Cell> {
    let mut run = Measurement::new(seed);
    while !run.step() {}
    run.cells
}

/// The matrix measured a cell at a time (the page measures one per frame).
#[derive(Clone, Debug)]
pub struct Measurement {
    seed: u64,
    /// Simulated time the clients of each cell read for.
    measure_ms: u64,
    /// Index into sizes × paths of the next cell to measure.
    next: usize,
    pub cells: Vec<Cell>,
}

impl Measurement {
    pub fn new(seed: u64) -> Measurement {
        Measurement::with_duration(seed, MEASURE_MS)
    }

    /// A measurement whose clients read for `measure_ms` in each cell (the page's tests use a
    /// short one: an unoptimised build takes half a second a cell at the full length).
    pub fn with_duration(seed: u64, measure_ms: u64) -> Measurement {
        Measurement { seed, measure_ms: measure_ms.max(100), next: 0, cells: Vec::new() }
    }

    /// Measures the next cell; returns whether the matrix is complete.
    pub fn step(&mut self) -> bool {
        if let Some((&n, p)) = SIZES.get(self.next / PATHS.len()).zip(PATHS.get(self.next % PATHS.len())) {
            self.cells.extend(cell_for(self.seed, n, p, self.measure_ms));
            self.next += 1;
        }
        self.next >= SIZES.len() * PATHS.len()
    }

    /// Cells tried so far, of all.
    pub fn progress(&self) -> (usize, usize) {
        (self.next, SIZES.len() * PATHS.len())
    }

    /// How much more a second lease reads serve than ReadIndex at `nodes` nodes, in percent
    /// (the figure the seed design's claim is about).
    pub fn lease_gain_percent(cells: &[Cell], nodes: usize) -> Option<f64> {
        let rate = |p: &str| cells.iter().find(|c| c.nodes == nodes && c.path == p).map(|c| c.reads_per_sec);
        Some(100.0 * (rate("lease read")? / rate("ReadIndex")?.max(f64::MIN_POSITIVE) - 1.0))
    }
}

/// The matrix as text, with each size's gain of lease reads over ReadIndex.
pub fn table(seed: u64, cells: &[Cell]) -> String {
    let mut out = format!(
        "seed {seed}: {CLIENTS} closed-loop clients reading for {} s (next read {} ms after an answer), background load 100 ops/s\n",
        MEASURE_MS / 1_000,
        THINK_US / 1_000
    );
    out.push_str(&format!(
        "{:>5} {:<13} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>6}\n",
        "nodes", "path", "reads", "on path", "mean ms", "p99 ms", "reads/s", "msgs/read", "stale"
    ));
    for c in cells {
        out.push_str(&format!(
            "{:>5} {:<13} {:>7} {:>7.0}% {:>8.2} {:>8.2} {:>9.0} {:>9.2} {:>6}\n",
            c.nodes,
            c.path,
            c.reads,
            100.0 * c.on_path,
            c.mean_ms,
            c.p99_ms,
            c.reads_per_sec,
            c.messages_per_read,
            c.stale
        ));
    }
    for n in SIZES {
        if let Some(gain) = Measurement::lease_gain_percent(cells, n) {
            out.push_str(&format!("{n} node(s): lease reads get {gain:+.0}% reads/s over ReadIndex\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On three nodes: lease reads answer at once with no messages; ReadIndex waits a round
    /// trip and costs messages; a log read waits for a commit; no path reads stale.
    #[test]
    fn each_path_costs_what_it_should_on_three_nodes() {
        let c = |name: &str| cell(1, 3, PATHS.iter().find(|p| p.name == name).unwrap()).unwrap();
        let (lease, index, log) = (c("lease read"), c("ReadIndex"), c("log read"));
        for x in [&lease, &index, &log] {
            assert!(x.reads > 100 && x.stale == 0 && x.on_path > 0.9, "{x:?}");
        }
        assert!(lease.mean_ms < 1.0 && lease.messages_per_read < 0.5, "{lease:?}");
        assert!(index.mean_ms > lease.mean_ms && index.messages_per_read >= 1.0, "{index:?}");
        assert!(log.mean_ms >= index.mean_ms, "{log:?} vs {index:?}");
        assert!(lease.reads_per_sec > index.reads_per_sec);
        assert!(cell(1, 1, &PATHS[3]).is_none(), "no follower in a one-node cluster");
    }
}
