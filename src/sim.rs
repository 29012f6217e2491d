//! The discrete-event simulator: one seeded RNG, one priority queue of due work
//! ordered by `(true time, sequence)`, nodes, network, client history and trace.
//!
//! **Architecture invariant:** the simulator never reads wall-clock time or unseeded
//! randomness, and never iterates a hash map; with the same seed and command log it emits a
//! byte-identical trace on every platform.

use crate::checker::Checker;
use crate::clock::{NodeClock, RATE_PERFECT_PPM};
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::error::{CommandError, ConfigError};
use crate::event::{Event, OpOutcome, Trace, TracedEvent};
use crate::history::{AppliedWrite, History, OpKind, OpRecord};
use crate::network::{Network, Sent};
use crate::node::{Node, NodeOutput};
use crate::read::{parse_context, Context, ReadMode, ReadPath};
use crate::request::{Proposal, Request};
use crate::snapshot::{
    KeyLeaseView, LinkView, MessageView, NodeView, Snapshot, SNAPSHOT_KEYS_MAX, SNAPSHOT_MESSAGES_MAX, SNAPSHOT_OPS_MAX,
};
use crate::time::{LocalTime, SimTime};
use crate::types::{MsgKind, NodeId, OpId, Role};
use raft::eraftpb::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Inputs queued at a paused process, handled in arrival order when it resumes.
const PAUSED_INBOX_MAX: usize = 100_000;

/// Work due at a point in true time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Deliver(u64),
    Tick {
        node: NodeId,
        generation: u64,
    },
    OpTimeout(OpId),
    /// A command scheduled ahead of time (index into `scheduled`).
    Command(usize),
    /// The background load's next operation (stale when the generation moved on).
    Workload(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    at: SimTime,
    seq: u64,
    due: Due,
}

/// An input that reached a paused process.
#[derive(Clone, Debug)]
enum Inbound {
    Message(Message),
    Propose(Proposal),
    Read { op: OpId, key: String, mode: ReadMode },
}

/// Raft indexes of internal proposals remembered to record each once.
const INTERNAL_APPLIED_REMEMBERED: usize = 10_000;

/// Commands recorded for replay and sharing. A run past this many keeps running but can no
/// longer be replayed from its log (a bound on a long run's memory; see ARCHITECTURE.md).
pub const COMMAND_LOG_MAX: usize = 50_000;

/// Leader elections remembered for explaining stale reads.
const LEADER_TENURES_MAX: usize = 4_096;

/// A command as the run recorded it: with the seed and config, the list of these is the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedCommand {
    /// True time it took effect.
    pub at: SimTime,
    /// Events handled before it. Several events can share one true time (and the page can
    /// step one event at a time), so the time alone would not place the command exactly.
    pub after: u64,
    pub command: Command,
}

/// True time during which a leader believed it could answer reads locally: its
/// leader lease valid on its own clock, or under raft-rs LeaseBased simply being leader. The
/// space-time diagram shades where such a belief outlives the election of a newer leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalReadSpan {
    pub node: NodeId,
    pub term: u64,
    pub from: SimTime,
    /// When the belief ends (for an open span: when it would end if nothing changes).
    pub until: SimTime,
}

/// One node's time as leader of one term, by true time: from its election until it stepped
/// down or crashed (`ended` is `None` while it still leads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderTenure {
    pub elected: SimTime,
    pub node: NodeId,
    pub term: u64,
    pub ended: Option<SimTime>,
}

/// Closed local-read spans remembered.
const LOCAL_READ_SPANS_MAX: usize = 1_024;

/// Operation records the history forgets at once when full (after the checker has judged
/// what it can of them).
const HISTORY_FORGET_BATCH: usize = 1_000;

/// A clone is a full, independent copy (nodes get their own disks): time travel keeps
/// clones as checkpoints.
#[derive(Clone)]
pub struct Sim {
    seed: u64,
    config: ClusterConfig,
    rng: ChaCha8Rng,
    now: SimTime,
    queue: BinaryHeap<Reverse<Scheduled>>,
    /// Client deadlines ([`Due::OpTimeout`]) in the order they were set. Every operation gets
    /// the same timeout, so they fall due in that order: a FIFO beside the heap keeps a busy
    /// run's ~300 deadlines (most for operations long finished) out of it. Both are ordered
    /// by (time, sequence), so the merged order is the single heap's.
    deadlines: VecDeque<Scheduled>,
    next_seq: u64,
    /// Events handled so far (scheduled commands not counted: a replay has no such events).
    steps: u64,
    /// Recorded commands still to re-apply, each at its recorded position (replay).
    replay: VecDeque<LoggedCommand>,
    /// Set when a replay met a run that does not match its recording.
    replay_diverged: Option<String>,
    nodes: Vec<Node>,
    inboxes: Vec<VecDeque<Inbound>>,
    network: Network,
    history: History,
    /// The linearizability checker over `history`, carried in every clone: a checkpoint
    /// restored, a shared run replayed and the live run all give the same verdicts, even for
    /// operations whose records the history has since forgotten.
    checker: Checker,
    trace: Trace,
    scheduled: Vec<Command>,
    /// Every command that took effect, with its true time: with the seed, the whole run.
    command_log: Vec<LoggedCommand>,
    /// True when the command log outgrew [`COMMAND_LOG_MAX`] and stopped recording.
    command_log_truncated: bool,
    /// Closed local-read spans, oldest first, and each node's open one.
    local_read_spans: VecDeque<LocalReadSpan>,
    open_local_read: Vec<Option<LocalReadSpan>>,
    /// Every node's tenures as leader, most recent last (bounded).
    leader_tenures: VecDeque<LeaderTenure>,
    /// Raft indexes of the nodes' own proposals already recorded in the history.
    internal_applied: std::collections::BTreeSet<u64>,
    /// Background load: gap between operations (0: off), and its schedule's generation.
    workload_gap_us: u64,
    workload_generation: u64,
    workload_issued: u64,
    /// True time each key lease was first revoked (applied) anywhere.
    key_leases_revoked: std::collections::BTreeMap<u64, SimTime>,
    /// What the node last called produced (kept to reuse its buffers). `None` only while
    /// [`Sim::flush_output`] works through it: taking it out and putting it back moves a
    /// pointer (boxed: moving the 232-byte struct twice per call was ≈1.7 % of a write-heavy
    /// run's instructions), where swapping in an empty one to drop later cost ≈2 %.
    out: Option<Box<NodeOutput>>,
}

