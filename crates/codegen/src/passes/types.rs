//! Schema keywords typify misreads or refuses: string booleans, formats, patterns, `nullable` without a type.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Changes, Pass, Stage};
use crate::conformance::schema_type;
use crate::error::escape_token;

pub(super) const BOOLEAN_KEYS: &[&str] = &[
    "required",
    "nullable",
    "deprecated",
    "readOnly",
    "writeOnly",
    "uniqueItems",
    "explode",
    "allowEmptyValue",
    "allowReserved",
    "exclusiveMinimum",
    "exclusiveMaximum",
];

/// The `string-booleans` pass ([`string_booleans`]).
pub(crate) const STRING_BOOLEANS: Pass = Pass::new(
    "string-booleans",
    Stage::Normalise,
    "`\"required\": \"true\"` (a string where a boolean belongs) becomes a boolean.",
    string_booleans,
);

/// `"required": "true"` (a string where OpenAPI needs a boolean) becomes `"required": true`.
pub(crate) fn string_booleans(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        for key in BOOLEAN_KEYS {
            let Some(Value::String(s)) = map.get(*key) else {
                continue;
            };
            let b = match s.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => continue,
            };
            let old = s.clone();
            map.insert((*key).to_string(), Value::Bool(b));
            changes.push(
                format!("{at}/{key}"),
                format!("string {old:?} replaced by boolean {b}"),
            );
        }
    });
}

/// The JSON type a `format` implies, for schemas that give a `format` but no `type`.
pub(super) fn type_for_format(format: &str) -> Option<(&'static str, bool)> {
    // (type, keep the format)
    Some(match format {
        "object" => ("object", false),
        "array" => ("array", false),
        "string" => ("string", false),
        "integer" => ("integer", false),
        "number" => ("number", false),
        "boolean" => ("boolean", false),
        "int32" | "int64" => ("integer", true),
        "float" | "double" => ("number", true),
        "date" | "date-time" | "email" | "uri" | "uuid" | "byte" | "binary" | "password"
        | "hostname" | "ipv4" | "ipv6" => ("string", true),
        _ => return None,
    })
}

pub(super) const COMPOSITION_KEYS: &[&str] = &["$ref", "allOf", "anyOf", "oneOf", "not"];

/// The `format-without-type` pass ([`format_without_type`]).
pub(crate) const FORMAT_WITHOUT_TYPE: Pass = Pass::new(
    "format-without-type",
    Stage::Normalise,
    "A `format` without a `type` (typify panics on it) gets the type it implies.",
    format_without_type,
);

/// `{format: object}` with no `type` (typify panics on it) becomes `{type: object}`; a type name
/// used as a format is moved to `type`, a real format implies its type.
pub(crate) fn format_without_type(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if map.contains_key("type") || COMPOSITION_KEYS.iter().any(|k| map.contains_key(*k)) {
            return;
        }
        let Some(Value::String(format)) = map.get("format") else {
            return;
        };
        let format = format.clone();
        let Some((ty, keep)) = type_for_format(&format) else {
            return;
        };
        map.insert("type".into(), Value::String(ty.into()));
        if !keep {
            map.remove("format");
        }
        changes.push(
            at.to_string(),
            if keep {
                format!("`format: {format}` without `type`: added `type: {ty}`")
            } else {
                format!(
                    "`format: {format}` without `type` is a type name: replaced by `type: {ty}`"
                )
            },
        );
    });
}

/// Formats typify knows; any other `format` is dropped (the `type` stays).
pub(super) const KNOWN_FORMATS: &[&str] = &[
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float",
    "double",
    "date",
    "date-time",
    "time",
    "email",
    "uri",
    "uuid",
    "byte",
    "binary",
    "password",
    "hostname",
    "ipv4",
    "ipv6",
    "ip",
];

