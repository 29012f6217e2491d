//! Reads: the paths a read can take, what each decision was based on, and the
//! values a read returns.

use crate::time::{LocalTime, SimTime};
use crate::types::OpId;
use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub enum ReadMode {
    /// Must reflect every write acknowledged before the read began.
    Linearizable,
    /// Answered from the node's applied state at once; may be stale.
    Serializable,
    /// Proposed through the raft log and answered where it applies, like a write (etcd v2's
    /// `quorum=true` reads): the slowest read, and safe whatever the clocks do.
    Log,
}

/// The path a read took. Shown as a badge on every read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReadPath {
    /// Leader with a valid leader lease on its local clock: answered locally, no messages.
    LeaseRead,
    /// raft-rs `ReadOnlyOption::LeaseBased`: the leader answered without any clock check.
    RaftLeaseBased,
    /// Leader without a valid lease: a ReadIndex heartbeat round, then wait for apply.
    ReadIndex,
    /// Follower: ReadIndex forwarded to the leader, then wait for the local apply.
    ForwardedReadIndex,
    /// Only one voter: the leader's commit index is the read index at once.
    SingleVoter,
    /// Local applied state, no coordination.
    Serializable,
    /// LeaseGuard: a new leader answers on the lease of an earlier term's newest committed
    /// entry, the key not being written by any entry it does not know committed.
    InheritedLeaseRead,
    /// The read went through the raft log as an entry and was answered when it applied.
    LogRead,
}

impl ReadPath {
    pub fn label(self) -> &'static str {
        match self {
            ReadPath::LeaseRead => "lease read",
            ReadPath::RaftLeaseBased => "LeaseBased",
            ReadPath::ReadIndex => "ReadIndex",
            ReadPath::ForwardedReadIndex => "forwarded",
            ReadPath::SingleVoter => "single voter",
            ReadPath::Serializable => "serializable",
            ReadPath::InheritedLeaseRead => "inherited lease",
            ReadPath::LogRead => "log read",
        }
    }
}

/// What a successful read saw.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadValue {
    pub value: Option<String>,
    /// Revision of the write that produced `value` (0 when absent).
    pub mod_revision: u64,
    /// The serving store's revision when it answered.
    pub revision: u64,
}

/// What a node answered a read with: for a key, its value; for a range or a read-only
/// transaction, what it returned in words and, key by key, what its gets saw of the current
/// state (for the linearizability checkers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadAnswer {
    /// The key's value (a range or transaction: none, at the store's revision).
    pub value: ReadValue,
    pub text: Option<String>,
    pub reads: Option<crate::history::TxnReads>,
}

/// A key read's answer.
impl From<ReadValue> for ReadAnswer {
    fn from(value: ReadValue) -> ReadAnswer {
        ReadAnswer { value, text: None, reads: None }
    }
}

/// One decision or step of a read, with the values behind it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadStep {
    pub at: SimTime,
    pub local: LocalTime,
    pub text: String,
}

/// Everything the page shows about how a read was served.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadTrace {
    pub path: Option<ReadPath>,
    pub steps: Vec<ReadStep>,
    pub read_index: Option<u64>,
    pub retries: u32,
    /// Ids of the network messages this read caused (ReadIndex, heartbeats with its context,
    /// their responses).
    pub messages: Vec<u64>,
    /// For serializable reads: how many revisions the serving store was behind the leader's.
    pub revision_lag: Option<u64>,
}

/// Bound on the messages remembered per read.
pub const READ_TRACE_MESSAGES_MAX: usize = 64;

/// ReadIndex contexts: `R` + op id for client reads, `L` + local send time for the safe
/// policy's lease-renewal rounds, `K` + op id for a keep-alive's leadership check.
pub fn read_context(op: OpId) -> Vec<u8> {
    tagged_context(b'R', op.0)
}

pub fn keep_alive_context(op: OpId) -> Vec<u8> {
    tagged_context(b'K', op.0)
}

pub fn renewal_context(sent_at: LocalTime) -> Vec<u8> {
    tagged_context(b'L', sent_at.0 as u64)
}

/// A context's 9 bytes: its kind, then a number (little-endian), as `parse_context` reads them.
fn tagged_context(tag: u8, n: u64) -> Vec<u8> {
    let mut ctx = vec![tag];
    ctx.extend_from_slice(&n.to_le_bytes());
    ctx
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Read(OpId),
    Renewal(LocalTime),
    KeepAlive(OpId),
}

pub fn parse_context(ctx: &[u8]) -> Option<Context> {
    if ctx.len() != 9 {
        return None;
    }
    let n = u64::from_le_bytes(ctx[1..9].try_into().ok()?);
    match ctx[0] {
        b'R' => Some(Context::Read(OpId(n))),
        b'L' => Some(Context::Renewal(LocalTime(n as i64))),
        b'K' => Some(Context::KeepAlive(OpId(n))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_round_trip() {
        assert_eq!(parse_context(&read_context(OpId(7))), Some(Context::Read(OpId(7))));
        assert_eq!(parse_context(&renewal_context(LocalTime(-5))), Some(Context::Renewal(LocalTime(-5))));
        assert_eq!(parse_context(&keep_alive_context(OpId(9))), Some(Context::KeepAlive(OpId(9))));
        assert_eq!(parse_context(b""), None);
        assert_eq!(parse_context(b"X12345678"), None);
    }
}
