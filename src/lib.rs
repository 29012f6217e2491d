//! # Lease Lab core
//!
//! A deterministic simulation of a raft cluster built from real tikv raft-rs nodes. The core
//! knows nothing of browsers: the page (crate `leaselab-www`) sends [`Command`]s and reads
//! [`Event`]s and plain-data [`Snapshot`]s.
//!
//! ```
//! use leaselab::{ClusterConfig, Command, NodeId, Sim};
//!
//! let mut sim = Sim::new(42, ClusterConfig::default()).unwrap();
//! sim.run_for_ms(3_000);
//! let leader = sim.leader().expect("three healthy nodes elect a leader within 3 s");
//! sim.apply(Command::put(leader, "x", "1")).unwrap();
//! sim.run_for_ms(500);
//! assert!(sim.nodes().iter().all(|n| n.kv().unwrap().get("x").as_deref() == Some("1")));
//! ```

pub mod bench;
pub mod checker;
pub mod client_op;
pub mod clock;
pub mod command;
pub mod compare;
pub mod config;
pub mod decimal;
pub mod error;
pub mod event;
pub mod explain;
pub mod failover;
pub mod history;
pub mod hunt;
pub mod invariants;
pub mod kv;
pub mod leader_lease;
pub mod lease_guard;
pub mod lessor;
pub mod matrix;
pub mod membership;
pub mod mvcc;
pub mod network;
pub mod node;
pub mod order;
pub mod random;
pub mod read;
pub mod reference;
pub mod request;
pub mod scenario;
pub mod share;
pub mod sim;
pub mod size_classes;
pub mod snapshot;
pub mod spacetime;
pub mod storage;
pub mod swarm;
pub mod time;
pub mod timeline;
pub mod types;
pub mod watch;

pub use client_op::ClientOp;
pub use command::Command;
pub use config::{ClusterConfig, CommitBroadcast, LeaderLeaseConfig, LessorConfig, LinkConfig, NODES_MAX};
pub use error::{CommandError, ConfigError};
pub use event::{Event, OpOutcome, TracedEvent};
pub use leader_lease::LeaderLeasePolicy;
pub use read::{ReadMode, ReadPath};
pub use sim::{LeaderTenure, LocalReadSpan, LoggedCommand, Sim};
pub use snapshot::Snapshot;
pub use time::{LocalTime, SimTime};
pub use types::{KeyLeaseId, MsgKind, NodeId, OpId, Role};
pub use watch::{WatchCancel, WatchId, WatchRequest};
