//! Error classes, retries (what, how often, how long), Retry-After, pagination, the adaptive
//! rate limit and bad answers, against a loopback server, with no real sleeping: the client
//! waits on a manual clock (and, in one test, on tokio's paused clock).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use pexspec_oci::models::*;
use pexspec_oci::{
    ClientOptions, Endpoints, ErrorClass, OciClient, OciError, RetryPolicy, Service, TokioClock,
};
use serde_json::json;

fn vcn_json(id: &str) -> serde_json::Value {
    json!({"id": id, "compartmentId": COMPARTMENT, "lifecycleState": "AVAILABLE", "cidrBlocks": ["10.0.0.0/16"]})
}

/// A server answering the `n`-th request (0-based) with `script(n)`.
async fn scripted(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> TestServer {
    let count = AtomicUsize::new(0);
    TestServer::start(move |_| script(count.fetch_add(1, Ordering::SeqCst))).await
}

#[tokio::test]
async fn one_error_class_per_status_and_code() {
    let cases: &[(u16, &str, ErrorClass, bool)] = &[
        (400, "InvalidParameter", ErrorClass::UserInput, false),
        (400, "LimitExceeded", ErrorClass::UserInput, false),
        (400, "CannotParseRequest", ErrorClass::Internal, false),
        (401, "NotAuthenticated", ErrorClass::Config, false),
        (403, "NotAuthorized", ErrorClass::Config, false),
        (404, "NotAuthorizedOrNotFound", ErrorClass::Provider, false),
        (405, "MethodNotAllowed", ErrorClass::Internal, false),
        (409, "IncorrectState", ErrorClass::Conflict, true),
        (409, "LockConflict", ErrorClass::Conflict, true),
        (409, "Conflict", ErrorClass::Conflict, false),
        (409, "InvalidatedRetryToken", ErrorClass::Conflict, false),
        (412, "NoEtagMatch", ErrorClass::Conflict, false),
        (413, "PayloadTooLarge", ErrorClass::UserInput, false),
        (429, "TooManyRequests", ErrorClass::Throttled, true),
        (500, "InternalError", ErrorClass::Provider, true),
        (501, "MethodNotImplemented", ErrorClass::Provider, false),
        (502, "", ErrorClass::Provider, true),
        (503, "ServiceUnavailable", ErrorClass::Provider, true),
        (504, "", ErrorClass::Provider, true),
    ];
    for &(status, code, class, retryable) in cases {
        let server = TestServer::start(move |_| {
            Reply::error(status, code, "it went wrong").with("opc-request-id", "support-id-1")
        })
        .await;
        let (client, _) = client_with(&server.url, |o| o.retry = RetryPolicy::none());
        let err = client.get_vcn("ocid1.vcn.oc1..x").await.unwrap_err();
        assert_eq!(
            (err.class(), err.is_retryable()),
            (class, retryable),
            "{status} {code}: {err}"
        );
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.opc_request_id(), Some("support-id-1"));
        let text = err.to_string();
        assert!(
            text.starts_with("GetVcn: ")
                && text.contains("it went wrong")
                && text.contains("`support-id-1`"),
            "{text}"
        );
        assert_eq!(err.is_not_found(), status == 404);
    }
}

#[tokio::test]
async fn a_network_failure_is_retryable_and_classed_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (client, clock) = client_with(&url, |o| o.retry.max_attempts = 3);
    let err = client.get_vcn("ocid1.vcn.oc1..x").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Network);
    assert!(err.is_retryable());
    assert!(
        err.to_string().starts_with("GetVcn: network error"),
        "{err}"
    );
    assert_eq!(clock.sleeps().len(), 2, "two waits between three attempts");
}

