//! The journal on disk: it survives a reopen; a create with an intent and no result is
//! pending, then found or lost; its files are private; a sensitive output is nowhere in
//! clear; and with the executor, a crashed run's create is polled, not repeated, and a
//! bootstrap after a crash gets its file from the journal.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use pexspec_exec::testing::{Call, Fault, SimProvider, SimTiming};
use pexspec_exec::{
    CallAction, CallIntent, CallJournal, CallOutcome, CallResult, EventLog, ExecOptions, Executor,
    Outcome, RetryPolicy, SensitiveSink,
};
use pexspec_graph::testing::{SpecParams, spec_yaml};
use pexspec_graph::{Address, Graph, Kind, Node, Ref};
use pexspec_journal::{
    CallState, DB_FILE, Journal, JournalError, KEY_FILE, RunInfo, RunJournal, RunStatus,
};
use pexspec_plan::{
    Action, CreateRequest, DynProvider, ObservedState, ProviderError, Scope, Sensitive, plan,
    retry_token,
};
use serde_json::json;

const GRACE: Duration = Duration::from_secs(60);

/// A clock the test moves: milliseconds since the epoch.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(AtomicU64::new(1_740_821_400_000)))
    }

    fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as u64, Ordering::SeqCst);
    }

    fn open(&self, dir: &Path) -> Journal {
        let ms = self.0.clone();
        Journal::open_with_clock(dir, move || {
            UNIX_EPOCH + Duration::from_millis(ms.load(Ordering::SeqCst))
        })
        .unwrap()
    }
}

fn info(stack: &str) -> RunInfo {
    RunInfo {
        command: "apply site.yaml".into(),
        stack: stack.into(),
        spec_hash: pexspec_journal::spec_hash(b"stack: t"),
        who: "alice@build-7".into(),
    }
}

fn vcn(key: &str) -> Address {
    Address::new(Kind::Vcn, key)
}

fn intent<'a>(address: &'a Address, action: CallAction, token: Option<&'a str>) -> CallIntent<'a> {
    CallIntent {
        address,
        kind: address.kind(),
        region: Some("eu-frankfurt-1"),
        action,
        retry_token: token,
        resource_id: None,
    }
}

fn succeeded(id: &str) -> CallResult<'_> {
    CallResult {
        outcome: CallOutcome::Succeeded,
        resource_id: Some(id),
        error: None,
    }
}

/// Every file of the journal (database, WAL, shared memory), whole.
fn journal_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["journal.db", "journal.db-wal", "journal.db-shm"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_journal_survives_a_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let clock = TestClock::new();
    let worker = Address::new(Kind::WorkerVm, "pexconf01");
    let (run_id, first) = {
        let journal = clock.open(&dir);
        let run = journal.begin_run(&info("t")).unwrap();
        let a = vcn("a");
        let id = run
            .intent(&intent(&a, CallAction::Create, Some("tok-a")))
            .unwrap();
        run.result(id, &succeeded("ocid1.vcn.oc1..a")).unwrap();
        let failed = run.intent(&intent(&a, CallAction::Update, None)).unwrap();
        let conflict = ProviderError::Conflict {
            address: "vcn[a]".into(),
            message: "the etag moved; body {\"displayName\":\"x\"}".into(),
        };
        run.result(
            failed,
            &CallResult {
                outcome: CallOutcome::Failed,
                resource_id: None,
                error: Some(&conflict),
            },
        )
        .unwrap();
        run.store(&worker, &Sensitive::new("<config/>")).unwrap();
        run.finish(RunStatus::Failed).unwrap();
        (run.id(), id)
    };
    let journal = clock.open(&dir);
    let runs = journal.runs(Some("t")).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, run_id);
    assert_eq!(runs[0].command, "apply site.yaml");
    assert_eq!(runs[0].who, "alice@build-7");
    assert_eq!(runs[0].status.as_deref(), Some("failed"));
    assert!(runs[0].finished.is_some());
    let calls = journal.calls(run_id).unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, first);
    assert_eq!(calls[0].seq, 0);
    assert_eq!(calls[0].action, CallAction::Create);
    assert_eq!(calls[0].retry_token.as_deref(), Some("tok-a"));
    assert_eq!(calls[0].state, CallState::Succeeded);
    assert_eq!(calls[0].resource_id.as_deref(), Some("ocid1.vcn.oc1..a"));
    assert_eq!(calls[1].state, CallState::Failed);
    // The class only: the provider's message (which may quote a request) is not kept.
    assert_eq!(calls[1].error_class.as_deref(), Some("conflict"));
    for (path, bytes) in journal_bytes(&dir) {
        assert!(!contains(&bytes, b"the etag moved"), "{}", path.display());
    }
    assert_eq!(
        journal.sensitive("t", &worker).unwrap().unwrap().expose(),
        b"<config/>"
    );
    assert_eq!(journal.sensitive("other", &worker).unwrap(), None);
    assert_eq!(journal.sensitive_addresses("t").unwrap(), [worker]);
}

