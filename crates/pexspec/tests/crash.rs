//! Crash safety, end to end: `pexspec apply --sim` killed with SIGKILL at seeded random
//! moments (after a random number of its JSON events, or right at a `worker_vm` create, the
//! step whose answer, the node's configuration file, is returned once), the next apply
//! resuming where it stopped, and when one completes, `destroy` and start again, so that
//! kills land in every phase. After each completed apply and at the end: the plan is empty,
//! the OCI simulator holds exactly what the graph wants of each kind (nothing duplicated,
//! nothing orphaned), and the Management Node has each node, room and alias once.
//!
//! And a lost configuration file: the journal deleted after a `worker_vm` was created but
//! before its file was uploaded; the plan shows the node registered again, and apply does it.
//!
//! Everything is seeded ([`SEED`], printed in every failure): the same kills every run.
//! Nothing sleeps: a kill comes after an event is read.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pexspec_graph::Kind;
use serde_json::Value;

/// The seed of the kill moments.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Simulated seconds per real second.
const SPEED: &str = "20000";

/// Kills per spec.
const KILLS: usize = 30;

/// SplitMix64: small, seedable, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// When to kill a run.
#[derive(Clone, Debug)]
enum Moment {
    /// After this share (per mille) of the lines the run should print, estimated from its
    /// plan, the first line (0: right after the plan, before the first create).
    Through(u64),
    /// Right after this event of some `worker_vm` (`step_started`: the create is in flight;
    /// `step_finished`: its file was just kept).
    AtWorker(&'static str),
    /// Right after the first `step_started` of a `node_bootstrap`: its upload is in flight.
    AtUpload,
}

impl Moment {
    /// Whether the run is to be killed after `event`, its `line`th line, out of about
    /// `expected`.
    fn hit(&self, line: usize, expected: usize, event: &Value) -> bool {
        let is = |name: &str, kind: &str| {
            event["event"] == name
                && event["address"]
                    .as_str()
                    .is_some_and(|a| a.starts_with(&format!("{kind}[")))
        };
        match self {
            // A run with nothing to do is not worth a kill: it completes.
            Moment::Through(_) if expected <= NOTHING_TO_DO => false,
            Moment::Through(per_mille) => {
                let at = (expected as u64 * per_mille).div_ceil(1000).max(1);
                line as u64 >= at
            }
            Moment::AtWorker(name) => is(name, "worker_vm"),
            Moment::AtUpload => is("step_started", "node_bootstrap"),
        }
    }
}

/// About how many lines a run of `plan` prints: the plan, a start, a finish and now and then
/// a wait per step, the summary and the simulators' counts.
fn expected_lines(plan: &Value) -> usize {
    let steps = plan["changes"].as_array().map_or(0, |changes| {
        changes
            .iter()
            .filter(|c| c["action"] != "noop" || c["pending"] == true)
            .count()
    });
    NOTHING_TO_DO + steps * 5 / 2
}

/// The lines of a run with nothing to do: the plan and the simulators' counts.
const NOTHING_TO_DO: usize = 2;

/// One run of `pexspec apply`, killed or not.
struct Run {
    /// Whether it was killed.
    killed: bool,
    /// Its exit code (`None` when killed).
    code: Option<i32>,
    /// Its JSON lines, those written before the kill landed included.
    events: Vec<Value>,
    stderr: String,
}

impl Run {
    fn failures(&self) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["event"] == "step_finished" && e["outcome"] == "failed")
            .collect()
    }

    /// The last event read, shortly.
    fn last(&self) -> String {
        self.events
            .iter()
            .rev()
            .find(|e| e.get("event").is_some())
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["event"].as_str().unwrap_or("?"),
                    e["address"].as_str().unwrap_or(""),
                    e["outcome"].as_str().unwrap_or("")
                )
            })
            .unwrap_or_default()
    }

    fn started(&self, address: &str) -> bool {
        self.events
            .iter()
            .any(|e| e["event"] == "step_started" && e["address"] == address)
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pexspec"));
    cmd.current_dir(dir).args(args);
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    cmd
}

