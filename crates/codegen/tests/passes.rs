//! The corpus of small malformed specs, one per pass (`tests/passes/<pass>.yaml`): each needs
//! its pass, the pass reports what it changed, and the result generates.

use std::path::Path;

use agentstatus_codegen::{Codegen, Stage, load_file, pipeline};

/// What each generated-code pass (which changes no document) shows in the code of its spec.
const GENERATED_CODE: &[(&str, &str)] = &[
    (
        "methods-by-name",
        "request(::reqwest::Method::OPTIONS, url)",
    ),
    (
        "runtime-calls",
        "::agentstatus_runtime::path_segment(&id.to_string())?",
    ),
    (
        "open-enum-turbofish",
        "::serde_json::from_str::<::agentstatus_runtime::OpenEnum<_>>(\"\\\"auto\\\"\")",
    ),
    ("authenticated-constructors", "pub fn with_bearer("),
    // the second operation's URL and docs without the fragment
    (
        "path-fragments",
        "format!(\"{}/v1/chat/completions\", client.baseurl,)",
    ),
    // the builder module without `use super::types;` (its builders name no type)
    (
        "unused-types-import",
        "pub mod builder { #[allow(unused_imports)] use super::{",
    ),
];

#[test]
fn every_pass_has_a_spec_it_fixes_and_the_result_generates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    let names: Vec<&str> = pipeline().iter().map(|p| p.name()).collect();
    for name in &names {
        assert!(
            dir.join(format!("{name}.yaml")).exists(),
            "{name}: no corpus spec"
        );
    }
    // `<pass>.yaml`, and `<pass>--<case>.yaml` for a further case of the same pass
    let mut specs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    for path in specs {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let name = stem.split("--").next().unwrap();
        assert!(
            names.contains(&name),
            "{}: names no pass (a spec is `<pass>.yaml` or `<pass>--<case>.yaml`)",
            path.display()
        );
        let name = stem.as_str();
        let pass = name.split("--").next().unwrap();
        let doc = load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let prepared = Codegen::document(doc, &path)
            .isolate(false)
            .prepare()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stage = pipeline()
            .iter()
            .find(|p| p.name() == pass)
            .unwrap()
            .stage();
        if stage != Stage::Generated {
            assert!(
                prepared.changes.iter().any(|c| c.pass == pass),
                "{name}: the pass changed nothing in its spec: {:?}",
                prepared.changes
            );
        }
        let code = prepared
            .generate()
            .unwrap_or_else(|e| panic!("{name}: does not generate: {e}"))
            .code;
        // every type is defined once in its module (E0428 otherwise)
        let mut defined = std::collections::BTreeSet::new();
        let mut modules: Vec<(usize, &str)> = Vec::new();
        for line in code.lines() {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            if t.is_empty() {
                continue;
            }
            modules.retain(|(i, _)| *i < indent);
            if let Some(m) = t
                .strip_prefix("pub mod ")
                .and_then(|r| r.strip_suffix(" {"))
            {
                modules.push((indent, m));
                continue;
            }
            if let Some(rest) = t
                .strip_prefix("pub struct ")
                .or_else(|| t.strip_prefix("pub enum "))
            {
                let ty: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let path: Vec<&str> = modules.iter().map(|(_, m)| *m).collect();
                let item = format!("{}::{ty}", path.join("::"));
                assert!(
                    defined.insert(item.clone()),
                    "{name}: `{item}` is defined twice"
                );
            }
        }
        if stage == Stage::Generated {
            let (_, shows) = GENERATED_CODE
                .iter()
                .find(|(p, _)| *p == pass)
                .unwrap_or_else(|| {
                    panic!("{pass}: say in GENERATED_CODE what its spec's code shows")
                });
            let flat: String = code.split_whitespace().collect();
            let shows: String = shows.split_whitespace().collect();
            assert!(flat.contains(&shows), "{name}: no `{shows}` in\n{code}");
        }
    }
}

