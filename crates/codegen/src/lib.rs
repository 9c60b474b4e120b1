//! Turns a vendor's OpenAPI documents into Rust client code.
//!
//! Data flow (see the workspace's ARCHITECTURE.md): vendor docs -> [`extract`] -> [`slice`](mod@slice) and merge ->
//! `specs/<vendor>/openapi.yaml` (pristine) -> [`normalise`] -> [`overlay`] -> [`generate`]
//! (progenitor + prettyplease, plus the authenticated constructors of [`auth`]). No network, no CLI: `build.rs` and `xtask` call this library.
//!
//! Every failure is an [`Error`] naming the file and the place in it (line and column, or a JSON
//! pointer); nothing here panics on bad input.
//!
//! ```no_run
//! let out = agentstatus_codegen::generate_vendor(std::path::Path::new("specs/libredesk")).unwrap();
//! std::fs::write("client.rs", out.code).unwrap();
//! ```
#![warn(missing_docs)]

pub mod auth;
mod conformance;
pub mod error;
pub mod extract;
pub mod generate;
pub mod isolate;
pub mod load;
pub mod nav;
pub mod overlay;
pub mod passes;
pub mod prose;
pub mod regen;
pub mod slice;
pub mod sources;
pub mod surface;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use error::{Error, ErrorKind, Location, Result};
pub use isolate::{Dropped, Isolated, Skipped};

pub use passes::{Change, Pass, Stage};

/// Every pass of the pipeline, in the order they run (each knows its [`Stage`]).
pub fn pipeline() -> &'static [&'static Pass] {
    passes::PIPELINE
}

/// Run the passes of one `stage` over `doc`, in order, returning the changes made: the
/// normalisation passes as the build runs them before the overlay, say. (The whole pipeline, with
/// its checks and the overlay, is [`prepare`].)
pub fn run_stage(stage: Stage, doc: &mut Value) -> Vec<Change> {
    passes::run(stage, doc)
}

/// The spec file and overlay of one vendor folder.
pub const OPENAPI_FILE: &str = "openapi.yaml";
/// The overlay file name in a vendor's spec folder.
pub const OVERLAY_FILE: &str = "overlay.yaml";
/// The sources file name in a vendor's spec folder.
pub const SOURCES_FILE: &str = "sources.toml";

/// The vendors under `specs`: its folders that have a `sources.toml`, sorted by name.
pub fn vendor_folders(specs: &Path) -> std::io::Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(specs)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(SOURCES_FILE).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    Ok(out)
}

/// A vendor document after normalisation and overlay, ready for generation.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The document after normalisation and the overlay: what the generator sees.
    pub doc: Value,
    /// What the normaliser changed.
    pub changes: Vec<Change>,
    /// How many nodes each overlay action matched.
    pub overlay: Vec<overlay::ActionMatch>,
    /// Operations left to hand-written code.
    pub handwritten: Vec<generate::Handwritten>,
    /// Operations a pass removed (an unsupported request body, say), with the pass's reason.
    pub removed: Vec<Skipped>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub files: Vec<PathBuf>,
}

impl Prepared {
    /// The document for its readers other than this generator (`cargo xtask export`): what the
    /// passes marked for the generator is undone (each pass's export restore, [`Pass`]), so
    /// every property is under its JSON name and every operation has its declared media types.
    pub fn exported(&self) -> Value {
        let mut doc = self.doc.clone();
        passes::restore(&mut doc);
        doc
    }
}

/// The generated client of one vendor.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The generated Rust code (formatted).
    pub code: String,
    /// The document it was generated from, and what was changed on the way.
    pub prepared: Prepared,
}

/// Load `openapi.yaml` and `overlay.yaml` from `spec_dir`, normalise, apply the overlay.
pub fn prepare(spec_dir: &Path) -> Result<Prepared> {
    let openapi = spec_dir.join(OPENAPI_FILE);
    let doc = load::load_file(&openapi)?;
    prepare_doc(
        Some(&spec_dir.join(OVERLAY_FILE)),
        doc,
        vec![openapi.clone()],
        &openapi,
    )
}

/// The vendor's complete API (the source marked `full = true` in `sources.toml`, plus the kept
/// operations it lacks), normalised and overlaid like the slice.
pub fn prepare_full(spec_dir: &Path) -> Result<Prepared> {
    let sources_path = spec_dir.join(SOURCES_FILE);
    let sources = sources::Sources::load(&sources_path)?;
    let mut files = vec![sources_path];
    let (doc, _duplicates) =
        regen::build_full_document(&sources, &spec_dir.join(OPENAPI_FILE), |s| {
            let path = spec_dir.join(&s.pinned);
            files.push(path.clone());
            Ok((load::read(&path)?, path))
        })?;
    let label = spec_dir.join("full API");
    prepare_doc(Some(&spec_dir.join(OVERLAY_FILE)), doc, files, &label)
}

