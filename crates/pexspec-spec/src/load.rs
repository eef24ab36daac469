//! Loading: YAML text → [`Spec`] or diagnostics, within budgets that stop alias bombs, deep
//! nesting and huge files before they cost memory or time.

use std::path::{Path, PathBuf};

use pexspec_diagnostics::{Code, Diagnostic, SourceFile, Span, closest};
use serde_saphyr::budget::{BudgetBreach, EnforcingPolicy, check_yaml_budget};
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Error as YamlError, Options};

use crate::spanned::span_of;
use crate::{Secret, Spec};

/// The largest spec file pexspec reads (a 2,000-node, 10,000-room spec is about 1.4 MiB; the
/// 32,000-node benchmark spec of the book's performance page about 22 MiB). Applied while
/// reading: never more than this and one byte is read.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// The result of loading one spec.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The file, with every secret written in clear replaced by `*` so that no rendering of
    /// a diagnostic can echo it.
    pub file: SourceFile,
    /// The directory relative paths in the spec resolve against.
    pub base_dir: PathBuf,
    /// The spec, unless loading stopped at a structural error.
    pub spec: Option<Spec>,
    /// What loading found: at most one structural error, or the shape findings of a loaded
    /// spec (`unsupported-version`, `secret-inline`, a bad stack name).
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// Resolves a path written in the spec against the spec's directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.base_dir.join(path)
    }
}

/// What kind of file `meta` describes, when it is not a regular file.
fn not_regular(meta: &std::fs::Metadata) -> std::io::Error {
    let kind = if meta.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_fifo() {
                "a named pipe (FIFO)"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "something else"
            }
        }
        #[cfg(not(unix))]
        {
            "something else"
        }
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("it is {kind}, not a regular file"),
    )
}

/// Reads `path`, which must be a regular file (after following symbolic links): a FIFO,
/// a device (`/dev/zero`), a socket or a directory is refused before it is opened, so that
/// nothing blocks on a pipe or reads forever. At most `limit + 1` bytes are read: a caller
/// that gets more than `limit` knows the file is too large without having read it whole.
pub fn read_regular(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(path)?;
    // The path may have been replaced between the look and the open.
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Err(not_regular(&opened));
    }
    let cap = limit.saturating_add(1);
    let expected = usize::try_from(opened.len()).unwrap_or(usize::MAX).min(cap);
    let mut bytes = Vec::with_capacity(expected);
    file.take(u64::try_from(cap).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `yaml-budget` for a file larger than [`MAX_FILE_BYTES`] (`size`: its length, when known).
fn too_large(file: SourceFile, base_dir: PathBuf, size: Option<u64>) -> Loaded {
    let size = size.map_or_else(|| "larger".to_owned(), |n| format!("{n} bytes, more"));
    let d = Diagnostic::new(
        Code::YamlBudget,
        format!("the file is {size} than the {MAX_FILE_BYTES} bytes a spec may have"),
    )
    .with_primary(Span::point(0), "this file")
    .with_help("split the platform into several stacks");
    Loaded {
        file,
        base_dir,
        spec: None,
        diagnostics: vec![d],
    }
}

/// Reads and loads the spec at `path`. Only an unreadable file is an `Err` (including one
/// that is not a regular file: a FIFO, a device, a directory); everything wrong with its
/// contents is a diagnostic. A file larger than [`MAX_FILE_BYTES`] is refused as
/// `yaml-budget` having read no more than that.
pub fn load_file(path: &Path) -> std::io::Result<Loaded> {
    let bytes = read_regular(path, MAX_FILE_BYTES)?;
    let name = path.display().to_string();
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if bytes.len() > MAX_FILE_BYTES {
        let size = std::fs::metadata(path).ok().map(|m| m.len());
        return Ok(too_large(SourceFile::new(name, ""), base_dir, size));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => load(&name, &text, base_dir),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let diagnostic = Diagnostic::new(Code::YamlSyntax, "the file is not valid UTF-8")
                .with_primary(Span::new(at, at + 1), "this byte")
                .with_help("save the spec as UTF-8");
            Loaded {
                file: SourceFile::new(name, text),
                base_dir,
                spec: None,
                diagnostics: vec![diagnostic],
            }
        }
    })
}

fn budget() -> Budget {
    let mut budget = Budget::default();
    budget.max_events = 8_000_000;
    budget.max_nodes = 4_000_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 48;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_merge_keys = 1_000;
    budget
}

fn options() -> Options {
    let mut options = Options::default();
    options.budget = Some(budget());
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    // A number or boolean written where text belongs (`hostname: 123`, `name: 0x1F`) is
    // refused, as the JSON Schema refuses it, instead of being read as its text.
    options.no_schema = true;
    options.with_snippet = false;
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_alias_expansions_per_anchor = 1_000;
    options
}

