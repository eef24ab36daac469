//! The Pexip provider against the simulator, for the Pexip part of every spec in `specs/`:
//! create everything in dependency order, observe, plan → empty, a second run sends nothing,
//! drift shows in the plan and an apply repairs it, delete everything. OCI resources are kept
//! in the plan crate's in-memory cloud, so references such as a node's public IP resolve as
//! they would in a real apply.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pexspec_graph::{Address, Graph, Kind, Lookup, Node};
use pexspec_pexip::*;
use pexspec_plan::{
    Action, CreateRequest, DeleteRequest, GetRequest, InMemoryProvider, ObservedState, Plan,
    Provider, ProviderError, Scope, Sensitive, UpdateRequest, plan, resolve_for_apply, retry_token,
};
use pexspec_sim::pexip::{self, PexipSim};
use serde_json::{Value, json};

const LICENCE: &str = "LIC-7f3a9c-0042-secret";
const BOARD_PIN: &str = "73194628";
const TEAM_PIN: &str = "48261937";
const SSH_PASSWORD: &str = "ssh-secret-5b1e9d";

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

fn compile(file: &str) -> Graph {
    let loaded = pexspec_spec::load_file(&specs_dir().join(file)).unwrap();
    let spec = loaded
        .spec
        .unwrap_or_else(|| panic!("{file} loads: {:?}", loaded.diagnostics));
    pexspec_graph::compile(&spec).unwrap_or_else(|d| panic!("{file} compiles: {d:?}"))
}

fn secrets() -> Arc<SpecSecrets> {
    let env: BTreeMap<String, String> = [
        ("PEXIP_ADMIN_PASSWORD", common::PASSWORD),
        ("PEXIP_LICENSE_KEY", LICENCE),
        ("BOARD_PIN", BOARD_PIN),
        ("TEAM_PIN", TEAM_PIN),
        ("PEXCONF_SSH_PASSWORD", SSH_PASSWORD),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Arc::new(SpecSecrets::with_env(specs_dir(), env))
}

/// A graph whose Conferencing Nodes also say `maintenance_mode: false` (see the drift test).
fn with_maintenance_flag(graph: &Graph) -> Graph {
    let nodes = graph
        .nodes()
        .map(|n| {
            let mut desired = n.desired().into_owned();
            if n.kind() != Kind::WorkerVm {
                return n.clone();
            }
            if let Some(d) = desired.as_object_mut() {
                d.insert("maintenance_mode".into(), json!(false));
            }
            let mut m = Node::new(n.address.clone(), n.region.clone(), desired);
            m.depends_on = n.depends_on.clone();
            m.replaced_with = n.replaced_with.clone();
            m.span = n.span;
            m
        })
        .collect();
    Graph::new(graph.stack(), graph.regions().to_vec(), nodes).unwrap()
}

fn lookups(value: &Value, out: &mut Vec<Lookup>) {
    if let Some(l) = Lookup::from_value(value) {
        out.push(l);
        return;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| lookups(v, out)),
        Value::Array(items) => items.iter().for_each(|v| lookups(v, out)),
        _ => {}
    }
}

fn pexip_kind(kind: Kind) -> bool {
    PEXIP_KINDS.contains(&kind)
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::Noop)
        .map(|c| format!("{} {} ({})", c.action.as_str(), c.address, c.reason))
        .collect()
}

/// The simulator, the Pexip provider, and an in-memory OCI.
struct World {
    /// First, so that it checks the simulator's record while the state is still there.
    _strict: common::Strict,
    sim: Arc<PexipSim>,
    pexip: PexipProvider,
    oci: InMemoryProvider,
    store: BootstrapStore,
    /// `node_bootstrap` address → the file its `worker_vm` create returned (the executor's
    /// journal, in the real thing).
    files: BTreeMap<Address, Sensitive>,
    _dir: tempfile::TempDir,
}

fn options(sim: &Arc<PexipSim>, store: &BootstrapStore, graph: &Graph) -> PexipProviderOptions {
    let password = PexipProvider::admin_password(graph, secrets().as_ref()).unwrap();
    let mut opts = PexipProviderOptions::new(ClientOptions::new(
        sim.base_url(),
        password,
        common::pinned(sim),
    ));
    opts.bootstrap_store = Some(store.clone());
    opts.wizard = WizardMode::Automatic {
        wait: WaitOptions::new(Duration::from_secs(600), Duration::from_secs(10)),
    };
    let routes = sim.clone();
    opts.upload_router = Some(Arc::new(move |name: &str, _address: &str| {
        routes.bootstrap_urls().get(name).cloned()
    }));
    opts
}

