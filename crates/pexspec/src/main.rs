//! The `pexspec` command: wires the standard streams and the terminal to [`pexspec::run`].

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut stdout = std::io::stdout();
    // Unlocked: the live progress of `apply` draws on standard error from its own thread.
    let mut stderr = std::io::stderr();
    let term = pexspec::Terminal {
        stdout_is_tty: stdout.is_terminal(),
        stderr_is_tty: stderr.is_terminal(),
        stdin_is_tty: std::io::stdin().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    };
    let code = pexspec::run(std::env::args_os(), &mut stdout, &mut stderr, term);
    ExitCode::from(code)
}
