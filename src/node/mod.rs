//! One cluster member: a real raft-rs [`RawNode`] over its [`DiskStorage`] and the replicated
//! state machine. Every call (tick, step, propose, read) ends with a pass of the Ready cycle
//! (`ready.rs`) and reports what happened into a [`NodeOutput`] (`output.rs`) that the
//! simulator turns into network sends and trace events. The read paths live in `reads.rs`,
//! the key lease timers and keep-alives in `key_lease_timers.rs`; this file holds the
//! process's life (boot, crash, restart), its inputs and what views may ask of it.
//!
//! **Architecture invariant:** a node sees only its local clock's reading (passed in with
//! every call) and its inputs; it never sees true time, other nodes, the recorder or the
//! simulator's RNG. Its clock, pause state and tick schedule belong to the machine it runs on
//! (`sim::Machine`).

use crate::client_op::ClientOp;
use crate::config::ClusterConfig;
use crate::kv::KvStore;
use crate::leader_lease::{LeaderLeaseManager, LeaderLeasePolicy, LeaderLeaseStats, LeaderLeaseTiming};
use crate::random::SimRng;
use crate::read::renewal_context;
use crate::request::Proposal;
use crate::request::Request;
use crate::storage::DiskStorage;
use crate::time::LocalTime;
use crate::types::{KeyLeaseId, MsgKind, NodeId, OpId, Role};
use raft::eraftpb::{Message, MessageType};
use raft::{RawNode, SnapshotStatus, StateRole};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

mod key_lease_timers;
mod lease_guard;
mod membership;
mod output;
mod reads;
mod ready;
mod transfer;
mod watches;

use key_lease_timers::KeepAliveWait;
pub use output::{AppliedOp, KeepAliveRefusal, KeepAliveRequest, KeepAliveResult, NodeOutput, ReadDone};
use reads::PendingRead;

/// The leader's auto-compactor runs this often.
const AUTO_COMPACT_US: i64 = 5_000_000;

/// etcd's request id generator (`idutil.Generator`), which its server uses for a key lease
/// granted without an id: the member id in the top 16 bits, then the clock in milliseconds when
/// the process started (40 bits) and a counter (8 bits), incremented per id. Here the member
/// id is the node id and the clock is the node's own, so ids are unique across the cluster and
/// a restarted node starts a fresh series.
#[derive(Clone, Debug)]
struct KeyLeaseIdGenerator {
    prefix: u64,
    suffix: u64,
}

impl KeyLeaseIdGenerator {
    const SUFFIX_BITS: u32 = 48;
    const COUNTER_BITS: u32 = 8;

    fn new(node: NodeId, now: LocalTime) -> KeyLeaseIdGenerator {
        let ms = (now.0 / 1_000) as u64 & ((1 << (Self::SUFFIX_BITS - Self::COUNTER_BITS)) - 1);
        KeyLeaseIdGenerator { prefix: (node.0 & 0xffff) << Self::SUFFIX_BITS, suffix: ms << Self::COUNTER_BITS }
    }

    /// The next id, never 0 and positive as an etcd `int64` (top bit clear).
    fn next(&mut self) -> KeyLeaseId {
        self.suffix += 1;
        let id = (self.prefix | (self.suffix & ((1 << Self::SUFFIX_BITS) - 1))) & (u64::MAX >> 1);
        KeyLeaseId::new(id).unwrap_or_else(|| unreachable!("the counter part is never 0 after an increment"))
    }
}

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
    next_auto_compact: LocalTime,
    /// The restarted process ignores vote and pre-vote requests until it has ticked one
    /// election timeout (`ClusterConfig::restart_vote_wait`).
    withholds_votes: bool,
    /// Assigns ids to key lease grants that come without one.
    key_lease_ids: KeyLeaseIdGenerator,
    /// The watches this node serves (a crash ends them).
    watchers: crate::watch::WatcherGroup,
    /// LeaseGuard's per-term state (leaders only).
    lease_guard: lease_guard::LeaseGuardState,
    /// The leadership transfers this leader started.
    transfer: transfer::TransferState,
    /// The configuration applied here (raft-rs's, as plain data).
    membership: crate::membership::Membership,
    /// Keep-alives waiting for a leadership check or for an expired key lease's revoke (a
    /// crash drops them unanswered).
    held_keep_alives: Vec<(KeepAliveRequest, KeepAliveWait)>,
    /// Local time of the last raft tick: a process that has not ticked for three ticks was
    /// stopped, and checks it still leads before it renews a key lease (etcd's `isActive`).
    last_tick: LocalTime,
}

