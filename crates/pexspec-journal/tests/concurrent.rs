//! Readers never make a writer fail: `pexspec plan` (a read-only journal) beside a running
//! `apply` (the writer), as two connections to one journal, the way two processes hold it.
//! The writer records every answer, whatever the readers do; a read-only journal writes
//! nothing and reads while a writer holds the write lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pexspec_exec::{CallAction, CallIntent, CallJournal, CallOutcome, CallResult};
use pexspec_graph::{Address, Kind};
use pexspec_journal::{CallState, DB_FILE, Journal, RunInfo};

fn info() -> RunInfo {
    RunInfo {
        command: "apply site.yaml".into(),
        stack: "t".into(),
        spec_hash: pexspec_journal::spec_hash(b"stack: t"),
        who: "alice@build-7".into(),
    }
}

fn intent(address: &Address) -> CallIntent<'_> {
    CallIntent {
        address,
        kind: address.kind(),
        region: Some("eu-frankfurt-1"),
        action: CallAction::Create,
        retry_token: Some("tok"),
        resource_id: None,
    }
}

const SUCCEEDED: CallResult<'static> = CallResult {
    outcome: CallOutcome::Succeeded,
    resource_id: Some("ocid1.vcn.oc1..x"),
    error: None,
};

/// The journal's data: the database and its write-ahead log, without the empty log SQLite
/// makes for a reader.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    [DB_FILE, "journal.db-wal"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .filter(|(_, bytes)| !bytes.is_empty())
        .collect()
}

#[test]
fn readers_beside_a_writer_never_make_it_fail() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join(".pexspec");
    let writer = Journal::open(&state).unwrap();
    let run = writer.begin_run(&info()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Two readers, each its own connection opened again and again, as `plan` runs beside the
    // apply: one read-only (what `plan` opens now), one opened for writing (what `plan`
    // opened before, committing its schema transaction each time).
    let readers: Vec<_> = [true, false]
        .into_iter()
        .map(|read_only| {
            let (state, stop) = (state.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut reads = 0_u64;
                while !stop.load(Ordering::SeqCst) || reads == 0 {
                    let j = if read_only {
                        Journal::open_read_only(&state)
                    } else {
                        Journal::open(&state)
                    }
                    .unwrap();
                    j.runs(None).unwrap();
                    j.pending("t").unwrap();
                    j.sensitive_addresses("t").unwrap();
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let address = Address::new(Kind::Vcn, "a");
    let mut ids = Vec::new();
    for _ in 0..300 {
        let id = run.intent(&intent(&address)).unwrap();
        run.result(id, &SUCCEEDED)
            .unwrap_or_else(|e| panic!("a reader made the writer fail: {e:?}"));
        ids.push(id);
    }
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    // Every answer is there.
    let calls = writer.calls(run.id()).unwrap();
    assert_eq!(calls.len(), ids.len());
    assert!(calls.iter().all(|c| c.state == CallState::Succeeded));
}

#[test]
fn a_read_only_journal_writes_nothing_and_reads_beside_a_held_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join(".pexspec");
    {
        let writer = Journal::open(&state).unwrap();
        let run = writer.begin_run(&info()).unwrap();
        let a = Address::new(Kind::Vcn, "a");
        let id = run.intent(&intent(&a)).unwrap();
        run.result(id, &SUCCEEDED).unwrap();
    }
    // Closed: no WAL left. A read-only journal reads it and leaves every byte as it was.
    let before = files(&state);
    {
        let reader = Journal::open_read_only(&state).unwrap();
        assert_eq!(reader.runs(None).unwrap().len(), 1);
    }
    assert_eq!(files(&state), before);

    // A writer holds the write lock (another process mid-transaction): the read-only
    // journal opens and reads without waiting for it.
    let lock = rusqlite::Connection::open(state.join(DB_FILE)).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let reader = Journal::open_read_only(&state).unwrap();
    assert_eq!(reader.runs(None).unwrap().len(), 1);
    // And a reader with a read open does not stop the writer from committing.
    lock.execute_batch("COMMIT;").unwrap();
    let writer = Journal::open(&state).unwrap();
    let run = writer.begin_run(&info()).unwrap();
    let b = Address::new(Kind::Vcn, "b");
    let id = run.intent(&intent(&b)).unwrap();
    run.result(id, &SUCCEEDED).unwrap();
    assert_eq!(reader.runs(None).unwrap().len(), 2);
}
