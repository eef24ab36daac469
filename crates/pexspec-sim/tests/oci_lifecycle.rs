//! Lifecycle states move on the simulator clock: provisioning, power actions, image import
//! through a work request, DRG attachment, cross-region peering, termination and lingering.

mod oci_common;

use std::time::Duration;

use oci_common::{AD1, Client, advance, compartment, import_image, manual_sim, network};
use pexspec_sim::{ServeOptions, SimClock, serve};
use serde_json::json;

#[tokio::test]
async fn image_import_runs_through_a_work_request() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "imgs").await;
    let (img, wr) = import_image(&c, &comp, Some("pexip.vmdk")).await;
    assert_eq!(img["lifecycleState"], "PROVISIONING");
    assert_eq!(img["sizeInMBs"], 3);
    let w = c.get(&format!("/20160918/workRequests/{wr}")).await.json;
    assert_eq!(w["status"], "IN_PROGRESS");
    assert_eq!(w["operationType"], "CreateImage");
    assert_eq!(w["resources"][0]["identifier"], img["id"]);
    advance(&sim, 11 * 60);
    let w = c.get(&format!("/20160918/workRequests/{wr}")).await.json;
    let pct = w["percentComplete"].as_f64().unwrap();
    assert!((45.0..55.0).contains(&pct), "{pct}");
    let path = format!("/20160918/images/{}", img["id"].as_str().unwrap());
    assert_eq!(c.get(&path).await.json["lifecycleState"], "IMPORTING");
    advance(&sim, 11 * 60);
    assert_eq!(c.get(&path).await.json["lifecycleState"], "AVAILABLE");
    let w = c.get(&format!("/20160918/workRequests/{wr}")).await.json;
    assert_eq!(
        (w["status"].as_str(), w["percentComplete"].as_f64()),
        (Some("SUCCEEDED"), Some(100.0))
    );
    assert!(w["timeFinished"].is_string());
    let logs = c.get(&format!("/20160918/workRequests/{wr}/logs")).await;
    assert_eq!(logs.json.as_array().unwrap().len(), 3);
    assert_eq!(
        c.get(&format!("/20160918/workRequests/{wr}/errors"))
            .await
            .json,
        json!([])
    );

    // Shapes: Optimized3.Flex must be added before it can be used.
    let shapes = c.get(&format!("{path}/shapes")).await.json;
    assert!(
        !shapes
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["shape"] == "VM.Optimized3.Flex")
    );
    let add = c
        .put(
            &format!("{path}/shapes/VM.Optimized3.Flex"),
            json!({"ocpuConstraints": {"min": 1, "max": 18}}),
        )
        .await;
    assert_eq!(add.status, 200, "{:?}", add.json);
    assert_eq!(add.json["shape"], "VM.Optimized3.Flex");
    let shapes = c.get(&format!("{path}/shapes")).await.json;
    assert!(
        shapes
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["shape"] == "VM.Optimized3.Flex")
    );
}

#[tokio::test]
async fn a_missing_object_fails_the_import() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "imgs").await;
    let (img, wr) = import_image(&c, &comp, None).await;
    advance(&sim, 23 * 60);
    let w = c.get(&format!("/20160918/workRequests/{wr}")).await.json;
    assert_eq!(w["status"], "FAILED");
    let errs = c
        .get(&format!("/20160918/workRequests/{wr}/errors"))
        .await
        .json;
    assert_eq!(errs[0]["code"], "ImageImportFailed");
    let path = format!("/20160918/images/{}", img["id"].as_str().unwrap());
    assert_eq!(c.get(&path).await.json["lifecycleState"], "DELETED");
}

