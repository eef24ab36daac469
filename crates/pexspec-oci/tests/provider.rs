//! The OCI provider against the OCI simulator, in process on 127.0.0.1 with a manual clock
//! that the client's own waits advance: for the OCI part of every spec in `specs/` (and a
//! three-region mesh), create everything in dependency order, observe an empty plan, a
//! second pass that mutates nothing, bounded list calls, drift on the security list, and a
//! destroy that leaves nothing tagged behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pexspec_graph::{Address, Graph, Kind};
use pexspec_oci::models::*;
use pexspec_oci::provider::{
    FileResolver, ListCall, OciProvider, OciSettings, PlacementRetry, ProviderEvents,
};
use pexspec_oci::{
    ClientOptions, Clock, Endpoints, LoadOptions, OciClient, OciConfig, PollOptions,
    PutObjectOptions, SleepFuture, TransferProgress, UploadOptions,
};
use pexspec_plan::{
    Action, CreateRequest, DeleteRequest, GetRequest, Observed, ObservedState, Plan, Provider,
    Scope, UpdateRequest, plan, resolve_for_apply, retry_token,
};
use pexspec_sim::{CapacityRule, FaultConfig, RunningSim, ServeOptions, SimClock, serve};
use serde_json::Value;

const MIB: usize = 1024 * 1024;

/// The client's clock is the simulator's manual clock: every backoff, rate-limit wait and
/// poll of the client moves simulated time instead of waiting.
#[derive(Debug)]
struct SimTime {
    sim: SimClock,
    origin_ms: i64,
}

impl Clock for SimTime {
    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.sim.now_ms() - self.origin_ms).unwrap_or(0))
    }

    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        self.sim.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

#[derive(Default)]
struct Recorder {
    retries: Mutex<Vec<(Address, PlacementRetry)>>,
    uploads: Mutex<BTreeMap<Address, TransferProgress>>,
}

impl ProviderEvents for Recorder {
    fn upload(&self, address: &Address, progress: &TransferProgress) {
        self.uploads
            .lock()
            .unwrap()
            .insert(address.clone(), *progress);
    }

    fn placement_retry(&self, address: &Address, retry: &PlacementRetry) {
        self.retries
            .lock()
            .unwrap()
            .push((address.clone(), retry.clone()));
    }
}

struct Harness {
    sim: RunningSim,
    client: OciClient,
    provider: OciProvider,
    graph: Graph,
    events: Arc<Recorder>,
    http: reqwest::Client,
    _images: tempfile::TempDir,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(path: &Path) -> Graph {
    let loaded = pexspec_spec::load_file(path).unwrap();
    let spec = loaded
        .spec
        .unwrap_or_else(|| panic!("{}: {:?}", path.display(), loaded.diagnostics));
    pexspec_graph::compile(&spec).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()))
}

/// The OCI nodes in dependency order.
fn oci_nodes(graph: &Graph) -> Vec<&pexspec_graph::Node> {
    graph.nodes().filter(|n| n.kind().is_oci()).collect()
}

