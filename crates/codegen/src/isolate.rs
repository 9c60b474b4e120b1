//! Failure isolation: when the generator cannot handle a document, find the parts that break it
//! (a component schema, an operation) and leave them out, together with everything that reaches
//! them, instead of failing the whole crate.
//!
//! Finding them is cheap, and each part is probed once: a document with only the components is
//! tried once; if it fails, the component schemas are tried alone with the schemas they
//! reference, smallest first, each verdict kept (a schema inside a closure that generated is not
//! tried again, one that reaches a failing schema is not the root of its failure). Then each
//! operation is tried alone ([`operation_alone`]: its parameters and request body with every
//! schema they reach, each schema only its answers reach replaced by any JSON, so that a probe
//! costs the operation's own size, not its answers' whole type graph). Only when no operation
//! fails alone, yet the document still does (the failure needs several parts together), are the
//! operations bisected (a failing half is split again) with their real components.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind, Result, escape_token};
use crate::nav;

/// An operation left out of the generated client, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `METHOD /path`.
    pub operation: String,
    /// What the generator said, or the component it reaches that could not be generated.
    pub reason: String,
}

/// A component left out of the generated client (with every operation that reaches it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Its pointer, `/components/schemas/<name>`.
    pub pointer: String,
    /// Why.
    pub reason: String,
}

/// One root cause of what isolation left out: a part the generator cannot handle, said once,
/// with what leaving it out cost ([`Isolated::causes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The component's pointer (`/components/schemas/<name>`) or the operation (`METHOD /path`).
    pub part: String,
    /// Why it cannot be generated.
    pub reason: String,
    /// The components left out for it: itself, and every component that reaches it.
    pub components: Vec<String>,
    /// The operations left out for it (an operation that is the cause is its own cost).
    pub operations: Vec<String>,
}

impl std::fmt::Display for Cause {
    /// `<part>: <reason> (cost: 3 components, 12 operations)`, on one line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "{}: {} (cost: {}, {})",
            crate::reason::visible(&self.part),
            crate::prose::comment_line(&self.reason),
            plural(self.components.len(), "component"),
            plural(self.operations.len(), "operation")
        )
    }
}

/// The reason given to what is left out because it reaches `pointer`: the cause itself is
/// said once, by the component's own entry ([`Isolated::causes`]).
fn reaching_reason(pointer: &str) -> String {
    format!(
        "reaches {}, which cannot be generated",
        crate::reason::visible(pointer)
    )
}

/// What isolation left out of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Isolated {
    /// Operations left out.
    pub skipped: Vec<Skipped>,
    /// Components left out.
    pub dropped: Vec<Dropped>,
}

/// How much isolation may do for one document: the values of every document the generator is
/// run on, summed, at most this many times the values of the document isolated (or
/// [`MIN_WORK`]). A document with many parts that fail, each reaching a large part, would
/// otherwise cost time quadratic in its size.
pub const WORK_FACTOR: usize = 64;
/// The least work isolation may do, whatever the document's size.
pub const MIN_WORK: usize = 20_000_000;

/// What isolation has done so far, against its budget.
struct Work {
    done: std::cell::Cell<usize>,
    budget: usize,
    /// Operations and component schemas that generated alone, by pointer: a later round (after
    /// other parts were left out, which only removes) does not probe them again.
    passed: std::cell::RefCell<BTreeSet<String>>,
}

impl Work {
    fn for_document(doc: &Value) -> Self {
        Work {
            done: Default::default(),
            budget: nav::node_count(doc)
                .saturating_mul(WORK_FACTOR)
                .max(MIN_WORK),
            passed: Default::default(),
        }
    }

    /// Count a run of the generator on `doc`; false once the budget is spent.
    fn spend(&self, doc: &Value) -> bool {
        self.done.set(self.done.get() + nav::node_count(doc));
        self.done.get() <= self.budget
    }

    fn exhausted(&self) -> bool {
        self.done.get() > self.budget
    }

    fn passed(&self, pointer: &str) -> bool {
        self.passed.borrow().contains(pointer)
    }

    fn pass(&self, pointers: impl IntoIterator<Item = String>) {
        self.passed.borrow_mut().extend(pointers);
    }
}

