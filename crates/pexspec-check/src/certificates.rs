//! What a TLS certificate and its private key file hold: `private-key-in-certificate`,
//! `private-key-invalid`, `certificate-key-mismatch`, `certificate-expired` and
//! `certificate-not-yet-valid`.
//!
//! The private key file (a `{ file: }` secret) is read, bounded, only to count its PEM blocks
//! and to take the public half of its key (an RSA key's modulus and exponent, an EC key's
//! public point, both stored in the key file beside the private numbers, so no cryptography
//! is needed). Nothing of the file is ever shown. A key in an `{ env: }` variable is never
//! looked at.
//!
//! Time: the checks are pure and read no clock. The caller passes "now" ([`crate::check_at`]);
//! without it, the validity dates are not judged.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pexspec_diagnostics::{Code, Diagnostic};
use pexspec_spec::{Secret, TlsCertificate};
use x509_cert::Certificate;

use crate::Ctx;
use crate::files::{MAX_CERTIFICATE_BYTES, parse_leaf};

/// The largest private key file read (an RSA 16384-bit key is under 13 KiB).
const MAX_KEY_BYTES: u64 = 256 * 1024;

/// The PEM labels of private keys (RFC 7468 and the OpenSSL and OpenSSH traditions).
const KEY_LABELS: [&str; 6] = [
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
];

/// One PEM block: its label and its base64 body (whitespace removed).
#[derive(Debug)]
pub(crate) struct Block {
    pub label: String,
    body: String,
}

impl Block {
    pub fn is_key(&self) -> bool {
        KEY_LABELS.contains(&self.label.as_str())
    }

    pub fn is_certificate(&self) -> bool {
        self.label == "CERTIFICATE"
    }

    fn der(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.body).ok()
    }
}

/// The PEM blocks of `text`, in order. A `BEGIN` without its `END` ends the scan.
pub(crate) fn pem_blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("-----BEGIN ") {
        let after = &rest[at + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].trim().to_owned();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            break;
        };
        let body = body_start[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        out.push(Block { label, body });
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// The public half of a key, as a certificate holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// RSA: modulus and public exponent, without leading zero bytes.
    Rsa(Vec<u8>, Vec<u8>),
    /// Elliptic curve: the public point as encoded (uncompressed `04 || X || Y` usually).
    Ec(Vec<u8>),
    /// Another algorithm (the certificate's algorithm OID, DER).
    Other(Vec<u8>),
}

/// `rsaEncryption`, 1.2.840.113549.1.1.1 (RFC 8017), as DER OID content.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `id-ecPublicKey`, 1.2.840.10045.2.1 (RFC 5480), as DER OID content.
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// Reads one DER element off the front of `buf`: its tag and its contents. Single-byte tags
/// only (all this module needs); lengths up to four bytes.
fn tlv<'a>(buf: &mut &'a [u8]) -> Option<(u8, &'a [u8])> {
    let (&tag, rest) = buf.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let (value, after) = rest.split_at(len);
    *buf = after;
    Some((tag, value))
}

