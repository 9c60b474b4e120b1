//! Parameters: path parameters as the template declares them, and parameters progenitor cannot write (arrays and nulls in the URL, two with one Rust name).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::names::field_name;
use super::{Changes, Pass, Stage};
use crate::error::escape_token;
use crate::nav::{operation_pointer as op_pointer, operations_mut, resolve};

/// The `path-parameters-required` pass ([`path_parameters_required`]).
pub(crate) const PATH_PARAMETERS_REQUIRED: Pass = Pass::new(
    "path-parameters-required",
    Stage::Normalise,
    "Path parameters are `required: true` (progenitor panics otherwise).",
    path_parameters_required,
);

/// A path parameter must be `required: true` (OpenAPI 3.0 §4.7.12.1); progenitor panics otherwise.
pub(crate) fn path_parameters_required(doc: &mut Value, changes: &mut Changes) {
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

/// The `nullable-parameters` pass ([`nullable_parameters`]).
pub(crate) const NULLABLE_PARAMETERS: Pass = Pass::new(
    "nullable-parameters",
    Stage::Normalise,
    "A path or header parameter's schema loses `nullable` (a URL segment or header is never null; progenitor cannot write an `Option` there); one that is a `$ref` to a nullable scalar component gets the component's schema without it (the component stays nullable for its other uses).",
    nullable_parameters,
);

/// A path or header parameter whose schema is `nullable` (Klaviyo's form ids, Box's
/// `x-rep-hints`) becomes `Option<String>` where progenitor writes the value into the URL or a
/// header, which does not compile. A path segment or a header cannot be `null` (an optional
/// header is left out instead): the schema loses `nullable`. A schema that is a `$ref` (through
/// any chain of references, from a parameter that is itself one) to a nullable component keeps
/// the component as it is (its other uses may be null): a scalar one (which
/// `nullable-components` leaves nullable) is written into the parameter without `nullable`;
/// an object, enum, composition or titled one loses `nullable` in `nullable-components`, which
/// leaves the references of path and header parameters not nullable.
pub(crate) fn nullable_parameters(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for_each_parameter(doc, &mut |map, at| {
        let place = map
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !matches!(place.as_str(), "path" | "header") {
            return;
        }
        let Some(Value::Object(schema)) = map.get_mut("schema") else {
            return;
        };
        if schema.remove("nullable").is_some() {
            changes.push(
                format!("{at}/schema/nullable"),
                format!("a {place} parameter cannot be null: `nullable` removed"),
            );
        }
        if !schema.contains_key("$ref") {
            return;
        }
        let here = Value::Object(schema.clone());
        let (target, from) = crate::nav::resolve_at(&snapshot, &here, &format!("{at}/schema"));
        let Some(target) = target.as_object() else {
            return;
        };
        if target.get("nullable") != Some(&Value::Bool(true)) || !nullable_scalar(target) {
            return;
        }
        let mut own = target.clone();
        own.remove("nullable");
        *schema = own;
        changes.push(
            format!("{at}/schema"),
            format!("a {place} parameter cannot be null: `{from}` is nullable, written here without `nullable` (the component is left as it is)"),
        );
    });
}

/// Is `schema` a nullable component `nullable-components` leaves nullable (a string, number,
/// integer, boolean or array without a title, an enum or a composition), so that a reference to
/// it is an `Option`?
pub(crate) fn nullable_scalar(schema: &Map<String, Value>) -> bool {
    matches!(
        schema.get("type").and_then(Value::as_str),
        Some("string" | "integer" | "number" | "boolean" | "array")
    ) && !["title", "enum", "oneOf", "anyOf", "allOf"]
        .iter()
        .any(|k| schema.contains_key(*k))
}

/// Call `f` on every parameter object of `doc` (the shared `components.parameters`, path items'
/// and operations'), with its pointer.
pub(super) fn for_each_parameter(
    doc: &mut Value,
    f: &mut dyn FnMut(&mut Map<String, Value>, &str),
) {
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
    for (path, item) in crate::nav::path_items_mut(doc) {
        let base = format!("/paths/{}", escape_token(path));
        for (method, list) in crate::nav::parameter_lists_mut(item) {
            let at = match method {
                None => format!("{base}/parameters"),
                Some(m) => format!("{base}/{m}/parameters"),
            };
            for (i, p) in list.iter_mut().enumerate() {
                if let Some(map) = p.as_object_mut() {
                    f(map, &format!("{at}/{i}"));
                }
            }
        }
    }
}

/// Undo [`parameter_content`] for an exported document: a parameter it gave a schema has its
/// declared `content` again (in the schema's place) and no schema, as OpenAPI requires of a
/// parameter with `content` (one or the other).
pub(crate) fn restore_parameter_content(doc: &mut Value) {
    for_each_parameter(doc, &mut |map, _| {
        let Some(declared) = map.remove(DECLARED_CONTENT) else {
            return;
        };
        let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
        for (key, value) in entries {
            if key == "schema" {
                map.insert("content".into(), declared.clone());
            } else {
                map.insert(key, value);
            }
        }
        if !map.contains_key("content") {
            map.insert("content".into(), declared);
        }
    });
}

/// The `duplicate-parameters` pass ([`duplicate_parameters`]).
pub(crate) const DUPLICATE_PARAMETERS: Pass = Pass::new(
    "duplicate-parameters",
    Stage::Normalise,
    "A parameter declared twice in one list (an operation's, a path item's: the same `in` and name, a header's name in any case, `X-Id` and `x-id`; a query parameter repeated with another `style`) is one parameter: the first declaration stands, the later ones are dropped and said (progenitor kept one of them silently, or sent one header twice).",
    duplicate_parameters,
);

/// Is `a` the same parameter as `b` (OpenAPI 3.0 §4.7.12: a parameter is its name and
/// location; a header's name is read in any case, RFC 9110 §5.1)?
pub(crate) fn same_parameter(a: &Value, b: &Value) -> bool {
    let (place, other) = (a.get("in"), b.get("in"));
    let (Some(x), Some(y)) = (
        a.get("name").and_then(Value::as_str),
        b.get("name").and_then(Value::as_str),
    ) else {
        return false;
    };
    place.is_some()
        && place == other
        && (x == y || (place == Some(&json!("header")) && x.eq_ignore_ascii_case(y)))
}

/// A list of parameters must not declare one twice (OpenAPI 3.0 §4.7.8: "unique parameter is
/// defined by a combination of a name and location"), yet documents do: Zendesk's repeated
/// `include` with another `explode`, a header spelled `X-Id` once and `x-id` again. progenitor
/// merges by name only (the later one silently wins, its style unsupported or not), and two
/// spellings of one header become two Rust names sending the header twice. The first
/// declaration stands; each later one is dropped, said with its pointer.
pub(crate) fn duplicate_parameters(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, item) in crate::nav::path_items_mut(doc) {
        let base = format!("/paths/{}", escape_token(path));
        for (method, list) in crate::nav::parameter_lists_mut(item) {
            let at = match method {
                None => format!("{base}/parameters"),
                Some(m) => format!("{base}/{m}/parameters"),
            };
            let mut seen: Vec<Value> = Vec::new();
            let mut kept = Vec::with_capacity(list.len());
            for (i, p) in std::mem::take(list).into_iter().enumerate() {
                let r = resolve(&snapshot, &p).clone();
                if let Some(first) = seen.iter().find(|q| same_parameter(q, &r)) {
                    let name = |v: &Value| {
                        v.get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .chars()
                            .flat_map(char::escape_debug)
                            .take(80)
                            .collect::<String>()
                    };
                    changes.push(
                        format!("{at}/{i}"),
                        format!(
                            "{} parameter \"{}\" is declared again (as \"{}\" before it): one parameter, the first declaration stands, this one is dropped",
                            r.get("in").and_then(Value::as_str).unwrap_or("?"),
                            name(&r),
                            name(first),
                        ),
                    );
                    continue;
                }
                seen.push(r);
                kept.push(p);
            }
            *list = kept;
        }
    }
}

