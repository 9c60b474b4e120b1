//! `cargo xtask coverage`: how much of each vendor's complete API the `full` feature generates.

use std::path::Path;

use agentstatus_codegen::nav::count_operations;
use agentstatus_codegen::sources::Sources;
use agentstatus_codegen::{Codegen, Error, SOURCES_FILE, read};

use crate::flags;
use crate::workspace::{Workspace, write_section};

impl flags::Coverage {
    pub fn run(self, ws: &Workspace) -> crate::error::Result {
        let vendors = ws.vendors(self.vendor.as_deref())?;
        let table = table(&ws.root, &ws.specs, vendors)?;
        if self.write_readme {
            let readme = ws.root.join("README.md");
            write_section(&readme, START, END, &table, false)?;
            println!("coverage: wrote {}", readme.display());
        } else {
            print!("{table}");
        }
        Ok(())
    }
}

/// The coverage table (markdown) for `vendors`: each complete API is generated and compiled
/// (the compile gate, `cargo check` of a standalone crate holding it).
fn table(root: &Path, specs: &Path, vendors: Vec<String>) -> Result<String, Error> {
    let mut table = String::from(
        "| vendor | operations in the upstream document | generated | compiled | hand-written | skipped | compiled % |\n|---|---|---|---|---|---|---|\n",
    );
    let mut notes = String::new();
    for v in vendors {
        let dir = specs.join(&v);
        let sources = Sources::load(&dir.join(SOURCES_FILE))?;
        let (upstream, _) = agentstatus_codegen::sources::build_full_document(
            &sources,
            &dir.join("openapi.yaml"),
            |s| {
                let path = dir.join(&s.pinned);
                Ok((read(&path)?, path))
            },
        )?;
        let total = count_operations(&upstream);
        let generated = Codegen::vendor(&dir).full(true).prepare()?.generate()?;
        let mut skipped = generated.isolated.skipped.clone();
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

/// The markers of the coverage table in README.md.
const START: &str = "<!-- coverage:start (cargo xtask coverage --write-readme) -->";
const END: &str = "<!-- coverage:end -->";
