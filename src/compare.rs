//! One seed and one fault schedule under every leader lease policy, side by side: how each
//! serves the same reads (by which path, how fast, how many fail, how soon after a leader
//! change) and how many it serves stale. The schedule (a swarm's, drawn once, or the commands
//! of a run on the page) is run under each policy, so the runs differ only in the policy.

use crate::config::ClusterConfig;
use crate::event::OpOutcome;
use crate::history::OpKind;
use crate::leader_lease::LeaderLeasePolicy;
use crate::read::ReadMode;
use crate::sim::{LoggedCommand, Sim};
use crate::swarm::{policy_name, random_schedule, run_script, SwarmConfig};
use crate::time::SimTime;
use crate::types::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The window after each leader's election whose reads count as "after a leader change".
pub const AFTER_CHANGE_MS: u64 = 1_000;

/// One policy's run of the shared schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRun {
    pub policy: String,
    /// Linearizable reads answered, by path label.
    pub reads_by_path: BTreeMap<String, usize>,
    /// Linearizable reads that failed (timed out, leader changed, node down).
    pub reads_failed: usize,
    /// Answered linearizable reads that waited at all (latency above zero).
    pub reads_waited: usize,
    pub mean_latency_ms: f64,
    pub p99_latency_ms: f64,
    pub stale_reads: usize,
    pub trace_hash: u64,
    /// Leaders elected during the run.
    pub elections: usize,
    /// Linearizable reads invoked within [`AFTER_CHANGE_MS`] of a leader's election.
    pub after_change_reads: usize,
    /// The latencies (µs) of those that were answered.
    pub after_change_latencies_us: Vec<u64>,
    /// Each node at the run's end: its role's letter (L, F, C; `x` crashed), and whether it
    /// believed it could answer linearizable reads locally.
    pub nodes: Vec<(char, bool)>,
}

impl PolicyRun {
    /// Of the reads invoked just after a leader change, the share answered within `t_ms`.
    pub fn served_within(&self, t_ms: f64) -> f64 {
        let n = self.after_change_latencies_us.iter().filter(|l| **l as f64 <= t_ms * 1_000.0).count();
        n as f64 / self.after_change_reads.max(1) as f64
    }

    /// [`PolicyRun::served_within`] every `step_ms` from 0 to [`AFTER_CHANGE_MS`]: the curve
    /// the page's chart draws.
    pub fn curve(&self, step_ms: u64) -> Vec<(u64, f64)> {
        (0..=AFTER_CHANGE_MS).step_by(step_ms.max(1) as usize).map(|t| (t, self.served_within(t as f64))).collect()
    }

    /// What `sim`, run under `policy`, did with its linearizable reads; `stale` as its checker
    /// counted them.
    fn of(policy: LeaderLeasePolicy, sim: &Sim, stale: usize) -> PolicyRun {
        let mut run = PolicyRun {
            policy: policy_name(policy).to_string(),
            reads_by_path: BTreeMap::new(),
            reads_failed: 0,
            reads_waited: 0,
            mean_latency_ms: 0.0,
            p99_latency_ms: 0.0,
            stale_reads: stale,
            trace_hash: sim.trace_hash(),
            elections: 0,
            after_change_reads: 0,
            after_change_latencies_us: Vec::new(),
            nodes: Vec::new(),
        };
        let elected: Vec<SimTime> = sim.leader_tenures().map(|t| t.elected).collect();
        run.elections = elected.len();
        let window = AFTER_CHANGE_MS * 1_000;
        let mut latencies = Vec::new();
        for r in sim.history().iter().filter(|r| match &r.kind {
            OpKind::Client(op) => op.is_read() && op.read_mode() != Some(ReadMode::Serializable),
            OpKind::KeyLeaseExpiry { .. } => false,
        }) {
            let after_change = elected.iter().any(|e| r.invoked_at >= *e && r.invoked_at.saturating_sub(*e) < window);
            run.after_change_reads += usize::from(after_change);
            match (&r.outcome, r.trace.as_ref().and_then(|t| t.path), r.completed_at) {
                (OpOutcome::Ok { .. }, Some(path), Some(done)) => {
                    *run.reads_by_path.entry(path.label().to_string()).or_default() += 1;
                    let us = done.saturating_sub(r.invoked_at);
                    run.reads_waited += usize::from(us > 0);
                    latencies.push(us);
                    if after_change {
                        run.after_change_latencies_us.push(us);
                    }
                }
                (OpOutcome::Failed { .. }, _, _) => run.reads_failed += 1,
                _ => {}
            }
        }
        if !latencies.is_empty() {
            run.mean_latency_ms = latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1_000.0;
            run.p99_latency_ms = percentile(&latencies, 99) as f64 / 1_000.0;
        }
        for n in sim.nodes() {
            let letter = match n.role() {
                _ if n.is_crashed() => 'x',
                Some(Role::Leader) => 'L',
                Some(Role::Candidate | Role::PreCandidate) => 'C',
                _ => 'F',
            };
            let local = n.local_read_until(sim.local_time(n.id), sim.config()).is_some();
            run.nodes.push((letter, local));
        }
        run
    }
}

