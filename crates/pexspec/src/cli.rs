//! The command line: subcommands and options (clap derive), and the dispatch to each command.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::{EXIT_OK, EXIT_USAGE, Terminal, apply, lint, plan, sim};

/// Deploy Pexip Infinity on Oracle Cloud Infrastructure from one declarative YAML file.
///
/// pexspec checks a topology offline (`lint`), shows what would change (`plan`) and makes it
/// so. Every subcommand has its own `--help`.
#[derive(Debug, Parser)]
#[command(
    name = "pexspec",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 findings or a failed step, 2 usage or unreadable input.\nDocumentation: https://pexspec.dev/book/"
)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Print debug diagnostics to standard error: the resolved configuration, the plan's
    /// changes with their desired states, every event of a run. Secrets show as references.
    #[arg(long, global = true)]
    pub debug: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// When to use colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output written to standard output.
    pub fn enabled(self, term: Terminal) -> bool {
        match self {
            ColorChoice::Auto => term.stdout_is_tty && !term.no_color,
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs offline: every check of the book, in milliseconds, no cloud access.
    ///
    /// With no file, lints every `*.yaml` under `specs/`. A directory given is searched for
    /// `*.yaml` and `*.yml` files.
    #[command(
        after_help = "Exit codes: 0 clean (warnings allowed), 1 errors (or warnings with --deny-warnings), 2 a file cannot be read."
    )]
    Lint(LintArgs),
    /// Show what would change: the spec compiled into resources, diffed against the cloud.
    ///
    /// A spec with errors never plans: its findings are printed and the exit code is 1.
    #[command(
        after_help = "Exit codes: 0 success, 1 errors, 2 usage or unreadable input.\nWith --detailed-exitcode: 0 no changes, 2 changes, 1 errors (Terraform's convention)."
    )]
    Plan(PlanArgs),
    /// Make it so: show the plan, ask for `yes`, and apply it, resources in parallel in
    /// dependency order. Safe to run again after any failure or interruption.
    ///
    /// `SPEC` may also be a plan saved by `pexspec plan --out plan.json`: it is applied as
    /// saved, and refused if the spec or the cloud changed since it was made.
    #[command(
        after_help = "Exit codes: 0 applied (or nothing to do), 1 errors in the spec or a step failed, 2 usage or unreadable input.\nCtrl-C stops starting steps and lets those in flight finish; a second Ctrl-C abandons them."
    )]
    Apply(ApplyArgs),
    /// Tear the platform down: every resource of the stack, the graph walked backwards.
    ///
    /// Conferencing Nodes are put in maintenance, drained and unregistered from the
    /// Management Node before their instances are terminated; the two sides of a remote
    /// peering go together.
    #[command(
        after_help = "Exit codes: 0 destroyed (or nothing to do), 1 a step failed, 2 usage or unreadable input."
    )]
    #[command(mut_arg("spec", |a| a.help("The spec whose stack to destroy")))]
    Destroy(ApplyArgs),
    /// Stop, start or remove one Conferencing Node, as the guide's maintenance chapter does
    /// by hand: maintenance mode first, and no conference cut short unless `--force`.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Remove the lock of a run that died (after showing who holds it and asking).
    ForceUnlock(ForceUnlockArgs),
    /// Print the resource dependency graph of a spec (Graphviz DOT or Mermaid), or its topology page (HTML).
    Graph(GraphArgs),
    /// Print the JSON Schema of the spec format (for editors and validators).
    Schema,
    /// The built-in simulators of OCI and of the Pexip Management Node.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Print a completion script for a shell.
    ///
    /// For example: `pexspec completions bash > /etc/bash_completion.d/pexspec`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// `pexspec sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the simulators on 127.0.0.1 until interrupted (SIGINT or SIGTERM).
    ///
    /// The first line on standard output is one JSON object: the OCI endpoint of each region,
    /// an OCI CLI configuration file with a test key the simulator trusts, the profile, and
    /// the management API of each Management Node. Point the OCI CLI at it with
    /// `oci --config-file FILE --endpoint URL ...`.
    Serve(SimServeArgs),
}

