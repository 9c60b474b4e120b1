//! Vendor documents are untrusted input. Hand-made hostile documents through `cargo xtask try`,
//! `check` and `regen`: nothing a document says runs (doc comments of every form, generator
//! extensions that pick Rust types), and what the generator would loop or overflow on (cycles,
//! long chains) is refused with its pointer. (`update`, and so the vendor crates' build script,
//! meet the same payloads in `tests/update.rs`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;
use support::{copy_tree, root};

/// A scratch directory, removed when dropped (a failed test's too).
fn tmp(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("agentstatus-hostile-{tag}-"))
        .tempdir()
        .unwrap()
}

/// Run xtask; a run that does not end within `limit` is killed and fails the test (a guard
/// against a hang, not a timing claim).
fn xtask(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(root())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("xtask {args:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Rust that leaves a file behind when it runs.
fn payload(marker: &Path) -> String {
    format!(
        "std::fs::write({:?}, \"x\").unwrap();",
        marker.display().to_string()
    )
}

/// Every form of doc-comment code rustdoc compiles and runs.
fn doc_forms(marker: &Path) -> Vec<String> {
    let run = payload(marker);
    vec![
        format!("```\n{run}\n```"),
        format!("```rust\n{run}\n```"),
        format!("```should_panic\n{run}\npanic!();\n```"),
        format!("```edition2021\n{run}\n```"),
        format!("```ignore\n{run}\n```"),
        format!("~~~\n{run}\n~~~"),
        format!("Intro.\n\n    {run}\n"),
        format!("> ```\n> {run}\n> ```"),
        format!("- item\n\n      {run}"),
        format!("```{{.rust}}\n{run}\n```"),
    ]
}

/// A type path for typify's `x-rust-type` whose constant expression registers a constructor
/// that runs when any binary linking the crate starts.
fn constructor(marker: &Path) -> Value {
    json!({
        "crate": "agentstatus-runtime",
        "version": "*",
        "path": format!(
            "agentstatus_runtime::OpenEnum<[String; {{ #[used] #[unsafe(link_section = \".init_array\")] \
             static I: extern \"C\" fn() = {{ extern \"C\" fn f() {{ let _ = std::fs::write({:?}, \"x\"); }} f }}; 1 }}]>",
            marker.display().to_string()
        ),
    })
}

/// A document with a doc payload in every place prose reaches the generated code, type-path
/// injections (also under a property named `default` and a component named `example`), bidi and
/// control characters, and a round trip (so `try` runs the crate's tests).
fn hostile(marker: &Path) -> Value {
    let forms = doc_forms(marker);
    let all = forms.join("\n\n");
    json!({
        "openapi": "3.0.3",
        "info": {"title": "hostile", "version": "1", "description": all},
        "x-agentstatus-roundtrip": [{"type": "Agent", "value": {"name": "a", "kind": {"a": "b"}}}],
        "paths": {"/agents/{id}": {"get": {
            "operationId": "get_agent",
            "summary": forms[5],
            "description": all,
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
                 "description": forms[0]},
                {"name": "q", "in": "query", "schema": {"type": "string"}, "description": forms[3]}
            ],
            "responses": {
                "200": {"description": forms[2], "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Agent"}}}},
                "default": {"description": forms[4]}
            }
        }},
        // a response type: here a type path compiles (no derive reads it)
        "/raw": {"get": {
            "operationId": "get_raw",
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "x-rust-type": constructor(marker)}}}}}
        }}},
        "components": {"schemas": {
            "Agent": {
                "type": "object",
                "description": all,
                "properties": {
                    "name": {"type": "string",
                             "description": "bidi \u{202E} here \u{2066} and \u{2028} and ctrl \u{7} and \r done",
                             "x-rust-type": constructor(marker)},
                    "default": {"type": "string", "description": forms[1],
                                "x-rust-type": constructor(marker)},
                    "kind": {"$ref": "#/components/schemas/example"},
                    "state": {"type": "string", "enum": ["on", "off\u{202E}"], "description": forms[6]}
                }
            },
            "example": {"type": "object", "description": forms[7],
                        "x-rust-type": constructor(marker),
                        "properties": {"a": {"type": "string"}}}
        }}
    })
}