#[test]
fn the_generated_code_passes_change_no_document_and_come_last() {
    let stages: Vec<Stage> = pipeline().iter().map(|p| p.stage()).collect();
    let first = stages.iter().position(|s| *s == Stage::Generated).unwrap();
    assert!(
        stages[first..].iter().all(|s| *s == Stage::Generated),
        "{stages:?}"
    );
    for p in &pipeline()[first..] {
        assert!(p.rewrites_tokens() && !p.restores_on_export(), "{p:?}");
    }
    let names: Vec<&str> = pipeline()[first..].iter().map(|p| p.name()).collect();
    let said: Vec<&str> = GENERATED_CODE.iter().map(|(p, _)| *p).collect();
    assert_eq!(names, said);
}

#[test]
fn without_the_fixes_progenitor_rejects_these() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    for name in [
        "format-without-type",
        "path-parameters-declared",
        "path-parameters-required",
        "unsupported-request-bodies",
        "responses-without-schema",
        "one-response-type",
        "contradicting-defaults",
        "json-media-types",
        "raw-request-bodies",
        "raw-request-bodies--wildcards",
        "openapi-3-1--json-schema-in-3-0",
        "parameter-content",
        "parameter-content--shared",
        "deep-refs--misplaced",
        "query-parameter-styles--structure",
        "one-response-type--kinds",
        "query-parameter-styles--closed-object",
        "one-of-beside-any-of",
        "json-media-types--bytes",
        "security-scopes",
        "duplicate-parameters",
        "cookie-parameters",
        "cookie-parameters--secret",
        "cookie-parameters--hostile",
        "dangling-schema-refs",
        "path-parameter-styles",
        "operations-without-responses",
        "operations-without-responses--openapi-3-0",
        "header-parameter-styles--structures",
    ] {
        let path = dir.join(format!("{name}.yaml"));
        let doc = load_file(&path).unwrap();
        assert!(
            Codegen::document(doc, &path)
                .without_passes()
                .isolate(false)
                .prepare()
                .and_then(|p| p.generate())
                .is_err(),
            "{name}: generates without its pass"
        );
    }
}

#[test]
fn the_passes_that_mark_the_document_for_the_generator_undo_their_marks() {
    // `x-agentstatus-media-types` and `x-agentstatus-json-name` are read after generation and
    // must not leave in an exported document: the pass that writes each carries both hooks; a
    // pass whose change only the generator needs (`parameter-content`) is undone on export
    let hooked: Vec<&str> = pipeline()
        .iter()
        .filter(|p| p.stage() != Stage::Generated)
        .filter(|p| p.rewrites_tokens() || p.restores_on_export())
        .map(|p| p.name())
        .collect();
    assert_eq!(
        hooked,
        [
            "operations-without-responses",
            "json-media-types",
            "parameter-content",
            "query-parameter-styles",
            "path-parameter-styles",
            "header-parameter-styles",
            "form-bodies",
            "cookie-parameters",
            "colliding-properties",
            "colliding-parameters",
            "secret-strings"
        ]
    );
    for p in pipeline().iter().filter(|p| hooked.contains(&p.name())) {
        let export_only = ["parameter-content", "operations-without-responses"].contains(&p.name());
        assert!(
            p.restores_on_export() && p.rewrites_tokens() != export_only,
            "{p:?}"
        );
    }
    // open-response-enums is one pass of the list, the last fix
    let last = pipeline()
        .iter()
        .rfind(|p| p.stage() == Stage::Fix)
        .unwrap();
    assert_eq!(last.name(), "open-response-enums");
}

