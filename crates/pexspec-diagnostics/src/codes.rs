//! The registry of check codes: every code of DESIGN.md §5 with its default severity, its
//! family and a one-line summary. The book's page for each code is generated from here.

use serde::Serialize;

use crate::Severity;

/// The family a check belongs to; the book groups its pages by family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The YAML text and the shape of the spec.
    Spec,
    /// Addresses, CIDRs and regions.
    Network,
    /// Who may reach the nodes.
    Security,
    /// The Management Node and the Conferencing Nodes.
    Nodes,
    /// Instance shapes and call capacity.
    Capacity,
    /// The Pexip platform configuration.
    Platform,
    /// The resource graph compiled from the spec.
    Graph,
}

impl Family {
    /// Every family, in book order.
    pub const ALL: [Family; 7] = [
        Family::Spec,
        Family::Network,
        Family::Security,
        Family::Nodes,
        Family::Capacity,
        Family::Platform,
        Family::Graph,
    ];

    /// The family's title in the book.
    pub fn title(self) -> &'static str {
        match self {
            Family::Spec => "Spec and YAML",
            Family::Network => "Network",
            Family::Security => "Security",
            Family::Nodes => "Nodes",
            Family::Capacity => "Shapes and capacity",
            Family::Platform => "Platform",
            Family::Graph => "Resource graph",
        }
    }
}

/// What the registry knows of one code.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CodeInfo {
    /// The stable kebab-case code, e.g. `vcn-cidr-overlap`.
    pub name: &'static str,
    /// The severity a finding of this code has unless a command overrides it.
    pub severity: Severity,
    /// The family of checks it belongs to.
    pub family: Family,
    /// One line: what the check finds.
    pub summary: &'static str,
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $sev:ident, $family:ident, $summary:literal;)*) => {
        /// A stable check code (DESIGN.md §5). The kebab-case names are a contract: never
        /// rename one, only add.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The registry entry of this code.
            pub const fn info(self) -> CodeInfo {
                match self {
                    $(Code::$variant => CodeInfo {
                        name: $name,
                        severity: Severity::$sev,
                        family: Family::$family,
                        summary: $summary,
                    },)*
                }
            }
        }
    };
}

