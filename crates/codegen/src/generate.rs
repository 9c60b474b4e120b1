//! Code generation with progenitor (builder interface, hooks expected), pretty-printed with
//! prettyplease. progenitor/typify panic on some inputs: the panic is caught and turned into an
//! error naming the operation that caused it.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use progenitor::{CrateVers, GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result, escape_token};
use crate::nav;

/// Operations marked with this extension are left to hand-written code (a wire form progenitor
/// cannot express); its value says why. They are removed before generation.
pub const HANDWRITTEN: &str = "x-agentstatus-handwritten";

/// An operation left out of generation because it is written by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handwritten {
    /// JSON pointer of the operation.
    pub pointer: String,
    /// Its operationId.
    pub operation_id: String,
    /// Why it is hand-written (the overlay's `x-agentstatus-handwritten` reason).
    pub reason: String,
}

/// Remove the operations marked [`HANDWRITTEN`] from `doc`, returning them.
pub fn take_handwritten(doc: &mut Value) -> Vec<Handwritten> {
    let mut out = Vec::new();
    nav::retain_operations(doc, |path, method, op| {
        if op.get(HANDWRITTEN).is_none() {
            return true;
        }
        out.push(Handwritten {
            pointer: crate::nav::operation_pointer(path, method),
            operation_id: op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            // the overlay's text: one visible line, as every reason
            reason: crate::reason::visible(op[HANDWRITTEN].as_str().unwrap_or_default()),
        });
        false
    });
    out
}

/// Parse `doc` as an OpenAPI 3.0 document; a mismatch names its JSON pointer.
pub fn to_openapi(doc: &Value, file: &Path) -> Result<openapiv3::OpenAPI> {
    parse_openapi(doc).map_err(|(kind, pointer, message)| Error::at(kind, file, pointer, message))
}

/// [`to_openapi`] for a document that is no file's (a probe of part of one): the error as its
/// kind, JSON pointer and message.
pub(crate) fn parse_openapi(
    doc: &Value,
) -> std::result::Result<openapiv3::OpenAPI, (ErrorKind, String, String)> {
    if let Some(v) = doc.get("openapi").and_then(Value::as_str)
        && !v.starts_with("3.0.")
    {
        return Err((
            ErrorKind::Unsupported,
            "/openapi".into(),
            format!(
                "OpenAPI {v} is not supported by progenitor 0.15; only 3.0.x is (3.1 documents are converted by the `openapi-3-1` pass)"
            ),
        ));
    }
    serde_path_to_error::deserialize(doc).map_err(|e| {
        // openapiv3 wraps most objects in untagged enums (`ReferenceOr`), which hide both the
        // place and the reason: look again, one object at a time, for the deepest error.
        let (pointer, message) = locate_invalid(doc).unwrap_or_else(|| {
            (
                crate::overlay::json_pointer(e.path()),
                e.inner().to_string(),
            )
        });
        (
            ErrorKind::Invalid,
            pointer,
            format!("not a valid OpenAPI 3.0 document: {message}"),
        )
    })
}

/// The OpenAPI object kinds checked one at a time by [`locate_invalid`].
#[derive(Clone, Copy)]
enum Kind {
    Operation,
    Parameter,
    RequestBody,
    Response,
    Schema,
}

/// Deserialize `value` as `kind`; on error, descend into the part that failed.
fn check_as(value: &Value, kind: Kind, at: &str) -> Option<(String, String)> {
    fn de<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), (String, String)> {
        serde_path_to_error::deserialize::<_, T>(v)
            .map(|_| ())
            .map_err(|e| {
                (
                    crate::overlay::json_pointer(e.path()),
                    e.inner().to_string(),
                )
            })
    }
    if value.get("$ref").is_some() {
        return None;
    }
    let result = match kind {
        Kind::Operation => de::<openapiv3::Operation>(value),
        Kind::Parameter => de::<openapiv3::Parameter>(value),
        Kind::RequestBody => de::<openapiv3::RequestBody>(value),
        Kind::Response => de::<openapiv3::Response>(value),
        Kind::Schema => de::<openapiv3::Schema>(value),
    };
    let (rel, message) = result.err()?;
    // descend into a known child for a deeper place and a clearer reason
    let children: Vec<(String, &Value, Kind)> = match kind {
        Kind::Operation => {
            let mut c = Vec::new();
            for (i, p) in value
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                c.push((format!("/parameters/{i}"), p, Kind::Parameter));
            }
            if let Some(b) = value.get("requestBody") {
                c.push(("/requestBody".to_string(), b, Kind::RequestBody));
            }
            for (code, r) in value
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                c.push((
                    format!("/responses/{}", escape_token(code)),
                    r,
                    Kind::Response,
                ));
            }
            c
        }
        Kind::Parameter => value
            .get("schema")
            .map(|s| vec![("/schema".to_string(), s, Kind::Schema)])
            .unwrap_or_default(),
        Kind::RequestBody | Kind::Response => value
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(mt, m)| {
                m.get("schema").map(|s| {
                    (
                        format!("/content/{}/schema", escape_token(mt)),
                        s,
                        Kind::Schema,
                    )
                })
            })
            .collect(),
        Kind::Schema => Vec::new(),
    };
    for (rel_child, child, child_kind) in children {
        if let Some(found) = check_as(child, child_kind, &format!("{at}{rel_child}")) {
            return Some(found);
        }
    }
    Some((format!("{at}{rel}"), message))
}

