//! `pexspec plan` and `pexspec graph`: load and check a spec (errors stop here), compile it
//! into the resource graph, observe the cloud and show the diff.

use std::io::Write;
use std::path::Path;

use pexspec_check::{Mode, check};
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
    let findings = check(&loaded, mode);
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
    if args.plan.is_some() && args.format != GraphFormat::Html {
        let _ = writeln!(
            err,
            "error: `--plan` colours the topology page only\n  help: add `--format html`"
        );
        return EXIT_USAGE;
    }
    let actions = match args.plan.as_deref().map(plan_actions).transpose() {
        Ok(actions) => actions,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    let (spec, graph) = match compiled(&args.spec, Mode::Lint, color, err) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let text = match args.format {
        GraphFormat::Dot => graph.to_dot(),
        GraphFormat::Mermaid => graph.to_mermaid(),
        GraphFormat::Html => pexspec_graph::topology_html(&spec, &graph, actions.as_ref()),
    };
    match out.write_all(text.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write the graph: {e}");
            EXIT_USAGE
        }
    }
}

/// The largest plan file `graph --plan` reads.
const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;

/// What a plan document does to each resource: `changes[].address` → `changes[].action`.
/// Reads the document of `plan --format json` and the file of `plan --out` alike.
fn plan_actions(path: &Path) -> Result<pexspec_graph::topology::Actions, String> {
    use std::io::Read as _;
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read the plan `{shown}`: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the plan `{shown}`: {e}"))?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(format!("the plan `{shown}` is larger than 256 MiB"));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!("`{shown}` is not a plan: {e}\n  help: write one with `pexspec plan SPEC --out plan.json`")
    })?;
    let changes = value
        .get("changes")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| format!("`{shown}` is not a plan: it has no `changes` list\n  help: write one with `pexspec plan SPEC --out plan.json`"))?;
    let mut actions = pexspec_graph::topology::Actions::new();
    for (i, change) in changes.iter().enumerate() {
        let field = |name: &str| change.get(name).and_then(serde_json::Value::as_str);
        let (Some(address), Some(action)) = (field("address"), field("action")) else {
            return Err(format!(
                "`{shown}` is not a plan: change {} has no `address` and `action`",
                i + 1
            ));
        };
        actions.insert(address.to_owned(), action.to_owned());
    }
    Ok(actions)
}
