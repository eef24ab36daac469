//! Fault injection (latency, 429, 5xx, list lag, out of host capacity) driven by a seeded
//! random generator, and the per-operation call counters of `/_sim/stats`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::wire::ApiError;

/// The faults the OCI simulator injects. Set at startup ([`crate::ServeOptions::faults`]) or
/// at run time with `POST /_sim/faults` (the same JSON; it replaces the whole configuration
/// and restarts the random sequence from `seed`). All fields are optional.
///
/// ```json
/// {"seed": 7, "rate_429": 0.1, "rate_5xx": 0.05, "operations": ["ListVcns"],
///  "latency_ms": {"*": 5, "LaunchInstance": 200}, "list_lag_ms": 2000,
///  "out_of_host_capacity": [{"availability_domain": "Pjwf:EU-FRANKFURT-1-AD-1", "count": 2}]}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the random generator that decides which calls fail; same seed, same calls.
    pub seed: u64,
    /// Extra latency per operation name (`"*"` for every operation), in real milliseconds
    /// (a `tokio::time::sleep`, so paused tokio time in a test skips it).
    pub latency_ms: BTreeMap<String, u64>,
    /// Share of calls (0.0–1.0) answered `429 TooManyRequests`.
    pub rate_429: f64,
    /// Share of calls (0.0–1.0) answered `500 InternalServerError` or `503 ServiceUnavailable`.
    pub rate_5xx: f64,
    /// Operation names `rate_429` and `rate_5xx` apply to; empty means every operation.
    pub operations: Vec<String>,
    /// The `retry-after` value (seconds) sent with injected 429 and 5xx answers; default 1.
    pub retry_after_s: Option<u64>,
    /// A created resource stays absent from list calls for this long, in milliseconds of the
    /// simulator clock (not divided by the speed factor): OCI's eventual consistency.
    pub list_lag_ms: u64,
    /// LaunchInstance answers `500 InternalError "Out of host capacity."` for the first
    /// `count` launches that match each rule.
    pub out_of_host_capacity: Vec<CapacityRule>,
}

/// One "out of host capacity" rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityRule {
    /// The availability domain, e.g. `Pjwf:EU-FRANKFURT-1-AD-1`.
    pub availability_domain: String,
    /// Only launches into this fault domain (e.g. `FAULT-DOMAIN-2`); absent means any.
    #[serde(default)]
    pub fault_domain: Option<String>,
    /// Only launches of this shape; absent means any.
    #[serde(default)]
    pub shape: Option<String>,
    /// How many matching launches fail before launches succeed again.
    pub count: u32,
}

impl FaultConfig {
    /// Rejects rates outside 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, r) in [("rate_429", self.rate_429), ("rate_5xx", self.rate_5xx)] {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("`{name}` must be between 0 and 1, not {r}"));
            }
        }
        if self.rate_429 + self.rate_5xx > 1.0 {
            return Err("`rate_429` + `rate_5xx` must not exceed 1".into());
        }
        Ok(())
    }
}

/// SplitMix64: tiny, seedable, and its sequence never changes with a dependency upgrade.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The live fault state: configuration, random generator, capacity counters.
#[derive(Debug)]
pub(crate) struct Faults {
    config: FaultConfig,
    rng: SplitMix64,
    capacity_used: Vec<u32>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = SplitMix64(config.seed);
        let capacity_used = vec![0; config.out_of_host_capacity.len()];
        Faults {
            config,
            rng,
            capacity_used,
        }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// The injected latency of an operation.
    pub fn latency(&self, op: &str) -> Option<Duration> {
        self.config
            .latency_ms
            .get(op)
            .or_else(|| self.config.latency_ms.get("*"))
            .filter(|ms| **ms > 0)
            .map(|ms| Duration::from_millis(*ms))
    }