async fn harness(spec: &Path) -> Harness {
    let graph = load(spec);
    let settings = OciSettings::from_graph(&graph).unwrap();
    let mut regions = vec![settings.home_region.clone()];
    for r in graph.regions() {
        if !regions.contains(r) {
            regions.push(r.clone());
        }
    }
    let mut options = ServeOptions::default().clock(SimClock::manual());
    options.regions = regions.clone();
    let sim = serve(options).await.unwrap();

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
    let clock = Arc::new(SimTime {
        sim: sim.clock().clone(),
        origin_ms: sim.clock().now_ms(),
    });
    let client = OciClient::with_options(
        &config,
        endpoints,
        ClientOptions {
            clock,
            seed: Some(7),
            ..ClientOptions::default()
        },
    )
    .unwrap();

    // Small stand-ins for the OVA files, 2.5 MiB so that 1 MiB parts make a multipart upload.
    let images = tempfile::tempdir().unwrap();
    let mut ovas = BTreeMap::new();
    for node in graph.nodes().filter(|n| n.kind() == Kind::Object) {
        let name = node.desired()["name"].as_str().unwrap().to_owned();
        let data: Vec<u8> = (0..(5 * MIB / 2))
            .map(|i| (i % 251) as u8 ^ name.len() as u8)
            .collect();
        std::fs::write(images.path().join(&name), &data).unwrap();
        ovas.insert(name, data);
    }
    let spec_dir = spec.parent().unwrap().to_path_buf();
    let image_dir = images.path().to_path_buf();
    let files: Arc<dyn FileResolver> = Arc::new(move |path: &str| {
        let p = Path::new(path);
        if path.ends_with(".ova") {
            image_dir.join(p.file_name().unwrap())
        } else {
            spec_dir.join(p)
        }
    });

    // Simulator gap: CreateImage looks its object up in the image's own region, even for an
    // Object Storage URL that names the home region. Until it follows the URL, a copy of the
    // OVA objects (untagged, in the root compartment) waits in every other region.
    let ns = client.get_namespace().await.unwrap();
    let bucket = graph
        .get(&Address::singleton(Kind::Bucket))
        .unwrap()
        .desired()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    for region in regions.iter().skip(1) {
        let c = client.in_region(region);
        c.create_bucket(
            &ns,
            &CreateBucketDetails {
                name: bucket.clone(),
                compartment_id: client.tenancy_id().to_owned(),
                ..CreateBucketDetails::default()
            },
        )
        .await
        .unwrap();
        for (name, data) in &ovas {
            c.put_object(&ns, &bucket, name, data.clone().into(), &Default::default())
                .await
                .unwrap();
        }
    }

    let events = Arc::new(Recorder::default());
    let upload = UploadOptions {
        part_size: MIB as u64,
        parallelism: 2,
        ..UploadOptions::default()
    };
    let poll = PollOptions {
        initial_interval: Duration::from_secs(5),
        max_interval: Duration::from_secs(30),
        timeout: Duration::from_secs(3600),
    };
    let provider = OciProvider::new(client.clone(), settings, files, upload, poll)
        .with_events(Arc::clone(&events) as Arc<dyn ProviderEvents>);
    Harness {
        sim,
        client,
        provider,
        graph,
        events,
        http: reqwest::Client::new(),
        _images: images,
    }
}

const PENDING: &[&str] = &[
    "CREATING",
    "PROVISIONING",
    "IMPORTING",
    "STARTING",
    "ATTACHING",
    "ASSIGNING",
    "UNASSIGNING",
    "UPDATING",
    "PENDING",
    "TERMINATING",
    "DELETING",
    "DETACHING",
];
const GONE: &[&str] = &["TERMINATED", "DELETED", "DETACHED"];

impl Harness {
    fn scope(&self) -> Scope {
        Scope::of(&self.graph)
    }

    fn stack(&self) -> &str {
        self.graph.stack()
    }

    async fn observe(&self) -> ObservedState {
        self.provider.observe(&self.scope()).await.unwrap()
    }

    /// The plan restricted to the OCI kinds.
    fn oci_plan(&self, state: &ObservedState) -> Plan {
        let mut p = plan(&self.graph, state);
        p.changes.retain(|c| c.kind.is_oci());
        p
    }

    async fn get(&self, o: &Observed) -> Option<Observed> {
        self.provider
            .get(&GetRequest {
                stack: self.stack(),
                address: &o.address,
                region: o.region.as_deref(),
                id: Some(&o.id),
            })
            .await
            .unwrap()
    }

    /// Polls until the resource leaves its transitional state, moving simulated time on.
    async fn settle(&self, mut o: Observed) -> Observed {
        for _ in 0..200 {
            if !o.state.as_deref().is_some_and(|s| PENDING.contains(&s)) {
                return o;
            }
            self.sim.clock().advance(Duration::from_secs(30));
            o = self
                .get(&o)
                .await
                .unwrap_or_else(|| panic!("`{}` vanished while settling", o.address));
        }
        panic!("`{}` never settled: {:?}", o.address, o.state);
    }

