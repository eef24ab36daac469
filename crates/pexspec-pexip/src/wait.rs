//! Polling with a deadline: how long to wait and how often to look. Time is measured both by
//! tokio's clock and by the sum of the sleeps, so an injected sleeper still ends the wait.

use std::time::Duration;

use crate::retry::Sleeper;

/// How long a wait may last and how often it polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long.
    pub timeout: Duration,
    /// Time between two polls.
    pub interval: Duration,
}

impl WaitOptions {
    /// A wait of `timeout`, polling every `interval`.
    pub fn new(timeout: Duration, interval: Duration) -> Self {
        WaitOptions { timeout, interval }
    }
}

pub(crate) struct Deadline {
    start: tokio::time::Instant,
    slept: Duration,
    opts: WaitOptions,
}

impl Deadline {
    pub(crate) fn new(opts: WaitOptions) -> Self {
        Deadline {
            start: tokio::time::Instant::now(),
            slept: Duration::ZERO,
            opts,
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed().max(self.slept)
    }

    /// Sleeps one interval (or what is left); `false` when the time is up.
    pub(crate) async fn next(&mut self, sleeper: &dyn Sleeper) -> bool {
        let elapsed = self.elapsed();
        if elapsed >= self.opts.timeout {
            return false;
        }
        let step = self
            .opts
            .interval
            .min(self.opts.timeout - elapsed)
            .max(Duration::from_millis(1));
        sleeper.sleep(step).await;
        self.slept += step;
        true
    }
}
