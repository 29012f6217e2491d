//! Everything the outside world (page, CLI, scenarios, tests) can ask of the simulation.
//! The page changes the simulation only through these (commands in, events out).

use crate::client_op::ClientOp;
use crate::clock::{RATE_MAX_PPM, RATE_MIN_PPM};
use crate::config::{ClusterConfig, LinkConfig};
use crate::decimal::{fixed, trimmed};
use crate::error::{CommandError, ConfigError};
use crate::read::ReadMode;
use crate::types::NodeId;
use crate::watch::{WatchId, WatchRequest};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Clock jumps are limited to ±1 hour.
pub const CLOCK_JUMP_US_MAX: i64 = 3_600_000_000;

/// Most background client operations per simulated second.
pub const WORKLOAD_OPS_MAX: u32 = 1_000;

/// Written by serde's derive (`"HealAll"`, `{"Partition": {"groups": …}}`,
/// `{"Client": {"node": 1, "op": {"Put": {…}}}}`); read back by [`Command::from_value`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Command {
    // ---- client operations ----
    /// A client's request sent to `node` (a follower forwards writes to the leader). In
    /// files it is written flat: `{"Put": {"node": 1, "key": "x", "value": "1"}}`.
    Client {
        node: NodeId,
        op: ClientOp,
    },

    // ---- watches ----
    /// A client opens a watch at `node` (served from that node's store; watch ids count from
    /// 1 in creation order).
    Watch {
        node: NodeId,
        watch: WatchRequest,
    },
    /// The client cancels a watch.
    CancelWatch {
        watch: WatchId,
    },
    /// The client asks a watch's node for a progress notification (etcd's `RequestProgress`).
    RequestWatchProgress {
        watch: WatchId,
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
    /// Hand leadership to `to` (etcd's move-leader): the current leader catches it up and
    /// sends it MsgTimeoutNow (raft-rs `transfer_leader`).
    TransferLeader {
        to: NodeId,
    },

    // ---- membership ----
    /// Start a new node, with the next unused id, and add it as a learner (etcd's
    /// `member add --learner`): it receives the log but does not vote.
    AddLearner,
    /// Change the voters: `promote` learners (etcd's `member promote`; a node outside the
    /// configuration joins as a voter at once) and `remove` members (`member remove`). One voter
    /// changed is a simple change; more go through a joint configuration, left automatically.
    /// Removing the leader first hands leadership to another voter.
    ChangeMembership {
        promote: Vec<NodeId>,
        remove: Vec<NodeId>,
    },
}

/// Read through a JSON value rather than serde's derive, whose visitors for a score of struct
/// variants would be one of the page's largest functions (they once cost 31 KB of wasm), and
/// so that a client operation can also be written flat with its node. Errors name the command and
/// field (serde_json adds the line); an unknown field is refused by name.
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

    /// An optional field: its type's default when absent.
    fn take_or_default<T: DeserializeOwned + Default>(&mut self, field: &str) -> Result<T, String> {
        if self.map.contains_key(field) {
            self.take(field)
        } else {
            Ok(T::default())
        }
    }

    /// Refuses whatever field is left over.
    fn done(self, command: Command) -> Result<Command, String> {
        match self.map.keys().next() {
            Some(field) => Err(format!("{}: unknown field `{field}`", self.command)),
            None => Ok(command),
        }
    }
}

/// Names client operations had in files written before key leases were named as such.
const OLD_CLIENT_OP_NAMES: [(&str, &str); 4] = [
    ("PutWithLease", "Put"),
    ("LeaseGrant", "KeyLeaseGrant"),
    ("LeaseRevoke", "KeyLeaseRevoke"),
    ("LeaseKeepAlive", "KeyLeaseKeepAlive"),
];

/// The client operations' names, as their variants spell them.
const CLIENT_OP_NAMES: [&str; 10] = [
    "Put",
    "Delete",
    "DeleteRange",
    "Txn",
    "Compact",
    "KeyLeaseGrant",
    "KeyLeaseRevoke",
    "KeyLeaseKeepAlive",
    "Read",
    "Range",
];

