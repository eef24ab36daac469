//! `pexspec lint`: load and check spec files, report in the chosen format, pick the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use pexspec_check::{Mode, check_at};
use pexspec_diagnostics::report::{FileReport, Format, Summary, write};

use crate::cli::{LintArgs, LintFormat};
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// Every `*.yaml` / `*.yml` file under `dir`, sorted, skipping hidden directories.
fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() {
            if !hidden {
                yaml_files(&path, found)?;
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            found.push(path);
        }
    }
    Ok(())
}

pub(crate) fn run(args: &LintArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut unreadable = false;
    let mut paths = Vec::new();
    let inputs = if args.files.is_empty() {
        let specs = PathBuf::from("specs");
        if !specs.is_dir() {
            let _ = writeln!(
                err,
                "error: no spec given and no `specs/` directory here\n  help: name the files to lint, e.g. `pexspec lint site.yaml`"
            );
            return EXIT_USAGE;
        }
        vec![specs]
    } else {
        args.files.clone()
    };
    for input in inputs {
        if input.is_dir() {
            if let Err(e) = yaml_files(&input, &mut paths) {
                let _ = writeln!(
                    err,
                    "error: cannot read the directory `{}`: {e}",
                    input.display()
                );
                unreadable = true;
            }
        } else {
            paths.push(input);
        }
    }
    let mut reports = Vec::with_capacity(paths.len());
    for path in &paths {
        match pexspec_spec::load_file(path) {
            Ok(loaded) => {
                if args.debug {
                    // The model holds secrets as references (a literal only as "there was
                    // one"): its Debug form is safe to print.
                    let _ = writeln!(err, "debug: {}: {:#?}", path.display(), loaded.spec);
                }
                // The checks read no clock: the binary passes it (certificate dates).
                let diagnostics = check_at(&loaded, Mode::Lint, Some(std::time::SystemTime::now()));
                reports.push(FileReport {
                    file: loaded.file,
                    diagnostics,
                });
            }
            Err(e) => {
                let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
                unreadable = true;
            }
        }
    }
    let format = match args.format {
        LintFormat::Human => Format::Human { color },
        LintFormat::Json => Format::Json,
        LintFormat::Sarif => Format::Sarif,
        LintFormat::Github => Format::Github,
    };
    if let Err(e) = write(format, &reports, out) {
        let _ = writeln!(err, "error: cannot write the report: {e}");
        return EXIT_USAGE;
    }
    let summary = Summary::of(&reports);
    let failing = summary.errors > 0 || (args.deny_warnings && summary.warnings > 0);
    if unreadable {
        EXIT_USAGE
    } else if failing {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}
