//! The resource graph: nodes with their desired state, dependency edges, a deterministic
//! topological order, and cycle errors that say which edge to cut.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use pexspec_diagnostics::{Code, Diagnostic, Span};
use serde::Serialize;
use serde_json::Value;

use crate::value::for_each_ref;
use crate::{Address, Kind, Ref};

/// One resource: its address, region, desired state and what it depends on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    /// The stable address, e.g. `subnet[eu-zurich-1]`.
    pub address: Address,
    /// The OCI region it lives in; `None` for global OCI resources (the compartment, the
    /// peering of two regions) and for the Pexip resources.
    pub region: Option<String>,
    /// Every field the provider sends, as JSON with snake_case API field names. References
    /// to other resources, secrets and files are markers (see [`crate::value`]).
    pub desired: Value,
    /// The resources that must exist (and be up to date) before this one is created or
    /// updated. Every `$ref` target and every `replaced_with` entry is one of them.
    pub depends_on: BTreeSet<Address>,
    /// Dependencies whose replacement replaces this resource too (a Conferencing Node's
    /// registration is replaced with its VM: the new VM needs a new configuration file).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub replaced_with: BTreeSet<Address>,
    /// Where in the spec the resource comes from, for diagnostics.
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Node {
    /// A node with no dependencies.
    pub fn new(address: Address, region: Option<String>, desired: Value) -> Self {
        Self {
            address,
            region,
            desired,
            depends_on: BTreeSet::new(),
            replaced_with: BTreeSet::new(),
            span: None,
        }
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.address.kind()
    }

    /// Adds a dependency.
    #[must_use]
    pub fn after(mut self, address: Address) -> Self {
        self.depends_on.insert(address);
        self
    }

    /// Every reference in the desired state.
    pub fn refs(&self) -> Vec<Ref> {
        let mut out = Vec::new();
        for_each_ref(&self.desired, &mut |r| out.push(r));
        out
    }

    /// The group the node is shown in.
    pub fn group(&self) -> Group {
        if !self.kind().is_oci() {
            Group::Pexip
        } else {
            match &self.region {
                Some(region) => Group::Region(region.clone()),
                None => Group::Global,
            }
        }
    }
}

/// Where a resource is shown in graphs and plans: global OCI resources, one region, or the
/// Pexip Management Node's configuration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// OCI resources of no region (the compartment, the peering of two regions).
    Global,
    /// The resources of one OCI region.
    Region(String),
    /// The resources that live on the Pexip Management Node.
    Pexip,
}

impl Group {
    /// The heading shown for the group.
    pub fn label(&self) -> &str {
        match self {
            Group::Global => "global",
            Group::Region(region) => region,
            Group::Pexip => "Pexip Infinity",
        }
    }
}

/// The compiled resource graph of one stack: an acyclic graph whose edges go from a
/// dependency to its dependents, with a deterministic topological order.
#[derive(Clone, Debug)]
pub struct Graph {
    stack: String,
    regions: Vec<String>,
    inner: DiGraph<Node, ()>,
    index: BTreeMap<Address, NodeIndex>,
    order: Vec<NodeIndex>,
}

impl Graph {
    /// Builds a graph from nodes. The targets of `$ref`s and `replaced_with` are added to
    /// `depends_on`. Fails with diagnostics on a duplicate address, a dependency on an
    /// address no node has, or a cycle (`dependency-cycle`, naming the edge to cut).
    ///
    /// `regions` is the display order of the regions (the spec's order).
    pub fn new(
        stack: impl Into<String>,
        regions: Vec<String>,
        nodes: Vec<Node>,
    ) -> Result<Graph, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        let mut inner = DiGraph::<Node, ()>::with_capacity(nodes.len(), nodes.len() * 3);
        let mut index = BTreeMap::new();
        for mut node in nodes {
            for r in node.refs() {
                node.depends_on.insert(r.address);
            }
            let extra: Vec<Address> = node.replaced_with.iter().cloned().collect();
            node.depends_on.extend(extra);
            let own = node.address.clone();
            if node.depends_on.remove(&own) {
                // A node that depends on itself is a cycle of one edge.
                diagnostics.push(cycle_diagnostic(std::slice::from_ref(&own), &own, &[&node]));
            }
            if let Some(&existing) = index.get(&node.address) {
                let first: &Node = &inner[existing];
                let mut d = Diagnostic::new(
                    Code::DuplicateName,
                    format!("the spec defines `{}` twice", node.address),
                )
                .with_help("give each of them its own name");
                if let Some(span) = node.span {
                    d = d.with_primary(span, "second definition");
                }
                if let Some(span) = first.span {
                    d = d.with_secondary(span, "first definition");
                }
                diagnostics.push(d);
                continue;
            }
            let address = node.address.clone();
            let i = inner.add_node(node);
            index.insert(address, i);
        }
        let mut edges = Vec::new();
        for i in inner.node_indices() {
            let node = &inner[i];
            for dep in &node.depends_on {
                match index.get(dep) {
                    Some(&d) => edges.push((d, i)),
                    None => {
                        let mut d = Diagnostic::new(
                            Code::InvalidValue,
                            format!(
                                "`{}` depends on `{dep}`, which the spec does not define",
                                node.address
                            ),
                        )
                        .with_help(format!("define `{dep}` or remove the reference to it"));
                        if let Some(span) = node.span {
                            d = d.with_primary(span, "defined here");
                        }
                        diagnostics.push(d);
                    }
                }
            }
        }
        for (a, b) in edges {
            inner.add_edge(a, b, ());
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let order = match topological_order(&inner) {
            Ok(order) => order,
            Err(()) => return Err(cycle_diagnostics(&inner)),
        };
        Ok(Graph {
            stack: stack.into(),
            regions,
            inner,
            index,
            order,
        })
    }

