//! The raft-rs Ready cycle, exactly as the raft-rs docs prescribe it (send, persist, apply,
//! advance), and what follows each pass: role changes, the term's first commit, leader
//! lease renewal under the renew-at-ack policy, reads whose index is applied, log compaction.

use super::Process;
use super::{AppliedOp, Node, NodeOutput, ReadDone};
use crate::config::{ClusterConfig, CommitBroadcast};
use crate::kv::{ApplyContext, KvStore};
use crate::leader_lease::LeaderLeasePolicy;
use crate::request::Proposal;
use crate::storage::DiskStorage;
use crate::time::LocalTime;
use crate::types::{NodeId, OpId, Role};
use crate::watch::WatcherGroup;
use raft::eraftpb::{ConfChangeV2, Entry, EntryType, Message};

/// Sort key for outgoing messages: raft-rs iterates FxHash maps whose order differs between
/// 64-bit native and wasm32, so every batch is sorted before it reaches the network. By
/// recipient, then message type (node ids and types are small: one field holds both), term and
/// index.
fn message_order(m: &Message) -> crate::order::Key {
    ((m.to << 8) | m.get_msg_type() as u64, m.term, m.index)
}

impl Node {
    /// One pass of the raft-rs Ready cycle (send, persist, apply, advance), then what the
    /// node makes of its new state.
    pub(super) fn handle_ready(&mut self, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let disk = self.disk.clone();
        let p = self.process.as_mut().expect("running");
        if config.leader_lease.policy.in_log() {
            Self::gate_commits(p, &disk, config, now);
        }
        Self::fence_abandoned_transfer(p, config);
        Self::drain_ready(p, &disk, config, now, out);
        Self::mark_timeout_now(p, config, out);
        let (role, term, leader) = {
            let r = &p.raw.raft;
            (Role::from(r.state), r.term, NodeId(r.leader_id))
        };
        if (role, term) != (p.role, p.term) {
            // raft-rs reset its timeout (become_* → reset) to the minimum: draw it from our seed.
            Self::redraw_election_timeout(&mut self.election_rng, &mut p.raw, config);
        }
        Self::note_role_change(p, now, (role, term, leader), out);
        if role == Role::Leader {
            Self::note_first_commit_of_term(p, config, now, out);
            Self::promote_lessor_when_caught_up(p, config, now);
            Self::leave_joint_if_due(p);
            if config.leader_lease.policy == LeaderLeasePolicy::RenewAtAck {
                Self::renew_at_ack(p, now);
            }
        }
        Self::answer_applied_reads(p, out);
        if !p.held_keep_alives.is_empty() {
            Self::answer_held_keep_alives(p, out);
        }
        let commit = p.raw.raft.raft_log.committed;
        if commit != p.commit {
            p.commit = commit;
            out.commit_advanced = Some(commit);
        }
        let applied = p.kv.applied();
        let fresh_wanted = disk.take_fresh_snapshot_wanted();
        if applied >= disk.snapshot_index() + u64::from(config.log_compaction_entries)
            || (fresh_wanted && applied > disk.snapshot_index())
        {
            out.compacted_through = disk.compact(
                applied,
                p.kv.clone(),
                p.raw.raft.prs().conf().to_conf_state(),
                u64::from(config.log_catch_up_entries),
            );
        }
    }

