//! Presenter autoplay: a guided tour that plays itself. Each step's narration stays on show for
//! a pause the presenter chooses, with a visible countdown, then the next step runs. Space
//! pauses and resumes it; a step that asks the audience to predict waits for the presenter's
//! click on *Reveal*, so nobody's guess is cut short. The countdown ticks on wall-clock seconds
//! (crate::timers); this file is the plain state machine behind it.

/// The pauses between steps the presenter can pick, in seconds.
pub const PAUSES_S: [u32; 5] = [5, 8, 12, 20, 30];

/// The pause autoplay starts with.
pub const PAUSE_DEFAULT_S: u32 = 8;

/// A tour playing itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Autoplay {
    /// Seconds each step stays on show.
    pub pause_s: u32,
    /// Seconds left before the next step.
    pub left_s: u32,
    /// Held by the presenter (space): the countdown stands still.
    pub paused: bool,
}

/// What one second of autoplay asks the tour to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// Nothing yet: counting down, paused, or waiting for a prediction.
    Wait,
    /// Run the next step (or, after the last, finish and check the tour).
    Step,
    /// The tour has been checked: autoplay is over.
    Finished,
}

/// Where the tour is, as autoplay needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TourAt {
    /// The next step can run.
    Ready,
    /// The next step asks the audience to predict: only the presenter's *Reveal* goes on.
    AwaitingPrediction,
    /// Every step has run and the expectations are checked.
    Checked,
}

impl Autoplay {
    pub fn new(pause_s: u32) -> Self {
        let pause_s = pause_s.max(1);
        Autoplay { pause_s, left_s: pause_s, paused: false }
    }

    /// One wall-clock second.
    pub fn tick(&mut self, at: TourAt) -> Tick {
        match at {
            TourAt::Checked => Tick::Finished,
            TourAt::AwaitingPrediction => Tick::Wait,
            TourAt::Ready if self.paused => Tick::Wait,
            TourAt::Ready => {
                self.left_s = self.left_s.saturating_sub(1);
                if self.left_s == 0 {
                    self.left_s = self.pause_s;
                    Tick::Step
                } else {
                    Tick::Wait
                }
            }
        }
    }

    /// A step ran (by autoplay or by hand): the new step gets the whole pause.
    pub fn restart(&mut self) {
        self.left_s = self.pause_s;
    }

    /// A new pause: it applies at once, counting from the full pause.
    pub fn set_pause(&mut self, pause_s: u32) {
        *self = Autoplay { paused: self.paused, ..Autoplay::new(pause_s) };
    }

    /// The countdown line under the tour.
    pub fn status(&self, at: TourAt) -> String {
        match at {
            TourAt::Checked => "Autoplay: the tour is over".to_string(),
            TourAt::AwaitingPrediction => "Autoplay waits: let the audience predict, then Reveal".to_string(),
            TourAt::Ready if self.paused => format!("Autoplay paused, {} s left (space resumes)", self.left_s),
            TourAt::Ready => format!("Next step in {} s (space pauses)", self.left_s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_steps_and_starts_the_next_pause() {
        let mut a = Autoplay::new(3);
        assert_eq!(a.status(TourAt::Ready), "Next step in 3 s (space pauses)");
        assert_eq!(a.tick(TourAt::Ready), Tick::Wait);
        assert_eq!(a.tick(TourAt::Ready), Tick::Wait);
        assert_eq!(a.left_s, 1);
        assert_eq!(a.tick(TourAt::Ready), Tick::Step);
        assert_eq!(a.left_s, 3, "the next step gets the whole pause");
    }

    #[test]
    fn a_pause_holds_the_countdown_and_a_prediction_waits_for_the_presenter() {
        let mut a = Autoplay::new(2);
        a.paused = true;
        for _ in 0..5 {
            assert_eq!(a.tick(TourAt::Ready), Tick::Wait);
        }
        assert_eq!(a.left_s, 2);
        assert!(a.status(TourAt::Ready).contains("paused"));
        a.paused = false;
        for _ in 0..5 {
            assert_eq!(a.tick(TourAt::AwaitingPrediction), Tick::Wait);
        }
        assert!(a.status(TourAt::AwaitingPrediction).contains("Reveal"));
        assert_eq!(a.tick(TourAt::Ready), Tick::Wait);
        assert_eq!(a.tick(TourAt::Ready), Tick::Step);
        assert_eq!(a.tick(TourAt::Checked), Tick::Finished);
    }

    #[test]
    fn a_step_by_hand_or_a_new_pause_restarts_the_countdown() {
        let mut a = Autoplay::new(8);
        a.tick(TourAt::Ready);
        a.restart();
        assert_eq!(a.left_s, 8);
        a.paused = true;
        a.set_pause(20);
        assert_eq!((a.pause_s, a.left_s, a.paused), (20, 20, true));
        assert_eq!(Autoplay::new(0).pause_s, 1, "never a zero pause");
    }
}
