//! The file helpers every writer of `.pexspec/` uses (the journal, the locks, the binary's
//! trust pin, the simulators' stand-ins and secrets): private directories and files, files
//! written whole or not at all, and names that may not leave their directory.
//!
//! Several processes may run in one folder at once (a `plan` beside an `apply`, two `--sim`
//! runs), and only an apply holds the lock: whatever a run writes outside the lock is
//! written to a temporary file of its own (a name no other process or thread uses), synced,
//! and renamed over the target, so a reader sees the old file or the new one, never half of
//! one, and two writers never trip over each other's temporary file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::JournalError;

pub(crate) fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io {
        action,
        path,
        source,
    }
}

/// Creates `dir` (and its parents) if missing and makes it `0700`: the journal and the lock
/// say what is deployed, by whom, and hold sealed secrets.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    restrict(dir, 0o700)
}

/// Sets the permission bits of an existing file or directory to `mode` if it grants more
/// (a file made by an older version, or by hand).
pub fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if current & !mode != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The permission bits of a file (`None` where the platform has none).
pub(crate) fn mode(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(Some(std::fs::metadata(path)?.permissions().mode() & 0o777))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path)?;
        Ok(None)
    }
}

/// Creates a new file readable by its owner only; fails if it exists.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes the directory entries of `dir` durable (a created or removed file survives a
/// power cut).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A temporary name beside `path` that no other process, and no other thread of this one,
/// uses: `.NAME.PID.N.tmp`.
pub fn temp_beside(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `bytes` to `path` whole or not at all: to a temporary file of this call's own
/// beside it ([`temp_beside`]), synced, then renamed over `path`. Readers see the old file
/// or the new one; concurrent writers each rename a complete file (the last one wins). The
/// file is readable by its owner only (`0600`) when `private`. Creates `path`'s directory
/// if missing.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = temp_beside(path);
    let written = (|| {
        let mut file = if private {
            create_private(&tmp)?
        } else {
            OpenOptions::new().write(true).create_new(true).open(&tmp)?
        };
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_dir(dir)
}

/// Creates `path` holding `bytes`, only its owner can read it, if it does not exist yet:
/// `Ok(true)` when this call created it, `Ok(false)` when it existed (and is left as it
/// was). The content is written to a temporary file first and linked to `path` (`link`
/// fails if `path` exists, like `O_EXCL`), so of two creators exactly one wins and nobody
/// reads a half-written file. Where the file system has no hard links, `path` is created
/// with `create_new` and written in place.
pub fn create_whole(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let tmp = temp_beside(path);
    let written = create_private(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => sync_dir(dir).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // No hard links here: create the file in place.
        Err(_) => {
            let mut file = match create_private(path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
                Err(e) => return Err(e),
            };
            let written = file
                .write_all(bytes)
                .and_then(|()| file.sync_all())
                .and_then(|()| sync_dir(dir));
            if written.is_err() {
                let _ = std::fs::remove_file(path);
            }
            written.map(|()| true)
        }
    }
}

/// [`write_atomic`] of a file only its owner can read (`0600`).
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, bytes, true)
}

/// `dir/name`, where `name` (a spec's or the command line's name of something: a Management
/// Node, an image file) must be one plain file name that stays in `dir`: not empty, not `.`
/// or `..`, no `/` or `\`, no NUL, not absolute. Anything else is refused
/// ([`io::ErrorKind::InvalidInput`]), so a name never makes a path outside its directory.
pub fn child(dir: &Path, name: &str) -> io::Result<PathBuf> {
    let plain = !name.is_empty()
        && !name.contains(['/', '\\', '\0'])
        && matches!(
            Path::new(name).components().collect::<Vec<_>>().as_slice(),
            [Component::Normal(n)] if *n == std::ffi::OsStr::new(name)
        );
    if plain {
        Ok(dir.join(name))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is not a plain file name: it may not contain `/` or `\\`, be `.` or `..`, or be empty",
                name.escape_debug()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_keeps_names_in_their_directory() {
        let dir = Path::new("/state/pexip");
        assert_eq!(child(dir, "pexmgr").unwrap(), dir.join("pexmgr"));
        assert_eq!(child(dir, "mgr.v2_x-1").unwrap(), dir.join("mgr.v2_x-1"));
        for bad in [
            "",
            ".",
            "..",
            "../../../evilmgr",
            "/etc/evil",
            "a/b",
            "a\\b",
            "a\0b",
            "./x",
            "x/",
        ] {
            let e = child(dir, bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn concurrent_atomic_writers_never_fail_and_readers_never_see_half_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        // Each writer writes a file of one repeated byte: a reader that finds mixed bytes or
        // a short file has seen a half-written one.
        let size = 256 * 1024;
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = &path;
                    s.spawn(move || {
                        for _ in 0..20 {
                            write_private(path, &vec![b'a' + i; size]).unwrap();
                        }
                    })
                })
                .collect();
            let reader = s.spawn(|| {
                let mut seen = 0;
                while seen < 200 {
                    if let Ok(bytes) = std::fs::read(&path) {
                        assert_eq!(bytes.len(), size, "a short file was read");
                        assert!(
                            bytes.iter().all(|b| *b == bytes[0]),
                            "a mixed file was read"
                        );
                        seen += 1;
                    }
                }
            });
            for w in writers {
                w.join().unwrap();
            }
            reader.join().unwrap();
        });
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config")]);
        #[cfg(unix)]
        assert_eq!(mode(&path).unwrap(), Some(0o600));
    }
}
