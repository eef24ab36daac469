//! Spans, the [`Diagnostic`] type, the registry of check codes and the reporters.
//!
//! Every problem pexspec finds in a spec is a [`Diagnostic`]: a stable [`Code`] from the
//! registry (DESIGN.md §5), a severity, a message, a primary label on the wrong value,
//! secondary labels on related places and a help line that says how to fix it. The
//! reporters in [`report`] render a set of diagnostics for people (miette's graphical
//! report), for machines (JSON), for code-scanning tools (SARIF 2.1.0) and for GitHub
//! Actions (workflow commands).

mod codes;
mod diagnostic;
pub mod report;
mod source;
mod suggest;

pub use codes::{Code, CodeInfo, Family};
pub use diagnostic::{Diagnostic, Label, Severity, sort_and_dedup};
pub use source::{LineCol, SourceFile, Span};
pub use suggest::closest;
