//! Node checks: the Management Node present and fit for the deployment mode, names,
//! hostnames, FQDNs and IPv6 addresses unique, references to locations and certificates
//! resolved, DNS names valid and within the Pexip API's limits, one interface per node.
//!
//! Names (of nodes, locations, certificates, rooms) are compared exactly, as the Pexip API
//! does; hostnames and FQDNs are DNS names and are compared case-insensitively.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use pexspec_diagnostics::{Code, Diagnostic, Span};
use pexspec_spec::{ConferencingNode, Deployment, Role, Sp, Spec};

use crate::Ctx;

/// Pexip API limit of a node's `name`.
const NAME_MAX: usize = 32;
/// Pexip API limit of a node's `hostname` (also the DNS limit of one label).
const HOSTNAME_MAX: usize = 63;
/// Pexip API limit of a node's `domain`.
const DOMAIN_MAX: usize = 192;
/// DNS limit of one label.
const LABEL_MAX: usize = 63;
/// DNS limit of a whole name in text form.
const FQDN_MAX: usize = 253;
/// At most this many nodes of the other role get a label in `location-mixed-roles`.
const MIXED_LABELS: usize = 3;
/// At most this many distinct unknown names get a did-you-mean (each costs a pass over the
/// declared names), so a spec of thousands of typos stays linear.
const MAX_GUESSES: usize = 64;

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    management_node(ctx);
    duplicate_name(ctx);
    duplicate_hostname(ctx);
    duplicate_fqdn(ctx);
    duplicate_ipv6(ctx);
    unknown_location(ctx);
    location_mixed_roles(ctx);
    unknown_tls_certificate(ctx);
    hostname_invalid(ctx);
    name_too_long(ctx);
    name_invalid(ctx);
    secondary_interface(ctx);
    ssh_password_missing(ctx);
}

/// Which kind of node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Management,
    Conferencing,
}

/// The naming fields every node has.
#[derive(Clone, Copy)]
struct Node<'a> {
    kind: Kind,
    name: &'a Sp<String>,
    hostname: &'a Sp<String>,
    domain: &'a Sp<String>,
    sip_tls_fqdn: Option<&'a Sp<String>>,
}

impl Node<'_> {
    /// "the Management Node `pexmgr`" or "Conferencing Node `pexconf01`".
    fn title(&self) -> String {
        match self.kind {
            Kind::Management => format!("the Management Node `{}`", self.name.value),
            Kind::Conferencing => format!("Conferencing Node `{}`", self.name.value),
        }
    }
}

/// The Management Node (if any) and the Conferencing Nodes, in file order.
fn nodes(spec: &Spec) -> Vec<Node<'_>> {
    let mut out = Vec::with_capacity(spec.conferencing_nodes.len() + 1);
    if let Some(m) = &spec.management_node {
        out.push(Node {
            kind: Kind::Management,
            name: &m.name,
            hostname: &m.hostname,
            domain: &m.domain,
            sip_tls_fqdn: None,
        });
    }
    out.extend(spec.conferencing_nodes.iter().map(|n| Node {
        kind: Kind::Conferencing,
        name: &n.name,
        hostname: &n.hostname,
        domain: &n.domain,
        sip_tls_fqdn: n.sip_tls_fqdn.as_ref(),
    }));
    out.sort_by_key(|n| n.name.span);
    out
}

/// Every item whose key an earlier item (in file order) has, paired with that first item.
/// O(n log n): one sort and one hash map.
fn repeats<K: Eq + Hash, T: Copy>(mut items: Vec<(K, Span, T)>) -> Vec<(T, Span, T, Span)> {
    items.sort_by_key(|i| i.1);
    let mut first: HashMap<K, (T, Span)> = HashMap::with_capacity(items.len());
    let mut out = Vec::new();
    for (key, span, item) in items {
        match first.get(&key) {
            Some(&(f, fspan)) => out.push((f, fspan, item, span)),
            None => {
                first.insert(key, (item, span));
            }
        }
    }
    out
}

/// The known name closest to `word`: the same name in another case, else the most similar
/// one (Jaro-Winkler above 0.8).
fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if let Some(same) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    pexspec_diagnostics::closest(word, candidates.iter().copied(), 0.8)
}

/// Up to five names in backticks, for a help line.
fn some_of(names: &[&str]) -> String {
    let mut shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    if names.len() > 5 {
        shown.push(format!("… ({} in all)", names.len()));
    }
    shown.join(", ")
}

