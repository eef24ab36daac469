//! The simulated management API: routes, basic auth, the wizard gate, configuration CRUD with
//! the real status codes and bodies, the status resources, and the `/_sim/` test hooks.

// A rejected request is a whole HTTP response; boxing it would buy nothing here.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::schema::{self, KindSpec, Refs};
use super::store::{NodeRow, Store};
use super::{PexipSimError, Shared, SimWizard, node, tls, x509};

type St = State<Arc<Shared>>;

/// A database step that may reject the request with a response.
type Outcome<T> = Result<Result<T, Response>, PexipSimError>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/admin/configuration/v1/", get(config_root))
        .route(
            "/api/admin/configuration/v1/{kind}/",
            get(list_config).post(create_config),
        )
        .route(
            "/api/admin/configuration/v1/{kind}/{id}/",
            get(get_config)
                .patch(patch_config)
                .put(put_config)
                .delete(delete_config),
        )
        .route("/api/admin/status/v1/{kind}/", get(list_status))
        .route("/api/admin/status/v1/{kind}/{id}/", get(get_status))
        .route("/admin/login/", get(login_page))
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .route("/_sim/complete-wizard", post(sim_complete_wizard))
        .route("/_sim/conferences", post(sim_conference))
        .route("/_sim/advance", post(sim_advance))
        .route("/_sim/power", post(sim_power))
        .route("/_sim/faults", post(sim_faults))
        .route("/_sim/nodes", get(sim_nodes))
        .route("/_sim/stats", get(sim_stats))
        .route("/_sim/ignored", get(sim_ignored))
        .with_state(shared)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    json_response(status, json!({ "error": msg.into() }))
}

fn internal(e: PexipSimError) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        "<h1>Not Found</h1>",
    )
        .into_response()
}

/// Basic auth and the wizard gate for `/api/` and `/admin/`; counts API calls.
async fn gate(State(sh): St, req: Request, next: Next) -> Response {
    let completed = sh
        .with_db(|s| s.meta("wizard_completed"))
        .ok()
        .flatten()
        .is_some();
    if !completed {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the installation wizard has not been completed on this Management Node",
        );
    }
    if req.uri().path().starts_with("/api/") {
        sh.calls.count(req.method());
        if !authorised(&sh, req.headers()) {
            let mut resp = (StatusCode::UNAUTHORIZED, "Authorization Required").into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Pexip Infinity\""),
            );
            return resp;
        }
        if let Some(status) = sh.take_fault() {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return error(status, "injected fault");
        }
    }
    next.run(req).await
}

fn authorised(sh: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", sh.opts.admin_username, sh.opts.admin_password);
    // Length leaks nothing useful here; compare every byte anyway.
    decoded.len() == expected.len()
        && decoded
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn login_page() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><body>Pexip Infinity login</body></html>",
    )
        .into_response()
}

struct DbRefs<'a, 'c>(&'a Store<'c>);

impl Refs for DbRefs<'_, '_> {
    fn exists(&self, kind: &str, id: i64) -> bool {
        matches!(self.0.get(kind, id), Ok(Some(_)))
    }
}

/// The id of the object named by a path segment (licences are addressed by `fulfillment_id`).
fn find_id(s: &Store<'_>, spec: &KindSpec, path_id: &str) -> Result<Option<i64>, PexipSimError> {
    if spec.name == "licence" {
        let all = s.list("licence")?;
        return Ok(all
            .into_iter()
            .find(|(_, v)| v.get("fulfillment_id").and_then(Value::as_str) == Some(path_id))
            .map(|(id, _)| id));
    }
    let Ok(id) = path_id.parse::<i64>() else {
        return Ok(None);
    };
    Ok(s.get(spec.name, id)?.map(|_| id))
}

fn resource_uri(spec: &KindSpec, id: i64, data: &Map<String, Value>) -> String {
    if spec.name == "licence" {
        let fid = data
            .get("fulfillment_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return schema::uri("licence", fid);
    }
    schema::uri(spec.name, id)
}

/// The object as GET shows it: no write-only fields, computed fields added.
fn render(s: &Store<'_>, spec: &KindSpec, id: i64, data: &Value) -> Value {
    let mut obj = data.as_object().cloned().unwrap_or_default();
    for field in spec.fields.iter().filter(|f| !f.returned) {
        obj.remove(field.name);
    }
    let uri = resource_uri(spec, id, &obj);
    obj.insert("id".into(), json!(id));
    obj.insert("resource_uri".into(), json!(uri));
    match spec.name {
        "system_location" | "management_vm" => {
            for (field, kind) in [("dns_servers", "dns_server"), ("ntp_servers", "ntp_server")] {
                let refs = obj
                    .get(field)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let expanded: Vec<Value> = refs
                    .iter()
                    .filter_map(|r| r.as_str().and_then(|u| schema::parse_uri(kind, u)))
                    .filter_map(|rid| {
                        let target = schema::kind(kind)?;
                        let data = s.get(kind, rid).ok().flatten()?;
                        Some(render(s, target, rid, &data))
                    })
                    .collect();
                obj.insert(field.into(), Value::Array(expanded));
            }
        }
        "conference" => {
            let me = schema::uri("conference", id);
            let aliases: Vec<Value> = s
                .list("conference_alias")
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, a)| a.get("conference").and_then(Value::as_str) == Some(me.as_str()))
                .filter_map(|(aid, a)| Some(render(s, schema::kind("conference_alias")?, aid, &a)))
                .collect();
            obj.insert("aliases".into(), Value::Array(aliases));
        }
        "worker_vm" => {
            for (k, v) in [
                ("cloud_bursting", false),
                ("managed", false),
                ("service_manager", true),
                ("service_policy", true),
                ("signalling", true),
            ] {
                obj.entry(k).or_insert(json!(v));
            }
        }
        _ => {}
    }
    Value::Object(obj)
}

