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

/// A [`Diagnostic`] joined with its file, as miette wants to render it.
#[derive(Debug)]
struct MietteView<'a> {
    diagnostic: &'a Diagnostic,
    source: NamedSource<String>,
    help: Option<String>,
}

impl std::fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.diagnostic.message())
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
        let primary = self
            .diagnostic
            .primary()
            .map(|l| miette::LabeledSpan::new_primary_with_span(Some(l.message.clone()), l.span));
        let secondary = self
            .diagnostic
            .secondary()
            .iter()
            .map(|l| miette::LabeledSpan::new_with_span(Some(l.message.clone()), l.span));
        Some(Box::new(primary.into_iter().chain(secondary)))
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
        let source = NamedSource::new(report.file.name(), report.file.text().to_owned())
            .with_language("yaml");
        for diagnostic in &report.diagnostics {
            let code = diagnostic.code();
            let link = format!("see: https://pexspec.dev/book/{}", code.book_path());
            let help = match diagnostic.help() {
                Some(help) => format!("{help}\n{link}"),
                None => link,
            };
            let view = MietteView {
                diagnostic,
                source: source.clone(),
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
                    json!({"message": l.message, "line": line, "column": column,
                           "end_line": end_line, "end_column": end_column})
                })
                .collect();
            json!({
                "file": r.file.name(),
                "code": d.code().as_str(),
                "severity": d.severity().as_str(),
                "message": d.message(),
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": d.help(),
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
                    loc["message"] = json!({"text": l.message});
                    loc
                })
                .collect();
            let text = match d.help() {
                Some(help) => format!("{}\nhelp: {help}", d.message()),
                None => d.message().to_owned(),
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
                Some(help) => format!("{}\nhelp: {help}", d.message()),
                None => d.message().to_owned(),
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
}
