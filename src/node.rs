//! One cluster member: a real raft-rs [`RawNode`] over its [`DiskStorage`], the replicated
//! state machine, and the node's own clock. The node drives the Ready cycle exactly as the
//! raft-rs docs prescribe (send, persist, apply, advance) and reports what happened into a
//! [`NodeOutput`] that the simulator turns into network sends and trace events.
//!
//! **Architecture invariant:** a node sees only its local clock and its inputs; it never sees
//! true time, other nodes, or the RNG.

use crate::clock::NodeClock;
use crate::config::{ClusterConfig, CommitBroadcast};
use crate::kv::{ApplyContext, KvStore};
use crate::leader_lease::{LeaderLeaseManager, LeaderLeasePolicy, LeaderLeaseStats, LeaderLeaseTiming, LeaseRead};
use crate::lessor::TimeToLive;
use crate::read::{parse_context, read_context, renewal_context, Context, ReadMode, ReadPath, ReadValue};
use crate::request::Proposal;
use crate::request::Request;
use crate::storage::DiskStorage;
use crate::time::LocalTime;
use crate::types::{MsgKind, NodeId, OpId, Role};
use raft::eraftpb::{Entry, EntryType, Message, MessageType};
use raft::{RawNode, SnapshotStatus, StateRole};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// An entry applied on this node that answers a client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedOp {
    pub op: OpId,
    pub index: u64,
    pub revision: u64,
    /// Per-key register writes the entry made (see [`crate::kv::Applied`]).
    pub effects: Vec<(String, Option<String>)>,
    /// The store refused the request; nothing changed.
    pub error: Option<String>,
    /// What a transaction did (see [`crate::kv::Applied::result`]).
    pub result: Option<crate::kv::TxnOutcome>,
}

/// What one call into a node produced. The simulator drains it after every call.
#[derive(Clone, Debug, Default)]
pub struct NodeOutput {
    /// The one input, kept here by the simulator: the highest raft index some node has
    /// applied. The history holds the effects of every entry up to it (from its first
    /// apply), so applying those entries again elsewhere builds none.
    pub effects_recorded_through: u64,
    /// Messages to put on the network, already in a deterministic order.
    pub messages: Vec<Message>,
    pub applied_ops: Vec<AppliedOp>,
    pub role_change: Option<(Role, u64, NodeId)>,
    pub commit_advanced: Option<u64>,
    pub snapshot_installed: Option<(u64, u64)>,
    pub compacted_through: Option<u64>,
    /// Key leases revoked by entries applied here, with the keys deleted.
    pub key_leases_revoked: Vec<(u64, Vec<String>)>,
    /// Steps of pending reads, in order (the simulator stamps them with true time).
    pub read_notes: Vec<(OpId, String)>,
    /// Reads that started waiting, with the path chosen (shown while they wait).
    pub reads_started: Vec<(OpId, ReadPath)>,
    pub reads_done: Vec<ReadDone>,
    /// Vote and pre-vote requests a restarted node ignored while it waits out the promise it
    /// may have made before its crash: sender, kind, and the raft ticks the wait has left.
    pub votes_withheld: Vec<(NodeId, MsgKind, u64)>,
}

/// A read that finished at this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadDone {
    pub op: OpId,
    pub path: ReadPath,
    pub read_index: Option<u64>,
    pub retries: u32,
    pub result: Result<ReadValue, String>,
}

/// A linearizable read waiting for its read index, then for the apply.
#[derive(Clone, Debug)]
struct PendingRead {
    key: String,
    path: ReadPath,
    ctx: Vec<u8>,
    index: Option<u64>,
    issued_at: LocalTime,
    retries: u32,
}

/// The leader's auto-compactor runs this often.
const AUTO_COMPACT_US: i64 = 5_000_000;
/// The primary scans for expired key leases this often (etcd: 500 ms).
const EXPIRY_SCAN_US: i64 = 500_000;
/// Revokes proposed per scan at most (etcd: 1,000 per second).
const REVOKES_PER_SCAN_MAX: usize = 500;
/// A revoke proposed but not yet applied is proposed again after this long (etcd: 3 s).
const REVOKE_RETRY_MS: i64 = 3_000;

