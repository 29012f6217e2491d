//! Watches in a running cluster, as etcd serves them: from the local store of the member the
//! client is connected to. Each test names the etcd behaviour it pins.

use leaselab::mvcc::WatchEvent;
use leaselab::sim::WatchLog;
use leaselab::{ClientOp, ClusterConfig, Command, NodeId, Sim, WatchCancel, WatchId, WatchRequest};

/// A settled 3-node cluster (seed 3), its leader and a follower.
fn settled() -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::new(3, ClusterConfig::default()).unwrap();
    sim.run_for_ms(4_000);
    let leader = sim.leader().expect("a leader after 4 s");
    let follower = sim.nodes().iter().map(|n| n.id).find(|n| *n != leader).unwrap();
    (sim, leader, follower)
}

fn watch(sim: &mut Sim, node: NodeId, request: WatchRequest) -> WatchId {
    sim.apply(Command::Watch { node, watch: request }).unwrap();
    sim.watches().last().unwrap().id
}

fn key(k: &str) -> WatchRequest {
    WatchRequest { key: k.into(), ..Default::default() }
}

fn put(sim: &mut Sim, node: NodeId, k: &str, v: &str) {
    sim.apply(Command::put(node, k, v)).unwrap();
}

fn log(sim: &Sim, id: WatchId) -> &WatchLog {
    sim.watch_log(id).unwrap()
}

/// (key, value or None for a delete, revision) of each event a watch kept.
fn events(sim: &Sim, id: WatchId) -> Vec<(String, Option<String>, u64)> {
    log(sim, id)
        .recent
        .iter()
        .map(|e| match &e.event {
            WatchEvent::Put(kv) => (kv.key.clone(), Some(kv.value.clone()), kv.mod_revision),
            WatchEvent::Delete { key, mod_revision } => (key.clone(), None, *mod_revision),
        })
        .collect()
}

/// etcd serves a watch from any member: a watch on a follower sees the leader's writes, in
/// revision order, the same events as a watch on the leader (etcd's `TestWatchFromFollower`
/// shape in tests/integration).
#[test]
fn a_watch_on_a_follower_sees_the_leaders_writes_in_order() {
    let (mut sim, leader, follower) = settled();
    let prefix = WatchRequest { key: "k".into(), end: "l".into(), ..Default::default() };
    let at_follower = watch(&mut sim, follower, prefix.clone());
    let at_leader = watch(&mut sim, leader, prefix);
    for i in 0..5 {
        put(&mut sim, leader, &format!("k{i}"), &i.to_string());
        put(&mut sim, follower, "other", "x");
    }
    sim.run_for_ms(1_000);
    let seen = events(&sim, at_follower);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].2 < w[1].2), "revisions increase: {seen:?}");
    assert_eq!(seen, events(&sim, at_leader));
    assert!(log(&sim, at_follower).violation.is_none());
}

/// etcd's watch is served from the member's own store: a member cut off from the leader
/// delivers nothing new and says nothing about it (the reason `WithRequireLeader` exists).
/// After the partition heals it catches up, every missed event in order.
#[test]
fn a_partitioned_followers_watch_goes_silent_then_catches_up() {
    let (mut sim, leader, follower) = settled();
    let id = watch(&mut sim, follower, key("x"));
    sim.apply(Command::Isolate { node: follower }).unwrap();
    for i in 0..3 {
        put(&mut sim, leader, "x", &i.to_string());
    }
    sim.run_for_ms(3_000);
    assert_eq!(log(&sim, id).events_received, 0, "silent while cut off");
    assert!(log(&sim, id).is_active(), "and not cancelled: the client cannot tell");
    let leader_rev = sim.node(leader).kv().unwrap().revision();
    assert!(sim.node(follower).kv().unwrap().revision() < leader_rev);
    let view = sim.snapshot().watches.into_iter().find(|w| w.id == id).unwrap();
    assert_eq!(view.lag, 3, "the three puts it has not applied");
    assert!(view.status.contains("knows no leader"), "{}", view.status);
    sim.apply(Command::HealAll).unwrap();
    sim.run_for_ms(3_000);
    let values: Vec<Option<String>> = events(&sim, id).into_iter().map(|e| e.1).collect();
    assert_eq!(values, vec![Some("0".into()), Some("1".into()), Some("2".into())]);
    let view = sim.snapshot().watches.into_iter().find(|w| w.id == id).unwrap();
    assert_eq!(view.lag, 0);
    assert!(view.status.starts_with("up to date"), "{}", view.status);
}

