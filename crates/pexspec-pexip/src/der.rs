//! Reads the natural key of a TLS certificate (subject common name and serial number) from its
//! PEM, so that a certificate can be found among the `tls_certificate` objects.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::trust::Fingerprint;

/// What identifies a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId {
    /// The subject's common name (empty if it has none).
    pub common_name: String,
    /// The serial number as upper-case hex, no leading zero byte, no colons.
    pub serial: String,
    /// SHA-256 fingerprint of the DER certificate.
    pub fingerprint: Fingerprint,
}

/// Splits one DER element off `buf`: (tag, contents, rest).
fn element(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let len_byte = *buf.get(1)?;
    let (len, header) = match len_byte {
        0..=0x7f => (usize::from(len_byte), 2),
        0x81..=0x84 => {
            let count = usize::from(len_byte & 0x7f);
            let bytes = buf.get(2..2 + count)?;
            (
                bytes
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
                2 + count,
            )
        }
        _ => return None,
    };
    let contents = buf.get(header..header.checked_add(len)?)?;
    Some((tag, contents, &buf[header + len..]))
}

fn common_name(mut name: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    while !name.is_empty() {
        let (_, set, rest) = element(name)?;
        name = rest;
        let mut set = set;
        while !set.is_empty() {
            let (_, atv, after) = element(set)?;
            set = after;
            let (_, oid, value) = element(atv)?;
            if oid == CN {
                let (_, text, _) = element(value)?;
                return Some(String::from_utf8_lossy(text).into_owned());
            }
        }
    }
    Some(String::new())
}

/// Normalises a serial number as the API may show it (hex with or without colons, any case)
/// to upper-case hex without leading zero bytes.
pub(crate) fn normalise_serial(serial: &str) -> String {
    let hex: String = serial
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let trimmed = hex.trim_start_matches('0');
    let even = if trimmed.len() % 2 == 1 {
        format!("0{trimmed}")
    } else {
        trimmed.to_owned()
    };
    if even.is_empty() { "00".into() } else { even }
}

/// Reads the first certificate of `pem`.
pub fn cert_id(pem: &str) -> Option<CertId> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    let (_, certificate, _) = element(der.as_ref())?;
    let (_, tbs, _) = element(certificate)?;
    let (mut tag, mut body, mut rest) = element(tbs)?;
    if tag == 0xa0 {
        (tag, body, rest) = element(rest)?;
    }
    if tag != 0x02 {
        return None;
    }
    let serial_hex: String = body.iter().map(|b| format!("{b:02X}")).collect();
    let (_, _signature, rest) = element(rest)?;
    let (_, _issuer, rest) = element(rest)?;
    let (_, _validity, rest) = element(rest)?;
    let (_, subject, _) = element(rest)?;
    Some(CertId {
        common_name: common_name(subject)?,
        serial: normalise_serial(&serial_hex),
        fingerprint: Fingerprint::of_der(der.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_normalise() {
        assert_eq!(normalise_serial("00:ab:Cd"), "ABCD");
        assert_eq!(normalise_serial("0ABC"), "0ABC");
        assert_eq!(normalise_serial("abc"), "0ABC");
    }

    #[test]
    fn garbage_has_no_id() {
        assert!(
            cert_id("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_none()
        );
        assert!(cert_id("nothing").is_none());
    }
}
