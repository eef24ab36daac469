//! Network values of the desired state: canonical CIDRs, netmasks and gateways, and the
//! security list generated from the deployment guide's ingress table.
//!
//! The rules are a normalised set: canonical CIDR spelling, canonical port ranges, sorted,
//! without duplicates. Reordering `extra_ingress` or `internal_cidrs` in the spec never
//! changes the security list, and neither does the order in which OCI returns the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use pexspec_spec::{Cidr, Protocol, Spec};
use serde_json::{Map, Value, json};

/// The canonical spelling of a CIDR block (`2001:DB8::/32` → `2001:db8::/32`); the text,
/// trimmed, if it is not one.
pub fn canonical_cidr(raw: &str) -> String {
    match raw.trim().parse::<IpNet>() {
        Ok(net) => net.to_string(),
        Err(_) => raw.trim().to_owned(),
    }
}

/// The canonical spelling of an IP address; the text, trimmed, if it is not one.
pub fn canonical_ip(raw: &str) -> String {
    match raw.trim().parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => raw.trim().to_owned(),
    }
}

/// The dotted netmask of an IPv4 network (`/24` → `255.255.255.0`).
pub fn netmask(net: &IpNet) -> Option<String> {
    match net {
        IpNet::V4(v4) => Some(v4.netmask().to_string()),
        IpNet::V6(_) => None,
    }
}

/// The first host address of a network: the guide's gateway, "the first host address in
/// the CIDR of the instance's subnet".
pub fn first_host(net: &IpNet) -> Option<String> {
    match net {
        IpNet::V4(v4) => {
            let base = u32::from(v4.network());
            let host = base.checked_add(1)?;
            v4.contains(&std::net::Ipv4Addr::from(host))
                .then(|| std::net::Ipv4Addr::from(host).to_string())
        }
        IpNet::V6(v6) => {
            let base = u128::from(v6.network());
            let host = base.checked_add(1)?;
            v6.contains(&std::net::Ipv6Addr::from(host))
                .then(|| std::net::Ipv6Addr::from(host).to_string())
        }
    }
}

/// Parses `"443"` or `"40000-49999"` into a range (min ≤ max, both 1 to 65535).
pub fn parse_ports(raw: &str) -> Option<(u16, u16)> {
    let raw = raw.trim();
    let (min, max) = match raw.split_once('-') {
        Some((a, b)) => (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?),
        None => {
            let p = raw.parse::<u16>().ok()?;
            (p, p)
        }
    };
    (min >= 1 && min <= max).then_some((min, max))
}

/// One ingress rule, in a form that sorts and compares canonically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RuleKey {
    protocol: Protocol,
    ports: Option<(u16, u16)>,
    source_ports: Option<(u16, u16)>,
    source: String,
    stateless: bool,
}

impl RuleKey {
    fn to_value(&self, description: Option<&str>) -> Value {
        let mut rule = Map::new();
        rule.insert("protocol".into(), json!(self.protocol.oci_number()));
        rule.insert("source".into(), json!(self.source));
        rule.insert("source_type".into(), json!("CIDR_BLOCK"));
        rule.insert("is_stateless".into(), json!(self.stateless));
        let options_key = match self.protocol {
            Protocol::Tcp => Some("tcp_options"),
            Protocol::Udp => Some("udp_options"),
            _ => None,
        };
        if let Some(key) = options_key
            && (self.ports.is_some() || self.source_ports.is_some())
        {
            let mut options = Map::new();
            if let Some((min, max)) = self.ports {
                options.insert(
                    "destination_port_range".into(),
                    json!({"min": min, "max": max}),
                );
            }
            if let Some((min, max)) = self.source_ports {
                options.insert("source_port_range".into(), json!({"min": min, "max": max}));
            }
            rule.insert(key.into(), Value::Object(options));
        }
        if let Some(d) = description {
            rule.insert("description".into(), json!(d));
        }
        Value::Object(rule)
    }
}

/// The sources of UDP 500 (IKE) and ESP: `network.internal_cidrs`, or every VCN CIDR and
/// every on-premises network. Canonical and sorted.
pub fn internal_cidrs(spec: &Spec) -> Vec<String> {
    let raw: Vec<&Cidr> = match &spec.network.internal_cidrs {
        Some(list) => list.iter().map(|c| &c.value).collect(),
        None => spec
            .regions
            .iter()
            .map(|r| &r.vcn_cidr.value)
            .chain(spec.network.on_premises.iter().map(|c| &c.value))
            .collect(),
    };
    let mut out: Vec<String> = raw.iter().map(|c| canonical_cidr(&c.raw)).collect();
    out.sort();
    out.dedup();
    out
}

