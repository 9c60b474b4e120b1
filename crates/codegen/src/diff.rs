//! A semantic diff of two OpenAPI documents' operations, each finding marked breaking or not for
//! a client. Vocabulary follows oasdiff where it can; the rules are in the README's drift table.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::sources::METHODS;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    OperationAdded,
    OperationRemoved,
    ParameterAdded,
    ParameterRemoved,
    ParameterChanged,
    PropertyAdded,
    PropertyRemoved,
    TypeChanged,
    EnumValueAdded,
    EnumValueRemoved,
    RequiredChanged,
    ResponseStatusAdded,
    ResponseStatusRemoved,
    AuthChanged,
}

/// One semantic difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// `METHOD /path`.
    pub operation: String,
    pub change: ChangeKind,
    /// Where in the operation, e.g. `request body: status`, `response 200: agents[].status`,
    /// `query parameter sort`.
    pub location: String,
    pub detail: String,
    pub breaking: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// Compare the operations of `old` and `new`.
pub fn diff(old: &Value, new: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let old_ops = operations(old);
    let new_ops = operations(new);
    for (key, _) in old_ops.iter().filter(|(k, _)| !new_ops.contains_key(*k)) {
        out.push(finding(
            key,
            ChangeKind::OperationRemoved,
            "",
            "operation removed".into(),
            true,
        ));
    }
    for (key, _) in new_ops.iter().filter(|(k, _)| !old_ops.contains_key(*k)) {
        out.push(finding(
            key,
            ChangeKind::OperationAdded,
            "",
            "operation added".into(),
            false,
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
        };
        cx.parameters(old_op, old_item, new_op, new_item);
        cx.security(old_op, new_op);
        cx.request_body(old_op, new_op);
        cx.responses(old_op, new_op);
    }
    out.sort();
    out
}

fn finding(
    op: &str,
    change: ChangeKind,
    location: &str,
    detail: String,
    breaking: bool,
) -> Finding {
    Finding {
        operation: op.to_string(),
        change,
        location: location.to_string(),
        detail,
        breaking,
    }
}

/// `METHOD /path` -> (operation, path item).
fn operations(doc: &Value) -> BTreeMap<String, (&Value, &Value)> {
    let mut out = BTreeMap::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            if METHODS.contains(&method.as_str()) {
                out.insert(
                    format!("{} {path}", method.to_ascii_uppercase()),
                    (op, item),
                );
            }
        }
    }
    out
}

/// Follow local `$ref`s (bounded, so a cycle cannot loop).
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        match crate::slice::ref_pointer(r).and_then(|p| doc.pointer(&p)) {
            Some(target) => v = target,
            None => return v,
        }
    }
    v
}

struct Cx<'a, 'o> {
    old: &'a Value,
    new: &'a Value,
    op: String,
    out: &'o mut Vec<Finding>,
}

fn type_label(doc: &Value, schema: &Value) -> String {
    let s = unwrap_schema(doc, schema);
    let mut t = match s.get("type").and_then(Value::as_str) {
        Some("array") => {
            let items = s
                .get("items")
                .map(|i| type_label(doc, i))
                .unwrap_or_else(|| "any".into());
            format!("array<{items}>")
        }
        Some(t) => t.to_string(),
        None if s.get("properties").is_some() => "object".into(),
        None => "any".into(),
    };
    if let Some(f) = s.get("format").and_then(Value::as_str) {
        t = format!("{t}({f})");
    }
    if is_nullable(doc, schema) {
        t.push('?');
    }
    t
}

fn is_nullable(doc: &Value, schema: &Value) -> bool {
    let s = resolve(doc, schema);
    s.get("nullable") == Some(&Value::Bool(true))
        || unwrap_schema(doc, schema).get("nullable") == Some(&Value::Bool(true))
}

/// Resolve refs and a single-element `allOf` wrapper (`{allOf: [$ref], nullable: true}`).
fn unwrap_schema<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut s = resolve(doc, schema);
    for _ in 0..8 {
        match s.get("allOf").and_then(Value::as_array) {
            Some(list) if list.len() == 1 => s = resolve(doc, &list[0]),
            _ => break,
        }
    }
    s
}