    /// The Ready cycle proper, as the raft-rs docs prescribe it: send, persist, apply, advance.
    fn drain_ready(p: &mut Process, disk: &DiskStorage, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let ctx = ApplyContext {
            now,
            min_ttl_ms: config.key_lease_min_ttl_ms(),
            checkpoint_interval_ms: config.key_lease_checkpoint_interval_ms(),
            record_effects: true,
        };
        // Bounded: raft produces at most a couple of Readies per input.
        for _ in 0..8 {
            if !p.raw.has_ready() {
                break;
            }
            let mut ready = p.raw.ready();
            let mut immediate = ready.take_messages();
            crate::order::sort_by_key(&mut immediate, message_order);
            out.messages.append(&mut immediate);
            p.raw.recycle_messages(immediate);

            if !ready.snapshot().is_empty() {
                let snap = ready.snapshot().clone();
                let meta = snap.get_metadata();
                out.snapshot_installed = Some((meta.index, meta.term));
                p.kv = KvStore::decode(&snap.data);
                Self::adopt_configuration(p, config, meta.get_conf_state(), out);
                disk.apply_snapshot(snap);
                // Watches whose next revision the snapshot compacted away are cancelled.
                p.watchers.notify(p.kv.mvcc(), &mut out.watch_responses);
            }
            let changes = Self::apply_entries(&mut p.kv, &mut p.watchers, ready.take_committed_entries(), ctx, out);
            Self::apply_conf_changes(p, config, changes, out);
            if !ready.entries().is_empty() || !ready.snapshot().is_empty() {
                p.lease_guard.log_written = now;
            }
            for rs in ready.take_read_states() {
                Self::on_read_state(p, config, now, (rs.index, &rs.request_ctx), out);
            }
            disk.append(ready.entries());
            if let Some(hs) = ready.hs() {
                disk.set_hard_state(hs.clone());
            }
            let mut persisted = ready.take_persisted_messages();
            crate::order::sort_by_key(&mut persisted, message_order);
            out.messages.append(&mut persisted);
            p.raw.recycle_messages(persisted);

            let mut light = p.raw.advance(ready);
            if let Some(commit) = light.commit_index() {
                disk.set_commit(commit);
            }
            let mut more = light.take_messages();
            crate::order::sort_by_key(&mut more, message_order);
            out.messages.append(&mut more);
            p.raw.recycle_messages(more);
            let changes = Self::apply_entries(&mut p.kv, &mut p.watchers, light.take_committed_entries(), ctx, out);
            Self::apply_conf_changes(p, config, changes, out);
            p.raw.advance_apply();
        }
    }

    /// A new role, term or leader: the leader lease and the lessor follow the role, and reads
    /// waiting for a read index cannot trust an answer across a leader change.
    fn note_role_change(
        p: &mut Process,
        now: LocalTime,
        (role, term, leader): (Role, u64, NodeId),
        out: &mut NodeOutput,
    ) {
        if (role, term) != (p.role, p.term) {
            // A new term starts with eager commit broadcasts (see CommitBroadcast::Lazy).
            p.raw.skip_bcast_commit(false);
            if role == Role::Leader {
                p.leader_lease.on_become_leader();
            } else if p.role == Role::Leader {
                p.leader_lease.on_become_follower();
                p.kv.lessor_mut().demote();
            }
            p.committed_in_term = false;
        }
        if (role, term, leader) == (p.role, p.term, p.leader) {
            return;
        }
        // A read waiting for its read index cannot trust an answer across a leader change:
        // abort it as etcd does ("leader changed"). Reads issued while no leader was known
        // keep waiting for the new one.
        if p.leader != NodeId::NONE && (leader != p.leader || term != p.term) {
            let aborted: Vec<OpId> = p.reads.iter().filter(|(_, r)| r.index.is_none()).map(|(op, _)| *op).collect();
            for op in aborted {
                let r = p.reads.remove(&op).expect("listed");
                out.read_notes
                    .push((op, format!("leader changed ({} → {leader}, term {term}): read aborted", p.leader)));
                out.reads_done.push(ReadDone {
                    op,
                    path: r.path,
                    read_index: None,
                    retries: r.retries,
                    result: Err("leader changed".into()),
                });
            }
        } else if p.leader == NodeId::NONE && leader != NodeId::NONE {
            let waiting: Vec<OpId> = p.reads.iter().filter(|(_, r)| r.index.is_none()).map(|(op, _)| *op).collect();
            for op in waiting {
                Self::reissue(p, op, now, &format!("learned leader {leader}"), out);
            }
        }
        p.role = role;
        p.term = term;
        p.leader = leader;
        out.role_change = Some((role, term, leader));
    }

    /// The leader's first commit of its term: raft-rs now accepts ReadIndex.
    fn note_first_commit_of_term(p: &mut Process, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        if p.committed_in_term {
            return;
        }
        let committed = p.raw.raft.raft_log.committed;
        if p.raw.raft.raft_log.term(committed).ok() == Some(p.raw.raft.term) {
            // The term's first commit: raft-rs now accepts ReadIndex; retry at once.
            p.committed_in_term = true;
            // Its broadcast went out; from here on followers may learn commits lazily.
            p.raw.skip_bcast_commit(config.commit_broadcast == CommitBroadcast::Lazy);
            let waiting: Vec<OpId> = p.reads.iter().filter(|(_, r)| r.index.is_none()).map(|(op, _)| *op).collect();
            for op in waiting {
                Self::reissue(p, op, now, "the leader committed its first entry of the term", out);
            }
        }
    }

