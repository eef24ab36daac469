//! Apply wall time against the critical path, on simulated time.
//!
//! Each spec is compiled, planned against an empty cloud and applied to a `SimProvider`
//! whose calls and lifecycle waits take the durations of the table below, under a paused
//! tokio clock: the figures are *simulated* wall times (a 25-minute import costs no real
//! time). The critical path (the longest chain of true durations, the bound no executor can
//! beat) is computed from the same table. Each plan runs four ways:
//!
//! - pexspec: critical-path priority, 10 API calls in flight, waits hold no slot;
//! - pexspec with flat estimates: every step estimated at 1 s (priority by chain length
//!   only, polls every second), to show what wrong estimates cost;
//! - pexspec in plain topological order, waits free: what the priority alone brings;
//! - Terraform's walk: a pool of 10 slots held for a step's whole life, waits included, in
//!   plain topological order.
//!
//! Run with `cargo bench -p pexspec-exec`. Prints Markdown.

#![allow(clippy::print_stdout)] // A benchmark's output is its report.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pexspec_exec::testing::{SimProvider, SimTiming};
use pexspec_exec::{Durations, ExecOptions, Operation, Priority, Report, critical_path, execute};
use pexspec_graph::testing::{SpecParams, spec_yaml};
use pexspec_graph::{Graph, Kind};
use pexspec_plan::{DynProvider, Scope, plan};

fn graph(params: &SpecParams) -> Graph {
    let text = spec_yaml(params);
    let loaded = pexspec_spec::load("bench.yaml", &text, PathBuf::from("."));
    let Some(spec) = loaded.spec else {
        println!("the generated spec does not load: {:?}", loaded.diagnostics);
        std::process::exit(1);
    };
    match pexspec_graph::compile(&spec) {
        Ok(g) => g,
        Err(d) => {
            println!("the generated spec does not compile: {d:?}");
            std::process::exit(1);
        }
    }
}

struct Measured {
    report: Report,
    real: Duration,
    max_in_flight: usize,
}

fn run(graph: &Graph, options: ExecOptions) -> Measured {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| {
            println!("no runtime: {e}");
            std::process::exit(1);
        });
    rt.block_on(async {
        let sim = SimProvider::new(SimTiming::realistic());
        let observed = sim.cloud().observe_now(&Scope::of(graph));
        let p = plan(graph, &observed);
        let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
        let started = Instant::now();
        let report = match execute(&p, graph, &observed, &providers, options, ()).await {
            Ok(r) => r,
            Err(e) => {
                println!("the run did not start: {e}");
                std::process::exit(1);
            }
        };
        let real = started.elapsed();
        if !report.is_success() {
            println!("the run failed: {:#?}", report.failures);
            std::process::exit(1);
        }
        let again = plan(graph, &sim.cloud().observe_now(&Scope::of(graph)));
        if !again.is_empty() {
            println!("apply then plan is not empty: {:?}", again.summary);
            std::process::exit(1);
        }
        Measured {
            report,
            real,
            max_in_flight: sim.max_in_flight(),
        }
    })
}

fn hms(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// `1.7 s`, `2 min 59 s`.
fn short(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else if (s % 60.0).abs() < 0.05 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.0} min {:.1} s", (s / 60.0).floor(), s % 60.0)
    }
}

