//! The Pexip Management Node simulator: the management API (configuration and status) over
//! HTTPS with a persisted self-signed certificate and basic auth, one bootstrap listener per
//! Conferencing Node standing in for `https://<node>:8443/`, state in `pexip.db` (SQLite, WAL),
//! and a scaled clock from which node sync and conference endings are computed lazily.
//!
//! Test hooks (no auth, loopback only) live under `/_sim/`:
//! - `POST /_sim/complete-wizard` — completes the installation wizard (body optional:
//!   `{"hostname","domain","dns_servers":[..],"ntp_servers":[..]}`); until then every
//!   `/api/` and `/admin/` path answers 503, as a Management Node whose wizard has not run
//!   has no administrator interface. `auto_bootstrap: true` completes it at start.
//! - `POST /_sim/conferences` — `{"node": NAME, "name": CONF, "participants": N,
//!   "duration_seconds": S}` puts a conference on a node; it ends `S` simulated seconds later.
//! - `POST /_sim/power` — `{"node": NAME, "on": false}`: the node's VM stops (its conferences
//!   end, the Management Node loses contact with it); `"on": true`: it starts and is back in
//!   service (`SYNCED`) `sync_delay` later. The OCI simulator does not tell this one when an
//!   instance stops or starts: whoever drives both (`--sim` runs) says so here.
//! - `POST /_sim/advance` — `{"seconds": S}` moves the simulated clock forward.
//! - `POST /_sim/faults` — `{"statuses": [503, 503]}`: the next API calls (after auth) answer
//!   these statuses, one each, before normal service resumes.
//! - `GET /_sim/nodes` — node name → bootstrap URL; `GET /_sim/stats` — API calls by method.
//! - `GET /_sim/ignored` — the body fields and filters the API ignored (see below).
//!
//! **Lenient like the real server, strict in tests.** The real management API (tastypie)
//! ignores a body field a resource does not have and a filter on a field it does not know, so
//! a misspelled field or filter silently does nothing. This simulator ignores them the same
//! way, and records each one in its state (`ignored` in `pexip.db`): [`PexipSim::ignored`],
//! [`ignored_in`] and `GET /_sim/ignored` read the record, and every test that runs against
//! the simulator asserts that it is empty.

mod api;
mod clock;
mod node;
mod schema;
mod store;
mod tls;
mod x509;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::watch;

pub use clock::ClockSource;

/// Errors of the Pexip simulator.
#[derive(Debug, thiserror::Error)]
pub enum PexipSimError {
    /// The state directory or a file in it could not be read or written (class: config).
    #[error("cannot use `{path}`: {message}")]
    Io {
        /// The path or address concerned.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The SQLite state could not be read or written (class: internal).
    #[error("simulator state: {0}")]
    State(String),
    /// A certificate could not be generated or loaded (class: internal).
    #[error("simulator TLS: {0}")]
    Tls(String),
    /// A test hook refused the request, e.g. a conference on a node in maintenance mode
    /// (class: conflict).
    #[error("the simulator refused: {0}")]
    Refused(String),
}

impl PexipSimError {
    /// Whether trying again may succeed: a locked database may be free later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PexipSimError::State(m) if m.contains("locked") || m.contains("busy"))
    }
}

/// What the installation wizard was answered (the simulator adopts these DNS and NTP servers as
/// configuration objects, as a real Management Node does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWizard {
    /// Management Node hostname.
    pub hostname: String,
    /// Management Node domain suffix.
    pub domain: String,
    /// DNS servers entered in the wizard.
    pub dns_servers: Vec<String>,
    /// NTP servers entered in the wizard.
    pub ntp_servers: Vec<String>,
    /// The Management Node's IPv4 address, mask and gateway as entered in the wizard. With an
    /// address the simulator serves the configuration singleton
    /// `configuration/v1/management_vm/1/`; without one (a `--sim` run whose Management Node
    /// address is known only once its instance exists) it answers 404 there.
    pub address: Option<String>,
    /// Network mask (with `address`).
    pub netmask: Option<String>,
    /// Default gateway (with `address`).
    pub gateway: Option<String>,
}

impl Default for SimWizard {
    fn default() -> Self {
        SimWizard {
            hostname: "pexmgr".into(),
            domain: "example.com".into(),
            dns_servers: vec!["169.254.169.254".into()],
            ntp_servers: vec!["169.254.169.254".into()],
            address: None,
            netmask: None,
            gateway: None,
        }
    }
}

