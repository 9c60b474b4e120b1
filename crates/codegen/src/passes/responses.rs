//! Responses: one success type per operation, a schema for every answer, `default` answers.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::{operation_pointer as op_pointer, operations_mut, resolve};

/// The operation extension [`operations_without_responses`] writes: the operation had no
/// `responses` (`true`), restored on export.
pub(crate) const NO_RESPONSES: &str = "x-agentstatus-no-responses";

/// The `operations-without-responses` pass ([`operations_without_responses`]).
pub(crate) const OPERATIONS_WITHOUT_RESPONSES: Pass = Pass::new(
    "operations-without-responses",
    Stage::Normalise,
    "An operation without `responses` (optional in OpenAPI 3.1; required in 3.0, read as in 3.1), which progenitor refuses (\"missing responses\"), gets an empty `responses`: it is generated with no documented answer, any success returned as its bytes (`ResponseValue<ByteStream>`), any other status an error. Undone on export.",
    operations_without_responses,
)
.with_restore(restore_operations_without_responses);

/// An operation without `responses` (or with `responses: null`) gets `responses: {}`, which
/// progenitor generates as a call whose `2XX` answer is its raw bytes (it "cons up a generic"
/// success when none is documented), and is marked ([`NO_RESPONSES`]).
pub(crate) fn operations_without_responses(doc: &mut Value, changes: &mut Changes) {
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    for (path, method, op) in operations_mut(doc) {
        if !matches!(op.get("responses"), None | Some(Value::Null)) {
            continue;
        }
        op.insert("responses".into(), json!({}));
        op.insert(NO_RESPONSES.into(), json!(true));
        changes.push(
            op_pointer(&path, &method),
            if version.starts_with("3.0") {
                format!("an operation without `responses` (required in OpenAPI {version}, read as 3.1 reads it): generated with no documented answer, a success returned as bytes")
            } else {
                "an operation without `responses` (optional in OpenAPI 3.1): generated with no documented answer, a success returned as bytes".to_string()
            },
        );
    }
}

/// Undo [`operations_without_responses`] for export: the operation has no `responses` again.
pub(crate) fn restore_operations_without_responses(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        if op.remove(NO_RESPONSES).is_some()
            && op
                .get("responses")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
        {
            op.remove("responses");
        }
    }
}

/// The `responses-without-schema` pass ([`responses_without_schema`]).
pub(crate) const RESPONSES_WITHOUT_SCHEMA: Pass = Pass::new(
    "responses-without-schema",
    Stage::Fix,
    "A JSON response without a schema (progenitor's `todo!`) gets an any-JSON schema.",
    responses_without_schema,
);

/// A JSON response without a schema (progenitor's `todo!`) gets an "any JSON" schema.
pub(crate) fn responses_without_schema(doc: &mut Value, changes: &mut Changes) {
    for (path, method, op) in operations_mut(doc) {
        for (code, r) in op
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flatten()
        {
            for (media, m) in r
                .get_mut("content")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flatten()
            {
                if let Some(m) = m.as_object_mut()
                    && !m.contains_key("schema")
                {
                    m.insert("schema".into(), json!({}));
                    changes.push(
                        format!(
                            "{}/responses/{code}/content/{}",
                            op_pointer(&path, &method),
                            escape_token(media)
                        ),
                        "response content without a schema: any JSON",
                    );
                }
            }
        }
    }
}

/// The `default-responses` pass ([`default_responses`]).
pub(crate) const DEFAULT_RESPONSES: Pass = Pass::new(
    "default-responses",
    Stage::Fix,
    "A `default` answer beside a success becomes the `4XX` and `5XX` answers (progenitor counted it as a success).",
    default_responses,
);

/// A `default` response beside a success answer describes the errors (Unblu's `default:
/// {$ref: ErrorResponse}`), but progenitor 0.15 counts it as a success type too and panics:
/// it becomes the `4XX` and `5XX` answers it stands for (explicit codes keep their own).
pub(crate) fn default_responses(doc: &mut Value, changes: &mut Changes) {
    for (path, method, op) in operations_mut(doc) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if !responses.keys().any(|c| c.starts_with('2')) {
            continue;
        }
        let Some(default) = responses.remove("default") else {
            continue;
        };
        let mut added = Vec::new();
        for range in ["4XX", "5XX"] {
            if !responses.contains_key(range) {
                responses.insert(range.into(), default.clone());
                added.push(range);
            }
        }
        changes.push(
            format!("{}/responses/default", op_pointer(&path, &method)),
            format!(
                "`default` beside a success answer describes the errors: now {}",
                if added.is_empty() {
                    "dropped (4XX and 5XX are given)".to_string()
                } else {
                    added.join(" and ")
                }
            ),
        );
    }
}