/// `management-node-missing` when `management_node` is absent. When it is present but does
/// not fit the deployment mode: `missing-field` for a field the mode needs
/// (`on_premises_address` in hybrid; `region` and `shape` otherwise) and `invalid-value`
/// for a field the mode rules out (`region`, `shape`, `private_ip`, `public_ip: true` of an
/// on-premises node; `on_premises_address` of a node in OCI).
fn management_node(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let deployment = &spec.deployment;
    let Some(m) = &spec.management_node else {
        let mut d = Diagnostic::new(Code::ManagementNodeMissing, "the spec has no `management_node`")
            .with_primary(spec.name.span, "this platform has no Management Node")
            .with_help(
                "add a `management_node` with `name`, `hostname`, `domain`, `admin_password` and `region` and `shape` (or `on_premises_address` in a hybrid deployment): every Pexip Infinity platform has one Management Node",
            );
        if let Some(first) = spec.conferencing_nodes.iter().min_by_key(|n| n.name.span) {
            d = d.with_secondary(first.name.span, "no Management Node to manage this node");
        }
        ctx.report(d);
        return;
    };
    if deployment.value == Deployment::Hybrid {
        if m.on_premises_address.is_none() {
            ctx.report(
                Diagnostic::new(
                    Code::MissingField,
                    "missing field `on_premises_address` in `management_node`",
                )
                .with_primary(m.name.span, "no `on_premises_address`")
                .with_secondary(deployment.span, "hybrid deployment")
                .with_help(
                    "add `on_premises_address`: in a hybrid deployment the Management Node runs on premises and pexspec reaches its API at that address",
                ),
            );
        }
        let oci_only = [
            m.region.as_ref().map(|r| ("region", r.span)),
            m.shape.as_ref().map(|s| ("shape", s.name.span)),
            m.private_ip.as_ref().map(|ip| ("private_ip", ip.span)),
            m.public_ip
                .as_ref()
                .filter(|ip| ip.value)
                .map(|ip| ("public_ip", ip.span)),
        ];
        for (field, span) in oci_only.into_iter().flatten() {
            ctx.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`{field}` does not apply to an on-premises Management Node"),
                )
                .with_primary(span, "only for a Management Node in OCI")
                .with_secondary(deployment.span, "hybrid: the Management Node is on premises")
                .with_help(format!(
                    "remove `{field}`, or set `deployment: private` or `public` to run the Management Node in OCI"
                )),
            );
        }
    } else {
        let missing: Vec<&str> = [
            m.region.is_none().then_some("`region`"),
            m.shape.is_none().then_some("`shape`"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !missing.is_empty() {
            let fields = missing.join(" and ");
            let plural = if missing.len() > 1 { "fields" } else { "field" };
            ctx.report(
                Diagnostic::new(
                    Code::MissingField,
                    format!("missing {plural} {fields} in `management_node`"),
                )
                .with_primary(m.name.span, format!("no {fields}"))
                .with_secondary(deployment.span, "the Management Node runs in OCI")
                .with_help(format!(
                    "add {fields} (the region is one of `regions`); a Management Node on premises needs `deployment: hybrid` and `on_premises_address`"
                )),
            );
        }
        if let Some(addr) = &m.on_premises_address {
            ctx.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    "`on_premises_address` applies only to a hybrid deployment",
                )
                .with_primary(addr.span, "only for a Management Node on premises")
                .with_secondary(deployment.span, "the Management Node runs in OCI")
                .with_help(
                    "remove `on_premises_address`, or set `deployment: hybrid` and remove `region` and `shape`",
                ),
            );
        }
    }
}

/// `duplicate-name`: two nodes (Management or Conferencing), two locations, two TLS
/// certificates or two meeting rooms with one name.
fn duplicate_name(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let nodes = nodes(spec);
    let items = nodes
        .iter()
        .map(|n| (n.name.value.as_str(), n.name.span, *n))
        .collect();
    for (first, fspan, again, span) in repeats(items) {
        let name = &again.name.value;
        let message = if first.kind == again.kind {
            format!("two Conferencing Nodes are named `{name}`")
        } else {
            format!("the Management Node and a Conferencing Node are both named `{name}`")
        };
        ctx.report(
            Diagnostic::new(Code::DuplicateName, message)
                .with_primary(span, "named again here")
                .with_secondary(fspan, "first named here")
                .with_help(
                    "give every node its own name: Pexip Infinity identifies nodes by name, and so do pexspec's resource addresses (`instance[NAME]`)",
                ),
        );
    }
    let p = &spec.platform;
    let kinds: [(&str, Vec<&Sp<String>>, &str); 3] = [
        (
            "locations",
            p.locations.iter().map(|l| &l.name).collect(),
            "list each location once; nodes refer to a location by name",
        ),
        (
            "TLS certificates",
            p.tls_certificates.iter().map(|c| &c.name).collect(),
            "give each certificate its own name: nodes refer to a certificate by name",
        ),
        (
            "meeting rooms",
            p.vmrs.iter().map(|v| &v.name).collect(),
            "give each meeting room its own name: Pexip Infinity identifies rooms by name",
        ),
    ];
    for (what, names, help) in kinds {
        let items = names
            .iter()
            .map(|n| (n.value.as_str(), n.span, *n))
            .collect();
        for (_, fspan, again, span) in repeats(items) {
            ctx.report(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("two {what} are named `{}`", again.value),
                )
                .with_primary(span, "named again here")
                .with_secondary(fspan, "first named here")
                .with_help(help),
            );
        }
    }
}

