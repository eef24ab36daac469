//! The two directions between OCI's wire types and the graph's desired state: observed fields
//! in exactly the desired state's shape (snake_case names, canonical CIDRs and addresses,
//! flex shape numbers, rules as sets), and request bodies read from a resolved desired state.

use pexspec_graph::Address;
use pexspec_graph::network::{canonical_cidr, canonical_ip};
use pexspec_plan::{Observed, ProviderError};
use serde_json::{Map, Value, json};

use super::error::malformed;
use super::{TAG_IMAGE_SOURCE, TAG_REQUESTED_AD, TAG_VNIC};
use crate::models::*;

/// An observed resource.
pub(crate) fn observed(
    address: &Address,
    id: impl Into<String>,
    region: Option<&str>,
    fields: Value,
    etag: Option<&str>,
    state: Option<String>,
) -> Observed {
    Observed {
        kind: address.kind(),
        address: address.clone(),
        id: id.into(),
        region: region.map(str::to_owned),
        fields,
        etag: etag.map(str::to_owned),
        state,
    }
}

/// The lifecycle state as text.
pub(crate) fn state_of<T: OciResource>(r: &T) -> Option<String> {
    r.lifecycle_state().map(|s| s.as_str().to_owned())
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

fn cidr(v: &str) -> String {
    canonical_cidr(v)
}

// ---------------------------------------------------------------------------------------------
// Identity and Object Storage

/// `compartment`: `parent` is spelled as the spec spells it (`root` or an OCID) when it is
/// the spec's parent.
pub(crate) fn compartment(
    c: &Compartment,
    spec_parent: &str,
    spec_parent_id: &str,
    tenancy: &str,
) -> Value {
    let parent = if c.compartment_id == spec_parent_id {
        spec_parent.to_owned()
    } else if c.compartment_id == tenancy {
        "root".to_owned()
    } else {
        c.compartment_id.clone()
    };
    json!({"name": c.name, "description": c.description, "parent": parent})
}

/// `bucket` (from GetBucket: access type and tier are not in list summaries).
pub(crate) fn bucket(b: &Bucket, namespace: &str) -> Value {
    json!({
        "name": b.name,
        "compartment_id": b.compartment_id,
        "public_access_type": opt(b.public_access_type.clone()),
        "storage_tier": opt(b.storage_tier.clone()),
        "namespace": namespace,
    })
}

/// The provider's id of a bucket: namespace and name (what a delete needs).
pub(crate) fn bucket_id(namespace: &str, name: &str) -> String {
    format!("n/{namespace}/b/{name}")
}

/// The provider's id of an object.
pub(crate) fn object_id(namespace: &str, bucket: &str, name: &str) -> String {
    format!("n/{namespace}/b/{bucket}/o/{name}")
}

/// Splits an object id into namespace, bucket and object name.
pub(crate) fn parse_object_id(id: &str) -> Option<(&str, &str, &str)> {
    let rest = id.strip_prefix("n/")?;
    let (ns, rest) = rest.split_once("/b/")?;
    let (bucket, name) = rest.split_once("/o/")?;
    Some((ns, bucket, name))
}

/// Splits a bucket id into namespace and name.
pub(crate) fn parse_bucket_id(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("n/")?;
    rest.split_once("/b/")
}

/// `object`: the `source` file is write-only (never reported); size and MD5 are extra.
pub(crate) fn object(
    namespace: &str,
    bucket: &str,
    name: &str,
    size: Option<u64>,
    md5: Option<&str>,
) -> Value {
    json!({
        "bucket": bucket,
        "name": name,
        "bucket_id": bucket_id(namespace, bucket),
        "size": opt(size),
        "md5": opt(md5.map(str::to_owned)),
    })
}

// ---------------------------------------------------------------------------------------------
// Images

/// The `pexspec-image-source` tag of a resolved `source`.
pub(crate) fn image_source_tag(source: &Value) -> Option<String> {
    let field = |k: &str| source.get(k).and_then(Value::as_str);
    let parts = [
        field("source_type")?,
        field("source_image_type").unwrap_or(""),
        field("operating_system").unwrap_or(""),
        field("bucket_region").unwrap_or(""),
        field("namespace_name")?,
        field("bucket_name")?,
        field("object_name")?,
    ];
    if parts.iter().any(|p| p.contains('|')) {
        return None;
    }
    Some(parts.join("|"))
}

fn image_source(tag: &str) -> Option<Value> {
    let p: Vec<&str> = tag.split('|').collect();
    let [source_type, format, os, region, ns, bucket, object] = p.as_slice() else {
        return None;
    };
    Some(json!({
        "source_type": source_type,
        "source_image_type": format,
        "operating_system": os,
        "bucket_region": region,
        "namespace_name": ns,
        "bucket_name": bucket,
        "object_name": object,
    }))
}

/// `image`: the source comes from the `pexspec-image-source` tag (OCI does not return it).
pub(crate) fn image(i: &Image) -> Value {
    let mut m = Map::new();
    m.insert("compartment_id".into(), opt(i.compartment_id.clone()));
    m.insert("display_name".into(), opt(i.display_name.clone()));
    m.insert(
        "launch_mode".into(),
        opt(i.launch_mode.as_ref().map(|l| l.as_str().to_owned())),
    );
    m.insert("operating_system".into(), opt(i.operating_system.clone()));
    if let Some(source) = i.tag(TAG_IMAGE_SOURCE).and_then(image_source) {
        m.insert("source".into(), source);
    }
    Value::Object(m)
}

/// The provider's id of an image shape entry.
pub(crate) fn image_shape_id(image_id: &str, shape: &str) -> String {
    format!("{image_id}/shapes/{shape}")
}

/// Splits an image shape id into image and shape.
pub(crate) fn parse_image_shape_id(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once("/shapes/")
}

/// `image_shape`.
pub(crate) fn image_shape(image_id: &str, shape: &str) -> Value {
    json!({"image_id": image_id, "shape": shape})
}

// ---------------------------------------------------------------------------------------------
// Networking

/// `vcn`.
pub(crate) fn vcn(v: &Vcn) -> Value {
    let block = v
        .cidr_block
        .clone()
        .or_else(|| v.cidr_blocks.first().cloned());
    json!({
        "compartment_id": v.compartment_id,
        "display_name": opt(v.display_name.clone()),
        "cidr_block": opt(block.as_deref().map(cidr)),
        "dns_label": opt(v.dns_label.clone()),
        "default_route_table_id": opt(v.default_route_table_id.clone()),
        "default_security_list_id": opt(v.default_security_list_id.clone()),
    })
}

/// `internet_gateway`.
pub(crate) fn internet_gateway(g: &InternetGateway) -> Value {
    json!({
        "compartment_id": g.compartment_id,
        "vcn_id": g.vcn_id,
        "display_name": opt(g.display_name.clone()),
        "is_enabled": g.is_enabled.unwrap_or(true),
    })
}

/// `drg`.
pub(crate) fn drg(d: &Drg) -> Value {
    json!({"compartment_id": d.compartment_id, "display_name": opt(d.display_name.clone())})
}

/// `drg_attachment`.
pub(crate) fn drg_attachment(a: &DrgAttachment) -> Value {
    let vcn = a.attached_vcn().map(str::to_owned);
    json!({
        "compartment_id": a.compartment_id,
        "drg_id": a.drg_id,
        "display_name": opt(a.display_name.clone()),
        "network_details": {"type": "VCN", "id": opt(vcn.clone())},
        "vcn_id": opt(vcn),
    })
}

/// `rpc`.
pub(crate) fn rpc(r: &RemotePeeringConnection) -> Value {
    json!({
        "compartment_id": r.compartment_id,
        "drg_id": r.drg_id,
        "display_name": opt(r.display_name.clone()),
        "peer_id": opt(r.peer_id.clone()),
        "peer_region_name": opt(r.peer_region_name.clone()),
        "peering_status": r.peering_status.as_str(),
    })
}

/// The provider's id of a peering: both RPC OCIDs.
pub(crate) fn peering_id(requestor: &str, acceptor: &str) -> String {
    format!("{requestor}+{acceptor}")
}

/// `rpc_peering`, from the requesting side's RPC.
pub(crate) fn rpc_peering(requestor_region: &str, r: &RemotePeeringConnection) -> Value {
    json!({
        "requestor_region": requestor_region,
        "requestor_id": r.id,
        "acceptor_id": opt(r.peer_id.clone()),
        "peer_region_name": opt(r.peer_region_name.clone()),
        "peering_status": r.peering_status.as_str(),
    })
}

/// One route rule in the desired state's shape.
fn route_rule(r: &RouteRule) -> Value {
    let kind = r
        .destination_type
        .clone()
        .unwrap_or_else(|| "CIDR_BLOCK".into());
    let destination = r.destination.as_deref().map(|d| {
        if kind == "CIDR_BLOCK" {
            cidr(d)
        } else {
            d.to_owned()
        }
    });
    let mut m = Map::new();
    m.insert("destination".into(), opt(destination));
    m.insert("destination_type".into(), json!(kind));
    m.insert("network_entity_id".into(), json!(r.network_entity_id));
    if let Some(d) = &r.description {
        m.insert("description".into(), json!(d));
    }
    Value::Object(m)
}

/// `route_table`: rules in canonical form (the plan compares them as a set).
pub(crate) fn route_table(t: &RouteTable) -> Value {
    json!({
        "compartment_id": t.compartment_id,
        "vcn_id": t.vcn_id,
        "display_name": opt(t.display_name.clone()),
        "route_rules": t.route_rules.iter().map(route_rule).collect::<Vec<_>>(),
    })
}

fn range(r: &PortRange) -> Value {
    json!({"min": r.min, "max": r.max})
}

fn port_options(o: &PortOptions) -> Value {
    let mut m = Map::new();
    if let Some(d) = &o.destination_port_range {
        m.insert("destination_port_range".into(), range(d));
    }
    if let Some(s) = &o.source_port_range {
        m.insert("source_port_range".into(), range(s));
    }
    Value::Object(m)
}

#[allow(clippy::too_many_arguments)]
fn rule(
    end_key: &str,
    end: &str,
    end_type_key: &str,
    end_type: Option<&str>,
    protocol: &str,
    stateless: Option<bool>,
    tcp: Option<&PortOptions>,
    udp: Option<&PortOptions>,
    icmp: Option<&IcmpOptions>,
    description: Option<&str>,
) -> Value {
    let end_type = end_type.unwrap_or("CIDR_BLOCK");
    let mut m = Map::new();
    m.insert("protocol".into(), json!(protocol.to_ascii_lowercase()));
    m.insert(
        end_key.into(),
        json!(if end_type == "CIDR_BLOCK" {
            cidr(end)
        } else {
            end.to_owned()
        }),
    );
    m.insert(end_type_key.into(), json!(end_type));
    m.insert("is_stateless".into(), json!(stateless.unwrap_or(false)));
    if let Some(o) = tcp {
        m.insert("tcp_options".into(), port_options(o));
    }
    if let Some(o) = udp {
        m.insert("udp_options".into(), port_options(o));
    }
    if let Some(i) = icmp {
        let mut o = Map::new();
        o.insert("type".into(), json!(i.icmp_type));
        if let Some(c) = i.code {
            o.insert("code".into(), json!(c));
        }
        m.insert("icmp_options".into(), Value::Object(o));
    }
    if let Some(d) = description {
        m.insert("description".into(), json!(d));
    }
    Value::Object(m)
}

/// One ingress rule in the desired state's shape.
pub(crate) fn ingress_rule(r: &IngressSecurityRule) -> Value {
    rule(
        "source",
        &r.source,
        "source_type",
        r.source_type.as_deref(),
        &r.protocol,
        r.is_stateless,
        r.tcp_options.as_ref(),
        r.udp_options.as_ref(),
        r.icmp_options.as_ref(),
        r.description.as_deref(),
    )
}

/// One egress rule in the desired state's shape.
pub(crate) fn egress_rule(r: &EgressSecurityRule) -> Value {
    rule(
        "destination",
        &r.destination,
        "destination_type",
        r.destination_type.as_deref(),
        &r.protocol,
        r.is_stateless,
        r.tcp_options.as_ref(),
        r.udp_options.as_ref(),
        r.icmp_options.as_ref(),
        r.description.as_deref(),
    )
}

/// `security_list`: rules in canonical form (the plan compares them as sets).
pub(crate) fn security_list(l: &SecurityList) -> Value {
    json!({
        "compartment_id": l.compartment_id,
        "vcn_id": l.vcn_id,
        "display_name": opt(l.display_name.clone()),
        "ingress_security_rules": l.ingress_security_rules.iter().map(ingress_rule).collect::<Vec<_>>(),
        "egress_security_rules": l.egress_security_rules.iter().map(egress_rule).collect::<Vec<_>>(),
    })
}

/// `subnet`.
pub(crate) fn subnet(s: &Subnet) -> Value {
    json!({
        "compartment_id": s.compartment_id,
        "vcn_id": s.vcn_id,
        "display_name": opt(s.display_name.clone()),
        "cidr_block": opt(s.cidr_block.as_deref().map(cidr)),
        "dns_label": opt(s.dns_label.clone()),
        "route_table_id": opt(s.route_table_id.clone()),
        "security_list_ids": s.security_list_ids,
        "prohibit_public_ip_on_vnic": s.prohibit_public_ip_on_vnic.unwrap_or(false),
    })
}

/// `public_ip`.
pub(crate) fn public_ip(p: &PublicIp) -> Value {
    json!({
        "compartment_id": p.compartment_id,
        "display_name": opt(p.display_name.clone()),
        "lifetime": opt(p.lifetime.as_ref().map(|l| l.as_str().to_owned())),
        "private_ip_id": opt(p.private_ip_id.clone().filter(|s| !s.is_empty())),
        "ip_address": opt(p.ip_address.as_deref().map(canonical_ip)),
    })
}

// ---------------------------------------------------------------------------------------------
// Instances

/// The primary VNIC of an instance as OCI shows it (once attached).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrimaryVnic {
    pub vnic_id: String,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub private_ip_id: Option<String>,
    pub hostname_label: Option<String>,
}

