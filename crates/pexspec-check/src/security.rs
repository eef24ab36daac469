//! Security checks: who may reach the nodes (the management station and the extra ingress
//! rules), stateless rules, port ranges, and public IPs against the deployment mode.
//!
//! "Anywhere" is a source with prefix length 0 (`0.0.0.0/0` or `::/0`). A rule opens
//! TCP 22 (SSH) or TCP 8443 (the administration port, where a new Conferencing Node takes
//! its configuration file) when its protocol is `tcp` or `all` and its ports cover the port;
//! a `tcp` rule without `ports` covers every port, as an OCI rule without a destination port
//! range does. `management_station` is the source of pexspec's own rules for SSH, 8443 and
//! ICMP, so a station of `0.0.0.0/0` opens all three. Sources are also judged together:
//! `0.0.0.0/1` and `128.0.0.0/1` reaching one port open it to anywhere as well.

use std::fmt;

use ipnet::IpNet;
use pexspec_diagnostics::{Code, Diagnostic, Span};
use pexspec_spec::{Deployment, IngressRule, Protocol, Sp};

use crate::Ctx;

/// TCP port of SSH.
const SSH_PORT: u16 = 22;
/// TCP port of the nodes' administration page, where a new Conferencing Node takes its
/// configuration file.
const ADMIN_PORT: u16 = 8443;
/// `management-station-broad` for IPv4: a prefix shorter than this is broad.
const BROAD_V4: u8 = 16;
/// `management-station-broad` for IPv6: a prefix shorter than a /48 (the usual assignment
/// to one whole site) spans several sites.
const BROAD_V6: u8 = 48;

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    management_station_open(ctx);
    management_station_broad(ctx);
    extra_ingress(ctx);
    public_node_no_ip(ctx);
    private_node_public_ip(ctx);
}

/// An inclusive range of destination ports, `first <= last`, both in 1..=65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

/// Why a `ports` text is not a port or a port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortError {
    /// Nothing but whitespace.
    Empty,
    /// Several ports separated by commas.
    List,
    /// Not `N` or `N-M` with decimal digits.
    Malformed,
    /// A number outside 1..=65535 (saturated at `u32::MAX`).
    OutOfRange(u32),
    /// `N-M` with `N > M`.
    Reversed(u16, u16),
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::Empty => f.write_str("it is empty"),
            PortError::List => f.write_str("it lists several ports"),
            PortError::Malformed => f.write_str("it is not a port or a port range"),
            PortError::OutOfRange(n) => write!(f, "port `{n}` is outside 1-65535"),
            PortError::Reversed(a, b) => {
                write!(f, "the range ends at `{b}`, before it starts at `{a}`")
            }
        }
    }
}

/// Parses `"N"` or `"N-M"` (decimal digits only, no spaces, 1 <= N <= M <= 65535).
pub(crate) fn parse_ports(text: &str) -> Result<PortRange, PortError> {
    if text.trim().is_empty() {
        return Err(PortError::Empty);
    }
    if text.contains(',') {
        return Err(PortError::List);
    }
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => {
            let p = port(text)?;
            (p, p)
        }
    };
    if first > last {
        return Err(PortError::Reversed(first, last));
    }
    Ok(PortRange { first, last })
}

fn port(text: &str) -> Result<u16, PortError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::Malformed);
    }
    // Digits only: the only parse failure left is overflow.
    let n = text.parse::<u32>().unwrap_or(u32::MAX);
    match u16::try_from(n) {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(PortError::OutOfRange(n)),
    }
}

/// Whether `net` is "anywhere": `0.0.0.0/0` or `::/0`.
fn is_anywhere(net: IpNet) -> bool {
    net.prefix_len() == 0
}

/// A port pexspec guards, with the words used for it.
#[derive(Clone, Copy)]
struct Guarded {
    port: u16,
    code: Code,
    what: &'static str,
}

const GUARDED: [Guarded; 2] = [
    Guarded {
        port: SSH_PORT,
        code: Code::SshOpenToWorld,
        what: "SSH (TCP 22)",
    },
    Guarded {
        port: ADMIN_PORT,
        code: Code::AdminOpenToWorld,
        what: "the administration port (TCP 8443)",
    },
];