/// `format: password` strings are `agentstatus_runtime::SecretText` wherever progenitor can write
/// one (a body, an answer, optional, nullable, in an array, a component with a `pattern`, a query
/// parameter, a path or header parameter) (`tests/passes/secret-strings.yaml`).
#[test]
fn secrets_are_secret_text_where_progenitor_can_write_them() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/secret-strings.yaml");
    let doc = load_file(&path).unwrap();
    let code = Codegen::document(doc, &path)
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap()
        .code;
    let flat: String = code.split_whitespace().collect();
    let secret = "::agentstatus_runtime::SecretText";
    for shows in [
        // the request body's required secret
        format!("pubpassword:{secret},"),
        // the answer's optional, nullable, array and component secrets
        format!("pubclient_state:::std::option::Option<{secret}>,"),
        format!("pubpin:::std::option::Option<{secret}>,"),
        format!("pubprevious:::std::vec::Vec<{secret}>,"),
        // a secret component is a newtype of one
        format!("pubstructApiKey(pub{secret});"),
        "pubkey:::std::option::Option<ApiKey>,".to_string(),
        // a query parameter is serialised: it can be one
        format!("token:Result<Option<{secret}>,String>"),
        // path and header parameters too (the header's copy of the component without its
        // `pattern`), written from the secret: the path segment from `expose()`, the header a
        // sensitive value
        format!("tenant:Result<{secret},String>"),
        format!("x_api_secret:Result<Option<{secret}>,String>"),
        "path_segment(&tenant.expose())?".to_string(),
        "HeaderValue::try_from(value.expose()".to_string(),
        "secret.set_sensitive(true);".to_string(),
    ] {
        let shows: String = shows.split_whitespace().collect();
        assert!(flat.contains(&shows), "no `{shows}` in\n{code}");
    }
    // no plain `String` field is left with a secret's name
    for field in ["password", "client_state", "pin", "previous"] {
        assert!(
            !flat.contains(&format!("pub{field}:::std::string::String"))
                && !flat.contains(&format!(
                    "pub{field}:::std::option::Option<::std::string::String>"
                )),
            "{field} is a String in\n{code}"
        );
    }
}

/// A call whose URL carries a secret (a `format: password` path parameter, a query parameter
/// that names a credential) runs inside `without_url_secrets`, which knows where they are; a
/// call without one is as progenitor wrote it (`tests/passes/secret-strings--url.yaml`).
#[test]
fn secrets_in_a_url_are_redacted_from_the_calls_errors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/secret-strings--url.yaml");
    let doc = load_file(&path).unwrap();
    let code = Codegen::document(doc, &path)
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap()
        .code;
    let flat: String = code.split_whitespace().collect();
    let secret = "::agentstatus_runtime::SecretText";
    for shows in [
        format!("vault:Result<{secret},String>"),
        format!("api_key:Result<{secret},String>"),
        format!("access_token:Result<Option<{secret}>,String>"),
        format!("pin:Result<Option<{secret}>,String>"),
        // not credentials: a position in a list, a filter
        "page_token:Result<Option<::std::string::String>,String>".to_string(),
        "fields:Result<Option<::std::string::String>,String>".to_string(),
        "::agentstatus_runtime::without_url_secrets(::agentstatus_runtime::UrlSecrets{segments_from_end:&[2usize],query:&[\"api_key\",\"access_token\",\"pin\"],},asyncmove{".to_string(),
    ] {
        assert!(flat.contains(&shows), "no `{shows}` in\n{code}");
    }
    assert_eq!(
        flat.matches("without_url_secrets(").count(),
        1,
        "only `get_item` carries a secret in its URL:\n{code}"
    );
}

/// A secret marked by an earlier pass (`colliding-properties`' JSON name) is a `SecretText` too,
/// and keeps its JSON name (`tests/passes/secret-strings--marked.yaml`).
#[test]
fn a_marked_secret_is_secret_text_under_its_json_name() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/secret-strings--marked.yaml");
    let doc = load_file(&path).unwrap();
    let code = Codegen::document(doc, &path)
        .isolate(false)
        .prepare()
        .unwrap()
        .generate()
        .unwrap()
        .code;
    let flat: String = code.split_whitespace().collect();
    let secret = "::std::option::Option<::agentstatus_runtime::SecretText>";
    for shows in [
        format!(
            "rename=\"_password\",skip_serializing_if=\"::std::option::Option::is_none\")]pubpassword:{secret},"
        ),
        format!(
            "rename=\"password\",skip_serializing_if=\"::std::option::Option::is_none\")]pubpassword_2:{secret},"
        ),
    ] {
        assert!(flat.contains(&shows), "no `{shows}` in\n{code}");
    }
}

