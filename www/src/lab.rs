//! The page's handle on the simulation. The simulation lives outside the reactive graph (it
//! is not `Send`, and signals must not live inside domain types); the page changes it only
//! through [`leaselab::Command`]s and redraws from the plain-data [`Snapshot`] it publishes.

use leaselab::checker::Verdict;
use leaselab::compare::{Comparison, PolicyRun};
use leaselab::event::Event;
use leaselab::explain::explain_stale_read;
use leaselab::history::OpRecord;
use leaselab::scenario::{builtin, ScenarioRunner};
use leaselab::share::{Recording, Replay, RunExport};
use leaselab::spacetime::SpaceTime;
use leaselab::timeline::Timeline;
use leaselab::{ClusterConfig, Command, CommandError, OpId, SimTime, Snapshot};
use leptos::prelude::*;

/// Notable events kept in the page's log.
pub const LOG_LINES_MAX: usize = 200;
/// Most simulation events handled in one animation frame, so a frame never blocks for long.
pub const EVENTS_PER_FRAME_MAX: usize = 50_000;
/// While playing, the simulation runs in slices of this many events and stops when the
/// frame's time for it is up (so a frame never blocks for long on a slow machine either).
const EVENTS_PER_SLICE: usize = 1_000;

/// Events of a shared or imported run replayed at once when it is opened (≈0.1–0.3 s): a short
/// run opens at once; a longer one goes on a slice per frame with its progress shown.
const REPLAY_AT_ONCE_EVENTS: usize = 50_000;

/// Slices of [`EVENTS_PER_SLICE`] a scrub replays at once (≈10–20 ms in the page, so dragging
/// the scrubber stays smooth): a short replay lands at once; a longer one goes on a slice per
/// frame with its progress shown.
const SEEK_AT_ONCE_SLICES: usize = 10;

/// What a replay under way says when it opens, and when it fails.
type ReplayWords = (&'static str, &'static str);

/// A replay under way: the replay, its words, and where the present run was when it began.
type PendingReplay = (Replay, ReplayWords, (u64, SimTime));

/// How the status line begins once a shared link's run is open (the address keeps its link).
pub const OPENED_LINK: &str = "Opened the shared run";
/// Frames over which the page compares the simulated time it ran with what the speed asked.
const SPEED_WINDOW_FRAMES: u64 = 30;

/// One row of the operation log: the record plus the checker's word on it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpRow {
    pub record: OpRecord,
    /// The checker's verdict; `None` while not yet checked.
    pub verdict: Option<Verdict>,
    /// For a stale read: the full explanation.
    pub explanation: Option<String>,
}

/// The checker's running totals, shown in the header of the operation log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckerSummary {
    pub checked: u64,
    pub stale: usize,
    /// Explanation of the most recent stale read, and its operation.
    pub last_stale: Option<(String, OpId)>,
}

/// What the tour panel shows.
#[derive(Clone, Debug, PartialEq)]
pub struct TourView {
    pub name: String,
    pub title: String,
    /// Steps applied so far, and in all.
    pub applied: usize,
    pub total: usize,
    /// Narration of the last applied step.
    pub narration: Option<String>,
    /// The next step's narration and prediction question.
    pub upcoming: Option<String>,
    pub predict: Option<String>,
    /// The answers offered for the prediction, when the tour can check it.
    pub choices: Vec<&'static str>,
    /// After the last step: (expectation, passed, detail).
    pub results: Option<Vec<(String, bool, String)>>,
}

/// The space-time diagram's default window, and the most messages it draws.
pub const SPACETIME_WINDOW_DEFAULT_US: u64 = 3_000_000;
pub const SPACETIME_ARROWS_MAX: usize = 1_500;

/// What a refresh updates besides the cluster view, timeline and diagram.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PanelWork {
    None,
    /// The space-time diagram.
    Diagram,
    /// Node table, inspector, client panel, event log.
    Tables,
    /// Checker verdicts and the operation log.
    Checker,
    All,
}

/// Animation frames per refresh of the tables (6: ten times a second at 60 Hz).
pub const PANEL_FRAME_INTERVAL: u64 = 6;

/// Rounds of [`PANEL_FRAME_INTERVAL`] frames per refresh of a panel out of view (10: once a
/// second at 60 Hz).
pub const OFF_SCREEN_ROUNDS: u64 = 10;

/// A prediction the audience made, and the operation that answers it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reveal {
    pub op: OpId,
    pub kind: leaselab::scenario::QuestionKind,
    /// `None`: the step ran without a prediction; the answer is shown all the same.
    pub guess: Option<&'static str>,
}

/// Events re-read to rebuild the event log after a scrub.
const LOG_REBUILD_EVENTS: u64 = 2_000;

/// Operations shown in the log.
pub const OP_ROWS_MAX: usize = 40;

/// Where the present sits on the run's timeline (the scrub bar).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimelineView {
    pub now: SimTime,
    /// The end of the recorded run.
    pub horizon: SimTime,
    pub in_past: bool,
}

/// A read-paths measurement as the page shows it: seed, (cells tried, of all), cells.
pub type MatrixView = (u64, (usize, usize), Vec<leaselab::matrix::Cell>);

/// The [`Lab`] the page provides (every panel takes it from context).
pub(crate) fn lab() -> Lab {
    expect_context::<Lab>()
}

impl Lab {
    /// Provides the lab and each of its parts as contexts.
    pub fn provide(self) {
        provide_context(self);
        provide_context(self.selection);
        provide_context(self.playback);
        provide_context(self.tour);
    }
}

/// What the user picked.
#[derive(Clone, Copy)]
pub struct Selection {
    /// The operation whose trace is shown.
    pub op: RwSignal<Option<OpId>>,
    /// The node shown in the inspector.
    pub node: RwSignal<Option<leaselab::NodeId>>,
    /// Nodes picked (shift-click or the table's checkboxes) to partition from the rest.
    pub partition_pick: RwSignal<Vec<leaselab::NodeId>>,
}

