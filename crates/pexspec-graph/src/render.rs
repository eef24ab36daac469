//! DOT and Mermaid renderings of the graph: one cluster per group (global, each region, the
//! Pexip Management Node), readable labels, deterministic output.
//!
//! Arrows go from a dependency to what depends on it ("before"). Edges implied by others
//! are left out (the transitive reduction) for graphs of up to [`REDUCE_UP_TO`] resources,
//! so that the compartment does not point at every resource.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use petgraph::algo::tred::{dag_to_toposorted_adjacency_list, dag_transitive_reduction_closure};
use petgraph::graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoNeighbors};

use crate::{Graph, Group, Node};

/// The largest graph whose edges are reduced before rendering.
pub const REDUCE_UP_TO: usize = 5_000;

impl Graph {
    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let (ids, clusters, edges) = self.layout();
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", dot_quote(self.stack()));
        out.push_str("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
        for (k, (group, nodes)) in clusters.iter().enumerate() {
            let _ = writeln!(out, "  subgraph cluster_{k} {{");
            let _ = writeln!(out, "    label={};", dot_quote(group.label()));
            for node in nodes {
                let _ = writeln!(
                    out,
                    "    n{} [label={}];",
                    ids[&node.address],
                    dot_quote(&label(node, "\n"))
                );
            }
            out.push_str("  }\n");
        }
        for (from, to) in edges {
            let _ = writeln!(out, "  n{from} -> n{to};");
        }
        out.push_str("}\n");
        out
    }

    /// The graph as a Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let (ids, clusters, edges) = self.layout();
        let mut out = String::from("flowchart LR\n");
        for (k, (group, nodes)) in clusters.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph g{k} [\"{}\"]",
                mermaid_escape(group.label())
            );
            for node in nodes {
                let _ = writeln!(
                    out,
                    "    n{}[\"{}\"]",
                    ids[&node.address],
                    mermaid_escape(&label(node, "<br/>"))
                );
            }
            out.push_str("  end\n");
        }
        for (from, to) in edges {
            let _ = writeln!(out, "  n{from} --> n{to}");
        }
        out
    }

    /// Node numbers (topological position), the nodes of each non-empty group, and the
    /// edges to draw as pairs of node numbers, sorted.
    #[allow(clippy::type_complexity)]
    fn layout(
        &self,
    ) -> (
        BTreeMap<&crate::Address, usize>,
        Vec<(Group, Vec<&Node>)>,
        Vec<(usize, usize)>,
    ) {
        let ids: BTreeMap<&crate::Address, usize> = self
            .topological_order()
            .enumerate()
            .map(|(i, a)| (a, i))
            .collect();
        let mut by_group: BTreeMap<Group, Vec<&Node>> = BTreeMap::new();
        for node in self.nodes() {
            by_group.entry(node.group()).or_default().push(node);
        }
        let clusters: Vec<(Group, Vec<&Node>)> = self
            .groups()
            .into_iter()
            .filter_map(|g| by_group.remove(&g).map(|nodes| (g, nodes)))
            .collect();
        let g = self.petgraph();
        let mut edges: Vec<(usize, usize)> = if g.node_count() <= REDUCE_UP_TO {
            let order: &[NodeIndex] = self.order_indices();
            let (list, _) = dag_to_toposorted_adjacency_list::<_, u32>(g, order);
            let (reduction, _) = dag_transitive_reduction_closure::<(), u32>(&list);
            let mut out = Vec::new();
            for from in 0..order.len() {
                for to in reduction.neighbors(from as u32) {
                    out.push((from, to as usize));
                }
            }
            out
        } else {
            g.edge_references()
                .map(|e| (ids[&g[e.source()].address], ids[&g[e.target()].address]))
                .collect()
        };
        edges.sort_unstable();
        edges.dedup();
        (ids, clusters, edges)
    }
}

fn label(node: &Node, newline: &str) -> String {
    match node.address.key() {
        Some(key) => format!("{}{newline}{key}", node.kind()),
        None => node.kind().to_string(),
    }
}

fn dot_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn mermaid_escape(text: &str) -> String {
    text.replace('"', "#quot;")
}
