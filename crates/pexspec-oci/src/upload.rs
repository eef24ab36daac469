//! Uploading a large local file (a multi-GiB OVA) to a bucket: multipart with bounded parallel
//! parts, `Content-MD5` on every part checked against the answer, resume of an interrupted
//! upload (parts already there with the right MD5 are not sent again), and no upload at all
//! when the same bytes are already in the bucket. The file is read part by part, never whole.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use md5::{Digest as _, Md5};

use crate::client::OciClient;
use crate::error::OciError;
use crate::models::{
    CommitMultipartUploadDetails, CommitPart, CreateMultipartUploadDetails, MultipartUploadPart,
    ObjectHead,
};
use crate::ops::PutObjectOptions;
use crate::progress::{TransferProgress, UploadPhase, UploadProgress};

const MIB: u64 = 1024 * 1024;
/// OCI's limit on parts per upload.
pub const MAX_PARTS: u64 = 10_000;
/// The OCI CLI's default part size, tried when checking an object someone else uploaded.
const CLI_PART_SIZE: u64 = 128 * MIB;
/// Read size of the hashing pass.
const HASH_CHUNK: usize = 4 * 1024 * 1024;

/// Where the object goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    /// Object Storage namespace.
    pub namespace: String,
    /// Bucket name.
    pub bucket: String,
    /// Object name.
    pub object: String,
}

/// Upload tuning. Memory use is about `parallelism × part_size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// Bytes per part (raised when the file would need more than 10 000 parts). Files up to
    /// this size go in one PutObject.
    pub part_size: u64,
    /// Parts in flight at once (at least 1).
    pub parallelism: usize,
    /// Content type of the object.
    pub content_type: &'static str,
    /// User metadata of the object (`opc-meta-<key>`; keys without the prefix). An object
    /// already in the bucket counts as the same only if it carries this metadata too.
    pub metadata: BTreeMap<String, String>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            part_size: 32 * MIB,
            parallelism: 4,
            content_type: "application/octet-stream",
            metadata: BTreeMap::new(),
        }
    }
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The bucket already held an object of the same size and MD5: nothing was sent.
    AlreadyPresent {
        /// The object's ETag.
        etag: Option<String>,
    },
    /// The object was written.
    Uploaded {
        /// The object's ETag.
        etag: Option<String>,
        /// Parts committed (1 for a single PutObject).
        parts: u32,
        /// Bytes sent in this run.
        bytes_sent: u64,
        /// Bytes of parts reused from an interrupted upload.
        bytes_reused: u64,
        /// Whether an interrupted multipart upload was continued.
        resumed: bool,
    },
}

/// The part size actually used for a file of `size` bytes.
pub fn effective_part_size(size: u64, wanted: u64) -> u64 {
    let wanted = wanted.max(1);
    if size.div_ceil(wanted) <= MAX_PARTS {
        return wanted;
    }
    size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB
}

/// The multipart MD5 OCI reports (`opc-multipart-md5`): base64 of the MD5 of the concatenated
/// binary part MD5s, then `-` and the part count.
pub fn multipart_md5(part_md5s: &[[u8; 16]]) -> String {
    let mut h = Md5::new();
    for d in part_md5s {
        h.update(d);
    }
    format!("{}-{}", STANDARD.encode(h.finalize()), part_md5s.len())
}

fn local_io(path: &Path, source: std::io::Error) -> OciError {
    OciError::LocalIo {
        path: path.to_path_buf(),
        source,
    }
}

/// Digests of one pass over the file: the whole-file MD5 and per-part MD5s for each size.
struct FileDigests {
    whole: [u8; 16],
    parts: BTreeMap<u64, Vec<[u8; 16]>>,
}

