//! The journal: runs, calls, sealed sensitive outputs and work requests in one SQLite file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use pexspec_exec::{
    CallAction, CallId, CallIntent, CallJournal, CallOutcome, CallResult, SensitiveSink, SinkError,
    class_name,
};
use pexspec_graph::Address;
use pexspec_plan::{ObservedState, Sensitive};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use crate::JournalError;
use crate::fsutil::{create_private, io_error, private_dir, restrict, sync_dir};
use crate::seal::SealKey;
use crate::time::{from_unix_ms, unix_ms};
use crate::{DB_FILE, KEY_FILE};

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER,
    status      TEXT,
    command     TEXT NOT NULL,
    stack       TEXT NOT NULL,
    spec_hash   TEXT NOT NULL,
    who         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL REFERENCES runs (id),
    seq         INTEGER NOT NULL,
    address     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region      TEXT,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    retry_token TEXT,
    intent_ms   INTEGER NOT NULL,
    result_ms   INTEGER,
    outcome     TEXT CHECK (outcome IN ('succeeded', 'failed', 'unknown', 'found', 'lost')),
    resource_id TEXT,
    error_class TEXT,
    UNIQUE (run, seq)
);
CREATE INDEX IF NOT EXISTS calls_by_address ON calls (address, id);
CREATE TABLE IF NOT EXISTS sensitive_outputs (
    stack     TEXT NOT NULL,
    address   TEXT NOT NULL,
    nonce     BLOB NOT NULL,
    sealed    BLOB NOT NULL,
    stored_ms INTEGER NOT NULL,
    run       INTEGER REFERENCES runs (id),
    PRIMARY KEY (stack, address)
);
CREATE TABLE IF NOT EXISTS work_requests (
    id          TEXT PRIMARY KEY,
    run         INTEGER NOT NULL REFERENCES runs (id),
    stack       TEXT NOT NULL,
    address     TEXT NOT NULL,
    region      TEXT NOT NULL,
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER,
    status      TEXT
);
";

/// The SHA-256 of a spec's text, in hex: what a run records as its spec hash.
pub fn spec_hash(spec: &[u8]) -> String {
    Sha256::digest(spec)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A run's id in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a run records about itself when it begins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// The command (`apply`, `destroy`, `node stop`...).
    pub command: String,
    /// The stack.
    pub stack: String,
    /// The spec's hash ([`spec_hash`]).
    pub spec_hash: String,
    /// Who runs it (`user@host`, as [`crate::Holder::who`]).
    pub who: String,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Every step succeeded.
    Succeeded,
    /// A step failed.
    Failed,
    /// It was cancelled.
    Cancelled,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// A run as the journal holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    /// Its id.
    pub id: RunId,
    /// When it began.
    pub started: SystemTime,
    /// When it ended; `None` for a run in progress or one that crashed.
    pub finished: Option<SystemTime>,
    /// How it ended (`succeeded`, `failed`, `cancelled`).
    pub status: Option<String>,
    /// The command.
    pub command: String,
    /// The stack.
    pub stack: String,
    /// The spec's hash.
    pub spec_hash: String,
    /// Who ran it.
    pub who: String,
}

/// Where a journalled call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallState {
    /// Intent recorded, no answer: the run crashed or was cancelled hard while it was in
    /// flight (or is still running).
    Open,
    /// The provider answered that it was done.
    Succeeded,
    /// The provider refused it.
    Failed,
    /// The answer was lost or unusable: it may have taken effect.
    Unknown,
    /// An open or unknown create that a later observe listed: it did take effect.
    Found,
    /// An open or unknown create that observe still did not list after the grace period:
    /// it did not take effect (or the resource was deleted since); the plan creates it.
    Lost,
}

impl CallState {
    fn parse(outcome: Option<&str>) -> Option<Self> {
        Some(match outcome {
            None => CallState::Open,
            Some("succeeded") => CallState::Succeeded,
            Some("failed") => CallState::Failed,
            Some("unknown") => CallState::Unknown,
            Some("found") => CallState::Found,
            Some("lost") => CallState::Lost,
            Some(_) => return None,
        })
    }
}