const RESERVED_PARAMS: &[&str] = &["limit", "offset", "format", "order_by"];

/// The lookups a filter may add to a field name (`name__icontains`). Source of the form:
/// `pexip/go-infinity-sdk`, `options/options.go` (`SearchableListOptions` sends
/// `name__icontains`; other list options send `display_name__icontains`,
/// `alias__icontains`); the others are tastypie's (Django's) text lookups, not confirmed for
/// Pexip (unverified).
const LOOKUPS: &[&str] = &[
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
];

/// What the list's resource knows of a filter's field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FilterField {
    /// A field that can be filtered on.
    Filterable,
    /// A field of the resource that refuses filtering (400, as tastypie's
    /// `InvalidFilterError`).
    Refused,
    /// Not a field the simulator knows to be filterable: ignored, as tastypie ignores a filter
    /// on a field the resource does not have, and recorded.
    Unknown,
}

/// Whether the observed `value` passes the filter `lookup` = `want`.
fn filter_matches(value: Option<&Value>, lookup: &str, want: &str) -> bool {
    match value {
        Some(Value::String(s)) => {
            let (s_l, w_l) = (s.to_lowercase(), want.to_lowercase());
            match lookup {
                "exact" => s == want,
                "iexact" => s_l == w_l,
                "contains" => s.contains(want),
                "icontains" => s_l.contains(&w_l),
                "startswith" => s.starts_with(want),
                "istartswith" => s_l.starts_with(&w_l),
                "endswith" => s.ends_with(want),
                "iendswith" => s_l.ends_with(&w_l),
                _ => false,
            }
        }
        Some(Value::Bool(b)) => {
            lookup == "exact" && want.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        Some(Value::Number(n)) => lookup == "exact" && n.to_string() == *want,
        Some(Value::Null) | None => {
            lookup == "exact" && (want.eq_ignore_ascii_case("null") || want.is_empty())
        }
        _ => false,
    }
}

/// Filters and paginates `objects` into the API's list body. Filters on fields that
/// `field_of` calls unknown are ignored and their names pushed to `ignored`.
fn list_body(
    path: &str,
    query: &[(String, String)],
    objects: Vec<Value>,
    field_of: &dyn Fn(&str) -> FilterField,
    ignored: &mut Vec<String>,
) -> Response {
    let mut limit: usize = 20;
    let mut offset: usize = 0;
    let mut filters: Vec<(String, &'static str, String)> = Vec::new();
    let mut kept: Vec<(String, String)> = Vec::new();
    for (k, v) in query {
        match k.as_str() {
            "limit" => match v.parse() {
                Ok(n) => limit = n,
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Invalid limit provided. Please provide a positive integer.",
                    );
                }
            },
            "offset" => match v.parse() {
                Ok(n) => offset = n,
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Invalid offset provided. Please provide a positive integer.",
                    );
                }
            },
            k if RESERVED_PARAMS.contains(&k) => {}
            _ => {
                let (field, lookup) = match k.rsplit_once("__") {
                    Some((f, l)) if LOOKUPS.contains(&l) => (f, l),
                    _ => (k.as_str(), "exact"),
                };
                let lookup = LOOKUPS
                    .iter()
                    .copied()
                    .find(|l| *l == lookup)
                    .unwrap_or("exact");
                match field_of(field) {
                    FilterField::Filterable => {
                        filters.push((field.to_owned(), lookup, v.clone()));
                        kept.push((k.clone(), v.clone()));
                    }
                    FilterField::Refused => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            format!("The '{field}' field does not allow filtering."),
                        );
                    }
                    FilterField::Unknown => ignored.push(k.clone()),
                }
            }
        }
    }
    if limit == 0 || limit > 1000 {
        limit = 1000;
    }
    let selected: Vec<Value> = objects
        .into_iter()
        .filter(|o| {
            filters
                .iter()
                .all(|(field, lookup, want)| filter_matches(o.get(field), lookup, want))
        })
        .collect();
    let total = selected.len();
    let page: Vec<Value> = selected.into_iter().skip(offset).take(limit).collect();
    let link = |off: usize| {
        let mut q: Vec<String> = kept
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        q.push(format!("limit={limit}"));
        q.push(format!("offset={off}"));
        format!("{path}?{}", q.join("&"))
    };
    let next = if offset + limit < total {
        json!(link(offset + limit))
    } else {
        Value::Null
    };
    let previous = if offset > 0 {
        json!(link(offset.saturating_sub(limit)))
    } else {
        Value::Null
    };
    json_response(
        StatusCode::OK,
        json!({
            "meta": { "limit": limit, "next": next, "offset": offset, "previous": previous, "total_count": total },
            "objects": page,
        }),
    )
}

