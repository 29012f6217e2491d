//! Everything the outside world (page, CLI, scenarios, tests) can ask of the simulation.
//! The page changes the simulation only through these (commands in, events out).

use crate::clock::{RATE_MAX_PPM, RATE_MIN_PPM};
use crate::config::{ClusterConfig, LinkConfig};
use crate::error::{CommandError, ConfigError};
use crate::mvcc::{Compare, TxnOp};
use crate::read::ReadMode;
use crate::request::{KEY_BYTES_MAX, VALUE_BYTES_MAX};
use crate::types::NodeId;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Clock jumps are limited to ±1 hour.
pub const CLOCK_JUMP_US_MAX: i64 = 3_600_000_000;

/// Most background client operations per simulated second.
pub const WORKLOAD_OPS_MAX: u32 = 1_000;

/// Written by serde's derive (`{"Put": {"node": 1, …}}`, `"HealAll"`); read back by the
/// hand-written [`Command::from_value`] below.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Command {
    // ---- client operations ----
    /// Write `key = value` through raft, sent to `node` (a follower forwards it).
    Put {
        node: NodeId,
        key: String,
        value: String,
    },
    /// Delete `key` through raft, sent to `node`.
    Delete {
        node: NodeId,
        key: String,
    },
    /// Read `key` at `node`.
    Read {
        node: NodeId,
        key: String,
        mode: ReadMode,
    },
    /// Delete every key in `[key, end)` through raft (`end` empty: just `key`; `"\0"`: all ≥ `key`).
    DeleteRange {
        node: NodeId,
        key: String,
        end: String,
    },
    /// An etcd transaction through raft: if every compare holds run `success`, else `failure`.
    Txn {
        node: NodeId,
        compares: Vec<Compare>,
        success: Vec<TxnOp>,
        failure: Vec<TxnOp>,
    },
    /// Compact the MVCC history up to `revision` through raft.
    Compact {
        node: NodeId,
        revision: u64,
    },
    /// Put with a key lease: the key is deleted when the key lease expires or is revoked.
    PutWithLease {
        node: NodeId,
        key: String,
        value: String,
        lease: u64,
    },
    /// Grant key lease `id` with a TTL (through raft; raised to the minimum TTL).
    LeaseGrant {
        node: NodeId,
        id: u64,
        ttl_ms: i64,
    },
    /// Revoke key lease `id`, deleting its keys (through raft).
    LeaseRevoke {
        node: NodeId,
        id: u64,
    },
    /// Keep key lease `id` alive (only the leader serves it).
    LeaseKeepAlive {
        node: NodeId,
        id: u64,
    },

    // ---- network faults ----
    /// Cut every link between nodes of different groups (both ways) and heal the rest. Nodes
    /// named in no group form one more group together.
    Partition {
        groups: Vec<Vec<NodeId>>,
    },
    /// Cut every link to and from `node`.
    Isolate {
        node: NodeId,
    },
    /// Cut one direction of one link (`from` can no longer reach `to`).
    CutLink {
        from: NodeId,
        to: NodeId,
    },
    /// Heal one direction of one link.
    HealLink {
        from: NodeId,
        to: NodeId,
    },
    /// Heal every link.
    HealAll,
    /// Change latency/loss/duplication of one directed link.
    SetLink {
        from: NodeId,
        to: NodeId,
        link: LinkConfig,
    },
    /// Change latency/loss/duplication of every link.
    SetNetwork {
        link: LinkConfig,
    },

    // ---- background client load ----
    /// Issue `ops_per_sec` client operations per simulated second (0: stop), drawn from the
    /// seeded RNG: puts and reads (linearizable and serializable) on 8 keys, at the leader
    /// or any node.
    SetWorkload {
        ops_per_sec: u32,
    },

    // ---- clocks and processes ----
    /// Step `node`'s clock by `delta_us` (negative: backwards).
    JumpClock {
        node: NodeId,
        delta_us: i64,
    },
    /// Set `node`'s clock rate in parts per million of true time (1,000,000 = exact).
    SetClockRate {
        node: NodeId,
        rate_ppm: u32,
    },
    /// Stop the process (no ticks, inputs queue up) while true time runs on.
    Pause {
        node: NodeId,
    },
    Resume {
        node: NodeId,
    },
    /// Kill the process: volatile state is lost, the disk survives.
    Crash {
        node: NodeId,
    },
    /// Start a crashed process again from its disk.
    Restart {
        node: NodeId,
    },
}

