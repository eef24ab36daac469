//! `pexspec node stop|start|remove SPEC NAME`: one Conferencing Node taken out of service,
//! brought back, or removed for good, the way the guide's "Managing Oracle Cloud
//! Infrastructure VM instances" chapter does it by hand:
//!
//! - stop: maintenance mode on (the node takes no new conferences), wait until its conferences
//!   have ended, stop its instance;
//! - start: start the instance, wait until the node has synced with the Management Node, clear
//!   maintenance mode;
//! - remove: maintenance mode on, wait for its conferences, delete it on the Management Node,
//!   terminate its instance, and tell the operator to take it out of the spec.
//!
//! Every step is skipped when it is already done, so a command that failed or was interrupted
//! can be run again. Progress goes to standard error, one line per step or change, with the
//! time elapsed (simulated time with `--sim`). The stack's lock is held throughout, and the run
//! is recorded in the journal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, Instant};

use pexspec_graph::{Address, Graph, Kind};
use pexspec_journal::{Holder, Journal, RunInfo, RunStatus, format_age};
use pexspec_oci::OciClient;
use pexspec_oci::models::{InstanceAction, LifecycleState};
use pexspec_pexip::status::SYNCED;
use pexspec_pexip::{Client, PexipError, WorkerVm, node_status, participants_on, set_maintenance};
use pexspec_plan::{GetRequest, Provider};

use crate::apply::{Prepared, prepare, runtime, target};
use crate::cli::{NodeArgs, NodeCommand};
use crate::world::World;
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Terminal};

/// How often the conferences on a node are looked at while waiting for them to end.
const CONFERENCE_POLL: Duration = Duration::from_secs(15);
/// How often an instance's lifecycle state, or a node's sync, is looked at.
const STATE_POLL: Duration = Duration::from_secs(5);
/// The shortest real pause between two polls (`--sim` at a high speed).
const MIN_REAL_PAUSE: Duration = Duration::from_millis(20);