/// One journalled call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// Its id.
    pub id: CallId,
    /// The run that sent it.
    pub run: RunId,
    /// Its rank in the run (0, 1, 2... in the order intents were recorded).
    pub seq: u64,
    /// The resource.
    pub address: Address,
    /// The region it went to.
    pub region: Option<String>,
    /// The call.
    pub action: CallAction,
    /// The create's retry token.
    pub retry_token: Option<String>,
    /// When its intent was recorded.
    pub intent_at: SystemTime,
    /// When its result was recorded.
    pub result_at: Option<SystemTime>,
    /// Where it stands.
    pub state: CallState,
    /// The resource id the answer gave (or the one updated or deleted).
    pub resource_id: Option<String>,
    /// The class of the error, when it failed (`network`, `conflict`...).
    pub error_class: Option<String>,
}

/// A create whose answer never came (or came unreadable): it may have taken effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenCreate {
    /// The call.
    pub call: CallId,
    /// The run that sent it.
    pub run: RunId,
    /// The resource.
    pub address: Address,
    /// The region it went to.
    pub region: Option<String>,
    /// Its retry token.
    pub retry_token: Option<String>,
    /// When its intent was recorded.
    pub intent_at: SystemTime,
    /// [`CallState::Open`] or [`CallState::Unknown`].
    pub state: CallState,
}

/// What [`Journal::reconcile`] decided about the creates earlier runs may have made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Creates without an answer that observe lists: they took effect (recorded as found).
    pub found: Vec<Address>,
    /// Recent creates that observe does not list yet: added to the observed state's
    /// `pending`, so the executor polls for them instead of creating them again.
    pub pending: Vec<Address>,
    /// Creates without an answer that observe still does not list after the grace period:
    /// recorded as lost; the plan creates them (with the same retry token).
    pub lost: Vec<Address>,
}

/// An OCI work request a run started and did not see finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkRequestRecord {
    /// The work request's OCID.
    pub work_request_id: String,
    /// The resource it works on.
    pub address: Address,
    /// Its region.
    pub region: String,
    /// When it was recorded.
    pub started: SystemTime,
    /// The run that started it.
    pub run: RunId,
}

type Clock = Box<dyn Fn() -> SystemTime + Send + Sync>;

struct Inner {
    conn: Mutex<Connection>,
    key: SealKey,
    dir: PathBuf,
    db: PathBuf,
    clock: Clock,
}

/// The apply journal of one state directory (`.pexspec/`): `journal.db` (SQLite, WAL,
/// `synchronous=FULL`, `0600`) and `journal.key` (`0600`).
///
/// **Why sealed, and why a key beside the database.** The Conferencing Node configuration
/// file is a secret the Pexip API returns once; a run that crashes after the `worker_vm`
/// create must still have it for the `node_bootstrap`. It is therefore kept, but sealed
/// (AES-256-GCM, a fresh nonce each time, the stack and address bound as associated data)
/// under a random key in its own file. The database alone (copied into a bug report,
/// attached to a CI artifact, backed up, grepped) shows nothing of it; reading it back
/// needs both files, each readable by their owner only. Against someone who can read the
/// user's files the key gives no protection (nor would any key the tool can read without
/// asking), which is why both are `0600` in a `0700` directory, and why the output is
/// removed once its `worker_vm` is deleted. Losing the key loses only these outputs: the
/// journal refuses to make a new key while it holds sealed values, so the loss is reported
/// instead of hidden.
///
/// A `Journal` is a cheap handle: clones share one connection.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("db", &self.inner.db)
            .finish_non_exhaustive()
    }
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn sink_error(e: JournalError) -> SinkError {
    SinkError::new(e.to_string())
}

fn aad(stack: &str, address: &Address) -> Vec<u8> {
    format!("pexspec-journal/1\0{stack}\0{address}").into_bytes()
}

