//! Profiling harness: `cargo run --release --example write_speed [nodes] [writes/s] [seconds] [eager|lazy]`
//! runs the benchmark's write workload once and prints its speed and allocation count (use it
//! under `perf record`; the allocation count is exact, unlike timings on a shared machine). It
//! counts on top of the CLI's allocator (mimalloc), so its timings match the bench's.
use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on unchanged to MiMalloc, a sound allocator; counting touches
// only an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `layout` is MiMalloc's.
        unsafe { MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above, that is from MiMalloc, with `layout`.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `dealloc`; the caller's contract for `new_size` is MiMalloc's.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let mut config = leaselab::ClusterConfig::default();
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter(|a| match a.as_str() {
            "eager" => {
                config.commit_broadcast = leaselab::CommitBroadcast::Eager;
                false
            }
            "lazy" => {
                config.commit_broadcast = leaselab::CommitBroadcast::Lazy;
                false
            }
            _ => true,
        })
        .map(|a| a.parse().expect("a number"))
        .collect();
    let arg = |i: usize, default: u64| args.get(i).copied().unwrap_or(default);
    let (nodes, writes, seconds) = (arg(0, 5), arg(1, 100), arg(2, 120));
    let t = std::time::Instant::now();
    config.node_count = nodes as usize;
    let sim = leaselab::bench::write_workload_with(config, writes as u32, seconds);
    let wall = t.elapsed().as_secs_f64();
    let simulated = sim.now().0 as f64 / 1e6;
    println!(
        "{nodes} nodes, {writes} writes/s: {:.0}× real time, {} events, {} steps, {:.0} allocations per simulated second, trace hash {:016x}",
        simulated / wall,
        sim.trace().len(),
        sim.steps(),
        ALLOCATIONS.load(Ordering::Relaxed) as f64 / simulated,
        sim.trace_hash(),
    );
}
