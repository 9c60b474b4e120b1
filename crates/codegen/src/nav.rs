//! Navigating an OpenAPI document held as a `serde_json::Value`: JSON pointers, operations,
//! `$ref` resolution and the set of components a part of the document reaches. The one home
//! for this vocabulary in the codegen (the way progenitor's `util.rs` is for `$ref` and names).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub use crate::error::escape_token;

/// The HTTP methods an OpenAPI path item may have, lower case.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How many `$ref` hops [`resolve`] follows before giving up (a cycle of references).
pub const MAX_REF_HOPS: usize = 32;

/// The JSON pointer of an operation: `/paths/<escaped path>/<method>`.
pub fn operation_pointer(path: &str, method: &str) -> String {
    format!("/paths/{}/{method}", escape_token(path))
}

/// Undo RFC 6901 escaping of one pointer token (`~1` is `/`, `~0` is `~`).
pub fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// `(path, method)` of a pointer `/paths/<path>/<method>[/...]` (method lower case).
pub fn operation_of(pointer: &str) -> Option<(String, String)> {
    let mut parts = pointer.strip_prefix("/paths/")?.split('/');
    let path = unescape_token(parts.next()?);
    let method = parts.next()?.to_string();
    is_method(&method).then_some((path, method))
}

/// `METHOD /path`, as operations are named in reports: one visible line, the path's control,
/// bidi and line-separator characters written as `\u{..}` escapes ([`crate::reason::visible`]).
pub fn operation_label(path: &str, method: &str) -> String {
    format!(
        "{} {}",
        crate::reason::visible(&method.to_ascii_uppercase()),
        crate::reason::visible(path)
    )
}

/// What identifies an operation across the passes: its method and its path with every template
/// parameter's name left out (`GET /bots/{}`), so a pass that renames `{target}` to `{bot}` (or
/// merges two spellings of one route) keeps it the same operation.
pub fn route_key(path: &str, method: &str) -> String {
    let mut key = method.to_ascii_uppercase();
    key.push(' ');
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' if !in_param => {
                in_param = true;
                key.push('{');
            }
            '}' if in_param => {
                in_param = false;
                key.push('}');
            }
            _ if in_param => {}
            _ => key.push(c),
        }
    }
    key
}

/// The operations of `before` (`(path, method)`) that `after` no longer has. An operation is
/// matched by its [`route_key`], so one a pass moved is still there; of several with one route
/// key (two spellings of one route), as many as `after` lost are missing, the later ones first.
pub fn missing_operations(before: &[(String, String)], after: &Value) -> Vec<(String, String)> {
    let mut left: std::collections::BTreeMap<String, usize> = Default::default();
    for (p, m, _) in operations(after) {
        *left.entry(route_key(p, m)).or_default() += 1;
    }
    // the operations still spelled as before keep their place first
    let mut missing = Vec::new();
    let mut unmatched = Vec::new();
    for (p, m) in before {
        let here = after
            .get("paths")
            .and_then(|x| x.get(p))
            .and_then(|i| i.get(m))
            .is_some();
        let n = left.entry(route_key(p, m)).or_default();
        if here && *n > 0 {
            *n -= 1;
        } else {
            unmatched.push((p.clone(), m.clone()));
        }
    }
    for (p, m) in unmatched {
        let n = left.entry(route_key(&p, &m)).or_default();
        if *n > 0 {
            *n -= 1;
        } else {
            missing.push((p, m));
        }
    }
    missing
}

/// The Rust type name typify (and progenitor, for operation ids) gives a schema named or titled
/// `name`: its `sanitize` in Pascal case (heck's word boundaries).
pub fn type_name(name: &str) -> String {
    use heck::ToPascalCase;
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = cleaned.to_pascal_case();
    match out.chars().next() {
        None => "X".into(),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("X{out}"),
    }
}

