//! Building `specs/<vendor>/openapi.yaml` from the vendor's sources: extract each source's
//! document, slice it to the kept operations, merge. Pure: the caller supplies the bytes of each
//! source (pinned copy, a `--sources` folder, or a download), so this runs without network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, ErrorKind, Location, Result};
use crate::sources::{OperationKey, Source, SourceKind, Sources};

mod parts;
mod rename;

pub use parts::{Layout, MAX_REFERENCED_FILES, MAX_SOURCE_BYTES, Part, bundle_file};

/// The document of one source, with the name it is reported under.
pub fn extract(source: &Source, bytes: &[u8], origin: &Path) -> Result<Value> {
    let mut doc = match source.kind {
        SourceKind::Openapi | SourceKind::HandWritten => crate::load::parse_bytes(bytes, origin)?,
        SourceKind::DocsPage => {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                Error::new(
                    ErrorKind::Syntax,
                    origin,
                    Location::File,
                    "docs page is not valid UTF-8",
                )
            })?;
            crate::extract::from_docs_page(text, origin)?
        }
    };
    // Swagger 2.0 is read as the OpenAPI 3.0 document it converts to, here as in the generator
    crate::swagger2::upgrade(&mut doc, origin)?;
    if !doc.is_object() || doc.get("paths").is_none() {
        return Err(Error::at(
            ErrorKind::Invalid,
            origin,
            "",
            "not an OpenAPI document (no `paths`)",
        ));
    }
    Ok(doc)
}

/// Where JSON pointers are in the bytes of a source of some kind: 1-based line and column of
/// each pointer found. The errors of [`read_slices`] and [`merge_slices`] name the
/// `file:line:col` of what they are about with it. Codegen has no position parser of its own
/// (the build script never needs one): the drift engine's `positions_in_source` is one, and
/// [`no_positions`] names the file only.
pub type Locate = fn(SourceKind, &[u8], &[&str]) -> BTreeMap<String, (usize, usize)>;

/// A [`Locate`] that finds nothing: errors name the file and the JSON pointer.
pub fn no_positions(_: SourceKind, _: &[u8], _: &[&str]) -> BTreeMap<String, (usize, usize)> {
    BTreeMap::new()
}

/// Build the merged, sliced document. `read` returns each source's bytes and the path to name
/// in errors; `locate` finds the line and column errors name. A kept operation missing from its
/// source is an error.
pub fn build_document(
    sources: &Sources,
    spec_file: &Path,
    read: impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
    locate: Locate,
) -> Result<Value> {
    build(sources, spec_file, read, None, locate)
}

/// As [`build_document`], but a kept operation missing from its source is left out and returned
/// (the drift check reports it as removed).
pub fn build_document_lenient(
    sources: &Sources,
    spec_file: &Path,
    read: impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
    locate: Locate,
) -> Result<(Value, Vec<OperationKey>)> {
    let mut missing = Vec::new();
    let doc = build(sources, spec_file, read, Some(&mut missing), locate)?;
    Ok((doc, missing))
}

fn build(
    sources: &Sources,
    _spec_file: &Path,
    read: impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
    missing: Option<&mut Vec<OperationKey>>,
    locate: Locate,
) -> Result<Value> {
    merge_slices(&read_slices(sources, read, missing, locate)?, locate)
}

/// One source, read, extracted and sliced to its kept operations.
#[derive(Debug, Clone)]
pub struct SourceSlice {
    /// The source, as sources.toml declares it.
    pub source: Source,
    /// Where the bytes came from (pinned copy, `--sources` file, URL): the name findings and
    /// errors give.
    pub origin: PathBuf,
    /// The document's bytes as read.
    pub bytes: Vec<u8>,
    /// What the source's whole document says about authentication: its root `security`, its
    /// `components/securitySchemes` and each operation's `security` (for the drift check's diff
    /// of security schemes no operation applies; the whole document is not kept).
    pub security: Value,
    /// The document sliced to the source's kept operations.
    pub slice: Value,
    /// The files of a source published as several ([`Source::files`]), as read, in order;
    /// empty for a source that is one file (`bytes` is then that file). `bytes` is the
    /// document they make (the joined text, or the bundled document as JSON).
    pub parts: Vec<Part>,
    /// Where each part of `bytes` came from.
    pub layout: Layout,
}

