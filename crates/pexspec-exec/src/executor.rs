//! The coordinator: runs a plan's steps against the providers, concurrently and in
//! dependency order, and reports what happened.
//!
//! ## Overview
//!
//! One coordinator (this module) owns every decision; provider calls are futures it polls
//! side by side, never tasks of their own (cargo's `job_queue` shape). Each step is a small
//! state machine:
//!
//! 1. **Blocked** until every step it depends on is done; then **ready**, in a queue ordered
//!    by priority: the longest chain of estimated durations that starts at the step
//!    ([`Priority::CriticalPath`]), ties broken by address. The slow chains (OVA upload →
//!    image import → instance launch → Management Node bootstrap → node sync) start first.
//! 2. **Running**: it sends its call (create, update, delete; a replace is a delete, a wait
//!    until gone, then a create) when a slot of `parallelism` is free and the token bucket of
//!    its (service, region) has a token. Calls that change something get slots and tokens
//!    before polls.
//! 3. **Waiting**: a call that returns a transient lifecycle state (`IMPORTING`,
//!    `PROVISIONING`, `PENDING`, `SYNCING`...) is followed by polls of `get`, spaced from the
//!    operation's estimated duration. Between polls the step holds **no** slot: a 25-minute
//!    image import costs one short call every 30 seconds, not one of ten workers for 25
//!    minutes (as in Terraform).
//!    A pending resource (an earlier run's create, not listed yet) is polled the same way;
//!    if it is still not listed after [`ExecOptions::visibility_grace`], that create did not
//!    take effect, and the step sends it (same retry token) instead of failing.
//! 4. **Done**, **failed**, **skipped** (a step it depends on failed), **not started** (the
//!    run was cancelled or stopped) or **aborted** (hard cancel while in flight).
//!
//! ## Failures and retries
//!
//! A call that fails with a retryable error ([`ProviderError::is_retryable`]: network,
//! throttled, conflict, 5xx) is sent again after an exponential backoff with full jitter, or
//! after the provider's `Retry-After`, at most [`RetryPolicy::max_attempts`] times. A 429
//! also halves the rate of its (service, region) bucket, which recovers slowly with each
//! success. Before a create is sent again after an error that may have hidden its success
//! (anything but a 429), the step asks the provider whether the resource exists (`get`
//! without an id): if it does, the step adopts it instead of creating it twice.
//!
//! A step that fails skips only the steps that depend on it, transitively; every other
//! branch runs to its end (turborepo's `StopExecution::DependentTasks`, cargo's
//! `--keep-going`). With [`ExecOptions::fail_fast`] the first failure stops the start of any
//! further step (`AllTasks`); steps in flight finish.
//!
//! ## Cancellation
//!
//! The first [`Cancel::cancel`] stops starting steps and lets those in flight finish,
//! retries and waits included, so the report says exactly what was done. The second one
//! abandons them: their futures are dropped, their outcome is `aborted`, and the next plan
//! observes what the cloud did with them (the provider contract makes that safe).
//!
//! ## References and sensitive outputs
//!
//! A step's desired state is resolved right before its call, against the observed state
//! updated with every result of this run ([`resolve_for_apply`]). A `worker_vm` create's
//! configuration file is handed to the [`SensitiveSink`] as soon as the create returns, before
//! the step is done, and passed to the dependent `node_bootstrap` create as its input. A
//! `node_bootstrap` whose `worker_vm` was created by an earlier run (a noop in this plan)
//! gets the file the sink kept then ([`SensitiveSink::load`]).
//!
//! ## The journal
//!
//! With a [`CallJournal`] ([`Executor::journal`]), every create, update and delete is
//! recorded before it is sent ([`CallJournal::intent`], which must succeed or the call is
//! not sent and the step fails) and its answer after ([`CallJournal::result`]), once a
//! sensitive output is kept. Polls are not recorded. A create whose intent has no result
//! (a crash, a hard cancel) is reported by the journal as pending to the next run, which
//! polls for it instead of creating it again (see [`journal`](crate::journal)).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use pexspec_graph::{Address, Graph, Node};
use pexspec_plan::{
    Action, Change, CreateRequest, Created, DeleteRequest, DynProvider, GetRequest, Observed,
    ObservedState, Plan, ProviderError, Sensitive, UpdateRequest, resolve_for_apply, retry_token,
};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cancel::{Cancel, CancelLevel};
use crate::durations::Operation;
use crate::error::{ExecError, Failure, StepError};
use crate::events::{Event, EventSink};
use crate::journal::{
    CallAction, CallId, CallIntent, CallJournal, CallOutcome, CallResult, NoJournal,
};
use crate::lifecycle::{Lifecycle, lifecycle};
use crate::options::{ExecOptions, Jitter, Priority};
use crate::ratelimit::Buckets;
use crate::report::{Outcome, Report, StepReport};
use crate::sensitive::{MemorySensitiveSink, SENSITIVE_OUTPUT_KINDS, SensitiveSink};
use crate::steps::{StepGraph, ms};

#[cfg(doc)]
use crate::options::RetryPolicy;

/// Runs `plan` (made from `graph` against `observed`) with the given providers and options,
/// sending progress to `events`. Sensitive outputs are kept in memory for the run; use
/// [`Executor`] to give a journal and a cancellation handle.
///
/// Returns `Err` only when the run cannot start (a stale or malformed plan, a kind no
/// provider handles): nothing was changed then. Step failures are in the [`Report`].
pub async fn execute<E: EventSink>(
    plan: &Plan,
    graph: &Graph,
    observed: &ObservedState,
    providers: &[Box<dyn DynProvider>],
    options: ExecOptions,
    events: E,
) -> Result<Report, ExecError> {
    Executor::new(plan, graph, observed, providers)
        .options(options)
        .run(events)
        .await
}

/// A run to be started: the plan, what it was made from, the providers, and the optional
/// parts (options, a sensitive-output sink, a cancellation handle).
pub struct Executor<'a> {
    plan: &'a Plan,
    graph: &'a Graph,
    observed: &'a ObservedState,
    providers: &'a [Box<dyn DynProvider>],
    options: ExecOptions,
    sensitive: Option<&'a dyn SensitiveSink>,
    journal: Option<&'a dyn CallJournal>,
    cancel: Option<Cancel>,
}

