//! `pexspec apply` and `pexspec destroy`: the spec checked and compiled, the world observed,
//! the plan shown and confirmed, then run by the executor with live progress, and a summary.
//!
//! `apply plan.json` applies a saved plan: the spec it names must hash as it did, and the cloud
//! must look as it did (the observed state's fingerprint), or nothing is done.

use std::io::Write;
use std::path::{Path, PathBuf};

use pexspec_exec::{Cancel, Event, ExecOptions, Executor, Outcome, Report};
use pexspec_graph::{Graph, Kind};
use pexspec_journal::{Holder, Journal, RunInfo, RunStatus};
use pexspec_plan::{Action, ObservedState, Plan, PlanSource, Scope};
use pexspec_spec::Spec;
use sha2::{Digest, Sha256};

use crate::cli::{ApplyArgs, OutputFormat};
use crate::plan::{Findings, compiled};
use crate::progress::{Progress, Style};
use crate::world::{self, SimCalls, Target, World};
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Terminal};

/// Which command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `pexspec apply`.
    Apply,
    /// `pexspec destroy`.
    Destroy,
}

impl Mode {
    fn verb(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::Destroy => "destroy",
        }
    }
}

/// A spec read, checked and compiled, with what a saved plan needs to recognise it.
pub(crate) struct Prepared {
    pub spec: Spec,
    pub graph: Graph,
    pub spec_path: PathBuf,
    pub spec_dir: PathBuf,
    pub spec_sha256: String,
}

/// Loads, checks (errors stop here, shown as `findings` says) and compiles `path`.
pub(crate) fn prepare(
    path: &Path,
    findings: Findings<'_>,
    err: &mut dyn Write,
) -> Result<Prepared, u8> {
    let (spec, graph) = compiled(path, pexspec_check::Mode::Plan, findings, err)?;
    let bytes = pexspec_spec::read_regular(path, pexspec_spec::MAX_FILE_BYTES).map_err(|e| {
        let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
        EXIT_USAGE
    })?;
    let spec_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let spec_dir = spec_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(Prepared {
        spec,
        graph,
        spec_path,
        spec_dir,
        spec_sha256: hex(&Sha256::digest(&bytes)),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A multi-threaded tokio runtime, or the error printed.
pub(crate) fn runtime(err: &mut dyn Write) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "error: cannot start the runtime: {e}");
            EXIT_FAILURE
        })
}

/// Builds the world and observes it; notes and errors go to `err`.
pub(crate) async fn connect(
    prepared: &Prepared,
    target: &Target,
    err: &mut dyn Write,
) -> Result<(World, ObservedState), u8> {
    let world = build(prepared, target, err).await?;
    let observed = observe(&world, &prepared.graph, err).await?;
    Ok((world, observed))
}

/// Builds the world; notes and errors go to `err`.
pub(crate) async fn build(
    prepared: &Prepared,
    target: &Target,
    err: &mut dyn Write,
) -> Result<World, u8> {
    let world = world::build(&prepared.graph, &prepared.spec, &prepared.spec_dir, target)
        .await
        .map_err(|s| {
            let _ = writeln!(err, "error: {}", s.message);
            s.code
        })?;
    for note in &world.notes {
        let _ = writeln!(err, "note: {note}");
    }
    Ok(world)
}

/// Observes the world (the world is kept: the caller shuts it down).
pub(crate) async fn observe(
    world: &World,
    graph: &Graph,
    err: &mut dyn Write,
) -> Result<ObservedState, u8> {
    world.observe(&Scope::of(graph)).await.map_err(|e| {
        let _ = writeln!(err, "error: cannot observe the current state: {e}");
        EXIT_FAILURE
    })
}

