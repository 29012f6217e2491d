//! Driving the nodes: their ticks on their own clocks, message deliveries, and turning what
//! a node produced into network sends, history updates and trace events.

use super::agenda::Due;
use super::world::Inbound;
use super::Sim;
use crate::decimal::{fixed, signed};
use crate::event::{DropReason, Event, OpOutcome};
use crate::history::AppliedWrite;
use crate::network::{Payload, Sent};
use crate::node::{KeepAliveRequest, NodeOutput};
use crate::read::{parse_context, Context, ReadPath};
use crate::time::LocalTime;
use crate::types::{MsgKind, NodeId, OpId, Role};
use raft::eraftpb::Message;

impl Sim {
    pub(super) fn schedule_tick(&mut self, node: NodeId, target: LocalTime) {
        let machine = &mut self.world.machines[node.index()];
        machine.tick_generation += 1;
        machine.next_tick_local = target;
        let generation = machine.tick_generation;
        let at = machine.clock.true_time_reaching(self.now, target);
        self.agenda.push(at, Due::Tick { node, generation });
    }

    /// Schedules the next tick one tick after the node's current local reading.
    pub(super) fn rearm_tick(&mut self, node: NodeId) {
        let local = self.local_time(node);
        let tick = self.tick_us();
        self.schedule_tick(node, local.plus_us(tick));
    }

    pub(super) fn tick(&mut self, node: NodeId, generation: u64) {
        let machine = self.machine(node);
        if machine.tick_generation != generation || machine.paused || self.node(node).is_crashed() {
            return;
        }
        let local = self.local_time(node);
        let world = &mut self.world;
        world.nodes[node.index()].tick(&self.config, local, world.out.get_or_insert_default());
        self.flush_output(node);
        let next = self.machine(node).next_tick_local.plus_us(self.tick_us());
        self.schedule_tick(node, next);
    }

    pub(super) fn deliver(&mut self, id: u64) {
        let (from, to, kind, lost) = self.world.network.arriving(id);
        let lost = lost.or(self.node(to).is_crashed().then_some(DropReason::NodeDown));
        let paused = self.machine(to).paused;
        self.snapshot_fate(from, to, kind, lost.is_none());
        if let Some(reason) = lost {
            self.world.network.take(id);
            self.emit(Event::MessageDropped { id, from, to, kind, reason });
            return;
        }
        self.emit(Event::MessageDelivered { id, from, to, kind });
        let payload = self.world.network.take(id);
        if paused {
            self.world.machines[to.index()].enqueue(Inbound::Message { from, payload });
        } else {
            self.receive(to, from, payload);
        }
    }

    /// A message reaches running node `to`: raft's go to its raft; a forwarded keep-alive is
    /// served by its lessor and answered; an answer completes the client's keep-alive.
    fn receive(&mut self, to: NodeId, from: NodeId, payload: Payload) {
        match payload {
            Payload::Raft(msg) => self.step_node(to, *msg),
            Payload::KeepAlive { op, id, header_revision } => {
                let request = KeepAliveRequest { op, id, reply_to: from, header_revision, direct: false };
                if let Some(result) = self.renew_key_lease(to, request) {
                    self.reply_keep_alive(to, request, result);
                }
            }
            Payload::KeepAliveAnswer { op, id, result, header_revision } => {
                let request = KeepAliveRequest { op, id, reply_to: to, header_revision, direct: false };
                self.keep_alive_answered(to, request, result);
            }
        }
    }

    /// Once the network has decided a message's fate: a raft snapshot's sender hears of it
    /// (`Node::report_snapshot`).
    fn snapshot_fate(&mut self, from: NodeId, to: NodeId, kind: MsgKind, delivered: bool) {
        if kind == MsgKind::Snapshot {
            self.world.nodes[from.index()].report_snapshot(to, delivered);
        }
    }

    fn step_node(&mut self, node: NodeId, msg: Message) {
        let local = self.local_time(node);
        let world = &mut self.world;
        world.nodes[node.index()].step(msg, &self.config, local, world.out.get_or_insert_default());
        self.flush_output(node);
    }

    pub(super) fn handle_inbound(&mut self, node: NodeId, input: Inbound) {
        match input {
            Inbound::Message { from, payload } => self.receive(node, from, payload),
            Inbound::Propose(proposal) => self.propose(node, proposal),
            Inbound::Read { op, query } => self.read(node, op, query),
            Inbound::Watch { id, request } => self.serve_watch(node, id, request),
            Inbound::WatchProgress(id) => self.serve_watch_progress(node, id),
            Inbound::KeepAlive { op, id, header_revision } => self.serve_keep_alive(node, op, id, header_revision),
        }
    }