impl SourceSlice {
    /// Line and column of `pointer` in this source's document, if `locate` finds it.
    fn position(&self, pointer: &str, locate: Locate) -> Option<(usize, usize)> {
        match self.place(pointer, locate).1 {
            Location::LineColumn { line, column } => Some((line, column)),
            _ => None,
        }
    }

    /// The vendor file `pointer` (into this source's document) is written in, and where: its
    /// line and column when `locate` finds it (else the pointer). For a source published as
    /// several files, the file it is in and the line and column in that file.
    pub fn place(&self, pointer: &str, locate: Locate) -> (PathBuf, Location) {
        let written = self.written_pointer(pointer);
        let pointer = written.as_str();
        parts::position_in(
            &self.layout,
            &self.parts,
            &self.origin,
            &self.bytes,
            self.source.kind,
            pointer,
            locate,
        )
    }

    /// Where `pointer` (into the document as renamed by the source's `rename` table) is in the
    /// vendor's document as written: a renamed component's pointer names its old name.
    pub fn written_pointer(&self, pointer: &str) -> String {
        for r in &self.source.renames {
            let new = r.to_pointer();
            if let Some(rest) = pointer.strip_prefix(&new)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return format!("{}{rest}", r.from_pointer());
            }
        }
        pointer.to_string()
    }

    /// The source's whole document (not only its slice), as regen reads it: its `rename`
    /// table applied.
    pub fn document(&self) -> Result<Value> {
        let mut doc = extract(&self.source, &self.bytes, &self.origin)?;
        rename::apply(&mut doc, &self.source.renames);
        Ok(doc)
    }

    /// `origin:line:col` of one pointer (or just the origin).
    fn describe(&self, pointer: &str, locate: Locate) -> String {
        match self.place(pointer, locate) {
            (file, Location::LineColumn { line, column }) => {
                format!("{}:{line}:{column}", file.display())
            }
            (file, _) => file.display().to_string(),
        }
    }
}

/// A source's document: its file, or the document its files make; with the files and where
/// each part came from. Errors in the joined text are named at the file and line they are in.
fn read_source(
    source: &Source,
    read: &mut impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
    locate: Locate,
) -> Result<(Value, parts::Assembled)> {
    let assembled = parts::assemble(source, read, locate)?;
    let doc = extract(source, &assembled.bytes, &assembled.origin).map_err(|e| {
        match (&assembled.layout, &e.location) {
            (Layout::Joined(starts), Location::LineColumn { line, column }) => {
                match Layout::joined_position(starts, (*line, *column)) {
                    Some((i, (line, column))) => Error::new(
                        e.kind,
                        &assembled.parts[i].origin,
                        Location::LineColumn { line, column },
                        e.message.clone(),
                    ),
                    None => e,
                }
            }
            (Layout::Single, _) => e,
            (_, Location::Pointer(p)) => {
                let (file, location) = assembled.position(source.kind, p, locate);
                Error::new(e.kind, file, location, e.message.clone())
            }
            _ => e,
        }
    })?;
    Ok((doc, assembled))
}

