//! Simulated Conferencing Nodes before and after their configuration: the bootstrap file the
//! Management Node generates, and the per-node HTTPS listener standing in for
//! `https://<node>:8443/`.
//!
//! The listener takes the file two ways:
//! - `POST /configuration/bootstrap` with `Content-Type: text/xml` and the file as the raw
//!   body: the API way. Source: the independent provisioning client
//!   `colinbruner/pexip-transcoder-client`, `pexip/client.py` (`_provision` posts the body of
//!   the `worker_vm` create answer to `https://<address>:8443/configuration/bootstrap` with that
//!   header, `verify=False`, and treats any `response.ok` status as success). What a real node
//!   answers is not stated by any public source: this simulator answers 200 on success, 415 to
//!   a body that is not XML by its content type and 400 to a file that is not this node's
//!   (unverified; a capture of a real node's answers would confirm them).
//! - `GET /` shows an upload form and `POST /` takes it as `multipart/form-data`, for people
//!   who upload by hand in a browser as the deployment guide describes ("Uploading the
//!   configuration file"). The real page's form field and action are not documented; this
//!   form is a stand-in for the browser path only, pexspec never uses it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};
use tokio::sync::watch;

use super::{NodeListener, PexipSimError, Shared, tls};

/// The form field of the upload page (the page's `<input type="file" name="file">`).
pub(crate) const FORM_FIELD: &str = "file";

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The configuration file returned once by the `worker_vm` create call.
pub(crate) fn bootstrap_xml(
    id: i64,
    token: &str,
    obj: &Map<String, Value>,
    manager: &str,
) -> String {
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<conferencing-node-config version=\"30\">\n",
    );
    let mut line = |tag: &str, value: &str| {
        out.push_str(&format!("  <{tag}>{}</{tag}>\n", xml_escape(value)));
    };
    line("node-id", &id.to_string());
    line("token", token);
    line("management-node", manager);
    for key in [
        "name",
        "hostname",
        "domain",
        "address",
        "netmask",
        "gateway",
        "static_nat_address",
        "ipv6_address",
        "ipv6_gateway",
        "alternative_fqdn",
        "node_type",
        "password",
    ] {
        line(&key.replace('_', "-"), &text(key));
    }
    out.push_str("</conferencing-node-config>\n");
    out
}

/// The text between `<tag>` and `</tag>` in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(&xml[start..end])
}

/// One part of a `multipart/form-data` body.
#[derive(Debug)]
struct Part<'a> {
    name: String,
    filename: Option<String>,
    body: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn disposition_param(line: &str, key: &str) -> Option<String> {
    let pat = format!("{key}=\"");
    let start = line.find(&pat)? + pat.len();
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_owned())
}

/// A small `multipart/form-data` reader (RFC 7578): enough for a browser-style file upload.
fn multipart<'a>(content_type: &str, body: &'a [u8]) -> Option<Vec<Part<'a>>> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        let content = &rest[header_end + 4..];
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(&delimiter);
        let end = find(content, &close)?;
        let disposition = headers
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
        parts.push(Part {
            name: disposition_param(disposition, "name")?,
            filename: disposition_param(disposition, "filename"),
            body: &content[..end],
        });
        rest = &content[end + close.len()..];
    }
}

#[derive(Clone)]
struct NodeState {
    shared: Arc<Shared>,
    id: i64,
}

const FORM_PAGE: &str = "<!DOCTYPE html>
<html><head><title>Pexip Infinity Conferencing Node</title></head><body>
<h1>Upload configuration</h1>
<form method=\"post\" action=\"/\" enctype=\"multipart/form-data\">
<input type=\"file\" name=\"file\"> <input type=\"submit\" value=\"Upload\">
</form></body></html>
";

async fn form() -> Html<&'static str> {
    Html(FORM_PAGE)
}

fn text(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        msg.to_owned(),
    )
        .into_response()
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The browser form's upload (`multipart/form-data`, field `file`).
async fn upload_form(State(st): State<NodeState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(parts) = multipart(content_type(&headers), &body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "expected a multipart/form-data upload\n",
        );
    };
    let Some(file) = parts
        .iter()
        .find(|p| p.name == FORM_FIELD && p.filename.is_some())
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "no configuration file in the form field `file`\n",
        );
    };
    apply(&st, file.body)
}

/// `POST /configuration/bootstrap`: the file as the raw body, `Content-Type: text/xml`.
async fn upload_api(State(st): State<NodeState>, headers: HeaderMap, body: Bytes) -> Response {
    let mime = content_type(&headers)
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "text/xml" && mime != "application/xml" {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected the configuration file as the body, with Content-Type: text/xml\n",
        );
    }
    apply(&st, &body)
}

