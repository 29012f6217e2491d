//! Turns a checker finding into a sentence a student can follow: the stale read,
//! the write it missed, and the cause — the serving node's clock and policy, what it believed
//! about its leader lease, and who had become leader meanwhile.

use crate::checker::StaleRead;
use crate::decimal::{fixed, signed};
use crate::read::ReadPath;
use crate::sim::Sim;

pub fn explain_stale_read(sim: &Sim, stale: &StaleRead) -> String {
    let Some(read) = sim.history().get(stale.read) else {
        return format!("{} returned a stale value (its record is no longer kept)", stale.read);
    };
    let node = read.node;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
    let trace = read.trace.as_ref();
    // A transaction's get has no read trace: it ran where the transaction's entry applied.
    let path = match trace {
        None => "its transaction's raft entry",
        Some(t) => t.path.map_or("?", ReadPath::label),
    };
    let missed = match stale.seen_by {
        None => format!(
            "{} ({}={}) was acknowledged at {}",
            stale.missed,
            stale.key,
            show(&stale.missed_value),
            stale.missed_done_at
        ),
        Some(earlier) => format!(
            "{earlier} had already returned {}={} (written by {}) at {}",
            stale.key,
            show(&stale.missed_value),
            stale.missed,
            stale.missed_done_at
        ),
    };
    let mut text = format!(
        "{} at {node} returned {}={} via {path}, but {missed} — before the read began at {}.",
        stale.read,
        stale.key,
        show(&stale.returned),
        stale.read_invoked_at
    );
    let steps = trace.map_or(&[][..], |t| &t.steps[..]);
    let decision = steps.iter().find(|s| s.text.contains("leader lease") || s.text.contains("LeaseBased"));
    if let Some(step) = decision.or(steps.first()) {
        text.push_str(&format!(" {node} decided: {}.", step.text));
    }
    if let Some(step) = steps.iter().find(|s| s.text.starts_with("simulator:")) {
        text.push_str(&format!(" ({})", step.text));
    }
    let newer = sim.leader_changes().filter(|(at, who, _)| *who != node && *at <= read.invoked_at).last();
    if let Some((at, who, term)) = newer {
        text.push_str(&format!(" Meanwhile {who} had become leader of term {term} at {at}."));
    }
    let config = sim.config();
    let clock = sim.clock(node);
    text.push_str(&format!(
        " Configured drift bound {} ms, policy \"{}\"; {node} clock now {}× (offset {} ms).",
        config.leader_lease.clock_drift_bound_ms,
        config.leader_lease.policy.label(),
        fixed(f64::from(clock.rate_ppm()) / 1e6, 2),
        signed(clock.offset_at(sim.now()) as f64 / 1_000.0, 1)
    ));
    text
}
