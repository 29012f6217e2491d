//! `make bench` (native part): prints speed and memory figures; asserts nothing about time.
//!
//! * the bare raft-rs loop (TOOLCHAIN.md's reference) and the full simulation, as messages/s
//!   and simulated seconds per wall second, and the simulation's overhead relative to the loop;
//! * peak heap of a simulated hour of 5 nodes at 100 writes/s;
//! * both linearizability checkers on a 10,000-operation history, and the model checker on
//!   Porcupine's Jepsen etcd histories when the shared corpus is present;
//! * mean virtual latency of each read path on a 5-node cluster;
//! * 1,000 watchers on 10,000 keys: events delivered per second, and the simulation's speed
//!   with and without them.

use leaselab::bench::{
    check_history, parse_speed_line, read_workload, read_workload_with, scrub_targets, scrub_times, timeline_workload,
    write_workload, SpeedSpec, SPEED_RUNS, SPEED_SPECS,
};
use leaselab::mvcc::{MvccStore, RangeRequest};
use leaselab::CommitBroadcast;
use leaselab::ReadPath;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

/// Counts live heap bytes and their peak while [`COUNTING`] is on. The speed sections run
/// with it off: two atomic read-modify-writes per allocation would be part of the timing.
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
// Signed: what `f` frees of older blocks counts against it.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on unchanged to the system allocator; the accounting touches
// only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `layout` is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let size = layout.size() as isize;
            let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }
    // The default would allocate, copy and free: growing vectors in place is the allocator's
    // job, and the speed figures should include the real one.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller's contract for `new_size` is the system's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let grown = new_size as isize - layout.size() as isize;
            let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

/// Measures the heap held by what `f` builds (live bytes after, peak during), counting only
/// while it runs. Returns its result with (peak, held) in bytes.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let result = f();
    COUNTING.store(false, Ordering::Relaxed);
    let held = LIVE.load(Ordering::Relaxed).max(0) as usize;
    (result, PEAK.load(Ordering::Relaxed) as usize, held)
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The speed lines ([`leaselab::bench::speed_line`]) in the file the environment variable
/// `var` names, if `make bench` collected them: (spec, speed, rate) each.
fn collected_speeds(var: &str) -> Vec<(SpeedSpec, f64, f64)> {
    let Ok(path) = std::env::var(var) else {
        return Vec::new();
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            text.lines().filter_map(parse_speed_line).map(|(_, spec, speed, rate)| (spec, speed, rate)).collect()
        }
        Err(e) => {
            println!("  (cannot read {path}, named by {var}: {e})");
            Vec::new()
        }
    }
}

/// The fastest of the collected runs of `spec`: (speed, rate).
fn fastest(runs: &[(SpeedSpec, f64, f64)], spec: &SpeedSpec) -> Option<(f64, f64)> {
    runs.iter().filter(|(s, ..)| s == spec).map(|(_, speed, rate)| (*speed, *rate)).max_by(|a, b| a.0.total_cmp(&b.0))
}

/// The browser tests' output lines, if `make bench` collected them first.
fn browser_lines() -> Vec<String> {
    std::env::var("LEASELAB_BROWSER_SPEEDS")
        .ok()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .map_or_else(Vec::new, |text| text.lines().map(str::to_string).collect())
}