const RESTRICT_STATION: &str = "the management station should be restricted to a single IP address or subnet for SSH access only";

/// `ssh-open-to-world`, `admin-open-to-world`, `icmp-open-to-world` through
/// `management_station`: pexspec opens TCP 22, TCP 8443 and ICMP to it.
fn management_station_open(ctx: &mut Ctx<'_>) {
    let station = &ctx.spec.management_station;
    let Some(net) = ctx.facts.net(station) else {
        return;
    };
    if !is_anywhere(net) {
        return;
    }
    let raw = station.raw.trim();
    let help = format!(
        "set `management_station` to the administrators' network, e.g. `192.0.2.0/24`: {RESTRICT_STATION}"
    );
    for g in GUARDED {
        ctx.report(
            Diagnostic::new(
                g.code,
                format!("`management_station` `{raw}` opens {} to anywhere", g.what),
            )
            .with_primary(station.span, "anywhere")
            .with_help(help.clone()),
        );
    }
    ctx.report(
        Diagnostic::new(
            Code::IcmpOpenToWorld,
            format!("`management_station` `{raw}` opens ICMP to anywhere"),
        )
        .with_primary(station.span, "anywhere")
        .with_help(help),
    );
}

/// `management-station-broad`: a station shorter than /16 (IPv4) or /48 (IPv6). A /0 is
/// reported as open to the world instead.
fn management_station_broad(ctx: &mut Ctx<'_>) {
    let station = &ctx.spec.management_station;
    let Some(net) = ctx.facts.net(station) else {
        return;
    };
    let len = net.prefix_len();
    let bound = match net {
        IpNet::V4(_) => BROAD_V4,
        IpNet::V6(_) => BROAD_V6,
    };
    if is_anywhere(net) || len >= bound {
        return;
    }
    let label = match net {
        IpNet::V4(_) => format!(
            "a /{len}: {} addresses",
            grouped(1u64 << (32 - u32::from(len)))
        ),
        IpNet::V6(_) => format!("a /{len}, broader than one site's /48"),
    };
    ctx.report(
        Diagnostic::new(
            Code::ManagementStationBroad,
            format!(
                "`management_station` `{net}` is broader than a /{bound}: SSH, the administration port 8443 and ICMP are open to all of it"
            ),
        )
        .with_primary(station.span, label)
        .with_help(format!(
            "narrow `management_station` to the administrators' workstations: {RESTRICT_STATION}"
        )),
    );
}

/// `n` with a comma between groups of three digits: `16,777,216`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What destination ports a rule reaches, as far as the guarded ports are concerned.
#[derive(Clone, Copy)]
enum Reach {
    /// Every port: `all`, or `tcp` without `ports`.
    Every,
    /// The given range.
    Range(PortRange),
    /// `ports` is malformed (reported by `port-range-invalid`): assume nothing.
    Unknown,
}

/// `port-range-invalid`, `stateless-rule`, and the open-to-world codes for each rule of
/// `network.extra_ingress`.
fn extra_ingress(ctx: &mut Ctx<'_>) {
    let mut reaches = Vec::with_capacity(ctx.spec.network.extra_ingress.len());
    for rule in &ctx.spec.network.extra_ingress {
        let ports = port_range_invalid(ctx, rule);
        stateless_rule(ctx, rule);
        open_to_world(ctx, rule, ports);
        reaches.push((rule, ports));
    }
    world_in_pieces(ctx, &reaches);
}

