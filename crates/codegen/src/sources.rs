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
//! A vendor that publishes its API as several files names them, and how they make one document:
//!
//! ```toml
//! [[source]]
//! name = "api"
//! kind = "openapi"
//! url = "https://raw.githubusercontent.com/mattermost/mattermost/master/api/v4/source/"
//! pinned = "upstream/v4/source"         # a folder: the files below, byte for byte
//! join = "concatenate"                   # concatenate (the vendor's build `cat`s them) | references
//! files = [
//!     { path = "introduction.yaml", origin = "mattermost/mattermost api/v4/source/introduction.yaml @ 00b23b1c" },
//!     { path = "status.yaml" },
//!     { path = "definitions.yaml" },
//! ]
//! operations = ["GET /api/v4/users/{user_id}/status"]
//! ```
//!
//! `concatenate` joins the files' bytes in the listed order (as `cat` does); `references` reads
//! the first file as the document and follows its relative `$ref`s (`other.yaml#/x`,
//! `./schemas/a.yaml`) into the other listed files, bundling what they point at into one
//! document whose references are all local. Each file is read through the same `read` as a
//! single-file source ([`Source::part`]: its `pinned` is `pinned/<path>`, its `url` is `url` +
//! `path`), so a pinned copy, a `--sources` folder and a download all work alike.
//!
//! Two sources whose shared component differs (two generations of a vendor's converter) are
//! refused by the merge; when each definition is right for its own operations, one source gives
//! its own another name, every reference of its document following ([`Rename`]):
//!
//! ```toml
//! [[source]]
//! name = "change-notifications"
//! # ...
//! rename = { "responses/error" = "changeNotifications.error" }
//! ```
//!
//! And the pristine `openapi.yaml` built from it: each source's kept operations sliced out
//! ([`read_slices`]), merged ([`merge_slices`]) and written ([`to_yaml`] under [`header`]); the
//! complete API of the `full` feature ([`build_full_document`]).

pub use crate::regen::{
    Layout, Locate, MAX_SOURCE_BYTES, Part, SourceSlice, build_document, build_document_lenient,
    build_full_document, extract, header, merge_lenient, merge_slices, no_positions, read_slices,
    to_yaml,
};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

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
    /// The SHA-256 of the pinned copy's bytes (64 lower-case hex digits), as fetched: written
    /// by `regen --live` / `update`, checked by `regen` and `check` against the pinned copy.
    /// A source of several `files` has one per file instead.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Kept operations, as `METHOD /path`.
    pub operations: Vec<String>,
    /// This source's whole document is the vendor's complete API (the crates' `full` feature
    /// generates all of its operations). At most one source per vendor.
    #[serde(default)]
    pub full: bool,
    /// How the listed `files` make one document; absent for a source that is one file.
    #[serde(default)]
    pub join: Option<Join>,
    /// The files of a source published as several (with `join`), in order, each relative to
    /// `pinned` (a folder) and to `url` (its base).
    #[serde(default)]
    pub files: Vec<SourceFile>,
    /// Set by [`Source::part`]: the file's path relative to its source's folder (and `url`),
    /// which names it under a `--sources` folder and a `--mirror`.
    #[serde(skip)]
    pub fragment: Option<PathBuf>,
    /// `rename` as written: `"<section>/<name>" = "<new name>"`, with where each new name is.
    #[serde(default, rename = "rename")]
    rename_table: BTreeMap<String, Spanned<String>>,
    /// Components of this source's document given another name before it is sliced and merged
    /// (its `rename` table, checked), every `$ref` to them rewritten: see [`Rename`].
    #[serde(skip)]
    pub renames: Vec<Rename>,
}

/// The component sections a `rename` may name (OpenAPI 3.0's, and 3.1's `pathItems`).
pub const COMPONENT_SECTIONS: &[&str] = &[
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
];

