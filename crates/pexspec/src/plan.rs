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

/// Where the findings of a spec go.
pub(crate) enum Findings<'a> {
    /// A report for people on standard error.
    Human {
        /// Whether to colour it.
        color: bool,
    },
    /// `plan --format json`: a spec with errors prints the lint JSON document (the book's
    /// lint page) on standard output instead of a plan; warnings of a spec that plans go to
    /// standard error, for people, so that standard output stays one plan document.
    Json {
        /// Standard output.
        out: &'a mut dyn Write,
    },
    /// `apply --output json`: every finding, errors or warnings, as one line on standard
    /// output, the lint JSON document with `"event": "diagnostics"`, before the plan's.
    Events {
        /// Standard output.
        out: &'a mut dyn Write,
    },
}

impl Findings<'_> {
    /// Shows `report`'s findings (`errors`: whether there is an error among them).
    fn show(&mut self, report: &FileReport, errors: bool, err: &mut dyn Write) {
        let reports = std::slice::from_ref(report);
        match self {
            Findings::Json { out } if errors => {
                let _ = write(Format::Json, reports, *out);
            }
            Findings::Events { out } => {
                let mut document = pexspec_diagnostics::report::json_document(reports);
                if let Some(map) = document.as_object_mut() {
                    map.insert("event".into(), "diagnostics".into());
                }
                let _ = writeln!(out, "{document}");
            }
            Findings::Human { color } => {
                let _ = write(Format::Human { color: *color }, reports, err);
            }
            Findings::Json { .. } => {
                let _ = write(Format::Human { color: false }, reports, err);
            }
        }
    }
}

/// Loads, checks and compiles the spec. `plan` checks in [`Mode::Plan`] (a missing file is
/// an error); `graph`, which only draws, as `lint` does. On failure the findings are shown
/// (see [`Findings`]) and the exit code is returned.
pub(crate) fn compiled(
    path: &Path,
    mode: Mode,
    mut findings: Findings<'_>,
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
    let diagnostics = check_at(&loaded, mode, Some(std::time::SystemTime::now()));
    let mut report = |diagnostics: Vec<Diagnostic>, err: &mut dyn Write| {
        let errors = diagnostics.iter().any(Diagnostic::is_error);
        let report = FileReport {
            file: loaded.file.clone(),
            diagnostics,
        };
        findings.show(&report, errors, err);
    };
    if diagnostics.iter().any(Diagnostic::is_error) {
        report(diagnostics, err);
        return Err(EXIT_FAILURE);
    }
    if !diagnostics.is_empty() {
        report(diagnostics, err);
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
    match plan(args, color, out, err) {
        Ok(changes) if args.detailed_exitcode && changes => EXIT_CHANGES,
        Ok(_) => EXIT_OK,
        // `--detailed-exitcode` keeps 2 for "changes": whatever stopped the plan (unreadable
        // input, a bad `--sim-faults` file, an `--out` it may not write) is an error, 1.
        Err(EXIT_USAGE) if args.detailed_exitcode => EXIT_FAILURE,
        Err(code) => code,
    }
}

/// Plans: whether the plan changes something, or the exit code of what stopped it.
fn plan(
    args: &PlanArgs,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<bool, u8> {
    let findings = match args.format {
        PlanFormat::Human => Findings::Human { color },
        PlanFormat::Json => Findings::Json { out: &mut *out },
    };
    let prepared = crate::apply::prepare(&args.spec, findings, err)?;
    if let Some(path) = &args.out {
        refuse_input_as_out(path, &prepared, args.sim_faults.as_deref(), err)?;
    }
    let target = crate::apply::target(args.sim, args.sim_speed, args.sim_faults.as_deref(), err)?;
    let runtime = crate::apply::runtime(err)?;
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
    })?;
    if args.debug {
        crate::progress::debug_plan(&plan, &prepared.graph, err);
    }
    if let Some(path) = &args.out
        && let Err(e) = crate::saved::write(path, &plan)
    {
        let _ = writeln!(
            err,
            "error: cannot write the plan to `{}`: {e}",
            path.display()
        );
        return Err(EXIT_USAGE);
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
        return Err(EXIT_USAGE);
    }
    Ok(!plan.is_empty())
}

