//! `cargo xtask try <FILE> [--out DIR] [--no-compile]`: any OpenAPI document through the whole
//! pipeline (normalise, fixes, generate with failure isolation) into a standalone crate,
//! compiled. The corpus (`cargo xtask corpus`) and the pass corpus's compile test run the same
//! steps.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use agentstatus_codegen::{Codegen, Error, ErrorKind, Isolated, Location, Mode, nav, reason};
use serde_json::Value;

use crate::error::{Error as Outcome, Exit};
use crate::gate::{self, Checked};
use crate::workspace::Workspace;

/// The largest document `try` and `corpus` read (decompressed).
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// Read a JSON or YAML document, gzip-compressed when its name ends in `.gz`.
pub fn read_document(path: &Path) -> Result<Value, Error> {
    let io = |e: std::io::Error| Error::new(ErrorKind::Io, path, Location::File, e.to_string());
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    let limit = MAX_DOCUMENT_BYTES + 1;
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        file.take(limit).read_to_end(&mut bytes).map_err(io)?;
    }
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::new(
            ErrorKind::Io,
            path,
            Location::File,
            format!("larger than {} MiB", MAX_DOCUMENT_BYTES >> 20),
        ));
    }
    // a document in several files (relative `$ref`s inside its folder) is made one first
    let mut doc = agentstatus_codegen::bundle_file(path, bytes)?;
    // Swagger 2.0 is converted (another `swagger` version is refused, naming it)
    agentstatus_codegen::upgrade_swagger2(&mut doc, path)?;
    if !doc.is_object() || doc.get("openapi").and_then(Value::as_str).is_none() {
        return Err(Error::new(
            ErrorKind::Invalid,
            path,
            Location::Pointer("/openapi".into()),
            "not an OpenAPI document (no `openapi` or `swagger` version)",
        ));
    }
    Ok(doc)
}

/// One document through the pipeline.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Operations in the document as read.
    pub document: usize,
    /// Operations in the generated client.
    pub generated: usize,
    /// Operations that compile: all generated ones when the crate compiles, else none.
    pub compiled: usize,
    /// Operations left out, with the reason: `METHOD /path` -> why.
    pub skipped: BTreeMap<String, String>,
    /// Component schemas left out, with the reason.
    pub dropped: Vec<(String, String)>,
    /// What the best-effort passes recovered (holes in the document itself that a vendor's
    /// build refuses: `Mode::BestEffort`), each `(pointer, pass, what it did and kept)`.
    pub recovered: Vec<(String, &'static str, String)>,
    /// Time spent preparing and generating.
    pub codegen: Duration,
    /// The compile check (None when nothing was generated).
    pub check: Option<Checked>,
    /// The document's round trips (`x-agentstatus-roundtrip`), when it has some and the crate
    /// compiles: `Err` says what failed.
    pub roundtrip: Option<Result<(), String>>,
}

impl Coverage {
    /// `N operations in the document, G generated, C compiled, S skipped (codegen x s, compile y s)`.
    pub fn line(&self) -> String {
        format!(
            "{} operations in the document, {} generated, {} compiled ({:.1}%), {} skipped (codegen {:.1} s, compile {})",
            self.document,
            self.generated,
            self.compiled,
            100.0 * self.compiled as f64 / self.document.max(1) as f64,
            self.skipped.len(),
            self.codegen.as_secs_f64(),
            match &self.check {
                Some(c) => format!("{:.1} s", c.elapsed.as_secs_f64()),
                None => "-".into(),
            }
        )
    }

