//! Command-line runner for the simulation core.
//!
//! ```text
//! leaselab run   --seed N --nodes N --duration-ms N --writes-per-sec N --faults MIX [--format text|json]
//! leaselab swarm --seed N | --seeds A..B  [--nodes N] [--duration-ms N] [--writes-per-sec N] [--faults MIX] [--trace]
//! ```
//! `run` prints the event trace of one seeded run, one line per event (or JSON lines);
//! `swarm` runs seeds with invariant checks and prints a summary, and the replay command of
//! every failing seed. MIX is `none`, `all`, or a comma list of
//! `partitions,loss,clocks,pauses,crashes`.

use leaselab::swarm::{random_schedule, run_swarm_keeping_sim, FaultMix, SwarmConfig};
use leaselab::{ClusterConfig, Sim, SimTime};
use std::process::ExitCode;

struct Args {
    command: String,
    seeds: std::ops::Range<u64>,
    config: SwarmConfig,
    json: bool,
    trace: bool,
}

fn usage() -> String {
    "usage: leaselab run|swarm [--seed N | --seeds A..B] [--nodes 1-7] [--duration-ms N] \
     [--writes-per-sec N] [--faults none|all|partitions,loss,clocks,pauses,crashes] \
     [--format text|json] [--trace]"
        .to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or_else(usage)?;
    if !matches!(command.as_str(), "run" | "swarm") {
        return Err(format!("unknown command {command:?}\n{}", usage()));
    }
    let mut args = Args {
        command,
        seeds: 0..1,
        config: SwarmConfig::default(),
        json: false,
        trace: false,
    };
    while let Some(flag) = it.next() {
        if flag == "--trace" {
            args.trace = true;
            continue;
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
            }
            "--nodes" => args.config.nodes = num(&value)? as usize,
            "--duration-ms" => args.config.duration_ms = num(&value)?,
            "--writes-per-sec" => args.config.writes_per_sec = num(&value)? as u32,
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
    ClusterConfig { node_count: args.config.nodes, ..ClusterConfig::default() }
        .validate()
        .map_err(|e| e.to_string())?;
    Ok(args)
}

fn run(args: &Args) {
    let seed = args.seeds.start;
    let cluster = ClusterConfig { node_count: args.config.nodes, ..ClusterConfig::default() };
    let mut sim = Sim::new(seed, cluster).expect("validated");
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

fn swarm(args: &Args) -> bool {
    let mut failed = 0;
    let total = args.seeds.end - args.seeds.start;
    for seed in args.seeds.clone() {
        let (report, sim) = run_swarm_keeping_sim(seed, &args.config);
        if args.trace {
            for e in sim.events_since(0) {
                println!("{e}");
            }
        }
        if args.trace || total == 1 {
            println!(
                "seed {seed}: {} steps, {} commands, writes ok/failed/unknown {}/{}/{}, trace {:016x}",
                report.steps,
                report.commands,
                report.writes_ok,
                report.writes_failed,
                report.writes_unknown,
                report.trace_hash
            );
        }
        if !report.violations.is_empty() {
            failed += 1;
            println!("FAIL seed={seed}");
            for v in &report.violations {
                println!("  {v}");
            }
            println!("  reproduce with: {}", report.replay_command(&args.config));
        }
    }
    println!("{} passed, {failed} failed", total - failed);
    failed == 0
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
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
        _ => {
            if swarm(&args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
