//! The replicated state machine of the foundation slice: an ordered key-value map with a
//! store revision that starts at 1 and bumps on every change (etcd numbering). The MVCC store
//! replaces it; the interface (apply a request, serialize, restore) stays.

use crate::request::Request;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    /// key -> (value, revision of the write that set it)
    data: BTreeMap<String, (String, u64)>,
    revision: u64,
    /// Raft index of the last entry applied (including entries without a request).
    applied: u64,
}

impl Default for KvStore {
    fn default() -> Self {
        KvStore {
            data: BTreeMap::new(),
            revision: 1,
            applied: 0,
        }
    }
}

/// The result of applying one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Store revision after the request.
    pub revision: u64,
}

impl KvStore {
    pub fn revision(&self) -> u64 {
        self.revision
    }
    pub fn applied(&self) -> u64 {
        self.applied
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(|(v, _)| v.as_str())
    }
    /// The value of `key` and the revision of the write that set it.
    pub fn get_with_revision(&self, key: &str) -> Option<(&str, u64)> {
        self.data.get(key).map(|(v, r)| (v.as_str(), *r))
    }
    /// Keys and values in key order, at most `limit`.
    pub fn entries(&self, limit: usize) -> Vec<(String, String)> {
        self.data
            .iter()
            .take(limit)
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }

    /// Records that raft entry `index` was applied (called for every entry, in order).
    pub fn advance_applied(&mut self, index: u64) {
        assert!(
            index > self.applied,
            "entry {index} applied twice (applied {})",
            self.applied
        );
        self.applied = index;
    }

    pub fn apply(&mut self, request: &Request) -> Applied {
        match request {
            Request::Put { key, value } => {
                self.revision += 1;
                self.data
                    .insert(key.clone(), (value.clone(), self.revision));
            }
            Request::Delete { key } => {
                if self.data.remove(key).is_some() {
                    self.revision += 1;
                }
            }
        }
        Applied {
            revision: self.revision,
        }
    }

    /// A fingerprint of the contents and revision (for comparing replicas).
    pub fn digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = crate::event::StableHasher::default();
        self.data.hash(&mut h);
        self.revision.hash(&mut h);
        self.applied.hash(&mut h);
        h.finish()
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the store always serializes")
    }
    pub fn decode(data: &[u8]) -> KvStore {
        serde_json::from_slice(data).expect("snapshot data is a store we encoded")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_start_at_one_and_bump_only_on_change() {
        let mut kv = KvStore::default();
        assert_eq!(kv.revision(), 1);
        let put = Request::Put {
            key: "a".into(),
            value: "1".into(),
        };
        assert_eq!(kv.apply(&put).revision, 2);
        assert_eq!(kv.apply(&Request::Delete { key: "zz".into() }).revision, 2);
        assert_eq!(kv.apply(&Request::Delete { key: "a".into() }).revision, 3);
        let restored = KvStore::decode(&kv.encode());
        assert_eq!(restored, kv);
    }
}
