//! `pexspec node stop|start|remove` end to end, as operators run them, against the built-in
//! simulators (`--sim`, state in a temporary copy of `specs/`), with conferences put on the
//! simulated Management Node between runs. The simulators are then asked directly: the OCI
//! one for the instance's lifecycle state, the Pexip one for the node's registration,
//! maintenance mode and sync status.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use assert_cmd::Command;

/// Simulated seconds per real second in these tests (every simulator opened here uses it
/// too: the Pexip simulator's clock runs at the speed of the process that reads it).
const SPEED: &str = "1200";
const SPEC: &str = "specs/quickstart.yaml";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(dir).args(args);
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    cmd
}

fn pexspec(dir: &Path, args: &[&str]) -> Run {
    let output = command(dir, args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `pexspec node VERB SPEC NAME --sim --sim-speed SPEED` and `extra`.
fn node(dir: &Path, verb: &str, name: &str, extra: &[&str]) -> Run {
    let mut args = vec!["node", verb, SPEC, name, "--sim", "--sim-speed", SPEED];
    args.extend_from_slice(extra);
    pexspec(dir, &args)
}

fn apply(dir: &Path) {
    let run = pexspec(
        dir,
        &[
            "apply",
            SPEC,
            "--sim",
            "--sim-speed",
            SPEED,
            "--auto-approve",
            "--output",
            "plain",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// `plan --detailed-exitcode`: 0 nothing to do, 2 changes.
fn plan(dir: &Path) -> Run {
    pexspec(
        dir,
        &[
            "plan",
            SPEC,
            "--sim",
            "--sim-speed",
            SPEED,
            "--detailed-exitcode",
        ],
    )
}

fn state(dir: &Path) -> PathBuf {
    dir.join("specs/.pexspec/sim")
}

/// The simulated Management Node on `state`, at the tests' speed, and a client of it.
async fn manager(state: &Path) -> (pexspec_sim::pexip::PexipSim, pexspec_pexip::Client) {
    let secrets: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(state.join("secrets.json")).unwrap()).unwrap();
    let password = secrets["PEXIP_ADMIN_PASSWORD"].clone();
    let mut opts =
        pexspec_sim::pexip::PexipSimOptions::new(state.join("pexip/pexmgr"), password.clone());
    opts.time_scale = SPEED.parse().unwrap();
    let sim = pexspec_sim::pexip::start(opts).await.unwrap();
    let client = pexspec_pexip::Client::new(pexspec_pexip::ClientOptions::new(
        sim.base_url(),
        pexspec_pexip::Secret::new(password),
        pexspec_pexip::Trust::Pinned(sim.fingerprint().parse().unwrap()),
    ))
    .unwrap();
    (sim, client)
}

/// Puts a conference on `node`, lasting `duration` (simulated).
fn conference(dir: &Path, node: &str, name: &str, participants: u32, duration: Duration) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (sim, _) = manager(&state(dir)).await;
        sim.start_conference(node, name, participants, duration)
            .await
            .unwrap();
        sim.stop().await;
    });
}

/// Moves the simulated Management Node's clock forward (every process sees it).
fn advance(dir: &Path, by: Duration) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (sim, _) = manager(&state(dir)).await;
        sim.advance(by).unwrap();
        sim.stop().await;
    });
}

/// What the Management Node says of `node`: registered, in maintenance mode, sync status,
/// participants on it.
#[derive(Debug, PartialEq, Eq)]
struct Pexip {
    maintenance: bool,
    sync: String,
    participants: usize,
}

fn pexip(dir: &Path, node: &str) -> Option<Pexip> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (sim, client) = manager(&state(dir)).await;
        let vm = client
            .list::<pexspec_pexip::WorkerVm>(&[("name", node)])
            .await
            .unwrap()
            .into_iter()
            .find(|v| v.name == node);
        let found = match vm {
            None => None,
            Some(vm) => {
                let status = pexspec_pexip::node_status(&client, node)
                    .await
                    .unwrap()
                    .unwrap();
                let participants = pexspec_pexip::participants_on(&client, &vm.address)
                    .await
                    .unwrap()
                    .len();
                Some(Pexip {
                    maintenance: vm.maintenance_mode,
                    sync: status.sync_status,
                    participants,
                })
            }
        };
        sim.stop().await;
        found
    })
}