impl<'a> Executor<'a> {
    /// A run of `plan`, made from `graph` against `observed`, with these providers (each kind
    /// goes to the first provider that lists it).
    pub fn new(
        plan: &'a Plan,
        graph: &'a Graph,
        observed: &'a ObservedState,
        providers: &'a [Box<dyn DynProvider>],
    ) -> Self {
        Self {
            plan,
            graph,
            observed,
            providers,
            options: ExecOptions::default(),
            sensitive: None,
            journal: None,
            cancel: None,
        }
    }

    /// Sets the options.
    #[must_use]
    pub fn options(mut self, options: ExecOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets where sensitive outputs are kept (the journal); by default, in memory.
    #[must_use]
    pub fn sensitive_sink(mut self, sink: &'a dyn SensitiveSink) -> Self {
        self.sensitive = Some(sink);
        self
    }

    /// Sets the journal that records each create, update and delete before it is sent and
    /// its answer after; by default, nothing is recorded.
    #[must_use]
    pub fn journal(mut self, journal: &'a dyn CallJournal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Sets the cancellation handle.
    #[must_use]
    pub fn cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Runs the plan to its end (or its cancellation) and returns the report, which is also
    /// the last event sent.
    pub async fn run<E: EventSink>(self, events: E) -> Result<Report, ExecError> {
        let fallback = MemorySensitiveSink::new();
        let sink: &dyn SensitiveSink = match self.sensitive {
            Some(s) => s,
            None => &fallback,
        };
        let journal: &dyn CallJournal = self.journal.unwrap_or(&NoJournal);
        let cancel = self.cancel.as_ref().map(Cancel::subscribe);
        let mut run = Run::new(&self, sink, journal, events)?;
        run.drive(cancel).await;
        Ok(run.finish_run())
    }
}

/// Kinds that are states of other resources rather than resources (the installation wizard
/// run on the Management Node, the configuration file a Conferencing Node took, the peering
/// of two RPCs): their delete only forgets them, and they stay listed until the resources
/// they are a state of go (OCI has no disconnect: a peering ends with either RPC), so a
/// delete does not wait for them to disappear.
const GONE_WITH_PARENT: &[pexspec_graph::Kind] = &[
    pexspec_graph::Kind::ManagementBootstrap,
    pexspec_graph::Kind::NodeBootstrap,
    pexspec_graph::Kind::RpcPeering,
];

/// Which call a step sends next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Send the delete (delete, or the first half of a replace).
    Delete,
    /// Poll until the deleted resource is gone.
    DeleteWait,
    /// Send the create.
    Create,
    /// Ask whether a create whose answer was lost took effect (before sending it again).
    Probe,
    /// Poll until the created resource is ready.
    CreateWait,
    /// Send the update.
    Update,
    /// Poll until the updated resource is ready.
    UpdateWait,
    /// Poll until a resource created by an earlier run is listed and ready.
    Appear,
    /// Poll an observed resource by its id until it leaves its transitional state (the
    /// plan's `wait`).
    Settle,
}

impl Phase {
    fn operation(self) -> Operation {
        match self {
            Phase::Delete | Phase::DeleteWait => Operation::Delete,
            Phase::Update | Phase::UpdateWait => Operation::Update,
            Phase::Create | Phase::Probe | Phase::CreateWait | Phase::Appear | Phase::Settle => {
                Operation::Create
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Blocked,
    Ready,
    Running,
    Done,
}

/// The result of one provider call.
enum OpResult {
    Created(Result<Created, ProviderError>),
    Updated(Result<Observed, ProviderError>),
    Deleted(Result<(), ProviderError>),
    Got(Result<Option<Observed>, ProviderError>),
}

type OpFuture<'r> = Pin<Box<dyn Future<Output = OpResult> + Send + 'r>>;

/// The queue key of a step: priority first (largest remaining path), then a rank that breaks
/// ties (address order, or topological order), then the step.
type QueueKey = (Reverse<u64>, usize, usize);

/// How much priority a due poll gains per unit of time it is overdue.
const POLL_AGING: u64 = 10;

struct Step<'r> {
    change: &'r Change,
    node: Option<&'r Node>,
    provider: &'r dyn DynProvider,
    key: QueueKey,
    status: Status,
    phase: Phase,
    waiting_on: usize,
    /// Attempts so far of the current mutating call.
    attempt: u32,
    /// Failed polls in a row.
    poll_failures: u32,
    calls: u32,
    retries: u32,
    started: Option<Instant>,
    finished: Option<Instant>,
    /// When the current wait began.
    wait_started: Instant,
    /// The last poll interval (zero before the first poll).
    interval: Duration,
    /// When its next call became (or becomes) due.
    due: Instant,
    /// The lifecycle state last reported in an event.
    seen_state: Option<Option<String>>,
    id: Option<String>,
    outcome: Option<Outcome>,
    error: Option<StepError>,
    because: Option<usize>,
    holds_slot: bool,
    /// The journal's id of the mutating call in flight.
    call: Option<(CallId, CallAction)>,
    /// A pending resource that never appeared, created by this run instead.
    created_instead: bool,
    /// Delete halves (of replaces, or deletes) this step's delete still waits for.
    del_waiting_on: usize,
    /// A replace whose old resource is observed: its delete comes first.
    deletes_first: bool,
    /// A replace whose old resource is gone: only its create is left.
    deleted_old: bool,
}

impl Step<'_> {
    fn address(&self) -> &Address {
        &self.change.address
    }

    fn region(&self) -> Option<&str> {
        self.change.region.as_deref()
    }

    /// Whether the next call only looks at a resource being waited for.
    fn is_polling(&self) -> bool {
        self.status == Status::Running
            && matches!(
                self.phase,
                Phase::DeleteWait
                    | Phase::CreateWait
                    | Phase::UpdateWait
                    | Phase::Appear
                    | Phase::Settle
            )
    }
}

struct Run<'r, E> {
    options: &'r ExecOptions,
    parallelism: usize,
    stack: &'r str,
    graph: StepGraph<'r>,
    steps: Vec<Step<'r>>,
    state: ObservedState,
    outputs: BTreeMap<Address, Sensitive>,
    sink: &'r dyn SensitiveSink,
    journal: &'r dyn CallJournal,
    queue: BTreeSet<QueueKey>,
    timers: BTreeSet<(Instant, usize)>,
    inflight: Vec<(usize, OpFuture<'r>)>,
    /// Addresses with a running step: no two steps act on one resource at once.
    active: BTreeSet<&'r Address>,
    slots: usize,
    stopping: bool,
    cancelled: Option<bool>,
    buckets: Buckets,
    jitter: Jitter,
    events: E,
    t0: Instant,
    retries: u32,
    calls: u64,
}

fn route<'r>(
    providers: &'r [Box<dyn DynProvider>],
    change: &Change,
) -> Option<&'r dyn DynProvider> {
    providers
        .iter()
        .find(|p| p.kinds().contains(&change.kind))
        .map(|p| p.as_ref())
}

