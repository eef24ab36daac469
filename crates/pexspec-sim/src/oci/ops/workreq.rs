//! Work requests: progress computed from the clock, errors and log entries.

use serde_json::{Value, json};

use super::{Call, Ctx, Kind, page};
use crate::oci::store::Res;
use crate::oci::wire::{ApiError, Reply, rfc3339};

/// The wire JSON of a resource as of `now` (work requests get their live percentComplete).
pub(crate) fn view(r: &Res, now: i64) -> Value {
    let mut doc = r.doc.clone();
    if r.kind == Kind::WorkRequest.store_kind() && doc["status"] == "IN_PROGRESS" {
        let start = r.internal["startMs"].as_i64().unwrap_or(now);
        let end = r.internal["endMs"].as_i64().unwrap_or(now);
        let pct = if end > start {
            ((now - start) as f64 / (end - start) as f64 * 100.0).clamp(0.0, 99.0)
        } else {
            99.0
        };
        doc["percentComplete"] = json!((pct * 10.0).floor() / 10.0);
    }
    doc
}

/// ListWorkRequestErrors.
pub(crate) fn errors(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let r = ctx.must_get(Kind::WorkRequest, id)?;
    let errs = if r.doc["status"] == "FAILED" {
        r.internal["errors"].as_array().cloned().unwrap_or_default()
    } else {
        Vec::new()
    };
    page(call, errs)
}

/// ListWorkRequestLogs: one entry per step reached.
pub(crate) fn logs(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let r = ctx.must_get(Kind::WorkRequest, id)?;
    let accepted = r.internal["acceptedMs"].as_i64().unwrap_or(r.created_ms);
    let start = r.internal["startMs"].as_i64().unwrap_or(accepted);
    let end = r.internal["endMs"].as_i64().unwrap_or(start);
    let op = r.s("operationType").to_string();
    let mut entries =
        vec![json!({"message": format!("{op} accepted"), "timestamp": rfc3339(accepted)})];
    if ctx.now >= start {
        entries.push(json!({"message": format!("{op} started"), "timestamp": rfc3339(start)}));
    }
    if ctx.now >= end {
        let msg = if r.doc["status"] == "FAILED" {
            format!("{op} failed")
        } else {
            format!("{op} succeeded")
        };
        entries.push(json!({"message": msg, "timestamp": rfc3339(end)}));
    }
    page(call, entries)
}
