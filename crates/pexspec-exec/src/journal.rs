//! The call journal hook: the executor tells a [`CallJournal`] about every mutating call
//! (create, update, delete) before it sends it and again when its answer comes back, so
//! that a run that crashes between the two leaves a trace the next run can act on
//! (DESIGN.md §7). `pexspec-journal` implements it on disk (SQLite, WAL, `synchronous=FULL`).
//!
//! The rules the executor keeps:
//!
//! 1. [`CallJournal::intent`] is called, and must have returned `Ok`, before the provider
//!    sees the call. If it fails, the call is not sent and the step fails
//!    ([`StepError::Journal`](crate::StepError::Journal)).
//! 2. [`CallJournal::result`] is called once the provider answered, after a create's
//!    sensitive output was kept by the [`SensitiveSink`](crate::SensitiveSink) (that file is
//!    returned once and must survive whatever happens next). If it fails, the step fails;
//!    what the call did is kept in the run's state, and the next plan observes it.
//! 3. A call abandoned in flight (hard cancel, crash) has an intent and no result: the
//!    journal reports such creates as pending, and the next run polls for them instead of
//!    creating them again.
//!
//! Polls (`get`) are not journalled: they change nothing. No request body is ever handed to
//! the journal: addresses, kinds, regions, retry tokens, ids and error classes only.

use std::fmt;

use pexspec_graph::{Address, Kind};
use pexspec_plan::ProviderError;

use crate::sensitive::SinkError;

/// The id a journal gives a recorded intent, to attach its result to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

/// Which mutating call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallAction {
    /// A create (carries a retry token).
    Create,
    /// An update of an observed resource.
    Update,
    /// A delete of an observed resource.
    Delete,
}

impl CallAction {
    /// `create`, `update` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallAction::Create => "create",
            CallAction::Update => "update",
            CallAction::Delete => "delete",
        }
    }

    /// The action named by [`as_str`](Self::as_str).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(CallAction::Create),
            "update" => Some(CallAction::Update),
            "delete" => Some(CallAction::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for CallAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call ended, as far as the executor knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallOutcome {
    /// The provider answered that it was done.
    Succeeded,
    /// The provider refused it: nothing changed (a 400, 409, 412, 429...).
    Failed,
    /// The answer was lost or unusable (network error, 5xx): the call may have taken effect.
    Unknown,
}

impl CallOutcome {
    /// `succeeded`, `failed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Succeeded => "succeeded",
            CallOutcome::Failed => "failed",
            CallOutcome::Unknown => "unknown",
        }
    }

    /// The outcome of a call that returned `error`: [`Unknown`](Self::Unknown) when the
    /// error may hide a call that took effect (the network failed after the request left, a
    /// 5xx, an answer that could not be read), [`Failed`](Self::Failed) when the provider
    /// refused it (configuration, invalid request, throttled, conflict, not found, a
    /// defect caught before sending).
    pub fn of_error(error: &ProviderError) -> Self {
        match error {
            ProviderError::Network { .. } => CallOutcome::Unknown,
            ProviderError::Provider { status, .. } if *status >= 500 || *status == 0 => {
                CallOutcome::Unknown
            }
            _ => CallOutcome::Failed,
        }
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallIntent<'a> {
    /// The resource.
    pub address: &'a Address,
    /// Its kind.
    pub kind: Kind,
    /// The region the call goes to (none for global resources and Pexip objects).
    pub region: Option<&'a str>,
    /// The call.
    pub action: CallAction,
    /// The create's retry token (creates only).
    pub retry_token: Option<&'a str>,
    /// The observed id (updates and deletes).
    pub resource_id: Option<&'a str>,
}

/// What a call returned.
#[derive(Clone, Copy, Debug)]
pub struct CallResult<'a> {
    /// How it ended.
    pub outcome: CallOutcome,
    /// The resource's id, when the answer gave one (a create's new id; the id updated or
    /// deleted).
    pub resource_id: Option<&'a str>,
    /// The error, when it failed. A journal keeps its class, never its text.
    pub error: Option<&'a ProviderError>,
}

/// Records each mutating call's intent before it is sent and its result after.
///
/// Implementations must make [`intent`](CallJournal::intent) durable before returning
/// `Ok`: the executor sends the call right after.
pub trait CallJournal: Send + Sync {
    /// Records that `call` is about to be sent; the call is not sent unless this is `Ok`.
    fn intent(&self, call: &CallIntent<'_>) -> Result<CallId, SinkError>;
    /// Records the answer to the call recorded as `id`.
    fn result(&self, id: CallId, result: &CallResult<'_>) -> Result<(), SinkError>;
}

/// Records nothing (the default when no journal is given: tests, `plan`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoJournal;

impl CallJournal for NoJournal {
    fn intent(&self, _call: &CallIntent<'_>) -> Result<CallId, SinkError> {
        Ok(CallId(0))
    }

    fn result(&self, _id: CallId, _result: &CallResult<'_>) -> Result<(), SinkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_that_may_hide_a_change_are_unknown() {
        let unknown = [
            ProviderError::Network {
                message: "reset".into(),
            },
            ProviderError::Provider {
                status: 503,
                code: "ServiceUnavailable".into(),
                message: String::new(),
            },
            ProviderError::Provider {
                status: 0,
                code: "UnreadableAnswer".into(),
                message: String::new(),
            },
        ];
        for e in &unknown {
            assert_eq!(CallOutcome::of_error(e), CallOutcome::Unknown, "{e}");
        }
        let refused = [
            ProviderError::Throttled {
                retry_after_ms: None,
            },
            ProviderError::Invalid {
                address: "vcn[a]".into(),
                message: String::new(),
            },
            ProviderError::Conflict {
                address: "vcn[a]".into(),
                message: String::new(),
            },
            ProviderError::Provider {
                status: 404,
                code: "NotAuthorizedOrNotFound".into(),
                message: String::new(),
            },
        ];
        for e in &refused {
            assert_eq!(CallOutcome::of_error(e), CallOutcome::Failed, "{e}");
        }
    }

    #[test]
    fn actions_round_trip_by_name() {
        for a in [CallAction::Create, CallAction::Update, CallAction::Delete] {
            assert_eq!(CallAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(CallAction::parse("replace"), None);
    }
}
