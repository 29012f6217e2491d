//! Benchmark workloads, shared by the native bench (`benches/sim_speed.rs`) and the browser
//! bench (`www/tests/bench.rs`). The workloads only *do* the work; callers time them, so the
//! core still never reads a clock.

use crate::checker::Checker;
use crate::client_op::ClientOp;
use crate::command::Command;
use crate::config::{ClusterConfig, CommitBroadcast};
use crate::read::ReadMode;
use crate::sim::Sim;
use crate::storage::DiskStorage;
use crate::time::SimTime;
use crate::timeline::Timeline;
use crate::types::NodeId;
use raft::eraftpb::Message;
use raft::storage::MemStorage;
use raft::{Config, RawNode, Ready, StateRole, Storage};
use std::collections::VecDeque;

/// One speed figure of `make bench`, run alike natively and in the browser so the two can be
/// set side by side: the bare raft-rs loop, or the full simulation under a write load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeedSpec {
    /// [`bare_raft_loop`] for 20,000 ticks (200 virtual seconds).
    Bare { nodes: u64 },
    /// The same loop on the simulator's own storage ([`bare_raft_loop_unlocked`]).
    BareUnlocked { nodes: u64 },
    /// [`write_workload_with`] for 60 simulated seconds after its warm-up (600 when idle: 60
    /// idle seconds take ≈6 ms of wall time, too short to time well on a page).
    Sim { nodes: usize, writes_per_sec: u32, commit_broadcast: CommitBroadcast },
}

/// How many times `make bench` runs each speed figure, keeping the fastest: on this shared
/// machine one run can be 30–50 % slower than the next; the fastest run is the closest to the
/// work's own cost, and the same rule natively and in the browser keeps their ratio fair.
pub const SPEED_RUNS: usize = 3;

/// Every speed figure `make bench` reports, in its order: the bare loop (and at 5 nodes the
/// same loop without raft-rs's storage lock) and the full simulation at 3, 5 and 7 nodes and
/// 0, 100 and 1,000 writes/s, and the target workload under TiKV's lazy commit broadcast.
pub const SPEED_SPECS: [&str; 14] = [
    "bare 3",
    "bare 5",
    "bare 7",
    "bare 5 unlocked",
    "sim 3 0 eager",
    "sim 3 100 eager",
    "sim 3 1000 eager",
    "sim 5 0 eager",
    "sim 5 100 eager",
    "sim 5 1000 eager",
    "sim 7 0 eager",
    "sim 7 100 eager",
    "sim 7 1000 eager",
    "sim 5 100 lazy",
];

