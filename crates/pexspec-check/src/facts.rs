//! Facts: every CIDR and address of the spec parsed once. A value that does not parse (or a
//! CIDR with host bits) is reported here, once, and is absent for every rule after: one
//! wrong value is one finding, never a cascade.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use pexspec_diagnostics::{Code, Diagnostic, Span};
use pexspec_spec::{Cidr, IpAddress, Sp, Spec};

/// The parsed CIDRs and addresses of a spec, keyed by the span of the value.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    nets: HashMap<Span, IpNet>,
    addrs: HashMap<Span, IpAddr>,
}

impl Facts {
    /// The network written at `value`, if it parsed and has no host bits.
    pub fn net(&self, value: &Sp<Cidr>) -> Option<IpNet> {
        self.nets.get(&value.span).copied()
    }

    /// The address written at `value`, if it parsed (and is of the family the field wants).
    pub fn addr(&self, value: &Sp<IpAddress>) -> Option<IpAddr> {
        self.addrs.get(&value.span).copied()
    }

    /// [`Facts::addr`] for an optional field.
    pub fn opt_addr(&self, value: Option<&Sp<IpAddress>>) -> Option<IpAddr> {
        value.and_then(|v| self.addr(v))
    }
}

/// Which address family a field wants.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
    Any,
}

/// An IPv4 address or block written with a leading zero in an octet (`010.0.0.0/16`,
/// `10.0.0.031`): the same text is read as decimal by some tools and as octal by others, so
/// pexspec refuses it in every field, with the decimal form it probably means.
fn leading_zero_fix(raw: &str) -> Option<String> {
    let (addr, rest) = match raw.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (raw, None),
    };
    if addr.contains(':') || !addr.contains('.') {
        return None;
    }
    let octets: Vec<&str> = addr.split('.').collect();
    if !octets.iter().any(|o| o.len() > 1 && o.starts_with('0')) {
        return None;
    }
    let fixed: Vec<String> = octets
        .iter()
        .map(|o| {
            let t = o.trim_start_matches('0');
            if t.is_empty() {
                "0".to_owned()
            } else {
                t.to_owned()
            }
        })
        .collect();
    let fixed = fixed.join(".");
    Some(match rest {
        Some(prefix) => format!("{fixed}/{prefix}"),
        None => fixed,
    })
}

fn leading_zero(raw: &str, span: Span, what: &str) -> Option<Diagnostic> {
    let fix = leading_zero_fix(raw)?;
    Some(
        Diagnostic::new(
            Code::InvalidValue,
            format!("`{raw}` has an octet with a leading zero ({what})"),
        )
        .with_primary(span, "leading zero")
        .with_help(format!(
            "write `{fix}`: some tools read a leading zero as octal, so pexspec accepts none"
        )),
    )
}

struct Collector<'a> {
    facts: Facts,
    out: &'a mut Vec<Diagnostic>,
}

