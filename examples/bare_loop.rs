//! The bare raft-rs loop alone (TOOLCHAIN.md's reference, `leaselab::bench::bare_raft_loop`):
//! `cargo run --release --example bare_loop [ticks]` with 5 nodes, for comparing its
//! instruction count or cache behaviour (valgrind) with `write_speed`'s.
fn main() {
    let ticks: u64 = match std::env::args().nth(1) {
        Some(a) => a.parse().unwrap_or_else(|_| panic!("ticks: {a:?} is not a number")),
        None => 3_300,
    };
    let t = std::time::Instant::now();
    let (msgs, virtual_ms) = leaselab::bench::bare_raft_loop(5, ticks);
    let wall = t.elapsed().as_secs_f64();
    println!("{msgs} messages, {:.0}× real time", virtual_ms as f64 / 1e3 / wall);
}
