//! Client operations: how a client's request reaches a node (or finds it down or paused),
//! its deadline, and how it ends in the history.

use super::agenda::Due;
use super::workload::WorkloadOp;
use super::world::Inbound;
use super::Sim;
use crate::client_op::ClientOp;
use crate::command::Command;
use crate::event::OpOutcome;
use crate::history::OpKind;
use crate::network::Payload;
use crate::node::HeldKeepAlive;
use crate::request::{Proposal, Request};
use crate::types::KeyLeaseId;
use crate::types::{NodeId, OpId};

impl Sim {
    /// Starts the client operation `command` (one for which [`Command::is_client_op`]).
    pub(super) fn execute_client(&mut self, command: Command) -> OpId {
        let Command::Client { node, op } = command else {
            unreachable!("{} is not a client operation", command.summary())
        };
        match op {
            // A log read goes through raft like a write, and is answered where it applies.
            read if read.read_mode() == Some(crate::read::ReadMode::Log) => self.invoke_write(node, read),
            read if read.is_read() => self.invoke_read(node, read),
            ClientOp::KeyLeaseKeepAlive { id } => self.keep_alive(node, id),
            mut write => {
                self.world.nodes[node.index()].assign_key_lease_id(&mut write);
                self.invoke_write(node, write)
            }
        }
    }

    /// The client's deadline for `op`, one client timeout from now.
    fn set_deadline(&mut self, op: OpId) {
        let deadline = self.now.plus_us(u64::from(self.config.client_timeout_ms) * 1_000);
        self.agenda.push(deadline, Due::OpTimeout(op));
    }

    /// Starts a write: it goes through raft (a follower forwards it to the leader).
    fn invoke_write(&mut self, node: NodeId, write: ClientOp) -> OpId {
        let op = self.recorder.invoke(self.now, node, OpKind::Client(write.clone()));
        self.set_deadline(op);
        let proposal = Proposal { op, request: Request::Client(write) };
        if self.node(node).is_crashed() {
            self.complete(op, OpOutcome::Failed { reason: format!("{node} is down: connection refused") });
        } else if self.machine(node).paused {
            self.world.machines[node.index()].enqueue(Inbound::Propose(proposal));
        } else {
            self.propose(node, proposal);
        }
        op
    }

    /// Starts a read (a key, a range, a read-only transaction) at `node`'s read paths.
    fn invoke_read(&mut self, node: NodeId, query: ClientOp) -> OpId {
        let op = self.recorder.invoke(self.now, node, OpKind::Client(query.clone()));
        self.set_deadline(op);
        if self.node(node).is_crashed() {
            self.complete(op, OpOutcome::Failed { reason: format!("{node} is down: connection refused") });
        } else if self.machine(node).paused {
            let local = self.local_time(node);
            let note = format!("{node} is paused: the request waits in its inbox");
            self.recorder.history.read_step(op, self.now, local, note);
            self.world.machines[node.index()].enqueue(Inbound::Read { op, query });
        } else {
            self.read(node, op, query);
        }
        op
    }

    /// A keep-alive is served by the leader's lessor on its clock, without raft. Sent to a
    /// follower, it is forwarded to the leader that follower knows, over the network (as
    /// etcd's server forwards `LeaseKeepAlive`), and answered when the leader's answer comes
    /// back; a lost forward leaves the client waiting until its timeout. A paused node takes
    /// the request when it resumes.
    fn keep_alive(&mut self, node: NodeId, id: KeyLeaseId) -> OpId {
        let op = self.recorder.invoke(self.now, node, OpKind::Client(ClientOp::KeyLeaseKeepAlive { id }));
        if self.node(node).is_crashed() {
            let reason = format!("{node} is down: connection refused");
            self.complete(op, OpOutcome::Failed { reason });
        } else if self.machine(node).paused {
            self.set_deadline(op);
            self.world.machines[node.index()].enqueue(Inbound::KeepAlive { op, id });
        } else {
            self.serve_keep_alive(node, op, id);
        }
        op
    }

    /// Serves keep-alive `op` at running node `node`. The answer carries the revision of `node`
    /// as it takes the request (etcd's `LeaseKeepAlive` fills the response header first).
    pub(super) fn serve_keep_alive(&mut self, node: NodeId, op: OpId, id: KeyLeaseId) {
        let n = self.node(node);
        let leader = n.leader();
        let header_revision = n.kv().map_or(0, |kv| kv.revision());
        if leader != NodeId::NONE && leader != node {
            self.set_deadline(op);
            self.send_payload(node, leader, Payload::KeepAlive { op, id, header_revision });
        } else {
            let request = HeldKeepAlive { op, id, reply_to: node, header_revision };
            match self.renew_key_lease(node, request) {
                Some(result) => self.answer_keep_alive(op, result, header_revision),
                // Held (a leadership check, an expired key lease's revoke): the client waits,
                // up to its timeout.
                None => self.set_deadline(op),
            }
        }
    }

