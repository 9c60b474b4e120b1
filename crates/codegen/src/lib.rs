//! Turns a vendor's OpenAPI documents into Rust client code.
//!
//! Data flow (see the workspace's ARCHITECTURE.md): vendor docs -> extract -> slice and merge ->
//! `specs/<vendor>/openapi.yaml` (pristine; [`sources`]) -> the passes ([`pipeline`]) -> the
//! [`overlay`] -> generate (progenitor + prettyplease, plus the authenticated constructors of the
//! document's security schemes). No network, no CLI: `build.rs` and `xtask` call this library.
//!
//! One way in, in the style of progenitor's `Generator`: a [`Codegen`] says what to generate (a
//! vendor folder, its complete API, or any document), [`Codegen::prepare`] runs the passes and
//! the overlay ([`Prepared`]), [`Prepared::generate`] writes the code ([`Generated`]).
//!
//! Every failure is an [`Error`] naming the file and the place in it (line and column, or a JSON
//! pointer); nothing here panics on bad input.
//!
//! ```no_run
//! use agentstatus_codegen::Codegen;
//! let out = Codegen::vendor("specs/libredesk").prepare()?.generate()?;
//! std::fs::write("client.rs", out.code).unwrap();
//! # Ok::<(), agentstatus_codegen::Error>(())
//! ```
#![warn(missing_docs)]

pub mod auth;
#[cfg(test)]
mod bounded_tests;
mod conformance;
mod error;
mod extract;
mod generate;
mod isolate;
mod load;
pub mod nav;
pub mod overlay;
mod passes;
mod prose;
pub mod reason;
mod regen;
mod slice;
pub mod sources;
mod surface;
mod swagger2;
mod tags;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use error::{Error, ErrorKind, Location, Result};
pub use extract::{Fence, find_fences, from_docs_page};
pub use generate::Handwritten;
pub use isolate::{Cause, Dropped, Isolated, Skipped};
pub use load::{clean, load_file, parse_bytes, read};
pub use passes::{Change, Mode, Pass, Stage};
pub use regen::{MAX_REFERENCED_FILES, bundle_file};
pub use slice::check_refs;
pub use surface::surface;
pub use swagger2::{Upgraded, upgrade as upgrade_swagger2};

/// Every pass of the pipeline, in the order they run (each knows its [`Stage`]).
pub fn pipeline() -> &'static [&'static Pass] {
    passes::PIPELINE
}

/// Run the passes of one `stage` over `doc`, in order, returning the changes made: the
/// normalisation passes as the build runs them before the overlay, say ([`Mode::Strict`]: no
/// best-effort recovery). (The whole pipeline, with its checks and the overlay, is
/// [`Codegen::prepare`].)
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

/// What a [`Codegen`] generates from.
#[derive(Debug, Clone)]
enum Input {
    /// A vendor folder under `specs/`: its `openapi.yaml` (the slice) or, `full`, its complete
    /// API (the source marked `full = true` in `sources.toml`, plus the kept operations it lacks).
    Vendor { spec_dir: PathBuf, full: bool },
    /// Any document, read from `file` (named in errors), no overlay.
    Document { doc: Value, file: PathBuf },
}

/// What to generate, and how: the one way into the codegen.
///
/// ```no_run
/// use agentstatus_codegen::Codegen;
/// // the vendor's slice: any part the generator cannot handle fails the build
/// let slice = Codegen::vendor("specs/rocketchat").prepare()?.generate()?;
/// // its complete API: what the generator cannot handle is left out and named
/// let full = Codegen::vendor("specs/rocketchat").full(true).prepare()?.generate()?;
/// for s in &full.isolated.skipped {
///     println!("not generated: {}: {}", s.operation, s.reason);
/// }
/// # Ok::<(), agentstatus_codegen::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Codegen {
    input: Input,
    passes: bool,
    isolate: Option<bool>,
    mode: Mode,
}

impl Codegen {
    /// A vendor folder under `specs/` (its `openapi.yaml` and `overlay.yaml`), in
    /// [`Mode::Strict`]: a hole in the vendor's document is an error naming it.
    pub fn vendor(spec_dir: impl Into<PathBuf>) -> Self {
        Codegen {
            input: Input::Vendor {
                spec_dir: spec_dir.into(),
                full: false,
            },
            passes: true,
            isolate: None,
            mode: Mode::Strict,
        }
    }