#[test]
fn nothing_a_document_says_runs_in_try_and_its_doc_comments_hold_no_doctest() {
    let scratch = tmp("try");
    let dir = scratch.path().to_path_buf();
    let marker = dir.join("PWNED");
    let doc = dir.join("hostile.json");
    std::fs::write(
        &doc,
        serde_json::to_string_pretty(&hostile(&marker)).unwrap(),
    )
    .unwrap();
    let out_dir = root().join("target/compile-gate/hostile/doc");
    let out = xtask(
        &[
            "try",
            doc.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        Duration::from_secs(900),
    );
    let said = text(&out);
    // it compiles (bidi and control characters in descriptions and enum values included) and
    // its round trip ran the crate's tests
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("2 compiled (100.0%)"), "{said}");
    assert!(!marker.exists(), "a payload ran in try:\n{said}");
    let code = std::fs::read_to_string(out_dir.join("src/client.rs")).unwrap();
    assert!(
        !code.contains("link_section"),
        "a type path reached the code"
    );
    // the payload's text is kept, as text: only in comments
    let marker_text = marker.display().to_string();
    let mut seen = 0;
    for line in code.lines().filter(|l| l.contains(&marker_text)) {
        seen += 1;
        assert!(
            line.trim_start().starts_with("//"),
            "outside a comment: {line}"
        );
    }
    assert!(seen >= 10, "the prose was dropped: {seen} lines");
    for hidden in ['\u{202E}', '\u{2066}', '\u{2028}', '\u{7}', '\r'] {
        assert!(!code.contains(hidden), "{hidden:?} in the code");
    }
    let cargo_test = |args: &[&str]| {
        let out = Command::new(env!("CARGO"))
            .current_dir(&out_dir)
            .env("CARGO_TARGET_DIR", root().join("target/compile-gate"))
            .env("CARGO_INCREMENTAL", "0")
            .arg("test")
            .args(args)
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    };
    // a binary linking the generated code starts without running anything of the document's
    let (ok, said) = cargo_test(&["--lib"]);
    assert!(ok, "{said}");
    assert!(
        !marker.exists(),
        "a type path ran when the crate's binary started:\n{said}"
    );
    // rustdoc finds no doctest in the generated code, ignored ones included
    let (ok, said) = cargo_test(&["--doc", "--", "--include-ignored"]);
    assert!(ok, "{said}");
    assert!(said.contains("running 0 tests"), "{said}");
    assert!(!marker.exists(), "a payload ran as a doctest:\n{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn schemas_doc(schemas: Value, extra: Value) -> Value {
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}}},
        "components": {"schemas": schemas}
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            if k == "components" {
                for (kind, defs) in v.as_object().unwrap() {
                    doc["components"][kind] = defs.clone();
                }
            } else {
                doc.insert(k.clone(), v.clone());
            }
        }
    }
    doc
}