/// Node name → bootstrap URL, read live (see [`PexipSim::bootstrap_routes`]).
#[derive(Clone)]
pub struct BootstrapRoutes(Arc<Shared>);

impl BootstrapRoutes {
    /// The bootstrap URL of the node named `name`, once it exists.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.bootstrap_urls().remove(name)
    }
}

impl std::fmt::Debug for BootstrapRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BootstrapRoutes")
    }
}

/// Options of [`start`].
#[derive(Clone)]
pub struct PexipSimOptions {
    /// Directory of `pexip.db` and the Management Node's certificate (created if absent).
    pub state_dir: PathBuf,
    /// Web administration username (basic auth).
    pub admin_username: String,
    /// Web administration password (basic auth). Never printed.
    pub admin_password: String,
    /// Complete the installation wizard at start, so unattended runs need no `/_sim/` call.
    pub auto_bootstrap: bool,
    /// The wizard's answers used by `auto_bootstrap` and as defaults of `complete-wizard`.
    pub wizard: SimWizard,
    /// Which real clock drives simulated time.
    pub clock: ClockSource,
    /// Simulated seconds per real second (60: a node syncs 5 simulated minutes after its upload,
    /// 5 real seconds).
    pub time_scale: f64,
    /// Simulated time between a bootstrap upload and the node reporting `SYNCED` (the guide:
    /// "approximately 5 minutes").
    pub sync_delay: Duration,
    /// Port of the management API on 127.0.0.1 (0: any free port).
    pub port: u16,
}

impl std::fmt::Debug for PexipSimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PexipSimOptions")
            .field("state_dir", &self.state_dir)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"<redacted>")
            .field("auto_bootstrap", &self.auto_bootstrap)
            .field("wizard", &self.wizard)
            .field("clock", &self.clock)
            .field("time_scale", &self.time_scale)
            .field("sync_delay", &self.sync_delay)
            .field("port", &self.port)
            .finish()
    }
}

impl PexipSimOptions {
    /// Defaults: user `admin`, wizard not completed, wall clock at real speed, 5-minute sync.
    pub fn new(state_dir: impl Into<PathBuf>, admin_password: impl Into<String>) -> Self {
        PexipSimOptions {
            state_dir: state_dir.into(),
            admin_username: "admin".into(),
            admin_password: admin_password.into(),
            auto_bootstrap: false,
            wizard: SimWizard::default(),
            clock: ClockSource::Wall,
            time_scale: 1.0,
            sync_delay: Duration::from_secs(300),
            port: 0,
        }
    }
}

/// Management API calls received by this process, by method (test hooks excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiCalls {
    /// GET requests.
    pub get: u64,
    /// POST requests.
    pub post: u64,
    /// PATCH requests.
    pub patch: u64,
    /// PUT requests.
    pub put: u64,
    /// DELETE requests.
    pub delete: u64,
}

impl ApiCalls {
    /// POST + PATCH + PUT + DELETE.
    pub fn mutations(&self) -> u64 {
        self.post + self.patch + self.put + self.delete
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    get: AtomicU64,
    post: AtomicU64,
    patch: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
}

impl Counters {
    fn count(&self, method: &axum::http::Method) {
        use axum::http::Method;
        let counter = match *method {
            Method::GET => &self.get,
            Method::POST => &self.post,
            Method::PATCH => &self.patch,
            Method::PUT => &self.put,
            Method::DELETE => &self.delete,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ApiCalls {
        ApiCalls {
            get: self.get.load(Ordering::Relaxed),
            post: self.post.load(Ordering::Relaxed),
            patch: self.patch.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
        }
    }
}

pub(crate) struct NodeListener {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) stop: watch::Sender<bool>,
}

pub(crate) struct Shared {
    pub(crate) db: Mutex<Connection>,
    pub(crate) clock: clock::Clock,
    pub(crate) opts: PexipSimOptions,
    pub(crate) nodes: Mutex<BTreeMap<i64, NodeListener>>,
    pub(crate) calls: Counters,
    pub(crate) faults: Mutex<std::collections::VecDeque<u16>>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Runs `f` with the database; the lock is never held across an await.
    pub(crate) fn with_db<T>(&self, f: impl FnOnce(&store::Store<'_>) -> T) -> T {
        let guard = match self.db.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&store::Store { conn: &guard })
    }

