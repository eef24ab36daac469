//! The IAM permissions of every operation the client can send.
//!
//! [`Operation`] is the only way to name a request: `Request::new` takes one, so an operation
//! the client sends cannot be missing from this table (the crate would not compile). Each
//! entry says which `<verb> <resource-type>` pairs OCI's policy reference requires for the
//! operation, at the level pexspec uses it, and where that is stated. The book's page "Before
//! your first real apply" prints the policy statements that grant them all; the test
//! `tests/permissions.rs` checks that those statements cover every entry.
//!
//! Sources (OCI IAM policy reference):
//! - [`CORE`]: "Details for Verb + Resource-Type Combinations" of the Core Services
//!   (networking, compute), which lists the API operations each verb covers;
//! - [`OBJECT_STORAGE`]: "Details for Object Storage and Archive Storage" and its "Permissions
//!   Required for Each API Operation";
//! - [`IAM`]: "Details for IAM without Identity Domains" and its "Permissions Required for
//!   Each API Operation".
//!
//! Where a table names an operation only under a permission (not under a verb), or not at
//! all, the entry carries an `unverified` note that says what was inferred.

use std::fmt;

/// The Core Services' verb and resource-type tables.
pub const CORE: &str = "https://docs.oracle.com/en-us/iaas/Content/Identity/policyreference/corepolicyreference_topic-Details_for_Verb__ResourceType_Combinations.htm";
/// The Core Services' resource types and aggregate families.
pub const CORE_RESOURCE_TYPES: &str =
    "https://docs.oracle.com/en-us/iaas/Content/Identity/Reference/corepolicyreference.htm";
/// Object Storage's resource types, verb tables and per-operation permissions.
pub const OBJECT_STORAGE: &str = "https://docs.oracle.com/en-us/iaas/Content/Identity/policyreference/objectstoragepolicyreference.htm";
/// IAM's verb tables and per-operation permissions (compartments, tenancies).
pub const IAM: &str =
    "https://docs.oracle.com/en-us/iaas/Content/Identity/policyreference/iampolicyreference.htm";

/// A policy verb. Access is cumulative: `inspect` < `read` < `use` < `manage` (the order of
/// this type), as the policy reference's tables say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// List and get metadata.
    Inspect,
    /// `inspect` plus reading the resource's contents.
    Read,
    /// `read` plus working with existing resources.
    Use,
    /// Everything, including create and delete.
    Manage,
}

impl Verb {
    /// Every verb, weakest first.
    pub const ALL: [Verb; 4] = [Verb::Inspect, Verb::Read, Verb::Use, Verb::Manage];

    /// The verb as a policy statement writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Inspect => "inspect",
            Verb::Read => "read",
            Verb::Use => "use",
            Verb::Manage => "manage",
        }
    }

    /// Parses a verb of a policy statement (case-insensitive, as the policy language is).
    pub fn parse(text: &str) -> Option<Verb> {
        Verb::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a requirement must be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// In the compartment pexspec works in (a statement on it or on any parent, up to the
    /// tenancy, grants it: policies are inherited by child compartments).
    Compartment,
    /// In the tenancy itself (the root compartment): the operation is sent with the tenancy's
    /// OCID.
    Tenancy,
}

/// One requirement: `<verb> <resource-type>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The least verb.
    pub verb: Verb,
    /// The individual resource type, as a policy statement writes it.
    pub resource: &'static str,
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)
    }
}

/// The aggregate resource types pexspec's policy uses, with the individual types each
/// covers ("A policy that uses `<verb> virtual-network-family` is equivalent to writing one
/// with a separate `<verb> <individual resource-type>` statement for each of the individual
/// resource-types"), and where the list is stated.
pub const FAMILIES: &[(&str, &[&str], &str)] = &[
    (
        "virtual-network-family",
        &[
            "vcns",
            "subnets",
            "route-tables",
            "network-security-groups",
            "security-lists",
            "dhcp-options",
            "private-ips",
            "public-ips",
            "ipv6s",
            "internet-gateways",
            "nat-gateways",
            "service-gateways",
            "local-peering-gateways",
            "local-peering-from",
            "local-peering-to",
            "remote-peering-connections",
            "remote-peering-from",
            "remote-peering-to",
            "drgs",
            "drg-attachments",
            "cpes",
            "ipsec-connections",
            "cross-connects",
            "cross-connect-groups",
            "virtual-circuits",
            "vnics",
            "vnic-attachments",
            "vlans",
        ],
        CORE_RESOURCE_TYPES,
    ),
    (
        "instance-family",
        &[
            "app-catalog-listing",
            "console-histories",
            "instances",
            "instance-console-connection",
            "instance-images",
            "volume-attachments",
        ],
        CORE_RESOURCE_TYPES,
    ),
    (
        "object-family",
        &["objectstorage-namespaces", "buckets", "objects"],
        OBJECT_STORAGE,
    ),
];

