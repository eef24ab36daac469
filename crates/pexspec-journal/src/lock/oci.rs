//! The team lock: one Object Storage object, created with `if-none-match: *` (a 412 means
//! someone holds it), holding the [`Holder`] record, deleted on release with `if-match` of
//! the ETag it was written with (so a lock someone else took since is never deleted).

use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use bytes::Bytes;
use pexspec_oci::{OciClient, OciError, PutObjectOptions};

use super::{Holder, LockError, LockStatus};

/// An Object Storage failure, as text (never a secret: OCI error codes and messages).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    /// What failed.
    pub message: String,
}

/// An object and its ETag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    /// The contents.
    pub data: Vec<u8>,
    /// The ETag, if the store gave one.
    pub etag: Option<String>,
}

/// What a conditional create did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object was written (it did not exist); its ETag, if the store gave one.
    Written {
        /// The new object's ETag.
        etag: Option<String>,
    },
    /// An object of that name exists: nothing was written.
    Exists,
}

/// What a conditional delete did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Deleted.
    Deleted,
    /// There was no such object.
    Missing,
    /// The object's ETag is not the one given: it was left in place.
    Changed,
}

/// The three object operations a lock needs, so that [`OciLock`] can be tested without a
/// cloud. [`OciObjectStore`] implements them over [`OciClient`].
pub trait ObjectStore: Send + Sync {
    /// How to name `object` in messages (`oci://ns@bucket/object`).
    fn location(&self, object: &str) -> String;
    /// Writes `data` as `object` only if no object has that name (`if-none-match: *`).
    fn put_if_absent(
        &self,
        object: &str,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;
    /// Reads `object`, if it exists.
    fn get(
        &self,
        object: &str,
    ) -> impl Future<Output = Result<Option<StoredObject>, StoreError>> + Send;
    /// Deletes `object`, only if its ETag is `if_match` when given.
    fn delete(
        &self,
        object: &str,
        if_match: Option<&str>,
    ) -> impl Future<Output = Result<DeleteOutcome, StoreError>> + Send;
}

/// A `--lock` location: `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciLockUrl {
    /// The Object Storage namespace (the tenancy's, looked up, when not given).
    pub namespace: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The object name (may contain `/`).
    pub object: String,
}

const FORMS: &str = "write `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`";

impl OciLockUrl {
    /// Parses a `--lock` value.
    pub fn parse(url: &str) -> Result<Self, LockError> {
        let err = |problem: String| LockError::Url {
            url: url.to_owned(),
            problem,
        };
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| err(format!("a team lock is an Object Storage object: {FORMS}")))?;
        let (place, object) = rest
            .split_once('/')
            .ok_or_else(|| err(format!("it names no object: {FORMS}")))?;
        let (namespace, bucket) = match place.split_once('@') {
            Some((ns, bucket)) => (Some(ns), bucket),
            None => (None, place),
        };
        if let Some(ns) = namespace
            && (ns.is_empty() || !ns.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(err(format!(
                "the namespace `{ns}` must be letters and digits: {FORMS}"
            )));
        }
        if bucket.is_empty() {
            return Err(err(format!("it names no bucket: {FORMS}")));
        }
        if bucket.len() > 256
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(err(format!(
                "the bucket name `{bucket}` may hold only letters, digits, `-`, `_` and `.` (up to 256)"
            )));
        }
        if object.is_empty() {
            return Err(err(format!("it names no object: {FORMS}")));
        }
        if object.ends_with('/') {
            return Err(err(
                "the object name ends with `/`: name the lock object itself, e.g. `locks/prod.lock`"
                    .to_owned(),
            ));
        }
        if object.len() > 1024 || object.chars().any(char::is_control) {
            return Err(err(
                "the object name must be at most 1024 bytes, without control characters".to_owned(),
            ));
        }
        Ok(Self {
            namespace: namespace.map(str::to_owned),
            bucket: bucket.to_owned(),
            object: object.to_owned(),
        })
    }
}

impl fmt::Display for OciLockUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "oci://{ns}@{}/{}", self.bucket, self.object),
            None => write!(f, "oci://{}/{}", self.bucket, self.object),
        }
    }
}

/// A lock held in an Object Storage object.
///
/// There is no lease: the record is written once, so a long apply is never mistaken for a
/// dead one. A holder that died leaves the object behind; the next apply is refused with
/// the holder and the lock's age (and told it is stale when the holder ran on the same
/// host), and `pexspec force-unlock` removes it.
#[derive(Debug)]
pub struct OciLock<S: ObjectStore> {
    store: S,
    object: String,
    holder: Holder,
    etag: Option<String>,
}