impl Journal {
    /// Opens the journal of the state directory `dir` (`.pexspec/`, see
    /// [`crate::state_dir`]), creating the directory (`0700`), the database (`0600`) and the
    /// key (`0600`) when missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, JournalError> {
        Self::open_with_clock(dir, SystemTime::now)
    }

    /// [`open`](Self::open) with a clock other than the system's (tests).
    pub fn open_with_clock(
        dir: impl AsRef<Path>,
        clock: impl Fn() -> SystemTime + Send + Sync + 'static,
    ) -> Result<Self, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        private_dir(&dir).map_err(io_error("create", &dir))?;
        let db = dir.join(DB_FILE);
        // The file is made here, owner-only, before SQLite opens it: SQLite would create it
        // with the umask's permissions, and gives its WAL and shared-memory files the
        // database file's permissions.
        match create_private(&db) {
            Ok(_) => sync_dir(&dir).map_err(io_error("sync", &dir))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                restrict(&db, 0o600).map_err(io_error("restrict", &db))?;
            }
            Err(e) => return Err(io_error("create", &db)(e)),
        }
        let conn = Connection::open(&db).map_err(sqlite(&db))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sqlite(&db))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(sqlite(&db))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::NoWal { path: db, mode });
        }
        // Every commit (an intent above all) is on disk before it returns.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
        )
        .map_err(sqlite(&db))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&db))?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::Schema {
                path: db,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(sqlite(&db))?;
        for suffix in ["-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            let p = PathBuf::from(p);
            if p.exists() {
                restrict(&p, 0o600).map_err(io_error("restrict", &p))?;
            }
        }
        let sealed: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM sensitive_outputs)", [], |r| {
                r.get(0)
            })
            .map_err(sqlite(&db))?;
        let key = SealKey::load_or_create(&dir.join(KEY_FILE), !sealed)?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                key,
                dir,
                db,
                clock: Box::new(clock),
            }),
        })
    }

    /// Opens the journal of `dir` to read it only (`pexspec plan`, beside a running
    /// `apply`): a read-only connection that writes nothing (no schema, no key, no
    /// permissions) and so can never make a writer wait or fail; in WAL mode a reader never
    /// blocks a writer. A directory without a journal yet gets one, as [`open`](Self::open)
    /// does (no apply can be writing a journal that does not exist).
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Self, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        let db = dir.join(DB_FILE);
        if !db.exists() {
            return Self::open(&dir);
        }
        let conn = Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(sqlite(&db))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sqlite(&db))?;
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(sqlite(&db))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&db))?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::Schema {
                path: db,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let key = SealKey::load_or_create(&dir.join(KEY_FILE), false)?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                key,
                dir,
                db,
                clock: Box::new(SystemTime::now),
            }),
        })
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.inner.db
    }

    /// The key file.
    pub fn key_path(&self) -> &Path {
        self.inner.key.path()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled it back: the connection is still usable.
        self.inner.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> SystemTime {
        (self.inner.clock)()
    }

    fn sqlite(&self) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        sqlite(&self.inner.db)
    }

    fn address(&self, text: &str) -> Result<Address, JournalError> {
        Address::parse(text).map_err(|_| JournalError::Corrupt {
            path: self.inner.db.clone(),
            what: "address",
            value: text.to_owned(),
        })
    }

    /// Records the start of a run; the handle records its calls and sensitive outputs.
    pub fn begin_run(&self, info: &RunInfo) -> Result<RunJournal, JournalError> {
        let now = unix_ms(self.now());
        let id = {
            let conn = self.conn();
            conn.execute(
                "INSERT INTO runs (started_ms, command, stack, spec_hash, who)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![now, info.command, info.stack, info.spec_hash, info.who],
            )
            .map_err(self.sqlite())?;
            conn.last_insert_rowid()
        };
        Ok(RunJournal {
            journal: self.clone(),
            id: RunId(id),
            stack: info.stack.clone(),
            seq: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The runs of `stack` (every stack if `None`), newest first.
    pub fn runs(&self, stack: Option<&str>) -> Result<Vec<RunRecord>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, started_ms, finished_ms, status, command, stack, spec_hash, who
                 FROM runs WHERE ?1 IS NULL OR stack = ?1 ORDER BY id DESC",
            )
            .map_err(self.sqlite())?;
        let rows = stmt
            .query_map(params![stack], |r| {
                Ok(RunRecord {
                    id: RunId(r.get(0)?),
                    started: from_unix_ms(r.get(1)?),
                    finished: r.get::<_, Option<i64>>(2)?.map(from_unix_ms),
                    status: r.get(3)?,
                    command: r.get(4)?,
                    stack: r.get(5)?,
                    spec_hash: r.get(6)?,
                    who: r.get(7)?,
                })
            })
            .map_err(self.sqlite())?;
        rows.collect::<Result<_, _>>().map_err(self.sqlite())
    }

    /// The calls of a run, in the order their intents were recorded.
    pub fn calls(&self, run: RunId) -> Result<Vec<CallRecord>, JournalError> {
        type Row = (
            i64,
            i64,
            String,
            Option<String>,
            String,
            Option<String>,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT id, seq, address, region, action, retry_token, intent_ms, result_ms,
                            outcome, resource_id, error_class
                     FROM calls WHERE run = ?1 ORDER BY seq",
                )
                .map_err(self.sqlite())?;
            stmt.query_map(params![run.0], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            })
            .map_err(self.sqlite())?
            .collect::<Result<_, _>>()
            .map_err(self.sqlite())?
        };
        rows.into_iter()
            .map(
                |(id, seq, address, region, action, token, intent, result, outcome, rid, class)| {
                    Ok(CallRecord {
                        id: CallId(u64::try_from(id).unwrap_or(0)),
                        run,
                        seq: u64::try_from(seq).unwrap_or(0),
                        address: self.address(&address)?,
                        region,
                        action: self.action(&action)?,
                        retry_token: token,
                        intent_at: from_unix_ms(intent),
                        result_at: result.map(from_unix_ms),
                        state: self.state(outcome.as_deref())?,
                        resource_id: rid,
                        error_class: class,
                    })
                },
            )
            .collect()
    }

    fn action(&self, text: &str) -> Result<CallAction, JournalError> {
        CallAction::parse(text).ok_or_else(|| JournalError::Corrupt {
            path: self.inner.db.clone(),
            what: "action",
            value: text.to_owned(),
        })
    }

    fn state(&self, outcome: Option<&str>) -> Result<CallState, JournalError> {
        CallState::parse(outcome).ok_or_else(|| JournalError::Corrupt {
            path: self.inner.db.clone(),
            what: "outcome",
            value: outcome.unwrap_or_default().to_owned(),
        })
    }

    /// The latest call of each address of `stack`, where it is a create that is open,
    /// unknown or succeeded, with the time of its result.
    fn latest_creates(&self, stack: &str) -> Result<Vec<(OpenCreate, Option<i64>)>, JournalError> {
        type Row = (
            i64,
            i64,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT c.id, c.run, c.address, c.region, c.retry_token, c.intent_ms,
                            c.result_ms, c.outcome
                     FROM calls c JOIN runs r ON r.id = c.run
                     WHERE r.stack = ?1
                       AND c.action = 'create'
                       AND (c.outcome IS NULL OR c.outcome IN ('unknown', 'succeeded'))
                       AND c.id = (SELECT MAX(c2.id) FROM calls c2 JOIN runs r2 ON r2.id = c2.run
                                   WHERE r2.stack = ?1 AND c2.address = c.address)
                     ORDER BY c.address",
                )
                .map_err(self.sqlite())?;
            stmt.query_map(params![stack], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .map_err(self.sqlite())?
            .collect::<Result<_, _>>()
            .map_err(self.sqlite())?
        };
        rows.into_iter()
            .map(
                |(id, run, address, region, token, intent, result, outcome)| {
                    Ok((
                        OpenCreate {
                            call: CallId(u64::try_from(id).unwrap_or(0)),
                            run: RunId(run),
                            address: self.address(&address)?,
                            region,
                            retry_token: token,
                            intent_at: from_unix_ms(intent),
                            state: self.state(outcome.as_deref())?,
                        },
                        result,
                    ))
                },
            )
            .collect()
    }

    /// The creates of `stack` that have an intent but no answer (or an answer that was lost
    /// or unreadable), and that nothing has settled since: each may have made a resource.
    /// One per address, the latest.
    pub fn pending(&self, stack: &str) -> Result<Vec<OpenCreate>, JournalError> {
        Ok(self
            .latest_creates(stack)?
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| matches!(c.state, CallState::Open | CallState::Unknown))
            .collect())
    }

    /// Settles what earlier runs may have created, given what observe found now, and adds
    /// the creates to wait for to `observed.pending`. Call it after observing and before
    /// planning; `grace` is how long a cloud may take to list a resource after its create
    /// (the executor's `visibility_grace`).
    ///
    /// For the latest create of each address of `stack`:
    ///
    /// - without an answer (or with a lost one) and listed by observe: it took effect;
    ///   recorded as found;
    /// - without an answer and not listed, its intent younger than `grace`: **pending**:
    ///   the executor polls for it instead of creating it again;
    /// - without an answer and not listed, older than `grace`: it did not take effect (or
    ///   the resource was deleted since); recorded as lost, and the plan creates it again,
    ///   with the same retry token (so OCI returns the first one if it did exist after all);
    /// - answered as done less than `grace` ago and not listed yet: pending too (eventual
    ///   consistency).
    pub fn reconcile(
        &self,
        stack: &str,
        observed: &mut ObservedState,
        grace: Duration,
    ) -> Result<Reconciled, JournalError> {
        let now = unix_ms(self.now());
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut out = Reconciled::default();
        let mut settle: Vec<(CallId, &'static str, Option<String>)> = Vec::new();
        for (create, result_ms) in self.latest_creates(stack)? {
            let open = matches!(create.state, CallState::Open | CallState::Unknown);
            if let Some(found) = observed.get(&create.address) {
                if open {
                    settle.push((create.call, "found", Some(found.id.clone())));
                    out.found.push(create.address);
                }
                continue;
            }
            let since = if open {
                unix_ms(create.intent_at)
            } else {
                result_ms.unwrap_or_else(|| unix_ms(create.intent_at))
            };
            if now.saturating_sub(since) < grace_ms {
                observed.pending.insert(create.address.clone());
                out.pending.push(create.address);
            } else if open {
                settle.push((create.call, "lost", None));
                out.lost.push(create.address);
            }
        }
        if !settle.is_empty() {
            let mut conn = self.conn();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(self.sqlite())?;
            for (id, outcome, resource_id) in &settle {
                tx.execute(
                    "UPDATE calls SET outcome = ?1, result_ms = ?2,
                            resource_id = COALESCE(?3, resource_id)
                     WHERE id = ?4",
                    params![outcome, now, resource_id, id.0],
                )
                .map_err(self.sqlite())?;
            }
            tx.commit().map_err(self.sqlite())?;
        }
        Ok(out)
    }

    /// The sensitive output kept for `address` of `stack`, unsealed.
    pub fn sensitive(
        &self,
        stack: &str,
        address: &Address,
    ) -> Result<Option<Sensitive>, JournalError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn()
            .query_row(
                "SELECT nonce, sealed FROM sensitive_outputs WHERE stack = ?1 AND address = ?2",
                params![stack, address.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sqlite())?;
        let Some((nonce, sealed)) = row else {
            return Ok(None);
        };
        self.inner
            .key
            .open(&aad(stack, address), &nonce, &sealed)
            .map(|plain| Some(Sensitive::new(plain)))
            .ok_or_else(|| JournalError::Unseal {
                address: address.clone(),
                key: self.inner.key.path().to_path_buf(),
            })
    }

    /// The addresses of `stack` whose sensitive output is kept.
    pub fn sensitive_addresses(&self, stack: &str) -> Result<Vec<Address>, JournalError> {
        let texts: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare("SELECT address FROM sensitive_outputs WHERE stack = ?1 ORDER BY address")
                .map_err(self.sqlite())?;
            stmt.query_map(params![stack], |r| r.get(0))
                .map_err(self.sqlite())?
                .collect::<Result<_, _>>()
                .map_err(self.sqlite())?
        };
        texts.iter().map(|t| self.address(t)).collect()
    }

    /// The work requests of `stack` that a run started and did not see finish: poll them
    /// (GetWorkRequest) rather than starting their operation again.
    pub fn work_requests_in_flight(
        &self,
        stack: &str,
    ) -> Result<Vec<WorkRequestRecord>, JournalError> {
        type Row = (String, String, String, i64, i64);
        let rows: Vec<Row> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT id, address, region, started_ms, run FROM work_requests
                     WHERE stack = ?1 AND finished_ms IS NULL ORDER BY started_ms, id",
                )
                .map_err(self.sqlite())?;
            stmt.query_map(params![stack], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(self.sqlite())?
            .collect::<Result<_, _>>()
            .map_err(self.sqlite())?
        };
        rows.into_iter()
            .map(|(id, address, region, started, run)| {
                Ok(WorkRequestRecord {
                    work_request_id: id,
                    address: self.address(&address)?,
                    region,
                    started: from_unix_ms(started),
                    run: RunId(run),
                })
            })
            .collect()
    }
}

