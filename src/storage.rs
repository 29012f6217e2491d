//! A node's "disk": the raft state that survives a crash — hard state, conf state,
//! log entries and the latest raft snapshot (whose data is the serialized state machine).
//!
//! raft-rs's own `MemStorage` keeps no snapshot data and cannot compact away every entry, so
//! the simulator keeps its own implementation of [`raft::Storage`]. The node keeps one handle
//! and gives raft another; both share one [`DiskCore`] (single-threaded, hence `Rc<RefCell>`).
//! Everything a `Ready` asks to persist is written before its messages leave the node, so the
//! disk always holds what raft believes is durable.

use crate::kv::KvStore;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};
use raft::{Error as RaftError, GetEntriesContext, RaftState, StorageError};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Default, Clone)]
pub struct DiskCore {
    hard_state: HardState,
    /// The configuration as of the snapshot (before any, the one the cluster was created
    /// with): a restart starts from it and applies the changes in the entries after it again.
    conf_state: ConfState,
    /// `entries[i].index == log_start.0 + 1 + i`.
    entries: Vec<Entry>,
    /// The index and term of the entry just before the first one held: the last entry
    /// compacted away (raft-rs asks for its term to match the next append against). It is the
    /// snapshot's own index when the log restarts at a snapshot, and earlier when compaction
    /// keeps entries for slow followers (see [`DiskStorage::compact`]).
    log_start: (u64, u64),
    /// Latest raft snapshot: metadata (index, term, conf state) and, if it came from the
    /// leader, its state-machine data. Replaced only through [`DiskCore::set_snapshot`].
    snapshot: Snapshot,
    /// The snapshot's index and term, kept beside it: the protobuf accessor behind them (an
    /// optional field with a lazily built default) is a call in the page's size-optimized
    /// wasm, and raft-rs's questions about the log's bounds once went through it, ≈4 % of a
    /// write-heavy run's instructions there.
    snapshot_at: (u64, u64),
    /// If the snapshot is this node's own compaction: the store as it was then, serialized
    /// only when someone reads the data (raft, to send it; a restart, to load it). Encoding
    /// the whole store at every compaction cost ≈9 % of a write-heavy run, and is rarely used.
    /// Immutable once taken, so copies of the disk share it.
    image: Option<Rc<KvStore>>,
    /// raft-rs asked for a snapshot for a node the newest one predates; the node takes a fresh
    /// one on its next Ready ([`DiskStorage::take_fresh_snapshot_wanted`]).
    fresh_snapshot_wanted: bool,
}

/// Shared handle to a node's persisted raft state.
#[derive(Clone, Default)]
pub struct DiskStorage {
    core: Rc<RefCell<DiskCore>>,
}

impl DiskStorage {
    /// A fresh disk for a node of a cluster whose voters are `voters`.
    pub fn new_with_voters(voters: Vec<u64>) -> DiskStorage {
        let disk = DiskStorage::default();
        disk.core.borrow_mut().conf_state = ConfState::from((voters, vec![]));
        disk
    }

    /// An independent copy of this disk (cloning the handle would share it).
    pub fn deep_copy(&self) -> DiskStorage {
        DiskStorage { core: Rc::new(RefCell::new(self.core.borrow().clone())) }
    }

    pub fn hard_state(&self) -> HardState {
        self.core.borrow().hard_state.clone()
    }

    pub fn set_hard_state(&self, hs: HardState) {
        self.core.borrow_mut().hard_state = hs;
    }

    pub fn set_commit(&self, commit: u64) {
        self.core.borrow_mut().hard_state.commit = commit;
    }

    pub fn snapshot_index(&self) -> u64 {
        self.core.borrow().snapshot_at.0
    }

    /// The latest snapshot's state-machine data (a serialized [`KvStore`]).
    pub fn snapshot_data(&self) -> Vec<u8> {
        self.core.borrow().snapshot_data()
    }

    /// Number of entries held (not yet compacted away).
    pub fn entry_count(&self) -> usize {
        self.core.borrow().entries.len()
    }

    /// Copies of the entries in `[low, high)` that are still held (for inspection and checks).
    pub fn entries_in(&self, low: u64, high: u64) -> Vec<Entry> {
        let core = self.core.borrow();
        core.entries.iter().filter(|e| e.index >= low && e.index < high).cloned().collect()
    }

    /// Appends entries from a `Ready`, truncating any conflicting suffix first.
    pub fn append(&self, ents: &[Entry]) {
        let Some(first) = ents.first() else { return };
        let mut core = self.core.borrow_mut();
        let first_index = core.first_index();
        assert!(first.index >= first_index, "append of compacted index {} (first {first_index})", first.index);
        assert!(first.index <= core.last_index() + 1, "gap before appended index {}", first.index);
        let keep = (first.index - first_index) as usize;
        core.entries.truncate(keep);
        core.entries.extend_from_slice(ents);
    }

