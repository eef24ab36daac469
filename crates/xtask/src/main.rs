//! Development tasks. `cargo xtask codegen` writes every generated file (the JSON Schema, the
//! book's spec reference, one book page per check code, the book's summary);
//! `cargo xtask codegen --check` fails when one of them is stale. The test of this crate
//! runs the check, so a stale file fails `cargo test`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod codegen;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => match codegen::write_all() {
            Ok(written) => {
                for path in written {
                    println!("wrote {path}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        ["codegen", "--check"] => {
            let stale = codegen::stale();
            if stale.is_empty() {
                println!("generated files are current");
                ExitCode::SUCCESS
            } else {
                for path in stale {
                    eprintln!("stale: {path}");
                }
                eprintln!("run `cargo xtask codegen` and commit the result");
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo xtask codegen [--check]");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_files_are_current() {
        let stale = super::codegen::stale();
        assert!(
            stale.is_empty(),
            "stale generated files (run `cargo xtask codegen`): {stale:?}"
        );
    }
}