    /// What an executor does with the OCI part of a plan: creates and updates in dependency
    /// order, each awaited until ready. Returns the plan it applied.
    async fn apply(&self) -> Plan {
        let mut state = self.observe().await;
        let p = self.oci_plan(&state);
        for change in &p.changes {
            let node = self.graph.get(&change.address).unwrap();
            match change.action {
                Action::Noop => {}
                Action::Create => {
                    let desired =
                        resolve_for_apply(&node.desired(), &state, &node.address).unwrap();
                    let token = retry_token(self.stack(), &node.address, &desired);
                    let created = self
                        .provider
                        .create(&CreateRequest {
                            stack: self.stack(),
                            address: &node.address,
                            region: node.region.as_deref(),
                            desired: &desired,
                            retry_token: &token,
                            input: None,
                        })
                        .await
                        .unwrap_or_else(|e| panic!("create `{}`: {e}", node.address));
                    state.insert(self.settle(created.observed).await);
                }
                Action::Update => {
                    let desired =
                        resolve_for_apply(&node.desired(), &state, &node.address).unwrap();
                    let old = state.get(&node.address).unwrap().clone();
                    let changed: Vec<String> =
                        change.diff.iter().map(|d| d.field.clone()).collect();
                    let updated = self
                        .provider
                        .update(&UpdateRequest {
                            stack: self.stack(),
                            address: &node.address,
                            region: node.region.as_deref(),
                            id: &old.id,
                            etag: old.etag.as_deref(),
                            desired: &desired,
                            changed: &changed,
                        })
                        .await
                        .unwrap_or_else(|e| panic!("update `{}`: {e}", node.address));
                    state.insert(self.settle(updated).await);
                }
                Action::Replace | Action::Delete => {
                    panic!(
                        "unexpected {:?} of `{}`: {}",
                        change.action, change.address, change.reason
                    )
                }
            }
        }
        p
    }

    /// Deletes every observed resource, dependents first, each awaited until gone.
    async fn destroy(&self) {
        let state = self.observe().await;
        let mut order: Vec<Address> = oci_nodes(&self.graph)
            .iter()
            .map(|n| n.address.clone())
            .collect();
        order.reverse();
        for address in order {
            let Some(o) = state.get(&address) else {
                continue;
            };
            self.provider
                .delete(&DeleteRequest {
                    stack: self.stack(),
                    address: &o.address,
                    kind: o.kind,
                    region: o.region.as_deref(),
                    id: &o.id,
                    etag: o.etag.as_deref(),
                })
                .await
                .unwrap_or_else(|e| panic!("delete `{address}`: {e}"));
            let mut gone = false;
            for _ in 0..200 {
                match self.get(o).await {
                    None => {
                        gone = true;
                        break;
                    }
                    Some(now) if now.state.as_deref().is_some_and(|s| GONE.contains(&s)) => {
                        gone = true;
                        break;
                    }
                    // A peering is a state of its RPCs: it lasts until they go.
                    Some(_) if o.kind == Kind::RpcPeering => {
                        gone = true;
                        break;
                    }
                    Some(_) => self.sim.clock().advance(Duration::from_secs(30)),
                }
            }
            assert!(gone, "`{address}` is not gone");
        }
    }

    async fn stats(&self) -> BTreeMap<String, u64> {
        let url = format!(
            "{}/_sim/stats",
            self.sim
                .endpoint(self.provider.settings().home_region.as_str())
                .unwrap()
        );
        let v: Value = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for (op, by_status) in v["operations"].as_object().unwrap() {
            let n: u64 = by_status
                .as_object()
                .unwrap()
                .values()
                .map(|n| n.as_u64().unwrap())
                .sum();
            out.insert(op.clone(), n);
        }
        out
    }

    /// Answers by HTTP status, over every operation.
    async fn statuses(&self) -> BTreeMap<u16, u64> {
        let url = format!(
            "{}/_sim/stats",
            self.sim
                .endpoint(self.provider.settings().home_region.as_str())
                .unwrap()
        );
        let v: Value = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for by_status in v["operations"].as_object().unwrap().values() {
            for (status, n) in by_status.as_object().unwrap() {
                *out.entry(status.parse().unwrap()).or_default() += n.as_u64().unwrap();
            }
        }
        out
    }

