//! Key leases through raft, as etcd's lessor tests describe them, plus the bug
//! checkpoints fix: without them, frequent leader changes reset TTLs so key leases never expire.

use leaselab::event::Event;
use leaselab::history::OpKind;
use leaselab::ClientOp;
use leaselab::KeyLeaseId;
use leaselab::{ClusterConfig, Command, NodeId, OpId, OpOutcome, Sim, SimTime};

fn cluster(checkpointing: bool) -> (Sim, NodeId) {
    cluster_with(checkpointing, ClusterConfig::default().client_timeout_ms)
}

fn cluster_with(checkpointing: bool, client_timeout_ms: u32) -> (Sim, NodeId) {
    let mut config = ClusterConfig { node_count: 3, client_timeout_ms, ..ClusterConfig::default() };
    config.lessor.checkpointing = checkpointing;
    config.lessor.checkpoint_interval_ms = 1_000;
    let mut sim = Sim::new(5, config).unwrap();
    sim.run_for_ms(4_000);
    let leader = sim.leader().unwrap();
    (sim, leader)
}

fn run(sim: &mut Sim, cmd: Command) -> OpOutcome {
    let op: OpId = sim.apply(cmd).unwrap().unwrap();
    sim.run_for_ms(200);
    sim.history().get(op).unwrap().outcome.clone()
}

fn failed(outcome: OpOutcome) -> String {
    match outcome {
        OpOutcome::Failed { reason } => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Grants key lease 1 with `ttl` seconds at `leader` and waits for it to apply.
fn grant_key_lease_1(sim: &mut Sim, leader: NodeId, ttl: i64) {
    run(sim, Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(1)), ttl } });
}

/// A client's keep-alive of key lease 1 at `node`.
fn keep_alive_1(node: NodeId) -> Command {
    Command::Client { node, op: ClientOp::KeyLeaseKeepAlive { id: KeyLeaseId::of(1) } }
}

fn a_follower(sim: &Sim, leader: NodeId) -> NodeId {
    sim.nodes().iter().find(|n| n.id != leader).unwrap().id
}

#[test]
fn grant_attach_and_revoke_through_raft() {
    let (mut sim, leader) = cluster(true);
    assert!(matches!(
        run(
            &mut sim,
            Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(7)), ttl: 1 } }
        ),
        OpOutcome::Ok { .. }
    ));
    for n in sim.nodes() {
        assert_eq!(
            n.kv().unwrap().lessor().get(7).unwrap().ttl_ms,
            2_000,
            "raised to ceil(1.5 × election timeout) in whole seconds"
        );
    }
    assert!(failed(run(
        &mut sim,
        Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(7)), ttl: 5 } }
    ))
    .contains("already exists"));
    let unknown = Command::Client {
        node: leader,
        op: ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: Some(KeyLeaseId::of(9)) },
    };
    assert_eq!(failed(run(&mut sim, unknown)), "key lease 9 not found");
    for key in ["b", "a"] {
        let put = Command::Client {
            node: leader,
            op: ClientOp::Put { key: key.into(), value: "v".into(), key_lease: Some(KeyLeaseId::of(7)) },
        };
        assert!(matches!(run(&mut sim, put), OpOutcome::Ok { .. }));
    }
    // A plain put detaches, a delete detaches.
    run(
        &mut sim,
        Command::Client {
            node: leader,
            op: ClientOp::Put { key: "c".into(), value: "v".into(), key_lease: Some(KeyLeaseId::of(7)) },
        },
    );
    run(
        &mut sim,
        Command::Client { node: leader, op: ClientOp::Put { key: "c".into(), value: "plain".into(), key_lease: None } },
    );
    let revision_before = sim.node(leader).kv().unwrap().revision();
    assert!(matches!(
        run(&mut sim, Command::Client { node: leader, op: ClientOp::KeyLeaseRevoke { id: KeyLeaseId::of(7) } }),
        OpOutcome::Ok { .. }
    ));
    for n in sim.nodes() {
        let kv = n.kv().unwrap();
        assert_eq!(kv.entries(10), vec![("c".to_string(), "plain".to_string())], "{}", n.id);
        assert_eq!(kv.revision(), revision_before + 1, "both deletes in one transaction");
        assert!(kv.lessor().get(7).is_none());
    }
    assert!(failed(run(
        &mut sim,
        Command::Client { node: leader, op: ClientOp::KeyLeaseRevoke { id: KeyLeaseId::of(7) } }
    ))
    .contains("not found"));
}

