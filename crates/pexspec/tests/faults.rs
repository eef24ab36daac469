//! `pexspec apply` converges against a misbehaving cloud: the OCI simulator answers 30 % of
//! calls `429`, 10 % with a 5xx, lists what was just created 2 s late (OCI's eventual
//! consistency), and runs out of host capacity on the first launch, which pexspec retries in
//! another availability domain (or, in a region with one, another fault domain), as OCI users
//! do. One test per fault, one with all of them.
//!
//! Each test: apply exits 0; the summary reports the retries (the `retries` event of
//! `--output json`, or the human summary); a plan afterwards, with the faults off, has
//! nothing to do; and the simulator, asked directly, holds each resource once.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{Value, json};

/// Simulated seconds per real second in these tests.
const SPEED: &str = "1200";

const QUICKSTART: &str = "specs/quickstart.yaml";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn position(&self, name: &str) -> usize {
        self.events()
            .iter()
            .position(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no `{name}` event in:\n{}", self.stdout))
    }

    fn event(&self, name: &str) -> Value {
        self.events().swap_remove(self.position(name))
    }
}

fn pexspec(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(dir).args(args);
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `apply SPEC --sim` with the faults of `faults` (a `FaultConfig`), showing progress as
/// `output` (`json` or `plain`).
fn apply_with(dir: &Path, spec: &str, faults: &Value, output: &str) -> Run {
    std::fs::write(dir.join("faults.json"), faults.to_string()).unwrap();
    pexspec(
        dir,
        &[
            "apply",
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--sim-faults",
            "faults.json",
            "--auto-approve",
            "--output",
            output,
        ],
    )
}

/// The stack name of a spec (its `name:`).
fn stack(dir: &Path, spec: &str) -> String {
    let text = std::fs::read_to_string(dir.join(spec)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("name: "))
        .unwrap()
        .trim()
        .to_owned()
}

/// What the simulator's `/_sim/tagged` calls a kind of the graph (`internet_gateway` is
/// `internetgateway`); `None` for kinds that carry no tags (objects, image shapes, Pexip).
fn sim_kind(kind: &str) -> Option<String> {
    const TAGGED: &[&str] = &[
        "compartment",
        "bucket",
        "image",
        "vcn",
        "internet_gateway",
        "drg",
        "drg_attachment",
        "rpc",
        "route_table",
        "security_list",
        "subnet",
        "instance",
        "public_ip",
    ];
    TAGGED.contains(&kind).then(|| {
        kind.replace('_', "")
            .replace("rpc", "remotepeeringconnection")
    })
}

/// The tagged OCI resources a plan creates, counted by the simulator's name of their kind.
fn planned_counts(dir: &Path, spec: &str) -> BTreeMap<String, usize> {
    let run = pexspec(
        dir,
        &[
            "plan",
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut counts = BTreeMap::new();
    for change in plan["changes"].as_array().unwrap() {
        assert_eq!(change["action"], "create", "{change}");
        if let Some(kind) = sim_kind(change["kind"].as_str().unwrap()) {
            *counts.entry(kind).or_default() += 1;
        }
    }
    counts
}

/// Everything tagged with `stack` that is not gone, counted by kind, asked of the OCI
/// simulator over its own inspection endpoint (not through pexspec's observe).
fn tagged_counts(dir: &Path, stack: &str) -> BTreeMap<String, usize> {
    let state = dir.join("specs/.pexspec/sim");
    let found = common::tagged_resources(&state, stack);
    let mut counts = BTreeMap::new();
    for resource in found {
        *counts
            .entry(resource["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

/// Applies `spec` against `faults`, and checks that it converged: exit 0, nothing failed, an
/// empty plan with the faults off, each planned resource once in the simulator. Returns the
/// apply and its `retries` event (`Value::Null` with `output` other than `json`).
fn converges(spec: &str, faults: Value, output: &str) -> (Run, Value) {
    let site = common::site();
    let dir = site.path();
    let planned = planned_counts(dir, spec);
    assert!(
        planned.get("instance").is_some_and(|n| *n >= 3),
        "{planned:?}"
    );

    let run = apply_with(dir, spec, &faults, output);
    assert_eq!(
        run.code, 0,
        "apply {spec} with {faults}:\n{}\n{}",
        run.stdout, run.stderr
    );
    let retries = if output == "json" {
        let report = &run.event("summary")["report"];
        assert_eq!(report["failed"], 0, "{report}");
        assert_eq!(
            run.position("retries") + 1,
            run.position("summary"),
            "the `retries` event comes right before the summary:\n{}",
            run.stdout
        );
        run.event("retries")
    } else {
        Value::Null
    };

    if faults["list_lag_ms"].as_u64().unwrap_or(0) > 0 {
        // The last resources created are not listed for 2 s (of wall time, as in OCI), and a
        // plan observes by listing: in that window it would show them missing. The next
        // apply, faults off, knows them from its journal and waits until they are listed
        // (the test does not sleep); it must create nothing.
        let settle = pexspec(
            dir,
            &[
                "apply",
                spec,
                "--sim",
                "--sim-speed",
                SPEED,
                "--auto-approve",
                "--output",
                "json",
            ],
        );
        assert_eq!(settle.code, 0, "{}\n{}", settle.stdout, settle.stderr);
        let calls = settle.event("sim_calls");
        assert_eq!(calls["oci_mutations"], 0, "{calls}");
        assert_eq!(
            settle.event("plan")["summary"]["create"],
            0,
            "{}",
            settle.stdout
        );
    }
    let after = pexspec(
        dir,
        &[
            "plan",
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--detailed-exitcode",
        ],
    );
    assert_eq!(
        after.code, 0,
        "plan after apply with {faults} is not empty:\n{}\n{}",
        after.stdout, after.stderr
    );

    let found = tagged_counts(dir, &stack(dir, spec));
    assert_eq!(
        found, planned,
        "the simulator holds (left) what the plan made (right)"
    );
    (run, retries)
}

fn count(retries: &Value, field: &str) -> u64 {
    retries[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no `{field}` in {retries}"))
}

#[test]
fn thirty_percent_throttling_converges_and_the_retries_are_reported() {
    let faults = json!({"seed": 11, "rate_429": 0.3});
    let (_, retries) = converges(QUICKSTART, faults, "json");
    assert!(count(&retries, "throttled") > 0, "{retries}");
    assert_eq!(count(&retries, "server_errors"), 0, "{retries}");
    assert_eq!(retries["placement"], json!([]), "{retries}");
}

#[test]
fn ten_percent_server_errors_converge_and_the_summary_says_so() {
    let faults = json!({"seed": 12, "rate_5xx": 0.1});
    let (run, _) = converges(QUICKSTART, faults, "plain");
    assert!(run.stderr.contains("apply complete"), "{}", run.stderr);
    assert!(
        run.stderr.contains("server errors (5xx)"),
        "the human summary names the 5xx retries:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("throttled (429)"), "{}", run.stderr);
}

#[test]
fn a_two_second_list_lag_converges() {
    // 2 s of the simulator's clock, OCI's time: what a list shows late after a create.
    let faults = json!({"seed": 13, "list_lag_ms": 2000});
    let (_, retries) = converges(QUICKSTART, faults, "json");
    assert_eq!(count(&retries, "throttled"), 0, "{retries}");
    assert_eq!(count(&retries, "server_errors"), 0, "{retries}");
}

#[test]
fn out_of_host_capacity_on_the_first_launch_moves_it_to_the_next_availability_domain() {
    // pexspec launches in the spec's AD-1 first; the first launch there finds no room.
    let faults = json!({
        "out_of_host_capacity": [
            {"availability_domain": "Pjwf:EU-FRANKFURT-1-AD-1", "count": 1}
        ]
    });
    let (_, retries) = converges(QUICKSTART, faults, "json");
    let placement = retries["placement"].as_array().unwrap();
    assert_eq!(placement.len(), 1, "{retries}");
    let moved = &placement[0];
    let instances = [
        "instance[pexmgr]",
        "instance[pexconf01]",
        "instance[pexconf02]",
    ];
    assert!(
        instances.contains(&moved["address"].as_str().unwrap()),
        "{moved}"
    );
    assert_eq!(moved["from"], "Pjwf:EU-FRANKFURT-1-AD-1", "{moved}");
    assert_eq!(moved["to"], "Pjwf:EU-FRANKFURT-1-AD-2", "{moved}");
    assert!(
        moved["message"]
            .as_str()
            .unwrap()
            .contains("Out of host capacity"),
        "{moved}"
    );
}

#[test]
fn out_of_host_capacity_in_a_region_with_one_availability_domain_moves_to_another_fault_domain() {
    // Zurich has one availability domain: pexspec tries each fault domain in turn. The
    // first launch (OCI picks FAULT-DOMAIN-1) and the retry named FAULT-DOMAIN-1 find no room.
    let faults = json!({
        "out_of_host_capacity": [{
            "availability_domain": "Pjwf:EU-ZURICH-1-AD-1",
            "fault_domain": "FAULT-DOMAIN-1",
            "count": 2
        }]
    });
    let (_, retries) = converges("specs/zurich-frankfurt.yaml", faults, "json");
    let placement = retries["placement"].as_array().unwrap();
    assert_eq!(placement.len(), 2, "{retries}");
    for moved in placement {
        assert_eq!(moved["address"], "instance[pexconf-zrh01]", "{moved}");
    }
    assert_eq!(placement[0]["from"], "Pjwf:EU-ZURICH-1-AD-1", "{retries}");
    assert_eq!(
        placement[0]["to"], "Pjwf:EU-ZURICH-1-AD-1 FAULT-DOMAIN-1",
        "{retries}"
    );
    assert_eq!(
        placement[1]["to"], "Pjwf:EU-ZURICH-1-AD-1 FAULT-DOMAIN-2",
        "{retries}"
    );
}

#[test]
fn every_fault_at_once_converges_and_every_retry_is_reported() {
    let faults = json!({
        "seed": 14,
        "rate_429": 0.3,
        "rate_5xx": 0.1,
        "list_lag_ms": 2000,
        "out_of_host_capacity": [
            {"availability_domain": "Pjwf:EU-FRANKFURT-1-AD-1", "count": 1}
        ]
    });
    let (_, retries) = converges(QUICKSTART, faults, "json");
    assert!(count(&retries, "throttled") > 0, "{retries}");
    assert!(count(&retries, "server_errors") > 0, "{retries}");
    let placement = retries["placement"].as_array().unwrap();
    assert_eq!(placement.len(), 1, "{retries}");
    assert_eq!(placement[0]["to"], "Pjwf:EU-FRANKFURT-1-AD-2", "{retries}");
}
