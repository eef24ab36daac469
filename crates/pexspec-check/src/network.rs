//! Network checks: CIDR sizes and overlaps, subnets inside VCNs, node addresses inside
//! subnets and clear of OCI's reserved addresses, regions known and declared once.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;
use pexspec_diagnostics::{Code, Diagnostic, Span};
use pexspec_spec::{IpAddress, Sp};

use crate::Ctx;
use crate::regions::{closest_region, is_oci_region};

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    regions_known_and_unique(ctx);
    vcn_cidr_size(ctx);
    vcn_cidr_overlap(ctx);
    on_premises_overlap(ctx);
    let misplaced = subnet_outside_vcn(ctx);
    node_addresses(ctx, &misplaced);
    subnet_too_small(ctx, &misplaced);
    internal_cidr_gap(ctx);
}

/// At most this many distinct undeclared region names get a did-you-mean, so a spec of
/// thousands of typos stays linear.
const MAX_GUESSES: usize = 64;

/// An inclusive address range as 128-bit integers (IPv4 mapped into the low bits).
fn range(net: IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()).into(),
            u32::from(n.broadcast()).into(),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// `unknown-region`, `duplicate-region`, `region-not-declared`.
fn regions_known_and_unique(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for region in spec.regions.iter() {
        let name = region.name.value.as_str();
        if !is_oci_region(name) {
            ctx.report(unknown_region(&region.name, "in `regions`"));
        }
        if let Some(&first) = seen.get(name) {
            ctx.ambiguous_regions.insert(name.to_owned());
            ctx.report(
                Diagnostic::new(
                    Code::DuplicateRegion,
                    format!("region `{name}` is listed twice"),
                )
                .with_primary(region.name.span, "listed again here")
                .with_secondary(first, "first listed here")
                .with_help("list each region once; a region has one VCN and one subnet"),
            );
        } else {
            seen.insert(name, region.name.span);
        }
    }
    if !is_oci_region(&spec.oci.home_region.value) {
        ctx.report(unknown_region(&spec.oci.home_region, "as the home region"));
    }
    let declared = |name: &str| seen.contains_key(name);
    let mut guesses: HashMap<&str, Option<&str>> = HashMap::new();
    let mut missing = Vec::new();
    if let Some(region) = spec
        .management_node
        .as_ref()
        .and_then(|m| m.region.as_ref())
    {
        missing.push(region);
    }
    missing.extend(spec.conferencing_nodes.iter().map(|n| &n.region));
    for region in missing {
        if declared(&region.value) {
            continue;
        }
        // A typo of a declared region (`uk-london1` for `uk-london-1`) gets a did-you-mean;
        // the declared names are few, and at most MAX_GUESSES distinct typos are compared.
        let guess = if guesses.len() < MAX_GUESSES || guesses.contains_key(region.value.as_str()) {
            *guesses.entry(region.value.as_str()).or_insert_with(|| {
                pexspec_diagnostics::closest(&region.value, seen.keys().copied(), 0.85)
            })
        } else {
            None
        };
        let help = match guess {
            Some(declared) => format!("did you mean `{declared}`, declared in `regions`?"),
            None => format!(
                "add `{}` to `regions` with its `vcn_cidr` and `subnet_cidr`, or use a declared region",
                region.value
            ),
        };
        let d = Diagnostic::new(
            Code::RegionNotDeclared,
            format!("region `{}` is not declared in `regions`", region.value),
        )
        .with_primary(region.span, "not in `regions`")
        .with_secondary(spec.regions.span, "declared regions")
        .with_help(help);
        ctx.report(d);
    }
}

fn unknown_region(name: &Sp<String>, context: &str) -> Diagnostic {
    let help = match closest_region(&name.value) {
        Some(guess) => format!("did you mean `{guess}`?"),
        None => "use an OCI region identifier such as `eu-frankfurt-1` (`oci iam region list`)"
            .to_owned(),
    };
    Diagnostic::new(
        Code::UnknownRegion,
        format!("`{}` is not an OCI region identifier {context}", name.value),
    )
    .with_primary(name.span, "unknown region")
    .with_help(help)
}

/// `vcn-cidr-size`: OCI allows VCN blocks from /16 to /30.
fn vcn_cidr_size(ctx: &mut Ctx<'_>) {
    for region in ctx.spec.regions.iter() {
        let Some(net) = ctx.facts.net(&region.vcn_cidr) else {
            continue;
        };
        let len = net.prefix_len();
        if !(16..=30).contains(&len) {
            let help = if len < 16 {
                "split the range: OCI's largest VCN block is a /16"
            } else {
                "use a larger block: OCI's smallest VCN block is a /30"
            };
            ctx.report(
                Diagnostic::new(
                    Code::VcnCidrSize,
                    format!("VCN CIDR `{net}` is a /{len}; OCI allows /16 to /30"),
                )
                .with_primary(region.vcn_cidr.span, format!("a /{len}"))
                .with_help(help),
            );
        }
    }
}

