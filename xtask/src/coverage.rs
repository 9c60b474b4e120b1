//! `cargo xtask coverage`: how much of each vendor's complete API the `full` feature generates.

use std::path::Path;

use agentstatus_codegen::sources::{METHODS, Sources};
use agentstatus_codegen::{Error, SOURCES_FILE, generate_vendor_full, load, regen};
use serde_json::Value;

fn count_operations(doc: &Value) -> usize {
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(_, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| METHODS.contains(&k.as_str()))
                .count()
        })
        .sum()
}

/// The coverage table (markdown) for `vendors`: each complete API is generated and compiled
/// (the compile gate, `cargo check` of a standalone crate holding it).
pub fn run(
    root: &Path,
    specs: &Path,
    vendors: Result<Vec<String>, Error>,
) -> Result<String, Error> {
    let mut table = String::from(
        "| vendor | operations in the upstream document | generated | compiled | hand-written | skipped | compiled % |\n|---|---|---|---|---|---|---|\n",
    );
    let mut notes = String::new();
    for v in vendors? {
        let dir = specs.join(&v);
        let sources = Sources::load(&dir.join(SOURCES_FILE))?;
        let (upstream, _) = regen::build_full_document(&sources, &dir.join("openapi.yaml"), |s| {
            let path = dir.join(&s.pinned);
            Ok((load::read(&path)?, path))
        })?;
        let total = count_operations(&upstream);
        let (generated, isolated) = generate_vendor_full(&dir)?;
        let mut skipped = isolated.skipped;
        // operations a fix had to leave out
        skipped.extend(generated.prepared.removed.iter().cloned());
        let handwritten = generated.prepared.handwritten.len();
        let made = count_operations(&generated.prepared.doc);
        let dir = crate::gate::target_dir(root).join("coverage").join(&v);
        let io = |e: String| {
            Error::new(
                agentstatus_codegen::ErrorKind::Io,
                &dir,
                agentstatus_codegen::Location::File,
                e,
            )
        };
        crate::gate::write_crate(root, &dir, &format!("coverage-{v}"), &generated.code)
            .map_err(io)?;
        let check = crate::gate::check(root, &dir).map_err(io)?;
        let compiled = if check.ok { made } else { 0 };
        if !check.ok {
            notes.push_str(&format!(
                "- {v}: **the generated API does not compile** ({} errors; first: `{}`)\n",
                check.error_count,
                check
                    .errors
                    .first()
                    .and_then(|e| e.lines().next())
                    .unwrap_or_default()
            ));
        }
        table.push_str(&format!(
            "| {v} | {total} | {made} | {compiled} | {handwritten} | {} | {:.1}% |\n",
            skipped.len(),
            100.0 * compiled as f64 / total.max(1) as f64
        ));
        for h in &generated.prepared.handwritten {
            notes.push_str(&format!(
                "- {v}: `{}` hand-written: {}\n",
                h.operation_id, h.reason
            ));
        }
        for s in &skipped {
            notes.push_str(&format!(
                "- {v}: `{}` skipped: {}\n",
                s.operation,
                s.reason.replace('\n', " ")
            ));
        }
    }
    if !notes.is_empty() {
        table.push('\n');
        table.push_str(&notes);
    }
    Ok(table)
}

/// The pipeline's passes as a Markdown table (`cargo xtask passes`), from the codegen's list.
pub fn pass_table() -> String {
    let mut out = String::from("| pass | stage | what it does |\n|---|---|---|\n");
    for (stage, pass) in agentstatus_codegen::pipeline() {
        let stage = match stage {
            agentstatus_codegen::Stage::Input => "input",
            agentstatus_codegen::Stage::Normalise => "normalise",
            agentstatus_codegen::Stage::Fix => "fix",
        };
        out.push_str(&format!(
            "| `{}` | {stage} | {} |\n",
            pass.name,
            pass.docs.replace('|', "\\|")
        ));
    }
    out
}

pub const PASSES_START: &str = "<!-- passes:start (cargo xtask passes --write-readme) -->";
pub const PASSES_END: &str = "<!-- passes:end -->";

pub const START: &str = "<!-- coverage:start (cargo xtask coverage --write-readme) -->";
pub const END: &str = "<!-- coverage:end -->";

/// Replace the table between the coverage markers of `readme`.
pub fn write_readme(readme: &Path, table: &str) -> Result<(), Error> {
    replace_between(readme, START, END, table)
}

/// Replace the text between the marker lines `start` and `end` of `file`.
pub fn replace_between(file: &Path, start: &str, end: &str, body: &str) -> Result<(), Error> {
    let io = |e: std::io::Error| {
        Error::new(
            agentstatus_codegen::ErrorKind::Io,
            file,
            agentstatus_codegen::Location::File,
            e.to_string(),
        )
    };
    let text = std::fs::read_to_string(file).map_err(io)?;
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        return Err(Error::new(
            agentstatus_codegen::ErrorKind::Invalid,
            file,
            agentstatus_codegen::Location::File,
            format!("no `{start}` ... `{end}` markers"),
        ));
    };
    let new = format!("{}{start}\n{body}{}", &text[..a], &text[b..]);
    std::fs::write(file, new).map_err(io)
}
