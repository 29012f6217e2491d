//! Swarm testing (TigerBeetle VOPR style): a seed draws a random fault schedule — partitions,
//! one-way cuts, loss and duplication, clock jumps and drift, pauses, crashes and restarts —
//! plus client writes; the run is checked by [`Invariants`] after every step, then healed,
//! settled and checked for durability and convergence. A failure names the seed, and
//! `leaselab swarm --seed N ...` replays it exactly.

use crate::checker::crosscheck::cross_check;
use crate::checker::{Checker, Verdict};
use crate::client_op::ClientOp;
use crate::clock::{RATE_MAX_PPM, RATE_MIN_PPM};
use crate::command::Command;
use crate::config::{ClusterConfig, CommitBroadcast, LinkConfig};
use crate::invariants::Invariants;
use crate::leader_lease::LeaderLeasePolicy;
use crate::mvcc::{Compare, CompareOp, CompareTarget, TxnOp};
use crate::random::SimRng;
use crate::read::ReadMode;
use crate::sim::Sim;
use crate::time::SimTime;
use crate::types::KeyLeaseId;
use crate::types::NodeId;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Which kinds of fault a swarm run may draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultMix {
    pub partitions: bool,
    pub lossy_network: bool,
    pub clocks: bool,
    pub pauses: bool,
    pub crashes: bool,
    /// Leadership transfers to a random node (refused when it leads or nobody does).
    #[serde(default)]
    pub transfers: bool,
    /// Membership changes: a node added as a learner, a learner promoted, a member removed, or
    /// a voter replaced through a joint configuration (refused when raft-rs or etcd would).
    #[serde(default)]
    pub membership: bool,
}

impl FaultMix {
    pub const NONE: FaultMix = FaultMix {
        partitions: false,
        lossy_network: false,
        clocks: false,
        pauses: false,
        crashes: false,
        transfers: false,
        membership: false,
    };
    pub const ALL: FaultMix = FaultMix {
        partitions: true,
        lossy_network: true,
        clocks: true,
        pauses: true,
        crashes: true,
        transfers: true,
        membership: true,
    };

