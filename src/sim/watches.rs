//! Watches as the client sees them: creating one at a node, cancelling it, asking it for
//! progress, and the log of what each watch received (with when, and from which node), which
//! the page's Watches panel and the space-time diagram show. A client can tell a watch's lag
//! only by its header revisions; the log adds what the simulator knows (the leader's revision).

use super::world::Inbound;
use super::Sim;
use crate::error::{CommandError, ConfigError};
use crate::event::Event;
use crate::mvcc::WatchEvent;
use crate::snapshot::{WatchView, SNAPSHOT_WATCH_EVENTS_MAX};
use crate::time::SimTime;
use crate::types::NodeId;
use crate::watch::{WatchCancel, WatchId, WatchRequest, WatchResponse, WatchResponseKind};
use std::collections::{BTreeMap, VecDeque};

/// Events kept per watch for the page (the counts cover all of them).
pub const WATCH_EVENTS_KEPT: usize = 32;

/// The most watches one run may create.
pub const WATCHES_MAX: u64 = 100_000;

/// One event as a watch received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedEvent {
    pub at: SimTime,
    pub event: WatchEvent,
}

impl ReceivedEvent {
    pub fn revision(&self) -> u64 {
        match &self.event {
            WatchEvent::Put(kv) => kv.mod_revision,
            WatchEvent::Delete { mod_revision, .. } => *mod_revision,
        }
    }
}

/// One watch's life as its client saw it.
#[derive(Clone, Debug)]
pub struct WatchLog {
    pub id: WatchId,
    pub node: NodeId,
    pub request: WatchRequest,
    pub created_at: SimTime,
    /// When and why it ended.
    pub ended: Option<(SimTime, WatchCancel)>,
    pub events_received: u64,
    pub progress_received: u64,
    /// The newest revision of an event it received.
    pub last_event_revision: Option<u64>,
    /// The serving node's revision in the newest response (etcd's header revision): all
    /// the client knows of how current its watch is.
    pub header_revision: u64,
    pub last_response_at: Option<SimTime>,
    /// The newest events, oldest first.
    pub recent: VecDeque<ReceivedEvent>,
    /// A broken guarantee (events out of revision order or repeated), if one was seen.
    pub violation: Option<String>,
}

impl WatchLog {
    pub fn is_active(&self) -> bool {
        self.ended.is_none()
    }
}

/// Every watch of the run.
#[derive(Clone, Debug, Default)]
pub(super) struct WatchLogs {
    pub logs: BTreeMap<WatchId, WatchLog>,
    next: u64,
}

impl WatchLogs {
    fn create(&mut self, now: SimTime, node: NodeId, request: WatchRequest) -> WatchId {
        self.next += 1;
        let id = WatchId(self.next);
        let log = WatchLog {
            id,
            node,
            request,
            created_at: now,
            ended: None,
            events_received: 0,
            progress_received: 0,
            last_event_revision: None,
            header_revision: 0,
            last_response_at: None,
            recent: VecDeque::new(),
            violation: None,
        };
        self.logs.insert(id, log);
        id
    }

    /// Writes down `response`; returns the trace's one-line note of it.
    fn receive(&mut self, now: SimTime, node: NodeId, response: WatchResponse) -> Option<String> {
        let log = self.logs.get_mut(&response.watch)?;
        if log.ended.is_some() {
            return None;
        }
        log.header_revision = response.header_revision;
        log.last_response_at = Some(now);
        let note = match response.kind {
            WatchResponseKind::Created => "created".to_string(),
            WatchResponseKind::Progress => {
                log.progress_received += 1;
                format!("progress: {node} is at revision {}", response.header_revision)
            }
            WatchResponseKind::Canceled(reason) => {
                let note = format!("cancelled: {reason}");
                log.ended = Some((now, reason));
                note
            }
            WatchResponseKind::Events(events) => {
                let count = events.len();
                let first = ReceivedEvent { at: now, event: events[0].clone() }.revision();
                for event in events {
                    let received = ReceivedEvent { at: now, event };
                    let rev = received.revision();
                    if log.violation.is_none() && log.last_event_revision.is_some_and(|last| rev < last) {
                        log.violation =
                            Some(format!("revision {rev} arrived after revision {:?}", log.last_event_revision));
                    }
                    log.last_event_revision = Some(rev);
                    log.events_received += 1;
                    if log.recent.len() == WATCH_EVENTS_KEPT {
                        log.recent.pop_front();
                    }
                    log.recent.push_back(received);
                }
                format!(
                    "{}, revisions {first}–{}",
                    crate::client_op::counted(count, "event"),
                    log.last_event_revision.unwrap_or(first)
                )
            }
        };
        Some(note)
    }
}

