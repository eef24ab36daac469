//! The OCI side of [`pexspec_plan::Provider`]: observe the stack's OCI resources by their tags
//! with a bounded number of list calls, and create, update, delete and read every OCI kind.
//!
//! - [`OciProvider`] implements the trait; build it with [`OciProvider::new`] from an
//!   [`OciClient`], the [`OciSettings`] of the spec (compartment, home region, OVA object
//!   names: [`OciSettings::from_graph`]), a [`FileResolver`] for the spec's files, and the
//!   upload and poll options.
//! - Observe lists each kind once per compartment and region and keeps the resources tagged
//!   with the stack; [`OciProvider::list_calls`] counts those calls.
//! - Observed fields have the shape of the graph's desired state (see `fields.rs`), so a plan
//!   right after an apply is empty.

mod error;
mod fields;
mod get;
mod join;
mod mutate;
mod observe;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use pexspec_graph::{Address, Graph, Kind};
use pexspec_plan::{
    CreateRequest, Created, DeleteRequest, GetRequest, Observed, ObservedState, Provider,
    ProviderError, Scope, UpdateRequest,
};

use crate::client::OciClient;
use crate::import::PollOptions;
use crate::progress::TransferProgress;
use crate::upload::UploadOptions;

/// The OCI kinds, in creation order.
pub const OCI_KINDS: &[Kind] = &[
    Kind::Compartment,
    Kind::Bucket,
    Kind::Object,
    Kind::Image,
    Kind::ImageShape,
    Kind::Vcn,
    Kind::InternetGateway,
    Kind::Drg,
    Kind::DrgAttachment,
    Kind::Rpc,
    Kind::RpcPeering,
    Kind::RouteTable,
    Kind::SecurityList,
    Kind::Subnet,
    Kind::Instance,
    Kind::PublicIp,
];

/// Freeform tag on an instance: the availability domain the spec asked for (`AD-1`), kept
/// when a capacity shortage placed the instance in another one.
pub const TAG_REQUESTED_AD: &str = "pexspec-requested-ad";
/// Freeform tag on an instance: its primary VNIC as launched (`subnet|assign|hostname|ip`),
/// reported while OCI does not show the VNIC yet.
pub const TAG_VNIC: &str = "pexspec-vnic";
/// Freeform tag on an image: where it was imported from
/// (`type|format|os|bucket region|namespace|bucket|object`); OCI does not return it.
pub const TAG_IMAGE_SOURCE: &str = "pexspec-image-source";

/// Where the stack's compartment is: its name under its parent (`root` for the tenancy, or a
/// compartment OCID), as the spec's `oci.compartment` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompartmentLocator {
    /// The compartment's name.
    pub name: String,
    /// `root` or the parent compartment's OCID.
    pub parent: String,
}

/// What the provider must know of the spec before it observes anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciSettings {
    /// The tenancy's home region: compartments are written there, and the bucket lives there.
    pub home_region: String,
    /// The stack's compartment.
    pub compartment: CompartmentLocator,
    /// OVA object names in the bucket → their address (objects take no tags: they are found
    /// by name, or by the `opc-meta-pexspec-*` metadata pexspec uploads them with).
    pub objects: BTreeMap<String, Address>,
    /// The bucket's name (`images.bucket`). Bucket names are unique in a namespace and
    /// region, whatever the compartment: observe looks the name up to refuse, before anything
    /// is created, a bucket that belongs to another stack.
    pub bucket: Option<String>,
}

