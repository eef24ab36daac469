//! The adaptive rate limit: one token bucket per (service, region), whose rate halves when a
//! provider answers 429 and climbs back slowly with each success (AIMD). OCI publishes no
//! request rates; a 429 is the only signal (`reference/perf-reliability.md` §2).

use std::collections::BTreeMap;
use std::time::Duration;

use pexspec_graph::Kind;
use tokio::time::Instant;

/// The service an OCI kind belongs to, or `pexip` for the Management Node's API: with the
/// region, the key of a rate-limit bucket.
pub fn service_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Compartment => "identity",
        Kind::Bucket | Kind::Object => "objectstorage",
        Kind::Image | Kind::ImageShape | Kind::Instance => "compute",
        Kind::Vcn
        | Kind::InternetGateway
        | Kind::Drg
        | Kind::DrgAttachment
        | Kind::Rpc
        | Kind::RpcPeering
        | Kind::RouteTable
        | Kind::SecurityList
        | Kind::Subnet
        | Kind::PublicIp => "network",
        Kind::ManagementBootstrap
        | Kind::DnsServer
        | Kind::NtpServer
        | Kind::Licence
        | Kind::SystemLocation
        | Kind::TlsCertificate
        | Kind::Conference
        | Kind::ConferenceAlias
        | Kind::WorkerVm
        | Kind::NodeBootstrap => "pexip",
    }
}

/// The tuning of every bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Requests per second at start.
    pub initial_rate: f64,
    /// The rate never rises above this.
    pub max_rate: f64,
    /// The rate never falls below this.
    pub min_rate: f64,
    /// The largest burst of back-to-back requests.
    pub burst: f64,
    /// Requests per second added back after each success (slow recovery).
    pub increase_per_success: f64,
    /// A second 429 within this time of a decrease does not halve the rate again: the
    /// requests already in flight were sent at the old rate.
    pub decrease_cooldown: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            initial_rate: 10.0,
            max_rate: 10.0,
            min_rate: 0.2,
            burst: 10.0,
            increase_per_success: 0.1,
            decrease_cooldown: Duration::from_secs(1),
        }
    }
}

impl RateLimit {
    /// The same settings with every value made safe (no zero, negative or NaN rate).
    fn normalised(&self) -> Self {
        let finite = |v: f64, default: f64| if v.is_finite() && v > 0.0 { v } else { default };
        let min_rate = finite(self.min_rate, 0.2).max(1e-3);
        let max_rate = finite(self.max_rate, 10.0).max(min_rate);
        Self {
            initial_rate: finite(self.initial_rate, max_rate).clamp(min_rate, max_rate),
            max_rate,
            min_rate,
            burst: finite(self.burst, 1.0).max(1.0),
            increase_per_success: if self.increase_per_success.is_finite() {
                self.increase_per_success.max(0.0)
            } else {
                0.0
            },
            decrease_cooldown: self.decrease_cooldown,
        }
    }
}

/// One AIMD token bucket on tokio time.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    config: RateLimit,
    rate: f64,
    tokens: f64,
    last_refill: Instant,
    last_decrease: Option<Instant>,
}

impl TokenBucket {
    pub(crate) fn new(config: &RateLimit, now: Instant) -> Self {
        let config = config.normalised();
        Self {
            rate: config.initial_rate,
            tokens: config.burst,
            last_refill: now,
            last_decrease: None,
            config,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.config.burst);
        self.last_refill = now;
    }

    /// Takes a token, or says when the next one will be there.
    pub(crate) fn try_acquire(&mut self, now: Instant) -> Result<(), Instant> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let secs = (1.0 - self.tokens) / self.rate;
            // Round up to the millisecond so that the wake-up finds the token there.
            let wait =
                Duration::from_millis((secs * 1000.0).ceil() as u64).max(Duration::from_millis(1));
            Err(now + wait)
        }
    }

    /// A 429: halve the rate (once per cool-down) and empty the bucket.
    pub(crate) fn throttled(&mut self, now: Instant) {
        self.refill(now);
        let cooled = self
            .last_decrease
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.decrease_cooldown);
        if cooled {
            self.rate = (self.rate / 2.0).max(self.config.min_rate);
            self.last_decrease = Some(now);
        }
        self.tokens = self.tokens.min(0.0);
    }

    /// A success: raise the rate a little.
    pub(crate) fn succeeded(&mut self) {
        self.rate = (self.rate + self.config.increase_per_success).min(self.config.max_rate);
    }

    /// The current rate, requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }
}