    pub(super) fn track_local_reads(&mut self, node: NodeId) {
        let (n, m) = (&self.world.nodes[node.index()], &self.world.machines[node.index()]);
        self.recorder.track_local_reads(self.now, n, &m.clock, &self.config);
    }

    /// Turns what a node produced into network sends, history updates and events.
    pub(super) fn flush_output(&mut self, node: NodeId) {
        self.track_local_reads(node);
        let Some(mut out) = self.world.out.take() else {
            return;
        };
        let now = self.now;
        if let Some((role, term, leader)) = out.role_change.take() {
            self.emit(Event::RoleChanged { node, role, term, leader });
            self.recorder.end_tenure(now, node);
            if role == Role::Leader {
                self.recorder.start_tenure(now, node, term);
            }
        }
        if let Some((index, term)) = out.snapshot_installed.take() {
            self.emit(Event::SnapshotInstalled { node, index, term });
        }
        self.record_applied(node, &mut out);
        if !out.read_notes.is_empty() {
            let local = self.local_time(node);
            for (op, text) in out.read_notes.drain(..) {
                self.recorder.history.read_step(op, now, local, text);
            }
        }
        for (op, path) in out.reads_started.drain(..) {
            self.recorder.history.read_path(op, path);
        }
        self.record_reads_done(node, &mut out);
        if let Some(commit) = out.commit_advanced.take() {
            self.emit(Event::CommitAdvanced { node, commit });
            self.note_entry_lease(node, commit);
        }
        for (id, keys) in out.key_leases_revoked.drain(..) {
            self.recorder.key_lease_revoked(now, id, node, keys);
        }
        if let Some(through) = out.compacted_through.take() {
            self.emit(Event::LogCompacted { node, through });
        }
        if let Some(membership) = out.membership_applied.take() {
            self.membership_applied(node, membership);
        }
        if let Some((from, index, last)) = out.timeout_now_ignored.take() {
            self.emit(Event::TimeoutNowIgnored { node, from, index, last });
        }
        for (from, kind, ticks_left) in out.votes_withheld.drain(..) {
            self.emit(Event::VoteWithheld { node, from, kind, ticks_left });
        }
        let responses = std::mem::take(&mut out.watch_responses);
        for response in responses {
            self.receive_watch(node, response);
        }
        while let Some((request, result)) = out.keep_alives_answered.pop() {
            self.reply_keep_alive(node, request, result);
        }
        for msg in out.messages.drain(..) {
            self.send(msg);
        }
        self.world.out = Some(out);
        if self.membership_pending.is_some() {
            self.advance_pending_membership(node);
        }
    }

    /// Under LeaseGuard, a leader's commit reached a new entry: the diagram draws its lease.
    fn note_entry_lease(&mut self, node: NodeId, index: u64) {
        let Some((end, term)) = self.node(node).committed_lease_end(&self.config) else { return };
        let now = self.now;
        let until = self.clock(node).true_time_reaching(now, end);
        self.recorder.entry_lease(super::EntryLease { node, index, term, committed: now, until });
    }

    /// Entries applied at `node`: their effects go into the history at their first apply
    /// anywhere, and the node they were sent to answers their client.
    fn record_applied(&mut self, node: NodeId, out: &mut NodeOutput) {
        let now = self.now;
        for applied in out.applied_ops.drain(..) {
            // Only an entry's first apply anywhere has something to record; later ones may
            // still answer their client (the node it was sent to).
            let first_apply = applied.index > out.effects_recorded_through;
            out.effects_recorded_through = out.effects_recorded_through.max(applied.index);
            let outcome = match &applied.error {
                None => OpOutcome::Ok { revision: applied.revision },
                Some(reason) => OpOutcome::Failed { reason: reason.clone() },
            };
            if applied.op == OpId(0) {
                // The node's own proposal (a key lease expiry's revoke).
                self.recorder.record_internal(now, node, applied.index, applied.revision, applied.effects);
                continue;
            }
            if let Some(answer) = applied.read {
                // A log read answers its client where it was sent, once the entry applies there.
                if self.recorder.history.get(applied.op).is_some_and(|r| r.node == node) {
                    let value = answer.as_ref().ok().cloned();
                    let history = &mut self.recorder.history;
                    history.read_finished(applied.op, ReadPath::LogRead, Some(applied.index), 0, value, None);
                    let outcome = match answer {
                        Ok(v) => OpOutcome::Ok { revision: v.value.revision },
                        Err(reason) => OpOutcome::Failed { reason },
                    };
                    self.complete(applied.op, outcome);
                }
                continue;
            }
            let history = &mut self.recorder.history;
            if first_apply {
                let write = AppliedWrite {
                    index: applied.index,
                    at: now,
                    revision: applied.revision,
                    effects: applied.effects,
                    result: applied.result,
                };
                history.set_applied(applied.op, write);
            }
            if history.get(applied.op).is_some_and(|r| r.node == node) {
                self.complete(applied.op, outcome);
            }
        }
    }

