//! Spec generators for tests and benchmarks: a valid spec of any size, as YAML text, so
//! that it goes through the same loader as a user's file.

use std::fmt::Write as _;

/// OCI region identifiers used for the first regions of a generated spec; later ones get
/// made-up names (`xx-sim40-1`).
pub const REGION_NAMES: &[&str] = &[
    "eu-frankfurt-1",
    "eu-zurich-1",
    "uk-london-1",
    "eu-amsterdam-1",
    "us-ashburn-1",
    "us-phoenix-1",
    "ap-tokyo-1",
    "ap-sydney-1",
    "ca-toronto-1",
    "sa-saopaulo-1",
    "eu-paris-1",
    "eu-madrid-1",
    "eu-milan-1",
    "eu-stockholm-1",
    "me-dubai-1",
    "ap-mumbai-1",
    "ap-singapore-1",
    "ap-seoul-1",
    "ap-osaka-1",
    "ap-melbourne-1",
    "ca-montreal-1",
    "us-sanjose-1",
    "us-chicago-1",
    "eu-marseille-1",
    "il-jerusalem-1",
    "af-johannesburg-1",
    "me-jeddah-1",
    "sa-santiago-1",
    "sa-vinhedo-1",
    "mx-queretaro-1",
    "ap-hyderabad-1",
    "ap-chuncheon-1",
    "uk-cardiff-1",
    "eu-jovanovac-1",
    "mx-monterrey-1",
    "sa-bogota-1",
];

/// One extra ingress rule of a generated spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraRule {
    /// Source CIDR.
    pub source: String,
    /// `tcp`, `udp`, `icmp`, `esp` or `all`.
    pub protocol: String,
    /// `"443"` or `"40000-49999"`, for TCP and UDP.
    pub ports: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// The shape of a generated spec.
#[derive(Clone, Debug)]
pub struct SpecParams {
    /// Stack name.
    pub name: String,
    /// `public`, `private` or `hybrid`.
    pub deployment: String,
    /// Number of regions (at most 250).
    pub regions: usize,
    /// Number of Conferencing Nodes, spread over the regions in turn.
    pub nodes: usize,
    /// Number of virtual meeting rooms, one alias each.
    pub rooms: usize,
    /// `images.replicate`.
    pub replicate: bool,
    /// `network.internal_cidrs`, if set.
    pub internal_cidrs: Option<Vec<String>>,
    /// `network.on_premises`.
    pub on_premises: Vec<String>,
    /// `network.extra_ingress`.
    pub extra_ingress: Vec<ExtraRule>,
    /// Shape names the nodes use in turn.
    pub shapes: Vec<String>,
}

impl Default for SpecParams {
    fn default() -> Self {
        Self {
            name: "gen".to_owned(),
            deployment: "public".to_owned(),
            regions: 1,
            nodes: 1,
            rooms: 1,
            replicate: false,
            internal_cidrs: None,
            on_premises: Vec::new(),
            extra_ingress: Vec::new(),
            shapes: vec![
                "VM.Optimized3.Flex".to_owned(),
                "VM.Standard3.Flex".to_owned(),
            ],
        }
    }
}

impl SpecParams {
    /// The benchmark's spec: 50 regions, 2,000 Conferencing Nodes, 10,000 meeting rooms.
    pub fn large() -> Self {
        Self {
            name: "large".to_owned(),
            regions: 50,
            nodes: 2_000,
            rooms: 10_000,
            ..Self::default()
        }
    }
}