/// Every operation of `doc`: `(path, method, operation)`, in document order.
pub fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut out = Vec::new();
    for (path, item) in path_items(doc) {
        for (method, op) in item.as_object().into_iter().flatten() {
            if is_method(method) {
                out.push((path.as_str(), method.as_str(), op));
            }
        }
    }
    out
}

/// Every operation of `doc`: `(path, method, operation object)`.
pub fn operations_mut(doc: &mut Value) -> Vec<(String, String, &mut Map<String, Value>)> {
    let mut out = Vec::new();
    for (path, item) in path_items_mut(doc) {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if let (true, Some(op)) = (is_method(method), op.as_object_mut()) {
                out.push((path.clone(), method.clone(), op));
            }
        }
    }
    out
}

/// Is `key` of a path item an operation (an HTTP method, lower case), not `parameters`,
/// `summary`, `$ref` or an extension?
pub fn is_method(key: &str) -> bool {
    METHODS.contains(&key)
}

/// The `paths` object of `doc`, if it has one.
pub fn paths(doc: &Value) -> Option<&Map<String, Value>> {
    doc.get("paths").and_then(Value::as_object)
}

/// The `paths` object of `doc`, to change: for passes that move or merge whole path items.
pub fn paths_mut(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    doc.get_mut("paths").and_then(Value::as_object_mut)
}

/// Every path item of `doc`: `(path, item)`, in document order.
pub fn path_items(doc: &Value) -> impl Iterator<Item = (&String, &Value)> {
    paths(doc).into_iter().flatten()
}

/// Every path item of `doc`, to change: `(path, item)`, in document order.
pub fn path_items_mut(doc: &mut Value) -> impl Iterator<Item = (&String, &mut Value)> {
    paths_mut(doc).into_iter().flatten()
}

/// A path item's parameter lists, in its keys' order: its own `parameters` (`None`: every
/// operation's) and each operation's (`Some(method)`). Whatever is not a list is skipped.
pub fn parameter_lists(item: &Value) -> impl Iterator<Item = (Option<&str>, &Vec<Value>)> {
    item.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.as_str() {
            "parameters" => Some((None, v.as_array()?)),
            m if is_method(m) => Some((Some(m), v.get("parameters")?.as_array()?)),
            _ => None,
        })
}

/// [`parameter_lists`], to change.
pub fn parameter_lists_mut(
    item: &mut Value,
) -> impl Iterator<Item = (Option<&str>, &mut Vec<Value>)> {
    item.as_object_mut()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.as_str() {
            "parameters" => Some((None, v.as_array_mut()?)),
            m if is_method(m) => Some((Some(m), v.get_mut("parameters")?.as_array_mut()?)),
            _ => None,
        })
}

/// The path item of `path` in `doc`.
pub fn path_item<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    paths(doc)?.get(path)
}

/// The path item of `path` in `doc`, to change.
pub fn path_item_mut<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Map<String, Value>> {
    paths_mut(doc)?.get_mut(path)?.as_object_mut()
}

/// The operation `method` (lower case) of `path` in `doc`.
pub fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> Option<&'a Value> {
    path_item(doc, path)?.get(method)
}

/// Keep the operations of `doc` for which `keep(path, method, operation)` says so, in order;
/// then remove every path item left without an operation.
pub fn retain_operations(doc: &mut Value, mut keep: impl FnMut(&str, &str, &Value) -> bool) {
    let Some(paths) = paths_mut(doc) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if let Some(item) = item.as_object_mut() {
            item.retain(|method, op| !is_method(method) || keep(path, method, op));
        }
    }
    paths.retain(|_, item| {
        item.as_object()
            .is_none_or(|m| m.keys().any(|k| is_method(k)))
    });
}

/// How many operations `doc` has.
pub fn count_operations(doc: &Value) -> usize {
    operations(doc).len()
}

