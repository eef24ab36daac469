//! `pexspec plan` and `pexspec graph` as users run them: the JSON contract, `--out`,
//! `--detailed-exitcode`, and a spec with errors never planning.

mod common;

use assert_cmd::Command;

/// Runs pexspec in a fresh copy of `specs/` (a `--sim` plan starts an empty cloud there).
fn run(args: &[&str]) -> (i32, String, String) {
    let site = common::site();
    let output = Command::cargo_bin("pexspec")
        .unwrap()
        .current_dir(site.path())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn plan_json_follows_the_contract_and_is_deterministic() {
    let (code, out, _) = run(&[
        "plan",
        "specs/zurich-frankfurt.yaml",
        "--sim",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["version"], 1);
    let changes = plan["changes"].as_array().unwrap();
    for change in changes {
        for field in ["address", "kind", "action", "reason", "depends_on"] {
            assert!(change.get(field).is_some(), "missing `{field}` in {change}");
        }
    }
    let count = |kind: &str| changes.iter().filter(|c| c["kind"] == kind).count();
    assert_eq!(
        (
            count("vcn"),
            count("drg"),
            count("rpc"),
            count("rpc_peering")
        ),
        (2, 2, 2, 1)
    );
    assert_eq!(
        plan["summary"]["create"].as_u64(),
        Some(changes.len() as u64)
    );
    let (_, again, _) = run(&[
        "plan",
        "specs/zurich-frankfurt.yaml",
        "--sim",
        "--format",
        "json",
    ]);
    assert_eq!(out, again, "the same spec gives byte-identical plan JSON");
}

#[test]
fn plan_out_writes_the_json_and_detailed_exitcode_says_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let (code, out, _) = run(&[
        "plan",
        "specs/quickstart.yaml",
        "--sim",
        "--color",
        "never",
        "--detailed-exitcode",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "changes: exit 2");
    assert!(out.contains("Plan: ") && out.contains("to create"), "{out}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(saved["summary"]["create"].as_u64().unwrap() > 20);
}

#[test]
fn a_spec_with_errors_never_plans() {
    let spec =
        common::root().join("crates/pexspec-check/tests/fixtures/vcn-cidr-overlap/invalid.yaml");
    let spec = spec.to_str().unwrap();
    let (code, out, err) = run(&["plan", spec, "--sim", "--color", "never"]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "no plan is shown: {out}");
    assert!(err.contains("vcn-cidr-overlap"), "{err}");
    let (code, _, _) = run(&["plan", spec, "--sim", "--detailed-exitcode"]);
    assert_eq!(code, 1, "errors are 1 with --detailed-exitcode too");
}

#[test]
fn plan_against_oci_names_what_is_missing_before_any_call() {
    // A complete OCI profile and no secret set: every variable is named, and --sim is
    // offered (without a profile, the profile is asked for first: tests/first_run.rs).
    let site = common::site();
    let config = common::oci_config(site.path());
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(site.path())
        .args(["plan", "specs/quickstart.yaml"])
        .env("OCI_CLI_CONFIG_FILE", &config)
        .env_remove("OCI_CLI_PROFILE");
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    let output = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PEXIP_LICENSE_KEY") && err.contains("--sim"),
        "{err}"
    );

    // Secrets set, no OCI configuration: the file and what to do are named.
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(site.path())
        .args(["plan", "specs/quickstart.yaml"])
        .env("OCI_CLI_CONFIG_FILE", site.path().join("no-such-config"));
    for var in common::SECRETS {
        cmd.env(var, "1234567890");
    }
    let output = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("no-such-config"), "{err}");
    assert!(!err.contains("1234567890"), "{err}");
}

#[test]
fn graph_draws_dot_and_mermaid() {
    let (code, dot, _) = run(&["graph", "specs/zurich-frankfurt.yaml"]);
    assert_eq!(code, 0);
    assert!(
        dot.starts_with("digraph") && dot.contains("rpc_peering"),
        "{dot}"
    );
    let (code, mermaid, _) = run(&[
        "graph",
        "specs/zurich-frankfurt.yaml",
        "--format",
        "mermaid",
    ]);
    assert_eq!(code, 0);
    assert!(
        mermaid.starts_with("flowchart") && mermaid.contains("eu-zurich-1"),
        "{mermaid}"
    );
}
