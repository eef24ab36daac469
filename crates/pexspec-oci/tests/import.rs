//! Image import: CreateImage with the caller's retry token, then the work request polled on the
//! client's clock with `percentComplete` reported, until success, failure or the time limit.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use pexspec_oci::models::*;
use pexspec_oci::{ErrorClass, ImageImport, NoProgress, OciError, PollOptions, import_image};
use serde_json::json;

const IMAGE: &str = "ocid1.image.oc1.eu-frankfurt-1.img";
const WR: &str = "ocid1.coreservicesworkrequest.oc1.eu-frankfurt-1.wr";

fn import() -> ImageImport {
    ImageImport {
        compartment_id: COMPARTMENT.into(),
        display_name: "pexdocs-conferencing-59565".into(),
        namespace: "ns".into(),
        bucket: "Pexip-images".into(),
        object: "Pexip_Infinity_v30_generic_ConfNode_59565.ova".into(),
        source_image_type: SourceImageType::Vmdk,
        launch_mode: LaunchMode::Paravirtualized,
        operating_system: "Linux".into(),
        freeform_tags: pexspec_tags("pexdocs", "image[conferencing:eu-frankfurt-1]"),
        retry_token: Some("deterministic-token".into()),
    }
}

/// Work request polls answer the statuses in `script`, then repeat the last one.
async fn server(script: Vec<(&'static str, f64)>) -> TestServer {
    let polls = AtomicUsize::new(0);
    TestServer::start(move |r: &Recorded| match (r.method.as_str(), r.path()) {
        ("POST", "/20160918/images") => Reply::json(200, json!({"id": IMAGE, "compartmentId": COMPARTMENT, "lifecycleState": "IMPORTING", "displayName": "pexdocs-conferencing-59565"}))
            .with("opc-work-request-id", WR)
            .with("etag", "e1"),
        ("GET", p) if p == format!("/20160918/workRequests/{WR}") => {
            let n = polls.fetch_add(1, Ordering::SeqCst).min(script.len() - 1);
            let (status, pct) = script[n];
            Reply::json(200, json!({"id": WR, "operationType": "CreateImage", "status": status, "compartmentId": COMPARTMENT, "resources": [{"actionType": "CREATED", "entityType": "image", "identifier": IMAGE}], "percentComplete": pct, "timeAccepted": "2026-11-23T20:00:00.000Z"}))
        }
        ("GET", p) if p.ends_with("/errors") => Reply::json(200, json!([{"code": "ImageImportFailed", "message": "The image format is not supported", "timestamp": "t"}])),
        ("GET", p) if p == format!("/20160918/images/{IMAGE}") => Reply::json(200, json!({"id": IMAGE, "compartmentId": COMPARTMENT, "lifecycleState": "AVAILABLE", "launchMode": "PARAVIRTUALIZED", "freeformTags": {"pexspec-stack": "pexdocs"}})).with("etag", "e2"),
        _ => Reply::error(404, "NotFound", "no route"),
    })
    .await
}

#[tokio::test]
async fn an_import_waits_on_its_work_request_and_reports_progress() {
    let server = server(vec![
        ("ACCEPTED", 0.0),
        ("IN_PROGRESS", 20.0),
        ("IN_PROGRESS", 75.0),
        ("SUCCEEDED", 100.0),
    ])
    .await;
    let (client, clock) = client(&server.url);
    let seen: Arc<Mutex<Vec<(f64, String, Duration)>>> = Arc::default();
    let s2 = seen.clone();
    let progress = move |wr: &WorkRequest, waited: Duration| {
        s2.lock()
            .unwrap()
            .push((wr.percent_complete, wr.status.to_string(), waited))
    };
    let image = import_image(&client, &import(), &PollOptions::default(), &progress)
        .await
        .unwrap();
    assert_eq!(image.lifecycle_state, LifecycleState::Available);
    assert_eq!(image.etag.as_deref(), Some("e2"));

    let create = &server.requests()[0];
    assert_eq!(
        create.header("opc-retry-token"),
        Some("deterministic-token")
    );
    assert_eq!(
        create.json(),
        json!({"compartmentId": COMPARTMENT, "displayName": "pexdocs-conferencing-59565", "launchMode": "PARAVIRTUALIZED",
               "freeformTags": {"pexspec-stack": "pexdocs", "pexspec-address": "image[conferencing:eu-frankfurt-1]"},
               "imageSourceDetails": {"sourceType": "objectStorageTuple", "namespaceName": "ns", "bucketName": "Pexip-images",
                                      "objectName": "Pexip_Infinity_v30_generic_ConfNode_59565.ova", "sourceImageType": "VMDK", "operatingSystem": "Linux"}})
    );
    let seen = seen.lock().unwrap();
    let pcts: Vec<f64> = seen.iter().map(|s| s.0).collect();
    assert_eq!(pcts, [0.0, 20.0, 75.0, 100.0]);
    assert_eq!(seen.last().unwrap().1, "SUCCEEDED");
    // Polls 5 s apart, growing by half: 5, 7.5, 11.25 (no sleep after the last poll).
    let polls: Vec<f64> = clock
        .sleeps()
        .iter()
        .map(Duration::as_secs_f64)
        .filter(|d| *d >= 1.0)
        .collect();
    assert_eq!(polls, [5.0, 7.5, 11.25]);
    assert_eq!(seen.last().unwrap().2, Duration::from_secs_f64(23.75));
}

#[tokio::test]
async fn a_failed_import_reports_the_work_request_errors() {
    let server = server(vec![("IN_PROGRESS", 10.0), ("FAILED", 10.0)]).await;
    let (client, _) = client(&server.url);
    let err = import_image(&client, &import(), &PollOptions::default(), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::WorkRequestFailed { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Provider);
    let text = err.to_string();
    assert!(
        text.contains(WR)
            && text.contains("FAILED")
            && text.contains("ImageImportFailed: The image format is not supported"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wait_gives_up_at_its_time_limit() {
    let server = server(vec![("IN_PROGRESS", 50.0)]).await;
    let (client, clock) = client(&server.url);
    let poll = PollOptions {
        initial_interval: Duration::from_secs(10),
        max_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(300),
    };
    let err = import_image(&client, &import(), &poll, &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("still IN_PROGRESS at 50%"),
        "{err}"
    );
    let waited: Duration = clock.sleeps().iter().sum();
    assert!(waited <= Duration::from_secs(300), "{waited:?}");
    assert!(clock.sleeps().iter().all(|d| *d <= Duration::from_secs(60)));
}

#[test]
fn the_import_body_names_the_object_by_tuple() {
    let d = import().details();
    assert!(matches!(
        d.image_source_details,
        Some(ImageSourceDetails::ObjectStorageTuple { .. })
    ));
    let tags: &BTreeMap<String, String> = &d.freeform_tags;
    assert_eq!(tags.get(TAG_STACK).map(String::as_str), Some("pexdocs"));
}