/// Whether `granted` (an individual type or an aggregate family) covers `resource`.
pub fn resource_covers(granted: &str, resource: &str) -> bool {
    granted == resource
        || granted == "all-resources"
        || FAMILIES
            .iter()
            .any(|(family, members, _)| *family == granted && members.contains(&resource))
}

macro_rules! operations {
    (@note) => { None };
    (@note $note:literal) => { Some($note) };
    ($(
        $name:ident: $scope:ident, $source:ident, [$($verb:ident $resource:literal),* $(,)?]
        $(, unverified: $note:literal)?;
    )*) => {
        /// Every operation the client can send, by its name in OCI's API reference.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl Operation {
            /// Every operation, in the table's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            /// The operation's name, as OCI's API reference and error messages write it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }

            /// The permissions it needs, as `<verb> <resource-type>` pairs (empty: none).
            pub fn requirements(self) -> &'static [Requirement] {
                match self {
                    $(Operation::$name => &[$(Requirement {
                        verb: Verb::$verb,
                        resource: $resource,
                    }),*],)*
                }
            }

            /// Where the requirements must be granted.
            pub fn scope(self) -> Scope {
                match self {
                    $(Operation::$name => Scope::$scope,)*
                }
            }

            /// The policy reference page that states them.
            pub fn source(self) -> &'static str {
                match self {
                    $(Operation::$name => $source,)*
                }
            }

            /// What was inferred, when the reference does not state the entry outright.
            pub fn unverified(self) -> Option<&'static str> {
                match self {
                    $(Operation::$name => operations!(@note $($note)?),)*
                }
            }
        }
    };
}