    /// Any OpenAPI document, read from `file` (which errors name), without an overlay, in
    /// [`Mode::BestEffort`] (a user's document: `try`, `corpus`): what can be recovered is,
    /// each recovery said in [`Prepared::changes`].
    pub fn document(doc: Value, file: impl Into<PathBuf>) -> Self {
        Codegen {
            input: Input::Document {
                doc,
                file: file.into(),
            },
            passes: true,
            isolate: None,
            mode: Mode::BestEffort,
        }
    }

    /// For a vendor: its complete API (the source marked `full = true` in `sources.toml`, plus
    /// the kept operations it lacks) rather than its slice. Normalised and overlaid like the
    /// slice. No effect on a [`Codegen::document`].
    pub fn full(mut self, full: bool) -> Self {
        if let Input::Vendor { full: f, .. } = &mut self.input {
            *f = full;
        }
        self
    }

    /// Whether an operation or component the generator cannot handle even after the passes is
    /// left out and named (in [`Generated::isolated`] and the generated file's header), together
    /// with everything that reaches it, so one odd part never fails the whole crate; else it fails
    /// the generation, naming it. By default, a vendor's slice is not isolated (every operation
    /// of it was chosen), its complete API and any document are.
    pub fn isolate(mut self, isolate: bool) -> Self {
        self.isolate = Some(isolate);
        self
    }

    /// Who runs the pipeline ([`Mode`]): a vendor's build refuses a hole in the document,
    /// naming it; a user's document is generated as far as it can be, every recovery said.
    /// By default [`Mode::Strict`] for a vendor, [`Mode::BestEffort`] for a document.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Hand the document to the generator as it is: no passes, no overlay (to see what the
    /// generator makes of a document on its own; the passes' tests do).
    pub fn without_passes(mut self) -> Self {
        self.passes = false;
        self
    }

    /// Load the document, run the passes and apply the overlay (if the vendor has one); see
    /// [`pipeline`] for the passes.
    pub fn prepare(self) -> Result<Prepared> {
        let isolate = self.isolate.unwrap_or(match &self.input {
            Input::Vendor { full, .. } => *full,
            Input::Document { .. } => true,
        });
        // the `full` document takes every overlay action, the slice all but the full-only ones
        let full_doc = !matches!(self.input, Input::Vendor { full: false, .. });
        let (doc, files, overlay, file) = match self.input {
            Input::Vendor {
                spec_dir,
                full: false,
            } => {
                let openapi = spec_dir.join(OPENAPI_FILE);
                let doc = load::load_file(&openapi)?;
                let overlay = spec_dir.join(OVERLAY_FILE);
                (doc, vec![openapi.clone()], Some(overlay), openapi)
            }
            Input::Vendor {
                spec_dir,
                full: true,
            } => {
                let sources_path = spec_dir.join(SOURCES_FILE);
                let sources = sources::Sources::load(&sources_path)?;
                let mut files = vec![sources_path.clone()];
                let (doc, _duplicates) =
                    regen::build_full_document(&sources, &spec_dir.join(OPENAPI_FILE), |s| {
                        let path = spec_dir.join(&s.pinned);
                        files.push(path.clone());
                        Ok((load::read(&path)?, path))
                    })?;
                // the complete API is what sources.toml names
                (doc, files, Some(spec_dir.join(OVERLAY_FILE)), sources_path)
            }
            Input::Document { doc, file } => (doc, Vec::new(), None, file),
        };
        let mut prepared = if self.passes {
            prepare_doc(overlay.as_deref(), full_doc, self.mode, doc, files, &file)?
        } else {
            Prepared {
                doc,
                changes: Vec::new(),
                overlay: Vec::new(),
                handwritten: Vec::new(),
                removed: Vec::new(),
                files,
                file: PathBuf::new(),
                passes: false,
                isolate,
            }
        };
        prepared.file = file;
        prepared.passes = self.passes;
        prepared.isolate = isolate;
        Ok(prepared)
    }
}