/// Find the first invalid operation or component and say where and why.
fn locate_invalid(doc: &Value) -> Option<(String, String)> {
    for (path, method, op) in nav::operations(doc) {
        if let Some(found) = check_as(op, Kind::Operation, &nav::operation_pointer(path, method)) {
            return Some(found);
        }
    }
    let sections = [
        ("schemas", Kind::Schema),
        ("parameters", Kind::Parameter),
        ("requestBodies", Kind::RequestBody),
        ("responses", Kind::Response),
    ];
    for (section, kind) in sections {
        let entries = doc
            .pointer(&format!("/components/{section}"))
            .and_then(Value::as_object);
        for (name, v) in entries.into_iter().flatten() {
            if let Some(found) = check_as(
                v,
                kind,
                &format!("/components/{section}/{}", escape_token(name)),
            ) {
                return Some(found);
            }
        }
    }
    None
}

fn settings() -> GenerationSettings {
    let mut s = GenerationSettings::default();
    s.with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote::quote! { crate::Inner })
        .with_derive("PartialEq")
        // response enums are `agentstatus_runtime::OpenEnum<T>` (see `open_enums`)
        .with_crate(crate::passes::RUNTIME_CRATE, CrateVers::Any, None)
        // `format: password` strings are `agentstatus_runtime::SecretText` (see `secrets`)
        .with_conversion(
            crate::passes::secret_string_schema(),
            crate::passes::SECRET_TYPE,
            std::iter::empty(),
        );
    s
}

/// The stack generation runs on ([`on_generator_stack`]). progenitor and typify recurse once per
/// level of schema nesting and of composition, which the document's parse depth (YAML 64,
/// JSON 128) and [`crate::nav::check_ref_graph`] bound; this is far more than that bound takes
/// even in an unoptimised build script (only the pages used are ever committed), so a stack
/// overflow, which no `catch_unwind` can catch, cannot take the process down.
const GENERATOR_STACK: usize = 256 << 20;

/// Run `f` on a thread of its own with a [`GENERATOR_STACK`] stack.
pub(crate) fn on_generator_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("agentstatus-codegen".into())
            .stack_size(GENERATOR_STACK)
            .spawn_scoped(scope, f)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    "",
                    crate::Location::File,
                    format!("cannot start the generator's thread: {e}"),
                )
            })?;
        // `f` catches the generator's panics itself; anything else is a bug of ours
        Ok(handle.join().unwrap_or_else(|p| panic::resume_unwind(p)))
    })
}

/// Run progenitor, turning a panic into `Err(message)` (on the caller's thread: see
/// [`on_generator_stack`]).
pub(crate) fn run_generator(
    spec: &openapiv3::OpenAPI,
) -> std::result::Result<proc_macro2::TokenStream, String> {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        Generator::new(&settings()).generate_tokens(spec)
    }));
    panic::set_hook(previous);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(e.to_string()),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("generator panicked: {msg}"))
        }
    }
}

/// The crates the generated `code` uses beyond those every vendor crate has (`uuid` for
/// `format: uuid`, `regress` for a `pattern`), so that the build script can say which
/// dependency a crate lacks instead of leaving rustc to say "unresolved crate".
pub fn extra_crates(code: &str) -> Vec<&'static str> {
    ["uuid", "regress"]
        .into_iter()
        .filter(|c| code.contains(&format!("::{c}::")))
        .collect()
}

/// The path of `item` in the runtime crate the generated code calls
/// (`::agentstatus_runtime::item`).
pub(crate) fn runtime_item(item: &str) -> proc_macro2::TokenStream {
    let runtime = crate::passes::RUNTIME_CRATE.replace('-', "_");
    format!("::{runtime}::{item}").parse().expect("a path")
}

