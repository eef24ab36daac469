//! The plan: the graph's desired state against the observed state, as create / update /
//! replace / delete / noop per resource. Pure and deterministic.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use pexspec_graph::hash::{FastMap, fast_map};
use pexspec_graph::value::{Resolution, is_secret, resolve, split_ref};
use pexspec_graph::{Address, Graph, Group, Kind, Lookup, Node, Ref};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::compare::{Resolved, Resolver, covers_with};
use crate::{Observed, ObservedState};

/// What the plan does to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It does not exist: create it.
    Create,
    /// It exists and differs in fields that can change in place.
    Update,
    /// It exists and differs in a field that cannot change in place, or something it is
    /// replaced with is replaced: delete it, then create it.
    Replace,
    /// It exists but the spec no longer has it.
    Delete,
    /// It is up to date (or created and not yet visible).
    Noop,
}

impl Action {
    /// `create`, `update`, `replace`, `delete` or `noop`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Noop => "noop",
        }
    }

    /// The symbol shown before the address: `+`, `~`, `-/+`, `-`, or a space for noop.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Noop => " ",
        }
    }
}

/// One field that differs: its observed and its desired value. A reference not yet known
/// stays a `{"$ref": ...}` marker; a secret's observed value is never shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// The top-level field of the desired state.
    pub field: String,
    /// The observed value (`null` if absent; `"(sensitive)"` for a secret).
    pub old: Value,
    /// The desired value, references resolved where known.
    pub new: Value,
    /// Whether this field forces the replacement.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forces_replacement: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What the plan does to one resource, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The address.
    pub address: Address,
    /// The kind.
    pub kind: Kind,
    /// The action.
    pub action: Action,
    /// Why, in a few words (`` `cidr_block` cannot change in place ``).
    pub reason: Cow<'static, str>,
    /// The resources this change waits for: for a create, update or replace its
    /// dependencies; for a delete, the changes that stop referring to it (dependents are
    /// deleted first).
    pub depends_on: Vec<Address>,
    /// The region, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The observed id (update, replace, delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The fields that differ (update, replace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<FieldDiff>,
    /// Created a moment ago and not yet listed by the cloud: wait, do not create again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pending: bool,
    /// A noop whose resource exists but is not ready yet: the transitional lifecycle state
    /// it was observed in (`IMPORTING`, `PROVISIONING`, `STARTING`...). Apply waits until it
    /// is ready (polls, sends nothing) before the changes that depend on it start, as a
    /// resumed apply must after a crash during an image import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<String>,
    /// For a replace: the replaces and deletes whose old resources depend on this one's (its
    /// dependents in the spec, or resources whose observed fields refer to it). The old
    /// resource is deleted only once theirs are gone (a VCN after its subnets, a subnet after
    /// its instances); the new one is created after what it depends on, as any create.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_after: Vec<Address>,
}

/// Lifecycle states of a resource on its way to ready (created, imported, started or
/// changed a moment ago): an observed resource in one of them is waited for, never taken for
/// done. The executor's list of states to poll on includes these.
pub const TRANSITIONAL_STATES: &[&str] = &[
    "CREATING",
    "PROVISIONING",
    "IMPORTING",
    "STARTING",
    "ATTACHING",
    "ASSIGNING",
    "UPDATING",
    "MOVING",
    "PENDING",
    "PEERING",
    "SYNCING",
    "UPLOADED",
    "BOOTING",
];

/// Whether `state` is a transitional state on the way to ready ([`TRANSITIONAL_STATES`]);
/// case does not matter.
pub fn is_transitional(state: Option<&str>) -> bool {
    state.is_some_and(|s| {
        let upper = s.trim().to_ascii_uppercase();
        TRANSITIONAL_STATES.contains(&upper.as_str())
    })
}

impl Change {
    /// The group the change is shown in.
    pub fn group(&self) -> Group {
        if !self.kind.is_oci() {
            Group::Pexip
        } else {
            match &self.region {
                Some(r) => Group::Region(r.clone()),
                None => Group::Global,
            }
        }
    }
}

