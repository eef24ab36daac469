//! The client engine: URL building per region and service, signing, the shared adaptive rate
//! limit per (service, region), retries with backoff, error classing, pagination, ETags and
//! retry tokens. The typed operations live in `ops/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::{Clock, TokioClock};
use crate::config::OciConfig;
use crate::endpoints::{Endpoints, Service};
use crate::error::{OciError, ServiceError};
use crate::models::OciResource;
use crate::permissions::Operation;
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::retry::{RetryCounts, RetryPolicy, RetryStats, parse_retry_after};
use crate::signer::{BodySigning, Signer};

/// Upper bound on pages followed by one list call (OCI pages hold up to 1000 items).
const MAX_PAGES: usize = 10_000;

/// Tuning of an [`OciClient`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Retry policy for retryable failures.
    pub retry: RetryPolicy,
    /// The adaptive rate limit, one bucket per (service, region).
    pub rate_limit: RateLimitConfig,
    /// The clock used for backoff, rate limiting and polling.
    pub clock: Arc<dyn Clock>,
    /// Seed for backoff jitter, request ids and generated retry tokens (tests); random if `None`.
    pub seed: Option<u64>,
    /// `User-Agent` header.
    pub user_agent: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout for API calls (`None`: no limit).
    pub request_timeout: Option<Duration>,
    /// Whole-request timeout for object uploads (`None`: no limit).
    pub upload_timeout: Option<Duration>,
    /// Largest response body read; larger answers are an error.
    pub max_response_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            rate_limit: RateLimitConfig::default(),
            clock: Arc::new(TokioClock::new()),
            seed: None,
            user_agent: format!("pexspec/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(30),
            request_timeout: Some(Duration::from_secs(120)),
            upload_timeout: Some(Duration::from_secs(3600)),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

struct Inner {
    http: reqwest::Client,
    signer: Signer,
    tenancy: String,
    endpoints: Endpoints,
    options: ClientOptions,
    rng: Mutex<StdRng>,
    limiters: Mutex<BTreeMap<(Service, String), Arc<RateLimiter>>>,
    retries: RetryStats,
}

/// The typed OCI client. Cheap to clone; clones share the connection pool and the rate limits.
/// Every call goes to the client's current region ([`OciClient::in_region`] switches).
#[derive(Clone)]
pub struct OciClient {
    inner: Arc<Inner>,
    region: String,
}

impl fmt::Debug for OciClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciClient")
            .field("region", &self.region)
            .field("tenancy", &self.inner.tenancy)
            .field("signer", &self.inner.signer)
            .finish_non_exhaustive()
    }
}

/// A resource together with the work request tracking its creation or deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct WithWorkRequest<T> {
    /// The resource (or `()` for deletes).
    pub resource: T,
    /// `opc-work-request-id`, when the service returned one.
    pub work_request_id: Option<String>,
}

/// A request before signing.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub op: &'static str,
    pub service: Service,
    pub method: Method,
    pub path: Vec<String>,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub body_signing: BodySigning,
    /// Use the upload timeout instead of the API timeout.
    pub upload: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    Raw(Bytes, String),
}

