//! The `pexspec` command: wires the standard streams and the terminal to [`pexspec::run`].

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let term = pexspec::Terminal {
        stdout_is_tty: stdout.is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    };
    let code = pexspec::run(
        std::env::args_os(),
        &mut stdout.lock(),
        &mut stderr.lock(),
        term,
    );
    ExitCode::from(code)
}
