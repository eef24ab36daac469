//! The spec format (DESIGN.md §4): one YAML file that describes a whole Pexip Infinity
//! platform on OCI. The doc comments here are the user documentation: they become the JSON
//! Schema's descriptions and the book's reference.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::{Cidr, IpAddress, Secret, Sp};

/// A pexspec topology: everything needed to deploy one Pexip Infinity platform on OCI.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "pexspec topology")]
pub struct Spec {
    /// The version of the spec format. This pexspec reads version `1`.
    #[schemars(range(min = 1, max = 1))]
    #[serde(deserialize_with = "crate::values::strict")]
    pub version: Sp<u64>,
    /// The stack name: `[a-z][a-z0-9-]{0,31}`. Every OCI resource pexspec creates is tagged
    /// with it (`pexspec-stack`), which is how pexspec finds its own resources again.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,31}$"))]
    pub name: Sp<String>,
    /// How the nodes are reached: `public` (Conferencing Nodes on the internet with public
    /// IPs), `private` (everything behind a site-to-site VPN) or `hybrid` (the Management
    /// Node on premises, Conferencing Nodes in OCI).
    pub deployment: Sp<Deployment>,
    /// Where in OCI to deploy.
    pub oci: Oci,
    /// The SSH public key file (OpenSSH format) installed on every instance, relative to the
    /// spec. Pexip supports exactly one key.
    pub ssh_public_key: Sp<String>,
    /// The network of the administrators' workstations: the only source allowed to reach SSH
    /// (TCP 22), the administration web interface (TCP 8443) and ICMP.
    pub management_station: Sp<Cidr>,
    /// The Pexip Infinity OVA images and the Object Storage bucket they are imported from.
    pub images: Images,
    /// Networks beyond the VCNs: internal ranges, on-premises networks, extra ingress rules.
    #[serde(default)]
    pub network: Network,
    /// The OCI regions of the deployment, each with its VCN and subnet. Regions need
    /// non-overlapping CIDR ranges.
    pub regions: Sp<Vec<Region>>,
    /// The Management Node. Exactly one per platform.
    #[serde(default)]
    pub management_node: Option<ManagementNode>,
    /// The platform configuration applied through the Management Node's API.
    #[serde(default)]
    pub platform: Platform,
    /// The Conferencing Nodes.
    #[serde(default)]
    pub conferencing_nodes: Vec<ConferencingNode>,
    /// Optional capacity requirement, checked against the shapes' call capacity estimates.
    #[serde(default)]
    pub capacity: Option<Capacity>,
}

/// How the nodes are reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Deployment {
    /// Everything behind a site-to-site VPN: no public IPs.
    Private,
    /// Conferencing Nodes reachable from the internet on reserved public IPs.
    Public,
    /// The Management Node on premises, Conferencing Nodes in OCI.
    Hybrid,
}

/// Where in OCI to deploy.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Oci {
    /// The profile (section) of the OCI CLI configuration file `~/.oci/config` to use.
    /// `OCI_CLI_PROFILE` and `OCI_CLI_CONFIG_FILE` are honoured as the OCI CLI does.
    #[serde(default)]
    pub profile: Option<Sp<String>>,
    /// The tenancy's home region, where identity resources (the compartment) are created.
    pub home_region: Sp<String>,
    /// The compartment that holds every resource of the platform.
    pub compartment: Compartment,
}

/// The compartment that holds every resource of the platform.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compartment {
    /// The compartment's name.
    pub name: Sp<String>,
    /// Its parent: `root` (the tenancy) or a compartment OCID.
    #[serde(default)]
    pub parent: Option<Sp<String>>,
}

/// The Pexip Infinity images.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Images {
    /// The Object Storage bucket the OVA files are uploaded to and imported from.
    pub bucket: Sp<String>,
    /// The Management Node OVA file (e.g. `Pexip_Infinity_v30_generic_pxMgr_59565.ova`),
    /// relative to the spec.
    pub management: Sp<String>,
    /// The Conferencing Node OVA file (e.g. `Pexip_Infinity_v30_generic_ConfNode_59565.ova`),
    /// relative to the spec.
    pub conferencing: Sp<String>,
    /// `false` (the default): import the Conferencing Node image in every region that has
    /// nodes. `true`: the image is replicated to those regions by other means.
    #[serde(default, deserialize_with = "crate::values::strict_plain")]
    pub replicate: bool,
}

