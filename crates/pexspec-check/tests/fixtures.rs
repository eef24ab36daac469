//! One fixture pair per check code: `tests/fixtures/<code>/valid.yaml` must be clean, and
//! `invalid.yaml` must yield that code and nothing else (no cascades). A header line
//! `# also: code-a, code-b` in `invalid.yaml` allows named extra codes. The rendered report of
//! every invalid fixture is snapshot-tested; the book's page for the code shows it.

use std::path::{Path, PathBuf};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pexspec_check::{Mode, check_at};
use pexspec_diagnostics::report::{FileReport, Format, write};
use pexspec_diagnostics::{Code, Family};
use pexspec_spec::load_file;

/// "Now" for every fixture: 2027-01-01T00:00:00Z. The fixtures' certificates are valid from
/// 2026-11-23 to 2036-11-20, except the expired one and the one not valid yet.
fn fixture_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_798_761_600)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Codes whose fixtures live elsewhere (the graph crate owns `dependency-cycle`).
fn checked_here(code: Code) -> bool {
    code.info().family != Family::Graph
}

fn run(code: Code, which: &str) -> (FileReport, Vec<&'static str>) {
    let path = fixtures().join(code.as_str()).join(which);
    let loaded = load_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let diagnostics = check_at(&loaded, Mode::Lint, Some(fixture_now()));
    let codes = diagnostics.iter().map(|d| d.code().as_str()).collect();
    let mut file = loaded.file;
    // Show a stable, relative name in snapshots.
    file = pexspec_diagnostics::SourceFile::new(
        format!("tests/fixtures/{}/{which}", code.as_str()),
        file.text().to_owned(),
    );
    (FileReport { file, diagnostics }, codes)
}

fn allowed_extras(code: Code) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(code.as_str()).join("invalid.yaml"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("# also:"))
        .flat_map(|l| l.split(',').map(|c| c.trim().to_owned()))
        .collect()
}

#[test]
fn every_code_has_a_fixture_pair() {
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| checked_here(**c))
        .filter(|c| {
            let dir = fixtures().join(c.as_str());
            !dir.join("valid.yaml").is_file() || !dir.join("invalid.yaml").is_file()
        })
        .map(|c| c.as_str())
        .collect();
    assert!(missing.is_empty(), "codes without fixtures: {missing:?}");
}

#[test]
fn valid_fixtures_are_clean() {
    for &code in Code::ALL.iter().filter(|c| checked_here(**c)) {
        if !fixtures().join(code.as_str()).join("valid.yaml").is_file() {
            continue;
        }
        let (_, codes) = run(code, "valid.yaml");
        assert!(
            codes.is_empty(),
            "{code}/valid.yaml is not clean: {codes:?}"
        );
    }
}

#[test]
fn invalid_fixtures_yield_their_code_and_no_other() {
    for &code in Code::ALL.iter().filter(|c| checked_here(**c)) {
        if !fixtures()
            .join(code.as_str())
            .join("invalid.yaml")
            .is_file()
        {
            continue;
        }
        let (report, codes) = run(code, "invalid.yaml");
        assert!(
            codes.contains(&code.as_str()),
            "{code}/invalid.yaml does not yield {code}: {codes:?}"
        );
        let extras = allowed_extras(code);
        let unexpected: Vec<_> = codes
            .iter()
            .filter(|c| **c != code.as_str() && !extras.iter().any(|e| e == *c))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{code}/invalid.yaml also yields {unexpected:?}"
        );
        for d in &report.diagnostics {
            assert!(
                d.primary().is_some(),
                "{code}: a finding without a span: {d:?}"
            );
            assert!(d.help().is_some(), "{code}: a finding without help: {d:?}");
        }
        let mut out = Vec::new();
        write(
            Format::Human { color: false },
            std::slice::from_ref(&report),
            &mut out,
        )
        .unwrap();
        let rendered = String::from_utf8(out).unwrap();
        insta::assert_snapshot!(code.as_str(), rendered);
    }
}
