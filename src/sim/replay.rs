//! The run's own record of commands, and the recorded commands still to re-apply when a run
//! is replayed (a shared link, an imported file, the future after a time-travel checkpoint).
//! With the seed and the config, the command log is the whole run.

use crate::command::Command;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Commands recorded for replay and sharing. A run past this many keeps running but can no
/// longer be replayed from its log (a bound on a long run's memory; see ARCHITECTURE.md).
pub const COMMAND_LOG_MAX: usize = 50_000;

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

/// Where a run stands: its true time and the events handled so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Position {
    pub now: SimTime,
    pub steps: u64,
}

/// What the replay says about the next recorded command.
pub(super) enum Next {
    /// Nothing recorded is due yet (or nothing is left).
    Wait,
    /// The run has reached the next recorded command's position.
    Apply(LoggedCommand),
    /// The run passed the recorded position without reaching it: it is not the recorded run.
    Diverged,
}

#[derive(Clone, Default)]
pub(super) struct Replay {
    /// Every command that took effect, with its position.
    pub log: Vec<LoggedCommand>,
    /// True when the log outgrew [`COMMAND_LOG_MAX`] and stopped recording.
    pub truncated: bool,
    /// Recorded commands still to re-apply, each at its recorded position.
    pub pending: VecDeque<LoggedCommand>,
    /// Set when a replay met a run that does not match its recording.
    pub diverged: Option<String>,
}

impl Replay {
    pub fn record(&mut self, at: Position, command: &Command) {
        if self.log.len() < COMMAND_LOG_MAX {
            self.log.push(LoggedCommand { at: at.now, after: at.steps, command: command.clone() });
        } else {
            self.truncated = true;
        }
    }

    /// Queues `commands` to re-apply, refusing them if out of order, in the past or invalid.
    pub fn queue(&mut self, from: Position, commands: Vec<LoggedCommand>) -> Result<(), String> {
        let mut position = (from.now, from.steps);
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
            c.command
                .validate_in(crate::config::NODES_MAX)
                .map_err(|e| format!("command {} is invalid: {e}", i + 1))?;
            position = (c.at, c.after);
        }
        self.pending = commands.into();
        self.diverged = None;
        Ok(())
    }

    /// The next recorded command if the run at `at` has reached its position and its time is
    /// not after `until`; `next_due` is the time of the run's next scheduled work. A run
    /// that went past the position stops the replay, saying why.
    pub fn next(&mut self, at: Position, next_due: Option<SimTime>, until: SimTime) -> Next {
        match self.pending.front() {
            Some(c) if c.after < at.steps || (c.after == at.steps && next_due.is_some_and(|t| t < c.at)) => {
                self.diverged = Some(format!(
                    "command \"{}\" was recorded at {} after {} events, but this run is at {} after {} events",
                    c.command.summary(),
                    c.at,
                    c.after,
                    at.now,
                    at.steps
                ));
                self.pending.clear();
                Next::Diverged
            }
            Some(c) if c.after == at.steps && c.at <= until => {
                Next::Apply(self.pending.pop_front().unwrap_or_else(|| unreachable!("front checked")))
            }
            _ => Next::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(at: u64, after: u64) -> LoggedCommand {
        LoggedCommand { at: SimTime(at), after, command: Command::HealAll }
    }

    #[test]
    fn recorded_commands_must_come_in_order() {
        let mut r = Replay::default();
        let from = Position { now: SimTime(10), steps: 4 };
        assert!(r.queue(from, vec![logged(10, 4), logged(12, 6)]).is_ok());
        let err = r.queue(from, vec![logged(12, 6), logged(11, 7)]).unwrap_err();
        assert!(err.starts_with("command 2 (heal all links) is out of order"), "{err}");
        assert!(r.queue(from, vec![logged(9, 4)]).is_err(), "in the past");
    }

    #[test]
    fn a_command_is_applied_at_its_position_and_a_missed_position_stops_the_replay() {
        let mut r = Replay::default();
        r.queue(Position { now: SimTime(0), steps: 0 }, vec![logged(10, 3), logged(20, 5)]).unwrap();
        let at = |now, steps| Position { now: SimTime(now), steps };
        assert!(matches!(r.next(at(5, 2), Some(SimTime(8)), SimTime(100)), Next::Wait));
        assert!(matches!(r.next(at(9, 3), Some(SimTime(30)), SimTime(9)), Next::Wait), "not before `until`");
        assert!(matches!(r.next(at(9, 3), Some(SimTime(30)), SimTime(100)), Next::Apply(c) if c.at == SimTime(10)));
        // The run is at step 6 but the command was recorded after 5 events.
        assert!(matches!(r.next(at(25, 6), None, SimTime(100)), Next::Diverged));
        assert!(r.diverged.as_deref().unwrap().contains("recorded at 0.020ms after 5 events"), "{:?}", r.diverged);
        assert!(r.pending.is_empty());
    }
}