/// The lifecycle state of `instance[node]`, asked of the OCI simulator through the OCI API
/// (`None`: terminated or absent).
fn instance_state(dir: &Path, node: &str) -> Option<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (sim, client) = common::oci_sim(&state(dir)).await;
        let compartment = client
            .list_compartments(client.tenancy_id(), Some("PexQuickstart"))
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        let address = format!("instance[{node}]");
        let state = client
            .list_instances(&compartment.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| i.freeform_tags.get("pexspec-address") == Some(&address))
            .map(|i| i.lifecycle_state.as_str().to_owned())
            .find(|s| s != "TERMINATED");
        sim.shutdown().await;
        state
    })
}

#[test]
fn stop_waits_for_the_conferences_then_start_brings_the_node_back() {
    let site = common::site();
    let dir = site.path();
    apply(dir);
    let day = Duration::from_secs(86_400);
    conference(dir, "pexconf01", "Board room", 3, day);

    // The stop waits for the conference; the conference ends when the clock says so.
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("pexspec"));
    for var in common::SECRETS {
        child.env_remove(var);
    }
    let mut child = child
        .current_dir(dir)
        .args([
            "node",
            "stop",
            SPEC,
            "pexconf01",
            "--sim",
            "--sim-speed",
            SPEED,
            "--timeout",
            "2d",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "no wait seen:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains("waiting for 1 conference") {
            assert!(line.contains("`Board room` (3 participants)"), "{line}");
            break;
        }
    }
    assert_eq!(
        pexip(dir, "pexconf01").map(|p| (p.maintenance, p.participants)),
        Some((true, 3)),
        "in maintenance, the conference still on it"
    );
    assert_eq!(instance_state(dir, "pexconf01").as_deref(), Some("RUNNING"));
    advance(dir, day);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    seen.push_str(&rest);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{seen}");
    assert!(seen.contains("have ended"), "{seen}");
    assert!(
        seen.contains("SOFTSTOP sent to instance `pexconf01`"),
        "{seen}"
    );
    assert_eq!(instance_state(dir, "pexconf01").as_deref(), Some("STOPPED"));
    let stopped = pexip(dir, "pexconf01").unwrap();
    assert!(stopped.maintenance, "{stopped:?}");
    assert_eq!(stopped.sync, "UNKNOWN", "the Management Node lost contact");
    assert_eq!(
        instance_state(dir, "pexconf02").as_deref(),
        Some("RUNNING"),
        "the other node is left alone"
    );

    // Stopping a stopped node changes nothing.
    let again = node(dir, "stop", "pexconf01", &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("stopped already"), "{}", again.stderr);

    // A stopped node is in maintenance on purpose: the plan leaves it alone.
    let after_stop = plan(dir);
    assert_eq!(
        after_stop.code, 0,
        "{}\n{}",
        after_stop.stdout, after_stop.stderr
    );

    let start = node(dir, "start", "pexconf01", &[]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert!(start.stderr.contains("START sent"), "{}", start.stderr);
    assert!(start.stderr.contains("has synced"), "{}", start.stderr);
    assert!(
        start.stderr.contains("maintenance mode off"),
        "{}",
        start.stderr
    );
    assert_eq!(instance_state(dir, "pexconf01").as_deref(), Some("RUNNING"));
    assert_eq!(
        pexip(dir, "pexconf01"),
        Some(Pexip {
            maintenance: false,
            sync: "SYNCED".into(),
            participants: 0
        })
    );
    let clean = plan(dir);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    let again = node(dir, "start", "pexconf01", &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("RUNNING already"), "{}", again.stderr);
}

