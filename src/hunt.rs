//! An adversarial search for stale reads: fault schedules aimed at the moments a leader lease
//! rests on, with clocks kept within the configured drift bound.
//!
//! Where the swarm draws faults blindly, a hunt watches the cluster and strikes on cue, in
//! episodes of a few seconds. Each episode picks one attack on the current leader L:
//!
//! - **cut after a round**: right after L hears a heartbeat response, cut L off (both ways,
//!   or only its outgoing links: it still hears the cluster but cannot lead it);
//! - **crash the acker**: cut L from one follower, then crash the other follower right after
//!   it acknowledges L's round, restart it a moment later and cut L from it too — the
//!   restarted node may have promised L not to vote;
//! - **slow clock**: L's clock runs as slow as the bound allows, then L is cut off;
//! - **clock step back**: L's clock steps back by the bound, then L is cut off;
//! - **pause**: L pauses for up to the bound right after a round, then is cut off;
//! - **quick succession**: cut off each new leader as soon as it is elected, three times.
//!
//! Throughout, a client reads at the old leader every few milliseconds (at every event while
//! the hunt waits for an acknowledgement, the moment a stale read is likeliest), another
//! reads at a random node, and writes go to the newest leader, so that a stale read has something to
//! miss. Clock faults stay within the drift bound as the swarm's bounded mode defines it: a
//! jump or pause of at most the bound, a rate whose error over one leader lease is at most
//! the bound. Each episode ends by healing everything and letting the cluster settle.
//!
//! Under LeaseGuard, whose bound is on each clock's error from true time rather than on its
//! rate over one lease, the slow clock runs slow only until its error reaches the bound, and
//! every heal sets clocks right again.
//!
//! Under the safe policy and LeaseGuard a hunt must find nothing; under the renew-at-ack policy
//! and raft-rs's LeaseBased it finds the stale reads they allow.

use crate::checker::crosscheck::cross_check;
use crate::checker::Checker;
use crate::client_op::ClientOp;
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::event::Event;
use crate::leader_lease::LeaderLeasePolicy;
use crate::random::SimRng;
use crate::read::ReadMode;
use crate::sim::Sim;
use crate::types::{MsgKind, NodeId};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// One hunt's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntConfig {
    pub nodes: usize,
    pub policy: LeaderLeasePolicy,
    /// Attack episodes per seed.
    pub episodes: u32,
}

impl Default for HuntConfig {
    fn default() -> Self {
        HuntConfig { nodes: 3, policy: LeaderLeasePolicy::SendTimeAnchored, episodes: 3 }
    }
}

/// What one seed's hunt found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntReport {
    pub seed: u64,
    pub linearizable_reads: usize,
    /// Stale reads and other violations the revision checker found.
    pub stale: usize,
    /// The first stale read, explained.
    pub first_stale: Option<String>,
    /// The attacks, in order, with when they struck.
    pub attacks: Vec<String>,
    /// Model-checker verdicts missing or disagreeing with the revisions (never expected).
    pub checker_failures: Vec<String>,
    pub trace_hash: u64,
    /// True time the first stale read was invoked, in milliseconds (how far a replay must
    /// run to show it).
    pub first_stale_ms: Option<u64>,
}

/// The cluster a hunt simulates.
pub fn hunt_cluster(config: &HuntConfig) -> ClusterConfig {
    let mut cluster = ClusterConfig { node_count: config.nodes, ..ClusterConfig::default() };
    cluster.leader_lease.policy = config.policy;
    cluster
}

/// The client load an episode keeps up: reads at the old leader, reads anywhere, writes.
struct Load {
    next_write: u64,
    value: u64,
}

impl Load {
    fn drive(&mut self, sim: &mut Sim, rng: &mut SimRng, old_leader: NodeId, n: u64) {
        let key = format!("k{}", rng.gen_range(0..2u32));
        let _ = sim.apply(Command::Client {
            node: old_leader,
            op: ClientOp::Read { key: key.clone(), mode: ReadMode::Linearizable },
        });
        if rng.gen_ratio(1, 3) {
            let node = NodeId(rng.gen_range(1..=n));
            let _ = sim
                .apply(Command::Client { node, op: ClientOp::Read { key: key.clone(), mode: ReadMode::Linearizable } });
        }
        if sim.now().0 >= self.next_write {
            self.value += 1;
            let node = sim.leader().filter(|_| rng.gen_ratio(3, 4)).unwrap_or(NodeId(rng.gen_range(1..=n)));
            let _ = sim.apply(Command::Client {
                node,
                op: ClientOp::Put { key, value: self.value.to_string(), key_lease: None },
            });
            self.next_write = sim.now().0 + rng.gen_range(5_000..25_000);
        }
    }
}

