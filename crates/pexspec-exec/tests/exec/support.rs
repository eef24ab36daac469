//! Helpers: graphs drawn in code, real specs from the fixtures, one call that runs a plan
//! against a `SimProvider`, and readers of the provider's call log.

use std::path::PathBuf;
use std::time::Duration;

use pexspec_exec::testing::{Call, CallRecord, SimProvider};
use pexspec_exec::{Event, EventLog, ExecOptions, Executor, Report, SensitiveSink};
use pexspec_graph::{Address, Graph, Kind, Node, Ref};
use pexspec_plan::{DynProvider, ObservedState, Plan, Scope, plan};
use serde_json::{Value, json};

/// `vcn[key]`.
pub fn vcn(key: &str) -> Address {
    Address::new(Kind::Vcn, key)
}

/// A graph of VCNs: each entry is a key and the keys it depends on, by reference to their
/// ids (so references are resolved by the executor).
pub fn dag(nodes: &[(&str, &[&str])]) -> Graph {
    typed_dag(
        &nodes
            .iter()
            .map(|(k, deps)| (vcn(k), deps.iter().map(|d| vcn(d)).collect()))
            .collect::<Vec<_>>(),
    )
}

/// A graph of any addresses, each depending on others by reference to their ids.
pub fn typed_dag(nodes: &[(Address, Vec<Address>)]) -> Graph {
    let nodes: Vec<Node> = nodes
        .iter()
        .map(|(a, deps)| {
            let refs: Vec<Value> = deps.iter().map(|d| Ref::id(d.clone()).to_value()).collect();
            Node::new(
                a.clone(),
                Some("eu-frankfurt-1".into()),
                json!({ "name": a.to_string(), "deps": refs }),
            )
        })
        .collect();
    Graph::new("t", vec!["eu-frankfurt-1".into()], nodes).expect("a valid graph")
}

/// A spec from `tests/fixtures`, compiled.
pub fn fixture(name: &str) -> Graph {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the fixture exists");
    spec_graph(name, &text)
}

/// A spec given as YAML, compiled.
pub fn spec_graph(name: &str, text: &str) -> Graph {
    let loaded = pexspec_spec::load(name, text, PathBuf::from("."));
    let spec = loaded
        .spec
        .unwrap_or_else(|| panic!("{name} loads: {:?}", loaded.diagnostics));
    pexspec_graph::compile(&spec).unwrap_or_else(|d| panic!("{name} compiles: {d:?}"))
}

/// What a provider observes now for the graph's stack.
pub fn observe(sim: &SimProvider, graph: &Graph) -> ObservedState {
    sim.cloud().observe_now(&Scope::of(graph))
}

/// The plan of `graph` against what `sim` holds now.
pub fn plan_now(sim: &SimProvider, graph: &Graph) -> (Plan, ObservedState) {
    let observed = observe(sim, graph);
    (plan(graph, &observed), observed)
}

/// The result of a run.
pub struct Ran {
    pub report: Report,
    pub events: Vec<Event>,
}

/// Plans `graph` against `sim` and runs the plan with `options`.
pub async fn apply(sim: &SimProvider, graph: &Graph, options: ExecOptions) -> Ran {
    let (p, observed) = plan_now(sim, graph);
    run(sim, graph, &p, &observed, options, None).await
}

/// Runs a plan, with an optional sensitive sink.
pub async fn run(
    sim: &SimProvider,
    graph: &Graph,
    p: &Plan,
    observed: &ObservedState,
    options: ExecOptions,
    sink: Option<&dyn SensitiveSink>,
) -> Ran {
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
    let log = EventLog::new();
    let mut exec = Executor::new(p, graph, observed, &providers).options(options);
    if let Some(sink) = sink {
        exec = exec.sensitive_sink(sink);
    }
    let report = exec.run(log.clone()).await.expect("the run starts");
    Ran {
        report,
        events: log.events(),
    }
}

/// The first call of an address: when its step started.
pub fn first_start(calls: &[CallRecord], address: &Address) -> Option<Duration> {
    calls
        .iter()
        .filter(|c| &c.address == address)
        .map(|c| c.start)
        .min()
}

/// The end of the last call of an address: when its step was seen done.
pub fn last_end(calls: &[CallRecord], address: &Address) -> Option<Duration> {
    calls
        .iter()
        .filter(|c| &c.address == address)
        .filter_map(|c| c.end)
        .max()
}

/// The calls of one address, as kinds.
pub fn calls_of(calls: &[CallRecord], address: &Address) -> Vec<Call> {
    calls
        .iter()
        .filter(|c| &c.address == address)
        .map(|c| c.call)
        .collect()
}

/// Options for tests: the defaults with no rate limit (unless a test is about it).
pub fn options() -> ExecOptions {
    ExecOptions {
        rate_limit: None,
        ..ExecOptions::default()
    }
}

/// Asserts that, in the call log, every dependency of every step ended before the step's
/// first call.
pub fn assert_dependencies_first(calls: &[CallRecord], graph: &Graph) {
    for node in graph.nodes() {
        let Some(start) = first_start(calls, &node.address) else {
            continue;
        };
        for dep in &node.depends_on {
            let Some(end) = last_end(calls, dep) else {
                continue;
            };
            assert!(
                end <= start,
                "`{}` started at {start:?}, before its dependency `{dep}` ended at {end:?}",
                node.address
            );
        }
    }
}
