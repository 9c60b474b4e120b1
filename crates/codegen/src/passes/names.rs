//! Names: operation ids and properties that would not be (unique) Rust names; the JSON names restored after generation and on export (type names: `type_names`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::operations_mut;

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn to_identifier(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        // an apostrophe joins its word (Sentry's "List a Project's Issues" is
        // `list_a_projects_issues`, not `list_a_project_s_issues`)
        if c == '\'' || c == '\u{2019}' {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        None => "operation".into(),
        Some(c) if c.is_ascii_digit() => format!("op_{out}"),
        Some(_) => out,
    }
}

/// The `operation-ids` pass ([`operation_ids`]).
pub(crate) const OPERATION_IDS: Pass = Pass::new(
    "operation-ids",
    Stage::Normalise,
    "operationIds become unique Rust identifiers, one method and one builder each (derived from method and path when missing, without the leading segments every path shares; a framework's generated id, FastAPI's `retrieve_model_v1_models__model_id__get`, becomes its function's name).",
    operation_ids,
);

/// operationIds become Rust identifiers (`post-api-v1-livechat-agent.status` ->
/// `post_api_v1_livechat_agent_status`); a missing one is derived from method and path, without
/// the leading segments every path shares (`/api/v1/users/{id}` -> `get_users_id`); one that
/// would give the method or the builder type of an earlier operation (`getUser` and `get_user`
/// are both `get_user`, `GetUser`) gets a numeric suffix.
pub(crate) fn operation_ids(doc: &mut Value, changes: &mut Changes) {
    let prefix = shared_prefix(doc);
    let framework = framework_names(doc);
    let mut methods = BTreeSet::new();
    let mut types = BTreeSet::new();
    for (path, method, op) in operations_mut(doc) {
        let at = format!(
            "{}/operationId",
            crate::nav::operation_pointer(&path, &method)
        );
        let old = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let short = framework.get(&(path.clone(), method.clone()));
        let (mut id, mut why) = match (&old, short) {
            (Some(id), Some(short)) => (
                short.clone(),
                Some(format!(
                    "{id:?} is a generated id (FastAPI's function name, path and method): the function name is kept"
                )),
            ),
            (Some(id), None) if is_identifier(id) => (id.clone(), None),
            (Some(id), None) => (
                to_identifier(id),
                Some(format!("{id:?} is not a Rust identifier")),
            ),
            (None, _) => (
                to_identifier(&format!(
                    "{method}_{}",
                    path.strip_prefix(prefix.as_str()).unwrap_or(&path)
                )),
                Some("operation had no operationId".to_string()),
            ),
        };
        // progenitor's method (snake case) and builder type (Pascal case) of an id
        let keys = |id: &str| {
            use heck::ToSnakeCase;
            (id.to_snake_case(), super::type_names::rust_type_name(id))
        };
        let taken = |id: &str| {
            let (m, t) = keys(id);
            methods.contains(&m) || types.contains(&t)
        };
        if taken(&id) {
            let base = id.clone();
            let n = (2..)
                .find(|n| !taken(&format!("{base}_{n}")))
                .expect("an unused name");
            id = format!("{base}_{n}");
            why = Some(format!(
                "{base:?} would name the method or builder of an earlier operation"
            ));
        }
        let (m, t) = keys(&id);
        methods.insert(m);
        types.insert(t);
        if let Some(why) = why {
            changes.push(at, format!("{why}: renamed to {id:?}"));
            op.insert("operationId".into(), Value::String(id));
        }
    }
}

/// The operationIds that are a web framework's generated ones, shortened: FastAPI's default
/// (`generate_unique_id`) is the route function's name, then the path with every character that
/// is not a letter, digit or `_` written `_`, then `_` and the method (Mistral's
/// `retrieve_model_v1_models__model_id__get` for `GET /v1/models/{model_id}`), which repeats
/// the method and path the client's method already stands for, in up to a hundred characters.
/// Such an id becomes the function's name (`retrieve_model`), `(path, method)` -> the name,
/// when that name is an identifier and no other operation's id (generated or not, shortened
/// or not) would give the same method: a name given twice keeps the whole ids.
fn framework_names(doc: &Value) -> BTreeMap<(String, String), String> {
    use heck::ToSnakeCase;
    let mut short: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut ids: Vec<(String, String, String)> = Vec::new();
    for (path, item) in crate::nav::path_items(doc) {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !crate::nav::is_method(method) {
                continue;
            }
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            ids.push((path.clone(), method.clone(), id.to_string()));
            let written: String = path
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let suffix = format!("{written}_{method}");
            if let Some(name) = id.strip_suffix(suffix.as_str())
                && is_identifier(name)
            {
                short.insert((path.clone(), method.clone()), name.to_string());
            }
        }
    }
    // how many operations each method name would be given by
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (path, method, id) in &ids {
        let name = short.get(&(path.clone(), method.clone())).unwrap_or(id);
        *count
            .entry(to_identifier(name).to_snake_case())
            .or_default() += 1;
    }
    short.retain(|_, name| count[&to_identifier(name).to_snake_case()] == 1);
    short
}

