//! Command-line runner for the simulation core.
//!
//! ```text
//! leaselab run   --seed N --nodes N --duration-ms N --writes-per-sec N --faults MIX [--format text|json]
//! leaselab swarm --seed N | --seeds A..B  [--nodes N] [--duration-ms N] [--writes-per-sec N] [--faults MIX]
//!                [--policy renew-at-ack|safe|lease-based|leaseguard|leaseguard-timers] [--commit-broadcast eager|lazy] [--trace]
//! leaselab sweep --seeds A..B [--nodes N]
//! leaselab failover --seed N [--format json]
//! leaselab matrix [--seed N] [--format json]
//! leaselab compare --seed N [--faults MIX] [--clock-error-ms N] [--format json]
//! leaselab hunt  --seed N | --seeds A..B  [--nodes N] [--policy renew-at-ack|safe|lease-based|leaseguard|leaseguard-timers] [--episodes N]
//! leaselab check FILE [--format json]
//! leaselab merge REPORT...
//! leaselab scenarios
//! leaselab scenario NAME|FILE [--format json]
//! ```
//! `run` prints the event trace of one seeded run, one line per event (or JSON lines);
//! `swarm` runs seeds with invariant checks and prints a summary, and the replay command of
//! every failing seed. `sweep` prints the linearizability-violation rate of each leader
//! lease policy against the size of clock faults relative to the drift bound. MIX is `none`, `all`, or a comma list of
//! `partitions,loss,clocks,pauses,crashes`. `hunt` aims faults at leader lease rounds and
//! prints the shortest replay of any stale read. `swarm` and `hunt` take `--shard K/N` (run
//! every N-th seed, starting with the K-th, K = 1..N) and `--report FILE` (a JSON summary);
//! `merge` adds such summaries into one. `check` runs the model checker on a history file
//! (Jepsen log, Jepsen EDN maps or JSON lines) and exits 0, 1 or 2: linearizable, not, unknown.

use leaselab::hunt::{run_hunt, HuntConfig};
use leaselab::swarm::{
    cluster_config, parse_commit_broadcast, parse_policy, policy_name, random_schedule, run_swarm_keeping_sim,
    FaultMix, SwarmConfig,
};
use leaselab::{Sim, SimTime};
use std::process::ExitCode;

/// The native allocator: see Cargo.toml (the simulation allocates per message and per write).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    command: String,
    seeds: std::ops::Range<u64>,
    /// Run only seeds `start + (k-1) + i·n`: (k, n), 1-based.
    shard: (u64, u64),
    config: SwarmConfig,
    episodes: u32,
    json: bool,
    trace: bool,
    report: Option<String>,
    /// `hunt`: fail unless a stale read is found (for the policies known to allow them).
    expect_stale: bool,
}

impl Args {
    /// The seeds this shard runs.
    fn shard_seeds(&self) -> impl Iterator<Item = u64> + '_ {
        let (k, n) = self.shard;
        self.seeds.clone().filter(move |s| (s - self.seeds.start) % n == k - 1)
    }
}

/// What a swarm or hunt run found, in a form shards can merge ([`merge`]).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Summary {
    command: String,
    seeds: u64,
    failed: u64,
    linearizable_reads: u64,
    stale: u64,
    /// Replay commands of failing seeds (for a hunt: of seeds with a stale read), each after
    /// how far it must run — a swarm's steps, a hunt's first stale read in ms — nearest first.
    failures: Vec<(u64, String)>,
}

impl Summary {
    fn write(&self, path: &Option<String>) -> Result<(), String> {
        match path {
            None => Ok(()),
            Some(p) => std::fs::write(p, serde_json::to_string_pretty(self).expect("serializes"))
                .map_err(|e| format!("{p}: {e}")),
        }
    }
}

