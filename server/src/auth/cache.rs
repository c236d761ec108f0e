//! `UserCache`: the accounts behind recent access tokens, so that an
//! authenticated request need not go to the database (and through the
//! blocking pool) only to learn that its user still exists.
//!
//! An account's id, email and creation time never change; the only thing
//! that can make an entry wrong is the account's deletion. The server that
//! deletes an account forgets it at once. The others (PostgreSQL replicas,
//! or a second process on the same SQLite file, such as `council ask`
//! beside the TUI in local mode) learn of it from `account_deletions`,
//! which a trigger fills and which every server polls every
//! [`POLL`] ([`spawn_poller`]). The cache only answers while its last poll
//! is younger than [`FRESH`]: if the database stops answering the polls,
//! every request asks the database again. So a deleted account's token is
//! refused by every server within about a quarter of a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::AuthUser;
use crate::db::{self, Db};

/// How often each server reads the recent deletions.
pub const POLL: Duration = Duration::from_millis(250);
/// The cache answers only this long after a successful poll started.
pub const FRESH: Duration = Duration::from_secs(1);
/// How long an entry is kept (deletions reach it through the polls; this
/// only lets unused entries go).
const TTL: Duration = Duration::from_secs(60);
/// At most this many accounts are kept; when full, the expired ones go,
/// and if none has, everything (the next requests refill it).
const CAPACITY: usize = 10_000;
/// Old deletions are pruned once every this many polls (a minute).
const PRUNE_EVERY: u32 = 240;

/// Recently seen accounts by id.
#[derive(Debug, Default)]
pub struct UserCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<Uuid, (AuthUser, Instant)>,
    /// Bumped by every deletion seen; a lookup that started before one may
    /// not store what it read (it may be the account just deleted).
    epoch: u64,
    /// Until when the entries may be trusted (see [`FRESH`]).
    fresh_until: Option<Instant>,
}