/// Read, extract and slice every source. A kept operation missing from its source is an error,
/// unless `missing` collects it. `locate` finds the line and column an error names.
pub fn read_slices(
    sources: &Sources,
    mut read: impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
    mut missing: Option<&mut Vec<OperationKey>>,
    locate: Locate,
) -> Result<Vec<SourceSlice>> {
    let mut read_all = Vec::new();
    for source in &sources.sources {
        read_all.push(read_source(source, &mut read, locate)?);
    }
    renamed(sources, &mut read_all)?;
    let mut out = Vec::new();
    for (source, (doc, assembled)) in sources.sources.iter().zip(read_all) {
        let parts::Assembled {
            bytes,
            origin,
            parts,
            layout,
        } = assembled;
        let ops: Vec<OperationKey> = source
            .operations
            .iter()
            .filter_map(|o| OperationKey::parse(o))
            .collect();
        let slice = crate::slice::slice(&doc, &ops, &origin, missing.as_deref_mut())?;
        // what the generator will be given (the whole document of the `full` source) must be
        // one it can build: regen never writes, and `update` never pins, one that is not
        let built = if source.full { &doc } else { &slice };
        let problem = crate::nav::check_ref_graph(built).err();
        let read = SourceSlice {
            source: source.clone(),
            origin,
            bytes,
            security: security_skeleton(&doc),
            slice,
            parts,
            layout,
        };
        if let Some(p) = problem {
            let at = read.describe(&p.pointer, locate);
            return Err(Error::at(
                ErrorKind::BrokenRef,
                &read.origin,
                p.pointer,
                format!(
                    "{} ({at}): the generator cannot build this document",
                    p.message
                ),
            ));
        }
        out.push(read);
    }
    Ok(out)
}

/// Every source's `rename` table checked against the documents read (`docs[i]` is source
/// `i`'s) and applied.
fn renamed<A>(sources: &Sources, docs: &mut [(Value, A)]) -> Result<()> {
    if sources.sources.iter().all(|s| s.renames.is_empty()) {
        return Ok(());
    }
    rename::check(sources, &docs.iter().map(|(d, _)| d).collect::<Vec<_>>())?;
    for (source, (doc, _)) in sources.sources.iter().zip(docs.iter_mut()) {
        rename::apply(doc, &source.renames);
    }
    Ok(())
}