impl SpeedSpec {
    /// Parses `bare NODES [unlocked]` or `sim NODES WRITES_PER_SEC eager|lazy`.
    pub fn parse(spec: &str) -> Result<SpeedSpec, String> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let bad = |what: &str| format!("bad speed spec {spec:?}: {what}");
        let nodes = || {
            words[1]
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=7).contains(n))
                .ok_or_else(|| bad("word 2 should be 1 to 7 nodes"))
        };
        match (words.first().copied(), words.len()) {
            (Some("bare"), 2) => Ok(SpeedSpec::Bare { nodes: nodes()? }),
            (Some("bare"), 3) if words[2] == "unlocked" => Ok(SpeedSpec::BareUnlocked { nodes: nodes()? }),
            (Some("sim"), 4) => {
                let commit_broadcast = match words[3] {
                    "eager" => CommitBroadcast::Eager,
                    "lazy" => CommitBroadcast::Lazy,
                    other => return Err(bad(&format!("{other:?} is not eager or lazy"))),
                };
                let writes_per_sec = words[2].parse::<u32>().map_err(|_| bad("word 3 should be writes per second"))?;
                Ok(SpeedSpec::Sim { nodes: nodes()? as usize, writes_per_sec, commit_broadcast })
            }
            _ => Err(bad("expected \"bare NODES [unlocked]\" or \"sim NODES WRITES eager|lazy\"")),
        }
    }

    /// Does the work; returns (simulated seconds, count) where count is messages delivered
    /// (bare loop) or trace events (simulation). The caller times it.
    pub fn run(self) -> (f64, u64) {
        match self {
            SpeedSpec::Bare { nodes } => {
                let (messages, virtual_ms) = bare_raft_loop(nodes, 20_000);
                (virtual_ms as f64 / 1_000.0, messages)
            }
            SpeedSpec::BareUnlocked { nodes } => {
                let (messages, virtual_ms) = bare_raft_loop_unlocked(nodes, 20_000);
                (virtual_ms as f64 / 1_000.0, messages)
            }
            SpeedSpec::Sim { nodes, writes_per_sec, commit_broadcast } => {
                let config = ClusterConfig { node_count: nodes, commit_broadcast, ..ClusterConfig::default() };
                let seconds = if writes_per_sec == 0 { 600 } else { 60 };
                let sim = write_workload_with(config, writes_per_sec, seconds);
                (sim.now().0 as f64 / 1e6, sim.trace().len())
            }
        }
    }

    /// What the figure is, for a table row.
    pub fn describe(self) -> String {
        match self {
            SpeedSpec::Bare { nodes } => format!("bare raft-rs loop, {nodes} nodes"),
            SpeedSpec::BareUnlocked { nodes } => format!("bare loop, {nodes} nodes, storage without lock"),
            SpeedSpec::Sim { nodes, writes_per_sec, commit_broadcast: CommitBroadcast::Eager } => {
                format!("simulation, {nodes} nodes, {writes_per_sec} writes/s")
            }
            SpeedSpec::Sim { nodes, writes_per_sec, commit_broadcast: CommitBroadcast::Lazy } => {
                format!("simulation, {nodes} nodes, {writes_per_sec} writes/s, lazy commit")
            }
        }
    }
}

/// The line a speed run prints for `make bench` to collect and set side by side, one runtime
/// beside another: `BENCH browser speed spec="sim 5 100 eager" speed_x=612 per_s=…` (the
/// browser tests print `browser`; which browser is the file they were collected into), or
/// `BENCH native speed …` (`examples/speed --bench-line`).
pub fn speed_line(runtime: &str, spec: &str, speed_x: f64, per_s: f64) -> String {
    format!("BENCH {runtime} speed spec=\"{spec}\" speed_x={speed_x:.0} per_s={per_s:.0}")
}

/// [`speed_line`] for a browser run.
pub fn browser_speed_line(spec: &str, speed_x: f64, per_s: f64) -> String {
    speed_line("browser", spec, speed_x, per_s)
}

/// Reads a [`speed_line`] back: (runtime, spec, speed, rate). Other lines give `None`.
pub fn parse_speed_line(line: &str) -> Option<(String, SpeedSpec, f64, f64)> {
    let rest = line.split("BENCH ").nth(1)?;
    let (runtime, rest) = rest.split_once(" speed spec=\"")?;
    let (spec, rest) = rest.split_once('"')?;
    let field = |name: &str| rest.split_whitespace().find_map(|w| w.strip_prefix(name))?.parse::<f64>().ok();
    Some((runtime.to_string(), SpeedSpec::parse(spec).ok()?, field("speed_x=")?, field("per_s=")?))
}

/// Reads a browser [`speed_line`] back: (spec, speed). Other lines give `None`.
pub fn parse_browser_speed_line(line: &str) -> Option<(SpeedSpec, f64)> {
    parse_speed_line(line).filter(|(runtime, ..)| runtime == "browser").map(|(_, spec, speed, _)| (spec, speed))
}

/// The reference point: raft-rs with no simulator around it. `nodes` nodes, one tick = 10 ms
/// virtual, heartbeat every tick, one 9-byte proposal per tick on the leader, messages
/// delivered FIFO with no network model, on raft-rs's own `MemStorage`. Returns (messages
/// delivered, virtual ms).
pub fn bare_raft_loop(nodes: u64, ticks: u64) -> (u64, u64) {
    bare_loop::<MemStorage>(nodes, ticks)
}