/// Run the generator on `doc` (parse as OpenAPI 3.0 + progenitor), without formatting. Past the
/// budget nothing runs and the probe fails (callers stop on [`Work::exhausted`]).
fn probe(doc: &Value, work: &Work) -> std::result::Result<(), String> {
    if !work.spend(doc) {
        return Err("isolation's work budget is spent".into());
    }
    let spec = crate::generate::parse_openapi(doc)
        .map_err(|(_, pointer, message)| format!("at {pointer}: {message}"))?;
    crate::generate::on_generator_stack(|| crate::generate::run_generator(&spec).map(|_| ()))
        .map_err(|e| e.message)?
}

/// `(section, name)` of a pointer `/components/<section>/<name>[/...]` (name unescaped).
fn component_of(pointer: &str) -> Option<(String, String)> {
    let mut parts = pointer.strip_prefix("/components/")?.split('/');
    let section = parts.next()?.to_string();
    let name = nav::unescape_token(parts.next()?);
    Some((section, name))
}

fn component_pointer(section: &str, name: &str) -> String {
    format!("/components/{section}/{}", escape_token(name))
}

/// The component pointers `v` reaches (each `$ref` target widened to its component).
fn reached_components(doc: &Value, v: &Value) -> BTreeSet<String> {
    nav::reachable_refs(doc, v)
        .iter()
        .filter_map(|p| component_of(p))
        .map(|(s, n)| component_pointer(&s, &n))
        .collect()
}

/// The document with only `schemas` (and what they reference) as components, and no paths.
fn schemas_only(doc: &Value, names: &[&str]) -> Value {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for n in names {
        let p = component_pointer("schemas", n);
        if let Some(v) = doc.pointer(&p) {
            keep.extend(reached_components(doc, v));
        }
        keep.insert(p);
    }
    let mut components: Map<String, Value> = Map::new();
    for p in keep {
        let (Some((section, name)), Some(v)) = (component_of(&p), doc.pointer(&p)) else {
            continue;
        };
        components
            .entry(section)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(name, v.clone());
    }
    json!({
        "openapi": doc.get("openapi").cloned().unwrap_or(json!("3.0.3")),
        "info": doc.get("info").cloned().unwrap_or(json!({"title": "t", "version": "1"})),
        "paths": {},
        "components": components,
    })
}

/// The document with only the operations `keep`, and only the components they reach (so that
/// probing a few operations of a large document is quick).
fn with_operations(doc: &Value, keep: &[(String, String)]) -> Value {
    let mut out = doc.clone();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    for (path, method) in keep {
        if let Some(item) = crate::nav::path_item(doc, path) {
            if let Some(op) = item.get(method) {
                reached.extend(reached_components(doc, op));
            }
            if let Some(params) = item.get("parameters") {
                reached.extend(reached_components(doc, params));
            }
        }
    }
    if let Some(Value::Object(components)) = out.get_mut("components") {
        for (section, entries) in components.iter_mut() {
            if let Value::Object(entries) = entries
                && section != "securitySchemes"
            {
                entries.retain(|name, _| reached.contains(&component_pointer(section, name)));
            }
        }
    }
    crate::nav::retain_operations(&mut out, |path, method, _| {
        keep.iter().any(|(p, m)| p == path && m == method)
    });
    out
}

/// Component schemas that fail alone (with what they reference), as `(pointer, message)`: only
/// the ones whose failure is their own, not one of a schema they reference.
///
/// Each schema's verdict is found once: schemas are tried smallest closure first; one inside the
/// closure of a schema that generated is good, and one whose closure holds a failing schema is
/// not a root (its failure is that schema's), so neither is tried again.
fn failing_schemas(doc: &Value, work: &Work) -> Vec<(String, String)> {
    let names: Vec<&str> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut closures: Vec<(&str, String, BTreeSet<String>)> = names
        .iter()
        .map(|n| {
            let p = component_pointer("schemas", n);
            let reached = doc
                .pointer(&p)
                .map(|v| reached_components(doc, v))
                .unwrap_or_default();
            (*n, p, reached)
        })
        .collect();
    closures.sort_by_key(|(_, _, reached)| reached.len());
    let mut bad: Vec<(String, String)> = Vec::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for (n, p, reached) in &closures {
        if work.passed(p) || reached.iter().any(|r| r != p && failed.contains(r)) {
            continue;
        }
        match probe(&schemas_only(doc, &[n]), work) {
            Ok(()) => work.pass(std::iter::once(p.clone()).chain(reached.iter().cloned())),
            Err(_) if work.exhausted() => return Vec::new(),
            Err(msg) => {
                failed.insert(p.clone());
                bad.push((p.clone(), msg));
            }
        }
    }
    bad
}

