//! Time travel: scrub back to any earlier true time, then fork.
//!
//! A run is its seed, its config and its command log, so any earlier state can be rebuilt by
//! replaying. Replaying an hour from zero takes seconds, so the timeline keeps *checkpoints*:
//! clones of the simulation at fixed true times (`Sim` is `Clone`; see the vendored raft-rs
//! note in ARCHITECTURE.md), without the old events and finished operation records a restored
//! run never reads again (`Sim::thin_for_checkpoint`). A scrub restores the nearest checkpoint at or before the
//! target and replays only the rest. There are at most [`CHECKPOINTS_MAX`]: when full, every
//! other one is dropped and the spacing doubles, so a long run keeps a bounded number with a
//! replay distance proportional to its length.
//!
//! The timeline remembers the *recorded* command log of its branch, which runs past the
//! present after a scrub back. Running forward re-applies those recorded commands at their
//! recorded positions; issuing a new command in the past forks: the recorded future and the
//! checkpoints after the present are dropped.

use crate::command::Command;
use crate::config::ClusterConfig;
use crate::error::{CommandError, ConfigError};
use crate::sim::{LoggedCommand, Sim};
use crate::time::SimTime;
use crate::types::OpId;

/// Most checkpoints kept (plus the one at time zero).
pub const CHECKPOINTS_MAX: usize = 32;
/// Initial spacing of checkpoints in true time.
pub const CHECKPOINT_SPACING_US: u64 = 2_000_000;

/// A clone of the simulation without its command log (the first `log_len` entries of the
/// timeline's `recorded` are that log; one copy serves every checkpoint).
struct Checkpoint {
    sim: Sim,
    log_len: usize,
}

impl Checkpoint {
    fn now(&self) -> SimTime {
        self.sim.now()
    }
}

pub struct Timeline {
    sim: Sim,
    /// The branch's command log, possibly extending past the present.
    recorded: Vec<LoggedCommand>,
    /// The furthest true time this branch has reached.
    horizon: SimTime,
    /// `checkpoints[0]` is the fresh simulation at time zero; the others sit at multiples of
    /// `spacing_us`, in order.
    checkpoints: Vec<Checkpoint>,
    spacing_us: u64,
}

impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline")
            .field("now", &self.sim.now())
            .field("horizon", &self.horizon)
            .field("recorded", &self.recorded.len())
            .field("checkpoints", &self.checkpoints.len())
            .finish()
    }
}

/// What a fork threw away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fork {
    pub at: SimTime,
    /// Recorded commands after the fork point that were dropped.
    pub dropped_commands: usize,
}

impl Timeline {
    pub fn new(seed: u64, config: ClusterConfig) -> Result<Timeline, ConfigError> {
        Ok(Timeline::from_sim(Sim::new(seed, config)?))
    }

    /// A timeline whose present is `sim`, which must be fresh (time zero, no commands): a
    /// guided tour's simulation, for instance.
    pub fn from_sim(sim: Sim) -> Timeline {
        debug_assert!(sim.now() == SimTime::ZERO && sim.command_log().is_empty());
        Timeline {
            checkpoints: vec![Checkpoint { sim: sim.clone(), log_len: 0 }],
            sim,
            recorded: Vec::new(),
            horizon: SimTime::ZERO,
            spacing_us: CHECKPOINT_SPACING_US,
        }
    }

    /// A timeline positioned at time zero that will replay `commands` as it runs, up to
    /// `horizon` (the end of the recorded run).
    pub fn replaying(
        seed: u64,
        config: ClusterConfig,
        commands: Vec<LoggedCommand>,
        horizon: SimTime,
    ) -> Result<Timeline, String> {
        let mut timeline = Timeline::new(seed, config).map_err(|e| format!("config: {e}"))?;
        if let Some(last) = commands.last() {
            if last.at > horizon {
                return Err(format!("the run ends at {horizon} but has a command at {}", last.at));
            }
        }
        timeline.sim.set_replay(commands.clone())?;
        timeline.recorded = commands;
        timeline.horizon = horizon;
        Ok(timeline)
    }

