//! Passes for what progenitor 0.15 cannot generate, run after the overlay (so a vendor
//! correction always takes precedence over a mechanical fix). Each is named and reports every
//! change; each is tested against a small spec that fails without it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::escape_token;
use crate::nav::{operation_pointer as op_pointer, resolve, type_name};
use crate::normalise::{Change, Changes, Pass, operations_mut, run_passes};

/// The fixes, in the order they run (after the normalisation passes).
pub const PASSES: &[Pass] = &[
    Pass {
        name: "json-media-types",
        docs: "A JSON body under another media type (`application/vnd.api+json`, which progenitor cannot send and leaves undecoded) is read as `application/json`; the generated request still sends and accepts the declared type.",
        run: json_media_types,
    },
    Pass {
        name: "unsupported-request-bodies",
        docs: "An operation whose only request body progenitor cannot send (multipart/form-data) is skipped and named; of several media types the sendable one is kept.",
        run: unsupported_request_bodies,
    },
    Pass {
        name: "raw-request-bodies",
        docs: "An `application/octet-stream` or `text/plain` request body (or a `*/*`, `text/*` one, sent as those) is sent as it is: its schema becomes the one progenitor requires (`string`/`binary`, `string`).",
        run: raw_request_bodies,
    },
    Pass {
        name: "responses-without-schema",
        docs: "A JSON response without a schema (progenitor's `todo!`) gets an any-JSON schema.",
        run: responses_without_schema,
    },
    Pass {
        name: "default-responses",
        docs: "A `default` answer beside a success becomes the `4XX` and `5XX` answers (progenitor counted it as a success).",
        run: default_responses,
    },
    Pass {
        name: "one-response-type",
        docs: "Success (or error) answers with different schemas share one merged schema (progenitor allows one of each).",
        run: one_response_type,
    },
    Pass {
        name: "colliding-properties",
        docs: "Properties that become one Rust field (`_links`, `links`) are both kept, the second under its own key, its JSON name restored.",
        run: colliding_properties,
    },
    Pass {
        name: "colliding-parameters",
        docs: "Parameters of one operation that become one Rust name (`to`, `to[]`): the later one is dropped.",
        run: colliding_parameters,
    },
    Pass {
        name: "nullable-components",
        docs: "A nullable object, enum or composition component (typify's `X(Option<X>)` beside `X`): its references are nullable instead.",
        run: nullable_components,
    },
    Pass {
        name: "colliding-type-names",
        docs: "Schemas that would give one Rust type name (`metadata` and `_metadata`; an inline schema titled or named like a component) get distinct names (E0428).",
        run: colliding_type_names,
    },
    Pass {
        name: "enum-variant-names",
        docs: "String enums whose values give no unique Rust variant names (`=`, `!=`, `<`) stay strings, the values in the description.",
        run: enum_variant_names,
    },
];

/// Run every pass.
pub fn fix(doc: &mut Value) -> Vec<Change> {
    run_passes(PASSES, doc)
}

/// Media types progenitor 0.15 can send as a request body.
fn sendable(media: &str) -> bool {
    matches!(media, "*/*" | "application/*" | "text/*")
        || media == "application/json"
        || media.ends_with("+json")
        || media == "application/x-www-form-urlencoded"
        || media == "application/octet-stream"
        || media == "text/plain"
}

/// The operation extension recording the media types [`json_media_types`] renamed: `{content-type,
/// accept}`, read by the generator (the request's headers) and by [`restore_media_types`].
pub const MEDIA_TYPES: &str = "x-agentstatus-media-types";

/// A JSON media type other than `application/json` itself: `application/vnd.api+json`,
/// `application/json; charset=utf-8`, `text/json`.
fn other_json(media: &str) -> bool {
    let base = media.split(';').next().unwrap_or("").trim();
    media != "application/json"
        && (base.ends_with("+json") || base == "application/json" || base == "text/json")
}

/// Rename the one JSON-like key of `content` (when it has no `application/json`) to
/// `application/json`, returning the old key.
fn rename_json_key(content: &mut Map<String, Value>) -> Option<String> {
    if content.contains_key("application/json") {
        return None;
    }
    let key = content.keys().find(|k| other_json(k))?.clone();
    let entries: Vec<(String, Value)> = std::mem::take(content).into_iter().collect();
    for (k, v) in entries {
        content.insert(
            if k == key {
                "application/json".into()
            } else {
                k
            },
            v,
        );
    }
    Some(key)
}

