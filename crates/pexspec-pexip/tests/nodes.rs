//! Conferencing Nodes against the simulator: the bootstrap file stored durably before the
//! create returns, uploaded to the node's form, `SYNCED` on (paused) simulated time; crash
//! survival; maintenance mode and drain.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use pexspec_pexip::*;

async fn location(c: &Client) -> ResourceUri {
    let spec = SystemLocationSpec {
        name: "Frankfurt".into(),
        description: String::new(),
        dns_servers: vec![],
        ntp_servers: vec![],
        mtu: None,
    };
    ensure(c, &spec)
        .await
        .unwrap()
        .object()
        .resource_uri
        .clone()
}

fn spec(location: ResourceUri) -> WorkerVmSpec {
    WorkerVmSpec {
        name: "pexconf01".into(),
        description: String::new(),
        role: NodeRole::Transcoding,
        hostname: "pexconf01".into(),
        domain: "example.com".into(),
        address: Ipv4Addr::new(10, 0, 1, 31),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        gateway: Ipv4Addr::new(10, 0, 1, 1),
        static_nat_address: Some(Ipv4Addr::new(203, 0, 113, 31)),
        sip_tls_fqdn: Some("pexconf01.example.com".into()),
        system_location: location,
        tls_certificate: None,
        ipv6_address: None,
        ipv6_gateway: None,
        ssh_password: Secret::new("node-ssh-password"),
        enable_distributed_database: true,
    }
}

fn upload_opts(sim: &pexspec_sim::pexip::PexipSim) -> UploadOptions {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "10.0.1.31".to_owned(),
        sim.bootstrap_urls()["pexconf01"].clone(),
    );
    UploadOptions {
        overrides,
        ..UploadOptions::default()
    }
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