impl OciSettings {
    /// The settings of a compiled graph: the compartment node's name and parent, the bucket
    /// node's region (the home region), and the object nodes' names.
    pub fn from_graph(graph: &Graph) -> Result<Self, ProviderError> {
        let missing = |what: &str| ProviderError::Internal {
            message: format!("the graph has no `{what}`: it cannot be deployed to OCI"),
        };
        let compartment = graph
            .get(&Address::singleton(Kind::Compartment))
            .ok_or_else(|| missing("compartment"))?;
        let compartment_desired = compartment.desired();
        let text = |key: &str| {
            compartment_desired
                .get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ProviderError::Internal {
                    message: format!("`compartment` has no `{key}` in its desired state"),
                })
        };
        let bucket = graph
            .get(&Address::singleton(Kind::Bucket))
            .ok_or_else(|| missing("bucket"))?;
        let home_region = bucket
            .region
            .clone()
            .ok_or_else(|| missing("bucket region"))?;
        let objects = graph
            .nodes()
            .filter(|n| n.kind() == Kind::Object)
            .filter_map(|n| {
                let name = n.desired().get("name")?.as_str()?.to_owned();
                Some((name, n.address.clone()))
            })
            .collect();
        Ok(Self {
            home_region,
            compartment: CompartmentLocator {
                name: text("name")?,
                parent: text("parent")?,
            },
            objects,
            bucket: bucket
                .desired()
                .get("name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// Turns a path of the spec (`images/x.ova`, `keys/pexip.pub`) into a local file.
pub trait FileResolver: Send + Sync {
    /// The local path of `path`.
    fn resolve(&self, path: &str) -> PathBuf;
}

impl<F: Fn(&str) -> PathBuf + Send + Sync> FileResolver for F {
    fn resolve(&self, path: &str) -> PathBuf {
        self(path)
    }
}

/// Resolves paths relative to a directory (the spec file's directory); absolute paths stay.
#[derive(Clone, Debug)]
pub struct RelativeTo(pub PathBuf);

impl FileResolver for RelativeTo {
    fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.0.join(p)
        }
    }
}

/// A launch that found no capacity and is tried elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementRetry {
    /// The availability domain that had no capacity.
    pub availability_domain: String,
    /// Its fault domain, when the launch named one.
    pub fault_domain: Option<String>,
    /// Where the next attempt goes.
    pub next_availability_domain: String,
    /// The next attempt's fault domain (`None`: OCI chooses).
    pub next_fault_domain: Option<String>,
    /// OCI's message.
    pub message: String,
}

/// Receives what long creates do, for the binary to show. Every method does nothing by
/// default.
pub trait ProviderEvents: Send + Sync {
    /// An OVA upload made progress.
    fn upload(&self, address: &Address, progress: &TransferProgress) {
        let _ = (address, progress);
    }

    /// An instance launch ran out of host capacity and is tried in another place.
    fn placement_retry(&self, address: &Address, retry: &PlacementRetry) {
        let _ = (address, retry);
    }
}

/// Ignores every event.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl ProviderEvents for NoEvents {}

/// One list operation in one region, as counted by [`OciProvider::list_calls`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListCall {
    /// The OCI operation, e.g. `ListVcns`.
    pub operation: &'static str,
    /// The region it was sent to.
    pub region: String,
}

#[derive(Debug, Default)]
struct Cache {
    namespace: Option<String>,
    /// Region → availability domain names, in OCI's order.
    availability_domains: BTreeMap<String, Vec<String>>,
}

/// The OCI [`Provider`]: see the module documentation.
pub struct OciProvider {
    client: OciClient,
    settings: OciSettings,
    files: Arc<dyn FileResolver>,
    upload: UploadOptions,
    poll: PollOptions,
    events: Arc<dyn ProviderEvents>,
    wait_for_peering: bool,
    cache: Mutex<Cache>,
    calls: Mutex<BTreeMap<ListCall, u64>>,
}

impl fmt::Debug for OciProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciProvider")
            .field("client", &self.client)
            .field("settings", &self.settings)
            .field("wait_for_peering", &self.wait_for_peering)
            .finish_non_exhaustive()
    }
}

