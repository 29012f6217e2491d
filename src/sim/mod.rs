//! The discrete-event simulator. [`Sim`] is the handle the page, the command line and the
//! tests hold; behind it each concern has a room of its own:
//!
//! * [`agenda`] — the work due at each point in true time, in (time, sequence) order;
//! * [`world`] — the nodes, the machine each runs on (clock, pause, ticks), the network and
//!   the seeded RNG;
//! * [`recorder`] — the history of client operations, the checker over it, the trace and
//!   the leader tenures and local-read spans the space-time diagram draws;
//! * [`replay`] — the command log and the recorded commands a replay re-applies;
//! * [`workload`] — the seeded background load;
//! * `client.rs` (client operations), `faults.rs` (faults and process control), `drive.rs`
//!   (ticking and stepping nodes, routing what they produce) and `view.rs` (the snapshot)
//!   hold the handle's own methods, by concern.
//!
//! **Architecture invariant:** the simulator never reads wall-clock time or unseeded
//! randomness, and never iterates a hash map; with the same seed and command log it emits a
//! byte-identical trace on every platform.

mod agenda;
mod client;
mod drive;
mod faults;
mod membership;
mod recorder;
mod replay;
mod view;
mod watches;
mod workload;
mod world;

pub use recorder::{EntryLease, LeaderTenure, LocalReadSpan};
pub use replay::{LoggedCommand, COMMAND_LOG_MAX};
pub use watches::{ReceivedEvent, WatchLog, WATCHES_MAX, WATCH_EVENTS_KEPT};
pub use world::Machine;

use crate::checker::Checker;
use crate::clock::NodeClock;
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::error::{CommandError, ConfigError};
use crate::event::{Event, Trace, TracedEvent};
use crate::history::History;
use crate::network::Network;
use crate::node::Node;
use crate::time::{LocalTime, SimTime};
use crate::types::{NodeId, OpId, Role};
use agenda::{Agenda, Due};
use rand::Rng;
use recorder::Recorder;
use replay::{Next, Position, Replay};
use std::collections::VecDeque;
use workload::Workload;
use world::World;

/// A clone is a full, independent copy (nodes get their own disks): time travel keeps
/// clones as checkpoints.
#[derive(Clone)]
pub struct Sim {
    seed: u64,
    config: ClusterConfig,
    now: SimTime,
    /// Events handled so far (scheduled commands not counted: a replay has no such events).
    steps: u64,
    agenda: Agenda,
    world: World,
    recorder: Recorder,
    replay: Replay,
    workload: Workload,
    /// A membership change waiting for leadership to move off a node it removes.
    membership_pending: Option<crate::membership::MembershipChange>,
}

impl Sim {
    /// A fresh cluster at true time zero. Every random choice comes from `seed`.
    pub fn new(seed: u64, config: ClusterConfig) -> Result<Sim, ConfigError> {
        config.validate()?;
        let mut sim = Sim {
            seed,
            now: SimTime::ZERO,
            steps: 0,
            agenda: Agenda::default(),
            world: World::new(seed, &config),
            recorder: Recorder::new(config.node_count),
            replay: Replay::default(),
            workload: Workload::default(),
            membership_pending: None,
            config,
        };
        for i in 0..sim.world.nodes.len() {
            // Random phase so nodes do not tick in lockstep.
            let phase = sim.world.rng.gen_range(1..=sim.tick_us());
            let node = NodeId(i as u64 + 1);
            let local = sim.local_time(node);
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
        &self.world.nodes
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.world.nodes[id.index()]
    }
    /// The machine `id` runs on: its clock and whether its process is paused.
    pub fn machine(&self, id: NodeId) -> &Machine {
        &self.world.machines[id.index()]
    }
    /// `id`'s clock.
    pub fn clock(&self, id: NodeId) -> &NodeClock {
        &self.machine(id).clock
    }
    /// `id`'s clock reading now.
    pub fn local_time(&self, id: NodeId) -> LocalTime {
        self.world.local(id, self.now)
    }
    /// The newest `count` entries of `id`'s raft log (for the inspector).
    pub fn log_tail(&self, id: NodeId, count: usize) -> Vec<crate::snapshot::LogEntryView> {
        let lease_guard = self.config.leader_lease.policy == crate::leader_lease::LeaderLeasePolicy::LeaseGuard;
        let lease_us = lease_guard.then(|| i64::from(self.config.leader_lease.lease_guard_lease_ms) * 1_000);
        crate::snapshot::log_tail(self.node(id), count, lease_us)
    }
    pub fn network(&self) -> &Network {
        &self.world.network
    }
    pub fn history(&self) -> &History {
        &self.recorder.history
    }
    pub fn trace(&self) -> &Trace {
        &self.recorder.trace
    }
    pub fn trace_hash(&self) -> u64 {
        self.recorder.trace.hash()
    }
    pub fn command_log(&self) -> &[LoggedCommand] {
        &self.replay.log
    }
    /// The command log, for time travel to set aside while it clones (its checkpoints share
    /// the timeline's copy of the log instead of holding their own).
    pub(crate) fn command_log_mut(&mut self) -> &mut Vec<LoggedCommand> {
        &mut self.replay.log
    }
    /// Drops what a time-travel checkpoint need not hold: events but the newest
    /// [`TRACE_CHECKPOINT_KEPT`](crate::event::TRACE_CHECKPOINT_KEPT) (older ones live on in the
    /// hash) and finished operation records the checker has judged, but the newest
    /// [`HISTORY_CHECKPOINT_KEPT`](crate::history::HISTORY_CHECKPOINT_KEPT) and the stale reads.
    pub(crate) fn thin_for_checkpoint(&mut self) {
        self.recorder.trace.keep_last(crate::event::TRACE_CHECKPOINT_KEPT);
        let checker = &self.recorder.checker;
        // The page explains stale reads from their records: those stay too.
        let mut stale: Vec<OpId> = checker.stale_reads().iter().map(|s| s.read).collect();
        crate::order::sort_by_key(&mut stale, |op| (op.0, 0, 0));
        self.recorder.history.thin_for_checkpoint(|op| checker.needs_record(op) || stale.binary_search(&op).is_ok());
    }
    /// Events handled so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// (true time, node, term) of each node becoming leader, oldest first (bounded).
    pub fn leader_changes(&self) -> impl Iterator<Item = (SimTime, NodeId, u64)> + '_ {
        self.recorder.leader_tenures().map(|t| (t.elected, t.node, t.term))
    }
    /// Each node's tenures as leader, oldest first (bounded): who led when, however long ago
    /// the election scrolled out of the trace.
    pub fn leader_tenures(&self) -> impl Iterator<Item = &LeaderTenure> {
        self.recorder.leader_tenures()
    }
    /// Spans of true time in which leaders believed they could answer reads locally, oldest
    /// first (bounded; the open ones last).
    /// Under LeaseGuard, the leases of the entries leaders committed (the newest 512).
    pub fn entry_leases(&self) -> impl Iterator<Item = &EntryLease> {
        self.recorder.entry_leases()
    }

