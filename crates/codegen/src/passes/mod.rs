//! The passes over a vendor's document, one unit per pass ([`Pass`]: its name, its stage, what
//! it does, and the pass itself), in the one ordered list [`PIPELINE`], a file per family.
//!
//! Mechanical fixes any vendor spec may need before progenitor sees it. Each pass is small, named,
//! and reports every change it makes (pointer, what and why), so nothing is silently edited.
//! Vendor-specific corrections do not belong here: they are overlay actions with their evidence.
//!
//! Three stages ([`Stage`]): input passes run once on the document as read; normalisation passes
//! run before the overlay (and again after it); the fixes, for what progenitor 0.15 cannot
//! generate, run after the overlay (so a vendor correction always takes precedence over a
//! mechanical fix). Each is tested against a small spec that fails without it
//! (`tests/passes/<pass>.yaml`).
//!
//! A pass that marks the document for the generator (an `x-agentstatus-*` key) carries on the
//! same unit what undoes the mark: its token rewrite after generation ([`Pass::rewrite`]) and its
//! export restore ([`Pass::restore`]), so no pass is left out of the list. A rewrite of the
//! generated code that no document pass causes is a pass of its own, of the fourth stage
//! ([`Stage::Generated`], `generated.rs`): it changes no document, only the code.

mod bodies;
pub(crate) mod cookies;
mod enums;
pub(crate) mod examples;
mod forms;
mod generated;
pub(crate) mod inheritance;
mod input;
mod names;
mod open_enums;
mod openapi31;
mod parameters;
mod path_styles;
mod refs;
mod responses;
mod secrets;
mod security;
#[cfg(test)]
mod tests;
mod type_names;
mod types;

use std::path::Path;

use proc_macro2::TokenStream;
use serde_json::Value;

use crate::error::Result;

#[cfg(test)]
pub(crate) use bodies::MEDIA_TYPES;
pub(crate) use open_enums::CRATE as RUNTIME_CRATE;
pub(crate) use secrets::{SECRET_TYPE, secret_string_schema};
pub(crate) use type_names::type_origins;
pub(crate) use types::{format_without_type, string_booleans};

/// Where in the pipeline a pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Once, on the vendor's document as read, before anything else: what a document may not
    /// decide.
    Input,
    /// Before the overlay (and again after it, for what the overlay adds): mechanical problems
    /// any document may have.
    Normalise,
    /// After the overlay: what progenitor 0.15 cannot generate.
    Fix,
    /// After generation, for every document: a rewrite of the generated code that no document
    /// pass causes and that changes no document (a request method reqwest lacks, the runtime's
    /// path segments, the authenticated constructors).
    Generated,
}

/// Who runs the pipeline, and so what it does with a hole in the document itself (a `$ref` to
/// nothing): refuse it, naming it, or recover what it can and say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A vendor's build (`build.rs`, `cargo xtask check`, `regen`, `export`): the document is
    /// this workspace's own slice, and a hole in it is an error naming it, corrected in the
    /// vendor's overlay with evidence, never papered over. [`crate::Codegen::vendor`]'s mode,
    /// and that of [`crate::run_stage`].
    #[default]
    Strict,
    /// A user's document the workspace has never seen (`cargo xtask try`, `corpus`): as much
    /// of it as can be generated, every recovery one line with its pointer and what it cost
    /// (the passes that run only here: [`Pass::best_effort_only`]).
    /// [`crate::Codegen::document`]'s mode.
    BestEffort,
}

/// One change made by a normalisation pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The pass that made it, e.g. `string-booleans`.
    pub pass: &'static str,
    /// Where, as a JSON pointer into the document.
    pub pointer: String,
    /// What was changed and why: one line, its control, bidi and line-separator characters
    /// written as `\u{..}` escapes.
    pub message: String,
}

/// The changes of a run of passes, each stamped with the name of the pass that made it: a pass
/// says where and what ([`Changes::push`]), never who.
#[derive(Debug, Default)]
pub struct Changes {
    pass: &'static str,
    list: Vec<Change>,
}

impl Changes {
    /// Record a change at `pointer` (a JSON pointer into the document): what, and why. The
    /// message is one visible line whatever it quotes from the document (a media type key, a
    /// name, a value): its control, bidi and line-separator characters are written as `\u{..}`
    /// escapes here, where every pass's message is made ([`crate::reason::visible`]). The
    /// pointer is kept as it is (it finds the place); whoever prints it escapes it.
    pub fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.list.push(Change {
            pass: self.pass,
            pointer: pointer.into(),
            message: crate::reason::visible(&message.into()),
        });
    }

    /// The changes, in the order they were made.
    pub fn into_vec(self) -> Vec<Change> {
        self.list
    }
}

