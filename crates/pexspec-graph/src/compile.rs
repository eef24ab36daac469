//! Spec → resource graph: one node per resource the deployment guide has you create, with
//! its desired state and every dependency the guide implies.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use pexspec_diagnostics::{Code, Diagnostic, Span};
use pexspec_spec::{ConferencingNode, Deployment, IpAddress, Role, Shape, Sp, Spec};
use serde_json::{Map, Value, json};

use crate::graph::Desired;
use crate::hash::{FastMap, fast_map};
use crate::network::{
    canonical_cidr, canonical_ip, egress_rules, first_host, ingress_rules, netmask,
};
use crate::shapes::listed_by_default;
use crate::value::{Lookup, file_value, secret_reference, secret_value};
use crate::{Address, Graph, Kind, Node, Ref};

/// A JSON object from `"key": value` pairs, moving each value in with `Value::from` (the
/// `json!` macro serializes interpolated values, a deep copy per field).
macro_rules! obj {
    ({ $($key:literal : $value:expr),* $(,)? }) => {{
        let mut map = Map::with_capacity(obj!(@count $($key)*));
        $( map.insert($key.to_owned(), IntoValue::into_value($value)); )*
        Value::Object(map)
    }};
    (@count) => { 0 };
    (@count $head:literal $($tail:literal)*) => { 1 + obj!(@count $($tail)*) };
}

