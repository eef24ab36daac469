//! The executor: runs a plan's steps concurrently in dependency order against the providers,
//! and reports what happened (DESIGN.md §7).
//!
//! Start with [`execute`] (or [`Executor`] to add a [`CallJournal`] that records every
//! mutating call before it is sent, a [`SensitiveSink`] that keeps sensitive outputs, and a
//! cancellation handle). The coordinator and its rules are described in the
//! [`executor`](crate::executor) module; [`critical_path`] computes the bound no run can
//! beat; [`testing::SimProvider`] is a provider with simulated latencies and injected faults
//! for tests and benchmarks.
//!
//! The crate knows no terminal and no concrete cloud: progress goes out as [`Event`]s, which
//! the CLI renders; providers come in as [`pexspec_plan::DynProvider`]s.

pub mod cancel;
pub mod durations;
pub mod error;
pub mod events;
pub mod executor;
pub mod journal;
pub mod lifecycle;
pub mod options;
pub mod ratelimit;
pub mod report;
pub mod sensitive;
pub mod steps;
pub mod testing;

pub use cancel::{Cancel, CancelLevel};
pub use durations::{Durations, Operation, default_estimate};
pub use error::{ExecError, Failure, StepError, class_name};
pub use events::{Event, EventLog, EventSink, FnSink};
pub use executor::{Executor, execute};
pub use journal::{
    CallAction, CallId, CallIntent, CallJournal, CallOutcome, CallResult, NoJournal,
};
pub use lifecycle::{Lifecycle, lifecycle};
pub use options::{ExecOptions, PollPolicy, Priority, RetryPolicy};
pub use ratelimit::{RateLimit, service_of};
pub use report::{Outcome, Report, StepReport};
pub use sensitive::{MemorySensitiveSink, SENSITIVE_OUTPUT_KINDS, SensitiveSink, SinkError};
pub use steps::{ChainLink, CriticalPath, critical_path, is_step};
