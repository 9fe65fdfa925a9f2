//! A per-agent request rate limit: a GCRA limiter (the `governor` crate)
//! keyed by agent. HTTP-adapter policy, off by default; turn it on with
//! [`Options::rate_limit`](crate::Options::rate_limit).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use talk_core::AgentId;

use crate::error::ApiError;

/// The time a limiter reads: any monotonic duration since a fixed origin.
type ClockFn = dyn Fn() -> Duration + Send + Sync;

/// A per-agent rate limit: each agent may make `burst` requests at once and
/// then `per_second` requests a second, on average (GCRA, the same as a
/// token bucket of `burst` tokens). A request over the limit answers
/// `429 rate_limited` with `Retry-After` (seconds until the agent's next
/// request would pass, rounded up).
///
/// It counts every authenticated request (after the token is checked, before
/// anything else) and every WebSocket `subscribe` frame (answered with an
/// `error` frame, code `rate_limited`). Unauthenticated requests
/// (`/healthz`, the OpenAPI document, and `401` answers) are not counted.
#[derive(Clone)]
pub struct RateLimit {
    per_second: f64,
    burst: NonZeroU32,
    clock: LimitClock,
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit").field("per_second", &self.per_second).field("burst", &self.burst).finish()
    }
}

impl RateLimit {
    /// `per_second` requests a second per agent on average (a positive
    /// number; fractions are fine, e.g. `0.5` for one every two seconds),
    /// with bursts of up to `burst` requests (at least 1).
    pub fn new(per_second: f64, burst: u32) -> Self {
        let origin = Instant::now();
        Self {
            per_second: if per_second.is_finite() && per_second > 0.0 { per_second } else { f64::MIN_POSITIVE },
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
            clock: LimitClock(Arc::new(move || origin.elapsed())),
        }
    }

    /// Reads time from `clock` (a monotonic duration since any fixed
    /// origin) instead of the system's monotonic clock: for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> Duration + Send + Sync + 'static) -> Self {
        self.clock = LimitClock(Arc::new(clock));
        self
    }

    /// Requests a second per agent, on average.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Requests an agent may make at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    /// The limit as governor's quota: one request every `1 / per_second`,
    /// `burst` at once. The period is kept within what governor's
    /// nanosecond arithmetic holds: at least 1 ns, and a full burst at most
    /// a century (a rate too small to mean anything is one request a
    /// century).
    fn quota(&self) -> Quota {
        const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
        let longest = CENTURY / self.burst.get();
        let period = Duration::try_from_secs_f64(self.per_second.recip()).unwrap_or(longest);
        let period = period.clamp(Duration::from_nanos(1), longest);
        // Never zero after the clamp; a quota of one a second is the fallback all the same.
        Quota::with_period(period).unwrap_or(Quota::per_second(NonZeroU32::MIN)).allow_burst(self.burst)
    }
}

/// The clock of a [`RateLimit`], as governor reads it.
#[derive(Clone)]
struct LimitClock(Arc<ClockFn>);

impl Clock for LimitClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(u64::try_from((self.0)().as_nanos()).unwrap_or(u64::MAX))
    }
}

/// The state of every agent that made a request lately.
///
/// Memory is bounded by the agents active lately: an agent whose limit has
/// recovered is the same as one never seen, and such agents are dropped
/// whenever the map has doubled since the last sweep.
pub(crate) struct Limiter {
    limiter: RateLimiter<AgentId, HashMapStateStore<AgentId>, LimitClock, NoOpMiddleware<Nanos>>,
    sweep_at: AtomicUsize,
}

/// The fewest agents held before a sweep.
const MIN_SWEEP: usize = 1024;

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        let limiter = RateLimiter::hashmap_with_clock(limit.quota(), limit.clock);
        Self { limiter, sweep_at: AtomicUsize::new(MIN_SWEEP) }
    }

    /// Counts one request of the agent, or answers `429 rate_limited`.
    pub(crate) fn check(&self, agent: &AgentId) -> Result<(), ApiError> {
        if self.limiter.len() >= self.sweep_at.load(Ordering::Relaxed) {
            self.limiter.retain_recent();
            self.sweep_at.store((self.limiter.len() * 2).max(MIN_SWEEP), Ordering::Relaxed);
        }
        self.limiter.check_key(agent).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            // Whole seconds, rounded up, at least 1.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::rate_limited(u32::try_from(seconds).unwrap_or(u32::MAX).max(1))
        })
    }

    /// Agents held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn manual(per_second: f64, burst: u32) -> (Limiter, Arc<AtomicU64>) {
        let millis = Arc::new(AtomicU64::new(0));
        let clock = millis.clone();
        let limit =
            RateLimit::new(per_second, burst).with_clock(move || Duration::from_millis(clock.load(Ordering::SeqCst)));
        (Limiter::new(limit), millis)
    }

    fn agent(n: usize) -> AgentId {
        AgentId::parse(&format!("agent-{n}")).unwrap()
    }

    #[test]
    fn a_burst_then_the_rate_with_retry_after_rounded_up() {
        let (limiter, millis) = manual(0.4, 2);
        let a = agent(1);
        assert!(limiter.check(&a).is_ok());
        assert!(limiter.check(&a).is_ok());
        let refused = limiter.check(&a).unwrap_err();
        assert_eq!((refused.status().as_u16(), refused.code()), (429, "rate_limited"));
        assert_eq!(refused.body().error.code, "rate_limited");
        // One token takes 2.5 s: 3 s, rounded up.
        assert_eq!(refused.retry_after(), Some(3));
        millis.store(2000, Ordering::SeqCst);
        assert_eq!(limiter.check(&a).unwrap_err().retry_after(), Some(1));
        millis.store(2500, Ordering::SeqCst);
        assert!(limiter.check(&a).is_ok());
        // Another agent has its own bucket.
        assert!(limiter.check(&agent(2)).is_ok());
    }

    #[test]
    fn idle_agents_are_forgotten() {
        let (limiter, millis) = manual(1.0, 1);
        for n in 0..MIN_SWEEP {
            assert!(limiter.check(&agent(n)).is_ok());
        }
        assert_eq!(limiter.len(), MIN_SWEEP);
        // Everyone's limit has recovered (governor forgets a key one period
        // after that): the next request sweeps them.
        millis.store(2000, Ordering::SeqCst);
        assert!(limiter.check(&agent(MIN_SWEEP)).is_ok());
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn nonsense_rates_do_not_panic() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let limiter = Limiter::new(RateLimit::new(rate, 0));
            assert!(limiter.check(&agent(1)).is_ok());
            assert!(limiter.check(&agent(1)).is_err());
        }
    }
}