impl std::ops::Deref for Changes {
    type Target = [Change];
    fn deref(&self) -> &[Change] {
        &self.list
    }
}

/// One pass over the document: its name (as reported in [`Change::pass`]), its stage, what it
/// does in one sentence (ARCHITECTURE.md's table), the pass itself, and, for a pass that marks
/// the document for the generator, the token rewrite after generation and the export restore
/// that undo the mark.
#[derive(Clone, Copy)]
pub struct Pass {
    name: &'static str,
    stage: Stage,
    docs: &'static str,
    run: fn(&mut Value, &mut Changes),
    rewrite: Option<Rewrite>,
    restore: Option<fn(&mut Value)>,
    best_effort: bool,
}

/// A rewrite of the generated tokens of a document (read from the file, named in errors).
pub(crate) type Rewrite = fn(&Value, &Path, TokenStream) -> Result<TokenStream>;

impl Pass {
    /// A pass with neither token rewrite nor export restore.
    pub(crate) const fn new(
        name: &'static str,
        stage: Stage,
        docs: &'static str,
        run: fn(&mut Value, &mut Changes),
    ) -> Self {
        Pass {
            name,
            stage,
            docs,
            run,
            rewrite: None,
            restore: None,
            best_effort: false,
        }
    }

    /// A generated-code pass ([`Stage::Generated`]): `rewrite` only, on the generated tokens of
    /// every document; it changes no document.
    pub(crate) const fn generated(
        name: &'static str,
        docs: &'static str,
        rewrite: Rewrite,
    ) -> Self {
        Pass::new(name, Stage::Generated, docs, |_, _| {}).with_rewrite(rewrite)
    }

    /// With `rewrite`, run on the generated tokens of a document this pass has run over.
    pub(crate) const fn with_rewrite(mut self, rewrite: Rewrite) -> Self {
        self.rewrite = Some(rewrite);
        self
    }

    /// With `restore`, which undoes the pass's marks for readers of the document other than
    /// this generator (`cargo xtask export`).
    pub(crate) const fn with_restore(mut self, restore: fn(&mut Value)) -> Self {
        self.restore = Some(restore);
        self
    }

    /// Run only in [`Mode::BestEffort`]: a recovery from a hole in the document itself, which a
    /// vendor's build must refuse by name instead.
    pub(crate) const fn in_best_effort_only(mut self) -> Self {
        self.best_effort = true;
        self
    }

    /// Does it run only in [`Mode::BestEffort`] (`try`, `corpus`), never in a vendor's build?
    pub fn best_effort_only(&self) -> bool {
        self.best_effort
    }

    /// Its name, as reported in [`Change::pass`], e.g. `string-booleans`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where in the pipeline it runs.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// What it does, in one sentence (ARCHITECTURE.md's list of passes).
    pub fn docs(&self) -> &'static str {
        self.docs
    }

    /// Does it rewrite the generated tokens after generation?
    pub fn rewrites_tokens(&self) -> bool {
        self.rewrite.is_some()
    }

    /// Does it restore the document for export?
    pub fn restores_on_export(&self) -> bool {
        self.restore.is_some()
    }
}

impl std::fmt::Debug for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pass")
            .field("name", &self.name)
            .field("stage", &self.stage)
            .field("rewrite", &self.rewrite.is_some())
            .field("restore", &self.restore.is_some())
            .field("best_effort", &self.best_effort)
            .finish_non_exhaustive()
    }
}