/// `vcn-cidr-overlap`, in O(n log n): sort the VCN blocks by first address and sweep,
/// keeping the block that reaches furthest so far; a block that starts inside it overlaps it.
fn vcn_cidr_overlap(ctx: &mut Ctx<'_>) {
    let mut blocks: Vec<(u128, u128, IpNet, &Sp<String>, Span)> = ctx
        .unique_regions()
        .into_iter()
        .filter_map(|r| {
            let net = ctx.facts.net(&r.vcn_cidr)?;
            let (lo, hi) = range(net);
            Some((lo, hi, net, &r.name, r.vcn_cidr.span))
        })
        .collect();
    blocks.sort_by_key(|b| (b.0, std::cmp::Reverse(b.1), b.4));
    let mut furthest: Option<(u128, IpNet, &Sp<String>, Span)> = None;
    let mut found = Vec::new();
    for (lo, hi, net, name, span) in blocks {
        match furthest {
            Some((end, other, other_name, other_span)) if lo <= end => {
                found.push(
                    Diagnostic::new(
                        Code::VcnCidrOverlap,
                        format!(
                            "VCN CIDR `{net}` of `{}` overlaps `{other}` of `{}`",
                            name.value, other_name.value
                        ),
                    )
                    .with_primary(span, "this range")
                    .with_secondary(other_span, "overlaps this")
                    .with_help("give every region its own range: all regions of a Pexip installation need non-overlapping CIDR ranges"),
                );
                if hi > end {
                    furthest = Some((hi, net, name, span));
                }
            }
            _ => furthest = Some((hi, net, name, span)),
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// A block in the sweep of `on-premises-overlap`: (first, last, is a VCN, the network, its
/// span, its region).
type Block<'a> = (u128, u128, bool, IpNet, Span, Option<&'a str>);

/// `on-premises-overlap`: a VCN block that overlaps a corporate network behind the VPN.
/// Both lists are swept together after sorting, so the cost is O((n + m) log(n + m)).
fn on_premises_overlap(ctx: &mut Ctx<'_>) {
    let mut items: Vec<Block<'_>> = Vec::new();
    for region in ctx.unique_regions() {
        if let Some(net) = ctx.facts.net(&region.vcn_cidr) {
            let (lo, hi) = range(net);
            items.push((
                lo,
                hi,
                true,
                net,
                region.vcn_cidr.span,
                Some(region.name.value.as_str()),
            ));
        }
    }
    for cidr in &ctx.spec.network.on_premises {
        if let Some(net) = ctx.facts.net(cidr) {
            let (lo, hi) = range(net);
            items.push((lo, hi, false, net, cidr.span, None));
        }
    }
    items.sort_by_key(|i| (i.0, std::cmp::Reverse(i.1), i.4));
    // The furthest-reaching block of each kind seen so far.
    let mut last_vcn: Option<(u128, IpNet, Span, Option<&str>)> = None;
    let mut last_prem: Option<(u128, IpNet, Span)> = None;
    let mut found = Vec::new();
    for (lo, hi, is_vcn, net, span, region) in items {
        if is_vcn {
            if let Some((end, prem, prem_span)) = last_prem
                && lo <= end
            {
                found.push(prem_overlap(net, span, region, prem, prem_span));
            }
            if last_vcn.is_none_or(|v| hi > v.0) {
                last_vcn = Some((hi, net, span, region));
            }
        } else {
            if let Some((end, vcn, vcn_span, vcn_region)) = last_vcn
                && lo <= end
            {
                found.push(prem_overlap(vcn, vcn_span, vcn_region, net, span));
            }
            if last_prem.is_none_or(|p| hi > p.0) {
                last_prem = Some((hi, net, span));
            }
        }
    }
    for d in found {
        ctx.report(d);
    }
}

fn prem_overlap(
    vcn: IpNet,
    vcn_span: Span,
    region: Option<&str>,
    prem: IpNet,
    prem_span: Span,
) -> Diagnostic {
    Diagnostic::new(
        Code::OnPremisesOverlap,
        format!(
            "VCN CIDR `{vcn}` of `{}` overlaps the on-premises network `{prem}`",
            region.unwrap_or("?")
        ),
    )
    .with_primary(vcn_span, "this VCN range")
    .with_secondary(prem_span, "overlaps this on-premises network")
    .with_help(
        "choose a VCN range that is not used behind the VPN: routes to the two would collide",
    )
}

/// `subnet-outside-vcn`. Returns the regions whose subnet is misplaced: their node
/// addresses are not judged against it (one wrong subnet is one finding).
fn subnet_outside_vcn(ctx: &mut Ctx<'_>) -> HashSet<String> {
    let mut misplaced = HashSet::new();
    for region in ctx.unique_regions() {
        let (Some(vcn), Some(subnet)) = (
            ctx.facts.net(&region.vcn_cidr),
            ctx.facts.net(&region.subnet_cidr),
        ) else {
            continue;
        };
        if !vcn.contains(&subnet) {
            misplaced.insert(region.name.value.clone());
            ctx.report(
                Diagnostic::new(
                    Code::SubnetOutsideVcn,
                    format!(
                        "subnet `{subnet}` is not inside VCN `{vcn}` of `{}`",
                        region.name.value
                    ),
                )
                .with_primary(region.subnet_cidr.span, "outside the VCN")
                .with_secondary(region.vcn_cidr.span, "the VCN")
                .with_help(format!(
                    "choose a subnet inside `{vcn}`, e.g. the first /24 of it"
                )),
            );
        }
    }
    misplaced
}

/// A node's private address with the region it must belong to.
struct NodeIp<'a> {
    name: &'a str,
    region: Option<&'a str>,
    ip: &'a Sp<IpAddress>,
    addr: IpAddr,
}

/// `ip-outside-subnet`, `ip-reserved`, `duplicate-ip`.
fn node_addresses(ctx: &mut Ctx<'_>, misplaced: &HashSet<String>) {
    let spec = ctx.spec;
    let mut nodes: Vec<NodeIp<'_>> = Vec::new();
    if let Some(m) = &spec.management_node {
        for ip in [m.private_ip.as_ref(), m.on_premises_address.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Some(addr) = ctx.facts.addr(ip) {
                let region = if m.on_premises_address.as_ref() == Some(ip) {
                    None
                } else {
                    m.region.as_ref().map(|r| r.value.as_str())
                };
                nodes.push(NodeIp {
                    name: &m.name.value,
                    region,
                    ip,
                    addr,
                });
            }
        }
    }
    for n in &spec.conferencing_nodes {
        if let Some(ip) = &n.private_ip
            && let Some(addr) = ctx.facts.addr(ip)
        {
            nodes.push(NodeIp {
                name: &n.name.value,
                region: Some(&n.region.value),
                ip,
                addr,
            });
        }
    }
    let mut found = Vec::new();
    let mut by_addr: HashMap<IpAddr, &NodeIp<'_>> = HashMap::new();
    for node in &nodes {
        if let Some(first) = by_addr.get(&node.addr) {
            found.push(
                Diagnostic::new(
                    Code::DuplicateIp,
                    format!("`{}` and `{}` both have the address `{}`", first.name, node.name, node.addr),
                )
                .with_primary(node.ip.span, "used again here")
                .with_secondary(first.ip.span, "first used here")
                .with_help("give every node its own private IP, or omit `private_ip` to let OCI assign one"),
            );
            continue;
        }
        by_addr.insert(node.addr, node);
        let region = node
            .region
            .filter(|r| !misplaced.contains(*r) && !ctx.ambiguous_regions.contains(*r));
        let Some(region) = region.and_then(|r| spec.region(r)) else {
            continue;
        };
        let Some(subnet) = ctx.facts.net(&region.subnet_cidr) else {
            continue;
        };
        let IpNet::V4(subnet4) = subnet else { continue };
        let IpAddr::V4(addr) = node.addr else {
            continue;
        };
        if !subnet4.contains(&addr) {
            found.push(
                Diagnostic::new(
                    Code::IpOutsideSubnet,
                    format!(
                        "`{}` has the address `{addr}`, outside its subnet `{subnet4}`",
                        node.name
                    ),
                )
                .with_primary(node.ip.span, "not in the subnet")
                .with_secondary(
                    region.subnet_cidr.span,
                    format!("the subnet of `{}`", region.name.value),
                )
                .with_help(format!("choose an address in `{subnet4}`")),
            );
            continue;
        }
        let network = u32::from(subnet4.network());
        let reserved = [
            (network, "the network address"),
            (network.wrapping_add(1), "the default gateway OCI reserves"),
            (u32::from(subnet4.broadcast()), "the broadcast address"),
        ];
        if let Some((_, what)) = reserved.iter().find(|(r, _)| *r == u32::from(addr)) {
            let first_free = std::net::Ipv4Addr::from(network.wrapping_add(2));
            found.push(
                Diagnostic::new(
                    Code::IpReserved,
                    format!("`{addr}` of `{}` is {what} of `{subnet4}`", node.name),
                )
                .with_primary(node.ip.span, "reserved by OCI")
                .with_secondary(region.subnet_cidr.span, "in this subnet")
                .with_help(format!(
                    "OCI keeps the first two and the last address of a subnet; use `{first_free}` or above"
                )),
            );
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// `subnet-too-small`: every node placed in a region takes one private address of its
/// subnet (a fixed `private_ip` or one OCI assigns), and OCI keeps three addresses of every
/// subnet for itself: the network address, the default gateway (the first host) and the
/// broadcast address ("Reserved IP addresses", OCI's VCN and subnets documentation, as
/// `ip-reserved`). More nodes than the usable addresses cannot all launch ("no free private
/// IP address"). Regions listed twice or with a misplaced subnet are not judged.
fn subnet_too_small(ctx: &mut Ctx<'_>, misplaced: &HashSet<String>) {
    let spec = ctx.spec;
    // Per region name: how many nodes, and the first of them.
    let mut count: HashMap<&str, (usize, Span)> = HashMap::new();
    let mut placed: Vec<(&Sp<String>, Span)> = Vec::new();
    if let Some(m) = &spec.management_node
        && let (Some(region), Some(_)) = (&m.region, &m.shape)
    {
        placed.push((region, m.name.span));
    }
    placed.extend(
        spec.conferencing_nodes
            .iter()
            .map(|n| (&n.region, n.name.span)),
    );
    for (region, node) in placed {
        count.entry(region.value.as_str()).or_insert((0, node)).0 += 1;
    }
    let mut found = Vec::new();
    for region in ctx.unique_regions() {
        if misplaced.contains(&region.name.value) {
            continue;
        }
        let Some(&(nodes, first)) = count.get(region.name.value.as_str()) else {
            continue;
        };
        let Some(IpNet::V4(subnet)) = ctx.facts.net(&region.subnet_cidr) else {
            continue;
        };
        let size: u64 = 1u64 << (32 - u32::from(subnet.prefix_len()));
        let usable = size.saturating_sub(3);
        if (nodes as u64) <= usable {
            continue;
        }
        // The longest prefix whose usable addresses hold the nodes: 2^(32-p) >= nodes + 3.
        let need = (nodes as u64) + 3;
        let bits = 64 - (need - 1).leading_zeros();
        let prefix = 32u32.saturating_sub(bits);
        found.push(
            Diagnostic::new(
                Code::SubnetTooSmall,
                format!(
                    "subnet `{subnet}` of `{}` has {usable} usable address{} for {nodes} nodes",
                    region.name.value,
                    if usable == 1 { "" } else { "es" }
                ),
            )
            .with_primary(region.subnet_cidr.span, format!("{usable} usable, {nodes} needed"))
            .with_secondary(first, "placed in this region, with the others")
            .with_help(format!(
                "OCI keeps the first two and the last address of a subnet; give `{}` a subnet of /{prefix} or larger",
                region.name.value
            )),
        );
    }
    for d in found {
        ctx.report(d);
    }
}

/// `internal-cidr-gap`: every VCN must be covered by the union of `internal_cidrs`, or
/// IKE (UDP 500) and ESP between the nodes of that region are blocked.
fn internal_cidr_gap(ctx: &mut Ctx<'_>) {
    let Some(internal) = &ctx.spec.network.internal_cidrs else {
        return;
    };
    if internal.iter().any(|c| ctx.facts.net(c).is_none()) {
        // A malformed entry was reported already; do not guess what it would have covered.
        return;
    }
    let mut ranges: Vec<(u128, u128)> = internal
        .iter()
        .filter_map(|c| ctx.facts.net(c))
        .filter(|n| matches!(n, IpNet::V4(_)))
        .map(range)
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    for region in ctx.unique_regions() {
        let Some(vcn) = ctx.facts.net(&region.vcn_cidr) else {
            continue;
        };
        let (lo, hi) = range(vcn);
        let i = merged.partition_point(|m| m.1 < lo);
        let covered = merged.get(i).is_some_and(|m| m.0 <= lo && hi <= m.1);
        if !covered {
            ctx.report(
                Diagnostic::new(
                    Code::InternalCidrGap,
                    format!("`internal_cidrs` does not cover VCN `{vcn}` of `{}`", region.name.value),
                )
                .with_primary(region.vcn_cidr.span, "not covered")
                .with_secondary(internal.span, "internal_cidrs")
                .with_help(format!(
                    "add `{vcn}` to `internal_cidrs` (or omit `internal_cidrs`: the default covers every VCN); otherwise IPsec (UDP 500, ESP) between nodes is blocked"
                )),
            );
        }
    }
}
