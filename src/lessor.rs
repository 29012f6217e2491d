//! The lessor (etcd `server/lease/lessor.go`): key leases with a TTL, keys attached
//! to them, expiry on the leader ("primary") only, and checkpoints of the remaining TTL.
//!
//! What is replicated (granted TTL, checkpointed remaining TTL, attached keys) lives in the
//! state machine and is snapshotted. *When* a key lease expires is volatile and per node: the
//! primary holds real expiries on its **local clock**; every other node holds every key lease
//! at "forever". Promotion (a new leader, after applying its term's first entry) sets every
//! expiry to `now + election timeout + remaining`, where remaining is the checkpointed TTL if
//! one was set, else the full TTL — which is why, without checkpoints, frequent leader changes
//! keep resetting TTLs and key leases never expire (etcd #9395, fixed by PR #9924).

use crate::time::LocalTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// etcd's largest TTL: 9,000,000,000 s.
pub const KEY_LEASE_TTL_MS_MAX: i64 = 9_000_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LessorError {
    /// Id 0 means "no key lease".
    ZeroId,
    Exists {
        id: u64,
    },
    NotFound {
        id: u64,
    },
    TtlTooLarge {
        ttl_ms: i64,
    },
    /// Keep-alives are served by the primary (leader) only.
    NotPrimary,
}

impl fmt::Display for LessorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LessorError::ZeroId => write!(f, "key lease id 0 is reserved for \"no key lease\""),
            LessorError::Exists { id } => write!(f, "key lease {id} already exists"),
            LessorError::NotFound { id } => write!(f, "key lease {id} not found"),
            LessorError::TtlTooLarge { ttl_ms } => {
                write!(f, "key lease TTL {} s is too large (max {} s)", ttl_ms / 1_000, KEY_LEASE_TTL_MS_MAX / 1_000)
            }
            LessorError::NotPrimary => write!(f, "not the primary lessor (only the leader renews key leases)"),
        }
    }
}

impl std::error::Error for LessorError {}

/// The replicated part of one key lease.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct KeyLease {
    pub id: u64,
    /// Granted TTL after raising to the minimum, in ms.
    pub ttl_ms: i64,
    /// Checkpointed remaining TTL in ms (0: none).
    pub remaining_ms: i64,
    pub keys: BTreeSet<String>,
}

/// What `TimeToLive` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeToLive {
    pub id: u64,
    pub granted_ttl_ms: i64,
    /// Remaining on this node's clock; `None` on a non-primary (held "forever").
    pub remaining_ms: Option<i64>,
    pub keys: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lessor {
    leases: BTreeMap<u64, KeyLease>,
    /// key -> key lease it is attached to.
    key_owner: BTreeMap<String, u64>,
    /// Volatile: expiries on the primary's local clock. Not replicated, not snapshotted.
    expiry: BTreeMap<u64, LocalTime>,
    primary: bool,
    /// Volatile: when the primary last proposed revoking an expired key lease (retry later).
    revoke_proposed: BTreeMap<u64, LocalTime>,
}

/// A snapshot holds the replicated part only (key leases and their keys); the volatile
/// expiries and the primary flag start empty.
impl bincode::Encode for Lessor {
    fn encode<E: bincode::enc::Encoder>(&self, encoder: &mut E) -> Result<(), bincode::error::EncodeError> {
        self.leases.encode(encoder)?;
        self.key_owner.encode(encoder)
    }
}

impl<C> bincode::Decode<C> for Lessor {
    fn decode<D: bincode::de::Decoder<Context = C>>(decoder: &mut D) -> Result<Self, bincode::error::DecodeError> {
        Ok(Lessor {
            leases: bincode::Decode::decode(decoder)?,
            key_owner: bincode::Decode::decode(decoder)?,
            ..Lessor::default()
        })
    }
}
bincode::impl_borrow_decode!(Lessor);

impl Lessor {
    pub fn is_primary(&self) -> bool {
        self.primary
    }

    pub fn leases(&self) -> impl Iterator<Item = &KeyLease> {
        self.leases.values()
    }

    pub fn get(&self, id: u64) -> Option<&KeyLease> {
        self.leases.get(&id)
    }

    pub fn expiry(&self, id: u64) -> Option<LocalTime> {
        self.expiry.get(&id).copied()
    }

    /// Applies a replicated grant. `min_ttl_ms` is `ceil(1.5 × election timeout)`.
    pub fn grant(&mut self, id: u64, ttl_ms: i64, min_ttl_ms: i64, now: LocalTime) -> Result<i64, LessorError> {
        if id == 0 {
            return Err(LessorError::ZeroId);
        }
        if ttl_ms > KEY_LEASE_TTL_MS_MAX {
            return Err(LessorError::TtlTooLarge { ttl_ms });
        }
        if self.leases.contains_key(&id) {
            return Err(LessorError::Exists { id });
        }
        let ttl_ms = ttl_ms.max(min_ttl_ms);
        self.leases.insert(id, KeyLease { id, ttl_ms, remaining_ms: 0, keys: BTreeSet::new() });
        if self.primary {
            self.expiry.insert(id, now.plus_us(ttl_ms * 1_000));
        }
        Ok(ttl_ms)
    }

