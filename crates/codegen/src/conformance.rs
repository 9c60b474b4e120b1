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

/// What [`nonconformance`] found: `Ok(None)` the value conforms, `Ok(Some(why))` it does not,
/// `Err(why)` the check could not tell within its bounds (what ran out), so a caller keeps the
/// value and says so, never silently.
pub(crate) type Verdict = std::result::Result<Option<String>, String>;

/// Why `value` does not conform to `schema` (resolved in `doc`), or None when it does, as far
/// as this checks: types, `nullable`, `enum`, `required`, properties, items and compositions.
/// An example's property that the schema does not declare counts as a mismatch (as linters
/// read examples), unless the schema allows other properties or is a composition. Formats and
/// numeric or length constraints are not checked (not a full validator).
/// The check is bounded in work as well as depth ([`CONFORMANCE_WORK`] schema visits,
/// [`CONFORMANCE_DEPTH`] levels): a composition that branches at every level (`S1: oneOf [S2,
/// S2]`, `S2: oneOf [S3, S3]`, ...) would otherwise take time exponential in its depth. When a
/// bound is reached before a mismatch is found the verdict is `Err`, naming the bound.
pub(crate) fn nonconformance(doc: &Value, schema: &Value, value: &Value, depth: usize) -> Verdict {
    let budget = Budget::new();
    let found = conforms(doc, schema, value, depth, true, &budget);
    budget.verdict(found)
}

/// [`nonconformance`], where properties the schema does not declare are allowed.
pub(crate) fn nonconformance_lenient(doc: &Value, schema: &Value, value: &Value) -> Verdict {
    let budget = Budget::new();
    let found = conforms(doc, schema, value, 0, false, &budget);
    budget.verdict(found)
}

/// How many schemas [`nonconformance`] visits for one value at most.
pub(crate) const CONFORMANCE_WORK: usize = 10_000;
/// How deep [`nonconformance`] follows a value into its schema (properties, items, members).
pub(crate) const CONFORMANCE_DEPTH: usize = 64;

/// The work left to one check, and which bound (if any) it reached.
pub(crate) struct Budget {
    fuel: Cell<usize>,
    reached: Cell<Option<Bound>>,
}

/// A bound of [`nonconformance`].
#[derive(Clone, Copy)]
enum Bound {
    Depth,
    Work,
}

impl Budget {
    fn new() -> Self {
        Budget {
            fuel: Cell::new(CONFORMANCE_WORK),
            reached: Cell::new(None),
        }
    }

    /// A mismatch found is certain (a bound only ever makes a branch conform); no mismatch is
    /// certain only when no bound was reached.
    fn verdict(&self, found: Option<String>) -> Verdict {
        match (found, self.reached.get()) {
            (Some(why), _) => Ok(Some(why)),
            (None, None) => Ok(None),
            (None, Some(Bound::Depth)) => Err(format!(
                "the check reached its depth bound ({CONFORMANCE_DEPTH} levels of properties, items and members)"
            )),
            (None, Some(Bound::Work)) => Err(format!(
                "the check ran out of its work budget ({CONFORMANCE_WORK} schema visits)"
            )),
        }
    }
}

fn conforms(
    doc: &Value,
    schema: &Value,
    value: &Value,
    depth: usize,
    strict: bool,
    fuel: &Budget,
) -> Option<String> {
    let nonconformance =
        |doc, schema, value, depth| conforms(doc, schema, value, depth, true, fuel);
    if depth > CONFORMANCE_DEPTH {
        fuel.reached.set(Some(Bound::Depth));
        return None;
    }
    if fuel.fuel.get() == 0 {
        fuel.reached.set(Some(Bound::Work));
        return None;
    }
    fuel.fuel.set(fuel.fuel.get() - 1);
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
