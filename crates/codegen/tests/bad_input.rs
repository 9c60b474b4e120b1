//! Bad input never panics: each case is an error naming the file and the place in it.

use std::path::{Path, PathBuf};

use agentstatus_codegen::{Codegen, ErrorKind, Generated, Location, Mode, Result};

/// A vendor folder's slice, prepared and generated as the build script does.
fn generate_vendor(spec_dir: &Path) -> Result<Generated> {
    Codegen::vendor(spec_dir).prepare()?.generate()
}

/// `doc` handed to the generator as it is: no passes, nothing left out.
fn generate_as_is(doc: serde_json::Value, file: &Path) -> Result<Generated> {
    Codegen::document(doc, file)
        .without_passes()
        .isolate(false)
        .prepare()?
        .generate()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn a_good_spec_generates_after_normalise_and_overlay() {
    let out = generate_vendor(&fixture("ok")).unwrap();
    // operationId normalised, string boolean fixed, format-without-type fixed, overlay applied
    assert!(
        out.code.contains("pub fn get_thing_v1(&self)"),
        "{}",
        out.code
    );
    assert!(out.code.contains("pub size: ::std::option::Option<i64>"));
    let passes: Vec<_> = out
        .prepared
        .changes
        .iter()
        .map(|c| (c.pass, c.pointer.as_str()))
        .collect();
    assert_eq!(
        passes,
        [
            (
                "string-booleans",
                "/paths/~1things~1{id}/get/parameters/0/required"
            ),
            (
                "format-without-type",
                "/paths/~1things~1{id}/get/parameters/1/schema"
            ),
            ("operation-ids", "/paths/~1things~1{id}/get/operationId"),
        ]
    );
    assert_eq!(out.prepared.overlay[0].matched, 1);
    assert_eq!(out.prepared.files.len(), 2);
}

#[test]
fn broken_ref_names_the_ref() {
    let e = generate_vendor(&fixture("broken-ref")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BrokenRef);
    assert_eq!(
        e.pointer(),
        Some("/paths/~1things/get/responses/200/content/application~1json/schema/$ref")
    );
    let text = e.to_string();
    assert!(text.contains("broken-ref/openapi.yaml"), "{text}");
    assert!(text.contains("#/components/schemas/Missing"), "{text}");
}

/// The same hole in a user's document (`try`, `corpus`: `Mode::BestEffort`, the mode of
/// `Codegen::document`) is recovered, said in one line naming the ref, its pointer and what it
/// keeps; asked to be strict (and not to isolate), the document is refused as a vendor's is.
#[test]
fn a_users_document_recovers_the_broken_ref_and_says_so() {
    let path = fixture("broken-ref").join("openapi.yaml");
    let doc = agentstatus_codegen::load_file(&path).unwrap();
    let generated = Codegen::document(doc.clone(), &path)
        .prepare()
        .unwrap()
        .generate()
        .unwrap();
    let pointer = "/paths/~1things/get/responses/200/content/application~1json/schema/$ref";
    let said: Vec<_> = generated
        .prepared
        .changes
        .iter()
        .filter(|c| c.pass == "dangling-schema-refs")
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].pointer, pointer);
    for words in [
        "#/components/schemas/Missing",
        "any JSON value",
        "keeps the operation `/paths/~1things/get`",
    ] {
        assert!(
            said[0].message.contains(words),
            "{words}: {}",
            said[0].message
        );
    }
    assert!(
        generated.code.contains("pub async fn send("),
        "{}",
        generated.code
    );
    let e = Codegen::document(doc, &path)
        .mode(Mode::Strict)
        .isolate(false)
        .prepare()
        .and_then(|p| p.generate())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BrokenRef);
    assert_eq!(e.pointer(), Some(pointer));
}

#[test]
fn overlay_target_that_matches_nothing_names_the_action() {
    let e = generate_vendor(&fixture("overlay-no-match")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Overlay);
    assert!(e.file.ends_with("overlay-no-match/overlay.yaml"));
    assert_eq!(e.pointer(), Some("/actions/1/target"));
    assert!(e.to_string().contains("$.paths['/gone'].get"), "{e}");
}