/// ReadIndex requests raft-rs dropped are re-issued this often (etcd: 500 ms).
const READ_RETRY_US: i64 = 500_000;

/// Volatile process state: everything a crash loses.
#[derive(Clone)]
struct Process {
    raw: RawNode<DiskStorage>,
    kv: KvStore,
    role: Role,
    term: u64,
    leader: NodeId,
    commit: u64,
    leader_lease: LeaderLeaseManager,
    reads: BTreeMap<OpId, PendingRead>,
    /// Whether this leader has committed an entry of its own term (raft-rs drops ReadIndex
    /// requests until then).
    committed_in_term: bool,
    ticks: u64,
    /// Local time of the lessor's next expiry scan and next checkpoint round (primary only).
    next_expiry_scan: LocalTime,
    next_checkpoint: LocalTime,
    next_auto_compact: LocalTime,
    /// The restarted process ignores vote and pre-vote requests until it has ticked one
    /// election timeout (`ClusterConfig::restart_vote_wait`).
    withholds_votes: bool,
}

pub struct Node {
    pub id: NodeId,
    disk: DiskStorage,
    /// `None` while crashed.
    process: Option<Process>,
    pub clock: NodeClock,
    /// Draws this node's randomized election timeouts. raft-rs would draw them from
    /// `thread_rng` (unseedable); the node overrides every one of those draws with this
    /// seeded stream right after each role or term change, before the next tick can use it.
    election_rng: ChaCha8Rng,
    pub paused: bool,
    /// Incremented whenever the tick schedule changes; stale tick events carry an old value.
    pub tick_generation: u64,
    /// Local time at which the next raft tick is due.
    pub next_tick_local: LocalTime,
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

fn discard_logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

/// Sort key for outgoing messages: raft-rs iterates FxHash maps whose order differs between
/// 64-bit native and wasm32, so every batch is sorted before it reaches the network.
fn message_order(m: &Message) -> (u64, i32, u64, u64) {
    (m.to, m.get_msg_type() as i32, m.term, m.index)
}

/// A deep copy: the copy gets its own disk, and its raft instance is re-pointed at it (the
/// derived clone would share one disk between the two, since a disk handle is an `Rc`).
/// Time travel takes checkpoints this way.
impl Clone for Node {
    fn clone(&self) -> Node {
        let disk = self.disk.deep_copy();
        let process = self.process.as_ref().map(|p| {
            let mut p = p.clone();
            *p.raw.mut_store() = disk.clone();
            p
        });
        Node {
            id: self.id,
            disk,
            process,
            clock: self.clock.clone(),
            election_rng: self.election_rng.clone(),
            paused: self.paused,
            tick_generation: self.tick_generation,
            next_tick_local: self.next_tick_local,
        }
    }
}

impl Node {
    pub fn new(id: NodeId, voters: Vec<u64>, config: &ClusterConfig, election_seed: u64, clock: NodeClock) -> Node {
        let mut node = Node {
            id,
            disk: DiskStorage::new_with_voters(voters),
            process: None,
            clock,
            election_rng: ChaCha8Rng::seed_from_u64(election_seed),
            paused: false,
            tick_generation: 0,
            next_tick_local: LocalTime(0),
        };
        node.boot(config);
        node
    }

    fn raft_config(&self, config: &ClusterConfig, applied: u64) -> raft::Config {
        raft::Config {
            id: self.id.0,
            election_tick: config.election_ticks as usize,
            heartbeat_tick: config.heartbeat_ticks as usize,
            // raft-rs's own range: [election_tick, 2 × election_tick).
            min_election_tick: config.election_ticks as usize,
            max_election_tick: 2 * config.election_ticks as usize,
            check_quorum: config.check_quorum,
            pre_vote: config.pre_vote,
            read_only_option: match config.leader_lease.policy {
                LeaderLeasePolicy::RaftLeaseBased => raft::ReadOnlyOption::LeaseBased,
                _ => raft::ReadOnlyOption::Safe,
            },
            applied,
            max_size_per_msg: 1024 * 1024,
            max_inflight_msgs: 256,
            ..Default::default()
        }
    }

