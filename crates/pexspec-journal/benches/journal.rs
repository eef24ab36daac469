//! What durability costs: the time to record a call's intent (a committed, fsynced WAL
//! frame: `synchronous=FULL`), its result, and a sealed sensitive output, on the disk of
//! the directory given by `PEXSPEC_BENCH_DIR` (default: the system's temporary directory).
//!
//! Run with `cargo bench -p pexspec-journal`. Prints Markdown.

#![allow(clippy::print_stdout)] // A benchmark's output is its report.

use std::time::{Duration, Instant};

use pexspec_exec::{CallAction, CallIntent, CallJournal, CallOutcome, CallResult, SensitiveSink};
use pexspec_graph::{Address, Kind};
use pexspec_journal::{Journal, RunInfo};
use pexspec_plan::Sensitive;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn row(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let mean = total / samples.len() as u32;
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} |",
        samples.len(),
        mean.as_secs_f64() * 1e3,
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
    );
}

fn main() {
    let base = std::env::var_os("PEXSPEC_BENCH_DIR")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let tmp = match tempfile::tempdir_in(&base) {
        Ok(t) => t,
        Err(e) => {
            println!("cannot make a directory in {}: {e}", base.display());
            std::process::exit(1);
        }
    };
    let journal = match Journal::open(tmp.path().join(".pexspec")) {
        Ok(j) => j,
        Err(e) => {
            println!("{e}");
            std::process::exit(1);
        }
    };
    let run = match journal.begin_run(&RunInfo {
        command: "bench".into(),
        stack: "bench".into(),
        spec_hash: String::new(),
        who: "bench@localhost".into(),
    }) {
        Ok(r) => r,
        Err(e) => {
            println!("{e}");
            std::process::exit(1);
        }
    };
    let n = 500;
    let token = "0".repeat(64);
    let (mut intents, mut results, mut outputs) = (Vec::new(), Vec::new(), Vec::new());
    let file = Sensitive::new(vec![b'x'; 4096]);
    for k in 0..n {
        let address = Address::new(Kind::WorkerVm, format!("node{k:04}"));
        let t = Instant::now();
        let id = run
            .intent(&CallIntent {
                address: &address,
                kind: Kind::WorkerVm,
                region: None,
                action: CallAction::Create,
                retry_token: Some(&token),
                resource_id: None,
            })
            .expect("intent");
        intents.push(t.elapsed());
        let t = Instant::now();
        run.store(&address, &file).expect("store");
        outputs.push(t.elapsed());
        let t = Instant::now();
        run.result(
            id,
            &CallResult {
                outcome: CallOutcome::Succeeded,
                resource_id: Some("/api/admin/configuration/v1/worker_vm/1/"),
                error: None,
            },
        )
        .expect("result");
        results.push(t.elapsed());
    }
    println!(
        "Journal writes on `{}` (`synchronous=FULL`, WAL), in ms:\n",
        base.display()
    );
    println!("| record | n | mean | p50 | p99 |");
    println!("|---|---|---|---|---|");
    row("intent", intents);
    row("sealed 4 KiB output", outputs);
    row("result", results);
}
