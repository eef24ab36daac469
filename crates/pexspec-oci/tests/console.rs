//! Instance console connections against the OCI simulator, in process on 127.0.0.1 with a
//! manual clock that the client's own waits advance: the operations on the wire, the lifecycle
//! (CREATING → ACTIVE, DELETING → DELETED, closed with the instance), and
//! `ensure_console_connection` / `ConsoleLookup`, which reuse a usable connection instead of
//! making a second one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pexspec_graph::{Address, Kind};
use pexspec_oci::models::*;
use pexspec_oci::provider::{CompartmentLocator, OciProvider, OciSettings, RelativeTo};
use pexspec_oci::{
    ClientOptions, Clock, ConsoleLookup, Endpoints, LoadOptions, OciClient, OciConfig, PollOptions,
    SleepFuture, UploadOptions, ensure_console_connection, ssh_key_fingerprint,
};
use pexspec_plan::ProviderError;
use pexspec_sim::{RunningSim, ServeOptions, SimClock, serve};

const REGION: &str = "eu-frankfurt-1";
const STACK: &str = "consoletest";

/// The client's clock is the simulator's manual clock: a poll's sleep moves simulated time.
#[derive(Debug)]
struct SimTime {
    sim: SimClock,
    origin_ms: i64,
}

impl Clock for SimTime {
    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.sim.now_ms() - self.origin_ms).unwrap_or(0))
    }

    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        self.sim.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