#[test]
fn a_create_with_an_intent_and_no_result_is_pending_then_found_or_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let clock = TestClock::new();
    {
        let journal = clock.open(&dir);
        let run = journal.begin_run(&info("t")).unwrap();
        // Crashed after sending: no result.
        run.intent(&intent(&vcn("a"), CallAction::Create, Some("tok-a")))
            .unwrap();
        run.intent(&intent(&vcn("b"), CallAction::Create, Some("tok-b")))
            .unwrap();
        // Its answer was lost: it may have happened.
        let c = run
            .intent(&intent(&vcn("c"), CallAction::Create, Some("tok-c")))
            .unwrap();
        let lost = ProviderError::Network {
            message: "reset".into(),
        };
        run.result(
            c,
            &CallResult {
                outcome: CallOutcome::Unknown,
                resource_id: None,
                error: Some(&lost),
            },
        )
        .unwrap();
        // Answered: not pending (and done long enough ago below).
        let d = run
            .intent(&intent(&vcn("d"), CallAction::Create, None))
            .unwrap();
        run.result(d, &succeeded("ocid1.vcn.oc1..d")).unwrap();
        // Created then deleted, the delete in flight: the latest call is not a create.
        let e = run
            .intent(&intent(&vcn("e"), CallAction::Create, None))
            .unwrap();
        run.result(e, &succeeded("ocid1.vcn.oc1..e")).unwrap();
        run.intent(&intent(&vcn("e"), CallAction::Delete, None))
            .unwrap();
        // Another stack's open create is not this stack's business.
        let other = journal.begin_run(&info("other")).unwrap();
        other
            .intent(&intent(&vcn("a"), CallAction::Create, None))
            .unwrap();
    }
    clock.advance(Duration::from_secs(5));
    let journal = clock.open(&dir);
    let pending: Vec<(String, CallState, Option<String>)> = journal
        .pending("t")
        .unwrap()
        .into_iter()
        .map(|p| (p.address.to_string(), p.state, p.retry_token))
        .collect();
    assert_eq!(
        pending,
        [
            ("vcn[a]".into(), CallState::Open, Some("tok-a".into())),
            ("vcn[b]".into(), CallState::Open, Some("tok-b".into())),
            ("vcn[c]".into(), CallState::Unknown, Some("tok-c".into())),
        ]
    );

    // `a` is listed now; `b`, `c` and `d` are not yet: wait for them.
    let mut observed = ObservedState::new();
    observed.insert(pexspec_plan::Observed {
        kind: Kind::Vcn,
        address: vcn("a"),
        id: "ocid1.vcn.oc1..a".into(),
        region: Some("eu-frankfurt-1".into()),
        fields: json!({}),
        etag: None,
        state: Some("AVAILABLE".into()),
    });
    let r = journal.reconcile("t", &mut observed, GRACE).unwrap();
    let names = |v: &[Address]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(names(&r.found), ["vcn[a]"]);
    assert_eq!(names(&r.pending), ["vcn[b]", "vcn[c]", "vcn[d]"]);
    assert!(r.lost.is_empty());
    assert_eq!(
        observed
            .pending
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["vcn[b]", "vcn[c]", "vcn[d]"]
    );
    let still_open: Vec<Address> = journal
        .pending("t")
        .unwrap()
        .into_iter()
        .map(|p| p.address)
        .collect();
    assert_eq!(names(&still_open), ["vcn[b]", "vcn[c]"]);

    // Past the grace period, still not listed: they never happened (or were deleted).
    clock.advance(GRACE);
    let mut observed = ObservedState::new();
    let r = journal.reconcile("t", &mut observed, GRACE).unwrap();
    assert_eq!(names(&r.lost), ["vcn[b]", "vcn[c]"]);
    assert!(r.pending.is_empty() && r.found.is_empty());
    assert!(observed.pending.is_empty());
    assert!(journal.pending("t").unwrap().is_empty());
    let calls = journal
        .calls(journal.runs(Some("t")).unwrap()[0].id)
        .unwrap();
    let states: Vec<(String, CallState)> = calls
        .iter()
        .map(|c| (format!("{} {}", c.action, c.address), c.state))
        .collect();
    assert_eq!(
        states,
        [
            ("create vcn[a]".into(), CallState::Found),
            ("create vcn[b]".into(), CallState::Lost),
            ("create vcn[c]".into(), CallState::Lost),
            ("create vcn[d]".into(), CallState::Succeeded),
            ("create vcn[e]".into(), CallState::Succeeded),
            ("delete vcn[e]".into(), CallState::Open),
        ]
    );
    assert_eq!(calls[0].resource_id.as_deref(), Some("ocid1.vcn.oc1..a"));
}

