//! The [`Provider`] trait: how pexspec observes and changes one side of the world (OCI, or
//! the Pexip Management Node), and the idempotency contract every provider keeps.
//!
//! # The idempotency contract
//!
//! An apply may crash, lose a connection or be stopped at any instant, and is then simply run
//! again. That is safe because every provider keeps these rules:
//!
//! 1. **Observe is read-only and complete.** [`Provider::observe`] changes nothing, and it
//!    returns *every* resource of the provider's [`kinds`](Provider::kinds) that belongs to
//!    the stack, in every region of the [`Scope`] — or an error. It never returns a partial
//!    list: a resource missing from the list would be created a second time. OCI resources
//!    are found by their freeform tags `pexspec-stack` and `pexspec-address` (list calls per
//!    kind and region, tags filtered client-side, a bounded number of calls; never one GET
//!    per resource). Pexip objects, which have no tags, are found by their natural key (the
//!    address's key: a name, an address, an alias). Observed fields have the shape of the
//!    desired state (snake_case API names, the same normalisation), never a secret's value.
//! 2. **Creates are idempotent by construction.** Every create carries a
//!    [`retry_token`] derived from the stack, the address and the resolved desired state,
//!    sent as OCI's `opc-retry-token`, and the create request itself sets the two tags and a
//!    deterministic display name. Sending the same create twice yields one resource.
//! 3. **A create whose answer was lost is found, never repeated.** If the connection drops
//!    after a create was sent, the executor does not send it again blindly: the next observe
//!    finds the resource by its tags (or the retry token returns it). Only a resource that
//!    observe positively does not list is created.
//! 4. **Updates and deletes are keyed by the observed id and etag.** They act on the resource
//!    observe returned (`if-match: etag` where the API has it), so a resource that changed
//!    since it was observed yields a conflict ([`ProviderError::Conflict`]), not a blind
//!    overwrite. Deleting a resource that is already gone is success.
//! 5. **A resource absent just after its create is unknown, not missing.** Clouds are
//!    eventually consistent: for a grace period after a create, a resource observe does not
//!    list yet is reported in [`ObservedState::pending`] (by the executor, from its journal),
//!    polled with [`Provider::get`], and never created again.
//!
//! Secrets stay `{"$secret": ...}` references in every request: a provider resolves them at
//! the moment it sends (it is built with access to the environment and the spec's files), so
//! no request, log line or journal entry ever holds a value. Sensitive outputs (the
//! Conferencing Node configuration file that the Pexip API returns once, from the
//! `worker_vm` create) come back as [`Sensitive`], which the executor journals before
//! anything else happens and hands to the `node_bootstrap` create as its input.
//!
//! # Async
//!
//! The trait's methods return `impl Future + Send`, so an implementation writes plain
//! `async fn`s (the OCI and Pexip clients are async reqwest) and the tokio executor can spawn
//! them. The trait is therefore not object-safe; [`DynProvider`] is its boxed twin, with a
//! blanket implementation, for an executor that holds several providers in one list.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use pexspec_graph::{Address, Graph, Kind};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Observed, ObservedState};

/// What to observe: the stack and the regions of the spec. A provider also looks in regions
/// it knows the stack used before (from its journal), so that resources of a region removed
/// from the spec are found and deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The stack name (`pexspec-stack` tag).
    pub stack: String,
    /// The regions of the spec, in the spec's order.
    pub regions: Vec<String>,
}

impl Scope {
    /// The scope of a compiled graph.
    pub fn of(graph: &Graph) -> Self {
        Self {
            stack: graph.stack().to_owned(),
            regions: graph.regions().to_vec(),
        }
    }
}

/// Bytes that must never be shown: `Debug` prints `<redacted>`, and there is no `Display`
/// nor `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(Vec<u8>);

impl Sensitive {
    /// Wraps a sensitive value.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes, for the one place that needs them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A create: the desired state with every reference resolved (secrets still references).
#[derive(Clone, Copy, Debug)]
pub struct CreateRequest<'a> {
    /// The stack (`pexspec-stack` tag).
    pub stack: &'a str,
    /// The address (`pexspec-address` tag).
    pub address: &'a Address,
    /// The region to create it in.
    pub region: Option<&'a str>,
    /// The desired state, references resolved.
    pub desired: &'a Value,
    /// The idempotency token ([`retry_token`]).
    pub retry_token: &'a str,
    /// A sensitive input from an earlier step (the node configuration file for a
    /// `node_bootstrap`).
    pub input: Option<&'a Sensitive>,
}

