//! Every operation pexspec needs, sent to a loopback server and compared with what the official
//! OCI CLI sent for the same command (`oci-cli-captures.txt`): method, path and query, JSON
//! body, signed headers; the server also checks each signature independently.

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use common::*;
use pexspec_oci::models::*;
use pexspec_oci::{OciClient, PutObjectOptions};
use serde_json::json;

/// Minimal but valid answers for every route used here.
fn canned(r: &Recorded) -> Reply {
    let p = r.path();
    let tags = json!({"pexspec-stack": "demo", "pexspec-address": "x[y]"});
    let base = |id: &str, state: &str| json!({"id": id, "compartmentId": COMPARTMENT, "lifecycleState": state, "freeformTags": tags, "displayName": "dn"});
    let with = |mut v: serde_json::Value, extra: serde_json::Value| {
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    let ok = |v: serde_json::Value| Reply::json(200, v).with("etag", "etag-1");
    match (r.method.as_str(), p) {
        ("POST", "/20160918/compartments") => ok(json!({"id": "ocid1.compartment.oc1..new", "compartmentId": TENANCY, "name": "pexip", "description": "Pexip deployment", "lifecycleState": "CREATING", "timeCreated": "2026-11-23T20:21:38.000Z"})),
        ("POST", "/20160918/routeTables") | ("PUT", _) if p.starts_with("/20160918/routeTables") => ok(with(base("ocid1.routetable.oc1.eu-frankfurt-1.aaaa1", "AVAILABLE"), json!({"vcnId": "v", "routeRules": [{"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "networkEntityId": "ocid1.internetgateway.oc1.eu-frankfurt-1.aaaa1"}]}))),
        ("POST", "/20160918/securityLists") | ("PUT", _) if p.starts_with("/20160918/securityLists") => ok(with(base("ocid1.securitylist.oc1.eu-frankfurt-1.aaaa1", "AVAILABLE"), json!({"vcnId": "v", "ingressSecurityRules": [], "egressSecurityRules": [], "timeCreated": "2026-11-23T20:21:38.000Z"}))),
        ("POST", "/20160918/subnets") => ok(with(base("ocid1.subnet.oc1.eu-frankfurt-1.aaaa1", "PROVISIONING"), json!({"vcnId": "v", "cidrBlock": "10.0.0.0/24", "routeTableId": "rt", "virtualRouterMac": "00:00:17:00:00:01"}))),
        ("POST", "/20160918/internetGateways") => ok(with(base("ocid1.internetgateway.oc1.eu-frankfurt-1.aaaa1", "PROVISIONING"), json!({"vcnId": "v", "isEnabled": true}))),
        ("POST", "/20160918/vcns") => ok(with(base("ocid1.vcn.oc1.eu-frankfurt-1.aaaa1", "PROVISIONING"), json!({"cidrBlock": "10.0.0.0/16", "cidrBlocks": ["10.0.0.0/16"]}))),
        ("POST", "/20160918/instances") => ok(with(base("ocid1.instance.oc1.eu-frankfurt-1.aaaa1", "PROVISIONING"), json!({"availabilityDomain": "Uocm:EU-FRANKFURT-1-AD-1", "region": "eu-frankfurt-1", "shape": "VM.Standard.E4.Flex", "shapeConfig": {"ocpus": 4.0, "memoryInGBs": 16.0}, "timeCreated": "2026-11-23T20:21:38.000Z"}))).with("opc-work-request-id", "ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.launch"),
        ("POST", _) if p.starts_with("/20160918/instances/") => ok(with(base("ocid1.instance.oc1.eu-frankfurt-1.aaaa1", "STOPPING"), json!({"availabilityDomain": "AD-1", "region": "eu-frankfurt-1", "shape": "VM.Standard.E4.Flex"}))),
        ("DELETE", _) if p.starts_with("/20160918/instances/") => Reply::empty(204).with("opc-work-request-id", "ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.term"),
        ("GET", "/20160918/vnicAttachments") => Reply::json(200, json!([with(base("ocid1.vnicattachment.oc1..a", "ATTACHED"), json!({"availabilityDomain": "AD-1", "instanceId": "ocid1.instance.oc1.eu-frankfurt-1.aaaa1", "vnicId": "ocid1.vnic.oc1.eu-frankfurt-1.aaaa1", "timeCreated": "t"}))])),
        ("GET", _) if p.starts_with("/20160918/vnics/") => ok(with(base("ocid1.vnic.oc1.eu-frankfurt-1.aaaa1", "AVAILABLE"), json!({"availabilityDomain": "AD-1", "privateIp": "10.0.0.10", "publicIp": "203.0.113.7", "isPrimary": true, "timeCreated": "t"}))),
        ("POST", "/20160918/images") => ok(with(base("ocid1.image.oc1.eu-frankfurt-1.aaaa1", "IMPORTING"), json!({"createImageAllowed": true, "operatingSystem": "Linux", "operatingSystemVersion": "", "timeCreated": "t"}))).with("opc-work-request-id", "ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.img"),
        ("PUT", _) if p.contains("/shapes/") => Reply::json(200, json!({"imageId": "ocid1.image.oc1.eu-frankfurt-1.aaaa1", "shape": "VM.Standard.E4.Flex", "memoryConstraints": {"minInGBs": 1, "maxInGBs": 1024}, "ocpuConstraints": {"min": 1, "max": 64}})),
        ("POST", "/20160918/drgs") => ok(base("ocid1.drg.oc1.eu-frankfurt-1.aaaa1", "PROVISIONING")),
        ("POST", "/20160918/drgAttachments") => ok(with(base("ocid1.drgattachment.oc1.eu-frankfurt-1.aaaa1", "ATTACHING"), json!({"drgId": "ocid1.drg.oc1.eu-frankfurt-1.aaaa1", "networkDetails": {"type": "VCN", "id": "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1"}}))),
        ("POST", "/20160918/remotePeeringConnections") => ok(with(base("ocid1.remotepeeringconnection.oc1.eu-frankfurt-1.aaaa1", "PROVISIONING"), json!({"drgId": "d", "peeringStatus": "NEW", "isCrossTenancyPeering": false, "timeCreated": "t"}))),
        ("POST", _) if p.ends_with("/actions/connect") => Reply::empty(200),
        ("GET", "/20160918/regions") => Reply::json(200, json!([{"key": "FRA", "name": "eu-frankfurt-1"}, {"key": "AMS", "name": "eu-amsterdam-1"}])),
        ("GET", _) if p.starts_with("/20160918/workRequests/") => Reply::json(200, json!({"id": "ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.aaaa1", "operationType": "CreateImage", "status": "IN_PROGRESS", "compartmentId": COMPARTMENT, "resources": [], "percentComplete": 42.0, "timeAccepted": "t"})),
        ("GET", "/n") => Reply::json(200, json!("examplens")),
        ("POST", "/n/examplens/b") => ok(json!({"namespace": "examplens", "name": "images", "compartmentId": COMPARTMENT, "metadata": {}, "createdBy": "u", "timeCreated": "t", "etag": "bucket-etag"})),
        ("PUT", _) if p.contains("/o/") => {
            let md5 = r.header("content-md5").unwrap_or("").to_string();
            Reply::empty(200).with("etag", "obj-etag").with("opc-content-md5", &md5)
        }
        ("POST", "/n/examplens/b/images/u") => Reply::json(200, json!({"namespace": "examplens", "bucket": "images", "object": "big.bin", "uploadId": "upload-08f35e7a", "timeCreated": "t"})),
        ("PUT", _) if p.contains("/u/") => {
            let n = r.query("uploadPartNum").unwrap();
            let md5 = r.header("content-md5").unwrap_or("").to_string();
            Reply::empty(200).with("etag", &format!("part-etag-{n}")).with("opc-content-md5", &md5)
        }
        ("POST", _) if p.contains("/u/") => Reply::empty(200).with("etag", "final").with("opc-multipart-md5", "x-2"),
        _ => Reply::error(404, "NotFound", &format!("no canned route for {} {}", r.method, r.target)),
    }
}

async fn setup() -> (TestServer, OciClient) {
    let server = TestServer::start(canned).await;
    let (client, _) = client(&server.url);
    (server, client)
}

/// The recorded request matches capture B-`n`: method, target, JSON body, signed headers.
fn assert_like_capture(rec: &Recorded, n: u32) {
    let cap = capture('B', n);
    assert_eq!(rec.method, cap.method, "B-{n} method");
    assert_eq!(rec.target, cap.target, "B-{n} path and query");
    assert_eq!(
        rec.signed_headers(),
        cap.signed_headers(),
        "B-{n} signed headers"
    );
    rec.signature
        .as_ref()
        .unwrap_or_else(|e| panic!("B-{n}: {e}"));
    match &cap.body {
        Some(b) if b.starts_with('{') || b.starts_with('[') => {
            let theirs: serde_json::Value = serde_json::from_str(b).unwrap();
            assert_same_json(&rec.json(), &theirs, &format!("B-{n} body"));
        }
        Some(_) => {}
        None => assert!(rec.body.is_empty(), "B-{n} has no body"),
    }
    for h in ["opc-retry-token", "if-match", "expect"] {
        assert_eq!(
            rec.header(h).is_some(),
            cap.header(h).is_some(),
            "B-{n} header {h}"
        );
    }
    assert_eq!(
        rec.header_count("content-length"),
        usize::from(cap.header("content-length").is_some()),
        "B-{n} content-length"
    );
    assert!(
        rec.header("transfer-encoding").is_none(),
        "B-{n} is not chunked"
    );
}

#[tokio::test]
async fn a1_create_vcn() {
    let (server, client) = setup().await;
    let vcn = client
        .create_vcn(
            &CreateVcnDetails {
                compartment_id: COMPARTMENT.into(),
                cidr_blocks: vec!["10.0.0.0/16".into()],
                display_name: Some("pexip-vcn".into()),
                dns_label: Some("pexip".into()),
                ..CreateVcnDetails::default()
            },
            Some("pexspec-token-vcn"),
        )
        .await
        .unwrap();
    let rec = server.last();
    let cap = capture('A', 1);
    assert_eq!(
        (rec.method.as_str(), rec.target.as_str()),
        (cap.method.as_str(), cap.target.as_str())
    );
    assert_same_json(
        &rec.json(),
        &serde_json::from_str(cap.body.as_deref().unwrap()).unwrap(),
        "A-1 body",
    );
    assert_eq!(rec.signed_headers(), cap.signed_headers());
    rec.signature.clone().unwrap();
    assert_eq!(rec.header("opc-retry-token"), Some("pexspec-token-vcn"));
    assert_eq!(rec.header("accept"), Some("application/json"));
    assert_eq!(rec.header("content-type"), Some("application/json"));
    let rid = rec.header("opc-request-id").unwrap();
    assert!(
        rid.len() == 32
            && rid
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "{rid}"
    );
    assert_eq!(vcn.etag.as_deref(), Some("etag-1"));
    assert_eq!(vcn.lifecycle_state, LifecycleState::Provisioning);
    assert!(vcn.belongs_to_stack("demo"));
    assert_eq!(vcn.pexspec_address(), Some("x[y]"));
}

#[tokio::test]
async fn b1_create_compartment() {
    let (server, client) = setup().await;
    let c = client
        .create_compartment(
            &CreateCompartmentDetails {
                compartment_id: TENANCY.into(),
                name: "pexip".into(),
                description: "Pexip deployment".into(),
                freeform_tags: BTreeMap::new(),
            },
            Some("t1"),
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 1);
    assert_eq!(c.lifecycle_state, LifecycleState::Creating);
    assert_eq!(c.display_name(), Some("pexip"));
}

#[tokio::test]
async fn b2_b3_route_table_create_and_replace_rules() {
    let (server, client) = setup().await;
    let rt = client
        .create_route_table(
            &CreateRouteTableDetails {
                compartment_id: COMPARTMENT.into(),
                route_rules: vec![RouteRule::cidr(
                    "0.0.0.0/0",
                    "ocid1.internetgateway.oc1.eu-frankfurt-1.aaaa1",
                )],
                vcn_id: "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1".into(),
                display_name: Some("rt".into()),
                freeform_tags: BTreeMap::new(),
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 2);
    assert_eq!(rt.route_rules.len(), 1);
    let update = UpdateRouteTableDetails {
        route_rules: Some(vec![RouteRule::cidr(
            "10.1.0.0/16",
            "ocid1.drg.oc1.eu-frankfurt-1.aaaa1",
        )]),
        ..UpdateRouteTableDetails::default()
    };
    client
        .update_route_table("ocid1.routetable.oc1.eu-frankfurt-1.aaaa1", &update, None)
        .await
        .unwrap();
    assert_like_capture(&server.last(), 3);
}

#[tokio::test]
async fn b4_b5_security_list_create_and_update_with_if_match() {
    let (server, client) = setup().await;
    let tcp443 = IngressSecurityRule {
        source: "0.0.0.0/0".into(),
        protocol: protocol::TCP.into(),
        is_stateless: Some(false),
        tcp_options: Some(PortOptions::destination(443, 443)),
        ..IngressSecurityRule::default()
    };
    let udp = IngressSecurityRule {
        source: "0.0.0.0/0".into(),
        protocol: protocol::UDP.into(),
        udp_options: Some(PortOptions::destination(40000, 49999)),
        ..IngressSecurityRule::default()
    };
    let icmp = IngressSecurityRule {
        source: "0.0.0.0/0".into(),
        protocol: protocol::ICMP.into(),
        icmp_options: Some(IcmpOptions {
            icmp_type: 3,
            code: Some(4),
        }),
        ..IngressSecurityRule::default()
    };
    let esp = IngressSecurityRule {
        source: "198.51.100.0/24".into(),
        protocol: protocol::ESP.into(),
        ..IngressSecurityRule::default()
    };
    client
        .create_security_list(
            &CreateSecurityListDetails {
                compartment_id: COMPARTMENT.into(),
                egress_security_rules: vec![EgressSecurityRule {
                    destination: "0.0.0.0/0".into(),
                    protocol: protocol::ALL.into(),
                    is_stateless: Some(false),
                    ..EgressSecurityRule::default()
                }],
                ingress_security_rules: vec![tcp443, udp, icmp, esp],
                vcn_id: "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1".into(),
                display_name: Some("sl".into()),
                freeform_tags: BTreeMap::new(),
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 4);
    let ssh = IngressSecurityRule {
        source: "0.0.0.0/0".into(),
        protocol: protocol::TCP.into(),
        tcp_options: Some(PortOptions::destination(22, 22)),
        ..IngressSecurityRule::default()
    };
    let update = UpdateSecurityListDetails {
        ingress_security_rules: Some(vec![ssh]),
        ..UpdateSecurityListDetails::default()
    };
    let sl = client
        .update_security_list(
            "ocid1.securitylist.oc1.eu-frankfurt-1.aaaa1",
            &update,
            Some("etag-current-1"),
        )
        .await
        .unwrap();
    let rec = server.last();
    assert_like_capture(&rec, 5);
    assert_eq!(rec.header("if-match"), Some("etag-current-1"));
    assert_eq!(sl.etag.as_deref(), Some("etag-1"));
}

#[tokio::test]
async fn b6_b7_subnet_and_internet_gateway() {
    let (server, client) = setup().await;
    client
        .create_subnet(
            &CreateSubnetDetails {
                compartment_id: COMPARTMENT.into(),
                vcn_id: "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1".into(),
                cidr_block: "10.0.0.0/24".into(),
                display_name: Some("pub".into()),
                dns_label: Some("pub".into()),
                prohibit_public_ip_on_vnic: Some(false),
                route_table_id: Some("ocid1.routetable.oc1.eu-frankfurt-1.aaaa1".into()),
                security_list_ids: Some(vec!["ocid1.securitylist.oc1.eu-frankfurt-1.aaaa1".into()]),
                ..CreateSubnetDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 6);
    client
        .create_internet_gateway(
            &CreateInternetGatewayDetails {
                compartment_id: COMPARTMENT.into(),
                is_enabled: true,
                vcn_id: "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1".into(),
                display_name: Some("igw".into()),
                ..CreateInternetGatewayDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 7);
}

fn launch_details() -> LaunchInstanceDetails {
    LaunchInstanceDetails {
        availability_domain: "Uocm:EU-FRANKFURT-1-AD-1".into(),
        compartment_id: COMPARTMENT.into(),
        create_vnic_details: Some(CreateVnicDetails {
            assign_public_ip: Some(true),
            private_ip: Some("10.0.0.10".into()),
            subnet_id: Some("ocid1.subnet.oc1.eu-frankfurt-1.aaaa1".into()),
            ..CreateVnicDetails::default()
        }),
        display_name: Some("mgr1".into()),
        fault_domain: None,
        hostname_label: None,
        metadata: BTreeMap::from([
            (
                "ssh_authorized_keys".into(),
                "ssh-rsa AAAAB3NzaC1yc2E test@example".into(),
            ),
            ("user_data".into(), "e30=".into()),
        ]),
        extended_metadata: None,
        shape: "VM.Standard.E4.Flex".into(),
        shape_config: Some(ShapeConfig {
            ocpus: Some(4.0),
            memory_in_gbs: Some(16.0),
            vcpus: None,
        }),
        source_details: Some(InstanceSourceDetails::Image {
            image_id: "ocid1.image.oc1.eu-frankfurt-1.aaaa1".into(),
            boot_volume_size_in_gbs: Some(100),
            boot_volume_vpus_per_gb: None,
        }),
        freeform_tags: BTreeMap::new(),
    }
}

#[tokio::test]
async fn b8_b9_b10_launch_stop_terminate() {
    let (server, client) = setup().await;
    let launched = client
        .launch_instance(&launch_details(), Some("launch-token"))
        .await
        .unwrap();
    let rec = server.last();
    // The CLI also sends the deprecated top-level `imageId`; pexspec sends only sourceDetails.
    let mut theirs: serde_json::Value =
        serde_json::from_str(capture('B', 8).body.as_deref().unwrap()).unwrap();
    theirs.as_object_mut().unwrap().remove("imageId");
    assert_same_json(&rec.json(), &theirs, "B-8 body");
    assert_eq!(rec.target, capture('B', 8).target);
    rec.signature.clone().unwrap();
    assert_eq!(
        launched.work_request_id.as_deref(),
        Some("ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.launch")
    );
    assert_eq!(
        launched.resource.shape_config.unwrap().memory_in_gbs,
        Some(16.0)
    );

    let stopped = client
        .instance_action(
            "ocid1.instance.oc1.eu-frankfurt-1.aaaa1",
            &InstanceAction::Stop,
            Some("stop-token"),
            None,
        )
        .await
        .unwrap();
    let rec = server.last();
    assert_like_capture(&rec, 9);
    assert_eq!(rec.header("content-length"), Some("0"));
    assert_eq!(
        rec.header("x-content-sha256"),
        Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    );
    assert_eq!(stopped.lifecycle_state, LifecycleState::Stopping);

    let t = client
        .terminate_instance("ocid1.instance.oc1.eu-frankfurt-1.aaaa1", false, None)
        .await
        .unwrap();
    let rec = server.last();
    assert_eq!(
        (rec.method.as_str(), rec.target.as_str()),
        ("DELETE", capture('B', 10).target.as_str())
    );
    assert_eq!(rec.signed_headers(), capture('B', 10).signed_headers());
    rec.signature.clone().unwrap();
    assert_eq!(
        t.work_request_id.as_deref(),
        Some("ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.term")
    );
}

#[tokio::test]
async fn b11_b12_vnic_lookup() {
    let (server, client) = setup().await;
    let atts = client
        .list_vnic_attachments(COMPARTMENT, Some("ocid1.instance.oc1.eu-frankfurt-1.aaaa1"))
        .await
        .unwrap();
    assert_like_capture(&server.last(), 11);
    let vnic = client
        .get_vnic(atts[0].vnic_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_like_capture(&server.last(), 12);
    assert_eq!(vnic.public_ip.as_deref(), Some("203.0.113.7"));
}

#[tokio::test]
async fn b13_b27_image_import_and_shape_compatibility() {
    let (server, client) = setup().await;
    let details = CreateImageDetails {
        compartment_id: COMPARTMENT.into(),
        display_name: Some("pexip-v35".into()),
        image_source_details: Some(ImageSourceDetails::ObjectStorageTuple {
            namespace_name: "examplens".into(),
            bucket_name: "images".into(),
            object_name: "pexip-infinity.vmdk".into(),
            source_image_type: Some(SourceImageType::Vmdk),
            operating_system: Some("Linux".into()),
            operating_system_version: None,
        }),
        instance_id: None,
        launch_mode: Some(LaunchMode::Paravirtualized),
        freeform_tags: BTreeMap::new(),
    };
    let created = client.create_image(&details, None).await.unwrap();
    assert_like_capture(&server.last(), 13);
    assert_eq!(created.resource.lifecycle_state, LifecycleState::Importing);
    let body = AddImageShapeCompatibilityEntryDetails {
        memory_constraints: Some(ImageMemoryConstraints {
            min_in_gbs: Some(1),
            max_in_gbs: Some(1024),
        }),
        ocpu_constraints: Some(ImageOcpuConstraints {
            min: Some(1),
            max: Some(64),
        }),
    };
    let entry = client
        .add_image_shape_compatibility(
            "ocid1.image.oc1.eu-frankfurt-1.aaaa1",
            "VM.Standard.E4.Flex",
            Some(&body),
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 27);
    assert_eq!(entry.shape, "VM.Standard.E4.Flex");
}

#[tokio::test]
async fn b14_to_b18_drg_attachment_rpc_and_connect() {
    let (server, client) = setup().await;
    client
        .create_drg(
            &CreateDrgDetails {
                compartment_id: COMPARTMENT.into(),
                display_name: Some("drg1".into()),
                ..CreateDrgDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 14);
    let att = client
        .create_drg_attachment(
            &CreateDrgAttachmentDetails {
                drg_id: "ocid1.drg.oc1.eu-frankfurt-1.aaaa1".into(),
                display_name: Some("att1".into()),
                vcn_id: Some("ocid1.vcn.oc1.eu-frankfurt-1.aaaa1".into()),
                ..CreateDrgAttachmentDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 15);
    assert_eq!(
        att.attached_vcn(),
        Some("ocid1.vcn.oc1.eu-frankfurt-1.aaaa1")
    );
    let rpc = client
        .create_remote_peering_connection(
            &CreateRemotePeeringConnectionDetails {
                compartment_id: COMPARTMENT.into(),
                drg_id: "ocid1.drg.oc1.eu-frankfurt-1.aaaa1".into(),
                display_name: Some("rpc1".into()),
                ..CreateRemotePeeringConnectionDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 16);
    assert_eq!(rpc.peering_status, PeeringStatus::New);
    let regions = client.list_regions().await.unwrap();
    assert_like_capture(&server.last(), 17);
    assert!(regions.iter().any(|r| r.name == "eu-amsterdam-1"));
    client
        .connect_remote_peering_connections(
            "ocid1.remotepeeringconnection.oc1.eu-frankfurt-1.aaaa1",
            &ConnectRemotePeeringConnectionsDetails {
                peer_id: "ocid1.remotepeeringconnection.oc1.eu-amsterdam-1.aaaa2".into(),
                peer_region_name: "eu-amsterdam-1".into(),
            },
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 18);
}

#[tokio::test]
async fn b19_work_request() {
    let (server, client) = setup().await;
    let wr = client
        .get_work_request("ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.aaaa1")
        .await
        .unwrap();
    assert_like_capture(&server.last(), 19);
    assert_eq!(wr.status, WorkRequestStatus::InProgress);
    assert_eq!(wr.percent_complete, 42.0);
}

#[tokio::test]
async fn b20_to_b26_object_storage() {
    let (server, client) = setup().await;
    let ns = client.get_namespace().await.unwrap();
    assert_like_capture(&server.last(), 20);
    assert_eq!(ns, "examplens");
    let bucket = client
        .create_bucket(
            &ns,
            &CreateBucketDetails {
                name: "images".into(),
                compartment_id: COMPARTMENT.into(),
                ..CreateBucketDetails::default()
            },
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 21);
    assert_eq!(bucket.etag.as_deref(), Some("etag-1"));

    let put = client
        .put_object(
            &ns,
            "images",
            "small.txt",
            Bytes::from_static(b"hello world\n"),
            &PutObjectOptions::default(),
        )
        .await
        .unwrap();
    let rec = server.last();
    assert_like_capture(&rec, 22);
    assert_eq!(rec.body, b"hello world\n");
    assert_eq!(rec.header("content-md5"), Some("b1kCrCNwJL3QwXbLkwY9xA=="));
    assert_eq!(rec.header("content-type"), Some("application/octet-stream"));
    assert_eq!(put.etag.as_deref(), Some("obj-etag"));

    let upload = client
        .create_multipart_upload(
            &ns,
            "images",
            &CreateMultipartUploadDetails {
                object: "big.bin".into(),
                ..CreateMultipartUploadDetails::default()
            },
        )
        .await
        .unwrap();
    assert_like_capture(&server.last(), 23);
    let mut etags = Vec::new();
    for n in 1..=2u32 {
        let part = client
            .upload_part(
                &ns,
                "images",
                "big.bin",
                &upload.upload_id,
                n,
                Bytes::from(vec![n as u8; 1000]),
            )
            .await
            .unwrap();
        let rec = server.last();
        let cap = capture('B', 23 + n);
        assert_eq!(rec.target, cap.target);
        assert_eq!(rec.signed_headers(), cap.signed_headers());
        assert_eq!(rec.header("content-length"), Some("1000"));
        rec.signature.unwrap();
        etags.push(part.etag);
    }
    assert_eq!(etags, ["part-etag-1", "part-etag-2"]);
    let details = CommitMultipartUploadDetails {
        parts_to_commit: etags
            .iter()
            .enumerate()
            .map(|(i, e)| CommitPart {
                part_num: i as u32 + 1,
                etag: e.clone(),
            })
            .collect(),
        parts_to_exclude: vec![],
    };
    client
        .commit_multipart_upload(&ns, "images", "big.bin", &upload.upload_id, &details)
        .await
        .unwrap();
    assert_like_capture(&server.last(), 26);
}

#[tokio::test]
async fn object_names_keep_their_slashes_and_conditional_writes_send_if_none_match() {
    let (server, client) = setup().await;
    let opts = PutObjectOptions {
        if_none_match_any: true,
        metadata: BTreeMap::from([("pexspec-holder".to_string(), "alice".to_string())]),
        ..PutObjectOptions::default()
    };
    client
        .put_object(
            "examplens",
            "images",
            "locks/pexdocs.lock",
            Bytes::from_static(b"{}"),
            &opts,
        )
        .await
        .unwrap();
    let rec = server.last();
    assert_eq!(rec.target, "/n/examplens/b/images/o/locks/pexdocs.lock");
    assert_eq!(rec.header("if-none-match"), Some("*"));
    assert_eq!(rec.header("opc-meta-pexspec-holder"), Some("alice"));
    rec.signature.clone().unwrap();
    let err = client
        .put_object(
            "examplens",
            "images",
            "a/../b",
            Bytes::new(),
            &PutObjectOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), pexspec_oci::ErrorClass::UserInput);
}

#[tokio::test]
async fn identity_and_public_ip_paths() {
    let server = TestServer::start(|r: &Recorded| match r.path() {
        p if p.ends_with("/regionSubscriptions") => Reply::json(200, json!([{"regionKey": "FRA", "regionName": "eu-frankfurt-1", "status": "READY", "isHomeRegion": true}])),
        "/20160918/publicIps" if r.method == "GET" => Reply::json(200, json!([{"id": "ocid1.publicip.oc1..a", "compartmentId": COMPARTMENT, "lifecycleState": "AVAILABLE", "lifetime": "RESERVED", "ipAddress": "203.0.113.9", "freeformTags": {"pexspec-stack": "demo", "pexspec-address": "public_ip[pexconf01]"}}])),
        "/20160918/publicIps" => Reply::json(200, json!({"id": "ocid1.publicip.oc1..a", "compartmentId": COMPARTMENT, "lifecycleState": "PROVISIONING", "lifetime": "RESERVED"})).with("etag", "e1"),
        p if p.starts_with("/20160918/publicIps/") => Reply::json(200, json!({"id": "ocid1.publicip.oc1..a", "compartmentId": COMPARTMENT, "lifecycleState": "ASSIGNING", "privateIpId": "ocid1.privateip.oc1..p"})).with("etag", "e2"),
        "/20160918/privateIps" => Reply::json(200, json!([{"id": "ocid1.privateip.oc1..p", "ipAddress": "10.0.1.31", "isPrimary": true, "vnicId": "ocid1.vnic.oc1..v"}])),
        _ => Reply::error(404, "NotFound", "no route"),
    })
    .await;
    let (client, _) = client(&server.url);
    let subs = client.list_region_subscriptions().await.unwrap();
    assert_eq!(
        server.last().target,
        format!("/20160918/tenancies/{TENANCY}/regionSubscriptions")
    );
    assert!(subs[0].is_home_region);

    let created = client
        .create_public_ip(
            &CreatePublicIpDetails {
                compartment_id: COMPARTMENT.into(),
                lifetime: PublicIpLifetime::Reserved,
                display_name: Some("pexconf01".into()),
                private_ip_id: None,
                freeform_tags: pexspec_tags("demo", "public_ip[pexconf01]"),
            },
            Some("tok"),
        )
        .await
        .unwrap();
    let body = server.last().json();
    assert_eq!(
        body,
        json!({"compartmentId": COMPARTMENT, "lifetime": "RESERVED", "displayName": "pexconf01", "freeformTags": {"pexspec-address": "public_ip[pexconf01]", "pexspec-stack": "demo"}})
    );
    assert_eq!(created.etag.as_deref(), Some("e1"));

    let listed = client.list_reserved_public_ips(COMPARTMENT).await.unwrap();
    assert_eq!(
        server.last().target,
        format!(
            "/20160918/publicIps?scope=REGION&compartmentId={}&lifetime=RESERVED",
            COMPARTMENT.replace(':', "%3A")
        )
    );
    let mine = by_address(listed, "demo");
    assert_eq!(mine.keys().collect::<Vec<_>>(), ["public_ip[pexconf01]"]);

    let private = client
        .list_private_ips_by_vnic("ocid1.vnic.oc1..v")
        .await
        .unwrap();
    assert_eq!(
        server.last().target,
        "/20160918/privateIps?vnicId=ocid1.vnic.oc1..v"
    );
    let updated = client
        .update_public_ip(
            "ocid1.publicip.oc1..a",
            &UpdatePublicIpDetails {
                private_ip_id: Some(private[0].id.clone()),
                ..UpdatePublicIpDetails::default()
            },
            Some("e1"),
        )
        .await
        .unwrap();
    let rec = server.last();
    assert_eq!(rec.method, "PUT");
    assert_eq!(rec.json(), json!({"privateIpId": "ocid1.privateip.oc1..p"}));
    assert_eq!(rec.header("if-match"), Some("e1"));
    assert_eq!(updated.lifecycle_state, LifecycleState::Assigning);
}

#[tokio::test]
async fn drg_attachment_in_the_network_details_form() {
    let (server, client) = setup().await;
    let details = CreateDrgAttachmentDetails {
        drg_id: "ocid1.drg.oc1.eu-frankfurt-1.aaaa1".into(),
        display_name: Some("pexdocs-eu-frankfurt-1-vcn-attachment".into()),
        network_details: Some(DrgAttachmentNetworkDetails::vcn(
            "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1",
        )),
        freeform_tags: pexspec_tags("pexdocs", "drg_attachment[eu-frankfurt-1]"),
        ..CreateDrgAttachmentDetails::default()
    };
    client
        .create_drg_attachment(&details, Some("t"))
        .await
        .unwrap();
    assert_eq!(
        server.last().json(),
        json!({"drgId": "ocid1.drg.oc1.eu-frankfurt-1.aaaa1", "displayName": "pexdocs-eu-frankfurt-1-vcn-attachment",
               "networkDetails": {"type": "VCN", "id": "ocid1.vcn.oc1.eu-frankfurt-1.aaaa1"},
               "freeformTags": {"pexspec-stack": "pexdocs", "pexspec-address": "drg_attachment[eu-frankfurt-1]"}})
    );
}
