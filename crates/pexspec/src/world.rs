//! The world an apply talks to: the OCI and Pexip providers, built either for the real cloud
//! (the spec's OCI profile, the Management Node's API) or for the built-in simulators run in
//! this process (`--sim`, state under `.pexspec/sim/` beside the spec).
//!
//! Everything the providers need besides the graph is settled here, before any call: the OCI
//! configuration, where the spec's files are, the secrets (every `env:` secret set, or the run
//! refused naming the missing ones), and how the Management Node is trusted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pexspec_exec::{Durations, ExecOptions, Operation, PollPolicy, RateLimit, default_estimate};
use pexspec_graph::value::is_secret;
use pexspec_graph::{Address, Graph, Kind};
use std::io::Write;

use pexspec_oci::ConsoleLookup;
use pexspec_oci::provider::{
    FileResolver, OciProvider, OciSettings, PlacementRetry, ProviderEvents, RelativeTo,
};
use pexspec_oci::{
    ClientOptions as OciClientOptions, Endpoints, LoadOptions, OciClient, OciConfig, PollOptions,
    ProcessEnv, UploadOptions,
};
use pexspec_pexip::{
    ClientOptions as PexipClientOptions, ConsoleAccess, ConsoleFuture, ConsoleInfo, ConsoleTarget,
    OperatorWizard, PexipProvider, PexipProviderOptions, Secret, SecretResolver, SpecSecrets,
    Trust, WaitOptions, WizardMode,
};
use pexspec_plan::{DynProvider, ObservedState, Provider, ProviderError, Scope};
use pexspec_sim::oci::clock::SimClock;
use pexspec_sim::pexip::{PexipSim, PexipSimOptions, SimWizard};
use pexspec_sim::serve::{RunningSim, ServeOptions, serve};
use pexspec_spec::Spec;
use serde_json::Value;

/// The default speed of `--sim`: simulated seconds per real second. A 22-minute image import
/// takes about two seconds, a node's five-minute first sync half a second.
pub(crate) const DEFAULT_SIM_SPEED: f64 = 600.0;

/// Size of the stand-in of an OVA file that is not on disk, in `--sim` only.
const STAND_IN_BYTES: usize = 3 * 1024 * 1024;

/// Where to run.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// Against the simulators, with this speed; `None`: against OCI.
    pub sim_speed: Option<f64>,
    /// Faults for the OCI simulator to inject.
    pub sim_faults: Option<pexspec_sim::oci::faults::FaultConfig>,
}

/// A problem found before any call: the message, and the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Setup {
    pub message: String,
    pub code: u8,
}

impl Setup {
    fn usage(message: impl Into<String>) -> Self {
        Setup {
            message: message.into(),
            code: crate::EXIT_USAGE,
        }
    }

    fn failure(message: impl Into<String>) -> Self {
        Setup {
            message: message.into(),
            code: crate::EXIT_FAILURE,
        }
    }
}

/// The simulators of a `--sim` run.
pub(crate) struct SimWorld {
    /// The OCI simulator, one port per region.
    pub oci: RunningSim,
    /// The Management Node.
    pub pexip: PexipSim,
    /// Its state directory (wiped when its instance is terminated).
    pub pexip_state: PathBuf,
    /// The Management Node's instance, when it runs in OCI (its wizard is completed once the
    /// instance runs, as an operator would); `None` on premises (completed at start).
    pub manager_instance: Option<Address>,
    /// The installation wizard's answers (the Management Node's address filled in from its
    /// instance once it runs).
    pub wizard: SimWizard,
}

impl SimWorld {
    /// Completes the installation wizard if the Management Node's instance runs (the
    /// simulator's stand-in for the operator at the serial console).
    pub fn wizard_if_running(&self, observed: &ObservedState) {
        let Some(instance) = &self.manager_instance else {
            return;
        };
        if let Some(o) = observed
            .get(instance)
            .filter(|o| o.state.as_deref() == Some("RUNNING"))
        {
            let mut wizard = self.wizard.clone();
            if wizard.address.is_none() {
                wizard.address = o
                    .fields
                    .get("private_ip")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            let _ = self.pexip.complete_wizard_with(&wizard);
        }
    }

    /// The Management Node's instance is up: run its wizard. A replaced instance is a new
    /// VM: the old one's configuration is gone and the wizard runs again.
    pub fn instance_ready(&self, address: &Address, replaced: bool) {
        if self.manager_instance.as_ref() == Some(address) {
            if replaced {
                let _ = self.pexip.forget_configuration();
            }
            let _ = self.pexip.complete_wizard_with(&self.wizard);
        }
    }

    /// Counters of the calls the simulators received: OCI by operation, Pexip by method.
    pub fn calls(&self) -> SimCalls {
        let pexip = self.pexip.api_calls();
        SimCalls {
            oci: self.oci.stats(),
            pexip_reads: pexip.get,
            pexip_mutations: pexip.mutations(),
        }
    }

    /// Stops the simulators; when the Management Node's instance is gone, its configuration
    /// goes with it (a terminated VM keeps nothing).
    pub async fn shutdown(self, manager_gone: bool) {
        self.pexip.stop().await;
        if manager_gone {
            let _ = std::fs::remove_dir_all(&self.pexip_state);
        }
        self.oci.shutdown().await;
    }
}

/// What the simulators were asked during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SimCalls {
    /// OCI calls by operation name.
    pub oci: BTreeMap<String, u64>,
    /// Pexip management API reads.
    pub pexip_reads: u64,
    /// Pexip management API calls that change something.
    pub pexip_mutations: u64,
}