/// How many changes of each action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Resources to create.
    pub create: usize,
    /// Resources to update in place.
    pub update: usize,
    /// Resources to replace.
    pub replace: usize,
    /// Resources to delete.
    pub delete: usize,
    /// Resources up to date.
    pub noop: usize,
}

/// The plan (DESIGN.md §6): `{"version":1,"changes":[...],"summary":{...}}`, plus the stack,
/// the regions in display order and the fingerprint of the observed state it was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The plan format version: 1.
    pub version: u32,
    /// The stack.
    pub stack: String,
    /// The fingerprint of the observed state ([`ObservedState::fingerprint`]).
    pub observed: String,
    /// The regions in display order.
    pub regions: Vec<String>,
    /// One change per resource of the graph in topological order, then the deletes,
    /// dependents first.
    pub changes: Vec<Change>,
    /// The counts.
    pub summary: Summary,
    /// What the plan was made from, recorded by `pexspec plan --out` so that
    /// `pexspec apply plan.json` can refuse a spec that changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PlanSource>,
}

/// What a saved plan was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSource {
    /// The spec file, absolute.
    pub spec: String,
    /// The SHA-256 of the spec's bytes, hex.
    pub spec_sha256: String,
    /// Whether it was planned against the built-in simulators.
    pub sim: bool,
}

impl Plan {
    /// Whether the plan changes nothing (every change is a noop).
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::Noop)
    }

    /// The change of `address`.
    pub fn change(&self, address: &Address) -> Option<&Change> {
        self.changes.iter().find(|c| &c.address == address)
    }

    /// The plan as pretty JSON with a final newline; the same plan always gives the same
    /// bytes.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The groups in display order: global, the regions, the Pexip Management Node.
    pub fn groups(&self) -> Vec<Group> {
        let mut out = vec![Group::Global];
        let mut seen = BTreeSet::new();
        for r in &self.regions {
            if seen.insert(r.as_str()) {
                out.push(Group::Region(r.clone()));
            }
        }
        let extra: BTreeSet<&str> = self
            .changes
            .iter()
            .filter_map(|c| c.region.as_deref())
            .filter(|r| !seen.contains(r))
            .collect();
        out.extend(extra.into_iter().map(|r| Group::Region(r.to_owned())));
        out.push(Group::Pexip);
        out
    }
}

/// What the plan decided for a node, for the nodes after it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decided {
    /// Its observed values stay valid.
    Kept,
    /// Created or replaced (or pending): its values are known only after apply.
    New,
}

/// A borrowed key for an address: `(kind, key)`.
type Key<'a> = (Kind, Option<&'a str>);

fn key_of(address: &Address) -> Key<'_> {
    (address.kind(), address.key())
}

fn parse_key(text: &str) -> Option<Key<'_>> {
    match text.find('[') {
        None => Some((Kind::from_name(text)?, None)),
        Some(open) => Some((
            Kind::from_name(&text[..open])?,
            Some(text[open + 1..].strip_suffix(']')?),
        )),
    }
}

/// One address's observed resource and what the plan decided for it so far.
#[derive(Clone, Copy, Default)]
struct Slot<'a> {
    observed: Option<&'a Observed>,
    decided: Option<Decided>,
}

/// The observed state and the decisions so far, indexed by borrowed address keys.
struct Index<'a> {
    slots: FastMap<Key<'a>, Slot<'a>>,
    observed: &'a ObservedState,
}

impl<'a> Index<'a> {
    fn new(graph: &'a Graph, observed: &'a ObservedState) -> Self {
        let mut slots: FastMap<Key<'a>, Slot<'a>> = fast_map(graph.len().max(observed.len()));
        for (address, o) in &observed.resources {
            slots.insert(
                key_of(address),
                Slot {
                    observed: Some(o),
                    decided: None,
                },
            );
        }
        Self { slots, observed }
    }

    fn decided(&self, address: &Address) -> Option<Decided> {
        self.slots.get(&key_of(address)).and_then(|s| s.decided)
    }

