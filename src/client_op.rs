//! What a client asks of the cluster: one type for the operations on the page, in commands
//! and scenario files, in raft entries and in the history, with one summary for all of them.

use crate::error::{CommandError, ConfigError};
use crate::lessor::KEY_LEASE_TTL_MAX_S;
use crate::mvcc::{Compare, RangeRequest, TxnOp, VALUE_BYTES_MAX};
use crate::read::ReadMode;
use crate::types::{key_lease_or_zero, KeyLeaseId};
use serde::{Deserialize, Serialize};

/// Keys are at most this long (bytes).
pub const KEY_BYTES_MAX: usize = 256;

/// The most compares, and the most operations in each branch, one transaction may hold
/// (etcd's `--max-txn-ops`, 128 by default).
pub const TXN_PARTS_MAX: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(deny_unknown_fields)]
pub enum ClientOp {
    /// Write `key = value`; with a key lease, the key is deleted when the key lease expires
    /// or is revoked (etcd `Put` with `lease`). Without one, a put detaches the key from any
    /// key lease it had, as etcd's does.
    Put {
        key: String,
        value: String,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "key_lease_or_zero")]
        key_lease: Option<KeyLeaseId>,
    },
    Delete {
        key: String,
    },
    /// Delete every key in `[key, end)` (`end` empty: just `key`; `"\0"`: every key ≥ `key`).
    DeleteRange {
        key: String,
        end: String,
    },
    /// An etcd transaction: if every compare holds run `success`, else `failure`.
    Txn {
        compares: Vec<Compare>,
        success: Vec<TxnOp>,
        failure: Vec<TxnOp>,
    },
    /// Compact the MVCC history up to `revision`.
    Compact {
        revision: u64,
    },
    /// Grant a key lease with a TTL in whole seconds, as etcd's `LeaseGrant` takes it (raised
    /// to the minimum TTL). Without an id (or with id 0, as etcd's API writes it), the node the
    /// request reaches assigns one, as etcd's server does.
    KeyLeaseGrant {
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "key_lease_or_zero")]
        id: Option<KeyLeaseId>,
        /// Seconds.
        ttl: i64,
    },
    /// Revoke key lease `id`, deleting its keys.
    KeyLeaseRevoke {
        id: KeyLeaseId,
    },
    /// Keep key lease `id` alive (the leader's lessor answers; no raft entry).
    KeyLeaseKeepAlive {
        id: KeyLeaseId,
    },
    /// Read `key` (linearizable or serializable; no raft entry).
    Read {
        key: String,
        mode: ReadMode,
    },
    /// An etcd Range: the keys of a range, at a revision, with a limit or only their count
    /// (linearizable or serializable; served by the read paths, no raft entry).
    Range {
        range: RangeRequest,
        mode: ReadMode,
    },
}

/// "1 compare", "2 compares", "0 ops".
pub(crate) fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

impl ClientOp {
    /// A one-line description for the operation log, the trace and the raft log view.
    pub fn summary(&self) -> String {
        match self {
            ClientOp::Put { key, value, key_lease: None } => format!("put {key}={value}"),
            ClientOp::Put { key, value, key_lease: Some(id) } => format!("put {key}={value} with key lease {id}"),
            ClientOp::Delete { key } => format!("delete {key}"),
            ClientOp::DeleteRange { key, end } => format!("delete range [{key}, {end:?})"),
            ClientOp::Txn { compares, success, failure } => format!(
                "txn ({}, then {}, else {})",
                counted(compares.len(), "compare"),
                counted(success.len(), "op"),
                counted(failure.len(), "op")
            ),
            ClientOp::Compact { revision } => format!("compact {revision}"),
            ClientOp::KeyLeaseGrant { id: Some(id), ttl } => format!("grant key lease {id} (ttl {ttl} s)"),
            ClientOp::KeyLeaseGrant { id: None, ttl } => format!("grant a key lease (ttl {ttl} s)"),
            ClientOp::KeyLeaseRevoke { id } => format!("revoke key lease {id}"),
            ClientOp::KeyLeaseKeepAlive { id } => format!("keep-alive key lease {id}"),
            ClientOp::Read { key, mode: ReadMode::Linearizable } => format!("read {key}"),
            ClientOp::Read { key, mode: ReadMode::Serializable } => format!("serializable read {key}"),
            ClientOp::Read { key, mode: ReadMode::Log } => format!("log read {key}"),
            ClientOp::Range { range, mode } => {
                let keys = match range.end.as_str() {
                    "" => range.key.clone(),
                    "\0" => format!("[{}, ∞)", range.key),
                    end => format!("[{}, {end})", range.key),
                };
                let mut text = format!(
                    "{}range {keys}",
                    match mode {
                        ReadMode::Serializable => "serializable ",
                        ReadMode::Log => "log ",
                        ReadMode::Linearizable => "",
                    }
                );
                if range.rev != 0 {
                    text.push_str(&format!(" at revision {}", range.rev));
                }
                if range.limit != 0 {
                    text.push_str(&format!(" limit {}", range.limit));
                }
                if range.count_only {
                    text.push_str(" (count only)");
                }
                text
            }
        }
    }