/// The journal of one run: what the executor is given as its [`CallJournal`] and
/// [`SensitiveSink`]. Clones share the run.
#[derive(Clone)]
pub struct RunJournal {
    journal: Journal,
    id: RunId,
    stack: String,
    seq: Arc<AtomicU64>,
}

impl fmt::Debug for RunJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunJournal")
            .field("id", &self.id)
            .field("stack", &self.stack)
            .finish_non_exhaustive()
    }
}

impl RunJournal {
    /// The run's id.
    pub fn id(&self) -> RunId {
        self.id
    }

    /// The run's stack.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Records how the run ended.
    pub fn finish(&self, status: RunStatus) -> Result<(), JournalError> {
        let j = &self.journal;
        j.conn()
            .execute(
                "UPDATE runs SET finished_ms = ?1, status = ?2 WHERE id = ?3",
                params![unix_ms(j.now()), status.as_str(), self.id.0],
            )
            .map_err(j.sqlite())?;
        Ok(())
    }

    /// Records that a work request was accepted for `address`: a crash from now on leaves
    /// it in [`Journal::work_requests_in_flight`].
    pub fn work_request_started(
        &self,
        address: &Address,
        region: &str,
        work_request_id: &str,
    ) -> Result<(), JournalError> {
        let j = &self.journal;
        j.conn()
            .execute(
                "INSERT INTO work_requests (id, run, stack, address, region, started_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET run = excluded.run, finished_ms = NULL,
                                                status = NULL",
                params![
                    work_request_id,
                    self.id.0,
                    self.stack,
                    address.to_string(),
                    region,
                    unix_ms(j.now())
                ],
            )
            .map_err(j.sqlite())?;
        Ok(())
    }

