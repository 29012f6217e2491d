//! `cargo run --release --example speed -- "sim 5 100 eager"`: one timed run of a bench
//! workload ([`leaselab::bench::SpeedSpec`]: "bare 5", "sim 5 100 eager", "sim 5 100 lazy").
//! Prints the simulated seconds per wall second, then messages (bare loop) or events
//! (simulation) per wall second.
//!
//! The native bench (`benches/sim_speed.rs`) runs each of its speed figures this way, in a
//! fresh process: examples are built with the release profile's `panic = "abort"`, which Cargo
//! never gives bench targets (they always unwind), and the simulation runs ≈7 % fewer
//! instructions with it. The wall clock is read here, outside the deterministic core.
use std::process::ExitCode;

/// The CLI's allocator (src/bin/leaselab.rs), so the bench times what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let Some(text) = std::env::args().nth(1) else {
        eprintln!("usage: speed SPEC (\"bare 5\", \"sim 5 100 eager\")");
        return ExitCode::from(2);
    };
    match leaselab::bench::SpeedSpec::parse(&text) {
        Ok(spec) => {
            let start = std::time::Instant::now();
            let (simulated_s, count) = spec.run();
            let wall = start.elapsed().as_secs_f64();
            println!("{} {}", simulated_s / wall, count as f64 / wall);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
