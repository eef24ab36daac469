//! Fields whose in-place change restarts what they belong to: the plan marks them, and the
//! provider takes the resource out of service before it sends the change.

use pexspec_graph::Kind;

/// Per kind, the fields whose change restarts the resource. This is the one list of them.
///
/// - `worker_vm`: `system_location` and `node_type` (the node's role). Pexip's provider
///   warns "Updating node_type or system_location will cause all active calls to be
///   disconnected and the node to be restarted" (`pexip/terraform-provider-infinity`,
///   `internal/provider/resource_infinity_worker_vm.go`, `ModifyPlan`); Pexip's documentation
///   of the role: "If you change the role of a Conferencing Node, all existing calls will be
///   disconnected" (<https://docs.pexip.com/admin/editing_conferencing_nodes.htm>).
pub const RESTART_FIELDS: &[(Kind, &[&str])] =
    &[(Kind::WorkerVm, &["system_location", "node_type"])];

/// Whether changing `field` of a `kind` restarts it (see [`RESTART_FIELDS`]).
pub fn restarts(kind: Kind, field: &str) -> bool {
    RESTART_FIELDS
        .iter()
        .any(|(k, fields)| *k == kind && fields.contains(&field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nodes_location_and_role_restart_it() {
        assert!(restarts(Kind::WorkerVm, "system_location"));
        assert!(restarts(Kind::WorkerVm, "node_type"));
        assert!(!restarts(Kind::WorkerVm, "description"));
        assert!(!restarts(Kind::SystemLocation, "name"));
    }
}
