//! A minimal DER reader and writer: just enough ASN.1 for RSA keys (PKCS#1, PKCS#8,
//! encrypted PKCS#8) and for the SubjectPublicKeyInfo behind an OCI key fingerprint.

/// ASN.1 universal tags used here.
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;

/// OID 1.2.840.113549.1.1.1 (rsaEncryption), content bytes.
pub(crate) const OID_RSA_ENCRYPTION: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// OID 1.2.840.10045.2.1 (id-ecPublicKey), content bytes.
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// OID 1.2.840.113549.1.5.13 (PBES2).
pub(crate) const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
/// OID 1.2.840.113549.1.5.12 (PBKDF2).
pub(crate) const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
/// OID 1.2.840.113549.2.7 (hmacWithSHA1).
pub(crate) const OID_HMAC_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07];
/// OID 1.2.840.113549.2.9 (hmacWithSHA256).
pub(crate) const OID_HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
/// OID 1.2.840.113549.2.10 (hmacWithSHA384).
pub(crate) const OID_HMAC_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x0a];
/// OID 1.2.840.113549.2.11 (hmacWithSHA512).
pub(crate) const OID_HMAC_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x0b];
/// OID 2.16.840.1.101.3.4.1.2 (aes128-CBC).
pub(crate) const OID_AES128_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02];
/// OID 2.16.840.1.101.3.4.1.22 (aes192-CBC).
pub(crate) const OID_AES192_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16];
/// OID 2.16.840.1.101.3.4.1.42 (aes256-CBC).
pub(crate) const OID_AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// A cursor over DER bytes. Every read checks bounds; malformed input is an `Err(String)`.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Reads one TLV, returns its tag and content.
    pub(crate) fn read_any(&mut self) -> Result<(u8, &'a [u8]), String> {
        let (&tag, rest) = self.input.split_first().ok_or("truncated DER (no tag)")?;
        if tag & 0x1f == 0x1f {
            return Err("unsupported multi-byte DER tag".into());
        }
        let (&first, mut rest) = rest.split_first().ok_or("truncated DER (no length)")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err("unsupported DER length form".into());
            }
            if rest.len() < n {
                return Err("truncated DER length".into());
            }
            let (bytes, after) = rest.split_at(n);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        if rest.len() < len {
            return Err("truncated DER value".into());
        }
        let (value, after) = rest.split_at(len);
        self.input = after;
        Ok((tag, value))
    }

    /// Reads one TLV that must have `tag`.
    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], String> {
        let (t, v) = self.read_any()?;
        if t != tag {
            return Err(format!("expected DER tag 0x{tag:02x}, found 0x{t:02x}"));
        }
        Ok(v)
    }

    /// Peeks at the next tag without consuming it.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads a SEQUENCE and returns a reader over its content.
    pub(crate) fn sequence(&mut self) -> Result<Reader<'a>, String> {
        Ok(Reader::new(self.read(SEQUENCE)?))
    }

    /// Reads a non-negative INTEGER that fits in a u64.
    pub(crate) fn small_uint(&mut self) -> Result<u64, String> {
        let v = self.read(INTEGER)?;
        if v.first().is_some_and(|b| b & 0x80 != 0) {
            return Err("negative DER integer".into());
        }
        let v = strip_leading_zeros(v);
        if v.len() > 8 {
            return Err("DER integer too large".into());
        }
        Ok(v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

fn strip_leading_zeros(v: &[u8]) -> &[u8] {
    let mut v = v;
    while let [0, rest @ ..] = v {
        v = rest;
    }
    v
}

/// Appends a TLV with `tag` and `content` to `out`.
pub(crate) fn write(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// Builds the DER SubjectPublicKeyInfo of an RSA public key given as a DER `RSAPublicKey`.
pub(crate) fn rsa_spki(rsa_public_key: &[u8]) -> Vec<u8> {
    let mut alg = Vec::new();
    write(&mut alg, OID, OID_RSA_ENCRYPTION);
    write(&mut alg, NULL, &[]);
    let mut bits = Vec::with_capacity(rsa_public_key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(rsa_public_key);
    let mut body = Vec::new();
    write(&mut body, SEQUENCE, &alg);
    write(&mut body, BIT_STRING, &bits);
    let mut out = Vec::new();
    write(&mut out, SEQUENCE, &body);
    out
}

/// Extracts the DER `RSAPublicKey` (modulus and exponent) from a DER PKCS#1 `RSAPrivateKey`.
pub(crate) fn rsa_public_from_private(pkcs1: &[u8]) -> Result<Vec<u8>, String> {
    let mut seq = Reader::new(pkcs1).sequence()?;
    let version = seq.small_uint()?;
    if version != 0 {
        return Err(format!(
            "unsupported RSAPrivateKey version {version} (multi-prime keys are not supported)"
        ));
    }
    let n = seq.read(INTEGER)?;
    let e = seq.read(INTEGER)?;
    let mut content = Vec::new();
    write(&mut content, INTEGER, n);
    write(&mut content, INTEGER, e);
    let mut out = Vec::new();
    write(&mut out, SEQUENCE, &content);
    Ok(out)
}

/// The modulus size in bits of a DER `RSAPublicKey`.
pub(crate) fn rsa_modulus_bits(rsa_public_key: &[u8]) -> Result<usize, String> {
    let mut seq = Reader::new(rsa_public_key).sequence()?;
    let n = strip_leading_zeros(seq.read(INTEGER)?);
    match n.first() {
        None => Ok(0),
        Some(&b) => Ok((n.len() - 1) * 8 + (8 - b.leading_zeros() as usize)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 300];
        let mut out = Vec::new();
        write(&mut out, OCTET_STRING, &content);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let mut r = Reader::new(&out);
        assert_eq!(r.read(OCTET_STRING).unwrap(), &content[..]);
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x01],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x1f, 0x01],
        ] {
            assert!(Reader::new(input).read_any().is_err(), "{input:?}");
        }
    }

    #[test]
    fn small_uint_reads_values() {
        let mut out = Vec::new();
        write(&mut out, INTEGER, &[0x00, 0x80, 0x00]);
        assert_eq!(Reader::new(&out).small_uint().unwrap(), 0x8000);
    }
}