pub struct Node {
    pub id: NodeId,
    disk: DiskStorage,
    /// `None` while crashed.
    process: Option<Process>,
    /// Draws this node's randomized election timeouts. raft-rs would draw them from
    /// `thread_rng` (unseedable); the node overrides every one of those draws with this
    /// seeded stream right after each role or term change, before the next tick can use it.
    election_rng: SimRng,
}

fn discard_logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
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
        Node { id: self.id, disk, process, election_rng: self.election_rng.clone() }
    }
}

impl Node {
    pub fn new(id: NodeId, voters: Vec<u64>, config: &ClusterConfig, election_seed: u64) -> Node {
        let mut node = Node {
            id,
            disk: DiskStorage::new_with_voters(voters),
            process: None,
            election_rng: SimRng::seed_from_u64(election_seed),
        };
        node.boot(config, LocalTime(0));
        node
    }

    /// A node started while the cluster runs, to be added to it (etcd's `member add`): its
    /// disk holds the configuration the cluster was created with, `genesis`, which it is not
    /// part of, so it neither campaigns nor votes until the changes it receives in the log (or
    /// in a snapshot) make it a member.
    pub fn join(id: NodeId, genesis: Vec<u64>, config: &ClusterConfig, election_seed: u64, now: LocalTime) -> Node {
        let mut node = Node {
            id,
            disk: DiskStorage::new_with_voters(genesis),
            process: None,
            election_rng: SimRng::seed_from_u64(election_seed),
        };
        node.boot(config, now);
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
    fn boot(&mut self, config: &ClusterConfig, now: LocalTime) {
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
        let membership = crate::membership::Membership::from_conf_state(&raw.raft.prs().conf().to_conf_state());
        let voters = membership.voter_count();
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
            next_auto_compact: LocalTime(i64::MIN),
            withholds_votes: false,
            key_lease_ids: KeyLeaseIdGenerator::new(self.id, now),
            watchers: crate::watch::WatcherGroup::default(),
            lease_guard: lease_guard::LeaseGuardState::booted(now),
            transfer: transfer::TransferState::default(),
            membership,
            held_keep_alives: Vec::new(),
            last_tick: now,
        });
    }

    pub fn is_crashed(&self) -> bool {
        self.process.is_none()
    }

    /// Loses all volatile state; the disk stays.
    pub fn crash(&mut self) {
        self.process = None;
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
        self.boot(config, now);
        self.process().withholds_votes = config.restart_vote_wait && config.check_quorum;
        self.handle_ready(config, now, out);
        self.applied()
    }

    /// Replaces raft-rs's `thread_rng` draw with one from the seeded stream.
    fn redraw_election_timeout(rng: &mut SimRng, raw: &mut RawNode<DiskStorage>, config: &ClusterConfig) {
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
        Self::stamp_appends(p, config, now);
        p.raw.tick();
        p.ticks += 1;
        p.last_tick = now;
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
        Self::retry_dropped_reads(p, now, out);
        Self::lessor_timers(p, config, now);
        Self::watch_timers(p, config, now, out);
        if policy.in_log() {
            Self::renew_by_log(p, config, now);
        }
        if is_leader {
            Self::auto_compact(p, config, now);
        }
        self.handle_ready(config, now, out);
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
        let p = self.process();
        if let Some(last) = Self::stale_timeout_now(p, config, &msg) {
            out.timeout_now_ignored = Some((NodeId(msg.from), msg.index, last));
            return;
        }
        Self::stamp_appends(p, config, now);
        let _ = p.raw.step(msg);
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

    /// Proposes a client request. Followers forward it to the leader; with no known leader
    /// raft drops it and this returns the error.
    pub fn propose(
        &mut self,
        proposal: &Proposal,
        config: &ClusterConfig,
        now: LocalTime,
        out: &mut NodeOutput,
    ) -> Result<(), raft::Error> {
        let p = self.process();
        Self::stamp_appends(p, config, now);
        let result = p.raw.propose(vec![], proposal.encode());
        if result.is_ok() {
            Self::note_append(p, now);
        }
        self.handle_ready(config, now, out);
        result
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
            Self::propose_internal(p, Request::Client(ClientOp::Compact { revision: current - retention }));
        }
    }

    /// Gives a key lease grant that came without an id one from this node's generator, as
    /// etcd's server does before proposing it. A crashed node assigns nothing.
    pub fn assign_key_lease_id(&mut self, op: &mut ClientOp) {
        if let (ClientOp::KeyLeaseGrant { id: id @ None, .. }, Some(p)) = (op, self.process.as_mut()) {
            *id = Some(p.key_lease_ids.next());
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
    pub fn local_read_until(&self, now: LocalTime, config: &ClusterConfig) -> Option<LocalTime> {
        let p = self.process.as_ref()?;
        if p.raw.raft.state != StateRole::Leader {
            return None;
        }
        match config.leader_lease.policy {
            LeaderLeasePolicy::RaftLeaseBased => Some(now),
            LeaderLeasePolicy::LeaseGuard | LeaderLeasePolicy::LeaseGuardTimers => {
                Self::lease_guard_until(p, &self.disk, config, now).map(|(until, _)| until)
            }
            _ if Self::transfer_suspect(p, config).is_some() => None,
            _ => p.leader_lease.has_valid_lease(now).then(|| p.leader_lease.expire_at()).flatten(),
        }
    }

    /// Under LeaseGuard, a leader's newest committed entry's lease end `X(e)` and its term.
    pub fn committed_lease_end(&self, config: &ClusterConfig) -> Option<(LocalTime, u64)> {
        let p = self.process.as_ref().filter(|p| p.raw.raft.state == StateRole::Leader)?;
        config.leader_lease.policy.in_log().then(|| Self::lease_end_of_commit(p, &self.disk, config)).flatten()
    }

    /// Under LeaseGuard, the keys this leader's limbo entries may write (`None`: any key).
    pub fn limbo_keys(&self, config: &ClusterConfig) -> Vec<Option<String>> {
        match (&self.process, config.leader_lease.policy) {
            (Some(p), LeaderLeasePolicy::LeaseGuard) => Self::limbo(p, &self.disk),
            // Without inherited reads every read waits for the deferral: there is no limbo to show.
            _ => Vec::new(),
        }
    }

    pub fn leader_lease_stats(&self, now: LocalTime, config: &ClusterConfig) -> Option<LeaderLeaseStats> {
        let p = self.process.as_ref()?;
        Some(match config.leader_lease.policy {
            LeaderLeasePolicy::LeaseGuard | LeaderLeasePolicy::LeaseGuardTimers => {
                Self::lease_guard_stats(p, &self.disk, config, now)
            }
            _ => LeaderLeaseStats { suspect: Self::transfer_suspect(p, config), ..p.leader_lease.stats(now) },
        })
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
        // The entry just before the first one is the last compacted one, whose term the disk keeps.
        if index + 1 < log.first_index() || index > log.last_index() {
            return None;
        }
        log.term(index).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{ReadMode, ReadPath};
    use crate::request::Request;

    /// A single voter on a perfect clock, ticked `ticks` times from local time `from`.
    fn ticked(node: &mut Node, config: &ClusterConfig, from: &mut LocalTime, ticks: u32, out: &mut NodeOutput) {
        for _ in 0..ticks {
            *from = from.plus_us(i64::from(config.tick_ms) * 1_000);
            node.tick(config, *from, out);
        }
    }

    fn single_voter() -> (Node, ClusterConfig, LocalTime, NodeOutput) {
        let config = ClusterConfig { node_count: 1, ..ClusterConfig::default() };
        let mut node = Node::new(NodeId(1), vec![1], &config, 7);
        let (mut now, mut out) = (LocalTime(0), NodeOutput::default());
        ticked(&mut node, &config, &mut now, 2 * config.election_ticks, &mut out);
        (node, config, now, out)
    }

    #[test]
    fn a_single_voter_elects_itself_and_applies_what_it_is_asked() {
        let (mut node, config, now, mut out) = single_voter();
        assert!(node.is_leader(), "a lone voter wins its own election within two election timeouts");
        assert_eq!(out.role_change.map(|(role, ..)| role), Some(Role::Leader));
        let put = Proposal {
            op: OpId(9),
            request: Request::Client(ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None }),
        };
        node.propose(&put, &config, now, &mut out).unwrap();
        assert_eq!(node.kv().unwrap().get("k").as_deref(), Some("v"));
        assert!(out.applied_ops.iter().any(|a| a.op == OpId(9) && a.error.is_none()));
        // A serializable read answers at once from the local store.
        node.read(OpId(10), &ClientOp::Read { key: "k".into(), mode: ReadMode::Serializable }, &config, now, &mut out);
        let done = out.reads_done.iter().find(|d| d.op == OpId(10)).expect("answered at once");
        assert_eq!(done.path, ReadPath::Serializable);
        assert_eq!(done.result.as_ref().unwrap().value.value.as_deref(), Some("v"));
    }

    #[test]
    fn a_crash_loses_the_process_and_a_restart_recovers_from_disk() {
        let (mut node, config, now, mut out) = single_voter();
        let put = Proposal {
            op: OpId(3),
            request: Request::Client(ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None }),
        };
        node.propose(&put, &config, now, &mut out).unwrap();
        let term = node.term();
        node.crash();
        assert!(node.is_crashed() && node.kv().is_none() && node.role().is_none());
        assert_eq!(node.term(), term, "the term is on disk");
        node.restart(&config, now, &mut out);
        let mut now = now;
        ticked(&mut node, &config, &mut now, 2 * config.election_ticks, &mut out);
        assert_eq!(node.kv().unwrap().get("k").as_deref(), Some("v"), "committed entries are applied again");
    }

    #[test]
    fn a_restarted_node_ignores_vote_requests_for_one_election_timeout() {
        let config = ClusterConfig::default();
        let mut node = Node::new(NodeId(2), vec![1, 2, 3], &config, 5);
        let mut out = NodeOutput::default();
        node.crash();
        node.restart(&config, LocalTime(0), &mut out);
        let mut vote = Message::default();
        vote.set_msg_type(MessageType::MsgRequestPreVote);
        vote.from = 3;
        vote.to = 2;
        vote.term = 5;
        node.step(vote.clone(), &config, LocalTime(0), &mut out);
        assert_eq!(out.votes_withheld, vec![(NodeId(3), MsgKind::from(MessageType::MsgRequestPreVote), 10)]);
        assert!(out.messages.iter().all(|m| m.to != 3), "no answer");
        let mut now = LocalTime(0);
        ticked(&mut node, &config, &mut now, config.election_ticks, &mut out);
        out.votes_withheld.clear();
        node.step(vote, &config, now, &mut out);
        assert!(out.votes_withheld.is_empty(), "after an election timeout of ticks it answers again");
    }
}
