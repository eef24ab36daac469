//! [`SimProvider`]: the in-memory cloud of `pexspec-plan` behind simulated latencies and
//! lifecycle waits per kind, with injected faults (retryable N times, fatal, 429 with
//! `Retry-After`, a create whose answer is lost), a "run every mutation twice" mode, and a
//! log of every call (order, times, concurrency). For tests and benchmarks, on tokio time:
//! under a paused clock a 25-minute import takes no real time.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pexspec_graph::{Address, Kind};
use pexspec_plan::{
    CreateRequest, Created, DeleteRequest, GetRequest, InMemoryProvider, Observed, ObservedState,
    Provider, ProviderError, Scope, Sensitive, UpdateRequest,
};
use tokio::time::Instant;

use crate::durations::{Durations, Operation};

/// How long each call takes and how long a resource stays in a transient state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimTiming {
    /// Latency of a create, update or delete call, per kind (default: `default_call`).
    pub call: BTreeMap<Kind, Duration>,
    /// Latency of a mutating call of a kind not in `call`.
    pub default_call: Duration,
    /// Latency of a `get`.
    pub get: Duration,
    /// From a create's answer until the final lifecycle state, per kind (default: none).
    pub ready: BTreeMap<Kind, Duration>,
    /// From a delete's answer until the resource is gone, per kind (default: none).
    pub gone: BTreeMap<Kind, Duration>,
    /// Per-address overrides of `call`.
    pub call_by_address: BTreeMap<Address, Duration>,
    /// Per-address overrides of `ready`.
    pub ready_by_address: BTreeMap<Address, Duration>,
}

impl SimTiming {
    /// Every call answers at once and every resource is ready at once.
    pub fn instant() -> Self {
        Self {
            call: BTreeMap::new(),
            default_call: Duration::ZERO,
            get: Duration::ZERO,
            ready: BTreeMap::new(),
            gone: BTreeMap::new(),
            call_by_address: BTreeMap::new(),
            ready_by_address: BTreeMap::new(),
        }
    }

    /// The executor's estimates made real: each create's call plus its wait takes exactly
    /// the estimate of [`Durations`]. An OCI call answers in 1 s (Pexip: 300 ms) and the
    /// rest is a lifecycle wait; an object create is all call (the OVA upload). A delete's
    /// call takes 1 s and the resource is gone after the delete estimate. A `get` takes
    /// 200 ms.
    pub fn from_durations(durations: &Durations) -> Self {
        let mut t = Self {
            get: Duration::from_millis(200),
            default_call: Duration::from_secs(1),
            ..Self::instant()
        };
        for &kind in Kind::ALL {
            let create = durations.estimate(kind, Operation::Create);
            let delete = durations.estimate(kind, Operation::Delete);
            let call = if kind == Kind::Object {
                create
            } else if kind.is_oci() {
                Duration::from_secs(1).min(create)
            } else {
                Duration::from_millis(300).min(create)
            };
            t.call.insert(kind, call);
            t.ready.insert(kind, create.saturating_sub(call));
            t.gone.insert(kind, delete.saturating_sub(call));
        }
        t
    }

    /// [`SimTiming::from_durations`] of the built-in table (image import 25 min, instance
    /// launch 3 min, node sync 5 min, network resources seconds).
    pub fn realistic() -> Self {
        Self::from_durations(&Durations::new())
    }

    /// Sets the call latency of one address.
    #[must_use]
    pub fn with_call(mut self, address: Address, latency: Duration) -> Self {
        self.call_by_address.insert(address, latency);
        self
    }

    /// Sets the time-to-ready of one address.
    #[must_use]
    pub fn with_ready(mut self, address: Address, ready: Duration) -> Self {
        self.ready_by_address.insert(address, ready);
        self
    }

    /// Sets the call latency and time-to-ready of one kind.
    #[must_use]
    pub fn with_kind(mut self, kind: Kind, call: Duration, ready: Duration) -> Self {
        self.call.insert(kind, call);
        self.ready.insert(kind, ready);
        self
    }

    fn call_for(&self, address: &Address) -> Duration {
        self.call_by_address
            .get(address)
            .or_else(|| self.call.get(&address.kind()))
            .copied()
            .unwrap_or(self.default_call)
    }

