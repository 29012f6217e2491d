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
/// The same in seconds, the unit of etcd's API (`MaxLeaseTTL`).
pub const KEY_LEASE_TTL_MAX_S: i64 = KEY_LEASE_TTL_MS_MAX / 1_000;

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
    /// Expired on the primary, its revoke on the way: etcd's `Renew` waits for the revoke.
    Expired {
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
            // An expired key lease is as good as gone (a keep-alive waits for its revoke).
            LessorError::NotFound { id } | LessorError::Expired { id } => write!(f, "key lease {id} not found"),
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
    /// Volatile: the primary's scheduled checkpoints, (due on its clock, order scheduled) →
    /// key lease id; a key lease may be scheduled more than once, as in etcd's heap.
    checkpoint_due: BTreeMap<(LocalTime, u64), u64>,
    checkpoints_scheduled: u64,
    /// Volatile: what the last promotion did, for the inspector.
    promotion: Option<Promotion>,
}

/// What becoming primary did to the expiries (etcd's `Promote`): how many key leases got one,
/// and how many of those were spread later so that revokes do not come in a storm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Promotion {
    /// The primary's clock when it promoted.
    pub at: LocalTime,
    pub key_leases: usize,
    pub spread: usize,
    /// The most an expiry was moved later, in ms.
    pub max_delay_ms: i64,
}