/// etcd's `WithRequireLeader` (v3rpc `monitorLeader`): the same partition cancels the watch
/// with "etcdserver: no leader" once the member finds itself without a leader; and a watch
/// asked of a member that knows no leader is refused at once.
#[test]
fn require_leader_cancels_the_watch_of_a_member_without_a_leader() {
    let (mut sim, _leader, follower) = settled();
    let plain = watch(&mut sim, follower, key("x"));
    let strict = watch(&mut sim, follower, WatchRequest { require_leader: true, ..key("x") });
    sim.apply(Command::Isolate { node: follower }).unwrap();
    sim.run_for_ms(5_000);
    assert!(log(&sim, plain).is_active());
    let (_, why) = log(&sim, strict).ended.clone().expect("cancelled");
    assert_eq!(why, WatchCancel::NoLeader);
    assert_eq!(why.to_string(), "etcdserver: no leader");
    let refused = watch(&mut sim, follower, WatchRequest { require_leader: true, ..key("y") });
    assert_eq!(log(&sim, refused).ended.as_ref().map(|e| e.1.clone()), Some(WatchCancel::NoLeader));
}

/// etcd's compaction rule for watches (`watcher_group.go`: cancel when `minRev < compactRev`,
/// with the compact revision in the response): below it is cancelled, at it is served. The
/// store sends that cancellation without a revision of its own, so its header says 0.
#[test]
fn a_watch_below_the_compaction_revision_is_cancelled_with_it() {
    let (mut sim, leader, follower) = settled();
    for i in 0..4 {
        put(&mut sim, leader, "x", &i.to_string());
    }
    sim.run_for_ms(500);
    sim.apply(Command::Client { node: leader, op: ClientOp::Compact { revision: 4 } }).unwrap();
    sim.run_for_ms(500);
    let below = watch(&mut sim, follower, WatchRequest { start_revision: 3, ..key("x") });
    let at = watch(&mut sim, follower, WatchRequest { start_revision: 4, ..key("x") });
    assert_eq!(
        log(&sim, below).ended.as_ref().map(|e| e.1.clone()),
        Some(WatchCancel::Compacted { compact_revision: 4 })
    );
    assert_eq!(log(&sim, below).header_revision, 0);
    assert_eq!(events(&sim, at).iter().map(|e| e.2).collect::<Vec<_>>(), vec![4, 5]);
}

/// etcd's watch server answers a cancel request with the member's current revision in the
/// header (`sws.newResponseHeader(sws.watchStream.Rev())`).
#[test]
fn a_cancelled_watch_is_answered_with_the_members_revision() {
    let (mut sim, leader, follower) = settled();
    let id = watch(&mut sim, follower, key("x"));
    put(&mut sim, leader, "y", "1");
    sim.run_for_ms(500);
    sim.apply(Command::CancelWatch { watch: id }).unwrap();
    assert_eq!(log(&sim, id).ended.as_ref().map(|e| e.1.clone()), Some(WatchCancel::Client));
    assert_eq!(log(&sim, id).header_revision, sim.node(follower).kv().unwrap().revision());
    assert!(log(&sim, id).header_revision > 1, "the put applied there");
}

