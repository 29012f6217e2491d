//! What the simulation reports: a totally ordered trace of [`Event`]s, each stamped with true
//! time, and a running hash of that trace (the determinism fingerprint).
//!
//! The hash uses [`StableHasher`] (an FxHash-style multiply-rotate over 64-bit words that
//! widens `usize`/`isize` to 64 bits), so the same trace hashes identically on x86_64 and on
//! wasm32.

use crate::time::SimTime;
use crate::types::{MsgKind, NodeId, OpId, Role};
use crate::watch::WatchId;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DropReason {
    /// The link was cut when the message was sent or when it would have arrived.
    LinkCut,
    /// Random loss drawn from the link's drop probability.
    Lost,
    /// The destination process was crashed when the message arrived.
    NodeDown,
}

/// How a client operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpOutcome {
    /// Not finished yet.
    Pending,
    /// Applied (writes) at this store revision.
    Ok { revision: u64 },
    /// Certainly did not take effect; the reason says why.
    Failed { reason: String },
    /// May or may not have taken effect (timeout or crash before an answer).
    Indeterminate { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    MessageSent {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MsgKind,
        term: u64,
        deliver_at: SimTime,
    },
    MessageDuplicated {
        id: u64,
        copy: u64,
        deliver_at: SimTime,
    },
    MessageDelivered {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MsgKind,
    },
    MessageDropped {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MsgKind,
        reason: DropReason,
    },
    RoleChanged {
        node: NodeId,
        role: Role,
        term: u64,
        leader: NodeId,
    },
    CommitAdvanced {
        node: NodeId,
        commit: u64,
    },
    SnapshotInstalled {
        node: NodeId,
        index: u64,
        term: u64,
    },
    LogCompacted {
        node: NodeId,
        through: u64,
    },
    OpInvoked {
        op: OpId,
        node: NodeId,
        summary: String,
    },
    OpCompleted {
        op: OpId,
        node: NodeId,
        outcome: OpOutcome,
    },
    /// A fault or configuration command took effect (its text is the command's summary).
    CommandApplied {
        summary: String,
    },
    NodeCrashed {
        node: NodeId,
    },
    NodeRestarted {
        node: NodeId,
        applied: u64,
    },
    NodePaused {
        node: NodeId,
    },
    NodeResumed {
        node: NodeId,
        queued: usize,
    },
    /// A key lease's revoke applied (first node to apply it): its keys are gone.
    KeyLeaseRevoked {
        id: u64,
        node: NodeId,
        keys: Vec<String>,
    },
    /// A restarted node ignored a vote or pre-vote request: it grants none until it has ticked
    /// one election timeout since its restart (`ClusterConfig::restart_vote_wait`);
    /// `ticks_left` of that wait remain.
    VoteWithheld {
        node: NodeId,
        from: NodeId,
        kind: MsgKind,
        ticks_left: u64,
    },
    /// A node answered a watch (created, events, progress or cancellation), with its revision.
    /// Kept last: a variant's place is part of the trace hash.
    WatchResponded {
        watch: WatchId,
        node: NodeId,
        header_revision: u64,
        note: String,
    },
    /// `node` ignored a MsgTimeoutNow from `from` sent at index `index`: its log has grown to
    /// `last` since, so the transfer that sent it was abandoned.
    TimeoutNowIgnored {
        node: NodeId,
        from: NodeId,
        index: u64,
        last: u64,
    },
    /// The leader `node` applied a membership change: `membership` (in words, e.g.
    /// `voters {n1, n2, n3}, learners {n4}`) is now in force.
    MembershipChanged {
        node: NodeId,
        membership: String,
    },
}

/// An event with its place in the trace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TracedEvent {
    pub seq: u64,
    pub at: SimTime,
    pub event: Event,
}

/// How the page's operation log and the text trace show an outcome.
impl fmt::Display for OpOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpOutcome::Pending => f.write_str("pending…"),
            OpOutcome::Ok { revision } => write!(f, "ok, rev {revision}"),
            OpOutcome::Failed { reason } => write!(f, "failed: {reason}"),
            OpOutcome::Indeterminate { reason } => write!(f, "unknown: {reason}"),
        }
    }
}

