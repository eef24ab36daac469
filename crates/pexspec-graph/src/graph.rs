//! The resource graph: nodes with their desired state, dependency edges, a deterministic
//! topological order, and cycle errors that say which edge to cut.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use pexspec_diagnostics::{Code, Diagnostic, Span};
use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::hash::{FastMap, fast_map};
use crate::value::{for_each_ref, for_each_ref_text, split_ref};
use crate::{Address, Kind, Ref};

/// One resource: its address, region, desired state and what it depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The stable address, e.g. `subnet[eu-zurich-1]`.
    pub address: Address,
    /// The OCI region it lives in; `None` for global OCI resources (the compartment, the
    /// peering of two regions) and for the Pexip resources.
    pub region: Option<String>,
    pub(crate) desired: Desired,
    /// The resources that must exist (and be up to date) before this one is created or
    /// updated. Every `$ref` target and every `replaced_with` entry is one of them.
    pub depends_on: BTreeSet<Address>,
    /// Dependencies whose replacement replaces this resource too (a Conferencing Node's
    /// registration is replaced with its VM: the new VM needs a new configuration file).
    pub replaced_with: BTreeSet<Address>,
    /// Where in the spec the resource comes from, for diagnostics.
    pub span: Option<Span>,
}

/// A desired state: JSON, or a compact form for the kinds a large platform has thousands
/// of (meeting rooms and their aliases), turned into the same JSON on demand.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Desired {
    /// Any desired state.
    Json(Value),
    /// A `conference`.
    Conference {
        name: String,
        description: Option<String>,
        /// Secret references (`env:NAME`), never values.
        pin: Option<String>,
        guest_pin: Option<String>,
    },
    /// A `conference_alias`.
    Alias { alias: String, conference: Address },
}

impl Desired {
    fn to_json(&self) -> Value {
        match self {
            Desired::Json(v) => v.clone(),
            Desired::Conference {
                name,
                description,
                pin,
                guest_pin,
            } => {
                let secret = |s: &Option<String>| {
                    s.as_ref()
                        .map_or(Value::Null, |r| crate::value::secret_reference_value(r))
                };
                let mut map = Map::with_capacity(5);
                map.insert("name".into(), Value::String(name.clone()));
                map.insert(
                    "description".into(),
                    description.clone().map_or(Value::Null, Value::String),
                );
                map.insert("pin".into(), secret(pin));
                map.insert("guest_pin".into(), secret(guest_pin));
                map.insert("allow_guests".into(), Value::Bool(guest_pin.is_some()));
                Value::Object(map)
            }
            Desired::Alias { alias, conference } => {
                let mut map = Map::with_capacity(2);
                map.insert("alias".into(), Value::String(alias.clone()));
                map.insert("conference".into(), Ref::id(conference.clone()).to_value());
                Value::Object(map)
            }
        }
    }
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Node", 5)?;
        st.serialize_field("address", &self.address)?;
        st.serialize_field("region", &self.region)?;
        st.serialize_field("desired", &*self.desired())?;
        st.serialize_field("depends_on", &self.depends_on)?;
        if !self.replaced_with.is_empty() {
            st.serialize_field("replaced_with", &self.replaced_with)?;
        }
        st.end()
    }
}

impl Node {
    /// A node with no dependencies.
    pub fn new(address: Address, region: Option<String>, desired: Value) -> Self {
        Self::with_desired(address, region, Desired::Json(desired))
    }

    pub(crate) fn with_desired(address: Address, region: Option<String>, desired: Desired) -> Self {
        Self {
            address,
            region,
            desired,
            depends_on: BTreeSet::new(),
            replaced_with: BTreeSet::new(),
            span: None,
        }
    }