/// The JSON schema of a response (resolved), or `None` if it has no body.
pub(super) fn response_schema(doc: &Value, r: &Value) -> Option<Value> {
    let r = resolve(doc, r);
    let content = r.get("content")?.as_object()?;
    let (_, m) = content
        .iter()
        .find(|(k, _)| k.contains("json"))
        .or_else(|| content.iter().next())?;
    Some(resolve(doc, m.get("schema")?).clone())
}

/// Union of object schemas: every property of any (a property two define differently becomes
/// "any JSON"), none required. Non-objects: "any JSON".
pub(super) fn merge_schemas(doc: &Value, schemas: &[Value]) -> Value {
    let all_objects = schemas
        .iter()
        .all(|s| s.get("type").is_none_or(|t| t == "object") && s.get("properties").is_some());
    if !all_objects {
        return json!({});
    }
    let mut props: Map<String, Value> = Map::new();
    for s in schemas {
        for (k, v) in s["properties"].as_object().into_iter().flatten() {
            let v = resolve(doc, v).clone();
            match props.get(k) {
                Some(existing) if *existing != v => {
                    props.insert(k.clone(), json!({}));
                }
                Some(_) => {}
                None => {
                    props.insert(k.clone(), v);
                }
            }
        }
    }
    json!({"type": "object", "properties": props})
}

/// The `one-response-type` pass ([`one_response_type`]).
pub(crate) const ONE_RESPONSE_TYPE: Pass = Pass::new(
    "one-response-type",
    Stage::Fix,
    "Success (or error) answers with different schemas share one merged schema (progenitor allows one of each); error answers without a body beside ones whose body is not JSON are read as bytes too (one kind of error answer).",
    one_response_type,
);

/// Which of progenitor's kinds of answer a response is (progenitor-impl 0.15 `src/method.rs`,
/// `OperationResponseKind`): `Type` for an `application/json` body, `Raw` for any other body,
/// `None` for none (a `101` without JSON is its `Upgrade`, handled apart).
fn response_kind(doc: &Value, r: &Value) -> &'static str {
    match resolve(doc, r).get("content").and_then(Value::as_object) {
        Some(c)
            if c.keys()
                .any(|k| k == "application/json" || k.starts_with("application/json;")) =>
        {
            "type"
        }
        Some(c) if !c.is_empty() => "raw",
        _ => "none",
    }
}