    /// Installs a raft snapshot received from the leader: the log restarts after it.
    pub fn apply_snapshot(&self, snapshot: Snapshot) {
        let mut core = self.core.borrow_mut();
        let meta = snapshot.get_metadata();
        core.hard_state.term = core.hard_state.term.max(meta.term);
        core.hard_state.commit = meta.index;
        core.conf_state = meta.get_conf_state().clone();
        core.entries.clear();
        core.set_snapshot(snapshot);
        core.log_start = core.snapshot_at;
        core.image = None;
    }

    /// Whether raft-rs asked for a snapshot newer than the one held (and forgets that it did).
    pub fn take_fresh_snapshot_wanted(&self) -> bool {
        std::mem::take(&mut self.core.borrow_mut().fresh_snapshot_wanted)
    }

    /// Takes a snapshot of the state machine at `applied` (`image` is the store then; its
    /// serialization is the snapshot's data) and discards the entries up to `applied −
    /// catch_up`: as etcd keeps `SnapshotCatchUpEntries` in its log after a snapshot, so that
    /// a follower a little behind catches up from entries instead of a whole snapshot.
    /// Returns the index the log is now compacted through, if entries were discarded.
    pub fn compact(&self, applied: u64, image: KvStore, conf_state: ConfState, catch_up: u64) -> Option<u64> {
        let mut core = self.core.borrow_mut();
        if applied <= core.snapshot_at.0 {
            return None;
        }
        let term = core.term_of(applied).expect("compacting to an entry the disk does not hold");
        core.conf_state = conf_state.clone();
        let through = applied.saturating_sub(catch_up);
        let compacted = (through > core.log_start.0).then(|| {
            let start_term = core.term_of(through).expect("held");
            let drop = (through - core.log_start.0) as usize;
            core.entries.drain(..drop);
            core.log_start = (through, start_term);
            through
        });
        let mut snapshot = Snapshot::default();
        let meta = snapshot.mut_metadata();
        meta.index = applied;
        meta.term = term;
        meta.set_conf_state(conf_state);
        core.set_snapshot(snapshot);
        core.image = Some(Rc::new(image));
        compacted
    }
}

impl DiskCore {
    /// The snapshot's state-machine data: the image serialized now, or the bytes received.
    fn snapshot_data(&self) -> Vec<u8> {
        match &self.image {
            Some(image) => image.encode(),
            None => self.snapshot.data.to_vec(),
        }
    }
    fn set_snapshot(&mut self, snapshot: Snapshot) {
        let meta = snapshot.get_metadata();
        self.snapshot_at = (meta.index, meta.term);
        self.snapshot = snapshot;
    }
    fn first_index(&self) -> u64 {
        self.log_start.0 + 1
    }
    fn last_index(&self) -> u64 {
        self.log_start.0 + self.entries.len() as u64
    }
    fn term_of(&self, idx: u64) -> Option<u64> {
        let (start_index, start_term) = self.log_start;
        if idx == start_index {
            return Some(start_term);
        }
        if idx < start_index || idx > self.last_index() {
            return None;
        }
        Some(self.entries[(idx - start_index - 1) as usize].term)
    }
}