    /// The stack name (the `pexspec-stack` tag).
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// The regions of the spec, in the spec's order.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The number of resources.
    pub fn len(&self) -> usize {
        self.inner.node_count()
    }

    /// Whether the graph has no resource.
    pub fn is_empty(&self) -> bool {
        self.inner.node_count() == 0
    }

    /// The resource at `address`.
    pub fn get(&self, address: &Address) -> Option<&Node> {
        self.index.get(address).map(|&i| &self.inner[i])
    }

    /// Whether a resource has this address.
    pub fn contains(&self, address: &Address) -> bool {
        self.index.contains_key(address)
    }

    /// Every resource, dependencies before dependents; ties broken by address, so the order
    /// is the same on every run.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Node> + '_ {
        self.order.iter().map(|&i| &self.inner[i])
    }

    /// Every address in topological order (see [`Graph::nodes`]).
    pub fn topological_order(&self) -> impl ExactSizeIterator<Item = &Address> + '_ {
        self.nodes().map(|n| &n.address)
    }

    /// The resources that depend directly on `address`, sorted.
    pub fn dependents(&self, address: &Address) -> Vec<&Address> {
        let Some(&i) = self.index.get(address) else {
            return Vec::new();
        };
        let mut out: Vec<&Address> = self
            .inner
            .edges(i)
            .map(|e| &self.inner[e.target()].address)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// How many resources of each kind.
    pub fn count_by_kind(&self) -> BTreeMap<Kind, usize> {
        let mut out = BTreeMap::new();
        for node in self.inner.node_weights() {
            *out.entry(node.kind()).or_insert(0) += 1;
        }
        out
    }

    /// The groups in display order: global, each region in the spec's order (then any other
    /// region, sorted), the Pexip Management Node.
    pub fn groups(&self) -> Vec<Group> {
        let mut out = vec![Group::Global];
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for r in &self.regions {
            if seen.insert(r) {
                out.push(Group::Region(r.clone()));
            }
        }
        let extra: BTreeSet<&str> = self
            .inner
            .node_weights()
            .filter_map(|n| n.region.as_deref())
            .filter(|r| !seen.contains(r))
            .collect();
        out.extend(extra.into_iter().map(|r| Group::Region(r.to_owned())));
        out.push(Group::Pexip);
        out
    }

    /// The node indices in topological order.
    pub(crate) fn order_indices(&self) -> &[NodeIndex] {
        &self.order
    }

    /// The underlying petgraph graph (edges go from a dependency to its dependents), for
    /// schedulers that need more than the topological order.
    pub fn petgraph(&self) -> &DiGraph<Node, ()> {
        &self.inner
    }
}

/// Kahn's algorithm with the ready set ordered by address: deterministic.
fn topological_order(g: &DiGraph<Node, ()>) -> Result<Vec<NodeIndex>, ()> {
    let mut indegree: Vec<usize> = vec![0; g.node_count()];
    for e in g.edge_references() {
        indegree[e.target().index()] += 1;
    }
    let mut ready: BTreeSet<(&Address, NodeIndex)> = g
        .node_indices()
        .filter(|i| indegree[i.index()] == 0)
        .map(|i| (&g[i].address, i))
        .collect();
    let mut order = Vec::with_capacity(g.node_count());
    while let Some((_, i)) = ready.pop_first() {
        order.push(i);
        for e in g.edges(i) {
            let t = e.target();
            indegree[t.index()] -= 1;
            if indegree[t.index()] == 0 {
                ready.insert((&g[t].address, t));
            }
        }
    }
    if order.len() == g.node_count() {
        Ok(order)
    } else {
        Err(())
    }
}