/// Runs `sim` for `ms` of true time in small slices, keeping the load up.
fn run_with_load(sim: &mut Sim, rng: &mut SimRng, load: &mut Load, old_leader: NodeId, n: u64, ms: u64) {
    let end = sim.now().plus_us(ms * 1_000);
    while sim.now() < end {
        load.drive(sim, rng, old_leader, n);
        let slice = rng.gen_range(1_000..6_000);
        sim.run_until(sim.now().plus_us(slice).min(end));
    }
}

/// Runs until `leader` hears a heartbeat (or append) response from some follower, at most
/// `ms`; returns that follower.
fn until_acked(sim: &mut Sim, rng: &mut SimRng, load: &mut Load, leader: NodeId, n: u64, ms: u64) -> Option<NodeId> {
    let end = sim.now().plus_us(ms * 1_000);
    while sim.now() < end {
        load.drive(sim, rng, leader, n);
        let from = sim.trace().len();
        let Some(next) = sim.next_due() else { break };
        sim.run_until(next.min(end));
        let acker = sim.events_since(from).find_map(|e| match e.event {
            Event::MessageDelivered { from, to, kind: MsgKind::HeartbeatResp | MsgKind::AppendResp, .. }
                if to == leader =>
            {
                Some(from)
            }
            _ => None,
        });
        if acker.is_some() {
            return acker;
        }
    }
    None
}

fn cut_off(sim: &mut Sim, node: NodeId, outgoing_only: bool, n: u64) {
    if outgoing_only {
        for other in (1..=n).map(NodeId).filter(|o| *o != node) {
            let _ = sim.apply(Command::CutLink { from: node, to: other });
        }
    } else {
        let _ = sim.apply(Command::Isolate { node });
    }
}

/// Heals links, clocks, pauses and crashes. Under LeaseGuard, whose bound is on each clock's
/// error from true time, clocks are also set right again.
fn heal(sim: &mut Sim, n: u64) {
    let _ = sim.apply(Command::HealAll);
    let lease_guard = sim.config().leader_lease.policy.in_log();
    for node in (1..=n).map(NodeId) {
        let _ = sim.apply(Command::SetClockRate { node, rate_ppm: 1_000_000 });
        let offset = sim.clock(node).offset_at(sim.now());
        if lease_guard && offset != 0 {
            let _ = sim.apply(Command::JumpClock { node, delta_us: -offset });
        }
        if sim.node(node).is_crashed() {
            let _ = sim.apply(Command::Restart { node });
        } else if sim.machine(node).paused {
            let _ = sim.apply(Command::Resume { node });
        }
    }
}

