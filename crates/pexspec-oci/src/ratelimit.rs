//! The adaptive rate limit shared by all requests to one (service, region): a token bucket
//! whose rate follows AIMD — halved on a 429 (at most once per cool-down), raised a little
//! after each success — so the client slows down on throttling instead of failing.

use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;

/// Tuning of the adaptive rate limit. OCI publishes no request rates: 429 is the signal.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    /// Requests per second at start.
    pub initial_rate: f64,
    /// The rate never rises above this.
    pub max_rate: f64,
    /// The rate never falls below this.
    pub min_rate: f64,
    /// Largest burst of back-to-back requests (bucket size), never above the current rate.
    pub burst: f64,
    /// Requests per second added after each success (additive increase).
    pub increase_per_success: f64,
    /// A second 429 within this time of a decrease does not halve the rate again (the
    /// requests already in flight saw the old rate).
    pub decrease_cooldown: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            initial_rate: 10.0,
            max_rate: 10.0,
            min_rate: 0.2,
            burst: 5.0,
            increase_per_success: 0.1,
            decrease_cooldown: Duration::from_secs(1),
        }
    }
}

#[derive(Debug)]
struct State {
    rate: f64,
    tokens: f64,
    last_refill: Duration,
    last_decrease: Option<Duration>,
}

/// One AIMD token bucket.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    state: Mutex<State>,
}

impl RateLimiter {
    /// A full bucket at `config.initial_rate`, its clock origin at `now`.
    pub fn new(mut config: RateLimitConfig, now: Duration) -> Self {
        // Normalise so no setting can stop the bucket or panic (NaN, zero, min above max).
        config.min_rate = config.min_rate.max(1e-3);
        config.max_rate = config.max_rate.max(config.min_rate);
        config.increase_per_success = config.increase_per_success.max(0.0);
        let rate = config
            .initial_rate
            .max(config.min_rate)
            .min(config.max_rate);
        let tokens = capacity(&config, rate);
        Self {
            config,
            state: Mutex::new(State {
                rate,
                tokens,
                last_refill: now,
                last_decrease: None,
            }),
        }
    }

    /// The current rate in requests per second.
    pub fn rate(&self) -> f64 {
        self.state
            .lock()
            .map(|s| s.rate)
            .unwrap_or(self.config.min_rate)
    }

    /// Waits (through `clock`) until a request may be sent, and takes its token.
    pub async fn acquire(&self, clock: &dyn Clock) {
        loop {
            let wait = {
                let Ok(mut s) = self.state.lock() else { return };
                let now = clock.now();
                let elapsed = now.saturating_sub(s.last_refill).as_secs_f64();
                let cap = capacity(&self.config, s.rate);
                s.tokens = (s.tokens + elapsed * s.rate).min(cap);
                s.last_refill = now;
                if s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64(((1.0 - s.tokens) / s.rate).clamp(0.001, 3600.0))
            };
            clock.sleep(wait).await;
        }
    }

    /// A request was throttled (429): halve the rate (once per cool-down) and empty the bucket.
    pub fn on_throttled(&self, now: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.tokens = s.tokens.min(0.0);
            let cooling = s
                .last_decrease
                .is_some_and(|t| now.saturating_sub(t) < self.config.decrease_cooldown);
            if !cooling {
                s.rate = (s.rate / 2.0).max(self.config.min_rate);
                s.last_decrease = Some(now);
            }
        }
    }

    /// A request succeeded: raise the rate a little.
    pub fn on_success(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.rate = (s.rate + self.config.increase_per_success).min(self.config.max_rate);
        }
    }
}

fn capacity(config: &RateLimitConfig, rate: f64) -> f64 {
    config.burst.min(rate).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TokioClock;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_paces_requests_at_its_rate() {
        let clock = TokioClock::new();
        let cfg = RateLimitConfig {
            initial_rate: 4.0,
            max_rate: 4.0,
            burst: 2.0,
            ..RateLimitConfig::default()
        };
        let limiter = RateLimiter::new(cfg, clock.now());
        let start = tokio::time::Instant::now();
        for _ in 0..10 {
            limiter.acquire(&clock).await;
        }
        // Two from the full bucket, then eight at 4 per second: 2 s of (paused) time.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1990) && took <= Duration::from_millis(2100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_once_per_cooldown_and_success_recovers_slowly() {
        let clock = TokioClock::new();
        let limiter = RateLimiter::new(RateLimitConfig::default(), clock.now());
        assert_eq!(limiter.rate(), 10.0);
        limiter.on_throttled(clock.now());
        limiter.on_throttled(clock.now());
        assert_eq!(limiter.rate(), 5.0, "a burst of 429s halves once");
        tokio::time::advance(Duration::from_secs(2)).await;
        limiter.on_throttled(clock.now());
        assert_eq!(limiter.rate(), 2.5);
        for _ in 0..10 {
            limiter.on_success();
        }
        assert!((limiter.rate() - 3.5).abs() < 1e-9);
        for _ in 0..1000 {
            limiter.on_success();
        }
        assert_eq!(limiter.rate(), 10.0);
        for _ in 0..100 {
            tokio::time::advance(Duration::from_secs(2)).await;
            limiter.on_throttled(clock.now());
        }
        assert_eq!(limiter.rate(), 0.2, "never below the floor");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_429_the_next_request_waits() {
        let clock = TokioClock::new();
        let limiter = RateLimiter::new(RateLimitConfig::default(), clock.now());
        limiter.on_throttled(clock.now());
        let start = tokio::time::Instant::now();
        limiter.acquire(&clock).await;
        // Empty bucket at 5/s: one token takes 200 ms.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(199) && took <= Duration::from_millis(210),
            "{took:?}"
        );
    }
}
