//! Reporters: render the findings of one or more files for people (miette's graphical
//! report), for programs (JSON, DESIGN.md §6), for code scanning (SARIF 2.1.0) and for
//! GitHub Actions (workflow commands that annotate the pull request).

use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource};
use serde_json::{Value, json};

use crate::{Code, Diagnostic, Label, Severity, SourceFile, Span};

/// The findings of one file, with the file's text (already redacted where it holds secrets).
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file as read.
    pub file: SourceFile,
    /// Its findings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Counts over a set of reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// How many files were checked.
    pub files: usize,
    /// How many errors were found.
    pub errors: usize,
    /// How many warnings were found.
    pub warnings: usize,
}

impl Summary {
    /// Counts the findings of `reports`.
    pub fn of(reports: &[FileReport]) -> Self {
        let mut summary = Summary {
            files: reports.len(),
            ..Summary::default()
        };
        for d in reports.iter().flat_map(|r| &r.diagnostics) {
            match d.severity() {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
            }
        }
        summary
    }
}

/// The output formats of `pexspec lint --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// miette's graphical report, for a terminal or a log.
    Human {
        /// Whether to use colour and Unicode box drawing (on a terminal).
        color: bool,
    },
    /// The JSON document of DESIGN.md §6.
    Json,
    /// A SARIF 2.1.0 log.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

/// Writes `reports` to `out` in `format`.
pub fn write(format: Format, reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human { color } => human(reports, color, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_document(reports))?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif_document(reports))?;
            writeln!(out)
        }
        Format::Github => github(reports, out),
    }
}

/// A [`Diagnostic`] joined with its file, as miette wants to render it: long texts elided
/// ([`elide`]), labels pointing into the elided source ([`ElidedSource`]).
#[derive(Debug)]
struct MietteView<'a> {
    diagnostic: &'a Diagnostic,
    message: String,
    source: NamedSource<String>,
    labels: Vec<miette::LabeledSpan>,
    help: Option<String>,
}

impl std::fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The longest message, label or help text shown whole (in characters); a longer one keeps
/// its head and its tail around an ellipsis. A diagnostic that quotes a value quotes all of
/// it, and a value may be megabytes long: a report stays readable, and small.
pub const MAX_TEXT_CHARS: usize = 480;

/// The most characters of a source line a human report shows around each place it points
/// at (and at the line's start); the rest of a longer line is elided.
pub const SOURCE_CONTEXT_CHARS: usize = 80;

const ELLIPSIS: &str = "…";

/// `text`, or, if it is longer than `max` characters, its head and tail around `…` (about
/// `max` characters in all).
pub fn elide(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let count = text.chars().count();
    if count <= max {
        return text.into();
    }
    let keep = max.saturating_sub(1) / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(count - keep).collect();
    format!("{head}{ELLIPSIS}{tail}").into()
}

/// A file's text for a human report: each line longer than the context a report needs keeps
/// only its start and the neighbourhood of the places the diagnostics point at, the rest
/// replaced by `…`. Offsets of the original map onto the elided text with [`Self::map`];
/// line numbers are kept.
struct ElidedSource {
    text: String,
    /// Each cut: (its start and end in the original, how many bytes fewer the elided text
    /// has before the cut's end).
    cuts: Vec<(usize, usize, usize)>,
}