    /// Records that a work request ended with `status` (`SUCCEEDED`, `FAILED`, `CANCELED`).
    pub fn work_request_finished(
        &self,
        work_request_id: &str,
        status: &str,
    ) -> Result<(), JournalError> {
        let j = &self.journal;
        j.conn()
            .execute(
                "UPDATE work_requests SET finished_ms = ?1, status = ?2 WHERE id = ?3",
                params![unix_ms(j.now()), status, work_request_id],
            )
            .map_err(j.sqlite())?;
        Ok(())
    }

    fn record_intent(&self, call: &CallIntent<'_>) -> Result<CallId, JournalError> {
        let j = &self.journal;
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        let conn = j.conn();
        conn.execute(
            "INSERT INTO calls (run, seq, address, kind, region, action, retry_token,
                                resource_id, intent_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                self.id.0,
                i64::try_from(seq).unwrap_or(i64::MAX),
                call.address.to_string(),
                call.kind.as_str(),
                call.region,
                call.action.as_str(),
                call.retry_token,
                call.resource_id,
                unix_ms(j.now())
            ],
        )
        .map_err(j.sqlite())?;
        Ok(CallId(
            u64::try_from(conn.last_insert_rowid()).unwrap_or_default(),
        ))
    }

    fn record_result(&self, id: CallId, result: &CallResult<'_>) -> Result<(), JournalError> {
        let j = &self.journal;
        let call_id = i64::try_from(id.0).unwrap_or(-1);
        let mut conn = j.conn();
        // Immediate: the write lock is taken (waiting out another writer) before the read. A
        // deferred transaction that reads then writes fails at once, without waiting
        // (`SQLITE_BUSY_SNAPSHOT`, "database is locked"), when another connection committed
        // in between: another process that looked at the journal lost an apply its answer.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(j.sqlite())?;
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT address, action FROM calls WHERE id = ?1 AND run = ?2",
                params![call_id, self.id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(j.sqlite())?;
        let Some((address, action)) = row else {
            return Err(JournalError::UnknownCall { id: id.0 });
        };
        tx.execute(
            "UPDATE calls SET result_ms = ?1, outcome = ?2,
                    resource_id = COALESCE(?3, resource_id), error_class = ?4
             WHERE id = ?5",
            params![
                unix_ms(j.now()),
                result.outcome.as_str(),
                result.resource_id,
                result.error.map(|e| class_name(e.class())),
                call_id
            ],
        )
        .map_err(j.sqlite())?;
        // A deleted resource's sensitive output is of no use any more: forget it.
        if action == CallAction::Delete.as_str() && result.outcome == CallOutcome::Succeeded {
            tx.execute(
                "DELETE FROM sensitive_outputs WHERE stack = ?1 AND address = ?2",
                params![self.stack, address],
            )
            .map_err(j.sqlite())?;
        }
        tx.commit().map_err(j.sqlite())
    }

    fn store_sensitive(&self, address: &Address, value: &Sensitive) -> Result<(), JournalError> {
        let j = &self.journal;
        let (nonce, sealed) = j
            .inner
            .key
            .seal(&aad(&self.stack, address), value.expose())?;
        j.conn()
            .execute(
                "INSERT INTO sensitive_outputs (stack, address, nonce, sealed, stored_ms, run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (stack, address) DO UPDATE SET
                     nonce = excluded.nonce, sealed = excluded.sealed,
                     stored_ms = excluded.stored_ms, run = excluded.run",
                params![
                    self.stack,
                    address.to_string(),
                    nonce,
                    sealed,
                    unix_ms(j.now()),
                    self.id.0
                ],
            )
            .map_err(j.sqlite())?;
        Ok(())
    }
}

impl CallJournal for RunJournal {
    fn intent(&self, call: &CallIntent<'_>) -> Result<CallId, SinkError> {
        self.record_intent(call).map_err(sink_error)
    }

    fn result(&self, id: CallId, result: &CallResult<'_>) -> Result<(), SinkError> {
        self.record_result(id, result).map_err(sink_error)
    }
}

impl SensitiveSink for RunJournal {
    fn store(&self, address: &Address, value: &Sensitive) -> Result<(), SinkError> {
        self.store_sensitive(address, value).map_err(sink_error)
    }

    fn load(&self, address: &Address) -> Result<Option<Sensitive>, SinkError> {
        self.journal
            .sensitive(&self.stack, address)
            .map_err(sink_error)
    }
}
