//! Crash safety for `pexspec apply` (DESIGN.md §7): the journal and the locks.
//!
//! ## The journal
//!
//! [`Journal::open`] opens (or creates) `journal.db` in the state directory (`.pexspec/`
//! beside the spec, see [`state_dir`]): SQLite in WAL mode with `synchronous=FULL`, so an
//! intent is on disk before its call is sent. It records
//!
//! - **runs**: when, which command, which stack, the spec's hash, who;
//! - **calls**: each create, update and delete, its intent (address, kind, region, action,
//!   retry token) before it is sent and its result (outcome, resource id, error class)
//!   after. Never a request body, never an error message: only what the next run needs;
//! - **sensitive outputs**: the Conferencing Node configuration file a `worker_vm` create
//!   returns once, sealed with AES-256-GCM under a key kept in a separate `journal.key`
//!   (see [`Journal`] for why);
//! - **work requests in flight**: address, region and work request id, so a run after a
//!   crash polls them instead of starting the operation again.
//!
//! A [`RunJournal`] (from [`Journal::begin_run`]) is what the executor is given: it
//! implements [`pexspec_exec::CallJournal`] and [`pexspec_exec::SensitiveSink`]. Before
//! planning, [`Journal::reconcile`] turns the creates a crashed run left without an answer
//! into [`pexspec_plan::ObservedState::pending`] entries, so the executor polls for them
//! instead of creating them twice.
//!
//! ## The locks
//!
//! [`LocalLock`] is a file, `.pexspec/lock`, created atomically with the holder's name,
//! host, pid, command and start time; [`OciLock`] is the same record written to an Object
//! Storage object with `if-none-match: *`, for teams ([`OciLockUrl`] parses
//! `oci://[NAMESPACE@]BUCKET/OBJECT`). A second apply is refused with
//! [`LockError::Held`], which names the holder and the lock's age and says when it is stale.
//!
//! Files are private: the state directory is made `0700`, the database, its WAL and the key
//! `0600`. The crate never prints.

mod error;
pub mod fsutil;
mod journal;
pub mod lock;
mod seal;
mod time;

pub use error::JournalError;
pub use journal::{
    CallRecord, CallState, Journal, OpenCreate, Reconciled, RunId, RunInfo, RunJournal, RunRecord,
    RunStatus, WorkRequestRecord, spec_hash,
};
pub use lock::{
    DeleteOutcome, Holder, LocalLock, LockError, LockStatus, ObjectStore, OciLock, OciLockUrl,
    OciObjectStore, PutOutcome, StoreError, StoredObject,
};
pub use time::format_age;

use std::path::{Path, PathBuf};

/// The journal database's file name in the state directory.
pub const DB_FILE: &str = "journal.db";
/// The journal key's file name in the state directory.
pub const KEY_FILE: &str = "journal.key";
/// The local lock's file name in the state directory.
pub const LOCK_FILE: &str = "lock";

/// The state directory of a spec: `.pexspec/` beside it (where `--sim` keeps its cloud too).
pub fn state_dir(spec: &Path) -> PathBuf {
    spec.parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join(".pexspec")
}