    /// Applies a replicated revoke: returns the attached keys, in key order, to delete in one
    /// transaction.
    pub fn revoke(&mut self, id: u64) -> Result<Vec<String>, LessorError> {
        let lease = self.leases.remove(&id).ok_or(LessorError::NotFound { id })?;
        self.expiry.remove(&id);
        self.revoke_proposed.remove(&id);
        for k in &lease.keys {
            self.key_owner.remove(k);
        }
        Ok(lease.keys.into_iter().collect())
    }

    /// Applies a replicated checkpoint (on every node).
    pub fn checkpoint(&mut self, id: u64, remaining_ms: i64) {
        if let Some(l) = self.leases.get_mut(&id) {
            l.remaining_ms = remaining_ms;
        }
    }

    /// Attaches `key` to key lease `id` (a put with a lease), detaching it from any other.
    pub fn attach(&mut self, key: &str, id: u64) -> Result<(), LessorError> {
        if !self.leases.contains_key(&id) {
            return Err(LessorError::NotFound { id });
        }
        self.detach(key);
        self.leases.get_mut(&id).expect("checked").keys.insert(key.to_string());
        self.key_owner.insert(key.to_string(), id);
        Ok(())
    }

    /// Detaches `key` from its key lease, if any (a delete, or a put without a lease).
    pub fn detach(&mut self, key: &str) {
        if let Some(old) = self.key_owner.remove(key) {
            if let Some(l) = self.leases.get_mut(&old) {
                l.keys.remove(key);
            }
        }
    }

    /// Keep-alive on the primary: the key lease runs a full TTL from `now`. Returns the TTL and
    /// whether a checkpoint reset (remaining 0) must be proposed first (checkpointing on and a
    /// checkpointed remaining TTL set).
    pub fn renew(&mut self, id: u64, now: LocalTime, checkpointing: bool) -> Result<(i64, bool), LessorError> {
        if !self.primary {
            return Err(LessorError::NotPrimary);
        }
        let lease = self.leases.get(&id).ok_or(LessorError::NotFound { id })?;
        if self.expiry.get(&id).is_some_and(|e| *e <= now) {
            // Expired: the revoke is on its way.
            return Err(LessorError::NotFound { id });
        }
        let ttl = lease.ttl_ms;
        let reset = checkpointing && lease.remaining_ms > 0;
        self.expiry.insert(id, now.plus_us(ttl * 1_000));
        self.revoke_proposed.remove(&id);
        Ok((ttl, reset))
    }

    pub fn time_to_live(&self, id: u64, now: LocalTime) -> Result<TimeToLive, LessorError> {
        let l = self.leases.get(&id).ok_or(LessorError::NotFound { id })?;
        let remaining_ms =
            if self.primary { self.expiry.get(&id).map(|e| ((e.0 - now.0) / 1_000).max(0)) } else { None };
        Ok(TimeToLive { id, granted_ttl_ms: l.ttl_ms, remaining_ms, keys: l.keys.iter().cloned().collect() })
    }

    /// Becoming primary: every expiry = now + extend + (checkpointed remaining, else full TTL).
    pub fn promote(&mut self, now: LocalTime, extend_ms: i64) {
        self.primary = true;
        self.expiry.clear();
        self.revoke_proposed.clear();
        for l in self.leases.values() {
            let remaining = if l.remaining_ms > 0 { l.remaining_ms } else { l.ttl_ms };
            self.expiry.insert(l.id, now.plus_us((extend_ms + remaining) * 1_000));
        }
    }

    /// Losing leadership: every key lease is held "forever" again.
    pub fn demote(&mut self) {
        self.primary = false;
        self.expiry.clear();
        self.revoke_proposed.clear();
    }