    /// Starts the process from what is on disk (first boot or restart after a crash).
    fn boot(&mut self, config: &ClusterConfig) {
        let kv = if self.disk.snapshot_index() > 0 {
            KvStore::decode(&self.disk.snapshot_data())
        } else {
            KvStore::default()
        };
        let applied = self.disk.snapshot_index();
        debug_assert_eq!(kv.applied(), applied);
        let mut raw = RawNode::new(&self.raft_config(config, applied), self.disk.clone(), &discard_logger())
            // Not `expect`: raft-rs's error `Debug` would ride along into the page's wasm.
            .unwrap_or_else(|_| unreachable!("a validated config always builds a raft node"));
        Self::redraw_election_timeout(&mut self.election_rng, &mut raw, config);
        let commit = raw.raft.raft_log.committed;
        let term = raw.raft.term;
        let timing = LeaderLeaseTiming {
            election_timeout_us: config.election_timeout_ms() as i64 * 1_000,
            heartbeat_interval_us: config.heartbeat_interval_ms() as i64 * 1_000,
            clock_drift_bound_us: i64::from(config.leader_lease.clock_drift_bound_ms) * 1_000,
        };
        let voters = raw.raft.prs().conf().voters().ids().len();
        let leader_lease =
            LeaderLeaseManager::new(config.leader_lease.enabled, config.check_quorum, Some(voters), timing);
        self.process = Some(Process {
            raw,
            kv,
            role: Role::Follower,
            term,
            leader: NodeId::NONE,
            commit,
            leader_lease,
            reads: BTreeMap::new(),
            committed_in_term: false,
            ticks: 0,
            next_expiry_scan: LocalTime(i64::MIN),
            next_checkpoint: LocalTime(i64::MIN),
            next_auto_compact: LocalTime(i64::MIN),
            withholds_votes: false,
        });
    }

    pub fn is_crashed(&self) -> bool {
        self.process.is_none()
    }

    /// Loses all volatile state; the disk stays.
    pub fn crash(&mut self) {
        self.process = None;
        self.paused = false;
    }

    /// Recovers from disk. Committed entries past the snapshot are re-applied by raft.
    ///
    /// With `restart_vote_wait` (and `check_quorum`) the process then grants no vote and no
    /// pre-vote for one election timeout: `election_ticks` raft ticks of its own clock, the
    /// measure raft-rs keeps the promise in (so a clock jump, which re-arms the ticker
    /// instead of firing it, does not shorten the wait). Just before the crash it may have
    /// acknowledged a leader's heartbeat, promising (check_quorum's rule) to ignore vote
    /// requests for an election timeout, and that leader may hold a leader lease counted on
    /// the promise; raft-rs forgets it with the rest of its memory. Waiting keeps the promise
    /// without knowing it was made. Persisting the promise instead would cost a disk write per
    /// heartbeat received (every heartbeat renews it) and restoring it into raft-rs's
    /// volatile leader and election timer, which its API does not offer; the wait costs a
    /// restarted node at most one election timeout before it may vote, which delays an
    /// election only if a restart coincides with the loss of the leader.
    pub fn restart(&mut self, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) -> u64 {
        assert!(self.process.is_none());
        self.boot(config);
        self.process().withholds_votes = config.restart_vote_wait && config.check_quorum;
        self.handle_ready(config, now, out);
        self.applied()
    }

    /// Replaces raft-rs's `thread_rng` draw with one from the seeded stream.
    fn redraw_election_timeout(rng: &mut ChaCha8Rng, raw: &mut RawNode<DiskStorage>, config: &ClusterConfig) {
        let min = u64::from(config.election_ticks);
        // Drawn as u64: rand samples `usize` differently on 32- and 64-bit targets.
        let timeout = rng.gen_range(min..2 * min) as usize;
        raw.raft.set_randomized_election_timeout(timeout);
    }

