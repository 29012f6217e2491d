//! Browser half of `make bench`: the same workloads as `benches/sim_speed.rs`, timed with
//! `performance.now()` in headless Chromium. Prints numbers; asserts nothing about time.
//! Not part of `cargo test` (test = false); run with `cargo test --release --test bench`.
#![cfg(target_arch = "wasm32")]

use leaselab::bench::{bare_raft_loop, check_history, read_workload, write_workload};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

#[wasm_bindgen_test]
fn simulation_speed_in_the_browser() {
    for nodes in [3u64, 5, 7] {
        let t = now_ms();
        let (msgs, virtual_ms) = bare_raft_loop(nodes, 20_000);
        let wall_s = (now_ms() - t) / 1e3;
        console_log!(
            "BENCH browser bare-loop nodes={nodes} messages_per_s={:.0} speed_x={:.0}",
            msgs as f64 / wall_s,
            virtual_ms as f64 / 1e3 / wall_s
        );
    }
    for nodes in [3usize, 5, 7] {
        for writes in [0u32, 100, 1_000] {
            let t = now_ms();
            let sim = write_workload(nodes, writes, 60);
            let wall_s = (now_ms() - t) / 1e3;
            console_log!(
                "BENCH browser sim nodes={nodes} writes_per_s={writes} speed_x={:.0}",
                sim.now().0 as f64 / 1e6 / wall_s
            );
        }
    }
    let sim = read_workload(5, 100, 100);
    let t = now_ms();
    let (checked, violations) = check_history(&sim);
    console_log!(
        "BENCH browser checker ops={} checked={checked} violations={violations} ms={:.1}",
        sim.history().len(),
        now_ms() - t
    );
}
