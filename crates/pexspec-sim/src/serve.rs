//! Starting the simulators: one loopback port per OCI region, the OCI config file and test
//! key written into the state directory, and the "ready line" of `pexspec sim serve`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::SimError;
use crate::oci::auth::{
    TEST_KEY_FINGERPRINT, TEST_PRIVATE_KEY_PEM, TEST_TENANCY_OCID, TEST_USER_OCID, TrustedKeys,
};
use crate::oci::catalog;
use crate::oci::clock::SimClock;
use crate::oci::faults::FaultConfig;
use crate::oci::{OciSettings, OciSim};

/// The default (and home) region.
pub const DEFAULT_REGION: &str = "eu-frankfurt-1";
/// The profile of the OCI config file the simulator writes.
pub const PROFILE: &str = "DEFAULT";
/// File names inside the state directory.
pub const CONFIG_FILE_NAME: &str = "oci_config";
/// The test private key written beside the config file.
pub const KEY_FILE_NAME: &str = "oci_api_key.pem";
/// The SQLite database of the OCI simulator.
pub const DB_FILE_NAME: &str = "oci.sqlite3";

/// How to start the simulators. `ServeOptions::default()` serves eu-frankfurt-1 on a free
/// port with a temporary state directory, real-time clock and no faults.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where state lives (created if missing). `None`: a temporary directory removed when the
    /// [`RunningSim`] is dropped. Several simulators (even in separate processes) may share
    /// one directory: they see one cloud.
    pub state_dir: Option<PathBuf>,
    /// The regions to serve (names like `eu-zurich-1` or keys like `ZRH`), one port each. The
    /// first is the home region (identity writes only there). Empty means eu-frankfurt-1.
    pub regions: Vec<String>,
    /// Fixed ports per region name; regions not listed get a free port.
    pub ports: BTreeMap<String, u16>,
    /// The simulator clock (speed factor or manual clock).
    pub clock: SimClock,
    /// Faults injected from the start (`POST /_sim/faults` changes them later).
    pub faults: FaultConfig,
    /// Refuse requests whose `date` header is more than 5 minutes off the wall clock, as OCI
    /// does (default `true`).
    pub check_date_skew: bool,
    /// The largest request body accepted (default 512 MiB). It bounds one PutObject or one
    /// part, not a multipart object: object bytes are files in the state directory.
    pub max_body_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            state_dir: None,
            regions: Vec::new(),
            ports: BTreeMap::new(),
            clock: SimClock::default(),
            faults: FaultConfig::default(),
            check_date_skew: true,
            max_body_bytes: 512 << 20,
        }
    }
}

impl ServeOptions {
    /// Sets the state directory.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    /// Adds a region to serve.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.regions.push(region.into());
        self
    }
    /// Sets the clock.
    pub fn clock(mut self, clock: SimClock) -> Self {
        self.clock = clock;
        self
    }
    /// Sets the initial faults.
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }
}

/// Running simulators. Dropping it stops the servers (and removes a temporary state
/// directory); [`RunningSim::shutdown`] stops them and waits.
#[derive(Debug)]
pub struct RunningSim {
    endpoints: BTreeMap<String, String>,
    config_file: PathBuf,
    key_file: PathBuf,
    state_dir: PathBuf,
    clock: SimClock,
    /// Extension point for the Pexip simulator: Management Node name → management API base
    /// URL (`https://127.0.0.1:PORT`). [`RunningSim::ready_line`] prints it as `"pexip"`.
    pub pexip: BTreeMap<String, String>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
    sim: SimHandle,
}

/// The shared simulator state behind a [`RunningSim`] (opaque in `Debug`).
struct SimHandle(Arc<OciSim>);

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OciSim")
    }
}

impl RunningSim {
    /// The calls served so far by this process, every region together: operation name
    /// (`CreateVcn`, `ListInstances`...) → count, whatever the status (`GET /_sim/stats` has
    /// them by status).
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.sim.0.call_counts()
    }

    /// Region name → `http://127.0.0.1:PORT` (identity, core and Object Storage share it).
    pub fn endpoints(&self) -> &BTreeMap<String, String> {
        &self.endpoints
    }
    /// The endpoint of one region.
    pub fn endpoint(&self, region: &str) -> Option<&str> {
        self.endpoints.get(region).map(String::as_str)
    }
    /// The OCI config file (profile [`PROFILE`]) that the official CLI and SDKs can use.
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }
    /// The test private key file named by the config file.
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }
    /// The profile name inside the config file.
    pub fn profile(&self) -> &str {
        PROFILE
    }
    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }
    /// The clock the simulator runs on (advance it in tests with a manual clock).
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }
    /// The tenancy OCID (also the root compartment).
    pub fn tenancy_ocid(&self) -> &'static str {
        TEST_TENANCY_OCID
    }
    /// The API user OCID.
    pub fn user_ocid(&self) -> &'static str {
        TEST_USER_OCID
    }
    /// Records a Pexip Management Node endpoint for the ready line.
    pub fn set_pexip_endpoint(&mut self, name: impl Into<String>, url: impl Into<String>) {
        self.pexip.insert(name.into(), url.into());
    }

    /// The first stdout line of `pexspec sim serve` (DESIGN.md §8):
    /// `{"oci": {"eu-frankfurt-1": "http://127.0.0.1:PORT"}, "oci_config_file": "PATH",
    /// "profile": "DEFAULT", "pexip": {…}}`.
    pub fn ready_line(&self) -> Value {
        json!({
            "oci": self.endpoints,
            "oci_config_file": self.config_file.to_string_lossy(),
            "profile": PROFILE,
            "pexip": self.pexip,
        })
    }

    /// Stops every server and waits for them to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` (owner-only), whole or not at all: to a temporary file of its
