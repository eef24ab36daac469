//! Platform checks: the configuration the Management Node's API receives (DNS and NTP
//! servers, licences, meeting rooms and their aliases and PINs) and the two images, which
//! must be of one release.

use std::collections::{HashMap, HashSet};

use pexspec_diagnostics::{Code, Diagnostic, Span};
use pexspec_spec::{Secret, Sp};

use crate::Ctx;

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    dns_missing(ctx);
    ntp(ctx);
    license_missing(ctx);
    duplicate_alias(ctx);
    pin_invalid(ctx);
    image_version_mismatch(ctx);
}

/// The guide strongly recommends "at least three distinct NTP servers".
const MIN_NTP_SERVERS: usize = 3;

/// Where to point at a list that is empty or absent (the model keeps no span for a list):
/// the `key` inside the top-level `platform` block if it is written, else the `platform`
/// key, else the start of the file.
fn platform_key_span(text: &str, key: &str) -> (Span, &'static str) {
    let Some(start) = top_level_key(text, "platform") else {
        return (Span::point(0), "no `platform` section");
    };
    let platform = Span::new(start, start + "platform".len());
    // The block ends where the next top-level key starts.
    let mut end = text.len();
    let mut offset = start;
    for (i, line) in text
        .get(start..)
        .unwrap_or("")
        .split_inclusive('\n')
        .enumerate()
    {
        if i > 0 && line.starts_with(|c: char| !c.is_whitespace() && c != '#') {
            end = offset;
            break;
        }
        offset += line.len();
    }
    let body_start = platform.end;
    let body = text.get(body_start..end).unwrap_or("");
    let mut from = 0;
    while let Some(at) = body.get(from..).and_then(|b| b.find(key)).map(|i| from + i) {
        let before = body[..at].chars().next_back().unwrap_or(' ');
        let after = body[at + key.len()..].trim_start_matches([' ', '\t']);
        if (before.is_whitespace() || before == '{' || before == ',') && after.starts_with(':') {
            let abs = body_start + at;
            return (Span::new(abs, abs + key.len()), "here");
        }
        from = at + key.len();
    }
    (platform, "in `platform`")
}