/// The target of a command's flags.
pub(crate) fn target(
    sim: bool,
    speed: f64,
    faults: Option<&Path>,
    err: &mut dyn Write,
) -> Result<Target, u8> {
    if sim && !(speed.is_finite() && speed > 0.0) {
        let _ = writeln!(
            err,
            "error: `--sim-speed` must be a positive number, not `{speed}`"
        );
        return Err(EXIT_USAGE);
    }
    let sim_faults = match faults {
        None => None,
        Some(path) => {
            // A regular file of at most 1 MiB: a FIFO or a device is refused, not read.
            const MAX_FAULTS_BYTES: usize = 1024 * 1024;
            let parsed = pexspec_spec::read_regular(path, MAX_FAULTS_BYTES)
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    if b.len() > MAX_FAULTS_BYTES {
                        Err(format!("it is larger than {MAX_FAULTS_BYTES} bytes"))
                    } else {
                        Ok(b)
                    }
                })
                .and_then(|b| {
                    serde_json::from_slice::<pexspec_sim::oci::faults::FaultConfig>(&b)
                        .map_err(|e| e.to_string())
                })
                .and_then(|f| f.validate().map(|()| f));
            match parsed {
                Ok(f) => Some(f),
                Err(e) => {
                    let _ = writeln!(err, "error: `--sim-faults {}`: {e}", path.display());
                    return Err(EXIT_USAGE);
                }
            }
        }
    };
    Ok(Target {
        sim_speed: sim.then_some(speed),
        sim_faults,
    })
}

/// The plan to run and the prepared spec, from a spec or a saved plan.
struct Request {
    prepared: Prepared,
    target: Target,
    saved: Option<Plan>,
}

fn request(
    args: &ApplyArgs,
    mode: Mode,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Request, u8> {
    let findings = |out| {
        if args.output == OutputFormat::Json {
            Findings::Events { out }
        } else {
            Findings::Human { color }
        }
    };
    let saved = match crate::saved::read(&args.spec) {
        Ok(None) => None,
        Err(why) => {
            let _ = writeln!(
                err,
                "error: the plan file `{}` is broken: {why}\n  help: nothing was applied; make it again with `pexspec plan SPEC --out {}`",
                args.spec.display(),
                args.spec.display()
            );
            return Err(EXIT_USAGE);
        }
        Ok(Some(_)) if mode == Mode::Destroy => {
            let _ = writeln!(
                err,
                "error: `pexspec destroy` takes a spec, not a saved plan\n  help: pexspec destroy SPEC"
            );
            return Err(EXIT_USAGE);
        }
        Ok(Some(plan)) => Some(plan),
    };
    let Some(plan) = saved else {
        let prepared = prepare(&args.spec, findings(out), err)?;
        let target = target(args.sim, args.sim_speed, args.sim_faults.as_deref(), err)?;
        return Ok(Request {
            prepared,
            target,
            saved: None,
        });
    };
    let Some(source) = plan.source.clone() else {
        let _ = writeln!(
            err,
            "error: `{}` does not say which spec it was made from\n  help: save plans with `pexspec plan SPEC --out FILE`",
            args.spec.display()
        );
        return Err(EXIT_USAGE);
    };
    if source.sim != args.sim {
        let (was, now) = if source.sim {
            ("the simulators (--sim)", "OCI")
        } else {
            ("OCI", "the simulators (--sim)")
        };
        let _ = writeln!(
            err,
            "error: this plan was made against {was}, and would be applied to {now}\n  help: give the same `--sim` as `pexspec plan` had"
        );
        return Err(EXIT_USAGE);
    }
    let prepared = prepare(Path::new(&source.spec), findings(out), err)?;
    if prepared.spec_sha256 != source.spec_sha256 {
        let _ = writeln!(
            err,
            "error: `{}` changed since this plan was made: nothing was applied\n  help: run `pexspec plan {} --out {}` again and review it",
            source.spec,
            source.spec,
            args.spec.display()
        );
        return Err(EXIT_FAILURE);
    }
    let target = target(source.sim, args.sim_speed, args.sim_faults.as_deref(), err)?;
    Ok(Request {
        prepared,
        target,
        saved: Some(plan),
    })
}

/// How a saved plan's changes differ from those its spec and the cloud give now (each
/// resource and its action), if they do.
fn differs(saved: &Plan, fresh: &Plan) -> Option<String> {
    let actions = |plan: &Plan| -> std::collections::BTreeMap<String, Action> {
        plan.changes
            .iter()
            .map(|c| (c.address.to_string(), c.action))
            .collect()
    };
    let (was, now) = (actions(saved), actions(fresh));
    if let Some((address, _)) = now.iter().find(|(a, _)| !was.contains_key(*a)) {
        return Some(format!("it has no change for `{address}`"));
    }
    if let Some((address, _)) = was.iter().find(|(a, _)| !now.contains_key(*a)) {
        return Some(format!("`{address}` is not a resource of the spec"));
    }
    was.iter()
        .find(|(a, action)| now.get(*a) != Some(action))
        .map(|(address, action)| {
            let word = |a: &Action| format!("{a:?}").to_lowercase();
            format!(
                "it would {} `{address}`, the spec gives {}",
                word(action),
                word(&now[address])
            )
        })
}

/// The record of a plan made by `plan --out`.
pub(crate) fn source_of(prepared: &Prepared, sim: bool) -> PlanSource {
    PlanSource {
        spec: prepared.spec_path.display().to_string(),
        spec_sha256: prepared.spec_sha256.clone(),
        sim,
    }
}

/// Asks for `yes` on the terminal. `Ok(true)`: go on.
fn confirm(mode: Mode, args: &ApplyArgs, term: Terminal, err: &mut dyn Write) -> Result<bool, u8> {
    if args.auto_approve {
        return Ok(true);
    }
    if !term.stdin_is_tty {
        let _ = writeln!(
            err,
            "error: refusing to {} without confirmation: standard input is not a terminal\n  help: review the plan above, then pass `--auto-approve`",
            mode.verb()
        );
        return Err(EXIT_USAGE);
    }
    let question = match mode {
        Mode::Apply => "Do you want to perform these actions?",
        Mode::Destroy => "Do you really want to destroy every resource of this stack?",
    };
    Ok(crate::ask_yes(
        err,
        format_args!(
            "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
        ),
    ))
}

/// Ctrl-C: the first cancels (in-flight steps finish), the second aborts.
fn watch_interrupts(cancel: Cancel) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.abort();
        }
    })
}