/// Play, pause and speed.
#[derive(Clone, Copy)]
pub struct Playback {
    pub playing: RwSignal<bool>,
    /// Index into [`crate::model::SPEEDS`].
    pub speed_index: RwSignal<usize>,
    /// The speed achieved ("≈44×") while playing slower than the chosen one (the simulation
    /// cannot keep up).
    pub behind: RwSignal<Option<String>>,
    /// Simulated µs asked for and run in the current [`SPEED_WINDOW_FRAMES`] window.
    asked_us: StoredValue<u64>,
    ran_us: StoredValue<u64>,
}

/// The guided tour on show.
#[derive(Clone, Copy)]
pub struct TourState {
    runner: StoredValue<Option<ScenarioRunner>, LocalStorage>,
    pub view: RwSignal<Option<TourView>>,
    /// The audience's answer to the upcoming step's prediction question.
    pub guess: RwSignal<Option<&'static str>>,
    /// The last answered prediction, to check against what happened.
    pub reveal: RwSignal<Option<Reveal>>,
    /// The tour playing itself, if the presenter turned autoplay on.
    pub autoplay: RwSignal<Option<crate::autoplay::Autoplay>>,
    /// Its one-second countdown (dropping it stops the timer).
    autoplay_timer: StoredValue<Option<gloo_timers::callback::Interval>, LocalStorage>,
}

/// The simulation handle: the run (its timeline), what the page shows of it, and the other
/// states by concern ([`Selection`], [`Playback`], [`TourState`]), each also provided as a
/// context of its own.
#[derive(Clone, Copy)]
pub struct Lab {
    timeline: StoredValue<Timeline, LocalStorage>,
    /// Trace length when the checker last ran.
    checked_at: StoredValue<u64>,
    pub ops: RwSignal<Vec<OpRow>>,
    pub checker_summary: RwSignal<CheckerSummary>,
    /// What the user picked (its own context, for the panels that need only that).
    pub selection: Selection,
    /// Play, pause and speed (its own context).
    pub playback: Playback,
    /// The guided tour on show, if any (its own context).
    pub tour: TourState,
    /// What the screen reader hears next (a polite live region), and the announcements
    /// gathering for it until their batch's timer fires (crate::announcer).
    pub announcement: RwSignal<String>,
    announce_batch: StoredValue<crate::announcer::Batch>,
    announce_timer: StoredValue<Option<gloo_timers::callback::Timeout>, LocalStorage>,
    /// A shared or imported run being replayed a slice per frame, and how to announce it.
    pending_replay: StoredValue<Option<PendingReplay>, LocalStorage>,
    /// A scrub still replaying toward its target a slice per frame ([`Lab::seek_frame`]): the
    /// target, and where the present run stood after the last slice.
    pending_seek: StoredValue<Option<(SimTime, (u64, SimTime))>>,
    /// The run under every leader lease policy, being run a slice per frame.
    pending_compare: StoredValue<Option<Comparison>, LocalStorage>,
    /// The comparison on show: what run it is of, how many policies have run, and their runs
    /// once all have.
    pub compare: RwSignal<Option<(String, usize, Vec<PolicyRun>)>>,
    /// The read paths' measurement under way, a cell per frame ([`Lab::matrix_frame`]).
    pending_matrix: StoredValue<Option<leaselab::matrix::Measurement>, LocalStorage>,
    /// The measurement's seed, progress (cells tried, of all) and cells.
    pub matrix: RwSignal<Option<MatrixView>>,
    pub help_open: RwSignal<bool>,
    /// Single-key shortcuts on (the help overlay turns them off).
    pub single_keys: RwSignal<bool>,
    /// Projector mode: large text, thick lines, the secondary panels hidden.
    pub projector: RwSignal<bool>,
    /// The reader asked for less motion (`prefers-reduced-motion`): messages in flight are drawn
    /// still, at the middle of their link, instead of gliding along it.
    pub reduced_motion: bool,
    log_cursor: StoredValue<u64>,
    /// Events from this trace position on are all logged, message traffic included: a Step
    /// shows everything it did (`u64::MAX`: none).
    log_all_from: StoredValue<u64>,
    /// The present, every animation frame (cluster view, clock, timeline).
    pub snap: RwSignal<Snapshot>,
    /// The present for the tables (nodes, inspector, client): refreshed on every action but
    /// only every [`PANEL_FRAME_INTERVAL`]th animation frame, since redrawing whole tables
    /// at 60 Hz costs more than a frame and nobody reads them that fast.
    pub panel_snap: RwSignal<Snapshot>,
    frames: StoredValue<u64>,
    pub timeline_view: RwSignal<TimelineView>,
    /// The space-time diagram of the last `spacetime_window_us` before the present (while its
    /// panel is out of view, refreshed only once a second: [`crate::on_screen`]).
    pub spacetime: RwSignal<SpaceTime>,
    /// The ring's marks for messages just dropped, from the diagram as it is built.
    pub drop_marks: RwSignal<String>,
    spacetime_window_us: StoredValue<u64>,
    /// Bumped whenever a different run is installed (reset, tour, shared link, import), so
    /// the controls can show that run's seed and config.
    pub run_generation: RwSignal<u64>,
    /// What the last time-travel or sharing action did (forks, imports), for the status line,
    /// and whether that was a failure (shown as an error). Set both with `set_timeline_note`.
    pub timeline_note: RwSignal<Option<String>>,
    /// An outside history opened with Import, judged by the model checker (the run goes on).
    pub judged_history: RwSignal<Option<crate::model::JudgedHistory>>,
    pub timeline_note_failed: RwSignal<bool>,
    pub log: RwSignal<Vec<String>>,
    /// The last refusal of a command, shown next to the controls.
    pub error: RwSignal<Option<String>>,
}