#[tokio::test]
async fn instances_launch_stop_start_and_terminate() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "pexip").await;
    let (vcn, subnet) = network(&c, &sim, &comp).await;
    let (img, _) = import_image(&c, &comp, Some("pexip.vmdk")).await;
    advance(&sim, 23 * 60);
    let image = img["id"].as_str().unwrap();
    let launch = json!({
        "availabilityDomain": AD1, "compartmentId": comp, "displayName": "mgr1", "shape": "VM.Standard3.Flex",
        "shapeConfig": {"ocpus": 2, "memoryInGBs": 32}, "createVnicDetails": {"assignPublicIp": true, "subnetId": subnet, "privateIp": "10.0.0.10"},
        "sourceDetails": {"sourceType": "image", "imageId": image}, "metadata": {"user_data": "e30="},
        "freeformTags": {"pexspec-stack": "s1"}
    });
    // Optimized3.Flex is not compatible until added.
    let mut opt = launch.clone();
    opt["shape"] = "VM.Optimized3.Flex".into();
    let refused = c.post("/20160918/instances", opt).await;
    assert_eq!((refused.status, refused.code()), (400, "InvalidParameter"));

    let inst = c.post("/20160918/instances", launch.clone()).await;
    assert_eq!(inst.status, 200, "{:?}", inst.json);
    assert_eq!(inst.json["lifecycleState"], "PROVISIONING");
    assert_eq!(inst.json["freeformTags"]["pexspec-stack"], "s1");
    assert!(inst.header("opc-work-request-id").is_some());
    let id = inst.id();
    // The same private IP cannot be taken twice.
    let dup = c.post("/20160918/instances", launch.clone()).await;
    assert_eq!(dup.status, 409, "{:?}", dup.json);

    let stop_early = c
        .post(&format!("/20160918/instances/{id}?action=STOP"), json!({}))
        .await;
    assert_eq!(
        (stop_early.status, stop_early.code()),
        (409, "IncorrectState")
    );

    // The attachment has no vnicId until it is ATTACHED.
    let atts = c
        .get(&format!(
            "/20160918/vnicAttachments?compartmentId={comp}&instanceId={id}"
        ))
        .await
        .json;
    assert_eq!(atts[0]["lifecycleState"], "ATTACHING");
    assert!(atts[0]["vnicId"].is_null());

    advance(&sim, 61);
    let got = c.get(&format!("/20160918/instances/{id}")).await;
    assert_eq!(got.json["lifecycleState"], "RUNNING");
    let atts = c
        .get(&format!(
            "/20160918/vnicAttachments?compartmentId={comp}&instanceId={id}"
        ))
        .await
        .json;
    assert_eq!(atts[0]["lifecycleState"], "ATTACHED");
    let vnic = c
        .get(&format!(
            "/20160918/vnics/{}",
            atts[0]["vnicId"].as_str().unwrap()
        ))
        .await
        .json;
    assert_eq!(vnic["privateIp"], "10.0.0.10");
    assert!(vnic["publicIp"].as_str().unwrap().starts_with("203.0.113."));
    let pips = c
        .get(&format!("/20160918/privateIps?subnetId={subnet}"))
        .await
        .json;
    assert_eq!(pips[0]["ipAddress"], "10.0.0.10");

    let stop = c
        .post(&format!("/20160918/instances/{id}?action=STOP"), json!({}))
        .await;
    assert_eq!(stop.json["lifecycleState"], "STOPPING");
    advance(&sim, 31);
    assert_eq!(
        c.get(&format!("/20160918/instances/{id}")).await.json["lifecycleState"],
        "STOPPED"
    );
    let start = c
        .call(
            "POST",
            &format!("/20160918/instances/{id}?action=START"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        start.json["lifecycleState"],
        "STARTING",
        "{} {:?} {:?}",
        start.status,
        start.headers,
        String::from_utf8_lossy(&start.bytes)
    );
    advance(&sim, 31);
    let again = c
        .call(
            "POST",
            &format!("/20160918/instances/{id}?action=START"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (again.status, again.json["lifecycleState"].as_str()),
        (200, Some("RUNNING"))
    );

    // The subnet and VCN cannot go while the instance lives.
    let del_vcn = c.delete(&format!("/20160918/vcns/{vcn}")).await;
    assert_eq!((del_vcn.status, del_vcn.code()), (409, "Conflict"));
    let del_sub = c.delete(&format!("/20160918/subnets/{subnet}")).await;
    assert_eq!(del_sub.status, 409);

    let term = c
        .delete(&format!(
            "/20160918/instances/{id}?preserveBootVolume=false"
        ))
        .await;
    assert_eq!(term.status, 204);
    assert!(term.header("opc-work-request-id").is_some());
    assert_eq!(
        c.get(&format!("/20160918/instances/{id}")).await.json["lifecycleState"],
        "TERMINATING"
    );
    advance(&sim, 61);
    let listed = c
        .get(&format!("/20160918/instances?compartmentId={comp}"))
        .await
        .json;
    assert_eq!(
        listed[0]["lifecycleState"], "TERMINATED",
        "terminated instances linger in lists"
    );
    advance(&sim, 3601);
    assert_eq!(
        c.get(&format!("/20160918/instances?compartmentId={comp}"))
            .await
            .json,
        json!([])
    );
    assert_eq!(
        c.get(&format!("/20160918/instances/{id}")).await.code(),
        "NotAuthorizedOrNotFound"
    );

    // Now the network can go, subnet first.
    assert_eq!(c.delete(&format!("/20160918/vcns/{vcn}")).await.status, 409);
    assert_eq!(
        c.delete(&format!("/20160918/subnets/{subnet}"))
            .await
            .status,
        204
    );
    assert_eq!(c.delete(&format!("/20160918/vcns/{vcn}")).await.status, 204);
    advance(&sim, 4);
    assert_eq!(
        c.get(&format!("/20160918/vcns/{vcn}")).await.json["lifecycleState"],
        "TERMINATED"
    );
}

#[tokio::test]
async fn drg_attachment_and_cross_region_peering() {
    let clock = SimClock::manual();
    let sim = serve(
        ServeOptions::default()
            .region("eu-frankfurt-1")
            .region("eu-zurich-1")
            .clock(clock.clone()),
    )
    .await
    .unwrap();
    let fra = Client::new(sim.endpoint("eu-frankfurt-1").unwrap());
    let zrh = Client::new(sim.endpoint("eu-zurich-1").unwrap());
    let comp = compartment(&fra, &sim, "net").await;
    // Compartments are global; identity writes outside the home region are refused.
    let not_home = zrh
        .post(
            "/20160918/compartments",
            json!({"compartmentId": comp, "name": "x", "description": "d"}),
        )
        .await;
    assert_eq!((not_home.status, not_home.code()), (403, "NotAllowed"));

    let mut rpcs = Vec::new();
    for (c, cidr) in [(&fra, "10.0.0.0/16"), (&zrh, "10.1.0.0/16")] {
        let vcn = c
            .post(
                "/20160918/vcns",
                json!({"compartmentId": comp, "cidrBlock": cidr}),
            )
            .await
            .id();
        let drg = c
            .post(
                "/20160918/drgs",
                json!({"compartmentId": comp, "displayName": "drg"}),
            )
            .await;
        assert_eq!(drg.json["lifecycleState"], "PROVISIONING");
        let early = c
            .post(
                "/20160918/drgAttachments",
                json!({"drgId": drg.id(), "vcnId": vcn}),
            )
            .await;
        assert_eq!(early.code(), "IncorrectState");
        clock.advance(Duration::from_secs(31));
        let att = c
            .post(
                "/20160918/drgAttachments",
                json!({"drgId": drg.id(), "vcnId": vcn, "displayName": "att"}),
            )
            .await;
        assert_eq!(att.json["lifecycleState"], "ATTACHING", "{:?}", att.json);
        clock.advance(Duration::from_secs(31));
        assert_eq!(
            c.get(&format!("/20160918/drgAttachments/{}", att.id()))
                .await
                .json["lifecycleState"],
            "ATTACHED"
        );
        let rpc = c
            .post(
                "/20160918/remotePeeringConnections",
                json!({"compartmentId": comp, "drgId": drg.id(), "displayName": "rpc"}),
            )
            .await;
        assert_eq!(rpc.json["peeringStatus"], "NEW");
        rpcs.push(rpc.id());
    }
    clock.advance(Duration::from_secs(11));
    let connect = fra
        .post(
            &format!(
                "/20160918/remotePeeringConnections/{}/actions/connect",
                rpcs[0]
            ),
            json!({"peerId": rpcs[1], "peerRegionName": "eu-zurich-1"}),
        )
        .await;
    assert_eq!(connect.status, 200, "{:?}", connect.json);
    let a = fra
        .get(&format!("/20160918/remotePeeringConnections/{}", rpcs[0]))
        .await
        .json;
    let b = zrh
        .get(&format!("/20160918/remotePeeringConnections/{}", rpcs[1]))
        .await
        .json;
    assert_eq!(
        (a["peeringStatus"].as_str(), b["peeringStatus"].as_str()),
        (Some("PENDING"), Some("PENDING"))
    );
    assert_eq!(b["peerId"], rpcs[0].as_str());
    // Connecting again from the other side is harmless.
    let back = zrh
        .post(
            &format!(
                "/20160918/remotePeeringConnections/{}/actions/connect",
                rpcs[1]
            ),
            json!({"peerId": rpcs[0], "peerRegionName": "eu-frankfurt-1"}),
        )
        .await;
    assert_eq!(back.status, 200);
    clock.advance(Duration::from_secs(21));
    let a = fra
        .get(&format!("/20160918/remotePeeringConnections/{}", rpcs[0]))
        .await
        .json;
    let b = zrh
        .get(&format!("/20160918/remotePeeringConnections/{}", rpcs[1]))
        .await
        .json;
    assert_eq!(
        (a["peeringStatus"].as_str(), b["peeringStatus"].as_str()),
        (Some("PEERED"), Some("PEERED"))
    );
    // Deleting one side revokes the other.
    assert_eq!(
        zrh.delete(&format!("/20160918/remotePeeringConnections/{}", rpcs[1]))
            .await
            .status,
        204
    );
    let a = fra
        .get(&format!("/20160918/remotePeeringConnections/{}", rpcs[0]))
        .await
        .json;
    assert_eq!(a["peeringStatus"], "REVOKED");
}

#[tokio::test]
async fn a_scaled_clock_finishes_a_launch_in_milliseconds() {
    let sim = serve(ServeOptions::default().clock(SimClock::scaled(100_000.0)))
        .await
        .unwrap();
    let c = Client::new(sim.endpoint("eu-frankfurt-1").unwrap());
    let comp = c
        .post(
            "/20160918/compartments",
            json!({"compartmentId": sim.tenancy_ocid(), "name": "fast", "description": "d"}),
        )
        .await
        .id();
    // Poll as a client would; each state change takes well under a millisecond at this speed.
    let mut state = String::new();
    for _ in 0..200 {
        state = c.get(&format!("/20160918/compartments/{comp}")).await.json["lifecycleState"]
            .as_str()
            .unwrap()
            .to_string();
        if state == "ACTIVE" {
            break;
        }
    }
    assert_eq!(state, "ACTIVE");
    let (img, wr) = import_image(&c, &comp, Some("pexip.vmdk")).await;
    let mut status = String::new();
    for _ in 0..500 {
        status = c.get(&format!("/20160918/workRequests/{wr}")).await.json["status"]
            .as_str()
            .unwrap()
            .to_string();
        if status == "SUCCEEDED" {
            break;
        }
    }
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(
        c.get(&format!("/20160918/images/{}", img["id"].as_str().unwrap()))
            .await
            .json["lifecycleState"],
        "AVAILABLE"
    );
}
