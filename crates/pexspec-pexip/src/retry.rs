//! Retry policy (exponential backoff with jitter) and the injectable sleeper used by retries
//! and by every wait of this crate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Sleeps; injected so tests can run on paused tokio time or count the waits.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// `tokio::time::sleep` (follows `tokio::time::pause()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// When and how often to try a call again.
///
/// Retried: connection failures, HTTP 429 and 5xx on GET, PATCH, PUT and DELETE. A POST is
/// retried only when the connection failed before the request was sent: a POST that reached the
/// server may have created the object, and the next `ensure` finds it instead.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1: never retry).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub base_delay: Duration,
    /// Upper bound of any delay.
    pub max_delay: Duration,
    /// Spread each delay over its upper half at random, so retries of many clients do not
    /// arrive together.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1-based): `base × 2^(retry-1)`, capped at
    /// `max_delay`; with jitter, uniform in its upper half (`unit` in `[0, 1)` is the random
    /// draw).
    pub fn delay(&self, retry: u32, unit: f64) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let raw = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        if !self.jitter {
            return raw;
        }
        let unit = unit.clamp(0.0, 1.0);
        raw / 2 + raw.mul_f64(unit / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_cap() {
        let p = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(2, 0.0), Duration::from_secs(1));
        assert_eq!(p.delay(3, 0.0), Duration::from_secs(2));
        assert_eq!(p.delay(10, 0.0), Duration::from_secs(20));
        assert_eq!(p.delay(40, 0.0), Duration::from_secs(20));
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(2, 0.0), Duration::from_millis(500));
        assert!(p.delay(2, 0.999) < Duration::from_secs(1));
        assert!(p.delay(2, 0.5) > Duration::from_millis(700));
    }
}
