//! Every reason the codegen gives is one visible line where it is made: what a document names
//! (a media type key, a path, a parameter, a component, a pattern, an example) is quoted with
//! its control, bidi and line-separator characters written as `\u{..}` escapes, by every pass
//! and by isolation, so no caller (`cargo xtask try`, `corpus`, `check --explain`, the build
//! script's `cargo::warning=` lines) can print a raw line break, escape sequence or bidi
//! override it did not clean itself.

use std::path::Path;

use agentstatus_codegen::{Codegen, reason};
use serde_json::{Value, json};

/// What must never reach a one-line reason raw: control characters (line feed and tab
/// included), the line and paragraph separators, the bidi marks, embeddings, overrides and
/// isolates.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Hidden characters in every place of a document a pass or isolation quotes from.
fn hostile() -> Value {
    let odd = "\n\u{1b}[2J\u{202e}\u{2028}\u{7}";
    let schema_name = format!("Agent{odd}");
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            // a body no generator can send, its media type key full of hidden characters:
            // `unsupported-request-bodies` names it
            format!("/upload{odd}"): {"post": {
                "operationId": format!("upload{odd}"),
                "requestBody": {"content": {
                    format!("application/x{odd}ml"): {"schema": {"type": "object"}}
                }},
                "responses": {"204": {"description": "done"}}
            }},
            // several media types, one kept: the others are listed
            "/several": {"post": {
                "operationId": "several",
                "requestBody": {"content": {
                    "application/json": {"schema": {"type": "object"}},
                    format!("text/p{odd}lain"): {"schema": {"type": "string"}}
                }},
                "responses": {"204": {"description": "done"}}
            }},
            "/agents/{id}": {"get": {
                "operationId": "get_agent",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    // no HTTP header name: `header-parameter-names` names it
                    {"name": format!("X-Id{odd}"), "in": "header", "schema": {"type": "string"}},
                    // an undeclared path parameter's neighbour, a format nobody knows
                    {"name": "q", "in": "query", "schema": {"type": "string", "format": format!("f{odd}")}},
                    {"name": "s", "in": "query", "style": format!("s{odd}"), "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{}", schema_name.replace('~', "~0").replace('/', "~1"))}
                }}}}
            }},
            // a path parameter the template has not
            format!("/things/{{id{odd}}}"): {"get": {
                "operationId": "get_thing",
                "responses": {"200": {"description": "ok"}}
            }}
        },
        "components": {"schemas": {
            schema_name.clone(): {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": format!("(a+)+{odd}"),
                             "example": 5, "default": 7},
                    "kind": {"type": "string", "enum": ["a", format!("b{odd}"), 3]},
                    "flag": {"type": "string", "format": format!("bool{odd}")},
                    format!("na{odd}me"): {"type": "integer"},
                    "na-me": {"type": "integer"},
                    "when": {"format": "date-time", "nullable": true}
                },
                "required": ["name", format!("missing{odd}")]
            }
        }}
    })
}

#[test]
fn every_reason_quotes_the_document_visibly() {
    let file = Path::new("hostile.json");
    let prepared = Codegen::document(hostile(), file).prepare().unwrap();
    let mut lines: Vec<(String, String)> = Vec::new();
    for c in &prepared.changes {
        lines.push((
            format!("change {} at {:?}", c.pass, c.pointer),
            c.message.clone(),
        ));
    }
    for s in &prepared.removed {
        lines.push(("removed label".into(), s.operation.clone()));
        lines.push((format!("removed {:?}", s.operation), s.reason.clone()));
    }
    let generated = prepared.generate().unwrap();
    for s in &generated.isolated.skipped {
        lines.push(("skipped label".into(), s.operation.clone()));
        lines.push((format!("skipped {:?}", s.operation), s.reason.clone()));
    }
    for d in &generated.isolated.dropped {
        lines.push((format!("dropped {:?}", d.pointer), d.reason.clone()));
        lines.push((
            "dropped pointer, printed".into(),
            reason::visible(&d.pointer),
        ));
    }
    for c in generated.isolated.causes() {
        lines.push(("cause".into(), c.to_string()));
    }
    // the document's names reached the reasons: several passes quote them
    let quoting: Vec<&(String, String)> = lines
        .iter()
        .filter(|(_, l)| l.contains("\\u{001b}"))
        .collect();
    assert!(quoting.len() >= 5, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|(w, l)| w.starts_with("change unsupported-request-bodies")
            // (lower-cased by `media-type-keys` first)
            && l.contains("application/x\\u{000a}\\u{001b}[2j\\u{202e}\\u{2028}\\u{0007}ml")),
        "{lines:#?}"
    );
    let raw: Vec<&(String, String)> = lines
        .iter()
        .filter(|(_, l)| l.chars().any(hidden))
        .collect();
    assert!(raw.is_empty(), "raw hidden characters in: {raw:#?}");
}

#[test]
fn one_line_escapes_what_a_generator_message_quotes() {
    // progenitor's own messages quote names with `Display`: the summary line escapes them
    let line =
        reason::one_line("invalid schema for application/x\u{1b}]8;;http://x\u{7}ml\u{202e}");
    assert_eq!(
        line,
        "invalid schema for application/x\\u{001b}]8;;http://x\\u{0007}ml\\u{202e}"
    );
}