    /// What was left out, by root cause, each with what it cost: a component that cannot be
    /// generated is named once, not once per operation that reaches it.
    pub fn causes(&self) -> Vec<agentstatus_codegen::Cause> {
        Isolated {
            skipped: self
                .skipped
                .iter()
                .map(|(operation, reason)| agentstatus_codegen::Skipped {
                    operation: operation.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            dropped: self
                .dropped
                .iter()
                .map(|(pointer, reason)| agentstatus_codegen::Dropped {
                    pointer: pointer.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        }
        .causes()
    }

    /// The crate compiled (and its round trips, if any, passed).
    pub fn compiles(&self) -> bool {
        self.check.as_ref().is_some_and(|c| c.ok) && !matches!(self.roundtrip, Some(Err(_)))
    }
}

/// The longest name part [`crate_name`] takes from a file name, in characters: with its prefix
/// and the gate's suffix ([`gate::package_name`]) the crate's file names stay far below any
/// file system's limit.
const MAX_STEM: usize = 40;

/// A crate name for `file`: `<prefix>-<stem>`, from any file name. The stem (the name before
/// its first `.`) in lowercase ASCII letters and digits, every other run of characters (`--`,
/// spaces, punctuation, non-ASCII) one `-`, at most [`MAX_STEM`] characters: a valid Cargo
/// package name whose library name (`-` read as `_`) is snake case (no `__`, no leading digit,
/// never empty), so the crate compiles without a `non_snake_case` warning.
pub fn crate_name(prefix: &str, file: &Path) -> String {
    let stem = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default();
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
        if name.len() >= MAX_STEM {
            break;
        }
    }
    let name = name.trim_matches('-');
    let name = if name.is_empty() { "document" } else { name };
    let prefix = prefix.trim_matches('-');
    if prefix.is_empty() {
        format!("try-{name}")
    } else {
        format!("{prefix}-{name}")
    }
}

/// How many times a crate that does not compile is regenerated without the parts its errors
/// are in.
const COMPILE_ROUNDS: usize = 4;

/// Generate `doc` (read from `file`) into the crate `name` in `dir` and compile it. When it does
/// not compile, the component schemas and operations the errors are in are left out (with
/// everything that reaches them) and it is generated again, a few rounds at most.
pub fn run(
    root: &Path,
    doc: Value,
    file: &Path,
    dir: &Path,
    name: &str,
    compile: bool,
) -> Result<Coverage, Error> {
    let document = nav::count_operations(&doc);
    let original = doc.clone();
    let before: Vec<(String, String)> = nav::operations(&doc)
        .into_iter()
        .map(|(p, m, _)| (p.to_string(), m.to_string()))
        .collect();
    let mut source = doc;
    let mut compile_isolated = Isolated::default();
    let mut codegen = Duration::ZERO;
    let io = |e: String| Error::new(ErrorKind::Io, dir, Location::File, e);
    let mut round = 0;
    let (generated, check) = loop {
        round += 1;
        let start = Instant::now();
        // a user's document: best effort, every recovery said (a vendor's build is strict)
        let generated = Codegen::document(source.clone(), file)
            .mode(Mode::BestEffort)
            .prepare()?
            .generate()?;
        codegen += start.elapsed();
        gate::write_crate(root, dir, name, &generated.code).map_err(io)?;
        if !compile {
            break (generated, None);
        }
        let check = gate::check(root, dir).map_err(io)?;
        if check.ok || round > COMPILE_ROUNDS {
            break (generated, Some(check));
        }
        let culprits = compile_culprits(
            &generated.code,
            &check.client_lines,
            &generated.prepared.doc,
            &generated.prepared.type_origins(),
        );
        let mut removed = false;
        for c in culprits {
            let reason = reason::visible(&format!(
                "its generated code does not compile ({})",
                c.error
            ));
            match c.part {
                Part::Component(pointer) if source.pointer(&pointer).is_some() => {
                    compile_isolated.remove_component(&mut source, &pointer, &reason);
                    removed = true;
                }
                Part::Operation(path, method) => {
                    if nav::remove_operation(&mut source, &path, &method).is_some() {
                        compile_isolated.skipped.push(agentstatus_codegen::Skipped {
                            operation: nav::operation_label(&path, &method),
                            reason,
                        });
                        removed = true;
                    }
                }
                Part::Component(_) => {}
            }
        }
        if !removed {
            break (generated, Some(check));
        }
    };
    let after = &generated.prepared.doc;
    let isolated = &generated.isolated;
    let reasons: BTreeMap<String, String> = isolated
        .skipped
        .iter()
        .chain(&compile_isolated.skipped)
        .map(|s| (s.operation.clone(), s.reason.clone()))
        .collect();
    let mut skipped = BTreeMap::new();
    // an operation a pass moved (a path parameter renamed) is still there
    for (path, method) in &nav::missing_operations(&before, after) {
        let label = nav::operation_label(path, method);
        let pointer = nav::operation_pointer(path, method);
        let reason = reasons
            .get(&label)
            .cloned()
            .or_else(|| {
                generated
                    .prepared
                    .changes
                    .iter()
                    .find(|c| c.pointer == pointer)
                    .map(|c| format!("{}: {}", c.pass, c.message))
            })
            .unwrap_or_else(|| "removed by the pipeline".into());
        skipped.insert(label, reason);
    }
    let generated_ops = nav::count_operations(after);
    let compiled = check.as_ref().is_some_and(|c| c.ok);
    let roundtrip = if compiled && gate::write_roundtrip(dir, &original).map_err(io)? {
        Some(gate::test(root, dir))
    } else {
        None
    };
    Ok(Coverage {
        roundtrip,
        document,
        generated: generated_ops,
        compiled: if compiled { generated_ops } else { 0 },
        skipped,
        dropped: isolated
            .dropped
            .iter()
            .cloned()
            .chain(compile_isolated.dropped)
            .map(|d| (d.pointer, d.reason))
            .collect(),
        recovered: generated
            .prepared
            .changes
            .iter()
            .filter(|c| {
                agentstatus_codegen::pipeline()
                    .iter()
                    .any(|p| p.name() == c.pass && p.best_effort_only())
            })
            .map(|c| (c.pointer.clone(), c.pass, c.message.clone()))
            .collect(),
        codegen,
        check,
    })
}

/// A part of the document that generated code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Component(String),
    Operation(String, String),
}

#[derive(Debug)]
struct Culprit {
    part: Part,
    error: String,
}

/// The item a line (1-based) of the generated code belongs to ([`line_items`]).
#[cfg(test)]
fn item_at(lines: &[&str], line: usize) -> Option<String> {
    line.checked_sub(1)
        .and_then(|i| line_items(lines).into_iter().nth(i))
        .flatten()
}

/// What a brace of prettyplease's output opens.
#[derive(Clone)]
enum Scope {
    /// A `struct`, `enum` or `impl` of a type the document names.
    Item(String),
    /// The client's own (`impl Client`, the authenticated constructors): no part of the
    /// document is at fault there.
    Client,
    /// A module, a function, a block: its lines are its enclosing item's.
    Through,
}

/// The item each line of the generated code (prettyplease's output) belongs to: the innermost
/// `struct`, `enum` or `impl` whose header or body holds it, by the braces (outside string and
/// character literals); an item's doc comment and attributes (a derive list over several
/// lines) are the item's they stand before, a field's are its struct's. `None` outside any
/// item, and inside the client's own (`Client`).
fn line_items(lines: &[&str]) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = vec![None; lines.len()];
    // the scopes open at each brace depth
    let mut stack: Vec<Scope> = Vec::new();
    // doc comment and attribute lines waiting for the line they stand before
    let mut pending: Vec<usize> = Vec::new();
    // an item header read up to its `{` (or `;`): its kind, its lines, its text
    let mut header: Option<(Vec<usize>, String)> = None;
    // brackets still open in a multi-line attribute
    let mut attribute = 0i32;
    let enclosing =
        |stack: &[Scope]| match stack.iter().rev().find(|s| !matches!(s, Scope::Through)) {
            Some(Scope::Item(name)) => Some(name.clone()),
            _ => None,
        };
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if attribute > 0 || (header.is_none() && t.starts_with("#[")) {
            for c in structural(line) {
                attribute += match c {
                    '[' => 1,
                    ']' => -1,
                    _ => 0,
                };
            }
            pending.push(i);
            continue;
        }
        if header.is_none() && (t.starts_with("///") || t.starts_with("//")) {
            pending.push(i);
            continue;
        }
        if header.is_none() && item_kind(t).is_some() {
            header = Some((std::mem::take(&mut pending), String::new()));
        }
        if let Some((held, text)) = header.as_mut() {
            held.push(i);
            text.push(' ');
            text.push_str(t);
        } else {
            let owner = enclosing(&stack);
            for p in pending.drain(..).chain([i]) {
                out[p] = owner.clone();
            }
        }
        for c in structural(line) {
            match c {
                '{' | ';' if header.is_some() => {
                    let (held, text) = header.take().expect("a header");
                    let text = text.split(['{', ';']).next().unwrap_or_default();
                    let scope = item_scope(text);
                    let owner = match &scope {
                        Scope::Item(name) => Some(name.clone()),
                        Scope::Client => None,
                        Scope::Through => enclosing(&stack),
                    };
                    for p in held {
                        out[p] = owner.clone();
                    }
                    if c == '{' {
                        stack.push(scope);
                    }
                }
                '{' => stack.push(Scope::Through),
                '}' => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    out
}

/// The characters of `line` outside string and character literals (lifetimes kept out too).
fn structural(line: &str) -> Vec<char> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => {
                // a raw string `r#"..."#` ends at its quote and hashes
                let mut hashes = 0;
                while i > hashes && chars[i - hashes - 1] == '#' {
                    hashes += 1;
                }
                let raw = i > hashes && chars[i - hashes - 1] == 'r';
                i += 1;
                while i < chars.len() {
                    if !raw && chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == '"'
                        && (!raw
                            || chars[i + 1..]
                                .iter()
                                .take(hashes)
                                .filter(|c| **c == '#')
                                .count()
                                == hashes)
                    {
                        i += if raw { hashes } else { 0 };
                        break;
                    }
                    i += 1;
                }
            }
            '\'' => {
                // `'{'` and `'\''` are characters; `'a` is a lifetime
                if chars.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The kind of item a trimmed line starts (`pub struct`, `enum`, `impl`, `mod`, `fn` ...).
fn item_kind(t: &str) -> Option<&'static str> {
    let t = ["pub(crate) ", "pub(super) ", "pub "]
        .iter()
        .find_map(|v| t.strip_prefix(v))
        .unwrap_or(t);
    let t = t.strip_prefix("async ").unwrap_or(t);
    ["struct", "enum", "impl", "mod", "fn", "trait", "union"]
        .into_iter()
        .find(|k| {
            t.strip_prefix(k)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '<', '(']))
        })
}

