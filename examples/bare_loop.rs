fn main() {
    let ticks: u64 = std::env::args().nth(1).map(|a| a.parse().unwrap()).unwrap_or(3300);
    let t = std::time::Instant::now();
    let (msgs, ms) = leaselab::bench::bare_raft_loop(5, ticks);
    let wall = t.elapsed().as_secs_f64();
    println!("{msgs} messages, {:.0}× real time", ms as f64 / 1e3 / wall);
}