    /// Parses `none`, `all`, or a comma list of
    /// `partitions,loss,clocks,pauses,crashes,transfers,membership`.
    pub fn parse(text: &str) -> Result<FaultMix, String> {
        match text {
            "none" => return Ok(FaultMix::NONE),
            "all" | "mixed" => return Ok(FaultMix::ALL),
            _ => {}
        }
        let mut mix = FaultMix::NONE;
        for part in text.split(',') {
            match part.trim() {
                "partitions" => mix.partitions = true,
                "loss" => mix.lossy_network = true,
                "clocks" => mix.clocks = true,
                "pauses" => mix.pauses = true,
                "crashes" => mix.crashes = true,
                "transfers" => mix.transfers = true,
                "membership" => mix.membership = true,
                other => {
                    return Err(format!(
                    "unknown fault kind {other:?}: use none, all, or partitions,loss,clocks,pauses,crashes,transfers,membership"
                ))
                }
            }
        }
        Ok(mix)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmConfig {
    pub nodes: usize,
    /// Length of the faulty phase, in true milliseconds.
    pub duration_ms: u64,
    pub writes_per_sec: u32,
    pub faults: FaultMix,
    /// Mean time between faults, in milliseconds.
    pub fault_interval_ms: u64,
    /// Client reads per second (9 in 10 linearizable), at random nodes.
    pub reads_per_sec: u32,
    pub policy: LeaderLeasePolicy,
    pub commit_broadcast: CommitBroadcast,
    /// When set, clock faults are bounded: each jump, pause, or rate error accumulated over
    /// one lease duration is at most this many milliseconds (the "drift within the bound"
    /// regime when it is ≤ the drift bound).
    pub clock_error_ms_max: Option<u64>,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        SwarmConfig {
            nodes: 3,
            duration_ms: 20_000,
            writes_per_sec: 20,
            faults: FaultMix::ALL,
            fault_interval_ms: 700,
            reads_per_sec: 20,
            policy: LeaderLeasePolicy::SendTimeAnchored,
            commit_broadcast: CommitBroadcast::Eager,
            clock_error_ms_max: None,
        }
    }
}

/// The leader lease duration the bounded clock faults are measured against (the default
/// timings' 200 ms).
const LEASE_MS: u64 = 200;

/// The clock rates (ppm) whose error over one leader lease D is at most `error_ms` = E:
/// D/(D+E) ≤ rate ≤ D/(D−E), kept within the page's 0.1×–10×.
pub fn rate_bounds_ppm(error_ms: u64) -> (u32, u32) {
    let slow = (LEASE_MS * 1_000_000 / (LEASE_MS + error_ms)) as u32;
    let fast = if error_ms >= LEASE_MS {
        10_000_000
    } else {
        (LEASE_MS * 1_000_000 / (LEASE_MS - error_ms)).min(10_000_000) as u32
    };
    (slow.max(100_000), fast)
}

/// Draws the timed command script of one swarm run. Uses its own RNG stream (derived from the
/// seed) so the schedule does not depend on what the cluster does.
pub fn random_schedule(seed: u64, config: &SwarmConfig) -> Vec<(SimTime, Command)> {
    let mut rng = SimRng::seed_from_u64(seed ^ 0x5EED_F00D_5CA1_AB1E);
    let n = config.nodes as u64;
    let node = |rng: &mut SimRng| NodeId(rng.gen_range(1..=n));
    let mut script = Vec::new();
    let start = SimTime::from_ms(1_000);
    let end = start.plus_us(config.duration_ms * 1_000);

    // Client writes at a steady rate, to random nodes, over a small key space.
    if config.writes_per_sec > 0 {
        let gap_us = 1_000_000 / u64::from(config.writes_per_sec);
        let mut t = start;
        let mut i = 0u64;
        while t < end {
            let key = format!("k{}", rng.gen_range(0..8u32));
            let target = node(&mut rng);
            let cmd = match rng.gen_range(0..40u32) {
                0..=3 => Command::Client { node: target, op: ClientOp::Delete { key } },
                4 => Command::Client { node: target, op: ClientOp::DeleteRange { key: "k6".into(), end: "k8".into() } },
                5 => Command::Client { node: target, op: ClientOp::Compact { revision: rng.gen_range(1..=(i + 2)) } },
                8 => Command::Client {
                    node: target,
                    op: ClientOp::KeyLeaseGrant {
                        // Some grants ask the node to assign the id (etcd's id 0).
                        id: KeyLeaseId::new(rng.gen_range(0..=4)),
                        ttl: rng.gen_range(0..8),
                    },
                },
                9 => Command::Client {
                    node: target,
                    op: ClientOp::Put {
                        key,
                        value: format!("{i}l"),
                        key_lease: Some(KeyLeaseId::of(rng.gen_range(1..=4))),
                    },
                },
                10 => Command::Client {
                    node: target,
                    op: ClientOp::KeyLeaseKeepAlive { id: KeyLeaseId::of(rng.gen_range(1..=4)) },
                },
                11 => Command::Client {
                    node: target,
                    op: ClientOp::KeyLeaseRevoke { id: KeyLeaseId::of(rng.gen_range(1..=4)) },
                },
                6 | 7 => {
                    // Compare-and-set: if the key still holds the value we last wrote, swap it;
                    // else read what it holds (etcd's CAS idiom; the checker checks that get).
                    let expected = rng.gen_range(0..=i).to_string();
                    Command::Client {
                        node: target,
                        op: ClientOp::Txn {
                            compares: vec![Compare {
                                key: key.clone(),
                                target: CompareTarget::Value,
                                op: CompareOp::Equal,
                                operand: expected,
                            }],
                            success: vec![TxnOp::Put { key: key.clone(), value: format!("{i}cas"), key_lease: None }],
                            failure: vec![
                                TxnOp::Range(crate::mvcc::RangeRequest { key: key.clone(), ..Default::default() }),
                                TxnOp::Put { key: "k7".into(), value: format!("{i}else"), key_lease: None },
                            ],
                        },
                    }
                }
                _ => Command::Client { node: target, op: ClientOp::Put { key, value: i.to_string(), key_lease: None } },
            };
            script.push((t, cmd));
            t = t.plus_us(gap_us);
            i += 1;
        }
    }

    if config.reads_per_sec > 0 {
        let gap_us = 1_000_000 / u64::from(config.reads_per_sec);
        let mut t = start.plus_us(gap_us / 2);
        while t < end {
            let key = format!("k{}", rng.gen_range(0..8u32));
            let mode = if rng.gen_ratio(1, 10) {
                ReadMode::Serializable
            } else if rng.gen_ratio(1, 20) {
                ReadMode::Log
            } else {
                ReadMode::Linearizable
            };
            script.push((t, Command::Client { node: node(&mut rng), op: ClientOp::Read { key, mode } }));
            t = t.plus_us(gap_us);
        }
    }

    // Bounded clock faults: a jump or pause of at most E ms, or a rate within [`rate_bounds_ppm`].
    let bounded = config.clock_error_ms_max;
    let jump_max_us = bounded.map_or(2_000_000, |e| e as i64 * 1_000);
    let (rate_min, rate_max) = bounded.map_or((500_000, 2_000_000), rate_bounds_ppm);
    let pause_max_ms = bounded.unwrap_or(3_000).max(1);
    // LeaseGuard's ε bounds each clock's error from true time (not its rate over one lease), as
    // a clock-bound service would: bounded clock faults then keep every clock's offset within
    // ±E (less 1 ms for rounding), tracking each node's offset as the faults move it.
    // The timer-only variant's ε bounds how far one clock's reading of an interval is off, so
    // its clocks keep within ±E/2: two readings of one clock are then at most E apart.
    let offset_bound = bounded.and_then(|e| match config.policy {
        LeaderLeasePolicy::LeaseGuard => Some(e as i64 * 1_000 - 1_000),
        LeaderLeasePolicy::LeaseGuardTimers => Some(e as i64 * 500 - 1_000),
        _ => None,
    });
    let mut offsets = vec![0i64; n as usize];
    let mut rate_until = vec![SimTime::ZERO; n as usize];

    // Faults at random intervals. Each kind is undone later so the cluster keeps moving.
    let mut kinds: Vec<u8> = Vec::new();
    let f = &config.faults;
    if f.partitions {
        kinds.extend([0, 1, 2]);
    }
    if f.lossy_network {
        kinds.push(3);
    }
    if f.clocks {
        kinds.extend([4, 5]);
    }
    if f.pauses {
        kinds.push(6);
    }
    if f.crashes && n > 1 {
        kinds.push(7);
    }
    if f.transfers && n > 1 {
        kinds.push(8);
    }
    if f.membership {
        kinds.push(9);
    }
    if !kinds.is_empty() {
        let mut t = start;
        loop {
            t = t.plus_us(rng.gen_range(1..=2 * config.fault_interval_ms) * 1_000);
            if t >= end {
                break;
            }
            let heal_after = SimTime(t.0 + rng.gen_range(200..3_000u64) * 1_000).min(end);
            match kinds[rng.gen_range(0..kinds.len())] {
                0 => {
                    let victim = node(&mut rng);
                    script.push((t, Command::Isolate { node: victim }));
                    script.push((heal_after, Command::HealAll));
                }
                1 => {
                    let mut groups = vec![Vec::new(), Vec::new()];
                    for id in 1..=n {
                        groups[rng.gen_range(0..2usize)].push(NodeId(id));
                    }
                    script.push((t, Command::Partition { groups }));
                    script.push((heal_after, Command::HealAll));
                }
                2 if n > 1 => {
                    let from = node(&mut rng);
                    let mut to = node(&mut rng);
                    if to == from {
                        to = NodeId(from.0 % n + 1);
                    }
                    script.push((t, Command::CutLink { from, to }));
                    script.push((heal_after, Command::HealLink { from, to }));
                }
                3 => {
                    let lossy = LinkConfig {
                        latency_us: rng.gen_range(1_000..40_000),
                        jitter_us: rng.gen_range(0..20_000),
                        drop_ppm: rng.gen_range(0..200_000),
                        duplicate_ppm: rng.gen_range(0..100_000),
                    };
                    script.push((t, Command::SetNetwork { link: lossy }));
                    script.push((heal_after, Command::SetNetwork { link: LinkConfig::default() }));
                }
                4 if offset_bound.is_some() => {
                    let (victim, bound) = (node(&mut rng), offset_bound.unwrap_or(0).max(0));
                    let i = victim.index();
                    if t >= rate_until[i] {
                        let target = rng.gen_range(-bound..=bound);
                        script.push((t, Command::JumpClock { node: victim, delta_us: target - offsets[i] }));
                        offsets[i] = target;
                    }
                }
                4 => {
                    let delta_us = rng.gen_range(-jump_max_us..=jump_max_us);
                    script.push((t, Command::JumpClock { node: node(&mut rng), delta_us }));
                }
                5 if offset_bound.is_some() => {
                    let (victim, bound) = (node(&mut rng), offset_bound.unwrap_or(0).max(0));
                    let i = victim.index();
                    let d = (heal_after.0 - t.0) as i64;
                    if t >= rate_until[i] && d > 0 {
                        // A rate r over d µs moves the offset by (r − 1)·d: keep it within ±bound.
                        let lo = (1_000_000 + (-bound - offsets[i]) * 1_000_000 / d).max(i64::from(RATE_MIN_PPM));
                        let hi = (1_000_000 + (bound - offsets[i]) * 1_000_000 / d).min(i64::from(RATE_MAX_PPM));
                        if lo <= hi {
                            let rate_ppm = rng.gen_range(lo..=hi);
                            offsets[i] += (rate_ppm - 1_000_000) * d / 1_000_000;
                            rate_until[i] = heal_after;
                            script.push((t, Command::SetClockRate { node: victim, rate_ppm: rate_ppm as u32 }));
                            script.push((heal_after, Command::SetClockRate { node: victim, rate_ppm: 1_000_000 }));
                        }
                    }
                }
                5 => {
                    let victim = node(&mut rng);
                    let rate_ppm = rng.gen_range(rate_min..=rate_max);
                    script.push((t, Command::SetClockRate { node: victim, rate_ppm }));
                    script.push((heal_after, Command::SetClockRate { node: victim, rate_ppm: 1_000_000 }));
                }
                6 => {
                    let victim = node(&mut rng);
                    let resume =
                        if bounded.is_some() { t.plus_us(rng.gen_range(1..=pause_max_ms) * 1_000) } else { heal_after };
                    script.push((t, Command::Pause { node: victim }));
                    script.push((resume, Command::Resume { node: victim }));
                }
                7 => {
                    let victim = node(&mut rng);
                    script.push((t, Command::Crash { node: victim }));
                    script.push((heal_after, Command::Restart { node: victim }));
                }
                8 => script.push((t, Command::TransferLeader { to: node(&mut rng) })),
                9 => script.push((t, membership_change(&mut rng))),
                _ => {}
            }
        }
    }
    script.sort_by_key(|(t, _)| *t);
    script
}

/// A random membership change, drawn before the run: which nodes exist then is unknown, so
/// ids are drawn from every possible one, and the run refuses (as an event) what raft-rs or
/// etcd would refuse at that moment.
fn membership_change(rng: &mut SimRng) -> Command {
    let kind = rng.gen_range(0..4u8);
    let mut any = || NodeId(rng.gen_range(1..=crate::config::NODES_MAX as u64));
    match kind {
        0 => Command::AddLearner,
        1 => Command::ChangeMembership { promote: vec![any()], remove: vec![] },
        2 => Command::ChangeMembership { promote: vec![], remove: vec![any()] },
        _ => {
            let (a, b) = (any(), any());
            if a == b {
                Command::AddLearner
            } else {
                Command::ChangeMembership { promote: vec![a], remove: vec![b] }
            }
        }
    }
}

/// The outcome of one swarm run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmReport {
    pub seed: u64,
    pub nodes: usize,
    pub steps: u64,
    pub commands: usize,
    pub writes_ok: usize,
    pub writes_failed: usize,
    pub writes_unknown: usize,
    pub reads_ok: usize,
    /// Linearizable reads that answered (the ones the checker judges).
    pub linearizable_reads: usize,
    /// Reads the linearizability checker flagged (stale reads and other violations).
    pub checker_violations: usize,
    /// The first few stale reads, explained.
    pub stale_examples: Vec<String>,
    /// Keys where the model checker (values only) accepted what the revisions prove stale,
    /// explained by its freedom to reorder concurrent or repeated writes.
    #[serde(default)]
    pub model_explained: usize,
    pub trace_hash: u64,
    /// Safety invariant violations (never expected).
    pub violations: Vec<String>,
}