/// `duplicate-hostname`: the guide: "Each Conferencing Node and Management Node must have a
/// unique hostname". Compared case-insensitively; an empty hostname is left to
/// `hostname-invalid`.
fn duplicate_hostname(ctx: &mut Ctx<'_>) {
    let nodes = nodes(ctx.spec);
    let items = nodes
        .iter()
        .filter(|n| !n.hostname.value.is_empty())
        .map(|n| (n.hostname.value.to_ascii_lowercase(), n.hostname.span, *n))
        .collect();
    for (first, fspan, again, span) in repeats(items) {
        let case = if first.hostname.value == again.hostname.value {
            ""
        } else {
            " (hostnames are not case-sensitive)"
        };
        ctx.report(
            Diagnostic::new(
                Code::DuplicateHostname,
                format!(
                    "{} has the hostname `{}` of {}{case}",
                    capitalized(&again.title()),
                    again.hostname.value,
                    first.title()
                ),
            )
            .with_primary(span, "used again here")
            .with_secondary(fspan, "first used here")
            .with_help(
                "give every node its own hostname: each Conferencing Node and Management Node must have a unique hostname",
            ),
        );
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A DNS name in the form pexspec compares: lower case, without a trailing dot.
fn dns_key(text: &str) -> String {
    text.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Where an FQDN of a node comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FqdnSource {
    /// `hostname` + `.` + `domain`.
    Host,
    /// `sip_tls_fqdn`.
    Sip,
}

/// `duplicate-fqdn`: a node's `sip_tls_fqdn` equal to another node's `sip_tls_fqdn` or to
/// another node's `hostname.domain`. Two equal `hostname.domain` are two equal hostnames,
/// which `duplicate-hostname` reports; a node's `sip_tls_fqdn` may be its own FQDN.
fn duplicate_fqdn(ctx: &mut Ctx<'_>) {
    let nodes = nodes(ctx.spec);
    let mut items: Vec<(String, Span, (usize, FqdnSource))> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let own = if n.hostname.value.is_empty() || n.domain.value.is_empty() {
            None
        } else {
            Some(dns_key(&format!("{}.{}", n.hostname.value, n.domain.value)))
        };
        if let Some(own) = &own {
            items.push((own.clone(), n.hostname.span, (i, FqdnSource::Host)));
        }
        if let Some(sip) = n.sip_tls_fqdn {
            let key = dns_key(&sip.value);
            if !key.is_empty() && Some(&key) != own.as_ref() {
                items.push((key, sip.span, (i, FqdnSource::Sip)));
            }
        }
    }
    for ((fi, fsrc), fspan, (ai, asrc), span) in repeats(items) {
        if fsrc == FqdnSource::Host && asrc == FqdnSource::Host {
            continue;
        }
        let (Some(first), Some(again)) = (nodes.get(fi), nodes.get(ai)) else {
            continue;
        };
        let fqdn = match asrc {
            FqdnSource::Sip => again
                .sip_tls_fqdn
                .map_or("", |s| s.value.as_str())
                .to_owned(),
            FqdnSource::Host => format!("{}.{}", again.hostname.value, again.domain.value),
        };
        let what = |src: FqdnSource| match src {
            FqdnSource::Host => "as its hostname and domain",
            FqdnSource::Sip => "as its SIP TLS FQDN",
        };
        ctx.report(
            Diagnostic::new(
                Code::DuplicateFqdn,
                format!(
                    "{} has the FQDN `{fqdn}` {}, which {} has {}",
                    capitalized(&again.title()),
                    what(asrc),
                    first.title(),
                    what(fsrc)
                ),
            )
            .with_primary(span, "used again here")
            .with_secondary(fspan, "first used here")
            .with_help(
                "give every node its own SIP TLS FQDN, usually its own hostname and domain: the SIP TLS FQDN is a unique identity for the node, used in SIP TLS Contact addresses",
            ),
        );
    }
}

/// `duplicate-ipv6`: "Each Conferencing Node must have a unique IPv6 address". Compared as
/// parsed addresses, so `2001:db8::31` and `2001:DB8:0::31` are the same.
fn duplicate_ipv6(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let items = spec
        .conferencing_nodes
        .iter()
        .filter_map(|n| {
            let ip = n.ipv6_address.as_ref()?;
            let addr = ctx.facts.addr(ip)?;
            Some((addr, ip.span, (n, addr)))
        })
        .collect();
    for ((first, _), fspan, (again, addr), span) in repeats(items) {
        ctx.report(
            Diagnostic::new(
                Code::DuplicateIpv6,
                format!(
                    "Conferencing Nodes `{}` and `{}` both have the IPv6 address `{addr}`",
                    first.name.value, again.name.value
                ),
            )
            .with_primary(span, "used again here")
            .with_secondary(fspan, "first used here")
            .with_help("give every node its own IPv6 address: each Conferencing Node must have a unique IPv6 address"),
        );
    }
}

/// A reference from a node to a named object that the spec must declare.
struct Reference<'a> {
    code: Code,
    /// e.g. "location".
    what: &'static str,
    /// e.g. "platform.locations".
    list: &'static str,
    declared: Vec<&'a str>,
    /// What to say when nothing is declared.
    when_none: &'static str,
}

fn unresolved<'a>(
    ctx: &mut Ctx<'_>,
    reference: &Reference<'a>,
    uses: impl Iterator<Item = &'a Sp<String>>,
) {
    let declared: HashSet<&str> = reference.declared.iter().copied().collect();
    let mut guesses: HashMap<&str, Option<&str>> = HashMap::new();
    for used in uses {
        let name = used.value.as_str();
        if declared.contains(name) {
            continue;
        }
        let guess = match guesses.get(name) {
            Some(&guess) => guess,
            None if guesses.len() < MAX_GUESSES => {
                let guess = did_you_mean(name, &reference.declared);
                guesses.insert(name, guess);
                guess
            }
            None => None,
        };
        let help = match guess {
            Some(g) => format!("did you mean `{g}`?"),
            None if reference.declared.is_empty() => reference.when_none.to_owned(),
            None => format!(
                "add `{name}` to `{}`, or use one of {}",
                reference.list,
                some_of(&reference.declared)
            ),
        };
        ctx.report(
            Diagnostic::new(
                reference.code,
                format!(
                    "{} `{name}` is not declared in `{}`",
                    reference.what, reference.list
                ),
            )
            .with_primary(used.span, format!("unknown {}", reference.what))
            .with_help(help),
        );
    }
}

/// `unknown-location`: a Conferencing Node's location is not in `platform.locations`.
fn unknown_location(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let reference = Reference {
        code: Code::UnknownLocation,
        what: "location",
        list: "platform.locations",
        declared: spec
            .platform
            .locations
            .iter()
            .map(|l| l.name.value.as_str())
            .collect(),
        when_none: "add the location to `platform.locations`, e.g. `locations: [{ name: Frankfurt }]`: you must have at least one location configured before you can deploy a Conferencing Node",
    };
    unresolved(
        ctx,
        &reference,
        spec.conferencing_nodes.iter().map(|n| &n.location),
    );
}

/// `unknown-tls-certificate`: a Conferencing Node's `tls_certificate` is not in
/// `platform.tls_certificates`.
fn unknown_tls_certificate(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let reference = Reference {
        code: Code::UnknownTlsCertificate,
        what: "TLS certificate",
        list: "platform.tls_certificates",
        declared: spec
            .platform
            .tls_certificates
            .iter()
            .map(|c| c.name.value.as_str())
            .collect(),
        when_none: "add the certificate to `platform.tls_certificates` with its `certificate` file and `private_key`, or remove `tls_certificate`",
    };
    unresolved(
        ctx,
        &reference,
        spec.conferencing_nodes
            .iter()
            .filter_map(|n| n.tls_certificate.as_ref()),
    );
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Transcoding => "transcoding",
        Role::Proxying => "proxying",
    }
}

