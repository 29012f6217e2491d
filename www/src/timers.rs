//! The page's wall-clock timers, all here: the presenter autoplay's one-second countdown and
//! the batching of screen-reader announcements. The simulation never uses them: it runs on
//! animation frames and virtual time (crate::frames). A timer lives as long as the handle
//! returned; dropping the handle cancels it (gloo-timers).

use gloo_timers::callback::{Interval, Timeout};

/// Calls `tick` every `ms` milliseconds until the returned handle is dropped.
pub fn every(ms: u32, tick: impl FnMut() + 'static) -> Interval {
    Interval::new(ms, tick)
}

/// Calls `then` once after `ms` milliseconds, unless the returned handle is dropped first.
pub fn after(ms: u32, then: impl FnOnce() + 'static) -> Timeout {
    Timeout::new(ms, then)
}
