//! What travels through raft: a [`Proposal`] is one log entry's payload — the client
//! operation it answers and the state-machine [`Request`] to apply on every node.

use crate::error::must;
use crate::mvcc::{Compare, TxnOp};
use crate::types::OpId;
use serde::{Deserialize, Serialize};

/// A state change, applied in log order on every node (etcd's `InternalRaftRequest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub enum Request {
    Put {
        key: String,
        value: String,
    },
    Delete {
        key: String,
    },
    /// Delete `[key, end)` (empty `end`: just `key`; `"\0"`: every key ≥ `key`).
    DeleteRange {
        key: String,
        end: String,
    },
    Txn {
        compares: Vec<Compare>,
        success: Vec<TxnOp>,
        failure: Vec<TxnOp>,
    },
    Compact {
        revision: u64,
    },
    /// A put that attaches the key to key lease `lease` (etcd `Put` with `lease`).
    PutWithLease {
        key: String,
        value: String,
        lease: u64,
    },
    LeaseGrant {
        id: u64,
        ttl_ms: i64,
    },
    LeaseRevoke {
        id: u64,
    },
    /// The primary's checkpoints of remaining TTLs: (key lease id, remaining ms).
    LeaseCheckpoint {
        checkpoints: Vec<(u64, i64)>,
    },
}

impl Request {
    pub fn summary(&self) -> String {
        match self {
            Request::Put { key, value } => format!("put {key}={value}"),
            Request::Delete { key } => format!("delete {key}"),
            Request::DeleteRange { key, end } => format!("delete [{key}, {end:?})"),
            Request::Txn { compares, success, failure } => {
                // In words, as the command's summary says it ("1 compare, then 2 ops").
                use crate::command::counted;
                format!(
                    "txn ({}, then {}, else {})",
                    counted(compares.len(), "compare"),
                    counted(success.len(), "op"),
                    counted(failure.len(), "op")
                )
            }
            Request::Compact { revision } => format!("compact {revision}"),
            Request::PutWithLease { key, value, lease } => format!("put {key}={value} with lease {lease}"),
            Request::LeaseGrant { id, ttl_ms } => format!("grant lease {id} ttl {} s", *ttl_ms as f64 / 1_000.0),
            Request::LeaseRevoke { id } => format!("revoke lease {id}"),
            Request::LeaseCheckpoint { checkpoints } => format!("checkpoint {} leases", checkpoints.len()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The client operation waiting for this entry (completed by the node it was sent to).
    pub op: OpId,
    pub request: Request,
}

/// Entry payloads are decoded on every node for every entry, so they use a compact binary
/// form rather than JSON: `op: u64 LE`, a tag byte, then length-prefixed (u32 LE) strings
/// for the common put and delete, or the request in bincode for the rest.
impl Proposal {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        out.extend_from_slice(&self.op.0.to_le_bytes());
        match &self.request {
            Request::Put { key, value } => {
                out.push(1);
                put_str(&mut out, key);
                put_str(&mut out, value);
            }
            Request::Delete { key } => {
                out.push(2);
                put_str(&mut out, key);
            }
            // Rare requests: bincode after the tag keeps the format simple.
            other => {
                out.push(3);
                out.extend_from_slice(&bincode_encode(other));
            }
        }
        out
    }

    /// Decodes an entry's payload. Empty payloads (a new leader's no-op) decode to `None`.
    pub fn decode(data: &[u8]) -> Option<Proposal> {
        if data.is_empty() {
            return None;
        }
        let mut r = Reader { data, at: 0 };
        let op = OpId(u64::from_le_bytes(r.array()));
        let request = match r.take(1)[0] {
            1 => Request::Put { key: r.string(), value: r.string() },
            2 => Request::Delete { key: r.string() },
            3 => bincode_decode(&data[r.at..], "an entry's request"),
            tag => panic!("entry with unknown request tag {tag}: every entry is one we encoded"),
        };
        Some(Proposal { op, request })
    }
}

/// Entry payloads and snapshot data in bincode's standard configuration (varints, little
/// endian: identical on every platform).
pub(crate) fn bincode_encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec fails only for types whose `Encode` fails; ours never do.
    bincode::encode_to_vec(value, bincode::config::standard()).unwrap_or_else(|_| unreachable!("plain data encodes"))
}

/// Decodes what [`bincode_encode`] wrote. Only the simulator writes these bytes, so a failure
/// is a bug; the panic names `what` (the error's own text is left out: its formatting code
/// would cost the page's wasm more than it tells here).
pub(crate) fn bincode_decode<T: bincode::Decode<()>>(data: &[u8], what: &str) -> T {
    match bincode::decode_from_slice(data, bincode::config::standard()) {
        Ok((value, _)) => value,
        Err(_) => panic!("{what} does not decode: every payload is one the simulator encoded"),
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.data[self.at..self.at + n];
        self.at += n;
        s
    }
    fn string(&mut self) -> String {
        let len = u32::from_le_bytes(self.array()) as usize;
        must(String::from_utf8(self.take(len).to_vec()), "we encode UTF-8")
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut bytes = [0; N];
        bytes.copy_from_slice(self.take(N));
        bytes
    }
}

/// Keys are at most this long (bytes).
pub const KEY_BYTES_MAX: usize = 256;
/// Values are at most this long (bytes).
pub const VALUE_BYTES_MAX: usize = 4_096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_request_counts_in_words_like_its_command() {
        let txn = Request::Txn { compares: vec![], success: vec![], failure: vec![] };
        assert_eq!(txn.summary(), "txn (0 compares, then 0 ops, else 0 ops)");
        let get = TxnOp::Range(crate::mvcc::RangeRequest { key: "x".into(), ..Default::default() });
        let txn = Request::Txn { compares: vec![], success: vec![get], failure: vec![] };
        assert_eq!(txn.summary(), "txn (0 compares, then 1 op, else 0 ops)");
    }