/// The name of region `i` of a generated spec.
pub fn region_name(i: usize) -> String {
    REGION_NAMES
        .get(i)
        .map_or_else(|| format!("xx-sim{i}-1"), |r| (*r).to_owned())
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A spec with the given shape, as YAML. Region `i` has VCN `10.i.0.0/16` and subnet
/// `10.i.0.0/20`; the Management Node is in region 0 (on premises in a hybrid deployment).
pub fn spec_yaml(p: &SpecParams) -> String {
    let regions = p.regions.clamp(1, 250);
    let public = p.deployment != "private";
    let mut out = String::with_capacity(256 * (p.nodes + p.rooms / 2 + 16));
    let _ = write!(
        out,
        "version: 1\nname: {}\ndeployment: {}\noci:\n  home_region: {}\n  compartment: {{ name: Gen, parent: root }}\n\
         ssh_public_key: keys/pexip.pub\nmanagement_station: 192.0.2.0/24\n\
         images:\n  bucket: Pexip-images\n  management: images/Pexip_Infinity_v30_generic_pxMgr_59565.ova\n  \
         conferencing: images/Pexip_Infinity_v30_generic_ConfNode_59565.ova\n  replicate: {}\n",
        p.name,
        p.deployment,
        region_name(0),
        p.replicate
    );
    out.push_str("network:\n");
    if let Some(cidrs) = &p.internal_cidrs {
        let _ = writeln!(out, "  internal_cidrs: {}", list(cidrs));
    }
    let _ = writeln!(out, "  on_premises: {}", list(&p.on_premises));
    out.push_str("  extra_ingress:\n");
    if p.extra_ingress.is_empty() {
        out.truncate(out.len() - 1);
        out.push_str(" []\n");
    }
    for r in &p.extra_ingress {
        let _ = write!(
            out,
            "    - {{ source: \"{}\", protocol: {}",
            r.source, r.protocol
        );
        if let Some(ports) = &r.ports {
            let _ = write!(out, ", ports: \"{ports}\"");
        }
        if let Some(d) = &r.description {
            let _ = write!(out, ", description: \"{d}\"");
        }
        out.push_str(" }\n");
    }
    out.push_str("regions:\n");
    for i in 0..regions {
        let _ = writeln!(
            out,
            "  - {{ name: {}, vcn_cidr: 10.{i}.0.0/16, subnet_cidr: 10.{i}.0.0/20 }}",
            region_name(i)
        );
    }
    if p.deployment == "hybrid" {
        out.push_str(
            "management_node:\n  name: pexmgr\n  hostname: pexmgr\n  domain: example.com\n  \
             on_premises_address: 172.16.0.10\n  admin_password: { env: PEXIP_ADMIN_PASSWORD }\n",
        );
    } else {
        let _ = write!(
            out,
            "management_node:\n  name: pexmgr\n  region: {}\n  shape: {{ name: VM.Standard3.Flex, ocpus: 2, memory_gb: 16 }}\n  \
             hostname: pexmgr\n  domain: example.com\n  private_ip: 10.0.0.5\n  admin_password: {{ env: PEXIP_ADMIN_PASSWORD }}\n",
            region_name(0)
        );
    }
    out.push_str("platform:\n  dns_servers: [169.254.169.254]\n  ntp_servers: [169.254.169.254, 0.pool.ntp.org, 1.pool.ntp.org]\n");
    out.push_str("  licenses: [{ env: PEXIP_LICENSE_KEY }]\n  locations:\n");
    for i in 0..regions {
        let _ = writeln!(
            out,
            "    - {{ name: Location {i} }}\n    - {{ name: Edge {i} }}"
        );
    }
    out.push_str("  tls_certificates:\n    - { name: conferencing, certificate: certs/conferencing.pem, private_key: { file: certs/conferencing.key } }\n");
    out.push_str("  vmrs:\n");
    if p.rooms == 0 {
        out.truncate(out.len() - 1);
        out.push_str(" []\n");
    }
    for k in 0..p.rooms {
        let _ = writeln!(
            out,
            "    - {{ name: Room {k:05}, pin: {{ env: ROOM_PIN }}, aliases: [room{k:05}@example.com] }}"
        );
    }
    out.push_str("conferencing_nodes:\n");
    if p.nodes == 0 {
        out.truncate(out.len() - 1);
        out.push_str(" []\n");
    }
    let shapes = if p.shapes.is_empty() {
        vec!["VM.Standard3.Flex".to_owned()]
    } else {
        p.shapes.clone()
    };
    for k in 0..p.nodes {
        let i = k % regions;
        let n = k / regions + 10;
        let proxying = k % 5 == 4;
        let shape = &shapes[k % shapes.len()];
        let memory = if shape == "VM.Optimized3.Flex" { 8 } else { 16 };
        let _ = write!(
            out,
            "  - {{ name: node{k:04}, region: {}, role: {}, location: {} {i}, \
             shape: {{ name: {shape}, ocpus: 4, memory_gb: {memory} }}, hostname: node{k:04}, domain: example.com, \
             private_ip: 10.{i}.{}.{}",
            region_name(i),
            if proxying { "proxying" } else { "transcoding" },
            if proxying { "Edge" } else { "Location" },
            n / 256,
            n % 256,
        );
        if public {
            let _ = write!(
                out,
                ", public_ip: true, sip_tls_fqdn: node{k:04}.example.com, tls_certificate: conferencing"
            );
        }
        out.push_str(", ssh_password: { env: PEXCONF_SSH_PASSWORD } }\n");
    }
    out
}