fn usage() -> String {
    "usage:
  leaselab run|swarm|sweep|compare [--seed N | --seeds A..B] [--nodes 1-7] [--duration-ms N]
        [--writes-per-sec N] [--reads-per-sec N] [--policy renew-at-ack|safe|lease-based|leaseguard|leaseguard-timers]
        [--commit-broadcast eager|lazy] [--clock-error-ms N]
        [--faults none|all|partitions,loss,clocks,pauses,crashes,transfers,membership] [--format text|json] [--trace]
        [--shard K/N] [--report FILE]
  leaselab hunt [--seed N | --seeds A..B] [--nodes 1-7] [--policy renew-at-ack|safe|lease-based|leaseguard|leaseguard-timers] [--episodes N]
        [--shard K/N] [--report FILE] [--expect-stale]
  leaselab merge REPORT...
  leaselab check FILE [--format json]
  leaselab scenarios
  leaselab scenario NAME|FILE [--format json]
  leaselab help

  run        print the event trace of one seeded run, one line per event (JSON lines with --format json)
  swarm      run seeds with every invariant checked after each step; prints how to replay a failure
  sweep      stale-read rate of each leader lease policy against clock-fault size
  failover   the leader crashes: how soon each policy's new leader answers reads (--seed N)
  matrix     each read path's latency, reads/s and messages per read at 1, 3, 5 and 7 nodes
  compare    one seed's fault schedule under every leader lease policy: reads by path, waits, latency, stale reads
  hunt       faults aimed at leader lease rounds (clocks within the bound); prints the shortest stale read's replay
  merge      add the --report summaries of shards into one (exit 1 if any shard failed)
  check      model-check a history (Jepsen log or EDN maps, or JSON lines): exit 0 linearizable, 1 not, 2 unknown
  scenarios  list the guided tours; scenario runs one (or a scenario file) and checks its expectations"
        .to_string()
}

/// Parses the command line; `Ok(None)` is a request for help.
fn parse_args() -> Result<Option<Args>, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or_else(usage)?;
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        return Ok(None);
    }
    if !matches!(command.as_str(), "run" | "swarm" | "sweep" | "hunt" | "compare" | "failover" | "matrix") {
        return Err(format!("unknown command {command:?}\n{}", usage()));
    }
    let mut args = Args {
        command,
        seeds: 0..1,
        shard: (1, 1),
        config: SwarmConfig::default(),
        episodes: HuntConfig::default().episodes,
        json: false,
        trace: false,
        report: None,
        expect_stale: false,
    };
    while let Some(flag) = it.next() {
        if flag == "--trace" {
            args.trace = true;
            continue;
        }
        if flag == "--expect-stale" {
            args.expect_stale = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("{flag}: {v:?} is not a number"));
        match flag.as_str() {
            "--seed" => {
                let s = num(&value)?;
                args.seeds = s..s + 1;
            }
            "--seeds" => {
                let (a, b) = value.split_once("..").ok_or("--seeds takes A..B")?;
                args.seeds = num(a)?..num(b)?;
                if args.seeds.is_empty() {
                    return Err(format!("--seeds {value}: the range is empty (A..B runs seeds A to B-1)"));
                }
            }
            "--nodes" => args.config.nodes = num(&value)? as usize,
            "--duration-ms" => args.config.duration_ms = num(&value)?,
            "--writes-per-sec" => args.config.writes_per_sec = num(&value)? as u32,
            "--reads-per-sec" => args.config.reads_per_sec = num(&value)? as u32,
            "--policy" => args.config.policy = parse_policy(&value)?,
            "--commit-broadcast" => args.config.commit_broadcast = parse_commit_broadcast(&value)?,
            "--clock-error-ms" => args.config.clock_error_ms_max = Some(num(&value)?),
            "--episodes" => args.episodes = num(&value)? as u32,
            "--report" => args.report = Some(value),
            "--shard" => {
                let parsed =
                    value.split_once('/').and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
                match parsed {
                    Some((k, n)) if k >= 1 && k <= n => args.shard = (k, n),
                    _ => return Err(format!("--shard {value}: use K/N with 1 ≤ K ≤ N (e.g. 2/8)")),
                }
            }
            "--faults" => args.config.faults = FaultMix::parse(&value)?,
            "--format" => {
                args.json = match value.as_str() {
                    "json" => true,
                    "text" => false,
                    other => return Err(format!("--format: {other:?} is not text or json")),
                }
            }
            other => return Err(format!("unknown flag {other}\n{}", usage())),
        }
    }
    cluster_config(&args.config).validate().map_err(|e| e.to_string())?;
    Ok(Some(args))
}

fn run(args: &Args) {
    let seed = args.seeds.start;
    let mut sim = Sim::new(seed, cluster_config(&args.config)).expect("validated");
    for (at, cmd) in random_schedule(seed, &args.config) {
        sim.schedule(at, cmd).expect("generated commands are valid");
    }
    let end = SimTime::from_ms(1_000 + args.config.duration_ms);
    let mut printed = 0u64;
    loop {
        let more = sim.next_due().is_some_and(|t| t <= end);
        if more {
            sim.step();
        } else {
            sim.run_until(end);
        }
        for e in sim.events_since(printed) {
            if args.json {
                println!("{}", serde_json::to_string(e).expect("events serialize"));
            } else {
                println!("{e}");
            }
        }
        printed = sim.trace().len();
        if !more {
            break;
        }
    }
    eprintln!("trace hash {:016x}, {} events", sim.trace_hash(), sim.trace().len());
}