/// The logical name (`AD-2`) of an availability domain (`Uocm:EU-FRANKFURT-1-AD-2`).
pub(crate) fn logical_ad(name: &str) -> String {
    match name.rsplit_once("-AD-") {
        Some((_, n)) => format!("AD-{n}"),
        None => name.to_owned(),
    }
}

/// The `pexspec-vnic` tag of a launch: `subnet|assign|hostname|ip`.
pub(crate) fn vnic_tag(details: &CreateVnicDetails) -> String {
    [
        details.subnet_id.clone().unwrap_or_default(),
        details.assign_public_ip.unwrap_or(false).to_string(),
        details.hostname_label.clone().unwrap_or_default(),
        details.private_ip.clone().unwrap_or_default(),
    ]
    .join("|")
}

fn vnic_from_tag(tag: &str) -> Option<Map<String, Value>> {
    let p: Vec<&str> = tag.split('|').collect();
    let [subnet, assign, hostname, ip] = p.as_slice() else {
        return None;
    };
    let mut m = Map::new();
    m.insert("subnet_id".into(), json!(subnet));
    m.insert("assign_public_ip".into(), json!(*assign == "true"));
    if !hostname.is_empty() {
        m.insert("hostname_label".into(), json!(hostname));
    }
    if !ip.is_empty() {
        m.insert("private_ip".into(), json!(canonical_ip(ip)));
    }
    Some(m)
}