/// Networks beyond the VCNs.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The sources allowed to reach the nodes on UDP 500 (IKE) and ESP (IPsec between
    /// nodes). Default: every VCN CIDR and every on-premises network (least privilege).
    #[serde(default)]
    pub internal_cidrs: Option<Sp<Vec<Sp<Cidr>>>>,
    /// Corporate networks behind the site-to-site VPN (private and hybrid deployments).
    #[serde(default)]
    pub on_premises: Vec<Sp<Cidr>>,
    /// Ingress rules added to the generated security list.
    #[serde(default)]
    pub extra_ingress: Vec<IngressRule>,
}

/// One extra ingress rule of the security list.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngressRule {
    /// The source CIDR.
    pub source: Sp<Cidr>,
    /// The IP protocol.
    pub protocol: Sp<Protocol>,
    /// The destination port or range, e.g. `"443"` or `"40000-49999"` (TCP and UDP only).
    #[serde(default)]
    pub ports: Option<Sp<String>>,
    /// Whether the rule is stateless. The guide: "All rules should not be stateless".
    #[serde(default, deserialize_with = "crate::values::opt_strict")]
    pub stateless: Option<Sp<bool>>,
    /// A description shown in the OCI console.
    #[serde(default)]
    pub description: Option<String>,
}

/// An IP protocol of a security rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP (1).
    Icmp,
    /// ESP (50), IPsec between nodes.
    Esp,
    /// Every protocol.
    All,
}

impl Protocol {
    /// The protocol's number as OCI security rules write it (`all` for every protocol).
    pub fn oci_number(self) -> &'static str {
        match self {
            Protocol::Tcp => "6",
            Protocol::Udp => "17",
            Protocol::Icmp => "1",
            Protocol::Esp => "50",
            Protocol::All => "all",
        }
    }
}

/// One OCI region of the deployment.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The OCI region identifier, e.g. `eu-frankfurt-1`.
    pub name: Sp<String>,
    /// The VCN's CIDR block (/16 to /30), not overlapping any other region's or an
    /// on-premises network.
    pub vcn_cidr: Sp<Cidr>,
    /// The subnet's CIDR block, inside the VCN.
    pub subnet_cidr: Sp<Cidr>,
}

/// An instance shape and, for a flex shape, its OCPUs and memory.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    /// The OCI shape name, e.g. `VM.Standard3.Flex` or `VM.Optimized3.Flex`.
    pub name: Sp<String>,
    /// OCPUs (flex shapes only).
    #[serde(default, deserialize_with = "crate::values::opt_strict")]
    pub ocpus: Option<Sp<f64>>,
    /// Memory in GB (flex shapes only).
    #[serde(default, deserialize_with = "crate::values::opt_strict")]
    pub memory_gb: Option<Sp<f64>>,
}

/// The Management Node.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagementNode {
    /// The node's name (Pexip limit: 32 characters).
    pub name: Sp<String>,
    /// The region it runs in. Omit it in a hybrid deployment (the node is on premises).
    #[serde(default)]
    pub region: Option<Sp<String>>,
    /// The instance shape. Omit it in a hybrid deployment.
    #[serde(default)]
    pub shape: Option<Shape>,
    /// The hostname (Pexip limit: 63 characters).
    pub hostname: Sp<String>,
    /// The DNS domain (Pexip limit: 192 characters).
    pub domain: Sp<String>,
    /// The private IP in the region's subnet. Omit it to let OCI assign one.
    #[serde(default)]
    pub private_ip: Option<Sp<IpAddress>>,
    /// Whether the node gets a reserved public IP. The guide advises against it.
    #[serde(default, deserialize_with = "crate::values::opt_strict")]
    pub public_ip: Option<Sp<bool>>,
    /// Hybrid deployments: the Management Node's address on premises.
    #[serde(default)]
    pub on_premises_address: Option<Sp<IpAddress>>,
    /// The password of the web administration user `admin`.
    pub admin_password: Sp<Secret>,
}

/// The platform configuration applied through the Management Node's API.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// DNS servers (at least one). `169.254.169.254` is OCI's resolver.
    #[serde(default)]
    pub dns_servers: Vec<Sp<IpAddress>>,
    /// NTP servers (the guide strongly recommends at least three).
    #[serde(default)]
    pub ntp_servers: Vec<Sp<String>>,
    /// Licence keys to activate.
    #[serde(default)]
    pub licenses: Vec<Sp<Secret>>,
    /// System locations. Every Conferencing Node is in one.
    #[serde(default)]
    pub locations: Vec<Location>,
    /// TLS certificates to upload, referred to by name from Conferencing Nodes.
    #[serde(default)]
    pub tls_certificates: Vec<TlsCertificate>,
    /// Virtual meeting rooms.
    #[serde(default)]
    pub vmrs: Vec<Vmr>,
}

