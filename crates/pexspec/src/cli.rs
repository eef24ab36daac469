//! The command line: subcommands and options (clap derive), and the dispatch to each command.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::{EXIT_OK, EXIT_USAGE, Terminal, lint};

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
    /// Print the JSON Schema of the spec format (for editors and validators).
    Schema,
    /// Print a completion script for a shell.
    ///
    /// For example: `pexspec completions bash > /etc/bash_completion.d/pexspec`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
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
    match cli.command {
        Command::Lint(args) => lint::run(&args, color, out, err),
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
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "pexspec", out);
            EXIT_OK
        }
    }
}
