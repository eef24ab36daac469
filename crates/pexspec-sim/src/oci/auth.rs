//! Server-side verification of OCI request signatures (oci-api.md §1.5) and the fixed test
//! identity (tenancy, user, RSA key pair) the simulator trusts.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};
use ring::signature::{self, UnparsedPublicKey};
use sha2::Sha256;

/// The OCID of the simulated tenancy (also the root compartment).
pub const TEST_TENANCY_OCID: &str =
    "ocid1.tenancy.oc1..aaaaaaaapexspecsimtenancy7n3kq2vbwl4xzr5dj6o4y5ehtm3cfuq";
/// The OCID of the simulated API user.
pub const TEST_USER_OCID: &str =
    "ocid1.user.oc1..aaaaaaaapexspecsimuser2w7vfxkq4yhd3l5zrt6cmanb2oei5jsgu";
/// OCI fingerprint (MD5 of the DER SubjectPublicKeyInfo) of [`TEST_PUBLIC_KEY_PEM`].
pub const TEST_KEY_FINGERPRINT: &str = "fe:fa:5e:ab:12:f9:fa:80:9c:82:09:da:16:bd:23:95";

/// The private half of the simulator's test API key (PKCS#8 PEM, 2048-bit RSA).
///
/// This is PUBLIC TEST MATERIAL, published in the source tree on purpose: it signs requests to
/// the simulator only, and no real OCI tenancy trusts it. Never register it with a real account.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("testkey/test_api_key.pem");
/// The public half of the test API key (SubjectPublicKeyInfo PEM) that the simulator trusts.
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("testkey/test_api_key_public.pem");

/// The `keyId` a client signing with the test key sends: `tenancy/user/fingerprint`.
pub fn test_key_id() -> String {
    format!("{TEST_TENANCY_OCID}/{TEST_USER_OCID}/{TEST_KEY_FINGERPRINT}")
}

/// Public keys the simulator accepts, looked up by the full `keyId`.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, TrustedKey>,
}

#[derive(Clone, Debug)]
struct TrustedKey {
    /// PKCS#1 `RSAPublicKey` DER, what `ring` verifies with.
    rsa_der: Vec<u8>,
    /// Accept keys from 1024 bits (only for Oracle's documented test vectors).
    legacy_1024: bool,
}

impl TrustedKeys {
    /// The set holding the simulator's test key only.
    pub fn with_test_key() -> TrustedKeys {
        let mut k = TrustedKeys::default();
        // The test key is part of the crate; a unit test proves it parses.
        let _ = k.add_public_key_pem(TEST_TENANCY_OCID, TEST_USER_OCID, TEST_PUBLIC_KEY_PEM);
        k
    }

    /// Trusts a public key (SubjectPublicKeyInfo PEM, RSA ≥ 2048 bits) for a tenancy and user;
    /// the fingerprint is computed as OCI does. Returns the `keyId` clients must send.
    pub fn add_public_key_pem(
        &mut self,
        tenancy: &str,
        user: &str,
        pem: &str,
    ) -> Result<String, String> {
        let spki = pem_decode(pem)?;
        let rsa_der = spki_rsa_key(&spki)?;
        let key_id = format!("{tenancy}/{user}/{}", fingerprint(&spki));
        self.keys.insert(
            key_id.clone(),
            TrustedKey {
                rsa_der,
                legacy_1024: false,
            },
        );
        Ok(key_id)
    }

    /// Trusts a public key under an explicit `keyId`, whatever its fingerprint part says.
    /// `allow_1024` accepts 1024-bit keys, as Oracle's documented signing example uses one.
    pub fn add_key_id(&mut self, key_id: &str, pem: &str, allow_1024: bool) -> Result<(), String> {
        let spki = pem_decode(pem)?;
        let rsa_der = spki_rsa_key(&spki)?;
        self.keys.insert(
            key_id.to_string(),
            TrustedKey {
                rsa_der,
                legacy_1024: allow_1024,
            },
        );
        Ok(())
    }
}