/// Parses a duration as `--timeout` takes it: one or more numbers each with a unit, `s`,
/// `m`, `h` or `d` (`90s`, `30m`, `2h`, `1h30m`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let help = "give a number and a unit: `90s`, `30m`, `2h`, `1h30m`";
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("an empty duration; {help}"));
    }
    let mut total = 0f64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86_400.0,
            _ => return Err(format!("`{text}`: `{c}` is not a unit; {help}")),
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}`: a unit needs a number before it; {help}"))?;
        total += value * unit;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!("`{text}` has no unit; {help}"));
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("`{text}` is too long"))
}

/// Which command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Stop,
    Start,
    Remove,
}

impl Verb {
    fn command(self) -> &'static str {
        match self {
            Verb::Stop => "node stop",
            Verb::Start => "node start",
            Verb::Remove => "node remove",
        }
    }
}

/// `pexspec node stop|start|remove`.
pub(crate) fn run(command: &NodeCommand, color: bool, term: Terminal, err: &mut dyn Write) -> u8 {
    let (verb, args, force, yes) = match command {
        NodeCommand::Stop(a) => (Verb::Stop, &a.node, a.force, false),
        NodeCommand::Start(a) => (Verb::Start, a, false, false),
        NodeCommand::Remove(a) => (Verb::Remove, &a.node, a.force, a.yes),
    };
    let prepared = match prepare(&args.spec, crate::plan::Findings::Human { color }, err) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let node = match find_node(&prepared.graph, &args.name, &args.spec) {
        Ok(node) => node,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return EXIT_USAGE;
        }
    };
    let target = match target(args.sim, args.sim_speed, None, err) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let runtime = match runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let speed = target.sim_speed.unwrap_or(1.0);
    runtime.block_on(async {
        let world = match crate::apply::build(&prepared, &target, err).await {
            Ok(w) => w,
            Err(code) => return code,
        };
        let state_dir = prepared.spec_dir.join(".pexspec");
        let lock =
            match crate::lock::acquire(args.lock.as_deref(), &state_dir, &world, verb.command())
                .await
            {
                Ok(lock) => lock,
                Err(message) => {
                    let _ = writeln!(err, "error: {message}");
                    shutdown(world).await;
                    return EXIT_FAILURE;
                }
            };
        let code = {
            let mut cx = Cx {
                verb,
                node,
                args,
                force,
                yes,
                term,
                speed,
                started: Instant::now(),
                world: &world,
                prepared: &prepared,
                err: &mut *err,
            };
            cx.journalled(&state_dir).await
        };
        if let Err(message) = lock.release().await {
            let _ = writeln!(err, "warning: {message}");
        }
        shutdown(world).await;
        code
    })
}

async fn shutdown(world: World) {
    if let Some(sim) = world.sim {
        sim.shutdown(false).await;
    }
}

/// The node's resources in the graph.
struct Node {
    name: String,
    instance: Address,
    region: Option<String>,
    /// Other resources of the node that stay when it is removed (its reserved public IP).
    others: Vec<Address>,
}

/// The Conferencing Node `name` of the graph, or a message with a did-you-mean.
fn find_node(graph: &Graph, name: &str, spec: &std::path::Path) -> Result<Node, String> {
    let worker = Address::new(Kind::WorkerVm, name);
    if graph.contains(&worker) {
        let instance = Address::new(Kind::Instance, name);
        let Some(region) = graph.get(&instance).map(|n| n.region.clone()) else {
            return Err(format!(
                "Conferencing Node `{name}` does not run in OCI: pexspec has no instance of it to stop, start or terminate"
            ));
        };
        let others = graph
            .nodes()
            .filter(|n| n.address.key() == Some(name))
            .filter(|n| {
                !matches!(
                    n.kind(),
                    Kind::Instance | Kind::WorkerVm | Kind::NodeBootstrap
                )
            })
            .map(|n| n.address.clone())
            .collect();
        return Ok(Node {
            name: name.to_owned(),
            instance,
            region,
            others,
        });
    }
    let names: Vec<&str> = graph
        .nodes()
        .filter(|n| n.kind() == Kind::WorkerVm)
        .filter_map(|n| n.address.key())
        .collect();
    let manager = graph
        .nodes()
        .find(|n| n.kind() == Kind::ManagementBootstrap)
        .and_then(|n| n.address.key());
    let mut message = if manager == Some(name) {
        format!(
            "`{name}` is the Management Node of `{}`, not a Conferencing Node",
            spec.display()
        )
    } else {
        format!(
            "`{spec}` has no Conferencing Node named `{name}`",
            spec = spec.display()
        )
    };
    if let Some(close) = pexspec_diagnostics::closest(name, names.iter().copied(), 0.8) {
        let _ = write!(message, "\n  help: did you mean `{close}`?");
    } else if names.is_empty() {
        message.push_str("\n  help: the spec has no `conferencing_nodes`");
    } else {
        let _ = write!(
            message,
            "\n  help: its Conferencing Nodes are {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Err(message)
}

/// The node's instance as OCI shows it.
struct Instance {
    id: String,
    region: String,
    state: LifecycleState,
}

/// Conferences on a node: name → participants on the node.
type Conferences = BTreeMap<String, usize>;

fn describe(conferences: &Conferences) -> String {
    conferences
        .iter()
        .map(|(name, n)| {
            let s = if *n == 1 { "" } else { "s" };
            format!("`{name}` ({n} participant{s})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A wait that ran out of time, or a call that failed: the message (already said).
struct Failed;

/// One command's run.
struct Cx<'a> {
    verb: Verb,
    node: Node,
    args: &'a NodeArgs,
    force: bool,
    yes: bool,
    term: Terminal,
    /// Simulated seconds per real second (1 against OCI).
    speed: f64,
    started: Instant,
    world: &'a World,
    prepared: &'a Prepared,
    err: &'a mut dyn Write,
}

impl Cx<'_> {
    /// The time since the command began (simulated under `--sim`).
    fn elapsed(&self) -> Duration {
        self.started.elapsed().mul_f64(self.speed)
    }

    /// A progress line, stamped with the (real) time since the command began.
    fn say(&mut self, text: impl std::fmt::Display) {
        let line = format!("[{:>7}] {text}", stamp(self.started.elapsed()));
        let _ = writeln!(self.err, "{line}");
        let _ = self.err.flush();
    }

    fn fail(&mut self, text: impl std::fmt::Display) -> Failed {
        let _ = writeln!(self.err, "error: {text}");
        Failed
    }

    /// Waits `d` (simulated under `--sim`).
    async fn pause(&self, d: Duration) {
        tokio::time::sleep(d.div_f64(self.speed).max(MIN_REAL_PAUSE)).await;
    }

    fn pexip(&self) -> &Client {
        self.world.pexip.client()
    }

    fn oci(&self, region: &str) -> OciClient {
        self.world.oci_client.in_region(region)
    }

    fn spec(&self) -> String {
        self.args.spec.display().to_string()
    }

    /// The run, recorded in the journal.
    async fn journalled(&mut self, state_dir: &std::path::Path) -> u8 {
        let journal = match Journal::open(state_dir) {
            Ok(j) => j,
            Err(e) => {
                let _ = writeln!(self.err, "{}", crate::journal_error("error", &e));
                return EXIT_FAILURE;
            }
        };
        let run = match journal.begin_run(&RunInfo {
            command: format!("{} {}", self.verb.command(), self.node.name),
            stack: self.prepared.graph.stack().to_owned(),
            spec_hash: self.prepared.spec_sha256.clone(),
            who: Holder::current(self.verb.command()).who,
        }) {
            Ok(run) => run,
            Err(e) => {
                let _ = writeln!(self.err, "{}", crate::journal_error("error", &e));
                return EXIT_FAILURE;
            }
        };
        if self.speed != 1.0 {
            let speed = self.speed;
            let _ = writeln!(
                self.err,
                "note: --sim: `--timeout` and the waits are in simulated time ({speed} simulated seconds per real second)"
            );
        }
        let (code, status) = tokio::select! {
            code = self.perform() => {
                let status = if code == EXIT_OK { RunStatus::Succeeded } else { RunStatus::Failed };
                (code, status)
            }
            Ok(()) = tokio::signal::ctrl_c() => {
                let _ = writeln!(
                    self.err,
                    "\ninterrupted: `{}` may be left in maintenance mode; run the command again to finish it",
                    self.node.name
                );
                (EXIT_FAILURE, RunStatus::Cancelled)
            }
        };
        if let Err(e) = run.finish(status) {
            let _ = writeln!(self.err, "warning: the journal: {e}");
        }
        code
    }

    async fn perform(&mut self) -> u8 {
        let result = match self.verb {
            Verb::Stop => self.stop().await,
            Verb::Start => self.start().await,
            Verb::Remove => self.remove().await,
        };
        match result {
            Ok(code) => code,
            Err(Failed) => EXIT_FAILURE,
        }
    }

    // ------------------------------------------------------------------------- lookups

    /// The node's instance, if OCI has it (terminated ones count as absent).
    async fn instance(&mut self) -> Result<Option<Instance>, Failed> {
        let stack = self.prepared.graph.stack();
        let request = GetRequest {
            stack,
            address: &self.node.instance,
            region: self.node.region.as_deref(),
            id: None,
        };
        match Provider::get(self.world.oci.as_ref(), &request).await {
            Ok(Some(o)) => {
                let region = o
                    .region
                    .clone()
                    .or_else(|| self.node.region.clone())
                    .unwrap_or_default();
                let state = LifecycleState::from(o.state.as_deref().unwrap_or_default());
                if state == LifecycleState::Terminated {
                    return Ok(None);
                }
                Ok(Some(Instance {
                    id: o.id,
                    region,
                    state,
                }))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                let address = self.node.instance.clone();
                Err(self.fail(format_args!("cannot read {address}: {e}")))
            }
        }
    }

    /// The instance read again by its id (one call); `None` once it is terminated or gone.
    async fn refresh(&mut self, instance: &Instance) -> Result<Option<Instance>, Failed> {
        match self.oci(&instance.region).get_instance(&instance.id).await {
            Ok(i) if i.lifecycle_state == LifecycleState::Terminated => Ok(None),
            Ok(i) => Ok(Some(Instance {
                id: i.id,
                region: instance.region.clone(),
                state: i.lifecycle_state,
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => {
                let address = self.node.instance.clone();
                Err(self.fail(format_args!("cannot read {address}: {e}")))
            }
        }
    }

    /// The node's registration on the Management Node, if it has one.
    async fn worker(&mut self) -> Result<Option<WorkerVm>, Failed> {
        let name = self.node.name.clone();
        match self.pexip().list::<WorkerVm>(&[("name", &name)]).await {
            Ok(list) => Ok(list.into_iter().find(|w| w.name == name)),
            Err(e) => Err(self.fail(format_args!(
                "cannot ask the Management Node about `{name}`: {e}"
            ))),
        }
    }

    /// The conferences with participants on the node (as media or proxy node).
    async fn conferences(&mut self, worker: &WorkerVm) -> Result<Conferences, Failed> {
        let mut seen = BTreeMap::new();
        match participants_on(self.pexip(), &worker.address).await {
            Ok(list) => {
                for p in list {
                    seen.insert(p.id.clone(), p.conference);
                }
            }
            Err(e) => {
                let name = self.node.name.clone();
                return Err(self.fail(format_args!(
                    "cannot list the participants on `{name}`: {e}"
                )));
            }
        }
        let mut out = Conferences::new();
        for conference in seen.into_values() {
            *out.entry(conference).or_default() += 1;
        }
        Ok(out)
    }

    // ------------------------------------------------------------------------- steps

    /// Maintenance mode on, unless it is.
    async fn maintenance_on(&mut self, worker: &WorkerVm) -> Result<(), Failed> {
        let name = self.node.name.clone();
        if worker.maintenance_mode {
            self.say(format_args!("`{name}` is in maintenance mode already"));
            return Ok(());
        }
        let reason = format!("pexspec {}", self.verb.command());
        if let Err(e) = set_maintenance(self.pexip(), &worker.resource_uri, true, &reason).await {
            return Err(self.fail(format_args!(
                "cannot put `{name}` into maintenance mode: {e}"
            )));
        }
        self.say(format_args!(
            "maintenance mode on: `{name}` takes no new conferences"
        ));
        Ok(())
    }

    /// Waits until no conference is left on the node; with `--force`, names them and goes on.
    async fn drain(&mut self, worker: &WorkerVm) -> Result<(), Failed> {
        let name = self.node.name.clone();
        let timeout = self.args.timeout;
        let from = self.elapsed();
        let mut shown: Option<Conferences> = None;
        loop {
            let now = self.conferences(worker).await?;
            if now.is_empty() {
                match shown {
                    None => self.say(format_args!("no conferences on `{name}`")),
                    Some(_) => {
                        let waited = format_age(self.elapsed().saturating_sub(from));
                        self.say(format_args!(
                            "the conferences on `{name}` have ended (waited {waited})"
                        ));
                    }
                }
                return Ok(());
            }
            if self.force {
                let what = self.verb_doing();
                self.say(format_args!(
                    "--force: not waiting for {} on `{name}`: {}; {what} disconnects their participants",
                    plural(now.len(), "conference"),
                    describe(&now)
                ));
                return Ok(());
            }
            if shown.as_ref() != Some(&now) {
                self.say(format_args!(
                    "waiting for {} on `{name}` to end: {} (Status > Live View shows them)",
                    plural(now.len(), "conference"),
                    describe(&now)
                ));
                shown = Some(now.clone());
            }
            let waited = self.elapsed().saturating_sub(from);
            if waited >= timeout {
                let what = match self.verb {
                    Verb::Remove => "remove it",
                    _ => "stop it",
                };
                return Err(self.fail(format_args!(
                    "timed out after {}: {} still running on `{name}`: {}\n  `{name}` stays in maintenance mode (no new conferences) and its instance keeps running\n  help: wait longer (`--timeout`), or pass `--force` to {what} anyway and disconnect them",
                    format_age(timeout),
                    plural(now.len(), "conference"),
                    describe(&now)
                )));
            }
            self.pause(CONFERENCE_POLL.min(timeout - waited)).await;
        }
    }

    fn verb_doing(&self) -> &'static str {
        match self.verb {
            Verb::Remove => "removing the node",
            _ => "stopping the instance",
        }
    }

    /// Polls the instance until its state is `want` (`None`: gone or terminated).
    async fn wait_instance(
        &mut self,
        instance: &Instance,
        want: Option<LifecycleState>,
    ) -> Result<Option<Instance>, Failed> {
        let timeout = self.args.timeout;
        let from = self.elapsed();
        let mut last: Option<String> = None;
        loop {
            let now = self.refresh(instance).await?;
            let state = now.as_ref().map(|i| i.state.clone());
            if state == want {
                return Ok(now);
            }
            let shown = state
                .as_ref()
                .map_or_else(|| "TERMINATED".to_owned(), |s| s.as_str().to_owned());
            if last.as_deref() != Some(shown.as_str()) {
                last = Some(shown.clone());
                let name = self.node.name.clone();
                self.say(format_args!("instance `{name}`: {shown}"));
            }
            let waited = self.elapsed().saturating_sub(from);
            if waited >= timeout {
                let want = want.map_or_else(|| "TERMINATED".to_owned(), |w| w.as_str().to_owned());
                let name = self.node.name.clone();
                return Err(self.fail(format_args!(
                    "timed out after {}: instance `{name}` is {shown}, not {want}\n  help: look at it in the OCI console (Compute > Instances), then run the command again",
                    format_age(timeout),
                )));
            }
            self.pause(STATE_POLL.min(timeout - waited)).await;
        }
    }

    /// Sends a power action to the instance.
    async fn power(&mut self, instance: &Instance, action: InstanceAction) -> Result<(), Failed> {
        let oci = self.oci(&instance.region);
        if let Err(e) = oci.instance_action(&instance.id, &action, None, None).await {
            let name = self.node.name.clone();
            return Err(self.fail(format_args!(
                "cannot {} instance `{name}`: {e}",
                action.as_str()
            )));
        }
        let name = self.node.name.clone();
        self.say(format_args!(
            "{} sent to instance `{name}`",
            action.as_str()
        ));
        Ok(())
    }

    /// Under `--sim`: tells the Management Node simulator that the node's VM stopped or
    /// started (the OCI simulator does not).
    fn sim_power(&mut self, on: bool) {
        if let Some(sim) = &self.world.sim
            && let Err(e) = sim.pexip.set_node_power(&self.node.name, on)
        {
            let _ = writeln!(self.err, "warning: the Pexip simulator: {e}");
        }
    }

    /// The instance, or a failure that says to apply first.
    async fn existing_instance(&mut self) -> Result<Instance, Failed> {
        match self.instance().await? {
            Some(i) => Ok(i),
            None => {
                let (name, spec) = (self.node.name.clone(), self.spec());
                Err(self.fail(format_args!(
                    "Conferencing Node `{name}` has no instance in OCI\n  help: `pexspec apply {spec}` creates it"
                )))
            }
        }
    }

    /// The registration, or a failure that says to apply first.
    async fn existing_worker(&mut self) -> Result<WorkerVm, Failed> {
        match self.worker().await? {
            Some(w) => Ok(w),
            None => {
                let (name, spec) = (self.node.name.clone(), self.spec());
                Err(self.fail(format_args!(
                    "Conferencing Node `{name}` is not on the Management Node\n  help: `pexspec apply {spec}` registers it"
                )))
            }
        }
    }

    // ------------------------------------------------------------------------- commands

    /// Maintenance mode, conferences ended, instance stopped.
    async fn stop(&mut self) -> Result<u8, Failed> {
        let name = self.node.name.clone();
        let worker = self.existing_worker().await?;
        let mut instance = self.existing_instance().await?;
        if worker.maintenance_mode && instance.state == LifecycleState::Stopped {
            self.sim_power(false);
            self.say(format_args!(
                "`{name}` is stopped already (instance STOPPED, maintenance mode on)"
            ));
            return Ok(EXIT_OK);
        }
        self.maintenance_on(&worker).await?;
        self.drain(&worker).await?;
        if matches!(
            instance.state,
            LifecycleState::Starting | LifecycleState::Provisioning
        ) {
            instance = self
                .wait_instance(&instance, Some(LifecycleState::Running))
                .await?
                .ok_or(Failed)?;
        }
        match instance.state {
            LifecycleState::Running => {
                let action = if self.force {
                    InstanceAction::Stop
                } else {
                    InstanceAction::SoftStop
                };
                self.power(&instance, action).await?;
                self.wait_instance(&instance, Some(LifecycleState::Stopped))
                    .await?;
            }
            LifecycleState::Stopping => {
                self.wait_instance(&instance, Some(LifecycleState::Stopped))
                    .await?;
            }
            LifecycleState::Stopped => {}
            other => {
                return Err(self.fail(format_args!(
                    "instance `{name}` is {}: it cannot be stopped",
                    other.as_str()
                )));
            }
        }
        self.sim_power(false);
        let spec = self.spec();
        self.say(format_args!(
            "`{name}` is stopped: instance STOPPED, maintenance mode on"
        ));
        let _ = writeln!(
            self.err,
            "\nConferencing Node `{name}` is out of service. `pexspec node start {spec} {name}` brings it back.\n  Until then `pexspec plan` shows its maintenance mode as a change, which `pexspec apply` would undo."
        );
        Ok(EXIT_OK)
    }

    /// Instance started, node synced, maintenance mode off.
    async fn start(&mut self) -> Result<u8, Failed> {
        let name = self.node.name.clone();
        let worker = self.existing_worker().await?;
        let mut instance = self.existing_instance().await?;
        if instance.state == LifecycleState::Stopping {
            instance = self
                .wait_instance(&instance, Some(LifecycleState::Stopped))
                .await?
                .ok_or(Failed)?;
        }
        match instance.state {
            LifecycleState::Stopped => {
                self.power(&instance, InstanceAction::Start).await?;
                self.wait_instance(&instance, Some(LifecycleState::Running))
                    .await?;
            }
            LifecycleState::Starting | LifecycleState::Provisioning => {
                self.wait_instance(&instance, Some(LifecycleState::Running))
                    .await?;
            }
            LifecycleState::Running => {
                self.say(format_args!("instance `{name}` is RUNNING already"));
            }
            other => {
                return Err(self.fail(format_args!(
                    "instance `{name}` is {}: it cannot be started",
                    other.as_str()
                )));
            }
        }
        self.sim_power(true);
        self.wait_synced().await?;
        if worker.maintenance_mode {
            let cleared = set_maintenance(self.pexip(), &worker.resource_uri, false, "").await;
            if let Err(e) = cleared {
                return Err(self.fail(format_args!(
                    "cannot take `{name}` out of maintenance mode: {e}"
                )));
            }
            self.say(format_args!(
                "maintenance mode off: `{name}` takes conferences again"
            ));
        } else {
            self.say(format_args!("`{name}` is not in maintenance mode"));
        }
        let _ = writeln!(self.err, "\nConferencing Node `{name}` is in service.");
        Ok(EXIT_OK)
    }

    /// Polls the node's status until it reports `SYNCED`.
    async fn wait_synced(&mut self) -> Result<(), Failed> {
        let name = self.node.name.clone();
        let timeout = self.args.timeout;
        let from = self.elapsed();
        let mut last: Option<String> = None;
        loop {
            let status = match node_status(self.pexip(), &name).await {
                Ok(s) => s.map(|s| s.sync_status),
                Err(e) if e.is_retryable() => None,
                Err(e) => {
                    return Err(self.fail(format_args!("cannot read the status of `{name}`: {e}")));
                }
            };
            if status.as_deref() == Some(SYNCED) {
                let waited = format_age(self.elapsed().saturating_sub(from));
                self.say(format_args!(
                    "`{name}` has synced with the Management Node (waited {waited})"
                ));
                return Ok(());
            }
            let shown = status.unwrap_or_else(|| "not listed".into());
            if last.as_deref() != Some(shown.as_str()) {
                self.say(format_args!(
                    "waiting for `{name}` to sync with the Management Node (sync status {shown}; about 5 minutes after a start)"
                ));
                last = Some(shown.clone());
            }
            let waited = self.elapsed().saturating_sub(from);
            if waited >= timeout {
                let spec = self.spec();
                return Err(self.fail(format_args!(
                    "timed out after {}: `{name}` reports sync status {shown}, not SYNCED\n  `{name}` stays in maintenance mode (no conferences)\n  help: check that its instance booted (OCI console, Compute > Instances > Console connection) and that the security lists let it reach the Management Node; then run `pexspec node start {spec} {name}` again",
                    format_age(timeout)
                )));
            }
            self.pause(STATE_POLL.min(timeout - waited)).await;
        }
    }

    /// Asks for `yes` on the terminal. `Ok(true)`: go on.
    fn confirm(&mut self, what: &str) -> Result<bool, u8> {
        let _ = writeln!(self.err, "\n{what}");
        if self.yes {
            return Ok(true);
        }
        if !self.term.stdin_is_tty {
            let _ = writeln!(
                self.err,
                "error: refusing to remove `{}` without confirmation: standard input is not a terminal\n  help: pass `--yes`",
                self.node.name
            );
            return Err(EXIT_USAGE);
        }
        Ok(crate::ask_yes(
            self.err,
            format_args!(
                "\nDo you really want to remove Conferencing Node `{}`?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
                self.node.name
            ),
        ))
    }

    /// Maintenance mode, conferences ended, deleted on the Management Node, instance
    /// terminated.
    async fn remove(&mut self) -> Result<u8, Failed> {
        let name = self.node.name.clone();
        let spec = self.spec();
        let worker = self.worker().await?;
        let instance = self.instance().await?;
        if worker.is_none() && instance.is_none() {
            self.say(format_args!(
                "`{name}` has no instance and is not on the Management Node: nothing to remove"
            ));
            let _ = writeln!(
                self.err,
                "\nremove `{name}` from the spec, or the next apply will create it again"
            );
            return Ok(EXIT_OK);
        }
        let mut what = format!("This removes Conferencing Node `{name}`:");
        if worker.is_some() {
            let wait = if self.force {
                "without waiting for its conferences (their participants are disconnected)"
            } else {
                "once its conferences have ended"
            };
            let _ = write!(
                what,
                "\n  - it is put in maintenance mode and deleted from the Management Node {wait}"
            );
        }
        if let Some(i) = &instance {
            let _ = write!(
                what,
                "\n  - its instance ({}, {}) is terminated with its boot volume",
                i.state.as_str(),
                i.region
            );
        }
        match self.confirm(&what) {
            Ok(true) => {}
            Ok(false) => {
                let _ = writeln!(self.err, "node remove cancelled: nothing was changed.");
                return Ok(EXIT_FAILURE);
            }
            Err(code) => return Ok(code),
        }
        if let Some(worker) = &worker {
            self.maintenance_on(worker).await?;
            self.drain(worker).await?;
            match self.pexip().delete(&worker.resource_uri).await {
                Ok(()) | Err(PexipError::NotFound { .. }) => {}
                Err(e) => {
                    return Err(self.fail(format_args!(
                        "cannot delete `{name}` from the Management Node: {e}"
                    )));
                }
            }
            self.say(format_args!("`{name}` deleted from the Management Node"));
        } else {
            self.say(format_args!("`{name}` is not on the Management Node"));
        }
        if let Some(instance) = &instance {
            let oci = self.oci(&instance.region);
            match oci.terminate_instance(&instance.id, false, None).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(self.fail(format_args!("cannot terminate instance `{name}`: {e}")));
                }
            }
            self.say(format_args!("terminating instance `{name}`"));
            self.wait_instance(instance, None).await?;
            self.say(format_args!("instance `{name}` terminated"));
        } else {
            self.say(format_args!("`{name}` has no instance"));
        }
        let _ = writeln!(self.err, "\nConferencing Node `{name}` is removed.");
        if !self.node.others.is_empty() {
            let others = self
                .node
                .others
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let stay = if self.node.others.len() == 1 {
                "stays"
            } else {
                "stay"
            };
            let _ = writeln!(
                self.err,
                "  {others} {stay} until `{name}` leaves the spec; `pexspec apply {spec}` then deletes what is left."
            );
        }
        let _ = writeln!(
            self.err,
            "remove `{name}` from the spec, or the next apply will create it again"
        );
        Ok(EXIT_OK)
    }
}

/// An elapsed time as progress lines show it: `12.3s`, `4m05s`, `2h03m`.
fn stamp(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{}h{:02}m", (s / 3600.0) as u64, (s % 3600.0 / 60.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("30x").unwrap_err().contains("not a unit"));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn stamps_grow_with_the_time() {
        assert_eq!(stamp(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(stamp(Duration::from_secs(245)), "4m05s");
        assert_eq!(stamp(Duration::from_secs(7380)), "2h03m");
    }

    #[test]
    fn conferences_are_named_with_their_participants() {
        let mut c = Conferences::new();
        c.insert("Board room".into(), 3);
        c.insert("Standup".into(), 1);
        assert_eq!(
            describe(&c),
            "`Board room` (3 participants), `Standup` (1 participant)"
        );
    }
}
