//! Forward compatibility: a string enum that only appears in responses is decoded as
//! `agentstatus_runtime::OpenEnum<T>`, so a value the vendor adds later becomes
//! `OpenEnum::Unknown(value)` instead of failing the whole response. Request enums stay strict.
//!
//! progenitor 0.15 generates closed enums. This pass keeps the closed enum (hoisting an inline one
//! into `components/schemas`) and wraps each response-side use in typify's `x-rust-type`
//! extension with the enum as the type parameter.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{Changes, Pass, Stage};
use crate::error::escape_token;

/// The `open-response-enums` pass ([`open_response_enums`]), the last of the pipeline.
pub(crate) const OPEN_RESPONSE_ENUMS: Pass = Pass::new(
    "open-response-enums",
    Stage::Fix,
    "Enums in responses become `OpenEnum<T>`: a value the vendor adds later still decodes.",
    open_response_enums,
);

/// The crate and type the wrapper points at.
pub(crate) const CRATE: &str = "agentstatus-runtime";
/// The path the generated code uses for the open enum type.
pub(crate) const PATH: &str = "agentstatus_runtime::OpenEnum";

fn wrapper(component: &str) -> Value {
    json!({
        "x-rust-type": {
            "crate": CRATE,
            "version": "*",
            "path": PATH,
            "parameters": [{"$ref": format!("#/components/schemas/{component}")}]
        }
    })
}

fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

fn is_string_enum(s: &Value) -> bool {
    s.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty() && v.iter().all(Value::is_string))
        && s.get("type").is_none_or(|t| t == "string")
        && s.get("nullable") != Some(&Value::Bool(true))
}

/// Component schemas reachable from requests (bodies and parameters), transitively.
pub(super) fn request_components(doc: &Value) -> BTreeSet<String> {
    let mut roots = Vec::new();
    for (_, item) in crate::nav::path_items(doc) {
        for (k, v) in item.as_object().into_iter().flatten() {
            if k == "parameters" {
                roots.push(v);
            } else if crate::nav::is_method(k) {
                roots.extend(v.get("parameters"));
                roots.extend(v.get("requestBody"));
            }
        }
    }
    let mut seen = BTreeSet::new();
    // every target read once, a component or not (a `$ref` into an operation that recurses
    // through its properties would otherwise be followed forever)
    let mut followed = BTreeSet::new();
    let mut stack: Vec<&Value> = roots;
    while let Some(v) = stack.pop() {
        let mut refs = Vec::new();
        crate::nav::local_refs(v, "", &mut refs);
        for (_, r) in refs {
            let Some(p) = crate::nav::ref_pointer(&r) else {
                continue;
            };
            if !followed.insert(p.clone()) {
                continue;
            }
            if let Some(name) = component_name(&r) {
                seen.insert(name.to_string());
            }
            if let Some(target) = doc.pointer(&p) {
                stack.push(target);
            }
        }
    }
    seen
}

struct Cx<'a> {
    /// String-enum components that are not request-reachable.
    enum_components: BTreeSet<String>,
    existing: BTreeSet<String>,
    /// The Rust type names of the existing and hoisted components.
    rust_names: BTreeSet<String>,
    hoisted: Map<String, Value>,
    changes: &'a mut Changes,
}

impl Cx<'_> {
    /// A component name for `base` whose Rust type name no other component has (typify names
    /// `ticket_type` and `TicketType` alike).
    fn unique(&self, base: &str) -> String {
        use crate::nav::type_name;
        let taken = |name: &str| {
            self.existing.contains(name)
                || self.hoisted.contains_key(name)
                || self.rust_names.contains(&type_name(name))
        };
        let mut name = base.to_string();
        let mut n = 2;
        while taken(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    /// Wrap the enums under `node` (a response-side schema).
    fn visit(&mut self, node: &mut Value, hint: &str, at: &str) {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(name) = component_name(r).filter(|n| self.enum_components.contains(*n)) {
                let name = name.to_string();
                *node = wrapper(&name);
                self.changes.push(
                    at.to_string(),
                    format!("response enum `{name}` decoded as OpenEnum<{name}>"),
                );
            }
            return;
        }
        if is_string_enum(node) {
            let name = self.unique(hint);
            self.rust_names.insert(crate::nav::type_name(&name));
            let schema = std::mem::replace(node, wrapper(&name));
            self.hoisted.insert(name.clone(), schema);
            self.changes.push(at.to_string(), format!("inline response enum hoisted to components/schemas/{name}, decoded as OpenEnum<{name}>"));
            return;
        }
        let Some(map) = node.as_object_mut() else {
            return;
        };
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            for (prop, child) in props.iter_mut() {
                let at = format!("{at}/properties/{}", escape_token(prop));
                self.visit(
                    child,
                    &format!("{hint}{}", crate::nav::type_name(prop)),
                    &at,
                );
            }
        }
        if let Some(items) = map.get_mut("items") {
            self.visit(items, &format!("{hint}Item"), &format!("{at}/items"));
        }
        if let Some(extra) = map
            .get_mut("additionalProperties")
            .filter(|v| v.is_object())
        {
            self.visit(
                extra,
                &format!("{hint}Value"),
                &format!("{at}/additionalProperties"),
            );
        }
        // an `allOf`'s members are merged into its own type (typify names their properties'
        // types as the composition's), but a `oneOf`/`anyOf` member is not its composition: an
        // enum member hoisted under the composition's own name would take the name typify
        // gives the composition (an inline `oneOf` property's `{Parent}{Property}`, Trello's
        // `TokenPermission.idModel: oneOf [TrelloID, enum]`: E0428), so it is named as typify
        // names a member, `{Composition}Variant{i}`
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = map.get_mut(key) {
                for (i, child) in list.iter_mut().enumerate() {
                    let hint = if key == "allOf" {
                        hint.to_string()
                    } else {
                        format!("{hint}Variant{i}")
                    };
                    self.visit(child, &hint, &format!("{at}/{key}/{i}"));
                }
            }
        }
    }
}

