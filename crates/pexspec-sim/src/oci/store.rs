//! The OCI simulator's state in SQLite: one row per resource (a JSON document, its etag and
//! the timed state transitions still to come), Object Storage metadata, and retry tokens.
//!
//! Lifecycle is lazy: a row stores transitions `(at_ms, patch)` and every read applies those
//! that are due on the clock, so no background task is needed and separate processes sharing
//! the database agree.
//!
//! Object and part bytes live in files beside the database (`oci-objects/`), one file per
//! uploaded body, written once and never changed: a part is one file, and committing a
//! multipart upload makes its part files the object's segments without copying a byte, so a
//! multi-GiB image costs its size on disk once. A file is created before the row naming it and
//! removed only after the transaction that dropped the row has committed (or, for a new file,
//! when its transaction fails).

use std::cell::RefCell;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::wire::{ApiError, hex};
use crate::SimError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ocid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    compartment TEXT NOT NULL,
    doc TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    purge_ms INTEGER,
    transitions TEXT NOT NULL,
    internal TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_kind ON resources (kind, region);
CREATE TABLE IF NOT EXISTS retry_tokens (
    token TEXT NOT NULL,
    op TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    ocid TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (token, op)
);
CREATE TABLE IF NOT EXISTS buckets (
    region TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    compartment TEXT NOT NULL,
    doc TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (region, namespace, name)
);
CREATE TABLE IF NOT EXISTS objects (
    region TEXT NOT NULL,
    namespace TEXT NOT NULL,
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    segments TEXT NOT NULL,
    md5 TEXT,
    multipart_md5 TEXT,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (region, namespace, bucket, name)
);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    namespace TEXT NOT NULL,
    bucket TEXT NOT NULL,
    object TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_num INTEGER NOT NULL,
    size INTEGER NOT NULL,
    file TEXT NOT NULL,
    md5 TEXT NOT NULL,
    etag TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_num)
);
";

/// The directory of object and part files, beside the database.
const BLOB_DIR: &str = "oci-objects";

/// The database; one connection per process (SQLite does the locking between processes).
pub(crate) struct Store {
    conn: Mutex<Connection>,
    blobs: PathBuf,
}

/// One stored body: its file name in the blob directory and its length.
pub(crate) type Segment = (String, i64);

/// A timed change of a resource: at `at_ms` the fields of `patch` replace the document's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Transition {
    pub at_ms: i64,
    pub patch: Value,
}

/// A resource as of a read: its document with every due transition applied.
#[derive(Debug, Clone)]
pub(crate) struct Res {
    pub ocid: String,
    pub kind: String,
    pub region: String,
    pub compartment: String,
    pub doc: Value,
    pub etag: String,
    pub created_ms: i64,
    pub visible_ms: i64,
    pub purge_ms: Option<i64>,
    /// Transitions not yet due.
    pub pending: Vec<Transition>,
    /// Simulator-only data, never returned on the wire.
    pub internal: Value,
    pub seq: i64,
}

impl Res {
    /// A string field of the document.
    pub fn s(&self, key: &str) -> &str {
        self.doc.get(key).and_then(Value::as_str).unwrap_or("")
    }
    /// The `lifecycleState`.
    pub fn state(&self) -> &str {
        self.s("lifecycleState")
    }
    /// The state this resource will have once every pending transition is done.
    pub fn final_state(&self) -> String {
        let mut st = self.state().to_string();
        for t in &self.pending {
            if let Some(s) = t.patch.get("lifecycleState").and_then(Value::as_str) {
                st = s.to_string();
            }
        }
        st
    }
}

/// A resource to insert.
pub(crate) struct NewRes {
    pub ocid: String,
    pub kind: &'static str,
    pub region: String,
    pub compartment: String,
    pub doc: Value,
    pub transitions: Vec<Transition>,
    pub created_ms: i64,
    pub visible_ms: i64,
    pub internal: Value,
}

