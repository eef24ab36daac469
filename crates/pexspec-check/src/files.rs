//! File checks: with `secrets.rs`, the only checks that touch the disk besides loading the
//! spec. Referenced files must exist, the SSH key file must hold exactly one OpenSSH public
//! key, and each node's certificate must name its SIP TLS FQDN. Whether a `{ file: }`
//! secret can yield a value is `secrets.rs`'s; an `{ env: }` secret's value is never looked
//! at.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pexspec_diagnostics::{Code, Diagnostic};
use pexspec_spec::{Secret, Sp};
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
use x509_cert::der::oid::db::{rfc4519, rfc5280};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::Ctx;

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    let present = file_missing(ctx);
    if present.ssh_key {
        ssh_key_invalid(ctx);
    }
    certificate_fqdn_mismatch(ctx, &present.certificates);
    crate::certificates::run(ctx, &present.certificates);
}

/// The largest SSH public key file read (an RSA 16384-bit key line is under 3 KiB).
const MAX_SSH_KEY_BYTES: u64 = 64 * 1024;

/// The largest certificate file read (a long chain is a few dozen KiB).
pub(crate) const MAX_CERTIFICATE_BYTES: u64 = 1024 * 1024;

/// Which of the files the later rules read are present.
struct Present {
    ssh_key: bool,
    /// Per index of `platform.tls_certificates`.
    certificates: Vec<bool>,
}

/// Whether the file exists: `Ok(())`, or what is wrong with it.
fn exists(path: &Path) -> Result<(), &'static str> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err("is not a file"),
        Err(_) => Err("does not exist"),
    }
}

/// `file-missing`: the SSH public key file, every certificate file and every `{ file: }`
/// secret must exist. A warning by default; `plan` and `apply` raise it to an error. The
/// two OVA images are not required here: once uploaded they live in the bucket, so a plan
/// from another checkout must not need 2 GB of local files; the upload step that needs a
/// file says so when it is missing.
fn file_missing(ctx: &mut Ctx<'_>) -> Present {
    let spec = ctx.spec;
    let mut present = Present {
        ssh_key: true,
        certificates: Vec::with_capacity(spec.platform.tls_certificates.len()),
    };
    let mut found = Vec::new();
    let mut check = |path: &Sp<String>, what: &str, help: &str| -> bool {
        match exists(&ctx.loaded.resolve(&path.value)) {
            Ok(()) => true,
            Err(why) => {
                found.push(
                    Diagnostic::new(Code::FileMissing, format!("{what} `{}` {why}", path.value))
                        .with_primary(
                            path.span,
                            if why == "is not a file" {
                                "not a file"
                            } else {
                                "no such file"
                            },
                        )
                        .with_help(help.to_owned()),
                );
                false
            }
        }
    };
    present.ssh_key = check(
        &spec.ssh_public_key,
        "the SSH public key file",
        "create the key pair (`ssh-keygen -t ed25519 -f keys/pexip`) or correct the path; paths are relative to the spec file",
    );
    for cert in &spec.platform.tls_certificates {
        let ok = check(
            &cert.certificate,
            &format!("the certificate file of `{}`", cert.name.value),
            "put the PEM certificate there or correct the path; paths are relative to the spec file",
        );
        present.certificates.push(ok);
    }
    for secret in spec.secrets() {
        if let Secret::File(path) = &secret.value {
            check(
                path,
                "the secret file",
                "create the file (it is read only when a step needs the secret) or correct the path; paths are relative to the spec file",
            );
        }
    }
    for d in found {
        ctx.report(d);
    }
    present
}

/// Reads at most `limit` bytes of `path`: `Ok(None)` when the file is larger.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// What is wrong with an SSH public key file. Never carries any of the file's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyFileProblem {
    /// A private key (OpenSSH, PEM or PuTTY).
    PrivateKey,
    /// An SSH2 (RFC 4716) public key, as PuTTYgen saves it.
    Ssh2Format,
    /// No key line.
    NoKey,
    /// More than one key line.
    Several(usize),
    /// A line that is not an OpenSSH public key (1-based line number, why).
    BadLine(usize, String),
    /// Not UTF-8 text, or too large to be a public key file.
    NotText,
}