codes! {
    YamlSyntax => "yaml-syntax", Error, Spec, "The file is not well-formed YAML";
    YamlBudget => "yaml-budget", Error, Spec, "The YAML exceeds a parsing budget: alias expansion, nesting depth or size";
    DuplicateKey => "duplicate-key", Error, Spec, "A mapping has the same key twice";
    UnknownField => "unknown-field", Error, Spec, "A field the spec format does not have";
    InvalidValue => "invalid-value", Error, Spec, "A value of the wrong type or outside the allowed values";
    MissingField => "missing-field", Error, Spec, "A required field is absent";
    UnsupportedVersion => "unsupported-version", Error, Spec, "The spec's `version` is not one this pexspec reads";
    SecretInline => "secret-inline", Error, Spec, "A secret is written in clear instead of `{ env: }` or `{ file: }`";
    SecretReferenceInvalid => "secret-reference-invalid", Error, Spec, "A secret reference that can never yield a value: no variable can have its name, or its file is empty or not text";
    FileMissing => "file-missing", Warning, Spec, "A referenced key, certificate or image file does not exist";
    CidrHostBits => "cidr-host-bits", Error, Network, "A CIDR has host bits set";
    VcnCidrSize => "vcn-cidr-size", Error, Network, "A VCN CIDR is outside the sizes OCI allows (/16 to /30)";
    VcnCidrOverlap => "vcn-cidr-overlap", Error, Network, "Two regions' VCN CIDRs overlap";
    OnPremisesOverlap => "on-premises-overlap", Error, Network, "A VCN CIDR overlaps an on-premises network";
    SubnetOutsideVcn => "subnet-outside-vcn", Error, Network, "A subnet is not inside its region's VCN";
    IpOutsideSubnet => "ip-outside-subnet", Error, Network, "A node's private IP is not in its region's subnet";
    SubnetTooSmall => "subnet-too-small", Error, Network, "A subnet has fewer usable addresses than the nodes placed in its region";
    IpReserved => "ip-reserved", Error, Network, "A node's private IP is one OCI reserves in the subnet";
    DuplicateIp => "duplicate-ip", Error, Network, "Two nodes have the same private IP";
    DuplicateRegion => "duplicate-region", Error, Network, "A region is listed twice";
    UnknownRegion => "unknown-region", Error, Network, "Not an OCI region identifier";
    RegionNotDeclared => "region-not-declared", Error, Network, "A node names a region that `regions` does not list";
    InternalCidrGap => "internal-cidr-gap", Error, Network, "A VCN that `internal_cidrs` does not cover: IPsec between nodes is blocked";
    SshOpenToWorld => "ssh-open-to-world", Error, Security, "SSH (TCP 22) is open to the whole internet";
    AdminOpenToWorld => "admin-open-to-world", Error, Security, "The administration port (TCP 8443) is open to the whole internet";
    IcmpOpenToWorld => "icmp-open-to-world", Warning, Security, "ICMP is open to the whole internet";
    ManagementStationBroad => "management-station-broad", Warning, Security, "The management station range is broader than /16";
    StatelessRule => "stateless-rule", Error, Security, "An ingress rule is stateless";
    PortRangeInvalid => "port-range-invalid", Error, Security, "A port or port range is malformed or outside 1-65535";
    PublicNodeNoIp => "public-node-no-ip", Error, Security, "A Conferencing Node of a public deployment has no public IP";
    PrivateNodePublicIp => "private-node-public-ip", Warning, Security, "A node of a private deployment has a public IP";
    SshKeyInvalid => "ssh-key-invalid", Error, Security, "The SSH key file is not exactly one public key";
    ManagementNodeMissing => "management-node-missing", Error, Nodes, "The spec has no Management Node";
    DuplicateName => "duplicate-name", Error, Nodes, "Two objects of one kind have the same name";
    DuplicateHostname => "duplicate-hostname", Error, Nodes, "Two nodes have the same hostname";
    DuplicateFqdn => "duplicate-fqdn", Error, Nodes, "Two nodes have the same FQDN or SIP TLS FQDN";
    DuplicateIpv6 => "duplicate-ipv6", Error, Nodes, "Two nodes have the same IPv6 address";
    UnknownLocation => "unknown-location", Error, Nodes, "A node names a location that `platform.locations` does not list";
    LocationMixedRoles => "location-mixed-roles", Warning, Nodes, "A location mixes proxying and transcoding nodes";
    UnknownTlsCertificate => "unknown-tls-certificate", Error, Nodes, "A node names a TLS certificate that `platform.tls_certificates` does not list";
    PrivateKeyInCertificate => "private-key-in-certificate", Error, Nodes, "A certificate file holds a private key, which would be sent as part of the certificate";
    PrivateKeyInvalid => "private-key-invalid", Error, Nodes, "A `private_key` file does not hold exactly one private key: none, a certificate, or several keys";
    CertificateKeyMismatch => "certificate-key-mismatch", Error, Nodes, "A TLS certificate's private key is not the key the certificate was issued for";
    CertificateExpired => "certificate-expired", Error, Nodes, "A TLS certificate has expired";
    CertificateNotYetValid => "certificate-not-yet-valid", Warning, Nodes, "A TLS certificate is not valid yet";
    CertificateFqdnMismatch => "certificate-fqdn-mismatch", Error, Nodes, "The node's certificate does not name its SIP TLS FQDN";
    HostnameInvalid => "hostname-invalid", Error, Nodes, "A hostname or domain is not a valid DNS name";
    NameTooLong => "name-too-long", Error, Nodes, "A name, hostname or domain is longer than the Pexip API accepts";
    NameInvalid => "name-invalid", Error, Nodes, "A node name that is not one path component, or a location name that is empty or holds a control character";
    SecondaryInterface => "secondary-interface", Error, Nodes, "A Conferencing Node asks for a second network interface";
    SshPasswordMissing => "ssh-password-missing", Error, Nodes, "A Conferencing Node has no `ssh_password`";
    UnknownShape => "unknown-shape", Error, Capacity, "Not an OCI compute shape pexspec knows";
    ShapeConfig => "shape-config", Error, Capacity, "A flex shape without or outside its OCPU and memory range, or a fixed shape with a config";
    BelowRecommendedOcpus => "below-recommended-ocpus", Warning, Capacity, "A Management or transcoding node has fewer than 2 OCPUs";
    MemoryPerOcpu => "memory-per-ocpu", Warning, Capacity, "A VM.Optimized3.Flex node does not have 2 GB of memory per OCPU";
    TooManyNodes => "too-many-nodes", Warning, Capacity, "More than 20 Conferencing Nodes";
    CapacityShort => "capacity-short", Error, Capacity, "The required HD calls exceed the estimated capacity of the transcoding nodes";
    DnsMissing => "dns-missing", Error, Platform, "No DNS server is configured";
    NtpMissing => "ntp-missing", Error, Platform, "No NTP server is configured";
    NtpTooFew => "ntp-too-few", Warning, Platform, "Fewer than three NTP servers";
    LicenseMissing => "license-missing", Warning, Platform, "No licence key: the platform cannot carry calls";
    DuplicateAlias => "duplicate-alias", Error, Platform, "Two meeting rooms share an alias";
    PinInvalid => "pin-invalid", Error, Platform, "A PIN reference is malformed";
    ImageVersionMismatch => "image-version-mismatch", Error, Platform, "The Management and Conferencing Node images are of different versions";
    DependencyCycle => "dependency-cycle", Error, Graph, "The resources of the spec depend on each other in a cycle";
}

impl Code {
    /// The stable kebab-case name.
    pub const fn as_str(self) -> &'static str {
        self.info().name
    }

    /// Looks a code up by its kebab-case name.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// The address of the code's page, relative to the book's root.
    pub fn book_path(self) -> String {
        format!("checks/{}.html", self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} is registered twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name} is not kebab-case"
            );
            assert_eq!(Code::from_name(name), Some(code));
        }
    }
}
