//! A per-agent request rate limit: a token bucket for each authenticated
//! agent. HTTP-adapter policy, off by default; turn it on with
//! [`Options::rate_limit`](crate::Options::rate_limit).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use talk_core::AgentId;

use crate::error::ApiError;

/// The time a limiter reads: any monotonic duration since a fixed origin.
type ClockFn = dyn Fn() -> Duration + Send + Sync;

/// A per-agent rate limit: each agent may make `burst` requests at once and
/// then `per_second` requests a second, on average (a token bucket). A
/// request over the limit answers `429 rate_limited` with `Retry-After`
/// (seconds until the agent's next request would pass, rounded up).
///
/// It counts every authenticated request (after the token is checked, before
/// anything else) and every WebSocket `subscribe` frame (answered with an
/// `error` frame, code `rate_limited`). Unauthenticated requests
/// (`/healthz`, the OpenAPI document, and `401` answers) are not counted.
#[derive(Clone)]
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    clock: Arc<ClockFn>,
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
            burst: f64::from(burst.max(1)),
            clock: Arc::new(move || origin.elapsed()),
        }
    }

    /// Reads time from `clock` (a monotonic duration since any fixed
    /// origin) instead of the system's monotonic clock: for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> Duration + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Requests a second per agent, on average.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Requests an agent may make at once.
    pub fn burst(&self) -> u32 {
        // Built from a u32.
        self.burst as u32
    }
}

/// One agent's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Duration,
}

/// The buckets of every agent that made a request lately.
///
/// Memory is bounded by the agents active lately: an agent whose bucket
/// has filled up again is the same as one never seen, and such buckets are
/// dropped whenever the map has doubled since the last sweep.
pub(crate) struct Limiter {
    limit: RateLimit,
    state: Mutex<State>,
}

struct State {
    buckets: HashMap<AgentId, Bucket>,
    sweep_at: usize,
}

/// The fewest buckets before a sweep.
const MIN_SWEEP: usize = 1024;

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self { limit, state: Mutex::new(State { buckets: HashMap::new(), sweep_at: MIN_SWEEP }) }
    }

    /// Takes one token of the agent's bucket, or answers `429 rate_limited`.
    pub(crate) fn check(&self, agent: &AgentId) -> Result<(), ApiError> {
        let now = (self.limit.clock)();
        let RateLimit { per_second, burst, .. } = self.limit;
        // The map is never left half-changed: a poisoned lock is still usable.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let refill = |bucket: &Bucket| {
            let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
            (bucket.tokens + elapsed * per_second).min(burst)
        };
        if !state.buckets.contains_key(agent) && state.buckets.len() >= state.sweep_at {
            state.buckets.retain(|_, bucket| refill(bucket) < burst);
            state.sweep_at = (state.buckets.len() * 2).max(MIN_SWEEP);
        }
        let bucket = state.buckets.entry(agent.clone()).or_insert(Bucket { tokens: burst, at: now });
        let tokens = refill(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            return Ok(());
        }
        *bucket = Bucket { tokens, at: now };
        let wait = ((1.0 - tokens) / per_second).ceil().clamp(1.0, f64::from(u32::MAX));
        // Clamped to the range of u32 above.
        Err(ApiError::rate_limited(wait as u32))
    }

    /// Buckets held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).buckets.len()
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
        // Everyone's bucket has filled again: the next new agent sweeps them.
        millis.store(1000, Ordering::SeqCst);
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