/// progenitor 0.15 types only `application/json` answers and sends only `application/json`
/// bodies (a JSON:API `application/vnd.api+json` body makes the whole operation fail, its answer
/// a raw byte stream). Such a content key is renamed `application/json` (in the operation and in
/// the `components` it references), and the operation records the declared types in
/// [`MEDIA_TYPES`]: the generated request sends them as `Content-Type` and `Accept`.
pub fn json_media_types(doc: &mut Value, changes: &mut Changes) {
    // what each operation declares, read through `$ref`s before anything is renamed
    let mut declared: BTreeMap<(String, String), (Option<String>, Option<String>)> =
        BTreeMap::new();
    fn content_of<'a>(doc: &'a Value, v: Option<&'a Value>) -> Option<&'a Map<String, Value>> {
        v.map(|v| crate::nav::resolve(doc, v))
            .and_then(|v| v.get("content"))
            .and_then(Value::as_object)
    }
    for (path, method, op) in crate::nav::operations(doc) {
        let content_of = |v| content_of(doc, v);
        let request = content_of(op.get("requestBody"))
            .filter(|c| !c.contains_key("application/json"))
            .and_then(|c| c.keys().find(|k| other_json(k)).cloned());
        let accept = op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(code, _)| code.starts_with('2'))
            .filter_map(|(_, r)| content_of(Some(r)))
            .filter(|c| !c.contains_key("application/json"))
            .find_map(|c| c.keys().find(|k| other_json(k)).cloned());
        if request.is_some() || accept.is_some() {
            declared.insert((path.to_string(), method.to_string()), (request, accept));
        }
    }
    // rename in operations and in the shared request bodies and responses
    let renamed = |content: Option<&mut Value>, at: String, changes: &mut Changes| {
        if let Some(Value::Object(content)) = content
            && let Some(old) = rename_json_key(content)
        {
            changes.push(format!("{at}/content/{}", escape_token(&old)), format!("JSON media type {old:?} read as application/json (the request still sends and accepts {old:?})"));
        }
    };
    for (path, method, op) in operations_mut(doc) {
        let at = op_pointer(&path, &method);
        renamed(
            op.get_mut("requestBody").and_then(|b| b.get_mut("content")),
            format!("{at}/requestBody"),
            changes,
        );
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for (code, r) in responses.iter_mut() {
                renamed(
                    r.get_mut("content"),
                    format!("{at}/responses/{}", escape_token(code)),
                    changes,
                );
            }
        }
        if let Some((request, accept)) = declared.get(&(path.clone(), method.clone())) {
            let mut record = Map::new();
            if let Some(r) = request {
                record.insert("content-type".into(), json!(r));
            }
            if let Some(a) = accept {
                record.insert("accept".into(), json!(a));
            }
            op.insert(MEDIA_TYPES.into(), Value::Object(record));
        }
    }
    for kind in ["requestBodies", "responses"] {
        if let Some(Value::Object(defs)) = doc.pointer_mut(&format!("/components/{kind}")) {
            for (name, def) in defs.iter_mut() {
                renamed(
                    def.get_mut("content"),
                    format!("/components/{kind}/{}", escape_token(name)),
                    changes,
                );
            }
        }
    }
}