/// What `obj!` accepts as a value: owned values move in, borrowed ones are copied.
trait IntoValue {
    fn into_value(self) -> Value;
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl IntoValue for &String {
    fn into_value(self) -> Value {
        Value::String(self.clone())
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::String(self.to_owned())
    }
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl IntoValue for u16 {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}

impl IntoValue for Vec<Value> {
    fn into_value(self) -> Value {
        Value::Array(self)
    }
}

/// Compiles a checked spec into the resource graph.
///
/// The spec should have passed the checks (`pexspec-check`) first; on a spec that did not,
/// `compile` never panics: what makes a graph impossible (a node in an undeclared region, an
/// unknown location, two resources with one address, a cycle) comes back as diagnostics.
pub fn compile(spec: &Spec) -> Result<Graph, Vec<Diagnostic>> {
    let mut c = Compiler::new(spec);
    c.compartment_and_images();
    c.networks();
    c.peering();
    c.instances();
    c.pexip();
    c.configuration_lives_on_the_management_node();
    if !c.diagnostics.is_empty() {
        return Err(c.diagnostics);
    }
    let regions = spec.regions.iter().map(|r| r.name.value.clone()).collect();
    Graph::new(c.stack, regions, c.nodes)
}

struct RegionInfo {
    vcn_cidr: String,
    subnet_cidr: String,
    subnet: Option<IpNet>,
    span: Span,
}

struct Compiler<'a> {
    spec: &'a Spec,
    stack: String,
    nodes: Vec<Node>,
    index: FastMap<Address, usize>,
    diagnostics: Vec<Diagnostic>,
    regions: BTreeMap<String, RegionInfo>,
    /// Region → the address of the Conferencing Node image imported there.
    conferencing_images: BTreeMap<String, Address>,
}

fn addr(kind: Kind, key: &str) -> Address {
    Address::new(kind, key)
}

fn compartment_id() -> Value {
    Ref::id(Address::singleton(Kind::Compartment)).to_value()
}

fn id_of(address: Address) -> Value {
    Ref::id(address).to_value()
}

/// A DNS label: letters and digits, starting with a letter, at most 15 characters.
fn dns_label(text: &str) -> String {
    let mut label: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if !label.starts_with(|c: char| c.is_ascii_alphabetic()) {
        label.insert(0, 'p');
    }
    label.truncate(15);
    label
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn number(x: f64) -> Option<Value> {
    serde_json::Number::from_f64(x).map(Value::Number)
}

fn shape_value(shape: &Shape) -> (Value, Option<Value>) {
    let name = json!(shape.name.value.trim());
    let mut config = Map::new();
    if let Some(ocpus) = shape.ocpus.as_ref().and_then(|o| number(o.value)) {
        config.insert("ocpus".into(), ocpus);
    }
    if let Some(memory) = shape.memory_gb.as_ref().and_then(|m| number(m.value)) {
        config.insert("memory_in_gbs".into(), memory);
    }
    (name, (!config.is_empty()).then_some(Value::Object(config)))
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

/// What an instance needs to know about the node it runs.
struct InstanceSpec<'s> {
    name: &'s Sp<String>,
    region: &'s Sp<String>,
    shape: &'s Shape,
    hostname: &'s str,
    private_ip: Option<&'s Sp<IpAddress>>,
    public_ip: bool,
    image: ImageKind,
}

#[derive(Clone, Copy)]
enum ImageKind {
    Management,
    Conferencing,
}

impl<'a> Compiler<'a> {
    fn new(spec: &'a Spec) -> Self {
        let mut regions = BTreeMap::new();
        for r in spec.regions.iter() {
            let subnet = r.subnet_cidr.value.net();
            regions
                .entry(r.name.value.clone())
                .or_insert_with(|| RegionInfo {
                    vcn_cidr: canonical_cidr(&r.vcn_cidr.raw),
                    subnet_cidr: canonical_cidr(&r.subnet_cidr.raw),
                    subnet,
                    span: r.name.span,
                });
        }
        // Roughly the number of resources, so that the node list is not copied as it grows.
        let r = spec.regions.len();
        let aliases: usize = spec.platform.vmrs.iter().map(|v| v.aliases.len()).sum();
        let capacity = 16
            + r * (12 + 2 * r)
            + spec.conferencing_nodes.len() * 5
            + spec.platform.vmrs.len()
            + aliases
            + spec.platform.locations.len()
            + spec.platform.dns_servers.len()
            + spec.platform.ntp_servers.len();
        Self {
            spec,
            stack: spec.name.value.clone(),
            nodes: Vec::with_capacity(capacity),
            index: fast_map(capacity),
            diagnostics: Vec::new(),
            regions,
            conferencing_images: BTreeMap::new(),
        }
    }

    /// Every object of the platform's configuration lives on the Management Node: a new
    /// Management Node (its instance replaced: a new VM runs the installation wizard again)
    /// has none of them, so each is replaced with it and applied anew.
    fn configuration_lives_on_the_management_node(&mut self) {
        let Some(manager) = self
            .nodes
            .iter()
            .find(|n| n.kind() == Kind::ManagementBootstrap)
            .map(|n| n.address.clone())
        else {
            return;
        };
        for node in &mut self.nodes {
            let kind = node.kind();
            if !kind.is_oci() && kind != Kind::ManagementBootstrap && kind != Kind::NodeBootstrap {
                node.replaced_with.insert(manager.clone());
            }
        }
    }

    fn push(&mut self, node: Node) {
        if let Some(&i) = self.index.get(&node.address) {
            let first = &self.nodes[i];
            if first.desired == node.desired
                && first.depends_on == node.depends_on
                && first.region == node.region
            {
                return; // The same resource twice (e.g. a DNS server listed twice).
            }
            let code = match node.kind() {
                Kind::ConferenceAlias => Code::DuplicateAlias,
                k if k.is_oci() && node.address.key() == node.region.as_deref() => {
                    Code::DuplicateRegion
                }
                _ => Code::DuplicateName,
            };
            let mut d = Diagnostic::new(
                code,
                format!("the spec defines `{}` twice, differently", node.address),
            )
            .with_help("give each of them its own name");
            if let Some(span) = node.span {
                d = d.with_primary(span, "second definition");
            }
            if let Some(span) = first.span {
                d = d.with_secondary(span, "first definition");
            }
            self.diagnostics.push(d);
            return;
        }
        self.index.insert(node.address.clone(), self.nodes.len());
        self.nodes.push(node);
    }

    fn home_region(&self) -> String {
        self.spec.oci.home_region.value.trim().to_owned()
    }

    fn compartment_and_images(&mut self) {
        let spec = self.spec;
        let compartment = &spec.oci.compartment;
        let parent = compartment
            .parent
            .as_ref()
            .map_or("root", |p| p.value.trim());
        let mut node = Node::new(
            Address::singleton(Kind::Compartment),
            None,
            obj!({
                "name": &compartment.name.value,
                "description": format!("Pexip Infinity stack `{}`, managed by pexspec", self.stack),
                "parent": parent,
            }),
        );
        node.span = Some(compartment.name.span);
        self.push(node);

        let home = self.home_region();
        let bucket = &spec.images.bucket;
        let mut node = Node::new(
            Address::singleton(Kind::Bucket),
            Some(home.clone()),
            obj!({
                "name": &bucket.value,
                "compartment_id": compartment_id(),
                "public_access_type": "NoPublicAccess",
                "storage_tier": "Standard",
            }),
        );
        node.span = Some(bucket.span);
        self.push(node);

        let management_region = spec
            .management_node
            .as_ref()
            .filter(|m| m.shape.is_some())
            .and_then(|m| m.region.as_ref())
            .map(|r| r.value.clone());
        if let Some(region) = &management_region
            && self.regions.contains_key(region)
        {
            self.object("management", &spec.images.management);
            self.image("management", region, "management");
        }
        if spec.conferencing_nodes.is_empty() {
            return;
        }
        self.object("conferencing", &spec.images.conferencing);
        let mut with_nodes: Vec<String> = Vec::new();
        for r in spec.regions.iter() {
            if spec
                .conferencing_nodes
                .iter()
                .any(|n| n.region.value == r.name.value)
                && !with_nodes.contains(&r.name.value)
            {
                with_nodes.push(r.name.value.clone());
            }
        }
        let import_in: Vec<String> = if spec.images.replicate {
            with_nodes.into_iter().take(1).collect()
        } else {
            with_nodes
        };
        for region in import_in {
            let key = format!("conferencing:{region}");
            self.image(&key, &region, "conferencing");
            self.conferencing_images
                .insert(region.clone(), addr(Kind::Image, &key));
        }
    }

    fn object(&mut self, key: &str, path: &Sp<String>) {
        let home = self.home_region();
        let mut node = Node::new(
            addr(Kind::Object, key),
            Some(home),
            obj!({
                "bucket": &self.spec.images.bucket.value,
                "name": file_name(path.value.trim()),
                "source": file_value(path.value.trim()),
            }),
        )
        .after(Address::singleton(Kind::Bucket));
        node.span = Some(path.span);
        self.push(node);
    }

    fn image_display_name(&self, object: &str) -> String {
        let what = if object == "management" {
            "Management Node"
        } else {
            "Conferencing Node"
        };
        format!("{} Pexip generic {what}", self.stack)
    }

    fn image(&mut self, key: &str, region: &str, object: &str) {
        let object_address = addr(Kind::Object, object);
        let path = if object == "management" {
            &self.spec.images.management
        } else {
            &self.spec.images.conferencing
        };
        let mut node = Node::new(
            addr(Kind::Image, key),
            Some(region.to_owned()),
            obj!({
                "compartment_id": compartment_id(),
                "display_name": self.image_display_name(object),
                "launch_mode": "PARAVIRTUALIZED",
                "source": obj!({
                    "source_type": "objectStorageTuple",
                    "bucket_name": &self.spec.images.bucket.value,
                    "namespace_name": Ref::new(Address::singleton(Kind::Bucket), "namespace").to_value(),
                    "object_name": Ref::new(object_address, "name").to_value(),
                    "bucket_region": self.home_region(),
                    "source_image_type": "VMDK",
                    "operating_system": "Linux",
                }),
            }),
        );
        node.span = Some(path.span);
        self.push(node);
    }

    fn networks(&mut self) {
        let spec = self.spec;
        let ingress = Value::Array(ingress_rules(spec));
        let egress = Value::Array(egress_rules());
        let internet = matches!(
            spec.deployment.value,
            Deployment::Public | Deployment::Hybrid
        );
        let names: Vec<String> = spec.regions.iter().map(|r| r.name.value.clone()).collect();
        let multi = self.regions.len() > 1;
        for region in &names {
            let Some(info) = self.regions.get(region) else {
                continue;
            };
            let span = Some(info.span);
            let vcn_cidr = info.vcn_cidr.clone();
            let subnet_cidr = info.subnet_cidr.clone();
            let r = Some(region.clone());
            let vcn = addr(Kind::Vcn, region);
            let label = dns_label(&self.stack);
            let mut node = Node::new(
                vcn.clone(),
                r.clone(),
                obj!({
                    "compartment_id": compartment_id(),
                    "display_name": format!("{}-{region}", self.stack),
                    "cidr_block": vcn_cidr,
                    "dns_label": label,
                }),
            );
            node.span = span;
            self.push(node);

            let mut rules = Vec::new();
            if internet {
                let igw = addr(Kind::InternetGateway, region);
                let mut node = Node::new(
                    igw.clone(),
                    r.clone(),
                    obj!({
                        "compartment_id": compartment_id(),
                        "vcn_id": id_of(vcn.clone()),
                        "display_name": format!("{}-{region}-internet", self.stack),
                        "is_enabled": true,
                    }),
                );
                node.span = span;
                self.push(node);
                rules.push((
                    "0.0.0.0/0".to_owned(),
                    obj!({
                        "destination": "0.0.0.0/0",
                        "destination_type": "CIDR_BLOCK",
                        "network_entity_id": id_of(igw),
                        "description": "Internet",
                    }),
                ));
            }
            let mut route_after = Vec::new();
            if multi {
                let drg = addr(Kind::Drg, region);
                let mut node = Node::new(
                    drg.clone(),
                    r.clone(),
                    obj!({
                        "compartment_id": compartment_id(),
                        "display_name": format!("{}-{region}-peering", self.stack),
                    }),
                );
                node.span = span;
                self.push(node);
                let attachment = addr(Kind::DrgAttachment, region);
                let mut node = Node::new(
                    attachment.clone(),
                    r.clone(),
                    obj!({
                        "drg_id": id_of(drg.clone()),
                        "display_name": format!("{}-{region}-vcn-attachment", self.stack),
                        "network_details": obj!({"type": "VCN", "id": id_of(vcn.clone())}),
                    }),
                );
                node.span = span;
                self.push(node);
                // A route rule may target a DRG only once the DRG is attached to the VCN.
                route_after.push(attachment);
                for peer in names.iter().filter(|p| *p != region) {
                    let Some(peer_info) = self.regions.get(peer) else {
                        continue;
                    };
                    rules.push((
                        peer_info.vcn_cidr.clone(),
                        obj!({
                            "destination": &peer_info.vcn_cidr,
                            "destination_type": "CIDR_BLOCK",
                            "network_entity_id": id_of(drg.clone()),
                            "description": format!("{region} to {peer}"),
                        }),
                    ));
                }
            }
            rules.sort_by(|a, b| a.0.cmp(&b.0));
            rules.dedup_by(|a, b| a.0 == b.0);
            let route_table = addr(Kind::RouteTable, region);
            let mut node = Node::new(
                route_table.clone(),
                r.clone(),
                obj!({
                    "compartment_id": compartment_id(),
                    "vcn_id": id_of(vcn.clone()),
                    "display_name": format!("{}-{region}-routes", self.stack),
                    "route_rules": rules.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
                }),
            );
            node.depends_on.extend(route_after);
            node.span = span;
            self.push(node);

            let security_list = addr(Kind::SecurityList, region);
            let mut node = Node::new(
                security_list.clone(),
                r.clone(),
                obj!({
                    "compartment_id": compartment_id(),
                    "vcn_id": id_of(vcn.clone()),
                    "display_name": format!("{}-{region}-pexip", self.stack),
                    "ingress_security_rules": ingress.clone(),
                    "egress_security_rules": egress.clone(),
                }),
            );
            node.span = span;
            self.push(node);

            let any_public = self.region_has_public_ip(region);
            let mut node = Node::new(
                addr(Kind::Subnet, region),
                r.clone(),
                obj!({
                    "compartment_id": compartment_id(),
                    "vcn_id": id_of(vcn),
                    "display_name": format!("{}-{region}-nodes", self.stack),
                    "cidr_block": subnet_cidr,
                    "dns_label": "pexip",
                    "route_table_id": id_of(route_table),
                    "security_list_ids": vec![id_of(security_list)],
                    "prohibit_public_ip_on_vnic": !internet && !any_public,
                }),
            );
            node.span = span;
            self.push(node);
        }
    }

    fn region_has_public_ip(&self, region: &str) -> bool {
        let spec = self.spec;
        let node_public = spec
            .conferencing_nodes
            .iter()
            .any(|n| n.region.value == region && n.public_ip.as_ref().is_some_and(|p| p.value));
        let manager_public = spec.management_node.as_ref().is_some_and(|m| {
            m.region.as_ref().is_some_and(|r| r.value == region)
                && m.public_ip.as_ref().is_some_and(|p| p.value)
        });
        node_public || manager_public
    }

    /// A DRG per region (in `networks`), one RPC per region per peer, one peering per
    /// unordered pair: a full mesh.
    fn peering(&mut self) {
        let names: Vec<String> = self.regions.keys().cloned().collect();
        if names.len() < 2 {
            return;
        }
        for a in &names {
            let span = self.regions.get(a).map(|i| i.span);
            for b in names.iter().filter(|b| *b != a) {
                let mut node = Node::new(
                    Address::composite(Kind::Rpc, &[a, b]),
                    Some(a.clone()),
                    obj!({
                        "compartment_id": compartment_id(),
                        "drg_id": id_of(addr(Kind::Drg, a)),
                        "display_name": format!("{}-{a}-to-{b}", self.stack),
                    }),
                );
                node.span = span;
                self.push(node);
            }
        }
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let (a, b) = pair(a, b);
                let mut node = Node::new(
                    Address::composite(Kind::RpcPeering, &[&a, &b]),
                    None,
                    obj!({
                        "requestor_region": &a,
                        "requestor_id": id_of(Address::composite(Kind::Rpc, &[&a, &b])),
                        "acceptor_id": id_of(Address::composite(Kind::Rpc, &[&b, &a])),
                        "peer_region_name": &b,
                        "peering_status": "PEERED",
                    }),
                );
                node.span = self.regions.get(&a).map(|i| i.span);
                self.push(node);
            }
        }
    }