/// `instance`: the availability domain as the spec asked for it (`AD-1`, from the
/// `pexspec-requested-ad` tag, so a capacity fallback does not read as a change; where it
/// runs is `placed_availability_domain`), the primary VNIC from OCI once it is attached (from
/// the `pexspec-vnic` tag before), and `private_ip` / `private_ip_id` for the resources that
/// refer to them. The SSH key is write-only: `metadata` is reported empty.
pub(crate) fn instance(i: &Instance, vnic: Option<&PrimaryVnic>) -> Value {
    let mut m = Map::new();
    m.insert("compartment_id".into(), json!(i.compartment_id));
    m.insert("display_name".into(), opt(i.display_name.clone()));
    let requested = i
        .tag(TAG_REQUESTED_AD)
        .map_or_else(|| logical_ad(&i.availability_domain), str::to_owned);
    m.insert("availability_domain".into(), json!(requested));
    m.insert(
        "placed_availability_domain".into(),
        json!(i.availability_domain),
    );
    m.insert("fault_domain".into(), opt(i.fault_domain.clone()));
    m.insert("shape".into(), json!(i.shape));
    if let Some(sc) = &i.shape_config {
        let mut c = Map::new();
        if let Some(o) = sc.ocpus {
            c.insert("ocpus".into(), json!(o));
        }
        if let Some(g) = sc.memory_in_gbs {
            c.insert("memory_in_gbs".into(), json!(g));
        }
        m.insert("shape_config".into(), Value::Object(c));
    }
    let image_id = i
        .source_details
        .as_ref()
        .and_then(|s| s.get("imageId"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| i.image_id.clone());
    let source_type = i
        .source_details
        .as_ref()
        .and_then(|s| s.get("sourceType"))
        .and_then(Value::as_str)
        .unwrap_or("image")
        .to_owned();
    m.insert(
        "source_details".into(),
        json!({"source_type": source_type, "image_id": opt(image_id)}),
    );
    let mut details = i.tag(TAG_VNIC).and_then(vnic_from_tag).unwrap_or_default();
    if let Some(v) = vnic {
        if let Some(s) = &v.subnet_id {
            details.insert("subnet_id".into(), json!(s));
        }
        if let Some(h) = &v.hostname_label {
            details.insert("hostname_label".into(), json!(h));
        }
        if let Some(ip) = &v.private_ip {
            details.insert("private_ip".into(), json!(canonical_ip(ip)));
            m.insert("private_ip".into(), json!(canonical_ip(ip)));
        }
        if let Some(id) = &v.private_ip_id {
            m.insert("private_ip_id".into(), json!(id));
        }
        m.insert("vnic_id".into(), json!(v.vnic_id));
    }
    details
        .entry("assign_public_ip")
        .or_insert(Value::Bool(false));
    m.insert("create_vnic_details".into(), Value::Object(details));
    m.insert("metadata".into(), json!({}));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// Reading a resolved desired state

/// A resolved desired state, read with the address at hand for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Desired<'a> {
    pub value: &'a Value,
    pub address: &'a Address,
}

impl<'a> Desired<'a> {
    pub fn new(value: &'a Value, address: &'a Address) -> Self {
        Self { value, address }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.value.get(key).filter(|v| !v.is_null())
    }

    pub fn str(&self, key: &str) -> Result<&'a str, ProviderError> {
        self.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(self.address, format_args!("has no text `{key}`")))
    }

    pub fn opt_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn opt_string(&self, key: &str) -> Option<String> {
        self.opt_str(key).map(str::to_owned)
    }

    pub fn opt_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    pub fn opt_f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    pub fn obj(&self, key: &str) -> Result<Desired<'a>, ProviderError> {
        match self.get(key) {
            Some(v @ Value::Object(_)) => Ok(Desired::new(v, self.address)),
            _ => Err(malformed(
                self.address,
                format_args!("has no object `{key}`"),
            )),
        }
    }

    pub fn array(&self, key: &str) -> Result<&'a [Value], ProviderError> {
        match self.get(key) {
            Some(Value::Array(a)) => Ok(a),
            None => Ok(&[]),
            Some(_) => Err(malformed(
                self.address,
                format_args!("has a `{key}` that is not a list"),
            )),
        }
    }

    /// A `$ref` / `$lookup` / `$secret` marker left in the value: it was not resolved.
    pub fn check_resolved(&self) -> Result<(), ProviderError> {
        let mut unresolved = None;
        pexspec_graph::value::for_each_ref(self.value, &mut |r| {
            unresolved.get_or_insert(r);
        });
        match unresolved {
            Some(r) => Err(malformed(
                self.address,
                format_args!("still refers to `{r}`: resolve references before sending"),
            )),
            None if has_marker(self.value, "$lookup") => Err(malformed(
                self.address,
                "still holds an unresolved `$lookup`",
            )),
            None => Ok(()),
        }
    }
}

