//! pexspec: deploy Pexip Infinity on Oracle Cloud Infrastructure from one declarative YAML
//! file. This crate is the command line: it parses arguments, wires the phases of the
//! pipeline together, renders their results and picks the exit code. It is the only crate
//! that prints.
//!
//! Exit codes (DESIGN.md §6): 0 success or clean, 1 findings or a failed step, 2 usage or
//! unreadable input.

mod apply;
mod cli;
mod lint;
mod lock;
mod lost;
mod node;
mod plan;
mod progress;
mod saved;
mod sim;
mod world;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

pub use cli::Cli;

/// Success, or a clean spec.
pub const EXIT_OK: u8 = 0;
/// Errors found, or a step failed.
pub const EXIT_FAILURE: u8 = 1;
/// Bad usage, or input that cannot be read.
pub const EXIT_USAGE: u8 = 2;

/// What the binary knows of the terminal it runs in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Terminal {
    /// Whether standard output is a terminal (colour and live progress only then).
    pub stdout_is_tty: bool,
    /// Whether standard error is a terminal (live progress only then).
    pub stderr_is_tty: bool,
    /// Whether standard input is a terminal (`apply` asks for confirmation only then).
    pub stdin_is_tty: bool,
    /// Whether `NO_COLOR` is set.
    pub no_color: bool,
}

/// Writes `prompt` to `err` and reads one line from standard input: whether it is `yes`
/// (Terraform's convention: nothing else approves). Callers check first that standard input
/// is a terminal.
pub(crate) fn ask_yes(err: &mut dyn Write, prompt: std::fmt::Arguments<'_>) -> bool {
    let _ = err.write_fmt(prompt);
    let _ = err.flush();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line).is_ok()
        && line.trim() == "yes"
}

/// `text` with every line after the first indented by two spaces (blank lines stay empty).
pub(crate) fn indent(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| match (i, l.is_empty()) {
            (0, _) | (_, true) => l.to_owned(),
            _ => format!("  {l}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A journal error as shown: `LEVEL: the journal: MESSAGE`, and, for a damaged journal,
/// the advice of [`pexspec_journal::JournalError::advice`] (what is lost, how to move it
/// aside, what the next apply does).
pub(crate) fn journal_error(level: &str, e: &pexspec_journal::JournalError) -> String {
    match e.advice() {
        Some(advice) => {
            let advice = indent(&advice);
            format!("{level}: the journal: {e}\n  help: {advice}")
        }
        None => format!("{level}: the journal: {e}"),
    }
}

/// Runs the command line `args` (the first is the program name), writing results to `out`
/// and messages to `err`. Returns the process exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    term: Terminal,
) -> u8 {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // Under `plan --detailed-exitcode`, 2 means "changes": a command line that cannot
            // be used is an error, 1, as the flag promises.
            let detailed = args.iter().any(|a| a == "--detailed-exitcode");
            let code = match (e.use_stderr(), detailed) {
                (false, _) => EXIT_OK,
                (true, false) => EXIT_USAGE,
                (true, true) => EXIT_FAILURE,
            };
            let text = if term.stdout_is_tty && !term.no_color {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return code;
        }
    };
    let result = cli::dispatch(cli, out, err, term);
    let _ = out.flush();
    result
}
