//! Linearizability checkers. Two of them, built on different evidence, so that each checks
//! the other:
//!
//! - [`Checker`] ([`revision`]) judges the simulator's own histories live, from the revisions
//!   every answer carries: etcd puts every write at a revision, every read says the revision it
//!   was served at and the revision that wrote each key. With the write order and each read's
//!   source known, no search is needed and it never gives up.
//! - [`model`] is a search over orders (Wing & Gong, Lowe, Porcupine) for histories without
//!   revisions — those from outside (Jepsen logs) and ours with the revisions stripped. It
//!   answers linearizable, not linearizable (with a counterexample), or unknown — and unknown
//!   is never passed off as a pass.
//!
//! [`crosscheck`] runs both on one history and fails on any disagreement; [`external`] reads
//! histories from files.

pub mod crosscheck;
pub mod external;
pub mod model;
pub mod revision;

pub use revision::Checker;

use crate::time::SimTime;
use crate::types::OpId;
use serde::{Deserialize, Serialize};

/// The checker's word on one operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Consistent with one order of every operation that respects real time.
    Linearizable,
    /// Not linearizable: this read returned a state older than one already acknowledged (or
    /// already seen by another read) before it began. Boxed: the checker keeps a window of
    /// verdicts, every time-travel checkpoint copies it, and nearly all are not stale.
    Stale(Box<StaleRead>),
    /// Not linearizable in another way (a read from the future, a write order that contradicts
    /// real time, a value no write produced); the note says which.
    Violation { note: String },
    /// A serializable read: excluded, may lag by design.
    AllowedStaleness { lag: u64 },
    /// Takes no part: the operation failed, changed nothing, or its outcome is unknown and it
    /// never took effect; the reason says which.
    NotChecked { reason: String },
}

impl Verdict {
    /// A stale read or another violation.
    pub fn is_violation(&self) -> bool {
        matches!(self, Verdict::Stale(_) | Verdict::Violation { .. })
    }

    /// The short label of the page's operation log and of tour results.
    pub fn label(&self) -> String {
        match self {
            Verdict::Linearizable => "linearizable".into(),
            Verdict::Stale(_) => "STALE".into(),
            Verdict::Violation { .. } => "violation".into(),
            Verdict::AllowedStaleness { lag } => {
                format!("allowed staleness (lag {lag} revision{})", if *lag == 1 { "" } else { "s" })
            }
            Verdict::NotChecked { reason } => format!("not checked: {reason}"),
        }
    }
}

/// A stale read and what it missed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleRead {
    pub read: OpId,
    pub key: String,
    pub returned: Option<String>,
    /// The write whose effect the read missed.
    pub missed: OpId,
    pub missed_value: Option<String>,
    /// When the missed state was known to the outside: the write's acknowledgement, or the
    /// answer of the earlier read that had already seen it ([`StaleRead::seen_by`]).
    pub missed_done_at: SimTime,
    pub read_invoked_at: SimTime,
    /// The earlier read that had already returned the missed write's state, when it is that
    /// read (not the write's acknowledgement) that the stale read went back behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_by: Option<OpId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serializable_read_is_labelled_with_its_lag_in_revisions() {
        assert_eq!(Verdict::AllowedStaleness { lag: 3 }.label(), "allowed staleness (lag 3 revisions)");
        assert_eq!(Verdict::AllowedStaleness { lag: 1 }.label(), "allowed staleness (lag 1 revision)");
    }
}
