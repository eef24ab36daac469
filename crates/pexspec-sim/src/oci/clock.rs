//! The simulator clock: wall time or a frozen time, an offset tests can advance, and a
//! speed factor that shortens every simulated duration.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The clock every lifecycle transition of the OCI simulator is measured on.
///
/// Time is never simulated by background tasks: each resource stores the instants at which
/// its state changes, computed when the change is requested as `now + nominal / speed`, and a
/// read compares them with [`SimClock::now_ms`]. So separate processes that share one state
/// directory agree on every state as long as they read the wall clock.
///
/// * [`SimClock::scaled`]: wall time; every nominal duration (an image import takes 22
///   minutes in OCI) is divided by `speed` (`speed = 1000.0` makes it 1.3 s).
/// * [`SimClock::manual`]: frozen at the moment it is made; it moves only by
///   [`SimClock::advance`]. Nominal durations are not scaled (speed 1), so a test advances by
///   the real OCI durations.
///
/// Clones share the same offset, so a test can keep one and advance the simulator's clock.
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    speed: f64,
    frozen_at_ms: Option<i64>,
    offset_ms: AtomicI64,
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock::scaled(1.0)
    }
}

impl SimClock {
    /// Wall time with every simulated duration divided by `speed` (values below 0.001, NaN
    /// and infinities are replaced by 1.0).
    pub fn scaled(speed: f64) -> SimClock {
        let speed = if speed.is_finite() && speed >= 0.001 {
            speed
        } else {
            1.0
        };
        SimClock {
            inner: Arc::new(Inner {
                speed,
                frozen_at_ms: None,
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// A clock frozen at the current wall time that moves only when advanced.
    pub fn manual() -> SimClock {
        SimClock {
            inner: Arc::new(Inner {
                speed: 1.0,
                frozen_at_ms: Some(wall_ms()),
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// The speed factor (1.0 for a manual clock).
    pub fn speed(&self) -> f64 {
        self.inner.speed
    }

    /// Whether this clock moves only when advanced.
    pub fn is_manual(&self) -> bool {
        self.inner.frozen_at_ms.is_some()
    }

    /// Milliseconds since the Unix epoch on this clock.
    pub fn now_ms(&self) -> i64 {
        let base = self.inner.frozen_at_ms.unwrap_or_else(wall_ms);
        base.saturating_add(self.inner.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock forward (works on scaled clocks too: it adds an offset to wall time).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.inner.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// How long a nominal OCI duration lasts on this clock, in milliseconds (at least 1).
    pub fn scale_ms(&self, nominal: Duration) -> i64 {
        let ms = nominal.as_secs_f64() * 1000.0 / self.inner.speed;
        if ms < 1.0 {
            1
        } else {
            ms.min(i64::MAX as f64 / 2.0) as i64
        }
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let c = SimClock::manual();
        let t0 = c.now_ms();
        assert_eq!(c.now_ms(), t0);
        c.clone().advance(Duration::from_secs(60));
        assert_eq!(c.now_ms(), t0 + 60_000);
        assert_eq!(c.scale_ms(Duration::from_secs(60)), 60_000);
    }

    #[test]
    fn scaled_clock_divides_durations() {
        let c = SimClock::scaled(1000.0);
        assert_eq!(c.scale_ms(Duration::from_secs(22 * 60)), 1320);
        assert_eq!(c.scale_ms(Duration::from_millis(1)), 1);
        assert_eq!(SimClock::scaled(f64::NAN).speed(), 1.0);
    }
}