impl Command {
    /// Reads `"HealAll"` (or `{"HealAll": null}`), `{"Partition": {"groups": [[1], [2, 3]]}}`,
    /// or a client operation: `{"Client": {"node": 1, "op": {"Put": {"key": "x", "value": "1"}}}}`
    /// as written, or flat with its node as tour files write it:
    /// `{"Put": {"node": 1, "key": "x", "value": "1"}}`. Older files' names
    /// (`PutWithLease`, `LeaseGrant`, …) are read too.
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
        let name = OLD_CLIENT_OP_NAMES
            .iter()
            .find(|(old, _)| *old == f.command)
            .map_or(f.command.clone(), |(_, new)| new.to_string());
        let name = name.as_str();
        if CLIENT_OP_NAMES.contains(&name) {
            let node = f.take("node")?;
            let mut fields = std::mem::take(&mut f.map);
            if let Some(id) = fields.remove("lease") {
                fields.insert("key_lease".into(), id);
            }
            // Older files gave a grant's TTL in milliseconds; etcd's unit is whole seconds.
            if let Some(ms) = fields.remove("ttl_ms") {
                let ms: i64 = serde_json::from_value(ms).map_err(|e| format!("{}.ttl_ms: {e}", f.command))?;
                fields.insert("ttl".into(), Value::from((ms + 999).div_euclid(1_000)));
            }
            let op = Value::Object(Map::from_iter([(name.to_string(), Value::Object(fields))]));
            let op = serde_json::from_value(op).map_err(|e| format!("{}: {e}", f.command))?;
            return Ok(Command::Client { node, op });
        }
        let command = match name {
            "Client" => Command::Client { node: f.take("node")?, op: f.take("op")? },
            "Watch" => Command::Watch { node: f.take("node")?, watch: f.take("watch")? },
            "CancelWatch" => Command::CancelWatch { watch: f.take("watch")? },
            "RequestWatchProgress" => Command::RequestWatchProgress { watch: f.take("watch")? },
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
            "TransferLeader" => Command::TransferLeader { to: f.take("to")? },
            "AddLearner" => Command::AddLearner,
            "ChangeMembership" => Command::ChangeMembership {
                promote: f.take_or_default("promote")?,
                remove: f.take_or_default("remove")?,
            },
            other => return Err(format!("unknown command `{other}`")),
        };
        f.done(command)
    }

    /// A client operation sent to `node`.
    pub fn client(node: NodeId, op: ClientOp) -> Command {
        Command::Client { node, op }
    }

    /// A put of `key = value` at `node`.
    pub fn put(node: NodeId, key: &str, value: &str) -> Command {
        Command::client(node, ClientOp::Put { key: key.into(), value: value.into(), key_lease: None })
    }

    /// A read of `key` at `node`.
    pub fn read(node: NodeId, key: &str, mode: ReadMode) -> Command {
        Command::client(node, ClientOp::Read { key: key.into(), mode })
    }

    /// A one-line description for the trace and the page.
    pub fn summary(&self) -> String {
        match self {
            Command::Client { node, op } => format!("{} at {node}", op.summary()),
            Command::Watch { node, watch } => format!("{} at {node}", watch.summary()),
            Command::CancelWatch { watch } => format!("cancel watch {watch}"),
            Command::RequestWatchProgress { watch } => format!("request progress of watch {watch}"),
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
                format!("{node} clock jumps {} ms", trimmed(*delta_us as f64 / 1_000.0, 3).with_sign())
            }
            Command::SetClockRate { node, rate_ppm } => {
                format!("{node} clock rate {}×", fixed(f64::from(*rate_ppm) / 1e6, 3))
            }
            Command::Pause { node } => format!("pause {node}"),
            Command::Resume { node } => format!("resume {node}"),
            Command::Crash { node } => format!("crash {node}"),
            Command::Restart { node } => format!("restart {node}"),
            Command::TransferLeader { to } => format!("transfer leadership to {to}"),
            Command::AddLearner => "add a node as a learner".to_string(),
            Command::ChangeMembership { promote, remove } => format!(
                "change membership: {}",
                crate::membership::MembershipChange {
                    promote: promote.clone(),
                    remove: remove.clone(),
                    add_learner: None
                }
            ),
        }
    }

    /// Whether the command is a client operation (it gets an operation id when applied).
    pub fn is_client_op(&self) -> bool {
        matches!(self, Command::Client { .. })
    }

    /// The command with node id 0 (scenario shorthand for "the step's target") replaced by
    /// `node`, for every command that names one node.
    pub fn with_default_node(mut self, node: NodeId) -> Command {
        let slot = match &mut self {
            Command::Client { node, .. }
            | Command::Watch { node, .. }
            | Command::Isolate { node }
            | Command::JumpClock { node, .. }
            | Command::SetClockRate { node, .. }
            | Command::Pause { node }
            | Command::Resume { node }
            | Command::Crash { node }
            | Command::Restart { node }
            | Command::TransferLeader { to: node } => Some(node),
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
        self.validate_in(config.node_count)
    }

    /// [`Command::validate`] in a cluster that has grown to `node_count` nodes.
    pub fn validate_in(&self, node_count: usize) -> Result<(), CommandError> {
        let node_ok = |n: &NodeId| {
            if n.0 == 0 || n.0 as usize > node_count {
                Err(CommandError::UnknownNode { node: n.0, node_count })
            } else {
                Ok(())
            }
        };
        let invalid = |field: &str, message: String| Err(CommandError::Invalid(ConfigError::new(field, message)));
        match self {
            Command::Client { node, op } => {
                node_ok(node)?;
                op.validate()
            }
            Command::Watch { node, watch } => {
                node_ok(node)?;
                crate::client_op::validate_key(&watch.key)?;
                if !watch.end.is_empty() && watch.end != "\0" {
                    crate::client_op::validate_key(&watch.end)?;
                }
                Ok(())
            }
            Command::CancelWatch { .. } | Command::RequestWatchProgress { .. } => Ok(()),
            Command::Partition { groups } => {
                let mut seen = vec![false; node_count];
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
            | Command::Restart { node }
            | Command::TransferLeader { to: node } => node_ok(node),
            Command::AddLearner => Ok(()),
            Command::ChangeMembership { promote, remove } => {
                for n in promote.iter().chain(remove) {
                    node_ok(n)?;
                }
                if promote.is_empty() && remove.is_empty() {
                    return invalid("promote", "a membership change names at least one node".into());
                }
                if let Some(n) = promote.iter().find(|n| remove.contains(n)) {
                    return invalid("remove", format!("{n} cannot be both made a voter and removed"));
                }
                Ok(())
            }
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
                            "{}×: a clock rate must be between 0.1× and 10× (drift rate ≤ 0 is impossible)",
                            fixed(f64::from(*rate_ppm) / 1e6, 3)
                        ),
                    );
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::{Compare, CompareOp, CompareTarget, TxnOp};
    use crate::types::KeyLeaseId;

    #[test]
    fn a_watch_request_is_read_with_its_defaults_and_refuses_unknown_fields() {
        let read = |text: &str| Command::from_value(serde_json::from_str(text).unwrap());
        let Ok(Command::Watch { watch, .. }) = read(r#"{"Watch": {"node": 2, "watch": {"key": "x"}}}"#) else {
            panic!("a watch")
        };
        assert_eq!(watch, WatchRequest { key: "x".into(), ..Default::default() });
        let e = read(r#"{"Watch": {"node": 2, "watch": {"key": "x", "prefix": true}}}"#).unwrap_err();
        assert!(e.contains("unknown field `prefix`"), "{e}");
        let e = read(r#"{"Watch": {"node": 2, "watch": {"key": "x", "start_revision": -1}}}"#).unwrap_err();
        assert!(e.contains("Watch.watch"), "{e}");
        // A watch without a key reads as the empty key, which validation refuses.
        let Ok(no_key) = read(r#"{"Watch": {"node": 2, "watch": {}}}"#) else { panic!("read") };
        let e = no_key.validate(&ClusterConfig::default()).unwrap_err().to_string();
        assert!(e.contains("must not be empty"), "{e}");
    }

    #[test]
    fn a_client_operation_is_summed_up_with_its_node() {
        let put = |k: &str| TxnOp::Put { key: k.into(), value: "1".into(), key_lease: None };
        let compare =
            Compare { key: "x".into(), target: CompareTarget::Version, op: CompareOp::Equal, operand: "0".into() };
        let txn = ClientOp::Txn { compares: vec![compare], success: vec![put("x"), put("y")], failure: vec![] };
        assert_eq!(Command::client(NodeId(2), txn).summary(), "txn (1 compare, then 2 ops, else 0 ops) at n2");
    }

    /// One of every command, with every field set off its default.
    pub(crate) fn every_command() -> Vec<Command> {
        let n = NodeId(2);
        let k = || "k".to_string();
        let id = KeyLeaseId::new(8).unwrap();
        let link = LinkConfig { latency_us: 7, jitter_us: 3, drop_ppm: 5, duplicate_ppm: 9 };
        let compare = Compare { key: k(), target: CompareTarget::Version, op: CompareOp::Equal, operand: "0".into() };
        let put = TxnOp::Put { key: k(), value: "1".into(), key_lease: KeyLeaseId::new(4) };
        let client = |op| Command::client(n, op);
        vec![
            Command::put(n, "k", "v"),
            client(ClientOp::Delete { key: k() }),
            Command::read(n, "k", ReadMode::Serializable),
            client(ClientOp::DeleteRange { key: k(), end: "z".into() }),
            client(ClientOp::Txn { compares: vec![compare], success: vec![put.clone()], failure: vec![put] }),
            client(ClientOp::Compact { revision: 3 }),
            client(ClientOp::Put { key: k(), value: "v".into(), key_lease: Some(id) }),
            client(ClientOp::KeyLeaseGrant { id: Some(id), ttl: 5 }),
            client(ClientOp::KeyLeaseGrant { id: None, ttl: 0 }),
            client(ClientOp::KeyLeaseRevoke { id }),
            client(ClientOp::KeyLeaseKeepAlive { id }),
            client(ClientOp::Range {
                range: crate::mvcc::RangeRequest { key: k(), end: "\0".into(), rev: 2, limit: 3, count_only: true },
                mode: ReadMode::Serializable,
            }),
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
            Command::TransferLeader { to: n },
            Command::AddLearner,
            Command::ChangeMembership { promote: vec![n], remove: vec![NodeId(1)] },
            Command::Watch {
                node: n,
                watch: crate::watch::WatchRequest {
                    key: k(),
                    end: "\0".into(),
                    start_revision: 4,
                    progress_notify: true,
                    require_leader: true,
                },
            },
            Command::CancelWatch { watch: crate::watch::WatchId(3) },
            Command::RequestWatchProgress { watch: crate::watch::WatchId(3) },
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
    fn tour_files_write_client_operations_flat_and_older_names_still_read() {
        let read = |text: &str| serde_json::from_str::<Command>(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let id = KeyLeaseId::new(8).unwrap();
        assert_eq!(read(r#"{"Put": {"node": 1, "key": "x", "value": "1"}}"#), Command::put(NodeId(1), "x", "1"));
        let with = ClientOp::Put { key: "x".into(), value: "1".into(), key_lease: Some(id) };
        assert_eq!(
            read(r#"{"Put": {"node": 1, "key": "x", "value": "1", "key_lease": 8}}"#),
            Command::client(NodeId(1), with.clone())
        );
        // Written before key leases were named as such.
        assert_eq!(
            read(r#"{"PutWithLease": {"node": 1, "key": "x", "value": "1", "lease": 8}}"#),
            Command::client(NodeId(1), with)
        );
        let grant = ClientOp::KeyLeaseGrant { id: Some(id), ttl: 5 };
        assert_eq!(read(r#"{"LeaseGrant": {"node": 2, "id": 8, "ttl_ms": 5000}}"#), Command::client(NodeId(2), grant));
        // Older files' milliseconds round up to etcd's whole seconds; id 0 asks for an id.
        let auto = ClientOp::KeyLeaseGrant { id: None, ttl: 2 };
        assert_eq!(
            read(r#"{"LeaseGrant": {"node": 2, "id": 0, "ttl_ms": 1500}}"#),
            Command::client(NodeId(2), auto.clone())
        );
        assert_eq!(read(r#"{"KeyLeaseGrant": {"node": 2, "ttl": 2}}"#), Command::client(NodeId(2), auto));
        assert_eq!(
            read(r#"{"LeaseKeepAlive": {"node": 2, "id": 8}}"#),
            Command::client(NodeId(2), ClientOp::KeyLeaseKeepAlive { id })
        );
        let txn = r#"{"Txn": {"node": 1, "compares": [], "success": [{"Put": {"key": "k", "value": "v", "lease": 0}}], "failure": []}}"#;
        let plain = TxnOp::Put { key: "k".into(), value: "v".into(), key_lease: None };
        assert_eq!(
            read(txn),
            Command::client(NodeId(1), ClientOp::Txn { compares: vec![], success: vec![plain], failure: vec![] })
        );
    }

    #[test]
    fn a_malformed_command_names_what_is_wrong() {
        let err = |text: &str| serde_json::from_str::<Command>(text).unwrap_err().to_string();
        assert!(
            err(r#"{"Put": {"node": 1, "key": "x"}}"#).contains("Put: missing field `value`"),
            "{}",
            err(r#"{"Put": {"node": 1, "key": "x"}}"#)
        );
        assert!(err(r#"{"Crash": {"node": "one"}}"#).contains("Crash.node: invalid type"));
        assert!(err(r#"{"Explode": {}}"#).contains("unknown command `Explode`"));
        assert!(err(r#"{"Put": 3}"#).contains("should be an object"));
        assert!(err("[1]").contains("a command is a name or an object"));
        let e = serde_json::from_str::<Vec<Command>>("[\"HealAll\",\n {\"Nope\": null}]").unwrap_err().to_string();
        assert!(e.contains("unknown command `Nope`") && e.contains("line 2"), "{e}");
        // A misspelt or extra field is refused by name rather than ignored.
        assert!(err(r#"{"Pause": {"node": 3, "note": "x"}}"#).contains("Pause: unknown field `note`"));
        let e = err(r#"{"Put": {"node": 1, "key": "x", "value": "1", "valeu": "2"}}"#);
        assert!(e.contains("unknown field `valeu`"), "{e}");
        assert!(err(r#"{"KeyLeaseRevoke": {"node": 1, "id": 0}}"#).contains("key lease id 0"));
    }
}
