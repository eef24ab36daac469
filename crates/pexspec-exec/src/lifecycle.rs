//! Lifecycle states: which ones mean "still working, poll again", which mean "done", and
//! which mean "failed" or "gone".

use serde::Serialize;

/// What a reported lifecycle state means to the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Still working (`PROVISIONING`, `IMPORTING`, `PENDING`, `SYNCING`...): poll again.
    Pending,
    /// Settled (`AVAILABLE`, `RUNNING`, `PEERED`, `SYNCED`..., or no state at all).
    Ready,
    /// Will never become ready (`FAILED`, `REVOKED`, `INVALID`...).
    Failed,
    /// Deleted (`TERMINATED`, `DELETED`, `DETACHED`): what a delete waits for.
    Gone,
}

/// States that mean the resource is still on its way (creating, changing or going).
const PENDING: &[&str] = &[
    "CREATING",
    "PROVISIONING",
    "IMPORTING",
    "STARTING",
    "ATTACHING",
    "ASSIGNING",
    "UNASSIGNING",
    "UPDATING",
    "MOVING",
    "PENDING",
    // A remote peering connection right after its connect call, before `PENDING`.
    "NEW",
    "PEERING",
    "SYNCING",
    // A Conferencing Node that got its configuration file and has not synced yet.
    "UPLOADED",
    "BOOTING",
    "CREATING_IMAGE",
    "EXPORTING",
    "TERMINATING",
    "DELETING",
    "DETACHING",
    "STOPPING",
];

/// States of a resource that is gone.
const GONE: &[&str] = &["TERMINATED", "DELETED", "DETACHED"];

/// States that will not become ready on their own.
const FAILED: &[&str] = &["FAILED", "INVALID", "REVOKED", "DISABLED", "INACTIVE"];

/// What a lifecycle state means. `None` (Pexip objects, which have no lifecycle) is ready,
/// and so is any state not listed as pending, failed or gone (`STOPPED`, `UNASSIGNED`...): the executor never waits on a state it does not know to be transient.
/// Case does not matter.
pub fn lifecycle(state: Option<&str>) -> Lifecycle {
    let Some(state) = state else {
        return Lifecycle::Ready;
    };
    let upper = state.trim().to_ascii_uppercase();
    if PENDING.contains(&upper.as_str()) {
        Lifecycle::Pending
    } else if GONE.contains(&upper.as_str()) {
        Lifecycle::Gone
    } else if FAILED.contains(&upper.as_str()) {
        Lifecycle::Failed
    } else {
        Lifecycle::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_classified() {
        assert_eq!(lifecycle(None), Lifecycle::Ready);
        assert_eq!(lifecycle(Some("AVAILABLE")), Lifecycle::Ready);
        assert_eq!(lifecycle(Some("PEERED")), Lifecycle::Ready);
        assert_eq!(lifecycle(Some("synced")), Lifecycle::Ready);
        assert_eq!(lifecycle(Some("IMPORTING")), Lifecycle::Pending);
        assert_eq!(lifecycle(Some("TERMINATING")), Lifecycle::Pending);
        assert_eq!(lifecycle(Some("NEW")), Lifecycle::Pending);
        assert_eq!(lifecycle(Some("TERMINATED")), Lifecycle::Gone);
        assert_eq!(lifecycle(Some("REVOKED")), Lifecycle::Failed);
        assert_eq!(lifecycle(Some("SOMETHING_NEW")), Lifecycle::Ready);
    }
}