/// One diagnostic per strongly connected component with a cycle.
fn cycle_diagnostics(g: &DiGraph<Node, ()>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut components = tarjan_scc(g);
    components.retain(|c| c.len() > 1);
    for c in &mut components {
        c.sort_by(|a, b| g[*a].address.cmp(&g[*b].address));
    }
    components.sort_by(|a, b| g[a[0]].address.cmp(&g[b[0]].address));
    for component in components {
        let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
        let cycle = shortest_cycle(g, component[0], &members);
        let cut = edge_to_cut(g, &cycle, &members);
        let path: Vec<Address> = cycle.iter().map(|&i| g[i].address.clone()).collect();
        let nodes: Vec<&Node> = cycle.iter().map(|&i| &g[i]).collect();
        out.push(
            cycle_diagnostic(&path, &g[cut.0].address, &nodes).with_help(format!(
                "cut the dependency of `{}` on `{}`",
                g[cut.0].address, g[cut.1].address
            )),
        );
    }
    out
}

fn cycle_diagnostic(path: &[Address], first: &Address, nodes: &[&Node]) -> Diagnostic {
    let mut text: Vec<String> = path.iter().map(|a| format!("`{a}`")).collect();
    text.push(format!("`{first}`"));
    let mut d = Diagnostic::new(
        Code::DependencyCycle,
        format!(
            "the resources depend on each other in a cycle: {}",
            text.join(" depends on ")
        ),
    )
    .with_help(format!("cut the dependency of `{first}` on itself"));
    let mut spans = nodes.iter().filter_map(|n| n.span.map(|s| (s, &n.address)));
    if let Some((span, address)) = spans.next() {
        d = d.with_primary(span, format!("`{address}` is defined here"));
    }
    for (span, address) in spans {
        d = d.with_secondary(span, format!("`{address}` is part of the cycle"));
    }
    d
}