/// The parts of `doc` that say who must authenticate how.
fn security_skeleton(doc: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(s) = doc.get("security") {
        out.insert("security".into(), s.clone());
    }
    if let Some(s) = doc.pointer("/components/securitySchemes") {
        out.insert(
            "components".into(),
            serde_json::json!({ "securitySchemes": s }),
        );
    }
    let mut paths = serde_json::Map::new();
    for (path, item) in crate::nav::path_items(doc) {
        let mut ops = serde_json::Map::new();
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(s) = op.get("security")
                && crate::nav::is_method(method)
            {
                ops.insert(method.clone(), serde_json::json!({ "security": s }));
            }
        }
        if !ops.is_empty() {
            paths.insert(path.clone(), Value::Object(ops));
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    Value::Object(out)
}

/// Merge the slices into the vendor's document. Two sources that define a shared component
/// differently (beyond its documentation) are an error naming both vendor documents and the
/// line and column of each definition (as `locate` finds them): the maintainer decides which is
/// right.
pub fn merge_slices(slices: &[SourceSlice], locate: Locate) -> Result<Value> {
    let (doc, conflicts) = merge_lenient(slices);
    match conflicts.first() {
        None => Ok(doc),
        Some(c) => Err(conflict_error(slices, c, locate)),
    }
}

/// Merge, returning every conflict instead of failing on the first.
pub fn merge_lenient(slices: &[SourceSlice]) -> (Value, Vec<crate::slice::Conflict>) {
    let named: Vec<(String, Value)> = slices
        .iter()
        .map(|s| (s.source.name.clone(), s.slice.clone()))
        .collect();
    crate::slice::merge_lenient(&named)
}

fn conflict_error(slices: &[SourceSlice], c: &crate::slice::Conflict, locate: Locate) -> Error {
    let find = |name: &str| slices.iter().find(|s| s.source.name == name);
    let later = find(&c.source).expect("a conflict names a source");
    let location = later
        .position(&c.pointer, locate)
        .map(|(line, column)| Location::LineColumn { line, column })
        .unwrap_or(Location::Pointer(c.pointer.clone()));
    let earlier = find(&c.earlier)
        .map(|s| {
            let at = s.describe(&c.pointer, locate);
            format!("source `{}` ({at})", s.source.name)
        })
        .unwrap_or_else(|| format!("source `{}`", c.earlier));
    Error::new(
        ErrorKind::Invalid,
        &later.origin,
        location,
        format!(
            "source `{}` defines `{}` differently from {earlier}; regen cannot merge them: \
             decide which definition is right (pin the other source at a version that agrees, \
             or take the kept operations from one source only)",
            c.source,
            c.pointer.trim_start_matches('/')
        ),
    )
}

/// The vendor's complete API: the whole document of the source marked `full = true`, plus the
/// kept operations of the other sources that it lacks (an operation both define is taken from
/// the full source). Returns the document and the `METHOD /path` of operations skipped as
/// duplicates.
pub fn build_full_document(
    sources: &Sources,
    spec_file: &Path,
    mut read: impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
) -> Result<(Value, Vec<String>)> {
    let Some(full) = sources.sources.iter().find(|s| s.full) else {
        return Err(Error::new(
            ErrorKind::Invalid,
            spec_file.with_file_name(crate::SOURCES_FILE),
            Location::File,
            "no source is marked `full = true`: the `full` feature needs the vendor's complete document",
        ));
    };
    // every document read first: a rename is checked against all of them
    let mut read_all = Vec::new();
    for source in &sources.sources {
        read_all.push(read_source(source, &mut read, no_positions)?);
    }
    renamed(sources, &mut read_all)?;
    let mut docs: Vec<Option<(Value, parts::Assembled)>> = read_all.into_iter().map(Some).collect();
    let at = sources
        .sources
        .iter()
        .position(|s| s.full)
        .expect("found above");
    let (mut doc, _) = docs[at].take().expect("read above");
    let mut skipped = Vec::new();
    for (source, read) in sources.sources.iter().zip(docs) {
        let Some((other, assembled)) = read.filter(|_| !source.full) else {
            continue;
        };
        let origin = assembled.origin;
        let mut ops = Vec::new();
        for key in source
            .operations
            .iter()
            .filter_map(|o| OperationKey::parse(o))
        {
            let method = key.method.to_ascii_lowercase();
            if crate::nav::operation(&doc, &key.path, &method).is_some() {
                skipped.push(key.to_string());
            } else {
                ops.push(key);
            }
        }
        if ops.is_empty() {
            continue;
        }
        let slice = crate::slice::slice(&other, &ops, &origin, None)?;
        let merged = crate::slice::merge(
            &[(full.name.clone(), doc), (source.name.clone(), slice)],
            spec_file,
        )?;
        doc = merged;
    }
    Ok((doc, skipped))
}

/// Serialise a document as YAML, deterministically (same value, same bytes).
pub fn to_yaml(doc: &Value) -> Result<String> {
    serde_saphyr::to_string(doc).map_err(|e| {
        Error::new(
            ErrorKind::Invalid,
            Path::new("openapi.yaml"),
            Location::File,
            format!("cannot serialise: {e}"),
        )
    })
}

/// The header regen puts on `openapi.yaml`.
pub fn header(sources: &Sources) -> String {
    let mut h = format!(
        "# @generated by `cargo xtask regen` from specs/{}/sources.toml. Do not edit by hand:\n\
         # this is the vendor's published definition, sliced to the kept operations and merged.\n\
         # Corrections go in overlay.yaml.\n",
        sources.vendor
    );
    for s in &sources.sources {
        h.push_str(&format!(
            "# - {} ({}): {}\n",
            s.name,
            s.pinned.display(),
            s.origin.as_deref().unwrap_or(&s.url)
        ));
        for r in &s.renames {
            h.push_str(&format!(
                "#   renamed (sources.toml `rename`): components/{}/{} -> {}\n",
                r.section, r.from, r.to
            ));
        }
        for i in 0..s.files.len() {
            let part = s.part(i);
            h.push_str(&format!(
                "#   - {}: {}\n",
                s.files[i].path.display(),
                part.origin.as_deref().unwrap_or(&part.url)
            ));
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(kind: &str, pinned: &str) -> Sources {
        Sources::parse(
            &format!(
                "vendor = \"v\"\n[[source]]\nname = \"s\"\nkind = \"{kind}\"\nurl = \"https://example.com/page\"\npinned = \"{pinned}\"\noperations = [\"GET /a\"]\n"
            ),
            Path::new("sources.toml"),
        )
        .unwrap()
    }

    const SPEC: &str = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n  /b:\n    get:\n      responses: {'200': {description: ok}}\n";

    #[test]
    fn hand_written_source_is_read_as_a_spec_file_and_sliced() {
        let s = sources("hand-written", "handwritten/a.yaml");
        let read = |src: &Source| {
            assert_eq!(src.kind, SourceKind::HandWritten);
            Ok((
                SPEC.as_bytes().to_vec(),
                PathBuf::from("handwritten/a.yaml"),
            ))
        };
        let doc = build_document(&s, Path::new("openapi.yaml"), read, no_positions).unwrap();
        assert!(doc["paths"].get("/a").is_some());
        assert!(doc["paths"].get("/b").is_none());
        // deterministic: same input, same bytes
        assert_eq!(to_yaml(&doc).unwrap(), to_yaml(&doc.clone()).unwrap());
    }

    #[test]
    fn docs_page_source_is_extracted_from_its_fence() {
        let s = sources("docs-page", "upstream/page.md");
        let page = format!("# Page\n\n````yaml GET /a\n{SPEC}````\n");
        let read = |_: &Source| Ok((page.as_bytes().to_vec(), PathBuf::from("upstream/page.md")));
        let doc = build_document(&s, Path::new("openapi.yaml"), read, no_positions).unwrap();
        assert_eq!(doc["paths"].as_object().unwrap().len(), 1);
    }

    /// Two sources whose `error` answers differ, the second with `rename` (or without).
    fn two_sources(rename: &str) -> Sources {
        Sources::parse(
            &format!(
                "vendor = \"v\"\n\
                 [[source]]\nname = \"new\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"new.yaml\"\noperations = [\"GET /a\"]\n\
                 [[source]]\nname = \"old\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"old.yaml\"\noperations = [\"GET /b\"]\n{rename}"
            ),
            Path::new("specs/v/sources.toml"),
        )
        .unwrap()
    }

    const NEW: &str = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        default: {$ref: '#/components/responses/error'}\ncomponents:\n  responses:\n    error:\n      description: e\n      content: {application/json: {schema: {$ref: '#/components/schemas/ODataError'}}}\n  schemas:\n    ODataError: {type: object, properties: {error: {type: object}}}\n";
    const OLD: &str = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /b:\n    get:\n      responses:\n        default: {$ref: '#/components/responses/error'}\ncomponents:\n  responses:\n    error:\n      description: e\n      content: {application/json: {schema: {$ref: '#/components/schemas/odata.error'}}}\n  schemas:\n    odata.error: {type: object, required: [error], properties: {error: {type: string}}}\n";

    fn read_two(s: &Source) -> Result<(Vec<u8>, PathBuf)> {
        let text = if s.name == "new" { NEW } else { OLD };
        Ok((text.as_bytes().to_vec(), s.pinned.clone()))
    }

    #[test]
    fn sources_whose_component_differs_merge_only_with_a_declared_rename() {
        // without: refused, naming both definitions, neither picked
        let e = build_document(
            &two_sources(""),
            Path::new("openapi.yaml"),
            read_two,
            no_positions,
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("defines `components/responses/error` differently"),
            "{e}"
        );
        // with: each operation keeps its own definition, the other's under its new name
        let s = two_sources("rename = { \"responses/error\" = \"old.error\" }\n");
        let doc = build_document(&s, Path::new("openapi.yaml"), read_two, no_positions).unwrap();
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["default"]["$ref"],
            "#/components/responses/error"
        );
        assert_eq!(
            doc["paths"]["/b"]["get"]["responses"]["default"]["$ref"],
            "#/components/responses/old.error"
        );
        let responses = &doc["components"]["responses"];
        assert_eq!(
            responses["error"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ODataError"
        );
        assert_eq!(
            responses["old.error"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/odata.error"
        );
        crate::slice::check_refs(&doc, Path::new("openapi.yaml")).unwrap();
        assert!(
            header(&s).contains(
                "renamed (sources.toml `rename`): components/responses/error -> old.error"
            ),
            "{}",
            header(&s)
        );
        // a finding at the new name is found at the old name in the vendor's file
        let slices = read_slices(&s, read_two, None, no_positions).unwrap();
        assert_eq!(
            slices[1].written_pointer("/components/responses/old.error/content"),
            "/components/responses/error/content"
        );
        assert_eq!(
            slices[0].written_pointer("/components/responses/old.error"),
            "/components/responses/old.error"
        );
        // the `full` document (the first source's whole one, the second's operations) too
        let full = two_sources("rename = { \"responses/error\" = \"old.error\" }\n");
        let mut full = full;
        full.sources[0].full = true;
        let (doc, _) = build_full_document(&full, Path::new("openapi.yaml"), read_two).unwrap();
        assert!(doc["components"]["responses"].get("old.error").is_some());
        // refused at the entry: nothing of that name, or a name a source already has
        for (rename, why) in [
            (
                "\"responses/nothing\" = \"x\"",
                "defines no `components/responses/nothing`",
            ),
            (
                "\"schemas/odata.error\" = \"ODataError\"",
                "source `new` defines `components/schemas/ODataError` too",
            ),
        ] {
            let s = two_sources(&format!("rename = {{ {rename} }}\n"));
            let e =
                build_document(&s, Path::new("openapi.yaml"), read_two, no_positions).unwrap_err();
            assert!(e.message.contains(why), "{rename}: {e}");
            assert!(e.to_string().starts_with("specs/v/sources.toml:14:"), "{e}");
            let mut s = s;
            s.sources[0].full = true;
            let e = build_full_document(&s, Path::new("openapi.yaml"), read_two).unwrap_err();
            assert!(e.message.contains(why), "{rename}: {e}");
        }
    }

    #[test]
    fn a_rename_table_is_checked_when_sources_toml_is_read() {
        for (rename, why) in [
            ("\"error\" = \"x\"", "`<section>/<name>`"),
            ("\"answers/error\" = \"x\"", "no component section"),
            ("\"responses/error\" = \"a/b\"", "not a component name"),
            ("\"responses/error\" = \"error\"", "the old one"),
            (
                "\"responses/error\" = \"x\", \"responses/other\" = \"x\"",
                "two components cannot take one name",
            ),
        ] {
            let e = Sources::parse(
                &format!(
                    "vendor = \"v\"\n[[source]]\nname = \"a\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"a.yaml\"\noperations = []\nrename = {{ {rename} }}\n"
                ),
                Path::new("sources.toml"),
            )
            .unwrap_err();
            assert!(e.message.contains(why), "{rename}: {e}");
            assert!(
                matches!(e.location, Location::LineColumn { line: 8, column } if column > 10),
                "{rename}: {e}"
            );
        }
    }

    #[test]
    fn lenient_build_reports_a_missing_operation() {
        let s = sources("openapi", "upstream/a.yaml");
        let spec = SPEC.replace("/a:", "/gone:");
        let read = |_: &Source| Ok((spec.as_bytes().to_vec(), PathBuf::from("a.yaml")));
        let e = build_document(&s, Path::new("openapi.yaml"), read, no_positions).unwrap_err();
        assert!(e.message.contains("kept operation `GET /a`"), "{e}");
        let (doc, missing) =
            build_document_lenient(&s, Path::new("openapi.yaml"), read, no_positions).unwrap();
        assert_eq!(missing[0].to_string(), "GET /a");
        assert!(doc["paths"].as_object().unwrap().is_empty());
    }
}
