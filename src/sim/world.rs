//! The world the nodes live in: the nodes themselves, the machine each one runs on (its
//! clock, whether its process is paused, its tick schedule and the inputs queued while it is
//! paused), the network between them and the seeded randomness behind every chance event.
//! Only the simulator touches a machine; a node sees its own clock's reading, passed in.

use crate::clock::{NodeClock, RATE_PERFECT_PPM};
use crate::config::ClusterConfig;
use crate::network::{Network, Payload};
use crate::node::{Node, NodeOutput};
use crate::random::SimRng;
use crate::request::Proposal;
use crate::time::{LocalTime, SimTime};
use crate::types::{NodeId, OpId};
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// Inputs queued at a paused process, handled in arrival order when it resumes.
const PAUSED_INBOX_MAX: usize = 100_000;

/// An input that reached a paused process.
#[derive(Clone, Debug)]
pub(super) enum Inbound {
    Message {
        from: NodeId,
        payload: Payload,
    },
    Propose(Proposal),
    Read {
        op: OpId,
        query: crate::client_op::ClientOp,
    },
    Watch {
        id: crate::watch::WatchId,
        request: crate::watch::WatchRequest,
    },
    WatchProgress(crate::watch::WatchId),
    /// A keep-alive the client sent (`header_revision` `None`) or its retry.
    KeepAlive {
        op: OpId,
        id: crate::types::KeyLeaseId,
        header_revision: Option<u64>,
    },
}

/// The machine a node runs on: what the simulator keeps about it that the node itself does
/// not know.
#[derive(Clone, Debug)]
pub struct Machine {
    pub clock: NodeClock,
    /// The process is stopped: no ticks, inputs queue up in `inbox`.
    pub paused: bool,
    /// Incremented whenever the tick schedule changes; stale tick events carry an old value.
    pub(super) tick_generation: u64,
    /// Local time at which the next raft tick is due.
    pub(super) next_tick_local: LocalTime,
    pub(super) inbox: VecDeque<Inbound>,
}

impl Machine {
    /// Queues an input for when the process resumes (beyond the bound, it is lost).
    pub(super) fn enqueue(&mut self, input: Inbound) {
        if self.inbox.len() < PAUSED_INBOX_MAX {
            self.inbox.push_back(input);
        }
    }
}

/// A clone is a full, independent copy (nodes get their own disks).
#[derive(Clone)]
pub(super) struct World {
    pub rng: SimRng,
    pub nodes: Vec<Node>,
    /// One per node, in the same order.
    pub machines: Vec<Machine>,
    pub network: Network,
    /// What the node last called produced (kept to reuse its buffers). `None` only while the
    /// simulator works through it: taking it out and putting it back moves a pointer (boxed:
    /// moving the 232-byte struct twice per call was ≈1.7 % of a write-heavy run's
    /// instructions), where swapping in an empty one to drop later cost ≈2 %.
    pub out: Option<Box<NodeOutput>>,
}

impl World {
    /// The cluster at true time zero: every node's election timeouts from its own stream
    /// drawn from `seed`.
    pub fn new(seed: u64, config: &ClusterConfig) -> World {
        let mut rng = SimRng::seed_from_u64(seed);
        let voters: Vec<u64> = (1..=config.node_count as u64).collect();
        let nodes: Vec<Node> = voters
            .iter()
            .map(|&id| {
                let election_seed = rng.gen::<u64>();
                Node::new(NodeId(id), voters.clone(), config, election_seed)
            })
            .collect();
        let machine = Machine {
            clock: NodeClock::new(0, RATE_PERFECT_PPM),
            paused: false,
            tick_generation: 0,
            next_tick_local: LocalTime(0),
            inbox: VecDeque::new(),
        };
        World {
            rng,
            machines: vec![machine; nodes.len()],
            nodes,
            network: Network::new(config.node_count, &config.network),
            out: Some(Box::default()),
        }
    }

    /// Starts one more node (the next id) on a machine with an exact clock reading true time,
    /// linked to every other node by the cluster's default links; `genesis` is the
    /// configuration the cluster was created with.
    pub fn add_node(&mut self, config: &ClusterConfig, now: SimTime) -> NodeId {
        let id = NodeId(self.nodes.len() as u64 + 1);
        let clock = NodeClock::new(0, RATE_PERFECT_PPM);
        let local = clock.local_at(now);
        let genesis: Vec<u64> = (1..=config.node_count as u64).collect();
        let election_seed = self.rng.gen::<u64>();
        self.nodes.push(Node::join(id, genesis, config, election_seed, local));
        self.machines.push(Machine {
            clock,
            paused: false,
            tick_generation: 0,
            next_tick_local: local,
            inbox: VecDeque::new(),
        });
        self.network.grow(&config.network);
        id
    }

    /// `node`'s clock reading at true time `now`.
    pub fn local(&self, node: NodeId, now: SimTime) -> LocalTime {
        self.machines[node.index()].clock.local_at(now)
    }

    /// Splits the nodes into `groups` (the unnamed ones form one more group together): every
    /// link between groups is cut both ways, every link within one healed.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let n = self.nodes.len();
        let mut group = vec![groups.len(); n];
        for (g, members) in groups.iter().enumerate() {
            for m in members {
                group[m.index()] = g;
            }
        }
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    let (from, to) = (NodeId(a as u64 + 1), NodeId(b as u64 + 1));
                    self.network.set_cut(from, to, group[a] != group[b]);
                }
            }
        }
    }

    /// Cuts every link to and from `node`.
    pub fn isolate(&mut self, node: NodeId) {
        for other in 1..=self.nodes.len() as u64 {
            if other != node.0 {
                self.network.set_cut(node, NodeId(other), true);
                self.network.set_cut(NodeId(other), node, true);
            }
        }
    }

    /// The leader of the highest term among running leaders, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.nodes.iter().filter(|n| n.is_leader()).max_by_key(|n| n.term()).map(|n| n.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientOp, ReadMode};

    #[test]
    fn a_partition_cuts_between_groups_and_heals_within() {
        let config = ClusterConfig { node_count: 5, ..ClusterConfig::default() };
        let mut w = World::new(1, &config);
        w.isolate(NodeId(2));
        // {1,2} | {3} | {4,5} (unnamed)
        w.partition(&[vec![NodeId(1), NodeId(2)], vec![NodeId(3)]]);
        let cut = |a: u64, b: u64| w.network.link(NodeId(a), NodeId(b)).cut;
        assert!(!cut(1, 2) && !cut(2, 1), "same group: healed, though 2 was isolated");
        assert!(cut(1, 3) && cut(3, 1) && cut(2, 4) && cut(3, 5));
        assert!(!cut(4, 5) && !cut(5, 4), "the unnamed nodes form one group");
    }

    #[test]
    fn a_paused_machine_keeps_its_inputs_in_order() {
        let mut w = World::new(1, &ClusterConfig::default());
        let m = &mut w.machines[0];
        m.enqueue(Inbound::Read {
            op: OpId(1),
            query: ClientOp::Read { key: "a".into(), mode: ReadMode::Linearizable },
        });
        m.enqueue(Inbound::Read {
            op: OpId(2),
            query: ClientOp::Read { key: "b".into(), mode: ReadMode::Serializable },
        });
        let ops: Vec<OpId> = m
            .inbox
            .iter()
            .map(|i| match i {
                Inbound::Read { op, .. } => *op,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(ops, vec![OpId(1), OpId(2)]);
    }
}