async fn world(graph: &Graph) -> World {
    world_with(graph, None).await
}

/// A world whose Management Node waits for its wizard when `operator` says how the operator
/// is guided (else the simulator runs the wizard itself).
async fn world_with(graph: &Graph, operator: Option<OperatorWizard>) -> World {
    world_setup(graph, operator, |_| {}).await
}

/// [`world_with`], the simulator's options adjusted by `adjust` first.
async fn world_setup(
    graph: &Graph,
    operator: Option<OperatorWizard>,
    adjust: impl FnOnce(&mut pexip::PexipSimOptions),
) -> World {
    let dir = tempfile::tempdir().unwrap();
    let strict = common::Strict::new(dir.path());
    let mut sim_opts = common::sim_options(dir.path());
    sim_opts.auto_bootstrap = operator.is_none();
    adjust(&mut sim_opts);
    let sim = Arc::new(pexip::start(sim_opts).await.unwrap());
    let store = BootstrapStore::new(dir.path().join("bootstrap"));
    let mut opts = options(&sim, &store, graph);
    if let Some(w) = operator {
        opts.wizard = WizardMode::Operator(w);
    }
    let pexip = PexipProvider::new(opts, secrets(), graph).unwrap();
    let oci = InMemoryProvider::new();
    for node in graph.nodes() {
        let mut found = Vec::new();
        lookups(&node.desired(), &mut found);
        for l in found {
            oci.add_lookup(&l, format!("ocid1.image.oc1.{}.replicated", l.region));
        }
    }
    World {
        _strict: strict,
        sim,
        pexip,
        oci,
        store,
        files: BTreeMap::new(),
        _dir: dir,
    }
}

impl World {
    async fn observe(&self, graph: &Graph) -> ObservedState {
        let scope = Scope::of(graph);
        let mut state = self.oci.observe_now(&scope);
        state.merge(self.pexip.observe(&scope).await.unwrap());
        state
    }

