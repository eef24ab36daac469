//! The Pexip side of [`pexspec_plan::Provider`]: observes the Management Node's configuration
//! under the graph's addresses and in the shape of its desired state, and creates, updates
//! and deletes every Pexip kind through the client.
//!
//! # What is observed, and how each kind is matched
//!
//! Pexip objects carry no tags, so each is matched by its natural key, the key of its address:
//!
//! | kind | matched by | scope |
//! |---|---|---|
//! | `management_bootstrap` | the management API answers with the trusted certificate and the admin credentials | the stack's one Management Node |
//! | `dns_server`, `ntp_server` | address | every object on the Management Node |
//! | `system_location` | name | every object |
//! | `worker_vm` | name | every object |
//! | `node_bootstrap` | its `worker_vm` reports that it was configured (`SYNCING`, `SYNCED`, or contacted) | every Conferencing Node |
//! | `licence` | the key, resolved from the spec and compared in constant time | only the spec's licences |
//! | `tls_certificate` | the certificate file's SHA-256 fingerprint, else subject CN and serial | only the spec's certificates |
//! | `conference` | name | only the spec's rooms |
//! | `conference_alias` | alias | the spec's aliases and every alias of the spec's rooms |
//!
//! Objects in the "every object" scope that the spec does not name are deleted by an apply:
//! the spec lists the platform's DNS and NTP servers, locations and nodes completely. Rooms,
//! licences and certificates are also made by people and by directory sync, and a certificate
//! may serve the Management Node itself: pexspec only sees those the spec names.
//!
//! # Secrets in observed fields
//!
//! Observed fields never hold a secret's value. A secret the API returns (PINs, licence keys)
//! is compared with the spec's value at observe time: when it matches, the observed field *is*
//! the spec's `{"$secret": ...}` reference, so the plan sees no change; when it differs it is
//! [`SECRET_SET`]; when the spec wants one and none is set it is [`SECRET_NOT_SET`]. Secrets
//! the API never returns (the SSH password, a private key, the admin password) are left out of
//! the observed fields: the plan cannot see them drift.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pexspec_graph::network::canonical_ip;
use pexspec_graph::value::{is_secret, is_write_only};
use pexspec_graph::{Address, Graph, Kind};
use pexspec_plan::{
    CreateRequest, Created, DeleteRequest, GetRequest, Observed, ObservedState, Provider,
    ProviderError, Scope, Sensitive, UpdateRequest,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{Api, Client, ClientOptions, Resource};
use crate::der::cert_id;
use crate::ensure::{ensure, find, read_back};
use crate::error::PexipError;
use crate::node::{
    BOOTSTRAP_PORT, BootstrapFile, BootstrapSink, BootstrapStore, UploadOptions, bootstrap_base,
    create_worker_vm, drain, set_maintenance, upload_bootstrap,
};
use crate::objects::{
    Conference, ConferenceAlias, ConferenceAliasSpec, ConferenceSpec, DnsServer, DnsServerSpec,
    Licence, LicenceSpec, Managed, NodeRole, NtpServer, NtpServerSpec, SystemLocation,
    SystemLocationSpec, TlsCertificate, TlsCertificateSpec, WorkerVm, WorkerVmSpec, diff,
    same_licence,
};
use crate::resolver::SecretResolver;
use crate::secret::Secret;
use crate::status::{ManagementVmStatus, SYNCED, WorkerVmStatus};
use crate::uri::{self, ResourceUri};
use crate::wait::WaitOptions;
use crate::wizard::{
    ConsoleAccess, ConsoleInfo, ConsoleTarget, InstructionSink, SecretSource, WizardInputs, human,
    render_instructions, render_wizard, wait_until_ready,
};

/// The kinds the Pexip provider observes and changes, in creation order.
pub const PEXIP_KINDS: &[Kind] = &[
    Kind::ManagementBootstrap,
    Kind::DnsServer,
    Kind::NtpServer,
    Kind::Licence,
    Kind::SystemLocation,
    Kind::TlsCertificate,
    Kind::Conference,
    Kind::ConferenceAlias,
    Kind::WorkerVm,
    Kind::NodeBootstrap,
];

/// The observed value of a secret field that is set to something other than the spec's value
/// (or set while the spec wants none). The value itself is never shown.
pub const SECRET_SET: &str = "(set)";

/// The observed value of a secret field the spec wants but that is not set.
pub const SECRET_NOT_SET: &str = "(not set)";

/// The [`Observed::state`] of a `node_bootstrap` whose node is in service: the executor polls
/// [`Provider::get`] after the create until it sees this state.
pub const NODE_READY_STATE: &str = SYNCED;

/// The [`Observed::state`] a `node_bootstrap` create returns: the file was posted, the node
/// has not reported yet.
pub const NODE_UPLOADED_STATE: &str = "UPLOADED";

/// The [`Observed::state`] of a `management_bootstrap` whose API answers.
pub const MANAGER_READY_STATE: &str = "READY";

/// Node name and upload address → the node's base URL (the file goes to its
/// `configuration/bootstrap`), when it is not `https://<address>:8443/` (the simulator's
/// per-node listeners). Consulted before
/// [`UploadOptions::overrides`].
pub type UploadRouter = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// How the Management Node's installation wizard gets run.
#[derive(Debug, Clone)]
pub enum WizardMode {
    /// Something runs it unattended (the simulator's `auto_bootstrap`): the
    /// `management_bootstrap` create waits until the management API answers.
    Automatic {
        /// How long to wait, how often to look.
        wait: WaitOptions,
    },
    /// The operator runs it on the serial console. The `management_bootstrap` create asks the
    /// [`OperatorWizard::console`] for the connect command, hands the instructions (the
    /// command and every answer) to [`OperatorWizard::instructions`] once, and waits for the
    /// management API; a re-run after the wizard finds the Management Node answering. Without
    /// an instruction sink the create fails at once with the instructions instead.
    Operator(OperatorWizard),
}

/// How the operator is guided through the wizard, and what the rendered answers need beyond
/// the spec.
#[derive(Clone)]
pub struct OperatorWizard {
    /// What opens the serial console when no [`OperatorWizard::console`] gives a command (or
    /// it fails): the OCI Console's path by default.
    pub console_command: String,
    /// Opens the serial console (an OCI instance console connection) and gives the connect
    /// command.
    pub console: Option<Arc<dyn ConsoleAccess>>,
    /// Receives the instructions (the binary prints them).
    pub instructions: Option<InstructionSink>,
    /// How long the create waits for the management API after the instructions, and how
    /// often it looks.
    pub wait: WaitOptions,
    /// The environment variable holding the new operating-system password of `admin`.
    pub os_password_env: String,
    /// Web administration username.
    pub admin_username: String,
    /// Answer to "Enable incident reporting".
    pub enable_incident_reporting: bool,
    /// Answer to "Send deployment and usage statistics to Pexip".
    pub send_usage_statistics: bool,
}

impl fmt::Debug for OperatorWizard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorWizard")
            .field("console_command", &self.console_command)
            .field("console", &self.console.is_some())
            .field("instructions", &self.instructions.is_some())
            .field("wait", &self.wait)
            .field("os_password_env", &self.os_password_env)
            .field("admin_username", &self.admin_username)
            .field("enable_incident_reporting", &self.enable_incident_reporting)
            .field("send_usage_statistics", &self.send_usage_statistics)
            .finish()
    }
}

impl OperatorWizard {
    /// Asks `console` for the connect command.
    pub fn with_console(mut self, console: Arc<dyn ConsoleAccess>) -> Self {
        self.console = Some(console);
        self
    }

    /// Hands the instructions to `sink` and waits for the wizard instead of failing at once.
    pub fn with_instructions(mut self, sink: InstructionSink) -> Self {
        self.instructions = Some(sink);
        self
    }

    /// Waits for the management API as `wait` says.
    pub fn with_wait(mut self, wait: WaitOptions) -> Self {
        self.wait = wait;
        self
    }
}

impl Default for OperatorWizard {
    /// The OCI Console's path, no console access, no instruction sink, a one-hour wait polled
    /// every 15 seconds, the operating-system password in `$PEXIP_OS_PASSWORD`, web user
    /// `admin`, no incident reports, no usage statistics.
    fn default() -> Self {
        OperatorWizard {
            console_command: "OCI Console > Compute > Instances > the Management Node > Console connection > Launch Cloud Shell connection".into(),
            console: None,
            instructions: None,
            wait: WaitOptions::new(Duration::from_secs(3600), Duration::from_secs(15)),
            os_password_env: "PEXIP_OS_PASSWORD".into(),
            admin_username: "admin".into(),
            enable_incident_reporting: false,
            send_usage_statistics: false,
        }
    }
}

