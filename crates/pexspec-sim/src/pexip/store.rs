//! The simulated Management Node's state on disk: one SQLite database (`pexip.db`, WAL) so that
//! separate processes pointed at one state directory see one Management Node.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::PexipSimError;

pub(crate) const DB_FILE: &str = "pexip.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS counters (kind TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY, token TEXT NOT NULL, cert_pem TEXT NOT NULL, key_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL, uploaded_at INTEGER, port INTEGER);
CREATE TABLE IF NOT EXISTS conferences (
    id INTEGER PRIMARY KEY AUTOINCREMENT, node_id INTEGER NOT NULL, name TEXT NOT NULL,
    participants INTEGER NOT NULL, started_at INTEGER NOT NULL, ends_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS node_power (
    node_id INTEGER PRIMARY KEY, off_at INTEGER NOT NULL, back_at INTEGER);
CREATE TABLE IF NOT EXISTS ignored (what TEXT PRIMARY KEY, times INTEGER NOT NULL);
";

fn db_err(e: rusqlite::Error) -> PexipSimError {
    PexipSimError::State(e.to_string())
}

/// Opens (creating if needed) the database in `dir`.
pub(crate) fn open(dir: &Path) -> Result<Connection, PexipSimError> {
    let conn = Connection::open(dir.join(DB_FILE)).map_err(db_err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    conn.execute_batch(SCHEMA).map_err(db_err)?;
    Ok(conn)
}

/// A thin typed view over the connection; every call is one statement or one transaction.
pub(crate) struct Store<'c> {
    pub(crate) conn: &'c Connection,
}

/// The runtime side of a simulated Conferencing Node.
#[derive(Debug, Clone)]
pub(crate) struct NodeRow {
    pub(crate) id: i64,
    pub(crate) token: String,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) uploaded_at: Option<i64>,
    pub(crate) port: Option<u16>,
}

/// The power history of a node whose VM was stopped: when it went off and, once started
/// again, when it is back in service (synced). No row: never stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PowerRow {
    /// When the VM stopped (the node's last contact with the Management Node).
    pub(crate) off_at: i64,
    /// When the restarted VM has booted and synced; `None` while it is off.
    pub(crate) back_at: Option<i64>,
}

/// A simulated conference on a node.
#[derive(Debug, Clone)]
pub(crate) struct ConferenceRow {
    pub(crate) id: i64,
    pub(crate) node_id: i64,
    pub(crate) name: String,
    pub(crate) participants: i64,
    pub(crate) started_at: i64,
}