/// Every pass, in the order they run: the input passes, the normalisation passes, the fixes,
/// the generated-code passes.
pub(crate) static PIPELINE: &[&Pass] = &[
    &input::GENERATOR_EXTENSIONS,
    &inheritance::INHERITANCE_CYCLES,
    &responses::OPERATIONS_WITHOUT_RESPONSES,
    &openapi31::OPENAPI_3_1,
    &security::SECURITY_SCOPES,
    &enums::CONSTANT_ONE_OF,
    &refs::DEEP_REFS,
    &refs::ENUM_BESIDE_REF,
    &refs::ALL_OF_DOCUMENTATION,
    &refs::ALL_OF_NARROWED_ENUMS,
    &bodies::MEDIA_TYPE_KEYS,
    &types::STRING_BOOLEANS,
    &types::BOOLEAN_REQUIRED,
    &types::FORMAT_WITHOUT_TYPE,
    &types::UNKNOWN_FORMATS,
    &types::UNSUPPORTED_PATTERNS,
    &enums::ENUM_VALUE_TYPES,
    &examples::CONTRADICTING_EXAMPLES,
    &examples::CONTRADICTING_DEFAULTS,
    &types::NULLABLE_WITHOUT_TYPE,
    &types::ONE_OF_BESIDE_ANY_OF,
    &parameters::DUPLICATE_PARAMETERS,
    &parameters::IDENTICAL_PATHS,
    &parameters::PATH_PARAMETERS_DECLARED,
    &parameters::PATH_PARAMETERS_REQUIRED,
    &parameters::NULLABLE_PARAMETERS,
    &names::OPERATION_IDS,
    &refs::DANGLING_SCHEMA_REFS,
    &bodies::JSON_MEDIA_TYPES,
    &parameters::PARAMETER_CONTENT,
    &forms::QUERY_PARAMETER_STYLES,
    &path_styles::PATH_PARAMETER_STYLES,
    &path_styles::HEADER_PARAMETER_STYLES,
    &forms::FORM_BODIES,
    &cookies::COOKIE_PARAMETERS,
    &bodies::UNSUPPORTED_REQUEST_BODIES,
    &bodies::RAW_REQUEST_BODIES,
    &responses::RESPONSES_WITHOUT_SCHEMA,
    &responses::DEFAULT_RESPONSES,
    &responses::ONE_RESPONSE_TYPE,
    &names::COLLIDING_PROPERTIES,
    &parameters::HEADER_PARAMETER_NAMES,
    &parameters::COLLIDING_PARAMETERS,
    &types::NULLABLE_COMPONENTS,
    &types::OVERLAPPING_ANY_OF,
    &parameters::SHARED_PARAMETER_TYPES,
    &type_names::COLLIDING_TYPE_NAMES,
    &enums::ENUM_VARIANT_NAMES,
    &secrets::SECRET_STRINGS,
    &open_enums::OPEN_RESPONSE_ENUMS,
    &generated::METHODS_BY_NAME,
    &generated::RUNTIME_CALLS,
    &generated::OPEN_ENUM_TURBOFISH,
    &generated::AUTHENTICATED_CONSTRUCTORS,
    &generated::PATH_FRAGMENTS,
    &generated::UNUSED_TYPES_IMPORT,
];

/// Run the passes of `stage` in order over `doc` as a vendor's build does ([`Mode::Strict`]),
/// returning the changes made.
pub(crate) fn run(stage: Stage, doc: &mut Value) -> Vec<Change> {
    run_in(stage, Mode::Strict, doc)
}

/// Run the passes of `stage` that `mode` runs, in order, over `doc`, returning the changes made.
pub(crate) fn run_in(stage: Stage, mode: Mode, doc: &mut Value) -> Vec<Change> {
    run_passes(
        PIPELINE
            .iter()
            .filter(|p| p.stage == stage && (mode == Mode::BestEffort || !p.best_effort))
            .copied(),
        doc,
    )
}

/// Run `passes` in order over `doc`, returning the changes made.
pub(crate) fn run_passes<'a>(
    passes: impl IntoIterator<Item = &'a Pass>,
    doc: &mut Value,
) -> Vec<Change> {
    let mut changes = Changes::default();
    for pass in passes {
        changes.pass = pass.name;
        (pass.run)(doc, &mut changes);
    }
    changes.into_vec()
}

/// The token rewrites of the passes, in pipeline order, over the generated code of `doc` (read
/// from `file`).
pub(crate) fn rewrite(doc: &Value, file: &Path, mut tokens: TokenStream) -> Result<TokenStream> {
    for rewrite in PIPELINE.iter().filter_map(|p| p.rewrite) {
        tokens = rewrite(doc, file, tokens)?;
    }
    Ok(tokens)
}

/// Undo the passes' marks on a prepared document for readers other than this generator (an
/// exported document): each pass's export restore, in pipeline order.
pub(crate) fn restore(doc: &mut Value) {
    for restore in PIPELINE.iter().filter_map(|p| p.restore) {
        restore(doc);
    }
}