fn style(args: &ApplyArgs, term: Terminal) -> Style {
    match args.output {
        OutputFormat::Json => Style::Json,
        OutputFormat::Plain => Style::Plain,
        OutputFormat::Auto if term.stderr_is_tty => Style::Live,
        OutputFormat::Auto => Style::Plain,
    }
}

/// The JSON line that tells what the simulators were asked.
#[derive(serde::Serialize)]
struct SimCallsEvent<'a> {
    event: &'static str,
    #[serde(flatten)]
    calls: &'a SimCalls,
    oci_mutations: u64,
}

fn show_sim_calls(calls: &SimCalls, json: bool, out: &mut dyn Write, err: &mut dyn Write) {
    if json {
        let event = SimCallsEvent {
            event: "sim_calls",
            calls,
            oci_mutations: calls.oci_mutations(),
        };
        if let Ok(text) = serde_json::to_string(&event) {
            let _ = writeln!(out, "{text}");
        }
    } else {
        let _ = writeln!(
            err,
            "Simulators: {} OCI calls ({} that change something), {} Pexip calls ({} that change something).",
            calls.oci_total(),
            calls.oci_mutations(),
            calls.pexip_reads + calls.pexip_mutations,
            calls.pexip_mutations
        );
    }
}

pub(crate) fn run(
    args: &ApplyArgs,
    mode: Mode,
    color: bool,
    term: Terminal,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    if args.parallelism == 0 {
        let _ = writeln!(err, "error: `--parallelism` must be at least 1");
        return EXIT_USAGE;
    }
    let request = match request(args, mode, color, out, err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let runtime = match runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(execute(args, mode, request, color, term, out, err))
}

async fn execute(
    args: &ApplyArgs,
    mode: Mode,
    request: Request,
    color: bool,
    term: Terminal,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let Request {
        prepared,
        target,
        saved,
    } = request;
    let world = match build(&prepared, &target, err).await {
        Ok(w) => w,
        Err(code) => return code,
    };
    if args.debug {
        crate::progress::debug_world(&world, err);
    }
    let state_dir = prepared.spec_dir.join(".pexspec");
    let lock =
        match crate::lock::acquire(args.lock.as_deref(), &state_dir, &world, mode.verb()).await {
            Ok(lock) => {
                if let Some(note) = lock.note() {
                    let _ = writeln!(err, "note: {note}");
                }
                lock
            }
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                finish(world, false).await;
                return EXIT_FAILURE;
            }
        };
    let code = locked(
        args, mode, &prepared, saved, world, &state_dir, color, term, out, err,
    )
    .await;
    if let Err(message) = lock.release().await {
        let _ = writeln!(err, "warning: {message}");
    }
    code
}

