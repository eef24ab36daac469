//! The local lock: one holder at a time (even among threads started together), a second
//! apply refused with the holder named, a stale lock reported with its age, force-unlock,
//! release on drop that never removes someone else's lock.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use pexspec_journal::{Holder, LOCK_FILE, LocalLock, LockError};

fn holder(name: &str, pid: u32) -> Holder {
    let mut h = Holder::current("apply site.yaml");
    h.who = format!("{name}@{}", h.host);
    h.pid = pid;
    h
}

fn held(e: LockError) -> pexspec_journal::LockStatus {
    match e {
        LockError::Held(status) => *status,
        other => panic!("expected Held, got {other}"),
    }
}

#[test]
fn a_second_apply_is_refused_with_the_holder_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let alice = holder("alice", std::process::id());
    let lock = LocalLock::acquire(&dir, &alice).unwrap();
    assert_eq!(lock.holder(), &alice);
    let bob = holder("bob", std::process::id());
    let e = LocalLock::acquire(&dir, &bob).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "another run holds the lock: `{}` is held by {} (pid {}, `apply site.yaml`) since {} (",
            dir.join(LOCK_FILE).display(),
            alice.who,
            alice.pid,
            alice.since
        )),
        "{text}"
    );
    assert!(text.contains(" s ago); wait for it to finish"), "{text}");
    let status = held(e);
    assert_eq!(status.holder, alice);
    assert!(!status.stale);
    assert!(status.age.unwrap() < Duration::from_secs(60));
    assert_eq!(LocalLock::inspect(&dir).unwrap().unwrap().holder, alice);
    drop(lock);
    assert!(!dir.join(LOCK_FILE).exists());
    assert_eq!(LocalLock::inspect(&dir).unwrap(), None);
    let lock = LocalLock::acquire(&dir, &bob).unwrap();
    lock.release().unwrap();
    assert!(!dir.join(LOCK_FILE).exists());
}

#[test]
fn of_applies_started_together_exactly_one_gets_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|k| {
            let (dir, barrier) = (dir.clone(), barrier.clone());
            std::thread::spawn(move || {
                let me = holder(&format!("user{k}"), std::process::id());
                barrier.wait();
                let got = LocalLock::acquire(&dir, &me);
                // Hold it until every thread has tried.
                barrier.wait();
                got.map(|l| l.holder().clone()).map_err(|e| held(e).holder)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let winners: Vec<&Holder> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        if let Err(h) = r {
            assert_eq!(h, winners[0], "every loser names the winner");
        }
    }
}

/// Writes a lock file by hand, as another process would have.
fn plant(dir: &Path, h: &Holder) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(LOCK_FILE), serde_json::to_vec(h).unwrap()).unwrap();
}

fn rfc3339_ago(secs: u64) -> String {
    // The format the locks write, computed independently: seconds since the epoch → UTC.
    let t = SystemTime::now() - Duration::from_secs(secs);
    let s = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (s / 86_400, s % 86_400);
    // Civil from days (1970-01-01 = day 0).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[test]
fn a_lock_whose_process_is_gone_is_reported_stale_with_its_age_and_still_refused() {
    if !Path::new("/proc/self").exists() {
        return; // Liveness cannot be told without /proc.
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let mut dead = holder("carol", 0x7fff_fff0);
    dead.since = rfc3339_ago(2 * 3600 + 10 * 60);
    plant(&dir, &dead);
    let e = LocalLock::acquire(&dir, &holder("bob", std::process::id())).unwrap_err();
    let text = e.to_string();
    assert!(
        text.ends_with(&format!(
            "(2 h 10 min ago); that process no longer runs on {}, so the lock is stale: if no apply is running, remove it with `pexspec force-unlock`",
            dead.host
        )),
        "{text}"
    );
    let status = held(e);
    assert!(status.stale);
    assert_eq!(status.holder, dead);
    // The same record from another host is not called stale: its pid means nothing here.
    let mut elsewhere = dead.clone();
    elsewhere.host = format!("not-{}", dead.host);
    elsewhere.who = format!("carol@{}", elsewhere.host);
    plant(&dir, &elsewhere);
    let status = held(LocalLock::acquire(&dir, &holder("bob", 1)).unwrap_err());
    assert!(!status.stale);
}

#[test]
fn force_unlock_removes_the_lock_and_names_who_held_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    assert_eq!(LocalLock::force_unlock(&dir).unwrap(), None);
    let alice = holder("alice", std::process::id());
    let lock = LocalLock::acquire(&dir, &alice).unwrap();
    assert_eq!(LocalLock::force_unlock(&dir).unwrap(), Some(alice.clone()));
    let bob = holder("bob", std::process::id());
    let bobs = LocalLock::acquire(&dir, &bob).unwrap();
    // Alice's run ends: its release does not remove Bob's lock.
    let e = lock.release().unwrap_err();
    assert!(matches!(e, LockError::Lost { .. }), "{e}");
    assert_eq!(LocalLock::inspect(&dir).unwrap().unwrap().holder, bob);
    drop(bobs);
    assert_eq!(LocalLock::inspect(&dir).unwrap(), None);
}

#[test]
fn an_unreadable_lock_file_is_refused_and_can_be_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    std::fs::create_dir_all(&dir).unwrap();
    // A crash between creating the file and writing it.
    std::fs::write(dir.join(LOCK_FILE), b"").unwrap();
    let e = LocalLock::acquire(&dir, &holder("bob", 1)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "the lock `{}` exists but does not say who holds it (written ",
            dir.join(LOCK_FILE).display()
        )),
        "{text}"
    );
    assert!(
        text.ends_with("ago): if no apply is running, remove it with `pexspec force-unlock`"),
        "{text}"
    );
    assert_eq!(LocalLock::force_unlock(&dir).unwrap(), None);
    assert!(LocalLock::acquire(&dir, &holder("bob", 1)).is_ok());
}

#[cfg(unix)]
#[test]
fn the_lock_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let _lock = LocalLock::acquire(&dir, &holder("alice", 1)).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(LOCK_FILE)), 0o600);
}