/// What a create returns.
#[derive(Clone, Debug)]
pub struct Created {
    /// The resource as it now is.
    pub observed: Observed,
    /// A sensitive output returned only once (the `worker_vm` configuration file).
    pub output: Option<Sensitive>,
}

/// An update of an observed resource.
#[derive(Clone, Copy, Debug)]
pub struct UpdateRequest<'a> {
    /// The stack.
    pub stack: &'a str,
    /// The address.
    pub address: &'a Address,
    /// Its region.
    pub region: Option<&'a str>,
    /// The observed id.
    pub id: &'a str,
    /// The observed etag, for `if-match`.
    pub etag: Option<&'a str>,
    /// The whole desired state, references resolved.
    pub desired: &'a Value,
    /// The top-level fields that differ (the plan's diff).
    pub changed: &'a [String],
}

/// A delete of an observed resource.
#[derive(Clone, Copy, Debug)]
pub struct DeleteRequest<'a> {
    /// The stack.
    pub stack: &'a str,
    /// The address.
    pub address: &'a Address,
    /// The kind.
    pub kind: Kind,
    /// Its region.
    pub region: Option<&'a str>,
    /// The observed id.
    pub id: &'a str,
    /// The observed etag, for `if-match`.
    pub etag: Option<&'a str>,
}

/// A read of one resource by id (to poll lifecycle states after a create or a change).
#[derive(Clone, Copy, Debug)]
pub struct GetRequest<'a> {
    /// The stack.
    pub stack: &'a str,
    /// The address.
    pub address: &'a Address,
    /// Its region.
    pub region: Option<&'a str>,
    /// The id, if known (a resource whose create answer was lost has none yet).
    pub id: Option<&'a str>,
}

/// The class of an error: how the executor reacts and which exit code it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// pexspec's or the provider's configuration is wrong.
    Config,
    /// The request was refused as invalid.
    UserInput,
    /// The provider could not be reached.
    Network,
    /// The provider asked to slow down (429).
    Throttled,
    /// The resource is busy or changed since observed (409, 412).
    Conflict,
    /// The provider failed (5xx) or refused for a reason of its own.
    Provider,
    /// A defect in pexspec.
    Internal,
}