/// The run, with the lock held.
#[allow(clippy::too_many_arguments)]
async fn locked(
    args: &ApplyArgs,
    mode: Mode,
    prepared: &Prepared,
    saved: Option<Plan>,
    world: World,
    state_dir: &Path,
    color: bool,
    term: Terminal,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let graph = &prepared.graph;
    let journal = match Journal::open(state_dir) {
        Ok(j) => j,
        Err(e) => {
            let _ = writeln!(err, "{}", crate::journal_error("error", &e));
            finish(world, false).await;
            return EXIT_FAILURE;
        }
    };
    let mut observed = match observe(&world, graph, err).await {
        Ok(o) => o,
        Err(code) => {
            finish(world, false).await;
            return code;
        }
    };
    // Creates whose answer a crash lost: found, still pending, or lost.
    if let Err(e) = journal.reconcile(graph.stack(), &mut observed, world.exec.visibility_grace) {
        let _ = writeln!(err, "{}", crate::journal_error("error", &e));
        finish(world, false).await;
        return EXIT_FAILURE;
    }
    if mode == Mode::Apply {
        crate::lost::mark(&journal, graph, &mut observed, err);
    }
    let fresh = match mode {
        Mode::Apply => pexspec_plan::plan(graph, &observed),
        Mode::Destroy => pexspec_plan::destroy(graph, &observed),
    };
    let json = args.output == OutputFormat::Json;
    let (plan, check_fingerprint) = match saved {
        Some(saved) => {
            if saved.observed != fresh.observed {
                let _ = writeln!(
                    err,
                    "error: the cloud changed since this plan was made: nothing was applied\n  help: run `pexspec plan {} --out FILE` again and review it",
                    prepared.spec_path.display()
                );
                finish(world, false).await;
                return EXIT_FAILURE;
            }
            // The spec and the cloud are as they were: the spec gives the same changes now,
            // unless the file's changes are not the ones its spec gave.
            if let Some(why) = differs(&saved, &fresh) {
                let _ = writeln!(
                    err,
                    "error: this plan does not match its spec `{}`: {why}; nothing was applied\n  help: run `pexspec plan {} --out FILE` again and review it",
                    prepared.spec_path.display(),
                    prepared.spec_path.display()
                );
                finish(world, false).await;
                return EXIT_FAILURE;
            }
            (saved, true)
        }
        None => (fresh, true),
    };

    // The plan.
    let shown = if json {
        let mut value = serde_json::to_value(&plan).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("event".into(), "plan".into());
        }
        writeln!(out, "{value}")
    } else {
        pexspec_plan::render_human(&plan, color, out)
    };
    if let Err(e) = shown {
        let _ = writeln!(err, "error: cannot write the plan: {e}");
        finish(world, false).await;
        return EXIT_USAGE;
    }
    if args.debug {
        crate::progress::debug_plan(&plan, graph, err);
    }
    let before = world.sim.as_ref().map(|s| s.calls());
    if plan.is_empty() && !plan.changes.iter().any(|c| c.pending || c.wait.is_some()) {
        if !json && mode == Mode::Destroy {
            let _ = writeln!(err, "Nothing to destroy: no resource of this stack exists.");
        }
        if let Some(sim) = &world.sim {
            show_sim_calls(&sim.calls(), json, out, err);
        }
        finish(world, false).await;
        return EXIT_OK;
    }
    match confirm(mode, args, term, err) {
        Ok(true) => {}
        Ok(false) => {
            let _ = writeln!(err, "{} cancelled: nothing was changed.", mode.verb());
            finish(world, false).await;
            return EXIT_FAILURE;
        }
        Err(code) => {
            finish(world, false).await;
            return code;
        }
    }

    // The run.
    let run = match journal.begin_run(&RunInfo {
        command: mode.verb().to_owned(),
        stack: graph.stack().to_owned(),
        spec_hash: prepared.spec_sha256.clone(),
        who: Holder::current(mode.verb()).who,
    }) {
        Ok(run) => run,
        Err(e) => {
            let _ = writeln!(err, "{}", crate::journal_error("error", &e));
            finish(world, false).await;
            return EXIT_FAILURE;
        }
    };
    let mut options = ExecOptions {
        parallelism: args.parallelism,
        fail_fast: args.fail_fast,
        check_fingerprint,
        ..world.exec.clone()
    };
    // The baseline of the apply benchmark (bench/apply.py): a pool held for each step's
    // whole life, waits included, in topological order. An environment variable, not an
    // option: it measures what pexspec's own walk saves and is no way to run pexspec.
    if std::env::var("PEXSPEC_WALK").is_ok_and(|w| w == "terraform-like") {
        let like = ExecOptions::terraform_like(args.parallelism);
        options.priority = like.priority;
        options.hold_slot_while_waiting = like.hold_slot_while_waiting;
    }
    let cancel = Cancel::new();
    let interrupts = watch_interrupts(cancel.clone());
    let sim = world.sim.as_ref();
    let hook = Box::new(move |event: &Event| {
        if let (
            Some(sim),
            Event::StepFinished {
                address, outcome, ..
            },
        ) = (sim, event)
            && address.kind() == Kind::Instance
            && matches!(
                outcome,
                Outcome::Created | Outcome::Replaced | Outcome::Appeared | Outcome::Updated
            )
        {
            sim.instance_ready(address, matches!(outcome, Outcome::Replaced));
        }
    });
    let style = style(args, term);
    let verb = mode.verb();
    let report = {
        let mut progress = Progress::new(style, verb, out, err)
            .with_hook(hook)
            .with_retries(Box::new(|| world.retries()))
            .with_debug(args.debug);
        Executor::new(&plan, graph, &observed, &world.providers)
            .options(options)
            .journal(&run)
            .sensitive_sink(&run)
            .cancel(cancel)
            .run(&mut progress)
            .await
    };
    interrupts.abort();
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            let _ = run.finish(RunStatus::Failed);
            let _ = writeln!(err, "error: nothing was applied: {e}");
            finish(world, false).await;
            return EXIT_FAILURE;
        }
    };
    let status = if report.is_success() {
        RunStatus::Succeeded
    } else if report.cancelled.is_some() {
        RunStatus::Cancelled
    } else {
        RunStatus::Failed
    };
    if let Err(e) = run.finish(status) {
        let _ = writeln!(err, "{}", crate::journal_error("warning", &e));
    }
    if style != Style::Json {
        crate::progress::summary(&report, verb, &world.retries(), err);
    }
    if let (Some(sim), Some(before)) = (&world.sim, &before) {
        show_sim_calls(&sim.calls().since(before), json, out, err);
    }
    let manager_gone = manager_deleted(&report, world.sim.as_ref());
    finish(world, manager_gone).await;
    if report.is_success() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    }
}