fn has_marker(v: &Value, marker: &str) -> bool {
    match v {
        Value::Object(m) => m.contains_key(marker) || m.values().any(|x| has_marker(x, marker)),
        Value::Array(a) => a.iter().any(|x| has_marker(x, marker)),
        _ => false,
    }
}

fn port_range_of(d: &Desired<'_>, key: &str) -> Result<Option<PortRange>, ProviderError> {
    let Some(r) = d.get(key) else {
        return Ok(None);
    };
    let n = |k: &str| {
        r.get(k)
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| malformed(d.address, format_args!("has a bad port range `{key}`")))
    };
    Ok(Some(PortRange {
        min: n("min")?,
        max: n("max")?,
    }))
}

fn port_options_of(d: &Desired<'_>, key: &str) -> Result<Option<PortOptions>, ProviderError> {
    if d.get(key).is_none() {
        return Ok(None);
    }
    let o = d.obj(key)?;
    Ok(Some(PortOptions {
        destination_port_range: port_range_of(&o, "destination_port_range")?,
        source_port_range: port_range_of(&o, "source_port_range")?,
    }))
}

fn icmp_options_of(d: &Desired<'_>) -> Result<Option<IcmpOptions>, ProviderError> {
    if d.get("icmp_options").is_none() {
        return Ok(None);
    }
    let o = d.obj("icmp_options")?;
    let byte = |k: &str| {
        o.get(k)
            .and_then(Value::as_u64)
            .and_then(|x| u8::try_from(x).ok())
    };
    Ok(Some(IcmpOptions {
        icmp_type: byte("type")
            .ok_or_else(|| malformed(d.address, "has an ICMP rule without a `type`"))?,
        code: byte("code"),
    }))
}