impl SwarmReport {
    /// The command line that replays this run exactly.
    pub fn replay_command(&self, config: &SwarmConfig) -> String {
        format!(
            "cargo run --release -- swarm --seed {} --nodes {} --duration-ms {} --writes-per-sec {} --reads-per-sec {} --policy {} --commit-broadcast {} --faults {}{}",
            self.seed,
            config.nodes,
            config.duration_ms,
            config.writes_per_sec,
            config.reads_per_sec,
            policy_name(config.policy),
            commit_broadcast_name(config.commit_broadcast),
            fault_list(&config.faults),
            config.clock_error_ms_max.map_or(String::new(), |e| format!(" --clock-error-ms {e}"))
        )
    }
}

pub fn commit_broadcast_name(c: CommitBroadcast) -> &'static str {
    match c {
        CommitBroadcast::Eager => "eager",
        CommitBroadcast::Lazy => "lazy",
    }
}

pub fn parse_commit_broadcast(text: &str) -> Result<CommitBroadcast, String> {
    CommitBroadcast::ALL
        .into_iter()
        .find(|c| commit_broadcast_name(*c) == text)
        .ok_or_else(|| format!("unknown commit broadcast {text:?}: use eager or lazy"))
}

/// The cluster a swarm run (or the CLI's `run`) simulates.
pub fn cluster_config(config: &SwarmConfig) -> ClusterConfig {
    let mut cluster = ClusterConfig { node_count: config.nodes, ..ClusterConfig::default() };
    // Compacting every 200 entries, keeping 50, a follower cut off or down for a second or
    // two needs a raft snapshot: the faults exercise snapshots, not only appends.
    cluster.log_compaction_entries = 200;
    cluster.log_catch_up_entries = 50;
    cluster.leader_lease.policy = config.policy;
    cluster.commit_broadcast = config.commit_broadcast;
    cluster
}