/// Remove the operation `method` of `path` (and the path item when it has no operation left).
/// Returns the operation removed.
pub fn remove_operation(doc: &mut Value, path: &str, method: &str) -> Option<Value> {
    let paths = paths_mut(doc)?;
    let item = paths.get_mut(path)?.as_object_mut()?;
    let removed = item.remove(method);
    if !item.keys().any(|k| is_method(k)) {
        paths.remove(path);
    }
    removed
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decode a `$ref` value into a JSON pointer into the same document, or an error.
pub fn ref_pointer(reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    Some(percent_decode(fragment))
}

/// Follow `$ref`s from `v` (up to [`MAX_REF_HOPS`]) to the value they name; a reference that
/// names nothing leaves the last value reached.
pub fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    resolve_at(doc, v, "").0
}

/// [`resolve`], also giving the pointer of the value reached (`at`, the pointer of `v`, when
/// `v` is no reference).
pub fn resolve_at<'a>(doc: &'a Value, v: &'a Value, at: &str) -> (&'a Value, String) {
    let (mut v, mut at) = (v, at.to_string());
    for _ in 0..MAX_REF_HOPS {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(ref_pointer)
            .and_then(|p| doc.pointer(&p).map(|t| (t, p)))
        {
            Some((t, p)) => (v, at) = (t, p),
            None => break,
        }
    }
    (v, at)
}

/// How deep composition may nest: `allOf`/`oneOf`/`anyOf`/`not` members and the `$ref`s between
/// them, which typify resolves by recursion (merging an `allOf` reads what its members refer
/// to). Real documents stay under ten; the bound keeps the generator's recursion, and so its
/// stack, bounded whatever the document says.
pub const MAX_COMPOSITION_DEPTH: usize = 64;

/// A structure of references the generator cannot build: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefProblem {
    /// JSON pointer of the `$ref` or schema at fault.
    pub pointer: String,
    /// What is wrong, with the pointers involved.
    pub message: String,
}

/// Is `at` (a JSON pointer) inside an extension (`x-...`, but not a property named so)? The
/// generator never reads what is there.
pub fn in_extension(at: &str) -> bool {
    let tokens: Vec<&str> = at.split('/').collect();
    tokens
        .iter()
        .enumerate()
        .any(|(i, t)| t.starts_with("x-") && (i == 0 || tokens[i - 1] != "properties"))
}