/// The shortest cycle through `start` inside the component, as the list of nodes where each
/// depends on the next (the last depends on `start`).
fn shortest_cycle(
    g: &DiGraph<Node, ()>,
    start: NodeIndex,
    members: &BTreeSet<NodeIndex>,
) -> Vec<NodeIndex> {
    // Walk "depends on" edges: incoming edges in petgraph terms.
    let mut previous: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        let mut deps: Vec<NodeIndex> = g
            .neighbors_directed(i, petgraph::Direction::Incoming)
            .filter(|d| members.contains(d))
            .collect();
        deps.sort_by(|a, b| g[*a].address.cmp(&g[*b].address));
        for d in deps {
            if d == start {
                let mut path = vec![i];
                let mut at = i;
                while at != start {
                    at = previous[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(d) {
                e.insert(i);
                queue.push_back(d);
            }
        }
    }
    vec![start]
}

/// The first edge of the cycle whose removal leaves the component acyclic, or the edge that
/// closes the cycle. Returned as (dependent, dependency).
fn edge_to_cut(
    g: &DiGraph<Node, ()>,
    cycle: &[NodeIndex],
    members: &BTreeSet<NodeIndex>,
) -> (NodeIndex, NodeIndex) {
    let pairs: Vec<(NodeIndex, NodeIndex)> = (0..cycle.len())
        .map(|k| (cycle[k], cycle[(k + 1) % cycle.len()]))
        .collect();
    for &(dependent, dependency) in &pairs {
        if !cyclic_without(g, members, (dependency, dependent)) {
            return (dependent, dependency);
        }
    }
    pairs[pairs.len() - 1]
}

/// Whether the component stays cyclic once the edge `from → to` is removed.
fn cyclic_without(
    g: &DiGraph<Node, ()>,
    members: &BTreeSet<NodeIndex>,
    removed: (NodeIndex, NodeIndex),
) -> bool {
    let mut indegree: BTreeMap<NodeIndex, usize> = members.iter().map(|&m| (m, 0)).collect();
    for &m in members {
        for t in g.neighbors(m) {
            if members.contains(&t) && (m, t) != removed {
                *indegree.entry(t).or_insert(0) += 1;
            }
        }
    }
    let mut ready: Vec<NodeIndex> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| *i)
        .collect();
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for t in g.neighbors(i) {
            if members.contains(&t) && (i, t) != removed {
                let d = indegree.entry(t).or_insert(0);
                *d -= 1;
                if *d == 0 {
                    ready.push(t);
                }
            }
        }
    }
    seen < members.len()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(kind: Kind, key: &str, deps: &[(Kind, &str)]) -> Node {
        let mut n = Node::new(Address::new(kind, key), None, json!({}));
        for (k, d) in deps {
            n = n.after(Address::new(*k, *d));
        }
        n
    }

    #[test]
    fn topological_order_is_deterministic_and_puts_dependencies_first() {
        let nodes = vec![
            node(Kind::Subnet, "a", &[(Kind::Vcn, "a")]),
            node(Kind::Vcn, "b", &[]),
            node(Kind::Vcn, "a", &[]),
            node(Kind::Instance, "x", &[(Kind::Subnet, "a")]),
        ];
        let g = Graph::new("t", vec![], nodes.clone()).unwrap();
        let order: Vec<String> = g.topological_order().map(|a| a.to_string()).collect();
        assert_eq!(order, ["vcn[a]", "vcn[b]", "subnet[a]", "instance[x]"]);
        let mut reversed = nodes;
        reversed.reverse();
        let g2 = Graph::new("t", vec![], reversed).unwrap();
        assert!(g2.topological_order().eq(g.topological_order()));
        assert_eq!(g.dependents(&Address::new(Kind::Vcn, "a")).len(), 1);
    }

    #[test]
    fn a_cycle_is_a_diagnostic_that_names_the_edge_to_cut() {
        let nodes = vec![
            node(Kind::Vcn, "a", &[(Kind::Instance, "x")]),
            node(Kind::Subnet, "a", &[(Kind::Vcn, "a")]),
            node(Kind::Instance, "x", &[(Kind::Subnet, "a")]),
            node(Kind::Instance, "y", &[(Kind::Instance, "x")]),
        ];
        let errors = Graph::new("t", vec![], nodes).unwrap_err();
        assert_eq!(errors.len(), 1);
        let d = &errors[0];
        assert_eq!(d.code(), Code::DependencyCycle);
        assert_eq!(
            d.message(),
            "the resources depend on each other in a cycle: `vcn[a]` depends on `instance[x]` depends on `subnet[a]` depends on `vcn[a]`"
        );
        assert_eq!(
            d.help(),
            Some("cut the dependency of `vcn[a]` on `instance[x]`")
        );
    }

    #[test]
    fn the_edge_to_cut_breaks_every_cycle_of_the_component() {
        // a ⇄ b and b ⇄ c: cutting b's dependency on a alone leaves b ⇄ c, so the edge named
        // must be one that breaks the component when it is the only cycle left.
        let nodes = vec![
            node(Kind::Vcn, "a", &[(Kind::Vcn, "b")]),
            node(Kind::Vcn, "b", &[(Kind::Vcn, "a")]),
        ];
        let errors = Graph::new("t", vec![], nodes).unwrap_err();
        assert_eq!(
            errors[0].help(),
            Some("cut the dependency of `vcn[a]` on `vcn[b]`")
        );
    }

    #[test]
    fn self_dependency_duplicates_and_dangling_edges_are_diagnostics() {
        let errors =
            Graph::new("t", vec![], vec![node(Kind::Vcn, "a", &[(Kind::Vcn, "a")])]).unwrap_err();
        assert_eq!(errors[0].code(), Code::DependencyCycle);
        let errors = Graph::new(
            "t",
            vec![],
            vec![node(Kind::Vcn, "a", &[]), node(Kind::Vcn, "a", &[])],
        )
        .unwrap_err();
        assert_eq!(errors[0].code(), Code::DuplicateName);
        let errors =
            Graph::new("t", vec![], vec![node(Kind::Vcn, "a", &[(Kind::Drg, "a")])]).unwrap_err();
        assert_eq!(
            errors[0].message(),
            "`vcn[a]` depends on `drg[a]`, which the spec does not define"
        );
    }

    #[test]
    fn refs_become_dependencies() {
        let vcn = Address::new(Kind::Vcn, "a");
        let subnet = Node::new(
            Address::new(Kind::Subnet, "a"),
            Some("a".into()),
            json!({"vcn_id": Ref::id(vcn.clone()).to_value()}),
        );
        let g = Graph::new(
            "t",
            vec![],
            vec![subnet, Node::new(vcn.clone(), None, json!({}))],
        )
        .unwrap();
        assert!(
            g.get(&Address::new(Kind::Subnet, "a"))
                .unwrap()
                .depends_on
                .contains(&vcn)
        );
    }
}