/// Says which seed a panic struck and how to replay it (a panic aborts the process, so the
/// swarm's own report of a failed seed never comes).
fn replay_on_panic(command: String) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        eprintln!("the run panicked; reproduce with: {command}");
    }));
}

fn swarm(args: &Args) -> bool {
    let mut failed = 0;
    let (mut reads, mut stale) = (0usize, 0usize);
    let total = args.shard_seeds().count() as u64;
    let mut summary = Summary { command: "swarm".into(), seeds: total, ..Summary::default() };
    for seed in args.shard_seeds() {
        let replay = leaselab::swarm::SwarmReport { seed, nodes: args.config.nodes, ..Default::default() };
        replay_on_panic(replay.replay_command(&args.config));
        let (report, sim) = run_swarm_keeping_sim(seed, &args.config);
        drop(std::panic::take_hook());
        if args.trace {
            for e in sim.events_since(0) {
                println!("{e}");
            }
        }
        if args.trace || total == 1 {
            println!(
                "seed {seed}: {} steps, {} commands, writes ok/failed/unknown {}/{}/{}, linearizable reads {}, flagged {}, trace {:016x}",
                report.steps,
                report.commands,
                report.writes_ok,
                report.writes_failed,
                report.writes_unknown,
                report.linearizable_reads,
                report.checker_violations,
                report.trace_hash
            );
            for e in &report.stale_examples {
                println!("  stale: {e}");
            }
        }
        reads += report.linearizable_reads;
        stale += report.checker_violations;
        if !report.violations.is_empty() {
            failed += 1;
            println!("FAIL seed={seed}");
            for v in &report.violations {
                println!("  {v}");
            }
            println!("  reproduce with: {}", report.replay_command(&args.config));
            summary.failures.push((report.steps, report.replay_command(&args.config)));
        }
    }
    println!("linearizable reads {reads}, flagged by the checker {stale}");
    println!("{} passed, {failed} failed", total - failed);
    summary.failed = failed;
    summary.linearizable_reads = reads as u64;
    summary.stale = stale as u64;
    if let Err(e) = summary.write(&args.report) {
        eprintln!("{e}");
        return false;
    }
    failed == 0
}

/// Hunts each seed; prints the shortest stale read found and its replay. Fails on a stale
/// read under the safe policy, or any checker failure.
fn hunt(args: &Args) -> bool {
    let config = HuntConfig { nodes: args.config.nodes, policy: args.config.policy, episodes: args.episodes };
    let mut summary = Summary { command: "hunt".into(), ..Summary::default() };
    let mut shortest: Option<(u64, String, String)> = None;
    for seed in args.shard_seeds() {
        let (report, _) = run_hunt(seed, &config);
        summary.seeds += 1;
        summary.linearizable_reads += report.linearizable_reads as u64;
        summary.stale += report.stale as u64;
        if args.seeds.end - args.seeds.start == 1 || args.trace {
            println!("seed {seed}: {} linearizable reads, {} stale; attacks:", report.linearizable_reads, report.stale);
            for a in &report.attacks {
                println!("  {a}");
            }
            if let Some(s) = &report.first_stale {
                println!("  stale: {s}");
            }
        }
        if !report.checker_failures.is_empty() {
            summary.failed += 1;
            println!("FAIL seed={seed}");
            for f in &report.checker_failures {
                println!("  {f}");
            }
            println!("  reproduce with: {}", report.replay_command(&config));
        }
        if report.stale > 0 {
            let replay = report.replay_command(&config);
            let at = report.first_stale_ms.unwrap_or(u64::MAX);
            summary.failures.push((at, replay.clone()));
            if shortest.as_ref().is_none_or(|(d, _, _)| at < *d) {
                shortest = Some((at, replay, report.first_stale.clone().unwrap_or_default()));
            }
        }
    }
    summary.failures.sort();
    let with_stale = summary.failures.len();
    println!(
        "hunt, policy {}: {} seeds, {} linearizable reads, {} stale reads in {with_stale} seeds",
        policy_name(config.policy),
        summary.seeds,
        summary.linearizable_reads,
        summary.stale
    );
    if let Some((ms, replay, why)) = &shortest {
        println!("shortest (first stale read at {ms} ms): {replay}\n  {why}");
    }
    let safe_failed = config.policy == leaselab::LeaderLeasePolicy::SendTimeAnchored && summary.stale > 0;
    if safe_failed {
        println!("FAIL: the safe policy served a stale read with clocks within the bound");
        summary.failed += 1;
    }
    if args.expect_stale && summary.stale == 0 {
        println!("FAIL: expected the hunt to find a stale read under {}", policy_name(config.policy));
        summary.failed += 1;
    }
    if let Err(e) = summary.write(&args.report) {
        eprintln!("{e}");
        return false;
    }
    summary.failed == 0
}

