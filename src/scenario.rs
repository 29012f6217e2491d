//! Guided scenarios: a file format holding a seed, a cluster
//! configuration, timed steps with narration and commands, and expectations that a run must
//! meet; a runner; and the built-in tours.
//!
//! Steps name nodes either by id or by role at the moment the step runs: `"leader"`, `"follower"`
//! (the first follower), or `"old_leader"` (whoever led before the most recent leader change).
//! Client operations are numbered in the order the scenario issues them (1, 2, …), and
//! expectations refer to them by that number.

use crate::checker::{Checker, Verdict};
use crate::command::Command;
use crate::config::ClusterConfig;
use crate::explain::explain_stale_read;
use crate::read::ReadPath;
use crate::sim::Sim;
use crate::time::SimTime;
use crate::types::{NodeId, OpId};
use crate::OpOutcome;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub seed: u64,
    #[serde(default)]
    pub config: ClusterConfig,
    pub steps: Vec<Step>,
    /// Run on to this true time after the last step (ms).
    #[serde(default)]
    pub end_ms: u64,
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// Which node a step's commands go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Leader,
    Follower,
    OldLeader,
    Node(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// True time the step runs at (ms since start); steps run in order.
    pub at_ms: u64,
    /// What a presenter says at this step.
    pub narration: String,
    /// A question for the audience before the reveal (e.g. "which path will this read take?").
    #[serde(default)]
    pub predict: Option<String>,
    /// Replaces node id 0 in this step's commands.
    #[serde(default)]
    pub target: Option<Target>,
    /// Run this long after the previous step instead of at `at_ms`.
    #[serde(default)]
    pub after_previous_ms: Option<u64>,
    /// Run as soon as a leader of a newer term than at the previous step exists (checked every
    /// 5 ms, for at most 10 s), but not before `at_ms`.
    #[serde(default)]
    pub wait_for_new_leader: bool,
    #[serde(default)]
    pub commands: Vec<Command>,
    /// The step's commands are meant to be refused (a tour showing what the cluster turns
    /// away); without this, a refused command fails the scenario.
    #[serde(default)]
    pub expect_refused: bool,
    /// After this step, the page compares the run so far under every leader lease policy.
    #[serde(default)]
    pub compare: bool,
}

/// What a run must show. Operation numbers count the scenario's client operations from 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// Read number `op` took `path`.
    ReadPath { op: usize, path: ReadPath },
    /// Read number `op` was (or was not) flagged stale by the checker.
    Stale { op: usize, stale: bool },
    /// Operation number `op` succeeded (or failed); `reason_contains` checks a failure's reason.
    Outcome {
        op: usize,
        ok: bool,
        #[serde(default)]
        reason_contains: Option<String>,
    },
    /// The checker flagged at least `min` (and at most `max`) stale reads in the whole run.
    StaleReads { min: usize, max: usize },
    /// Key lease `id` was revoked (expired) before true time `before_ms`, or was not.
    KeyLeaseRevoked { id: u64, revoked: bool, before_ms: u64 },
    /// Watch number `watch` (the run's watches count from 1 in creation order) received
    /// between `min_events` and `max_events` events, and ended with a reason containing
    /// `ended_with` — or, without `ended_with`, is still running.
    Watch {
        watch: u64,
        min_events: u64,
        max_events: u64,
        #[serde(default)]
        ended_with: Option<String>,
    },
}

impl Expectation {
    /// What is expected, naming operations by the scenario's numbering ("read 3").
    pub fn describe(&self) -> String {
        self.describe_with(&[])
    }

