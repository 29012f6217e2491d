//! Property test over random command sequences of every kind (valid and invalid mixed): the
//! simulation never panics, and a refused command leaves it exactly as it was.

use leaselab::mvcc::{Compare, CompareOp, CompareTarget, RangeRequest, TxnOp};
use leaselab::ClientOp;
use leaselab::{ClusterConfig, Command, KeyLeaseId, LinkConfig, NodeId, ReadMode, Sim};
use proptest::prelude::*;

fn node() -> impl Strategy<Value = NodeId> {
    // 0 and 6..=9 are out of range for the 5-node cluster used below.
    (0u64..10).prop_map(NodeId)
}

fn link() -> impl Strategy<Value = LinkConfig> {
    (0u32..20_000_000, 0u32..20_000_000, 0u32..1_500_000, 0u32..1_500_000).prop_map(
        |(latency_us, jitter_us, drop_ppm, duplicate_ppm)| LinkConfig {
            latency_us,
            jitter_us,
            drop_ppm,
            duplicate_ppm,
        },
    )
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-c]{1,2}", Just("k".repeat(300))]
}

/// Key lease ids 1–3 (some granted, some not).
fn key_lease() -> impl Strategy<Value = KeyLeaseId> {
    (1u64..4).prop_map(KeyLeaseId::of)
}

fn txn_op() -> impl Strategy<Value = TxnOp> {
    prop_oneof![
        key().prop_map(|key| TxnOp::Range(RangeRequest { key, ..RangeRequest::default() })),
        (key(), "[0-9]{0,2}", proptest::option::of(key_lease())).prop_map(|(key, value, key_lease)| TxnOp::Put {
            key,
            value,
            key_lease
        }),
        (key(), prop_oneof![Just(String::new()), Just("\0".to_string()), "[a-c]"])
            .prop_map(|(key, end)| TxnOp::DeleteRange { key, end }),
    ]
}

fn txn() -> impl Strategy<Value = ClientOp> {
    let compare = (key(), "[0-9]{0,2}").prop_map(|(key, operand)| Compare {
        key,
        target: CompareTarget::Version,
        op: CompareOp::Greater,
        operand,
    });
    (prop::collection::vec(compare, 0..3), prop::collection::vec(txn_op(), 0..4), prop::collection::vec(txn_op(), 0..4))
        .prop_map(|(compares, success, failure)| ClientOp::Txn { compares, success, failure })
}

/// Client operations of every kind, key lease ones included.
fn client_op() -> impl Strategy<Value = ClientOp> {
    prop_oneof![
        (key(), prop_oneof![Just(String::new()), Just("\0".to_string()), "[a-c]{1,2}"])
            .prop_map(|(key, end)| ClientOp::DeleteRange { key, end }),
        txn(),
        (0u64..20).prop_map(|revision| ClientOp::Compact { revision }),
        (proptest::option::of(key_lease()), -2i64..20).prop_map(|(id, ttl)| ClientOp::KeyLeaseGrant { id, ttl }),
        key_lease().prop_map(|id| ClientOp::KeyLeaseRevoke { id }),
        key_lease().prop_map(|id| ClientOp::KeyLeaseKeepAlive { id }),
        (key(), key_lease()).prop_map(|(key, id)| ClientOp::Put { key, value: "v".into(), key_lease: Some(id) }),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (node(), client_op()).prop_map(|(node, op)| Command::Client { node, op }),
        (0u32..1_200).prop_map(|ops_per_sec| Command::SetWorkload { ops_per_sec }),
        (node(), key(), "[0-9]{0,3}")
            .prop_map(|(node, key, value)| Command::Client { node, op: ClientOp::Put { key, value, key_lease: None } }),
        (node(), key()).prop_map(|(node, key)| Command::Client { node, op: ClientOp::Delete { key } }),
        (node(), key(), any::<bool>()).prop_map(|(node, key, lin)| Command::Client {
            node,
            op: ClientOp::Read { key, mode: if lin { ReadMode::Linearizable } else { ReadMode::Serializable } }
        }),
        prop::collection::vec(prop::collection::vec(node(), 0..4), 0..3)
            .prop_map(|groups| Command::Partition { groups }),
        node().prop_map(|node| Command::Isolate { node }),
        (node(), node()).prop_map(|(from, to)| Command::CutLink { from, to }),
        (node(), node()).prop_map(|(from, to)| Command::HealLink { from, to }),
        Just(Command::HealAll),
        (node(), node(), link()).prop_map(|(from, to, link)| Command::SetLink { from, to, link }),
        link().prop_map(|link| Command::SetNetwork { link }),
        (node(), -4_000_000_000i64..4_000_000_000).prop_map(|(node, delta_us)| Command::JumpClock { node, delta_us }),
        (node(), 0u32..12_000_000).prop_map(|(node, rate_ppm)| Command::SetClockRate { node, rate_ppm }),
        node().prop_map(|node| Command::Pause { node }),
        node().prop_map(|node| Command::Resume { node }),
        node().prop_map(|node| Command::Crash { node }),
        node().prop_map(|node| Command::Restart { node }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_never_panic_and_refusals_change_nothing(
        seed in 0u64..1_000,
        steps in prop::collection::vec((command(), 0u64..400), 1..40),
    ) {
        let mut sim = Sim::new(seed, ClusterConfig { node_count: 5, ..ClusterConfig::default() }).unwrap();
        sim.run_for_ms(1_500);
        for (cmd, wait_ms) in steps {
            let before = sim.snapshot();
            let log_len = sim.command_log().len();
            match sim.apply(cmd.clone()) {
                Ok(_) => prop_assert_eq!(sim.command_log().len(), log_len + 1),
                Err(e) => {
                    prop_assert!(!e.to_string().is_empty());
                    prop_assert_eq!(&sim.snapshot(), &before, "refused {:?} ({}) changed the simulation", cmd, e);
                    prop_assert_eq!(sim.command_log().len(), log_len);
                }
            }
            sim.run_for_ms(wait_ms);
        }
    }
}