impl OciProvider {
    /// A provider calling OCI through `client`, for the stack described by `settings`;
    /// `files` turns the spec's paths (OVA files, the SSH public key) into local files;
    /// `upload` tunes OVA uploads and `poll` the waits the provider does itself (the remote
    /// peering, see [`OciProvider::with_peering_wait`]).
    pub fn new(
        client: OciClient,
        settings: OciSettings,
        files: Arc<dyn FileResolver>,
        upload: UploadOptions,
        poll: PollOptions,
    ) -> Self {
        Self {
            client,
            settings,
            files,
            upload,
            poll,
            events: Arc::new(NoEvents),
            wait_for_peering: true,
            cache: Mutex::new(Cache::default()),
            calls: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sends upload progress and placement retries to `events`.
    pub fn with_events(mut self, events: Arc<dyn ProviderEvents>) -> Self {
        self.events = events;
        self
    }

    /// Whether the `rpc_peering` create waits until both sides are `PEERED` (the default);
    /// with `false` it returns at once in `PENDING` and the caller polls [`Provider::get`].
    pub fn with_peering_wait(mut self, wait: bool) -> Self {
        self.wait_for_peering = wait;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &OciSettings {
        &self.settings
    }

    /// The client.
    pub fn client(&self) -> &OciClient {
        &self.client
    }

    /// How many list calls observe (and get, for a resource without an id) sent, per
    /// operation and region, since the provider was made or [`OciProvider::reset_list_calls`];
    /// pages of one listing count once.
    pub fn list_calls(&self) -> BTreeMap<ListCall, u64> {
        lock(&self.calls).clone()
    }

    /// Sets the list call counters back to zero.
    pub fn reset_list_calls(&self) {
        lock(&self.calls).clear();
    }

    fn count(&self, operation: &'static str, region: &str) {
        *lock(&self.calls)
            .entry(ListCall {
                operation,
                region: region.to_owned(),
            })
            .or_default() += 1;
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        lock(&self.cache)
    }

    /// The client of `region`.
    fn region(&self, region: &str) -> OciClient {
        self.client.in_region(region)
    }

    /// The client of the home region.
    fn home(&self) -> OciClient {
        self.client.in_region(&self.settings.home_region)
    }

    /// The tenancy's Object Storage namespace (asked once).
    async fn namespace(&self) -> Result<String, ProviderError> {
        if let Some(ns) = self.cache().namespace.clone() {
            return Ok(ns);
        }
        let ns = self
            .home()
            .get_namespace()
            .await
            .map_err(|e| error::convert(None, e))?;
        self.cache().namespace = Some(ns.clone());
        Ok(ns)
    }

    /// The availability domains of `region` (asked once per region).
    async fn availability_domains(&self, region: &str) -> Result<Vec<String>, ProviderError> {
        if let Some(ads) = self.cache().availability_domains.get(region).cloned() {
            return Ok(ads);
        }
        let ads: Vec<String> = self
            .region(region)
            .list_availability_domains(self.client.tenancy_id())
            .await
            .map_err(|e| error::convert(None, e))?
            .into_iter()
            .map(|ad| ad.name)
            .collect();
        self.cache()
            .availability_domains
            .insert(region.to_owned(), ads.clone());
        Ok(ads)
    }

    /// The OCID of `parent` (`root` is the tenancy).
    fn parent_id(&self, parent: &str) -> String {
        if parent == "root" || parent.is_empty() {
            self.client.tenancy_id().to_owned()
        } else {
            parent.to_owned()
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Provider for OciProvider {
    fn kinds(&self) -> &[Kind] {
        OCI_KINDS
    }

    fn observe(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<ObservedState, ProviderError>> + Send {
        self.observe_all(scope)
    }

    fn get(
        &self,
        request: &GetRequest<'_>,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send {
        self.get_one(*request)
    }

    fn create(
        &self,
        request: &CreateRequest<'_>,
    ) -> impl Future<Output = Result<Created, ProviderError>> + Send {
        self.create_one(*request)
    }

    fn update(
        &self,
        request: &UpdateRequest<'_>,
    ) -> impl Future<Output = Result<Observed, ProviderError>> + Send {
        self.update_one(*request)
    }

    fn delete(
        &self,
        request: &DeleteRequest<'_>,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        self.delete_one(*request)
    }
}
