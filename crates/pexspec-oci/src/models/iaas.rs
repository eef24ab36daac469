//! Core (iaas) wire types: VCN, internet gateway, route table, security list, subnet, public
//! and private IPs, instances, VNICs, images and shape compatibility, DRGs, DRG attachments and
//! remote peering connections.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{LifecycleState, resource, string_enum};

type Tags = BTreeMap<String, String>;

// ---------------------------------------------------------------------------------------------
// VCN

/// `CreateVcnDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVcnDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// IPv4 CIDR blocks (the current form; `cidrBlock` is the older single form).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidr_blocks: Vec<String>,
    /// Deprecated single CIDR block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// DNS label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_label: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `Vcn`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vcn {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// First CIDR block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// All CIDR blocks.
    #[serde(default)]
    pub cidr_blocks: Vec<String>,
    /// Default route table OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route_table_id: Option<String>,
    /// Default security list OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_security_list_id: Option<String>,
    /// Default DHCP options OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_dhcp_options_id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// DNS label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_label: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

/// The body of the updates that change only a display name and tags (`UpdateVcnDetails`,
/// `UpdateDrgDetails`, `UpdateDrgAttachmentDetails`, `UpdateRemotePeeringConnectionDetails`,
/// `UpdateImageDetails`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateNameDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
}

/// `UpdateInternetGatewayDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInternetGatewayDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Enable or disable the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
}

/// `UpdateSubnetDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSubnetDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New route table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// New security lists (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_list_ids: Option<Vec<String>>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
}

/// `UpdateInstanceDetails` (a new flex shape sizing reboots the instance).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInstanceDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New flex shape sizing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape_config: Option<ShapeConfig>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
}

// ---------------------------------------------------------------------------------------------
// Internet gateway

/// `CreateInternetGatewayDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInternetGatewayDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// Whether the gateway is enabled (required).
    pub is_enabled: bool,
    /// VCN OCID.
    pub vcn_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Route table for the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `InternetGateway`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InternetGateway {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// VCN OCID.
    #[serde(default)]
    pub vcn_id: String,
    /// Enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// Route table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Route table

/// `RouteRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRule {
    /// Destination CIDR (or service CIDR label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// `CIDR_BLOCK` or `SERVICE_CIDR_BLOCK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_type: Option<String>,
    /// Target OCID (internet gateway, DRG, …).
    pub network_entity_id: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `STATIC` or `LOCAL` (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_type: Option<String>,
}

impl RouteRule {
    /// A rule sending `cidr` to `target`.
    pub fn cidr(cidr: &str, target: &str) -> Self {
        Self {
            destination: Some(cidr.to_string()),
            destination_type: Some("CIDR_BLOCK".into()),
            network_entity_id: target.to_string(),
            ..Self::default()
        }
    }
}

/// `CreateRouteTableDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRouteTableDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// Rules (required, may be empty).
    pub route_rules: Vec<RouteRule>,
    /// VCN OCID.
    pub vcn_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `UpdateRouteTableDetails`: given `routeRules` replace the whole set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRouteTableDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
    /// New rules (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_rules: Option<Vec<RouteRule>>,
}

/// `RouteTable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTable {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// VCN OCID.
    #[serde(default)]
    pub vcn_id: String,
    /// Rules.
    #[serde(default)]
    pub route_rules: Vec<RouteRule>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Security list

/// `PortRange` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    /// First port.
    pub min: u16,
    /// Last port.
    pub max: u16,
}

/// `TcpOptions` / `UdpOptions`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortOptions {
    /// Destination ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_port_range: Option<PortRange>,
    /// Source ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port_range: Option<PortRange>,
}

impl PortOptions {
    /// Destination ports `min..=max`.
    pub fn destination(min: u16, max: u16) -> Self {
        Self {
            destination_port_range: Some(PortRange { min, max }),
            source_port_range: None,
        }
    }
}

/// `IcmpOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IcmpOptions {
    /// ICMP type.
    #[serde(rename = "type")]
    pub icmp_type: u8,
    /// ICMP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
}