fn hash_file(
    path: &Path,
    size: u64,
    part_sizes: &[u64],
    mut on_progress: impl FnMut(u64),
) -> Result<FileDigests, OciError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| local_io(path, e))?;
    let mut whole = Md5::new();
    let mut cuts: Vec<(u64, u64, Md5, Vec<[u8; 16]>)> = part_sizes
        .iter()
        .map(|&ps| (ps.max(1), 0u64, Md5::new(), Vec::new()))
        .collect();
    let mut buf = vec![0u8; HASH_CHUNK];
    let mut done = 0u64;
    while done < size {
        let want = usize::try_from((size - done).min(HASH_CHUNK as u64)).unwrap_or(HASH_CHUNK);
        let n = file.read(&mut buf[..want]).map_err(|e| local_io(path, e))?;
        if n == 0 {
            return Err(local_io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file shrank while being read",
                ),
            ));
        }
        let chunk = &buf[..n];
        whole.update(chunk);
        for (ps, in_part, hasher, digests) in &mut cuts {
            let mut rest = chunk;
            while !rest.is_empty() {
                let room = usize::try_from(*ps - *in_part).unwrap_or(usize::MAX);
                let take = room.min(rest.len());
                hasher.update(&rest[..take]);
                *in_part += take as u64;
                rest = &rest[take..];
                if *in_part == *ps {
                    digests.push(std::mem::take(hasher).finalize().into());
                    *in_part = 0;
                }
            }
        }
        done += n as u64;
        on_progress(done);
    }
    let mut parts = BTreeMap::new();
    for (ps, in_part, hasher, mut digests) in cuts {
        if in_part > 0 || digests.is_empty() {
            digests.push(hasher.finalize().into());
        }
        parts.insert(ps, digests);
    }
    Ok(FileDigests {
        whole: whole.finalize().into(),
        parts,
    })
}

/// Reads part `[offset, offset+len)` into `buffer` on a blocking thread, and its MD5 when
/// `hash` (only to compare with a part already uploaded: a part being sent is hashed once, by
/// the upload call that sets its `Content-MD5`).
async fn read_part(
    path: PathBuf,
    offset: u64,
    len: u64,
    hash: bool,
    buffer: Vec<u8>,
) -> Result<(Bytes, Option<[u8; 16]>), OciError> {
    let joined = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&path).map_err(|e| local_io(&path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| local_io(&path, e))?;
        let len = usize::try_from(len)
            .map_err(|_| local_io(&path, std::io::Error::other("part too large for memory")))?;
        let mut data = buffer;
        data.resize(len, 0);
        file.read_exact(&mut data).map_err(|e| local_io(&path, e))?;
        let md5 = hash.then(|| <[u8; 16]>::from(Md5::digest(&data)));
        Ok((Bytes::from(data), md5))
    })
    .await;
    joined.map_err(|e| OciError::Internal(format!("reading a part failed: {e}")))?
}

/// Part buffers done with, for the next parts to read into: a fresh buffer of tens of MiB
/// costs a page fault per 4 KiB page, which profiling showed at about 8 % of an upload's CPU.
#[derive(Default)]
struct Buffers(std::sync::Mutex<Vec<Vec<u8>>>);

impl Buffers {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut b| b.pop())
            .unwrap_or_default()
    }

    /// Keeps the buffer behind `data` if nothing else holds it any more (the HTTP client has
    /// normally dropped a request body by the time its answer is read; if not, it is freed).
    fn recycle(&self, data: Bytes) {
        if let Ok(buffer) = data.try_into_mut()
            && let Ok(mut b) = self.0.lock()
        {
            b.push(Vec::from(buffer));
        }
    }
}

/// The MD5 of a part just sent. UploadPart has already checked that the `opc-content-md5` of
/// its answer, when present, is the MD5 of these bytes (the `Content-MD5` it sent), so the
/// part is not hashed a second time; without one, it is hashed here.
fn sent_md5(answer: Option<&str>, data: &[u8]) -> [u8; 16] {
    answer
        .and_then(|a| STANDARD.decode(a).ok())
        .and_then(|d| <[u8; 16]>::try_from(d).ok())
        .unwrap_or_else(|| Md5::digest(data).into())
}

struct Tracker<'a> {
    progress: &'a dyn UploadProgress,
    client: &'a OciClient,
    started: Duration,
    total: u64,
    parts_total: u32,
}