fn store_error<S: ObjectStore>(store: &S, object: &str) -> impl Fn(StoreError) -> LockError {
    // Named when the error happens: by then the store may know its namespace.
    move |e| LockError::Store {
        location: store.location(object),
        message: e.message,
    }
}

impl<S: ObjectStore> OciLock<S> {
    /// Takes the lock `object` in `store` for `holder`, or says who holds it.
    pub async fn acquire(store: S, object: &str, holder: &Holder) -> Result<Self, LockError> {
        for _ in 0..3 {
            let put = store
                .put_if_absent(object, holder.to_json())
                .await
                .map_err(store_error(&store, object))?;
            let etag = match put {
                PutOutcome::Written { etag } => etag,
                PutOutcome::Exists => {
                    let found = store
                        .get(object)
                        .await
                        .map_err(store_error(&store, object))?;
                    let location = store.location(object);
                    match found.map(|f| (Holder::from_json(&f.data), f.etag)) {
                        // Gone since (its holder released it): try again.
                        None => continue,
                        // Our own write, whose answer was lost and which the client sent
                        // again: it is ours.
                        Some((Some(h), etag)) if h == *holder => etag,
                        Some((Some(h), _)) => {
                            return Err(LockError::Held(Box::new(LockStatus::of(h, location))));
                        }
                        Some((None, _)) => {
                            return Err(LockError::Unreadable {
                                location,
                                age: None,
                            });
                        }
                    }
                }
            };
            return Ok(Self {
                store,
                object: object.to_owned(),
                holder: holder.clone(),
                etag,
            });
        }
        Err(LockError::Store {
            location: store.location(object),
            message: "the lock was taken and released again three times in a row".to_owned(),
        })
    }

    /// Who holds the lock `object` in `store`, if anyone.
    pub async fn inspect(store: &S, object: &str) -> Result<Option<LockStatus>, LockError> {
        let Some(found) = store
            .get(object)
            .await
            .map_err(store_error(store, object))?
        else {
            return Ok(None);
        };
        let location = store.location(object);
        match Holder::from_json(&found.data) {
            Some(h) => Ok(Some(LockStatus::of(h, location))),
            None => Err(LockError::Unreadable {
                location,
                age: None,
            }),
        }
    }

    /// Removes the lock `object` whoever holds it (only the version read, with `if-match`)
    /// and returns who did (`None` if there was no lock or its record was unreadable). The
    /// caller asks for confirmation first.
    pub async fn force_unlock(store: &S, object: &str) -> Result<Option<Holder>, LockError> {
        let failed = store_error(store, object);
        let Some(found) = store.get(object).await.map_err(&failed)? else {
            return Ok(None);
        };
        match store
            .delete(object, found.etag.as_deref())
            .await
            .map_err(&failed)?
        {
            DeleteOutcome::Deleted => Ok(Holder::from_json(&found.data)),
            DeleteOutcome::Missing => Ok(None),
            DeleteOutcome::Changed => Err(LockError::Store {
                location: store.location(object),
                message: "the lock changed while it was being removed: look again".to_owned(),
            }),
        }
    }

    /// The holder this lock was taken for.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// The lock object's location.
    pub fn location(&self) -> String {
        self.store.location(&self.object)
    }

    /// Releases the lock: deletes the object if it is still the one this run wrote.
    pub async fn release(self) -> Result<(), LockError> {
        let failed = store_error(&self.store, &self.object);
        let lost = || LockError::Lost {
            location: self.store.location(&self.object),
        };
        let etag = match &self.etag {
            Some(e) => Some(e.clone()),
            // No ETag from the write: read it, and check the record is ours.
            None => match self.store.get(&self.object).await.map_err(&failed)? {
                None => return Ok(()),
                Some(found) if Holder::from_json(&found.data).as_ref() == Some(&self.holder) => {
                    found.etag
                }
                Some(_) => return Err(lost()),
            },
        };
        match self
            .store
            .delete(&self.object, etag.as_deref())
            .await
            .map_err(&failed)?
        {
            DeleteOutcome::Deleted | DeleteOutcome::Missing => Ok(()),
            DeleteOutcome::Changed => Err(lost()),
        }
    }
}

/// [`ObjectStore`] over the OCI client: one bucket, in the client's region.
pub struct OciObjectStore {
    client: OciClient,
    bucket: String,
    namespace: Mutex<Option<String>>,
}

impl fmt::Debug for OciObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciObjectStore")
            .field("region", &self.client.region())
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

fn oci_error(e: OciError) -> StoreError {
    StoreError {
        message: e.to_string(),
    }
}