    /// Simulated now (ms since the epoch). Never earlier than a now any process has seen on
    /// this state directory: the high-water mark is kept in the state, so two processes
    /// running at different speeds never move the clock back for each other.
    pub(crate) fn now(&self, store: &store::Store<'_>) -> i64 {
        let t = self.clock.now_ms(store.offset_ms().unwrap_or(0));
        let seen = store.high_water_ms().unwrap_or(i64::MIN);
        if t > seen {
            let _ = store.set_high_water_ms(t);
            t
        } else {
            seen
        }
    }

    /// Records that a request's body field or filter was ignored, e.g.
    /// `POST worker_vm: body field \`snmp_mod\``. A record that cannot be written is not an
    /// answer the client could see: it is dropped.
    pub(crate) fn ignore(&self, store: &store::Store<'_>, what: &str) {
        let _ = store.record_ignored(what);
    }

    pub(crate) fn take_fault(&self) -> Option<u16> {
        match self.faults.lock() {
            Ok(mut g) => g.pop_front(),
            Err(p) => p.into_inner().pop_front(),
        }
    }

    pub(crate) fn push_faults(&self, statuses: &[u16]) {
        let mut g = match self.faults.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.extend(statuses.iter().copied());
    }

    pub(crate) fn bootstrap_urls(&self) -> BTreeMap<String, String> {
        let nodes = match self.nodes.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        nodes
            .values()
            .map(|n| (n.name.clone(), n.url.clone()))
            .collect()
    }
}

/// Stops a running simulator (cloneable; every clone stops the same one).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Asks every listener of the simulator to stop.
    pub fn shutdown(&self) {
        let _ = self.tx.send(true);
    }
}

/// A running Pexip simulator.
pub struct PexipSim {
    base_url: String,
    fingerprint: String,
    cert_path: PathBuf,
    shared: Arc<Shared>,
    shutdown: ShutdownHandle,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PexipSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PexipSim")
            .field("base_url", &self.base_url)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl PexipSim {
    /// The management API, `https://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// SHA-256 fingerprint of the Management Node's certificate, `AB:CD:…` (stable across
    /// restarts on one state directory).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The Management Node's certificate (PEM file in the state directory).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Conferencing Node name → the base URL of its listener, `https://127.0.0.1:PORT/`, in
    /// this process (the file goes to `configuration/bootstrap` under it).
    pub fn bootstrap_urls(&self) -> BTreeMap<String, String> {
        self.shared.bootstrap_urls()
    }

    /// A live view of [`bootstrap_urls`](Self::bootstrap_urls) that outlives a borrow of the
    /// simulator: nodes created later are found too.
    pub fn bootstrap_routes(&self) -> BootstrapRoutes {
        BootstrapRoutes(self.shared.clone())
    }

    /// The body fields and filters the API ignored, as the real one does, in every process
    /// that used this state directory (see the module documentation). Tests assert it empty.
    pub fn ignored(&self) -> Result<Vec<String>, PexipSimError> {
        self.shared.with_db(|s| s.ignored())
    }

    /// Management API calls this process has served.
    pub fn api_calls(&self) -> ApiCalls {
        self.shared.calls.snapshot()
    }

    /// Moves the simulated clock forward by `by` (simulated time; seen by every process).
    pub fn advance(&self, by: Duration) -> Result<(), PexipSimError> {
        self.shared.with_db(|s| s.add_offset_ms(clock::dur_ms(by)))
    }

    /// Completes the installation wizard with the options' answers (idempotent).
    pub fn complete_wizard(&self) -> Result<(), PexipSimError> {
        api::complete_wizard(&self.shared, &self.shared.opts.wizard)
    }

    /// The Management Node's VM was replaced: a new VM runs the installation wizard again
    /// and knows none of the old one's configuration (the guide: the wizard is the first
    /// thing a new Management Node runs). The simulated Conferencing Nodes' runtimes stay;
    /// their registrations go with the configuration.
    pub fn forget_configuration(&self) -> Result<(), PexipSimError> {
        self.shared.with_db(|s| s.forget_configuration())
    }

    /// Completes the installation wizard with `wizard`'s answers (idempotent).
    pub fn complete_wizard_with(&self, wizard: &SimWizard) -> Result<(), PexipSimError> {
        api::complete_wizard(&self.shared, wizard)
    }

    /// The next API calls (after auth) answer `statuses`, one each (e.g. `[503, 503]`).
    pub fn inject_faults(&self, statuses: &[u16]) {
        self.shared.push_faults(statuses);
    }

    /// Puts a conference with `participants` on node `node`; it ends after `duration`
    /// (simulated). Refused while the node is not synced or is in maintenance mode.
    pub async fn start_conference(
        &self,
        node: &str,
        name: &str,
        participants: u32,
        duration: Duration,
    ) -> Result<(), PexipSimError> {
        let body = serde_json::json!({
            "node": node, "name": name, "participants": participants,
            "duration_seconds": duration.as_secs_f64(),
        });
        let resp = api::sim_conference(
            axum::extract::State(self.shared.clone()),
            body.to_string().into(),
        )
        .await;
        if resp.status() == axum::http::StatusCode::CREATED {
            return Ok(());
        }
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        Err(PexipSimError::Refused(message))
    }

    /// The VM of node `node` stops (`on: false`: its conferences end and its participants
    /// are disconnected; the Management Node loses contact with it) or starts (`on: true`:
    /// it reports `SYNCING` until it has booted and synced, `sync_delay` later). The OCI
    /// simulator's instances do not tell this simulator: the caller that stops or starts an
    /// instance says so here. Refused for a node the Management Node does not know.
    pub fn set_node_power(&self, node: &str, on: bool) -> Result<(), PexipSimError> {
        api::set_power(&self.shared, node, on)
    }

    /// A handle that stops this simulator.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Stops the simulator and waits for its management listener to finish.
    pub async fn stop(self) {
        self.shutdown.shutdown();
        let _ = self.server.await;
    }
}

/// The ignored body fields and filters recorded in the state directory `state_dir` (see
/// [`PexipSim::ignored`]); empty when the directory holds no simulator state.
pub fn ignored_in(state_dir: &Path) -> Result<Vec<String>, PexipSimError> {
    if !state_dir.join(store::DB_FILE).is_file() {
        return Ok(Vec::new());
    }
    let conn = store::open(state_dir)?;
    store::Store { conn: &conn }.ignored()
}

/// [`ignored_in`] of every simulator state directory under `root` (any depth), each entry
/// prefixed with the directory: what a test asserts empty at its end.
pub fn ignored_under(root: &Path) -> Result<Vec<String>, PexipSimError> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(entry.path());
            }
        }
        for what in ignored_in(&dir)? {
            out.push(format!("{}: {what}", dir.display()));
        }
    }
    out.sort();
    Ok(out)
}

