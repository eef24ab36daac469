//! Properties over random graphs, latencies and options: dependencies finish before their
//! dependents, calls in flight never exceed the bound, no resource sees two calls at once,
//! the wall time is never below the critical path, and planning again finds nothing to do.

use std::time::Duration;

use pexspec_exec::testing::{SimProvider, SimTiming};
use pexspec_exec::{ExecOptions, Priority, critical_path};
use proptest::prelude::*;

use crate::support::*;

#[derive(Debug, Clone)]
struct Case {
    /// For each node, the earlier nodes it depends on.
    deps: Vec<Vec<usize>>,
    /// For each node, its call latency and its time to ready, in seconds.
    times: Vec<(u64, u64)>,
    parallelism: usize,
    critical_path_first: bool,
    hold_slot: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..24).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| proptest::collection::vec(0..i.max(1), 0..=i.min(3)))
            .collect::<Vec<_>>();
        (
            deps,
            proptest::collection::vec((0u64..5, 0u64..600), n),
            1usize..6,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                move |(deps, times, parallelism, critical_path_first, hold_slot)| Case {
                    deps: deps
                        .into_iter()
                        .enumerate()
                        .map(|(i, mut d)| {
                            d.retain(|&j| j < i);
                            d.sort_unstable();
                            d.dedup();
                            d
                        })
                        .collect(),
                    times,
                    parallelism,
                    critical_path_first,
                    hold_slot,
                },
            )
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        max_shrink_iters: if std::env::var_os("CI").is_some() {
            0
        } else {
            256
        },
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_run_respects_order_bounds_and_converges(case in case()) {
        let keys: Vec<String> = (0..case.deps.len()).map(|i| format!("n{i:02}")).collect();
        let nodes: Vec<(&str, Vec<&str>)> = case
            .deps
            .iter()
            .enumerate()
            .map(|(i, d)| (keys[i].as_str(), d.iter().map(|&j| keys[j].as_str()).collect()))
            .collect();
        let nodes: Vec<(&str, &[&str])> = nodes.iter().map(|(k, d)| (*k, d.as_slice())).collect();
        let graph = dag(&nodes);
        let mut timing = SimTiming::instant();
        for (i, (call, ready)) in case.times.iter().enumerate() {
            timing = timing
                .with_call(vcn(&keys[i]), Duration::from_secs(*call))
                .with_ready(vcn(&keys[i]), Duration::from_secs(*ready));
        }
        let options = ExecOptions {
            parallelism: case.parallelism,
            priority: if case.critical_path_first { Priority::CriticalPath } else { Priority::Topological },
            hold_slot_while_waiting: case.hold_slot,
            ..options()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let sim = SimProvider::new(timing.clone());
            let (p, _) = plan_now(&sim, &graph);
            let bound = critical_path(&p, |c| timing.create_time(&c.address)).unwrap();
            let ran = apply(&sim, &graph, options).await;
            prop_assert!(ran.report.is_success(), "{:#?}", ran.report.failures);
            let calls = sim.calls();
            assert_dependencies_first(&calls, &graph);
            prop_assert!(sim.max_in_flight() <= case.parallelism);
            prop_assert!(sim.overlaps().is_empty());
            prop_assert!(ran.report.wall_time() >= bound.total());
            let (again, _) = plan_now(&sim, &graph);
            prop_assert!(again.is_empty());
            Ok(())
        })?;
    }
}
