//! Retries with backoff and jitter on paused tokio time: 5xx and 429 on idempotent calls,
//! connection failures on every call, never a POST that reached the server.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pexspec_pexip::*;
use serde_json::json;

fn client_with(sim: &pexspec_sim::pexip::PexipSim, sleeper: Arc<dyn Sleeper>) -> Client {
    let mut opts = ClientOptions::new(
        sim.base_url(),
        Secret::new(common::PASSWORD),
        common::pinned(sim),
    );
    opts.sleeper = sleeper;
    Client::new(opts).unwrap()
}

#[tokio::test(start_paused = true)]
async fn reads_are_retried_through_5xx_and_429_with_growing_delays() {
    let env = common::env().await;
    env.sim.inject_faults(&[503, 429]);
    let start = tokio::time::Instant::now();
    let servers = env.client.list::<DnsServer>(&[]).await.unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(env.client.requests_sent(), 3);
    // Retry 1 waits 250..500 ms, retry 2 waits 500..1000 ms (upper-half jitter).
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(750) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_post_that_reached_the_server_is_not_retried() {
    let env = common::env().await;
    let sleeper = common::counting();
    let client = client_with(&env.sim, sleeper.clone());
    env.sim.inject_faults(&[503]);
    let err = client
        .create::<DnsServer>(&json!({"address": "10.0.0.9"}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PexipError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable(), "the caller may try again after looking");
    assert_eq!(client.requests_sent(), 1);
    assert_eq!(sleeper.calls.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn persistent_failures_give_up_after_the_last_attempt() {
    let env = common::env().await;
    let sleeper = common::counting();
    let client = client_with(&env.sim, sleeper.clone());
    env.sim.inject_faults(&[502; 10]);
    let err = client.list::<DnsServer>(&[]).await.unwrap_err();
    assert!(
        matches!(err, PexipError::Server { status: 502, .. }),
        "{err:?}"
    );
    assert_eq!(client.requests_sent(), 5);
    assert_eq!(sleeper.calls.load(Ordering::Relaxed), 4);
    // 250..500 + 500..1000 + 1000..2000 + 2000..4000 ms
    let total = sleeper.total_ms.load(Ordering::Relaxed);
    assert!((3750..7500).contains(&total), "{total}");
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_even_for_a_post() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let client = Client::new(ClientOptions::new(
        format!("https://127.0.0.1:{port}"),
        Secret::new("pw"),
        Trust::FirstUse,
    ))
    .unwrap();
    let err = client
        .create::<DnsServer>(&json!({"address": "10.0.0.9"}))
        .await
        .unwrap_err();
    assert!(matches!(err, PexipError::Network { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Network);
    assert!(err.is_retryable());
    assert_eq!(
        client.requests_sent(),
        5,
        "nothing was sent, so trying again is safe"
    );
    assert!(!err.to_string().contains("pw"));
}