/// `leaselab merge REPORT...`: adds shard summaries into one.
fn merge(paths: &[String]) -> ExitCode {
    let mut total = Summary::default();
    for p in paths {
        let part: Summary = match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{p}: {e}");
                return ExitCode::from(2);
            }
        };
        if !total.command.is_empty() && total.command != part.command {
            eprintln!("{p}: a {} report cannot merge with {} reports", part.command, total.command);
            return ExitCode::from(2);
        }
        total.command = part.command;
        total.seeds += part.seeds;
        total.failed += part.failed;
        total.linearizable_reads += part.linearizable_reads;
        total.stale += part.stale;
        total.failures.extend(part.failures);
    }
    total.failures.sort();
    println!("{}", serde_json::to_string_pretty(&total).expect("serializes"));
    if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `leaselab check FILE [--format json]`: the model checker on an outside history.
fn check_command(argv: &[String]) -> ExitCode {
    use leaselab::checker::{external, model};
    let Some(path) = argv.get(1) else {
        eprintln!("usage: leaselab check FILE [--format json]");
        return ExitCode::from(2);
    };
    let json = argv.windows(2).any(|w| w[0] == "--format" && w[1] == "json");
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let ops = match external::parse(&text) {
        Ok(ops) => ops,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let report = model::check(&ops, model::Limits::default());
    let word = report.outcome().label();
    let (code, detail) = match report.outcome() {
        model::Outcome::Linearizable => (0, String::new()),
        model::Outcome::NotLinearizable(c) => (1, c.describe(&ops)),
        model::Outcome::Unknown { reason } => (2, reason.clone()),
    };
    if json {
        let out = serde_json::json!({ "file": path, "verdict": word, "operations": ops.len(),
            "keys": report.keys.len(), "steps": report.steps(), "detail": detail });
        println!("{out}");
    } else {
        println!(
            "{path}: {word} ({} operation{}, {} key{}, {} search steps)",
            ops.len(),
            if ops.len() == 1 { "" } else { "s" },
            report.keys.len(),
            if report.keys.len() == 1 { "" } else { "s" },
            report.steps()
        );
        if !detail.is_empty() {
            println!("{detail}");
        }
    }
    ExitCode::from(code)
}

/// Violation rate of linearizable reads against clock error / drift bound, per policy.
/// Faults: partitions, lossy links, clock jumps/drift and pauses of bounded size; no crashes
/// (a restarted node votes at once, which no lease survives).
fn sweep(args: &Args) -> bool {
    use leaselab::LeaderLeasePolicy;
    let bound_ms = leaselab::LeaderLeaseConfig::default().clock_drift_bound_ms as u64;
    let ratios = [0.5f64, 1.0, 2.0, 4.0, 8.0, 16.0];
    println!(
        "clock faults up to k × drift bound ({bound_ms} ms); {} seeds per cell; nodes {}",
        args.seeds.end - args.seeds.start,
        args.config.nodes
    );
    let mut header = format!("{:>6} {:>9}", "k", "error ms");
    for policy in LeaderLeasePolicy::ALL {
        header.push_str(&format!(" | {:>26}", leaselab::swarm::policy_name(policy)));
    }
    println!("{header}");
    let mut safe_ok = true;
    for k in ratios {
        let error_ms = (k * bound_ms as f64) as u64;
        let mut cells = Vec::new();
        for policy in LeaderLeasePolicy::ALL {
            let config = SwarmConfig {
                policy,
                clock_error_ms_max: Some(error_ms),
                faults: FaultMix::parse("partitions,loss,clocks,pauses").expect("valid"),
                reads_per_sec: args.config.reads_per_sec.max(50),
                ..args.config.clone()
            };
            let (mut reads, mut flagged) = (0usize, 0usize);
            for seed in args.seeds.clone() {
                let (report, _) = run_swarm_keeping_sim(seed, &config);
                reads += report.linearizable_reads;
                flagged += report.checker_violations;
            }
            // The safe policy and LeaseGuard (both variants) promise no stale read within the bound.
            let promised = policy == LeaderLeasePolicy::SendTimeAnchored || policy.in_log();
            if promised && k <= 1.0 && flagged > 0 {
                safe_ok = false;
            }
            cells.push(format!("{flagged:>6} / {reads:>7} = {:>6.3}%", 100.0 * flagged as f64 / reads.max(1) as f64));
        }
        println!("{k:>6} {error_ms:>9} | {}", cells.iter().map(|c| format!("{c:>26}")).collect::<Vec<_>>().join(" | "));
    }
    if !safe_ok {
        println!("FAIL: the safe policy or LeaseGuard produced stale reads within the bound");
    }
    safe_ok
}

/// `leaselab scenario NAME|FILE [--format json]`: runs a guided tour, prints its narration,
/// trace, history and verdicts, and fails if an expectation is not met. `leaselab scenarios`
/// lists the built-ins.
fn scenario_command() -> Option<ExitCode> {
    use leaselab::scenario::{builtin, parse, run, BUILTIN};
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some("scenarios") => {
            for (name, _) in BUILTIN {
                let s = builtin(name).expect("built-ins parse");
                println!("{name:<34} {}", s.title);
            }
            Some(ExitCode::SUCCESS)
        }
        Some("scenario") => {
            let Some(which) = argv.get(1) else {
                eprintln!("usage: leaselab scenario NAME|FILE [--format json]");
                return Some(ExitCode::from(2));
            };
            let json = argv.iter().any(|a| a == "json");
            let scenario = if std::path::Path::new(which).exists() {
                std::fs::read_to_string(which).map_err(|e| format!("{which}: {e}")).and_then(|t| parse(&t))
            } else {
                builtin(which)
            };
            let scenario = match scenario {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return Some(ExitCode::from(2));
                }
            };
            let (report, sim) = run(&scenario);
            if json {
                let history: Vec<_> = sim.history().iter().collect();
                let trace: Vec<_> = sim.events_since(0).collect();
                let out = serde_json::json!({ "report": report, "history": history, "trace": trace });
                println!("{}", serde_json::to_string_pretty(&out).expect("serializes"));
            } else {
                println!("# {} — {}", scenario.name, scenario.title);
                for (i, step) in scenario.steps.iter().enumerate() {
                    println!("step {:>2}: {}", i + 1, step.narration);
                    if let Some(q) = &step.predict {
                        println!("         predict: {q}");
                    }
                }
                println!("## trace");
                for e in sim.events_since(0) {
                    println!("{e}");
                }
                println!("## history");
                for r in sim.history().iter() {
                    let path =
                        r.trace.as_ref().and_then(|t| t.path).map_or(String::new(), |p| format!(" [{}]", p.label()));
                    println!("{} at {}: {}{path} -> {:?}", r.id, r.node, r.kind.summary(), r.outcome);
                }
                for s in &report.stale_reads {
                    println!("STALE: {s}");
                }
                for (step, text) in &report.refused {
                    println!("step {step}: {text}");
                }
                println!("## expectations");
                for e in &report.expectations {
                    println!("{} {} ({})", if e.passed { "ok  " } else { "FAIL" }, e.description, e.detail);
                }
                println!("trace hash {:016x}", report.trace_hash);
            }
            Some(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        _ => None,
    }
}

fn main() -> ExitCode {
    if let Some(code) = scenario_command() {
        return code;
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some("check") => return check_command(&argv),
        Some("merge") if argv.len() > 1 => return merge(&argv[1..]),
        Some("merge") => {
            eprintln!("usage: leaselab merge REPORT...");
            return ExitCode::from(2);
        }
        _ => {}
    }
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match args.command.as_str() {
        "run" => {
            run(&args);
            ExitCode::SUCCESS
        }
        "hunt" => {
            if hunt(&args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        "failover" => {
            let seed = args.seeds.start;
            let runs: Vec<_> =
                leaselab::LeaderLeasePolicy::ALL.iter().map(|&p| leaselab::failover::failover(seed, p)).collect();
            if args.json {
                println!("{}", serde_json::to_string_pretty(&runs).expect("serializes"));
            } else {
                print!("{}", leaselab::failover::table(seed, &runs));
            }
            ExitCode::SUCCESS
        }
        "matrix" => {
            let seed = args.seeds.start;
            let cells = leaselab::matrix::matrix(seed);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&cells).expect("serializes"));
            } else {
                print!("{}", leaselab::matrix::table(seed, &cells));
            }
            ExitCode::SUCCESS
        }
        "compare" => {
            let seed = args.seeds.start;
            let runs = leaselab::compare::compare(seed, &args.config);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&runs).expect("serializes"));
            } else {
                print!("{}", leaselab::compare::table(seed, &runs));
            }
            ExitCode::SUCCESS
        }
        "sweep" => {
            if sweep(&args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            if swarm(&args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
