//! The background load: client operations at a steady rate, each drawn from the seeded RNG.

use crate::random::SimRng;
use crate::read::ReadMode;
use crate::types::NodeId;
use rand::Rng;

/// One background operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum WorkloadOp {
    Put { node: NodeId, key: String, value: String },
    Read { node: NodeId, key: String, mode: ReadMode },
}

#[derive(Clone, Default)]
pub(super) struct Workload {
    /// Gap between operations in µs of true time (0: off).
    gap_us: u64,
    /// Bumped by every rate change: an operation scheduled under an older rate is stale.
    pub generation: u64,
    issued: u64,
}

impl Workload {
    /// Sets the rate; returns the gap to the first operation (`None`: the load is off).
    pub fn set_rate(&mut self, ops_per_sec: u32) -> Option<u64> {
        self.generation += 1;
        self.gap_us = if ops_per_sec == 0 { 0 } else { 1_000_000 / u64::from(ops_per_sec) };
        (self.gap_us > 0).then_some(self.gap_us)
    }

    /// Operations per simulated second (0: off).
    pub fn ops_per_sec(&self) -> u32 {
        1_000_000u64.checked_div(self.gap_us).map_or(0, |r| r as u32)
    }

    /// Whether an operation scheduled under `generation` is still wanted; if so, the gap to
    /// the one after it.
    pub fn due(&self, generation: u64) -> Option<u64> {
        (generation == self.generation && self.gap_us > 0).then_some(self.gap_us)
    }

    /// Draws one operation: 40 % puts, 40 % linearizable and 20 % serializable reads, on keys
    /// `w0`–`w7`, half at the leader, half at any of `node_count` nodes.
    pub fn draw(&mut self, rng: &mut SimRng, node_count: usize, leader: Option<NodeId>) -> WorkloadOp {
        let any = NodeId(1 + rng.gen_range(0..node_count as u64));
        let node = if rng.gen_bool(0.5) { leader.unwrap_or(any) } else { any };
        let key = format!("w{}", rng.gen_range(0..8));
        self.issued += 1;
        match rng.gen_range(0..10) {
            0..=3 => WorkloadOp::Put { node, key, value: self.issued.to_string() },
            4..=7 => WorkloadOp::Read { node, key, mode: ReadMode::Linearizable },
            _ => WorkloadOp::Read { node, key, mode: ReadMode::Serializable },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_rate_change_makes_scheduled_operations_stale() {
        let mut w = Workload::default();
        assert_eq!(w.set_rate(50), Some(20_000));
        let first = w.generation;
        assert_eq!(w.due(first), Some(20_000));
        assert_eq!(w.set_rate(0), None);
        assert_eq!(w.due(first), None);
        assert_eq!(w.ops_per_sec(), 0);
    }

    #[test]
    fn the_mix_is_puts_and_both_kinds_of_read_with_distinct_values() {
        let mut w = Workload::default();
        let mut rng = SimRng::seed_from_u64(3);
        let ops: Vec<WorkloadOp> = (0..1_000).map(|_| w.draw(&mut rng, 3, Some(NodeId(2)))).collect();
        let puts: Vec<&String> = ops
            .iter()
            .filter_map(|o| match o {
                WorkloadOp::Put { value, .. } => Some(value),
                _ => None,
            })
            .collect();
        let serializable =
            ops.iter().filter(|o| matches!(o, WorkloadOp::Read { mode: ReadMode::Serializable, .. })).count();
        assert!((300..500).contains(&puts.len()), "{}", puts.len());
        assert!((120..280).contains(&serializable), "{serializable}");
        let distinct: std::collections::BTreeSet<_> = puts.iter().collect();
        assert_eq!(distinct.len(), puts.len(), "every put writes a value of its own");
        assert!(ops.iter().all(|o| match o {
            WorkloadOp::Put { node, .. } | WorkloadOp::Read { node, .. } => (1..=3).contains(&node.0),
        }));
    }
}
