//! Order and concurrency: dependencies first, critical-path priority, waits that hold no
//! slot, the bound on calls in flight, the rate limit.

use std::time::Duration;

use pexspec_exec::testing::{Call, Fault, SimProvider, SimTiming};
use pexspec_exec::{ExecOptions, Outcome, Priority, RateLimit, critical_path};
use pexspec_graph::{Address, Kind};
use pexspec_plan::{Action, ProviderError};

use crate::support::*;

const MIN: Duration = Duration::from_secs(60);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn a_real_spec_applies_dependencies_first_and_close_to_its_critical_path() {
    let graph = fixture("zurich-frankfurt.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    let (p, _) = plan_now(&sim, &graph);
    let timing = sim.timing().clone();
    let bound = critical_path(&p, |c| timing.create_time(&c.address)).unwrap();
    let ran = apply(&sim, &graph, ExecOptions::default()).await;
    let r = &ran.report;
    assert!(r.is_success(), "{:#?}", r.failures);
    assert_eq!(r.created, graph.len());
    let calls = sim.calls();
    assert_dependencies_first(&calls, &graph);
    assert!(sim.overlaps().is_empty(), "{:?}", sim.overlaps());
    assert!(sim.max_in_flight() <= 10);
    // The import chain is the critical path, and it is what starts first.
    let chain: Vec<String> = bound.addresses().iter().map(|a| a.to_string()).collect();
    assert!(chain.contains(&"image[management]".to_owned()), "{chain:?}");
    let second = calls
        .iter()
        .find(|c| c.address != Address::singleton(Kind::Compartment));
    assert_eq!(
        second.map(|c| c.address.to_string()),
        Some("bucket".to_owned())
    );
    let ratio = r.wall_time().as_secs_f64() / bound.total().as_secs_f64();
    assert!(
        (1.0..=1.10).contains(&ratio),
        "wall {:?} / critical path {:?} = {ratio:.3}",
        r.wall_time(),
        bound.total()
    );
}

#[tokio::test(start_paused = true)]
async fn with_one_slot_the_step_heading_the_longest_chain_starts_first() {
    // vcn[a]                           (5 s)
    // vcn[b] ── subnet[b] ── instance[b] (5 s + 5 s + 3 min)
    let (a, b) = (vcn("a"), vcn("b"));
    let subnet = Address::new(Kind::Subnet, "b");
    let instance = Address::new(Kind::Instance, "b");
    let graph = typed_dag(&[
        (a.clone(), vec![]),
        (b.clone(), vec![]),
        (subnet.clone(), vec![b.clone()]),
        (instance.clone(), vec![subnet.clone()]),
    ]);
    let timing = SimTiming::instant().with_kind(Kind::Vcn, secs(1), Duration::ZERO);
    for (priority, first) in [(Priority::CriticalPath, &b), (Priority::Topological, &a)] {
        let sim = SimProvider::new(timing.clone());
        let options = ExecOptions {
            parallelism: 1,
            priority,
            ..options()
        };
        let ran = apply(&sim, &graph, options).await;
        assert!(ran.report.is_success());
        assert_eq!(&sim.calls()[0].address, first, "{priority:?}");
    }
}

/// One 25-minute import and ten quick steps, one slot: the quick steps run while the
/// import is waited for. Terraform's way (the slot held through the wait) makes them wait
/// 25 minutes.
#[tokio::test(start_paused = true)]
async fn a_long_wait_holds_no_slot() {
    let image = Address::new(Kind::Image, "x");
    let mut nodes = vec![(image.clone(), vec![])];
    let quick: Vec<Address> = (0..10).map(|i| vcn(&format!("q{i}"))).collect();
    nodes.extend(quick.iter().map(|q| (q.clone(), vec![])));
    let graph = typed_dag(&nodes);
    let timing = SimTiming::instant()
        .with_kind(Kind::Image, secs(1), 25 * MIN)
        .with_kind(Kind::Vcn, secs(5), Duration::ZERO);

    let sim = SimProvider::new(timing.clone());
    let options = ExecOptions {
        parallelism: 1,
        ..options()
    };
    let ran = apply(&sim, &graph, options).await;
    assert!(ran.report.is_success());
    let calls = sim.calls();
    assert_eq!(calls[0].address, image, "the longest chain starts first");
    assert_eq!(sim.max_in_flight(), 1);
    for q in &quick {
        let end = last_end(&calls, q).unwrap();
        assert!(end <= secs(60), "`{q}` ended at {end:?}");
    }
    let image_done = last_end(&calls, &image).unwrap();
    assert!(image_done >= 25 * MIN && image_done <= 25 * MIN + secs(31));
    assert!(ran.report.wall_time() <= 25 * MIN + secs(31));
    // The import was polled with short calls, not waited on in one.
    assert!(
        calls_of(&calls, &image)
            .iter()
            .filter(|c| **c == Call::Get)
            .count()
            >= 40
    );

    let sim = SimProvider::new(timing);
    let ran = apply(&sim, &graph, ExecOptions::terraform_like(1)).await;
    assert!(ran.report.is_success());
    let calls = sim.calls();
    for q in &quick {
        assert!(first_start(&calls, q).unwrap() >= 25 * MIN);
    }
    assert!(ran.report.wall_time() >= 25 * MIN + secs(50));
}

#[tokio::test(start_paused = true)]
async fn calls_in_flight_never_exceed_the_bound_and_waits_do_not_count() {
    let keys: Vec<String> = (0..40).map(|i| format!("n{i:02}")).collect();
    let nodes: Vec<(&str, &[&str])> = keys.iter().map(|k| (k.as_str(), &[][..])).collect();
    let graph = dag(&nodes);
    let timing = SimTiming::instant().with_kind(Kind::Vcn, secs(2), secs(10));
    let sim = SimProvider::new(timing);
    let options = ExecOptions {
        parallelism: 4,
        ..options()
    };
    let ran = apply(&sim, &graph, options).await;
    assert!(ran.report.is_success());
    assert_eq!(sim.max_in_flight(), 4);
    // 40 creates of 2 s through 4 slots take 20 s; the 10 s waits overlap them.
    assert!(
        ran.report.wall_time() <= secs(34),
        "{:?}",
        ran.report.wall_time()
    );
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_paces_calls_and_halves_on_a_429() {
    let keys: Vec<String> = (0..6).map(|i| format!("n{i}")).collect();
    let nodes: Vec<(&str, &[&str])> = keys.iter().map(|k| (k.as_str(), &[][..])).collect();
    let graph = dag(&nodes);
    let sim = SimProvider::new(SimTiming::instant());
    sim.inject(
        &vcn("n0"),
        Call::Create,
        Fault::Fail {
            times: 1,
            error: ProviderError::Throttled {
                retry_after_ms: None,
            },
        },
    );
    let options = ExecOptions {
        rate_limit: Some(RateLimit {
            initial_rate: 1.0,
            max_rate: 1.0,
            burst: 1.0,
            increase_per_success: 0.0,
            ..RateLimit::default()
        }),
        ..ExecOptions::default()
    };
    let ran = apply(&sim, &graph, options).await;
    assert!(ran.report.is_success());
    let starts: Vec<Duration> = sim.calls().iter().map(|c| c.start).collect();
    for pair in starts.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(999),
            "{starts:?}"
        );
    }
    assert_eq!(ran.report.rates.get("network/eu-frankfurt-1"), Some(&0.5));
}