#[test]
fn parameters_that_become_one_rust_name_are_all_sent_under_their_real_names() {
    // Twilio's `StartTime`, `StartTime<`, `StartTime>`: each keeps a builder method of its own
    // and its real name on the wire, none is dropped
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/passes/colliding-parameters--punctuation.yaml");
    let prepared = Codegen::document(load_file(&path).unwrap(), &path)
        .isolate(false)
        .prepare()
        .unwrap();
    let changes = prepared.changes.clone();
    let code = prepared.generate().unwrap().code;
    let flat: String = code.split_whitespace().collect();
    for (method, wire) in [
        ("start_time", "StartTime"),
        ("start_time_lt_2", "StartTime<"),
        ("start_time_gt", "StartTime>"),
        ("start_time_lte", "StartTime<="),
        ("start_time_gte", "StartTime>="),
        ("start_dot_time", "start.time"),
        ("start_dash_time", "start-time"),
        ("start_time_lt", "start_time_lt"),
    ] {
        assert!(
            flat.contains(&format!("pubfn{method}<")),
            "no builder method `{method}` in\n{code}"
        );
        assert!(
            flat.contains(&format!("QueryParam::new(\"{wire}\",&{method})")),
            "`{method}` is not sent as {wire:?} in\n{code}"
        );
    }
    for (method, wire) in [("x_page", "X-Page"), ("x_dot_page", "x.page")] {
        assert!(
            flat.contains(&format!("pubfn{method}<")),
            "{method}\n{code}"
        );
        assert!(flat.contains(&format!("\"{wire}\"")), "{wire}\n{code}");
    }
    // the renamed parameters are said, each with its pointer
    let said: Vec<&str> = changes
        .iter()
        .filter(|c| c.pass == "colliding-parameters")
        .map(|c| c.pointer.as_str())
        .collect();
    assert_eq!(said.len(), 7, "{changes:?}");
    assert!(
        said.contains(&"/paths/~1calls/get/parameters/0"),
        "{said:?}"
    );
}

/// A header parameter whose name is no HTTP header name never reaches the generated client
/// (reqwest would panic parsing it when sending); a valid one does, and each drop is said
/// (`tests/passes/header-parameter-names.yaml`).
#[test]
fn header_parameters_that_are_no_header_names_are_dropped_and_said() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes/header-parameter-names.yaml");
    let prepared = Codegen::document(load_file(&path).unwrap(), &path)
        .isolate(false)
        .prepare()
        .unwrap();
    let said: Vec<String> = prepared
        .changes
        .iter()
        .filter(|c| c.pass == "header-parameter-names")
        .map(|c| c.pointer.clone())
        .collect();
    // the path item's (every operation's) too
    assert_eq!(said.len(), 4, "{said:?}");
    assert!(
        said.contains(&"/paths/~1items/parameters/0".to_string()),
        "{said:?}"
    );
    let code = prepared.generate().unwrap().code;
    assert!(code.contains("\"X-Request-Id\""), "{code}");
    for bad in ["X-Ids[]", "X Page", "Bell", "X-Trace"] {
        assert!(!code.contains(bad), "{bad} in\n{code}");
    }
}