/// progenitor allows one kind and one type of success answer and one of error answer per
/// operation (it asserts `response_types.len() <= 1`). Responses of a kind whose schemas differ
/// share one merged schema; a body-less 2xx beside 2xx with a body is dropped (it would decode
/// as an error); a `101 Switching Protocols` (progenitor's `Upgrade`, a success) beside 2xx
/// answers is dropped; error answers without a body, or with one that is not JSON, beside JSON
/// ones get the JSON ones' schema (Jira: a body-less `401` beside `400`s with an
/// unschematised JSON body).
pub(crate) fn one_response_type(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, method, op) in operations_mut(doc) {
        let at = op_pointer(&path, &method);
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if responses.keys().any(|c| c.starts_with('2')) && responses.remove("101").is_some() {
            changes.push(
                format!("{at}/responses/101"),
                "a `101 Switching Protocols` beside 2xx answers (progenitor takes one kind of success answer): dropped, the 2xx answers kept",
            );
        }
        // an upgrade-only operation (Docker Engine's `POST /session`): progenitor's
        // `ResponseValue::upgrade` needs an error type it can print (`Debug`), which the raw
        // byte stream of a non-JSON error body is not (E0277): such bodies are not read
        if responses.contains_key("101") && !responses.keys().any(|c| c.starts_with('2')) {
            let errors: Vec<String> = responses.keys().filter(|c| *c != "101").cloned().collect();
            let kinds: Vec<&str> = errors
                .iter()
                .map(|c| response_kind(&snapshot, &responses[c]))
                .collect();
            let raw: Vec<String> = errors
                .iter()
                .zip(&kinds)
                .filter(|(_, k)| **k == "raw")
                .map(|(c, _)| c.clone())
                .collect();
            if !raw.is_empty() && !kinds.contains(&"type") {
                for c in &raw {
                    let description = resolve(&snapshot, &responses[c])
                        .get("description")
                        .cloned()
                        .unwrap_or_else(|| json!(""));
                    responses.insert(c.clone(), json!({ "description": description }));
                }
                changes.push(
                    format!("{at}/responses"),
                    format!(
                        "error answers of an upgrade-only operation (101) with a body that is not JSON ({}): their bodies are not read (progenitor's upgrade cannot hold a byte stream as its error)",
                        raw.join(", ")
                    ),
                );
            }
        }
        for success in [true, false] {
            let codes: Vec<String> = responses
                .keys()
                .filter(|c| *c != "101" && c.starts_with('2') == success)
                .cloned()
                .collect();
            let mut with_body: BTreeMap<String, Value> = BTreeMap::new();
            let mut without: Vec<String> = Vec::new();
            for c in &codes {
                match response_schema(&snapshot, &responses[c]) {
                    Some(s) => {
                        with_body.insert(c.clone(), s);
                    }
                    None => without.push(c.clone()),
                }
            }
            if success && !with_body.is_empty() && !without.is_empty() {
                for c in &without {
                    responses.remove(c);
                    changes.push(
                        format!("{at}/responses/{c}"),
                        format!("body-less {c} beside success answers with a body: dropped"),
                    );
                }
            }
            if !success && !with_body.is_empty() && !without.is_empty() {
                // error answers without a body get the same schema: progenitor decodes the
                // body of a declared error, so the type must be one
                for c in &without {
                    with_body.insert(c.clone(), json!({}));
                }
            }
            let distinct: Vec<&Value> = {
                let mut d: Vec<&Value> = Vec::new();
                for s in with_body.values() {
                    if !d.contains(&s) {
                        d.push(s);
                    }
                }
                d
            };
            if distinct.len() <= 1 {
                // one schema (any JSON when an answer had no body): every error answer must
                // still be of one kind, so those without a JSON body are given it
                let kinds: Vec<&str> = with_body
                    .keys()
                    .map(|c| response_kind(&snapshot, &responses[c]))
                    .collect();
                if !success && kinds.contains(&"type") && kinds.iter().any(|k| *k != "type") {
                    let schema = distinct.first().map_or_else(|| json!({}), |s| (*s).clone());
                    let mut given = Vec::new();
                    for c in with_body.keys() {
                        if response_kind(&snapshot, &responses[c]) == "type" {
                            continue;
                        }
                        let description = resolve(&snapshot, &responses[c])
                            .get("description")
                            .cloned()
                            .unwrap_or_else(|| json!(""));
                        responses.insert(
                            c.clone(),
                            json!({"description": description, "content": {"application/json": {"schema": schema}}}),
                        );
                        given.push(c.clone());
                    }
                    changes.push(
                        format!("{at}/responses"),
                        format!(
                            "error answers without a JSON body ({}) beside JSON ones (progenitor takes one kind of error answer): given their schema",
                            given.join(", ")
                        ),
                    );
                }
                continue;
            }
            let schemas: Vec<Value> = with_body
                .values()
                .filter(|s| **s != json!({}))
                .cloned()
                .collect();
            let merged = merge_schemas(&snapshot, &schemas);
            for c in with_body.keys() {
                let description = resolve(&snapshot, &responses[c])
                    .get("description")
                    .cloned()
                    .unwrap_or_else(|| json!(""));
                responses.insert(
                    c.clone(),
                    json!({"description": description, "content": {"application/json": {"schema": merged}}}),
                );
            }
            changes.push(
                format!("{at}/responses"),
                format!(
                    "{} {} answers ({}) have different schemas: merged into one",
                    with_body.len(),
                    if success { "success" } else { "error" },
                    with_body.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        one_raw_kind(&snapshot, responses, &at, changes);
    }
}

/// Error answers that are body-less beside ones whose body is not JSON and none that is JSON
/// (Jellyfin's `503` with `text/html` beside a body-less `401` and `403` on 214 of its 388
/// operations): two of progenitor's kinds (`Raw`, `None`), which it refuses
/// (`response_types.len() <= 1`, the operation left out). The body-less ones are read as bytes
/// too, under the first such answer's media type: an empty body is an empty stream, and the
/// others' bodies stay readable. (Success answers of those two kinds, a `200` of `text/plain`
/// beside a body-less `202`, progenitor 0.15 generates as they are.)
fn one_raw_kind(
    snapshot: &Value,
    responses: &mut Map<String, Value>,
    at: &str,
    changes: &mut Changes,
) {
    let codes: Vec<String> = responses
        .keys()
        .filter(|c| *c != "101" && !c.starts_with('2'))
        .cloned()
        .collect();
    let kinds: Vec<&str> = codes
        .iter()
        .map(|c| response_kind(snapshot, &responses[c]))
        .collect();
    if kinds.contains(&"type") || !kinds.contains(&"raw") || !kinds.contains(&"none") {
        return;
    }
    let Some(media) = codes
        .iter()
        .zip(&kinds)
        .find(|(_, k)| **k == "raw")
        .and_then(|(c, _)| resolve(snapshot, &responses[c]).get("content"))
        .and_then(Value::as_object)
        .and_then(|c| c.keys().next())
        .cloned()
    else {
        return;
    };
    let mut given = Vec::new();
    for (c, k) in codes.iter().zip(&kinds) {
        if *k != "none" {
            continue;
        }
        let mut answer = resolve(snapshot, &responses[c]).clone();
        if let Some(a) = answer.as_object_mut() {
            a.insert("content".into(), json!({ media.clone(): {} }));
        }
        responses.insert(c.clone(), answer);
        given.push(c.clone());
    }
    changes.push(
        format!("{at}/responses"),
        format!(
            "error answers without a body ({}) beside ones whose body is not JSON and none that is (progenitor takes one kind of error answer): read as bytes too, as `{media}`",
            given.join(", "),
        ),
    );
}