/// progenitor 0.15 sends an `application/octet-stream` body as raw bytes and a `text/plain` one
/// as a string, and accepts only the schema that says so (`type: string, format: binary`, or a
/// plain `type: string`); anything else (Xero's `format: byte`, a `$ref`, a length limit) fails
/// the operation. The body is what the caller passes either way: the schema is set to that
/// form, its description kept.
pub fn raw_request_bodies(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, method, op) in operations_mut(doc) {
        let at = op_pointer(&path, &method);
        let Some(Value::Object(content)) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
        else {
            continue;
        };
        // a wildcard (RingCentral's `*/*`, `text/*`) accepts the concrete type progenitor sends
        if content.len() == 1
            && let Some(wild) = content
                .keys()
                .find(|k| matches!(k.as_str(), "*/*" | "application/*" | "text/*"))
                .cloned()
        {
            let concrete = if wild == "text/*" {
                "text/plain"
            } else {
                "application/octet-stream"
            };
            let v = content.remove(&wild).expect("found above");
            content.insert(concrete.into(), v);
            changes.push(
                format!("{at}/requestBody/content/{}", escape_token(&wild)),
                format!("a {wild} body is sent as {concrete}, one of the types it accepts"),
            );
        }
        for (media, m) in content.iter_mut() {
            let base = media.split(';').next().unwrap_or("").trim();
            let wanted = match base {
                "application/octet-stream" => json!({"type": "string", "format": "binary"}),
                "text/plain" | "text/x-markdown" => json!({"type": "string"}),
                _ => continue,
            };
            let Some(schema) = m.get_mut("schema") else {
                continue;
            };
            let resolved = crate::nav::resolve(&snapshot, schema);
            let plain = |v: &Value| {
                let mut v = v.clone();
                if let Some(map) = v.as_object_mut() {
                    map.retain(|k, _| matches!(k.as_str(), "type" | "format"));
                }
                v
            };
            // what progenitor lets stand beside `type` and `format` (documentation)
            // (a schema's `examples`, a 3.1 keyword, is rewritten away like any other)
            let documentation = |k: &str| {
                (crate::normalise::DOCUMENTATION_KEYS.contains(&k) && k != "examples")
                    || k.starts_with("x-")
            };
            if plain(schema) == wanted
                && schema.as_object().is_some_and(|m| {
                    m.keys()
                        .all(|k| matches!(k.as_str(), "type" | "format") || documentation(k))
                })
            {
                continue;
            }
            let mut fixed = wanted.clone();
            if let Some(d) = resolved.get("description") {
                fixed["description"] = d.clone();
            }
            changes.push(
                format!("{at}/requestBody/content/{}/schema", escape_token(media)),
                format!(
                    "a {base} body is sent as it is: schema {} becomes {wanted}",
                    serde_json::to_string(resolved).unwrap_or_default()
                ),
            );
            *schema = fixed;
        }
    }
}

/// Undo [`json_media_types`] for a document leaving the generator (`cargo xtask export`): each
/// operation's content keys are its declared media types again.
pub fn restore_media_types(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        let Some(Value::Object(record)) = op.remove(MEDIA_TYPES) else {
            continue;
        };
        let back = |content: Option<&mut Value>, to: Option<&Value>| {
            if let (Some(Value::Object(content)), Some(Value::String(to))) = (content, to)
                && let Some(v) = content.remove("application/json")
            {
                content.insert(to.clone(), v);
            }
        };
        back(
            op.get_mut("requestBody").and_then(|b| b.get_mut("content")),
            record.get("content-type"),
        );
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for (code, r) in responses.iter_mut() {
                if code.starts_with('2') {
                    back(r.get_mut("content"), record.get("accept"));
                }
            }
        }
    }
}

/// A request body progenitor cannot send (multipart/form-data) makes the operation
/// ungeneratable: it is removed and named (call it with reqwest directly). A body offering
/// several media types keeps the one progenitor can send.
pub fn unsupported_request_bodies(doc: &mut Value, changes: &mut Changes) {
    let mut remove = Vec::new();
    let body_defs = doc.pointer("/components/requestBodies").cloned();
    for (path, method, op) in operations_mut(doc) {
        let at = op_pointer(&path, &method);
        let Some(body) = op.get_mut("requestBody") else {
            continue;
        };
        if let Some(name) = body
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/requestBodies/"))
            && let Some(def) = body_defs.as_ref().and_then(|d| d.get(name))
        {
            *body = def.clone();
        }
        let Some(Value::Object(content)) = body.get_mut("content") else {
            continue;
        };
        let media: Vec<String> = content.keys().cloned().collect();
        let keep = media
            .iter()
            .find(|m| m.as_str() == "application/json")
            .or_else(|| media.iter().find(|m| sendable(m)))
            .cloned();
        match keep {
            Some(keep) if media.len() > 1 => {
                content.retain(|k, _| *k == keep);
                changes.push(
                    format!("{at}/requestBody/content"),
                    format!(
                        "several request media types ({}): kept {keep}",
                        media.join(", ")
                    ),
                );
            }
            Some(_) => {}
            None if !media.is_empty() => {
                remove.push((path.clone(), method.clone(), media.join(", ")));
            }
            None => {}
        }
    }
    for (path, method, media) in remove {
        if let Some(item) = doc
            .get_mut("paths")
            .and_then(|p| p.get_mut(&path))
            .and_then(Value::as_object_mut)
        {
            item.remove(&method);
        }
        changes.push(op_pointer(&path, &method), format!(
                "request body {media} cannot be sent by progenitor 0.15: operation skipped (call it with reqwest directly)"
            ));
    }
}