impl Sim {
    /// Every watch of the run, in creation order.
    pub fn watches(&self) -> impl DoubleEndedIterator<Item = &WatchLog> {
        self.recorder.watches.logs.values()
    }
    pub fn watch_log(&self, id: WatchId) -> Option<&WatchLog> {
        self.recorder.watches.logs.get(&id)
    }

    /// What the page shows of watch `w`.
    pub(super) fn watch_view(&self, w: &WatchLog) -> WatchView {
        let served = self.node(w.node).kv().map(|kv| kv.revision());
        let leader = self.leader();
        let leader_revision = leader.and_then(|l| self.node(l).kv().map(|kv| kv.revision()));
        let lag = match (served, leader_revision) {
            (Some(s), Some(l)) if w.is_active() => l.saturating_sub(s),
            _ => 0,
        };
        let recent = w
            .recent
            .iter()
            .rev()
            .take(SNAPSHOT_WATCH_EVENTS_MAX)
            .map(|e| {
                let what = match &e.event {
                    WatchEvent::Put(kv) => format!("put {}={}", kv.key, kv.value),
                    WatchEvent::Delete { key, .. } => format!("delete {key}"),
                };
                (e.at, what, e.revision())
            })
            .collect();
        WatchView {
            id: w.id,
            node: w.node,
            request: w.request.clone(),
            ended: w.ended.as_ref().map(|(_, why)| why.to_string()),
            events_received: w.events_received,
            progress_received: w.progress_received,
            header_revision: w.header_revision,
            lag,
            status: self.watch_status(w, served, leader.zip(leader_revision), lag),
            recent,
        }
    }

    /// Why watch `w` is where it is: what its client cannot see.
    fn watch_status(&self, w: &WatchLog, served: Option<u64>, leader: Option<(NodeId, u64)>, lag: u64) -> String {
        if let Some((at, why)) = &w.ended {
            return format!("ended at {at}: {why}");
        }
        let node = w.node;
        let Some(served) = served else {
            return format!("{node} is down");
        };
        if self.machine(node).paused {
            return format!("{node} is paused: it applies nothing, so this watch hears nothing (and cannot say so)");
        }
        let known = self.node(node).leader();
        let behind = crate::client_op::counted(lag as usize, "revision");
        match leader {
            Some((l, rev)) if lag > 0 && known == NodeId::NONE => format!(
                "{node} knows no leader and has applied revision {served}; leader {l} is at {rev}. The watch stays \
                 open and silent, {behind} behind: only a watch with require leader is cancelled"
            ),
            Some((l, rev)) if lag > 0 && self.world.network.link(l, node).cut => format!(
                "{node} is cut off from leader {l}: applied revision {served}, the leader is at {rev} ({behind} \
                 behind). The watch says nothing of it"
            ),
            Some((l, rev)) if lag > 0 => {
                format!("{node} has applied revision {served}; leader {l} is at {rev}: {behind} still on their way")
            }
            Some((l, _)) => format!("up to date: {node} has applied everything leader {l} has (revision {served})"),
            None => format!("no leader: {node} is at revision {served}, and nothing new can commit"),
        }
    }