    /// What the reference `ADDRESS.FIELD` stands for.
    fn resolve(&self, text: &str) -> Resolved<'a> {
        let Some((address, field)) = split_ref(text) else {
            return Resolved::Unknown;
        };
        let Some(slot) = parse_key(address).and_then(|k| self.slots.get(&k)) else {
            return Resolved::Unknown;
        };
        match (slot.decided, slot.observed) {
            (Some(Decided::Kept), Some(o)) if field == "id" => Resolved::Id(&o.id),
            (Some(Decided::Kept), Some(o)) => match o.fields.get(field) {
                Some(v) if !v.is_null() => Resolved::Value(v),
                _ => Resolved::Unknown,
            },
            _ => Resolved::Unknown,
        }
    }

    fn lookup(&self, l: &Lookup) -> Option<&'a str> {
        self.observed.lookups.get(&l.key()).map(String::as_str)
    }

    /// A desired value with the references resolved where known (for showing a diff).
    fn materialize(&self, value: &Value) -> Value {
        let (value, _) = resolve(
            value,
            &mut |r: &Ref| match self.resolve(&r.to_string()) {
                Resolved::Id(id) => Resolution::Known(Value::String(id.to_owned())),
                Resolved::Value(v) => Resolution::Known(v.clone()),
                Resolved::Unknown => Resolution::Unknown,
            },
            &mut |l| match self.lookup(l) {
                Some(id) => Resolution::Known(Value::String(id.to_owned())),
                None => Resolution::Unknown,
            },
        );
        value
    }
}

fn contains_secret(value: &Value) -> bool {
    match value {
        Value::Object(map) => is_secret(value) || map.values().any(contains_secret),
        Value::Array(items) => items.iter().any(contains_secret),
        _ => false,
    }
}