    /// Promotes the lessor once the leader has applied its term's first entry.
    fn promote_lessor_when_caught_up(p: &mut Process, config: &ClusterConfig, now: LocalTime) {
        if !p.committed_in_term || p.kv.lessor().is_primary() || p.kv.applied() < p.raw.raft.raft_log.committed {
            return;
        }
        // Promote after applying the term's first entry: every key lease gets
        // now + election timeout + (checkpointed remaining, else full TTL).
        let interval = config.key_lease_checkpoint_interval_ms();
        p.kv.lessor_mut().promote(now, config.election_timeout_ms() as i64, interval);
        p.next_expiry_scan = now;
    }

    /// The renew-at-ack policy's renewal: itself plus every voter raft-rs considers recently
    /// active, a quorum of the configuration in force (of each side, while joint).
    fn renew_at_ack(p: &mut Process, now: LocalTime) {
        let me = p.raw.raft.id;
        let prs = p.raw.raft.prs();
        let acks = p.membership.count_acks(|n| n.0 == me || prs.get(n.0).is_some_and(|pr| pr.recent_active));
        p.leader_lease.renew(acks, now);
    }

    /// Answers the reads whose read index is now applied.
    fn answer_applied_reads(p: &mut Process, out: &mut NodeOutput) {
        let ready_reads: Vec<OpId> =
            p.reads.iter().filter(|(_, r)| r.index.is_some_and(|i| i <= p.kv.applied())).map(|(op, _)| *op).collect();
        for op in ready_reads {
            let r = p.reads.remove(&op).expect("listed");
            let index = r.index.expect("filtered");
            out.read_notes
                .push((op, format!("applied {} ≥ read index {index}: answer from the local store", p.kv.applied())));
            out.reads_done.push(ReadDone {
                op,
                path: r.path,
                read_index: Some(index),
                retries: r.retries,
                result: p.kv.answer(&r.query),
            });
        }
    }

    /// Applies committed entries; the watches hear of each entry's changes as it applies (as
    /// etcd notifies its synced watchers at the end of every write), so a compaction applied in
    /// the same batch never overtakes them.
    pub(super) fn apply_entries(
        kv: &mut KvStore,
        watchers: &mut WatcherGroup,
        entries: Vec<Entry>,
        ctx: ApplyContext,
        out: &mut NodeOutput,
    ) -> Vec<ConfChangeV2> {
        let mut changes = Vec::new();
        for entry in entries {
            if entry.index <= kv.applied() {
                // Already reflected in a snapshot installed in this same Ready.
                continue;
            }
            kv.advance_applied(entry.index);
            kv.note_stamp(&entry.context);
            if entry.get_entry_type() != EntryType::EntryNormal {
                changes.extend(Self::conf_change_of(&entry));
                continue;
            }
            if let Some(proposal) = Proposal::decode(&entry.data) {
                if !kv.first_apply_of(proposal.op.0) {
                    // A duplicated proposal's second copy: applied once already.
                    continue;
                }
                if let crate::request::Request::Client(read) = &proposal.request {
                    if read.read_mode() == Some(crate::read::ReadMode::Log) {
                        // A log read changes nothing: it reads the store where it stands.
                        let answer = kv.answer(read);
                        let revision = kv.revision();
                        out.applied_ops.push(AppliedOp {
                            op: proposal.op,
                            index: entry.index,
                            revision,
                            effects: vec![],
                            error: None,
                            result: None,
                            read: Some(answer),
                        });
                        continue;
                    }
                }
                let ctx = ApplyContext { record_effects: entry.index > out.effects_recorded_through, ..ctx };
                let applied = kv.apply(proposal.request, ctx);
                watchers.notify(kv.mvcc(), &mut out.watch_responses);
                if let Some(revoked) = applied.revoked {
                    out.key_leases_revoked.push(revoked);
                }
                out.applied_ops.push(AppliedOp {
                    op: proposal.op,
                    index: entry.index,
                    revision: applied.revision,
                    effects: applied.effects,
                    error: applied.error,
                    result: applied.result,
                    read: None,
                });
            }
        }
        changes
    }
}
