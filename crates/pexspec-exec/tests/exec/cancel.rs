//! Cancellation: the first cancel drains what is in flight and starts nothing new; the
//! second abandons what is in flight.

use std::time::Duration;

use pexspec_exec::testing::{SimProvider, SimTiming};
use pexspec_exec::{Cancel, Event, EventLog, Executor, Outcome};
use pexspec_graph::{Address, Kind};
use pexspec_plan::DynProvider;

use crate::support::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// An import (25 min) and a chain of 20 quick steps (10 s each), two slots.
fn workload() -> (pexspec_graph::Graph, SimTiming, Address) {
    let image = Address::new(Kind::Image, "x");
    let mut nodes = vec![(image.clone(), vec![])];
    for i in 0..20 {
        let deps = if i == 0 {
            vec![]
        } else {
            vec![vcn(&format!("c{:02}", i - 1))]
        };
        nodes.push((vcn(&format!("c{i:02}")), deps));
    }
    let timing = SimTiming::instant()
        .with_kind(Kind::Image, secs(1), Duration::from_secs(1500))
        .with_kind(Kind::Vcn, secs(10), Duration::ZERO);
    (typed_dag(&nodes), timing, image)
}

async fn run_with_cancels(at: &[Duration]) -> (pexspec_exec::Report, Vec<Event>, SimProvider) {
    let (graph, timing, _) = workload();
    let sim = SimProvider::new(timing);
    let (p, observed) = plan_now(&sim, &graph);
    let cancel = Cancel::new();
    let handle = cancel.clone();
    let times = at.to_vec();
    tokio::spawn(async move {
        let mut elapsed = Duration::ZERO;
        for t in times {
            tokio::time::sleep(t - elapsed).await;
            elapsed = t;
            handle.cancel();
        }
    });
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
    let log = EventLog::new();
    let options = pexspec_exec::ExecOptions {
        parallelism: 2,
        ..options()
    };
    let report = Executor::new(&p, &graph, &observed, &providers)
        .options(options)
        .cancel(cancel)
        .run(log.clone())
        .await
        .unwrap();
    (report, log.events(), sim)
}

#[tokio::test(start_paused = true)]
async fn a_first_cancel_drains_in_flight_steps_and_starts_nothing_more() {
    let (_, _, image) = workload();
    let (report, events, sim) = run_with_cancels(&[secs(45)]).await;
    assert_eq!(report.cancelled, Some(false));
    // In flight at 45 s: the import (waiting) and c04 (its call sent at 40 s).
    assert_eq!(report.step(&image).unwrap().outcome, Outcome::Created);
    let created: Vec<String> = report
        .with_outcome(Outcome::Created)
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        created,
        [
            "image[x]", "vcn[c00]", "vcn[c01]", "vcn[c02]", "vcn[c03]", "vcn[c04]"
        ]
    );
    assert_eq!(report.not_started, 15);
    assert!(!report.is_success());
    assert!(
        sim.calls()
            .iter()
            .all(|c| c.start <= secs(45) || c.address == image)
    );
    // The import was waited for to its end.
    assert!(report.wall_time() >= secs(1500));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Cancelled {
            hard: false,
            in_flight: 2,
            ..
        }
    )));
    assert!(matches!(events.last(), Some(Event::Summary { .. })));
}

#[tokio::test(start_paused = true)]
async fn a_second_cancel_abandons_in_flight_steps() {
    let (_, _, image) = workload();
    let (report, events, _) = run_with_cancels(&[secs(45), secs(100)]).await;
    assert_eq!(report.cancelled, Some(true));
    assert_eq!(report.step(&image).unwrap().outcome, Outcome::Aborted);
    assert_eq!(report.aborted, 1);
    assert_eq!(report.created, 5);
    assert_eq!(report.wall_time(), secs(100));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Cancelled { hard: true, .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_cancelled_before_it_starts_changes_nothing() {
    let (graph, timing, _) = workload();
    let sim = SimProvider::new(timing);
    let (p, observed) = plan_now(&sim, &graph);
    let cancel = Cancel::new();
    cancel.cancel();
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
    let report = Executor::new(&p, &graph, &observed, &providers)
        .cancel(cancel)
        .run(())
        .await
        .unwrap();
    assert_eq!(report.not_started, 21);
    assert!(sim.calls().is_empty());
}