/// OCI's key fingerprint: MD5 over the DER SubjectPublicKeyInfo, colon-separated hex.
pub fn fingerprint(spki_der: &[u8]) -> String {
    let d = Md5::digest(spki_der);
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Decodes the base64 body of a PEM block.
pub(crate) fn pem_decode(pem: &str) -> Result<Vec<u8>, String> {
    let b64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    B64.decode(b64).map_err(|e| format!("bad PEM: {e}"))
}

/// Reads one DER TLV at `pos`: (tag, content start, content end).
fn der_tlv(data: &[u8], pos: usize) -> Result<(u8, usize, usize), String> {
    let tag = *data.get(pos).ok_or("DER truncated")?;
    let first = *data.get(pos + 1).ok_or("DER truncated")? as usize;
    let (len, start) = if first < 0x80 {
        (first, pos + 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return Err("DER length unsupported".into());
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *data.get(pos + 2 + i).ok_or("DER truncated")? as usize;
        }
        (len, pos + 2 + n)
    };
    let end = start
        .checked_add(len)
        .filter(|e| *e <= data.len())
        .ok_or("DER length out of range")?;
    Ok((tag, start, end))
}

/// Extracts the PKCS#1 `RSAPublicKey` from a SubjectPublicKeyInfo.
fn spki_rsa_key(spki: &[u8]) -> Result<Vec<u8>, String> {
    let (tag, s, _e) = der_tlv(spki, 0)?;
    if tag != 0x30 {
        return Err("SubjectPublicKeyInfo is not a SEQUENCE".into());
    }
    let (tag, _as, ae) = der_tlv(spki, s)?;
    if tag != 0x30 {
        return Err("AlgorithmIdentifier is not a SEQUENCE".into());
    }
    // rsaEncryption OID 1.2.840.113549.1.1.1
    const RSA_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    if !spki[s..ae].windows(RSA_OID.len()).any(|w| w == RSA_OID) {
        return Err("the public key is not an RSA key".into());
    }
    let (tag, bs, be) = der_tlv(spki, ae)?;
    if tag != 0x03 || bs >= be || spki[bs] != 0 {
        return Err("subjectPublicKey is not a BIT STRING".into());
    }
    Ok(spki[bs + 1..be].to_vec())
}

/// The parameters of an `authorization: Signature …` header.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SignatureParams {
    pub key_id: String,
    pub algorithm: String,
    pub headers: Vec<String>,
    pub signature: String,
    pub version: Option<String>,
}

/// Parses `Signature k="v",k="v"…` with parameters in any order.
pub(crate) fn parse_authorization(value: &str) -> Result<SignatureParams, String> {
    let rest = value
        .strip_prefix("Signature ")
        .ok_or("the authorization scheme is not `Signature`")?;
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    let mut s = rest.trim_start();
    while !s.is_empty() {
        let eq = s.find('=').ok_or("a signature parameter has no value")?;
        let key = s[..eq].trim().to_ascii_lowercase();
        s = &s[eq + 1..];
        let s2 = s
            .strip_prefix('"')
            .ok_or("a signature parameter value is not quoted")?;
        let close = s2
            .find('"')
            .ok_or("a signature parameter value is not closed")?;
        params.insert(key, s2[..close].to_string());
        s = s2[close + 1..].trim_start();
        if let Some(r) = s.strip_prefix(',') {
            s = r.trim_start();
        } else if !s.is_empty() {
            return Err("signature parameters are not separated by commas".into());
        }
    }
    let get = |k: &str| {
        params
            .get(k)
            .cloned()
            .ok_or(format!("the signature has no `{k}` parameter"))
    };
    Ok(SignatureParams {
        key_id: get("keyid")?,
        algorithm: get("algorithm")?,
        headers: get("headers")?
            .split(' ')
            .filter(|h| !h.is_empty())
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        signature: get("signature")?,
        version: params.get("version").cloned(),
    })
}

/// What the verifier needs to know about one received request.
pub(crate) struct Received<'a> {
    /// The HTTP method, any case.
    pub method: &'a str,
    /// The raw request target: path and `?query` exactly as received.
    pub target: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// PutObject and UploadPart: only `date (request-target) host` are required.
    pub body_exempt: bool,
}

