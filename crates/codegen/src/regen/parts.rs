//! Sources published as several files ([`Source::files`]): read each file, then make one
//! document of them, as the vendor's own build does.
//!
//! - [`Join::Concatenate`]: the bytes joined in the listed order (Mattermost's `cat` of
//!   `api/v4/source/*.yaml`). A position in the joined text is a position in one file
//!   ([`Layout::Joined`] keeps where each file starts).
//! - [`Join::References`]: the first file is the document; a relative `$ref` (`b.yaml#/x`,
//!   `./schemas/a.yaml`) must name a listed file inside the source's folder (never `..` out of
//!   it, an absolute path or a URL: the documents are untrusted). What it points at is copied
//!   into the document once, as a component (`#/components/<kind>/<name>`, the kind from where
//!   the reference stands), or in place for a path item; the reference becomes local. Each
//!   target is copied once and registered before it is read, so references that go round in a
//!   cycle between files end. [`Layout::Bundled`] keeps which file and pointer each copied part
//!   came from.
//!
//! Either way the result is a pure function of the files' bytes and the order sources.toml
//! lists them in: the same files give the same document, byte for byte.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Locate;
use crate::error::{Error, ErrorKind, Location, Result, escape_token};
use crate::sources::{Join, Source, SourceKind, resolve_relative};

/// The most bytes all the files of one source may have together (as `cargo xtask try` caps a
/// document).
pub const MAX_SOURCE_BYTES: usize = 64 << 20;

/// The most JSON values bundling may visit (copies included), past which it stops with an
/// error: a set of files that refer to each other many times over cannot make it run away.
const MAX_BUNDLE_WORK: usize = 20_000_000;

/// One file of a source, as read.
#[derive(Debug, Clone)]
pub struct Part {
    /// As listed in sources.toml, relative to the source's folder.
    pub path: PathBuf,
    /// Where its bytes were read from (pinned copy, `--sources` file, URL): the name findings
    /// and errors give.
    pub origin: PathBuf,
    /// Its bytes, as read.
    pub bytes: Vec<u8>,
}

/// How positions in a source's document map to its files.
#[derive(Debug, Clone, Default)]
pub enum Layout {
    /// One file: positions are in it.
    #[default]
    Single,
    /// The files' bytes joined: the line and column (1-based) each file starts at in the
    /// joined text, and the column count of the line it starts on before it.
    Joined(Vec<(usize, usize)>),
    /// One file's document with the others' parts copied in: `(pointer in the document, file
    /// index, pointer in that file)`, for every part copied.
    Bundled(Vec<(String, usize, String)>),
}

/// The most files the relative `$ref`s of one document may reach ([`bundle_file`]).
pub const MAX_REFERENCED_FILES: usize = 20_000;

/// A document whose `$ref`s name other files (`resources/a.yml`, `../common/p.yml#/page`, as
/// DigitalOcean's is published) made one, as a source of several files is
/// ([`Join::References`]): the files are those its relative references reach, one after the
/// other, each read once. Only files inside the document's own folder are read: a reference
/// that leaves it (`..` past it, an absolute path, a URL, a symbolic link that leads out) or
/// names a missing file is an error at that file and `$ref`, and so is passing
/// [`MAX_REFERENCED_FILES`] files or [`MAX_SOURCE_BYTES`] bytes together. A document whose
/// every `$ref` is local is returned as it is parsed.
pub fn bundle_file(path: &Path, bytes: Vec<u8>) -> Result<Value> {
    let root_doc = crate::load::parse_bytes(&bytes, path)?;
    if !has_file_refs(&root_doc) {
        return Ok(root_doc);
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io =
        |p: &Path, e: std::io::Error| Error::new(ErrorKind::Io, p, Location::File, e.to_string());
    let real_folder = folder.canonicalize().map_err(|e| io(&folder, e))?;
    let name = PathBuf::from(path.file_name().unwrap_or_default());
    let mut total = bytes.len();
    let mut parts = vec![Part {
        path: name.clone(),
        origin: path.to_path_buf(),
        bytes,
    }];
    let mut docs = vec![Some(root_doc)];
    let mut index: BTreeMap<PathBuf, usize> = BTreeMap::from([(name, 0)]);
    let mut next = 0;
    while next < parts.len() {
        let doc = match docs[next].take() {
            Some(d) => d,
            None => crate::load::parse_bytes(&parts[next].bytes, &parts[next].origin)?,
        };
        let base = parts[next]
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let mut refs = Vec::new();
        crate::nav::local_refs(&doc, "", &mut refs);
        // what an example or an extension holds is a value, not read
        for (at, r) in refs.into_iter().filter(|(at, _)| !crate::nav::in_data(at)) {
            let file_part = r.split_once('#').map_or(r.as_str(), |(f, _)| f);
            if file_part.is_empty() {
                continue;
            }
            let refused = |why: String| {
                Error::new(
                    ErrorKind::BrokenRef,
                    &parts[next].origin,
                    Location::Pointer(at.clone()),
                    format!(
                        "`$ref: {r}`: {why} (only files inside the document's folder are read)"
                    ),
                )
            };
            let rel = resolve_relative(&base, file_part)
                .map_err(|why| refused(why.replace("source's folder", "document's folder")))?;
            if index.contains_key(&rel) {
                continue;
            }
            if parts.len() >= MAX_REFERENCED_FILES {
                return Err(refused(format!(
                    "the document's references reach more than {MAX_REFERENCED_FILES} files"
                )));
            }
            let full = folder.join(&rel);
            let real = full
                .canonicalize()
                .map_err(|e| refused(format!("cannot read `{}`: {e}", full.display())))?;
            if !real.starts_with(&real_folder) || !real.is_file() {
                return Err(refused(format!(
                    "`{}` is not a file inside the document's folder",
                    full.display()
                )));
            }
            let read = std::fs::read(&real).map_err(|e| io(&full, e))?;
            total = total.saturating_add(read.len());
            if total > MAX_SOURCE_BYTES {
                return Err(refused(format!(
                    "the files the document references pass {MAX_SOURCE_BYTES} bytes together"
                )));
            }
            index.insert(rel.clone(), parts.len());
            parts.push(Part {
                path: rel,
                origin: full,
                bytes: read,
            });
            docs.push(None);
        }
        next += 1;
    }
    let (doc, _) = Bundler::new(SourceKind::Openapi, &parts, super::no_positions)?.run()?;
    Ok(doc)
}

/// Does any `$ref` in `doc` name another file?
fn has_file_refs(doc: &Value) -> bool {
    let mut refs = Vec::new();
    crate::nav::local_refs(doc, "", &mut refs);
    refs.iter()
        .any(|(at, r)| !r.starts_with('#') && !crate::nav::in_data(at))
}

/// A source's document as made of its files.
pub(crate) struct Assembled {
    /// The document's bytes (the joined text, or the bundled document as JSON).
    pub bytes: Vec<u8>,
    /// The name of the whole (the source's folder, or its base URL).
    pub origin: PathBuf,
    /// The files, in the order listed.
    pub parts: Vec<Part>,
    /// Where each part of `bytes` came from.
    pub layout: Layout,
}

/// Read a source: one file as `read` gives it, or each of its files (through
/// [`Source::part`]) made into one document.
pub(crate) fn assemble(
    source: &Source,
    read: &mut impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)>,
    locate: Locate,
) -> Result<Assembled> {
    let Some(join) = source.join else {
        let (bytes, origin) = read(source)?;
        return Ok(Assembled {
            bytes,
            origin,
            parts: Vec::new(),
            layout: Layout::Single,
        });
    };
    let mut parts = Vec::with_capacity(source.files.len());
    let mut total = 0usize;
    for i in 0..source.files.len() {
        let part = source.part(i);
        let (bytes, origin) = read(&part)?;
        total = total.saturating_add(bytes.len());
        if total > MAX_SOURCE_BYTES {
            return Err(Error::new(
                ErrorKind::Invalid,
                &origin,
                Location::File,
                format!(
                    "source `{}`: its files pass {MAX_SOURCE_BYTES} bytes together",
                    source.name
                ),
            ));
        }
        parts.push(Part {
            path: source.files[i].path.clone(),
            origin,
            bytes,
        });
    }
    let origin = folder_of(&parts[0]);
    match join {
        Join::Concatenate => {
            let (bytes, starts) = concatenate(&parts);
            let assembled = Assembled {
                bytes,
                origin,
                parts,
                layout: Layout::Joined(starts),
            };
            local_refs_only(source.kind, &assembled, locate)?;
            Ok(assembled)
        }
        Join::References => {
            let (doc, map) = Bundler::new(source.kind, &parts, locate)?.run()?;
            let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| {
                Error::new(
                    ErrorKind::Invalid,
                    &origin,
                    Location::File,
                    format!("cannot serialise the bundled document: {e}"),
                )
            })?;
            Ok(Assembled {
                bytes,
                origin,
                parts,
                layout: Layout::Bundled(map),
            })
        }
    }
}

