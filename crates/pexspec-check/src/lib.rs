//! Every check of DESIGN.md §5, one module per family. Each rule is a named function with a
//! doc comment; its code is registered in `pexspec-diagnostics`, its page is
//! `docs/<code>.md`, and its fixtures are `tests/fixtures/<code>/{valid,invalid}.yaml`.
//!
//! [`check`] reports every finding at once and never cascades: values that do not parse are
//! reported once, by [`facts`], and every rule after that sees them as absent.

mod capacity;
mod certificates;
pub mod facts;
mod files;
mod network;
mod nodes;
mod platform;
pub mod regions;
mod secrets;
mod security;
pub mod shapes;

use std::time::SystemTime;

use pexspec_diagnostics::{Code, Diagnostic, Severity, sort_and_dedup};
use pexspec_spec::{Loaded, Spec};

pub use capacity::{LocationCapacity, estimate_hd_calls, location_capacity};
pub use facts::Facts;

/// Which command runs the checks: it changes only the severity of `file-missing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `pexspec lint`: runs where images and secrets may not be checked out, so a missing
    /// file is a warning.
    Lint,
    /// `pexspec plan` / `apply`: a missing file is an error.
    Plan,
}

/// What every rule sees: the spec, its file, the parsed facts, and where findings go. The
/// rules do not depend on the command: only the severity of `file-missing` does.
pub(crate) struct Ctx<'a> {
    pub spec: &'a Spec,
    /// The time the caller reads from its clock; `None`: dates are not judged.
    pub now: Option<SystemTime>,
    pub loaded: &'a Loaded,
    pub facts: Facts,
    /// Regions listed more than once (`duplicate-region`): which of their VCNs and subnets
    /// OCI would get is a guess, so nothing is judged against them.
    pub ambiguous_regions: std::collections::HashSet<String>,
    pub out: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// The regions that are listed once, in file order.
    pub fn unique_regions(&self) -> Vec<&'a pexspec_spec::Region> {
        self.spec
            .regions
            .iter()
            .filter(|r| !self.ambiguous_regions.contains(&r.name.value))
            .collect()
    }
}

impl Ctx<'_> {
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.out.push(diagnostic);
    }
}

/// Runs every check on a loaded spec and returns all findings (the loader's included), in
/// file order. A spec that did not load yields only the loader's findings.
///
/// This form judges no date (the checks read no clock): see [`check_at`].
pub fn check(loaded: &Loaded, mode: Mode) -> Vec<Diagnostic> {
    check_at(loaded, mode, None)
}

/// [`check`], with the time the caller's clock gives for "now": certificates are also
/// judged by their validity dates (`certificate-expired`, `certificate-not-yet-valid`).
pub fn check_at(loaded: &Loaded, mode: Mode, now: Option<SystemTime>) -> Vec<Diagnostic> {
    let mut out = loaded.diagnostics.clone();
    if let Some(spec) = &loaded.spec {
        let mut ctx = Ctx {
            spec,
            now,
            loaded,
            facts: Facts::default(),
            ambiguous_regions: std::collections::HashSet::new(),
            out: Vec::new(),
        };
        ctx.facts = facts::collect(spec, &mut ctx.out);
        network::run(&mut ctx);
        security::run(&mut ctx);
        nodes::run(&mut ctx);
        capacity::run(&mut ctx);
        platform::run(&mut ctx);
        files::run(&mut ctx);
        secrets::run(&mut ctx);
        out.extend(ctx.out);
    }
    if mode == Mode::Plan {
        for d in &mut out {
            if d.code() == Code::FileMissing {
                *d = d.clone().with_severity(Severity::Error);
            }
        }
    }
    sort_and_dedup(&mut out);
    out
}