impl raft::Storage for DiskStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        let core = self.core.borrow();
        Ok(RaftState::new(core.hard_state.clone(), core.conf_state.clone()))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        let core = self.core.borrow();
        if low < core.first_index() {
            return Err(RaftError::Store(StorageError::Compacted));
        }
        assert!(high <= core.last_index() + 1, "entries past the last index");
        let offset = core.first_index();
        let mut ents = core.entries[(low - offset) as usize..(high - offset) as usize].to_vec();
        raft::util::limit_size(&mut ents, max_size.into());
        Ok(ents)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        let core = self.core.borrow();
        if idx < core.log_start.0 {
            return Err(RaftError::Store(StorageError::Compacted));
        }
        core.term_of(idx).ok_or(RaftError::Store(StorageError::Unavailable))
    }

    // raft-rs asks for the log's bounds on nearly every step; in the page's size-optimized
    // wasm each was a call of its own (forcing `term` inline as well measured worse).
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.core.borrow().first_index())
    }

    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.core.borrow().last_index())
    }

    fn snapshot(&self, _request_index: u64, to: u64) -> raft::Result<Snapshot> {
        // The snapshot is taken eagerly at compaction time, so it is usually ready. raft only
        // asks for one when the follower needs entries we no longer hold, which means a
        // compaction happened and the snapshot is non-empty. But a node added since that
        // compaction is not in its configuration, and raft-rs's receiver rejects a snapshot
        // that does not name it (for good, if no later compaction comes): ask for a fresh one,
        // as TiKV generates a snapshot on demand, and let raft-rs try again.
        let mut core = self.core.borrow_mut();
        let cs = core.snapshot.get_metadata().get_conf_state();
        if !cs.voters.iter().chain(&cs.learners).chain(&cs.voters_outgoing).any(|&id| id == to) {
            core.fresh_snapshot_wanted = true;
            return Err(RaftError::Store(StorageError::SnapshotTemporarilyUnavailable));
        }
        let mut snapshot = core.snapshot.clone();
        if core.image.is_some() {
            snapshot.data = core.snapshot_data().into();
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_op::ClientOp;
    use raft::Storage;

    fn entry(index: u64, term: u64) -> Entry {
        Entry { index, term, ..Default::default() }
    }

    #[test]
    fn append_truncates_conflicts_and_compaction_keeps_the_boundary_term() {
        let disk = DiskStorage::new_with_voters(vec![1, 2, 3]);
        disk.append(&[entry(1, 1), entry(2, 1), entry(3, 1)]);
        disk.append(&[entry(3, 2), entry(4, 2)]);
        assert_eq!(disk.last_index().unwrap(), 4);
        assert_eq!(disk.term(3).unwrap(), 2);
        let mut image = KvStore::default();
        let ctx = crate::kv::ApplyContext {
            now: crate::time::LocalTime(0),
            min_ttl_ms: 1_500,
            checkpoint_interval_ms: None,
            record_effects: false,
        };
        image.apply(
            crate::request::Request::Client(ClientOp::Put { key: "k".into(), value: "v".into(), key_lease: None }),
            ctx,
        );
        assert_eq!(disk.compact(3, image.clone(), ConfState::from((vec![1, 2, 3], vec![])), 0), Some(3));
        assert_eq!(disk.first_index().unwrap(), 4);
        assert_eq!(disk.term(3).unwrap(), 2, "term of the snapshot index stays known");
        assert!(matches!(disk.term(2), Err(RaftError::Store(StorageError::Compacted))));
        assert!(disk.entries(3, 5, None, GetEntriesContext::empty(false)).is_err());
        assert_eq!(disk.entries(4, 5, None, GetEntriesContext::empty(false)).unwrap().len(), 1);
        let snapshot = disk.snapshot(0, 2).unwrap();
        assert_eq!(snapshot.get_metadata().index, 3);
        assert_eq!(snapshot.data.to_vec(), image.encode(), "raft gets the store as it was at compaction");
        assert_eq!(disk.snapshot_data(), image.encode());
    }

    #[test]
    fn compacting_everything_keeps_indexes_consistent() {
        let disk = DiskStorage::new_with_voters(vec![1]);
        disk.append(&[entry(1, 1), entry(2, 1)]);
        disk.compact(2, KvStore::default(), ConfState::from((vec![1], vec![])), 0);
        assert_eq!(disk.first_index().unwrap(), 3);
        assert_eq!(disk.last_index().unwrap(), 2);
        disk.append(&[entry(3, 1)]);
        assert_eq!(disk.last_index().unwrap(), 3);
    }

    /// etcd's `compactRaftLog` keeps `SnapshotCatchUpEntries` before the snapshot's index.
    #[test]
    fn compaction_keeps_catch_up_entries_before_the_snapshot() {
        let disk = DiskStorage::new_with_voters(vec![1, 2, 3]);
        disk.append(&(1..=10).map(|i| entry(i, 1 + i / 6)).collect::<Vec<_>>());
        let conf = || ConfState::from((vec![1, 2, 3], vec![]));
        assert_eq!(disk.compact(8, KvStore::default(), conf(), 3), Some(5));
        assert_eq!(disk.snapshot_index(), 8, "the snapshot is at the applied index");
        assert_eq!(disk.first_index().unwrap(), 6, "entries after 8 − 3 stay");
        assert_eq!(disk.term(5).unwrap(), 1, "the last compacted entry's term stays known");
        assert_eq!(disk.term(6).unwrap(), 2);
        assert!(matches!(disk.term(4), Err(RaftError::Store(StorageError::Compacted))));
        assert_eq!(disk.entries(6, 11, None, GetEntriesContext::empty(false)).unwrap().len(), 5);
        assert_eq!(disk.snapshot(0, 2).unwrap().get_metadata().index, 8);
        // A margin wider than the log drops nothing, yet the snapshot moves on.
        assert_eq!(disk.compact(9, KvStore::default(), conf(), 5), None);
        assert_eq!((disk.snapshot_index(), disk.first_index().unwrap()), (9, 6));
    }

    #[test]
    fn installing_a_snapshot_replaces_the_log() {
        let disk = DiskStorage::new_with_voters(vec![1, 2, 3]);
        disk.append(&[entry(1, 1)]);
        let mut snap = Snapshot::default();
        snap.mut_metadata().index = 10;
        snap.mut_metadata().term = 3;
        disk.apply_snapshot(snap);
        assert_eq!(disk.first_index().unwrap(), 11);
        assert_eq!(disk.term(10).unwrap(), 3);
        assert_eq!(disk.hard_state().commit, 10);
    }
}
