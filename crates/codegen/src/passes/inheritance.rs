//! Inheritance written as a cycle: a schema `P` whose `oneOf`/`anyOf` alternatives each extend
//! it (`allOf: [P, {their own properties}]`), directly or through their own components. It is
//! how OpenAPI's polymorphism is usually written (HubSpot's `PublicActor`, swagger-codegen's
//! discriminator examples), and read literally it is a type that contains itself: progenitor
//! overflows its stack on it and [`crate::nav::check_ref_graph`] refuses it.
//!
//! What an alternative extends is `P`'s own part, not the choice between the alternatives: each
//! such reference is pointed at `P` without `oneOf`, `anyOf` and `discriminator` (a component
//! `<P>Base`, made once), or dropped when that part says nothing (no properties, no
//! composition of its own). The work is linear: one walk for the sites, one visit of each node
//! reachable from a union's alternatives.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::{ref_pointer, walk};

/// The `inheritance-cycles` pass ([`inheritance_cycles`]).
pub(crate) const INHERITANCE_CYCLES: Pass = Pass::new(
    "inheritance-cycles",
    Stage::Input,
    "Polymorphism written as a cycle (a `oneOf`/`anyOf` whose alternatives are `allOf: [the choice itself, ...]`) is read as inheritance: the alternatives extend the choice's own part (`<Name>Base`, the schema without its alternatives), or nothing when that part is empty.",
    inheritance_cycles,
);

/// Is the schema at `pointer` in `doc` a choice (`oneOf` or `anyOf`)?
fn is_union(doc: &Value, pointer: &str) -> bool {
    doc.pointer(pointer)
        .is_some_and(|s| s.get("oneOf").is_some() || s.get("anyOf").is_some())
}

/// Is the node at `at` an `allOf` member that references a choice (the edge this pass takes
/// away when it closes a cycle)? [`crate::nav::check_ref_graph`] does not follow such an edge
/// on a document as published, since this pass runs before the generator sees it.
pub(crate) fn is_extension_of_a_union(doc: &Value, at: &str) -> bool {
    let mut tokens = at.rsplit('/');
    let (Some(index), Some("allOf")) = (tokens.next(), tokens.next()) else {
        return false;
    };
    index.parse::<usize>().is_ok()
        && doc
            .pointer(at)
            .and_then(|m| m.get("$ref"))
            .and_then(Value::as_str)
            .and_then(ref_pointer)
            .is_some_and(|p| is_union(doc, &p))
}

/// Every node reachable from `start` through references and composition members (not through
/// properties or items: those are a tree, a type like any other).
fn composition_closure(doc: &Value, start: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = start;
    while let Some(at) = stack.pop() {
        if !seen.insert(at.clone()) {
            continue;
        }
        let Some(v) = doc.pointer(&at) else { continue };
        if let Some(p) = v.get("$ref").and_then(Value::as_str).and_then(ref_pointer) {
            stack.push(p);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for i in 0..v.get(key).and_then(Value::as_array).map_or(0, Vec::len) {
                stack.push(format!("{at}/{key}/{i}"));
            }
        }
    }
    seen
}

/// The part of a choice its alternatives extend: the schema without its alternatives. `None`
/// when that part constrains nothing an alternative would miss.
fn base_of(union: &Map<String, Value>) -> Option<Map<String, Value>> {
    let base: Map<String, Value> = union
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "oneOf" | "anyOf" | "discriminator"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let says_something = base.keys().any(|k| {
        !matches!(
            k.as_str(),
            "type" | "title" | "description" | "nullable" | "example" | "examples" | "deprecated"
        ) && !k.starts_with("x-")
    });
    says_something.then_some(base)
}