/// The leading path segments every path of `doc` shares (`/api/v1`), never a path's last
/// segment nor a parameter: what a name derived from a path leaves out.
fn shared_prefix(doc: &Value) -> String {
    let paths: Vec<Vec<&str>> = crate::nav::path_items(doc)
        .map(|(p, _)| p.split('/').filter(|s| !s.is_empty()).collect())
        .collect();
    let Some(first) = paths.first() else {
        return String::new();
    };
    let mut shared = 0;
    'segments: for (i, segment) in first.iter().enumerate() {
        if segment.contains('{') {
            break;
        }
        for p in &paths {
            // a path keeps at least one segment of its own
            if p.len() <= i + 1 || p[i] != *segment {
                break 'segments;
            }
        }
        shared = i + 1;
    }
    first[..shared]
        .iter()
        .map(|s| format!("/{s}"))
        .collect::<String>()
}

/// The Rust field name typify derives from a property name.
pub(super) fn field_name(prop: &str) -> String {
    prop.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The extension recording a property's JSON name when [`colliding_properties`] gave it another
/// key; [`crate::generate`] puts the JSON name back into the serde attributes.
pub(crate) const JSON_NAME: &str = "x-agentstatus-json-name";

/// The `colliding-properties` pass ([`colliding_properties`]).
pub(crate) const COLLIDING_PROPERTIES: Pass = Pass::new(
    "colliding-properties",
    Stage::Fix,
    "Properties that become one Rust field (`_links`, `links`; a required name without a property, which typify makes a field too) are both kept, the second under its own key, its JSON name restored.",
    colliding_properties,
)
.with_rewrite(rewrite_json_names)
.with_restore(restore_json_keys);

/// [`restore_json_names`] with the names [`colliding_properties`] recorded in `doc`.
fn rewrite_json_names(
    doc: &Value,
    _: &std::path::Path,
    tokens: proc_macro2::TokenStream,
) -> crate::error::Result<proc_macro2::TokenStream> {
    Ok(restore_json_names(tokens, &json_names(doc)))
}

/// Two properties that become one Rust field (Rocket.Chat's `_id` and `id`, Front's `_links`
/// and `links`) do not compile (E0124). Both are kept: the later one gets a key of its own
/// (`links-2`, so its Rust field is `links_2`) and its JSON name is recorded ([`JSON_NAME`]);
/// the generated code reads and writes it under its JSON name, so no value is lost.
pub(crate) fn colliding_properties(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let mut renamed: Vec<(String, String)> = Vec::new();
        // typify makes a field of a required name that has no property too (any value:
        // typify-impl `struct_members`), so Rocket.Chat's `required: [" _id"]` beside the
        // property `_id` is one Rust field twice (E0416, E0124): such a name that becomes
        // another's field is made a property (any JSON, as typify reads it) and told apart below
        let unspecified: Vec<String> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|r| {
                map.get("properties")
                    .and_then(Value::as_object)
                    .is_none_or(|p| !p.contains_key(*r))
            })
            .map(str::to_string)
            .collect();
        if !unspecified.is_empty() {
            // how many names (properties and required names without one) become each field
            let mut fields: BTreeMap<String, usize> = BTreeMap::new();
            let declared: Vec<String> = map
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|p| p.keys().cloned())
                .collect();
            for k in declared.iter().chain(&unspecified) {
                *fields.entry(field_name(k)).or_default() += 1;
            }
            for r in unspecified {
                if fields[&field_name(&r)] < 2 {
                    continue;
                }
                if let Value::Object(props) = map
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Default::default()))
                {
                    props.insert(r.clone(), json!({}));
                    changes.push(
                        format!("{at}/required"),
                        format!("required name {r:?} has no property and becomes the same Rust field as another name: made a property of its own (any JSON, as the generator reads it)"),
                    );
                }
            }
        }
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
pub(crate) fn restore_json_keys(doc: &mut Value) {
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
pub(crate) fn json_names(doc: &Value) -> BTreeMap<String, String> {
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

/// Put back the JSON names of properties that [`colliding_properties`] gave a key of their
/// own: in every `#[serde(...)]` attribute, the literal `"links-2"` becomes `"links"`.
pub(crate) fn restore_json_names(
    tokens: proc_macro2::TokenStream,
    names: &std::collections::BTreeMap<String, String>,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Literal, TokenTree};
    fn rewrite(
        tokens: proc_macro2::TokenStream,
        names: &std::collections::BTreeMap<String, String>,
        in_serde: bool,
    ) -> proc_macro2::TokenStream {
        let mut out = Vec::new();
        let mut after_serde = false;
        for tree in tokens {
            let next = match tree {
                TokenTree::Group(g) => {
                    let inner = rewrite(g.stream(), names, in_serde || after_serde);
                    let mut group = Group::new(g.delimiter(), inner);
                    group.set_span(g.span());
                    TokenTree::Group(group)
                }
                TokenTree::Literal(lit) if in_serde => {
                    let text = lit.to_string();
                    match names.iter().find(|(key, _)| text == format!("{key:?}")) {
                        Some((_, json)) => TokenTree::Literal(Literal::string(json)),
                        None => TokenTree::Literal(lit),
                    }
                }
                other => other,
            };
            after_serde = matches!(&next, TokenTree::Ident(i) if i == "serde");
            out.push(next);
        }
        out.into_iter().collect()
    }
    if names.is_empty() {
        return tokens;
    }
    rewrite(tokens, names, false)
}