/// An OpenSSH public key line whose blob is well formed (the simulator checks the form, not
/// the RSA maths).
fn ssh_key(seed: u8) -> String {
    let mut blob = Vec::new();
    for part in [b"ssh-rsa".as_slice(), &[1, 0, 1], &[seed; 64]] {
        blob.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!("ssh-rsa {} operator@workstation\n", STANDARD.encode(blob))
}

struct World {
    sim: RunningSim,
    client: OciClient,
    compartment: String,
    instance: String,
}

fn poll() -> PollOptions {
    PollOptions {
        initial_interval: Duration::from_secs(1),
        max_interval: Duration::from_secs(5),
        timeout: Duration::from_secs(120),
    }
}

/// A compartment tagged for the stack, a network, an imported image and one running instance
/// tagged `instance[pexmgr]`.
async fn world() -> World {
    let sim = serve(ServeOptions::default().clock(SimClock::manual()))
        .await
        .unwrap();
    let config = OciConfig::load(
        &LoadOptions {
            config_file: Some(sim.config_file().to_path_buf()),
            profile: Some(sim.profile().to_owned()),
        },
        &BTreeMap::<String, String>::new(),
    )
    .unwrap();
    let endpoints = Endpoints::from_overrides(
        sim.endpoints()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .unwrap();
    let clock = Arc::new(SimTime {
        sim: sim.clock().clone(),
        origin_ms: sim.clock().now_ms(),
    });
    let client = OciClient::with_options(
        &config,
        endpoints,
        ClientOptions {
            clock,
            seed: Some(11),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let advance = |secs| sim.clock().advance(Duration::from_secs(secs));

    let compartment = client
        .create_compartment(
            &CreateCompartmentDetails {
                compartment_id: client.tenancy_id().to_owned(),
                name: "pexip-console".into(),
                description: "console connection tests".into(),
                freeform_tags: pexspec_tags(
                    STACK,
                    &Address::singleton(Kind::Compartment).to_string(),
                ),
            },
            None,
        )
        .await
        .unwrap()
        .id;
    advance(60);
    let vcn = client
        .create_vcn(
            &CreateVcnDetails {
                compartment_id: compartment.clone(),
                cidr_blocks: vec!["10.0.0.0/16".into()],
                ..CreateVcnDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    advance(10);
    let subnet = client
        .create_subnet(
            &CreateSubnetDetails {
                compartment_id: compartment.clone(),
                vcn_id: vcn.id,
                cidr_block: "10.0.0.0/24".into(),
                ..CreateSubnetDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    advance(10);
    let ns = client.get_namespace().await.unwrap();
    client
        .create_bucket(
            &ns,
            &CreateBucketDetails {
                name: "images".into(),
                compartment_id: compartment.clone(),
                ..CreateBucketDetails::default()
            },
        )
        .await
        .unwrap();
    client
        .put_object(
            &ns,
            "images",
            "pexip.vmdk",
            vec![7u8; 4096].into(),
            &Default::default(),
        )
        .await
        .unwrap();
    let image = client
        .create_image(
            &CreateImageDetails {
                compartment_id: compartment.clone(),
                display_name: Some("pexip".into()),
                image_source_details: Some(ImageSourceDetails::ObjectStorageTuple {
                    namespace_name: ns,
                    bucket_name: "images".into(),
                    object_name: "pexip.vmdk".into(),
                    source_image_type: Some(SourceImageType::Vmdk),
                    operating_system: Some("Linux".into()),
                    operating_system_version: None,
                }),
                instance_id: None,
                launch_mode: Some(LaunchMode::Paravirtualized),
                freeform_tags: BTreeMap::new(),
            },
            None,
        )
        .await
        .unwrap()
        .resource;
    advance(23 * 60);
    let ad = client
        .list_availability_domains(client.tenancy_id())
        .await
        .unwrap()
        .remove(0)
        .name;
    let instance = client
        .launch_instance(
            &LaunchInstanceDetails {
                availability_domain: ad,
                compartment_id: compartment.clone(),
                create_vnic_details: Some(CreateVnicDetails {
                    assign_public_ip: Some(false),
                    subnet_id: Some(subnet.id),
                    ..CreateVnicDetails::default()
                }),
                display_name: Some("pexmgr".into()),
                fault_domain: None,
                hostname_label: None,
                metadata: BTreeMap::new(),
                extended_metadata: None,
                shape: "VM.Standard2.4".into(),
                shape_config: None,
                source_details: Some(InstanceSourceDetails::Image {
                    image_id: image.id,
                    boot_volume_size_in_gbs: None,
                    boot_volume_vpus_per_gb: None,
                }),
                freeform_tags: pexspec_tags(STACK, "instance[pexmgr]"),
            },
            None,
        )
        .await
        .unwrap()
        .resource
        .id;
    advance(120);
    World {
        sim,
        client,
        compartment,
        instance,
    }
}

#[tokio::test]
async fn a_connection_is_created_listed_and_deleted_on_the_wire() {
    let w = world().await;
    let c = &w.client;
    let key = ssh_key(1);
    let made = c
        .create_instance_console_connection(
            &CreateInstanceConsoleConnectionDetails {
                instance_id: w.instance.clone(),
                public_key: key.clone(),
                freeform_tags: BTreeMap::from([("purpose".to_owned(), "wizard".to_owned())]),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(made.lifecycle_state, LifecycleState::Creating);
    assert!(made.etag.is_some());
    assert_eq!(
        made.compartment_id, w.compartment,
        "the instance's compartment"
    );
    assert_eq!(made.freeform_tags["purpose"], "wizard");
    assert!(
        made.id
            .starts_with("ocid1.instanceconsoleconnection.oc1.eu-frankfurt-1.")
    );
    let proxy = format!(
        "ssh -o ProxyCommand='ssh -W %h:%p -p 443 {}@instance-console.{REGION}.oci.oraclecloud.com'",
        made.id
    );
    assert_eq!(
        made.connection_string.as_deref(),
        Some(format!("{proxy} {}", w.instance).as_str())
    );
    assert_eq!(
        made.vnc_connection_string.as_deref(),
        Some(format!("{proxy} -N -L localhost:5900:{0}:5900 {0}", w.instance).as_str())
    );
    assert_eq!(made.fingerprint, ssh_key_fingerprint(&key));
    assert!(
        made.service_host_key_fingerprint
            .as_deref()
            .is_some_and(|f| f.starts_with("SHA256:"))
    );

    w.sim.clock().advance(Duration::from_secs(10));
    let got = c.get_instance_console_connection(&made.id).await.unwrap();
    assert_eq!(got.lifecycle_state, LifecycleState::Active);

    // Listing is by compartment, filtered by instance.
    let listed = c
        .list_instance_console_connections(&w.compartment, Some(&w.instance))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        [made.id.as_str()]
    );
    let other = c
        .list_instance_console_connections(
            &w.compartment,
            Some("ocid1.instance.oc1.eu-frankfurt-1.other"),
        )
        .await
        .unwrap();
    assert!(other.is_empty());
    assert_eq!(
        c.list_instance_console_connections(&w.compartment, None)
            .await
            .unwrap()
            .len(),
        1
    );

    // An unknown instance is 404; a key that is not an OpenSSH public key is 400.
    let unknown = c
        .create_instance_console_connection(
            &CreateInstanceConsoleConnectionDetails {
                instance_id: "ocid1.instance.oc1.eu-frankfurt-1.missing".into(),
                public_key: key.clone(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(unknown.is_not_found(), "{unknown}");
    let bad = c
        .create_instance_console_connection(
            &CreateInstanceConsoleConnectionDetails {
                instance_id: w.instance.clone(),
                public_key: "not a key".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400), "{bad}");

    // Delete: DELETING, then DELETED; a second delete is a no-op.
    c.delete_instance_console_connection(&made.id, got.etag.as_deref())
        .await
        .unwrap();
    let deleting = c.get_instance_console_connection(&made.id).await.unwrap();
    assert_eq!(deleting.lifecycle_state, LifecycleState::Deleting);
    c.delete_instance_console_connection(&made.id, None)
        .await
        .unwrap();
    w.sim.clock().advance(Duration::from_secs(10));
    let deleted = c.get_instance_console_connection(&made.id).await.unwrap();
    assert_eq!(deleted.lifecycle_state, LifecycleState::Deleted);
}

#[tokio::test]
async fn ensure_reuses_a_usable_connection_and_waits_for_a_new_one() {
    let w = world().await;
    let key = ssh_key(1);
    let first = ensure_console_connection(
        &w.client,
        REGION,
        &w.compartment,
        &w.instance,
        &key,
        &poll(),
    )
    .await
    .unwrap();
    assert!(!first.reused);
    assert!(first.connection_string.ends_with(&w.instance));
    assert!(first.connection_string.contains(&first.id));
    assert_eq!(first.fingerprint, ssh_key_fingerprint(&key));
    let active = w
        .client
        .get_instance_console_connection(&first.id)
        .await
        .unwrap();
    assert_eq!(active.lifecycle_state, LifecycleState::Active, "it waited");

    // A re-run finds it: no second connection.
    let again = ensure_console_connection(
        &w.client,
        REGION,
        &w.compartment,
        &w.instance,
        &key,
        &poll(),
    )
    .await
    .unwrap();
    assert!(again.reused);
    assert_eq!(again.id, first.id);
    let count = |w: &World| {
        let c = w.client.clone();
        let (comp, inst) = (w.compartment.clone(), w.instance.clone());
        async move {
            c.list_instance_console_connections(&comp, Some(&inst))
                .await
                .unwrap()
                .into_iter()
                .filter(|x| !x.lifecycle_state.is_gone())
                .count()
        }
    };
    assert_eq!(count(&w).await, 1);

    // Another key cannot use it: a connection of its own.
    let other = ensure_console_connection(
        &w.client,
        REGION,
        &w.compartment,
        &w.instance,
        &ssh_key(2),
        &poll(),
    )
    .await
    .unwrap();
    assert!(!other.reused);
    assert_ne!(other.id, first.id);
    assert_eq!(count(&w).await, 2);

    // A deleted connection is not reused.
    w.client
        .delete_instance_console_connection(&first.id, None)
        .await
        .unwrap();
    let fresh = ensure_console_connection(
        &w.client,
        REGION,
        &w.compartment,
        &w.instance,
        &key,
        &poll(),
    )
    .await
    .unwrap();
    assert!(!fresh.reused);
    assert_ne!(fresh.id, first.id);

    // A key that is not one is refused before anything is sent.
    let err = ensure_console_connection(
        &w.client,
        REGION,
        &w.compartment,
        &w.instance,
        "-----BEGIN PUBLIC KEY-----",
        &poll(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("OpenSSH public key"), "{err}");

    // Terminating the instance closes its connections.
    w.client
        .terminate_instance(&w.instance, false, None)
        .await
        .unwrap();
    assert_eq!(count(&w).await, 0);
}

#[tokio::test]
async fn the_lookup_finds_the_stacks_instance_by_its_tags() {
    let w = world().await;
    let settings = OciSettings {
        home_region: REGION.into(),
        compartment: CompartmentLocator {
            name: "pexip-console".into(),
            parent: "root".into(),
        },
        objects: BTreeMap::new(),
        bucket: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(OciProvider::new(
        w.client.clone(),
        settings,
        Arc::new(RelativeTo(dir.path().to_path_buf())),
        UploadOptions::default(),
        PollOptions::default(),
    ));
    let key = ssh_key(3);
    let lookup = ConsoleLookup::new(Arc::clone(&provider), key.clone()).with_poll(poll());
    assert!(
        format!("{lookup:?}").contains("SHA256:"),
        "Debug shows the key's fingerprint"
    );
    let manager = Address::new(Kind::Instance, "pexmgr");
    // The binary hands the lookup to the Pexip provider as a boxed `Send` future.
    fn send<T: Send>(t: T) -> T {
        t
    }
    let got = send(lookup.connect(STACK, &manager, Some(REGION)))
        .await
        .unwrap();
    assert!(!got.reused);
    assert_eq!(got.instance_id, w.instance);
    let again = lookup.connect(STACK, &manager, None).await.unwrap();
    assert_eq!((again.reused, again.id.as_str()), (true, got.id.as_str()));

    let missing = lookup
        .connect(
            STACK,
            &Address::new(Kind::Instance, "pexconf01"),
            Some(REGION),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(missing, ProviderError::NotFound { .. }),
        "{missing:?}"
    );
    let elsewhere = lookup
        .connect("another-stack", &manager, Some(REGION))
        .await
        .unwrap_err();
    assert!(
        matches!(elsewhere, ProviderError::NotFound { .. }),
        "{elsewhere:?}"
    );
    let not_an_instance = lookup
        .connect(STACK, &Address::singleton(Kind::Vcn), Some(REGION))
        .await
        .unwrap_err();
    assert!(matches!(not_an_instance, ProviderError::Internal { .. }));
}