impl SimCalls {
    /// OCI calls that change something: every operation but gets, lists and heads.
    pub fn oci_mutations(&self) -> u64 {
        self.oci
            .iter()
            .filter(|(op, _)| !is_read_operation(op))
            .map(|(_, n)| n)
            .sum()
    }

    /// Every OCI call.
    pub fn oci_total(&self) -> u64 {
        self.oci.values().sum()
    }

    /// The calls since `before`.
    pub fn since(&self, before: &SimCalls) -> SimCalls {
        SimCalls {
            oci: self
                .oci
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v - before.oci.get(k).copied().unwrap_or(0).min(*v),
                    )
                })
                .filter(|(_, v)| *v > 0)
                .collect(),
            pexip_reads: self.pexip_reads.saturating_sub(before.pexip_reads),
            pexip_mutations: self.pexip_mutations.saturating_sub(before.pexip_mutations),
        }
    }
}

/// Whether an OCI operation name (`ListVcns`, `GetInstance`, `HeadObject`...) only reads.
pub(crate) fn is_read_operation(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("List") || op.starts_with("Head")
}

/// A launch that found no host capacity and went elsewhere, as the summary shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Placement {
    /// The instance.
    pub address: String,
    /// Where it found no capacity: the availability domain, and the fault domain if named.
    pub from: String,
    /// Where it was tried next.
    pub to: String,
    /// OCI's message.
    pub message: String,
}

/// The retries of a command beyond the executor's own: the OCI client's (by cause) and the
/// launches moved to another availability or fault domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Retries {
    /// OCI calls sent again after `429 TooManyRequests`.
    pub throttled: u64,
    /// OCI calls sent again after a 5xx answer.
    pub server_errors: u64,
    /// OCI calls sent again after a conflict of state, a network error or a timeout.
    pub other: u64,
    /// Launches out of host capacity, tried in another place.
    pub placement: Vec<Placement>,
}

/// What the OCI provider reports during a run (placement retries), kept for the summary.
#[derive(Debug, Default)]
pub(crate) struct RunEvents {
    placements: Mutex<Vec<Placement>>,
}

impl ProviderEvents for RunEvents {
    fn placement_retry(&self, address: &Address, retry: &PlacementRetry) {
        let place = |ad: &str, fd: Option<&str>| match fd {
            Some(fd) => format!("{ad} {fd}"),
            None => ad.to_owned(),
        };
        let placement = Placement {
            address: address.to_string(),
            from: place(&retry.availability_domain, retry.fault_domain.as_deref()),
            to: place(
                &retry.next_availability_domain,
                retry.next_fault_domain.as_deref(),
            ),
            message: retry.message.clone(),
        };
        self.placements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(placement);
    }
}

/// The providers and, with `--sim`, the simulators behind them.
pub(crate) struct World {
    /// The OCI provider, then the Pexip provider, for the executor.
    pub providers: Vec<Box<dyn DynProvider>>,
    /// The OCI provider (shared with `providers`).
    pub oci: Arc<OciProvider>,
    /// The Pexip provider (shared with `providers`).
    pub pexip: Arc<PexipProvider>,
    pub sim: Option<SimWorld>,
    /// Notes for the operator (stand-ins used in `--sim`).
    pub notes: Vec<String>,
    /// The executor's options for this world (durations scaled to the simulators' clock).
    pub exec: ExecOptions,
    /// The Management Node's instance, when the spec runs it in OCI.
    pub manager_instance: Option<Address>,
    /// The OCI client (the Object Storage lock, node lifecycle).
    pub oci_client: OciClient,
    /// What the OCI provider reported (placement retries).
    events: Arc<RunEvents>,
    /// Where to keep the Management Node's fingerprint once it is first seen.
    trust_pending: Mutex<Option<PathBuf>>,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("oci", &self.oci)
            .field("pexip", &self.pexip)
            .field(
                "sim",
                &self.sim.as_ref().map(|s| (s.oci.endpoints(), &s.pexip)),
            )
            .field("notes", &self.notes)
            .field("exec", &self.exec)
            .field("manager_instance", &self.manager_instance)
            .finish_non_exhaustive()
    }
}