/// Options of [`PexipProvider::new`].
#[derive(Clone)]
pub struct PexipProviderOptions {
    /// The Management Node: base URL, admin credentials, trust, retries.
    pub client: ClientOptions,
    /// Where bootstrap files are kept until their node synced, besides the executor's
    /// journal: written before a `worker_vm` create returns, read by a `node_bootstrap`
    /// create that got no input.
    pub bootstrap_store: Option<BootstrapStore>,
    /// How bootstrap files are posted (trust of the fresh node, static overrides by address).
    pub upload: UploadOptions,
    /// Upload URLs known only at run time (the simulator's listeners).
    pub upload_router: Option<UploadRouter>,
    /// Who runs the installation wizard.
    pub wizard: WizardMode,
    /// How long a `worker_vm` delete waits for the node's conferences to end.
    pub drain: WaitOptions,
}

impl PexipProviderOptions {
    /// Defaults: no bootstrap store, default uploads, the operator runs the wizard, a
    /// one-hour drain polled every 30 seconds.
    pub fn new(client: ClientOptions) -> Self {
        PexipProviderOptions {
            client,
            bootstrap_store: None,
            upload: UploadOptions::default(),
            upload_router: None,
            wizard: WizardMode::Operator(OperatorWizard::default()),
            drain: WaitOptions::new(Duration::from_secs(3600), Duration::from_secs(30)),
        }
    }
}

impl fmt::Debug for PexipProviderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PexipProviderOptions")
            .field("base_url", &self.client.base_url)
            .field("bootstrap_store", &self.bootstrap_store)
            .field("upload", &self.upload)
            .field("upload_router", &self.upload_router.is_some())
            .field("wizard", &self.wizard)
            .field("drain", &self.drain)
            .finish_non_exhaustive()
    }
}

/// The Pexip Management Node as a [`Provider`] of the Pexip kinds ([`PEXIP_KINDS`]). See the
/// module documentation for how each kind is observed.
pub struct PexipProvider {
    client: Client,
    resolver: Arc<dyn SecretResolver>,
    store: Option<BootstrapStore>,
    upload: UploadOptions,
    router: Option<UploadRouter>,
    wizard: WizardMode,
    drain: WaitOptions,
    stack: String,
    /// The graph's Pexip resources: address → (desired state, dependencies).
    desired: BTreeMap<Address, (Value, BTreeSet<Address>)>,
    /// The Management Node's instance, when it runs in OCI.
    console_target: Option<ConsoleTarget>,
}

impl fmt::Debug for PexipProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PexipProvider")
            .field("base_url", &self.client.base_url())
            .field("stack", &self.stack)
            .field("resources", &self.desired.len())
            .finish_non_exhaustive()
    }
}

/// The configuration singleton of the Management Node (`configuration/v1/management_vm/`),
/// where the API serves it (the simulator does not; fields not confirmed against a real
/// Management Node).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ManagementVmConfig {
    resource_uri: ResourceUri,
    hostname: String,
    domain: String,
    address: String,
    netmask: String,
    gateway: String,
    #[serde(deserialize_with = "uri::list")]
    dns_servers: Vec<ResourceUri>,
    #[serde(deserialize_with = "uri::list")]
    ntp_servers: Vec<ResourceUri>,
}

impl Resource for ManagementVmConfig {
    const KIND: &'static str = "management_vm";
    const API: Api = Api::Configuration;
}

/// What one observation read from the Management Node.
#[derive(Debug, Default)]
struct Snapshot {
    manager: Option<ManagementVmStatus>,
    manager_config: Option<ManagementVmConfig>,
    dns: Vec<DnsServer>,
    ntp: Vec<NtpServer>,
    licences: Vec<Licence>,
    locations: Vec<SystemLocation>,
    certificates: Vec<TlsCertificate>,
    conferences: Vec<Conference>,
    aliases: Vec<ConferenceAlias>,
    workers: Vec<WorkerVm>,
    statuses: Vec<WorkerVmStatus>,
}

/// Which lists an observation of some kinds needs.
#[derive(Debug, Default, Clone, Copy)]
struct Need {
    manager: bool,
    dns: bool,
    ntp: bool,
    licences: bool,
    locations: bool,
    certificates: bool,
    conferences: bool,
    aliases: bool,
    workers: bool,
}

impl Need {
    fn all() -> Self {
        Need {
            manager: true,
            dns: true,
            ntp: true,
            licences: true,
            locations: true,
            certificates: true,
            conferences: true,
            aliases: true,
            workers: true,
        }
    }

    fn of(kind: Kind) -> Self {
        let mut n = Need::default();
        match kind {
            Kind::ManagementBootstrap => {
                n.manager = true;
                n.dns = true;
                n.ntp = true;
            }
            Kind::DnsServer => n.dns = true,
            Kind::NtpServer => n.ntp = true,
            Kind::Licence => n.licences = true,
            Kind::SystemLocation => n.locations = true,
            Kind::TlsCertificate => n.certificates = true,
            Kind::Conference => n.conferences = true,
            Kind::ConferenceAlias => {
                n.conferences = true;
                n.aliases = true;
            }
            Kind::WorkerVm | Kind::NodeBootstrap => n.workers = true,
            _ => {}
        }
        n
    }
}

/// A bootstrap sink that keeps a copy of the file for the create's [`Sensitive`] output and
/// writes it to the store, if there is one, before the create returns.
struct Capture<'a> {
    store: Option<&'a BootstrapStore>,
    file: Mutex<Option<BootstrapFile>>,
}

impl BootstrapSink for Capture<'_> {
    fn persist(&self, file: &BootstrapFile) -> Result<String, PexipError> {
        let at = match self.store {
            Some(store) => store.persist(file)?,
            None => "the executor's journal".to_owned(),
        };
        let mut slot = match self.file.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *slot = Some(file.clone());
        Ok(at)
    }
}

/// A Pexip error as the plan crate's error, with the address it concerns.
pub fn provider_error(address: &Address, e: PexipError) -> ProviderError {
    let message = e.to_string();
    match e {
        PexipError::Auth { .. } | PexipError::Trust(_) | PexipError::Config(_) => {
            ProviderError::Config { message }
        }
        PexipError::Validation { .. } | PexipError::Input(_) => ProviderError::Invalid {
            address: address.to_string(),
            message,
        },
        PexipError::Network { .. } => ProviderError::Network { message },
        PexipError::Throttled { retry_after, .. } => ProviderError::Throttled {
            retry_after_ms: retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        },
        PexipError::Conflict { .. } => ProviderError::Conflict {
            address: address.to_string(),
            message,
        },
        PexipError::NotFound { .. } => ProviderError::NotFound {
            address: address.to_string(),
        },
        PexipError::Server { status, .. } => ProviderError::Provider {
            status,
            code: "http".into(),
            message,
        },
        // A wait that ran out: trying again waits again.
        PexipError::Timeout { .. } => ProviderError::Provider {
            status: 504,
            code: "timeout".into(),
            message,
        },
        PexipError::Decode { .. } => ProviderError::Provider {
            status: 0,
            code: "unexpected-answer".into(),
            message,
        },
        PexipError::BootstrapLost { .. } => ProviderError::Provider {
            status: 0,
            code: "bootstrap-lost".into(),
            message,
        },
        PexipError::NeedsReplacement { .. } => ProviderError::Provider {
            status: 0,
            code: "needs-replacement".into(),
            message,
        },
        PexipError::Io { .. } => ProviderError::Internal { message },
    }
}

fn null_if_empty(s: &str) -> Value {
    if s.trim().is_empty() {
        Value::Null
    } else {
        json!(s)
    }
}

fn opt_null(s: Option<&str>) -> Value {
    s.map_or(Value::Null, null_if_empty)
}

fn ip_or_null(s: Option<&str>) -> Value {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(ip) => json!(canonical_ip(ip)),
        None => Value::Null,
    }
}

fn observed(
    address: Address,
    id: impl Into<String>,
    fields: Value,
    state: Option<String>,
) -> Observed {
    Observed {
        kind: address.kind(),
        address,
        id: id.into(),
        region: None,
        fields,
        etag: None,
        state,
    }
}

/// Gives each object a unique address: the first (lowest id) keeps its natural key, a
/// duplicate gets `key#id` (not in the spec, so the plan deletes it).
fn unique_key(seen: &mut BTreeSet<String>, key: String, id: u64) -> String {
    if seen.insert(key.clone()) {
        key
    } else {
        format!("{key}#{id}")
    }
}

/// The write-only fields of each kind: the API takes them and never returns them. This is
/// the one list of them.
///
/// - `worker_vm`: `deployment_type` and `password`: Pexip's provider keeps the planned
///   value of both, "value not returned by API" (`pexip/terraform-provider-infinity`,
///   `internal/provider/resource_infinity_worker_vm.go`, `read`);
/// - `tls_certificate`: `private_key` (a secret the API never shows back);
/// - the Management Node's `admin_password` (set in the installation wizard, never readable).
pub const WRITE_ONLY: &[(Kind, &[&str])] = &[
    (Kind::ManagementBootstrap, &["admin_password"]),
    (Kind::TlsCertificate, &["private_key"]),
    (Kind::WorkerVm, &["deployment_type", "password"]),
];

