//! Browser half of `make bench`: the same workloads as `benches/sim_speed.rs`, timed with
//! `performance.now()` in headless Chromium. Prints numbers; asserts nothing about time.
//! Not part of `cargo test` (test = false); run with `cargo test --release --test bench`.
#![cfg(target_arch = "wasm32")]

use leaselab::bench::{browser_speed_line, check_history, read_workload, SpeedSpec, SPEED_RUNS, SPEED_SPECS};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn text_of(host: &web_sys::HtmlElement, id: &str) -> String {
    host.query_selector(&format!("[data-testid=\"{id}\"]")).unwrap().and_then(|e| e.text_content()).unwrap_or_default()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The page itself: 7 nodes, 100 background operations per simulated second at 1× speed,
/// messages animating; work time per animation frame (script, DOM updates, layout).
#[wasm_bindgen_test]
async fn page_frame_times() {
    page_frames(100, 1.0).await;
}

/// The page under more load than it can simulate in real time: 7 nodes, 500 operations per
/// simulated second at 100×. Frames must stay short (the simulation falls behind instead).
#[wasm_bindgen_test]
async fn page_frame_times_overloaded() {
    page_frames(500, 100.0).await;
}

async fn page_frames(ops_per_sec: u32, speed: f64) {
    use leaselab::{ClusterConfig, Command};
    use leptos::prelude::*;
    let host: web_sys::HtmlElement = wasm_bindgen::JsCast::unchecked_into(
        web_sys::window().unwrap().document().unwrap().create_element("div").unwrap(),
    );
    web_sys::window().unwrap().document().unwrap().body().unwrap().append_child(&host).unwrap();
    let options = leaselab_www::StartOptions {
        config: ClusterConfig { node_count: 7, ..ClusterConfig::default() },
        commands: vec![Command::SetWorkload { ops_per_sec }],
        speed_index: Some(leaselab_www::model::SPEEDS.iter().position(|(x, _)| *x == speed).unwrap()),
        ..leaselab_www::StartOptions::default()
    };
    let _handle = leptos::mount::mount_to(host.clone(), move || view! { <leaselab_www::App options=options /> });
    sleep_ms(3_000).await; // warm-up: election, first operations
    leaselab_www::clear_frame_times();
    sleep_ms(10_000).await;
    let mut times = leaselab_www::frame_times_ms();
    times.sort_by(f64::total_cmp);
    let ops = host.query_selector_all("[data-testid^=\"op-\"]").unwrap().length();
    let simulated = text_of(&host, "sim-time");
    console_log!(
        "BENCH browser page nodes=7 ops_per_s={ops_per_sec} speed={speed}x frames={} p50_ms={:.2} p95_ms={:.2} max_ms={:.2} op_rows={ops} sim_time_after_13s={simulated}",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times.last().copied().unwrap_or(0.0)
    );
}

/// Time travel in the browser: scrubs to 20 spread-out times of a simulated hour (5 nodes,
/// 10 writes/s), restoring checkpoints and replaying.
#[wasm_bindgen_test]
fn scrubbing_a_simulated_hour() {
    use leaselab::bench::{scrub_targets, scrub_times, timeline_workload};
    let t = now_ms();
    let mut timeline = timeline_workload(5, 10, 3_600);
    let record_s = (now_ms() - t) / 1e3;
    let end = timeline.sim().now();
    let times = scrub_times(&mut timeline, &scrub_targets(end, 20), now_ms);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let max = times.iter().copied().fold(0.0, f64::max);
    console_log!(
        "BENCH browser scrub hour=1 nodes=5 writes_per_s=10 checkpoints={} mean_ms={mean:.0} max_ms={max:.0} record_s={record_s:.1}",
        timeline.checkpoint_count()
    );
}

/// The browser side of the hour's memory figure: the wasm linear memory a simulated hour of 5
/// nodes at 100 writes/s leaves (it only grows: the most the page's heap ever needed, plus what
/// the test harness holds), in a fresh page.
#[wasm_bindgen_test]
fn memory_of_a_simulated_hour() {
    use wasm_bindgen::JsCast;
    let memory_mb = || {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64 / 1e6
    };
    let before = memory_mb();
    let t = now_ms();
    let sim = leaselab::bench::write_workload(5, 100, 3_600);
    let wall_s = (now_ms() - t) / 1e3;
    console_log!(
        "BENCH browser memory hour=1 nodes=5 writes_per_s=100 wasm_memory_mb={:.1} before_mb={before:.1} ops={} speed_x={:.0}",
        memory_mb(),
        sim.history().len(),
        3_600.0 / wall_s
    );
}

/// One speed figure of `make bench` ([`leaselab::bench::SpeedSpec`]) alone on a fresh page, as
/// the native bench runs each in a fresh process: `make bench` runs each of these tests in its
/// own page (a heap other runs have aged is slower). Runs for [`WARM_UP_MS`] first: a fresh
/// page starts on the baseline compiler and optimizes hot functions in the background, one
/// by one as each grows hot, so a single warm-up run was not enough (the same module in V8
/// sped up over its first four or five runs of "sim 5 100 eager", 0.2 s each). The figure is
/// the compiled code's speed, which is what a page running for minutes has.
async fn speed(text: &str) {
    let spec = SpeedSpec::parse(text).expect("the bench's own specs parse");
    let start = now_ms();
    while now_ms() - start < WARM_UP_MS {
        spec.run();
    }
    sleep_ms(1_000).await;
    // The fastest of the runs, as the native bench keeps its fastest fresh process.
    let mut best = (0.0f64, 0.0f64);
    for _ in 0..SPEED_RUNS {
        let t = now_ms();
        let (simulated_s, count) = spec.run();
        let wall_s = (now_ms() - t) / 1e3;
        if simulated_s / wall_s > best.0 {
            best = (simulated_s / wall_s, count as f64 / wall_s);
        }
    }
    console_log!("{}", browser_speed_line(text, best.0, best.1));
}

/// How long a speed figure runs before it is measured (wall time).
const WARM_UP_MS: f64 = 3_000.0;

/// One test per spec, so that `make bench` can give each its own page. No name is a part of
/// another (the runner's filter matches substrings).
macro_rules! speed_tests {
    ($($name:ident => $spec:literal,)*) => {
        $(
            #[wasm_bindgen_test]
            async fn $name() {
                speed($spec).await;
            }
        )*
        /// Every spec the native bench reports has exactly one browser test.
        #[wasm_bindgen_test]
        fn every_speed_spec_has_a_test() {
            assert_eq!([$($spec),*], SPEED_SPECS);
        }
    };
}

speed_tests! {
    speed_bare_n3 => "bare 3",
    speed_bare_n5 => "bare 5",
    speed_bare_n7 => "bare 7",
    speed_unlocked_bare_n5 => "bare 5 unlocked",
    speed_sim_n3_w0_eager => "sim 3 0 eager",
    speed_sim_n3_w100_eager => "sim 3 100 eager",
    speed_sim_n3_w1000_eager => "sim 3 1000 eager",
    speed_sim_n5_w0_eager => "sim 5 0 eager",
    speed_sim_n5_w100_eager => "sim 5 100 eager",
    speed_sim_n5_w1000_eager => "sim 5 1000 eager",
    speed_sim_n7_w0_eager => "sim 7 0 eager",
    speed_sim_n7_w100_eager => "sim 7 100 eager",
    speed_sim_n7_w1000_eager => "sim 7 1000 eager",
    speed_sim_n5_w100_lazy => "sim 5 100 lazy",
}

/// 1,000 watchers on 10,000 keys at 100 writes/s, as natively.
#[wasm_bindgen_test]
fn watchers_in_the_browser() {
    console_log!("{}", leaselab::bench::watch_figure_line("browser", now_ms));
}

/// The linearizability checker on a 10,000-operation history.
#[wasm_bindgen_test]
fn checker_in_the_browser() {
    let sim = read_workload(5, 100, 100);
    let t = now_ms();
    let (checked, violations) = check_history(&sim);
    console_log!(
        "BENCH browser checker ops={} checked={checked} violations={violations} ms={:.1}",
        sim.history().len(),
        now_ms() - t
    );
}