/// The smallest value that at least `pct` % of `values` (not empty) are at or below: found by
/// bisection over the values' range rather than by sorting, which would add a sort's code to
/// the page for one figure.
fn percentile(values: &[u64], pct: usize) -> u64 {
    let need = (values.len() * pct).div_ceil(100).max(1);
    let (mut lo, mut hi) = (0u64, values.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if values.iter().filter(|v| **v <= mid).count() >= need {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Runs `seed`'s swarm schedule under every policy.
pub fn compare(seed: u64, config: &SwarmConfig) -> Vec<PolicyRun> {
    let script = random_schedule(seed, config);
    LeaderLeasePolicy::ALL
        .iter()
        .map(|&policy| {
            let config = SwarmConfig { policy, ..config.clone() };
            let (report, sim) = run_script(seed, &config, script.clone());
            PolicyRun { trace_hash: report.trace_hash, ..PolicyRun::of(policy, &sim, report.checker_violations) }
        })
        .collect()
}

/// A run's commands re-applied under every policy, each at the true time it took effect: the
/// page's comparison of the run on screen. It runs a slice at a time ([`Comparison::advance`])
/// so that a long run never freezes the page.
pub struct Comparison {
    runs: Vec<(LeaderLeasePolicy, Sim)>,
    end: SimTime,
    /// The run being advanced; the ones before it are done.
    current: usize,
}

impl Comparison {
    /// The comparison of the run `seed` and `config` made with `commands`, up to `end`.
    pub fn of_run(
        seed: u64,
        config: &ClusterConfig,
        commands: &[LoggedCommand],
        end: SimTime,
    ) -> Result<Comparison, String> {
        let mut runs = Vec::new();
        for policy in LeaderLeasePolicy::ALL {
            let exact = policy == config.leader_lease.policy;
            let mut config = config.clone();
            config.leader_lease.policy = policy;
            runs.push((policy, Self::single(seed, config, commands, exact)?));
        }
        Ok(Comparison { runs, end, current: 0 })
    }

    /// One policy's run, not yet started. `exact`: the run's own policy, whose commands are
    /// re-applied where they were (after the same events), so the run is the one on screen.
    /// Otherwise each command is scheduled at its true time: events differ under another
    /// policy, so "after the same events" would not be the same moment.
    pub fn single(seed: u64, config: ClusterConfig, commands: &[LoggedCommand], exact: bool) -> Result<Sim, String> {
        let mut sim = Sim::new(seed, config).map_err(|e| e.to_string())?;
        if exact {
            sim.set_replay(commands.to_vec())?;
            return Ok(sim);
        }
        for c in commands {
            sim.schedule(c.at, c.command.clone()).map_err(|e| format!("{}: {e}", c.command.summary()))?;
        }
        Ok(sim)
    }

    /// Handles at most `budget` more events; true once every run has reached the end.
    pub fn advance(&mut self, mut budget: usize) -> bool {
        while let Some((_, sim)) = self.runs.get_mut(self.current) {
            let before = sim.steps();
            if !sim.run_until_bounded(self.end, budget) {
                return false;
            }
            budget = budget.saturating_sub((sim.steps() - before) as usize);
            self.current += 1;
        }
        true
    }

    /// Runs done, and runs in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.current, self.runs.len())
    }

    /// Each policy's run, once [`Comparison::advance`] has finished (and so far, before).
    pub fn results(&mut self) -> Vec<PolicyRun> {
        self.runs
            .iter_mut()
            .map(|(policy, sim)| {
                let stale = sim.check().stale_reads().len();
                PolicyRun::of(*policy, sim, stale)
            })
            .collect()
    }
}

/// The comparison as a text table.
pub fn table(seed: u64, runs: &[PolicyRun]) -> String {
    let paths: Vec<&str> = {
        let mut all: Vec<&str> = runs.iter().flat_map(|r| r.reads_by_path.keys().map(String::as_str)).collect();
        all.sort();
        all.dedup();
        all
    };
    let mut out = format!("seed {seed}: one fault schedule under every leader lease policy (linearizable reads)\n");
    out.push_str(&format!("{:<17}", "policy"));
    for p in &paths {
        out.push_str(&format!(" {p:>16}"));
    }
    out.push_str(&format!(
        " {:>7} {:>7} {:>9} {:>9} {:>6} {:>9} {:>13}\n",
        "failed", "waited", "mean ms", "p99 ms", "stale", "elections", "after: at once"
    ));
    for r in runs {
        out.push_str(&format!("{:<17}", r.policy));
        for p in &paths {
            out.push_str(&format!(" {:>16}", r.reads_by_path.get(*p).copied().unwrap_or(0)));
        }
        out.push_str(&format!(
            " {:>7} {:>7} {:>9.2} {:>9.2} {:>6} {:>9} {:>13}\n",
            r.reads_failed,
            r.reads_waited,
            r.mean_latency_ms,
            r.p99_latency_ms,
            r.stale_reads,
            r.elections,
            format!("{:.0}% of {}", 100.0 * r.served_within(0.0), r.after_change_reads)
        ));
    }
    out.push_str(&format!(
        "after: the linearizable reads invoked within {AFTER_CHANGE_MS} ms of a leader's election, and the share answered at once\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swarm::{run_swarm, FaultMix};

    /// Each run of the comparison is the run `leaselab swarm --policy P` makes of that seed
    /// (the schedule does not depend on the policy without a clock-error bound).
    #[test]
    fn each_compared_run_is_the_single_run_it_stands_for() {
        let config = SwarmConfig { faults: FaultMix::ALL, duration_ms: 4_000, ..SwarmConfig::default() };
        let runs = compare(5, &config);
        assert_eq!(runs.len(), LeaderLeasePolicy::ALL.len());
        for (run, policy) in runs.iter().zip(LeaderLeasePolicy::ALL) {
            let single = run_swarm(5, &SwarmConfig { policy, ..config.clone() });
            assert_eq!(run.trace_hash, single.trace_hash, "{}", run.policy);
            assert_eq!(run.stale_reads, single.checker_violations);
            let answered: usize = run.reads_by_path.values().sum();
            assert!(answered > 0, "{}: reads were answered", run.policy);
        }
        let text = table(5, &runs);
        assert!(text.contains("leaseguard-timers"), "{text}");
        assert!(text.contains("leaseguard") && text.contains("lease read"), "{text}");
    }

    #[test]
    fn a_percentile_is_the_smallest_value_enough_values_are_at_or_below() {
        let values: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&values, 99), 99);
        assert_eq!(percentile(&values, 100), 100);
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[0, 0, 5], 50), 0);
        assert_eq!(percentile(&[0, 0, 5], 99), 5);
    }

    /// A run on the page: background load, then the leader crashes and comes back.
    fn page_run() -> Sim {
        let mut sim = Sim::new(11, ClusterConfig::default()).unwrap();
        sim.run_for_ms(2_000);
        sim.apply(crate::command::Command::SetWorkload { ops_per_sec: 200 }).unwrap();
        sim.run_for_ms(1_000);
        let leader = sim.leader().unwrap();
        sim.apply(crate::command::Command::Crash { node: leader }).unwrap();
        sim.run_for_ms(3_000);
        sim.apply(crate::command::Command::Restart { node: leader }).unwrap();
        sim.run_for_ms(1_000);
        sim
    }

    /// The page's comparison, run a slice at a time, gives each policy the run it would give
    /// alone (the same trace hash), and counts the reads after each leader change.
    #[test]
    fn the_comparison_of_a_page_run_equals_each_policy_run_alone() {
        let sim = page_run();
        let mut comparison = Comparison::of_run(11, sim.config(), sim.command_log(), sim.now()).unwrap();
        let mut slices = 0;
        while !comparison.advance(300) {
            slices += 1;
            assert!(comparison.progress().0 < comparison.progress().1);
        }
        assert!(slices > 20, "it ran in slices: {slices}");
        assert_eq!(comparison.progress(), (5, 5));
        let runs = comparison.results();
        for (run, policy) in runs.iter().zip(LeaderLeasePolicy::ALL) {
            let mut config = sim.config().clone();
            config.leader_lease.policy = policy;
            let exact = policy == sim.config().leader_lease.policy;
            let mut alone = Comparison::single(11, config, sim.command_log(), exact).unwrap();
            alone.run_until(sim.now());
            assert_eq!(run.trace_hash, alone.trace_hash(), "{}", run.policy);
            assert!(run.elections >= 2 && run.after_change_reads > 50, "{run:?}");
            assert_eq!(run.nodes.len(), 3);
            assert_eq!(run.stale_reads, 0, "{}", run.policy);
            let (at_once, within_1s) = (run.served_within(0.0), run.served_within(1_000.0));
            assert!(at_once <= within_1s && within_1s <= 1.0, "{}: {at_once} {within_1s}", run.policy);
        }
        // The safe policy's own run is the page's run: same commands, same policy.
        let safe = runs.iter().find(|r| r.policy == "safe").unwrap();
        assert_eq!(safe.elections, sim.leader_tenures().count());
        assert_eq!(safe.trace_hash, sim.trace_hash(), "the page's own run");
    }
}
