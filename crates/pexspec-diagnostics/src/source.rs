//! Byte spans into a source file, and the mapping from byte offsets to lines and columns.

use std::sync::Arc;

use serde::Serialize;

/// A half-open byte range `start..end` into one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// The range `start..end` (swapped if given backwards).
    pub fn new(start: usize, end: usize) -> Self {
        if end < start {
            Self {
                start: end,
                end: start,
            }
        } else {
            Self { start, end }
        }
    }

    /// An empty span at `offset`.
    pub fn point(offset: usize) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// A 1-based line and column (the column counts characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in Unicode scalar values.
    pub column: usize,
}

/// The text of one file, its display name, and an index of its line starts.
#[derive(Clone, Debug)]
pub struct SourceFile {
    name: Arc<str>,
    text: Arc<str>,
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    /// Wraps `text` read from the file shown to users as `name`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The name shown to users (the path as given on the command line).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text covered by `span`, or `""` when the span is out of range.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// The 1-based line and column of byte `offset` (clamped to the text, and moved back to
    /// a character boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        LineCol { line, column }
    }

    /// The byte offset of 1-based `line` and `column` (characters); clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&line_start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[line_start..];
        let line_text = rest.split('\n').next().unwrap_or("");
        line_start
            + line_text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(line_text.len(), |(i, _)| i)
    }

    /// A copy of this file where the bytes of every span in `spans` are replaced by `*`
    /// (keeping character boundaries and line breaks), so that a secret written in clear in
    /// a spec is never echoed back by a diagnostic.
    pub fn redacted(&self, spans: &[Span]) -> Self {
        if spans.is_empty() {
            return self.clone();
        }
        let mut out = String::with_capacity(self.text.len());
        for (i, ch) in self.text.char_indices() {
            let hidden = spans.iter().any(|s| s.start <= i && i < s.end) && ch != '\n';
            if hidden {
                out.extend(std::iter::repeat_n('*', ch.len_utf8()));
            } else {
                out.push(ch);
            }
        }
        Self {
            name: self.name.clone(),
            text: out.into(),
            line_starts: self.line_starts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let file = SourceFile::new("a.yaml", "ab\ncé d\n");
        assert_eq!(file.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(3), LineCol { line: 2, column: 1 });
        // `d` is the 4th character of line 2 but its 5th byte.
        assert_eq!(file.line_col(7), LineCol { line: 2, column: 4 });
        assert_eq!(file.offset_of(2, 4), 7);
        assert_eq!(file.line_col(999), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn redaction_hides_bytes_but_keeps_offsets() {
        let file = SourceFile::new("a.yaml", "pin: é123\nx: 1\n");
        let red = file.redacted(&[Span::new(5, 10)]);
        assert_eq!(red.text().len(), file.text().len());
        assert!(!red.text().contains("123"));
        assert!(red.text().ends_with("\nx: 1\n"));
    }
}
