//! The plain-data picture of the whole simulation that the page draws from.

use super::Sim;
use crate::history::OpRecord;
use crate::snapshot::{
    KeyLeaseView, LinkView, MessageView, NodeView, Snapshot, SNAPSHOT_KEYS_MAX, SNAPSHOT_MESSAGES_MAX,
    SNAPSHOT_OPS_MAX, SNAPSHOT_WATCHES_MAX,
};

impl Sim {
    pub fn snapshot(&self) -> Snapshot {
        let now = self.now;
        let membership = self.membership();
        let nodes = self
            .world
            .nodes
            .iter()
            .zip(&self.world.machines)
            .map(|(n, m)| {
                let kv = n.kv();
                let local = m.clock.local_at(now);
                NodeView {
                    id: n.id,
                    role: n.role(),
                    term: n.term(),
                    leader: n.leader(),
                    commit: n.commit(),
                    applied: n.applied(),
                    first_index: n.first_index(),
                    last_index: n.last_index(),
                    local_time: local,
                    offset_us: m.clock.offset_at(now),
                    rate_ppm: m.clock.rate_ppm(),
                    paused: m.paused,
                    crashed: n.is_crashed(),
                    election_timeout_ticks: n.election_timeout_ticks(),
                    revision: kv.map_or(0, |k| k.revision()),
                    key_count: kv.map_or(0, |k| k.len()),
                    keys: kv.map_or_else(Vec::new, |k| k.mvcc().live(SNAPSHOT_KEYS_MAX)),
                    compacted_revision: kv.map_or(0, |k| k.compacted_revision()),
                    leader_lease: n.leader_lease_stats(local, &self.config),
                    pending_reads: n.pending_reads(),
                    key_leases: kv.map_or_else(Vec::new, |k| {
                        k.lessor()
                            .leases()
                            .take(SNAPSHOT_KEYS_MAX)
                            .map(|l| KeyLeaseView {
                                id: l.id,
                                ttl_ms: l.ttl_ms,
                                remaining_ms: k.lessor().expiry(l.id).map(|e| ((e.0 - local.0) / 1_000).max(0)),
                                checkpoint_ms: l.remaining_ms,
                                keys: l.keys.iter().cloned().collect(),
                            })
                            .collect()
                    }),
                    lessor_primary: kv.is_some_and(|k| k.lessor().is_primary()),
                    key_lease_promotion: kv.and_then(|k| k.lessor().promotion()),
                    limbo_keys: n.limbo_keys(&self.config),
                    member: membership.member(n.id),
                }
            })
            .collect();
        let network = &self.world.network;
        let links =
            network.links().map(|(from, to, l)| LinkView { from, to, cut: l.cut, config: l.config.clone() }).collect();
        let messages = network
            .in_flight()
            .take(SNAPSHOT_MESSAGES_MAX)
            .map(|m| MessageView {
                id: m.id,
                from: m.from,
                to: m.to,
                kind: m.kind,
                term: m.msg.term(),
                sent_at: m.sent_at,
                deliver_at: m.deliver_at,
            })
            .collect();
        let recent_ops: Vec<OpRecord> = self.recorder.history.iter().rev().take(SNAPSHOT_OPS_MAX).cloned().collect();
        Snapshot {
            membership,
            seed: self.seed,
            now,
            config: self.config.clone(),
            nodes,
            links,
            messages,
            messages_in_flight: network.in_flight_len(),
            recent_ops,
            leader: self.leader(),
            event_count: self.recorder.trace.len(),
            trace_hash: self.recorder.trace.hash(),
            workload_ops_per_sec: self.workload.ops_per_sec(),
            watches: self.watches().rev().take(SNAPSHOT_WATCHES_MAX).map(|w| self.watch_view(w)).collect(),
            watches_open: self.watches().filter(|w| w.is_active()).count(),
        }
    }
}