#[test]
fn a_conference_longer_than_the_timeout_stops_the_stop_unless_forced() {
    let site = common::site();
    let dir = site.path();
    apply(dir);
    conference(
        dir,
        "pexconf01",
        "All hands",
        2,
        Duration::from_secs(86_400),
    );

    let refused = node(dir, "stop", "pexconf01", &["--timeout", "30m"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    let error = refused
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("error:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(error.contains("timed out after 30 min"), "{error}");
    assert!(error.contains("`All hands` (2 participants)"), "{error}");
    assert!(error.contains("--force"), "{error}");
    assert_eq!(instance_state(dir, "pexconf01").as_deref(), Some("RUNNING"));
    assert_eq!(
        pexip(dir, "pexconf01").map(|p| (p.maintenance, p.participants)),
        Some((true, 2)),
        "left in maintenance mode, the conference going on"
    );

    let forced = node(dir, "stop", "pexconf01", &["--force", "--timeout", "30m"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        forced
            .stderr
            .contains("--force: not waiting for 1 conference on `pexconf01`: `All hands`"),
        "{}",
        forced.stderr
    );
    assert!(forced.stderr.contains("STOP sent"), "{}", forced.stderr);
    assert_eq!(instance_state(dir, "pexconf01").as_deref(), Some("STOPPED"));
    assert_eq!(
        pexip(dir, "pexconf01").map(|p| p.participants),
        Some(0),
        "its participants were disconnected"
    );
}

#[test]
fn remove_deletes_the_node_and_terminates_its_instance() {
    let site = common::site();
    let dir = site.path();
    apply(dir);

    let unconfirmed = node(dir, "remove", "pexconf02", &[]);
    assert_eq!(unconfirmed.code, 2, "{}", unconfirmed.stderr);
    assert!(
        unconfirmed.stderr.contains("pass `--yes`"),
        "{}",
        unconfirmed.stderr
    );
    assert!(pexip(dir, "pexconf02").is_some(), "nothing was changed");

    let removed = node(dir, "remove", "pexconf02", &["--yes"]);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(
        removed
            .stderr
            .trim_end()
            .ends_with("remove `pexconf02` from the spec, or the next apply will create it again"),
        "{}",
        removed.stderr
    );
    assert!(
        removed.stderr.contains("public_ip[pexconf02]"),
        "what stays is named: {}",
        removed.stderr
    );
    assert_eq!(pexip(dir, "pexconf02"), None);
    assert_eq!(instance_state(dir, "pexconf02"), None);
    assert!(pexip(dir, "pexconf01").is_some(), "the other node stays");

    let replan = plan(dir);
    assert_eq!(replan.code, 2, "{}\n{}", replan.stdout, replan.stderr);
    for address in ["instance[pexconf02]", "worker_vm[pexconf02]"] {
        assert!(
            replan.stdout.contains(&format!("+ {address}")),
            "{address} is created again:\n{}",
            replan.stdout
        );
    }

    let again = node(dir, "remove", "pexconf02", &["--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("nothing to remove"),
        "{}",
        again.stderr
    );
}

#[test]
fn an_unknown_node_or_timeout_is_a_usage_error() {
    let site = common::site();
    let dir = site.path();
    let typo = node(dir, "stop", "pexconf1", &[]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(
        typo.stderr
            .contains("no Conferencing Node named `pexconf1`"),
        "{}",
        typo.stderr
    );
    assert!(
        typo.stderr.contains("did you mean `pexconf01`?"),
        "{}",
        typo.stderr
    );
    let manager = node(dir, "remove", "pexmgr", &["--yes"]);
    assert_eq!(manager.code, 2, "{}", manager.stderr);
    assert!(
        manager.stderr.contains("is the Management Node"),
        "{}",
        manager.stderr
    );
    let timeout = node(dir, "start", "pexconf01", &["--timeout", "30"]);
    assert_eq!(timeout.code, 2, "{}", timeout.stderr);
    assert!(timeout.stderr.contains("no unit"), "{}", timeout.stderr);
    assert!(
        !dir.join("specs/.pexspec/sim").exists(),
        "nothing was started"
    );
}