/// The `unknown-formats` pass ([`unknown_formats`]).
pub(crate) const UNKNOWN_FORMATS: Pass = Pass::new(
    "unknown-formats",
    Stage::Normalise,
    "A `format` typify does not know is dropped (the type stays).",
    unknown_formats,
);

/// An unknown `format` (`format: integer` on a string, `format: 'int'`) is dropped.
pub(crate) fn unknown_formats(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(Value::String(format)) = map.get("format") else {
            return;
        };
        if map.get("type").is_none() || KNOWN_FORMATS.contains(&format.as_str()) {
            return;
        }
        let format = format.clone();
        map.remove("format");
        changes.push(
            format!("{at}/format"),
            format!("unknown format {format:?} dropped"),
        );
    });
}

/// The `unsupported-patterns` pass ([`unsupported_patterns`]).
pub(crate) const UNSUPPORTED_PATTERNS: Pass = Pass::new(
    "unsupported-patterns",
    Stage::Normalise,
    "A `pattern` the generated code cannot compile (regress, ECMAScript dialect), or one that could take exponential time to match (`(a+)+`, a backreference, a repetition over 1,000), is dropped.",
    unsupported_patterns,
);

/// A `pattern` the generated code cannot check (typify compiles it with regress, an ECMAScript
/// dialect: Revolt's `(?i)^...` inline flags are not in it) is dropped, so that its schema
/// generates; the value is still sent and accepted, unchecked.
pub(crate) fn unsupported_patterns(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(Value::String(pattern)) = map.get("pattern") else {
            return;
        };
        let why = match regress::Regex::new(pattern) {
            Err(e) => format!("pattern is not an ECMAScript regular expression ({e}): dropped"),
            Ok(_) => match backtracking_risk(pattern) {
                Some(risk) => format!(
                    "pattern could take time exponential in what it matches ({risk}); the generated code would match it against every answer: dropped"
                ),
                None => return,
            },
        };
        map.remove("pattern");
        changes.push(format!("{at}/pattern"), why);
    });
}

/// The longest pattern kept: a longer one is dropped like a risky one.
pub(crate) const MAX_PATTERN: usize = 1_000;
/// The largest counted repetition kept (`a{1000}`): a larger one is dropped like a risky one.
pub(crate) const MAX_REPEAT: u64 = 1_000;