/// Refuses an `--out` that is a file the run reads: the spec, the files it names (the SSH
/// key, certificates, `{ file: }` secrets, the OVA images), the `--sim-faults` file, or
/// anything in the state directory `.pexspec/` (the journal, the lock, the simulators).
/// Paths are compared once canonical (`./a/../spec.yaml`, a symbolic link to the key), the
/// `--out` by its directory's canonical path when the file does not exist yet.
fn refuse_input_as_out(
    out: &Path,
    prepared: &crate::apply::Prepared,
    faults: Option<&Path>,
    err: &mut dyn Write,
) -> Result<(), u8> {
    // A path resolved as far as it exists (symbolic links followed), the rest appended:
    // `--out` and `.pexspec/` may not exist yet.
    let canonical = |p: &Path| -> Option<std::path::PathBuf> {
        use std::path::Component;
        // The parts that do not exist yet, last first (`None`: `..`).
        let mut rest: Vec<Option<std::ffi::OsString>> = Vec::new();
        let mut at = std::path::absolute(p).ok()?;
        loop {
            if let Ok(mut path) = std::fs::canonicalize(&at) {
                for part in rest.iter().rev() {
                    match part {
                        Some(name) => path.push(name),
                        None => {
                            path.pop();
                        }
                    }
                }
                return Some(path);
            }
            match at.components().next_back()? {
                Component::Normal(name) => rest.push(Some(name.to_os_string())),
                Component::ParentDir => rest.push(None),
                _ => {}
            }
            if !at.pop() {
                return None;
            }
        }
    };
    let Some(target) = canonical(out) else {
        return Ok(()); // Its directory does not exist: writing it fails and says so.
    };
    let spec = &prepared.spec;
    let dir = &prepared.spec_dir;
    let mut inputs: Vec<(String, std::path::PathBuf)> = vec![
        ("the spec".into(), prepared.spec_path.clone()),
        (
            "the SSH public key".into(),
            dir.join(&spec.ssh_public_key.value),
        ),
        (
            "the Management Node image".into(),
            dir.join(&spec.images.management.value),
        ),
        (
            "the Conferencing Node image".into(),
            dir.join(&spec.images.conferencing.value),
        ),
    ];
    for cert in &spec.platform.tls_certificates {
        inputs.push((
            format!("the certificate of `{}`", cert.name.value),
            dir.join(&cert.certificate.value),
        ));
    }
    for secret in spec.secrets() {
        if let pexspec_spec::Secret::File(path) = &secret.value {
            inputs.push(("a secret file".into(), dir.join(&path.value)));
        }
    }
    if let Some(faults) = faults {
        inputs.push(("the `--sim-faults` file".into(), faults.to_path_buf()));
    }
    let mut refuse = |what: &str| {
        let _ = writeln!(
            err,
            "error: `--out {}` is {what}: the plan would overwrite it\n  help: save the plan elsewhere, e.g. `--out plan.json`",
            out.display()
        );
        Err(EXIT_USAGE)
    };
    if let Some(state) = canonical(&dir.join(".pexspec"))
        && target.starts_with(&state)
    {
        return refuse(
            "in the state directory `.pexspec/` (the journal, the lock, the simulators)",
        );
    }
    for (what, path) in inputs {
        if canonical(&path).is_some_and(|p| p == target) {
            return refuse(&what);
        }
    }
    Ok(())
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
    let (spec, graph) = match compiled(&args.spec, Mode::Lint, Findings::Human { color }, err) {
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
    let shown = path.display();
    let limit = usize::try_from(MAX_PLAN_BYTES).unwrap_or(usize::MAX);
    let bytes = pexspec_spec::read_regular(path, limit)
        .map_err(|e| format!("cannot read the plan `{shown}`: {e}"))?;
    if bytes.len() > limit {
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
