//! Image upload against a small Object Storage fake written here: single PutObject, parallel
//! multipart with bounded concurrency, resume after an interruption, skipping an object that is
//! already there, and checksum checks.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use md5::{Digest as _, Md5};
use pexspec_oci::{
    ErrorClass, NoProgress, ObjectLocation, OciError, TransferProgress, UploadOptions,
    UploadOutcome, UploadPhase, upload_file,
};
use serde_json::json;

const KIB: u64 = 1024;

fn b64md5(data: &[u8]) -> String {
    STANDARD.encode(Md5::digest(data))
}

#[derive(Debug, Clone)]
struct Part {
    data: Vec<u8>,
    md5: String,
    etag: String,
}

/// An object: data, `content-md5` (single put), `opc-multipart-md5` (committed upload).
type Object = (Vec<u8>, Option<String>, Option<String>);

#[derive(Debug, Default)]
struct Store {
    /// name → (data, content-md5 for single puts, multipart md5 for committed uploads).
    objects: BTreeMap<String, Object>,
    /// upload id → (object, creation order, parts).
    uploads: BTreeMap<String, (String, u32, BTreeMap<u32, Part>)>,
    next: u32,
    fail_part: Option<u32>,
    lie_about_part_md5: Option<u32>,
    part_puts: Vec<u32>,
    object_puts: u32,
    commits: Vec<serde_json::Value>,
}

type Shared = Arc<Mutex<Store>>;

fn object_name(path: &str, kind: &str) -> Option<String> {
    path.strip_prefix("/n/ns/b/images/")?
        .strip_prefix(kind)?
        .strip_prefix('/')
        .map(str::to_string)
}