/// The folder (or base URL) a part was read from: its origin without its listed path.
fn folder_of(part: &Part) -> PathBuf {
    let origin = part.origin.to_string_lossy();
    let rel = part.path.to_string_lossy().replace('\\', "/");
    match origin.strip_suffix(rel.as_str()) {
        Some(base) if !base.is_empty() => PathBuf::from(base.trim_end_matches('/')),
        _ => part.origin.clone(),
    }
}

/// The parts' bytes joined, and where each starts (line, and columns before it on that line).
fn concatenate(parts: &[Part]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.bytes.len()).sum());
    let mut starts = Vec::with_capacity(parts.len());
    let (mut line, mut column) = (1usize, 0usize);
    for part in parts {
        starts.push((line, column));
        bytes.extend_from_slice(&part.bytes);
        let text = String::from_utf8_lossy(&part.bytes);
        let newlines = text.matches('\n').count();
        let tail = text.rsplit('\n').next().map_or(0, |t| t.chars().count());
        if newlines == 0 {
            column += tail;
        } else {
            line += newlines;
            column = tail;
        }
    }
    (bytes, starts)
}

impl Layout {
    /// The file a position in the document is in, and the position in that file.
    pub(crate) fn joined_position(
        starts: &[(usize, usize)],
        (line, column): (usize, usize),
    ) -> Option<(usize, (usize, usize))> {
        // the last file that starts at or before the position
        let index = starts
            .iter()
            .rposition(|&(l, c)| (l, c + 1) <= (line, column))?;
        let (l, before) = starts[index];
        let column = if line == l { column - before } else { column };
        Some((index, (line - l + 1, column)))
    }

    /// The file a pointer into a bundled document is in, and the pointer in that file: the
    /// longest copied part that holds it, else the first file.
    pub(crate) fn bundled_pointer(
        map: &[(String, usize, String)],
        pointer: &str,
    ) -> (usize, String) {
        let best = map
            .iter()
            .filter(|(at, _, _)| {
                pointer == at
                    || (pointer.starts_with(at.as_str())
                        && pointer.as_bytes().get(at.len()) == Some(&b'/'))
            })
            .max_by_key(|(at, _, _)| at.len());
        match best {
            Some((at, file, inside)) => (*file, format!("{inside}{}", &pointer[at.len()..])),
            None => (0, pointer.to_string()),
        }
    }
}

/// `file:line:col` (or `file`) of a pointer into one part.
fn describe_in(part: &Part, kind: SourceKind, pointer: &str, locate: Locate) -> Location {
    match locate(kind, &part.bytes, &[pointer]).get(pointer) {
        Some(&(line, column)) => Location::LineColumn { line, column },
        None => Location::Pointer(pointer.to_string()),
    }
}

