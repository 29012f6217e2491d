//! The read paths at one node: serializable, lease read, ReadIndex at the leader or
//! forwarded from a follower, and the single voter's own commit index; reads waiting for
//! their read index and then for the apply.

use super::lease_guard::LeaseGuardRead;
use super::{Node, NodeOutput, Process, ReadDone};
use crate::client_op::ClientOp;
use crate::config::ClusterConfig;
use crate::kv::KvStore;
use crate::leader_lease::{LeaderLeasePolicy, LeaseRead};
use crate::read::{parse_context, read_context, Context, ReadMode, ReadPath};
use crate::time::LocalTime;
use crate::types::OpId;
use raft::StateRole;
/// ReadIndex requests raft-rs dropped are re-issued this often (etcd: 500 ms).
const READ_RETRY_US: i64 = 500_000;

/// A linearizable read waiting for its read index, then for the apply.
#[derive(Clone, Debug)]
pub(super) struct PendingRead {
    /// What the client asked (a read, a range, a read-only transaction).
    pub query: ClientOp,
    pub path: ReadPath,
    pub ctx: Vec<u8>,
    pub index: Option<u64>,
    pub issued_at: LocalTime,
    pub retries: u32,
}

/// The note a follower adds when it forwards a read.
struct ForwardPathNote;

impl ForwardPathNote {
    fn note(p: &Process, op: OpId, out: &mut NodeOutput) {
        let leader = p.raw.raft.leader_id;
        let text = if leader == 0 {
            "follower with no known leader: raft drops the ReadIndex; retry every 500 ms".to_string()
        } else {
            format!("follower: forward ReadIndex to leader n{leader}, then wait for the local apply")
        };
        out.read_notes.push((op, text));
    }
}

impl Node {
    /// Re-issues the ReadIndex requests raft may have dropped (no leader yet, or a leader
    /// that has not committed in its term).
    pub(super) fn retry_dropped_reads(p: &mut Process, now: LocalTime, out: &mut NodeOutput) {
        let due: Vec<OpId> = p
            .reads
            .iter()
            .filter(|(_, r)| r.index.is_none() && now.0 - r.issued_at.0 >= READ_RETRY_US)
            .map(|(op, _)| *op)
            .collect();
        for op in due {
            Self::reissue(p, op, now, "500 ms without a read index", out);
        }
    }

    /// Serves a client read. Serializable reads and lease reads answer at once;
    /// the others start a ReadIndex and answer once the read index is applied locally.
    pub fn read(&mut self, op: OpId, query: &ClientOp, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let p = self.process.as_mut().expect("callers check the node is running");
        if query.read_mode() == Some(ReadMode::Serializable) {
            out.read_notes.push((
                op,
                format!(
                    "serializable: answer from the local applied state (applied {}, revision {})",
                    p.kv.applied(),
                    p.kv.revision()
                ),
            ));
            Self::answer_now(&p.kv, op, query, ReadPath::Serializable, out);
            return;
        }
        let policy = config.leader_lease.policy;
        let is_leader = p.raw.raft.state == StateRole::Leader;
        let singleton = p.raw.raft.prs().is_singleton();
        let path = if !is_leader {
            ForwardPathNote::note(p, op, out);
            ReadPath::ForwardedReadIndex
        } else if policy.in_log() {
            match Self::lease_guard_read(p, &self.disk, config, now, query) {
                LeaseGuardRead::Serve { inherited, until, commit } => {
                    let (path, whose) = if inherited {
                        (
                            ReadPath::InheritedLeaseRead,
                            "inherited from an earlier term; no entry past the commit index writes what is read",
                        )
                    } else {
                        (ReadPath::LeaseRead, "of its own term")
                    };
                    out.read_notes.push((
                        op,
                        format!("LeaseGuard: the lease of committed entry {commit} holds until local {until} (X − ε), now local {now}: {whose}"),
                    ));
                    if p.kv.applied() >= commit {
                        Self::answer_now(&p.kv, op, query, path, out);
                    } else {
                        let applied = p.kv.applied();
                        out.read_notes.push((op, format!("applied {applied} < commit {commit}: wait for the apply")));
                        Self::wait_for_apply(p, op, query, path, commit, now);
                        out.reads_started.push((op, path));
                    }
                    return;
                }
                LeaseGuardRead::No(why) if singleton => {
                    out.read_notes.push((op, format!("{why}; single voter: the commit index is the read index")));
                    ReadPath::SingleVoter
                }
                LeaseGuardRead::No(why) => {
                    out.read_notes
                        .push((op, format!("{why}: fall back to ReadIndex (it waits for a commit in this term)")));
                    ReadPath::ReadIndex
                }
            }
        } else if policy == LeaderLeasePolicy::RaftLeaseBased {
            out.read_notes.push((op, "leader, raft-rs LeaseBased: raft answers with its commit index and checks no clock (it trusts check_quorum)".into()));
            ReadPath::RaftLeaseBased
        } else if let Some(why) = Self::transfer_suspect(p, config) {
            out.read_notes.push((op, format!("leader lease suspect: {why}: fall back to ReadIndex")));
            ReadPath::ReadIndex
        } else {
            let stats = p.leader_lease.stats(now);
            let (applied, commit) = (p.kv.applied(), p.raw.raft.raft_log.committed);
            let decision = p.leader_lease.read_decision(now, applied, commit);
            if decision != LeaseRead::NoLease {
                let expire = stats.expire_at.expect("a valid leader lease has an expiry");
                out.read_notes.push((
                    op,
                    format!(
                        "leader lease valid on the local clock: expires at local {expire}, now local {now} ({} ms left)",
                        crate::decimal::trimmed((expire.0 - now.0) as f64 / 1_000.0, 3)
                    ),
                ));
            }
            match decision {
                LeaseRead::Serve => {
                    Self::answer_now(&p.kv, op, query, ReadPath::LeaseRead, out);
                    return;
                }
                LeaseRead::WaitForApply { applied, commit } => {
                    // The commit index is the read index: wait for its apply, no round trip.
                    out.read_notes.push((op, format!("applied {applied} < commit {commit}: wait for the apply")));
                    out.reads_started.push((op, ReadPath::LeaseRead));
                    Self::wait_for_apply(p, op, query, ReadPath::LeaseRead, commit, now);
                    return;
                }
                LeaseRead::NoLease => {}
            }
            let why = match stats.expire_at {
                _ if !stats.enabled => format!("leader leases disabled ({})", stats.config_reason),
                Some(e) => format!("leader lease expired at local {e}, now local {now}"),
                None => format!("no leader lease yet ({})", stats.last_reason),
            };
            if singleton {
                out.read_notes.push((op, format!("{why}; single voter: the commit index is the read index")));
                ReadPath::SingleVoter
            } else {
                out.read_notes.push((op, format!("{why}: fall back to ReadIndex (heartbeat round to a quorum)")));
                ReadPath::ReadIndex
            }
        };
        let ctx = read_context(op);
        out.reads_started.push((op, path));
        p.reads.insert(
            op,
            PendingRead { query: query.clone(), path, ctx: ctx.clone(), index: None, issued_at: now, retries: 0 },
        );
        p.raw.read_index(ctx);
        self.handle_ready(config, now, out);
    }