/// etcd's `leaseRevokeRate`: expired key leases revoked per second at most. Promote spreads
/// expiries when at least this many key leases exist.
pub const KEY_LEASE_REVOKE_RATE: usize = 1_000;

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
    /// `checkpoint_interval_ms` is `None` when checkpointing is off.
    pub fn grant(
        &mut self,
        id: u64,
        ttl_ms: i64,
        min_ttl_ms: i64,
        now: LocalTime,
        checkpoint_interval_ms: Option<i64>,
    ) -> Result<i64, LessorError> {
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
            self.schedule_checkpoint(id, now, checkpoint_interval_ms);
        }
        Ok(ttl_ms)
    }

    /// etcd's `scheduleCheckpointIfNeeded`: a key lease is checkpointed one interval from now
    /// if its remaining TTL (the checkpointed one, else the full TTL) is longer than the
    /// interval in whole seconds. Shorter ones would expire before a checkpoint could matter.
    fn schedule_checkpoint(&mut self, id: u64, now: LocalTime, interval_ms: Option<i64>) {
        let (Some(interval_ms), Some(l)) = (interval_ms, self.leases.get(&id)) else {
            return;
        };
        let remaining_ms = if l.remaining_ms > 0 { l.remaining_ms } else { l.ttl_ms };
        if remaining_ms > interval_ms / 1_000 * 1_000 {
            self.checkpoints_scheduled += 1;
            self.checkpoint_due.insert((now.plus_us(interval_ms * 1_000), self.checkpoints_scheduled), id);
        }
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

    /// Applies a replicated checkpoint (on every node); the primary schedules the key lease's
    /// next one (etcd's `Checkpoint`).
    pub fn checkpoint(&mut self, id: u64, remaining_ms: i64, now: LocalTime, interval_ms: Option<i64>) {
        if let Some(l) = self.leases.get_mut(&id) {
            l.remaining_ms = remaining_ms;
            if self.primary {
                self.schedule_checkpoint(id, now, interval_ms);
            }
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
            return Err(LessorError::Expired { id });
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

    /// Becoming primary (etcd's `Promote`): every expiry = now + extend + (checkpointed
    /// remaining, else full TTL), and each key lease is scheduled for a checkpoint. With at
    /// least [`KEY_LEASE_REVOKE_RATE`] key leases, expiries that pile up are spread so that no
    /// second sees more than three quarters of the revoke rate expire: a new leader does not
    /// face a storm of revokes at once.
    pub fn promote(&mut self, now: LocalTime, extend_ms: i64, checkpoint_interval_ms: Option<i64>) {
        self.primary = true;
        self.promotion = Some(Promotion { at: now, key_leases: self.leases.len(), spread: 0, max_delay_ms: 0 });
        self.expiry.clear();
        self.revoke_proposed.clear();
        self.checkpoint_due.clear();
        let ids: Vec<u64> = self.leases.keys().copied().collect();
        for &id in &ids {
            let l = &self.leases[&id];
            let remaining = if l.remaining_ms > 0 { l.remaining_ms } else { l.ttl_ms };
            self.expiry.insert(id, now.plus_us((extend_ms + remaining) * 1_000));
            self.schedule_checkpoint(id, now, checkpoint_interval_ms);
        }
        if ids.len() < KEY_LEASE_REVOKE_RATE {
            return;
        }
        // etcd's loop, in µs of the primary's clock: windows of one second from the earliest
        // expiry; past the target count in a window, each expiry moves later in proportion.
        let mut by_expiry: Vec<(i64, u64)> = ids.iter().map(|id| (self.expiry[id].0 - now.0, *id)).collect();
        crate::order::sort_by_key(&mut by_expiry, |(e, id)| (crate::order::signed(*e), *id, 0));
        const SECOND_US: i64 = 1_000_000;
        let target = (3 * KEY_LEASE_REVOKE_RATE / 4) as i64;
        let mut base = by_expiry[0].0;
        let mut next = base + SECOND_US;
        let mut expires: i64 = 0;
        for (remaining, id) in by_expiry {
            if remaining > next {
                base = remaining;
                next = base + SECOND_US;
                expires = 1;
                continue;
            }
            expires += 1;
            if expires <= target {
                continue;
            }
            // A key lease n seconds past the base window is moved by only what it still lacks.
            let delay = SECOND_US * expires / target - (remaining - base);
            next = base + delay;
            let l = &self.leases[&id];
            let ttl = if l.remaining_ms > 0 { l.remaining_ms } else { l.ttl_ms };
            self.expiry.insert(id, now.plus_us(delay + (extend_ms + ttl) * 1_000));
            self.schedule_checkpoint(id, now, checkpoint_interval_ms);
            if let Some(p) = self.promotion.as_mut() {
                p.spread += 1;
                // Its expiry was `remaining` from now; it is now `delay` later.
                p.max_delay_ms = p.max_delay_ms.max(delay / 1_000);
            }
        }
    }

    /// What the last promotion did, while this lessor is primary.
    pub fn promotion(&self) -> Option<Promotion> {
        self.promotion.filter(|_| self.primary)
    }

    /// Losing leadership: every key lease is held "forever" again, nothing is scheduled.
    pub fn demote(&mut self) {
        self.primary = false;
        self.promotion = None;
        self.expiry.clear();
        self.revoke_proposed.clear();
        self.checkpoint_due.clear();
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
        crate::order::sort_by_key(&mut due, |(e, id)| (crate::order::signed(e.0), *id, 0));
        due.truncate(limit);
        for (_, id) in &due {
            self.revoke_proposed.insert(*id, now);
        }
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// Checkpoints due now, at most `limit` (etcd's `findDueScheduledCheckpoints`): (id,
    /// remaining ms, in whole seconds rounded up as etcd's are) for each scheduled key lease
    /// still alive whose remaining time has dropped below its TTL.
    pub fn due_checkpoints(&mut self, now: LocalTime, limit: usize) -> Vec<(u64, i64)> {
        let mut due = Vec::new();
        while due.len() < limit {
            let Some((&(at, seq), &id)) = self.checkpoint_due.first_key_value() else { break };
            if at > now {
                break;
            }
            self.checkpoint_due.remove(&(at, seq));
            let (Some(l), Some(expiry)) = (self.leases.get(&id), self.expiry.get(&id)) else { continue };
            if now >= *expiry {
                continue;
            }
            let remaining_ms = (expiry.0 - now.0 + 999_999) / 1_000_000 * 1_000;
            if remaining_ms >= l.ttl_ms {
                continue;
            }
            due.push((id, remaining_ms));
        }
        due
    }

    /// Checkpoints scheduled and not yet due, (due on the primary's clock, id), soonest first.
    pub fn scheduled_checkpoints(&self) -> impl Iterator<Item = (LocalTime, u64)> + '_ {
        self.checkpoint_due.iter().map(|(&(at, _), &id)| (at, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_TTL: i64 = 1_500;

    fn primary() -> Lessor {
        let mut l = Lessor::default();
        l.promote(LocalTime(0), 0, None);
        l
    }

    #[test]
    fn grant_raises_short_ttls_and_refuses_bad_ones() {
        let mut l = primary();
        assert_eq!(l.grant(1, 100, MIN_TTL, LocalTime(0), None), Ok(MIN_TTL), "raised to the minimum");
        assert_eq!(l.grant(1, 5_000, MIN_TTL, LocalTime(0), None), Err(LessorError::Exists { id: 1 }));
        assert_eq!(l.grant(0, 5_000, MIN_TTL, LocalTime(0), None), Err(LessorError::ZeroId));
        assert!(matches!(
            l.grant(2, KEY_LEASE_TTL_MS_MAX + 1, MIN_TTL, LocalTime(0), None),
            Err(LessorError::TtlTooLarge { .. })
        ));
        assert_eq!(l.expiry(1), Some(LocalTime(1_500_000)));
    }

    #[test]
    fn revoke_returns_attached_keys_in_order() {
        let mut l = primary();
        l.grant(7, 5_000, MIN_TTL, LocalTime(0), None).unwrap();
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
        l.grant(1, 5_000, MIN_TTL, LocalTime(0), None).unwrap();
        assert_eq!(l.renew(1, LocalTime(4_000_000), true), Ok((5_000, false)));
        assert_eq!(l.expiry(1), Some(LocalTime(9_000_000)));
        let mut follower = Lessor::default();
        follower.grant(1, 5_000, MIN_TTL, LocalTime(0), None).unwrap();
        assert_eq!(follower.renew(1, LocalTime(0), true), Err(LessorError::NotPrimary));
        assert_eq!(follower.expiry(1), None, "followers hold key leases forever");
        assert!(follower.expired(LocalTime(i64::MAX / 2), 10, 3_000).is_empty());
    }

    #[test]
    fn keep_alive_after_a_checkpoint_asks_for_a_reset() {
        let mut l = primary();
        l.grant(1, 5_000, MIN_TTL, LocalTime(0), None).unwrap();
        l.checkpoint(1, 2_000, LocalTime(0), None);
        assert_eq!(l.renew(1, LocalTime(0), true), Ok((5_000, true)));
        assert_eq!(l.renew(1, LocalTime(0), false), Ok((5_000, false)), "checkpointing off: no reset");
    }

    #[test]
    fn promote_uses_the_checkpointed_remaining_ttl() {
        let mut l = Lessor::default();
        l.grant(1, 10_000, MIN_TTL, LocalTime(0), None).unwrap();
        l.grant(2, 10_000, MIN_TTL, LocalTime(0), None).unwrap();
        l.checkpoint(1, 3_000, LocalTime(0), None);
        l.promote(LocalTime(100_000_000), 1_000, None);
        assert_eq!(l.expiry(1), Some(LocalTime(104_000_000)), "now + election timeout + checkpointed 3 s");
        assert_eq!(l.expiry(2), Some(LocalTime(111_000_000)), "no checkpoint: full TTL");
        l.demote();
        assert_eq!(l.expiry(1), None);
    }

    #[test]
    fn expired_key_leases_are_rate_limited_and_retried() {
        let mut l = primary();
        for id in 1..=5 {
            l.grant(id, 2_000, MIN_TTL, LocalTime(0), None).unwrap();
        }
        assert_eq!(l.expired(LocalTime(1_000_000), 10, 3_000), Vec::<u64>::new());
        assert_eq!(l.expired(LocalTime(2_000_000), 3, 3_000), vec![1, 2, 3]);
        assert_eq!(l.expired(LocalTime(2_500_000), 10, 3_000), vec![4, 5], "proposed ones wait for the retry interval");
        assert_eq!(l.expired(LocalTime(5_000_000), 10, 3_000), vec![1, 2, 3]);
    }

    #[test]
    fn time_to_live_reports_remaining_on_the_primary() {
        let mut l = primary();
        l.grant(1, 5_000, MIN_TTL, LocalTime(0), None).unwrap();
        l.attach("k", 1).unwrap();
        let t = l.time_to_live(1, LocalTime(1_000_000)).unwrap();
        assert_eq!((t.granted_ttl_ms, t.remaining_ms, t.keys), (5_000, Some(4_000), vec!["k".to_string()]));
        l.demote();
        assert_eq!(l.time_to_live(1, LocalTime(0)).unwrap().remaining_ms, None);
    }

    /// etcd's `scheduleCheckpointIfNeeded` and `findDueScheduledCheckpoints`: only a key lease
    /// whose remaining TTL is longer than the interval is scheduled, one interval ahead; when
    /// due, its remaining time is checkpointed in whole seconds rounded up, unless it has not
    /// dropped below the TTL (renewed meanwhile).
    #[test]
    fn checkpoints_are_scheduled_per_key_lease_as_etcd_does() {
        let interval = Some(5_000);
        let mut l = primary();
        l.grant(1, 3_000, MIN_TTL, LocalTime(0), interval).unwrap(); // shorter than the interval
        l.grant(2, 10_000, MIN_TTL, LocalTime(0), interval).unwrap();
        l.grant(3, 10_000, MIN_TTL, LocalTime(0), interval).unwrap();
        let scheduled: Vec<(i64, u64)> = l.scheduled_checkpoints().map(|(at, id)| (at.0, id)).collect();
        assert_eq!(scheduled, vec![(5_000_000, 2), (5_000_000, 3)], "key lease 1 (3 s ≤ 5 s) is never checkpointed");
        assert_eq!(l.due_checkpoints(LocalTime(4_999_999), 10), vec![], "not due yet");
        // Key lease 3 was renewed at 4.5 s: at 5 s it has 9.5 s left, rounded up 10 s = its TTL.
        l.renew(3, LocalTime(4_500_000), true).unwrap();
        assert_eq!(l.due_checkpoints(LocalTime(5_000_000), 10), vec![(2, 5_000)]);
        assert_eq!(l.due_checkpoints(LocalTime(5_400_000), 10), vec![], "each schedule fires once");
        // Applied on the primary, a checkpoint schedules the next one only if the checkpointed
        // remaining TTL is still longer than the interval: 5 s is not.
        l.checkpoint(2, 5_000, LocalTime(5_400_000), interval);
        assert_eq!(l.scheduled_checkpoints().count(), 0);
        // A keep-alive's reset (remaining 0: the full TTL again) is.
        l.checkpoint(2, 0, LocalTime(5_400_000), interval);
        assert_eq!(l.scheduled_checkpoints().map(|(at, id)| (at.0, id)).collect::<Vec<_>>(), vec![(10_400_000, 2)]);
        // Off: nothing is scheduled; demoted: nothing stays scheduled.
        let mut off = primary();
        off.grant(9, 60_000, MIN_TTL, LocalTime(0), None).unwrap();
        assert_eq!(off.scheduled_checkpoints().count(), 0);
        l.demote();
        assert_eq!(l.scheduled_checkpoints().count(), 0);
        assert_eq!(l.due_checkpoints(LocalTime(20_000_000), 10), vec![]);
    }

    /// etcd's `Promote` with at least `leaseRevokeRate` key leases: expiries that pile up in one
    /// second are spread so that about three quarters of the revoke rate expire per second, and
    /// each spread key lease is scheduled for a checkpoint too.
    #[test]
    fn promote_spreads_a_pile_of_expiries() {
        let mut follower = Lessor::default();
        let n = 2 * KEY_LEASE_REVOKE_RATE as u64;
        for id in 1..=n {
            follower.grant(id, 10_000, MIN_TTL, LocalTime(0), None).unwrap();
        }
        follower.promote(LocalTime(0), 1_000, Some(5_000));
        let mut expiries: Vec<i64> = (1..=n).map(|id| follower.expiry(id).unwrap().0).collect();
        expiries.sort();
        let target = 3 * KEY_LEASE_REVOKE_RATE / 4;
        assert!(expiries[..target].iter().all(|e| *e == 11_000_000), "the first three quarters keep their expiry");
        assert!(expiries[target] > 11_000_000, "the next is moved later");
        let last = *expiries.last().unwrap();
        assert_eq!(last, 11_000_000 + 1_000_000 * n as i64 / target as i64, "the last moved by n / target seconds");
        // No one-second window from the first expiry on holds more than the target, plus the
        // one that opened it.
        for start in (11_000_000..last).step_by(250_000) {
            let in_window = expiries.iter().filter(|e| (start..start + 1_000_000).contains(*e)).count();
            assert!(in_window <= target + 1, "{in_window} key leases expire in [{start}, +1 s)");
        }
        assert_eq!(follower.scheduled_checkpoints().count(), n as usize + (n as usize - target));
        let promotion = follower.promotion().expect("primary");
        assert_eq!((promotion.key_leases, promotion.spread), (n as usize, n as usize - target));
        assert_eq!(promotion.max_delay_ms, (last - 11_000_000) / 1_000, "what the inspector shows");
        // Fewer than the revoke rate: nothing moves.
        let mut few = Lessor::default();
        for id in 1..=10 {
            few.grant(id, 10_000, MIN_TTL, LocalTime(0), None).unwrap();
        }
        few.promote(LocalTime(0), 1_000, None);
        assert!((1..=10).all(|id| few.expiry(id) == Some(LocalTime(11_000_000))));
        assert_eq!(few.promotion().map(|p| (p.key_leases, p.spread)), Some((10, 0)));
        few.demote();
        assert_eq!(few.promotion(), None);
    }
}
