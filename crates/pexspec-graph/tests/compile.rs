//! Compiling the example specs: the resources the deployment guide would have you create,
//! their addresses, desired states and dependencies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pexspec_graph::testing::{ExtraRule, SpecParams, spec_yaml};
use pexspec_graph::{Address, Graph, Kind, compile};
use pexspec_spec::{Spec, load, load_file};
use serde_json::{Value, json};

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

fn example(name: &str) -> Spec {
    load_file(&specs_dir().join(name)).unwrap().spec.unwrap()
}

fn from_text(text: &str) -> Spec {
    let loaded = load("gen.yaml", text, PathBuf::from("."));
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.spec.unwrap()
}

fn a(text: &str) -> Address {
    Address::parse(text).unwrap()
}

fn desired(g: &Graph, address: &str) -> Value {
    g.get(&a(address))
        .unwrap_or_else(|| panic!("no {address}"))
        .desired()
        .into_owned()
}

fn deps(g: &Graph, address: &str) -> Vec<String> {
    g.get(&a(address))
        .unwrap()
        .depends_on
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn counts(g: &Graph) -> BTreeMap<&'static str, usize> {
    g.count_by_kind()
        .into_iter()
        .map(|(k, n)| (k.as_str(), n))
        .collect()
}

#[test]
fn every_example_spec_compiles() {
    for entry in std::fs::read_dir(specs_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let spec = load_file(&path).unwrap().spec.unwrap();
            let graph = compile(&spec).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mut text = String::new();
            for n in graph.nodes() {
                let region = n.region.as_deref().unwrap_or("-");
                let after: Vec<String> = n.depends_on.iter().map(ToString::to_string).collect();
                text.push_str(&format!(
                    "{} ({region})\n  after: {}\n  desired: {}\n",
                    n.address,
                    after.join(", "),
                    n.desired()
                ));
                if !n.replaced_with.is_empty() {
                    let with: Vec<String> =
                        n.replaced_with.iter().map(ToString::to_string).collect();
                    text.push_str(&format!("  replaced with: {}\n", with.join(", ")));
                }
            }
            insta::assert_snapshot!(format!("graph-{name}"), text);
        }
    }
}

#[test]
fn zurich_frankfurt_has_the_guides_resources() {
    let g = compile(&example("zurich-frankfurt.yaml")).unwrap();
    let c = counts(&g);
    let expected = [
        ("compartment", 1),
        ("bucket", 1),
        ("object", 2),
        ("image", 3),       // management in Frankfurt, conferencing in both regions
        ("image_shape", 1), // VM.Optimized3.Flex for the Frankfurt conferencing image
        ("vcn", 2),
        ("internet_gateway", 2),
        ("drg", 2),
        ("drg_attachment", 2),
        ("rpc", 2),
        ("rpc_peering", 1),
        ("route_table", 2),
        ("security_list", 2),
        ("subnet", 2),
        ("instance", 4),
        ("public_ip", 3),
        ("management_bootstrap", 1),
        ("dns_server", 1),
        ("ntp_server", 3),
        ("licence", 1),
        ("system_location", 2),
        ("tls_certificate", 1),
        ("conference", 2),
        ("conference_alias", 3),
        ("worker_vm", 3),
        ("node_bootstrap", 3),
    ];
    assert_eq!(c, expected.into_iter().collect());
    for address in [
        "compartment",
        "bucket",
        "object[management]",
        "object[conferencing]",
        "image[management]",
        "image[conferencing:eu-zurich-1]",
        "image[conferencing:eu-frankfurt-1]",
        "image_shape[conferencing:eu-frankfurt-1:VM.Optimized3.Flex]",
        "vcn[eu-zurich-1]",
        "internet_gateway[eu-zurich-1]",
        "route_table[eu-zurich-1]",
        "security_list[eu-zurich-1]",
        "subnet[eu-zurich-1]",
        "public_ip[pexconf01]",
        "instance[pexconf01]",
        "drg[eu-zurich-1]",
        "drg_attachment[eu-zurich-1]",
        "rpc[eu-zurich-1:eu-frankfurt-1]",
        "rpc[eu-frankfurt-1:eu-zurich-1]",
        "rpc_peering[eu-frankfurt-1:eu-zurich-1]",
        "dns_server[169.254.169.254]",
        "ntp_server[0.pool.ntp.org]",
        "system_location[Frankfurt]",
        "tls_certificate[conferencing]",
        "conference[Board room]",
        "conference_alias[board@example.com]",
        "worker_vm[pexconf01]",
        "node_bootstrap[pexconf01]",
        "management_bootstrap[pexmgr]",
        "licence[0]",
    ] {
        assert!(g.contains(&a(address)), "{address}");
    }
}