#[tokio::test(start_paused = true)]
async fn create_store_upload_and_sync() {
    let env = common::env().await;
    let c = &env.client;
    let store = BootstrapStore::new(env.dir.path().join("bootstrap"));
    let created = create_worker_vm(c, &spec(location(c).await), &store)
        .await
        .unwrap();
    assert_eq!(created.node.name, "pexconf01");
    assert_eq!(
        created.stored_at,
        store.path("pexconf01").display().to_string()
    );
    // Sent on create, never returned (the API's write-only fields).
    assert_eq!(created.node.deployment_type, "");
    assert_eq!(
        created.node.alternative_fqdn.as_deref(),
        Some("pexconf01.example.com")
    );
    assert_eq!(
        created.node.static_nat_address.as_deref(),
        Some("203.0.113.31")
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path("pexconf01"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the bootstrap file is private");
        let dir_mode = std::fs::metadata(env.dir.path().join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }
    let file = store.load("pexconf01").unwrap().unwrap();
    let text = String::from_utf8_lossy(file.expose()).into_owned();
    assert!(text.contains("<conferencing-node-config"));
    assert!(!text.contains("node-ssh-password"), "only the hash travels");
    assert!(!format!("{file:?}").contains("conferencing-node-config"));

    let receipt = upload_bootstrap("10.0.1.31", &file, &upload_opts(&env.sim))
        .await
        .unwrap();
    assert!(
        receipt.fingerprint.is_some(),
        "first use reports the node's certificate"
    );

    let start = tokio::time::Instant::now();
    let status = wait_synced(
        c,
        "pexconf01",
        WaitOptions::new(minutes(15), Duration::from_secs(15)),
    )
    .await
    .unwrap();
    assert_eq!(status.sync_status, "SYNCED");
    let waited = start.elapsed();
    assert!(
        waited >= minutes(5) && waited < minutes(6),
        "about 5 simulated minutes: {waited:?}"
    );

    // ensure_worker_vm on the existing node: nothing to do.
    let again = ensure_worker_vm(
        c,
        &spec(created.node.system_location.clone().unwrap()),
        &store,
    )
    .await
    .unwrap();
    assert!(!again.changed());
}

#[tokio::test(start_paused = true)]
async fn a_node_never_uploaded_times_out_with_what_to_check() {
    let env = common::env().await;
    let c = &env.client;
    let store = BootstrapStore::new(env.dir.path().join("bootstrap"));
    create_worker_vm(c, &spec(location(c).await), &store)
        .await
        .unwrap();
    let err = wait_synced(
        c,
        "pexconf01",
        WaitOptions::new(minutes(10), Duration::from_secs(30)),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PexipError::Timeout { .. }), "{err:?}");
    assert!(text.contains("timed out after 600s"), "{text}");
    assert!(text.contains("last contacted: never"), "{text}");
    assert!(
        text.contains("about 5 minutes") && text.contains("8443"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_bootstrap_survives_a_crash_between_create_and_upload() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = common::Strict::new(dir.path());
    let store_dir = dir.path().join("bootstrap");
    {
        // First "process": creates the node, then dies before uploading.
        let sim = pexspec_sim::pexip::start(common::sim_options(dir.path()))
            .await
            .unwrap();
        let c = common::client(&sim, common::pinned(&sim));
        let store = BootstrapStore::new(&store_dir);
        create_worker_vm(&c, &spec(location(&c).await), &store)
            .await
            .unwrap();
        drop(c);
        drop(store);
        sim.stop().await;
    }
    // Second "process": nothing shared in memory; the simulator restarts from its state dir.
    let sim = pexspec_sim::pexip::start(common::sim_options(dir.path()))
        .await
        .unwrap();
    let c = common::client(&sim, common::pinned(&sim));
    let node = find(&c, &spec(ResourceUri::default()))
        .await
        .unwrap()
        .expect("the node exists");
    let status = node_status(&c, &node.name).await.unwrap().unwrap();
    assert_ne!(status.sync_status, "SYNCED");
    let file = BootstrapStore::new(&store_dir)
        .load("pexconf01")
        .unwrap()
        .expect("the file survived");
    upload_bootstrap(&node.address, &file, &upload_opts(&sim))
        .await
        .unwrap();
    wait_synced(
        &c,
        "pexconf01",
        WaitOptions::new(minutes(10), Duration::from_secs(10)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn fields_baked_into_the_bootstrap_need_a_replacement() {
    let env = common::env().await;
    let c = &env.client;
    let store = BootstrapStore::new(env.dir.path().join("bootstrap"));
    let loc = location(c).await;
    ensure_worker_vm(c, &spec(loc.clone()), &store)
        .await
        .unwrap();

    let mut moved = spec(loc.clone());
    moved.address = Ipv4Addr::new(10, 0, 1, 32);
    let err = ensure_worker_vm(c, &moved, &store).await.unwrap_err();
    assert!(
        matches!(&err, PexipError::NeedsReplacement { fields, .. } if fields == &["address"]),
        "{err:?}"
    );

    let mut renamed_fqdn = spec(loc);
    renamed_fqdn.sip_tls_fqdn = Some("sip.example.com".into());
    match ensure_worker_vm(c, &renamed_fqdn, &store).await.unwrap() {
        Ensured::Updated { object, .. } => {
            assert_eq!(object.alternative_fqdn.as_deref(), Some("sip.example.com"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_node_names_the_security_list() {
    let env = common::env().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut opts = UploadOptions {
        retry: RetryPolicy::none(),
        ..UploadOptions::default()
    };
    opts.overrides
        .insert("10.0.1.31".into(), format!("https://127.0.0.1:{port}/"));
    let file = BootstrapFile::new("pexconf01", b"<x/>".to_vec());
    let err = upload_bootstrap("10.0.1.31", &file, &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, PexipError::Network { .. }));
    assert!(
        err.to_string().contains("security list allows TCP 8443"),
        "{err}"
    );
    drop(env);
}

async fn synced_node(env: &common::Env) -> WorkerVm {
    let c = &env.client;
    let store = BootstrapStore::new(env.dir.path().join("bootstrap"));
    let created = create_worker_vm(c, &spec(location(c).await), &store)
        .await
        .unwrap();
    let file = store.load("pexconf01").unwrap().unwrap();
    upload_bootstrap("10.0.1.31", &file, &upload_opts(&env.sim))
        .await
        .unwrap();
    wait_synced(
        c,
        "pexconf01",
        WaitOptions::new(minutes(10), Duration::from_secs(10)),
    )
    .await
    .unwrap();
    created.node
}

#[tokio::test(start_paused = true)]
async fn maintenance_then_drain_waits_for_conferences_to_end() {
    let env = common::env().await;
    let c = &env.client;
    let node = synced_node(&env).await;
    env.sim
        .start_conference("pexconf01", "Board room", 3, minutes(12))
        .await
        .unwrap();
    env.sim
        .start_conference("pexconf01", "Stand-up", 2, minutes(4))
        .await
        .unwrap();

    let opts = WaitOptions::new(minutes(30), Duration::from_secs(30));
    let err = drain(c, &node, opts, false).await.unwrap_err();
    assert!(err.to_string().contains("maintenance mode"), "{err}");

    set_maintenance(c, &node.resource_uri, true, "pexspec node stop")
        .await
        .unwrap();
    let status = node_status(c, "pexconf01").await.unwrap().unwrap();
    assert!(status.maintenance_mode);
    assert_eq!(status.maintenance_mode_reason, "pexspec node stop");
    let refused = env
        .sim
        .start_conference("pexconf01", "Late", 1, minutes(1))
        .await;
    assert!(
        refused.is_err(),
        "no new conference instances in maintenance mode"
    );

    let report = drain(c, &node, opts, false).await.unwrap();
    assert!(!report.forced);
    assert_eq!(report.participants, 0);
    assert!(
        report.waited >= minutes(12) && report.waited < minutes(13),
        "{:?}",
        report.waited
    );

    set_maintenance(c, &node.resource_uri, false, "")
        .await
        .unwrap();
    let status = node_status(c, "pexconf01").await.unwrap().unwrap();
    assert!(!status.maintenance_mode);
}

#[tokio::test(start_paused = true)]
async fn drain_times_out_naming_the_conferences_and_force_does_not_wait() {
    let env = common::env().await;
    let c = &env.client;
    let node = synced_node(&env).await;
    env.sim
        .start_conference("pexconf01", "All-hands", 40, minutes(120))
        .await
        .unwrap();
    set_maintenance(c, &node.resource_uri, true, "stop")
        .await
        .unwrap();

    let err = drain(
        c,
        &node,
        WaitOptions::new(minutes(15), Duration::from_secs(60)),
        false,
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("40 participants") && text.contains("`All-hands`"),
        "{text}"
    );
    assert!(text.contains("timed out after 900s"), "{text}");

    let before = c.requests_sent();
    let start = tokio::time::Instant::now();
    let report = drain(
        c,
        &node,
        WaitOptions::new(minutes(15), Duration::from_secs(60)),
        true,
    )
    .await
    .unwrap();
    assert!(report.forced);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(c.requests_sent(), before);
}
