//! The agenda: every piece of work the simulation has promised to do at a point in true time
//! (message deliveries, node ticks, client deadlines, scheduled commands, the background
//! load's next operation), handed out in (time, sequence) order.

use crate::command::Command;
use crate::time::SimTime;
use crate::types::{NodeId, OpId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Work due at a point in true time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Due {
    Deliver(u64),
    Tick {
        node: NodeId,
        generation: u64,
    },
    OpTimeout(OpId),
    /// A command scheduled ahead of time (index into the agenda's scheduled commands).
    Command(usize),
    /// The background load's next operation (stale when the generation moved on).
    Workload(u64),
    /// The node a client's keep-alive reached tries it again.
    KeepAliveRetry {
        node: NodeId,
        op: OpId,
        id: crate::types::KeyLeaseId,
        header_revision: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Scheduled {
    pub at: SimTime,
    pub seq: u64,
    pub due: Due,
}

impl Scheduled {
    /// The order work falls due in: time, then sequence. Sequence numbers are unique within
    /// an agenda, so two entries never tie and `due` never needs comparing (the derived order
    /// compared it too).
    #[inline(always)]
    fn key(&self) -> (SimTime, u64) {
        (self.at, self.seq)
    }
}

/// By [`Scheduled::key`]. In the page's size-optimized wasm the comparisons are forced
/// inline: the heap's sift called out for every comparison there. Natively the optimizer
/// inlines them anyway.
impl PartialOrd for Scheduled {
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn lt(&self, other: &Self) -> bool {
        self.key() < other.key()
    }
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn le(&self, other: &Self) -> bool {
        self.key() <= other.key()
    }
}

impl Ord for Scheduled {
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

#[derive(Clone, Default)]
pub(super) struct Agenda {
    queue: BinaryHeap<Reverse<Scheduled>>,
    /// Client deadlines ([`Due::OpTimeout`]) in the order they were set. Every operation gets
    /// the same timeout, so they fall due in that order: a FIFO beside the heap keeps a busy
    /// run's ~300 deadlines (most for operations long finished) out of it. Both are ordered
    /// by (time, sequence), so the merged order is the single heap's.
    deadlines: VecDeque<Scheduled>,
    next_seq: u64,
    /// Commands scheduled ahead of time, by index.
    commands: Vec<Command>,
}

impl Agenda {
    pub fn push(&mut self, at: SimTime, due: Due) {
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

    /// Keeps `command` to run at `at`.
    pub fn push_command(&mut self, at: SimTime, command: Command) {
        self.commands.push(command);
        self.push(at, Due::Command(self.commands.len() - 1));
    }

    /// The command scheduled under index `i`.
    pub fn command(&self, i: usize) -> &Command {
        &self.commands[i]
    }

    /// The earliest scheduled work, from the heap or the deadline FIFO.
    pub fn peek(&self) -> Option<&Scheduled> {
        match (self.queue.peek(), self.deadlines.front()) {
            (Some(Reverse(h)), Some(d)) => Some(if d < h { d } else { h }),
            (Some(Reverse(h)), None) => Some(h),
            (None, d) => d,
        }
    }

    pub fn pop(&mut self) -> Option<Scheduled> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(agenda: &mut Agenda) -> Vec<(u64, Due)> {
        std::iter::from_fn(|| agenda.pop().map(|s| (s.at.0, s.due))).collect()
    }

    #[test]
    fn deadlines_and_other_work_merge_in_time_then_sequence_order() {
        let mut a = Agenda::default();
        a.push(SimTime(30), Due::OpTimeout(OpId(1)));
        a.push(SimTime(10), Due::Deliver(7));
        a.push(SimTime(30), Due::Deliver(8));
        a.push(SimTime(40), Due::OpTimeout(OpId(2)));
        a.push(SimTime(20), Due::Workload(1));
        assert_eq!(a.peek().map(|s| s.at), Some(SimTime(10)));
        assert_eq!(
            drain(&mut a),
            vec![
                (10, Due::Deliver(7)),
                (20, Due::Workload(1)),
                // Same time: the one pushed first goes first, whichever queue holds it.
                (30, Due::OpTimeout(OpId(1))),
                (30, Due::Deliver(8)),
                (40, Due::OpTimeout(OpId(2))),
            ]
        );
    }

    #[test]
    fn a_deadline_earlier_than_the_last_one_still_falls_due_in_order() {
        // A shortened client timeout sets a deadline before those already queued.
        let mut a = Agenda::default();
        a.push(SimTime(50), Due::OpTimeout(OpId(1)));
        a.push(SimTime(20), Due::OpTimeout(OpId(2)));
        assert_eq!(drain(&mut a), vec![(20, Due::OpTimeout(OpId(2))), (50, Due::OpTimeout(OpId(1)))]);
    }

    #[test]
    fn scheduled_commands_are_kept_by_index() {
        let mut a = Agenda::default();
        a.push_command(SimTime(5), Command::HealAll);
        let s = a.pop().unwrap();
        assert_eq!(s.due, Due::Command(0));
        assert_eq!(a.command(0), &Command::HealAll);
        assert!(a.pop().is_none());
    }
}