#[tokio::test(start_paused = true)]
async fn deletes_run_dependents_first() {
    let graph = fixture("zurich-frankfurt.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    assert!(apply(&sim, &graph, options()).await.report.is_success());
    // Destroy: the plan of an empty graph of the same stack.
    let empty = pexspec_graph::Graph::new(graph.stack(), graph.regions().to_vec(), vec![]).unwrap();
    let (p, observed) = plan_now(&sim, &empty);
    assert!(p.changes.iter().all(|c| c.action == Action::Delete));
    let since = sim.elapsed();
    let ran = run(&sim, &empty, &p, &observed, options(), None).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    assert_eq!(ran.report.deleted, graph.len());
    assert!(sim.cloud().is_empty(graph.stack()));
    let calls: Vec<_> = sim
        .calls()
        .into_iter()
        .filter(|c| c.start >= since)
        .collect();
    let mut ordered = 0;
    for c in &p.changes {
        let start = first_start(&calls, &c.address).unwrap();
        for referrer in &c.depends_on {
            let gone = last_end(&calls, referrer).unwrap();
            assert!(
                gone <= start,
                "`{}` was deleted before `{referrer}`",
                c.address
            );
            ordered += 1;
        }
    }
    assert!(ordered > 20, "the plan orders the deletes: {ordered}");
    let addr = |a: &str| Address::parse(a).unwrap();
    for (first, then) in [
        ("instance[pexconf01]", "subnet[eu-frankfurt-1]"),
        ("subnet[eu-frankfurt-1]", "vcn[eu-frankfurt-1]"),
    ] {
        assert!(last_end(&calls, &addr(first)) <= first_start(&calls, &addr(then)));
    }
    assert_eq!(
        ran.report
            .step(&addr("vcn[eu-frankfurt-1]"))
            .map(|s| s.outcome),
        Some(Outcome::Deleted)
    );
}
