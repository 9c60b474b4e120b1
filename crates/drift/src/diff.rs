//! A semantic diff of two OpenAPI documents' operations, each finding marked breaking or not for
//! a client. Vocabulary follows oasdiff where it can; the rules are in ARCHITECTURE.md's drift
//! table.
//!
//! Every finding carries the JSON pointer of the change: in the new document, or in the old one
//! for what was removed ([`Side`]). The caller turns it into a `file:line:col` of the vendor's
//! document with [`crate::positions_in_source`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use agentstatus_codegen::nav;
use agentstatus_codegen::nav::escape_token;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// An operation appeared.
    OperationAdded,
    /// An operation disappeared.
    OperationRemoved,
    /// An operation's `operationId` changed, appeared or disappeared: the generated method
    /// (and its builder) is named after it.
    OperationIdChanged,
    /// A parameter appeared.
    ParameterAdded,
    /// A parameter disappeared.
    ParameterRemoved,
    /// A parameter changed where it goes, whether it is required, or its schema.
    ParameterChanged,
    /// An object gained a property.
    PropertyAdded,
    /// An object lost a property.
    PropertyRemoved,
    /// A schema's type (or format) changed.
    TypeChanged,
    /// An enum gained a value.
    EnumValueAdded,
    /// An enum lost a value.
    EnumValueRemoved,
    /// A property or parameter became required, or optional.
    RequiredChanged,
    /// `maxLength`, `pattern`, `minimum`, `minItems`, ... added, removed or changed.
    ConstraintChanged,
    /// A `oneOf` / `anyOf` alternative added.
    VariantAdded,
    /// A `oneOf` / `anyOf` alternative removed.
    VariantRemoved,
    /// A request or response gained a media type.
    MediaTypeAdded,
    /// A request or response lost a media type.
    MediaTypeRemoved,
    /// An operation gained a response status.
    ResponseStatusAdded,
    /// An operation lost a response status.
    ResponseStatusRemoved,
    /// Authentication changed (a security scheme or requirement).
    AuthChanged,
    /// A security scheme the vendor declares but applies nowhere (an overlay may) changed.
    SecuritySchemeChanged,
    /// Two sources of one vendor now define a shared component differently: regen cannot merge
    /// them until a maintainer decides which is right.
    SourceConflict,
    /// A kept operation this project took from a docs page or wrote itself is now in one of
    /// the vendor's OpenAPI documents.
    OperationPublished,
}

/// Which document a finding's pointer is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The old (pinned) document: the change is a removal.
    Old,
    /// The new (current) document.
    #[default]
    New,
}

/// One semantic difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// `METHOD /path` (empty for a document-level change such as a security scheme).
    pub operation: String,
    /// What kind of change.
    pub change: ChangeKind,
    /// Where in the operation, e.g. `request body: status`, `response 200: agents[].status`,
    /// `query parameter sort`.
    pub location: String,
    /// The change in words (old and new values).
    pub detail: String,
    /// Whether it breaks the generated crate's users or build.
    pub breaking: bool,
    /// Whether the change reaches the generated client: it is also a change of the effective
    /// documents (normalised, the overlay applied). `false`: the overlay or the normaliser
    /// already made it, or override it. Absent where not judged (two documents compared
    /// without an overlay, a conflict between sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaches_client: Option<bool>,
    /// JSON pointer of the change in the document named by `side`.
    pub pointer: String,
    /// Which document `pointer` points into.
    pub side: Side,
    /// The vendor source (a `[[source]]` name of sources.toml) the change is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The vendor document the change is in (pinned copy, `--sources` file or URL) and the
    /// 1-based line and column of the change in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// 1-based line in `file`.
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// 1-based column in `file`.
    pub column: Option<usize>,
}

impl Finding {
    /// A finding with no position in a vendor file (added by the caller when known).
    pub fn new(
        operation: &str,
        change: ChangeKind,
        location: &str,
        detail: String,
        breaking: bool,
        (pointer, side): (&str, Side),
    ) -> Self {
        Finding {
            operation: operation.to_string(),
            change,
            location: location.to_string(),
            detail,
            breaking,
            reaches_client: None,
            pointer: pointer.to_string(),
            side,
            source: None,
            file: None,
            line: None,
            column: None,
        }
    }

    /// `file:line:col` (or just the file), if known.
    pub fn position(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            _ => file.to_string(),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// A value and its JSON pointer in its document.
#[derive(Clone)]
struct Node<'a> {
    v: &'a Value,
    p: String,
}

impl<'a> Node<'a> {
    fn new(v: &'a Value, p: String) -> Self {
        Node { v, p }
    }

    fn child(&self, key: &str) -> Option<Node<'a>> {
        let v = match self.v {
            Value::Object(m) => m.get(key)?,
            Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
        Some(Node::new(v, format!("{}/{}", self.p, escape_token(key))))
    }
}

/// Compare the operations of `old` and `new`.
pub fn diff(old: &Value, new: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let old_ops = operations(old);
    let new_ops = operations(new);
    for (key, (op, _)) in old_ops.iter().filter(|(k, _)| !new_ops.contains_key(*k)) {
        out.push(Finding::new(
            key,
            ChangeKind::OperationRemoved,
            "",
            "operation removed".into(),
            true,
            (&op.p, Side::Old),
        ));
    }
    for (key, (op, _)) in new_ops.iter().filter(|(k, _)| !old_ops.contains_key(*k)) {
        out.push(Finding::new(
            key,
            ChangeKind::OperationAdded,
            "",
            "operation added".into(),
            false,
            (&op.p, Side::New),
        ));
    }
    for (key, (old_op, old_item)) in &old_ops {
        let Some((new_op, new_item)) = new_ops.get(key) else {
            continue;
        };
        let mut cx = Cx {
            old,
            new,
            op: key.clone(),
            out: &mut out,
            stack: Vec::new(),
            visits: 0,
            compared: Default::default(),
        };
        cx.operation_id(old_op, new_op);
        cx.parameters(old_op, old_item, new_op, new_item);
        cx.security(old_op, new_op);
        cx.request_body(old_op, new_op);
        cx.responses(old_op, new_op);
    }
    out.sort();
    out
}

/// Changes to the security schemes a document declares but applies nowhere (no root or
/// operation `security` names them). Such a scheme matters when an overlay applies it, as
/// Engage Digital's does: a change there would otherwise go unseen, since the operations'
/// effective security is empty before and after. Pass whole documents, not slices (a slice
/// keeps only the schemes it applies).
pub fn diff_unapplied_security_schemes(old: &Value, new: &Value) -> Vec<Finding> {
    let schemes = |doc: &Value| -> BTreeMap<String, Value> {
        doc.pointer("/components/securitySchemes")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let mut applied = BTreeSet::new();
    for doc in [old, new] {
        for req in doc
            .get("security")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            applied.extend(
                req.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone()),
            );
        }
        for (op, _) in operations(doc).values() {
            for req in
                op.v.get("security")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            {
                applied.extend(
                    req.as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| k.clone()),
                );
            }
        }
    }
    let (o, n) = (schemes(old), schemes(new));
    let at = |name: &str| format!("/components/securitySchemes/{}", escape_token(name));
    let mut out = Vec::new();
    for (name, def) in &o {
        if applied.contains(name) {
            continue;
        }
        let location = format!("security scheme {name}");
        match n.get(name) {
            None => out.push(Finding::new(
                "",
                ChangeKind::SecuritySchemeChanged,
                &location,
                format!("security scheme {name} ({}) removed", scheme_label(def)),
                true,
                (&at(name), Side::Old),
            )),
            Some(now) if scheme_label(def) != scheme_label(now) => out.push(Finding::new(
                "",
                ChangeKind::SecuritySchemeChanged,
                &location,
                format!(
                    "security scheme {name} changed from {} to {}",
                    scheme_label(def),
                    scheme_label(now)
                ),
                true,
                (&at(name), Side::New),
            )),
            Some(_) => {}
        }
    }
    out.sort();
    out
}