    /// A transaction of gets only: etcd serves it like a read (a linearizable read barrier,
    /// then the local store), without a raft entry (`isTxnReadonly`).
    pub fn is_read_only_txn(&self) -> bool {
        match self {
            ClientOp::Txn { success, failure, .. } => {
                success.iter().chain(failure).all(|op| matches!(op, TxnOp::Range(_)))
            }
            _ => false,
        }
    }

    /// How a read is served: serializable, or linearizable (a read-only transaction always is).
    pub fn read_mode(&self) -> Option<ReadMode> {
        match self {
            ClientOp::Read { mode, .. } | ClientOp::Range { mode, .. } => Some(*mode),
            _ if self.is_read_only_txn() => Some(ReadMode::Linearizable),
            _ => None,
        }
    }

    /// Whether a node answers it from its store through a read path (a read, a range, a
    /// read-only transaction).
    pub fn is_read(&self) -> bool {
        self.read_mode().is_some()
    }

    /// Whether the operation is a state change that goes through the raft log (reads and
    /// keep-alives are answered by a node without one).
    pub fn is_write(&self) -> bool {
        !self.is_read() && !matches!(self, ClientOp::KeyLeaseKeepAlive { .. })
    }

    /// The registers (keys) the operation may touch, when known before it is applied.
    pub fn register_keys(&self) -> Option<Vec<&str>> {
        match self {
            ClientOp::Put { key, .. } | ClientOp::Delete { key } | ClientOp::Read { key, .. } => Some(vec![key]),
            ClientOp::Compact { .. } | ClientOp::KeyLeaseGrant { .. } | ClientOp::KeyLeaseKeepAlive { .. } => {
                Some(vec![])
            }
            // A revoke deletes whatever keys are attached when it applies; a range delete or a
            // transaction, whatever keys exist then.
            ClientOp::KeyLeaseRevoke { .. }
            | ClientOp::DeleteRange { .. }
            | ClientOp::Txn { .. }
            | ClientOp::Range { .. } => None,
        }
    }