    /// The same, naming each operation the scenario issued by the id it got in this run
    /// (`ops[n - 1]`, "read op5"): the page's operation log shows those ids, and they part from
    /// the scenario's numbering once someone issues operations of their own during a tour.
    pub fn describe_with(&self, ops: &[OpId]) -> String {
        let (what, n) = match self {
            Expectation::ReadPath { op, .. } | Expectation::Stale { op, .. } => ("read", *op),
            Expectation::Outcome { op, .. } => ("operation", *op),
            _ => ("", 0),
        };
        let name = match ops.get(n.wrapping_sub(1)) {
            Some(id) => format!("{what} {id}"),
            None => format!("{what} {n}"),
        };
        match self {
            Expectation::ReadPath { path, .. } => format!("{name} takes {}", path.label()),
            Expectation::Stale { stale: true, .. } => format!("{name} is flagged stale"),
            Expectation::Stale { stale: false, .. } => format!("{name} is not stale"),
            Expectation::Outcome { ok: true, .. } => format!("{name} succeeds"),
            Expectation::Outcome { ok: false, reason_contains, .. } => match reason_contains {
                Some(r) => format!("{name} fails with “{r}”"),
                None => format!("{name} fails"),
            },
            Expectation::StaleReads { min: 0, max: 0 } => "no stale reads".into(),
            Expectation::StaleReads { min: 0, max } => format!("at most {max} stale reads"),
            Expectation::StaleReads { min, max } if min == max => format!("exactly {min} stale reads"),
            Expectation::StaleReads { min, max } => format!("between {min} and {max} stale reads"),
            Expectation::KeyLeaseRevoked { id, revoked: true, before_ms } => {
                format!("key lease {id} expires before t={} s", crate::decimal::trimmed(*before_ms as f64 / 1e3, 3))
            }
            Expectation::KeyLeaseRevoked { id, revoked: false, before_ms } => {
                format!("key lease {id} is still alive at t={} s", crate::decimal::trimmed(*before_ms as f64 / 1e3, 3))
            }
            Expectation::Watch { watch, min_events, max_events, ended_with } => {
                let events = match (min_events, max_events) {
                    (a, b) if a == b => crate::client_op::counted(*a as usize, "event"),
                    (a, b) => format!("{a} to {b} events"),
                };
                match ended_with {
                    Some(why) => format!("watch w{watch} gets {events}, then is cancelled with “{why}”"),
                    None => format!("watch w{watch} gets {events} and is still open"),
                }
            }
        }
    }
}

/// Parses a scenario file (JSON). Errors name the line, column and field.
pub fn parse(text: &str) -> Result<Scenario, String> {
    let scenario: Scenario = serde_json::from_slice(text.as_bytes()).map_err(|e| format!("scenario file: {e}"))?;
    validate(&scenario)?;
    Ok(scenario)
}

/// The longest a scenario may run, in simulated ms: as long as the page replays a run.
pub const SCENARIO_MS_MAX: u64 = 24 * 3_600_000;

fn validate(s: &Scenario) -> Result<(), String> {
    s.config.validate().map_err(|e| format!("scenario {:?}: config: {e}", s.name))?;
    let too_long =
        |what: String| Err(format!("scenario {:?}: {what}, past the 24 h (86,400,000 ms) a scenario may run", s.name));
    if s.end_ms > SCENARIO_MS_MAX {
        return too_long(format!("end_ms is {} ms", s.end_ms));
    }
    let mut planned = 0u64;
    for (i, step) in s.steps.iter().enumerate() {
        planned = match step.after_previous_ms {
            Some(delay) => planned.saturating_add(delay),
            None => step.at_ms,
        };
        if planned > SCENARIO_MS_MAX {
            return too_long(format!("step {} runs at {planned} ms", i + 1));
        }
    }
    let mut last = 0;
    for (i, step) in s.steps.iter().enumerate() {
        if step.after_previous_ms.is_some() {
            continue;
        }
        if step.at_ms < last {
            return Err(format!(
                "scenario {:?}: step {} at {} ms runs before the step before it",
                s.name,
                i + 1,
                step.at_ms
            ));
        }
        last = step.at_ms;
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationResult {
    pub description: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    /// Operation ids in issue order (scenario operation n is `ops[n - 1]`).
    pub ops: Vec<OpId>,
    /// Command refusals, as (step number from 1, "command: reason").
    pub refused: Vec<(usize, String)>,
    pub expectations: Vec<ExpectationResult>,
    pub stale_reads: Vec<String>,
    pub trace_hash: u64,
}

impl ScenarioReport {
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|e| e.passed)
    }
}

