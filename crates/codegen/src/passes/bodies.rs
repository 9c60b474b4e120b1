//! Request and response bodies: media-type keys, the bodies progenitor can send, the JSON media types it cannot name (restored after generation and on export).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::refs::DOCUMENTATION_KEYS;
use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::{operation_pointer as op_pointer, operations_mut};

/// The `media-type-keys` pass ([`media_type_keys`]).
pub(crate) const MEDIA_TYPE_KEYS: Pass = Pass::new(
    "media-type-keys",
    Stage::Normalise,
    "A media-type key with stray characters (`'multipart/form-data:'`) is trimmed and lower-cased.",
    media_type_keys,
);

/// A media-type key with stray characters (Engage Digital's `'multipart/form-data:'`) is
/// trimmed and lower-cased.
pub(crate) fn media_type_keys(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(Value::Object(content)) = map.get_mut("content") else {
            return;
        };
        let bad: Vec<String> = content
            .keys()
            .filter(|k| clean_media_type(k) != **k)
            .cloned()
            .collect();
        for key in bad {
            let fixed = clean_media_type(&key);
            let v = content.remove(&key).expect("listed above");
            if !content.contains_key(&fixed) {
                content.insert(fixed.clone(), v);
            }
            changes.push(
                format!("{at}/content/{}", escape_token(&key)),
                format!("media type {key:?} is not a media type: renamed {fixed:?}"),
            );
        }
    });
}

pub(super) fn clean_media_type(key: &str) -> String {
    key.trim()
        .trim_end_matches([':', ';', ','])
        .trim()
        .to_ascii_lowercase()
}

/// Media types progenitor 0.15 can send as a request body.
pub(super) fn sendable(media: &str) -> bool {
    matches!(media, "*/*" | "application/*" | "text/*")
        || media == "application/json"
        || media.ends_with("+json")
        || media == "application/x-www-form-urlencoded"
        || media == "application/octet-stream"
        || media == "text/plain"
}