/// Whether the run terminated the Management Node's instance (its simulated configuration
/// goes with it).
fn manager_deleted(report: &Report, sim: Option<&world::SimWorld>) -> bool {
    let Some(instance) = sim.and_then(|s| s.manager_instance.as_ref()) else {
        return false;
    };
    report.steps.iter().any(|s| {
        &s.address == instance && s.action == Action::Delete && s.outcome == Outcome::Deleted
    })
}

async fn finish(world: World, manager_gone: bool) {
    if let Some(sim) = world.sim {
        sim.shutdown(manager_gone).await;
    }
}

/// `pexspec force-unlock SPEC [--lock URL]`.
pub(crate) fn force_unlock(
    args: &crate::cli::ForceUnlockArgs,
    color: bool,
    term: Terminal,
    err: &mut dyn Write,
) -> u8 {
    let prepared = match prepare(&args.spec, Findings::Human { color }, err) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let state_dir = prepared.spec_dir.join(".pexspec");
    let runtime = match runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let world = match &args.lock {
            None => None,
            Some(_) => {
                let target = Target {
                    sim_speed: args.sim.then_some(world::DEFAULT_SIM_SPEED),
                    sim_faults: None,
                };
                match build(&prepared, &target, err).await {
                    Ok(w) => Some(w),
                    Err(code) => return code,
                }
            }
        };
        let code = crate::lock::force_unlock(
            args.lock.as_deref(),
            &state_dir,
            world.as_ref(),
            args.yes,
            term,
            err,
        )
        .await;
        if let Some(world) = world {
            finish(world, false).await;
        }
        code
    })
}
