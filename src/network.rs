//! The simulated network: one state per directed link — latency, jitter, loss,
//! duplication and whether it is cut — and the set of messages in flight.
//!
//! The network never decides *when* things happen on its own; the simulator asks it to send a
//! message (drawing latency, loss and duplication from the one seeded RNG) and later to hand
//! over a message whose delivery time has come.

use crate::config::LinkConfig;
use crate::event::DropReason;
use crate::random::SimRng;
use crate::time::SimTime;
use crate::types::{KeyLeaseId, MsgKind, NodeId, OpId};
use raft::eraftpb::Message;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Messages in flight at once; beyond this the network drops (and reports) new ones.
pub const IN_FLIGHT_MAX: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    pub config: LinkConfig,
    pub cut: bool,
}

/// What travels between nodes: raft's own messages, and the requests a node's server forwards
/// to the leader on a client's behalf (a key lease keep-alive, as etcd's server forwards
/// `LeaseKeepAlive`) with their answers.
#[derive(Clone, Debug)]
pub enum Payload {
    /// Boxed: sending a message and taking it off the wire then move a pointer, not the whole
    /// message (in WebAssembly each such copy is a call out of the compiled code).
    Raft(Box<Message>),
    /// Renew key lease `id` for client operation `op`. `header_revision`: the revision of the
    /// node the client reached, as the request arrived there (etcd fills the answer's header
    /// before it renews or forwards, so a keep-alive never claims a revision later than the
    /// renewal); it comes back with the answer.
    KeepAlive { op: OpId, id: KeyLeaseId, header_revision: u64 },
    /// The leader's answer: the TTL in ms, or why not.
    KeepAliveAnswer { op: OpId, id: KeyLeaseId, result: crate::node::KeepAliveResult, header_revision: u64 },
}

impl Payload {
    pub fn kind(&self) -> MsgKind {
        match self {
            Payload::Raft(m) => MsgKind::from(m.get_msg_type()),
            Payload::KeepAlive { .. } => MsgKind::KeepAlive,
            Payload::KeepAliveAnswer { .. } => MsgKind::KeepAliveResp,
        }
    }

    /// The raft term it carries (0 for a forwarded request).
    pub fn term(&self) -> u64 {
        match self {
            Payload::Raft(m) => m.term,
            _ => 0,
        }
    }
}

/// A message on the wire.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub sent_at: SimTime,
    pub deliver_at: SimTime,
    pub kind: MsgKind,
    pub msg: Payload,
}

/// What became of a send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// On the wire; deliver `id` at `deliver_at`, and a duplicate if `copy` is set.
    Queued {
        id: u64,
        deliver_at: SimTime,
        copy: Option<(u64, SimTime)>,
    },
    Dropped {
        id: u64,
        reason: DropReason,
    },
}

