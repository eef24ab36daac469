//! The SARIF reporter's output is a valid SARIF 2.1.0 log: validated against the OASIS schema.

use pexspec_diagnostics::report::{FileReport, sarif_document};
use pexspec_diagnostics::{Code, Diagnostic, SourceFile, Span};

fn schema() -> jsonschema::Validator {
    let text = include_str!("fixtures/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

#[test]
fn sarif_output_validates_against_the_oasis_schema() {
    let file = SourceFile::new(
        "specs/a b.yaml",
        "regions:\n  - name: mars-1\n    vcn_cidr: 10.0.0.1/16\n",
    );
    let reports = vec![
        FileReport {
            file: file.clone(),
            diagnostics: vec![
                Diagnostic::new(Code::UnknownRegion, "`mars-1` is not an OCI region")
                    .with_primary(Span::new(17, 23), "unknown region")
                    .with_help("use `eu-frankfurt-1`"),
                Diagnostic::new(Code::CidrHostBits, "`10.0.0.1/16` has host bits set")
                    .with_primary(Span::new(38, 49), "host bits set")
                    .with_secondary(Span::new(17, 23), "in this region"),
                Diagnostic::new(Code::NtpTooFew, "one NTP server")
                    .with_primary(Span::point(0), "here"),
            ],
        },
        FileReport {
            file: SourceFile::new("clean.yaml", "version: 1\n"),
            diagnostics: vec![],
        },
    ];
    let doc = sarif_document(&reports);
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}");
    // Every registered code is a rule, and results point at their rule.
    let run = &doc["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().map(Vec::len),
        Some(Code::ALL.len())
    );
    let result = &run["results"][1];
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        run["tool"]["driver"]["rules"][index]["id"],
        "cidr-host-bits"
    );
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(run["results"][2]["level"], "warning");
}

#[test]
fn a_broken_log_is_refused_by_the_schema() {
    // Proves the validator is live: the same document with an invalid level fails.
    let file = SourceFile::new("a.yaml", "x: 1\n");
    let d = Diagnostic::new(Code::YamlSyntax, "bad").with_primary(Span::new(0, 1), "here");
    let mut doc = sarif_document(&[FileReport {
        file,
        diagnostics: vec![d],
    }]);
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!schema().is_valid(&doc));
}