/// An error of a provider call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The configuration is wrong (credentials, endpoints).
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The request was refused as invalid (400).
    #[error("`{address}` was refused: {message}")]
    Invalid {
        /// The resource.
        address: String,
        /// The provider's message.
        message: String,
    },
    /// The provider could not be reached.
    #[error("network error: {message}")]
    Network {
        /// What failed.
        message: String,
    },
    /// The provider asked to slow down.
    #[error("throttled by the provider")]
    Throttled {
        /// How long the provider asked to wait (`Retry-After`), in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The resource is busy, or changed since it was observed.
    #[error("`{address}` conflicts: {message}")]
    Conflict {
        /// The resource.
        address: String,
        /// The provider's message.
        message: String,
    },
    /// The resource does not exist (for an update; a delete of a missing resource succeeds).
    #[error("`{address}` does not exist")]
    NotFound {
        /// The resource.
        address: String,
    },
    /// The provider failed.
    #[error("provider error {status} `{code}`: {message}")]
    Provider {
        /// The HTTP status.
        status: u16,
        /// The provider's error code.
        code: String,
        /// The provider's message.
        message: String,
    },
    /// A defect in pexspec.
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl ProviderError {
    /// The class of the error.
    pub fn class(&self) -> ErrorClass {
        match self {
            ProviderError::Config { .. } => ErrorClass::Config,
            ProviderError::Invalid { .. } | ProviderError::NotFound { .. } => ErrorClass::UserInput,
            ProviderError::Network { .. } => ErrorClass::Network,
            ProviderError::Throttled { .. } => ErrorClass::Throttled,
            ProviderError::Conflict { .. } => ErrorClass::Conflict,
            ProviderError::Provider { .. } => ErrorClass::Provider,
            ProviderError::Internal { .. } => ErrorClass::Internal,
        }
    }

    /// Whether retrying the same call later may succeed (network, throttling, conflicts,
    /// server errors).
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Network { .. }
            | ProviderError::Throttled { .. }
            | ProviderError::Conflict { .. } => true,
            ProviderError::Provider { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// One side of the world pexspec changes: OCI, or the Pexip Management Node. See the
/// module documentation for the idempotency contract every implementation keeps.
pub trait Provider: Send + Sync {
    /// The kinds this provider observes and changes.
    fn kinds(&self) -> &[Kind];

    /// Every resource of the stack of this provider's kinds (read-only, complete or an
    /// error).
    fn observe(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<ObservedState, ProviderError>> + Send;

    /// One resource, to poll its lifecycle state; `None` if it is not (yet) there.
    fn get(
        &self,
        request: &GetRequest<'_>,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send;

    /// Creates a resource, tagged, with the request's retry token.
    fn create(
        &self,
        request: &CreateRequest<'_>,
    ) -> impl Future<Output = Result<Created, ProviderError>> + Send;

    /// Updates an observed resource in place.
    fn update(
        &self,
        request: &UpdateRequest<'_>,
    ) -> impl Future<Output = Result<Observed, ProviderError>> + Send;

    /// Deletes an observed resource; success if it is already gone.
    fn delete(
        &self,
        request: &DeleteRequest<'_>,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

/// A shared provider is a provider: the CLI keeps an `Arc` to read a provider's counters
/// after a run while the executor holds it as a [`DynProvider`].
impl<P: Provider> Provider for std::sync::Arc<P> {
    fn kinds(&self) -> &[Kind] {
        P::kinds(self)
    }

    fn observe(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<ObservedState, ProviderError>> + Send {
        P::observe(self, scope)
    }

    fn get(
        &self,
        request: &GetRequest<'_>,
    ) -> impl Future<Output = Result<Option<Observed>, ProviderError>> + Send {
        P::get(self, request)
    }

    fn create(
        &self,
        request: &CreateRequest<'_>,
    ) -> impl Future<Output = Result<Created, ProviderError>> + Send {
        P::create(self, request)
    }

    fn update(
        &self,
        request: &UpdateRequest<'_>,
    ) -> impl Future<Output = Result<Observed, ProviderError>> + Send {
        P::update(self, request)
    }

    fn delete(
        &self,
        request: &DeleteRequest<'_>,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        P::delete(self, request)
    }
}

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The object-safe twin of [`Provider`], implemented for every provider: lets an executor
/// keep `Vec<Box<dyn DynProvider>>`.
pub trait DynProvider: Send + Sync {
    /// See [`Provider::kinds`].
    fn kinds(&self) -> &[Kind];
    /// See [`Provider::observe`].
    fn observe<'a>(
        &'a self,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<ObservedState, ProviderError>>;
    /// See [`Provider::get`].
    fn get<'a>(
        &'a self,
        request: &'a GetRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Observed>, ProviderError>>;
    /// See [`Provider::create`].
    fn create<'a>(
        &'a self,
        request: &'a CreateRequest<'a>,
    ) -> BoxFuture<'a, Result<Created, ProviderError>>;
    /// See [`Provider::update`].
    fn update<'a>(
        &'a self,
        request: &'a UpdateRequest<'a>,
    ) -> BoxFuture<'a, Result<Observed, ProviderError>>;
    /// See [`Provider::delete`].
    fn delete<'a>(
        &'a self,
        request: &'a DeleteRequest<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
}

impl<P: Provider> DynProvider for P {
    fn kinds(&self) -> &[Kind] {
        Provider::kinds(self)
    }
    fn observe<'a>(
        &'a self,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<ObservedState, ProviderError>> {
        Box::pin(Provider::observe(self, scope))
    }
    fn get<'a>(
        &'a self,
        request: &'a GetRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Observed>, ProviderError>> {
        Box::pin(Provider::get(self, request))
    }
    fn create<'a>(
        &'a self,
        request: &'a CreateRequest<'a>,
    ) -> BoxFuture<'a, Result<Created, ProviderError>> {
        Box::pin(Provider::create(self, request))
    }
    fn update<'a>(
        &'a self,
        request: &'a UpdateRequest<'a>,
    ) -> BoxFuture<'a, Result<Observed, ProviderError>> {
        Box::pin(Provider::update(self, request))
    }
    fn delete<'a>(
        &'a self,
        request: &'a DeleteRequest<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(Provider::delete(self, request))
    }
}

/// The deterministic idempotency token of a create: 64 hex characters of SHA-256 over the
/// stack, the address and the canonical JSON of the resolved desired state (OCI accepts up
/// to 64 characters in `opc-retry-token`). The same create always carries the same token; a
/// create of different content (a dependency replaced, a field changed) carries another.
pub fn retry_token(stack: &str, address: &Address, desired: &Value) -> String {
    let mut hash = Sha256::new();
    hash.update(b"pexspec-retry-token/1\0");
    hash.update(stack.as_bytes());
    hash.update([0]);
    hash.update(address.to_string().as_bytes());
    hash.update([0]);
    hash.update(crate::canonical_json(desired).as_bytes());
    crate::observed::hex(&hash.finalize())
}