/// A JSON response without a schema (progenitor's `todo!`) gets an "any JSON" schema.
pub fn responses_without_schema(doc: &mut Value, changes: &mut Changes) {
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

/// A `default` response beside a success answer describes the errors (Unblu's `default:
/// {$ref: ErrorResponse}`), but progenitor 0.15 counts it as a success type too and panics:
/// it becomes the `4XX` and `5XX` answers it stands for (explicit codes keep their own).
pub fn default_responses(doc: &mut Value, changes: &mut Changes) {
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
fn response_schema(doc: &Value, r: &Value) -> Option<Value> {
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
fn merge_schemas(doc: &Value, schemas: &[Value]) -> Value {
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

/// progenitor allows one success type and one error type per operation (it asserts). Responses
/// of a kind whose schemas differ share one merged schema; a body-less 2xx beside 2xx with a
/// body is dropped (it would decode as an error).
pub fn one_response_type(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, method, op) in operations_mut(doc) {
        let at = op_pointer(&path, &method);
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for success in [true, false] {
            let codes: Vec<String> = responses
                .keys()
                .filter(|c| c.starts_with('2') == success)
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
    }
}

/// The Rust field name typify derives from a property name.
fn field_name(prop: &str) -> String {
    prop.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The extension recording a property's JSON name when [`colliding_properties`] gave it another
/// key; [`crate::generate`] puts the JSON name back into the serde attributes.
pub const JSON_NAME: &str = "x-agentstatus-json-name";

/// Two properties that become one Rust field (Rocket.Chat's `_id` and `id`, Front's `_links`
/// and `links`) do not compile (E0124). Both are kept: the later one gets a key of its own
/// (`links-2`, so its Rust field is `links_2`) and its JSON name is recorded ([`JSON_NAME`]);
/// the generated code reads and writes it under its JSON name, so no value is lost.
pub fn colliding_properties(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let mut renamed: Vec<(String, String)> = Vec::new();
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            let mut seen: BTreeMap<String, String> = BTreeMap::new();
            let mut collide = Vec::new();
            for k in props.keys() {
                match seen.get(&field_name(k)) {
                    Some(first) => collide.push((k.clone(), first.clone())),
                    None => {
                        seen.insert(field_name(k), k.clone());
                    }
                }
            }
            for (k, first) in collide {
                let mut n = 2;
                let key = loop {
                    let key = format!("{k}-{n}");
                    if !props.contains_key(&key) && !seen.contains_key(&field_name(&key)) {
                        break key;
                    }
                    n += 1;
                };
                seen.insert(field_name(&key), key.clone());
                // the same place in the key order, under the new key
                let entries: Vec<(String, Value)> = std::mem::take(props).into_iter().collect();
                for (name, mut schema) in entries {
                    if name == k {
                        if let Value::Object(m) = &mut schema {
                            m.insert(JSON_NAME.into(), Value::String(k.clone()));
                        } else {
                            schema = json!({"allOf": [schema], JSON_NAME: k});
                        }
                        props.insert(key.clone(), schema);
                    } else {
                        props.insert(name, schema);
                    }
                }
                changes.push(format!("{at}/properties/{}", escape_token(&k)), format!(
                                "property {k:?} becomes the same Rust field as {first:?}: kept under the key {key:?} (the Rust field is named from it), its JSON name stays {k:?}"
                            ));
                renamed.push((k, key));
            }
        }
        if let Some(Value::Array(required)) = map.get_mut("required") {
            for r in required.iter_mut() {
                if let Some((_, key)) = renamed.iter().find(|(k, _)| r == k) {
                    *r = Value::String(key.clone());
                }
            }
        }
    });
}

/// Undo [`colliding_properties`]'s keys for readers of the document other than this generator
/// (an exported document): each property is under its JSON name again.
pub fn restore_json_keys(doc: &mut Value) {
    crate::nav::walk_mut(doc, "", &mut |map, _| {
        let mut renamed: Vec<(String, String)> = Vec::new();
        if let Some(Value::Object(props)) = map.get_mut("properties")
            && props.values().any(|p| p.get(JSON_NAME).is_some())
        {
            let entries: Vec<(String, Value)> = std::mem::take(props).into_iter().collect();
            for (key, mut schema) in entries {
                let json = schema
                    .as_object_mut()
                    .and_then(|m| m.remove(JSON_NAME))
                    .and_then(|v| v.as_str().map(str::to_string));
                match json {
                    Some(json) => {
                        renamed.push((key, json.clone()));
                        props.insert(json, schema);
                    }
                    None => {
                        props.insert(key, schema);
                    }
                }
            }
        }
        if let Some(Value::Array(required)) = map.get_mut("required") {
            for r in required.iter_mut() {
                if let Some((_, json)) = renamed.iter().find(|(k, _)| r == k) {
                    *r = Value::String(json.clone());
                }
            }
        }
    });
}

/// The keys [`colliding_properties`] gave, with the JSON names they stand for.
pub fn json_names(doc: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    crate::nav::walk(doc, "", &mut |map, _| {
        if let Some(Value::Object(props)) = map.get("properties") {
            for (key, schema) in props {
                if let Some(name) = schema.get(JSON_NAME).and_then(Value::as_str) {
                    out.insert(key.clone(), name.to_string());
                }
            }
        }
    });
    out
}

/// Two parameters of one operation that become one Rust name (Engage Digital's `to` and
/// `to[]`) do not compile: the later one is dropped.
pub fn colliding_parameters(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, method, op) in operations_mut(doc) {
        let Some(Value::Array(params)) = op.get_mut("parameters") else {
            continue;
        };
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut keep = Vec::with_capacity(params.len());
        for (i, p) in params.drain(..).enumerate() {
            let name = resolve(&snapshot, &p)
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match seen.get(&field_name(&name)) {
                Some(first) => changes.push(
                    format!("{}/parameters/{i}", op_pointer(&path, &method)),
                    format!("parameter {name:?} becomes the same Rust name as {first:?}: dropped"),
                ),
                None => {
                    seen.insert(field_name(&name), name);
                    keep.push(p);
                }
            }
        }
        *params = keep;
    }
}

/// A nullable component schema that is an object, an enum, a composition or carries a title
/// (Front's nullable `oneOf` `AnalyticsScalarValue`, an agent schema titled with its own name)
/// becomes `struct X(Option<X>)` beside a second `X` in typify (E0428, E0072). The component
/// loses `nullable` (and a `title` equal to its name), and every reference to it that is not a
/// member of a composition says `nullable: true, allOf: [$ref]`: the field is `Option<X>`.
pub fn nullable_components(doc: &mut Value, changes: &mut Changes) {
    let mut fixed: Vec<(String, Option<String>)> = Vec::new();
    for (name, schema) in doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        let Some(map) = schema.as_object_mut() else {
            continue;
        };
        if map.get("nullable") != Some(&Value::Bool(true)) {
            continue;
        }
        let primitive = matches!(
            map.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "number" | "boolean" | "array")
        ) && !["title", "enum", "oneOf", "anyOf", "allOf"]
            .iter()
            .any(|k| map.contains_key(*k));
        if primitive {
            continue;
        }
        map.remove("nullable");
        if map.get("title").and_then(Value::as_str) == Some(name.as_str()) {
            map.remove("title");
        }
        // the type beside `nullable` (OpenAPI 3.0.3): the component's own, when it has one
        let ty = map.get("type").and_then(Value::as_str).map(str::to_string);
        fixed.push((format!("#/components/schemas/{}", escape_token(name)), ty));
        changes.push(format!("/components/schemas/{}/nullable", escape_token(name)), "a nullable component would be generated as `X(Option<X>)` beside `X`: the references to it are nullable instead");
    }
    if fixed.is_empty() {
        return;
    }
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        // a member of a composition keeps its reference (`allOf: [$ref]` is what is written)
        let mut tokens = at.rsplit('/');
        let index = tokens.next().is_some_and(|t| t.parse::<usize>().is_ok());
        let in_composition = index && matches!(tokens.next(), Some("allOf" | "oneOf" | "anyOf"));
        let target = map.get("$ref").and_then(Value::as_str).map(str::to_string);
        if let Some(r) = target
            && !in_composition
            && let Some((_, ty)) = fixed.iter().find(|(f, _)| *f == r)
        {
            map.remove("$ref");
            if let Some(ty) = ty {
                map.insert("type".into(), json!(ty));
            }
            map.insert("nullable".into(), Value::Bool(true));
            map.insert("allOf".into(), json!([{"$ref": r}]));
        }
    });
}

