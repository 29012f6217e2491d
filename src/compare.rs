//! One seed and one fault schedule under every leader lease policy, side by side: how each
//! serves the same reads (by which path, how fast, how many fail) and how many it serves
//! stale. The schedule is drawn once (as the swarm draws it for the configured policy) and run
//! under each policy, so the runs differ only in the policy.

use crate::event::OpOutcome;
use crate::history::OpKind;
use crate::leader_lease::LeaderLeasePolicy;
use crate::swarm::{policy_name, random_schedule, run_script, SwarmConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
}

/// Runs `seed`'s schedule under every policy.
pub fn compare(seed: u64, config: &SwarmConfig) -> Vec<PolicyRun> {
    let script = random_schedule(seed, config);
    LeaderLeasePolicy::ALL
        .iter()
        .map(|&policy| {
            let config = SwarmConfig { policy, ..config.clone() };
            let (report, sim) = run_script(seed, &config, script.clone());
            let mut run = PolicyRun {
                policy: policy_name(policy).to_string(),
                reads_by_path: BTreeMap::new(),
                reads_failed: 0,
                reads_waited: 0,
                mean_latency_ms: 0.0,
                p99_latency_ms: 0.0,
                stale_reads: report.checker_violations,
                trace_hash: report.trace_hash,
            };
            let mut latencies = Vec::new();
            for r in sim.history().iter().filter(|r| match &r.kind {
                OpKind::Client(op) => op.is_read() && op.read_mode() == Some(crate::read::ReadMode::Linearizable),
                OpKind::KeyLeaseExpiry { .. } => false,
            }) {
                match (&r.outcome, r.trace.as_ref().and_then(|t| t.path), r.completed_at) {
                    (OpOutcome::Ok { .. }, Some(path), Some(done)) => {
                        *run.reads_by_path.entry(path.label().to_string()).or_default() += 1;
                        let us = done.saturating_sub(r.invoked_at);
                        run.reads_waited += usize::from(us > 0);
                        latencies.push(us as f64 / 1_000.0);
                    }
                    (OpOutcome::Failed { .. }, _, _) => run.reads_failed += 1,
                    _ => {}
                }
            }
            if !latencies.is_empty() {
                latencies.sort_by(f64::total_cmp);
                run.mean_latency_ms = latencies.iter().sum::<f64>() / latencies.len() as f64;
                run.p99_latency_ms = latencies[(latencies.len() - 1) * 99 / 100];
            }
            run
        })
        .collect()
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
    out.push_str(&format!("{:<14}", "policy"));
    for p in &paths {
        out.push_str(&format!(" {p:>16}"));
    }
    out.push_str(&format!(" {:>7} {:>7} {:>9} {:>9} {:>6}\n", "failed", "waited", "mean ms", "p99 ms", "stale"));
    for r in runs {
        out.push_str(&format!("{:<14}", r.policy));
        for p in &paths {
            out.push_str(&format!(" {:>16}", r.reads_by_path.get(*p).copied().unwrap_or(0)));
        }
        out.push_str(&format!(
            " {:>7} {:>7} {:>9.2} {:>9.2} {:>6}\n",
            r.reads_failed, r.reads_waited, r.mean_latency_ms, r.p99_latency_ms, r.stale_reads
        ));
    }
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
        assert!(text.contains("leaseguard") && text.contains("lease read"), "{text}");
    }
}
