//! Resource kinds (DESIGN.md §6) and the stable, readable addresses of resources.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! kinds {
    ($($variant:ident => $name:literal, $oci:literal, $immutable:expr, $doc:literal;)*) => {
        /// The kind of a resource. The order of declaration is the order in which a
        /// deployment creates them, and the tie-break of every order pexspec shows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $(
                #[doc = $doc]
                $variant,
            )*
        }

        impl Kind {
            /// Every kind, in creation order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// Looks a kind up by its name.
            pub fn from_name(name: &str) -> Option<Kind> {
                match name {
                    $($name => Some(Kind::$variant),)*
                    _ => None,
                }
            }

            /// The kind's name in addresses and plans, e.g. `route_table`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }

            /// Whether OCI holds resources of this kind (the others live on the Pexip
            /// Management Node).
            pub const fn is_oci(self) -> bool {
                match self {
                    $(Kind::$variant => $oci,)*
                }
            }

            /// The desired-state fields that cannot change in place: a change to one of them
            /// replaces the resource.
            pub const fn immutable_fields(self) -> &'static [&'static str] {
                match self {
                    $(Kind::$variant => $immutable,)*
                }
            }
        }
    };
}

kinds! {
    Compartment => "compartment", true, &["parent"],
        "The compartment that holds every OCI resource of the stack.";
    Bucket => "bucket", true, &["name", "compartment_id"],
        "The Object Storage bucket the OVA files are uploaded to.";
    Object => "object", true, &["bucket", "name"],
        "One OVA file in the bucket (`management` or `conferencing`).";
    Image => "image", true, &["source", "launch_mode", "compartment_id"],
        "A custom image imported from an OVA file, in one region.";
    ImageShape => "image_shape", true, &["image_id", "shape"],
        "A shape made compatible with a custom image (the guide's \"Custom images and instance shapes\").";
    Vcn => "vcn", true, &["cidr_block", "dns_label", "compartment_id"],
        "The virtual cloud network of one region.";
    InternetGateway => "internet_gateway", true, &["vcn_id"],
        "The internet gateway of one region's VCN (public and hybrid deployments).";
    Drg => "drg", true, &["compartment_id"],
        "The dynamic routing gateway of one region (deployments with more than one region).";
    DrgAttachment => "drg_attachment", true, &["drg_id", "network_details"],
        "The attachment of a region's VCN to its DRG.";
    Rpc => "rpc", true, &["drg_id"],
        "A remote peering connection on one region's DRG, towards one peer region.";
    RpcPeering => "rpc_peering", true, &["requestor_id", "acceptor_id", "peer_region_name"],
        "The connection of two regions' remote peering connections (one per unordered pair).";
    RouteTable => "route_table", true, &["vcn_id"],
        "The route table of one region's subnet: internet and peer regions.";
    SecurityList => "security_list", true, &["vcn_id"],
        "The security list of one region's subnet (the guide's ingress table).";
    Subnet => "subnet", true, &["vcn_id", "cidr_block", "dns_label", "prohibit_public_ip_on_vnic"],
        "The subnet of one region's VCN.";
    Instance => "instance", true, &["shape", "source_details", "create_vnic_details", "availability_domain", "compartment_id"],
        "The VM instance of the Management Node or of one Conferencing Node.";
    PublicIp => "public_ip", true, &["lifetime", "compartment_id"],
        "A reserved public IP bound to a node's private IP.";
    ManagementBootstrap => "management_bootstrap", false, &["hostname", "domain", "address", "netmask", "gateway"],
        "The Management Node's initial configuration (the installation wizard).";
    DnsServer => "dns_server", false, &[],
        "A DNS server of the platform.";
    NtpServer => "ntp_server", false, &[],
        "An NTP server of the platform.";
    Licence => "licence", false, &["entitlement_id"],
        "A licence key activated on the platform.";
    SystemLocation => "system_location", false, &[],
        "A system location.";
    TlsCertificate => "tls_certificate", false, &[],
        "A TLS certificate and its private key, uploaded to the Management Node.";
    Conference => "conference", false, &[],
        "A virtual meeting room.";
    ConferenceAlias => "conference_alias", false, &["alias"],
        "An alias that dials into a virtual meeting room.";
    WorkerVm => "worker_vm", false, &["name", "hostname", "domain", "address", "netmask", "gateway", "node_type"],
        "A Conferencing Node registered on the Management Node.";
    NodeBootstrap => "node_bootstrap", false, &["worker_vm_id"],
        "The configuration file of a Conferencing Node delivered to its VM.";
}

impl Kind {}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Kind::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("`{name}` is not a resource kind")))
    }
}

/// The stable, readable address of one resource: its kind and, unless the stack has only one
/// of that kind, a key: `compartment`, `vcn[eu-zurich-1]`, `instance[pexconf01]`,
/// `rpc_peering[eu-frankfurt-1:eu-zurich-1]`.
///
/// Addresses order by kind (creation order), then by key. They are what the
/// `pexspec-address` tag holds on every OCI resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    kind: Kind,
    // Shared: addresses are cloned into every dependency list, plan and observed state.
    key: Option<Arc<str>>,
}

impl Address {
    /// The address of the only resource of `kind` (e.g. `compartment`).
    pub fn singleton(kind: Kind) -> Self {
        Self { kind, key: None }
    }

    /// The address `kind[key]`.
    pub fn new(kind: Kind, key: impl AsRef<str>) -> Self {
        Self {
            kind,
            key: Some(Arc::from(key.as_ref())),
        }
    }

    /// The address `kind[a:b:...]` with its parts joined by `:`.
    pub fn composite(kind: Kind, parts: &[&str]) -> Self {
        Self::new(kind, parts.join(":"))
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The key between the brackets, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Parses `kind` or `kind[key]`.
    pub fn parse(text: &str) -> Result<Self, ParseAddressError> {
        let bad = || ParseAddressError {
            text: text.to_owned(),
        };
        match text.find('[') {
            None => Kind::from_name(text)
                .map(Address::singleton)
                .ok_or_else(bad),
            Some(open) => {
                let kind = Kind::from_name(&text[..open]).ok_or_else(bad)?;
                let key = text[open + 1..].strip_suffix(']').ok_or_else(bad)?;
                Ok(Address::new(kind, key))
            }
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            None => f.write_str(self.kind.as_str()),
            Some(key) => write!(f, "{}[{key}]", self.kind.as_str()),
        }
    }
}

impl FromStr for Address {
    type Err = ParseAddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Address::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A text that is not a resource address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseAddressError {
    text: String,
}

impl fmt::Display for ParseAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a resource address (`kind` or `kind[key]`)",
            self.text
        )
    }
}

impl std::error::Error for ParseAddressError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in [
            "compartment",
            "vcn[eu-zurich-1]",
            "rpc_peering[eu-frankfurt-1:eu-zurich-1]",
            "conference[Board room [old]]",
            "ntp_server[0.pool.ntp.org]",
        ] {
            assert_eq!(Address::parse(text).unwrap().to_string(), text);
        }
        assert!(Address::parse("vpn[x]").is_err());
        assert!(Address::parse("vcn[x").is_err());
        assert!(Address::parse("").is_err());
    }

    #[test]
    fn kinds_order_by_creation() {
        assert!(Address::singleton(Kind::Compartment) < Address::new(Kind::Bucket, "a"));
        assert!(Address::new(Kind::Vcn, "z") < Address::new(Kind::Subnet, "a"));
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.as_str()), Some(*kind));
        }
    }
}
