//! Cancellation: the first [`Cancel::cancel`] stops starting steps and lets the ones in
//! flight finish (their waits included); a second one abandons them (Ctrl-C twice).

use std::sync::Arc;

use tokio::sync::watch;

/// How far a run was asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CancelLevel {
    /// Run on.
    None,
    /// Start no more steps; finish the ones in flight.
    Graceful,
    /// Abandon the steps in flight too.
    Hard,
}

/// A handle that stops a run; clones share the state. Cheap to clone into a signal handler.
#[derive(Clone, Debug)]
pub struct Cancel {
    tx: Arc<watch::Sender<CancelLevel>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    /// A handle not yet cancelled.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(CancelLevel::None);
        Self { tx: Arc::new(tx) }
    }

    /// Escalates by one level: the first call is graceful, the second hard.
    pub fn cancel(&self) {
        self.tx.send_modify(|level| {
            *level = match *level {
                CancelLevel::None => CancelLevel::Graceful,
                _ => CancelLevel::Hard,
            }
        });
    }

    /// Goes straight to a hard cancel.
    pub fn abort(&self) {
        self.tx.send_replace(CancelLevel::Hard);
    }

    /// The current level.
    pub fn level(&self) -> CancelLevel {
        *self.tx.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<CancelLevel> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_escalates() {
        let c = Cancel::new();
        let other = c.clone();
        assert_eq!(c.level(), CancelLevel::None);
        other.cancel();
        assert_eq!(c.level(), CancelLevel::Graceful);
        other.cancel();
        assert_eq!(c.level(), CancelLevel::Hard);
        let d = Cancel::new();
        d.abort();
        assert_eq!(d.level(), CancelLevel::Hard);
    }
}
