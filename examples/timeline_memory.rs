//! Memory harness for time travel: `cargo run --release --example timeline_memory [seconds]
//! [nodes] [ops/s]` drives a `Timeline` with the background load on — advanced a simulated
//! minute per call, checkpoints taken as it goes, as the page's timeline takes them — and
//! prints how many checkpoints it holds. Measure it with `/usr/bin/time -f %M` (peak RSS in KB).
use leaselab::time::SimTime;
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
    let (seconds, nodes, ops) = (arg(1, 3_600), arg(2, 5), arg(3, 100));
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
}