/// Read through a JSON value rather than serde's derive, whose visitors for two dozen struct
/// variants were the page's largest function (31 KB of wasm). Same format; unknown fields are
/// ignored as the derive did; errors name the command and field (serde_json adds the line).
impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Command, D::Error> {
        Command::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The fields of one command being read.
struct Fields {
    command: String,
    map: Map<String, Value>,
}

impl Fields {
    fn take<T: DeserializeOwned>(&mut self, field: &str) -> Result<T, String> {
        let value = self.map.remove(field).ok_or_else(|| format!("{}: missing field `{field}`", self.command))?;
        serde_json::from_value(value).map_err(|e| format!("{}.{field}: {e}", self.command))
    }
}

impl Command {
    /// Reads `"HealAll"` (or `{"HealAll": null}`) or `{"Put": {"node": 1, "key": "x", "value": "1"}}`.
    pub fn from_value(value: Value) -> Result<Command, String> {
        let (command, map) = match value {
            Value::String(name) => (name, Map::new()),
            Value::Object(outer) if outer.len() == 1 => match outer.into_iter().next() {
                Some((name, Value::Object(map))) => (name, map),
                Some((name, Value::Null)) => (name, Map::new()),
                Some((name, _)) => return Err(format!("command {name}: its fields should be an object")),
                None => unreachable!("one entry"),
            },
            _ => return Err("a command is a name or an object like {\"Put\": {…}}".into()),
        };
        let mut f = Fields { command, map };
        Ok(match f.command.as_str() {
            "Put" => Command::Put { node: f.take("node")?, key: f.take("key")?, value: f.take("value")? },
            "Delete" => Command::Delete { node: f.take("node")?, key: f.take("key")? },
            "Read" => Command::Read { node: f.take("node")?, key: f.take("key")?, mode: f.take("mode")? },
            "DeleteRange" => Command::DeleteRange { node: f.take("node")?, key: f.take("key")?, end: f.take("end")? },
            "Txn" => Command::Txn {
                node: f.take("node")?,
                compares: f.take("compares")?,
                success: f.take("success")?,
                failure: f.take("failure")?,
            },
            "Compact" => Command::Compact { node: f.take("node")?, revision: f.take("revision")? },
            "PutWithLease" => Command::PutWithLease {
                node: f.take("node")?,
                key: f.take("key")?,
                value: f.take("value")?,
                lease: f.take("lease")?,
            },
            "LeaseGrant" => Command::LeaseGrant { node: f.take("node")?, id: f.take("id")?, ttl_ms: f.take("ttl_ms")? },
            "LeaseRevoke" => Command::LeaseRevoke { node: f.take("node")?, id: f.take("id")? },
            "LeaseKeepAlive" => Command::LeaseKeepAlive { node: f.take("node")?, id: f.take("id")? },
            "Partition" => Command::Partition { groups: f.take("groups")? },
            "Isolate" => Command::Isolate { node: f.take("node")? },
            "CutLink" => Command::CutLink { from: f.take("from")?, to: f.take("to")? },
            "HealLink" => Command::HealLink { from: f.take("from")?, to: f.take("to")? },
            "HealAll" => Command::HealAll,
            "SetLink" => Command::SetLink { from: f.take("from")?, to: f.take("to")?, link: f.take("link")? },
            "SetNetwork" => Command::SetNetwork { link: f.take("link")? },
            "SetWorkload" => Command::SetWorkload { ops_per_sec: f.take("ops_per_sec")? },
            "JumpClock" => Command::JumpClock { node: f.take("node")?, delta_us: f.take("delta_us")? },
            "SetClockRate" => Command::SetClockRate { node: f.take("node")?, rate_ppm: f.take("rate_ppm")? },
            "Pause" => Command::Pause { node: f.take("node")? },
            "Resume" => Command::Resume { node: f.take("node")? },
            "Crash" => Command::Crash { node: f.take("node")? },
            "Restart" => Command::Restart { node: f.take("node")? },
            other => return Err(format!("unknown command `{other}`")),
        })
    }
}

/// "1 compare", "2 compares", "0 ops".
pub(crate) fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

impl Command {
    /// A one-line description for the trace and the page.
    pub fn summary(&self) -> String {
        match self {
            Command::Put { node, key, value } => format!("put {key}={value} at {node}"),
            Command::Delete { node, key } => format!("delete {key} at {node}"),
            Command::Read { node, key, mode: ReadMode::Linearizable } => format!("read {key} at {node}"),
            Command::DeleteRange { node, key, end } => format!("delete range [{key}, {end:?}) at {node}"),
            Command::Txn { node, compares, success, failure } => format!(
                "txn at {node}: {}, then {}, else {}",
                counted(compares.len(), "compare"),
                counted(success.len(), "op"),
                counted(failure.len(), "op")
            ),
            Command::Compact { node, revision } => format!("compact {revision} at {node}"),
            Command::PutWithLease { node, key, value, lease } => {
                format!("put {key}={value} with lease {lease} at {node}")
            }
            Command::LeaseGrant { node, id, ttl_ms } => {
                format!("grant lease {id} ttl {} s at {node}", *ttl_ms as f64 / 1_000.0)
            }
            Command::LeaseRevoke { node, id } => format!("revoke lease {id} at {node}"),
            Command::LeaseKeepAlive { node, id } => format!("keep-alive lease {id} at {node}"),
            Command::Read { node, key, mode: ReadMode::Serializable } => {
                format!("serializable read {key} at {node}")
            }
            Command::Partition { groups } => {
                let gs: Vec<String> =
                    groups.iter().map(|g| g.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")).collect();
                format!("partition {{{}}}", gs.join("} {"))
            }
            Command::Isolate { node } => format!("isolate {node}"),
            Command::CutLink { from, to } => format!("cut {from}->{to}"),
            Command::HealLink { from, to } => format!("heal {from}->{to}"),
            Command::HealAll => "heal all links".to_string(),
            Command::SetWorkload { ops_per_sec: 0 } => "background load off".to_string(),
            Command::SetWorkload { ops_per_sec } => format!("background load {ops_per_sec} ops/s"),
            Command::SetLink { from, to, link } => format!(
                "link {from}->{to}: latency {}±{} µs, drop {} ppm, dup {} ppm",
                link.latency_us, link.jitter_us, link.drop_ppm, link.duplicate_ppm
            ),
            Command::SetNetwork { link } => format!(
                "all links: latency {}±{} µs, drop {} ppm, dup {} ppm",
                link.latency_us, link.jitter_us, link.drop_ppm, link.duplicate_ppm
            ),
            Command::JumpClock { node, delta_us } => {
                format!("{node} clock jumps {:+} ms", *delta_us as f64 / 1_000.0)
            }
            Command::SetClockRate { node, rate_ppm } => {
                format!("{node} clock rate {:.3}×", f64::from(*rate_ppm) / 1e6)
            }
            Command::Pause { node } => format!("pause {node}"),
            Command::Resume { node } => format!("resume {node}"),
            Command::Crash { node } => format!("crash {node}"),
            Command::Restart { node } => format!("restart {node}"),
        }
    }

    /// Whether the command is a client operation (it gets an operation id when applied).
    pub fn is_client_op(&self) -> bool {
        matches!(
            self,
            Command::Put { .. }
                | Command::Delete { .. }
                | Command::Read { .. }
                | Command::DeleteRange { .. }
                | Command::Txn { .. }
                | Command::Compact { .. }
                | Command::PutWithLease { .. }
                | Command::LeaseGrant { .. }
                | Command::LeaseRevoke { .. }
                | Command::LeaseKeepAlive { .. }
        )
    }

    /// The command with node id 0 (scenario shorthand for "the step's target") replaced by
    /// `node`, for every command that names one node.
    pub fn with_default_node(mut self, node: NodeId) -> Command {
        let slot = match &mut self {
            Command::Put { node, .. }
            | Command::Delete { node, .. }
            | Command::Read { node, .. }
            | Command::DeleteRange { node, .. }
            | Command::Txn { node, .. }
            | Command::Compact { node, .. }
            | Command::PutWithLease { node, .. }
            | Command::LeaseGrant { node, .. }
            | Command::LeaseRevoke { node, .. }
            | Command::LeaseKeepAlive { node, .. }
            | Command::Isolate { node }
            | Command::JumpClock { node, .. }
            | Command::SetClockRate { node, .. }
            | Command::Pause { node }
            | Command::Resume { node }
            | Command::Crash { node }
            | Command::Restart { node } => Some(node),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.0 == 0 {
                *slot = node;
            }
        }
        self
    }

    /// Checks the command against the cluster. A command that passes never panics the
    /// simulation; one that fails changes nothing.
    pub fn validate(&self, config: &ClusterConfig) -> Result<(), CommandError> {
        let node_ok = |n: &NodeId| {
            if n.0 == 0 || n.0 as usize > config.node_count {
                Err(CommandError::UnknownNode { node: n.0, node_count: config.node_count })
            } else {
                Ok(())
            }
        };
        let invalid = |field: &str, message: String| Err(CommandError::Invalid(ConfigError::new(field, message)));
        match self {
            Command::Put { node, key, value } => {
                node_ok(node)?;
                validate_key(key)?;
                validate_value(value)?;
                Ok(())
            }
            Command::Delete { node, key }
            | Command::Read { node, key, .. }
            | Command::DeleteRange { node, key, .. } => {
                node_ok(node)?;
                validate_key(key)
            }
            Command::Txn { node, compares, success, failure } => {
                node_ok(node)?;
                for c in compares {
                    validate_key(&c.key)?;
                }
                for op in success.iter().chain(failure) {
                    match op {
                        TxnOp::Put { key, value, .. } => {
                            validate_key(key)?;
                            validate_value(value)?;
                        }
                        TxnOp::DeleteRange { key, .. } => validate_key(key)?,
                        TxnOp::Range(r) => validate_key(&r.key)?,
                    }
                }
                if compares.len() + success.len() + failure.len() > 128 {
                    return invalid("txn", "a transaction has at most 128 compares and operations".into());
                }
                Ok(())
            }
            Command::Compact { node, revision } => {
                node_ok(node)?;
                if *revision == 0 {
                    return invalid("revision", "compaction needs a revision ≥ 1".into());
                }
                Ok(())
            }
            Command::PutWithLease { node, key, value, lease } => {
                node_ok(node)?;
                validate_key(key)?;
                validate_value(value)?;
                if *lease == 0 {
                    return invalid("lease", "lease id 0 means \"no lease\": use a plain put".into());
                }
                Ok(())
            }
            Command::LeaseGrant { node, id, ttl_ms } => {
                node_ok(node)?;
                if *id == 0 {
                    return invalid("id", "lease id 0 is reserved for \"no lease\"".into());
                }
                if *ttl_ms <= 0 || *ttl_ms > crate::lessor::KEY_LEASE_TTL_MS_MAX {
                    return invalid("ttl_ms", format!("{ttl_ms} ms: a TTL is positive and at most 9,000,000,000 s"));
                }
                Ok(())
            }
            Command::LeaseRevoke { node, id } | Command::LeaseKeepAlive { node, id } => {
                node_ok(node)?;
                if *id == 0 {
                    return invalid("id", "lease id 0 is reserved for \"no lease\"".into());
                }
                Ok(())
            }
            Command::Partition { groups } => {
                let mut seen = vec![false; config.node_count];
                for n in groups.iter().flatten() {
                    node_ok(n)?;
                    if std::mem::replace(&mut seen[n.index()], true) {
                        return invalid("groups", format!("{n} is named in two groups"));
                    }
                }
                Ok(())
            }
            Command::Isolate { node }
            | Command::Pause { node }
            | Command::Resume { node }
            | Command::Crash { node }
            | Command::Restart { node } => node_ok(node),
            Command::CutLink { from, to } | Command::HealLink { from, to } => {
                node_ok(from)?;
                node_ok(to)?;
                if from == to {
                    return invalid("to", format!("{from} has no link to itself"));
                }
                Ok(())
            }
            Command::HealAll => Ok(()),
            Command::SetWorkload { ops_per_sec } if *ops_per_sec > WORKLOAD_OPS_MAX => invalid(
                "ops_per_sec",
                format!("{ops_per_sec} operations per second is more than the {WORKLOAD_OPS_MAX} allowed"),
            ),
            Command::SetWorkload { .. } => Ok(()),
            Command::SetLink { from, to, link } => {
                node_ok(from)?;
                node_ok(to)?;
                if from == to {
                    return invalid("to", format!("{from} has no link to itself"));
                }
                Ok(link.validate()?)
            }
            Command::SetNetwork { link } => Ok(link.validate()?),
            Command::JumpClock { node, delta_us } => {
                node_ok(node)?;
                if delta_us.abs() > CLOCK_JUMP_US_MAX {
                    return invalid("delta_us", "a clock jump is at most ±1 hour".to_string());
                }
                Ok(())
            }
            Command::SetClockRate { node, rate_ppm } => {
                node_ok(node)?;
                if !(RATE_MIN_PPM..=RATE_MAX_PPM).contains(rate_ppm) {
                    return invalid(
                        "rate_ppm",
                        format!(
                            "{:.3}×: a clock rate must be between 0.1× and 10× (drift rate ≤ 0 is impossible)",
                            f64::from(*rate_ppm) / 1e6
                        ),
                    );
                }
                Ok(())
            }
        }
    }
}

pub fn validate_value(value: &str) -> Result<(), CommandError> {
    if value.len() > VALUE_BYTES_MAX {
        return Err(CommandError::Invalid(ConfigError::new(
            "value",
            format!("{} bytes is more than the {VALUE_BYTES_MAX}-byte limit", value.len()),
        )));
    }
    Ok(())
}

pub fn validate_key(key: &str) -> Result<(), CommandError> {
    if key.is_empty() {
        return Err(CommandError::Invalid(ConfigError::new("key", "a key must not be empty".into())));
    }
    if key.len() > KEY_BYTES_MAX {
        return Err(CommandError::Invalid(ConfigError::new(
            "key",
            format!("{} bytes is more than the {KEY_BYTES_MAX}-byte limit", key.len()),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::{CompareOp, CompareTarget};

    #[test]
    fn a_transaction_summary_counts_in_words() {
        let put = |k: &str| TxnOp::Put { key: k.into(), value: "1".into(), lease: 0 };
        let txn = Command::Txn {
            node: NodeId(2),
            compares: vec![Compare {
                key: "x".into(),
                target: CompareTarget::Version,
                op: CompareOp::Equal,
                operand: "0".into(),
            }],
            success: vec![put("x"), put("y")],
            failure: vec![],
        };
        assert_eq!(txn.summary(), "txn at n2: 1 compare, then 2 ops, else 0 ops");
    }

    /// One of every command, with every field set off its default.
    fn every_command() -> Vec<Command> {
        let n = NodeId(2);
        let k = || "k".to_string();
        let link = LinkConfig { latency_us: 7, jitter_us: 3, drop_ppm: 5, duplicate_ppm: 9 };
        let compare = Compare { key: k(), target: CompareTarget::Version, op: CompareOp::Equal, operand: "0".into() };
        let put = TxnOp::Put { key: k(), value: "1".into(), lease: 4 };
        vec![
            Command::Put { node: n, key: k(), value: "v".into() },
            Command::Delete { node: n, key: k() },
            Command::Read { node: n, key: k(), mode: ReadMode::Serializable },
            Command::DeleteRange { node: n, key: k(), end: "z".into() },
            Command::Txn { node: n, compares: vec![compare], success: vec![put.clone()], failure: vec![put] },
            Command::Compact { node: n, revision: 3 },
            Command::PutWithLease { node: n, key: k(), value: "v".into(), lease: 8 },
            Command::LeaseGrant { node: n, id: 8, ttl_ms: 5_000 },
            Command::LeaseRevoke { node: n, id: 8 },
            Command::LeaseKeepAlive { node: n, id: 8 },
            Command::Partition { groups: vec![vec![NodeId(1)], vec![NodeId(2), NodeId(3)]] },
            Command::Isolate { node: n },
            Command::CutLink { from: n, to: NodeId(3) },
            Command::HealLink { from: n, to: NodeId(3) },
            Command::HealAll,
            Command::SetLink { from: n, to: NodeId(3), link: link.clone() },
            Command::SetNetwork { link },
            Command::SetWorkload { ops_per_sec: 50 },
            Command::JumpClock { node: n, delta_us: -250 },
            Command::SetClockRate { node: n, rate_ppm: 800_000 },
            Command::Pause { node: n },
            Command::Resume { node: n },
            Command::Crash { node: n },
            Command::Restart { node: n },
        ]
    }

    #[test]
    fn every_command_reads_back_what_serde_wrote() {
        for command in every_command() {
            let text = serde_json::to_string(&command).unwrap();
            let back: Command = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, command, "{text}");
        }
    }

    #[test]
    fn a_malformed_command_names_what_is_wrong() {
        let err = |text: &str| serde_json::from_str::<Command>(text).unwrap_err().to_string();
        assert!(err(r#"{"Put": {"node": 1, "key": "x"}}"#).contains("Put: missing field `value`"));
        assert!(err(r#"{"Crash": {"node": "one"}}"#).contains("Crash.node: invalid type"));
        assert!(err(r#"{"Explode": {}}"#).contains("unknown command `Explode`"));
        assert!(err(r#"{"Put": 3}"#).contains("should be an object"));
        assert!(err("[1]").contains("a command is a name or an object"));
        let e = serde_json::from_str::<Vec<Command>>("[\"HealAll\",\n {\"Nope\": null}]").unwrap_err().to_string();
        assert!(e.contains("unknown command `Nope`") && e.contains("line 2"), "{e}");
        // Unknown fields are ignored, as the derived reader did.
        let ok: Command = serde_json::from_str(r#"{"Pause": {"node": 3, "note": "x"}}"#).unwrap();
        assert_eq!(ok, Command::Pause { node: NodeId(3) });
    }
}
