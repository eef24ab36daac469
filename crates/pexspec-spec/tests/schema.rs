//! The JSON Schema and the loader agree: every fixture and example spec that the loader
//! accepts, the schema accepts; those the loader refuses for their shape (unknown fields,
//! wrong types, missing fields, secrets in clear, other versions), the schema refuses too.
//! Files that are not YAML a JSON Schema can see (syntax errors, duplicate keys, budgets)
//! are left out.

use std::path::{Path, PathBuf};

use pexspec_diagnostics::{Code, Family};
use pexspec_spec::{json_schema, load_file};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Codes that concern the YAML text itself, which a JSON Schema never sees.
fn textual(code: Code) -> bool {
    matches!(
        code,
        Code::YamlSyntax | Code::YamlBudget | Code::DuplicateKey
    )
}

#[test]
fn loader_and_schema_accept_and_refuse_the_same_files() {
    let validator = jsonschema::validator_for(&json_schema()).expect("the schema compiles");
    let mut files = Vec::new();
    yaml_files(&root().join("specs"), &mut files);
    yaml_files(
        &root().join("crates/pexspec-check/tests/fixtures"),
        &mut files,
    );
    files.sort();
    let mut compared = 0;
    let mut refused = 0;
    for path in &files {
        let loaded = load_file(path).expect("readable");
        if loaded.diagnostics.iter().any(|d| textual(d.code())) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let Ok(value) = serde_saphyr::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let loader_accepts = loaded.spec.is_some()
            && !loaded
                .diagnostics
                .iter()
                .any(|d| d.code().info().family == Family::Spec);
        let schema_errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert_eq!(
            loader_accepts,
            schema_errors.is_empty(),
            "{}: loader {:?}, schema {:?}",
            path.display(),
            loaded
                .diagnostics
                .iter()
                .map(|d| d.code().as_str())
                .collect::<Vec<_>>(),
            schema_errors
        );
        compared += 1;
        refused += usize::from(!loader_accepts);
    }
    assert!(compared > 40, "only {compared} files compared");
    assert!(
        refused >= 4,
        "only {refused} refused files compared: the test would not see a disagreement"
    );
}

/// Values of the wrong YAML type, which a lenient reader would convert: the loader and the
/// schema both refuse each (issue 18: `public_ip: "true"`, `ocpus: "4"`, `version: "1"`,
/// `hostname: 123`, `name: 0x1F`), and both accept the same values written plainly.
#[test]
fn loader_and_schema_agree_on_scalar_types() {
    let validator = jsonschema::validator_for(&json_schema()).expect("the schema compiles");
    let base =
        std::fs::read_to_string(root().join("crates/pexspec-check/tests/fixtures/_base.yaml"))
            .unwrap();
    let verdicts = |text: &str| {
        let loaded = pexspec_spec::load("t.yaml", text, root());
        let loader = loaded.spec.is_some()
            && !loaded
                .diagnostics
                .iter()
                .any(|d| d.code().info().family == Family::Spec);
        let value: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        (loader, validator.is_valid(&value))
    };
    assert_eq!(verdicts(&base), (true, true), "the base fixture");
    for (from, to) in [
        ("    public_ip: true\n", "    public_ip: \"true\"\n"),
        ("ocpus: 4,", "ocpus: \"4\","),
        ("version: 1\n", "version: \"1\"\n"),
        ("  hostname: pexmgr\n", "  hostname: 123\n"),
        ("  name: pexmgr\n", "  name: 0x1F\n"),
        ("  name: pexmgr\n", "  name: true\n"),
        ("memory_gb: 16 }", "memory_gb: \"16\" }"),
    ] {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        assert_eq!(verdicts(&text), (false, false), "{to}");
    }
    for (from, to) in [
        ("ocpus: 4,", "ocpus: 4.0,"),
        ("  hostname: pexmgr\n", "  hostname: \"123\"\n"),
    ] {
        let text = base.replacen(from, to, 1);
        assert_eq!(verdicts(&text), (true, true), "{to}");
    }
}
