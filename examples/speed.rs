//! `cargo run --release --example speed -- "sim 5 100 eager"`: one timed run of a bench
//! workload ([`leaselab::bench::SpeedSpec`]: "bare 5", "sim 5 100 eager", "sim 5 100 lazy").
//! Prints the simulated seconds per wall second, then messages (bare loop) or events
//! (simulation) per wall second. With `--bench-line` first, prints one
//! [`leaselab::bench::speed_line`] instead, which `make bench` collects between the browsers'
//! runs of the same figure.
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
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let bench_line = args.first().is_some_and(|a| a == "--bench-line");
    if bench_line {
        args.remove(0);
    }
    let Some(text) = args.first() else {
        eprintln!("usage: speed [--bench-line] SPEC (\"bare 5\", \"sim 5 100 eager\")");
        return ExitCode::from(2);
    };
    match leaselab::bench::SpeedSpec::parse(text) {
        Ok(spec) => {
            let start = std::time::Instant::now();
            let (simulated_s, count) = spec.run();
            let wall = start.elapsed().as_secs_f64();
            if bench_line {
                println!("{}", leaselab::bench::speed_line("native", text, simulated_s / wall, count as f64 / wall));
            } else {
                println!("{} {}", simulated_s / wall, count as f64 / wall);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