/// Runs one speed measurement (a [`SpeedSpec`]) in a fresh process of the release `speed`
/// example (`examples/speed.rs`), which prints "speed per_second" (messages/s for the bare
/// loop, events/s for the simulation). A fresh process: each figure starts from a new heap, not
/// one fragmented by the runs before it (which cost the later runs up to ≈25 %). That example:
/// built with the release profile's `panic = "abort"`, as the page and the command line are,
/// where this bench target always unwinds (Cargo's rule for benches).
fn in_fresh_process(spec: &str) -> (f64, f64) {
    // target/release/deps/sim_speed-… → target/release/examples/speed (make bench builds it).
    let exe = std::env::current_exe().expect("own path");
    let speed = exe.parent().and_then(|deps| deps.parent()).expect("in target/release/deps").join("examples/speed");
    let out = std::process::Command::new(&speed).arg(spec).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e} (`cargo build --release --example speed` builds it; make bench does)",
            speed.display()
        )
    });
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().expect("a number"));
    match (it.next(), it.next()) {
        (Some(speed), Some(rate)) if out.status.success() => (speed, rate),
        _ => panic!("bench run {spec:?} failed: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// The model checker on Porcupine's 102 Jepsen etcd histories, when the workspace's shared
/// corpus is present: total time, against Porcupine's own 1.29 s on the project's machine.
fn model_check_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/porcupine-etcd/jepsen");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("  model checker, Porcupine's Jepsen etcd histories: skipped (corpus not present)");
        return;
    };
    let mut texts: Vec<String> = entries.flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect();
    texts.retain(|t| !t.trim().is_empty());
    let histories: Vec<_> =
        texts.iter().map(|t| leaselab::checker::external::parse(t).expect("corpus parses")).collect();
    let t = Instant::now();
    let mut linearizable = 0;
    for ops in &histories {
        let report = leaselab::checker::model::check(ops, leaselab::checker::model::Limits::default());
        linearizable += usize::from(*report.outcome() == leaselab::checker::model::Outcome::Linearizable);
    }
    println!(
        "  model checker, Porcupine's {} Jepsen etcd histories: {linearizable} linearizable, {:.1} ms in all (parsed beforehand)",
        histories.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
}

/// One runtime's speed per figure: native, Chromium or Firefox.
struct Column {
    speeds: Vec<Option<f64>>,
}

impl Column {
    fn cell(&self, i: usize) -> String {
        self.speeds[i].map_or("–".to_string(), |s| format!("{s:.0}×"))
    }

    /// How many times slower than `native` this runtime ran figure `i`.
    fn ratio(&self, native: &Column, i: usize) -> Option<f64> {
        Some(native.speeds[i]? / self.speeds[i]?)
    }

    /// Figure `i` as a share of this runtime's bare loop at its node count, for a simulation
    /// of the bare loop's own load (a proposal every 10 ms tick: 100 writes/s). `bare` names
    /// the loop: [`SpeedSpec::Bare`] (the reference) or [`SpeedSpec::BareUnlocked`] (which
    /// exists at 5 nodes).
    fn share_of(&self, specs: &[SpeedSpec], i: usize, bare: fn(u64) -> SpeedSpec) -> Option<f64> {
        let SpeedSpec::Sim { nodes, writes_per_sec: 100, .. } = specs[i] else { return None };
        let bare = specs.iter().position(|s| *s == bare(nodes as u64))?;
        Some(self.speeds[i]? / self.speeds[bare]?)
    }

    fn of_bare(&self, specs: &[SpeedSpec], i: usize) -> Option<f64> {
        self.share_of(specs, i, |nodes| SpeedSpec::Bare { nodes })
    }
}

fn ratio_text(r: Option<f64>) -> String {
    r.map_or("–".to_string(), |r| format!("{r:.2}"))
}

/// The speed figures natively, in Chromium and in Firefox, side by side. `make bench` runs
/// them interleaved (each figure natively, in Chromium and in Firefox before the next), so
/// that the machine's drifts touch every runtime alike, and hands the lines over in files;
/// run alone (`cargo bench --bench sim_speed`), this measures the native side itself.
fn speed_table() {
    let specs: Vec<SpeedSpec> =
        SPEED_SPECS.iter().map(|t| SpeedSpec::parse(t).expect("the bench's own specs parse")).collect();
    let collected = collected_speeds("LEASELAB_NATIVE_SPEEDS");
    let native_rates: Vec<(f64, f64)> = SPEED_SPECS
        .iter()
        .zip(&specs)
        .map(|(text, spec)| {
            fastest(&collected, spec).unwrap_or_else(|| {
                (0..SPEED_RUNS).map(|_| in_fresh_process(text)).max_by(|a, b| a.0.total_cmp(&b.0)).expect("runs")
            })
        })
        .collect();
    let native = Column { speeds: native_rates.iter().map(|r| Some(r.0)).collect() };
    let browser = |var| {
        let runs = collected_speeds(var);
        Column { speeds: specs.iter().map(|s| fastest(&runs, s).map(|r| r.0)).collect() }
    };
    // Chromium and Firefox run the bench's own build (the release profile, optimized for
    // speed); "page" is Chromium running the page's build (the wasm-release profile,
    // optimized for size), which is the code the page itself runs.
    let columns =
        [browser("LEASELAB_BROWSER_SPEEDS"), browser("LEASELAB_FIREFOX_SPEEDS"), browser("LEASELAB_PAGE_SPEEDS")];
    println!("== speed in simulated seconds per wall second: the bare raft-rs loop (20,000 ticks of 10 ms, no");
    println!(
        "   simulator) and the full simulation (network model, clocks, leader leases, trace; 60 simulated s, 600 idle)"
    );
    println!("   natively (each run a fresh process) and in headless Chromium and Firefox (each figure a fresh page,");
    println!(
        "   after one warm-up run); each figure the fastest of {SPEED_RUNS} runs; ÷ is native speed over the browser's"
    );
    println!("   (\"page\": Chromium running the page's own size-optimized build; the others run the bench's");
    println!("   speed-optimized build of the same code)");
    println!(
        "  {:<44} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}   native rate",
        "workload", "native", "Chromium", "Firefox", "page", "C ÷", "F ÷", "P ÷"
    );
    for (i, spec) in specs.iter().enumerate() {
        let unit = if matches!(spec, SpeedSpec::Sim { .. }) { "events/s" } else { "messages/s" };
        println!(
            "  {:<44} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}   {:.0} {unit}",
            spec.describe(),
            native.cell(i),
            columns[0].cell(i),
            columns[1].cell(i),
            columns[2].cell(i),
            ratio_text(columns[0].ratio(&native, i)),
            ratio_text(columns[1].ratio(&native, i)),
            ratio_text(columns[2].ratio(&native, i)),
            native_rates[i].1
        );
    }
    let shares = |bare: fn(u64) -> SpeedSpec| {
        for (i, spec) in specs.iter().enumerate().filter(|(i, _)| native.share_of(&specs, *i, bare).is_some()) {
            let [c, f, p] = columns.each_ref().map(|column| ratio_text(column.share_of(&specs, i, bare)));
            let n = ratio_text(native.share_of(&specs, i, bare));
            println!("  {:<44} {n:>9} {c:>9} {f:>9} {p:>9}", spec.describe());
        }
    };
    println!("  the simulation as a share of the bare loop (same nodes, same 100 writes/s), within each runtime:");
    println!("  {:<44} {:>9} {:>9} {:>9} {:>9}", "workload", "native", "Chromium", "Firefox", "page");
    shares(|nodes| SpeedSpec::Bare { nodes });
    println!("  the same against the bare loop on a storage without lock (natively raft-rs's MemStorage takes a");
    println!("  RwLock, two atomic operations per call, which a wasm build without threads does not pay):");
    shares(|nodes| SpeedSpec::BareUnlocked { nodes });
    // The page's speed targets, reported (a bench measures; it does not fail on time).
    let sims: Vec<usize> = (0..specs.len()).filter(|&i| matches!(specs[i], SpeedSpec::Sim { .. })).collect();
    let worst = |f: &dyn Fn(usize) -> Option<f64>, most: bool| {
        sims.iter().filter_map(|&i| f(i).map(|r| (r, i))).max_by(|a, b| {
            if most {
                a.0.total_cmp(&b.0)
            } else {
                b.0.total_cmp(&a.0)
            }
        })
    };
    for (column, build) in [(&columns[0], "the bench's build"), (&columns[2], "the page's build")] {
        if let Some((r, i)) = worst(&|i| column.ratio(&native, i), true) {
            println!(
                "  target Chromium ÷ native ≤ 1.25 on every simulation figure, {build}: {} (worst {r:.2}, {})",
                if r <= 1.25 { "met" } else { "not met" },
                specs[i].describe()
            );
        }
        if let Some((r, i)) = worst(&|i| column.of_bare(&specs, i), false) {
            println!(
                "  target in Chromium, the simulation at ≥ 0.75 of the bare loop, {build}: {} (lowest {r:.2}, {})",
                if r >= 0.75 { "met" } else { "not met" },
                specs[i].describe()
            );
        }
    }
    if let (Some(b5), Some(s5)) = (
        specs.iter().position(|s| *s == SpeedSpec::Bare { nodes: 5 }),
        specs.iter().position(|s| {
            *s == SpeedSpec::Sim { nodes: 5, writes_per_sec: 100, commit_broadcast: CommitBroadcast::Eager }
        }),
    ) {
        println!(
            "  simulator overhead: 5 nodes at 100 writes/s runs at {:.0}% of the bare loop's speed (native)",
            100.0 * native_rates[s5].0 / native_rates[b5].0
        );
    }
}

fn main() {
    speed_table();

    println!("== watches: 1,000 watchers (990 on one key, 10 on a prefix) on 10,000 keys, 3 nodes, 100 writes/s, 60 s");
    let start = Instant::now();
    let native = leaselab::bench::watch_figure_line("native", || start.elapsed().as_secs_f64() * 1e3);
    println!("  {}", native.trim_start_matches("BENCH "));
    match browser_lines().into_iter().rev().find(|l| l.contains("BENCH browser watchers=")) {
        Some(line) => println!("  {}", line[line.find("browser").unwrap_or(0)..].trim()),
        None => println!("  browser: – (run by make bench)"),
    }

    println!("== memory: one simulated hour, 5 nodes, 100 writes/s");
    let t = Instant::now();
    let (sim, peak, held) = measured(|| write_workload(5, 100, 3_600));
    let wall_s = t.elapsed().as_secs_f64();
    println!(
        "  peak heap {:.1} MB, held at the end {:.1} MB ({} ops, {} events, {:.1} s wall: \
         ≈{:.0}× real time over the hour, counting every allocation)",
        peak as f64 / 1e6,
        held as f64 / 1e6,
        sim.history().len(),
        sim.trace().len(),
        wall_s,
        3_600.0 / wall_s
    );
    drop(sim);

    println!("== time travel: 20 scrubs to spread-out times of a 5-node run (checkpoints + replay)");
    let start = Instant::now();
    let clock = || start.elapsed().as_secs_f64() * 1e3;
    // The command log holds 50,000 commands: 100 writes/s fills it in 8 minutes.
    for (writes, seconds) in [(0u32, 3_600u64), (10, 3_600), (100, 480)] {
        let t = Instant::now();
        let (mut timeline, _, held) = measured(|| timeline_workload(5, writes, seconds));
        let record_s = t.elapsed().as_secs_f64();
        let end = timeline.sim().now();
        let times = scrub_times(&mut timeline, &scrub_targets(end, 20), clock);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let max = times.iter().cloned().fold(0.0, f64::max);
        println!(
            "  {seconds:>4} s at {writes:>3} writes/s: {} checkpoints, {:.0} MB held; scrub mean {mean:.0} ms, max {max:.0} ms (recording took {record_s:.1} s)",
            timeline.checkpoint_count(),
            held as f64 / 1e6,
        );
    }

    println!("== MVCC store (puts, ranges of 100 keys, memory per key)");
    for keys in [10_000usize, 100_000] {
        let t = Instant::now();
        let (store, _, held) = measured(|| {
            let mut store = MvccStore::default();
            for i in 0..keys {
                store.put(&format!("key{i:08}"), "value-of-16-byte", None).expect("valid");
            }
            store
        });
        let put_s = t.elapsed().as_secs_f64();
        let per_key = held as f64 / keys as f64;
        let ranges = 10_000;
        let t = Instant::now();
        let mut seen = 0;
        for r in 0..ranges {
            let start = (r * 7_919) % (keys - 100);
            let req = RangeRequest {
                key: format!("key{start:08}"),
                end: format!("key{:08}", start + 100),
                ..RangeRequest::default()
            };
            seen += store.range(&req).expect("valid").kvs.len();
        }
        let range_s = t.elapsed().as_secs_f64();
        assert_eq!(seen, ranges * 100);
        println!(
            "  {keys:>7} keys: {:>9.0} puts/s, {:>8.0} ranges/s ({:.1} µs per 100-key range), {per_key:.0} bytes per key",
            keys as f64 / put_s,
            ranges as f64 / range_s,
            range_s / ranges as f64 * 1e6
        );
    }

    println!("== linearizability checker");
    let sim = read_workload(5, 100, 100);
    let t = Instant::now();
    let (checked, violations) = check_history(&sim);
    println!(
        "  {} operations in history, {checked} checked, {violations} violations, {:.1} ms",
        sim.history().len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    // The model checker on the same history, its revisions stripped (as the cross-check runs it).
    let ops = leaselab::checker::crosscheck::model_operations(sim.history());
    let t = Instant::now();
    let report = leaselab::checker::model::check(&ops, leaselab::checker::model::Limits::default());
    println!(
        "  model checker, same history: {} operations, {}, {} search steps, {:.1} ms",
        ops.len(),
        report.outcome().label(),
        report.steps(),
        t.elapsed().as_secs_f64() * 1e3
    );
    model_check_corpus();
    // An hour at 100 writes/s, 5 nodes: the live checker ran throughout; both checkers once more
    // over the history it keeps (its newest 50,000 operations).
    let hour = leaselab::bench::write_workload(5, 100, 3_600);
    let t = Instant::now();
    let (checked, violations) = check_history(&hour);
    let revision_ms = t.elapsed().as_secs_f64() * 1e3;
    let ops = leaselab::checker::crosscheck::model_operations(hour.history());
    let t = Instant::now();
    let report = leaselab::checker::model::check(&ops, leaselab::checker::model::Limits::default());
    println!(
        "  a simulated hour, 5 nodes, 100 writes/s ({} operations kept): revision checker {checked} checked, {violations} violations, {revision_ms:.1} ms; model checker {}, {} search steps, {:.1} ms",
        hour.history().len(),
        report.outcome().label(),
        report.steps(),
        t.elapsed().as_secs_f64() * 1e3
    );

    println!("== read paths, 5 nodes, 100 ops/s (mean virtual latency, mean messages)");
    let mut by_path: BTreeMap<&'static str, (u64, u64, u64)> = BTreeMap::new();
    let mut no_leases = leaselab::ClusterConfig { node_count: 5, ..Default::default() };
    no_leases.leader_lease.enabled = false;
    let without_leases = read_workload_with(no_leases, 100, 100);
    let mut lease_based = leaselab::ClusterConfig { node_count: 5, ..Default::default() };
    lease_based.leader_lease.policy = leaselab::LeaderLeasePolicy::RaftLeaseBased;
    let with_lease_based = read_workload_with(lease_based, 100, 100);
    let ops = sim.history().iter().chain(without_leases.history().iter()).chain(with_lease_based.history().iter());
    for op in ops {
        let (Some(trace), Some(done)) = (&op.trace, op.completed_at) else {
            continue;
        };
        let Some(path) = trace.path else { continue };
        let e = by_path.entry(ReadPath::label(path)).or_default();
        e.0 += 1;
        e.1 += done.saturating_sub(op.invoked_at);
        e.2 += trace.messages.len() as u64;
    }
    for (path, (n, total_us, msgs)) in by_path {
        println!(
            "  {path:<13} {n:>6} reads, mean {:>6.2} ms, {:.1} messages",
            total_us as f64 / n as f64 / 1e3,
            msgs as f64 / n as f64
        );
    }
}