/// The contents of one element of `tag`, or `None`.
fn expect<'a>(buf: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
    match tlv(buf)? {
        (t, v) if t == tag => Some(v),
        _ => None,
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;

fn unsigned(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// RFC 8017 `RSAPrivateKey` or `RSAPublicKey`: the modulus and exponent (after the version
/// of a private key).
fn rsa_numbers(der: &[u8], private: bool) -> Option<PublicKey> {
    let mut outer = der;
    let mut seq = expect(&mut outer, SEQUENCE)?;
    if private {
        expect(&mut seq, INTEGER)?;
    }
    let n = expect(&mut seq, INTEGER)?;
    let e = expect(&mut seq, INTEGER)?;
    Some(PublicKey::Rsa(unsigned(n), unsigned(e)))
}

/// RFC 5915 `ECPrivateKey`: its public point, when the file stores it (OpenSSL always does).
fn ec_point(der: &[u8]) -> Option<PublicKey> {
    let mut outer = der;
    let mut seq = expect(&mut outer, SEQUENCE)?;
    expect(&mut seq, INTEGER)?;
    expect(&mut seq, OCTET_STRING)?;
    while let Some((tag, value)) = tlv(&mut seq) {
        // [1] EXPLICIT BIT STRING
        if tag == 0xa1 {
            let mut inner = value;
            let bits = expect(&mut inner, BIT_STRING)?;
            let (&unused, point) = bits.split_first()?;
            return (unused == 0).then(|| PublicKey::Ec(point.to_vec()));
        }
    }
    None
}

/// The public key of a private key block, when it can be read without cryptography:
/// PKCS#1 RSA, SEC1 EC (with its public point) and PKCS#8 of either. `None` for encrypted,
/// OpenSSH and other keys, which are not judged.
pub(crate) fn key_public(block: &Block) -> Option<PublicKey> {
    let der = block.der()?;
    match block.label.as_str() {
        "RSA PRIVATE KEY" => rsa_numbers(&der, true),
        "EC PRIVATE KEY" => ec_point(&der),
        "PRIVATE KEY" => {
            let mut outer = der.as_slice();
            let mut seq = expect(&mut outer, SEQUENCE)?;
            expect(&mut seq, INTEGER)?;
            let mut alg = expect(&mut seq, SEQUENCE)?;
            let oid = expect(&mut alg, OID)?;
            let inner = expect(&mut seq, OCTET_STRING)?;
            if oid == OID_RSA {
                rsa_numbers(inner, true)
            } else if oid == OID_EC {
                ec_point(inner)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The public key a certificate certifies.
pub(crate) fn certificate_public(cert: &Certificate) -> Option<PublicKey> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let oid = spki.algorithm.oid.as_bytes();
    let bits = spki.subject_public_key.as_bytes()?;
    if oid == OID_RSA {
        rsa_numbers(bits, false)
    } else if oid == OID_EC {
        Some(PublicKey::Ec(bits.to_vec()))
    } else {
        Some(PublicKey::Other(oid.to_vec()))
    }
}

fn read_text(path: &Path, limit: u64) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limit {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(limit)
        .read_to_end(&mut bytes)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// What the private key file of a certificate holds, for the checks.
enum KeyFile {
    /// Exactly one private key; its public half when it can be read.
    One(Option<PublicKey>),
    /// What is wrong (a message fragment and a label), never any of its text.
    Bad(String, &'static str, &'static str),
    /// Not judged: absent, empty, not text (other checks' findings) or in a variable.
    Unknown,
}

fn inspect_key_file(path: &Path) -> KeyFile {
    let Some(text) = read_text(path, MAX_KEY_BYTES) else {
        return KeyFile::Unknown;
    };
    if text.trim().is_empty() {
        return KeyFile::Unknown; // `secret-reference-invalid`'s.
    }
    let blocks = pem_blocks(&text);
    drop(text);
    let keys: Vec<&Block> = blocks.iter().filter(|b| b.is_key()).collect();
    let certs = blocks.iter().filter(|b| b.is_certificate()).count();
    match (keys.len(), certs) {
        (0, 0) => KeyFile::Bad(
            "holds no PEM private key".to_owned(),
            "no private key in this file",
            "point `private_key` at the PEM file of the certificate's key (`-----BEGIN PRIVATE KEY-----`)",
        ),
        (0, _) => KeyFile::Bad(
            "holds a certificate, not a private key".to_owned(),
            "a certificate, not a key",
            "point `private_key` at the key of the certificate; the certificate itself belongs in `certificate`",
        ),
        (1, 0) => KeyFile::One(key_public(keys[0])),
        (1, _) => KeyFile::Bad(
            "holds a certificate besides the private key".to_owned(),
            "a key and a certificate",
            "keep only the private key in this file; the certificate and its chain belong in `certificate`",
        ),
        (n, _) => KeyFile::Bad(
            format!("holds {n} private keys"),
            "more than one key",
            "keep only the key of this certificate in the file",
        ),
    }
}

fn unix(d: Duration) -> u64 {
    d.as_secs()
}

/// A date in UTC for messages, `YYYY-MM-DD`.
fn date(since_epoch: Duration) -> String {
    // Civil-from-days (Howard Hinnant's algorithm), for dates after 1970.
    let days = i64::try_from(since_epoch.as_secs() / 86_400).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub(crate) fn run(ctx: &mut Ctx<'_>, present: &[bool]) {
    let spec = ctx.spec;
    let mut found = Vec::new();
    for (cert, &ok) in spec.platform.tls_certificates.iter().zip(present) {
        if !ok {
            continue;
        }
        let Some(text) = read_text(
            &ctx.loaded.resolve(&cert.certificate.value),
            MAX_CERTIFICATE_BYTES,
        ) else {
            continue;
        };
        let blocks = pem_blocks(&text);
        if blocks.iter().any(Block::is_key) {
            found.push(
                Diagnostic::new(
                    Code::PrivateKeyInCertificate,
                    format!(
                        "the certificate file `{}` of `{}` holds a private key",
                        cert.certificate.value, cert.name.value
                    ),
                )
                .with_primary(cert.certificate.span, "a private key in this file")
                .with_help("remove the key from the certificate file (it would be sent as part of the certificate) and reference it with `private_key: { file: PATH }`; a key that was shared this way may need to be replaced"),
            );
        }
        let Some(leaf) = parse_leaf(text.as_bytes()) else {
            continue; // `invalid-value`, reported by the FQDN check.
        };
        if let Some(now) = ctx.now {
            validity(&mut found, cert, &leaf, now);
        }
        let Secret::File(key_path) = &cert.private_key.value else {
            continue;
        };
        match inspect_key_file(&ctx.loaded.resolve(&key_path.value)) {
            KeyFile::Unknown => {}
            KeyFile::Bad(what, label, help) => found.push(
                Diagnostic::new(
                    Code::PrivateKeyInvalid,
                    format!(
                        "the private key file `{}` of `{}` {what}",
                        key_path.value, cert.name.value
                    ),
                )
                .with_primary(key_path.span, label)
                .with_help(help),
            ),
            KeyFile::One(Some(key)) => {
                if certificate_public(&leaf).is_some_and(|c| c != key) {
                    found.push(
                        Diagnostic::new(
                            Code::CertificateKeyMismatch,
                            format!(
                                "the private key `{}` is not the key of the certificate `{}`",
                                key_path.value, cert.certificate.value
                            ),
                        )
                        .with_primary(key_path.span, "not this certificate's key")
                        .with_secondary(cert.certificate.span, "the certificate")
                        .with_help("point `private_key` at the key the certificate was issued for (compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`)"),
                    );
                }
            }
            KeyFile::One(None) => {}
        }
    }
    for d in found {
        ctx.report(d);
    }
}

fn validity(
    found: &mut Vec<Diagnostic>,
    cert: &TlsCertificate,
    leaf: &Certificate,
    now: SystemTime,
) {
    let Ok(now) = now.duration_since(UNIX_EPOCH) else {
        return;
    };
    let v = &leaf.tbs_certificate.validity;
    let (from, until) = (
        v.not_before.to_unix_duration(),
        v.not_after.to_unix_duration(),
    );
    if unix(until) < unix(now) {
        found.push(
            Diagnostic::new(
                Code::CertificateExpired,
                format!(
                    "the certificate `{}` of `{}` expired on {}",
                    cert.certificate.value,
                    cert.name.value,
                    date(until)
                ),
            )
            .with_primary(cert.certificate.span, format!("expired {}", date(until)))
            .with_help("renew the certificate and point `certificate` (and `private_key`) at the new files: SIP TLS and web clients refuse an expired certificate"),
        );
    } else if unix(from) > unix(now) {
        found.push(
            Diagnostic::new(
                Code::CertificateNotYetValid,
                format!(
                    "the certificate `{}` of `{}` is valid only from {}",
                    cert.certificate.value,
                    cert.name.value,
                    date(from)
                ),
            )
            .with_primary(cert.certificate.span, format!("valid from {}", date(from)))
            .with_help("until that date clients refuse it; apply after it, or use a certificate valid now (check the clock of the machine that issued it)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/_files")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    fn key(name: &str) -> Option<PublicKey> {
        let text = file(name);
        let blocks = pem_blocks(&text);
        assert_eq!(blocks.len(), 1, "{name}");
        key_public(&blocks[0])
    }

    fn cert(name: &str) -> Option<PublicKey> {
        certificate_public(&parse_leaf(file(name).as_bytes()).unwrap())
    }

    #[test]
    fn keys_match_their_certificates_in_every_encoding() {
        let rsa = cert("conferencing.pem").unwrap();
        assert!(matches!(rsa, PublicKey::Rsa(..)));
        assert_eq!(key("conferencing.key"), Some(rsa.clone()));
        assert_eq!(key("conferencing-pkcs1.key"), Some(rsa.clone()));
        assert_ne!(key("other.key"), Some(rsa.clone()));
        let ec = cert("ec.pem").unwrap();
        assert!(matches!(ec, PublicKey::Ec(..)));
        assert_eq!(key("ec.key"), Some(ec.clone()));
        assert_eq!(key("ec-pkcs8.key"), Some(ec.clone()));
        assert_ne!(Some(rsa), Some(ec));
    }

    #[test]
    fn pem_blocks_are_counted_by_label() {
        let labels = |name: &str| -> Vec<String> {
            pem_blocks(&file(name))
                .into_iter()
                .map(|b| b.label)
                .collect()
        };
        assert_eq!(
            labels("key-and-certificate.pem"),
            ["CERTIFICATE", "PRIVATE KEY"]
        );
        assert_eq!(labels("two-keys.key"), ["PRIVATE KEY", "PRIVATE KEY"]);
        assert!(
            labels("not-a-certificate.pem")
                .iter()
                .all(|l| l != "PRIVATE KEY")
        );
        assert!(pem_blocks("-----BEGIN CERTIFICATE-----\nAAAA").is_empty());
        assert!(pem_blocks("-----BEGIN ").is_empty());
    }

    #[test]
    fn truncated_der_is_not_a_key() {
        for body in ["", "MA==", "MAM=", "MIIBAAAA", "MIQAAAAA"] {
            let block = Block {
                label: "RSA PRIVATE KEY".into(),
                body: body.into(),
            };
            assert_eq!(key_public(&block), None, "{body}");
        }
    }

    #[test]
    fn dates_in_messages() {
        assert_eq!(date(Duration::from_secs(0)), "1970-01-01");
        assert_eq!(date(Duration::from_secs(1_798_761_600)), "2027-01-01");
        assert_eq!(date(Duration::from_secs(951_782_400)), "2000-02-29");
    }
}
