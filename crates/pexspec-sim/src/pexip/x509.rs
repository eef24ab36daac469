//! Just enough X.509 reading for the simulator's `tls_certificate` resource: the subject,
//! issuer, serial number, validity and DNS names of an uploaded PEM certificate.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// What the API shows about a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub(crate) subject_name: String,
    pub(crate) issuer_name: String,
    pub(crate) serial_no: String,
    pub(crate) start_date: String,
    pub(crate) end_date: String,
    pub(crate) subject_alt_names: String,
}

struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// Reads one DER TLV from the front of `input`; returns it and the rest.
fn tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((
        Tlv {
            tag,
            body: &rest[..len],
        },
        &rest[len..],
    ))
}

fn children(mut body: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let (t, rest) = tlv(body)?;
        out.push(t);
        body = rest;
    }
    Some(out)
}

fn oid_name(oid: &[u8]) -> Option<&'static str> {
    match oid {
        [0x55, 0x04, 0x03] => Some("CN"),
        [0x55, 0x04, 0x06] => Some("C"),
        [0x55, 0x04, 0x07] => Some("L"),
        [0x55, 0x04, 0x08] => Some("ST"),
        [0x55, 0x04, 0x0a] => Some("O"),
        [0x55, 0x04, 0x0b] => Some("OU"),
        _ => None,
    }
}

fn name(body: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    for rdn in children(body)? {
        for atv in children(rdn.body)? {
            let items = children(atv.body)?;
            let (Some(oid), Some(value)) = (items.first(), items.get(1)) else {
                continue;
            };
            if let Some(label) = oid_name(oid.body) {
                parts.push(format!("{label}={}", String::from_utf8_lossy(value.body)));
            }
        }
    }
    Some(parts.join(", "))
}

fn time(t: &Tlv<'_>) -> String {
    let s = String::from_utf8_lossy(t.body);
    let s = s.trim_end_matches('Z');
    let full = if t.tag == 0x17 {
        let century = if s.get(..2).and_then(|y| y.parse::<u32>().ok()).unwrap_or(0) >= 50 {
            "19"
        } else {
            "20"
        };
        format!("{century}{s}")
    } else {
        s.to_owned()
    };
    match (
        full.get(0..4),
        full.get(4..6),
        full.get(6..8),
        full.get(8..10),
        full.get(10..12),
        full.get(12..14),
    ) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) => {
            format!("{y}-{mo}-{d}T{h}:{mi}:{se}")
        }
        _ => full,
    }
}

fn dns_names(extensions: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let (seq, _) = tlv(extensions)?;
    for ext in children(seq.body)? {
        let items = children(ext.body)?;
        // subjectAltName 2.5.29.17
        if items.first().map(|o| o.body) != Some(&[0x55, 0x1d, 0x11][..]) {
            continue;
        }
        let value = items.last()?;
        let (general_names, _) = tlv(value.body)?;
        for gn in children(general_names.body)? {
            match gn.tag {
                0x82 => names.push(String::from_utf8_lossy(gn.body).into_owned()),
                0x87 if gn.body.len() == 4 => {
                    names.push(format!(
                        "{}.{}.{}.{}",
                        gn.body[0], gn.body[1], gn.body[2], gn.body[3]
                    ));
                }
                _ => {}
            }
        }
    }
    Some(names)
}

/// Reads the first certificate of `pem`.
pub(crate) fn parse(pem: &str) -> Option<CertInfo> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    let (cert, _) = tlv(der.as_ref())?;
    let (tbs, _) = tlv(cert.body)?;
    let mut items = children(tbs.body)?.into_iter().peekable();
    if items.peek().is_some_and(|t| t.tag == 0xa0) {
        items.next();
    }
    let serial = items.next()?;
    let _signature = items.next()?;
    let issuer = items.next()?;
    let validity = items.next()?;
    let subject = items.next()?;
    let _spki = items.next()?;
    let extensions = items.find(|t| t.tag == 0xa3);
    let times = children(validity.body)?;
    let serial_bytes = match serial.body {
        [0, rest @ ..] if !rest.is_empty() => rest,
        b => b,
    };
    Some(CertInfo {
        subject_name: name(subject.body)?,
        issuer_name: name(issuer.body)?,
        serial_no: serial_bytes.iter().map(|b| format!("{b:02X}")).collect(),
        start_date: times.first().map(time).unwrap_or_default(),
        end_date: times.get(1).map(time).unwrap_or_default(),
        subject_alt_names: extensions
            .and_then(|e| dns_names(e.body))
            .unwrap_or_default()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_rcgen_certificate() {
        let pair = super::super::tls::generate("pexconf01.example.com").unwrap();
        let info = parse(&pair.cert_pem).unwrap();
        assert_eq!(info.subject_name, "CN=pexconf01.example.com");
        assert_eq!(info.issuer_name, "CN=pexconf01.example.com");
        assert!(!info.serial_no.is_empty());
        assert!(
            info.subject_alt_names.contains("pexconf01.example.com"),
            "{}",
            info.subject_alt_names
        );
        assert!(info.start_date.len() >= 19, "{}", info.start_date);
    }

    #[test]
    fn garbage_is_none() {
        assert!(parse("not a certificate").is_none());
    }
}