/// Records what a request had ignored, one entry per field or filter.
fn record_ignored(sh: &Shared, request: &str, what: &str, names: &[String]) {
    if names.is_empty() {
        return;
    }
    sh.with_db(|s| {
        for name in names {
            sh.ignore(s, &format!("{request}: {what} `{name}`"));
        }
    });
}

/// Percent-encodes a query component.
fn enc(s: &str) -> String {
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

async fn list_config(
    State(sh): St,
    Path(kind): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some(spec) = schema::kind(&kind) else {
        return not_found();
    };
    let objects = sh.with_db(|s| -> Result<Vec<Value>, PexipSimError> {
        Ok(s.list(spec.name)?
            .iter()
            .map(|(id, v)| render(s, spec, *id, v))
            .collect())
    });
    let objects = match objects {
        Ok(o) => o,
        Err(e) => return internal(e),
    };
    let field_of = |k: &str| {
        let field = spec.fields.iter().find(|f| f.name == k);
        if schema::never_quoted(spec.name, k) || field.is_some_and(|f| f.secret || !f.returned) {
            FilterField::Refused
        } else if field.is_some() || spec.read_only.contains(&k) || k == "id" || k == "resource_uri"
        {
            FilterField::Filterable
        } else {
            FilterField::Unknown
        }
    };
    let path = format!("{}{}/", schema::CONFIG_PREFIX, spec.name);
    let mut ignored = Vec::new();
    let resp = list_body(&path, &q, objects, &field_of, &mut ignored);
    record_ignored(&sh, &format!("GET {path}"), "filter", &ignored);
    resp
}

/// `configuration/v1/`: every resource with its list endpoint and schema, in tastypie's
/// top-level form (`{"<kind>": {"list_endpoint", "schema"}}`; tastypie's `Api.top_level`, not
/// confirmed for Pexip by a public source: unverified).
async fn config_root() -> Response {
    let mut out = Map::new();
    for spec in schema::KINDS
        .iter()
        .chain(std::iter::once(&schema::MANAGEMENT_VM))
    {
        let list = format!("{}{}/", schema::CONFIG_PREFIX, spec.name);
        out.insert(
            spec.name.to_owned(),
            json!({ "list_endpoint": list, "schema": format!("{list}schema/") }),
        );
    }
    json_response(StatusCode::OK, Value::Object(out))
}

/// `<kind>/schema/`: the resource's fields in tastypie's schema form (`fields` with `type`,
/// `nullable`, `readonly`, `default`; `filtering`; allowed methods). The form is tastypie's
/// `build_schema`; the Pexip documentation points API users at these schemas
/// ("the schema for each resource"); the details are unverified.
fn kind_schema(spec: &KindSpec) -> Response {
    let mut fields = Map::new();
    for fld in spec.fields {
        let (ty, nullable) = schema::describe(fld.ty);
        fields.insert(
            fld.name.to_owned(),
            json!({ "type": ty, "nullable": nullable, "readonly": false,
                    "blank": !matches!(fld.def, schema::Def::Required) }),
        );
    }
    for name in spec.read_only {
        fields.insert(
            (*name).to_owned(),
            json!({ "type": "string", "nullable": true, "readonly": true }),
        );
    }
    for name in ["id", "resource_uri"] {
        fields.insert(
            name.to_owned(),
            json!({ "type": if name == "id" { "integer" } else { "string" }, "nullable": false, "readonly": true }),
        );
    }
    let filtering: Map<String, Value> = spec
        .fields
        .iter()
        .filter(|f| f.returned && !f.secret && !schema::never_quoted(spec.name, f.name))
        .map(|f| (f.name.to_owned(), json!(1)))
        .collect();
    json_response(
        StatusCode::OK,
        json!({
            "allowed_detail_http_methods": ["get", "put", "patch", "delete"],
            "allowed_list_http_methods": ["get", "post"],
            "default_format": "application/json",
            "default_limit": 20,
            "fields": fields,
            "filtering": filtering,
        }),
    )
}

async fn get_config(State(sh): St, Path((kind, id)): Path<(String, String)>) -> Response {
    let Some(spec) = schema::kind(&kind) else {
        return not_found();
    };
    if id == "schema" {
        return kind_schema(spec);
    }
    let found = sh.with_db(|s| -> Result<Option<Value>, PexipSimError> {
        let Some(id) = find_id(s, spec, &id)? else {
            return Ok(None);
        };
        Ok(s.get(spec.name, id)?.map(|v| render(s, spec, id, &v)))
    });
    match found {
        Ok(Some(v)) => json_response(StatusCode::OK, v),
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object.",
        )),
        Err(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        )),
    }
}

fn field_error(kind: &str, field: &str, msg: &str) -> Response {
    let mut errors = schema::FieldErrors::new();
    errors.insert(field.to_owned(), vec![msg.to_owned()]);
    json_response(StatusCode::BAD_REQUEST, schema::error_body(kind, &errors))
}

/// Computed fields of a certificate, or the field error.
fn certificate_fields(obj: &mut Map<String, Value>) -> Result<(), Response> {
    let pem = obj
        .get("certificate")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(info) = x509::parse(pem) else {
        return Err(field_error(
            "tls_certificate",
            "certificate",
            "The certificate could not be read.",
        ));
    };
    obj.insert("subject_name".into(), json!(info.subject_name));
    obj.insert("issuer_name".into(), json!(info.issuer_name));
    obj.insert("serial_no".into(), json!(info.serial_no));
    obj.insert("start_date".into(), json!(info.start_date));
    obj.insert("end_date".into(), json!(info.end_date));
    obj.insert("subject_alt_names".into(), json!(info.subject_alt_names));
    Ok(())
}

