//! The HTTP client of the Pexip management API: basic auth, pinned TLS, retries with backoff
//! and jitter, error classification, list pagination (`meta`/`objects`), and typed
//! get / create (`Location`) / update (PATCH) / delete.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::PexipError;
use crate::retry::{RetryPolicy, Sleeper, TokioSleeper};
use crate::secret::Secret;
use crate::trust::{Fingerprint, Trust, TrustHandle, rustls_config};
use crate::uri::{CONFIG_PREFIX, ResourceUri, STATUS_PREFIX};

/// Which API a resource belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/api/admin/configuration/v1/`.
    Configuration,
    /// `/api/admin/status/v1/`.
    Status,
}

/// A resource type of the API, as read from it.
pub trait Resource: DeserializeOwned {
    /// Endpoint name (`worker_vm`, `dns_server`, ...).
    const KIND: &'static str;
    /// Configuration or status.
    const API: Api;

    /// The collection path, e.g. `/api/admin/configuration/v1/dns_server/`.
    fn collection() -> String {
        match Self::API {
            Api::Configuration => format!("{CONFIG_PREFIX}{}/", Self::KIND),
            Api::Status => format!("{STATUS_PREFIX}{}/", Self::KIND),
        }
    }
}

/// The `meta` block of a list answer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Meta {
    /// Page size.
    #[serde(default)]
    pub limit: u64,
    /// Path of the next page, if any.
    #[serde(default)]
    pub next: Option<String>,
    /// Index of the first object of this page.
    #[serde(default)]
    pub offset: u64,
    /// Path of the previous page, if any.
    #[serde(default)]
    pub previous: Option<String>,
    /// Objects matching the filters, over all pages.
    #[serde(default)]
    pub total_count: u64,
}

/// One page of a list answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    /// Pagination.
    pub meta: Meta,
    /// The objects of this page.
    pub objects: Vec<T>,
}

/// Options of [`Client::new`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://<manager>` (no path). Plain `http` is refused: the password would travel in clear.
    pub base_url: String,
    /// Web administration username (default `admin`).
    pub username: String,
    /// Web administration password.
    pub password: Secret,
    /// How to trust the Management Node's certificate.
    pub trust: Trust,
    /// Retries of failed calls.
    pub retry: RetryPolicy,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Sleeps between retries and polls.
    pub sleeper: Arc<dyn Sleeper>,
}