fn main() {
    let timing = SimTiming::realistic();
    let durations = Durations::new();
    println!("## Simulated latencies\n");
    println!("| kind | create: call + wait | delete |");
    println!("|---|---|---|");
    for &kind in Kind::ALL {
        let call = timing.call.get(&kind).copied().unwrap_or_default();
        let ready = timing.ready.get(&kind).copied().unwrap_or_default();
        println!(
            "| `{kind}` | {} + {} | {} |",
            short(call),
            short(ready),
            short(durations.estimate(kind, Operation::Delete)),
        );
    }
    println!("\nA `get` (a poll) takes 200 ms.\n");

    let specs = [
        (
            "three regions, 6 Conferencing Nodes",
            SpecParams {
                name: "three".into(),
                regions: 3,
                nodes: 6,
                rooms: 4,
                ..SpecParams::default()
            },
        ),
        (
            "four regions, 12 Conferencing Nodes",
            SpecParams {
                name: "four".into(),
                regions: 4,
                nodes: 12,
                rooms: 10,
                ..SpecParams::default()
            },
        ),
        (
            "ten regions, 200 Conferencing Nodes",
            SpecParams {
                name: "twohundred".into(),
                regions: 10,
                nodes: 200,
                rooms: 50,
                ..SpecParams::default()
            },
        ),
    ];
    let variants: Vec<(&str, ExecOptions)> = vec![
        ("pexspec", ExecOptions::default()),
        (
            "flat estimates (1 s each)",
            ExecOptions {
                durations: Durations::flat(Duration::from_secs(1)),
                // The estimates also set wait timeouts: keep the imports' waits alive.
                min_wait_timeout: Duration::from_secs(7200),
                ..ExecOptions::default()
            },
        ),
        (
            "topological order, waits free",
            ExecOptions {
                priority: Priority::Topological,
                ..ExecOptions::default()
            },
        ),
        ("Terraform's walk", ExecOptions::terraform_like(10)),
    ];
    println!("## Apply wall time (simulated) against the critical path\n");
    println!(
        "| spec | steps | critical path | pexspec | ratio | Terraform's walk (pool of 10) | ratio | gain |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut details = Vec::new();
    for (label, params) in &specs {
        let g = graph(params);
        let p = plan(&g, &pexspec_plan::ObservedState::new());
        let bound = match critical_path(&p, |c| timing.create_time(&c.address)) {
            Ok(b) => b,
            Err(e) => {
                println!("no critical path: {e}");
                std::process::exit(1);
            }
        };
        let runs: Vec<(&str, Measured)> = variants
            .iter()
            .map(|(name, options)| (*name, run(&g, options.clone())))
            .collect();
        let cp = bound.total().as_secs_f64();
        let wall = |m: &Measured| m.report.wall_time();
        let (ours, tf) = (&runs[0].1, &runs[runs.len() - 1].1);
        println!(
            "| {label} | {} | {} | {} | {:.3} | {} | {:.2} | {:.1}× |",
            p.changes.len(),
            hms(bound.total()),
            hms(wall(ours)),
            wall(ours).as_secs_f64() / cp,
            hms(wall(tf)),
            wall(tf).as_secs_f64() / cp,
            wall(tf).as_secs_f64() / wall(ours).as_secs_f64(),
        );
        details.push((label, bound, runs));
    }
    println!("\n## Every run\n");
    println!(
        "| spec | run | wall time | / critical path | API calls | most calls in flight | real time to simulate |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (label, bound, runs) in &details {
        for (name, m) in runs {
            println!(
                "| {label} | {name} | {} | {:.3} | {} | {} | {:.0} ms |",
                hms(m.report.wall_time()),
                m.report.wall_time().as_secs_f64() / bound.total().as_secs_f64(),
                m.report.calls,
                m.max_in_flight,
                m.real.as_secs_f64() * 1000.0
            );
        }
    }
    println!("\n## Critical paths\n");
    for (label, bound, _) in &details {
        let chain: Vec<String> = bound
            .chain
            .iter()
            .map(|l| {
                format!(
                    "`{}` {}",
                    l.address,
                    hms(Duration::from_millis(l.duration_ms))
                )
            })
            .collect();
        println!("- {label}: {}", chain.join(" → "));
    }
    let worst = details
        .iter()
        .map(|(_, b, runs)| runs[0].1.report.wall_time().as_secs_f64() / b.total().as_secs_f64())
        .fold(0.0, f64::max);
    println!(
        "\ntarget: pexspec's wall time within 1.10 × the critical path: {} (worst {worst:.3})",
        if worst <= 1.10 { "met" } else { "NOT met" }
    );
}
