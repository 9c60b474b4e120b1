//! `$ref` and `allOf`: references into a component's inside, and `allOf` members typify cannot merge.

use serde_json::{Map, Value};

use super::{Changes, Pass, Stage};
use crate::conformance::schema_type;
use crate::error::escape_token;

/// How many `$ref`s [`deep_refs`] replaces at most (a reference cycle through the inside of
/// components would otherwise never end).
pub(crate) const MAX_DEEP_REFS: usize = 10_000;

/// The `deep-refs` pass ([`deep_refs`]).
pub(crate) const DEEP_REFS: Pass = Pass::new(
    "deep-refs",
    Stage::Normalise,
    "A `$ref` into the inside of a component (`#/components/schemas/Tag/allOf/0`, a response's schema), which typify cannot resolve, or to a component of another kind than its place holds (an answer referencing a request body, which progenitor panics on), is replaced by what it points at.",
    deep_refs,
);

/// typify resolves `$ref`s to component schemas only. A `$ref` to the inside of a component
/// (PagerDuty's `#/components/schemas/Tag/allOf/0`, `#/components/responses/Conflict/content/
/// application~1json/schema`) is replaced by a copy of what it points at (its own
/// `description` kept).
/// The copies are bounded: at most [`MAX_DEEP_REFS`] of them, and no more values copied in all
/// than the document holds (a few references to a large part must not multiply the document);
/// a schema left over is read as any JSON value, said in its description.
pub(crate) fn deep_refs(doc: &mut Value, changes: &mut Changes) {
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
        // `/components/<section>/<name>`: a component, which typify knows, unless it is one of
        // another kind than its place holds (PagerDuty's answer `$ref:
        // #/components/requestBodies/...`: progenitor looks it up among the responses and
        // panics, "key ... is missing")
        let misplaced = misplaced_component(at, &pointer);
        if pointer.split('/').count() <= 4 && !misplaced {
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
        if misplaced {
            // a request body's copy where an answer belongs: what an answer has
            if at.rsplit('/').nth(1) == Some("responses") {
                map.remove("required");
                map.entry("description")
                    .or_insert_with(|| Value::String(String::new()));
            }
            changes.push(
                format!("{at}/$ref"),
                format!("`$ref: {reference}` points at a component of another kind than its place holds: replaced by a copy of it"),
            );
            return;
        }
        changes.push(
            format!("{at}/$ref"),
            format!("`$ref: {reference}` points inside a component: replaced by a copy of it"),
        );
    });
}

/// Does the `$ref` at `at` (an operation's answer, request body or parameter) point at a
/// component of another section than that place holds (`/components/requestBodies/X` as an
/// answer)?
fn misplaced_component(at: &str, pointer: &str) -> bool {
    let mut tokens = at.rsplit('/');
    let last = tokens.next().unwrap_or_default();
    let parent = tokens.next().unwrap_or_default();
    let grandparent = tokens.next().unwrap_or_default();
    let expected = if last == "requestBody" {
        "requestBodies"
    } else if parent == "responses" && grandparent != "components" {
        "responses"
    } else if parent == "parameters" && grandparent != "components" {
        "parameters"
    } else {
        return false;
    };
    let mut parts = pointer.split('/');
    parts.next();
    parts.next() == Some("components") && parts.next().is_some_and(|s| s != expected)
}

/// Is the object at pointer `at` a schema by its place: a `schema`, `items`, `not` or
/// `additionalProperties`, a property, or a member of a composition.
pub(super) fn is_schema_position(at: &str) -> bool {
    let mut tokens = at.rsplit('/');
    let last = tokens.next().unwrap_or_default();
    let parent = tokens.next().unwrap_or_default();
    matches!(last, "schema" | "items" | "not" | "additionalProperties")
        || matches!(parent, "properties" | "allOf" | "oneOf" | "anyOf")
}

/// The `dangling-schema-refs` pass ([`dangling_schema_refs`]).
pub(crate) const DANGLING_SCHEMA_REFS: Pass = Pass::new(
    "dangling-schema-refs",
    Stage::Fix,
    "Best effort only (`try`, `corpus`; a vendor's build refuses the document, naming the ref): a schema that is only a `$ref` to nothing in the document (Square's `CatalogModifierToggleOverrideType`, named by three properties and defined nowhere) is read as any JSON value, said in one line with its pointer, the component holding it and the operations that reach it, which isolation would otherwise leave out.",
    dangling_schema_refs,
)
.in_best_effort_only();