impl Lab {
    pub fn new(seed: u64, config: ClusterConfig) -> Lab {
        let timeline = Timeline::new(seed, config).expect("the page only builds valid configs");
        let snap = timeline.sim().snapshot();
        Lab {
            timeline: StoredValue::new_local(timeline),
            checked_at: StoredValue::new(u64::MAX),
            ops: RwSignal::new(Vec::new()),
            checker_summary: RwSignal::new(CheckerSummary::default()),
            selection: Selection {
                op: RwSignal::new(None),
                node: RwSignal::new(None),
                partition_pick: RwSignal::new(Vec::new()),
            },
            playback: Playback {
                playing: RwSignal::new(true),
                speed_index: RwSignal::new(crate::model::DEFAULT_SPEED_INDEX),
                behind: RwSignal::new(None),
                asked_us: StoredValue::new(0),
                ran_us: StoredValue::new(0),
            },
            tour: TourState {
                runner: StoredValue::new_local(None),
                view: RwSignal::new(None),
                guess: RwSignal::new(None),
                reveal: RwSignal::new(None),
                autoplay: RwSignal::new(None),
                autoplay_timer: StoredValue::new_local(None),
            },
            announcement: RwSignal::new(String::new()),
            announce_batch: StoredValue::new(crate::announcer::Batch::default()),
            announce_timer: StoredValue::new_local(None),
            pending_replay: StoredValue::new_local(None),
            pending_seek: StoredValue::new(None),
            pending_compare: StoredValue::new_local(None),
            compare: RwSignal::new(None),
            pending_matrix: StoredValue::new_local(None),
            matrix: RwSignal::new(None),
            help_open: RwSignal::new(false),
            single_keys: RwSignal::new(true),
            projector: RwSignal::new(false),
            reduced_motion: web_sys::window()
                .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
                .is_some_and(|q| q.matches()),
            log_cursor: StoredValue::new(0),
            log_all_from: StoredValue::new(u64::MAX),
            panel_snap: RwSignal::new(snap.clone()),
            frames: StoredValue::new(0),
            snap: RwSignal::new(snap),
            timeline_view: RwSignal::new(TimelineView::default()),
            spacetime: RwSignal::new(SpaceTime::default()),
            drop_marks: RwSignal::new(String::new()),
            spacetime_window_us: StoredValue::new(SPACETIME_WINDOW_DEFAULT_US),
            run_generation: RwSignal::new(0),
            timeline_note: RwSignal::new(None),
            judged_history: RwSignal::new(None),
            timeline_note_failed: RwSignal::new(false),
            log: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
        }
    }

    /// Says what a time-travel or sharing action did (`Ok`) or why it failed (`Err`); `None`
    /// clears the status line.
    pub fn set_timeline_note(&self, note: Option<Result<String, String>>) {
        self.timeline_note_failed.set(matches!(note, Some(Err(_))));
        self.timeline_note.set(note.map(|n| n.unwrap_or_else(|e| e)));
    }

    /// Applies a command; a refusal is returned and also shown, and changes nothing.
    /// In the past, a command forks the run (the recorded future is dropped; said in the
    /// timeline's status line).
    pub fn command(&self, command: Command) -> Result<Option<OpId>, CommandError> {
        let result = self.timeline.try_update_value(|t| t.apply(command));
        match result {
            Some(Ok((op, fork))) => {
                self.error.set(None);
                // The timeline's status line says what the latest action did: a fork, or nothing.
                self.set_timeline_note(fork.map(|fork| {
                    Ok(format!(
                        "Forked at {}: a new branch starts here ({} after it dropped)",
                        crate::model::format_time(fork.at),
                        crate::model::plural(fork.dropped_commands, "recorded command")
                    ))
                }));
                self.refresh();
                Ok(op)
            }
            Some(Err(e)) => {
                self.error.set(Some(e.to_string()));
                Err(e)
            }
            None => Ok(None),
        }
    }

    /// Advances simulated time by `us`. Returns false once the page has been torn down.
    pub fn advance_us(&self, us: u64) -> bool {
        let alive = self.run_for_us(us, &|| true).is_some();
        if alive {
            self.refresh();
        }
        alive
    }

    /// Runs the simulation `us` further: at most a frame's worth of events, and no further
    /// slice once `more_time` says no. Returns the simulated µs run, `None` once the page has
    /// been torn down.
    fn run_for_us(&self, us: u64, more_time: &dyn Fn() -> bool) -> Option<u64> {
        self.timeline.try_update_value(|t| {
            let start = t.sim().now();
            let target = start.plus_us(us);
            let mut events = 0;
            while !t.advance(target, EVENTS_PER_SLICE) {
                events += EVENTS_PER_SLICE;
                if events >= EVENTS_PER_FRAME_MAX || !more_time() {
                    break;
                }
            }
            t.sim().now().saturating_sub(start)
        })
    }

    /// Chooses speed `i` of [`crate::model::SPEEDS`]; what the page achieved at the old one
    /// no longer says anything.
    pub fn set_speed(&self, i: usize) {
        self.playback.speed_index.set(i.min(crate::model::SPEEDS.len() - 1));
        self.playback.behind.set(None);
        self.playback.asked_us.set_value(0);
        self.playback.ran_us.set_value(0);
    }

    /// Heals every link to and from `node` (the isolate button's other half).
    pub fn rejoin(&self, node: leaselab::NodeId) {
        let count = self.snap.with_untracked(|s| s.nodes.len() as u64);
        for other in (1..=count).map(leaselab::NodeId).filter(|o| *o != node) {
            for (from, to) in [(node, other), (other, node)] {
                let _ = self.command(Command::HealLink { from, to });
            }
        }
    }

    /// Play ⇄ pause. Pausing republishes every panel: while playing, the tables and the
    /// checker refresh only every few frames, and a paused page must show one moment.
    pub fn toggle_play(&self) {
        let playing = !self.playback.playing.get_untracked();
        self.playback.playing.set(playing);
        if !playing {
            self.playback.behind.set(None);
            self.refresh();
        }
    }

