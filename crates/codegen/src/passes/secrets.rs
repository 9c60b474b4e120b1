//! Secrets in generated types: a string schema with `format: password` is generated as
//! `agentstatus_runtime::SecretText` (its `Debug` is a redaction, on the wire it is the plain
//! string), never a `String` that `{:?}` of a request, an answer or a builder would show.
//!
//! The type itself is chosen by the generator's settings (`generate::settings`: progenitor's
//! `with_conversion`, typify's schema cache). typify matches a conversion by comparing the whole
//! schema except its metadata (title, description, default, examples, `readOnly`/`writeOnly`,
//! deprecated: `typify-impl` 0.8.0 `src/conversions.rs`, `SchemaCache::lookup`), so a secret
//! with a description matches, one with a `nullable` becomes `Option<SecretText>`, but one with a
//! `pattern`, a length bound or a vendor extension beside the format would silently stay a
//! `String`. This pass makes every such schema the one the conversion matches, and keeps the
//! secret type out of the places progenitor cannot write it.

use serde_json::{Map, Value};

use super::{Changes, Pass, Stage};

/// The `secret-strings` pass ([`secret_strings`]).
pub(crate) const SECRET_STRINGS: Pass = Pass::new(
    "secret-strings",
    Stage::Fix,
    "A `format: password` string is generated as `agentstatus_runtime::SecretText` (`Debug` redacts it; the plain string on the wire): what would keep its schema from matching that type (`pattern`, length bounds, vendor extensions) is removed; a path, header or cookie parameter, which progenitor writes with `to_string()`, stays a `String`.",
    secret_strings,
);

/// The type `format: password` strings are generated as.
pub(crate) const SECRET_TYPE: &str = "::agentstatus_runtime::SecretText";

/// The schema the generator converts to [`SECRET_TYPE`]: `{type: string, format: password}`,
/// whatever its metadata.
pub(crate) fn secret_string_schema() -> schemars::schema::SchemaObject {
    schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::String.into()),
        format: Some("password".to_string()),
        ..Default::default()
    }
}

/// Is `schema` a string with `format: password` (not an enum: its values are in the document,
/// no secret, and typify makes an enum of them)?
fn is_secret_string(schema: &Map<String, Value>) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("password")
        && schema.get("type").and_then(Value::as_str) == Some("string")
        && !schema.contains_key("enum")
}

/// The keywords beside `type`, `format` and `nullable` that typify compares (so that a schema
/// with them does not match the conversion) and that mean nothing for a secret the generated
/// code does not check.
const UNMATCHED: &[&str] = &["pattern", "minLength", "maxLength"];

/// The prefix of the marks this workspace's passes leave for the generator.
const OWN_MARKS: &str = "x-agentstatus-";

