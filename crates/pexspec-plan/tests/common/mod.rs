//! Helpers shared by the plan tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pexspec_graph::{Address, Graph, Kind, Lookup, compile};
use pexspec_plan::{InMemoryProvider, ObservedState, Plan, Scope, apply_plan, plan};
use pexspec_spec::{Spec, load, load_file};

pub fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn spec_file(path: &Path) -> Spec {
    let loaded = load_file(path).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.spec.unwrap()
}

pub fn spec_text(text: &str) -> Spec {
    let loaded = load("test.yaml", text, PathBuf::from("."));
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.spec.unwrap()
}

pub fn graph(spec: &Spec) -> Graph {
    compile(spec).unwrap_or_else(|d| panic!("{d:?}"))
}

pub fn a(text: &str) -> Address {
    Address::parse(text).unwrap()
}

/// Registers the Conferencing Node image in every region, as a replication would.
pub fn replicate_images(graph: &Graph, cloud: &InMemoryProvider) {
    for node in graph.nodes() {
        if let Some(lookup) = node
            .desired()
            .get("source_details")
            .and_then(|s| s.get("image_id"))
            .and_then(Lookup::from_value)
        {
            cloud.add_lookup(&lookup, format!("ocid1.image.replica.{}", lookup.region));
        }
    }
}

/// Applies the plan of `graph` against the cloud and returns the plan applied.
pub fn converge(graph: &Graph, cloud: &InMemoryProvider) -> Plan {
    replicate_images(graph, cloud);
    let observed = cloud.observe_now(&Scope::of(graph));
    let p = plan(graph, &observed);
    apply_plan(graph, &p, cloud).unwrap_or_else(|e| panic!("{e}"));
    p
}

pub fn observe(graph: &Graph, cloud: &InMemoryProvider) -> ObservedState {
    cloud.observe_now(&Scope::of(graph))
}

pub fn count(plan: &Plan, kind: Kind) -> usize {
    plan.changes.iter().filter(|c| c.kind == kind).count()
}