/// [`bare_raft_loop`] on the simulator's storage ([`DiskStorage`]) instead of `MemStorage`.
/// `MemStorage` sits behind a `RwLock`, which raft-rs takes on every call into it (several
/// per message); natively each is a pair of atomic read-modify-writes, in a wasm build
/// without threads a plain load. So natively the reference pays for the lock and in the
/// browser it does not, and the simulator (whose storage has no lock) pays it nowhere: this
/// loop is the like-for-like reference to compare runtimes by.
pub fn bare_raft_loop_unlocked(nodes: u64, ticks: u64) -> (u64, u64) {
    bare_loop::<DiskStorage>(nodes, ticks)
}

/// What the bare loop needs of a storage besides reading it: a fresh one, and the Ready
/// cycle's writes.
trait BareStorage: Storage + Clone {
    fn fresh(voters: Vec<u64>) -> Self;
    fn persist(&self, ready: &Ready);
    fn set_commit(&self, commit: u64);
}

impl BareStorage for MemStorage {
    fn fresh(voters: Vec<u64>) -> Self {
        MemStorage::new_with_conf_state((voters, vec![]))
    }
    fn persist(&self, ready: &Ready) {
        if !ready.snapshot().is_empty() {
            let _ = self.wl().apply_snapshot(ready.snapshot().clone());
        }
        let _ = self.wl().append(ready.entries());
        if let Some(hs) = ready.hs() {
            self.wl().set_hardstate(hs.clone());
        }
    }
    fn set_commit(&self, commit: u64) {
        self.wl().mut_hard_state().commit = commit;
    }
}

impl BareStorage for DiskStorage {
    fn fresh(voters: Vec<u64>) -> Self {
        DiskStorage::new_with_voters(voters)
    }
    fn persist(&self, ready: &Ready) {
        if !ready.snapshot().is_empty() {
            self.apply_snapshot(ready.snapshot().clone());
        }
        self.append(ready.entries());
        if let Some(hs) = ready.hs() {
            self.set_hard_state(hs.clone());
        }
    }
    fn set_commit(&self, commit: u64) {
        DiskStorage::set_commit(self, commit);
    }
}

fn bare_loop<S: BareStorage>(nodes: u64, ticks: u64) -> (u64, u64) {
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    let voters: Vec<u64> = (1..=nodes).collect();
    let mut rafts: Vec<RawNode<S>> = voters
        .iter()
        .map(|&id| {
            let config = Config {
                id,
                election_tick: 10,
                heartbeat_tick: 1,
                // Node 1 times out first, so it leads without a split vote.
                min_election_tick: 10 + id as usize,
                max_election_tick: 11 + id as usize,
                ..Default::default()
            };
            RawNode::new(&config, S::fresh(voters.clone()), &logger).expect("valid config")
        })
        .collect();
    let mut queue: VecDeque<Message> = VecDeque::new();
    let mut delivered = 0u64;
    for _ in 0..ticks {
        for r in rafts.iter_mut() {
            r.tick();
        }
        if let Some(leader) = rafts.iter_mut().find(|r| r.raft.state == StateRole::Leader) {
            let _ = leader.propose(vec![], b"123456789".to_vec());
        }
        loop {
            for r in rafts.iter_mut() {
                drain_ready(r, &mut queue);
            }
            let Some(m) = queue.pop_front() else { break };
            delivered += 1;
            let _ = rafts[(m.to - 1) as usize].step(m);
        }
    }
    (delivered, ticks * 10)
}

fn drain_ready<S: BareStorage>(r: &mut RawNode<S>, queue: &mut VecDeque<Message>) {
    if !r.has_ready() {
        return;
    }
    let mut ready = r.ready();
    queue.extend(ready.take_messages());
    let store = r.raft.raft_log.store.clone();
    store.persist(&ready);
    queue.extend(ready.take_persisted_messages());
    let mut light = r.advance(ready);
    if let Some(c) = light.commit_index() {
        store.set_commit(c);
    }
    queue.extend(light.take_messages());
    r.advance_apply();
}

/// The full simulation under a steady client load: `writes_per_sec` puts spread over the
/// nodes (followers forward them), after a 3 s warm-up, for `seconds` simulated seconds.
pub fn write_workload(nodes: usize, writes_per_sec: u32, seconds: u64) -> Sim {
    write_workload_with(ClusterConfig { node_count: nodes, ..ClusterConfig::default() }, writes_per_sec, seconds)
}