fn handle(store: &Shared, r: &Recorded) -> Reply {
    if let Err(e) = &r.signature {
        return Reply::error(401, "NotAuthenticated", e);
    }
    let mut s = store.lock().unwrap();
    let p = r.path().to_string();
    match r.method.as_str() {
        "HEAD" => match object_name(&p, "o").and_then(|n| s.objects.get(&n).cloned()) {
            Some((data, md5, mp)) => {
                let mut reply = Reply::empty(200)
                    .with("etag", "object-etag")
                    .with("content-length", &data.len().to_string());
                if let Some(m) = md5 {
                    reply = reply.with("content-md5", &m);
                }
                if let Some(m) = mp {
                    reply = reply.with("opc-multipart-md5", &m);
                }
                reply
            }
            None => Reply::empty(404),
        },
        "PUT" if p.contains("/o/") => {
            let name = object_name(&p, "o").unwrap();
            let md5 = b64md5(&r.body);
            if r.header("content-md5") != Some(md5.as_str()) {
                return Reply::error(400, "InvalidContentMD5", "bad md5");
            }
            s.object_puts += 1;
            s.objects
                .insert(name, (r.body.clone(), Some(md5.clone()), None));
            Reply::empty(200)
                .with("etag", "object-etag")
                .with("opc-content-md5", &md5)
        }
        "GET" if p == "/n/ns/b/images/u" => {
            let list: Vec<_> = s.uploads.iter().map(|(id, (obj, order, _))| json!({"namespace": "ns", "bucket": "images", "object": obj, "uploadId": id, "timeCreated": format!("2026-11-23T20:00:{order:02}.000Z")})).collect();
            Reply::json(200, json!(list))
        }
        "POST" if p == "/n/ns/b/images/u" => {
            s.next += 1;
            let id = format!("upload-{}", s.next);
            let object = r.json()["object"].as_str().unwrap().to_string();
            let order = s.next;
            s.uploads
                .insert(id.clone(), (object.clone(), order, BTreeMap::new()));
            Reply::json(
                200,
                json!({"namespace": "ns", "bucket": "images", "object": object, "uploadId": id, "timeCreated": "t"}),
            )
        }
        "PUT" if p.contains("/u/") => {
            let id = r.query("uploadId").unwrap();
            let n: u32 = r.query("uploadPartNum").unwrap().parse().unwrap();
            if s.fail_part == Some(n) {
                return Reply::error(400, "InvalidParameter", "injected failure");
            }
            let md5 = b64md5(&r.body);
            if r.header("content-md5") != Some(md5.as_str()) {
                return Reply::error(400, "InvalidContentMD5", "bad md5");
            }
            s.part_puts.push(n);
            let etag = format!("etag-{id}-{n}-{}", &md5[..8]);
            let Some((_, _, parts)) = s.uploads.get_mut(&id) else {
                return Reply::error(404, "NoSuchUpload", "no upload");
            };
            parts.insert(
                n,
                Part {
                    data: r.body.clone(),
                    md5: md5.clone(),
                    etag: etag.clone(),
                },
            );
            let answered = if s.lie_about_part_md5 == Some(n) {
                b64md5(b"something else")
            } else {
                md5
            };
            Reply::empty(200)
                .with("etag", &etag)
                .with("opc-content-md5", &answered)
        }
        "GET" if p.contains("/u/") => {
            let id = r.query("uploadId").unwrap();
            let parts = &s.uploads[&id].2;
            let list: Vec<_> = parts.iter().map(|(n, p)| json!({"partNumber": n, "etag": p.etag, "md5": p.md5, "size": p.data.len()})).collect();
            Reply::json(200, json!(list))
        }
        "POST" if p.contains("/u/") => {
            let id = r.query("uploadId").unwrap();
            let body = r.json();
            s.commits.push(body.clone());
            let Some((object, _, parts)) = s.uploads.remove(&id) else {
                return Reply::error(404, "NoSuchUpload", "no upload");
            };
            let commit: Vec<(u32, String)> = body["partsToCommit"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["partNum"].as_u64().unwrap() as u32,
                        p["etag"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let exclude: Vec<u32> = body["partsToExclude"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap() as u32)
                .collect();
            for n in parts.keys() {
                if !commit.iter().any(|(c, _)| c == n) && !exclude.contains(n) {
                    return Reply::error(
                        400,
                        "InvalidParameter",
                        &format!("part {n} neither committed nor excluded"),
                    );
                }
            }
            let mut data = Vec::new();
            let mut digests = Vec::new();
            for (n, etag) in &commit {
                let Some(part) = parts.get(n) else {
                    return Reply::error(400, "InvalidParameter", "unknown part");
                };
                if part.etag != *etag {
                    return Reply::error(400, "InvalidParameter", "etag mismatch");
                }
                data.extend_from_slice(&part.data);
                digests.extend_from_slice(&STANDARD.decode(&part.md5).unwrap());
            }
            let mp = format!("{}-{}", b64md5(&digests), commit.len());
            s.objects.insert(object, (data, None, Some(mp.clone())));
            Reply::empty(200)
                .with("etag", "object-etag")
                .with("opc-multipart-md5", &mp)
        }
        _ => Reply::error(404, "NotFound", "no route"),
    }
}

async fn fake() -> (TestServer, Shared) {
    let store: Shared = Arc::default();
    let s2 = store.clone();
    (TestServer::start(move |r| handle(&s2, r)).await, store)
}

fn location(name: &str) -> ObjectLocation {
    ObjectLocation {
        namespace: "ns".into(),
        bucket: "images".into(),
        object: name.into(),
    }
}

fn write_file(dir: &tempfile::TempDir, len: u64, seed: u8) -> (std::path::PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len)
        .map(|i| ((i * 31 + u64::from(seed) * 7) % 253) as u8)
        .collect();
    let path = dir.path().join(format!("image-{seed}.ova"));
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn opts(part_kib: u64, parallelism: usize) -> UploadOptions {
    UploadOptions {
        part_size: part_kib * KIB,
        parallelism,
        ..UploadOptions::default()
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<TransferProgress>>);

impl pexspec_oci::UploadProgress for Recorder {
    fn update(&self, p: &TransferProgress) {
        self.0.lock().unwrap().push(*p);
    }
}

#[tokio::test]
async fn a_small_file_is_one_put_with_content_md5() {
    let (server, store) = fake().await;
    let (client, _) = client(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = write_file(&dir, 10 * KIB, 1);
    let out = upload_file(
        &client,
        &location("images/small.ova"),
        &path,
        &opts(64, 2),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(
        matches!(
            out,
            UploadOutcome::Uploaded {
                parts: 1,
                resumed: false,
                ..
            }
        ),
        "{out:?}"
    );
    let s = store.lock().unwrap();
    assert_eq!(s.objects["images/small.ova"].0, data);
    assert_eq!(s.object_puts, 1);
    let put = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.signed_headers(), ["date", "(request-target)", "host"]);
    assert_eq!(put.header("content-md5"), Some(b64md5(&data).as_str()));
}

#[tokio::test]
async fn a_large_file_goes_in_parallel_parts_within_the_bound() {
    let (server, store) = fake().await;
    let (client, _) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = write_file(&dir, 10 * 64 * KIB + 5, 2);
    let progress = Recorder::default();
    let out = upload_file(
        &client,
        &location("big.ova"),
        &path,
        &opts(64, 3),
        &progress,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UploadOutcome::Uploaded {
            etag: Some("object-etag".into()),
            parts: 11,
            bytes_sent: data.len() as u64,
            bytes_reused: 0,
            resumed: false
        }
    );
    assert_eq!(store.lock().unwrap().objects["big.ova"].0, data);
    let in_flight = server
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (2..=3).contains(&in_flight),
        "parts in flight at once: {in_flight}"
    );
    for r in server.requests() {
        r.signature.as_ref().unwrap();
        assert!(r.header("transfer-encoding").is_none());
    }
    let events = progress.0.lock().unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (
            last.phase,
            last.bytes_done,
            last.bytes_total,
            last.parts_done
        ),
        (UploadPhase::Done, data.len() as u64, data.len() as u64, 11)
    );
    let uploading: Vec<u64> = events
        .iter()
        .filter(|e| e.phase == UploadPhase::Uploading)
        .map(|e| e.bytes_done)
        .collect();
    assert!(uploading.windows(2).all(|w| w[0] <= w[1]), "{uploading:?}");
}

#[tokio::test]
async fn an_interrupted_upload_resumes_without_resending_good_parts() {
    let (server, store) = fake().await;
    let (client, _) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = write_file(&dir, 6 * 64 * KIB, 3);
    store.lock().unwrap().fail_part = Some(4);
    let err = upload_file(
        &client,
        &location("big.ova"),
        &path,
        &opts(64, 1),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::UserInput, "{err}");
    {
        let mut s = store.lock().unwrap();
        assert_eq!(s.part_puts, [1, 2, 3]);
        assert!(s.objects.is_empty());
        s.fail_part = None;
        s.part_puts.clear();
        // Part 2 in the bucket no longer matches the file (e.g. the file changed there).
        let upload = s.uploads.values_mut().next().unwrap();
        let p2 = upload.2.get_mut(&2).unwrap();
        p2.data[0] ^= 0xff;
        p2.md5 = b64md5(&p2.data);
    }
    let out = upload_file(
        &client,
        &location("big.ova"),
        &path,
        &opts(64, 2),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        UploadOutcome::Uploaded {
            etag: Some("object-etag".into()),
            parts: 6,
            bytes_sent: 4 * 64 * KIB,
            bytes_reused: 2 * 64 * KIB,
            resumed: true
        }
    );
    let s = store.lock().unwrap();
    let mut sent = s.part_puts.clone();
    sent.sort();
    assert_eq!(
        sent,
        [2, 4, 5, 6],
        "parts 1 and 3 were already there with the right MD5"
    );
    assert_eq!(s.objects["big.ova"].0, data);
}

#[tokio::test]
async fn parts_left_from_a_run_with_more_parts_are_excluded_at_commit() {
    let (server, store) = fake().await;
    let (client, _) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = write_file(&dir, 4 * 64 * KIB, 4);
    // An earlier run with 32 KiB parts stopped after 7 of 8 parts.
    store.lock().unwrap().fail_part = Some(8);
    upload_file(
        &client,
        &location("big.ova"),
        &path,
        &opts(32, 1),
        &NoProgress,
    )
    .await
    .unwrap_err();
    store.lock().unwrap().fail_part = None;
    let out = upload_file(
        &client,
        &location("big.ova"),
        &path,
        &opts(64, 2),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(
        matches!(
            out,
            UploadOutcome::Uploaded {
                parts: 4,
                resumed: true,
                bytes_reused: 0,
                ..
            }
        ),
        "{out:?}"
    );
    let s = store.lock().unwrap();
    assert_eq!(
        s.commits.last().unwrap()["partsToExclude"],
        json!([5, 6, 7])
    );
    assert_eq!(s.objects["big.ova"].0, data);
}

#[tokio::test]
async fn an_object_already_in_the_bucket_is_not_uploaded_again() {
    let (server, store) = fake().await;
    let (client, _) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let (big, _) = write_file(&dir, 5 * 64 * KIB + 1, 5);
    let (small, _) = write_file(&dir, 3 * KIB, 6);
    upload_file(
        &client,
        &location("big.ova"),
        &big,
        &opts(64, 2),
        &NoProgress,
    )
    .await
    .unwrap();
    upload_file(
        &client,
        &location("small.ova"),
        &small,
        &opts(64, 2),
        &NoProgress,
    )
    .await
    .unwrap();
    let before = server.requests().len();
    let progress = Recorder::default();
    let out = upload_file(&client, &location("big.ova"), &big, &opts(64, 2), &progress)
        .await
        .unwrap();
    assert_eq!(
        out,
        UploadOutcome::AlreadyPresent {
            etag: Some("object-etag".into())
        }
    );
    let out = upload_file(
        &client,
        &location("small.ova"),
        &small,
        &opts(64, 2),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(matches!(out, UploadOutcome::AlreadyPresent { .. }));
    let after: Vec<String> = server.requests()[before..]
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(after, ["HEAD", "HEAD"], "only HEADs: nothing sent again");
    let phases: Vec<UploadPhase> = progress.0.lock().unwrap().iter().map(|e| e.phase).collect();
    assert_eq!(phases.first(), Some(&UploadPhase::Checking));
    assert_eq!(phases.last(), Some(&UploadPhase::AlreadyPresent));
    assert_eq!(store.lock().unwrap().object_puts, 1);
}

#[tokio::test]
async fn an_object_of_the_same_size_but_other_bytes_is_replaced() {
    let (server, store) = fake().await;
    let (client, _) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = write_file(&dir, 3 * 64 * KIB, 7);
    let (b, b_data) = write_file(&dir, 3 * 64 * KIB, 8);
    upload_file(&client, &location("img.ova"), &a, &opts(64, 2), &NoProgress)
        .await
        .unwrap();
    let out = upload_file(&client, &location("img.ova"), &b, &opts(64, 2), &NoProgress)
        .await
        .unwrap();
    assert!(
        matches!(out, UploadOutcome::Uploaded { resumed: false, .. }),
        "{out:?}"
    );
    assert_eq!(store.lock().unwrap().objects["img.ova"].0, b_data);
}

#[tokio::test]
async fn a_part_checksum_that_does_not_match_is_an_integrity_error() {
    let (server, store) = fake().await;
    let (client, _) = client_with(&server.url, |o| o.rate_limit.initial_rate = 1000.0);
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_file(&dir, 3 * 64 * KIB, 9);
    store.lock().unwrap().lie_about_part_md5 = Some(2);
    let err = upload_file(
        &client,
        &location("x.ova"),
        &path,
        &opts(64, 1),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, OciError::Integrity { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Network);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("part 2"), "{err}");
}

#[tokio::test]
async fn a_missing_local_file_is_a_user_input_error() {
    let (server, _) = fake().await;
    let (client, _) = client(&server.url);
    let err = upload_file(
        &client,
        &location("x.ova"),
        std::path::Path::new("/nonexistent/x.ova"),
        &UploadOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class(), ErrorClass::UserInput);
    assert!(err.to_string().contains("/nonexistent/x.ova"), "{err}");
    assert!(server.requests().is_empty());
}
