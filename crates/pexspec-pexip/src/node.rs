//! Conferencing Nodes: creating the `worker_vm` whose answer is the node's bootstrap file
//! (returned once, stored durably before anything else), uploading it to the node's
//! `https://<node>:8443/configuration/bootstrap`, waiting for `SYNCED`, maintenance mode, and
//! draining.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::client::{Client, Resource, chain, http_client};
use crate::ensure::{Ensured, find, read_back};
use crate::error::PexipError;
use crate::objects::{Managed, WorkerVm, WorkerVmSpec, diff};
use crate::retry::{RetryPolicy, Sleeper, TokioSleeper};
use crate::status::{ParticipantStatus, SYNCED, WorkerVmStatus};
use crate::trust::{Fingerprint, Trust};
use crate::uri::ResourceUri;
use crate::wait::{Deadline, WaitOptions};

/// The port a fresh Conferencing Node takes its configuration file on.
pub const BOOTSTRAP_PORT: u16 = 8443;

/// The path, on the node's port 8443, that takes the configuration file as a raw
/// `text/xml` body. Source: `colinbruner/pexip-transcoder-client`, `pexip/client.py`
/// (`_provision`: `POST https://<address>:8443/configuration/bootstrap`,
/// `Content-Type: text/xml`, the create answer's bytes as the body).
pub const BOOTSTRAP_PATH: &str = "configuration/bootstrap";

/// A node's bootstrap (configuration) file: secret, returned once by the `worker_vm` create.
#[derive(Clone, PartialEq, Eq)]
pub struct BootstrapFile {
    node: String,
    bytes: Vec<u8>,
}

impl BootstrapFile {
    /// The file of node `node`.
    pub fn new(node: impl Into<String>, bytes: Vec<u8>) -> Self {
        BootstrapFile {
            node: node.into(),
            bytes,
        }
    }

    /// The node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The contents, for the one place that uploads them.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The file name the Administrator interface would give it.
    pub fn file_name(&self) -> String {
        format!("pexip-{}.xml", safe_name(&self.node))
    }
}

impl fmt::Debug for BootstrapFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapFile")
            .field("node", &self.node)
            .field(
                "bytes",
                &format_args!("<redacted: {} bytes>", self.bytes.len()),
            )
            .finish()
    }
}

/// A node name as a file name: letters, digits, `-`, `_` and `.` kept, anything else `%XX`.
fn safe_name(node: &str) -> String {
    let mut out = String::new();
    for b in node.bytes() {
        if b.is_ascii_alphanumeric() || b"-_".contains(&b) || (b == b'.' && !out.is_empty()) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn io_err(path: &Path, e: &std::io::Error) -> PexipError {
    PexipError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Durable storage of bootstrap files: one file per node, mode 0600, in a 0700 directory,
/// written to a temporary file, fsynced, renamed into place and the directory fsynced, so a
/// crash leaves either the whole file or none.
#[derive(Debug, Clone)]
pub struct BootstrapStore {
    dir: PathBuf,
}

impl BootstrapStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        BootstrapStore { dir: dir.into() }
    }

    /// Where node `node`'s file lives.
    pub fn path(&self, node: &str) -> PathBuf {
        self.dir.join(format!("{}.bootstrap.xml", safe_name(node)))
    }

    /// Writes `file` durably; returns its path once it is on disk.
    pub fn save(&self, file: &BootstrapFile) -> Result<PathBuf, PexipError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&self.dir)
            .map_err(|e| io_err(&self.dir, &e))?;
        let target = self.path(&file.node);
        let tmp = self.dir.join(format!(
            ".{}.{}.{:016x}.tmp",
            safe_name(&file.node),
            std::process::id(),
            rand::random::<u64>()
        ));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let written = (|| {
            let mut f = opts.open(&tmp)?;
            f.write_all(&file.bytes)?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(&tmp, &e));
        }
        if let Err(e) = std::fs::rename(&tmp, &target) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(&target, &e));
        }
        #[cfg(unix)]
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_err(&self.dir, &e))?;
        Ok(target)
    }

    /// Node `node`'s file, if stored.
    pub fn load(&self, node: &str) -> Result<Option<BootstrapFile>, PexipError> {
        let path = self.path(node);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(BootstrapFile::new(node, bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, &e)),
        }
    }

    /// Forgets node `node`'s file (after the node synced, or was deleted).
    pub fn remove(&self, node: &str) -> Result<(), PexipError> {
        let path = self.path(node);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, &e)),
        }
    }
}