/// The OpenSSH public key types Pexip's instances accept through OCI metadata.
const KEY_TYPES: [&str; 5] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// Key types that exist but are refused (named in messages: a type name is not secret).
const REFUSED_TYPES: [&str; 3] = [
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Reads one SSH wire-format string (u32 length, bytes) off the front of `buf`.
fn ssh_string<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = buf.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    if rest.len() < len {
        return None;
    }
    let (s, rest) = rest.split_at(len);
    *buf = rest;
    Some(s)
}

/// Checks the decoded key blob of a `kind` key line: its embedded type matches and its
/// fields are complete.
fn check_blob(kind: &str, blob: &[u8]) -> Result<(), String> {
    let mut buf = blob;
    let Some(embedded) = ssh_string(&mut buf) else {
        return Err("the key data is truncated".to_owned());
    };
    if embedded != kind.as_bytes() {
        let named = KEY_TYPES
            .iter()
            .chain(REFUSED_TYPES.iter())
            .find(|t| t.as_bytes() == embedded);
        return Err(match named {
            Some(t) => format!("the key data is a `{t}` key but the line says `{kind}`"),
            None => format!("the key data is not a `{kind}` key"),
        });
    }
    let fields: Option<bool> = (|| {
        let ok = match kind {
            "ssh-ed25519" => ssh_string(&mut buf)?.len() == 32,
            "ssh-rsa" => {
                let e = ssh_string(&mut buf)?;
                let n = ssh_string(&mut buf)?;
                !e.is_empty() && !n.is_empty()
            }
            _ => {
                let curve = ssh_string(&mut buf)?;
                let point = ssh_string(&mut buf)?;
                kind.strip_prefix("ecdsa-sha2-")
                    .is_some_and(|c| c.as_bytes() == curve)
                    && !point.is_empty()
            }
        };
        Some(ok && buf.is_empty())
    })();
    if fields == Some(true) {
        Ok(())
    } else {
        Err(format!("the key data is not a complete `{kind}` key"))
    }
}

/// Inspects the text of an SSH public key file: `Ok(())` when it holds exactly one valid
/// OpenSSH public key line (blank lines and `#` comments aside).
pub(crate) fn inspect_key_file(text: &str) -> Result<(), KeyFileProblem> {
    let private_marker = |l: &str| {
        (l.contains("-----BEGIN") && l.contains("PRIVATE KEY-----"))
            || l.starts_with("PuTTY-User-Key-File-")
    };
    if text.lines().any(|l| private_marker(l.trim())) {
        return Err(KeyFileProblem::PrivateKey);
    }
    let mut keys = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("---- BEGIN SSH2 PUBLIC KEY") {
            return Err(KeyFileProblem::Ssh2Format);
        }
        let mut fields = line.split_whitespace();
        let kind = fields.next().unwrap_or("");
        let bad = |why: String| Err(KeyFileProblem::BadLine(i + 1, why));
        if let Some(refused) = REFUSED_TYPES.iter().find(|t| **t == kind) {
            return bad(format!("`{refused}` keys are not supported"));
        }
        if !KEY_TYPES.contains(&kind) {
            return bad(
                "it does not start with a key type (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`)"
                    .to_owned(),
            );
        }
        let Some(data) = fields.next() else {
            return bad("the key data is missing".to_owned());
        };
        let Ok(blob) = STANDARD.decode(data) else {
            return bad("the key data is not valid base64".to_owned());
        };
        if let Err(why) = check_blob(kind, &blob) {
            return bad(why);
        }
        keys += 1;
    }
    match keys {
        0 => Err(KeyFileProblem::NoKey),
        1 => Ok(()),
        n => Err(KeyFileProblem::Several(n)),
    }
}