/// The write-only fields of `kind` (see [`WRITE_ONLY`]).
pub fn write_only(kind: Kind) -> &'static [&'static str] {
    WRITE_ONLY
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, fields)| fields)
}

/// A write-only field that the API did not return is observed as its desired value, so that
/// its absence is no difference. Where a server does return one, what it returned is kept
/// and compared.
fn with_unobservable(mut o: Observed, desired: Option<&Value>) -> Observed {
    if let (Some(d), Value::Object(fields)) = (desired, &mut o.fields) {
        for key in write_only(o.kind) {
            let returned = fields.get(*key).is_some_and(|v| !v.is_null());
            if returned {
                continue;
            }
            if let Some(v) = d.get(*key).filter(|v| !v.is_null()) {
                fields.insert((*key).to_owned(), v.clone());
            }
        }
    }
    o
}

fn dns_fields(o: &DnsServer) -> Value {
    json!({"address": canonical_ip(&o.address), "description": null_if_empty(&o.description)})
}

fn ntp_fields(o: &NtpServer) -> Value {
    json!({"address": o.address.trim(), "description": null_if_empty(&o.description)})
}

fn location_fields(o: &SystemLocation) -> Value {
    let uris = |l: &[ResourceUri]| l.iter().map(|u| json!(u.as_str())).collect::<Vec<_>>();
    json!({
        "name": o.name.trim(),
        "description": null_if_empty(&o.description),
        "dns_servers": uris(&o.dns_servers),
        "ntp_servers": uris(&o.ntp_servers),
    })
}

fn alias_fields(o: &ConferenceAlias) -> Value {
    json!({
        "alias": o.alias.trim(),
        "conference": o.conference.as_str(),
        "description": null_if_empty(&o.description),
    })
}

fn worker_fields(o: &WorkerVm) -> Value {
    let uri = |u: &Option<ResourceUri>| u.as_ref().map_or(Value::Null, |u| json!(u.as_str()));
    json!({
        "name": o.name.trim(),
        "hostname": o.hostname,
        "domain": o.domain,
        "address": ip_or_null(Some(&o.address)),
        "netmask": ip_or_null(Some(&o.netmask)),
        "gateway": ip_or_null(Some(&o.gateway)),
        "node_type": o.node_type,
        "system_location": uri(&o.system_location),
        "deployment_type": null_if_empty(&o.deployment_type),
        "static_nat_address": ip_or_null(o.static_nat_address.as_deref()),
        "alternative_fqdn": opt_null(o.alternative_fqdn.as_deref()),
        "tls_certificate": uri(&o.tls_certificate),
        "ipv6_address": ip_or_null(o.ipv6_address.as_deref()),
        "ipv6_gateway": ip_or_null(o.ipv6_gateway.as_deref()),
        "enable_distributed_database": o.enable_distributed_database,
        "maintenance_mode": o.maintenance_mode,
    })
}

/// Which of the fields whose change restarts a node (`pexspec_plan::RESTART_FIELDS`, with
/// their sources) `spec` changes on `current`.
fn restart_fields(current: &WorkerVm, spec: &WorkerVmSpec) -> Vec<&'static str> {
    let changed = [
        (
            "system_location",
            current.system_location.as_ref() != Some(&spec.system_location),
        ),
        ("node_type", current.node_type != spec.role.node_type()),
    ];
    changed
        .into_iter()
        .filter(|(field, differs)| *differs && pexspec_plan::restarts(Kind::WorkerVm, field))
        .map(|(field, _)| field)
        .collect()
}

/// Whether the node has taken its bootstrap file: it reports a sync state or was contacted.
fn configured(status: &WorkerVmStatus) -> bool {
    matches!(status.sync_status.as_str(), "SYNCED" | "SYNCING") || status.last_updated.is_some()
}

fn status_of<'a>(statuses: &'a [WorkerVmStatus], o: &WorkerVm) -> Option<&'a WorkerVmStatus> {
    statuses
        .iter()
        .find(|s| s.configuration_id == o.id && o.id != 0)
        .or_else(|| statuses.iter().find(|s| s.name == o.name))
}

fn bootstrap_id(worker: &ResourceUri) -> String {
    format!("bootstrap:{worker}")
}

/// The address a node's bootstrap file goes to, as the graph chooses it: the public address
/// when the node has one, else its private address.
fn upload_address(o: &WorkerVm) -> Value {
    match o.static_nat_address.as_deref().map(str::trim) {
        Some(nat) if !nat.is_empty() => json!(canonical_ip(nat)),
        _ => ip_or_null(Some(&o.address)),
    }
}

fn bootstrap_fields(o: &WorkerVm) -> Value {
    json!({
        "worker_vm_id": o.resource_uri.as_str(),
        "upload_address": upload_address(o),
        "port": BOOTSTRAP_PORT,
    })
}

/// The non-null value of a field of a desired state.
fn field<'a>(d: &'a Value, k: &str) -> Option<&'a Value> {
    d.get(k).filter(|v| !v.is_null())
}

fn opt_text(d: &Value, k: &str) -> Option<String> {
    field(d, k)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_owned())
}

fn bad_field(a: &Address, k: &str, what: &str) -> ProviderError {
    ProviderError::Internal {
        message: format!("`{a}` was sent without {what} in `{k}` (an unresolved reference?)"),
    }
}

fn text(a: &Address, d: &Value, k: &str) -> Result<String, ProviderError> {
    opt_text(d, k).ok_or_else(|| bad_field(a, k, "text"))
}

fn flag(d: &Value, k: &str, default: bool) -> bool {
    field(d, k).and_then(Value::as_bool).unwrap_or(default)
}

fn ipv4(a: &Address, d: &Value, k: &str) -> Result<Ipv4Addr, ProviderError> {
    text(a, d, k)?
        .parse()
        .map_err(|_| bad_field(a, k, "an IPv4 address"))
}

fn opt_ipv4(a: &Address, d: &Value, k: &str) -> Result<Option<Ipv4Addr>, ProviderError> {
    match field(d, k) {
        None => Ok(None),
        Some(_) => ipv4(a, d, k).map(Some),
    }
}

fn opt_ipv6(a: &Address, d: &Value, k: &str) -> Result<Option<Ipv6Addr>, ProviderError> {
    match field(d, k) {
        None => Ok(None),
        Some(_) => text(a, d, k)?
            .parse()
            .map(Some)
            .map_err(|_| bad_field(a, k, "an IPv6 address")),
    }
}

fn uri_field(a: &Address, d: &Value, k: &str) -> Result<ResourceUri, ProviderError> {
    text(a, d, k).map(ResourceUri::new)
}

fn opt_uri(a: &Address, d: &Value, k: &str) -> Result<Option<ResourceUri>, ProviderError> {
    match field(d, k) {
        None => Ok(None),
        Some(_) => uri_field(a, d, k).map(Some),
    }
}

fn uris(a: &Address, d: &Value, k: &str) -> Result<Vec<ResourceUri>, ProviderError> {
    match field(d, k) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(ResourceUri::new)
                    .ok_or_else(|| bad_field(a, k, "resource URIs"))
            })
            .collect(),
        Some(_) => Err(bad_field(a, k, "a list")),
    }
}

