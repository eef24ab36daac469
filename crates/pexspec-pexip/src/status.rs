//! The status resources pexspec reads (`/api/admin/status/v1/`): Conferencing Node sync and
//! maintenance state, the Management Node, and live conferences and participants.

use serde::Deserialize;

use crate::client::{Api, Resource};

/// The sync status of a node that is in service.
pub const SYNCED: &str = "SYNCED";

/// A Conferencing Node's status (`status/v1/worker_vm`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct WorkerVmStatus {
    /// Status id.
    pub id: u64,
    /// The configuration object's id.
    pub configuration_id: u64,
    /// Node name.
    pub name: String,
    /// `SYNCED` once the node is in service.
    pub sync_status: String,
    /// Last contact (`None`: never).
    pub last_updated: Option<String>,
    /// Maintenance mode as the node sees it.
    pub maintenance_mode: bool,
    /// Why.
    pub maintenance_mode_reason: String,
    /// `CONFERENCING` or `PROXYING`.
    pub node_type: String,
    /// Location name.
    pub system_location: String,
    /// Media load, percent.
    pub media_load: i64,
    /// Signalling connections.
    pub signaling_count: i64,
    /// Software version.
    pub version: String,
}

impl Resource for WorkerVmStatus {
    const KIND: &'static str = "worker_vm";
    const API: Api = Api::Status;
}

/// The Management Node's status (`status/v1/management_vm`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ManagementVmStatus {
    /// Name.
    pub name: String,
    /// Sync status.
    pub sync_status: String,
    /// Software version.
    pub version: String,
    /// Whether this is the primary Management Node.
    pub primary: bool,
}

impl Resource for ManagementVmStatus {
    const KIND: &'static str = "management_vm";
    const API: Api = Api::Status;
}

/// A live conference (`status/v1/conference`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ConferenceStatus {
    /// Id.
    pub id: String,
    /// Service name.
    pub name: String,
    /// Service type.
    pub service_type: String,
    /// Start time.
    pub start_time: Option<String>,
}

impl Resource for ConferenceStatus {
    const KIND: &'static str = "conference";
    const API: Api = Api::Status;
}

/// A live participant (`status/v1/participant`). Fields as `pexip/go-infinity-sdk`
/// `status/models.go` (`Participant`) reads them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ParticipantStatus {
    /// Id.
    pub id: String,
    /// Conference name.
    pub conference: String,
    /// Address of the node handling its media.
    pub media_node: String,
    /// Address of the proxying node, if any.
    pub proxy_node: String,
    /// Address of the node handling its signalling.
    pub signalling_node: String,
}

impl ParticipantStatus {
    /// Whether the participant uses the node at `address` for its media, its proxying or its
    /// signalling: stopping that node would cut the call. The node fields hold the node's
    /// address (the Pexip status API documentation: "media_node: The IP address of the
    /// Conferencing Node handling the media"; the simulator does the same; a capture of a
    /// real participant would confirm it, unverified).
    pub fn on_node(&self, address: &str) -> bool {
        let address = address.trim();
        !address.is_empty()
            && [&self.media_node, &self.proxy_node, &self.signalling_node]
                .iter()
                .any(|n| n.trim() == address)
    }
}

impl Resource for ParticipantStatus {
    const KIND: &'static str = "participant";
    const API: Api = Api::Status;
}