/// The ingress rules of every region's security list: the guide's table, with UDP 500 (IKE)
/// and ESP from the internal networks, then `extra_ingress`. Every rule the guide lists is
/// stateful ("All rules should not be stateless").
///
/// The guide's table says UDP 500 and its screenshot shows TCP 500: IKE is UDP 500, so the
/// rule is UDP.
pub fn ingress_rules(spec: &Spec) -> Vec<Value> {
    let world = "0.0.0.0/0".to_owned();
    let station = canonical_cidr(&spec.management_station.raw);
    let mut rules: BTreeMap<RuleKey, Option<String>> = BTreeMap::new();
    let mut base = |protocol, ports: Option<(u16, u16)>, source: &str, description: &str| {
        let key = RuleKey {
            protocol,
            ports,
            source_ports: None,
            source: source.to_owned(),
            stateless: false,
        };
        rules.insert(key, Some(description.to_owned()));
    };
    base(
        Protocol::Tcp,
        Some((22, 22)),
        &station,
        "SSH from the management station",
    );
    base(
        Protocol::Tcp,
        Some((443, 443)),
        &world,
        "HTTPS: web app, API and conference join",
    );
    base(
        Protocol::Tcp,
        Some((8443, 8443)),
        &station,
        "Administrator interface from the management station",
    );
    base(Protocol::Tcp, Some((5060, 5060)), &world, "SIP");
    base(Protocol::Tcp, Some((5061, 5061)), &world, "SIP over TLS");
    base(Protocol::Udp, Some((40000, 49999)), &world, "Media (UDP)");
    base(Protocol::Tcp, Some((40000, 49999)), &world, "Media (TCP)");
    base(
        Protocol::Icmp,
        None,
        &station,
        "ICMP from the management station",
    );
    for cidr in internal_cidrs(spec) {
        rules.insert(
            RuleKey {
                protocol: Protocol::Udp,
                ports: Some((500, 500)),
                source_ports: Some((500, 500)),
                source: cidr.clone(),
                stateless: false,
            },
            Some("IKE between nodes (IPsec)".to_owned()),
        );
        rules.insert(
            RuleKey {
                protocol: Protocol::Esp,
                ports: None,
                source_ports: None,
                source: cidr,
                stateless: false,
            },
            Some("ESP between nodes (IPsec)".to_owned()),
        );
    }
    // Extra rules: a rule equal to a generated one keeps the generated description; two
    // equal extra rules keep the smallest description, so their order never matters.
    let mut extra: BTreeMap<RuleKey, BTreeSet<String>> = BTreeMap::new();
    for rule in &spec.network.extra_ingress {
        let ports = match &rule.ports {
            Some(p) => match parse_ports(&p.value) {
                Some(range) => Some(range),
                // A malformed range would open every port: leave the rule out (the checks
                // report `port-range-invalid` before anything is compiled).
                None => continue,
            },
            None => None,
        };
        let ports = match rule.protocol.value {
            Protocol::Tcp | Protocol::Udp => ports,
            _ => None,
        };
        let key = RuleKey {
            protocol: rule.protocol.value,
            ports,
            source_ports: None,
            source: canonical_cidr(&rule.source.raw),
            stateless: rule.stateless.as_ref().is_some_and(|s| s.value),
        };
        let descriptions = extra.entry(key).or_default();
        descriptions.extend(rule.description.iter().cloned());
    }
    for (key, descriptions) in extra {
        rules
            .entry(key)
            .or_insert_with(|| descriptions.into_iter().next());
    }
    rules
        .iter()
        .map(|(key, description)| key.to_value(description.as_deref()))
        .collect()
}

/// The egress rules: everything to everywhere, stateful (the guide: "There is no need to
/// modify the default Egress rules").
pub fn egress_rules() -> Vec<Value> {
    vec![json!({
        "protocol": "all",
        "destination": "0.0.0.0/0",
        "destination_type": "CIDR_BLOCK",
        "is_stateless": false,
    })]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(canonical_cidr(" 2001:DB8::/32 "), "2001:db8::/32");
        assert_eq!(canonical_cidr("nonsense"), "nonsense");
        let net: IpNet = "10.0.1.0/24".parse().unwrap();
        assert_eq!(netmask(&net).unwrap(), "255.255.255.0");
        assert_eq!(first_host(&net).unwrap(), "10.0.1.1");
        assert_eq!(first_host(&"10.0.0.5/32".parse().unwrap()), None);
        assert_eq!(parse_ports("443"), Some((443, 443)));
        assert_eq!(parse_ports(" 40000 - 49999 "), Some((40000, 49999)));
        assert_eq!(parse_ports("0"), None);
        assert_eq!(parse_ports("5-1"), None);
        assert_eq!(parse_ports("x"), None);
    }
}