/// One entry of a source's `rename` table: its document's `components/<section>/<from>` is
/// called `<to>` in the merged document, and every `$ref` of that document to it (or into it)
/// names the new one. For two sources whose components of one name differ (two generations of
/// a vendor's converter), so both can be merged without picking one definition silently.
///
/// ```toml
/// [[source]]
/// name = "change-notifications"
/// # ...
/// rename = { "responses/error" = "changeNotifications.error" }
/// ```
///
/// Refused (at the entry's line and column in sources.toml): a section that is no component
/// section, a new name that is not a component name (`^[a-zA-Z0-9._-]+$`) or equals the old,
/// two entries giving one new name; and when the documents are read, a component the source's
/// document does not define, and a new name its document, or any other source's document
/// (after that source's own renames), already defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The component section (`schemas`, `responses`, ...).
    pub section: String,
    /// The component's name in the vendor's document.
    pub from: String,
    /// Its name in the merged document.
    pub to: String,
    /// 1-based line of the new name in sources.toml.
    pub line: usize,
    /// 1-based column of the new name in sources.toml.
    pub column: usize,
}

impl Rename {
    /// JSON pointer of the component in the vendor's document.
    pub fn from_pointer(&self) -> String {
        crate::error::pointer(["components", self.section.as_str(), self.from.as_str()])
    }

    /// JSON pointer of the component in the merged document.
    pub fn to_pointer(&self) -> String {
        crate::error::pointer(["components", self.section.as_str(), self.to.as_str()])
    }
}

/// A component name OpenAPI allows (`^[a-zA-Z0-9\.\-_]+$`).
pub fn is_component_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// How the files of a source published as several make one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Join {
    /// Their bytes, joined in the listed order (the vendor's build `cat`s them: Mattermost's
    /// `api/v4/source/*.yaml`); every `$ref` is local to the joined document.
    Concatenate,
    /// The first file is the document; relative `$ref`s lead into the other listed files and
    /// are bundled into it.
    References,
}

/// One file of a source published as several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Relative to the source's `pinned` folder and its `url`: no `..`, not absolute, no URL.
    pub path: PathBuf,
    /// Human-readable provenance of this file: repository, path, commit.
    #[serde(default)]
    pub origin: Option<String>,
    /// The SHA-256 of this file's pinned copy, as fetched (see [`Source::sha256`]).
    #[serde(default)]
    pub sha256: Option<String>,
}

/// The most files a source may list.
pub const MAX_SOURCE_FILES: usize = 1000;

/// Why `path` (a file of a multi-file source, or the file part of a `$ref`) is not a plain
/// relative path inside the source's folder, if it is not: absolute, a URL, a `..` that leaves
/// the folder, empty. `None` when it is one.
pub fn unsafe_relative_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("is empty");
    }
    if path.contains('\\') {
        return Some("has a backslash (use `/`)");
    }
    if path.contains('\0') {
        return Some("has a NUL character");
    }
    if let Some(colon) = path.find(':') {
        // `https://`, `file:`, `C:`: anything with a scheme or drive
        if !path[..colon].contains('/') {
            return Some("is a URL or has a drive letter (only relative paths are read)");
        }
    }
    if path.starts_with('/') {
        return Some("is absolute (only paths relative to the source's folder are read)");
    }
    None
}

