//! The [`Diagnostic`] type: one finding about a spec, with its labels and help.

use serde::Serialize;

use crate::{Code, Span};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails `lint` only with `--deny-warnings`; never stops `plan` or `apply`.
    Warning,
    /// Fails `lint`; `plan` and `apply` refuse the spec.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with a short message shown beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    /// The bytes the label points at.
    pub span: Span,
    /// What is there, e.g. "overlaps this".
    pub message: String,
}

/// One finding about a spec: a stable code, a severity, a message, a primary label on the
/// wrong value, secondary labels on related places, and help that says how to fix it.
///
/// Build one with [`Diagnostic::new`] and the `with_*` methods:
///
/// ```
/// use pexspec_diagnostics::{Code, Diagnostic, Span};
/// let d = Diagnostic::new(Code::VcnCidrOverlap, "`10.0.0.0/16` overlaps `10.0.1.0/24`")
///     .with_primary(Span::new(10, 21), "this CIDR")
///     .with_secondary(Span::new(40, 51), "overlaps this")
///     .with_help("give every region its own range");
/// assert_eq!(d.code().as_str(), "vcn-cidr-overlap");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    code: Code,
    severity: Severity,
    message: String,
    primary: Option<Label>,
    secondary: Vec<Label>,
    help: Option<String>,
}

impl Diagnostic {
    /// A finding of `code` at the code's default severity.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.info().severity,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Puts the primary label on `span`.
    #[must_use]
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a secondary label on a related place.
    #[must_use]
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line: an imperative sentence that says how to fix it.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Overrides the severity (e.g. `file-missing` is an error in `plan`).
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The message: what is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The primary label, if the finding points at a place.
    pub fn primary(&self) -> Option<&Label> {
        self.primary.as_ref()
    }

    /// The secondary labels.
    pub fn secondary(&self) -> &[Label] {
        &self.secondary
    }

    /// The help line.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The sort key that puts findings in file order, then by code.
    pub fn sort_key(&self) -> (usize, usize, Code) {
        let span = self.primary.as_ref().map(|l| l.span).unwrap_or_default();
        (span.start, span.end, self.code)
    }
}

/// Sorts findings in file order and drops exact repeats.
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by_key(Diagnostic::sort_key);
    diagnostics.dedup();
}