/// A stored Object Storage object (without its data).
#[derive(Debug, Clone)]
pub(crate) struct ObjectMeta {
    pub name: String,
    pub size: i64,
    pub md5: Option<String>,
    pub multipart_md5: Option<String>,
    pub etag: String,
    pub content_type: String,
    pub metadata: Value,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// A multipart upload row: region, namespace, bucket, object, stored document.
pub(crate) type UploadRow = (String, String, String, String, Value);

/// A stored retry token.
pub(crate) struct TokenRow {
    pub fingerprint: String,
    pub ocid: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub created_ms: i64,
}

fn db_err(e: rusqlite::Error) -> ApiError {
    ApiError::internal(format!("The simulator's state database failed: {e}"))
}

fn json_err(e: serde_json::Error) -> ApiError {
    ApiError::internal(format!(
        "The simulator's state database holds bad JSON: {e}"
    ))
}

fn new_etag() -> String {
    super::catalog::hex32().to_ascii_lowercase()
}

fn file_err(path: &Path, e: &std::io::Error) -> ApiError {
    ApiError::internal(format!(
        "The simulator's object file {} failed: {e}",
        path.display()
    ))
}

fn segments_of(json: &str) -> Result<Vec<Segment>, ApiError> {
    serde_json::from_str(json).map_err(json_err)
}

/// Files created and files to remove by one transaction.
#[derive(Default)]
struct FileChanges {
    created: Vec<PathBuf>,
    doomed: Vec<PathBuf>,
}

fn remove_files(paths: &[PathBuf]) {
    for p in paths {
        // Best effort: a file left behind is garbage, never data a row still names.
        let _ = std::fs::remove_file(p);
    }
}

impl Store {
    /// Opens (creating if needed) the database file, in WAL mode with a busy timeout, and the
    /// directory of object files beside it.
    pub fn open(path: &Path) -> Result<Store, SimError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let old_layout: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('objects') WHERE name = 'data'",
            [],
            |r| r.get(0),
        )?;
        if old_layout {
            return Err(SimError::Config(format!(
                "the state database {} was written by an older simulator that kept objects inside \
                 it; remove its state directory (or choose another) to start a new cloud",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA)?;
        let blobs = path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(BLOB_DIR);
        std::fs::create_dir_all(&blobs).map_err(|source| SimError::Io {
            path: blobs.clone(),
            source,
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            blobs,
        })
    }

    /// Runs `f` in one transaction (IMMEDIATE when `write`, so two processes never interleave
    /// a read-check-write); commits when it returns `Ok`.
    pub fn tx<T>(
        &self,
        write: bool,
        f: impl FnOnce(&Tx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let behavior = if write {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let t = conn.transaction_with_behavior(behavior).map_err(db_err)?;
        let tx = Tx {
            t,
            blobs: &self.blobs,
            files: RefCell::default(),
        };
        let out = f(&tx);
        let Tx { t, files, .. } = tx;
        let files = files.into_inner();
        match out.and_then(|v| t.commit().map_err(db_err).map(|()| v)) {
            Ok(v) => {
                remove_files(&files.doomed);
                Ok(v)
            }
            Err(e) => {
                remove_files(&files.created);
                Err(e)
            }
        }
    }
}

/// One open transaction.
pub(crate) struct Tx<'c> {
    t: Transaction<'c>,
    blobs: &'c Path,
    files: RefCell<FileChanges>,
}

const RES_COLS: &str = "seq, ocid, kind, region, compartment, doc, etag, created_ms, visible_ms, purge_ms, transitions, internal";

impl Tx<'_> {
    fn row_to_res(row: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<Result<Res, ApiError>> {
        let doc: String = row.get(5)?;
        let base_etag: String = row.get(6)?;
        let transitions: String = row.get(10)?;
        let internal: String = row.get(11)?;
        let build = || -> Result<Res, ApiError> {
            let mut doc: Value = serde_json::from_str(&doc).map_err(json_err)?;
            let mut ts: Vec<Transition> = serde_json::from_str(&transitions).map_err(json_err)?;
            ts.sort_by_key(|t| t.at_ms);
            let mut pending = Vec::new();
            let mut applied = 0usize;
            for t in ts {
                if t.at_ms <= now {
                    merge(&mut doc, &t.patch);
                    applied += 1;
                } else {
                    pending.push(t);
                }
            }
            let etag = if applied == 0 {
                base_etag.clone()
            } else {
                hex(&Sha256::digest(format!("{base_etag}:{applied}").as_bytes())[..16])
            };
            Ok(Res {
                seq: row.get(0).map_err(db_err)?,
                ocid: row.get(1).map_err(db_err)?,
                kind: row.get(2).map_err(db_err)?,
                region: row.get(3).map_err(db_err)?,
                compartment: row.get(4).map_err(db_err)?,
                doc,
                etag,
                created_ms: row.get(7).map_err(db_err)?,
                visible_ms: row.get(8).map_err(db_err)?,
                purge_ms: row.get(9).map_err(db_err)?,
                pending,
                internal: serde_json::from_str(&internal).map_err(json_err)?,
            })
        };
        Ok(build())
    }

    /// A resource by OCID as of `now`; `None` when unknown or purged.
    pub fn get(&self, ocid: &str, now: i64) -> Result<Option<Res>, ApiError> {
        let sql = format!("SELECT {RES_COLS} FROM resources WHERE ocid = ?1");
        let r = self
            .t
            .query_row(&sql, params![ocid], |row| Self::row_to_res(row, now))
            .optional()
            .map_err(db_err)?;
        match r {
            None => Ok(None),
            Some(r) => {
                let r = r?;
                Ok(if r.purge_ms.is_some_and(|p| p <= now) {
                    None
                } else {
                    Some(r)
                })
            }
        }
    }

    /// A resource of one kind by OCID; `None` when unknown, purged or of another kind.
    pub fn get_kind(&self, kind: &str, ocid: &str, now: i64) -> Result<Option<Res>, ApiError> {
        Ok(self.get(ocid, now)?.filter(|r| r.kind == kind))
    }

    /// Every unpurged resource of a kind (in one region, or all), oldest first.
    pub fn list(&self, kind: &str, region: Option<&str>, now: i64) -> Result<Vec<Res>, ApiError> {
        let sql = format!(
            "SELECT {RES_COLS} FROM resources WHERE kind = ?1 AND (?2 IS NULL OR region = ?2) \
             AND (purge_ms IS NULL OR purge_ms > ?3) ORDER BY created_ms, seq"
        );
        let mut stmt = self.t.prepare(&sql).map_err(db_err)?;
        let rows = stmt
            .query_map(params![kind, region, now], |row| Self::row_to_res(row, now))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db_err)??);
        }
        Ok(out)
    }

