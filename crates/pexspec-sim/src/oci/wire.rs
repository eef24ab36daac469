//! Wire-level pieces of the OCI simulator: the error body, the reply, request-body field
//! readers, query and path decoding, and OCI's timestamp formats.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// An OCI error response: status, `code` and `message` (oci-api.md §2.9).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Seconds for a `retry-after` header (429 and 503 faults).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn not_authenticated() -> ApiError {
        ApiError::new(
            401,
            "NotAuthenticated",
            "The required information to complete authentication was not provided or was incorrect.",
        )
    }
    pub fn not_found() -> ApiError {
        ApiError::new(
            404,
            "NotAuthorizedOrNotFound",
            "Authorization failed or requested resource not found.",
        )
    }
    pub fn no_route() -> ApiError {
        ApiError::new(404, "NotFound", "Not Found")
    }
    pub fn related_not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(
            400,
            "RelatedResourceNotAuthorizedOrNotFound",
            format!("The {what} {id} was not found or you are not authorized to access it."),
        )
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidParameter", message)
    }
    pub fn missing(field: &str) -> ApiError {
        ApiError::new(400, "MissingParameter", format!("{field} may not be null"))
    }
    pub fn cannot_parse(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "CannotParseRequest", message)
    }
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, "Conflict", message)
    }
    pub fn incorrect_state(message: impl Into<String>) -> ApiError {
        ApiError::new(409, "IncorrectState", message)
    }
    pub fn no_etag_match() -> ApiError {
        ApiError::new(
            412,
            "NoEtagMatch",
            "The resource's etag does not match the value of the If-Match header.",
        )
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalServerError", message)
    }
}

/// The body of a reply.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Value),
    Bytes { data: Vec<u8>, content_type: String },
}

/// A successful reply of an operation.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// The resource the reply is about (what a retry token remembers).
    pub ocid: Option<String>,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(v),
            ocid: None,
        }
    }
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Empty,
            ocid: None,
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Parses a JSON request body; an empty body gives an empty object.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Map::new()));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::cannot_parse(format!("The request body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::cannot_parse(
            "The request body must be a JSON object.",
        ));
    }
    Ok(v)
}

/// Reads a required non-empty string field.
pub(crate) fn req_str(v: &Value, key: &str) -> Result<String, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Err(ApiError::missing(key)),
        Some(Value::String(s)) if s.is_empty() => {
            Err(ApiError::invalid(format!("{key} may not be empty")))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::invalid(format!("{key} must be a string"))),
    }
}

/// Reads an optional string field.
pub(crate) fn opt_str(v: &Value, key: &str) -> Result<Option<String>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(format!("{key} must be a string"))),
    }
}

/// Reads an optional boolean field.
pub(crate) fn opt_bool(v: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(format!("{key} must be a boolean"))),
    }
}

/// Reads an optional number field.
pub(crate) fn opt_f64(v: &Value, key: &str) -> Result<Option<f64>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("{key} must be a number"))),
        Some(_) => Err(ApiError::invalid(format!("{key} must be a number"))),
    }
}

/// Reads an optional object field.
pub(crate) fn opt_obj<'a>(
    v: &'a Value,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::invalid(format!("{key} must be an object"))),
    }
}

/// Reads an optional array field.
pub(crate) fn opt_array<'a>(v: &'a Value, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(ApiError::invalid(format!("{key} must be an array"))),
    }
}

/// Reads an optional array of strings.
pub(crate) fn opt_str_list(v: &Value, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match opt_array(v, key)? {
        None => Ok(None),
        Some(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(format!("{key} must be an array of strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

/// Reads `freeformTags` (string → string); absent gives an empty map.
pub(crate) fn freeform_tags(v: &Value) -> Result<Value, ApiError> {
    string_map(v, "freeformTags")
}

/// Reads a string → string map field; absent gives an empty map.
pub(crate) fn string_map(v: &Value, key: &str) -> Result<Value, ApiError> {
    match opt_obj(v, key)? {
        None => Ok(Value::Object(Map::new())),
        Some(m) => {
            for (k, val) in m {
                if !val.is_string() {
                    return Err(ApiError::invalid(format!("{key}.{k} must be a string")));
                }
            }
            Ok(Value::Object(m.clone()))
        }
    }
}

/// Reads `definedTags` (namespace → key → value); absent gives an empty map.
pub(crate) fn defined_tags(v: &Value) -> Result<Value, ApiError> {
    match opt_obj(v, "definedTags")? {
        None => Ok(Value::Object(Map::new())),
        Some(m) => {
            for (k, val) in m {
                if !val.is_object() {
                    return Err(ApiError::invalid(format!(
                        "definedTags.{k} must be an object"
                    )));
                }
            }
            Ok(Value::Object(m.clone()))
        }
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are). With `plus` a `+` is a space.
pub(crate) fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a query string; a repeated name keeps its last value.
pub(crate) fn parse_query(q: Option<&str>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(q) = q {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.insert(percent_decode(k, true), percent_decode(v, true));
        }
    }
    m
}

/// Formats epoch milliseconds as OCI's RFC 3339 timestamp, `2016-08-25T21:10:29.600Z`.
pub(crate) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Formats epoch milliseconds as an HTTP date (`last-modified`).
pub(crate) fn http_date(ms: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    httpdate::fmt_http_date(t)
}

// Howard Hinnant's days → civil date algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_472_159_429_600), "2016-08-25T21:10:29.600Z");
        assert_eq!(
            http_date(1_389_000_000_000),
            "Mon, 06 Jan 2014 09:20:00 GMT"
        );
    }

    #[test]
    fn decodes_percent_and_query() {
        assert_eq!(percent_decode("a%20b%2Fc%zz%", false), "a b/c%zz%");
        assert_eq!(percent_decode("a+b", true), "a b");
        let q = parse_query(Some("availabilityDomain=Pjwf%3A%20PHX-AD-1&limit=1&x"));
        assert_eq!(q["availabilityDomain"], "Pjwf: PHX-AD-1");
        assert_eq!(q["limit"], "1");
        assert_eq!(q["x"], "");
    }

    #[test]
    fn reads_fields() {
        let v = serde_json::json!({"a": "x", "b": 1, "t": {"k": "v"}, "bad": {"k": 1}});
        assert_eq!(req_str(&v, "a").unwrap(), "x");
        assert_eq!(req_str(&v, "z").unwrap_err().code, "MissingParameter");
        assert_eq!(req_str(&v, "b").unwrap_err().code, "InvalidParameter");
        assert!(string_map(&v, "t").is_ok());
        assert!(string_map(&v, "bad").is_err());
        assert_eq!(json_body(b"{nope").unwrap_err().status, 400);
        assert_eq!(json_body(b"[1]").unwrap_err().status, 400);
        assert!(json_body(b"").unwrap().is_object());
    }
}
