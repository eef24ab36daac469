//! Simulators of OCI and of the Pexip Management Node: real HTTP servers on loopback
//! that speak the real wire format, keep their state in SQLite and inject faults on demand.
//!
//! Start everything with [`serve`]; it answers with a [`RunningSim`] that knows the
//! endpoints, the OCI config file it wrote and the JSON "ready line" of `pexspec sim serve`.

pub mod oci;
pub mod pexip;
pub mod serve;

pub use oci::clock::SimClock;
pub use oci::faults::{CapacityRule, FaultConfig};
pub use serve::{RunningSim, ServeOptions, serve};

/// What can go wrong while starting or running the simulators.
///
/// Requests never produce a `SimError`: a bad request gets an OCI error response instead.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The options given to [`serve`] are not usable (class: config).
    #[error("invalid simulator option: {0}")]
    Config(String),
    /// A port could not be bound on 127.0.0.1 (class: network).
    #[error("cannot listen on `127.0.0.1:{port}`: {source}")]
    Bind {
        /// The port asked for (0 means any free port).
        port: u16,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The state directory or a file in it could not be written or read (class: internal).
    #[error("cannot use state path `{path}`: {source}")]
    Io {
        /// The path involved.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The SQLite state database failed (class: internal; retryable when it was busy).
    #[error("state database error: {0}")]
    Db(#[from] rusqlite::Error),
}

impl SimError {
    /// Whether trying the same thing again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SimError::Config(_) | SimError::Io { .. } => false,
            SimError::Bind { source, .. } => source.kind() == std::io::ErrorKind::AddrInUse,
            SimError::Db(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
        }
    }

    /// The error class of the house style: `config`, `network` or `internal`.
    pub fn class(&self) -> &'static str {
        match self {
            SimError::Config(_) => "config",
            SimError::Bind { .. } => "network",
            SimError::Io { .. } | SimError::Db(_) => "internal",
        }
    }
}
