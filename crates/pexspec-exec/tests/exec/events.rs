//! Events: their JSON shape, their order, and that no secret ever appears in them.

use pexspec_exec::testing::{SimProvider, SimTiming};
use pexspec_exec::{Event, ExecOptions};
use serde_json::json;

use crate::support::*;

#[tokio::test(start_paused = true)]
async fn events_tell_the_story_of_a_run_in_json() {
    let graph = dag(&[("a", &[]), ("b", &["a"])]);
    let timing = SimTiming::instant().with_kind(
        pexspec_graph::Kind::Vcn,
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(3),
    );
    let sim = SimProvider::new(timing);
    let ran = apply(&sim, &graph, options()).await;
    let names: Vec<String> = ran
        .events
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            let mut name = v["event"].as_str().unwrap().to_owned();
            if let Some(a) = v.get("address").and_then(|a| a.as_str()) {
                name = format!("{name} {a}");
            }
            name
        })
        .collect();
    assert_eq!(
        names,
        [
            "plan_started",
            "step_started vcn[a]",
            "step_waiting vcn[a]",
            "step_finished vcn[a]",
            "step_started vcn[b]",
            "step_waiting vcn[b]",
            "step_finished vcn[b]",
            "summary",
        ]
    );
    let started = serde_json::to_value(&ran.events[1]).unwrap();
    assert_eq!(
        started,
        json!({"event": "step_started", "at_ms": 0, "address": "vcn[a]", "kind": "vcn", "action": "create"})
    );
    let waiting = serde_json::to_value(&ran.events[2]).unwrap();
    assert_eq!(
        waiting,
        json!({"event": "step_waiting", "at_ms": 1000, "address": "vcn[a]", "state": "PROVISIONING"})
    );
    let finished = serde_json::to_value(&ran.events[3]).unwrap();
    assert_eq!(finished["outcome"], "created");
    assert_eq!(finished["duration_ms"], 4000);
    let summary = serde_json::to_value(ran.events.last().unwrap()).unwrap();
    assert_eq!(summary["report"]["created"], 2);
    assert_eq!(summary["report"]["critical_path"]["total_ms"], 8000);
    assert_eq!(summary["report"]["wall_time_ms"], 8000);
    assert_eq!(ran.events.iter().map(Event::at_ms).max(), Some(8000));
}

#[tokio::test(start_paused = true)]
async fn no_secret_and_no_sensitive_output_appears_in_events_or_the_report() {
    let graph = fixture("zurich-frankfurt.yaml");
    let sim = SimProvider::new(SimTiming::realistic());
    let ran = apply(&sim, &graph, ExecOptions::default()).await;
    assert!(ran.report.is_success());
    let text = serde_json::to_string(&ran.events).unwrap();
    let debug = format!("{:?}", ran.report);
    for needle in ["$secret", "env:", "node-config", "PEXIP_ADMIN_PASSWORD"] {
        assert!(!text.contains(needle), "events show `{needle}`");
        assert!(!debug.contains(needle), "the report shows `{needle}`");
    }
}
