//! The journal's error. Messages name files and addresses, never a sensitive value.

use std::path::PathBuf;

use pexspec_graph::Address;

/// Why the journal could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file or directory could not be created, read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`create`, `read`, `write`...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("the journal `{}` failed: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// SQLite could not put the journal in write-ahead-log mode.
    #[error(
        "the journal `{}` cannot use a write-ahead log (SQLite kept journal mode `{mode}`): keep the state directory on a local file system",
        path.display()
    )]
    NoWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// The journal was written by a newer pexspec.
    #[error(
        "the journal `{}` has schema version {found}; this pexspec knows up to {known}: use a newer pexspec",
        path.display()
    )]
    Schema {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The key file may be read by other users.
    #[error(
        "the journal key `{}` may be read by other users (mode {mode:03o}): run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file is not a journal key.
    #[error("`{}` is not a pexspec journal key: {problem}", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },
    /// The journal holds sealed outputs but their key is gone.
    #[error(
        "the journal holds sealed sensitive outputs but its key `{}` is missing: restore it from where the state directory was copied",
        path.display()
    )]
    KeyMissing {
        /// The key file that should exist.
        path: PathBuf,
    },
    /// A sealed output could not be opened.
    #[error(
        "the sensitive output of `{address}` in the journal cannot be opened: it was sealed with another key than `{}`, or altered",
        key.display()
    )]
    Unseal {
        /// The address whose output it is.
        address: Address,
        /// The key file.
        key: PathBuf,
    },
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A row of the journal could not be read back.
    #[error("the journal `{}` holds an unreadable {what}: `{value}`", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What was read (an address, an action...).
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// A result was given for a call the journal has no intent of.
    #[error("the journal has no intent #{id} in this run")]
    UnknownCall {
        /// The call id.
        id: u64,
    },
}
