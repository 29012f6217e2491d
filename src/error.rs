//! Typed errors. Every command and configuration is validated before it touches the
//! simulation; an error leaves the simulation exactly as it was.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A configuration value out of range. `field` names the offending field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: &str, message: String) -> ConfigError {
        ConfigError { field: field.to_string(), message }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Why a [`crate::Command`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandError {
    /// Node ids are 1..=node_count.
    UnknownNode { node: u64, node_count: usize },
    /// The command needs a running node and this one is crashed.
    NodeCrashed { node: u64 },
    /// The command needs a crashed node (restart) and this one is running.
    NodeNotCrashed { node: u64 },
    /// A value out of range; the message says which and why.
    Invalid(ConfigError),
    /// The cluster's state refuses it now (as raft-rs or etcd would); the message says why.
    Refused(String),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownNode { node, node_count } => {
                write!(f, "unknown node n{node}: this cluster has nodes n1..n{node_count}")
            }
            CommandError::NodeCrashed { node } => write!(f, "n{node} is crashed; restart it first"),
            CommandError::NodeNotCrashed { node } => write!(f, "n{node} is running, not crashed"),
            CommandError::Invalid(e) => write!(f, "{e}"),
            CommandError::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        CommandError::Invalid(e)
    }
}

/// `result`'s value, where an error would be a bug in this crate: it panics with `why` alone.
/// Unlike `expect`, this keeps the error type's `Debug` (and `std`'s for UTF-8 errors) out of
/// the page's wasm, which has a size budget.
#[track_caller]
pub(crate) fn must<T, E>(result: Result<T, E>, why: &str) -> T {
    match result {
        Ok(value) => value,
        Err(_) => panic!("{why}"),
    }
}