    pub fn sim(&self) -> &Sim {
        &self.sim
    }
    /// Brings the present simulation's checker up to date ([`Sim::check`]).
    pub fn check(&mut self) {
        self.sim.check();
    }
    /// The furthest time reached on this branch (the end of the scrub bar).
    pub fn horizon(&self) -> SimTime {
        self.horizon.max(self.sim.now())
    }
    /// The branch's whole command log, including the part after the present.
    pub fn recorded(&self) -> &[LoggedCommand] {
        &self.recorded
    }
    /// Whether the present is before the end of the recorded run.
    pub fn in_past(&self) -> bool {
        self.sim.now() < self.horizon || !self.sim.pending_replay().is_empty()
    }
    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }
    /// Operation records the checkpoints hold in all (a record shared by several counts once
    /// per checkpoint): what time travel costs in memory beyond the present run.
    pub fn checkpoint_records(&self) -> usize {
        self.checkpoints.iter().map(|c| c.sim.history().len()).sum()
    }

    /// Applies a command now. In the past this forks: the recorded future is dropped.
    pub fn apply(&mut self, command: Command) -> Result<(Option<OpId>, Option<Fork>), CommandError> {
        let before = self.sim.command_log().len();
        let was_past = self.in_past() || self.recorded.len() > before;
        let op = self.sim.apply(command)?;
        let fork = was_past.then(|| self.fork_here(before));
        if let Some(logged) = self.sim.command_log().get(before) {
            self.recorded.push(logged.clone());
        }
        self.horizon = self.sim.now();
        Ok((op, fork))
    }

    /// Drops what lies after the present on this branch (the command just applied is at
    /// index `log_len` of the simulation's log and is pushed by the caller).
    fn fork_here(&mut self, log_len: usize) -> Fork {
        let now = self.sim.now();
        let dropped_commands = self.recorded.len().saturating_sub(log_len);
        self.recorded.truncate(log_len);
        // A checkpoint at the present could already hold a recorded command of this instant.
        let keep = self.checkpoints.iter().skip(1).take_while(|c| c.now() < now).count();
        self.checkpoints.truncate(1 + keep);
        self.horizon = now;
        Fork { at: now, dropped_commands }
    }

    /// Runs up to `until`, handling at most about `budget` events; returns whether `until`
    /// was reached. Takes checkpoints on the way.
    pub fn advance(&mut self, until: SimTime, budget: usize) -> bool {
        let start_steps = self.sim.steps();
        loop {
            let used = (self.sim.steps() - start_steps) as usize;
            if used >= budget {
                return false;
            }
            let slot = self.next_slot();
            let chunk_end = until.min(slot);
            let reached = self.sim.run_until_bounded(chunk_end, budget - used);
            self.horizon = self.horizon.max(self.sim.now());
            if !reached {
                return false;
            }
            if self.sim.now() == slot {
                self.take_checkpoint();
            }
            if chunk_end == until {
                return true;
            }
        }
    }

    /// Lets a driver (a guided tour's runner) work on the simulation directly. In the past
    /// this forks first: the driver continues from the present, and whatever it applies is
    /// recorded as this branch's future.
    pub fn drive<R>(&mut self, f: impl FnOnce(&mut Sim) -> R) -> R {
        let before = self.sim.command_log().len();
        if self.in_past() || self.recorded.len() > before {
            self.sim.clear_replay();
            self.fork_here(before);
        }
        let result = f(&mut self.sim);
        self.recorded.extend_from_slice(&self.sim.command_log()[before..]);
        self.horizon = self.horizon.max(self.sim.now());
        result
    }

    /// Handles exactly the next piece of work.
    pub fn step(&mut self) {
        self.sim.step();
        self.horizon = self.horizon.max(self.sim.now());
    }

    /// Moves the present to true time `to`: forward by running, backward by restoring the
    /// nearest checkpoint and replaying the recorded commands from there.
    /// A far jump forward also starts from the nearest checkpoint when that is closer.
    pub fn seek(&mut self, to: SimTime) -> Result<(), String> {
        self.begin_seek(to)?;
        self.advance(to, usize::MAX);
        Ok(())
    }

    /// The first half of [`Timeline::seek`]: restores the checkpoint a seek to `to` replays
    /// from, if it needs one, and leaves the replay to `advance(to, …)` — which the page runs
    /// a slice per frame, so a scrub over a long run never holds the page still.
    pub fn begin_seek(&mut self, to: SimTime) -> Result<(), String> {
        let base = self.checkpoints.iter().rposition(|c| c.now() <= to).unwrap_or(0);
        let restore = to < self.sim.now() || self.checkpoints[base].now() > self.sim.now();
        if restore {
            if self.sim.command_log_truncated() {
                return Err("this run's command log outgrew its limit, so it cannot be replayed".to_string());
            }
            self.restore(base)?;
        }
        Ok(())
    }

    /// Makes checkpoint `index` the present, with the rest of the recorded log to replay.
    fn restore(&mut self, index: usize) -> Result<(), String> {
        let checkpoint = &self.checkpoints[index];
        let mut sim = checkpoint.sim.clone();
        *sim.command_log_mut() = self.recorded[..checkpoint.log_len].to_vec();
        sim.set_replay(self.recorded[checkpoint.log_len..].to_vec())?;
        self.sim = sim;
        Ok(())
    }

    /// Replays the present from the start of the run if it was restored from a checkpoint
    /// that dropped old operation records, so that it holds them all again: a checker started
    /// afresh over the history (a guided tour's final check) needs every one. The run is the
    /// same (checked by its trace hash); on any difference the present is left as it was.
    pub fn rebuild_whole_history(&mut self) -> Result<(), String> {
        if self.sim.history().is_whole() {
            return Ok(());
        }
        if self.sim.command_log_truncated() {
            return Err("this run's command log outgrew its limit, so it cannot be replayed".to_string());
        }
        let (to, steps, hash) = (self.sim.now(), self.sim.steps(), self.sim.trace_hash());
        let present = self.sim.clone();
        self.restore(0)?;
        self.advance(to, usize::MAX);
        if (self.sim.steps(), self.sim.trace_hash()) != (steps, hash) {
            self.sim = present;
            return Err("replaying the run from its start did not reach the same state".to_string());
        }
        Ok(())
    }

    /// The true time of the next checkpoint slot: the first multiple of the spacing after the
    /// newest checkpoint and not before the present (a driver may have run past some slots).
    fn next_slot(&self) -> SimTime {
        let newest = self.checkpoints.last().map_or(0, |c| c.now().as_us());
        let from = (newest + 1).max(self.sim.now().as_us());
        SimTime(from.div_ceil(self.spacing_us) * self.spacing_us)
    }

    fn take_checkpoint(&mut self) {
        if self.checkpoints.last().is_some_and(|c| c.now() >= self.sim.now()) {
            return;
        }
        // Judged first, the operations the checker has done with need not be copied.
        self.sim.check();
        let log = std::mem::take(self.sim.command_log_mut());
        let mut sim = self.sim.clone();
        sim.thin_for_checkpoint();
        let checkpoint = Checkpoint { sim, log_len: log.len() };
        *self.sim.command_log_mut() = log;
        self.checkpoints.push(checkpoint);
        if self.checkpoints.len() > CHECKPOINTS_MAX + 1 {
            self.spacing_us *= 2;
            let spacing = self.spacing_us;
            let mut index = 0;
            self.checkpoints.retain(|c| {
                index += 1;
                index == 1 || c.now().as_us() % spacing == 0
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_op::ClientOp;
    use crate::read::ReadMode;
    use crate::types::NodeId;

    fn put(node: u64, key: &str, value: &str) -> Command {
        Command::Client {
            node: NodeId(node),
            op: ClientOp::Put { key: key.into(), value: value.into(), key_lease: None },
        }
    }

    fn busy_timeline(seconds: u64) -> Timeline {
        let mut t = Timeline::new(7, ClusterConfig::default()).unwrap();
        for s in 1..=seconds {
            t.seek(SimTime::from_ms(s * 1_000)).unwrap();
            let leader = t.sim().leader().map_or(1, |l| l.0);
            t.apply(put(leader, "k", &format!("v{s}"))).unwrap();
            if s % 3 == 0 {
                t.apply(Command::Client {
                    node: NodeId(1),
                    op: ClientOp::Read { key: "k".into(), mode: ReadMode::Linearizable },
                })
                .unwrap();
            }
        }
        t.seek(SimTime::from_ms((seconds + 1) * 1_000)).unwrap();
        t
    }

    #[test]
    fn scrubbing_back_and_forward_reproduces_the_run() {
        let mut t = busy_timeline(20);
        let end = t.sim().now();
        let hash = t.sim().trace_hash();
        let ops = t.sim().history().len();
        t.seek(SimTime::from_ms(7_500)).unwrap();
        assert_eq!(t.sim().now(), SimTime::from_ms(7_500));
        assert!(t.in_past());
        assert!(t.sim().history().len() < ops);
        t.seek(end).unwrap();
        assert_eq!(t.sim().trace_hash(), hash, "replay from a checkpoint diverged");
        assert_eq!(t.sim().history().len(), ops);
        assert!(!t.in_past());
    }

    #[test]
    fn a_seek_replayed_in_slices_ends_where_a_whole_seek_does() {
        let mut whole = busy_timeline(12);
        whole.seek(SimTime::from_ms(5_250)).unwrap();
        let mut sliced = busy_timeline(12);
        sliced.begin_seek(SimTime::from_ms(5_250)).unwrap();
        assert!(sliced.sim().now() <= SimTime::from_ms(5_250) && sliced.sim().now() < sliced.horizon());
        let mut slices = 1;
        while !sliced.advance(SimTime::from_ms(5_250), 20) {
            slices += 1;
        }
        assert!(slices > 1, "the replay took one slice: the test proves nothing");
        assert_eq!(sliced.sim().trace_hash(), whole.sim().trace_hash());
        assert_eq!(sliced.sim().snapshot(), whole.sim().snapshot());
        // A seek forward past the present that a checkpoint is nearer to restores it.
        let mut far = busy_timeline(12);
        far.seek(SimTime::ZERO).unwrap();
        far.begin_seek(SimTime::from_ms(9_000)).unwrap();
        assert_eq!(far.sim().now(), SimTime::from_ms(8_000));
    }

    #[test]
    fn a_scrub_matches_a_run_that_stopped_there() {
        let mut t = busy_timeline(12);
        t.seek(SimTime::from_ms(5_250)).unwrap();
        let mut fresh = busy_timeline(12);
        fresh.seek(SimTime::ZERO).unwrap();
        fresh.seek(SimTime::from_ms(5_250)).unwrap();
        assert_eq!(t.sim().trace_hash(), fresh.sim().trace_hash());
        assert_eq!(t.sim().snapshot(), fresh.sim().snapshot());
    }

    #[test]
    fn a_command_in_the_past_forks() {
        let mut t = busy_timeline(10);
        let recorded = t.recorded().len();
        t.seek(SimTime::from_ms(4_500)).unwrap();
        let before = t.sim().command_log().len();
        let (_, fork) = t.apply(put(1, "fork", "yes")).unwrap();
        let fork = fork.expect("a command in the past forks");
        assert_eq!(fork.dropped_commands, recorded - before);
        assert_eq!(t.recorded().len(), before + 1);
        assert!(!t.in_past());
        // The new branch replays too: back to 3 s and forward again gives the same state.
        t.seek(SimTime::from_ms(9_000)).unwrap();
        let hash = t.sim().trace_hash();
        t.seek(SimTime::from_ms(3_000)).unwrap();
        t.seek(SimTime::from_ms(9_000)).unwrap();
        assert_eq!(t.sim().trace_hash(), hash);
        assert!(t.sim().history().iter().any(|r| r.kind.summary().contains("fork")));
    }

    #[test]
    fn checkpoints_stay_bounded_on_a_long_run() {
        let mut t = Timeline::new(1, ClusterConfig::default()).unwrap();
        t.seek(SimTime::from_ms(600_000)).unwrap();
        assert!(t.checkpoint_count() <= CHECKPOINTS_MAX + 1);
        assert!(t.checkpoint_count() >= CHECKPOINTS_MAX / 2);
        let hash = t.sim().trace_hash();
        t.seek(SimTime::from_ms(123_456)).unwrap();
        t.seek(SimTime::from_ms(600_000)).unwrap();
        assert_eq!(t.sim().trace_hash(), hash);
    }

    #[test]
    fn a_driven_tour_records_its_commands_and_scrubs() {
        use crate::scenario::{builtin, ScenarioRunner};
        let (mut runner, sim) = ScenarioRunner::start(builtin("leader-isolated").unwrap());
        let mut t = Timeline::from_sim(sim);
        while t.drive(|sim| runner.step(sim)) {
            t.advance(t.sim().now().plus_us(300_000), usize::MAX);
        }
        let end = t.sim().now();
        let hash = t.sim().trace_hash();
        assert!(!t.recorded().is_empty());
        t.seek(SimTime::from_ms(1_000)).unwrap();
        t.seek(end).unwrap();
        assert_eq!(t.sim().trace_hash(), hash);
        // Driving again from the past forks there.
        t.seek(SimTime::from_ms(1_000)).unwrap();
        t.drive(|sim| sim.run_for_ms(10));
        assert!(!t.in_past());
        assert!(t.recorded().iter().all(|c| c.at <= SimTime::from_ms(1_010)));
    }

    #[test]
    fn stepping_event_by_event_then_scrubbing_replays_exactly() {
        let mut t = Timeline::new(3, ClusterConfig::default()).unwrap();
        t.seek(SimTime::from_ms(2_000)).unwrap();
        // Commands between events of one instant: placed by event count, not time alone.
        for i in 0..40 {
            t.step();
            if i % 7 == 0 {
                t.apply(put(1, "s", &i.to_string())).unwrap();
            }
        }
        t.seek(SimTime::from_ms(4_000)).unwrap();
        let hash = t.sim().trace_hash();
        t.seek(SimTime::from_ms(1_000)).unwrap();
        t.seek(SimTime::from_ms(4_000)).unwrap();
        assert_eq!(t.sim().trace_hash(), hash);
    }
}