#[test]
fn an_unrenewed_key_lease_expires_on_the_leader_and_its_keys_vanish_everywhere() {
    let (mut sim, leader) = cluster(true);
    let granted_at = sim.now();
    run(
        &mut sim,
        Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(1)), ttl: 3 } },
    );
    run(
        &mut sim,
        Command::Client {
            node: leader,
            op: ClientOp::Put { key: "eph".into(), value: "1".into(), key_lease: Some(KeyLeaseId::of(1)) },
        },
    );
    let follower = sim.nodes().iter().find(|n| n.id != leader).unwrap().id;
    let now = |sim: &Sim, n: NodeId| sim.local_time(n);
    assert_eq!(sim.node(follower).key_lease_time_to_live(1, now(&sim, follower)).unwrap().remaining_ms, None);
    let ttl = sim.node(leader).key_lease_time_to_live(1, now(&sim, leader)).unwrap();
    assert_eq!(ttl.granted_ttl_ms, 3_000);
    assert_eq!(ttl.keys, vec!["eph".to_string()]);
    assert!(ttl.remaining_ms.unwrap() > 2_000);
    sim.run_for_ms(4_000);
    let revoked = sim.key_lease_revoked_at(1).expect("expired and revoked");
    let late = revoked.saturating_sub(granted_at) as f64 / 1e6;
    assert!((3.0..3.8).contains(&late), "revoked {late} s after grant (ttl 3 s, 500 ms scans)");
    for n in sim.nodes() {
        assert_eq!(n.kv().unwrap().get("eph"), None, "{}", n.id);
    }
    assert!(sim
        .events_since(0)
        .any(|e| matches!(&e.event, Event::KeyLeaseRevoked { id: 1, keys, .. } if keys == &["eph".to_string()])));
    // The history shows the expiry's revoke as a completed write at the revision it made.
    let expiry = sim.history().iter().find(|r| matches!(r.kind, OpKind::KeyLeaseExpiry { .. })).expect("recorded");
    let revision = sim.node(leader).kv().unwrap().revision();
    assert_eq!(expiry.outcome, OpOutcome::Ok { revision }, "the delete of eph is the latest revision");
}