/// The first and last address of `net`, as numbers of its family.
fn bounds(net: IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Whether the ranges `[first, last]` together cover `0..=max`: sorted by first address
/// and swept once, O(n log n).
fn covers_all(mut ranges: Vec<(u128, u128)>, max: u128) -> bool {
    ranges.sort_unstable();
    let mut next = 0u128; // The first address not covered yet.
    for (first, last) in ranges {
        if first > next {
            return false;
        }
        if last >= next {
            if last == max {
                return true;
            }
            next = last + 1;
        }
    }
    false
}

/// The open-to-world codes for sources that are each narrower than anywhere but together
/// cover a whole address family (`0.0.0.0/1` and `128.0.0.0/1`): OCI allows what any rule
/// allows, so what counts is the union of the sources that reach a port. The station and
/// every extra rule that reaches the port take part; a single anywhere source was reported
/// by its own rule.
fn world_in_pieces(ctx: &mut Ctx<'_>, rules: &[(&IngressRule, Reach)]) {
    let station = ctx.facts.net(&ctx.spec.management_station);
    let reaches_tcp = |reach: Reach, protocol: Protocol, port: u16| {
        matches!(protocol, Protocol::Tcp | Protocol::All)
            && match reach {
                Reach::Every => true,
                Reach::Range(r) => r.contains(port),
                Reach::Unknown => false,
            }
    };
    let targets: [(Option<u16>, Code, &str); 3] = [
        (Some(SSH_PORT), Code::SshOpenToWorld, "SSH (TCP 22)"),
        (
            Some(ADMIN_PORT),
            Code::AdminOpenToWorld,
            "the administration port (TCP 8443)",
        ),
        (None, Code::IcmpOpenToWorld, "ICMP"),
    ];
    let mut found = Vec::new();
    for (port, code, what) in targets {
        // (net, span) of every source that reaches the target.
        let mut sources: Vec<(IpNet, Span)> = Vec::new();
        if let Some(net) = station {
            sources.push((net, ctx.spec.management_station.span));
        }
        for (rule, reach) in rules {
            let protocol = rule.protocol.value;
            let reaches = match port {
                Some(p) => reaches_tcp(*reach, protocol, p),
                None => matches!(protocol, Protocol::Icmp | Protocol::All),
            };
            if let (true, Some(net)) = (reaches, ctx.facts.net(&rule.source)) {
                sources.push((net, rule.source.span));
            }
        }
        for v4 in [true, false] {
            let family: Vec<&(IpNet, Span)> = sources
                .iter()
                .filter(|(n, _)| matches!(n, IpNet::V4(_)) == v4)
                .collect();
            if family.len() < 2 || family.iter().any(|(n, _)| is_anywhere(*n)) {
                continue;
            }
            let max = if v4 { u128::from(u32::MAX) } else { u128::MAX };
            if !covers_all(family.iter().map(|(n, _)| bounds(*n)).collect(), max) {
                continue;
            }
            let anywhere = if v4 { "0.0.0.0/0" } else { "::/0" };
            let mut spans: Vec<Span> = family.iter().map(|(_, s)| *s).collect();
            spans.sort_unstable();
            let mut d = Diagnostic::new(
                code,
                format!(
                    "{} sources together open {what} to anywhere (they cover `{anywhere}`)",
                    spans.len()
                ),
            )
            .with_primary(spans[0], "together with the others: anywhere");
            for span in spans.iter().skip(1).take(4) {
                d = d.with_secondary(*span, "also reaches it");
            }
            found.push(d.with_help(
                "narrow the sources to the networks that need them: OCI allows what any rule allows, so ranges that add up to the whole internet open it as `0.0.0.0/0` would",
            ));
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// `port-range-invalid`: `ports` not `N` or `N-M` within 1-65535, or `ports` on a protocol
/// that has none. Returns the parsed range of a valid `tcp`/`udp` rule.
fn port_range_invalid(ctx: &mut Ctx<'_>, rule: &IngressRule) -> Reach {
    let protocol = rule.protocol.value;
    let Some(ports) = &rule.ports else {
        return Reach::Every;
    };
    if !matches!(protocol, Protocol::Tcp | Protocol::Udp) {
        let name = protocol_name(protocol);
        ctx.report(
            Diagnostic::new(
                Code::PortRangeInvalid,
                format!("`ports` means nothing for protocol `{name}`"),
            )
            .with_primary(ports.span, "ports given")
            .with_secondary(rule.protocol.span, format!("`{name}` has no ports"))
            .with_help(match protocol {
                Protocol::All => "remove `ports` (the rule allows every protocol and port), or set `protocol: tcp` or `udp` to allow only these ports",
                _ => "remove `ports`: only `tcp` and `udp` rules have destination ports",
            }),
        );
        return Reach::Every;
    }
    match parse_ports(&ports.value) {
        Ok(range) => Reach::Range(range),
        Err(err) => {
            let raw = ports.value.as_str();
            let help = match err {
                PortError::Empty => {
                    "omit `ports` to allow every port, or write one port, e.g. `443`, or a range, e.g. `40000-49999`".to_owned()
                }
                PortError::List => {
                    "write one rule per port or range: a security rule has one destination port range".to_owned()
                }
                PortError::Malformed if raw.chars().any(char::is_whitespace) => format!(
                    "write the port or range without spaces, e.g. `{}`",
                    raw.split_whitespace().collect::<String>()
                ),
                PortError::Malformed => {
                    "write one port, e.g. `443`, or a range, e.g. `40000-49999`; omit `ports` to allow every port".to_owned()
                }
                PortError::OutOfRange(_) => "use ports from 1 to 65535".to_owned(),
                PortError::Reversed(a, b) => format!("write the lower port first: `{b}-{a}`"),
            };
            let message = if err == PortError::Empty {
                "`ports` is empty".to_owned()
            } else {
                format!("`ports` `{raw}` is invalid: {err}")
            };
            ctx.report(
                Diagnostic::new(Code::PortRangeInvalid, message)
                    .with_primary(
                        ports.span,
                        match err {
                            PortError::Empty => "empty",
                            PortError::List => "several ports",
                            PortError::Malformed => "not `N` or `N-M`",
                            PortError::OutOfRange(_) => "outside 1-65535",
                            PortError::Reversed(..) => "backwards",
                        },
                    )
                    .with_help(help),
            );
            Reach::Unknown
        }
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Icmp => "icmp",
        Protocol::Esp => "esp",
        Protocol::All => "all",
    }
}

/// `stateless-rule`: the guide: "All rules should not be stateless".
fn stateless_rule(ctx: &mut Ctx<'_>, rule: &IngressRule) {
    let Some(stateless) = &rule.stateless else {
        return;
    };
    if !stateless.value {
        return;
    }
    ctx.report(
        Diagnostic::new(
            Code::StatelessRule,
            format!(
                "the extra ingress rule from `{}` is stateless",
                rule.source.raw.trim()
            ),
        )
        .with_primary(stateless.span, "stateless")
        .with_help(
            "remove `stateless: true`: all rules should not be stateless; a stateful rule lets the replies through",
        ),
    );
}

/// `ssh-open-to-world`, `admin-open-to-world`, `icmp-open-to-world` through one extra
/// ingress rule.
fn open_to_world(ctx: &mut Ctx<'_>, rule: &IngressRule, reach: Reach) {
    let Some(net) = ctx.facts.net(&rule.source) else {
        return;
    };
    if !is_anywhere(net) {
        return;
    }
    let protocol = rule.protocol.value;
    let source = rule.source.raw.trim();
    if matches!(protocol, Protocol::Tcp | Protocol::All) {
        for g in GUARDED {
            // Where to show which ports the rule reaches.
            let (span, label): (Span, String) = match (&reach, protocol, &rule.ports) {
                (Reach::Unknown, ..) => continue,
                (Reach::Range(r), _, Some(ports)) if r.contains(g.port) => {
                    (ports.span, format!("includes port {}", g.port))
                }
                (Reach::Range(_), ..) => continue,
                (Reach::Every, Protocol::All, _) => {
                    (rule.protocol.span, "every protocol and port".to_owned())
                }
                (Reach::Every, _, _) => (
                    rule.protocol.span,
                    "`tcp` without `ports`: every port".to_owned(),
                ),
            };
            let fix = if g.port == SSH_PORT {
                "pexspec already opens TCP 22 to `management_station`"
            } else {
                "pexspec already opens TCP 8443 to `management_station`"
            };
            ctx.report(
                Diagnostic::new(
                    g.code,
                    format!(
                        "an extra ingress rule opens {} to anywhere (`{source}`)",
                        g.what
                    ),
                )
                .with_primary(rule.source.span, "anywhere")
                .with_secondary(span, label)
                .with_help(format!(
                    "narrow `source` to the networks that need this rule, or remove the rule: {fix}"
                )),
            );
        }
    }
    if matches!(protocol, Protocol::Icmp | Protocol::All) {
        ctx.report(
            Diagnostic::new(
                Code::IcmpOpenToWorld,
                format!("an extra ingress rule opens ICMP to anywhere (`{source}`)"),
            )
            .with_primary(rule.source.span, "anywhere")
            .with_secondary(
                rule.protocol.span,
                if protocol == Protocol::All {
                    "every protocol, ICMP included"
                } else {
                    "every ICMP type"
                },
            )
            .with_help(
                "narrow `source` to the networks that need ICMP, or remove the rule: pexspec already allows ICMP from `management_station`",
            ),
        );
    }
}

/// `public-node-no-ip`: in a public deployment every Conferencing Node needs
/// `public_ip: true`. A hybrid deployment may mix private and public nodes.
fn public_node_no_ip(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    if spec.deployment.value != Deployment::Public {
        return;
    }
    for node in &spec.conferencing_nodes {
        let (span, label) = match &node.public_ip {
            Some(ip) if ip.value => continue,
            Some(ip) => (ip.span, "no public IP"),
            None => (node.name.span, "no `public_ip: true`"),
        };
        ctx.report(
            Diagnostic::new(
                Code::PublicNodeNoIp,
                format!(
                    "Conferencing Node `{}` has no public IP in a public deployment",
                    node.name.value
                ),
            )
            .with_primary(span, label)
            .with_secondary(spec.deployment.span, "public deployment")
            .with_help(format!(
                "set `public_ip: true` on `{}`: you should assign a public address to all nodes in a public cloud deployment; use `deployment: hybrid` to mix private and public nodes",
                node.name.value
            )),
        );
    }
}

/// `private-node-public-ip`: in a private deployment no node should have a public IP.
fn private_node_public_ip(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    if spec.deployment.value != Deployment::Private {
        return;
    }
    let mut nodes: Vec<(&str, &Sp<String>, &Sp<bool>)> = Vec::new();
    if let Some(m) = &spec.management_node
        && let Some(ip) = &m.public_ip
    {
        nodes.push(("Management Node", &m.name, ip));
    }
    for node in &spec.conferencing_nodes {
        if let Some(ip) = &node.public_ip {
            nodes.push(("Conferencing Node", &node.name, ip));
        }
    }
    for (kind, name, ip) in nodes {
        if !ip.value {
            continue;
        }
        ctx.report(
            Diagnostic::new(
                Code::PrivateNodePublicIp,
                format!(
                    "{kind} `{}` has a public IP in a private deployment",
                    name.value
                ),
            )
            .with_primary(ip.span, "public IP")
            .with_secondary(spec.deployment.span, "private deployment")
            .with_help(
                "remove `public_ip: true`: in a private deployment every node is reached over the site-to-site VPN; use `deployment: hybrid` for nodes that face the internet",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: u16, last: u16) -> Result<PortRange, PortError> {
        Ok(PortRange { first, last })
    }

    #[test]
    fn ports_accept_one_port_and_ranges() {
        assert_eq!(parse_ports("443"), range(443, 443));
        assert_eq!(parse_ports("1"), range(1, 1));
        assert_eq!(parse_ports("65535"), range(65535, 65535));
        assert_eq!(parse_ports("40000-49999"), range(40000, 49999));
        assert_eq!(parse_ports("1-65535"), range(1, 65535));
        assert_eq!(parse_ports("22-22"), range(22, 22));
        assert_eq!(parse_ports("0443"), range(443, 443));
    }

    #[test]
    fn ports_reject_what_is_not_n_or_n_m() {
        assert_eq!(parse_ports(""), Err(PortError::Empty));
        assert_eq!(parse_ports("   "), Err(PortError::Empty));
        assert_eq!(parse_ports("443,8443"), Err(PortError::List));
        assert_eq!(parse_ports("all"), Err(PortError::Malformed));
        assert_eq!(parse_ports("*"), Err(PortError::Malformed));
        assert_eq!(parse_ports("-22"), Err(PortError::Malformed));
        assert_eq!(parse_ports("22-"), Err(PortError::Malformed));
        assert_eq!(parse_ports("1-2-3"), Err(PortError::Malformed));
        assert_eq!(parse_ports("40000 - 49999"), Err(PortError::Malformed));
        assert_eq!(parse_ports(" 443"), Err(PortError::Malformed));
        assert_eq!(parse_ports("+443"), Err(PortError::Malformed));
        assert_eq!(parse_ports("４４３"), Err(PortError::Malformed));
    }

    #[test]
    fn ports_reject_out_of_range_and_reversed() {
        assert_eq!(parse_ports("0"), Err(PortError::OutOfRange(0)));
        assert_eq!(parse_ports("65536"), Err(PortError::OutOfRange(65536)));
        assert_eq!(parse_ports("0-80"), Err(PortError::OutOfRange(0)));
        assert_eq!(
            parse_ports("99999999999999999999"),
            Err(PortError::OutOfRange(u32::MAX))
        );
        assert_eq!(
            parse_ports("5000-4000"),
            Err(PortError::Reversed(5000, 4000))
        );
    }

    #[test]
    fn ranges_contain_their_ends() {
        let r = PortRange {
            first: 22,
            last: 8443,
        };
        assert!(r.contains(22) && r.contains(8443) && r.contains(443));
        assert!(!r.contains(21) && !r.contains(8444));
    }

    #[test]
    fn anywhere_is_prefix_zero_in_either_family() {
        for (text, anywhere) in [
            ("0.0.0.0/0", true),
            ("::/0", true),
            ("0.0.0.0/1", false),
            ("192.0.2.0/24", false),
        ] {
            let net: IpNet = text.parse().unwrap();
            assert_eq!(is_anywhere(net), anywhere, "{text}");
        }
    }
}

/// Whole-spec cases: each loads a variant of the fixtures' base spec and looks at the codes
/// this family reports.
#[cfg(test)]
mod spec_tests {
    use crate::{Mode, check};

    const BASE: &str = include_str!("../tests/fixtures/_base.yaml");

    fn codes(yaml: &str) -> Vec<&'static str> {
        let loaded = pexspec_spec::load("test.yaml", yaml, std::path::PathBuf::from("."));
        assert!(loaded.spec.is_some(), "{:?}", loaded.diagnostics);
        check(&loaded, Mode::Lint)
            .iter()
            .map(|d| d.code().as_str())
            .filter(|c| !matches!(*c, "file-missing" | "ssh-key-invalid"))
            .collect()
    }

    fn with_rule(rule: &str) -> String {
        BASE.replacen(
            "regions:\n",
            &format!("network:\n  extra_ingress:\n    - {rule}\n\nregions:\n"),
            1,
        )
    }

    fn station(cidr: &str) -> String {
        BASE.replacen(
            "management_station: 192.0.2.0/24",
            &format!("management_station: \"{cidr}\""),
            1,
        )
    }

    #[test]
    fn sources_that_add_up_to_the_world_open_it() {
        let halves = with_rule(
            "{ source: 0.0.0.0/1, protocol: tcp, ports: \"22\" }\n    - { source: 128.0.0.0/1, protocol: tcp, ports: \"22\" }",
        );
        assert_eq!(codes(&halves), vec!["ssh-open-to-world"]);
        // A gap (one address) and different ports are not the world.
        let gap = with_rule(
            "{ source: 0.0.0.0/1, protocol: tcp, ports: \"22\" }\n    - { source: 128.0.0.1/32, protocol: tcp, ports: \"22\" }",
        );
        assert!(codes(&gap).is_empty(), "{:?}", codes(&gap));
        let ports = with_rule(
            "{ source: 0.0.0.0/1, protocol: tcp, ports: \"22\" }\n    - { source: 128.0.0.0/1, protocol: tcp, ports: \"443\" }",
        );
        assert!(codes(&ports).is_empty());
        // The station takes part: half the world through it, the other half by a rule.
        let text = station("0.0.0.0/1").replacen(
            "regions:\n",
            "network:\n  extra_ingress:\n    - { source: 128.0.0.0/1, protocol: icmp }\n\nregions:\n",
            1,
        );
        assert!(
            codes(&text).contains(&"icmp-open-to-world"),
            "{:?}",
            codes(&text)
        );
        assert!(!codes(&text).contains(&"ssh-open-to-world"));
    }

    #[test]
    fn coverage_is_a_sweep_over_sorted_ranges() {
        assert!(super::covers_all(vec![(0, 9)], 9));
        assert!(super::covers_all(vec![(5, 9), (0, 4)], 9));
        assert!(super::covers_all(vec![(0, 6), (2, 3), (4, 9)], 9));
        assert!(!super::covers_all(vec![(0, 3), (5, 9)], 9));
        assert!(!super::covers_all(vec![(1, 9)], 9));
        assert!(!super::covers_all(vec![], 9));
        assert!(super::covers_all(
            vec![(0, u128::MAX / 2), (u128::MAX / 2 + 1, u128::MAX)],
            u128::MAX
        ));
    }

    #[test]
    fn a_station_open_to_the_world_opens_ssh_admin_and_icmp_but_is_not_also_broad() {
        let mut got = codes(&station("0.0.0.0/0"));
        got.sort_unstable();
        assert_eq!(
            got,
            vec![
                "admin-open-to-world",
                "icmp-open-to-world",
                "ssh-open-to-world"
            ]
        );
        assert_eq!(codes(&station("::/0")).len(), 3);
    }

    #[test]
    fn broad_stations_by_family() {
        assert_eq!(
            codes(&station("10.0.0.0/15")),
            vec!["management-station-broad"]
        );
        assert!(codes(&station("10.0.0.0/16")).is_empty());
        assert_eq!(
            codes(&station("2001:db8::/32")),
            vec!["management-station-broad"]
        );
        assert!(codes(&station("2001:db8:1::/48")).is_empty());
        assert!(codes(&station("192.0.2.10/32")).is_empty());
    }

    #[test]
    fn rules_from_anywhere_by_protocol_and_ports() {
        let sorted = |rule: &str| {
            let mut c = codes(&with_rule(rule));
            c.sort_unstable();
            c
        };
        assert_eq!(
            sorted("{ source: 0.0.0.0/0, protocol: tcp }"),
            vec!["admin-open-to-world", "ssh-open-to-world"]
        );
        assert_eq!(
            sorted("{ source: 0.0.0.0/0, protocol: tcp, ports: \"1-65535\" }"),
            vec!["admin-open-to-world", "ssh-open-to-world"]
        );
        assert_eq!(
            sorted("{ source: 0.0.0.0/0, protocol: all }"),
            vec![
                "admin-open-to-world",
                "icmp-open-to-world",
                "ssh-open-to-world"
            ]
        );
        assert_eq!(
            sorted("{ source: 0.0.0.0/0, protocol: all, ports: \"443\" }"),
            vec![
                "admin-open-to-world",
                "icmp-open-to-world",
                "port-range-invalid",
                "ssh-open-to-world"
            ]
        );
        // A malformed range is one finding: nothing is guessed about what it would open.
        assert_eq!(
            sorted("{ source: 0.0.0.0/0, protocol: tcp, ports: \"20-ssh\" }"),
            vec!["port-range-invalid"]
        );
        assert!(sorted("{ source: 0.0.0.0/0, protocol: udp, ports: \"22\" }").is_empty());
        assert!(sorted("{ source: 0.0.0.0/0, protocol: esp }").is_empty());
        assert!(sorted("{ source: 0.0.0.0/1, protocol: tcp, ports: \"22\" }").is_empty());
        assert_eq!(
            sorted("{ source: 192.0.2.0/24, protocol: icmp, ports: \"8\" }"),
            vec!["port-range-invalid"]
        );
        // A malformed source is reported once, by the facts.
        assert_eq!(
            sorted("{ source: anywhere, protocol: tcp, ports: \"22\" }"),
            vec!["invalid-value"]
        );
    }

    #[test]
    fn public_ips_by_deployment() {
        let hybrid_private_cn = BASE
            .replacen("deployment: public", "deployment: hybrid", 1)
            .replacen("    public_ip: true\n", "    public_ip: false\n", 1);
        assert!(
            !codes(&hybrid_private_cn).contains(&"public-node-no-ip"),
            "hybrid may mix"
        );
        let private_mn = BASE
            .replacen("deployment: public", "deployment: private", 1)
            .replacen("    public_ip: true\n", "", 1)
            .replacen(
                "  private_ip: 10.0.1.10\n",
                "  private_ip: 10.0.1.10\n  public_ip: true\n",
                1,
            );
        assert_eq!(codes(&private_mn), vec!["private-node-public-ip"]);
        let public_false = BASE.replacen("    public_ip: true\n", "    public_ip: false\n", 1);
        assert_eq!(codes(&public_false), vec!["public-node-no-ip"]);
    }

    #[test]
    fn big_numbers_are_grouped() {
        assert_eq!(super::grouped(1), "1");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1000), "1,000");
        assert_eq!(super::grouped(16_777_216), "16,777,216");
    }
}