/// `type:scheme:in:name`, what a client needs to authenticate.
fn scheme_label(def: &Value) -> String {
    let get = |k: &str| def.get(k).and_then(Value::as_str).unwrap_or("");
    format!(
        "{}:{}:{}:{}",
        get("type"),
        get("scheme"),
        get("in"),
        get("name")
    )
}

/// The snake-case name a generated method takes from an `operationId`: words split at
/// punctuation, at a lower-case letter or digit followed by an upper-case one, and at the last
/// capital of an acronym (`getHTTPStatus` -> `get_http_status`).
fn method_name(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let mut words: Vec<String> = vec![String::new()];
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            words.push(String::new());
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary {
            words.push(String::new());
        }
        words.last_mut().expect("one word").extend(c.to_lowercase());
    }
    words.retain(|w| !w.is_empty());
    words.join("_")
}

/// `METHOD /path` -> (operation, path item).
fn operations(doc: &Value) -> BTreeMap<String, (Node<'_>, Node<'_>)> {
    let mut out = BTreeMap::new();
    for (path, method, _) in nav::operations(doc) {
        let Some(item) = nav::path_item(doc, path) else {
            continue;
        };
        let item = Node::new(item, format!("/paths/{}", escape_token(path)));
        if let Some(op) = item.child(method) {
            out.insert(nav::operation_label(path, method), (op, item.clone()));
        }
    }
    out
}

/// Follow local `$ref`s ([`nav::resolve_at`]: bounded, so a cycle cannot loop).
fn resolve<'a>(doc: &'a Value, node: &Node<'a>) -> Node<'a> {
    let (v, p) = nav::resolve_at(doc, node.v, &node.p);
    Node::new(v, p)
}

/// Resolve refs and a single-element `allOf` wrapper (`{allOf: [$ref], nullable: true}`).
fn unwrap_schema<'a>(doc: &'a Value, schema: &Node<'a>) -> Node<'a> {
    let mut s = resolve(doc, schema);
    for _ in 0..8 {
        match s.v.get("allOf").and_then(Value::as_array) {
            Some(list) if list.len() == 1 => {
                let first = s
                    .child("allOf")
                    .and_then(|a| a.child("0"))
                    .expect("one item");
                s = resolve(doc, &first);
            }
            _ => break,
        }
    }
    s
}

/// The members of a several-element `allOf`, resolved.
fn all_of<'a>(doc: &'a Value, s: &Node<'a>) -> Vec<Node<'a>> {
    let Some(list) = s.v.get("allOf").and_then(Value::as_array) else {
        return Vec::new();
    };
    (0..list.len())
        .filter_map(|i| s.child("allOf").and_then(|a| a.child(&i.to_string())))
        .map(|m| unwrap_schema(doc, &m))
        .collect()
}

/// An object, or an `allOf` with an object member (8 levels of `allOf` at most, each schema
/// looked at once: `allOf` 20 wide and 8 deep reaches its leaf 20^8 times along its paths).
fn is_object_like(doc: &Value, s: &Node<'_>) -> bool {
    let mut seen = BTreeSet::new();
    let mut level = vec![s.clone()];
    for depth in 0..=8 {
        let mut next = Vec::new();
        for s in level {
            if !seen.insert(s.p.clone()) {
                continue;
            }
            if s.v.get("type").and_then(Value::as_str) == Some("object")
                || s.v.get("properties").is_some()
            {
                return true;
            }
            if depth < 8 {
                next.extend(all_of(doc, &s));
            }
        }
        level = next;
    }
    false
}

fn type_label(doc: &Value, schema: &Node<'_>) -> String {
    type_label_at(doc, schema, 0)
}

/// `depth` bounds nested arrays: `A: {type: array, items: {$ref: A}}` must not loop.
fn type_label_at(doc: &Value, schema: &Node<'_>, depth: usize) -> String {
    let s = unwrap_schema(doc, schema);
    let mut t = match s.v.get("type").and_then(Value::as_str) {
        Some("array") if depth > 16 => "array<...>".to_string(),
        Some("array") => {
            let items = s
                .child("items")
                .map(|i| type_label_at(doc, &i, depth + 1))
                .unwrap_or_else(|| "any".into());
            format!("array<{items}>")
        }
        Some(t) => t.to_string(),
        // `allOf: [A, {extra}]` is A with more properties, not a new type
        None if is_object_like(doc, &s) => "object".into(),
        None if s.v.get("oneOf").is_some() => "oneOf".into(),
        None if s.v.get("anyOf").is_some() => "anyOf".into(),
        None => "any".into(),
    };
    if let Some(f) = s.v.get("format").and_then(Value::as_str) {
        t = format!("{t}({f})");
    }
    if is_nullable(doc, schema) {
        t.push('?');
    }
    t
}

fn is_nullable(doc: &Value, schema: &Node<'_>) -> bool {
    resolve(doc, schema).v.get("nullable") == Some(&Value::Bool(true))
        || unwrap_schema(doc, schema).v.get("nullable") == Some(&Value::Bool(true))
}

