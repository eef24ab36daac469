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

impl JournalError {
    /// Whether the journal's database file is damaged or is not a database: SQLite's
    /// `database disk image is malformed` or `file is not a database`, or a row that cannot
    /// be read back.
    pub fn is_corrupt(&self) -> bool {
        match self {
            JournalError::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            JournalError::Corrupt { .. } => true,
            _ => false,
        }
    }

    /// What a user should do about this error, when there is more to say than the message:
    /// for a damaged journal, what is lost by moving it aside, how, and what the next apply
    /// does without it. `None` for the other errors.
    pub fn advice(&self) -> Option<String> {
        if !self.is_corrupt() {
            return None;
        }
        let path = match self {
            JournalError::Sqlite { path, .. } | JournalError::Corrupt { path, .. } => path,
            _ => return None,
        };
        let db = path.display();
        Some(format!(
            "the journal `{db}` is damaged and cannot be used. Move it aside (keep it for a bug report), \
             with its write-ahead log and index if they are there:\n\
             \n    mv {db} {db}.damaged\n    mv {db}-wal {db}-wal.damaged\n    mv {db}-shm {db}-shm.damaged\n\
             \nWhat is lost with it is the journal's own record: the history of past runs, the creates a \
             crashed run left without an answer and the work requests it left in flight (the next apply \
             finds those resources anyway), and the sealed configuration files of Conferencing Nodes \
             registered but not yet configured (those nodes are registered again). Nothing in the cloud \
             is lost: the next apply re-discovers every resource of the stack by its tags \
             (`pexspec-stack`, `pexspec-address`) and plans from what it finds"
        ))
    }
}
