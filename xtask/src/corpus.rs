//! `cargo xtask corpus [--only NAMES] [--write]`: every document of `corpus/corpus.toml`
//! through the whole pipeline (`cargo xtask try`'s steps), compiled, and the table of what was
//! generated, compiled and skipped, with the time each step took.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Exit};
use crate::trial::{self, Coverage};
use crate::workspace::{Workspace, write_section};
use crate::{flags, gate};
use agentstatus_codegen::reason;

impl flags::Corpus {
    /// Exit 0 when every document compiles, 1 when one does not.
    pub fn run(self, ws: &Workspace) -> crate::error::Result {
        let (table, all) = table(&ws.root, self.only.as_deref())?;
        if self.write {
            let readme = ws.root.join("corpus/README.md");
            // with --only, the named documents' rows and notes replace theirs in the table
            // written before; the others stay as they were
            let table = match &self.only {
                Some(only) => {
                    let text = std::fs::read_to_string(&readme)
                        .map_err(|e| format!("{}: cannot read: {e}", readme.display()))?;
                    let before = text
                        .split_once(START)
                        .and_then(|(_, rest)| rest.split_once(END))
                        .map_or("", |(section, _)| section);
                    let names: Vec<String> = load(&ws.root)?.into_iter().map(|d| d.name).collect();
                    merge(before, &table, only, &names)
                }
                None => table,
            };
            write_section(&readme, START, END, &table, false)?;
            println!("corpus: wrote {}", readme.display());
        } else {
            print!("{table}");
        }
        if all {
            Ok(())
        } else {
            Err(Error::reported(Exit::Finding))
        }
    }
}

/// One entry of `corpus/corpus.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Document {
    /// Its short name (the crate is `corpus-<name>`).
    pub name: String,
    /// The file in `corpus/`.
    pub file: String,
    /// support desk, chat, contact centre, CRM, messaging, other.
    pub field: String,
    /// Where it comes from.
    pub repository: String,
    /// Its path in the repository.
    pub path: String,
    /// The commit it was copied at.
    pub commit: String,
    /// Its `openapi` version.
    pub openapi: String,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    document: Vec<Document>,
}

/// The corpus manifest.
pub fn load(root: &Path) -> Result<Vec<Document>, String> {
    let file = root.join("corpus/corpus.toml");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(manifest.document)
}

/// Run the corpus (or the documents named in `only`); returns the Markdown report and whether
/// every document compiled.
fn table(root: &Path, only: Option<&[String]>) -> Result<(String, bool), String> {
    let docs = load(root)?;
    if let Some(only) = only
        && let Some(unknown) = only.iter().find(|n| !docs.iter().any(|d| &d.name == *n))
    {
        return Err(format!(
            "corpus/corpus.toml has no document named {unknown:?}"
        ));
    }
    let mut rows: Vec<(Document, Result<Coverage, String>)> = Vec::new();
    for d in docs
        .into_iter()
        .filter(|d| only.is_none_or(|o| o.contains(&d.name)))
    {
        let file: PathBuf = root.join("corpus").join(&d.file);
        eprintln!("corpus: {} ({}) ...", d.name, d.file);
        let result = trial::read_document(&file)
            .and_then(|doc| {
                let dir = gate::target_dir(root).join("corpus").join(&d.name);
                trial::run(root, doc, &file, &dir, &format!("corpus-{}", d.name), true)
            })
            .map_err(|e| e.to_string());
        match &result {
            Ok(c) => {
                eprintln!("corpus: {}: {}", d.name, c.line());
                // best effort, every recovery said (a vendor's build refuses these)
                for (pointer, pass, what) in &c.recovered {
                    eprintln!(
                        "corpus: {}: recovered (best effort, {pass}) {}: {}",
                        d.name,
                        agentstatus_codegen::reason::visible(pointer),
                        agentstatus_codegen::reason::one_line(what)
                    );
                }
            }
            Err(e) => eprintln!("corpus: {}: error: {e}", d.name),
        }
        rows.push((d, result));
    }
    Ok(report(&rows))
}

