//! Mechanical fixes any vendor spec may need before progenitor sees it. Each pass is small, named,
//! and reports every change it makes (pointer, what and why), so nothing is silently edited.
//! Vendor-specific corrections do not belong here: they are overlay actions with their evidence.

use std::cell::Cell;
use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::error::escape_token;
use crate::sources::METHODS;

/// One change made by a normalisation pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The pass that made it, e.g. `string-booleans`.
    pub pass: &'static str,
    /// Where, as a JSON pointer into the document.
    pub pointer: String,
    /// What was changed and why.
    pub message: String,
}

/// The changes of a run of passes, each stamped with the name of the pass that made it: a pass
/// says where and what ([`Changes::push`]), never who.
#[derive(Debug, Default)]
pub struct Changes {
    pass: &'static str,
    list: Vec<Change>,
}

impl Changes {
    /// The changes of one pass, `pass` (for running a pass on its own, as tests do).
    pub fn of(pass: &'static str) -> Self {
        Changes {
            pass,
            list: Vec::new(),
        }
    }

    /// Record a change at `pointer` (a JSON pointer into the document): what, and why.
    pub fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.list.push(Change {
            pass: self.pass,
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// The changes, in the order they were made.
    pub fn into_vec(self) -> Vec<Change> {
        self.list
    }
}

impl std::ops::Deref for Changes {
    type Target = [Change];
    fn deref(&self) -> &[Change] {
        &self.list
    }
}

/// A pass over the document: normalisation ([`PASSES`]), a fix for the generator
/// ([`crate::fixes::PASSES`]) or the opening of response enums. [`crate::pipeline`] lists them all,
/// in order, for the build script, xtask, the tests and ARCHITECTURE.md.
pub struct Pass {
    /// Its name, as reported in [`Change::pass`].
    pub name: &'static str,
    /// What it does, in one sentence (ARCHITECTURE.md's list of passes).
    pub docs: &'static str,
    /// The pass: changes the document, records each change ([`Changes`] stamps its name).
    pub run: fn(&mut Value, &mut Changes),
}

/// All passes, in the order they run.
pub const PASSES: &[Pass] = &[
    Pass {
        name: "openapi-3-1",
        docs: "An OpenAPI 3.1 document is written in its 3.0 form (type lists, const, numeric exclusive bounds, null members, tuples; webhooks removed); a 3.0 document's JSON Schema keywords (`type: null`, tuple `items`) too.",
        run: openapi_3_1,
    },
    Pass {
        name: "constant-one-of",
        docs: "A `oneOf` of single constants (an enum written long-hand, Discord's `NameplatePalette`) becomes an `enum`, the constants' titles in the description.",
        run: constant_one_of,
    },
    Pass {
        name: "deep-refs",
        docs: "A `$ref` into the inside of a component (`#/components/schemas/Tag/allOf/0`, a response's schema), which typify cannot resolve, is replaced by what it points at.",
        run: deep_refs,
    },
    Pass {
        name: "enum-beside-ref",
        docs: "An `enum` beside `allOf: [$ref]` (a subset of a referenced enum, Discord's option types) keeps the enum alone: typify panics on the pair.",
        run: enum_beside_ref,
    },
    Pass {
        name: "all-of-documentation",
        docs: "`allOf` members that only document (`allOf: [$ref, {description}]`, Box) are folded into the schema beside them, so the `$ref` stands alone and keeps its type.",
        run: all_of_documentation,
    },
    Pass {
        name: "all-of-narrowed-enums",
        docs: "An `allOf` member that narrows an enum property its `$ref` base declares (WhatsApp's `BodyComponent.type: [body]`) leaves the base's enum alone: typify emits the merged enum twice (E0428).",
        run: all_of_narrowed_enums,
    },
    Pass {
        name: "media-type-keys",
        docs: "A media-type key with stray characters (`'multipart/form-data:'`) is trimmed and lower-cased.",
        run: media_type_keys,
    },
    Pass {
        name: "string-booleans",
        docs: "`\"required\": \"true\"` (a string where a boolean belongs) becomes a boolean.",
        run: string_booleans,
    },
    Pass {
        name: "format-without-type",
        docs: "A `format` without a `type` (typify panics on it) gets the type it implies.",
        run: format_without_type,
    },
    Pass {
        name: "unknown-formats",
        docs: "A `format` typify does not know is dropped (the type stays).",
        run: unknown_formats,
    },
    Pass {
        name: "unsupported-patterns",
        docs: "A `pattern` the generated code cannot compile (regress, ECMAScript dialect), or one that could take exponential time to match (`(a+)+`, a backreference, a repetition over 1,000), is dropped.",
        run: unsupported_patterns,
    },
    Pass {
        name: "enum-value-types",
        docs: "Enum values that contradict the `type`: the values decide when all agree, else the odd ones are dropped.",
        run: enum_value_types,
    },
    Pass {
        name: "contradicting-examples",
        docs: "Schema, media-type and parameter examples that do not match their schema are dropped.",
        run: contradicting_examples,
    },
    Pass {
        name: "contradicting-defaults",
        docs: "A `default` that does not match its schema (typify refuses the whole type): a string that spells the value (`\"false\"` for a boolean) becomes it, anything else is dropped.",
        run: contradicting_defaults,
    },
    Pass {
        name: "nullable-without-type",
        docs: "`nullable` without a `type`: removed when alone, given the members' type beside a composition.",
        run: nullable_without_type,
    },
    Pass {
        name: "identical-paths",
        docs: "Paths that differ only in parameter names become one path item.",
        run: identical_paths,
    },
    Pass {
        name: "path-parameters-declared",
        docs: "Path parameters follow the template: undeclared ones declared, `in: query` ones moved, extra ones removed.",
        run: path_parameters_declared,
    },
    Pass {
        name: "path-parameters-required",
        docs: "Path parameters are `required: true` (progenitor panics otherwise).",
        run: path_parameters_required,
    },
    Pass {
        name: "nullable-parameters",
        docs: "A path or header parameter's schema loses `nullable` (a URL segment or header is never null; progenitor cannot write an `Option` there).",
        run: nullable_parameters,
    },
    Pass {
        name: "array-path-parameters",
        docs: "A path parameter that is an array (several ids in one segment) becomes a string of comma-separated values (its `style: simple` form): progenitor cannot write a `Vec` into the URL.",
        run: array_path_parameters,
    },
    Pass {
        name: "operation-ids",
        docs: "operationIds become unique Rust identifiers (derived from method and path when missing).",
        run: operation_ids,
    },
];

/// Passes over the vendor's document as it was read, run once before everything else (what the
/// overlay adds afterwards is this project's own, and trusted).
pub const INPUT_PASSES: &[Pass] = &[
    Pass {
        name: "generator-extensions",
        docs: "Extensions that make progenitor or typify choose generated code (`x-rust-type`, `x-dropshot-*`) and this workspace's own `x-agentstatus-*` markers are removed from the vendor's document, wherever they are: only the passes choose Rust types.",
        run: generator_extensions,
    },
    Pass {
        name: "inheritance-cycles",
        docs: "Polymorphism written as a cycle (a `oneOf`/`anyOf` whose alternatives are `allOf: [the choice itself, ...]`) is read as inheritance: the alternatives extend the choice's own part (`<Name>Base`, the schema without its alternatives), or nothing when that part is empty.",
        run: crate::inheritance::inheritance_cycles,
    },
];

/// Is `key` an extension that changes what progenitor or typify generate (typify-impl 0.8
/// `rust_extension.rs`; progenitor-impl 0.15 `method.rs`), or one of this workspace's own
/// markers, which only the overlay and the passes may write.
pub fn is_generator_extension(key: &str) -> bool {
    key == "x-rust-type" || key.starts_with("x-dropshot-") || key.starts_with("x-agentstatus-")
}

/// Remove every [`is_generator_extension`] key from every object of `doc` (nothing is skipped:
/// a component named `example` is as much a schema as any other). `x-agentstatus-roundtrip` at
/// the root stays: `cargo xtask try` reads it from the document, the generator never does.
pub fn generator_extensions(doc: &mut Value, changes: &mut Changes) {
    let mut stack: Vec<(String, &mut Value)> = vec![(String::new(), doc)];
    while let Some((at, v)) = stack.pop() {
        match v {
            Value::Object(map) => {
                let found: Vec<String> = map
                    .keys()
                    .filter(|k| is_generator_extension(k))
                    .filter(|k| !(at.is_empty() && k.as_str() == "x-agentstatus-roundtrip"))
                    .cloned()
                    .collect();
                for key in found {
                    map.shift_remove(&key);
                    changes.push(
                        format!("{at}/{}", escape_token(&key)),
                        format!(
                            "`{key}` removed: a vendor document does not choose generated code"
                        ),
                    );
                }
                for (k, child) in map.iter_mut() {
                    stack.push((format!("{at}/{}", escape_token(k)), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
    }
}

/// Run every pass over `doc`, returning the changes made.
pub fn normalise(doc: &mut Value) -> Vec<Change> {
    run_passes(PASSES, doc)
}

/// Run `passes` in order over `doc`, returning the changes made.
pub fn run_passes(passes: &[Pass], doc: &mut Value) -> Vec<Change> {
    let mut changes = Changes::default();
    for pass in passes {
        changes.pass = pass.name;
        (pass.run)(doc, &mut changes);
    }
    changes.into_vec()
}

/// progenitor 0.15 reads OpenAPI 3.0 only. A 3.1 document is written in its 3.0 form: version
/// 3.0.3; `type: [T, "null"]` is `type: T, nullable: true` (several types: `anyOf`); a `null`
/// member of `anyOf`/`oneOf` is `nullable`; `const` is a one-value `enum`; a schema's
/// `examples` list gives its `example`; numeric `exclusiveMinimum`/`exclusiveMaximum` are the
/// 3.0 booleans; `contentEncoding: base64` is `format: byte`, binary content `format: binary`;
/// a tuple (`prefixItems`, or `items` as a list) is an array of its members (`anyOf`);
/// `webhooks`, `jsonSchemaDialect` and `components.pathItems` (no 3.0 form) are removed. A 3.0
/// document with these schema keywords (none of which 3.0 allows) gets the same schema rewrite.
pub fn openapi_3_1(doc: &mut Value, changes: &mut Changes) {
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
fn json_schema_keywords(doc: &mut Value, changes: &mut Changes, what: &str) {
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

/// A `oneOf`/`anyOf` whose members are each one constant (`{title: CRIMSON, const: crimson}`,
/// or a one-value `enum`) is an enum written long-hand (Discord's `NameplatePalette`); typify
/// panics on it. It becomes `enum: [crimson, ...]`, each constant's title and description listed
/// in the schema's description.
pub fn constant_one_of(doc: &mut Value, changes: &mut Changes) {
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

/// How many `$ref`s [`deep_refs`] replaces at most (a reference cycle through the inside of
/// components would otherwise never end).
pub const MAX_DEEP_REFS: usize = 10_000;

/// typify resolves `$ref`s to component schemas only. A `$ref` to the inside of a component
/// (PagerDuty's `#/components/schemas/Tag/allOf/0`, `#/components/responses/Conflict/content/
/// application~1json/schema`) is replaced by a copy of what it points at (its own
/// `description` kept).
/// The copies are bounded: at most [`MAX_DEEP_REFS`] of them, and no more values copied in all
/// than the document holds (a few references to a large part must not multiply the document);
/// a schema left over is read as any JSON value, said in its description.
pub fn deep_refs(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    let mut replaced = 0;
    let mut budget = crate::nav::node_count(&snapshot);
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(reference) = map.get("$ref").and_then(Value::as_str).map(str::to_string) else {
            return;
        };
        let Some(pointer) = crate::nav::ref_pointer(&reference) else {
            return;
        };
        // `/components/<section>/<name>`: a component, which typify knows
        if pointer.split('/').count() <= 4 {
            return;
        }
        let Some(found @ Value::Object(target)) = snapshot.pointer(&pointer) else {
            return;
        };
        let size = crate::nav::node_count(found);
        if size > budget || replaced >= MAX_DEEP_REFS {
            // no copy: a schema is read as any JSON value, said in its description (anything
            // else is left to the generator to refuse, by name)
            if is_schema_position(at) {
                map.clear();
                map.insert(
                    "description".into(),
                    Value::String(format!(
                        "Any JSON value: `{reference}` points inside a component, and the document's copies of such parts are spent."
                    )),
                );
                changes.push(format!("{at}/$ref"), format!(
                        "`$ref: {reference}` points inside a component; not copied (the copies would outgrow the document): read as any JSON value"
                    ));
            }
            return;
        }
        budget -= size;
        let description = map.get("description").cloned();
        *map = target.clone();
        if let Some(d) = description {
            map.insert("description".into(), d);
        }
        replaced += 1;
        changes.push(
            format!("{at}/$ref"),
            format!("`$ref: {reference}` points inside a component: replaced by a copy of it"),
        );
    });
}

/// Is the object at pointer `at` a schema by its place: a `schema`, `items`, `not` or
/// `additionalProperties`, a property, or a member of a composition.
fn is_schema_position(at: &str) -> bool {
    let mut tokens = at.rsplit('/');
    let last = tokens.next().unwrap_or_default();
    let parent = tokens.next().unwrap_or_default();
    matches!(last, "schema" | "items" | "not" | "additionalProperties")
        || matches!(parent, "properties" | "allOf" | "oneOf" | "anyOf")
}

/// `{type: integer, enum: [5], allOf: [{$ref: OptionType}]}` (Discord) narrows a referenced enum
/// to some of its values; typify panics ("entered unreachable code") on an enum beside `allOf`.
/// The enum stays alone (with the referenced schema's type when it has none of its own).
pub fn enum_beside_ref(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if !map.contains_key("enum") {
            return;
        }
        let Some(Value::Array(all)) = map.get("allOf") else {
            return;
        };
        if all.len() != 1 || all[0].get("$ref").is_none() {
            return;
        }
        let target_type = schema_type(crate::nav::resolve(&snapshot, &all[0])).map(str::to_string);
        map.remove("allOf");
        if !map.contains_key("type")
            && let Some(t) = target_type
        {
            map.insert("type".into(), Value::String(t));
        }
        changes.push(
            format!("{at}/allOf"),
            "an `enum` beside `allOf: [$ref]` narrows the referenced type: the enum stays alone",
        );
    });
}

/// Keys of a schema that only document it (extensions, `x-`, too).
pub(crate) const DOCUMENTATION_KEYS: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
];

/// `allOf: [{$ref: CollaborationItem}, {description: ...}]` (Box: a reference given its own
/// description) is one type, but typify merges the members into a new type, named from the
/// referenced schema's title, so it clashes with that schema (E0428) or duplicates it. Members
/// that only document are folded into the schema that holds the `allOf` (their description
/// when it has none; `nullable` kept), so a lone `$ref` is left and typify uses its type.
pub fn all_of_documentation(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(Value::Array(members)) = map.get("allOf") else {
            return;
        };
        let documenting = |m: &Value| {
            m.as_object().is_some_and(|o| {
                !o.is_empty()
                    && o.keys().all(|k| {
                        DOCUMENTATION_KEYS.contains(&k.as_str())
                            || k == "nullable"
                            || k.starts_with("x-")
                    })
            })
        };
        let folded: Vec<Value> = members.iter().filter(|m| documenting(m)).cloned().collect();
        let kept: Vec<Value> = members
            .iter()
            .filter(|m| !documenting(m))
            .cloned()
            .collect();
        if folded.is_empty() || kept.is_empty() {
            return;
        }
        map.insert("allOf".into(), Value::Array(kept));
        for member in folded {
            for (k, v) in member.as_object().into_iter().flatten() {
                if k == "nullable" {
                    if v == &Value::Bool(true) {
                        map.insert(k.clone(), v.clone());
                    }
                } else if !map.contains_key(k) {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        changes.push(
            format!("{at}/allOf"),
            "`allOf` members that only document are folded into the schema beside them",
        );
    });
}

/// `allOf: [{$ref: TemplateComponent}, {properties: {type: {enum: [body]}}}]` (WhatsApp's
/// discriminated components): the inline member narrows an enum property that the referenced
/// base declares with an enum of its own. typify merges the two into one new enum and emits it
/// twice (E0428, E0119). The narrowing property is taken out of the member, so the base's enum
/// types the field (every narrowed value is one of its values); the narrowed values are kept in
/// the member's description. A narrowing to values outside the base's enum is left as it is.
pub fn all_of_narrowed_enums(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(Value::Array(all)) = map.get_mut("allOf") else {
            return;
        };
        // the enum properties the `$ref` members declare
        let mut inherited: Map<String, Value> = Map::new();
        for member in all.iter().filter(|m| m.get("$ref").is_some()) {
            let base = crate::nav::resolve(&snapshot, member);
            for (name, prop) in base
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(Value::Array(values)) = crate::nav::resolve(&snapshot, prop).get("enum")
                {
                    inherited.insert(name.clone(), Value::Array(values.clone()));
                }
            }
        }
        if inherited.is_empty() {
            return;
        }
        for (i, member) in all.iter_mut().enumerate() {
            if member.get("$ref").is_some() {
                continue;
            }
            let Some(Value::Object(props)) = member.get_mut("properties") else {
                continue;
            };
            let narrowing: Vec<(String, Vec<Value>)> = props
                .iter()
                .filter(|(_, p)| p.get("$ref").is_none())
                .filter_map(|(name, p)| {
                    let values = p.get("enum")?.as_array()?;
                    let base = inherited.get(name)?.as_array()?;
                    values
                        .iter()
                        .all(|v| base.contains(v))
                        .then(|| (name.clone(), values.clone()))
                })
                .collect();
            for (name, values) in &narrowing {
                props.remove(name);
                let listed: Vec<String> = values.iter().map(Value::to_string).collect();
                changes.push(format!("{at}/allOf/{i}/properties/{}", escape_token(name)), format!(
                        "`{name}` narrows the enum its base declares to {}: the base's enum types it",
                        listed.join(", ")
                    ));
            }
            if !narrowing.is_empty()
                && let Some(m) = member.as_object_mut()
            {
                let note = narrowing
                    .iter()
                    .map(|(name, values)| {
                        let listed: Vec<String> = values.iter().map(Value::to_string).collect();
                        format!("`{name}` is always {}.", listed.join(" or "))
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let description = match m.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d}\n\n{note}"),
                    None => note,
                };
                m.insert("description".into(), Value::String(description));
                if m.get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
                {
                    m.remove("properties");
                }
            }
        }
    });
}

const BOOLEAN_KEYS: &[&str] = &[
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

/// `"required": "true"` (a string where OpenAPI needs a boolean) becomes `"required": true`.
pub fn string_booleans(doc: &mut Value, changes: &mut Changes) {
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
fn type_for_format(format: &str) -> Option<(&'static str, bool)> {
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

const COMPOSITION_KEYS: &[&str] = &["$ref", "allOf", "anyOf", "oneOf", "not"];

/// `{format: object}` with no `type` (typify panics on it) becomes `{type: object}`; a type name
/// used as a format is moved to `type`, a real format implies its type.
pub fn format_without_type(doc: &mut Value, changes: &mut Changes) {
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

/// A path parameter must be `required: true` (OpenAPI 3.0 §4.7.12.1); progenitor panics otherwise.
pub fn path_parameters_required(doc: &mut Value, changes: &mut Changes) {
    for_each_parameter(doc, &mut |map, at| {
        if map.get("in").and_then(Value::as_str) == Some("path")
            && map.get("required") != Some(&Value::Bool(true))
        {
            map.insert("required".into(), Value::Bool(true));
            changes.push(
                at.to_string(),
                "path parameter was not `required: true`; path parameters always are",
            );
        }
    });
}

/// A path or header parameter whose schema is `nullable` (Klaviyo's form ids, Box's
/// `x-rep-hints`) becomes `Option<String>` where progenitor writes the value into the URL or a
/// header, which does not compile. A path segment or a header cannot be `null` (an optional
/// header is left out instead): the schema loses `nullable`.
pub fn nullable_parameters(doc: &mut Value, changes: &mut Changes) {
    for_each_parameter(doc, &mut |map, at| {
        let place = map
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !matches!(place.as_str(), "path" | "header") {
            return;
        }
        if let Some(Value::Object(schema)) = map.get_mut("schema")
            && schema.remove("nullable").is_some()
        {
            changes.push(
                format!("{at}/schema/nullable"),
                format!("a {place} parameter cannot be null: `nullable` removed"),
            );
        }
    });
}

/// A path parameter whose schema is an array (RingCentral's `{messageId}`: several ids, comma
/// separated) becomes `Vec<T>` where progenitor writes the value into the URL, which does not
/// compile. Its default serialisation (`style: simple`) is the items joined by commas: the
/// parameter becomes a string the caller writes that way, as the description now says.
pub fn array_path_parameters(doc: &mut Value, changes: &mut Changes) {
    for_each_parameter(doc, &mut |map, at| {
        if map.get("in").and_then(Value::as_str) != Some("path") {
            return;
        }
        let Some(Value::Object(schema)) = map.get_mut("schema") else {
            return;
        };
        if schema.get("type").and_then(Value::as_str) != Some("array") {
            return;
        }
        let item = schema
            .get("items")
            .and_then(|i| i.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("value")
            .to_string();
        let mut string = Map::new();
        string.insert("type".into(), json!("string"));
        if let Some(d) = schema.get("description") {
            string.insert("description".into(), d.clone());
        }
        *schema = string;
        let note = format!("One or more {item} values, separated by commas.");
        let description = match map.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d}\n\n{note}"),
            None => note,
        };
        map.insert("description".into(), Value::String(description));
        changes.push(format!("{at}/schema"), format!(
                "an array path parameter is written as its {item} items joined by commas: now a string"
            ));
    });
}

/// Call `f` on every parameter object of `doc` (the shared `components.parameters`, path items'
/// and operations'), with its pointer.
fn for_each_parameter(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    if let Some(params) = doc
        .pointer_mut("/components/parameters")
        .and_then(Value::as_object_mut)
    {
        for (name, p) in params.iter_mut() {
            if let Some(map) = p.as_object_mut() {
                f(
                    map,
                    &format!("/components/parameters/{}", escape_token(name)),
                );
            }
        }
    }
    for (path, item) in doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        let base = format!("/paths/{}", escape_token(path));
        for (k, v) in item.as_object_mut().into_iter().flatten() {
            let params = if k == "parameters" {
                Some((format!("{base}/parameters"), v))
            } else if METHODS.contains(&k.as_str()) {
                v.get_mut("parameters")
                    .map(|p| (format!("{base}/{k}/parameters"), p))
            } else {
                None
            };
            if let Some((at, Value::Array(list))) = params {
                for (i, p) in list.iter_mut().enumerate() {
                    if let Some(map) = p.as_object_mut() {
                        f(map, &format!("{at}/{i}"));
                    }
                }
            }
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn to_identifier(s: &str) -> String {
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

/// operationIds become Rust identifiers (`post-api-v1-livechat-agent.status` ->
/// `post_api_v1_livechat_agent_status`); a missing one is derived from method and path; a
/// duplicate gets a numeric suffix.
pub fn operation_ids(doc: &mut Value, changes: &mut Changes) {
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

/// Every operation of `doc`: `(path, method, operation object)`.
pub(crate) fn operations_mut(doc: &mut Value) -> Vec<(String, String, &mut Map<String, Value>)> {
    let mut out = Vec::new();
    for (path, item) in doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if let (true, Some(op)) = (METHODS.contains(&method.as_str()), op.as_object_mut()) {
                out.push((path.clone(), method.clone(), op));
            }
        }
    }
    out
}

/// A media-type key with stray characters (Engage Digital's `'multipart/form-data:'`) is
/// trimmed and lower-cased.
pub fn media_type_keys(doc: &mut Value, changes: &mut Changes) {
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        let Some(Value::Object(content)) = map.get_mut("content") else {
            return;
        };
        let bad: Vec<String> = content
            .keys()
            .filter(|k| clean_media_type(k) != **k)
            .cloned()
            .collect();
        for key in bad {
            let fixed = clean_media_type(&key);
            let v = content.remove(&key).expect("listed above");
            if !content.contains_key(&fixed) {
                content.insert(fixed.clone(), v);
            }
            changes.push(
                format!("{at}/content/{}", escape_token(&key)),
                format!("media type {key:?} is not a media type: renamed {fixed:?}"),
            );
        }
    });
}

fn clean_media_type(key: &str) -> String {
    key.trim()
        .trim_end_matches([':', ';', ','])
        .trim()
        .to_ascii_lowercase()
}

/// Formats typify knows; any other `format` is dropped (the `type` stays).
const KNOWN_FORMATS: &[&str] = &[
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

/// An unknown `format` (`format: integer` on a string, `format: 'int'`) is dropped.
pub fn unknown_formats(doc: &mut Value, changes: &mut Changes) {
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

/// A `pattern` the generated code cannot check (typify compiles it with regress, an ECMAScript
/// dialect: Revolt's `(?i)^...` inline flags are not in it) is dropped, so that its schema
/// generates; the value is still sent and accepted, unchecked.
pub fn unsupported_patterns(doc: &mut Value, changes: &mut Changes) {
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
pub const MAX_PATTERN: usize = 1_000;
/// The largest counted repetition kept (`a{1000}`): a larger one is dropped like a risky one.
pub const MAX_REPEAT: u64 = 1_000;

/// Why `pattern` (ECMAScript) could make a backtracking matcher (regress, which the generated
/// code uses) take exponential time or a lot of memory, if it could: a group repeated more than
/// once that itself repeats or alternates (`(a+)+`, `(a|ab)*`, `(\w+\s?)*`), a counted
/// repetition over [`MAX_REPEAT`], a backreference, or a pattern over [`MAX_PATTERN`]
/// characters. Conservative: some such patterns are harmless, and they lose only their check.
pub fn backtracking_risk(pattern: &str) -> Option<String> {
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
fn counted(chars: &[char]) -> Option<(Option<u64>, usize)> {
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

fn matches_type(value: &Value, ty: &str) -> bool {
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
fn json_type(value: &Value) -> &'static str {
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

/// `enum` values that contradict the schema's `type`. When no value has the declared type and
/// all have one other type (`type: integer, enum: [draft, published]`), the values are what the
/// server sends: the type becomes theirs and the enum stays. Otherwise the values of the wrong
/// type are dropped (`type: boolean, enum: ['true', '=1']`), and an enum left empty is removed.
pub fn enum_value_types(doc: &mut Value, changes: &mut Changes) {
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
}

/// An `example` whose JSON type contradicts its schema's `type` is dropped (it documents
/// nothing and confuses readers and tools); so is a media-type or parameter example (`example`,
/// or one of `examples`) that does not conform to its schema: a mock server built from the
/// document would answer with it, and the clients could not decode it.
pub fn contradicting_examples(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        // a schema's own example
        if map.get("type").and_then(Value::as_str).is_some()
            && let Some(example) = map.get("example")
        {
            let schema = Value::Object(map.clone());
            if let Some(why) = nonconformance(&snapshot, &schema, example, 0) {
                map.remove("example");
                changes.push(
                    format!("{at}/example"),
                    format!("example does not match its schema ({why}): dropped"),
                );
            }
            return;
        }
        // a media type's or a parameter's examples, against the schema beside them
        let Some(schema) = map.get("schema").cloned() else {
            return;
        };
        if let Some(example) = map.get("example")
            && let Some(why) = nonconformance(&snapshot, &schema, example, 0)
        {
            map.remove("example");
            changes.push(
                format!("{at}/example"),
                format!("example does not match its schema ({why}): dropped"),
            );
        }
        if let Some(Value::Object(examples)) = map.get_mut("examples") {
            let bad: Vec<(String, String)> = examples
                .iter()
                .filter_map(|(name, ex)| {
                    let value = crate::nav::resolve(&snapshot, ex).get("value")?;
                    nonconformance(&snapshot, &schema, value, 0).map(|why| (name.clone(), why))
                })
                .collect();
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

/// A schema's `default` that does not conform to it (Xero's `type: boolean, default: "false"`)
/// makes typify refuse the type and everything that reaches it. A string default of a boolean,
/// integer or number schema that spells a conforming value becomes that value; any other
/// contradicting default is dropped (a default is documentation to a client: nothing is lost
/// on the wire).
pub fn contradicting_defaults(doc: &mut Value, changes: &mut Changes) {
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
        let Some(why) = nonconformance_lenient(&snapshot, &schema, default) else {
            return;
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
        match spelled.filter(|v| nonconformance_lenient(&snapshot, &schema, v).is_none()) {
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

/// Why `value` does not conform to `schema` (resolved in `doc`), or None when it does, as far
/// as this checks: types, `nullable`, `enum`, `required`, properties, items and compositions.
/// An example's property that the schema does not declare counts as a mismatch (as linters
/// read examples), unless the schema allows other properties or is a composition. Formats and
/// numeric or length constraints are not checked (not a full validator).
/// The check is bounded in work as well as depth ([`CONFORMANCE_WORK`] schema visits): a
/// composition that branches at every level (`S1: oneOf [S2, S2]`, `S2: oneOf [S3, S3]`, ...)
/// would otherwise take time exponential in its depth. When the budget runs out the value is
/// taken to conform (an example is kept, never wrongly dropped).
pub fn nonconformance(doc: &Value, schema: &Value, value: &Value, depth: usize) -> Option<String> {
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
fn nonconformance_lenient(doc: &Value, schema: &Value, value: &Value) -> Option<String> {
    conforms(doc, schema, value, 0, false, &Cell::new(CONFORMANCE_WORK))
}

/// How many schemas [`nonconformance`] visits for one value at most.
pub const CONFORMANCE_WORK: usize = 10_000;

fn conforms(
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
fn schema_type(schema: &Value) -> Option<&str> {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        return Some(t);
    }
    if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
        return Some("object");
    }
    schema.get("items").map(|_| "array")
}

/// `nullable: true` only means something beside a `type` (OpenAPI 3.0.3; linters reject it
/// alone). With no type and nothing else it adds nothing (any JSON value includes null) and is
/// removed (Libredesk's `ErrorEnvelope.data`); beside a composition whose members all have one
/// type it gets that type (Engage Digital's `custom_status: {nullable, allOf: [$ref]}`).
pub fn nullable_without_type(doc: &mut Value, changes: &mut Changes) {
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

/// Two paths that differ only in their parameters' names (Libredesk's
/// `/conversations/{cuuid}/messages` and `/conversations/{uuid}/messages`) are one route on the
/// server; routers, linters and mock servers reject them. The later one's operations move to the
/// first (their path parameters renamed) when no method is on both.
pub fn identical_paths(doc: &mut Value, changes: &mut Changes) {
    fn names(path: &str) -> Vec<String> {
        path.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
            .collect()
    }
    fn shape(path: &str) -> String {
        let mut out = String::new();
        let mut inside = false;
        for c in path.chars() {
            match c {
                '{' => {
                    inside = true;
                    out.push_str("{}");
                }
                '}' => inside = false,
                _ if !inside => out.push(c),
                _ => {}
            }
        }
        out
    }
    let snapshot = doc.clone();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let keys: Vec<String> = paths.keys().cloned().collect();
    let mut first_of: std::collections::BTreeMap<String, String> = Default::default();
    for path in keys {
        let Some(first) = first_of.get(&shape(&path)).cloned() else {
            first_of.insert(shape(&path), path.clone());
            continue;
        };
        let (Some(Value::Object(later)), Some(Value::Object(earlier))) =
            (paths.get(&path), paths.get(&first))
        else {
            continue;
        };
        let methods: Vec<String> = later
            .keys()
            .filter(|k| METHODS.contains(&k.as_str()))
            .cloned()
            .collect();
        if methods.iter().any(|m| earlier.contains_key(m)) || later.keys().any(|k| k == "$ref") {
            continue;
        }
        let rename: Vec<(String, String)> = names(&path).into_iter().zip(names(&first)).collect();
        let shared: Vec<Value> = later
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(Value::Object(mut later)) = paths.remove(&path) else {
            continue;
        };
        for method in &methods {
            let Some(Value::Object(mut op)) = later.remove(method) else {
                continue;
            };
            let own: Vec<Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut params = Vec::new();
            for p in own.iter().chain(shared.iter()) {
                let mut p = crate::nav::resolve(&snapshot, p).clone();
                if p.get("in") == Some(&json!("path"))
                    && let Some((_, to)) = rename
                        .iter()
                        .find(|(from, _)| p.get("name") == Some(&json!(from)))
                {
                    p["name"] = json!(to);
                }
                let duplicate = params
                    .iter()
                    .any(|q: &Value| q.get("name") == p.get("name") && q.get("in") == p.get("in"));
                if !duplicate {
                    params.push(p);
                }
            }
            op.insert("parameters".into(), Value::Array(params));
            if let Some(Value::Object(target)) = paths.get_mut(&first) {
                target.insert(method.clone(), Value::Object(op));
            }
        }
        changes.push(
            format!("/paths/{}", escape_token(&path)),
            format!(
                "differs from {first:?} only in parameter names: its {} moved there",
                methods.join(", ")
            ),
        );
    }
}

/// Path parameters agree with the path template: a `{name}` that no parameter declares
/// (Rocket.Chat's `/livechat/messages/{rid}`) is declared as a required string; a `{name}`
/// declared with another `in` (`in: query`) becomes that parameter `in: path`, not a second
/// declaration; a parameter declared `in: path` whose name is not in the template (Chatwoot's
/// `account_id` on `/api/v1/accounts/{id}`) is removed (progenitor refuses the operation).
pub fn path_parameters_declared(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    let resolve = |p: &Value| -> Value { crate::nav::resolve(&snapshot, p).clone() };
    let template = |path: &str| -> Vec<String> {
        path.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
            .collect()
    };
    // path-level parameters: a path one not in the template is removed once, for all operations
    let mut path_level: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for (path, item) in doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flatten()
    {
        let names = template(path);
        let Some(Value::Array(list)) = item.get_mut("parameters") else {
            continue;
        };
        let at = format!("/paths/{}/parameters", escape_token(path));
        let mut kept = Vec::new();
        for (i, p) in std::mem::take(list).into_iter().enumerate() {
            let r = resolve(&p);
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
            if r.get("in") == Some(&json!("path")) && !names.iter().any(|n| n == name) {
                changes.push(
                    format!("{at}/{i}"),
                    format!(
                        "path parameter {name:?} is not in the path template {path:?}: removed"
                    ),
                );
                continue;
            }
            kept.push(p);
        }
        path_level.insert(path.clone(), kept.iter().map(&resolve).collect());
        *list = kept;
    }
    for (path, method, op) in operations_mut(doc) {
        let names = template(&path);
        let at = format!(
            "{}/parameters",
            crate::nav::operation_pointer(&path, &method)
        );
        let inherited = path_level.get(&path).cloned().unwrap_or_default();
        let mut own: Vec<Value> = match op.get_mut("parameters") {
            Some(Value::Array(list)) => std::mem::take(list),
            _ => Vec::new(),
        };
        // not in the template: removed
        let mut kept = Vec::new();
        for (i, p) in own.drain(..).enumerate() {
            let r = resolve(&p);
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
            if r.get("in") == Some(&json!("path")) && !names.iter().any(|n| n == name) {
                changes.push(
                    format!("{at}/{i}"),
                    format!(
                        "path parameter {name:?} is not in the path template {path:?}: removed"
                    ),
                );
                continue;
            }
            kept.push(p);
        }
        for name in &names {
            let is_path = |p: &Value| {
                let r = resolve(p);
                r.get("in") == Some(&json!("path")) && r.get("name") == Some(&json!(name))
            };
            if kept.iter().any(is_path) || inherited.iter().any(is_path) {
                // a second declaration of the name elsewhere (Sendgrid's `list_id` also `in:
                // query`) would be a second Rust parameter of that name: the path one stands
                let before = kept.len();
                kept.retain(|p| {
                    let r = resolve(p);
                    r.get("name") != Some(&json!(name)) || r.get("in") == Some(&json!("path"))
                });
                if kept.len() != before {
                    changes.push(at.clone(), format!(
                            "{{{name}}} is a path parameter and also declared elsewhere (query, header): that declaration is removed"
                        ));
                }
                continue;
            }
            // declared, but not `in: path`: that declaration becomes the path parameter
            let misplaced = kept
                .iter()
                .position(|p| resolve(p).get("name") == Some(&json!(name)));
            if let Some(i) = misplaced {
                let mut fixed = resolve(&kept[i]);
                let was = fixed.get("in").cloned().unwrap_or(Value::Null);
                if let Some(m) = fixed.as_object_mut() {
                    m.insert("in".into(), json!("path"));
                    m.insert("required".into(), json!(true));
                    for k in ["allowEmptyValue", "style", "explode", "allowReserved"] {
                        m.remove(k);
                    }
                    m.entry("schema")
                        .or_insert_with(|| json!({"type": "string"}));
                }
                kept[i] = fixed;
                changes.push(
                    format!("{at}/{i}/in"),
                    format!(
                        "{{{name}}} is in the path template but declared `in: {}`: now `in: path`",
                        was.as_str().unwrap_or("?")
                    ),
                );
                continue;
            }
            kept.push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
            changes.push(
                at.clone(),
                format!(
                    "path parameter {{{name}}} was not declared: declared as a required string"
                ),
            );
        }
        if !kept.is_empty() || op.contains_key("parameters") {
            op.insert("parameters".into(), Value::Array(kept));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_that_can_backtrack_exponentially_are_found() {
        for risky in [
            "(a+)+",
            "^(a|aa)*$",
            "^(\\w+\\s?)*$",
            "(x+x+)+y",
            "((ab)*c)+",
            "(?:a*){2,}",
            "a{100000}",
            "a{2,99999999999999999999999}",
            "(a)\\1",
        ] {
            assert!(backtracking_risk(risky).is_some(), "{risky}");
        }
        assert!(backtracking_risk(&"a".repeat(MAX_PATTERN + 1)).is_some());
        for safe in [
            "^[a-z0-9]+$",
            "^WK[0-9a-fA-F]{32}$",
            "^(?:[a-z]+)$",
            "^\\d{3}-\\d{4}$",
            "^(ab)+$",
            "^[^@]+@[^@]+\\.[a-z]{2,}$",
            "^https?://",
            "^(?<year>\\d{4})-(?<month>\\d{2})$",
            "[(+*]+",
            "^a{3}(bc)?$",
        ] {
            assert_eq!(backtracking_risk(safe), None, "{safe}");
        }
    }

    #[test]
    fn deep_refs_never_multiply_the_document() {
        // a large part, and many references into it
        let big: serde_json::Map<String, Value> = (0..200)
            .map(|i| (format!("f{i}"), json!({"type": "string"})))
            .collect();
        let mut schemas = serde_json::Map::new();
        schemas.insert("Big".into(), json!({"type": "object", "properties": {"inner": {"type": "object", "properties": big}}}));
        for i in 0..50 {
            schemas.insert(
                format!("U{i}"),
                json!({"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Big/properties/inner"}}}),
            );
        }
        let mut doc = json!({"components": {"schemas": schemas}});
        let before = crate::nav::node_count(&doc);
        let mut changes = Changes::default();
        deep_refs(&mut doc, &mut changes);
        assert!(crate::nav::node_count(&doc) <= 2 * before);
        assert_eq!(changes.len(), 50, "{changes:?}");
        let copied = changes
            .iter()
            .filter(|c| c.message.contains("replaced by a copy"))
            .count();
        assert!((1..50).contains(&copied), "{copied}");
        let last = &doc["components"]["schemas"]["U49"]["properties"]["a"];
        assert!(
            last.get("$ref").is_none()
                && last["description"]
                    .as_str()
                    .unwrap()
                    .starts_with("Any JSON value"),
            "{last}"
        );
    }

    #[test]
    fn a_default_answer_is_walked_like_any_answer() {
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {"default": {
            "description": "error",
            "content": {"application/json": {"schema": {"type": "integer"}, "example": "x"}}
        }}}}}});
        let mut changes = Changes::default();
        contradicting_examples(&mut doc, &mut changes);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            changes[0].pointer,
            "/paths/~1a/get/responses/default/content/application~1json/example"
        );
    }

    #[test]
    fn string_booleans_but_not_in_examples() {
        let mut doc = json!({"components": {"parameters": {"A": {"required": "true", "example": {"required": "true"}}}}});
        let mut c = Changes::default();
        string_booleans(&mut doc, &mut c);
        assert_eq!(doc["components"]["parameters"]["A"]["required"], true);
        assert_eq!(
            doc["components"]["parameters"]["A"]["example"]["required"],
            "true"
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].pointer, "/components/parameters/A/required");
    }

    #[test]
    fn format_without_type_is_fixed() {
        let mut doc = json!({"a": {"schema": {"format": "object"}}, "b": {"format": "int32"}, "c": {"type": "string", "format": "x"}, "d": {"format": "weird"}});
        let mut c = Changes::default();
        format_without_type(&mut doc, &mut c);
        assert_eq!(doc["a"]["schema"], json!({"type": "object"}));
        assert_eq!(doc["b"], json!({"format": "int32", "type": "integer"}));
        assert_eq!(doc["c"], json!({"type": "string", "format": "x"}));
        assert_eq!(doc["d"], json!({"format": "weird"}));
        assert_eq!(
            c.iter().map(|c| c.pointer.as_str()).collect::<Vec<_>>(),
            ["/a/schema", "/b"]
        );
    }

    #[test]
    fn path_parameters_become_required() {
        let mut doc = json!({"paths": {"/a/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}, {"name": "q", "in": "query"}]}}}});
        let mut c = Changes::default();
        path_parameters_required(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a/{id}"]["get"]["parameters"][0]["required"],
            true
        );
        assert!(
            doc["paths"]["/a/{id}"]["get"]["parameters"][1]
                .get("required")
                .is_none()
        );
        assert_eq!(c[0].pointer, "/paths/~1a~1{id}/get/parameters/0");
    }

    #[test]
    fn enum_values_decide_a_contradicted_type() {
        let mut doc = json!({
            "a": {"type": "integer", "enum": ["draft", "published"]},
            "b": {"type": "boolean", "enum": ["true", "=1", true]},
            "c": {"type": "integer", "enum": [1, "x", 2.5]}
        });
        let mut c = Changes::default();
        enum_value_types(&mut doc, &mut c);
        assert_eq!(
            doc["a"],
            json!({"type": "string", "enum": ["draft", "published"]})
        );
        assert_eq!(doc["b"], json!({"type": "boolean", "enum": [true]}));
        assert_eq!(doc["c"], json!({"type": "integer", "enum": [1]}));
        assert_eq!(c[0].pointer, "/a/type");
    }

    #[test]
    fn identical_paths_become_one() {
        let mut doc = json!({"paths": {
            "/c/{cuuid}/m": {"get": {"parameters": [{"name": "cuuid", "in": "path", "required": true}]}},
            "/c/{uuid}/m": {"parameters": [{"name": "uuid", "in": "path", "required": true}], "post": {}},
            "/d/{x}": {"get": {}}, "/d/{y}": {"get": {}}
        }});
        let mut c = Changes::default();
        identical_paths(&mut doc, &mut c);
        let item = &doc["paths"]["/c/{cuuid}/m"];
        assert_eq!(item["post"]["parameters"][0]["name"], "cuuid");
        assert!(doc["paths"].get("/c/{uuid}/m").is_none());
        // the same method on both: left for the author
        assert!(doc["paths"].get("/d/{y}").is_some());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].pointer, "/paths/~1c~1{uuid}~1m");
    }

    #[test]
    fn path_parameters_follow_the_template() {
        let mut doc = json!({"paths": {
            "/accounts/{id}": {
                "parameters": [{"name": "account_id", "in": "path", "required": true}],
                "get": {"parameters": [{"name": "id", "in": "query", "schema": {"type": "integer"}}]},
                "patch": {"parameters": [{"name": "other", "in": "path"}, {"name": "id", "in": "path"}]}
            },
            "/m/{rid}": {"get": {}}
        }});
        let mut c = Changes::default();
        path_parameters_declared(&mut doc, &mut c);
        let item = &doc["paths"]["/accounts/{id}"];
        assert_eq!(item["parameters"], json!([]));
        assert_eq!(
            item["get"]["parameters"],
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}])
        );
        assert_eq!(
            item["patch"]["parameters"],
            json!([{"name": "id", "in": "path"}])
        );
        assert_eq!(
            doc["paths"]["/m/{rid}"]["get"]["parameters"][0]["name"],
            "rid"
        );
        assert_eq!(c.len(), 4, "{c:?}");
    }

    #[test]
    fn operation_ids_become_identifiers_and_unique() {
        let mut doc = json!({"paths": {
            "/a": {"get": {"operationId": "post-api-v1-livechat-agent.status"}, "post": {"operationId": "post_api_v1_livechat_agent_status"}},
            "/b/{x}": {"get": {}, "put": {"operationId": "1st:op"}}
        }});
        let mut c = Changes::default();
        operation_ids(&mut doc, &mut c);
        assert_eq!(
            doc["paths"]["/a"]["get"]["operationId"],
            "post_api_v1_livechat_agent_status"
        );
        assert_eq!(
            doc["paths"]["/a"]["post"]["operationId"],
            "post_api_v1_livechat_agent_status_2"
        );
        assert_eq!(doc["paths"]["/b/{x}"]["get"]["operationId"], "get_b_x");
        assert_eq!(doc["paths"]["/b/{x}"]["put"]["operationId"], "op_1st_op");
        assert_eq!(c.len(), 4);
    }
}
