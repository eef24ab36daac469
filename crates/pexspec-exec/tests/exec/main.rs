//! The executor's tests, one binary: scheduling, failures and retries, cancellation,
//! convergence (apply then plan is empty), events, the call journal hook, and properties
//! over random graphs. All on paused tokio time against `SimProvider`.

mod cancel;
mod convergence;
mod events;
mod failures;
mod journal;
mod properties;
mod scheduling;
mod support;