/// `pexspec apply SPEC`, killed with SIGKILL at `moment` (never, with `None`).
fn apply(dir: &Path, spec: &str, moment: Option<&Moment>) -> Run {
    let stderr_path = dir.join("apply.stderr");
    let mut child = command(
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
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(std::fs::File::create(&stderr_path).unwrap())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    let mut killed = false;
    let mut expected = 0;
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if event["event"] == "plan" {
            expected = expected_lines(&event);
        }
        let hit = moment.is_some_and(|m| m.hit(events.len() + 1, expected, &event));
        events.push(event);
        if hit {
            // SIGKILL on Unix.
            child.kill().unwrap();
            killed = true;
            break;
        }
    }
    // What it wrote before the kill landed.
    for line in lines.map_while(Result::ok) {
        if let Ok(event) = serde_json::from_str::<Value>(&line) {
            events.push(event);
        }
    }
    let status = child.wait().unwrap();
    Run {
        killed: killed && status.code().is_none(),
        code: status.code(),
        events,
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = command(dir, args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn plan(dir: &Path, spec: &str) -> (i32, String, String) {
    run(
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

fn destroy(dir: &Path, spec: &str) -> (i32, String, String) {
    run(
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

/// The compiled graph of a spec.
fn graph(dir: &Path, spec: &str) -> pexspec_graph::Graph {
    let loaded = pexspec_spec::load_file(&dir.join(spec)).unwrap();
    pexspec_graph::compile(&loaded.spec.unwrap()).unwrap()
}

/// The OCI simulator's name of a kind, for the kinds that are resources of their own.
fn sim_kind(kind: Kind) -> Option<String> {
    match kind {
        Kind::Rpc => Some("remotepeeringconnection".into()),
        // Not resources: an object lives in its bucket, the other two are relations.
        Kind::Object | Kind::ImageShape | Kind::RpcPeering => None,
        k if k.is_oci() => Some(k.as_str().replace('_', "")),
        _ => None,
    }
}

/// What the OCI simulator should hold of each kind once `graph` is applied.
fn expected_oci(graph: &pexspec_graph::Graph) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (kind, n) in graph.count_by_kind() {
        if let Some(name) = sim_kind(kind) {
            *out.entry(name).or_insert(0) += n;
        }
    }
    out
}

/// Asks the OCI simulator, over its own HTTP inspection endpoint, how many resources of each
/// kind are tagged with `stack` and not gone.
fn tagged(state: &Path, stack: &str) -> BTreeMap<String, usize> {
    let list = common::tagged_resources(state, stack);
    let mut out = BTreeMap::new();
    for r in list {
        let kind = r["kind"].as_str().unwrap_or("?").to_ascii_lowercase();
        *out.entry(kind).or_insert(0) += 1;
    }
    out
}

/// The simulated Management Node's objects: (kind, natural key) → how many there are.
fn pexip_objects(state: &Path) -> BTreeMap<(Kind, String), usize> {
    let managers: Vec<PathBuf> = std::fs::read_dir(state.join("pexip"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    if managers.is_empty() {
        return out;
    }
    let secrets: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(state.join("secrets.json")).unwrap()).unwrap();
    let password = secrets["PEXIP_ADMIN_PASSWORD"].clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for manager in managers {
            let sim = pexspec_sim::pexip::start(pexspec_sim::pexip::PexipSimOptions::new(
                manager,
                password.clone(),
            ))
            .await
            .unwrap();
            let client = pexspec_pexip::Client::new(pexspec_pexip::ClientOptions::new(
                sim.base_url(),
                pexspec_pexip::Secret::new(password.clone()),
                pexspec_pexip::Trust::Pinned(sim.fingerprint().parse().unwrap()),
            ))
            .unwrap();
            let mut add = |kind: Kind, key: String| *out.entry((kind, key)).or_insert(0) += 1;
            let vms: Vec<pexspec_pexip::WorkerVm> = client.list(&[]).await.unwrap();
            vms.into_iter().for_each(|o| add(Kind::WorkerVm, o.name));
            let rooms: Vec<pexspec_pexip::Conference> = client.list(&[]).await.unwrap();
            rooms
                .into_iter()
                .for_each(|o| add(Kind::Conference, o.name));
            let aliases: Vec<pexspec_pexip::ConferenceAlias> = client.list(&[]).await.unwrap();
            aliases
                .into_iter()
                .for_each(|o| add(Kind::ConferenceAlias, o.alias));
            let locations: Vec<pexspec_pexip::SystemLocation> = client.list(&[]).await.unwrap();
            locations
                .into_iter()
                .for_each(|o| add(Kind::SystemLocation, o.name));
            sim.stop().await;
        }
    });
    out
}

/// What the Management Node should hold: each node, room, alias and location of the graph,
/// once.
fn expected_pexip(graph: &pexspec_graph::Graph) -> BTreeMap<(Kind, String), usize> {
    graph
        .nodes()
        .filter(|n| {
            matches!(
                n.kind(),
                Kind::WorkerVm | Kind::Conference | Kind::ConferenceAlias | Kind::SystemLocation
            )
        })
        .map(|n| ((n.kind(), n.address.key().unwrap().to_owned()), 1))
        .collect()
}

/// Everything the spec wants is there once, and the plan is empty.
fn assert_converged(dir: &Path, spec: &str, graph: &pexspec_graph::Graph, seed: u64, log: &str) {
    let state = dir.join("specs/.pexspec/sim");
    let (code, stdout, stderr) = plan(dir, spec);
    assert_eq!(
        code, 0,
        "seed {seed:#x}: the plan is not empty:\n{stdout}\n{stderr}\n{log}"
    );
    assert_eq!(
        tagged(&state, graph.stack()),
        expected_oci(graph),
        "seed {seed:#x}: the OCI simulator holds (left) what the graph does not want (right)\n{log}"
    );
    assert_eq!(
        pexip_objects(&state),
        expected_pexip(graph),
        "seed {seed:#x}: the Management Node holds (left) what the graph does not want (right)\n{log}"
    );
}

/// When to kill the next run: most often a random share of it, sometimes a `worker_vm`
/// create or an upload, and now and then never (the run completes, and the cycle starts
/// again with a destroy).
fn moment(rng: &mut Rng) -> Option<Moment> {
    match rng.below(16) {
        0 => None,
        1 | 2 => Some(Moment::AtWorker("step_finished")),
        3 => Some(Moment::AtWorker("step_started")),
        4 => Some(Moment::AtUpload),
        _ => Some(Moment::Through(rng.below(1001))),
    }
}

/// Kills `pexspec apply SPEC` `kills` times at seeded random moments; checks that every apply
/// that ends completes, and that the cloud then holds exactly what the spec wants.
// The log of the kills is the test's report (shown with `--nocapture`).
#[allow(clippy::print_stderr)]
fn crash_and_resume(spec: &str, kills: usize, seed: u64) {
    let site = common::site();
    let dir = site.path();
    let graph = graph(dir, spec);
    let mut rng = Rng(seed);
    let mut log = format!("seed {seed:#x}, {spec}:\n");
    let (mut killed, mut completed, mut cycle, mut runs, mut relost) = (0, 0, 1, 0, 0);
    let mut after_kill = false;
    while killed < kills {
        let at = moment(&mut rng);
        let run = apply(dir, spec, at.as_ref());
        runs += 1;
        let lost = run.stderr.contains("will be registered again");
        relost += usize::from(lost);
        let _ = writeln!(
            log,
            "  cycle {cycle} run {runs}: {at:?}: {} after {} lines (last: {}){}",
            if run.killed {
                "killed".to_owned()
            } else {
                format!("exit {:?}", run.code)
            },
            run.events.len(),
            run.last(),
            if lost {
                " (a lost file: node registered again)"
            } else {
                ""
            }
        );
        assert!(
            run.failures().is_empty(),
            "seed {seed:#x}: a step failed: {:?}\n{}\n{log}",
            run.failures(),
            run.stderr
        );
        if after_kill {
            assert!(
                run.stderr.contains("took over the lock"),
                "seed {seed:#x}: the lock of the killed run was not taken over:\n{}\n{log}",
                run.stderr
            );
        }
        if run.killed {
            killed += 1;
            after_kill = true;
            continue;
        }
        after_kill = false;
        assert_eq!(
            run.code,
            Some(0),
            "seed {seed:#x}: apply did not complete:\n{}\n{log}",
            run.stderr
        );
        completed += 1;
        assert_converged(dir, spec, &graph, seed, &log);
        let (code, stdout, stderr) = destroy(dir, spec);
        assert_eq!(
            code, 0,
            "seed {seed:#x}: destroy:\n{stdout}\n{stderr}\n{log}"
        );
        let left = tagged(&dir.join("specs/.pexspec/sim"), graph.stack());
        assert!(
            left.is_empty(),
            "seed {seed:#x}: destroy left {left:?}\n{log}"
        );
        cycle += 1;
    }
    // The last run was killed: one more completes it.
    let run = apply(dir, spec, None);
    let _ = writeln!(log, "  final: exit {:?}", run.code);
    assert_eq!(
        run.code,
        Some(0),
        "seed {seed:#x}: the final apply did not complete:\n{}\n{log}",
        run.stderr
    );
    assert!(run.stderr.contains("took over the lock"), "{}", run.stderr);
    assert!(run.failures().is_empty(), "{:?}\n{log}", run.failures());
    assert_converged(dir, spec, &graph, seed, &log);
    assert!(completed >= 1, "no apply completed between kills:\n{log}");
    eprintln!(
        "{log}  {killed} kills, {completed} applies completed and destroyed, {relost} lost files re-registered"
    );
}

/// [`SEED`], or the seed in `PEXSPEC_CRASH_SEED` (decimal or `0x` hex) to explore others.
fn seed() -> u64 {
    std::env::var("PEXSPEC_CRASH_SEED")
        .ok()
        .and_then(|s| match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        })
        .unwrap_or(SEED)
}

#[test]
fn quickstart_survives_sigkill_anywhere() {
    crash_and_resume("specs/quickstart.yaml", KILLS, seed());
}

#[test]
fn zurich_frankfurt_survives_sigkill_anywhere() {
    crash_and_resume("specs/zurich-frankfurt.yaml", KILLS, seed());
}

#[test]
fn the_lock_of_a_dead_run_is_taken_over_and_another_hosts_is_not() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/quickstart.yaml";
    let state = dir.join("specs/.pexspec");
    // A process of this host that has ended.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let mut holder = pexspec_journal::Holder::current("apply");
    holder.host = "elsewhere".into();
    holder.who = "bob@elsewhere".into();
    holder.pid = gone.id();
    std::mem::forget(pexspec_journal::LocalLock::acquire(&state, &holder).unwrap());
    let run = apply(dir, spec, None);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("bob@elsewhere"), "{}", run.stderr);

    pexspec_journal::LocalLock::force_unlock(&state).unwrap();
    let holder = pexspec_journal::Holder {
        pid: gone.id(),
        ..pexspec_journal::Holder::current("apply")
    };
    std::mem::forget(pexspec_journal::LocalLock::acquire(&state, &holder).unwrap());
    let run = apply(dir, spec, None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let note = format!(
        "note: took over the lock of a run that is gone: it was held by {} (pid {}",
        holder.who,
        gone.id()
    );
    assert!(run.stderr.contains(&note), "{}", run.stderr);
    assert!(run.stderr.contains("its process is gone"), "{}", run.stderr);
    // Released at the end, as any lock; the guard of the takeover is gone too.
    assert!(!state.join("lock").exists());
    assert!(!state.join("lock.takeover").exists());
}

/// Kills an apply right after a `worker_vm` create was answered, before its file was
/// uploaded, and deletes the journal: the file is gone. Returns the node's name, or `None`
/// when the upload started before the kill landed, or no node was left to create.
fn lose_a_file(dir: &Path, spec: &str) -> Option<String> {
    let run = apply(dir, spec, Some(&Moment::AtWorker("step_finished")));
    if !run.killed {
        return None;
    }
    let node = run
        .events
        .iter()
        .find(|e| {
            e["event"] == "step_finished"
                && e["address"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("worker_vm["))
        })
        .and_then(|e| e["address"].as_str())
        .map(|a| a["worker_vm[".len()..a.len() - 1].to_owned())?;
    if run.started(&format!("node_bootstrap[{node}]")) {
        return None;
    }
    let state = dir.join("specs/.pexspec");
    for file in [
        "journal.db",
        "journal.db-wal",
        "journal.db-shm",
        "journal.key",
    ] {
        let _ = std::fs::remove_file(state.join(file));
    }
    Some(node)
}

#[test]
fn a_lost_configuration_file_registers_the_node_again() {
    let spec = "specs/quickstart.yaml";
    // The kill races with the upload that follows the create by a millisecond: when the
    // upload wins, the next node's create is tried, then a new site.
    let mut site = common::site();
    let mut tries = 0;
    let node = loop {
        if let Some(node) = lose_a_file(site.path(), spec) {
            break node;
        }
        tries += 1;
        assert!(tries < 20, "the upload started before every kill landed");
        if tries % 3 == 0 {
            site = common::site();
        }
    };
    let dir = site.path();
    let graph = graph(dir, spec);

    let (code, stdout, stderr) = plan(dir, spec);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let worker = stdout
        .lines()
        .find(|l| l.contains(&format!("worker_vm[{node}]")))
        .unwrap_or_else(|| panic!("no worker_vm[{node}] in the plan:\n{stdout}"));
    assert!(
        worker.contains("-/+")
            && worker.contains("configuration file was lost")
            && worker.contains("registered again"),
        "{worker}\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("+ node_bootstrap[{node}]")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("worker_vm[{node}]")),
        "the note names the node: {stderr}"
    );

    let run = apply(dir, spec, None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    let replaced = run.events.iter().any(|e| {
        e["event"] == "step_finished"
            && e["address"] == format!("worker_vm[{node}]")
            && e["outcome"] == "replaced"
    });
    assert!(replaced, "worker_vm[{node}] was not registered again");
    let synced = run.events.iter().any(|e| {
        e["event"] == "step_finished"
            && e["address"] == format!("node_bootstrap[{node}]")
            && e["outcome"] == "created"
    });
    assert!(synced, "node_bootstrap[{node}] did not complete");
    assert_converged(dir, spec, &graph, SEED, "");
}