/// typify names a string enum's variants after its values; values made only of symbols
/// (`=`, `!=`, `<`, `<=`, ...) give names it cannot make unique, and it panics. Such an enum
/// stays a string (every value is still accepted and sent), its values listed in the description.
pub fn enum_variant_names(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if let Some(Value::Array(values)) = map.get("enum")
            && values.iter().all(|v| v.is_string() || v.is_null())
            && !variant_names_unique(values)
        {
            let list: Vec<String> = values
                .iter()
                .filter_map(Value::as_str)
                .map(|s| format!("`{s}`"))
                .collect();
            map.remove("enum");
            let note = format!("One of: {}.", list.join(", "));
            let description = match map.get("description").and_then(Value::as_str) {
                Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                _ => note,
            };
            map.insert("description".into(), Value::String(description));
            map.entry("type").or_insert_with(|| json!("string"));
            changes.push(format!("{at}/enum"), format!(
                            "the values {} give no unique Rust variant names: kept as a string, the values in its description",
                            list.join(", ")
                        ));
        }
    });
}

/// Whether typify can name these enum values uniquely: as it does, with every character that
/// cannot be in an identifier (and `_`) written `X` when the plain names collide. Compared
/// without case, which is stricter than typify's own case conversion.
fn variant_names_unique(values: &[Value]) -> bool {
    let plain = |s: &str| -> String {
        let kept: String = s.chars().filter(|c| c.is_alphanumeric()).collect();
        if kept.is_empty() {
            "x".into()
        } else {
            kept.to_lowercase()
        }
    };
    let with_x = |s: &str| -> String {
        let out: String = s
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { 'x' })
            .collect();
        if out.is_empty() {
            "x".into()
        } else {
            out.to_lowercase()
        }
    };
    let unique = |f: &dyn Fn(&str) -> String| {
        let names: Vec<String> = values.iter().filter_map(Value::as_str).map(f).collect();
        let set: std::collections::BTreeSet<&String> = names.iter().collect();
        set.len() == names.len()
    };
    unique(&plain) || unique(&with_x)
}