#[cfg(unix)]
#[test]
fn the_journal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    // A state directory `--sim` made with the default umask is tightened.
    std::fs::create_dir_all(dir.join("sim")).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let journal = Journal::open(&dir).unwrap();
    let run = journal.begin_run(&info("t")).unwrap();
    run.intent(&intent(&vcn("a"), CallAction::Create, None))
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for f in [DB_FILE, KEY_FILE, "journal.db-wal", "journal.db-shm"] {
        let p = dir.join(f);
        assert!(p.exists(), "{f}");
        assert_eq!(mode(&p), 0o600, "{f}");
    }
    drop(run);
    drop(journal);
    // A key others may read is refused, not used.
    std::fs::set_permissions(dir.join(KEY_FILE), std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = Journal::open(&dir).unwrap_err();
    assert!(
        matches!(e, JournalError::KeyPermissions { mode: 0o640, .. }),
        "{e}"
    );
}

#[test]
fn a_sensitive_output_is_nowhere_in_the_journal_in_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let canary = "CANARY-7f3c9a1e-journal";
    let file = format!(
        "<?xml version=\"1.0\"?>\n<configuration><password>{canary}</password></configuration>\n"
    );
    let worker = Address::new(Kind::WorkerVm, "pexconf01");
    {
        let journal = Journal::open(&dir).unwrap();
        let run = journal.begin_run(&info("t")).unwrap();
        run.store(&worker, &Sensitive::new(file.clone())).unwrap();
        // Stored again (a replaced worker VM): the old sealed value is overwritten.
        run.store(&worker, &Sensitive::new(file.clone())).unwrap();
        for (path, bytes) in journal_bytes(&dir) {
            assert!(!contains(&bytes, canary.as_bytes()), "{}", path.display());
            assert!(!contains(&bytes, file.as_bytes()), "{}", path.display());
        }
        // The handle's Debug shows no value either.
        assert!(!format!("{run:?} {journal:?}").contains(canary));
    }
    // Closed (WAL checkpointed into the database): still nowhere.
    for (path, bytes) in journal_bytes(&dir) {
        assert!(!contains(&bytes, canary.as_bytes()), "{}", path.display());
    }
    let journal = Journal::open(&dir).unwrap();
    assert_eq!(
        journal.sensitive("t", &worker).unwrap().unwrap().expose(),
        file.as_bytes()
    );
    // Without its key, the journal refuses to start over with a new one.
    drop(journal);
    std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
    let e = Journal::open(&dir).unwrap_err();
    assert!(matches!(e, JournalError::KeyMissing { .. }), "{e}");
}

