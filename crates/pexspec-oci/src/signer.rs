//! OCI request signing, "Signature Version 1" exactly as the official SDK does it
//! (oci-api.md §1): which headers for which method, the body hash, the Object Storage
//! PutObject/UploadPart exception, `(request-target)` with the query as sent, `host` with port.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::error::OciError;
use crate::key::ApiKey;

/// Whether the body is covered by the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySigning {
    /// POST/PUT/PATCH sign `content-length`, `content-type` and `x-content-sha256` too
    /// (every operation except the two below).
    Signed,
    /// Object Storage PutObject and UploadPart: only `date (request-target) host` are signed,
    /// no `x-content-sha256` is computed (the SDK's `enforce_content_headers=False`).
    Excluded,
}

const GENERIC: &[&str] = &["date", "(request-target)", "host"];
const WITH_BODY: &[&str] = &[
    "date",
    "(request-target)",
    "host",
    "content-length",
    "content-type",
    "x-content-sha256",
];

/// The header names signed for `method`, in signing order.
pub fn headers_to_sign(
    method: &Method,
    body: BodySigning,
) -> Result<&'static [&'static str], OciError> {
    match *method {
        Method::GET | Method::HEAD | Method::DELETE => Ok(GENERIC),
        Method::POST | Method::PUT | Method::PATCH => Ok(match body {
            BodySigning::Signed => WITH_BODY,
            BodySigning::Excluded => GENERIC,
        }),
        _ => Err(OciError::InvalidArgument {
            operation: "sign",
            problem: format!("method `{method}` cannot be signed"),
        }),
    }
}

/// The `host` value that hyper will send: host, plus `:port` when the URL names a non-default port.
pub fn host_of(url: &Url) -> Result<String, OciError> {
    let host = url.host_str().ok_or_else(|| OciError::InvalidArgument {
        operation: "sign",
        problem: format!("URL `{url}` has no host"),
    })?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// The `(request-target)` value: lower-case method, space, encoded path and `?query` as sent.
pub fn request_target(method: &Method, url: &Url) -> String {
    let mut target = format!("{} {}", method.as_str().to_ascii_lowercase(), url.path());
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    target
}

/// base64(SHA-256(body)), the `x-content-sha256` value.
pub fn content_sha256(body: &[u8]) -> String {
    STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, body))
}

