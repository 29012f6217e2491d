//! What travels through raft: a [`Proposal`] is one log entry's payload — the client
//! operation it answers and the state-machine [`Request`] to apply on every node.

use crate::client_op::ClientOp;
use crate::error::must;
use crate::types::OpId;
use serde::{Deserialize, Serialize};

/// A state change, applied in log order on every node (etcd's `InternalRaftRequest`): a
/// client's write, or the primary lessor's checkpoint of remaining TTLs. The cluster's own
/// writes (an expired key lease's revoke, the auto-compactor's compaction) are client
/// operations proposed by the leader itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub enum Request {
    Client(ClientOp),
    /// The primary's checkpoints of remaining TTLs: (key lease id, remaining ms).
    KeyLeaseCheckpoint {
        checkpoints: Vec<(u64, i64)>,
    },
}

impl Request {
    pub fn summary(&self) -> String {
        match self {
            Request::Client(op) => op.summary(),
            Request::KeyLeaseCheckpoint { checkpoints } => {
                format!("checkpoint {}", crate::client_op::counted(checkpoints.len(), "key lease"))
            }
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
            Request::Client(ClientOp::Put { key, value, key_lease: None }) => {
                out.push(1);
                put_str(&mut out, key);
                put_str(&mut out, value);
            }
            Request::Client(ClientOp::Delete { key }) => {
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
    /// The proposal a log entry carries: `None` for an empty entry and for a configuration
    /// change, whose data is raft-rs's, not ours.
    pub fn of_entry(entry: &raft::eraftpb::Entry) -> Option<Proposal> {
        Proposal::decode(normal_data(entry))
    }

    pub fn decode(data: &[u8]) -> Option<Proposal> {
        if data.is_empty() {
            return None;
        }
        let mut r = Reader { data, at: 0 };
        let op = OpId(u64::from_le_bytes(r.array()));
        let request = match r.take(1)[0] {
            1 => Request::Client(ClientOp::Put { key: r.string(), value: r.string(), key_lease: None }),
            2 => Request::Client(ClientOp::Delete { key: r.string() }),
            3 => bincode_decode(&data[r.at..], "an entry's request"),
            tag => panic!("entry with unknown request tag {tag}: every entry is one we encoded"),
        };
        Some(Proposal { op, request })
    }
}

/// An entry's data if it is one of ours (a normal entry); a configuration change's is empty
/// here.
pub fn normal_data(entry: &raft::eraftpb::Entry) -> &[u8] {
    match entry.get_entry_type() {
        raft::eraftpb::EntryType::EntryNormal => &entry.data,
        _ => &[],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::{Compare, CompareOp, CompareTarget, RangeRequest, TxnOp};
    use crate::read::ReadMode;
    use crate::types::KeyLeaseId;
    use proptest::prelude::*;

    fn client(op: ClientOp) -> Request {
        Request::Client(op)
    }

    #[test]
    fn a_request_is_summed_up_as_its_client_operation() {
        let txn = client(ClientOp::Txn { compares: vec![], success: vec![], failure: vec![] });
        assert_eq!(txn.summary(), "txn (0 compares, then 0 ops, else 0 ops)");
        assert_eq!(Request::KeyLeaseCheckpoint { checkpoints: vec![(1, 5)] }.summary(), "checkpoint 1 key lease");
    }

    #[test]
    fn proposals_round_trip() {
        for request in [
            client(ClientOp::Put { key: "k".into(), value: "välue".into(), key_lease: None }),
            client(ClientOp::Put { key: "k".into(), value: String::new(), key_lease: KeyLeaseId::new(4) }),
            client(ClientOp::Delete { key: "a/b".into() }),
            client(ClientOp::Compact { revision: 7 }),
            client(ClientOp::DeleteRange { key: "a".into(), end: "\0".into() }),
        ] {
            let p = Proposal { op: OpId(u64::MAX - 3), request };
            assert_eq!(Proposal::decode(&p.encode()), Some(p));
        }
        assert_eq!(Proposal::decode(&[]), None);
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), Just("\0".to_string()), "[a-zé/\\-\\x00]{0,6}"]
    }

    fn key_lease() -> impl Strategy<Value = Option<KeyLeaseId>> {
        any::<u64>().prop_map(KeyLeaseId::new)
    }

    fn id() -> impl Strategy<Value = KeyLeaseId> {
        (1..u64::MAX).prop_map(|n| KeyLeaseId::new(n).unwrap())
    }

    fn txn_op() -> impl Strategy<Value = TxnOp> {
        prop_oneof![
            (text(), text(), any::<u64>(), any::<usize>(), any::<bool>()).prop_map(
                |(key, end, rev, limit, count_only)| {
                    TxnOp::Range(RangeRequest { key, end, rev, limit, count_only })
                }
            ),
            (text(), text(), key_lease()).prop_map(|(key, value, key_lease)| TxnOp::Put { key, value, key_lease }),
            (text(), text()).prop_map(|(key, end)| TxnOp::DeleteRange { key, end }),
        ]
    }

    fn compare() -> impl Strategy<Value = Compare> {
        let target = prop_oneof![
            Just(CompareTarget::Value),
            Just(CompareTarget::Version),
            Just(CompareTarget::CreateRevision),
            Just(CompareTarget::KeyLease),
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
            (text(), text(), key_lease()).prop_map(|(key, value, key_lease)| client(ClientOp::Put {
                key,
                value,
                key_lease
            })),
            text().prop_map(|key| client(ClientOp::Delete { key })),
            (text(), text()).prop_map(|(key, end)| client(ClientOp::DeleteRange { key, end })),
            (
                prop::collection::vec(compare(), 0..3),
                prop::collection::vec(txn_op(), 0..3),
                prop::collection::vec(txn_op(), 0..3)
            )
                .prop_map(|(compares, success, failure)| client(ClientOp::Txn {
                    compares,
                    success,
                    failure
                })),
            any::<u64>().prop_map(|revision| client(ClientOp::Compact { revision })),
            (proptest::option::of(id()), any::<i64>())
                .prop_map(|(id, ttl)| client(ClientOp::KeyLeaseGrant { id, ttl })),
            id().prop_map(|id| client(ClientOp::KeyLeaseRevoke { id })),
            text().prop_map(|key| client(ClientOp::Read { key, mode: ReadMode::Serializable })),
            prop::collection::vec((any::<u64>(), any::<i64>()), 0..4)
                .prop_map(|checkpoints| Request::KeyLeaseCheckpoint { checkpoints }),
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