#[test]
fn a_deleted_worker_vm_takes_its_kept_file_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let journal = Journal::open(tmp.path().join(".pexspec")).unwrap();
    let run = journal.begin_run(&info("t")).unwrap();
    let worker = Address::new(Kind::WorkerVm, "pexconf01");
    run.store(&worker, &Sensitive::new("<config/>")).unwrap();
    let id = run
        .intent(&intent(&worker, CallAction::Delete, None))
        .unwrap();
    // A failed delete keeps it.
    let refused = ProviderError::Conflict {
        address: worker.to_string(),
        message: "busy".into(),
    };
    run.result(
        id,
        &CallResult {
            outcome: CallOutcome::Failed,
            resource_id: None,
            error: Some(&refused),
        },
    )
    .unwrap();
    assert!(run.load(&worker).unwrap().is_some());
    let id = run
        .intent(&intent(&worker, CallAction::Delete, None))
        .unwrap();
    run.result(id, &succeeded("1")).unwrap();
    assert_eq!(run.load(&worker).unwrap(), None);
}

/// A spec with two Conferencing Nodes, compiled.
fn two_nodes() -> Graph {
    let text = spec_yaml(&SpecParams {
        name: "t".into(),
        nodes: 2,
        ..SpecParams::default()
    });
    let loaded = pexspec_spec::load("t.yaml", &text, PathBuf::from("."));
    let spec = loaded.spec.expect("the generated spec loads");
    pexspec_graph::compile(&spec).expect("the generated spec compiles")
}

fn options() -> ExecOptions {
    ExecOptions {
        rate_limit: None,
        retry: RetryPolicy::none(),
        ..ExecOptions::default()
    }
}

async fn run_with(
    sim: &SimProvider,
    graph: &Graph,
    observed: &ObservedState,
    run: &RunJournal,
) -> pexspec_exec::Report {
    let p = plan(graph, observed);
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
    Executor::new(&p, graph, observed, &providers)
        .options(options())
        .journal(run)
        .sensitive_sink(run)
        .run(EventLog::new())
        .await
        .expect("the run starts")
}

#[tokio::test(start_paused = true)]
async fn a_bootstrap_after_a_crash_gets_its_file_from_the_journal_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let graph = two_nodes();
    let sim = SimProvider::new(SimTiming::instant());
    let bootstraps: Vec<Address> = graph
        .nodes()
        .filter(|n| n.kind() == Kind::NodeBootstrap)
        .map(|n| n.address.clone())
        .collect();
    assert_eq!(bootstraps.len(), 2);
    for b in &bootstraps {
        sim.inject(
            b,
            Call::Create,
            Fault::Always(ProviderError::Network {
                message: "the node is unreachable".into(),
            }),
        );
    }
    {
        let journal = Journal::open(&dir).unwrap();
        let run = journal.begin_run(&info("t")).unwrap();
        let observed = sim.cloud().observe_now(&Scope::of(&graph));
        let report = run_with(&sim, &graph, &observed, &run).await;
        assert_eq!(report.failed, 2, "{:#?}", report.failures);
        run.finish(RunStatus::Failed).unwrap();
        // The files the Pexip API returned once are on disk, sealed.
        let kept = journal.sensitive_addresses("t").unwrap();
        assert_eq!(kept.len(), 2);
        for (path, bytes) in journal_bytes(&dir) {
            for w in &kept {
                let file = journal.sensitive("t", w).unwrap().unwrap();
                assert!(!contains(&bytes, file.expose()), "{}", path.display());
            }
        }
    }
    // A new process: a new journal handle, a new provider over the same cloud.
    let sim2 = SimProvider::with_cloud(sim.cloud().clone(), SimTiming::instant());
    let journal = Journal::open(&dir).unwrap();
    let run = journal.begin_run(&info("t")).unwrap();
    let mut observed = sim2.cloud().observe_now(&Scope::of(&graph));
    journal.reconcile("t", &mut observed, GRACE).unwrap();
    let report = run_with(&sim2, &graph, &observed, &run).await;
    assert!(report.is_success(), "{:#?}", report.failures);
    assert_eq!(report.created, 2);
    for b in &bootstraps {
        let worker = Address::new(Kind::WorkerVm, b.key().unwrap());
        let given = sim2.inputs()[b]
            .clone()
            .expect("the bootstrap got the file");
        assert_eq!(Some(given), journal.sensitive("t", &worker).unwrap());
    }
}