/// The addresses of the references left in a value.
fn refs_in(value: &Value, out: &mut BTreeSet<Address>) {
    if let Some(r) = Ref::from_value(value) {
        out.insert(r.address);
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

fn backticked(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    quoted.join(", ")
}

/// Compares one existing resource with its desired state.
fn diff_existing(
    node: &Node,
    obs: &Observed,
    index: &Index<'_>,
) -> (Action, Reason, Vec<FieldDiff>) {
    let immutable = node.kind().immutable_fields();
    let mut diff = Vec::new();
    let desired = node.desired();
    if let Value::Object(fields) = &*desired {
        let reference = |text: &str| index.resolve(text);
        let lookup = |l: &Lookup| index.lookup(l);
        let resolver = Resolver {
            reference: &reference,
            lookup: &lookup,
        };
        for (field, new) in fields {
            let old = obs.fields.get(field);
            if covers_with(old, new, &resolver) {
                continue;
            }
            let old = if contains_secret(new) {
                Value::String("(sensitive)".into())
            } else {
                old.cloned().unwrap_or(Value::Null)
            };
            diff.push(FieldDiff {
                field: field.clone(),
                old,
                new: index.materialize(new),
                forces_replacement: immutable.contains(&field.as_str()),
            });
        }
    }
    if let Some(with) = node
        .replaced_with
        .iter()
        .find(|a| index.decided(a) == Some(Decided::New))
    {
        let reason = if index.observed.get(with).is_some() {
            format!("`{with}` is replaced")
        } else {
            format!("`{with}` is created anew")
        };
        return (Action::Replace, Reason::Owned(reason), diff);
    }
    let forcing: Vec<&str> = diff
        .iter()
        .filter(|d| d.forces_replacement)
        .map(|d| d.field.as_str())
        .collect();
    if !forcing.is_empty() {
        // Say why, when the new value is another resource's that is itself new.
        let mut causes = BTreeSet::new();
        for d in diff.iter().filter(|d| d.forces_replacement) {
            refs_in(&d.new, &mut causes);
        }
        let causes: Vec<String> = causes
            .into_iter()
            .filter(|a| index.decided(a) == Some(Decided::New))
            .map(|a| {
                if index.observed.get(&a).is_some() {
                    format!("`{a}` is replaced")
                } else {
                    format!("`{a}` is created anew")
                }
            })
            .collect();
        let mut reason = format!("{} cannot change in place", backticked(&forcing));
        if !causes.is_empty() {
            reason.push_str(": ");
            reason.push_str(&causes.join(", "));
        }
        return (Action::Replace, Reason::Owned(reason), diff);
    }
    if diff.is_empty() {
        return (Action::Noop, Reason::Borrowed("up to date"), diff);
    }
    let fields: Vec<&str> = diff.iter().map(|d| d.field.as_str()).collect();
    let verb = if fields.len() == 1 {
        "differs"
    } else {
        "differ"
    };
    (
        Action::Update,
        Reason::Owned(format!("{} {verb}", backticked(&fields))),
        diff,
    )
}

type Reason = Cow<'static, str>;

/// Why a resource whose one-time output is lost ([`ObservedState::lost_outputs`]) is
/// replaced.
fn lost_output_reason(kind: Kind) -> Reason {
    Reason::Borrowed(match kind {
        Kind::WorkerVm => {
            "its configuration file was lost before it was uploaded: the node is registered again and the new file uploaded"
        }
        _ => "the output its create returned once was lost: it is created again",
    })
}

/// Plans `graph` against `observed`: pure and deterministic.
///
/// Every resource of the graph gets a change, in topological order: `create` if it was not
/// observed; `replace` if a field it cannot change in place differs, or something it is
/// replaced with is created or replaced, or its one-time output is lost
/// ([`ObservedState::lost_outputs`]: a `worker_vm` whose configuration file is gone is
/// registered again, and what is replaced with it follows); `update` if other fields differ;
/// `noop` otherwise.
/// Observed resources of the stack whose address the graph does not have are deleted,
/// dependents first.
pub fn plan(graph: &Graph, observed: &ObservedState) -> Plan {
    let mut index = Index::new(graph, observed);
    let mut changes = Vec::with_capacity(graph.len());
    let mut summary = Summary::default();
    for node in graph.nodes() {
        let address = &node.address;
        let depends_on: Vec<Address> = node.depends_on.iter().cloned().collect();
        let slot = index
            .slots
            .get(&key_of(address))
            .copied()
            .unwrap_or_default();
        let (action, reason, diff, id, pending) = match slot.observed {
            None if observed.pending.contains(address) => (
                Action::Noop,
                Reason::Borrowed("created, not yet listed by the cloud: wait for it"),
                Vec::new(),
                None,
                true,
            ),
            None => (
                Action::Create,
                Reason::Borrowed("does not exist"),
                Vec::new(),
                None,
                false,
            ),
            Some(obs) => {
                let (action, reason, diff) = diff_existing(node, obs, &index);
                // Replaced anyway (its instance is), the reason that came first stays.
                let lost = observed.lost_outputs.contains(address) && action != Action::Replace;
                let (action, reason) = if lost {
                    (Action::Replace, lost_output_reason(node.kind()))
                } else {
                    (action, reason)
                };
                (action, reason, diff, Some(obs.id.clone()), false)
            }
        };
        let wait = match slot.observed {
            Some(obs) if action == Action::Noop && is_transitional(obs.state.as_deref()) => {
                obs.state.clone()
            }
            _ => None,
        };
        let reason = match &wait {
            Some(state) => Reason::Owned(format!(
                "exists, `{state}`: wait until it is ready before what depends on it"
            )),
            None => reason,
        };
        let decided = match action {
            Action::Create | Action::Replace => Decided::New,
            _ if pending => Decided::New,
            _ => Decided::Kept,
        };
        index.slots.insert(
            key_of(address),
            Slot {
                observed: slot.observed,
                decided: Some(decided),
            },
        );
        count(&mut summary, action);
        changes.push(Change {
            address: address.clone(),
            kind: node.kind(),
            action,
            reason,
            depends_on,
            region: node.region.clone(),
            id,
            diff,
            pending,
            wait,
            delete_after: Vec::new(),
        });
    }
    let deletes = deletes(graph, observed, &changes);
    for change in &deletes {
        count(&mut summary, change.action);
    }
    changes.extend(deletes);
    order_replaces(graph, observed, &mut changes);
    Plan {
        version: 1,
        stack: graph.stack().to_owned(),
        observed: observed.fingerprint(),
        regions: graph.regions().to_vec(),
        changes,
        summary,
        source: None,
    }
}

fn count(summary: &mut Summary, action: Action) {
    match action {
        Action::Create => summary.create += 1,
        Action::Update => summary.update += 1,
        Action::Replace => summary.replace += 1,
        Action::Delete => summary.delete += 1,
        Action::Noop => summary.noop += 1,
    }
}

/// Every string inside a value.
fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The deletes: observed resources the graph does not have, ordered so that a resource is
/// deleted after everything that refers to it (found by its id and computed fields in the
/// referrers' observed fields), ties broken by reverse creation order then address.
fn deletes(graph: &Graph, observed: &ObservedState, changes: &[Change]) -> Vec<Change> {
    let gone: Vec<&Observed> = observed
        .resources
        .values()
        .filter(|o| !graph.contains(&o.address))
        .collect();
    if gone.is_empty() {
        return Vec::new();
    }
    // Identity value → deleted resources it identifies.
    let mut by_identity: FastMap<&str, Vec<&Address>> = fast_map(gone.len() * 2);
    for o in &gone {
        for identity in o.identities() {
            by_identity.entry(identity).or_default().push(&o.address);
        }
    }
    // referrer → the deleted resources it refers to; for each deleted resource, who waits.
    let mut waits_for: BTreeMap<&Address, BTreeSet<&Address>> =
        gone.iter().map(|o| (&o.address, BTreeSet::new())).collect();
    let mut referrers_of: BTreeMap<&Address, BTreeSet<&Address>> = BTreeMap::new();
    let changing: BTreeSet<&Address> = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Update | Action::Replace))
        .map(|c| &c.address)
        .collect();
    for o in observed.resources.values() {
        let is_gone = waits_for.contains_key(&o.address);
        if !is_gone && !changing.contains(&o.address) {
            continue;
        }
        let mut found = Vec::new();
        strings(&o.fields, &mut found);
        for s in found {
            for &target in by_identity.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                if target != &o.address {
                    referrers_of.entry(target).or_default().insert(&o.address);
                    if is_gone && let Some(w) = waits_for.get_mut(&o.address) {
                        w.insert(target);
                    }
                }
            }
        }
    }
    // Two resources that name each other (the two RPCs of a peering) would wait for each
    // other: the first edge of such a loop, in address order, is kept, the closing one left
    // out. `waits_for` follows what is kept.
    let mut kept: BTreeMap<&Address, BTreeSet<&Address>> = BTreeMap::new();
    for (target, referrers) in &referrers_of {
        for referrer in referrers {
            if !reaches(&kept, referrer, target) {
                kept.entry(*target).or_default().insert(*referrer);
            }
        }
    }
    for w in waits_for.values_mut() {
        w.clear();
    }
    for (target, referrers) in &kept {
        for referrer in referrers {
            if let Some(w) = waits_for.get_mut(referrer) {
                w.insert(*target);
            }
        }
    }
    let referrers_of = kept;
    // Kahn: a deleted resource is ready once every deleted resource referring to it is done.
    let mut blocking: BTreeMap<&Address, usize> = waits_for.keys().map(|a| (*a, 0)).collect();
    for targets in waits_for.values() {
        for t in targets {
            if let Some(n) = blocking.get_mut(t) {
                *n += 1;
            }
        }
    }
    let key = |a: &Address| (std::cmp::Reverse(a.kind()), a.clone());
    let mut ready: BTreeSet<(std::cmp::Reverse<Kind>, Address)> = blocking
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(a, _)| key(a))
        .collect();
    let mut order: Vec<Address> = Vec::with_capacity(gone.len());
    while let Some((_, a)) = ready.pop_first() {
        if let Some(targets) = waits_for.get(&a) {
            for t in targets {
                if let Some(n) = blocking.get_mut(t) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(key(t));
                    }
                }
            }
        }
        order.push(a);
    }
    if order.len() < gone.len() {
        // References in a loop (not something pexspec creates): fall back to kind order.
        let done: BTreeSet<Address> = order.iter().cloned().collect();
        let mut rest: Vec<&Observed> = gone
            .iter()
            .copied()
            .filter(|o| !done.contains(&o.address))
            .collect();
        rest.sort_by_key(|o| key(&o.address));
        order.extend(rest.into_iter().map(|o| o.address.clone()));
    }
    order
        .into_iter()
        .filter_map(|address| {
            let o = observed.get(&address)?;
            let depends_on = referrers_of
                .get(&address)
                .map(|s| s.iter().map(|a| (*a).clone()).collect())
                .unwrap_or_default();
            Some(Change {
                kind: o.kind,
                action: Action::Delete,
                reason: Cow::Borrowed("not in the spec"),
                depends_on,
                region: o.region.clone(),
                id: Some(o.id.clone()),
                diff: Vec::new(),
                pending: false,
                wait: None,
                delete_after: Vec::new(),
                address,
            })
        })
        .collect()
}