impl ElidedSource {
    fn new(file: &SourceFile, diagnostics: &[Diagnostic]) -> Self {
        let text = file.text();
        let mut points: Vec<usize> = diagnostics
            .iter()
            .flat_map(|d| d.primary().into_iter().chain(d.secondary()))
            .flat_map(|l| [l.span.start, l.span.end])
            .collect();
        points.sort_unstable();
        points.dedup();
        let mut out = String::new();
        let mut cuts = Vec::new();
        let mut removed = 0usize;
        let mut at = 0usize;
        for line in text.split_inclusive('\n') {
            let (start, end) = (at, at + line.len());
            at = end;
            if line.chars().count() <= 4 * SOURCE_CONTEXT_CHARS {
                out.push_str(line);
                continue;
            }
            // The byte ranges of the line to keep: its start, and around each point in it.
            let boundary = |mut i: usize, forward: bool| {
                i = i.clamp(start, end);
                while !text.is_char_boundary(i) {
                    if forward { i += 1 } else { i -= 1 }
                }
                i
            };
            let around = |p: usize| {
                let lo = text[start..p.clamp(start, end)]
                    .char_indices()
                    .rev()
                    .nth(SOURCE_CONTEXT_CHARS)
                    .map_or(start, |(i, _)| start + i);
                let hi = text[p.clamp(start, end)..end]
                    .char_indices()
                    .nth(SOURCE_CONTEXT_CHARS)
                    .map_or(end, |(i, _)| p.clamp(start, end) + i);
                (boundary(lo, false), boundary(hi, true))
            };
            let mut keep = vec![around(start)];
            let first = points.partition_point(|&p| p < start);
            keep.extend(
                points[first..]
                    .iter()
                    .take_while(|&&p| p <= end)
                    .map(|&p| around(p)),
            );
            keep.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::new();
            for (lo, hi) in keep {
                match merged.last_mut() {
                    Some(last) if lo <= last.1 + 2 * ELLIPSIS.len() => last.1 = last.1.max(hi),
                    _ => merged.push((lo, hi)),
                }
            }
            // The line break is never elided.
            let line_end = if line.ends_with('\n') { end - 1 } else { end };
            let mut pos = start;
            for (lo, hi) in merged
                .into_iter()
                .chain(std::iter::once((line_end, line_end)))
            {
                let (lo, hi) = (lo.min(line_end), hi.min(line_end));
                if lo > pos {
                    if lo - pos > 2 * ELLIPSIS.len() {
                        out.push_str(ELLIPSIS);
                        removed += lo - pos - ELLIPSIS.len();
                        cuts.push((pos, lo, removed));
                    } else {
                        out.push_str(&text[pos..lo]);
                    }
                    pos = lo;
                }
                if hi > pos {
                    out.push_str(&text[pos..hi]);
                    pos = hi;
                }
            }
            out.push_str(&text[line_end..end]);
        }
        Self { text: out, cuts }
    }

    /// Where byte `offset` of the original is in the elided text (an offset inside a cut
    /// lands on its `…`).
    fn map(&self, offset: usize) -> usize {
        let i = self.cuts.partition_point(|&(start, _, _)| start <= offset);
        if i == 0 {
            return offset;
        }
        let (start, end, removed) = self.cuts[i - 1];
        let before = if i >= 2 { self.cuts[i - 2].2 } else { 0 };
        if offset < end {
            start - before
        } else {
            offset - removed
        }
    }

    fn span(&self, span: Span) -> Span {
        Span::new(self.map(span.start), self.map(span.end))
    }
}

fn human(reports: &[FileReport], color: bool, out: &mut dyn Write) -> io::Result<()> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    for report in reports {
        let elided = ElidedSource::new(&report.file, &report.diagnostics);
        let source =
            NamedSource::new(report.file.name(), elided.text.clone()).with_language("yaml");
        for diagnostic in &report.diagnostics {
            let code = diagnostic.code();
            let link = format!("see: https://pexspec.dev/book/{}", code.book_path());
            let help = match diagnostic.help() {
                Some(help) => format!("{}\n{link}", elide(help, MAX_TEXT_CHARS)),
                None => link,
            };
            let label = |l: &Label| {
                (
                    Some(elide(&l.message, MAX_TEXT_CHARS).into_owned()),
                    elided.span(l.span),
                )
            };
            let primary = diagnostic.primary().map(|l| {
                let (text, span) = label(l);
                miette::LabeledSpan::new_primary_with_span(text, span)
            });
            let secondary = diagnostic.secondary().iter().map(|l| {
                let (text, span) = label(l);
                miette::LabeledSpan::new_with_span(text, span)
            });
            let view = MietteView {
                diagnostic,
                message: elide(diagnostic.message(), MAX_TEXT_CHARS).into_owned(),
                source: source.clone(),
                labels: primary.into_iter().chain(secondary).collect(),
                help: Some(help),
            };
            let mut rendered = String::new();
            handler
                .render_report(&mut rendered, &view)
                .map_err(|e| io::Error::other(e.to_string()))?;
            writeln!(out, "{rendered}")?;
        }
    }
    let s = Summary::of(reports);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "{} checked: {}, {}",
        plural(s.files, "file"),
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    )
}

fn position(file: &SourceFile, span: Span) -> (usize, usize, usize, usize) {
    let start = file.line_col(span.start);
    let end = file.line_col(span.end);
    (start.line, start.column, end.line, end.column)
}