impl OciObjectStore {
    /// The bucket `bucket` of `namespace` (the tenancy's, looked up once, if `None`).
    pub fn new(client: OciClient, namespace: Option<String>, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            namespace: Mutex::new(namespace),
        }
    }

    /// The store of a `--lock` location, and the object's name in it.
    pub fn for_url(client: OciClient, url: &OciLockUrl) -> (Self, String) {
        (
            Self::new(client, url.namespace.clone(), url.bucket.clone()),
            url.object.clone(),
        )
    }

    fn cached_namespace(&self) -> Option<String> {
        self.namespace
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn namespace(&self) -> Result<String, StoreError> {
        if let Some(ns) = self.cached_namespace() {
            return Ok(ns);
        }
        let ns = self.client.get_namespace().await.map_err(oci_error)?;
        *self.namespace.lock().unwrap_or_else(|p| p.into_inner()) = Some(ns.clone());
        Ok(ns)
    }
}

impl ObjectStore for OciObjectStore {
    fn location(&self, object: &str) -> String {
        match self.cached_namespace() {
            Some(ns) => format!("oci://{ns}@{}/{object}", self.bucket),
            None => format!("oci://{}/{object}", self.bucket),
        }
    }

    async fn put_if_absent(&self, object: &str, data: Vec<u8>) -> Result<PutOutcome, StoreError> {
        let ns = self.namespace().await?;
        let options = PutObjectOptions {
            content_type: Some("application/json"),
            if_none_match_any: true,
            ..PutObjectOptions::default()
        };
        match self
            .client
            .put_object(&ns, &self.bucket, object, Bytes::from(data), &options)
            .await
        {
            Ok(put) => Ok(PutOutcome::Written { etag: put.etag }),
            Err(e) if e.status() == Some(412) => Ok(PutOutcome::Exists),
            Err(e) => Err(oci_error(e)),
        }
    }

    async fn get(&self, object: &str) -> Result<Option<StoredObject>, StoreError> {
        let ns = self.namespace().await?;
        match self.client.get_object(&ns, &self.bucket, object).await {
            Ok(o) => Ok(Some(StoredObject {
                data: o.data,
                etag: o.etag,
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(oci_error(e)),
        }
    }

    async fn delete(
        &self,
        object: &str,
        if_match: Option<&str>,
    ) -> Result<DeleteOutcome, StoreError> {
        let ns = self.namespace().await?;
        match self
            .client
            .delete_object(&ns, &self.bucket, object, if_match)
            .await
        {
            Ok(()) => Ok(DeleteOutcome::Deleted),
            Err(e) if e.status() == Some(412) => Ok(DeleteOutcome::Changed),
            Err(e) if e.is_not_found() => Ok(DeleteOutcome::Missing),
            Err(e) => Err(oci_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_locations_parse_with_and_without_a_namespace() {
        let u = OciLockUrl::parse("oci://pexspec-locks/prod/site.lock").unwrap();
        assert_eq!(u.namespace, None);
        assert_eq!(u.bucket, "pexspec-locks");
        assert_eq!(u.object, "prod/site.lock");
        assert_eq!(u.to_string(), "oci://pexspec-locks/prod/site.lock");
        let u = OciLockUrl::parse("oci://axaxnpcrorw5@locks/site.lock").unwrap();
        assert_eq!(u.namespace.as_deref(), Some("axaxnpcrorw5"));
        assert_eq!(u.to_string(), "oci://axaxnpcrorw5@locks/site.lock");
    }

    #[test]
    fn bad_lock_locations_say_what_to_write() {
        let cases = [
            (
                "s3://b/o",
                "`s3://b/o` is not a lock location: a team lock is an Object Storage object: write `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`",
            ),
            (
                "oci://bucket",
                "`oci://bucket` is not a lock location: it names no object: write `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`",
            ),
            (
                "oci://bucket/",
                "`oci://bucket/` is not a lock location: it names no object: write `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`",
            ),
            (
                "oci:///o",
                "`oci:///o` is not a lock location: it names no bucket: write `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`",
            ),
            (
                "oci://my bucket/o",
                "`oci://my bucket/o` is not a lock location: the bucket name `my bucket` may hold only letters, digits, `-`, `_` and `.` (up to 256)",
            ),
            (
                "oci://@b/o",
                "`oci://@b/o` is not a lock location: the namespace `` must be letters and digits: write `oci://BUCKET/OBJECT` or `oci://NAMESPACE@BUCKET/OBJECT`",
            ),
            (
                "oci://b/locks/",
                "`oci://b/locks/` is not a lock location: the object name ends with `/`: name the lock object itself, e.g. `locks/prod.lock`",
            ),
        ];
        for (url, message) in cases {
            assert_eq!(OciLockUrl::parse(url).unwrap_err().to_string(), message);
        }
    }
}
