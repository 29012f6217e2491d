//! A fixed workload for profilers (`valgrind --tool=callgrind`): 5 nodes, 100 writes/s, 20
//! simulated seconds.
fn main() {
    let sim = leaselab::bench::write_workload(5, 100, 20);
    println!("{} events, trace {:016x}", sim.trace().len(), sim.trace_hash());
}