/// Whether typify makes a named type of this inline schema (a struct, an enum, a union).
fn makes_type(schema: &Map<String, Value>) -> bool {
    ["properties", "enum", "oneOf", "anyOf"]
        .iter()
        .any(|k| schema.contains_key(*k))
        || schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
}

/// Rust names the code typify generates uses without a path in the module of the types
/// (`Default::default()`, `Ok(..)`, `Err(..)`, `Some(..)`, `None`): a component whose type
/// would be named so shadows them (a component `default` or a string newtype `ok` does not
/// compile) and is renamed like a collision.
pub const RESERVED_TYPE_NAMES: &[&str] = &["Default", "Ok", "Err", "Some", "None"];

/// typify names a component after its key and an inline schema after its `title`, or else after
/// where it sits (`{Parent}{Property}`, `{Parent}Item`, `{Parent}Value`). Two of those that give
/// one Rust name make the crate fail (E0428, or E0119 on their impls): Sendgrid's `metadata` and
/// `_metadata`, Intercom's inline `Quick Reply Option` items beside the `quick_reply_option`
/// component and its `ticket.type` enum beside `ticket_type`. A later component is renamed
/// (`_metadata_2`, every `$ref` to it following); an inline schema's clashing title is dropped,
/// and an inline schema whose place-name clashes gets a title of its own (`TicketTypeInline`).
pub fn colliding_type_names(doc: &mut Value, changes: &mut Changes) {
    // components first: keys whose type names collide
    let Some(Value::Object(schemas)) = doc.pointer("/components/schemas") else {
        return;
    };
    // the names the generated code uses unqualified beside the types: a component named so
    // would shadow them (`default` made `Default::default()` its own)
    let mut seen: std::collections::BTreeSet<String> =
        RESERVED_TYPE_NAMES.iter().map(|n| n.to_string()).collect();
    let keys: std::collections::BTreeSet<String> = schemas.keys().cloned().collect();
    let mut renames: Vec<(String, String)> = Vec::new();
    for key in schemas.keys() {
        let name = type_name(key);
        if seen.insert(name.clone()) {
            continue;
        }
        let (new_key, new_name) = (2..)
            .map(|n| format!("{key}_{n}"))
            .map(|k| {
                let n = type_name(&k);
                (k, n)
            })
            .find(|(k, n)| !keys.contains(k) && !seen.contains(n))
            .expect("an unused name");
        seen.insert(new_name);
        renames.push((key.clone(), new_key));
    }
    for (old, new) in &renames {
        if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
            let entries: Vec<(String, Value)> = std::mem::take(schemas).into_iter().collect();
            for (k, v) in entries {
                schemas.insert(if k == *old { new.clone() } else { k }, v);
            }
        }
        let from = format!("#/components/schemas/{}", escape_token(old));
        let to = format!("#/components/schemas/{}", escape_token(new));
        rewrite_refs(doc, &from, &to);
        changes.push(format!("/components/schemas/{}", escape_token(old)), format!(
                "`{old}` would be the Rust type `{}` like another component or a name the generated code uses: renamed `{new}` (its references follow)",
                type_name(old)
            ));
    }
    // inline schemas
    let mut taken = seen;
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (key, schema) in schemas.iter_mut() {
            let at = format!("/components/schemas/{}", escape_token(key));
            inline_names(schema, type_name(key), true, &at, &mut taken, changes);
        }
    }
}