/// etcd's lessor: a revoked key lease deletes its keys through the store, so watchers get
/// the delete events (etcd's `TestV3WatchWithLease`-style expectation).
#[test]
fn a_key_lease_revoke_sends_its_deletes_to_watchers() {
    let (mut sim, leader, follower) = settled();
    let id = leaselab::KeyLeaseId::new(7).unwrap();
    sim.apply(Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(id), ttl: 10 } }).unwrap();
    sim.run_for_ms(300);
    let w = watch(&mut sim, follower, WatchRequest { key: "l/".into(), end: "l0".into(), ..Default::default() });
    for k in ["l/a", "l/b"] {
        let op = ClientOp::Put { key: k.into(), value: "v".into(), key_lease: Some(id) };
        sim.apply(Command::Client { node: leader, op }).unwrap();
    }
    sim.run_for_ms(300);
    sim.apply(Command::Client { node: leader, op: ClientOp::KeyLeaseRevoke { id } }).unwrap();
    sim.run_for_ms(500);
    let seen = events(&sim, w);
    let deletes: Vec<&str> = seen.iter().filter(|e| e.1.is_none()).map(|e| e.0.as_str()).collect();
    assert_eq!(deletes, vec!["l/a", "l/b"], "{seen:?}");
    assert_eq!(seen[2].2, seen[3].2, "one revoke, one revision");
}

/// A progress notification carries the member's own revision: from a cut-off member it
/// tells the client it is up to date at a revision the leader has long passed (etcd's
/// progress notify is no freshness guarantee unless the member is connected).
#[test]
fn a_progress_notification_from_a_cut_off_member_reports_its_stale_revision() {
    let (mut sim, leader, follower) = settled();
    let id = watch(&mut sim, follower, WatchRequest { progress_notify: true, ..key("x") });
    sim.apply(Command::Isolate { node: follower }).unwrap();
    put(&mut sim, leader, "y", "1");
    sim.run_for_ms(2_500);
    let notified = log(&sim, id).progress_received;
    assert!(notified >= 1, "a quiet watch gets a notification every 2 s");
    let leader_rev = sim.node(leader).kv().unwrap().revision();
    let follower_rev = sim.node(follower).kv().unwrap().revision();
    assert!(follower_rev < leader_rev);
    assert_eq!(log(&sim, id).header_revision, follower_rev);
    sim.apply(Command::RequestWatchProgress { watch: id }).unwrap();
    assert_eq!(log(&sim, id).progress_received, notified + 1, "answered at once, on request");
    assert_eq!(log(&sim, id).header_revision, follower_rev);
}

/// A crashed member's watch streams break; cancelling twice is refused with the reason.
#[test]
fn a_crash_ends_its_watches_and_a_cancel_is_refused_after_the_end() {
    let (mut sim, _leader, follower) = settled();
    let id = watch(&mut sim, follower, key("x"));
    sim.apply(Command::Crash { node: follower }).unwrap();
    assert_eq!(log(&sim, id).ended.as_ref().map(|e| e.1.clone()), Some(WatchCancel::NodeStopped));
    let e = sim.apply(Command::CancelWatch { watch: id }).unwrap_err().to_string();
    assert!(e.contains("already ended"), "{e}");
    let e = sim.apply(Command::CancelWatch { watch: WatchId(99) }).unwrap_err().to_string();
    assert!(e.contains("no watch w99"), "{e}");
}

/// Watch commands are recorded like every other: a replay of the command log gives the same
/// trace hash and the same watch logs.
#[test]
fn watches_replay_exactly() {
    let (mut sim, leader, follower) = settled();
    let id = watch(&mut sim, follower, WatchRequest { progress_notify: true, require_leader: true, ..key("x") });
    put(&mut sim, leader, "x", "1");
    sim.apply(Command::Isolate { node: follower }).unwrap();
    put(&mut sim, leader, "x", "2");
    sim.run_for_ms(4_000);
    sim.apply(Command::HealAll).unwrap();
    sim.run_for_ms(1_000);
    let end = sim.now();
    let mut again = Sim::new(3, ClusterConfig::default()).unwrap();
    again.set_replay(sim.command_log().to_vec()).unwrap();
    again.run_until(end);
    assert_eq!(again.trace_hash(), sim.trace_hash());
    assert_eq!(format!("{:?}", again.watch_log(id)), format!("{:?}", sim.watch_log(id)));
}