fn resolve(sim: &Sim, target: &Target) -> Option<NodeId> {
    match target {
        Target::Leader => sim.leader(),
        Target::Follower => {
            let leader = sim.leader();
            sim.nodes().iter().find(|n| Some(n.id) != leader && !n.is_crashed()).map(|n| n.id)
        }
        Target::OldLeader => {
            let changes: Vec<_> = sim.leader_changes().collect();
            changes.len().checked_sub(2).map(|i| changes[i].1)
        }
        Target::Node(id) => Some(NodeId(*id)),
    }
}

/// What the audience is asked to predict before a step runs: the path of the read it issues,
/// or whether that read will be stale — taken from the scenario's expectations for the step's
/// operation, so the reveal can be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    /// The scenario's operation number (1-based, as in expectations).
    pub op: usize,
    pub kind: QuestionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionKind {
    Path,
    Stale,
}

impl Question {
    /// The answers offered.
    pub fn choices(&self) -> &'static [&'static str] {
        match self.kind {
            QuestionKind::Path => {
                &["lease read", "inherited lease", "LeaseBased", "ReadIndex", "forwarded", "log read", "serializable"]
            }
            QuestionKind::Stale => &["stale", "not stale"],
        }
    }
}

/// Steps a scenario one step at a time (the page's guided tour) or all at once ([`run`]).
#[derive(Clone, Debug)]
pub struct ScenarioRunner {
    pub scenario: Scenario,
    /// Steps applied so far.
    pub next: usize,
    ops: Vec<OpId>,
    refused: Vec<(usize, String)>,
    previous_leader_term: u64,
    /// When the last step's commands went in.
    applied_at: SimTime,
    /// The planned time of the last step, if time had already passed it (someone played the
    /// simulation between steps): the tour may no longer go as written.
    pub late: Option<SimTime>,
}

impl ScenarioRunner {
    /// A runner and a fresh simulation at the scenario's seed.
    pub fn start(scenario: Scenario) -> (ScenarioRunner, Sim) {
        let sim = Sim::new(scenario.seed, scenario.config.clone()).expect("validated when parsed");
        let runner = ScenarioRunner {
            scenario,
            next: 0,
            ops: Vec::new(),
            refused: Vec::new(),
            previous_leader_term: 0,
            applied_at: SimTime(0),
            late: None,
        };
        (runner, sim)
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.scenario.steps.len()
    }

    /// The prediction question for the next step, if it asks one and an expectation says
    /// what its read will do.
    pub fn upcoming_question(&self) -> Option<Question> {
        let step = self.upcoming()?;
        step.predict.as_ref()?;
        let count = step.commands.iter().filter(|c| c.is_client_op()).count();
        let first = self.ops.len() + 1;
        let ops = first..first + count;
        self.scenario.expect.iter().find_map(|e| match e {
            Expectation::ReadPath { op, .. } if ops.contains(op) => {
                Some(Question { op: *op, kind: QuestionKind::Path })
            }
            Expectation::Stale { op, .. } if ops.contains(op) => Some(Question { op: *op, kind: QuestionKind::Stale }),
            _ => None,
        })
    }

    /// Commands refused so far, as (step number from 1, "command: refused: reason").
    pub fn refused(&self) -> &[(usize, String)] {
        &self.refused
    }

    /// The id of the scenario's operation number `n` (1-based), once issued.
    pub fn op_id(&self, n: usize) -> Option<OpId> {
        self.ops.get(n.wrapping_sub(1)).copied()
    }

    /// The step that [`ScenarioRunner::step`] would run next.
    pub fn upcoming(&self) -> Option<&Step> {
        self.scenario.steps.get(self.next)
    }