    #[test]
    fn proposals_round_trip() {
        for request in [
            Request::Put { key: "k".into(), value: "välue".into() },
            Request::Put { key: "k".into(), value: String::new() },
            Request::Delete { key: "a/b".into() },
            Request::Compact { revision: 7 },
            Request::DeleteRange { key: "a".into(), end: "\0".into() },
        ] {
            let p = Proposal { op: OpId(u64::MAX - 3), request };
            assert_eq!(Proposal::decode(&p.encode()), Some(p));
        }
        assert_eq!(Proposal::decode(&[]), None);
    }

    use crate::mvcc::{Compare, CompareOp, CompareTarget, RangeRequest, TxnOp};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), Just("\0".to_string()), "[a-zé/\\-\\x00]{0,6}"]
    }

    fn txn_op() -> impl Strategy<Value = TxnOp> {
        prop_oneof![
            (text(), text(), any::<u64>(), any::<usize>(), any::<bool>()).prop_map(
                |(key, end, rev, limit, count_only)| {
                    TxnOp::Range(RangeRequest { key, end, rev, limit, count_only })
                }
            ),
            (text(), text(), any::<u64>()).prop_map(|(key, value, lease)| TxnOp::Put { key, value, lease }),
            (text(), text()).prop_map(|(key, end)| TxnOp::DeleteRange { key, end }),
        ]
    }

    fn compare() -> impl Strategy<Value = Compare> {
        let target = prop_oneof![
            Just(CompareTarget::Value),
            Just(CompareTarget::Version),
            Just(CompareTarget::CreateRevision),
            Just(CompareTarget::ModRevision)
        ];
        let op = prop_oneof![
            Just(CompareOp::Equal),
            Just(CompareOp::NotEqual),
            Just(CompareOp::Greater),
            Just(CompareOp::Less)
        ];
        (text(), target, op, text()).prop_map(|(key, target, op, operand)| Compare { key, target, op, operand })
    }

    fn request() -> impl Strategy<Value = Request> {
        prop_oneof![
            (text(), text()).prop_map(|(key, value)| Request::Put { key, value }),
            text().prop_map(|key| Request::Delete { key }),
            (text(), text()).prop_map(|(key, end)| Request::DeleteRange { key, end }),
            (
                prop::collection::vec(compare(), 0..3),
                prop::collection::vec(txn_op(), 0..3),
                prop::collection::vec(txn_op(), 0..3)
            )
                .prop_map(|(compares, success, failure)| Request::Txn { compares, success, failure }),
            any::<u64>().prop_map(|revision| Request::Compact { revision }),
            (text(), text(), any::<u64>()).prop_map(|(key, value, lease)| Request::PutWithLease { key, value, lease }),
            (any::<u64>(), any::<i64>()).prop_map(|(id, ttl_ms)| Request::LeaseGrant { id, ttl_ms }),
            any::<u64>().prop_map(|id| Request::LeaseRevoke { id }),
            prop::collection::vec((any::<u64>(), any::<i64>()), 0..4)
                .prop_map(|checkpoints| Request::LeaseCheckpoint { checkpoints }),
        ]
    }

    proptest! {
        /// Every request, whichever of the two encodings it takes, decodes to itself.
        #[test]
        fn every_request_round_trips(request in request(), op in any::<u64>()) {
            let p = Proposal { op: OpId(op), request };
            prop_assert_eq!(Proposal::decode(&p.encode()), Some(p));
        }
    }
}