    fn ready_for(&self, address: &Address) -> Duration {
        self.ready_by_address
            .get(address)
            .or_else(|| self.ready.get(&address.kind()))
            .copied()
            .unwrap_or_default()
    }

    /// How long a create of `address` takes, call and wait: its true duration.
    pub fn create_time(&self, address: &Address) -> Duration {
        self.call_for(address) + self.ready_for(address)
    }

    /// How long a delete of `address` takes, call and wait.
    pub fn delete_time(&self, address: &Address) -> Duration {
        self.call_for(address) + self.gone.get(&address.kind()).copied().unwrap_or_default()
    }
}

/// A provider call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Call {
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
    /// `get`.
    Get,
}

/// A fault to inject into the calls of one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next `times` calls fail with `error` without acting.
    Fail {
        /// How many calls fail.
        times: u32,
        /// The error they return.
        error: ProviderError,
    },
    /// Every call fails with `error` without acting.
    Always(ProviderError),
    /// The next `times` calls act, but their answer is lost: they return a network error.
    LoseAnswer {
        /// How many answers are lost.
        times: u32,
    },
}

/// One call as the provider saw it, times since the provider was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// The resource.
    pub address: Address,
    /// The call.
    pub call: Call,
    /// When it arrived.
    pub start: Duration,
    /// When it answered; `None` while in flight or if it was abandoned.
    pub end: Option<Duration>,
    /// Whether it succeeded (`None`: in flight or abandoned).
    pub ok: Option<bool>,
}

#[derive(Debug, Default)]
struct SimState {
    ready_at: BTreeMap<Address, Instant>,
    deleting: BTreeMap<Address, (Instant, Observed)>,
    faults: BTreeMap<(Address, Call), VecDeque<Fault>>,
    calls: Vec<CallRecord>,
    in_flight: usize,
    max_in_flight: usize,
    in_flight_by_address: BTreeMap<Address, usize>,
    overlaps: Vec<Address>,
    inputs: BTreeMap<Address, Option<Sensitive>>,
}

struct Inner {
    cloud: Arc<InMemoryProvider>,
    timing: SimTiming,
    origin: Instant,
    repeat: bool,
    state: Mutex<SimState>,
}

/// The in-memory cloud behind simulated latencies, lifecycle waits and faults, with a log
/// of every call. Clones share everything (keep one for the assertions, box the other).
#[derive(Clone)]
pub struct SimProvider {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProvider")
            .field("timing", &self.inner.timing)
            .finish_non_exhaustive()
    }
}

/// The transient state of a kind just after its create.
pub fn pending_state(kind: Kind) -> &'static str {
    match kind {
        Kind::Compartment => "CREATING",
        Kind::Image => "IMPORTING",
        Kind::RpcPeering => "PENDING",
        Kind::NodeBootstrap => "SYNCING",
        Kind::ManagementBootstrap => "BOOTING",
        _ => "PROVISIONING",
    }
}

/// The final state of a kind.
pub fn final_state(kind: Kind) -> &'static str {
    match kind {
        Kind::Compartment => "ACTIVE",
        Kind::Instance => "RUNNING",
        Kind::RpcPeering => "PEERED",
        Kind::NodeBootstrap => "SYNCED",
        _ => "AVAILABLE",
    }
}

struct CallGuard<'a> {
    inner: &'a Inner,
    index: usize,
    address: Address,
    ok: Option<bool>,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        let now = self.inner.elapsed();
        let mut s = self.inner.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if let Some(n) = s.in_flight_by_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
        }
        if let Some(ok) = self.ok
            && let Some(r) = s.calls.get_mut(self.index)
        {
            r.end = Some(now);
            r.ok = Some(ok);
        }
    }
}

