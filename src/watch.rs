//! etcd's watch, at one node. A node serves its watches from its own MVCC store as it applies
//! entries, as etcd's `watchableStore` does: a watch on a node that falls behind (partitioned,
//! paused, slow) falls behind with it and says nothing about it. Only a watch created with
//! `require_leader` notices, and only when its node no longer knows a leader.
//!
//! The rules follow etcd 3.5/3.6:
//! * a watch from revision 0 starts with the next change; one from an older revision first
//!   gets every change since then, and one from a future revision waits for it;
//! * a start revision *below* the compaction revision cancels the watch with the compaction
//!   revision (`watcher_group.go`: `minRev < compactRev`); one *at* it is served;
//! * the events of one revision (a transaction) arrive together, in revision order;
//! * with `progress_notify`, a watch that got no event for one progress interval gets an
//!   empty response carrying the node's revision (etcd's `--experimental-watch-progress-notify-interval`);
//!   a client can also ask for one (`RequestProgress`);
//! * with `require_leader` (etcd's `WithRequireLeader`), the watch is refused at a node that
//!   knows no leader, and cancelled when its node is found without a leader at the check made
//!   every election timeout (etcd's `monitorLeader`);
//! * a crashed node's watches end with it.

use crate::mvcc::{MvccStore, WatchEvent};
use crate::time::LocalTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A watch, numbered from 1 in the order the run created them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WatchId(pub u64);

impl fmt::Display for WatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "w{}", self.0)
    }
}

/// What a client asks to watch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchRequest {
    pub key: String,
    /// Range end, as a range read takes it: empty for `key` alone, `"\0"` for every key from
    /// `key` on, otherwise `[key, end)`.
    pub end: String,
    /// The first revision to report (0: from the next change on).
    pub start_revision: u64,
    pub progress_notify: bool,
    pub require_leader: bool,
}

/// The range end that makes `[prefix, end)` every key starting with `prefix` (etcd's
/// `GetPrefixRangeEnd`: the prefix with its last character incremented; `"\0"`, every key,
/// when nothing can be incremented).
pub fn prefix_range_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    "\0".to_string()
}

impl WatchRequest {
    /// Whether a change to `k` concerns this watch.
    pub fn covers(&self, k: &str) -> bool {
        crate::kv::range_covers(&self.key, &self.end, k)
    }

    /// "x", "prefix a…" style description of the watched keys.
    pub fn keys(&self) -> String {
        if self.end.is_empty() {
            self.key.clone()
        } else if self.end == "\0" {
            format!("[{}, ∞)", self.key)
        } else {
            format!("[{}, {})", self.key, self.end)
        }
    }

    pub fn summary(&self) -> String {
        let from = match self.start_revision {
            0 => String::new(),
            r => format!(" from revision {r}"),
        };
        let mut options = Vec::new();
        if self.progress_notify {
            options.push("progress notify");
        }
        if self.require_leader {
            options.push("require leader");
        }
        let options = if options.is_empty() { String::new() } else { format!(" ({})", options.join(", ")) };
        format!("watch {}{from}{options}", self.keys())
    }
}

/// Why a watch ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchCancel {
    /// It asked for revisions the node has compacted away.
    Compacted { compact_revision: u64 },
    /// `require_leader` and the node knows no leader.
    NoLeader,
    /// Its node crashed: the stream broke.
    NodeStopped,
    /// The client cancelled it.
    Client,
}

impl fmt::Display for WatchCancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchCancel::Compacted { compact_revision } => {
                write!(f, "mvcc: required revision has been compacted (compact revision {compact_revision})")
            }
            WatchCancel::NoLeader => f.write_str("etcdserver: no leader"),
            WatchCancel::NodeStopped => f.write_str("the node stopped: the watch stream broke"),
            WatchCancel::Client => f.write_str("cancelled by the client"),
        }
    }
}

/// What one response of a watch carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchResponseKind {
    Created,
    /// Changes, oldest first (all of a revision together).
    Events(Vec<WatchEvent>),
    /// No change since the last response; the node is at `header_revision`.
    Progress,
    Canceled(WatchCancel),
}

/// One response on a watch, stamped with the serving node's revision (etcd's header revision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchResponse {
    pub watch: WatchId,
    pub header_revision: u64,
    pub kind: WatchResponseKind,
}

/// One watch being served.
#[derive(Clone, Debug)]
struct Watcher {
    request: WatchRequest,
    /// The oldest revision it reports: its start revision, or past what it caught up on when
    /// created.
    from_revision: u64,
    /// Whether an event went out since the last progress tick (etcd's per-watch `progress`
    /// flag: only a quiet watch gets a progress notification).
    sent_since_progress: bool,
}

