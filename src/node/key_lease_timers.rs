//! The node's part in key leases: while its lessor is primary (at the leader), the timers
//! that revoke expired key leases and checkpoint remaining TTLs through raft, and the
//! keep-alives it answers.

use super::{Node, NodeOutput, Process};
use crate::client_op::ClientOp;
use crate::config::ClusterConfig;
use crate::lessor::TimeToLive;
use crate::request::{Proposal, Request};
use crate::time::LocalTime;
use crate::types::KeyLeaseId;
use crate::types::OpId;
/// The primary scans for expired key leases this often (etcd: 500 ms).
const EXPIRY_SCAN_US: i64 = 500_000;
/// Revokes proposed per scan at most (etcd: 1,000 per second).
const REVOKES_PER_SCAN_MAX: usize = 500;
/// Checkpoints per proposal at most (etcd's `maxLeaseCheckpointBatchSize`).
const CHECKPOINT_BATCH_MAX: usize = 1_000;

impl Node {
    /// The primary's lessor loop (etcd's `runLoop`): every 500 ms of local time, revoke expired
    /// key leases through raft (rate-limited; an unapplied revoke is proposed again after
    /// etcd's request timeout, the retry interval etcd's server gives its lessor) and propose
    /// the checkpoints that have fallen due, in batches of at most 1,000.
    pub(super) fn lessor_timers(p: &mut Process, config: &ClusterConfig, now: LocalTime) {
        if !p.kv.lessor().is_primary() {
            return;
        }
        if now < p.next_expiry_scan {
            return;
        }
        p.next_expiry_scan = now.plus_us(EXPIRY_SCAN_US);
        let expired = p.kv.lessor_mut().expired(now, REVOKES_PER_SCAN_MAX, config.request_timeout_ms() as i64);
        // The lessor holds no key lease 0, so every id converts.
        for id in expired.into_iter().filter_map(KeyLeaseId::new) {
            Self::propose_internal(p, Request::Client(ClientOp::KeyLeaseRevoke { id }));
        }
        if config.lessor.checkpointing {
            loop {
                let checkpoints = p.kv.lessor_mut().due_checkpoints(now, CHECKPOINT_BATCH_MAX);
                let full = checkpoints.len() == CHECKPOINT_BATCH_MAX;
                if !checkpoints.is_empty() {
                    Self::propose_internal(p, Request::KeyLeaseCheckpoint { checkpoints });
                }
                if !full {
                    break;
                }
            }
        }
    }

    /// Proposes a request of the node's own (no client waits for it).
    pub(super) fn propose_internal(p: &mut Process, request: Request) {
        let proposal = Proposal { op: OpId(0), request };
        // A leader that just lost its leadership drops it; the next round retries.
        let _ = p.raw.propose(vec![], proposal.encode());
    }

    /// Keep-alive: only the primary renews; with checkpointing on and a checkpointed
    /// remaining TTL set, it first proposes a checkpoint resetting it to 0. Returns the TTL.
    pub fn key_lease_keep_alive(
        &mut self,
        id: KeyLeaseId,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) -> Result<i64, String> {
        let p = self.process.as_mut().expect("callers check the node is running");
        let leader = p.raw.raft.leader_id;
        match p.kv.lessor_mut().renew(id.get(), now, config.lessor.checkpointing) {
            Ok((ttl, reset)) => {
                if reset {
                    Self::propose_internal(p, Request::KeyLeaseCheckpoint { checkpoints: vec![(id.get(), 0)] });
                    self.handle_ready(config, now, out);
                }
                Ok(ttl)
            }
            Err(crate::lessor::LessorError::NotPrimary) => Err(if leader == 0 {
                "not the leader, and no leader is known: keep-alives go to the leader".to_string()
            } else {
                format!("not the leader: keep-alives go to the leader (n{leader})")
            }),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn key_lease_time_to_live(&self, id: u64, now: LocalTime) -> Result<TimeToLive, String> {
        let p = self.process.as_ref().ok_or("node is down")?;
        p.kv.lessor().time_to_live(id, now).map_err(|e| e.to_string())
    }
}
