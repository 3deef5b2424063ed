//! Load-time problems, printed rustc-style with file, line, source line and caret.

use std::fmt;
use std::path::PathBuf;

/// One problem in a mapping or schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as it was named when loaded.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field's path in the file (`methods.create.body.emial`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// A hint shown under the caret (`did you mean `emails`?`).
    pub hint: Option<String>,
    /// The source line, for display.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// The one-line form, for logs and HTTP bodies: `file:line:col: message (field `x`)`.
    pub fn one_line(&self) -> String {
        let mut line = format!(
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        );
        if let Some(hint) = &self.hint {
            line.push_str(&format!("; {hint}"));
        }
        if !self.field.is_empty() {
            line.push_str(&format!(" (field `{}`)", self.field));
        }
        line
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        writeln!(f, "error: {}", self.message)?;
        writeln!(
            f,
            "{pad}--> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        if let Some(source) = &self.source_line {
            let caret_at = self.column.saturating_sub(1);
            let rest: String = source.chars().skip(caret_at).collect();
            let width = token_width(&rest).max(1);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{number} | {source}")?;
            write!(f, "{pad} | {}{}", " ".repeat(caret_at), "^".repeat(width))?;
            match &self.hint {
                Some(hint) => writeln!(f, " {hint}")?,
                None => writeln!(f)?,
            }
        } else if let Some(hint) = &self.hint {
            writeln!(f, "{pad} = help: {hint}")?;
        }
        if !self.field.is_empty() {
            writeln!(f, "{pad} = field: {}", self.field)?;
        }
        Ok(())
    }
}

/// The width of the key or word starting a line fragment.
fn token_width(text: &str) -> usize {
    text.chars()
        .take_while(|c| !c.is_whitespace() && *c != ':' && *c != ',' && *c != '}')
        .count()
}

/// Every problem found while loading, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "error: could not load mappings due to {n} previous error{}",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// Builds diagnostics for one file.
pub(crate) struct Reporter<'a> {
    file: &'a crate::source::SourceFile,
    index: &'a crate::source::PositionIndex,
    found: &'a mut Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    /// A reporter that appends to `found`.
    pub(crate) fn new(
        file: &'a crate::source::SourceFile,
        index: &'a crate::source::PositionIndex,
        found: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Reporter { file, index, found }
    }

    /// Reports a problem at a JSON pointer into the file.
    pub(crate) fn at(&mut self, pointer: &str, message: impl Into<String>, hint: Option<String>) {
        let (line, column) = self.index.locate(pointer);
        self.found.push(diagnostic(
            self.file,
            line,
            column,
            pointer,
            message.into(),
            hint,
        ));
    }
}

/// A diagnostic at a known line and column.
pub(crate) fn diagnostic(
    file: &crate::source::SourceFile,
    line: usize,
    column: usize,
    pointer: &str,
    message: String,
    hint: Option<String>,
) -> Diagnostic {
    Diagnostic {
        file: file.path.clone(),
        line,
        column,
        field: dotted(pointer),
        message,
        hint,
        source_line: file
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .map(str::to_owned),
    }
}

/// `/methods/create/steps/0/id` as `methods.create.steps[0].id`.
pub(crate) fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// The closest candidate to `name` by edit distance, when close enough to be a typo.
pub(crate) fn did_you_mean<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rustc_style() {
        let d = Diagnostic {
            file: "mappings/acme/ats/candidates.yaml".into(),
            line: 41,
            column: 9,
            field: "methods.create.body.emial".into(),
            message: "unknown unified field `emial`".into(),
            hint: Some("did you mean `emails`?".into()),
            source_line: Some("        emial: { support: supported }".into()),
        };
        assert_eq!(
            d.to_string(),
            "error: unknown unified field `emial`\n  --> mappings/acme/ats/candidates.yaml:41:9\n   |\n41 |         emial: { support: supported }\n   |         ^^^^^ did you mean `emails`?\n   = field: methods.create.body.emial\n"
        );
        assert_eq!(
            d.one_line(),
            "mappings/acme/ats/candidates.yaml:41:9: unknown unified field `emial`; did you mean `emails`? (field `methods.create.body.emial`)"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("emial", ["emails", "phones"]),
            Some("did you mean `emails`?".into())
        );
        assert_eq!(did_you_mean("zzzzzz", ["emails", "phones"]), None);
        assert_eq!(
            dotted("/methods/create/steps/0/id"),
            "methods.create.steps[0].id"
        );
    }
}