/// Options of `pexspec sim serve`.
#[derive(Debug, Args)]
pub struct SimServeArgs {
    /// The state directory (SQLite databases, test key, certificates). A second process on
    /// the same directory sees the same cloud. The state directory of `--sim` is
    /// `.pexspec/sim/` beside the spec.
    #[arg(long, value_name = "DIR", default_value = ".pexspec/sim")]
    pub state: PathBuf,
    /// An OCI region to serve, one port each (repeatable; default eu-frankfurt-1).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// A simulated Management Node to serve, by name (repeatable; default pexmgr).
    #[arg(long = "management-node", value_name = "NAME")]
    pub management_nodes: Vec<String>,
    /// Simulated seconds per real second, the same default as `--sim`: 600 makes a
    /// 25-minute image import take two and a half seconds; 60 makes it 25.
    #[arg(long, visible_alias = "sim-speed", default_value_t = crate::world::DEFAULT_SIM_SPEED, value_parser = parse_sim_speed)]
    pub speed: f64,
    /// The environment variable that holds the Management Node's admin password. When it is
    /// unset, a random password is written to `DIR/pexip-admin-password` (mode 0600).
    #[arg(long, value_name = "VAR", default_value = "PEXIP_ADMIN_PASSWORD")]
    pub admin_password_env: String,
}

/// Options of `pexspec lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Spec files or directories to lint (default: every `*.yaml` under `specs/`).
    pub files: Vec<PathBuf>,
    /// How to report findings.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Set from the global `--debug`.
    #[arg(skip)]
    pub debug: bool,
}

/// Options of `pexspec plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The spec to plan.
    pub spec: PathBuf,
    /// How to show the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Also write the plan as JSON to this file (for `pexspec apply plan.json`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when nothing would change, 2 when something would, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan against the built-in simulators instead of OCI (no cloud account needed).
    #[arg(long)]
    pub sim: bool,
    /// Simulated seconds per real second with `--sim`.
    #[arg(long, value_name = "X", default_value_t = crate::world::DEFAULT_SIM_SPEED, requires = "sim", value_parser = parse_sim_speed)]
    pub sim_speed: f64,
    /// With `--sim`: a JSON file of faults for the OCI simulator to inject (latency per
    /// operation, a share of 429 and 5xx answers, list lag, "out of host capacity"), as the
    /// book's simulator page describes.
    #[arg(long, value_name = "FILE", requires = "sim")]
    pub sim_faults: Option<PathBuf>,
    /// Set from the global `--debug`.
    #[arg(skip)]
    pub debug: bool,
}

/// Options of `pexspec apply` and `pexspec destroy`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The spec (or, for `apply`, a plan saved with `pexspec plan --out`).
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Run against the built-in simulators instead of OCI (no cloud account needed).
    #[arg(long)]
    pub sim: bool,
    /// Simulated seconds per real second with `--sim` (600: a 22-minute image import takes
    /// about two seconds).
    #[arg(long, value_name = "X", default_value_t = crate::world::DEFAULT_SIM_SPEED, requires = "sim", value_parser = parse_sim_speed)]
    pub sim_speed: f64,
    /// With `--sim`: a JSON file of faults for the OCI simulator to inject (latency per
    /// operation, a share of 429 and 5xx answers, list lag, "out of host capacity"), as the
    /// book's simulator page describes.
    #[arg(long, value_name = "FILE", requires = "sim")]
    pub sim_faults: Option<PathBuf>,
    /// The most API calls in flight at once (waits between polls hold none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub parallelism: usize,
    /// Stop starting steps after the first failure (by default a failure skips only the
    /// steps that depend on it).
    #[arg(long)]
    pub fail_fast: bool,
    /// How to show progress: live on a terminal, plain lines otherwise, or one JSON event per
    /// line on standard output.
    #[arg(long = "format", visible_alias = "output", value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Auto)]
    pub output: OutputFormat,
    /// Take the lock in OCI Object Storage (`oci://BUCKET/OBJECT`), for a team, instead of
    /// the local lock file `.pexspec/lock`.
    #[arg(long, value_name = "URL", value_parser = parse_lock_url)]
    pub lock: Option<String>,
    /// Set from the global `--debug`.
    #[arg(skip)]
    pub debug: bool,
}

