//! `cargo xtask try <FILE> [--out DIR]`: any OpenAPI document through the whole pipeline
//! (normalise, fixes, generate with failure isolation) into a standalone crate, compiled. The
//! corpus (`cargo xtask corpus`) and the pass corpus's compile test run the same steps.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agentstatus_codegen::{Error, ErrorKind, Location, generate_document, load, nav};
use serde_json::Value;

use crate::gate::{self, Checked};

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
    let doc = load::parse_bytes(&bytes, path)?;
    if !doc.is_object() || doc.get("openapi").and_then(Value::as_str).is_none() {
        return Err(Error::new(
            ErrorKind::Invalid,
            path,
            Location::Pointer("/openapi".into()),
            match doc.get("swagger") {
                Some(_) => "a Swagger 2.0 document: convert it to OpenAPI 3 first".to_string(),
                None => "not an OpenAPI 3 document (no `openapi` version)".to_string(),
            },
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

    /// The crate compiled (and its round trips, if any, passed).
    pub fn compiles(&self) -> bool {
        self.check.as_ref().is_some_and(|c| c.ok) && !matches!(self.roundtrip, Some(Err(_)))
    }
}

/// A crate name for `file`: `try-<stem>` in lowercase letters, digits and dashes.
pub fn crate_name(prefix: &str, file: &Path) -> String {
    let stem = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("document")
        .split('.')
        .next()
        .unwrap_or("document");
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    if name.is_empty() {
        name = "document".into();
    }
    format!("{prefix}-{name}")
}

/// Generate `doc` (read from `file`) into the crate `name` in `dir` and compile it.
pub fn run(
    root: &Path,
    doc: Value,
    file: &Path,
    dir: &Path,
    name: &str,
) -> Result<Coverage, Error> {
    let document = nav::count_operations(&doc);
    let original = doc.clone();
    let before: Vec<(String, String)> = nav::operations(&doc)
        .into_iter()
        .map(|(p, m, _)| (p.to_string(), m.to_string()))
        .collect();
    let start = Instant::now();
    let (generated, isolated) = generate_document(doc, file)?;
    let codegen = start.elapsed();
    let after = &generated.prepared.doc;
    let reasons: BTreeMap<String, String> = isolated
        .skipped
        .iter()
        .map(|s| (s.operation.clone(), s.reason.clone()))
        .collect();
    let mut skipped = BTreeMap::new();
    for (path, method) in &before {
        let still = after
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|i| i.get(method))
            .is_some();
        if still {
            continue;
        }
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
    let io = |e: String| Error::new(ErrorKind::Io, dir, Location::File, e);
    gate::write_crate(root, dir, name, &generated.code).map_err(io)?;
    let check = gate::check(root, dir).map_err(io)?;
    let roundtrip = if check.ok && gate::write_roundtrip(dir, &original).map_err(io)? {
        Some(gate::test(root, dir))
    } else {
        None
    };
    Ok(Coverage {
        roundtrip,
        document,
        generated: generated_ops,
        compiled: if check.ok { generated_ops } else { 0 },
        skipped,
        dropped: isolated
            .dropped
            .into_iter()
            .map(|d| (d.pointer, d.reason))
            .collect(),
        codegen,
        check: Some(check),
    })
}

/// `cargo xtask try`: exit 0 when the crate compiles, 1 when it does not, 2 when the document
/// cannot be read (or the pipeline cannot run).
pub fn try_command(root: &Path, file: &Path, out: Option<PathBuf>) -> u8 {
    let doc = match read_document(file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let name = crate_name("try", file);
    let dir = out.unwrap_or_else(|| gate::target_dir(root).join("try").join(&name));
    eprintln!("try: {} -> {}", file.display(), dir.display());
    let coverage = match run(root, doc, file, &dir, &name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for (pointer, reason) in &coverage.dropped {
        println!("dropped {pointer}: {reason}");
    }
    for (op, reason) in &coverage.skipped {
        println!("skipped {op}: {}", reason.replace('\n', " "));
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
    if coverage.compiles() { 0 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_are_cargo_names() {
        assert_eq!(
            crate_name("try", Path::new("/x/Zendesk API.v2.yaml")),
            "try-zendesk-api"
        );
        assert_eq!(crate_name("try", Path::new("/x/.yaml")), "try-document");
    }
}