    async fn reset_stats(&self) {
        let url = format!(
            "{}/_sim/reset-stats",
            self.sim
                .endpoint(self.provider.settings().home_region.as_str())
                .unwrap()
        );
        self.http.post(url).send().await.unwrap();
    }

    async fn set_faults(&self, faults: &FaultConfig) {
        let url = format!(
            "{}/_sim/faults",
            self.sim
                .endpoint(self.provider.settings().home_region.as_str())
                .unwrap()
        );
        let r = self.http.post(url).json(faults).send().await.unwrap();
        assert!(r.status().is_success());
    }
}

fn is_mutating(op: &str) -> bool {
    [
        "Create",
        "Update",
        "Delete",
        "Launch",
        "Terminate",
        "Put",
        "Connect",
        "Add",
        "Remove",
        "Commit",
        "Upload",
        "Abort",
        "InstanceAction",
    ]
    .iter()
    .any(|p| op.starts_with(p))
}

/// Every OCI change of the plan is a noop.
fn assert_noop(p: &Plan) {
    let busy: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::Noop)
        .map(|c| format!("{:?} {}: {} {:?}", c.action, c.address, c.reason, c.diff))
        .collect();
    assert!(
        busy.is_empty(),
        "the plan after apply is not empty:\n{}",
        busy.join("\n")
    );
}

/// One observe: at most one list call per operation and region, except one per image for
/// its shape entries and one per subnet for private IPs; no GET but the bucket's.
async fn assert_bounded_observe(h: &Harness) -> BTreeMap<ListCall, u64> {
    h.provider.reset_list_calls();
    h.reset_stats().await;
    let state = h.observe().await;
    let calls = h.provider.list_calls();
    let images_in = |region: &str| {
        state
            .resources
            .values()
            .filter(|o| o.kind == Kind::Image && o.region.as_deref() == Some(region))
            .count() as u64
    };
    for (call, n) in &calls {
        let bound = match call.operation {
            "ListImageShapeCompatibilityEntries" => images_in(&call.region),
            _ => 1,
        };
        assert!(*n <= bound, "{call:?} sent {n} times (bound {bound})");
    }
    let regions: BTreeSet<&str> = calls.keys().map(|c| c.region.as_str()).collect();
    assert_eq!(
        regions.len(),
        h.scope()
            .regions
            .iter()
            .chain([&h.provider.settings().home_region])
            .collect::<BTreeSet<_>>()
            .len()
    );
    let stats = h.stats().await;
    for (op, n) in &stats {
        if op.starts_with("List") {
            let sent: u64 = calls
                .iter()
                .filter(|(c, _)| c.operation == op)
                .map(|(_, n)| n)
                .sum();
            assert_eq!(*n, sent, "`{op}`: pages beyond the first");
        } else {
            assert!(
                matches!(op.as_str(), "GetBucket" | "HeadObject" | "GetNamespace"),
                "observe sent `{op}` {n} times: no GET per resource"
            );
            assert!(*n <= 1, "`{op}` {n} times");
        }
    }
    calls
}

/// Adds SSH from anywhere to a security list behind pexspec's back.
async fn open_ssh_to_world(h: &Harness, o: &Observed) {
    let c = h.client.in_region(o.region.as_deref().unwrap());
    let list = c.get_security_list(&o.id).await.unwrap();
    let mut rules = list.ingress_security_rules.clone();
    rules.push(IngressSecurityRule {
        source: "0.0.0.0/0".into(),
        protocol: protocol::TCP.into(),
        tcp_options: Some(PortOptions::destination(22, 22)),
        ..IngressSecurityRule::default()
    });
    c.update_security_list(
        &o.id,
        &UpdateSecurityListDetails {
            ingress_security_rules: Some(rules),
            ..UpdateSecurityListDetails::default()
        },
        list.etag.as_deref(),
    )
    .await
    .unwrap();
}