/// `pexspec node` subcommands.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Take a Conferencing Node out of service: maintenance mode on (no new conferences),
    /// wait for its conferences to end, stop its instance.
    #[command(
        after_help = "Exit codes: 0 stopped (or already stopped), 1 a step failed or the conferences outlasted --timeout, 2 usage or unreadable input."
    )]
    Stop(NodeStopArgs),
    /// Bring a stopped Conferencing Node back: start its instance, wait until it has synced
    /// with the Management Node, clear maintenance mode.
    #[command(
        after_help = "Exit codes: 0 in service (or already), 1 a step failed or the node did not sync within --timeout, 2 usage or unreadable input."
    )]
    Start(NodeArgs),
    /// Remove a Conferencing Node for good: maintenance mode on, wait for its conferences to
    /// end, delete it on the Management Node, terminate its instance. Remove it from the spec
    /// afterwards, or the next apply creates it again.
    #[command(
        after_help = "Exit codes: 0 removed (or already gone), 1 a step failed or the conferences outlasted --timeout, 2 usage, unreadable input or no confirmation."
    )]
    Remove(NodeRemoveArgs),
}

/// What every `pexspec node` subcommand takes.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The spec the node belongs to.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// The Conferencing Node's name (its `name:` under `conferencing_nodes`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The longest each wait may take (conferences to end, the instance to stop or start,
    /// the node to sync): `90s`, `30m`, `2h`, `1h30m`. With `--sim`, simulated time.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::node::parse_duration)]
    pub timeout: std::time::Duration,
    /// Run against the built-in simulators instead of OCI (the state `apply --sim` built).
    #[arg(long)]
    pub sim: bool,
    /// Simulated seconds per real second with `--sim`.
    #[arg(long, value_name = "X", default_value_t = crate::world::DEFAULT_SIM_SPEED, requires = "sim", value_parser = parse_sim_speed)]
    pub sim_speed: f64,
    /// Take the lock in OCI Object Storage (`oci://BUCKET/OBJECT`), as `apply --lock` does,
    /// instead of the local lock file `.pexspec/lock`.
    #[arg(long, value_name = "URL", value_parser = parse_lock_url)]
    pub lock: Option<String>,
}

/// Options of `pexspec node stop`.
#[derive(Debug, Args)]
pub struct NodeStopArgs {
    /// The spec, the node and the waits.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Do not wait for the conferences on the node: stop it now (a hard power-off); their
    /// participants are disconnected.
    #[arg(long)]
    pub force: bool,
}

/// Options of `pexspec node remove`.
#[derive(Debug, Args)]
pub struct NodeRemoveArgs {
    /// The spec, the node and the waits.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Do not wait for the conferences on the node: remove it now; their participants are
    /// disconnected.
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long = "auto-approve", visible_alias = "yes")]
    pub yes: bool,
}

/// Options of `pexspec force-unlock`.
#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The spec whose lock to remove.
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// The Object Storage lock (`oci://BUCKET/OBJECT`) instead of `.pexspec/lock`.
    #[arg(long, value_name = "URL", value_parser = parse_lock_url)]
    pub lock: Option<String>,
    /// With `--lock`: the lock is in the built-in simulators' Object Storage.
    #[arg(long)]
    pub sim: bool,
    /// Do not ask for confirmation.
    #[arg(long = "auto-approve", visible_alias = "yes")]
    pub yes: bool,
}

/// The slowest simulator speed a command accepts: simulated seconds per real second.
pub(crate) const MIN_SIM_SPEED: f64 = 0.01;
/// The fastest: a day of simulated time in under a tenth of a second. Beyond it the
/// simulated clock's arithmetic (milliseconds in 64 bits) and the scaled waits lose meaning.
pub(crate) const MAX_SIM_SPEED: f64 = 1_000_000.0;

