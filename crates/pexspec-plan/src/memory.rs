//! [`InMemoryProvider`]: a fake cloud and Management Node in memory, for tests and for
//! `plan --sim` until the simulators are wired; and [`apply_plan`], which applies a plan to
//! it the way an executor would (what applying would leave).

use std::collections::BTreeMap;
use std::future::{Future, ready};
use std::sync::{Mutex, MutexGuard};

use pexspec_graph::value::{Resolution, for_each_ref, resolve};
use pexspec_graph::{Address, Graph, Kind, Lookup};
use serde_json::{Map, Value, json};

use crate::provider::{
    CreateRequest, Created, DeleteRequest, GetRequest, Provider, ProviderError, Scope,
    UpdateRequest, retry_token,
};
use crate::{Action, Observed, ObservedState, Plan};

#[derive(Debug, Default)]
struct Cloud {
    /// stack → address → resource.
    stacks: BTreeMap<String, BTreeMap<Address, Observed>>,
    /// retry token → (stack, address) of the resource it created.
    tokens: BTreeMap<String, (String, Address)>,
    /// look-up key → id (resources pexspec does not manage).
    lookups: BTreeMap<String, String>,
    counter: u64,
}

/// A fake cloud and Management Node in memory. It keeps the provider contract: creates are
/// idempotent by retry token, updates and deletes check the id and the etag, observe returns
/// every resource of the stack. Computed fields are filled in as the real services do:
/// `namespace` for the bucket, `private_ip` and `private_ip_id` for instances, `ip_address`
/// for public IPs.
#[derive(Debug, Default)]
pub struct InMemoryProvider {
    cloud: Mutex<Cloud>,
}

impl InMemoryProvider {
    /// An empty cloud.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Cloud> {
        self.cloud
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What observe returns, synchronously.
    pub fn observe_now(&self, scope: &Scope) -> ObservedState {
        let cloud = self.lock();
        ObservedState {
            resources: cloud.stacks.get(&scope.stack).cloned().unwrap_or_default(),
            pending: Default::default(),
            lookups: cloud.lookups.clone(),
            lost_outputs: Default::default(),
        }
    }

    /// Adds a resource as if created by other means (tests: drift, leftovers).
    pub fn insert(&self, stack: &str, observed: Observed) {
        let mut cloud = self.lock();
        cloud
            .stacks
            .entry(stack.to_owned())
            .or_default()
            .insert(observed.address.clone(), observed);
    }

    /// Changes a resource behind pexspec's back (tests: drift, rule order); the etag changes.
    pub fn mutate(&self, stack: &str, address: &Address, f: impl FnOnce(&mut Observed)) {
        let mut cloud = self.lock();
        cloud.counter += 1;
        let etag = format!("sim-{}", cloud.counter);
        if let Some(o) = cloud.stacks.get_mut(stack).and_then(|s| s.get_mut(address)) {
            f(o);
            o.etag = Some(etag);
        }
    }

    /// Registers a resource pexspec does not manage (a replicated image).
    pub fn add_lookup(&self, lookup: &Lookup, id: impl Into<String>) {
        self.lock().lookups.insert(lookup.key(), id.into());
    }

    /// The number of resources of a stack.
    pub fn len(&self, stack: &str) -> usize {
        self.lock().stacks.get(stack).map_or(0, BTreeMap::len)
    }

    /// Whether the stack has no resource.
    pub fn is_empty(&self, stack: &str) -> bool {
        self.len(stack) == 0
    }