/// Can `media` be sent as an HTTP header value as it is (visible ASCII, spaces and tabs: what
/// `HeaderValue::from_static` accepts)? A media type from the document that cannot (a line
/// break, a control character, non-ASCII text) is never recorded in [`MEDIA_TYPES`], so the
/// generated request never carries it.
pub(super) fn header_value(media: &str) -> bool {
    media
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// The operation extension recording the media types [`json_media_types`] renamed: `{content-type,
/// accept}`, read by the generator (the request's headers) and by [`restore_media_types`].
pub(crate) const MEDIA_TYPES: &str = "x-agentstatus-media-types";

/// A JSON media type other than `application/json` itself: `application/vnd.api+json`,
/// `application/json; charset=utf-8`, `text/json`.
pub(super) fn other_json(media: &str) -> bool {
    let base = media.split(';').next().unwrap_or("").trim();
    header_value(media)
        && media != "application/json"
        && (base.ends_with("+json") || base == "application/json" || base == "text/json")
}

/// Rename the one JSON-like key of `content` (when it has no `application/json`) to
/// `application/json`, returning the old key.
pub(super) fn rename_json_key(content: &mut Map<String, Value>) -> Option<String> {
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

/// The `json-media-types` pass ([`json_media_types`]).
pub(crate) const JSON_MEDIA_TYPES: Pass = Pass::new(
    "json-media-types",
    Stage::Fix,
    "A JSON body under another media type (`application/vnd.api+json`, which progenitor cannot send and leaves undecoded) is read as `application/json`, and a request body of bytes under another one (`application/x-tar`, `image/png`) as `application/octet-stream`; the generated request still sends and accepts the declared type.",
    json_media_types,
)
.with_rewrite(rewrite_media_types)
.with_restore(restore_media_types);

/// [`declared_media_types`] with the media types [`json_media_types`] recorded in `doc`.
fn rewrite_media_types(
    doc: &Value,
    _: &std::path::Path,
    tokens: proc_macro2::TokenStream,
) -> crate::error::Result<proc_macro2::TokenStream> {
    Ok(declared_media_types(tokens, &media_types(doc)))
}

/// progenitor 0.15 types only `application/json` answers and sends only `application/json`
/// bodies (a JSON:API `application/vnd.api+json` body makes the whole operation fail, its answer
/// a raw byte stream). Such a content key is renamed `application/json` (in the operation and in
/// the `components` it references), and the operation records the declared types in
/// [`MEDIA_TYPES`]: the generated request sends them as `Content-Type` and `Accept`.
pub(crate) fn json_media_types(doc: &mut Value, changes: &mut Changes) {
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
    // a JSON-like or bytes media type that is no header value is neither read as JSON nor sent:
    // said once where it is declared
    for (path, method, op) in crate::nav::operations(doc) {
        let at = op_pointer(path, method);
        let mut places: Vec<(String, Option<&Value>)> =
            vec![(format!("{at}/requestBody"), op.get("requestBody"))];
        for (code, r) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            places.push((format!("{at}/responses/{}", escape_token(code)), Some(r)));
        }
        for (place, v) in places {
            for key in content_of(doc, v).into_iter().flat_map(|c| c.keys()) {
                if !header_value(key)
                    && (other_json(&key.replace(unsafe_char, ""))
                        || binary_media_type(&key.replace(unsafe_char, "")))
                {
                    let shown: String = format!("{key:?}").chars().take(80).collect();
                    changes.push(
                        format!("{place}/content/{}", escape_token(key)),
                        format!("media type {shown} has a character no HTTP header may carry: not read as JSON or bytes, never sent (generated as a media type this generator does not know)"),
                    );
                }
            }
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
    binary_media_types(doc, changes);
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

/// A character [`header_value`] refuses.
fn unsafe_char(c: char) -> bool {
    !(c == '\t' || (' '..='~').contains(&c))
}

/// A media type of bytes progenitor cannot name as a request body: a well-formed `type/subtype`
/// that is neither one progenitor sends ([`sendable`]) nor JSON, XML, text, a form or multipart
/// (Docker Engine's `application/x-tar`, `image/png`, `application/zip`).
fn binary_media_type(media: &str) -> bool {
    let base = media.split(';').next().unwrap_or("").trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let Some((top, sub)) = base.split_once('/') else {
        return false;
    };
    header_value(media)
        && token(top)
        && token(sub)
        && !sendable(base)
        && !other_json(media)
        && !matches!(top, "text" | "multipart")
        && !sub.ends_with("xml")
        && base != "application/x-www-form-urlencoded"
}

/// A request body that is only bytes under a media type progenitor 0.15 cannot send (Docker
/// Engine's `application/x-tar` build context and image archive), whose schema is a string or
/// absent, is read as `application/octet-stream` (raw bytes, what progenitor sends as they
/// are); the operation records the declared type in [`MEDIA_TYPES`], which the request sends as
/// its `Content-Type`. A body offering a type progenitor can send keeps that one instead
/// (`unsupported-request-bodies`).
fn binary_media_types(doc: &mut Value, changes: &mut Changes) {
    let bodies = doc.pointer("/components/requestBodies").cloned();
    let snapshot = doc.clone();
    for (path, method, op) in operations_mut(doc) {
        let at = op_pointer(&path, &method);
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        let body = match body
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/requestBodies/"))
        {
            Some(name) => match bodies.as_ref().and_then(|b| b.get(name)) {
                Some(def) => def.clone(),
                None => continue,
            },
            None => body.clone(),
        };
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            continue;
        };
        if content.keys().any(|k| sendable(k) || other_json(k)) {
            continue;
        }
        let Some((media, m)) = content.iter().find(|(k, m)| {
            binary_media_type(k)
                && m.get("schema").is_none_or(|s| {
                    crate::nav::resolve(&snapshot, s)
                        .get("type")
                        .is_none_or(|t| t == "string")
                })
        }) else {
            continue;
        };
        let mut schema = json!({"type": "string", "format": "binary"});
        if let Some(d) = m
            .get("schema")
            .and_then(|s| crate::nav::resolve(&snapshot, s).get("description"))
        {
            schema["description"] = d.clone();
        }
        let mut body = body.clone();
        body["content"] = json!({"application/octet-stream": {"schema": schema}});
        let media = media.clone();
        op.insert("requestBody".into(), body);
        let record = op
            .entry(MEDIA_TYPES)
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(record) = record {
            record.insert("content-type".into(), json!(media));
        }
        changes.push(
            format!("{at}/requestBody/content/{}", escape_token(&media)),
            format!("a request body of bytes in {media:?} is sent as they are (application/octet-stream, the request still says {media:?})"),
        );
    }
}

/// The `raw-request-bodies` pass ([`raw_request_bodies`]).
pub(crate) const RAW_REQUEST_BODIES: Pass = Pass::new(
    "raw-request-bodies",
    Stage::Fix,
    "An `application/octet-stream` or `text/plain` request body (or a `*/*`, `text/*` one, sent as those) is sent as it is: its schema becomes the one progenitor requires (`string`/`binary`, `string`).",
    raw_request_bodies,
);

/// progenitor 0.15 sends an `application/octet-stream` body as raw bytes and a `text/plain` one
/// as a string, and accepts only the schema that says so (`type: string, format: binary`, or a
/// plain `type: string`); anything else (Xero's `format: byte`, a `$ref`, a length limit) fails
/// the operation. The body is what the caller passes either way: the schema is set to that
/// form, its description kept.
pub(crate) fn raw_request_bodies(doc: &mut Value, changes: &mut Changes) {
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
                (DOCUMENTATION_KEYS.contains(&k) && k != "examples") || k.starts_with("x-")
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
pub(crate) fn restore_media_types(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        let Some(Value::Object(record)) = op.remove(MEDIA_TYPES) else {
            continue;
        };
        let back = |content: Option<&mut Value>, to: Option<&Value>| {
            if let (Some(Value::Object(content)), Some(Value::String(to))) = (content, to)
                && let Some(v) = content.remove("application/json").or_else(|| {
                    // a body of bytes (`binary_media_types`)
                    content.remove("application/octet-stream")
                })
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

/// The `unsupported-request-bodies` pass ([`unsupported_request_bodies`]).
pub(crate) const UNSUPPORTED_REQUEST_BODIES: Pass = Pass::new(
    "unsupported-request-bodies",
    Stage::Fix,
    "An operation whose only request body neither progenitor nor `form-bodies` can send (`application/xml`, say) is skipped and named; of several media types the sendable one is kept.",
    unsupported_request_bodies,
);

/// A request body progenitor cannot send (`application/xml`; multipart and form bodies with an
/// `encoding` are the `form-bodies` pass's) makes the operation ungeneratable: it is removed and
/// named (call it with reqwest directly). A body offering
/// several media types keeps the one progenitor can send.
pub(crate) fn unsupported_request_bodies(doc: &mut Value, changes: &mut Changes) {
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
        if let Some(item) = crate::nav::path_item_mut(doc, &path) {
            item.remove(&method);
        }
        changes.push(op_pointer(&path, &method), format!(
                "request body {media} cannot be sent by progenitor 0.15: operation skipped (call it with reqwest directly)"
            ));
    }
}

/// An operation id reduced to what survives progenitor's snake-casing of it (lower-case letters
/// and digits), to match the id in the generated `OperationInfo` with the document's.
pub(super) fn id_key(id: &str) -> String {
    id.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The media types each operation declares beside the `application/json` progenitor uses
/// ([`MEDIA_TYPES`]): operation id key -> (Content-Type, Accept).
fn media_types(doc: &Value) -> BTreeMap<String, (Option<String>, Option<String>)> {
    crate::nav::operations(doc)
        .into_iter()
        .filter_map(|(_, _, op)| {
            let record = op.get(MEDIA_TYPES)?;
            let get = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_string);
            let id = op.get("operationId").and_then(Value::as_str)?;
            Some((id_key(id), (get("content-type"), get("accept"))))
        })
        .collect()
}

/// After progenitor's `let info = OperationInfo { operation_id: "x" };` of an operation that
/// declares another JSON media type, its request gets the declared `Content-Type` and `Accept`
/// (`agentstatus_runtime::declared_media_types`) before the hooks run and it is sent.
pub(crate) fn declared_media_types(
    tokens: proc_macro2::TokenStream,
    types: &BTreeMap<String, (Option<String>, Option<String>)>,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, TokenTree};
    if types.is_empty() {
        return tokens;
    }
    let set = crate::generate::runtime_item("declared_media_types");
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    // the request variable: the last `let mut <ident>` before the `OperationInfo`
    let mut request: Option<proc_macro2::Ident> = None;
    let mut pending: Option<(Option<String>, Option<String>)> = None;
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), declared_media_types(g.stream(), types));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
            }
            TokenTree::Ident(id) if id == "mut" => {
                if let (Some(TokenTree::Ident(prev)), Some(TokenTree::Ident(next))) = (
                    i.checked_sub(1).and_then(|j| trees.get(j)),
                    trees.get(i + 1),
                ) && prev == "let"
                {
                    request = Some(next.clone());
                }
                out.push(tree.clone());
            }
            TokenTree::Ident(id) if id == "OperationInfo" => {
                if let Some(TokenTree::Group(g)) = trees.get(i + 1) {
                    let id = g.stream().into_iter().find_map(|t| match t {
                        TokenTree::Literal(l) => Some(l.to_string().trim_matches('"').to_string()),
                        _ => None,
                    });
                    pending = id.and_then(|id| types.get(&id_key(&id)).cloned());
                }
                out.push(tree.clone());
            }
            TokenTree::Punct(p) if p.as_char() == ';' && pending.is_some() => {
                out.push(tree.clone());
                let (content_type, accept) = pending.take().expect("checked");
                if let Some(request) = &request {
                    let opt = |v: Option<String>| match v {
                        Some(v) => quote::quote! { ::std::option::Option::Some(#v) },
                        None => quote::quote! { ::std::option::Option::None },
                    };
                    let (c, a) = (opt(content_type), opt(accept));
                    out.extend(quote::quote! { #set(&mut #request, #c, #a); });
                }
            }
            _ => out.push(tree.clone()),
        }
    }
    out.into_iter().collect()
}
