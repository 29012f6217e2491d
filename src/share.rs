//! Sharing a run: as a URL or as a JSON file.
//!
//! A run is reproduced by its seed, config and command log ([`Recording`]). The recording
//! also carries the trace hash at its end, so an edited URL or file that still parses is
//! caught when it is replayed: the hash would differ. A JSON export adds the run's history and
//! retained trace for reading elsewhere; on import those are checked against the replay too.
//! Every failure is an `Err` with a reason, and the caller's current run is untouched.

use crate::client_op::ClientOp;
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::event::{TracedEvent, TRACE_CHECKPOINT_KEPT};
use crate::history::OpRecord;
use crate::mvcc::TxnOp;
use crate::sim::{LoggedCommand, Sim};
use crate::time::SimTime;
use crate::timeline::Timeline;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Version of the recording format written. Format 1 (before client operations had one type
/// and key leases were named as such) is still read: its commands' older names are read as
/// the new ones. Formats 1 and 2 predate raft log compaction's catch-up entries: they replay
/// with `log_catch_up_entries` 0, the compaction they were recorded with. Other versions are
/// refused.
pub const FORMAT: u32 = 3;
/// The first format whose configuration has `log_catch_up_entries`.
const FORMAT_CATCH_UP: u32 = 3;
/// The oldest format still read.
pub const FORMAT_OLDEST: u32 = 1;
/// The URL fragment key: `…/#run=<base64url of the recording's JSON>`.
pub const URL_KEY: &str = "run=";
/// The longest run a recording may claim. The page replays a long run a slice per frame
/// ([`Replay`]), but an idle day already takes seconds, and a hand-edited link claiming a month
/// would keep it replaying for minutes.
pub const RUN_END_MAX: SimTime = SimTime(24 * 3_600_000_000);

/// Everything needed to reproduce a run, and how to tell it was reproduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub format: u32,
    pub seed: u64,
    pub config: ClusterConfig,
    pub commands: Vec<LoggedCommand>,
    /// True time the run had reached.
    pub end: SimTime,
    /// Trace hash at `end`, in hex (a JSON number would lose bits in JavaScript).
    pub trace_hash: String,
}

/// A run as a file: the recording plus what it produced (read back by [`RunExport::import`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunExport {
    pub recording: Recording,
    pub history: Vec<OpRecord>,
    /// The newest events of the trace (at most [`TRACE_CHECKPOINT_KEPT`]; older ones are
    /// summed up in the recording's trace hash).
    pub trace: Vec<TracedEvent>,
}

impl Recording {
    /// The run up to `sim`'s present.
    pub fn of(sim: &Sim) -> Result<Recording, String> {
        if sim.command_log_truncated() {
            return Err("this run's command log outgrew its limit, so it cannot be shared".to_string());
        }
        if sim.now() > RUN_END_MAX {
            return Err("this run is past 24 h of simulated time, the longest a shared run replays".to_string());
        }
        Ok(Recording {
            format: FORMAT,
            seed: sim.seed(),
            config: sim.config().clone(),
            commands: sim.command_log().to_vec(),
            end: sim.now(),
            trace_hash: hex(sim.trace_hash()),
        })
    }

    /// Replays the recording to its end and checks the trace hash. The timeline keeps the
    /// recording as its branch, so the result can be scrubbed and forked.
    pub fn replay(&self) -> Result<Timeline, String> {
        self.start_replay()?.finish()
    }

    /// A replay of this recording, not yet run: advance it in slices, then finish it.
    pub fn start_replay(&self) -> Result<Replay, String> {
        if !(FORMAT_OLDEST..=FORMAT).contains(&self.format) {
            return Err(format!(
                "format {} is not supported (this Lease Lab reads formats {FORMAT_OLDEST} to {FORMAT})",
                self.format
            ));
        }
        if self.end > RUN_END_MAX {
            return Err(format!(
                "the run claims {} h of simulated time; Lease Lab replays runs of at most 24 h (was it edited?)",
                crate::decimal::fixed(self.end.0 as f64 / 3.6e9, 1)
            ));
        }
        let mut config = self.config.clone();
        if self.format < FORMAT_CATCH_UP {
            config.log_catch_up_entries = 0;
        }
        let timeline = Timeline::replaying(self.seed, config, self.commands.clone(), self.end)?;
        Ok(Replay { timeline, recording: self.clone(), file: None })
    }