/// Concatenated files have nothing to bundle: a `$ref` that is not local to the joined document
/// is an error at its own file and line.
fn local_refs_only(kind: SourceKind, assembled: &Assembled, locate: Locate) -> Result<()> {
    // a document that does not parse is reported (at its file and line) when it is extracted
    let Ok(doc) = crate::load::parse_bytes(&assembled.bytes, &assembled.origin) else {
        return Ok(());
    };
    let mut stack = vec![(String::new(), &doc)];
    while let Some((at, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref")
                    && !r.starts_with('#')
                {
                    let pointer = format!("{at}/$ref");
                    let (file, location) = assembled.position(kind, &pointer, locate);
                    return Err(Error::new(
                        ErrorKind::BrokenRef,
                        file,
                        location,
                        format!(
                            "`$ref: {r}` is not local: the files of a `join = \"concatenate\"` \
                             source make one document, whose references are all `#/...`"
                        ),
                    ));
                }
                for (k, v) in map {
                    stack.push((format!("{at}/{}", escape_token(k)), v));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), v));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

impl Assembled {
    /// The file a pointer into the document is in, and where in it (line and column, or the
    /// pointer when `locate` does not find it).
    pub(crate) fn position(
        &self,
        kind: SourceKind,
        pointer: &str,
        locate: Locate,
    ) -> (PathBuf, Location) {
        position_in(
            &self.layout,
            &self.parts,
            &self.origin,
            &self.bytes,
            kind,
            pointer,
            locate,
        )
    }
}

/// See [`Assembled::position`].
pub(crate) fn position_in(
    layout: &Layout,
    parts: &[Part],
    origin: &Path,
    bytes: &[u8],
    kind: SourceKind,
    pointer: &str,
    locate: Locate,
) -> (PathBuf, Location) {
    match layout {
        Layout::Single => (origin.to_path_buf(), {
            match locate(kind, bytes, &[pointer]).get(pointer) {
                Some(&(line, column)) => Location::LineColumn { line, column },
                None => Location::Pointer(pointer.to_string()),
            }
        }),
        Layout::Joined(starts) => {
            let found = locate(kind, bytes, &[pointer]).get(pointer).copied();
            match found.and_then(|p| Layout::joined_position(starts, p)) {
                Some((i, (line, column))) => (
                    parts[i].origin.clone(),
                    Location::LineColumn { line, column },
                ),
                None => (origin.to_path_buf(), Location::Pointer(pointer.to_string())),
            }
        }
        Layout::Bundled(map) => {
            let (i, inside) = Layout::bundled_pointer(map, pointer);
            match parts.get(i) {
                Some(part) => (
                    part.origin.clone(),
                    describe_in(part, kind, &inside, locate),
                ),
                None => (origin.to_path_buf(), Location::Pointer(pointer.to_string())),
            }
        }
    }
}

/// A `$ref` target: a file (index into the parts) and a pointer into it.
type Target = (usize, String);

/// `(pointer in the document, file index, pointer in that file)` of each copied part.
type CopyMap = Vec<(String, usize, String)>;

struct Bundler<'a> {
    kind: SourceKind,
    parts: &'a [Part],
    locate: Locate,
    /// The parts' listed paths.
    index: BTreeMap<PathBuf, usize>,
    /// Each part's document, parsed when first needed.
    docs: Vec<Option<Value>>,
    /// Every target copied into the document, and where it went.
    copied: BTreeMap<Target, String>,
    /// Names taken under each `components/<kind>`.
    taken: BTreeMap<String, BTreeSet<String>>,
    /// Targets registered, not copied yet: (target, where it goes).
    pending: VecDeque<(Target, String)>,
    /// Where every copied part came from.
    map: CopyMap,
    work: usize,
}