/// Orders the deletes of the old resources of replaces: a replaced resource's old one goes
/// after the old ones of the replaces and deletes that depend on it ([`Change::delete_after`]):
/// its dependents in the spec's graph that are replaced too, and the replaced or deleted
/// resources whose observed fields refer to it (by id or computed field). An edge that would
/// close a loop (two RPCs naming each other) is left out, the graph's own edges first.
///
/// A replace is destroy-before-create: the new resource carries the same `pexspec-address`
/// tag as the old one (observe keeps one resource per address), and usually the same
/// addresses and names (a subnet's CIDR inside its VCN, an instance's private IP), which OCI
/// refuses twice.
fn order_replaces(graph: &Graph, observed: &ObservedState, changes: &mut [Change]) {
    let replaced: BTreeSet<&Address> = changes
        .iter()
        .filter(|c| c.action == Action::Replace && observed.get(&c.address).is_some())
        .map(|c| &c.address)
        .collect();
    if replaced.is_empty() {
        return;
    }
    // Whose old resource goes first: `before[x]` holds the changes whose delete precedes
    // x's old resource's.
    let going: BTreeMap<&Address, &Change> = changes
        .iter()
        .filter(|c| {
            (c.action == Action::Replace && replaced.contains(&c.address))
                || c.action == Action::Delete
        })
        .map(|c| (&c.address, c))
        .collect();
    let mut before: BTreeMap<Address, BTreeSet<Address>> = BTreeMap::new();
    // The waits the executor will have, by half: a replace's delete (`true`) and its whole
    // step (`false`, after its delete and its dependencies); a delete's step is its delete.
    let mut waits: BTreeMap<Half, BTreeSet<Half>> = BTreeMap::new();
    for c in changes.iter() {
        let deps = c.depends_on.iter().map(|d| (d.clone(), false));
        match c.action {
            Action::Replace if replaced.contains(&c.address) => {
                let whole = waits.entry((c.address.clone(), false)).or_default();
                whole.insert((c.address.clone(), true));
                whole.extend(deps);
            }
            Action::Delete => {
                waits
                    .entry((c.address.clone(), true))
                    .or_default()
                    .extend(deps);
                waits
                    .entry((c.address.clone(), false))
                    .or_default()
                    .insert((c.address.clone(), true));
            }
            _ => waits
                .entry((c.address.clone(), false))
                .or_default()
                .extend(deps),
        }
    }
    let mut add =
        |waits: &mut BTreeMap<Half, BTreeSet<Half>>, target: &Address, first: &Address| {
            let (t, f) = ((target.clone(), true), (first.clone(), true));
            if target == first || reaches(waits, &f, &t) {
                return;
            }
            waits.entry(t).or_default().insert(f);
            before
                .entry(target.clone())
                .or_default()
                .insert(first.clone());
        };
    // The graph's edges: a replaced dependent's old resource goes before its dependency's.
    for node in graph.nodes() {
        if !going.contains_key(&node.address) {
            continue;
        }
        for target in &node.depends_on {
            if replaced.contains(target) {
                add(&mut waits, target, &node.address);
            }
        }
    }
    // The cloud's references: an old resource that names a replaced one goes first.
    let mut by_identity: BTreeMap<&str, &Address> = BTreeMap::new();
    for a in &replaced {
        if let Some(o) = observed.get(a) {
            for identity in o.identities() {
                by_identity.insert(identity, *a);
            }
        }
    }
    for c in going.values() {
        let Some(o) = observed.get(&c.address) else {
            continue;
        };
        let mut found = Vec::new();
        strings(&o.fields, &mut found);
        for text in found {
            if let Some(target) = by_identity.get(text) {
                add(&mut waits, target, &c.address);
            }
        }
    }
    for c in changes.iter_mut() {
        if let Some(first) = before.remove(&c.address) {
            c.delete_after = first.into_iter().collect();
        }
    }
}

