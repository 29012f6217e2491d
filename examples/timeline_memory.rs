//! Memory harness for time travel: `cargo run --release --example timeline_memory [seconds]
//! [nodes] [ops/s] [scrubs]` drives a `Timeline` with the background load on — advanced a
//! simulated minute per call, checkpoints taken as it goes, as the page's timeline takes them —
//! and prints how many checkpoints it holds. Measure it with
//! `/usr/bin/time -f %M` (peak RSS in KB). With `scrubs` > 0 it then scrubs to that many
//! times spread over the run (`leaselab::bench::scrub_targets`) and prints how long they took
//! (wall clock, read here, outside the core): what the checkpoints' spacing costs.
use leaselab::time::SimTime;

/// The CLI's allocator (src/bin/leaselab.rs): scrub times depend on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use leaselab::timeline::Timeline;
use leaselab::{ClusterConfig, Command};

fn main() {
    let arg = |i: usize, default: u64| -> u64 {
        std::env::args().nth(i).map_or(default, |a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("timeline_memory: argument {i} ({a:?}) is not a whole number");
                std::process::exit(2)
            })
        })
    };
    let (seconds, nodes, ops, scrubs) = (arg(1, 3_600), arg(2, 5), arg(3, 100), arg(4, 0));
    let config = ClusterConfig { node_count: nodes as usize, ..ClusterConfig::default() };
    let mut timeline = Timeline::new(7, config).unwrap_or_else(|e| {
        eprintln!("timeline_memory: {e}");
        std::process::exit(2)
    });
    if let Err(e) = timeline.apply(Command::SetWorkload { ops_per_sec: ops as u32 }) {
        eprintln!("timeline_memory: {e}");
        std::process::exit(2);
    }
    let mut minute = 0;
    while minute * 60 < seconds {
        minute += 1;
        timeline.advance(SimTime::from_ms((minute * 60).min(seconds) * 1_000), usize::MAX);
    }
    println!(
        "{seconds} simulated s, {nodes} nodes, {ops} ops/s: {} checkpoints, {} history records",
        timeline.checkpoint_count(),
        timeline.sim().history().len()
    );
    if scrubs > 0 {
        let targets = leaselab::bench::scrub_targets(timeline.sim().now(), scrubs);
        let start = std::time::Instant::now();
        let times = leaselab::bench::scrub_times(&mut timeline, &targets, || start.elapsed().as_secs_f64() * 1e3);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let max = times.iter().copied().fold(0.0, f64::max);
        println!("{scrubs} scrubs: mean {mean:.0} ms, max {max:.0} ms");
    }
}