    /// Runs the next step: waits until its time, resolves its target, applies its commands.
    /// Returns false when there is no step left.
    pub fn step(&mut self, sim: &mut Sim) -> bool {
        let Some(step) = self.scenario.steps.get(self.next).cloned() else { return false };
        self.next += 1;
        let planned = match step.after_previous_ms {
            Some(delay) => self.applied_at.plus_us(delay * 1_000),
            None => SimTime::from_ms(step.at_ms),
        };
        self.late = (sim.now() > planned).then_some(planned);
        sim.run_until(planned.max(sim.now()));
        if step.wait_for_new_leader {
            for _ in 0..2_000 {
                let newest = sim.leader().map_or(0, |l| sim.node(l).term());
                if newest > self.previous_leader_term {
                    break;
                }
                sim.run_for_ms(5);
            }
        }
        self.previous_leader_term = sim.leader().map_or(self.previous_leader_term, |l| sim.node(l).term());
        let node = step.target.as_ref().and_then(|t| resolve(sim, t));
        for command in &step.commands {
            let command = match node {
                Some(n) => command.clone().with_default_node(n),
                None => command.clone(),
            };
            let summary = command.summary();
            match sim.apply(command) {
                Ok(Some(op)) => self.ops.push(op),
                Ok(None) => {}
                Err(e) => self.refused.push((self.next, format!("{summary}: refused: {e}"))),
            }
        }
        self.applied_at = sim.now();
        true
    }

    /// Runs any steps left and on to the scenario's end, then checks the expectations.
    pub fn finish(&mut self, sim: &mut Sim) -> ScenarioReport {
        while self.step(sim) {}
        let end = self.scenario.end_ms.max(self.scenario.steps.last().map_or(0, |s| s.at_ms));
        sim.run_until(SimTime::from_ms(end).max(sim.now()));
        // A checker started afresh needs every record; a run restored from a time-travel
        // checkpoint lacks old ones (`Timeline::rebuild_whole_history` gives them back), and
        // then the run's own checker, which judged them all as they finished, answers.
        let checker = if sim.history().is_whole() {
            let mut fresh = Checker::new();
            fresh.update(sim.history());
            fresh
        } else {
            sim.check().clone()
        };
        let mut expectations: Vec<ExpectationResult> =
            self.scenario.expect.iter().map(|e| check(e, sim, &checker, &self.ops)).collect();
        if let Some(refusals) = self.refusals_as_expected() {
            expectations.push(refusals);
        }
        expectations.push(checkers_agree(sim));
        let stale_reads = checker.stale_reads().iter().map(|s| explain_stale_read(sim, s)).collect();
        ScenarioReport {
            name: self.scenario.name.clone(),
            ops: self.ops.clone(),
            refused: self.refused.clone(),
            expectations,
            stale_reads,
            trace_hash: sim.trace_hash(),
        }
    }
}

impl ScenarioRunner {
    /// The implicit expectation that commands are refused exactly in the steps that say they
    /// will be; `None` for a scenario where nothing was refused and nothing is meant to be.
    fn refusals_as_expected(&self) -> Option<ExpectationResult> {
        let steps = &self.scenario.steps[..self.next];
        let refused_in = |n: usize| self.refused.iter().any(|(step, _)| *step == n);
        let mut wrong: Vec<String> = self
            .refused
            .iter()
            .filter(|(step, _)| !steps[step - 1].expect_refused)
            .map(|(step, text)| format!("step {step}: {text}"))
            .collect();
        wrong.extend(
            (1..=steps.len())
                .filter(|&n| steps[n - 1].expect_refused && !refused_in(n))
                .map(|n| format!("step {n} was meant to be refused but everything in it was accepted")),
        );
        if self.refused.is_empty() && wrong.is_empty() {
            return None;
        }
        let detail =
            if wrong.is_empty() { format!("{} refused as meant", self.refused.len()) } else { wrong.join("; ") };
        Some(ExpectationResult {
            description: "commands are refused only where a step says they will be".into(),
            passed: wrong.is_empty(),
            detail,
        })
    }
}

