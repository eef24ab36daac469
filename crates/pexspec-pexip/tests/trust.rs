//! Trust modes against the simulator's self-signed certificate: first use captures the
//! fingerprint, a pin must match, a different pin is refused naming both, a CA file works.

mod common;

use pexspec_pexip::*;

#[tokio::test]
async fn first_use_captures_the_fingerprint_and_keeps_it() {
    let env = common::env().await;
    let client = common::client(&env.sim, Trust::FirstUse);
    assert_eq!(
        client.observed_fingerprint(),
        None,
        "nothing seen before the first call"
    );
    client.list::<DnsServer>(&[]).await.unwrap();
    let seen = client.observed_fingerprint().unwrap();
    assert_eq!(seen.to_string(), env.sim.fingerprint());
}

#[tokio::test]
async fn a_matching_pin_is_accepted() {
    let env = common::env().await;
    env.client.list::<DnsServer>(&[]).await.unwrap();
    assert_eq!(
        env.client.observed_fingerprint().unwrap().to_string(),
        env.sim.fingerprint()
    );
}

#[tokio::test]
async fn a_different_pin_is_refused_naming_both_fingerprints() {
    let env = common::env().await;
    let wrong = Fingerprint::of_der(b"some other certificate");
    let client = common::client(&env.sim, Trust::Pinned(wrong));
    let err = client.list::<DnsServer>(&[]).await.unwrap_err();
    match &err {
        PexipError::Trust(TrustError::FingerprintMismatch {
            pinned, presented, ..
        }) => {
            assert_eq!(*pinned, wrong);
            assert_eq!(presented.to_string(), env.sim.fingerprint());
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&wrong.to_string()) && text.contains(env.sim.fingerprint()),
        "{text}"
    );
    assert_eq!(err.class(), ErrorClass::Config);
    assert!(!err.is_retryable());
    assert_eq!(
        client.requests_sent(),
        1,
        "a refused certificate is not retried"
    );
    assert_eq!(
        env.sim.api_calls().get,
        0,
        "no request, no password, reached the server"
    );
}

#[tokio::test]
async fn a_ca_file_is_trusted() {
    let env = common::env().await;
    let client = common::client(&env.sim, Trust::CaFile(env.sim.cert_path().to_owned()));
    client.list::<DnsServer>(&[]).await.unwrap();
    assert_eq!(
        client.observed_fingerprint().unwrap().to_string(),
        env.sim.fingerprint()
    );
}

#[tokio::test]
async fn a_ca_file_of_another_authority_is_refused() {
    let env = common::env().await;
    let (other, _) = common::cert("other-ca.example.com");
    let path = env.dir.path().join("other-ca.pem");
    std::fs::write(&path, other).unwrap();
    let client = common::client(&env.sim, Trust::CaFile(path.clone()));
    let err = client.list::<DnsServer>(&[]).await.unwrap_err();
    match err {
        PexipError::Trust(TrustError::Untrusted {
            ca_file, presented, ..
        }) => {
            assert_eq!(ca_file, path.display().to_string());
            assert_eq!(presented.to_string(), env.sim.fingerprint());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_fingerprint_is_stable_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = common::Strict::new(dir.path());
    let first = pexspec_sim::pexip::start(common::sim_options(dir.path()))
        .await
        .unwrap();
    let pin = first.fingerprint().to_owned();
    first.stop().await;
    let second = pexspec_sim::pexip::start(common::sim_options(dir.path()))
        .await
        .unwrap();
    let client = common::client(&second, Trust::Pinned(pin.parse().unwrap()));
    client.list::<DnsServer>(&[]).await.unwrap();
}

#[tokio::test]
async fn a_certificate_changed_after_first_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = common::Strict::new(dir.path());
    let first = pexspec_sim::pexip::start(common::sim_options(dir.path()))
        .await
        .unwrap();
    let client = common::client(&first, Trust::FirstUse);
    client.list::<DnsServer>(&[]).await.unwrap();
    let captured = client.observed_fingerprint().unwrap();
    let port: u16 = first
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    first.stop().await;

    // Another Management Node (new certificate) answers at the same address.
    let other = tempfile::tempdir().unwrap();
    let mut opts = common::sim_options(other.path());
    opts.port = port;
    let second = pexspec_sim::pexip::start(opts).await.unwrap();
    assert_eq!(second.base_url(), client.base_url());
    let err = client.list::<DnsServer>(&[]).await.unwrap_err();
    match err {
        PexipError::Trust(TrustError::FingerprintMismatch {
            pinned, presented, ..
        }) => {
            assert_eq!(pinned, captured);
            assert_eq!(presented.to_string(), second.fingerprint());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_probe_reads_the_fingerprint_without_credentials() {
    let env = common::env().await;
    let fp = probe_fingerprint(env.sim.base_url(), std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(fp.to_string(), env.sim.fingerprint());
    // Then pin what was shown.
    let client = common::client(&env.sim, Trust::Pinned(fp));
    client.list::<DnsServer>(&[]).await.unwrap();
}
