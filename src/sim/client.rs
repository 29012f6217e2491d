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
use crate::node::{KeepAliveRequest, KeepAliveResult};
use crate::request::{Proposal, Request};
use crate::types::KeyLeaseId;
use crate::types::{NodeId, OpId};

/// How long the node a client reached waits before it tries a keep-alive again (etcd's
/// server: 50 ms).
const KEEP_ALIVE_RETRY_US: u64 = 50_000;

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
            self.world.machines[node.index()].enqueue(Inbound::KeepAlive { op, id, header_revision: None });
        } else {
            self.serve_keep_alive(node, op, id, None);
            if self.is_pending(op) {
                // Forwarded, held or waiting for a leader: the client waits up to its timeout.
                self.set_deadline(op);
            }
        }
        op
    }

    /// Serves keep-alive `op` at running node `node`, the one its client reached: at its own
    /// lessor if it leads, else forwarded to the leader it knows; without a leader it tries
    /// again shortly. `header_revision`: `None` for the client's request as it arrives (the
    /// answer then carries `node`'s revision now, as etcd's `LeaseKeepAlive` fills the
    /// response header first), else the revision kept from then, for a retry.
    pub(super) fn serve_keep_alive(&mut self, node: NodeId, op: OpId, id: KeyLeaseId, header_revision: Option<u64>) {
        let n = self.node(node);
        let leader = n.leader();
        let direct = header_revision.is_none();
        let header_revision = header_revision.unwrap_or_else(|| n.kv().map_or(0, |kv| kv.revision()));
        if leader == NodeId::NONE {
            // etcd's server waits for a leader (`waitLeader`).
            self.retry_keep_alive(node, op, id, header_revision);
        } else if leader != node {
            self.send_payload(node, leader, Payload::KeepAlive { op, id, header_revision });
        } else {
            let request = KeepAliveRequest { op, id, reply_to: node, header_revision, direct };
            // `None`: held (a leadership check, an expired key lease's revoke).
            if let Some(result) = self.renew_key_lease(node, request) {
                self.keep_alive_answered(node, request, result);
            }
        }
    }

    /// Whether client operation `op` still waits for its answer.
    fn is_pending(&self, op: OpId) -> bool {
        self.recorder.history.get(op).is_some_and(|r| r.outcome == OpOutcome::Pending)
    }

    /// Tries keep-alive `op` again at `node` in 50 ms (etcd's server sleeps that long between
    /// attempts), while its client still waits.
    fn retry_keep_alive(&mut self, node: NodeId, op: OpId, id: KeyLeaseId, header_revision: u64) {
        let at = self.now.plus_us(KEEP_ALIVE_RETRY_US);
        self.agenda.push(at, Due::KeepAliveRetry { node, op, id, header_revision });
    }

    /// A keep-alive's retry is due at `node`.
    pub(super) fn keep_alive_retry_due(&mut self, node: NodeId, op: OpId, id: KeyLeaseId, header_revision: u64) {
        if !self.is_pending(op) || self.node(node).is_crashed() {
            return;
        }
        if self.machine(node).paused {
            let input = Inbound::KeepAlive { op, id, header_revision: Some(header_revision) };
            self.world.machines[node.index()].enqueue(input);
        } else {
            self.serve_keep_alive(node, op, id, Some(header_revision));
        }
    }

    /// Renews a key lease at `node`'s lessor (the primary's, or it says why not); `None`
    /// while the node holds the keep-alive (see [`KeepAliveRequest`]).
    pub(super) fn renew_key_lease(&mut self, node: NodeId, request: KeepAliveRequest) -> Option<KeepAliveResult> {
        let local = self.local_time(node);
        let world = &mut self.world;
        let out = world.out.get_or_insert_default();
        let result = world.nodes[node.index()].key_lease_keep_alive(request, &self.config, local, out);
        self.flush_output(node);
        result
    }

    /// Sends the answer of a keep-alive served at `node` to the node its client reached.
    pub(super) fn reply_keep_alive(&mut self, node: NodeId, request: KeepAliveRequest, result: KeepAliveResult) {
        let KeepAliveRequest { op, id, reply_to, header_revision, .. } = request;
        if reply_to == node {
            self.keep_alive_answered(node, request, result);
        } else {
            self.send_payload(node, reply_to, Payload::KeepAliveAnswer { op, id, result, header_revision });
        }
    }

    /// The answer reached `node`, the one the client reached: it completes the keep-alive,
    /// or, for "not primary", `node` tries again at the leader.
    pub(super) fn keep_alive_answered(&mut self, node: NodeId, request: KeepAliveRequest, result: KeepAliveResult) {
        let KeepAliveRequest { op, id, header_revision, .. } = request;
        let outcome = match result {
            Ok(_) => OpOutcome::Ok { revision: header_revision },
            Err(refusal) if refusal.retry => return self.retry_keep_alive(node, op, id, header_revision),
            Err(refusal) => OpOutcome::Failed { reason: refusal.reason },
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