impl<'a> Bundler<'a> {
    fn new(kind: SourceKind, parts: &'a [Part], locate: Locate) -> Result<Self> {
        let index = parts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.path.clone(), i))
            .collect();
        Ok(Self {
            kind,
            parts,
            locate,
            index,
            docs: vec![None; parts.len()],
            copied: BTreeMap::new(),
            taken: BTreeMap::new(),
            pending: VecDeque::new(),
            map: Vec::new(),
            work: 0,
        })
    }

    fn doc(&mut self, file: usize) -> Result<&Value> {
        if self.docs[file].is_none() {
            let part = &self.parts[file];
            self.docs[file] = Some(crate::load::parse_bytes(&part.bytes, &part.origin)?);
        }
        Ok(self.docs[file].as_ref().expect("parsed above"))
    }

    fn run(mut self) -> Result<(Value, CopyMap)> {
        let mut doc = self.doc(0)?.clone();
        if let Some(components) = doc.get("components").and_then(Value::as_object) {
            for (kind, members) in components {
                let names = members
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                self.taken.insert(kind.clone(), names);
            }
        }
        self.rewrite(&mut doc, 0, "", "", &mut Vec::new())?;
        while let Some(((file, inside), at)) = self.pending.pop_front() {
            // a target is registered only once `resolve` found it
            let mut value = self
                .doc(file)?
                .pointer(&inside)
                .cloned()
                .unwrap_or_default();
            self.rewrite(&mut value, file, &inside, &at, &mut Vec::new())?;
            put(&mut doc, &at, value).map_err(|message| {
                Error::at(
                    ErrorKind::Invalid,
                    &self.parts[0].origin,
                    at.clone(),
                    message,
                )
            })?;
        }
        Ok((doc, self.map))
    }

    /// Rewrite every `$ref` in `value` (which is at `inside` in `file`, and goes at `at` in the
    /// document) to a local one. `inlining` holds the path items being copied in place, to
    /// stop one that contains itself.
    fn rewrite(
        &mut self,
        value: &mut Value,
        file: usize,
        inside: &str,
        at: &str,
        inlining: &mut Vec<Target>,
    ) -> Result<()> {
        self.work += 1;
        if self.work > MAX_BUNDLE_WORK {
            return Err(Error::new(
                ErrorKind::Invalid,
                &self.parts[file].origin,
                Location::File,
                format!(
                    "bundling the source's files passes {MAX_BUNDLE_WORK} values: \
                     they refer to each other too many times"
                ),
            ));
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let r = r.clone();
                    if crate::nav::in_data(at) {
                        // an example's or an extension's `$ref` is a value (Square's examples
                        // hold JSON Schemas with URL references), never read
                        return Ok(());
                    }
                    let target = self.resolve(file, inside, &r)?;
                    if target.0 == 0 && file == 0 {
                        // local to the document already
                    } else if target.0 == 0 {
                        map.insert("$ref".into(), Value::String(format!("#{}", target.1)));
                    } else if is_path_item(at)
                        || map_place(at).is_some()
                        || !component_place(at)
                        || !self.is_object(&target)?
                    {
                        // a path item, prose (a tag's description), an extension's content
                        // (`x-codeSamples`) or a plain value is copied where it is referenced:
                        // none of them is a component
                        if inlining.contains(&target) {
                            return Err(self.error_at(
                                file,
                                &format!("{inside}/$ref"),
                                format!("`$ref: {r}`: a part copied in place that contains itself"),
                            ));
                        }
                        let mut copy = self
                            .doc(target.0)?
                            .pointer(&target.1)
                            .cloned()
                            .unwrap_or_default();
                        self.map.push((at.to_string(), target.0, target.1.clone()));
                        if let Some(Some(kind)) = map_place(at) {
                            self.name_after_keys(&copy, &target, kind)?;
                        }
                        inlining.push(target.clone());
                        self.rewrite(&mut copy, target.0, &target.1, at, inlining)?;
                        inlining.pop();
                        *value = copy;
                        return Ok(());
                    } else {
                        let local = self.register(target, at)?;
                        map.insert("$ref".into(), Value::String(format!("#{local}")));
                    }
                }
                for (k, v) in map.iter_mut() {
                    if k == "$ref" {
                        continue;
                    }
                    let token = escape_token(k);
                    self.rewrite(
                        v,
                        file,
                        &format!("{inside}/{token}"),
                        &format!("{at}/{token}"),
                        inlining,
                    )?;
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    self.rewrite(
                        v,
                        file,
                        &format!("{inside}/{i}"),
                        &format!("{at}/{i}"),
                        inlining,
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Is the target an object (a schema, a parameter, ...), not a string or a list?
    fn is_object(&mut self, target: &Target) -> Result<bool> {
        Ok(self
            .doc(target.0)?
            .pointer(&target.1)
            .is_some_and(Value::is_object))
    }

    /// The file and pointer a `$ref` in `file` (at `inside`) names; an error at the `$ref`'s
    /// line when it leaves the source's folder, names an unlisted file or a missing pointer.
    fn resolve(&mut self, file: usize, inside: &str, r: &str) -> Result<Target> {
        let at = format!("{inside}/$ref");
        let (path, fragment) = r.split_once('#').unwrap_or((r, ""));
        let target_file = if path.is_empty() {
            file
        } else {
            let base = self.parts[file].path.parent().unwrap_or(Path::new(""));
            let resolved = resolve_relative(base, path)
                .map_err(|why| self.error_at(file, &at, format!("`$ref: {r}`: {why}")))?;
            *self.index.get(&resolved).ok_or_else(|| {
                self.error_at(
                    file,
                    &at,
                    format!(
                        "`$ref: {r}` names `{}`, which is not one of the source's `files` in \
                         sources.toml (only listed, pinned files are read)",
                        resolved.display()
                    ),
                )
            })?
        };
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return Err(self.error_at(
                file,
                &at,
                format!("`$ref: {r}`: the part after `#` is not a JSON pointer"),
            ));
        }
        if self.doc(target_file)?.pointer(fragment).is_none() {
            return Err(self.error_at(
                file,
                &at,
                format!(
                    "`$ref: {r}`: `{}` has nothing at `{fragment}`",
                    self.parts[target_file].path.display()
                ),
            ));
        }
        Ok((target_file, fragment.to_string()))
    }

    /// A map of components copied in place (`components/schemas: {$ref: schemas/_index.yaml}`,
    /// Lago's): each entry that is only a `$ref` to a part not copied yet names that part's
    /// component after its key (`Customer: {$ref: ./Customer.yaml}` is
    /// `#/components/schemas/Customer`), and every key is taken, so no other part is copied
    /// over an entry.
    fn name_after_keys(&mut self, map: &Value, from: &Target, kind: &str) -> Result<()> {
        let Some(entries) = map.as_object() else {
            return Ok(());
        };
        for (key, entry) in entries {
            let Some(r) = entry.get("$ref").and_then(Value::as_str) else {
                continue;
            };
            let inside = format!("{}/{}", from.1, escape_token(key));
            let target = self.resolve(from.0, &inside, r)?;
            let taken = self.taken.get(kind).is_some_and(|t| t.contains(key));
            if target.0 == 0 || self.copied.contains_key(&target) || taken {
                continue;
            }
            self.register_as(target, kind, key.clone());
        }
        self.taken
            .entry(kind.to_string())
            .or_default()
            .extend(entries.keys().cloned());
        Ok(())
    }

    /// Copy `target` to `#/components/<kind>/<name>` (a name not taken).
    fn register_as(&mut self, target: Target, kind: &str, name: String) -> String {
        self.taken
            .entry(kind.to_string())
            .or_default()
            .insert(name.clone());
        let local = format!("/components/{}/{}", escape_token(kind), escape_token(&name));
        self.copied.insert(target.clone(), local.clone());
        self.map.push((local.clone(), target.0, target.1.clone()));
        self.pending.push_back((target, local.clone()));
        local
    }

    /// Where a target is copied to (registering it the first time): a component of the kind
    /// the reference at `at` expects, named after the target.
    fn register(&mut self, target: Target, at: &str) -> Result<String> {
        if let Some(local) = self.copied.get(&target) {
            return Ok(local.clone());
        }
        let tokens: Vec<String> = target
            .1
            .split('/')
            .skip(1)
            .map(crate::nav::unescape_token)
            .collect();
        let (kind, name) = match tokens.as_slice() {
            [c, kind, name] if c == "components" => (kind.clone(), name.clone()),
            _ => {
                let stem = self.parts[target.0]
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let name = match tokens.last() {
                    Some(last) => format!("{stem}_{last}"),
                    None => stem,
                };
                (kind_at(at).to_string(), name)
            }
        };
        let name = sanitise(&name);
        let taken = self.taken.entry(kind.clone()).or_default();
        let stem = sanitise(
            &self.parts[target.0]
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let mut candidate = name.clone();
        let mut n = 1;
        while taken.contains(&candidate) {
            n += 1;
            candidate = if n == 2 {
                format!("{name}_{stem}")
            } else {
                format!("{name}_{stem}_{n}")
            };
        }
        Ok(self.register_as(target, &kind, candidate))
    }

    fn error_at(&self, file: usize, pointer: &str, message: String) -> Error {
        let part = &self.parts[file];
        Error::new(
            ErrorKind::BrokenRef,
            &part.origin,
            describe_in(part, self.kind, pointer, self.locate),
            message,
        )
    }
}

/// Can what a `$ref` at `at` names become a component: not inside an extension (`x-codeSamples`),
/// `info`, `tags` or `externalDocs`, where OpenAPI reads no references and what one names is
/// prose or an example.
/// Nor a whole `properties` map (`properties: {$ref: attributes.yml#/ids}`, DigitalOcean's),
/// which is names, not a schema.
fn component_place(at: &str) -> bool {
    let tokens: Vec<&str> = at.split('/').skip(1).collect();
    let first = tokens.first().copied().unwrap_or("");
    let properties_map = match tokens.as_slice() {
        [.., before, "properties"] => *before != "properties",
        ["properties"] => true,
        _ => false,
    };
    !crate::nav::in_extension(at)
        && !matches!(first, "info" | "tags" | "externalDocs")
        && !properties_map
}

/// Is `at` a map of named parts (`/paths`, `/components`, `/components/schemas`; Swagger 2.0's
/// `/definitions`, `/parameters`, `/responses`, `/securityDefinitions`)? A `$ref` there
/// (`schemas: {$ref: ./schemas/_index.yaml}`, Lago's) stands for the map, not for a component
/// of it: what it names is copied in place, its entries become the components. `Some(kind)`
/// for `/components/<kind>`, whose entries are named after their keys.
fn map_place(at: &str) -> Option<Option<&str>> {
    let tokens: Vec<&str> = at.split('/').skip(1).collect();
    match tokens.as_slice() {
        ["components", kind] => Some(Some(kind)),
        ["paths" | "webhooks" | "components"] => Some(None),
        ["definitions" | "parameters" | "responses" | "securityDefinitions"] => Some(None),
        _ => None,
    }
}

/// Is `at` (a pointer into the document) a path item, `/paths/<path>`, or an operation,
/// `/paths/<path>/<method>` (which OpenAPI has no component for either: DigitalOcean refers to
/// each operation's file)?
fn is_path_item(at: &str) -> bool {
    let tokens: Vec<&str> = at.split('/').skip(1).collect();
    match tokens.as_slice() {
        ["paths", _] => true,
        ["paths", _, method] => crate::nav::METHODS.contains(method),
        _ => false,
    }
}

/// The component kind a `$ref` standing at `at` expects.
fn kind_at(at: &str) -> &'static str {
    let tokens: Vec<&str> = at.split('/').skip(1).collect();
    let n = tokens.len();
    let parent = n.checked_sub(2).map(|i| tokens[i]);
    let grandparent = n.checked_sub(3).map(|i| tokens[i]);
    if grandparent == Some("properties") {
        return "schemas";
    }
    if n == 3 && tokens[0] == "components" {
        return match tokens[1] {
            "responses" => "responses",
            "parameters" => "parameters",
            "examples" => "examples",
            "requestBodies" => "requestBodies",
            "headers" => "headers",
            "securitySchemes" => "securitySchemes",
            "links" => "links",
            "callbacks" => "callbacks",
            _ => "schemas",
        };
    }
    match (parent, tokens.last().copied()) {
        (Some("parameters"), _) => "parameters",
        (Some("responses"), _) => "responses",
        (_, Some("requestBody")) => "requestBodies",
        (Some("headers"), _) => "headers",
        (Some("examples"), _) => "examples",
        (Some("links"), _) => "links",
        (Some("callbacks"), _) => "callbacks",
        _ => "schemas",
    }
}

/// A component name from a file or pointer token: letters, digits, `.`, `-`, `_`.
fn sanitise(name: &str) -> String {
    let out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() { "_".into() } else { out }
}

/// Put `value` at `pointer` of `doc`, making the objects on the way.
fn put(doc: &mut Value, pointer: &str, value: Value) -> std::result::Result<(), String> {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(crate::nav::unescape_token)
        .collect();
    let Some((last, path)) = tokens.split_last() else {
        return Err("cannot copy a part over the whole document".into());
    };
    let mut here = doc;
    for t in path {
        let Value::Object(map) = here else {
            return Err(format!("`{t}` is inside something that is not an object"));
        };
        here = map
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let Value::Object(map) = here else {
        return Err(format!(
            "`{last}` is inside something that is not an object"
        ));
    };
    map.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;

    use super::*;
    use crate::sources::Sources;

    /// A folder of fragments in a scratch directory of an unpredictable name under the system's
    /// temp dir, removed when dropped.
    struct Folder(tempfile::TempDir);

    impl Folder {
        fn new(name: &str, files: &[(&str, &str)]) -> Self {
            let dir = tempfile::Builder::new()
                .prefix(&format!("agentstatus-parts-{name}-"))
                .tempdir()
                .unwrap();
            for (path, text) in files {
                let file = dir.path().join("upstream").join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
            Folder(dir)
        }

        fn path(&self) -> &Path {
            self.0.path()
        }
    }

    fn sources(join: &str, files: &[&str], ops: &[&str]) -> Sources {
        let files: Vec<String> = files
            .iter()
            .map(|f| format!("{{ path = \"{f}\" }}"))
            .collect();
        let ops: Vec<String> = ops.iter().map(|o| format!("\"{o}\"")).collect();
        Sources::parse(
            &format!(
                "vendor = \"v\"\n[[source]]\nname = \"api\"\nkind = \"openapi\"\nurl = \"https://example.com/api/\"\npinned = \"upstream\"\njoin = \"{join}\"\nfiles = [{}]\noperations = [{}]\n",
                files.join(", "),
                ops.join(", ")
            ),
            Path::new("sources.toml"),
        )
        .unwrap()
    }

    /// A small position finder for the tests (codegen has none of its own): the line and column
    /// of the first `key:` for the pointer's last token, after the line of the one before.
    fn keys(_: SourceKind, bytes: &[u8], pointers: &[&str]) -> BTreeMap<String, (usize, usize)> {
        let text = String::from_utf8_lossy(bytes);
        let mut out = BTreeMap::new();
        for p in pointers {
            let mut from = 0;
            let mut found = None;
            for token in p.split('/').skip(1) {
                let token = crate::nav::unescape_token(token);
                let needle = format!("{token}:");
                let quoted = format!("\"{token}\":");
                let hit = text[from..]
                    .find(&needle)
                    .or_else(|| text[from..].find(&quoted));
                if let Some(i) = hit {
                    from += i;
                    found = Some(from);
                    from += 1;
                }
            }
            if let Some(at) = found {
                out.insert(p.to_string(), crate::load::line_col(&text[..at]));
            }
        }
        out
    }

    /// Reads pinned copies under `dir`, and records every path asked for.
    fn reader<'a>(
        dir: &'a Path,
        asked: &'a RefCell<Vec<PathBuf>>,
    ) -> impl FnMut(&Source) -> Result<(Vec<u8>, PathBuf)> + 'a {
        move |s: &Source| {
            asked.borrow_mut().push(s.pinned.clone());
            let path = dir.join(&s.pinned);
            Ok((crate::load::read(&path)?, path))
        }
    }

    const INTRO: &str = "openapi: 3.0.0\ninfo:\n  title: t\n  version: '1'\npaths:\n";
    const STATUS: &str = "  /users/{user_id}/status:\n    get:\n      operationId: GetUserStatus\n      parameters:\n        - name: user_id\n          in: path\n          required: true\n          schema: {type: string}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Status'\n  /other:\n    get:\n      responses: {'200': {description: ok}}\n";
    const DEFS: &str = "components:\n  schemas:\n    Status:\n      type: object\n      properties:\n        status: {type: string}\n";

    #[test]
    fn concatenated_fragments_make_one_document_in_the_listed_order() {
        let f = Folder::new(
            "cat",
            &[
                ("introduction.yaml", INTRO),
                ("status.yaml", STATUS),
                ("definitions.yaml", DEFS),
            ],
        );
        let s = sources(
            "concatenate",
            &["introduction.yaml", "status.yaml", "definitions.yaml"],
            &["GET /users/{user_id}/status"],
        );
        let asked = RefCell::new(Vec::new());
        let slices = super::super::read_slices(&s, reader(f.path(), &asked), None, keys).unwrap();
        // each fragment read as a source of its own, in the listed order
        assert_eq!(
            *asked.borrow(),
            ["introduction.yaml", "status.yaml", "definitions.yaml"]
                .map(|p| Path::new("upstream").join(p))
        );
        let slice = &slices[0];
        assert_eq!(slice.bytes, [INTRO, STATUS, DEFS].concat().as_bytes());
        assert_eq!(slice.parts.len(), 3);
        assert_eq!(slice.origin, f.path().join("upstream"));
        // the kept operation and the component it needs, and nothing else
        assert!(
            slice
                .slice
                .pointer("/paths/~1users~1{user_id}~1status/get")
                .is_some()
        );
        assert!(slice.slice.pointer("/paths/~1other").is_none());
        assert!(slice.slice.pointer("/components/schemas/Status").is_some());
        // a position is named in the fragment that holds it
        let (file, at) = slice.place("/paths/~1users~1{user_id}~1status/get", keys);
        assert_eq!(file, f.path().join("upstream/status.yaml"));
        assert_eq!(at, Location::LineColumn { line: 2, column: 5 });
        let (file, at) = slice.place("/components/schemas/Status", keys);
        assert_eq!(file, f.path().join("upstream/definitions.yaml"));
        assert_eq!(at, Location::LineColumn { line: 3, column: 5 });
        // reproducible: the same files give the same bytes
        let again = super::super::read_slices(&s, reader(f.path(), &asked), None, keys).unwrap();
        let doc = super::super::merge_slices(&slices, keys).unwrap();
        let doc2 = super::super::merge_slices(&again, keys).unwrap();
        assert_eq!(
            super::super::to_yaml(&doc).unwrap(),
            super::super::to_yaml(&doc2).unwrap()
        );
    }

    #[test]
    fn the_files_are_joined_in_the_listed_order_not_another() {
        // definitions before status (not the vendor's order): the status paths land under
        // `components`, so the kept operation is not in the document
        let f = Folder::new(
            "order",
            &[
                ("introduction.yaml", INTRO),
                ("status.yaml", STATUS),
                ("definitions.yaml", DEFS),
            ],
        );
        let s = sources(
            "concatenate",
            &["introduction.yaml", "definitions.yaml", "status.yaml"],
            &["GET /users/{user_id}/status"],
        );
        let asked = RefCell::new(Vec::new());
        let e = super::super::read_slices(&s, reader(f.path(), &asked), None, keys).unwrap_err();
        assert!(
            e.message
                .contains("kept operation `GET /users/{user_id}/status`"),
            "{e}"
        );
    }

    #[test]
    fn a_syntax_error_is_named_at_its_fragments_own_line() {
        let broken = STATUS.replace(
            "    get:\n      operationId",
            "    get:\n     - [oops\n      operationId",
        );
        let f = Folder::new(
            "syntax",
            &[
                ("introduction.yaml", INTRO),
                ("status.yaml", &broken),
                ("definitions.yaml", DEFS),
            ],
        );
        let s = sources(
            "concatenate",
            &["introduction.yaml", "status.yaml", "definitions.yaml"],
            &["GET /users/{user_id}/status"],
        );
        let asked = RefCell::new(Vec::new());
        let e = super::super::read_slices(&s, reader(f.path(), &asked), None, keys).unwrap_err();
        assert_eq!(e.file, f.path().join("upstream/status.yaml"), "{e}");
        let Location::LineColumn { line, .. } = e.location else {
            panic!("no line: {e}");
        };
        assert!((2..=5).contains(&line), "{e}");
    }

    #[test]
    fn concatenated_fragments_may_not_refer_to_other_files() {
        let status = STATUS.replace("'#/components/schemas/Status'", "'../../etc/passwd'");
        let f = Folder::new(
            "cat-ref",
            &[
                ("introduction.yaml", INTRO),
                ("status.yaml", &status),
                ("definitions.yaml", DEFS),
            ],
        );
        let s = sources(
            "concatenate",
            &["introduction.yaml", "status.yaml", "definitions.yaml"],
            &["GET /users/{user_id}/status"],
        );
        let asked = RefCell::new(Vec::new());
        let e = super::super::read_slices(&s, reader(f.path(), &asked), None, keys).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BrokenRef);
        assert_eq!(e.file, f.path().join("upstream/status.yaml"), "{e}");
        assert!(
            matches!(e.location, Location::LineColumn { line: 15, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("not local"), "{e}");
    }

    const ENTRY: &str = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: schemas/a.yaml\n        '404':\n          $ref: 'common.yaml#/components/responses/NotFound'\n  /b:\n    $ref: ./paths/b.yaml\ncomponents:\n  schemas:\n    Local: {type: string}\n";
    const A: &str = "type: object\nproperties:\n  next:\n    $ref: b.yaml\n  local:\n    $ref: '../openapi.yaml#/components/schemas/Local'\n";
    const B: &str = "type: object\nproperties:\n  back:\n    $ref: ./a.yaml\n  same:\n    $ref: '#/properties/back'\n";
    const COMMON: &str = "components:\n  responses:\n    NotFound:\n      description: no such user\n      content:\n        application/json:\n          schema: {$ref: '#/components/schemas/AppError'}\n  schemas:\n    AppError: {type: object, properties: {id: {type: string}}}\n";
    const PATH_B: &str = "get:\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema: {$ref: '../schemas/b.yaml'}\n";

    fn bundled(
        name: &str,
        entry: &str,
        extra: &[(&str, &str)],
    ) -> (Folder, Result<Vec<super::super::SourceSlice>>) {
        let mut files = vec![
            ("openapi.yaml", entry),
            ("schemas/a.yaml", A),
            ("schemas/b.yaml", B),
            ("common.yaml", COMMON),
            ("paths/b.yaml", PATH_B),
        ];
        files.extend_from_slice(extra);
        let f = Folder::new(name, &files);
        let listed: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        let s = sources("references", &listed, &["GET /a", "GET /b"]);
        let asked = RefCell::new(Vec::new());
        let r = super::super::read_slices(&s, reader(f.path(), &asked), None, keys);
        // only the listed files are ever read
        let listed: Vec<PathBuf> = listed
            .iter()
            .map(|p| Path::new("upstream").join(p))
            .collect();
        assert_eq!(*asked.borrow(), listed);
        (f, r)
    }

    #[test]
    fn relative_references_are_bundled_into_one_document_with_local_refs_only() {
        let (f, slices) = bundled("refs", ENTRY, &[]);
        let slices = slices.unwrap();
        let doc = super::super::merge_slices(&slices, keys).unwrap();
        let text = serde_json::to_string(&doc).unwrap();
        // every reference is local, and resolves
        let refs: Vec<&str> = text
            .match_indices("\"$ref\":\"")
            .map(|(i, _)| &text[i + 8..])
            .collect();
        assert!(!refs.is_empty());
        for r in &refs {
            assert!(r.starts_with('#'), "{r}");
        }
        crate::nav::check_ref_graph(&doc).unwrap();
        // named after the file (a whole-file reference) or the component pointed at
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/200/content/application~1json/schema/$ref"),
            Some(&Value::from("#/components/schemas/a"))
        );
        assert_eq!(
            doc.pointer("/components/schemas/a/properties/next/$ref"),
            Some(&Value::from("#/components/schemas/b"))
        );
        // the cycle a -> b -> a ends: b's reference back is the same component
        assert_eq!(
            doc.pointer("/components/schemas/b/properties/back/$ref"),
            Some(&Value::from("#/components/schemas/a"))
        );
        // a reference inside b to b itself
        assert_eq!(
            doc.pointer("/components/schemas/b/properties/same/$ref"),
            Some(&Value::from("#/components/schemas/b_back"))
        );
        assert_eq!(
            doc.pointer("/components/schemas/a/properties/local/$ref"),
            Some(&Value::from("#/components/schemas/Local"))
        );
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/404/$ref"),
            Some(&Value::from("#/components/responses/NotFound"))
        );
        assert!(doc.pointer("/components/schemas/AppError").is_some());
        // a path item is copied in place
        assert!(doc.pointer("/paths/~1b/get/responses/200").is_some());
        // positions are named in the file a part came from
        let slice = &slices[0];
        let (file, at) = slice.place("/components/schemas/b/properties/back", keys);
        assert_eq!(file, f.path().join("upstream/schemas/b.yaml"));
        assert_eq!(at, Location::LineColumn { line: 3, column: 3 });
        let (file, at) = slice.place("/paths/~1b/get", keys);
        assert_eq!(file, f.path().join("upstream/paths/b.yaml"));
        assert_eq!(at, Location::LineColumn { line: 1, column: 1 });
        let (file, _) = slice.place("/paths/~1a/get", keys);
        assert_eq!(file, f.path().join("upstream/openapi.yaml"));
        // reproducible
        let (_, again) = bundled("refs-again", ENTRY, &[]);
        assert_eq!(again.unwrap()[0].bytes, slice.bytes);
    }

    #[test]
    fn a_component_name_another_file_already_uses_gets_the_files_name() {
        let entry = ENTRY.replace(
            "    Local: {type: string}\n",
            "    Local: {type: string}\n    a: {type: integer}\n",
        );
        let (_f, slices) = bundled("collide", &entry, &[]);
        let doc = super::super::merge_slices(&slices.unwrap(), keys).unwrap();
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/200/content/application~1json/schema/$ref"),
            Some(&Value::from("#/components/schemas/a_a"))
        );
        assert_eq!(
            doc.pointer("/components/schemas/a_a/type"),
            Some(&Value::from("object"))
        );
    }

    #[test]
    fn a_reference_out_of_the_folder_is_refused_at_its_line_and_never_read() {
        for (bad, why) in [
            ("../../etc/passwd", "leaves the source's folder"),
            ("../secret.yaml", "leaves the source's folder"),
            ("/etc/passwd", "absolute"),
            ("https://evil.example/x.yaml", "URL"),
            ("file:///etc/passwd", "URL"),
            ("C:/x.yaml", "drive"),
            ("unlisted.yaml", "not one of the source's `files`"),
            ("common.yaml#components", "not a JSON pointer"),
            ("common.yaml#/components/nothing", "has nothing at"),
        ] {
            let entry = ENTRY.replace("$ref: schemas/a.yaml", &format!("$ref: '{bad}'"));
            let (f, r) = bundled("escape", &entry, &[]);
            let e = r.unwrap_err();
            assert_eq!(e.kind, ErrorKind::BrokenRef, "{bad}: {e}");
            assert_eq!(e.file, f.path().join("upstream/openapi.yaml"), "{bad}: {e}");
            assert!(
                matches!(e.location, Location::LineColumn { line: 12, .. }),
                "{bad}: {e}"
            );
            assert!(e.message.contains(why), "{bad}: {e}");
        }
        // in a file other than the first, the error names that file and its line
        let (f, r) = bundled(
            "escape-deep",
            ENTRY,
            &[(
                "schemas/c.yaml",
                "type: object\nproperties:\n  x:\n    $ref: ../../../outside.yaml\n",
            )],
        );
        r.unwrap();
        drop(f);
        let entry = ENTRY.replace("$ref: schemas/a.yaml", "$ref: schemas/c.yaml");
        let (f, r) = bundled(
            "escape-deep",
            &entry,
            &[(
                "schemas/c.yaml",
                "type: object\nproperties:\n  x:\n    $ref: ../../../outside.yaml\n",
            )],
        );
        let e = r.unwrap_err();
        assert_eq!(e.file, f.path().join("upstream/schemas/c.yaml"), "{e}");
        assert_eq!(
            e.location,
            Location::LineColumn { line: 4, column: 5 },
            "{e}"
        );
        assert!(e.message.contains("leaves the source's folder"), "{e}");
    }

    #[test]
    fn a_path_item_that_contains_itself_is_an_error_not_a_loop() {
        let entry = ENTRY.replace("$ref: ./paths/b.yaml", "$ref: ./paths/self.yaml");
        let (f, r) = bundled(
            "self",
            &entry,
            &[("paths/self.yaml", "$ref: ./self.yaml\n")],
        );
        let e = r.unwrap_err();
        assert_eq!(e.file, f.path().join("upstream/paths/self.yaml"), "{e}");
        assert!(e.message.contains("contains itself"), "{e}");
    }

    #[test]
    fn the_files_together_are_bounded() {
        let s = sources("concatenate", &["a.yaml", "b.yaml"], &["GET /a"]);
        let big = vec![b'#'; MAX_SOURCE_BYTES / 2 + 1];
        let mut read = |s: &Source| Ok((big.clone(), s.pinned.clone()));
        let e = match assemble(&s.sources[0], &mut read, keys) {
            Err(e) => e,
            Ok(_) => panic!("two files past the bound were read"),
        };
        assert!(e.message.contains("bytes together"), "{e}");
        assert_eq!(e.file, Path::new("upstream/b.yaml"));
    }

    /// The document `bundle_file` reads: `root.yaml` in `upstream/`, beside `files`.
    fn bundle(name: &str, root: &str, files: &[(&str, &str)]) -> (Folder, Result<Value>) {
        let mut all = vec![("root.yaml", root)];
        all.extend_from_slice(files);
        let folder = Folder::new(name, &all);
        let path = folder.0.path().join("upstream/root.yaml");
        let bytes = std::fs::read(&path).unwrap();
        let result = bundle_file(&path, bytes);
        (folder, result)
    }

    const SPLIT_ROOT: &str = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\ntags:\n  - name: a\n    description:\n      $ref: 'prose.yml#/intro'\npaths:\n  /a:\n    $ref: 'resources/a/a_get.yml'\n  /b:\n    post:\n      $ref: 'resources/a/b_post.yml'\n";

    #[test]
    fn a_document_split_into_files_is_bundled_from_its_own_folder() {
        let (_f, doc) = bundle(
            "split",
            SPLIT_ROOT,
            &[
                ("prose.yml", "intro: Some words.\n"),
                (
                    "resources/a/a_get.yml",
                    "get:\n  operationId: getA\n  parameters:\n    - $ref: '../../common/parameters.yml#/page'\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema:\n            $ref: 'models/a.yml'\n          example:\n            schema: {$ref: 'https://example.com/s.json#x'}\n  x-codeSamples:\n    - $ref: 'examples/curl/a.yml'\n",
                ),
                (
                    "resources/a/b_post.yml",
                    "operationId: postB\nresponses:\n  '204':\n    description: done\n",
                ),
                (
                    "resources/a/models/a.yml",
                    "type: object\nproperties:\n  next:\n    $ref: 'a.yml'\n  more:\n    type: object\n    properties:\n      $ref: 'attributes.yml#/ids'\n",
                ),
                (
                    "resources/a/models/attributes.yml",
                    "ids:\n  ids:\n    type: array\n    items: {type: integer}\n",
                ),
                (
                    "common/parameters.yml",
                    "page:\n  name: page\n  in: query\n  schema: {type: integer}\n",
                ),
            ],
        );
        let doc = doc.unwrap();
        // prose is copied in place, never a component
        assert_eq!(
            doc.pointer("/tags/0/description"),
            Some(&json!("Some words."))
        );
        let get = doc.pointer("/paths/~1a/get").unwrap();
        assert_eq!(
            get["parameters"][0]["$ref"],
            "#/components/parameters/parameters_page"
        );
        assert_eq!(
            doc.pointer("/components/parameters/parameters_page/name"),
            Some(&json!("page"))
        );
        let schema = get.pointer("/responses/200/content/application~1json/schema/$ref");
        assert_eq!(schema, Some(&json!("#/components/schemas/a")));
        // the self-reference ends (copied once)
        assert_eq!(
            doc.pointer("/components/schemas/a/properties/next/$ref"),
            Some(&json!("#/components/schemas/a"))
        );
        // a whole `properties` map is names, copied in place, not a schema
        assert_eq!(
            doc.pointer("/components/schemas/a/properties/more/properties/ids/type"),
            Some(&json!("array"))
        );
        // an operation is copied in place too (there is no component for one)
        assert_eq!(
            doc.pointer("/paths/~1b/post/operationId"),
            Some(&json!("postB"))
        );
        // an extension's or an example's `$ref` is a value: not read (the file does not exist
        // here), no component
        assert_eq!(
            get["x-codeSamples"],
            json!([{"$ref": "examples/curl/a.yml"}])
        );
        assert_eq!(
            get.pointer("/responses/200/content/application~1json/example/schema/$ref"),
            Some(&json!("https://example.com/s.json#x"))
        );
        assert_eq!(doc["components"]["schemas"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn a_map_of_components_in_another_file_is_the_components() {
        // Lago's: `components/schemas: {$ref: ./schemas/_index.yaml}`, an index of files
        let root = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /customers:\n    $ref: './resources/customers.yaml'\ncomponents:\n  schemas:\n    $ref: './schemas/_index.yaml'\n  parameters:\n    $ref: './parameters/_index.yaml'\n  securitySchemes:\n    bearer: {type: http, scheme: bearer}\n";
        let (_f, doc) = bundle(
            "maps",
            root,
            &[
                (
                    "resources/customers.yaml",
                    "get:\n  operationId: list\n  parameters:\n    - $ref: '../parameters/page.yaml'\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema: {$ref: '../schemas/Customer.yaml'}\n",
                ),
                (
                    "schemas/_index.yaml",
                    "Customer:\n  $ref: './Customer.yaml'\nCountry:\n  $ref: './CountryOrNull.yaml'\nInline: {type: integer}\n",
                ),
                (
                    "schemas/Customer.yaml",
                    "type: object\nproperties:\n  country: {$ref: './CountryOrNull.yaml'}\n",
                ),
                ("schemas/CountryOrNull.yaml", "type: string\n"),
                ("parameters/_index.yaml", "page:\n  $ref: './page.yaml'\n"),
                (
                    "parameters/page.yaml",
                    "name: page\nin: query\nschema: {type: integer}\n",
                ),
            ],
        );
        let doc = doc.unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
        assert_eq!(names, ["Customer", "Country", "Inline"], "{doc:#}");
        assert_eq!(schemas["Customer"]["type"], "object");
        // the index's key names what the operations reach too
        assert_eq!(
            doc.pointer(
                "/paths/~1customers/get/responses/200/content/application~1json/schema/$ref"
            ),
            Some(&json!("#/components/schemas/Customer"))
        );
        assert_eq!(
            schemas["Customer"]["properties"]["country"]["$ref"],
            "#/components/schemas/Country"
        );
        assert_eq!(schemas["Country"], json!({"type": "string"}));
        assert_eq!(schemas["Inline"], json!({"type": "integer"}));
        assert_eq!(
            doc.pointer("/components/parameters/page/name"),
            Some(&json!("page"))
        );
        assert_eq!(
            doc.pointer("/paths/~1customers/get/parameters/0/$ref"),
            Some(&json!("#/components/parameters/page"))
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn a_document_whose_references_are_local_is_returned_as_parsed() {
        let root = "openapi: 3.0.0\npaths: {}\ncomponents:\n  schemas:\n    A: {type: string}\n    B: {$ref: '#/components/schemas/A'}\n";
        let (_f, doc) = bundle("local", root, &[]);
        assert_eq!(
            doc.unwrap(),
            crate::load::parse_bytes(root.as_bytes(), Path::new("r")).unwrap()
        );
    }

    #[test]
    fn a_document_never_makes_the_bundler_read_outside_its_folder() {
        for (name, r) in [
            ("dotdot", "../secret.yml"),
            ("deep-dotdot", "a/../../secret.yml"),
            ("absolute", "/etc/passwd"),
            ("url", "https://example.com/x.yml"),
            ("file-url", "file:///etc/passwd"),
            ("missing", "nothing-here.yml"),
        ] {
            let root = format!(
                "openapi: 3.0.0\npaths: {{}}\ncomponents:\n  schemas:\n    A:\n      $ref: '{r}'\n"
            );
            let (f, result) = bundle(name, &root, &[]);
            std::fs::write(f.0.path().join("secret.yml"), "type: string\n").unwrap();
            let e = result.unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("/components/schemas/A/$ref"),
                "{name}: {text}"
            );
            assert!(
                text.contains("only files inside the document's folder"),
                "{name}: {text}"
            );
            assert!(!text.contains('\n'), "{name}: one line: {text}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_folder_is_refused() {
        let root =
            "openapi: 3.0.0\npaths: {}\ncomponents:\n  schemas:\n    A:\n      $ref: 'link.yml'\n";
        let folder = Folder::new("symlink", &[("root.yaml", root)]);
        std::fs::write(folder.0.path().join("secret.yml"), "type: string\n").unwrap();
        std::os::unix::fs::symlink(
            folder.0.path().join("secret.yml"),
            folder.0.path().join("upstream/link.yml"),
        )
        .unwrap();
        let path = folder.0.path().join("upstream/root.yaml");
        let e = bundle_file(&path, std::fs::read(&path).unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .contains("is not a file inside the document's folder"),
            "{e}"
        );
    }
}