/// The pass: see the module documentation.
pub(crate) fn inheritance_cycles(doc: &mut Value, changes: &mut Changes) {
    // the sites: `allOf` members that reference a choice
    let mut sites: Vec<(String, String)> = Vec::new();
    walk(doc, "", &mut |map, at| {
        let Some(all) = map.get("allOf").and_then(Value::as_array) else {
            return;
        };
        for (i, m) in all.iter().enumerate() {
            if let Some(p) = m.get("$ref").and_then(Value::as_str).and_then(ref_pointer) {
                sites.push((format!("{at}/allOf/{i}"), p));
            }
        }
    });
    sites.retain(|(_, p)| is_union(doc, p));
    if sites.is_empty() {
        return;
    }
    // which of them close a cycle: the site is reachable from its choice's alternatives
    let mut closures: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut cycles: Vec<(String, String)> = Vec::new();
    for (site, union) in sites {
        let reach = closures.entry(union.clone()).or_insert_with(|| {
            let v = doc.pointer(&union).expect("a union");
            let mut start = Vec::new();
            for key in ["oneOf", "anyOf"] {
                for i in 0..v.get(key).and_then(Value::as_array).map_or(0, Vec::len) {
                    start.push(format!("{union}/{key}/{i}"));
                }
            }
            composition_closure(doc, start)
        });
        if reach.contains(&site) {
            cycles.push((site, union));
        }
    }
    // one base per choice, named after it
    let mut bases: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (site, union) in &cycles {
        if !bases.contains_key(union) {
            let base = doc
                .pointer(union)
                .and_then(Value::as_object)
                .and_then(base_of);
            let name = base.map(|base| {
                let stem = union.rsplit('/').next().unwrap_or("Schema").to_string();
                let stem = crate::nav::unescape_token(&stem);
                let schemas = doc
                    .pointer_mut("/components/schemas")
                    .and_then(Value::as_object_mut);
                let mut name = format!("{stem}Base");
                let mut n = 2;
                if let Some(s) = &schemas {
                    while s.contains_key(&name) {
                        name = format!("{stem}Base{n}");
                        n += 1;
                    }
                }
                if let Some(root) = doc.as_object_mut() {
                    let components = root
                        .entry("components")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Some(c) = components.as_object_mut() {
                        let schemas = c
                            .entry("schemas")
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let Some(s) = schemas.as_object_mut() {
                            s.insert(name.clone(), Value::Object(base));
                        }
                    }
                }
                name
            });
            bases.insert(union.clone(), name);
        }
        let _ = site;
    }
    // rewrite, the later members of an `allOf` first so indices stay right
    cycles.sort_by(|a, b| b.0.cmp(&a.0));
    for (site, union) in cycles {
        let (parent, index) = site.rsplit_once('/').expect("an allOf member");
        let index: usize = index.parse().expect("an index");
        let Some(all) = doc.pointer_mut(parent).and_then(Value::as_array_mut) else {
            continue;
        };
        match &bases[&union] {
            Some(name) => {
                all[index] = serde_json::json!({
                    "$ref": format!("#/components/schemas/{}", escape_token(name))
                });
                changes.push(
                    site,
                    format!(
                        "extends `{union}`, which is a choice between this and other alternatives (inheritance written as a cycle): it extends `{name}`, that schema without its alternatives"
                    ),
                );
            }
            None => {
                all.remove(index);
                changes.push(
                    site,
                    format!(
                        "extends `{union}`, which is a choice between this and other alternatives (inheritance written as a cycle) and says nothing else: reference removed"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(mut doc: Value) -> (Value, Vec<String>) {
        let mut changes = Changes::default();
        inheritance_cycles(&mut doc, &mut changes);
        let said = changes.iter().map(|c| c.pointer.clone()).collect();
        (doc, said)
    }

    #[test]
    fn alternatives_that_extend_their_choice_extend_its_base() {
        let (doc, said) = run(json!({"components": {"schemas": {
            "Actor": {"type": "object", "properties": {"type": {"type": "string"}},
                      "required": ["type"],
                      "discriminator": {"propertyName": "type"},
                      "oneOf": [{"$ref": "#/components/schemas/Agent"},
                                {"$ref": "#/components/schemas/Bot"}]},
            "Agent": {"allOf": [{"$ref": "#/components/schemas/Actor"},
                                {"type": "object", "properties": {"email": {"type": "string"}}}]},
            "Bot": {"allOf": [{"$ref": "#/components/schemas/Actor"}, {"type": "object"}]},
            "Other": {"allOf": [{"$ref": "#/components/schemas/Actor"}]}
        }}}));
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["Agent"]["allOf"][0]["$ref"],
            "#/components/schemas/ActorBase"
        );
        assert_eq!(
            s["Bot"]["allOf"][0]["$ref"],
            "#/components/schemas/ActorBase"
        );
        assert_eq!(
            s["ActorBase"],
            json!({"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]})
        );
        // not an alternative of Actor: it extends the whole choice, as written
        assert_eq!(s["Other"]["allOf"][0]["$ref"], "#/components/schemas/Actor");
        assert_eq!(said.len(), 2, "{said:?}");
        assert_eq!(crate::nav::check_ref_graph(&doc), Ok(()));
    }

    #[test]
    fn an_inline_alternative_and_an_empty_base() {
        // HubSpot's shape: the choice's own part is empty, so the reference goes
        let (doc, said) = run(json!({"components": {"schemas": {"S0": {"oneOf": [
            {"allOf": [{"$ref": "#/components/schemas/S0"},
                       {"type": "object", "properties": {"x": {"type": "string"}}}]},
            {"allOf": [{"$ref": "#/components/schemas/S0"},
                       {"type": "object", "properties": {"y": {"type": "string"}}}]}
        ]}}}}));
        assert_eq!(
            doc["components"]["schemas"]["S0"]["oneOf"][1]["allOf"],
            json!([{"type": "object", "properties": {"y": {"type": "string"}}}])
        );
        assert!(doc["components"]["schemas"].get("S0Base").is_none());
        assert_eq!(
            said,
            [
                "/components/schemas/S0/oneOf/1/allOf/0",
                "/components/schemas/S0/oneOf/0/allOf/0"
            ]
        );
        assert_eq!(crate::nav::check_ref_graph(&doc), Ok(()));
    }

    #[test]
    fn a_base_name_that_is_taken_gets_a_number() {
        let (doc, _) = run(json!({"components": {"schemas": {
            "ABase": {"type": "string"},
            "A": {"properties": {"k": {"type": "string"}},
                  "anyOf": [{"allOf": [{"$ref": "#/components/schemas/A"}, {"required": ["k"]}]}]}
        }}}));
        assert_eq!(
            doc["components"]["schemas"]["A"]["anyOf"][0]["allOf"][0]["$ref"],
            "#/components/schemas/ABase2"
        );
        assert_eq!(
            doc["components"]["schemas"]["ABase"],
            json!({"type": "string"})
        );
    }

    #[test]
    fn a_schema_that_is_its_own_allof_member_is_not_inheritance() {
        let doc = json!({"components": {"schemas": {"A": {"allOf": [
            {"$ref": "#/components/schemas/A"}, {"type": "object"}]}}}});
        let (after, said) = run(doc.clone());
        assert_eq!(after, doc);
        assert!(said.is_empty());
        assert!(crate::nav::check_ref_graph(&after).is_err());
    }
}