/// Where a bootstrap file goes the moment the create answers: durable storage, written
/// before the create returns. [`BootstrapStore`] is the file implementation; an executor
/// can write it into its journal instead.
pub trait BootstrapSink: Send + Sync {
    /// Stores `file` durably; returns where (for messages). Must not return before the data
    /// is on disk.
    fn persist(&self, file: &BootstrapFile) -> Result<String, PexipError>;
}

impl BootstrapSink for BootstrapStore {
    fn persist(&self, file: &BootstrapFile) -> Result<String, PexipError> {
        self.save(file).map(|p| p.display().to_string())
    }
}

/// A node just created, its bootstrap file already stored.
#[derive(Debug, Clone)]
pub struct CreatedNode {
    /// The configuration object.
    pub node: WorkerVm,
    /// Where its bootstrap file was stored (what [`BootstrapSink::persist`] said).
    pub stored_at: String,
}

/// Creates the `worker_vm` (`MANUAL-PROVISION-ONLY`, SSH password hashed) and writes the
/// answer — the node's bootstrap file, which the API returns only this once — to `store`
/// before returning or doing anything else.
pub async fn create_worker_vm(
    client: &Client,
    spec: &WorkerVmSpec,
    store: &dyn BootstrapSink,
) -> Result<CreatedNode, PexipError> {
    let body = spec.create_body()?;
    let (location, bytes) = client.post(WorkerVm::KIND, &body).await?;
    if bytes.is_empty() {
        return Err(PexipError::Decode {
            path: WorkerVm::collection(),
            message: format!(
                "the create answer of `{}` carries no bootstrap file",
                spec.name
            ),
        });
    }
    let file = BootstrapFile::new(&spec.name, bytes);
    let stored_at = store.persist(&file).map_err(|e| match e {
        PexipError::Io { path, message } => PexipError::Io {
            path,
            message: format!(
                "{message}; Conferencing Node `{}` was created but its bootstrap file is lost: delete it and create it again",
                spec.name
            ),
        },
        other => other,
    })?;
    let node = read_back(client, spec, location.as_ref()).await?;
    Ok(CreatedNode { node, stored_at })
}

/// Ensures the `worker_vm`: creates it (see [`create_worker_vm`]) if absent, PATCHes the fields
/// that may change in place, fails with [`PexipError::NeedsReplacement`] if a field the node took
/// from its bootstrap file differs.
pub async fn ensure_worker_vm(
    client: &Client,
    spec: &WorkerVmSpec,
    store: &dyn BootstrapSink,
) -> Result<Ensured<WorkerVm>, PexipError> {
    match find(client, spec).await? {
        None => Ok(Ensured::Created(
            create_worker_vm(client, spec, store).await?.node,
        )),
        Some(observed) => {
            let changes = diff(spec, &observed);
            if changes.is_empty() {
                return Ok(Ensured::Unchanged(observed));
            }
            let fixed: Vec<String> = changes
                .iter()
                .filter(|c| WorkerVmSpec::immutable_fields().contains(&c.field))
                .map(|c| c.field.to_owned())
                .collect();
            if !fixed.is_empty() {
                return Err(PexipError::NeedsReplacement {
                    node: spec.name.clone(),
                    fields: fixed,
                });
            }
            client
                .update(&observed.resource_uri, &spec.patch_body(&changes))
                .await?;
            let object = read_back(client, spec, Some(&observed.resource_uri)).await?;
            Ok(Ensured::Updated { object, changes })
        }
    }
}

/// Options of [`upload_bootstrap`].
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// How to trust the fresh node's (self-signed) certificate.
    pub trust: Trust,
    /// Node address → base URL to use instead of `https://<address>:8443/` (tests and the
    /// simulator point these at 127.0.0.1 ports).
    pub overrides: BTreeMap<String, String>,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Retries (the upload of one file is repeatable).
    pub retry: RetryPolicy,
    /// Sleeps between retries.
    pub sleeper: Arc<dyn Sleeper>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            trust: Trust::FirstUse,
            overrides: BTreeMap::new(),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

/// What an upload reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReceipt {
    /// The URL the file was posted to.
    pub url: String,
    /// The node's certificate fingerprint, as seen.
    pub fingerprint: Option<Fingerprint>,
}

