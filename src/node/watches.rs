//! The watches a node serves: created and cancelled by clients, fed from the node's own store
//! after every apply, and checked on its ticks (progress notifications, the leader check of
//! `require_leader` watches). See [`crate::watch`] for the rules.

use super::{Node, NodeOutput, Process};
use crate::config::ClusterConfig;
use crate::time::LocalTime;
use crate::watch::{WatchId, WatchRequest, WatchTimers};

impl Node {
    /// Starts serving watch `id` here (the node must be running).
    pub fn watch(&mut self, id: WatchId, request: WatchRequest, out: &mut NodeOutput) {
        let p = self.process();
        let has_leader = p.raw.raft.leader_id != 0;
        let responses = p.watchers.add(id, request, p.kv.mvcc(), has_leader);
        out.watch_responses.extend(responses);
    }

    /// Stops serving watch `id`; false if it is not served here.
    pub fn cancel_watch(&mut self, id: WatchId) -> bool {
        self.process.as_mut().is_some_and(|p| p.watchers.remove(id))
    }

    /// Answers a client's progress request on watch `id` with this node's revision.
    pub fn request_watch_progress(&mut self, id: WatchId, out: &mut NodeOutput) {
        if let Some(p) = self.process.as_mut() {
            out.watch_responses.extend(p.watchers.progress(id, p.kv.mvcc()));
        }
    }

    /// The watches served here, in id order.
    pub fn watch_ids(&self) -> Vec<WatchId> {
        self.process.as_ref().map_or_else(Vec::new, |p| p.watchers.ids().collect())
    }

    /// The periodic watch work of one tick.
    pub(super) fn watch_timers(p: &mut Process, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        if p.watchers.is_empty() {
            return;
        }
        let timers = WatchTimers {
            progress_us: i64::from(config.watch_progress_notify_ms) * 1_000,
            leader_check_us: config.election_timeout_ms() as i64 * 1_000,
            has_leader: p.raw.raft.leader_id != 0,
        };
        p.watchers.on_tick(now, timers, p.kv.mvcc(), &mut out.watch_responses);
    }
}
