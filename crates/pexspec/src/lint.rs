//! `pexspec lint`: load and check spec files, report in the chosen format, pick the exit code.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use pexspec_check::{Mode, check_at};
use pexspec_diagnostics::report::{FileReport, Format, Summary, write};

use crate::cli::{LintArgs, LintFormat};
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// The `*.yaml` / `*.yml` files found under the directories given, each real file once.
#[derive(Default)]
struct Walk {
    /// The files, in the order found (each directory sorted by name).
    found: Vec<PathBuf>,
    /// The canonical paths of the directories entered: a symbolic link back to one of them
    /// (a loop) is not entered again.
    dirs: BTreeSet<PathBuf>,
    /// The canonical paths of the files found: a file reached by two paths is linted once.
    files: BTreeSet<PathBuf>,
}

impl Walk {
    /// Adds every `*.yaml` / `*.yml` file under `dir`, sorted, skipping hidden directories,
    /// entering each real directory once (symbolic links are followed, loops are not).
    fn dir(&mut self, dir: &Path) -> std::io::Result<()> {
        let real = std::fs::canonicalize(dir)?;
        if !self.dirs.insert(real) {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if path.is_dir() {
                if !hidden {
                    self.dir(&path)?;
                }
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                self.file(path);
            }
        }
        Ok(())
    }

    /// Adds `path` unless the file it names was found already. A path that cannot be
    /// resolved (a dangling link) is kept: loading it says what is wrong.
    fn file(&mut self, path: PathBuf) {
        let seen = std::fs::canonicalize(&path).is_ok_and(|real| !self.files.insert(real));
        if !seen {
            self.found.push(path);
        }
    }
}

pub(crate) fn run(args: &LintArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut unreadable = false;
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
    let mut walk = Walk::default();
    for input in inputs {
        if input.is_dir() {
            if let Err(e) = walk.dir(&input) {
                let _ = writeln!(
                    err,
                    "error: cannot read the directory `{}`: {e}",
                    input.display()
                );
                unreadable = true;
            }
        } else {
            walk.file(input);
        }
    }
    let paths = walk.found;
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
