//! Values inside a desired state that are not literal: references to another resource's
//! observed field, secret references, file references and look-ups.
//!
//! A desired state is JSON. Four one-key objects have a meaning of their own:
//!
//! | marker | example | resolved |
//! |---|---|---|
//! | `$ref` | `{"$ref": "vcn[eu-zurich-1].id"}` (address, a dot, the field) | from the observed state of that resource, at plan and apply time |
//! | `$secret` | `{"$secret": "env:PEXIP_ADMIN_PASSWORD"}` | by the provider, at the moment it sends the request; never stored |
//! | `$file` | `{"$file": "keys/pexip.pub"}` | by the provider, from a file relative to the spec |
//! | `$lookup` | `{"$lookup": {"kind": "image", "region": "eu-zurich-1", "display_name": "..."}}` | from resources observe saw but pexspec does not manage |
//!
//! `$secret` and `$file` values are write-only: a provider never reports them back, so the
//! plan compares them only when the observed state carries the same reference.

use serde_json::{Map, Value, json};

use crate::{Address, Kind};

/// A reference to a field of another resource's observed state, e.g. the `id` of
/// `vcn[eu-zurich-1]` or the `ip_address` of `public_ip[pexconf01]`. Every reference in a
/// node's desired state names one of the node's dependencies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ref {
    /// The resource referred to.
    pub address: Address,
    /// The field of its observed state; `id` is the observed id.
    pub field: String,
}

impl Ref {
    /// A reference to `field` of `address`.
    pub fn new(address: Address, field: impl Into<String>) -> Self {
        Self {
            address,
            field: field.into(),
        }
    }

    /// A reference to the observed id of `address`.
    pub fn id(address: Address) -> Self {
        Self::new(address, "id")
    }

    /// The JSON form: `{"$ref": "ADDRESS.FIELD"}`, e.g. `{"$ref": "vcn[eu-zurich-1].id"}`.
    pub fn to_value(&self) -> Value {
        marker("$ref", Value::String(self.to_string()))
    }

    /// Reads the JSON form.
    pub fn from_value(value: &Value) -> Option<Ref> {
        Ref::parse(single(value, "$ref")?.as_str()?)
    }

    /// Parses `ADDRESS.FIELD` (the field follows the address's closing bracket, or the
    /// first dot of a singleton's address).
    pub fn parse(text: &str) -> Option<Ref> {
        let (address, field) = split_ref(text)?;
        Some(Ref::new(Address::parse(address).ok()?, field))
    }
}

/// Splits the text of a reference, `ADDRESS.FIELD`, into its address and field without
/// allocating.
pub fn split_ref(text: &str) -> Option<(&str, &str)> {
    let at = if text.contains('[') {
        text.rfind("].")? + 1
    } else {
        text.find('.')?
    };
    let (address, field) = (&text[..at], &text[at + 1..]);
    (!field.is_empty()).then_some((address, field))
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.address, self.field)
    }
}

/// A look-up of a resource pexspec does not manage, by kind, region and display name (a
/// Conferencing Node image replicated to a region by other means).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lookup {
    /// The kind of resource looked up.
    pub kind: Kind,
    /// Its region.
    pub region: String,
    /// Its display name.
    pub display_name: String,
}

impl Lookup {
    /// The JSON form: `{"$lookup": {"kind", "region", "display_name"}}`.
    pub fn to_value(&self) -> Value {
        json!({"$lookup": {"kind": self.kind.as_str(), "region": self.region, "display_name": self.display_name}})
    }

    /// Reads the JSON form.
    pub fn from_value(value: &Value) -> Option<Lookup> {
        let inner = single(value, "$lookup")?.as_object()?;
        Some(Lookup {
            kind: Kind::from_name(inner.get("kind")?.as_str()?)?,
            region: inner.get("region")?.as_str()?.to_owned(),
            display_name: inner.get("display_name")?.as_str()?.to_owned(),
        })
    }

    /// The key observed states use for it: `kind:region:display_name`.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.kind, self.region, self.display_name)
    }
}

/// `{"$secret": "env:NAME"}` or `{"$secret": "file:PATH"}`: where a secret comes from,
/// never its value.
pub fn secret_value(secret: &pexspec_spec::Secret) -> Value {
    marker("$secret", Value::String(secret_reference(secret)))
}

/// `env:NAME`, `file:PATH` (or `inline` for a secret written in clear, whose text the
/// loader never kept).
pub fn secret_reference(secret: &pexspec_spec::Secret) -> String {
    match secret {
        pexspec_spec::Secret::Env(name) => format!("env:{}", name.value),
        pexspec_spec::Secret::File(path) => format!("file:{}", path.value),
        pexspec_spec::Secret::Inline => "inline".to_owned(),
    }
}

/// `{"$secret": reference}` from a reference made by [`secret_reference`].
pub fn secret_reference_value(reference: &str) -> Value {
    marker("$secret", Value::String(reference.to_owned()))
}

/// `{"$file": "PATH"}`: the contents of a (non-secret) file relative to the spec.
pub fn file_value(path: &str) -> Value {
    marker("$file", Value::String(path.to_owned()))
}

