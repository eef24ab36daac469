//! API signing keys: PEM decoding (PKCS#1, PKCS#8, encrypted PKCS#8 with PBES2, legacy
//! OpenSSL `Proc-Type: 4,ENCRYPTED`), the ring key pair, and the OCI key fingerprint.

use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use ring::signature::RsaKeyPair;

use crate::der::{self, Reader};
use crate::error::OciError;

/// Upper bound on PBKDF2 iterations accepted from a key file (OpenSSL writes 2048).
const MAX_PBKDF2_ITERATIONS: u64 = 10_000_000;

/// An RSA API signing key, ready to sign. Debug output never shows key material.
#[derive(Clone)]
pub struct ApiKey {
    pair: Arc<RsaKeyPair>,
    public_der: Vec<u8>,
    fingerprint: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("fingerprint", &self.fingerprint)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ApiKey {
    /// Reads and decodes a PEM key file. `pass_phrase` is needed for encrypted keys.
    pub fn from_file(path: &Path, pass_phrase: Option<&str>) -> Result<Self, OciError> {
        let text = std::fs::read(path).map_err(|source| OciError::KeyFileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(text)
            .map_err(|_| key_error(path, "not a PEM file (not UTF-8 text)"))?;
        Self::from_pem(&text, pass_phrase, path)
    }

    /// Decodes a PEM key. `origin` names the key in error messages.
    pub fn from_pem(pem: &str, pass_phrase: Option<&str>, origin: &Path) -> Result<Self, OciError> {
        let pkcs1 = decode_private_key(pem, pass_phrase).map_err(|p| key_error(origin, &p))?;
        let public_der = der::rsa_public_from_private(&pkcs1)
            .map_err(|p| key_error(origin, &format!("not a valid RSA key: {p}")))?;
        let bits = der::rsa_modulus_bits(&public_der)
            .map_err(|p| key_error(origin, &format!("not a valid RSA key: {p}")))?;
        if !(2048..=4096).contains(&bits) {
            return Err(key_error(
                origin,
                &format!(
                    "RSA key of {bits} bits is not supported: OCI API keys must have 2048 to 4096 bits"
                ),
            ));
        }
        let pair = RsaKeyPair::from_der(&pkcs1)
            .map_err(|e| key_error(origin, &format!("RSA key rejected: {e}")))?;
        let fingerprint = fingerprint_of_rsa_public_key(&public_der);
        Ok(Self {
            pair: Arc::new(pair),
            public_der,
            fingerprint,
        })
    }

    /// The OCI fingerprint: MD5 over the DER SubjectPublicKeyInfo, colon-separated lower hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as DER `RSAPublicKey` (PKCS#1).
    pub fn public_key_pkcs1_der(&self) -> &[u8] {
        &self.public_der
    }

    /// The public key as DER SubjectPublicKeyInfo (what `openssl rsa -pubout -outform DER` prints).
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        der::rsa_spki(&self.public_der)
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 / SHA-256 (deterministic).
    pub(crate) fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, OciError> {
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        self.pair
            .sign(&ring::signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
            .map_err(|_| OciError::Internal("RSA signing failed".into()))?;
        Ok(sig)
    }
}

fn key_error(path: &Path, problem: &str) -> OciError {
    OciError::Key {
        path: PathBuf::from(path),
        problem: problem.to_string(),
    }
}

/// The OCI fingerprint of a DER `RSAPublicKey`: MD5 of its SubjectPublicKeyInfo, `aa:bb:…`.
pub fn fingerprint_of_rsa_public_key(rsa_public_key_der: &[u8]) -> String {
    let digest = Md5::digest(der::rsa_spki(rsa_public_key_der));
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The OCI fingerprint of a PEM private key, whatever its size (no ring key is built, so this
/// also works for the 1024-bit test key of Oracle's documentation).
pub fn fingerprint_of_private_key_pem(
    pem: &str,
    pass_phrase: Option<&str>,
) -> Result<String, OciError> {
    let origin = Path::new("<pem>");
    let pkcs1 = decode_private_key(pem, pass_phrase).map_err(|p| key_error(origin, &p))?;
    let public = der::rsa_public_from_private(&pkcs1).map_err(|p| key_error(origin, &p))?;
    Ok(fingerprint_of_rsa_public_key(&public))
}

/// One PEM block: label, `Key: value` headers, decoded body.
struct PemBlock {
    label: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_pem(text: &str) -> Result<PemBlock, String> {
    let mut lines = text.lines().map(str::trim);
    let label = loop {
        let line = lines
            .next()
            .ok_or("no `-----BEGIN …-----` line: not a PEM key file")?;
        if let Some(rest) = line.strip_prefix("-----BEGIN ")
            && let Some(label) = rest.strip_suffix("-----")
        {
            break label.to_string();
        }
    };
    let end = format!("-----END {label}-----");
    let mut headers = Vec::new();
    let mut b64 = String::new();
    let mut ended = false;
    for line in lines.by_ref() {
        if line == end {
            ended = true;
            break;
        }
        if b64.is_empty()
            && let Some((k, v)) = line.split_once(':')
        {
            headers.push((k.trim().to_string(), v.trim().to_string()));
            continue;
        }
        b64.push_str(line);
    }
    if !ended {
        return Err(format!("missing `{end}` line"));
    }
    let body = STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| "the PEM body is not valid base64".to_string())?;
    Ok(PemBlock {
        label,
        headers,
        body,
    })
}

/// Decodes a PEM private key to DER PKCS#1 `RSAPrivateKey`. Errors are problem descriptions.
fn decode_private_key(pem: &str, pass_phrase: Option<&str>) -> Result<Vec<u8>, String> {
    let block = parse_pem(pem)?;
    match block.label.as_str() {
        "RSA PRIVATE KEY" => {
            let encrypted = block.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("Proc-Type") && v.contains("ENCRYPTED"));
            let der = if encrypted {
                let pass = pass_phrase.ok_or_else(missing_pass_phrase)?;
                decrypt_legacy(&block, pass)?
            } else {
                block.body
            };
            check_pkcs1(&der, encrypted)?;
            Ok(der)
        }
        "PRIVATE KEY" => pkcs8_to_pkcs1(&block.body),
        "ENCRYPTED PRIVATE KEY" => {
            let pass = pass_phrase.ok_or_else(missing_pass_phrase)?;
            let plain = decrypt_pkcs8(&block.body, pass)?;
            pkcs8_to_pkcs1(&plain).map_err(|_| wrong_pass_phrase())
        }
        "EC PRIVATE KEY" => Err("this is an EC key: OCI API keys are RSA keys".into()),
        "OPENSSH PRIVATE KEY" => Err(
            "OpenSSH key format is not supported: OCI API keys are PEM files (`openssl genrsa -out key.pem 2048`)".into(),
        ),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err("this is a public key: `key_file` must name the private key".into()),
        other => Err(format!("unsupported PEM block `{other}` (expected `RSA PRIVATE KEY`, `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY`)")),
    }
}

fn missing_pass_phrase() -> String {
    "the key is encrypted: set `pass_phrase` in the profile (or `OCI_CLI_PASSPHRASE`)".into()
}

fn wrong_pass_phrase() -> String {
    "cannot decrypt the key: wrong `pass_phrase`".into()
}

fn check_pkcs1(der: &[u8], encrypted: bool) -> Result<(), String> {
    der::rsa_public_from_private(der).map(|_| ()).map_err(|e| {
        if encrypted {
            wrong_pass_phrase()
        } else {
            format!("not a valid RSA key: {e}")
        }
    })
}

/// PKCS#8 `PrivateKeyInfo` → PKCS#1 `RSAPrivateKey`.
fn pkcs8_to_pkcs1(der: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |e: String| format!("not a valid PKCS#8 key: {e}");
    let mut info = Reader::new(der).sequence().map_err(bad)?;
    info.small_uint().map_err(bad)?;
    let mut alg = info.sequence().map_err(bad)?;
    let oid = alg.read(der::OID).map_err(bad)?;
    if oid == der::OID_EC_PUBLIC_KEY {
        return Err("this is an EC key: OCI API keys are RSA keys".into());
    }
    if oid != der::OID_RSA_ENCRYPTION {
        return Err("not an RSA key: OCI API keys are RSA keys".into());
    }
    let key = info.read(der::OCTET_STRING).map_err(bad)?;
    der::rsa_public_from_private(key).map_err(|e| format!("not a valid RSA key: {e}"))?;
    Ok(key.to_vec())
}

/// Decrypts an `EncryptedPrivateKeyInfo` (PBES2 + PBKDF2 + AES-CBC) to `PrivateKeyInfo`.
fn decrypt_pkcs8(der: &[u8], pass: &str) -> Result<Vec<u8>, String> {
    let bad = |e: String| format!("not a valid encrypted PKCS#8 key: {e}");
    let mut epki = Reader::new(der).sequence().map_err(bad)?;
    let mut alg = epki.sequence().map_err(bad)?;
    if alg.read(der::OID).map_err(bad)? != der::OID_PBES2 {
        return Err("unsupported key encryption: only PBES2 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`) is supported".into());
    }
    let mut params = alg.sequence().map_err(bad)?;
    let mut kdf = params.sequence().map_err(bad)?;
    if kdf.read(der::OID).map_err(bad)? != der::OID_PBKDF2 {
        return Err("unsupported key derivation: only PBKDF2 is supported".into());
    }
    let mut kdf_params = kdf.sequence().map_err(bad)?;
    let salt = kdf_params.read(der::OCTET_STRING).map_err(bad)?;
    let iterations = kdf_params.small_uint().map_err(bad)?;
    let mut prf = &ring::pbkdf2::PBKDF2_HMAC_SHA1;
    if kdf_params.peek_tag() == Some(der::INTEGER) {
        kdf_params.small_uint().map_err(bad)?; // keyLength: implied by the cipher
    }
    if !kdf_params.is_empty() {
        let mut prf_alg = kdf_params.sequence().map_err(bad)?;
        let prf_oid = prf_alg.read(der::OID).map_err(bad)?;
        prf = match prf_oid {
            o if o == der::OID_HMAC_SHA1 => &ring::pbkdf2::PBKDF2_HMAC_SHA1,
            o if o == der::OID_HMAC_SHA256 => &ring::pbkdf2::PBKDF2_HMAC_SHA256,
            o if o == der::OID_HMAC_SHA384 => &ring::pbkdf2::PBKDF2_HMAC_SHA384,
            o if o == der::OID_HMAC_SHA512 => &ring::pbkdf2::PBKDF2_HMAC_SHA512,
            _ => return Err("unsupported PBKDF2 hash (supported: HMAC-SHA1/256/384/512)".into()),
        };
    }
    let mut cipher = params.sequence().map_err(bad)?;
    let cipher_oid = cipher.read(der::OID).map_err(bad)?;
    let iv = cipher.read(der::OCTET_STRING).map_err(bad)?;
    let key_len = match cipher_oid {
        o if o == der::OID_AES128_CBC => 16,
        o if o == der::OID_AES192_CBC => 24,
        o if o == der::OID_AES256_CBC => 32,
        _ => return Err("unsupported key cipher: only AES-128/192/256-CBC are supported (`openssl pkcs8 -topk8 -v2 aes-256-cbc`)".into()),
    };
    let data = epki.read(der::OCTET_STRING).map_err(bad)?;
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(format!(
            "PBKDF2 iteration count {iterations} is out of range"
        ));
    }
    let iterations = NonZeroU32::new(
        u32::try_from(iterations).map_err(|_| "PBKDF2 iteration count out of range".to_string())?,
    )
    .ok_or("PBKDF2 iteration count is zero")?;
    let mut key = vec![0u8; key_len];
    ring::pbkdf2::derive(*prf, iterations, salt, pass.as_bytes(), &mut key);
    aes_cbc_decrypt(&key, iv, data)
}

/// Decrypts a legacy OpenSSL PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-…-CBC,<iv hex>`).
fn decrypt_legacy(block: &PemBlock, pass: &str) -> Result<Vec<u8>, String> {
    let dek = block
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("DEK-Info"))
        .map(|(_, v)| v.as_str())
        .ok_or("encrypted PEM without a `DEK-Info` header")?;
    let (cipher, iv_hex) = dek.split_once(',').ok_or("malformed `DEK-Info` header")?;
    let key_len = match cipher.trim() {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        other => {
            return Err(format!(
                "legacy PEM cipher `{other}` is not supported (supported: AES-128/192/256-CBC): re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW`"
            ));
        }
    };
    let iv = decode_hex(iv_hex.trim()).ok_or("malformed IV in `DEK-Info` header")?;
    if iv.len() != 16 {
        return Err("malformed IV in `DEK-Info` header".into());
    }
    // EVP_BytesToKey(MD5, salt = first 8 bytes of the IV, 1 iteration).
    let mut key = Vec::with_capacity(key_len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while key.len() < key_len {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(pass.as_bytes());
        h.update(&iv[..8]);
        prev = h.finalize().to_vec();
        key.extend_from_slice(&prev);
    }
    key.truncate(key_len);
    aes_cbc_decrypt(&key, &iv, &block.body)
}

fn aes_cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    if iv.len() != 16 || data.is_empty() || !data.len().is_multiple_of(16) {
        return Err("malformed encrypted key (bad IV or ciphertext length)".into());
    }
    let mut buf = data.to_vec();
    let len = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| "bad AES key length".to_string())?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map_err(|_| wrong_pass_phrase())?
            .len(),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(|_| "bad AES key length".to_string())?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map_err(|_| wrong_pass_phrase())?
            .len(),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| "bad AES key length".to_string())?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map_err(|_| wrong_pass_phrase())?
            .len(),
        _ => return Err("bad AES key length".into()),
    };
    buf.truncate(len);
    Ok(buf)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_end_is_an_error() {
        let err = parse_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n")
            .err()
            .unwrap();
        assert!(err.contains("-----END PRIVATE KEY-----"), "{err}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "",
            "hello",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----",
        ] {
            assert!(decode_private_key(text, None).is_err(), "{text}");
            assert!(decode_private_key(text, Some("x")).is_err(), "{text}");
        }
    }

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("0aFF"), Some(vec![0x0a, 0xff]));
        assert_eq!(decode_hex("0aF"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
