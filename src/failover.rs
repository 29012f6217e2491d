//! The failover experiment (after the LeaseGuard paper's unavailability experiment): a steady
//! stream of linearizable reads at whichever node leads, the leader crashes, and the question
//! is how soon the new leader answers reads. For each policy: how many of the reads sent to the
//! new leader in its first second were answered at once, and how the rest waited.

use crate::command::Command;
use crate::config::ClusterConfig;
use crate::event::OpOutcome;
use crate::leader_lease::LeaderLeasePolicy;
use crate::read::ReadMode;
use crate::sim::Sim;
use crate::time::SimTime;
use crate::types::{NodeId, OpId};
use serde::{Deserialize, Serialize};

/// Reads per simulated second at the leader.
const READS_PER_SEC: u64 = 200;
/// The window after the new leader's election whose reads are counted.
pub const WINDOW_MS: u64 = 1_000;

/// One policy's failover.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failover {
    pub policy: String,
    /// True ms from the crash to the new leader's election.
    pub election_ms: f64,
    /// Reads the new leader received in its first [`WINDOW_MS`].
    pub reads: usize,
    /// Of those, answered at once (no wait at all).
    pub at_once: usize,
    /// Answered within 100 ms, 500 ms and 1 s of being sent.
    pub within_100ms: usize,
    pub within_500ms: usize,
    pub within_1s: usize,
    pub stale: usize,
}

impl Failover {
    pub fn fraction_at_once(&self) -> f64 {
        self.at_once as f64 / self.reads.max(1) as f64
    }
}

/// Runs the experiment under `policy` (seed `seed`, 3 nodes, defaults otherwise).
pub fn failover(seed: u64, policy: LeaderLeasePolicy) -> Failover {
    let mut config = ClusterConfig::default();
    config.leader_lease.policy = policy;
    let mut sim = Sim::new(seed, config).expect("valid");
    let gap_us = 1_000_000 / READS_PER_SEC;
    let read = |sim: &mut Sim, node: NodeId| -> OpId {
        sim.apply(Command::read(node, "x", ReadMode::Linearizable)).expect("valid").expect("an operation")
    };
    sim.run_for_ms(3_000);
    let old = sim.leader().expect("a leader after 3 s");
    sim.apply(Command::put(old, "x", "1")).expect("valid");
    let crash_at = sim.now().plus_us(1_000_000);
    while sim.now() < crash_at {
        read(&mut sim, old);
        sim.run_until(SimTime(sim.now().0 + gap_us));
    }
    sim.apply(Command::Crash { node: old }).expect("running");
    // Reads go to whoever leads; none while nobody does.
    let mut new = None;
    let mut sent: Vec<(SimTime, OpId)> = Vec::new();
    let end = sim.now().plus_us(10_000_000);
    while sim.now() < end {
        match (new, sim.leader()) {
            (None, Some(l)) if l != old => new = Some((l, sim.now())),
            (Some((l, elected)), _) if sim.now().saturating_sub(elected) < WINDOW_MS * 1_000 => {
                sent.push((sim.now(), read(&mut sim, l)));
            }
            (Some(_), _) => break,
            _ => {}
        }
        sim.run_until(SimTime(sim.now().0 + gap_us));
    }
    sim.run_for_ms(5_000);
    let checker = sim.check();
    let stale = checker.stale_reads().len();
    let (_, elected) = new.expect("a new leader within 10 s");
    let mut f = Failover {
        policy: crate::swarm::policy_name(policy).to_string(),
        election_ms: elected.saturating_sub(crash_at) as f64 / 1_000.0,
        reads: sent.len(),
        at_once: 0,
        within_100ms: 0,
        within_500ms: 0,
        within_1s: 0,
        stale,
    };
    for (at, op) in sent {
        let r = sim.history().get(op).expect("kept");
        let Some(done) = r.completed_at.filter(|_| matches!(r.outcome, OpOutcome::Ok { .. })) else { continue };
        let wait = done.saturating_sub(at);
        f.at_once += usize::from(wait == 0);
        f.within_100ms += usize::from(wait <= 100_000);
        f.within_500ms += usize::from(wait <= 500_000);
        f.within_1s += usize::from(wait <= 1_000_000);
    }
    f
}

/// The experiment under every policy, as a text table.
pub fn table(seed: u64, runs: &[Failover]) -> String {
    let mut out = format!(
        "seed {seed}: the leader crashes; reads sent to the new leader in its first {WINDOW_MS} ms (3 nodes, {READS_PER_SEC} reads/s)\n"
    );
    out.push_str(&format!(
        "{:<17} {:>11} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}\n",
        "policy", "election ms", "reads", "at once", "≤100 ms", "≤500 ms", "≤1 s", "stale"
    ));
    for f in runs {
        let pct = |n: usize| format!("{:.0}%", 100.0 * n as f64 / f.reads.max(1) as f64);
        out.push_str(&format!(
            "{:<17} {:>11.0} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}\n",
            f.policy,
            f.election_ms,
            f.reads,
            pct(f.at_once),
            pct(f.within_100ms),
            pct(f.within_500ms),
            pct(f.within_1s),
            f.stale
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both new leaders answer most reads at once and none stale; each also makes some wait:
    /// the safe policy's until its term's first commit, LeaseGuard's between the end of the
    /// inherited lease and its first commit after the deferral.
    #[test]
    fn after_a_crash_new_leaders_serve_most_reads_at_once_and_none_stale() {
        for policy in [LeaderLeasePolicy::LeaseGuard, LeaderLeasePolicy::SendTimeAnchored] {
            let f = failover(3, policy);
            assert!(f.reads > 150 && f.stale == 0, "{f:?}");
            assert!(f.at_once * 10 >= f.reads * 8 && f.at_once < f.reads, "{f:?}");
            assert!(f.at_once <= f.within_100ms && f.within_100ms <= f.within_500ms && f.within_500ms <= f.within_1s);
        }
    }
}