    /// Inserts a resource; returns its etag.
    pub fn insert(&self, n: NewRes) -> Result<String, ApiError> {
        let etag = new_etag();
        self.t
            .execute(
                "INSERT INTO resources (ocid, kind, region, compartment, doc, etag, created_ms, visible_ms, \
                 purge_ms, transitions, internal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10)",
                params![
                    n.ocid,
                    n.kind,
                    n.region,
                    n.compartment,
                    n.doc.to_string(),
                    etag,
                    n.created_ms,
                    n.visible_ms,
                    serde_json::to_string(&n.transitions).map_err(json_err)?,
                    n.internal.to_string(),
                ],
            )
            .map_err(db_err)?;
        Ok(etag)
    }

    /// Writes back a resource read earlier (document, pending transitions, purge time,
    /// internal data) with a new etag, which is stored into `r.etag`.
    pub fn save(&self, r: &mut Res) -> Result<(), ApiError> {
        let etag = new_etag();
        self.t
            .execute(
                "UPDATE resources SET doc = ?2, etag = ?3, purge_ms = ?4, transitions = ?5, internal = ?6, \
                 compartment = ?7 WHERE ocid = ?1",
                params![
                    r.ocid,
                    r.doc.to_string(),
                    etag,
                    r.purge_ms,
                    serde_json::to_string(&r.pending).map_err(json_err)?,
                    r.internal.to_string(),
                    r.compartment,
                ],
            )
            .map_err(db_err)?;
        r.etag = etag;
        Ok(())
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, ApiError> {
        self.t
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err)
    }