fn primary_span(d: &Diagnostic) -> Span {
    d.primary().map(|l| l.span).unwrap_or_default()
}

/// The JSON document of DESIGN.md §6 (a contract: fields are only ever added).
pub fn json_document(reports: &[FileReport]) -> Value {
    let diagnostics: Vec<Value> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |d| (r, d)))
        .map(|(r, d)| {
            let (line, column, end_line, end_column) = position(&r.file, primary_span(d));
            let labels: Vec<Value> = d
                .secondary()
                .iter()
                .map(|l: &Label| {
                    let (line, column, end_line, end_column) = position(&r.file, l.span);
                    json!({"message": elide(&l.message, MAX_TEXT_CHARS), "line": line, "column": column,
                           "end_line": end_line, "end_column": end_column})
                })
                .collect();
            json!({
                "file": r.file.name(),
                "code": d.code().as_str(),
                "severity": d.severity().as_str(),
                "message": elide(d.message(), MAX_TEXT_CHARS),
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": d.help().map(|h| elide(h, MAX_TEXT_CHARS)),
                "labels": labels,
            })
        })
        .collect();
    let s = Summary::of(reports);
    json!({
        "version": 1,
        "diagnostics": diagnostics,
        "summary": {"files": s.files, "errors": s.errors, "warnings": s.warnings},
    })
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn sarif_region(file: &SourceFile, span: Span) -> Value {
    let (line, column, end_line, end_column) = position(file, span);
    json!({"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column})
}

/// A SARIF 2.1.0 log with one run: every registered code as a rule, every finding as a result.
pub fn sarif_document(reports: &[FileReport]) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|&code| {
            let info = code.info();
            json!({
                "id": info.name,
                "name": info.name,
                "shortDescription": {"text": info.summary},
                "helpUri": format!("https://pexspec.dev/book/{}", code.book_path()),
                "defaultConfiguration": {"level": sarif_level(info.severity)},
                "properties": {"tags": [format!("{:?}", info.family).to_lowercase()]},
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |d| (r, d)))
        .map(|(r, d)| {
            let index = Code::ALL.iter().position(|&c| c == d.code()).unwrap_or(0);
            let uri = file_uri(r.file.name());
            let location = |span: Span| {
                json!({"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": sarif_region(&r.file, span),
                }})
            };
            let related: Vec<Value> = d
                .secondary()
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(l.span);
                    loc["id"] = json!(i + 1);
                    loc["message"] = json!({"text": elide(&l.message, MAX_TEXT_CHARS)});
                    loc
                })
                .collect();
            let text = match d.help() {
                Some(help) => format!(
                    "{}\nhelp: {}",
                    elide(d.message(), MAX_TEXT_CHARS),
                    elide(help, MAX_TEXT_CHARS)
                ),
                None => elide(d.message(), MAX_TEXT_CHARS).into_owned(),
            };
            let mut result = json!({
                "ruleId": d.code().as_str(),
                "ruleIndex": index,
                "level": sarif_level(d.severity()),
                "message": {"text": text},
                "locations": [location(primary_span(d))],
            });
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pexspec",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://pexspec.dev/book/",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A file name as a SARIF `artifactLocation.uri`: a relative reference for a relative path,
/// a `file://` URI for an absolute one, percent-encoded either way (RFC 3986).
fn file_uri(name: &str) -> String {
    let path = name.replace('\\', "/");
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    for r in reports {
        for d in &r.diagnostics {
            let (line, column, end_line, end_column) = position(&r.file, primary_span(d));
            let message = match d.help() {
                Some(help) => format!(
                    "{}\nhelp: {}",
                    elide(d.message(), MAX_TEXT_CHARS),
                    elide(help, MAX_TEXT_CHARS)
                ),
                None => elide(d.message(), MAX_TEXT_CHARS).into_owned(),
            };
            writeln!(
                out,
                "::{} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}",
                d.severity().as_str(),
                escape_property(r.file.name()),
                escape_property(&format!("pexspec {}", d.code())),
                escape_data(&message),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<FileReport> {
        let file = SourceFile::new("specs/a.yaml", "name: x\nregions:\n  - name: mars-1\n");
        let d = Diagnostic::new(Code::UnknownRegion, "`mars-1` is not an OCI region")
            .with_primary(Span::new(27, 33), "not a region")
            .with_secondary(Span::new(0, 4), "in this spec")
            .with_help("use a region identifier such as `eu-frankfurt-1`");
        vec![FileReport {
            file,
            diagnostics: vec![d],
        }]
    }

    #[test]
    fn json_has_the_contract_fields_with_one_based_positions() {
        let doc = json_document(&sample());
        let d = &doc["diagnostics"][0];
        assert_eq!(d["code"], "unknown-region");
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(3), Some(11))
        );
        assert_eq!(
            (d["end_line"].as_u64(), d["end_column"].as_u64()),
            (Some(3), Some(17))
        );
        assert_eq!(
            doc["summary"],
            json!({"files": 1, "errors": 1, "warnings": 0})
        );
    }

    #[test]
    fn github_commands_escape_separators() {
        let mut out = Vec::new();
        write(Format::Github, &sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("::error file=specs/a.yaml,line=3,col=11,"),
            "{text}"
        );
        assert!(text.contains("title=pexspec unknown-region::"));
        assert!(text.contains("%0Ahelp"), "newlines are escaped: {text}");
    }

    #[test]
    fn human_report_names_code_file_and_summary() {
        let mut out = Vec::new();
        write(Format::Human { color: false }, &sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("unknown-region"), "{text}");
        assert!(text.contains("specs/a.yaml:3:11"), "{text}");
        assert!(
            text.contains("1 file checked: 1 error, 0 warnings"),
            "{text}"
        );
    }

    /// A file whose third line holds a value of `n` characters, and a finding that quotes it
    /// and points at the key after it.
    fn huge(n: usize) -> (Vec<FileReport>, String) {
        let value = "é".repeat(n);
        let text = format!("version: 1\nname: x\nhostname: {{ a: {value}, b: 7 }}\nend: 1\n");
        let key = text.find("b: 7").unwrap();
        let d = Diagnostic::new(Code::InvalidValue, format!("`{value}` is not a host name"))
            .with_primary(Span::new(key, key + 1), "this key")
            .with_secondary(Span::new(0, 7), "here")
            .with_help(format!("shorten `{value}`"));
        let file = SourceFile::new("specs/a.yaml", text);
        (
            vec![FileReport {
                file,
                diagnostics: vec![d],
            }],
            value,
        )
    }

    #[test]
    fn a_huge_value_is_elided_in_every_report() {
        let (reports, value) = huge(1_000_000);
        for format in [
            Format::Human { color: false },
            Format::Json,
            Format::Sarif,
            Format::Github,
        ] {
            let mut out = Vec::new();
            write(format, &reports, &mut out).unwrap();
            let out = String::from_utf8(out).unwrap();
            // SARIF lists every rule: about 32 KiB whatever the findings.
            assert!(out.len() < 64 * 1024, "{format:?}: {} bytes", out.len());
            assert!(out.contains('…'), "{format:?}: {out}");
            assert!(!out.contains(&value[..2 * MAX_TEXT_CHARS]), "{format:?}");
        }
        // The human report still shows the place pointed at, on its line, with its number.
        let mut out = Vec::new();
        write(Format::Human { color: false }, &reports, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("b: 7 }"), "{out}");
        assert!(out.contains("this key"), "{out}");
        assert!(out.contains(" 3 │"), "{out}");
        // JSON positions are those of the original file.
        let doc = json_document(&reports);
        assert_eq!(doc["diagnostics"][0]["line"], 3);
        assert_eq!(doc["diagnostics"][0]["column"], 1_000_000 + 18);
    }

    #[test]
    fn elided_offsets_map_back_onto_the_same_text() {
        let (reports, _) = huge(5_000);
        let r = &reports[0];
        let elided = ElidedSource::new(&r.file, &r.diagnostics);
        let original = r.file.text();
        let key = original.find("b: 7").unwrap();
        let mapped = elided.map(key);
        assert_eq!(&elided.text[mapped..mapped + 4], "b: 7");
        assert_eq!(elided.map(5), 5);
        // Line breaks are kept: the same number of lines.
        assert_eq!(elided.text.lines().count(), original.lines().count());
        let end = original.find("end:").unwrap();
        assert_eq!(&elided.text[elided.map(end)..elided.map(end) + 4], "end:");
        // Short texts are not touched.
        assert_eq!(elide("short", MAX_TEXT_CHARS), "short");
        assert_eq!(elide(&"a".repeat(100), 21).chars().count(), 21);
    }
}
