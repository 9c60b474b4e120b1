//! Does a value conform to its schema? The checker behind the example and default passes: bounded
//! work, `$ref`s followed, lenient where typify is.

use std::cell::Cell;

use serde_json::Value;

pub(crate) fn matches_type(value: &Value, ty: &str) -> bool {
    match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// The JSON type of `value` as a schema `type` (`integer` for whole numbers).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Why `value` does not conform to `schema` (resolved in `doc`), or None when it does, as far
/// as this checks: types, `nullable`, `enum`, `required`, properties, items and compositions.
/// An example's property that the schema does not declare counts as a mismatch (as linters
/// read examples), unless the schema allows other properties or is a composition. Formats and
/// numeric or length constraints are not checked (not a full validator).
/// The check is bounded in work as well as depth ([`CONFORMANCE_WORK`] schema visits): a
/// composition that branches at every level (`S1: oneOf [S2, S2]`, `S2: oneOf [S3, S3]`, ...)
/// would otherwise take time exponential in its depth. When the budget runs out the value is
/// taken to conform (an example is kept, never wrongly dropped).
pub(crate) fn nonconformance(
    doc: &Value,
    schema: &Value,
    value: &Value,
    depth: usize,
) -> Option<String> {
    conforms(
        doc,
        schema,
        value,
        depth,
        true,
        &Cell::new(CONFORMANCE_WORK),
    )
}

/// [`nonconformance`], where properties the schema does not declare are allowed.
pub(crate) fn nonconformance_lenient(doc: &Value, schema: &Value, value: &Value) -> Option<String> {
    conforms(doc, schema, value, 0, false, &Cell::new(CONFORMANCE_WORK))
}

/// How many schemas [`nonconformance`] visits for one value at most.
pub(crate) const CONFORMANCE_WORK: usize = 10_000;

pub(crate) fn conforms(
    doc: &Value,
    schema: &Value,
    value: &Value,
    depth: usize,
    strict: bool,
    fuel: &Cell<usize>,
) -> Option<String> {
    let nonconformance =
        |doc, schema, value, depth| conforms(doc, schema, value, depth, true, fuel);
    if depth > 64 || fuel.get() == 0 {
        return None;
    }
    fuel.set(fuel.get() - 1);
    let schema = crate::nav::resolve(doc, schema);
    let map = schema.as_object()?;
    let nullable = map.get("nullable") == Some(&Value::Bool(true));
    if value.is_null() && nullable {
        return None;
    }
    // each member of a composition sees only part of the properties
    if let Some(Value::Array(all)) = map.get("allOf")
        && let Some(why) = all
            .iter()
            .find_map(|s| conforms(doc, s, value, depth + 1, false, fuel))
    {
        return Some(why);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(any)) = map.get(key)
            && !any.is_empty()
            && any
                .iter()
                .all(|s| conforms(doc, s, value, depth + 1, false, fuel).is_some())
        {
            return Some(format!("matches none of `{key}`"));
        }
    }
    if let Some(ty) = map.get("type").and_then(Value::as_str)
        && !matches_type(value, ty)
    {
        return Some(format!("{} where the schema says {ty}", json_type(value)));
    }
    if let Some(Value::Array(values)) = map.get("enum")
        && !values.contains(value)
    {
        return Some(format!("{value} is not one of the enum values"));
    }
    match value {
        Value::Object(obj) => {
            for r in map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = r.as_str()
                    && !obj.contains_key(r)
                {
                    return Some(format!("required property {r:?} missing"));
                }
            }
            let props = map.get("properties").and_then(Value::as_object);
            let composed = ["allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| map.contains_key(*k));
            let closed = map.get("additionalProperties") == Some(&Value::Bool(false))
                || (strict
                    && !composed
                    && props.is_some()
                    && map.get("additionalProperties").is_none());
            for (k, v) in obj {
                if closed && props.is_none_or(|p| !p.contains_key(k)) {
                    return Some(format!("property {k:?} is not allowed"));
                }
                if let Some(p) = props.and_then(|p| p.get(k))
                    && let Some(why) = nonconformance(doc, p, v, depth + 1)
                {
                    return Some(format!("{k}: {why}"));
                }
            }
            None
        }
        Value::Array(items) => {
            let item_schema = map.get("items")?;
            items.iter().enumerate().find_map(|(i, v)| {
                nonconformance(doc, item_schema, v, depth + 1).map(|why| format!("[{i}]: {why}"))
            })
        }
        _ => None,
    }
}

/// A schema's `type`, or the one its keywords imply (`properties` an object, `items` an array).
pub(crate) fn schema_type(schema: &Value) -> Option<&str> {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        return Some(t);
    }
    if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
        return Some("object");
    }
    schema.get("items").map(|_| "array")
}