/// Why `pattern` (ECMAScript) could make a backtracking matcher (regress, which the generated
/// code uses) take exponential time or a lot of memory, if it could: a group repeated more than
/// once that itself repeats or alternates (`(a+)+`, `(a|ab)*`, `(\w+\s?)*`), a counted
/// repetition over [`MAX_REPEAT`], a backreference, or a pattern over [`MAX_PATTERN`]
/// characters. Conservative: some such patterns are harmless, and they lose only their check.
pub(crate) fn backtracking_risk(pattern: &str) -> Option<String> {
    if pattern.chars().count() > MAX_PATTERN {
        return Some(format!("longer than {MAX_PATTERN} characters"));
    }
    let chars: Vec<char> = pattern.chars().collect();
    // per open group: does it hold a quantifier or an alternation?
    let mut groups: Vec<bool> = Vec::new();
    let mut i = 0;
    // the group just closed, and whether it was ambiguous
    let mut closed: Option<bool> = None;
    while i < chars.len() {
        let c = chars[i];
        let after_group = closed.take();
        match c {
            '\\' => {
                if chars
                    .get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() && *d != '0')
                    || chars.get(i + 1) == Some(&'k')
                {
                    return Some("a backreference".into());
                }
                i += 2;
                continue;
            }
            '[' => {
                // a character class: to its closing `]` (escapes inside it skipped)
                i += 1;
                if chars.get(i) == Some(&']') {
                    i += 1;
                }
                while i < chars.len() && chars[i] != ']' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            '(' => {
                groups.push(false);
                // `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`: the group's kind, no quantifier
                if chars.get(i + 1) == Some(&'?') {
                    i += match (chars.get(i + 2), chars.get(i + 3)) {
                        (Some(':' | '=' | '!'), _) => 3,
                        (Some('<'), Some('=' | '!')) => 4,
                        (Some('<'), _) => chars[i..]
                            .iter()
                            .position(|&c| c == '>')
                            .map_or(3, |p| p + 1),
                        _ => 2,
                    };
                    continue;
                }
            }
            ')' => {
                let ambiguous = groups.pop().unwrap_or(false);
                // what it holds makes its parent ambiguous too
                if let Some(parent) = groups.last_mut() {
                    *parent |= ambiguous;
                }
                closed = Some(ambiguous);
            }
            '|' => {
                if let Some(g) = groups.last_mut() {
                    *g = true;
                }
            }
            '*' | '+' | '?' | '{' => {
                let (max, len) = if c == '{' {
                    match counted(&chars[i..]) {
                        Some((max, len)) => (max, len),
                        None => {
                            i += 1;
                            continue;
                        }
                    }
                } else {
                    (if c == '?' { Some(1) } else { None }, 1)
                };
                if let Some(max) = max
                    && max > MAX_REPEAT
                {
                    return Some(format!("a repetition of more than {MAX_REPEAT}"));
                }
                let repeats = max.is_none_or(|max| max > 1);
                if repeats && after_group == Some(true) {
                    return Some("a repeated group that itself repeats or alternates".into());
                }
                if let Some(g) = groups.last_mut() {
                    *g = true;
                }
                i += len;
                // a lazy or possessive marker belongs to the quantifier
                if chars.get(i) == Some(&'?') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A counted repetition at the start of `chars` (`{n}`, `{n,}`, `{n,m}`): its upper bound
/// (None: unbounded) and its length; None when it is not one (a literal `{`).
pub(super) fn counted(chars: &[char]) -> Option<(Option<u64>, usize)> {
    let end = chars.iter().position(|&c| c == '}')?;
    let inner: String = chars[1..end].iter().collect();
    let (lo, hi) = match inner.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (inner.as_str(), None),
    };
    // a bound written with more digits than a u64 holds is over the limit too
    let number = |t: &str| {
        (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit()))
            .then(|| t.parse::<u64>().unwrap_or(u64::MAX))
    };
    let lo = number(lo)?;
    let max = match hi {
        None => Some(lo),
        Some("") => None,
        Some(hi) => Some(number(hi)?.max(lo)),
    };
    Some((max.or((lo > MAX_REPEAT).then_some(lo)), end + 1))
}

/// The `nullable-without-type` pass ([`nullable_without_type`]).
pub(crate) const NULLABLE_WITHOUT_TYPE: Pass = Pass::new(
    "nullable-without-type",
    Stage::Normalise,
    "`nullable` without a `type`: removed when alone, given the members' type beside a composition.",
    nullable_without_type,
);

/// `nullable: true` only means something beside a `type` (OpenAPI 3.0.3; linters reject it
/// alone). With no type and nothing else it adds nothing (any JSON value includes null) and is
/// removed (Libredesk's `ErrorEnvelope.data`); beside a composition whose members all have one
/// type it gets that type (Engage Digital's `custom_status: {nullable, allOf: [$ref]}`).
pub(crate) fn nullable_without_type(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if map.get("nullable") != Some(&Value::Bool(true)) || map.contains_key("type") {
            return;
        }
        let members: Vec<&Value> = ["allOf", "oneOf", "anyOf"]
            .iter()
            .filter_map(|k| map.get(*k).and_then(Value::as_array))
            .flatten()
            .collect();
        if members.is_empty() && !map.contains_key("$ref") && !map.contains_key("not") {
            map.remove("nullable");
            changes.push(
                format!("{at}/nullable"),
                "`nullable` without a `type` (any JSON value, null included): removed",
            );
            return;
        }
        let types: BTreeSet<Option<&str>> = members
            .iter()
            .map(|m| schema_type(crate::nav::resolve(&snapshot, m)))
            .collect();
        if let [Some(ty)] = types.iter().collect::<Vec<_>>().as_slice() {
            let ty = ty.to_string();
            map.insert("type".into(), Value::String(ty.clone()));
            changes.push(format!("{at}/nullable"), format!("`nullable` without a `type` beside members that are all {ty}s: `type: {ty}` added"));
        }
    });
}

