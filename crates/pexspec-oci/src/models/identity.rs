//! Identity wire types: compartments, regions, region subscriptions, availability domains.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{LifecycleState, OciResource};

/// `CreateCompartmentDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCompartmentDetails {
    /// Parent compartment (or tenancy) OCID.
    pub compartment_id: String,
    /// Name, unique among the parent's children.
    pub name: String,
    /// Description (required by OCI).
    pub description: String,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: BTreeMap<String, String>,
}

/// `UpdateCompartmentDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCompartmentDetails {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<BTreeMap<String, String>>,
}

/// `Compartment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Compartment {
    /// OCID.
    pub id: String,
    /// Parent OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// Whether the caller can access it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_accessible: Option<bool>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: BTreeMap<String, String>,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

impl OciResource for Compartment {
    fn id(&self) -> &str {
        &self.id
    }
    fn display_name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn lifecycle_state(&self) -> Option<&LifecycleState> {
        Some(&self.lifecycle_state)
    }
    fn freeform_tags(&self) -> &BTreeMap<String, String> {
        &self.freeform_tags
    }
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }
    fn set_etag(&mut self, etag: Option<String>) {
        self.etag = etag;
    }
}

/// `Region` (ListRegions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Short key, e.g. `FRA`.
    pub key: String,
    /// Identifier, e.g. `eu-frankfurt-1`.
    pub name: String,
}

/// `RegionSubscription` (ListRegionSubscriptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSubscription {
    /// Short key, e.g. `FRA`.
    pub region_key: String,
    /// Identifier, e.g. `eu-frankfurt-1`.
    pub region_name: String,
    /// `READY` or `IN_PROGRESS`.
    pub status: String,
    /// True for the tenancy's home region.
    #[serde(default)]
    pub is_home_region: bool,
}

/// `AvailabilityDomain` (ListAvailabilityDomains).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityDomain {
    /// Name, e.g. `Uocm:EU-FRANKFURT-1-AD-1`.
    pub name: String,
    /// OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Compartment (tenancy) OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_id: Option<String>,
}
