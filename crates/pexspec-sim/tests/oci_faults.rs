//! Fault injection (seeded 429/5xx, list lag, out of host capacity, latency) and the call
//! counters of `/_sim/stats`.

mod oci_common;

use oci_common::{AD1, advance, compartment, import_image, manual_sim, network};
use pexspec_sim::{CapacityRule, FaultConfig, ServeOptions, SimClock, serve};
use serde_json::json;

async fn statuses(c: &oci_common::Client, path: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = c.get(path).await;
        if r.status == 429 {
            assert_eq!(r.code(), "TooManyRequests");
            assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        }
        out.push(r.status);
    }
    out
}

#[tokio::test]
async fn seeded_429s_are_reproducible_and_counted() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "f").await;
    let path = format!("/20160918/vcns?compartmentId={comp}");
    let cfg = json!({"seed": 7, "rate_429": 0.5, "operations": ["ListVcns"]});
    assert_eq!(
        c.sim("POST", "/_sim/faults", Some(cfg.clone())).await["rate_429"],
        0.5
    );
    c.sim("POST", "/_sim/reset-stats", None).await;
    let first = statuses(&c, &path, 40).await;
    let n429 = first.iter().filter(|s| **s == 429).count();
    assert!((10..=30).contains(&n429), "{n429} of 40");
    assert!(first.iter().all(|s| *s == 200 || *s == 429));
    // Other operations are untouched.
    assert_eq!(c.get("/n").await.status, 200);
    let stats = c.sim("GET", "/_sim/stats", None).await;
    assert_eq!(stats["operations"]["ListVcns"]["429"], n429);
    assert_eq!(stats["operations"]["ListVcns"]["200"], 40 - n429);
    assert_eq!(stats["operations"]["GetNamespace"]["200"], 1);
    assert_eq!(stats["total"], 41);
    // Setting the same configuration again restarts the same sequence.
    c.sim("POST", "/_sim/faults", Some(cfg)).await;
    assert_eq!(statuses(&c, &path, 40).await, first);
    c.sim("POST", "/_sim/reset-stats", None).await;
    assert_eq!(c.sim("GET", "/_sim/stats", None).await["total"], 0);
    // A bad configuration is refused and changes nothing.
    let bad = c
        .sim("POST", "/_sim/faults", Some(json!({"rate_429": 2.0})))
        .await;
    assert_eq!(bad["code"], "InvalidParameter");
    assert_eq!(c.sim("GET", "/_sim/faults", None).await["seed"], 7);
}

#[tokio::test]
async fn server_errors_carry_retry_after() {
    let (_sim, c) = manual_sim().await;
    c.sim(
        "POST",
        "/_sim/faults",
        Some(json!({"rate_5xx": 1.0, "retry_after_s": 3})),
    )
    .await;
    for _ in 0..6 {
        let r = c.get("/n").await;
        assert!(
            matches!(
                (r.status, r.code()),
                (500, "InternalServerError") | (503, "ServiceUnavailable")
            ),
            "{:?}",
            r.json
        );
        assert_eq!(r.header("retry-after").as_deref(), Some("3"));
    }
    c.sim("POST", "/_sim/faults", Some(json!({}))).await;
    assert_eq!(c.get("/n").await.status, 200);
}

#[tokio::test]
async fn created_resources_lag_behind_in_lists() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "lag").await;
    c.sim("POST", "/_sim/faults", Some(json!({"list_lag_ms": 5000})))
        .await;
    let v = c
        .post(
            "/20160918/vcns",
            json!({"compartmentId": comp, "cidrBlock": "10.0.0.0/16"}),
        )
        .await;
    assert_eq!(
        c.get(&format!("/20160918/vcns/{}", v.id())).await.status,
        200,
        "GET sees it at once"
    );
    let list = format!("/20160918/vcns?compartmentId={comp}");
    assert_eq!(c.get(&list).await.json, json!([]));
    advance(&sim, 5);
    assert_eq!(c.get(&list).await.json[0]["id"], v.id().as_str());
}

#[tokio::test]
async fn the_first_launches_run_out_of_host_capacity() {
    let faults = FaultConfig {
        out_of_host_capacity: vec![CapacityRule {
            availability_domain: AD1.into(),
            fault_domain: None,
            shape: Some("VM.Standard3.Flex".into()),
            count: 2,
        }],
        ..FaultConfig::default()
    };
    let sim = serve(
        ServeOptions::default()
            .clock(SimClock::manual())
            .faults(faults),
    )
    .await
    .unwrap();
    let c = oci_common::Client::new(sim.endpoint("eu-frankfurt-1").unwrap());
    let comp = compartment(&c, &sim, "cap").await;
    let (_, subnet) = network(&c, &sim, &comp).await;
    let (img, _) = import_image(&c, &comp, Some("pexip.vmdk")).await;
    advance(&sim, 23 * 60);
    let launch = json!({"availabilityDomain": AD1, "compartmentId": comp, "shape": "VM.Standard3.Flex",
        "createVnicDetails": {"subnetId": subnet}, "sourceDetails": {"sourceType": "image", "imageId": img["id"]}});
    for _ in 0..2 {
        let r = c.post("/20160918/instances", launch.clone()).await;
        assert_eq!((r.status, r.code()), (500, "InternalError"));
        assert_eq!(r.json["message"], "Out of host capacity.");
    }
    let ok = c.post("/20160918/instances", launch).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert_eq!(ok.json["shapeConfig"]["ocpus"], 1.0);
}

#[tokio::test]
async fn latency_is_added_per_operation() {
    let (_sim, c) = manual_sim().await;
    c.sim(
        "POST",
        "/_sim/faults",
        Some(json!({"latency_ms": {"GetNamespace": 60}})),
    )
    .await;
    let t = std::time::Instant::now();
    assert_eq!(c.get("/n").await.status, 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(60));
}
