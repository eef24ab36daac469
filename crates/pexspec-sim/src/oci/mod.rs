//! The OCI simulator: one axum router per region serving identity, core (networking,
//! compute, images, work requests) and Object Storage on one port, with signature checks,
//! fault injection, call statistics and the `/_sim/*` control endpoints.

pub mod auth;
pub(crate) mod catalog;
pub(crate) mod cidr;
pub mod clock;
pub mod faults;
pub(crate) mod ops;
pub(crate) mod store;
pub(crate) mod wire;

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body as AxBody, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use self::auth::TrustedKeys;
use self::clock::SimClock;
use self::faults::{FaultConfig, Faults, Stats};
use self::store::Store;
use self::wire::{ApiError, Body, Reply};
use crate::SimError;

/// Settings of one OCI simulator (shared by every region it serves).
pub(crate) struct OciSettings {
    pub clock: SimClock,
    pub faults: FaultConfig,
    pub check_date: bool,
    pub home_region: String,
    pub regions: Vec<String>,
    pub max_body_bytes: usize,
    pub keys: TrustedKeys,
}

/// The shared state of the OCI simulator.
pub(crate) struct OciSim {
    store: Store,
    clock: SimClock,
    keys: TrustedKeys,
    faults: Mutex<Faults>,
    stats: Mutex<Stats>,
    check_date: bool,
    home_region: String,
    max_body: usize,
    /// `host:port` → region, for URLs that name a region by the listener they point at.
    hosts: std::sync::RwLock<std::collections::BTreeMap<String, String>>,
}

#[derive(Clone)]
struct RegionState {
    sim: Arc<OciSim>,
    region: Arc<str>,
}

impl OciSim {
    /// Opens the state database and prepares it (namespace, region subscriptions).
    pub fn open(db: &Path, s: OciSettings) -> Result<Arc<OciSim>, SimError> {
        s.faults.validate().map_err(SimError::Config)?;
        let store = Store::open(db)?;
        let sim = OciSim {
            store,
            clock: s.clock,
            keys: s.keys,
            faults: Mutex::new(Faults::new(s.faults)),
            stats: Mutex::new(Stats::default()),
            check_date: s.check_date,
            home_region: s.home_region,
            max_body: s.max_body_bytes,
            hosts: std::sync::RwLock::default(),
        };
        let regions = s.regions.clone();
        sim.store
            .tx(true, |tx| {
                if tx.meta("namespace")?.is_none() {
                    tx.set_meta("namespace", &catalog::namespace_name())?;
                }
                let ctx = sim.ctx(tx, &sim.home_region);
                ops::subscribe_regions(&ctx, &regions)
            })
            .map_err(|e| {
                SimError::Config(format!("cannot prepare the state database: {}", e.message))
            })?;
        Ok(Arc::new(sim))
    }

    fn ctx<'a>(&'a self, tx: &'a store::Tx<'a>, region: &'a str) -> ops::Ctx<'a> {
        ops::Ctx {
            tx,
            region,
            home_region: &self.home_region,
            now: self.clock.now_ms(),
            clock: &self.clock,
            faults: &self.faults,
            hosts: &self.hosts,
        }
    }

    /// The regions the tenancy is subscribed to, as the state database holds them (the
    /// regions served before and those subscribed with `CreateRegionSubscription`): a
    /// subscription is never undone, so a simulator started on this state serves them all,
    /// as OCI keeps serving a region a spec stopped naming.
    pub fn subscribed_regions(&self) -> Vec<String> {
        self.store
            .tx(false, |tx| {
                Ok(tx
                    .meta("region_subscriptions")?
                    .and_then(|s| serde_json::from_str::<serde_json::Map<String, Value>>(&s).ok())
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default())
            })
            .unwrap_or_default()
    }