/// IANA protocol numbers as OCI writes them (a string, or `all`).
pub mod protocol {
    /// ICMP.
    pub const ICMP: &str = "1";
    /// TCP.
    pub const TCP: &str = "6";
    /// UDP.
    pub const UDP: &str = "17";
    /// ESP (IPsec).
    pub const ESP: &str = "50";
    /// ICMPv6.
    pub const ICMPV6: &str = "58";
    /// Every protocol.
    pub const ALL: &str = "all";
}

/// `IngressSecurityRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressSecurityRule {
    /// Source CIDR.
    pub source: String,
    /// Protocol number as a string, or `all` (see [`protocol`]).
    pub protocol: String,
    /// `CIDR_BLOCK` or `SERVICE_CIDR_BLOCK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// Stateless rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_stateless: Option<bool>,
    /// TCP ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_options: Option<PortOptions>,
    /// UDP ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp_options: Option<PortOptions>,
    /// ICMP type/code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_options: Option<IcmpOptions>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `EgressSecurityRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressSecurityRule {
    /// Destination CIDR.
    pub destination: String,
    /// Protocol number as a string, or `all`.
    pub protocol: String,
    /// `CIDR_BLOCK` or `SERVICE_CIDR_BLOCK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_type: Option<String>,
    /// Stateless rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_stateless: Option<bool>,
    /// TCP ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_options: Option<PortOptions>,
    /// UDP ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp_options: Option<PortOptions>,
    /// ICMP type/code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_options: Option<IcmpOptions>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `CreateSecurityListDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSecurityListDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// Egress rules (required, may be empty).
    pub egress_security_rules: Vec<EgressSecurityRule>,
    /// Ingress rules (required, may be empty).
    pub ingress_security_rules: Vec<IngressSecurityRule>,
    /// VCN OCID.
    pub vcn_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `UpdateSecurityListDetails`: given rule arrays replace the existing ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSecurityListDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New egress rules (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_security_rules: Option<Vec<EgressSecurityRule>>,
    /// New freeform tags (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
    /// New ingress rules (replace all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_security_rules: Option<Vec<IngressSecurityRule>>,
}

/// `SecurityList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityList {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// VCN OCID.
    #[serde(default)]
    pub vcn_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Egress rules.
    #[serde(default)]
    pub egress_security_rules: Vec<EgressSecurityRule>,
    /// Ingress rules.
    #[serde(default)]
    pub ingress_security_rules: Vec<IngressSecurityRule>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Subnet

/// `CreateSubnetDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSubnetDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// VCN OCID.
    pub vcn_id: String,
    /// IPv4 CIDR block.
    pub cidr_block: String,
    /// Availability domain (omit for a regional subnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_domain: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// DNS label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_label: Option<String>,
    /// Forbid public IPs on VNICs (a private subnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prohibit_public_ip_on_vnic: Option<bool>,
    /// Route table OCID (default: the VCN's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// Security list OCIDs (default: the VCN's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_list_ids: Option<Vec<String>>,
    /// DHCP options OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_options_id: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `Subnet`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// VCN OCID.
    #[serde(default)]
    pub vcn_id: String,
    /// IPv4 CIDR block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// DNS label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_label: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// Private subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prohibit_public_ip_on_vnic: Option<bool>,
    /// Route table OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// Security list OCIDs.
    #[serde(default)]
    pub security_list_ids: Vec<String>,
    /// The subnet's gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_router_ip: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Public and private IPs

string_enum! {
    /// `lifetime` of a public IP.
    PublicIpLifetime {
        /// Lives and dies with its private IP.
        Ephemeral = "EPHEMERAL",
        /// Kept until deleted; can move between private IPs.
        Reserved = "RESERVED",
    }
}

string_enum! {
    /// `scope` of a public IP list.
    PublicIpScope {
        /// Regional (reserved IPs and ephemeral IPs of regional subnets).
        Region = "REGION",
        /// Availability-domain ephemeral IPs.
        AvailabilityDomain = "AVAILABILITY_DOMAIN",
    }
}

/// `CreatePublicIpDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePublicIpDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// `RESERVED` for pexspec's addresses.
    pub lifetime: PublicIpLifetime,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Private IP to assign it to at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip_id: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `UpdatePublicIpDetails`: `privateIpId` assigns (or, with `""`, unassigns) a reserved IP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePublicIpDetails {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New freeform tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_tags: Option<Tags>,
    /// Private IP to assign to; `Some("")` unassigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip_id: Option<String>,
}