/// [`write_workload`] on a cluster configured by `config`.
pub fn write_workload_with(config: ClusterConfig, writes_per_sec: u32, seconds: u64) -> Sim {
    let nodes = config.node_count;
    let mut sim = Sim::new(7, config).expect("valid");
    sim.run_for_ms(3_000);
    let end = sim.now().plus_us(seconds * 1_000_000);
    if writes_per_sec == 0 {
        sim.run_until(end);
        return sim;
    }
    let gap = 1_000_000 / u64::from(writes_per_sec);
    let mut i = 0u64;
    while sim.now() < end {
        let node = sim.leader().unwrap_or(NodeId(1 + i % nodes as u64));
        let cmd = Command::Client {
            node,
            op: ClientOp::Put { key: format!("k{}", i % 64), value: i.to_string(), key_lease: None },
        };
        sim.apply(cmd).expect("valid");
        let next = SimTime(sim.now().0 + gap);
        sim.run_until(next);
        i += 1;
    }
    sim
}

/// The watch figure of `make bench`: `watchers` watches spread over the nodes of a 3-node
/// cluster — all but one in a hundred on one key each of `keys`, the rest on a tenth of the
/// keyspace each (a prefix) — while `writes_per_sec` puts land on keys spread over all
/// `keys`, for `seconds` simulated seconds after a 3 s warm-up. Returns the run and the
/// events the watches received. With `watchers` 0 it is the same run without watches.
pub fn watch_workload(watchers: u64, keys: u64, writes_per_sec: u32, seconds: u64) -> (Sim, u64) {
    let mut sim = Sim::new(7, ClusterConfig::default()).expect("valid");
    sim.run_for_ms(3_000);
    let nodes = sim.nodes().len() as u64;
    for w in 0..watchers {
        let node = NodeId(1 + w % nodes);
        let watch = if w % 100 == 99 {
            let digit = (w / 100) % 10;
            crate::watch::WatchRequest {
                key: format!("k{digit}"),
                end: crate::watch::prefix_range_end(&format!("k{digit}")),
                ..Default::default()
            }
        } else {
            crate::watch::WatchRequest { key: format!("k{}", (w * 7_919) % keys), ..Default::default() }
        };
        sim.apply(Command::Watch { node, watch }).expect("valid");
    }
    let end = sim.now().plus_us(seconds * 1_000_000);
    let gap = 1_000_000 / u64::from(writes_per_sec.max(1));
    let mut i = 0u64;
    while sim.now() < end {
        let node = sim.leader().unwrap_or(NodeId(1 + i % nodes));
        let key = format!("k{}", (i * 104_729) % keys);
        sim.apply(Command::Client { node, op: ClientOp::Put { key, value: i.to_string(), key_lease: None } })
            .expect("valid");
        sim.run_until(SimTime(sim.now().0 + gap));
        i += 1;
    }
    let events = sim.watches().map(|w| w.events_received).sum();
    (sim, events)
}

/// The watch figure's shape: 1,000 watchers on 10,000 keys at 100 writes/s for 60 s.
pub const WATCH_FIGURE: (u64, u64, u32, u64) = (1_000, 10_000, 100, 60);