    /// Calls served by operation, every status together.
    pub fn call_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.stats
            .lock()
            .map(|s| {
                s.by_op
                    .iter()
                    .map(|(op, by_status)| (op.clone(), by_status.values().sum()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Records that `host_port` (`127.0.0.1:PORT`) serves `region`.
    pub fn serve_host(&self, host_port: String, region: &str) {
        if let Ok(mut hosts) = self.hosts.write() {
            hosts.insert(host_port, region.to_owned());
        }
    }

    /// The axum router of one region.
    pub fn router(self: &Arc<Self>, region: &str) -> Router {
        let st = RegionState {
            sim: Arc::clone(self),
            region: Arc::from(region),
        };
        Router::new()
            .route("/_sim/faults", get(get_faults).post(set_faults))
            .route("/_sim/stats", get(get_stats))
            .route("/_sim/tagged", get(get_tagged))
            .route("/_sim/reset-stats", post(reset_stats))
            .route("/_sim/clock", get(get_clock).post(advance_clock))
            .fallback(entry)
            .with_state(st)
    }
}

fn json_response(status: u16, v: &Value) -> Response {
    let mut r = Response::new(AxBody::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

async fn get_faults(State(st): State<RegionState>) -> Response {
    let cfg = st
        .sim
        .faults
        .lock()
        .map(|f| f.config().clone())
        .unwrap_or_default();
    json_response(200, &serde_json::to_value(cfg).unwrap_or(Value::Null))
}

async fn set_faults(State(st): State<RegionState>, body: Bytes) -> Response {
    let cfg: FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return json_response(
                400,
                &json!({"code": "InvalidParameter", "message": format!("Invalid fault configuration: {e}")}),
            );
        }
    };
    if let Err(e) = cfg.validate() {
        return json_response(400, &json!({"code": "InvalidParameter", "message": e}));
    }
    if let Ok(mut f) = st.sim.faults.lock() {
        *f = Faults::new(cfg.clone());
    }
    json_response(200, &serde_json::to_value(cfg).unwrap_or(Value::Null))
}

async fn get_stats(State(st): State<RegionState>) -> Response {
    let v = st
        .sim
        .stats
        .lock()
        .map(|s| s.to_json())
        .unwrap_or(Value::Null);
    json_response(200, &v)
}

/// `GET /_sim/tagged?key=K&value=V`: every resource and bucket, in any region, whose freeform
/// tag `K` is `V` and that is not gone (terminated, deleted, detached) once its pending
/// transitions are done: `[{"kind","region","id","state"}]`. The end-to-end tests ask it
/// whether a destroy left anything behind, independently of pexspec's own observe.
async fn get_tagged(
    State(st): State<RegionState>,
    axum::extract::Query(q): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    let (Some(key), Some(value)) = (q.get("key").cloned(), q.get("value").cloned()) else {
        return json_response(
            400,
            &json!({"code": "MissingParameter", "message": "key and value are required"}),
        );
    };
    let sim = Arc::clone(&st.sim);
    let found = tokio::task::spawn_blocking(move || {
        let now = sim.clock.now_ms();
        sim.store.tx(false, |tx| {
            let tagged = |doc: &Value| {
                doc.get("freeformTags")
                    .and_then(|t| t.get(&key))
                    .and_then(Value::as_str)
                    == Some(value.as_str())
            };
            let mut out = Vec::new();
            for r in tx.all(now)? {
                let state = r.final_state();
                if tagged(&r.doc) && !matches!(state.as_str(), "TERMINATED" | "DELETED" | "DETACHED")
                {
                    let address = r.doc.get("freeformTags").and_then(|t| t.get("pexspec-address")).cloned().unwrap_or(Value::Null);
                    out.push(json!({"kind": r.kind, "region": r.region, "id": r.ocid, "state": state, "address": address}));
                }
            }
            for (region, doc) in tx.all_buckets()? {
                if tagged(&doc) {
                    let address = doc.get("freeformTags").and_then(|t| t.get("pexspec-address")).cloned().unwrap_or(Value::Null);
                    out.push(json!({"kind": "bucket", "region": region, "id": doc.get("id").cloned().unwrap_or(Value::Null), "state": "ACTIVE", "address": address}));
                }
            }
            Ok(out)
        })
    })
    .await;
    match found {
        Ok(Ok(list)) => json_response(200, &Value::Array(list)),
        Ok(Err(e)) => json_response(500, &json!({"code": "InternalError", "message": e.message})),
        Err(e) => json_response(
            500,
            &json!({"code": "InternalError", "message": e.to_string()}),
        ),
    }
}

async fn reset_stats(State(st): State<RegionState>) -> Response {
    if let Ok(mut s) = st.sim.stats.lock() {
        *s = Stats::default();
    }
    json_response(200, &json!({}))
}

fn clock_json(c: &SimClock) -> Value {
    let now = c.now_ms();
    json!({"now_ms": now, "now": wire::rfc3339(now), "speed": c.speed(), "manual": c.is_manual()})
}

async fn get_clock(State(st): State<RegionState>) -> Response {
    json_response(200, &clock_json(&st.sim.clock))
}

async fn advance_clock(State(st): State<RegionState>, body: Bytes) -> Response {
    let ms = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["advance_ms"].as_u64());
    let Some(ms) = ms else {
        return json_response(
            400,
            &json!({"code": "InvalidParameter", "message": "Send {\"advance_ms\": N}."}),
        );
    };
    st.sim.clock.advance(std::time::Duration::from_millis(ms));
    json_response(200, &clock_json(&st.sim.clock))
}

fn request_id(client: Option<&str>) -> String {
    match client.filter(|c| !c.is_empty() && c.len() < 128) {
        Some(c) => format!("{c}/{}/{}", catalog::hex32(), catalog::hex32()),
        None => format!(
            "{}/{}/{}",
            catalog::hex32(),
            catalog::hex32(),
            catalog::hex32()
        ),
    }
}

fn error_response(e: &ApiError, head: bool) -> Reply {
    let mut r = Reply::json(e.status, json!({"code": e.code, "message": e.message}));
    if head {
        r.body = Body::Empty;
    }
    if let Some(s) = e.retry_after {
        r = r.header("retry-after", s.to_string());
    }
    r
}

fn into_response(reply: Reply, request_id: &str) -> Response {
    let (body, content_type) = match reply.body {
        Body::Empty => (AxBody::empty(), None),
        Body::Json(v) => (
            AxBody::from(v.to_string()),
            Some("application/json".to_string()),
        ),
        Body::Bytes { data, content_type } => (AxBody::from(data), Some(content_type)),
    };
    let mut r = Response::new(body);
    *r.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if let Some(ct) = content_type
        && let Ok(v) = HeaderValue::from_str(&ct)
    {
        h.insert("content-type", v);
    }
    for (k, v) in reply.headers {
        if let (Ok(name), Ok(val)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.append(name, val);
        }
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("opc-request-id", v);
    }
    r
}

/// Every OCI request: decode, verify the signature, inject faults, run, count.
async fn entry(State(st): State<RegionState>, req: Request) -> Response {
    let sim = &st.sim;
    let rid = request_id(
        req.headers()
            .get("opc-request-id")
            .and_then(|v| v.to_str().ok()),
    );
    let method = req.method().clone();
    let head = method == Method::HEAD;
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    let segs: Vec<String> = path
        .split('/')
        .skip(1)
        .filter(|s| !s.is_empty())
        .map(|s| wire::percent_decode(s, false))
        .collect();
    let query = wire::parse_query(raw_query.as_deref());
    let route = ops::classify(&method, &segs, &query);
    let op = route.as_ref().map_or("Unknown", ops::Route::name);
    let (parts, body) = req.into_parts();
    let finish = |reply: Reply| -> Response {
        if let Ok(mut s) = sim.stats.lock() {
            s.record(op, reply.status);
        }
        into_response(reply, &rid)
    };
    let body = match axum::body::to_bytes(body, sim.max_body).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                413,
                "PayloadTooLarge",
                format!("The request body is larger than {} bytes.", sim.max_body),
            );
            return finish(error_response(&e, head));
        }
    };
    let received = auth::Received {
        method: method.as_str(),
        target: &target,
        headers: &parts.headers,
        body: &body,
        body_exempt: route.as_ref().is_some_and(ops::Route::body_exempt),
    };
    let now_wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    if let Err(reason) = auth::verify(&sim.keys, &received, sim.check_date.then_some(now_wall)) {
        let reply = error_response(&ApiError::not_authenticated(), head)
            .header("x-pexspec-sim-auth-error", reason);
        return finish(reply);
    }
    let latency = sim.faults.lock().ok().and_then(|f| f.latency(op));
    if let Some(d) = latency {
        tokio::time::sleep(d).await;
    }
    let injected = sim.faults.lock().ok().and_then(|mut f| f.draw(op));
    if let Some(e) = injected {
        return finish(error_response(&e, head));
    }
    let Some(route) = route else {
        return finish(error_response(&ApiError::no_route(), head));
    };
    let call = ops::Call {
        method: method.clone(),
        target,
        query,
        headers: parts.headers,
        body: body.to_vec(),
    };
    let sim2 = Arc::clone(sim);
    let region = Arc::clone(&st.region);
    let result = tokio::task::spawn_blocking(move || {
        let write = !matches!(call.method, Method::GET | Method::HEAD);
        sim2.store.tx(write, |tx| {
            let ctx = sim2.ctx(tx, &region);
            ops::execute(&ctx, &route, &call)
        })
    })
    .await;
    let reply = match result {
        Ok(Ok(mut r)) => {
            if head {
                r.body = match r.body {
                    Body::Bytes { content_type, .. } => Body::Bytes {
                        data: Vec::new(),
                        content_type,
                    },
                    _ => Body::Empty,
                };
            }
            r
        }
        Ok(Err(e)) => error_response(&e, head),
        Err(_) => error_response(
            &ApiError::internal("The simulator failed while handling the request."),
            head,
        ),
    };
    finish(reply)
}