/// etcd serves a keep-alive at the primary lessor; a follower's server forwards it to the
/// leader (`LeaseKeepAlive` → the leader's lease handler). Here the forward crosses the
/// simulated network, so a partition between them leaves the client without an answer.
#[test]
fn keep_alive_is_served_by_the_leader_only_and_refreshes_the_ttl() {
    let (mut sim, leader) = cluster(true);
    grant_key_lease_1(&mut sim, leader, 2);
    let follower = a_follower(&sim, leader);
    let seen = sim.trace().len();
    assert!(matches!(run(&mut sim, keep_alive_1(follower)), OpOutcome::Ok { .. }), "forwarded to the leader");
    let forwarded: Vec<(NodeId, NodeId, leaselab::MsgKind)> = sim
        .events_since(seen)
        .filter_map(|e| match e.event {
            Event::MessageDelivered { from, to, kind, .. }
                if matches!(kind, leaselab::MsgKind::KeepAlive | leaselab::MsgKind::KeepAliveResp) =>
            {
                Some((from, to, kind))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        forwarded,
        vec![(follower, leader, leaselab::MsgKind::KeepAlive), (leader, follower, leaselab::MsgKind::KeepAliveResp)]
    );
    for _ in 0..6 {
        assert!(matches!(run(&mut sim, keep_alive_1(leader)), OpOutcome::Ok { .. }));
        sim.run_for_ms(800);
    }
    assert!(sim.key_lease_revoked_at(1).is_none(), "kept alive for 6 s with a 2 s TTL");
    assert!(failed(run(
        &mut sim,
        Command::Client { node: leader, op: ClientOp::KeyLeaseKeepAlive { id: KeyLeaseId::of(99) } }
    ))
    .contains("not found"));
    // Cut the follower off the leader: the forward is lost and the client times out, not
    // knowing whether the key lease was renewed.
    sim.apply(Command::CutLink { from: follower, to: leader }).unwrap();
    let op = sim.apply(keep_alive_1(follower)).unwrap().unwrap();
    sim.run_for_ms(u64::from(sim.config().client_timeout_ms) + 100);
    assert!(matches!(sim.history().get(op).unwrap().outcome, OpOutcome::Indeterminate { .. }));
}

/// etcd's `LeaseKeepAlive` fills the answer's header before it renews or forwards: a
/// keep-alive answered through the leader carries the revision of the node the client reached
/// as the request arrived there, not the later one it had when the answer came back.
#[test]
fn a_forwarded_keep_alive_is_stamped_with_the_revision_at_its_arrival() {
    let (mut sim, leader) = cluster(true);
    grant_key_lease_1(&mut sim, leader, 5);
    let follower = a_follower(&sim, leader);
    let revision = |sim: &Sim, node: NodeId| sim.node(node).kv().unwrap().revision();
    let before = revision(&sim, follower);
    let put = ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None };
    sim.apply(Command::Client { node: leader, op: put }).unwrap();
    // The leader has applied the put, the follower not yet: the keep-alive arrives now.
    while revision(&sim, leader) == before {
        assert!(sim.step());
    }
    assert_eq!(revision(&sim, follower), before, "the follower learns of the commit later");
    let op = sim.apply(keep_alive_1(follower)).unwrap().unwrap();
    sim.run_for_ms(200);
    assert!(revision(&sim, follower) > before, "the follower applied the put before the answer came back");
    assert_eq!(sim.history().get(op).unwrap().outcome, OpOutcome::Ok { revision: before });
}

/// A cluster whose leader holds key lease 1 (TTL 2 s, key `eph` attached), stepped until the
/// key lease has expired on the leader's clock while its revoke has not applied yet.
fn expired_key_lease(client_timeout_ms: u32) -> (Sim, NodeId) {
    let (mut sim, leader) = cluster_with(false, client_timeout_ms);
    grant_key_lease_1(&mut sim, leader, 2);
    let put = ClientOp::Put { key: "eph".into(), value: "v".into(), key_lease: Some(KeyLeaseId::of(1)) };
    run(&mut sim, Command::Client { node: leader, op: put });
    while sim.node(leader).kv().unwrap().lessor().expiry(1).is_none_or(|e| e > sim.local_time(leader)) {
        assert!(sim.step());
    }
    assert!(sim.node(leader).kv().unwrap().lessor().get(1).is_some(), "not revoked yet");
    (sim, leader)
}

/// etcd's `Renew` does not answer a keep-alive of a key lease that expired on the primary at
/// once: "renew request must wait for the deletion to complete" — it waits for the revoke on
/// its way and then answers not found, so a client told so finds the key lease's keys gone.
#[test]
fn a_keep_alive_of_an_expired_key_lease_waits_for_its_revoke() {
    let (mut sim, leader) = expired_key_lease(ClusterConfig::default().client_timeout_ms);
    let op = sim.apply(keep_alive_1(leader)).unwrap().unwrap();
    assert_eq!(sim.history().get(op).unwrap().outcome, OpOutcome::Pending, "held, not answered at once");
    sim.run_for_ms(1_500);
    let record = sim.history().get(op).unwrap();
    assert_eq!(failed(record.outcome.clone()), "key lease 1 not found");
    let revoked = sim.key_lease_revoked_at(1).expect("revoked");
    assert!(record.completed_at.unwrap() >= revoked, "answered once the revoke applied");
    assert!(sim.node(leader).kv().unwrap().get("eph").is_none(), "its key is gone");
}

/// etcd's `Renew` also stops waiting when its node stops being primary, and its server then
/// tries again at the new leader (`LeaseRenew`'s forwarding loop). Here the leader is cut off
/// after the key lease expired, so the revoke cannot commit; check-quorum makes it step down;
/// the keep-alive waits for a leader, and once healed it is forwarded to the new one, which
/// was promoted with the key lease's expiry extended: renewed.
#[test]
fn a_held_keep_alive_is_tried_again_at_the_new_leader() {
    let (mut sim, leader) = expired_key_lease(6_000);
    sim.apply(Command::Isolate { node: leader }).unwrap();
    let op = sim.apply(keep_alive_1(leader)).unwrap().unwrap();
    sim.run_for_ms(2_500);
    assert!(!sim.node(leader).is_leader());
    let successor = sim.leader().expect("the others elected a leader");
    assert_eq!(sim.history().get(op).unwrap().outcome, OpOutcome::Pending, "waiting for a leader");
    sim.apply(Command::HealAll).unwrap();
    sim.run_for_ms(1_000);
    assert!(matches!(sim.history().get(op).unwrap().outcome, OpOutcome::Ok { .. }));
    let forwarded = sim.events_since(0).any(|e| {
        matches!(e.event, Event::MessageDelivered { from, to, kind: leaselab::MsgKind::KeepAlive, .. }
            if from == leader && to == successor)
    });
    assert!(forwarded, "renewed by the new leader");
    assert!(sim.key_lease_revoked_at(1).is_none());
}

/// etcd's `ensureLeadership` (etcd 3.5.13 and later): a leader whose process was stopped —
/// no tick for three ticks — confirms with a ReadIndex round that it still leads before it
/// renews a key lease. Paused past an election, the old leader learns from that round that it
/// was deposed and does not renew (before the fix it renewed as a stale primary, and the new
/// leader could revoke a key lease its client had just been told was alive).
#[test]
fn a_leader_resumed_after_a_pause_checks_it_still_leads_before_renewing() {
    let (mut sim, leader) = cluster(false);
    grant_key_lease_1(&mut sim, leader, 10);

    // A short pause (four ticks, no election): the check confirms it, one round trip later.
    sim.apply(Command::Pause { node: leader }).unwrap();
    let queued = sim.apply(keep_alive_1(leader)).unwrap().unwrap();
    sim.run_for_ms(400);
    assert_eq!(sim.history().get(queued).unwrap().outcome, OpOutcome::Pending, "queued while paused");
    sim.apply(Command::Resume { node: leader }).unwrap();
    let resumed = sim.now();
    assert_eq!(sim.history().get(queued).unwrap().outcome, OpOutcome::Pending, "checking its leadership");
    sim.run_for_ms(200);
    let record = sim.history().get(queued).unwrap();
    assert!(matches!(record.outcome, OpOutcome::Ok { .. }), "{:?}", record.outcome);
    assert!(record.completed_at.unwrap() > resumed, "answered after a quorum's round trip");

    // A long pause: another node is elected meanwhile, and the resumed one does not renew.
    sim.apply(Command::Pause { node: leader }).unwrap();
    let stale = sim.apply(keep_alive_1(leader)).unwrap().unwrap();
    sim.run_for_ms(2_500);
    let successor = sim.leader().expect("a new leader");
    assert_ne!(successor, leader);
    sim.apply(Command::Resume { node: leader }).unwrap();
    sim.run_for_ms(300);
    let reason = failed(sim.history().get(stale).unwrap().outcome.clone());
    assert!(reason.starts_with("not the leader"), "{reason}");
    assert!(!sim.node(leader).is_leader());
}

/// etcd's peer handler for forwarded keep-alives (`leasehttp`) renews at the lessor without
/// `ensureLeadership`: a follower that forwards to its leader just as that leader's process
/// stops gets a renewal from it when it resumes, after another node was elected — a stale
/// renewal the check does not cover.
#[test]
fn a_forwarded_keep_alive_is_renewed_by_a_resumed_stale_leader() {
    let (mut sim, leader) = cluster(false);
    grant_key_lease_1(&mut sim, leader, 10);
    let follower = a_follower(&sim, leader);
    sim.apply(Command::Pause { node: leader }).unwrap();
    let op = sim.apply(keep_alive_1(follower)).unwrap().unwrap();
    sim.run_for_ms(2_500);
    assert_ne!(sim.leader(), Some(leader), "another node leads");
    assert_eq!(sim.history().get(op).unwrap().outcome, OpOutcome::Pending, "queued at the paused leader");
    sim.apply(Command::Resume { node: leader }).unwrap();
    sim.run_for_ms(100);
    assert!(matches!(sim.history().get(op).unwrap().outcome, OpOutcome::Ok { .. }), "renewed by the stale leader");
}

/// Moves leadership away from the current leader: isolate it until another node leads, heal.
/// Returns how long the cluster was without a usable leader (isolation to new leader), in s.
fn change_leader(sim: &mut Sim) -> f64 {
    let old = sim.leader().unwrap();
    let start = sim.now();
    sim.apply(Command::Isolate { node: old }).unwrap();
    for _ in 0..1_000 {
        sim.run_for_ms(10);
        if sim.nodes().iter().any(|n| n.is_leader() && n.id != old) {
            break;
        }
    }
    let gap = sim.now().saturating_sub(start) as f64 / 1e6;
    sim.apply(Command::HealAll).unwrap();
    gap
}

/// Grants a 6 s key lease, then changes leader after every 4 s of leadership for `seconds`.
/// Returns when it was revoked (relative to the grant) and the election gaps before that.
fn churn(checkpointing: bool, seconds: u64) -> (Option<f64>, Vec<f64>) {
    let (mut sim, leader) = cluster(checkpointing);
    let granted_at = sim.now();
    run(
        &mut sim,
        Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(1)), ttl: 6 } },
    );
    let mut gaps = Vec::new();
    while sim.now() < granted_at.plus_us(seconds * 1_000_000) && sim.key_lease_revoked_at(1).is_none() {
        sim.run_for_ms(4_000);
        if sim.key_lease_revoked_at(1).is_none() {
            gaps.push(change_leader(&mut sim));
        }
    }
    let revoked = sim.key_lease_revoked_at(1).map(|t: SimTime| t.saturating_sub(granted_at) as f64 / 1e6);
    (revoked, gaps)
}