/// A Conferencing Node stopped with `pexspec node stop` is in maintenance mode on purpose,
/// and stays so until `pexspec node start`: while its instance is `STOPPED`, its maintenance
/// mode is not drift, and an apply does not clear it (it would let conferences be placed on
/// a node that is off).
fn stopped_nodes_stay_in_maintenance(state: &mut ObservedState) {
    let stopped: Vec<Address> = state
        .resources
        .iter()
        .filter(|(a, o)| a.kind() == Kind::Instance && o.state.as_deref() == Some("STOPPED"))
        .filter_map(|(a, _)| a.key().map(|k| Address::new(Kind::WorkerVm, k)))
        .collect();
    for address in stopped {
        if let Some(vm) = state.resources.get_mut(&address)
            && vm.fields.get("maintenance_mode") == Some(&Value::Bool(true))
            && let Some(fields) = vm.fields.as_object_mut()
        {
            fields.insert("maintenance_mode".into(), Value::Bool(false));
        }
    }
}

/// The file in `.pexspec/` that pins the Management Node's certificate after first use.
const TRUST_FILE: &str = "pexip-trust";

impl World {
    /// After the first contact with a Management Node trusted on first use, keeps its
    /// certificate's fingerprint in `.pexspec/pexip-trust` and says so: every later run
    /// accepts that certificate only, and a changed one is refused with a clear error.
    fn remember_trust(&self) {
        let Ok(mut pending) = self.trust_pending.lock() else {
            return;
        };
        let Some(path) = pending.as_ref() else {
            return;
        };
        let Some(fingerprint) = self.pexip.client().observed_fingerprint() else {
            return;
        };
        if pexspec_journal::fsutil::write_private(path, format!("{fingerprint}\n").as_bytes())
            .is_ok()
        {
            let mut err = std::io::stderr();
            let _ = writeln!(
                err,
                "note: trusted the Management Node's certificate on first use: SHA-256 {fingerprint}\n  kept in {}; a different certificate will be refused (check it against the Management Node's console)",
                path.display()
            );
            *pending = None;
        }
    }

    /// The retries of the command so far beyond the executor's own: the OCI client's, by
    /// cause, and the placement retries.
    pub fn retries(&self) -> Retries {
        let counts = self.oci_client.retry_counts();
        Retries {
            throttled: counts.throttled,
            server_errors: counts.server_errors,
            other: counts.other,
            placement: self
                .events
                .placements
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }

    /// Observes OCI, then the Management Node. When the spec runs the Management Node in
    /// OCI and its instance is not running, nothing can exist on it: it is not asked (a
    /// Management Node that does not exist yet would only time out).
    pub async fn observe(&self, scope: &Scope) -> Result<ObservedState, ProviderError> {
        let mut state = ObservedState::new();
        state.merge(Provider::observe(self.oci.as_ref(), scope).await?);
        if let Some(sim) = &self.sim {
            sim.wizard_if_running(&state);
        }
        let manager_up = self.manager_instance.as_ref().is_none_or(|i| {
            state
                .get(i)
                .is_some_and(|o| o.state.as_deref() == Some("RUNNING"))
        });
        if manager_up {
            state.merge(Provider::observe(self.pexip.as_ref(), scope).await?);
            self.remember_trust();
        }
        stopped_nodes_stay_in_maintenance(&mut state);
        Ok(state)
    }
}

/// Every use of a secret in the graph's desired states: (the field that holds it, its
/// reference `env:NAME`, `file:PATH` or `inline`), each once.
struct SecretUses(BTreeSet<(String, String)>);

impl SecretUses {
    fn of(graph: &Graph) -> Self {
        fn walk(value: &Value, key: &str, out: &mut BTreeSet<(String, String)>) {
            if is_secret(value) {
                if let Some(r) = value.get("$secret").and_then(Value::as_str) {
                    out.insert((key.to_owned(), r.to_owned()));
                }
                return;
            }
            match value {
                Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, k, out)),
                Value::Array(items) => items.iter().for_each(|v| walk(v, key, out)),
                _ => {}
            }
        }
        let mut out = BTreeSet::new();
        for node in graph.nodes() {
            walk(&node.desired(), "", &mut out);
        }
        SecretUses(out)
    }

    /// The environment variables the secrets name, each once.
    fn env_names(&self) -> BTreeSet<String> {
        self.0
            .iter()
            .filter_map(|(_, r)| r.strip_prefix("env:").map(str::to_owned))
            .collect()
    }

    /// The environment variables whose secrets are PINs (a field named `pin` or `*_pin`):
    /// their stand-ins must be digits, as the Management Node requires.
    fn pin_names(&self) -> BTreeSet<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == "pin" || key.ends_with("_pin"))
            .filter_map(|(_, r)| r.strip_prefix("env:").map(str::to_owned))
            .collect()
    }

    /// A spec with a secret written in clear cannot be applied: the loader never kept its
    /// text.
    fn refuse_inline(&self) -> Result<(), Setup> {
        if self.0.iter().any(|(_, r)| r == "inline") {
            return Err(Setup::usage(
                "the spec has a secret written in clear, whose value pexspec never keeps\n  help: write it as `{ env: NAME }` or `{ file: PATH }`",
            ));
        }
        Ok(())
    }
}

