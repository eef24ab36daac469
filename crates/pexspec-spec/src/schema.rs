//! The JSON Schema of the spec format, generated from the model types.

use crate::Spec;

/// The JSON Schema (draft 2020-12) of the spec format, as written to
/// `schemas/pexspec.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Spec);
    let mut value = schema.to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            "https://pexspec.dev/schemas/pexspec.schema.json".into(),
        );
    }
    value
}