/// Builds the signing string: one `name: value` line per signed header, joined by `\n`,
/// no trailing newline. Every header but `(request-target)` and `host` is read from `headers`.
pub fn signing_string(
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    names: &[&str],
) -> Result<String, OciError> {
    let mut lines = Vec::with_capacity(names.len());
    for &name in names {
        let value = match name {
            "(request-target)" => request_target(method, url),
            "host" => host_of(url)?,
            other => headers
                .get(other)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| OciError::InvalidArgument {
                    operation: "sign",
                    problem: format!("header `{other}` to sign is missing or not ASCII"),
                })?
                .to_string(),
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// The `Authorization` header value, in the Python SDK's parameter order.
pub fn authorization_header(key_id: &str, names: &[&str], signature_b64: &str) -> String {
    format!(
        "Signature algorithm=\"rsa-sha256\",headers=\"{}\",keyId=\"{key_id}\",signature=\"{signature_b64}\",version=\"1\"",
        names.join(" ")
    )
}

/// Adds the headers the SDK injects before signing (`date` from `now`, `host`, and for signed
/// bodies `content-type: application/json`, `content-length`, `x-content-sha256`) where the
/// caller has not set them, and returns the names to sign.
pub fn prepare_headers(
    method: &Method,
    url: &Url,
    headers: &mut HeaderMap,
    body: &[u8],
    body_signing: BodySigning,
    now: std::time::SystemTime,
) -> Result<&'static [&'static str], OciError> {
    let names = headers_to_sign(method, body_signing)?;
    set_default(headers, "date", &httpdate::fmt_http_date(now))?;
    set_default(headers, "host", &host_of(url)?)?;
    if names.len() > GENERIC.len() {
        set_default(headers, "content-type", "application/json")?;
        set_default(headers, "content-length", &body.len().to_string())?;
        set_default(headers, "x-content-sha256", &content_sha256(body))?;
    }
    Ok(names)
}

/// Signs requests with one API key. Cheap to clone; Debug shows the key id only.
#[derive(Clone)]
pub struct Signer {
    key_id: String,
    key: ApiKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// A signer whose keyId is `tenancy/user/fingerprint`.
    pub fn new(tenancy: &str, user: &str, fingerprint: &str, key: ApiKey) -> Self {
        Self {
            key_id: format!("{tenancy}/{user}/{fingerprint}"),
            key,
        }
    }

    /// The keyId put in every Authorization header.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The API key.
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// Signs a request in place, as `oci.signer.Signer` does: adds `date` (now) and `host`
    /// if absent; for signed bodies adds `content-type: application/json`, `content-length`
    /// and `x-content-sha256` if absent; then adds `authorization`. Caller-set values win.
    pub fn sign(
        &self,
        method: &Method,
        url: &Url,
        headers: &mut HeaderMap,
        body: &[u8],
        body_signing: BodySigning,
    ) -> Result<(), OciError> {
        self.sign_at(
            method,
            url,
            headers,
            body,
            body_signing,
            std::time::SystemTime::now(),
        )
    }

    /// Like [`Signer::sign`], with the `date` taken from `now` when the request has none.
    pub fn sign_at(
        &self,
        method: &Method,
        url: &Url,
        headers: &mut HeaderMap,
        body: &[u8],
        body_signing: BodySigning,
        now: std::time::SystemTime,
    ) -> Result<(), OciError> {
        let names = prepare_headers(method, url, headers, body, body_signing, now)?;
        let text = signing_string(method, url, headers, names)?;
        let signature = STANDARD.encode(self.key.sign_sha256(text.as_bytes())?);
        let auth = authorization_header(&self.key_id, names, &signature);
        headers.insert(reqwest::header::AUTHORIZATION, header_value(&auth)?);
        Ok(())
    }
}

fn set_default(headers: &mut HeaderMap, name: &'static str, value: &str) -> Result<(), OciError> {
    if !headers.contains_key(name) {
        headers.insert(HeaderName::from_static(name), header_value(value)?);
    }
    Ok(())
}

fn header_value(value: &str) -> Result<HeaderValue, OciError> {
    HeaderValue::from_str(value).map_err(|_| OciError::InvalidArgument {
        operation: "sign",
        problem: "a header value is not valid ASCII".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keeps_explicit_ports_only() {
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(host_of(&u).unwrap(), "127.0.0.1:8080");
        let u = Url::parse("https://iaas.eu-frankfurt-1.oraclecloud.com:443/x").unwrap();
        assert_eq!(host_of(&u).unwrap(), "iaas.eu-frankfurt-1.oraclecloud.com");
    }

    #[test]
    fn request_target_keeps_the_encoded_query() {
        let u =
            Url::parse("https://h/20160918/instances?availabilityDomain=Pjwf%3A%20PHX-AD-1&x=1")
                .unwrap();
        assert_eq!(
            request_target(&Method::GET, &u),
            "get /20160918/instances?availabilityDomain=Pjwf%3A%20PHX-AD-1&x=1"
        );
    }

    #[test]
    fn empty_body_hash_is_the_sdk_value() {
        assert_eq!(
            content_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn other_methods_are_refused() {
        assert!(headers_to_sign(&Method::OPTIONS, BodySigning::Signed).is_err());
        assert_eq!(
            headers_to_sign(&Method::DELETE, BodySigning::Signed)
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            headers_to_sign(&Method::PUT, BodySigning::Excluded)
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            headers_to_sign(&Method::PATCH, BodySigning::Signed)
                .unwrap()
                .len(),
            6
        );
    }
}