#[test]
fn nodes_get_the_guides_network_configuration() {
    let g = compile(&example("zurich-frankfurt.yaml")).unwrap();
    let worker = desired(&g, "worker_vm[pexconf01]");
    assert_eq!(worker["address"], "10.0.1.31");
    assert_eq!(worker["netmask"], "255.255.255.0");
    assert_eq!(
        worker["gateway"], "10.0.1.1",
        "the first host of the subnet"
    );
    assert_eq!(worker["node_type"], "CONFERENCING");
    assert_eq!(worker["alternative_fqdn"], "pexconf01.example.com");
    assert_eq!(worker["ipv6_address"], "2001:db8::31");
    assert_eq!(
        worker["static_nat_address"],
        json!({"$ref": "public_ip[pexconf01].ip_address"})
    );
    assert_eq!(
        worker["system_location"],
        json!({"$ref": "system_location[Frankfurt].id"})
    );
    assert_eq!(
        worker["password"],
        json!({"$secret": "env:PEXCONF_SSH_PASSWORD"})
    );
    assert_eq!(
        deps(&g, "worker_vm[pexconf01]"),
        [
            "instance[pexconf01]",
            "public_ip[pexconf01]",
            "management_bootstrap[pexmgr]",
            "system_location[Frankfurt]",
            "tls_certificate[conferencing]",
        ]
    );
    let zrh = desired(&g, "worker_vm[pexconf-zrh01]");
    assert_eq!(zrh["gateway"], "10.41.0.1");
    // The Zurich node reaches the Frankfurt Management Node over the peering.
    assert_eq!(
        deps(&g, "node_bootstrap[pexconf-zrh01]"),
        [
            "rpc_peering[eu-frankfurt-1:eu-zurich-1]",
            "route_table[eu-frankfurt-1]",
            "route_table[eu-zurich-1]",
            "instance[pexconf-zrh01]",
            "public_ip[pexconf-zrh01]",
            "worker_vm[pexconf-zrh01]",
        ]
    );
    let instance = desired(&g, "instance[pexconf01]");
    assert_eq!(instance["shape"], "VM.Optimized3.Flex");
    assert_eq!(
        instance["shape_config"],
        json!({"ocpus": 4.0, "memory_in_gbs": 8.0})
    );
    assert_eq!(instance["create_vnic_details"]["private_ip"], "10.0.1.31");
    assert!(
        deps(&g, "instance[pexconf01]")
            .contains(&"image_shape[conferencing:eu-frankfurt-1:VM.Optimized3.Flex]".to_owned())
    );
    // Standard3.Flex is listed by default: no compatibility entry for Zurich's image.
    assert!(
        !g.nodes()
            .any(|n| n.kind() == Kind::ImageShape && n.region.as_deref() == Some("eu-zurich-1"))
    );
    let routes = desired(&g, "route_table[eu-zurich-1]");
    assert_eq!(
        routes["route_rules"],
        json!([
            {"destination": "0.0.0.0/0", "destination_type": "CIDR_BLOCK",
             "network_entity_id": {"$ref": "internet_gateway[eu-zurich-1].id"},
             "description": "Internet"},
            {"destination": "10.0.0.0/16", "destination_type": "CIDR_BLOCK",
             "network_entity_id": {"$ref": "drg[eu-zurich-1].id"},
             "description": "eu-zurich-1 to eu-frankfurt-1"},
        ])
    );
    assert!(deps(&g, "route_table[eu-zurich-1]").contains(&"drg_attachment[eu-zurich-1]".into()));
    assert_eq!(
        deps(&g, "rpc_peering[eu-frankfurt-1:eu-zurich-1]"),
        [
            "rpc[eu-frankfurt-1:eu-zurich-1]",
            "rpc[eu-zurich-1:eu-frankfurt-1]"
        ]
    );
}

