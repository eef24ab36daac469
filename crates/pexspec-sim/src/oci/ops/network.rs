//! Core networking: VCNs (with their default route table, security list and DHCP options),
//! subnets, internet gateways, route tables and security lists.

use serde_json::{Map, Value, json};

use super::{Call, Ctx, Kind, at, check_if_match, default_name, is_going, nominal, reply_res};
use crate::oci::cidr::Cidr;
use crate::oci::store::Res;
use crate::oci::wire::{
    ApiError, Reply, defined_tags, freeform_tags, json_body, opt_array, opt_bool, opt_str,
    opt_str_list, req_str, rfc3339,
};

fn check_dns_label(label: &str) -> Result<String, ApiError> {
    let ok = !label.is_empty()
        && label.len() <= 15
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && label.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(label.to_ascii_lowercase())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid dnsLabel: {label}; it must be 1-15 letters and digits starting with a letter"
        )))
    }
}

fn parse_cidr(s: &str) -> Result<Cidr, ApiError> {
    Cidr::parse(s).map_err(ApiError::invalid)
}

/// The AVAILABLE VCN a child resource is created in (404 if unknown, 409 while provisioning).
fn parent_vcn(ctx: &Ctx<'_>, vcn_id: &str) -> Result<Res, ApiError> {
    let vcn = ctx
        .find(Kind::Vcn, vcn_id)?
        .ok_or_else(ApiError::not_found)?;
    if vcn.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The VCN {vcn_id} is {}; wait until it is AVAILABLE.",
            vcn.state()
        )));
    }
    Ok(vcn)
}

fn provisioning(ctx: &Ctx<'_>) -> Vec<crate::oci::store::Transition> {
    vec![at(
        ctx.after(nominal::NETWORK),
        json!({"lifecycleState": "AVAILABLE"}),
    )]
}