    pub fn local_read_spans(&self) -> impl Iterator<Item = LocalReadSpan> + '_ {
        self.recorder.local_read_spans()
    }
    /// When key lease `id` was first revoked (expired or revoked by a client), if it was.
    pub fn key_lease_revoked_at(&self, id: u64) -> Option<SimTime> {
        self.recorder.key_lease_revoked_at(id)
    }
    /// Retained events with `seq >= from`.
    pub fn events_since(&self, from: u64) -> impl Iterator<Item = &TracedEvent> {
        self.recorder.trace.since(from)
    }
    /// The leader of the highest term among running leaders, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.world.leader()
    }
    /// Roles of running nodes, for quick checks.
    pub fn roles(&self) -> Vec<Option<Role>> {
        self.world.nodes.iter().map(|n| n.role()).collect()
    }
    /// Background operations per simulated second (0: off).
    pub fn workload_ops_per_sec(&self) -> u32 {
        self.workload.ops_per_sec()
    }
    /// Brings the linearizability checker up to the present (it runs incrementally: only
    /// operations finished since the last call are new to it).
    pub fn check(&mut self) -> &Checker {
        self.recorder.checker.update(&self.recorder.history);
        &self.recorder.checker
    }
    /// The checker as of its last [`Sim::check`] (or the history's last trim).
    pub fn checker(&self) -> &Checker {
        &self.recorder.checker
    }

    fn tick_us(&self) -> i64 {
        i64::from(self.config.tick_ms) * 1_000
    }
    fn position(&self) -> Position {
        Position { now: self.now, steps: self.steps }
    }
    fn emit(&mut self, event: Event) {
        self.recorder.emit(self.now, event);
    }

    // ---------------------------------------------------------------- commands

    /// Applies `command` now. Invalid commands change nothing and say why. Client operations
    /// return their operation id.
    ///
    /// A command applied while a replay is pending forks the run: the recorded future is
    /// dropped and this command starts a new one.
    pub fn apply(&mut self, command: Command) -> Result<Option<OpId>, CommandError> {
        self.check_state(&command)?;
        self.replay.pending.clear();
        self.replay.record(self.position(), &command);
        Ok(self.execute(command))
    }

    /// Queues recorded commands to re-apply at their recorded positions as the run proceeds:
    /// `commands` must continue this run's own log (a shared run, or the future after a
    /// time-travel checkpoint). Refused if they are out of order or already in the past.
    pub fn set_replay(&mut self, commands: Vec<LoggedCommand>) -> Result<(), String> {
        self.replay.queue(self.position(), commands)
    }

    /// Drops the recorded commands not yet re-applied (the run forks here).
    pub(crate) fn clear_replay(&mut self) {
        self.replay.pending.clear();
    }

    /// Why the replay stopped early, if the run left the recording.
    pub fn replay_diverged(&self) -> Option<&str> {
        self.replay.diverged.as_deref()
    }

    /// Recorded commands not yet re-applied.
    pub fn pending_replay(&self) -> &VecDeque<LoggedCommand> {
        &self.replay.pending
    }

    /// Whether the command log stopped recording (the run is too long to replay from it).
    pub fn command_log_truncated(&self) -> bool {
        self.replay.truncated
    }

    /// Re-applies the next recorded command if the run has reached its position (and its
    /// time is not after `until`). A scheduled command that was refused is refused again, so
    /// the replay emits exactly the original events.
    fn apply_due_replay(&mut self, until: SimTime) -> bool {
        match self.replay.next(self.position(), self.next_due(), until) {
            Next::Apply(logged) => {
                self.now = self.now.max(logged.at);
                self.run_recorded(logged.command);
                true
            }
            Next::Wait | Next::Diverged => false,
        }
    }

    /// A command whose state checks happen when it runs (scheduled or replayed): refused
    /// ones are recorded too, since the refusal is an event.
    fn run_recorded(&mut self, command: Command) {
        self.replay.record(self.position(), &command);
        match self.check_state(&command) {
            Ok(()) => {
                self.execute(command);
            }
            Err(e) => self.emit(Event::CommandApplied { summary: format!("{} refused: {e}", command.summary()) }),
        }
    }

    /// Validates `command` now and applies it at true time `at` (not before now).
    pub fn schedule(&mut self, at: SimTime, command: Command) -> Result<(), CommandError> {
        // Nodes added by then may be named; the check against the cluster is made when it runs.
        command.validate_in(crate::config::NODES_MAX)?;
        self.agenda.push_command(at.max(self.now), command);
        Ok(())
    }

    /// Refusals that depend on the current state rather than on the command alone.
    fn check_state(&self, command: &Command) -> Result<(), CommandError> {
        command.validate_in(self.world.nodes.len())?;
        match command {
            Command::Pause { node } | Command::Resume { node } | Command::Crash { node }
                if self.node(*node).is_crashed() =>
            {
                return Err(CommandError::NodeCrashed { node: node.0 });
            }
            Command::Restart { node } if !self.node(*node).is_crashed() => {
                return Err(CommandError::NodeNotCrashed { node: node.0 });
            }
            Command::Watch { .. } => return self.check_watch_room(),
            Command::TransferLeader { to } => return self.check_transfer(*to),
            Command::AddLearner | Command::ChangeMembership { .. } => return self.check_membership(command),
            Command::CancelWatch { watch } | Command::RequestWatchProgress { watch } => {
                return self.check_watch(*watch);
            }
            _ => {}
        }
        Ok(())
    }

    /// Carries out a command that passed its checks.
    fn execute(&mut self, command: Command) -> Option<OpId> {
        if command.is_client_op() {
            // A client operation is described by its OpInvoked event.
            return Some(self.execute_client(command));
        }
        // The other commands report their summary once they took effect.
        let summary = command.summary();
        match command {
            Command::Watch { node, watch } => {
                let id = self.new_watch(node, watch.clone());
                self.emit(Event::CommandApplied { summary: format!("{summary}: watch {id}") });
                self.open_watch(node, id, watch);
                return None;
            }
            Command::CancelWatch { watch } => self.cancel_watch(watch),
            Command::RequestWatchProgress { watch } => self.request_watch_progress(watch),
            command @ (Command::AddLearner | Command::ChangeMembership { .. }) => {
                let done = self.execute_membership(command);
                self.emit(Event::CommandApplied { summary: summary + &done });
                return None;
            }
            command => self.execute_fault(command),
        }
        self.emit(Event::CommandApplied { summary });
        None
    }

    // ---------------------------------------------------------------- the event loop

    /// True time of the next due work, if any.
    pub fn next_due(&self) -> Option<SimTime> {
        self.agenda.peek().map(|s| s.at)
    }

    /// Handles the earliest due work. Returns false if nothing is scheduled.
    /// A replayed command due now counts as one piece of work.
    pub fn step(&mut self) -> bool {
        self.apply_due_replay(SimTime(u64::MAX)) || self.handle_next()
    }

    // Natively inlined into the run loops: with the agenda's hand-written order the optimizer
    // stopped doing so, and the run cost 1.6 % more instructions. The page's size-optimized
    // wasm keeps one copy.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn handle_next(&mut self) -> bool {
        let Some(next) = self.agenda.pop() else {
            return false;
        };
        debug_assert!(next.at >= self.now);
        self.now = next.at;
        match next.due {
            Due::Deliver(id) => self.deliver(id),
            Due::Tick { node, generation } => self.tick(node, generation),
            Due::OpTimeout(op) => self.time_out(op),
            Due::Workload(generation) => self.workload_op(generation),
            Due::KeepAliveRetry { node, op, id, header_revision } => {
                self.keep_alive_retry_due(node, op, id, header_revision);
            }
            Due::Command(i) => {
                let command = self.agenda.command(i).clone();
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
}