    /// Handles exactly the next due event (the finest step).
    pub fn step_event(&self) {
        self.timeline.update_value(|t| {
            self.log_all_from.set_value(t.sim().trace().len());
            t.step();
        });
        self.refresh();
    }

    /// Scrubs to true time `to`, replaying from the nearest checkpoint when going back. A
    /// replay longer than [`SEEK_AT_ONCE_SLICES`] slices goes on a slice per frame
    /// ([`Lab::seek_frame`]) with its progress shown, so a scrub across a long, busy run never
    /// holds the page still.
    pub fn seek(&self, to: SimTime) {
        self.pending_seek.set_value(None);
        match self.timeline.try_update_value(|t| t.begin_seek(to)) {
            Some(Ok(())) => {}
            Some(Err(e)) => return self.set_timeline_note(Some(Err(e))),
            None => return,
        }
        // The history and trace may now be a different (earlier) run: rebuild the views.
        self.reset_views();
        self.pending_seek.set_value(Some((to, self.run_mark())));
        let slices = std::cell::Cell::new(0);
        self.seek_frame(&|| {
            slices.set(slices.get() + 1);
            slices.get() < SEEK_AT_ONCE_SLICES
        });
    }

    /// Runs a scrub's replay for this frame's time; false when none is under way. Anything
    /// done to the present run meanwhile (a command, a step, another run) stops it where it
    /// got to; another scrub starts over from its own checkpoint.
    pub fn seek_frame(&self, more_time: &dyn Fn() -> bool) -> bool {
        let Some((to, mark)) = self.pending_seek.try_update_value(Option::take).flatten() else {
            return false;
        };
        if self.run_mark() != mark {
            let now = self.timeline.with_value(|t| t.sim().now());
            self.set_timeline_note(Some(Ok(format!("Scrub stopped at {}", crate::model::format_time(now)))));
            return false;
        }
        let mut done = false;
        while !done {
            done = self.timeline.try_update_value(|t| t.advance(to, EVENTS_PER_SLICE)).unwrap_or(true);
            if !more_time() {
                break;
            }
        }
        if done {
            self.set_timeline_note(None);
            // The log shows the moment scrubbed to, not the replay that led there.
            self.reset_views();
            self.refresh();
        } else {
            self.pending_seek.set_value(Some((to, self.run_mark())));
            let now = self.timeline.with_value(|t| t.sim().now());
            self.show_seek_progress(now, to);
        }
        true
    }

    /// Says how far a scrub's replay has got, and moves the present's clock with it.
    fn show_seek_progress(&self, now: SimTime, to: SimTime) {
        self.set_timeline_note(Some(Ok(format!(
            "Scrubbing: replaying {} of {}…",
            crate::model::format_time(now),
            crate::model::format_time(to)
        ))));
        self.refresh_frame();
    }

    pub fn toggle_pick(&self, node: leaselab::NodeId) {
        self.selection.partition_pick.update(|p| match p.iter().position(|n| *n == node) {
            Some(i) => {
                p.remove(i);
            }
            None => {
                p.push(node);
                leaselab::order::sort_by_key(p, |n| (n.0, 0, 0));
            }
        });
    }

    /// Partitions the picked nodes from the rest (then clears the pick).
    pub fn partition_picked(&self) {
        let picked = self.selection.partition_pick.get_untracked();
        if picked.is_empty() {
            return;
        }
        if picked.len() >= self.snap.with_untracked(|s| s.nodes.len()) {
            return self
                .error
                .set(Some("Pick some of the nodes, not all: a partition needs nodes on both sides".into()));
        }
        if self.command(Command::Partition { groups: vec![picked] }).is_ok() {
            self.selection.partition_pick.set(Vec::new());
        }
    }

    /// The newest entries of a node's raft log, for the inspector.
    pub fn log_tail(&self, node: leaselab::NodeId, count: usize) -> Vec<leaselab::snapshot::LogEntryView> {
        self.timeline.with_value(|t| t.sim().log_tail(node, count))
    }

    /// The space-time diagram: the last `window` before the present, or — when the selected
    /// operation lies before that — the moment of that operation, so selecting any operation
    /// in the log shows it in the diagram.
    fn build_diagram(&self, sim: &leaselab::Sim, window: u64) -> SpaceTime {
        let now = sim.now();
        let focus = self
            .selection
            .op
            .get_untracked()
            .and_then(|op| sim.history().get(op))
            .map(|r| r.completed_at.unwrap_or(r.invoked_at))
            .filter(|t| t.0 + window * 3 / 4 < now.0)
            .map_or(now, |t| SimTime(t.0 + window / 4).min(now));
        leaselab::spacetime::build_at(sim, focus, window, SPACETIME_ARROWS_MAX)
    }

    /// Recomputes the diagram alone (the selection moved).
    pub fn refresh_diagram(&self) {
        let window = self.spacetime_window_us.get_value();
        if let Some(diagram) = self.timeline.try_with_value(|t| self.build_diagram(t.sim(), window)) {
            self.spacetime.set(diagram);
        }
    }

    /// The ring's marks for messages dropped just now: from the panel's diagram when it ends at
    /// the present, else from a diagram of the last moment alone (cheap to build: the panel is
    /// out of view, or looks at the past around a selected operation).
    fn present_drop_marks(sim: &leaselab::Sim, panel: Option<&SpaceTime>) -> String {
        match panel {
            Some(d) if !d.past => crate::model::drop_marks(d),
            _ => crate::model::drop_marks(&leaselab::spacetime::build_at(
                sim,
                sim.now(),
                crate::model::DROP_SHOWN_US,
                SPACETIME_ARROWS_MAX,
            )),
        }
    }

    pub fn set_spacetime_window(&self, us: u64) {
        self.spacetime_window_us.set_value(us);
        self.refresh();
    }

