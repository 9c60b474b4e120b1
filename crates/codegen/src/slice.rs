//! Slicing a vendor document to the kept operations plus every `$ref` they reach, and merging
//! several such slices into one document.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result, pointer};
use crate::nav::{local_refs, ref_pointer};
use crate::sources::OperationKey;

/// Check that every local `$ref` resolves; the error names the `$ref`'s own pointer.
pub fn check_refs(doc: &Value, file: &Path) -> Result<()> {
    let mut refs = Vec::new();
    local_refs(doc, "", &mut refs);
    // a `$ref` inside an extension (Vonage's `x-webhooks`) is not part of the API the generator
    // reads: a broken one there is the vendor's to fix, not a reason to fail; nor is one in an
    // example (Square's examples hold JSON Schemas with URL `$ref`s): it is a value
    for (at, reference) in refs.into_iter().filter(|(at, _)| !crate::nav::in_data(at)) {
        match ref_pointer(&reference) {
            Some(p) if doc.pointer(&p).is_some() => {}
            Some(_) => {
                return Err(Error::at(
                    ErrorKind::BrokenRef,
                    file,
                    at,
                    format!("`$ref: {reference}` points at nothing in this document"),
                ));
            }
            None => {
                return Err(Error::at(
                    ErrorKind::BrokenRef,
                    file,
                    at,
                    format!(
                        "`$ref: {reference}` is not a local reference (`#/...`); external references are not supported"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Set `value` at `ptr` in `root`, creating intermediate objects.
fn set_pointer(root: &mut Value, ptr: &str, value: Value) {
    let tokens: Vec<String> = ptr
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut cur = root;
    for (i, t) in tokens.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let map = cur.as_object_mut().expect("just made an object");
        if i + 1 == tokens.len() {
            map.insert(t.clone(), value);
            return;
        }
        cur = map
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Slice `doc` (loaded from `file`) to `operations`, keeping every `$ref` they reach. A kept
/// operation missing from `doc` is an error, unless `missing` collects it (the drift check reports
/// it as a removed operation).
pub fn slice(
    doc: &Value,
    operations: &[OperationKey],
    file: &Path,
    mut missing: Option<&mut Vec<OperationKey>>,
) -> Result<Value> {
    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(v) = doc.get(key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    let mut paths = Map::new();
    let mut used_tags = BTreeSet::new();
    for op in operations {
        let method = op.method.to_ascii_lowercase();
        let present = crate::nav::operation(doc, &op.path, &method).is_some();
        if let (false, Some(missing)) = (present, missing.as_deref_mut()) {
            missing.push(op.clone());
            continue;
        }
        let item = crate::nav::path_item(doc, &op.path).ok_or_else(|| {
            Error::at(
                ErrorKind::Invalid,
                file,
                pointer(["paths", op.path.as_str()]),
                format!(
                    "kept operation `{op}`: the document has no path `{}`",
                    op.path
                ),
            )
        })?;
        let operation = item.get(&method).ok_or_else(|| {
            Error::at(
                ErrorKind::Invalid,
                file,
                crate::nav::operation_pointer(&op.path, &method),
                format!("kept operation `{op}` is not in the document"),
            )
        })?;
        if let Some(tags) = operation.get("tags").and_then(Value::as_array) {
            used_tags.extend(tags.iter().filter_map(Value::as_str).map(str::to_string));
        }
        let entry = paths
            .entry(op.path.clone())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("path items are objects");
        // path-level fields apply to every operation of the item
        for (k, v) in item.as_object().into_iter().flatten() {
            if !crate::nav::is_method(k) {
                entry.insert(k.clone(), v.clone());
            }
        }
        entry.insert(method, operation.clone());
    }
    out.insert("paths".into(), Value::Object(paths));
    if let Some(tags) = doc.get("tags").and_then(Value::as_array) {
        let kept: Vec<Value> = tags
            .iter()
            .filter(|t| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| used_tags.contains(n))
            })
            .cloned()
            .collect();
        if !kept.is_empty() {
            out.insert("tags".into(), Value::Array(kept));
        }
    }
    let mut out = Value::Object(out);

    // security schemes named by any security requirement
    let mut schemes = BTreeSet::new();
    collect_security(&out, &mut schemes);
    for name in schemes {
        let p = pointer(["components", "securitySchemes", name.as_str()]);
        if let Some(v) = doc.pointer(&p) {
            set_pointer(&mut out, &p, v.clone());
        }
    }

    // every $ref reached, transitively: each target's own references read once, when it is
    // added (a chain of n references is n reads, not n walks of the growing slice)
    let mut done = BTreeSet::new();
    let mut refs = Vec::new();
    local_refs(&out, "", &mut refs);
    while !refs.is_empty() {
        let mut next = Vec::new();
        for (at, reference) in std::mem::take(&mut refs) {
            let Some(p) = ref_pointer(&reference) else {
                return Err(Error::at(
                    ErrorKind::BrokenRef,
                    file,
                    at,
                    format!("`$ref: {reference}` is not a local reference"),
                ));
            };
            if !done.insert(p.clone()) {
                continue;
            }
            let target = doc.pointer(&p).ok_or_else(|| {
                Error::at(
                    ErrorKind::BrokenRef,
                    file,
                    at.clone(),
                    format!("`$ref: {reference}` points at nothing in this document"),
                )
            })?;
            set_pointer(&mut out, &p, target.clone());
            local_refs(target, &p, &mut next);
        }
        refs = next;
    }
    order_components_like(&mut out, doc);
    Ok(out)
}

fn collect_security(v: &Value, out: &mut BTreeSet<String>) {
    let mut reqs = Vec::new();
    if let Some(s) = v.get("security") {
        reqs.push(s);
    }
    for (_, item) in crate::nav::path_items(v) {
        for (_, op) in item.as_object().into_iter().flatten() {
            if let Some(s) = op.get("security") {
                reqs.push(s);
            }
        }
    }
    for req in reqs.into_iter().filter_map(Value::as_array).flatten() {
        out.extend(
            req.as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone()),
        );
    }
}

/// Components are copied in the order refs were found; put them back in the vendor's order so the
/// output reads like the source and stays stable.
fn order_components_like(out: &mut Value, doc: &Value) {
    let Some(components) = out.get_mut("components").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(original) = doc.get("components").and_then(Value::as_object) else {
        return;
    };
    let mut ordered = Map::new();
    for (section, entries) in original {
        let Some(mut mine) = components.remove(section) else {
            continue;
        };
        let mut sorted = Map::new();
        if let (Some(mine), Some(entries)) = (mine.as_object_mut(), entries.as_object()) {
            for name in entries.keys() {
                if let Some(v) = mine.remove(name) {
                    sorted.insert(name.clone(), v);
                }
            }
        }
        ordered.insert(section.clone(), Value::Object(sorted));
    }
    *components = ordered;
}

/// Two sources may spell the same definition differently (`required: "true"` vs `true`), or
/// word its documentation differently: they agree if they are equal once mechanically
/// normalised and stripped of documentation (`description`, `summary`, `example(s)`,
/// `externalDocs`), which changes no generated type or call.
fn same_after_normalise(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let (mut a, mut b) = (a.clone(), b.clone());
    let mut ignored = crate::passes::Changes::default();
    for pass in [
        crate::passes::string_booleans,
        crate::passes::format_without_type,
    ] {
        pass(&mut a, &mut ignored);
        pass(&mut b, &mut ignored);
    }
    strip_documentation(&mut a, false);
    strip_documentation(&mut b, false);
    a == b
}

/// Remove documentation keywords. `names` is set for a map whose keys are names chosen by the
/// vendor (`properties`, media types, status codes...), where `description` is a name, not a
/// keyword.
fn strip_documentation(v: &mut Value, names: bool) {
    const DOCS: &[&str] = &[
        "description",
        "summary",
        "example",
        "examples",
        "externalDocs",
    ];
    match v {
        Value::Object(map) => {
            if !names {
                map.retain(|k, _| !DOCS.contains(&k.as_str()));
            }
            for (k, child) in map.iter_mut() {
                strip_documentation(child, !names && crate::nav::NAME_MAPS.contains(&k.as_str()));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| strip_documentation(i, false)),
        _ => {}
    }
}

/// Something two sources define differently: a component, or an entry of a path item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// JSON pointer of the definition (the same in both sources' documents).
    pub pointer: String,
    /// The source whose definition differs, and the earlier source whose definition is kept.
    pub source: String,
    /// The earlier source, whose definition is kept.
    pub earlier: String,
}

/// Merge slices into one document. The first slice gives `openapi`, `info`, `servers`,
/// `security`; paths and components are united. The same component defined differently by two
/// sources is an error naming both.
pub fn merge(slices: &[(String, Value)], file: &Path) -> Result<Value> {
    let (doc, conflicts) = merge_lenient(slices);
    match conflicts.first() {
        None => Ok(doc),
        Some(c) => Err(Error::at(
            ErrorKind::Invalid,
            file,
            c.pointer.clone(),
            if c.pointer.starts_with("/components/") {
                format!(
                    "source `{}` defines this component differently from an earlier source (`{}`); \
                     rename it in one of them",
                    c.source, c.earlier
                )
            } else {
                format!(
                    "source `{}` defines this differently from an earlier source (`{}`)",
                    c.source, c.earlier
                )
            },
        )),
    }
}

/// As [`merge`], but every conflict is returned (the earlier source's definition is kept), so
/// the drift check can report each of them beside the other findings.
pub fn merge_lenient(slices: &[(String, Value)]) -> (Value, Vec<Conflict>) {
    let mut out = Map::new();
    let mut conflicts = Vec::new();
    let Some((_, first)) = slices.first() else {
        return (Value::Object(out), conflicts);
    };
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(v) = first.get(key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    let mut tags: Vec<Value> = Vec::new();
    let mut paths = Map::new();
    let mut components = Map::new();
    // which source each definition came from
    let mut owner: std::collections::BTreeMap<String, String> = Default::default();
    for (name, slice) in slices {
        for t in slice
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        for (path, item) in crate::nav::path_items(slice) {
            let entry = paths
                .entry(path.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("path items are objects");
            for (k, v) in item.as_object().into_iter().flatten() {
                let at = pointer(["paths", path.as_str(), k.as_str()]);
                match entry.get(k) {
                    Some(existing) if !same_after_normalise(existing, v) => {
                        conflicts.push(Conflict {
                            earlier: owner.get(&at).cloned().unwrap_or_default(),
                            pointer: at,
                            source: name.clone(),
                        });
                    }
                    Some(_) => {} // the earlier source's spelling is kept
                    None => {
                        entry.insert(k.clone(), v.clone());
                        owner.insert(at, name.clone());
                    }
                }
            }
        }
        for (section, entries) in slice
            .get("components")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let target = components
                .entry(section.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("component sections are objects");
            for (k, v) in entries.as_object().into_iter().flatten() {
                let at = pointer(["components", section.as_str(), k.as_str()]);
                match target.get(k) {
                    Some(existing) if !same_after_normalise(existing, v) => {
                        conflicts.push(Conflict {
                            earlier: owner.get(&at).cloned().unwrap_or_default(),
                            pointer: at,
                            source: name.clone(),
                        });
                    }
                    Some(_) => {} // the earlier source's spelling is kept
                    None => {
                        target.insert(k.clone(), v.clone());
                        owner.insert(at, name.clone());
                    }
                }
            }
        }
    }
    if !tags.is_empty() {
        out.insert("tags".into(), Value::Array(tags));
    }
    out.insert("paths".into(), Value::Object(paths));
    if !components.is_empty() {
        out.insert("components".into(), Value::Object(components));
    }
    (Value::Object(out), conflicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(s: &str) -> OperationKey {
        OperationKey::parse(s).unwrap()
    }

    #[test]
    fn broken_refs_in_extensions_are_not_the_generators_concern() {
        let doc = serde_json::json!({
            "x-webhooks": {"a": {"post": {"requestBody": {"$ref": "#/nowhere"}}}},
            "components": {"schemas": {"A": {"properties": {"x-b": {"$ref": "#/nowhere"}}}}}
        });
        let e = check_refs(&doc, Path::new("d.yaml")).unwrap_err();
        assert_eq!(
            e.pointer(),
            Some("/components/schemas/A/properties/x-b/$ref")
        );
        let mut ok = doc.clone();
        ok["components"]["schemas"]["A"]["properties"] = serde_json::json!({});
        assert!(check_refs(&ok, Path::new("d.yaml")).is_ok());
    }

    #[test]
    fn refs_in_examples_are_values_but_a_property_named_example_is_a_schema() {
        // Square's examples hold JSON Schemas whose `$ref`s are URLs
        let doc = json!({"components": {"schemas": {"A": {
            "type": "object",
            "example": {"schema": {"$ref": "https://example.com/common.json#x"}},
            "properties": {"b": {"type": "string", "default": {"$ref": "#/nowhere"}}}
        }}}});
        assert!(check_refs(&doc, Path::new("d.yaml")).is_ok());
        let doc = json!({"components": {"schemas": {"A": {
            "properties": {"example": {"$ref": "#/nowhere"}}
        }}}});
        let e = check_refs(&doc, Path::new("d.yaml")).unwrap_err();
        assert_eq!(
            e.pointer(),
            Some("/components/schemas/A/properties/example/$ref")
        );
    }

    #[test]
    fn keeps_operation_and_transitive_refs_only() {
        let doc = json!({
            "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "paths": {
                "/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}},
                "/b": {"get": {"responses": {"200": {"description": "x"}}}}
            },
            "components": {
                "schemas": {"Unused": {}, "S": {"properties": {"t": {"$ref": "#/components/schemas/T"}}}, "T": {}},
                "responses": {"R": {"description": "r", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S"}}}}}
            }
        });
        let out = slice(&doc, &[key("GET /a")], Path::new("x"), None).unwrap();
        assert!(out["paths"].get("/b").is_none());
        let schemas: Vec<_> = out["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(schemas, ["S", "T"]);
        assert!(out["components"]["responses"].get("R").is_some());
    }

    #[test]
    fn missing_operation_and_broken_ref_are_located() {
        let doc = json!({"paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}});
        let e = slice(&doc, &[key("POST /a")], Path::new("x"), None).unwrap_err();
        let mut missing = Vec::new();
        slice(&doc, &[key("POST /a")], Path::new("x"), Some(&mut missing)).unwrap();
        assert_eq!(missing, [key("POST /a")]);
        assert_eq!(e.pointer(), Some("/paths/~1a/post"));
        let e = slice(&doc, &[key("GET /a")], Path::new("x"), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BrokenRef);
        assert_eq!(e.pointer(), Some("/paths/~1a/get/responses/200/$ref"));
    }

    #[test]
    fn merge_rejects_conflicting_components() {
        let a = json!({"paths": {}, "components": {"schemas": {"X": {"type": "string"}}}});
        let b = json!({"paths": {}, "components": {"schemas": {"X": {"type": "integer"}}}});
        let e = merge(&[("a".into(), a.clone()), ("b".into(), b)], Path::new("m")).unwrap_err();
        assert_eq!(e.pointer(), Some("/components/schemas/X"));
        assert!(merge(&[("a".into(), a.clone()), ("a2".into(), a)], Path::new("m")).is_ok());
        // equal once normalised: the first spelling is kept
        let c = json!({"paths": {}, "components": {"parameters": {"P": {"required": true}}}});
        let d = json!({"paths": {}, "components": {"parameters": {"P": {"required": "true"}}}});
        let m = merge(&[("c".into(), c), ("d".into(), d)], Path::new("m")).unwrap();
        assert_eq!(m["components"]["parameters"]["P"]["required"], true);
    }

    #[test]
    fn documentation_differences_are_not_conflicts_but_a_property_named_description_is() {
        let a = json!({"paths": {}, "components": {"parameters": {"count": {"name": "count", "in": "query",
            "description": "How many", "schema": {"type": "integer", "example": 5}}}}});
        let mut b = a.clone();
        b["components"]["parameters"]["count"]["description"] = json!("How many items");
        b["components"]["parameters"]["count"]["schema"]["example"] = json!(10);
        let (m, conflicts) = merge_lenient(&[("a".into(), a.clone()), ("b".into(), b)]);
        assert!(conflicts.is_empty());
        assert_eq!(
            m["components"]["parameters"]["count"]["description"],
            "How many"
        );
        let mut c = a.clone();
        c["components"]["parameters"]["count"]["schema"]["type"] = json!("string");
        let (_, conflicts) = merge_lenient(&[("a".into(), a), ("c".into(), c)]);
        assert_eq!(
            conflicts,
            [Conflict {
                pointer: "/components/parameters/count".into(),
                source: "c".into(),
                earlier: "a".into()
            }]
        );
        let p = |d: &str| json!({"paths": {}, "components": {"schemas": {"S": {"properties": {"description": {"type": d}}}}}});
        let (_, conflicts) =
            merge_lenient(&[("a".into(), p("string")), ("b".into(), p("integer"))]);
        assert_eq!(conflicts.len(), 1);
    }
}