/// The `overlapping-any-of` pass ([`overlapping_any_of`]).
pub(crate) const OVERLAPPING_ANY_OF: Pass = Pass::new(
    "overlapping-any-of",
    Stage::Fix,
    "An `anyOf` of which two members take values of one kind that is not an object (a string and a string enum: OpenAI's `model`) becomes a `oneOf`: typify makes such an `anyOf` a struct of flattened members, which no string or number decodes into and which refuses a `default` (\"value does not conform to the given schema\", the schema dropped).",
    overlapping_any_of,
);

/// The kind of JSON value a member of a composition takes: its type (`integer` counted as a
/// `number`), or its enum values' when it has no type; `None` when it says neither.
fn value_kind(schema: &Value) -> Option<&'static str> {
    let kind = |t: &str| match t {
        "string" => Some("string"),
        "integer" | "number" => Some("number"),
        "boolean" => Some("boolean"),
        "array" => Some("array"),
        "object" => Some("object"),
        _ => None,
    };
    if let Some(t) = schema_type(schema) {
        return kind(t);
    }
    let values = schema.get("enum").and_then(Value::as_array)?;
    let kinds: BTreeSet<Option<&str>> = values
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(_) => Some("string"),
            Value::Number(_) => Some("number"),
            Value::Bool(_) => Some("boolean"),
            _ => None,
        })
        .collect();
    match kinds.into_iter().collect::<Vec<_>>().as_slice() {
        [k] => *k,
        _ => None,
    }
}

/// typify (0.8, `convert_any_of`) generates an `anyOf` whose members are not mutually exclusive
/// as a struct with one flattened optional field per member. For members that are objects that
/// is a fair reading; for two strings (`anyOf: [{type: string}, {type: string, enum: [...]}]`,
/// "any model name, or one of these") it is a struct no string decodes into, and a `default`
/// (which typify checks against the struct) drops the whole schema with "value does not conform
/// to the given schema", and with it everything that reaches it. As a `oneOf` it is an untagged
/// enum: a value decodes as the first member that takes it, and the default is kept.
pub(crate) fn overlapping_any_of(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if map.contains_key("oneOf") {
            return;
        }
        let Some(Value::Array(members)) = map.get("anyOf") else {
            return;
        };
        let mut seen = BTreeSet::new();
        let overlapping = members
            .iter()
            .filter_map(|m| value_kind(crate::nav::resolve(&snapshot, m)))
            .filter(|k| *k != "object")
            .find(|k| !seen.insert(*k));
        if let Some(kind) = overlapping {
            let members = map.remove("anyOf").expect("matched above");
            map.insert("oneOf".into(), members);
            changes.push(
                format!("{at}/anyOf"),
                format!(
                    "an `anyOf` with more than one {kind} member (typify would make it a struct no {kind} decodes into): read as a `oneOf`"
                ),
            );
        }
    });
}

/// The `one-of-beside-any-of` pass ([`one_of_beside_any_of`]).
pub(crate) const ONE_OF_BESIDE_ANY_OF: Pass = Pass::new(
    "one-of-beside-any-of",
    Stage::Normalise,
    "A schema with both `oneOf` and `anyOf` (typify panics on the pair) keeps its `oneOf`: every value it accepts is one of those alternatives; the `anyOf` only narrowed it further.",
    one_of_beside_any_of,
);