impl fmt::Display for TracedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12} #{:<7} ", self.at.to_string(), self.seq)?;
        match &self.event {
            Event::MessageSent { id, from, to, kind, term, deliver_at } => {
                write!(f, "send     {from}->{to} {kind:?} t{term} m{id} eta {deliver_at}")
            }
            Event::MessageDuplicated { id, copy, deliver_at } => {
                write!(f, "dup      m{id} as m{copy} eta {deliver_at}")
            }
            Event::MessageDelivered { id, from, to, kind } => {
                write!(f, "deliver  {from}->{to} {kind:?} m{id}")
            }
            Event::MessageDropped { id, from, to, kind, reason } => {
                write!(f, "drop     {from}->{to} {kind:?} m{id} ({reason:?})")
            }
            Event::RoleChanged { node, role, term, leader } => {
                write!(f, "role     {node} is {role:?} in term {term} (leader {leader})")
            }
            Event::CommitAdvanced { node, commit } => write!(f, "commit   {node} commit={commit}"),
            Event::SnapshotInstalled { node, index, term } => {
                write!(f, "snapshot {node} installed raft snapshot at {index} (term {term})")
            }
            Event::LogCompacted { node, through } => {
                write!(f, "compact  {node} log compacted through {through}")
            }
            Event::OpInvoked { op, node, summary } => {
                write!(f, "invoke   {op} at {node}: {summary}")
            }
            Event::OpCompleted { op, node, outcome } => {
                write!(f, "complete {op} at {node}: {outcome}")
            }
            Event::CommandApplied { summary } => write!(f, "command  {summary}"),
            Event::NodeCrashed { node } => write!(f, "crash    {node}"),
            Event::NodeRestarted { node, applied } => {
                write!(f, "restart  {node} recovered from disk, applied={applied}")
            }
            Event::NodePaused { node } => write!(f, "pause    {node}"),
            Event::KeyLeaseRevoked { id, node, keys } => {
                write!(f, "revoke   key lease {id} applied at {node}, deleted [{}]", keys.join(", "))
            }
            Event::NodeResumed { node, queued } => {
                write!(f, "resume   {node} ({queued} queued inputs)")
            }
            Event::VoteWithheld { node, from, kind, ticks_left } => write!(
                f,
                "withhold {node} ignores {kind:?} from {from}: restarted, it may have promised a leader not to vote; \
                 votes in {ticks_left} ticks"
            ),
            Event::WatchResponded { watch, node, header_revision, note } => {
                write!(f, "watch    {watch} at {node} (revision {header_revision}): {note}")
            }
            Event::TimeoutNowIgnored { node, from, index, last } => write!(
                f,
                "ignore   {node} ignores TimeoutNow from {from}: sent at index {index}, its log is at {last} (an abandoned transfer)"
            ),
            Event::MembershipChanged { node, membership } => write!(f, "members  leader {node} applied {membership}"),
        }
    }
}

/// A word-at-a-time multiply-rotate hash (the FxHash step on 64-bit words), defined on
/// `u64` so it is identical on every platform: bytes are packed little-endian into words and
/// `usize`/`isize` are widened to 64 bits. Fast enough to fingerprint millions of events.
#[derive(Clone, Debug)]
pub struct StableHasher(u64);

const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;
const HASH_K: u64 = 0x517c_c1b7_2722_0a95;

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(HASH_SEED)
    }
}

impl StableHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(HASH_K);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        // A final avalanche so nearby inputs give distant fingerprints.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_i64(&mut self, i: i64) {
        self.mix(i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.mix(i as i64 as u64);
    }
}

/// Events kept for the page to read back; older ones survive only in the hash.
pub const TRACE_RETAINED_MAX: usize = 20_000;
/// Events a time-travel checkpoint keeps (and a run export carries): every checkpoint holds
/// different events, so keeping all would multiply the trace's memory by their number.
pub const TRACE_CHECKPOINT_KEPT: usize = 2_000;

/// Retained events are kept in chunks of this many.
const TRACE_CHUNK: usize = 256;

/// The trace: a running hash of every event ever emitted plus the most recent ones.
///
/// The recent events sit in shared chunks: cloning the trace (a time-travel checkpoint)
/// copies chunk pointers, and a push copies at most the one shared chunk it writes to, so
/// the common case allocates nothing per event.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    hasher: StableHasher,
    next_seq: u64,
    /// Every chunk but the last is full.
    recent: VecDeque<Rc<Vec<TracedEvent>>>,
    retained: usize,
}

impl Trace {
    pub fn push(&mut self, at: SimTime, event: Event) {
        let traced = TracedEvent { seq: self.next_seq, at, event };
        traced.hash(&mut self.hasher);
        self.next_seq += 1;
        if self.recent.back().is_none_or(|c| c.len() == TRACE_CHUNK) {
            self.recent.push_back(Rc::new(Vec::with_capacity(TRACE_CHUNK)));
        }
        Rc::make_mut(self.recent.back_mut().expect("just ensured")).push(traced);
        self.retained += 1;
        // Whole chunks go, so between MAX − CHUNK and MAX events stay.
        if self.retained > TRACE_RETAINED_MAX {
            self.drop_front_chunk();
        }
    }