/// Refuse what the generator would loop, recurse or overflow on, before it runs: a cycle of
/// `$ref`s (`P0: {$ref: P0}`, `R0 -> R1 -> R0`, of any component kind), a chain of more than
/// [`MAX_REF_HOPS`] references, a schema that is its own `allOf`/`oneOf`/`anyOf`/`not`
/// member (through any number of references: `A: oneOf [allOf [A, ...]]`), and composition
/// nested deeper than [`MAX_COMPOSITION_DEPTH`]. Recursion through `properties`, `items` or
/// `additionalProperties` (a tree) is a type like any other and stays. One walk of the
/// document and one visit of each reference and composed schema: linear in its size.
pub fn check_ref_graph(doc: &Value) -> Result<(), RefProblem> {
    let mut sites = Vec::new();
    local_refs(doc, "", &mut sites);
    let target = |at: &str| -> Option<String> {
        doc.pointer(at)?
            .get("$ref")?
            .as_str()
            .and_then(ref_pointer)
            .filter(|p| doc.pointer(p).is_some())
    };
    // chains of references: each pointer's chain length once (memo), cycles by the path
    let mut hops: std::collections::HashMap<String, usize> = Default::default();
    for (site, _) in sites.iter().filter(|(at, _)| !in_extension(at)) {
        let object = site.trim_end_matches("/$ref").to_string();
        let mut path: Vec<String> = Vec::new();
        let mut on_path: BTreeSet<String> = BTreeSet::new();
        let mut cur = object;
        let base = loop {
            if let Some(&n) = hops.get(&cur) {
                break n;
            }
            let Some(next) = target(&cur) else {
                break 0;
            };
            if !on_path.insert(cur.clone()) {
                let from = path.iter().position(|p| *p == cur).unwrap_or(0);
                let mut cycle: Vec<&str> = path[from..].iter().map(String::as_str).collect();
                cycle.push(&cur);
                return Err(RefProblem {
                    pointer: format!("{}/$ref", path[from]),
                    message: format!("a cycle of references: {}", cycle.join(" -> ")),
                });
            }
            path.push(cur);
            cur = next;
        };
        for (i, p) in path.iter().enumerate().rev() {
            let n = base + (path.len() - i);
            if n > MAX_REF_HOPS {
                return Err(RefProblem {
                    pointer: format!("{p}/$ref"),
                    message: format!(
                        "a chain of {n} references (more than {MAX_REF_HOPS}) starts here"
                    ),
                });
            }
            hops.insert(p.clone(), n);
        }
    }
    // composition: depth-first over members and references, each node once
    let mut starts = Vec::new();
    composed(doc, &mut String::new(), &mut starts);
    let members = |at: &str| -> Vec<String> {
        let Some(v) = doc.pointer(at) else {
            return Vec::new();
        };
        // an alternative extending its own choice is inheritance, which the
        // `inheritance-cycles` pass rewrites before the generator runs: not a member here
        let mut out: Vec<String> = target(at)
            .filter(|_| !crate::passes::inheritance::is_extension_of_a_union(doc, at))
            .into_iter()
            .collect();
        for key in ["allOf", "oneOf", "anyOf"] {
            for i in 0..v.get(key).and_then(Value::as_array).map_or(0, Vec::len) {
                out.push(format!("{at}/{key}/{i}"));
            }
        }
        if v.get("not").is_some_and(Value::is_object) {
            out.push(format!("{at}/not"));
        }
        out
    };
    enum Mark {
        Open,
        Depth(usize),
    }
    let mut marks: std::collections::HashMap<String, Mark> = Default::default();
    for start in starts {
        if marks.contains_key(&start) {
            continue;
        }
        // (node, its members, next member to visit, deepest member so far)
        let mut stack: Vec<(String, Vec<String>, usize, usize)> = Vec::new();
        marks.insert(start.clone(), Mark::Open);
        stack.push((start.clone(), members(&start), 0, 0));
        while let Some(top) = stack.last_mut() {
            if top.2 < top.1.len() {
                let child = top.1[top.2].clone();
                top.2 += 1;
                match marks.get(&child) {
                    Some(Mark::Depth(d)) => top.3 = top.3.max(*d),
                    Some(Mark::Open) => {
                        let from = stack.iter().position(|f| f.0 == child).unwrap_or(0);
                        let mut cycle: Vec<&str> =
                            stack[from..].iter().map(|f| f.0.as_str()).collect();
                        cycle.push(&child);
                        return Err(RefProblem {
                            pointer: child.clone(),
                            message: format!(
                                "a schema composed of itself (allOf/oneOf/anyOf/not through references): {}",
                                cycle.join(" -> ")
                            ),
                        });
                    }
                    None => {
                        marks.insert(child.clone(), Mark::Open);
                        let m = members(&child);
                        stack.push((child, m, 0, 0));
                    }
                }
                continue;
            }
            let (node, _, _, deepest) = stack.pop().expect("not empty");
            // a level is a schema that composes; a `$ref` between them is not one
            let composes = doc.pointer(&node).is_some_and(|v| {
                ["allOf", "oneOf", "anyOf", "not"]
                    .iter()
                    .any(|k| v.get(*k).is_some())
            });
            let depth = deepest + usize::from(composes);
            if depth > MAX_COMPOSITION_DEPTH {
                return Err(RefProblem {
                    pointer: node,
                    message: format!(
                        "composition nested {depth} deep (schemas made of allOf/oneOf/anyOf/not members, through references; at most {MAX_COMPOSITION_DEPTH})"
                    ),
                });
            }
            marks.insert(node, Mark::Depth(depth));
            if let Some(parent) = stack.last_mut() {
                parent.3 = parent.3.max(depth);
            }
        }
    }
    Ok(())
}