    /// Parks a local read whose read index is the commit index, known at once: it waits only
    /// for that index to apply (no round trip).
    fn wait_for_apply(p: &mut Process, op: OpId, query: &ClientOp, path: ReadPath, commit: u64, now: LocalTime) {
        let pending = PendingRead {
            query: query.clone(),
            path,
            ctx: Vec::new(),
            index: Some(commit),
            issued_at: now,
            retries: 0,
        };
        p.reads.insert(op, pending);
    }

    /// Answers a read from the local store at once (serializable and lease reads).
    pub(super) fn answer_now(kv: &KvStore, op: OpId, query: &ClientOp, path: ReadPath, out: &mut NodeOutput) {
        out.reads_done.push(ReadDone { op, path, read_index: None, retries: 0, result: kv.answer(query) });
    }

    /// Forgets a pending read whose client gave up (timed out).
    pub fn abandon_read(&mut self, op: OpId) {
        if let Some(p) = self.process.as_mut() {
            p.reads.remove(&op);
        }
    }

    pub(super) fn reissue(p: &mut Process, op: OpId, now: LocalTime, why: &str, out: &mut NodeOutput) {
        let leader = p.raw.raft.leader_id;
        let r = p.reads.get_mut(&op).expect("pending");
        r.retries += 1;
        r.issued_at = now;
        let ctx = r.ctx.clone();
        let whom = if leader == 0 { "no leader known yet".to_string() } else { format!("leader n{leader}") };
        out.read_notes.push((op, format!("retry #{} ({why}); {whom}", r.retries)));
        p.raw.read_index(ctx);
    }

    pub(super) fn on_read_state(
        p: &mut Process,
        config: &ClusterConfig,
        now: LocalTime,
        (index, ctx): (u64, &[u8]),
        out: &mut NodeOutput,
    ) {
        match parse_context(ctx) {
            Some(Context::Renewal(sent_at)) if config.leader_lease.policy == LeaderLeasePolicy::SendTimeAnchored => {
                // raft-rs confirmed the round sent at `sent_at` by a quorum of the configuration in
                // force (of each side, while joint): the lease starts then. It does not say which
                // voters answered, so the count shown is the smallest quorum.
                let (voters, joint) = (p.membership.voter_count(), p.membership.is_joint());
                let acks = crate::leader_lease::AckCount { acks: voters / 2 + 1, voters, quorum: true, joint };
                p.leader_lease.renew(acks, sent_at);
            }
            Some(Context::Renewal(_)) => {}
            Some(Context::KeepAlive(op)) => Self::leadership_confirmed(p, op, config, now, out),
            Some(Context::Read(op)) => {
                if let Some(r) = p.reads.get_mut(&op) {
                    if r.index.is_none() {
                        r.index = Some(index);
                        out.read_notes.push((
                            op,
                            format!("read index {index} confirmed by a quorum; applied is {}", p.kv.applied()),
                        ));
                    }
                }
            }
            None => {}
        }
    }
}
