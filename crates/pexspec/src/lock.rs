//! The lock that keeps two applies of one stack apart: a file in `.pexspec/` by default, or,
//! for a team, an object in OCI Object Storage written with `if-none-match: *`
//! (`--lock oci://BUCKET/OBJECT`). `pexspec force-unlock` removes either.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use pexspec_journal::{
    Holder, LocalLock, LockError, LockStatus, OciLock, OciLockUrl, OciObjectStore, format_age,
};

use crate::world::World;
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Terminal};

/// A lock held for the length of a run.
pub(crate) struct Held {
    lock: Lock,
    note: Option<String>,
}

enum Lock {
    /// `.pexspec/lock`.
    Local(LocalLock),
    /// An Object Storage object.
    Oci(OciLock<OciObjectStore>),
}

impl Held {
    /// Releases the lock.
    pub async fn release(self) -> Result<(), String> {
        match self.lock {
            Lock::Local(lock) => lock.release().map_err(|e| e.to_string()),
            Lock::Oci(lock) => lock.release().await.map_err(|e| e.to_string()),
        }
    }

    /// What the user should know about how the lock was taken: that it was taken over from
    /// a dead run.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

/// Takes the lock for `command`: the Object Storage one if `url` is given, else the file.
///
/// A local lock whose holder ran on this host and whose process is gone (a run killed, a
/// machine that crashed) is taken over, with a note ([`Held::note`]): the journal makes the
/// next run safe whatever the dead one was doing, and nothing else can release it. Only one
/// of several runs that find it stale at once takes it over (see [`take_over`]). A lock of
/// another host, or in Object Storage, is never taken over: whether its holder lives cannot
/// be told from here.
pub(crate) async fn acquire(
    url: Option<&str>,
    state_dir: &Path,
    world: &World,
    command: &str,
) -> Result<Held, String> {
    let holder = Holder::current(command);
    let refused = |e: LockError| match e {
        LockError::Held(_) => format!(
            "{e}\n  help: wait for that run to end; if it is dead, `pexspec force-unlock` removes the lock"
        ),
        other => other.to_string(),
    };
    match url {
        None => match LocalLock::acquire(state_dir, &holder) {
            Ok(lock) => Ok(Held {
                lock: Lock::Local(lock),
                note: None,
            }),
            Err(LockError::Held(status)) if status.stale => {
                let dead = status.holder.clone();
                match take_over(state_dir, &dead, &holder) {
                    Ok(lock) => Ok(Held {
                        lock: Lock::Local(lock),
                        note: Some(format!(
                            "took over the lock of a run that is gone: it was {}",
                            describe(&status)
                        )),
                    }),
                    Err(e) => Err(refused(e)),
                }
            }
            Err(e) => Err(refused(e)),
        },
        Some(url) => {
            let (store, object) = oci_store(url, world).map_err(|e| e.to_string())?;
            OciLock::acquire(store, &object, &holder)
                .await
                .map(|lock| Held {
                    lock: Lock::Oci(lock),
                    note: None,
                })
                .map_err(refused)
        }
    }
}

/// The file that makes a takeover exclusive, beside the lock.
const TAKEOVER_FILE: &str = "lock.takeover";

/// A takeover guard older than this was left by a run that died while taking over (which
/// lasts milliseconds): it is removed.
const TAKEOVER_STALE: Duration = Duration::from_secs(60);

/// Removes the lock of `dead` and takes it for `holder`, under an exclusive guard file so
/// that of several runs that found the same stale lock, one removes it and takes it; the
/// others find the winner's live lock and are refused. The lock is removed only if it still
/// names `dead` once the guard is held.
fn take_over(state_dir: &Path, dead: &Holder, holder: &Holder) -> Result<LocalLock, LockError> {
    let guard = state_dir.join(TAKEOVER_FILE);
    let io = |action: &'static str| {
        let path = guard.clone();
        move |source| LockError::Io {
            action,
            path,
            source,
        }
    };
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&guard);
    let mut file = match created {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let age = std::fs::metadata(&guard)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok());
            if age.is_some_and(|a| a > TAKEOVER_STALE) {
                let _ = std::fs::remove_file(&guard);
            }
            // Another run is taking it over (or just did): see who holds it now.
            return match LocalLock::inspect(state_dir)? {
                Some(status) => Err(LockError::Held(Box::new(status))),
                None => LocalLock::acquire(state_dir, holder),
            };
        }
        Err(e) => return Err(io("create")(e)),
    };
    let _ = writeln!(file, "{}", holder.pid);
    drop(file);
    let taken = (|| {
        match LocalLock::inspect(state_dir)? {
            Some(status) if status.holder == *dead && status.stale => {
                LocalLock::force_unlock(state_dir)?;
            }
            Some(status) => return Err(LockError::Held(Box::new(status))),
            None => {}
        }
        LocalLock::acquire(state_dir, holder)
    })();
    // A guard left behind only delays the next takeover (see `TAKEOVER_STALE`).
    let _ = std::fs::remove_file(&guard);
    taken
}