/// A document after the passes and the overlay, ready for generation ([`Prepared::generate`]).
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
    /// The file errors name (the vendor's `openapi.yaml`, its `sources.toml` for the complete
    /// API, or the document's file).
    file: PathBuf,
    /// Whether the passes ran: the pointers of errors are then into the prepared document.
    passes: bool,
    /// Whether [`Prepared::generate`] leaves out what the generator cannot handle.
    isolate: bool,
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

    /// Where each Rust type the generator will make for this document comes from: its name and
    /// the pointer of its schema (`/components/schemas/<key>`, an inline schema's pointer,
    /// an operation's parameter, body or answer schema), as the `colliding-type-names` pass
    /// predicts typify's names. A type a compile error sits in is the fault of that schema
    /// (`cargo xtask try`), not of a component its name happens to begin with.
    pub fn type_origins(&self) -> std::collections::BTreeMap<String, String> {
        passes::type_origins(&self.doc)
    }

    /// Generate the client code: progenitor's client, the authenticated constructors of the
    /// document's security schemes, formatted, under a header naming what was left out.
    pub fn generate(mut self) -> Result<Generated> {
        let (code, isolated) = if self.isolate {
            isolate::generate_isolating(&mut self.doc, &self.file)
        } else {
            generate::generate_with(&self.doc, &self.file, isolate::first_culprit)
                .map(|code| (code, Isolated::default()))
        }
        .map_err(|e| if self.passes { e.after_passes() } else { e })?;
        Ok(finish(code, self, isolated))
    }
}

/// The generated client of one vendor.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The generated Rust code (formatted).
    pub code: String,
    /// The document it was generated from, and what was changed on the way.
    pub prepared: Prepared,
    /// What was left out because the generator could not handle it (see [`Codegen::isolate`]).
    pub isolated: Isolated,
}

impl Generated {
    /// The crates the generated code uses beyond those every vendor crate has (`uuid` for
    /// `format: uuid`, `regress` for a `pattern`), so that the build script can say which
    /// dependency a crate lacks instead of leaving rustc to say "unresolved crate".
    pub fn extra_crates(&self) -> Vec<&'static str> {
        generate::extra_crates(&self.code)
    }

    /// The public surface of the generated client, one item per line (the `full` golden file).
    pub fn surface(&self) -> std::result::Result<String, syn::Error> {
        surface::surface(&self.code)
    }
}

/// The pipeline: the normalisation passes; the overlay, if the file exists; the normalisation
/// passes again when there was an overlay (for what its actions add or rename); the hand-written
/// operations taken out; the fixes; open response enums ([`pipeline`] lists the passes).
fn prepare_doc(
    overlay_file: Option<&Path>,
    full: bool,
    mode: Mode,
    mut doc: Value,
    mut files: Vec<PathBuf>,
    label: &Path,
) -> Result<Prepared> {
    // a Swagger 2.0 document is read as the OpenAPI 3.0 document it converts to
    swagger2::upgrade(&mut doc, label)?;
    let mut changes = passes::run_in(Stage::Input, mode, &mut doc);
    // what the generator would loop or overflow on is refused before any pass walks it
    nav::check_ref_graph(&doc)
        .map_err(|p| Error::at(ErrorKind::BrokenRef, label, p.pointer, p.message))?;
    changes.extend(passes::run_in(Stage::Normalise, mode, &mut doc));
    let overlay = match overlay_file.filter(|f| f.exists()) {
        Some(file) => {
            files.push(file.to_path_buf());
            let matched = overlay::OverlayFile::load(file)?.apply_for(&mut doc, full)?;
            changes.extend(passes::run_in(Stage::Normalise, mode, &mut doc));
            matched
        }
        None => Vec::new(),
    };
    let handwritten = generate::take_handwritten(&mut doc);
    let before: Vec<(String, String)> = nav::operations(&doc)
        .into_iter()
        .map(|(p, m, _)| (p.to_string(), m.to_string()))
        .collect();
    changes.extend(passes::run_in(Stage::Fix, mode, &mut doc));
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
        file: label.to_path_buf(),
        passes: true,
        isolate: false,
    })
}

fn finish(code: String, prepared: Prepared, isolated: Isolated) -> Generated {
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
    if let Ok(auth) = auth::plan(&prepared.doc, &prepared.file) {
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
        isolated,
    }
}