fn strings(d: &Value, k: &str) -> Vec<String> {
    field(d, k)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The Management Node's instance and region, when the graph runs it in OCI (its bootstrap
/// depends on its instance).
fn console_target(graph: &Graph) -> Option<ConsoleTarget> {
    let manager = graph
        .nodes()
        .find(|n| n.kind() == Kind::ManagementBootstrap)?;
    let instance = manager
        .depends_on
        .iter()
        .find(|d| d.kind() == Kind::Instance)?
        .clone();
    let region = graph.get(&instance).and_then(|n| n.region.clone());
    Some(ConsoleTarget {
        stack: graph.stack().to_owned(),
        manager: manager.address.clone(),
        instance,
        region,
    })
}

/// Whether a value holds a reference not yet resolved.
fn has_ref(v: &Value) -> bool {
    let mut found = false;
    pexspec_graph::value::for_each_ref(v, &mut |_| found = true);
    found
}

impl PexipProvider {
    /// A provider for the Management Node of `options.client`, resolving secrets and files
    /// through `resolver`, for the Pexip resources of `graph` (the spec's graph, also when
    /// destroying: rooms, licences and certificates are observed only when the spec names
    /// them, and licences are matched to their addresses through the spec's keys).
    pub fn new(
        options: PexipProviderOptions,
        resolver: Arc<dyn SecretResolver>,
        graph: &Graph,
    ) -> Result<Self, ProviderError> {
        let client = Client::new(options.client).map_err(|e| ProviderError::Config {
            message: e.to_string(),
        })?;
        let desired = graph
            .nodes()
            .filter(|n| PEXIP_KINDS.contains(&n.kind()))
            .map(|n| {
                (
                    n.address.clone(),
                    (n.desired().into_owned(), n.depends_on.clone()),
                )
            })
            .collect();
        let console_target = console_target(graph);
        Ok(PexipProvider {
            client,
            resolver,
            store: options.bootstrap_store,
            upload: options.upload,
            router: options.upload_router,
            wizard: options.wizard,
            drain: options.drain,
            stack: graph.stack().to_owned(),
            desired,
            console_target,
        })
    }

    /// The web administration password, resolved from the graph's `management_bootstrap`
    /// (`admin_password`): what [`ClientOptions::new`] needs.
    pub fn admin_password(
        graph: &Graph,
        resolver: &dyn SecretResolver,
    ) -> Result<Secret, ProviderError> {
        let node = graph
            .nodes()
            .find(|n| n.kind() == Kind::ManagementBootstrap)
            .ok_or_else(|| ProviderError::Config {
                message: "the spec has no Management Node".into(),
            })?;
        let desired = node.desired();
        let reference = desired
            .get("admin_password")
            .and_then(|v| v.get("$secret"))
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Config {
                message: format!("`{}` has no `admin_password` reference", node.address),
            })?;
        resolver
            .secret(reference)
            .map_err(|e| provider_error(&node.address, e))
    }

    /// The management API client (for node commands: maintenance mode, drain).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn desired_of(&self, kind: Kind) -> impl Iterator<Item = (&Address, &Value)> + '_ {
        self.desired
            .iter()
            .filter(move |(a, _)| a.kind() == kind)
            .map(|(a, (d, _))| (a, d))
    }

    /// Resolves a `{"$secret": ...}` value (`None` for null or absent).
    fn secret(&self, a: &Address, v: Option<&Value>) -> Result<Option<Secret>, ProviderError> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let reference = v
            .get("$secret")
            .and_then(Value::as_str)
            .filter(|_| is_secret(v))
            .ok_or_else(|| ProviderError::Internal {
                message: format!("`{a}` holds a secret field that is not a `$secret` reference"),
            })?;
        self.resolver
            .secret(reference)
            .map(Some)
            .map_err(|e| provider_error(a, e))
    }

    /// Reads a `{"$file": PATH}` value as text.
    fn file_text(&self, a: &Address, v: Option<&Value>) -> Result<String, ProviderError> {
        let path = v
            .and_then(|v| v.get("$file"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad_field(a, "certificate", "a `$file` reference"))?;
        let bytes = self.resolver.file(path).map_err(|e| provider_error(a, e))?;
        String::from_utf8(bytes).map_err(|_| ProviderError::Invalid {
            address: a.to_string(),
            message: format!("`{path}` is not UTF-8 text"),
        })
    }

    /// The observed form of a secret field (see the module documentation).
    fn secret_seen(
        &self,
        a: &Address,
        desired: Option<&Value>,
        actual: &Secret,
    ) -> Result<Value, ProviderError> {
        match desired.filter(|d| is_secret(d)) {
            Some(d) => {
                let want = self.secret(a, Some(d))?;
                Ok(if actual.is_empty() {
                    json!(SECRET_NOT_SET)
                } else if want.as_ref() == Some(actual) {
                    d.clone()
                } else {
                    json!(SECRET_SET)
                })
            }
            None if actual.is_empty() => Ok(Value::Null),
            None => Ok(json!(SECRET_SET)),
        }
    }

    fn conference_fields(
        &self,
        a: &Address,
        desired: &Value,
        o: &Conference,
    ) -> Result<Value, ProviderError> {
        Ok(json!({
            "name": o.name.trim(),
            "description": null_if_empty(&o.description),
            "pin": self.secret_seen(a, desired.get("pin"), &o.pin)?,
            "guest_pin": self.secret_seen(a, desired.get("guest_pin"), &o.guest_pin)?,
            "allow_guests": o.allow_guests,
        }))
    }

    fn certificate_fields(
        &self,
        a: &Address,
        desired: &Value,
        o: &TlsCertificate,
    ) -> Result<Value, ProviderError> {
        let want = self.certificate_id(a, desired)?;
        let have = cert_id(&o.certificate);
        Ok(match have {
            Some(h) if h.fingerprint == want.fingerprint => {
                json!({"certificate": desired.get("certificate").cloned().unwrap_or(Value::Null)})
            }
            Some(h) => {
                json!({"certificate": format!("a different certificate (SHA-256 {})", h.fingerprint)})
            }
            None => json!({"certificate": "an unreadable certificate"}),
        })
    }

    fn certificate_id(&self, a: &Address, desired: &Value) -> Result<crate::CertId, ProviderError> {
        let pem = self.file_text(a, desired.get("certificate"))?;
        cert_id(&pem).ok_or_else(|| ProviderError::Invalid {
            address: a.to_string(),
            message: "the certificate file holds no readable PEM X.509 certificate".into(),
        })
    }

    fn management_address(&self) -> Option<&Address> {
        self.desired
            .keys()
            .find(|a| a.kind() == Kind::ManagementBootstrap)
    }

    /// The management API answers (with the trusted certificate and the credentials), or
    /// `None` when it does not answer yet (no connection, or 502/503/504 after the retries:
    /// the wizard has not run). Refused credentials and an untrusted certificate are errors.
    async fn probe(&self) -> Result<Result<ManagementVmStatus, String>, PexipError> {
        match self.client.list::<ManagementVmStatus>(&[]).await {
            Ok(list) => Ok(Ok(list.into_iter().next().unwrap_or_default())),
            Err(e @ PexipError::Network { .. }) => Ok(Err(e.to_string())),
            Err(
                e @ PexipError::Server {
                    status: 502..=504, ..
                },
            ) => Ok(Err(e.to_string())),
            Err(e) => Err(e),
        }
    }

    async fn list_if<R: Resource>(&self, yes: bool) -> Result<Vec<R>, PexipError> {
        if yes {
            self.client.list::<R>(&[]).await
        } else {
            Ok(Vec::new())
        }
    }

    async fn manager_config(&self, yes: bool) -> Result<Option<ManagementVmConfig>, PexipError> {
        if !yes {
            return Ok(None);
        }
        match self.client.list::<ManagementVmConfig>(&[]).await {
            Ok(list) => Ok(list.into_iter().next()),
            // Not served: the simulator when its wizard ran before it knew the address.
            Err(PexipError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads what `need` says, each list once (pagination followed); `None` if the API does
    /// not answer yet.
    async fn fetch(&self, need: Need) -> Result<Option<Snapshot>, PexipError> {
        let manager = match self.probe().await? {
            Ok(status) => status,
            Err(_) => return Ok(None),
        };
        let (manager_config, dns, ntp, licences, locations, certificates, conferences, aliases) = tokio::try_join!(
            self.manager_config(need.manager),
            self.list_if::<DnsServer>(need.dns),
            self.list_if::<NtpServer>(need.ntp),
            self.list_if::<Licence>(need.licences),
            self.list_if::<SystemLocation>(need.locations),
            self.list_if::<TlsCertificate>(need.certificates),
            self.list_if::<Conference>(need.conferences),
            self.list_if::<ConferenceAlias>(need.aliases),
        )?;
        let (workers, statuses) = tokio::try_join!(
            self.list_if::<WorkerVm>(need.workers),
            self.list_if::<WorkerVmStatus>(need.workers),
        )?;
        Ok(Some(Snapshot {
            manager: Some(manager),
            manager_config,
            dns,
            ntp,
            licences,
            locations,
            certificates,
            conferences,
            aliases,
            workers,
            statuses,
        }))
    }

    /// The observed fields of the Management Node's bootstrap: read from the API's
    /// `management_vm` where it serves it; else (a simulator without it) the wizard's answers as the
    /// spec gives them, which nothing can read back — fields holding an unresolved reference
    /// are left out.
    fn management_fields(&self, desired: &Value, snap: &Snapshot) -> Value {
        let mut out = Map::new();
        match &snap.manager_config {
            Some(c) => {
                let addresses = |uris: &[ResourceUri], dns: bool| -> Vec<Value> {
                    uris.iter()
                        .filter_map(|u| {
                            if dns {
                                snap.dns
                                    .iter()
                                    .find(|d| &d.resource_uri == u)
                                    .map(|d| json!(canonical_ip(&d.address)))
                            } else {
                                snap.ntp
                                    .iter()
                                    .find(|n| &n.resource_uri == u)
                                    .map(|n| json!(n.address.trim()))
                            }
                        })
                        .collect()
                };
                out.insert("hostname".into(), json!(c.hostname));
                out.insert("domain".into(), json!(c.domain));
                out.insert("address".into(), ip_or_null(Some(&c.address)));
                out.insert("netmask".into(), ip_or_null(Some(&c.netmask)));
                out.insert("gateway".into(), ip_or_null(Some(&c.gateway)));
                out.insert("dns_servers".into(), json!(addresses(&c.dns_servers, true)));
                out.insert(
                    "ntp_servers".into(),
                    json!(addresses(&c.ntp_servers, false)),
                );
            }
            None => {
                if let Value::Object(d) = desired {
                    for (k, v) in d {
                        if !has_ref(v) && !is_write_only(v) {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        Value::Object(out)
    }

    fn manager_observed(&self, address: Address, desired: &Value, snap: &Snapshot) -> Observed {
        let id = snap
            .manager_config
            .as_ref()
            .map(|c| c.resource_uri.to_string())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("{}management_vm/", uri::STATUS_PREFIX));
        observed(
            address,
            id,
            self.management_fields(desired, snap),
            Some(MANAGER_READY_STATE.into()),
        )
    }

    /// Maps a snapshot to observed resources of `kinds`.
    fn map(&self, snap: &Snapshot, kinds: &[Kind]) -> Result<Vec<Observed>, ProviderError> {
        let mut out = Vec::new();
        let wants = |k: Kind| kinds.contains(&k);
        if wants(Kind::ManagementBootstrap) && snap.manager.is_some() {
            let address = self.management_address().cloned().unwrap_or_else(|| {
                let name = snap
                    .manager
                    .as_ref()
                    .map(|m| m.name.clone())
                    .unwrap_or_default();
                Address::new(Kind::ManagementBootstrap, name)
            });
            let desired = self
                .desired
                .get(&address)
                .map(|(d, _)| d.clone())
                .unwrap_or(Value::Null);
            out.push(self.manager_observed(address, &desired, snap));
        }
        if wants(Kind::DnsServer) {
            let mut seen = BTreeSet::new();
            let mut list: Vec<&DnsServer> = snap.dns.iter().collect();
            list.sort_by_key(|o| o.id);
            for o in list {
                let key = unique_key(&mut seen, canonical_ip(&o.address), o.id);
                out.push(observed(
                    Address::new(Kind::DnsServer, key),
                    o.resource_uri.as_str(),
                    dns_fields(o),
                    None,
                ));
            }
        }
        if wants(Kind::NtpServer) {
            let mut seen = BTreeSet::new();
            let mut list: Vec<&NtpServer> = snap.ntp.iter().collect();
            list.sort_by_key(|o| o.id);
            for o in list {
                let key = unique_key(&mut seen, o.address.trim().to_owned(), o.id);
                out.push(observed(
                    Address::new(Kind::NtpServer, key),
                    o.resource_uri.as_str(),
                    ntp_fields(o),
                    None,
                ));
            }
        }
        if wants(Kind::Licence) {
            let mut used = vec![false; snap.licences.len()];
            for (a, d) in self.desired_of(Kind::Licence) {
                let reference = d.get("entitlement_id");
                let Some(key) = self.secret(a, reference)? else {
                    continue;
                };
                let hit = snap
                    .licences
                    .iter()
                    .enumerate()
                    .find(|(i, o)| !used[*i] && same_licence(&o.entitlement_id, &key));
                if let Some((i, o)) = hit {
                    used[i] = true;
                    out.push(observed(
                        a.clone(),
                        o.resource_uri.as_str(),
                        json!({
                            "entitlement_id": reference.cloned().unwrap_or(Value::Null),
                            "offline_mode": o.offline_mode,
                        }),
                        Some(o.status.clone()).filter(|s| !s.is_empty()),
                    ));
                }
            }
        }
        if wants(Kind::SystemLocation) {
            let mut seen = BTreeSet::new();
            let mut list: Vec<&SystemLocation> = snap.locations.iter().collect();
            list.sort_by_key(|o| o.id);
            for o in list {
                let key = unique_key(&mut seen, o.name.trim().to_owned(), o.id);
                out.push(observed(
                    Address::new(Kind::SystemLocation, key),
                    o.resource_uri.as_str(),
                    location_fields(o),
                    None,
                ));
            }
        }
        if wants(Kind::TlsCertificate) {
            let mut used = vec![false; snap.certificates.len()];
            for (a, d) in self.desired_of(Kind::TlsCertificate) {
                let want = self.certificate_id(a, d)?;
                let natural = format!("CN={} serial={}", want.common_name, want.serial);
                let by_fingerprint = snap.certificates.iter().enumerate().find(|(i, o)| {
                    !used[*i]
                        && cert_id(&o.certificate)
                            .is_some_and(|h| h.fingerprint == want.fingerprint)
                });
                let hit = by_fingerprint.or_else(|| {
                    snap.certificates
                        .iter()
                        .enumerate()
                        .find(|(i, o)| !used[*i] && TlsCertificateSpec::observed_key(o) == natural)
                });
                if let Some((i, o)) = hit {
                    used[i] = true;
                    out.push(observed(
                        a.clone(),
                        o.resource_uri.as_str(),
                        self.certificate_fields(a, d, o)?,
                        None,
                    ));
                }
            }
        }
        let mut room_uris = BTreeSet::new();
        if wants(Kind::Conference) || wants(Kind::ConferenceAlias) {
            for (a, d) in self.desired_of(Kind::Conference) {
                let name = a.key().unwrap_or_default();
                if let Some(o) = snap.conferences.iter().find(|o| o.name.trim() == name) {
                    room_uris.insert(o.resource_uri.clone());
                    if wants(Kind::Conference) {
                        out.push(observed(
                            a.clone(),
                            o.resource_uri.as_str(),
                            self.conference_fields(a, d, o)?,
                            None,
                        ));
                    }
                }
            }
        }
        if wants(Kind::ConferenceAlias) {
            let named: BTreeSet<&str> = self
                .desired_of(Kind::ConferenceAlias)
                .filter_map(|(a, _)| a.key())
                .collect();
            let mut seen = BTreeSet::new();
            let mut list: Vec<&ConferenceAlias> = snap
                .aliases
                .iter()
                .filter(|o| named.contains(o.alias.trim()) || room_uris.contains(&o.conference))
                .collect();
            list.sort_by_key(|o| o.id);
            for o in list {
                let key = unique_key(&mut seen, o.alias.trim().to_owned(), o.id);
                out.push(observed(
                    Address::new(Kind::ConferenceAlias, key),
                    o.resource_uri.as_str(),
                    alias_fields(o),
                    None,
                ));
            }
        }
        if wants(Kind::WorkerVm) || wants(Kind::NodeBootstrap) {
            let mut seen = BTreeSet::new();
            let mut list: Vec<&WorkerVm> = snap.workers.iter().collect();
            list.sort_by_key(|o| o.id);
            for o in list {
                let key = unique_key(&mut seen, o.name.trim().to_owned(), o.id);
                let status = status_of(&snap.statuses, o);
                if wants(Kind::WorkerVm) {
                    out.push(observed(
                        Address::new(Kind::WorkerVm, key.clone()),
                        o.resource_uri.as_str(),
                        worker_fields(o),
                        status.map(|s| s.sync_status.clone()),
                    ));
                }
                if wants(Kind::NodeBootstrap)
                    && let Some(s) = status.filter(|s| configured(s))
                {
                    out.push(observed(
                        Address::new(Kind::NodeBootstrap, key),
                        bootstrap_id(&o.resource_uri),
                        bootstrap_fields(o),
                        Some(s.sync_status.clone()),
                    ));
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|o| {
                let desired = self.desired.get(&o.address).map(|(d, _)| d);
                with_unobservable(o, desired)
            })
            .collect())
    }

    /// Every Pexip resource of the stack (see the module documentation); nothing when the
    /// management API does not answer yet.
    pub async fn observe_state(&self) -> Result<ObservedState, ProviderError> {
        let a = Address::singleton(Kind::ManagementBootstrap);
        let mut state = ObservedState::new();
        let Some(snap) = self
            .fetch(Need::all())
            .await
            .map_err(|e| provider_error(&a, e))?
        else {
            return Ok(state);
        };
        for o in self.map(&snap, PEXIP_KINDS)? {
            state.insert(o);
        }
        Ok(state)
    }

    /// One resource, read afresh.
    async fn get_one(
        &self,
        address: &Address,
        id: Option<&str>,
    ) -> Result<Option<Observed>, ProviderError> {
        let kind = address.kind();
        let Some(snap) = self
            .fetch(Need::of(kind))
            .await
            .map_err(|e| provider_error(address, e))?
        else {
            return Ok(None);
        };
        let found = self.map(&snap, &[kind])?.into_iter().find(|o| {
            &o.address == address
                && id.is_none_or(|id| id == o.id || kind == Kind::ManagementBootstrap)
        });
        if kind == Kind::NodeBootstrap
            && let (Some(o), Some(store), Some(name)) = (&found, &self.store, address.key())
            && o.state.as_deref() == Some(NODE_READY_STATE)
        {
            // In service: the file has served its purpose.
            store.remove(name).map_err(|e| provider_error(address, e))?;
        }
        Ok(found)
    }

    // ------------------------------------------------------------------ create

    async fn create_one(&self, r: &CreateRequest<'_>) -> Result<Created, ProviderError> {
        let a = r.address;
        let d = r.desired;
        let e = |e| provider_error(a, e);
        let plain = |o: Observed| Created {
            observed: o,
            output: None,
        };
        match a.kind() {
            Kind::ManagementBootstrap => self.create_management(r).await.map(plain),
            Kind::DnsServer => {
                let spec = self.dns_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                Ok(plain(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    dns_fields(&o),
                    None,
                )))
            }
            Kind::NtpServer => {
                let spec = self.ntp_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                Ok(plain(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    ntp_fields(&o),
                    None,
                )))
            }
            Kind::Licence => {
                let spec = self.licence_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                Ok(plain(self.licence_observed(a, d, &o)))
            }
            Kind::SystemLocation => {
                let spec = self.location_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                Ok(plain(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    location_fields(&o),
                    None,
                )))
            }
            Kind::TlsCertificate => {
                let spec = self.certificate_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                let fields = self.certificate_fields(a, d, &o)?;
                Ok(plain(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    fields,
                    None,
                )))
            }
            Kind::Conference => {
                let spec = self.conference_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                let fields = self.conference_fields(a, d, &o)?;
                Ok(plain(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    fields,
                    None,
                )))
            }
            Kind::ConferenceAlias => {
                let spec = self.alias_spec(a, d)?;
                let o = ensure(&self.client, &spec).await.map_err(e)?.into_object();
                Ok(plain(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    alias_fields(&o),
                    None,
                )))
            }
            Kind::WorkerVm => self.create_worker(a, d).await,
            Kind::NodeBootstrap => self.create_bootstrap(r).await.map(plain),
            other => Err(ProviderError::Internal {
                message: format!("the Pexip provider does not handle `{other}` (`{a}`)"),
            }),
        }
    }

    /// The wizard's answers for the operator, or a wait for the simulator's own wizard.
    async fn create_management(&self, r: &CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let a = r.address;
        let e = |e| provider_error(a, e);
        match &self.wizard {
            WizardMode::Automatic { wait } => {
                wait_until_ready(&self.client, *wait).await.map_err(e)?;
            }
            WizardMode::Operator(w) => {
                if let Err(last) = self.probe().await.map_err(e)? {
                    self.operator_wizard(a, r.desired, w, &last).await?;
                }
            }
        }
        let snap = self
            .fetch(Need::of(Kind::ManagementBootstrap))
            .await
            .map_err(e)?
            .ok_or_else(|| ProviderError::Network {
                message: format!(
                    "the management API at `{}` stopped answering",
                    self.client.base_url()
                ),
            })?;
        Ok(self.manager_observed(a.clone(), r.desired, &snap))
    }

    /// The operator's part: the connect command from the console access (or the fallback
    /// path, with why), the instructions to the sink once, then the wait for the management
    /// API. Without a sink the instructions are the error.
    async fn operator_wizard(
        &self,
        a: &Address,
        d: &Value,
        w: &OperatorWizard,
        last: &str,
    ) -> Result<(), ProviderError> {
        let fallback = || ConsoleInfo {
            command: w.console_command.clone(),
            ..ConsoleInfo::default()
        };
        let mut problem = None;
        let console = match (&w.console, &self.console_target) {
            (Some(access), Some(target)) => match access.console(target).await {
                Ok(info) if !info.command.trim().is_empty() => info,
                Ok(_) => {
                    problem = Some(format!(
                        "no console command came back for `{}`: use the OCI Console",
                        target.instance
                    ));
                    fallback()
                }
                Err(err) => {
                    problem = Some(format!(
                        "could not open a console connection to `{}` ({err}): use the OCI Console",
                        target.instance
                    ));
                    fallback()
                }
            },
            _ => fallback(),
        };
        let mut script = render_wizard(&self.wizard_inputs(a, d, w, &console.command));
        script.warnings.extend(problem);
        let api = self.client.base_url();
        let Some(sink) = &w.instructions else {
            return Err(ProviderError::Config {
                message: format!(
                    "`{a}` needs the installation wizard, which runs on the Management Node's serial console and no API reaches; \
                     answer it as below, then run pexspec again (the management API at `{api}` does not answer yet: {last})\n{}",
                    render_instructions(&script, &console, api, None)
                ),
            });
        };
        sink(&render_instructions(
            &script,
            &console,
            api,
            Some(w.wait.timeout),
        ));
        match wait_until_ready(&self.client, w.wait).await {
            Ok(_) => Ok(()),
            Err(PexipError::Timeout { waited, hint, .. }) => Err(ProviderError::Provider {
                status: 0,
                code: "wizard-not-done".into(),
                message: format!(
                    "`{a}`: the management API at `{api}` did not answer within {}. The installation wizard's answers \
                     were printed above: complete the wizard on the Management Node's serial console, then run \
                     `pexspec apply` again; it finds the Management Node answering and continues (last error: {})",
                    human(waited),
                    hint.rsplit_once("last error: ")
                        .map_or(hint.as_str(), |(_, last)| last)
                ),
            }),
            Err(other) => Err(provider_error(a, other)),
        }
    }

    fn wizard_inputs(
        &self,
        a: &Address,
        d: &Value,
        w: &OperatorWizard,
        console_command: &str,
    ) -> WizardInputs {
        let ip = |k: &str| opt_text(d, k).and_then(|s| s.parse::<Ipv4Addr>().ok());
        let admin_password = SecretSource::from_reference(
            d.get("admin_password")
                .and_then(|v| v.get("$secret"))
                .and_then(Value::as_str)
                .unwrap_or("env:PEXIP_ADMIN_PASSWORD"),
        );
        let public_ip = self
            .desired
            .get(a)
            .is_some_and(|(_, deps)| deps.iter().any(|dep| dep.kind() == Kind::PublicIp));
        WizardInputs {
            console_command: console_command.to_owned(),
            os_password_env: w.os_password_env.clone(),
            address: ip("address"),
            netmask: ip("netmask"),
            gateway: ip("gateway"),
            hostname: opt_text(d, "hostname").unwrap_or_default(),
            domain: opt_text(d, "domain").unwrap_or_default(),
            dns_servers: strings(d, "dns_servers"),
            ntp_servers: strings(d, "ntp_servers"),
            admin_username: w.admin_username.clone(),
            admin_password,
            enable_incident_reporting: w.enable_incident_reporting,
            send_usage_statistics: w.send_usage_statistics,
            public_ip,
        }
    }

    /// Creates the node's registration; its answer, the bootstrap file, is written to the
    /// store (if any) and returned as the create's sensitive output. A node that exists
    /// already (a create whose answer was lost) is adopted: there is no file to return then.
    async fn create_worker(&self, a: &Address, d: &Value) -> Result<Created, ProviderError> {
        let e = |e| provider_error(a, e);
        let spec = self.worker_spec(a, d, true)?;
        if let Some(existing) = find(&self.client, &spec).await.map_err(e)? {
            let o = self.converge_worker(a, &spec, d, &existing).await?;
            return Ok(Created {
                observed: observed(a.clone(), o.resource_uri.as_str(), worker_fields(&o), None),
                output: None,
            });
        }
        let capture = Capture {
            store: self.store.as_ref(),
            file: Mutex::new(None),
        };
        let created = create_worker_vm(&self.client, &spec, &capture)
            .await
            .map_err(e)?;
        let file = match capture.file.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        Ok(Created {
            observed: observed(
                a.clone(),
                created.node.resource_uri.as_str(),
                worker_fields(&created.node),
                None,
            ),
            output: file.map(|f| Sensitive::new(f.expose())),
        })
    }

    /// Posts the node's bootstrap file (the create's input, else the store's copy) to its
    /// `configuration/bootstrap` endpoint; the executor then polls [`Provider::get`] until [`NODE_READY_STATE`].
    async fn create_bootstrap(&self, r: &CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let a = r.address;
        let d = r.desired;
        let e = |e| provider_error(a, e);
        let name = a.key().unwrap_or_default();
        let worker = uri_field(a, d, "worker_vm_id")?;
        let address = text(a, d, "upload_address")?;
        let port = field(d, "port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(BOOTSTRAP_PORT);
        let file = match r.input {
            Some(input) => BootstrapFile::new(name, input.expose().to_vec()),
            None => match &self.store {
                Some(store) => store.load(name).map_err(e)?,
                None => None,
            }
            .ok_or_else(|| {
                e(PexipError::BootstrapLost {
                    node: name.to_owned(),
                })
            })?,
        };
        let url = self
            .router
            .as_ref()
            .and_then(|route| route(name, &address))
            .or_else(|| self.upload.overrides.get(&address).cloned())
            .unwrap_or_else(|| {
                let default = bootstrap_base(&address, &BTreeMap::new());
                if port == BOOTSTRAP_PORT {
                    default
                } else {
                    default.replace(&format!(":{BOOTSTRAP_PORT}/"), &format!(":{port}/"))
                }
            });
        let mut opts = self.upload.clone();
        opts.overrides.insert(address.clone(), url);
        upload_bootstrap(&address, &file, &opts).await.map_err(e)?;
        Ok(observed(
            a.clone(),
            bootstrap_id(&worker),
            json!({"worker_vm_id": worker.as_str(), "upload_address": canonical_ip(&address), "port": port}),
            Some(NODE_UPLOADED_STATE.into()),
        ))
    }

    // ------------------------------------------------------------------ desired → specs

    fn dns_spec(&self, a: &Address, d: &Value) -> Result<DnsServerSpec, ProviderError> {
        Ok(DnsServerSpec {
            address: text(a, d, "address")?,
            description: opt_text(d, "description").unwrap_or_default(),
        })
    }

    fn ntp_spec(&self, a: &Address, d: &Value) -> Result<NtpServerSpec, ProviderError> {
        Ok(NtpServerSpec {
            address: text(a, d, "address")?,
            description: opt_text(d, "description").unwrap_or_default(),
        })
    }

    fn licence_spec(&self, a: &Address, d: &Value) -> Result<LicenceSpec, ProviderError> {
        let key = self
            .secret(a, d.get("entitlement_id"))?
            .ok_or_else(|| bad_field(a, "entitlement_id", "a licence key"))?;
        Ok(LicenceSpec {
            entitlement_id: key,
            offline_mode: flag(d, "offline_mode", false),
        })
    }

    fn licence_observed(&self, a: &Address, d: &Value, o: &Licence) -> Observed {
        observed(
            a.clone(),
            o.resource_uri.as_str(),
            json!({
                "entitlement_id": d.get("entitlement_id").cloned().unwrap_or(Value::Null),
                "offline_mode": o.offline_mode,
            }),
            Some(o.status.clone()).filter(|s| !s.is_empty()),
        )
    }

    fn location_spec(&self, a: &Address, d: &Value) -> Result<SystemLocationSpec, ProviderError> {
        Ok(SystemLocationSpec {
            name: text(a, d, "name")?,
            description: opt_text(d, "description").unwrap_or_default(),
            dns_servers: uris(a, d, "dns_servers")?,
            ntp_servers: uris(a, d, "ntp_servers")?,
            mtu: None,
        })
    }

    fn certificate_spec(
        &self,
        a: &Address,
        d: &Value,
    ) -> Result<TlsCertificateSpec, ProviderError> {
        let pem = self.file_text(a, d.get("certificate"))?;
        let key = self
            .secret(a, d.get("private_key"))?
            .ok_or_else(|| bad_field(a, "private_key", "a private key"))?;
        TlsCertificateSpec::new(pem, key, None).map_err(|e| provider_error(a, e))
    }

    fn conference_spec(&self, a: &Address, d: &Value) -> Result<ConferenceSpec, ProviderError> {
        Ok(ConferenceSpec {
            name: text(a, d, "name")?,
            description: opt_text(d, "description").unwrap_or_default(),
            pin: self.secret(a, d.get("pin"))?,
            guest_pin: self.secret(a, d.get("guest_pin"))?,
            allow_guests: flag(d, "allow_guests", false),
        })
    }

    fn alias_spec(&self, a: &Address, d: &Value) -> Result<ConferenceAliasSpec, ProviderError> {
        Ok(ConferenceAliasSpec {
            alias: text(a, d, "alias")?,
            conference: uri_field(a, d, "conference")?,
            description: opt_text(d, "description").unwrap_or_default(),
        })
    }

    /// The node's registration; the SSH password is resolved only for a create.
    fn worker_spec(
        &self,
        a: &Address,
        d: &Value,
        create: bool,
    ) -> Result<WorkerVmSpec, ProviderError> {
        let name = text(a, d, "name")?;
        let ssh_password = if create {
            self.secret(a, d.get("password"))?.ok_or_else(|| ProviderError::Invalid {
                address: a.to_string(),
                message: format!(
                    "Conferencing Node `{name}` has no `ssh_password`: a generic (configuration-only) deployment needs one"
                ),
            })?
        } else {
            Secret::default()
        };
        Ok(WorkerVmSpec {
            role: match opt_text(d, "node_type").as_deref() {
                Some("PROXYING") => NodeRole::Proxying,
                _ => NodeRole::Transcoding,
            },
            hostname: text(a, d, "hostname")?,
            domain: text(a, d, "domain")?,
            address: ipv4(a, d, "address")?,
            netmask: ipv4(a, d, "netmask")?,
            gateway: ipv4(a, d, "gateway")?,
            static_nat_address: opt_ipv4(a, d, "static_nat_address")?,
            sip_tls_fqdn: opt_text(d, "alternative_fqdn").filter(|s| !s.is_empty()),
            system_location: uri_field(a, d, "system_location")?,
            tls_certificate: opt_uri(a, d, "tls_certificate")?,
            ipv6_address: opt_ipv6(a, d, "ipv6_address")?,
            ipv6_gateway: opt_ipv6(a, d, "ipv6_gateway")?,
            ssh_password,
            enable_distributed_database: flag(d, "enable_distributed_database", true),
            description: opt_text(d, "description").unwrap_or_default(),
            name,
        })
    }

    // ------------------------------------------------------------------ update

    /// Finds the object by natural key, checks it is the one observed (`id`), PATCHes the
    /// managed fields that differ, and reads it back.
    async fn converge<M: Managed>(
        &self,
        a: &Address,
        spec: &M,
        id: Option<&str>,
    ) -> Result<M::Observed, ProviderError> {
        let e = |e| provider_error(a, e);
        let Some(current) = find(&self.client, spec).await.map_err(e)? else {
            return Err(ProviderError::NotFound {
                address: a.to_string(),
            });
        };
        let uri = M::uri(&current).clone();
        if let Some(id) = id
            && uri.as_str() != id
        {
            return Err(ProviderError::Conflict {
                address: a.to_string(),
                message: format!("observed as `{id}`, now `{uri}`: observe again"),
            });
        }
        let changes = diff(spec, &current);
        if changes.is_empty() {
            return Ok(current);
        }
        let fixed: Vec<String> = changes
            .iter()
            .filter(|c| M::immutable_fields().contains(&c.field))
            .map(|c| c.field.to_owned())
            .collect();
        if !fixed.is_empty() {
            return Err(e(PexipError::NeedsReplacement {
                node: spec.natural_key(),
                fields: fixed,
            }));
        }
        self.client
            .update(&uri, &spec.patch_body(&changes))
            .await
            .map_err(e)?;
        read_back(&self.client, spec, Some(&uri)).await.map_err(e)
    }

    /// Converges a node's registration and its maintenance mode (when the desired state says
    /// one).
    async fn converge_worker(
        &self,
        a: &Address,
        spec: &WorkerVmSpec,
        d: &Value,
        current: &WorkerVm,
    ) -> Result<WorkerVm, ProviderError> {
        let e = |e| provider_error(a, e);
        let restarts = restart_fields(current, spec);
        if !restarts.is_empty() {
            // The change disconnects every call and restarts the node: take it out of
            // service and let its conferences end first, as `node stop` does.
            if !current.maintenance_mode {
                set_maintenance(
                    &self.client,
                    &current.resource_uri,
                    true,
                    "pexspec: a change that restarts the node",
                )
                .await
                .map_err(e)?;
            }
            let fresh: WorkerVm = self.client.get(&current.resource_uri).await.map_err(e)?;
            drain(&self.client, &fresh, self.drain, false)
                .await
                .map_err(e)?;
        }
        let mut o = self
            .converge(a, spec, Some(current.resource_uri.as_str()))
            .await?;
        let want_maintenance = field(d, "maintenance_mode").and_then(Value::as_bool).or(
            // Back in service after the restart, unless it was in maintenance before.
            (!restarts.is_empty()).then_some(current.maintenance_mode),
        );
        if let Some(want) = want_maintenance
            && want != o.maintenance_mode
        {
            set_maintenance(
                &self.client,
                &o.resource_uri,
                want,
                "pexspec: as the spec says",
            )
            .await
            .map_err(e)?;
            o = self.client.get(&o.resource_uri).await.map_err(e)?;
        }
        Ok(o)
    }

    async fn update_one(&self, r: &UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let a = r.address;
        let d = r.desired;
        let id = Some(r.id);
        match a.kind() {
            Kind::ManagementBootstrap => self.update_management(r).await,
            Kind::DnsServer => {
                let o = self.converge(a, &self.dns_spec(a, d)?, id).await?;
                Ok(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    dns_fields(&o),
                    None,
                ))
            }
            Kind::NtpServer => {
                let o = self.converge(a, &self.ntp_spec(a, d)?, id).await?;
                Ok(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    ntp_fields(&o),
                    None,
                ))
            }
            Kind::Licence => {
                let o = self.converge(a, &self.licence_spec(a, d)?, id).await?;
                if o.offline_mode != flag(d, "offline_mode", false) {
                    return Err(ProviderError::Invalid {
                        address: a.to_string(),
                        message: "a licence cannot change in place: remove it from the spec, apply, then add it again".into(),
                    });
                }
                Ok(self.licence_observed(a, d, &o))
            }
            Kind::SystemLocation => {
                let o = self.converge(a, &self.location_spec(a, d)?, id).await?;
                Ok(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    location_fields(&o),
                    None,
                ))
            }
            Kind::TlsCertificate => {
                let o = self.converge(a, &self.certificate_spec(a, d)?, id).await?;
                let fields = self.certificate_fields(a, d, &o)?;
                Ok(observed(a.clone(), o.resource_uri.as_str(), fields, None))
            }
            Kind::Conference => {
                let o = self.converge(a, &self.conference_spec(a, d)?, id).await?;
                let fields = self.conference_fields(a, d, &o)?;
                Ok(observed(a.clone(), o.resource_uri.as_str(), fields, None))
            }
            Kind::ConferenceAlias => {
                let o = self.converge(a, &self.alias_spec(a, d)?, id).await?;
                Ok(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    alias_fields(&o),
                    None,
                ))
            }
            Kind::WorkerVm => {
                let spec = self.worker_spec(a, d, false)?;
                let current: WorkerVm = self
                    .client
                    .get(&ResourceUri::new(r.id))
                    .await
                    .map_err(|e| provider_error(a, e))?;
                let o = self.converge_worker(a, &spec, d, &current).await?;
                Ok(observed(
                    a.clone(),
                    o.resource_uri.as_str(),
                    worker_fields(&o),
                    None,
                ))
            }
            Kind::NodeBootstrap => {
                // The file is on the node; where it was posted from cannot change after the fact.
                self.get_one(a, None)
                    .await?
                    .ok_or_else(|| ProviderError::NotFound {
                        address: a.to_string(),
                    })
            }
            other => Err(ProviderError::Internal {
                message: format!("the Pexip provider does not handle `{other}` (`{a}`)"),
            }),
        }
    }

    /// Where the API serves the Management Node's configuration, its DNS and NTP servers are
    /// set to the spec's (objects created as needed); elsewhere the wizard's answers cannot
    /// change after the fact and nothing is sent.
    async fn update_management(&self, r: &UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let a = r.address;
        let e = |e| provider_error(a, e);
        let snap = self
            .fetch(Need::of(Kind::ManagementBootstrap))
            .await
            .map_err(e)?
            .ok_or_else(|| ProviderError::NotFound {
                address: a.to_string(),
            })?;
        let Some(config) = &snap.manager_config else {
            return Ok(self.manager_observed(a.clone(), r.desired, &snap));
        };
        let mut dns = Vec::new();
        for address in strings(r.desired, "dns_servers") {
            let spec = DnsServerSpec {
                address,
                description: String::new(),
            };
            dns.push(json!(
                ensure(&self.client, &spec)
                    .await
                    .map_err(e)?
                    .object()
                    .resource_uri
                    .as_str()
            ));
        }
        let mut ntp = Vec::new();
        for address in strings(r.desired, "ntp_servers") {
            let spec = NtpServerSpec {
                address,
                description: String::new(),
            };
            ntp.push(json!(
                ensure(&self.client, &spec)
                    .await
                    .map_err(e)?
                    .object()
                    .resource_uri
                    .as_str()
            ));
        }
        self.client
            .update(
                &config.resource_uri,
                &json!({"dns_servers": dns, "ntp_servers": ntp}),
            )
            .await
            .map_err(e)?;
        let snap = self
            .fetch(Need::of(Kind::ManagementBootstrap))
            .await
            .map_err(e)?
            .unwrap_or_default();
        Ok(self.manager_observed(a.clone(), r.desired, &snap))
    }

    // ------------------------------------------------------------------ delete

    async fn delete_one(&self, r: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let a = r.address;
        let e = |e| provider_error(a, e);
        match r.kind {
            // The wizard cannot be undone: the Management Node goes with its instance.
            Kind::ManagementBootstrap => Ok(()),
            // The file is on the node: it goes with the node's registration and instance.
            Kind::NodeBootstrap => Ok(()),
            Kind::WorkerVm => {
                let uri = ResourceUri::new(r.id);
                let vm: WorkerVm = match self.client.get(&uri).await {
                    Ok(vm) => vm,
                    Err(PexipError::NotFound { .. }) => return Ok(()),
                    Err(err) => return Err(e(err)),
                };
                if !vm.maintenance_mode {
                    set_maintenance(&self.client, &uri, true, "pexspec: being removed")
                        .await
                        .map_err(e)?;
                }
                drain(&self.client, &vm, self.drain, false)
                    .await
                    .map_err(e)?;
                match self.client.delete(&uri).await {
                    Ok(()) | Err(PexipError::NotFound { .. }) => {}
                    Err(err) => return Err(e(err)),
                }
                if let Some(store) = &self.store {
                    store.remove(&vm.name).map_err(e)?;
                }
                Ok(())
            }
            _ => match self.client.delete(&ResourceUri::new(r.id)).await {
                Ok(()) | Err(PexipError::NotFound { .. }) => Ok(()),
                Err(err) => Err(e(err)),
            },
        }
    }

    fn check_stack(&self, stack: &str) -> Result<(), ProviderError> {
        if stack == self.stack {
            Ok(())
        } else {
            Err(ProviderError::Internal {
                message: format!(
                    "the Pexip provider was built for stack `{}`, asked about `{stack}`",
                    self.stack
                ),
            })
        }
    }
}