/// Loads a spec from `text`, shown to users as `name`, with relative paths resolving against
/// `base_dir`.
pub fn load(name: &str, text: &str, base_dir: PathBuf) -> Loaded {
    let file = SourceFile::new(name, text);
    if text.len() > MAX_FILE_BYTES {
        return too_large(file, base_dir, Some(text.len() as u64));
    }
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        let d = Diagnostic::new(Code::MissingField, "the spec is empty")
            .with_primary(Span::point(0), "nothing here")
            .with_help("start from `specs/quickstart.yaml`");
        return Loaded {
            file,
            base_dir,
            spec: None,
            diagnostics: vec![d],
        };
    }
    let err = match serde_saphyr::from_str_with_options::<Spec>(text, options()) {
        Ok(spec) => {
            let (diagnostics, redactions) = shape_findings(&spec);
            let file = file.redacted(&redactions);
            return Loaded {
                file,
                base_dir,
                spec: Some(spec),
                diagnostics,
            };
        }
        Err(err) => err,
    };
    // The typed pass stops at the first problem it meets. A streaming pass over the events
    // then looks further: a syntax error anywhere in the file is reported before a type
    // error, and a budget breach (an alias bomb, deep nesting) is reported even where the
    // typed pass stopped before reaching it. Nothing is expanded. A clean spec never pays
    // for this pass.
    let diagnostic = match check_yaml_budget(text, budget(), EnforcingPolicy::AllContent) {
        Err(scan) => {
            let marker = scan.marker();
            let at = marker
                .byte_offset()
                .unwrap_or_else(|| file.offset_of(marker.line(), marker.col() + 1));
            let message = scan.to_string();
            let message = message.split(" at char ").next().unwrap_or("").to_owned();
            let span = Span::new(at, (at + 1).min(text.len()));
            if matches!(scan.kind(), ErrorKind::RecursionLimitExceeded) {
                Diagnostic::new(
                    Code::YamlBudget,
                    "the YAML nests deeper than pexspec's parsing budget allows",
                )
                .with_primary(span, "too deep here")
                .with_help("a spec needs no deep nesting; flatten this value")
            } else {
                Diagnostic::new(Code::YamlSyntax, message)
                    .with_primary(span, "here")
                    .with_help("fix the YAML syntax at this place")
            }
        }
        Ok(report) => match report.breached {
            Some(breach) if !matches!(err.without_snippet(), YamlError::Budget { .. }) => {
                budget_breached(&breach, Span::point(0), "in this file")
            }
            _ => from_yaml_error(&err, text),
        },
    };
    Loaded {
        diagnostics: vec![diagnostic],
        file,
        base_dir,
        spec: None,
    }
}

/// The findings about a loaded spec that are about its shape rather than its meaning, and the
/// spans of secrets written in clear.
fn shape_findings(spec: &Spec) -> (Vec<Diagnostic>, Vec<Span>) {
    let mut out = Vec::new();
    if spec.version.value != 1 {
        out.push(
            Diagnostic::new(
                Code::UnsupportedVersion,
                format!("spec version `{}` is not supported", spec.version.value),
            )
            .with_primary(spec.version.span, "this version")
            .with_help(
                "this pexspec reads `version: 1`; upgrade pexspec or write the spec for version 1",
            ),
        );
    }
    let name = &spec.name.value;
    let valid_name = name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        out.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("`{name}` is not a valid stack name"),
            )
            .with_primary(spec.name.span, "stack name")
            .with_help("use 1 to 32 characters `[a-z0-9-]` starting with a letter, e.g. `pexdocs`"),
        );
    }
    let mut redactions = Vec::new();
    for secret in spec.secrets() {
        if secret.value == Secret::Inline {
            redactions.push(secret.span);
            out.push(
                Diagnostic::new(Code::SecretInline, "a secret is written in clear in the spec")
                    .with_primary(secret.span, "secret in clear (hidden here)")
                    .with_help("move the value out of the file: `{ env: VARIABLE }` or `{ file: path/to/secret }`"),
            );
        }
    }
    (out, redactions)
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The span to blame for an error: the location's bytes, widened to the token there.
fn error_span(err: &YamlError, text: &str) -> Span {
    let Some(location) = err.location() else {
        return Span::point(0);
    };
    let mut span = span_of(&location);
    if span == Span::default() && location.line() > 0 {
        let file = SourceFile::new("", text);
        let line = usize::try_from(location.line()).unwrap_or(usize::MAX);
        let column = usize::try_from(location.column()).unwrap_or(1);
        span = Span::point(file.offset_of(line, column));
    }
    if span.is_empty() {
        // Widen to the rest of the word under the cursor so the label has something to hold.
        let rest = text.get(span.start..).unwrap_or("");
        let len = rest
            .find(|c: char| c.is_whitespace() || c == ':' || c == ',')
            .unwrap_or(rest.len());
        span = Span::new(span.start, span.start + len);
    }
    span
}

fn plain_message(err: &YamlError) -> String {
    let text = err.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    // serde-saphyr appends the position; ours is shown by the label instead.
    let first = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    first.trim_end_matches('.').to_owned()
}

