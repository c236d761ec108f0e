//! Limits on register and login attempts, per client address and per email,
//! so that neither one machine nor a distributed guesser aimed at one account
//! gets more than a trickle of password checks.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts per email: a burst of 10, then one every 30 seconds.
const EMAIL_BURST: u32 = 10;
const EMAIL_PERIOD: Duration = Duration::from_secs(30);
/// Forget idle keys every this many checks, so the maps stay small.
const SWEEP_EVERY: u32 = 1024;

/// Per-address and per-email limiters (in memory: each replica keeps its own,
/// which bounds guessing per replica; the bcrypt cost bounds it overall).
pub struct AuthLimiter {
    by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    by_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU32,
}

impl std::fmt::Debug for AuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimiter").finish_non_exhaustive()
    }
}

impl AuthLimiter {
    /// `per_minute` attempts per client address, as a burst refilled evenly
    /// over a minute; 0 turns the address limit off.
    pub fn new(per_minute: u32) -> Self {
        let by_address =
            NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        let email_quota = Quota::with_period(EMAIL_PERIOD)
            .map(|q| q.allow_burst(NonZeroU32::new(EMAIL_BURST).unwrap_or(NonZeroU32::MIN)))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN));
        Self {
            by_address,
            by_email: RateLimiter::keyed(email_quota),
            clock: DefaultClock::default(),
            checks: AtomicU32::new(0),
        }
    }

    /// Counts one attempt; `Err` holds how long until the next is allowed.
    pub fn check(&self, address: IpAddr, email: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Some(l) = &self.by_address {
                l.retain_recent();
            }
            self.by_email.retain_recent();
        }
        if let Some(l) = &self.by_address {
            l.check_key(&address)
                .map_err(|not_until| not_until.wait_time_from(self.clock.now()))?;
        }
        self.by_email
            .check_key(&email.trim().to_lowercase())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_and_email_limits_are_separate() {
        let l = AuthLimiter::new(3);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        for i in 0..3 {
            assert!(l.check(a, &format!("u{i}@x.io")).is_ok());
        }
        let wait = l
            .check(a, "u9@x.io")
            .expect_err("fourth from one address is refused");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60));
        assert!(
            l.check(b, "u9@x.io").is_ok(),
            "another address is not affected"
        );

        let l = AuthLimiter::new(0);
        for _ in 0..EMAIL_BURST {
            assert!(l.check(a, "Victim@x.io ").is_ok());
        }
        assert!(
            l.check(b, "victim@x.io").is_err(),
            "per email, from any address"
        );
        assert!(l.check(b, "other@x.io").is_ok());
    }
}