    /// The URL fragment that reproduces the run up to the present. A replay under way is
    /// finished first: the run being opened is the one to share (and export).
    pub fn share_fragment(&self) -> Result<String, String> {
        self.replay_frame(&|| true);
        self.timeline.with_value(|t| Recording::of(t.sim()).map(|r| r.to_url_fragment()))
    }

    /// The run up to the present as a JSON document (config, commands, history, trace).
    pub fn export_json(&self) -> Result<String, String> {
        self.replay_frame(&|| true);
        self.timeline.with_value(|t| RunExport::of(t.sim()).map(|e| e.to_json_pretty()))
    }

    /// Opens a shared run from a URL fragment. On failure the current run is untouched.
    pub fn open_fragment(&self, fragment: &str) -> Result<(), String> {
        let replay = Recording::from_url_fragment(fragment).and_then(|r| r.start_replay());
        self.begin_replay(replay, (OPENED_LINK, "Could not open the shared link, so this is a fresh run"))
    }

    /// Opens a file: a history from outside (a Jepsen log, EDN maps or JSON lines) is judged
    /// by the model checker and shown beside the run; anything else is opened as an exported
    /// run ([`Lab::import_json`]).
    pub fn import_file(&self, text: &str) -> Result<(), String> {
        match crate::model::judge_history(text) {
            Some(judged) => {
                let note = format!("Checked the imported history — {}", judged.headline());
                self.judged_history.set(Some(judged));
                self.set_timeline_note(Some(Ok(note)));
                Ok(())
            }
            None => self.import_json(text),
        }
    }

    /// Opens an exported run. On failure the current run is untouched.
    pub fn import_json(&self, text: &str) -> Result<(), String> {
        self.begin_replay(
            RunExport::start_import(text),
            ("Imported the run", "Import failed, the current run is unchanged"),
        )
    }

    /// Replays a short run at once (its failure is returned); a longer one is left to
    /// [`Lab::replay_frame`], and the present run pauses meanwhile.
    fn begin_replay(&self, replay: Result<Replay, String>, words: ReplayWords) -> Result<(), String> {
        // Opening another run cancels a replay under way, whether or not this one opens.
        self.pending_replay.set_value(None);
        let mut replay = replay?;
        if replay.advance(REPLAY_AT_ONCE_EVENTS) {
            self.install_timeline(replay.finish()?, words.0);
        } else {
            self.playback.playing.set(false);
            self.pending_replay.set_value(Some((replay, words, self.run_mark())));
            self.replay_frame(&|| false);
        }
        Ok(())
    }

    /// Runs a replay under way for this frame's time and shows how far it got; opens the run
    /// when it is done. False when no replay is under way.
    pub fn replay_frame(&self, more_time: &dyn Fn() -> bool) -> bool {
        let Some((mut replay, words, mark)) = self.pending_replay.try_update_value(Option::take).flatten() else {
            return false;
        };
        // Playing or changing the present run meanwhile (a command, a step, a scrub) means
        // the user went on with it: the replay stops rather than replace what they did.
        if self.playback.playing.get_untracked() || self.run_mark() != mark {
            self.set_timeline_note(Some(Err("Replay cancelled".into())));
            return false;
        }
        let mut done = replay.advance(EVENTS_PER_SLICE);
        while !done && more_time() {
            done = replay.advance(EVENTS_PER_SLICE);
        }
        if done {
            match replay.finish() {
                Ok(timeline) => self.install_timeline(timeline, words.0),
                Err(e) => self.set_timeline_note(Some(Err(format!("{}: {e}", words.1)))),
            }
        } else {
            let (now, end) = replay.progress();
            self.set_timeline_note(Some(Ok(format!(
                "Replaying: {} of {}…",
                crate::model::format_time(now),
                crate::model::format_time(end)
            ))));
            self.pending_replay.set_value(Some((replay, words, mark)));
        }
        true
    }

    /// Starts comparing the run so far under every leader lease policy: its commands re-run
    /// from its seed, a slice per frame ([`Lab::compare_frame`]).
    pub fn start_compare(&self) -> Result<(), String> {
        let (comparison, what) = self.timeline.with_value(|t| {
            let sim = t.sim();
            if sim.command_log_truncated() {
                return Err("this run's command log outgrew its limit, so it cannot be re-run".to_string());
            }
            let what = format!("seed {}, the first {}", sim.seed(), crate::model::format_time(sim.now()));
            Ok((Comparison::of_run(sim.seed(), sim.config(), sim.command_log(), sim.now())?, what))
        })?;
        self.pending_compare.set_value(Some(comparison));
        self.compare.set(Some((what, 0, Vec::new())));
        Ok(())
    }

    /// Runs a comparison under way for this frame's time; shows its runs when it is done.
    pub fn compare_frame(&self, more_time: &dyn Fn() -> bool) {
        let Some(mut comparison) = self.pending_compare.try_update_value(Option::take).flatten() else { return };
        let mut done = comparison.advance(EVENTS_PER_SLICE);
        while !done && more_time() {
            done = comparison.advance(EVENTS_PER_SLICE);
        }
        let (ran, _) = comparison.progress();
        let runs = if done { comparison.results() } else { Vec::new() };
        if self.compare.with_untracked(|c| c.as_ref().is_some_and(|c| c.1 != ran)) {
            self.compare.update(|c| {
                if let Some(c) = c {
                    (c.1, c.2) = (ran, runs);
                }
            });
        }
        if !done {
            self.pending_compare.set_value(Some(comparison));
        }
    }

    /// Starts measuring the read paths with the run's seed ([`Lab::matrix_frame`]).
    pub fn start_matrix(&self) {
        let seed = self.timeline.with_value(|t| t.sim().seed());
        self.start_matrix_with(seed, leaselab::matrix::Measurement::new(seed));
    }

