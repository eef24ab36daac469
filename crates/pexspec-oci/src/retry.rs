//! The retry policy: which answers are retried (see [`crate::OciError::is_retryable`]), how
//! long to wait (exponential backoff with full jitter, or the service's `Retry-After`), and
//! when to give up (attempts and total time), like the official SDKs' default strategy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::error::OciError;

/// How the client retries retryable failures.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (the SDKs: 8). 1 disables retries.
    pub max_attempts: u32,
    /// The backoff cap before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// The largest backoff cap (the SDKs: 30 s).
    pub max_delay: Duration,
    /// Give up when the next wait would end later than this after the first attempt
    /// (the Python SDK: 600 s).
    pub max_elapsed: Duration,
    /// The longest `Retry-After` honoured; longer values are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is returned at once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff cap before retry number `retry` (1 for the first retry):
    /// `min(max_delay, base_delay × 2^(retry-1))`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(30));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Full jitter: a uniform point in `[0, backoff_cap(retry)]` chosen by `unit` ∈ [0, 1).
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.backoff_cap(retry).mul_f64(unit)
    }
}

/// The retries a client made, by cause, shared by every clone of one [`crate::OciClient`]
/// (read them with [`crate::OciClient::retry_counts`]). A retry is counted when the client
/// decides to send a call again, not when it gives up.
#[derive(Debug, Default)]
pub struct RetryStats {
    throttled: AtomicU64,
    server_errors: AtomicU64,
    other: AtomicU64,
}

/// A snapshot of [`RetryStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryCounts {
    /// Calls sent again after `429 TooManyRequests`.
    pub throttled: u64,
    /// Calls sent again after a 5xx answer.
    pub server_errors: u64,
    /// Calls sent again after anything else retryable: a `409` conflict of state, a network
    /// error or a timeout.
    pub other: u64,
}

impl RetryCounts {
    /// Every retry.
    pub fn total(&self) -> u64 {
        self.throttled + self.server_errors + self.other
    }
}

impl RetryStats {
    /// Counts one retry after `error`.
    pub fn record(&self, error: &OciError) {
        let counter = match error.status() {
            Some(429) => &self.throttled,
            Some(500..=599) => &self.server_errors,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn counts(&self) -> RetryCounts {
        RetryCounts {
            throttled: self.throttled.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

/// Parses a `Retry-After` value: delay seconds, or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_up_to_the_maximum() {
        let p = RetryPolicy::default();
        let caps: Vec<u64> = (1..=8).map(|n| p.backoff_cap(n).as_secs()).collect();
        assert_eq!(caps, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.backoff_cap(1000), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_stays_in_range() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(3, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(3, 0.5), Duration::from_secs(2));
        assert!(p.backoff(3, 0.999) < Duration::from_secs(4));
        assert_eq!(p.backoff(3, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn retries_are_counted_by_cause() {
        let service = |status: u16| {
            OciError::Service(crate::error::ServiceError {
                operation: "ListVcns",
                status,
                code: String::new(),
                message: String::new(),
                opc_request_id: String::new(),
                retry_after: None,
            })
        };
        let stats = RetryStats::default();
        stats.record(&service(429));
        stats.record(&service(429));
        stats.record(&service(500));
        stats.record(&service(503));
        stats.record(&service(409));
        stats.record(&OciError::Network {
            operation: "ListVcns",
            message: "reset".into(),
        });
        let counts = stats.counts();
        assert_eq!(
            counts,
            RetryCounts {
                throttled: 2,
                server_errors: 2,
                other: 2
            }
        );
        assert_eq!(counts.total(), 6);
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(12))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
