//! `pexspec plan` and `pexspec graph`: load and check a spec (errors stop here), compile it
//! into the resource graph, observe the cloud and show the diff.

use std::io::Write;
use std::path::Path;

use pexspec_check::{Mode, check_at};
use pexspec_diagnostics::Diagnostic;
use pexspec_diagnostics::report::{FileReport, Format, write};
use pexspec_graph::Graph;
use pexspec_spec::Spec;

use crate::cli::{GraphArgs, GraphFormat, PlanArgs, PlanFormat};
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// Exit code of `plan --detailed-exitcode` when the plan has changes.
const EXIT_CHANGES: u8 = 2;

/// Loads, checks and compiles the spec. `plan` checks in [`Mode::Plan`] (a missing file is
/// an error); `graph`, which only draws, as `lint` does. On failure the findings are written
/// to `err` and the exit code is returned.
pub(crate) fn compiled(
    path: &Path,
    mode: Mode,
    color: bool,
    err: &mut dyn Write,
) -> Result<(Spec, Graph), u8> {
    let mut loaded = match pexspec_spec::load_file(path) {
        Ok(loaded) => loaded,
        Err(e) => {
            let _ = writeln!(err, "error: cannot read `{}`: {e}", path.display());
            return Err(EXIT_USAGE);
        }
    };
    // The checks read no clock: the binary passes it (certificate dates).
    let findings = check_at(&loaded, mode, Some(std::time::SystemTime::now()));
    let report = |diagnostics: Vec<Diagnostic>, err: &mut dyn Write| {
        let report = FileReport {
            file: loaded.file.clone(),
            diagnostics,
        };
        let _ = write(Format::Human { color }, std::slice::from_ref(&report), err);
    };
    if findings.iter().any(Diagnostic::is_error) {
        report(findings, err);
        return Err(EXIT_FAILURE);
    }
    if !findings.is_empty() {
        report(findings, err);
    }
    let Some(spec) = loaded.spec.take() else {
        return Err(EXIT_FAILURE);
    };
    match pexspec_graph::compile(&spec) {
        Ok(graph) => Ok((spec, graph)),
        Err(diagnostics) => {
            report(diagnostics, err);
            Err(EXIT_FAILURE)
        }
    }
}

pub(crate) fn run(args: &PlanArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let prepared = match crate::apply::prepare(&args.spec, color, err) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let target =
        match crate::apply::target(args.sim, args.sim_speed, args.sim_faults.as_deref(), err) {
            Ok(t) => t,
            Err(code) => return code,
        };
    let runtime = match crate::apply::runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let plan = runtime.block_on(async {
        let (world, mut observed) = crate::apply::connect(&prepared, &target, err).await?;
        if args.debug {
            crate::progress::debug_world(&world, err);
        }
        crate::lost::mark_in(&prepared, &mut observed, err);
        let mut plan = pexspec_plan::plan(&prepared.graph, &observed);
        plan.source = Some(crate::apply::source_of(&prepared, args.sim));
        if let Some(sim) = world.sim {
            sim.shutdown(false).await;
        }
        Ok::<_, u8>(plan)
    });
    let plan = match plan {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if args.debug {
        crate::progress::debug_plan(&plan, &prepared.graph, err);
    }
    if let Some(path) = &args.out
        && let Err(e) = std::fs::write(path, plan.to_json())
    {
        let _ = writeln!(
            err,
            "error: cannot write the plan to `{}`: {e}",
            path.display()
        );
        return EXIT_USAGE;
    }
    // The document on standard output is the contract of the book's plan page: the record
    // of the spec is only in the saved file.
    let mut shown = plan.clone();
    shown.source = None;
    let written = match args.format {
        PlanFormat::Human => pexspec_plan::render_human(&shown, color, out),
        PlanFormat::Json => out.write_all(shown.to_json().as_bytes()),
    };
    if let Err(e) = written {
        let _ = writeln!(err, "error: cannot write the plan: {e}");
        return EXIT_USAGE;
    }
    if args.detailed_exitcode && !plan.is_empty() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

pub(crate) fn graph(args: &GraphArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let graph = match compiled(&args.spec, Mode::Lint, color, err) {
        Ok((_, graph)) => graph,
        Err(code) => return code,
    };
    let text = match args.format {
        GraphFormat::Dot => graph.to_dot(),
        GraphFormat::Mermaid => graph.to_mermaid(),
    };
    match out.write_all(text.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write the graph: {e}");
            EXIT_USAGE
        }
    }
}