/// `ssh-key-invalid`: the file must hold exactly one OpenSSH public key ("Pexip Infinity
/// node instances only support a single SSH key pair"); a private key there is an error
/// that names the danger and never shows the file's content.
fn ssh_key_invalid(ctx: &mut Ctx<'_>) {
    let path = &ctx.spec.ssh_public_key;
    let bytes = match read_limited(&ctx.loaded.resolve(&path.value), MAX_SSH_KEY_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => Vec::from(&[0xff_u8][..]),
        // Unreadable (permissions): not a finding about the spec.
        Err(_) => return,
    };
    let problem = match std::str::from_utf8(&bytes) {
        Ok(text) => inspect_key_file(text),
        Err(_) => Err(KeyFileProblem::NotText),
    };
    let Err(problem) = problem else {
        return;
    };
    let file = &path.value;
    let (message, label, help) = match problem {
        KeyFileProblem::PrivateKey => (
            format!("`{file}` holds a PRIVATE key, not a public key"),
            "a private key: it must never leave your workstation".to_owned(),
            "point `ssh_public_key` at the public half (`ssh-keygen -y -f KEY > KEY.pub`); remove the private key from the repository, and replace the key pair if it was ever committed or shared".to_owned(),
        ),
        KeyFileProblem::Ssh2Format => (
            format!("`{file}` is an SSH2 (RFC 4716) public key; instances need the OpenSSH one-line format"),
            "SSH2 format".to_owned(),
            "convert it with `ssh-keygen -i -f KEY.pub`, or save the one-line key PuTTYgen shows for pasting into an OpenSSH authorized_keys file".to_owned(),
        ),
        KeyFileProblem::NoKey => (
            format!("`{file}` holds no public key"),
            "no key in this file".to_owned(),
            "put one OpenSSH public key line in it, e.g. the `.pub` file of `ssh-keygen -t ed25519`".to_owned(),
        ),
        KeyFileProblem::Several(n) => (
            format!("`{file}` holds {n} public keys; Pexip Infinity node instances only support a single SSH key pair"),
            format!("{n} keys"),
            "keep exactly one key in the file: every instance gets the same single key".to_owned(),
        ),
        KeyFileProblem::BadLine(line, why) => (
            format!("line {line} of `{file}` is not an OpenSSH public key: {why}"),
            "not an OpenSSH public key".to_owned(),
            "use the `.pub` file `ssh-keygen` writes: one line `TYPE BASE64 [comment]`, e.g. `ssh-ed25519 AAAA... you@host`".to_owned(),
        ),
        KeyFileProblem::NotText => (
            format!("`{file}` is not a text file of an OpenSSH public key"),
            "not a public key file".to_owned(),
            "point `ssh_public_key` at the `.pub` file `ssh-keygen` writes".to_owned(),
        ),
    };
    ctx.report(
        Diagnostic::new(Code::SshKeyInvalid, message)
            .with_primary(path.span, label)
            .with_help(help),
    );
}

/// The DNS names a certificate is valid for: its subjectAltName DNS names, or its subject's
/// common names when it has no subjectAltName extension.
pub(crate) fn certificate_names(cert: &Certificate) -> Vec<String> {
    let tbs = &cert.tbs_certificate;
    let san = tbs
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == rfc5280::ID_CE_SUBJECT_ALT_NAME);
    if let Some(ext) = san {
        let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) else {
            return Vec::new();
        };
        return san
            .0
            .iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(d) => Some(d.as_str().to_owned()),
                _ => None,
            })
            .collect();
    }
    tbs.subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == rfc4519::CN)
        .filter_map(|atv| {
            let v = &atv.value;
            v.decode_as::<Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    v.decode_as::<PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .or_else(|_| {
                    v.decode_as::<Ia5StringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .ok()
        })
        .collect()
}

/// Parses the first `CERTIFICATE` block of a PEM file (the leaf; a chain may follow).
///
/// The base64 is decoded here and the DER handed to `from_der`: der 0.7's PEM reader never
/// returns on some tiny bodies (a one-byte certificate), and a check must not hang.
pub(crate) fn parse_leaf(bytes: &[u8]) -> Option<Certificate> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let body_start = find(bytes, BEGIN)? + BEGIN.len();
    let body_end = body_start + find(bytes.get(body_start..)?, END)?;
    let base64: Vec<u8> = bytes
        .get(body_start..body_end)?
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let der = STANDARD.decode(base64).ok()?;
    Certificate::from_der(&der).ok()
}