fn ingress(g: &Graph, region: &str) -> Vec<String> {
    desired(g, &format!("security_list[{region}]"))["ingress_security_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let ports = r
                .get("tcp_options")
                .or(r.get("udp_options"))
                .and_then(|o| o.get("destination_port_range"))
                .map(|p| format!(" {}-{}", p["min"], p["max"]))
                .unwrap_or_default();
            assert_eq!(r["is_stateless"], false);
            format!(
                "{} {}{ports}",
                r["protocol"].as_str().unwrap(),
                r["source"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_security_list_is_the_guides_ingress_table() {
    let g = compile(&example("zurich-frankfurt.yaml")).unwrap();
    assert_eq!(
        ingress(&g, "eu-zurich-1"),
        [
            "6 192.0.2.0/24 22-22",
            "6 0.0.0.0/0 443-443",
            "6 198.51.100.0/24 443-443",
            "6 0.0.0.0/0 5060-5060",
            "6 0.0.0.0/0 5061-5061",
            "6 192.0.2.0/24 8443-8443",
            "6 0.0.0.0/0 40000-49999",
            "17 10.0.0.0/16 500-500",
            "17 10.41.0.0/16 500-500",
            "17 0.0.0.0/0 40000-49999",
            "1 192.0.2.0/24",
            "50 10.0.0.0/16",
            "50 10.41.0.0/16",
        ]
    );
    assert_eq!(
        desired(&g, "security_list[eu-zurich-1]")["ingress_security_rules"],
        desired(&g, "security_list[eu-frankfurt-1]")["ingress_security_rules"]
    );
    assert_eq!(
        desired(&g, "security_list[eu-zurich-1]")["egress_security_rules"],
        json!([{"protocol": "all", "destination": "0.0.0.0/0", "destination_type": "CIDR_BLOCK", "is_stateless": false}])
    );
}

#[test]
fn rule_order_and_spelling_never_change_the_security_list() {
    let rules = |order: &[usize]| {
        let all = [
            ("198.51.100.0/24", "tcp", Some("443"), Some("partner")),
            ("2001:DB8::/32", "udp", Some("40000 - 49999"), None),
            ("203.0.113.0/24", "icmp", None, Some("monitoring")),
            ("198.51.100.0/24", "tcp", Some("443"), Some("again")),
        ];
        order
            .iter()
            .map(|&i| {
                let (source, protocol, ports, description) = all[i];
                ExtraRule {
                    source: source.into(),
                    protocol: protocol.into(),
                    ports: ports.map(Into::into),
                    description: description.map(Into::into),
                }
            })
            .collect::<Vec<_>>()
    };
    let graph = |order: &[usize], internal: Vec<&str>| {
        let spec = from_text(&spec_yaml(&SpecParams {
            regions: 2,
            extra_ingress: rules(order),
            internal_cidrs: Some(internal.into_iter().map(Into::into).collect()),
            ..SpecParams::default()
        }));
        desired(&compile(&spec).unwrap(), "security_list[eu-frankfurt-1]").clone()
    };
    let first = graph(&[0, 1, 2, 3], vec!["10.0.0.0/8", "172.16.0.0/12"]);
    assert_eq!(
        first,
        graph(&[3, 2, 1, 0], vec!["172.16.0.0/12", "10.0.0.0/8"])
    );
    assert_eq!(
        first,
        graph(
            &[2, 0, 3, 1],
            vec!["172.16.0.0/12", "10.0.0.0/8", "10.0.0.0/8"]
        )
    );
    let text = first.to_string();
    assert!(text.contains("2001:db8::/32"), "canonical spelling: {text}");
    assert!(
        text.contains("\"again\""),
        "equal rules keep the smallest description"
    );
}

#[test]
fn replicated_images_are_imported_once_and_looked_up_elsewhere() {
    let spec = from_text(&spec_yaml(&SpecParams {
        regions: 3,
        nodes: 3,
        replicate: true,
        ..SpecParams::default()
    }));
    let g = compile(&spec).unwrap();
    let images: Vec<String> = g
        .nodes()
        .filter(|n| n.kind() == Kind::Image)
        .map(|n| n.address.to_string())
        .collect();
    assert_eq!(
        images,
        ["image[conferencing:eu-frankfurt-1]", "image[management]"]
    );
    assert_eq!(
        desired(&g, "instance[node0001]")["source_details"]["image_id"],
        json!({"$lookup": {"kind": "image", "region": "eu-zurich-1", "display_name": "gen Pexip generic Conferencing Node"}})
    );
}

#[test]
fn three_regions_peer_in_a_full_mesh() {
    let spec = from_text(&spec_yaml(&SpecParams {
        regions: 3,
        nodes: 3,
        ..SpecParams::default()
    }));
    let g = compile(&spec).unwrap();
    let c = counts(&g);
    assert_eq!(c["drg"], 3);
    assert_eq!(c["drg_attachment"], 3);
    assert_eq!(c["rpc"], 6);
    assert_eq!(c["rpc_peering"], 3);
    assert_eq!(c["image"], 4);
    let rules = desired(&g, "route_table[uk-london-1]")["route_rules"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(rules, 3, "internet and the two peers");
}

#[test]
fn private_and_hybrid_deployments() {
    let g = compile(&example("private.yaml")).unwrap();
    assert!(
        !g.nodes()
            .any(|n| n.kind() == Kind::InternetGateway || n.kind() == Kind::PublicIp)
    );
    assert_eq!(
        desired(&g, "subnet[eu-amsterdam-1]")["prohibit_public_ip_on_vnic"],
        true
    );
    assert_eq!(
        desired(&g, "route_table[eu-amsterdam-1]")["route_rules"],
        json!([])
    );
    // UDP 500 and ESP from the VCN and the on-premises network.
    let rules = ingress(&g, "eu-amsterdam-1");
    assert!(rules.contains(&"50 172.16.0.0/16".to_owned()), "{rules:?}");
    assert!(rules.contains(&"50 10.20.0.0/16".to_owned()), "{rules:?}");

    let g = compile(&example("hybrid.yaml")).unwrap();
    let manager = g.get(&a("management_bootstrap[pexmgr]")).unwrap();
    assert!(manager.depends_on.is_empty(), "on premises: no instance");
    assert_eq!(manager.desired()["address"], "172.16.0.10");
    assert!(!g.contains(&a("image[management]")) && !g.contains(&a("object[management]")));
    assert_eq!(desired(&g, "worker_vm[pexedge01]")["node_type"], "PROXYING");
    assert!(desired(&g, "worker_vm[pexconf01]")["static_nat_address"].is_null());
}

#[test]
fn secrets_appear_only_as_references() {
    for name in [
        "zurich-frankfurt.yaml",
        "hybrid.yaml",
        "private.yaml",
        "quickstart.yaml",
    ] {
        let g = compile(&example(name)).unwrap();
        let all: Vec<Value> = g.nodes().map(|n| n.desired().into_owned()).collect();
        let text = serde_json::to_string(&all).unwrap();
        for (field, expected) in [
            ("admin_password", "env:PEXIP_ADMIN_PASSWORD"),
            ("entitlement_id", "env:PEXIP_LICENSE_KEY"),
        ] {
            assert!(
                text.contains(&format!("\"{field}\":{{\"$secret\":\"{expected}\"}}")),
                "{name} {field}"
            );
        }
    }
}

#[test]
fn renderings_are_grouped_and_deterministic() {
    let g = compile(&example("quickstart.yaml")).unwrap();
    insta::assert_snapshot!("quickstart-dot", g.to_dot());
    insta::assert_snapshot!("quickstart-mermaid", g.to_mermaid());
    let again = compile(&example("quickstart.yaml")).unwrap();
    assert_eq!(g.to_dot(), again.to_dot());
    let dot = compile(&example("zurich-frankfurt.yaml")).unwrap().to_dot();
    let clusters: Vec<&str> = dot
        .lines()
        .filter_map(|l| l.trim().strip_prefix("label="))
        .collect();
    assert_eq!(
        clusters,
        [
            "\"global\";",
            "\"eu-zurich-1\";",
            "\"eu-frankfurt-1\";",
            "\"Pexip Infinity\";"
        ]
    );
}

#[test]
fn unchecked_specs_give_diagnostics_not_panics() {
    let base = spec_yaml(&SpecParams::default());
    let cases = [
        (
            base.replace("region: eu-frankfurt-1, role", "region: mars-1, role"),
            "region-not-declared",
        ),
        (
            base.replace("location: Location 0", "location: Nowhere"),
            "unknown-location",
        ),
        (
            base.replace("tls_certificate: conferencing", "tls_certificate: nope"),
            "unknown-tls-certificate",
        ),
    ];
    for (text, code) in cases {
        let spec = from_text(&text);
        match compile(&spec) {
            Ok(_) => panic!("`{code}` expected"),
            Err(d) => assert_eq!(d[0].code().as_str(), code),
        }
    }
    let mut two_rooms = spec_yaml(&SpecParams {
        rooms: 2,
        ..SpecParams::default()
    });
    two_rooms = two_rooms.replace("room00001@", "room00000@");
    let errors = compile(&from_text(&two_rooms)).unwrap_err();
    assert_eq!(errors[0].code().as_str(), "duplicate-alias");
}