/// The buckets of one run, by (service, region).
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    config: Option<RateLimit>,
    buckets: BTreeMap<(&'static str, String), TokenBucket>,
}

impl Buckets {
    pub(crate) fn new(config: Option<RateLimit>) -> Self {
        Self {
            config,
            buckets: BTreeMap::new(),
        }
    }

    fn bucket(
        &mut self,
        kind: Kind,
        region: Option<&str>,
        now: Instant,
    ) -> Option<&mut TokenBucket> {
        let config = self.config.as_ref()?;
        let key = (service_of(kind), region.unwrap_or("-").to_owned());
        Some(
            self.buckets
                .entry(key)
                .or_insert_with(|| TokenBucket::new(config, now)),
        )
    }

    pub(crate) fn try_acquire(
        &mut self,
        kind: Kind,
        region: Option<&str>,
        now: Instant,
    ) -> Result<(), Instant> {
        match self.bucket(kind, region, now) {
            Some(b) => b.try_acquire(now),
            None => Ok(()),
        }
    }

    pub(crate) fn throttled(&mut self, kind: Kind, region: Option<&str>, now: Instant) {
        if let Some(b) = self.bucket(kind, region, now) {
            b.throttled(now);
        }
    }

    pub(crate) fn succeeded(&mut self, kind: Kind, region: Option<&str>, now: Instant) {
        if let Some(b) = self.bucket(kind, region, now) {
            b.succeeded();
        }
    }

    /// The current rate of every bucket used so far, for the report.
    pub(crate) fn rates(&self) -> BTreeMap<String, f64> {
        self.buckets
            .iter()
            .map(|((service, region), b)| (format!("{service}/{region}"), b.rate()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_spends_its_burst_then_paces() {
        let now = Instant::now();
        let config = RateLimit {
            initial_rate: 2.0,
            max_rate: 2.0,
            burst: 2.0,
            ..RateLimit::default()
        };
        let mut b = TokenBucket::new(&config, now);
        assert!(b.try_acquire(now).is_ok());
        assert!(b.try_acquire(now).is_ok());
        let next = b.try_acquire(now).unwrap_err();
        assert_eq!(next - now, Duration::from_millis(500));
        assert!(b.try_acquire(next).is_ok());
    }

    #[test]
    fn a_429_halves_the_rate_once_per_cooldown_and_success_recovers_slowly() {
        let now = Instant::now();
        let mut b = TokenBucket::new(&RateLimit::default(), now);
        b.throttled(now);
        assert_eq!(b.rate(), 5.0);
        b.throttled(now + Duration::from_millis(10));
        assert_eq!(b.rate(), 5.0, "a second 429 inside the cool-down");
        b.throttled(now + Duration::from_secs(2));
        assert_eq!(b.rate(), 2.5);
        for _ in 0..10 {
            b.succeeded();
        }
        assert!((b.rate() - 3.5).abs() < 1e-9);
        for _ in 0..1000 {
            b.succeeded();
        }
        assert_eq!(b.rate(), 10.0);
    }

    #[test]
    fn nonsense_settings_never_stop_the_bucket() {
        let now = Instant::now();
        let config = RateLimit {
            initial_rate: f64::NAN,
            max_rate: 0.0,
            min_rate: -1.0,
            burst: 0.0,
            increase_per_success: f64::INFINITY,
            decrease_cooldown: Duration::ZERO,
        };
        let mut b = TokenBucket::new(&config, now);
        assert!(b.try_acquire(now).is_ok());
        let next = b.try_acquire(now).unwrap_err();
        assert!(b.try_acquire(next).is_ok());
    }
}