/// The component or operation at fault when the generator fails on a document, `(pointer,
/// message)` (`isolate::first_culprit`; none, for a caller that finds them itself).
pub(crate) type Culprit = fn(&Value) -> Option<(String, String)>;

/// Generate the client code for a normalised, overlaid document: progenitor's client, then the
/// passes' rewrites of it (the authenticated constructors of its security schemes among them:
/// [`crate::auth`]). When the generator
/// fails, `culprit` names the component or operation at fault
/// for the error (`isolate` finds them itself, all at once, and passes none).
pub(crate) fn generate_with(doc: &Value, file: &Path, culprit: Culprit) -> Result<String> {
    on_generator_stack(|| generate_here(doc, file, culprit))?
}

fn generate_here(doc: &Value, file: &Path, culprit: Culprit) -> Result<String> {
    crate::slice::check_refs(doc, file)?;
    // the vendor's prose, escaped before any of it is written into a doc comment beside the
    // generator's own links (`prose::escape_vendor`)
    let mut escaped = doc.clone();
    crate::prose::escape_document(&mut escaped);
    let doc = &escaped;
    let spec = to_openapi(doc, file)?;
    let tokens = match run_generator(&spec) {
        Ok(tokens) => tokens,
        Err(msg) => {
            // Name the component schema or operation at fault (see `isolate`); when none can
            // be singled out, the fault lies in how the components combine.
            let (pointer, msg) = culprit(doc).unwrap_or_else(|| ("/components".to_string(), msg));
            // one short line: progenitor's messages can carry a `Debug` dump of the whole part
            let msg = crate::reason::one_line(&msg);
            return Err(Error::at(ErrorKind::Unsupported, file, pointer, msg));
        }
    };
    drop(spec);
    // the passes' rewrites, in pipeline order: what the document passes' marks stand for, then
    // the generated-code passes (methods by name, runtime calls, authenticated constructors)
    let tokens = crate::passes::rewrite(doc, file, tokens)?;
    // the methods by tag (`tags`), for a client of hundreds of methods in one `impl`
    let mut tokens = tokens;
    tokens.extend(crate::tags::index(doc));
    // last: every doc comment is text rustdoc never compiles
    let tokens = crate::prose::doc_comments(tokens);
    let file_ast: syn::File = syn::parse2(tokens).map_err(|e| {
        Error::at(
            ErrorKind::Unsupported,
            file,
            "",
            format!("progenitor produced code that does not parse: {e}"),
        )
    })?;
    Ok(prettyplease::unparse(&file_ast))
}

#[cfg(test)]
mod extra_crates_tests {
    #[test]
    fn uuid_and_regress_are_named_when_used() {
        assert_eq!(super::extra_crates("pub id: ::uuid::Uuid,"), ["uuid"]);
        assert_eq!(
            super::extra_crates("::regress::Regex::new(\"^a$\") ::uuid::Uuid"),
            ["uuid", "regress"]
        );
        assert!(super::extra_crates("pub id: String").is_empty());
    }
}

#[cfg(test)]
mod media_type_tests {
    use std::path::Path;

    #[test]
    fn declared_json_media_types_are_sent_and_accepted() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/json-media-types.yaml");
        let doc = crate::load::load_file(&file).unwrap();
        let prepared = crate::Codegen::document(doc, &file).prepare().unwrap();
        let code = super::generate_with(&prepared.doc, &file, |_| None).unwrap();
        let flat: String = code.split_whitespace().collect();
        let vnd = "::std::option::Option::Some(\"application/vnd.api+json\")";
        // the GET accepts the declared type; the PATCH (through a shared response) also sends it
        let get = format!("declared_media_types(&mutrequest,::std::option::Option::None,{vnd},);");
        let patch = format!("declared_media_types(&mutrequest,{vnd},{vnd},);");
        assert_eq!(flat.matches(&get).count(), 1, "{code}");
        assert_eq!(flat.matches(&patch).count(), 1, "{code}");
        // typed answers, not byte streams
        assert!(!code.contains("ByteStream>"), "{code}");
    }

    #[test]
    fn export_restores_the_declared_media_types() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/json-media-types.yaml");
        let doc = crate::load::load_file(&file).unwrap();
        let prepared = crate::Codegen::document(doc, &file).prepare().unwrap();
        let doc = prepared.exported();
        let get = &doc["paths"]["/agents/{id}"]["get"];
        assert!(get["responses"]["200"]["content"]["application/vnd.api+json"].is_object());
        assert!(get.get(crate::passes::MEDIA_TYPES).is_none());
        let patch = &doc["paths"]["/agents/{id}"]["patch"];
        assert!(patch["requestBody"]["content"]["application/vnd.api+json"].is_object());
    }
}