pub fn policy_name(p: LeaderLeasePolicy) -> &'static str {
    match p {
        LeaderLeasePolicy::RenewAtAck => "renew-at-ack",
        LeaderLeasePolicy::SendTimeAnchored => "safe",
        LeaderLeasePolicy::RaftLeaseBased => "lease-based",
        LeaderLeasePolicy::LeaseGuard => "leaseguard",
        LeaderLeasePolicy::LeaseGuardTimers => "leaseguard-timers",
    }
}

pub fn parse_policy(text: &str) -> Result<LeaderLeasePolicy, String> {
    match text {
        "renew-at-ack" => Ok(LeaderLeasePolicy::RenewAtAck),
        "safe" => Ok(LeaderLeasePolicy::SendTimeAnchored),
        "lease-based" => Ok(LeaderLeasePolicy::RaftLeaseBased),
        "leaseguard" => Ok(LeaderLeasePolicy::LeaseGuard),
        "leaseguard-timers" => Ok(LeaderLeasePolicy::LeaseGuardTimers),
        other => Err(format!(
            "unknown policy {other:?}: use renew-at-ack, safe, lease-based, leaseguard or leaseguard-timers"
        )),
    }
}

fn fault_list(f: &FaultMix) -> String {
    let mut parts = Vec::new();
    for (on, name) in [
        (f.partitions, "partitions"),
        (f.lossy_network, "loss"),
        (f.clocks, "clocks"),
        (f.pauses, "pauses"),
        (f.crashes, "crashes"),
        (f.transfers, "transfers"),
        (f.membership, "membership"),
    ] {
        if on {
            parts.push(name);
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(",")
    }
}

/// Steps between state-machine comparisons (they cost a pass over every store).
const STATE_CHECK_EVERY_STEPS: u64 = 64;
/// Steps between incremental linearizability checks (as the page runs it, live).
const CHECKER_EVERY_STEPS: u64 = 512;

/// Runs one seed: the random schedule, invariants after every step, then heal everything,
/// settle for 8 s and check durability and convergence.
pub fn run_swarm(seed: u64, config: &SwarmConfig) -> SwarmReport {
    run_swarm_keeping_sim(seed, config).0
}

/// [`run_swarm`], also returning the simulation for inspection (its retained trace, stores).
pub fn run_swarm_keeping_sim(seed: u64, config: &SwarmConfig) -> (SwarmReport, Sim) {
    run_script(seed, config, random_schedule(seed, config))
}

/// A swarm run of `script` (a schedule [`random_schedule`] drew, perhaps for another policy:
/// the comparison runs one schedule under every policy).
pub fn run_script(seed: u64, config: &SwarmConfig, script: Vec<(SimTime, Command)>) -> (SwarmReport, Sim) {
    let mut sim = Sim::new(seed, cluster_config(config)).expect("swarm configs are valid");
    let mut checker = Checker::new();
    let commands = script.len();
    for (at, cmd) in script {
        sim.schedule(at, cmd).expect("the generator only draws valid commands");
    }
    let mut checks = Invariants::new();
    let mut steps = 0u64;
    let end = SimTime::from_ms(1_000 + config.duration_ms);
    while sim.next_due().is_some_and(|t| t <= end) {
        sim.step();
        steps += 1;
        checks.observe(&sim);
        if steps.is_multiple_of(STATE_CHECK_EVERY_STEPS) {
            checks.observe_state(&sim);
        }
        if steps.is_multiple_of(CHECKER_EVERY_STEPS) {
            checker.update(sim.history());
        }
    }
    // Heal: links, network behaviour, clocks' rates, pauses and crashes.
    let _ = sim.apply(Command::HealAll);
    let _ = sim.apply(Command::SetNetwork { link: LinkConfig::default() });
    // Every node the run has had, the ones membership changes added included.
    let ids: Vec<NodeId> = sim.nodes().iter().map(|n| n.id).collect();
    for node in ids {
        let _ = sim.apply(Command::SetClockRate { node, rate_ppm: 1_000_000 });
        if sim.node(node).is_crashed() {
            let _ = sim.apply(Command::Restart { node });
        } else if sim.machine(node).paused {
            let _ = sim.apply(Command::Resume { node });
        }
    }
    let settle_until = sim.now().plus_us(8_000_000);
    while sim.next_due().is_some_and(|t| t <= settle_until) {
        sim.step();
        steps += 1;
        checks.observe(&sim);
    }
    sim.run_until(settle_until);
    checks.observe_state(&sim);
    checks.check_acknowledged_writes(&sim, true);
    checker.update(sim.history());

    let mut report = SwarmReport {
        seed,
        nodes: config.nodes,
        steps,
        commands,
        writes_ok: 0,
        writes_failed: 0,
        writes_unknown: 0,
        reads_ok: 0,
        linearizable_reads: 0,
        checker_violations: checker.violations(),
        stale_examples: checker
            .stale_reads()
            .iter()
            .take(3)
            .map(|s| crate::explain::explain_stale_read(&sim, s))
            .collect(),
        model_explained: 0,
        trace_hash: sim.trace_hash(),
        violations: checks.violations().to_vec(),
    };
    // Both checkers on the history kept: they must agree and decide, and the live checker
    // must have reached the verdicts a fresh one reaches at the end. A history that forgot
    // its start (a long, busy run) hides from a fresh checker what the live one saw, so there
    // the fresh one may miss a violation the live one found, but never find one it did not.
    let cross = cross_check(sim.history());
    if !sim.history().holds_the_whole_run() {
        let invented = sim.history().iter().find(|r| {
            cross.revision.verdict(r.id).is_some_and(Verdict::is_violation)
                && checker.verdict(r.id).is_some_and(|v| !v.is_violation())
        });
        if let Some(r) = invented {
            report.violations.push(format!(
                "a fresh run over the history kept finds {} {} a violation the live checker did not: live {:?}, fresh {:?}",
                r.id,
                r.kind.summary(),
                checker.verdict(r.id),
                cross.revision.verdict(r.id)
            ));
        }
    } else if cross.revision.violations() != checker.violations() {
        let differ = sim.history().iter().find(|r| checker.verdict(r.id) != cross.revision.verdict(r.id));
        let example = differ.map_or(String::new(), |r| {
            format!(
                " ({} {}: live {:?}, fresh {:?})",
                r.id,
                r.kind.summary(),
                checker.verdict(r.id),
                cross.revision.verdict(r.id)
            )
        });
        report.violations.push(format!(
            "the live checker found {} violations, a fresh run over the same history {}{example}",
            checker.violations(),
            cross.revision.violations()
        ));
    }
    report.violations.extend(cross.unknown.iter().map(|u| format!("model checker gave no verdict: {u}")));
    report.violations.extend(cross.disagreements.iter().map(|d| format!("the checkers disagree: {d}")));
    report.model_explained = cross.explained.len();
    for r in sim.history().iter() {
        use crate::event::OpOutcome;
        match (&r.kind, &r.outcome) {
            (crate::history::OpKind::Client(ClientOp::Read { mode, .. }), OpOutcome::Ok { .. }) => {
                report.reads_ok += 1;
                if *mode != ReadMode::Serializable {
                    report.linearizable_reads += 1;
                }
            }
            (crate::history::OpKind::Client(ClientOp::Read { .. }), _) => {}
            (_, OpOutcome::Ok { .. }) => report.writes_ok += 1,
            (_, OpOutcome::Failed { .. }) => report.writes_failed += 1,
            _ => report.writes_unknown += 1,
        }
    }
    if sim.leader().is_none() {
        report.violations.push(format!("no leader {} after healing", sim.now()));
    }
    (report, sim)
}