/// `format: password` strings become what the conversion to [`SECRET_TYPE`] matches; in path,
/// header and cookie parameters (written with `to_string()`, which the secret type does not
/// offer) they lose the format and stay strings.
pub(crate) fn secret_strings(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    super::parameters::for_each_parameter(doc, &mut |map, at| {
        let place = map
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !matches!(place.as_str(), "path" | "header" | "cookie") {
            return;
        }
        let Some(schema) = map.get_mut("schema") else {
            return;
        };
        let (resolved, from) = crate::nav::resolve_at(&snapshot, schema, &format!("{at}/schema"));
        let Some(resolved) = resolved.as_object().filter(|s| is_secret_string(s)) else {
            return;
        };
        let mut plain = resolved.clone();
        plain.remove("format");
        let what = if from == format!("{at}/schema") {
            "`format: password` removed".to_string()
        } else {
            format!("`{from}` (`format: password`) written here without its format")
        };
        *schema = Value::Object(plain);
        changes.push(
            format!("{at}/schema"),
            format!(
                "a secret in a {place} parameter is written with `to_string()` by progenitor, \
                 which `SecretText` does not offer: it stays a `String`; {what}"
            ),
        );
    });
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if !is_secret_string(map) {
            return;
        }
        let mut removed: Vec<String> = UNMATCHED
            .iter()
            .filter(|k| map.remove(**k).is_some())
            .map(|k| format!("`{k}`"))
            .collect();
        let extensions: Vec<String> = map
            .keys()
            .filter(|k| k.starts_with("x-") && !k.starts_with(OWN_MARKS))
            .cloned()
            .collect();
        for k in extensions {
            map.remove(&k);
            removed.push(format!("`{k}`"));
        }
        // a mark of an earlier pass (`colliding-properties`' JSON name) stays where its pass
        // reads it, beside the secret, which moves into an `allOf` of its own to match
        let marks: Vec<String> = map
            .keys()
            .filter(|k| k.starts_with(OWN_MARKS))
            .cloned()
            .collect();
        if !marks.is_empty() {
            let secret: Map<String, Value> = std::mem::take(map)
                .into_iter()
                .filter_map(|(k, v)| {
                    if marks.contains(&k) {
                        map.insert(k, v);
                        None
                    } else {
                        Some((k, v))
                    }
                })
                .collect();
            map.insert("allOf".into(), Value::Array(vec![Value::Object(secret)]));
            changes.push(
                at.to_string(),
                format!(
                    "a `format: password` string with this workspace's {} beside it: the secret \
                     moved into an `allOf` of its own, so that it is generated as `SecretText`",
                    marks.join(", ")
                ),
            );
        }
        if !removed.is_empty() {
            changes.push(
                at.to_string(),
                format!(
                    "a `format: password` string is generated as `SecretText`, which is not \
                     checked: {} removed so that the schema matches it",
                    removed.join(", ")
                ),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(mut doc: Value) -> (Value, Vec<super::super::Change>) {
        let changes = super::super::run_passes([&SECRET_STRINGS], &mut doc);
        (doc, changes)
    }

    #[test]
    fn what_keeps_a_secret_from_matching_is_removed_and_said() {
        let (doc, changes) = run(json!({
            "openapi": "3.0.0",
            "components": {"schemas": {"Login": {"type": "object", "properties": {
                "password": {"type": "string", "format": "password", "description": "d",
                             "minLength": 8, "pattern": "^.+$", "x-vendor": 1, "nullable": true},
                "plain": {"type": "string", "format": "password", "title": "t"},
                "known": {"type": "string", "format": "password", "enum": ["a"], "maxLength": 3},
                "name": {"type": "string", "maxLength": 3}
            }}}}
        }));
        let props = &doc["components"]["schemas"]["Login"]["properties"];
        assert_eq!(
            props["password"],
            json!({"type": "string", "format": "password", "description": "d", "nullable": true})
        );
        assert_eq!(
            props["plain"],
            json!({"type": "string", "format": "password", "title": "t"})
        );
        // an enum is no secret, a string without the format is left alone
        assert_eq!(props["known"]["maxLength"], 3);
        assert_eq!(props["name"]["maxLength"], 3);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            changes[0].pointer,
            "/components/schemas/Login/properties/password"
        );
        for k in ["`minLength`", "`pattern`", "`x-vendor`"] {
            assert!(changes[0].message.contains(k), "{changes:?}");
        }
    }

    #[test]
    fn path_and_header_secrets_stay_strings_query_ones_do_not() {
        let (doc, changes) = run(json!({
            "openapi": "3.0.0",
            "paths": {"/a/{key}": {"get": {"parameters": [
                {"name": "key", "in": "path", "required": true,
                 "schema": {"type": "string", "format": "password"}},
                {"name": "X-Secret", "in": "header",
                 "schema": {"$ref": "#/components/schemas/Secret"}},
                {"name": "token", "in": "query",
                 "schema": {"type": "string", "format": "password"}}
            ]}}},
            "components": {"schemas": {"Secret": {"type": "string", "format": "password",
                                                  "description": "s"}}}
        }));
        let params = &doc["paths"]["/a/{key}"]["get"]["parameters"];
        assert_eq!(params[0]["schema"], json!({"type": "string"}));
        assert_eq!(
            params[1]["schema"],
            json!({"type": "string", "description": "s"})
        );
        assert_eq!(
            params[2]["schema"],
            json!({"type": "string", "format": "password"})
        );
        // the component itself stays a secret for its other uses
        assert_eq!(doc["components"]["schemas"]["Secret"]["format"], "password");
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            changes[1].message.contains("/components/schemas/Secret"),
            "{changes:?}"
        );
    }
}