fn effective_security(doc: &Value, op: &Value) -> BTreeSet<String> {
    let reqs = op.get("security").or_else(|| doc.get("security"));
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
                        crate::error::escape_token(name)
                    ))
                    .map(|d| {
                        let get = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
                        format!(
                            "{}:{}:{}:{}",
                            get("type"),
                            get("scheme"),
                            get("in"),
                            get("name")
                        )
                    })
                    .unwrap_or_default();
                format!("{name}({def})")
            })
            .collect();
        out.insert(names.join(" + "));
    }
    out
}

impl Cx<'_, '_> {
    fn push(&mut self, change: ChangeKind, location: &str, detail: String, breaking: bool) {
        self.out
            .push(finding(&self.op, change, location, detail, breaking));
    }

    fn params(doc: &Value, op: &Value, item: &Value) -> BTreeMap<(String, String), Value> {
        let mut out = BTreeMap::new();
        for list in [item.get("parameters"), op.get("parameters")]
            .into_iter()
            .flatten()
        {
            for p in list.as_array().into_iter().flatten() {
                let p = resolve(doc, p);
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                let loc = p.get("in").and_then(Value::as_str).unwrap_or_default();
                out.insert((loc.to_string(), name.to_string()), p.clone());
            }
        }
        out
    }

    fn parameters(&mut self, old_op: &Value, old_item: &Value, new_op: &Value, new_item: &Value) {
        let old = Self::params(self.old, old_op, old_item);
        let new = Self::params(self.new, new_op, new_item);
        let required = |p: &Value| p.get("required") == Some(&Value::Bool(true));
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
                let to = new
                    .keys()
                    .find(|(_, n)| n == name)
                    .map(|(l, _)| l.clone())
                    .unwrap_or_default();
                self.push(
                    ChangeKind::ParameterChanged,
                    &format!("{loc} parameter {name}"),
                    format!("location changed from {loc} to {to}"),
                    true,
                );
            } else {
                let _ = p;
                self.push(
                    ChangeKind::ParameterRemoved,
                    &format!("{loc} parameter {name}"),
                    "parameter removed".into(),
                    true,
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
                );
            }
            let (os, ns) = (
                o.get("schema").unwrap_or(&Value::Null),
                n.get("schema").unwrap_or(&Value::Null),
            );
            let (ot, nt) = (type_label(self.old, os), type_label(self.new, ns));
            if ot != nt {
                self.push(
                    ChangeKind::ParameterChanged,
                    &location,
                    format!("type changed from {ot} to {nt}"),
                    true,
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
            if style(o) != style(n) {
                self.push(
                    ChangeKind::ParameterChanged,
                    &location,
                    format!("serialisation changed from {} to {}", style(o), style(n)),
                    true,
                );
            }
            self.enums(os, ns, &location, Direction::Request);
        }
    }

