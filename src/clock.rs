//! Per-node clocks: `local = offset + rate × true_time`, with scripted steps.
//!
//! A clock is a line anchored at one point: `(anchor_true, anchor_local)` and a slope
//! `rate_ppm` (parts per million of true time; 1,000,000 is a perfect clock). Changing the rate
//! or jumping re-anchors the line at the current true time, so the history before the change is
//! untouched. All arithmetic is integer so native and wasm32 compute identical readings.

use crate::time::{LocalTime, SimTime};
use serde::{Deserialize, Serialize};

/// One million: the rate of a perfect clock, in parts per million.
pub const RATE_PERFECT_PPM: u32 = 1_000_000;
/// The slowest and fastest drift rates the simulator accepts (0.1× and 10×).
pub const RATE_MIN_PPM: u32 = 100_000;
pub const RATE_MAX_PPM: u32 = 10_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeClock {
    anchor_true: SimTime,
    anchor_local: LocalTime,
    rate_ppm: u32,
}

impl NodeClock {
    /// A clock reading `offset_us` at true time zero, running at `rate_ppm`.
    pub fn new(offset_us: i64, rate_ppm: u32) -> NodeClock {
        assert!((RATE_MIN_PPM..=RATE_MAX_PPM).contains(&rate_ppm));
        NodeClock { anchor_true: SimTime::ZERO, anchor_local: LocalTime(offset_us), rate_ppm }
    }

    pub fn rate_ppm(&self) -> u32 {
        self.rate_ppm
    }

    /// The local reading at true time `now` (which must not precede the last re-anchoring).
    pub fn local_at(&self, now: SimTime) -> LocalTime {
        debug_assert!(now >= self.anchor_true);
        let elapsed = now.0 - self.anchor_true.0;
        if self.rate_ppm == RATE_PERFECT_PPM {
            // The common case, without 128-bit division (a hot path: every node call).
            return LocalTime(self.anchor_local.0.saturating_add(elapsed as i64));
        }
        let advanced = i128::from(elapsed) * i128::from(self.rate_ppm) / i128::from(RATE_PERFECT_PPM);
        LocalTime(self.anchor_local.0.saturating_add(advanced as i64))
    }

    /// Offset from true time at `now`, in microseconds (local − true).
    pub fn offset_at(&self, now: SimTime) -> i64 {
        self.local_at(now).0 - now.0 as i64
    }

    /// The first true time at or after `now` when this clock reads at least `target`.
    pub fn true_time_reaching(&self, now: SimTime, target: LocalTime) -> SimTime {
        let local_now = self.local_at(now);
        if target <= local_now {
            return now;
        }
        let need = i128::from(target.0 - self.anchor_local.0);
        if self.rate_ppm == RATE_PERFECT_PPM {
            return SimTime(self.anchor_true.0 + need as u64).max(now);
        }
        let rate = i128::from(self.rate_ppm);
        // Ceiling division: the clock reaches `target` at the first whole microsecond at or after.
        let elapsed = (need * i128::from(RATE_PERFECT_PPM) + rate - 1) / rate;
        let at = SimTime(self.anchor_true.0 + elapsed as u64);
        at.max(now)
    }

    /// Changes the drift rate from `now` on; readings so far are unchanged.
    pub fn set_rate(&mut self, now: SimTime, rate_ppm: u32) {
        assert!((RATE_MIN_PPM..=RATE_MAX_PPM).contains(&rate_ppm));
        self.reanchor(now);
        self.rate_ppm = rate_ppm;
    }

    /// Steps the clock by `delta_us` (negative: backwards) at `now`.
    pub fn jump(&mut self, now: SimTime, delta_us: i64) {
        self.reanchor(now);
        self.anchor_local = self.anchor_local.plus_us(delta_us);
    }

    fn reanchor(&mut self, now: SimTime) {
        self.anchor_local = self.local_at(now);
        self.anchor_true = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clock_reads_true_time_plus_offset() {
        let c = NodeClock::new(5_000, RATE_PERFECT_PPM);
        assert_eq!(c.local_at(SimTime(0)), LocalTime(5_000));
        assert_eq!(c.local_at(SimTime(1_000_000)), LocalTime(1_005_000));
        assert_eq!(c.offset_at(SimTime(1_000_000)), 5_000);
    }

    #[test]
    fn slow_clock_falls_behind_and_reaches_targets_later() {
        let c = NodeClock::new(0, 800_000);
        assert_eq!(c.local_at(SimTime(1_000_000)), LocalTime(800_000));
        // To read 800 ms it needs a full true second.
        assert_eq!(c.true_time_reaching(SimTime(0), LocalTime(800_000)), SimTime(1_000_000));
        // A target already passed is reached now.
        assert_eq!(c.true_time_reaching(SimTime(10), LocalTime(0)), SimTime(10));
    }

    #[test]
    fn rate_change_and_jump_keep_history() {
        let mut c = NodeClock::new(0, RATE_PERFECT_PPM);
        c.set_rate(SimTime(1_000), 2_000_000);
        assert_eq!(c.local_at(SimTime(1_000)), LocalTime(1_000));
        assert_eq!(c.local_at(SimTime(2_000)), LocalTime(3_000));
        c.jump(SimTime(2_000), -10_000);
        assert_eq!(c.local_at(SimTime(2_000)), LocalTime(-7_000));
        assert_eq!(c.local_at(SimTime(2_500)), LocalTime(-6_000));
    }

    #[test]
    fn reaching_is_exact_under_fractional_rates() {
        let c = NodeClock::new(0, 1_250_000);
        for target in [1i64, 7, 99_999, 100_000, 123_457] {
            let t = c.true_time_reaching(SimTime(0), LocalTime(target));
            assert!(c.local_at(t) >= LocalTime(target));
            assert!(t.0 == 0 || c.local_at(SimTime(t.0 - 1)) < LocalTime(target));
        }
    }
}
