//! The command line as users run it: every format and exit code of `lint`, `schema`,
//! `completions`, and the manners (`--help`, `--version`, bad usage).

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(code: &str, which: &str) -> PathBuf {
    root()
        .join("crates/pexspec-check/tests/fixtures")
        .join(code)
        .join(which)
}

fn pexspec() -> Command {
    let mut cmd = Command::cargo_bin("pexspec").expect("the binary is built");
    cmd.env_remove("NO_COLOR").current_dir(root());
    cmd
}

fn stdout_of(cmd: &mut Command) -> (i32, String, String) {
    let output = cmd.output().expect("pexspec runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn lint_without_files_checks_every_spec_under_specs() {
    let (code, out, _) = stdout_of(pexspec().arg("lint"));
    assert_eq!(code, 0, "{out}");
    let specs = std::fs::read_dir(root().join("specs"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert!(
        out.contains(&format!("{specs} files checked: 0 errors, 0 warnings")),
        "{out}"
    );
}

#[test]
fn lint_human_reports_and_exits_one_on_errors() {
    let (code, out, _) = stdout_of(
        pexspec()
            .args(["lint", "--color", "never"])
            .arg(fixture("vcn-cidr-overlap", "invalid.yaml")),
    );
    assert_eq!(code, 1);
    assert!(out.contains("vcn-cidr-overlap"), "{out}");
    assert!(out.contains("overlaps this"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "no colour when asked for none: {out}"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (_, out, _) = stdout_of(
        pexspec()
            .args(["lint", "--color", "always"])
            .arg(fixture("vcn-cidr-overlap", "invalid.yaml")),
    );
    assert!(out.contains('\u{1b}'), "colour when asked for: {out}");
    // `auto` with a pipe for stdout: no colour.
    let (_, out, _) = stdout_of(
        pexspec()
            .arg("lint")
            .arg(fixture("vcn-cidr-overlap", "invalid.yaml")),
    );
    assert!(!out.contains('\u{1b}'), "{out}");
}

#[test]
fn lint_json_follows_the_contract() {
    let (code, out, _) = stdout_of(
        pexspec()
            .args(["lint", "--format", "json"])
            .arg(fixture("vcn-cidr-overlap", "invalid.yaml"))
            .arg(fixture("vcn-cidr-overlap", "valid.yaml")),
    );
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"files": 2, "errors": 1, "warnings": 0})
    );
    let d = &doc["diagnostics"][0];
    for field in [
        "file",
        "code",
        "severity",
        "message",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
    ] {
        assert!(d.get(field).is_some(), "missing `{field}` in {d}");
    }
    assert_eq!(d["code"], "vcn-cidr-overlap");
    assert_eq!(d["severity"], "error");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(20), Some(15))
    );
}

#[test]
fn lint_sarif_is_valid_sarif() {
    let (code, out, _) = stdout_of(
        pexspec()
            .args(["lint", "--format", "sarif"])
            .arg(fixture("duplicate-ip", "invalid.yaml")),
    );
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../pexspec-diagnostics/tests/fixtures/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "duplicate-ip");
}

#[test]
fn lint_github_annotates_the_line() {
    let (code, out, _) = stdout_of(
        pexspec()
            .args(["lint", "--format", "github"])
            .arg(fixture("ip-reserved", "invalid.yaml")),
    );
    assert_eq!(code, 1);
    let line = out.lines().next().unwrap();
    assert!(line.starts_with("::error file="), "{line}");
    assert!(line.contains("title=pexspec ip-reserved::"), "{line}");
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(root().join("crates/pexspec-check/tests/fixtures/_base.yaml"))
            .unwrap();
    // One NTP server only: the `ntp-too-few` warning.
    let text = text
        .replace(
            "ntp_servers: [169.254.169.254, 0.pool.ntp.org, 1.pool.ntp.org]",
            "ntp_servers: [169.254.169.254]",
        )
        .replace(
            "../_files/",
            &format!(
                "{}/",
                root()
                    .join("crates/pexspec-check/tests/fixtures/_files")
                    .display()
            ),
        );
    let spec = dir.path().join("warn.yaml");
    std::fs::write(&spec, text).unwrap();
    let (code, out, _) = stdout_of(pexspec().arg("lint").arg(&spec));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 errors, 1 warning"), "{out}");
    let (code, _, _) = stdout_of(pexspec().args(["lint", "--deny-warnings"]).arg(&spec));
    assert_eq!(code, 1);
}

#[test]
fn unreadable_input_is_exit_two_with_the_path() {
    let (code, _, err) = stdout_of(pexspec().args(["lint", "no/such/spec.yaml"]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot read `no/such/spec.yaml`"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = stdout_of(pexspec().current_dir(dir.path()).arg("lint"));
    assert_eq!(code, 2);
    assert!(err.contains("no `specs/` directory"), "{err}");
}

#[test]
fn a_directory_is_searched_for_yaml() {
    let (code, out, _) = stdout_of(pexspec().args(["lint", "--format", "json", "specs"]));
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["files"], 4);
}

#[test]
fn bad_usage_is_exit_two() {
    let (code, _, err) = stdout_of(pexspec().args(["lint", "--format", "xml"]));
    assert_eq!(code, 2);
    assert!(err.contains("xml"), "{err}");
    let (code, _, _) = stdout_of(pexspec().arg("frobnicate"));
    assert_eq!(code, 2);
}

#[test]
fn help_version_and_completions() {
    let (code, out, _) = stdout_of(pexspec().arg("--version"));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("pexspec {}", env!("CARGO_PKG_VERSION")));
    let (code, out, _) = stdout_of(pexspec().args(["lint", "--help"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("--deny-warnings") && out.contains("Exit codes"),
        "{out}"
    );
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, _) = stdout_of(pexspec().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(out.contains("pexspec"), "{shell}: {out}");
    }
}

#[test]
fn schema_command_prints_the_checked_in_schema() {
    let (code, out, _) = stdout_of(pexspec().arg("schema"));
    assert_eq!(code, 0);
    let checked_in = std::fs::read_to_string(root().join("schemas/pexspec.schema.json")).unwrap();
    assert_eq!(
        out, checked_in,
        "schemas/pexspec.schema.json is stale: run `cargo xtask codegen`"
    );
}
