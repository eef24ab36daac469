//! The local lock: `.pexspec/lock`, created exclusively (a hard link from a complete
//! temporary file, or `create_new`), so of two applies started together exactly one gets
//! it, and nobody reads a half-written record.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{Holder, LockError, LockStatus};
use crate::LOCK_FILE;
use crate::fsutil::{create_whole, private_dir, sync_dir};

/// The local lock of a state directory, released when dropped.
#[derive(Debug)]
pub struct LocalLock {
    path: PathBuf,
    holder: Holder,
    released: bool,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LockError {
    let path = path.to_path_buf();
    move |source| LockError::Io {
        action,
        path,
        source,
    }
}

/// What the lock file holds now: nothing, a holder, or something unreadable (with the
/// file's age).
enum Found {
    Nothing,
    Holder(Holder),
    Unreadable(Option<std::time::Duration>),
}

fn read(path: &Path) -> Result<Found, LockError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(match Holder::from_json(&bytes) {
            Some(h) => Found::Holder(h),
            None => {
                let age = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                Found::Unreadable(age)
            }
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Found::Nothing),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Writes `holder` to `path` if it does not exist (`AlreadyExists` if it does), whole.
fn publish(path: &Path, holder: &Holder) -> std::io::Result<()> {
    if create_whole(path, &holder.to_json())? {
        Ok(())
    } else {
        Err(std::io::ErrorKind::AlreadyExists.into())
    }
}

impl LocalLock {
    /// Takes the lock of the state directory `dir` (creating the directory, `0700`) for
    /// `holder`, or says who holds it ([`LockError::Held`], stale or not).
    ///
    /// The record is written to a private temporary file first and then linked to `lock`
    /// (`link` fails if `lock` exists, like `O_EXCL`), so nobody ever reads a half-written
    /// lock. Where the file system has no hard links, `lock` is created with `create_new`
    /// and written in place.
    pub fn acquire(dir: &Path, holder: &Holder) -> Result<Self, LockError> {
        private_dir(dir).map_err(io("create", dir))?;
        let path = dir.join(LOCK_FILE);
        // The file may vanish between a failed create and the read of its holder (its
        // holder released it): try again, a few times.
        for _ in 0..3 {
            match publish(&path, holder) {
                Ok(()) => {
                    return Ok(Self {
                        path,
                        holder: holder.clone(),
                        released: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if let Some(status) = Self::status_at(&path)? {
                        return Err(LockError::Held(Box::new(status)));
                    }
                }
                Err(e) => return Err(io("create", &path)(e)),
            }
        }
        Err(LockError::Io {
            action: "take",
            path,
            source: std::io::Error::other("it was taken and released again three times in a row"),
        })
    }

    fn status_at(path: &Path) -> Result<Option<LockStatus>, LockError> {
        match read(path)? {
            Found::Nothing => Ok(None),
            Found::Holder(h) => Ok(Some(LockStatus::of(h, path.display().to_string()))),
            Found::Unreadable(age) => Err(LockError::Unreadable {
                location: path.display().to_string(),
                age,
            }),
        }
    }

    /// Who holds the lock of `dir`, if anyone.
    pub fn inspect(dir: &Path) -> Result<Option<LockStatus>, LockError> {
        Self::status_at(&dir.join(LOCK_FILE))
    }

    /// Removes the lock of `dir` whoever holds it, and returns who did (`None` if there was
    /// no lock, or its record was unreadable). The caller asks for confirmation first.
    pub fn force_unlock(dir: &Path) -> Result<Option<Holder>, LockError> {
        let path = dir.join(LOCK_FILE);
        let holder = match read(&path)? {
            Found::Nothing => return Ok(None),
            Found::Holder(h) => Some(h),
            Found::Unreadable(_) => None,
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("remove", &path)(e)),
        }
        sync_dir(dir).map_err(io("remove", &path))?;
        Ok(holder)
    }

    /// The holder this lock was taken for.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Releases the lock now (dropping it does the same, ignoring errors). A lock file that
    /// no longer holds this holder (force-unlocked and taken by another run) is left alone.
    pub fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        self.remove_if_ours()
    }

    fn remove_if_ours(&self) -> Result<(), LockError> {
        match read(&self.path)? {
            Found::Holder(h) if h == self.holder => match std::fs::remove_file(&self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io("remove", &self.path)(e)),
            },
            Found::Nothing => Ok(()),
            _ => Err(LockError::Lost {
                location: self.path.display().to_string(),
            }),
        }
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = self.remove_if_ours();
        }
    }
}