fn retry_after(e: &ProviderError) -> Option<Duration> {
    match e {
        ProviderError::Throttled {
            retry_after_ms: Some(ms),
        } => Some(Duration::from_millis(*ms)),
        _ => None,
    }
}

/// Whether a failed create may still have created the resource (its answer was lost): all
/// but a 429, which the provider refused before acting.
fn may_have_happened(e: &ProviderError) -> bool {
    !matches!(e, ProviderError::Throttled { .. })
}

/// The message of an error from [`resolve_for_apply`], without the class prefix.
fn unresolved(e: ProviderError) -> StepError {
    let message = match e {
        ProviderError::Internal { message } => message,
        other => other.to_string(),
    };
    StepError::Unresolved { message }
}

/// Resolves when one in-flight call ends.
fn next_completion<'f, 'r>(
    inflight: &'f mut Vec<(usize, OpFuture<'r>)>,
) -> impl Future<Output = (usize, OpResult)> + 'f {
    std::future::poll_fn(move |cx| {
        for k in 0..inflight.len() {
            if let Poll::Ready(result) = inflight[k].1.as_mut().poll(cx) {
                let (i, _) = inflight.remove(k);
                return Poll::Ready((i, result));
            }
        }
        Poll::Pending
    })
}

/// Resolves with the new level when the cancellation level changes; never without a handle.
async fn cancel_changed(rx: &mut Option<watch::Receiver<CancelLevel>>) -> CancelLevel {
    if let Some(r) = rx.as_mut()
        && r.changed().await.is_ok()
    {
        return *r.borrow_and_update();
    }
    std::future::pending().await
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

enum Wake {
    Cancel(CancelLevel),
    Done(usize, Box<OpResult>),
    Timer,
}

impl<'r, E: EventSink> Run<'r, E> {
    fn new(
        exec: &'r Executor<'_>,
        sink: &'r dyn SensitiveSink,
        journal: &'r dyn CallJournal,
        events: E,
    ) -> Result<Self, ExecError> {
        let plan = exec.plan;
        let options = &exec.options;
        if plan.stack != exec.graph.stack() {
            return Err(ExecError::StackMismatch {
                plan: plan.stack.clone(),
                graph: exec.graph.stack().to_owned(),
            });
        }
        if options.check_fingerprint {
            let now = exec.observed.fingerprint();
            if now != plan.observed {
                return Err(ExecError::StalePlan {
                    plan: plan.observed.clone(),
                    now,
                });
            }
        }
        let graph = StepGraph::new(plan)?;
        let estimates: Vec<Duration> = graph
            .changes
            .iter()
            .map(|c| options.durations.of_change(c))
            .collect();
        let remaining = graph.remaining(&estimates);
        let mut by_address: Vec<usize> = (0..graph.len()).collect();
        by_address.sort_by(|a, b| graph.changes[*a].address.cmp(&graph.changes[*b].address));
        let mut address_rank = vec![0; graph.len()];
        for (rank, &i) in by_address.iter().enumerate() {
            address_rank[i] = rank;
        }
        let mut topo_rank = vec![0; graph.len()];
        for (rank, &i) in graph.order.iter().enumerate() {
            topo_rank[i] = rank;
        }
        let t0 = Instant::now();
        let mut steps = Vec::with_capacity(graph.len());
        for (i, &change) in graph.changes.iter().enumerate() {
            let node = exec.graph.get(&change.address);
            if node.is_none() && change.action != Action::Delete {
                return Err(ExecError::UnknownAddress {
                    address: change.address.clone(),
                });
            }
            let provider =
                route(exec.providers, change).ok_or(ExecError::NoProvider { kind: change.kind })?;
            let key = match options.priority {
                Priority::CriticalPath => (Reverse(ms(remaining[i])), address_rank[i], i),
                Priority::Topological => (Reverse(0), topo_rank[i], i),
            };
            steps.push(Step {
                change,
                node,
                provider,
                key,
                status: Status::Blocked,
                phase: Phase::Create,
                waiting_on: graph.deps[i].len(),
                attempt: 0,
                poll_failures: 0,
                calls: 0,
                retries: 0,
                started: None,
                finished: None,
                wait_started: t0,
                interval: Duration::ZERO,
                due: t0,
                seen_state: None,
                id: None,
                outcome: None,
                error: None,
                because: None,
                holds_slot: false,
                call: None,
                created_instead: false,
                del_waiting_on: graph.del_deps[i].len(),
                deletes_first: change.action == Action::Replace
                    && (exec.observed.get(&change.address).is_some() || change.id.is_some()),
                deleted_old: false,
            });
        }
        let estimated = graph.longest_chain(&estimates);
        let mut run = Self {
            options,
            parallelism: options.parallelism.max(1),
            stack: exec.graph.stack(),
            graph,
            steps,
            state: exec.observed.clone(),
            outputs: BTreeMap::new(),
            sink,
            journal,
            queue: BTreeSet::new(),
            timers: BTreeSet::new(),
            inflight: Vec::new(),
            active: BTreeSet::new(),
            slots: 0,
            stopping: false,
            cancelled: None,
            buckets: Buckets::new(options.rate_limit.clone()),
            jitter: Jitter::new(options.seed),
            events,
            t0,
            retries: 0,
            calls: 0,
        };
        run.events.emit(Event::PlanStarted {
            at_ms: 0,
            steps: run.steps.len(),
            unchanged: run.graph.unchanged,
            parallelism: run.parallelism,
            estimated_critical_path_ms: estimated.total_ms,
        });
        for i in 0..run.steps.len() {
            if run.can_start(i) {
                run.make_ready(i);
            }
        }
        Ok(run)
    }

    /// Whether step `i` may start: a replace whose old resource goes first once the delete
    /// halves it waits for are done ([`Change::delete_after`]), any other step (or the
    /// create of a replace whose old resource is gone) once its dependencies are done.
    fn can_start(&self, i: usize) -> bool {
        let step = &self.steps[i];
        if step.deletes_first && !step.deleted_old {
            step.del_waiting_on == 0
        } else {
            step.waiting_on == 0
        }
    }

    fn at(&self, now: Instant) -> u64 {
        ms(now.saturating_duration_since(self.t0))
    }

    /// Queues the next call of step `i` for `at`.
    fn schedule(&mut self, i: usize, at: Instant) {
        self.steps[i].due = at;
        self.timers.insert((at, i));
    }

    fn make_ready(&mut self, i: usize) {
        self.steps[i].status = Status::Ready;
        self.queue.insert(self.steps[i].key);
    }

    /// The coordinator loop. Like cargo's `drain_the_queue`, it never leaves early on an
    /// error: every failure is handled in place and the loop goes on until nothing is in
    /// flight and nothing more may start.
    async fn drive(&mut self, mut cancel: Option<watch::Receiver<CancelLevel>>) {
        if let Some(rx) = cancel.as_mut() {
            let level = *rx.borrow_and_update();
            if self.on_cancel(level, Instant::now()) {
                return;
            }
        }
        loop {
            let now = Instant::now();
            while let Some(&(at, i)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.pop_first();
                self.queue.insert(self.steps[i].key);
            }
            let bucket_wake = self.dispatch(now);
            let wake = match (self.timers.first().map(|t| t.0), bucket_wake) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if self.inflight.is_empty() && wake.is_none() {
                break;
            }
            let busy = !self.inflight.is_empty();
            let woke = tokio::select! {
                biased;
                level = cancel_changed(&mut cancel) => Wake::Cancel(level),
                (i, result) = next_completion(&mut self.inflight), if busy => {
                    Wake::Done(i, Box::new(result))
                }
                () = sleep_until(wake) => Wake::Timer,
            };
            match woke {
                Wake::Cancel(level) => {
                    if self.on_cancel(level, Instant::now()) {
                        return;
                    }
                }
                Wake::Done(i, result) => self.on_result(i, *result, Instant::now()),
                Wake::Timer => {}
            }
        }
    }

    /// Handles a cancellation level; true when the run must end now (hard cancel).
    fn on_cancel(&mut self, level: CancelLevel, now: Instant) -> bool {
        let running = self
            .steps
            .iter()
            .filter(|s| s.status == Status::Running)
            .count();
        match level {
            CancelLevel::None => false,
            CancelLevel::Graceful => {
                if self.cancelled.is_none() {
                    self.stopping = true;
                    self.cancelled = Some(false);
                    self.events.emit(Event::Cancelled {
                        at_ms: self.at(now),
                        hard: false,
                        in_flight: running,
                    });
                }
                false
            }
            CancelLevel::Hard => {
                self.stopping = true;
                self.cancelled = Some(true);
                self.events.emit(Event::Cancelled {
                    at_ms: self.at(now),
                    hard: true,
                    in_flight: running,
                });
                self.inflight.clear();
                self.timers.clear();
                for i in 0..self.steps.len() {
                    if self.steps[i].status == Status::Running {
                        self.finish(i, Outcome::Aborted, None, now);
                    }
                }
                true
            }
        }
    }

    /// Sends every call that may go now, in queue order; returns when a bucket that held a
    /// call back will have a token.
    fn dispatch(&mut self, now: Instant) -> Option<Instant> {
        let hold = self.options.hold_slot_while_waiting;
        let mut wake: Option<Instant> = None;
        // Calls that change something go first, in priority order; polls, which only learn,
        // come after them. Under a tight rate limit two hundred nodes polled for their sync
        // must not hold back the creates of the next ones. Polls go by priority too, aged:
        // each second overdue counts as ten seconds more of remaining path, so no poll
        // waits long behind a stream of more urgent ones.
        let (mut keys, mut polls): (Vec<QueueKey>, Vec<QueueKey>) = self
            .queue
            .iter()
            .copied()
            .partition(|k| !self.steps[k.2].is_polling());
        polls.sort_by_key(|k| {
            let overdue = ms(now.saturating_duration_since(self.steps[k.2].due));
            (
                Reverse(k.0.0.saturating_add(overdue.saturating_mul(POLL_AGING))),
                *k,
            )
        });
        keys.extend(polls);
        for key in keys {
            let i = key.2;
            if !self.queue.contains(&key) || self.steps[i].status == Status::Done {
                continue;
            }
            let fresh = self.steps[i].status == Status::Ready;
            if fresh && (self.stopping || self.active.contains(self.steps[i].address())) {
                continue;
            }
            let needs_slot = !hold || fresh;
            if needs_slot && self.slots >= self.parallelism {
                if hold {
                    continue;
                }
                break;
            }
            let (kind, region) = (self.steps[i].change.kind, self.steps[i].region());
            if let Err(at) = self.buckets.try_acquire(kind, region, now) {
                wake = Some(wake.map_or(at, |w| w.min(at)));
                continue;
            }
            self.queue.remove(&key);
            if needs_slot {
                self.slots += 1;
            }
            if fresh {
                self.start(i, now);
                self.steps[i].holds_slot = hold;
            }
            match self.prepare(i) {
                Ok(op) => {
                    self.steps[i].calls += 1;
                    self.calls += 1;
                    self.inflight.push((i, op));
                }
                Err(e) => {
                    if !hold {
                        self.slots -= 1;
                    }
                    self.fail(i, e, now);
                }
            }
        }
        wake
    }

    fn start(&mut self, i: usize, now: Instant) {
        let step = &mut self.steps[i];
        step.status = Status::Running;
        step.wait_started = now;
        let change = step.change;
        step.phase = match change.action {
            Action::Create => Phase::Create,
            Action::Update => Phase::Update,
            Action::Delete => Phase::Delete,
            Action::Replace if step.deleted_old => Phase::Create,
            Action::Replace if step.deletes_first => Phase::Delete,
            Action::Replace => Phase::Create,
            Action::Noop if change.wait.is_some() => {
                step.id = change.id.clone();
                Phase::Settle
            }
            Action::Noop => Phase::Appear,
        };
        self.active.insert(&change.address);
        if step.started.is_some() {
            // The create of a replace whose old resource went first: started already.
            return;
        }
        step.started = Some(now);
        self.events.emit(Event::StepStarted {
            at_ms: ms(now.saturating_duration_since(self.t0)),
            address: change.address.clone(),
            kind: change.kind,
            action: change.action,
        });
    }

    /// The sensitive input of a create: the output of a dependency, from this run or kept
    /// by an earlier one.
    fn input_for(&self, node: &Node) -> Result<Option<Sensitive>, StepError> {
        for dep in &node.depends_on {
            if let Some(s) = self.outputs.get(dep) {
                return Ok(Some(s.clone()));
            }
        }
        for dep in &node.depends_on {
            if SENSITIVE_OUTPUT_KINDS.contains(&dep.kind()) {
                match self.sink.load(dep) {
                    Ok(Some(s)) => return Ok(Some(s)),
                    Ok(None) => {}
                    Err(e) => {
                        return Err(StepError::SensitiveOutput {
                            address: dep.clone(),
                            message: e.message,
                        });
                    }
                }
            }
        }
        Ok(None)
    }

    /// Builds the next call of step `i`, its references resolved against the state as it
    /// is now.
    fn prepare(&mut self, i: usize) -> Result<OpFuture<'r>, StepError> {
        let step = &self.steps[i];
        let provider = step.provider;
        let stack = self.stack.to_owned();
        let address = step.address().clone();
        let region = step.region().map(str::to_owned);
        let missing_node = || StepError::Unresolved {
            message: format!("the spec does not define `{}`", step.change.address),
        };
        match step.phase {
            Phase::Create => {
                let node = step.node.ok_or_else(missing_node)?;
                let desired = resolve_for_apply(&node.desired(), &self.state, &address)
                    .map_err(unresolved)?;
                let token = retry_token(&stack, &address, &desired);
                let input = self.input_for(node)?;
                let region = node.region.clone().or(region);
                let call = self.intent(&CallIntent {
                    address: &address,
                    kind: node.kind(),
                    region: region.as_deref(),
                    action: CallAction::Create,
                    retry_token: Some(&token),
                    resource_id: None,
                })?;
                self.steps[i].call = Some((call, CallAction::Create));
                Ok(Box::pin(async move {
                    let request = CreateRequest {
                        stack: &stack,
                        address: &address,
                        region: region.as_deref(),
                        desired: &desired,
                        retry_token: &token,
                        input: input.as_ref(),
                    };
                    OpResult::Created(provider.create(&request).await)
                }))
            }
            Phase::Update => {
                let node = step.node.ok_or_else(missing_node)?;
                let desired = resolve_for_apply(&node.desired(), &self.state, &address)
                    .map_err(unresolved)?;
                let Some(old) = self.state.get(&address) else {
                    return Err(StepError::Provider {
                        source: ProviderError::NotFound {
                            address: address.to_string(),
                        },
                        attempts: 0,
                    });
                };
                let (id, etag) = (old.id.clone(), old.etag.clone());
                let changed: Vec<String> =
                    step.change.diff.iter().map(|d| d.field.clone()).collect();
                let call = self.intent(&CallIntent {
                    address: &address,
                    kind: step.change.kind,
                    region: region.as_deref(),
                    action: CallAction::Update,
                    retry_token: None,
                    resource_id: Some(&id),
                })?;
                self.steps[i].call = Some((call, CallAction::Update));
                Ok(Box::pin(async move {
                    let request = UpdateRequest {
                        stack: &stack,
                        address: &address,
                        region: region.as_deref(),
                        id: &id,
                        etag: etag.as_deref(),
                        desired: &desired,
                        changed: &changed,
                    };
                    OpResult::Updated(provider.update(&request).await)
                }))
            }
            Phase::Delete => {
                let (id, etag, kind, region) = match self.state.get(&address) {
                    Some(o) => (
                        o.id.clone(),
                        o.etag.clone(),
                        o.kind,
                        o.region.clone().or(region),
                    ),
                    None => match &step.change.id {
                        Some(id) => (id.clone(), None, step.change.kind, region),
                        // Nothing observed to delete: the next poll says it is gone.
                        None => {
                            return Ok(Box::pin(std::future::ready(OpResult::Deleted(Ok(())))));
                        }
                    },
                };
                let call = self.intent(&CallIntent {
                    address: &address,
                    kind,
                    region: region.as_deref(),
                    action: CallAction::Delete,
                    retry_token: None,
                    resource_id: Some(&id),
                })?;
                self.steps[i].id = Some(id.clone());
                self.steps[i].call = Some((call, CallAction::Delete));
                Ok(Box::pin(async move {
                    let request = DeleteRequest {
                        stack: &stack,
                        address: &address,
                        kind,
                        region: region.as_deref(),
                        id: &id,
                        etag: etag.as_deref(),
                    };
                    OpResult::Deleted(provider.delete(&request).await)
                }))
            }
            Phase::DeleteWait
            | Phase::CreateWait
            | Phase::UpdateWait
            | Phase::Probe
            | Phase::Appear
            | Phase::Settle => {
                let id = match step.phase {
                    Phase::Probe | Phase::Appear => None,
                    _ => step.id.clone(),
                };
                Ok(Box::pin(async move {
                    let request = GetRequest {
                        stack: &stack,
                        address: &address,
                        region: region.as_deref(),
                        id: id.as_deref(),
                    };
                    OpResult::Got(provider.get(&request).await)
                }))
            }
        }
    }

    /// Records the intent of a call in the journal; the call is not sent unless it is kept.
    fn intent(&self, call: &CallIntent<'_>) -> Result<CallId, StepError> {
        self.journal.intent(call).map_err(|e| StepError::Journal {
            address: call.address.clone(),
            action: call.action,
            sent: false,
            message: e.message,
        })
    }

    /// Records the answer to the mutating call `id` of step `i` in the journal.
    fn record_result(
        &self,
        i: usize,
        id: CallId,
        action: CallAction,
        result: &OpResult,
    ) -> Result<(), StepError> {
        let step = &self.steps[i];
        let (outcome, resource_id, error) = match result {
            OpResult::Created(Ok(c)) => {
                (CallOutcome::Succeeded, Some(c.observed.id.as_str()), None)
            }
            OpResult::Updated(Ok(o)) => (CallOutcome::Succeeded, Some(o.id.as_str()), None),
            // Deleting what is already gone is success.
            OpResult::Deleted(Ok(())) | OpResult::Deleted(Err(ProviderError::NotFound { .. })) => {
                (CallOutcome::Succeeded, step.id.as_deref(), None)
            }
            OpResult::Created(Err(e)) | OpResult::Updated(Err(e)) => {
                (CallOutcome::of_error(e), None, Some(e))
            }
            OpResult::Deleted(Err(e)) => (CallOutcome::of_error(e), step.id.as_deref(), Some(e)),
            OpResult::Got(_) => return Ok(()),
        };
        let result = CallResult {
            outcome,
            resource_id,
            error,
        };
        self.journal
            .result(id, &result)
            .map_err(|e| StepError::Journal {
                address: step.address().clone(),
                action,
                sent: true,
                message: e.message,
            })
    }

    /// Keeps a create's sensitive output, then records the call's answer in the journal. On
    /// failure the step fails, but what the call did is kept in the run's state.
    fn keep_answer(&mut self, i: usize, mut result: OpResult, now: Instant) -> Option<OpResult> {
        let call = self.steps[i].call.take();
        // The output is returned once: it is kept before anything else happens.
        let output = match &mut result {
            OpResult::Created(Ok(c)) => c.output.take(),
            _ => None,
        };
        let stored = match output {
            Some(output) => {
                let address = self.steps[i].address().clone();
                match self.sink.store(&address, &output) {
                    Ok(()) => {
                        self.outputs.insert(address, output);
                        Ok(())
                    }
                    Err(e) => Err(StepError::SensitiveOutput {
                        address,
                        message: e.message,
                    }),
                }
            }
            None => Ok(()),
        };
        let recorded = match call {
            Some((id, action)) => self.record_result(i, id, action, &result),
            None => Ok(()),
        };
        let Err(error) = stored.and(recorded) else {
            return Some(result);
        };
        match result {
            OpResult::Created(Ok(c)) => {
                self.call_succeeded(i, now);
                self.state.insert(c.observed);
            }
            OpResult::Updated(Ok(o)) => {
                self.call_succeeded(i, now);
                self.state.insert(o);
            }
            OpResult::Deleted(Ok(())) => {
                self.call_succeeded(i, now);
                let address = self.steps[i].address().clone();
                self.state.resources.remove(&address);
            }
            _ => {}
        }
        self.fail(i, error, now);
        None
    }

    fn on_result(&mut self, i: usize, result: OpResult, now: Instant) {
        if !self.options.hold_slot_while_waiting {
            self.slots = self.slots.saturating_sub(1);
        }
        if self.steps[i].status != Status::Running {
            return;
        }
        let Some(result) = self.keep_answer(i, result, now) else {
            return;
        };
        let phase = self.steps[i].phase;
        match (phase, result) {
            (Phase::Create, OpResult::Created(Ok(created))) => {
                self.call_succeeded(i, now);
                self.observed(i, created.observed, Phase::CreateWait, now);
            }
            (Phase::Create, OpResult::Created(Err(e))) => {
                let next = if may_have_happened(&e) {
                    Phase::Probe
                } else {
                    Phase::Create
                };
                self.call_failed(i, e, next, now);
            }
            (Phase::Probe, OpResult::Got(Ok(Some(found)))) => {
                self.call_succeeded(i, now);
                self.observed(i, found, Phase::CreateWait, now);
            }
            (Phase::Probe, OpResult::Got(Ok(None))) => {
                self.call_succeeded(i, now);
                self.steps[i].phase = Phase::Create;
                self.queue.insert(self.steps[i].key);
            }
            (Phase::Update, OpResult::Updated(Ok(updated))) => {
                self.call_succeeded(i, now);
                self.observed(i, updated, Phase::UpdateWait, now);
            }
            (Phase::Update, OpResult::Updated(Err(e))) => {
                self.call_failed(i, e, Phase::Update, now)
            }
            (Phase::Delete, OpResult::Deleted(Ok(())))
            | (Phase::Delete, OpResult::Deleted(Err(ProviderError::NotFound { .. }))) => {
                self.call_succeeded(i, now);
                let address = self.steps[i].address().clone();
                self.state.resources.remove(&address);
                if GONE_WITH_PARENT.contains(&address.kind()) {
                    // Nothing of its own to wait for: it stays listed until its parent goes.
                    self.deleted(i, now);
                    return;
                }
                let step = &mut self.steps[i];
                step.phase = Phase::DeleteWait;
                step.wait_started = now;
                step.interval = Duration::ZERO;
                // Many deletes are done when they return: look once at once.
                self.queue.insert(step.key);
            }
            (Phase::Delete, OpResult::Deleted(Err(e))) => {
                self.call_failed(i, e, Phase::Delete, now)
            }
            (Phase::DeleteWait, OpResult::Got(Ok(found))) => {
                self.call_succeeded(i, now);
                match found {
                    None => self.deleted(i, now),
                    Some(o) if lifecycle(o.state.as_deref()) == Lifecycle::Gone => {
                        self.deleted(i, now);
                    }
                    Some(o) => self.keep_waiting(i, o.state, now),
                }
            }
            (
                Phase::CreateWait | Phase::UpdateWait | Phase::Appear | Phase::Settle,
                OpResult::Got(Ok(Some(o))),
            ) => {
                self.call_succeeded(i, now);
                self.observed(i, o, phase, now);
            }
            (Phase::Settle, OpResult::Got(Ok(None))) => {
                self.call_succeeded(i, now);
                let error = StepError::LifecycleFailed {
                    address: self.steps[i].address().clone(),
                    state: "gone while waited for".to_owned(),
                };
                self.fail(i, error, now);
            }
            (Phase::CreateWait | Phase::UpdateWait | Phase::Appear, OpResult::Got(Ok(None))) => {
                self.call_succeeded(i, now);
                let waited = now.saturating_duration_since(self.steps[i].wait_started);
                if waited >= self.options.visibility_grace
                    && phase == Phase::Appear
                    && self.steps[i].node.is_some()
                {
                    // An earlier run's create that the provider still does not list: it did
                    // not take effect. Create it now, with the same retry token (which
                    // returns the first resource if it did exist after all).
                    let step = &mut self.steps[i];
                    step.created_instead = true;
                    step.phase = Phase::Create;
                    step.attempt = 0;
                    step.interval = Duration::ZERO;
                    step.seen_state = None;
                    self.queue.insert(step.key);
                } else if waited >= self.options.visibility_grace {
                    let error = StepError::NotVisible {
                        address: self.steps[i].address().clone(),
                        waited,
                    };
                    self.fail(i, error, now);
                } else {
                    self.keep_waiting(i, None, now);
                }
            }
            (_, OpResult::Got(Err(e))) => self.poll_failed(i, e, now),
            (_, _) => {
                let error = StepError::Unresolved {
                    message: format!(
                        "internal error: `{}` got the answer of another call",
                        self.steps[i].address()
                    ),
                };
                self.fail(i, error, now);
            }
        }
    }

    fn call_succeeded(&mut self, i: usize, now: Instant) {
        let (kind, region) = (
            self.steps[i].change.kind,
            self.steps[i].change.region.as_deref(),
        );
        self.buckets.succeeded(kind, region, now);
        self.steps[i].poll_failures = 0;
    }

    /// A resource as a call or a poll returned it: done, failed, or wait more.
    fn observed(&mut self, i: usize, o: Observed, wait_phase: Phase, now: Instant) {
        let state = o.state.clone();
        self.steps[i].id = Some(o.id.clone());
        self.state.insert(o);
        match lifecycle(state.as_deref()) {
            Lifecycle::Ready => self.succeeded(i, now),
            Lifecycle::Failed | Lifecycle::Gone => {
                let error = StepError::LifecycleFailed {
                    address: self.steps[i].address().clone(),
                    state: state.unwrap_or_default(),
                };
                self.fail(i, error, now);
            }
            Lifecycle::Pending => {
                let step = &mut self.steps[i];
                if step.phase != wait_phase {
                    step.phase = wait_phase;
                    step.wait_started = now;
                    step.interval = Duration::ZERO;
                }
                self.keep_waiting(i, state, now);
            }
        }
    }

    /// Schedules the next poll, or fails the step once the wait is over its timeout.
    fn keep_waiting(&mut self, i: usize, state: Option<String>, now: Instant) {
        let expected = self
            .options
            .durations
            .estimate(self.steps[i].change.kind, self.steps[i].phase.operation());
        let waited = now.saturating_duration_since(self.steps[i].wait_started);
        if waited > self.options.wait_timeout(expected) {
            let error = StepError::WaitTimeout {
                address: self.steps[i].address().clone(),
                state: state.unwrap_or_else(|| "absent".to_owned()),
                waited,
            };
            self.fail(i, error, now);
            return;
        }
        if self.steps[i].seen_state.as_ref() != Some(&state) {
            self.steps[i].seen_state = Some(state.clone());
            self.events.emit(Event::StepWaiting {
                at_ms: self.at(now),
                address: self.steps[i].address().clone(),
                state,
            });
        }
        let step = &mut self.steps[i];
        let delay = if step.interval.is_zero() {
            self.options.poll.first(expected)
        } else {
            self.options.poll.next(expected, step.interval)
        };
        step.interval = delay;
        self.schedule(i, now + delay);
    }

    /// A mutating call failed: retry after a backoff, or fail the step.
    fn call_failed(&mut self, i: usize, e: ProviderError, next: Phase, now: Instant) {
        self.steps[i].attempt += 1;
        let attempt = self.steps[i].attempt;
        self.retry_or_fail(i, e, attempt, next, now);
    }

    /// A poll failed: poll again after a backoff, or fail the step.
    fn poll_failed(&mut self, i: usize, e: ProviderError, now: Instant) {
        self.steps[i].poll_failures += 1;
        let failures = self.steps[i].poll_failures;
        let phase = self.steps[i].phase;
        self.retry_or_fail(i, e, failures, phase, now);
    }

    fn retry_or_fail(
        &mut self,
        i: usize,
        e: ProviderError,
        attempt: u32,
        next: Phase,
        now: Instant,
    ) {
        let (kind, region) = (
            self.steps[i].change.kind,
            self.steps[i].change.region.as_deref(),
        );
        if matches!(e, ProviderError::Throttled { .. }) {
            self.buckets.throttled(kind, region, now);
        }
        if !e.is_retryable() || attempt >= self.options.retry.max_attempts {
            self.fail(
                i,
                StepError::Provider {
                    source: e,
                    attempts: attempt,
                },
                now,
            );
            return;
        }
        let delay = self
            .options
            .retry
            .delay(attempt, retry_after(&e), self.jitter.unit());
        self.retries += 1;
        let step = &mut self.steps[i];
        step.retries += 1;
        step.phase = next;
        self.events.emit(Event::StepRetrying {
            at_ms: ms(now.saturating_duration_since(self.t0)),
            address: step.change.address.clone(),
            attempt: attempt + 1,
            class: e.class(),
            error: e.to_string(),
            delay_ms: ms(delay),
        });
        self.schedule(i, now + delay);
    }

    /// The old resource is gone: a delete is done, a replace goes on with its create once
    /// what it depends on is done (until then it waits, holding no slot).
    fn deleted(&mut self, i: usize, now: Instant) {
        self.delete_half_done(i);
        let step = &mut self.steps[i];
        if step.change.action == Action::Replace {
            step.phase = Phase::Create;
            step.attempt = 0;
            step.interval = Duration::ZERO;
            step.seen_state = None;
            step.id = None;
            step.deleted_old = true;
            if step.waiting_on == 0 {
                self.queue.insert(step.key);
            } else {
                step.status = Status::Blocked;
                self.active.remove(&step.change.address);
                if step.holds_slot {
                    step.holds_slot = false;
                    self.slots = self.slots.saturating_sub(1);
                }
            }
        } else {
            self.succeeded(i, now);
        }
    }

    /// The delete half of step `i` is done: the replaces whose old resources waited for it
    /// may delete theirs.
    fn delete_half_done(&mut self, i: usize) {
        for k in 0..self.graph.del_dependents[i].len() {
            let d = self.graph.del_dependents[i][k];
            let dep = &mut self.steps[d];
            dep.del_waiting_on = dep.del_waiting_on.saturating_sub(1);
            if dep.status == Status::Blocked && self.can_start(d) {
                self.make_ready(d);
            }
        }
    }

    fn succeeded(&mut self, i: usize, now: Instant) {
        let outcome = match self.steps[i].change.action {
            Action::Create => Outcome::Created,
            Action::Update => Outcome::Updated,
            Action::Replace => Outcome::Replaced,
            Action::Delete => Outcome::Deleted,
            Action::Noop if self.steps[i].created_instead => Outcome::Created,
            Action::Noop => Outcome::Appeared,
        };
        self.finish(i, outcome, None, now);
        for k in 0..self.graph.dependents[i].len() {
            let d = self.graph.dependents[i][k];
            let dep = &mut self.steps[d];
            dep.waiting_on = dep.waiting_on.saturating_sub(1);
            if dep.status == Status::Blocked && self.can_start(d) {
                self.make_ready(d);
            }
        }
    }

    /// Step `i` failed: record it, skip what depends on it, stop if `fail_fast`.
    fn fail(&mut self, i: usize, error: StepError, now: Instant) {
        self.finish(i, Outcome::Failed, Some(error), now);
        let mut skipped = BTreeSet::new();
        // What depends on it, and the replaces whose old resources wait for its delete.
        let mut stack: Vec<usize> = self.graph.dependents[i].clone();
        stack.extend(self.graph.del_dependents[i].iter().copied());
        while let Some(d) = stack.pop() {
            if matches!(self.steps[d].status, Status::Blocked | Status::Ready) && skipped.insert(d)
            {
                stack.extend(self.graph.dependents[d].iter().copied());
                stack.extend(self.graph.del_dependents[d].iter().copied());
            }
        }
        let because = self.steps[i].change.address.clone();
        for d in skipped {
            let key = self.steps[d].key;
            self.queue.remove(&key);
            let step = &mut self.steps[d];
            step.status = Status::Done;
            step.outcome = Some(Outcome::Skipped);
            step.because = Some(i);
            self.events.emit(Event::StepSkipped {
                at_ms: ms(now.saturating_duration_since(self.t0)),
                address: step.change.address.clone(),
                action: step.change.action,
                because: because.clone(),
            });
        }
        if self.options.fail_fast && !self.stopping {
            self.stopping = true;
            self.events.emit(Event::Stopping {
                at_ms: self.at(now),
                because: self.steps[i].address().clone(),
            });
        }
    }

    fn finish(&mut self, i: usize, outcome: Outcome, error: Option<StepError>, now: Instant) {
        let step = &mut self.steps[i];
        step.status = Status::Done;
        step.outcome = Some(outcome);
        step.finished = Some(now);
        let failure = error.as_ref().map(Failure::from);
        step.error = error;
        self.active.remove(&step.change.address);
        if step.holds_slot {
            step.holds_slot = false;
            self.slots = self.slots.saturating_sub(1);
        }
        let duration = step
            .started
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        self.events.emit(Event::StepFinished {
            at_ms: ms(now.saturating_duration_since(self.t0)),
            address: step.change.address.clone(),
            action: step.change.action,
            outcome,
            duration_ms: ms(duration),
            error: failure,
        });
    }

    /// Marks what never started, builds the report and sends it as the last event.
    fn finish_run(mut self) -> Report {
        let now = Instant::now();
        for i in 0..self.steps.len() {
            match self.steps[i].status {
                Status::Blocked | Status::Ready => {
                    let step = &mut self.steps[i];
                    step.status = Status::Done;
                    step.outcome = Some(Outcome::NotStarted);
                }
                // Nothing in flight and nothing scheduled: cannot happen; never hang on it.
                Status::Running => self.finish(i, Outcome::Aborted, None, now),
                Status::Done => {}
            }
        }
        let durations: Vec<Duration> = self
            .steps
            .iter()
            .map(|s| match (s.started, s.finished) {
                (Some(a), Some(b)) => b.saturating_duration_since(a),
                _ => Duration::ZERO,
            })
            .collect();
        let critical_path = self.graph.longest_chain(&durations);
        let mut report = Report {
            created: 0,
            updated: 0,
            replaced: 0,
            deleted: 0,
            appeared: 0,
            unchanged: self.graph.unchanged,
            failed: 0,
            skipped: 0,
            not_started: 0,
            aborted: 0,
            retries: self.retries,
            calls: self.calls,
            cancelled: self.cancelled,
            wall_time_ms: self.at(now),
            critical_path,
            failures: BTreeMap::new(),
            rates: self.buckets.rates(),
            steps: Vec::with_capacity(self.steps.len()),
        };
        for (i, s) in self.steps.iter().enumerate() {
            let outcome = s.outcome.unwrap_or(Outcome::NotStarted);
            match outcome {
                Outcome::Created => report.created += 1,
                Outcome::Updated => report.updated += 1,
                Outcome::Replaced => report.replaced += 1,
                Outcome::Deleted => report.deleted += 1,
                Outcome::Appeared => report.appeared += 1,
                Outcome::Failed => report.failed += 1,
                Outcome::Skipped => report.skipped += 1,
                Outcome::NotStarted => report.not_started += 1,
                Outcome::Aborted => report.aborted += 1,
            }
            let error = s.error.as_ref().map(Failure::from);
            if let Some(f) = &error {
                report.failures.insert(s.address().clone(), f.clone());
            }
            report.steps.push(StepReport {
                address: s.address().clone(),
                kind: s.change.kind,
                action: s.change.action,
                outcome,
                started_at_ms: s.started.map(|t| self.at(t)),
                duration_ms: ms(durations[i]),
                calls: s.calls,
                retries: s.retries,
                error,
                because: s.because.map(|b| self.steps[b].address().clone()),
            });
        }
        self.events.emit(Event::Summary {
            at_ms: report.wall_time_ms,
            report: Box::new(report.clone()),
        });
        report
    }
}