#[tokio::test]
async fn a_bad_body_is_a_provider_error_naming_the_operation() {
    for body in [&b"{not json"[..], b"[]", b"{\"id\": 3}", b""] {
        let server =
            TestServer::start(move |_| Reply::raw(200, body).with("opc-request-id", "rid-9")).await;
        let (client, _) = client(&server.url);
        let err = client.get_vcn("ocid1.vcn.oc1..x").await.unwrap_err();
        assert!(matches!(err, OciError::Decode { .. }), "{err}");
        assert_eq!(err.class(), ErrorClass::Provider);
        assert!(!err.is_retryable());
        assert!(
            err.to_string()
                .starts_with("GetVcn: cannot understand the response"),
            "{err}"
        );
        assert_eq!(err.opc_request_id(), Some("rid-9"));
        assert_eq!(server.requests().len(), 1, "not retried");
    }
    // An error answer with a body that is not OCI's JSON still gives a usable error.
    let server = TestServer::start(|_| Reply::raw(502, b"<html>Bad Gateway</html>")).await;
    let (client, _) = client_with(&server.url, |o| o.retry = RetryPolicy::none());
    let err = client.get_vcn("ocid1.vcn.oc1..x").await.unwrap_err();
    assert!(err.to_string().contains("Bad Gateway"), "{err}");
}

#[tokio::test]
async fn a_throttled_create_is_retried_with_the_same_token_and_new_request_ids() {
    // Capture A-5..7: 429, 429, then 200.
    let server = scripted(|n| if n < 2 { Reply::error(429, "TooManyRequests", "Too many requests for the user") } else { Reply::json(200, json!({"id": "ocid1.internetgateway.oc1..a", "compartmentId": COMPARTMENT, "vcnId": "v", "lifecycleState": "PROVISIONING"})) }).await;
    let (client, clock) = client(&server.url);
    let details = CreateInternetGatewayDetails {
        compartment_id: COMPARTMENT.into(),
        is_enabled: true,
        vcn_id: "ocid1.vcn.oc1.eu-frankfurt-1.amaaaaaa1".into(),
        ..CreateInternetGatewayDetails::default()
    };
    client
        .create_internet_gateway(&details, None)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let tokens: Vec<_> = reqs
        .iter()
        .map(|r| r.header("opc-retry-token").unwrap().to_string())
        .collect();
    assert!(
        tokens.iter().all(|t| *t == tokens[0] && t.len() == 30),
        "{tokens:?}"
    );
    let ids: std::collections::BTreeSet<_> = reqs
        .iter()
        .map(|r| r.header("opc-request-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        reqs.iter()
            .all(|r| r.header("opc-client-retries") == Some("true"))
    );
    let cap = capture('A', 5);
    assert_same_json(
        &reqs[0].json(),
        &serde_json::from_str(cap.body.as_deref().unwrap()).unwrap(),
        "A-5 body",
    );
    // Two backoffs (full jitter under 1 s then 2 s), maybe a rate-limit wait; nothing longer.
    let sleeps = clock.sleeps();
    assert!(
        !sleeps.is_empty() && sleeps.iter().all(|d| *d <= Duration::from_secs(2)),
        "{sleeps:?}"
    );
    assert!(
        client.current_rate(Service::Core) < 10.0,
        "the 429s slowed the bucket down"
    );
}

#[tokio::test]
async fn a_permanent_conflict_is_not_retried() {
    // Capture A-8: 409 Conflict is printed, not retried.
    let server =
        TestServer::start(|_| Reply::error(409, "Conflict", "Resource already exists")).await;
    let (client, clock) = client(&server.url);
    let details = CreateSubnetDetails {
        compartment_id: COMPARTMENT.into(),
        vcn_id: "v".into(),
        cidr_block: "10.0.0.0/24".into(),
        ..CreateSubnetDetails::default()
    };
    let err = client.create_subnet(&details, None).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(clock.sleeps().is_empty());
    assert_eq!(err.code(), Some("Conflict"));
}

#[tokio::test]
async fn retry_after_is_honoured_exactly() {
    let server = scripted(|n| {
        if n == 0 {
            Reply::error(503, "ServiceUnavailable", "busy").with("retry-after", "7")
        } else {
            Reply::json(200, vcn_json("ocid1.vcn.oc1..a"))
        }
    })
    .await;
    let (client, clock) = client(&server.url);
    client.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn attempts_are_bounded_and_backoff_doubles_with_full_jitter() {
    let server = TestServer::start(|_| Reply::error(500, "InternalError", "Internal error.")).await;
    let (client, clock) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let err = client.get_vcn("ocid1.vcn.oc1..a").await.unwrap_err();
    assert_eq!(server.requests().len(), 8, "the SDKs' 8 attempts");
    assert_eq!(err.code(), Some("InternalError"));
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 7, "{sleeps:?}");
    let policy = RetryPolicy::default();
    for (i, d) in sleeps.iter().enumerate() {
        assert!(
            *d <= policy.backoff_cap(i as u32 + 1),
            "retry {}: {d:?}",
            i + 1
        );
    }
    assert!(
        sleeps.iter().sum::<Duration>() > Duration::from_secs(5),
        "jitter is not always zero: {sleeps:?}"
    );
}

#[tokio::test]
async fn out_of_host_capacity_is_returned_at_once() {
    let server =
        TestServer::start(|_| Reply::error(500, "InternalError", "Out of host capacity.")).await;
    let (client, clock) = client(&server.url);
    let err = client.get_vcn("ocid1.vcn.oc1..a").await.unwrap_err();
    assert_eq!(
        server.requests().len(),
        1,
        "the caller tries another domain instead"
    );
    assert!(err.is_out_of_capacity() && !err.is_retryable());
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn the_total_retry_time_is_bounded() {
    let server = TestServer::start(|_| {
        Reply::error(429, "TooManyRequests", "slow down").with("retry-after", "6")
    })
    .await;
    let (client, clock) = client_with(&server.url, |o| {
        o.retry.max_elapsed = Duration::from_secs(10)
    });
    let err = client.get_vcn("ocid1.vcn.oc1..a").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Throttled);
    assert_eq!(
        server.requests().len(),
        2,
        "6 s, then 12 s would pass the 10 s budget"
    );
    assert_eq!(
        clock
            .sleeps()
            .iter()
            .filter(|d| **d == Duration::from_secs(6))
            .count(),
        1
    );
}

#[tokio::test]
async fn an_incorrect_state_is_retried_until_it_clears() {
    let server = scripted(|n| {
        if n < 3 {
            Reply::error(409, "IncorrectState", "busy")
        } else {
            Reply::json(200, vcn_json("ocid1.vcn.oc1..a")).with("etag", "e9")
        }
    })
    .await;
    let (client, _) = client(&server.url);
    let v = client.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    assert_eq!(server.requests().len(), 4);
    assert_eq!(v.etag.as_deref(), Some("e9"));
}

#[tokio::test]
async fn pagination_follows_opc_next_page_with_the_same_filters() {
    // Captures.
    let server = TestServer::start(|r: &Recorded| match r.query("page").as_deref() {
        None => Reply::json(200, json!([vcn_json("ocid1.vcn.oc1..1")]))
            .with("opc-next-page", "PAGE-TOKEN-2"),
        Some("PAGE-TOKEN-2") => Reply::json(
            200,
            json!([vcn_json("ocid1.vcn.oc1..2"), vcn_json("ocid1.vcn.oc1..3")]),
        ),
        Some(_) => Reply::error(400, "InvalidParameter", "bad page"),
    })
    .await;
    let (client, _) = client(&server.url);
    let vcns = client.list_vcns(COMPARTMENT).await.unwrap();
    assert_eq!(
        vcns.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ["ocid1.vcn.oc1..1", "ocid1.vcn.oc1..2", "ocid1.vcn.oc1..3"]
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].target, capture('A', 3).target);
    assert_eq!(reqs[1].target, capture('A', 4).target);
    assert!(reqs.iter().all(|r| r.signature.is_ok()));
}