#[test]
fn a_generator_panic_becomes_an_error_naming_the_operation() {
    // progenitor asserts one response type per operation: a panic inside the generator. Handed
    // to the generator as is (the `one-response-type` fix would otherwise merge the schemas).
    let generate = |name: &str| {
        let path = fixture(name).join("openapi.yaml");
        let doc = agentstatus_codegen::load_file(&path).unwrap();
        generate_as_is(doc, &path)
    };
    let e = generate("two-success-schemas").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(e.pointer(), Some("/paths/~1things/post"));
    assert!(e.message.contains("panicked"), "{e}");

    let e = generate("response-without-schema").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(e.pointer(), Some("/paths/~1things/get"));
}

#[test]
fn the_fixes_make_those_specs_generate_and_say_what_they_did() {
    for (name, pass) in [
        ("two-success-schemas", "one-response-type"),
        ("response-without-schema", "responses-without-schema"),
    ] {
        let out = generate_vendor(&fixture(name)).unwrap();
        assert!(
            out.prepared.changes.iter().any(|c| c.pass == pass),
            "{name}: {:?}",
            out.prepared.changes
        );
    }
}

#[test]
fn a_schema_typify_panics_on_is_caught() {
    // `format` with no `type`, handed to the generator without the normaliser: typify panics.
    let doc = serde_json::json!({
        "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "x",
            "parameters": [{"name": "sort", "in": "query", "schema": {"format": "object"}}],
            "responses": {"200": {"description": "ok"}}}}}
    });
    let e = generate_as_is(doc, Path::new("spec.yaml")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(e.pointer(), Some("/paths/~1x/get"));
}

#[test]
fn malformed_yaml_names_line_and_column() {
    let e = generate_vendor(&fixture("malformed-yaml")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(
        matches!(e.location, Location::LineColumn { line: 2 | 3, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("malformed-yaml/openapi.yaml:"),
        "{e}"
    );
}

#[test]
fn missing_spec_folder_is_an_io_error() {
    let e = generate_vendor(&fixture("does-not-exist")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
}

#[test]
fn invalid_openapi_names_the_pointer() {
    let doc = serde_json::json!({
        "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": 5}}}}}
    });
    let e = generate_as_is(doc, Path::new("spec.yaml")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.pointer(),
        Some("/paths/~1x/get/responses/200/description"),
        "{e}"
    );
    assert!(e.message.contains("expected a string"), "{e}");
}

#[test]
fn an_error_after_the_passes_points_into_the_prepared_document() {
    // no pass fixes a description that is not a string: the generator refuses the document the
    // passes prepared, and the error says its pointer is into that, not into the file
    let doc = serde_json::json!({
        "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "x",
            "responses": {"200": {"description": 5}}}}}
    });
    let e = Codegen::document(doc.clone(), "spec.yaml")
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap_err();
    assert_eq!(
        e.location,
        Location::Prepared("/paths/~1x/get/responses/200/description".into()),
        "{e}"
    );
    assert!(
        e.to_string().starts_with(
            "spec.yaml: at /paths/~1x/get/responses/200/description of the prepared document: "
        ),
        "{e}"
    );
    // handed over as it is, the same pointer is into the file
    let e = generate_as_is(doc, Path::new("spec.yaml")).unwrap_err();
    assert_eq!(
        e.location,
        Location::Pointer("/paths/~1x/get/responses/200/description".into())
    );
}