/// Wrap every response-only string enum of `doc` in `OpenEnum`, reporting each change.
pub(crate) fn open_response_enums(doc: &mut Value, changes: &mut Changes) {
    let requested = request_components(doc);
    let schemas: Vec<(String, bool)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), is_string_enum(v)))
        .collect();
    let mut cx = Cx {
        enum_components: schemas
            .iter()
            .filter(|(name, is_enum)| *is_enum && !requested.contains(name))
            .map(|(name, _)| name.clone())
            .collect(),
        existing: schemas.iter().map(|(n, _)| n.clone()).collect(),
        rust_names: schemas
            .iter()
            .map(|(n, _)| crate::nav::type_name(n))
            .collect(),
        hoisted: Map::new(),
        changes,
    };
    // response-only component schemas: their enum properties
    if let Some(Value::Object(components)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in components.iter_mut() {
            if requested.contains(name) || is_string_enum(schema) {
                continue;
            }
            let at = format!("/components/schemas/{}", escape_token(name));
            // visit the children only: a component that is itself an enum keeps its closed type
            if let Some(map) = schema.as_object_mut() {
                for key in [
                    "properties",
                    "items",
                    "additionalProperties",
                    "allOf",
                    "anyOf",
                    "oneOf",
                ] {
                    if let Some(child) = map.get_mut(key) {
                        let mut holder = Value::Object(Map::from_iter([(
                            key.to_string(),
                            std::mem::take(child),
                        )]));
                        cx.visit(&mut holder, &crate::nav::type_name(name), &at);
                        if let Some(v) = holder.as_object_mut().and_then(|m| m.remove(key)) {
                            *child = v;
                        }
                    }
                }
            }
        }
    }
    // inline response schemas of operations
    for (path, method, op) in crate::nav::operations_mut(doc) {
        let method = method.as_str();
        let hint = crate::nav::type_name(
            op.get("operationId")
                .and_then(Value::as_str)
                .unwrap_or(method),
        );
        let Some(Value::Object(responses)) = op.get_mut("responses") else {
            continue;
        };
        for (code, response) in responses.iter_mut() {
            let Some(Value::Object(content)) = response.get_mut("content") else {
                continue;
            };
            for (media, m) in content.iter_mut() {
                if let Some(schema) = m.get_mut("schema") {
                    let at = format!(
                        "/paths/{}/{method}/responses/{code}/content/{}/schema",
                        escape_token(&path),
                        escape_token(media)
                    );
                    let suffix = if code.starts_with('2') {
                        "Response"
                    } else {
                        "Error"
                    };
                    cx.visit(schema, &format!("{hint}{suffix}"), &at);
                }
            }
        }
    }
    let hoisted = std::mem::take(&mut cx.hoisted);
    if !hoisted.is_empty()
        && let Some(Value::Object(components)) = doc.pointer_mut("/components/schemas")
    {
        components.extend(hoisted);
    } else if !hoisted.is_empty() {
        let components = doc
            .as_object_mut()
            .expect("an OpenAPI document is an object")
            .entry("components")
            .or_insert_with(|| json!({}));
        components["schemas"] = Value::Object(hoisted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_enums_are_wrapped_request_enums_are_not() {
        let mut doc = json!({
            "paths": {"/a": {"put": {
                "operationId": "put_a",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "state": {"type": "string", "enum": ["a", "b"]},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "shared": {"$ref": "#/components/schemas/Shared"}
                    }
                }}}}}
            }}},
            "components": {"schemas": {
                "Req": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["x"]}, "shared": {"$ref": "#/components/schemas/Shared"}}},
                "Kind": {"type": "string", "enum": ["k1", "k2"]},
                "Shared": {"type": "string", "enum": ["s"]}
            }}
        });
        let mut changes = Changes::default();
        open_response_enums(&mut doc, &mut changes);
        let props = &doc["paths"]["/a"]["put"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["properties"];
        assert_eq!(
            props["state"]["x-rust-type"]["parameters"][0]["$ref"],
            "#/components/schemas/PutAResponseState"
        );
        assert_eq!(
            doc["components"]["schemas"]["PutAResponseState"]["enum"],
            json!(["a", "b"])
        );
        assert_eq!(props["kind"]["x-rust-type"]["path"], PATH);
        // an enum also used by a request stays strict everywhere
        assert_eq!(
            props["shared"],
            json!({"$ref": "#/components/schemas/Shared"})
        );
        assert_eq!(
            doc["components"]["schemas"]["Req"]["properties"]["mode"]["enum"],
            json!(["x"])
        );
        assert_eq!(changes.len(), 2);
    }
}