/// Cookie parameters are builder methods sent in one `Cookie` header; a secret one is a
/// `SecretText`; a name that is no cookie name never reaches the code, dropped when optional,
/// its operation skipped when required, each said with its pointer
/// (`tests/passes/cookie-parameters*.yaml`).
#[test]
fn cookie_parameters_are_generated_and_what_cannot_be_sent_is_said() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    let generate = |name: &str| {
        let path = dir.join(format!("{name}.yaml"));
        let prepared = Codegen::document(load_file(&path).unwrap(), &path)
            .isolate(false)
            .prepare()
            .unwrap();
        let changes = prepared.changes.clone();
        let code = prepared.generate().unwrap().code;
        let flat: String = code.split_whitespace().collect();
        (changes, code, flat)
    };
    let (changes, code, flat) = generate("cookie-parameters");
    for shows in [
        // every cookie a builder method, the object as `Param<T>`
        "pubfntenant<",
        "pubfnteams<",
        "pubfnprefs<",
        "prefs:Result<Option<::agentstatus_runtime::forms::Param<types::Prefs>>,String>",
        "pubfnlang<",
        // one header, in the document's order, after the declared `Cookie` header
        ".headers(::agentstatus_runtime::forms::Cookies::new(header_map).add(\"tenant\",&tenant,true).add(\"teams\",&teams,false).add(\"prefs\",&prefs,false).add(\"page\",&page,true).add(\"lang\",&lang,true).into_headers()?,)",
        // the path item's cookie is `put`'s too
        ".headers(::agentstatus_runtime::forms::Cookies::new(header_map).add(\"lang\",&lang,true).into_headers()?,)",
        "QueryParam::new(\"tenant\",&tenant_2)",
    ] {
        assert!(flat.contains(shows), "no `{shows}` in\n{code}");
    }
    // no cookie is written as a header of its own, the exploded array is not sent
    for absent in ["append(\"tenant\"", "append(\"lang\"", "pubfntags<"] {
        assert!(!flat.contains(absent), "`{absent}` in\n{code}");
    }
    assert!(
        changes.iter().any(|c| c.pass == "cookie-parameters"
            && c.pointer == "/paths/~1agents~1{id}/get/parameters/5"
            && c.message.contains("`explode: true`")
            && c.message.contains("dropped")),
        "{changes:?}"
    );
    let (_, code, flat) = generate("cookie-parameters--secret");
    let secret = "::agentstatus_runtime::SecretText";
    for shows in [
        format!("session_id:Result<{secret},String>"),
        format!("pin:Result<Option<{secret}>,String>"),
        "theme:Result<Option<::std::string::String>,String>".to_string(),
    ] {
        assert!(flat.contains(&shows), "no `{shows}` in\n{code}");
    }
    let (changes, code, flat) = generate("cookie-parameters--hostile");
    // the cookie `colliding-parameters` renamed (`q_2`, after the query's `q`) is sent as `q`
    assert!(
        flat.contains(".add(\"__Host-sid.v1\",&host_sid_v1,true).add(\"q\",&q_2,true)")
            && flat.contains("QueryParam::new(\"q\",&q)"),
        "{code}"
    );
    for absent in ["a;b", "panic!", "sid id", "other_items"] {
        assert!(!code.contains(absent), "`{absent}` in\n{code}");
    }
    let said: Vec<(&str, &str)> = changes
        .iter()
        .filter(|c| c.pass == "cookie-parameters")
        .map(|c| (c.pointer.as_str(), c.message.as_str()))
        .collect();
    for (at, what) in [
        (
            "/paths/~1items/get/parameters/1",
            "\"a;b\" is no cookie name",
        ),
        ("/paths/~1items/get/parameters/2", "no cookie name"),
        ("/paths/~1other/get", "\"sid id\" is no cookie name"),
        ("/paths/~1other/get", "operation skipped"),
    ] {
        assert!(
            said.iter().any(|(p, m)| *p == at && m.contains(what)),
            "no {at}: {what} in {said:?}"
        );
    }
    // each reason one line
    assert!(
        said.iter()
            .all(|(_, m)| !m.contains('\n') && m.len() <= 200),
        "{said:?}"
    );
}