    /// Polls the node's bootstrap until the node is in service, on paused time.
    async fn wait_synced(&self, stack: &str, address: &Address) -> pexspec_plan::Observed {
        for _ in 0..40 {
            let got = self
                .pexip
                .get(&GetRequest {
                    stack,
                    address,
                    region: None,
                    id: None,
                })
                .await
                .unwrap();
            if let Some(o) = got
                && o.state.as_deref() == Some(NODE_READY_STATE)
            {
                return o;
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        panic!("{address} never reported SYNCED");
    }

    /// A tiny executor: the plan's changes in order, OCI kinds to the in-memory cloud, Pexip
    /// kinds to the provider; the `worker_vm` file handed to the `node_bootstrap` create.
    async fn apply(&mut self, graph: &Graph) -> Plan {
        match self.try_apply(graph).await {
            Ok(plan) => plan,
            Err((address, e)) => panic!("{address}: {e}"),
        }
    }

    /// [`World::apply`] that stops at the first change that fails, as the executor does.
    async fn try_apply(&mut self, graph: &Graph) -> Result<Plan, (Address, ProviderError)> {
        let mut state = self.observe(graph).await;
        let plan = plan(graph, &state);
        let stack = graph.stack();
        for change in &plan.changes {
            let address = &change.address;
            let kind = address.kind();
            if matches!(change.action, Action::Delete | Action::Replace)
                && let Some(old) = state.resources.remove(address)
            {
                let request = DeleteRequest {
                    stack,
                    address,
                    kind,
                    region: old.region.as_deref(),
                    id: &old.id,
                    etag: old.etag.as_deref(),
                };
                if pexip_kind(kind) {
                    self.pexip.delete(&request).await
                } else {
                    self.oci.delete_now(&request)
                }
                .map_err(|e| (address.clone(), e))?;
            }
            if matches!(change.action, Action::Noop | Action::Delete) {
                continue;
            }
            let node = graph.get(address).unwrap();
            let desired = resolve_for_apply(&node.desired(), &state, address).unwrap();
            if change.action == Action::Update {
                let old = state.get(address).cloned().unwrap();
                let changed: Vec<String> = change.diff.iter().map(|d| d.field.clone()).collect();
                let request = UpdateRequest {
                    stack,
                    address,
                    region: node.region.as_deref(),
                    id: &old.id,
                    etag: old.etag.as_deref(),
                    desired: &desired,
                    changed: &changed,
                };
                let updated = if pexip_kind(kind) {
                    self.pexip.update(&request).await
                } else {
                    self.oci.update_now(&request)
                }
                .map_err(|e| (address.clone(), e))?;
                state.insert(updated);
                continue;
            }
            let token = retry_token(stack, address, &desired);
            let input = self.files.get(address).cloned();
            let request = CreateRequest {
                stack,
                address,
                region: node.region.as_deref(),
                desired: &desired,
                retry_token: &token,
                input: input.as_ref(),
            };
            let created = if pexip_kind(kind) {
                self.pexip.create(&request).await
            } else {
                self.oci.create_now(&request)
            }
            .map_err(|e| (address.clone(), e))?;
            if kind == Kind::WorkerVm {
                let file = created.output.expect("a new node's bootstrap file");
                assert_eq!(format!("{file:?}"), "<redacted>");
                let name = address.key().unwrap();
                assert!(
                    self.store.load(name).unwrap().is_some(),
                    "{address}: the file is in the store before the create returns"
                );
                self.files
                    .insert(Address::new(Kind::NodeBootstrap, name), file);
            }
            state.insert(created.observed);
            if kind == Kind::NodeBootstrap {
                let synced = self.wait_synced(stack, address).await;
                state.insert(synced);
            }
        }
        Ok(plan)
    }
}

fn secret_free(text: &str) {
    for secret in [LICENCE, BOARD_PIN, TEAM_PIN, SSH_PASSWORD, common::PASSWORD] {
        assert!(!text.contains(secret), "a secret leaked into: {text}");
    }
}

async fn round_trip(file: &str) {
    let graph = compile(file);
    let mut w = world(&graph).await;
    let pexip_nodes: Vec<&Address> = graph
        .topological_order()
        .filter(|a| pexip_kind(a.kind()))
        .collect();

    let first = w.apply(&graph).await;
    assert!(!first.is_empty(), "{file}: the first apply creates");

    let gets = w.sim.api_calls().get;
    let after = w.observe(&graph).await;
    // One list per kind, whatever the number of objects: the probe, the Management Node's
    // configuration, eight configuration lists and the nodes' status.
    assert_eq!(w.sim.api_calls().get - gets, 11, "{file}: GETs per observe");
    let again = plan(&graph, &after);
    assert!(
        again.is_empty(),
        "{file}: plan after apply: {:#?}",
        changes(&again)
    );
    for a in &pexip_nodes {
        assert!(after.get(a).is_some(), "{file}: {a} is observed");
    }
    for o in after
        .resources
        .values()
        .filter(|o| o.kind == Kind::NodeBootstrap)
    {
        assert_eq!(o.state.as_deref(), Some(NODE_READY_STATE), "{file}");
        let name = o.address.key().unwrap();
        assert!(
            w.store.load(name).unwrap().is_none(),
            "{file}: a synced node's file leaves the store"
        );
    }
    let pexip_observed = after
        .resources
        .values()
        .filter(|o| pexip_kind(o.kind))
        .count();
    assert_eq!(
        pexip_observed,
        pexip_nodes.len(),
        "{file}: nothing observed beyond the spec"
    );
    secret_free(&serde_json::to_string(&after).unwrap());
    secret_free(&first.to_json());

    // A second run makes no mutating call.
    let before = w.sim.api_calls();
    let second = w.apply(&graph).await;
    assert!(second.is_empty(), "{file}: {:#?}", changes(&second));
    assert_eq!(w.sim.api_calls().mutations(), before.mutations(), "{file}");

    // Creates whose answers were lost are found, never repeated.
    let stack = graph.stack();
    for a in &pexip_nodes {
        if a.kind() == Kind::NodeBootstrap {
            continue;
        }
        let node = graph.get(a).unwrap();
        let desired = resolve_for_apply(&node.desired(), &after, a).unwrap();
        let token = retry_token(stack, a, &desired);
        let created = w
            .pexip
            .create(&CreateRequest {
                stack,
                address: a,
                region: None,
                desired: &desired,
                retry_token: &token,
                input: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{file}: create {a} again: {e}"));
        assert!(created.output.is_none(), "{file}: {a}");
        assert_eq!(created.observed.id, after.get(a).unwrap().id, "{file}: {a}");
    }
    assert_eq!(
        w.sim.api_calls().mutations(),
        before.mutations(),
        "{file}: adopting sends nothing"
    );

    // Delete everything.
    let empty = Graph::new(graph.stack(), graph.regions().to_vec(), Vec::new()).unwrap();
    let teardown = w.apply(&empty).await;
    assert!(
        teardown.changes.iter().all(|c| c.action == Action::Delete),
        "{file}"
    );
    let left = w.observe(&graph).await;
    let remaining: Vec<String> = left.resources.keys().map(ToString::to_string).collect();
    let manager = graph
        .topological_order()
        .find(|a| a.kind() == Kind::ManagementBootstrap)
        .unwrap();
    assert_eq!(
        remaining,
        vec![manager.to_string()],
        "{file}: only the Management Node itself is left (it goes with its instance)"
    );
}

#[tokio::test(start_paused = true)]
async fn quickstart_round_trips() {
    round_trip("quickstart.yaml").await;
}

#[tokio::test(start_paused = true)]
async fn private_round_trips() {
    round_trip("private.yaml").await;
}

#[tokio::test(start_paused = true)]
async fn hybrid_round_trips() {
    round_trip("hybrid.yaml").await;
}

#[tokio::test(start_paused = true)]
async fn zurich_frankfurt_round_trips() {
    round_trip("zurich-frankfurt.yaml").await;
}

#[tokio::test(start_paused = true)]
async fn drift_shows_in_the_plan_and_an_apply_repairs_it() {
    let graph = with_maintenance_flag(&compile("quickstart.yaml"));
    let mut w = world(&graph).await;
    w.apply(&graph).await;
    let state = w.observe(&graph).await;
    assert!(plan(&graph, &state).is_empty());

    // Behind pexspec's back: a node in maintenance mode, a DNS server removed, a PIN changed.
    let c = w.pexip.client();
    let node = Address::new(Kind::WorkerVm, "pexconf01");
    let node_uri = ResourceUri::new(state.get(&node).unwrap().id.clone());
    set_maintenance(c, &node_uri, true, "by hand")
        .await
        .unwrap();
    let dns = Address::new(Kind::DnsServer, "169.254.169.254");
    c.delete(&ResourceUri::new(state.get(&dns).unwrap().id.clone()))
        .await
        .unwrap();
    let room = Address::new(Kind::Conference, "Board room");
    c.update(
        &ResourceUri::new(state.get(&room).unwrap().id.clone()),
        &json!({"pin": "11112222"}),
    )
    .await
    .unwrap();

    let drifted = w.observe(&graph).await;
    let p = plan(&graph, &drifted);
    let action = |a: &Address| p.change(a).map(|c| c.action);
    assert_eq!(action(&node), Some(Action::Update), "{:#?}", changes(&p));
    assert_eq!(
        p.change(&node).unwrap().diff[0].field,
        "maintenance_mode",
        "{:#?}",
        p.change(&node)
    );
    assert_eq!(action(&dns), Some(Action::Create));
    assert_eq!(
        action(&Address::new(Kind::SystemLocation, "Frankfurt")),
        Some(Action::Update),
        "the location lost its DNS server"
    );
    let room_change = p.change(&room).unwrap();
    assert_eq!(room_change.action, Action::Update);
    assert_eq!(room_change.diff[0].field, "pin");
    assert_eq!(room_change.diff[0].old, json!("(sensitive)"));
    assert_eq!(drifted.get(&room).unwrap().fields["pin"], json!(SECRET_SET));
    let text = p.to_json() + &serde_json::to_string(&drifted).unwrap();
    assert!(!text.contains("11112222"));
    secret_free(&text);

    let repair = w.apply(&graph).await;
    assert_eq!(repair.summary.create, 1, "{:#?}", changes(&repair));
    let repaired = w.observe(&graph).await;
    assert!(
        plan(&graph, &repaired).is_empty(),
        "{:#?}",
        changes(&plan(&graph, &repaired))
    );
    let vm: WorkerVm = w.pexip.client().get(&node_uri).await.unwrap();
    assert!(!vm.maintenance_mode);
}

#[tokio::test(start_paused = true)]
async fn a_pin_removed_by_hand_is_seen() {
    let graph = compile("quickstart.yaml");
    let mut w = world(&graph).await;
    w.apply(&graph).await;
    let state = w.observe(&graph).await;
    let room = Address::new(Kind::Conference, "Board room");
    w.pexip
        .client()
        .update(
            &ResourceUri::new(state.get(&room).unwrap().id.clone()),
            &json!({"pin": ""}),
        )
        .await
        .unwrap();
    let drifted = w.observe(&graph).await;
    assert_eq!(
        drifted.get(&room).unwrap().fields["pin"],
        json!(SECRET_NOT_SET)
    );
    assert_eq!(
        plan(&graph, &drifted).change(&room).unwrap().action,
        Action::Update
    );
}

#[tokio::test(start_paused = true)]
async fn a_node_removed_from_the_spec_is_drained_and_deleted() {
    let graph = compile("quickstart.yaml");
    let mut w = world(&graph).await;
    w.apply(&graph).await;
    // The spec without pexconf02.
    let nodes = graph
        .nodes()
        .filter(|n| n.address.key() != Some("pexconf02"))
        .cloned()
        .collect();
    let smaller = Graph::new(graph.stack(), graph.regions().to_vec(), nodes).unwrap();
    w.sim
        .start_conference("pexconf02", "Board room", 3, Duration::from_secs(600))
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let p = w.apply(&smaller).await;
    let deleted: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.to_string())
        .collect();
    assert!(
        deleted.contains(&"worker_vm[pexconf02]".to_owned()),
        "{deleted:?}"
    );
    assert!(
        deleted.contains(&"node_bootstrap[pexconf02]".to_owned()),
        "{deleted:?}"
    );
    assert!(
        start.elapsed() >= Duration::from_secs(600),
        "the delete waited for the conference to end"
    );
    let left = w.observe(&smaller).await;
    assert!(
        left.get(&Address::new(Kind::WorkerVm, "pexconf02"))
            .is_none()
    );
    assert!(plan(&smaller, &left).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_location_change_is_marked_as_a_restart_and_drains_the_node_first() {
    let graph = compile("quickstart.yaml");
    let mut w = world(&graph).await;
    w.apply(&graph).await;
    let node = Address::new(Kind::WorkerVm, "pexconf02");
    let spare = Address::new(Kind::SystemLocation, "Spare");
    // The spec with a second location, and pexconf02 moved to it.
    let mut nodes: Vec<Node> = Vec::new();
    for n in graph.nodes() {
        if n.kind() == Kind::SystemLocation && nodes.iter().all(|m| m.address != spare) {
            let mut desired = n.desired().into_owned();
            desired
                .as_object_mut()
                .unwrap()
                .insert("name".into(), json!("Spare"));
            let mut m = Node::new(spare.clone(), n.region.clone(), desired);
            m.depends_on = n.depends_on.clone();
            m.span = n.span;
            nodes.push(m);
        }
        if n.address != node {
            nodes.push(n.clone());
            continue;
        }
        let mut desired = n.desired().into_owned();
        desired.as_object_mut().unwrap().insert(
            "system_location".into(),
            pexspec_graph::Ref::new(spare.clone(), "id").to_value(),
        );
        let mut m = Node::new(n.address.clone(), n.region.clone(), desired);
        m.depends_on = n.depends_on.clone();
        m.depends_on.insert(spare.clone());
        m.replaced_with = n.replaced_with.clone();
        m.span = n.span;
        nodes.push(m);
    }
    let moved = Graph::new(graph.stack(), graph.regions().to_vec(), nodes).unwrap();

    let state = w.observe(&moved).await;
    let p = plan(&moved, &state);
    let change = p.change(&node).unwrap();
    assert_eq!(change.action, Action::Update, "{change:#?}");
    assert_eq!(change.diff[0].field, "system_location");
    let mut shown = Vec::new();
    pexspec_plan::render_human(&p, false, &mut shown).unwrap();
    let shown = String::from_utf8(shown).unwrap();
    assert!(shown.contains("(restarts the node"), "{shown}");

    w.sim
        .start_conference("pexconf02", "Board room", 3, Duration::from_secs(600))
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    w.apply(&moved).await;
    assert!(
        start.elapsed() >= Duration::from_secs(600),
        "the change waited for the conference to end"
    );
    let uri = ResourceUri::new(state.get(&node).unwrap().id.clone());
    let vm: WorkerVm = w.pexip.client().get(&uri).await.unwrap();
    assert!(
        vm.system_location
            .as_ref()
            .is_some_and(|l| l.as_str() != state.get(&node).unwrap().fields["system_location"]),
        "{vm:?}"
    );
    assert!(!vm.maintenance_mode, "back in service after the change");
    assert!(plan(&moved, &w.observe(&moved).await).is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_management_nodes_dns_and_ntp_are_set_to_the_specs() {
    // On premises at 172.16.0.10: the simulator serves `configuration/v1/management_vm/`,
    // whose wizard answers (DNS and NTP 169.254.169.254) differ from the spec's.
    let graph = compile("hybrid.yaml");
    let mut w = world_setup(&graph, None, |o| {
        o.wizard.address = Some("172.16.0.10".into());
        o.wizard.netmask = Some("255.255.255.0".into());
        o.wizard.gateway = Some("172.16.0.1".into());
    })
    .await;
    let manager = Address::new(Kind::ManagementBootstrap, "pexmgr");
    let before = w.observe(&graph).await;
    let seen = before.get(&manager).unwrap();
    assert_eq!(seen.id, "/api/admin/configuration/v1/management_vm/1/");
    assert_eq!(seen.fields["dns_servers"], json!(["169.254.169.254"]));
    assert_eq!(seen.fields["address"], json!("172.16.0.10"));
    assert_eq!(
        plan(&graph, &before).change(&manager).unwrap().action,
        Action::Update
    );

    w.apply(&graph).await;
    let after = w.observe(&graph).await;
    let seen = after.get(&manager).unwrap();
    assert_eq!(seen.fields["dns_servers"], json!(["172.16.0.53"]));
    assert_eq!(
        seen.fields["ntp_servers"],
        json!(["ntp1.example.com", "ntp2.example.com", "ntp3.example.com"])
    );
    assert!(
        plan(&graph, &after).is_empty(),
        "{:#?}",
        changes(&plan(&graph, &after))
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_bootstrap_file_is_named() {
    let graph = compile("quickstart.yaml");
    let mut w = world(&graph).await;
    w.apply(&graph).await;
    let state = w.observe(&graph).await;
    let a = Address::new(Kind::NodeBootstrap, "pexconf01");
    let desired = resolve_for_apply(&graph.get(&a).unwrap().desired(), &state, &a).unwrap();
    // Synced: the store no longer has the file, and no input is given.
    let err = w
        .pexip
        .create(&CreateRequest {
            stack: graph.stack(),
            address: &a,
            region: None,
            desired: &desired,
            retry_token: "t",
            input: None,
        })
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("bootstrap-lost") && text.contains("pexconf01"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_wizard_is_the_operators_step() {
    let graph = compile("quickstart.yaml");
    let dir = tempfile::tempdir().unwrap();
    let _strict = common::Strict::new(dir.path());
    let mut sim_opts = common::sim_options(dir.path());
    sim_opts.auto_bootstrap = false;
    let sim = Arc::new(pexip::start(sim_opts).await.unwrap());
    let store = BootstrapStore::new(dir.path().join("bootstrap"));
    let mut opts = options(&sim, &store, &graph);
    opts.wizard = WizardMode::Operator(OperatorWizard::default());
    let provider = PexipProvider::new(opts, secrets(), &graph).unwrap();
    let scope = Scope::of(&graph);

    // Before the wizard nothing of the Management Node exists.
    assert!(provider.observe(&scope).await.unwrap().is_empty());

    let a = Address::new(Kind::ManagementBootstrap, "pexmgr");
    let desired = graph.get(&a).unwrap().desired().into_owned();
    let request = CreateRequest {
        stack: graph.stack(),
        address: &a,
        region: None,
        desired: &desired,
        retry_token: "t",
        input: None,
    };
    let err = provider.create(&request).await.unwrap_err();
    assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
    let text = err.to_string();
    for expected in [
        "installation wizard",
        "Hostname: type `pexmgr`",
        "Domain suffix: type `example.com`",
        "$PEXIP_ADMIN_PASSWORD",
        "expected `10.0.0.10`",
        "169.254.169.254 0.pool.ntp.org 1.pool.ntp.org",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    secret_free(&text);

    sim.complete_wizard().unwrap();
    let created = provider.create(&request).await.unwrap();
    assert_eq!(created.observed.state.as_deref(), Some(MANAGER_READY_STATE));
    let state = provider.observe(&scope).await.unwrap();
    assert!(state.get(&a).is_some());
}

/// A console access that answers like an OCI console connection and records what it was
/// asked; `fail` makes it refuse instead.
fn fake_console(asked: &Arc<Mutex<Vec<ConsoleTarget>>>, fail: bool) -> Arc<dyn ConsoleAccess> {
    let asked = Arc::clone(asked);
    Arc::new(move |t: &ConsoleTarget| -> ConsoleFuture<'static> {
        asked.lock().unwrap().push(t.clone());
        let region = t.region.clone().unwrap_or_default();
        Box::pin(async move {
            if fail {
                return Err("ListInstances: 401 NotAuthenticated".to_owned());
            }
            Ok(ConsoleInfo {
                command: console_command(&region),
                vnc_command: None,
                notes: vec!["ssh offers the private half of keys/pexip.pub".into()],
            })
        })
    })
}

fn console_command(region: &str) -> String {
    format!(
        "ssh -o ProxyCommand='ssh -W %h:%p -p 443 ocid1.instanceconsoleconnection.oc1.{region}.fake@instance-console.{region}.oci.oraclecloud.com' ocid1.instance.oc1.{region}.fake"
    )
}

/// The operator's side: a console access, a sink that keeps what it is given, a wait.
fn operator(
    printed: &Arc<Mutex<Vec<String>>>,
    asked: &Arc<Mutex<Vec<ConsoleTarget>>>,
    wait: Duration,
) -> OperatorWizard {
    let printed = Arc::clone(printed);
    OperatorWizard::default()
        .with_console(fake_console(asked, false))
        .with_instructions(Arc::new(move |text: &str| {
            printed.lock().unwrap().push(text.to_owned());
        }))
        .with_wait(WaitOptions::new(wait, Duration::from_secs(15)))
}

#[tokio::test(start_paused = true)]
async fn the_operator_gets_every_answer_once_and_the_create_waits_for_the_wizard() {
    let graph = compile("quickstart.yaml");
    let printed = Arc::new(Mutex::new(Vec::new()));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let w = world_with(
        &graph,
        Some(operator(&printed, &asked, Duration::from_secs(30 * 60))),
    )
    .await;
    let a = Address::new(Kind::ManagementBootstrap, "pexmgr");
    let desired = graph.get(&a).unwrap().desired().into_owned();
    let request = CreateRequest {
        stack: graph.stack(),
        address: &a,
        region: None,
        desired: &desired,
        retry_token: "t",
        input: None,
    };
    // The operator finishes the wizard twelve minutes in.
    let sim = Arc::clone(&w.sim);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(12 * 60)).await;
        sim.complete_wizard().unwrap();
    });
    let start = tokio::time::Instant::now();
    let created = w.pexip.create(&request).await.unwrap();
    assert_eq!(created.observed.state.as_deref(), Some(MANAGER_READY_STATE));
    assert!(start.elapsed() >= Duration::from_secs(12 * 60), "it waited");

    let asked = asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [ConsoleTarget {
            stack: graph.stack().to_owned(),
            manager: a.clone(),
            instance: Address::new(Kind::Instance, "pexmgr"),
            region: Some("eu-frankfurt-1".into()),
        }]
    );
    let printed_now = printed.lock().unwrap().clone();
    assert_eq!(printed_now.len(), 1, "the instructions are given once");
    let text = &printed_now[0];
    for expected in [
        format!("Connect with:\n    {}\n", console_command("eu-frankfurt-1")),
        "(ssh offers the private half of keys/pexip.pub)".into(),
        " 1. Open the serial console: run `ssh -o ProxyCommand=".into(),
        "pexipmcumgr login: type `admin`".into(),
        "Enter new UNIX password: type the value of $PEXIP_OS_PASSWORD".into(),
        "IP address: press Enter to accept the default (expected `10.0.0.10`)".into(),
        "Network mask: press Enter to accept the default (expected `255.255.255.0`)".into(),
        "Gateway: press Enter to accept the default (expected `10.0.0.1`)".into(),
        "Hostname: type `pexmgr`".into(),
        "Domain suffix: type `example.com`".into(),
        "DNS servers: type `169.254.169.254`".into(),
        "NTP servers: type `169.254.169.254 0.pool.ntp.org 1.pool.ntp.org`".into(),
        "Web administration username: type `admin`".into(),
        "Web administration password: type the value of $PEXIP_ADMIN_PASSWORD".into(),
        "Enable incident reporting: answer `no`".into(),
        "Send deployment and usage statistics to Pexip: answer `no`".into(),
        "pexmgr login: wait for `pexmgr login:`".into(),
        "waits up to 30 min for the management API".into(),
        "run `pexspec apply` again".into(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }
    secret_free(text);

    // A create sent again (an answer lost on the way) finds the API answering: nothing is
    // shown again.
    w.pexip.create(&request).await.unwrap();
    assert_eq!(printed.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_wizard_not_done_in_time_leaves_a_continue_path_that_a_rerun_takes() {
    let graph = compile("quickstart.yaml");
    let printed = Arc::new(Mutex::new(Vec::new()));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let mut w = world_with(
        &graph,
        Some(operator(&printed, &asked, Duration::from_secs(20 * 60))),
    )
    .await;
    let a = Address::new(Kind::ManagementBootstrap, "pexmgr");

    let (address, err) = w.try_apply(&graph).await.unwrap_err();
    assert_eq!(address, a);
    assert!(
        !err.is_retryable(),
        "the executor does not try again by itself"
    );
    let text = err.to_string();
    for expected in [
        "wizard-not-done",
        "did not answer within 20 min",
        "answers were printed above",
        "run `pexspec apply` again",
        "finds the Management Node answering and continues",
        "(last error: ",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    secret_free(&text);
    assert_eq!(printed.lock().unwrap().len(), 1);
    // Nothing of the Management Node's configuration was attempted.
    assert!(
        w.pexip
            .observe(&Scope::of(&graph))
            .await
            .unwrap()
            .is_empty()
    );

    // The operator completes the wizard; the re-run observes the Management Node and goes on
    // from there: the bootstrap is found, not created again, and nothing is shown again.
    w.sim.complete_wizard().unwrap();
    let second = w.try_apply(&graph).await.unwrap();
    let bootstrap = second.changes.iter().find(|c| c.address == a).unwrap();
    assert_eq!(bootstrap.action, Action::Noop, "{:#?}", changes(&second));
    assert!(
        second
            .changes
            .iter()
            .any(|c| pexip_kind(c.kind) && c.action == Action::Create),
        "the configuration after the wizard is made: {:#?}",
        changes(&second)
    );
    assert_eq!(printed.lock().unwrap().len(), 1);
    assert_eq!(asked.lock().unwrap().len(), 1);
    let after = w.observe(&graph).await;
    assert!(plan(&graph, &after).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_console_that_cannot_be_opened_falls_back_to_the_oci_console() {
    let graph = compile("quickstart.yaml");
    let asked = Arc::new(Mutex::new(Vec::new()));
    let operator = OperatorWizard::default().with_console(fake_console(&asked, true));
    assert!(format!("{operator:?}").contains("console: true"));
    let w = world_with(&graph, Some(operator)).await;
    let a = Address::new(Kind::ManagementBootstrap, "pexmgr");
    let desired = graph.get(&a).unwrap().desired().into_owned();
    let err = w
        .pexip
        .create(&CreateRequest {
            stack: graph.stack(),
            address: &a,
            region: None,
            desired: &desired,
            retry_token: "t",
            input: None,
        })
        .await
        .unwrap_err();
    // Without an instruction sink the instructions are the error, at once.
    assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
    let text = err.to_string();
    for expected in [
        "warning: could not open a console connection to `instance[pexmgr]` (ListInstances: 401 NotAuthenticated): use the OCI Console",
        "Connect with:\n    OCI Console > Compute > Instances",
        "Hostname: type `pexmgr`",
        "Then run `pexspec apply` again",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(!text.contains("waits up to"), "{text}");
    assert_eq!(asked.lock().unwrap().len(), 1);
}