    fn process(&mut self) -> &mut Process {
        self.process.as_mut().expect("callers check the node is running")
    }

    pub fn tick(&mut self, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let p = self.process();
        p.raw.tick();
        p.ticks += 1;
        let policy = config.leader_lease.policy;
        let is_leader = p.raw.raft.state == StateRole::Leader;
        // The safe policy confirms leadership with its own ReadIndex round every heartbeat
        // interval and anchors the lease at that round's send time.
        if is_leader
            && policy == LeaderLeasePolicy::SendTimeAnchored
            && p.ticks.is_multiple_of(u64::from(config.heartbeat_ticks))
        {
            p.raw.read_index(renewal_context(now));
        }
        // Re-issue ReadIndex requests raft may have dropped (no leader yet, or a leader that
        // has not committed in its term).
        let due: Vec<OpId> = p
            .reads
            .iter()
            .filter(|(_, r)| r.index.is_none() && now.0 - r.issued_at.0 >= READ_RETRY_US)
            .map(|(op, _)| *op)
            .collect();
        for op in due {
            Self::reissue(p, op, now, "500 ms without a read index", out);
        }
        Self::lessor_timers(p, config, now);
        if is_leader {
            Self::auto_compact(p, config, now);
        }
        self.handle_ready(config, now, out);
    }

    fn reissue(p: &mut Process, op: OpId, now: LocalTime, why: &str, out: &mut NodeOutput) {
        let leader = p.raw.raft.leader_id;
        let r = p.reads.get_mut(&op).expect("pending");
        r.retries += 1;
        r.issued_at = now;
        let ctx = r.ctx.clone();
        let whom = if leader == 0 { "no leader known yet".to_string() } else { format!("leader n{leader}") };
        out.read_notes.push((op, format!("retry #{} ({why}); {whom}", r.retries)));
        p.raw.read_index(ctx);
    }

    pub fn step(&mut self, msg: Message, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let p = self.process();
        if p.withholds_votes {
            let wait = u64::from(config.election_ticks);
            if p.ticks >= wait {
                p.withholds_votes = false;
            } else if Self::withheld_vote_request(&p.raw.raft, &msg) {
                // Ignored, as raft-rs ignores a vote request while it is in its leader's lease:
                // no answer, no term change. The candidate asks again after its timeout.
                out.votes_withheld.push((NodeId(msg.from), MsgKind::from(msg.get_msg_type()), wait - p.ticks));
                return;
            }
        }
        // Errors here are raft refusing a message (e.g. from an unknown peer); the message is
        // simply ignored, as a real transport would.
        let _ = self.process().raw.step(msg);
        self.handle_ready(config, now, out);
    }

    /// The requests raft-rs itself ignores while in its leader's lease (`Raft::step`): a vote
    /// or pre-vote of a higher term that is not a leadership transfer.
    fn withheld_vote_request(raft: &raft::Raft<DiskStorage>, msg: &Message) -> bool {
        matches!(msg.get_msg_type(), MessageType::MsgRequestVote | MessageType::MsgRequestPreVote)
            && msg.term > raft.term
            && msg.context != raft::CAMPAIGN_TRANSFER
    }

    /// The network's word on a raft snapshot this node sent `follower`, given when the
    /// simulator delivers or loses it (as etcd's transport reports once the stream is written
    /// or has failed). Delivered, raft waits for the follower's answer; lost, it probes the
    /// follower again after a heartbeat. Unreported, raft-rs would keep the follower in its
    /// Snapshot state, sending it nothing, for good if the snapshot was lost; reported at send
    /// (as it once was), a rejected probe sent another while the first was in flight.
    ///
    /// This changes only raft's progress record of the follower and sends nothing, so it
    /// needs no Ready cycle; like etcd's transport it reaches raft from outside the node's
    /// loop, also while the process is paused. A crashed node has no raft to tell.
    pub fn report_snapshot(&mut self, follower: NodeId, delivered: bool) {
        if let Some(p) = &mut self.process {
            let status = if delivered { SnapshotStatus::Finish } else { SnapshotStatus::Failure };
            p.raw.report_snapshot(follower.0, status);
        }
    }