/// The scope an item header (its text up to its `{`) opens: `struct X`, `enum X`,
/// `impl<'a> X<'a>`, `impl Trait<A> for super::X` are `X`'s.
fn item_scope(header: &str) -> Scope {
    let t = header.trim();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let scope = |name: String| match name.as_str() {
        "" => Scope::Through,
        "Client" => Scope::Client,
        _ => Scope::Item(name),
    };
    let kind = item_kind(t);
    let rest = t[t.find(kind.unwrap_or_default()).unwrap_or(0)..]
        .trim_start_matches(kind.unwrap_or_default());
    match kind {
        Some("struct" | "enum" | "union") => scope(ident(rest)),
        Some("impl") => {
            // the impl's own generics, then the type after a top-level ` for `
            let mut rest = rest.trim_start();
            if rest.starts_with('<') {
                let mut depth = 0;
                for (i, c) in rest.char_indices() {
                    depth += match c {
                        '<' => 1,
                        '>' => -1,
                        _ => 0,
                    };
                    if depth == 0 {
                        rest = &rest[i + 1..];
                        break;
                    }
                }
            }
            let mut depth = 0;
            let mut target = rest;
            for (i, c) in rest.char_indices() {
                depth += match c {
                    '<' => 1,
                    '>' => -1,
                    _ => 0,
                };
                if depth == 0 && rest[i..].starts_with(" for ") {
                    target = &rest[i + 5..];
                }
            }
            // the type's path before its generics: its last segment
            let path = target.trim().split('<').next().unwrap_or_default();
            scope(ident(path.rsplit("::").next().unwrap_or_default()))
        }
        _ => Scope::Through,
    }
}

