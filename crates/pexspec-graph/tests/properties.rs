//! Properties of the compiled graph over generated specs: acyclic, dependencies first in
//! the topological order, every reference a dependency, deterministic; and `compile` never
//! panics on anything the loader accepts, however mangled.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pexspec_graph::testing::{ExtraRule, SpecParams, spec_yaml};
use pexspec_graph::{Address, compile};
use proptest::prelude::*;

fn rule() -> impl Strategy<Value = ExtraRule> {
    (
        prop::sample::select(vec![
            "198.51.100.0/24",
            "203.0.113.0/24",
            "2001:DB8::/32",
            "0.0.0.0/0",
        ]),
        prop::sample::select(vec!["tcp", "udp", "icmp", "esp", "all"]),
        prop::option::of(prop::sample::select(vec![
            "443",
            "5060-5061",
            "40000-49999",
        ])),
        prop::option::of(prop::sample::select(vec!["a", "b"])),
    )
        .prop_map(|(source, protocol, ports, description)| ExtraRule {
            source: source.into(),
            protocol: protocol.into(),
            ports: ports.map(Into::into),
            description: description.map(Into::into),
        })
}

fn params() -> impl Strategy<Value = SpecParams> {
    (
        1usize..=4,
        0usize..=8,
        0usize..=4,
        prop::sample::select(vec!["public", "private", "hybrid"]),
        any::<bool>(),
        prop::collection::vec(rule(), 0..4),
        prop::option::of(prop::collection::vec(
            prop::sample::select(vec!["10.0.0.0/8", "172.16.0.0/12"]),
            1..3,
        )),
    )
        .prop_map(
            |(regions, nodes, rooms, deployment, replicate, extra_ingress, internal)| SpecParams {
                name: "prop".into(),
                deployment: deployment.into(),
                regions,
                nodes,
                rooms,
                replicate,
                internal_cidrs: internal.map(|v| v.into_iter().map(Into::into).collect()),
                on_premises: vec!["172.16.0.0/16".into()],
                extra_ingress,
                ..SpecParams::default()
            },
        )
}

fn load(text: &str) -> Option<pexspec_spec::Spec> {
    pexspec_spec::load("prop.yaml", text, PathBuf::from(".")).spec
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn graphs_are_acyclic_ordered_and_deterministic(p in params()) {
        let spec = load(&spec_yaml(&p)).expect("generated specs load");
        let graph = compile(&spec).expect("generated specs compile");
        let position: BTreeMap<&Address, usize> =
            graph.topological_order().enumerate().map(|(i, a)| (a, i)).collect();
        prop_assert_eq!(position.len(), graph.len());
        for node in graph.nodes() {
            for dep in &node.depends_on {
                prop_assert!(position[dep] < position[&node.address], "{} before {}", dep, node.address);
            }
            for r in node.refs() {
                prop_assert!(node.depends_on.contains(&r.address), "{} refers to {}", node.address, r);
            }
            for w in &node.replaced_with {
                prop_assert!(node.depends_on.contains(w));
            }
        }
        let again = compile(&spec).expect("compiles twice");
        prop_assert!(graph.topological_order().eq(again.topological_order()));
        prop_assert_eq!(graph.to_dot(), again.to_dot());
        prop_assert_eq!(graph.to_mermaid(), again.to_mermaid());
    }
}

const EXAMPLES: &[&str] = &[
    include_str!("../../../specs/quickstart.yaml"),
    include_str!("../../../specs/zurich-frankfurt.yaml"),
    include_str!("../../../specs/hybrid.yaml"),
    include_str!("../../../specs/private.yaml"),
];

const TOKENS: &[&str] = &[
    "",
    "0",
    "-1",
    "x",
    "10.0.0.0/8",
    "10.0.0.1/33",
    "[]",
    "{}",
    "eu-zurich-1",
    "mars-1",
    "true",
    "\"\"",
    "999999",
    "1.5",
    "pexconf01",
    "Frankfurt",
    "proxying",
    "\"40000-1\"",
];

/// Replaces the value after the `n`th colon-space on `line` with `token`.
fn set_value(line: &str, token: &str) -> String {
    match line.find(": ") {
        Some(at) => format!("{}: {token}", &line[..at]),
        None => line.to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compile_never_panics_on_a_loaded_spec(
        example in 0..EXAMPLES.len(),
        edits in prop::collection::vec((0usize..200, 0usize..4, 0..TOKENS.len(), 0usize..200), 1..6),
    ) {
        let mut lines: Vec<String> = EXAMPLES[example].lines().map(str::to_owned).collect();
        for (at, op, token, other) in edits {
            if lines.is_empty() {
                break;
            }
            let at = at % lines.len();
            let other = other % lines.len();
            match op {
                0 => { lines.remove(at); }
                1 => { let copy = lines[at].clone(); lines.insert(other, copy); }
                2 => lines.swap(at, other),
                _ => lines[at] = set_value(&lines[at], TOKENS[token]),
            }
        }
        if let Some(spec) = load(&lines.join("\n")) {
            // Either a graph or diagnostics; never a panic.
            let _ = compile(&spec).map(|g| (g.to_dot(), g.len()));
        }
    }
}