impl Sent {
    /// The message's id, queued or dropped.
    pub fn id(&self) -> u64 {
        match self {
            Sent::Queued { id, .. } | Sent::Dropped { id, .. } => *id,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Network {
    node_count: usize,
    /// `links[from][to]`, 0-based, row-major.
    links: Vec<LinkState>,
    in_flight: Wire,
    next_id: u64,
}

impl Network {
    pub fn new(node_count: usize, default: &LinkConfig) -> Network {
        let link = LinkState { config: default.clone(), cut: false };
        Network { node_count, links: vec![link; node_count * node_count], in_flight: Wire::default(), next_id: 1 }
    }

    /// Adds one node, linked both ways to every other by `default` links.
    pub fn grow(&mut self, default: &LinkConfig) {
        let (n, m) = (self.node_count, self.node_count + 1);
        let link = LinkState { config: default.clone(), cut: false };
        let mut links = vec![link; m * m];
        for (i, l) in self.links.drain(..).enumerate() {
            links[(i / n) * m + i % n] = l;
        }
        self.links = links;
        self.node_count = m;
    }

    /// Messages put on the wire so far (sent, dropped or duplicated: each has its own id).
    pub fn messages_sent(&self) -> u64 {
        self.next_id - 1
    }

    fn slot(&self, from: NodeId, to: NodeId) -> usize {
        from.index() * self.node_count + to.index()
    }

    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkState {
        &self.links[self.slot(from, to)]
    }

    pub fn link_mut(&mut self, from: NodeId, to: NodeId) -> &mut LinkState {
        let i = self.slot(from, to);
        &mut self.links[i]
    }

    /// Every directed link `(from, to, state)` with `from != to`, in id order.
    pub fn links(&self) -> impl Iterator<Item = (NodeId, NodeId, &LinkState)> {
        let n = self.node_count;
        self.links.iter().enumerate().filter_map(move |(i, l)| {
            let (from, to) = (i / n, i % n);
            (from != to).then(|| (NodeId(from as u64 + 1), NodeId(to as u64 + 1), l))
        })
    }

    pub fn set_cut(&mut self, from: NodeId, to: NodeId, cut: bool) {
        self.link_mut(from, to).cut = cut;
    }

    pub fn heal_all(&mut self) {
        for l in &mut self.links {
            l.cut = false;
        }
    }

    /// Sets every link's behaviour (keeping which links are cut).
    pub fn set_all_configs(&mut self, config: &LinkConfig) {
        for l in &mut self.links {
            l.config = config.clone();
        }
    }

    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        self.in_flight.iter()
    }

    pub fn in_flight_len(&self) -> usize {
        self.in_flight.len()
    }

    fn draw_latency(rng: &mut SimRng, config: &LinkConfig) -> u64 {
        let base = i64::from(config.latency_us);
        let jitter = i64::from(config.jitter_us);
        let offset = if jitter == 0 { 0 } else { rng.gen_range(-jitter..=jitter) };
        (base + offset).max(1) as u64
    }

    fn chance(rng: &mut SimRng, ppm: u32) -> bool {
        ppm > 0 && rng.gen_range(0..1_000_000u32) < ppm
    }

    /// Puts raft message `msg` on the wire from `msg.from` to `msg.to` at `now`.
    pub fn send(&mut self, now: SimTime, rng: &mut SimRng, msg: Message) -> Sent {
        let (from, to) = (NodeId(msg.from), NodeId(msg.to));
        self.send_payload(now, rng, from, to, Payload::Raft(Box::new(msg)))
    }

    /// Puts `msg` on the wire from `from` to `to` at `now`: the link's cut, loss, latency,
    /// jitter and duplication apply to it as to any message.
    pub fn send_payload(&mut self, now: SimTime, rng: &mut SimRng, from: NodeId, to: NodeId, msg: Payload) -> Sent {
        let kind = msg.kind();
        let id = self.next_id;
        self.next_id += 1;
        let link = self.link(from, to).clone();
        if link.cut {
            return Sent::Dropped { id, reason: DropReason::LinkCut };
        }
        if Self::chance(rng, link.config.drop_ppm) || self.in_flight.len() >= IN_FLIGHT_MAX {
            return Sent::Dropped { id, reason: DropReason::Lost };
        }
        let deliver_at = now.plus_us(Self::draw_latency(rng, &link.config));
        let copy = if Self::chance(rng, link.config.duplicate_ppm) {
            let copy_id = self.next_id;
            self.next_id += 1;
            let copy_at = now.plus_us(Self::draw_latency(rng, &link.config));
            Some(InFlight { id: copy_id, from, to, sent_at: now, deliver_at: copy_at, kind, msg: msg.clone() })
        } else {
            None
        };
        self.in_flight.insert(InFlight { id, from, to, sent_at: now, deliver_at, kind, msg });
        let copy = copy.map(|dup| {
            let at = (dup.id, dup.deliver_at);
            self.in_flight.insert(dup);
            at
        });
        Sent::Queued { id, deliver_at, copy }
    }

    /// Message `id`, due now: (from, to, kind) and whether it is lost — a link cut while the
    /// message was in flight loses it, as a real partition loses packets in transit. The
    /// caller then [`take`](Network::take)s it off the wire either way.
    pub fn arriving(&self, id: u64) -> (NodeId, NodeId, MsgKind, Option<DropReason>) {
        let m = self.in_flight.get(id).expect("a delivery is scheduled once per message");
        (m.from, m.to, m.kind, self.link(m.from, m.to).cut.then_some(DropReason::LinkCut))
    }

    /// Takes message `id` off the wire. Only the message moves (the rest was read in place by
    /// [`arriving`](Network::arriving)): it is 192 bytes, moved as few times as possible.
    pub fn take(&mut self, id: u64) -> Payload {
        self.in_flight.remove(id).expect("a delivery is scheduled once per message").msg
    }
}

/// The messages on the wire, by id. Ids are handed out in increasing order and each message
/// leaves the wire within its link's latency, so slots in a window that starts at the oldest id
/// still on the wire find any of them in O(1) (a B-tree here cost ≈3 % of a write-heavy run).
/// Each slot holds its message's envelope inline (the window is short: latency × send rate);
/// a raft message itself travels boxed ([`Payload::Raft`]).
#[derive(Clone, Debug, Default)]
struct Wire {
    /// Id of `slots[0]`.
    first: u64,
    /// `None` for ids that were dropped at send or already delivered.
    slots: VecDeque<Option<InFlight>>,
    len: usize,
}

impl Wire {
    /// Puts a message on the wire; its id must exceed every id already there.
    fn insert(&mut self, m: InFlight) {
        if self.slots.is_empty() {
            self.first = m.id;
        }
        let i = usize::try_from(m.id - self.first).expect("the window fits in memory");
        debug_assert!(i >= self.slots.len(), "message ids are put on the wire in increasing order");
        self.slots.resize_with(i + 1, || None);
        self.slots[i] = Some(m);
        self.len += 1;
    }

    fn get(&self, id: u64) -> Option<&InFlight> {
        let i = usize::try_from(id.checked_sub(self.first)?).ok()?;
        self.slots.get(i)?.as_ref()
    }

    fn remove(&mut self, id: u64) -> Option<InFlight> {
        let i = usize::try_from(id.checked_sub(self.first)?).ok()?;
        let m = self.slots.get_mut(i)?.take()?;
        self.len -= 1;
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.first += 1;
        }
        Some(m)
    }

    fn len(&self) -> usize {
        self.len
    }

    /// In id order.
    fn iter(&self) -> impl Iterator<Item = &InFlight> {
        self.slots.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::eraftpb::MessageType;
    use rand::SeedableRng;

    fn msg(from: u64, to: u64) -> Message {
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgHeartbeat);
        m.from = from;
        m.to = to;
        m
    }

    #[test]
    fn the_wire_finds_messages_taken_in_any_order_and_lists_them_by_id() {
        let mut rng = SimRng::seed_from_u64(3);
        let mut net = Network::new(3, &LinkConfig::default());
        let ids: Vec<u64> = (0..6)
            .map(|_| match net.send(SimTime(0), &mut rng, msg(1, 2)) {
                Sent::Queued { id, .. } => id,
                other => panic!("{other:?}"),
            })
            .collect();
        net.set_cut(NodeId(1), NodeId(3), true);
        assert!(matches!(net.send(SimTime(0), &mut rng, msg(1, 3)), Sent::Dropped { .. }));
        let late = match net.send(SimTime(0), &mut rng, msg(1, 2)) {
            Sent::Queued { id, .. } => id,
            other => panic!("{other:?}"),
        };
        for id in [ids[3], ids[0], ids[1]] {
            assert_eq!(net.in_flight.remove(id).map(|m| m.id), Some(id));
        }
        let left: Vec<u64> = net.in_flight().map(|m| m.id).collect();
        assert_eq!(left, vec![ids[2], ids[4], ids[5], late]);
        assert_eq!(net.in_flight_len(), 4);
        for id in left {
            assert_eq!(net.arriving(id).3, None);
            assert!(matches!(net.take(id), Payload::Raft(m) if m.from == 1));
        }
        assert_eq!(net.in_flight_len(), 0);
        assert_eq!(net.in_flight.slots.len(), 0, "the window shrinks as the oldest messages leave");
    }

    #[test]
    fn latency_stays_within_base_plus_minus_jitter() {
        let mut rng = SimRng::seed_from_u64(1);
        let mut net = Network::new(3, &LinkConfig::default());
        for _ in 0..1_000 {
            match net.send(SimTime(0), &mut rng, msg(1, 2)) {
                Sent::Queued { deliver_at, .. } => {
                    assert!((5_000..=15_000).contains(&deliver_at.0), "{deliver_at}")
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(net.in_flight_len(), 1_000);
    }

    #[test]
    fn cut_links_drop_at_send_and_in_transit() {
        let mut rng = SimRng::seed_from_u64(1);
        let mut net = Network::new(3, &LinkConfig::default());
        let Sent::Queued { id, .. } = net.send(SimTime(0), &mut rng, msg(1, 2)) else { panic!() };
        net.set_cut(NodeId(1), NodeId(2), true);
        assert!(matches!(net.arriving(id), (_, _, _, Some(DropReason::LinkCut))));
        net.take(id);
        assert!(matches!(net.send(SimTime(0), &mut rng, msg(1, 2)), Sent::Dropped { reason: DropReason::LinkCut, .. }));
        // One-way: the reverse direction still works.
        assert!(matches!(net.send(SimTime(0), &mut rng, msg(2, 1)), Sent::Queued { .. }));
    }

    #[test]
    fn loss_and_duplication_follow_their_probabilities() {
        let mut rng = SimRng::seed_from_u64(7);
        let config = LinkConfig { drop_ppm: 250_000, duplicate_ppm: 500_000, ..Default::default() };
        let mut net = Network::new(2, &config);
        let (mut lost, mut dups) = (0, 0);
        for _ in 0..10_000 {
            match net.send(SimTime(0), &mut rng, msg(1, 2)) {
                Sent::Dropped { reason: DropReason::Lost, .. } => lost += 1,
                Sent::Queued { copy: Some(_), .. } => dups += 1,
                _ => {}
            }
        }
        assert!((2_200..2_800).contains(&lost), "lost {lost}");
        assert!((3_400..4_100).contains(&dups), "dups {dups}");
    }

    /// A forwarded request meets the same links as raft's messages: a cut drops it.
    #[test]
    fn a_forwarded_request_is_cut_like_any_message() {
        let mut net = Network::new(3, &LinkConfig::default());
        let mut rng = SimRng::seed_from_u64(1);
        let ask = || Payload::KeepAlive { op: OpId(4), id: KeyLeaseId::of(7), header_revision: 0 };
        let Sent::Queued { id, .. } = net.send_payload(SimTime(0), &mut rng, NodeId(2), NodeId(1), ask()) else {
            panic!("a healthy link queues it")
        };
        assert_eq!(net.arriving(id).2, MsgKind::KeepAlive);
        assert!(matches!(net.take(id), Payload::KeepAlive { op: OpId(4), .. }));
        net.set_cut(NodeId(2), NodeId(1), true);
        let sent = net.send_payload(SimTime(0), &mut rng, NodeId(2), NodeId(1), ask());
        assert!(matches!(sent, Sent::Dropped { reason: DropReason::LinkCut, .. }));
    }
}