impl Sim {
    /// A fresh cluster at true time zero. Every random choice comes from `seed`.
    pub fn new(seed: u64, config: ClusterConfig) -> Result<Sim, ConfigError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let voters: Vec<u64> = (1..=config.node_count as u64).collect();
        let nodes: Vec<Node> = voters
            .iter()
            .map(|&id| {
                // Each node's election timeouts come from its own seeded stream.
                let election_seed = rng.gen::<u64>();
                Node::new(NodeId(id), voters.clone(), &config, election_seed, NodeClock::new(0, RATE_PERFECT_PPM))
            })
            .collect();
        let mut sim = Sim {
            seed,
            rng,
            now: SimTime::ZERO,
            queue: BinaryHeap::new(),
            deadlines: VecDeque::new(),
            next_seq: 0,
            steps: 0,
            replay: VecDeque::new(),
            replay_diverged: None,
            inboxes: vec![VecDeque::new(); nodes.len()],
            nodes,
            network: Network::new(config.node_count, &config.network),
            history: History::new(),
            checker: Checker::new(),
            trace: Trace::default(),
            scheduled: Vec::new(),
            command_log: Vec::new(),
            leader_tenures: VecDeque::new(),
            local_read_spans: VecDeque::new(),
            workload_gap_us: 0,
            workload_generation: 0,
            workload_issued: 0,
            open_local_read: vec![None; config.node_count],
            command_log_truncated: false,
            key_leases_revoked: std::collections::BTreeMap::new(),
            internal_applied: std::collections::BTreeSet::new(),
            out: Some(Box::default()),
            config,
        };
        for i in 0..sim.nodes.len() {
            // Random phase so nodes do not tick in lockstep.
            let phase = sim.rng.gen_range(1..=sim.tick_us());
            let node = NodeId(i as u64 + 1);
            let local = sim.nodes[i].clock.local_at(SimTime::ZERO);
            sim.schedule_tick(node, local.plus_us(phase));
        }
        Ok(sim)
    }

    // ---------------------------------------------------------------- accessors

    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }
    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }
    /// The newest `count` entries of `id`'s raft log (for the inspector).
    pub fn log_tail(&self, id: NodeId, count: usize) -> Vec<crate::snapshot::LogEntryView> {
        crate::snapshot::log_tail(self.node(id), count)
    }
    pub fn network(&self) -> &Network {
        &self.network
    }
    pub fn history(&self) -> &History {
        &self.history
    }
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }
    pub fn command_log(&self) -> &[LoggedCommand] {
        &self.command_log
    }
    /// The command log, for time travel to set aside while it clones (its checkpoints share
    /// the timeline's copy of the log instead of holding their own).
    pub(crate) fn command_log_mut(&mut self) -> &mut Vec<LoggedCommand> {
        &mut self.command_log
    }
    pub(crate) fn trace_mut(&mut self) -> &mut Trace {
        &mut self.trace
    }
    /// Events handled so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// (true time, node, term) of each node becoming leader, oldest first (bounded).
    pub fn leader_changes(&self) -> impl Iterator<Item = (SimTime, NodeId, u64)> + '_ {
        self.leader_tenures.iter().map(|t| (t.elected, t.node, t.term))
    }
    /// Each node's tenures as leader, oldest first (bounded): who led when, however long ago
    /// the election scrolled out of the trace.
    pub fn leader_tenures(&self) -> impl Iterator<Item = &LeaderTenure> {
        self.leader_tenures.iter()
    }
    /// Ends `node`'s tenure as leader, if it has an open one.
    fn end_tenure(&mut self, node: NodeId) {
        let now = self.now;
        if let Some(t) = self.leader_tenures.iter_mut().rev().find(|t| t.node == node && t.ended.is_none()) {
            t.ended = Some(now);
        }
    }
    /// Spans of true time in which leaders believed they could answer reads locally, oldest
    /// first (bounded; the open ones last).
    pub fn local_read_spans(&self) -> impl Iterator<Item = LocalReadSpan> + '_ {
        self.local_read_spans.iter().copied().chain(self.open_local_read.iter().flatten().copied())
    }
    /// When key lease `id` was first revoked (expired or revoked by a client), if it was.
    pub fn key_lease_revoked_at(&self, id: u64) -> Option<SimTime> {
        self.key_leases_revoked.get(&id).copied()
    }
    fn local(&self, node: NodeId) -> LocalTime {
        self.nodes[node.index()].clock.local_at(self.now)
    }
    /// Retained events with `seq >= from`.
    pub fn events_since(&self, from: u64) -> impl Iterator<Item = &TracedEvent> {
        self.trace.since(from)
    }

    /// The leader of the highest term among running leaders, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.nodes.iter().filter(|n| n.is_leader()).max_by_key(|n| n.term()).map(|n| n.id)
    }

    fn tick_us(&self) -> i64 {
        i64::from(self.config.tick_ms) * 1_000
    }

    // ---------------------------------------------------------------- commands

    /// Applies `command` now. Invalid commands change nothing and say why. Client operations
    /// return their operation id.
    ///
    /// A command applied while a replay is pending forks the run: the recorded future is
    /// dropped and this command starts a new one.
    pub fn apply(&mut self, command: Command) -> Result<Option<OpId>, CommandError> {
        command.validate(&self.config)?;
        self.check_state(&command)?;
        self.replay.clear();
        self.log_command(&command);
        Ok(self.execute(command))
    }

    /// Queues recorded commands to re-apply at their recorded positions as the run proceeds:
    /// `commands` must continue this run's own log (a shared run, or the future after a
    /// time-travel checkpoint). Refused if they are out of order or already in the past.
    pub fn set_replay(&mut self, commands: Vec<LoggedCommand>) -> Result<(), String> {
        let mut position = (self.now, self.steps);
        for (i, c) in commands.iter().enumerate() {
            if c.at < position.0 || c.after < position.1 {
                return Err(format!(
                    "command {} ({}) is out of order: at {} after {} events, but the run is already at {} after {} events",
                    i + 1,
                    c.command.summary(),
                    c.at,
                    c.after,
                    position.0,
                    position.1
                ));
            }
            c.command.validate(&self.config).map_err(|e| format!("command {} is invalid: {e}", i + 1))?;
            position = (c.at, c.after);
        }
        self.replay = commands.into();
        self.replay_diverged = None;
        Ok(())
    }

    /// Drops the recorded commands not yet re-applied (the run forks here).
    pub(crate) fn clear_replay(&mut self) {
        self.replay.clear();
    }

    /// Why the replay stopped early, if the run left the recording.
    pub fn replay_diverged(&self) -> Option<&str> {
        self.replay_diverged.as_deref()
    }

    /// Recorded commands not yet re-applied.
    pub fn pending_replay(&self) -> &VecDeque<LoggedCommand> {
        &self.replay
    }

    /// Re-applies the next recorded command if the run has reached its position (and its
    /// time is not after `until`). A scheduled command that was refused is refused again, so
    /// the replay emits exactly the original events.
    fn apply_due_replay(&mut self, until: SimTime) -> bool {
        match self.replay.front() {
            Some(c) if c.after < self.steps || (c.after == self.steps && self.next_due().is_some_and(|t| t < c.at)) => {
                // This run does not reach the recorded position at the recorded time: the
                // recording belongs to another run (or was edited). Stop replaying.
                self.replay_diverged = Some(format!(
                    "command \"{}\" was recorded at {} after {} events, but this run is at {} after {} events",
                    c.command.summary(),
                    c.at,
                    c.after,
                    self.now,
                    self.steps
                ));
                self.replay.clear();
                return false;
            }
            Some(c) if c.after == self.steps && c.at <= until => {}
            _ => return false,
        }
        let logged = self.replay.pop_front().expect("checked above");
        self.now = self.now.max(logged.at);
        self.run_recorded(logged.command);
        true
    }

    /// A command whose state checks happen when it runs (scheduled or replayed): refused
    /// ones are recorded too, since the refusal is an event.
    fn run_recorded(&mut self, command: Command) {
        self.log_command(&command);
        match self.check_state(&command) {
            Ok(()) => {
                self.execute(command);
            }
            Err(e) => self.emit(Event::CommandApplied { summary: format!("{} refused: {e}", command.summary()) }),
        }
    }

    /// Validates `command` now and applies it at true time `at` (not before now).
    pub fn schedule(&mut self, at: SimTime, command: Command) -> Result<(), CommandError> {
        command.validate(&self.config)?;
        let at = at.max(self.now);
        self.scheduled.push(command);
        self.push(at, Due::Command(self.scheduled.len() - 1));
        Ok(())
    }

    /// Refusals that depend on the current state rather than on the command alone.
    fn check_state(&self, command: &Command) -> Result<(), CommandError> {
        match command {
            Command::Pause { node } | Command::Resume { node } | Command::Crash { node }
                if self.node(*node).is_crashed() =>
            {
                return Err(CommandError::NodeCrashed { node: node.0 });
            }
            Command::Restart { node } if !self.node(*node).is_crashed() => {
                return Err(CommandError::NodeNotCrashed { node: node.0 });
            }
            _ => {}
        }
        Ok(())
    }

    fn execute(&mut self, command: Command) -> Option<OpId> {
        // Only the other commands report their summary (CommandApplied, below); a client
        // operation is described by its OpInvoked event.
        let summary = if command.is_client_op() { String::new() } else { command.summary() };
        match command {
            Command::Put { node, key, value } => {
                let kind = OpKind::Put { key: key.clone(), value: value.clone() };
                return Some(self.invoke_write(node, kind, Request::Put { key, value }));
            }
            Command::Delete { node, key } => {
                let kind = OpKind::Delete { key: key.clone() };
                return Some(self.invoke_write(node, kind, Request::Delete { key }));
            }
            Command::Read { node, key, mode } => return Some(self.invoke_read(node, key, mode)),
            Command::DeleteRange { node, key, end } => {
                let kind = OpKind::DeleteRange { key: key.clone(), end: end.clone() };
                return Some(self.invoke_write(node, kind, Request::DeleteRange { key, end }));
            }
            Command::Txn { node, compares, success, failure } => {
                let request = Request::Txn { compares, success, failure };
                let kind = OpKind::Txn { summary: request.summary() };
                return Some(self.invoke_write(node, kind, request));
            }
            Command::Compact { node, revision } => {
                return Some(self.invoke_write(node, OpKind::Compact { revision }, Request::Compact { revision }));
            }
            Command::PutWithLease { node, key, value, lease } => {
                let kind = OpKind::PutWithLease { key: key.clone(), value: value.clone(), lease };
                return Some(self.invoke_write(node, kind, Request::PutWithLease { key, value, lease }));
            }
            Command::LeaseGrant { node, id, ttl_ms } => {
                return Some(self.invoke_write(
                    node,
                    OpKind::LeaseGrant { id, ttl_ms },
                    Request::LeaseGrant { id, ttl_ms },
                ));
            }
            Command::LeaseRevoke { node, id } => {
                return Some(self.invoke_write(node, OpKind::LeaseRevoke { id }, Request::LeaseRevoke { id }));
            }
            Command::LeaseKeepAlive { node, id } => return Some(self.keep_alive(node, id)),
            Command::Partition { groups } => {
                let n = self.config.node_count;
                // Group number per node; unnamed nodes share the extra group `groups.len()`.
                let mut group = vec![groups.len(); n];
                for (g, members) in groups.iter().enumerate() {
                    for m in members {
                        group[m.index()] = g;
                    }
                }
                for a in 0..n {
                    for b in 0..n {
                        if a != b {
                            let (from, to) = (NodeId(a as u64 + 1), NodeId(b as u64 + 1));
                            self.network.set_cut(from, to, group[a] != group[b]);
                        }
                    }
                }
            }
            Command::Isolate { node } => {
                for other in 1..=self.config.node_count as u64 {
                    if other != node.0 {
                        self.network.set_cut(node, NodeId(other), true);
                        self.network.set_cut(NodeId(other), node, true);
                    }
                }
            }
            Command::CutLink { from, to } => self.network.set_cut(from, to, true),
            Command::HealLink { from, to } => self.network.set_cut(from, to, false),
            Command::HealAll => self.network.heal_all(),
            Command::SetWorkload { ops_per_sec } => {
                self.workload_generation += 1;
                self.workload_gap_us = if ops_per_sec == 0 { 0 } else { 1_000_000 / u64::from(ops_per_sec) };
                if self.workload_gap_us > 0 {
                    self.push(self.now.plus_us(self.workload_gap_us), Due::Workload(self.workload_generation));
                }
            }
            Command::SetLink { from, to, link } => self.network.link_mut(from, to).config = link,
            Command::SetNetwork { link } => {
                self.network.set_all_configs(&link);
                self.config.network = link;
            }
            Command::JumpClock { node, delta_us } => {
                let now = self.now;
                self.nodes[node.index()].clock.jump(now, delta_us);
                // A ticker re-arms relative to the new reading rather than firing a burst.
                self.rearm_tick(node);
            }
            Command::SetClockRate { node, rate_ppm } => {
                let now = self.now;
                self.nodes[node.index()].clock.set_rate(now, rate_ppm);
                let target = self.nodes[node.index()].next_tick_local;
                self.schedule_tick(node, target);
            }
            Command::Pause { node } => {
                let n = &mut self.nodes[node.index()];
                if !n.paused {
                    n.paused = true;
                    n.tick_generation += 1;
                    self.emit(Event::NodePaused { node });
                }
            }
            Command::Resume { node } => {
                if self.nodes[node.index()].paused {
                    self.nodes[node.index()].paused = false;
                    let queued = self.inboxes[node.index()].len();
                    self.emit(Event::NodeResumed { node, queued });
                    while let Some(input) = self.inboxes[node.index()].pop_front() {
                        self.handle_inbound(node, input);
                    }
                    self.rearm_tick(node);
                }
            }
            Command::Crash { node } => {
                self.nodes[node.index()].crash();
                self.track_local_reads(node);
                self.nodes[node.index()].tick_generation += 1;
                self.inboxes[node.index()].clear();
                self.emit(Event::NodeCrashed { node });
                self.end_tenure(node);
                self.fail_pending_at(node, "the node crashed before answering");
            }
            Command::Restart { node } => {
                let local = self.local(node);
                let applied = self.nodes[node.index()].restart(&self.config, local, self.out.get_or_insert_default());
                self.emit(Event::NodeRestarted { node, applied });
                self.flush_output(node);
                self.rearm_tick(node);
            }
        }
        self.emit(Event::CommandApplied { summary });
        None
    }

    fn log_command(&mut self, command: &Command) {
        if self.command_log.len() < COMMAND_LOG_MAX {
            self.command_log.push(LoggedCommand { at: self.now, after: self.steps, command: command.clone() });
        } else {
            self.command_log_truncated = true;
        }
    }

    /// Whether the command log stopped recording (the run is too long to replay from it).
    pub fn command_log_truncated(&self) -> bool {
        self.command_log_truncated
    }

    fn invoke_write(&mut self, node: NodeId, kind: OpKind, request: Request) -> OpId {
        let summary = kind.summary();
        self.make_room_in_history();
        let op = self.history.invoke(self.now, node, kind);
        self.emit(Event::OpInvoked { op, node, summary });
        let deadline = self.now.plus_us(u64::from(self.config.client_timeout_ms) * 1_000);
        self.push(deadline, Due::OpTimeout(op));
        let proposal = Proposal { op, request };
        let n = &self.nodes[node.index()];
        if n.is_crashed() {
            self.complete(op, OpOutcome::Failed { reason: format!("{node} is down: connection refused") });
        } else if n.paused {
            self.enqueue_paused(node, Inbound::Propose(proposal));
        } else {
            self.propose(node, proposal);
        }
        op
    }

    /// Issues one background operation and schedules the next: 40 % puts, 40 % linearizable
    /// and 20 % serializable reads, on keys `w0`–`w7`, half at the leader, half anywhere.
    fn workload_op(&mut self, generation: u64) {
        if generation != self.workload_generation || self.workload_gap_us == 0 {
            return;
        }
        self.push(self.now.plus_us(self.workload_gap_us), Due::Workload(generation));
        let n = self.nodes.len() as u64;
        let any = NodeId(1 + self.rng.gen_range(0..n));
        let node = if self.rng.gen_bool(0.5) { self.leader().unwrap_or(any) } else { any };
        let key = format!("w{}", self.rng.gen_range(0..8));
        self.workload_issued += 1;
        match self.rng.gen_range(0..10) {
            0..=3 => {
                let value = self.workload_issued.to_string();
                let kind = OpKind::Put { key: key.clone(), value: value.clone() };
                self.invoke_write(node, kind, Request::Put { key, value });
            }
            4..=7 => {
                self.invoke_read(node, key, ReadMode::Linearizable);
            }
            _ => {
                self.invoke_read(node, key, ReadMode::Serializable);
            }
        }
    }

    /// Background operations per simulated second (0: off).
    pub fn workload_ops_per_sec(&self) -> u32 {
        1_000_000u64.checked_div(self.workload_gap_us).map_or(0, |r| r as u32)
    }

    fn invoke_read(&mut self, node: NodeId, key: String, mode: ReadMode) -> OpId {
        let kind = OpKind::Read { key: key.clone(), mode };
        let summary = kind.summary();
        self.make_room_in_history();
        let op = self.history.invoke(self.now, node, kind);
        self.emit(Event::OpInvoked { op, node, summary });
        let deadline = self.now.plus_us(u64::from(self.config.client_timeout_ms) * 1_000);
        self.push(deadline, Due::OpTimeout(op));
        let n = &self.nodes[node.index()];
        if n.is_crashed() {
            self.complete(op, OpOutcome::Failed { reason: format!("{node} is down: connection refused") });
        } else if n.paused {
            let local = self.local(node);
            self.history.read_step(op, self.now, local, format!("{node} is paused: the request waits in its inbox"));
            self.enqueue_paused(node, Inbound::Read { op, key, mode });
        } else {
            self.read(node, op, key, mode);
        }
        op
    }

    /// Keep-alives are answered by the node at once (the leader's lessor, on its clock).
    fn keep_alive(&mut self, node: NodeId, id: u64) -> OpId {
        let kind = OpKind::LeaseKeepAlive { id };
        let summary = kind.summary();
        self.make_room_in_history();
        let op = self.history.invoke(self.now, node, kind);
        self.emit(Event::OpInvoked { op, node, summary });
        let n = &self.nodes[node.index()];
        let outcome = if n.is_crashed() {
            OpOutcome::Failed { reason: format!("{node} is down: connection refused") }
        } else if n.paused {
            OpOutcome::Failed { reason: format!("{node} is paused: no answer") }
        } else {
            let local = self.local(node);
            let result = self.nodes[node.index()].key_lease_keep_alive(
                id,
                &self.config,
                local,
                self.out.get_or_insert_default(),
            );
            self.flush_output(node);
            match result {
                Ok(_) => {
                    let revision = self.nodes[node.index()].kv().map_or(0, |kv| kv.revision());
                    OpOutcome::Ok { revision }
                }
                Err(reason) => OpOutcome::Failed { reason },
            }
        };
        self.complete(op, outcome);
        op
    }

    fn read(&mut self, node: NodeId, op: OpId, key: String, mode: ReadMode) {
        let local = self.local(node);
        self.nodes[node.index()].read(op, &key, mode, &self.config, local, self.out.get_or_insert_default());
        self.flush_output(node);
    }

    fn propose(&mut self, node: NodeId, proposal: Proposal) {
        let op = proposal.op;
        let local = self.local(node);
        let result = self.nodes[node.index()].propose(&proposal, &self.config, local, self.out.get_or_insert_default());
        self.flush_output(node);
        if let Err(e) = result {
            let reason = match e {
                raft::Error::ProposalDropped => {
                    format!("{node} knows no leader: raft dropped the proposal")
                }
                // raft-rs refuses a proposal only by dropping it; anything else would be a
                // storage failure, which the simulated disk never has (and raft-rs's error
                // texts would cost the page's wasm for nothing).
                _ => "raft refused the proposal".to_string(),
            };
            self.complete(op, OpOutcome::Failed { reason });
        }
    }

    /// Makes room for one more operation record: before the full history forgets its oldest
    /// batch, the checker judges whatever it can of it.
    fn make_room_in_history(&mut self) {
        if self.history.is_full() {
            self.checker.update(&self.history);
            self.history.forget_oldest(HISTORY_FORGET_BATCH);
        }
    }

    /// Brings the linearizability checker up to the present (it runs incrementally: only
    /// operations finished since the last call are new to it).
    pub fn check(&mut self) -> &Checker {
        self.checker.update(&self.history);
        &self.checker
    }

    /// The checker as of its last [`Sim::check`] (or the history's last trim).
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    fn complete(&mut self, op: OpId, outcome: OpOutcome) {
        if self.history.complete(op, self.now, outcome.clone()) {
            let node = self.history.get(op).map_or(NodeId::NONE, |r| r.node);
            self.emit(Event::OpCompleted { op, node, outcome });
        }
    }

    /// Ends every operation pending at `node`: reads certainly failed (they change nothing);
    /// writes may or may not have taken effect.
    fn fail_pending_at(&mut self, node: NodeId, reason: &str) {
        let pending: Vec<(OpId, bool)> = self
            .history
            .iter()
            .filter(|r| r.node == node && r.outcome == OpOutcome::Pending)
            .map(|r| (r.id, r.kind.is_read()))
            .collect();
        for (op, is_read) in pending {
            let reason = reason.to_string();
            let outcome = if is_read { OpOutcome::Failed { reason } } else { OpOutcome::Indeterminate { reason } };
            self.complete(op, outcome);
        }
    }

    fn time_out(&mut self, op: OpId) {
        let Some(record) = self.history.get(op) else {
            return;
        };
        if record.outcome != OpOutcome::Pending {
            return;
        }
        let node = record.node;
        if record.kind.is_read() {
            if !self.nodes[node.index()].is_crashed() {
                self.nodes[node.index()].abandon_read(op);
            }
            let local = self.local(node);
            self.history.read_step(op, self.now, local, "client timeout: no answer".into());
            self.complete(op, OpOutcome::Failed { reason: "read timed out".into() });
        } else {
            self.complete(op, OpOutcome::Indeterminate { reason: "timed out waiting for the answer".into() });
        }
    }

    // ---------------------------------------------------------------- the event loop

    fn push(&mut self, at: SimTime, due: Due) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let scheduled = Scheduled { at, seq, due };
        if matches!(scheduled.due, Due::OpTimeout(_)) && self.deadlines.back().is_none_or(|last| last.at <= at) {
            self.deadlines.push_back(scheduled);
        } else {
            // Out of order only when the client timeout was shortened mid-run.
            self.queue.push(Reverse(scheduled));
        }
    }

    /// The earliest scheduled work, from the heap or the deadline FIFO.
    fn peek_due(&self) -> Option<&Scheduled> {
        match (self.queue.peek(), self.deadlines.front()) {
            (Some(Reverse(h)), Some(d)) => Some(if d < h { d } else { h }),
            (Some(Reverse(h)), None) => Some(h),
            (None, d) => d,
        }
    }

    fn pop_due(&mut self) -> Option<Scheduled> {
        let from_fifo = match (self.queue.peek(), self.deadlines.front()) {
            (Some(Reverse(h)), Some(d)) => d < h,
            (None, Some(_)) => true,
            _ => false,
        };
        if from_fifo {
            self.deadlines.pop_front()
        } else {
            self.queue.pop().map(|Reverse(s)| s)
        }
    }

    fn emit(&mut self, event: Event) {
        self.trace.push(self.now, event);
    }

    /// True time of the next due work, if any.
    pub fn next_due(&self) -> Option<SimTime> {
        self.peek_due().map(|s| s.at)
    }

    /// Handles the earliest due work. Returns false if nothing is scheduled.
    /// A replayed command due now counts as one piece of work.
    pub fn step(&mut self) -> bool {
        self.apply_due_replay(SimTime(u64::MAX)) || self.handle_next()
    }

    fn handle_next(&mut self) -> bool {
        let Some(next) = self.pop_due() else {
            return false;
        };
        debug_assert!(next.at >= self.now);
        self.now = next.at;
        match next.due {
            Due::Deliver(id) => self.deliver(id),
            Due::Tick { node, generation } => self.tick(node, generation),
            Due::OpTimeout(op) => self.time_out(op),
            Due::Workload(generation) => self.workload_op(generation),
            Due::Command(i) => {
                let command = self.scheduled[i].clone();
                self.run_recorded(command);
                return true;
            }
        }
        self.steps += 1;
        true
    }

    /// Runs every piece of work due at or before `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: SimTime) {
        loop {
            if self.apply_due_replay(until) {
                continue;
            }
            if self.next_due().is_none_or(|at| at > until) {
                break;
            }
            self.handle_next();
        }
        self.now = self.now.max(until);
    }

    /// Like [`Sim::run_until`] but handles at most `budget` items; returns whether `until`
    /// was reached. The page uses it so one frame never blocks for long.
    pub fn run_until_bounded(&mut self, until: SimTime, budget: usize) -> bool {
        for _ in 0..budget {
            if self.apply_due_replay(until) {
                continue;
            }
            if self.next_due().is_none_or(|at| at > until) {
                self.now = self.now.max(until);
                return true;
            }
            self.handle_next();
        }
        false
    }

    pub fn run_for_ms(&mut self, ms: u64) {
        self.run_until(self.now.plus_us(ms * 1_000));
    }

    fn schedule_tick(&mut self, node: NodeId, target: LocalTime) {
        let n = &mut self.nodes[node.index()];
        n.tick_generation += 1;
        n.next_tick_local = target;
        let generation = n.tick_generation;
        let at = n.clock.true_time_reaching(self.now, target);
        self.push(at, Due::Tick { node, generation });
    }

    /// Schedules the next tick one tick after the node's current local reading.
    fn rearm_tick(&mut self, node: NodeId) {
        let local = self.nodes[node.index()].clock.local_at(self.now);
        let tick = self.tick_us();
        self.schedule_tick(node, local.plus_us(tick));
    }

    fn tick(&mut self, node: NodeId, generation: u64) {
        let n = &self.nodes[node.index()];
        if n.tick_generation != generation || n.is_crashed() || n.paused {
            return;
        }
        let local = self.local(node);
        self.nodes[node.index()].tick(&self.config, local, self.out.get_or_insert_default());
        self.flush_output(node);
        let next = self.nodes[node.index()].next_tick_local.plus_us(self.tick_us());
        self.schedule_tick(node, next);
    }

    fn deliver(&mut self, id: u64) {
        let (from, to, kind, lost) = self.network.arriving(id);
        let dest = &self.nodes[to.index()];
        let lost = lost.or(dest.is_crashed().then_some(crate::event::DropReason::NodeDown));
        let paused = dest.paused;
        self.snapshot_fate(from, to, kind, lost.is_none());
        if let Some(reason) = lost {
            self.network.take(id);
            self.emit(Event::MessageDropped { id, from, to, kind, reason });
            return;
        }
        self.emit(Event::MessageDelivered { id, from, to, kind });
        let msg = self.network.take(id);
        if paused {
            self.enqueue_paused(to, Inbound::Message(msg));
        } else {
            self.step_node(to, msg);
        }
    }

    /// Once the network has decided a message's fate: a raft snapshot's sender hears of it
    /// (`Node::report_snapshot`).
    fn snapshot_fate(&mut self, from: NodeId, to: NodeId, kind: MsgKind, delivered: bool) {
        if kind == MsgKind::Snapshot {
            self.nodes[from.index()].report_snapshot(to, delivered);
        }
    }

    fn step_node(&mut self, node: NodeId, msg: Message) {
        let local = self.local(node);
        self.nodes[node.index()].step(msg, &self.config, local, self.out.get_or_insert_default());
        self.flush_output(node);
    }

    fn enqueue_paused(&mut self, node: NodeId, input: Inbound) {
        let inbox = &mut self.inboxes[node.index()];
        if inbox.len() < PAUSED_INBOX_MAX {
            inbox.push_back(input);
        }
    }

    fn handle_inbound(&mut self, node: NodeId, input: Inbound) {
        match input {
            Inbound::Message(msg) => self.step_node(node, msg),
            Inbound::Propose(proposal) => self.propose(node, proposal),
            Inbound::Read { op, key, mode } => self.read(node, op, key, mode),
        }
    }

    /// Updates `node`'s local-read span after it did something (a renewal extends the span; a
    /// step-down, revoke or crash ends it now).
    fn track_local_reads(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        if self.open_local_read[node.index()].is_none() && !n.is_leader() {
            // Only a leader believes it may read locally (the common case: a follower).
            return;
        }
        let local = n.clock.local_at(self.now);
        let until =
            n.local_read_until(local, self.config.leader_lease.policy).map(|u| n.clock.true_time_reaching(self.now, u));
        let term = n.term();
        // Under LeaseBased the belief is "I am leader", continuous between two looks unless a
        // role change (which is itself a look) ended it; a lease can lapse between looks.
        let continuous = self.config.leader_lease.policy == crate::leader_lease::LeaderLeasePolicy::RaftLeaseBased;
        let open = &mut self.open_local_read[node.index()];
        match (until, open.as_mut()) {
            (Some(until), Some(span)) if span.term == term && (continuous || span.until >= self.now) => {
                span.until = span.until.max(until);
                return;
            }
            (None, None) => return,
            (None, Some(span)) if continuous => span.until = self.now,
            (None, Some(span)) => span.until = span.until.min(self.now),
            (Some(_), None) => {}
            (Some(_), Some(_)) => {}
        }
        if let Some(closed) = open.take() {
            if self.local_read_spans.len() == LOCAL_READ_SPANS_MAX {
                self.local_read_spans.pop_front();
            }
            self.local_read_spans.push_back(closed);
        }
        if let Some(until) = until {
            self.open_local_read[node.index()] = Some(LocalReadSpan { node, term, from: self.now, until });
        }
    }

    /// Turns what a node produced into network sends, history updates and events.
    fn flush_output(&mut self, node: NodeId) {
        self.track_local_reads(node);
        let Some(mut out) = self.out.take() else {
            return;
        };
        if let Some((role, term, leader)) = out.role_change.take() {
            self.emit(Event::RoleChanged { node, role, term, leader });
            self.end_tenure(node);
            if role == Role::Leader {
                if self.leader_tenures.len() == LEADER_TENURES_MAX {
                    self.leader_tenures.pop_front();
                }
                self.leader_tenures.push_back(LeaderTenure { elected: self.now, node, term, ended: None });
            }
        }
        if let Some((index, term)) = out.snapshot_installed.take() {
            self.emit(Event::SnapshotInstalled { node, index, term });
        }
        for applied in out.applied_ops.drain(..) {
            // Only an entry's first apply anywhere has something to record; later ones may
            // still answer their client (the node it was sent to).
            let first_apply = applied.index > out.effects_recorded_through;
            out.effects_recorded_through = out.effects_recorded_through.max(applied.index);
            let outcome = match &applied.error {
                None => OpOutcome::Ok { revision: applied.revision },
                Some(reason) => OpOutcome::Failed { reason: reason.clone() },
            };
            if applied.op == OpId(0) {
                // The node's own proposal (a key lease expiry's revoke): record its effects
                // once, at its first apply, so the checker knows those keys were deleted.
                if !applied.effects.is_empty() && self.internal_applied.insert(applied.index) {
                    if self.internal_applied.len() > INTERNAL_APPLIED_REMEMBERED {
                        self.internal_applied.pop_first();
                    }
                    self.make_room_in_history();
                    self.history.record_internal(self.now, node, applied.index, applied.revision, applied.effects);
                }
                continue;
            }
            if first_apply {
                let write = AppliedWrite {
                    index: applied.index,
                    at: self.now,
                    revision: applied.revision,
                    effects: applied.effects,
                    result: applied.result,
                };
                self.history.set_applied(applied.op, write);
            }
            if self.history.get(applied.op).is_some_and(|r| r.node == node) {
                self.complete(applied.op, outcome);
            }
        }
        if !out.read_notes.is_empty() {
            let local = self.local(node);
            for (op, text) in out.read_notes.drain(..) {
                self.history.read_step(op, self.now, local, text);
            }
        }
        for (op, path) in out.reads_started.drain(..) {
            self.history.read_path(op, path);
        }
        for done in out.reads_done.drain(..) {
            let lag = match (&done.result, done.path) {
                (Ok(v), ReadPath::Serializable) => {
                    let leader_revision = self
                        .leader()
                        .and_then(|l| self.nodes[l.index()].kv().map(|kv| kv.revision()))
                        .unwrap_or(v.revision);
                    Some(leader_revision.saturating_sub(v.revision))
                }
                _ => None,
            };
            if matches!(done.path, ReadPath::LeaseRead | ReadPath::RaftLeaseBased) && done.result.is_ok() {
                // The simulator's omniscient footnote: what the serving node could not know.
                let clock = &self.nodes[node.index()].clock;
                let newest = self.leader().filter(|l| *l != node).map_or(String::new(), |l| {
                    format!("; newest leader is {l} (term {})", self.nodes[l.index()].term())
                });
                let text = format!(
                    "simulator: served at true {}; {node} clock {:.2}× with offset {:+.1} ms{newest}",
                    self.now,
                    f64::from(clock.rate_ppm()) / 1e6,
                    clock.offset_at(self.now) as f64 / 1_000.0
                );
                let local = self.local(node);
                self.history.read_step(done.op, self.now, local, text);
            }
            let value = done.result.as_ref().ok().cloned();
            self.history.read_finished(done.op, done.path, done.read_index, done.retries, value, lag);
            let outcome = match done.result {
                Ok(v) => OpOutcome::Ok { revision: v.revision },
                Err(reason) => OpOutcome::Failed { reason },
            };
            self.complete(done.op, outcome);
        }
        if let Some(commit) = out.commit_advanced.take() {
            self.emit(Event::CommitAdvanced { node, commit });
        }
        for (id, keys) in out.key_leases_revoked.drain(..) {
            if let std::collections::btree_map::Entry::Vacant(e) = self.key_leases_revoked.entry(id) {
                e.insert(self.now);
                self.trace.push(self.now, Event::KeyLeaseRevoked { id, node, keys });
            }
        }
        if let Some(through) = out.compacted_through.take() {
            self.emit(Event::LogCompacted { node, through });
        }
        for (from, kind, ticks_left) in out.votes_withheld.drain(..) {
            self.emit(Event::VoteWithheld { node, from, kind, ticks_left });
        }
        for msg in out.messages.drain(..) {
            self.send(msg);
        }
        self.out = Some(out);
    }

    /// The client read a message works for, if it carries a read's ReadIndex context.
    fn read_of(msg: &Message) -> Option<OpId> {
        let ctx: &[u8] =
            if !msg.context.is_empty() { &msg.context } else { msg.entries.first().map_or(&[][..], |e| &e.data[..]) };
        match parse_context(ctx) {
            Some(Context::Read(op)) => Some(op),
            _ => None,
        }
    }

    fn send(&mut self, msg: Message) {
        let (from, to, term) = (NodeId(msg.from), NodeId(msg.to), msg.term);
        let kind = msg.get_msg_type().into();
        let read = Self::read_of(&msg);
        let sent = self.network.send(self.now, &mut self.rng, msg);
        if let Some(op) = read {
            let id = match &sent {
                Sent::Queued { id, .. } | Sent::Dropped { id, .. } => *id,
            };
            self.history.read_message(op, id);
        }
        match sent {
            Sent::Queued { id, deliver_at, copy } => {
                self.emit(Event::MessageSent { id, from, to, kind, term, deliver_at });
                self.push(deliver_at, Due::Deliver(id));
                if let Some((copy, copy_at)) = copy {
                    self.emit(Event::MessageDuplicated { id, copy, deliver_at: copy_at });
                    self.push(copy_at, Due::Deliver(copy));
                }
            }
            Sent::Dropped { id, reason } => {
                self.emit(Event::MessageDropped { id, from, to, kind, reason });
                self.snapshot_fate(from, to, kind, false);
            }
        }
    }

    // ---------------------------------------------------------------- views

    pub fn snapshot(&self) -> Snapshot {
        let nodes = self
            .nodes
            .iter()
            .map(|n| {
                let kv = n.kv();
                NodeView {
                    id: n.id,
                    role: n.role(),
                    term: n.term(),
                    leader: n.leader(),
                    commit: n.commit(),
                    applied: n.applied(),
                    first_index: n.first_index(),
                    last_index: n.last_index(),
                    local_time: n.clock.local_at(self.now),
                    offset_us: n.clock.offset_at(self.now),
                    rate_ppm: n.clock.rate_ppm(),
                    paused: n.paused,
                    crashed: n.is_crashed(),
                    election_timeout_ticks: n.election_timeout_ticks(),
                    revision: kv.map_or(0, |k| k.revision()),
                    key_count: kv.map_or(0, |k| k.len()),
                    keys: kv.map_or_else(Vec::new, |k| k.mvcc().live(SNAPSHOT_KEYS_MAX)),
                    compacted_revision: kv.map_or(0, |k| k.compacted_revision()),
                    leader_lease: n.leader_lease_stats(n.clock.local_at(self.now)),
                    pending_reads: n.pending_reads(),
                    key_leases: kv.map_or_else(Vec::new, |k| {
                        let now = n.clock.local_at(self.now);
                        k.lessor()
                            .leases()
                            .take(SNAPSHOT_KEYS_MAX)
                            .map(|l| KeyLeaseView {
                                id: l.id,
                                ttl_ms: l.ttl_ms,
                                remaining_ms: k.lessor().expiry(l.id).map(|e| ((e.0 - now.0) / 1_000).max(0)),
                                checkpoint_ms: l.remaining_ms,
                                keys: l.keys.iter().cloned().collect(),
                            })
                            .collect()
                    }),
                    lessor_primary: kv.is_some_and(|k| k.lessor().is_primary()),
                }
            })
            .collect();
        let links = self
            .network
            .links()
            .map(|(from, to, l)| LinkView { from, to, cut: l.cut, config: l.config.clone() })
            .collect();
        let messages = self
            .network
            .in_flight()
            .take(SNAPSHOT_MESSAGES_MAX)
            .map(|m| MessageView {
                id: m.id,
                from: m.from,
                to: m.to,
                kind: m.kind,
                term: m.msg.term,
                sent_at: m.sent_at,
                deliver_at: m.deliver_at,
            })
            .collect();
        let recent_ops: Vec<OpRecord> = self.history.iter().rev().take(SNAPSHOT_OPS_MAX).cloned().collect();
        Snapshot {
            seed: self.seed,
            now: self.now,
            config: self.config.clone(),
            nodes,
            links,
            messages,
            messages_in_flight: self.network.in_flight_len(),
            recent_ops,
            leader: self.leader(),
            event_count: self.trace.len(),
            trace_hash: self.trace.hash(),
            workload_ops_per_sec: self.workload_ops_per_sec(),
        }
    }

    /// Roles of running nodes, for quick checks.
    pub fn roles(&self) -> Vec<Option<Role>> {
        self.nodes.iter().map(|n| n.role()).collect()
    }
}