/// Starts the simulator on 127.0.0.1. State persists in `opts.state_dir`.
pub async fn start(opts: PexipSimOptions) -> Result<PexipSim, PexipSimError> {
    let dir = opts.state_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| PexipSimError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let conn = store::open(&dir)?;
    let (wall_anchor, sim_anchor) = {
        let s = store::Store { conn: &conn };
        clock::reanchor(&s, opts.time_scale)?
    };
    let clock = clock::Clock::new(opts.clock, opts.time_scale, wall_anchor, sim_anchor);
    let cn = format!("{}.{}", opts.wizard.hostname, opts.wizard.domain);
    let cert = tls::load_or_create(&store::Store { conn: &conn }, &dir, &cn)?;
    let fingerprint = tls::fingerprint(&cert.cert_pem)?;
    let server_config = tls::server_config(&cert)?;

    let (tx, rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        db: Mutex::new(conn),
        clock,
        opts: opts.clone(),
        nodes: Mutex::new(BTreeMap::new()),
        calls: Counters::default(),
        faults: Mutex::new(std::collections::VecDeque::new()),
        shutdown: rx.clone(),
    });
    if opts.auto_bootstrap {
        api::complete_wizard(&shared, &opts.wizard)?;
    }

    let tcp = tls::bind(opts.port).await?;
    let listener = tls::listen(tcp, server_config, rx.clone())?;
    let port = axum::serve::Listener::local_addr(&listener)
        .map_err(|e| PexipSimError::Io {
            path: "listener".into(),
            message: e.to_string(),
        })?
        .port();
    let app = api::router(shared.clone());
    let mut stop = rx.clone();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });

    let ids = shared.with_db(|s| s.node_ids())?;
    for id in ids {
        node::start_listener(&shared, id).await?;
    }

    Ok(PexipSim {
        base_url: format!("https://127.0.0.1:{port}"),
        fingerprint,
        cert_path: dir.join(tls::MANAGER_CERT),
        shared,
        shutdown: ShutdownHandle { tx: Arc::new(tx) },
        server,
    })
}