/// Where a lookup started: pass it back to [`UserCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl UserCache {
    /// The account `id`, if it may be answered from memory; else the epoch
    /// to give [`insert`](Self::insert) with what the database says.
    pub fn get(&self, id: Uuid) -> Result<AuthUser, Epoch> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: Uuid, now: Instant) -> Result<AuthUser, Epoch> {
        let inner = self.lock();
        let fresh = inner.fresh_until.is_some_and(|until| now < until);
        match inner.users.get(&id) {
            Some((user, seen)) if fresh && now.duration_since(*seen) < TTL => Ok(user.clone()),
            _ => Err(Epoch(inner.epoch)),
        }
    }

    /// Remembers `user`, read from the database since `epoch`, unless an
    /// account was deleted meanwhile.
    pub fn insert(&self, user: &AuthUser, epoch: Epoch) {
        self.insert_at(user, epoch, Instant::now());
    }

    fn insert_at(&self, user: &AuthUser, epoch: Epoch, now: Instant) {
        let mut inner = self.lock();
        if inner.epoch != epoch.0 {
            return;
        }
        if inner.users.len() >= CAPACITY && !inner.users.contains_key(&user.id) {
            inner
                .users
                .retain(|_, (_, seen)| now.duration_since(*seen) < TTL);
            if inner.users.len() >= CAPACITY {
                inner.users.clear();
            }
        }
        inner.users.insert(user.id, (user.clone(), now));
    }

    /// Forgets the account `id`: call once its deletion has committed.
    pub fn forget(&self, id: Uuid) {
        self.forget_all(&[id]);
    }

    fn forget_all(&self, ids: &[Uuid]) {
        let mut inner = self.lock();
        inner.epoch = inner.epoch.wrapping_add(1);
        for id in ids {
            inner.users.remove(id);
        }
    }

    /// A poll that started at `polled_at` found the accounts `deleted`.
    fn polled(&self, deleted: &[Uuid], polled_at: Instant) {
        if !deleted.is_empty() {
            self.forget_all(deleted);
        }
        self.lock().fresh_until = Some(polled_at + FRESH);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map is valid whatever a panicking holder left half done.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Polls `account_deletions` for `cache` every [`POLL`] until the cache is
/// dropped (with the server's state), and prunes old deletions now and
/// then.
pub fn spawn_poller(cache: &Arc<UserCache>, db: Db) {
    let weak: Weak<UserCache> = Arc::downgrade(cache);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        for n in 1u32.. {
            tick.tick().await;
            let Some(cache) = weak.upgrade() else { return };
            let started = Instant::now();
            match db.read(db::users::deleted_recently).await {
                Ok(deleted) => {
                    cache.polled(&deleted, started);
                    if failing {
                        tracing::info!("reading account deletions works again");
                        failing = false;
                    }
                }
                // Once per outage: the cache is already unused (not fresh).
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "cannot read account deletions; \
                        authenticating from the database until it can");
                    failing = true;
                }
                Err(_) => {}
            }
            if n % PRUNE_EVERY == 0 {
                let pruned = db.write_query(db::users::prune_deletions).await;
                if let Err(e) = pruned {
                    tracing::warn!(error = %e, "pruning account deletions failed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Account ids the tests can tell apart by number.
    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn user(id: Uuid) -> AuthUser {
        AuthUser {
            id,
            email: format!("{id}@example.com"),
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    /// A cache whose last poll started at `at` and found nothing.
    fn polled_at(at: Instant) -> UserCache {
        let cache = UserCache::default();
        cache.polled(&[], at);
        cache
    }

    #[test]
    fn answers_only_while_the_polls_succeed() {
        let t0 = Instant::now();
        let cache = UserCache::default();
        let (a, b) = (id(1), id(2));
        let epoch = cache.get_at(a, t0).expect_err("empty");
        cache.insert_at(&user(a), epoch, t0);
        assert!(cache.get_at(a, t0).is_err(), "never polled");
        cache.polled(&[], t0);
        let hit = cache.get_at(a, t0 + FRESH / 2).expect("fresh");
        assert_eq!(hit.email, format!("{a}@example.com"));
        assert!(cache.get_at(a, t0 + FRESH).is_err(), "no poll since");
        cache.polled(&[], t0 + FRESH);
        assert!(cache.get_at(a, t0 + FRESH).is_ok());
        assert!(cache.get_at(b, t0 + FRESH).is_err());
    }

    #[test]
    fn unused_entries_expire() {
        let t0 = Instant::now();
        let cache = polled_at(t0);
        let epoch = cache.get_at(id(1), t0).expect_err("empty");
        cache.insert_at(&user(id(1)), epoch, t0);
        cache.polled(&[], t0 + TTL);
        assert!(cache.get_at(id(1), t0 + TTL).is_err());
    }

    #[test]
    fn a_deletion_elsewhere_is_seen_at_the_next_poll() {
        let t0 = Instant::now();
        let cache = polled_at(t0);
        let (a, b, gone) = (id(1), id(2), id(3));
        for id in [a, b] {
            let epoch = cache.get_at(id, t0).expect_err("empty");
            cache.insert_at(&user(id), epoch, t0);
        }
        cache.polled(&[a, gone], t0);
        assert!(cache.get_at(a, t0).is_err());
        assert!(cache.get_at(b, t0).is_ok());
    }

    #[test]
    fn a_deleted_account_is_gone_at_once() {
        let cache = polled_at(Instant::now());
        let a = id(1);
        let epoch = cache.get(a).expect_err("empty");
        cache.insert(&user(a), epoch);
        cache.forget(a);
        assert!(cache.get(a).is_err());
    }

    #[test]
    fn a_lookup_that_raced_a_deletion_is_not_stored() {
        let cache = polled_at(Instant::now());
        // A request read the account, then the account was deleted before
        // the request stored what it read.
        let (a, b) = (id(1), id(2));
        let epoch = cache.get(a).expect_err("empty");
        cache.forget(a);
        cache.insert(&user(a), epoch);
        assert!(cache.get(a).is_err());
        // Later lookups are stored again.
        let epoch = cache.get(b).expect_err("empty");
        cache.insert(&user(b), epoch);
        assert!(cache.get(b).is_ok());
    }

    #[test]
    fn stays_bounded() {
        let t0 = Instant::now();
        let cache = polled_at(t0);
        // The ids of one fill start at `first`.
        let fill = |at: Instant, first: u128| {
            for i in 0..CAPACITY as u128 {
                let epoch = cache.get_at(id(u128::MAX), at).expect_err("never stored");
                cache.insert_at(&user(id(first + i)), epoch, at);
            }
        };
        fill(t0, 0);
        assert_eq!(cache.lock().users.len(), CAPACITY);
        // Expired entries make room first.
        let later = t0 + TTL;
        cache.polled(&[], later);
        let new = id(u128::MAX - 1);
        let epoch = cache.get_at(new, later).expect_err("absent");
        cache.insert_at(&user(new), epoch, later);
        assert_eq!(cache.lock().users.len(), 1);
        // With none expired, it starts over.
        let second = 1 << 64;
        fill(later, second);
        assert_eq!(cache.lock().users.len(), 1);
        assert!(cache.get_at(id(second + 9999), later).is_ok());
    }
}
