//! The client-side record of every operation: what was asked, at which node, when it was
//! invoked and completed (true time), and how it ended. Checkers read it from outside.

use crate::event::OpOutcome;
use crate::time::SimTime;
use crate::types::{NodeId, OpId};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Operations kept in memory; older ones are forgotten (a bound on a long run's memory).
pub const HISTORY_RETAINED_MAX: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    Put { key: String, value: String },
    Delete { key: String },
}

impl OpKind {
    pub fn key(&self) -> &str {
        match self {
            OpKind::Put { key, .. } | OpKind::Delete { key } => key,
        }
    }
    pub fn summary(&self) -> String {
        match self {
            OpKind::Put { key, value } => format!("put {key}={value}"),
            OpKind::Delete { key } => format!("delete {key}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    pub id: OpId,
    pub node: NodeId,
    pub kind: OpKind,
    pub invoked_at: SimTime,
    pub completed_at: Option<SimTime>,
    pub outcome: OpOutcome,
    /// Raft index of the entry that carried a write, once applied.
    pub index: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct History {
    ops: VecDeque<OpRecord>,
    /// Id of `ops[0]`.
    first_id: u64,
    next_id: u64,
}

impl History {
    pub fn new() -> History {
        History { ops: VecDeque::new(), first_id: 1, next_id: 1 }
    }

    pub fn invoke(&mut self, now: SimTime, node: NodeId, kind: OpKind) -> OpId {
        let id = OpId(self.next_id);
        self.next_id += 1;
        if self.ops.len() == HISTORY_RETAINED_MAX {
            self.ops.pop_front();
            self.first_id += 1;
        }
        self.ops.push_back(OpRecord {
            id,
            node,
            kind,
            invoked_at: now,
            completed_at: None,
            outcome: OpOutcome::Pending,
            index: None,
        });
        id
    }

    pub fn get(&self, id: OpId) -> Option<&OpRecord> {
        id.0.checked_sub(self.first_id).and_then(|i| self.ops.get(i as usize))
    }

    fn get_mut(&mut self, id: OpId) -> Option<&mut OpRecord> {
        id.0.checked_sub(self.first_id).and_then(|i| self.ops.get_mut(i as usize))
    }

    /// Completes a pending operation; returns false if it was already complete (or forgotten).
    pub fn complete(&mut self, id: OpId, now: SimTime, outcome: OpOutcome) -> bool {
        match self.get_mut(id) {
            Some(op) if op.outcome == OpOutcome::Pending => {
                op.outcome = outcome;
                op.completed_at = Some(now);
                true
            }
            _ => false,
        }
    }

    pub fn set_index(&mut self, id: OpId, index: u64) {
        if let Some(op) = self.get_mut(id) {
            op.index.get_or_insert(index);
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &OpRecord> {
        self.ops.iter()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