/// A one-key object `{key: value}`.
fn marker(key: &str, value: Value) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// Whether `value` is a write-only value (`$secret` or `$file`).
pub fn is_write_only(value: &Value) -> bool {
    single(value, "$secret").is_some() || single(value, "$file").is_some()
}

/// The text of a `$ref` marker (`ADDRESS.FIELD`), if `value` is one.
pub fn ref_text(value: &Value) -> Option<&str> {
    single(value, "$ref")?.as_str()
}

/// Whether `value` is a `$ref` or `$lookup` marker.
pub fn is_marker(value: &Value) -> bool {
    single(value, "$ref").is_some() || single(value, "$lookup").is_some()
}

/// Whether `value` is a secret reference.
pub fn is_secret(value: &Value) -> bool {
    single(value, "$secret").is_some()
}

/// The value of a one-key object whose key is `key` (no hashing: a marker is the only key).
fn single<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    (k == key).then_some(v)
}

/// Calls `f` on the text (`ADDRESS.FIELD`) of every `$ref` inside `value`, without parsing.
pub(crate) fn for_each_ref_text<'v>(value: &'v Value, f: &mut impl FnMut(&'v str)) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(text)) = single(value, "$ref") {
                f(text);
                return;
            }
            for v in map.values() {
                for_each_ref_text(v, f);
            }
        }
        Value::Array(items) => {
            for v in items {
                for_each_ref_text(v, f);
            }
        }
        _ => {}
    }
}

/// Calls `f` on every reference inside `value`.
pub fn for_each_ref(value: &Value, f: &mut impl FnMut(Ref)) {
    match value {
        Value::Object(map) => {
            if let Some(r) = Ref::from_value(value) {
                f(r);
                return;
            }
            for v in map.values() {
                for_each_ref(v, f);
            }
        }
        Value::Array(items) => {
            for v in items {
                for_each_ref(v, f);
            }
        }
        _ => {}
    }
}

/// What a resolver says about one reference or look-up.
pub enum Resolution {
    /// The value it stands for.
    Known(Value),
    /// Not known yet (the resource is still to be created); the marker stays in place.
    Unknown,
}

/// Replaces every `$ref` and `$lookup` in `value` that the resolver knows. Secrets and file
/// references stay as they are. Returns the new value and whether anything stayed unknown.
pub fn resolve(
    value: &Value,
    resolve_ref: &mut impl FnMut(&Ref) -> Resolution,
    resolve_lookup: &mut impl FnMut(&Lookup) -> Resolution,
) -> (Value, bool) {
    let mut unknown = false;
    let out = resolve_inner(value, resolve_ref, resolve_lookup, &mut unknown);
    (out, unknown)
}

fn resolve_inner(
    value: &Value,
    resolve_ref: &mut impl FnMut(&Ref) -> Resolution,
    resolve_lookup: &mut impl FnMut(&Lookup) -> Resolution,
    unknown: &mut bool,
) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(r) = Ref::from_value(value) {
                    return match resolve_ref(&r) {
                        Resolution::Known(v) => v,
                        Resolution::Unknown => {
                            *unknown = true;
                            value.clone()
                        }
                    };
                }
                if let Some(l) = Lookup::from_value(value) {
                    return match resolve_lookup(&l) {
                        Resolution::Known(v) => v,
                        Resolution::Unknown => {
                            *unknown = true;
                            value.clone()
                        }
                    };
                }
            }
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(
                    k.clone(),
                    resolve_inner(v, resolve_ref, resolve_lookup, unknown),
                );
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve_inner(v, resolve_ref, resolve_lookup, unknown))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_round_trip_and_are_found_anywhere() {
        let r = Ref::id(Address::new(Kind::Vcn, "eu-zurich-1"));
        let v = json!({"a": [1, {"b": r.to_value()}], "c": r.to_value()});
        let mut found = Vec::new();
        for_each_ref(&v, &mut |r| found.push(r));
        assert_eq!(found, vec![r.clone(), r.clone()]);
        assert_eq!(r.to_string(), "vcn[eu-zurich-1].id");
        assert_eq!(r.to_value(), json!({"$ref": "vcn[eu-zurich-1].id"}));
        let odd = Ref::new(Address::new(Kind::Conference, "a]. b[c]"), "id");
        assert_eq!(Ref::from_value(&odd.to_value()), Some(odd));
        let single = Ref::new(Address::singleton(Kind::Bucket), "namespace");
        assert_eq!(Ref::from_value(&single.to_value()), Some(single));
        assert_eq!(Ref::parse("vcn[a]."), None);
        let (resolved, unknown) = resolve(
            &v,
            &mut |_| Resolution::Known(json!("ocid1.vcn")),
            &mut |_| Resolution::Unknown,
        );
        assert!(!unknown);
        assert_eq!(
            resolved,
            json!({"a": [1, {"b": "ocid1.vcn"}], "c": "ocid1.vcn"})
        );
    }

    #[test]
    fn secrets_are_references_only() {
        let s = pexspec_spec::Secret::Env(pexspec_spec::Sp::new("X".into(), Default::default()));
        let v = secret_value(&s);
        assert_eq!(v, json!({"$secret": "env:X"}));
        assert!(is_write_only(&v) && is_secret(&v));
        assert!(!is_write_only(&json!({"$secret": "x", "other": 1})));
    }
}