impl ClientOptions {
    /// User `admin`, default retries, 30 s per attempt, tokio sleeps.
    pub fn new(base_url: impl Into<String>, password: Secret, trust: Trust) -> Self {
        ClientOptions {
            base_url: base_url.into(),
            username: "admin".into(),
            password,
            trust,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

/// An answer with a 2xx status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Builds a reqwest client that trusts as `trust` says (HTTPS only).
pub(crate) fn http_client(
    trust: &Trust,
    timeout: Duration,
) -> Result<(reqwest::Client, TrustHandle), PexipError> {
    let (tls, handle) = rustls_config(trust)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .https_only(true)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .map_err(|e| PexipError::Config(format!("cannot build the HTTP client: {e}")))?;
    Ok((http, handle))
}

/// Connects to `base_url` without sending any credential and returns the SHA-256 fingerprint
/// of the certificate presented: the first step of trust on first use, to show the operator
/// (and store) before the admin password is ever sent.
pub async fn probe_fingerprint(
    base_url: &str,
    timeout: Duration,
) -> Result<Fingerprint, PexipError> {
    let base = base_url.trim_end_matches('/');
    if !base.starts_with("https://") {
        return Err(PexipError::Config(format!(
            "the URL `{base}` must start with `https://`"
        )));
    }
    let (http, trust) = http_client(&Trust::FirstUse, timeout)?;
    let url = format!("{base}/api/admin/");
    // Any HTTP answer (401 included) means the handshake completed.
    let sent = http.get(&url).send().await;
    match (trust.observed(), sent) {
        (Some(fp), _) => Ok(fp),
        (None, Err(e)) => Err(PexipError::Network {
            url,
            message: chain(&e),
        }),
        (None, Ok(_)) => Err(PexipError::Network {
            url,
            message: "no certificate was presented".into(),
        }),
    }
}

/// The error text of a reqwest failure with its causes.
pub(crate) fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Percent-encodes a query component.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query(filters: &[(&str, &str)], limit: Option<u64>, offset: Option<u64>) -> String {
    let mut parts: Vec<String> = filters
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    if let Some(l) = limit {
        parts.push(format!("limit={l}"));
    }
    if let Some(o) = offset {
        parts.push(format!("offset={o}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The resource kind named by an API path, for error messages.
fn kind_of(path: &str) -> String {
    let rest = path
        .strip_prefix(CONFIG_PREFIX)
        .or_else(|| path.strip_prefix(STATUS_PREFIX))
        .unwrap_or(path);
    rest.split(['/', '?']).next().unwrap_or_default().to_owned()
}

fn truncate(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_owned(),
    }
}

/// Reads a 400 body: `{"<kind>": {"<field>": ["msg"]}}` or `{"error": "msg"}`.
pub(crate) fn validation_error(path: &str, body: &[u8]) -> PexipError {
    let mut kind = kind_of(path);
    let mut fields = BTreeMap::new();
    let mut message = None;
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => {
            for (key, value) in map {
                match value {
                    Value::String(s) if key == "error" || key == "error_message" => {
                        message = Some(s)
                    }
                    Value::Object(inner) => {
                        kind = key;
                        for (field, msgs) in inner {
                            let list = match msgs {
                                Value::Array(a) => a
                                    .into_iter()
                                    .map(|m| {
                                        m.as_str()
                                            .map(str::to_owned)
                                            .unwrap_or_else(|| m.to_string())
                                    })
                                    .collect(),
                                Value::String(s) => vec![s],
                                other => vec![other.to_string()],
                            };
                            fields.insert(field, list);
                        }
                    }
                    Value::Array(a) => {
                        let list = a.into_iter().map(|m| {
                            m.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| m.to_string())
                        });
                        fields.insert(key, list.collect());
                    }
                    other => message = Some(format!("{key}: {other}")),
                }
            }
        }
        _ => message = Some(truncate(&String::from_utf8_lossy(body))),
    }
    PexipError::Validation {
        kind,
        fields,
        message,
    }
}

fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("error").and_then(Value::as_str) {
            Some(m) => truncate(m),
            None => truncate(&v.to_string()),
        },
        Err(_) => truncate(&String::from_utf8_lossy(body)),
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A request body.
#[derive(Debug)]
pub(crate) enum Body {
    Json(Value),
}

/// A client of one Management Node.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    username: String,
    password: Secret,
    retry: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
    trust: TrustHandle,
    sent: AtomicU64,
}

impl Client {
    /// A client for the Management Node at `opts.base_url`. No connection is made yet.
    pub fn new(opts: ClientOptions) -> Result<Self, PexipError> {
        let base = opts.base_url.trim_end_matches('/').to_owned();
        if !base.starts_with("https://") {
            return Err(PexipError::Config(format!(
                "the Management Node URL `{base}` must start with `https://`: the admin password is sent with every call"
            )));
        }
        let (http, trust) = http_client(&opts.trust, opts.request_timeout)?;
        Ok(Client {
            http,
            base,
            username: opts.username,
            password: opts.password,
            retry: opts.retry,
            sleeper: opts.sleeper,
            trust,
            sent: AtomicU64::new(0),
        })
    }

    /// The Management Node's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The SHA-256 fingerprint of the certificate the Management Node presented (with
    /// [`Trust::FirstUse`]: the one to store and show, and from now on required).
    pub fn observed_fingerprint(&self) -> Option<Fingerprint> {
        self.trust.observed()
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The sleeper used between retries and polls.
    pub fn sleeper(&self) -> &Arc<dyn Sleeper> {
        &self.sleeper
    }

    /// Sends one call with retries; `path` is an absolute API path (with query).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Body>,
    ) -> Result<Reply, PexipError> {
        self.send_counted(method, path, body).await.0
    }

    /// [`Client::send`], also telling how many attempts it took.
    async fn send_counted(
        &self,
        method: Method,
        path: &str,
        body: Option<&Body>,
    ) -> (Result<Reply, PexipError>, u32) {
        let url = format!("{}{}", self.base, path);
        let idempotent = method != Method::POST;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .basic_auth(&self.username, Some(self.password.expose()))
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(Body::Json(v)) = body {
                req = req.json(v);
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
            let (err, retryable, wait_hint) = match req.send().await {
                Err(e) => {
                    if let Some(failure) = self.trust.take_failure() {
                        return (Err(PexipError::Trust(failure)), attempt);
                    }
                    let retryable = idempotent || e.is_connect();
                    (
                        PexipError::Network {
                            url: url.clone(),
                            message: chain(&e),
                        },
                        retryable,
                        None,
                    )
                }
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let bytes = match resp.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) => {
                            let err = PexipError::Network {
                                url: url.clone(),
                                message: chain(&e),
                            };
                            if idempotent && attempt < self.retry.max_attempts {
                                self.pause(attempt, None).await;
                                continue;
                            }
                            return (Err(err), attempt);
                        }
                    };
                    if status.is_success() {
                        return (
                            Ok(Reply {
                                headers,
                                body: bytes,
                            }),
                            attempt,
                        );
                    }
                    let err = self.status_error(&method, path, status, &headers, &bytes);
                    let retryable = match status.as_u16() {
                        429 => true,
                        s if s >= 500 => idempotent,
                        _ => false,
                    };
                    (err, retryable, retry_after(&headers))
                }
            };
            if !retryable || attempt >= self.retry.max_attempts {
                return (Err(err), attempt);
            }
            self.pause(attempt, wait_hint).await;
        }
    }

