//! `pexspec apply` and `destroy` end to end, as users run them, against the built-in
//! simulators (`--sim`, state in a temporary copy of `specs/`): for every example spec and a
//! three-region mesh, apply builds everything, the plan is then empty, a second apply sends
//! no call that changes anything (the simulators' own counters say so), destroy removes it
//! all, and the OCI simulator, asked directly, holds nothing tagged with the stack.
//! Drift made behind pexspec's back shows in the plan and apply repairs it.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Simulated seconds per real second in these tests.
const SPEED: &str = "1200";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON events of `--output json`.
    fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn event(&self, name: &str) -> Value {
        self.events()
            .into_iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no `{name}` event in:\n{}", self.stdout))
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

fn apply(dir: &Path, spec: &str) -> Run {
    pexspec(
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
    )
}

fn destroy(dir: &Path, spec: &str) -> Run {
    pexspec(
        dir,
        &[
            "destroy",
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--auto-approve",
            "--output",
            "json",
        ],
    )
}

fn plan(dir: &Path, spec: &str) -> Run {
    pexspec(
        dir,
        &[
            "plan",
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--detailed-exitcode",
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

/// Asks the OCI simulator, over its own HTTP inspection endpoint, for everything tagged
/// with `stack` that is not gone.
fn tagged(dir: &Path, stack: &str) -> Vec<Value> {
    let state = dir.join(".pexspec/sim");
    common::tagged_resources(&state, stack)
}

/// The whole cycle for one spec.
fn cycle(spec: &str) {
    let site = common::site();
    let dir = site.path();

    let first = apply(dir, spec);
    assert_eq!(
        first.code, 0,
        "apply {spec}:\n{}\n{}",
        first.stdout, first.stderr
    );
    let report = &first.event("summary")["report"];
    assert_eq!(report["failed"], 0, "{report}");
    assert!(report["created"].as_u64().unwrap() > 10, "{report}");
    let planned = first.event("plan");
    let to_create = planned["summary"]["create"].as_u64().unwrap();
    assert_eq!(report["created"].as_u64().unwrap(), to_create, "{report}");
    let calls = first.event("sim_calls");
    assert!(calls["oci_mutations"].as_u64().unwrap() > 0, "{calls}");

    // Every Conferencing Node is in service when apply ends, and stays so for a simulator
    // that runs slower on the same state afterwards (as `pexspec sim serve` does at 60x).
    let nodes = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(node_sync(&dir.join("specs/.pexspec/sim"), 60.0));
    assert!(
        !nodes.is_empty(),
        "no Conferencing Node after apply of {spec}"
    );
    assert!(
        nodes.iter().all(|(_, sync)| sync == "SYNCED"),
        "after apply of {spec}: {nodes:?}"
    );

    let after = plan(dir, spec);
    assert_eq!(
        after.code, 0,
        "plan after apply of {spec} is not empty:\n{}\n{}",
        after.stdout, after.stderr
    );

    let second = apply(dir, spec);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let calls = second.event("sim_calls");
    assert_eq!(calls["oci_mutations"], 0, "second apply of {spec}: {calls}");
    assert_eq!(
        calls["pexip_mutations"], 0,
        "second apply of {spec}: {calls}"
    );
    assert!(
        calls["oci"]
            .as_object()
            .unwrap()
            .keys()
            .all(|op| op.starts_with("List") || op.starts_with("Get") || op.starts_with("Head")),
        "{calls}"
    );

    let gone = destroy(dir, spec);
    assert_eq!(
        gone.code, 0,
        "destroy {spec}:\n{}\n{}",
        gone.stdout, gone.stderr
    );
    let report = &gone.event("summary")["report"];
    assert_eq!(report["failed"], 0, "{report}");
    assert!(report["deleted"].as_u64().unwrap() > 10, "{report}");

    let left = tagged(dir, &stack(dir, spec));
    assert!(left.is_empty(), "destroy of {spec} left: {left:?}");

    // A second destroy has nothing to do.
    let again = destroy(dir, spec);
    assert_eq!(again.code, 0, "{}", again.stderr);
}

/// Each Conferencing Node's `sync_status` as a Management Node simulator started on `state`
/// at `speed` reports it.
async fn node_sync(state: &Path, speed: f64) -> Vec<(String, String)> {
    let secrets: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(state.join("secrets.json")).unwrap()).unwrap();
    let password = secrets["PEXIP_ADMIN_PASSWORD"].clone();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(state.join("pexip")).unwrap() {
        let mut opts =
            pexspec_sim::pexip::PexipSimOptions::new(entry.unwrap().path(), password.clone());
        opts.time_scale = speed;
        let sim = pexspec_sim::pexip::start(opts).await.unwrap();
        let client = pexspec_pexip::Client::new(pexspec_pexip::ClientOptions::new(
            sim.base_url(),
            pexspec_pexip::Secret::new(password.clone()),
            pexspec_pexip::Trust::Pinned(sim.fingerprint().parse().unwrap()),
        ))
        .unwrap();
        for s in client
            .list::<pexspec_pexip::status::WorkerVmStatus>(&[])
            .await
            .unwrap()
        {
            out.push((s.name, s.sync_status));
        }
        sim.stop().await;
    }
    out
}

#[test]
fn quickstart_applies_is_idempotent_and_destroys() {
    cycle("specs/quickstart.yaml");
}

#[test]
fn zurich_frankfurt_applies_is_idempotent_and_destroys() {
    cycle("specs/zurich-frankfurt.yaml");
}

#[test]
fn private_applies_is_idempotent_and_destroys() {
    cycle("specs/private.yaml");
}

#[test]
fn hybrid_applies_is_idempotent_and_destroys() {
    cycle("specs/hybrid.yaml");
}

#[test]
fn three_regions_apply_is_idempotent_and_destroys() {
    cycle("specs/three-regions.yaml");
}

#[test]
fn apply_refuses_without_confirmation_when_not_on_a_terminal() {
    let site = common::site();
    let run = pexspec(
        site.path(),
        &[
            "apply",
            "specs/quickstart.yaml",
            "--sim",
            "--sim-speed",
            SPEED,
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    // Nothing was created: the plan still creates everything.
    let after = plan(site.path(), "specs/quickstart.yaml");
    assert_eq!(after.code, 2, "{}", after.stderr);
    assert!(after.stdout.contains("32 to create"), "{}", after.stdout);
}

#[test]
fn a_real_run_names_the_unset_secrets_before_any_call() {
    // With a complete OCI profile (without one, the profile is what a real run asks for
    // first: tests/first_run.rs), the unset secrets are named before anything is sent.
    let site = common::site();
    let config = common::oci_config(site.path());
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(site.path())
        .args(["apply", "specs/quickstart.yaml", "--auto-approve"])
        .env("OCI_CLI_CONFIG_FILE", &config)
        .env_remove("OCI_CLI_PROFILE");
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    let output = cmd.output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("PEXIP_ADMIN_PASSWORD") && run.stderr.contains("BOARD_PIN"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_saved_plan_is_applied_and_refused_once_stale() {
    let site = common::site();
    let dir = site.path();
    let saved = pexspec(
        dir,
        &[
            "plan",
            "specs/private.yaml",
            "--sim",
            "--sim-speed",
            SPEED,
            "--out",
            "plan.json",
        ],
    );
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let args = [
        "apply",
        "plan.json",
        "--sim",
        "--sim-speed",
        SPEED,
        "--auto-approve",
        "--output",
        "json",
    ];
    let applied = pexspec(dir, &args);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(applied.event("summary")["report"]["failed"], 0);
    // The same plan again: the cloud has moved since it was made.
    let stale = pexspec(dir, &args);
    assert_eq!(stale.code, 1, "{}", stale.stderr);
    assert!(
        stale.stderr.contains("changed since this plan"),
        "{}",
        stale.stderr
    );

    // A plan of a spec edited since is refused too.
    let saved = pexspec(
        dir,
        &[
            "plan",
            "specs/private.yaml",
            "--sim",
            "--sim-speed",
            SPEED,
            "--out",
            "plan.json",
        ],
    );
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let spec = dir.join("specs/private.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{text}\n# edited\n")).unwrap();
    let edited = pexspec(dir, &args);
    assert_eq!(edited.code, 1, "{}", edited.stderr);
    assert!(edited.stderr.contains("changed since"), "{}", edited.stderr);
}

#[test]
fn a_second_apply_is_refused_while_the_lock_is_held() {
    let site = common::site();
    let dir = site.path();
    let state = dir.join("specs/.pexspec");
    let holder = pexspec_journal::Holder::current("apply");
    let lock = pexspec_journal::LocalLock::acquire(&state, &holder).unwrap();
    let run = apply(dir, "specs/quickstart.yaml");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&holder.who), "{}", run.stderr);
    assert!(run.stderr.contains("force-unlock"), "{}", run.stderr);
    // The holder dies without releasing it: force-unlock shows who held it and removes it.
    std::mem::forget(lock);
    let unlock = ["force-unlock", "specs/quickstart.yaml", "--yes"];
    let run = pexspec(dir, &unlock);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(&holder.who), "{}", run.stderr);
    assert!(run.stderr.contains("Lock removed"), "{}", run.stderr);
    let run = pexspec(dir, &unlock);
    assert!(run.stderr.contains("no lock"), "{}", run.stderr);
}

/// Opens SSH to the world on the quickstart's security list, through the OCI API.
async fn open_port_22(state: &Path) {
    use pexspec_oci::models::{
        IngressSecurityRule, PortOptions, PortRange, UpdateSecurityListDetails,
    };
    let (sim, client) = common::oci_sim(state).await;
    let compartment = client
        .list_compartments(client.tenancy_id(), Some("PexQuickstart"))
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let list = client
        .list_security_lists(&compartment.id, None)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.freeform_tags.get("pexspec-stack").map(String::as_str) == Some("quickstart"))
        .unwrap();
    let mut rules = list.ingress_security_rules.clone();
    rules.push(IngressSecurityRule {
        source: "0.0.0.0/0".into(),
        protocol: "6".into(),
        source_type: None,
        is_stateless: None,
        tcp_options: Some(PortOptions {
            destination_port_range: Some(PortRange { min: 22, max: 22 }),
            source_port_range: None,
        }),
        udp_options: None,
        icmp_options: None,
        description: Some("opened by hand".into()),
    });
    client
        .update_security_list(
            &list.id,
            &UpdateSecurityListDetails {
                ingress_security_rules: Some(rules),
                ..UpdateSecurityListDetails::default()
            },
            None,
        )
        .await
        .unwrap();
    sim.shutdown().await;
}

/// Puts `node` in maintenance mode on the simulated Management Node, through its API.
async fn maintenance_on(state: &Path, node: &str) {
    let secrets: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(state.join("secrets.json")).unwrap()).unwrap();
    let password = secrets["PEXIP_ADMIN_PASSWORD"].clone();
    let sim = pexspec_sim::pexip::start(pexspec_sim::pexip::PexipSimOptions::new(
        state.join("pexip/pexmgr"),
        password.clone(),
    ))
    .await
    .unwrap();
    let client = pexspec_pexip::Client::new(pexspec_pexip::ClientOptions::new(
        sim.base_url(),
        pexspec_pexip::Secret::new(password),
        pexspec_pexip::Trust::Pinned(sim.fingerprint().parse().unwrap()),
    ))
    .unwrap();
    let vms: Vec<pexspec_pexip::WorkerVm> = client.list(&[("name", node)]).await.unwrap();
    let vm = vms.into_iter().next().unwrap();
    pexspec_pexip::set_maintenance(&client, &vm.resource_uri, true, "by hand")
        .await
        .unwrap();
    sim.stop().await;
}

#[test]
fn drift_behind_pexspecs_back_shows_in_the_plan_and_apply_repairs_it() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/quickstart.yaml";
    assert_eq!(apply(dir, spec).code, 0);

    let state = dir.join("specs/.pexspec/sim");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(open_port_22(&state));
    runtime.block_on(maintenance_on(&state, "pexconf01"));

    let drifted = plan(dir, spec);
    assert_eq!(drifted.code, 2, "{}\n{}", drifted.stdout, drifted.stderr);
    assert!(
        drifted.stdout.contains("~ security_list[eu-frankfurt-1]"),
        "{}",
        drifted.stdout
    );
    assert!(
        drifted.stdout.contains("~ worker_vm[pexconf01]"),
        "{}",
        drifted.stdout
    );
    assert!(
        drifted.stdout.contains("maintenance_mode"),
        "{}",
        drifted.stdout
    );

    let repaired = apply(dir, spec);
    assert_eq!(repaired.code, 0, "{}", repaired.stderr);
    assert_eq!(repaired.event("summary")["report"]["updated"], 2);
    assert_eq!(plan(dir, spec).code, 0);
}

/// Two stacks in one folder whose Management Nodes have the same name (the example specs'
/// `pexmgr`) would share one simulated Management Node, and the second would meet the first
/// one's Conferencing Nodes. The second is refused before anything is made, naming the
/// first; once that one is destroyed, the second applies.
#[test]
fn two_stacks_in_one_folder_do_not_share_a_simulated_management_node() {
    let site = common::site();
    let first = apply(site.path(), "specs/quickstart.yaml");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = apply(site.path(), "specs/zurich-frankfurt.yaml");
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains(
            "the simulated Management Node `pexmgr` in this folder belongs to stack `quickstart`"
        ),
        "{}",
        second.stderr
    );
    // Nothing of the second stack was made: the first one still plans clean.
    let clean = plan(site.path(), "specs/quickstart.yaml");
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    let gone = destroy(site.path(), "specs/quickstart.yaml");
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    let second = apply(site.path(), "specs/zurich-frankfurt.yaml");
    assert_eq!(second.code, 0, "{}", second.stderr);
    let clean = plan(site.path(), "specs/zurich-frankfurt.yaml");
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
}