/// Prepare a document that has no overlay: normalise, fix what the generator cannot handle,
/// open response enums.
pub fn prepare_document(doc: Value) -> Result<Prepared> {
    prepare_doc(None, doc, Vec::new(), Path::new("document"))
}

/// The pipeline: the normalisation passes; the overlay, if the file exists; the normalisation
/// passes again when there was an overlay (for what its actions add or rename); the hand-written
/// operations taken out; the fixes; open response enums ([`pipeline`] lists the passes).
fn prepare_doc(
    overlay_file: Option<&Path>,
    mut doc: Value,
    mut files: Vec<PathBuf>,
    label: &Path,
) -> Result<Prepared> {
    let mut changes = passes::run(Stage::Input, &mut doc);
    // what the generator would loop or overflow on is refused before any pass walks it
    nav::check_ref_graph(&doc)
        .map_err(|p| Error::at(ErrorKind::BrokenRef, label, p.pointer, p.message))?;
    changes.extend(passes::run(Stage::Normalise, &mut doc));
    let overlay = match overlay_file.filter(|f| f.exists()) {
        Some(file) => {
            files.push(file.to_path_buf());
            let matched = overlay::OverlayFile::load(file)?.apply(&mut doc)?;
            changes.extend(passes::run(Stage::Normalise, &mut doc));
            matched
        }
        None => Vec::new(),
    };
    let handwritten = generate::take_handwritten(&mut doc);
    let before: Vec<(String, String)> = nav::operations(&doc)
        .into_iter()
        .map(|(p, m, _)| (p.to_string(), m.to_string()))
        .collect();
    changes.extend(passes::run(Stage::Fix, &mut doc));
    // an operation a pass moved (a path parameter renamed) is still there
    let removed = nav::missing_operations(&before, &doc)
        .into_iter()
        .map(|(p, m)| {
            let pointer = nav::operation_pointer(&p, &m);
            Skipped {
                operation: nav::operation_label(&p, &m),
                reason: changes
                    .iter()
                    .find(|c| c.pointer == pointer)
                    .map(|c| format!("{}: {}", c.pass, c.message))
                    .unwrap_or_else(|| "removed by a fix".into()),
            }
        })
        .collect();
    Ok(Prepared {
        doc,
        changes,
        overlay,
        handwritten,
        removed,
        files,
    })
}

/// The whole pipeline for one vendor folder: prepare, then generate.
pub fn generate_vendor(spec_dir: &Path) -> Result<Generated> {
    let prepared = prepare(spec_dir)?;
    let label = spec_dir.join(format!("{OPENAPI_FILE} (after normalise + {OVERLAY_FILE})"));
    let code = generate::generate(&prepared.doc, &label)?;
    Ok(finish(code, prepared, &Isolated::default()))
}

/// The vendor's complete API. An operation or component the generator cannot handle even after
/// normalisation is left out and named (and in the generated file's header), together with
/// everything that reaches it, so one odd part never fails the whole crate (see [`isolate`]).
pub fn generate_vendor_full(spec_dir: &Path) -> Result<(Generated, Isolated)> {
    let prepared = prepare_full(spec_dir)?;
    let label = spec_dir.join("full API (after normalise + overlay)");
    generate_prepared(prepared, &label)
}

/// Any OpenAPI document (no overlay): prepare it, then generate what can be generated, naming
/// what was left out.
pub fn generate_document(doc: Value, label: &Path) -> Result<(Generated, Isolated)> {
    generate_prepared(prepare_doc(None, doc, Vec::new(), label)?, label)
}

fn generate_prepared(mut prepared: Prepared, label: &Path) -> Result<(Generated, Isolated)> {
    let (code, isolated) = isolate::generate_isolating(&mut prepared.doc, label)?;
    let generated = finish(code, prepared, &isolated);
    Ok((generated, isolated))
}

fn finish(code: String, prepared: Prepared, isolated: &Isolated) -> Generated {
    let mut header = String::from(
        "// @generated by agentstatus-codegen from the vendor spec + overlay.yaml. Do not edit:\n\
         // change the spec, the overlay or the codegen instead.\n",
    );
    let mut line = |text: String| {
        header.push_str("// ");
        header.push_str(&prose::comment_line(&text));
        header.push('\n');
    };
    for d in &isolated.dropped {
        line(format!(
            "Not generated: component `{}`: {}",
            d.pointer, d.reason
        ));
    }
    for s in &isolated.skipped {
        line(format!("Not generated: `{}`: {}", s.operation, s.reason));
    }
    if let Ok(auth) = auth::plan(&prepared.doc, Path::new("")) {
        for n in &auth.not_generated {
            line(format!(
                "No auth constructor: `{}` ({}): {}",
                n.requirement.join(" + "),
                n.pointer,
                n.reason
            ));
        }
    }
    for h in &prepared.handwritten {
        line(format!(
            "Hand-written, not generated: `{}` ({}): {}",
            h.operation_id, h.pointer, h.reason
        ));
    }
    Generated {
        code: header + &code,
        prepared,
    }
}