fn from_yaml_error(err: &YamlError, text: &str) -> Diagnostic {
    let span = error_span(err, text);
    let err = err.without_snippet();
    match err {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => {
            let help = match closest(field, expected.iter().copied(), 0.8) {
                Some(guess) => format!("did you mean `{guess}`?"),
                None if expected.is_empty() => "remove it".to_owned(),
                None => format!("the fields here are {}", backticked(expected)),
            };
            Diagnostic::new(Code::UnknownField, format!("unknown field `{field}`"))
                .with_primary(span, "not a field here")
                .with_help(help)
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let help = match closest(variant, expected.iter().copied(), 0.8) {
                Some(guess) => format!("did you mean `{guess}`?"),
                None => format!("use one of {}", backticked(expected)),
            };
            Diagnostic::new(
                Code::InvalidValue,
                format!("`{variant}` is not allowed here"),
            )
            .with_primary(span, "this value")
            .with_help(help)
        }
        YamlError::SerdeMissingField { field, .. } => {
            Diagnostic::new(Code::MissingField, format!("missing field `{field}`"))
                .with_primary(span, format!("`{field}` is required in this mapping"))
                .with_help(format!("add `{field}`; see the spec reference in the book"))
        }
        YamlError::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            Diagnostic::new(
                Code::DuplicateKey,
                format!("the key `{key}` is given twice"),
            )
            .with_primary(span, "second occurrence")
            .with_help("keep one of the two; YAML parsers disagree on which one wins")
        }
        YamlError::Budget { breach, .. } => budget_breached(breach, span, "stopped here"),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. } => alias_budget(span),
        YamlError::SerdeInvalidType { .. }
        | YamlError::SerdeInvalidValue { .. }
        | YamlError::SerdeInvalidLength { .. }
        | YamlError::InvalidScalar { .. }
        | YamlError::InvalidBooleanStrict { .. }
        | YamlError::NullIntoString { .. }
        | YamlError::NonFiniteFloat { .. }
        | YamlError::Message { .. }
        | YamlError::Unexpected { .. }
        | YamlError::UnexpectedValueForUnit { .. }
        | YamlError::UnexpectedValueForUnitEnumVariant { .. }
        | YamlError::ExternallyTaggedEnumExpectedScalarOrMapping { .. } => {
            Diagnostic::new(Code::InvalidValue, plain_message(err))
                .with_primary(span, "this value")
                .with_help("see the spec reference in the book for the allowed values")
        }
        // Alias limits can surface wrapped in another variant; the message names them.
        _ if plain_message(err).starts_with("alias ") => alias_budget(span),
        _ => Diagnostic::new(Code::YamlSyntax, plain_message(err))
            .with_primary(span, "here")
            .with_help("fix the YAML syntax; `yamllint` shows the same place"),
    }
}

/// `yaml-budget` for a breach found by either pass, labelled at `span`.
fn budget_breached(breach: &BudgetBreach, span: Span, label: &str) -> Diagnostic {
    Diagnostic::new(
        Code::YamlBudget,
        format!(
            "the YAML exceeds pexspec's parsing budget: {}",
            describe(breach)
        ),
    )
    .with_primary(span, label)
    .with_help("a spec needs no deep nesting and few aliases; expand anchors by hand")
}

/// `yaml-budget` for aliases that would replay more than the budget allows.
fn alias_budget(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::YamlBudget,
        "aliases expand to more than pexspec's parsing budget allows",
    )
    .with_primary(span, "this alias")
    .with_help("a spec needs few aliases; expand anchors by hand")
}

/// A breach in words, with the limit that was passed.
fn describe(breach: &BudgetBreach) -> String {
    let b = budget();
    match breach {
        BudgetBreach::Depth { .. } => format!("it nests deeper than {} levels", b.max_depth),
        BudgetBreach::Aliases { .. } => format!("it has more than {} aliases", b.max_aliases),
        BudgetBreach::Anchors { .. } => format!("it has more than {} anchors", b.max_anchors),
        BudgetBreach::AliasAnchorRatio { .. } => {
            "it uses far more aliases than anchors, as an alias bomb does".to_owned()
        }
        BudgetBreach::Documents { .. } => "it holds more than one YAML document".to_owned(),
        BudgetBreach::Events { .. } | BudgetBreach::Nodes { .. } => {
            "it has too many values".to_owned()
        }
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::InputBytes { .. } => {
            "it is too large".to_owned()
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_one_byte_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(10 * 1024 * 1024).unwrap();
        drop(file);
        assert_eq!(read_regular(&path, 1000).unwrap().len(), 1001);
        assert_eq!(
            read_regular(&path, 20 * 1024 * 1024).unwrap().len(),
            10 * 1024 * 1024
        );
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_regular(dir.path(), 10).unwrap_err();
        assert_eq!(e.to_string(), "it is a directory, not a regular file");
        #[cfg(unix)]
        {
            let e = read_regular(Path::new("/dev/zero"), 10).unwrap_err();
            assert_eq!(e.to_string(), "it is a device, not a regular file");
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                // Opening a FIFO for reading would block until a writer comes: never opened.
                let e = read_regular(&fifo, 10).unwrap_err();
                assert_eq!(
                    e.to_string(),
                    "it is a named pipe (FIFO), not a regular file"
                );
            }
        }
    }
}
