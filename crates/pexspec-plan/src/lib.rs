//! The [`Provider`] trait, the observed state, and the plan: the compiled graph's desired
//! state against what the providers observed, as create / update / replace / delete / noop
//! per resource (DESIGN.md §2, §6, §7).
//!
//! [`plan`] is pure and deterministic: the same graph and observed state always give the
//! same [`Plan`], byte for byte in JSON ([`Plan::to_json`]). [`render_human`] writes it for
//! people. [`InMemoryProvider`] is a fake cloud for tests and `plan --sim`, and
//! [`apply_plan`] applies a plan to it as an executor would.
//!
//! This crate does no IO and uses no async runtime: the provider trait returns `std`
//! futures that the executor drives.

mod compare;
mod memory;
mod observed;
mod plan;
mod provider;
mod render;
mod restart;

pub use memory::{InMemoryProvider, apply_plan, resolve_for_apply};
pub use observed::{Observed, ObservedState};
pub use plan::{Action, Change, FieldDiff, Plan, PlanSource, Summary, destroy, plan};
pub use provider::{
    BoxFuture, CreateRequest, Created, DeleteRequest, DynProvider, ErrorClass, GetRequest,
    Provider, ProviderError, Scope, Sensitive, UpdateRequest, retry_token,
};
pub use render::{render_human, show};
pub use restart::{RESTART_FIELDS, restarts};

use serde_json::Value;

/// JSON with object keys sorted at every level: the same value always gives the same text,
/// whatever order its maps were built in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    canonical_into(value, &mut out);
    out
}

pub(crate) fn canonical_into(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    canonical_into(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_into(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