operations! {
    // Identity (IAM).
    ListRegions: Tenancy, IAM, [Inspect "tenancies"];
    ListRegionSubscriptions: Tenancy, IAM, [Inspect "tenancies"];
    // pexspec sends it with the tenancy's OCID (availability domains are the tenancy's).
    ListAvailabilityDomains: Tenancy, IAM, [Inspect "compartments"];
    CreateCompartment: Compartment, IAM, [Manage "compartments"];
    GetCompartment: Compartment, IAM, [Inspect "compartments"];
    ListCompartments: Compartment, IAM, [Inspect "compartments"];
    UpdateCompartment: Compartment, IAM, [Use "compartments"];
    DeleteCompartment: Compartment, IAM, [Manage "compartments"];

    // Networking: VCN, internet gateway, route table, security list, subnet.
    CreateVcn: Compartment, CORE, [Manage "vcns"];
    GetVcn: Compartment, CORE, [Inspect "vcns"];
    ListVcns: Compartment, CORE, [Inspect "vcns"];
    UpdateVcn: Compartment, CORE, [Manage "vcns"];
    DeleteVcn: Compartment, CORE, [Manage "vcns"];
    CreateInternetGateway: Compartment, CORE, [Manage "internet-gateways", Manage "vcns"];
    GetInternetGateway: Compartment, CORE, [Inspect "internet-gateways"];
    ListInternetGateways: Compartment, CORE, [Inspect "internet-gateways"];
    UpdateInternetGateway: Compartment, CORE, [Manage "internet-gateways"];
    DeleteInternetGateway: Compartment, CORE, [Manage "internet-gateways", Manage "vcns"];
    CreateRouteTable: Compartment, CORE, [
        Manage "route-tables", Manage "vcns", Manage "internet-gateways", Manage "drgs",
        Manage "private-ips", Manage "local-peering-gateways", Use "nat-gateways",
        Use "service-gateways",
    ];
    GetRouteTable: Compartment, CORE, [Inspect "route-tables"];
    ListRouteTables: Compartment, CORE, [Inspect "route-tables"];
    UpdateRouteTable: Compartment, CORE, [
        Manage "route-tables", Manage "internet-gateways", Manage "drgs", Manage "private-ips",
        Manage "local-peering-gateways", Use "nat-gateways", Use "service-gateways",
    ];
    DeleteRouteTable: Compartment, CORE, [
        Manage "route-tables", Manage "vcns", Manage "internet-gateways", Manage "drgs",
        Manage "private-ips", Manage "local-peering-gateways", Use "nat-gateways",
        Use "service-gateways",
    ];
    CreateSecurityList: Compartment, CORE, [Manage "security-lists", Manage "vcns"];
    GetSecurityList: Compartment, CORE, [Inspect "security-lists"];
    ListSecurityLists: Compartment, CORE, [Inspect "security-lists"];
    UpdateSecurityList: Compartment, CORE, [Manage "security-lists"];
    DeleteSecurityList: Compartment, CORE, [Manage "security-lists", Manage "vcns"];
    CreateSubnet: Compartment, CORE, [
        Manage "subnets", Manage "vcns", Manage "route-tables", Manage "security-lists",
        Manage "dhcp-options",
    ];
    GetSubnet: Compartment, CORE, [Inspect "subnets"];
    ListSubnets: Compartment, CORE, [Inspect "subnets"];
    // The worst case: pexspec may change the route table and the security lists.
    UpdateSubnet: Compartment, CORE, [
        Manage "subnets", Manage "route-tables", Manage "security-lists", Manage "dhcp-options",
    ];
    DeleteSubnet: Compartment, CORE, [
        Manage "subnets", Manage "vcns", Manage "route-tables", Manage "security-lists",
        Manage "dhcp-options",
    ];

    // Networking: reserved public IPs, private IPs, VNICs.
    CreatePublicIp: Compartment, CORE, [Manage "public-ips", Use "private-ips"];
    GetPublicIp: Compartment, CORE, [Read "public-ips"],
        unverified: "the tables list PUBLIC_IP_READ (`read public-ips`) for ListPublicIps and GetPublicIpByPrivateIpId, not for GetPublicIp";
    ListPublicIps: Compartment, CORE, [Read "public-ips", Inspect "private-ips"];
    // A reserved public IP needs `read public-ips`, an ephemeral one `inspect private-ips`.
    GetPublicIpByPrivateIpId: Compartment, CORE, [Read "public-ips", Inspect "private-ips"];
    UpdatePublicIp: Compartment, CORE, [Manage "public-ips", Use "private-ips"];
    DeletePublicIp: Compartment, CORE, [Manage "public-ips", Use "private-ips"];
    GetPrivateIp: Compartment, CORE, [Inspect "private-ips"];
    ListPrivateIps: Compartment, CORE, [Inspect "private-ips"];
    GetVnic: Compartment, CORE, [Inspect "vnics"];
    ListVnicAttachments: Compartment, CORE, [Inspect "vnic-attachments", Inspect "instances"];

    // Networking: DRG, DRG attachment, remote peering.
    CreateDrg: Compartment, CORE, [Manage "drgs"];
    GetDrg: Compartment, CORE, [Inspect "drgs"];
    ListDrgs: Compartment, CORE, [Inspect "drgs"];
    UpdateDrg: Compartment, CORE, [Manage "drgs"];
    DeleteDrg: Compartment, CORE, [Manage "drgs"];
    CreateDrgAttachment: Compartment, CORE, [Use "drgs", Manage "vcns", Manage "route-tables"];
    GetDrgAttachment: Compartment, CORE, [Inspect "drg-attachments"];
    ListDrgAttachments: Compartment, CORE, [Inspect "drg-attachments"];
    UpdateDrgAttachment: Compartment, CORE, [Manage "drg-attachments", Manage "route-tables"];
    DeleteDrgAttachment: Compartment, CORE, [Use "drgs", Manage "vcns"];
    CreateRemotePeeringConnection: Compartment, CORE, [
        Manage "remote-peering-connections", Manage "drgs",
    ];
    GetRemotePeeringConnection: Compartment, CORE, [Inspect "remote-peering-connections"];
    ListRemotePeeringConnections: Compartment, CORE, [Inspect "remote-peering-connections"];
    UpdateRemotePeeringConnection: Compartment, CORE, [Manage "remote-peering-connections"];
    DeleteRemotePeeringConnection: Compartment, CORE, [
        Manage "remote-peering-connections", Manage "drgs",
    ];
    // Both peers are pexspec's, in its compartment: it is requestor and acceptor.
    ConnectRemotePeeringConnections: Compartment, CORE, [
        Manage "remote-peering-from", Manage "remote-peering-to",
    ];

    // Compute: instances.
    LaunchInstance: Compartment, CORE, [
        Manage "instances", Read "instance-images", Use "vnics", Use "subnets",
        Use "network-security-groups", Read "app-catalog-listing",
    ];
    GetInstance: Compartment, CORE, [Read "instances"];
    ListInstances: Compartment, CORE, [Read "instances"];
    InstanceAction: Compartment, CORE, [Use "instances"];
    UpdateInstance: Compartment, CORE, [Use "instances"];
    // pexspec attaches no block volume, so `use volumes` is not needed.
    TerminateInstance: Compartment, CORE, [Manage "instances", Use "vnics", Use "subnets"];

    // Compute: custom images (imported from Object Storage).
    CreateImage: Compartment, CORE, [Manage "instance-images", Read "objects"],
        unverified: "the tables give `manage instance-images` (and `use instances` for an image made from an instance); that an import from a bucket also needs `read objects` on the object is assumed, not stated";
    GetImage: Compartment, CORE, [Inspect "instance-images"];
    ListImages: Compartment, CORE, [Inspect "instance-images"];
    UpdateImage: Compartment, CORE, [Use "instance-images"];
    DeleteImage: Compartment, CORE, [Manage "instance-images"];
    AddImageShapeCompatibilityEntry: Compartment, CORE, [Use "instance-images"],
        unverified: "not in the tables; taken as INSTANCE_IMAGE_UPDATE (`use instance-images`), like UpdateImage";
    RemoveImageShapeCompatibilityEntry: Compartment, CORE, [Use "instance-images"],
        unverified: "not in the tables; taken as INSTANCE_IMAGE_UPDATE (`use instance-images`), like UpdateImage";
    ListImageShapeCompatibilityEntries: Compartment, CORE, [Inspect "instance-images"],
        unverified: "not in the tables; taken as INSTANCE_IMAGE_INSPECT (`inspect instance-images`), like GetImage";
    // pexspec polls only the image imports' work requests: "for work requests related to
    // instance-images resource types", with CreateImage's permissions.
    GetWorkRequest: Compartment, CORE, [Manage "instance-images"];
    ListWorkRequestErrors: Compartment, CORE, [Manage "instance-images"];

    // Compute: the serial console (the installation wizard).
    CreateInstanceConsoleConnection: Compartment, CORE, [
        Manage "instance-console-connection", Read "instances",
    ];
    GetInstanceConsoleConnection: Compartment, CORE, [
        Read "instance-console-connection", Read "instances",
    ];
    ListInstanceConsoleConnections: Compartment, CORE, [
        Inspect "instance-console-connection", Read "instances",
    ];
    DeleteInstanceConsoleConnection: Compartment, CORE, [Manage "instance-console-connection"];

    // Object Storage: the images' bucket and the team lock object.
    // "API requires no permissions and returns the caller's namespace."
    GetNamespace: Compartment, OBJECT_STORAGE, [];
    CreateBucket: Compartment, OBJECT_STORAGE, [Manage "buckets"];
    GetBucket: Compartment, OBJECT_STORAGE, [Read "buckets"];
    ListBuckets: Compartment, OBJECT_STORAGE, [Inspect "buckets"];
    DeleteBucket: Compartment, OBJECT_STORAGE, [Manage "buckets"];
    // OBJECT_CREATE for a new object (`manage`), OBJECT_OVERWRITE for an existing one (`use`).
    PutObject: Compartment, OBJECT_STORAGE, [Manage "objects"];
    HeadObject: Compartment, OBJECT_STORAGE, [Inspect "objects"];
    GetObject: Compartment, OBJECT_STORAGE, [Read "objects"];
    ListObjects: Compartment, OBJECT_STORAGE, [Inspect "objects"];
    DeleteObject: Compartment, OBJECT_STORAGE, [Manage "objects"];
    CreateMultipartUpload: Compartment, OBJECT_STORAGE, [Manage "objects"];
    UploadPart: Compartment, OBJECT_STORAGE, [Manage "objects"];
    CommitMultipartUpload: Compartment, OBJECT_STORAGE, [Manage "objects"];
    AbortMultipartUpload: Compartment, OBJECT_STORAGE, [Manage "objects"];
    ListMultipartUploadParts: Compartment, OBJECT_STORAGE, [Inspect "objects"];
    ListMultipartUploads: Compartment, OBJECT_STORAGE, [Read "buckets"];
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