/// The byte offset of `key:` written at the start of a line.
fn top_level_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(key)
            && rest.trim_start_matches([' ', '\t']).starts_with(':')
        {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The span from the first to the last item of a list.
fn items_span<T>(items: &[Sp<T>]) -> Option<Span> {
    let first = items.first()?;
    let last = items.last()?;
    Some(Span::new(
        first.span.start,
        last.span.end.max(first.span.start),
    ))
}

/// `dns-missing`: "The address of at least one DNS server must be added to your system."
fn dns_missing(ctx: &mut Ctx<'_>) {
    if !ctx.spec.platform.dns_servers.is_empty() {
        return;
    }
    let (span, label) = platform_key_span(ctx.loaded.file.text(), "dns_servers");
    ctx.report(
        Diagnostic::new(Code::DnsMissing, "no DNS server is configured")
            .with_primary(span, label)
            .with_help("add at least one DNS server, e.g. `dns_servers: [169.254.169.254]` (OCI's resolver, reachable from every VCN)"),
    );
}

/// `ntp-missing` and `ntp-too-few`: Pexip needs NTP for configuration replication and log
/// timestamps, and the guide strongly recommends at least three distinct servers.
fn ntp(ctx: &mut Ctx<'_>) {
    let servers = &ctx.spec.platform.ntp_servers;
    let Some(span) = items_span(servers) else {
        let (span, label) = platform_key_span(ctx.loaded.file.text(), "ntp_servers");
        ctx.report(
            Diagnostic::new(Code::NtpMissing, "no NTP server is configured")
                .with_primary(span, label)
                .with_help("configure at least three distinct NTP servers, e.g. `ntp_servers: [169.254.169.254, 0.pool.ntp.org, 1.pool.ntp.org]`"),
        );
        return;
    };
    let distinct: HashSet<String> = servers
        .iter()
        .map(|s| s.value.trim().trim_end_matches('.').to_ascii_lowercase())
        .collect();
    let n = distinct.len();
    if n >= MIN_NTP_SERVERS {
        return;
    }
    let what = if n == 1 {
        "one distinct NTP server".to_owned()
    } else {
        format!("{n} distinct NTP servers")
    };
    ctx.report(
        Diagnostic::new(
            Code::NtpTooFew,
            format!("{what}; the guide strongly recommends at least three"),
        )
        .with_primary(span, what)
        .with_help(format!(
            "add {}, e.g. `2.pool.ntp.org`, so that log entries from all nodes stay synchronized",
            if n == 2 {
                "one more distinct NTP server or pool"
            } else {
                "two more distinct NTP servers or pools"
            },
        )),
    );
}

/// `license-missing`: "You must install a system license with sufficient concurrent call
/// capacity for your environment before you can place calls".
fn license_missing(ctx: &mut Ctx<'_>) {
    if !ctx.spec.platform.licenses.is_empty() {
        return;
    }
    let (span, label) = platform_key_span(ctx.loaded.file.text(), "licenses");
    ctx.report(
        Diagnostic::new(
            Code::LicenseMissing,
            "no licence key: the platform will deploy but cannot place calls",
        )
        .with_primary(span, label)
        .with_help("add the licence key as a secret: `licenses: [{ env: PEXIP_LICENSE_KEY }]`"),
    );
}

/// How Pexip compares an alias: numeric aliases exactly, everything else (URIs such as
/// `board@example.com`, names) without regard to case. Surrounding blanks are dropped.
pub(crate) fn alias_key(alias: &str) -> String {
    let alias = alias.trim();
    let numeric = alias
        .strip_prefix('+')
        .unwrap_or(alias)
        .bytes()
        .all(|b| b.is_ascii_digit());
    if numeric {
        alias.to_owned()
    } else {
        alias.to_lowercase()
    }
}

/// `duplicate-alias`: an alias dials exactly one room, so two rooms (or one room twice)
/// cannot share it. One hash map: O(number of aliases).
fn duplicate_alias(ctx: &mut Ctx<'_>) {
    let mut seen: HashMap<String, (&str, Span)> = HashMap::new();
    let mut found = Vec::new();
    for vmr in &ctx.spec.platform.vmrs {
        for alias in &vmr.aliases {
            let key = alias_key(&alias.value);
            if key.is_empty() {
                continue;
            }
            match seen.get(&key) {
                Some(&(room, first)) => {
                    let message = if room == vmr.name.value {
                        format!("`{}` lists the alias `{}` twice", room, alias.value.trim())
                    } else {
                        format!(
                            "the alias `{}` of `{}` is already an alias of `{room}`",
                            alias.value.trim(),
                            vmr.name.value
                        )
                    };
                    let help = if room == vmr.name.value {
                        "list each alias once".to_owned()
                    } else {
                        "give every room its own aliases: a call to an alias reaches only one room (aliases compare without regard to case, numbers exactly)".to_owned()
                    };
                    found.push(
                        Diagnostic::new(Code::DuplicateAlias, message)
                            .with_primary(alias.span, "used again here")
                            .with_secondary(first, format!("first used by `{room}`"))
                            .with_help(help),
                    );
                }
                None => {
                    seen.insert(key, (&vmr.name.value, alias.span));
                }
            }
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// Whether `name` is a portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A valid environment variable name close to `name`, for help lines.
fn env_name_fix(name: &str) -> String {
    let mut fixed: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if fixed.is_empty() || fixed.starts_with(|c: char| c.is_ascii_digit()) {
        fixed.insert(0, '_');
    }
    fixed
}

/// `pin-invalid`, offline: the check never reads a PIN's value. It finds a guest PIN
/// without a host PIN (Pexip refuses it), host and guest PIN read from the same place
/// (Pexip requires them to differ), and environment variable names that no shell can set.
/// The value's own rules (4 to 20 digits, optionally ending in `#`) are checked when `plan`
/// reads it.
fn pin_invalid(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for vmr in &ctx.spec.platform.vmrs {
        for pin in [vmr.pin.as_ref(), vmr.guest_pin.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Secret::Env(name) = &pin.value
                && !is_env_name(&name.value)
            {
                found.push(
                    Diagnostic::new(
                        Code::PinInvalid,
                        format!(
                            "`{}` is not a valid environment variable name (a PIN of `{}`)",
                            name.value, vmr.name.value
                        ),
                    )
                    .with_primary(name.span, "not `[A-Za-z_][A-Za-z0-9_]*`")
                    .with_help(format!(
                        "use letters, digits and `_`, not starting with a digit, e.g. `{}`",
                        env_name_fix(&name.value)
                    )),
                );
            }
        }
        match (&vmr.pin, &vmr.guest_pin) {
            (None, Some(guest)) => found.push(
                Diagnostic::new(
                    Code::PinInvalid,
                    format!("`{}` has a guest PIN but no host PIN", vmr.name.value),
                )
                .with_primary(secret_span(guest), "guest PIN without a host PIN")
                .with_secondary(vmr.name.span, "this room")
                .with_help("add a host `pin` (Pexip refuses a Guest PIN without a Host PIN), or remove `guest_pin`"),
            ),
            (Some(host), Some(guest)) if same_source(&host.value, &guest.value) => found.push(
                Diagnostic::new(
                    Code::PinInvalid,
                    format!(
                        "the host and guest PINs of `{}` come from the same place",
                        vmr.name.value
                    ),
                )
                .with_primary(secret_span(guest), "same as the host PIN")
                .with_secondary(secret_span(host), "the host PIN")
                .with_help("read the guest PIN from its own variable or file: Pexip requires the Host PIN and the Guest PIN to differ"),
            ),
            _ => {}
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// The span of what a secret reference names (the variable or the path), which is where a
/// reader looks; the reference's own span may cover only its opening brace.
fn secret_span(secret: &Sp<Secret>) -> Span {
    match &secret.value {
        Secret::Env(name) | Secret::File(name) => name.span,
        Secret::Inline => secret.span,
    }
}

fn same_source(a: &Secret, b: &Secret) -> bool {
    match (a, b) {
        (Secret::Env(x), Secret::Env(y)) => x.value == y.value,
        (Secret::File(x), Secret::File(y)) => x.value.trim() == y.value.trim(),
        _ => false,
    }
}

/// Which node an OVA is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageKind {
    Management,
    Conferencing,
}

/// A Pexip OVA file name: `Pexip_Infinity_v<version>_generic_{pxMgr,ConfNode}_<build>.ova`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageName<'a> {
    pub version: &'a str,
    pub kind: ImageKind,
    pub build: &'a str,
}

/// Parses the last component of `path` as Pexip names its OVA files. `None` for any other
/// name: pexspec accepts renamed files and then cannot compare them.
pub(crate) fn parse_image_name(path: &str) -> Option<ImageName<'_>> {
    let file = path.rsplit(['/', '\\']).next()?;
    let rest = file
        .strip_prefix("Pexip_Infinity_v")?
        .strip_suffix(".ova")?;
    let (version, rest) = rest.split_once("_generic_")?;
    let (kind, build) = rest.rsplit_once('_')?;
    let kind = match kind {
        "pxMgr" => ImageKind::Management,
        "ConfNode" => ImageKind::Conferencing,
        _ => return None,
    };
    let version_ok = !version.is_empty()
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let build_ok = !build.is_empty() && build.bytes().all(|b| b.is_ascii_digit());
    (version_ok && build_ok).then_some(ImageName {
        version,
        kind,
        build,
    })
}

/// `image-version-mismatch`: the Management Node and the Conferencing Nodes must run one
/// release ("you need a Conferencing Node disk image for the software version you are
/// currently running"). A management image in `conferencing` (or the reverse) is an
/// `invalid-value`; a file not named as Pexip names its OVAs is not judged.
fn image_version_mismatch(ctx: &mut Ctx<'_>) {
    let images = &ctx.spec.images;
    let mgr = parse_image_name(&images.management.value);
    let conf = parse_image_name(&images.conferencing.value);
    let mut kinds_ok = true;
    for (parsed, value, want, field, right) in [
        (
            &mgr,
            &images.management,
            ImageKind::Management,
            "management",
            "pxMgr",
        ),
        (
            &conf,
            &images.conferencing,
            ImageKind::Conferencing,
            "conferencing",
            "ConfNode",
        ),
    ] {
        if let Some(p) = parsed
            && p.kind != want
        {
            kinds_ok = false;
            let (is, wrong) = match p.kind {
                ImageKind::Management => ("the Management Node image", "pxMgr"),
                ImageKind::Conferencing => ("the Conferencing Node image", "ConfNode"),
            };
            ctx.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("`images.{field}` names {is} (`{wrong}`)"),
                )
                .with_primary(value.span, format!("a `{wrong}` image"))
                .with_help(format!(
                    "point `images.{field}` at the `{right}` OVA: `Pexip_Infinity_v{}_generic_{right}_{}.ova`",
                    p.version, p.build
                )),
            );
        }
    }
    let (Some(mgr), Some(conf)) = (mgr, conf) else {
        return;
    };
    if !kinds_ok || (mgr.version == conf.version && mgr.build == conf.build) {
        return;
    }
    ctx.report(
        Diagnostic::new(
            Code::ImageVersionMismatch,
            format!(
                "the Conferencing Node image is v{} build {}, the Management Node image v{} build {}",
                conf.version, conf.build, mgr.version, mgr.build
            ),
        )
        .with_primary(images.conferencing.span, format!("v{} build {}", conf.version, conf.build))
        .with_secondary(images.management.span, format!("v{} build {}", mgr.version, mgr.build))
        .with_help(format!(
            "use the two OVAs of one release: `Pexip_Infinity_v{}_generic_ConfNode_{}.ova` goes with this Management Node image",
            mgr.version, mgr.build
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_parse_as_pexip_writes_them() {
        assert_eq!(
            parse_image_name("images/Pexip_Infinity_v30_generic_pxMgr_59565.ova"),
            Some(ImageName {
                version: "30",
                kind: ImageKind::Management,
                build: "59565"
            })
        );
        assert_eq!(
            parse_image_name("Pexip_Infinity_v25.4_generic_ConfNode_59565.ova"),
            Some(ImageName {
                version: "25.4",
                kind: ImageKind::Conferencing,
                build: "59565"
            })
        );
        for other in [
            "mgr.ova",
            "",
            "Pexip_Infinity_v30_generic_pxMgr_59565.vmdk",
            "Pexip_Infinity_v_generic_pxMgr_59565.ova",
            "Pexip_Infinity_v30_generic_Other_59565.ova",
            "Pexip_Infinity_v30_generic_pxMgr_.ova",
            "Pexip_Infinity_v3..0_generic_pxMgr_1.ova",
            "Pexip_Infinity_v30_generic_pxMgr_12a.ova",
        ] {
            assert_eq!(parse_image_name(other), None, "{other}");
        }
    }

    #[test]
    fn aliases_compare_as_pexip_does() {
        assert_eq!(alias_key(" Board@Example.COM "), "board@example.com");
        assert_eq!(alias_key("5551234"), "5551234");
        assert_eq!(alias_key("+4755512345"), "+4755512345");
        assert_eq!(alias_key("Meet.Board"), "meet.board");
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("BOARD_PIN"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name(""));
        assert!(!is_env_name("1PIN"));
        assert!(!is_env_name("BOARD-PIN"));
        assert!(!is_env_name("PIN ÅS"));
        assert_eq!(env_name_fix("BOARD-PIN"), "BOARD_PIN");
        assert_eq!(env_name_fix("1PIN"), "_1PIN");
        assert_eq!(env_name_fix(""), "_");
    }

    #[test]
    fn platform_keys_are_found_in_block_and_flow_styles() {
        let text = "version: 1\nplatform:\n  dns_servers: []\n  ntp_servers: [a]\nconferencing_nodes: []\n";
        let (span, _) = platform_key_span(text, "dns_servers");
        assert_eq!(&text[span.start..span.end], "dns_servers");
        let (span, label) = platform_key_span(text, "licenses");
        assert_eq!(&text[span.start..span.end], "platform");
        assert_eq!(label, "in `platform`");
        let flow = "platform: { ntp_servers: [], dns_servers: [] }\n";
        let (span, _) = platform_key_span(flow, "dns_servers");
        assert_eq!(&flow[span.start..span.end], "dns_servers");
        let (span, label) = platform_key_span("version: 1\n", "dns_servers");
        assert_eq!(span, Span::point(0));
        assert_eq!(label, "no `platform` section");
        // A key of another block after `platform` is not taken for it.
        let later = "platform:\n  vmrs: []\nother:\n  licenses: []\n";
        let (span, _) = platform_key_span(later, "licenses");
        assert_eq!(&later[span.start..span.end], "platform");
    }

    use crate::files::spec_tests::{codes, only};

    const VMR: &str =
        "    - { name: Board room, pin: { env: BOARD_PIN }, aliases: [board@example.com] }\n";

    #[test]
    fn lists_absent_from_the_spec() {
        only("dns-missing", &[("  dns_servers: [169.254.169.254]\n", "")]);
        only(
            "ntp-missing",
            &[(
                "  ntp_servers: [169.254.169.254, 0.pool.ntp.org, 1.pool.ntp.org]\n",
                "",
            )],
        );
        only(
            "license-missing",
            &[(
                "  licenses: [{ env: PEXIP_LICENSE_KEY }]\n",
                "  licenses: []\n",
            )],
        );
        let m = only(
            "ntp-too-few",
            &[(
                "[169.254.169.254, 0.pool.ntp.org, 1.pool.ntp.org]",
                "[pool.ntp.org]",
            )],
        );
        assert!(m.starts_with("one distinct"), "{m}");
    }

    #[test]
    fn aliases_within_one_room_and_numbers() {
        let m = only(
            "duplicate-alias",
            &[(
                VMR,
                "    - { name: Board room, aliases: [board@example.com, BOARD@example.com] }\n",
            )],
        );
        assert!(m.contains("twice"), "{m}");
        let two = "    - { name: Board room, aliases: [\"5551234\"] }\n    - { name: Sales, aliases: [\"5551234\"] }\n";
        only("duplicate-alias", &[(VMR, two)]);
        let distinct = "    - { name: Board room, aliases: [\"5551234\"] }\n    - { name: Sales, aliases: [\"+5551234\"] }\n";
        assert!(codes(&[(VMR, distinct)]).is_empty());
    }

    #[test]
    fn pins_offline() {
        let m = only(
            "pin-invalid",
            &[(
                "pin: { env: BOARD_PIN }",
                "pin: { env: BOARD_PIN }, guest_pin: { env: BOARD_PIN }",
            )],
        );
        assert!(m.contains("same place"), "{m}");
        let m = only(
            "pin-invalid",
            &[("pin: { env: BOARD_PIN }", "pin: { env: BOARD-PIN }")],
        );
        assert!(m.contains("`BOARD-PIN`"), "{m}");
    }

    #[test]
    fn swapped_images_are_invalid_values() {
        let found = codes(&[(
            "images/Pexip_Infinity_v30_generic_ConfNode_59565.ova",
            "images/Pexip_Infinity_v31_generic_pxMgr_59565.ova",
        )]);
        assert_eq!(found, ["invalid-value"]);
        // Renamed files are not judged.
        assert!(
            codes(&[(
                "images/Pexip_Infinity_v30_generic_ConfNode_59565.ova",
                "images/conf.ova",
            )])
            .is_empty()
        );
        // Same version, other build.
        only(
            "image-version-mismatch",
            &[(
                "images/Pexip_Infinity_v30_generic_ConfNode_59565.ova",
                "images/Pexip_Infinity_v30_generic_ConfNode_59566.ova",
            )],
        );
    }
}
