//! Convergence: after a run, planning again against the provider's state gives an empty
//! plan, for every fixture spec, with faults, with every mutation sent twice, after a
//! replace, and for resources a crashed run left pending (found, or created after the
//! grace period).

use std::sync::Arc;

use pexspec_exec::testing::{Call, Fault, SimProvider, SimTiming};
use pexspec_exec::{ExecError, Outcome};
use pexspec_graph::{Address, Kind};
use pexspec_plan::{Action, InMemoryProvider, ObservedState, ProviderError, plan};
use serde_json::json;

use crate::support::*;

#[tokio::test(start_paused = true)]
async fn apply_then_plan_is_empty_for_every_fixture() {
    for name in [
        "quickstart.yaml",
        "zurich-frankfurt.yaml",
        "private.yaml",
        "hybrid.yaml",
    ] {
        let graph = fixture(name);
        let sim = SimProvider::new(SimTiming::realistic());
        let ran = apply(&sim, &graph, options()).await;
        assert!(
            ran.report.is_success(),
            "{name}: {:#?}",
            ran.report.failures
        );
        let (p, _) = plan_now(&sim, &graph);
        assert!(p.is_empty(), "{name}: {:?}", p.summary);
    }
}

#[tokio::test(start_paused = true)]
async fn apply_then_plan_is_empty_despite_faults_and_with_every_mutation_sent_twice() {
    let graph = fixture("zurich-frankfurt.yaml");
    let sim = SimProvider::repeating(Arc::new(InMemoryProvider::new()), SimTiming::realistic());
    let instance = Address::new(Kind::Instance, "pexconf01");
    sim.inject(&instance, Call::Create, Fault::LoseAnswer { times: 1 });
    sim.inject(
        &instance,
        Call::Get,
        Fault::Fail {
            times: 2,
            error: ProviderError::Provider {
                status: 500,
                code: "InternalError".into(),
                message: "oops".into(),
            },
        },
    );
    sim.inject(
        &Address::new(Kind::Vcn, "eu-zurich-1"),
        Call::Create,
        Fault::Fail {
            times: 3,
            error: ProviderError::Throttled {
                retry_after_ms: Some(2_000),
            },
        },
    );
    let ran = apply(&sim, &graph, pexspec_exec::ExecOptions::default()).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    assert!(ran.report.retries >= 5);
    assert_eq!(sim.cloud().len(graph.stack()), graph.len());
    let (p, _) = plan_now(&sim, &graph);
    assert!(p.is_empty(), "{:?}", p.summary);
}