/// The secrets for a real run: every `env:` secret must be set, checked before any call.
fn real_secrets(graph: &Graph, spec_dir: &Path) -> Result<SpecSecrets, Setup> {
    let uses = SecretUses::of(graph);
    uses.refuse_inline()?;
    let missing: Vec<String> = uses
        .env_names()
        .into_iter()
        .filter(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Setup::usage(format!(
            "the spec's secrets need these environment variables, which are not set: {}\n  help: export them (their values are never printed), or try the spec with `--sim`",
            missing.join(", ")
        )));
    }
    Ok(SpecSecrets::new(spec_dir))
}

/// The secrets for `--sim`: the environment's values, and for each variable that is not set
/// a stand-in generated once and kept in `.pexspec/sim/secrets.json` (owner-only), so that a
/// newcomer needs no licence key and a second run sees the same values.
fn sim_secrets(
    graph: &Graph,
    spec_dir: &Path,
    state_dir: &Path,
    notes: &mut Vec<String>,
) -> Result<SpecSecrets, Setup> {
    let uses = SecretUses::of(graph);
    uses.refuse_inline()?;
    let path = state_dir.join("secrets.json");
    let pins = uses.pin_names();
    let cannot_keep = |e: std::io::Error| {
        Setup::failure(format!(
            "cannot keep the simulator's secrets in `{}`: {e}",
            path.display()
        ))
    };
    // Two runs in one folder may both find no file and make stand-ins: the file is created
    // whole and exclusively, the first run's wins, and the other run takes its values.
    let mut lost_the_race = false;
    let (table, stand_ins) = loop {
        let existing = std::fs::read(&path).ok();
        let mut kept: BTreeMap<String, String> = existing
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        let mut table = BTreeMap::new();
        let mut stand_ins = Vec::new();
        let mut changed = false;
        for name in uses.env_names() {
            if let Some(value) = std::env::var_os(&name).and_then(|v| v.into_string().ok())
                && !value.is_empty()
            {
                table.insert(name, value);
                continue;
            }
            let value = kept
                .entry(name.clone())
                .or_insert_with(|| {
                    changed = true;
                    if pins.contains(&name) {
                        random_digits(8)
                    } else {
                        random_text(24)
                    }
                })
                .clone();
            table.insert(name.clone(), value);
            stand_ins.push(name);
        }
        if changed {
            let text = serde_json::to_vec_pretty(&kept).unwrap_or_default();
            if existing.is_none() && !lost_the_race {
                if !pexspec_journal::fsutil::create_whole(&path, &text).map_err(cannot_keep)? {
                    lost_the_race = true;
                    continue;
                }
            } else {
                pexspec_journal::fsutil::write_private(&path, &text).map_err(cannot_keep)?;
            }
        }
        break (table, stand_ins);
    };
    if !stand_ins.is_empty() {
        notes.push(format!(
            "--sim: {} not set; using stand-in values kept in {} (mode 0600)",
            stand_ins.join(", "),
            path.display()
        ));
    }
    Ok(SpecSecrets::with_env(spec_dir, table))
}