/// `PublicIp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicIp {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Lifecycle state (`AVAILABLE`, `ASSIGNED`, …).
    pub lifecycle_state: LifecycleState,
    /// Lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<PublicIpLifetime>,
    /// Private IP it is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip_id: Option<String>,
    /// Entity it is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_entity_id: Option<String>,
    /// `PRIVATE_IP` or `NAT_GATEWAY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_entity_type: Option<String>,
    /// Scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PublicIpScope>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

/// `PrivateIp` (no lifecycle state on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateIp {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Hostname label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_label: Option<String>,
    /// The address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The VNIC's primary private IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_primary: Option<bool>,
    /// Subnet OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// VNIC OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnic_id: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

impl super::OciResource for PrivateIp {
    fn id(&self) -> &str {
        &self.id
    }
    fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }
    fn lifecycle_state(&self) -> Option<&LifecycleState> {
        None
    }
    fn freeform_tags(&self) -> &Tags {
        &self.freeform_tags
    }
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }
    fn set_etag(&mut self, etag: Option<String>) {
        self.etag = etag;
    }
}

// ---------------------------------------------------------------------------------------------
// Instances and VNICs

/// `CreateVnicDetails` (the primary VNIC of a launch).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVnicDetails {
    /// Give the VNIC an ephemeral public IP (pexspec uses reserved IPs instead: `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_public_ip: Option<bool>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Hostname label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_label: Option<String>,
    /// Fixed private IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// Subnet OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// Network security groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsg_ids: Option<Vec<String>>,
    /// Skip the source/destination check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_source_dest_check: Option<bool>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `LaunchInstanceShapeConfigDetails` (flex shapes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeConfig {
    /// OCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocpus: Option<f64>,
    /// Memory in GB.
    #[serde(
        rename = "memoryInGBs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub memory_in_gbs: Option<f64>,
    /// vCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u32>,
}

/// `InstanceSourceDetails` (discriminator `sourceType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "sourceType")]
pub enum InstanceSourceDetails {
    /// Boot from an image.
    #[serde(rename = "image", rename_all = "camelCase")]
    Image {
        /// Image OCID.
        image_id: String,
        /// Boot volume size.
        #[serde(
            rename = "bootVolumeSizeInGBs",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        boot_volume_size_in_gbs: Option<u64>,
        /// Boot volume performance.
        #[serde(
            rename = "bootVolumeVpusPerGB",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        boot_volume_vpus_per_gb: Option<u64>,
    },
    /// Boot from an existing boot volume.
    #[serde(rename = "bootVolume", rename_all = "camelCase")]
    BootVolume {
        /// Boot volume OCID.
        boot_volume_id: String,
    },
}

/// `LaunchInstanceDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchInstanceDetails {
    /// Availability domain name.
    pub availability_domain: String,
    /// Compartment OCID.
    pub compartment_id: String,
    /// Primary VNIC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_vnic_details: Option<CreateVnicDetails>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_domain: Option<String>,
    /// Hostname label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_label: Option<String>,
    /// Metadata (`ssh_authorized_keys`, `user_data` base64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Extended metadata (nested JSON allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_metadata: Option<serde_json::Value>,
    /// Shape name.
    pub shape: String,
    /// Flex shape sizing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape_config: Option<ShapeConfig>,
    /// Boot source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_details: Option<InstanceSourceDetails>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `Instance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// OCID.
    pub id: String,
    /// Availability domain.
    #[serde(default)]
    pub availability_domain: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_domain: Option<String>,
    /// Image OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// Metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Region identifier.
    #[serde(default)]
    pub region: String,
    /// Shape name.
    #[serde(default)]
    pub shape: String,
    /// Shape sizing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape_config: Option<ShapeConfig>,
    /// Boot source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_details: Option<serde_json::Value>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

string_enum! {
    /// Power actions of `InstanceAction`.
    InstanceAction {
        /// Power off (hard).
        Stop = "STOP",
        /// Power on.
        Start = "START",
        /// ACPI shutdown, then power off.
        SoftStop = "SOFTSTOP",
        /// Power cycle (hard).
        Reset = "RESET",
        /// ACPI reboot.
        SoftReset = "SOFTRESET",
    }
}