/// own in the same directory (`tempfile` names it uniquely and creates it `0600`), synced,
/// then renamed over `path`. Several processes may start a simulator on one state directory
/// at once (two `--sim` runs in one folder); none may read a half-written key or
/// configuration. (The simulator cannot use `pexspec_journal::fsutil::write_private`, which
/// does the same for the binary: the journal's crates depend on this one.)
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(io_err(path))?;
    file.persist(path).map_err(|e| SimError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Writes the test key and the OCI config file; returns (config, key) paths.
fn write_config(dir: &Path, home_region: &str) -> Result<(PathBuf, PathBuf), SimError> {
    let key_file = dir.join(KEY_FILE_NAME);
    write_whole(&key_file, TEST_PRIVATE_KEY_PEM.as_bytes())?;
    let config_file = dir.join(CONFIG_FILE_NAME);
    let text = format!(
        "# Written by the pexspec simulator: a test identity that only the simulator trusts.\n\
         [{PROFILE}]\nuser={TEST_USER_OCID}\nfingerprint={TEST_KEY_FINGERPRINT}\ntenancy={TEST_TENANCY_OCID}\n\
         region={home_region}\nkey_file={}\n",
        key_file.display()
    );
    write_whole(&config_file, text.as_bytes())?;
    Ok((config_file, key_file))
}

/// Starts the OCI simulator: one port per region on 127.0.0.1, state in `opts.state_dir`.
pub async fn serve(opts: ServeOptions) -> Result<RunningSim, SimError> {
    let mut regions: Vec<String> = Vec::new();
    for r in if opts.regions.is_empty() {
        vec![DEFAULT_REGION.to_string()]
    } else {
        opts.regions.clone()
    } {
        let known = catalog::region(&r)
            .ok_or_else(|| SimError::Config(format!("unknown OCI region `{r}`")))?;
        if !regions.iter().any(|x| x == known.name) {
            regions.push(known.name.to_string());
        }
    }
    for name in opts.ports.keys() {
        if !regions.contains(name) {
            return Err(SimError::Config(format!(
                "a port is given for region `{name}`, which is not served"
            )));
        }
    }
    let home = regions[0].clone();
    let (temp, state_dir) = match &opts.state_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(io_err(d))?;
            (None, d.clone())
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("pexspec-sim-")
                .tempdir()
                .map_err(io_err(&std::env::temp_dir()))?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let state_dir = std::fs::canonicalize(&state_dir).map_err(io_err(&state_dir))?;
    let (config_file, key_file) = write_config(&state_dir, &home)?;
    let sim = OciSim::open(
        &state_dir.join(DB_FILE_NAME),
        OciSettings {
            clock: opts.clock.clone(),
            faults: opts.faults.clone(),
            check_date: opts.check_date_skew,
            home_region: home.clone(),
            regions: regions.clone(),
            max_body_bytes: opts.max_body_bytes,
            keys: TrustedKeys::with_test_key(),
        },
    )?;
    // A region the state's tenancy was subscribed to stays served: resources left there
    // (a region removed from a spec) are reachable, as in OCI.
    for r in sim.subscribed_regions() {
        if !regions.contains(&r) && catalog::region(&r).is_some() {
            regions.push(r);
        }
    }
    let (stop, _) = watch::channel(false);
    let mut endpoints = BTreeMap::new();
    let mut tasks = Vec::new();
    for region in &regions {
        let port = opts.ports.get(region).copied().unwrap_or(0);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SimError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        endpoints.insert(region.clone(), format!("http://127.0.0.1:{}", addr.port()));
        sim.serve_host(format!("127.0.0.1:{}", addr.port()), region);
        let app = sim.router(region);
        let mut rx = stop.subscribe();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stopped| *stopped).await;
                })
                .await;
        }));
    }
    Ok(RunningSim {
        endpoints,
        config_file,
        key_file,
        state_dir,
        clock: opts.clock,
        pexip: BTreeMap::new(),
        stop,
        tasks,
        _temp: temp,
        sim: SimHandle(sim),
    })
}