enum Injected {
    None,
    Fail(ProviderError),
    LoseAnswer,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    fn enter(&self, address: &Address, call: Call) -> CallGuard<'_> {
        let start = self.elapsed();
        let mut s = self.lock();
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let n = s.in_flight_by_address.entry(address.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            s.overlaps.push(address.clone());
        }
        s.calls.push(CallRecord {
            address: address.clone(),
            call,
            start,
            end: None,
            ok: None,
        });
        CallGuard {
            inner: self,
            index: s.calls.len() - 1,
            address: address.clone(),
            ok: None,
        }
    }

    fn take_fault(&self, address: &Address, call: Call) -> Injected {
        let mut s = self.lock();
        let Some(queue) = s.faults.get_mut(&(address.clone(), call)) else {
            return Injected::None;
        };
        let Some(front) = queue.front_mut() else {
            return Injected::None;
        };
        let out = match front {
            Fault::Always(error) => return Injected::Fail(error.clone()),
            Fault::Fail { times, error } => {
                *times = times.saturating_sub(1);
                (Injected::Fail(error.clone()), *times == 0)
            }
            Fault::LoseAnswer { times } => {
                *times = times.saturating_sub(1);
                (Injected::LoseAnswer, *times == 0)
            }
        };
        if out.1 {
            queue.pop_front();
        }
        out.0
    }

    fn state_of(&self, address: &Address, now: Instant) -> &'static str {
        let ready = self.lock().ready_at.get(address).is_none_or(|t| *t <= now);
        if ready {
            final_state(address.kind())
        } else {
            pending_state(address.kind())
        }
    }
}

fn lost_answer() -> ProviderError {
    ProviderError::Network {
        message: "the connection was reset after the request was sent".into(),
    }
}

impl SimProvider {
    /// An empty cloud with these timings.
    pub fn new(timing: SimTiming) -> Self {
        Self::with_cloud(Arc::new(InMemoryProvider::new()), timing)
    }

    /// A cloud that already holds resources.
    pub fn with_cloud(cloud: Arc<InMemoryProvider>, timing: SimTiming) -> Self {
        Self::build(cloud, timing, false)
    }

    /// Sends every create and delete to the cloud twice (oxide steno's "repeat" injection):
    /// with the idempotency contract kept, the result is the same as once.
    pub fn repeating(cloud: Arc<InMemoryProvider>, timing: SimTiming) -> Self {
        Self::build(cloud, timing, true)
    }

    fn build(cloud: Arc<InMemoryProvider>, timing: SimTiming, repeat: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                cloud,
                timing,
                origin: Instant::now(),
                repeat,
                state: Mutex::new(SimState::default()),
            }),
        }
    }

    /// Injects a fault into the calls `call` of `address`; faults queue up in order.
    pub fn inject(&self, address: &Address, call: Call, fault: Fault) {
        self.inner
            .lock()
            .faults
            .entry((address.clone(), call))
            .or_default()
            .push_back(fault);
    }

    /// The cloud.
    pub fn cloud(&self) -> &Arc<InMemoryProvider> {
        &self.inner.cloud
    }

    /// The timings.
    pub fn timing(&self) -> &SimTiming {
        &self.inner.timing
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner.lock().calls.clone()
    }

    /// The calls of one address.
    pub fn calls_of(&self, address: &Address) -> Vec<CallRecord> {
        self.calls()
            .into_iter()
            .filter(|c| &c.address == address)
            .collect()
    }

    /// The most calls that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.lock().max_in_flight
    }

    /// Addresses that had two calls in flight at once (should be none).
    pub fn overlaps(&self) -> Vec<Address> {
        self.inner.lock().overlaps.clone()
    }

    /// The sensitive input each create received.
    pub fn inputs(&self) -> BTreeMap<Address, Option<Sensitive>> {
        self.inner.lock().inputs.clone()
    }

    /// Time since the provider was made.
    pub fn elapsed(&self) -> Duration {
        self.inner.elapsed()
    }
}

impl Provider for SimProvider {
    fn kinds(&self) -> &[Kind] {
        Kind::ALL
    }

    async fn observe(&self, scope: &Scope) -> Result<ObservedState, ProviderError> {
        Ok(self.inner.cloud.observe_now(scope))
    }

    async fn get(&self, request: &GetRequest<'_>) -> Result<Option<Observed>, ProviderError> {
        let inner = &*self.inner;
        let mut guard = inner.enter(request.address, Call::Get);
        tokio::time::sleep(inner.timing.get).await;
        if let Injected::Fail(e) = inner.take_fault(request.address, Call::Get) {
            guard.ok = Some(false);
            return Err(e);
        }
        let now = Instant::now();
        {
            let mut s = inner.lock();
            if let Some((until, o)) = s.deleting.get(request.address) {
                if now < *until {
                    guard.ok = Some(true);
                    return Ok(Some(o.clone()));
                }
                s.deleting.remove(request.address);
            }
        }
        let found = inner.cloud.get_now(request).map(|mut o| {
            o.state = Some(inner.state_of(request.address, now).to_owned());
            o
        });
        guard.ok = Some(true);
        Ok(found)
    }