/// The plan of `pexspec destroy`: every observed resource of the stack deleted, the graph
/// walked backwards. A resource waits for the deletes of everything that refers to it (by
/// its observed fields, as for any delete) and of everything that depends on it in the
/// spec's graph: Conferencing Nodes leave the Management Node before their instances go, and
/// the two RPCs of a peering go after the peering, together. A reference that would close a
/// loop with the graph's order is left out.
pub fn destroy(graph: &Graph, observed: &ObservedState) -> Plan {
    let nothing = Graph::new(graph.stack(), graph.regions().to_vec(), Vec::new())
        .unwrap_or_else(|_| graph.clone());
    let mut plan = plan(&nothing, observed);
    let deleted: BTreeSet<Address> = plan.changes.iter().map(|c| c.address.clone()).collect();
    // waits[a]: the deletes `a` waits for. The graph's edges first...
    let mut waits: BTreeMap<Address, BTreeSet<Address>> = deleted
        .iter()
        .map(|a| (a.clone(), BTreeSet::new()))
        .collect();
    for node in graph.nodes() {
        // `node` depends on `target`: `target`'s delete waits for `node`'s.
        if !deleted.contains(&node.address) {
            continue;
        }
        for target in &node.depends_on {
            if deleted.contains(target)
                && !reaches(&waits, &node.address, target)
                && let Some(w) = waits.get_mut(target)
            {
                w.insert(node.address.clone());
            }
        }
    }
    // ... then, for resources the spec does not know, the references the cloud sees, where
    // they do not close a loop. Between two resources of the graph, the graph decides: the
    // two RPCs of a peering name each other, and go together.
    for change in &plan.changes {
        for referrer in &change.depends_on {
            let both_known = graph.contains(referrer) && graph.contains(&change.address);
            if !both_known
                && !reaches(&waits, referrer, &change.address)
                && let Some(w) = waits.get_mut(&change.address)
            {
                w.insert(referrer.clone());
            }
        }
    }
    for change in &mut plan.changes {
        if let Some(w) = waits.remove(&change.address) {
            change.depends_on = w.into_iter().collect();
        }
        change.reason = Cow::Borrowed("destroy");
    }
    plan
}

/// One half of a step: a replace's delete (`true`), or the whole step (`false`).
type Half = (Address, bool);

/// Whether `from` already waits, directly or not, for `to`.
fn reaches<T: Ord>(waits: &BTreeMap<T, BTreeSet<T>>, from: &T, to: &T) -> bool {
    let mut stack = vec![from];
    let mut seen = BTreeSet::new();
    while let Some(a) = stack.pop() {
        if a == to {
            return true;
        }
        if seen.insert(a)
            && let Some(next) = waits.get(a)
        {
            stack.extend(next.iter());
        }
    }
    false
}
