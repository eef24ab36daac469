//! Idempotent ensure: a second run sends nothing; the wizard's DNS and NTP servers are adopted
//! by address, never duplicated.

mod common;

use pexspec_pexip::*;

fn platform(dns: Vec<ResourceUri>, ntp: Vec<ResourceUri>) -> SystemLocationSpec {
    SystemLocationSpec {
        name: "Frankfurt".into(),
        description: String::new(),
        dns_servers: dns,
        ntp_servers: ntp,
        mtu: None,
    }
}

async fn apply(c: &Client, pem: &str, key: &str) -> Vec<bool> {
    let mut changed = Vec::new();
    let dns = ensure(
        c,
        &DnsServerSpec {
            address: "169.254.169.254".into(),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    changed.push(dns.changed());
    let mut ntp_uris = Vec::new();
    for address in ["169.254.169.254", "0.pool.ntp.org", "1.pool.ntp.org"] {
        let e = ensure(
            c,
            &NtpServerSpec {
                address: address.into(),
                description: String::new(),
            },
        )
        .await
        .unwrap();
        changed.push(e.changed());
        ntp_uris.push(e.object().resource_uri.clone());
    }
    let loc = ensure(
        c,
        &platform(vec![dns.object().resource_uri.clone()], ntp_uris),
    )
    .await
    .unwrap();
    changed.push(loc.changed());
    let lic = ensure(
        c,
        &LicenceSpec {
            entitlement_id: Secret::new("ENT-AAAA-BBBB"),
            offline_mode: false,
        },
    )
    .await
    .unwrap();
    changed.push(lic.changed());
    let cert = TlsCertificateSpec::new(pem, Secret::new(key), None).unwrap();
    changed.push(ensure(c, &cert).await.unwrap().changed());
    let room = ConferenceSpec {
        name: "Board room".into(),
        description: String::new(),
        pin: Some(Secret::new("1234")),
        guest_pin: None,
        allow_guests: false,
    };
    let room = ensure(c, &room).await.unwrap();
    changed.push(room.changed());
    for alias in ["board@example.com", "5551234"] {
        let spec = ConferenceAliasSpec {
            alias: alias.into(),
            conference: room.object().resource_uri.clone(),
            description: String::new(),
        };
        changed.push(ensure(c, &spec).await.unwrap().changed());
    }
    changed
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let env = common::env().await;
    let (pem, key) = common::cert("pexconf01.example.com");
    let first = apply(&env.client, &pem, &key).await;
    // The wizard's DNS server and first NTP server are adopted; everything else is created.
    assert_eq!(
        first,
        [false, false, true, true, true, true, true, true, true, true]
    );
    let after_first = env.sim.api_calls();
    assert_eq!(after_first.post, 8);

    let second = apply(&env.client, &pem, &key).await;
    assert!(second.iter().all(|c| !c), "{second:?}");
    let after_second = env.sim.api_calls();
    assert_eq!(
        after_second.mutations(),
        after_first.mutations(),
        "the second run wrote nothing"
    );

    let c = &env.client;
    assert_eq!(
        c.list::<DnsServer>(&[]).await.unwrap().len(),
        1,
        "the wizard's DNS server was not duplicated"
    );
    assert_eq!(c.list::<NtpServer>(&[]).await.unwrap().len(), 3);
    assert_eq!(c.list::<Licence>(&[]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn drift_is_patched_field_by_field() {
    let env = common::env().await;
    let c = &env.client;
    let mut room = ConferenceSpec {
        name: "Board room".into(),
        description: "old".into(),
        pin: Some(Secret::new("1234")),
        guest_pin: None,
        allow_guests: false,
    };
    ensure(c, &room).await.unwrap();
    room.description = "new".into();
    room.pin = Some(Secret::new("4321"));
    let before = env.sim.api_calls();
    match ensure(c, &room).await.unwrap() {
        Ensured::Updated { object, changes } => {
            let fields: Vec<&str> = changes.iter().map(|ch| ch.field).collect();
            assert_eq!(fields, ["description", "pin"]);
            assert_eq!(object.pin, Secret::new("4321"));
            assert!(!format!("{changes:?}").contains("4321"), "PINs never show");
        }
        other => panic!("{other:?}"),
    }
    let after = env.sim.api_calls();
    assert_eq!(
        (after.patch - before.patch, after.post - before.post),
        (1, 0)
    );

    assert!(ensure_absent(c, &room).await.unwrap());
    assert!(!ensure_absent(c, &room).await.unwrap());
}

#[tokio::test]
async fn licence_keys_never_reach_a_url_or_a_message() {
    let env = common::env().await;
    let spec = LicenceSpec {
        entitlement_id: Secret::new("ENT-SECRET-KEY-99"),
        offline_mode: false,
    };
    let created = ensure(&env.client, &spec).await.unwrap();
    assert!(created.changed());
    assert!(!format!("{created:?}").contains("ENT-SECRET"));
    assert!(spec.natural_key().starts_with("licence sha256:"));
    assert!(!spec.natural_key().contains("ENT-SECRET"));
}