/// `location-mixed-roles`: the guide: "A system location should not contain a mixture of
/// proxying nodes and transcoding nodes". One finding per location (declared locations
/// only: an unknown one is `unknown-location`), on the first node that makes the mixture.
fn location_mixed_roles(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let declared: HashSet<&str> = spec
        .platform
        .locations
        .iter()
        .map(|l| l.name.value.as_str())
        .collect();
    let mut by_location: HashMap<&str, Vec<&ConferencingNode>> = HashMap::new();
    for node in &spec.conferencing_nodes {
        let location = node.location.value.as_str();
        if declared.contains(location) {
            by_location.entry(location).or_default().push(node);
        }
    }
    let mut groups: Vec<Vec<&ConferencingNode>> = by_location.into_values().collect();
    for group in &mut groups {
        group.sort_by_key(|n| n.role.span);
    }
    groups.sort_by_key(|g| g.first().map(|n| n.role.span));
    for group in groups {
        let Some(first) = group.first() else { continue };
        let Some(mixer) = group.iter().find(|n| n.role.value != first.role.value) else {
            continue;
        };
        let transcoding = group
            .iter()
            .filter(|n| n.role.value == Role::Transcoding)
            .count();
        let proxying = group.len() - transcoding;
        let location = &first.location.value;
        let mut d = Diagnostic::new(
            Code::LocationMixedRoles,
            format!(
                "location `{location}` has both transcoding and proxying nodes ({transcoding} transcoding, {proxying} proxying)"
            ),
        )
        .with_primary(
            mixer.role.span,
            format!("`{}` in `{location}`", role_name(mixer.role.value)),
        );
        for other in group
            .iter()
            .filter(|n| n.role.value == first.role.value)
            .take(MIXED_LABELS)
        {
            d = d.with_secondary(
                other.role.span,
                format!("`{}` in the same location", role_name(other.role.value)),
            );
        }
        ctx.report(d.with_help(format!(
            "move the proxying nodes to a location of their own, e.g. `{location} Edge`: a system location should not contain a mixture of proxying nodes and transcoding nodes"
        )));
    }
}

/// Why a text is not a valid DNS name of the kind a field wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameError {
    /// Nothing at all.
    Empty,
    /// A character other than an ASCII letter, digit, hyphen (or a dot between labels).
    BadChar(char),
    /// A label that starts with a hyphen.
    LeadingHyphen,
    /// A label that ends with a hyphen.
    TrailingHyphen,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A name that ends with a dot.
    TrailingDot,
    /// A label of more than 63 characters.
    LabelTooLong(usize),
    /// The last label is all digits (an address, not a name).
    NumericTld,
    /// A hostname with dots: a hostname is one label.
    SeveralLabels,
    /// An FQDN with a single label.
    OneLabel,
    /// An FQDN of more than 253 characters.
    TooLong(usize),
}

impl NameError {
    fn describe(self) -> String {
        match self {
            NameError::Empty => "it is empty".to_owned(),
            NameError::BadChar(c) => format!("`{}` is not allowed", c.escape_default()),
            NameError::LeadingHyphen => "a label starts with a hyphen".to_owned(),
            NameError::TrailingHyphen => "a label ends with a hyphen".to_owned(),
            NameError::EmptyLabel => {
                "it has an empty label (two dots in a row, or a leading dot)".to_owned()
            }
            NameError::TrailingDot => "it ends with a dot".to_owned(),
            NameError::LabelTooLong(n) => {
                format!("a label is {n} characters; DNS allows {LABEL_MAX}")
            }
            NameError::NumericTld => "its last label is all digits, like an address".to_owned(),
            NameError::SeveralLabels => "a hostname is one DNS label, without dots".to_owned(),
            NameError::OneLabel => "an FQDN has at least two labels".to_owned(),
            NameError::TooLong(n) => {
                format!("it is {n} characters; a DNS name has at most {FQDN_MAX}")
            }
        }
    }
}

/// One DNS label: letters, digits and hyphens, not at either end. Its length is checked
/// only when `max` is given.
fn check_label(label: &str, max: Option<usize>) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(NameError::BadChar(c));
    }
    if label.starts_with('-') {
        return Err(NameError::LeadingHyphen);
    }
    if label.ends_with('-') {
        return Err(NameError::TrailingHyphen);
    }
    if let Some(max) = max
        && label.len() > max
    {
        return Err(NameError::LabelTooLong(label.len()));
    }
    Ok(())
}

/// A hostname: one label. Its length is `name-too-long`'s business (limit 63).
pub(crate) fn check_hostname(text: &str) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.contains('.') {
        return Err(NameError::SeveralLabels);
    }
    check_label(text, None)
}

/// A domain: dot-separated labels of at most 63 characters, the last not all digits. Its
/// total length is `name-too-long`'s business (limit 192).
pub(crate) fn check_domain(text: &str) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.ends_with('.') && text.len() > 1 {
        return Err(NameError::TrailingDot);
    }
    let mut last = "";
    for label in text.split('.') {
        check_label(label, Some(LABEL_MAX))?;
        last = label;
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NameError::NumericTld);
    }
    Ok(())
}

/// A fully qualified domain name: a valid domain of at least two labels and at most 253
/// characters.
pub(crate) fn check_fqdn(text: &str) -> Result<(), NameError> {
    check_domain(text)?;
    if !text.contains('.') {
        return Err(NameError::OneLabel);
    }
    if text.len() > FQDN_MAX {
        return Err(NameError::TooLong(text.len()));
    }
    Ok(())
}

