//! One error type for everything codegen reads: it always names the file and, where it can, the
//! place inside it (a line and column for syntax errors, a JSON pointer for everything after parsing).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where inside a file an [`Error`] happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (it could not be read, say).
    File,
    /// A syntax error: 1-based line and column.
    LineColumn {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A JSON pointer (RFC 6901) into the parsed document, e.g. `/paths/~1status/get`.
    Pointer(String),
    /// A JSON pointer into the document as prepared for the generator (after the passes and the
    /// overlay), not into the file as written: a pass may have moved or renamed what it names.
    Prepared(String),
}

/// What kind of problem an [`Error`] is, for callers that branch on it (exit codes, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The file is not valid JSON / YAML / TOML, or a docs page holds no usable spec.
    Syntax,
    /// The document parses but is not a valid OpenAPI 3.0 document (or overlay, or sources.toml).
    Invalid,
    /// A `$ref` points at nothing.
    BrokenRef,
    /// An overlay action failed (bad JSONPath, or a target that matches nothing).
    Overlay,
    /// The generator (progenitor/typify) could not handle a valid document.
    Unsupported,
}

/// An error naming the file, the place inside it and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The file it is about.
    pub file: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// What was wrong.
    pub message: String,
    /// More lines under the message (each problem of several), each written on its own
    /// indented line and, like the message, made visible (a line break inside one is escaped).
    pub details: Vec<String>,
}

impl Error {
    /// An error at `location` of `file`.
    pub fn new(
        kind: ErrorKind,
        file: impl AsRef<Path>,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            file: file.as_ref().to_path_buf(),
            location,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// The same error with `details` under its message, one line each.
    pub fn with_details(mut self, details: impl IntoIterator<Item = String>) -> Self {
        self.details.extend(details);
        self
    }

    /// An error at JSON pointer `pointer` of `file` (the whole file when `pointer` is empty).
    pub fn at(
        kind: ErrorKind,
        file: impl AsRef<Path>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(kind, file, Location::Pointer(pointer.into()), message)
    }

    /// The JSON pointer, if the error has one (into the file, or into the prepared document).
    pub fn pointer(&self) -> Option<&str> {
        match &self.location {
            Location::Pointer(p) | Location::Prepared(p) => Some(p),
            _ => None,
        }
    }

    /// The same error, its pointer read as one into the prepared document (the generator saw
    /// the document after the passes, not the file).
    pub(crate) fn after_passes(mut self) -> Self {
        if let Location::Pointer(p) = self.location {
            self.location = Location::Prepared(p);
        }
        self
    }
}

/// One visible line: the file, the pointer and the message quote what a document names (a
/// path, a component's or a scheme's name, a `$ref`), so each is written through
/// [`crate::reason::visible`] (control, bidi and line-separator characters as `\u{..}`), as
/// every other reason is; the fields themselves stay as they are (a pointer finds the place).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = crate::reason::visible(&self.file.display().to_string());
        let message = crate::reason::visible(&self.message);
        self.write_located(f, &file, &message)?;
        for d in &self.details {
            write!(f, "\n  {}", crate::reason::visible(d))?;
        }
        Ok(())
    }
}

impl Error {
    fn write_located(&self, f: &mut fmt::Formatter<'_>, file: &str, message: &str) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{file}: {message}"),
            Location::LineColumn { line, column } => {
                write!(f, "{file}:{line}:{column}: {message}")
            }
            Location::Pointer(p) if p.is_empty() => write!(f, "{file}: at /: {message}"),
            Location::Pointer(p) => {
                write!(f, "{file}: at {}: {message}", crate::reason::visible(p))
            }
            Location::Prepared(p) => {
                let p = if p.is_empty() { "/" } else { p };
                write!(
                    f,
                    "{file}: at {} of the prepared document: {message}",
                    crate::reason::visible(p)
                )
            }
        }
    }
}

impl std::error::Error for Error {}

/// The codegen's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Escape one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Build a JSON pointer from reference tokens.
pub fn pointer<I, S>(tokens: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    tokens
        .into_iter()
        .map(|t| format!("/{}", escape_token(t.as_ref())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_lines_of_their_own_and_a_line_break_inside_one_is_escaped() {
        let e = Error::new(
            ErrorKind::Invalid,
            "specs/x",
            Location::File,
            "two problems:",
        )
        .with_details([
            "a.yaml:1:1: first".to_string(),
            "b\ncargo::warning=x".to_string(),
        ]);
        assert_eq!(
            e.to_string(),
            "specs/x: two problems:\n  a.yaml:1:1: first\n  b\\u{000a}cargo::warning=x"
        );
        // the message itself stays one line
        let one = Error::new(ErrorKind::Invalid, "f", Location::File, "a\nb");
        assert_eq!(one.to_string(), "f: a\\u{000a}b");
    }
}