/// Every tour's implicit last expectation: the revision checker and the model checker (which
/// sees values only) agree on its history, and neither is left without a verdict.
fn checkers_agree(sim: &Sim) -> ExpectationResult {
    let description = "both linearizability checkers agree and decide".to_string();
    if !sim.history().is_whole() {
        let detail =
            "not compared: the run was restored from a time-travel checkpoint that keeps only recent operations".into();
        return ExpectationResult { description, passed: false, detail };
    }
    let cross = crate::checker::crosscheck::cross_check(sim.history());
    let model = cross.model.outcome().label();
    let mut detail = format!("revisions: {} violation(s); values only: {model}", cross.revision.violations());
    for note in cross.disagreements.iter().chain(&cross.unknown).chain(&cross.explained) {
        detail.push_str("; ");
        detail.push_str(note);
    }
    ExpectationResult { description, passed: cross.agrees(), detail }
}

/// Runs a scenario from its seed. The simulation is returned for inspection.
pub fn run(scenario: &Scenario) -> (ScenarioReport, Sim) {
    let (mut runner, mut sim) = ScenarioRunner::start(scenario.clone());
    let report = runner.finish(&mut sim);
    (report, sim)
}

fn check(e: &Expectation, sim: &Sim, checker: &Checker, ops: &[OpId]) -> ExpectationResult {
    let op_of = |n: usize| ops.get(n.wrapping_sub(1)).copied();
    let (passed, detail) = match e {
        Expectation::ReadPath { op, path } => match op_of(*op).and_then(|id| sim.history().get(id)) {
            Some(r) => {
                let took = r.trace.as_ref().and_then(|t| t.path);
                (took == Some(*path), format!("took {}", took.map_or("no path", ReadPath::label)))
            }
            None => (false, format!("there is no operation {op}")),
        },
        Expectation::Stale { op, stale } => match op_of(*op) {
            Some(id) => {
                let v = checker.verdict(id);
                let is_stale = matches!(v, Some(Verdict::Stale(_)));
                let detail = match sim.history().get(id).map(|r| &r.outcome) {
                    // A failed read returned no value: "not stale" holds, but say why.
                    Some(OpOutcome::Failed { reason }) => {
                        format!("it failed with “{reason}”: no value, so nothing stale")
                    }
                    _ => format!("verdict: {}", v.map_or("not checked yet".into(), Verdict::label)),
                };
                (is_stale == *stale, detail)
            }
            None => (false, format!("there is no operation {op}")),
        },
        Expectation::Outcome { op, ok, reason_contains } => match op_of(*op).and_then(|id| sim.history().get(id)) {
            Some(r) => {
                let succeeded = matches!(r.outcome, OpOutcome::Ok { .. });
                let reason_ok = match (&r.outcome, reason_contains) {
                    (OpOutcome::Failed { reason } | OpOutcome::Indeterminate { reason }, Some(want)) => {
                        reason.contains(want.as_str())
                    }
                    (_, None) => true,
                    _ => false,
                };
                (succeeded == *ok && reason_ok, format!("outcome: {}", r.outcome))
            }
            None => (false, format!("there is no operation {op}")),
        },
        Expectation::StaleReads { min, max } => {
            let n = checker.stale_reads().len();
            (n >= *min && n <= *max, format!("{n} stale reads"))
        }
        Expectation::KeyLeaseRevoked { id, revoked, before_ms } => {
            let at = sim.key_lease_revoked_at(*id);
            let happened = at.is_some_and(|t| t <= SimTime::from_ms(*before_ms));
            (happened == *revoked, at.map_or("never revoked".to_string(), |t| format!("revoked at {t}")))
        }
        Expectation::Watch { watch, min_events, max_events, ended_with } => {
            match sim.watch_log(crate::watch::WatchId(*watch)) {
                Some(log) => {
                    let count_ok = (*min_events..=*max_events).contains(&log.events_received);
                    let end = log.ended.as_ref().map(|(_, why)| why.to_string());
                    let end_ok = match (&end, ended_with) {
                        (Some(why), Some(want)) => why.contains(want.as_str()),
                        (None, None) => true,
                        _ => false,
                    };
                    let state = end.map_or("still open".to_string(), |why| format!("cancelled: {why}"));
                    let received = crate::client_op::counted(log.events_received as usize, "event");
                    (count_ok && end_ok, format!("{received}, {state}"))
                }
                None => (false, format!("there is no watch w{watch}")),
            }
        }
    };
    ExpectationResult { description: e.describe_with(ops), passed, detail }
}