/// The wire ingress rules of a desired `ingress_security_rules`.
pub(crate) fn ingress_rules_of(d: &Desired<'_>) -> Result<Vec<IngressSecurityRule>, ProviderError> {
    d.array("ingress_security_rules")?
        .iter()
        .map(|v| {
            let r = Desired::new(v, d.address);
            Ok(IngressSecurityRule {
                source: r.str("source")?.to_owned(),
                protocol: r.str("protocol")?.to_owned(),
                source_type: r.opt_string("source_type"),
                is_stateless: Some(r.opt_bool("is_stateless").unwrap_or(false)),
                tcp_options: port_options_of(&r, "tcp_options")?,
                udp_options: port_options_of(&r, "udp_options")?,
                icmp_options: icmp_options_of(&r)?,
                description: r.opt_string("description"),
            })
        })
        .collect()
}

/// The wire egress rules of a desired `egress_security_rules`.
pub(crate) fn egress_rules_of(d: &Desired<'_>) -> Result<Vec<EgressSecurityRule>, ProviderError> {
    d.array("egress_security_rules")?
        .iter()
        .map(|v| {
            let r = Desired::new(v, d.address);
            Ok(EgressSecurityRule {
                destination: r.str("destination")?.to_owned(),
                protocol: r.str("protocol")?.to_owned(),
                destination_type: r.opt_string("destination_type"),
                is_stateless: Some(r.opt_bool("is_stateless").unwrap_or(false)),
                tcp_options: port_options_of(&r, "tcp_options")?,
                udp_options: port_options_of(&r, "udp_options")?,
                icmp_options: icmp_options_of(&r)?,
                description: r.opt_string("description"),
            })
        })
        .collect()
}

