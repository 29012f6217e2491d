//! Virtual time. The simulation never reads a wall clock: all time is one of two kinds.
//!
//! * [`SimTime`] — *true* time, the simulator's global timeline, in microseconds since start.
//!   Only the simulator and the checkers see it; nodes never do.
//! * [`LocalTime`] — what one node's clock reads, in microseconds. It may run fast or slow and
//!   may jump backwards, so it is signed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// True (global) simulated time in microseconds since the simulation started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn from_ms(ms: u64) -> SimTime {
        SimTime(ms * 1_000)
    }
    pub fn as_us(self) -> u64 {
        self.0
    }
    /// Milliseconds, truncated.
    pub fn as_ms(self) -> u64 {
        self.0 / 1_000
    }
    pub fn plus_us(self, us: u64) -> SimTime {
        SimTime(self.0.saturating_add(us))
    }
    pub fn saturating_sub(self, other: SimTime) -> u64 {
        self.0.saturating_sub(other.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}ms", self.0 / 1_000, self.0 % 1_000)
    }
}

/// A reading of one node's local clock, in microseconds. Signed: a clock may be set backwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalTime(pub i64);

impl LocalTime {
    pub fn plus_us(self, us: i64) -> LocalTime {
        LocalTime(self.0.saturating_add(us))
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}ms", a / 1_000, a % 1_000)
    }
}