/// Export gives each cookie parameter back as the document declared it (a cookie, its name, its
/// `explode`, its schema, not the `Param<T>` it was generated with), with no mark of this
/// workspace's left, and the exported document generates the same client again.
#[test]
fn cookie_parameters_round_trip_through_export() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    for name in [
        "cookie-parameters",
        "cookie-parameters--secret",
        "cookie-parameters--hostile",
    ] {
        let path = dir.join(format!("{name}.yaml"));
        let original = load_file(&path).unwrap();
        let prepared = Codegen::document(original.clone(), &path)
            .isolate(false)
            .prepare()
            .unwrap();
        let exported = prepared.exported();
        let code = prepared.generate().unwrap().code;
        assert!(
            !exported.to_string().contains("x-agentstatus-"),
            "{name}: {exported:#}"
        );
        // every cookie the document declares and the pass kept is a cookie again, as declared
        let cookies = |doc: &serde_json::Value| {
            let mut out = Vec::new();
            for (_, item) in doc["paths"].as_object().unwrap() {
                for (_, v) in item.as_object().unwrap() {
                    let list = v.get("parameters").or(v.as_array().map(|_| v));
                    for p in list.and_then(|l| l.as_array()).into_iter().flatten() {
                        if p["in"] == "cookie" {
                            out.push(p.clone());
                        }
                    }
                }
            }
            if let Some(shared) = doc.pointer("/components/parameters") {
                out.extend(shared.as_object().unwrap().values().cloned());
            }
            out
        };
        let declared = cookies(&original);
        let back = cookies(&exported);
        assert!(!back.is_empty(), "{name}");
        for p in &back {
            assert!(
                declared.contains(p),
                "{name}: {p} is not as declared in {declared:?}"
            );
        }
        let again = Codegen::document(exported, &path)
            .isolate(false)
            .prepare()
            .unwrap()
            .generate()
            .unwrap()
            .code;
        assert_eq!(
            again, code,
            "{name}: the exported document generates another client"
        );
    }
}

/// The path and header styles, and an operation without `responses`, are generated in a form progenitor
/// takes and exported as the vendor wrote them: the styles, explode and structures again, no
/// `responses` where there were none, no mark left (`tests/passes/path-parameter-styles.yaml`,
/// `operations-without-responses.yaml`).
#[test]
fn path_styles_and_missing_responses_round_trip_through_export() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    for name in [
        "path-parameter-styles",
        "path-parameter-styles--simple-array",
        "header-parameter-styles",
        "header-parameter-styles--structures",
        "operations-without-responses",
        "operations-without-responses--openapi-3-0",
    ] {
        let path = dir.join(format!("{name}.yaml"));
        let original = load_file(&path).unwrap();
        let prepared = Codegen::document(original.clone(), &path)
            .isolate(false)
            .prepare()
            .unwrap();
        let exported = prepared.exported();
        let text = exported.to_string();
        assert!(
            !text.contains("x-agentstatus-"),
            "{name}: a mark is left: {text}"
        );
        for (p, item) in original["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                let out = &exported["paths"][p][method];
                assert_eq!(
                    out.get("responses").is_some(),
                    !matches!(op.get("responses"), None | Some(serde_json::Value::Null)),
                    "{name}: {p} {method}: {out}"
                );
                for (i, param) in op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let back = &out["parameters"][i];
                    for key in ["style", "explode"] {
                        if let Some(v) = param.get(key) {
                            assert_eq!(&back[key], v, "{name}: {p} {method} {key}");
                        }
                    }
                    // an inline structure is a component now (as `query-parameter-styles`
                    // leaves it): its `$ref` names the same schema
                    let schema = match back["schema"]["$ref"].as_str() {
                        Some(r) if param["schema"].get("$ref").is_none() => {
                            &exported["components"]["schemas"][r.rsplit('/').next().unwrap()]
                        }
                        _ => &back["schema"],
                    };
                    assert_eq!(schema, &param["schema"], "{name}: {p} {method}");
                }
            }
        }
        if name == "header-parameter-styles" {
            assert_eq!(
                exported["components"]["parameters"]["Trace"],
                original["components"]["parameters"]["Trace"]
            );
        }
        if name == "path-parameter-styles" {
            // the component parameter and the inline object are the vendor's again
            assert_eq!(
                exported["components"]["parameters"]["Color"],
                original["components"]["parameters"]["Color"]
            );
            let object =
                &exported["paths"]["/simple/{plain}/{object}/{exploded}"]["get"]["parameters"][1];
            assert!(object["schema"].get("x-rust-type").is_none(), "{object}");
        }
    }
}