impl Collector<'_> {
    fn cidr(&mut self, value: &Sp<Cidr>, what: &str, family: Family) {
        let raw = value.raw.trim();
        if let Some(d) = leading_zero(raw, value.span, what) {
            self.out.push(d);
            return;
        }
        let Some(net) = value.net() else {
            let help = if raw.contains('/') {
                "write an address and a prefix length, e.g. `10.0.0.0/16`".to_owned()
            } else {
                format!("add a prefix length, e.g. `{raw}/32` for one address")
            };
            self.out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`{raw}` is not a CIDR block ({what})"),
                )
                .with_primary(value.span, "not a CIDR block")
                .with_help(help),
            );
            return;
        };
        if (family == Family::V4 && !matches!(net, IpNet::V4(_)))
            || (family == Family::V6 && !matches!(net, IpNet::V6(_)))
        {
            let want = if family == Family::V4 { "IPv4" } else { "IPv6" };
            self.out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`{raw}` is not an {want} CIDR block ({what})"),
                )
                .with_primary(value.span, format!("expected {want}"))
                .with_help(format!("OCI wants an {want} block here")),
            );
            return;
        }
        let trunc = net.trunc();
        if trunc != net {
            self.out.push(
                Diagnostic::new(
                    Code::CidrHostBits,
                    format!("`{raw}` has host bits set ({what})"),
                )
                .with_primary(value.span, "host bits set")
                .with_help(format!("write the network address: `{trunc}`")),
            );
            return;
        }
        self.facts.nets.insert(value.span, net);
    }

    fn addr(&mut self, value: &Sp<IpAddress>, what: &str, family: Family) {
        let raw = value.raw.trim();
        if let Some(d) = leading_zero(raw, value.span, what) {
            self.out.push(d);
            return;
        }
        let parsed = value.addr();
        let ok = matches!(
            (parsed, family),
            (Some(IpAddr::V4(_)), Family::V4 | Family::Any)
                | (Some(IpAddr::V6(_)), Family::V6 | Family::Any)
        );
        if !ok {
            let want = match family {
                Family::V4 => "an IPv4 address, e.g. `10.0.1.31`",
                Family::V6 => "an IPv6 address, e.g. `2001:db8::31`",
                Family::Any => "an IP address, e.g. `10.0.1.31`",
            };
            let hint = if raw.contains('/') {
                " without a prefix length"
            } else {
                ""
            };
            self.out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`{raw}` is not a valid address ({what})"),
                )
                .with_primary(value.span, "not an address")
                .with_help(format!("write {want}{hint}")),
            );
            return;
        }
        if let Some(addr) = parsed {
            self.facts.addrs.insert(value.span, addr);
        }
    }
}

/// Parses every CIDR and address of `spec`, reporting the ones that do not parse.
pub(crate) fn collect(spec: &Spec, out: &mut Vec<Diagnostic>) -> Facts {
    let mut c = Collector {
        facts: Facts::default(),
        out,
    };
    c.cidr(&spec.management_station, "management_station", Family::Any);
    if let Some(internal) = &spec.network.internal_cidrs {
        for cidr in internal.iter() {
            c.cidr(cidr, "internal_cidrs", Family::Any);
        }
    }
    for cidr in &spec.network.on_premises {
        c.cidr(cidr, "on_premises", Family::V4);
    }
    for rule in &spec.network.extra_ingress {
        c.cidr(&rule.source, "extra_ingress source", Family::Any);
    }
    for region in spec.regions.iter() {
        c.cidr(&region.vcn_cidr, "vcn_cidr", Family::V4);
        c.cidr(&region.subnet_cidr, "subnet_cidr", Family::V4);
    }
    if let Some(m) = &spec.management_node {
        if let Some(ip) = &m.private_ip {
            c.addr(ip, "private_ip", Family::V4);
        }
        if let Some(ip) = &m.on_premises_address {
            c.addr(ip, "on_premises_address", Family::V4);
        }
    }
    for node in &spec.conferencing_nodes {
        if let Some(ip) = &node.private_ip {
            c.addr(ip, "private_ip", Family::V4);
        }
        if let Some(ip) = &node.ipv6_address {
            c.addr(ip, "ipv6_address", Family::V6);
        }
        if let Some(ip) = &node.ipv6_gateway {
            c.addr(ip, "ipv6_gateway", Family::V6);
        }
    }
    for dns in &spec.platform.dns_servers {
        c.addr(dns, "dns_servers", Family::Any);
    }
    c.facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_are_one_rule_for_blocks_and_addresses() {
        assert_eq!(
            leading_zero_fix("010.0.0.0/16").as_deref(),
            Some("10.0.0.0/16")
        );
        assert_eq!(leading_zero_fix("10.0.0.031").as_deref(), Some("10.0.0.31"));
        assert_eq!(
            leading_zero_fix("10.00.0.0/16").as_deref(),
            Some("10.0.0.0/16")
        );
        assert_eq!(leading_zero_fix("10.0.0.0/16"), None);
        assert_eq!(leading_zero_fix("10.0.0.0"), None);
        assert_eq!(leading_zero_fix("2001:db8::01"), None);
        let span = Span::new(0, 1);
        assert!(leading_zero("010.0.0.0/16", span, "vcn_cidr").is_some());
        assert!(leading_zero("10.0.0.031", span, "private_ip").is_some());
    }
}
