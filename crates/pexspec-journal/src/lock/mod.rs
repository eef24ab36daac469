//! The locks that keep two applies of one stack apart: [`LocalLock`], a file in the state
//! directory, by default; [`OciLock`], an Object Storage object written with
//! `if-none-match: *`, for a team (`--lock oci://BUCKET/OBJECT`).
//!
//! Both hold the same record, a [`Holder`] in JSON:
//! `{"who":"alice@build-7","host":"build-7","pid":4242,"command":"apply site.yaml","since":"2025-03-01T09:30:00Z"}`.
//! A second apply is refused with [`LockError::Held`], whose message names the holder and
//! the lock's age. A lock whose holder ran on this host and whose process is gone is
//! **stale**: still refused (another host may share the object, a pid may be reused), but
//! said so, with its age, so that `pexspec force-unlock` is an informed decision.

mod local;
mod oci;

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::time::{format_age, parse_rfc3339, rfc3339};

pub use local::LocalLock;
pub use oci::{
    DeleteOutcome, ObjectStore, OciLock, OciLockUrl, OciObjectStore, PutOutcome, StoreError,
    StoredObject,
};

/// Who holds a lock: the record written in the lock file or object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// `user@host`.
    pub who: String,
    /// The host name.
    #[serde(default)]
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
    /// The command it runs (`apply site.yaml`).
    pub command: String,
    /// When it took the lock, RFC 3339 in UTC.
    pub since: String,
}

impl Holder {
    /// This process, running `command`, from now.
    pub fn current(command: impl Into<String>) -> Self {
        let (user, host) = (current_user(), current_host());
        Self {
            who: format!("{user}@{host}"),
            host,
            pid: std::process::id(),
            command: command.into(),
            since: rfc3339(SystemTime::now()),
        }
    }

    /// When it took the lock (`None` if the record's time is unreadable).
    pub fn since(&self) -> Option<SystemTime> {
        parse_rfc3339(&self.since)
    }

    /// How long it has held the lock at `now`.
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        Some(now.duration_since(self.since()?).unwrap_or_default())
    }

    /// Whether the holder ran on this host and its process is gone. `false` when that
    /// cannot be known (another host, a platform without `/proc`).
    pub fn is_dead(&self) -> bool {
        self.host == current_host() && process_alive(self.pid) == Some(false)
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    pub(crate) fn from_json(bytes: &[u8]) -> Option<Self> {
        let mut h: Holder = serde_json::from_slice(bytes).ok()?;
        if h.host.is_empty() {
            h.host = h.who.rsplit_once('@').map(|(_, host)| host.to_owned())?;
        }
        Some(h)
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (pid {}, `{}`) since {}",
            self.who, self.pid, self.command, self.since
        )
    }
}

fn current_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The host name, without a C call: the kernel's, `/etc/hostname`, then the environment.
pub(crate) fn current_host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .chain(
            ["HOSTNAME", "COMPUTERNAME"]
                .iter()
                .filter_map(|v| std::env::var(v).ok()),
        )
        .map(|h| h.trim().to_owned())
        .find(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether process `pid` runs on this host; `None` where that cannot be told without a C
/// call (no `/proc`).
pub(crate) fn process_alive(pid: u32) -> Option<bool> {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(pid.to_string()).exists())
}

/// A lock as found: who holds it, for how long, whether it is stale, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockStatus {
    /// The holder.
    pub holder: Holder,
    /// How long it has been held (`None` if the record's time is unreadable).
    pub age: Option<Duration>,
    /// The holder ran on this host and its process is gone.
    pub stale: bool,
    /// The lock file or object (`.pexspec/lock`, `oci://ns@bucket/object`).
    pub location: String,
}

impl LockStatus {
    pub(crate) fn of(holder: Holder, location: String) -> Self {
        Self {
            age: holder.age(SystemTime::now()),
            stale: holder.is_dead(),
            holder,
            location,
        }
    }
}

impl fmt::Display for LockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is held by {}", self.location, self.holder)?;
        if let Some(age) = self.age {
            write!(f, " ({} ago)", format_age(age))?;
        }
        Ok(())
    }
}