    async fn create(&self, request: &CreateRequest<'_>) -> Result<Created, ProviderError> {
        let inner = &*self.inner;
        let address = request.address;
        let mut guard = inner.enter(address, Call::Create);
        tokio::time::sleep(inner.timing.call_for(address)).await;
        let injected = inner.take_fault(address, Call::Create);
        if let Injected::Fail(e) = injected {
            guard.ok = Some(false);
            return Err(e);
        }
        if address.kind() == Kind::NodeBootstrap && request.input.is_none() {
            guard.ok = Some(false);
            return Err(ProviderError::Invalid {
                address: address.to_string(),
                message: "the configuration file of its `worker_vm` is missing".into(),
            });
        }
        inner
            .lock()
            .inputs
            .insert(address.clone(), request.input.cloned());
        let mut created = match inner.cloud.create_now(request) {
            Ok(c) => c,
            Err(e) => {
                guard.ok = Some(false);
                return Err(e);
            }
        };
        if inner.repeat {
            let again = inner.cloud.create_now(request)?;
            if again.observed.id != created.observed.id {
                return Err(ProviderError::Internal {
                    message: format!("`{address}` was created twice"),
                });
            }
        }
        let now = Instant::now();
        let ready_at = *inner
            .lock()
            .ready_at
            .entry(address.clone())
            .or_insert(now + inner.timing.ready_for(address));
        created.observed.state = Some(
            if ready_at > now {
                pending_state(address.kind())
            } else {
                final_state(address.kind())
            }
            .to_owned(),
        );
        if let Injected::LoseAnswer = injected {
            guard.ok = Some(false);
            return Err(lost_answer());
        }
        guard.ok = Some(true);
        Ok(created)
    }

    async fn update(&self, request: &UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let inner = &*self.inner;
        let mut guard = inner.enter(request.address, Call::Update);
        tokio::time::sleep(inner.timing.call_for(request.address)).await;
        let injected = inner.take_fault(request.address, Call::Update);
        if let Injected::Fail(e) = injected {
            guard.ok = Some(false);
            return Err(e);
        }
        let mut updated = match inner.cloud.update_now(request) {
            Ok(o) => o,
            Err(e) => {
                guard.ok = Some(false);
                return Err(e);
            }
        };
        updated.state = Some(final_state(request.address.kind()).to_owned());
        if let Injected::LoseAnswer = injected {
            guard.ok = Some(false);
            return Err(lost_answer());
        }
        guard.ok = Some(true);
        Ok(updated)
    }

    async fn delete(&self, request: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let inner = &*self.inner;
        let address = request.address;
        let mut guard = inner.enter(address, Call::Delete);
        tokio::time::sleep(inner.timing.call_for(address)).await;
        let injected = inner.take_fault(address, Call::Delete);
        if let Injected::Fail(e) = injected {
            guard.ok = Some(false);
            return Err(e);
        }
        let existing = inner.cloud.get_now(&GetRequest {
            stack: request.stack,
            address,
            region: request.region,
            id: Some(request.id),
        });
        if let Err(e) = inner.cloud.delete_now(request) {
            guard.ok = Some(false);
            return Err(e);
        }
        if inner.repeat {
            inner.cloud.delete_now(request)?;
        }
        let gone = inner
            .timing
            .gone
            .get(&address.kind())
            .copied()
            .unwrap_or_default();
        {
            let mut s = inner.lock();
            s.ready_at.remove(address);
            if let Some(mut o) = existing
                && !gone.is_zero()
            {
                o.state = Some(
                    if address.kind() == Kind::Instance {
                        "TERMINATING"
                    } else {
                        "DELETING"
                    }
                    .to_owned(),
                );
                s.deleting
                    .insert(address.clone(), (Instant::now() + gone, o));
            }
        }
        if let Injected::LoseAnswer = injected {
            guard.ok = Some(false);
            return Err(lost_answer());
        }
        guard.ok = Some(true);
        Ok(())
    }
}