/// The whole life cycle of one spec's OCI resources.
async fn life_cycle(spec: &Path) -> Harness {
    let h = harness(spec).await;
    let first = h.apply().await;
    assert!(
        first.changes.iter().all(|c| c.action == Action::Create),
        "an empty cloud plans only creates"
    );
    let oci = oci_nodes(&h.graph);
    assert_eq!(first.changes.len(), oci.len());

    // Observe again: everything is there, in the desired state's shape.
    let state = h.observe().await;
    for n in &oci {
        assert!(
            state.get(&n.address).is_some(),
            "`{}` not observed",
            n.address
        );
    }
    assert_eq!(state.len(), oci.len(), "nothing observed beyond the graph");
    assert_noop(&h.oci_plan(&state));
    for o in state.resources.values() {
        assert!(
            !o.state
                .as_deref()
                .is_some_and(|s| PENDING.contains(&s) || GONE.contains(&s)),
            "`{}` is {:?}",
            o.address,
            o.state
        );
    }

    // Every OVA went up in parts, with progress.
    let uploads = h.events.uploads.lock().unwrap().clone();
    for n in oci.iter().filter(|n| n.kind() == Kind::Object) {
        let p = uploads.get(&n.address).expect("upload progress");
        assert_eq!(p.parts_total, 3);
        assert_eq!(p.bytes_done, p.bytes_total);
    }

    // A second pass sends nothing that changes anything.
    h.reset_stats().await;
    let second = h.apply().await;
    assert_noop(&second);
    let stats = h.stats().await;
    let mutating: Vec<&String> = stats.keys().filter(|op| is_mutating(op)).collect();
    assert!(mutating.is_empty(), "the second pass sent {mutating:?}");

    // Observe is bounded.
    assert_bounded_observe(&h).await;

    // A create sent again (a crash before its answer was recorded) returns the same VCN.
    let vcn = oci.iter().find(|n| n.kind() == Kind::Vcn).unwrap();
    let desired = resolve_for_apply(&vcn.desired(), &state, &vcn.address).unwrap();
    let token = retry_token(h.stack(), &vcn.address, &desired);
    let again = h
        .provider
        .create(&CreateRequest {
            stack: h.stack(),
            address: &vcn.address,
            region: vcn.region.as_deref(),
            desired: &desired,
            retry_token: &token,
            input: None,
        })
        .await
        .unwrap();
    assert_eq!(again.observed.id, state.get(&vcn.address).unwrap().id);

    // Drift: SSH opened to the world behind pexspec's back is an update, and the update
    // restores the spec's rules.
    let list = oci.iter().find(|n| n.kind() == Kind::SecurityList).unwrap();
    open_ssh_to_world(&h, state.get(&list.address).unwrap()).await;
    let drifted = h.oci_plan(&h.observe().await);
    let change = drifted.change(&list.address).unwrap();
    assert_eq!(change.action, Action::Update, "{change:?}");
    assert_eq!(
        change
            .diff
            .iter()
            .map(|d| d.field.as_str())
            .collect::<Vec<_>>(),
        ["ingress_security_rules"]
    );
    assert_eq!(
        drifted
            .changes
            .iter()
            .filter(|c| c.action != Action::Noop)
            .count(),
        1
    );
    h.apply().await;
    let restored = h.observe().await;
    assert_noop(&h.oci_plan(&restored));
    let open_ssh = restored.get(&list.address).unwrap().fields["ingress_security_rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| {
            r["source"] == "0.0.0.0/0" && r["tcp_options"]["destination_port_range"]["min"] == 22
        });
    assert!(!open_ssh, "the update removed SSH from anywhere");

    // Destroy: dependents first; then nothing of the stack is left.
    h.destroy().await;
    let after = h.observe().await;
    assert!(
        after.is_empty(),
        "left after destroy: {:?}",
        after.resources.keys().collect::<Vec<_>>()
    );
    let compartments = h
        .client
        .list_compartments(h.client.tenancy_id(), None)
        .await
        .unwrap();
    assert!(
        compartments
            .iter()
            .filter(|c| c.belongs_to_stack(h.stack()))
            .all(|c| c.lifecycle_state.is_gone()),
        "a compartment of the stack is still alive"
    );
    h
}