#[test]
fn without_checkpoints_leader_churn_keeps_a_key_lease_alive_forever() {
    let (revoked, gaps) = churn(false, 60);
    assert_eq!(revoked, None, "a 6 s key lease survived {} leader changes over 60 s", gaps.len());
    assert!(gaps.len() >= 10);
}

#[test]
fn with_checkpoints_it_expires_late_by_at_most_interval_plus_election_timeout_per_change() {
    let (revoked, gaps) = churn(true, 60);
    let revoked = revoked.expect("checkpoints make the key lease expire");
    // Per change: at most one checkpoint interval (1 s) of progress lost, the election timeout
    // (1 s) added by promotion, and the leaderless gap itself (key leases cannot expire then).
    let bound = 6.0 + gaps.iter().map(|g| 1.0 + 1.0 + g).sum::<f64>() + 0.5;
    assert!(!gaps.is_empty());
    assert!(revoked <= bound, "revoked after {revoked} s with gaps {gaps:?} (bound {bound} s)");
}

/// Key lease expiry runs on the primary's local clock: a slow clock makes it expire late in
/// true time, a clock jumping forward makes it expire early.
#[test]
fn key_lease_expiry_follows_the_leaders_local_clock() {
    let expire_after = |change: Option<Command>| {
        let (mut sim, leader) = cluster(true);
        if let Some(c) = change {
            let c = c.with_default_node(leader);
            sim.apply(c).unwrap();
        }
        let start = sim.now();
        run(
            &mut sim,
            Command::Client { node: leader, op: ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(1)), ttl: 4 } },
        );
        sim.run_for_ms(12_000);
        sim.key_lease_revoked_at(1).map(|t| t.saturating_sub(start) as f64 / 1e6).expect("expires")
    };
    let normal = expire_after(None);
    let slow = expire_after(Some(Command::SetClockRate { node: NodeId(0), rate_ppm: 500_000 }));
    assert!((4.0..4.8).contains(&normal), "{normal}");
    assert!(slow > normal * 1.8, "a 0.5× leader clock expires late: {slow} s vs {normal} s");
}

