//! Test harness: a tiny axum server on 127.0.0.1:0 that records every request, checks its
//! signature with code written here (independent of the crate's signer), and answers with
//! whatever the test's handler says; plus the CLI captures and a client wired to the server.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pexspec_oci::{ApiKey, ClientOptions, Endpoints, ManualClock, OciClient, Signer};

pub const TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
pub const USER: &str =
    "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
pub const FP: &str = "49:91:d7:c4:f7:a0:55:b7:b3:5e:e8:f8:fc:9d:a2:11";
pub const REGION: &str = "eu-frankfurt-1";
pub const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaaexample";

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The independent signature check.
    pub signature: Result<(), String>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| v.to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The signed header names, from the Authorization header.
    pub fn signed_headers(&self) -> Vec<String> {
        let auth = self.header("authorization").unwrap_or("");
        auth.split(',')
            .find_map(|p| p.trim_start_matches("Signature ").strip_prefix("headers="))
            .map(|h| h.trim_matches('"').split(' ').map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&value).unwrap(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"code": code, "message": message}),
        )
    }

    pub fn raw(status: u16, body: &[u8]) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

pub type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// The loopback server. Dropping it stops it.
pub struct TestServer {
    pub url: String,
    pub log: Arc<Mutex<Vec<Recorded>>>,
    pub max_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let handler: Handler = Arc::new(handler);
        let log = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let counter = Arc::new(AtomicUsize::new(0));
        let public_key = std::fs::read(fixture_path("key_public_pkcs1.der")).unwrap();
        let (log2, in2, max2) = (log.clone(), in_flight.clone(), max_in_flight.clone());
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (handler, log, in_flight, max_in_flight, counter, public_key) = (
                handler.clone(),
                log2.clone(),
                in2.clone(),
                max2.clone(),
                counter.clone(),
                public_key.clone(),
            );
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max_in_flight.fetch_max(now, Ordering::SeqCst);
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default()
                    .to_vec();
                let target = parts
                    .uri
                    .path_and_query()
                    .map(|pq| pq.as_str().to_string())
                    .unwrap_or_default();
                let headers: Vec<(String, String)> = parts
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).to_string(),
                        )
                    })
                    .collect();
                let method = parts.method.as_str().to_string();
                let signature = verify(&method, &target, &headers, &body, &public_key);
                let rec = Recorded {
                    method,
                    target,
                    headers,
                    body,
                    signature,
                };
                // Let other requests in, so concurrency shows.
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                }
                let reply = handler(&rec);
                log.lock().unwrap().push(rec);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let mut b = axum::http::Response::builder().status(reply.status);
                if !reply
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("opc-request-id"))
                {
                    b = b.header("opc-request-id", format!("server-request-{n}"));
                }
                for (k, v) in &reply.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.body(axum::body::Body::from(reply.body)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            log,
            max_in_flight,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    pub fn last(&self) -> Recorded {
        self.requests().pop().expect("no request received")
    }
}

