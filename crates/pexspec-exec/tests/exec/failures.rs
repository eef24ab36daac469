//! Failures: retries of retryable errors only, `Retry-After`, bounds, adoption of a create
//! whose answer was lost, keep-going versus fail-fast, wait timeouts, sensitive outputs.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use pexspec_exec::testing::{Call, Fault, SimProvider, SimTiming};
use pexspec_exec::{
    Event, EventLog, ExecOptions, MemorySensitiveSink, Outcome, SensitiveSink, SinkError,
};
use pexspec_graph::{Address, Kind};
use pexspec_plan::{ErrorClass, ProviderError, Sensitive};

use crate::support::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn network() -> ProviderError {
    ProviderError::Network {
        message: "connection refused".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_retryable_error_is_retried_until_the_call_succeeds() {
    let graph = dag(&[("a", &[]), ("b", &["a"])]);
    let sim = SimProvider::new(SimTiming::instant());
    sim.inject(
        &vcn("a"),
        Call::Create,
        Fault::Fail {
            times: 2,
            error: network(),
        },
    );
    let ran = apply(&sim, &graph, options()).await;
    assert!(ran.report.is_success());
    assert_eq!(ran.report.retries, 2);
    // A network error may hide a success: the executor looks before it sends again.
    assert_eq!(
        calls_of(&sim.calls(), &vcn("a")),
        [
            Call::Create,
            Call::Get,
            Call::Create,
            Call::Get,
            Call::Create
        ]
    );
    let attempts: Vec<u32> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StepRetrying { attempt, class, .. } => {
                assert_eq!(*class, ErrorClass::Network);
                Some(*attempt)
            }
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [2, 3]);
    assert_eq!(ran.report.step(&vcn("a")).unwrap().retries, 2);
}

#[tokio::test(start_paused = true)]
async fn a_fatal_error_is_not_retried() {
    let graph = dag(&[("a", &[])]);
    let sim = SimProvider::new(SimTiming::instant());
    sim.inject(
        &vcn("a"),
        Call::Create,
        Fault::Always(ProviderError::Invalid {
            address: "vcn[a]".into(),
            message: "`cidr_block` is not a CIDR".into(),
        }),
    );
    let ran = apply(&sim, &graph, options()).await;
    assert_eq!(ran.report.failed, 1);
    assert_eq!(ran.report.retries, 0);
    assert_eq!(calls_of(&sim.calls(), &vcn("a")), [Call::Create]);
    let failure = &ran.report.failures[&vcn("a")];
    assert_eq!(failure.class, ErrorClass::UserInput);
    assert!(!failure.retryable);
    assert_eq!(
        failure.message,
        "`vcn[a]` was refused: `cidr_block` is not a CIDR"
    );
}

#[tokio::test(start_paused = true)]
async fn retries_honour_retry_after() {
    let graph = dag(&[("a", &[])]);
    let sim = SimProvider::new(SimTiming::instant().with_kind(Kind::Vcn, secs(1), Duration::ZERO));
    sim.inject(
        &vcn("a"),
        Call::Create,
        Fault::Fail {
            times: 2,
            error: ProviderError::Throttled {
                retry_after_ms: Some(30_000),
            },
        },
    );
    let ran = apply(&sim, &graph, options()).await;
    assert!(ran.report.is_success());
    let calls = sim.calls();
    // A 429 did nothing: sent again without a look first, 30 s after the answer.
    assert_eq!(
        calls_of(&calls, &vcn("a")),
        [Call::Create, Call::Create, Call::Create]
    );
    let starts: Vec<Duration> = calls.iter().map(|c| c.start).collect();
    assert_eq!(starts, [secs(0), secs(31), secs(62)]);
    let delays: Vec<u64> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StepRetrying { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [30_000, 30_000]);
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded_and_backoff_grows() {
    let graph = dag(&[("a", &[])]);
    let sim = SimProvider::new(SimTiming::instant());
    sim.inject(
        &vcn("a"),
        Call::Create,
        Fault::Always(ProviderError::Provider {
            status: 503,
            code: "ServiceUnavailable".into(),
            message: "try later".into(),
        }),
    );
    let ran = apply(&sim, &graph, options()).await;
    assert_eq!(ran.report.failed, 1);
    let creates = calls_of(&sim.calls(), &vcn("a"))
        .into_iter()
        .filter(|c| *c == Call::Create)
        .count();
    assert_eq!(creates, 8);
    assert_eq!(
        ran.report.failures[&vcn("a")].message,
        "provider error 503 `ServiceUnavailable`: try later (after 8 attempts)"
    );
    // Full jitter under a cap that doubles: 1, 2, 4 ... 64 → capped at 60 s.
    let delays: Vec<u64> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StepRetrying { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays.len(), 7);
    for (k, d) in delays.iter().enumerate() {
        let cap = (1000u64 << k).min(60_000);
        assert!(*d <= cap, "retry {k}: {d} ms over {cap} ms");
    }
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_answer_was_lost_is_adopted_not_repeated() {
    let graph = dag(&[("a", &[]), ("b", &["a"])]);
    let sim = SimProvider::new(SimTiming::instant());
    sim.inject(&vcn("a"), Call::Create, Fault::LoseAnswer { times: 1 });
    let ran = apply(&sim, &graph, options()).await;
    assert!(ran.report.is_success());
    assert_eq!(calls_of(&sim.calls(), &vcn("a")), [Call::Create, Call::Get]);
    assert_eq!(sim.cloud().len("t"), 2);
    let (p, _) = plan_now(&sim, &graph);
    assert!(p.is_empty());
}

/// ```text
/// a ── b ── c        (b fails: c skipped)
///  \
///   d ── e           (runs)
/// f ── g             (runs)
/// b ── h ── i        (h, i skipped)
/// ```
#[tokio::test(start_paused = true)]
async fn keep_going_skips_exactly_the_dependents_of_a_failure() {
    let graph = dag(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("d", &["a"]),
        ("e", &["d"]),
        ("f", &[]),
        ("g", &["f"]),
        ("h", &["b", "f"]),
        ("i", &["h", "e"]),
    ]);
    let sim = SimProvider::new(SimTiming::instant().with_kind(Kind::Vcn, secs(1), secs(5)));
    sim.inject(
        &vcn("b"),
        Call::Create,
        Fault::Always(ProviderError::Invalid {
            address: "vcn[b]".into(),
            message: "no".into(),
        }),
    );
    let ran = apply(&sim, &graph, options()).await;
    let r = &ran.report;
    let keys = |o: Outcome| -> Vec<String> {
        r.with_outcome(o)
            .iter()
            .filter_map(|a| a.key().map(str::to_owned))
            .collect()
    };
    assert_eq!(keys(Outcome::Failed), ["b"]);
    assert_eq!(keys(Outcome::Skipped), ["c", "h", "i"]);
    assert_eq!(keys(Outcome::Created), ["a", "d", "e", "f", "g"]);
    assert_eq!(
        (r.failed, r.skipped, r.created, r.not_started),
        (1, 3, 5, 0)
    );
    let skipped: BTreeSet<String> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StepSkipped {
                address, because, ..
            } => {
                assert_eq!(because, &vcn("b"));
                Some(address.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 3);
    assert_eq!(r.step(&vcn("i")).unwrap().because, Some(vcn("b")));
    assert!(sim.calls_of(&vcn("c")).is_empty());
}

#[tokio::test(start_paused = true)]
async fn fail_fast_stops_scheduling_and_lets_in_flight_steps_finish() {
    // "aslow" is in flight when "bad" fails (ties go by address); the others have not
    // started.
    let keys: Vec<String> = (0..6).map(|i| format!("q{i}")).collect();
    let mut nodes: Vec<(&str, &[&str])> = vec![("bad", &[]), ("aslow", &[])];
    nodes.extend(keys.iter().map(|k| (k.as_str(), &[][..])));
    let graph = dag(&nodes);
    let timing = SimTiming::instant()
        .with_kind(Kind::Vcn, secs(10), Duration::ZERO)
        .with_call(vcn("bad"), secs(1))
        .with_ready(vcn("aslow"), secs(300));
    let sim = SimProvider::new(timing);
    sim.inject(
        &vcn("bad"),
        Call::Create,
        Fault::Always(ProviderError::Invalid {
            address: "vcn[bad]".into(),
            message: "no".into(),
        }),
    );
    let options = ExecOptions {
        parallelism: 2,
        fail_fast: true,
        durations: pexspec_exec::Durations::new().with(
            Kind::Vcn,
            pexspec_exec::Operation::Create,
            secs(5),
        ),
        ..options()
    };
    let ran = apply(&sim, &graph, options).await;
    let r = &ran.report;
    assert_eq!(r.failed, 1);
    assert_eq!(r.step(&vcn("aslow")).unwrap().outcome, Outcome::Created);
    assert_eq!(r.not_started, 6);
    let started_after_failure = sim
        .calls()
        .iter()
        .any(|c| c.start > secs(1) && c.call == Call::Create);
    assert!(!started_after_failure, "{:?}", sim.calls());
    assert!(
        ran.events
            .iter()
            .any(|e| matches!(e, Event::Stopping { because, .. } if because == &vcn("bad")))
    );
    assert!(r.wall_time() >= secs(310), "the slow step was waited for");
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_never_ends_times_out() {
    let instance = Address::new(Kind::Instance, "x");
    let graph = typed_dag(&[(instance.clone(), vec![])]);
    let sim = SimProvider::new(
        SimTiming::instant().with_ready(instance.clone(), Duration::from_secs(7200)),
    );
    let ran = apply(&sim, &graph, options()).await;
    assert_eq!(ran.report.failed, 1);
    let f = &ran.report.failures[&instance];
    assert_eq!(
        f.message,
        "`instance[x]` is still `PROVISIONING` after 12 min"
    );
    assert!(f.retryable);
    // 4 × the 3-minute estimate.
    let wall = ran.report.wall_time();
    assert!(wall >= secs(720) && wall <= secs(740), "{wall:?}");
}

/// A sink that checks, when it is handed a value, that its step is not yet reported done.
struct CheckingSink {
    log: EventLog,
    inner: MemorySensitiveSink,
    stored_before_done: Mutex<Vec<Address>>,
    fail: bool,
}

impl SensitiveSink for CheckingSink {
    fn store(&self, address: &Address, value: &Sensitive) -> Result<(), SinkError> {
        let done = self
            .log
            .events()
            .iter()
            .any(|e| matches!(e, Event::StepFinished { address: a, .. } if a == address));
        if !done {
            self.stored_before_done
                .lock()
                .unwrap()
                .push(address.clone());
        }
        if self.fail {
            return Err(SinkError::new("the journal's disk is full"));
        }
        self.inner.store(address, value)
    }

    fn load(&self, address: &Address) -> Result<Option<Sensitive>, SinkError> {
        self.inner.load(address)
    }
}

#[tokio::test(start_paused = true)]
async fn the_node_configuration_is_kept_before_the_worker_vm_is_done_and_given_to_its_bootstrap() {
    let graph = fixture("zurich-frankfurt.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    let (p, observed) = plan_now(&sim, &graph);
    let log = EventLog::new();
    let sink = CheckingSink {
        log: log.clone(),
        inner: MemorySensitiveSink::new(),
        stored_before_done: Mutex::new(Vec::new()),
        fail: false,
    };
    let providers: Vec<Box<dyn pexspec_plan::DynProvider>> = vec![Box::new(sim.clone())];
    let report = pexspec_exec::Executor::new(&p, &graph, &observed, &providers)
        .sensitive_sink(&sink)
        .run(log.clone())
        .await
        .unwrap();
    assert!(report.is_success(), "{:#?}", report.failures);
    let workers: Vec<Address> = graph
        .nodes()
        .filter(|n| n.kind() == Kind::WorkerVm)
        .map(|n| n.address.clone())
        .collect();
    assert_eq!(workers.len(), 3);
    let mut stored = sink.stored_before_done.lock().unwrap().clone();
    stored.sort();
    let mut expected = workers.clone();
    expected.sort();
    assert_eq!(stored, expected);
    let inputs = sim.inputs();
    for w in &workers {
        let bootstrap = Address::new(Kind::NodeBootstrap, w.key().unwrap());
        let given = inputs[&bootstrap]
            .as_ref()
            .expect("the bootstrap got the file");
        assert_eq!(Some(given), sink.inner.get(w).as_ref());
    }
}

#[tokio::test(start_paused = true)]
async fn a_configuration_that_cannot_be_kept_fails_the_worker_vm_and_skips_its_bootstrap() {
    let graph = fixture("quickstart.yaml");
    let sim = SimProvider::new(SimTiming::instant());
    let (p, observed) = plan_now(&sim, &graph);
    let sink = CheckingSink {
        log: EventLog::new(),
        inner: MemorySensitiveSink::new(),
        stored_before_done: Mutex::new(Vec::new()),
        fail: true,
    };
    let ran = run(&sim, &graph, &p, &observed, options(), Some(&sink)).await;
    let r = &ran.report;
    let failed: Vec<String> = r
        .with_outcome(Outcome::Failed)
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(failed, ["worker_vm[pexconf01]", "worker_vm[pexconf02]"]);
    let skipped: Vec<String> = r
        .with_outcome(Outcome::Skipped)
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        skipped,
        ["node_bootstrap[pexconf01]", "node_bootstrap[pexconf02]"]
    );
    assert_eq!(
        r.failures[&Address::new(Kind::WorkerVm, "pexconf01")].message,
        "the sensitive output of `worker_vm[pexconf01]` could not be kept: the journal's disk is full"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bootstrap_after_a_crash_gets_the_configuration_from_the_journal() {
    // A first run created the worker VMs and kept their files, then stopped.
    let graph = fixture("quickstart.yaml");
    let sim = SimProvider::new(SimTiming::instant());
    let sink = MemorySensitiveSink::new();
    let bootstraps: Vec<Address> = graph
        .nodes()
        .filter(|n| n.kind() == Kind::NodeBootstrap)
        .map(|n| n.address.clone())
        .collect();
    for b in &bootstraps {
        sim.inject(b, Call::Create, Fault::Always(network()));
    }
    let (p, observed) = plan_now(&sim, &graph);
    let options = ExecOptions {
        retry: pexspec_exec::RetryPolicy::none(),
        ..options()
    };
    let ran = run(&sim, &graph, &p, &observed, options.clone(), Some(&sink)).await;
    assert_eq!(ran.report.failed, 2);
    assert_eq!(sink.addresses().len(), 2);
    // The second run creates only the bootstraps, with the kept files.
    let sim2 = SimProvider::with_cloud(sim.cloud().clone(), SimTiming::instant());
    let (p, observed) = plan_now(&sim2, &graph);
    assert_eq!(p.summary.create, 2);
    let ran = run(&sim2, &graph, &p, &observed, options, Some(&sink)).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    for b in &bootstraps {
        assert!(sim2.inputs()[b].is_some());
    }
}
