//! The knobs of a run: concurrency, failure policy, retries, polling, the rate limit and the
//! duration estimates, with the defaults `pexspec apply` uses.

use std::time::Duration;

use crate::durations::Durations;
use crate::ratelimit::RateLimit;

/// In which order ready steps start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priority {
    /// The step heading the longest remaining chain of estimated durations first; ties by
    /// address. The slow chains (image import → instance launch → node sync) start first.
    #[default]
    CriticalPath,
    /// Plain topological order (the plan's order), as a greedy walker like Terraform's
    /// starts them. For comparison.
    Topological,
}

/// Retries of a failed call: only errors whose
/// [`is_retryable`](pexspec_plan::ProviderError::is_retryable) says so, with exponential
/// backoff and full jitter, honouring the provider's `Retry-After`, bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts of one call, the first included (8, as the OCI SDK).
    pub max_attempts: u32,
    /// The backoff cap of the first retry; it doubles with each retry.
    pub base: Duration,
    /// The largest backoff cap.
    pub cap: Duration,
    /// The longest `Retry-After` honoured as given; longer ones are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// No retry at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1 for the first): the provider's
    /// `Retry-After` if it gave one (at most [`max_retry_after`](Self::max_retry_after)),
    /// else uniform in `[0, min(cap, base · 2^(retry-1))]` ("full jitter").
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_retry_after);
        }
        let exp = retry.saturating_sub(1).min(30);
        let ceiling = self.base.saturating_mul(1u32 << exp).min(self.cap);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// How often a wait polls, from the operation's estimated duration `E`: the first poll after
/// `E / 50`, each next one 1.5 times later, never more than `E / 20` apart; all within
/// [`min_interval`](Self::min_interval) and [`max_interval`](Self::max_interval). A wait
/// therefore notices the end at most `E / 20` late (5 %), and a 25-minute import costs about
/// fifty polls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollPolicy {
    /// The shortest interval.
    pub min_interval: Duration,
    /// The longest interval.
    pub max_interval: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
        }
    }
}

impl PollPolicy {
    fn clamp(&self, d: Duration) -> Duration {
        d.max(self.min_interval)
            .min(self.max_interval.max(self.min_interval))
    }

    /// The delay before the first poll of a wait expected to last `expected`.
    pub fn first(&self, expected: Duration) -> Duration {
        self.clamp(expected / 50)
    }

    /// The delay after a poll that came `previous` after the one before.
    pub fn next(&self, expected: Duration, previous: Duration) -> Duration {
        let cap = self.clamp(expected / 20).max(self.first(expected));
        self.clamp(previous.mul_f64(1.5)).min(cap)
    }
}

/// Everything that tunes a run. `ExecOptions::default()` is what `pexspec apply` uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecOptions {
    /// The most API calls in flight at once (a poll is a call; a wait between polls is not).
    pub parallelism: usize,
    /// Stop starting steps after the first failure (turborepo's `AllTasks`). By default a
    /// failure skips only the steps that depend on it and every other branch finishes
    /// (`DependentTasks`).
    pub fail_fast: bool,
    /// The order in which ready steps start.
    pub priority: Priority,
    /// Hold a slot of [`parallelism`](Self::parallelism) for a step's whole life, waits
    /// included, as Terraform does. Off by default; on only to measure what it costs.
    pub hold_slot_while_waiting: bool,
    /// The duration estimates: critical-path weights, poll intervals, wait timeouts.
    pub durations: Durations,
    /// Retries of failed calls.
    pub retry: RetryPolicy,
    /// Poll intervals of waits.
    pub poll: PollPolicy,
    /// A wait fails after this many times its estimate ...
    pub wait_timeout_factor: u32,
    /// ... but never before this.
    pub min_wait_timeout: Duration,
    /// How long a resource may be absent from `get` after its create (or while the plan says
    /// it is pending) before the executor calls it missing: clouds are eventually consistent.
    pub visibility_grace: Duration,
    /// The adaptive rate limit per (service, region); `None`: no limit.
    pub rate_limit: Option<RateLimit>,
    /// Refuse a plan whose observed-state fingerprint differs from the state given.
    pub check_fingerprint: bool,
    /// The seed of the jitter: the same seed gives the same delays.
    pub seed: u64,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            parallelism: 10,
            fail_fast: false,
            priority: Priority::CriticalPath,
            hold_slot_while_waiting: false,
            durations: Durations::new(),
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            wait_timeout_factor: 4,
            min_wait_timeout: Duration::from_secs(600),
            visibility_grace: Duration::from_secs(60),
            rate_limit: Some(RateLimit::default()),
            check_fingerprint: true,
            seed: 0x5eed_0f9e_851e_c0de,
        }
    }
}

impl ExecOptions {
    /// How Terraform walks a graph, for comparison: a pool of `parallelism` slots held for a
    /// step's whole life (waits included) and the plan's topological order.
    pub fn terraform_like(parallelism: usize) -> Self {
        Self {
            parallelism,
            priority: Priority::Topological,
            hold_slot_while_waiting: true,
            ..Self::default()
        }
    }

    /// How long a wait on an operation expected to take `expected` may last.
    pub fn wait_timeout(&self, expected: Duration) -> Duration {
        expected
            .saturating_mul(self.wait_timeout_factor.max(1))
            .max(self.min_wait_timeout)
    }
}

/// A small deterministic random source for jitter (SplitMix64): no dependency, and the same
/// seed replays the same run.
#[derive(Clone, Debug)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_are_capped_and_honour_retry_after() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_secs(4));
        assert_eq!(p.delay(3, None, 0.5), Duration::from_secs(2));
        assert_eq!(p.delay(40, None, 1.0), Duration::from_secs(60));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(30)), 0.0),
            Duration::from_secs(30)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(9999)), 0.0),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn polls_follow_the_estimate() {
        let p = PollPolicy::default();
        let import = Duration::from_secs(1500);
        assert_eq!(p.first(import), Duration::from_secs(30));
        let launch = Duration::from_secs(180);
        assert_eq!(p.first(launch), Duration::from_secs_f64(3.6));
        assert_eq!(
            p.next(launch, Duration::from_secs(8)),
            Duration::from_secs(9)
        );
        let quick = Duration::from_secs(5);
        assert_eq!(p.first(quick), Duration::from_secs(1));
        assert_eq!(
            p.next(quick, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            p.next(import, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn jitter_is_uniform_enough_and_replayable() {
        let mut a = Jitter::new(7);
        let mut b = Jitter::new(7);
        let xs: Vec<f64> = (0..1000).map(|_| a.unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05);
        assert_eq!(b.unit(), xs[0]);
    }
}
