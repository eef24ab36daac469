//! Saved plans: `pexspec plan --out FILE` writes the plan's JSON document with a `checksum`
//! of its content; `pexspec apply FILE` reads it back and refuses, as a broken plan file
//! (exit 2), one that is not whole JSON, not version 1, or whose checksum does not match
//! (cut short, edited by hand, damaged). A plan that reads well is still compared with what
//! its spec gives now before anything runs (see `apply.rs`).

use std::io;
use std::path::Path;

use pexspec_plan::Plan;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The plan file format this build writes and reads.
const VERSION: u64 = 1;

/// The largest plan file read (a 32,000-resource plan is about 20 MiB).
const MAX_PLAN_BYTES: usize = 256 * 1024 * 1024;

/// `sha256:HEX` of the plan document without its `checksum` field, in compact JSON (fields
/// in the document's order): what a hand edit, a truncation or a damaged byte changes.
fn checksum(document: &Value) -> String {
    let mut body = document.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("checksum");
    }
    let text = serde_json::to_string(&body).unwrap_or_default();
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The saved form of `plan`: its JSON document with a `checksum` field last.
pub(crate) fn to_text(plan: &Plan) -> String {
    let mut document = serde_json::to_value(plan).unwrap_or_default();
    let sum = checksum(&document);
    if let Some(map) = document.as_object_mut() {
        map.insert("checksum".into(), sum.into());
    }
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `plan` to `path` whole or not at all.
pub(crate) fn write(path: &Path, plan: &Plan) -> io::Result<()> {
    pexspec_journal::fsutil::write_atomic(path, to_text(plan).as_bytes(), false)
}

/// Whether `bytes`, read from `path`, are meant as a saved plan: a file named `*.json`, or
/// a JSON object (a spec is YAML) that has a plan's `changes` or `checksum`.
pub(crate) fn is_plan(path: &Path, bytes: &[u8]) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return true;
    }
    let text = String::from_utf8_lossy(bytes);
    text.trim_start().starts_with('{')
        && (text.contains("\"changes\"") || text.contains("\"checksum\""))
}

/// Reads a saved plan. `Ok(None)`: `path` is not meant as a plan (a spec); `Err`: why the
/// plan file is broken, in words that follow "the plan file `FILE` is broken: ".
pub(crate) fn read(path: &Path) -> Result<Option<Plan>, String> {
    let Ok(bytes) = pexspec_spec::read_regular(path, MAX_PLAN_BYTES) else {
        // Not readable as a file: the spec's loader says why.
        return Ok(None);
    };
    if !is_plan(path, &bytes) {
        return Ok(None);
    }
    parse(&bytes).map(Some)
}

/// Parses and verifies the bytes of a saved plan.
pub(crate) fn parse(bytes: &[u8]) -> Result<Plan, String> {
    if bytes.len() > MAX_PLAN_BYTES {
        return Err(format!("it is larger than {MAX_PLAN_BYTES} bytes"));
    }
    let document: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("it is not whole JSON ({e}): it was cut short or edited"))?;
    let Some(map) = document.as_object() else {
        return Err("it is not a JSON object".into());
    };
    match map.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        Some(other) => {
            return Err(format!(
                "it says version {other}, and this pexspec reads version {VERSION} only"
            ));
        }
        None => return Err("it has no `version`".into()),
    }
    let Some(sum) = map.get("checksum").and_then(Value::as_str) else {
        return Err(
            "it has no `checksum` (`pexspec plan --out` writes one): it was written by hand or by an older pexspec".into(),
        );
    };
    if sum != checksum(&document) {
        return Err(
            "its content does not match its `checksum`: it was edited by hand or damaged".into(),
        );
    }
    serde_json::from_value(document).map_err(|e| format!("it is not a plan: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        serde_json::from_value(serde_json::json!({
            "version": 1, "stack": "s", "observed": "f", "regions": ["eu-frankfurt-1"],
            "changes": [
                {"address": "vcn[eu-frankfurt-1]", "kind": "vcn", "action": "create",
                 "reason": "new", "depends_on": [], "region": "eu-frankfurt-1"}
            ],
            "summary": {"create": 1, "update": 0, "replace": 0, "delete": 0, "noop": 0}
        }))
        .unwrap()
    }

    #[test]
    fn a_saved_plan_reads_back_as_it_was() {
        let text = to_text(&plan());
        assert!(text.contains("\"checksum\": \"sha256:"), "{text}");
        assert_eq!(parse(text.as_bytes()).unwrap(), plan());
        // Whitespace is not content.
        let compact: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parse(compact.to_string().as_bytes()).unwrap(), plan());
    }

    #[test]
    fn every_kind_of_broken_plan_is_refused() {
        let text = to_text(&plan());
        let edited = text.replace("\"create\",", "\"noop\",");
        assert_ne!(edited, text);
        let no_changes = {
            let mut v: Value = serde_json::from_str(&text).unwrap();
            v["changes"] = Value::Array(vec![]);
            v.to_string()
        };
        for (bytes, why) in [
            (&text.as_bytes()[..text.len() / 2], "not whole JSON"),
            (b"{}".as_slice(), "no `version`"),
            (b"[]".as_slice(), "not a JSON object"),
            (edited.as_bytes(), "does not match"),
            (no_changes.as_bytes(), "does not match"),
            (
                text.replace("\"version\": 1", "\"version\": 2").as_bytes(),
                "version 2",
            ),
        ] {
            let e = parse(bytes).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn a_yaml_spec_is_not_a_plan() {
        assert!(!is_plan(Path::new("site.yaml"), b"version: 1\nname: x\n"));
        assert!(is_plan(Path::new("plan.json"), b"{}"));
        assert!(is_plan(Path::new("plan.out"), b" {\"changes\": ["));
    }
}