    /// Starts `measurement` (of seed `seed`) in place of any under way.
    pub fn start_matrix_with(&self, seed: u64, measurement: leaselab::matrix::Measurement) {
        self.matrix.set(Some((seed, measurement.progress(), Vec::new())));
        self.pending_matrix.set_value(Some(measurement));
    }

    /// Measures one cell of a measurement under way; shows the cells when it is done.
    pub fn matrix_frame(&self) {
        let Some(mut m) = self.pending_matrix.try_update_value(Option::take).flatten() else { return };
        let done = m.step();
        let progress = m.progress();
        self.matrix.update(|s| {
            if let Some(s) = s {
                s.1 = progress;
                if done {
                    s.2 = std::mem::take(&mut m.cells);
                }
            }
        });
        if !done {
            self.pending_matrix.set_value(Some(m));
        }
    }

    /// Where the present run is: any action on it moves this.
    fn run_mark(&self) -> (u64, SimTime) {
        self.timeline.with_value(|t| (t.sim().trace().len(), t.sim().now()))
    }

    fn install_timeline(&self, timeline: Timeline, what: &str) {
        let note = format!(
            "{what}: seed {}, {}, replayed to {} (trace hash {:016x})",
            timeline.sim().seed(),
            crate::model::plural(timeline.recorded().len(), "command"),
            crate::model::format_time(timeline.sim().now()),
            timeline.sim().trace_hash()
        );
        self.exit_tour();
        self.playback.playing.set(false);
        self.install(timeline);
        self.set_timeline_note(Some(Ok(note)));
    }

    /// Starts over with a new seed and configuration.
    pub fn reset(&self, seed: u64, config: ClusterConfig) -> Result<(), String> {
        let timeline = Timeline::new(seed, config).map_err(|e| e.to_string())?;
        self.exit_tour();
        self.install(timeline);
        Ok(())
    }

    /// Starts a built-in guided tour from its seed (paused: the presenter steps it).
    pub fn start_tour(&self, name: &str) -> Result<(), String> {
        let scenario = builtin(name)?;
        let (runner, sim) = ScenarioRunner::start(scenario);
        self.install(Timeline::from_sim(sim));
        self.tour.runner.set_value(Some(runner));
        self.set_autoplay(None);
        self.playback.playing.set(false);
        self.clear_prediction();
        self.publish_tour(None);
        Ok(())
    }

    /// Runs the tour's next step; after the last one, runs to the end and checks expectations.
    pub fn tour_next(&self) {
        let Some(mut runner) = self.tour.runner.get_value() else { return };
        let question = runner.upcoming_question();
        let mut results = None;
        let mut stepped = false;
        self.timeline.update_value(|t| {
            // Scrubbed back? The tour goes on from where it was, not from the moment on show
            // (the recording replays to it exactly).
            if t.in_past() {
                let _ = t.seek(t.horizon());
            }
            if runner.is_done() {
                // The final check judges the whole history afresh: a run restored from a
                // checkpoint replays from its start to hold it all again.
                let _ = t.rebuild_whole_history();
            }
            t.drive(|sim| {
                if runner.is_done() {
                    let report = runner.finish(sim);
                    results =
                        Some(report.expectations.into_iter().map(|e| (e.description, e.passed, e.detail)).collect());
                } else {
                    runner.step(sim);
                    stepped = true;
                }
            })
        });
        // A step that asks for the comparison starts it once the step has run.
        let compare =
            stepped && runner.next.checked_sub(1).and_then(|i| runner.scenario.steps.get(i)).is_some_and(|s| s.compare);
        // A step that asked a question reveals the answer; a step without one keeps the last
        // reveal on show (its operation may finish only now).
        if let Some(q) = question {
            let guess = self.tour.guess.get_untracked();
            self.tour.reveal.set(runner.op_id(q.op).map(|op| Reveal { op, kind: q.kind, guess }));
        }
        self.tour.guess.set(None);
        self.tour.runner.set_value(Some(runner));
        self.refresh();
        self.publish_tour(results);
        if let Some(mut a) = self.tour.autoplay.get_untracked() {
            a.restart();
            self.tour.autoplay.set(Some(a));
        }
        if compare {
            if let Err(e) = self.start_compare() {
                self.error.set(Some(e));
            }
        }
    }

    /// Goes one step back: replays the tour from its seed up to the previous step (runs are
    /// deterministic, so this is exactly the earlier state).
    pub fn tour_back(&self) {
        let Some(current) = self.tour.runner.get_value() else { return };
        let target = current.next.saturating_sub(1);
        let (mut runner, sim) = ScenarioRunner::start(current.scenario);
        let mut timeline = Timeline::from_sim(sim);
        for _ in 0..target {
            timeline.drive(|sim| runner.step(sim));
        }
        self.install(timeline);
        self.tour.runner.set_value(Some(runner));
        self.clear_prediction();
        self.publish_tour(None);
    }

    pub fn exit_tour(&self) {
        self.set_autoplay(None);
        self.tour.runner.set_value(None);
        self.tour.view.set(None);
        self.clear_prediction();
    }

    /// Presenter autoplay: `Some(pause)` makes the tour play itself, a step every `pause`
    /// seconds; `None` stops it. Called from clicks, never from the timer itself (dropping an
    /// interval inside its own callback would free the closure that is running).
    pub fn set_autoplay(&self, pause_s: Option<u32>) {
        self.tour.autoplay_timer.set_value(None);
        self.tour.autoplay.set(pause_s.map(crate::autoplay::Autoplay::new));
        if pause_s.is_some() {
            let lab = *self;
            self.tour.autoplay_timer.set_value(Some(crate::timers::every(1_000, move || lab.autoplay_tick())));
        }
    }

    /// Space during autoplay: hold or resume the countdown.
    pub fn toggle_autoplay_hold(&self) {
        self.tour.autoplay.update(|a| {
            if let Some(a) = a {
                a.paused = !a.paused;
            }
        });
    }