/// Every watch a node serves (etcd's synced watcher group: a watch catches up when created,
/// then follows the node's applies).
#[derive(Clone, Debug, Default)]
pub struct WatcherGroup {
    watchers: BTreeMap<WatchId, Watcher>,
    /// Watches of one key, by key, so that a change finds them without a scan.
    by_key: BTreeMap<String, Vec<WatchId>>,
    /// Watches of a range.
    ranged: Vec<WatchId>,
    /// The store revision every watch here has been told about (changes after it are new).
    synced: u64,
    next_progress: Option<LocalTime>,
    next_leader_check: Option<LocalTime>,
}

impl WatcherGroup {
    pub fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }
    pub fn len(&self) -> usize {
        self.watchers.len()
    }
    pub fn contains(&self, id: WatchId) -> bool {
        self.watchers.contains_key(&id)
    }

    /// Creates watch `id`: its first responses (created, then the changes since its start
    /// revision, or its cancellation).
    pub fn add(
        &mut self,
        id: WatchId,
        request: WatchRequest,
        store: &MvccStore,
        has_leader: bool,
    ) -> Vec<WatchResponse> {
        let rev = store.current_revision();
        let respond = |kind| WatchResponse { watch: id, header_revision: rev, kind };
        if request.require_leader && !has_leader {
            return vec![respond(WatchResponseKind::Canceled(WatchCancel::NoLeader))];
        }
        let mut out = vec![respond(WatchResponseKind::Created)];
        if self.watchers.is_empty() {
            self.synced = rev;
        }
        if request.start_revision == 0 {
            self.insert(id, request, rev + 1);
            return out;
        }
        match store.watch_since(&request.key, &request.end, request.start_revision) {
            Err(_) => {
                // etcd's watchable store sends this cancellation without a revision, so its
                // header says revision 0.
                let compact_revision = store.compacted_revision();
                let kind = WatchResponseKind::Canceled(WatchCancel::Compacted { compact_revision });
                out.push(WatchResponse { watch: id, header_revision: 0, kind });
            }
            Ok(events) => {
                if !events.is_empty() {
                    out.push(respond(WatchResponseKind::Events(events.into_iter().map(|(_, e)| e).collect())));
                }
                let next = request.start_revision.max(rev + 1);
                self.insert(id, request, next);
                if out.len() > 1 {
                    self.watchers.get_mut(&id).expect("inserted").sent_since_progress = true;
                }
            }
        }
        out
    }

    fn insert(&mut self, id: WatchId, request: WatchRequest, from_revision: u64) {
        if request.end.is_empty() {
            self.by_key.entry(request.key.clone()).or_default().push(id);
        } else {
            self.ranged.push(id);
        }
        self.watchers.insert(id, Watcher { request, from_revision, sent_since_progress: false });
    }

    /// Ends watch `id` (if this node serves it).
    pub fn remove(&mut self, id: WatchId) -> bool {
        let Some(w) = self.watchers.remove(&id) else {
            return false;
        };
        if w.request.end.is_empty() {
            if let Some(ids) = self.by_key.get_mut(&w.request.key) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.by_key.remove(&w.request.key);
                }
            }
        } else {
            self.ranged.retain(|i| *i != id);
        }
        true
    }

    /// Reports the changes the store made since the watches' next revisions: after the node
    /// applied entries (or installed a snapshot, after which a watch whose next revision was
    /// compacted away is cancelled, as etcd's restore does).
    pub fn notify(&mut self, store: &MvccStore, out: &mut Vec<WatchResponse>) {
        let rev = store.current_revision();
        if rev <= self.synced || self.watchers.is_empty() {
            self.synced = self.synced.max(rev);
            return;
        }
        let from = self.synced + 1;
        self.synced = rev;
        let compacted = store.compacted_revision();
        if from < compacted {
            // A snapshot brought a store compacted past what these watches were told.
            let lost: Vec<WatchId> = self
                .watchers
                .iter()
                .filter(|(_, w)| w.from_revision.max(from) < compacted)
                .map(|(id, _)| *id)
                .collect();
            for id in lost {
                self.remove(id);
                let kind = WatchResponseKind::Canceled(WatchCancel::Compacted { compact_revision: compacted });
                out.push(WatchResponse { watch: id, header_revision: 0, kind });
            }
        }
        let mut batches: BTreeMap<WatchId, Vec<WatchEvent>> = BTreeMap::new();
        for change in store.changes_from(from) {
            let key = change.key();
            let single = self.by_key.get(key).into_iter().flatten();
            let ranged = self.ranged.iter().filter(|id| self.watchers[id].request.covers(key));
            for id in single.chain(ranged) {
                if self.watchers[id].from_revision <= change.revision.main {
                    batches.entry(*id).or_default().push(change.event());
                }
            }
        }
        for (id, events) in batches {
            self.watchers.get_mut(&id).expect("listed").sent_since_progress = true;
            out.push(WatchResponse { watch: id, header_revision: rev, kind: WatchResponseKind::Events(events) });
        }
    }

    /// A progress notification for watch `id` on request (etcd's `RequestProgress`).
    pub fn progress(&self, id: WatchId, store: &MvccStore) -> Option<WatchResponse> {
        self.watchers.contains_key(&id).then(|| WatchResponse {
            watch: id,
            header_revision: store.current_revision(),
            kind: WatchResponseKind::Progress,
        })
    }

    /// The periodic work: progress notifications for quiet watches that asked for them, and
    /// the leader check that cancels `require_leader` watches.
    pub fn on_tick(&mut self, now: LocalTime, timers: WatchTimers, store: &MvccStore, out: &mut Vec<WatchResponse>) {
        if self.watchers.is_empty() {
            self.next_progress = None;
            self.next_leader_check = None;
            return;
        }
        let rev = store.current_revision();
        let progress_due = *self.next_progress.get_or_insert(now.plus_us(timers.progress_us));
        if now >= progress_due {
            self.next_progress = Some(now.plus_us(timers.progress_us));
            for (id, w) in &mut self.watchers {
                if w.request.progress_notify && !std::mem::take(&mut w.sent_since_progress) {
                    out.push(WatchResponse { watch: *id, header_revision: rev, kind: WatchResponseKind::Progress });
                }
            }
        }
        let check_due = *self.next_leader_check.get_or_insert(now.plus_us(timers.leader_check_us));
        if now >= check_due {
            self.next_leader_check = Some(now.plus_us(timers.leader_check_us));
            if !timers.has_leader {
                let lost: Vec<WatchId> =
                    self.watchers.iter().filter(|(_, w)| w.request.require_leader).map(|(id, _)| *id).collect();
                for id in lost {
                    self.remove(id);
                    let kind = WatchResponseKind::Canceled(WatchCancel::NoLeader);
                    out.push(WatchResponse { watch: id, header_revision: rev, kind });
                }
            }
        }
    }

    /// The watches served here, in id order.
    pub fn ids(&self) -> impl Iterator<Item = WatchId> + '_ {
        self.watchers.keys().copied()
    }
}

