//! What travels through raft: a [`Proposal`] is one log entry's payload — the client
//! operation it answers and the state-machine [`Request`] to apply on every node.

use crate::types::OpId;
use serde::{Deserialize, Serialize};

/// A state change, applied in log order on every node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Request {
    Put { key: String, value: String },
    Delete { key: String },
}

impl Request {
    pub fn summary(&self) -> String {
        match self {
            Request::Put { key, value } => format!("put {key}={value}"),
            Request::Delete { key } => format!("delete {key}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The client operation waiting for this entry (completed by the node it was sent to).
    pub op: OpId,
    pub request: Request,
}

impl Proposal {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("proposals always serialize")
    }
    /// Decodes an entry's payload. Empty payloads (a new leader's no-op) decode to `None`.
    pub fn decode(data: &[u8]) -> Option<Proposal> {
        if data.is_empty() {
            return None;
        }
        Some(serde_json::from_slice(data).expect("every non-empty entry is a proposal we encoded"))
    }
}

/// Keys are at most this long (bytes).
pub const KEY_BYTES_MAX: usize = 256;
/// Values are at most this long (bytes).
pub const VALUE_BYTES_MAX: usize = 4_096;