/// Checks an OCI signature from scratch (oci-api.md §1.5), with the fixture public key.
pub fn verify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    public_key: &[u8],
) -> Result<(), String> {
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    let auth = get("authorization").ok_or("no authorization header")?;
    let params = auth
        .strip_prefix("Signature ")
        .ok_or("not a Signature authorization")?;
    let mut map = BTreeMap::new();
    for part in params.split(',') {
        let (k, v) = part.split_once('=').ok_or("malformed parameter")?;
        map.insert(k.trim(), v.trim().trim_matches('"'));
    }
    if map.get("algorithm") != Some(&"rsa-sha256") || map.get("version") != Some(&"1") {
        return Err("algorithm or version".into());
    }
    if map.get("keyId") != Some(&format!("{TENANCY}/{USER}/{FP}").as_str()) {
        return Err(format!("keyId {:?}", map.get("keyId")));
    }
    let names: Vec<&str> = map
        .get("headers")
        .ok_or("no headers parameter")?
        .split(' ')
        .collect();
    let object_put = method == "PUT"
        && (target.contains("/o/") || target.contains("/u/"))
        && target.starts_with("/n/");
    let mut required = vec!["date", "(request-target)", "host"];
    if matches!(method, "POST" | "PUT" | "PATCH") && !object_put {
        required.extend(["content-length", "content-type", "x-content-sha256"]);
    }
    if names != required {
        return Err(format!("signed headers {names:?}, expected {required:?}"));
    }
    let mut lines = Vec::new();
    for n in &names {
        let v = match *n {
            "(request-target)" => format!("{} {}", method.to_ascii_lowercase(), target),
            other => get(other)
                .ok_or_else(|| format!("signed header {other} missing"))?
                .to_string(),
        };
        lines.push(format!("{n}: {v}"));
    }
    let text = lines.join("\n");
    let sig = STANDARD
        .decode(map.get("signature").ok_or("no signature")?)
        .map_err(|e| e.to_string())?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(text.as_bytes(), &sig)
    .map_err(|_| "signature does not verify".to_string())?;
    if names.contains(&"x-content-sha256") {
        let expected = STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, body));
        if get("x-content-sha256") != Some(expected.as_str()) {
            return Err("x-content-sha256 does not match the body".into());
        }
    }
    if let Some(cl) = get("content-length")
        && cl != body.len().to_string()
    {
        return Err(format!(
            "content-length {cl} but body has {} bytes",
            body.len()
        ));
    }
    Ok(())
}

pub fn signer() -> Signer {
    let key = ApiKey::from_file(&fixture_path("key_pkcs8.pem"), None).unwrap();
    Signer::new(TENANCY, USER, FP, key)
}

/// A client for the server's URL as region `eu-frankfurt-1`, on a manual clock.
pub fn client(url: &str) -> (OciClient, Arc<ManualClock>) {
    client_with(url, |_| {})
}

pub fn client_with(
    url: &str,
    tweak: impl FnOnce(&mut ClientOptions),
) -> (OciClient, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut options = ClientOptions {
        clock: clock.clone(),
        seed: Some(7),
        ..ClientOptions::default()
    };
    tweak(&mut options);
    let endpoints = Endpoints::from_overrides([(REGION, url)]).unwrap();
    (
        OciClient::from_signer(signer(), TENANCY, REGION, endpoints, options).unwrap(),
        clock,
    )
}

/// One request of `oci-cli-captures.txt`.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn signed_headers(&self) -> Vec<String> {
        let auth = self.header("authorization").unwrap_or("");
        auth.split(',')
            .find_map(|p| p.trim_start_matches("Signature ").strip_prefix("headers="))
            .map(|h| h.trim_matches('"').split(' ').map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// Request `[n]` of capture section `A` or `B`.
pub fn capture(section: char, n: u32) -> Captured {
    let text = std::fs::read_to_string(fixture_path("oci-cli-captures.txt")).unwrap();
    let (a, b) = text.split_once("# Capture B").unwrap();
    let part = if section == 'A' { a } else { b };
    let start = part
        .find(&format!("\n[{n}] "))
        .unwrap_or_else(|| panic!("capture {section}-{n} not found"))
        + 1;
    let rest = &part[start..];
    let end = rest.find("-- server-side check").unwrap();
    let entry = &rest[..end];
    let mut lines = entry.lines();
    let first = lines.next().unwrap();
    let mut words = first.split(' ');
    words.next();
    let method = words.next().unwrap().to_string();
    let target = words.next().unwrap().to_string();
    let mut headers = Vec::new();
    for l in lines.by_ref() {
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(": ").unwrap();
        headers.push((k.to_string(), v.to_string()));
    }
    let body: Vec<&str> = lines.collect();
    let body = body.join("\n").trim_end().to_string();
    let body = if body == "(no body)" || body.is_empty() {
        None
    } else {
        Some(body)
    };
    Captured {
        method,
        target,
        headers,
        body,
    }
}

/// JSON equality with every number compared as f64 (the CLI sends `4`, serde sends `4.0`).
pub fn assert_same_json(ours: &serde_json::Value, theirs: &serde_json::Value, what: &str) {
    fn norm(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(norm).collect()),
            serde_json::Value::Object(o) => {
                serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect())
            }
            other => other.clone(),
        }
    }
    assert_eq!(norm(ours), norm(theirs), "{what}");
}