/// A simulator speed (`--sim-speed`, `sim serve --speed`): a number from
/// [`MIN_SIM_SPEED`] to [`MAX_SIM_SPEED`]. Checked when the command line is read, so a bad
/// value is a usage error (exit 2) before anything starts, and every duration divided by it
/// is one `Duration` can hold.
fn parse_sim_speed(text: &str) -> Result<f64, String> {
    let speed: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (MIN_SIM_SPEED..=MAX_SIM_SPEED).contains(&speed) {
        Ok(speed)
    } else {
        Err(format!(
            "`{text}` is out of range: the speed is {MIN_SIM_SPEED} to {MAX_SIM_SPEED:.0} simulated seconds per real second"
        ))
    }
}

/// A `--lock` value: `oci://[NAMESPACE@]BUCKET/OBJECT`, checked when the command line is
/// read, so that a wrong one is a usage error (exit 2) before any configuration is read or
/// anything starts.
fn parse_lock_url(text: &str) -> Result<String, String> {
    pexspec_journal::OciLockUrl::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// How `apply` and `destroy` show their progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Live progress bars when standard error is a terminal, plain lines otherwise.
    Auto,
    /// Plain lines, one per event that matters.
    Plain,
    /// One JSON object per event on standard output (the plan first, the summary last).
    Json,
}

/// Output formats of `pexspec plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Like Terraform's: symbols, counts, grouped by region.
    Human,
    /// The plan document of the book's plan page.
    Json,
}

/// Options of `pexspec graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The spec to draw.
    pub spec: PathBuf,
    /// The graph language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// With `--format html`: colour each resource by what this plan does to it (a file
    /// written by `pexspec plan --out` or `pexspec plan --format json`).
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,
}

/// Output formats of `pexspec graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`pexspec graph site.yaml | dot -Tsvg > graph.svg`).
    Dot,
    /// Mermaid (renders in GitHub and GitLab Markdown).
    Mermaid,
    /// A self-contained topology page: regions, peering, nodes by location and role
    /// (`pexspec graph site.yaml --format html > topology.html`).
    Html,
}

/// Output formats of `pexspec lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// A graphical report for people.
    Human,
    /// One JSON document (the contract of the book's lint page).
    Json,
    /// A SARIF 2.1.0 log for code scanning.
    Sarif,
    /// GitHub Actions workflow commands that annotate the pull request.
    Github,
}

pub(crate) fn dispatch(cli: Cli, out: &mut dyn Write, err: &mut dyn Write, term: Terminal) -> u8 {
    let color = cli.color.enabled(term);
    let debug = cli.debug;
    match cli.command {
        Command::Lint(args) => lint::run(&LintArgs { debug, ..args }, color, out, err),
        Command::Plan(args) => plan::run(&PlanArgs { debug, ..args }, color, out, err),
        Command::Apply(args) => {
            let args = ApplyArgs { debug, ..args };
            apply::run(&args, apply::Mode::Apply, color, term, out, err)
        }
        Command::Destroy(args) => {
            let args = ApplyArgs { debug, ..args };
            apply::run(&args, apply::Mode::Destroy, color, term, out, err)
        }
        Command::Node(command) => crate::node::run(&command, color, term, err),
        Command::ForceUnlock(args) => apply::force_unlock(&args, color, term, err),
        Command::Graph(args) => plan::graph(&args, color, out, err),
        Command::Schema => {
            let mut text =
                serde_json::to_string_pretty(&pexspec_spec::json_schema()).unwrap_or_default();
            text.push('\n');
            match out.write_all(text.as_bytes()) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    let _ = writeln!(err, "error: cannot write the schema: {e}");
                    EXIT_USAGE
                }
            }
        }
        Command::Sim(SimCommand::Serve(args)) => sim::serve(&args, out, err),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "pexspec", out);
            EXIT_OK
        }
    }
}