/// The `identical-paths` pass ([`identical_paths`]).
pub(crate) const IDENTICAL_PATHS: Pass = Pass::new(
    "identical-paths",
    Stage::Normalise,
    "Paths that differ only in parameter names become one path item.",
    identical_paths,
);

/// Two paths that differ only in their parameters' names (Libredesk's
/// `/conversations/{cuuid}/messages` and `/conversations/{uuid}/messages`) are one route on the
/// server; routers, linters and mock servers reject them. The later one's operations move to the
/// first (their path parameters renamed) when no method is on both.
pub(crate) fn identical_paths(doc: &mut Value, changes: &mut Changes) {
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
    let Some(paths) = crate::nav::paths_mut(doc) else {
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
            .filter(|k| crate::nav::is_method(k))
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

/// The `path-parameters-declared` pass ([`path_parameters_declared`]).
pub(crate) const PATH_PARAMETERS_DECLARED: Pass = Pass::new(
    "path-parameters-declared",
    Stage::Normalise,
    "Path parameters follow the template: undeclared ones declared, `in: query` ones moved, extra ones removed.",
    path_parameters_declared,
);

/// Path parameters agree with the path template: a `{name}` that no parameter declares
/// (Rocket.Chat's `/livechat/messages/{rid}`) is declared as a required string; a `{name}`
/// declared with another `in` (`in: query`) becomes that parameter `in: path`, not a second
/// declaration; a parameter declared `in: path` whose name is not in the template (Chatwoot's
/// `account_id` on `/api/v1/accounts/{id}`) is removed (progenitor refuses the operation).
pub(crate) fn path_parameters_declared(doc: &mut Value, changes: &mut Changes) {
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
    for (path, item) in crate::nav::path_items_mut(doc) {
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
        // a template name declared `in: path` and again in another place on the path item
        // (Kubernetes' proxy paths: `{path}` and the query parameter `path`): progenitor keys a
        // path item's parameters by name, the later one stands and the path template has no
        // parameter left (it panics, "missing path name mapping"): the path one stands
        let is_path_named = |r: &Value, name: &str| {
            r.get("in") == Some(&json!("path")) && r.get("name") == Some(&json!(name))
        };
        for name in &names {
            if !kept.iter().any(|p| is_path_named(&resolve(p), name)) {
                continue;
            }
            let before = kept.len();
            kept.retain(|p| {
                let r = resolve(p);
                r.get("name") != Some(&json!(name)) || r.get("in") == Some(&json!("path"))
            });
            if kept.len() != before {
                changes.push(
                    at.clone(),
                    format!("{{{name}}} is a path parameter and also declared elsewhere (query, header) for the whole path: that declaration is removed"),
                );
            }
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

/// The `header-parameter-names` pass ([`header_parameter_names`]).
pub(crate) const HEADER_PARAMETER_NAMES: Pass = Pass::new(
    "header-parameter-names",
    Stage::Fix,
    "A header parameter whose name is no HTTP header name (`X-Ids[]`, a space, a control character) is dropped and said: progenitor writes it as a `&'static str` the HTTP client parses when the request is sent, and panics on.",
    header_parameter_names,
);

/// A header parameter whose name is no HTTP header name (RFC 9110 §5.1: a token) would be
/// written by progenitor as a `&'static str` that `reqwest` parses into a `HeaderName` when the
/// request is sent, and panics on: a document's name must never crash a generated client. It is
/// dropped from its operation, said with its pointer; the operation is still generated.
pub(crate) fn header_parameter_names(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    // the operations' lists and the path items' (whose parameters are every operation's)
    let mut lists: Vec<(String, &mut Vec<Value>)> = Vec::new();
    for (path, item) in crate::nav::path_items_mut(doc) {
        let base = format!("/paths/{}", escape_token(path));
        for (method, list) in crate::nav::parameter_lists_mut(item) {
            let at = match method {
                None => base.clone(),
                Some(m) => format!("{base}/{m}"),
            };
            lists.push((at, list));
        }
    }
    for (at, params) in lists {
        let mut i = params.len();
        while i > 0 {
            i -= 1;
            let p = resolve(&snapshot, &params[i]);
            if p.get("in").and_then(Value::as_str) != Some("header") {
                continue;
            }
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            if is_header_name(name) {
                continue;
            }
            let shown: String = name.chars().flat_map(char::escape_debug).take(80).collect();
            changes.push(
                format!("{at}/parameters/{i}"),
                format!("header parameter \"{shown}\" is no HTTP header name (RFC 9110 token), so it cannot be sent: dropped"),
            );
            params.remove(i);
        }
    }
}

/// The `colliding-parameters` pass ([`colliding_parameters`]).
pub(crate) const COLLIDING_PARAMETERS: Pass = Pass::new(
    "colliding-parameters",
    Stage::Fix,
    "Parameters of one operation that become one Rust name (`to`, `to[]`; `StartTime`, `StartTime<`, `StartTime>`; a path item's `id` header and an operation's `id` query parameter) are all kept: the later ones get a Rust name of their own from their punctuation (`to_list`, `start_time_lt`, `start_time_gt`), their real name stays on the wire; two path parameters of one template (`{user-id}`, `{user_id}`) are renamed in the template, whose names are never sent.",
    colliding_parameters,
)
.with_rewrite(rewrite_wire_names)
.with_restore(restore_wire_names);

/// The operation extension [`colliding_parameters`] writes: `{"name it gave": "real name"}`
/// for each parameter it renamed.
pub(crate) const WIRE_NAMES: &str = "x-agentstatus-wire-names";

/// The words a parameter name's punctuation becomes in the name [`colliding_parameters`] gives
/// it (`StartTime<=` -> `StartTime_lte`, `to[]` -> `to_list`), longest first.
const PUNCTUATION: &[(&str, &str)] = &[
    ("<=", "lte"),
    (">=", "gte"),
    ("!=", "ne"),
    ("[]", "list"),
    ("<", "lt"),
    (">", "gt"),
    ("=", "eq"),
    ("!", "not"),
    (".", "dot"),
    ("-", "dash"),
    ("~", "tilde"),
    ("*", "star"),
    ("+", "plus"),
    ("@", "at"),
    ("$", "dollar"),
    ("%", "percent"),
    ("&", "and"),
    ("|", "or"),
    (":", "colon"),
    ("/", "slash"),
    (",", "comma"),
    ("#", "hash"),
    ("^", "caret"),
];

/// `name` with its punctuation spelled as words (see [`PUNCTUATION`]); other characters that
/// are not letters or digits (`[`, `]`, spaces) separate words.
fn spelled_name(name: &str) -> String {
    let mut words: Vec<String> = vec![String::new()];
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            words.last_mut().expect("one word").push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        match PUNCTUATION.iter().find(|(p, _)| rest.starts_with(p)) {
            Some((p, word)) => {
                words.push((*word).to_string());
                words.push(String::new());
                rest = &rest[p.len()..];
            }
            None => {
                words.push(String::new());
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    let out = words
        .iter()
        .map(|w| w.trim_matches('_'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    match out.chars().next() {
        None => "parameter".into(),
        Some(c) if c.is_ascii_digit() => format!("p_{out}"),
        Some(_) => out,
    }
}

/// Two parameters of one operation that become one Rust name (Engage Digital's `to` and
/// `to[]`; Twilio's `StartTime`, `StartTime<` and `StartTime>`) do not compile: progenitor
/// names the builder method and the field of each after its name. Of each such group the
/// plainest name (a path parameter's, else the one with the least punctuation, else the first)
/// is kept; every other one is renamed from its punctuation ([`spelled_name`]: `to_list`,
/// `StartTime_lt`; a number after it when that is taken too) and its real name recorded on the
/// operation ([`WIRE_NAMES`]): after generation its wire name is put back in the operation's
/// `send()` ([`rewrite_wire_names`]), so the request carries `StartTime<=...`. A path
/// parameter keeps its name against the others; two of one template that collide are told
/// apart in the template itself ([`colliding_path_names`]: a path parameter's name is never
/// sent), and a path item's parameters that collide with others are first declared on its
/// operations ([`path_level_collisions`]). A colliding header parameter whose name is no HTTP
/// header name (`X-Ids[]`), which the HTTP client would refuse when sending, is dropped, said
/// with its pointer.
pub(crate) fn colliding_parameters(doc: &mut Value, changes: &mut Changes) {
    colliding_path_names(doc, changes);
    path_level_collisions(doc, changes);
    let snapshot = doc.clone();
    for (path, method, op) in operations_mut(doc) {
        let Some(Value::Array(params)) = op.get_mut("parameters") else {
            continue;
        };
        let resolved: Vec<Value> = params
            .iter()
            .map(|p| resolve(&snapshot, p).clone())
            .collect();
        let name_of = |i: usize| {
            resolved[i]
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let in_path = |i: usize| resolved[i].get("in").and_then(Value::as_str) == Some("path");
        let punctuation = |i: usize| {
            name_of(i)
                .chars()
                .filter(|c| !c.is_ascii_alphanumeric() && *c != '_')
                .count()
        };
        // the Rust names, each with the parameters that become it
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in 0..params.len() {
            groups.entry(field_name(&name_of(i))).or_default().push(i);
        }
        if groups.values().all(|g| g.len() < 2) {
            continue;
        }
        let mut taken: std::collections::BTreeSet<String> = groups.keys().cloned().collect();
        let mut keeper: BTreeMap<usize, usize> = BTreeMap::new();
        for group in groups.values().filter(|g| g.len() > 1) {
            let kept = group
                .iter()
                .copied()
                .min_by_key(|&i| (!in_path(i), punctuation(i), i))
                .expect("a group has members");
            for &i in group {
                keeper.insert(i, kept);
            }
        }
        let at = op_pointer(&path, &method);
        let mut drop = Vec::new();
        let mut wire: Map<String, Value> = Map::new();
        for (i, p) in params.iter_mut().enumerate() {
            let Some(&kept) = keeper.get(&i) else {
                continue;
            };
            if kept == i {
                continue;
            }
            let name = name_of(i);
            let first = name_of(kept);
            if in_path(i) {
                changes.push(
                    format!("{at}/parameters/{i}"),
                    format!("path parameter {name:?} becomes the same Rust name as {first:?} and is named in the path template, so it cannot be renamed: dropped"),
                );
                drop.push(i);
                continue;
            }
            // progenitor writes a header's name as a `&'static str` the HTTP client parses when
            // the request is sent (and panics on): one that is no HTTP header name is not kept
            let header = resolved[i].get("in").and_then(Value::as_str) == Some("header");
            if header && !is_header_name(&name) {
                changes.push(
                    format!("{at}/parameters/{i}"),
                    format!("header parameter {name:?} becomes the same Rust name as {first:?} and is no HTTP header name, so it cannot be sent: dropped"),
                );
                drop.push(i);
                continue;
            }
            let base = spelled_name(&name);
            let mut new = base.clone();
            let mut n = 2;
            while taken.contains(&field_name(&new)) {
                new = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(field_name(&new));
            let mut renamed = resolved[i].clone();
            if let Some(m) = renamed.as_object_mut() {
                m.insert("name".into(), Value::String(new.clone()));
            }
            *p = renamed;
            wire.insert(new.clone(), Value::String(name.clone()));
            changes.push(
                format!("{at}/parameters/{i}"),
                format!("parameter {name:?} becomes the same Rust name as {first:?}: generated as {new:?}, sent as {name:?}"),
            );
        }
        for i in drop.into_iter().rev() {
            params.remove(i);
        }
        if wire.is_empty() {
            continue;
        }
        // the styles `query-parameter-styles` recorded are found by the name in the code
        if let Some(Value::Array(styles)) = op.get_mut(super::forms::QUERY_STYLES) {
            for s in styles {
                if let Some((new, _)) = s
                    .get("name")
                    .and_then(|n| wire.iter().find(|(_, w)| *w == n))
                {
                    s["name"] = Value::String(new.clone());
                }
            }
        }
        op.insert(WIRE_NAMES.into(), Value::Object(wire));
    }
}

/// The names of a path template's parameters (`/a/{x}/{y}`: `x`, `y`), each once, in order.
fn template_names(path: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in path
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
    {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// Where [`colliding_path_names`] records the path parameters it renamed, on the path item:
/// `{"name it gave": "name in the document"}`.
pub(crate) const PATH_NAMES: &str = "x-agentstatus-path-names";

/// Two parameters of one path template that become one Rust name (`/users/{user-id}/aliases/
/// {user_id}`) cannot both be generated under their names; a path parameter's name never goes
/// on the wire (only its value, in its place in the template), so the later one is renamed in
/// the template and in every declaration of the path item (`{user_dash_id}`), the template's
/// own names recorded ([`PATH_NAMES`]) for export.
fn colliding_path_names(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    let Some(paths) = crate::nav::paths_mut(doc) else {
        return;
    };
    // (path, the path renamed, (old name, new name) of each parameter renamed)
    type Renamed = (String, String, Vec<(String, String)>);
    let mut renamed: Vec<Renamed> = Vec::new();
    for (path, item) in paths.iter() {
        let names = template_names(path);
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            groups.entry(field_name(n)).or_default().push(i);
        }
        if groups.values().all(|g| g.len() < 2) {
            continue;
        }
        // every name of the path item's parameters is taken
        let mut taken: std::collections::BTreeSet<String> = groups.keys().cloned().collect();
        for (_, list) in crate::nav::parameter_lists(item) {
            for p in list {
                if let Some(n) = resolve(&snapshot, p).get("name").and_then(Value::as_str) {
                    taken.insert(field_name(n));
                }
            }
        }
        let punctuation = |n: &str| {
            n.chars()
                .filter(|c| !c.is_ascii_alphanumeric() && *c != '_')
                .count()
        };
        let mut renames: Vec<(String, String)> = Vec::new();
        for group in groups.values().filter(|g| g.len() > 1) {
            let kept = *group
                .iter()
                .min_by_key(|&&i| (punctuation(&names[i]), i))
                .expect("a group has members");
            for &i in group.iter().filter(|&&i| i != kept) {
                let base = spelled_name(&names[i]);
                let mut new = base.clone();
                let mut n = 2;
                while taken.contains(&field_name(&new)) {
                    new = format!("{base}_{n}");
                    n += 1;
                }
                taken.insert(field_name(&new));
                renames.push((names[i].clone(), new));
            }
        }
        let mut new_path = path.clone();
        for (old, new) in &renames {
            new_path = new_path.replace(&format!("{{{old}}}"), &format!("{{{new}}}"));
        }
        renamed.push((path.clone(), new_path, renames));
    }
    for (path, new_path, renames) in renamed {
        let at = format!("/paths/{}", escape_token(&path));
        if paths.contains_key(&new_path) {
            changes.push(
                at,
                format!("path parameters {} become the same Rust name as others of the template, and the path renamed {new_path:?} is taken: left as they are", renames.iter().map(|(o, _)| format!("{o:?}")).collect::<Vec<_>>().join(", ")),
            );
            continue;
        }
        // the path item under its new template, in its place
        let entries: Vec<(String, Value)> = std::mem::take(paths).into_iter().collect();
        for (k, mut v) in entries {
            if k != path {
                paths.insert(k, v);
                continue;
            }
            for (_, list) in crate::nav::parameter_lists_mut(&mut v) {
                for p in list {
                    let r = resolve(&snapshot, p);
                    if r.get("in") != Some(&json!("path")) {
                        continue;
                    }
                    let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                    if let Some((_, new)) = renames.iter().find(|(o, _)| o == name) {
                        let mut own = r.clone();
                        own["name"] = json!(new);
                        *p = own;
                    }
                }
            }
            if let Some(item) = v.as_object_mut() {
                let mark: Map<String, Value> =
                    renames.iter().map(|(o, n)| (n.clone(), json!(o))).collect();
                item.insert(PATH_NAMES.into(), Value::Object(mark));
            }
            paths.insert(new_path.clone(), v);
        }
        for (old, new) in &renames {
            changes.push(
                at.clone(),
                format!("path parameter {{{old}}} becomes the same Rust name as another of the template {path:?}: named {{{new}}} (a path parameter's name is never sent)"),
            );
        }
    }
}

/// Parameters of a path item (`parameters` beside its operations) that an operation's own
/// parameters do not override (OpenAPI 3.0 §4.7.9: the same name and location) are the
/// operation's too; progenitor 0.15 merges the two lists by name alone, so an operation's
/// `id` in the query silently replaced the path item's `id` header, and a path item's
/// parameter that becomes one Rust name with another was never renamed. Where a path item's
/// parameter becomes the Rust name of another one (of the path item's or of an operation's)
/// without being the same parameter, the path item's parameters are declared on each of its
/// operations instead (the overridden ones left out), so [`colliding_parameters`] renames
/// them as it renames any operation's.
fn path_level_collisions(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, item) in crate::nav::path_items_mut(doc) {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let shared: Vec<Value> = match item.get("parameters") {
            Some(Value::Array(list)) if !list.is_empty() => list.clone(),
            _ => continue,
        };
        let resolved: Vec<Value> = shared
            .iter()
            .map(|p| resolve(&snapshot, p).clone())
            .collect();
        let name = |p: &Value| {
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let methods: Vec<String> = item
            .keys()
            .filter(|k| crate::nav::is_method(k))
            .cloned()
            .collect();
        let mut why: Vec<String> = Vec::new();
        for (i, p) in resolved.iter().enumerate() {
            for q in &resolved[i + 1..] {
                if field_name(&name(p)) == field_name(&name(q)) && !same_parameter(p, q) {
                    why.push(format!("{:?} and {:?}", name(p), name(q)));
                }
            }
            for m in &methods {
                for q in item
                    .get(m)
                    .and_then(|op| op.get("parameters"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let q = resolve(&snapshot, q);
                    let exact = q.get("in") == p.get("in") && name(q) == name(p);
                    if field_name(&name(p)) == field_name(&name(q)) && !exact {
                        why.push(format!("{:?} and {m}'s {:?}", name(p), name(q)));
                    }
                }
            }
        }
        if why.is_empty() {
            continue;
        }
        item.remove("parameters");
        for m in &methods {
            let Some(Value::Object(op)) = item.get_mut(m) else {
                continue;
            };
            let own: Vec<Value> = match op.get("parameters") {
                Some(Value::Array(list)) => list.clone(),
                _ => Vec::new(),
            };
            let own_resolved: Vec<Value> =
                own.iter().map(|q| resolve(&snapshot, q).clone()).collect();
            let mut list: Vec<Value> = shared
                .iter()
                .zip(&resolved)
                .filter(|(_, p)| !own_resolved.iter().any(|q| same_parameter(p, q)))
                .map(|(p, _)| p.clone())
                .collect();
            list.extend(own);
            op.insert("parameters".into(), Value::Array(list));
        }
        why.dedup();
        changes.push(
            format!("/paths/{}/parameters", escape_token(path)),
            format!("the path item's parameters and others become one Rust name ({}; progenitor merges a path item's and an operation's parameters by name alone): declared on each operation instead, each parameter kept", why.join(", ")),
        );
    }
}

/// Is `name` an HTTP header name (RFC 9110 §5.1: a token)?
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// In the `send()` of an operation [`colliding_parameters`] renamed parameters of, the name it
/// gave (the string literal progenitor writes as the query key or header name) becomes the
/// parameter's real name again.
fn rewrite_wire_names(
    doc: &Value,
    _: &std::path::Path,
    tokens: proc_macro2::TokenStream,
) -> crate::error::Result<proc_macro2::TokenStream> {
    fn edit(tokens: proc_macro2::TokenStream, mark: &Value) -> proc_macro2::TokenStream {
        use proc_macro2::{Group, Literal, TokenTree};
        tokens
            .into_iter()
            .map(|t| match t {
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), edit(g.stream(), mark));
                    inner.set_span(g.span());
                    TokenTree::Group(inner)
                }
                TokenTree::Literal(l) => match super::forms::literal_text(&l)
                    .and_then(|text| mark.get(&text))
                    .and_then(Value::as_str)
                {
                    Some(wire) => {
                        let mut lit = Literal::string(wire);
                        lit.set_span(l.span());
                        TokenTree::Literal(lit)
                    }
                    None => TokenTree::Literal(l),
                },
                other => other,
            })
            .collect()
    }
    Ok(super::forms::in_marked_sends(
        tokens,
        &super::forms::marks_of(doc, WIRE_NAMES),
        &edit,
    ))
}

/// Undo [`colliding_parameters`]'s names for readers of the document other than this
/// generator (an exported document): each renamed parameter has its real name again.
pub(crate) fn restore_wire_names(doc: &mut Value) {
    restore_path_names(doc);
    for (_, _, op) in operations_mut(doc) {
        let Some(Value::Object(wire)) = op.remove(WIRE_NAMES) else {
            continue;
        };
        let Some(Value::Array(params)) = op.get_mut("parameters") else {
            continue;
        };
        for p in params {
            if let Some(real) = p
                .get("name")
                .and_then(Value::as_str)
                .and_then(|n| wire.get(n))
                .cloned()
            {
                p["name"] = real;
            }
        }
    }
}

/// Undo [`colliding_path_names`] for an exported document: each path parameter it renamed has
/// its name again, in the template and in its declarations.
fn restore_path_names(doc: &mut Value) {
    let Some(paths) = crate::nav::paths_mut(doc) else {
        return;
    };
    if !paths.values().any(|v| v.get(PATH_NAMES).is_some()) {
        return;
    }
    let entries: Vec<(String, Value)> = std::mem::take(paths).into_iter().collect();
    for (mut path, mut item) in entries {
        if let Some(Value::Object(names)) = item.as_object_mut().and_then(|m| m.remove(PATH_NAMES))
        {
            for (new, old) in &names {
                let Some(old) = old.as_str() else { continue };
                path = path.replace(&format!("{{{new}}}"), &format!("{{{old}}}"));
                for (_, list) in crate::nav::parameter_lists_mut(&mut item) {
                    for p in list {
                        if p.get("in") == Some(&json!("path")) && p.get("name") == Some(&json!(new))
                        {
                            p["name"] = json!(old);
                        }
                    }
                }
            }
        }
        paths.insert(path, item);
    }
}

/// The `parameter-content` pass ([`parameter_content`]).
pub(crate) const PARAMETER_CONTENT: Pass = Pass::new(
    "parameter-content",
    Stage::Fix,
    "A path, header or cookie parameter declared with `content:` instead of a schema (and a query parameter whose `content` is not JSON), which progenitor refuses (\"unexpected content\"), is generated with its media type's schema when that is a scalar, else as a string the caller writes in that media type.",
    parameter_content,
)
.with_restore(restore_parameter_content);

/// Where [`parameter_content`] keeps a parameter's declared `content` (its media type, schema
/// and examples as the document wrote them), for [`restore_parameter_content`]: the generator
/// never reads it (an extension), an exported document has `content` again instead.
const DECLARED_CONTENT: &str = "x-agentstatus-parameter-content";

/// progenitor 0.15 reads a parameter's `schema` only (`ParameterDataExt::schema`: "unexpected
/// content" for `content:`, which OpenAPI 3.0 allows instead of `schema`; Revolt's GitHub
/// webhook's `X-Github-Event` header). JSON in a query parameter is sent as JSON by the
/// `query-parameter-styles` pass; any other parameter with `content` gets its media type's
/// schema when that is a string, number, integer or boolean (a value progenitor writes as
/// text), else `type: string`: the caller passes the value already written in that media type.
pub(crate) fn parameter_content(doc: &mut Value, changes: &mut Changes) {
    for_each_parameter(doc, &mut |map, at| {
        if map.contains_key("schema") || map.contains_key("$ref") {
            return;
        }
        let Some(Value::Object(content)) = map.get("content") else {
            return;
        };
        let place = map
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // JSON in a query: `query-parameter-styles` sends it as JSON
        if place == "query"
            && crate::nav::json_media_type(content)
                .and_then(|m| content.get(m))
                .is_some_and(|m| m.get("schema").is_some())
        {
            return;
        }
        let Some((media, media_type)) = content.iter().next() else {
            return;
        };
        let media = media.clone();
        let scalar = media_type.get("schema").filter(|s| {
            s.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| matches!(t, "string" | "integer" | "number" | "boolean"))
                && s.get("properties").is_none()
                && s.get("$ref").is_none()
        });
        let (schema, what) = match scalar.cloned() {
            Some(s) => (s, "its schema"),
            None => (
                json!({"type": "string"}),
                "a string written in that media type",
            ),
        };
        if let Some(declared) = map.remove("content") {
            map.insert(DECLARED_CONTENT.into(), declared);
        }
        map.insert("schema".into(), schema);
        changes.push(
            at.to_string(),
            format!(
                "{place} parameter declared with `content` ({media:?}), which progenitor refuses: generated with {what}"
            ),
        );
    });
}

/// The `shared-parameter-types` pass ([`shared_parameter_types`]).
pub(crate) const SHARED_PARAMETER_TYPES: Pass = Pass::new(
    "shared-parameter-types",
    Stage::Fix,
    "A parameter whose schema is a type of its own (an enum, a string with a length or a pattern, an object with properties, a composition; or an array of one) declared once for several operations (a `components/parameters` entry they reference, a path item's parameter) has its schema made one component the declaration references: progenitor generated a copy of the type per operation, named after it (Harbor's `X-Request-Id`, `minLength: 1`: 203 identical `{Operation}XRequestId` types).",
    shared_parameter_types,
);

/// Does typify make a named type of `schema` where it stands inline (progenitor names it
/// `{Operation}{Parameter}`), rather than a built-in one (`String`, `i64`, `Vec<T>`, a map)?
fn own_parameter_type(schema: &Map<String, Value>) -> bool {
    if schema.contains_key("$ref") || schema.get("nullable") == Some(&Value::Bool(true)) {
        return false;
    }
    let single_ref = |k: &str| {
        schema
            .get(k)
            .and_then(Value::as_array)
            .is_some_and(|m| m.len() == 1 && m[0].get("$ref").is_some())
    };
    let composed = ["oneOf", "anyOf", "allOf"]
        .iter()
        .any(|k| schema.contains_key(*k) && !single_ref(k));
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let constrained_string = schema.get("type").and_then(Value::as_str) == Some("string")
        && ["minLength", "maxLength", "pattern"]
            .iter()
            .any(|k| schema.contains_key(*k));
    schema.contains_key("enum") || composed || properties || constrained_string
}

/// Does `v` hold a mark of this workspace's passes or a type chosen for the generator
/// (`x-agentstatus-*`, `x-rust-type`), which this pass leaves where it is?
fn marked(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k.starts_with("x-agentstatus-") || k.starts_with("x-rust-") || marked(v)),
        Value::Array(a) => a.iter().any(marked),
        _ => false,
    }
}

/// One declaration of a parameter that may be shared: a component (by its key) or an inline
/// declaration (by `in`, name and schema, written canonically).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Declaration {
    Component(String),
    Inline(String, String, String),
}

/// What [`shared_parameter_types`] knows of one declaration.
#[derive(Debug, Default)]
struct Shared {
    /// The operations that use it (`path`, `method`).
    operations: std::collections::BTreeSet<(String, String)>,
    /// Where it is declared: the pointers of the parameter objects.
    places: std::collections::BTreeSet<String>,
    /// The parameter's name (sent), its `in`.
    name: String,
    place: String,
    /// The schema that becomes a component, and whether it is the array's `items`.
    schema: Value,
    items: bool,
}

/// Harbor's shared `X-Request-Id` header (`minLength: 1`), referenced by each of its 203
/// operations, was generated as 203 identical newtypes `{Operation}XRequestId` (progenitor names
/// a parameter's inline type after its operation), and an enum declared alike in every list
/// operation as one enum per operation: types a caller cannot pass from one call to another.
/// A declaration several operations use (a `components/parameters` entry, a path item's
/// parameter) whose schema is a type of its own ([`own_parameter_type`], or an array of one:
/// its `items`) has the schema moved to `components/schemas` (named after the component, else
/// after the parameter; a name taken is followed by `Parameter`) and referenced from the
/// declaration. Two path items' parameters of one name and schema are one component; of one
/// name and different schemas, each keeps its own types, as do secrets (`secret-strings`
/// writes them into each parameter) and what an earlier pass marked. An operation's own
/// declaration stays its own even where another operation declares one alike (Rocket.Chat's
/// `{type}` in two paths): nothing in the document says they are one parameter, and the
/// generated API would change for a guess.
pub(crate) fn shared_parameter_types(doc: &mut Value, changes: &mut Changes) {
    let mut shared: BTreeMap<Declaration, Shared> = BTreeMap::new();
    for (path, method, op) in crate::nav::operations(doc) {
        let base = format!("/paths/{}", escape_token(path));
        let mut seen: Vec<(String, String)> = Vec::new();
        let own = op.get("parameters").and_then(Value::as_array);
        let item = crate::nav::path_item(doc, path).and_then(|i| i.get("parameters"));
        let lists = [
            (own, format!("{base}/{method}/parameters"), false),
            (
                item.and_then(Value::as_array),
                format!("{base}/parameters"),
                true,
            ),
        ];
        for (list, at, shared_list) in lists {
            for (i, p) in list.into_iter().flatten().enumerate() {
                let reference = p.get("$ref").and_then(Value::as_str);
                let resolved = resolve(doc, p);
                let Some(map) = resolved.as_object() else {
                    continue;
                };
                let name = map.get("name").and_then(Value::as_str).unwrap_or("");
                let place = map.get("in").and_then(Value::as_str).unwrap_or("");
                // an operation's own declaration overrides its path item's
                if seen.iter().any(|(n, p)| n == name && p == place) {
                    continue;
                }
                seen.push((name.to_string(), place.to_string()));
                if marked(resolved) || super::secrets::names_a_credential(name) {
                    continue;
                }
                let Some(schema) = map.get("schema").and_then(Value::as_object) else {
                    continue;
                };
                let (schema, items) = if own_parameter_type(schema) {
                    (Value::Object(schema.clone()), false)
                } else if schema.get("type").and_then(Value::as_str) == Some("array")
                    && let Some(items) = schema.get("items").and_then(Value::as_object)
                    && own_parameter_type(items)
                {
                    (Value::Object(items.clone()), true)
                } else {
                    continue;
                };
                if schema.get("format").and_then(Value::as_str) == Some("password") {
                    continue;
                }
                let (key, pointer) = match reference
                    .and_then(|r| r.strip_prefix("#/components/parameters/"))
                {
                    Some(k) if !k.contains('/') => (
                        Declaration::Component(crate::nav::unescape_token(k)),
                        format!("/components/parameters/{k}"),
                    ),
                    _ if reference.is_some() => continue,
                    // an operation's own declaration is its own, even where another operation
                    // declares one alike: nothing in the document says they are one parameter
                    _ if !shared_list => continue,
                    _ => (
                        Declaration::Inline(place.into(), name.into(), format!("{items} {schema}")),
                        format!("{at}/{i}"),
                    ),
                };
                let entry = shared.entry(key).or_default();
                entry
                    .operations
                    .insert((path.to_string(), method.to_string()));
                entry.places.insert(pointer);
                entry.name = name.to_string();
                entry.place = place.to_string();
                entry.schema = schema;
                entry.items = items;
            }
        }
    }
    shared.retain(|_, s| s.operations.len() >= 2);
    // one name, different schemas: no one component name says which
    let mut inline_names: BTreeMap<(String, String), usize> = BTreeMap::new();
    for key in shared.keys() {
        if let Declaration::Inline(place, name, _) = key {
            *inline_names
                .entry((place.clone(), name.clone()))
                .or_default() += 1;
        }
    }
    shared.retain(|key, _| match key {
        Declaration::Inline(place, name, _) => inline_names[&(place.clone(), name.clone())] == 1,
        Declaration::Component(_) => true,
    });
    if shared.is_empty() {
        return;
    }
    let mut taken: std::collections::BTreeSet<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(k, _)| [k.clone(), crate::nav::type_name(k)])
        .collect();
    for (key, s) in shared {
        let stem = match &key {
            Declaration::Component(k) => crate::nav::type_name(k),
            Declaration::Inline(_, name, _) => crate::nav::type_name(name),
        };
        let stem = if s.items { format!("{stem}Item") } else { stem };
        let mut component = stem.clone();
        let mut n = 1;
        while taken.contains(&component) {
            component = if n == 1 {
                format!("{stem}Parameter")
            } else {
                format!("{stem}Parameter{n}")
            };
            n += 1;
        }
        taken.insert(component.clone());
        let Some(schemas) = doc
            .as_object_mut()
            .map(|d| d.entry("components").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .map(|c| c.entry("schemas").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        schemas.insert(component.clone(), s.schema);
        let reference =
            json!({"$ref": format!("#/components/schemas/{}", escape_token(&component))});
        for place in &s.places {
            let at = if s.items {
                format!("{place}/schema/items")
            } else {
                format!("{place}/schema")
            };
            if let Some(slot) = doc.pointer_mut(&at) {
                *slot = reference.clone();
                changes.push(
                    at,
                    format!(
                        "the {} parameter `{}` is declared once for {} operations: its type is the component `{component}`, one type, not one per operation",
                        s.place,
                        s.name,
                        s.operations.len()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod parameter_content_tests {
    use std::path::Path;

    use serde_json::Value;

    /// Every parameter of `doc` (operations', path items' and components') with its pointer.
    fn parameters(doc: &mut Value) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        super::for_each_parameter(doc, &mut |map, at| {
            out.push((at.to_string(), Value::Object(map.clone())))
        });
        out
    }

    #[test]
    fn export_gives_back_each_parameters_declared_content() {
        for spec in ["parameter-content.yaml", "parameter-content--shared.yaml"] {
            let file = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/passes")
                .join(spec);
            let loaded = crate::load::load_file(&file).unwrap();
            let prepared = crate::Codegen::document(loaded.clone(), &file)
                .prepare()
                .unwrap();
            // the document as the fixes found it (normalised: media type keys in lower case)
            let mut original = loaded;
            crate::passes::run(super::Stage::Input, &mut original);
            crate::passes::run(super::Stage::Normalise, &mut original);
            // the generator sees a schema, and the declared content only in the mark
            let mut generated = prepared.doc.clone();
            let marked: Vec<(String, Value)> = parameters(&mut generated)
                .into_iter()
                .filter(|(_, p)| p.get(super::DECLARED_CONTENT).is_some())
                .collect();
            assert!(
                !marked.is_empty(),
                "{spec}: no parameter was given a schema"
            );
            for (at, p) in &marked {
                assert!(
                    p.get("schema").is_some() && p.get("content").is_none(),
                    "{spec} {at}: {p}"
                );
            }
            // the exported document declares them as the document did: `content`, no schema, no
            // mark
            let mut exported = prepared.exported();
            let exported = parameters(&mut exported);
            for (at, _) in &marked {
                let (_, p) = exported.iter().find(|(a, _)| a == at).unwrap();
                let (_, before) = parameters(&mut original)
                    .into_iter()
                    .find(|(a, _)| a == at)
                    .unwrap();
                assert_eq!(p.get("content"), before.get("content"), "{spec} {at}");
                assert!(p.get("schema").is_none(), "{spec} {at}: {p}");
                assert!(p.get(super::DECLARED_CONTENT).is_none(), "{spec} {at}: {p}");
            }
            // and nothing else of the pass's is left
            let text = serde_json::to_string(&exported).unwrap();
            assert!(!text.contains(super::DECLARED_CONTENT), "{spec}: {text}");
        }
    }
}

#[cfg(test)]
mod shared_parameter_types_tests {
    use std::path::Path;

    /// The Rust types the generated code of `spec` (in `tests/passes`) defines.
    fn defined_types(spec: &str) -> Vec<String> {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/passes")
            .join(spec);
        let loaded = crate::load::load_file(&file).unwrap();
        let code = crate::Codegen::document(loaded, &file)
            .isolate(false)
            .prepare()
            .unwrap()
            .generate()
            .unwrap()
            .code;
        code.lines()
            .filter_map(|l| {
                let t = l.trim_start();
                t.strip_prefix("pub struct ")
                    .or_else(|| t.strip_prefix("pub enum "))
            })
            .map(|r| r.chars().take_while(|c| c.is_alphanumeric()).collect())
            .collect()
    }

    #[test]
    fn a_shared_parameter_has_one_type_not_one_per_operation() {
        let types = defined_types("shared-parameter-types.yaml");
        // the component, the path item's parameters
        for one in ["RequestId", "Kind", "StateItem"] {
            assert_eq!(
                types.iter().filter(|t| *t == one).count(),
                1,
                "{one}: {types:?}"
            );
        }
        for copy in [
            "ListProjectsXRequestId",
            "ListRepositoriesXRequestId",
            "CreateRepositoryXRequestId",
            "ListRepositoriesKind",
            "CreateRepositoryKind",
            "ListRepositoriesStateItem",
            "CreateRepositoryStateItem",
        ] {
            assert!(!types.iter().any(|t| t == copy), "{copy}: {types:?}");
        }
        // an operation's own declarations, alike or of one name: each keeps its own type
        for own in [
            "ListProjectsOrder",
            "ListRepositoriesOrder",
            "ListProjectsSort",
            "ListRepositoriesSort",
        ] {
            assert!(types.iter().any(|t| t == own), "{own}: {types:?}");
        }
        // a credential is no type of its own (`secret-strings`)
        assert!(!types.iter().any(|t| t.contains("ApiKey")), "{types:?}");
    }
}
