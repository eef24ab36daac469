//! Test-only OCI request signer and HTTP helper for the simulator tests.
//!
//! This is deliberately minimal and independent of the product client (`pexspec-oci`): it
//! signs with `ring` straight from the simulator's published test key.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use pexspec_sim::oci::auth::{TEST_PRIVATE_KEY_PEM, test_key_id};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// A response: status, headers, body (JSON when it parses).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
    pub fn id(&self) -> String {
        self.json["id"].as_str().unwrap_or_default().to_string()
    }
}

/// How to sign one request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// As the official SDK does (body headers on POST/PUT, except PutObject/UploadPart).
    Normal,
    /// Only `date (request-target) host` (PutObject/UploadPart style).
    GenericOnly,
    /// No authorization header at all.
    None,
}

pub struct Client {
    pub base: String,
    http: reqwest::Client,
    key: RsaKeyPair,
    pub key_id: String,
}

fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(b64).unwrap()
}

impl Client {
    pub fn new(base: &str) -> Client {
        let key = RsaKeyPair::from_pkcs8(&pem_der(TEST_PRIVATE_KEY_PEM)).unwrap();
        Client {
            base: base.to_string(),
            http: reqwest::Client::new(),
            key,
            key_id: test_key_id(),
        }
    }

    /// The signing string and authorization header for a request.
    pub fn authorization(
        &self,
        method: &str,
        url: &reqwest::Url,
        headers: &[(String, String)],
        names: &[&str],
    ) -> String {
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let lines: Vec<String> = names
            .iter()
            .map(|n| {
                if *n == "(request-target)" {
                    format!("(request-target): {} {target}", method.to_ascii_lowercase())
                } else {
                    let v = headers
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    format!("{n}: {v}")
                }
            })
            .collect();
        let signing = lines.join("\n");
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!(
            r#"Signature algorithm="rsa-sha256",headers="{}",keyId="{}",signature="{}",version="1""#,
            names.join(" "),
            self.key_id,
            B64.encode(sig)
        )
    }

    /// Sends a request with a raw body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
        extra: &[(&str, &str)],
        signing: Signing,
    ) -> Resp {
        let url = reqwest::Url::parse(&format!("{}{path}", self.base)).unwrap();
        let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        let body_bytes = body.unwrap_or_default();
        let mut headers: Vec<(String, String)> = vec![
            (
                "date".into(),
                httpdate::fmt_http_date(std::time::SystemTime::now()),
            ),
            ("host".into(), host),
            ("content-type".into(), content_type.into()),
        ];
        let with_body = matches!(method, "POST" | "PUT" | "PATCH");
        let mut names = vec!["date", "(request-target)", "host"];
        if with_body {
            headers.push(("content-length".into(), body_bytes.len().to_string()));
            headers.push((
                "x-content-sha256".into(),
                B64.encode(Sha256::digest(&body_bytes)),
            ));
            if signing == Signing::Normal {
                names.extend(["content-length", "content-type", "x-content-sha256"]);
            }
        }
        for (k, v) in extra {
            headers.retain(|(hk, _)| hk != k);
            headers.push((k.to_string(), v.to_string()));
        }
        let auth = self.authorization(method, &url, &headers, &names);
        let mut rb = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        for (k, v) in &headers {
            if k != "host" {
                rb = rb.header(k.as_str(), v.as_str());
            }
        }
        if signing != Signing::None {
            rb = rb.header("authorization", auth);
        }
        if with_body {
            rb = rb.body(body_bytes);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap().to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            bytes,
            json,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let body = body.map(|b| b.to_string().into_bytes());
        let body = if body.is_none() && matches!(method, "POST" | "PUT") {
            Some(Vec::new())
        } else {
            body
        };
        self.raw(
            method,
            path,
            body,
            "application/json",
            extra,
            Signing::Normal,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None, &[]).await
    }

    /// A simulator control endpoint (`/_sim/...`), unsigned.
    pub async fn sim(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut rb = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        );
        if let Some(b) = body {
            rb = rb
                .body(b.to_string())
                .header("content-type", "application/json");
        }
        let r = rb.send().await.unwrap();
        r.json().await.unwrap()
    }
}