#[test]
fn a_media_type_no_header_may_carry_is_never_sent_by_the_generated_client() {
    // the hostile spec of the pass corpus: keys with a line break and control characters
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/json-media-types--hostile.yaml");
    let doc = agentstatus_codegen::load_file(&path).unwrap();
    let out = Codegen::document(doc, &path)
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap();
    let flat: String = out.code.split_whitespace().collect();
    // the well-formed JSON:API type is still sent and accepted
    assert!(
        flat.contains(r#"declared_media_types(&mutrequest,::std::option::Option::None,::std::option::Option::Some("application/vnd.api+json"),);"#),
        "{}",
        out.code
    );
    // nothing of the hostile keys reaches a header: one `declared_media_types` call in all
    assert_eq!(
        flat.matches("declared_media_types(").count(),
        1,
        "{}",
        out.code
    );
    assert!(!out.code.contains("x-injected"), "{}", out.code);
    assert!(!out.code.contains("\\u{7}") && !out.code.contains("\\u{1}"));
    // each hostile key is said once, with its pointer
    let said: Vec<_> = out
        .prepared
        .changes
        .iter()
        .filter(|c| c.message.contains("no HTTP header may carry"))
        .map(|c| c.pointer.as_str())
        .collect();
    assert_eq!(
        said,
        [
            "/paths/~1inject/post/requestBody/content/application~1vnd.x+json; charset=utf-8\nx-injected: 1",
            "/paths/~1status/get/responses/200/content/application~1vnd.x+json\u{7}",
            "/paths/~1upload/put/requestBody/content/application~1x-tar; a=\u{1}",
        ],
        "{:?}",
        out.prepared.changes
    );
}

/// Is `c` a character that must never reach a message raw: a control character (line feed,
/// carriage return, escape), a bidi override or isolate, a line or paragraph separator.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
        )
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Text of a document (a scheme's name, an HTTP scheme, a pointer's path, a `$ref`, a
/// description) reaches an error or a reason as one visible line: its control, bidi and line
/// separator characters are `\u{..}` escapes, as in every pass's change.
#[test]
fn document_text_in_messages_is_one_visible_line() {
    let file = Path::new("hostile.yaml");
    let shows_no_hidden = |what: &str, text: &str| {
        assert!(!text.chars().any(hidden), "{what}: {text:?}");
        assert!(text.contains("\\u{"), "{what}: nothing escaped in {text:?}");
    };
    // a scheme name that cannot be a Rust name: the error names it, and its pointer
    let name = "key\u{202e}\n# Injected\r\u{1b}[31m";
    let doc = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
        "security": [{name: []}],
        "components": {"securitySchemes": {name: {"type": "apiKey", "in": "header", "name": "X-Key"}}}
    });
    let e = agentstatus_codegen::auth::plan(&doc, file).unwrap_err();
    assert_eq!(
        e.pointer(),
        Some(&*format!("/components/securitySchemes/{name}"))
    );
    shows_no_hidden("scheme name error", &e.to_string());
    assert!(
        e.to_string().contains("key\\u{202e}\\u{000a}# Injected"),
        "{e}"
    );

    // no constructor: a requirement naming no scheme, an HTTP scheme that is not supported,
    // OAuth 2.0 flows that need a user; each reason one visible line, and the generated
    // docs and header too
    let doc = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "get_a", "responses": {"200": {"description": "ok"}}}}},
        "security": [
            {"nobody\u{2066}\n## here": []},
            {"digest": []},
            {"user": []},
            {"bearer": []}
        ],
        "components": {"securitySchemes": {
            "digest": {"type": "http", "scheme": "Digest\u{2028}\n```rust\nfn x() {}"},
            "user": {"type": "oauth2", "flows": {"authorizationCode\u{202e}\n": {
                "authorizationUrl": "https://a.example/auth", "tokenUrl": "https://a.example/t",
                "scopes": {}}}},
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A token.\u{202e}\n```rust\nfn injected() {}\n```\r\u{1b}[2J"}
        }}
    });
    let auth = agentstatus_codegen::auth::plan(&doc, file).unwrap();
    assert_eq!(auth.not_generated.len(), 3, "{auth:?}");
    for n in &auth.not_generated {
        shows_no_hidden("no-constructor reason", &n.reason);
    }
    let generated = Codegen::document(doc, file)
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap();
    let code = generated.code;
    assert!(code.contains("pub fn with_bearer("), "{code}");
    assert!(!code.chars().any(|c| hidden(c) && c != '\n'), "{code}");
    for line in code
        .lines()
        .filter(|l| l.contains("No auth constructor") || l.contains("No constructor"))
    {
        shows_no_hidden("generated line", line);
    }
    // the description's code block stays text, not a doctest
    assert!(!code.contains("/// ```rust"), "{code}");

    // a pointer through a path and a `$ref` with hostile characters, refused (strict)
    let doc = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things\u{2028}\u{202e}": {"get": {"responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone\u{1b}[31m\nX"}}}
        }}}}},
        "components": {"schemas": {}}
    });
    let e = Codegen::document(doc, file)
        .mode(Mode::Strict)
        .isolate(false)
        .prepare()
        .and_then(|p| p.generate())
        .unwrap_err();
    let text = e.to_string();
    shows_no_hidden("broken ref", &text);
    assert!(text.contains("~1things\\u{2028}\\u{202e}/get"), "{text}");
    assert!(text.contains("Gone\\u{001b}[31m\\u{000a}X"), "{text}");
}
