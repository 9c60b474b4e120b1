//! OpenAPI 3.1, and the JSON Schema keywords a 3.0 document borrows from it, written in the 3.0 form progenitor 0.15 reads.

use serde_json::{Value, json};

use super::{Changes, Pass, Stage};

/// The `openapi-3-1` pass ([`openapi_3_1`]).
pub(crate) const OPENAPI_3_1: Pass = Pass::new(
    "openapi-3-1",
    Stage::Normalise,
    "An OpenAPI 3.1 document is written in its 3.0 form (type lists, const, numeric exclusive bounds, null members, tuples; webhooks removed); a 3.0 document's JSON Schema keywords (`type: null`, tuple `items`) too.",
    openapi_3_1,
);

/// progenitor 0.15 reads OpenAPI 3.0 only. A 3.1 document is written in its 3.0 form: version
/// 3.0.3; `type: [T, "null"]` is `type: T, nullable: true` (several types: `anyOf`); a `null`
/// member of `anyOf`/`oneOf` is `nullable`; `const` is a one-value `enum`; a schema's
/// `examples` list gives its `example`; numeric `exclusiveMinimum`/`exclusiveMaximum` are the
/// 3.0 booleans; `contentEncoding: base64` is `format: byte`, binary content `format: binary`;
/// a tuple (`prefixItems`, or `items` as a list) is an array of its members (`anyOf`);
/// `webhooks`, `jsonSchemaDialect` and `components.pathItems` (no 3.0 form) are removed. A 3.0
/// document with these schema keywords (none of which 3.0 allows) gets the same schema rewrite.
pub(crate) fn openapi_3_1(doc: &mut Value, changes: &mut Changes) {
    let Some(version) = doc
        .get("openapi")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let v31 = version.starts_with("3.1");
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if !v31 {
        // a 3.0 document written by a JSON Schema tool (Revolt's: `type: "null"` members, tuple
        // `items`) has the same keywords, none of which 3.0 allows: the same rewrite
        return json_schema_keywords(
            doc,
            changes,
            "JSON Schema keywords OpenAPI 3.0 does not have",
        );
    }
    root.insert("openapi".into(), json!("3.0.3"));
    changes.push(
        "/openapi",
        format!("OpenAPI {version} written in its 3.0 form (3.0.3) for progenitor"),
    );
    for key in ["webhooks", "jsonSchemaDialect"] {
        if root.remove(key).is_some() {
            changes.push(
                format!("/{key}"),
                format!("`{key}` has no OpenAPI 3.0 form: removed"),
            );
        }
    }
    if let Some(Value::Object(c)) = root.get_mut("components")
        && c.remove("pathItems").is_some()
    {
        changes.push(
            "/components/pathItems",
            "`components.pathItems` has no OpenAPI 3.0 form: removed",
        );
    }
    root.entry("paths").or_insert_with(|| json!({}));
    json_schema_keywords(doc, changes, "OpenAPI 3.1 schema keywords");
}

/// The schema keywords of OpenAPI 3.1 (JSON Schema 2020-12) in their 3.0 form, reported as
/// `what` "in their 3.0 form".
pub(super) fn json_schema_keywords(doc: &mut Value, changes: &mut Changes, what: &str) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let mut did: Vec<&str> = Vec::new();
        // a tuple (`prefixItems`, or the draft-4 array form of `items`): 3.0 has none, so each
        // element is one of the tuple's member schemas
        let prefix = map.remove("prefixItems");
        let tuple = matches!(map.get("items"), Some(Value::Array(_)));
        if prefix.is_some() || tuple {
            let mut members: Vec<Value> = Vec::new();
            for part in [prefix, if tuple { map.remove("items") } else { None }] {
                if let Some(Value::Array(list)) = part {
                    members.extend(list);
                }
            }
            if let Some(rest) = map.get("items").filter(|v| v.is_object()) {
                members.push(rest.clone());
            }
            let mut unique: Vec<Value> = Vec::new();
            for m in members {
                if !unique.contains(&m) {
                    unique.push(m);
                }
            }
            let items = match unique.len() {
                0 => json!({}),
                1 => unique.remove(0),
                _ => json!({"anyOf": unique}),
            };
            map.insert("items".into(), items);
            did.push("tuple items");
        }
        if let Some(Value::Array(types)) = map.get("type").cloned() {
            let null = types.iter().any(|t| t == "null");
            let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
            map.remove("type");
            match rest.as_slice() {
                [] => {}
                [one] => {
                    map.insert("type".into(), one.clone());
                }
                many => {
                    let members: Vec<Value> = many.iter().map(|t| json!({"type": t})).collect();
                    map.insert("anyOf".into(), Value::Array(members));
                }
            }
            if null {
                map.insert("nullable".into(), json!(true));
            }
            did.push("type list");
        }
        if map.get("type") == Some(&json!("null")) {
            map.remove("type");
            map.insert("nullable".into(), json!(true));
            did.push("type null");
        }
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(members)) = map.get_mut(key) else {
                continue;
            };
            let before = members.len();
            members.retain(|m| {
                m.get("type") != Some(&json!("null")) || m.as_object().is_some_and(|o| o.len() > 1)
            });
            if members.len() == before {
                continue;
            }
            let left = std::mem::take(members);
            map.remove(key);
            if let [only] = left.as_slice() {
                map.insert("allOf".into(), json!([only]));
            } else if !left.is_empty() {
                map.insert(key.into(), Value::Array(left));
            }
            map.insert("nullable".into(), json!(true));
            did.push("null member");
        }
        if let Some(c) = map.remove("const") {
            if !map.contains_key("enum") {
                map.insert("enum".into(), json!([c]));
            }
            did.push("const");
        }
        if let Some(Value::Array(examples)) = map.get("examples").cloned() {
            map.remove("examples");
            if let Some(first) = examples.into_iter().next() {
                map.entry("example").or_insert(first);
            }
            did.push("examples list");
        }
        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(n) = map.get(exclusive).filter(|v| v.is_number()).cloned() {
                map.insert(bound.into(), n);
                map.insert(exclusive.into(), json!(true));
                did.push(exclusive);
            }
        }
        if let Some(encoding) = map.remove("contentEncoding") {
            if encoding == "base64" {
                map.insert("format".into(), json!("byte"));
            }
            did.push("contentEncoding");
        }
        if map.remove("contentMediaType").is_some() {
            map.entry("format").or_insert(json!("binary"));
            did.push("contentMediaType");
        }
        if !did.is_empty() {
            changes.push(
                at.to_string(),
                format!("{what} in their 3.0 form ({})", did.join(", ")),
            );
        }
    });
}