/// Creates an ACTIVE compartment under the tenancy (advancing a manual clock past CREATING).
pub async fn compartment(c: &Client, sim: &pexspec_sim::RunningSim, name: &str) -> String {
    let r = c
        .post(
            "/20160918/compartments",
            serde_json::json!({"compartmentId": sim.tenancy_ocid(), "name": name, "description": "test"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    sim.clock().advance(std::time::Duration::from_secs(60));
    r.id()
}

pub const AD1: &str = "Pjwf:EU-FRANKFURT-1-AD-1";

/// Starts a simulator on a manual clock with the default region.
pub async fn manual_sim() -> (pexspec_sim::RunningSim, Client) {
    let sim = pexspec_sim::serve(
        pexspec_sim::ServeOptions::default().clock(pexspec_sim::SimClock::manual()),
    )
    .await
    .unwrap();
    let c = Client::new(sim.endpoint("eu-frankfurt-1").unwrap());
    (sim, c)
}

/// Advances the simulator's manual clock.
pub fn advance(sim: &pexspec_sim::RunningSim, secs: u64) {
    sim.clock().advance(std::time::Duration::from_secs(secs));
}

/// A VCN with a public subnet, ready for instances.
pub async fn network(c: &Client, sim: &pexspec_sim::RunningSim, comp: &str) -> (String, String) {
    let vcn = c
        .post("/20160918/vcns", serde_json::json!({"compartmentId": comp, "cidrBlocks": ["10.0.0.0/16"], "displayName": "v", "dnsLabel": "v"}))
        .await;
    assert_eq!(vcn.status, 200, "{:?}", vcn.json);
    assert_eq!(vcn.json["lifecycleState"], "PROVISIONING");
    let early = c
        .post(
            "/20160918/subnets",
            serde_json::json!({"compartmentId": comp, "vcnId": vcn.id(), "cidrBlock": "10.0.0.0/24"}),
        )
        .await;
    assert_eq!((early.status, early.code()), (409, "IncorrectState"));
    advance(sim, 5);
    assert_eq!(
        c.get(&format!("/20160918/vcns/{}", vcn.id())).await.json["lifecycleState"],
        "AVAILABLE"
    );
    let sub = c
        .post("/20160918/subnets", serde_json::json!({"compartmentId": comp, "vcnId": vcn.id(), "cidrBlock": "10.0.0.0/24", "dnsLabel": "pub"}))
        .await;
    assert_eq!(sub.status, 200, "{:?}", sub.json);
    assert_eq!(sub.json["routeTableId"], vcn.json["defaultRouteTableId"]);
    assert_eq!(sub.json["virtualRouterIp"], "10.0.0.1");
    advance(sim, 5);
    (vcn.id(), sub.id())
}

/// Uploads an object and imports it as an image; returns (image id, work request id).
pub async fn import_image(c: &Client, comp: &str, object: Option<&str>) -> (Value, String) {
    let ns = c.get("/n").await.json.as_str().unwrap().to_string();
    let b = c
        .post(
            &format!("/n/{ns}/b"),
            serde_json::json!({"name": "images", "compartmentId": comp}),
        )
        .await;
    assert!(b.status == 200 || b.code() == "BucketAlreadyExists");
    if let Some(o) = object {
        let put = c
            .raw(
                "PUT",
                &format!("/n/{ns}/b/images/o/{o}"),
                Some(vec![7u8; 3 << 20]),
                "application/octet-stream",
                &[],
                Signing::GenericOnly,
            )
            .await;
        assert_eq!(put.status, 200);
    }
    let img = c
        .post(
            "/20160918/images",
            serde_json::json!({"compartmentId": comp, "displayName": "pexip", "launchMode": "PARAVIRTUALIZED",
                   "imageSourceDetails": {"sourceType": "objectStorageTuple", "namespaceName": ns, "bucketName": "images",
                                          "objectName": "pexip.vmdk", "sourceImageType": "VMDK", "operatingSystem": "Linux"}}),
        )
        .await;
    assert_eq!(img.status, 200, "{:?}", img.json);
    let wr = img
        .header("opc-work-request-id")
        .expect("CreateImage returns a work request");
    (img.json, wr)
}
