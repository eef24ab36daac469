//! Observed state: what the providers found in the cloud and on the Management Node, keyed
//! by address. There is no state file: OCI resources are found by their `pexspec-stack` and
//! `pexspec-address` tags, Pexip objects by their natural key.

use std::collections::{BTreeMap, BTreeSet};

use pexspec_graph::{Address, Kind, Ref};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One resource as a provider observed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// The kind (the same as the address's).
    pub kind: Kind,
    /// The address, read from the `pexspec-address` tag (OCI) or derived from the natural
    /// key (Pexip).
    pub address: Address,
    /// The provider's id: an OCID, or the resource URI of a Pexip object
    /// (`/api/admin/configuration/v1/worker_vm/3/`).
    pub id: String,
    /// The region it lives in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Its fields, in the same shape and with the same snake_case names as the desired
    /// state, plus the fields the cloud computes that references point at (`private_ip`,
    /// `private_ip_id`, `ip_address`, `namespace`, ...). Never a secret's value.
    pub fields: Value,
    /// The entity tag for conditional updates and deletes (`if-match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The lifecycle state as reported (`AVAILABLE`, `RUNNING`, `PEERED`...), informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl Observed {
    /// The value a reference to `field` of this resource stands for: the id for `id`, else
    /// the field.
    pub fn field(&self, field: &str) -> Option<Value> {
        if field == "id" {
            return Some(Value::String(self.id.clone()));
        }
        match self.fields.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        }
    }

    /// The values other resources refer to this one by: its id and the computed fields
    /// references point at. Used to find which resources refer to which.
    pub fn identities(&self) -> Vec<&str> {
        let mut out = vec![self.id.as_str()];
        let extra: &[&str] = match self.kind {
            Kind::Instance => &["private_ip_id", "private_ip"],
            Kind::PublicIp => &["ip_address"],
            _ => &[],
        };
        for key in extra {
            if let Some(Value::String(s)) = self.fields.get(*key) {
                out.push(s);
            }
        }
        out
    }
}

/// Everything the providers observed for one stack.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservedState {
    /// The resources tagged with (or, for Pexip, owned by) the stack, by address.
    pub resources: BTreeMap<Address, Observed>,
    /// Resources whose create was sent a short while ago but that observe does not list yet
    /// (eventual consistency): they are neither created again nor deleted; the executor
    /// polls them until they appear or the grace period ends.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pending: BTreeSet<Address>,
    /// Resources pexspec does not manage but refers to, by [`pexspec_graph::Lookup::key`]
    /// (e.g. a Conferencing Node image replicated to a region by other means) → id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookups: BTreeMap<String, String>,
    /// Resources that exist but whose one-time output is lost: the Conferencing Node
    /// configuration file a `worker_vm` create returns once, gone with the journal before
    /// it was uploaded. What needs it cannot be done with what exists, so the plan
    /// replaces them ([`crate::plan`]): the node is registered again and the new file
    /// uploaded. Filled by the caller from what it kept (the CLI asks the journal).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub lost_outputs: BTreeSet<Address>,
}

impl ObservedState {
    /// An empty state: nothing deployed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one observed resource.
    pub fn insert(&mut self, observed: Observed) {
        self.resources.insert(observed.address.clone(), observed);
    }

    /// The resource at `address`.
    pub fn get(&self, address: &Address) -> Option<&Observed> {
        self.resources.get(address)
    }

    /// The number of observed resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Whether nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Adds what another provider observed (each provider observes its own kinds).
    pub fn merge(&mut self, other: ObservedState) {
        self.resources.extend(other.resources);
        self.pending.extend(other.pending);
        self.lookups.extend(other.lookups);
        self.lost_outputs.extend(other.lost_outputs);
    }

    /// The value of a reference, if the referred resource was observed and has the field.
    pub fn resolve(&self, r: &Ref) -> Option<Value> {
        self.resources.get(&r.address)?.field(&r.field)
    }

    /// A digest of what was observed (addresses, ids, etags, pending, look-ups, lost
    /// outputs, and the fields of resources without an etag): `apply plan.json` refuses a plan whose
    /// observed state has moved since. A resource's etag changes with its fields, so the
    /// fields are hashed only where the API gives no etag (the Pexip objects).
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        let mut buffer = String::new();
        for (address, o) in &self.resources {
            hash.update(address.kind().as_str().as_bytes());
            hash.update([0]);
            hash.update(address.key().unwrap_or("").as_bytes());
            hash.update([0]);
            hash.update(o.id.as_bytes());
            hash.update([0]);
            match &o.etag {
                Some(etag) => hash.update(etag.as_bytes()),
                None => {
                    buffer.clear();
                    crate::canonical_into(&o.fields, &mut buffer);
                    hash.update(buffer.as_bytes());
                }
            }
            hash.update([b'\n']);
        }
        for address in &self.pending {
            hash.update(b"pending ");
            hash.update(address.to_string().as_bytes());
            hash.update([b'\n']);
        }
        for address in &self.lost_outputs {
            hash.update(b"lost ");
            hash.update(address.to_string().as_bytes());
            hash.update([b'\n']);
        }
        for (key, id) in &self.lookups {
            hash.update(b"lookup ");
            hash.update(key.as_bytes());
            hash.update([0]);
            hash.update(id.as_bytes());
            hash.update([b'\n']);
        }
        hex(&hash.finalize())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}