/// The built-in guided tours, in teaching order: (name, JSON text from `scenarios/`, minified
/// by `build.rs`).
pub const BUILTIN: [(&str, &str); 22] = [
    ("healthy-lease-read", include_str!(concat!(env!("OUT_DIR"), "/scenarios/healthy-lease-read.json"))),
    ("single-node", include_str!(concat!(env!("OUT_DIR"), "/scenarios/single-node.json"))),
    ("leader-isolated", include_str!(concat!(env!("OUT_DIR"), "/scenarios/leader-isolated.json"))),
    ("follower-read", include_str!(concat!(env!("OUT_DIR"), "/scenarios/follower-read.json"))),
    ("clock-drift-stale", include_str!(concat!(env!("OUT_DIR"), "/scenarios/clock-drift-stale.json"))),
    ("clock-drift-safe", include_str!(concat!(env!("OUT_DIR"), "/scenarios/clock-drift-safe.json"))),
    ("pause-stale", include_str!(concat!(env!("OUT_DIR"), "/scenarios/pause-stale.json"))),
    ("pause-safe", include_str!(concat!(env!("OUT_DIR"), "/scenarios/pause-safe.json"))),
    ("lease-based-two-leaders", include_str!(concat!(env!("OUT_DIR"), "/scenarios/lease-based-two-leaders.json"))),
    (
        "key-lease-churn-no-checkpoints",
        include_str!(concat!(env!("OUT_DIR"), "/scenarios/key-lease-churn-no-checkpoints.json")),
    ),
    (
        "key-lease-churn-checkpoints",
        include_str!(concat!(env!("OUT_DIR"), "/scenarios/key-lease-churn-checkpoints.json")),
    ),
    ("mvcc-compaction", include_str!(concat!(env!("OUT_DIR"), "/scenarios/mvcc-compaction.json"))),
    ("restart-vote-stale", include_str!(concat!(env!("OUT_DIR"), "/scenarios/restart-vote-stale.json"))),
    ("watch-partition", include_str!(concat!(env!("OUT_DIR"), "/scenarios/watch-partition.json"))),
    ("leaseguard-failover", include_str!(concat!(env!("OUT_DIR"), "/scenarios/leaseguard-failover.json"))),
    ("leaseguard-clock-error", include_str!(concat!(env!("OUT_DIR"), "/scenarios/leaseguard-clock-error.json"))),
    ("failover-compare", include_str!(concat!(env!("OUT_DIR"), "/scenarios/failover-compare.json"))),
    ("leader-transfer", include_str!(concat!(env!("OUT_DIR"), "/scenarios/leader-transfer.json"))),
    ("leader-transfer-stray", include_str!(concat!(env!("OUT_DIR"), "/scenarios/leader-transfer-stray.json"))),
    ("prevote-off", include_str!(concat!(env!("OUT_DIR"), "/scenarios/prevote-off.json"))),
    ("prevote-on", include_str!(concat!(env!("OUT_DIR"), "/scenarios/prevote-on.json"))),
    ("membership-joint", include_str!(concat!(env!("OUT_DIR"), "/scenarios/membership-joint.json"))),
];

/// A built-in tour by name.
pub fn builtin(name: &str) -> Result<Scenario, String> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        format!("no built-in scenario {name:?}; built-ins: {}", names.join(", "))
    })?;
    parse(text)
}
