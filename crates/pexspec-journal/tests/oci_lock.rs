//! The team lock against the OCI simulator in process on 127.0.0.1: `if-none-match: *` makes
//! exactly one holder, a second apply is refused with the holder named, release deletes
//! only our own version (`if-match`), force-unlock removes whoever holds it. And against an
//! in-memory store: a write whose answer was lost and that was sent again is still ours.

use std::collections::BTreeMap;
use std::sync::Mutex;

use pexspec_journal::{
    DeleteOutcome, Holder, LockError, ObjectStore, OciLock, OciLockUrl, OciObjectStore, PutOutcome,
    StoreError, StoredObject,
};
use pexspec_oci::models::CreateBucketDetails;
use pexspec_oci::{Endpoints, LoadOptions, OciClient, OciConfig};
use pexspec_sim::{RunningSim, ServeOptions, serve};

struct Cloud {
    _sim: RunningSim,
    client: OciClient,
    namespace: String,
}

async fn cloud() -> Cloud {
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
    let namespace = client.get_namespace().await.unwrap();
    client
        .create_bucket(
            &namespace,
            &CreateBucketDetails {
                name: "pexspec-locks".into(),
                compartment_id: client.tenancy_id().to_owned(),
                ..CreateBucketDetails::default()
            },
        )
        .await
        .unwrap();
    Cloud {
        _sim: sim,
        client,
        namespace,
    }
}

fn holder(name: &str, host: &str, pid: u32) -> Holder {
    Holder {
        who: format!("{name}@{host}"),
        host: host.into(),
        pid,
        command: "apply site.yaml".into(),
        since: "2025-03-01T09:30:00Z".into(),
    }
}