    /// Where the tour is, as autoplay sees it (tracked: the countdown line follows it).
    pub fn tour_at(&self) -> crate::autoplay::TourAt {
        use crate::autoplay::TourAt;
        self.tour.view.with(|v| match v {
            None => TourAt::Checked,
            Some(t) if t.results.is_some() => TourAt::Checked,
            Some(t) if t.predict.is_some() && t.applied < t.total => TourAt::AwaitingPrediction,
            Some(_) => TourAt::Ready,
        })
    }

    fn autoplay_tick(&self) {
        use crate::autoplay::Tick;
        let Some(mut autoplay) = self.tour.autoplay.get_untracked() else { return };
        let tick = autoplay.tick(untrack(|| self.tour_at()));
        self.tour.autoplay.set(Some(autoplay));
        match tick {
            Tick::Wait => {}
            Tick::Step => self.tour_next(),
            // The tour is over: autoplay ends (space plays and pauses the run again); its timer
            // goes on the next turn.
            Tick::Finished => {
                self.tour.autoplay.set(None);
                let lab = *self;
                crate::timers::after(0, move || lab.tour.autoplay_timer.set_value(None)).forget();
            }
        }
    }

    /// Once announcements are waiting, reads them out together when the batch's time is up
    /// (crate::announcer). The timer that fired is replaced by the next batch's, never dropped
    /// inside its own callback.
    fn schedule_announcements(&self, was_empty: bool) {
        if !was_empty || self.announce_batch.with_value(crate::announcer::Batch::is_empty) {
            return;
        }
        let lab = *self;
        let flush = move || {
            let batch = lab.announce_batch.try_update_value(std::mem::take).unwrap_or_default();
            lab.announcement.set(batch.text());
        };
        self.announce_timer.set_value(Some(crate::timers::after(crate::announcer::BATCH_MS, flush)));
    }

    fn clear_prediction(&self) {
        self.tour.guess.set(None);
        self.tour.reveal.set(None);
    }

    /// Forgets what the views derived incrementally (the checker's rows, event log lines); the
    /// next refresh rebuilds them from the present simulation.
    fn reset_views(&self) {
        self.checked_at.set_value(u64::MAX);
        let recent = self.timeline.with_value(|t| t.sim().trace().len().saturating_sub(LOG_REBUILD_EVENTS));
        self.log_cursor.set_value(recent);
        self.log.set(Vec::new());
    }

    fn install(&self, timeline: Timeline) {
        // A new run (Reset, a tour, another link) cancels a replay or comparison under way.
        self.pending_replay.set_value(None);
        self.pending_seek.set_value(None);
        self.pending_compare.set_value(None);
        self.compare.set(None);
        self.timeline.set_value(timeline);
        self.set_timeline_note(None);
        self.selection.op.set(None);
        self.selection.partition_pick.set(Vec::new());
        self.error.set(None);
        self.reset_views();
        self.refresh();
        self.run_generation.update(|g| *g += 1);
    }

    fn publish_tour(&self, results: Option<Vec<(String, bool, String)>>) {
        let view = self.tour.runner.with_value(|t| {
            t.as_ref().map(|r| {
                let steps = &r.scenario.steps;
                TourView {
                    name: r.scenario.name.clone(),
                    title: r.scenario.title.clone(),
                    applied: r.next,
                    total: steps.len(),
                    narration: r.next.checked_sub(1).map(|i| match r.late {
                        // Played past the step's moment: say so rather than let it misfire.
                        Some(planned) => format!(
                            "{} (late: planned for {}; restart the tour to see it as written)",
                            steps[i].narration,
                            crate::model::format_time(planned)
                        ),
                        None => steps[i].narration.clone(),
                    }),
                    upcoming: r.upcoming().map(|s| s.narration.clone()),
                    predict: r.upcoming().and_then(|s| s.predict.clone()),
                    choices: r.upcoming_question().map_or(Vec::new(), |q| q.choices().to_vec()),
                    results,
                }
            })
        });
        self.tour.view.set(view);
    }

    /// Advances by `us` for one animation frame, while `more_time` allows: the tables
    /// refresh only every few frames. Says when the simulation falls behind the speed.
    pub fn advance_frame_us(&self, us: u64, more_time: &dyn Fn() -> bool) -> bool {
        let ran = self.run_for_us(us, more_time);
        let alive = ran.is_some();
        if let Some(ran) = ran {
            let frame = self.frames.get_value() + 1;
            self.playback.asked_us.update_value(|a| *a += us);
            self.playback.ran_us.update_value(|r| *r += ran);
            if frame.is_multiple_of(SPEED_WINDOW_FRAMES) {
                let (asked, ran) = (self.playback.asked_us.get_value(), self.playback.ran_us.get_value());
                let speed = crate::model::SPEEDS[self.playback.speed_index.get_untracked()].0;
                // Falls behind below 95 % (frames differ in length); catches up only at 99 %,
                // so a load near the machine's limit does not flip the note every second.
                let was_behind = self.playback.behind.with_untracked(Option::is_some);
                let behind = if was_behind { ran * 100 < asked * 99 } else { ran * 20 < asked * 19 };
                let achieved =
                    behind.then(|| format!("≈{}", crate::model::speed_label(speed * ran as f64 / asked as f64)));
                self.playback.behind.set(achieved);
                self.playback.asked_us.set_value(0);
                self.playback.ran_us.set_value(0);
            }
            self.refresh_frame();
        }
        alive
    }