    /// Checks that `sim`, replayed to the recording's end, reproduced the run.
    fn check(&self, sim: &Sim) -> Result<(), String> {
        if let Some(why) = sim.replay_diverged() {
            return Err(format!("the run does not reproduce: {why} (was it edited?)"));
        }
        if let Some(stuck) = sim.pending_replay().front() {
            return Err(format!("the run never reached its command \"{}\" at {}", stuck.command.summary(), stuck.at));
        }
        let got = hex(sim.trace_hash());
        if got != self.trace_hash && !self.hash_predates_wording() {
            return Err(format!(
                "the run does not reproduce: it should end with trace hash {} but replaying it gives {got} (was it edited?)",
                self.trace_hash
            ));
        }
        Ok(())
    }

    /// Whether the recorded trace hash was taken over event texts worded differently from
    /// today's: format 1 described key lease operations and their failures without the word
    /// "key", and those texts are part of the hash. Such a recording is still checked
    /// command by command (each must fall due at its recorded position), but its end hash
    /// cannot be compared.
    pub fn hash_predates_wording(&self) -> bool {
        self.format == 1 && self.commands.iter().any(|c| mentions_key_lease(&c.command))
    }

    pub fn to_json(&self) -> String {
        to_json_text(self, false)
    }

    /// Parses a recording; errors name the line, column and field.
    pub fn from_json(text: &str) -> Result<Recording, String> {
        serde_json::from_slice(text.as_bytes()).map_err(|e| format!("not a Lease Lab run: {e}"))
    }

    /// The URL fragment (without `#`) that reproduces this run.
    pub fn to_url_fragment(&self) -> String {
        format!("{URL_KEY}{}", URL_SAFE_NO_PAD.encode(self.to_json()))
    }

    /// Reads a URL fragment (with or without the leading `#`).
    pub fn from_url_fragment(fragment: &str) -> Result<Recording, String> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let data = fragment
            .strip_prefix(URL_KEY)
            .ok_or_else(|| format!("the link has no run in it (expected #{URL_KEY}…)"))?;
        let bytes = URL_SAFE_NO_PAD.decode(data.trim()).map_err(|e| format!("the link is damaged: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| "the link is damaged: not UTF-8 text".to_string())?;
        Recording::from_json(&text).map_err(|e| format!("the link is damaged: {e}"))
    }
}

impl RunExport {
    pub fn of(sim: &Sim) -> Result<RunExport, String> {
        Ok(RunExport {
            recording: Recording::of(sim)?,
            history: sim.history().iter().cloned().collect(),
            trace: {
                let skip = sim.trace().len().saturating_sub(TRACE_CHECKPOINT_KEPT as u64);
                sim.events_since(skip).cloned().collect()
            },
        })
    }

    pub fn to_json_pretty(&self) -> String {
        to_json_text(self, true)
    }

    /// Parses an export, replays its recording and checks that the history and trace in the
    /// file are the ones the replay produces; on success the replay's own export is returned.
    pub fn import(text: &str) -> Result<(RunExport, Timeline), String> {
        let timeline = RunExport::start_import(text)?.finish()?;
        Ok((RunExport::of(timeline.sim())?, timeline))
    }

    /// Parses an export into a replay of its recording, not yet run; finishing it also
    /// checks the file's history and trace.
    pub fn start_import(text: &str) -> Result<Replay, String> {
        let file: RunFile =
            serde_json::from_slice(text.as_bytes()).map_err(|e| format!("not a Lease Lab run file: {e}"))?;
        let mut replay = file.recording.start_replay()?;
        // A format-1 file's history and trace are in that format's shape; the recording
        // itself is still replayed and checked.
        if file.recording.format >= 2 {
            replay.file = Some((file.history, file.trace));
        }
        Ok(replay)
    }

    /// Checks the history and trace a file carried against the replay's.
    fn check_file(history: &[serde_json::Value], trace: &[serde_json::Value], sim: &Sim) -> Result<(), String> {
        let replayed = RunExport::of(sim)?;
        // Only the newest operations and the open ones are held alike by every copy of a run:
        // one saved after scrubbing back started from a time-travel checkpoint, which keeps
        // fewer old records. Older records in the file are not compared.
        let kept: Vec<&OpRecord> = replayed.history.iter().filter(|r| sim.history().is_recent_or_open(r)).collect();
        let window_start = sim.history().recent_from().0;
        let history: Vec<&serde_json::Value> = history
            .iter()
            .filter(|v| {
                let id = v.get("id").and_then(serde_json::Value::as_u64);
                // `kept` is in id order.
                id.is_none_or(|id| id >= window_start || kept.binary_search_by_key(&id, |r| r.id.0).is_ok())
            })
            .collect();
        if let Some(i) = first_difference(&history, &kept) {
            return Err(match kept.get(i) {
                Some(op) => format!("the file's history differs from its replay at {} (was it edited?)", op.id),
                None => "the file's history has more operations than its replay (was it edited?)".to_string(),
            });
        }
        if let Some(i) = first_difference(&trace.iter().collect::<Vec<_>>(), &replayed.trace) {
            return Err(match replayed.trace.get(i) {
                Some(event) if i < trace.len() => {
                    format!("the file's trace differs from its replay at event {} (was it edited?)", event.seq)
                }
                _ => "the file's trace has a different length than its replay (was it edited?)".to_string(),
            });
        }
        Ok(())
    }
}

/// A shared or imported run being replayed. The page runs it a slice per animation frame (a
/// long run replayed at once froze the page for seconds), then [`Replay::finish`] checks that
/// it reproduced the run.
pub struct Replay {
    timeline: Timeline,
    recording: Recording,
    /// An imported file's history and trace, checked against the replay's at the end.
    file: Option<(Vec<serde_json::Value>, Vec<serde_json::Value>)>,
}

impl Replay {
    /// Runs at most `budget` more events; true once the run's end is reached.
    pub fn advance(&mut self, budget: usize) -> bool {
        self.timeline.advance(self.recording.end, budget)
    }