/// A schema `$ref` (in a schema's place: a property, an item, a member, a body's or an
/// answer's `schema`, a component schema itself) whose local target does not exist is a hole
/// in the document, not a part the generator must refuse: the schema becomes one that takes
/// any JSON value, its own `description` kept (or one that says so), and the change names the
/// reference, where it is, and what reading it so keeps (the component holding it, or its
/// operation, and the operations that reach that). Run after the overlay, so that a vendor's
/// overlay can add what is missing instead; run only for a user's document
/// ([`super::Mode::BestEffort`]): a vendor's own slice with a hole is an error naming the ref.
/// References that are not local, and references in other places (a parameter, an answer),
/// are left to the generator to refuse by name.
pub(crate) fn dangling_schema_refs(doc: &mut Value, changes: &mut Changes) {
    let mut dangling: Vec<(String, String)> = Vec::new();
    crate::nav::walk(doc, "", &mut |map, at| {
        let Some(reference) = map.get("$ref").and_then(Value::as_str) else {
            return;
        };
        let is_component_schema = at
            .strip_prefix("/components/schemas/")
            .is_some_and(|name| !name.contains('/'));
        if !(is_schema_position(at) || is_component_schema) {
            return;
        }
        if let Some(pointer) = crate::nav::ref_pointer(reference)
            && doc.pointer(&pointer).is_none()
        {
            dangling.push((at.to_string(), reference.to_string()));
        }
    });
    // what isolation would leave out for each hole: the component holding it (or the operation
    // it is in) and every operation that reaches that component. One walk of each component
    // and each operation (their direct references), only when there is a hole; then, per
    // holding component, the components that reach it (backwards over those references).
    let component_of = |p: &str| -> Option<String> {
        let rest = p.strip_prefix("/components/")?;
        let mut parts = rest.splitn(3, '/');
        Some(format!("/components/{}/{}", parts.next()?, parts.next()?))
    };
    let mut referenced_by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut operations: Vec<(String, Vec<String>)> = Vec::new();
    if !dangling.is_empty() {
        for (section, members) in doc
            .get("components")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (name, v) in members.as_object().into_iter().flatten() {
                let from = format!("/components/{section}/{}", escape_token(name));
                for to in crate::nav::direct_refs(v)
                    .iter()
                    .filter_map(|r| component_of(r))
                {
                    referenced_by.entry(to).or_default().push(from.clone());
                }
            }
        }
        for (path, method, op) in crate::nav::operations(doc) {
            let refs = crate::nav::direct_refs(op)
                .iter()
                .filter_map(|r| component_of(r))
                .collect();
            operations.push((crate::nav::operation_pointer(path, method), refs));
        }
    }
    let kept = |at: &str| -> String {
        let Some(c) = component_of(at) else {
            return match operations
                .iter()
                .find(|(op, _)| at.starts_with(&format!("{op}/")))
            {
                Some((op, _)) => format!("keeps the operation `{op}`"),
                None => "keeps what holds it".to_string(),
            };
        };
        let mut reaching: std::collections::BTreeSet<&str> = [c.as_str()].into();
        let mut todo: Vec<&str> = vec![c.as_str()];
        while let Some(next) = todo.pop() {
            for from in referenced_by.get(next).into_iter().flatten() {
                if reaching.insert(from) {
                    todo.push(from);
                }
            }
        }
        let n = operations
            .iter()
            .filter(|(_, refs)| refs.iter().any(|r| reaching.contains(r.as_str())))
            .count();
        format!("keeps `{c}` and {n} operation(s) reaching it")
    };
    let dangling: Vec<(String, String, String)> = dangling
        .into_iter()
        .map(|(at, reference)| {
            let keeps = kept(&at);
            (at, reference, keeps)
        })
        .collect();
    for (at, reference, keeps) in dangling {
        let Some(Value::Object(map)) = doc.pointer_mut(&at) else {
            continue;
        };
        map.remove("$ref");
        if !map.contains_key("description") {
            map.insert(
                "description".into(),
                Value::String(format!(
                    "Any JSON value: the document's `$ref: {reference}` points at nothing."
                )),
            );
        }
        changes.push(
            format!("{at}/$ref"),
            format!("`$ref: {reference}` points at nothing: any JSON value here {keeps}"),
        );
    }
}

/// The `enum-beside-ref` pass ([`enum_beside_ref`]).
pub(crate) const ENUM_BESIDE_REF: Pass = Pass::new(
    "enum-beside-ref",
    Stage::Normalise,
    "An `enum` beside `allOf: [$ref]` (a subset of a referenced enum, Discord's option types) keeps the enum alone: typify panics on the pair.",
    enum_beside_ref,
);

/// `{type: integer, enum: [5], allOf: [{$ref: OptionType}]}` (Discord) narrows a referenced enum
/// to some of its values; typify panics ("entered unreachable code") on an enum beside `allOf`.
/// The enum stays alone (with the referenced schema's type when it has none of its own).
pub(crate) fn enum_beside_ref(doc: &mut Value, changes: &mut Changes) {
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

/// The `all-of-documentation` pass ([`all_of_documentation`]).
pub(crate) const ALL_OF_DOCUMENTATION: Pass = Pass::new(
    "all-of-documentation",
    Stage::Normalise,
    "`allOf` members that only document (`allOf: [$ref, {description}]`, Box) are folded into the schema beside them, so the `$ref` stands alone and keeps its type.",
    all_of_documentation,
);

/// `allOf: [{$ref: CollaborationItem}, {description: ...}]` (Box: a reference given its own
/// description) is one type, but typify merges the members into a new type, named from the
/// referenced schema's title, so it clashes with that schema (E0428) or duplicates it. Members
/// that only document are folded into the schema that holds the `allOf` (their description
/// when it has none; `nullable` kept), so a lone `$ref` is left and typify uses its type.
pub(crate) fn all_of_documentation(doc: &mut Value, changes: &mut Changes) {
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

/// The `all-of-narrowed-enums` pass ([`all_of_narrowed_enums`]).
pub(crate) const ALL_OF_NARROWED_ENUMS: Pass = Pass::new(
    "all-of-narrowed-enums",
    Stage::Normalise,
    "An `allOf` member that narrows an enum property its `$ref` base declares (WhatsApp's `BodyComponent.type: [body]`) leaves the base's enum alone: typify emits the merged enum twice (E0428).",
    all_of_narrowed_enums,
);

/// `allOf: [{$ref: TemplateComponent}, {properties: {type: {enum: [body]}}}]` (WhatsApp's
/// discriminated components): the inline member narrows an enum property that the referenced
/// base declares with an enum of its own. typify merges the two into one new enum and emits it
/// twice (E0428, E0119). The narrowing property is taken out of the member, so the base's enum
/// types the field (every narrowed value is one of its values); the narrowed values are kept in
/// the member's description. A narrowing to values outside the base's enum is left as it is.
pub(crate) fn all_of_narrowed_enums(doc: &mut Value, changes: &mut Changes) {
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