/// `hostname-invalid`: `hostname` one DNS label, `domain` dot-separated labels,
/// `sip_tls_fqdn` a valid FQDN, and `hostname.domain` at most 253 characters.
fn hostname_invalid(ctx: &mut Ctx<'_>) {
    let nodes = nodes(ctx.spec);
    for n in &nodes {
        let hostname = n.hostname.value.as_str();
        if let Err(err) = check_hostname(hostname) {
            let help = match err {
                NameError::SeveralLabels => {
                    let (host, domain) = hostname.split_once('.').unwrap_or((hostname, ""));
                    format!(
                        "write `hostname: {host}` and put the rest in `domain`: `domain: {domain}`"
                    )
                }
                other => label_help(other, "e.g. `pexconf01`"),
            };
            ctx.report(invalid_name(n, "hostname", n.hostname, err, help));
        }
        let domain = n.domain.value.as_str();
        let domain_ok = match check_domain(domain) {
            Ok(()) => true,
            Err(err) => {
                ctx.report(invalid_name(
                    n,
                    "domain",
                    n.domain,
                    err,
                    domain_help(err, domain),
                ));
                false
            }
        };
        let (hlen, dlen) = (hostname.chars().count(), domain.chars().count());
        let total = hlen + 1 + dlen;
        if domain_ok && hlen <= HOSTNAME_MAX && dlen <= DOMAIN_MAX && total > FQDN_MAX {
            ctx.report(
                Diagnostic::new(
                    Code::HostnameInvalid,
                    format!(
                        "the FQDN of {} is {total} characters; a DNS name has at most {FQDN_MAX}",
                        n.title()
                    ),
                )
                .with_primary(
                    n.domain.span,
                    format!("with the hostname: {total} characters"),
                )
                .with_secondary(n.hostname.span, "hostname")
                .with_help("shorten the domain or the hostname"),
            );
        }
        if let Some(sip) = n.sip_tls_fqdn
            && let Err(err) = check_fqdn(&sip.value)
        {
            let help = match err {
                NameError::BadChar('*') => {
                    "write the node's own FQDN, not a wildcard: the SIP TLS FQDN is a unique identity for the node".to_owned()
                }
                NameError::OneLabel => format!(
                    "write the full name, e.g. `{}.{}`",
                    sip.value, n.domain.value
                ),
                other => domain_help(other, &sip.value),
            };
            ctx.report(invalid_name(n, "SIP TLS FQDN", sip, err, help));
        }
    }
}

fn invalid_name(
    node: &Node<'_>,
    field: &str,
    value: &Sp<String>,
    err: NameError,
    help: String,
) -> Diagnostic {
    Diagnostic::new(
        Code::HostnameInvalid,
        format!(
            "`{}` is not a valid {field} of {}: {}",
            value.value.escape_debug(),
            node.title(),
            err.describe()
        ),
    )
    .with_primary(value.span, format!("not a valid {field}"))
    .with_help(help)
}

fn label_help(err: NameError, example: &str) -> String {
    match err {
        NameError::BadChar(c) if !c.is_ascii() => {
            "write an internationalised name in its ASCII form (`xn--…`)".to_owned()
        }
        NameError::Empty => format!("write a name, {example}"),
        _ => format!(
            "use letters, digits and hyphens only, not at the start or end of a label, {example}"
        ),
    }
}

fn domain_help(err: NameError, text: &str) -> String {
    match err {
        NameError::TrailingDot => {
            format!("remove the trailing dot: `{}`", text.trim_end_matches('.'))
        }
        NameError::EmptyLabel => "remove the extra dot".to_owned(),
        NameError::LabelTooLong(_) => "shorten the label to at most 63 characters".to_owned(),
        NameError::NumericTld => "write a DNS name, e.g. `example.com`, not an address".to_owned(),
        NameError::TooLong(_) => "use a shorter name".to_owned(),
        other => label_help(other, "e.g. `example.com`"),
    }
}

/// `name-too-long`: the Pexip API limits of a node's `name` (32), `hostname` (63) and
/// `domain` (192), counted in characters.
fn name_too_long(ctx: &mut Ctx<'_>) {
    let nodes = nodes(ctx.spec);
    for n in &nodes {
        for (field, value, max) in [
            ("name", n.name, NAME_MAX),
            ("hostname", n.hostname, HOSTNAME_MAX),
            ("domain", n.domain, DOMAIN_MAX),
        ] {
            let len = value.value.chars().count();
            if len <= max {
                continue;
            }
            ctx.report(
                Diagnostic::new(
                    Code::NameTooLong,
                    format!(
                        "the {field} of {} is {len} characters; the Pexip API accepts at most {max}",
                        n.title()
                    ),
                )
                .with_primary(value.span, format!("{len} characters, limit {max}"))
                .with_help(format!("shorten the {field} to at most {max} characters")),
            );
        }
    }
}

