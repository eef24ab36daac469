//! The lock that keeps two applies of one stack apart: a file in `.pexspec/` by default, or,
//! for a team, an object in OCI Object Storage written with `if-none-match: *`
//! (`--lock oci://BUCKET/OBJECT`). `pexspec force-unlock` removes either.

use std::io::Write;
use std::path::Path;

use pexspec_journal::{
    Holder, LocalLock, LockError, LockStatus, OciLock, OciLockUrl, OciObjectStore, format_age,
};

use crate::world::World;
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Terminal};

/// A lock held for the length of a run.
pub(crate) enum Held {
    /// `.pexspec/lock`.
    Local(LocalLock),
    /// An Object Storage object.
    Oci(OciLock<OciObjectStore>),
}

impl Held {
    /// Releases the lock.
    pub async fn release(self) -> Result<(), String> {
        match self {
            Held::Local(lock) => lock.release().map_err(|e| e.to_string()),
            Held::Oci(lock) => lock.release().await.map_err(|e| e.to_string()),
        }
    }
}

/// Takes the lock for `command`: the Object Storage one if `url` is given, else the file.
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
        None => LocalLock::acquire(state_dir, &holder)
            .map(Held::Local)
            .map_err(refused),
        Some(url) => {
            let url = OciLockUrl::parse(url).map_err(|e| e.to_string())?;
            let (store, object) = OciObjectStore::for_url(world.oci_client.clone(), &url);
            OciLock::acquire(store, &object, &holder)
                .await
                .map(Held::Oci)
                .map_err(refused)
        }
    }
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

/// `pexspec force-unlock`: shows who holds the lock, asks for `yes`, removes it.
pub(crate) async fn force_unlock(
    url: Option<&str>,
    state_dir: &Path,
    world: Option<&World>,
    yes: bool,
    term: Terminal,
    err: &mut dyn Write,
) -> u8 {
    let status = match (url, world) {
        (None, _) => LocalLock::inspect(state_dir),
        (Some(url), Some(world)) => match OciLockUrl::parse(url) {
            Ok(url) => {
                let (store, object) = OciObjectStore::for_url(world.oci_client.clone(), &url);
                OciLock::inspect(&store, &object).await
            }
            Err(e) => Err(e),
        },
        (Some(_), None) => return EXIT_FAILURE,
    };
    let status = match status {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = writeln!(err, "There is no lock to remove.");
            return EXIT_OK;
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_FAILURE;
        }
    };
    let _ = writeln!(err, "The lock is {}.", describe(&status));
    if !yes {
        if !term.stdin_is_tty {
            let _ = writeln!(
                err,
                "error: refusing to remove it without confirmation: standard input is not a terminal\n  help: pass `--yes` if you are sure no run holds it"
            );
            return EXIT_USAGE;
        }
        let _ = write!(
            err,
            "Removing a lock a live run holds lets two runs change the stack at once.\n  Only 'yes' will be accepted to remove it.\n\n  Enter a value: "
        );
        let _ = err.flush();
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line).is_err()
            || line.trim() != "yes"
        {
            let _ = writeln!(err, "force-unlock cancelled: the lock is kept.");
            return EXIT_FAILURE;
        }
    }
    let removed = match (url, world) {
        (None, _) => LocalLock::force_unlock(state_dir),
        (Some(url), Some(world)) => match OciLockUrl::parse(url) {
            Ok(url) => {
                let (store, object) = OciObjectStore::for_url(world.oci_client.clone(), &url);
                OciLock::force_unlock(&store, &object).await
            }
            Err(e) => Err(e),
        },
        (Some(_), None) => return EXIT_FAILURE,
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