    /// Republishes what one frame of a moving present shows: the tables and the checker's
    /// rows take turns, so no frame carries both. The space-time diagram redraws every other
    /// frame (30 Hz is smooth for a plot scrolling a few pixels per frame); the cluster view
    /// every frame.
    fn refresh_frame(&self) {
        let frame = self.frames.get_value() + 1;
        self.frames.set_value(frame);
        let work = match frame % PANEL_FRAME_INTERVAL {
            0 => PanelWork::Tables,
            4 => PanelWork::Checker,
            2 => PanelWork::None,
            _ => PanelWork::Diagram,
        };
        // What is out of view waits for the once-a-second round (crate::on_screen). The
        // diagram's turn still comes: the ring's drop marks are refreshed with it.
        let region = match work {
            PanelWork::Tables => Some("[data-refresh~=tables]"),
            PanelWork::Checker => Some("[data-refresh~=ops]"),
            PanelWork::Diagram => Some("[data-refresh~=diagram]"),
            PanelWork::None | PanelWork::All => None,
        };
        let every_region = (frame / PANEL_FRAME_INTERVAL).is_multiple_of(OFF_SCREEN_ROUNDS);
        let shown = every_region || region.is_none_or(crate::on_screen::in_view);
        let work = if shown || matches!(work, PanelWork::Diagram) { work } else { PanelWork::None };
        self.refresh_with(work, shown);
    }

    fn refresh(&self) {
        self.refresh_with(PanelWork::All, true);
    }

    /// Republishes the present, plus the slower panels `work` names. With the diagram's turn,
    /// the ring's drop marks are refreshed; the diagram itself is built only if `diagram_shown`.
    fn refresh_with(&self, work: PanelWork, diagram_shown: bool) {
        let tables = matches!(work, PanelWork::Tables | PanelWork::All);
        let checker = matches!(work, PanelWork::Checker | PanelWork::All);
        let diagram_turn = matches!(work, PanelWork::Diagram | PanelWork::All);
        let window = self.spacetime_window_us.get_value();
        let (snap, lines, cursor, view, (diagram, marks)) = self.timeline.with_value(|t| {
            let s = t.sim();
            let from = self.log_cursor.get_value();
            let lines: Vec<String> = if tables {
                let all_from = self.log_all_from.get_value();
                self.log_all_from.set_value(u64::MAX);
                let logged = |e: &&leaselab::TracedEvent| e.seq >= all_from || is_notable(&e.event);
                // Only the newest LOG_LINES_MAX can stay in the log: a fast run brings
                // thousands of events a refresh, and writing out the rest was a tenth of the
                // page's time at 100×.
                let kept: Vec<&leaselab::TracedEvent> = s.events_since(from).filter(logged).collect();
                kept[kept.len().saturating_sub(LOG_LINES_MAX)..].iter().map(|e| e.to_string()).collect()
            } else {
                Vec::new()
            };
            let view = TimelineView { now: s.now(), horizon: t.horizon(), in_past: t.in_past() };
            // The screen reader hears the live run, not a replay rushing by.
            let live = tables
                && !view.in_past
                && self.pending_replay.with_value(Option::is_none)
                && self.pending_seek.with_value(Option::is_none);
            if live {
                let was_empty = self.announce_batch.with_value(crate::announcer::Batch::is_empty);
                self.announce_batch.update_value(|b| b.absorb(s, s.events_since(from).map(|e| &e.event)));
                self.schedule_announcements(was_empty);
            }
            let diagram = (diagram_turn && diagram_shown).then(|| self.build_diagram(s, window));
            let marks = diagram_turn.then(|| Self::present_drop_marks(s, diagram.as_ref()));
            (s.snapshot(), lines, s.trace().len(), view, (diagram, marks))
        });
        if let Some(marks) = marks {
            if self.drop_marks.with_untracked(|m| *m != marks) {
                self.drop_marks.set(marks);
            }
        }
        if let Some(diagram) = diagram {
            self.spacetime.set(diagram);
        }
        if self.timeline_view.with_untracked(|v| *v != view) {
            self.timeline_view.set(view);
        }
        // The checker and the operation rows change only with new events: skip quiet frames.
        if checker && cursor != self.checked_at.get_value() {
            self.checked_at.set_value(cursor);
            self.refresh_checker();
        }
        if !tables {
            self.snap.set(snap);
            return;
        }
        self.log_cursor.set_value(cursor);
        self.panel_snap.set(snap.clone());
        self.snap.set(snap);
        if !lines.is_empty() {
            self.log.update(|log| {
                log.extend(lines);
                let excess = log.len().saturating_sub(LOG_LINES_MAX);
                log.drain(..excess);
            });
        }
    }
}

impl Lab {
    /// Runs the simulation's incremental linearizability checker and republishes the
    /// operation rows.
    fn refresh_checker(&self) {
        self.timeline.update_value(Timeline::check);
        let (rows, summary) = self.timeline.with_value(|t| {
            let sim = t.sim();
            let c = sim.checker();
            let rows: Vec<OpRow> = sim
                .history()
                .iter()
                .rev()
                .take(OP_ROWS_MAX)
                .map(|r| {
                    let verdict = c.verdict(r.id);
                    let explanation = match verdict {
                        Some(Verdict::Stale(s)) => Some(explain_stale_read(sim, s)),
                        Some(Verdict::Violation { note }) => Some(note.clone()),
                        _ => None,
                    };
                    let verdict = verdict.cloned();
                    OpRow { record: r.clone(), verdict, explanation }
                })
                .collect();
            let summary = CheckerSummary {
                checked: c.checked_ops(),
                stale: c.stale_reads().len(),
                last_stale: c.stale_reads().last().map(|s| (explain_stale_read(sim, s), s.read)),
            };
            (rows, summary)
        });
        if self.ops.with_untracked(|o| *o != rows) {
            self.ops.set(rows);
        }
        if self.checker_summary.with_untracked(|s| *s != summary) {
            self.checker_summary.set(summary);
        }
    }
}

/// Message traffic is drawn, not logged; everything else goes to the log. Drops are traffic
/// too: a cut link or a crashed node drops a heartbeat every tick, and their lines pushed the
/// elections and commands out of the log (the diagram marks each drop with a cross).
fn is_notable(event: &Event) -> bool {
    !matches!(
        event,
        Event::MessageSent { .. }
            | Event::MessageDelivered { .. }
            | Event::MessageDuplicated { .. }
            | Event::MessageDropped { .. }
    )
}