/// A schema with both `oneOf` and `anyOf` (Jira Software's deployment `associations` items)
/// makes typify panic (typify-impl 0.8 `src/merge.rs`: `assert!(any_of.is_none() ||
/// one_of.is_none())`), which costs every operation reaching it. A value valid against the
/// schema is valid against each of the two, so either alone decodes every valid value; the
/// `oneOf` is kept (typify's enum of alternatives) and the `anyOf` dropped.
pub(crate) fn one_of_beside_any_of(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if map.get("oneOf").is_some_and(Value::is_array)
            && map.get("anyOf").is_some_and(Value::is_array)
        {
            map.remove("anyOf");
            changes.push(
                format!("{at}/anyOf"),
                "`anyOf` beside a `oneOf` (typify panics on the pair): dropped, the `oneOf` kept (every valid value is one of its alternatives)",
            );
        }
    });
}

/// The `nullable-components` pass ([`nullable_components`]).
pub(crate) const NULLABLE_COMPONENTS: Pass = Pass::new(
    "nullable-components",
    Stage::Fix,
    "A nullable object, enum or composition component (typify's `X(Option<X>)` beside `X`): its references are nullable instead.",
    nullable_components,
);

/// A nullable component schema that is an object, an enum, a composition or carries a title
/// (Front's nullable `oneOf` `AnalyticsScalarValue`, an agent schema titled with its own name)
/// becomes `struct X(Option<X>)` beside a second `X` in typify (E0428, E0072). The component
/// loses `nullable` (and a `title` equal to its name), and every reference to it that is not a
/// member of a composition says `nullable: true, allOf: [$ref]`: the field is `Option<X>`.
pub(crate) fn nullable_components(doc: &mut Value, changes: &mut Changes) {
    let mut fixed: Vec<(String, Option<String>)> = Vec::new();
    for (name, schema) in doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        let Some(map) = schema.as_object_mut() else {
            continue;
        };
        if map.get("nullable") != Some(&Value::Bool(true)) {
            continue;
        }
        if super::parameters::nullable_scalar(map) {
            continue;
        }
        map.remove("nullable");
        if map.get("title").and_then(Value::as_str) == Some(name.as_str()) {
            map.remove("title");
        }
        // a `null` among an enum's values (Plaid's `enum: [outbound, inbound, null]`; OpenAPI
        // 3.1's `type: [string, "null"]` with `enum: [null, AD, ...]`, Lago's `CountryOrNull`) is the
        // nullable the references now carry: left in, typify makes `X(Option<X>)` beside `X`
        // all the same (E0428)
        let mut null_value = false;
        if let Some(Value::Array(values)) = map.get_mut("enum")
            && values.iter().any(Value::is_null)
            && values.iter().any(|v| !v.is_null())
        {
            values.retain(|v| !v.is_null());
            null_value = true;
        }
        // the type beside `nullable` (OpenAPI 3.0.3): the component's own, when it has one
        let ty = map.get("type").and_then(Value::as_str).map(str::to_string);
        fixed.push((format!("#/components/schemas/{}", escape_token(name)), ty));
        changes.push(
            format!("/components/schemas/{}/nullable", escape_token(name)),
            format!(
                "a nullable component would be generated as `X(Option<X>)` beside `X`: the references to it are nullable instead{}",
                if null_value { " (and `null` leaves its enum values)" } else { "" }
            ),
        );
    }
    if fixed.is_empty() {
        return;
    }
    // a path or header parameter's schema is never nullable (`nullable-parameters`): its
    // reference stays one
    let mut never_null: std::collections::BTreeSet<String> = Default::default();
    super::parameters::for_each_parameter(doc, &mut |map, at| {
        if matches!(
            map.get("in").and_then(Value::as_str),
            Some("path" | "header")
        ) {
            never_null.insert(format!("{at}/schema"));
        }
    });
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if never_null.contains(at) {
            return;
        }
        // a member of a composition keeps its reference (`allOf: [$ref]` is what is written)
        let mut tokens = at.rsplit('/');
        let index = tokens.next().is_some_and(|t| t.parse::<usize>().is_ok());
        let in_composition = index && matches!(tokens.next(), Some("allOf" | "oneOf" | "anyOf"));
        let target = map.get("$ref").and_then(Value::as_str).map(str::to_string);
        if let Some(r) = target
            && !in_composition
            && let Some((_, ty)) = fixed.iter().find(|(f, _)| *f == r)
        {
            map.remove("$ref");
            if let Some(ty) = ty {
                map.insert("type".into(), json!(ty));
            }
            map.insert("nullable".into(), Value::Bool(true));
            map.insert("allOf".into(), json!([{"$ref": r}]));
        }
    });
}