#[tokio::test(start_paused = true)]
async fn a_replace_deletes_then_creates_and_converges() {
    let graph = fixture("quickstart.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    assert!(apply(&sim, &graph, options()).await.report.is_success());
    // Someone changed the instance's shape behind pexspec's back: it must be replaced,
    // and with it the Conferencing Node's registration and bootstrap.
    let instance = Address::new(Kind::Instance, "pexconf01");
    let old_id = observe(&sim, &graph).get(&instance).unwrap().id.clone();
    sim.cloud().mutate(graph.stack(), &instance, |o| {
        o.fields["shape"] = json!("VM.Standard2.4");
    });
    let (p, observed) = plan_now(&sim, &graph);
    assert_eq!(p.change(&instance).unwrap().action, Action::Replace);
    assert!(p.summary.replace >= 3, "{:?}", p.summary);
    let since = sim.elapsed();
    let ran = run(&sim, &graph, &p, &observed, options(), None).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    assert_eq!(ran.report.replaced, p.summary.replace);
    assert_eq!(
        ran.report.step(&instance).unwrap().outcome,
        Outcome::Replaced
    );
    let calls: Vec<Call> = sim
        .calls_of(&instance)
        .into_iter()
        .filter(|c| c.start >= since)
        .map(|c| c.call)
        .filter(|c| *c != Call::Get)
        .collect();
    assert_eq!(calls, [Call::Delete, Call::Create]);
    let new_id = observe(&sim, &graph).get(&instance).unwrap().id.clone();
    assert_ne!(old_id, new_id);
    let (p, _) = plan_now(&sim, &graph);
    assert!(p.is_empty(), "{:?}", p.summary);
}

#[tokio::test(start_paused = true)]
async fn a_pending_resource_is_waited_for_not_created_again() {
    let graph = dag(&[("a", &[]), ("b", &["a"])]);
    let sim = SimProvider::new(SimTiming::instant());
    assert!(apply(&sim, &graph, options()).await.report.is_success());
    // The journal says `vcn[a]` was created a moment ago; observe does not list it yet.
    let mut observed = observe(&sim, &graph);
    observed.resources.remove(&vcn("a"));
    observed.resources.remove(&vcn("b"));
    observed.pending.insert(vcn("a"));
    let p = plan(&graph, &observed);
    assert!(p.change(&vcn("a")).unwrap().pending);
    let before = sim.calls().len();
    let ran = run(&sim, &graph, &p, &observed, options(), None).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    assert_eq!(
        ran.report.step(&vcn("a")).unwrap().outcome,
        Outcome::Appeared
    );
    let calls: Vec<Call> = sim.calls()[before..]
        .iter()
        .filter(|c| c.address == vcn("a"))
        .map(|c| c.call)
        .collect();
    assert_eq!(calls, [Call::Get]);
    assert_eq!(sim.cloud().len("t"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_pending_resource_that_never_appears_is_created_after_the_grace_period() {
    // The journal says `vcn[a]` was sent just before a crash, but the create never reached
    // the cloud.
    let graph = dag(&[("a", &[]), ("b", &["a"])]);
    let sim = SimProvider::new(SimTiming::instant());
    let mut observed = observe(&sim, &graph);
    observed.pending.insert(vcn("a"));
    let p = plan(&graph, &observed);
    assert_eq!(p.change(&vcn("a")).unwrap().action, Action::Noop);
    let options = options();
    let grace = options.visibility_grace;
    let ran = run(&sim, &graph, &p, &observed, options, None).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    assert_eq!(
        ran.report.step(&vcn("a")).unwrap().outcome,
        Outcome::Created
    );
    let calls = sim.calls_of(&vcn("a"));
    let create = calls.iter().find(|c| c.call == Call::Create).unwrap();
    assert!(create.start >= grace, "{:?}", create.start);
    assert_eq!(calls.iter().filter(|c| c.call == Call::Create).count(), 1);
    let (p, _) = plan_now(&sim, &graph);
    assert!(p.is_empty(), "{:?}", p.summary);
}

#[tokio::test(start_paused = true)]
async fn a_stale_or_foreign_plan_is_refused_before_anything_changes() {
    let graph = dag(&[("a", &[])]);
    let sim = SimProvider::new(SimTiming::instant());
    let (p, _) = plan_now(&sim, &graph);
    let moved = {
        let other = SimProvider::new(SimTiming::instant());
        assert!(apply(&other, &graph, options()).await.report.is_success());
        observe(&other, &graph)
    };
    let providers: Vec<Box<dyn pexspec_plan::DynProvider>> = vec![Box::new(sim.clone())];
    // The run is a `Send` future: the CLI may drive it from any runtime thread.
    fn assert_send<T: Send>(_: &T) {}
    let future = pexspec_exec::execute(&p, &graph, &moved, &providers, options(), Vec::new());
    assert_send(&future);
    drop(future);
    let err = pexspec_exec::execute(&p, &graph, &moved, &providers, options(), ())
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::StalePlan { .. }), "{err}");
    assert!(!err.is_retryable());
    let none: Vec<Box<dyn pexspec_plan::DynProvider>> = vec![];
    let err = pexspec_exec::execute(&p, &graph, &ObservedState::new(), &none, options(), ())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no provider handles resources of kind `vcn`"
    );
    assert!(sim.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_replaced_vcn_goes_after_its_dependents_and_comes_back_before_them() {
    let graph = fixture("quickstart.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    assert!(apply(&sim, &graph, options()).await.report.is_success());
    // The VCN's CIDR differs: it and everything in it are replaced.
    let vcn = Address::new(Kind::Vcn, "eu-frankfurt-1");
    sim.cloud().mutate(graph.stack(), &vcn, |o| {
        o.fields["cidr_block"] = json!("10.9.0.0/16");
    });
    let (p, observed) = plan_now(&sim, &graph);
    let first = &p.change(&vcn).unwrap().delete_after;
    assert!(!first.is_empty(), "{:?}", p.change(&vcn));
    let since = sim.elapsed();
    let ran = run(&sim, &graph, &p, &observed, options(), None).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    let at = |address: &Address, call: Call| {
        sim.calls_of(address)
            .into_iter()
            .find(|c| c.start >= since && c.call == call)
            .unwrap_or_else(|| panic!("no {call:?} of `{address}`"))
    };
    let vcn_delete = at(&vcn, Call::Delete).start;
    let vcn_create = at(&vcn, Call::Create).end.unwrap();
    for d in first {
        // Every dependent's old resource is gone before the VCN's delete, and its new one
        // is created after the new VCN.
        assert!(at(d, Call::Delete).end.unwrap() <= vcn_delete, "`{d}`");
        assert!(at(d, Call::Create).start >= vcn_create, "`{d}`");
    }
    let (p, _) = plan_now(&sim, &graph);
    assert!(p.is_empty(), "{:?}", p.summary);
}

#[tokio::test(start_paused = true)]
async fn an_existing_image_not_ready_is_polled_never_created_again() {
    let graph = fixture("quickstart.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    assert!(apply(&sim, &graph, options()).await.report.is_success());
    let image = Address::new(Kind::Image, "management");
    let instance = Address::new(Kind::Instance, "pexmgr");
    let mut observed = observe(&sim, &graph);
    observed.resources.get_mut(&image).unwrap().state = Some("IMPORTING".into());
    let p = plan(&graph, &observed);
    assert_eq!(p.change(&image).unwrap().wait.as_deref(), Some("IMPORTING"));
    assert!(p.change(&instance).unwrap().depends_on.contains(&image));
    let since = sim.elapsed();
    let ran = run(&sim, &graph, &p, &observed, options(), None).await;
    assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
    // Only polled, never created again.
    let calls: Vec<Call> = sim
        .calls_of(&image)
        .into_iter()
        .filter(|c| c.start >= since)
        .map(|c| c.call)
        .collect();
    assert!(
        !calls.is_empty() && calls.iter().all(|c| *c == Call::Get),
        "{calls:?}"
    );
    assert_eq!(ran.report.step(&image).unwrap().outcome, Outcome::Appeared);
}