/// The watch figure, timed by `now_ms` (a wall clock in ms the caller supplies): the run with
/// watchers and the same run without, each the fastest of [`SPEED_RUNS`]. Returns the line
/// `make bench` prints: events delivered per wall second and both simulation speeds.
pub fn watch_figure_line(runtime: &str, now_ms: impl Fn() -> f64) -> String {
    let (watchers, keys, writes, seconds) = WATCH_FIGURE;
    let fastest = |watchers: u64| {
        (0..SPEED_RUNS)
            .map(|_| {
                let t = now_ms();
                let (_, events) = watch_workload(watchers, keys, writes, seconds);
                ((now_ms() - t) / 1e3, events)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("at least one run")
    };
    let (with_s, events) = fastest(watchers);
    let (without_s, _) = fastest(0);
    let simulated = seconds as f64 + 3.0;
    format!(
        "BENCH {runtime} watchers={watchers} keys={keys} writes_per_s={writes} events={events} events_per_s={:.0} \
         speed_x={:.0} without_watchers_speed_x={:.0}",
        events as f64 / with_s,
        simulated / with_s,
        simulated / without_s
    )
}

/// [`write_workload`] through a [`Timeline`] (which takes time-travel checkpoints as it goes),
/// for measuring scrubs: `writes_per_sec` puts at the leader for `seconds` simulated seconds.
pub fn timeline_workload(nodes: usize, writes_per_sec: u32, seconds: u64) -> Timeline {
    let config = ClusterConfig { node_count: nodes, ..ClusterConfig::default() };
    let mut timeline = Timeline::new(7, config).expect("valid");
    let end = SimTime::from_ms(seconds * 1_000);
    let gap = 1_000_000 / u64::from(writes_per_sec.max(1));
    let mut i = 0u64;
    while timeline.sim().now() < end {
        if writes_per_sec > 0 {
            let node = timeline.sim().leader().unwrap_or(NodeId(1 + i % nodes as u64));
            let cmd = Command::Client {
                node,
                op: ClientOp::Put { key: format!("k{}", i % 64), value: i.to_string(), key_lease: None },
            };
            timeline.apply(cmd).expect("valid");
        }
        let next = SimTime(timeline.sim().now().0 + gap).min(end);
        timeline.advance(next, usize::MAX);
        i += 1;
    }
    timeline
}

/// Scrubs `timeline` to each of `targets` (true times) in turn; returns the wall time of each
/// scrub as measured by `now_ms` (the caller's clock: the core reads none).
pub fn scrub_times(timeline: &mut Timeline, targets: &[SimTime], now_ms: impl Fn() -> f64) -> Vec<f64> {
    targets
        .iter()
        .map(|&t| {
            let start = now_ms();
            timeline.seek(t).expect("a recorded run replays");
            now_ms() - start
        })
        .collect()
}

/// Scrub targets spread over `[0, end)`, backwards and forwards alike (deterministic).
pub fn scrub_targets(end: SimTime, count: u64) -> Vec<SimTime> {
    (0..count).map(|i| SimTime(end.0 / 1_000 * ((i * 7_919 + 13) % 1_000))).collect()
}

/// A mixed workload for read-path latencies and the checker: writes and linearizable and
/// serializable reads at every node.
pub fn read_workload(nodes: usize, ops_per_sec: u32, seconds: u64) -> Sim {
    read_workload_with(ClusterConfig { node_count: nodes, ..ClusterConfig::default() }, ops_per_sec, seconds)
}

/// [`read_workload`] under any configuration (e.g. leader leases off, to measure ReadIndex).
pub fn read_workload_with(config: ClusterConfig, ops_per_sec: u32, seconds: u64) -> Sim {
    let nodes = config.node_count;
    let mut sim = Sim::new(11, config).expect("valid");
    sim.run_for_ms(3_000);
    let gap = 1_000_000 / u64::from(ops_per_sec.max(1));
    let end = sim.now().plus_us(seconds * 1_000_000);
    let mut i = 0u64;
    while sim.now() < end {
        let node = NodeId(1 + i % nodes as u64);
        let key = format!("k{}", i % 16);
        let cmd = match i % 4 {
            0 => Command::Client { node, op: ClientOp::Put { key, value: i.to_string(), key_lease: None } },
            3 => Command::Client { node, op: ClientOp::Read { key, mode: ReadMode::Serializable } },
            _ => Command::Client { node, op: ClientOp::Read { key, mode: ReadMode::Linearizable } },
        };
        sim.apply(cmd).expect("valid");
        sim.run_until(SimTime(sim.now().0 + gap));
        i += 1;
    }
    sim.run_for_ms(3_000);
    sim
}

/// Runs the checker over a finished simulation's whole history; returns ops checked.
pub fn check_history(sim: &Sim) -> (u64, usize) {
    let mut checker = Checker::new();
    checker.update(sim.history());
    (checker.checked_ops(), checker.violations())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_workload_delivers_every_write_to_the_watches_on_its_key() {
        let (sim, events) = watch_workload(200, 1_000, 100, 2);
        let writes = sim.history().len() as u64;
        assert!(writes >= 190, "{writes}");
        // Every node applies every write, so each watch covering a written key gets it once.
        let expected: u64 = sim
            .history()
            .iter()
            .filter_map(|r| match &r.kind {
                crate::history::OpKind::Client(ClientOp::Put { key, .. }) => Some(key),
                _ => None,
            })
            .map(|key| sim.watches().filter(|w| w.request.covers(key)).count() as u64)
            .sum();
        assert_eq!(events, expected);
        let prefixes: Vec<u64> =
            sim.watches().filter(|w| !w.request.end.is_empty()).map(|w| w.events_received).collect();
        assert!(prefixes.len() == 2 && prefixes.iter().all(|e| *e > 0), "the prefix watches hear writes: {prefixes:?}");
        assert!(sim.watches().all(|w| w.is_active() && w.violation.is_none()));
        let (plain, none) = watch_workload(0, 1_000, 100, 2);
        assert_eq!((plain.history().len() as u64, none), (writes, 0), "the same writes without watches");
    }

    #[test]
    fn every_reported_speed_spec_parses_and_reads_distinctly() {
        let parsed: Vec<SpeedSpec> = SPEED_SPECS.iter().map(|s| SpeedSpec::parse(s).expect(s)).collect();
        let mut described: Vec<String> = parsed.iter().map(|s| s.describe()).collect();
        described.sort();
        described.dedup();
        assert_eq!(described.len(), SPEED_SPECS.len());
        assert_eq!(
            SpeedSpec::parse("sim 5 100 lazy"),
            Ok(SpeedSpec::Sim { nodes: 5, writes_per_sec: 100, commit_broadcast: CommitBroadcast::Lazy })
        );
    }

    #[test]
    fn the_bare_loop_does_the_same_raft_work_on_either_storage() {
        assert_eq!(SpeedSpec::parse("bare 5 unlocked"), Ok(SpeedSpec::BareUnlocked { nodes: 5 }));
        let locked = bare_raft_loop(3, 300);
        assert!(locked.0 > 1_000, "{} messages", locked.0);
        assert_eq!(bare_raft_loop_unlocked(3, 300), locked);
    }

    #[test]
    fn bad_speed_specs_say_what_is_wrong() {
        for (spec, says) in [
            ("", "expected"),
            ("bare", "expected"),
            ("bare 0", "word 2"),
            ("bare 8", "word 2"),
            ("bare x", "word 2"),
            ("bare 5 locked", "expected"),
            ("sim 5 100", "expected"),
            ("sim 5 lots eager", "word 3"),
            ("sim 5 100 eagerly", "not eager or lazy"),
            ("walk 5", "expected"),
        ] {
            let err = SpeedSpec::parse(spec).expect_err(spec);
            assert!(err.contains(says), "{spec:?}: {err}");
        }
    }

    #[test]
    fn a_browser_speed_line_reads_back_among_other_output() {
        let line = browser_speed_line("sim 7 1000 eager", 52.4, 1_234.0);
        let spec = SpeedSpec::Sim { nodes: 7, writes_per_sec: 1_000, commit_broadcast: CommitBroadcast::Eager };
        assert_eq!(parse_browser_speed_line(&format!("console.log: {line}")), Some((spec, 52.0)));
        assert_eq!(parse_browser_speed_line("BENCH browser page nodes=7 p50_ms=4.3"), None);
        assert_eq!(parse_browser_speed_line("BENCH browser speed spec=\"sim 9 1 eager\" speed_x=3"), None);
        let native = speed_line("native", "bare 5", 801.2, 2_500_000.0);
        assert_eq!(parse_browser_speed_line(&native), None, "a native line is not a browser's");
        assert_eq!(
            parse_speed_line(&native),
            Some(("native".to_string(), SpeedSpec::Bare { nodes: 5 }, 801.0, 2_500_000.0))
        );
    }
}
