//! The progress events of a run and where they go: the CLI renders them (progress bars,
//! plain lines, `--output json`); the executor never prints.

use std::sync::{Arc, Mutex};

use pexspec_graph::{Address, Kind};
use pexspec_plan::{Action, ErrorClass};
use serde::Serialize;

use crate::error::{Failure, serialize_class};
use crate::report::{Outcome, Report};

/// One thing that happened during a run. `at_ms` is the time since the run started. In JSON
/// (`serde_json::to_string`) each event is one flat object tagged by `"event"`, e.g.
/// `{"event":"step_started","at_ms":1200,"address":"vcn[eu-zurich-1]","kind":"vcn","action":"create"}`.
///
/// No event holds a secret: desired states only hold `{"$secret": ...}` references, and
/// events carry addresses, states and error messages, never request bodies.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run starts.
    PlanStarted {
        /// Time since the start.
        at_ms: u64,
        /// Steps to run (changes other than noop, plus waits for pending resources).
        steps: usize,
        /// Resources already up to date.
        unchanged: usize,
        /// The bound on API calls in flight.
        parallelism: usize,
        /// The estimated critical path: no run can be shorter (with the estimates' figures).
        estimated_critical_path_ms: u64,
    },
    /// A step sends its first call.
    StepStarted {
        /// Time since the start.
        at_ms: u64,
        /// The resource.
        address: Address,
        /// Its kind.
        kind: Kind,
        /// What the step does.
        action: Action,
    },
    /// A call failed with a retryable error; it is sent again after `delay_ms`.
    StepRetrying {
        /// Time since the start.
        at_ms: u64,
        /// The resource.
        address: Address,
        /// The attempt that comes next (2 for the first retry).
        attempt: u32,
        /// The class of the error.
        #[serde(serialize_with = "serialize_class")]
        class: ErrorClass,
        /// The error.
        error: String,
        /// The delay before the next attempt.
        delay_ms: u64,
    },
    /// A step waits for a lifecycle state (sent when the state seen changes).
    StepWaiting {
        /// Time since the start.
        at_ms: u64,
        /// The resource.
        address: Address,
        /// The state last reported (`IMPORTING`, `PROVISIONING`, `SYNCING`...).
        state: Option<String>,
    },
    /// A step ended: done, failed or aborted.
    StepFinished {
        /// Time since the start.
        at_ms: u64,
        /// The resource.
        address: Address,
        /// What the step did.
        action: Action,
        /// How it ended.
        outcome: Outcome,
        /// From its first call to its end.
        duration_ms: u64,
        /// Why it failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<Failure>,
    },
    /// A step will not run because a step it depends on failed.
    StepSkipped {
        /// Time since the start.
        at_ms: u64,
        /// The resource.
        address: Address,
        /// What the step would have done.
        action: Action,
        /// The failed step it depends on (directly or not).
        because: Address,
    },
    /// The run was asked to stop: `hard: false` stops starting steps and lets the ones in
    /// flight finish; `hard: true` abandons them.
    Cancelled {
        /// Time since the start.
        at_ms: u64,
        /// Whether in-flight steps are abandoned.
        hard: bool,
        /// Steps in flight at that moment.
        in_flight: usize,
    },
    /// The first failure stopped the run from starting more steps (`fail_fast`).
    Stopping {
        /// Time since the start.
        at_ms: u64,
        /// The failed step.
        because: Address,
    },
    /// The run ended.
    Summary {
        /// Time since the start.
        at_ms: u64,
        /// The report.
        report: Box<Report>,
    },
}

impl Event {
    /// The time since the start of the run, in milliseconds.
    pub fn at_ms(&self) -> u64 {
        match self {
            Event::PlanStarted { at_ms, .. }
            | Event::StepStarted { at_ms, .. }
            | Event::StepRetrying { at_ms, .. }
            | Event::StepWaiting { at_ms, .. }
            | Event::StepFinished { at_ms, .. }
            | Event::StepSkipped { at_ms, .. }
            | Event::Cancelled { at_ms, .. }
            | Event::Stopping { at_ms, .. }
            | Event::Summary { at_ms, .. } => *at_ms,
        }
    }

    /// The resource the event is about, if any.
    pub fn address(&self) -> Option<&Address> {
        match self {
            Event::StepStarted { address, .. }
            | Event::StepRetrying { address, .. }
            | Event::StepWaiting { address, .. }
            | Event::StepFinished { address, .. }
            | Event::StepSkipped { address, .. } => Some(address),
            _ => None,
        }
    }
}

/// Where events go. Sending must not block: the coordinator calls it between steps.
pub trait EventSink {
    /// Receives one event.
    fn emit(&mut self, event: Event);
}

/// No events.
impl EventSink for () {
    fn emit(&mut self, _event: Event) {}
}

/// Collects the events.
impl EventSink for Vec<Event> {
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

/// Forwards to a closure: `FnSink(|event| ...)`.
pub struct FnSink<F>(pub F);

impl<F: FnMut(Event)> EventSink for FnSink<F> {
    fn emit(&mut self, event: Event) {
        (self.0)(event);
    }
}

/// Forwards to a borrowed sink.
impl<S: EventSink + ?Sized> EventSink for &mut S {
    fn emit(&mut self, event: Event) {
        (**self).emit(event);
    }
}

/// Forwards to a channel (the CLI's renderer task); a closed channel drops the event.
impl EventSink for tokio::sync::mpsc::UnboundedSender<Event> {
    fn emit(&mut self, event: Event) {
        let _ = self.send(event);
    }
}

/// A shared list of events, readable while the run goes on (tests).
#[derive(Clone, Debug, Default)]
pub struct EventLog(Arc<Mutex<Vec<Event>>>);

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl EventSink for EventLog {
    fn emit(&mut self, event: Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}