    /// Reads that finished at `node`: their value, path and outcome go into the history.
    fn record_reads_done(&mut self, node: NodeId, out: &mut NodeOutput) {
        let now = self.now;
        for done in out.reads_done.drain(..) {
            let lag = match (&done.result, done.path) {
                (Ok(v), ReadPath::Serializable) => {
                    let leader_revision = self
                        .leader()
                        .and_then(|l| self.node(l).kv().map(|kv| kv.revision()))
                        .unwrap_or(v.value.revision);
                    Some(leader_revision.saturating_sub(v.value.revision))
                }
                _ => None,
            };
            if matches!(done.path, ReadPath::LeaseRead | ReadPath::RaftLeaseBased) && done.result.is_ok() {
                // The simulator's omniscient footnote: what the serving node could not know.
                let clock = self.clock(node);
                let newest = self
                    .leader()
                    .filter(|l| *l != node)
                    .map_or(String::new(), |l| format!("; newest leader is {l} (term {})", self.node(l).term()));
                let text = format!(
                    "simulator: served at true {now}; {node} clock {}× with offset {} ms{newest}",
                    fixed(f64::from(clock.rate_ppm()) / 1e6, 2),
                    signed(clock.offset_at(now) as f64 / 1_000.0, 1)
                );
                let local = self.local_time(node);
                self.recorder.history.read_step(done.op, now, local, text);
            }
            let value = done.result.as_ref().ok().cloned();
            self.recorder.history.read_finished(done.op, done.path, done.read_index, done.retries, value, lag);
            let outcome = match done.result {
                Ok(v) => OpOutcome::Ok { revision: v.value.revision },
                Err(reason) => OpOutcome::Failed { reason },
            };
            self.complete(done.op, outcome);
        }
    }

    /// The client read a message works for, if it carries a read's ReadIndex context.
    fn read_of(msg: &Message) -> Option<OpId> {
        let ctx: &[u8] =
            if !msg.context.is_empty() { &msg.context } else { msg.entries.first().map_or(&[][..], |e| &e.data[..]) };
        match parse_context(ctx) {
            Some(Context::Read(op)) => Some(op),
            _ => None,
        }
    }

    /// Sends a message of the nodes' servers (not raft's) from `from` to `to`.
    pub(super) fn send_payload(&mut self, from: NodeId, to: NodeId, payload: Payload) {
        self.transmit(from, to, 0, payload);
    }

    /// Sends raft message `msg`; the client read it works for, if any, notes its id, and a
    /// raft snapshot lost at once is reported to its sender.
    fn send(&mut self, msg: Message) {
        let (from, to, term) = (NodeId(msg.from), NodeId(msg.to), msg.term);
        let kind = msg.get_msg_type().into();
        let read = Self::read_of(&msg);
        let sent = self.transmit(from, to, term, Payload::Raft(Box::new(msg)));
        if let Some(op) = read {
            self.recorder.history.read_message(op, sent.id());
        }
        if let Sent::Dropped { .. } = sent {
            self.snapshot_fate(from, to, kind, false);
        }
    }

    /// Puts `payload` on the wire and reports what became of it: sent (and its delivery, and a
    /// duplicate's, scheduled) or dropped.
    fn transmit(&mut self, from: NodeId, to: NodeId, term: u64, payload: Payload) -> Sent {
        let kind = payload.kind();
        let sent = self.world.network.send_payload(self.now, &mut self.world.rng, from, to, payload);
        match &sent {
            Sent::Queued { id, deliver_at, copy } => {
                let (id, deliver_at) = (*id, *deliver_at);
                self.emit(Event::MessageSent { id, from, to, kind, term, deliver_at });
                self.agenda.push(deliver_at, Due::Deliver(id));
                if let Some((copy, copy_at)) = *copy {
                    self.emit(Event::MessageDuplicated { id, copy, deliver_at: copy_at });
                    self.agenda.push(copy_at, Due::Deliver(copy));
                }
            }
            Sent::Dropped { id, reason } => {
                self.emit(Event::MessageDropped { id: *id, from, to, kind, reason: *reason });
            }
        }
        sent
    }
}
