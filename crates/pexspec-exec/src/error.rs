//! The executor's errors: [`ExecError`] refuses a run before it starts; [`StepError`] is why
//! one step failed (the run goes on). Both are classed like every pexspec error.

use std::time::Duration;

use pexspec_graph::{Address, Kind};
use pexspec_plan::{ErrorClass, ProviderError};
use serde::{Serialize, Serializer};

use crate::journal::CallAction;

/// Why a run did not start. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The observed state moved since the plan was made.
    #[error(
        "the plan was made from another observed state (`{plan}`, now `{now}`): run `pexspec plan` again"
    )]
    StalePlan {
        /// The fingerprint the plan carries.
        plan: String,
        /// The fingerprint of the state given.
        now: String,
    },
    /// The plan is of another stack than the graph.
    #[error("the plan is for stack `{plan}`, the spec is stack `{graph}`")]
    StackMismatch {
        /// The plan's stack.
        plan: String,
        /// The graph's stack.
        graph: String,
    },
    /// No provider handles a kind the plan changes.
    #[error("no provider handles resources of kind `{kind}`")]
    NoProvider {
        /// The kind.
        kind: Kind,
    },
    /// The plan creates or changes a resource the spec does not define.
    #[error("the plan changes `{address}`, which the spec does not define")]
    UnknownAddress {
        /// The address.
        address: Address,
    },
    /// The plan lists one address twice.
    #[error("the plan lists `{address}` twice")]
    DuplicateAddress {
        /// The address.
        address: Address,
    },
    /// The plan's steps wait for each other in a cycle.
    #[error("the plan's steps wait for each other in a cycle through `{address}`")]
    Cycle {
        /// One address on the cycle.
        address: Address,
    },
}

impl ExecError {
    /// The class of the error.
    pub fn class(&self) -> ErrorClass {
        match self {
            ExecError::StalePlan { .. } => ErrorClass::Conflict,
            ExecError::NoProvider { .. } => ErrorClass::Config,
            ExecError::StackMismatch { .. }
            | ExecError::UnknownAddress { .. }
            | ExecError::DuplicateAddress { .. }
            | ExecError::Cycle { .. } => ErrorClass::UserInput,
        }
    }

    /// Whether running the same thing again may succeed: never, the plan must be made again.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// Why one step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A provider call failed with an error that is not retryable, or every attempt failed.
    #[error("{source}{}", attempts_suffix(*attempts))]
    Provider {
        /// The last error.
        source: ProviderError,
        /// How many times the call was sent.
        attempts: u32,
    },
    /// The resource reached a state it will not leave.
    #[error("`{address}` went to `{state}`")]
    LifecycleFailed {
        /// The resource.
        address: Address,
        /// The state.
        state: String,
    },
    /// A wait took longer than its timeout.
    #[error("`{address}` is still `{state}` after {}", minutes(*waited))]
    WaitTimeout {
        /// The resource.
        address: Address,
        /// The last state seen.
        state: String,
        /// How long the executor waited.
        waited: Duration,
    },
    /// The resource stayed absent after its create for longer than the grace period (a
    /// pending resource that stays absent is created instead).
    #[error("`{address}` was created but the provider does not list it after {}", minutes(*waited))]
    NotVisible {
        /// The resource.
        address: Address,
        /// How long the executor looked.
        waited: Duration,
    },
    /// A reference could not be resolved (its target is missing).
    #[error("{message}")]
    Unresolved {
        /// What is missing.
        message: String,
    },
    /// A sensitive output could not be kept: the step is not done, its dependents do not run.
    #[error("the sensitive output of `{address}` could not be kept: {message}")]
    SensitiveOutput {
        /// The resource.
        address: Address,
        /// What went wrong (never the value).
        message: String,
    },
    /// The journal could not record a call: its intent (the call was not sent) or its
    /// result (the call was sent; the next plan observes what it did).
    #[error("{}", journal_message(address, *action, *sent, message))]
    Journal {
        /// The resource.
        address: Address,
        /// The call.
        action: CallAction,
        /// Whether the call was sent (the result could not be recorded) or not (the intent
        /// could not).
        sent: bool,
        /// What went wrong.
        message: String,
    },
}

fn journal_message(address: &Address, action: CallAction, sent: bool, message: &str) -> String {
    if sent {
        format!("the journal could not record the answer to the {action} of `{address}`: {message}")
    } else {
        format!(
            "the journal could not record the {action} of `{address}`, so it was not sent: {message}"
        )
    }
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn minutes(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 120 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

impl StepError {
    /// The class of the error.
    pub fn class(&self) -> ErrorClass {
        match self {
            StepError::Provider { source, .. } => source.class(),
            StepError::LifecycleFailed { .. } | StepError::WaitTimeout { .. } => {
                ErrorClass::Provider
            }
            StepError::NotVisible { .. } => ErrorClass::Conflict,
            StepError::Unresolved { .. }
            | StepError::SensitiveOutput { .. }
            | StepError::Journal { .. } => ErrorClass::Internal,
        }
    }

    /// Whether running the apply again may succeed by itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            StepError::Provider { source, .. } => source.is_retryable(),
            StepError::WaitTimeout { .. } | StepError::NotVisible { .. } => true,
            _ => false,
        }
    }
}

/// The name of an error class in JSON output: `config`, `user_input`, `network`,
/// `throttled`, `conflict`, `provider`, `internal`.
pub fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Config => "config",
        ErrorClass::UserInput => "user_input",
        ErrorClass::Network => "network",
        ErrorClass::Throttled => "throttled",
        ErrorClass::Conflict => "conflict",
        ErrorClass::Provider => "provider",
        ErrorClass::Internal => "internal",
    }
}

pub(crate) fn serialize_class<S: Serializer>(class: &ErrorClass, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(class_name(*class))
}

/// A failure as the report and the events show it: class and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The class.
    #[serde(serialize_with = "serialize_class")]
    pub class: ErrorClass,
    /// Whether an apply later may succeed without a change to the spec.
    pub retryable: bool,
    /// The message (never a secret: the executor only ever holds secret references).
    pub message: String,
}

impl From<&StepError> for Failure {
    fn from(e: &StepError) -> Self {
        Self {
            class: e.class(),
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}