    /// Checks what the operation alone can be refused for (keys, values, sizes, TTLs); what
    /// depends on the cluster's state is decided when it applies.
    pub fn validate(&self) -> Result<(), CommandError> {
        let invalid = |field: &str, message: String| Err(CommandError::Invalid(ConfigError::new(field, message)));
        match self {
            ClientOp::Put { key, value, .. } => {
                validate_key(key)?;
                validate_value(value)
            }
            ClientOp::Delete { key } | ClientOp::Read { key, .. } | ClientOp::DeleteRange { key, .. } => {
                validate_key(key)
            }
            ClientOp::Range { range, .. } => validate_key(&range.key),
            ClientOp::Txn { compares, success, failure } => {
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
                // etcd's `checkTxnRequest`: each list on its own against the limit.
                if compares.len().max(success.len()).max(failure.len()) > TXN_PARTS_MAX {
                    return invalid(
                        "txn",
                        format!("a transaction has at most {TXN_PARTS_MAX} compares and {TXN_PARTS_MAX} operations per branch"),
                    );
                }
                match [success, failure].into_iter().find_map(|branch| twice_written(branch)) {
                    Some(key) => invalid(
                        "txn",
                        format!("{key:?} is written twice in one branch (put twice, or put inside a delete range): etcd refuses a duplicate key"),
                    ),
                    None => Ok(()),
                }
            }
            // Any revision: the store refuses one at or below its last compaction, or in the
            // future, when the compaction applies (a fresh store's first compact(0) succeeds).
            ClientOp::Compact { .. } => Ok(()),
            // etcd raises a TTL below the minimum (0 or negative included) and refuses one
            // above its maximum.
            ClientOp::KeyLeaseGrant { ttl, .. } if *ttl > KEY_LEASE_TTL_MAX_S => {
                invalid("ttl", format!("{ttl} s: a key lease TTL is at most 9,000,000,000 s"))
            }
            ClientOp::KeyLeaseGrant { .. } | ClientOp::KeyLeaseRevoke { .. } | ClientOp::KeyLeaseKeepAlive { .. } => {
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

/// A key a branch of a transaction puts twice, or puts inside a range it also deletes: etcd's
/// `checkIntervals` refuses the transaction (`ErrGRPCDuplicateKey`). A delete's range is
/// `[key, end)`, or the key alone when `end` is empty; as in etcd's interval tree, a range
/// from a key onwards (`end` "\0") holds no put key.
fn twice_written(branch: &[TxnOp]) -> Option<&str> {
    let deletes = || {
        branch.iter().filter_map(|op| match op {
            TxnOp::DeleteRange { key, end } => Some((key.as_str(), end.as_str())),
            _ => None,
        })
    };
    let puts: Vec<&str> = branch
        .iter()
        .filter_map(|op| match op {
            TxnOp::Put { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    puts.iter().enumerate().find_map(|(i, &k)| {
        let deleted = deletes().any(|(from, end)| if end.is_empty() { k == from } else { from <= k && k < end });
        (puts[..i].contains(&k) || deleted).then_some(k)
    })
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
    use crate::mvcc::{CompareOp, CompareTarget, RangeRequest};

    fn id(n: u64) -> KeyLeaseId {
        KeyLeaseId::new(n).unwrap()
    }

    #[test]
    fn summaries_name_key_leases_as_key_leases() {
        let put = ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: Some(id(8)) };
        assert_eq!(put.summary(), "put k=v with key lease 8");
        assert_eq!(ClientOp::KeyLeaseGrant { id: Some(id(8)), ttl: 5 }.summary(), "grant key lease 8 (ttl 5 s)");
        assert_eq!(ClientOp::KeyLeaseGrant { id: None, ttl: 5 }.summary(), "grant a key lease (ttl 5 s)");
        assert_eq!(ClientOp::KeyLeaseRevoke { id: id(8) }.summary(), "revoke key lease 8");
        assert_eq!(ClientOp::KeyLeaseKeepAlive { id: id(8) }.summary(), "keep-alive key lease 8");
        let get = TxnOp::Range(RangeRequest { key: "x".into(), ..Default::default() });
        let compare =
            Compare { key: "x".into(), target: CompareTarget::Version, op: CompareOp::Equal, operand: "0".into() };
        let txn = ClientOp::Txn { compares: vec![compare], success: vec![get], failure: vec![] };
        assert_eq!(txn.summary(), "txn (1 compare, then 1 op, else 0 ops)");
    }

    #[test]
    fn a_put_reads_key_lease_zero_from_older_files_as_none() {
        let old: ClientOp = serde_json::from_str(r#"{"Put": {"key": "k", "value": "v", "key_lease": 0}}"#).unwrap();
        assert_eq!(old, ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None });
        let plain = ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None };
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"Put":{"key":"k","value":"v"}}"#);
        let e = serde_json::from_str::<ClientOp>(r#"{"KeyLeaseRevoke": {"id": 0}}"#).unwrap_err().to_string();
        assert!(e.contains("key lease id 0 means \"no key lease\""), "{e}");
    }

    #[test]
    fn what_an_operation_alone_is_refused_for() {
        let err = |op: ClientOp| op.validate().unwrap_err().to_string();
        assert!(err(ClientOp::Read { key: String::new(), mode: ReadMode::Linearizable }).contains("must not be empty"));
        assert!(ClientOp::Compact { revision: 0 }.validate().is_ok(), "the store decides, as etcd's does");
        assert!(
            err(ClientOp::KeyLeaseGrant { id: Some(id(1)), ttl: 9_000_000_001 }).contains("at most 9,000,000,000 s")
        );
        assert!(
            ClientOp::KeyLeaseGrant { id: None, ttl: 0 }.validate().is_ok(),
            "raised to the minimum when it applies"
        );
        let big = "x".repeat(VALUE_BYTES_MAX + 1);
        assert!(err(ClientOp::Put { key: "k".into(), value: big, key_lease: None }).contains("4096-byte limit"));
        let many = vec![TxnOp::DeleteRange { key: "k".into(), end: String::new() }; TXN_PARTS_MAX + 1];
        assert!(err(ClientOp::Txn { compares: vec![], success: many, failure: vec![] }).contains("at most 128"));
        assert!(ClientOp::KeyLeaseKeepAlive { id: id(3) }.validate().is_ok());
    }

    /// etcd's `TestV3TxnDuplicateKeys` (tests/integration/v3_grpc_test.go): a put of "abc"
    /// twice, or with a delete of "abc" or of ["a", "b"), in one branch is refused; deletes
    /// overlapping each other, a put beside the delete of ["abb", "abc"), or the same key in
    /// the two branches are not.
    #[test]
    fn a_branch_writing_a_key_twice_is_refused_as_etcd_refuses_it() {
        let put = TxnOp::Put { key: "abc".into(), value: "v".into(), key_lease: None };
        let del = |key: &str, end: &str| TxnOp::DeleteRange { key: key.into(), end: end.into() };
        let txn = |success: Vec<TxnOp>| ClientOp::Txn { compares: vec![], success, failure: vec![] };
        for refused in
            [vec![put.clone(), put.clone()], vec![put.clone(), del("abc", "")], vec![del("a", "b"), put.clone()]]
        {
            let e = txn(refused).validate().expect_err("duplicate key").to_string();
            assert!(e.contains("\"abc\" is written twice"), "{e}");
        }
        let overlapping = vec![del("abc", ""), del("a", "b"), del("abc", ""), del("a", "b")];
        assert!(txn(overlapping).validate().is_ok());
        assert!(txn(vec![put.clone(), del("abb", "abc")]).validate().is_ok());
        let both = ClientOp::Txn { compares: vec![], success: vec![put.clone()], failure: vec![put.clone()] };
        assert!(both.validate().is_ok());
    }

    /// etcd's `TestV3TxnTooManyOps`: the limit holds for the compares and for each branch
    /// apart (`checkTxnRequest`), not for their sum.
    #[test]
    fn the_txn_limit_holds_for_each_list_apart() {
        let ops = |n: usize| {
            (0..n).map(|i| TxnOp::DeleteRange { key: format!("k{i}"), end: String::new() }).collect::<Vec<_>>()
        };
        let full = ClientOp::Txn { compares: vec![], success: ops(TXN_PARTS_MAX), failure: ops(TXN_PARTS_MAX) };
        assert!(full.validate().is_ok());
        let over = ClientOp::Txn { compares: vec![], success: ops(1), failure: ops(TXN_PARTS_MAX + 1) };
        assert!(over.validate().is_err());
    }

    #[test]
    fn reads_and_keep_alives_are_not_writes() {
        assert!(!ClientOp::Read { key: "k".into(), mode: ReadMode::Serializable }.is_write());
        assert!(!ClientOp::KeyLeaseKeepAlive { id: id(2) }.is_write());
        assert!(ClientOp::KeyLeaseRevoke { id: id(2) }.is_write());
        assert!(ClientOp::Compact { revision: 3 }.is_write());
    }
}