/// Whether the certificate name `pattern` (possibly `*.example.com`) covers `fqdn`. A
/// wildcard stands for exactly one whole leftmost label; names compare without case.
pub(crate) fn name_matches(pattern: &str, fqdn: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
    let (pattern, fqdn) = (norm(pattern), norm(fqdn));
    if let Some(parent) = pattern.strip_prefix("*.") {
        return parent.contains('.')
            && fqdn
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == parent);
    }
    !pattern.is_empty() && pattern == fqdn
}

/// Whether `name` is a DNS name whose certificate match can be judged (otherwise
/// `hostname-invalid` has reported it, and a mismatch would be a cascade).
fn is_dns_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `certificate-fqdn-mismatch`: a node's certificate must name its SIP TLS FQDN (or its
/// `hostname.domain` when it has none) in its subjectAltName DNS names (its CN when it has
/// no subjectAltName). A certificate file that does not parse is an `invalid-value`, once.
fn certificate_fqdn_mismatch(ctx: &mut Ctx<'_>, present: &[bool]) {
    let spec = ctx.spec;
    // Each certificate is read and parsed once, however many nodes use it.
    let mut names: HashMap<&str, Vec<String>> = HashMap::new();
    for (cert, &ok) in spec.platform.tls_certificates.iter().zip(present) {
        if !ok || names.contains_key(cert.name.value.as_str()) {
            continue;
        }
        let bytes = read_limited(
            &ctx.loaded.resolve(&cert.certificate.value),
            MAX_CERTIFICATE_BYTES,
        );
        let bytes = match bytes {
            Ok(Some(bytes)) => Some(bytes),
            Ok(None) => None,
            Err(_) => continue,
        };
        // The Pexip provider uploads the file as text: bytes that are not UTF-8 are refused
        // there, so here too, even around a readable certificate.
        if let Some(bytes) = &bytes
            && std::str::from_utf8(bytes).is_err()
        {
            ctx.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!(
                        "`{}` is not UTF-8 text (certificate `{}`)",
                        cert.certificate.value, cert.name.value
                    ),
                )
                .with_primary(cert.certificate.span, "not a text file")
                .with_help("point `certificate` at the PEM (text) file of the certificate; convert a DER file with `openssl x509 -inform der -in cert.der -out cert.pem`"),
            );
            continue;
        }
        let parsed = bytes.as_deref().and_then(parse_leaf);
        let Some(parsed) = parsed else {
            ctx.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!(
                        "`{}` is not a PEM X.509 certificate (certificate `{}`)",
                        cert.certificate.value, cert.name.value
                    ),
                )
                .with_primary(cert.certificate.span, "no readable certificate in this file")
                .with_help("point `certificate` at the PEM file of the certificate (`-----BEGIN CERTIFICATE-----`), the node's certificate first, then its chain"),
            );
            continue;
        };
        names.insert(&cert.name.value, certificate_names(&parsed));
    }
    let mut found = Vec::new();
    for node in &spec.conferencing_nodes {
        let Some(reference) = &node.tls_certificate else {
            continue;
        };
        let Some(cert_names) = names.get(reference.value.as_str()) else {
            continue;
        };
        let (fqdn, span, what) = match &node.sip_tls_fqdn {
            Some(f) => (f.value.trim().to_owned(), f.span, "the SIP TLS FQDN"),
            None => (
                format!(
                    "{}.{}",
                    node.hostname.value.trim(),
                    node.domain.value.trim()
                ),
                node.hostname.span,
                "the FQDN",
            ),
        };
        if !is_dns_name(&fqdn) || cert_names.iter().any(|n| name_matches(n, &fqdn)) {
            continue;
        }
        let listed = if cert_names.is_empty() {
            "it names no DNS name".to_owned()
        } else {
            let shown: Vec<String> = cert_names
                .iter()
                .take(4)
                .map(|n| format!("`{n}`"))
                .collect();
            let more = cert_names.len().saturating_sub(4);
            if more > 0 {
                format!("it names {} and {more} more", shown.join(", "))
            } else {
                format!("it names {}", shown.join(", "))
            }
        };
        found.push(
            Diagnostic::new(
                Code::CertificateFqdnMismatch,
                format!(
                    "certificate `{}` does not name `{fqdn}`, {what} of `{}`",
                    reference.value, node.name.value
                ),
            )
            .with_primary(span, "not in the certificate")
            .with_secondary(reference.span, "this certificate")
            .with_help(format!(
                "use a certificate whose subjectAltName includes `{fqdn}` ({listed}), or correct the name"
            )),
        );
    }
    for d in found {
        ctx.report(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIsJuUush5kyGNHyj+CVYIJfSB54R/ziZt+GDYMtcFkg a@b";

    #[test]
    fn one_public_key_is_fine() {
        assert_eq!(inspect_key_file(ED), Ok(()));
        assert_eq!(inspect_key_file(&format!("# mine\n\n{ED}\r\n")), Ok(()));
    }

    #[test]
    fn zero_or_several_keys() {
        assert_eq!(inspect_key_file(""), Err(KeyFileProblem::NoKey));
        assert_eq!(
            inspect_key_file("# only a comment\n"),
            Err(KeyFileProblem::NoKey)
        );
        assert_eq!(
            inspect_key_file(&format!("{ED}\n{ED}\n")),
            Err(KeyFileProblem::Several(2))
        );
    }

    #[test]
    fn private_keys_are_named_whatever_else_is_there() {
        for text in [
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n",
            "-----BEGIN PRIVATE KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
            "PuTTY-User-Key-File-3: ssh-ed25519\n",
        ] {
            assert_eq!(inspect_key_file(text), Err(KeyFileProblem::PrivateKey));
            assert_eq!(
                inspect_key_file(&format!("{ED}\n{text}")),
                Err(KeyFileProblem::PrivateKey)
            );
        }
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(
            inspect_key_file(
                "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----\n"
            ),
            Err(KeyFileProblem::Ssh2Format)
        );
        let line = |text: &str| match inspect_key_file(text) {
            Err(KeyFileProblem::BadLine(n, why)) => (n, why),
            other => panic!("{other:?}"),
        };
        assert_eq!(line("hunter2").0, 1);
        assert!(!line("hunter2").1.contains("hunter2"));
        assert!(line("ssh-dss AAAA").1.contains("`ssh-dss`"));
        assert!(line("ssh-ed25519").1.contains("missing"));
        assert!(line("ssh-ed25519 !!!notbase64").1.contains("base64"));
        // The data of an ed25519 key on a line that says rsa.
        let swapped = ED.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(line(&swapped).1.contains("is a `ssh-ed25519` key"));
        // Truncated: the type string only.
        let truncated = format!("ssh-ed25519 {}", STANDARD.encode(b"\0\0\0\x0bssh-ed25519"));
        assert!(line(&truncated).1.contains("complete"));
        // A length prefix far beyond the data.
        let huge = format!("ssh-rsa {}", STANDARD.encode(b"\xff\xff\xff\xffssh-rsa"));
        assert!(line(&huge).1.contains("truncated"));
        assert_eq!(line(&format!("{ED}\nnot a key\n")).0, 2);
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..600), cut in 0usize..700) {
            let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
            pem.extend(STANDARD.encode(&body).into_bytes());
            pem.extend(b"\n-----END CERTIFICATE-----\n");
            let _ = parse_leaf(&pem);
            // DER that starts like a certificate.
            let mut der = vec![0x30, 0x82];
            der.extend(&body);
            let _ = Certificate::from_der(&der);
            // A real certificate cut anywhere.
            let real = fixture("conferencing.pem");
            let _ = parse_leaf(&real[..cut.min(real.len())]);
            let _ = inspect_key_file(&String::from_utf8_lossy(&body));
            let key = format!("ssh-rsa {}", STANDARD.encode(&body));
            let _ = inspect_key_file(&key);
        }
    }

    #[test]
    fn tiny_pem_bodies_return() {
        // der's own PEM reader never returns on these; ours must.
        for b in 0..=255u8 {
            let pem = format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                STANDARD.encode([b])
            );
            assert!(parse_leaf(pem.as_bytes()).is_none());
        }
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.example.com", "pexconf01.example.com"));
        assert!(name_matches("*.Example.com.", "PEXCONF01.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.com", "example.com"));
        assert!(!name_matches("pex*.example.com", "pexconf01.example.com"));
        assert!(name_matches(
            "pexconf01.example.com",
            "pexconf01.example.com."
        ));
        assert!(!name_matches("", ""));
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_name("pexconf01.example.com"));
        assert!(is_dns_name("pexconf01.example.com."));
        assert!(!is_dns_name("pex_conf01.example.com"));
        assert!(!is_dns_name("pexconf01..example.com"));
        assert!(!is_dns_name("-pex.example.com"));
        assert!(!is_dns_name(""));
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/_files")
            .join(name);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn certificate_names_come_from_san_or_cn() {
        let cert = parse_leaf(&fixture("conferencing.pem")).unwrap();
        let names = certificate_names(&cert);
        assert_eq!(names.len(), 6);
        assert!(names.contains(&"pexedge01.example.com".to_owned()));
        let wildcard = parse_leaf(&fixture("wildcard.pem")).unwrap();
        assert_eq!(certificate_names(&wildcard), ["*.example.com"]);
        let cn = parse_leaf(&fixture("cn-only.pem")).unwrap();
        assert_eq!(certificate_names(&cn), ["pexconf01.example.com"]);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(parse_leaf(&fixture("not-a-certificate.pem")).is_none());
        assert!(parse_leaf(&fixture("conferencing.key")).is_none());
        assert!(parse_leaf(b"").is_none());
        assert!(parse_leaf(b"\n\n").is_none());
        assert!(parse_leaf(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----").is_none());
        assert!(parse_leaf(b"-----BEGIN CERTIFICATE-----\nAAAA").is_none());
        let mut chain = fixture("wildcard.pem");
        chain.extend(fixture("conferencing.pem"));
        let leaf = parse_leaf(&chain).unwrap();
        assert_eq!(certificate_names(&leaf), ["*.example.com"]);
    }
}

/// Runs every check on `_base.yaml` edited by string replacements, for the spec-level tests of
/// the files, capacity and platform families.
#[cfg(test)]
pub(crate) mod spec_tests {
    use std::path::Path;

    use pexspec_diagnostics::Diagnostic;

    use crate::{Mode, check};

    const BASE: &str = include_str!("../tests/fixtures/_base.yaml");

    /// The base spec with each `(old, new)` replaced once, checked in `mode` as if the spec
    /// were in `tests/fixtures/_files/` (so `../_files/` paths resolve).
    pub(crate) fn findings_in(mode: Mode, pairs: &[(&str, &str)]) -> Vec<Diagnostic> {
        let mut text = BASE.to_owned();
        for (old, new) in pairs {
            assert!(text.contains(old), "not in the base spec: {old}");
            text = text.replacen(old, new, 1);
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/_files");
        let loaded = pexspec_spec::load("test.yaml", &text, dir);
        assert!(loaded.spec.is_some(), "{:?}", loaded.diagnostics);
        check(&loaded, mode)
    }

    /// [`findings_in`] for `lint`.
    pub(crate) fn findings(pairs: &[(&str, &str)]) -> Vec<Diagnostic> {
        findings_in(Mode::Lint, pairs)
    }

    /// The codes of [`findings`].
    pub(crate) fn codes(pairs: &[(&str, &str)]) -> Vec<&'static str> {
        findings(pairs).iter().map(|d| d.code().as_str()).collect()
    }

    /// The one finding of `code`, whose message is returned; fails if there are others.
    pub(crate) fn only(code: &str, pairs: &[(&str, &str)]) -> String {
        let found = findings(pairs);
        let codes: Vec<&str> = found.iter().map(|d| d.code().as_str()).collect();
        assert_eq!(codes, [code], "{found:#?}");
        found[0].message().to_owned()
    }

    const SSH: &str = "ssh_public_key: ../_files/pexip.pub";
    const CERT: &str = "certificate: ../_files/conferencing.pem";
    const FQDN: &str = "sip_tls_fqdn: pexconf01.example.com";

    #[test]
    fn the_base_spec_is_clean() {
        assert!(codes(&[]).is_empty());
        // The images are not there, and need not be: neither mode asks for them.
        assert!(findings_in(Mode::Plan, &[]).is_empty());
    }

    #[test]
    fn missing_files_of_every_kind() {
        let m = only("file-missing", &[(CERT, "certificate: ../_files/nope.pem")]);
        assert!(m.contains("certificate file of `conferencing`"), "{m}");
        let m = only(
            "file-missing",
            &[(
                "{ file: ../_files/conferencing.key }",
                "{ file: ../_files/nope.key }",
            )],
        );
        assert!(m.contains("secret file"), "{m}");
        let m = only("file-missing", &[(SSH, "ssh_public_key: ../_files")]);
        assert!(m.contains("is not a file"), "{m}");
    }

    #[test]
    fn several_keys_and_garbage_in_the_key_file() {
        let m = only(
            "ssh-key-invalid",
            &[(SSH, "ssh_public_key: ../_files/two-keys.pub")],
        );
        assert!(m.contains("holds 2 public keys"), "{m}");
        let m = only(
            "ssh-key-invalid",
            &[(SSH, "ssh_public_key: ../_files/wildcard.pem")],
        );
        assert!(m.contains("line 1"), "{m}");
        // A private key's text never reaches the finding.
        let d = &findings(&[(SSH, "ssh_public_key: ../_files/id_ed25519")])[0];
        let secret = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/_files/id_ed25519"),
        )
        .unwrap();
        let body = secret.lines().nth(1).unwrap();
        let shown = format!("{d:?}");
        assert!(!shown.contains(body) && shown.contains("PRIVATE"));
    }

    #[test]
    fn certificates_by_cn_and_wildcard() {
        let cn = (
            "certificate: ../_files/conferencing.pem",
            "certificate: ../_files/cn-only.pem",
        );
        assert!(codes(&[cn]).is_empty());
        let m = only(
            "certificate-fqdn-mismatch",
            &[cn, (FQDN, "sip_tls_fqdn: pexconf02.example.com")],
        );
        assert!(m.contains("`pexconf02.example.com`"), "{m}");
        let wild = (CERT, "certificate: ../_files/wildcard.pem");
        assert!(codes(&[wild]).is_empty());
        only(
            "certificate-fqdn-mismatch",
            &[wild, (FQDN, "sip_tls_fqdn: sip.fra.example.com")],
        );
        // Without `sip_tls_fqdn`, `hostname.domain` is judged.
        let m = only(
            "certificate-fqdn-mismatch",
            &[
                ("    sip_tls_fqdn: pexconf01.example.com\n", ""),
                ("hostname: pexconf01", "hostname: pexconf09"),
            ],
        );
        assert!(
            m.contains("`pexconf09.example.com`, the FQDN of `pexconf01`"),
            "{m}"
        );
    }

    #[test]
    fn an_unreadable_certificate_is_an_invalid_value_once() {
        let found = findings(&[(CERT, "certificate: ../_files/not-a-certificate.pem")]);
        let codes: Vec<&str> = found.iter().map(|d| d.code().as_str()).collect();
        assert_eq!(codes, ["invalid-value"], "{found:#?}");
    }
}