/// Why a lock could not be taken, read or released.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds it.
    #[error("{}", held_message(.0))]
    Held(Box<LockStatus>),
    /// The lock file or directory could not be created, read or removed.
    #[error("cannot {action} the lock `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The lock exists but its record cannot be read.
    #[error(
        "the lock `{location}` exists but does not say who holds it{}: if no apply is running, remove it with `pexspec force-unlock`",
        age.map(|a| format!(" (written {} ago)", format_age(a))).unwrap_or_default()
    )]
    Unreadable {
        /// The lock file or object.
        location: String,
        /// Its age, from the file's modification time.
        age: Option<Duration>,
    },
    /// Object Storage failed.
    #[error("the lock `{location}`: {message}")]
    Store {
        /// The object.
        location: String,
        /// What failed.
        message: String,
    },
    /// The lock was taken over (force-unlocked and taken by someone else) while held.
    #[error(
        "the lock `{location}` was removed and taken by someone else while this run held it; it was left in place"
    )]
    Lost {
        /// The object or file.
        location: String,
    },
    /// A `--lock` value that is not `oci://[NAMESPACE@]BUCKET/OBJECT`.
    #[error("`{url}` is not a lock location: {problem}")]
    Url {
        /// The value given.
        url: String,
        /// What is wrong, and what to write.
        problem: String,
    },
}

fn held_message(status: &LockStatus) -> String {
    if status.stale {
        format!(
            "another run holds the lock: {status}; that process no longer runs on {}, so the lock is stale: if no apply is running, remove it with `pexspec force-unlock`",
            status.holder.host
        )
    } else {
        format!(
            "another run holds the lock: {status}; wait for it to finish (if it died, remove the lock with `pexspec force-unlock`)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(since: SystemTime) -> Holder {
        Holder {
            who: "alice@build-7".into(),
            host: "build-7".into(),
            pid: 4242,
            command: "apply site.yaml".into(),
            since: rfc3339(since),
        }
    }

    #[test]
    fn the_record_round_trips_and_names_its_holder() {
        let h = holder(SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_821_400));
        let json = h.to_json();
        assert_eq!(
            std::str::from_utf8(&json).unwrap(),
            "{\"who\":\"alice@build-7\",\"host\":\"build-7\",\"pid\":4242,\"command\":\"apply site.yaml\",\"since\":\"2025-03-01T09:30:00Z\"}\n"
        );
        assert_eq!(Holder::from_json(&json), Some(h.clone()));
        assert_eq!(
            h.to_string(),
            "alice@build-7 (pid 4242, `apply site.yaml`) since 2025-03-01T09:30:00Z"
        );
        // A record without `host` takes it from `who`.
        let old = br#"{"who":"bob@ci","pid":1,"command":"apply","since":"2025-03-01T09:30:00Z"}"#;
        assert_eq!(Holder::from_json(old).unwrap().host, "ci");
        assert_eq!(Holder::from_json(b"{}"), None);
    }

    #[test]
    fn a_held_lock_names_the_holder_and_its_age() {
        let now = SystemTime::now();
        let status = LockStatus {
            holder: holder(now - Duration::from_secs(3 * 3600 + 300)),
            age: Some(Duration::from_secs(3 * 3600 + 300)),
            stale: false,
            location: ".pexspec/lock".into(),
        };
        let text = LockError::Held(Box::new(status.clone())).to_string();
        assert!(
            text.starts_with("another run holds the lock: `.pexspec/lock` is held by alice@build-7 (pid 4242, `apply site.yaml`) since "),
            "{text}"
        );
        assert!(
            text.contains("(3 h 5 min ago); wait for it to finish"),
            "{text}"
        );
        let stale = LockStatus {
            stale: true,
            ..status
        };
        let text = LockError::Held(Box::new(stale)).to_string();
        assert!(
            text.ends_with("(3 h 5 min ago); that process no longer runs on build-7, so the lock is stale: if no apply is running, remove it with `pexspec force-unlock`"),
            "{text}"
        );
    }

    #[test]
    fn this_process_is_alive_and_a_pid_beyond_the_kernel_limit_is_not() {
        if process_alive(std::process::id()).is_none() {
            return; // No /proc: nothing can be told.
        }
        assert_eq!(process_alive(std::process::id()), Some(true));
        // Linux pids stop at 2^22.
        assert_eq!(process_alive(0x7fff_fff0), Some(false));
        let me = Holder::current("apply");
        assert!(!me.is_dead());
        let gone = Holder {
            pid: 0x7fff_fff0,
            ..me.clone()
        };
        assert!(gone.is_dead());
        let elsewhere = Holder {
            host: format!("not-{}", me.host),
            ..gone
        };
        assert!(!elsewhere.is_dead());
    }
}