#[tokio::test]
async fn a_page_token_that_repeats_is_an_error_not_a_loop() {
    let server =
        TestServer::start(|_| Reply::json(200, json!([])).with("opc-next-page", "SAME")).await;
    let (client, _) = client(&server.url);
    let err = client.list_vcns(COMPARTMENT).await.unwrap_err();
    assert!(err.to_string().contains("`opc-next-page` repeats"), "{err}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn the_rate_limit_paces_a_burst_and_is_shared_per_service_and_region() {
    let server = TestServer::start(|_| Reply::json(200, vcn_json("ocid1.vcn.oc1..a"))).await;
    let (client, clock) = client(&server.url);
    for _ in 0..25 {
        client.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    }
    // 5 from the full bucket, then 20 at 10 per second.
    let waited: Duration = clock.sleeps().iter().sum();
    assert!(
        waited >= Duration::from_millis(1900) && waited <= Duration::from_millis(2100),
        "{waited:?}"
    );
    // A clone (and the same region) shares the bucket; another service has its own.
    let before = clock.sleeps().len();
    let other = client.in_region(REGION);
    other.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    assert_eq!(
        clock.sleeps().len(),
        before + 1,
        "the shared bucket is empty"
    );
    assert_eq!(client.current_rate(Service::Identity), 10.0);
}

#[tokio::test]
async fn throttling_halves_the_rate_and_success_recovers_it_slowly() {
    let server = scripted(|n| {
        if n % 2 == 0 {
            Reply::error(429, "TooManyRequests", "slow down")
        } else {
            Reply::json(200, vcn_json("ocid1.vcn.oc1..a"))
        }
    })
    .await;
    let (client, _) = client(&server.url);
    client.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    let after_one = client.current_rate(Service::Core);
    assert!(
        (after_one - 5.1).abs() < 1e-9,
        "halved then +0.1: {after_one}"
    );
    for _ in 0..5 {
        client.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    }
    assert!(
        client.current_rate(Service::Core) < after_one,
        "repeated 429s keep it low"
    );
}

#[tokio::test]
async fn regions_have_their_own_endpoints() {
    let fra = TestServer::start(|_| Reply::json(200, json!([]))).await;
    let zrh = TestServer::start(|_| Reply::json(200, json!([]))).await;
    let endpoints = Endpoints::from_overrides([
        (REGION, fra.url.as_str()),
        ("eu-zurich-1", zrh.url.as_str()),
    ])
    .unwrap();
    let client = OciClient::from_signer(
        signer(),
        TENANCY,
        REGION,
        endpoints,
        ClientOptions::default(),
    )
    .unwrap();
    client.list_vcns(COMPARTMENT).await.unwrap();
    client
        .in_region("eu-zurich-1")
        .list_vcns(COMPARTMENT)
        .await
        .unwrap();
    assert_eq!((fra.requests().len(), zrh.requests().len()), (1, 1));
    assert_eq!(
        zrh.last().header("host"),
        Some(zrh.url.trim_start_matches("http://"))
    );
    zrh.last().signature.unwrap();
}

#[tokio::test]
async fn bad_arguments_fail_before_sending() {
    let server = TestServer::start(|_| Reply::json(200, json!({}))).await;
    let (client, _) = client(&server.url);
    let err = client.get_vcn("").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::UserInput);
    assert!(server.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn on_paused_tokio_time_retry_after_waits_without_real_sleeping() {
    let server = scripted(|n| {
        if n == 0 {
            Reply::error(429, "TooManyRequests", "slow down").with("retry-after", "30")
        } else {
            Reply::json(200, vcn_json("ocid1.vcn.oc1..a"))
        }
    })
    .await;
    let endpoints = Endpoints::from_overrides([(REGION, server.url.as_str())]).unwrap();
    let options = ClientOptions {
        clock: Arc::new(TokioClock::new()),
        request_timeout: None,
        ..ClientOptions::default()
    };
    let client = OciClient::from_signer(signer(), TENANCY, REGION, endpoints, options).unwrap();
    let real = std::time::Instant::now();
    let virtual_start = tokio::time::Instant::now();
    client.get_vcn("ocid1.vcn.oc1..a").await.unwrap();
    assert!(
        virtual_start.elapsed() >= Duration::from_secs(30),
        "{:?}",
        virtual_start.elapsed()
    );
    assert!(
        real.elapsed() < Duration::from_secs(10),
        "no real 30 s sleep: {:?}",
        real.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = TestServer::start(|r: &Recorded| {
        if r.path() == "/elsewhere" {
            Reply::json(200, vcn_json("ocid1.vcn.oc1..a"))
        } else {
            Reply::empty(302).with("location", "/elsewhere")
        }
    })
    .await;
    let (client, _) = client(&server.url);
    let err = client.get_vcn("ocid1.vcn.oc1..a").await.unwrap_err();
    assert_eq!(
        (err.status(), err.class()),
        (Some(302), ErrorClass::Provider)
    );
    assert_eq!(server.requests().len(), 1);
}