fn licence_fields(obj: &mut Map<String, Value>, now: i64) {
    use sha2::Digest;
    let entitlement = obj
        .get("entitlement_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let digest = sha2::Sha256::digest(entitlement.as_bytes());
    let fid: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let year_ms = 365 * 86_400_000;
    let fields = json!({
        "fulfillment_id": format!("FID{fid}"),
        "fulfillment_type": "ACTIVATION",
        "product_id": "pexip-infinity-system",
        "license_type": "system",
        "features": "",
        "concurrent": 10, "concurrent_overdraft": 0, "activatable": 10, "activatable_overdraft": 0,
        "hybrid": 0, "hybrid_overdraft": 0,
        "start_date": super::clock::iso(now),
        "expiration_date": super::clock::iso(now + year_ms),
        "status": "ACTIVATED",
        "trust_flags": 0, "repair": 0, "server_chain": "", "vendor_dictionary": {},
    });
    if let Value::Object(m) = fields {
        obj.extend(m);
    }
}

/// The answer to creating or deleting a singleton (the Management Node's configuration
/// exists once, from the installation wizard). Unverified: the status a real Management
/// Node gives is stated by no public source.
fn singleton(spec: &KindSpec) -> Option<Response> {
    (spec.name == "management_vm").then(|| {
        error(
            StatusCode::METHOD_NOT_ALLOWED,
            "The Management Node's configuration cannot be created or deleted.",
        )
    })
}

async fn create_config(State(sh): St, Path(kind): Path<String>, body: Bytes) -> Response {
    let Some(spec) = schema::kind(&kind) else {
        return not_found();
    };
    if let Some(r) = singleton(spec) {
        return r;
    }
    let mut body = match parse_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if spec.name == "licence"
        && let Some(Value::String(id)) = body.get_mut("entitlement_id")
    {
        // Stored without spaces: Pexip's provider finds the licence it added by the key with
        // its spaces removed (`pexip/terraform-provider-infinity`,
        // `internal/provider/resource_infinity_licence.go`, `Create`).
        *id = id.replace(' ', "");
    }
    enum Created {
        Plain(String),
        Node { uri: String, id: i64, xml: String },
    }
    let mut ignored = Vec::new();
    let created = sh.with_db(|s| -> Outcome<Created> {
        let others = s.list(spec.name)?;
        let mut obj =
            match schema::validate(spec, &body, None, &others, None, &DbRefs(s), &mut ignored) {
                Ok(o) => o,
                Err(errors) => {
                    return Ok(Err(json_response(
                        StatusCode::BAD_REQUEST,
                        schema::error_body(spec.name, &errors),
                    )));
                }
            };
        let now = sh.now(s);
        match spec.name {
            "tls_certificate" => {
                if let Err(r) = certificate_fields(&mut obj) {
                    return Ok(Err(r));
                }
            }
            "licence" => licence_fields(&mut obj, now),
            "conference" | "conference_alias" => {
                obj.insert("creation_time".into(), json!(super::clock::iso(now)));
            }
            "worker_vm" => {
                let generic = obj.get("deployment_type").and_then(Value::as_str)
                    == Some("MANUAL-PROVISION-ONLY");
                let has_password = obj
                    .get("password")
                    .and_then(Value::as_str)
                    .is_some_and(|p| !p.is_empty());
                if generic && !has_password {
                    return Ok(Err(field_error(
                        "worker_vm",
                        "password",
                        "This field is required for a generic (configuration-only) deployment.",
                    )));
                }
            }
            _ => {}
        }
        let id = s.next_id(spec.name)?;
        s.insert(spec.name, id, &Value::Object(obj.clone()))?;
        let uri = resource_uri(spec, id, &obj);
        if spec.name != "worker_vm" {
            return Ok(Ok(Created::Plain(uri)));
        }
        let token: String = rand::random::<[u8; 16]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let host = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let pair = tls::generate(&format!("{}.{}", host("hostname"), host("domain")))?;
        let row = NodeRow {
            id,
            token: token.clone(),
            cert_pem: pair.cert_pem,
            key_pem: pair.key_pem,
            uploaded_at: None,
            port: None,
        };
        s.insert_node(&row, now)?;
        let manager = format!("{}.{}", sh.opts.wizard.hostname, sh.opts.wizard.domain);
        let xml = node::bootstrap_xml(id, &token, &obj, &manager);
        Ok(Ok(Created::Node { uri, id, xml }))
    });
    record_ignored(
        &sh,
        &format!("POST {}{}/", schema::CONFIG_PREFIX, spec.name),
        "body field",
        &ignored,
    );
    let created = match created {
        Ok(Ok(c)) => c,
        Ok(Err(r)) => return r,
        Err(e) => return internal(e),
    };
    match created {
        Created::Plain(uri) => (StatusCode::CREATED, [(header::LOCATION, uri)], "").into_response(),
        Created::Node { uri, id, xml } => {
            if let Err(e) = node::start_listener(&sh, id).await {
                return internal(e);
            }
            (
                StatusCode::CREATED,
                [
                    (header::LOCATION, uri),
                    (header::CONTENT_TYPE, "application/xml".to_owned()),
                ],
                xml,
            )
                .into_response()
        }
    }
}

async fn patch_config(
    State(sh): St,
    Path((kind, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    update(sh, kind, id, body, false).await
}

async fn put_config(
    State(sh): St,
    Path((kind, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    update(sh, kind, id, body, true).await
}

async fn update(
    sh: Arc<Shared>,
    kind: String,
    path_id: String,
    body: Bytes,
    full: bool,
) -> Response {
    let Some(spec) = schema::kind(&kind) else {
        return not_found();
    };
    if spec.name == "licence" {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Licences cannot be changed; delete and add them.",
        );
    }
    let body = match parse_object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut ignored = Vec::new();
    let result = sh.with_db(|s| -> Outcome<Option<(i64, Map<String, Value>)>> {
        let Some(id) = find_id(s, spec, &path_id)? else {
            return Ok(Ok(None));
        };
        let current = s
            .get(spec.name, id)?
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        let others = s.list(spec.name)?;
        // PUT replaces every writable field: start from defaults, keep computed fields.
        let base = if full {
            let mut m = current.clone();
            for f in spec.fields {
                m.remove(f.name);
            }
            let defaults = match schema::validate(
                spec,
                &body,
                None,
                &others,
                Some(id),
                &DbRefs(s),
                &mut Vec::new(),
            ) {
                Ok(d) => d,
                Err(errors) => {
                    return Ok(Err(json_response(
                        StatusCode::BAD_REQUEST,
                        schema::error_body(spec.name, &errors),
                    )));
                }
            };
            m.extend(defaults);
            m
        } else {
            current.clone()
        };
        let mut obj = match schema::validate(
            spec,
            &body,
            Some(&base),
            &others,
            Some(id),
            &DbRefs(s),
            &mut ignored,
        ) {
            Ok(o) => o,
            Err(errors) => {
                return Ok(Err(json_response(
                    StatusCode::BAD_REQUEST,
                    schema::error_body(spec.name, &errors),
                )));
            }
        };
        if spec.name == "tls_certificate"
            && obj.get("certificate") != current.get("certificate")
            && let Err(r) = certificate_fields(&mut obj)
        {
            return Ok(Err(r));
        }
        s.replace(spec.name, id, &Value::Object(obj.clone()))?;
        Ok(Ok(Some((id, obj))))
    });
    let method = if full { "PUT" } else { "PATCH" };
    record_ignored(
        &sh,
        &format!("{method} {}{}/", schema::CONFIG_PREFIX, spec.name),
        "body field",
        &ignored,
    );
    match result {
        Ok(Ok(Some((id, obj)))) => {
            if spec.name == "worker_vm"
                && let Some(name) = obj.get("name").and_then(Value::as_str)
            {
                node::rename_listener(&sh, id, name);
            }
            let status = if full {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::ACCEPTED
            };
            status.into_response()
        }
        Ok(Ok(None)) => not_found(),
        Ok(Err(r)) => r,
        Err(e) => internal(e),
    }
}

async fn delete_config(State(sh): St, Path((kind, path_id)): Path<(String, String)>) -> Response {
    let Some(spec) = schema::kind(&kind) else {
        return not_found();
    };
    if let Some(r) = singleton(spec) {
        return r;
    }
    let result = sh.with_db(|s| -> Outcome<Option<i64>> {
        let Some(id) = find_id(s, spec, &path_id)? else {
            return Ok(Ok(None));
        };
        let me = schema::uri(spec.name, id);
        match spec.name {
            "system_location" => {
                let users: Vec<String> = s
                    .list("worker_vm")?
                    .into_iter()
                    .filter(|(_, v)| {
                        v.get("system_location").and_then(Value::as_str) == Some(me.as_str())
                    })
                    .filter_map(|(_, v)| v.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                if !users.is_empty() {
                    return Ok(Err(error(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "This system location is used by the Conferencing Nodes: {}",
                            users.join(", ")
                        ),
                    )));
                }
            }
            "conference" => {
                for (aid, alias) in s.list("conference_alias")? {
                    if alias.get("conference").and_then(Value::as_str) == Some(me.as_str()) {
                        s.delete("conference_alias", aid)?;
                    }
                }
            }
            "dns_server" | "ntp_server" => {
                let field = if spec.name == "dns_server" {
                    "dns_servers"
                } else {
                    "ntp_servers"
                };
                for holder in ["system_location", "management_vm"] {
                    for (lid, mut loc) in s.list(holder)? {
                        if let Some(Value::Array(items)) = loc.get_mut(field) {
                            let before = items.len();
                            items.retain(|v| v.as_str() != Some(me.as_str()));
                            if items.len() != before {
                                s.replace(holder, lid, &loc)?;
                            }
                        }
                    }
                }
            }
            "tls_certificate" => {
                for (nid, mut vm) in s.list("worker_vm")? {
                    if vm.get("tls_certificate").and_then(Value::as_str) == Some(me.as_str()) {
                        if let Some(o) = vm.as_object_mut() {
                            o.insert("tls_certificate".into(), Value::Null);
                        }
                        s.replace("worker_vm", nid, &vm)?;
                    }
                }
            }
            "worker_vm" => s.delete_node(id)?,
            _ => {}
        }
        s.delete(spec.name, id)?;
        Ok(Ok(Some(id)))
    });
    match result {
        Ok(Ok(Some(id))) => {
            if spec.name == "worker_vm" {
                node::stop_listener(&sh, id);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Ok(None)) => not_found(),
        Ok(Err(r)) => r,
        Err(e) => internal(e),
    }
}

/// Where a Conferencing Node stands with the Management Node at simulated `now`.
struct Service {
    /// `sync_status`: `UNKNOWN` (never configured, or its VM is stopped), `SYNCING`, `SYNCED`.
    sync: &'static str,
    /// Its last contact with the Management Node (now, while it is in service).
    last_contact: Option<i64>,
    /// When it came into service (its last boot and sync).
    boot_time: Option<i64>,
    /// Its VM is stopped.
    off: bool,
}

/// A node syncs `sync_delay` after its bootstrap upload; a node whose VM was stopped is out
/// of contact (its last contact is when it stopped) until it is started again and has booted
/// and synced, `sync_delay` later (the guide: "approximately 5 minutes").
fn service(sh: &Shared, s: &Store<'_>, id: i64, now: i64) -> Result<Service, PexipSimError> {
    let delay = super::clock::dur_ms(sh.opts.sync_delay);
    let uploaded = s.node(id)?.and_then(|r| r.uploaded_at);
    let first_sync = uploaded.map(|u| u.saturating_add(delay));
    let power = s.power(id)?;
    let contact_before_stop = power
        .map(|p| p.off_at)
        .filter(|off| first_sync.is_some_and(|at| at <= *off));
    let synced_at = match power {
        Some(p) => match p.back_at {
            None => {
                return Ok(Service {
                    sync: "UNKNOWN",
                    last_contact: contact_before_stop,
                    boot_time: None,
                    off: true,
                });
            }
            Some(back) => first_sync.map(|at| at.max(back)),
        },
        None => first_sync,
    };
    Ok(match synced_at {
        Some(at) if now >= at => Service {
            sync: "SYNCED",
            last_contact: Some(now),
            boot_time: Some(at),
            off: false,
        },
        Some(_) => Service {
            sync: "SYNCING",
            last_contact: contact_before_stop,
            boot_time: None,
            off: false,
        },
        None => Service {
            sync: "UNKNOWN",
            last_contact: None,
            boot_time: None,
            off: false,
        },
    })
}

/// The VM of node `node_name` stops (`on: false`: its conferences end, it is out of contact)
/// or starts (`on: true`: it syncs again after booting). Refused for an unknown node.
pub(crate) fn set_power(sh: &Shared, node_name: &str, on: bool) -> Result<(), PexipSimError> {
    sh.with_db(|s| {
        let Some((id, _)) = s
            .list("worker_vm")?
            .into_iter()
            .find(|(_, vm)| vm.get("name").and_then(Value::as_str) == Some(node_name))
        else {
            return Err(PexipSimError::Refused(format!(
                "no Conferencing Node named `{node_name}`"
            )));
        };
        let now = sh.now(s);
        if on {
            s.power_on(
                id,
                now.saturating_add(super::clock::dur_ms(sh.opts.sync_delay)),
            )
        } else {
            s.power_off(id, now)
        }
    })
}

async fn sim_power(State(sh): St, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let (Some(node), Some(on)) = (
        v.get("node").and_then(Value::as_str),
        v.get("on").and_then(Value::as_bool),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Give `node` (a name) and `on` (true or false).",
        );
    };
    match set_power(&sh, node, on) {
        Ok(()) => json_response(StatusCode::OK, json!({ "node": node, "on": on })),
        Err(PexipSimError::Refused(m)) => error(StatusCode::NOT_FOUND, m),
        Err(e) => internal(e),
    }
}

/// Status objects of `kind` at simulated `now`.
fn status_objects(
    sh: &Shared,
    s: &Store<'_>,
    kind: &str,
) -> Result<Option<Vec<Value>>, PexipSimError> {
    let now = sh.now(s);
    let iso = super::clock::iso;
    let active = s.active_conferences(now)?;
    let vms = s.list("worker_vm")?;
    let address_of = |node_id: i64| {
        vms.iter()
            .find(|(id, _)| *id == node_id)
            .and_then(|(_, v)| v.get("address").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned()
    };
    let objects = match kind {
        "worker_vm" => {
            let mut out = Vec::new();
            for (id, vm) in &vms {
                let row = s.node(*id)?;
                let uploaded = row.as_ref().and_then(|r| r.uploaded_at);
                let service = service(sh, s, *id, now)?;
                let sync = service.sync;
                let last = service.last_contact.map_or(Value::Null, |t| json!(iso(t)));
                let mine: Vec<_> = active.iter().filter(|c| c.node_id == *id).collect();
                let participants: i64 = mine.iter().map(|c| c.participants).sum();
                let location_name = vm
                    .get("system_location")
                    .and_then(Value::as_str)
                    .and_then(|u| schema::parse_uri("system_location", u))
                    .and_then(|lid| s.get("system_location", lid).ok().flatten())
                    .and_then(|l| l.get("name").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                let text = |k: &str| vm.get(k).cloned().unwrap_or(Value::Null);
                out.push(json!({
                    "id": id,
                    "configuration_id": id,
                    "name": text("name"),
                    "node_type": text("node_type"),
                    "system_location": location_name,
                    "maintenance_mode": text("maintenance_mode"),
                    "maintenance_mode_reason": text("maintenance_mode_reason"),
                    "sync_status": sync,
                    "last_updated": last,
                    "last_attempted_contact": last,
                    "boot_time": service.boot_time.map(iso),
                    "deploy_status": if uploaded.is_some() { "DEPLOYED" } else { "NOT_DEPLOYED" },
                    "upgrade_status": "IDLE",
                    "version": "30.0.0.59565",
                    "hypervisor": "KVM",
                    "cpu_count": text("vm_cpu_count"),
                    "cpu_model": "Intel Xeon (simulated)",
                    "cpu_capabilities": "AVX2",
                    "total_ram": text("vm_system_memory"),
                    "media_load": (participants * 5).min(100),
                    "media_tokens_used": participants * 10,
                    "signaling_count": participants,
                    "max_hd_calls": 20, "max_full_hd_calls": 10, "max_sd_calls": 40, "max_audio_calls": 200,
                    "max_direct_participants": 0, "max_media_tokens": 400,
                    "resource_uri": format!("{}worker_vm/{id}/", schema::STATUS_PREFIX),
                }));
            }
            out
        }
        "management_vm" => {
            vec![json!({
                "id": 1,
                // `pexip/go-infinity-sdk` `status/models.go` (`ManagementVM`).
                "configuration_id": 1,
                "name": sh.opts.wizard.hostname,
                "primary": true,
                "last_updated": iso(now),
                "last_attempted_contact": iso(now),
                "sync_status": "SYNCED",
                "upgrade_status": "IDLE",
                "version": "30.0.0.59565",
                "resource_uri": format!("{}management_vm/1/", schema::STATUS_PREFIX),
            })]
        }
        "conference" => active
            .iter()
            .map(|c| {
                json!({
                    "id": format!("conf-{}", c.id),
                    "name": c.name,
                    "service_type": "conference",
                    "is_started": true,
                    "is_locked": false,
                    "guests_muted": false,
                    "direct_media_available": false,
                    "start_time": iso(c.started_at),
                    "tag": "",
                    "resource_uri": format!("{}conference/conf-{}/", schema::STATUS_PREFIX, c.id),
                })
            })
            .collect(),
        "participant" => active
            .iter()
            .flat_map(|c| {
                let node_address = address_of(c.node_id);
                (1..=c.participants).map(move |n| {
                    json!({
                        "id": format!("part-{}-{n}", c.id),
                        "conference": c.name,
                        "media_node": node_address,
                        "proxy_node": "",
                        "signalling_node": node_address,
                        "display_name": format!("Participant {n}"),
                        "call_direction": "in",
                        "protocol": "WebRTC",
                        "role": "chair",
                        "connect_time": iso(c.started_at),
                        "has_media": true,
                        "resource_uri": format!("{}participant/part-{}-{n}/", schema::STATUS_PREFIX, c.id),
                    })
                })
            })
            .collect(),
        _ => return Ok(None),
    };
    Ok(Some(objects))
}

async fn list_status(
    State(sh): St,
    Path(kind): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    match sh.with_db(|s| status_objects(&sh, s, &kind)) {
        Ok(Some(objects)) => {
            // No public source lists a filter of the status resources: the SDK's status
            // list options are `limit` and `offset` only (`pexip/go-infinity-sdk`,
            // `status/status.go`: `ListOptions = options.BaseListOptions`). Every other
            // parameter is taken as one the real server ignores (unverified).
            let path = format!("{}{kind}/", schema::STATUS_PREFIX);
            let mut ignored = Vec::new();
            let resp = list_body(&path, &q, objects, &|_| FilterField::Unknown, &mut ignored);
            record_ignored(&sh, &format!("GET {path}"), "filter", &ignored);
            resp
        }
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

async fn get_status(State(sh): St, Path((kind, id)): Path<(String, String)>) -> Response {
    match sh.with_db(|s| status_objects(&sh, s, &kind)) {
        Ok(Some(objects)) => {
            let found = objects.into_iter().find(|o| match o.get("id") {
                Some(Value::String(s)) => *s == id,
                Some(Value::Number(n)) => n.to_string() == id,
                _ => false,
            });
            match found {
                Some(o) => json_response(StatusCode::OK, o),
                None => not_found(),
            }
        }
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

/// Completes the installation wizard: the DNS and NTP servers it was given become
/// configuration objects, as on a real Management Node. Idempotent.
pub(crate) fn complete_wizard(sh: &Shared, wizard: &SimWizard) -> Result<(), PexipSimError> {
    sh.with_db(|s| {
        if s.meta("wizard_completed")?.is_some() {
            return Ok(());
        }
        for (kind, addresses) in [
            ("dns_server", &wizard.dns_servers),
            ("ntp_server", &wizard.ntp_servers),
        ] {
            for address in addresses {
                let id = s.next_id(kind)?;
                let mut obj = json!({ "address": address, "description": "" });
                if kind == "ntp_server"
                    && let Some(o) = obj.as_object_mut()
                {
                    o.insert("key".into(), json!(""));
                    o.insert("key_id".into(), Value::Null);
                }
                s.insert(kind, id, &obj)?;
            }
        }
        if let Some(address) = &wizard.address {
            // The configuration singleton of the Management Node (`pexip/go-infinity-sdk`
            // `config/management_vm_model.go`), with the wizard's DNS and NTP servers.
            let uris = |kind: &str| -> Result<Vec<Value>, PexipSimError> {
                Ok(s.list(kind)?
                    .into_iter()
                    .map(|(id, _)| json!(schema::uri(kind, id)))
                    .collect())
            };
            let text = |v: &Option<String>| json!(v.clone().unwrap_or_default());
            let obj = json!({
                "name": wizard.hostname,
                "description": "",
                "hostname": wizard.hostname,
                "domain": wizard.domain,
                "address": address,
                "netmask": text(&wizard.netmask),
                "gateway": text(&wizard.gateway),
                "alternative_fqdn": "",
                "mtu": 1500,
                "dns_servers": uris("dns_server")?,
                "ntp_servers": uris("ntp_server")?,
                "enable_ssh": "ON",
                "snmp_mode": "DISABLED",
                "primary": true,
                "initializing": false,
            });
            s.insert("management_vm", 1, &obj)?;
        }
        s.set_meta(
            "wizard_hostname",
            &format!("{}.{}", wizard.hostname, wizard.domain),
        )?;
        s.set_meta("wizard_completed", "1")
    })
}

async fn sim_complete_wizard(State(sh): St, body: Bytes) -> Response {
    let mut wizard = sh.opts.wizard.clone();
    if !body.is_empty() {
        let Ok(v) = serde_json::from_slice::<Value>(&body) else {
            return error(
                StatusCode::BAD_REQUEST,
                "The request body is not valid JSON.",
            );
        };
        let list = |k: &str| {
            v.get(k).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        if let Some(h) = v.get("hostname").and_then(Value::as_str) {
            wizard.hostname = h.to_owned();
        }
        if let Some(d) = v.get("domain").and_then(Value::as_str) {
            wizard.domain = d.to_owned();
        }
        if let Some(dns) = list("dns_servers") {
            wizard.dns_servers = dns;
        }
        if let Some(ntp) = list("ntp_servers") {
            wizard.ntp_servers = ntp;
        }
    }
    match complete_wizard(&sh, &wizard) {
        Ok(()) => json_response(StatusCode::OK, json!({ "completed": true })),
        Err(e) => internal(e),
    }
}

pub(crate) async fn sim_conference(State(sh): St, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let node_name = v
        .get("node")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Simulated conference")
        .to_owned();
    let participants = v
        .get("participants")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(1);
    let seconds = v
        .get("duration_seconds")
        .and_then(Value::as_f64)
        .unwrap_or(600.0)
        .max(0.0);
    let result = sh.with_db(|s| -> Outcome<Value> {
        let Some((id, vm)) = s
            .list("worker_vm")?
            .into_iter()
            .find(|(_, vm)| vm.get("name").and_then(Value::as_str) == Some(node_name.as_str()))
        else {
            return Ok(Err(error(
                StatusCode::NOT_FOUND,
                format!("no Conferencing Node named `{node_name}`"),
            )));
        };
        if vm.get("maintenance_mode").and_then(Value::as_bool) == Some(true) {
            return Ok(Err(error(
                StatusCode::CONFLICT,
                format!(
                    "`{node_name}` is in maintenance mode and accepts no new conference instances"
                ),
            )));
        }
        let now = sh.now(s);
        let service = service(&sh, s, id, now)?;
        if service.off {
            return Ok(Err(error(
                StatusCode::CONFLICT,
                format!("`{node_name}` is stopped"),
            )));
        }
        if service.sync != "SYNCED" {
            return Ok(Err(error(
                StatusCode::CONFLICT,
                format!("`{node_name}` is not in service yet"),
            )));
        }
        let ends = now + (seconds * 1000.0) as i64;
        let cid = s.insert_conference(id, &name, participants, now, ends)?;
        Ok(Ok(
            json!({ "id": format!("conf-{cid}"), "ends_at": super::clock::iso(ends) }),
        ))
    });
    match result {
        Ok(Ok(v)) => json_response(StatusCode::CREATED, v),
        Ok(Err(r)) => r,
        Err(e) => internal(e),
    }
}

async fn sim_advance(State(sh): St, body: Bytes) -> Response {
    let seconds = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("seconds").and_then(Value::as_f64))
        .unwrap_or(0.0)
        .max(0.0);
    let result = sh.with_db(|s| -> Result<i64, PexipSimError> {
        s.add_offset_ms((seconds * 1000.0) as i64)?;
        Ok(sh.now(s))
    });
    match result {
        Ok(now) => json_response(StatusCode::OK, json!({ "now": super::clock::iso(now) })),
        Err(e) => internal(e),
    }
}

async fn sim_nodes(State(sh): St) -> Response {
    json_response(StatusCode::OK, json!(sh.bootstrap_urls()))
}

async fn sim_ignored(State(sh): St) -> Response {
    match sh.with_db(|s| s.ignored()) {
        Ok(list) => json_response(StatusCode::OK, json!(list)),
        Err(e) => internal(e),
    }
}

async fn sim_stats(State(sh): St) -> Response {
    let c = sh.calls.snapshot();
    json_response(
        StatusCode::OK,
        json!({ "get": c.get, "post": c.post, "patch": c.patch, "put": c.put, "delete": c.delete }),
    )
}

async fn sim_faults(State(sh): St, body: Bytes) -> Response {
    let statuses: Vec<u16> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("statuses").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_u64().and_then(|n| u16::try_from(n).ok()))
        .collect();
    sh.push_faults(&statuses);
    json_response(StatusCode::OK, json!({ "queued": statuses.len() }))
}