fn rewrite_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && (r == from || r.starts_with(&format!("{from}/")))
            {
                *r = format!("{to}{}", &r[from.len()..]);
            }
            map.values_mut().for_each(|c| rewrite_refs(c, from, to));
        }
        Value::Array(items) => items.iter_mut().for_each(|c| rewrite_refs(c, from, to)),
        _ => {}
    }
}

/// Walk `schema`, which typify names `name` unless it has a title; `taken` holds the type
/// names given so far (the components').
fn inline_names(
    schema: &mut Value,
    name: String,
    root: bool,
    at: &str,
    taken: &mut std::collections::BTreeSet<String>,
    changes: &mut Changes,
) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if map.contains_key("$ref") {
        return;
    }
    let mut name = name;
    if !root {
        let title = map.get("title").and_then(Value::as_str).map(str::to_string);
        if let Some(title) = title {
            let titled = type_name(&title);
            if taken.contains(&titled) && makes_type(map) {
                map.remove("title");
                changes.push(format!("{at}/title"), format!(
                        "title {title:?} would name this inline schema `{titled}`, a name already given: dropped"
                    ));
            } else {
                name = titled;
            }
        }
        if !map.contains_key("title") && makes_type(map) {
            if taken.contains(&name) {
                let fresh = (1..)
                    .map(|n| {
                        if n == 1 {
                            format!("{name}Inline")
                        } else {
                            format!("{name}Inline{n}")
                        }
                    })
                    .find(|n| !taken.contains(n))
                    .expect("an unused name");
                changes.push(at.to_string(), format!(
                        "this inline schema would be the Rust type `{name}`, a name already given: titled `{fresh}`"
                    ));
                map.insert("title".into(), Value::String(fresh.clone()));
                name = fresh;
            }
            taken.insert(name.clone());
        }
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (prop, child) in props.iter_mut() {
            let child_at = format!("{at}/properties/{}", escape_token(prop));
            let child_name = type_name(&format!("{name}_{prop}"));
            inline_names(child, child_name, false, &child_at, taken, changes);
        }
    }
    if let Some(items) = map.get_mut("items") {
        let child_name = format!("{name}Item");
        inline_names(
            items,
            child_name,
            false,
            &format!("{at}/items"),
            taken,
            changes,
        );
    }
    if let Some(extra) = map
        .get_mut("additionalProperties")
        .filter(|v| v.is_object())
    {
        let child_name = format!("{name}Value");
        inline_names(
            extra,
            child_name,
            false,
            &format!("{at}/additionalProperties"),
            taken,
            changes,
        );
    }
    // typify merges `allOf` members into this type: their properties are its own (Box's
    // `SignRequestSignerInput`: `allOf: [$ref, {properties: {validation: {anyOf: ...}}}]`)
    if let Some(Value::Array(members)) = map.get_mut("allOf") {
        for (i, member) in members.iter_mut().enumerate() {
            if let Some(Value::Object(props)) = member.get_mut("properties") {
                for (prop, child) in props.iter_mut() {
                    let child_at = format!("{at}/allOf/{i}/properties/{}", escape_token(prop));
                    let child_name = type_name(&format!("{name}_{prop}"));
                    inline_names(child, child_name, false, &child_at, taken, changes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_operation_is_skipped_and_named_json_kept_among_several() {
        let mut doc = json!({"paths": {
            "/up": {"post": {"requestBody": {"content": {"multipart/form-data": {"schema": {}}}}, "responses": {}}},
            "/two": {"put": {"requestBody": {"content": {"text/csv": {}, "application/json": {"schema": {}}}}, "responses": {}}}
        }});
        let mut c = Changes::default();
        unsupported_request_bodies(&mut doc, &mut c);
        assert!(doc["paths"]["/up"].get("post").is_none());
        assert_eq!(
            doc["paths"]["/two"]["put"]["requestBody"]["content"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].pointer, "/paths/~1up/post");
    }

    #[test]
    fn different_error_schemas_are_merged() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}},
            "400": {"description": "bad", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}, "errorType": {"type": "string"}}}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}
        }}}},
        "components": {"responses": {"Unauthorized": {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string"}, "error": {"type": "integer"}}}}}}}}});
        let mut c = Changes::default();
        one_response_type(&mut doc, &mut c);
        let r = &doc["paths"]["/a"]["get"]["responses"];
        assert_eq!(r["400"]["content"], r["401"]["content"]);
        let props = &r["401"]["content"]["application/json"]["schema"]["properties"];
        assert_eq!(props["status"]["type"], "string");
        assert_eq!(props["error"], json!({}), "defined differently: any JSON");
        assert_eq!(r["401"]["description"], "no");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn bodyless_success_beside_a_body_is_dropped() {
        let mut doc = json!({"paths": {"/a": {"post": {"responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}},
            "204": {"description": "none"}
        }}}}});
        let mut c = Changes::default();
        one_response_type(&mut doc, &mut c);
        assert!(doc["paths"]["/a"]["post"]["responses"].get("204").is_none());
    }

    #[test]
    fn schema_less_json_response_gets_any() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {}}}}}}}});
        let mut c = Changes::default();
        responses_without_schema(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
            json!({})
        );
    }

    #[test]
    fn colliding_parameter_names_keep_the_first() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "to", "in": "query"}, {"name": "to[]", "in": "query"}, {"name": "from", "in": "query"}
        ]}}}});
        let mut c = Changes::default();
        colliding_parameters(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(c[0].pointer, "/paths/~1a/get/parameters/1");
    }

    #[test]
    fn colliding_property_names_are_both_kept() {
        let mut doc = json!({"components": {"schemas": {"U": {"required": ["id"], "properties": {"_id": {"type": "string"}, "id": {"type": "string"}, "name": {}}}}}});
        let mut c = Changes::default();
        colliding_properties(&mut doc, &mut c);
        let u = &doc["components"]["schemas"]["U"];
        let props = u["properties"].as_object().unwrap();
        assert_eq!(props.keys().collect::<Vec<_>>(), ["_id", "id-2", "name"]);
        assert_eq!(props["id-2"][JSON_NAME], "id");
        assert_eq!(u["required"], json!(["id-2"]));
        assert_eq!(c[0].pointer, "/components/schemas/U/properties/id");
        assert_eq!(
            json_names(&doc).into_iter().collect::<Vec<_>>(),
            [("id-2".to_string(), "id".to_string())]
        );
        restore_json_keys(&mut doc);
        let u = &doc["components"]["schemas"]["U"];
        assert_eq!(
            u["properties"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["_id", "id", "name"]
        );
        assert_eq!(u["required"], json!(["id"]));
        assert!(u["properties"]["id"].get(JSON_NAME).is_none());
    }
}