/// etcd's server gives a key lease granted with id 0 an id from its request id generator
/// (member id in the top 16 bits, then its start time and a counter), so ids from different
/// members never collide; the id travels in the raft entry and every replica holds it.
#[test]
fn a_grant_without_an_id_gets_one_from_the_node_it_reaches() {
    let (mut sim, leader) = cluster(true);
    let follower = NodeId(if leader.0 == 1 { 2 } else { 1 });
    let grant = |sim: &mut Sim, node: NodeId| {
        let op = sim.apply(Command::client(node, ClientOp::KeyLeaseGrant { id: None, ttl: 10 })).unwrap().unwrap();
        sim.run_for_ms(300);
        let record = sim.history().get(op).unwrap();
        assert!(matches!(record.outcome, OpOutcome::Ok { .. }), "{:?}", record.outcome);
        match &record.kind {
            OpKind::Client(ClientOp::KeyLeaseGrant { id: Some(id), .. }) => *id,
            other => panic!("no id assigned: {other:?}"),
        }
    };
    let a = grant(&mut sim, leader);
    let b = grant(&mut sim, leader);
    let c = grant(&mut sim, follower);
    assert_eq!(a.get() >> 48, leader.0, "the member id is in the top 16 bits");
    assert_eq!(b.get(), a.get() + 1, "then a counter");
    assert_eq!(c.get() >> 48, follower.0);
    for n in sim.nodes() {
        let lessor = n.kv().unwrap().lessor();
        assert!([a, b, c].iter().all(|id| lessor.get(id.get()).is_some()), "{} holds every assigned key lease", n.id);
    }
    // The assigned id is an ordinary key lease id: a put attaches to it.
    let put = ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: Some(a) };
    assert!(matches!(run(&mut sim, Command::client(leader, put)), OpOutcome::Ok { .. }));
    // A TTL is etcd's whole seconds; 0 is raised to the minimum, ceil(1.5 × 1 s) = 2 s.
    let op =
        sim.apply(Command::client(leader, ClientOp::KeyLeaseGrant { id: Some(KeyLeaseId::of(77)), ttl: 0 })).unwrap();
    sim.run_for_ms(300);
    assert!(matches!(sim.history().get(op.unwrap()).unwrap().outcome, OpOutcome::Ok { .. }));
    assert_eq!(sim.node(leader).kv().unwrap().lessor().get(77).unwrap().ttl_ms, 2_000);
}