    /// Renews a key lease at `node`'s lessor (the primary's, or it says why not); `None`
    /// while the node holds the keep-alive (see [`HeldKeepAlive`]).
    pub(super) fn renew_key_lease(&mut self, node: NodeId, request: HeldKeepAlive) -> Option<Result<i64, String>> {
        if self.node(node).is_crashed() {
            return Some(Err(format!("{node} is down")));
        }
        let local = self.local_time(node);
        let world = &mut self.world;
        let out = world.out.get_or_insert_default();
        let result = world.nodes[node.index()].key_lease_keep_alive(request, &self.config, local, out);
        self.flush_output(node);
        result
    }

    /// Sends the answer of a keep-alive served at `node` to the node its client reached.
    pub(super) fn reply_keep_alive(&mut self, node: NodeId, request: HeldKeepAlive, result: Result<i64, String>) {
        let HeldKeepAlive { op, reply_to, header_revision, .. } = request;
        if reply_to == node {
            self.answer_keep_alive(op, result, header_revision);
        } else {
            self.send_payload(node, reply_to, Payload::KeepAliveAnswer { op, result, header_revision });
        }
    }

    /// Completes keep-alive `op` with the lessor's answer, stamped `header_revision`.
    pub(super) fn answer_keep_alive(&mut self, op: OpId, result: Result<i64, String>, header_revision: u64) {
        let outcome = match result {
            Ok(_) => OpOutcome::Ok { revision: header_revision },
            Err(reason) => OpOutcome::Failed { reason },
        };
        self.complete(op, outcome);
    }

    pub(super) fn read(&mut self, node: NodeId, op: OpId, query: ClientOp) {
        let local = self.local_time(node);
        let world = &mut self.world;
        world.nodes[node.index()].read(op, &query, &self.config, local, world.out.get_or_insert_default());
        self.flush_output(node);
    }

    pub(super) fn propose(&mut self, node: NodeId, proposal: Proposal) {
        let op = proposal.op;
        let local = self.local_time(node);
        let world = &mut self.world;
        let result =
            world.nodes[node.index()].propose(&proposal, &self.config, local, world.out.get_or_insert_default());
        self.flush_output(node);
        if let Err(e) = result {
            let reason = match e {
                raft::Error::ProposalDropped => {
                    format!("{node} knows no leader: raft dropped the proposal")
                }
                // raft-rs refuses a proposal only by dropping it; anything else would be a
                // storage failure, which the simulated disk never has (and raft-rs's error
                // texts would cost the page's wasm for nothing).
                _ => "raft refused the proposal".to_string(),
            };
            self.complete(op, OpOutcome::Failed { reason });
        }
    }

    pub(super) fn complete(&mut self, op: OpId, outcome: OpOutcome) {
        self.recorder.complete(self.now, op, outcome);
    }

    /// Ends every operation pending at `node`: reads certainly failed (they change nothing);
    /// writes may or may not have taken effect.
    pub(super) fn fail_pending_at(&mut self, node: NodeId, reason: &str) {
        let pending: Vec<(OpId, bool)> = self
            .recorder
            .history
            .iter()
            .filter(|r| r.node == node && r.outcome == OpOutcome::Pending)
            .map(|r| (r.id, r.kind.is_read()))
            .collect();
        for (op, is_read) in pending {
            let reason = reason.to_string();
            let outcome = if is_read { OpOutcome::Failed { reason } } else { OpOutcome::Indeterminate { reason } };
            self.complete(op, outcome);
        }
    }

    /// The client gave up waiting for `op`.
    pub(super) fn time_out(&mut self, op: OpId) {
        let Some(record) = self.recorder.history.get(op) else {
            return;
        };
        if record.outcome != OpOutcome::Pending {
            return;
        }
        let node = record.node;
        if record.kind.is_read() {
            if !self.node(node).is_crashed() {
                self.world.nodes[node.index()].abandon_read(op);
            }
            let local = self.local_time(node);
            self.recorder.history.read_step(op, self.now, local, "client timeout: no answer".into());
            self.complete(op, OpOutcome::Failed { reason: "read timed out".into() });
        } else {
            self.complete(op, OpOutcome::Indeterminate { reason: "timed out waiting for the answer".into() });
        }
    }

    /// Issues one background operation and schedules the next.
    pub(super) fn workload_op(&mut self, generation: u64) {
        let Some(gap_us) = self.workload.due(generation) else {
            return;
        };
        self.agenda.push(self.now.plus_us(gap_us), Due::Workload(generation));
        let leader = self.leader();
        match self.workload.draw(&mut self.world.rng, self.world.nodes.len(), leader) {
            WorkloadOp::Put { node, key, value } => {
                self.invoke_write(node, ClientOp::Put { key, value, key_lease: None });
            }
            WorkloadOp::Read { node, key, mode } => {
                self.invoke_read(node, ClientOp::Read { key, mode });
            }
        }
    }
}