    fn region_declared(&mut self, region: &Sp<String>, whose: &str) -> bool {
        if self.regions.contains_key(&region.value) {
            return true;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::RegionNotDeclared,
                format!(
                    "`{whose}` is in region `{}`, which `regions` does not list",
                    region.value
                ),
            )
            .with_primary(region.span, "not in `regions`")
            .with_help("add the region to `regions` or move the node to a declared region"),
        );
        false
    }

    fn instances(&mut self) {
        let spec = self.spec;
        if let Some(m) = &spec.management_node
            && let (Some(region), Some(shape)) = (&m.region, &m.shape)
            && self.region_declared(region, &m.name.value)
        {
            self.instance(&InstanceSpec {
                name: &m.name,
                region,
                shape,
                hostname: m.hostname.value.trim(),
                private_ip: m.private_ip.as_ref(),
                public_ip: m.public_ip.as_ref().is_some_and(|p| p.value),
                image: ImageKind::Management,
            });
        }
        for n in &spec.conferencing_nodes {
            if !self.region_declared(&n.region, &n.name.value) {
                continue;
            }
            self.instance(&InstanceSpec {
                name: &n.name,
                region: &n.region,
                shape: &n.shape,
                hostname: n.hostname.value.trim(),
                private_ip: n.private_ip.as_ref(),
                public_ip: n.public_ip.as_ref().is_some_and(|p| p.value),
                image: ImageKind::Conferencing,
            });
        }
    }

    fn instance(&mut self, s: &InstanceSpec<'_>) {
        let name = s.name.value.trim();
        let region = s.region.value.as_str();
        let r = Some(region.to_owned());
        let (image_address, image_ref) = match s.image {
            ImageKind::Management => {
                let a = addr(Kind::Image, "management");
                (Some(a.clone()), id_of(a))
            }
            ImageKind::Conferencing => match self.conferencing_images.get(region) {
                Some(a) => (Some(a.clone()), id_of(a.clone())),
                None => (
                    None,
                    Lookup {
                        kind: Kind::Image,
                        region: region.to_owned(),
                        display_name: self.image_display_name("conferencing"),
                    }
                    .to_value(),
                ),
            },
        };
        let (shape, config) = shape_value(s.shape);
        let shape_name = s.shape.name.value.trim();
        let mut vnic = Map::with_capacity(4);
        vnic.insert("subnet_id".into(), id_of(addr(Kind::Subnet, region)));
        vnic.insert("assign_public_ip".into(), json!(false));
        vnic.insert("hostname_label".into(), json!(s.hostname));
        if let Some(ip) = s.private_ip {
            vnic.insert("private_ip".into(), json!(canonical_ip(&ip.raw)));
        }
        let mut desired = Map::with_capacity(8);
        desired.insert("compartment_id".into(), compartment_id());
        desired.insert("display_name".into(), json!(name));
        desired.insert("availability_domain".into(), json!("AD-1"));
        desired.insert("shape".into(), shape);
        if let Some(config) = config {
            desired.insert("shape_config".into(), config);
        }
        desired.insert(
            "source_details".into(),
            obj!({"source_type": "image", "image_id": image_ref}),
        );
        desired.insert("create_vnic_details".into(), Value::Object(vnic));
        desired.insert(
            "metadata".into(),
            obj!({"ssh_authorized_keys": file_value(self.spec.ssh_public_key.value.trim())}),
        );
        let instance = addr(Kind::Instance, name);
        let mut node = Node::new(instance.clone(), r.clone(), Value::Object(desired));
        node.span = Some(s.name.span);
        if let Some(image) = image_address
            && !listed_by_default(shape_name)
        {
            let key = format!("{}:{shape_name}", image.key().unwrap_or_default());
            let image_shape = addr(Kind::ImageShape, &key);
            let image_region = self
                .index
                .get(&image)
                .and_then(|&i| self.nodes[i].region.clone());
            let mut entry = Node::new(
                image_shape.clone(),
                image_region,
                obj!({"image_id": id_of(image), "shape": shape_name}),
            );
            entry.span = Some(s.shape.name.span);
            self.push(entry);
            node = node.after(image_shape);
        }
        self.push(node);
        if s.public_ip {
            let mut node = Node::new(
                addr(Kind::PublicIp, name),
                r,
                obj!({
                    "compartment_id": compartment_id(),
                    "display_name": name,
                    "lifetime": "RESERVED",
                    "private_ip_id": Ref::new(instance, "private_ip_id").to_value(),
                }),
            );
            node.span = Some(s.name.span);
            self.push(node);
        }
    }

    /// The node's private IP: as written, or the one OCI assigns to its instance.
    fn private_ip(name: &str, ip: Option<&Sp<IpAddress>>) -> Value {
        match ip {
            Some(ip) => json!(canonical_ip(&ip.raw)),
            None => Ref::new(addr(Kind::Instance, name), "private_ip").to_value(),
        }
    }

    fn subnet_fields(&self, region: &str, into: &mut Map<String, Value>) {
        if let Some(net) = self.regions.get(region).and_then(|i| i.subnet) {
            if let Some(mask) = netmask(&net) {
                into.insert("netmask".into(), json!(mask));
            }
            if let Some(gateway) = first_host(&net) {
                into.insert("gateway".into(), json!(gateway));
            }
        }
    }

    fn pexip(&mut self) {
        let spec = self.spec;
        let Some(m) = &spec.management_node else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::ManagementNodeMissing,
                    "the spec has no Management Node",
                )
                .with_primary(spec.name.span, "in this stack")
                .with_help("add a `management_node`; every Conferencing Node is managed by it"),
            );
            return;
        };
        let manager = addr(Kind::ManagementBootstrap, m.name.value.trim());
        let dns: Vec<String> = spec
            .platform
            .dns_servers
            .iter()
            .map(|d| canonical_ip(&d.raw))
            .collect();
        let ntp: Vec<String> = spec
            .platform
            .ntp_servers
            .iter()
            .map(|n| n.value.trim().to_owned())
            .collect();

        // The Management Node's bootstrap: the installation wizard's answers.
        let mut desired = Map::new();
        desired.insert("hostname".into(), json!(m.hostname.value.trim()));
        desired.insert("domain".into(), json!(m.domain.value.trim()));
        let mut node_deps = Vec::new();
        let mut replaced_with = BTreeSet::new();
        let in_oci = m
            .region
            .as_ref()
            .filter(|r| self.regions.contains_key(&r.value) && m.shape.is_some());
        match in_oci {
            Some(region) => {
                let name = m.name.value.trim();
                desired.insert(
                    "address".into(),
                    Self::private_ip(name, m.private_ip.as_ref()),
                );
                self.subnet_fields(&region.value, &mut desired);
                let instance = addr(Kind::Instance, name);
                node_deps.push(instance.clone());
                replaced_with.insert(instance);
                if m.public_ip.as_ref().is_some_and(|p| p.value) {
                    node_deps.push(addr(Kind::PublicIp, name));
                }
            }
            None => {
                if let Some(ip) = &m.on_premises_address {
                    desired.insert("address".into(), json!(canonical_ip(&ip.raw)));
                }
            }
        }
        desired.insert("dns_servers".into(), json!(dns));
        desired.insert("ntp_servers".into(), json!(ntp));
        desired.insert(
            "admin_password".into(),
            secret_value(&m.admin_password.value),
        );
        let mut node = Node::new(manager.clone(), None, Value::Object(desired));
        node.depends_on.extend(node_deps);
        node.replaced_with = replaced_with;
        node.span = Some(m.name.span);
        self.push(node);

        let mut dns_refs = Vec::new();
        for (d, raw) in spec.platform.dns_servers.iter().zip(&dns) {
            let a = addr(Kind::DnsServer, raw);
            let mut node =
                Node::new(a.clone(), None, obj!({"address": raw})).after(manager.clone());
            node.span = Some(d.span);
            self.push(node);
            if !dns_refs.contains(&a) {
                dns_refs.push(a);
            }
        }
        let mut ntp_refs = Vec::new();
        for (n, raw) in spec.platform.ntp_servers.iter().zip(&ntp) {
            let a = addr(Kind::NtpServer, raw);
            let mut node =
                Node::new(a.clone(), None, obj!({"address": raw})).after(manager.clone());
            node.span = Some(n.span);
            self.push(node);
            if !ntp_refs.contains(&a) {
                ntp_refs.push(a);
            }
        }
        for (i, licence) in spec.platform.licenses.iter().enumerate() {
            let mut node = Node::new(
                addr(Kind::Licence, &i.to_string()),
                None,
                obj!({"entitlement_id": secret_value(&licence.value), "offline_mode": false}),
            )
            .after(manager.clone());
            node.span = Some(licence.span);
            self.push(node);
        }
        let mut locations = BTreeSet::new();
        for location in &spec.platform.locations {
            let name = location.name.value.trim();
            locations.insert(name.to_owned());
            let mut desired = Map::new();
            desired.insert("name".into(), json!(name));
            desired.insert(
                "description".into(),
                location
                    .description
                    .as_ref()
                    .map_or(Value::Null, |d| json!(d)),
            );
            desired.insert(
                "dns_servers".into(),
                Value::Array(dns_refs.iter().cloned().map(id_of).collect()),
            );
            desired.insert(
                "ntp_servers".into(),
                Value::Array(ntp_refs.iter().cloned().map(id_of).collect()),
            );
            let mut node = Node::new(
                addr(Kind::SystemLocation, name),
                None,
                Value::Object(desired),
            )
            .after(manager.clone());
            node.span = Some(location.name.span);
            self.push(node);
        }
        let mut certificates = BTreeSet::new();
        for cert in &spec.platform.tls_certificates {
            let name = cert.name.value.trim();
            certificates.insert(name.to_owned());
            let mut node = Node::new(
                addr(Kind::TlsCertificate, name),
                None,
                obj!({
                    "certificate": file_value(cert.certificate.value.trim()),
                    "private_key": secret_value(&cert.private_key.value),
                }),
            )
            .after(manager.clone());
            node.span = Some(cert.name.span);
            self.push(node);
        }
        for vmr in &spec.platform.vmrs {
            let name = vmr.name.value.trim();
            let conference = addr(Kind::Conference, name);
            let desired = Desired::Conference {
                name: name.to_owned(),
                description: vmr.description.clone(),
                pin: vmr.pin.as_ref().map(|p| secret_reference(&p.value)),
                guest_pin: vmr.guest_pin.as_ref().map(|p| secret_reference(&p.value)),
            };
            let mut node =
                Node::with_desired(conference.clone(), None, desired).after(manager.clone());
            node.span = Some(vmr.name.span);
            self.push(node);
            for alias in &vmr.aliases {
                let text = alias.value.trim();
                let desired = Desired::Alias {
                    alias: text.to_owned(),
                    conference: conference.clone(),
                };
                let mut node = Node::with_desired(addr(Kind::ConferenceAlias, text), None, desired)
                    .after(manager.clone())
                    .after(conference.clone());
                node.span = Some(alias.span);
                self.push(node);
            }
        }
        let manager_region = in_oci.map(|r| r.value.clone());
        for n in &spec.conferencing_nodes {
            if !self.regions.contains_key(&n.region.value) {
                continue; // Reported by `instances`.
            }
            self.worker(
                n,
                &manager,
                manager_region.as_deref(),
                &locations,
                &certificates,
            );
        }
    }

    fn worker(
        &mut self,
        n: &ConferencingNode,
        manager: &Address,
        manager_region: Option<&str>,
        locations: &BTreeSet<String>,
        certificates: &BTreeSet<String>,
    ) {
        let name = n.name.value.trim();
        let region = n.region.value.as_str();
        let location = n.location.value.trim();
        if !locations.contains(location) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::UnknownLocation,
                    format!("`{name}` is in location `{location}`, which `platform.locations` does not list"),
                )
                .with_primary(n.location.span, "unknown location")
                .with_help("add the location to `platform.locations`"),
            );
            return;
        }
        let certificate = n.tls_certificate.as_ref().map(|c| c.value.trim());
        if let (Some(c), Some(sp)) = (certificate, &n.tls_certificate)
            && !certificates.contains(c)
        {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::UnknownTlsCertificate,
                    format!("`{name}` uses TLS certificate `{c}`, which `platform.tls_certificates` does not list"),
                )
                .with_primary(sp.span, "unknown certificate")
                .with_help("add the certificate to `platform.tls_certificates`"),
            );
            return;
        }
        let public = n.public_ip.as_ref().is_some_and(|p| p.value);
        let instance = addr(Kind::Instance, name);
        let public_ip = addr(Kind::PublicIp, name);
        let address = Self::private_ip(name, n.private_ip.as_ref());
        let mut desired = Map::with_capacity(18);
        desired.insert("name".into(), json!(name));
        desired.insert("hostname".into(), json!(n.hostname.value.trim()));
        desired.insert("domain".into(), json!(n.domain.value.trim()));
        desired.insert("address".into(), address.clone());
        self.subnet_fields(region, &mut desired);
        desired.insert(
            "node_type".into(),
            json!(match n.role.value {
                Role::Transcoding => "CONFERENCING",
                Role::Proxying => "PROXYING",
            }),
        );
        desired.insert(
            "system_location".into(),
            id_of(addr(Kind::SystemLocation, location)),
        );
        desired.insert("deployment_type".into(), json!("MANUAL-PROVISION-ONLY"));
        // A node in service is not in maintenance mode: maintenance set behind pexspec's back
        // shows in the plan, and apply clears it (`pexspec node stop` is the way to keep a
        // node out of service).
        desired.insert("maintenance_mode".into(), json!(false));
        // Optional fields are explicit `null` when the spec leaves them out, so that
        // removing one from the spec unsets it.
        desired.insert(
            "static_nat_address".into(),
            if public {
                Ref::new(public_ip.clone(), "ip_address").to_value()
            } else {
                Value::Null
            },
        );
        desired.insert(
            "alternative_fqdn".into(),
            n.sip_tls_fqdn
                .as_ref()
                .map_or(Value::Null, |f| json!(f.value.trim())),
        );
        desired.insert(
            "tls_certificate".into(),
            certificate.map_or(Value::Null, |c| id_of(addr(Kind::TlsCertificate, c))),
        );
        desired.insert(
            "ipv6_address".into(),
            n.ipv6_address
                .as_ref()
                .map_or(Value::Null, |ip| json!(canonical_ip(&ip.raw))),
        );
        desired.insert(
            "ipv6_gateway".into(),
            n.ipv6_gateway
                .as_ref()
                .map_or(Value::Null, |ip| json!(canonical_ip(&ip.raw))),
        );
        if let Some(password) = &n.ssh_password {
            desired.insert("password".into(), secret_value(&password.value));
        }
        desired.insert("enable_distributed_database".into(), json!(true));
        let worker = addr(Kind::WorkerVm, name);
        let mut node = Node::new(worker.clone(), None, Value::Object(desired))
            .after(manager.clone())
            .after(instance.clone());
        if public {
            node = node.after(public_ip.clone());
        }
        node.replaced_with.insert(instance.clone());
        node.span = Some(n.name.span);
        self.push(node);

        // The configuration file goes to the node's public address if it has one (the guide:
        // "In public deployments ... you need to use the public address of the node"), else
        // to its private address over the VPN.
        let upload = if public {
            Ref::new(public_ip, "ip_address").to_value()
        } else {
            address
        };
        let mut node = Node::new(
            addr(Kind::NodeBootstrap, name),
            None,
            obj!({"worker_vm_id": id_of(worker.clone()), "upload_address": upload, "port": 8443_u16}),
        )
        .after(instance)
        .after(addr(Kind::RouteTable, region));
        // The node must reach the Management Node once it reboots: across regions, over the
        // peering and the routes of both sides.
        if let Some(m) = manager_region
            && m != region
        {
            let (a, b) = pair(m, region);
            node = node
                .after(Address::composite(Kind::RpcPeering, &[&a, &b]))
                .after(addr(Kind::RouteTable, m));
        }
        node.replaced_with.insert(worker);
        node.span = Some(n.name.span);
        self.push(node);
    }
}