/// Runs one seed's hunt.
pub fn run_hunt(seed: u64, config: &HuntConfig) -> (HuntReport, Sim) {
    let cluster = hunt_cluster(config);
    let bound_ms = cluster.leader_lease.clock_drift_bound_ms.max(1) as u64;
    let mut sim = Sim::new(seed, cluster).expect("hunt configs are valid");
    let mut rng = SimRng::seed_from_u64(seed ^ 0x4855_4E54_5354_414C);
    let n = config.nodes as u64;
    let mut load = Load { next_write: 0, value: 0 };
    let mut checker = Checker::new();
    let mut report = HuntReport { seed, ..HuntReport::default() };
    sim.run_for_ms(1_500);
    for _ in 0..config.episodes {
        let Some(leader) = sim.leader() else {
            run_with_load(&mut sim, &mut rng, &mut load, NodeId(1), n, 1_000);
            continue;
        };
        // Let the leader hold a leader lease for a while first.
        let ms = rng.gen_range(100..600);
        run_with_load(&mut sim, &mut rng, &mut load, leader, n, ms);
        let attack = rng.gen_range(0..6u32);
        let at = sim.now();
        let name = match attack {
            0 => {
                let outgoing_only = rng.gen_bool(0.5);
                until_acked(&mut sim, &mut rng, &mut load, leader, n, 300);
                cut_off(&mut sim, leader, outgoing_only, n);
                if outgoing_only {
                    "cut after a round (outgoing links only)"
                } else {
                    "cut after a round"
                }
            }
            1 if n >= 3 => {
                let others: Vec<NodeId> = (1..=n).map(NodeId).filter(|o| *o != leader).collect();
                let keep = others[rng.gen_range(0..others.len())];
                for o in others.iter().filter(|o| **o != keep) {
                    let _ = sim.apply(Command::CutLink { from: leader, to: *o });
                    let _ = sim.apply(Command::CutLink { from: *o, to: leader });
                }
                let mut acker = until_acked(&mut sim, &mut rng, &mut load, leader, n, 500);
                while acker.is_some_and(|a| a != keep) {
                    acker = until_acked(&mut sim, &mut rng, &mut load, leader, n, 500);
                }
                let _ = sim.apply(Command::Crash { node: keep });
                sim.run_until(sim.now().plus_us(rng.gen_range(200..3_000)));
                let _ = sim.apply(Command::Restart { node: keep });
                let _ = sim.apply(Command::CutLink { from: leader, to: keep });
                "crash the acker and restart it"
            }
            2 => {
                // The slowest rate whose error over one leader lease is at most the bound; under
                // LeaseGuard, whose bound is on the clock's error itself, the rate whose error
                // reaches the bound over one lease Δ, then the clock runs right again.
                let rate = if config.policy.in_log() {
                    let lease_ms = sim.config().leader_lease.lease_guard_lease_ms.max(1) as u64;
                    // The timer-only variant's bound is on an interval's reading: half each side.
                    let bound_ms = if config.policy == LeaderLeasePolicy::LeaseGuard { bound_ms } else { bound_ms / 2 };
                    let _ = sim.schedule(
                        sim.now().plus_us(lease_ms * 1_000),
                        Command::SetClockRate { node: leader, rate_ppm: 1_000_000 },
                    );
                    (1_000_000 - bound_ms.min(lease_ms) * 1_000_000 / lease_ms) as u32
                } else {
                    crate::swarm::rate_bounds_ppm(bound_ms).0
                };
                let _ = sim.apply(Command::SetClockRate { node: leader, rate_ppm: rate });
                let ms = rng.gen_range(0..400);
                run_with_load(&mut sim, &mut rng, &mut load, leader, n, ms);
                until_acked(&mut sim, &mut rng, &mut load, leader, n, 300);
                cut_off(&mut sim, leader, rng.gen_bool(0.5), n);
                "slow clock, then cut"
            }
            3 => {
                until_acked(&mut sim, &mut rng, &mut load, leader, n, 300);
                let back = rng.gen_range(bound_ms / 2..=bound_ms) as i64 * 1_000;
                let _ = sim.apply(Command::JumpClock { node: leader, delta_us: -back });
                cut_off(&mut sim, leader, rng.gen_bool(0.5), n);
                "clock step back, then cut"
            }
            4 => {
                until_acked(&mut sim, &mut rng, &mut load, leader, n, 300);
                let _ = sim.apply(Command::Pause { node: leader });
                sim.run_until(sim.now().plus_us(rng.gen_range(bound_ms / 2..=bound_ms) * 1_000));
                let _ = sim.apply(Command::Resume { node: leader });
                cut_off(&mut sim, leader, rng.gen_bool(0.5), n);
                "pause, then cut"
            }
            _ => {
                let mut current = leader;
                for _ in 0..3 {
                    until_acked(&mut sim, &mut rng, &mut load, current, n, 300);
                    cut_off(&mut sim, current, rng.gen_bool(0.5), n);
                    let deadline = sim.now().plus_us(4_000_000);
                    while sim.now() < deadline && sim.leader().is_none_or(|l| l == current) {
                        run_with_load(&mut sim, &mut rng, &mut load, current, n, 5);
                    }
                    let _ = sim.apply(Command::HealAll);
                    match sim.leader() {
                        Some(l) if l != current => current = l,
                        _ => break,
                    }
                }
                "quick succession of leaders"
            }
        };
        report.attacks.push(format!("{name} on {leader} at {at}"));
        let ms = rng.gen_range(1_500..3_500);
        run_with_load(&mut sim, &mut rng, &mut load, leader, n, ms);
        heal(&mut sim, n);
        run_with_load(&mut sim, &mut rng, &mut load, leader, n, 1_000);
        checker.update(sim.history());
    }
    sim.run_for_ms(1_000);
    checker.update(sim.history());
    report.stale = checker.violations();
    report.first_stale = checker.stale_reads().first().map(|s| crate::explain::explain_stale_read(&sim, s));
    report.linearizable_reads = sim
        .history()
        .iter()
        .filter(|r| {
            matches!(r.kind, crate::history::OpKind::Client(ClientOp::Read { mode: ReadMode::Linearizable, .. }))
        })
        .filter(|r| matches!(r.outcome, crate::event::OpOutcome::Ok { .. }))
        .count();
    let cross = cross_check(sim.history());
    report.checker_failures.extend(cross.unknown.iter().map(|u| format!("model checker gave no verdict: {u}")));
    report.checker_failures.extend(cross.disagreements.iter().map(|d| format!("the checkers disagree: {d}")));
    report.trace_hash = sim.trace_hash();
    report.first_stale_ms = checker.stale_reads().first().map(|s| s.read_invoked_at.0 / 1_000);
    (report, sim)
}

impl HuntReport {
    /// The command line that replays this hunt.
    pub fn replay_command(&self, config: &HuntConfig) -> String {
        format!(
            "cargo run --release -- hunt --seed {} --nodes {} --policy {} --episodes {}",
            self.seed,
            config.nodes,
            crate::swarm::policy_name(config.policy),
            config.episodes
        )
    }
}