/// The Object Storage object of `oci://[NS@]BUCKET/OBJECT`, through the world's client.
fn oci_store(url: &str, world: &World) -> Result<(OciObjectStore, String), LockError> {
    let url = OciLockUrl::parse(url)?;
    Ok(OciObjectStore::for_url(world.oci_client.clone(), &url))
}

fn describe(status: &LockStatus) -> String {
    let h = &status.holder;
    let mut text = format!(
        "held by {} (pid {}, `{}`) for {}",
        h.who,
        h.pid,
        h.command,
        status
            .age
            .map_or_else(|| "an unknown time".into(), format_age)
    );
    if status.stale {
        text.push_str("; its process is gone (stale)");
    }
    text
}

/// What `force-unlock` found.
enum Found {
    /// A lock that names its holder.
    Held(LockStatus),
    /// A lock whose record cannot be read (empty, cut short, garbage): where it is, its age
    /// when known, and the start of its content as shown.
    Unreadable {
        location: String,
        age: Option<Duration>,
        content: Option<Vec<u8>>,
    },
}

/// The content of an unreadable lock as it may be shown on a terminal: at most 200 bytes,
/// every control character and every byte that is not UTF-8 escaped.
fn shown(content: &[u8]) -> String {
    const MAX: usize = 200;
    if content.is_empty() {
        return "it is empty".into();
    }
    let head = &content[..content.len().min(MAX)];
    let text: String = String::from_utf8_lossy(head)
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    let more = if content.len() > MAX {
        format!(" (first {MAX} of {} bytes)", content.len())
    } else {
        String::new()
    };
    format!("it holds \"{text}\"{more}")
}

/// `pexspec force-unlock`: shows who holds the lock (or, when its record cannot be read, what
/// it holds), asks for `yes`, removes it.
pub(crate) async fn force_unlock(
    url: Option<&str>,
    state_dir: &Path,
    world: Option<&World>,
    yes: bool,
    term: Terminal,
    err: &mut dyn Write,
) -> u8 {
    let store = match (url, world) {
        (None, _) => None,
        (Some(url), Some(world)) => match oci_store(url, world) {
            Ok(store) => Some(store),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return EXIT_USAGE;
            }
        },
        (Some(_), None) => return EXIT_FAILURE,
    };
    let status = match &store {
        None => LocalLock::inspect(state_dir),
        Some((store, object)) => OciLock::inspect(store, object).await,
    };
    let found = match status {
        Ok(Some(status)) => Found::Held(status),
        Ok(None) => {
            let _ = writeln!(err, "There is no lock to remove.");
            return EXIT_OK;
        }
        Err(LockError::Unreadable { location, age }) => {
            let content = match &store {
                None => std::fs::read(state_dir.join(pexspec_journal::LOCK_FILE)).ok(),
                Some((store, object)) => {
                    use pexspec_journal::ObjectStore as _;
                    store.get(object).await.ok().flatten().map(|o| o.data)
                }
            };
            Found::Unreadable {
                location,
                age,
                content,
            }
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_FAILURE;
        }
    };
    match &found {
        Found::Held(status) => {
            let _ = writeln!(err, "The lock is {}.", describe(status));
        }
        Found::Unreadable {
            location,
            age,
            content,
        } => {
            let _ = writeln!(
                err,
                "The lock `{location}` does not say who holds it{}: {}.",
                age.map(|a| format!(" (written {} ago)", format_age(a)))
                    .unwrap_or_default(),
                content
                    .as_deref()
                    .map_or_else(|| "its content cannot be read".into(), shown)
            );
        }
    }
    if !yes {
        if !term.stdin_is_tty {
            let _ = writeln!(
                err,
                "error: refusing to remove it without confirmation: standard input is not a terminal\n  help: pass `--yes` if you are sure no run holds it"
            );
            return EXIT_USAGE;
        }
        if !crate::ask_yes(
            err,
            format_args!(
                "Removing a lock a live run holds lets two runs change the stack at once.\n  Only 'yes' will be accepted to remove it.\n\n  Enter a value: "
            ),
        ) {
            let _ = writeln!(err, "force-unlock cancelled: the lock is kept.");
            return EXIT_FAILURE;
        }
    }
    // Both removals take whatever is there, unreadable or not.
    let removed = match &store {
        None => LocalLock::force_unlock(state_dir),
        Some((store, object)) => OciLock::force_unlock(store, object).await,
    };
    match removed {
        Ok(_) => {
            let _ = writeln!(err, "Lock removed.");
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_FAILURE
        }
    }
}