fn store(c: &Cloud, url: &OciLockUrl) -> (OciObjectStore, String) {
    OciObjectStore::for_url(c.client.clone(), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_is_refused_with_the_holder_named_and_release_frees_it() {
    let c = cloud().await;
    let url = OciLockUrl::parse("oci://pexspec-locks/prod/site.lock").unwrap();
    let alice = holder("alice", "laptop-a", 4242);
    let (s, object) = store(&c, &url);
    let lock = OciLock::acquire(s, &object, &alice).await.unwrap();
    assert_eq!(
        lock.location(),
        format!("oci://{}@pexspec-locks/prod/site.lock", c.namespace)
    );
    // The object holds the record, as JSON.
    let stored = c
        .client
        .get_object(&c.namespace, "pexspec-locks", "prod/site.lock")
        .await
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&stored.data).unwrap(),
        "{\"who\":\"alice@laptop-a\",\"host\":\"laptop-a\",\"pid\":4242,\"command\":\"apply site.yaml\",\"since\":\"2025-03-01T09:30:00Z\"}\n"
    );

    let bob = holder("bob", "laptop-b", 7);
    let (s, object) = store(&c, &url);
    let e = OciLock::acquire(s, &object, &bob).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "another run holds the lock: `oci://{}@pexspec-locks/prod/site.lock` is held by alice@laptop-a (pid 4242, `apply site.yaml`) since 2025-03-01T09:30:00Z (",
            c.namespace
        )),
        "{text}"
    );
    assert!(text.contains("ago); wait for it to finish"), "{text}");
    let LockError::Held(status) = e else {
        unreachable!()
    };
    assert_eq!(status.holder, alice);
    assert!(!status.stale, "another host's pid says nothing here");

    let (s, object) = store(&c, &url);
    assert_eq!(
        OciLock::inspect(&s, &object).await.unwrap().unwrap().holder,
        alice
    );
    lock.release().await.unwrap();
    assert_eq!(OciLock::inspect(&s, &object).await.unwrap(), None);
    let lock = OciLock::acquire(s, &object, &bob).await.unwrap();
    lock.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_unlock_removes_any_holder_and_a_late_release_leaves_the_new_lock_alone() {
    let c = cloud().await;
    let url = OciLockUrl::parse("oci://pexspec-locks/site.lock").unwrap();
    let alice = holder("alice", "laptop-a", 4242);
    let (s, object) = store(&c, &url);
    assert_eq!(OciLock::force_unlock(&s, &object).await.unwrap(), None);
    let alices = OciLock::acquire(s, &object, &alice).await.unwrap();
    let (s, object) = store(&c, &url);
    assert_eq!(
        OciLock::force_unlock(&s, &object).await.unwrap(),
        Some(alice.clone())
    );
    let bob = holder("bob", "laptop-b", 7);
    let bobs = OciLock::acquire(s, &object, &bob).await.unwrap();
    // Alice's apply ends: its release (if-match on its own ETag) must not delete Bob's lock.
    let e = alices.release().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "the lock `oci://{}@pexspec-locks/site.lock` was removed and taken by someone else while this run held it; it was left in place",
            c.namespace
        )
    );
    let (s, object) = store(&c, &url);
    assert_eq!(
        OciLock::inspect(&s, &object).await.unwrap().unwrap().holder,
        bob
    );
    bobs.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_applies_started_together_exactly_one_gets_the_team_lock() {
    let c = cloud().await;
    let url = OciLockUrl::parse("oci://pexspec-locks/race.lock").unwrap();
    let tries: Vec<_> = (0..6)
        .map(|k| {
            let (s, object) = store(&c, &url);
            tokio::spawn(async move {
                let me = holder(&format!("user{k}"), "ci", k);
                OciLock::acquire(s, &object, &me)
                    .await
                    .map(|l| l.holder().clone())
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut named = Vec::new();
    for t in tries {
        match t.await.unwrap() {
            Ok(h) => winners.push(h),
            Err(LockError::Held(status)) => named.push(status.holder),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(named.iter().all(|h| *h == winners[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_in_a_missing_bucket_is_an_error_not_a_holder() {
    let c = cloud().await;
    let url = OciLockUrl::parse("oci://no-such-bucket/site.lock").unwrap();
    let (s, object) = store(&c, &url);
    let e = OciLock::acquire(s, &object, &holder("alice", "a", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, LockError::Store { .. }), "{e}");
    assert!(e.to_string().contains("BucketNotFound"), "{e}");
}

/// A store that answers the first write with 412 although it wrote it (a write whose answer
/// was lost, sent again by the client's retry).
#[derive(Default)]
struct LossyStore {
    objects: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
    lose_first_answer: Mutex<bool>,
}

impl ObjectStore for LossyStore {
    fn location(&self, object: &str) -> String {
        format!("mem://{object}")
    }

    async fn put_if_absent(&self, object: &str, data: Vec<u8>) -> Result<PutOutcome, StoreError> {
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(object) {
            return Ok(PutOutcome::Exists);
        }
        objects.insert(object.to_owned(), (data, "etag-1".into()));
        if std::mem::take(&mut *self.lose_first_answer.lock().unwrap()) {
            return Ok(PutOutcome::Exists);
        }
        Ok(PutOutcome::Written {
            etag: Some("etag-1".into()),
        })
    }

    async fn get(&self, object: &str) -> Result<Option<StoredObject>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .get(object)
            .map(|(data, etag)| StoredObject {
                data: data.clone(),
                etag: Some(etag.clone()),
            }))
    }

    async fn delete(
        &self,
        object: &str,
        if_match: Option<&str>,
    ) -> Result<DeleteOutcome, StoreError> {
        let mut objects = self.objects.lock().unwrap();
        match objects.get(object) {
            None => Ok(DeleteOutcome::Missing),
            Some((_, etag)) if if_match.is_some_and(|m| m != etag) => Ok(DeleteOutcome::Changed),
            Some(_) => {
                objects.remove(object);
                Ok(DeleteOutcome::Deleted)
            }
        }
    }
}

#[tokio::test]
async fn a_lock_write_whose_answer_was_lost_is_still_ours() {
    let store = LossyStore {
        lose_first_answer: Mutex::new(true),
        ..LossyStore::default()
    };
    let alice = holder("alice", "a", 1);
    let lock = OciLock::acquire(store, "site.lock", &alice).await.unwrap();
    assert_eq!(lock.holder(), &alice);
    lock.release().await.unwrap();
}
