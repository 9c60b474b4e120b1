//! Examples and defaults that contradict their schema (checked with [`crate::conformance`]).

use serde_json::Value;

use super::{Changes, Pass, Stage};
use crate::conformance::{nonconformance, nonconformance_lenient};
use crate::error::escape_token;

/// The `contradicting-examples` pass ([`contradicting_examples`]).
pub(crate) const CONTRADICTING_EXAMPLES: Pass = Pass::new(
    "contradicting-examples",
    Stage::Normalise,
    "Schema, media-type and parameter examples that do not match their schema are dropped (one whose check reaches its work or depth bound is kept, and said so with its pointer).",
    contradicting_examples,
);

/// An `example` whose JSON type contradicts its schema's `type` is dropped (it documents
/// nothing and confuses readers and tools); so is a media-type or parameter example (`example`,
/// or one of `examples`) that does not conform to its schema: a mock server built from the
/// document would answer with it, and the clients could not decode it.
pub(crate) fn contradicting_examples(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        // a schema's own example
        if map.get("type").and_then(Value::as_str).is_some()
            && let Some(example) = map.get("example")
        {
            let schema = Value::Object(map.clone());
            match nonconformance(&snapshot, &schema, example, 0) {
                Ok(None) => {}
                Ok(Some(why)) => {
                    map.remove("example");
                    changes.push(
                        format!("{at}/example"),
                        format!("example does not match its schema ({why}): dropped"),
                    );
                }
                Err(bound) => changes.push(format!("{at}/example"), unchecked(&bound)),
            }
            return;
        }
        // a media type's or a parameter's examples, against the schema beside them
        let Some(schema) = map.get("schema").cloned() else {
            return;
        };
        if let Some(example) = map.get("example") {
            match nonconformance(&snapshot, &schema, example, 0) {
                Ok(None) => {}
                Ok(Some(why)) => {
                    map.remove("example");
                    changes.push(
                        format!("{at}/example"),
                        format!("example does not match its schema ({why}): dropped"),
                    );
                }
                Err(bound) => changes.push(format!("{at}/example"), unchecked(&bound)),
            }
        }
        if let Some(Value::Object(examples)) = map.get_mut("examples") {
            let mut bad: Vec<(String, String)> = Vec::new();
            for (name, ex) in examples.iter() {
                let Some(value) = crate::nav::resolve(&snapshot, ex).get("value") else {
                    continue;
                };
                match nonconformance(&snapshot, &schema, value, 0) {
                    Ok(None) => {}
                    Ok(Some(why)) => bad.push((name.clone(), why)),
                    Err(bound) => changes.push(
                        format!("{at}/examples/{}", escape_token(name)),
                        unchecked(&bound),
                    ),
                }
            }
            for (name, why) in bad {
                examples.remove(&name);
                changes.push(
                    format!("{at}/examples/{}", escape_token(&name)),
                    format!("example {name:?} does not match its schema ({why}): dropped"),
                );
            }
            if examples.is_empty() {
                map.remove("examples");
            }
        }
    });
}

/// What a pass says of a value whose check against its schema reached a bound: it is kept, and
/// the bound is named (the change's pointer says where).
fn unchecked(bound: &str) -> String {
    format!("not checked against its schema ({bound}): kept as written")
}

/// The `contradicting-defaults` pass ([`contradicting_defaults`]).
pub(crate) const CONTRADICTING_DEFAULTS: Pass = Pass::new(
    "contradicting-defaults",
    Stage::Normalise,
    "A `default` that does not match its schema (typify refuses the whole type): a string that spells the value (`\"false\"` for a boolean) becomes it, anything else is dropped.",
    contradicting_defaults,
);

/// A schema's `default` that does not conform to it (Xero's `type: boolean, default: "false"`)
/// makes typify refuse the type and everything that reaches it. A string default of a boolean,
/// integer or number schema that spells a conforming value becomes that value; any other
/// contradicting default is dropped (a default is documentation to a client: nothing is lost
/// on the wire).
pub(crate) fn contradicting_defaults(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(default) = map.get("default") else {
            return;
        };
        // a schema (a `responses` object has a `default` too: the default answer)
        if !["type", "$ref", "allOf", "oneOf", "anyOf", "enum"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            return;
        }
        let schema = Value::Object(map.clone());
        let why = match nonconformance_lenient(&snapshot, &schema, default) {
            Ok(None) => return,
            Ok(Some(why)) => why,
            Err(bound) => {
                changes.push(format!("{at}/default"), unchecked(&bound));
                return;
            }
        };
        let typ = crate::nav::resolve(&snapshot, &schema)
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let spelled = default.as_str().and_then(|text| {
            let text = text.trim();
            match typ {
                "boolean" => text.parse::<bool>().ok().map(Value::Bool),
                "integer" => text.parse::<i64>().ok().map(Value::from),
                "number" => text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                _ => None,
            }
        });
        let pointer = format!("{at}/default");
        match spelled.filter(|v| nonconformance_lenient(&snapshot, &schema, v) == Ok(None)) {
            Some(value) => {
                changes.push(
                    pointer,
                    format!("default {default} is a string ({why}): the {typ} {value}"),
                );
                map.insert("default".into(), value);
            }
            None => {
                changes.push(
                    pointer,
                    format!("default {default} does not match its schema ({why}): dropped"),
                );
                map.remove("default");
            }
        }
    });
}