    /// Expired key leases to revoke now: at most `limit` (rate limit), skipping those whose
    /// revoke was proposed less than `retry_ms` ago.
    pub fn expired(&mut self, now: LocalTime, limit: usize, retry_ms: i64) -> Vec<u64> {
        if !self.primary {
            return vec![];
        }
        let mut due: Vec<(LocalTime, u64)> = self
            .expiry
            .iter()
            .filter(|(id, e)| {
                **e <= now && self.revoke_proposed.get(id).is_none_or(|at| now.0 - at.0 >= retry_ms * 1_000)
            })
            .map(|(id, e)| (*e, *id))
            .collect();
        due.sort();
        due.truncate(limit);
        for (_, id) in &due {
            self.revoke_proposed.insert(*id, now);
        }
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// Checkpoints to propose: (id, remaining ms) of every key lease with time left.
    pub fn checkpoints(&self, now: LocalTime) -> Vec<(u64, i64)> {
        if !self.primary {
            return vec![];
        }
        self.expiry.iter().filter(|(_, e)| **e > now).map(|(id, e)| (*id, (e.0 - now.0) / 1_000)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_TTL: i64 = 1_500;

    fn primary() -> Lessor {
        let mut l = Lessor::default();
        l.promote(LocalTime(0), 0);
        l
    }

    #[test]
    fn grant_raises_short_ttls_and_refuses_bad_ones() {
        let mut l = primary();
        assert_eq!(l.grant(1, 100, MIN_TTL, LocalTime(0)), Ok(MIN_TTL), "raised to the minimum");
        assert_eq!(l.grant(1, 5_000, MIN_TTL, LocalTime(0)), Err(LessorError::Exists { id: 1 }));
        assert_eq!(l.grant(0, 5_000, MIN_TTL, LocalTime(0)), Err(LessorError::ZeroId));
        assert!(matches!(
            l.grant(2, KEY_LEASE_TTL_MS_MAX + 1, MIN_TTL, LocalTime(0)),
            Err(LessorError::TtlTooLarge { .. })
        ));
        assert_eq!(l.expiry(1), Some(LocalTime(1_500_000)));
    }

    #[test]
    fn revoke_returns_attached_keys_in_order() {
        let mut l = primary();
        l.grant(7, 5_000, MIN_TTL, LocalTime(0)).unwrap();
        for k in ["b", "a", "c"] {
            l.attach(k, 7).unwrap();
        }
        l.detach("c");
        assert_eq!(l.revoke(7), Ok(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(l.revoke(7), Err(LessorError::NotFound { id: 7 }));
        assert_eq!(l.attach("x", 7), Err(LessorError::NotFound { id: 7 }));
    }

    #[test]
    fn keep_alive_refreshes_and_only_the_primary_serves_it() {
        let mut l = primary();
        l.grant(1, 5_000, MIN_TTL, LocalTime(0)).unwrap();
        assert_eq!(l.renew(1, LocalTime(4_000_000), true), Ok((5_000, false)));
        assert_eq!(l.expiry(1), Some(LocalTime(9_000_000)));
        let mut follower = Lessor::default();
        follower.grant(1, 5_000, MIN_TTL, LocalTime(0)).unwrap();
        assert_eq!(follower.renew(1, LocalTime(0), true), Err(LessorError::NotPrimary));
        assert_eq!(follower.expiry(1), None, "followers hold key leases forever");
        assert!(follower.expired(LocalTime(i64::MAX / 2), 10, 3_000).is_empty());
    }

    #[test]
    fn keep_alive_after_a_checkpoint_asks_for_a_reset() {
        let mut l = primary();
        l.grant(1, 5_000, MIN_TTL, LocalTime(0)).unwrap();
        l.checkpoint(1, 2_000);
        assert_eq!(l.renew(1, LocalTime(0), true), Ok((5_000, true)));
        assert_eq!(l.renew(1, LocalTime(0), false), Ok((5_000, false)), "checkpointing off: no reset");
    }

    #[test]
    fn promote_uses_the_checkpointed_remaining_ttl() {
        let mut l = Lessor::default();
        l.grant(1, 10_000, MIN_TTL, LocalTime(0)).unwrap();
        l.grant(2, 10_000, MIN_TTL, LocalTime(0)).unwrap();
        l.checkpoint(1, 3_000);
        l.promote(LocalTime(100_000_000), 1_000);
        assert_eq!(l.expiry(1), Some(LocalTime(104_000_000)), "now + election timeout + checkpointed 3 s");
        assert_eq!(l.expiry(2), Some(LocalTime(111_000_000)), "no checkpoint: full TTL");
        l.demote();
        assert_eq!(l.expiry(1), None);
    }

    #[test]
    fn expired_key_leases_are_rate_limited_and_retried() {
        let mut l = primary();
        for id in 1..=5 {
            l.grant(id, 2_000, MIN_TTL, LocalTime(0)).unwrap();
        }
        assert_eq!(l.expired(LocalTime(1_000_000), 10, 3_000), Vec::<u64>::new());
        assert_eq!(l.expired(LocalTime(2_000_000), 3, 3_000), vec![1, 2, 3]);
        assert_eq!(l.expired(LocalTime(2_500_000), 10, 3_000), vec![4, 5], "proposed ones wait for the retry interval");
        assert_eq!(l.expired(LocalTime(5_000_000), 10, 3_000), vec![1, 2, 3]);
    }

    #[test]
    fn time_to_live_reports_remaining_on_the_primary() {
        let mut l = primary();
        l.grant(1, 5_000, MIN_TTL, LocalTime(0)).unwrap();
        l.attach("k", 1).unwrap();
        let t = l.time_to_live(1, LocalTime(1_000_000)).unwrap();
        assert_eq!((t.granted_ttl_ms, t.remaining_ms, t.keys), (5_000, Some(4_000), vec!["k".to_string()]));
        l.demote();
        assert_eq!(l.time_to_live(1, LocalTime(0)).unwrap().remaining_ms, None);
    }
}