/// The document with only the operation `method` of `path` (with its path item's parameters)
/// and the components it reaches, for probing that operation alone. Every component schema
/// that only its answers reach (not its parameters nor its request body, whose types
/// progenitor inspects) is any JSON (`{}`) here: the answers' type graph was already proved
/// to generate with the components, and what fails in an operation is its own part (a
/// parameter style, a body's encoding, its own inline types), so the probe costs the size of
/// the operation, not that of every schema its answers reach.
fn operation_alone(doc: &Value, path: &str, method: &str) -> Value {
    let item = nav::path_item(doc, path);
    let op = item
        .and_then(|i| i.get(method))
        .cloned()
        .unwrap_or(Value::Null);
    let shared = item
        .and_then(|i| i.get("parameters"))
        .cloned()
        .unwrap_or(Value::Null);
    // what its parameters and request body reach stays as it is
    let mut real = reached_components(doc, &shared);
    for key in ["parameters", "requestBody"] {
        if let Some(v) = op.get(key) {
            real.extend(reached_components(doc, v));
        }
    }
    // the rest, up to the first schema of each path: that schema is any JSON here, so what
    // it references is not read (a response reaching half the document costs one `$ref`)
    let mut reached = real.clone();
    let mut todo = nav::direct_refs(&op);
    while let Some(target) = todo.pop() {
        let Some((section, name)) = component_of(&target) else {
            continue;
        };
        let p = component_pointer(&section, &name);
        if !reached.insert(p.clone()) || section == "schemas" {
            continue;
        }
        if let Some(v) = doc.pointer(&p) {
            todo.extend(nav::direct_refs(v));
        }
    }
    let mut components: Map<String, Value> = Map::new();
    if let Some(schemes) = doc.pointer("/components/securitySchemes") {
        components.insert("securitySchemes".into(), schemes.clone());
    }
    for p in &reached {
        let (Some((section, name)), Some(v)) = (component_of(p), doc.pointer(p)) else {
            continue;
        };
        let v = if section == "schemas" && !real.contains(p) {
            json!({})
        } else {
            v.clone()
        };
        components
            .entry(section)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(name, v);
    }
    let mut item_out = Map::new();
    if !shared.is_null() {
        item_out.insert("parameters".into(), shared);
    }
    item_out.insert(method.to_string(), op);
    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(v) = doc.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("paths".into(), json!({ path: Value::Object(item_out) }));
    out.insert("components".into(), Value::Object(components));
    Value::Object(out)
}

/// Operations among `ops` that fail when generated alone ([`operation_alone`]): each is
/// probed once.
fn failing_alone(
    doc: &Value,
    ops: &[(String, String)],
    work: &Work,
) -> Vec<((String, String), String)> {
    let mut out = Vec::new();
    for (path, method) in ops {
        let pointer = nav::operation_pointer(path, method);
        if work.passed(&pointer) {
            continue;
        }
        match probe(&operation_alone(doc, path, method), work) {
            Ok(()) => work.pass([pointer]),
            Err(_) if work.exhausted() => return Vec::new(),
            Err(msg) => out.push(((path.clone(), method.clone()), msg)),
        }
    }
    out
}

/// Operations among `ops` that fail, found by bisection. Empty when `ops` generate together, or
/// when the failure needs several operations together (no single culprit).
fn failing_operations(
    doc: &Value,
    ops: &[(String, String)],
    work: &Work,
) -> Vec<((String, String), String)> {
    match probe(&with_operations(doc, ops), work) {
        Ok(()) => Vec::new(),
        Err(_) if work.exhausted() => Vec::new(),
        // no operation left to blame: the failure is elsewhere (the document's frame, its
        // components); halving nothing would recurse until the stack overflows
        Err(_) if ops.is_empty() => Vec::new(),
        Err(msg) if ops.len() == 1 => vec![(ops[0].clone(), msg)],
        Err(_) => {
            let (a, b) = ops.split_at(ops.len() / 2);
            let mut out = failing_operations(doc, a, work);
            out.extend(failing_operations(doc, b, work));
            out
        }
    }
}

/// The parts of `doc` that make the generator fail: `(pointer, message)` of component schemas
/// or operations. Empty if none can be singled out.
pub fn culprits(doc: &Value) -> Vec<(String, String)> {
    culprits_within(doc, &Work::for_document(doc))
}

