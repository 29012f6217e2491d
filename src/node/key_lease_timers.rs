//! The node's part in key leases: while its lessor is primary (at the leader), the timers
//! that revoke expired key leases and checkpoint remaining TTLs through raft, and the
//! keep-alives it answers.

use super::{KeepAliveRefusal, KeepAliveRequest, KeepAliveResult, Node, NodeOutput, Process};
use crate::client_op::ClientOp;
use crate::config::ClusterConfig;
use crate::lessor::LessorError;
use crate::lessor::TimeToLive;
use crate::read::keep_alive_context;
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

/// What a held keep-alive waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeepAliveWait {
    /// A ReadIndex round confirming this leader (after its process was stopped).
    Leadership,
    /// The revoke of its expired key lease.
    Revoke,
}

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
    /// remaining TTL set, it first proposes a checkpoint resetting it to 0. Returns the TTL,
    /// why not, or `None` while the keep-alive is held (see [`KeepAliveRequest`]; its answer then
    /// comes in [`NodeOutput::keep_alives_answered`]).
    pub fn key_lease_keep_alive(
        &mut self,
        request: KeepAliveRequest,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) -> Option<KeepAliveResult> {
        let p = self.process.as_mut().expect("callers check the node is running");
        let stalled = now.0 - p.last_tick.0 >= 3 * i64::from(config.tick_ms) * 1_000;
        let result = if stalled && p.kv.lessor().is_primary() && request.direct {
            // etcd's `ensureLeadership`: a leader that has not ticked for three ticks may have
            // been deposed while it was stopped; a ReadIndex round tells. Only for its own
            // clients: etcd's peer handler renews a forwarded keep-alive at once.
            p.raw.read_index(keep_alive_context(request.op));
            p.held_keep_alives.push((request, KeepAliveWait::Leadership));
            None
        } else {
            Self::renew_key_lease(p, request, config, now)
        };
        if p.raw.has_ready() {
            self.handle_ready(config, now, out);
        }
        result
    }

    /// Renews at this node's lessor, or says why not; holds the keep-alive of an expired key
    /// lease (`None`).
    fn renew_key_lease(
        p: &mut Process,
        request: KeepAliveRequest,
        config: &ClusterConfig,
        now: LocalTime,
    ) -> Option<KeepAliveResult> {
        let id = request.id.get();
        Some(match p.kv.lessor_mut().renew(id, now, config.lessor.checkpointing) {
            Ok((ttl, reset)) => {
                if reset {
                    Self::propose_internal(p, Request::KeyLeaseCheckpoint { checkpoints: vec![(id, 0)] });
                }
                Ok(ttl)
            }
            Err(LessorError::Expired { .. }) => {
                p.held_keep_alives.push((request, KeepAliveWait::Revoke));
                return None;
            }
            Err(e) => Err(Self::keep_alive_refusal(e, p.raw.raft.leader_id)),
        })
    }

    /// A quorum confirmed this leader for keep-alive `op` (its ReadIndex round): renew now.
    pub(super) fn leadership_confirmed(
        p: &mut Process,
        op: OpId,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) {
        let waiting = |(h, wait): &(KeepAliveRequest, KeepAliveWait)| h.op == op && *wait == KeepAliveWait::Leadership;
        if let Some(i) = p.held_keep_alives.iter().position(waiting) {
            let (request, _) = p.held_keep_alives.swap_remove(i);
            if let Some(result) = Self::renew_key_lease(p, request, config, now) {
                out.keep_alives_answered.push((request, result));
            }
        }
    }

    /// Why a keep-alive was not renewed, in the client's words; "not primary" is tried again
    /// at the leader.
    fn keep_alive_refusal(e: LessorError, leader: u64) -> KeepAliveRefusal {
        let retry = e == LessorError::NotPrimary;
        let reason = match e {
            LessorError::NotPrimary if leader == 0 => {
                "not the leader, and no leader is known: keep-alives go to the leader".to_string()
            }
            LessorError::NotPrimary => format!("not the leader: keep-alives go to the leader (n{leader})"),
            e => e.to_string(),
        };
        KeepAliveRefusal { reason, retry }
    }

    /// Answers the held keep-alives whose wait is over: their key lease is gone (revoked: not
    /// found), or this node is no longer the primary (not the leader).
    pub(super) fn answer_held_keep_alives(p: &mut Process, out: &mut NodeOutput) {
        let lessor = p.kv.lessor();
        let mut i = 0;
        while let Some(&(held, wait)) = p.held_keep_alives.get(i) {
            let id = held.id.get();
            let refusal = if !lessor.is_primary() {
                LessorError::NotPrimary
            } else if lessor.get(id).is_none() {
                LessorError::NotFound { id }
            } else {
                i += 1;
                continue;
            };
            p.held_keep_alives.swap_remove(i);
            let mut answer = Self::keep_alive_refusal(refusal, p.raw.raft.leader_id);
            // A failed leadership check is the client's answer (etcd returns "not primary" to
            // it, to try another member); a revoke's wait ended by a leader change is tried
            // again at the new leader.
            answer.retry &= wait == KeepAliveWait::Revoke;
            out.keep_alives_answered.push((held, Err(answer)));
        }
    }

    pub fn key_lease_time_to_live(&self, id: u64, now: LocalTime) -> Result<TimeToLive, String> {
        let p = self.process.as_ref().ok_or("node is down")?;
        p.kv.lessor().time_to_live(id, now).map_err(|e| e.to_string())
    }
}