/// What the periodic watch work needs to know from its node.
#[derive(Clone, Copy, Debug)]
pub struct WatchTimers {
    pub progress_us: i64,
    pub leader_check_us: i64,
    pub has_leader: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, end: &str, start: u64) -> WatchRequest {
        WatchRequest { key: key.into(), end: end.into(), start_revision: start, ..Default::default() }
    }

    fn revisions(responses: &[WatchResponse]) -> Vec<(u64, Vec<u64>)> {
        responses
            .iter()
            .filter_map(|r| match &r.kind {
                WatchResponseKind::Events(es) => Some((
                    r.watch.0,
                    es.iter()
                        .map(|e| match e {
                            WatchEvent::Put(kv) => kv.mod_revision,
                            WatchEvent::Delete { mod_revision, .. } => *mod_revision,
                        })
                        .collect(),
                )),
                _ => None,
            })
            .collect()
    }

    /// etcd's watchable_store_test `TestWatch`/`TestNewWatcherCancel` shape: a key watch sees
    /// its key's changes as they apply and nothing of other keys; a cancelled one sees nothing.
    /// etcd's `TestGetPrefixRangeEnd` cases, for the keys a page can type.
    #[test]
    fn a_prefix_ends_where_its_last_character_is_incremented() {
        assert_eq!(prefix_range_end("a"), "b");
        assert_eq!(prefix_range_end("ab"), "ac");
        assert_eq!(prefix_range_end("k/"), "k0");
        assert_eq!(prefix_range_end(""), "\0");
        let w = WatchRequest { key: "k/".into(), end: prefix_range_end("k/"), ..Default::default() };
        assert!(w.covers("k/a") && w.covers("k/") && !w.covers("k0") && !w.covers("k"));
    }

    #[test]
    fn a_key_watch_follows_its_key_only() {
        let mut s = MvccStore::default();
        let mut g = WatcherGroup::default();
        let created = g.add(WatchId(1), req("a", "", 0), &s, true);
        assert_eq!(created[0].kind, WatchResponseKind::Created);
        g.add(WatchId(2), req("b", "", 0), &s, true);
        s.put("a", "1", None).unwrap();
        s.put("c", "1", None).unwrap();
        let mut out = Vec::new();
        g.notify(&s, &mut out);
        assert_eq!(revisions(&out), vec![(1, vec![2])]);
        assert!(g.remove(WatchId(1)));
        s.put("a", "2", None).unwrap();
        s.put("b", "2", None).unwrap();
        out.clear();
        g.notify(&s, &mut out);
        assert_eq!(revisions(&out), vec![(2, vec![5])]);
    }

    /// etcd's `TestWatchFutureRev`: a watch from a future revision waits for it; and a prefix
    /// watch sees a transaction's events together.
    #[test]
    fn a_future_start_waits_and_a_range_sees_a_transaction_together() {
        let mut s = MvccStore::default();
        let mut g = WatcherGroup::default();
        g.add(WatchId(1), req("k", "", 4), &s, true);
        g.add(WatchId(2), req("p/", "p0", 0), &s, true);
        let mut out = Vec::new();
        for i in 0..4 {
            s.put("k", &i.to_string(), None).unwrap();
            g.notify(&s, &mut out);
        }
        let put = |k: &str| crate::mvcc::TxnOp::Put { key: k.into(), value: "v".into(), key_lease: None };
        s.txn(&[], &[put("p/1"), put("p/2"), put("q")], &[]).unwrap();
        g.notify(&s, &mut out);
        assert_eq!(revisions(&out), vec![(1, vec![4]), (1, vec![5]), (2, vec![6, 6])]);
    }

    /// etcd's `TestWatchCompacted` and the `minRev < compactRev` rule: below the compaction
    /// revision is cancelled with it; at it is served, the delete kept there included.
    #[test]
    fn compaction_cancels_only_a_start_below_it() {
        let mut s = MvccStore::default();
        s.put("a", "1", None).unwrap(); // 2
        s.put("a", "2", None).unwrap(); // 3
        s.delete_range("a", "").unwrap(); // 4
        s.compact(4).unwrap();
        let mut g = WatcherGroup::default();
        let below = g.add(WatchId(1), req("a", "", 3), &s, true);
        assert_eq!(below[1].kind, WatchResponseKind::Canceled(WatchCancel::Compacted { compact_revision: 4 }));
        assert!(!g.contains(WatchId(1)));
        let at = g.add(WatchId(2), req("a", "", 4), &s, true);
        assert_eq!(revisions(&at), vec![(2, vec![4])]);
        assert!(g.contains(WatchId(2)));
        s.put("a", "3", None).unwrap(); // 5
        let above = g.add(WatchId(3), req("a", "", 5), &s, true);
        assert_eq!(revisions(&above), vec![(3, vec![5])], "above it: served from there");
    }

    /// etcd's `WithRequireLeader`: refused without a leader, cancelled at the leader check.
    #[test]
    fn require_leader_is_refused_and_cancelled_without_a_leader() {
        let s = MvccStore::default();
        let mut g = WatcherGroup::default();
        let mut r = req("a", "", 0);
        r.require_leader = true;
        let refused = g.add(WatchId(1), r.clone(), &s, false);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].kind, WatchResponseKind::Canceled(WatchCancel::NoLeader));
        g.add(WatchId(2), r, &s, true);
        g.add(WatchId(3), req("a", "", 0), &s, true);
        let timers = |has_leader| WatchTimers { progress_us: 10_000_000, leader_check_us: 1_000_000, has_leader };
        let mut out = Vec::new();
        g.on_tick(LocalTime(0), timers(false), &s, &mut out);
        assert!(out.is_empty(), "the first check is one election timeout away");
        g.on_tick(LocalTime(1_000_000), timers(false), &s, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].watch, &out[0].kind), (WatchId(2), &WatchResponseKind::Canceled(WatchCancel::NoLeader)));
        assert_eq!(g.ids().collect::<Vec<_>>(), vec![WatchId(3)]);
    }

    /// etcd's progress ticker: only a quiet watch that asked for it gets a notification.
    #[test]
    fn progress_goes_to_quiet_watches_that_asked() {
        let mut s = MvccStore::default();
        let mut g = WatcherGroup::default();
        let mut r = req("a", "", 0);
        r.progress_notify = true;
        g.add(WatchId(1), r.clone(), &s, true);
        g.add(WatchId(2), WatchRequest { key: "b".into(), ..r }, &s, true);
        g.add(WatchId(3), req("c", "", 0), &s, true);
        let timers = WatchTimers { progress_us: 1_000, leader_check_us: 1_000_000, has_leader: true };
        let mut out = Vec::new();
        g.on_tick(LocalTime(0), timers, &s, &mut out);
        s.put("a", "1", None).unwrap();
        g.notify(&s, &mut out);
        out.clear();
        g.on_tick(LocalTime(1_000), timers, &s, &mut out);
        let progressed: Vec<(WatchId, u64)> = out.iter().map(|r| (r.watch, r.header_revision)).collect();
        assert_eq!(progressed, vec![(WatchId(2), 2)]);
    }
}
