//! `specs/<vendor>/sources.toml`: where each piece of a vendor's documentation comes from.
//!
//! ```toml
//! vendor = "rocketchat"
//!
//! [[source]]
//! name = "omnichannel"
//! kind = "openapi"                      # openapi | docs-page | hand-written
//! url = "https://raw.githubusercontent.com/RocketChat/Rocket.Chat-Open-API/main/omnichannel.yaml"
//! pinned = "upstream/omnichannel.yaml"  # relative to specs/<vendor>/
//! origin = "RocketChat/Rocket.Chat-Open-API omnichannel.yaml @ c9aec5ab (2026-08-20)"
//! operations = ["GET /api/v1/livechat/users/{type}"]
//! ```
//!
//! And the pristine `openapi.yaml` built from it: each source's kept operations sliced out
//! ([`read_slices`]), merged ([`merge_slices`]) and written ([`to_yaml`] under [`header`]); the
//! complete API of the `full` feature ([`build_full_document`]).

pub use crate::regen::{
    Locate, SourceSlice, build_document, build_document_lenient, build_full_document, extract,
    header, merge_lenient, merge_slices, no_positions, read_slices, to_yaml,
};

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Location, Result};

/// How a source's OpenAPI document is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A plain OpenAPI file (JSON or YAML).
    Openapi,
    /// A documentation page embedding the spec in a fenced block.
    DocsPage,
    /// A definition written by this project for a page that carries no machine-readable spec;
    /// `pinned` is the hand-written file, `url` the page it transcribes.
    HandWritten,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// One vendor document: where it is published, its pinned copy, and the operations kept from it.
pub struct Source {
    /// Short name, unique within the vendor.
    pub name: String,
    /// What kind of document it is (how its OpenAPI text is found).
    pub kind: SourceKind,
    /// Where the vendor publishes it today (used by `--live`).
    pub url: String,
    /// The pinned copy, relative to the vendor's spec folder.
    pub pinned: PathBuf,
    /// Human-readable provenance: repository, path, commit, date.
    #[serde(default)]
    pub origin: Option<String>,
    /// Kept operations, as `METHOD /path`.
    pub operations: Vec<String>,
    /// This source's whole document is the vendor's complete API (the crates' `full` feature
    /// generates all of its operations). At most one source per vendor.
    #[serde(default)]
    pub full: bool,
}

impl Source {
    /// The file name the document has under a `--sources DIR/<vendor>/` folder.
    pub fn file_name(&self) -> &str {
        self.pinned
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(self.name.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// A vendor's `sources.toml`.
pub struct Sources {
    /// The vendor's folder name under `specs/`.
    pub vendor: String,
    #[serde(rename = "source")]
    /// Its documents (`[[source]]` tables), in merge order.
    pub sources: Vec<Source>,
}

/// An operation key: upper-case method and path, e.g. `GET /status/{agentId}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperationKey {
    /// Upper-case method (`GET`).
    pub method: String,
    /// The path template (`/status/{agentId}`).
    pub path: String,
}

impl std::fmt::Display for OperationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

impl OperationKey {
    /// Parse `METHOD /path` (any case of method); `None` if it is not one.
    pub fn parse(s: &str) -> Option<Self> {
        let (method, path) = s.trim().split_once(' ')?;
        let method = method.trim().to_ascii_lowercase();
        let path = path.trim();
        (crate::nav::is_method(&method) && path.starts_with('/')).then(|| Self {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
        })
    }
}

impl Sources {
    /// Read and parse the `sources.toml` at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::load::read(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::new(ErrorKind::Syntax, path, Location::File, "not valid UTF-8"))?;
        Self::parse(&text, path)
    }

    /// Parse `text`, the contents of `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let sources: Sources = toml::from_str(text).map_err(|e| {
            let location = e
                .span()
                .map(|s| {
                    let (line, column) = crate::load::line_col(&text[..s.start]);
                    Location::LineColumn { line, column }
                })
                .unwrap_or(Location::File);
            Error::new(ErrorKind::Syntax, path, location, e.message().to_string())
        })?;
        if sources.sources.iter().filter(|s| s.full).count() > 1 {
            return Err(Error::at(
                ErrorKind::Invalid,
                path,
                "/source",
                "more than one source is marked `full = true`",
            ));
        }
        for (i, source) in sources.sources.iter().enumerate() {
            for (j, op) in source.operations.iter().enumerate() {
                if OperationKey::parse(op).is_none() {
                    return Err(Error::at(
                        ErrorKind::Invalid,
                        path,
                        format!("/source/{i}/operations/{j}"),
                        format!("{op:?} is not `METHOD /path`"),
                    ));
                }
            }
        }
        Ok(sources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let s = Sources::parse(
            "vendor = \"v\"\n[[source]]\nname = \"a\"\nkind = \"docs-page\"\nurl = \"https://x\"\npinned = \"upstream/a.md\"\noperations = [\"post /x\"]\n",
            Path::new("sources.toml"),
        )
        .unwrap();
        assert_eq!(s.sources[0].kind, SourceKind::DocsPage);
        assert_eq!(s.sources[0].file_name(), "a.md");
        assert_eq!(
            OperationKey::parse(&s.sources[0].operations[0])
                .unwrap()
                .to_string(),
            "POST /x"
        );

        let e = Sources::parse(
            "vendor = \"v\"\n[[source]]\nname = \"a\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"p\"\noperations = [\"FETCH x\"]\n",
            Path::new("sources.toml"),
        )
        .unwrap_err();
        assert_eq!(e.pointer(), Some("/source/0/operations/0"));

        let e = Sources::parse(
            "vendor = \"v\"\n[[source]]\nkind = \"nope\"\n",
            Path::new("s.toml"),
        )
        .unwrap_err();
        assert!(
            matches!(e.location, Location::LineColumn { line: 3, .. }),
            "{e}"
        );
    }
}
