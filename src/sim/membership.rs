//! Membership commands: adding a node as a learner, promoting and removing members, and
//! moving leadership off a leader that is being removed before its removal is proposed.
//!
//! Every change is proposed to the leader, as etcd's member API is served by it. A change that
//! removes the leader waits: the leader first hands leadership to another voter that stays
//! (etcd's move-leader), and the new leader proposes the change once it may (raft-rs allows one
//! unapplied change at a time, and a new leader counts everything it holds as pending until it
//! has applied it).

use super::Sim;
use crate::command::Command;
use crate::error::CommandError;
use crate::event::Event;
use crate::membership::{Member, Membership, MembershipChange};
use crate::types::NodeId;

fn refuse(why: String) -> Result<(), CommandError> {
    Err(CommandError::Refused(why))
}

impl Sim {
    /// The configuration the cluster runs under: the leader's (or, with none, the newest any
    /// running node has applied).
    pub fn membership(&self) -> Membership {
        let leader = self.leader().and_then(|l| self.node(l).membership());
        let newest =
            || self.world.nodes.iter().filter_map(|n| n.membership().map(|m| (n.applied(), m))).max_by_key(|(a, _)| *a);
        leader.or_else(|| newest().map(|(_, m)| m)).cloned().unwrap_or_default()
    }

    /// The refusals of a membership command that depend on the cluster's state.
    pub(super) fn check_membership(&self, command: &Command) -> Result<(), CommandError> {
        let Some(leader) = self.leader() else {
            return refuse("there is no leader to propose the change to".into());
        };
        if self.machine(leader).paused {
            return refuse(format!("the leader {leader} is paused"));
        }
        if self.membership_pending.is_some() {
            return refuse("a change waits for leadership to move off a node it removes".into());
        }
        let change = match command {
            Command::AddLearner if self.world.nodes.len() >= crate::config::NODES_MAX => {
                return refuse(format!(
                        "n1..n{} are all in use: the page runs at most {} nodes, and a removed node's id is never reused (etcd refuses it too)",
                        crate::config::NODES_MAX,
                        crate::config::NODES_MAX
                    ),
                );
            }
            Command::AddLearner => {
                MembershipChange { add_learner: Some(NodeId(self.world.nodes.len() as u64 + 1)), ..Default::default() }
            }
            Command::ChangeMembership { promote, remove } => {
                MembershipChange { promote: promote.clone(), remove: remove.clone(), add_learner: None }
            }
            _ => return Ok(()),
        };
        if let Some(why) = self.node(leader).membership_refusal(&change) {
            return refuse(why);
        }
        if change.remove.contains(&leader) && self.successor(leader, &change.remove).is_none() {
            return refuse(format!("{leader} leads and no running voter that stays could take over from it"));
        }
        Ok(())
    }

    /// A running, unpaused voter that the change does not remove, the most up to date first.
    fn successor(&self, leader: NodeId, remove: &[NodeId]) -> Option<NodeId> {
        let members = self.node(leader).membership()?;
        members
            .all_voters()
            .into_iter()
            .filter(|n| *n != leader && !remove.contains(n))
            .filter(|n| !self.node(*n).is_crashed() && !self.machine(*n).paused)
            .max_by_key(|n| (self.node(leader).matched(*n).unwrap_or(0), std::cmp::Reverse(n.0)))
    }

    /// Carries out a membership command that passed its checks; returns what to add to its
    /// summary.
    pub(super) fn execute_membership(&mut self, command: Command) -> String {
        let Some(leader) = self.leader() else { return String::new() };
        let change = match command {
            Command::AddLearner => {
                let node = self.world.add_node(&self.config, self.now);
                self.recorder.add_node();
                let local = self.local_time(node);
                self.schedule_tick(node, local.plus_us(self.tick_us()));
                MembershipChange { add_learner: Some(node), ..Default::default() }
            }
            Command::ChangeMembership { promote, remove } => MembershipChange { promote, remove, add_learner: None },
            _ => return String::new(),
        };
        if change.remove.contains(&leader) {
            let Some(to) = self.successor(leader, &change.remove) else { return String::new() };
            self.membership_pending = Some(change);
            self.hand_over(leader, to);
            return format!(": {leader} first hands leadership to {to}");
        }
        let proposed = self.propose_membership(leader, &change);
        match (proposed, change.add_learner) {
            (Err(why), _) => format!(": refused: {why}"),
            (Ok(()), Some(node)) => format!(": {node} started"),
            (Ok(()), None) => String::new(),
        }
    }

    fn propose_membership(&mut self, leader: NodeId, change: &MembershipChange) -> Result<(), String> {
        let local = self.local_time(leader);
        let world = &mut self.world;
        let result = world.nodes[leader.index()].propose_membership(
            change,
            &self.config,
            local,
            world.out.get_or_insert_default(),
        );
        self.flush_output(leader);
        result
    }

    fn hand_over(&mut self, leader: NodeId, to: NodeId) {
        let local = self.local_time(leader);
        let world = &mut self.world;
        world.nodes[leader.index()].transfer_leader(to, &self.config, local, world.out.get_or_insert_default());
        self.flush_output(leader);
    }

    /// A change waiting for leadership to move: proposed by `node` once it leads and may; if
    /// the node to be removed leads again (the transfer failed), it hands over again. Taken
    /// out while it is worked on, so the outputs this flushes do not come back here.
    pub(super) fn advance_pending_membership(&mut self, node: NodeId) {
        if !self.node(node).is_leader() || self.leader() != Some(node) {
            return;
        }
        let Some(change) = self.membership_pending.take() else { return };
        if change.remove.contains(&node) {
            if self.node(node).transferring() {
                self.membership_pending = Some(change);
            } else if let Some(to) = self.successor(node, &change.remove) {
                self.hand_over(node, to);
                self.membership_pending = Some(change);
            } else {
                let summary = format!("change membership ({change}) dropped: no voter that stays can lead");
                self.emit(Event::CommandApplied { summary });
            }
            return;
        }
        if self.node(node).membership_change_pending() {
            // A new leader counts everything it holds as pending until it has applied it.
            self.membership_pending = Some(change);
            return;
        }
        match self.node(node).membership_refusal(&change) {
            Some(why) => self.emit(Event::CommandApplied {
                summary: format!("change membership ({change}) refused at {node}: {why}"),
            }),
            None => {
                let summary = match self.propose_membership(node, &change) {
                    Ok(()) => format!("change membership ({change}) proposed by {node}"),
                    Err(why) => format!("change membership ({change}) refused at {node}: {why}"),
                };
                self.emit(Event::CommandApplied { summary });
            }
        }
    }

    /// A node applied a configuration change; the leader's is the cluster's.
    pub(super) fn membership_applied(&mut self, node: NodeId, membership: Membership) {
        if self.node(node).is_leader() {
            self.emit(Event::MembershipChanged { node, membership: membership.to_string() });
        }
    }

    /// Each node's place in the cluster's configuration.
    pub fn member(&self, node: NodeId) -> Member {
        self.membership().member(node)
    }
}