    /// The watch a cancel or progress request names, if it is still running.
    pub(super) fn check_watch(&self, id: WatchId) -> Result<(), CommandError> {
        let refuse = |message: String| Err(CommandError::Invalid(ConfigError::new("watch", message)));
        match self.watch_log(id) {
            None => refuse(format!("no watch {id}")),
            Some(WatchLog { ended: Some((_, why)), .. }) => refuse(format!("watch {id} already ended ({why})")),
            Some(_) => Ok(()),
        }
    }

    /// Refuses a watch past the run's limit.
    pub(super) fn check_watch_room(&self) -> Result<(), CommandError> {
        if self.recorder.watches.next >= WATCHES_MAX {
            let message = format!("a run creates at most {WATCHES_MAX} watches");
            return Err(CommandError::Invalid(ConfigError::new("watch", message)));
        }
        Ok(())
    }

    /// Logs a new watch at `node`; [`Sim::open_watch`] then sends its request.
    pub(super) fn new_watch(&mut self, node: NodeId, request: WatchRequest) -> WatchId {
        self.recorder.watches.create(self.now, node, request)
    }

    /// A client opens watch `id` at `node` (a paused node takes the request when it resumes).
    pub(super) fn open_watch(&mut self, node: NodeId, id: WatchId, request: WatchRequest) {
        if self.node(node).is_crashed() {
            self.receive_watch(node, Self::ended(id, WatchCancel::NodeStopped));
        } else if self.machine(node).paused {
            self.world.machines[node.index()].enqueue(Inbound::Watch { id, request });
        } else {
            self.serve_watch(node, id, request);
        }
    }

    fn ended(watch: WatchId, reason: WatchCancel) -> WatchResponse {
        WatchResponse { watch, header_revision: 0, kind: WatchResponseKind::Canceled(reason) }
    }

    pub(super) fn serve_watch(&mut self, node: NodeId, id: WatchId, request: WatchRequest) {
        let world = &mut self.world;
        world.nodes[node.index()].watch(id, request, world.out.get_or_insert_default());
        self.flush_output(node);
    }

    /// The client cancels watch `id` (at once: closing its side needs no answer).
    pub(super) fn cancel_watch(&mut self, id: WatchId) {
        let Some(node) = self.watch_log(id).map(|w| w.node) else {
            return;
        };
        self.world.nodes[node.index()].cancel_watch(id);
        // etcd answers a cancel request with the serving node's revision in the header.
        let header_revision = self.node(node).kv().map_or(0, |kv| kv.revision());
        let kind = WatchResponseKind::Canceled(WatchCancel::Client);
        self.receive_watch(node, WatchResponse { watch: id, header_revision, kind });
    }

    /// The client asks watch `id` for progress (a paused node answers when it resumes).
    pub(super) fn request_watch_progress(&mut self, id: WatchId) {
        let Some(node) = self.watch_log(id).map(|w| w.node) else {
            return;
        };
        if self.machine(node).paused {
            self.world.machines[node.index()].enqueue(Inbound::WatchProgress(id));
        } else {
            self.serve_watch_progress(node, id);
        }
    }

    pub(super) fn serve_watch_progress(&mut self, node: NodeId, id: WatchId) {
        let world = &mut self.world;
        world.nodes[node.index()].request_watch_progress(id, world.out.get_or_insert_default());
        self.flush_output(node);
    }

    /// Ends the watches `node` served: its process stopped.
    pub(super) fn end_watches_at(&mut self, node: NodeId) {
        let ended: Vec<WatchId> = self.watches().filter(|w| w.node == node && w.is_active()).map(|w| w.id).collect();
        for id in ended {
            self.receive_watch(node, Self::ended(id, WatchCancel::NodeStopped));
        }
    }

    /// A response reaches its client: logged, and noted in the trace.
    pub(super) fn receive_watch(&mut self, node: NodeId, response: WatchResponse) {
        let (watch, header_revision) = (response.watch, response.header_revision);
        if let Some(note) = self.recorder.watches.receive(self.now, node, response) {
            self.emit(Event::WatchResponded { watch, node, header_revision, note });
        }
    }
}