impl Provider for PexipProvider {
    fn kinds(&self) -> &[Kind] {
        PEXIP_KINDS
    }

    async fn observe(&self, scope: &Scope) -> Result<ObservedState, ProviderError> {
        self.check_stack(&scope.stack)?;
        self.observe_state().await
    }

    async fn get(&self, request: &GetRequest<'_>) -> Result<Option<Observed>, ProviderError> {
        self.check_stack(request.stack)?;
        self.get_one(request.address, request.id).await
    }

    async fn create(&self, request: &CreateRequest<'_>) -> Result<Created, ProviderError> {
        self.check_stack(request.stack)?;
        let mut created = self.create_one(request).await?;
        created.observed = with_unobservable(created.observed, Some(request.desired));
        Ok(created)
    }

    async fn update(&self, request: &UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        self.check_stack(request.stack)?;
        let updated = self.update_one(request).await?;
        Ok(with_unobservable(updated, Some(request.desired)))
    }

    async fn delete(&self, request: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        self.check_stack(request.stack)?;
        self.delete_one(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_class() {
        let a = Address::new(Kind::DnsServer, "10.0.0.2");
        let e = provider_error(
            &a,
            PexipError::Server {
                status: 503,
                method: "GET".into(),
                path: "/".into(),
                message: String::new(),
            },
        );
        assert!(e.is_retryable());
        let lost = provider_error(
            &a,
            PexipError::BootstrapLost {
                node: "pexconf01".into(),
            },
        );
        assert!(!lost.is_retryable());
        assert!(lost.to_string().contains("bootstrap-lost"), "{lost}");
        let auth = provider_error(
            &a,
            PexipError::Auth {
                url: "https://x".into(),
                username: "admin".into(),
                status: 401,
            },
        );
        assert_eq!(auth.class(), pexspec_plan::ErrorClass::Config);
    }

    #[test]
    fn duplicates_get_their_own_address() {
        let mut seen = BTreeSet::new();
        assert_eq!(unique_key(&mut seen, "10.0.0.2".into(), 1), "10.0.0.2");
        assert_eq!(unique_key(&mut seen, "10.0.0.2".into(), 7), "10.0.0.2#7");
    }

    #[test]
    fn worker_fields_normalise_empty_to_null() {
        let o = WorkerVm {
            name: "pexconf01".into(),
            address: "10.0.1.31".into(),
            alternative_fqdn: Some(String::new()),
            static_nat_address: Some("203.0.113.31".into()),
            ipv6_address: Some("2001:DB8::31".into()),
            ..WorkerVm::default()
        };
        let f = worker_fields(&o);
        assert_eq!(f["alternative_fqdn"], Value::Null);
        assert_eq!(f["ipv6_address"], "2001:db8::31");
        assert_eq!(bootstrap_fields(&o)["upload_address"], "203.0.113.31");
    }
}