/// Properties and required names of an object schema, `allOf` members included (8 levels at
/// most, each member schema once: `seen`).
fn object_view<'a>(
    doc: &'a Value,
    s: &Node<'a>,
    props: &mut BTreeMap<String, Node<'a>>,
    required: &mut BTreeSet<String>,
    depth: usize,
    seen: &mut BTreeSet<String>,
) {
    if depth > 8 || !seen.insert(s.p.clone()) {
        return;
    }
    if let Some(p) = s.child("properties") {
        for (name, _) in p.v.as_object().into_iter().flatten() {
            if let Some(n) = p.child(name) {
                props.entry(name.clone()).or_insert(n);
            }
        }
    }
    required.extend(
        s.v.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string)),
    );
    for m in all_of(doc, s) {
        object_view(doc, &m, props, required, depth + 1, seen);
    }
}

fn effective_security(doc: &Value, op: &Node<'_>) -> (BTreeSet<String>, String) {
    let (reqs, at) = match op.v.get("security") {
        Some(s) => (Some(s), format!("{}/security", op.p)),
        None => (doc.get("security"), "/security".to_string()),
    };
    let at = if reqs.is_some() { at } else { op.p.clone() };
    let mut out = BTreeSet::new();
    for req in reqs.and_then(Value::as_array).into_iter().flatten() {
        let names: Vec<String> = req
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| {
                // include the scheme's definition, so a renamed header shows
                let def = doc
                    .pointer(&format!(
                        "/components/securitySchemes/{}",
                        escape_token(name)
                    ))
                    .map(scheme_label)
                    .unwrap_or_default();
                format!("{name}({def})")
            })
            .collect();
        out.insert(names.join(" + "));
    }
    (out, at)
}

/// Constraint keywords, and whether a larger value is tighter.
const LOWER_BOUNDS: &[&str] = &["minimum", "minLength", "minItems", "minProperties"];
const UPPER_BOUNDS: &[&str] = &["maximum", "maxLength", "maxItems", "maxProperties"];

/// Did the constraint `key` get tighter (fewer values allowed) from `old` to `new`? `None` when
/// it did not change.
fn tightened(key: &str, old: Option<&Value>, new: Option<&Value>) -> Option<bool> {
    if old == new {
        return None;
    }
    let num = |v: Option<&Value>| v.and_then(Value::as_f64);
    let truthy = |v: Option<&Value>| v == Some(&Value::Bool(true));
    Some(match key {
        // OpenAPI 3.0: booleans; 3.1: the bound itself
        "exclusiveMinimum" | "exclusiveMaximum" | "uniqueItems"
            if old.is_none_or(Value::is_boolean) && new.is_none_or(Value::is_boolean) =>
        {
            if truthy(old) == truthy(new) {
                return None;
            }
            truthy(new)
        }
        k if LOWER_BOUNDS.contains(&k) || k == "exclusiveMinimum" => match (num(old), num(new)) {
            (Some(a), Some(b)) => b > a,
            (_, n) => n.is_some(),
        },
        k if UPPER_BOUNDS.contains(&k) || k == "exclusiveMaximum" => match (num(old), num(new)) {
            (Some(a), Some(b)) => b < a,
            (_, n) => n.is_some(),
        },
        // pattern, multipleOf: a new or different one may reject what the old accepted
        _ => new.is_some(),
    })
}

struct Cx<'a, 'o> {
    old: &'a Value,
    new: &'a Value,
    op: String,
    out: &'o mut Vec<Finding>,
    /// The (old, new) schema pointers being compared, outermost first: a pair met again is a
    /// cycle (`A: {oneOf: [{$ref: A}]}`), already being compared.
    stack: Vec<(String, String)>,
    /// Schema comparisons made for this operation ([`SCHEMA_VISITS`]).
    visits: usize,
    /// The (old, new) pairs compared, with where and which way: once past [`SCHEMA_VISITS`],
    /// a pair is compared at most once per place (an answer, a body) and direction.
    compared: std::collections::HashSet<(String, String, String, bool)>,
}

/// Schema comparisons of one operation after which a pair of schemas already compared (by
/// another path through the references: `D0.a.b` and `D0.b.a`) is not compared again. Below it
/// every path is walked, so a change in a schema reached twice is reported at both places;
/// past it, once, so a document whose paths multiply at every level (60 schemas whose
/// properties both reference the next: 2^60 paths) takes time linear in its schemas.
const SCHEMA_VISITS: usize = 20_000;