    /// Decides whether this call of `op` fails with an injected 429 or 5xx.
    pub fn draw(&mut self, op: &str) -> Option<ApiError> {
        if self.config.rate_429 <= 0.0 && self.config.rate_5xx <= 0.0 {
            return None;
        }
        if !self.config.operations.is_empty() && !self.config.operations.iter().any(|o| o == op) {
            return None;
        }
        let x = self.rng.next_f64();
        let retry_after = Some(self.config.retry_after_s.unwrap_or(1));
        if x < self.config.rate_429 {
            let mut e = ApiError::new(429, "TooManyRequests", "Too many requests for the user");
            e.retry_after = retry_after;
            return Some(e);
        }
        if x < self.config.rate_429 + self.config.rate_5xx {
            let mut e = if self.rng.next_u64().is_multiple_of(2) {
                ApiError::new(
                    500,
                    "InternalServerError",
                    "Internal server error (injected by the simulator)",
                )
            } else {
                ApiError::new(
                    503,
                    "ServiceUnavailable",
                    "Service unavailable (injected by the simulator)",
                )
            };
            e.retry_after = retry_after;
            return Some(e);
        }
        None
    }

    /// Whether this launch runs out of host capacity (counts it against the first matching rule).
    pub fn out_of_capacity(&mut self, ad: &str, fd: &str, shape: &str) -> bool {
        for (i, rule) in self.config.out_of_host_capacity.iter().enumerate() {
            let matches = rule.availability_domain.eq_ignore_ascii_case(ad)
                && rule
                    .fault_domain
                    .as_deref()
                    .is_none_or(|f| f.eq_ignore_ascii_case(fd))
                && rule.shape.as_deref().is_none_or(|s| s == shape);
            if matches && self.capacity_used[i] < rule.count {
                self.capacity_used[i] += 1;
                return true;
            }
        }
        false
    }

    /// The eventual-consistency lag of list calls, in clock milliseconds.
    pub fn list_lag_ms(&self) -> i64 {
        i64::try_from(self.config.list_lag_ms).unwrap_or(i64::MAX)
    }
}

/// Calls counted by operation name and HTTP status.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub by_op: BTreeMap<String, BTreeMap<u16, u64>>,
}

impl Stats {
    pub fn record(&mut self, op: &str, status: u16) {
        *self
            .by_op
            .entry(op.to_string())
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    /// `{"total": N, "operations": {"CreateVcn": {"200": 1, "429": 2}, …}}`
    pub fn to_json(&self) -> serde_json::Value {
        let mut total = 0u64;
        let mut ops = serde_json::Map::new();
        for (op, by_status) in &self.by_op {
            let mut m = serde_json::Map::new();
            for (status, n) in by_status {
                total += n;
                m.insert(status.to_string(), (*n).into());
            }
            ops.insert(op.clone(), m.into());
        }
        serde_json::json!({"total": total, "operations": ops})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_fails_the_same_calls() {
        let cfg = FaultConfig {
            seed: 42,
            rate_429: 0.3,
            ..FaultConfig::default()
        };
        let run = || {
            let mut f = Faults::new(cfg.clone());
            (0..200)
                .map(|_| f.draw("ListVcns").is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let n = a.iter().filter(|x| **x).count();
        assert!((35..=85).contains(&n), "{n} of 200 failed");
    }

    #[test]
    fn capacity_rules_count_down() {
        let mut f = Faults::new(FaultConfig {
            out_of_host_capacity: vec![CapacityRule {
                availability_domain: "AD-1".into(),
                fault_domain: Some("FAULT-DOMAIN-1".into()),
                shape: None,
                count: 2,
            }],
            ..FaultConfig::default()
        });
        assert!(!f.out_of_capacity("AD-1", "FAULT-DOMAIN-2", "s"));
        assert!(f.out_of_capacity("AD-1", "FAULT-DOMAIN-1", "s"));
        assert!(f.out_of_capacity("AD-1", "FAULT-DOMAIN-1", "s"));
        assert!(!f.out_of_capacity("AD-1", "FAULT-DOMAIN-1", "s"));
    }

    #[test]
    fn rejects_bad_rates() {
        assert!(
            FaultConfig {
                rate_429: 1.5,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(serde_json::from_str::<FaultConfig>(r#"{"rate_42": 1}"#).is_err());
    }
}