/// The base URL of the node at `address` (private or public, as the caller chooses):
/// `https://<address>:8443/`, or the override given for that address.
pub fn bootstrap_base(address: &str, overrides: &BTreeMap<String, String>) -> String {
    if let Some(url) = overrides.get(address) {
        return url.clone();
    }
    if address.contains(':') && !address.starts_with('[') {
        format!("https://[{address}]:{BOOTSTRAP_PORT}/")
    } else {
        format!("https://{address}:{BOOTSTRAP_PORT}/")
    }
}

/// The upload URL of the node at `address`: [`bootstrap_base`] + [`BOOTSTRAP_PATH`].
pub fn bootstrap_url(address: &str, overrides: &BTreeMap<String, String>) -> String {
    let base = bootstrap_base(address, overrides);
    format!("{}/{BOOTSTRAP_PATH}", base.trim_end_matches('/'))
}

/// Posts the bootstrap file to the node's `configuration/bootstrap` endpoint as the raw body
/// with `Content-Type: text/xml` (see [`BOOTSTRAP_PATH`] for the source). Any 2xx answer is
/// success, as in that client.
pub async fn upload_bootstrap(
    address: &str,
    file: &BootstrapFile,
    opts: &UploadOptions,
) -> Result<UploadReceipt, PexipError> {
    let url = bootstrap_url(address, &opts.overrides);
    let (http, trust) = http_client(&opts.trust, opts.timeout)?;
    let body = file.bytes.clone();
    let hint = format!(
        "check that the instance of `{}` is running and that the security list allows TCP {BOOTSTRAP_PORT} from this machine \
         (in a public deployment without VPN, use the node's public address)",
        file.node
    );
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = http
            .post(&url)
            .header(CONTENT_TYPE, "text/xml")
            .body(body.clone())
            .send()
            .await;
        let err = match sent {
            Ok(resp) if resp.status().is_success() => {
                return Ok(UploadReceipt {
                    url,
                    fingerprint: trust.observed(),
                });
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                let err = PexipError::Server {
                    status,
                    method: "POST".into(),
                    path: url.clone(),
                    message: format!(
                        "the node refused the bootstrap file of `{}`: {}",
                        file.node,
                        text.trim()
                    ),
                };
                if status < 500 {
                    return Err(err);
                }
                err
            }
            Err(e) => {
                if let Some(failure) = trust.take_failure() {
                    return Err(PexipError::Trust(failure));
                }
                PexipError::Network {
                    url: url.clone(),
                    message: format!("{}; {hint}", chain(&e)),
                }
            }
        };
        if attempt >= opts.retry.max_attempts {
            return Err(err);
        }
        opts.sleeper
            .sleep(opts.retry.delay(attempt, rand::random::<f64>()))
            .await;
    }
}

/// The status of node `name`, if the Management Node lists it.
pub async fn node_status(
    client: &Client,
    name: &str,
) -> Result<Option<WorkerVmStatus>, PexipError> {
    Ok(client
        .list::<WorkerVmStatus>(&[])
        .await?
        .into_iter()
        .find(|s| s.name == name))
}

/// Polls until node `name` reports `sync_status` `SYNCED`.
pub async fn wait_synced(
    client: &Client,
    name: &str,
    opts: WaitOptions,
) -> Result<WorkerVmStatus, PexipError> {
    let mut deadline = Deadline::new(opts);
    let mut last;
    loop {
        match node_status(client, name).await {
            Ok(Some(s)) if s.sync_status == SYNCED => return Ok(s),
            Ok(Some(s)) => {
                last = if s.last_updated.is_none() {
                    format!("{} (last contacted: never)", s.sync_status)
                } else {
                    s.sync_status.clone()
                };
            }
            Ok(None) => last = "not listed".into(),
            Err(e) if e.is_retryable() => last = e.to_string(),
            Err(e) => return Err(e),
        }
        if !deadline.next(client.sleeper().as_ref()).await {
            return Err(PexipError::Timeout {
                what: format!(
                    "Conferencing Node `{name}` to report sync_status SYNCED (last: {last})"
                ),
                waited: deadline.elapsed(),
                hint: format!(
                    "a node takes about 5 minutes after its bootstrap upload; check that the upload to https://<node>:{BOOTSTRAP_PORT}/ \
                     succeeded, that the instance is running, and that the security lists let the node reach the Management Node"
                ),
            });
        }
    }
}

