//! `UserCache`: the accounts behind recent access tokens, so that an
//! authenticated request need not go to the database (and through the
//! blocking pool) only to learn that its user still exists.
//!
//! Only on SQLite, where one server owns the database: an account deleted
//! through this server is forgotten at once. PostgreSQL serves several
//! replicas, and an account deleted through one of them must get 401 on
//! all of them at once (API.md), so there every request asks the database.
//! The entries also expire after a few seconds, which bounds what a second
//! process on the same SQLite file (`council ask` beside the TUI, both in
//! local mode) could see of an account the other one deleted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::AuthUser;

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// At most this many accounts are kept; when full, the expired ones go,
/// and if none has, everything (the next requests refill it).
const CAPACITY: usize = 10_000;

/// Recently seen accounts by id.
#[derive(Debug, Default)]
pub struct UserCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<String, (AuthUser, Instant)>,
    /// Bumped by every deletion; a lookup that started before one may not
    /// store what it read (it may be the account just deleted).
    epoch: u64,
}

/// Where a lookup started: pass it back to [`UserCache::insert`].
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl UserCache {
    /// The account `id`, if seen within [`TTL`]; else the epoch to give
    /// [`insert`](Self::insert) with what the database says.
    pub fn get(&self, id: &str) -> Result<AuthUser, Epoch> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: &str, now: Instant) -> Result<AuthUser, Epoch> {
        let inner = self.lock();
        match inner.users.get(id) {
            Some((user, seen)) if now.duration_since(*seen) < TTL => Ok(user.clone()),
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
        inner.users.insert(user.id.clone(), (user.clone(), now));
    }

    /// Forgets the account `id`: call once its deletion has committed.
    pub fn forget(&self, id: &str) {
        let mut inner = self.lock();
        inner.epoch = inner.epoch.wrapping_add(1);
        inner.users.remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map is valid whatever a panicking holder left half done.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> AuthUser {
        AuthUser {
            id: id.to_owned(),
            email: format!("{id}@example.com"),
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn remembers_for_the_ttl_only() {
        let cache = UserCache::default();
        let t0 = Instant::now();
        let epoch = cache.get_at("a", t0).expect_err("empty");
        cache.insert_at(&user("a"), epoch, t0);
        let hit = cache.get_at("a", t0 + TTL / 2).expect("fresh");
        assert_eq!(hit.email, "a@example.com");
        assert!(cache.get_at("a", t0 + TTL).is_err(), "expired");
        assert!(cache.get_at("b", t0).is_err());
    }

    #[test]
    fn a_deleted_account_is_gone_at_once() {
        let cache = UserCache::default();
        let epoch = cache.get("a").expect_err("empty");
        cache.insert(&user("a"), epoch);
        cache.forget("a");
        assert!(cache.get("a").is_err());
    }

    #[test]
    fn a_lookup_that_raced_a_deletion_is_not_stored() {
        let cache = UserCache::default();
        // A request read the account, then the account was deleted before
        // the request stored what it read.
        let epoch = cache.get("a").expect_err("empty");
        cache.forget("a");
        cache.insert(&user("a"), epoch);
        assert!(cache.get("a").is_err());
        // Later lookups are stored again.
        let epoch = cache.get("b").expect_err("empty");
        cache.insert(&user("b"), epoch);
        assert!(cache.get("b").is_ok());
    }

    #[test]
    fn stays_bounded() {
        let cache = UserCache::default();
        let t0 = Instant::now();
        let fill = |at: Instant, prefix: &str| {
            for i in 0..CAPACITY {
                let epoch = cache.get_at("x", at).expect_err("never stored");
                cache.insert_at(&user(&format!("{prefix}{i}")), epoch, at);
            }
        };
        fill(t0, "a");
        assert_eq!(cache.lock().users.len(), CAPACITY);
        // Expired entries make room first.
        let later = t0 + TTL;
        let epoch = cache.get_at("new", later).expect_err("absent");
        cache.insert_at(&user("new"), epoch, later);
        assert_eq!(cache.lock().users.len(), 1);
        // With none expired, it starts over.
        fill(later, "b");
        assert_eq!(cache.lock().users.len(), 1);
        assert!(cache.get_at("b9999", later).is_ok());
    }
}