    /// The desired state: every field the provider sends, as JSON with snake_case API
    /// field names. References to other resources, secrets and files are markers (see
    /// [`crate::value`]).
    pub fn desired(&self) -> Cow<'_, Value> {
        match &self.desired {
            Desired::Json(v) => Cow::Borrowed(v),
            compact => Cow::Owned(compact.to_json()),
        }
    }

    /// The JSON desired state, or the one reference of a compact one.
    pub(crate) fn json_or_ref(&self) -> Result<&Value, Option<&Address>> {
        match &self.desired {
            Desired::Json(v) => Ok(v),
            Desired::Conference { .. } => Err(None),
            Desired::Alias { conference, .. } => Err(Some(conference)),
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
        match &self.desired {
            Desired::Json(v) => for_each_ref(v, &mut |r| out.push(r)),
            Desired::Conference { .. } => {}
            Desired::Alias { conference, .. } => out.push(Ref::id(conference.clone())),
        }
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
    index: FastMap<Address, NodeIndex>,
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
        let mut nodes = nodes;
        // Phase 1, borrowing the nodes: a lookup by (kind, key) that needs no allocation,
        // duplicates, the targets of references, and the edges.
        let mut keep = vec![true; nodes.len()];
        let mut edges: Vec<(usize, usize)> = Vec::with_capacity(nodes.len() * 3);
        let mut ref_targets: Vec<(usize, usize)> = Vec::new();
        {
            let mut lookup: FastMap<(Kind, Option<&str>), usize> = fast_map(nodes.len());
            for (i, node) in nodes.iter().enumerate() {
                let key = (node.address.kind(), node.address.key());
                if let Some(&first) = lookup.get(&key) {
                    diagnostics.push(duplicate(&nodes[first], node));
                    keep[i] = false;
                } else {
                    lookup.insert(key, i);
                }
            }
            let mut deps: Vec<usize> = Vec::new();
            for (i, node) in nodes.iter().enumerate() {
                if !keep[i] {
                    continue;
                }
                deps.clear();
                let mut bad_ref = None;
                match node.json_or_ref() {
                    Ok(json) => for_each_ref_text(json, &mut |text| match split_ref(text)
                        .and_then(|(a, _)| parse_borrowed(a))
                    {
                        Some(key) => match lookup.get(&key) {
                            Some(&d) => deps.push(d),
                            None => bad_ref = bad_ref.take().or(Some(text.to_owned())),
                        },
                        None => bad_ref = bad_ref.take().or(Some(text.to_owned())),
                    }),
                    Err(Some(target)) => match lookup.get(&(target.kind(), target.key())) {
                        Some(&d) => deps.push(d),
                        None => bad_ref = Some(format!("{target}.id")),
                    },
                    Err(None) => {}
                }
                if let Some(text) = bad_ref {
                    diagnostics.push(dangling(node, &text));
                }
                for &d in &deps {
                    if !node.depends_on.contains(&nodes[d].address) {
                        ref_targets.push((i, d));
                    }
                }
                for dep in node.depends_on.iter().chain(&node.replaced_with) {
                    match lookup.get(&(dep.kind(), dep.key())) {
                        Some(&d) => deps.push(d),
                        None => diagnostics.push(dangling(node, &dep.to_string())),
                    }
                }
                deps.sort_unstable();
                deps.dedup();
                for &d in &deps {
                    if d == i {
                        let own = node.address.clone();
                        diagnostics.push(cycle_diagnostic(
                            std::slice::from_ref(&own),
                            &own,
                            &[node],
                        ));
                    } else {
                        edges.push((d, i));
                    }
                }
            }
        }
        // Phase 2: complete `depends_on` with reference targets and `replaced_with`.
        for (i, d) in ref_targets {
            let target = nodes[d].address.clone();
            nodes[i].depends_on.insert(target);
        }
        for node in &mut nodes {
            if !node.replaced_with.is_empty() {
                let extra: Vec<Address> = node.replaced_with.iter().cloned().collect();
                node.depends_on.extend(extra);
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        // Phase 3: the petgraph graph and the index.
        let mut inner = DiGraph::<Node, ()>::with_capacity(nodes.len(), edges.len());
        let mut index = fast_map(nodes.len());
        for node in nodes {
            let address = node.address.clone();
            let i = inner.add_node(node);
            index.insert(address, i);
        }
        for (a, b) in edges {
            inner.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
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

fn duplicate(first: &Node, node: &Node) -> Diagnostic {
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
    d
}

fn dangling(node: &Node, dep: &str) -> Diagnostic {
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
    d
}

/// `kind` or `kind[key]` as a borrowed lookup key.
fn parse_borrowed(text: &str) -> Option<(Kind, Option<&str>)> {
    match text.find('[') {
        None => Some((Kind::from_name(text)?, None)),
        Some(open) => Some((
            Kind::from_name(&text[..open])?,
            Some(text[open + 1..].strip_suffix(']')?),
        )),
    }
}

/// Kahn's algorithm with the ready set ordered by address: deterministic, whatever the
/// order the nodes were given in. Addresses are ranked once, so the ready set compares
/// numbers.
fn topological_order(g: &DiGraph<Node, ()>) -> Result<Vec<NodeIndex>, ()> {
    let mut by_address: Vec<NodeIndex> = g.node_indices().collect();
    by_address.sort_unstable_by(|a, b| g[*a].address.cmp(&g[*b].address));
    let mut rank = vec![0u32; g.node_count()];
    for (r, i) in by_address.iter().enumerate() {
        rank[i.index()] = u32::try_from(r).unwrap_or(u32::MAX);
    }
    let mut indegree: Vec<usize> = vec![0; g.node_count()];
    for e in g.edge_references() {
        indegree[e.target().index()] += 1;
    }
    let mut ready: BinaryHeap<Reverse<(u32, u32)>> = g
        .node_indices()
        .filter(|i| indegree[i.index()] == 0)
        .map(|i| Reverse((rank[i.index()], i.index() as u32)))
        .collect();
    let mut order = Vec::with_capacity(g.node_count());
    while let Some(Reverse((_, i))) = ready.pop() {
        let i = NodeIndex::new(i as usize);
        order.push(i);
        for e in g.edges(i) {
            let t = e.target();
            indegree[t.index()] -= 1;
            if indegree[t.index()] == 0 {
                ready.push(Reverse((rank[t.index()], t.index() as u32)));
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