#[test]
fn cycles_and_long_chains_are_refused_with_their_pointer() {
    let scratch = tmp("cycles");
    let dir = scratch.path().to_path_buf();
    let chain = |n: usize, composed: bool| {
        let mut m = serde_json::Map::new();
        for i in 0..n {
            let r = json!({"$ref": format!("#/components/schemas/S{}", i + 1)});
            m.insert(
                format!("S{i}"),
                if composed { json!({"allOf": [r]}) } else { r },
            );
        }
        m.insert(format!("S{n}"), json!({"type": "string"}));
        Value::Object(m)
    };
    let string = json!({"S0": {"type": "string"}});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "response-cycle",
            {
                let mut d = schemas_doc(
                    string.clone(),
                    json!({"components": {"responses": {
                    "R0": {"$ref": "#/components/responses/R1"},
                    "R1": {"$ref": "#/components/responses/R0"}}}}),
                );
                d["paths"]["/a"]["get"]["responses"]["200"] =
                    json!({"$ref": "#/components/responses/R0"});
                d
            },
            "at /components/responses/R0/$ref: a cycle of references",
        ),
        (
            "parameter-self",
            {
                let mut d = schemas_doc(
                    string.clone(),
                    json!({"components": {"parameters": {
                    "P0": {"$ref": "#/components/parameters/P0"}}}}),
                );
                d["paths"]["/a"]["get"]["parameters"] =
                    json!([{"$ref": "#/components/parameters/P0"}]);
                d
            },
            "at /components/parameters/P0/$ref: a cycle of references",
        ),
        (
            "body-cycle",
            {
                let mut d = schemas_doc(
                    string.clone(),
                    json!({"components": {"requestBodies": {
                    "B0": {"$ref": "#/components/requestBodies/B1"},
                    "B1": {"$ref": "#/components/requestBodies/B0"}}}}),
                );
                d["paths"]["/a"]["get"]["requestBody"] =
                    json!({"$ref": "#/components/requestBodies/B0"});
                d
            },
            "at /components/requestBodies/B0/$ref: a cycle of references",
        ),
        (
            "schema-of-itself",
            schemas_doc(
                // its own `allOf` member (alternatives extending their own choice are
                // inheritance, rewritten by a pass: see inheritance-cycles.yaml)
                json!({"S0": {"allOf": [
                    {"$ref": "#/components/schemas/S0"},
                    {"type": "object", "properties": {"x": {"type": "string"}}}]}}),
                json!({}),
            ),
            "at /components/schemas/S0: a schema composed of itself",
        ),
        (
            "ref-chain",
            schemas_doc(chain(50_000, false), json!({})),
            "a chain of 33 references (more than 32) starts here",
        ),
        (
            "all-of-chain",
            schemas_doc(chain(20_000, true), json!({})),
            "composition nested 65 deep",
        ),
    ];
    for (name, doc, expected) in cases {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
        let out = xtask(
            &[
                "try",
                file.to_str().unwrap(),
                "--out",
                dir.join("crate").to_str().unwrap(),
            ],
            Duration::from_secs(120),
        );
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {said}");
        assert!(said.contains(expected), "{name}: {said}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy of `specs/` whose Libredesk source (pinned, or current under `sources/`) has a kept
/// operation's answer composed of itself.
fn libredesk_with_a_cycle(dir: &Path) -> (PathBuf, PathBuf) {
    let specs = dir.join("specs");
    for v in agentstatus_codegen::vendor_folders(&root().join("specs")).unwrap() {
        copy_tree(&root().join("specs").join(&v), &specs.join(&v));
    }
    let upstream = specs.join("libredesk/upstream/openapi.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&upstream).unwrap()).unwrap();
    doc["components"]["schemas"]["AgentListResponse"] = json!({"allOf": [
        {"$ref": "#/components/schemas/AgentListResponse"}, {"type": "object"}]});
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let sources = dir.join("sources/libredesk");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(sources.join("openapi.json"), &text).unwrap();
    (specs, dir.join("sources"))
}

#[test]
fn check_and_regen_refuse_a_document_the_generator_cannot_build() {
    let scratch = tmp("check");
    let dir = scratch.path().to_path_buf();
    let (specs, sources) = libredesk_with_a_cycle(&dir);
    // check: the current document is refused, exit 2, at the source's line and column
    let out = xtask(
        &[
            "--specs",
            specs.to_str().unwrap(),
            "check",
            "--vendor",
            "libredesk",
            "--sources",
            sources.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("at /components/schemas/AgentListResponse: a schema composed of itself")
            && said.contains("libredesk/openapi.json:")
            && said.contains("the generator cannot build this document"),
        "{said}"
    );
    // regen: the same document pinned is refused and openapi.yaml is not written
    std::fs::copy(
        sources.join("libredesk/openapi.json"),
        specs.join("libredesk/upstream/openapi.json"),
    )
    .unwrap();
    let before = std::fs::read(specs.join("libredesk/openapi.yaml")).unwrap();
    let out = xtask(
        &[
            "--specs",
            specs.to_str().unwrap(),
            "regen",
            "--vendor",
            "libredesk",
        ],
        Duration::from_secs(120),
    );
    let said = text(&out);
    assert_ne!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("a schema composed of itself"), "{said}");
    assert_eq!(
        std::fs::read(specs.join("libredesk/openapi.yaml")).unwrap(),
        before
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Markdown a vendor may write that rustdoc reads as links to Rust items, and list items and
/// quotes continued lazily (clippy's `doc_lazy_continuation`).
const LINKS_AND_LAZY_LINES: &[&str] = &[
    "See [`Foo`] and [`Client::nothing`], [Bar] and [x][y].",
    "A [reference][r] link and [an item](crate::Missing).\n\n[r]: Missing",
    "[`Foo`]: crate::Foo\n\n[`Foo`] is defined above, as a path.",
    "Kept: [the docs](https://docs.example/a), [a page](/api/page) and [refs][site].\n\n[site]: https://docs.example/b",
    "Parameters:\n- `a`: the first,\ncontinued lazily\n- `b`: the second\n   over-indented",
    "> a quote\ncontinued lazily\n\n1. one\ntwo",
    "an unbalanced ` backtick, then [`Foo`]",
];

#[test]
fn vendor_markdown_never_fails_the_docs_build_nor_clippy_s_doc_lints() {
    let scratch = tmp("prose");
    let dir = scratch.path().to_path_buf();
    let prose = |i: usize| LINKS_AND_LAZY_LINES[i % LINKS_AND_LAZY_LINES.len()];
    let all = LINKS_AND_LAZY_LINES.join("\n\n");
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "prose", "version": "1", "description": all},
        "tags": [{"name": "agents", "description": prose(4)}],
        "paths": {"/agents/{id}": {"get": {
            "operationId": "get_agent",
            "tags": ["agents"],
            "summary": prose(0),
            "description": all,
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
                 "description": prose(4)},
                {"name": "q", "in": "query", "schema": {"type": "string"}, "description": prose(1)}
            ],
            "responses": {
                "200": {"description": prose(2), "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Agent"}}}},
                "default": {"description": prose(5)}
            }
        }}},
        "components": {"schemas": {
            "Agent": {
                "type": "object",
                "title": "[`Foo`]",
                "description": all,
                "properties": {
                    "name": {"type": "string", "description": prose(6)},
                    "kind": {"oneOf": [
                        {"title": "[`Foo`] one", "type": "object", "properties": {"a": {"type": "string"}}},
                        {"title": "[x][y] two", "type": "integer", "description": prose(5)}
                    ], "description": prose(4)},
                    "state": {"type": "string", "enum": ["on", "off"], "description": prose(3)}
                }
            }
        }}
    });
    let file = dir.join("prose.json");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    // where `try` checks the crate (its `gate::target_dir`), so the dependencies build once
    let gate = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root().join(t) })
        .unwrap_or_else(|| root().join("target"))
        .join("compile-gate");
    let out_dir = gate.join("hostile/prose");
    let out = xtask(
        &[
            "try",
            file.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        Duration::from_secs(900),
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let code = std::fs::read_to_string(out_dir.join("src/client.rs")).unwrap();
    // the vendor's words are kept, escaped
    assert!(code.contains("\\[`Client::nothing`\\]"), "{code}");
    assert!(
        code.contains("[the docs](https://docs.example/a)"),
        "{code}"
    );
    let cargo = |args: &[&str], env: (&str, &str)| {
        let out = Command::new(env!("CARGO"))
            .current_dir(&out_dir)
            .env("CARGO_TARGET_DIR", &gate)
            .env("CARGO_INCREMENTAL", "0")
            .env(env.0, env.1)
            .args(args)
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    };
    // rustdoc, every warning an error (broken intra-doc links among them), as CI builds docs
    let (ok, said) = cargo(&["doc", "--no-deps"], ("RUSTDOCFLAGS", "-D warnings"));
    assert!(ok, "{said}");
    // clippy's doc lints (lazy continuations, over-indented list items) as errors
    let (ok, said) = cargo(
        &[
            "clippy",
            "--",
            "-D",
            "clippy::doc_lazy_continuation",
            "-D",
            "clippy::doc_overindented_list_items",
        ],
        ("CARGO_TERM_COLOR", "never"),
    );
    assert!(ok, "{said}");
    assert!(!said.contains("doc_lazy_continuation"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