/// Turns maintenance mode on (with `reason`) or off. While it is on the node accepts no new
/// conference instances.
pub async fn set_maintenance(
    client: &Client,
    node: &ResourceUri,
    enabled: bool,
    reason: &str,
) -> Result<(), PexipError> {
    let reason = if enabled { reason } else { "" };
    client
        .update(
            node,
            &json!({ "maintenance_mode": enabled, "maintenance_mode_reason": reason }),
        )
        .await
}

/// What a drain saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// `force` was given: nothing was awaited.
    pub forced: bool,
    /// Participants on the node at the last look.
    pub participants: usize,
    /// Conferences with participants on the node at the last look.
    pub conferences: Vec<String>,
    /// How long the drain waited.
    pub waited: Duration,
}

/// The live participants on the node at `address`. The status API has no participant filter
/// that a public source names (`pexip/go-infinity-sdk` `status/status.go`: the status list
/// options are `limit` and `offset`), and a server ignores a filter it does not know, which
/// would make a drain count every participant of the platform: so the list is read whole and
/// filtered here, on the participant's own node fields ([`ParticipantStatus::on_node`]).
pub async fn participants_on(
    client: &Client,
    address: &str,
) -> Result<Vec<ParticipantStatus>, PexipError> {
    Ok(client
        .list::<ParticipantStatus>(&[])
        .await?
        .into_iter()
        .filter(|p| p.on_node(address))
        .collect())
}

/// Waits until no participant is left on `node` (media or proxy), which must be in maintenance
/// mode (else new conferences would keep arriving). With `force`, returns at once.
pub async fn drain(
    client: &Client,
    node: &WorkerVm,
    opts: WaitOptions,
    force: bool,
) -> Result<DrainReport, PexipError> {
    if force {
        return Ok(DrainReport {
            forced: true,
            participants: 0,
            conferences: Vec::new(),
            waited: Duration::ZERO,
        });
    }
    let current: WorkerVm = client.get(&node.resource_uri).await?;
    if !current.maintenance_mode {
        return Err(PexipError::Conflict {
            path: node.resource_uri.to_string(),
            message: format!(
                "put Conferencing Node `{}` into maintenance mode before draining it",
                node.name
            ),
        });
    }
    let mut deadline = Deadline::new(opts);
    loop {
        let left = participants_on(client, &node.address).await?;
        let mut conferences: Vec<String> = left.iter().map(|p| p.conference.clone()).collect();
        conferences.sort();
        conferences.dedup();
        if left.is_empty() {
            return Ok(DrainReport {
                forced: false,
                participants: 0,
                conferences,
                waited: deadline.elapsed(),
            });
        }
        if !deadline.next(client.sleeper().as_ref()).await {
            return Err(PexipError::Timeout {
                what: format!(
                    "conferences on Conferencing Node `{}` to end ({} participants in {} still there)",
                    node.name,
                    left.len(),
                    conferences.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                ),
                waited: deadline.elapsed(),
                hint: "wait longer, or force the stop to disconnect them (Status > Live View shows them)".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_default_to_8443_and_honour_overrides() {
        let mut o = BTreeMap::new();
        assert_eq!(
            bootstrap_url("10.0.1.31", &o),
            "https://10.0.1.31:8443/configuration/bootstrap"
        );
        assert_eq!(
            bootstrap_url("2001:db8::31", &o),
            "https://[2001:db8::31]:8443/configuration/bootstrap"
        );
        o.insert("10.0.1.31".into(), "https://127.0.0.1:4444/".into());
        assert_eq!(
            bootstrap_url("10.0.1.31", &o),
            "https://127.0.0.1:4444/configuration/bootstrap"
        );
        assert_eq!(bootstrap_base("10.0.1.31", &o), "https://127.0.0.1:4444/");
    }

    #[test]
    fn the_file_never_shows_in_debug() {
        let f = BootstrapFile::new("pexconf01", b"<secret-config/>".to_vec());
        let shown = format!("{f:?}");
        assert!(!shown.contains("secret-config"), "{shown}");
        assert!(shown.contains("16 bytes"));
    }

    #[test]
    fn names_become_safe_file_names() {
        assert_eq!(safe_name("pexconf01"), "pexconf01");
        assert_eq!(safe_name("../etc"), "%2E.%2Fetc");
        assert_eq!(safe_name("a b"), "a%20b");
    }
}