impl Tracker<'_> {
    fn report(&self, phase: UploadPhase, done: u64, reused: u64, parts_done: u32) {
        let elapsed = self
            .client
            .clock()
            .now()
            .saturating_sub(self.started)
            .as_secs_f64();
        let moved = done.saturating_sub(reused) as f64;
        let bytes_per_second = if elapsed > 0.0 { moved / elapsed } else { 0.0 };
        self.progress.update(&TransferProgress {
            phase,
            bytes_done: done,
            bytes_total: self.total,
            bytes_reused: reused,
            bytes_per_second,
            parts_done,
            parts_total: self.parts_total,
        });
    }
}

/// Does the object carry every wanted metadata entry?
fn has_metadata(head: &ObjectHead, wanted: &BTreeMap<String, String>) -> bool {
    wanted
        .iter()
        .all(|(k, v)| head.metadata.get(&k.to_ascii_lowercase()) == Some(v))
}

/// Does the object in the bucket hold exactly the bytes of the local file?
async fn same_as_remote(
    path: &Path,
    size: u64,
    part_size: u64,
    head: &ObjectHead,
    tracker: &Tracker<'_>,
) -> Result<bool, OciError> {
    if head.size != size {
        return Ok(false);
    }
    let mut candidates = Vec::new();
    let mut multipart_parts = None;
    if let Some(mp) = &head.multipart_md5
        && let Some((_, n)) = mp.rsplit_once('-')
        && let Ok(n) = n.parse::<u64>()
    {
        multipart_parts = Some(n);
        for ps in [part_size, CLI_PART_SIZE] {
            if size.div_ceil(ps.max(1)).max(1) == n && !candidates.contains(&ps) {
                candidates.push(ps);
            }
        }
    }
    if head.content_md5.is_none() && candidates.is_empty() {
        return Ok(false);
    }
    // Report the phase before hashing: a small file may be hashed before the first progress
    // message is read.
    tracker.report(UploadPhase::Checking, 0, 0, 0);
    let (tx, mut rx) = tokio::sync::watch::channel(0u64);
    let owned = path.to_path_buf();
    let sizes = candidates.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        hash_file(&owned, size, &sizes, |done| {
            let _ = tx.send(done);
        })
    });
    let digests = loop {
        tokio::select! {
            joined = &mut task => break joined,
            changed = rx.changed() => {
                if changed.is_err() {
                    break (&mut task).await;
                }
                let done = *rx.borrow_and_update();
                tracker.report(UploadPhase::Checking, done, 0, 0);
            }
        }
    };
    let digests =
        digests.map_err(|e| OciError::Internal(format!("hashing the file failed: {e}")))??;
    if let Some(md5) = &head.content_md5
        && *md5 == STANDARD.encode(digests.whole)
    {
        return Ok(true);
    }
    if let (Some(mp), Some(_)) = (&head.multipart_md5, multipart_parts) {
        for ps in candidates {
            if let Some(parts) = digests.parts.get(&ps)
                && multipart_md5(parts) == *mp
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

type PartFuture<'a> = Pin<Box<dyn Future<Output = Result<PartDone, OciError>> + Send + 'a>>;

struct PartDone {
    number: u32,
    etag: String,
    md5: [u8; 16],
    len: u64,
    sent: bool,
}

/// Uploads `path` to `location`: skips the upload when the bucket already holds the same bytes,
/// sends small files in one PutObject, and large ones as a multipart upload with up to
/// `options.parallelism` parts in flight, continuing an interrupted upload of the same object.
pub async fn upload_file(
    client: &OciClient,
    location: &ObjectLocation,
    path: &Path,
    options: &UploadOptions,
    progress: &dyn UploadProgress,
) -> Result<UploadOutcome, OciError> {
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|e| local_io(path, e))?
        .len();
    let part_size = effective_part_size(size, options.part_size);
    let parts_total = u32::try_from(size.div_ceil(part_size).max(1)).unwrap_or(u32::MAX);
    let (ns, bucket, object) = (&location.namespace, &location.bucket, &location.object);
    let mut tracker = Tracker {
        progress,
        client,
        started: client.clock().now(),
        total: size,
        parts_total,
    };

    if let Some(head) = client.head_object(ns, bucket, object).await?
        && has_metadata(&head, &options.metadata)
        && same_as_remote(path, size, part_size, &head, &tracker).await?
    {
        tracker.report(UploadPhase::AlreadyPresent, size, size, parts_total);
        return Ok(UploadOutcome::AlreadyPresent { etag: head.etag });
    }

    tracker.started = client.clock().now();
    if size <= part_size {
        tracker.report(UploadPhase::Uploading, 0, 0, 0);
        let (data, _) = read_part(path.to_path_buf(), 0, size, false, Vec::new()).await?;
        let put = PutObjectOptions {
            content_type: Some(options.content_type),
            metadata: options.metadata.clone(),
            ..PutObjectOptions::default()
        };
        let result = client.put_object(ns, bucket, object, data, &put).await?;
        tracker.report(UploadPhase::Done, size, 0, 1);
        return Ok(UploadOutcome::Uploaded {
            etag: result.etag,
            parts: 1,
            bytes_sent: size,
            bytes_reused: 0,
            resumed: false,
        });
    }

    // Continue the newest unfinished upload of this object, if any (an upload started by an
    // earlier run of the same intent carries the same metadata).
    let mut uploads: Vec<_> = client
        .list_multipart_uploads(ns, bucket)
        .await?
        .into_iter()
        .filter(|u| u.object == *object)
        .collect();
    uploads.sort_by(|a, b| a.time_created.cmp(&b.time_created));
    let (upload_id, existing, resumed) = match uploads.pop() {
        Some(u) => {
            let parts = client
                .list_multipart_upload_parts(ns, bucket, object, &u.upload_id)
                .await?;
            let by_number: BTreeMap<u32, MultipartUploadPart> =
                parts.into_iter().map(|p| (p.part_number, p)).collect();
            (u.upload_id, by_number, true)
        }
        None => {
            let details = CreateMultipartUploadDetails {
                object: object.clone(),
                content_type: Some(options.content_type.to_string()),
                metadata: options
                    .metadata
                    .iter()
                    .map(|(k, v)| (format!("opc-meta-{k}"), v.clone()))
                    .collect(),
                ..CreateMultipartUploadDetails::default()
            };
            (
                client
                    .create_multipart_upload(ns, bucket, &details)
                    .await?
                    .upload_id,
                BTreeMap::new(),
                false,
            )
        }
    };

    let mut next = 1u32;
    let buffers = Buffers::default();
    let mut in_flight: Vec<PartFuture<'_>> = Vec::new();
    let mut done: BTreeMap<u32, PartDone> = BTreeMap::new();
    let (mut bytes_done, mut bytes_reused) = (0u64, 0u64);
    tracker.report(UploadPhase::Uploading, 0, 0, 0);
    let parallelism = options.parallelism.max(1);
    loop {
        while in_flight.len() < parallelism && next <= parts_total {
            let number = next;
            next += 1;
            let offset = u64::from(number - 1) * part_size;
            let len = part_size.min(size - offset);
            let existing_part = existing.get(&number).cloned();
            let (path, upload_id, buffers) = (path.to_path_buf(), upload_id.clone(), &buffers);
            in_flight.push(Box::pin(async move {
                let existing_part = existing_part.filter(|p| p.size == len);
                let hash = existing_part.is_some();
                let (data, md5) = read_part(path, offset, len, hash, buffers.take()).await?;
                if let (Some(p), Some(md5)) = (existing_part, md5)
                    && p.md5 == STANDARD.encode(md5)
                {
                    buffers.recycle(data);
                    return Ok(PartDone {
                        number,
                        etag: p.etag,
                        md5,
                        len,
                        sent: false,
                    });
                }
                // A second handle on the same buffer: for hashing if the answer has no MD5, then
                // to reuse the buffer.
                let sent = data.clone();
                let r = client
                    .upload_part(ns, bucket, object, &upload_id, number, data)
                    .await?;
                let md5 = match md5 {
                    Some(md5) => md5,
                    None => sent_md5(r.content_md5.as_deref(), &sent),
                };
                buffers.recycle(sent);
                Ok(PartDone {
                    number,
                    etag: r.etag,
                    md5,
                    len,
                    sent: true,
                })
            }));
        }
        if in_flight.is_empty() {
            break;
        }
        let (index, result) = std::future::poll_fn(|cx| {
            for (i, f) in in_flight.iter_mut().enumerate() {
                if let Poll::Ready(r) = f.as_mut().poll(cx) {
                    return Poll::Ready((i, r));
                }
            }
            Poll::Pending
        })
        .await;
        drop(in_flight.swap_remove(index));
        // On error the remaining parts are dropped (cancelled); the upload stays resumable.
        let part = result?;
        bytes_done += part.len;
        if !part.sent {
            bytes_reused += part.len;
        }
        done.insert(part.number, part);
        tracker.report(
            UploadPhase::Uploading,
            bytes_done,
            bytes_reused,
            u32::try_from(done.len()).unwrap_or(u32::MAX),
        );
    }

    tracker.report(
        UploadPhase::Committing,
        bytes_done,
        bytes_reused,
        parts_total,
    );
    let details = CommitMultipartUploadDetails {
        parts_to_commit: done
            .values()
            .map(|p| CommitPart {
                part_num: p.number,
                etag: p.etag.clone(),
            })
            .collect(),
        // Every uploaded part must be committed or excluded.
        parts_to_exclude: existing
            .keys()
            .copied()
            .filter(|n| !done.contains_key(n))
            .collect(),
    };
    let committed = client
        .commit_multipart_upload(ns, bucket, object, &upload_id, &details)
        .await?;
    let digests: Vec<[u8; 16]> = done.values().map(|p| p.md5).collect();
    let expected = multipart_md5(&digests);
    if let Some(got) = &committed.multipart_md5
        && *got != expected
    {
        return Err(OciError::Integrity {
            operation: "CommitMultipartUpload",
            what: format!("object `{object}`"),
            expected,
            actual: got.clone(),
        });
    }
    tracker.report(UploadPhase::Done, bytes_done, bytes_reused, parts_total);
    Ok(UploadOutcome::Uploaded {
        etag: committed.etag,
        parts: parts_total,
        bytes_sent: bytes_done - bytes_reused,
        bytes_reused,
        resumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_size_grows_past_ten_thousand_parts() {
        assert_eq!(effective_part_size(100 * MIB, 32 * MIB), 32 * MIB);
        let huge = 10_000 * 32 * MIB + 1;
        let ps = effective_part_size(huge, 32 * MIB);
        assert!(huge.div_ceil(ps) <= MAX_PARTS && ps.is_multiple_of(MIB));
        assert_eq!(effective_part_size(10, 0), 1);
    }

    #[test]
    fn multipart_md5_matches_the_documented_construction() {
        let a: [u8; 16] = Md5::digest(b"hello ").into();
        let b: [u8; 16] = Md5::digest(b"world").into();
        let mut concat = Vec::new();
        concat.extend_from_slice(&a);
        concat.extend_from_slice(&b);
        assert_eq!(
            multipart_md5(&[a, b]),
            format!("{}-2", STANDARD.encode(Md5::digest(&concat)))
        );
    }

    #[test]
    fn a_sent_part_is_hashed_only_when_the_answer_has_no_md5() {
        let data = b"part bytes";
        let md5: [u8; 16] = Md5::digest(data).into();
        let answered = STANDARD.encode(md5);
        // The answer (already checked against the bytes by UploadPart) is used as is...
        assert_eq!(sent_md5(Some(&answered), b"not hashed"), md5);
        // ...and without one, or with one that is not an MD5, the bytes are hashed.
        assert_eq!(sent_md5(None, data), md5);
        assert_eq!(sent_md5(Some("bm90IGFuIG1kNQ=="), data), md5);
    }

    #[test]
    fn hashing_cuts_parts_across_chunk_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(HASH_CHUNK * 2 + 1000))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&path, &data).unwrap();
        let ps = 3 * 1024 * 1024 + 7;
        let d = hash_file(&path, data.len() as u64, &[ps as u64], |_| {}).unwrap();
        let expected: Vec<[u8; 16]> = data.chunks(ps).map(|c| Md5::digest(c).into()).collect();
        assert_eq!(d.parts[&(ps as u64)], expected);
        assert_eq!(d.whole, <[u8; 16]>::from(Md5::digest(&data)));
    }
}