impl Request {
    /// A request for `op`: every request names its [`Operation`], so none can be sent
    /// without an entry in the permissions table.
    pub(crate) fn new(op: Operation, service: Service, method: Method, path: Vec<String>) -> Self {
        Self {
            op: op.name(),
            service,
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            body_signing: BodySigning::Signed,
            upload: false,
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn query_opt(self, key: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    pub(crate) fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn header_opt(self, name: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    pub(crate) fn json<B: Serialize>(mut self, body: &B) -> Result<Self, OciError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            OciError::Internal(format!("{}: cannot serialise the body: {e}", self.op))
        })?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }
}

/// A 2xx answer, body read.
#[derive(Debug)]
pub(crate) struct Response {
    pub op: &'static str,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub request_id: String,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub(crate) fn decode_error(&self, message: String) -> OciError {
        OciError::Decode {
            operation: self.op,
            message,
            opc_request_id: self.request_id.clone(),
        }
    }

    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, OciError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| self.decode_error(format!("invalid JSON body: {e}")))
    }

    /// Decodes a resource and records the `etag` header on it.
    pub(crate) fn resource<T: DeserializeOwned + OciResource>(&self) -> Result<T, OciError> {
        let mut r: T = self.json()?;
        r.set_etag(self.header("etag"));
        Ok(r)
    }
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl OciClient {
    /// A client for `config`'s profile: reads and checks the API key, defaults to the profile's
    /// region, and resolves endpoints with `endpoints`.
    pub fn new(config: &OciConfig, endpoints: Endpoints) -> Result<Self, OciError> {
        Self::with_options(config, endpoints, ClientOptions::default())
    }

    /// Like [`OciClient::new`] with explicit options.
    pub fn with_options(
        config: &OciConfig,
        endpoints: Endpoints,
        options: ClientOptions,
    ) -> Result<Self, OciError> {
        let signer = config.signer()?;
        Self::from_signer(signer, &config.tenancy, &config.region, endpoints, options)
    }

    /// A client from an already built signer (tests, or keys held elsewhere).
    pub fn from_signer(
        signer: Signer,
        tenancy: &str,
        region: &str,
        endpoints: Endpoints,
        options: ClientOptions,
    ) -> Result<Self, OciError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            // A redirect would change the signed host or path: surface it as an error instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OciError::Internal(format!("cannot build the HTTP client: {e}")))?;
        let rng = match options.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                signer,
                tenancy: tenancy.to_string(),
                endpoints,
                options,
                rng: Mutex::new(rng),
                limiters: Mutex::new(BTreeMap::new()),
                retries: RetryStats::default(),
            }),
            region: region.to_string(),
        })
    }

    /// The region calls go to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The same client (pool, rate limits, signer) calling `region`.
    pub fn in_region(&self, region: &str) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            region: region.to_string(),
        }
    }

    /// The tenancy OCID of the profile (the root compartment).
    pub fn tenancy_id(&self) -> &str {
        &self.inner.tenancy
    }

    /// The endpoints the client resolves regions with.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// The signer.
    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// The clock the client waits with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.options.clock
    }

    /// The retries this client and its clones made so far, by cause (429, 5xx, other).
    pub fn retry_counts(&self) -> RetryCounts {
        self.inner.retries.counts()
    }

    /// The current adaptive rate (requests per second) for `service` in this client's region.
    pub fn current_rate(&self, service: Service) -> f64 {
        self.limiter(service).rate()
    }

    fn limiter(&self, service: Service) -> Arc<RateLimiter> {
        let now = self.inner.options.clock.now();
        let Ok(mut map) = self.inner.limiters.lock() else {
            return Arc::new(RateLimiter::new(self.inner.options.rate_limit.clone(), now));
        };
        Arc::clone(
            map.entry((service, self.region.clone()))
                .or_insert_with(|| {
                    Arc::new(RateLimiter::new(self.inner.options.rate_limit.clone(), now))
                }),
        )
    }

    fn random_unit(&self) -> f64 {
        self.inner
            .rng
            .lock()
            .map(|mut r| r.random::<f64>())
            .unwrap_or(0.5)
    }

    fn random_string(&self, len: usize, alphabet: &[u8]) -> String {
        let Ok(mut rng) = self.inner.rng.lock() else {
            return "0".repeat(len);
        };
        (0..len)
            .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
            .collect()
    }

    /// A fresh `opc-request-id`: 32 upper-case hex digits, as the SDK sends.
    fn new_request_id(&self) -> String {
        self.random_string(32, b"0123456789ABCDEF")
    }

    /// A random 30-character retry token, as the SDK generates when the caller gives none.
    pub(crate) fn retry_token(&self, given: Option<&str>) -> String {
        match given {
            Some(t) => t.to_string(),
            None => self.random_string(
                30,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            ),
        }
    }

    fn url(&self, req: &Request) -> Result<Url, OciError> {
        let mut url = self.inner.endpoints.root(req.service, &self.region)?;
        {
            let mut segments = url.path_segments_mut().map_err(|_| OciError::Endpoint {
                region: self.region.clone(),
                problem: "the base URL cannot take a path".into(),
            })?;
            segments.pop_if_empty();
            segments.extend(req.service.base_path());
            segments.extend(req.path.iter());
        }
        if !req.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Sends `req` with retries, rate limiting and signing; returns the 2xx answer.
    pub(crate) async fn execute(&self, req: &Request) -> Result<Response, OciError> {
        let url = self.url(req)?;
        let limiter = self.limiter(req.service);
        let clock = Arc::clone(&self.inner.options.clock);
        let policy = &self.inner.options.retry;
        let start = clock.now();
        let mut attempt = 1u32;
        loop {
            limiter.acquire(&*clock).await;
            match self.send_once(req, &url).await {
                Ok(resp) => {
                    limiter.on_success();
                    return Ok(resp);
                }
                Err(err) => {
                    if err.status() == Some(429) {
                        limiter.on_throttled(clock.now());
                    }
                    if !err.is_retryable() || attempt >= policy.max_attempts.max(1) {
                        return Err(err);
                    }
                    let delay = match err.service().and_then(|s| s.retry_after) {
                        Some(after) => after.min(policy.max_retry_after),
                        None => policy.backoff(attempt, self.random_unit()),
                    };
                    if clock.now().saturating_sub(start).saturating_add(delay) > policy.max_elapsed
                    {
                        return Err(err);
                    }
                    self.inner.retries.record(&err);
                    clock.sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn send_once(&self, req: &Request, url: &Url) -> Result<Response, OciError> {
        let op = req.op;
        let request_id = self.new_request_id();
        let bad_header = |name: &str| OciError::InvalidArgument {
            operation: op,
            problem: format!("header `{name}` has a value that is not visible ASCII"),
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_str(&self.inner.options.user_agent)
                .map_err(|_| bad_header("user-agent"))?,
        );
        headers.insert(
            "opc-request-id",
            HeaderValue::from_str(&request_id).map_err(|_| bad_header("opc-request-id"))?,
        );
        if self.inner.options.retry.max_attempts > 1 {
            headers.insert("opc-client-retries", HeaderValue::from_static("true"));
        }
        for (name, value) in &req.headers {
            let header_name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| OciError::InvalidArgument {
                    operation: op,
                    problem: format!("`{name}` is not a valid header name"),
                })?;
            headers.insert(
                header_name,
                HeaderValue::from_str(value).map_err(|_| bad_header(name))?,
            );
        }
        let body = match &req.body {
            Body::Empty => Bytes::new(),
            Body::Json(b) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                b.clone()
            }
            Body::Raw(b, content_type) => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_str(content_type).map_err(|_| bad_header("content-type"))?,
                );
                b.clone()
            }
        };
        let has_body = matches!(req.method, Method::POST | Method::PUT | Method::PATCH);
        if has_body && req.body_signing == BodySigning::Excluded {
            // Unsigned, but Object Storage requires it (reqwest would add it too).
            headers.insert("content-length", HeaderValue::from(body.len()));
        }
        self.inner
            .signer
            .sign(&req.method, url, &mut headers, &body, req.body_signing)?;
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .headers(headers);
        if has_body {
            builder = builder.body(body);
        }
        let timeout = if req.upload {
            self.inner.options.upload_timeout
        } else {
            self.inner.options.request_timeout
        };
        if let Some(t) = timeout {
            builder = builder.timeout(t);
        }
        let mut resp = builder.send().await.map_err(|e| network_error(op, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let request_id = headers
            .get("opc-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or(request_id);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| network_error(op, &e))? {
            if body.len() + chunk.len() > self.inner.options.max_response_bytes {
                return Err(OciError::Decode {
                    operation: op,
                    message: format!(
                        "response body larger than {} bytes",
                        self.inner.options.max_response_bytes
                    ),
                    opc_request_id: request_id,
                });
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(Response {
                op,
                headers,
                body: Bytes::from(body),
                request_id,
            });
        }
        let parsed: Option<ErrorBody> = serde_json::from_slice(&body).ok();
        let (code, message) = match parsed {
            Some(e) if !e.code.is_empty() || !e.message.is_empty() => (e.code, e.message),
            _ => {
                let text = String::from_utf8_lossy(&body);
                let text: String = text.chars().take(300).collect();
                let text = text.trim().to_string();
                (
                    String::new(),
                    if text.is_empty() {
                        status.canonical_reason().unwrap_or("error").to_string()
                    } else {
                        text
                    },
                )
            }
        };
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        Err(OciError::Service(ServiceError {
            operation: op,
            status: status.as_u16(),
            code,
            message,
            opc_request_id: request_id,
            retry_after,
        }))
    }

    /// GET one resource (records its ETag).
    pub(crate) async fn get_resource<T: DeserializeOwned + OciResource>(
        &self,
        req: Request,
    ) -> Result<T, OciError> {
        self.execute(&req).await?.resource()
    }

    /// Sends a create with an `opc-retry-token` (the caller's, or a random one reused across
    /// attempts) and decodes the resource and its work request id.
    pub(crate) async fn create_resource<T: DeserializeOwned + OciResource>(
        &self,
        req: Request,
        retry_token: Option<&str>,
    ) -> Result<WithWorkRequest<T>, OciError> {
        let req = req.header("opc-retry-token", self.retry_token(retry_token));
        let resp = self.execute(&req).await?;
        Ok(WithWorkRequest {
            resource: resp.resource()?,
            work_request_id: resp.header("opc-work-request-id"),
        })
    }

    /// Sends an update (`PUT` with `if-match` when given) and decodes the resource.
    pub(crate) async fn update_resource<T: DeserializeOwned + OciResource>(
        &self,
        req: Request,
        if_match: Option<&str>,
    ) -> Result<T, OciError> {
        self.execute(&req.header_opt("if-match", if_match))
            .await?
            .resource()
    }

    /// Sends a delete (with `if-match` when given); returns the work request id, if any.
    pub(crate) async fn delete(
        &self,
        req: Request,
        if_match: Option<&str>,
    ) -> Result<Option<String>, OciError> {
        let resp = self.execute(&req.header_opt("if-match", if_match)).await?;
        Ok(resp.header("opc-work-request-id"))
    }

    /// Follows `opc-next-page` until the last page; the body of each page is a JSON array.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        req: Request,
    ) -> Result<Vec<T>, OciError> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut page: Option<String> = None;
        loop {
            let mut r = req.clone();
            if let Some(p) = &page {
                r = r.query("page", p.clone());
            }
            let resp = self.execute(&r).await?;
            let items: Vec<T> = resp.json()?;
            out.extend(items);
            match resp.header("opc-next-page").filter(|p| !p.is_empty()) {
                None => return Ok(out),
                Some(next) => {
                    if seen.len() >= MAX_PAGES {
                        return Err(resp.decode_error(format!(
                            "more than {MAX_PAGES} pages: the listing does not end"
                        )));
                    }
                    if !seen.insert(next.clone()) {
                        return Err(resp.decode_error(format!(
                            "`opc-next-page` repeats `{next}`: the listing does not end"
                        )));
                    }
                    page = Some(next);
                }
            }
        }
    }
}

fn network_error(op: &'static str, e: &reqwest::Error) -> OciError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    OciError::Network {
        operation: op,
        message,
    }
}

/// Path segments of an object (or upload) name: split on `/` like the SDK's `quote(safe="/")`.
pub(crate) fn object_segments(op: &'static str, name: &str) -> Result<Vec<String>, OciError> {
    if name.is_empty() {
        return Err(OciError::InvalidArgument {
            operation: op,
            problem: "empty object name".into(),
        });
    }
    let parts: Vec<String> = name.split('/').map(str::to_string).collect();
    if parts.iter().any(|p| p == "." || p == "..") {
        return Err(OciError::InvalidArgument {
            operation: op,
            problem: format!("object name `{name}` has a `.` or `..` segment"),
        });
    }
    Ok(parts)
}

/// Rejects an empty identifier before it turns into a wrong URL.
pub(crate) fn require(op: &'static str, what: &str, value: &str) -> Result<String, OciError> {
    if value.is_empty() {
        return Err(OciError::InvalidArgument {
            operation: op,
            problem: format!("empty `{what}`"),
        });
    }
    Ok(value.to_string())
}