/// The `boolean-required` pass ([`boolean_required`]).
pub(crate) const BOOLEAN_REQUIRED: Pass = Pass::new(
    "boolean-required",
    Stage::Normalise,
    "`required: true` inside a property or a parameter's schema (Swagger 2.0's form, invalid in 3.0; Zendesk Sunshine) moves to where 3.0 reads it: the object's `required` list, the parameter's `required`.",
    boolean_required,
);

/// In OpenAPI 3.0 a schema's `required` is a list of property names; Swagger 2.0 and some
/// hand-written 3.0 documents (Zendesk Sunshine) put `required: true` on the property itself.
/// progenitor's reader refuses the schema, and with it whatever holds it: a parameter shared by
/// many operations is lost. The flag moves to where 3.0 reads it: a property's to its object's
/// `required` list, a parameter's schema's to the parameter (unless the parameter says
/// otherwise); `required: false`, and a flag with nowhere to go, are removed. Each change is
/// reported.
pub(crate) fn boolean_required(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        // a parameter (or a header object): its schema's flag is the parameter's
        if (map.contains_key("in") || at.contains("/headers/"))
            && let Some(Value::Object(schema)) = map.get_mut("schema")
            && let Some(Value::Bool(b)) = schema.get("required").cloned()
        {
            schema.remove("required");
            let here = format!("{at}/schema/required");
            if b && !map.contains_key("required") {
                map.insert("required".into(), Value::Bool(true));
                changes.push(
                    here,
                    "`required: true` in a parameter's schema (invalid in OpenAPI 3.0): the parameter is required",
                );
            } else {
                changes.push(
                    here,
                    format!("`required: {b}` in a parameter's schema (invalid in OpenAPI 3.0): removed, the parameter's own `required` stands"),
                );
            }
        }
        // any other flag in a schema has nowhere to go (a parameter's, a request body's and a
        // header's own `required` is a boolean, and they are not in a schema's place)
        let component = at.starts_with("/components/schemas/") && at.matches('/').count() == 3;
        if (component || super::refs::is_schema_position(at))
            && let Some(Value::Bool(b)) = map.get("required").cloned()
        {
            map.remove("required");
            changes.push(
                format!("{at}/required"),
                format!("`required: {b}` in a schema that is not a property (invalid in OpenAPI 3.0): removed"),
            );
        }
        // an object's properties: their flags join its list
        let mut names: Vec<String> = Vec::new();
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            for (name, prop) in props.iter_mut() {
                let Some(prop) = prop.as_object_mut() else {
                    continue;
                };
                let Some(Value::Bool(b)) = prop.get("required").cloned() else {
                    continue;
                };
                prop.remove("required");
                let here = format!("{at}/properties/{}/required", escape_token(name));
                if b {
                    names.push(name.clone());
                    changes.push(here, format!(
                        "`required: true` on property `{name}` (invalid in OpenAPI 3.0): `{name}` joins the object's `required` list"
                    ));
                } else {
                    changes.push(
                        here,
                        format!("`required: false` on property `{name}` (invalid in OpenAPI 3.0; a property is optional unless listed): removed"),
                    );
                }
            }
        }
        if !names.is_empty() {
            let list = map
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                for n in names {
                    if !list.iter().any(|v| v.as_str() == Some(n.as_str())) {
                        list.push(Value::String(n));
                    }
                }
            }
        }
    });
}