fn random_digits(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// `len` random letters and digits.
pub(crate) fn random_text(len: usize) -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The spec's files relative to its directory; in `--sim`, an OVA file that is not on disk
/// (the images are gigabytes, downloaded from Pexip) is replaced by a small stand-in.
fn file_resolver(
    graph: &Graph,
    spec_dir: &Path,
    state_dir: Option<&Path>,
    notes: &mut Vec<String>,
) -> Result<Arc<dyn FileResolver>, Setup> {
    let base = RelativeTo(spec_dir.to_path_buf());
    let Some(state_dir) = state_dir else {
        return Ok(Arc::new(base));
    };
    let mut stand_ins: BTreeMap<String, PathBuf> = BTreeMap::new();
    for node in graph.nodes().filter(|n| n.kind() == Kind::Object) {
        let desired = node.desired();
        let Some(source) = desired
            .get("source")
            .and_then(|s| s.get("$file").or(Some(s)))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let real = base.resolve(source);
        if real.is_file() {
            continue;
        }
        let name = Path::new(source)
            .file_name()
            .map_or_else(|| "image.ova".into(), |n| n.to_string_lossy().into_owned());
        let path = state_dir.join("images").join(&name);
        if !path.is_file() {
            write_stand_in(&path, &name).map_err(|e| {
                Setup::failure(format!(
                    "cannot write a stand-in image `{}`: {e}",
                    path.display()
                ))
            })?;
        }
        stand_ins.insert(source.to_owned(), path);
    }
    if !stand_ins.is_empty() {
        notes.push(format!(
            "--sim: {} not on disk; uploading {} MiB stand-ins from {}",
            stand_ins.keys().cloned().collect::<Vec<_>>().join(", "),
            STAND_IN_BYTES >> 20,
            state_dir.join("images").display()
        ));
    }
    Ok(Arc::new(move |path: &str| {
        stand_ins
            .get(path)
            .cloned()
            .unwrap_or_else(|| base.resolve(path))
    }))
}

/// Writes the stand-in of the image `name` to `path`, whole or not at all: several `--sim`
/// runs in one folder may write it at once, and each reads it right after.
fn write_stand_in(path: &Path, name: &str) -> std::io::Result<()> {
    let seed = name
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    let data: Vec<u8> = (0..STAND_IN_BYTES)
        .map(|i| (i % 251) as u8 ^ seed)
        .collect();
    pexspec_journal::fsutil::write_atomic(path, &data, false)
}

/// The executor's options, with every duration divided by the simulators' speed and every
/// rate multiplied by it: the rate limit is requests per second of OCI's time, so that a
/// `--sim` run is throttled as much, relative to its waits, as a real one (unscaled, ten
/// requests per second at speed 60 would be one request every six simulated seconds).
fn exec_options(speed: Option<f64>) -> ExecOptions {
    let Some(speed) = speed else {
        return ExecOptions::default();
    };
    let scale = |d: Duration| Duration::from_secs_f64(d.as_secs_f64() / speed);
    let mut durations = Durations::new();
    for kind in Kind::ALL {
        for op in [Operation::Create, Operation::Update, Operation::Delete] {
            durations.set(*kind, op, scale(default_estimate(*kind, op)));
        }
    }
    let defaults = ExecOptions::default();
    ExecOptions {
        durations,
        poll: PollPolicy {
            min_interval: Duration::from_millis(20),
            max_interval: scale(defaults.poll.max_interval).max(Duration::from_millis(50)),
        },
        min_wait_timeout: scale(defaults.min_wait_timeout).max(Duration::from_secs(30)),
        visibility_grace: scale(defaults.visibility_grace).max(Duration::from_secs(2)),
        rate_limit: defaults.rate_limit.as_ref().map(|r| RateLimit {
            initial_rate: r.initial_rate * speed,
            max_rate: r.max_rate * speed,
            min_rate: r.min_rate * speed,
            increase_per_success: r.increase_per_success * speed,
            decrease_cooldown: scale(r.decrease_cooldown),
            burst: r.burst,
        }),
        ..defaults
    }
}

/// The OCI client's options in `--sim`: OCI's time is the simulator's, so the adaptive rate
/// limit and the backoff run `speed` times faster, as every other wait of the run does (a
/// throttled run would otherwise crawl at OCI's real-time rates while the cloud flies).
fn sim_client_options(speed: f64) -> OciClientOptions {
    let mut options = OciClientOptions::default();
    let down = |d: Duration| Duration::from_secs_f64(d.as_secs_f64() / speed);
    let rate = &mut options.rate_limit;
    rate.initial_rate *= speed;
    rate.max_rate *= speed;
    rate.min_rate *= speed;
    rate.increase_per_success *= speed;
    rate.decrease_cooldown = down(rate.decrease_cooldown);
    let retry = &mut options.retry;
    retry.base_delay = down(retry.base_delay);
    retry.max_delay = down(retry.max_delay);
    retry.max_retry_after = down(retry.max_retry_after);
    // Round trips take real time: never give up on a call within a real minute.
    retry.max_elapsed = down(retry.max_elapsed).max(Duration::from_secs(60));
    options
}

fn scaled(d: Duration, speed: Option<f64>) -> Duration {
    match speed {
        Some(s) => Duration::from_secs_f64(d.as_secs_f64() / s).max(Duration::from_millis(20)),
        None => d,
    }
}

/// The Management Node's name, and its instance address when it runs in OCI.
fn manager(graph: &Graph) -> Option<(String, Option<Address>)> {
    let node = graph
        .nodes()
        .find(|n| n.kind() == Kind::ManagementBootstrap)?;
    let name = node.address.key()?.to_owned();
    let instance = Address::new(Kind::Instance, &name);
    let in_oci = graph.contains(&instance).then_some(instance);
    Some((name, in_oci))
}

/// The simulated Management Node's state directory, `STATE/pexip/NAME`. The name comes from
/// the spec: it must be a plain file name, so that the directory (its database, key and
/// certificate) never leaves `STATE/pexip`.
fn sim_manager_dir(state_dir: &Path, name: &str) -> Result<PathBuf, Setup> {
    pexspec_journal::fsutil::child(&state_dir.join("pexip"), name).map_err(|e| {
        Setup::usage(format!(
            "the Management Node's name cannot name its simulator's state directory: {e}"
        ))
    })
}

/// The file in a simulated Management Node's state directory that names the stack it was
/// made for.
const SIM_MANAGER_STACK: &str = "stack";

/// Claims the simulated Management Node in `dir` for `stack`. The simulators key a
/// Management Node by its name alone, so two stacks applied in one folder with the same
/// Management Node name (the example specs all call theirs `pexmgr`) would share one: the
/// second would meet the first one's Conferencing Nodes. Refused before anything is made.
fn claim_sim_manager(dir: &Path, name: &str, stack: &str) -> Result<(), Setup> {
    let marker = dir.join(SIM_MANAGER_STACK);
    let io = |e: std::io::Error| {
        Setup::usage(format!(
            "cannot record the stack of the simulated Management Node in `{}`: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    if pexspec_journal::fsutil::create_whole(&marker, stack.as_bytes()).map_err(io)? {
        return Ok(());
    }
    let owner = std::fs::read_to_string(&marker).map_err(io)?;
    let owner = owner.trim();
    if owner == stack {
        return Ok(());
    }
    Err(Setup::usage(format!(
        "the simulated Management Node `{name}` in this folder belongs to stack `{owner}`: the simulators know a Management Node by its name, and two stacks in one folder cannot share one\n  help: destroy stack `{owner}` first (`pexspec destroy ITS_SPEC --sim`), rename this spec's `management_node.name`, or run this spec from a copy in another folder"
    )))
}

/// What a real run without a usable OCI configuration should do next.
const FIRST_REAL_RUN_HELP: &str = "a real run needs an OCI API key and a `~/.oci/config` profile (or `OCI_CLI_CONFIG_FILE`, `OCI_CLI_PROFILE`): see \"Before your first real apply\" (https://pexspec.dev/book/first-real-run.html), or try the spec with `--sim`";

/// Builds the world for `graph` (from `spec`, in `spec_dir`).
pub(crate) async fn build(
    graph: &Graph,
    spec: &Spec,
    spec_dir: &Path,
    target: &Target,
) -> Result<World, Setup> {
    let mut notes = Vec::new();
    let settings = OciSettings::from_graph(graph).map_err(|e| Setup::usage(e.to_string()))?;
    let speed = target.sim_speed;
    let poll = PollOptions {
        initial_interval: scaled(Duration::from_secs(5), speed),
        max_interval: scaled(Duration::from_secs(30), speed),
        timeout: scaled(Duration::from_secs(7200), speed).max(Duration::from_secs(60)),
    };
    let Some((manager_name, manager_instance)) = manager(graph) else {
        return Err(Setup::usage("the spec has no Management Node"));
    };

    let (oci_client, sim_parts, secrets) = match speed {
        Some(speed) => {
            let state_dir = spec_dir.join(".pexspec").join("sim");
            // Refused before the simulators write anything.
            sim_manager_dir(&state_dir, &manager_name)?;
            std::fs::create_dir_all(&state_dir).map_err(|e| {
                Setup::usage(format!(
                    "cannot create the simulator's state directory `{}`: {e}",
                    state_dir.display()
                ))
            })?;
            let secrets = sim_secrets(graph, spec_dir, &state_dir, &mut notes)?;
            let mut options = ServeOptions::default()
                .state_dir(&state_dir)
                .clock(SimClock::scaled(speed))
                .faults(target.sim_faults.clone().unwrap_or_default())
                .region(settings.home_region.clone());
            for region in graph.regions() {
                options = options.region(region.clone());
            }
            let oci = serve(options)
                .await
                .map_err(|e| Setup::failure(format!("cannot start the OCI simulator: {e}")))?;
            let config = OciConfig::load(
                &LoadOptions {
                    config_file: Some(oci.config_file().to_path_buf()),
                    profile: Some(oci.profile().to_owned()),
                },
                &BTreeMap::<String, String>::new(),
            )
            .map_err(|e| Setup::failure(format!("the simulator's OCI configuration: {e}")))?;
            let endpoints = Endpoints::from_overrides(
                oci.endpoints()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .map_err(|e| Setup::failure(format!("the simulator's endpoints: {e}")))?;
            let client = OciClient::with_options(&config, endpoints, sim_client_options(speed))
                .map_err(|e| Setup::failure(format!("the OCI client: {e}")))?;
            (client, Some((oci, state_dir)), secrets)
        }
        None => {
            // The OCI configuration first: a newcomer without one learns what to set up before
            // being asked for any secret.
            let profile = spec.oci.profile.as_ref().map(|p| p.value.clone());
            let config = OciConfig::load(
                &LoadOptions {
                    config_file: None,
                    profile,
                },
                &ProcessEnv,
            )
            .map_err(|e| Setup::usage(format!("{e}\n  help: {FIRST_REAL_RUN_HELP}")))?;
            let secrets = real_secrets(graph, spec_dir)?;
            let client = OciClient::new(&config, Endpoints::oc1())
                .map_err(|e| Setup::usage(e.to_string()))?;
            (client, None, secrets)
        }
    };

    let files = file_resolver(
        graph,
        spec_dir,
        sim_parts.as_ref().map(|(_, dir)| dir.as_path()),
        &mut notes,
    )?;
    let events = Arc::new(RunEvents::default());
    let oci = Arc::new(
        OciProvider::new(
            oci_client.clone(),
            settings,
            files,
            UploadOptions::default(),
            poll.clone(),
        )
        .with_events(Arc::clone(&events) as Arc<dyn ProviderEvents>),
    );

    let secrets: Arc<dyn SecretResolver> = Arc::new(secrets);
    let password = PexipProvider::admin_password(graph, secrets.as_ref())
        .map_err(|e| Setup::usage(format!("the Management Node's admin password: {e}")))?;

    let mut trust_to_store: Option<PathBuf> = None;
    let (pexip_client, sim) = match sim_parts {
        Some((oci_sim, state_dir)) => {
            let pexip_state = sim_manager_dir(&state_dir, &manager_name)?;
            claim_sim_manager(&pexip_state, &manager_name, graph.stack())?;
            let mut opts = PexipSimOptions::new(&pexip_state, password.expose().to_owned());
            opts.time_scale = speed.unwrap_or(1.0);
            opts.auto_bootstrap = manager_instance.is_none();
            opts.wizard = wizard_answers(graph, &manager_name);
            let wizard = opts.wizard.clone();
            let pexip = pexspec_sim::pexip::start(opts).await.map_err(|e| {
                Setup::failure(format!(
                    "cannot start the Management Node simulator `{manager_name}`: {e}"
                ))
            })?;
            let fingerprint = pexip.fingerprint().parse().map_err(|e| {
                Setup::failure(format!("the simulator's certificate fingerprint: {e}"))
            })?;
            let client = PexipClientOptions::new(
                pexip.base_url(),
                Secret::new(password.expose()),
                Trust::Pinned(fingerprint),
            );
            let sim = SimWorld {
                oci: oci_sim,
                pexip,
                pexip_state,
                manager_instance: manager_instance.clone(),
                wizard,
            };
            (client, Some(sim))
        }
        None => {
            let address = manager_address(graph, &manager_name).ok_or_else(|| {
                Setup::usage("the Management Node has no address pexspec can reach")
            })?;
            let trust_file = spec_dir.join(".pexspec").join(TRUST_FILE);
            let trust = match std::fs::read_to_string(&trust_file) {
                Ok(text) => Trust::Pinned(text.trim().parse().map_err(|e| {
                    Setup::usage(format!(
                        "`{}` does not hold a certificate fingerprint: {e}",
                        trust_file.display()
                    ))
                })?),
                Err(_) => {
                    trust_to_store = Some(trust_file);
                    Trust::FirstUse
                }
            };
            (
                PexipClientOptions::new(format!("https://{address}"), password, trust),
                None,
            )
        }
    };

    let mut options = PexipProviderOptions::new(pexip_client);
    let trust_pending = Mutex::new(trust_to_store);
    // The executor's journal keeps the bootstrap files (sealed): no second copy in clear.
    options.bootstrap_store = None;
    options.drain = WaitOptions::new(
        scaled(Duration::from_secs(3600), speed),
        scaled(Duration::from_secs(30), speed),
    );
    if sim.is_none() {
        options.wizard = operator_wizard(&oci, spec, spec_dir, poll);
    }
    if let Some(sim) = &sim {
        let routes = sim.pexip.bootstrap_routes();
        options.upload_router = Some(Arc::new(move |name: &str, _address: &str| routes.get(name)));
        options.wizard = WizardMode::Automatic {
            wait: WaitOptions::new(
                scaled(Duration::from_secs(3600), speed).max(Duration::from_secs(30)),
                scaled(Duration::from_secs(10), speed),
            ),
        };
    }
    let pexip = PexipProvider::new(options, secrets, graph)
        .map_err(|e| Setup::usage(format!("the Management Node: {e}")))?;

    let pexip = Arc::new(pexip);
    let providers: Vec<Box<dyn DynProvider>> =
        vec![Box::new(Arc::clone(&oci)), Box::new(Arc::clone(&pexip))];
    Ok(World {
        providers,
        oci,
        pexip,
        sim,
        notes,
        exec: exec_options(speed),
        manager_instance,
        oci_client,
        events,
        trust_pending,
    })
}

/// The operator runs the installation wizard on the serial console: pexspec opens an OCI
/// console connection to the Management Node's instance (with the spec's SSH key), prints
/// the command and every answer, and waits until the management API answers.
fn operator_wizard(
    oci: &Arc<OciProvider>,
    spec: &Spec,
    spec_dir: &Path,
    poll: PollOptions,
) -> WizardMode {
    let key_path = spec.ssh_public_key.value.trim().to_owned();
    let mut wizard = OperatorWizard::default().with_instructions(Arc::new(|text: &str| {
        let mut err = std::io::stderr();
        let _ = writeln!(err, "{text}");
    }));
    if let Ok(key) = std::fs::read_to_string(spec_dir.join(&key_path)) {
        let lookup = ConsoleLookup::new(Arc::clone(oci), key.trim().to_owned()).with_poll(poll);
        let console: Arc<dyn ConsoleAccess> =
            Arc::new(move |t: &ConsoleTarget| -> ConsoleFuture<'static> {
                let (lookup, t, key_path) = (lookup.clone(), t.clone(), key_path.clone());
                Box::pin(async move {
                    let c = lookup
                        .connect(&t.stack, &t.instance, t.region.as_deref())
                        .await
                        .map_err(|e| e.to_string())?;
                    let mut notes = vec![format!(
                        "ssh offers the private half of `{key_path}` (the spec's ssh_public_key)"
                    )];
                    notes.extend(
                        c.service_host_key_fingerprint
                            .map(|f| format!("the console service's host key is {f}")),
                    );
                    Ok(ConsoleInfo {
                        command: c.connection_string,
                        vnc_command: c.vnc_connection_string,
                        notes,
                    })
                })
            });
        wizard = wizard.with_console(console);
    }
    WizardMode::Operator(wizard)
}

/// The installation wizard's answers, from the `management_bootstrap`'s desired state.
fn wizard_answers(graph: &Graph, name: &str) -> SimWizard {
    let mut wizard = SimWizard::default();
    let Some(node) = graph.get(&Address::new(Kind::ManagementBootstrap, name)) else {
        return wizard;
    };
    let desired = node.desired();
    let text = |key: &str| desired.get(key).and_then(Value::as_str).map(str::to_owned);
    let list = |key: &str| -> Option<Vec<String>> {
        desired.get(key)?.as_array().map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
    };
    if let Some(h) = text("hostname") {
        wizard.hostname = h;
    }
    if let Some(d) = text("domain") {
        wizard.domain = d;
    }
    if let Some(dns) = list("dns_servers") {
        wizard.dns_servers = dns;
    }
    if let Some(ntp) = list("ntp_servers") {
        wizard.ntp_servers = ntp;
    }
    // Known here when the spec gives them (a reference to the instance's private IP is
    // resolved once the instance runs: see `SimWorld::wizard_if_running`).
    wizard.address = text("address");
    wizard.netmask = text("netmask");
    wizard.gateway = text("gateway");
    wizard
}

/// The address pexspec reaches the Management Node at: its on-premises address, or its
/// private address in OCI (reached over the VPN or FastConnect, as the guide's private
/// deployments are).
fn manager_address(graph: &Graph, name: &str) -> Option<String> {
    let node = graph.get(&Address::new(Kind::ManagementBootstrap, name))?;
    node.desired()
        .get("address")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_options_scale_durations_down_and_rates_up() {
        assert_eq!(exec_options(None), ExecOptions::default());
        let defaults = ExecOptions::default();
        let fast = exec_options(Some(60.0));
        assert_eq!(
            fast.durations.estimate(Kind::Image, Operation::Create),
            default_estimate(Kind::Image, Operation::Create) / 60
        );
        let (Some(real), Some(sim)) = (defaults.rate_limit, fast.rate_limit) else {
            panic!("both runs are rate limited");
        };
        assert_eq!(sim.max_rate, real.max_rate * 60.0);
        assert_eq!(sim.initial_rate, real.initial_rate * 60.0);
        assert_eq!(sim.min_rate, real.min_rate * 60.0);
        assert_eq!(sim.increase_per_success, real.increase_per_success * 60.0);
        assert_eq!(
            sim.decrease_cooldown.as_micros(),
            (real.decrease_cooldown / 60).as_micros()
        );
        assert_eq!(sim.burst, real.burst);
    }
}
