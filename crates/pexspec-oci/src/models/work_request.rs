//! Core work-request wire types: the status of an asynchronous operation and its errors.

use serde::{Deserialize, Serialize};

use super::string_enum;

string_enum! {
    /// `status` of a work request.
    WorkRequestStatus {
        /// Queued.
        Accepted = "ACCEPTED",
        /// Running.
        InProgress = "IN_PROGRESS",
        /// Ended with an error.
        Failed = "FAILED",
        /// Ended well.
        Succeeded = "SUCCEEDED",
        /// Being canceled.
        Canceling = "CANCELING",
        /// Canceled.
        Canceled = "CANCELED",
    }
}

impl WorkRequestStatus {
    /// True for `SUCCEEDED`, `FAILED` and `CANCELED`.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }
}

/// `WorkRequestResource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkRequestResource {
    /// `CREATED`, `UPDATED`, `DELETED`, `RELATED`, `IN_PROGRESS`.
    pub action_type: String,
    /// e.g. `image`.
    pub entity_type: String,
    /// The resource OCID.
    pub identifier: String,
    /// URI of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_uri: Option<String>,
}

/// `WorkRequest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkRequest {
    /// OCID.
    pub id: String,
    /// e.g. `CreateImage`.
    #[serde(default)]
    pub operation_type: String,
    /// Status.
    pub status: WorkRequestStatus,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Affected resources.
    #[serde(default)]
    pub resources: Vec<WorkRequestResource>,
    /// Progress, 0 to 100.
    #[serde(default)]
    pub percent_complete: f64,
    /// RFC 3339 times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_accepted: Option<String>,
    /// RFC 3339 start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_started: Option<String>,
    /// RFC 3339 end time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_finished: Option<String>,
}

/// `WorkRequestError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkRequestError {
    /// Error code.
    #[serde(default)]
    pub code: String,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}