/// The part of the document a type's schema is in, from its pointer ([`type_origins`]): a
/// component schema, or an operation's own parameter, body or answer. `None` for a schema
/// several operations share (a path's parameters, `components/parameters`).
///
/// [`type_origins`]: agentstatus_codegen::Prepared::type_origins
fn part_of(pointer: &str) -> Option<Part> {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    match segments.as_slice() {
        ["components", "schemas", name, ..] => {
            Some(Part::Component(format!("/components/schemas/{name}")))
        }
        ["paths", path, method, ..]
            if [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(method) =>
        {
            Some(Part::Operation(unescape(path), method.to_string()))
        }
        _ => None,
    }
}

/// The components and operations the compile errors at `lines` of `code` are in: the schema
/// the erring type is made from (`origins`, the type names the codegen predicts with their
/// schemas' pointers), else the operation or component the type is named after.
fn compile_culprits(
    code: &str,
    lines: &[(usize, String)],
    doc: &Value,
    origins: &BTreeMap<String, String>,
) -> Vec<Culprit> {
    let text: Vec<&str> = code.lines().collect();
    let items = line_items(&text);
    let components: Vec<(String, String)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .map(|k| {
                    (
                        nav::type_name(k),
                        format!(
                            "/components/schemas/{}",
                            k.replace('~', "~0").replace('/', "~1")
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let operations: Vec<(String, String, String)> = nav::operations(doc)
        .into_iter()
        .filter_map(|(p, m, op)| {
            let id = op.get("operationId")?.as_str()?;
            Some((nav::type_name(id), p.to_string(), m.to_string()))
        })
        .collect();
    let mut out: Vec<Culprit> = Vec::new();
    for (line, headline) in lines {
        let line = *line;
        let Some(item) = line
            .checked_sub(1)
            .and_then(|i| items.get(i))
            .cloned()
            .flatten()
        else {
            continue;
        };
        let error = format!("line {line}, in `{item}`: {headline}");
        // the schema the type is made from, where the codegen knows it
        if let Some(part) = origins.get(&item).and_then(|p| part_of(p)) {
            if !out.iter().any(|c| c.part == part) {
                out.push(Culprit { part, error });
            }
            continue;
        }
        // the operation or component the item is, or the longest one it is named after
        // (`{OperationId}Response`, `{Schema}{Property}`)
        let op = operations
            .iter()
            .filter(|(n, _, _)| item.starts_with(n.as_str()))
            .max_by_key(|(n, _, _)| n.len());
        let component = components
            .iter()
            .filter(|(n, _)| item.starts_with(n.as_str()))
            .max_by_key(|(n, _)| n.len());
        let part = match (op, component) {
            (Some((n, p, m)), Some((c, _))) if n.len() >= c.len() => {
                Some(Part::Operation(p.clone(), m.clone()))
            }
            (_, Some((_, p))) => Some(Part::Component(p.clone())),
            (Some((_, p, m)), None) => Some(Part::Operation(p.clone(), m.clone())),
            (None, None) => None,
        };
        if let Some(part) = part
            && !out.iter().any(|c| c.part == part)
        {
            out.push(Culprit { part, error });
        }
    }
    out
}

/// This process's peak resident memory (Linux: `VmHWM`), in MiB.
pub fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

impl crate::flags::Try {
    /// Exit 0 when the crate compiles, 1 when it does not, 2 when the document cannot be read
    /// (or the pipeline cannot run).
    pub fn run(self, ws: &Workspace) -> crate::error::Result {
        let (root, file, compile) = (&ws.root, &self.file, !self.no_compile);
        let doc = read_document(file)?;
        let name = crate_name("try", file);
        let dir = self
            .out
            .unwrap_or_else(|| gate::target_dir(root).join("try").join(&name));
        eprintln!("try: {} -> {}", file.display(), dir.display());
        let coverage = run(root, doc, file, &dir, &name, compile)?;
        // each root cause once, with its cost; then what it cost, one short line each
        for (pointer, pass, what) in &coverage.recovered {
            println!(
                "recovered (best effort, {pass}) {}: {}",
                reason::visible(pointer),
                reason::one_line(what)
            );
        }
        let causes = coverage.causes();
        for cause in &causes {
            println!("cause {}", reason::one_line(&cause.to_string()));
        }
        let is_cause = |part: &str| causes.iter().any(|c| c.part == part);
        for (pointer, why) in coverage.dropped.iter().filter(|(p, _)| !is_cause(p)) {
            println!(
                "dropped {}: {}",
                reason::visible(pointer),
                reason::one_line(why)
            );
        }
        for (op, why) in coverage.skipped.iter().filter(|(o, _)| !is_cause(o)) {
            println!("skipped {op}: {}", reason::one_line(why));
        }
        let grouped = reason::by_cause(
            coverage
                .skipped
                .iter()
                .map(|(op, why)| (op.as_str(), why.as_str())),
        );
        if !grouped.is_empty() {
            println!("skipped, by cause:");
            for (cause, n, first) in &grouped {
                println!("  {}", reason::cause_line(cause, *n, first, "operation"));
            }
        }
        if let Some(check) = coverage.check.as_ref().filter(|c| !c.ok) {
            for e in &check.errors {
                eprint!("{e}");
            }
            eprintln!(
                "try: the generated crate does not compile ({} errors): {}",
                check.error_count,
                dir.display()
            );
        }
        if let Some(Err(e)) = &coverage.roundtrip {
            eprintln!("{e}\ntry: a round trip (x-agentstatus-roundtrip) failed");
        }
        println!("{}: {}", file.display(), coverage.line());
        if let Some(mib) = peak_memory_mib() {
            eprintln!("try: peak memory {mib} MiB");
        }
        if !compile {
            eprintln!("try: not compiled (--no-compile): {}", dir.display());
            return Ok(());
        }
        if coverage.compiles() {
            Ok(())
        } else {
            Err(Outcome::reported(Exit::Finding))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_traced_to_the_item_and_its_component() {
        let code = "pub mod types {\n    pub struct TicketType {\n        a: i64,\n    }\n    impl ::std::convert::From<&TicketType> for TicketType {\n        fn from(x: &TicketType) -> Self { x.clone() }\n    }\n    pub enum AgentStatusKind {\n        A,\n    }\n}\nimpl Client {\n    pub fn get_agent(&self) {}\n}\npub struct GetAgent<'a> {\n    client: &'a Client,\n}\npub struct GetAgentResponse {\n}\n";
        let text: Vec<&str> = code.lines().collect();
        assert_eq!(item_at(&text, 3).as_deref(), Some("TicketType"));
        assert_eq!(item_at(&text, 6).as_deref(), Some("TicketType"));
        assert_eq!(item_at(&text, 9).as_deref(), Some("AgentStatusKind"));
        assert_eq!(item_at(&text, 16).as_deref(), Some("GetAgent"));
        let doc = serde_json::json!({
            "paths": {"/agent": {"get": {"operationId": "get_agent"}}},
            "components": {"schemas": {"ticket_type": {}, "AgentStatus": {}, "Agent": {}}}
        });
        let lines: Vec<(usize, String)> = [3, 9, 16, 18]
            .into_iter()
            .map(|l| (l, "E0072: recursive type has infinite size".to_string()))
            .collect();
        let c = compile_culprits(code, &lines, &doc, &BTreeMap::new());
        assert!(
            c[0].error
                .ends_with("in `TicketType`: E0072: recursive type has infinite size")
        );
        let parts: Vec<&Part> = c.iter().map(|c| &c.part).collect();
        assert_eq!(
            parts,
            [
                &Part::Component("/components/schemas/ticket_type".into()),
                &Part::Component("/components/schemas/AgentStatus".into()),
                &Part::Operation("/agent".into(), "get".into()),
            ]
        );
        assert_eq!(
            nav::type_name("post-api-v1.agent_status"),
            "PostApiV1AgentStatus"
        );
        assert_eq!(nav::type_name("getAgent"), "GetAgent");
    }

    /// The generated code's shape (prettyplease's output of a `try` crate): a type whose derive
    /// list spans lines, a multi-line `impl ... for` header, the operations' builders, then the
    /// client's own authenticated constructors.
    const BUILDERS: &str = r#"pub mod types {
    pub struct Agent {
        pub id: i64,
    }
    #[derive(
        Clone,
        Copy,
        Debug
    )]
    pub enum AgentStatus {
        #[serde(rename = "on")]
        On,
    }
    impl ::std::convert::TryFrom<::std::string::String>
    for AgentStatus {
        type Error = self::error::ConversionError;
        fn try_from(value: ::std::string::String) -> Result<Self, Self::Error> {
            value.parse()
        }
    }
}
impl Client {
    pub fn get_agent(&self) -> builder::GetAgent<'_> {
        builder::GetAgent::new(self)
    }
}
pub mod builder {
    /// Builder for [`Client::get_agent`]
    #[derive(Debug, Clone)]
    pub struct GetAgent<'a> {
        client: &'a super::Client,
    }
    impl<'a> GetAgent<'a> {
        pub async fn send(self) -> Result<(), ()> {
            let url = format!("{}/agents/{}", client.baseurl, '{');
            let x = match y { _ => {} };
            Ok(())
        }
    }
}
/// Authenticated constructors
impl Client {
    pub fn with_bearer(base_url: &str) -> Self {
        let headers = vec![("authorization", "}")];
        Self::connect(base_url, headers)
    }
}
"#;

    #[test]
    fn a_line_is_blamed_on_the_item_that_holds_it() {
        let text: Vec<&str> = BUILDERS.lines().collect();
        let at = |needle: &str| {
            let line = text.iter().position(|l| l.contains(needle)).unwrap() + 1;
            item_at(&text, line)
        };
        // a derive list over several lines is the item's below it, not the one above
        assert_eq!(at("Copy,").as_deref(), Some("AgentStatus"));
        assert_eq!(at("#[serde(rename").as_deref(), Some("AgentStatus"));
        // a header split before ` for `
        assert_eq!(at("value.parse()").as_deref(), Some("AgentStatus"));
        assert_eq!(at("for AgentStatus {").as_deref(), Some("AgentStatus"));
        // the builder's body, braces in literals and blocks included
        assert_eq!(at("let x = match").as_deref(), Some("GetAgent"));
        assert_eq!(at("Ok(())").as_deref(), Some("GetAgent"));
        assert_eq!(at("Builder for").as_deref(), Some("GetAgent"));
        // the client's own code after the builders is no operation's: the last builder was
        // blamed (and its operation removed) for an error in the authenticated constructors
        assert_eq!(at("\"authorization\"").as_deref(), None);
        assert_eq!(at("Self::connect").as_deref(), None);
        assert_eq!(at("builder::GetAgent::new(self)").as_deref(), None);
        let doc = serde_json::json!({
            "paths": {"/agents/{id}": {"get": {"operationId": "get_agent"}}},
            "components": {"schemas": {"Agent": {}, "AgentStatus": {}}}
        });
        let line = |needle: &str| text.iter().position(|l| l.contains(needle)).unwrap() + 1;
        let lines = vec![
            (line("Self::connect"), "E0599: no function".to_string()),
            (line("Copy,"), "E0204: Copy".to_string()),
        ];
        let parts: Vec<Part> = compile_culprits(BUILDERS, &lines, &doc, &BTreeMap::new())
            .into_iter()
            .map(|c| c.part)
            .collect();
        assert_eq!(
            parts,
            [Part::Component("/components/schemas/AgentStatus".into())]
        );
    }

    #[test]
    fn an_error_in_a_type_is_blamed_on_the_schema_it_is_made_from() {
        // `BoxSettings` (titled) is `Account.settings`: the component whose Rust name it begins
        // with, `Box`, has nothing to do with it
        let doc = serde_json::json!({
            "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "paths": {"/jobs": {"get": {"operationId": "list_jobs", "responses": {"200": {
                "description": "ok", "content": {"application/json": {"schema": {
                    "title": "BoxJobs", "type": "object", "properties": {"n": {"type": "integer"}}}}}}}}}},
            "components": {"schemas": {
                "Box": {"type": "object", "properties": {"id": {"type": "string"}}},
                "Account": {"type": "object", "properties": {"settings": {
                    "title": "BoxSettings", "type": "object", "properties": {"a": {"type": "string"}}}}}
            }}
        });
        let prepared = Codegen::document(doc, Path::new("t.yaml"))
            .prepare()
            .unwrap();
        let origins = prepared.type_origins();
        assert_eq!(
            origins.get("BoxSettings").map(String::as_str),
            Some("/components/schemas/Account/properties/settings")
        );
        let code = "pub mod types {\n    pub struct BoxSettings {\n        pub a: i64,\n    }\n    pub struct BoxJobs {\n        pub n: i64,\n    }\n}\n";
        let lines = vec![(3, "E0277: x".to_string()), (6, "E0277: y".to_string())];
        let parts = |origins: &BTreeMap<String, String>| -> Vec<Part> {
            compile_culprits(code, &lines, &prepared.doc, origins)
                .into_iter()
                .map(|c| c.part)
                .collect()
        };
        // by the name alone, `Box` was blamed for both
        assert_eq!(
            parts(&BTreeMap::new()),
            [Part::Component("/components/schemas/Box".into())]
        );
        assert_eq!(
            parts(&origins),
            [
                Part::Component("/components/schemas/Account".into()),
                Part::Operation("/jobs".into(), "get".into())
            ]
        );
        assert_eq!(part_of("/paths/~1a~1{id}/parameters/0/schema"), None);
    }

    #[test]
    fn crate_names_are_cargo_names() {
        assert_eq!(
            crate_name("try", Path::new("/x/Zendesk API.v2.yaml")),
            "try-zendesk-api"
        );
        assert_eq!(crate_name("try", Path::new("/x/.yaml")), "try-document");
        assert_eq!(
            crate_name(
                "try",
                Path::new("/x/colliding-type-names--titled-containers.yaml")
            ),
            "try-colliding-type-names-titled-containers"
        );
        assert_eq!(
            crate_name("try", Path::new("/x/2020-09-14.yml")),
            "try-2020-09-14"
        );
        assert_eq!(
            crate_name("try", Path::new("/x/__Ünï code!!.json")),
            "try-n-code"
        );
        assert_eq!(crate_name("try", Path::new("/x/-_-.json")), "try-document");
        let long = format!("/x/{}.yaml", "a-".repeat(500));
        assert!(crate_name("try", Path::new(&long)).len() <= 4 + MAX_STEM);
        assert_eq!(crate_name("", Path::new("/x/a.yaml")), "try-a");
        for file in [
            "/x/a--b.yaml",
            "/x/A__B.yaml",
            "/x/9lives.json",
            "/x/x\u{202e}y.yaml",
            "/x/😀.yaml",
            "/x/a -- b -- .yaml",
        ] {
            let name = crate_name("try", Path::new(file));
            let lib = name.replace('-', "_");
            assert!(!lib.contains("__") && !lib.ends_with('_'), "{file}: {name}");
            assert!(
                lib.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{file}: {name}"
            );
        }
    }
}
