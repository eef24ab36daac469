//! The simulated Management Node's clock: simulated milliseconds derived lazily from a real
//! clock (wall or tokio), a scale factor and a manual offset kept on disk.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which real clock drives the simulated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockSource {
    /// The system wall clock: separate processes sharing one state directory agree on the time.
    #[default]
    Wall,
    /// `tokio::time::Instant`: follows `tokio::time::pause()` and `advance()`, so an in-process
    /// test can let minutes of simulated time pass without sleeping.
    Tokio,
}

/// The simulated clock. `now_ms(offset)` = anchor + elapsed real time × scale + offset.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    source: ClockSource,
    scale: f64,
    /// Wall: the wall-clock milliseconds at the anchor; Tokio: unused.
    wall_anchor_ms: i64,
    /// Simulated milliseconds at the anchor.
    sim_anchor_ms: i64,
    tokio_start: tokio::time::Instant,
}

pub(crate) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Clock {
    /// `wall_anchor_ms` / `sim_anchor_ms` come from the state (first start of this state dir).
    pub(crate) fn new(
        source: ClockSource,
        scale: f64,
        wall_anchor_ms: i64,
        sim_anchor_ms: i64,
    ) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let mut clock = Clock {
            source,
            scale,
            wall_anchor_ms,
            sim_anchor_ms,
            tokio_start: tokio::time::Instant::now(),
        };
        if source == ClockSource::Tokio {
            // Start the tokio-driven clock where the wall-driven one stands now.
            clock.sim_anchor_ms = clock.wall_now_ms();
        }
        clock
    }

    fn wall_now_ms(&self) -> i64 {
        let elapsed = (wall_ms() - self.wall_anchor_ms).max(0);
        self.sim_anchor_ms + (elapsed as f64 * self.scale) as i64
    }

    /// Simulated now, in milliseconds since the Unix epoch, plus the manual `offset_ms`.
    pub(crate) fn now_ms(&self, offset_ms: i64) -> i64 {
        let base = match self.source {
            ClockSource::Wall => self.wall_now_ms(),
            ClockSource::Tokio => {
                let elapsed = self.tokio_start.elapsed().as_millis() as f64;
                self.sim_anchor_ms + (elapsed * self.scale) as i64
            }
        };
        base.saturating_add(offset_ms)
    }
}

/// The anchors of this process's clock on the state `s`, for a clock running at `scale`.
///
/// The state keeps the anchors of the last process that started on it and its speed. A
/// process at another speed would otherwise scale the whole time since the first start by
/// its own speed, and a slower one would show an earlier now (an `apply --sim` at 600x
/// followed by `sim serve` at 60x would see synced nodes back at `SYNCING`). So each start
/// re-anchors: simulated time goes on from where the previous speed had taken it (and never
/// from before the latest now any process saw), at this process's speed.
pub(crate) fn reanchor(
    s: &super::store::Store<'_>,
    scale: f64,
) -> Result<(i64, i64), super::PexipSimError> {
    let wall_now = wall_ms();
    let stored = |key: &str| -> Result<Option<i64>, super::PexipSimError> {
        Ok(s.meta(key)?.and_then(|v| v.parse().ok()))
    };
    let sim_now = match (
        stored("clock_wall_anchor_ms")?,
        stored("clock_sim_anchor_ms")?,
    ) {
        (Some(wall), Some(sim)) => {
            let old_scale = s
                .meta("clock_scale")?
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                .unwrap_or(scale);
            sim + ((wall_now - wall).max(0) as f64 * old_scale) as i64
        }
        _ => wall_now,
    };
    // The high-water mark includes the manual offset; the anchor does not.
    let offset = s.offset_ms()?;
    let sim_now = sim_now.max(s.high_water_ms()?.saturating_sub(offset));
    s.set_meta("clock_wall_anchor_ms", &wall_now.to_string())?;
    s.set_meta("clock_sim_anchor_ms", &sim_now.to_string())?;
    s.set_meta("clock_scale", &scale.to_string())?;
    Ok((wall_now, sim_now))
}

/// A duration in simulated milliseconds.
pub(crate) fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Formats simulated milliseconds the way the Pexip API shows times:
/// `2021-06-15T10:43:34.123000` (UTC, no zone suffix).
pub(crate) fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}000",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        millis
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_formats_known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000000");
        assert_eq!(iso(1_623_753_814_123), "2021-06-15T10:43:34.123000");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000000");
    }

    #[test]
    fn a_restart_at_another_speed_goes_on_from_where_the_last_one_took_time() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::pexip::store::open(dir.path()).unwrap();
        let s = crate::pexip::store::Store { conn: &conn };
        // A process at 600x started 2 s ago (wall) at simulated 1_000_000.
        let wall = wall_ms() - 2_000;
        s.set_meta("clock_wall_anchor_ms", &wall.to_string())
            .unwrap();
        s.set_meta("clock_sim_anchor_ms", "1000000").unwrap();
        s.set_meta("clock_scale", "600").unwrap();
        let (_, sim) = reanchor(&s, 60.0).unwrap();
        assert!(sim >= 1_000_000 + 1_200_000, "{sim}: 2 s at 600x are kept");
        assert_eq!(s.meta("clock_scale").unwrap().as_deref(), Some("60"));
        // A now another process saw later than that bounds the new anchor.
        s.set_high_water_ms(sim + 10_000_000).unwrap();
        let (_, again) = reanchor(&s, 1.0).unwrap();
        assert!(again >= sim + 10_000_000, "{again}");
        // The high-water mark never goes back.
        s.set_high_water_ms(5).unwrap();
        assert_eq!(s.high_water_ms().unwrap(), sim + 10_000_000);
    }

    #[test]
    fn scale_multiplies_elapsed_time() {
        let now = wall_ms();
        let clock = Clock::new(ClockSource::Wall, 60.0, now - 1000, 5_000);
        let t = clock.now_ms(0);
        assert!(t >= 5_000 + 60_000, "{t}");
        assert!(clock.now_ms(10) - clock.now_ms(0) >= 10);
    }
}
