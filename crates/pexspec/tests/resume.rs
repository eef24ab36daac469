//! A resumed apply waits for what exists but is not ready: `pexspec apply --sim` killed with
//! SIGKILL while an image imports, then run again. The second run observes the image
//! `IMPORTING`, plans a wait for it, and launches the instances only once it is available:
//! no `LaunchInstance` is refused, none is sent twice (the simulators' own counters, in the
//! run's `sim_calls` event, say so).
//!
//! And `plan` beside a running `apply`, as separate processes: the apply never fails on its
//! journal ("database is locked"), however many plans read it meanwhile.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pexspec"));
    cmd.current_dir(dir).args(args);
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    cmd
}

fn apply_args<'a>(spec: &'a str, speed: &'a str) -> [&'a str; 8] {
    [
        "apply",
        spec,
        "--sim",
        "--sim-speed",
        speed,
        "--auto-approve",
        "--output",
        "json",
    ]
}

#[test]
fn a_resumed_apply_waits_for_an_importing_image_and_launches_once() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/quickstart.yaml";

    // Slow enough that the import (22 nominal minutes) lasts seconds: killed as it waits.
    let mut child = command(dir, &apply_args(spec, "200"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut killed = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if event["event"] == "step_waiting"
            && event["address"]
                .as_str()
                .is_some_and(|a| a.starts_with("image["))
            && event["state"] == "IMPORTING"
        {
            child.kill().unwrap();
            killed = true;
            break;
        }
    }
    let _ = child.wait();
    assert!(killed, "the first apply never waited for an import");

    let output = command(dir, &apply_args(spec, "1200")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let find = |name: &str| {
        events
            .iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no `{name}` in {stdout}"))
    };
    let plan = find("plan");
    let launches = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "instance" && c["action"] == "create")
        .count() as u64;
    assert!(launches > 0, "{plan}");
    // Each instance launched once: no conflict, no retry.
    let report = &find("summary")["report"];
    assert_eq!(report["failed"], 0, "{report}");
    let calls = find("sim_calls");
    assert_eq!(
        calls["oci"]["LaunchInstance"].as_u64(),
        Some(launches),
        "{calls}"
    );
    let retried: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["event"] == "step_retrying"
                && e["address"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("instance["))
        })
        .collect();
    assert!(retried.is_empty(), "{retried:?}");

    // The plan waits for the images that were importing.
    let waits: Vec<&Value> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["wait"].is_string())
        .collect();
    assert!(
        waits
            .iter()
            .any(|c| c["kind"] == "image" && c["action"] == "noop"),
        "no wait for an importing image: {plan}"
    );
    // Converged: the next plan is empty.
    let again = command(
        dir,
        &[
            "plan",
            spec,
            "--sim",
            "--sim-speed",
            "1200",
            "--detailed-exitcode",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn plans_beside_a_running_apply_never_break_it() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/quickstart.yaml";
    let mut child = command(dir, &apply_args(spec, "600"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the apply has planned (its simulators' files written: concurrent starts of the
    // simulators are another matter), plans one after the other for as long as it runs.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("\"event\":\"plan\""), "{first}");
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let mut plans = 0;
    while child.try_wait().unwrap().is_none() {
        let planned = command(dir, &["plan", spec, "--sim", "--sim-speed", "600"])
            .output()
            .unwrap();
        assert_eq!(
            planned.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&planned.stderr)
        );
        plans += 1;
    }
    let output = child.wait_with_output().unwrap();
    let stdout = rest.join().unwrap().join("\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"failed\":0"), "{stdout}");
    assert!(!stderr.contains("database is locked"), "{stderr}");
    assert!(plans > 0);
}
