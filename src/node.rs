//! One cluster member: a real raft-rs [`RawNode`] over its [`DiskStorage`], the replicated
//! state machine, and the node's own clock. The node drives the Ready cycle exactly as the
//! raft-rs docs prescribe (send, persist, apply, advance) and reports what happened into a
//! [`NodeOutput`] that the simulator turns into network sends and trace events.
//!
//! **Architecture invariant:** a node sees only its local clock and its inputs; it never sees
//! true time, other nodes, or the RNG.

use crate::clock::NodeClock;
use crate::config::ClusterConfig;
use crate::kv::KvStore;
use crate::request::Proposal;
use crate::storage::DiskStorage;
use crate::time::LocalTime;
use crate::types::{NodeId, OpId, Role};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use raft::eraftpb::{Entry, EntryType, Message};
use raft::{RawNode, StateRole};

/// An entry applied on this node that answers a client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedOp {
    pub op: OpId,
    pub index: u64,
    pub revision: u64,
}

/// What one call into a node produced. The simulator drains it after every call.
#[derive(Debug, Default)]
pub struct NodeOutput {
    /// Messages to put on the network, already in a deterministic order.
    pub messages: Vec<Message>,
    pub applied_ops: Vec<AppliedOp>,
    pub role_change: Option<(Role, u64, NodeId)>,
    pub commit_advanced: Option<u64>,
    pub snapshot_installed: Option<(u64, u64)>,
    pub compacted_through: Option<u64>,
}

/// Volatile process state: everything a crash loses.
struct Process {
    raw: RawNode<DiskStorage>,
    kv: KvStore,
    role: Role,
    term: u64,
    leader: NodeId,
    commit: u64,
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

fn discard_logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

/// Sort key for outgoing messages: raft-rs iterates FxHash maps whose order differs between
/// 64-bit native and wasm32, so every batch is sorted before it reaches the network (SPEC §2).
fn message_order(m: &Message) -> (u64, i32, u64, u64) {
    (m.to, m.get_msg_type() as i32, m.term, m.index)
}

impl Node {
    pub fn new(
        id: NodeId,
        voters: Vec<u64>,
        config: &ClusterConfig,
        election_seed: u64,
        clock: NodeClock,
    ) -> Node {
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
        let mut raw =
            RawNode::new(&self.raft_config(config, applied), self.disk.clone(), &discard_logger())
                .expect("a validated config always builds a raft node");
        Self::redraw_election_timeout(&mut self.election_rng, &mut raw, config);
        let commit = raw.raft.raft_log.committed;
        let term = raw.raft.term;
        self.process =
            Some(Process { raw, kv, role: Role::Follower, term, leader: NodeId::NONE, commit });
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
    pub fn restart(&mut self, config: &ClusterConfig, out: &mut NodeOutput) -> u64 {
        assert!(self.process.is_none());
        self.boot(config);
        self.handle_ready(config, out);
        self.applied()
    }

    /// Replaces raft-rs's `thread_rng` draw with one from the seeded stream (SPEC §2).
    fn redraw_election_timeout(
        rng: &mut ChaCha8Rng,
        raw: &mut RawNode<DiskStorage>,
        config: &ClusterConfig,
    ) {
        let min = u64::from(config.election_ticks);
        // Drawn as u64: rand samples `usize` differently on 32- and 64-bit targets.
        let timeout = rng.gen_range(min..2 * min) as usize;
        raw.raft.set_randomized_election_timeout(timeout);
    }

    fn process(&mut self) -> &mut Process {
        self.process.as_mut().expect("callers check the node is running")
    }

    pub fn tick(&mut self, config: &ClusterConfig, out: &mut NodeOutput) {
        self.process().raw.tick();
        self.handle_ready(config, out);
    }

    pub fn step(&mut self, msg: Message, config: &ClusterConfig, out: &mut NodeOutput) {
        // Errors here are raft refusing a message (e.g. from an unknown peer); the message is
        // simply ignored, as a real transport would.
        let _ = self.process().raw.step(msg);
        self.handle_ready(config, out);
    }

    /// Proposes a client request. Followers forward it to the leader; with no known leader
    /// raft drops it and this returns the error.
    pub fn propose(
        &mut self,
        proposal: &Proposal,
        config: &ClusterConfig,
        out: &mut NodeOutput,
    ) -> Result<(), raft::Error> {
        let result = self.process().raw.propose(vec![], proposal.encode());
        self.handle_ready(config, out);
        result
    }

    /// One pass of the raft-rs Ready cycle: send, persist, apply, advance.
    fn handle_ready(&mut self, config: &ClusterConfig, out: &mut NodeOutput) {
        let compaction_entries = u64::from(config.log_compaction_entries);
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
            out.messages.extend(immediate);

            if !ready.snapshot().is_empty() {
                let snap = ready.snapshot().clone();
                let meta = snap.get_metadata();
                out.snapshot_installed = Some((meta.index, meta.term));
                p.kv = KvStore::decode(&snap.data);
                disk.apply_snapshot(snap);
            }
            Self::apply_entries(&mut p.kv, ready.take_committed_entries(), out);
            disk.append(ready.entries());
            if let Some(hs) = ready.hs() {
                disk.set_hard_state(hs.clone());
            }
            let mut persisted = ready.take_persisted_messages();
            persisted.sort_by_key(message_order);
            out.messages.extend(persisted);

            let mut light = p.raw.advance(ready);
            if let Some(commit) = light.commit_index() {
                disk.set_commit(commit);
            }
            let mut more = light.take_messages();
            more.sort_by_key(message_order);
            out.messages.extend(more);
            Self::apply_entries(&mut p.kv, light.take_committed_entries(), out);
            p.raw.advance_apply();
        }

        let (role, term, leader) = {
            let r = &p.raw.raft;
            (Role::from(r.state), r.term, NodeId(r.leader_id))
        };
        if (role, term) != (p.role, p.term) {
            // raft-rs re-drew its timeout (become_* → reset) from thread_rng: override it.
            Self::redraw_election_timeout(&mut self.election_rng, &mut p.raw, config);
        }
        if (role, term, leader) != (p.role, p.term, p.leader) {
            p.role = role;
            p.term = term;
            p.leader = leader;
            out.role_change = Some((role, term, leader));
        }
        let commit = p.raw.raft.raft_log.committed;
        if commit != p.commit {
            p.commit = commit;
            out.commit_advanced = Some(commit);
        }
        let applied = p.kv.applied();
        if applied >= disk.snapshot_index() + compaction_entries {
            disk.compact(applied, p.kv.encode());
            out.compacted_through = Some(applied);
        }
    }

    fn apply_entries(kv: &mut KvStore, entries: Vec<Entry>, out: &mut NodeOutput) {
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
                let applied = kv.apply(&proposal.request);
                out.applied_ops.push(AppliedOp {
                    op: proposal.op,
                    index: entry.index,
                    revision: applied.revision,
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
    pub fn election_timeout_ticks(&self) -> usize {
        self.process.as_ref().map_or(0, |p| p.raw.raft.randomized_election_timeout())
    }
    /// The raft entry term at `index`, when this node still holds it.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        self.process.as_ref().and_then(|p| p.raw.raft.raft_log.term(index).ok())
    }
}