/// `VnicAttachment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VnicAttachment {
    /// OCID.
    pub id: String,
    /// Availability domain.
    #[serde(default)]
    pub availability_domain: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Instance OCID.
    #[serde(default)]
    pub instance_id: String,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// NIC index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic_index: Option<u32>,
    /// Subnet OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// VNIC OCID (absent while attaching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnic_id: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Always empty (attachments carry no tags); here for [`super::OciResource`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

/// `Vnic`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vnic {
    /// OCID.
    pub id: String,
    /// Availability domain.
    #[serde(default)]
    pub availability_domain: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Hostname label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_label: Option<String>,
    /// The instance's primary VNIC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_primary: Option<bool>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// Primary private IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// Public IP address, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    /// Subnet OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// IPv6 addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6_addresses: Vec<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Images

string_enum! {
    /// `sourceImageType` of an import.
    SourceImageType {
        /// QEMU disk image.
        Qcow2 = "QCOW2",
        /// VMware disk (Pexip's OVA files are imported as VMDK).
        Vmdk = "VMDK",
    }
}

string_enum! {
    /// `launchMode` of an image.
    LaunchMode {
        /// For images exported from OCI.
        Native = "NATIVE",
        /// Emulated devices.
        Emulated = "EMULATED",
        /// Paravirtualized devices (Pexip's images).
        Paravirtualized = "PARAVIRTUALIZED",
        /// Custom.
        Custom = "CUSTOM",
    }
}

/// `ImageSourceDetails` (discriminator `sourceType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "sourceType")]
pub enum ImageSourceDetails {
    /// An object named by namespace, bucket and name.
    #[serde(rename = "objectStorageTuple", rename_all = "camelCase")]
    ObjectStorageTuple {
        /// Object Storage namespace.
        namespace_name: String,
        /// Bucket.
        bucket_name: String,
        /// Object name.
        object_name: String,
        /// `VMDK` or `QCOW2`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_image_type: Option<SourceImageType>,
        /// Operating system, e.g. `Linux`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operating_system: Option<String>,
        /// Operating system version.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operating_system_version: Option<String>,
    },
    /// An object named by URL (e.g. a pre-authenticated request).
    #[serde(rename = "objectStorageUri", rename_all = "camelCase")]
    ObjectStorageUri {
        /// The URL.
        source_uri: String,
        /// `VMDK` or `QCOW2`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_image_type: Option<SourceImageType>,
        /// Operating system.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operating_system: Option<String>,
        /// Operating system version.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operating_system_version: Option<String>,
    },
}

/// `CreateImageDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateImageDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Import source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_source_details: Option<ImageSourceDetails>,
    /// Instance to image (not used by pexspec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Launch mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_mode: Option<LaunchMode>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `Image`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// OCID.
    pub id: String,
    /// Compartment OCID (absent for platform images).
    #[serde(default)]
    pub compartment_id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// Launch mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_mode: Option<LaunchMode>,
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// Operating system version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system_version: Option<String>,
    /// Size in MB. The wire name is `sizeInMBs` (oci-python-sdk
    /// src/oci/core/models/image.py, attribute_map `size_in_mbs: sizeInMBs`), which camelCase
    /// would spell `sizeInMbs`.
    #[serde(default, rename = "sizeInMBs", skip_serializing_if = "Option::is_none")]
    pub size_in_mbs: Option<u64>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

/// `ImageMemoryConstraints`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMemoryConstraints {
    /// Minimum memory in GB.
    #[serde(rename = "minInGBs", default, skip_serializing_if = "Option::is_none")]
    pub min_in_gbs: Option<u32>,
    /// Maximum memory in GB.
    #[serde(rename = "maxInGBs", default, skip_serializing_if = "Option::is_none")]
    pub max_in_gbs: Option<u32>,
}

/// `ImageOcpuConstraints`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOcpuConstraints {
    /// Minimum OCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// Maximum OCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// `AddImageShapeCompatibilityEntryDetails` (optional body).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddImageShapeCompatibilityEntryDetails {
    /// Memory range for flex shapes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_constraints: Option<ImageMemoryConstraints>,
    /// OCPU range for flex shapes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocpu_constraints: Option<ImageOcpuConstraints>,
}

