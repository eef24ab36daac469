//! Time as the client sees it: a monotonic `now` and `sleep`, injectable so tests run on
//! tokio's paused clock or on a [`ManualClock`] that never waits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

/// A boxed future returned by [`Clock::sleep`].
pub type SleepFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Monotonic time and sleeping. Every wait of the client (backoff, rate limit, polling) goes
/// through this, so tests control it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time elapsed since an arbitrary fixed origin.
    fn now(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture<'_>;
}

/// The tokio clock (respects `tokio::time::pause()`).
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl TokioClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A virtual clock: `sleep` returns at once after advancing `now` by the duration and
/// recording it. For tests that talk to a real loopback server (where tokio's paused clock
/// would also fire the HTTP stack's own timers).
#[derive(Debug, Default)]
pub struct ManualClock {
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl ManualClock {
    /// A clock at zero with no recorded sleeps.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward without recording a sleep.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = s.0.saturating_add(by);
        }
    }

    /// Every duration slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().map(|s| s.1.clone()).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.state.lock().map(|s| s.0).unwrap_or_default()
    }

    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        if let Ok(mut s) = self.state.lock() {
            s.0 = s.0.saturating_add(duration);
            s.1.push(duration);
        }
        Box::pin(tokio::task::yield_now())
    }
}
