//! Names: operation ids, properties and types that would not be (unique) Rust names; the JSON names restored after generation and on export.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::{operations_mut, type_name};

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
    "operationIds become unique Rust identifiers (derived from method and path when missing).",
    operation_ids,
);

/// operationIds become Rust identifiers (`post-api-v1-livechat-agent.status` ->
/// `post_api_v1_livechat_agent_status`); a missing one is derived from method and path; a
/// duplicate gets a numeric suffix.
pub(crate) fn operation_ids(doc: &mut Value, changes: &mut Changes) {
    let mut seen = BTreeSet::new();
    for (path, method, op) in operations_mut(doc) {
        let at = format!(
            "{}/operationId",
            crate::nav::operation_pointer(&path, &method)
        );
        let old = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let (mut id, mut why) = match &old {
            Some(id) if is_identifier(id) => (id.clone(), None),
            Some(id) => (
                to_identifier(id),
                Some(format!("{id:?} is not a Rust identifier")),
            ),
            None => (
                to_identifier(&format!("{method}_{path}")),
                Some("operation had no operationId".to_string()),
            ),
        };
        if seen.contains(&id.to_ascii_lowercase()) {
            let base = id.clone();
            let mut n = 2;
            while seen.contains(&format!("{base}_{n}").to_ascii_lowercase()) {
                n += 1;
            }
            id = format!("{base}_{n}");
            why = Some(format!("{base:?} is used by an earlier operation"));
        }
        seen.insert(id.to_ascii_lowercase());
        if let Some(why) = why {
            changes.push(at, format!("{why}: renamed to {id:?}"));
            op.insert("operationId".into(), Value::String(id));
        }
    }
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
    "Properties that become one Rust field (`_links`, `links`) are both kept, the second under its own key, its JSON name restored.",
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

/// Whether typify makes a named type of this inline schema (a struct, an enum, a union).
pub(super) fn makes_type(schema: &Map<String, Value>) -> bool {
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
pub(crate) const RESERVED_TYPE_NAMES: &[&str] = &["Default", "Ok", "Err", "Some", "None"];

/// The `colliding-type-names` pass ([`colliding_type_names`]).
pub(crate) const COLLIDING_TYPE_NAMES: Pass = Pass::new(
    "colliding-type-names",
    Stage::Fix,
    "Schemas that would give one Rust type name (`metadata` and `_metadata`; an inline schema titled or named like a component) get distinct names (E0428).",
    colliding_type_names,
);

/// typify names a component after its key and an inline schema after its `title`, or else after
/// where it sits (`{Parent}{Property}`, `{Parent}Item`, `{Parent}Value`). Two of those that give
/// one Rust name make the crate fail (E0428, or E0119 on their impls): Sendgrid's `metadata` and
/// `_metadata`, Intercom's inline `Quick Reply Option` items beside the `quick_reply_option`
/// component and its `ticket.type` enum beside `ticket_type`. A later component is renamed
/// (`_metadata_2`, every `$ref` to it following); an inline schema's clashing title is dropped,
/// and an inline schema whose place-name clashes gets a title of its own (`TicketTypeInline`).
pub(crate) fn colliding_type_names(doc: &mut Value, changes: &mut Changes) {
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

pub(super) fn rewrite_refs(v: &mut Value, from: &str, to: &str) {
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
pub(super) fn inline_names(
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
