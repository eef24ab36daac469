//! Image upload against the OCI simulator: a re-run finds the object already in the bucket
//! through the headers the real service sends on HeadObject (`content-md5` for an object put
//! in one request, `opc-multipart-md5` for a multipart one) and sends nothing again; other
//! bytes of the same size are uploaded again.

use std::collections::BTreeMap;

use pexspec_oci::models::CreateBucketDetails;
use pexspec_oci::{
    Endpoints, LoadOptions, NoProgress, ObjectLocation, OciClient, OciConfig, UploadOptions,
    UploadOutcome, upload_file,
};
use pexspec_sim::{RunningSim, ServeOptions, serve};

const KIB: u64 = 1024;

async fn world() -> (RunningSim, OciClient, String) {
    let sim = serve(ServeOptions::default()).await.unwrap();
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
    let client = OciClient::new(&config, endpoints).unwrap();
    let ns = client.get_namespace().await.unwrap();
    client
        .create_bucket(
            &ns,
            &CreateBucketDetails {
                name: "images".into(),
                compartment_id: client.tenancy_id().to_owned(),
                ..CreateBucketDetails::default()
            },
        )
        .await
        .unwrap();
    (sim, client, ns)
}

fn file(dir: &tempfile::TempDir, name: &str, len: u64, seed: u8) -> std::path::PathBuf {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ seed).collect();
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn options() -> UploadOptions {
    UploadOptions {
        part_size: 64 * KIB,
        parallelism: 2,
        metadata: BTreeMap::from([("pexspec-stack".to_owned(), "test".to_owned())]),
        ..UploadOptions::default()
    }
}

/// Sends of object bytes so far: PutObject and UploadPart calls.
fn sends(sim: &RunningSim) -> u64 {
    let s = sim.stats();
    s.get("PutObject").copied().unwrap_or(0) + s.get("UploadPart").copied().unwrap_or(0)
}

#[tokio::test]
async fn a_rerun_finds_an_object_put_in_one_request_and_sends_nothing() {
    let (sim, client, namespace) = world().await;
    let dir = tempfile::tempdir().unwrap();
    let small = file(&dir, "small.ova", 3 * KIB, 1);
    let at = ObjectLocation {
        namespace,
        bucket: "images".into(),
        object: "small.ova".into(),
    };
    let first = upload_file(&client, &at, &small, &options(), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(first, UploadOutcome::Uploaded { parts: 1, .. }),
        "{first:?}"
    );
    assert_eq!(sends(&sim), 1);
    let head = client
        .head_object(&at.namespace, &at.bucket, &at.object)
        .await
        .unwrap()
        .unwrap();
    assert!(
        head.content_md5.is_some() && head.multipart_md5.is_none(),
        "{head:?}"
    );

    let again = upload_file(&client, &at, &small, &options(), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(again, UploadOutcome::AlreadyPresent { .. }),
        "{again:?}"
    );
    assert_eq!(sends(&sim), 1, "the re-run sent the object again");

    // The same size with other bytes is not the same object.
    let other = file(&dir, "other.ova", 3 * KIB, 2);
    let replaced = upload_file(&client, &at, &other, &options(), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(replaced, UploadOutcome::Uploaded { .. }),
        "{replaced:?}"
    );
    assert_eq!(sends(&sim), 2);
}

#[tokio::test]
async fn a_rerun_finds_a_multipart_object_and_sends_nothing() {
    let (sim, client, namespace) = world().await;
    let dir = tempfile::tempdir().unwrap();
    let big = file(&dir, "big.ova", 3 * 64 * KIB + 5, 3);
    let at = ObjectLocation {
        namespace,
        bucket: "images".into(),
        object: "big.ova".into(),
    };
    let first = upload_file(&client, &at, &big, &options(), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(first, UploadOutcome::Uploaded { parts: 4, .. }),
        "{first:?}"
    );
    assert_eq!(sends(&sim), 4);
    let head = client
        .head_object(&at.namespace, &at.bucket, &at.object)
        .await
        .unwrap()
        .unwrap();
    assert!(
        head.content_md5.is_none()
            && head
                .multipart_md5
                .as_deref()
                .is_some_and(|m| m.ends_with("-4")),
        "{head:?}"
    );

    let again = upload_file(&client, &at, &big, &options(), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(again, UploadOutcome::AlreadyPresent { .. }),
        "{again:?}"
    );
    assert_eq!(sends(&sim), 4, "the re-run sent parts again");
}
