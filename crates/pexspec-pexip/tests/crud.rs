//! The client against the simulator for every kind pexspec manages: create, list and observe,
//! update, delete.

mod common;

use pexspec_pexip::*;
use serde_json::json;

#[tokio::test]
async fn every_kind_creates_lists_updates_and_deletes() {
    let env = common::env().await;
    let c = &env.client;

    // dns_server / ntp_server
    let dns = c
        .create::<DnsServer>(&json!({"address": "10.0.0.2"}))
        .await
        .unwrap();
    assert_eq!(dns.kind(), Some("dns_server"));
    let ntp = c
        .create::<NtpServer>(&json!({"address": "0.pool.ntp.org"}))
        .await
        .unwrap();

    // system_location references them by URI.
    let loc = c
        .create::<SystemLocation>(&json!({"name": "Frankfurt", "dns_servers": [dns.as_str()], "ntp_servers": [ntp.as_str()]}))
        .await
        .unwrap();
    let got: SystemLocation = c.get(&loc).await.unwrap();
    assert_eq!(
        got.dns_servers,
        vec![dns.clone()],
        "embedded objects read back as URIs"
    );
    assert_eq!(got.ntp_servers, vec![ntp.clone()]);

    // licence: addressed by fulfillment id.
    let lic = c
        .create::<Licence>(&json!({"entitlement_id": "ENT-1234-5678", "offline_mode": false}))
        .await
        .unwrap();
    let licence: Licence = c.get(&lic).await.unwrap();
    assert_eq!(licence.entitlement_id, Secret::new("ENT-1234-5678"));
    assert_eq!(lic.id(), Some(licence.fulfillment_id.as_str()));
    assert!(!format!("{licence:?}").contains("ENT-1234"));

    // tls_certificate: the API derives subject and serial.
    let (pem, key) = common::cert("pexconf01.example.com");
    let cert_uri = c
        .create::<TlsCertificate>(&json!({"certificate": pem, "private_key": key}))
        .await
        .unwrap();
    let cert: TlsCertificate = c.get(&cert_uri).await.unwrap();
    assert_eq!(cert.subject_name, "CN=pexconf01.example.com");
    assert_eq!(cert_id(&pem).unwrap().serial, cert.serial_no);

    // conference + alias
    let conf = c
        .create::<Conference>(&json!({"name": "Board room", "pin": "1234"}))
        .await
        .unwrap();
    let alias = c
        .create::<ConferenceAlias>(
            &json!({"alias": "board@example.com", "conference": conf.as_str()}),
        )
        .await
        .unwrap();
    let room: Conference = c.get(&conf).await.unwrap();
    assert_eq!(room.aliases, vec![alias.clone()]);
    assert_eq!(room.pin, Secret::new("1234"));

    // list with filters, update, observe, delete
    let found = c
        .list::<DnsServer>(&[("address", "10.0.0.2")])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    c.update(&dns, &json!({"description": "resolver"}))
        .await
        .unwrap();
    let after: DnsServer = c.get(&dns).await.unwrap();
    assert_eq!(after.description, "resolver");
    c.update(&conf, &json!({"description": "10 seats"}))
        .await
        .unwrap();
    c.update(&loc, &json!({"dns_servers": []})).await.unwrap();
    assert!(
        c.get::<SystemLocation>(&loc)
            .await
            .unwrap()
            .dns_servers
            .is_empty()
    );

    for uri in [&alias, &conf, &cert_uri, &lic, &loc, &dns, &ntp] {
        c.delete(uri).await.unwrap();
    }
    match c.get::<DnsServer>(&dns).await {
        Err(PexipError::NotFound { path }) => assert_eq!(path, dns.as_str()),
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Only the wizard's servers are left.
    assert_eq!(c.list::<DnsServer>(&[]).await.unwrap().len(), 1);
    assert!(c.list::<Conference>(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn lists_follow_pagination() {
    let env = common::env().await;
    let c = &env.client;
    let conf = c
        .create::<Conference>(&json!({"name": "Big"}))
        .await
        .unwrap();
    for i in 0..230 {
        c.create::<ConferenceAlias>(
            &json!({"alias": format!("a{i:03}"), "conference": conf.as_str()}),
        )
        .await
        .unwrap();
    }
    let page = c.list_page::<ConferenceAlias>(&[], 100, 200).await.unwrap();
    assert_eq!(page.meta.total_count, 230);
    assert_eq!(page.objects.len(), 30);
    let before = c.requests_sent();
    let all = c.list::<ConferenceAlias>(&[]).await.unwrap();
    assert_eq!(all.len(), 230);
    assert_eq!(c.requests_sent() - before, 2, "pages of 200: two requests");
    assert_eq!(all[229].alias, "a229");
}

#[tokio::test]
async fn a_33_character_name_is_a_field_error() {
    let env = common::env().await;
    let c = &env.client;
    let loc = c
        .create::<SystemLocation>(&json!({"name": "Frankfurt"}))
        .await
        .unwrap();
    let err = c
        .create::<WorkerVm>(&json!({
            "name": "n".repeat(33), "hostname": "pexconf01", "domain": "example.com",
            "address": "10.0.1.31", "netmask": "255.255.255.0", "gateway": "10.0.1.1",
            "system_location": loc.as_str(), "password": crypt::sha512_crypt(b"pw", "salt", None),
        }))
        .await
        .unwrap_err();
    match &err {
        PexipError::Validation { kind, fields, .. } => {
            assert_eq!(kind, "worker_vm");
            assert_eq!(
                fields["name"],
                vec!["Ensure this value has at most 32 characters (it has 33)."]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::UserInput);
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "the Management Node refused the `worker_vm`: `name`: Ensure this value has at most 32 characters (it has 33)"
    );
}

#[tokio::test]
async fn wrong_password_is_an_auth_error() {
    let env = common::env().await;
    let client = Client::new(ClientOptions::new(
        env.sim.base_url(),
        Secret::new("wrong"),
        common::pinned(&env.sim),
    ))
    .unwrap();
    let err = client.list::<DnsServer>(&[]).await.unwrap_err();
    assert!(
        matches!(err, PexipError::Auth { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("wrong"));
    assert_eq!(client.requests_sent(), 1, "auth failures are not retried");
}
