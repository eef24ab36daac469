//! Where sensitive outputs go: the Conferencing Node configuration file that a `worker_vm`
//! create returns once is kept by a [`SensitiveSink`] before the step counts as done (the
//! journal implements it on disk), and handed to the `node_bootstrap` step as its input.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use pexspec_graph::{Address, Kind};
use pexspec_plan::Sensitive;

/// The kinds whose create returns a sensitive output that a later step needs.
pub const SENSITIVE_OUTPUT_KINDS: &[Kind] = &[Kind::WorkerVm];

/// A sensitive output could not be kept or read. The message never holds the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    /// What went wrong.
    pub message: String,
}

impl SinkError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Keeps sensitive outputs, durably if it can, before the executor goes on.
///
/// The executor calls [`store`](SensitiveSink::store) as soon as a create returns an output,
/// before the step is marked done; if it fails, the step fails and its dependents are
/// skipped. It calls [`load`](SensitiveSink::load) when a step needs the output of a
/// dependency that an earlier run created.
pub trait SensitiveSink: Send + Sync {
    /// Keeps the output of `address`.
    fn store(&self, address: &Address, value: &Sensitive) -> Result<(), SinkError>;
    /// The output of `address`, if it was kept.
    fn load(&self, address: &Address) -> Result<Option<Sensitive>, SinkError>;
}

/// Keeps sensitive outputs in memory, for one process (tests, `--sim`, and the default when
/// no journal is given).
#[derive(Default)]
pub struct MemorySensitiveSink {
    values: Mutex<BTreeMap<Address, Sensitive>>,
}

impl MemorySensitiveSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The addresses whose outputs it holds.
    pub fn addresses(&self) -> Vec<Address> {
        self.values
            .lock()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The output of `address`.
    pub fn get(&self, address: &Address) -> Option<Sensitive> {
        self.values.lock().ok()?.get(address).cloned()
    }
}

impl fmt::Debug for MemorySensitiveSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySensitiveSink")
            .field(
                "addresses",
                &self
                    .addresses()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SensitiveSink for MemorySensitiveSink {
    fn store(&self, address: &Address, value: &Sensitive) -> Result<(), SinkError> {
        self.values
            .lock()
            .map_err(|_| SinkError::new("the in-memory store is poisoned"))?
            .insert(address.clone(), value.clone());
        Ok(())
    }

    fn load(&self, address: &Address) -> Result<Option<Sensitive>, SinkError> {
        Ok(self.get(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_never_show() {
        let sink = MemorySensitiveSink::new();
        let a = Address::new(Kind::WorkerVm, "pexconf01");
        sink.store(&a, &Sensitive::new("secret-config")).unwrap();
        assert_eq!(sink.load(&a).unwrap().unwrap().expose(), b"secret-config");
        let shown = format!("{sink:?}");
        assert!(shown.contains("worker_vm[pexconf01]"));
        assert!(!shown.contains("secret-config"));
    }
}
