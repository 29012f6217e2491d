//! The page loop: each animation frame advances the simulation by wall time × speed. The
//! only place the page reads wall time.

use crate::lab::Lab;
use crate::model::{simulated_us, SPEEDS};
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

pub(crate) fn wall_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Wall time a frame may spend simulating: the rest of a 30 fps frame goes to the views.
/// A heavier load than the machine can simulate at the chosen speed runs slower instead
/// (and says so beside the speed) rather than making frames long.
pub(crate) const SIMULATION_MS_PER_FRAME: f64 = 20.0;

/// The page loop: the only place wall time is read. Each animation frame advances simulated
/// time by wall time × speed, then stops by itself once the page is gone.
pub(crate) fn run_frames(lab: Lab, last: Rc<Cell<f64>>) {
    request_animation_frame(move || {
        let now = wall_ms();
        let dt = now - last.replace(now);
        // A shared or imported run being replayed has the frame's time; the present waits.
        let replaying = lab.replay_frame(&|| wall_ms() - now < SIMULATION_MS_PER_FRAME);
        // So has a scrub still replaying toward its target.
        let replaying = replaying || lab.seek_frame(&|| wall_ms() - now < SIMULATION_MS_PER_FRAME);
        // A comparison under way has half the frame's time; the present run goes on with the rest.
        lab.compare_frame(&|| wall_ms() - now < SIMULATION_MS_PER_FRAME / 2.0);
        // A measurement of the read paths under way: one cell a frame.
        lab.matrix_frame();
        let alive = match (lab.playback.playing.try_get_untracked(), lab.playback.speed_index.try_get_untracked()) {
            _ if replaying => true,
            (Some(true), Some(i)) => {
                lab.advance_frame_us(simulated_us(dt, SPEEDS[i].0), &|| wall_ms() - now < SIMULATION_MS_PER_FRAME)
            }
            (Some(false), Some(_)) => true,
            _ => false,
        };
        if alive {
            #[cfg(feature = "frame-times")]
            frame_times::record(now);
            run_frames(lab, last);
        }
    });
}

/// The page's own frame timing, for `make bench` only (feature `frame-times`): the page
/// people use neither spends a task per frame on it nor carries its code.
#[cfg(feature = "frame-times")]
pub mod frame_times {
    use super::wall_ms;

    /// Frame work times (ms) of the most recent frames, oldest first.
    const KEPT: usize = 1_200;

    thread_local! {
        static TIMES: std::cell::RefCell<std::collections::VecDeque<f64>> = Default::default();
    }

    /// Records the frame begun at `start`: measured after the reactive updates it queued
    /// have run and a layout has been forced, so it covers script, DOM updates and
    /// style/layout (the paint that follows is the browser's and is not included).
    pub(crate) fn record(start: f64) {
        leptos::task::spawn_local(async move {
            if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
                let _ = body.offset_height();
            }
            let spent = wall_ms() - start;
            TIMES.with(|f| {
                let mut f = f.borrow_mut();
                if f.len() == KEPT {
                    f.pop_front();
                }
                f.push_back(spent);
            });
        });
    }

    /// The work time of recent animation frames in ms.
    pub fn frame_times_ms() -> Vec<f64> {
        TIMES.with(|f| f.borrow().iter().copied().collect())
    }

    /// Forgets recorded frame times (a benchmark starts measuring from here).
    pub fn clear_frame_times() {
        TIMES.with(|f| f.borrow_mut().clear());
    }
}
