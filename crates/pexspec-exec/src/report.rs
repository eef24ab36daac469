//! The report of a run: what each step did, the counts, the retries, the wall time and the
//! chain of steps that set it.

use std::collections::BTreeMap;
use std::time::Duration;

use pexspec_graph::{Address, Kind};
use pexspec_plan::Action;
use serde::Serialize;

use crate::error::Failure;
use crate::steps::CriticalPath;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Created and in its final state.
    Created,
    /// Updated in place.
    Updated,
    /// Deleted and created again.
    Replaced,
    /// Deleted.
    Deleted,
    /// Created by an earlier run and now listed by the provider (a pending resource).
    Appeared,
    /// Failed; its dependents were skipped.
    Failed,
    /// Not run: a step it depends on failed.
    Skipped,
    /// Not run: the run was cancelled or stopped (`fail_fast`) first.
    NotStarted,
    /// Abandoned in flight by a hard cancel: whether the call took effect is unknown; the
    /// next plan observes it.
    Aborted,
}

impl Outcome {
    /// Whether the step did what it was meant to.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Outcome::Created
                | Outcome::Updated
                | Outcome::Replaced
                | Outcome::Deleted
                | Outcome::Appeared
        )
    }
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// The resource.
    pub address: Address,
    /// Its kind.
    pub kind: Kind,
    /// What the plan asked.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
    /// When its first call was sent, since the start of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<u64>,
    /// From its first call to its end (0 if it never started).
    pub duration_ms: u64,
    /// Provider calls it made, polls included.
    pub calls: u32,
    /// Calls sent again after a retryable error.
    pub retries: u32,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    /// The failed step that made it skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<Address>,
}

/// The end of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Resources created.
    pub created: usize,
    /// Resources updated in place.
    pub updated: usize,
    /// Resources replaced.
    pub replaced: usize,
    /// Resources deleted.
    pub deleted: usize,
    /// Pending resources that appeared.
    pub appeared: usize,
    /// Resources that were already up to date.
    pub unchanged: usize,
    /// Steps that failed.
    pub failed: usize,
    /// Steps skipped because a step they depend on failed.
    pub skipped: usize,
    /// Steps not started because the run was cancelled or stopped.
    pub not_started: usize,
    /// Steps abandoned in flight by a hard cancel.
    pub aborted: usize,
    /// Calls sent again after retryable errors.
    pub retries: u32,
    /// Provider calls, polls included.
    pub calls: u64,
    /// Whether the run was cancelled (`Some(true)`: hard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<bool>,
    /// From the start to the end of the run.
    pub wall_time_ms: u64,
    /// The longest chain of dependent steps, with their actual durations: what the wall time
    /// could not go below.
    pub critical_path: CriticalPath,
    /// The failures, by address.
    pub failures: BTreeMap<Address, Failure>,
    /// The rate of each (service, region) bucket at the end, requests per second; below the
    /// start rate after throttling.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rates: BTreeMap<String, f64>,
    /// Every step, in plan order.
    pub steps: Vec<StepReport>,
}

impl Report {
    /// Whether every step succeeded (an empty run succeeds).
    pub fn is_success(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && self.not_started == 0 && self.aborted == 0
    }

    /// The wall time.
    pub fn wall_time(&self) -> Duration {
        Duration::from_millis(self.wall_time_ms)
    }

    /// The report of one step.
    pub fn step(&self, address: &Address) -> Option<&StepReport> {
        self.steps.iter().find(|s| &s.address == address)
    }

    /// The addresses of the steps that ended with `outcome`, sorted.
    pub fn with_outcome(&self, outcome: Outcome) -> Vec<&Address> {
        let mut out: Vec<&Address> = self
            .steps
            .iter()
            .filter(|s| s.outcome == outcome)
            .map(|s| &s.address)
            .collect();
        out.sort();
        out
    }
}