    /// A create, synchronously.
    pub fn create_now(&self, request: &CreateRequest<'_>) -> Result<Created, ProviderError> {
        let mut unresolved = None;
        for_each_ref(request.desired, &mut |r| {
            unresolved.get_or_insert(r);
        });
        if let Some(r) = unresolved {
            return Err(ProviderError::Internal {
                message: format!(
                    "`{}` was sent with the unresolved reference `{r}`",
                    request.address
                ),
            });
        }
        let mut cloud = self.lock();
        if let Some((stack, address)) = cloud.tokens.get(request.retry_token).cloned()
            && let Some(existing) = cloud.stacks.get(&stack).and_then(|s| s.get(&address))
        {
            return Ok(Created {
                observed: existing.clone(),
                output: None,
            });
        }
        let exists = cloud
            .stacks
            .get(request.stack)
            .is_some_and(|s| s.contains_key(request.address));
        if exists {
            return Err(ProviderError::Conflict {
                address: request.address.to_string(),
                message: "a resource with this address already exists".into(),
            });
        }
        cloud.counter += 1;
        let n = cloud.counter;
        let kind = request.address.kind();
        let region = request.region.map(str::to_owned);
        let id = if kind.is_oci() {
            format!(
                "ocid1.{}.oc1.{}.sim{n:06}",
                kind.as_str().replace('_', ""),
                region.as_deref().unwrap_or("global")
            )
        } else {
            format!("/api/admin/configuration/v1/{}/{n}/", kind.as_str())
        };
        let mut fields = request.desired.as_object().cloned().unwrap_or_default();
        computed(kind, n, region.as_deref(), &mut fields);
        let observed = Observed {
            kind,
            address: request.address.clone(),
            id,
            region,
            fields: Value::Object(fields),
            etag: Some(format!("sim-{n}")),
            state: Some(
                if kind == Kind::Instance {
                    "RUNNING"
                } else {
                    "AVAILABLE"
                }
                .into(),
            ),
        };
        let output = (kind == Kind::WorkerVm)
            .then(|| crate::Sensitive::new(format!("<node-config name=\"{}\"/>", request.address)));
        cloud
            .stacks
            .entry(request.stack.to_owned())
            .or_default()
            .insert(request.address.clone(), observed.clone());
        cloud.tokens.insert(
            request.retry_token.to_owned(),
            (request.stack.to_owned(), request.address.clone()),
        );
        Ok(Created { observed, output })
    }

    /// An update, synchronously.
    pub fn update_now(&self, request: &UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let mut cloud = self.lock();
        cloud.counter += 1;
        let n = cloud.counter;
        let Some(o) = cloud
            .stacks
            .get_mut(request.stack)
            .and_then(|s| s.get_mut(request.address))
            .filter(|o| o.id == request.id)
        else {
            return Err(ProviderError::NotFound {
                address: request.address.to_string(),
            });
        };
        if let Some(etag) = request.etag
            && o.etag.as_deref() != Some(etag)
        {
            return Err(ProviderError::Conflict {
                address: request.address.to_string(),
                message: format!("the etag `{etag}` is stale"),
            });
        }
        if let (Value::Object(fields), Value::Object(desired)) = (&mut o.fields, request.desired) {
            for (k, v) in desired {
                fields.insert(k.clone(), v.clone());
            }
        }
        o.etag = Some(format!("sim-{n}"));
        Ok(o.clone())
    }

