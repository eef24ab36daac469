//! Loading: the example specs load, spans point at values, and structural errors are
//! diagnostics with codes and spans.

use std::path::{Path, PathBuf};

use pexspec_diagnostics::Code;
use pexspec_spec::{Secret, load, load_file};

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

fn codes(text: &str) -> Vec<&'static str> {
    load("t.yaml", text, PathBuf::from("."))
        .diagnostics
        .iter()
        .map(|d| d.code().as_str())
        .collect()
}

const MINIMAL: &str = "version: 1\nname: t\ndeployment: public\noci: {home_region: eu-frankfurt-1, compartment: {name: C}}\nssh_public_key: k.pub\nmanagement_station: 192.0.2.0/24\nimages: {bucket: b, management: m.ova, conferencing: c.ova}\nregions: []\n";

#[test]
fn every_example_spec_loads_without_findings() {
    for entry in std::fs::read_dir(specs_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let loaded = load_file(&path).unwrap();
            assert!(
                loaded.spec.is_some(),
                "{}: {:?}",
                path.display(),
                loaded.diagnostics
            );
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:?}",
                path.display(),
                loaded.diagnostics
            );
        }
    }
}

#[test]
fn spans_cover_the_value_as_written() {
    let loaded = load_file(&specs_dir().join("zurich-frankfurt.yaml")).unwrap();
    let spec = loaded.spec.unwrap();
    let zurich = &spec.regions[0];
    assert_eq!(loaded.file.slice(zurich.vcn_cidr.span), "10.41.0.0/16");
    assert_eq!(loaded.file.slice(zurich.name.span), "eu-zurich-1");
    let node = &spec.conferencing_nodes[2];
    assert_eq!(loaded.file.slice(node.name.span), "pexconf-zrh01");
    let Secret::Env(var) = &spec.management_node.unwrap().admin_password.value else {
        panic!()
    };
    assert_eq!(loaded.file.slice(var.span), "PEXIP_ADMIN_PASSWORD");
}

#[test]
fn minimal_spec_loads() {
    assert_eq!(codes(MINIMAL), Vec::<&str>::new());
}

#[test]
fn unknown_field_suggests_the_closest() {
    let text = MINIMAL.replace("regions: []", "regions: []\nmanagment_node: {}");
    let loaded = load("t.yaml", &text, PathBuf::from("."));
    let d = &loaded.diagnostics[0];
    assert_eq!(d.code(), Code::UnknownField);
    assert_eq!(d.help(), Some("did you mean `management_node`?"));
    assert_eq!(
        loaded.file.slice(d.primary().unwrap().span),
        "managment_node"
    );
}

#[test]
fn structural_errors_have_codes() {
    assert_eq!(
        codes(&MINIMAL.replace("version: 1\n", "")),
        ["missing-field"]
    );
    assert_eq!(
        codes(&MINIMAL.replace("version: 1", "version: 2")),
        ["unsupported-version"]
    );
    assert_eq!(
        codes(&MINIMAL.replace("public", "publik")),
        ["invalid-value"]
    );
    assert_eq!(
        codes(&MINIMAL.replace("name: t\n", "name: t\nname: u\n")),
        ["duplicate-key"]
    );
    assert_eq!(codes("version: [1\n"), ["yaml-syntax"]);
    assert_eq!(codes(&format!("{MINIMAL}name2: \"open\n")), ["yaml-syntax"]);
    assert_eq!(
        codes(&MINIMAL.replace("name: t", "name: T_1")),
        ["invalid-value"]
    );
}

#[test]
fn inline_secret_is_reported_and_hidden() {
    let text = format!(
        "{MINIMAL}management_node: {{name: m, hostname: m, domain: d.com, admin_password: hunter2}}\n"
    );
    let loaded = load("t.yaml", &text, PathBuf::from("."));
    assert_eq!(
        loaded
            .diagnostics
            .iter()
            .map(|d| d.code())
            .collect::<Vec<_>>(),
        [Code::SecretInline]
    );
    assert!(!loaded.file.text().contains("hunter2"));
    assert!(!format!("{:?}", loaded.spec).contains("hunter2"));
}

#[test]
fn alias_bomb_and_deep_nesting_stop_within_budget() {
    // The classic billion laughs, where any value is accepted (`secondary_interface`), so
    // that the typed pass would have to expand it.
    let mut bomb = String::from("{a0: &a0 [x, x, x, x, x, x, x, x, x, x]");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            ", a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        ));
    }
    bomb.push('}');
    let node = "{name: n, region: r, role: proxying, location: l, shape: {name: s}, hostname: h, domain: d, secondary_interface: BOMB}";
    let text = format!(
        "{MINIMAL}conferencing_nodes: [{}]\n",
        node.replace("BOMB", &bomb)
    );
    assert_eq!(codes(&text), ["yaml-budget"]);
    let deep = format!("version: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(codes(&deep), ["yaml-budget"]);
}