/// Push the pointer of every object that refers or composes (`$ref`, `allOf`, `oneOf`,
/// `anyOf`, `not`), outside extensions.
fn composed(v: &Value, at: &mut String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if ["$ref", "allOf", "oneOf", "anyOf", "not"]
                .iter()
                .any(|k| map.contains_key(*k))
            {
                out.push(at.clone());
            }
            for (k, child) in map {
                // extensions are never read by the generator; data (`example`) is walked
                // too: a `$ref` there is checked like any other (see `slice::check_refs`)
                if k.starts_with("x-") && !at.ends_with("/properties") {
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&escape_token(k));
                composed(child, at, out);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                composed(child, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// How many values `v` holds (itself, and every object member and array item inside it).
pub fn node_count(v: &Value) -> usize {
    let mut count = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        count += 1;
        match v {
            Value::Object(map) => stack.extend(map.values()),
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    count
}

/// The pointers of every local `$ref` target reachable from `start`, following references
/// through the document (each target once, so cycles end).
pub fn reachable_refs(doc: &Value, start: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    collect_refs(start, &mut todo);
    while let Some(p) = todo.pop() {
        if !seen.insert(p.clone()) {
            continue;
        }
        if let Some(target) = doc.pointer(&p) {
            collect_refs(target, &mut todo);
        }
    }
    seen
}

/// The pointers of the local `$ref` targets directly inside `v` (not followed further).
pub fn direct_refs(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_refs(v, &mut out);
    out
}

/// Push the pointer of every local `$ref` inside `v` (one [`walk`]: data such as an `example`
/// holds no reference, a property named `example` is a schema like any other).
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    walk(v, "", &mut |map, _| {
        if let Some(p) = map
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(ref_pointer)
        {
            out.push(p);
        }
        // typify reads this extension: its type parameters are schemas (the
        // open-response-enums pass writes `OpenEnum<$ref>`)
        if let Some(params) = map.get("x-rust-type").and_then(|x| x.get("parameters")) {
            collect_refs(params, out);
        }
    });
}

/// Keys whose values are data (examples, defaults, enum values), never a schema or another
/// OpenAPI object, where they are keywords (the keys of a [`NAME_MAPS`] map are names).
pub const DATA_KEYS: &[&str] = &["example", "examples", "default", "enum", "const"];

/// Maps whose keys are names the vendor chose (a property, a status code, a media type, a
/// header, a server variable ...), never keywords: a property named `default`, `example` or
/// `x-id` is a schema like any other. So are the maps of `components` (a schema named `enum`)
/// and the root's `paths` and `webhooks`.
pub const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "headers",
    "content",
    "responses",
    "encoding",
    "links",
    "callbacks",
    "mapping",
    "variables",
];

/// Keys whose subtrees are data (examples, defaults, enum values) or extensions, never schema,
/// where they are keywords.
pub fn is_data_key(key: &str) -> bool {
    DATA_KEYS.contains(&key) || key.starts_with("x-")
}

/// Is the pointer `at` inside data (an example, a default, enum values) or an extension, by
/// the rule [`walk_mut`] walks by: a `$ref` there is a value, not a reference.
pub fn in_data(at: &str) -> bool {
    let mut prefix = String::new();
    let mut names = false;
    for token in at.split('/').skip(1) {
        if names {
            names = false;
        } else {
            match child_of(&prefix, &unescape_token(token)) {
                None => return true,
                Some(n) => names = n,
            }
        }
        prefix.push('/');
        prefix.push_str(token);
    }
    false
}

/// What the value of `key` in the keyword object at `at` is: `None` data or an extension (not
/// walked), `Some(true)` a map of names, `Some(false)` keywords (an object or an array).
fn child_of(at: &str, key: &str) -> Option<bool> {
    if is_data_key(key) {
        return None;
    }
    Some(
        NAME_MAPS.contains(&key)
            || at == "/components"
            || (at.is_empty() && matches!(key, "paths" | "webhooks")),
    )
}

/// The one walk over a document (or a part of it at pointer `at`): `f` sees every object that
/// is an OpenAPI object or a schema, with its JSON pointer, parents before children. The rule
/// for what is walked lives here only: data ([`DATA_KEYS`]) and extensions (`x-...`) are not;
/// the keys of a name map ([`NAME_MAPS`], the maps of `components`, `paths`) are names, so
/// whatever they are called, their values are walked. `f` may change the object it is given;
/// the walk then goes on into the object as changed.
pub fn walk_mut(v: &mut Value, at: &str, f: &mut dyn FnMut(&mut Map<String, Value>, &str)) {
    let mut at = at.to_string();
    walk_mut_at(v, &mut at, false, f);
}

fn walk_mut_at(
    v: &mut Value,
    at: &mut String,
    names: bool,
    f: &mut dyn FnMut(&mut Map<String, Value>, &str),
) {
    match v {
        Value::Object(map) => {
            if !names {
                f(map, at);
            }
            for (k, child) in map.iter_mut() {
                let child_names = if names {
                    false
                } else {
                    match child_of(at, k) {
                        Some(n) => n,
                        None => continue,
                    }
                };
                let len = at.len();
                at.push('/');
                at.push_str(&escape_token(k));
                walk_mut_at(child, at, child_names, f);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                walk_mut_at(child, at, false, f);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// [`walk_mut`], reading.
pub fn walk(v: &Value, at: &str, f: &mut dyn FnMut(&Map<String, Value>, &str)) {
    let mut at = at.to_string();
    walk_at(v, &mut at, false, f);
}

fn walk_at(v: &Value, at: &mut String, names: bool, f: &mut dyn FnMut(&Map<String, Value>, &str)) {
    match v {
        Value::Object(map) => {
            if !names {
                f(map, at);
            }
            for (k, child) in map {
                let child_names = if names {
                    false
                } else {
                    match child_of(at, k) {
                        Some(n) => n,
                        None => continue,
                    }
                };
                let len = at.len();
                at.push('/');
                at.push_str(&escape_token(k));
                walk_at(child, at, child_names, f);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                walk_at(child, at, false, f);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// The JSON media type among `content`'s keys: `application/json`, else the first `*/*+json` or
/// `*json*` one.
pub fn json_media_type(content: &serde_json::Map<String, Value>) -> Option<&str> {
    content
        .keys()
        .find(|k| *k == "application/json")
        .or_else(|| content.keys().find(|k| k.ends_with("+json")))
        .or_else(|| content.keys().find(|k| k.contains("json")))
        .map(String::as_str)
}

/// Every local `$ref` (`#/...`) found under `value`, with the JSON pointer of the `$ref` itself.
pub fn local_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Value::String(r) = v {
                        out.push((format!("{at}/$ref"), r.clone()));
                    }
                } else {
                    local_refs(v, &format!("{at}/{}", escape_token(k)), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                local_refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retain_operations_keeps_order_and_drops_emptied_path_items() {
        let mut doc = json!({"paths": {
            "/a": {"parameters": [], "get": {"x": 1}, "put": {"x": 2}, "post": {"x": 3}},
            "/b": {"delete": {"x": 4}},
            "/c": {"summary": "no operation at all"}
        }});
        let mut seen = Vec::new();
        retain_operations(&mut doc, |path, method, op| {
            seen.push(operation_label(path, method));
            op["x"] != json!(1) && op["x"] != json!(4)
        });
        // every operation asked about once, and nothing else (not `parameters`, not `summary`)
        assert_eq!(seen, ["GET /a", "PUT /a", "POST /a", "DELETE /b"]);
        // what is kept keeps its order; a path item left without operations goes, as does one
        // that never had any
        let a: Vec<&String> = doc["paths"]["/a"].as_object().unwrap().keys().collect();
        assert_eq!(a, ["parameters", "put", "post"]);
        let paths: Vec<&String> = paths(&doc).unwrap().keys().collect();
        assert_eq!(paths, ["/a"]);
        assert_eq!(operation(&doc, "/a", "post"), Some(&json!({"x": 3})));
        assert!(operation(&doc, "/a", "get").is_none());
    }

    #[test]
    fn pointers_round_trip_and_name_operations() {
        let p = operation_pointer("/a/{b}~c", "get");
        assert_eq!(p, "/paths/~1a~1{b}~0c/get");
        assert_eq!(
            operation_of(&format!("{p}/responses/200")),
            Some(("/a/{b}~c".to_string(), "get".to_string()))
        );
        assert_eq!(operation_of("/paths/~1a/parameters"), None);
        assert_eq!(operation_label("/a", "patch"), "PATCH /a");
        assert_eq!(
            operation_label("/a\n\u{1b}[2J\u{202e}", "get"),
            "GET /a\\u{000a}\\u{001b}[2J\\u{202e}"
        );
    }

    #[test]
    fn route_keys_ignore_parameter_names() {
        assert_eq!(route_key("/bots/{target}/x", "delete"), "DELETE /bots/{}/x");
        assert_eq!(
            route_key("/a/{x}.{y}", "get"),
            route_key("/a/{first}.{second}", "get")
        );
        assert_ne!(route_key("/a/{x}", "get"), route_key("/a/{x}", "put"));
        assert_ne!(route_key("/a/{x}", "get"), route_key("/b/{x}", "get"));
    }

    #[test]
    fn missing_operations_follow_moves_and_count_merges() {
        let before: Vec<(String, String)> = [("/a/{x}", "get"), ("/a/{y}", "get"), ("/b", "put")]
            .iter()
            .map(|(p, m)| (p.to_string(), m.to_string()))
            .collect();
        // `/a/{y}` renamed to `/a/{z}`: nothing missing
        let moved = serde_json::json!({"paths": {"/a/{x}": {"get": {}}, "/a/{z}": {"get": {}}, "/b": {"put": {}}}});
        assert!(missing_operations(&before, &moved).is_empty());
        // one of the two spellings gone: that one is missing, not the one still there
        let merged = serde_json::json!({"paths": {"/a/{x}": {"get": {}}, "/b": {"put": {}}}});
        assert_eq!(
            missing_operations(&before, &merged),
            [("/a/{y}".to_string(), "get".to_string())]
        );
        let removed = serde_json::json!({"paths": {"/a/{x}": {"get": {}}, "/a/{y}": {"get": {}}}});
        assert_eq!(
            missing_operations(&before, &removed),
            [("/b".to_string(), "put".to_string())]
        );
    }

    #[test]
    fn reachable_refs_follow_chains_and_stop_on_cycles() {
        let doc = json!({"components": {"schemas": {
            "A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}},
            "B": {"items": {"$ref": "#/components/schemas/A"}, "example": {"$ref": "#/nope"},
                  "properties": {"default": {"$ref": "#/components/schemas/C"}}},
            "C": {"x-rust-type": {"path": "x::Open", "parameters": [{"$ref": "#/components/schemas/E"}]}},
            "D": {}, "E": {}
        }}});
        let start = json!({"schema": {"$ref": "#/components/schemas/A"}});
        let got: Vec<String> = reachable_refs(&doc, &start).into_iter().collect();
        // a default answer is an answer
        let op = json!({"responses": {"default": {"$ref": "#/components/schemas/D"}}});
        assert_eq!(
            reachable_refs(&doc, &op).into_iter().collect::<Vec<_>>(),
            ["/components/schemas/D"]
        );
        // a property named `default` is a schema, an `example` is data
        assert_eq!(
            got,
            [
                "/components/schemas/A",
                "/components/schemas/B",
                "/components/schemas/C",
                "/components/schemas/E"
            ]
        );
    }

    #[test]
    fn resolve_follows_and_stops_at_cycles() {
        let doc = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"},
            "L": {"$ref": "#/components/schemas/L"}
        }}});
        let r = json!({"$ref": "#/components/schemas/A"});
        assert_eq!(resolve(&doc, &r), &json!({"type": "string"}));
        let l = json!({"$ref": "#/components/schemas/L"});
        assert_eq!(
            resolve(&doc, &l),
            &json!({"$ref": "#/components/schemas/L"})
        );
    }

    #[test]
    fn removing_the_last_operation_removes_the_path() {
        let mut doc = json!({"paths": {"/a": {"get": {}, "post": {}, "parameters": []}}});
        assert!(remove_operation(&mut doc, "/a", "get").is_some());
        assert!(doc["paths"]["/a"].get("post").is_some());
        remove_operation(&mut doc, "/a", "post");
        assert!(doc["paths"].get("/a").is_none());
    }

    fn schemas(schemas: Value) -> Value {
        json!({"openapi": "3.0.3", "components": {"schemas": schemas}})
    }

    fn problem(doc: &Value) -> RefProblem {
        check_ref_graph(doc).expect_err("refused")
    }

    #[test]
    fn reference_cycles_of_every_component_kind_are_refused_at_their_ref() {
        let p = problem(
            &json!({"components": {"parameters": {"P0": {"$ref": "#/components/parameters/P0"}}}}),
        );
        assert_eq!(p.pointer, "/components/parameters/P0/$ref");
        assert!(p.message.contains("cycle"), "{p:?}");
        let p = problem(&json!({"components": {"responses": {
            "R0": {"$ref": "#/components/responses/R1"},
            "R1": {"$ref": "#/components/responses/R0"}}}}));
        assert!(
            p.message.contains(
                "/components/responses/R0 -> /components/responses/R1 -> /components/responses/R0"
            ),
            "{p:?}"
        );
    }

    #[test]
    fn long_chains_are_refused_and_short_ones_pass() {
        let chain = |n: usize| {
            let mut m = serde_json::Map::new();
            for i in 0..n {
                m.insert(
                    format!("S{i}"),
                    json!({"$ref": format!("#/components/schemas/S{}", i + 1)}),
                );
            }
            m.insert(format!("S{n}"), json!({"type": "string"}));
            schemas(Value::Object(m))
        };
        assert_eq!(check_ref_graph(&chain(MAX_REF_HOPS)), Ok(()));
        let p = problem(&chain(50_000));
        assert!(p.message.contains("chain of 33 references"), "{p:?}");
    }

    #[test]
    fn a_schema_composed_of_itself_is_refused_and_a_tree_is_not() {
        let p = problem(&schemas(json!({"A": {"anyOf": [{"not": {
            "$ref": "#/components/schemas/A"}}, {"type": "object"}]}})));
        assert_eq!(p.pointer, "/components/schemas/A");
        assert!(p.message.contains("composed of itself"), "{p:?}");
        let tree = schemas(json!({"Node": {"type": "object", "properties": {
            "kids": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            "next": {"$ref": "#/components/schemas/Node"}}}}));
        assert_eq!(check_ref_graph(&tree), Ok(()));
    }

    #[test]
    fn composition_depth_is_bounded_and_shared_members_are_visited_once() {
        let nested = |n: usize, width: usize| {
            let mut m = serde_json::Map::new();
            for i in 0..n {
                let member = json!({"$ref": format!("#/components/schemas/S{}", i + 1)});
                m.insert(format!("S{i}"), json!({"oneOf": vec![member; width]}));
            }
            m.insert(format!("S{n}"), json!({"type": "integer"}));
            schemas(Value::Object(m))
        };
        // 2^60 paths, 60 levels: one visit each
        assert_eq!(
            check_ref_graph(&nested(MAX_COMPOSITION_DEPTH - 4, 2)),
            Ok(())
        );
        let p = problem(&nested(20_000, 1));
        assert!(p.message.contains("composition nested 65 deep"), "{p:?}");
    }
}
