//! pexspec's own requests checked against the Pexip wire facts that the simulator is
//! replayed against (`crates/pexspec-sim/tests/fixtures/pexip-facts/facts.json`, each fact
//! with its public source): the same facts judge both sides.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use pexspec_pexip::objects::licence_key;
use pexspec_pexip::{
    BOOTSTRAP_PATH, Managed, NodeRole, ResourceUri, Secret, WorkerVmSpec, bootstrap_url,
};
use serde_json::Value;

fn fact(id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pexspec-sim/tests/fixtures/pexip-facts/facts.json");
    let all: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    all["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no fact `{id}`"))
        .clone()
}

fn node() -> WorkerVmSpec {
    WorkerVmSpec {
        name: "pexconf01".into(),
        description: "rack 4".into(),
        role: NodeRole::Transcoding,
        hostname: "pexconf01".into(),
        domain: "example.com".into(),
        address: Ipv4Addr::new(10, 0, 1, 31),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        gateway: Ipv4Addr::new(10, 0, 1, 1),
        static_nat_address: Some(Ipv4Addr::new(203, 0, 113, 31)),
        sip_tls_fqdn: Some("pexconf01.example.com".into()),
        system_location: ResourceUri::config("system_location", 1),
        tls_certificate: None,
        ipv6_address: None,
        ipv6_gateway: None,
        ssh_password: Secret::new("clear-ssh-password"),
        enable_distributed_database: true,
    }
}

#[test]
fn the_bootstrap_goes_where_and_as_the_node_takes_it() {
    let f = fact("node-takes-its-file-at-configuration-bootstrap");
    let url = bootstrap_url("10.0.1.31", &Default::default());
    assert_eq!(
        url,
        format!(
            "https://10.0.1.31:8443{}",
            f["request"]["path"].as_str().unwrap()
        )
    );
    assert_eq!(
        format!("/{BOOTSTRAP_PATH}"),
        f["request"]["path"].as_str().unwrap()
    );
    assert_eq!(f["request"]["content_type"], "text/xml");
}

#[test]
fn the_worker_vm_create_sends_only_fields_the_sdk_sends() {
    let f = fact("worker-vm-create-takes-the-sdk-fields-and-answers-the-configuration-file");
    let known: BTreeSet<&str> = f["request"]["body"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .chain([
            "description",
            "tls_certificate",
            "ipv6_address",
            "ipv6_gateway",
        ])
        .collect();
    let body = node().create_body().unwrap();
    for key in body.as_object().unwrap().keys() {
        assert!(
            known.contains(key.as_str()),
            "`{key}` is not a field the SDK sends"
        );
    }
    assert_eq!(
        body["deployment_type"],
        f["request"]["body"]["deployment_type"]
    );
    assert!(body["alternative_fqdn"].is_string());
}

#[test]
fn a_removed_sip_tls_fqdn_is_sent_as_an_empty_string() {
    let f = fact("alternative-fqdn-is-a-string-never-null");
    assert!(
        f["request"]["body"]["alternative_fqdn"].is_null(),
        "the fact is about null"
    );
    let mut without = node();
    without.sip_tls_fqdn = None;
    let observed = pexspec_pexip::WorkerVm {
        alternative_fqdn: Some("pexconf01.example.com".into()),
        ..Default::default()
    };
    let changes = pexspec_pexip::diff(&without, &observed);
    assert!(changes.iter().any(|c| c.field == "alternative_fqdn"));
    let body = without.patch_body(&changes);
    assert_eq!(body["alternative_fqdn"], "", "{body}");
}

#[test]
fn licences_match_as_the_server_stores_them() {
    let sent = fact("licence-entitlement-stored-without-spaces");
    let listed = fact("licence-listed-without-spaces");
    let key = Secret::new(sent["request"]["body"]["entitlement_id"].as_str().unwrap());
    assert_eq!(
        licence_key(&key).expose(),
        listed["expect"]["first_has"]["entitlement_id"]
            .as_str()
            .unwrap()
    );
}
