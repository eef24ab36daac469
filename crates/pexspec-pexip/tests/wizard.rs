//! Waiting for the Management Node after the installation wizard, on paused tokio time.

mod common;

use std::sync::Arc;
use std::time::Duration;

use pexspec_pexip::*;

fn not_bootstrapped(dir: &std::path::Path) -> pexspec_sim::pexip::PexipSimOptions {
    let mut opts = common::sim_options(dir);
    opts.auto_bootstrap = false;
    opts
}

#[tokio::test(start_paused = true)]
async fn ready_once_the_wizard_completes() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = common::Strict::new(dir.path());
    let sim = Arc::new(
        pexspec_sim::pexip::start(not_bootstrapped(dir.path()))
            .await
            .unwrap(),
    );
    let client = common::client(&sim, common::pinned(&sim));

    let err = wait_until_ready(
        &client,
        WaitOptions::new(Duration::from_secs(120), Duration::from_secs(10)),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PexipError::Timeout { .. }));
    assert!(text.contains("installation wizard"), "{text}");
    assert!(text.contains("HTTP 503"), "the last error is shown: {text}");

    let operator = sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(180)).await;
        operator.complete_wizard().unwrap();
    });
    let start = tokio::time::Instant::now();
    let status = wait_until_ready(
        &client,
        WaitOptions::new(Duration::from_secs(600), Duration::from_secs(15)),
    )
    .await
    .unwrap();
    assert_eq!(status.sync_status, "SYNCED");
    assert!(
        start.elapsed() >= Duration::from_secs(180) && start.elapsed() < Duration::from_secs(240)
    );
    // The wizard's servers are there to adopt.
    assert_eq!(client.list::<DnsServer>(&[]).await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn refused_credentials_stop_the_wait_at_once() {
    let env = common::env().await;
    let client = Client::new(ClientOptions::new(
        env.sim.base_url(),
        Secret::new("not-the-password"),
        common::pinned(&env.sim),
    ))
    .unwrap();
    let start = tokio::time::Instant::now();
    let err = wait_until_ready(
        &client,
        WaitOptions::new(Duration::from_secs(600), Duration::from_secs(15)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PexipError::Auth { .. }), "{err:?}");
    assert_eq!(start.elapsed(), Duration::ZERO);
}