impl<'a> Cx<'a, '_> {
    fn push(
        &mut self,
        change: ChangeKind,
        location: &str,
        detail: String,
        breaking: bool,
        at: (&str, Side),
    ) {
        self.out.push(Finding::new(
            &self.op, change, location, detail, breaking, at,
        ));
    }

    fn params(
        doc: &'a Value,
        op: &Node<'a>,
        item: &Node<'a>,
    ) -> BTreeMap<(String, String), Node<'a>> {
        let mut out = BTreeMap::new();
        for list in [item.child("parameters"), op.child("parameters")]
            .into_iter()
            .flatten()
        {
            for i in 0..list.v.as_array().map_or(0, Vec::len) {
                let Some(p) = list.child(&i.to_string()) else {
                    continue;
                };
                let p = resolve(doc, &p);
                let name = p.v.get("name").and_then(Value::as_str).unwrap_or_default();
                let loc = p.v.get("in").and_then(Value::as_str).unwrap_or_default();
                out.insert((loc.to_string(), name.to_string()), p);
            }
        }
        out
    }

    fn parameters(
        &mut self,
        old_op: &Node<'a>,
        old_item: &Node<'a>,
        new_op: &Node<'a>,
        new_item: &Node<'a>,
    ) {
        let old = Self::params(self.old, old_op, old_item);
        let new = Self::params(self.new, new_op, new_item);
        let required = |p: &Node<'_>| p.v.get("required") == Some(&Value::Bool(true));
        // a parameter that only moved (same name, other location)
        let moved: BTreeSet<String> = old
            .keys()
            .filter(|(l, n)| {
                !new.contains_key(&(l.clone(), n.clone())) && new.keys().any(|(_, m)| m == n)
            })
            .map(|(_, n)| n.clone())
            .collect();
        for ((loc, name), p) in &old {
            if new.contains_key(&(loc.clone(), name.clone())) {
                continue;
            }
            if moved.contains(name) {
                let (to, np) = new
                    .iter()
                    .find(|((_, n), _)| n == name)
                    .map(|((l, _), np)| (l.clone(), np.p.clone()))
                    .unwrap_or_default();
                self.push(
                    ChangeKind::ParameterChanged,
                    &format!("{loc} parameter {name}"),
                    format!("location changed from {loc} to {to}"),
                    true,
                    (&np, Side::New),
                );
            } else {
                self.push(
                    ChangeKind::ParameterRemoved,
                    &format!("{loc} parameter {name}"),
                    "parameter removed".into(),
                    true,
                    (&p.p, Side::Old),
                );
            }
        }
        for ((loc, name), p) in &new {
            if old.contains_key(&(loc.clone(), name.clone())) || moved.contains(name) {
                continue;
            }
            let req = required(p);
            self.push(
                ChangeKind::ParameterAdded,
                &format!("{loc} parameter {name}"),
                format!(
                    "{} parameter added",
                    if req { "required" } else { "optional" }
                ),
                req,
                (&p.p, Side::New),
            );
        }
        for (key, o) in &old {
            let Some(n) = new.get(key) else { continue };
            let location = format!("{} parameter {}", key.0, key.1);
            if required(o) != required(n) {
                let now = required(n);
                self.push(
                    ChangeKind::RequiredChanged,
                    &location,
                    format!(
                        "parameter became {}",
                        if now { "required" } else { "optional" }
                    ),
                    now,
                    (&n.p, Side::New),
                );
            }
            static NULL: Value = Value::Null;
            let os = o
                .child("schema")
                .unwrap_or_else(|| Node::new(&NULL, o.p.clone()));
            let ns = n
                .child("schema")
                .unwrap_or_else(|| Node::new(&NULL, n.p.clone()));
            let (ot, nt) = (type_label(self.old, &os), type_label(self.new, &ns));
            if ot != nt {
                self.push(
                    ChangeKind::ParameterChanged,
                    &location,
                    format!("type changed from {ot} to {nt}"),
                    true,
                    (&ns.p, Side::New),
                );
            }
            let style = |p: &Value| {
                format!(
                    "{}/{}",
                    p.get("style").and_then(Value::as_str).unwrap_or("default"),
                    p.get("explode")
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "default".into())
                )
            };
            if style(o.v) != style(n.v) {
                self.push(
                    ChangeKind::ParameterChanged,
                    &location,
                    format!(
                        "serialisation changed from {} to {}",
                        style(o.v),
                        style(n.v)
                    ),
                    true,
                    (&n.p, Side::New),
                );
            }
            if ot == nt {
                let (ou, nu) = (unwrap_schema(self.old, &os), unwrap_schema(self.new, &ns));
                self.enums(&ou, &nu, &location, Direction::Request);
                self.constraints(&ou, &nu, &location, Direction::Request);
                if let (Some(oi), Some(ni)) = (ou.child("items"), nu.child("items")) {
                    let (oi, ni) = (unwrap_schema(self.old, &oi), unwrap_schema(self.new, &ni));
                    let location = format!("{location}[]");
                    self.enums(&oi, &ni, &location, Direction::Request);
                    self.constraints(&oi, &ni, &location, Direction::Request);
                }
            }
        }
    }

    /// The generated method is named after the `operationId` (in snake case; derived from the
    /// method and path when there is none): a different name is a method callers no longer
    /// find. A change of spelling only (`getAgent` to `get_agent`) keeps the name.
    fn operation_id(&mut self, old_op: &Node<'a>, new_op: &Node<'a>) {
        let id = |op: &Node<'a>| {
            op.v.get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (o, n) = (id(old_op), id(new_op));
        let (detail, at) = match (&o, &n) {
            (Some(o), Some(n)) if o == n => return,
            (Some(o), Some(n)) => (
                if method_name(o) == method_name(n) {
                    format!(
                        "operationId changed from {o} to {n} (same method name, {})",
                        method_name(n)
                    )
                } else {
                    format!(
                        "operationId changed from {o} to {n}: method {} renamed {}",
                        method_name(o),
                        method_name(n)
                    )
                },
                (format!("{}/operationId", new_op.p), Side::New),
            ),
            (None, Some(n)) => (
                format!(
                    "operationId {n} added: the method derived from the path is renamed {}",
                    method_name(n)
                ),
                (format!("{}/operationId", new_op.p), Side::New),
            ),
            (Some(o), None) => (
                format!(
                    "operationId {o} removed: method {} is renamed after the path",
                    method_name(o)
                ),
                (format!("{}/operationId", old_op.p), Side::Old),
            ),
            (None, None) => return,
        };
        let breaking = match (&o, &n) {
            (Some(o), Some(n)) => method_name(o) != method_name(n),
            _ => true,
        };
        self.push(
            ChangeKind::OperationIdChanged,
            "operationId",
            detail,
            breaking,
            (&at.0, at.1),
        );
    }

    fn security(&mut self, old_op: &Node<'a>, new_op: &Node<'a>) {
        let ((o, _), (n, at)) = (
            effective_security(self.old, old_op),
            effective_security(self.new, new_op),
        );
        if o != n {
            let show = |s: &BTreeSet<String>| {
                if s.is_empty() {
                    "none".to_string()
                } else {
                    s.iter().cloned().collect::<Vec<_>>().join(" | ")
                }
            };
            self.push(
                ChangeKind::AuthChanged,
                "security",
                format!("auth changed from {} to {}", show(&o), show(&n)),
                true,
                (&at, Side::New),
            );
        }
    }

    /// The media types of a body (request body or response), and the schema a client uses: the
    /// JSON one, else the first.
    fn content(
        doc: &'a Value,
        holder: &Node<'a>,
    ) -> (BTreeMap<String, Node<'a>>, Option<Node<'a>>) {
        let holder = resolve(doc, holder);
        let Some(content) = holder.child("content") else {
            return (BTreeMap::new(), None);
        };
        let types: BTreeMap<String, Node<'a>> = content
            .v
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(mt, _)| Some((mt.clone(), content.child(mt)?)))
            .collect();
        let keys: Vec<&String> = content
            .v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        let chosen = keys
            .iter()
            .find(|mt| mt.contains("json"))
            .or_else(|| keys.first())
            .and_then(|mt| types.get(*mt))
            .and_then(|m| m.child("schema"));
        (types, chosen)
    }

    /// Media types added and removed. A client sends (request) or accepts (response) one of
    /// them: one that is gone is breaking, a new one is not.
    fn media_types(
        &mut self,
        o: &BTreeMap<String, Node<'a>>,
        n: &BTreeMap<String, Node<'a>>,
        location: &str,
        removed_breaks: bool,
    ) {
        let what = if location == "request body" {
            "request body".to_string()
        } else {
            format!("{location} body")
        };
        for (mt, node) in o.iter().filter(|(k, _)| !n.contains_key(*k)) {
            self.push(
                ChangeKind::MediaTypeRemoved,
                location,
                format!("{what} media type {mt} removed"),
                removed_breaks,
                (&node.p, Side::Old),
            );
        }
        for (mt, node) in n.iter().filter(|(k, _)| !o.contains_key(*k)) {
            self.push(
                ChangeKind::MediaTypeAdded,
                location,
                format!("{what} media type {mt} added"),
                false,
                (&node.p, Side::New),
            );
        }
    }

    fn request_body(&mut self, old_op: &Node<'a>, new_op: &Node<'a>) {
        match (old_op.child("requestBody"), new_op.child("requestBody")) {
            (None, None) => {}
            (Some(b), None) => self.push(
                ChangeKind::PropertyRemoved,
                "request body",
                "request body removed".into(),
                true,
                (&b.p, Side::Old),
            ),
            (None, Some(b)) => {
                let req = resolve(self.new, &b).v.get("required") == Some(&Value::Bool(true));
                self.push(
                    ChangeKind::PropertyAdded,
                    "request body",
                    format!(
                        "{} request body added",
                        if req { "required" } else { "optional" }
                    ),
                    req,
                    (&b.p, Side::New),
                );
            }
            (Some(o), Some(n)) => {
                let (ot, os) = Self::content(self.old, &o);
                let (nt, ns) = Self::content(self.new, &n);
                self.media_types(&ot, &nt, "request body", true);
                if let (Some(os), Some(ns)) = (os, ns) {
                    self.schema(&os, &ns, "request body", "", Direction::Request, 0);
                }
            }
        }
    }

    fn responses(&mut self, old_op: &Node<'a>, new_op: &Node<'a>) {
        let codes = |op: &Node<'a>| -> BTreeMap<String, Node<'a>> {
            let Some(r) = op.child("responses") else {
                return BTreeMap::new();
            };
            r.v.as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| Some((k.clone(), r.child(k)?)))
                .collect()
        };
        let (o, n) = (codes(old_op), codes(new_op));
        let success = |code: &str| code.starts_with('2');
        for (code, node) in o.iter().filter(|(c, _)| !n.contains_key(*c)) {
            self.push(
                ChangeKind::ResponseStatusRemoved,
                &format!("response {code}"),
                format!("response status {code} removed"),
                success(code),
                (&node.p, Side::Old),
            );
        }
        for (code, node) in n.iter().filter(|(c, _)| !o.contains_key(*c)) {
            self.push(
                ChangeKind::ResponseStatusAdded,
                &format!("response {code}"),
                format!("response status {code} added"),
                false,
                (&node.p, Side::New),
            );
        }
        for (code, ov) in &o {
            let Some(nv) = n.get(code) else { continue };
            let location = format!("response {code}");
            let (ot, os) = Self::content(self.old, ov);
            let (nt, ns) = Self::content(self.new, nv);
            if !ot.is_empty() && !nt.is_empty() {
                self.media_types(&ot, &nt, &location, success(code));
            }
            match (os, ns) {
                (Some(os), Some(ns)) => {
                    self.schema(&os, &ns, &location, "", Direction::Response, 0)
                }
                (Some(os), None) => self.push(
                    ChangeKind::TypeChanged,
                    &location,
                    "response body schema removed".into(),
                    success(code),
                    (&os.p, Side::Old),
                ),
                (None, Some(ns)) => self.push(
                    ChangeKind::TypeChanged,
                    &location,
                    "response body schema added".into(),
                    false,
                    (&ns.p, Side::New),
                ),
                (None, None) => {}
            }
        }
    }

    /// `o` and `n` are unwrapped schemas.
    fn enums(&mut self, o: &Node<'a>, n: &Node<'a>, location: &str, dir: Direction) {
        let (Some(ov), Some(nv)) = (
            o.v.get("enum").and_then(Value::as_array),
            n.v.get("enum").and_then(Value::as_array),
        ) else {
            return;
        };
        let show = |v: &Value| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        };
        for v in ov.iter().filter(|v| !nv.contains(v)) {
            self.push(
                ChangeKind::EnumValueRemoved,
                location,
                format!("enum value {} removed", show(v)),
                dir == Direction::Request,
                (&format!("{}/enum", o.p), Side::Old),
            );
        }
        for v in nv.iter().filter(|v| !ov.contains(v)) {
            self.push(
                ChangeKind::EnumValueAdded,
                location,
                format!("enum value {} added", show(v)),
                false,
                (&format!("{}/enum", n.p), Side::New),
            );
        }
    }

    /// Tightening a constraint breaks a client's requests (a value it sends may now be
    /// refused); loosening one breaks its responses (the generated types validate `pattern`,
    /// lengths and bounds when they decode, so a value the server may now send is refused).
    fn constraints(&mut self, o: &Node<'a>, n: &Node<'a>, location: &str, dir: Direction) {
        const KEYS: &[&str] = &[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
            "minLength",
            "maxLength",
            "pattern",
            "minItems",
            "maxItems",
            "uniqueItems",
            "minProperties",
            "maxProperties",
        ];
        let show = |v: &Value| {
            v.as_str()
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| v.to_string())
        };
        for key in KEYS {
            let (ov, nv) = (o.v.get(*key), n.v.get(*key));
            let Some(tighter) = tightened(key, ov, nv) else {
                continue;
            };
            let how = if tighter { "tightened" } else { "loosened" };
            let detail = match (ov, nv) {
                (Some(a), Some(b)) => {
                    format!("{key} changed from {} to {} ({how})", show(a), show(b))
                }
                (None, Some(b)) => format!("{key} {} added ({how})", show(b)),
                (Some(a), None) => format!("{key} {} removed ({how})", show(a)),
                (None, None) => unreachable!("tightened() saw a change"),
            };
            let at = match nv {
                Some(_) => (format!("{}/{key}", n.p), Side::New),
                None => (format!("{}/{key}", o.p), Side::Old),
            };
            let breaking = match dir {
                Direction::Request => tighter,
                Direction::Response => !tighter,
            };
            self.push(
                ChangeKind::ConstraintChanged,
                location,
                detail,
                breaking,
                (&at.0, at.1),
            );
        }
    }

    /// `oneOf` / `anyOf` alternatives, matched by the name of the schema they reference, else
    /// by position. A request may send an alternative that is gone (breaking); a response may
    /// carry a new one the client cannot decode (breaking).
    fn variants(
        &mut self,
        o: &Node<'a>,
        n: &Node<'a>,
        base: &str,
        path: &str,
        dir: Direction,
        depth: usize,
    ) {
        for kind in ["oneOf", "anyOf"] {
            let list = |s: &Node<'a>| -> Vec<(String, Node<'a>)> {
                let Some(l) = s.child(kind) else {
                    return Vec::new();
                };
                (0..l.v.as_array().map_or(0, Vec::len))
                    .filter_map(|i| {
                        let m = l.child(&i.to_string())?;
                        let key =
                            m.v.get("$ref")
                                .and_then(Value::as_str)
                                .and_then(|r| r.rsplit('/').next())
                                .map(str::to_string)
                                .unwrap_or_else(|| format!("#{i}"));
                        Some((key, m))
                    })
                    .collect()
            };
            let (ol, nl) = (list(o), list(n));
            if ol.is_empty() && nl.is_empty() {
                continue;
            }
            let location = |key: &str| {
                let v = format!("{kind}:{key}");
                if path.is_empty() {
                    format!("{base}: {v}")
                } else {
                    format!("{base}: {path}.{v}")
                }
            };
            for (key, m) in ol.iter().filter(|(k, _)| !nl.iter().any(|(j, _)| j == k)) {
                self.push(
                    ChangeKind::VariantRemoved,
                    &location(key),
                    format!("{kind} alternative {key} removed"),
                    dir == Direction::Request,
                    (&m.p, Side::Old),
                );
            }
            for (key, m) in nl.iter().filter(|(k, _)| !ol.iter().any(|(j, _)| j == k)) {
                self.push(
                    ChangeKind::VariantAdded,
                    &location(key),
                    format!("{kind} alternative {key} added"),
                    dir == Direction::Response,
                    (&m.p, Side::New),
                );
            }
            for (key, om) in &ol {
                if let Some((_, nm)) = nl.iter().find(|(j, _)| j == key) {
                    let sub = if path.is_empty() {
                        format!("{kind}:{key}")
                    } else {
                        format!("{path}.{kind}:{key}")
                    };
                    self.schema(om, nm, base, &sub, dir, depth + 1);
                }
            }
        }
    }

    fn schema(
        &mut self,
        os: &Node<'a>,
        ns: &Node<'a>,
        base: &str,
        path: &str,
        dir: Direction,
        depth: usize,
    ) {
        if depth > 24 {
            return;
        }
        let pair = (unwrap_schema(self.old, os).p, unwrap_schema(self.new, ns).p);
        if self.stack.contains(&pair) {
            return;
        }
        self.visits += 1;
        let first = self.compared.insert((
            pair.0.clone(),
            pair.1.clone(),
            base.to_string(),
            dir == Direction::Request,
        ));
        if !first && self.visits > SCHEMA_VISITS {
            return;
        }
        self.stack.push(pair);
        self.compare(os, ns, base, path, dir, depth);
        self.stack.pop();
    }

    /// [`Self::schema`] without the cycle guard.
    fn compare(
        &mut self,
        os: &Node<'a>,
        ns: &Node<'a>,
        base: &str,
        path: &str,
        dir: Direction,
        depth: usize,
    ) {
        let location = if path.is_empty() {
            base.to_string()
        } else {
            format!("{base}: {path}")
        };
        let (ot, nt) = (type_label(self.old, os), type_label(self.new, ns));
        let (o, n) = (unwrap_schema(self.old, os), unwrap_schema(self.new, ns));
        if ot != nt {
            self.push(
                ChangeKind::TypeChanged,
                &location,
                format!("type changed from {ot} to {nt}"),
                true,
                (&n.p, Side::New),
            );
            return;
        }
        self.enums(&o, &n, &location, dir);
        self.constraints(&o, &n, &location, dir);
        self.variants(&o, &n, base, path, dir, depth);
        let join = |p: &str, name: &str| {
            if p.is_empty() {
                name.to_string()
            } else {
                format!("{p}.{name}")
            }
        };
        if let (Some(oi), Some(ni)) = (o.child("items"), n.child("items")) {
            self.schema(&oi, &ni, base, &format!("{path}[]"), dir, depth + 1);
        }
        if let (Some(oa), Some(na)) = (
            o.child("additionalProperties"),
            n.child("additionalProperties"),
        ) && oa.v.is_object()
            && na.v.is_object()
        {
            self.schema(&oa, &na, base, &format!("{path}{{}}"), dir, depth + 1);
        }
        let (mut op, mut or) = (BTreeMap::new(), BTreeSet::new());
        let (mut np, mut nr) = (BTreeMap::new(), BTreeSet::new());
        object_view(self.old, &o, &mut op, &mut or, 0, &mut BTreeSet::new());
        object_view(self.new, &n, &mut np, &mut nr, 0, &mut BTreeSet::new());
        for (name, node) in op.iter().filter(|(k, _)| !np.contains_key(*k)) {
            self.push(
                ChangeKind::PropertyRemoved,
                &format!("{base}: {}", join(path, name)),
                "property removed".into(),
                true,
                (&node.p, Side::Old),
            );
        }
        for (name, node) in np.iter().filter(|(k, _)| !op.contains_key(*k)) {
            let req = nr.contains(name);
            self.push(
                ChangeKind::PropertyAdded,
                &format!("{base}: {}", join(path, name)),
                format!(
                    "{} property added",
                    if req { "required" } else { "optional" }
                ),
                dir == Direction::Request && req,
                (&node.p, Side::New),
            );
        }
        for (name, ov) in &op {
            let Some(nv) = np.get(name) else { continue };
            let (was, now) = (or.contains(name), nr.contains(name));
            let loc = format!("{base}: {}", join(path, name));
            if was != now {
                let breaking = match dir {
                    Direction::Request => now,
                    Direction::Response => !now,
                };
                self.push(
                    ChangeKind::RequiredChanged,
                    &loc,
                    format!(
                        "property became {}",
                        if now { "required" } else { "optional" }
                    ),
                    breaking,
                    (&nv.p, Side::New),
                );
            }
            self.schema(ov, nv, base, &join(path, name), dir, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(op: Value) -> Value {
        json!({"openapi": "3.0.0", "paths": {"/a": {"put": op}}, "components": {"schemas": {
            "Req": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["on", "off"]}}}
        }}})
    }

    fn base_op() -> Value {
        json!({
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"state": {"type": "string", "enum": ["a"]}}}}}}}
        })
    }

    fn one(old: Value, new: Value) -> Vec<(ChangeKind, String, bool)> {
        diff(&old, &new)
            .into_iter()
            .map(|f| (f.change, f.location, f.breaking))
            .collect()
    }

    #[test]
    fn a_renamed_operation_id_renames_the_method_and_is_breaking() {
        let with = |id: Option<&str>| {
            let mut op = base_op();
            if let Some(id) = id {
                op["operationId"] = json!(id);
            }
            doc(op)
        };
        let findings = diff(
            &with(Some("getAgentStatus")),
            &with(Some("fetchAgentStatus")),
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(
            (f.change, f.location.as_str(), f.breaking, f.side),
            (
                ChangeKind::OperationIdChanged,
                "operationId",
                true,
                Side::New
            )
        );
        assert_eq!(f.pointer, "/paths/~1a/put/operationId");
        assert!(
            f.detail
                .contains("method get_agent_status renamed fetch_agent_status"),
            "{}",
            f.detail
        );
        // the same Rust name, spelled otherwise: a finding, not a breaking one
        let f = &diff(
            &with(Some("getAgentStatus")),
            &with(Some("get_agent_status")),
        )[0];
        assert_eq!(
            (f.change, f.breaking),
            (ChangeKind::OperationIdChanged, false)
        );
        // removed: the method is renamed after the path; the pointer is in the old document
        let f = &diff(&with(Some("getHTTPStatus")), &with(None))[0];
        assert_eq!((f.breaking, f.side), (true, Side::Old));
        assert!(f.detail.contains("get_http_status"), "{}", f.detail);
        assert!(diff(&with(None), &with(Some("x")))[0].breaking);
        assert!(diff(&with(Some("same")), &with(Some("same"))).is_empty());
    }

    #[test]
    fn method_names_follow_snake_case_word_boundaries() {
        for (id, name) in [
            ("getAgent", "get_agent"),
            ("get_agent", "get_agent"),
            ("GetAgent", "get_agent"),
            ("get-agent", "get_agent"),
            ("getHTTPStatus", "get_http_status"),
            ("users.setPresence", "users_set_presence"),
            ("v2ListAdmins", "v2_list_admins"),
        ] {
            assert_eq!(method_name(id), name, "{id}");
        }
    }

    #[test]
    fn identical_documents_have_no_findings() {
        assert!(diff(&doc(base_op()), &doc(base_op())).is_empty());
    }

    #[test]
    fn request_enum_value_added_is_not_breaking_removed_is() {
        let mut new = doc(base_op());
        new["components"]["schemas"]["Req"]["properties"]["status"]["enum"] =
            json!(["on", "off", "idle"]);
        assert_eq!(
            one(doc(base_op()), new.clone()),
            [(
                ChangeKind::EnumValueAdded,
                "request body: status".into(),
                false
            )]
        );
        assert_eq!(
            one(new, doc(base_op())),
            [(
                ChangeKind::EnumValueRemoved,
                "request body: status".into(),
                true
            )]
        );
    }

    #[test]
    fn response_enum_value_added_is_not_breaking() {
        let mut new = base_op();
        new["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["state"]["enum"] =
            json!(["a", "b"]);
        assert_eq!(
            one(doc(base_op()), doc(new)),
            [(
                ChangeKind::EnumValueAdded,
                "response 200: state".into(),
                false
            )]
        );
    }

    #[test]
    fn operation_removed_is_breaking() {
        let old = doc(base_op());
        let mut new = old.clone();
        new["paths"] = json!({});
        assert_eq!(
            one(old, new),
            [(ChangeKind::OperationRemoved, "".into(), true)]
        );
    }

    #[test]
    fn parameter_type_change_and_new_required_parameter_are_breaking() {
        let mut new = base_op();
        new["parameters"][0]["schema"]["type"] = json!("integer");
        new["parameters"].as_array_mut().unwrap().push(
            json!({"name": "r", "in": "query", "required": true, "schema": {"type": "string"}}),
        );
        assert_eq!(
            one(doc(base_op()), doc(new)),
            [
                (ChangeKind::ParameterAdded, "query parameter r".into(), true),
                (
                    ChangeKind::ParameterChanged,
                    "query parameter q".into(),
                    true
                ),
            ]
        );
    }

    #[test]
    fn optional_response_property_added_is_not_breaking_removed_is() {
        let mut new = base_op();
        new["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["extra"] =
            json!({"type": "integer"});
        assert_eq!(
            one(doc(base_op()), doc(new.clone())),
            [(
                ChangeKind::PropertyAdded,
                "response 200: extra".into(),
                false
            )]
        );
        assert_eq!(
            one(doc(new), doc(base_op())),
            [(
                ChangeKind::PropertyRemoved,
                "response 200: extra".into(),
                true
            )]
        );
    }

    #[test]
    fn success_status_removed_is_breaking_error_status_added_is_not() {
        let mut new = base_op();
        new["responses"] = json!({"201": {"description": "created"}, "404": {"description": "nf"}});
        let f = one(doc(base_op()), doc(new));
        assert!(f.contains(&(
            ChangeKind::ResponseStatusRemoved,
            "response 200".into(),
            true
        )));
        assert!(f.contains(&(
            ChangeKind::ResponseStatusAdded,
            "response 404".into(),
            false
        )));
    }

    #[test]
    fn auth_change_is_breaking() {
        let old = doc(base_op());
        let mut new = old.clone();
        new["security"] = json!([{"bearer": []}]);
        assert_eq!(
            one(old, new),
            [(ChangeKind::AuthChanged, "security".into(), true)]
        );
    }

    #[test]
    fn a_self_referencing_one_of_is_compared_once() {
        let d = |t: &str| {
            json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/A"}}}}}}}},
                "components": {"schemas": {"A": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/A"},
                    {"type": "object", "properties": {"x": {"type": t}}}]}}}})
        };
        assert!(diff(&d("string"), &d("string")).is_empty());
        assert_eq!(
            one(d("string"), d("integer")),
            [(
                ChangeKind::TypeChanged,
                "response 200: oneOf:#2.x".into(),
                true
            )]
        );
    }

    #[test]
    fn a_self_referencing_array_does_not_loop() {
        let d = |t: &str| {
            json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/A"}}}}}}}},
                "components": {"schemas": {"A": {"type": "array", "items": {"$ref": "#/components/schemas/A"}, "format": t}}}})
        };
        assert!(diff(&d("x"), &d("x")).is_empty());
        assert_eq!(diff(&d("x"), &d("y"))[0].change, ChangeKind::TypeChanged);
    }

    #[test]
    fn findings_carry_the_pointer_of_the_change_through_refs() {
        let mut new = doc(base_op());
        new["components"]["schemas"]["Req"]["properties"]["status"]["enum"] =
            json!(["on", "off", "idle"]);
        let f = diff(&doc(base_op()), &new);
        assert_eq!(
            f[0].pointer,
            "/components/schemas/Req/properties/status/enum"
        );
        assert_eq!(f[0].side, Side::New);
        let f = diff(&new, &doc(base_op()));
        assert_eq!(f[0].side, Side::Old);
    }

    #[test]
    fn request_media_type_change_is_breaking_a_new_one_is_not() {
        let mut new = base_op();
        let body = new["requestBody"]["content"]["application/json"].take();
        new["requestBody"]["content"] = json!({"application/x-www-form-urlencoded": body});
        assert_eq!(
            one(doc(base_op()), doc(new)),
            [
                (ChangeKind::MediaTypeAdded, "request body".into(), false),
                (ChangeKind::MediaTypeRemoved, "request body".into(), true),
            ]
        );
    }

    #[test]
    fn additive_all_of_is_a_property_added_not_a_type_change() {
        let old = json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Agent"}}}}}}}},
            "components": {"schemas": {"Agent": {"type": "object", "properties": {"id": {"type": "string"}}}}}});
        let mut new = old.clone();
        new["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = json!(
            {"allOf": [{"$ref": "#/components/schemas/Agent"}, {"type": "object", "properties": {"team": {"type": "string"}}}]});
        let f = diff(&old, &new);
        assert_eq!(
            f.iter()
                .map(|f| (f.change, f.location.as_str(), f.breaking))
                .collect::<Vec<_>>(),
            [(ChangeKind::PropertyAdded, "response 200: team", false)]
        );
        assert_eq!(
            f[0].pointer,
            "/paths/~1a/get/responses/200/content/application~1json/schema/allOf/1/properties/team"
        );
    }

    #[test]
    fn one_of_alternatives_are_compared() {
        let schema = |variants: Value| {
            json!({"paths": {"/a": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"oneOf": variants}}}},
            "responses": {"200": {"content": {"application/json": {"schema": {"oneOf": variants}}}}}}}},
            "components": {"schemas": {
                "A": {"type": "object", "properties": {"x": {"type": "string"}}},
                "B": {"type": "object", "properties": {"y": {"type": "string"}}}}}})
        };
        let old = schema(json!([{"$ref": "#/components/schemas/A"}]));
        let new =
            schema(json!([{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]));
        assert_eq!(
            one(old.clone(), new.clone()),
            [
                (
                    ChangeKind::VariantAdded,
                    "request body: oneOf:B".into(),
                    false
                ),
                (
                    ChangeKind::VariantAdded,
                    "response 200: oneOf:B".into(),
                    true
                ),
            ]
        );
        let mut changed = old.clone();
        changed["components"]["schemas"]["A"]["properties"]["x"]["type"] = json!("integer");
        assert_eq!(
            one(old, changed),
            [
                (
                    ChangeKind::TypeChanged,
                    "request body: oneOf:A.x".into(),
                    true
                ),
                (
                    ChangeKind::TypeChanged,
                    "response 200: oneOf:A.x".into(),
                    true
                ),
            ]
        );
    }

    #[test]
    fn constraints_tightened_break_requests_loosened_break_responses() {
        let op = |max: u64, pattern: Option<&str>| {
            let mut s = json!({"type": "string", "maxLength": max});
            if let Some(p) = pattern {
                s["pattern"] = json!(p);
            }
            json!({"paths": {"/a": {"post": {
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "integer", "minimum": max}}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"n": s}}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {"type": "object", "properties": {"n": s}}}}}}}}}})
        };
        let f = diff(&op(64, None), &op(32, Some("^[a-z]+$")));
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.location.as_str(), f.detail.as_str(), f.breaking))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "query parameter q",
                    "minimum changed from 64 to 32 (loosened)",
                    false
                ),
                (
                    "request body: n",
                    "maxLength changed from 64 to 32 (tightened)",
                    true
                ),
                (
                    "request body: n",
                    "pattern `^[a-z]+$` added (tightened)",
                    true
                ),
                (
                    "response 200: n",
                    "maxLength changed from 64 to 32 (tightened)",
                    false
                ),
                (
                    "response 200: n",
                    "pattern `^[a-z]+$` added (tightened)",
                    false
                ),
            ]
        );
        assert!(f.iter().all(|f| f.change == ChangeKind::ConstraintChanged));
        let back: Vec<_> = diff(&op(32, Some("^[a-z]+$")), &op(64, None))
            .into_iter()
            .map(|f| f.breaking)
            .collect();
        assert_eq!(back, [true, false, false, true, true]);
    }

    #[test]
    fn an_unapplied_security_scheme_that_changes_is_reported() {
        let d = |scheme: &str| {
            json!({"paths": {"/a": {"get": {}}},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": scheme}}}})
        };
        assert!(diff(&d("bearer"), &d("basic")).is_empty());
        let f = diff_unapplied_security_schemes(&d("bearer"), &d("basic"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].change, ChangeKind::SecuritySchemeChanged);
        assert_eq!(
            f[0].detail,
            "security scheme bearerAuth changed from http:bearer:: to http:basic::"
        );
        assert!(f[0].breaking);
        assert_eq!(f[0].pointer, "/components/securitySchemes/bearerAuth");
        // an applied scheme is covered by each operation's auth-changed finding instead
        let mut applied = d("bearer");
        applied["security"] = json!([{"bearerAuth": []}]);
        let mut applied_new = d("basic");
        applied_new["security"] = json!([{"bearerAuth": []}]);
        assert!(diff_unapplied_security_schemes(&applied, &applied_new).is_empty());
        assert_eq!(
            diff(&applied, &applied_new)[0].change,
            ChangeKind::AuthChanged
        );
    }
}