/// Verifies the request's signature. `now_ms` enables the ±5 minute `date` check.
/// Returns the `keyId` on success, the reason on failure.
pub(crate) fn verify(
    keys: &TrustedKeys,
    req: &Received<'_>,
    now_ms: Option<i64>,
) -> Result<String, String> {
    let auth = req
        .headers
        .get("authorization")
        .ok_or("no authorization header")?
        .to_str()
        .map_err(|_| "the authorization header is not ASCII")?;
    let p = parse_authorization(auth)?;
    if p.algorithm != "rsa-sha256" {
        return Err(format!("unsupported algorithm `{}`", p.algorithm));
    }
    if let Some(v) = &p.version
        && v != "1"
    {
        return Err(format!("unsupported signature version `{v}`"));
    }
    let method = req.method.to_ascii_lowercase();
    let has = |h: &str| p.headers.iter().any(|x| x == h);
    let mut required: Vec<&str> = vec!["(request-target)", "host"];
    if !has("date") && !has("x-date") {
        return Err("the signature does not cover `date`".into());
    }
    if matches!(method.as_str(), "post" | "put" | "patch") && !req.body_exempt {
        required.extend(["content-length", "content-type", "x-content-sha256"]);
    } else if !matches!(
        method.as_str(),
        "get" | "head" | "delete" | "post" | "put" | "patch"
    ) {
        return Err(format!("method `{method}` cannot be signed"));
    }
    for r in required {
        if !has(r) {
            return Err(format!("the signature does not cover `{r}`"));
        }
    }
    let mut lines = Vec::with_capacity(p.headers.len());
    for h in &p.headers {
        if h == "(request-target)" {
            lines.push(format!("(request-target): {method} {}", req.target));
            continue;
        }
        let values: Vec<&str> = req
            .headers
            .get_all(h.as_str())
            .iter()
            .map(|v| v.to_str().map_err(|_| format!("header `{h}` is not ASCII")))
            .collect::<Result<_, _>>()?;
        if values.is_empty() {
            return Err(format!("signed header `{h}` is missing from the request"));
        }
        lines.push(format!("{h}: {}", values.join(", ")));
    }
    let signing_string = lines.join("\n");
    let key = keys
        .keys
        .get(&p.key_id)
        .ok_or_else(|| format!("unknown keyId `{}`", p.key_id))?;
    let sig = B64
        .decode(p.signature.as_bytes())
        .map_err(|_| "the signature is not base64")?;
    let alg: &dyn signature::VerificationAlgorithm = if key.legacy_1024 {
        &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
    } else {
        &signature::RSA_PKCS1_2048_8192_SHA256
    };
    UnparsedPublicKey::new(alg, &key.rsa_der)
        .verify(signing_string.as_bytes(), &sig)
        .map_err(|_| "the signature does not match".to_string())?;
    if has("x-content-sha256") {
        let sent = header(req.headers, "x-content-sha256").unwrap_or_default();
        let actual = B64.encode(Sha256::digest(req.body));
        if sent != actual {
            return Err("x-content-sha256 does not match the body".into());
        }
    }
    if has("content-length") {
        let sent = header(req.headers, "content-length").unwrap_or_default();
        if sent.trim() != req.body.len().to_string() {
            return Err("content-length does not match the body".into());
        }
    }
    if let Some(now) = now_ms {
        let date = header(req.headers, "x-date")
            .or_else(|| header(req.headers, "date"))
            .unwrap_or_default();
        let t =
            httpdate::parse_http_date(&date).map_err(|_| "the date header is not an HTTP date")?;
        let t_ms = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        if (t_ms - now).abs() > 5 * 60 * 1000 {
            return Err("the date header is more than 5 minutes from the server's clock".into());
        }
    }
    Ok(p.key_id)
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle's documented 1024-bit test key (public half), from the "Request Signatures" page.
    const ORACLE_DOC_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----";

    const ORACLE_KEY_ID: &str = "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq/ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq/20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";

    fn oracle_keys() -> TrustedKeys {
        let mut k = TrustedKeys::default();
        k.add_key_id(ORACLE_KEY_ID, ORACLE_DOC_PUBLIC_KEY, true)
            .unwrap();
        k
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                axum::http::HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn test_key_fingerprint_matches_the_constant() {
        let spki = pem_decode(TEST_PUBLIC_KEY_PEM).unwrap();
        assert_eq!(fingerprint(&spki), TEST_KEY_FINGERPRINT);
        assert!(
            TrustedKeys::with_test_key()
                .keys
                .contains_key(&test_key_id())
        );
    }

    #[test]
    fn parses_both_parameter_orders() {
        let py = r#"Signature algorithm="rsa-sha256",headers="date (request-target) host",keyId="a/b/c",signature="c2ln",version="1""#;
        let go = r#"Signature version="1",headers="date (request-target) host",keyId="a/b/c",algorithm="rsa-sha256",signature="c2ln""#;
        assert_eq!(
            parse_authorization(py).unwrap(),
            parse_authorization(go).unwrap()
        );
        assert!(parse_authorization("Bearer x").is_err());
        assert!(parse_authorization("Signature keyId=\"x").is_err());
        assert!(parse_authorization("Signature ").is_err());
    }

    /// Vector 8 of oci_sign_vector.out.txt, produced by the official Python SDK signer.
    fn vector8() -> (HeaderMap, &'static str) {
        let auth = r#"Signature algorithm="rsa-sha256",headers="date (request-target) host",keyId="ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq/ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq/20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34",signature="cHAMVVRPuczKbLj3H0UA6mIHZOImPOWfuvWlT2+h8bwX3Ag2ior84OuwPI5yZKrD39ahEjZqC7D7uY5wodMlQOHNuC3ay8tc8eoLpXb2wJrez9wEhB19hYyONOnQ4Q5lXVffhU50VgfO9beb+hUpg7cg5qfhCgzMlCj0TcRPzQo=",version="1""#;
        (
            headers(&[
                ("date", "Thu, 05 Jan 2014 21:31:40 GMT"),
                ("host", "127.0.0.1:8080"),
                ("content-type", "application/json"),
                ("authorization", auth),
            ]),
            "/20160918/vcns?compartmentId=ocid1.compartment.oc1..aaaaaaaaexample&limit=10",
        )
    }

    #[test]
    fn accepts_the_official_sdk_vector_and_rejects_changes() {
        let keys = oracle_keys();
        let (h, target) = vector8();
        let ok = Received {
            method: "GET",
            target,
            headers: &h,
            body: b"",
            body_exempt: false,
        };
        assert_eq!(verify(&keys, &ok, None).unwrap(), ORACLE_KEY_ID);
        // The date is from 2014: the skew check refuses it.
        assert!(verify(&keys, &ok, Some(1_700_000_000_000)).is_err());
        let other_path = Received {
            target: "/20160918/vcns?compartmentId=x&limit=10",
            ..ok
        };
        assert!(verify(&keys, &other_path, None).is_err());
        let mut h2 = h.clone();
        h2.insert("host", "127.0.0.1:8081".parse().unwrap());
        let other_host = Received {
            method: "GET",
            target,
            headers: &h2,
            body: b"",
            body_exempt: false,
        };
        assert!(verify(&keys, &other_host, None).is_err());
        let post = Received {
            method: "POST",
            target,
            headers: &h,
            body: b"",
            body_exempt: false,
        };
        assert!(
            verify(&keys, &post, None)
                .unwrap_err()
                .contains("content-length")
        );
        // Unknown key.
        assert!(
            verify(&TrustedKeys::with_test_key(), &ok, None)
                .unwrap_err()
                .contains("unknown keyId")
        );
    }

    /// Oracle's documented POST example (vector 2), body hash included.
    #[test]
    fn accepts_the_documented_post_vector() {
        let body = "{\n    \"compartmentId\": \"ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa\",\n    \"instanceId\": \"ocid1.instance.oc1.phx.abuw4ljrlsfiqw6vzzxb43vyypt4pkodawglp3wqxjqofakrwvou52gb6s5a\",\n    \"volumeId\": \"ocid1.volume.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q\"\n}";
        assert_eq!(body.len(), 316);
        let auth = format!(
            r#"Signature version="1",headers="date (request-target) host content-length content-type x-content-sha256",keyId="{ORACLE_KEY_ID}",algorithm="rsa-sha256",signature="Mje8vIDPlwIHmD/cTDwRxE7HaAvBg16JnVcsuqaNRim23fFPgQfLoOOxae6WqKb1uPjYEl0qIdazWaBy/Ml8DRhqlocMwoSXv0fbukP8J5N80LCmzT/FFBvIvTB91XuXI3hYfP9Zt1l7S6ieVadHUfqBedWH0itrtPJBgKmrWso=""#
        );
        let h = headers(&[
            ("date", "Thu, 05 Jan 2014 21:31:40 GMT"),
            ("host", "iaas.us-phoenix-1.oraclecloud.com"),
            ("content-length", "316"),
            ("content-type", "application/json"),
            (
                "x-content-sha256",
                "V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0=",
            ),
            ("authorization", &auth),
        ]);
        let keys = oracle_keys();
        let r = Received {
            method: "POST",
            target: "/20160918/volumeAttachments",
            headers: &h,
            body: body.as_bytes(),
            body_exempt: false,
        };
        verify(&keys, &r, None).unwrap();
        let tampered = Received { body: b"{}", ..r };
        assert!(verify(&keys, &tampered, None).is_err());
    }
}