/// Applies an uploaded configuration file if it is this node's.
fn apply(st: &NodeState, file: &[u8]) -> Response {
    let xml = String::from_utf8_lossy(file);
    let claimed_id = element(&xml, "node-id").and_then(|v| v.parse::<i64>().ok());
    let claimed_token = element(&xml, "token");
    let result = st
        .shared
        .with_db(|s| -> Result<Result<(), &'static str>, PexipSimError> {
            let Some(row) = s.node(st.id)? else {
                return Ok(Err("this Conferencing Node no longer exists"));
            };
            if claimed_id != Some(row.id) || claimed_token != Some(row.token.as_str()) {
                return Ok(Err(
                    "the uploaded file is not the configuration of this Conferencing Node",
                ));
            }
            let now = st.shared.now(s);
            s.set_uploaded(row.id, now)?;
            Ok(Ok(()))
        });
    match result {
        Ok(Ok(())) => Html(
            "<!DOCTYPE html><html><body><p>Configuration applied. The Conferencing Node is rebooting \
             and will contact the Management Node.</p></body></html>\n",
        )
        .into_response(),
        Ok(Err(msg)) => text(StatusCode::BAD_REQUEST, &format!("{msg}\n")),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
    }
}

/// Starts (or restarts) the bootstrap listener of node `id`; returns its URL.
pub(crate) async fn start_listener(shared: &Arc<Shared>, id: i64) -> Result<String, PexipSimError> {
    let (row, name) = shared.with_db(|s| -> Result<_, PexipSimError> {
        let row = s.node(id)?;
        let name = s
            .get("worker_vm", id)?
            .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        Ok((row, name))
    })?;
    let Some(row) = row else {
        return Err(PexipSimError::State(format!("no node {id}")));
    };
    let config = tls::server_config(&tls::CertPair {
        cert_pem: row.cert_pem.clone(),
        key_pem: row.key_pem.clone(),
    })?;
    let tcp = tls::bind(row.port.unwrap_or(0)).await?;
    let port = tcp
        .local_addr()
        .map_err(|e| PexipSimError::Io {
            path: "node listener".into(),
            message: e.to_string(),
        })?
        .port();
    shared.with_db(|s| s.set_port(id, port))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut global = shared.shutdown.clone();
    let mut local = stop_rx.clone();
    // The accept loop stops on either the node's own stop or the simulator's shutdown.
    let (merged_tx, merged_rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = global.wait_for(|s| *s) => {}
            _ = local.wait_for(|s| *s) => {}
        }
        let _ = merged_tx.send(true);
    });
    let listener = tls::listen(tcp, config, merged_rx.clone())?;
    let app = Router::new()
        .route("/", get(form).post(upload_form))
        .route("/configuration/bootstrap", post(upload_api))
        .with_state(NodeState {
            shared: shared.clone(),
            id,
        });
    let mut stop = merged_rx;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let url = format!("https://127.0.0.1:{port}/");
    let mut nodes = match shared.nodes.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(old) = nodes.insert(
        id,
        NodeListener {
            name,
            url: url.clone(),
            stop: stop_tx,
        },
    ) {
        let _ = old.stop.send(true);
    }
    Ok(url)
}

/// Stops node `id`'s listener (the node was deleted).
pub(crate) fn stop_listener(shared: &Shared, id: i64) {
    let mut nodes = match shared.nodes.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(old) = nodes.remove(&id) {
        let _ = old.stop.send(true);
    }
}

/// Renames node `id` in the listener map after a PATCH of its name.
pub(crate) fn rename_listener(shared: &Shared, id: i64, name: &str) {
    let mut nodes = match shared.nodes.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(l) = nodes.get_mut(&id) {
        l.name = name.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_browser_style_upload() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pexip-a.example.com.xml\"\r\nContent-Type: application/xml\r\n\r\n<x>1</x>\r\n--XyZ--\r\n";
        let parts = multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].name, "file");
        assert_eq!(
            parts[0].filename.as_deref(),
            Some("pexip-a.example.com.xml")
        );
        assert_eq!(parts[0].body, b"<x>1</x>");
    }

    #[test]
    fn bootstrap_file_carries_id_and_token() {
        let mut obj = Map::new();
        obj.insert("name".into(), Value::String("pex<01>".into()));
        let xml = bootstrap_xml(7, "tok", &obj, "10.0.0.10");
        assert_eq!(element(&xml, "node-id"), Some("7"));
        assert_eq!(element(&xml, "token"), Some("tok"));
        assert_eq!(element(&xml, "name"), Some("pex&lt;01&gt;"));
    }
}