impl Store<'_> {
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, PexipSimError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(db_err)
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Records a body field or filter the API ignored (see `Shared::ignore`).
    /// The value of `key`, inserting `value` first if there is none: of two processes that
    /// start at once, both get the first one's value.
    pub(crate) fn meta_or_insert(&self, key: &str, value: &str) -> Result<String, PexipSimError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map_err(db_err)?;
        Ok(self.meta(key)?.unwrap_or_else(|| value.to_owned()))
    }

    /// Drops every configuration object and the wizard's completion (see
    /// `PexipSim::forget_configuration`).
    pub(crate) fn forget_configuration(&self) -> Result<(), PexipSimError> {
        self.conn
            .execute_batch(
                "BEGIN IMMEDIATE;
                 DELETE FROM objects;
                 DELETE FROM counters;
                 DELETE FROM meta WHERE key = 'wizard_completed';
                 COMMIT;",
            )
            .map_err(db_err)
    }

    pub(crate) fn record_ignored(&self, what: &str) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO ignored (what, times) VALUES (?1, 1)
                 ON CONFLICT(what) DO UPDATE SET times = times + 1",
                [what],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Everything recorded by [`record_ignored`](Self::record_ignored), sorted.
    pub(crate) fn ignored(&self) -> Result<Vec<String>, PexipSimError> {
        let mut stmt = self
            .conn
            .prepare("SELECT what FROM ignored ORDER BY what")
            .map_err(db_err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<Result<Vec<String>, _>>().map_err(db_err)
    }

    /// The latest simulated now any process reported on this state (`i64::MIN`: never).
    pub(crate) fn high_water_ms(&self) -> Result<i64, PexipSimError> {
        Ok(self
            .meta("clock_high_water_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MIN))
    }

    pub(crate) fn set_high_water_ms(&self, ms: i64) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('clock_high_water_ms', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value
                 WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
                [ms.to_string()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn offset_ms(&self) -> Result<i64, PexipSimError> {
        Ok(self
            .meta("clock_offset_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    pub(crate) fn add_offset_ms(&self, delta: i64) -> Result<(), PexipSimError> {
        let now = self.offset_ms()?;
        self.set_meta("clock_offset_ms", &now.saturating_add(delta).to_string())
    }

    pub(crate) fn next_id(&self, kind: &str) -> Result<i64, PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO counters (kind, next) VALUES (?1, 2)
                 ON CONFLICT(kind) DO UPDATE SET next = next + 1",
                [kind],
            )
            .map_err(db_err)?;
        let next: i64 = self
            .conn
            .query_row("SELECT next FROM counters WHERE kind = ?1", [kind], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        Ok(next - 1)
    }

    pub(crate) fn insert(&self, kind: &str, id: i64, data: &Value) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO objects (kind, id, data) VALUES (?1, ?2, ?3)",
                params![kind, id, data.to_string()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn replace(&self, kind: &str, id: i64, data: &Value) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "UPDATE objects SET data = ?3 WHERE kind = ?1 AND id = ?2",
                params![kind, id, data.to_string()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn get(&self, kind: &str, id: i64) -> Result<Option<Value>, PexipSimError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT data FROM objects WHERE kind = ?1 AND id = ?2",
                params![kind, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| PexipSimError::State(e.to_string())))
            .transpose()
    }

    /// Every object of `kind`, in id order.
    pub(crate) fn list(&self, kind: &str) -> Result<Vec<(i64, Value)>, PexipSimError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, data FROM objects WHERE kind = ?1 ORDER BY id")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([kind], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(db_err)?;
            let value =
                serde_json::from_str(&text).map_err(|e| PexipSimError::State(e.to_string()))?;
            out.push((id, value));
        }
        Ok(out)
    }

    pub(crate) fn delete(&self, kind: &str, id: i64) -> Result<bool, PexipSimError> {
        self.conn
            .execute(
                "DELETE FROM objects WHERE kind = ?1 AND id = ?2",
                params![kind, id],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    pub(crate) fn insert_node(&self, node: &NodeRow, now: i64) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO nodes (id, token, cert_pem, key_pem, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![node.id, node.token, node.cert_pem, node.key_pem, now],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn node(&self, id: i64) -> Result<Option<NodeRow>, PexipSimError> {
        self.conn
            .query_row(
                "SELECT id, token, cert_pem, key_pem, uploaded_at, port FROM nodes WHERE id = ?1",
                [id],
                |r| {
                    Ok(NodeRow {
                        id: r.get(0)?,
                        token: r.get(1)?,
                        cert_pem: r.get(2)?,
                        key_pem: r.get(3)?,
                        uploaded_at: r.get(4)?,
                        port: r
                            .get::<_, Option<i64>>(5)?
                            .and_then(|p| u16::try_from(p).ok()),
                    })
                },
            )
            .optional()
            .map_err(db_err)
    }

    pub(crate) fn node_ids(&self) -> Result<Vec<i64>, PexipSimError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM nodes ORDER BY id")
            .map_err(db_err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<Result<Vec<i64>, _>>().map_err(db_err)
    }

    pub(crate) fn set_uploaded(&self, id: i64, at: i64) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "UPDATE nodes SET uploaded_at = COALESCE(uploaded_at, ?2) WHERE id = ?1",
                params![id, at],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn set_port(&self, id: i64, port: u16) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "UPDATE nodes SET port = ?2 WHERE id = ?1",
                params![id, port],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn delete_node(&self, id: i64) -> Result<(), PexipSimError> {
        self.conn
            .execute("DELETE FROM nodes WHERE id = ?1", [id])
            .map_err(db_err)?;
        self.conn
            .execute("DELETE FROM node_power WHERE node_id = ?1", [id])
            .map_err(db_err)?;
        self.conn
            .execute("DELETE FROM conferences WHERE node_id = ?1", [id])
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn power(&self, id: i64) -> Result<Option<PowerRow>, PexipSimError> {
        self.conn
            .query_row(
                "SELECT off_at, back_at FROM node_power WHERE node_id = ?1",
                [id],
                |r| {
                    Ok(PowerRow {
                        off_at: r.get(0)?,
                        back_at: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(db_err)
    }

    /// The node's VM stops at `now`: the conferences on it end (their participants are
    /// disconnected). One transaction; a node already off is left as it is.
    pub(crate) fn power_off(&self, id: i64, now: i64) -> Result<(), PexipSimError> {
        let tx = self.conn.unchecked_transaction().map_err(db_err)?;
        let off = tx
            .query_row(
                "SELECT 1 FROM node_power WHERE node_id = ?1 AND back_at IS NULL",
                [id],
                |_| Ok(()),
            )
            .optional()
            .map_err(db_err)?
            .is_some();
        if !off {
            tx.execute(
                "INSERT INTO node_power (node_id, off_at, back_at) VALUES (?1, ?2, NULL)
                 ON CONFLICT(node_id) DO UPDATE SET off_at = excluded.off_at, back_at = NULL",
                params![id, now],
            )
            .map_err(db_err)?;
            tx.execute(
                "UPDATE conferences SET ends_at = ?2 WHERE node_id = ?1 AND ends_at > ?2",
                params![id, now],
            )
            .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// The node's VM starts: it is back in service at `back_at`. A node that is not off is
    /// left as it is.
    pub(crate) fn power_on(&self, id: i64, back_at: i64) -> Result<(), PexipSimError> {
        self.conn
            .execute(
                "UPDATE node_power SET back_at = ?2 WHERE node_id = ?1 AND back_at IS NULL",
                params![id, back_at],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn insert_conference(
        &self,
        node_id: i64,
        name: &str,
        participants: i64,
        started_at: i64,
        ends_at: i64,
    ) -> Result<i64, PexipSimError> {
        self.conn
            .execute(
                "INSERT INTO conferences (node_id, name, participants, started_at, ends_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![node_id, name, participants, started_at, ends_at],
            )
            .map_err(db_err)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Conferences that have not ended at `now`.
    pub(crate) fn active_conferences(&self, now: i64) -> Result<Vec<ConferenceRow>, PexipSimError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, node_id, name, participants, started_at FROM conferences
                 WHERE ends_at > ?1 AND started_at <= ?1 ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([now], |r| {
                Ok(ConferenceRow {
                    id: r.get(0)?,
                    node_id: r.get(1)?,
                    name: r.get(2)?,
                    participants: r.get(3)?,
                    started_at: r.get(4)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }
}
