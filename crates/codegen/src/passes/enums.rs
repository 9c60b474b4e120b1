//! Enums: long-hand enums (`oneOf` of constants), values that contradict their `type`, variants that would share a Rust name.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Changes, Pass, Stage};
use crate::conformance::{json_type, matches_type};

/// The `constant-one-of` pass ([`constant_one_of`]).
pub(crate) const CONSTANT_ONE_OF: Pass = Pass::new(
    "constant-one-of",
    Stage::Normalise,
    "A `oneOf` of single constants (an enum written long-hand, Discord's `NameplatePalette`) becomes an `enum`, the constants' titles in the description.",
    constant_one_of,
);

/// A `oneOf`/`anyOf` whose members are each one constant (`{title: CRIMSON, const: crimson}`,
/// or a one-value `enum`) is an enum written long-hand (Discord's `NameplatePalette`); typify
/// panics on it. It becomes `enum: [crimson, ...]`, each constant's title and description listed
/// in the schema's description.
pub(crate) fn constant_one_of(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        for key in ["oneOf", "anyOf"] {
            let Some(Value::Array(members)) = map.get(key) else {
                continue;
            };
            let constant = |m: &Value| -> Option<Value> {
                let o = m.as_object()?;
                let allowed = [
                    "title",
                    "description",
                    "const",
                    "enum",
                    "type",
                    "deprecated",
                ];
                if o.keys()
                    .any(|k| !allowed.contains(&k.as_str()) && !k.starts_with("x-"))
                {
                    return None;
                }
                match (o.get("const"), o.get("enum").and_then(Value::as_array)) {
                    (Some(c), None) => Some(c.clone()),
                    (None, Some(values)) if values.len() == 1 => Some(values[0].clone()),
                    _ => None,
                }
            };
            let Some(values) = members.iter().map(constant).collect::<Option<Vec<Value>>>() else {
                continue;
            };
            let types: BTreeSet<&str> = values.iter().map(json_type).collect();
            if values.is_empty() || types.len() != 1 {
                continue;
            }
            let ty = *types.iter().next().expect("one");
            let lines: Vec<String> = members
                .iter()
                .zip(&values)
                .filter_map(|(m, v)| {
                    let words: Vec<&str> = ["title", "description"]
                        .iter()
                        .filter_map(|k| m.get(*k).and_then(Value::as_str))
                        .collect();
                    (!words.is_empty()).then(|| {
                        format!(
                            "- `{}`: {}",
                            v.as_str().map_or(v.to_string(), str::to_string),
                            words.join(": ")
                        )
                    })
                })
                .collect();
            map.remove(key);
            map.insert("enum".into(), Value::Array(values));
            if !map.contains_key("type") {
                map.insert(
                    "type".into(),
                    json!(if ty == "integer" { "integer" } else { ty }),
                );
            }
            if !lines.is_empty() {
                let list = lines.join("\n");
                let description = match map.get("description").and_then(Value::as_str) {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{list}"),
                    _ => list,
                };
                map.insert("description".into(), Value::String(description));
            }
            changes.push(
                format!("{at}/{key}"),
                format!("`{key}` of single constants: an `enum`"),
            );
        }
    });
}

/// The `enum-value-types` pass ([`enum_value_types`]).
pub(crate) const ENUM_VALUE_TYPES: Pass = Pass::new(
    "enum-value-types",
    Stage::Normalise,
    "Enum values that contradict the `type`: the values decide when all agree, else the odd ones are dropped; a `null` among the values of an enum not of strings (typify refuses it) becomes `nullable`.",
    enum_value_types,
);

/// `enum` values that contradict the schema's `type`. When no value has the declared type and
/// all have one other type (`type: integer, enum: [draft, published]`), the values are what the
/// server sends: the type becomes theirs and the enum stays. Otherwise the values of the wrong
/// type are dropped (`type: boolean, enum: ['true', '=1']`), and an enum left empty is removed.
pub(crate) fn enum_value_types(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(ty) = map.get("type").and_then(Value::as_str).map(str::to_string) else {
            return;
        };
        let nullable = map.get("nullable") == Some(&Value::Bool(true));
        let Some(Value::Array(values)) = map.get_mut("enum") else {
            return;
        };
        let fits = |v: &Value| matches_type(v, &ty) || (nullable && v.is_null());
        if values.iter().all(fits) {
            return;
        }
        let others: BTreeSet<&'static str> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(json_type)
            .collect();
        let none_fit = !values.iter().any(|v| !v.is_null() && matches_type(v, &ty));
        if none_fit && others.len() == 1 {
            let theirs = *others.iter().next().expect("one");
            if values.iter().any(Value::is_null) && !nullable {
                map.insert("nullable".into(), Value::Bool(true));
            }
            map.insert("type".into(), Value::String(theirs.into()));
            map.remove("format");
            changes.push(format!("{at}/type"), format!(
                    "`type: {ty}` contradicts every enum value (all {theirs}s): the type is now {theirs}, the enum kept"
                ));
            return;
        }
        let before = values.len();
        values.retain(fits);
        let dropped = before - values.len();
        let emptied = values.is_empty();
        if emptied {
            map.remove("enum");
        }
        changes.push(
            format!("{at}/enum"),
            format!(
                "{dropped} value(s) not of type {ty} dropped{}",
                if emptied {
                    "; the enum was left empty and is removed"
                } else {
                    ""
                }
            ),
        );
    });
    // typify checks every value of an enum that is not of strings against its type, `null`
    // too ("value does not conform to the given schema", the schema dropped: Plaid's
    // `enum: [3, null]`): a null value is said by `nullable` instead
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(ty) = map.get("type").and_then(Value::as_str).map(str::to_string) else {
            return;
        };
        if ty == "string" {
            return;
        }
        let Some(Value::Array(values)) = map.get_mut("enum") else {
            return;
        };
        if !values.iter().any(Value::is_null) {
            return;
        }
        values.retain(|v| !v.is_null());
        if values.is_empty() {
            map.remove("enum");
        }
        map.insert("nullable".into(), Value::Bool(true));
        changes.push(
            format!("{at}/enum"),
            format!(
                "`null` among the values of a {ty} enum: removed, the schema `nullable` instead"
            ),
        );
    });
}

/// The `enum-variant-names` pass ([`enum_variant_names`]).
pub(crate) const ENUM_VARIANT_NAMES: Pass = Pass::new(
    "enum-variant-names",
    Stage::Fix,
    "String enums whose values give no unique Rust variant names (`=`, `!=`, `<`) stay strings, the values in the description.",
    enum_variant_names,
);

/// typify names a string enum's variants after its values; values made only of symbols
/// (`=`, `!=`, `<`, `<=`, ...) give names it cannot make unique, and it panics. Such an enum
/// stays a string (every value is still accepted and sent), its values listed in the description.
pub(crate) fn enum_variant_names(doc: &mut Value, changes: &mut Changes) {
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
pub(super) fn variant_names_unique(values: &[Value]) -> bool {
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