fn culprits_within(doc: &Value, work: &Work) -> Vec<(String, String)> {
    if let Err(msg) = probe(&schemas_only(doc, &[]), work) {
        if work.exhausted() {
            return Vec::new();
        }
        // the document's frame itself (info, servers, ...) fails
        return vec![(String::new(), msg)];
    }
    let names: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    if probe(&schemas_only(doc, &all), work).is_err() {
        let bad = failing_schemas(doc, work);
        if !bad.is_empty() || work.exhausted() {
            return bad;
        }
    }
    let ops: Vec<(String, String)> = nav::operations(doc)
        .into_iter()
        .map(|(p, m, _)| (p.to_string(), m.to_string()))
        .collect();
    let alone = failing_alone(doc, &ops, work);
    let failing = if alone.is_empty() && !work.exhausted() {
        // no operation fails alone: the failure needs several parts together
        failing_operations(doc, &ops, work)
    } else {
        alone
    };
    failing
        .into_iter()
        .map(|((p, m), msg)| (nav::operation_pointer(&p, &m), msg))
        .collect()
}

/// The components that reach `pointer` through any number of references (each component's
/// direct references read once, then followed backwards: linear in the document).
fn components_reaching(doc: &Value, pointer: &str) -> BTreeSet<String> {
    let mut referrers: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (section, entries) in doc
        .get("components")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (name, v) in entries.as_object().into_iter().flatten() {
            let from = component_pointer(section, name);
            for target in nav::direct_refs(v) {
                if let Some((s, n)) = component_of(&target) {
                    referrers
                        .entry(component_pointer(&s, &n))
                        .or_default()
                        .push(from.clone());
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![pointer.to_string()];
    while let Some(p) = todo.pop() {
        for r in referrers.get(&p).into_iter().flatten() {
            if seen.insert(r.clone()) {
                todo.push(r.clone());
            }
        }
    }
    seen.remove(pointer);
    seen
}

/// Remove the component at `pointer`, every component that reaches it and every operation that
/// reaches it (its own `$ref`s or its path item's parameters), recording them in `out`.
pub fn remove_component(doc: &mut Value, pointer: &str, reason: &str, out: &mut Isolated) {
    let reaching = components_reaching(doc, pointer);
    let mut components: Vec<String> = vec![pointer.to_string()];
    components.extend(reaching.iter().cloned());
    // a part of an operation reaches it when one of its own references is one of these
    let gone: BTreeSet<&str> = components.iter().map(String::as_str).collect();
    let reaches = |v: &Value| {
        nav::direct_refs(v).iter().any(|t| {
            component_of(t).is_some_and(|(s, n)| gone.contains(component_pointer(&s, &n).as_str()))
        })
    };
    // an error answer's body that reaches it is read as any JSON: the operation itself works
    let mut loosened = Vec::new();
    for (path, method, op) in nav::operations(doc) {
        for (code, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if code.starts_with('2') {
                continue;
            }
            if reaches(response) {
                loosened.push((path.to_string(), method.to_string(), code.clone()));
            }
        }
    }
    for (path, method, code) in loosened {
        let at = format!(
            "{}/responses/{}",
            nav::operation_pointer(&path, &method),
            escape_token(&code)
        );
        if let Some(response) = doc.pointer_mut(&at) {
            let description = response
                .get("description")
                .cloned()
                .unwrap_or_else(|| json!(""));
            *response = json!({"description": description, "content": {"application/json": {"schema": {
                "description": format!("Any JSON: the documented schema reaches {pointer}, which cannot be generated.")
            }}}});
        }
    }
    let mut ops = Vec::new();
    for (path, method, op) in nav::operations(doc) {
        let path_params = doc
            .pointer(&format!("/paths/{}/parameters", escape_token(path)))
            .cloned()
            .unwrap_or(Value::Null);
        if reaches(op) || reaches(&path_params) {
            ops.push((path.to_string(), method.to_string()));
        }
    }
    for (path, method) in ops {
        nav::remove_operation(doc, &path, &method);
        out.skipped.push(Skipped {
            operation: nav::operation_label(&path, &method),
            reason: reaching_reason(pointer),
        });
    }
    for c in components {
        if let Some((section, name)) = component_of(&c)
            && let Some(entries) = doc
                .pointer_mut(&format!("/components/{section}"))
                .and_then(Value::as_object_mut)
        {
            entries.remove(&name);
        }
        out.dropped.push(Dropped {
            reason: if c == pointer {
                crate::reason::visible(reason)
            } else {
                reaching_reason(pointer)
            },
            pointer: c,
        });
    }
}

/// Remove what `e` names (an operation, or a component with everything that reaches it);
/// when it names neither, find the culprits by probing. False when nothing could be removed.
fn remove_culprits(doc: &mut Value, e: &Error, out: &mut Isolated, work: &Work) -> bool {
    let named: Vec<(String, String)> = match e.pointer() {
        Some(p)
            if nav::operation_of(p).is_some()
                || component_of(p).is_some_and(|(_, n)| !n.is_empty()) =>
        {
            vec![(p.to_string(), e.message.clone())]
        }
        _ => culprits_within(doc, work),
    };
    let mut removed = false;
    for (pointer, message) in named {
        // one short line: progenitor's messages can carry a `Debug` dump of the whole part
        let message = crate::reason::one_line(&message);
        if let Some((path, method)) = nav::operation_of(&pointer) {
            if nav::remove_operation(doc, &path, &method).is_some() {
                out.skipped.push(Skipped {
                    operation: nav::operation_label(&path, &method),
                    reason: message,
                });
                removed = true;
            }
        } else if let Some((section, name)) = component_of(&pointer) {
            let c = component_pointer(&section, &name);
            if doc.pointer(&c).is_some() {
                remove_component(doc, &c, &message, out);
                removed = true;
            }
        }
    }
    removed
}

/// The first of [`culprits`]: the component or operation the generator fails on, named when the
/// generator fails on a whole document.
pub(crate) fn first_culprit(doc: &Value) -> Option<(String, String)> {
    culprits(doc).into_iter().next()
}

impl Isolated {
    /// Leave out the component at `pointer` of `doc` for `reason`, with every component and
    /// operation that reaches it, recording them here (as generation does for a component the
    /// generator cannot handle; `cargo xtask try` for one whose code does not compile).
    pub fn remove_component(&mut self, doc: &mut Value, pointer: &str, reason: &str) {
        remove_component(doc, pointer, reason, self)
    }

    /// What was left out, by root cause: each component that cannot be generated, with the
    /// components and operations that reach it, and each operation that cannot be generated on
    /// its own, in the order they were found. One line each ([`Cause`]'s `Display`), however
    /// many operations a cause cost.
    pub fn causes(&self) -> Vec<Cause> {
        let mut out: Vec<Cause> = Vec::new();
        for d in &self.dropped {
            match out
                .iter_mut()
                .find(|c| d.reason == reaching_reason(&c.part))
            {
                Some(cause) => cause.components.push(d.pointer.clone()),
                None => out.push(Cause {
                    part: d.pointer.clone(),
                    reason: d.reason.clone(),
                    components: vec![d.pointer.clone()],
                    operations: Vec::new(),
                }),
            }
        }
        for s in &self.skipped {
            match out
                .iter_mut()
                .find(|c| s.reason == reaching_reason(&c.part))
            {
                Some(cause) => cause.operations.push(s.operation.clone()),
                None => out.push(Cause {
                    part: s.operation.clone(),
                    reason: s.reason.clone(),
                    components: Vec::new(),
                    operations: vec![s.operation.clone()],
                }),
            }
        }
        out
    }
}

/// Generate `doc`, leaving out what the generator cannot handle (see the module docs). Fails
/// only when the failure cannot be traced to an operation or a component.
pub fn generate_isolating(doc: &mut Value, file: &Path) -> Result<(String, Isolated)> {
    let mut out = Isolated::default();
    let work = Work::for_document(doc);
    loop {
        work.spend(doc);
        match crate::generate::generate_with(doc, file, |_| None) {
            Ok(code) => return Ok((code, out)),
            Err(e) if matches!(e.kind, ErrorKind::Io | ErrorKind::Syntax) => return Err(e),
            Err(e) => {
                let removed = remove_culprits(doc, &e, &mut out, &work);
                if work.exhausted() {
                    return Err(Error::at(
                        ErrorKind::Unsupported,
                        file,
                        e.pointer().unwrap_or_default(),
                        format!(
                            "isolation stopped: it ran the generator on {WORK_FACTOR} times the \
                             document's size and {} parts were still failing ({} left out so \
                             far; the last failure: {})",
                            if removed { "more" } else { "some" },
                            out.dropped.len() + out.skipped.len(),
                            crate::reason::one_line(&e.message)
                        ),
                    ));
                }
                if !removed {
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {
                "/good": {"get": {"operationId": "good", "responses": {"200": {"description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Good"}}}}}}},
                "/bad": {"get": {"operationId": "bad", "responses": {"200": {"description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outer"}}}}}}},
                "/errs": {"get": {"operationId": "errs", "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Good"}}}},
                    "400": {"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Outer"}}}}}}}
            },
            "components": {"schemas": {
                "Good": {"type": "object", "properties": {"a": {"type": "string"}}},
                "Outer": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/Bad"}}},
                // typify cannot name variants made only of symbols
                "Bad": {"type": "string", "enum": ["=", "!=", "<", "<=", ">", ">=", "~", "!~", "^", "$"]}
            }}
        })
    }

    #[test]
    fn a_bad_schema_is_dropped_with_what_reaches_it() {
        let mut d = doc();
        let (code, isolated) = generate_isolating(&mut d, Path::new("x.yaml")).unwrap();
        assert!(code.contains("pub struct Good"), "{code}");
        assert_eq!(
            isolated
                .dropped
                .iter()
                .map(|d| d.pointer.as_str())
                .collect::<Vec<_>>(),
            ["/components/schemas/Bad", "/components/schemas/Outer"]
        );
        // an operation that reaches it only through an error answer stays, that body any JSON
        assert_eq!(isolated.skipped.len(), 1);
        assert_eq!(isolated.skipped[0].operation, "GET /bad");
        assert!(
            code.contains("pub async fn send(self)") && code.contains("errs"),
            "{code}"
        );
        assert!(
            d["paths"]["/errs"]["get"]["responses"]["400"]["content"]["application/json"]["schema"]
                .get("$ref")
                .is_none()
        );
        assert!(
            isolated.skipped[0]
                .reason
                .contains("/components/schemas/Bad"),
            "{:?}",
            isolated.skipped
        );
        // the cause is said once, with what it cost
        let causes = isolated.causes();
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].part, "/components/schemas/Bad");
        assert_eq!(
            causes[0].components,
            ["/components/schemas/Bad", "/components/schemas/Outer"]
        );
        assert_eq!(causes[0].operations, ["GET /bad"]);
        let line = causes[0].to_string();
        assert!(
            line.starts_with("/components/schemas/Bad: ")
                && line.ends_with("(cost: 2 components, 1 operation)"),
            "{line}"
        );
        // and not again beside each operation it cost
        assert!(
            !isolated.skipped[0].reason.contains(&causes[0].reason),
            "{:?}",
            isolated.skipped
        );
    }

    #[test]
    fn an_operation_that_fails_alone_is_its_own_cause() {
        let isolated = Isolated {
            skipped: vec![
                Skipped {
                    operation: "GET /a".into(),
                    reason: reaching_reason("/components/schemas/X"),
                },
                Skipped {
                    operation: "GET /b".into(),
                    reason: "generator panicked: no".into(),
                },
                Skipped {
                    operation: "GET /c".into(),
                    reason: reaching_reason("/components/schemas/X"),
                },
            ],
            dropped: vec![Dropped {
                pointer: "/components/schemas/X".into(),
                reason: "E0428".into(),
            }],
        };
        let lines: Vec<String> = isolated.causes().iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lines,
            [
                "/components/schemas/X: E0428 (cost: 1 component, 2 operations)",
                "GET /b: generator panicked: no (cost: 0 components, 1 operation)"
            ]
        );
    }

    #[test]
    fn culprits_name_the_schema() {
        let c = culprits(&doc());
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].0, "/components/schemas/Bad");
    }

    #[test]
    fn a_bad_operation_is_found_by_probing_it_alone() {
        let mut d = doc();
        d["components"]["schemas"]["Bad"] = json!({"type": "string"});
        // progenitor asserts on a path parameter that is not required
        for i in 0..9 {
            d["paths"][format!("/ok{i}")] = json!({"get": {"operationId": format!("ok{i}"),
                "responses": {"204": {"description": "none"}}}});
        }
        d["paths"]["/x/{id}"] = json!({"get": {"operationId": "x",
            "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
            "responses": {"204": {"description": "none"}}}});
        let c = culprits(&d);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].0, "/paths/~1x~1{id}/get");
    }
}