/// A system location.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The location's name (Pexip limit: 250 characters).
    pub name: Sp<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A TLS certificate and its private key.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsCertificate {
    /// The name nodes use to refer to it.
    pub name: Sp<String>,
    /// The PEM certificate file (chain allowed), relative to the spec.
    pub certificate: Sp<String>,
    /// The private key.
    pub private_key: Sp<Secret>,
}

/// A virtual meeting room.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vmr {
    /// The room's name.
    pub name: Sp<String>,
    /// The host PIN (4 to 20 digits, optionally ending in `#`).
    #[serde(default)]
    pub pin: Option<Sp<Secret>>,
    /// The guest PIN.
    #[serde(default)]
    pub guest_pin: Option<Sp<Secret>>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// The aliases that dial into the room, e.g. `board@example.com` or `5551234`.
    #[serde(default)]
    pub aliases: Vec<Sp<String>>,
}

/// The role of a Conferencing Node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Transcoding: hosts conferences.
    Transcoding,
    /// Proxying edge: forwards media to transcoding nodes.
    Proxying,
}

/// A Conferencing Node.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConferencingNode {
    /// The node's name (Pexip limit: 32 characters).
    pub name: Sp<String>,
    /// The region it runs in; one of `regions`.
    pub region: Sp<String>,
    /// `transcoding` or `proxying`.
    pub role: Sp<Role>,
    /// Its system location; one of `platform.locations`.
    pub location: Sp<String>,
    /// The instance shape.
    pub shape: Shape,
    /// The hostname (Pexip limit: 63 characters).
    pub hostname: Sp<String>,
    /// The DNS domain (Pexip limit: 192 characters).
    pub domain: Sp<String>,
    /// The private IP in the region's subnet. Omit it to let OCI assign one.
    #[serde(default)]
    pub private_ip: Option<Sp<IpAddress>>,
    /// Whether the node gets a reserved public IP, also set as its static NAT address.
    #[serde(default, deserialize_with = "crate::values::opt_strict")]
    pub public_ip: Option<Sp<bool>>,
    /// The FQDN on the node's SIP TLS certificate (Pexip API field `alternative_fqdn`).
    #[serde(default)]
    pub sip_tls_fqdn: Option<Sp<String>>,
    /// The TLS certificate installed on the node; one of `platform.tls_certificates`.
    #[serde(default)]
    pub tls_certificate: Option<Sp<String>>,
    /// An IPv6 address, unique per node.
    #[serde(default)]
    pub ipv6_address: Option<Sp<IpAddress>>,
    /// The IPv6 gateway.
    #[serde(default)]
    pub ipv6_gateway: Option<Sp<IpAddress>>,
    /// The password of the node's `admin` SSH user.
    #[serde(default)]
    pub ssh_password: Option<Sp<Secret>>,
    /// Not supported: "dual network interfaces are not supported on Conferencing Nodes
    /// deployed in public cloud services". Accepted only to be refused with that reason.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub secondary_interface: Option<Sp<Ignored>>,
}

/// Any YAML value, read and dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ignored;

impl<'de> Deserialize<'de> for Ignored {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Ignored)
    }
}

/// A capacity requirement.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Concurrent HD (720p) calls the transcoding nodes must carry together.
    #[serde(default, deserialize_with = "crate::values::opt_strict")]
    pub hd_calls: Option<Sp<u64>>,
}

impl Spec {
    /// The Management Node's region, if it runs in OCI.
    pub fn management_region(&self) -> Option<&str> {
        self.management_node
            .as_ref()?
            .region
            .as_ref()
            .map(|r| r.value.as_str())
    }

    /// The declared region named `name`.
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name.value == name)
    }

    /// Every secret reference of the spec with its span (for redaction and checks).
    pub fn secrets(&self) -> Vec<&Sp<Secret>> {
        let mut out = Vec::new();
        if let Some(m) = &self.management_node {
            out.push(&m.admin_password);
        }
        out.extend(self.platform.licenses.iter());
        out.extend(
            self.platform
                .tls_certificates
                .iter()
                .map(|c| &c.private_key),
        );
        for vmr in &self.platform.vmrs {
            out.extend(vmr.pin.iter());
            out.extend(vmr.guest_pin.iter());
        }
        out.extend(
            self.conferencing_nodes
                .iter()
                .filter_map(|n| n.ssh_password.as_ref()),
        );
        out
    }
}
