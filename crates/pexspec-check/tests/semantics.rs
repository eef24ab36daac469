//! Semantics lint must know before any call (issue 18, items 11 to 15), on the base fixture
//! with one change each.

use std::path::{Path, PathBuf};

use pexspec_check::{Mode, check};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn base() -> String {
    std::fs::read_to_string(fixtures().join("_base.yaml")).unwrap()
}

fn edited(pairs: &[(&str, &str)]) -> String {
    let mut text = base();
    for (from, to) in pairs {
        assert!(text.contains(from), "not in the base fixture: {from}");
        text = text.replacen(from, to, 1);
    }
    text
}

fn codes(text: &str) -> Vec<&'static str> {
    let loaded = pexspec_spec::load("test.yaml", text, fixtures().join("ssh-password-missing"));
    assert!(loaded.spec.is_some(), "{:?}", loaded.diagnostics);
    check(&loaded, Mode::Lint)
        .iter()
        .map(|d| d.code().as_str())
        .collect()
}

const REGION: &str =
    "  - name: eu-frankfurt-1\n    vcn_cidr: 10.0.0.0/16\n    subnet_cidr: 10.0.1.0/24\n";

#[test]
fn a_duplicated_region_is_one_finding_and_nothing_is_judged_against_a_guess() {
    // The second listing has another VCN and subnet; the nodes' addresses fit only the
    // second. Which one OCI would get is a guess: only `duplicate-region`.
    let twice = format!(
        "{REGION}  - name: eu-frankfurt-1\n    vcn_cidr: 10.0.0.0/16\n    subnet_cidr: 10.0.2.0/24\n"
    );
    let text = edited(&[
        (REGION, &twice),
        ("private_ip: 10.0.1.10", "private_ip: 10.0.2.10"),
        ("private_ip: 10.0.1.31", "private_ip: 10.0.2.31"),
    ]);
    assert_eq!(codes(&text), ["duplicate-region"]);
    // The same listing twice: not also a VCN overlap with itself.
    let same = format!("{REGION}{REGION}");
    assert_eq!(codes(&edited(&[(REGION, &same)])), ["duplicate-region"]);
}

#[test]
fn a_subnet_too_small_for_its_nodes() {
    let no_ips = [
        ("  private_ip: 10.0.1.10\n", ""),
        ("    private_ip: 10.0.1.31\n", ""),
    ];
    let with = |subnet: &str| {
        let mut pairs = no_ips.to_vec();
        pairs.push(("subnet_cidr: 10.0.1.0/24", subnet));
        codes(&edited(&pairs))
    };
    assert_eq!(with("subnet_cidr: 10.0.1.0/30"), ["subnet-too-small"]);
    assert!(with("subnet_cidr: 10.0.1.0/29").is_empty());
    // Fixed addresses count as well: two nodes in a /30 with one usable address.
    let text = edited(&[
        ("subnet_cidr: 10.0.1.0/24", "subnet_cidr: 10.0.1.0/30"),
        ("  private_ip: 10.0.1.10\n", ""),
        ("private_ip: 10.0.1.31", "private_ip: 10.0.1.2"),
    ]);
    assert_eq!(codes(&text), ["subnet-too-small"]);
}

#[test]
fn names_that_would_become_paths_are_refused() {
    for (from, to) in [
        ("  name: pexmgr\n", "  name: ../../../evilmgr\n"),
        ("  name: pexmgr\n", "  name: /abs\n"),
        ("  name: pexmgr\n", "  name: ..\n"),
        ("  - name: pexconf01\n", "  - name: a\\\\b\n"),
    ] {
        assert_eq!(codes(&edited(&[(from, to)])), ["name-invalid"], "{to}");
    }
    let long = format!("locations: [{{ name: {} }}]", "F".repeat(251));
    let text = edited(&[
        ("locations: [{ name: Frankfurt }]", &long),
        (
            "location: Frankfurt",
            &format!("location: {}", "F".repeat(251)),
        ),
    ]);
    assert_eq!(codes(&text), ["name-too-long"]);
}

#[test]
fn secret_references_that_cannot_work() {
    for to in [
        "{ env: \"\" }",
        "{ env: \"A=B\" }",
        "{ file: ../_files/empty.secret }",
    ] {
        let text = edited(&[("{ env: PEXIP_LICENSE_KEY }", to)]);
        assert_eq!(codes(&text), ["secret-reference-invalid"], "{to}");
    }
}

#[test]
fn leading_zeros_are_refused_in_blocks_and_addresses_alike() {
    for (from, to) in [
        ("vcn_cidr: 10.0.0.0/16", "vcn_cidr: 010.0.0.0/16"),
        ("private_ip: 10.0.1.31", "private_ip: 10.0.1.031"),
    ] {
        assert_eq!(codes(&edited(&[(from, to)])), ["invalid-value"], "{to}");
    }
}

#[test]
fn the_world_in_two_halves_is_the_world() {
    let text = edited(&[(
        "regions:\n",
        "network:\n  extra_ingress:\n    - { source: 0.0.0.0/1, protocol: tcp, ports: \"8443\" }\n    - { source: 128.0.0.0/1, protocol: tcp, ports: \"8443\" }\n\nregions:\n",
    )]);
    assert_eq!(codes(&text), ["admin-open-to-world"]);
}

#[test]
fn non_finite_numbers_are_refused_by_the_loader() {
    for bad in [".nan", ".inf", "-.inf"] {
        let text = edited(&[("ocpus: 2,", &format!("ocpus: {bad},"))]);
        let loaded = pexspec_spec::load("test.yaml", &text, fixtures());
        let codes: Vec<&str> = loaded
            .diagnostics
            .iter()
            .map(|d| d.code().as_str())
            .collect();
        assert_eq!(codes, ["invalid-value"], "{bad}");
    }
}

#[test]
fn an_undeclared_region_close_to_a_declared_one_gets_a_did_you_mean() {
    let text = edited(&[(
        "    region: eu-frankfurt-1\n",
        "    region: eu-frankfurt1\n",
    )]);
    let loaded = pexspec_spec::load("test.yaml", &text, fixtures().join("ssh-password-missing"));
    let found = check(&loaded, Mode::Lint);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code().as_str(), "region-not-declared");
    assert_eq!(
        found[0].help(),
        Some("did you mean `eu-frankfurt-1`, declared in `regions`?")
    );
}