/// The wire route rules of a desired `route_rules`.
pub(crate) fn route_rules_of(d: &Desired<'_>) -> Result<Vec<RouteRule>, ProviderError> {
    d.array("route_rules")?
        .iter()
        .map(|v| {
            let r = Desired::new(v, d.address);
            Ok(RouteRule {
                destination: Some(r.str("destination")?.to_owned()),
                destination_type: Some(
                    r.opt_str("destination_type")
                        .unwrap_or("CIDR_BLOCK")
                        .to_owned(),
                ),
                network_entity_id: r.str("network_entity_id")?.to_owned(),
                description: r.opt_string("description"),
                route_type: None,
            })
        })
        .collect()
}

/// The `security_list_ids` of a desired subnet.
pub(crate) fn string_list(d: &Desired<'_>, key: &str) -> Result<Vec<String>, ProviderError> {
    d.array(key)?
        .iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                malformed(d.address, format_args!("has a non-text entry in `{key}`"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pexspec_graph::Kind;

    #[test]
    fn rules_round_trip_to_the_desired_shape() {
        let address = Address::new(Kind::SecurityList, "r");
        let desired = json!({"ingress_security_rules": [
            {"protocol": "6", "source": "192.0.2.0/24", "source_type": "CIDR_BLOCK", "is_stateless": false,
             "tcp_options": {"destination_port_range": {"min": 22, "max": 22}}, "description": "SSH"},
            {"protocol": "17", "source": "10.0.0.0/16", "source_type": "CIDR_BLOCK", "is_stateless": false,
             "udp_options": {"destination_port_range": {"min": 500, "max": 500}, "source_port_range": {"min": 500, "max": 500}}},
            {"protocol": "1", "source": "192.0.2.0/24", "source_type": "CIDR_BLOCK", "is_stateless": false}
        ]});
        let wire = ingress_rules_of(&Desired::new(&desired, &address)).unwrap();
        let back: Vec<Value> = wire.iter().map(ingress_rule).collect();
        assert_eq!(Value::Array(back), desired["ingress_security_rules"]);
    }

    #[test]
    fn cidrs_are_canonical_and_defaults_filled() {
        let r = IngressSecurityRule {
            source: "2001:DB8::/32".into(),
            protocol: "ALL".into(),
            ..IngressSecurityRule::default()
        };
        assert_eq!(
            ingress_rule(&r),
            json!({"protocol": "all", "source": "2001:db8::/32", "source_type": "CIDR_BLOCK", "is_stateless": false})
        );
    }

    #[test]
    fn ids_and_tags_parse_back() {
        assert_eq!(
            parse_object_id(&object_id("ns", "b", "dir/x.ova")),
            Some(("ns", "b", "dir/x.ova"))
        );
        assert_eq!(parse_bucket_id(&bucket_id("ns", "b")), Some(("ns", "b")));
        assert_eq!(
            parse_image_shape_id(&image_shape_id("ocid1.image.x", "VM.Optimized3.Flex")),
            Some(("ocid1.image.x", "VM.Optimized3.Flex"))
        );
        assert_eq!(logical_ad("Uocm:EU-FRANKFURT-1-AD-2"), "AD-2");
        let source = json!({"source_type": "objectStorageTuple", "bucket_name": "b", "namespace_name": "ns",
            "object_name": "o.ova", "bucket_region": "eu-frankfurt-1", "source_image_type": "VMDK", "operating_system": "Linux"});
        let tag = image_source_tag(&source).unwrap();
        assert_eq!(image_source(&tag).unwrap(), source);
        let vnic = CreateVnicDetails {
            subnet_id: Some("ocid1.subnet.x".into()),
            assign_public_ip: Some(false),
            hostname_label: Some("pexmgr".into()),
            ..CreateVnicDetails::default()
        };
        assert_eq!(
            Value::Object(vnic_from_tag(&vnic_tag(&vnic)).unwrap()),
            json!({"subnet_id": "ocid1.subnet.x", "assign_public_ip": false, "hostname_label": "pexmgr"})
        );
    }
}