    /// How far the replay has got, and the run's end.
    pub fn progress(&self) -> (SimTime, SimTime) {
        (self.timeline.sim().now(), self.recording.end)
    }

    /// Runs what is left and checks the result: the timeline of the reproduced run, or why
    /// the recording (or file) does not reproduce.
    pub fn finish(mut self) -> Result<Timeline, String> {
        self.advance(usize::MAX);
        self.recording.check(self.timeline.sim())?;
        if let Some((history, trace)) = &self.file {
            RunExport::check_file(history, trace, self.timeline.sim())?;
        }
        Ok(self.timeline)
    }
}

/// A run file as read: history and trace stay untyped JSON, because they are only compared
/// with the replay's, never used. (Typed, their deserializers would cost the page ≈11 KB of
/// gzipped wasm for nothing.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFile {
    recording: Recording,
    history: Vec<serde_json::Value>,
    trace: Vec<serde_json::Value>,
}

/// Index of the first entry where the file and the replay differ (a length difference
/// included), comparing each replayed entry in its JSON form.
fn first_difference<T: Serialize>(file: &[&serde_json::Value], replayed: &[T]) -> Option<usize> {
    (0..file.len().max(replayed.len())).find(|&i| match (file.get(i), replayed.get(i)) {
        (Some(f), Some(r)) => serde_json::to_value(r).map_or(true, |r| **f != r),
        _ => true,
    })
}

/// Every typed value is written through `serde_json::Value` (which `first_difference` needs
/// anyway), so the page's wasm carries one serializer per type instead of one per output
/// format (compact for links, pretty for files): ≈2.5 KB of gzipped wasm. Keys come out sorted.
fn to_json_text<T: Serialize>(value: &T, pretty: bool) -> String {
    // Not `expect`: that would carry serde_json's error `Debug` (and std's I/O error names)
    // into the page's wasm for failures that cannot happen.
    let value = serde_json::to_value(value).unwrap_or_else(|_| unreachable!("plain data serializes"));
    if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }
        .unwrap_or_else(|_| unreachable!("a JSON value writes"))
}