fn spec(name: &str) -> PathBuf {
    repo_root().join("specs").join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_life_cycle() {
    life_cycle(&spec("quickstart.yaml")).await;
}

/// A stack destroyed and applied again within OCI's 24 hours: the retry tokens of the first
/// creates are spent (what they made is deleted, or deleted and purged), so the creates go
/// on to the tokens' next generations instead of getting the deleted resources back; and a
/// create sent again after that (a crash) still returns the resource it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destroyed_stack_is_applied_again() {
    let h = life_cycle(&spec("quickstart.yaml")).await;
    let compartment = Address::singleton(Kind::Compartment);
    let mut ids = BTreeSet::new();
    // The second time the deleted compartment is still listed; the third, it is purged.
    for linger in [Duration::ZERO, Duration::from_secs(2 * 3600)] {
        h.sim.clock().advance(linger);
        let again = h.apply().await;
        assert!(again.changes.iter().all(|c| c.action == Action::Create));
        let state = h.observe().await;
        assert_eq!(state.len(), oci_nodes(&h.graph).len());
        assert_noop(&h.oci_plan(&state));
        let made = state.get(&compartment).unwrap();
        assert_eq!(made.state.as_deref(), Some("ACTIVE"));
        assert!(ids.insert(made.id.clone()), "the same compartment twice");

        let node = h.graph.get(&compartment).unwrap();
        let desired = resolve_for_apply(&node.desired(), &state, &compartment).unwrap();
        let token = retry_token(h.stack(), &compartment, &desired);
        let resent = h
            .provider
            .create(&CreateRequest {
                stack: h.stack(),
                address: &compartment,
                region: None,
                desired: &desired,
                retry_token: &token,
                input: None,
            })
            .await
            .unwrap();
        assert_eq!(resent.observed.id, made.id, "a crash made a second one");
        h.destroy().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zurich_frankfurt_life_cycle() {
    life_cycle(&spec("zurich-frankfurt.yaml")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_life_cycle() {
    life_cycle(&spec("hybrid.yaml")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_life_cycle() {
    life_cycle(&spec("private.yaml")).await;
}

#[test]
fn every_spec_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("specs"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "hybrid.yaml",
            "private.yaml",
            "quickstart.yaml",
            "zurich-frankfurt.yaml"
        ],
        "a new spec needs its life-cycle test here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_regions_peer_in_a_full_mesh() {
    mesh("three-regions.yaml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_tests_mesh_peers_too() {
    mesh("pextri.yaml").await;
}

/// Three regions: 6 RPCs, 3 peerings, all `PEERED`, routes to both peers everywhere.
async fn mesh(fixture: &str) {
    let h = harness(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture),
    )
    .await;
    h.apply().await;
    let state = h.observe().await;
    assert_noop(&h.oci_plan(&state));
    let of = |k: Kind| state.resources.values().filter(move |o| o.kind == k);
    assert_eq!(of(Kind::Rpc).count(), 6);
    assert_eq!(of(Kind::RpcPeering).count(), 3);
    for p in of(Kind::RpcPeering) {
        assert_eq!(p.state.as_deref(), Some("PEERED"), "{}", p.address);
        assert_eq!(p.fields["peering_status"], "PEERED");
    }
    // Both sides see the peering.
    for r in of(Kind::Rpc) {
        assert_eq!(r.fields["peering_status"], "PEERED", "{}", r.address);
        let peer = r.fields["peer_id"].as_str().unwrap();
        assert!(
            of(Kind::Rpc).any(|x| x.id == peer),
            "{} peers with a stranger",
            r.address
        );
    }
    // Each route table sends the two other VCNs to the region's DRG.
    for t in of(Kind::RouteTable) {
        let region = t.region.as_deref().unwrap();
        let drg = &state.get(&Address::new(Kind::Drg, region)).unwrap().id;
        let to_drg = t.fields["route_rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["network_entity_id"] == drg.as_str())
            .count();
        assert_eq!(to_drg, 2, "{}", t.address);
    }
    assert_bounded_observe(&h).await;
    h.destroy().await;
    assert!(h.observe().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_host_capacity_moves_the_launch_and_keeps_the_plan_empty() {
    let h = harness(&spec("quickstart.yaml")).await;
    let ads = h
        .client
        .list_availability_domains(h.client.tenancy_id())
        .await
        .unwrap();
    assert!(ads.len() > 1, "Frankfurt has three availability domains");
    h.set_faults(&FaultConfig {
        out_of_host_capacity: vec![CapacityRule {
            availability_domain: ads[0].name.clone(),
            fault_domain: None,
            shape: None,
            count: 1,
        }],
        ..FaultConfig::default()
    })
    .await;
    h.apply().await;
    let retries = h.events.retries.lock().unwrap().clone();
    assert_eq!(retries.len(), 1, "{retries:?}");
    let (address, retry) = &retries[0];
    assert_eq!(retry.availability_domain, ads[0].name);
    assert_eq!(retry.next_availability_domain, ads[1].name);
    let state = h.observe().await;
    let moved = state.get(address).unwrap();
    assert_eq!(
        moved.fields["availability_domain"], "AD-1",
        "as the spec asked"
    );
    assert_eq!(
        moved.fields["placed_availability_domain"],
        ads[1].name.as_str()
    );
    assert_noop(&h.oci_plan(&state));
    let instances: Vec<&Observed> = state
        .resources
        .values()
        .filter(|o| o.kind == Kind::Instance)
        .collect();
    assert!(instances.len() >= 3);
    assert_eq!(
        instances
            .iter()
            .filter(|o| o.fields["placed_availability_domain"] == ads[0].name.as_str())
            .count(),
        instances.len() - 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_without_id_finds_a_create_whose_answer_was_lost() {
    let h = harness(&spec("quickstart.yaml")).await;
    h.apply().await;
    let vcn = Address::new(Kind::Vcn, "eu-frankfurt-1");
    let found = h
        .provider
        .get(&GetRequest {
            stack: h.stack(),
            address: &vcn,
            region: Some("eu-frankfurt-1"),
            id: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, h.observe().await.get(&vcn).unwrap().id);
    // Deleting what is already gone is success.
    let sl = h
        .observe()
        .await
        .get(&Address::new(Kind::Subnet, "eu-frankfurt-1"))
        .cloned()
        .unwrap();
    let nothing = DeleteRequest {
        stack: h.stack(),
        address: &sl.address,
        kind: Kind::Subnet,
        region: sl.region.as_deref(),
        id: "ocid1.subnet.oc1.eu-frankfurt-1.doesnotexist",
        etag: None,
    };
    h.provider.delete(&nothing).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_cloud_still_converges_without_duplicates() {
    let h = harness(&spec("quickstart.yaml")).await;
    h.set_faults(&FaultConfig {
        seed: 11,
        rate_429: 0.15,
        rate_5xx: 0.1,
        ..FaultConfig::default()
    })
    .await;
    h.apply().await;
    let statuses = h.statuses().await;
    h.set_faults(&FaultConfig::default()).await;
    assert!(statuses.get(&429).is_some_and(|n| *n > 0), "{statuses:?}");
    assert!(
        statuses.keys().any(|s| *s >= 500),
        "some calls failed with 5xx: {statuses:?}"
    );
    let state = h.observe().await;
    assert_noop(&h.oci_plan(&state));
    assert_eq!(state.len(), oci_nodes(&h.graph).len());
    // Retried creates (same retry token) made one resource each.
    let vcns = h
        .client
        .list_vcns(
            &state
                .get(&Address::singleton(Kind::Compartment))
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    assert_eq!(vcns.len(), 1);
}

/// A provider for another spec on the same simulated cloud as `h`.
fn provider_for(h: &Harness, graph: &Graph) -> OciProvider {
    let images = h._images.path().to_path_buf();
    let files: Arc<dyn FileResolver> = Arc::new(move |path: &str| images.join(path));
    OciProvider::new(
        h.client.clone(),
        OciSettings::from_graph(graph).unwrap(),
        files,
        UploadOptions::default(),
        PollOptions::default(),
    )
}

/// Observes `graph` on `h`'s cloud, which must fail; checks that nothing was changed.
async fn refused(h: &Harness, graph: &Graph) -> String {
    h.reset_stats().await;
    let err = provider_for(h, graph)
        .observe(&Scope::of(graph))
        .await
        .expect_err("observe accepted a bucket of another stack");
    assert!(
        matches!(err, pexspec_plan::ProviderError::Conflict { .. }),
        "{err:?}"
    );
    let mutating: Vec<_> = h
        .stats()
        .await
        .into_keys()
        .filter(|op| is_mutating(op))
        .collect();
    assert!(
        mutating.is_empty(),
        "observe changed the cloud: {mutating:?}"
    );
    err.to_string()
}

/// Two specs name the same bucket (issue 18): once the quickstart stack holds it, observing
/// the two-region guide's stack made to name it too (nothing of it exists yet) refuses the
/// bucket before anything is created, instead of a create failing after the compartment,
/// networks and images were made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_of_another_stack_is_refused_before_anything_is_created() {
    let h = harness(&spec("quickstart.yaml")).await;
    let text = std::fs::read_to_string(spec("zurich-frankfurt.yaml"))
        .unwrap()
        .replace("bucket: Pexip-images", "bucket: quickstart-images");
    let loaded = pexspec_spec::load("zurich-frankfurt.yaml", &text, repo_root().join("specs"));
    let other = pexspec_graph::compile(&loaded.spec.unwrap()).unwrap();
    let bucket = |g: &Graph| {
        g.get(&Address::singleton(Kind::Bucket)).unwrap().desired()["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        bucket(&h.graph),
        bucket(&other),
        "the specs no longer share a bucket"
    );
    assert_ne!(h.stack(), other.stack());
    // Before the quickstart stack exists, the other stack observes nothing and no error.
    let empty = provider_for(&h, &other)
        .observe(&Scope::of(&other))
        .await
        .unwrap();
    assert!(empty.is_empty());

    h.apply().await;
    let message = refused(&h, &other).await;
    assert!(
        message.starts_with(
            "`bucket` conflicts: bucket `quickstart-images` belongs to stack `quickstart` (its \
             `pexspec-stack` tag); two stacks cannot share a bucket: choose another \
             `images.bucket`"
        ),
        "{message}"
    );
    // The stack that holds the bucket still observes it, with nothing to change.
    assert_noop(&h.oci_plan(&h.observe().await));
}

/// An untagged bucket of the spec's name: named after the stack whose OVA objects it holds,
/// and refused in any case (pexspec never adopts a bucket it did not make).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untagged_bucket_of_the_specs_name_is_refused() {
    let h = harness(&spec("quickstart.yaml")).await;
    let ns = h.client.get_namespace().await.unwrap();
    h.client
        .create_bucket(
            &ns,
            &CreateBucketDetails {
                name: "quickstart-images".into(),
                compartment_id: h.client.tenancy_id().to_owned(),
                ..CreateBucketDetails::default()
            },
        )
        .await
        .unwrap();
    let message = refused(&h, &h.graph).await;
    assert!(
        message.contains("bucket `quickstart-images` already exists and is not tagged"),
        "{message}"
    );
    h.client
        .put_object(
            &ns,
            "quickstart-images",
            "pexip-infinity-old.ova",
            b"ova".to_vec().into(),
            &PutObjectOptions {
                metadata: BTreeMap::from([("pexspec-stack".to_owned(), "pexdocs".to_owned())]),
                ..PutObjectOptions::default()
            },
        )
        .await
        .unwrap();
    let message = refused(&h, &h.graph).await;
    assert!(
        message.contains("bucket `quickstart-images` belongs to stack `pexdocs`"),
        "{message}"
    );
}