    fn drop_front_chunk(&mut self) {
        if let Some(chunk) = self.recent.pop_front() {
            self.retained -= chunk.len();
        }
    }

    /// Forgets retained events older than the newest `n` (whole chunks: at least `n` stay;
    /// the hash is unchanged).
    pub fn keep_last(&mut self, n: usize) {
        while self.recent.front().is_some_and(|c| self.retained - c.len() >= n) {
            self.drop_front_chunk();
        }
    }

    /// The fingerprint of the whole trace so far.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    /// Total events emitted.
    pub fn len(&self) -> u64 {
        self.next_seq
    }

    pub fn is_empty(&self) -> bool {
        self.next_seq == 0
    }

    /// Events still retained.
    pub fn retained(&self) -> usize {
        self.retained
    }

    /// Retained events from the `skip`th retained one on, oldest first.
    fn at_position(&self, skip: usize) -> impl Iterator<Item = &TracedEvent> {
        let (chunk, offset) = (skip / TRACE_CHUNK, skip % TRACE_CHUNK);
        self.recent
            .iter()
            .skip(chunk)
            .enumerate()
            .flat_map(move |(i, c)| c[if i == 0 { offset.min(c.len()) } else { 0 }..].iter())
    }

    /// Retained events at or after true time `from`, oldest first.
    pub fn since_time(&self, from: SimTime) -> impl Iterator<Item = &TracedEvent> {
        // Chunks before the first one holding an event at `from` or later are skipped whole.
        let chunk = self.recent.partition_point(|c| c.last().is_some_and(|e| e.at < from));
        let offset = self.recent.get(chunk).map_or(0, |c| c.partition_point(|e| e.at < from));
        self.at_position(chunk * TRACE_CHUNK + offset)
    }

    /// Retained events with `seq >= from`, oldest first.
    pub fn since(&self, from: u64) -> impl Iterator<Item = &TracedEvent> {
        let first = self.recent.front().and_then(|c| c.first()).map_or(0, |e| e.seq);
        self.at_position(from.saturating_sub(first) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_hasher_widens_usize() {
        let mut a = StableHasher::default();
        a.write_usize(7);
        let mut b = StableHasher::default();
        b.write_u64(7);
        assert_eq!(a.finish(), b.finish());
    }

    #[test]
    fn trace_since_skips_older_events() {
        let mut t = Trace::default();
        for i in 0..5 {
            t.push(SimTime(i), Event::NodeCrashed { node: NodeId(1) });
        }
        assert_eq!(t.since(3).map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn hash_depends_on_every_field() {
        let mut a = Trace::default();
        a.push(SimTime(1), Event::NodeCrashed { node: NodeId(1) });
        let mut b = Trace::default();
        b.push(SimTime(1), Event::NodeCrashed { node: NodeId(2) });
        assert_ne!(a.hash(), b.hash());
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    fn trace(n: u64) -> Trace {
        let mut t = Trace::default();
        for i in 0..n {
            t.push(SimTime(i * 10), Event::CommandApplied { summary: i.to_string() });
        }
        t
    }

    #[test]
    fn retained_events_are_found_by_seq_and_time_across_chunks() {
        let t = trace(1_000);
        assert_eq!(t.retained(), 1_000);
        assert_eq!(t.since(0).count(), 1_000);
        assert_eq!(t.since(700).next().unwrap().seq, 700);
        assert_eq!(t.since(700).count(), 300);
        assert_eq!(t.since(5_000).count(), 0);
        assert_eq!(t.since_time(SimTime(2_565)).next().unwrap().seq, 257);
        assert_eq!(t.since_time(SimTime(2_560)).next().unwrap().seq, 256);
        assert_eq!(t.since_time(SimTime(0)).count(), 1_000);
        assert_eq!(t.since_time(SimTime(99_999)).count(), 0);
    }

    #[test]
    fn old_chunks_go_and_clones_share_until_written() {
        let mut t = trace(TRACE_RETAINED_MAX as u64 + 300);
        assert!(t.retained() <= TRACE_RETAINED_MAX && t.retained() > TRACE_RETAINED_MAX - TRACE_CHUNK);
        let first = t.since(0).next().unwrap().seq;
        assert_eq!(first as usize, TRACE_RETAINED_MAX + 300 - t.retained());
        let copy = t.clone();
        t.push(SimTime(1), Event::CommandApplied { summary: "after".into() });
        assert_eq!(copy.since(0).count() + 1, t.since(0).count(), "the clone did not see the push");
        let mut k = t.clone();
        k.keep_last(1_000);
        assert!(k.retained() >= 1_000 && k.retained() < 1_000 + TRACE_CHUNK);
        assert_eq!(k.hash(), t.hash());
        assert_eq!(k.since(0).last(), t.since(0).last());
    }
}