/// `path` (relative to the folder `base`, itself relative to the source's folder) resolved to a
/// path relative to the source's folder, `.` and `..` taken away; an error message when it
/// would leave that folder or is not a plain relative path.
pub fn resolve_relative(base: &Path, path: &str) -> std::result::Result<PathBuf, String> {
    if let Some(why) = unsafe_relative_path(path) {
        return Err(format!("`{path}` {why}"));
    }
    let mut parts: Vec<String> = Vec::new();
    for c in base.iter().map(|c| c.to_string_lossy().into_owned()) {
        parts.push(c);
    }
    for token in path.split('/') {
        match token {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{path}` leaves the source's folder"));
                }
            }
            t => parts.push(t.to_string()),
        }
    }
    if parts.is_empty() {
        return Err(format!("`{path}` names the source's folder, not a file"));
    }
    Ok(parts.iter().collect())
}

impl Source {
    /// The source a file of a multi-file source is read as: `pinned` and `url` point at the
    /// file, `origin` is the file's own (else the source's), and it lists no files. `index` is
    /// into [`Source::files`] (panics past its end: the index is the caller's, not input).
    pub fn part(&self, index: usize) -> Source {
        let file = &self.files[index];
        let rel = file.path.to_string_lossy().replace('\\', "/");
        let url = if self.url.ends_with('/') {
            format!("{}{rel}", self.url)
        } else {
            format!("{}/{rel}", self.url)
        };
        Source {
            name: format!("{}/{rel}", self.name),
            kind: self.kind,
            url,
            pinned: self.pinned.join(&file.path),
            origin: file.origin.clone().or_else(|| self.origin.clone()),
            sha256: file.sha256.clone(),
            operations: Vec::new(),
            full: false,
            join: None,
            files: Vec::new(),
            fragment: Some(PathBuf::from(rel)),
            rename_table: BTreeMap::new(),
            // the source's renames apply to the document its files make, not to one file
            renames: Vec::new(),
        }
    }

    /// The file name the document has under a `--sources DIR/<vendor>/` folder (and a
    /// `--mirror`'s `<vendor>/` folder): its pinned copy's file name, or for a file of a source
    /// published as several, its whole path relative to the source's folder (`schemas/a.yaml`:
    /// two files of one name in different folders are two files there too).
    pub fn file_name(&self) -> &str {
        if let Some(rel) = self.fragment.as_deref().and_then(Path::to_str) {
            return rel;
        }
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
    /// The sources.toml it was read from (errors about its `rename` tables name it).
    #[serde(skip)]
    pub file: PathBuf,
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

/// `doc` (read from `file`) sliced to `operations` as regen slices a source: the operations,
/// every `$ref` they reach, the document's `openapi`, `info`, `servers` and `security`. An
/// operation `doc` does not have is left out (a comparison reports it added or removed).
pub fn slice_to(
    doc: &serde_json::Value,
    operations: &[OperationKey],
    file: &Path,
) -> Result<serde_json::Value> {
    let mut missing = Vec::new();
    crate::slice::slice(doc, operations, file, Some(&mut missing))
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
        let mut sources: Sources = toml::from_str(text).map_err(|e| {
            let location = e
                .span()
                .map(|s| {
                    let (line, column) = crate::load::line_col(&text[..s.start]);
                    Location::LineColumn { line, column }
                })
                .unwrap_or(Location::File);
            Error::new(ErrorKind::Syntax, path, location, e.message().to_string())
        })?;
        sources.file = path.to_path_buf();
        for source in &mut sources.sources {
            source.renames = renames(source, text, path)?;
        }
        if sources.sources.iter().filter(|s| s.full).count() > 1 {
            return Err(Error::at(
                ErrorKind::Invalid,
                path,
                "/source",
                "more than one source is marked `full = true`",
            ));
        }
        for (i, source) in sources.sources.iter().enumerate() {
            validate_files(source, i, path)?;
            let hashes = std::iter::once((format!("/source/{i}/sha256"), &source.sha256)).chain(
                source
                    .files
                    .iter()
                    .enumerate()
                    .map(|(j, f)| (format!("/source/{i}/files/{j}/sha256"), &f.sha256)),
            );
            for (pointer, hash) in hashes {
                if let Some(hash) = hash
                    && !is_sha256(hash)
                {
                    return Err(Error::at(
                        ErrorKind::Invalid,
                        path,
                        pointer,
                        format!("{hash:?} is not a SHA-256 (64 lower-case hex digits)"),
                    ));
                }
            }
            if source.sha256.is_some() && !source.files.is_empty() {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    path,
                    format!("/source/{i}/sha256"),
                    "a source of several `files` has a `sha256` per file, not one for the source",
                ));
            }
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

/// A source's `rename` table, checked as far as sources.toml alone can say (what its document
/// defines is checked when it is read).
fn renames(source: &Source, text: &str, path: &Path) -> Result<Vec<Rename>> {
    let mut out: Vec<Rename> = Vec::new();
    for (key, to) in &source.rename_table {
        let (line, column) = crate::load::line_col(&text[..to.span().start.min(text.len())]);
        let refuse = |message: String| {
            Err(Error::new(
                ErrorKind::Invalid,
                path,
                Location::LineColumn { line, column },
                format!("source `{}`: rename {key:?}: {message}", source.name),
            ))
        };
        let Some((section, from)) = key.split_once('/') else {
            return refuse(format!(
                "write the component as `<section>/<name>` (`responses/error`), the section one of {}",
                COMPONENT_SECTIONS.join(", ")
            ));
        };
        if !COMPONENT_SECTIONS.contains(&section) {
            return refuse(format!(
                "`{section}` is no component section (one of {})",
                COMPONENT_SECTIONS.join(", ")
            ));
        }
        if from.is_empty() {
            return refuse("names no component".into());
        }
        let to = to.get_ref();
        if !is_component_name(to) {
            return refuse(format!(
                "the new name {to:?} is not a component name (letters, digits, `.`, `-`, `_`)"
            ));
        }
        if to == from {
            return refuse("the new name is the old one".into());
        }
        if let Some(other) = out.iter().find(|r| r.section == section && r.to == *to) {
            return refuse(format!(
                "`{section}/{}` is renamed `{to}` too: two components cannot take one name",
                other.from
            ));
        }
        out.push(Rename {
            section: section.to_string(),
            from: from.to_string(),
            to: to.clone(),
            line,
            column,
        });
    }
    Ok(out)
}

/// `s` is a SHA-256 as sources.toml records it: 64 lower-case hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Sources {
    /// Which source, and which of its `files`, a source read as [`Source::part`] names
    /// (`"<source>/<path>"`), or a source itself (`"<source>"`, file `None`).
    pub fn position_of(&self, read: &Source) -> Option<(usize, Option<usize>)> {
        self.sources.iter().enumerate().find_map(|(i, s)| {
            if s.name == read.name && s.pinned == read.pinned {
                return Some((i, None));
            }
            (0..s.files.len())
                .find(|&j| {
                    let part = s.part(j);
                    part.name == read.name && part.pinned == read.pinned
                })
                .map(|j| (i, Some(j)))
        })
    }
}

/// A source's `join` and `files` agree, and every file is a plain relative path, listed once.
fn validate_files(source: &Source, i: usize, path: &Path) -> Result<()> {
    let bad = |pointer: String, message: String| {
        Err(Error::at(ErrorKind::Invalid, path, pointer, message))
    };
    match (source.join, source.files.is_empty()) {
        (None, true) => return Ok(()),
        (None, false) => {
            return bad(
                format!("/source/{i}/files"),
                "`files` needs `join` (\"concatenate\" or \"references\"): how they make one document".into(),
            );
        }
        (Some(_), true) => {
            return bad(
                format!("/source/{i}/join"),
                "`join` needs the list of `files`".into(),
            );
        }
        (Some(_), false) => {}
    }
    if source.kind == SourceKind::DocsPage {
        return bad(
            format!("/source/{i}/kind"),
            "a docs page is one file: `files` is for documents published as several".into(),
        );
    }
    if source.files.len() > MAX_SOURCE_FILES {
        return bad(
            format!("/source/{i}/files"),
            format!("{} files; at most {MAX_SOURCE_FILES}", source.files.len()),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (j, file) in source.files.iter().enumerate() {
        let text = file.path.to_string_lossy();
        let resolved = match resolve_relative(Path::new(""), &text) {
            Ok(r) => r,
            Err(why) => return bad(format!("/source/{i}/files/{j}/path"), why),
        };
        if resolved != file.path {
            return bad(
                format!("/source/{i}/files/{j}/path"),
                format!(
                    "`{text}` is not written plainly: write `{}`",
                    resolved.display()
                ),
            );
        }
        if !seen.insert(resolved) {
            return bad(
                format!("/source/{i}/files/{j}/path"),
                format!("`{text}` is listed twice"),
            );
        }
    }
    Ok(())
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

    #[test]
    fn files_of_a_source_are_plain_relative_paths_listed_once_with_a_join() {
        let parse = |extra: &str| {
            Sources::parse(
                &format!(
                    "vendor = \"v\"\n[[source]]\nname = \"a\"\nkind = \"openapi\"\nurl = \"https://x/api\"\npinned = \"upstream/api\"\noperations = []\n{extra}"
                ),
                Path::new("sources.toml"),
            )
        };
        let s = parse("join = \"concatenate\"\nfiles = [{ path = \"intro.yaml\", origin = \"o @ 1\" }, { path = \"sub/defs.yaml\" }]\n").unwrap();
        let part = s.sources[0].part(1);
        assert_eq!(part.pinned, Path::new("upstream/api/sub/defs.yaml"));
        assert_eq!(part.url, "https://x/api/sub/defs.yaml");
        assert_eq!(part.origin, None);
        assert_eq!(s.sources[0].part(0).origin.as_deref(), Some("o @ 1"));
        // under `--sources` and a mirror: the whole relative path, not the bare name
        assert_eq!(part.file_name(), "sub/defs.yaml");
        assert_eq!(s.sources[0].part(0).file_name(), "intro.yaml");
        assert_eq!(s.position_of(&part), Some((0, Some(1))));
        assert_eq!(s.position_of(&s.sources[0]), Some((0, None)));
        // two files of one name in different folders are two files
        let s = parse("join = \"references\"\nfiles = [{ path = \"openapi.yaml\" }, { path = \"a/common.yaml\" }, { path = \"b/common.yaml\", sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\" }]\n").unwrap();
        assert_ne!(
            s.sources[0].part(1).file_name(),
            s.sources[0].part(2).file_name()
        );
        assert_eq!(
            s.sources[0].part(2).sha256.as_deref().map(str::len),
            Some(64)
        );
        assert_eq!(s.position_of(&s.sources[0].part(2)), Some((0, Some(2))));
        // a hash is 64 lower-case hex digits, one per file of a several-file source
        for (extra, pointer) in [
            ("sha256 = \"ABC\"\n", "/source/0/sha256"),
            (
                "join = \"references\"\nfiles = [{ path = \"a.yaml\", sha256 = \"x\" }]\n",
                "/source/0/files/0/sha256",
            ),
            (
                "sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\njoin = \"references\"\nfiles = [{ path = \"a.yaml\" }]\n",
                "/source/0/sha256",
            ),
        ] {
            let e = parse(extra).unwrap_err();
            assert_eq!(
                e.location,
                Location::Pointer(pointer.into()),
                "{extra}: {e}"
            );
        }
        for (extra, pointer, why) in [
            (
                "files = [{ path = \"a.yaml\" }]\n",
                "/source/0/files",
                "needs `join`",
            ),
            (
                "join = \"references\"\n",
                "/source/0/join",
                "needs the list",
            ),
            (
                "join = \"references\"\nfiles = [{ path = \"../../etc/passwd\" }]\n",
                "/source/0/files/0/path",
                "leaves",
            ),
            (
                "join = \"references\"\nfiles = [{ path = \"/etc/passwd\" }]\n",
                "/source/0/files/0/path",
                "absolute",
            ),
            (
                "join = \"references\"\nfiles = [{ path = \"https://evil/x\" }]\n",
                "/source/0/files/0/path",
                "URL",
            ),
            (
                "join = \"references\"\nfiles = [{ path = \"./a.yaml\" }]\n",
                "/source/0/files/0/path",
                "write `a.yaml`",
            ),
            (
                "join = \"references\"\nfiles = [{ path = \"a.yaml\" }, { path = \"a.yaml\" }]\n",
                "/source/0/files/1/path",
                "twice",
            ),
        ] {
            let e = parse(extra).unwrap_err();
            assert_eq!(e.pointer(), Some(pointer), "{extra}: {e}");
            assert!(e.message.contains(why), "{extra}: {e}");
        }
        let e = parse("join = \"glue\"\nfiles = []\n").unwrap_err();
        assert!(
            matches!(e.location, Location::LineColumn { line: 8, .. }),
            "{e}"
        );
    }
}