    /// Sets a value of the `meta` table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), ApiError> {
        self.t
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                params![key, value],
            )
            .map_err(db_err)?;
        Ok(())
    }

    // ---- retry tokens ----

    /// A retry token stored for an operation.
    pub fn token(&self, token: &str, op: &str) -> Result<Option<TokenRow>, ApiError> {
        let r = self
            .t
            .query_row(
                "SELECT fingerprint, ocid, status, headers, created_ms FROM retry_tokens WHERE token = ?1 AND op = ?2",
                params![token, op],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, u16>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)?;
        match r {
            None => Ok(None),
            Some((fingerprint, ocid, status, headers, created_ms)) => Ok(Some(TokenRow {
                fingerprint,
                ocid,
                status,
                headers: serde_json::from_str(&headers).map_err(json_err)?,
                created_ms,
            })),
        }
    }

    /// Stores (or replaces an expired) retry token.
    pub fn put_token(&self, token: &str, op: &str, row: &TokenRow) -> Result<(), ApiError> {
        self.t
            .execute(
                "INSERT OR REPLACE INTO retry_tokens (token, op, fingerprint, ocid, status, headers, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    token,
                    op,
                    row.fingerprint,
                    row.ocid,
                    row.status,
                    serde_json::to_string(&row.headers).map_err(json_err)?,
                    row.created_ms
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    // ---- object storage ----

    /// A bucket: (compartment, document, etag).
    pub fn bucket(
        &self,
        region: &str,
        ns: &str,
        name: &str,
    ) -> Result<Option<(Value, String)>, ApiError> {
        let r = self
            .t
            .query_row(
                "SELECT doc, etag FROM buckets WHERE region = ?1 AND namespace = ?2 AND name = ?3",
                params![region, ns, name],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        match r {
            None => Ok(None),
            Some((doc, etag)) => Ok(Some((serde_json::from_str(&doc).map_err(json_err)?, etag))),
        }
    }

    /// Every unpurged resource of every kind and region, oldest first.
    pub fn all(&self, now: i64) -> Result<Vec<Res>, ApiError> {
        let sql = format!(
            "SELECT {RES_COLS} FROM resources WHERE (purge_ms IS NULL OR purge_ms > ?1) \
             ORDER BY created_ms, seq"
        );
        let mut stmt = self.t.prepare(&sql).map_err(db_err)?;
        let rows = stmt
            .query_map(params![now], |row| Self::row_to_res(row, now))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db_err)??);
        }
        Ok(out)
    }

    /// Every bucket of every region: (region, document).
    pub fn all_buckets(&self) -> Result<Vec<(String, Value)>, ApiError> {
        let mut stmt = self
            .t
            .prepare("SELECT region, doc FROM buckets ORDER BY region, name")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (region, doc) = r.map_err(db_err)?;
            out.push((region, serde_json::from_str(&doc).map_err(json_err)?));
        }
        Ok(out)
    }

    /// Every bucket of a namespace in a region, by name.
    pub fn buckets(&self, region: &str, ns: &str) -> Result<Vec<Value>, ApiError> {
        let mut stmt = self
            .t
            .prepare("SELECT doc FROM buckets WHERE region = ?1 AND namespace = ?2 ORDER BY name")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![region, ns], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(serde_json::from_str(&r.map_err(db_err)?).map_err(json_err)?);
        }
        Ok(out)
    }

    /// Inserts a bucket.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_bucket(
        &self,
        region: &str,
        ns: &str,
        name: &str,
        compartment: &str,
        doc: &Value,
        etag: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        self.t
            .execute(
                "INSERT INTO buckets (region, namespace, name, compartment, doc, etag, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![region, ns, name, compartment, doc.to_string(), etag, now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Deletes a bucket.
    pub fn delete_bucket(&self, region: &str, ns: &str, name: &str) -> Result<(), ApiError> {
        self.t
            .execute(
                "DELETE FROM buckets WHERE region = ?1 AND namespace = ?2 AND name = ?3",
                params![region, ns, name],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn object_meta_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ObjectMeta, String)> {
        Ok((
            ObjectMeta {
                name: r.get(0)?,
                size: r.get(1)?,
                md5: r.get(2)?,
                multipart_md5: r.get(3)?,
                etag: r.get(4)?,
                content_type: r.get(5)?,
                metadata: Value::Null,
                created_ms: r.get(7)?,
                modified_ms: r.get(8)?,
            },
            r.get::<_, String>(6)?,
        ))
    }

    /// An object's metadata.
    pub fn object_meta(
        &self,
        region: &str,
        ns: &str,
        bucket: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>, ApiError> {
        let r = self
            .t
            .query_row(
                "SELECT name, size, md5, multipart_md5, etag, content_type, metadata, created_ms, modified_ms \
                 FROM objects WHERE region = ?1 AND namespace = ?2 AND bucket = ?3 AND name = ?4",
                params![region, ns, bucket, name],
                Self::object_meta_row,
            )
            .optional()
            .map_err(db_err)?;
        match r {
            None => Ok(None),
            Some((mut m, meta)) => {
                m.metadata = serde_json::from_str(&meta).map_err(json_err)?;
                Ok(Some(m))
            }
        }
    }

    /// Bytes `first..=last` of an object (the whole object when `range` is `None`).
    pub fn object_data(
        &self,
        region: &str,
        ns: &str,
        bucket: &str,
        name: &str,
        range: Option<(usize, usize)>,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        let row: Option<(i64, String)> = self
            .t
            .query_row(
                "SELECT size, segments FROM objects WHERE region = ?1 AND namespace = ?2 AND bucket = ?3 AND name = ?4",
                params![region, ns, bucket, name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        let Some((size, segments)) = row else {
            return Ok(None);
        };
        let size = usize::try_from(size).unwrap_or(0);
        let (first, end) = match range {
            Some((a, z)) => (a.min(size), z.saturating_add(1).min(size)),
            None => (0, size),
        };
        let mut out = Vec::with_capacity(end.saturating_sub(first));
        let mut at = 0usize;
        for (file, len) in segments_of(&segments)? {
            let len = usize::try_from(len).unwrap_or(0);
            let (lo, hi) = (first.max(at), end.min(at + len));
            if lo < hi {
                let path = self.blobs.join(&file);
                let mut f = std::fs::File::open(&path).map_err(|e| file_err(&path, &e))?;
                f.seek(SeekFrom::Start((lo - at) as u64))
                    .map_err(|e| file_err(&path, &e))?;
                let start = out.len();
                out.resize(start + (hi - lo), 0);
                f.read_exact(&mut out[start..])
                    .map_err(|e| file_err(&path, &e))?;
            }
            at += len;
        }
        Ok(Some(out))
    }

    /// Writes `data` to a new file in the blob directory (removed again if the transaction
    /// fails).
    pub fn write_blob(&self, data: &[u8]) -> Result<Segment, ApiError> {
        let name = super::catalog::hex32().to_ascii_lowercase();
        let path = self.blobs.join(&name);
        let mut f = std::fs::File::create_new(&path).map_err(|e| file_err(&path, &e))?;
        self.files.borrow_mut().created.push(path.clone());
        f.write_all(data).map_err(|e| file_err(&path, &e))?;
        Ok((name, data.len() as i64))
    }

    /// Removes these files once the transaction has committed.
    fn doom(&self, segments: impl IntoIterator<Item = Segment>) {
        let mut files = self.files.borrow_mut();
        for (name, _) in segments {
            files.doomed.push(self.blobs.join(name));
        }
    }

    /// The segments of an object, if it exists.
    fn object_segments(
        &self,
        region: &str,
        ns: &str,
        bucket: &str,
        name: &str,
    ) -> Result<Option<Vec<Segment>>, ApiError> {
        let s: Option<String> = self
            .t
            .query_row(
                "SELECT segments FROM objects WHERE region = ?1 AND namespace = ?2 AND bucket = ?3 AND name = ?4",
                params![region, ns, bucket, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        s.map(|s| segments_of(&s)).transpose()
    }

    /// Every object of a bucket whose name starts with `prefix`, by name.
    pub fn objects(
        &self,
        region: &str,
        ns: &str,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ObjectMeta>, ApiError> {
        let mut stmt = self
            .t
            .prepare(
                "SELECT name, size, md5, multipart_md5, etag, content_type, metadata, created_ms, modified_ms \
                 FROM objects WHERE region = ?1 AND namespace = ?2 AND bucket = ?3 AND substr(name, 1, ?5) = ?4 ORDER BY name",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(
                params![region, ns, bucket, prefix, prefix.chars().count() as i64],
                Self::object_meta_row,
            )
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (mut m, meta) = r.map_err(db_err)?;
            m.metadata = serde_json::from_str(&meta).map_err(json_err)?;
            out.push(m);
        }
        Ok(out)
    }

    /// Writes (creates or replaces) an object whose bytes are `segments` (files written by
    /// [`Tx::write_blob`], or taken from an upload's parts), in order. `m.size` is their total.
    pub fn put_object(
        &self,
        region: &str,
        ns: &str,
        bucket: &str,
        m: &ObjectMeta,
        segments: &[Segment],
    ) -> Result<(), ApiError> {
        if let Some(old) = self.object_segments(region, ns, bucket, &m.name)? {
            self.doom(old);
        }
        self.t
            .execute(
                "INSERT OR REPLACE INTO objects (region, namespace, bucket, name, size, segments, md5, multipart_md5, etag, \
                 content_type, metadata, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    region,
                    ns,
                    bucket,
                    m.name,
                    m.size,
                    serde_json::to_string(segments).map_err(json_err)?,
                    m.md5,
                    m.multipart_md5,
                    m.etag,
                    m.content_type,
                    m.metadata.to_string(),
                    m.created_ms,
                    m.modified_ms
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Deletes an object.
    pub fn delete_object(
        &self,
        region: &str,
        ns: &str,
        bucket: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        if let Some(old) = self.object_segments(region, ns, bucket, name)? {
            self.doom(old);
        }
        self.t
            .execute(
                "DELETE FROM objects WHERE region = ?1 AND namespace = ?2 AND bucket = ?3 AND name = ?4",
                params![region, ns, bucket, name],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// How many objects a bucket holds.
    pub fn object_count(&self, region: &str, ns: &str, bucket: &str) -> Result<i64, ApiError> {
        self.t
            .query_row(
                "SELECT count(*) FROM objects WHERE region = ?1 AND namespace = ?2 AND bucket = ?3",
                params![region, ns, bucket],
                |r| r.get(0),
            )
            .map_err(db_err)
    }

    /// A multipart upload: (region, namespace, bucket, object, stored document).
    pub fn upload(&self, upload_id: &str) -> Result<Option<UploadRow>, ApiError> {
        let r = self
            .t
            .query_row(
                "SELECT region, namespace, bucket, object, doc FROM uploads WHERE upload_id = ?1",
                params![upload_id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)?;
        match r {
            None => Ok(None),
            Some((a, b, c, d, doc)) => Ok(Some((
                a,
                b,
                c,
                d,
                serde_json::from_str(&doc).map_err(json_err)?,
            ))),
        }
    }

    /// Every multipart upload of a bucket, oldest first.
    pub fn uploads(&self, region: &str, ns: &str, bucket: &str) -> Result<Vec<Value>, ApiError> {
        let mut stmt = self
            .t
            .prepare("SELECT doc FROM uploads WHERE region = ?1 AND namespace = ?2 AND bucket = ?3 ORDER BY created_ms, upload_id")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![region, ns, bucket], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(serde_json::from_str(&r.map_err(db_err)?).map_err(json_err)?);
        }
        Ok(out)
    }

    /// Starts a multipart upload.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_upload(
        &self,
        upload_id: &str,
        region: &str,
        ns: &str,
        bucket: &str,
        object: &str,
        doc: &Value,
        now: i64,
    ) -> Result<(), ApiError> {
        self.t
            .execute(
                "INSERT INTO uploads (upload_id, region, namespace, bucket, object, doc, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![upload_id, region, ns, bucket, object, doc.to_string(), now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Ends a multipart upload and drops its parts (and their files).
    pub fn delete_upload(&self, upload_id: &str) -> Result<(), ApiError> {
        let files = self.part_files(upload_id)?;
        self.doom(files.into_iter().map(|(_, seg)| seg));
        self.t
            .execute("DELETE FROM parts WHERE upload_id = ?1", params![upload_id])
            .map_err(db_err)?;
        self.t
            .execute(
                "DELETE FROM uploads WHERE upload_id = ?1",
                params![upload_id],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// Stores (or replaces) one part, whose bytes are in `file` (from [`Tx::write_blob`]).
    pub fn put_part(
        &self,
        upload_id: &str,
        num: i64,
        file: &Segment,
        md5: &str,
        etag: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let old: Option<String> = self
            .t
            .query_row(
                "SELECT file FROM parts WHERE upload_id = ?1 AND part_num = ?2",
                params![upload_id, num],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        self.doom(old.map(|f| (f, 0)));
        self.t
            .execute(
                "INSERT OR REPLACE INTO parts (upload_id, part_num, size, file, md5, etag, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![upload_id, num, file.1, file.0, md5, etag, now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// The parts of an upload: (number, size, md5, etag), by number.
    pub fn parts(&self, upload_id: &str) -> Result<Vec<(i64, i64, String, String)>, ApiError> {
        let mut stmt = self
            .t
            .prepare("SELECT part_num, size, md5, etag FROM parts WHERE upload_id = ?1 ORDER BY part_num")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![upload_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }

    /// The files of an upload's parts: (number, file), by number.
    fn part_files(&self, upload_id: &str) -> Result<Vec<(i64, Segment)>, ApiError> {
        let mut stmt = self
            .t
            .prepare(
                "SELECT part_num, file, size FROM parts WHERE upload_id = ?1 ORDER BY part_num",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![upload_id], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
            })
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }

    /// Takes the files of parts `nums` (in that order) out of an upload, for an object to own:
    /// their rows go, their files stay.
    pub fn take_parts(&self, upload_id: &str, nums: &[i64]) -> Result<Vec<Segment>, ApiError> {
        let files = self.part_files(upload_id)?;
        let mut out = Vec::with_capacity(nums.len());
        for n in nums {
            let (_, seg) = files.iter().find(|(num, _)| num == n).ok_or_else(|| {
                ApiError::internal(format!("Part {n} of upload {upload_id} has no file"))
            })?;
            self.t
                .execute(
                    "DELETE FROM parts WHERE upload_id = ?1 AND part_num = ?2",
                    params![upload_id, n],
                )
                .map_err(db_err)?;
            out.push(seg.clone());
        }
        Ok(out)
    }
}

/// Shallow merge: the patch's fields replace the document's.
pub(crate) fn merge(doc: &mut Value, patch: &Value) {
    if let (Some(d), Some(p)) = (doc.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            d.insert(k.clone(), v.clone());
        }
    }
}

/// An empty JSON object.
#[cfg(test)]
pub(crate) fn obj() -> Value {
    Value::Object(serde_json::Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn transitions_apply_lazily_and_change_the_etag() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .tx(true, |tx| {
                tx.insert(NewRes {
                    ocid: "o1".into(),
                    kind: "vcn",
                    region: "r".into(),
                    compartment: "c".into(),
                    doc: json!({"lifecycleState": "PROVISIONING"}),
                    transitions: vec![Transition {
                        at_ms: 100,
                        patch: json!({"lifecycleState": "AVAILABLE"}),
                    }],
                    created_ms: 0,
                    visible_ms: 0,
                    internal: obj(),
                })
            })
            .unwrap();
        let (a, b) = store
            .tx(false, |tx| {
                Ok((tx.get("o1", 99)?.unwrap(), tx.get("o1", 100)?.unwrap()))
            })
            .unwrap();
        assert_eq!(a.state(), "PROVISIONING");
        assert_eq!(a.final_state(), "AVAILABLE");
        assert_eq!(b.state(), "AVAILABLE");
        assert_ne!(a.etag, b.etag);
        let mut b2 = b.clone();
        b2.purge_ms = Some(200);
        store.tx(true, |tx| tx.save(&mut b2)).unwrap();
        assert!(store.tx(false, |tx| tx.get("o1", 200)).unwrap().is_none());
        assert_eq!(
            store
                .tx(false, |tx| tx.list("vcn", Some("r"), 150))
                .unwrap()
                .len(),
            1
        );
    }

    fn meta(name: &str, size: i64) -> ObjectMeta {
        ObjectMeta {
            name: name.into(),
            size,
            md5: None,
            multipart_md5: None,
            etag: "e".into(),
            content_type: "application/octet-stream".into(),
            metadata: obj(),
            created_ms: 0,
            modified_ms: 0,
        }
    }

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join(BLOB_DIR)).unwrap().count()
    }

    #[test]
    fn committed_parts_become_the_object_without_copies_and_files_follow_the_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .tx(true, |tx| {
                tx.insert_upload("u", "r", "ns", "b", "o", &obj(), 0)?;
                for (n, body) in [(1, &b"hello "[..]), (2, b"big "), (3, b"world")] {
                    let f = tx.write_blob(body)?;
                    tx.put_part("u", n, &f, "m", "e", 0)?;
                }
                // Part 2 uploaded again: the first file goes.
                let f = tx.write_blob(b"wide ")?;
                tx.put_part("u", 2, &f, "m", "e", 0)
            })
            .unwrap();
        assert_eq!(files(dir.path()), 3);
        let parts = store.tx(false, |tx| tx.parts("u")).unwrap();
        assert_eq!(parts.iter().map(|p| p.1).collect::<Vec<_>>(), [6, 5, 5]);
        // Commit parts 1 and 3; part 2 is excluded and its file removed with the upload.
        store
            .tx(true, |tx| {
                let segs = tx.take_parts("u", &[1, 3])?;
                tx.put_object("r", "ns", "b", &meta("o", 11), &segs)?;
                tx.delete_upload("u")
            })
            .unwrap();
        assert_eq!(files(dir.path()), 2);
        let read = |range| {
            store
                .tx(false, |tx| tx.object_data("r", "ns", "b", "o", range))
                .unwrap()
                .unwrap()
        };
        assert_eq!(read(None), b"hello world");
        assert_eq!(read(Some((4, 7))), b"o wo");
        assert_eq!(read(Some((6, 10))), b"world");
        assert_eq!(
            store
                .tx(false, |tx| tx.object_meta("r", "ns", "b", "o"))
                .unwrap()
                .unwrap()
                .size,
            11
        );
        // A failed transaction leaves neither its new file nor a row behind.
        let failed: Result<(), ApiError> = store.tx(true, |tx| {
            let f = tx.write_blob(b"new")?;
            tx.put_object("r", "ns", "b", &meta("o", 3), &[f])?;
            Err(ApiError::internal("boom"))
        });
        assert!(failed.is_err());
        assert_eq!(files(dir.path()), 2);
        assert_eq!(read(None), b"hello world");
        // Replacing, then deleting, the object removes its files.
        store
            .tx(true, |tx| {
                let f = tx.write_blob(b"new")?;
                tx.put_object("r", "ns", "b", &meta("o", 3), &[f])
            })
            .unwrap();
        assert_eq!(files(dir.path()), 1);
        assert_eq!(read(None), b"new");
        store
            .tx(true, |tx| tx.delete_object("r", "ns", "b", "o"))
            .unwrap();
        assert_eq!(files(dir.path()), 0);
    }

    #[test]
    fn a_database_that_kept_objects_inside_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE objects (name TEXT, data BLOB NOT NULL);")
            .unwrap();
        let Err(SimError::Config(msg)) = Store::open(&db) else {
            panic!("an old database was accepted");
        };
        assert!(msg.contains("older simulator"), "{msg}");
    }
}