fn default_security_rules(vcn_cidr: &str) -> (Value, Value) {
    let ingress = json!([
        {"source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "protocol": "6", "isStateless": false,
         "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}},
        {"source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "protocol": "1", "isStateless": false,
         "icmpOptions": {"type": 3, "code": 4}},
        {"source": vcn_cidr, "sourceType": "CIDR_BLOCK", "protocol": "1", "isStateless": false,
         "icmpOptions": {"type": 3}},
    ]);
    let egress = json!([
        {"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "protocol": "all", "isStateless": false}
    ]);
    (ingress, egress)
}

pub(crate) fn create_vcn(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let mut blocks = opt_str_list(&b, "cidrBlocks")?.unwrap_or_default();
    if let Some(c) = opt_str(&b, "cidrBlock")?
        && !blocks.contains(&c)
    {
        blocks.insert(0, c);
    }
    if blocks.is_empty() {
        return Err(ApiError::missing("cidrBlock"));
    }
    let parsed: Vec<Cidr> = blocks
        .iter()
        .map(|c| parse_cidr(c))
        .collect::<Result<_, _>>()?;
    for (i, a) in parsed.iter().enumerate() {
        if !(16..=30).contains(&a.prefix) {
            return Err(ApiError::invalid(format!(
                "The VCN CIDR block {a} must be between /16 and /30"
            )));
        }
        if parsed[..i].iter().any(|b| b.overlaps(a)) {
            return Err(ApiError::invalid(format!(
                "The VCN CIDR blocks overlap at {a}"
            )));
        }
    }
    let blocks: Vec<String> = parsed.iter().map(ToString::to_string).collect();
    let dns = opt_str(&b, "dnsLabel")?
        .map(|l| check_dns_label(&l))
        .transpose()?;
    ctx.check_compartment(&compartment)?;
    let id = ctx.new_ocid(Kind::Vcn);
    let rt_id = ctx.new_ocid(Kind::RouteTable);
    let sl_id = ctx.new_ocid(Kind::SecurityList);
    let dhcp_id = ctx.new_ocid(Kind::DhcpOptions);
    let name = opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("vcn", ctx.now));
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "cidrBlock": blocks[0],
        "cidrBlocks": blocks,
        "ipv6CidrBlocks": [],
        "defaultDhcpOptionsId": dhcp_id,
        "defaultRouteTableId": rt_id,
        "defaultSecurityListId": sl_id,
        "displayName": name,
        "dnsLabel": dns,
        "vcnDomainName": dns.as_ref().map(|d| format!("{d}.oraclevcn.com")),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::Vcn,
        &id,
        &compartment,
        doc,
        provisioning(ctx),
        json!({}),
    )?;
    let common = |kid: &str, dname: String| {
        json!({
            "id": kid,
            "compartmentId": compartment,
            "vcnId": id,
            "displayName": dname,
            "freeformTags": {},
            "definedTags": {},
            "systemTags": {},
            "lifecycleState": "PROVISIONING",
            "timeCreated": rfc3339(ctx.now),
        })
    };
    let mut rt = common(&rt_id, format!("Default Route Table for {name}"));
    rt["routeRules"] = json!([]);
    ctx.insert(
        Kind::RouteTable,
        &rt_id,
        &compartment,
        rt,
        provisioning(ctx),
        json!({"default": true}),
    )?;
    let mut sl = common(&sl_id, format!("Default Security List for {name}"));
    let (ingress, egress) = default_security_rules(&blocks[0]);
    sl["ingressSecurityRules"] = ingress;
    sl["egressSecurityRules"] = egress;
    ctx.insert(
        Kind::SecurityList,
        &sl_id,
        &compartment,
        sl,
        provisioning(ctx),
        json!({"default": true}),
    )?;
    let mut dhcp = common(&dhcp_id, format!("Default DHCP Options for {name}"));
    let mut options = vec![
        json!({"type": "DomainNameServer", "serverType": "VcnLocalPlusInternet", "customDnsServers": []}),
    ];
    if let Some(d) = &dns {
        options.push(
            json!({"type": "SearchDomain", "searchDomainNames": [format!("{d}.oraclevcn.com")]}),
        );
    }
    dhcp["options"] = Value::Array(options);
    dhcp["domainNameType"] = "CUSTOM_DOMAIN".into();
    ctx.insert(
        Kind::DhcpOptions,
        &dhcp_id,
        &compartment,
        dhcp,
        provisioning(ctx),
        json!({"default": true}),
    )?;
    let r = ctx.must_get(Kind::Vcn, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

fn vcn_cidrs(vcn: &Res) -> Vec<Cidr> {
    vcn.doc["cidrBlocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().and_then(|s| Cidr::parse(s).ok()))
        .collect()
}

/// A route table or security list referenced by a subnet: must exist in the same VCN.
fn check_vcn_child(
    ctx: &Ctx<'_>,
    kind: Kind,
    id: &str,
    vcn_id: &str,
    what: &str,
) -> Result<(), ApiError> {
    let r = ctx.related(kind, id, what)?;
    if r.s("vcnId") != vcn_id {
        return Err(ApiError::invalid(format!(
            "The {what} {id} belongs to another VCN"
        )));
    }
    Ok(())
}

pub(crate) fn create_subnet(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let vcn_id = req_str(&b, "vcnId")?;
    let cidr_s = match opt_str(&b, "cidrBlock")? {
        Some(c) => c,
        None => opt_str_list(&b, "ipv4CidrBlocks")?
            .and_then(|l| l.into_iter().next())
            .ok_or_else(|| ApiError::missing("cidrBlock"))?,
    };
    let cidr = parse_cidr(&cidr_s)?;
    if cidr.prefix > 30 {
        return Err(ApiError::invalid(format!(
            "The subnet CIDR block {cidr} is smaller than /30"
        )));
    }
    let dns = opt_str(&b, "dnsLabel")?
        .map(|l| check_dns_label(&l))
        .transpose()?;
    ctx.check_compartment(&compartment)?;
    let vcn = parent_vcn(ctx, &vcn_id)?;
    if !vcn_cidrs(&vcn).iter().any(|v| v.contains(&cidr)) {
        return Err(ApiError::invalid(format!(
            "The subnet CIDR block {cidr} is not within the VCN's CIDR blocks"
        )));
    }
    let siblings: Vec<Res> = ctx
        .all(Kind::Subnet)?
        .into_iter()
        .filter(|s| s.s("vcnId") == vcn_id && !is_going(s))
        .collect();
    for s in &siblings {
        if let Ok(other) = Cidr::parse(s.s("cidrBlock"))
            && other.overlaps(&cidr)
        {
            return Err(ApiError::invalid(format!(
                "The subnet CIDR block {cidr} overlaps with subnet {} ({other})",
                s.ocid
            )));
        }
    }
    if let Some(d) = &dns {
        if vcn.doc["dnsLabel"].is_null() {
            return Err(ApiError::invalid(
                "A subnet dnsLabel needs a VCN with a dnsLabel",
            ));
        }
        if siblings.iter().any(|s| s.s("dnsLabel") == d) {
            return Err(ApiError::invalid(format!(
                "The dnsLabel {d} is already used in this VCN"
            )));
        }
    }
    let ad = opt_str(&b, "availabilityDomain")?;
    if let Some(a) = &ad
        && !crate::oci::catalog::availability_domains(ctx.region).contains(a)
    {
        return Err(ApiError::invalid(format!(
            "Invalid availabilityDomain: {a}"
        )));
    }
    let rt_id =
        opt_str(&b, "routeTableId")?.unwrap_or_else(|| vcn.s("defaultRouteTableId").to_string());
    check_vcn_child(ctx, Kind::RouteTable, &rt_id, &vcn_id, "route table")?;
    let sls = opt_str_list(&b, "securityListIds")?
        .unwrap_or_else(|| vec![vcn.s("defaultSecurityListId").to_string()]);
    if sls.len() > 5 {
        return Err(ApiError::invalid(
            "A subnet can have at most 5 security lists",
        ));
    }
    for sl in &sls {
        check_vcn_child(ctx, Kind::SecurityList, sl, &vcn_id, "security list")?;
    }
    let dhcp =
        opt_str(&b, "dhcpOptionsId")?.unwrap_or_else(|| vcn.s("defaultDhcpOptionsId").to_string());
    let id = ctx.new_ocid(Kind::Subnet);
    let mac: [u8; 3] = rand::random();
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "vcnId": vcn_id,
        "availabilityDomain": ad,
        "cidrBlock": cidr.to_string(),
        "ipv4CidrBlocks": [cidr.to_string()],
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("subnet", ctx.now)),
        "dnsLabel": dns,
        "subnetDomainName": dns.as_ref().map(|d| format!("{d}.{}.oraclevcn.com", vcn.s("dnsLabel"))),
        "dhcpOptionsId": dhcp,
        "routeTableId": rt_id,
        "securityListIds": sls,
        "prohibitPublicIpOnVnic": opt_bool(&b, "prohibitPublicIpOnVnic")?.unwrap_or(false),
        "prohibitInternetIngress": opt_bool(&b, "prohibitInternetIngress")?
            .or(opt_bool(&b, "prohibitPublicIpOnVnic")?)
            .unwrap_or(false),
        "virtualRouterIp": cidr.host(1).to_string(),
        "virtualRouterMac": format!("00:00:17:{:02X}:{:02X}:{:02X}", mac[0], mac[1], mac[2]),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::Subnet,
        &id,
        &compartment,
        doc,
        provisioning(ctx),
        json!({}),
    )?;
    let r = ctx.must_get(Kind::Subnet, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

pub(crate) fn create_igw(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let vcn_id = req_str(&b, "vcnId")?;
    let enabled = opt_bool(&b, "isEnabled")?.ok_or_else(|| ApiError::missing("isEnabled"))?;
    ctx.check_compartment(&compartment)?;
    parent_vcn(ctx, &vcn_id)?;
    let live = ctx
        .all(Kind::InternetGateway)?
        .into_iter()
        .any(|g| g.s("vcnId") == vcn_id && !is_going(&g));
    if live {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!("The VCN {vcn_id} already has an internet gateway; a VCN can have only one."),
        ));
    }
    let rt = opt_str(&b, "routeTableId")?;
    if let Some(rt) = &rt {
        check_vcn_child(ctx, Kind::RouteTable, rt, &vcn_id, "route table")?;
    }
    let id = ctx.new_ocid(Kind::InternetGateway);
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "vcnId": vcn_id,
        "isEnabled": enabled,
        "routeTableId": rt,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("internetgateway", ctx.now)),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::InternetGateway,
        &id,
        &compartment,
        doc,
        provisioning(ctx),
        json!({}),
    )?;
    let r = ctx.must_get(Kind::InternetGateway, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

/// Validates route rules for a route table of `vcn_id` and returns them in response form.
fn route_rules(ctx: &Ctx<'_>, vcn_id: &str, rules: &[Value]) -> Result<Value, ApiError> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if !rule.is_object() {
            return Err(ApiError::invalid(format!(
                "routeRules[{i}] must be an object"
            )));
        }
        let target = req_str(rule, "networkEntityId")?;
        let dtype = opt_str(rule, "destinationType")?.unwrap_or_else(|| "CIDR_BLOCK".into());
        let dest = match opt_str(rule, "destination")? {
            Some(d) => d,
            None => opt_str(rule, "cidrBlock")?
                .ok_or_else(|| ApiError::missing(&format!("routeRules[{i}].destination")))?,
        };
        match dtype.as_str() {
            "CIDR_BLOCK" => {
                parse_cidr(&dest)?;
            }
            "SERVICE_CIDR_BLOCK" => {}
            other => {
                return Err(ApiError::invalid(format!(
                    "Invalid destinationType: {other}"
                )));
            }
        }
        let kind = target.split('.').nth(1).unwrap_or("");
        match kind {
            "internetgateway" => {
                let g = ctx.related(Kind::InternetGateway, &target, "internet gateway")?;
                if g.s("vcnId") != vcn_id {
                    return Err(ApiError::invalid(format!(
                        "The internet gateway {target} belongs to another VCN"
                    )));
                }
            }
            "drg" => {
                ctx.related(Kind::Drg, &target, "DRG")?;
                let attached = ctx
                    .all(Kind::DrgAttachment)?
                    .into_iter()
                    .any(|a| a.s("drgId") == target && a.s("vcnId") == vcn_id && !is_going(&a));
                if !attached {
                    return Err(ApiError::invalid(format!(
                        "The DRG {target} is not attached to the VCN {vcn_id}; attach it before routing to it"
                    )));
                }
            }
            "privateip" => {
                ctx.related(Kind::PrivateIp, &target, "private IP")?;
            }
            "natgateway" | "servicegateway" | "localpeeringgateway" => {
                return Err(ApiError::related_not_found("network entity", &target));
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid networkEntityId: {target}"
                )));
            }
        }
        let mut r = json!({
            "destination": dest,
            "destinationType": dtype,
            "networkEntityId": target,
            "routeType": "STATIC",
        });
        if dtype == "CIDR_BLOCK" {
            r["cidrBlock"] = Value::String(dest.clone());
        }
        if let Some(d) = opt_str(rule, "description")? {
            r["description"] = d.into();
        }
        out.push(r);
    }
    Ok(Value::Array(out))
}