    /// A delete, synchronously; deleting what is gone succeeds.
    pub fn delete_now(&self, request: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let mut cloud = self.lock();
        let Some(stack) = cloud.stacks.get_mut(request.stack) else {
            return Ok(());
        };
        match stack.get(request.address) {
            Some(o) if o.id != request.id => Ok(()),
            Some(o) if request.etag.is_some() && o.etag.as_deref() != request.etag => {
                Err(ProviderError::Conflict {
                    address: request.address.to_string(),
                    message: "the etag is stale".into(),
                })
            }
            Some(_) => {
                stack.remove(request.address);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A read, synchronously.
    pub fn get_now(&self, request: &GetRequest<'_>) -> Option<Observed> {
        let cloud = self.lock();
        let o = cloud.stacks.get(request.stack)?.get(request.address)?;
        match request.id {
            Some(id) if id != o.id => None,
            _ => Some(o.clone()),
        }
    }
}

/// The fields the cloud computes.
fn computed(kind: Kind, n: u64, region: Option<&str>, fields: &mut Map<String, Value>) {
    let region = region.unwrap_or("global");
    match kind {
        Kind::Bucket => {
            fields.insert("namespace".into(), json!("simnamespace"));
        }
        Kind::Instance => {
            let ip = fields
                .get("create_vnic_details")
                .and_then(|v| v.get("private_ip"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("10.255.{}.{}", (n / 256) % 256, n % 256));
            fields.insert("private_ip".into(), json!(ip));
            fields.insert(
                "private_ip_id".into(),
                json!(format!("ocid1.privateip.oc1.{region}.sim{n:06}")),
            );
        }
        Kind::PublicIp => {
            fields.insert(
                "ip_address".into(),
                json!(format!("198.18.{}.{}", (n / 256) % 256, n % 256)),
            );
        }
        _ => {}
    }
}

impl Provider for InMemoryProvider {
    fn kinds(&self) -> &[Kind] {
        Kind::ALL
    }

    fn observe(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<ObservedState, ProviderError>> + Send {
        ready(Ok(self.observe_now(scope)))
    }

    fn get(
        &self,
        request: &GetRequest<'_>,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send {
        ready(Ok(self.get_now(request)))
    }

    fn create(
        &self,
        request: &CreateRequest<'_>,
    ) -> impl Future<Output = Result<Created, ProviderError>> + Send {
        ready(self.create_now(request))
    }

    fn update(
        &self,
        request: &UpdateRequest<'_>,
    ) -> impl Future<Output = Result<Observed, ProviderError>> + Send {
        ready(self.update_now(request))
    }

    fn delete(
        &self,
        request: &DeleteRequest<'_>,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        ready(self.delete_now(request))
    }
}

/// Resolves every reference of a desired state against the current observed state; an
/// unresolvable reference is an error (its target should have been applied first).
pub fn resolve_for_apply(
    desired: &Value,
    state: &ObservedState,
    address: &Address,
) -> Result<Value, ProviderError> {
    let mut missing_ref = None;
    let mut missing_lookup = None;
    let (value, _) = resolve(
        desired,
        &mut |r| match state.resolve(r) {
            Some(v) => Resolution::Known(v),
            None => {
                missing_ref.get_or_insert_with(|| r.to_string());
                Resolution::Unknown
            }
        },
        &mut |l| match state.lookups.get(&l.key()) {
            Some(id) => Resolution::Known(Value::String(id.clone())),
            None => {
                missing_lookup.get_or_insert_with(|| l.key());
                Resolution::Unknown
            }
        },
    );
    match missing_ref.or(missing_lookup) {
        None => Ok(value),
        Some(what) => Err(ProviderError::Internal {
            message: format!("`{address}` refers to `{what}`, which does not exist"),
        }),
    }
}

/// Applies a plan to an in-memory cloud in the plan's order, as an executor would: replace
/// is delete then create, creates carry their retry token, updates and deletes their id and
/// etag. The deletes run last, dependents first. Returns at the first error.
pub fn apply_plan(
    graph: &Graph,
    plan: &Plan,
    cloud: &InMemoryProvider,
) -> Result<(), ProviderError> {
    let scope = Scope::of(graph);
    let stack = graph.stack();
    let mut state = cloud.observe_now(&scope);
    for change in &plan.changes {
        if matches!(change.action, Action::Noop | Action::Delete) {
            continue;
        }
        let Some(node) = graph.get(&change.address) else {
            return Err(ProviderError::Internal {
                message: format!("the plan has `{}`, the graph does not", change.address),
            });
        };
        let desired = resolve_for_apply(&node.desired(), &state, &node.address)?;
        let region = node.region.as_deref();
        match change.action {
            Action::Create | Action::Replace => {
                if change.action == Action::Replace
                    && let Some(old) = state.resources.remove(&node.address)
                {
                    cloud.delete_now(&DeleteRequest {
                        stack,
                        address: &node.address,
                        kind: old.kind,
                        region: old.region.as_deref(),
                        id: &old.id,
                        etag: old.etag.as_deref(),
                    })?;
                }
                let token = retry_token(stack, &node.address, &desired);
                let created = cloud.create_now(&CreateRequest {
                    stack,
                    address: &node.address,
                    region,
                    desired: &desired,
                    retry_token: &token,
                    input: None,
                })?;
                state.insert(created.observed);
            }
            Action::Update => {
                let Some(old) = state.get(&node.address).cloned() else {
                    return Err(ProviderError::NotFound {
                        address: node.address.to_string(),
                    });
                };
                let changed: Vec<String> = change.diff.iter().map(|d| d.field.clone()).collect();
                let updated = cloud.update_now(&UpdateRequest {
                    stack,
                    address: &node.address,
                    region,
                    id: &old.id,
                    etag: old.etag.as_deref(),
                    desired: &desired,
                    changed: &changed,
                })?;
                state.insert(updated);
            }
            Action::Noop | Action::Delete => {}
        }
    }
    for change in plan.changes.iter().filter(|c| c.action == Action::Delete) {
        if let Some(old) = state.resources.remove(&change.address) {
            cloud.delete_now(&DeleteRequest {
                stack,
                address: &change.address,
                kind: old.kind,
                region: old.region.as_deref(),
                id: &old.id,
                etag: old.etag.as_deref(),
            })?;
        }
    }
    Ok(())
}