    async fn pause(&self, attempt: u32, at_least: Option<Duration>) {
        let delay = self.retry.delay(attempt, rand::random::<f64>());
        // Honour `Retry-After`, up to five minutes.
        let delay = at_least.map_or(delay, |min| delay.max(min.min(Duration::from_secs(300))));
        self.sleeper.sleep(delay).await;
    }

    fn status_error(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> PexipError {
        match status.as_u16() {
            401 | 403 => PexipError::Auth {
                url: self.base.clone(),
                username: self.username.clone(),
                status: status.as_u16(),
            },
            404 => PexipError::NotFound {
                path: path.split('?').next().unwrap_or(path).to_owned(),
            },
            400 => validation_error(path, body),
            409 => PexipError::Conflict {
                path: path.to_owned(),
                message: error_message(body),
            },
            429 => PexipError::Throttled {
                path: path.to_owned(),
                retry_after: retry_after(headers),
            },
            s => PexipError::Server {
                status: s,
                method: method.to_string(),
                path: path.to_owned(),
                message: error_message(body),
            },
        }
    }

    fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, PexipError> {
        serde_json::from_slice(body).map_err(|e| PexipError::Decode {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// GETs `path` and reads it as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, PexipError> {
        let reply = self.send(Method::GET, path, None).await?;
        Self::decode(path, &reply.body)
    }

    /// One page of `R`, filtered (exact match per field, e.g. `("address", "10.0.0.2")`).
    pub async fn list_page<R: Resource>(
        &self,
        filters: &[(&str, &str)],
        limit: u64,
        offset: u64,
    ) -> Result<Page<R>, PexipError> {
        let path = format!(
            "{}{}",
            R::collection(),
            query(filters, Some(limit), Some(offset))
        );
        self.get_json(&path).await
    }

    /// Every `R` matching `filters`, following `meta.next` over all pages.
    pub async fn list<R: Resource>(&self, filters: &[(&str, &str)]) -> Result<Vec<R>, PexipError> {
        const PAGE: u64 = 200;
        let mut out = Vec::new();
        let mut path = format!("{}{}", R::collection(), query(filters, Some(PAGE), Some(0)));
        for _ in 0..10_000 {
            let page: Page<R> = self.get_json(&path).await?;
            let got = page.objects.len() as u64;
            out.extend(page.objects);
            match page.meta.next {
                // Follow the server's link only within this API.
                Some(next) if next.starts_with("/api/") && got > 0 => path = next,
                Some(_) if got > 0 => {
                    let offset = page.meta.offset + got;
                    path = format!(
                        "{}{}",
                        R::collection(),
                        query(filters, Some(PAGE), Some(offset))
                    );
                }
                _ => return Ok(out),
            }
        }
        Err(PexipError::Decode {
            path,
            message: "more than 10000 pages: the list never ends".into(),
        })
    }

    /// GETs one object by its resource URI.
    pub async fn get<R: Resource>(&self, uri: &ResourceUri) -> Result<R, PexipError> {
        self.get_json(uri.as_str()).await
    }

    /// POSTs `body` to `kind`'s collection; returns the `Location` and the answer's body.
    pub(crate) async fn post(
        &self,
        kind: &str,
        body: &Value,
    ) -> Result<(Option<ResourceUri>, Vec<u8>), PexipError> {
        let path = format!("{CONFIG_PREFIX}{kind}/");
        let reply = self
            .send(Method::POST, &path, Some(&Body::Json(body.clone())))
            .await?;
        let location = reply
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(ResourceUri::new);
        Ok((location, reply.body))
    }

    /// Creates an object of `R` from `body`; returns its URI (the `Location` header).
    pub async fn create<R: Resource>(&self, body: &Value) -> Result<ResourceUri, PexipError> {
        let (location, _) = self.post(R::KIND, body).await?;
        location.ok_or_else(|| PexipError::Decode {
            path: R::collection(),
            message: "the create answer has no `Location` header".into(),
        })
    }

    /// Changes the fields in `patch` (PATCH: other fields are kept).
    pub async fn update(&self, uri: &ResourceUri, patch: &Value) -> Result<(), PexipError> {
        self.send(
            Method::PATCH,
            uri.as_str(),
            Some(&Body::Json(patch.clone())),
        )
        .await
        .map(|_| ())
    }

    /// Deletes an object. An object already gone is not an error after a retried attempt.
    pub async fn delete(&self, uri: &ResourceUri) -> Result<(), PexipError> {
        match self.send_counted(Method::DELETE, uri.as_str(), None).await {
            (Ok(_), _) => Ok(()),
            // A 404 after a retry: an earlier attempt deleted it and its answer was lost.
            (Err(PexipError::NotFound { .. }), attempts) if attempts > 1 => Ok(()),
            (Err(e), _) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_read_from_a_400_body() {
        let body = br#"{"worker_vm": {"name": ["Ensure this value has at most 32 characters (it has 33)."]}}"#;
        match validation_error("/api/admin/configuration/v1/worker_vm/", body) {
            PexipError::Validation {
                kind,
                fields,
                message,
            } => {
                assert_eq!(kind, "worker_vm");
                assert_eq!(fields["name"].len(), 1);
                assert!(message.is_none());
            }
            other => panic!("{other:?}"),
        }
        match validation_error(
            "/api/admin/configuration/v1/dns_server/",
            br#"{"error": "bad"}"#,
        ) {
            PexipError::Validation { kind, message, .. } => {
                assert_eq!(kind, "dns_server");
                assert_eq!(message.as_deref(), Some("bad"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            query(&[("name", "Board room")], Some(20), Some(0)),
            "?name=Board%20room&limit=20&offset=0"
        );
        assert_eq!(query(&[], None, None), "");
    }

    #[test]
    fn plain_http_is_refused() {
        let err = Client::new(ClientOptions::new(
            "http://127.0.0.1:1",
            Secret::new("x"),
            Trust::FirstUse,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }
}