pub(crate) fn create_route_table(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let vcn_id = req_str(&b, "vcnId")?;
    let rules = opt_array(&b, "routeRules")?.ok_or_else(|| ApiError::missing("routeRules"))?;
    ctx.check_compartment(&compartment)?;
    parent_vcn(ctx, &vcn_id)?;
    let rules = route_rules(ctx, &vcn_id, rules)?;
    let id = ctx.new_ocid(Kind::RouteTable);
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "vcnId": vcn_id,
        "routeRules": rules,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("routetable", ctx.now)),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::RouteTable,
        &id,
        &compartment,
        doc,
        provisioning(ctx),
        json!({}),
    )?;
    let r = ctx.must_get(Kind::RouteTable, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

fn port_range(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<Value>, ApiError> {
    let Some(r) = o.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let min = r.get("min").and_then(Value::as_i64);
    let max = r.get("max").and_then(Value::as_i64);
    match (min, max) {
        (Some(a), Some(b)) if (1..=65535).contains(&a) && (1..=65535).contains(&b) && a <= b => {
            Ok(Some(json!({"min": a, "max": b})))
        }
        _ => Err(ApiError::invalid(format!(
            "{path}.{key} must have min and max ports from 1 to 65535 with min <= max"
        ))),
    }
}

/// Validates security rules (ingress with `source`, egress with `destination`).
fn security_rules(rules: &[Value], ingress: bool) -> Result<Value, ApiError> {
    let (list, end, end_type) = if ingress {
        ("ingressSecurityRules", "source", "sourceType")
    } else {
        ("egressSecurityRules", "destination", "destinationType")
    };
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let path = format!("{list}[{i}]");
        if !rule.is_object() {
            return Err(ApiError::invalid(format!("{path} must be an object")));
        }
        let protocol = req_str(rule, "protocol")?;
        if protocol != "all" && protocol.parse::<u8>().is_err() {
            return Err(ApiError::invalid(format!(
                "{path}.protocol must be \"all\" or an IANA protocol number, not {protocol}"
            )));
        }
        let target = req_str(rule, end)?;
        let ttype = opt_str(rule, end_type)?.unwrap_or_else(|| "CIDR_BLOCK".into());
        match ttype.as_str() {
            "CIDR_BLOCK" => {
                parse_cidr(&target)?;
            }
            "SERVICE_CIDR_BLOCK" | "NETWORK_SECURITY_GROUP" => {}
            other => {
                return Err(ApiError::invalid(format!(
                    "{path}.{end_type} is invalid: {other}"
                )));
            }
        }
        let mut r = json!({
            end: target,
            end_type: ttype,
            "protocol": protocol,
            "isStateless": opt_bool(rule, "isStateless")?.unwrap_or(false),
        });
        for (opt, proto) in [("tcpOptions", "6"), ("udpOptions", "17")] {
            if let Some(o) = rule.get(opt).filter(|v| !v.is_null()) {
                let o = o
                    .as_object()
                    .ok_or_else(|| ApiError::invalid(format!("{path}.{opt} must be an object")))?;
                if protocol != proto {
                    return Err(ApiError::invalid(format!(
                        "{path}.{opt} needs protocol {proto}"
                    )));
                }
                let mut m = Map::new();
                if let Some(d) = port_range(o, "destinationPortRange", &format!("{path}.{opt}"))? {
                    m.insert("destinationPortRange".into(), d);
                }
                if let Some(s) = port_range(o, "sourcePortRange", &format!("{path}.{opt}"))? {
                    m.insert("sourcePortRange".into(), s);
                }
                r[opt] = Value::Object(m);
            }
        }
        if let Some(o) = rule.get("icmpOptions").filter(|v| !v.is_null()) {
            if protocol != "1" && protocol != "58" {
                return Err(ApiError::invalid(format!(
                    "{path}.icmpOptions needs protocol 1 or 58"
                )));
            }
            let t = o
                .get("type")
                .and_then(Value::as_i64)
                .filter(|t| (0..=255).contains(t));
            let Some(t) = t else {
                return Err(ApiError::invalid(format!(
                    "{path}.icmpOptions.type must be from 0 to 255"
                )));
            };
            let mut icmp = json!({"type": t});
            if let Some(c) = o.get("code").filter(|v| !v.is_null()) {
                let c = c
                    .as_i64()
                    .filter(|c| (0..=255).contains(c))
                    .ok_or_else(|| {
                        ApiError::invalid(format!("{path}.icmpOptions.code must be from 0 to 255"))
                    })?;
                icmp["code"] = c.into();
            }
            r["icmpOptions"] = icmp;
        }
        if let Some(d) = opt_str(rule, "description")? {
            r["description"] = d.into();
        }
        out.push(r);
    }
    Ok(Value::Array(out))
}

pub(crate) fn create_security_list(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let vcn_id = req_str(&b, "vcnId")?;
    let ingress = opt_array(&b, "ingressSecurityRules")?
        .ok_or_else(|| ApiError::missing("ingressSecurityRules"))?;
    let egress = opt_array(&b, "egressSecurityRules")?
        .ok_or_else(|| ApiError::missing("egressSecurityRules"))?;
    let ingress = security_rules(ingress, true)?;
    let egress = security_rules(egress, false)?;
    ctx.check_compartment(&compartment)?;
    parent_vcn(ctx, &vcn_id)?;
    let id = ctx.new_ocid(Kind::SecurityList);
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "vcnId": vcn_id,
        "ingressSecurityRules": ingress,
        "egressSecurityRules": egress,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("securitylist", ctx.now)),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::SecurityList,
        &id,
        &compartment,
        doc,
        provisioning(ctx),
        json!({}),
    )?;
    let r = ctx.must_get(Kind::SecurityList, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

/// Validates the kind-specific fields of an update; returns the patch in response form.
pub(crate) fn validate_update(
    ctx: &Ctx<'_>,
    k: Kind,
    r: &Res,
    mut patch: Value,
) -> Result<Value, ApiError> {
    if patch.get("freeformTags").is_some() {
        freeform_tags(&patch)?;
    }
    if patch.get("definedTags").is_some() {
        defined_tags(&patch)?;
    }
    let vcn_id = r.s("vcnId").to_string();
    match k {
        Kind::RouteTable => {
            if let Some(rules) = opt_array(&patch, "routeRules")? {
                let rules = route_rules(ctx, &vcn_id, rules)?;
                patch["routeRules"] = rules;
            }
        }
        Kind::SecurityList => {
            if let Some(rules) = opt_array(&patch, "ingressSecurityRules")? {
                let v = security_rules(rules, true)?;
                patch["ingressSecurityRules"] = v;
            }
            if let Some(rules) = opt_array(&patch, "egressSecurityRules")? {
                let v = security_rules(rules, false)?;
                patch["egressSecurityRules"] = v;
            }
        }
        Kind::Subnet => {
            if let Some(rt) = opt_str(&patch, "routeTableId")? {
                check_vcn_child(ctx, Kind::RouteTable, &rt, &vcn_id, "route table")?;
            }
            if let Some(sls) = opt_str_list(&patch, "securityListIds")? {
                for sl in &sls {
                    check_vcn_child(ctx, Kind::SecurityList, sl, &vcn_id, "security list")?;
                }
            }
        }
        Kind::InternetGateway => {
            opt_bool(&patch, "isEnabled")?;
            if let Some(rt) = opt_str(&patch, "routeTableId")? {
                check_vcn_child(ctx, Kind::RouteTable, &rt, &vcn_id, "route table")?;
            }
        }
        _ => {}
    }
    Ok(patch)
}

/// Deletes a VCN, subnet, internet gateway, route table or security list: refused (409)
/// while something depends on it; TERMINATING → TERMINATED, then it lingers.
pub(crate) fn delete(ctx: &Ctx<'_>, k: Kind, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(k, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Ok(Reply::empty(204));
    }
    if r.state() == "PROVISIONING" {
        return Err(ApiError::incorrect_state(format!(
            "The resource {id} is PROVISIONING; wait until it is AVAILABLE."
        )));
    }
    let live = |kind: Kind| -> Result<Vec<Res>, ApiError> {
        Ok(ctx
            .all(kind)?
            .into_iter()
            .filter(|x| !is_going(x))
            .collect())
    };
    let is_default = r.internal["default"].as_bool().unwrap_or(false);
    let conflict = |what: &str, other: &str| {
        Err(ApiError::conflict(format!(
            "The resource {id} is still used by {what} {other}; remove that first."
        )))
    };
    match k {
        Kind::Vcn => {
            for kind in [
                Kind::Subnet,
                Kind::InternetGateway,
                Kind::RouteTable,
                Kind::SecurityList,
                Kind::DrgAttachment,
            ] {
                for x in live(kind)? {
                    if x.s("vcnId") == id && !x.internal["default"].as_bool().unwrap_or(false) {
                        return conflict(kind.store_kind(), &x.ocid);
                    }
                }
            }
        }
        Kind::Subnet => {
            if let Some(v) = live(Kind::Vnic)?
                .into_iter()
                .find(|v| v.s("subnetId") == id)
            {
                return conflict("VNIC", &v.ocid);
            }
        }
        Kind::RouteTable | Kind::SecurityList => {
            if is_default {
                return Err(ApiError::conflict(format!(
                    "The resource {id} is the VCN's default and is deleted with the VCN."
                )));
            }
            for s in live(Kind::Subnet)? {
                let uses = if k == Kind::RouteTable {
                    s.s("routeTableId") == id
                } else {
                    s.doc["securityListIds"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == id))
                };
                if uses {
                    return conflict("subnet", &s.ocid);
                }
            }
        }
        Kind::InternetGateway => {
            for rt in live(Kind::RouteTable)? {
                let targets = rt.doc["routeRules"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["networkEntityId"] == id));
                if targets {
                    return conflict("route table", &rt.ocid);
                }
            }
        }
        _ => {}
    }
    let done = ctx.after(nominal::NETWORK_DELETE);
    terminate_row(ctx, &mut r, done)?;
    if k == Kind::Vcn {
        for kind in [Kind::RouteTable, Kind::SecurityList, Kind::DhcpOptions] {
            for mut x in ctx.all(kind)? {
                if x.s("vcnId") == id && !is_going(&x) {
                    terminate_row(ctx, &mut x, done)?;
                }
            }
        }
    }
    Ok(Reply::empty(204))
}

/// TERMINATING now, TERMINATED at `done`, gone after the linger time.
pub(crate) fn terminate_row(ctx: &Ctx<'_>, r: &mut Res, done: i64) -> Result<(), ApiError> {
    r.doc["lifecycleState"] = "TERMINATING".into();
    r.pending = vec![at(done, json!({"lifecycleState": "TERMINATED"}))];
    r.purge_ms = Some(ctx.purge_after(done));
    ctx.tx.save(r)
}
