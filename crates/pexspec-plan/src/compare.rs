//! Normalised comparison of a desired value against an observed one, so that a plan after
//! an apply is empty: numbers compare as numbers (`4` = `4.0`), CIDRs and addresses by
//! value (`2001:DB8::/32` = `2001:db8::/32`), arrays as sets (rule order never matters),
//! fields the cloud adds are ignored, and write-only values (secrets, files) are compared
//! only when the provider reports them back.

use std::net::IpAddr;

use ipnet::IpNet;
use pexspec_graph::Lookup;
use pexspec_graph::value::{is_write_only, ref_text};
use serde_json::Value;

/// What a reference stands for, borrowed from the observed state.
pub(crate) enum Resolved<'a> {
    /// The observed id of the referred resource.
    Id(&'a str),
    /// An observed field of the referred resource.
    Value(&'a Value),
    /// Not known before apply.
    Unknown,
}

/// How references and look-ups in a desired value are resolved while comparing.
pub(crate) struct Resolver<'r, 'a> {
    /// The reference `ADDRESS.FIELD`.
    pub(crate) reference: &'r dyn Fn(&str) -> Resolved<'a>,
    /// A look-up; `None` if observe did not find it.
    pub(crate) lookup: &'r dyn Fn(&Lookup) -> Option<&'a str>,
}

/// Whether the observed value satisfies the desired one, with references resolved on the
/// way.
pub(crate) fn covers_with(observed: Option<&Value>, desired: &Value, r: &Resolver<'_, '_>) -> bool {
    compare(observed, desired, Some(r), false)
}

/// Whether the observed value satisfies the desired one (references stay unknown).
#[cfg(test)]
fn covers(observed: Option<&Value>, desired: &Value) -> bool {
    compare(observed, desired, None, false)
}

/// Whether an observed array element is the desired one (strictly: see [`compare`]).
pub(crate) fn same_element(observed: &Value, desired: &Value) -> bool {
    compare(Some(observed), desired, None, true)
}

/// The comparison. Outside arrays, fields the cloud adds are ignored (computed fields such as
/// `private_ip`); inside an array element (`strict`) every observed field must be desired,
/// because there an absent field has a meaning (a rule without `udp_options` admits every
/// port).
fn compare(
    observed: Option<&Value>,
    desired: &Value,
    r: Option<&Resolver<'_, '_>>,
    strict: bool,
) -> bool {
    let observed = observed.filter(|v| !v.is_null());
    if is_write_only(desired) {
        return observed.is_none_or(|o| o == desired);
    }
    if let Some(text) = ref_text(desired) {
        return match r.map(|r| (r.reference)(text)) {
            Some(Resolved::Id(id)) => observed.is_some_and(|o| o.as_str() == Some(id)),
            Some(Resolved::Value(v)) => compare(observed, v, None, strict),
            // A reference that stays unresolved: known only after apply.
            Some(Resolved::Unknown) | None => false,
        };
    }
    if let Some(l) = Lookup::from_value(desired) {
        return match r.and_then(|r| (r.lookup)(&l)) {
            Some(id) => observed.is_some_and(|o| o.as_str() == Some(id)),
            // A look-up observe could not resolve: nothing to compare with.
            None => true,
        };
    }
    let Some(observed) = observed else {
        // An absent object is satisfied when every desired field is satisfied by absence
        // (nulls, write-only values).
        return match desired {
            Value::Object(d) => d.values().all(|v| compare(None, v, r, strict)),
            other => other.is_null(),
        };
    };
    match (observed, desired) {
        (Value::Object(o), Value::Object(d)) => {
            d.iter().all(|(k, v)| compare(o.get(k), v, r, strict))
                && (!strict || o.iter().all(|(k, v)| v.is_null() || d.contains_key(k)))
        }
        (Value::Array(o), Value::Array(d)) => covers_set(o, d, r),
        (Value::Number(o), Value::Number(d)) => match (o.as_f64(), d.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
            _ => o == d,
        },
        (Value::String(o), Value::String(d)) => same_text(o, d),
        (o, d) => o == d,
    }
}

/// Arrays are sets: equal length and each desired element matched by its own observed one.
/// Elements compare strictly, so matching is an equivalence and a greedy match is exact.
fn covers_set(observed: &[Value], desired: &[Value], r: Option<&Resolver<'_, '_>>) -> bool {
    if observed.len() != desired.len() {
        return false;
    }
    // Fast path: element-wise in order (the usual case once normalised).
    if observed
        .iter()
        .zip(desired)
        .all(|(o, d)| compare(Some(o), d, r, true))
    {
        return true;
    }
    let mut used = vec![false; observed.len()];
    'desired: for d in desired {
        for (i, o) in observed.iter().enumerate() {
            if !used[i] && compare(Some(o), d, r, true) {
                used[i] = true;
                continue 'desired;
            }
        }
        return false;
    }
    true
}

fn same_text(observed: &str, desired: &str) -> bool {
    if observed == desired {
        return true;
    }
    let (o, d) = (observed.trim(), desired.trim());
    if let (Ok(a), Ok(b)) = (o.parse::<IpNet>(), d.parse::<IpNet>()) {
        return a == b;
    }
    if let (Ok(a), Ok(b)) = (o.parse::<IpAddr>(), d.parse::<IpAddr>()) {
        return a == b;
    }
    false
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn normalised_comparisons() {
        let c = |o: Value, d: Value| covers(Some(&o), &d);
        assert!(c(json!(4), json!(4.0)));
        assert!(c(json!("2001:DB8::/32"), json!("2001:db8::/32")));
        assert!(c(json!("2001:0db8::1"), json!("2001:db8::1")));
        assert!(!c(json!("10.0.0.0/16"), json!("10.1.0.0/16")));
        assert!(c(json!({"a": 1, "extra": 2}), json!({"a": 1})));
        // Inside arrays an extra field is a difference: a rule with ports is not a rule for
        // every port.
        assert!(c(
            json!([{"p": 17, "udp": {"min": 1}}, {"p": 17}]),
            json!([{"p": 17}, {"p": 17, "udp": {"min": 1}}])
        ));
        assert!(!c(
            json!([{"p": 17, "udp": {"min": 1}}]),
            json!([{"p": 17}])
        ));
        assert!(c(json!([{"p": 17, "icmp": null}]), json!([{"p": 17}])));
        assert!(!c(json!({"extra": 2}), json!({"a": 1})));
        assert!(c(json!([{"p": 2}, {"p": 1}]), json!([{"p": 1}, {"p": 2}])));
        assert!(!c(
            json!([{"p": 2}, {"p": 1, "x": 0}]),
            json!([{"p": 1}, {"p": 2}])
        ));
        assert!(!c(json!([{"p": 1}, {"p": 1}]), json!([{"p": 1}, {"p": 2}])));
        assert!(!c(json!([1]), json!([1, 1])));
        assert!(covers(None, &json!({"$secret": "env:X"})));
        assert!(c(json!({"$secret": "env:X"}), json!({"$secret": "env:X"})));
        assert!(!c(json!({"$secret": "env:Y"}), json!({"$secret": "env:X"})));
        assert!(!c(
            json!("ocid"),
            json!({"$ref": {"address": "vcn[a]", "field": "id"}})
        ));
        assert!(covers(None, &json!(null)));
        assert!(!covers(None, &json!(false)));
    }
}