/// Pexip limit of a system location's name.
const LOCATION_NAME_MAX: usize = 250;
/// Why `name` cannot name a node: it becomes a path component (the simulated Management
/// Node's state directory, bootstrap files) and a resource address, so it must be one
/// component that stays inside its directory. `None` when it is fine.
pub(crate) fn node_name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` name directories")
    } else if name.contains(['/', '\\']) {
        Some("it holds a path separator")
    } else if name.chars().any(char::is_control) {
        Some("it holds a control character")
    } else if name.trim() != name {
        Some("it starts or ends with a blank")
    } else {
        None
    }
}

/// `name-invalid` and the remaining `name-too-long` limits: node names (one path component:
/// no separator, not `.` or `..`, no control character) and system location names (no
/// control character, at most 250 characters: Pexip's limit). The stack name's rule is the
/// loader's (`invalid-value`).
fn name_invalid(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let mut found = Vec::new();
    for n in nodes(spec) {
        if let Some(why) = node_name_problem(&n.name.value) {
            found.push(
                Diagnostic::new(
                    Code::NameInvalid,
                    format!(
                        "`{}` cannot name a node: {why}",
                        n.name.value.escape_debug()
                    ),
                )
                .with_primary(n.name.span, why)
                .with_help("use letters, digits, `-` and `_`, e.g. `pexconf01`: a node's name is also a directory and a resource address"),
            );
        }
    }
    for location in &spec.platform.locations {
        let name = &location.name;
        let len = name.value.chars().count();
        if len > LOCATION_NAME_MAX {
            found.push(
                Diagnostic::new(
                    Code::NameTooLong,
                    format!("the location name is {len} characters; the Pexip API accepts at most {LOCATION_NAME_MAX}"),
                )
                .with_primary(name.span, format!("{len} characters, limit {LOCATION_NAME_MAX}"))
                .with_help(format!("shorten the name to at most {LOCATION_NAME_MAX} characters")),
            );
        } else if name.value.trim().is_empty() || name.value.chars().any(char::is_control) {
            found.push(
                Diagnostic::new(
                    Code::NameInvalid,
                    format!("`{}` cannot name a location", name.value.escape_debug()),
                )
                .with_primary(name.span, "empty or with a control character")
                .with_help(
                    "write the location's name as it should appear in Pexip, e.g. `Frankfurt`",
                ),
            );
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// `secondary-interface`: the guide: dual network interfaces are not supported on
/// Conferencing Nodes deployed in public cloud services.
fn secondary_interface(ctx: &mut Ctx<'_>) {
    for node in &ctx.spec.conferencing_nodes {
        let Some(secondary) = &node.secondary_interface else {
            continue;
        };
        ctx.report(
            Diagnostic::new(
                Code::SecondaryInterface,
                format!(
                    "Conferencing Node `{}` asks for a secondary network interface",
                    node.name.value
                ),
            )
            .with_primary(
                to_line_end(ctx.loaded.file.text(), secondary.span),
                "not supported in OCI",
            )
            .with_help(
                "remove `secondary_interface`: dual network interfaces are not supported on Conferencing Nodes deployed in public cloud services",
            ),
        );
    }
}

/// `ssh-password-missing`: Pexip's "Generic (configuration-only)" deployment of a
/// Conferencing Node asks for the SSH password of its `admin` user (the guide, "SSH
/// password"), and the Pexip Terraform provider requires `password` on create
/// (`pexip/terraform-provider-infinity`, `docs/resources/infinity_worker_vm.md`). Without
/// one, `apply` stops at the node's registration, after its instance was created.
fn ssh_password_missing(ctx: &mut Ctx<'_>) {
    for node in &ctx.spec.conferencing_nodes {
        if node.ssh_password.is_some() {
            continue;
        }
        ctx.report(
            Diagnostic::new(
                Code::SshPasswordMissing,
                format!(
                    "Conferencing Node `{}` has no `ssh_password`",
                    node.name.value
                ),
            )
            .with_primary(node.name.span, "no `ssh_password`")
            .with_help(format!(
                "add `ssh_password: {{ env: PEXCONF_SSH_PASSWORD }}` (or `{{ file: PATH }}`) to `{}`: a generic (configuration-only) deployment needs the password of the node's `admin` SSH user",
                node.name.value
            )),
        );
    }
}

/// The span of a collection, of which the loader knows only where it starts, widened to the
/// end of its first line without a trailing comment: `{ address: …, netmask: … }` in flow
/// style, `address: …` in block style. Other spans are returned as they are.
fn to_line_end(text: &str, span: Span) -> Span {
    let Some(rest) = text.get(span.start..) else {
        return span;
    };
    let flow = span.len() <= 1 && (rest.starts_with('{') || rest.starts_with('['));
    if !flow && !span.is_empty() {
        return span;
    }
    let indent = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let line = rest[indent..].split('\n').next().unwrap_or("");
    let line = line.split(" #").next().unwrap_or(line).trim_end();
    if line.is_empty() {
        return span;
    }
    let start = span.start + indent;
    Span::new(start, start + line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_one_label() {
        assert_eq!(check_hostname("pexconf01"), Ok(()));
        assert_eq!(check_hostname("PexConf-01"), Ok(()));
        assert_eq!(check_hostname("1pex"), Ok(()));
        assert_eq!(check_hostname("a"), Ok(()));
        assert_eq!(check_hostname(""), Err(NameError::Empty));
        assert_eq!(
            check_hostname("pexconf01.example.com"),
            Err(NameError::SeveralLabels)
        );
        assert_eq!(check_hostname("pex_conf01"), Err(NameError::BadChar('_')));
        assert_eq!(check_hostname("pex conf"), Err(NameError::BadChar(' ')));
        assert_eq!(check_hostname("pexkönig"), Err(NameError::BadChar('ö')));
        assert_eq!(check_hostname("-pex"), Err(NameError::LeadingHyphen));
        assert_eq!(check_hostname("pex-"), Err(NameError::TrailingHyphen));
        // Length is name-too-long's finding, not this one.
        assert_eq!(check_hostname(&"a".repeat(70)), Ok(()));
    }

    #[test]
    fn domains_are_dotted_labels() {
        assert_eq!(check_domain("example.com"), Ok(()));
        assert_eq!(check_domain("corp"), Ok(()));
        assert_eq!(check_domain("a-b.c-d.example"), Ok(()));
        assert_eq!(check_domain(""), Err(NameError::Empty));
        assert_eq!(check_domain("example.com."), Err(NameError::TrailingDot));
        assert_eq!(check_domain("."), Err(NameError::EmptyLabel));
        assert_eq!(check_domain("example..com"), Err(NameError::EmptyLabel));
        assert_eq!(check_domain(".example.com"), Err(NameError::EmptyLabel));
        assert_eq!(check_domain("ex_ample.com"), Err(NameError::BadChar('_')));
        assert_eq!(check_domain("-example.com"), Err(NameError::LeadingHyphen));
        assert_eq!(check_domain("example-.com"), Err(NameError::TrailingHyphen));
        assert_eq!(check_domain("10.0.0.1"), Err(NameError::NumericTld));
        let long = format!("{}.com", "a".repeat(64));
        assert_eq!(check_domain(&long), Err(NameError::LabelTooLong(64)));
        let ok = format!("{}.com", "a".repeat(63));
        assert_eq!(check_domain(&ok), Ok(()));
    }

    #[test]
    fn fqdns_have_two_labels_and_fit_dns() {
        assert_eq!(check_fqdn("pexconf01.example.com"), Ok(()));
        assert_eq!(check_fqdn("pexconf01"), Err(NameError::OneLabel));
        assert_eq!(check_fqdn("*.example.com"), Err(NameError::BadChar('*')));
        let long = vec!["a".repeat(63); 4].join(".");
        assert_eq!(long.len(), 255);
        assert_eq!(check_fqdn(&long), Err(NameError::TooLong(255)));
        let fits = format!("{}.{}", vec!["a".repeat(63); 3].join("."), "b".repeat(61));
        assert_eq!(fits.len(), 253);
        assert_eq!(check_fqdn(&fits), Ok(()));
    }

    #[test]
    fn repeats_pair_each_later_item_with_the_first_in_file_order() {
        let s = |a: usize| Span::new(a, a + 1);
        // Given out of order: the earliest span is "first".
        let items = vec![
            ("x", s(30), 3),
            ("y", s(20), 2),
            ("x", s(10), 1),
            ("x", s(40), 4),
        ];
        assert_eq!(
            repeats(items),
            vec![(1, s(10), 3, s(30)), (1, s(10), 4, s(40))]
        );
        assert!(repeats::<&str, ()>(Vec::new()).is_empty());
    }

    #[test]
    fn suggestions_prefer_the_same_name_in_another_case() {
        let declared = ["Frankfurt", "Zurich", "Frankfurt Edge"];
        assert_eq!(did_you_mean("frankfurt", &declared), Some("Frankfurt"));
        assert_eq!(did_you_mean("Frankfrut", &declared), Some("Frankfurt"));
        assert_eq!(did_you_mean("Zürich", &declared), Some("Zurich"));
        assert_eq!(did_you_mean("Tokyo", &declared), None);
        assert_eq!(did_you_mean("Tokyo", &[]), None);
    }

    #[test]
    fn dns_keys_ignore_case_and_the_trailing_dot() {
        assert_eq!(dns_key("PexConf01.Example.COM."), "pexconf01.example.com");
    }
}

/// Whole-spec cases that fixtures do not cover: each loads a variant of the fixtures' base
/// spec and looks at the codes this family reports.
#[cfg(test)]
mod spec_tests {
    use pexspec_diagnostics::Diagnostic;

    use crate::{Mode, check};

    const BASE: &str = include_str!("../tests/fixtures/_base.yaml");

    const CN2: &str = "  - name: pexconf02
    region: eu-frankfurt-1
    role: transcoding
    location: Frankfurt
    shape: { name: VM.Optimized3.Flex, ocpus: 4, memory_gb: 8 }
    hostname: pexconf02
    domain: example.com
    private_ip: 10.0.1.32
    public_ip: true
    sip_tls_fqdn: pexconf02.example.com
    tls_certificate: conferencing
    ssh_password: { env: PEXCONF_SSH_PASSWORD }
";

    fn findings(yaml: &str) -> Vec<Diagnostic> {
        let loaded = pexspec_spec::load("test.yaml", yaml, std::path::PathBuf::from("."));
        assert!(loaded.spec.is_some(), "{:?}", loaded.diagnostics);
        check(&loaded, Mode::Lint)
            .into_iter()
            .filter(|d| !matches!(d.code().as_str(), "file-missing" | "ssh-key-invalid"))
            .collect()
    }

    fn codes(yaml: &str) -> Vec<&'static str> {
        findings(yaml).iter().map(|d| d.code().as_str()).collect()
    }

    fn edit(pairs: &[(&str, &str)]) -> String {
        let mut text = BASE.to_owned();
        for (old, new) in pairs {
            assert!(text.contains(old), "{old}");
            text = text.replacen(old, new, 1);
        }
        text
    }

    const MN_OCI: &str = "  region: eu-frankfurt-1
  shape: { name: VM.Standard3.Flex, ocpus: 2, memory_gb: 16 }
";

    #[test]
    fn the_base_spec_is_clean() {
        assert_eq!(codes(BASE), Vec::<&str>::new());
    }

    #[test]
    fn hybrid_management_node_needs_an_address_and_no_oci_fields() {
        let text = edit(&[
            ("deployment: public", "deployment: hybrid"),
            ("  private_ip: 10.0.1.10\n", "  public_ip: true\n"),
        ]);
        let found = findings(&text);
        let got: Vec<_> = found
            .iter()
            .map(|d| (d.code().as_str(), d.message()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "missing-field",
                    "missing field `on_premises_address` in `management_node`"
                ),
                (
                    "invalid-value",
                    "`region` does not apply to an on-premises Management Node"
                ),
                (
                    "invalid-value",
                    "`shape` does not apply to an on-premises Management Node"
                ),
                (
                    "invalid-value",
                    "`public_ip` does not apply to an on-premises Management Node"
                ),
            ]
        );
    }

    #[test]
    fn hybrid_management_node_on_premises_is_clean() {
        let text = edit(&[
            ("deployment: public", "deployment: hybrid"),
            (MN_OCI, ""),
            (
                "  private_ip: 10.0.1.10\n",
                "  on_premises_address: 172.16.0.10\n",
            ),
        ]);
        assert_eq!(codes(&text), Vec::<&str>::new());
    }

    #[test]
    fn management_node_in_oci_needs_region_and_shape_and_no_on_premises_address() {
        let text = edit(&[
            (MN_OCI, ""),
            (
                "  private_ip: 10.0.1.10\n",
                "  on_premises_address: 172.16.0.10\n",
            ),
        ]);
        let found = findings(&text);
        let got: Vec<_> = found
            .iter()
            .map(|d| (d.code().as_str(), d.message()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "missing-field",
                    "missing fields `region` and `shape` in `management_node`"
                ),
                (
                    "invalid-value",
                    "`on_premises_address` applies only to a hybrid deployment"
                ),
            ]
        );
    }

    #[test]
    fn names_repeat_in_every_kind_of_list() {
        let text = edit(&[
            (
                "locations: [{ name: Frankfurt }]",
                "locations: [{ name: Frankfurt }, { name: Frankfurt }]",
            ),
            ("  vmrs:\n", "  vmrs:\n    - { name: Board room }\n"),
            (
                "  tls_certificates:\n",
                "  tls_certificates:\n    - { name: conferencing, certificate: a.pem, private_key: { env: KEY } }\n",
            ),
            ("  - name: pexconf01\n", "  - name: pexmgr\n"),
        ]);
        let found = findings(&text);
        let got: Vec<_> = found
            .iter()
            .filter(|d| d.code().as_str() == "duplicate-name")
            .map(|d| d.message())
            .collect();
        assert_eq!(
            got,
            vec![
                "two locations are named `Frankfurt`",
                "two TLS certificates are named `conferencing`",
                "two meeting rooms are named `Board room`",
                "the Management Node and a Conferencing Node are both named `pexmgr`",
            ]
        );
    }

    #[test]
    fn one_shared_fqdn_is_one_duplicate_hostname_not_also_a_duplicate_fqdn() {
        let text = format!(
            "{BASE}{}",
            CN2.replace("pexconf02", "pexconf01")
                .replacen("pexconf01", "pexconf02", 1)
        );
        assert_eq!(codes(&text), vec!["duplicate-hostname"]);
    }

    #[test]
    fn a_sip_tls_fqdn_may_not_be_the_management_nodes_fqdn() {
        let text = edit(&[(
            "sip_tls_fqdn: pexconf01.example.com",
            "sip_tls_fqdn: PEXMGR.Example.com",
        )]);
        assert_eq!(codes(&text), vec!["duplicate-fqdn"]);
    }

    #[test]
    fn two_nodes_with_one_sip_tls_fqdn() {
        let text = format!(
            "{BASE}{}",
            CN2.replace("sip_tls_fqdn: pexconf02", "sip_tls_fqdn: pexconf03")
        )
        .replace("sip_tls_fqdn: pexconf01", "sip_tls_fqdn: pexconf03");
        assert_eq!(codes(&text), vec!["duplicate-fqdn"]);
    }

    #[test]
    fn mixed_location_is_one_warning_with_counts() {
        let edge = CN2.replace("role: transcoding", "role: proxying");
        let third = CN2
            .replace("pexconf02", "pexconf03")
            .replace("10.0.1.32", "10.0.1.33");
        let text = format!("{BASE}{edge}{third}");
        let found = findings(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message(),
            "location `Frankfurt` has both transcoding and proxying nodes (2 transcoding, 1 proxying)"
        );
        assert_eq!(found[0].secondary().len(), 2);
    }

    #[test]
    fn unknown_location_without_any_location_says_one_is_needed() {
        let text = edit(&[("  locations: [{ name: Frankfurt }]\n", "")]);
        let found = findings(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .help()
                .unwrap_or("")
                .contains("at least one location")
        );
    }

    #[test]
    fn a_long_hostname_is_too_long_but_not_invalid() {
        let long = "a".repeat(64);
        let text = edit(&[(
            "    hostname: pexconf01\n",
            &format!("    hostname: {long}\n"),
        )]);
        assert_eq!(codes(&text), vec!["name-too-long"]);
    }

    #[test]
    fn hostname_and_domain_over_253_characters() {
        let domain = vec!["d".repeat(63); 3].join(".");
        let text = edit(&[
            (
                "    hostname: pexconf01\n",
                &format!("    hostname: {}\n", "h".repeat(63)),
            ),
            (
                "    domain: example.com\n    private_ip: 10.0.1.31",
                &format!("    domain: {domain}\n    private_ip: 10.0.1.31"),
            ),
        ]);
        let found = findings(&text);
        assert_eq!(codes(&text), vec!["hostname-invalid"], "{found:?}");
    }

    #[test]
    fn sip_tls_fqdn_must_be_a_full_name() {
        let text = edit(&[(
            "sip_tls_fqdn: pexconf01.example.com",
            "sip_tls_fqdn: pexconf01",
        )]);
        let found = findings(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].help(),
            Some("write the full name, e.g. `pexconf01.example.com`")
        );
    }

    #[test]
    fn secondary_interface_is_underlined_in_flow_and_block_style() {
        for (tail, underlined) in [
            (
                "    secondary_interface: { address: 10.0.2.31 } # a comment\n",
                "{ address: 10.0.2.31 }",
            ),
            (
                "    secondary_interface:\n      address: 10.0.2.31\n",
                "address: 10.0.2.31",
            ),
        ] {
            let text = format!("{BASE}{tail}");
            let loaded = pexspec_spec::load("test.yaml", &text, std::path::PathBuf::from("."));
            let found: Vec<_> = check(&loaded, Mode::Lint)
                .into_iter()
                .filter(|d| d.code().as_str() == "secondary-interface")
                .collect();
            assert_eq!(found.len(), 1, "{found:?}");
            let span = found[0].primary().map(|l| l.span).unwrap_or_default();
            assert_eq!(loaded.file.slice(span), underlined);
        }
    }
}