/// `ImageShapeCompatibilityEntry` / `ImageShapeCompatibilitySummary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageShapeCompatibility {
    /// Image OCID.
    pub image_id: String,
    /// Shape name.
    pub shape: String,
    /// Memory range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_constraints: Option<ImageMemoryConstraints>,
    /// OCPU range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocpu_constraints: Option<ImageOcpuConstraints>,
}

// ---------------------------------------------------------------------------------------------
// DRG, DRG attachment, remote peering

/// `CreateDrgDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDrgDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `Drg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drg {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

/// `DrgAttachmentNetworkCreateDetails`: what a DRG attachment connects (`type` `VCN` here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrgAttachmentNetworkDetails {
    /// `VCN` (also `IPSEC_TUNNEL`, `VIRTUAL_CIRCUIT`, `REMOTE_PEERING_CONNECTION`).
    #[serde(rename = "type")]
    pub network_type: String,
    /// The attached network's OCID.
    pub id: String,
    /// The VCN route table for traffic entering the VCN from the DRG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
}

impl DrgAttachmentNetworkDetails {
    /// An attachment of VCN `vcn_id`.
    pub fn vcn(vcn_id: &str) -> Self {
        Self {
            network_type: "VCN".into(),
            id: vcn_id.to_string(),
            route_table_id: None,
        }
    }
}

/// `CreateDrgAttachmentDetails`: give `networkDetails` (current form) or `vcnId` (classic form).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDrgAttachmentDetails {
    /// DRG OCID.
    pub drg_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// VCN OCID (classic form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcn_id: Option<String>,
    /// The attached network (current form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_details: Option<DrgAttachmentNetworkDetails>,
    /// VCN route table for traffic entering from the DRG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// DRG route table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drg_route_table_id: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `DrgAttachment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrgAttachment {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// DRG OCID.
    #[serde(default)]
    pub drg_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// VCN OCID (classic form; newer answers use `networkDetails`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcn_id: Option<String>,
    /// Network details (`{"type":"VCN","id":…}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_details: Option<serde_json::Value>,
    /// VCN route table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

impl DrgAttachment {
    /// The attached VCN, from `vcnId` or `networkDetails.id` (type `VCN`).
    pub fn attached_vcn(&self) -> Option<&str> {
        self.vcn_id.as_deref().or_else(|| {
            let nd = self.network_details.as_ref()?;
            if nd.get("type").and_then(|t| t.as_str()) == Some("VCN") {
                nd.get("id").and_then(|i| i.as_str())
            } else {
                None
            }
        })
    }
}

string_enum! {
    /// `peeringStatus` of a remote peering connection.
    PeeringStatus {
        /// The peer was deleted or is invalid.
        Invalid = "INVALID",
        /// Not yet connected.
        New = "NEW",
        /// Connecting.
        Pending = "PENDING",
        /// Connected.
        Peered = "PEERED",
        /// Connection revoked.
        Revoked = "REVOKED",
    }
}

/// `CreateRemotePeeringConnectionDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRemotePeeringConnectionDetails {
    /// Compartment OCID.
    pub compartment_id: String,
    /// DRG OCID.
    pub drg_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `RemotePeeringConnection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemotePeeringConnection {
    /// OCID.
    pub id: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// DRG OCID.
    #[serde(default)]
    pub drg_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lifecycle state.
    pub lifecycle_state: LifecycleState,
    /// Peering status.
    pub peering_status: PeeringStatus,
    /// Peer RPC OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Peer region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_region_name: Option<String>,
    /// Peer tenancy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_tenancy_id: Option<String>,
    /// Cross-tenancy peering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_cross_tenancy_peering: Option<bool>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

/// `ConnectRemotePeeringConnectionsDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectRemotePeeringConnectionsDetails {
    /// The peer RPC's OCID.
    pub peer_id: String,
    /// The peer's region.
    pub peer_region_name: String,
}

resource!(
    Vcn,
    InternetGateway,
    RouteTable,
    SecurityList,
    Subnet,
    PublicIp,
    Instance,
    VnicAttachment,
    Vnic,
    Image,
    Drg,
    DrgAttachment,
    RemotePeeringConnection,
);
