//! Profiling harness: `cargo run --release --example write_speed [nodes] [writes/s] [seconds]`
//! runs the benchmark's write workload once and prints its speed (use under `perf record`).
fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (nodes, writes, seconds) =
        (args.first().copied().unwrap_or(5), args.get(1).copied().unwrap_or(100), args.get(2).copied().unwrap_or(120));
    let t = std::time::Instant::now();
    let sim = leaselab::bench::write_workload(nodes as usize, writes as u32, seconds);
    let wall = t.elapsed().as_secs_f64();
    println!(
        "{nodes} nodes, {writes} writes/s: {:.0}× real time, {} events, {} steps",
        sim.now().0 as f64 / 1e6 / wall,
        sim.trace().len(),
        sim.steps()
    );
}