/// Whether a command's event texts changed wording since format 1.
fn mentions_key_lease(command: &Command) -> bool {
    match command {
        Command::Client { op: ClientOp::Txn { success, failure, .. }, .. } => {
            success.iter().chain(failure).any(|op| matches!(op, TxnOp::Put { key_lease: Some(_), .. }))
        }
        Command::Client { op, .. } => matches!(
            op,
            ClientOp::Put { key_lease: Some(_), .. }
                | ClientOp::KeyLeaseGrant { .. }
                | ClientOp::KeyLeaseRevoke { .. }
                | ClientOp::KeyLeaseKeepAlive { .. }
        ),
        _ => false,
    }
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_op::ClientOp;
    use crate::command::Command;
    use crate::types::NodeId;

    fn run() -> Sim {
        let mut t = Timeline::new(11, ClusterConfig::default()).unwrap();
        t.seek(SimTime::from_ms(1_500)).unwrap();
        t.apply(Command::Client {
            node: NodeId(1),
            op: ClientOp::Put { key: "a".into(), value: "1".into(), key_lease: None },
        })
        .unwrap();
        t.seek(SimTime::from_ms(3_000)).unwrap();
        t.apply(Command::Isolate { node: NodeId(2) }).unwrap();
        t.seek(SimTime::from_ms(4_200)).unwrap();
        t.sim().clone()
    }

    #[test]
    fn url_round_trip_reproduces_the_trace() {
        let sim = run();
        let url = Recording::of(&sim).unwrap().to_url_fragment();
        let timeline = Recording::from_url_fragment(&format!("#{url}")).unwrap().replay().unwrap();
        assert_eq!(timeline.sim().trace_hash(), sim.trace_hash());
        assert_eq!(timeline.sim().now(), sim.now());
    }

    /// The page replays a slice per frame: the same run, whatever the slices.
    #[test]
    fn a_replay_run_in_slices_reproduces_the_run() {
        let sim = run();
        let mut replay = RunExport::start_import(&RunExport::of(&sim).unwrap().to_json_pretty()).unwrap();
        let mut slices = 0;
        while !replay.advance(10) {
            slices += 1;
            let (now, end) = replay.progress();
            assert!(now <= end && end == sim.now());
        }
        assert!(slices > 10, "ran in {slices} slices");
        let timeline = replay.finish().unwrap();
        assert_eq!(timeline.sim().trace_hash(), sim.trace_hash());
        assert_eq!(timeline.sim().history().len(), sim.history().len());
        // An edited recording is caught at the end, whichever way it was run.
        let mut rec = Recording::of(&sim).unwrap();
        rec.trace_hash = "0".repeat(16);
        let mut replay = rec.start_replay().unwrap();
        while !replay.advance(1_000) {}
        assert!(replay.finish().unwrap_err().contains("does not reproduce"));
    }

    #[test]
    fn json_round_trip_reproduces_the_trace_and_history() {
        let sim = run();
        let text = RunExport::of(&sim).unwrap().to_json_pretty();
        let (export, timeline) = RunExport::import(&text).unwrap();
        assert_eq!(timeline.sim().trace_hash(), sim.trace_hash());
        assert_eq!(export.history.len(), sim.history().len());
    }

    #[test]
    fn a_damaged_link_is_refused_with_the_reason() {
        let url = Recording::of(&run()).unwrap().to_url_fragment();
        assert!(Recording::from_url_fragment("seed=4").unwrap_err().contains("no run"));
        assert!(Recording::from_url_fragment("run=%%%").unwrap_err().contains("damaged"));
        let cut = &url[..url.len() / 2];
        assert!(Recording::from_url_fragment(cut).unwrap_err().contains("damaged"));
    }

    #[test]
    fn an_edited_recording_does_not_replay() {
        let mut rec = Recording::of(&run()).unwrap();
        rec.commands[0].at = SimTime::from_ms(1_400);
        assert!(rec.replay().unwrap_err().contains("does not reproduce"), "{:?}", rec.replay().err());
        let mut rec = Recording::of(&run()).unwrap();
        rec.seed += 1;
        let err = rec.replay().unwrap_err();
        assert!(err.contains("does not reproduce"), "{err}");
        // A command moved later than the events around it: the replay stops there.
        let mut rec = Recording::of(&run()).unwrap();
        rec.commands[0].at = SimTime::from_ms(2_900);
        let err = rec.replay().unwrap_err();
        assert!(err.contains("does not reproduce") && err.contains("was recorded at"), "{err}");
        let mut rec = Recording::of(&run()).unwrap();
        rec.format = 9;
        assert!(rec.replay().unwrap_err().contains("format 9"));
        let mut rec = Recording::of(&run()).unwrap();
        rec.commands.swap(0, 1);
        assert!(rec.replay().unwrap_err().contains("out of order"));
        let mut rec = Recording::of(&run()).unwrap();
        rec.end = SimTime(30 * 24 * 3_600_000_000);
        let err = rec.replay().unwrap_err();
        assert!(err.contains("720.0 h") && err.contains("at most 24 h"), "{err}");
        let mut rec = Recording::of(&run()).unwrap();
        rec.config.node_count = 99;
        assert!(rec.replay().unwrap_err().contains("config"));
    }

    #[test]
    fn an_edited_file_is_refused_naming_what_changed() {
        let export = RunExport::of(&run()).unwrap();
        let mut edited = export.clone();
        edited.history[0].invoked_at = SimTime::from_ms(1);
        let err = RunExport::import(&edited.to_json_pretty()).unwrap_err();
        assert!(err.contains("history differs from its replay at op1"), "{err}");
        let mut longer = export.clone();
        longer.history.push(export.history[0].clone());
        let err = RunExport::import(&longer.to_json_pretty()).unwrap_err();
        assert!(err.contains("more operations than its replay"), "{err}");
        let mut edited = export.clone();
        edited.trace.pop();
        assert!(RunExport::import(&edited.to_json_pretty()).unwrap_err().contains("trace"));
        let text = export.to_json_pretty().replacen("\"seed\"", "\"sead\"", 1);
        let err = RunExport::import(&text).unwrap_err();
        assert!(err.contains("sead") && err.contains("line"), "{err}");
        assert!(RunExport::import("{").unwrap_err().contains("not a Lease Lab run file"));
    }
}