    /// Serves a client read. Serializable reads and lease reads answer at once;
    /// the others start a ReadIndex and answer once the read index is applied locally.
    pub fn read(
        &mut self,
        op: OpId,
        key: &str,
        mode: ReadMode,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) {
        let p = self.process.as_mut().expect("callers check the node is running");
        if mode == ReadMode::Serializable {
            out.read_notes.push((
                op,
                format!(
                    "serializable: answer from the local applied state (applied {}, revision {})",
                    p.kv.applied(),
                    p.kv.revision()
                ),
            ));
            Self::answer_now(&p.kv, op, key, ReadPath::Serializable, out);
            return;
        }
        let policy = config.leader_lease.policy;
        let is_leader = p.raw.raft.state == StateRole::Leader;
        let singleton = p.raw.raft.prs().is_singleton();
        let path = if !is_leader {
            ForwardPathNote::note(p, op, out);
            ReadPath::ForwardedReadIndex
        } else if policy == LeaderLeasePolicy::RaftLeaseBased {
            out.read_notes.push((op, "leader, raft-rs LeaseBased: raft answers with its commit index and checks no clock (it trusts check_quorum)".into()));
            ReadPath::RaftLeaseBased
        } else {
            let stats = p.leader_lease.stats(now);
            let (applied, commit) = (p.kv.applied(), p.raw.raft.raft_log.committed);
            let decision = p.leader_lease.read_decision(now, applied, commit);
            if decision != LeaseRead::NoLease {
                let expire = stats.expire_at.expect("valid lease has an expiry");
                out.read_notes.push((
                    op,
                    format!(
                        "leader lease valid on the local clock: expires at local {expire}, now local {now} ({} ms left)",
                        (expire.0 - now.0) as f64 / 1_000.0
                    ),
                ));
            }
            match decision {
                LeaseRead::Serve => {
                    Self::answer_now(&p.kv, op, key, ReadPath::LeaseRead, out);
                    return;
                }
                LeaseRead::WaitForApply { applied, commit } => {
                    // The commit index is the read index: wait for its apply, no round trip.
                    out.read_notes.push((op, format!("applied {applied} < commit {commit}: wait for the apply")));
                    out.reads_started.push((op, ReadPath::LeaseRead));
                    let pending = PendingRead {
                        key: key.to_string(),
                        path: ReadPath::LeaseRead,
                        ctx: Vec::new(),
                        index: Some(commit),
                        issued_at: now,
                        retries: 0,
                    };
                    p.reads.insert(op, pending);
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
            PendingRead { key: key.to_string(), path, ctx: ctx.clone(), index: None, issued_at: now, retries: 0 },
        );
        p.raw.read_index(ctx);
        self.handle_ready(config, now, out);
    }

    /// Answers a read from the local store at once (serializable and lease reads).
    fn answer_now(kv: &KvStore, op: OpId, key: &str, path: ReadPath, out: &mut NodeOutput) {
        let value = Self::read_value(kv, key);
        out.reads_done.push(ReadDone { op, path, read_index: None, retries: 0, result: Ok(value) });
    }

    fn read_value(kv: &KvStore, key: &str) -> ReadValue {
        let (value, mod_revision) = match kv.get_with_revision(key) {
            Some((v, r)) => (Some(v.to_string()), r),
            None => (None, 0),
        };
        ReadValue { value, mod_revision, revision: kv.revision() }
    }

    /// Forgets a pending read whose client gave up (timed out).
    pub fn abandon_read(&mut self, op: OpId) {
        if let Some(p) = self.process.as_mut() {
            p.reads.remove(&op);
        }
    }

    /// Proposes a client request. Followers forward it to the leader; with no known leader
    /// raft drops it and this returns the error.
    pub fn propose(
        &mut self,
        proposal: &Proposal,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) -> Result<(), raft::Error> {
        let result = self.process().raw.propose(vec![], proposal.encode());
        self.handle_ready(config, now, out);
        result
    }

    /// One pass of the raft-rs Ready cycle: send, persist, apply, advance.
    fn handle_ready(&mut self, config: &ClusterConfig, now: LocalTime, out: &mut NodeOutput) {
        let compaction_entries = u64::from(config.log_compaction_entries);
        let ctx = ApplyContext { now, min_ttl_ms: config.key_lease_min_ttl_ms(), record_effects: true };
        let disk = self.disk.clone();
        let p = self.process.as_mut().expect("running");
        // Bounded: raft produces at most a couple of Readies per input.
        for _ in 0..8 {
            if !p.raw.has_ready() {
                break;
            }
            let mut ready = p.raw.ready();
            let mut immediate = ready.take_messages();
            immediate.sort_by_key(message_order);
            out.messages.append(&mut immediate);
            p.raw.recycle_messages(immediate);

            if !ready.snapshot().is_empty() {
                let snap = ready.snapshot().clone();
                let meta = snap.get_metadata();
                out.snapshot_installed = Some((meta.index, meta.term));
                p.kv = KvStore::decode(&snap.data);
                disk.apply_snapshot(snap);
            }
            Self::apply_entries(&mut p.kv, ready.take_committed_entries(), ctx, out);
            for rs in ready.take_read_states() {
                Self::on_read_state(p, config, rs.index, &rs.request_ctx, out);
            }
            disk.append(ready.entries());
            if let Some(hs) = ready.hs() {
                disk.set_hard_state(hs.clone());
            }
            let mut persisted = ready.take_persisted_messages();
            persisted.sort_by_key(message_order);
            out.messages.append(&mut persisted);
            p.raw.recycle_messages(persisted);

            let mut light = p.raw.advance(ready);
            if let Some(commit) = light.commit_index() {
                disk.set_commit(commit);
            }
            let mut more = light.take_messages();
            more.sort_by_key(message_order);
            out.messages.append(&mut more);
            p.raw.recycle_messages(more);
            Self::apply_entries(&mut p.kv, light.take_committed_entries(), ctx, out);
            p.raw.advance_apply();
        }

        let (role, term, leader) = {
            let r = &p.raw.raft;
            (Role::from(r.state), r.term, NodeId(r.leader_id))
        };
        if (role, term) != (p.role, p.term) {
            // raft-rs reset its timeout (become_* → reset) to the minimum: draw it from our seed.
            Self::redraw_election_timeout(&mut self.election_rng, &mut p.raw, config);
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
        if (role, term, leader) != (p.role, p.term, p.leader) {
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
        if role == Role::Leader && !p.committed_in_term {
            let committed = p.raw.raft.raft_log.committed;
            if p.raw.raft.raft_log.term(committed).ok() == Some(term) {
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
        if role == Role::Leader
            && p.committed_in_term
            && !p.kv.lessor().is_primary()
            && p.kv.applied() >= p.raw.raft.raft_log.committed
        {
            // Promote after applying the term's first entry: every key lease gets
            // now + election timeout + (checkpointed remaining, else full TTL).
            p.kv.lessor_mut().promote(now, config.election_timeout_ms() as i64);
            p.next_expiry_scan = now;
            p.next_checkpoint = now.plus_us(i64::from(config.lessor.checkpoint_interval_ms) * 1_000);
        }
        if role == Role::Leader && config.leader_lease.policy == LeaderLeasePolicy::SeedRenewAtAck {
            // The seed's renewal: itself plus every peer raft-rs considers recently active.
            let me = p.raw.raft.id;
            let prs = p.raw.raft.prs();
            let total = prs.conf().voters().ids().len();
            let acks = 1 + prs.iter().filter(|(id, pr)| **id != me && pr.recent_active).count();
            p.leader_lease.renew_lease(acks, total, now);
        }
        // Answer reads whose read index is now applied.
        let ready_reads: Vec<OpId> =
            p.reads.iter().filter(|(_, r)| r.index.is_some_and(|i| i <= p.kv.applied())).map(|(op, _)| *op).collect();
        for op in ready_reads {
            let r = p.reads.remove(&op).expect("listed");
            let index = r.index.expect("filtered");
            out.read_notes
                .push((op, format!("applied {} ≥ read index {index}: answer from the local store", p.kv.applied())));
            let value = Self::read_value(&p.kv, &r.key);
            out.reads_done.push(ReadDone {
                op,
                path: r.path,
                read_index: Some(index),
                retries: r.retries,
                result: Ok(value),
            });
        }
        let commit = p.raw.raft.raft_log.committed;
        if commit != p.commit {
            p.commit = commit;
            out.commit_advanced = Some(commit);
        }
        let applied = p.kv.applied();
        if applied >= disk.snapshot_index() + compaction_entries {
            disk.compact(applied, p.kv.clone());
            out.compacted_through = Some(applied);
        }
    }

    fn on_read_state(p: &mut Process, config: &ClusterConfig, index: u64, ctx: &[u8], out: &mut NodeOutput) {
        match parse_context(ctx) {
            Some(Context::Renewal(sent_at)) if config.leader_lease.policy == LeaderLeasePolicy::SendTimeAnchored => {
                // A quorum acknowledged the round sent at `sent_at`: the lease starts then.
                let total = p.raw.raft.prs().conf().voters().ids().len();
                p.leader_lease.renew_anchored(total / 2 + 1, total, sent_at);
            }
            Some(Context::Renewal(_)) => {}
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

    /// The primary's lessor loops: every 500 ms of local time revoke expired key
    /// leases through raft (rate-limited, retried after 3 s); every checkpoint interval
    /// propose the remaining TTLs.
    fn lessor_timers(p: &mut Process, config: &ClusterConfig, now: LocalTime) {
        if !p.kv.lessor().is_primary() {
            return;
        }
        if now >= p.next_expiry_scan {
            p.next_expiry_scan = now.plus_us(EXPIRY_SCAN_US);
            for id in p.kv.lessor_mut().expired(now, REVOKES_PER_SCAN_MAX, REVOKE_RETRY_MS) {
                Self::propose_internal(p, Request::LeaseRevoke { id });
            }
        }
        if config.lessor.checkpointing && now >= p.next_checkpoint {
            p.next_checkpoint = now.plus_us(i64::from(config.lessor.checkpoint_interval_ms) * 1_000);
            let checkpoints = p.kv.lessor().checkpoints(now);
            if !checkpoints.is_empty() {
                Self::propose_internal(p, Request::LeaseCheckpoint { checkpoints });
            }
        }
    }

    /// etcd's revision auto-compactor: every 5 s of local time the leader compacts the MVCC
    /// history to keep only the last `auto_compaction_retention` revisions. It bounds memory
    /// and the size of raft snapshots in long runs.
    fn auto_compact(p: &mut Process, config: &ClusterConfig, now: LocalTime) {
        let retention = config.auto_compaction_retention;
        if retention == 0 || now < p.next_auto_compact {
            return;
        }
        p.next_auto_compact = now.plus_us(AUTO_COMPACT_US);
        let (current, compacted) = (p.kv.revision(), p.kv.compacted_revision());
        if current > compacted + retention {
            Self::propose_internal(p, Request::Compact { revision: current - retention });
        }
    }

    /// Proposes a request of the node's own (no client waits for it).
    fn propose_internal(p: &mut Process, request: Request) {
        let proposal = Proposal { op: OpId(0), request };
        // A leader that just lost its leadership drops it; the next round retries.
        let _ = p.raw.propose(vec![], proposal.encode());
    }

    /// Keep-alive: only the primary renews; with checkpointing on and a checkpointed
    /// remaining TTL set, it first proposes a checkpoint resetting it to 0. Returns the TTL.
    pub fn key_lease_keep_alive(
        &mut self,
        id: u64,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) -> Result<i64, String> {
        let p = self.process.as_mut().expect("callers check the node is running");
        let leader = p.raw.raft.leader_id;
        match p.kv.lessor_mut().renew(id, now, config.lessor.checkpointing) {
            Ok((ttl, reset)) => {
                if reset {
                    Self::propose_internal(p, Request::LeaseCheckpoint { checkpoints: vec![(id, 0)] });
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

    fn apply_entries(kv: &mut KvStore, entries: Vec<Entry>, ctx: ApplyContext, out: &mut NodeOutput) {
        for entry in entries {
            if entry.index <= kv.applied() {
                // Already reflected in a snapshot installed in this same Ready.
                continue;
            }
            kv.advance_applied(entry.index);
            if entry.get_entry_type() != EntryType::EntryNormal {
                continue;
            }
            if let Some(proposal) = Proposal::decode(&entry.data) {
                if !kv.first_apply_of(proposal.op.0) {
                    // A duplicated proposal's second copy: applied once already.
                    continue;
                }
                let ctx = ApplyContext { record_effects: entry.index > out.effects_recorded_through, ..ctx };
                let applied = kv.apply(proposal.request, ctx);
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
                });
            }
        }
    }

    // ---- read-only accessors for views and checkers ----

    pub fn role(&self) -> Option<Role> {
        self.process.as_ref().map(|p| Role::from(p.raw.raft.state))
    }
    pub fn is_leader(&self) -> bool {
        self.process.as_ref().is_some_and(|p| p.raw.raft.state == StateRole::Leader)
    }
    pub fn term(&self) -> u64 {
        match &self.process {
            Some(p) => p.raw.raft.term,
            None => self.disk.hard_state().term,
        }
    }
    pub fn leader(&self) -> NodeId {
        self.process.as_ref().map_or(NodeId::NONE, |p| NodeId(p.raw.raft.leader_id))
    }
    pub fn commit(&self) -> u64 {
        match &self.process {
            Some(p) => p.raw.raft.raft_log.committed,
            None => self.disk.hard_state().commit,
        }
    }
    pub fn applied(&self) -> u64 {
        self.process.as_ref().map_or(0, |p| p.kv.applied())
    }
    pub fn last_index(&self) -> u64 {
        match &self.process {
            Some(p) => p.raw.raft.raft_log.last_index(),
            None => raft::Storage::last_index(&self.disk).unwrap_or(0),
        }
    }
    pub fn first_index(&self) -> u64 {
        raft::Storage::first_index(&self.disk).unwrap_or(1)
    }
    pub fn kv(&self) -> Option<&KvStore> {
        self.process.as_ref().map(|p| &p.kv)
    }
    pub fn disk(&self) -> &DiskStorage {
        &self.disk
    }
    /// The current randomized election timeout, in ticks.
    /// Until when (local time) this node believes it may answer linearizable reads without
    /// asking anyone: its leader lease's expiry, or — under raft-rs LeaseBased, which checks no
    /// clock — `now` for as long as it is leader. `None` when it believes no such thing.
    pub fn local_read_until(&self, now: LocalTime, policy: LeaderLeasePolicy) -> Option<LocalTime> {
        let p = self.process.as_ref()?;
        if p.raw.raft.state != StateRole::Leader {
            return None;
        }
        match policy {
            LeaderLeasePolicy::RaftLeaseBased => Some(now),
            _ => p.leader_lease.has_valid_lease(now).then(|| p.leader_lease.expire_at()).flatten(),
        }
    }

    pub fn leader_lease_stats(&self, now: LocalTime) -> Option<LeaderLeaseStats> {
        self.process.as_ref().map(|p| p.leader_lease.stats(now))
    }

    /// Reads waiting at this node.
    pub fn pending_reads(&self) -> usize {
        self.process.as_ref().map_or(0, |p| p.reads.len())
    }

    pub fn election_timeout_ticks(&self) -> usize {
        self.process.as_ref().map_or(0, |p| p.raw.raft.randomized_election_timeout())
    }
    /// The term of the entry at `index` in this node's log; `None` where it is not known:
    /// compacted away (raft-rs answers 0 for those, which is no term), past the last index, or
    /// the process is down.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        let p = self.process.as_ref()?;
        let log = &p.raw.raft.raft_log;
        // The entry just before the first one is the snapshot's, whose term raft-rs keeps.
        if index + 1 < log.first_index() || index > log.last_index() {
            return None;
        }
        log.term(index).ok()
    }
}