    fn security(&mut self, old_op: &Value, new_op: &Value) {
        let (o, n) = (
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
            );
        }
    }

    fn json_schema<'v>(doc: &'v Value, holder: &'v Value) -> Option<&'v Value> {
        let holder = resolve(doc, holder);
        let content = holder.get("content")?.as_object()?;
        content
            .iter()
            .find(|(mt, _)| mt.contains("json"))
            .or_else(|| content.iter().next())
            .and_then(|(_, m)| m.get("schema"))
    }

    fn request_body(&mut self, old_op: &Value, new_op: &Value) {
        let (ob, nb) = (old_op.get("requestBody"), new_op.get("requestBody"));
        match (ob, nb) {
            (None, None) => {}
            (Some(_), None) => self.push(
                ChangeKind::PropertyRemoved,
                "request body",
                "request body removed".into(),
                true,
            ),
            (None, Some(b)) => {
                let req = resolve(self.new, b).get("required") == Some(&Value::Bool(true));
                self.push(
                    ChangeKind::PropertyAdded,
                    "request body",
                    format!(
                        "{} request body added",
                        if req { "required" } else { "optional" }
                    ),
                    req,
                );
            }
            (Some(o), Some(n)) => {
                if let (Some(os), Some(ns)) = (
                    Self::json_schema(self.old, o),
                    Self::json_schema(self.new, n),
                ) {
                    self.schema(os, ns, "request body", "", Direction::Request, 0);
                }
            }
        }
    }

    fn responses(&mut self, old_op: &Value, new_op: &Value) {
        let codes = |op: &Value| -> BTreeMap<String, Value> {
            op.get("responses")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (o, n) = (codes(old_op), codes(new_op));
        let success = |code: &str| code.starts_with('2');
        for code in o.keys().filter(|c| !n.contains_key(*c)) {
            self.push(
                ChangeKind::ResponseStatusRemoved,
                &format!("response {code}"),
                format!("response status {code} removed"),
                success(code),
            );
        }
        for code in n.keys().filter(|c| !o.contains_key(*c)) {
            self.push(
                ChangeKind::ResponseStatusAdded,
                &format!("response {code}"),
                format!("response status {code} added"),
                false,
            );
        }
        for (code, ov) in &o {
            let Some(nv) = n.get(code) else { continue };
            match (
                Self::json_schema(self.old, ov),
                Self::json_schema(self.new, nv),
            ) {
                (Some(os), Some(ns)) => self.schema(
                    os,
                    ns,
                    &format!("response {code}"),
                    "",
                    Direction::Response,
                    0,
                ),
                (Some(_), None) => self.push(
                    ChangeKind::TypeChanged,
                    &format!("response {code}"),
                    "response body schema removed".into(),
                    success(code),
                ),
                (None, Some(_)) => self.push(
                    ChangeKind::TypeChanged,
                    &format!("response {code}"),
                    "response body schema added".into(),
                    false,
                ),
                (None, None) => {}
            }
        }
    }

    fn enums(&mut self, os: &Value, ns: &Value, location: &str, dir: Direction) {
        let values = |doc: &Value, s: &Value| -> Option<Vec<Value>> {
            unwrap_schema(doc, s)
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
        };
        let (Some(ov), Some(nv)) = (values(self.old, os), values(self.new, ns)) else {
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
            );
        }
        for v in nv.iter().filter(|v| !ov.contains(v)) {
            self.push(
                ChangeKind::EnumValueAdded,
                location,
                format!("enum value {} added", show(v)),
                false,
            );
        }
    }

    fn schema(
        &mut self,
        os: &Value,
        ns: &Value,
        base: &str,
        path: &str,
        dir: Direction,
        depth: usize,
    ) {
        if depth > 24 {
            return;
        }
        let location = if path.is_empty() {
            base.to_string()
        } else {
            format!("{base}: {path}")
        };
        let (ot, nt) = (type_label(self.old, os), type_label(self.new, ns));
        if ot != nt {
            self.push(
                ChangeKind::TypeChanged,
                &location,
                format!("type changed from {ot} to {nt}"),
                true,
            );
            return;
        }
        self.enums(os, ns, &location, dir);
        let (o, n) = (unwrap_schema(self.old, os), unwrap_schema(self.new, ns));
        let join = |p: &str, name: &str| {
            if p.is_empty() {
                name.to_string()
            } else {
                format!("{p}.{name}")
            }
        };
        if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
            self.schema(oi, ni, base, &format!("{path}[]"), dir, depth + 1);
        }
        if let (Some(oa), Some(na)) = (o.get("additionalProperties"), n.get("additionalProperties"))
            && oa.is_object()
            && na.is_object()
        {
            self.schema(oa, na, base, &format!("{path}{{}}"), dir, depth + 1);
        }
        let props = |s: &Value| {
            s.get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let required = |s: &Value| -> BTreeSet<String> {
            s.get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        let (op, np) = (props(o), props(n));
        let (or, nr) = (required(o), required(n));
        for (name, _) in op.iter().filter(|(k, _)| !np.contains_key(*k)) {
            self.push(
                ChangeKind::PropertyRemoved,
                &format!("{base}: {}", join(path, name)),
                "property removed".into(),
                true,
            );
        }
        for (name, _) in np.iter().filter(|(k, _)| !op.contains_key(*k)) {
            let req = nr.contains(name);
            self.push(
                ChangeKind::PropertyAdded,
                &format!("{base}: {}", join(path, name)),
                format!(
                    "{} property added",
                    if req { "required" } else { "optional" }
                ),
                dir == Direction::Request && req,
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
}