/// VCNs `a` and `b`, `b` referring to `a`'s id.
fn vcn_graph() -> Graph {
    let a = Node::new(
        vcn("a"),
        Some("eu-frankfurt-1".into()),
        json!({ "name": "a" }),
    );
    let b = Node::new(
        vcn("b"),
        Some("eu-frankfurt-1".into()),
        json!({ "name": "b", "peer": Ref::id(vcn("a")).to_value() }),
    );
    Graph::new("t", vec!["eu-frankfurt-1".into()], vec![a, b]).expect("a valid graph")
}

#[tokio::test(start_paused = true)]
async fn a_create_sent_before_a_crash_is_polled_not_sent_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".pexspec");
    let clock = TestClock::new();
    let graph = vcn_graph();
    let sim = SimProvider::new(SimTiming::instant());
    let a = graph.get(&vcn("a")).expect("vcn[a]").clone();
    // The crashed run: `a`'s intent is on disk, its create reached the cloud, and the
    // process died before the answer was recorded.
    {
        let journal = clock.open(&dir);
        let run = journal.begin_run(&info("t")).unwrap();
        let desired = a.desired().into_owned();
        let token = retry_token("t", &a.address, &desired);
        run.intent(&CallIntent {
            address: &a.address,
            kind: Kind::Vcn,
            region: a.region.as_deref(),
            action: CallAction::Create,
            retry_token: Some(&token),
            resource_id: None,
        })
        .unwrap();
        sim.cloud()
            .create_now(&CreateRequest {
                stack: "t",
                address: &a.address,
                region: a.region.as_deref(),
                desired: &desired,
                retry_token: &token,
                input: None,
            })
            .unwrap();
    }
    clock.advance(Duration::from_secs(3));
    let journal = clock.open(&dir);
    let run = journal.begin_run(&info("t")).unwrap();
    // The cloud does not list it yet (eventual consistency).
    let mut observed = sim.cloud().observe_now(&Scope::of(&graph));
    observed.resources.remove(&a.address);
    let reconciled = journal.reconcile("t", &mut observed, GRACE).unwrap();
    assert_eq!(reconciled.pending, std::slice::from_ref(&a.address));
    let p = plan(&graph, &observed);
    let change = p.change(&a.address).unwrap();
    assert_eq!((change.action, change.pending), (Action::Noop, true));
    let report = run_with(&sim, &graph, &observed, &run).await;
    assert!(report.is_success(), "{:#?}", report.failures);
    assert_eq!(report.step(&a.address).unwrap().outcome, Outcome::Appeared);
    assert_eq!(report.step(&vcn("b")).unwrap().outcome, Outcome::Created);
    let calls: Vec<Call> = sim.calls_of(&a.address).iter().map(|c| c.call).collect();
    assert_eq!(calls, [Call::Get]);
    assert_eq!(sim.cloud().len("t"), 2);
    // This run journalled its one create, intent and answer.
    let calls = journal.calls(run.id()).unwrap();
    let done: Vec<(String, CallAction, CallState)> = calls
        .iter()
        .map(|c| (c.address.to_string(), c.action, c.state))
        .collect();
    assert_eq!(
        done,
        [("vcn[b]".into(), CallAction::Create, CallState::Succeeded)]
    );
    // The next observe lists `a`: its open intent is settled as found.
    let mut observed = sim.cloud().observe_now(&Scope::of(&graph));
    let reconciled = journal.reconcile("t", &mut observed, GRACE).unwrap();
    assert_eq!(reconciled.found, std::slice::from_ref(&a.address));
    assert!(journal.pending("t").unwrap().is_empty());
}