fn report(rows: &[(Document, Result<Coverage, String>)]) -> (String, bool) {
    let mut out = String::from(
        "| document | field | OpenAPI | operations | generated | compiled | skipped | compiled % | codegen s | compile s |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut notes = String::new();
    let mut all = true;
    let (mut total_ops, mut total_compiled) = (0, 0);
    for (d, r) in rows {
        let source = format!(
            "[{}](https://github.com/{}/blob/{}/{})",
            d.name, d.repository, d.commit, d.path
        );
        match r {
            Ok(c) => {
                all &= c.compiles();
                total_ops += c.document;
                total_compiled += c.compiled;
                out.push_str(&format!(
                    "| {source} | {} | {} | {} | {} | {} | {} | {:.1}% | {:.1} | {} |\n",
                    d.field,
                    d.openapi,
                    c.document,
                    c.generated,
                    c.compiled,
                    c.skipped.len(),
                    100.0 * c.compiled as f64 / c.document.max(1) as f64,
                    c.codegen.as_secs_f64(),
                    c.check
                        .as_ref()
                        .map_or("-".into(), |k| format!("{:.1}", k.elapsed.as_secs_f64())),
                ));
                // the reasons, grouped by cause: one line each, with its count and the first
                let causes = reason::by_cause(
                    c.skipped
                        .iter()
                        .map(|(op, why)| (op.as_str(), why.as_str())),
                );
                for (cause, n, first) in &causes {
                    notes.push_str(&format!(
                        "- {}: {}\n",
                        d.name,
                        reason::cause_line(cause, *n, first, "operation")
                    ));
                }
                for (pointer, why) in c.dropped.iter().filter(|(_, w)| !w.starts_with("reaches ")) {
                    notes.push_str(&format!(
                        "- {}: component `{}` not generated: {}\n",
                        d.name,
                        reason::visible(pointer),
                        one_line(why)
                    ));
                }
                if let Some(k) = c.check.as_ref().filter(|k| !k.ok) {
                    let first = k.errors.first().map(|e| first_line(e)).unwrap_or_default();
                    notes.push_str(&format!(
                        "- {}: **does not compile** ({} errors; first: `{first}`)\n",
                        d.name, k.error_count
                    ));
                }
                if let Some(Err(e)) = &c.roundtrip {
                    notes.push_str(&format!(
                        "- {}: round trip failed: {}\n",
                        d.name,
                        first_line(e)
                    ));
                }
            }
            Err(e) => {
                all = false;
                out.push_str(&format!(
                    "| {source} | {} | {} | - | - | - | - | - | - | - |\n",
                    d.field, d.openapi
                ));
                notes.push_str(&format!("- {}: **error**: {}\n", d.name, one_line(e)));
            }
        }
    }
    out.push_str(&format!(
        "| **all** | | | {total_ops} | | {total_compiled} | | {:.1}% | | |\n",
        100.0 * total_compiled as f64 / total_ops.max(1) as f64
    ));
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    (out, all)
}

/// The rows and notes of `before` (a table [`report`] wrote) with those of the documents in
/// `only` replaced by `after`'s, in the manifest's order (`names`), and the total recomputed.
fn merge(before: &str, after: &str, only: &[String], names: &[String]) -> String {
    // `| [name](...` rows and `- name: ...` notes, by document
    let row_of = |line: &str| {
        line.strip_prefix("| [")
            .and_then(|r| r.split_once(']'))
            .map(|(n, _)| n.to_string())
    };
    let note_of = |line: &str| {
        line.strip_prefix("- ")
            .and_then(|r| r.split_once(": "))
            .map(|(n, _)| n.to_string())
    };
    let pick = |text: &str, name: &str| {
        let rows: Vec<String> = text
            .lines()
            .filter(|l| row_of(l).as_deref() == Some(name))
            .map(str::to_string)
            .collect();
        let notes: Vec<String> = text
            .lines()
            .filter(|l| note_of(l).as_deref() == Some(name))
            .map(str::to_string)
            .collect();
        (rows, notes)
    };
    let mut table = String::from(
        "| document | field | OpenAPI | operations | generated | compiled | skipped | compiled % | codegen s | compile s |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut notes = String::new();
    let (mut total_ops, mut total_compiled) = (0usize, 0usize);
    for name in names {
        let from = if only.contains(name) { after } else { before };
        let (rows, ns) = pick(from, name);
        for row in rows {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            total_ops += cells.get(4).and_then(|c| c.parse().ok()).unwrap_or(0);
            total_compiled += cells.get(6).and_then(|c| c.parse().ok()).unwrap_or(0);
            table.push_str(&row);
            table.push('\n');
        }
        for n in ns {
            notes.push_str(&n);
            notes.push('\n');
        }
    }
    table.push_str(&format!(
        "| **all** | | | {total_ops} | | {total_compiled} | | {:.1}% | | |\n",
        100.0 * total_compiled as f64 / total_ops.max(1) as f64
    ));
    if !notes.is_empty() {
        table.push('\n');
        table.push_str(&notes);
    }
    table
}

fn one_line(s: &str) -> String {
    reason::one_line(s)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_string()
}

const START: &str = "<!-- corpus:start (cargo xtask corpus --write) -->";
const END: &str = "<!-- corpus:end -->";

#[cfg(test)]
mod tests {
    #[test]
    fn a_partial_run_replaces_only_its_documents() {
        let row = |n: &str, ops: u32, c: u32| {
            format!(
                "| [{n}](https://x) | f | 3.0.0 | {ops} | {c} | {c} | {} | x% | 1.0 | 2.0 |\n",
                ops - c
            )
        };
        let before = format!(
            "| document |\n|---|\n{}{}{}| **all** | | | 30 | | 27 | | 90.0% | | |\n\n- a: 1 skipped (GET /x): old\n- b: 2 skipped (GET /y): old\n",
            row("a", 10, 9),
            row("b", 10, 8),
            row("c", 10, 10)
        );
        let after = format!(
            "| document |\n|---|\n{}| **all** | | | 10 | | 10 | | 100.0% | | |\n",
            row("b", 10, 10)
        );
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        let merged = super::merge(&before, &after, &["b".to_string()], &names);
        assert!(merged.contains(&row("a", 10, 9)), "{merged}");
        assert!(merged.contains(&row("b", 10, 10)), "{merged}");
        assert!(!merged.contains(&row("b", 10, 8)), "{merged}");
        assert!(merged.contains(&row("c", 10, 10)), "{merged}");
        assert!(
            merged.contains("| **all** | | | 30 | | 29 | | 96.7% | | |"),
            "{merged}"
        );
        assert!(merged.contains("- a: 1 skipped (GET /x): old"), "{merged}");
        assert!(!merged.contains("- b: "), "{merged}");
        // rows in the manifest's order
        assert!(merged.find("[a]").unwrap() < merged.find("[b]").unwrap());
        assert!(merged.find("[b]").unwrap() < merged.find("[c]").unwrap());
    }
}
