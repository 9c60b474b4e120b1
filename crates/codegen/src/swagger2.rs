//! Swagger 2.0 in: a `swagger: "2.0"` document is converted to OpenAPI 3.0.3 by the loader, so
//! the generator, regen and the drift check all read the same OpenAPI 3 document (Slack,
//! Genesys Cloud and Chatwoot before 2025 publish 2.0 only).
//!
//! What is converted, after the OpenAPI 3.0.3 specification's own "changes from 2.0" and
//! swagger2openapi's rules:
//! - `host` + `basePath` + `schemes` become `servers`;
//! - `definitions`, `parameters`, `responses`, `securityDefinitions` move under `components`
//!   (a shared `body` or `formData` parameter becomes a `components.requestBodies` entry), and
//!   every `$ref` follows them;
//! - a `body` parameter becomes the `requestBody`, with one media type per `consumes`
//!   (`application/json` when none is declared); `formData` parameters become one object schema
//!   under `application/x-www-form-urlencoded` or `multipart/form-data` (a `type: file`
//!   parameter, or a `consumes` naming multipart), `required` kept;
//! - a non-body parameter's `type`, `format`, `items`, `enum`, `default` and bounds become its
//!   `schema`; `collectionFormat` becomes `style`/`explode` (`csv`, 2.0's default for an array
//!   without one, `ssv`, `pipes`, `multi`), a form body's the `encoding` of its field; where
//!   3.0 has no such style (`tsv`; `ssv` or `pipes` in a path or header, a delimited multipart
//!   field) the array becomes a string the caller joins, as its description says;
//! - a response's `schema` becomes its `content`, one media type per `produces`, its `examples`
//!   the media types' `example`, its `headers` schemas;
//! - in every schema: `x-nullable: true` becomes `nullable: true`, `type: file` becomes
//!   `string`/`binary`, a string `discriminator` becomes `{propertyName}`;
//! - security schemes: `basic` becomes `http`/`basic`, `oauth2` flows get their 3.0 names
//!   (`application` -> `clientCredentials`, `accessCode` -> `authorizationCode`).
//!
//! Every moved node's old place is remembered ([`Upgraded::original`]), so a drift finding on the
//! converted document is reported at the vendor file's own `line:col`.
//!
//! A document that says `swagger` with any other version is refused, naming it.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind, Result, escape_token};

/// Schema keywords a 2.0 non-body parameter or header carries beside `name`/`in`.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "items",
    "collectionFormat",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

/// A converted document and where its nodes came from.
#[derive(Debug, Clone, Default)]
pub struct Upgraded {
    /// `(pointer in the 3.0 document, pointer in the 2.0 document)`: every node under the
    /// first is the node under the second (the rest of the pointer unchanged).
    moves: Vec<(String, String)>,
}

impl Upgraded {
    /// Where the node at `pointer` of the converted document is in the 2.0 document it came
    /// from (the longest moved prefix, the rest of the pointer kept); unmoved pointers are the
    /// same in both.
    pub fn original(&self, pointer: &str) -> String {
        let mut best: Option<&(String, String)> = None;
        for m in &self.moves {
            let p = m.0.as_str();
            let under = pointer == p
                || (pointer.starts_with(p) && pointer.as_bytes().get(p.len()) == Some(&b'/'));
            if under && best.is_none_or(|b| b.0.len() < p.len()) {
                best = Some(m);
            }
        }
        match best {
            Some((new, old)) => format!("{old}{}", &pointer[new.len()..]),
            None => pointer.to_string(),
        }
    }

    fn moved(&mut self, new: String, old: String) {
        if new != old {
            self.moves.push((new, old));
        }
    }
}

/// Convert `doc` to OpenAPI 3.0.3 in place when it is a Swagger 2.0 document; `None` when it is
/// not a Swagger document (left as it is). `origin` names the file in errors.
pub fn upgrade(doc: &mut Value, origin: &Path) -> Result<Option<Upgraded>> {
    let Some(version) = doc.get("swagger") else {
        return Ok(None);
    };
    if version.as_str() != Some("2.0") {
        return Err(Error::at(
            ErrorKind::Invalid,
            origin,
            "/swagger",
            format!(
                "Swagger version {} is not supported: only Swagger 2.0 (converted to OpenAPI 3.0) and OpenAPI 3.0/3.1",
                crate::prose::visible(&version.to_string().chars().take(40).collect::<String>())
            ),
        ));
    }
    if doc.get("openapi").is_some() {
        return Err(Error::at(
            ErrorKind::Invalid,
            origin,
            "",
            "the document says both `swagger` and `openapi`: which version it is cannot be told",
        ));
    }
    let Value::Object(root) = std::mem::take(doc) else {
        unreachable!("a document with a `swagger` key is an object")
    };
    let mut up = Upgraded::default();
    *doc = Converter::new(root, &mut up).run();
    Ok(Some(up))
}

struct Converter<'u> {
    root: Map<String, Value>,
    consumes: Vec<String>,
    produces: Vec<String>,
    /// The shared parameters of the 2.0 document (to tell a `$ref` to a body or form parameter).
    parameters: Map<String, Value>,
    up: &'u mut Upgraded,
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// `#/definitions/X` -> `#/components/schemas/X`, and so on; `None` for a reference that is
/// not to a moved section (left as it is).
fn moved_ref(reference: &str, parameters: &Map<String, Value>) -> Option<String> {
    let rest = reference.strip_prefix("#/")?;
    let (section, name) = rest.split_once('/')?;
    let to = match section {
        "definitions" => "schemas",
        "responses" => "responses",
        "securityDefinitions" => "securitySchemes",
        "parameters" => {
            let key = crate::nav::unescape_token(name.split('/').next().unwrap_or(name));
            match parameters
                .get(&key)
                .and_then(|p| p.get("in"))
                .and_then(Value::as_str)
            {
                Some("body") | Some("formData") => "requestBodies",
                _ => "parameters",
            }
        }
        _ => return None,
    };
    Some(format!("#/components/{to}/{name}"))
}

impl<'u> Converter<'u> {
    fn new(root: Map<String, Value>, up: &'u mut Upgraded) -> Self {
        let consumes = strings(root.get("consumes")).unwrap_or_default();
        let produces = strings(root.get("produces")).unwrap_or_default();
        let parameters = root
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Converter {
            root,
            consumes,
            produces,
            parameters,
            up,
        }
    }

    fn run(mut self) -> Value {
        let mut out = Map::new();
        out.insert("openapi".into(), json!("3.0.3"));
        self.root.remove("swagger");
        if let Some(info) = self.root.remove("info") {
            out.insert("info".into(), info);
        }
        if let Some(servers) = self.servers() {
            out.insert("servers".into(), servers);
        }
        let mut components = Map::new();
        if let Some(Value::Object(defs)) = self.root.remove("definitions") {
            for (name, schema) in defs {
                let t = escape_token(&name);
                self.up.moved(
                    format!("/components/schemas/{t}"),
                    format!("/definitions/{t}"),
                );
                put(&mut components, "schemas", name, schema);
            }
        }
        if let Some(Value::Object(params)) = self.root.remove("parameters") {
            for (name, param) in params {
                let t = escape_token(&name);
                let at = format!("/parameters/{t}");
                let is_body = matches!(
                    param.get("in").and_then(Value::as_str),
                    Some("body") | Some("formData")
                );
                if is_body {
                    let new = format!("/components/requestBodies/{t}");
                    let body =
                        self.request_body(&[(param, at.clone())], &self.consumes.clone(), &new);
                    if let Some(body) = body {
                        put(&mut components, "requestBodies", name, body);
                    }
                } else {
                    let new = format!("/components/parameters/{t}");
                    let p = self.parameter(param, &at, &new);
                    put(&mut components, "parameters", name, p);
                }
            }
        }
        if let Some(Value::Object(responses)) = self.root.remove("responses") {
            for (name, response) in responses {
                let t = escape_token(&name);
                let r = self.response(
                    response,
                    &self.produces.clone(),
                    &format!("/responses/{t}"),
                    &format!("/components/responses/{t}"),
                );
                put(&mut components, "responses", name, r);
            }
        }
        if let Some(Value::Object(schemes)) = self.root.remove("securityDefinitions") {
            for (name, scheme) in schemes {
                let t = escape_token(&name);
                self.up.moved(
                    format!("/components/securitySchemes/{t}"),
                    format!("/securityDefinitions/{t}"),
                );
                put(
                    &mut components,
                    "securitySchemes",
                    name,
                    security_scheme(scheme),
                );
            }
        }
        if let Some(Value::Object(paths)) = self.root.remove("paths") {
            let mut new_paths = Map::new();
            for (path, item) in paths {
                let at = format!("/paths/{}", escape_token(&path));
                new_paths.insert(path, self.path_item(item, &at));
            }
            out.insert("paths".into(), Value::Object(new_paths));
        } else {
            out.insert("paths".into(), json!({}));
        }
        // what 2.0 has at its root and 3.0 does not
        for key in ["host", "basePath", "schemes", "consumes", "produces"] {
            self.root.remove(key);
        }
        // the rest (security, tags, externalDocs, x-*) is the same in 3.0
        for (k, v) in std::mem::take(&mut self.root) {
            out.insert(k, v);
        }
        if !components.is_empty() {
            out.insert("components".into(), Value::Object(components));
        }
        let mut doc = Value::Object(out);
        let parameters = std::mem::take(&mut self.parameters);
        fix_schemas_and_refs(&mut doc, &parameters);
        doc
    }

    fn servers(&self) -> Option<Value> {
        let host = self.root.get("host").and_then(Value::as_str);
        let base = self
            .root
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("");
        let schemes = strings(self.root.get("schemes")).unwrap_or_default();
        match host {
            Some(host) => {
                let schemes = if schemes.is_empty() {
                    vec!["https".to_string()]
                } else {
                    schemes
                };
                Some(Value::Array(
                    schemes
                        .iter()
                        .map(|s| json!({"url": format!("{s}://{host}{base}")}))
                        .collect(),
                ))
            }
            None if !base.is_empty() => Some(json!([{"url": base}])),
            None => None,
        }
    }

    fn path_item(&mut self, item: Value, at: &str) -> Value {
        let Value::Object(mut item) = item else {
            return item;
        };
        // path-level parameters: the non-body ones stay; a body or form one joins each
        // operation's own
        let shared_body = self.take_parameters(&mut item, at);
        let mut out = Map::new();
        for (key, value) in item {
            let value = if crate::nav::is_method(&key) {
                let op_at = format!("{at}/{key}");
                self.operation(value, &op_at, &shared_body)
            } else {
                value
            };
            out.insert(key, value);
        }
        Value::Object(out)
    }

    /// The `parameters` list of a path item or an operation at `at`: its non-body parameters
    /// converted and written back in their new order, its body and form ones returned with
    /// their 2.0 pointers. A `parameters` that is not a list stays as it is.
    fn take_parameters(&mut self, obj: &mut Map<String, Value>, at: &str) -> Vec<(Value, String)> {
        let list = match obj.remove("parameters") {
            Some(Value::Array(list)) => list,
            Some(other) => {
                obj.insert("parameters".into(), other);
                return Vec::new();
            }
            None => return Vec::new(),
        };
        let (body, plain): (Vec<_>, Vec<_>) = list
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, format!("{at}/parameters/{i}")))
            .partition(|(p, _)| self.is_body(p));
        if !plain.is_empty() {
            let mut converted = Vec::new();
            for (p, old) in plain {
                let new = format!("{at}/parameters/{}", converted.len());
                converted.push(self.parameter(p, &old, &new));
            }
            obj.insert("parameters".into(), Value::Array(converted));
        }
        body
    }

    fn is_body(&self, p: &Value) -> bool {
        let p = match p.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/parameters/")
                .and_then(|n| self.parameters.get(&crate::nav::unescape_token(n)))
                .unwrap_or(p),
            None => p,
        };
        matches!(
            p.get("in").and_then(Value::as_str),
            Some("body") | Some("formData")
        )
    }

    fn operation(&mut self, op: Value, at: &str, shared_body: &[(Value, String)]) -> Value {
        let Value::Object(mut op) = op else {
            return op;
        };
        let consumes = strings(op.remove("consumes").as_ref()).unwrap_or(self.consumes.clone());
        let produces = strings(op.remove("produces").as_ref()).unwrap_or(self.produces.clone());
        op.remove("schemes");
        let mut body = self.take_parameters(&mut op, at);
        if body.is_empty() {
            body = shared_body.to_vec();
        }
        if !body.is_empty() {
            let new = format!("{at}/requestBody");
            if let Some(b) = self.request_body(&body, &consumes, &new) {
                op.insert("requestBody".into(), b);
            }
        }
        if let Some(Value::Object(responses)) = op.remove("responses") {
            let mut out = Map::new();
            for (code, r) in responses {
                let t = escape_token(&code);
                let r = self.response(
                    r,
                    &produces,
                    &format!("{at}/responses/{t}"),
                    &format!("{at}/responses/{t}"),
                );
                out.insert(code, r);
            }
            op.insert("responses".into(), Value::Object(out));
        }
        Value::Object(op)
    }

    /// A non-body parameter: its schema keywords become its `schema`.
    fn parameter(&mut self, p: Value, old: &str, new: &str) -> Value {
        self.up.moved(new.to_string(), old.to_string());
        let Value::Object(mut p) = p else { return p };
        if p.contains_key("$ref") {
            return Value::Object(p);
        }
        let location = p
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let collection = collection_format(&p);
        let mut schema = take_schema(&mut p);
        if let Some(format) = collection {
            match collection_style(format, &location) {
                Some((style, explode)) => {
                    p.insert("style".into(), json!(style));
                    p.insert("explode".into(), json!(explode));
                }
                None => joined_by_hand(&mut schema, &mut p, format),
            }
        }
        if !schema.is_empty() {
            // the schema's keywords were the parameter's own
            self.up.moved(format!("{new}/schema"), old.to_string());
            p.insert("schema".into(), Value::Object(schema));
        }
        if location != "query" {
            p.remove("allowEmptyValue");
        }
        Value::Object(p)
    }

    /// The body of an operation from its `body` parameter or its `formData` parameters.
    fn request_body(
        &mut self,
        params: &[(Value, String)],
        consumes: &[String],
        new: &str,
    ) -> Option<Value> {
        // a single reference to a shared body parameter is a reference to its request body
        if let [(p, old)] = params
            && let Some(r) = p.get("$ref").and_then(Value::as_str)
        {
            self.up.moved(new.to_string(), old.clone());
            return Some(json!({"$ref": r}));
        }
        let resolved: Vec<(Value, String)> = params
            .iter()
            .map(|(p, old)| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r
                        .strip_prefix("#/parameters/")
                        .map(crate::nav::unescape_token)
                        .unwrap_or_default();
                    match self.parameters.get(&name) {
                        Some(shared) => (
                            shared.clone(),
                            format!("/parameters/{}", escape_token(&name)),
                        ),
                        None => (p.clone(), old.clone()),
                    }
                }
                None => (p.clone(), old.clone()),
            })
            .collect();
        if let Some((body, old)) = resolved
            .iter()
            .find(|(p, _)| p.get("in").and_then(Value::as_str) == Some("body"))
        {
            // a body is never form fields: of the declared types, the others
            let mut types: Vec<String> = consumes.iter().filter(|t| !is_form(t)).cloned().collect();
            if types.is_empty() {
                types.push("application/json".into());
            }
            let schema = body.get("schema").cloned().unwrap_or_else(|| json!({}));
            let mut content = Map::new();
            for t in &types {
                self.up.moved(
                    format!("{new}/content/{}/schema", escape_token(t)),
                    format!("{old}/schema"),
                );
                content.insert(t.clone(), json!({"schema": schema.clone()}));
            }
            self.up.moved(new.to_string(), old.clone());
            let mut out = Map::new();
            if let Some(d) = body.get("description") {
                out.insert("description".into(), d.clone());
            }
            out.insert("content".into(), Value::Object(content));
            if body.get("required").and_then(Value::as_bool) == Some(true) {
                out.insert("required".into(), json!(true));
            }
            if let Some(name) = body.get("name") {
                out.insert("x-codegen-request-body-name".into(), name.clone());
            }
            return Some(Value::Object(out));
        }
        // form fields: one object schema
        let has_file = resolved
            .iter()
            .any(|(p, _)| p.get("type").and_then(Value::as_str) == Some("file"));
        let media = if has_file
            || consumes
                .iter()
                .any(|t| t.starts_with("multipart/form-data"))
        {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let schema_at = format!("{new}/content/{}/schema", escape_token(media));
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        for (p, old) in &resolved {
            let Some(name) = p.get("name").and_then(Value::as_str) else {
                continue;
            };
            let mut p = p.as_object().cloned().unwrap_or_default();
            let collection = collection_format(&p);
            let mut schema = take_schema(&mut p);
            if let Some(format) = collection {
                // a form body's arrays are written by its `encoding` (`form-bodies` sends them);
                // a multipart body's by one part per item (`multi`), and no other way
                match collection_style(format, "query") {
                    Some((style, explode)) if media == "application/x-www-form-urlencoded" => {
                        encoding.insert(
                            name.to_string(),
                            json!({"style": style, "explode": explode}),
                        );
                    }
                    Some((_, true)) => {}
                    _ => joined_by_hand(&mut schema, &mut p, format),
                }
            }
            if let Some(d) = p.get("description") {
                schema.insert("description".into(), d.clone());
            }
            if p.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(json!(name));
            }
            self.up.moved(
                format!("{schema_at}/properties/{}", escape_token(name)),
                old.clone(),
            );
            properties.insert(name.to_string(), Value::Object(schema));
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = Value::Array(required);
        }
        self.up.moved(new.to_string(), resolved[0].1.clone());
        let mut media_type = json!({"schema": schema});
        if !encoding.is_empty() {
            media_type["encoding"] = Value::Object(encoding);
        }
        Some(json!({"content": {media: media_type}}))
    }

    fn response(&mut self, r: Value, produces: &[String], old: &str, new: &str) -> Value {
        self.up.moved(new.to_string(), old.to_string());
        let Value::Object(mut r) = r else { return r };
        if r.contains_key("$ref") {
            return Value::Object(r);
        }
        let schema = r.remove("schema");
        let examples = r.remove("examples");
        if schema.is_some() || examples.is_some() {
            let mut types: Vec<String> = if produces.is_empty() {
                vec!["application/json".into()]
            } else {
                produces.to_vec()
            };
            if let Some(Value::Object(ex)) = &examples {
                for t in ex.keys() {
                    if !types.contains(t) && schema.is_none() {
                        types.push(t.clone());
                    }
                }
            }
            let mut content = Map::new();
            for t in &types {
                let mut media = Map::new();
                if let Some(s) = &schema {
                    self.up.moved(
                        format!("{new}/content/{}/schema", escape_token(t)),
                        format!("{old}/schema"),
                    );
                    media.insert("schema".into(), s.clone());
                }
                if let Some(e) = examples.as_ref().and_then(|e| e.get(t)) {
                    self.up.moved(
                        format!("{new}/content/{}/example", escape_token(t)),
                        format!("{old}/examples/{}", escape_token(t)),
                    );
                    media.insert("example".into(), e.clone());
                }
                content.insert(t.clone(), Value::Object(media));
            }
            r.insert("content".into(), Value::Object(content));
        }
        if let Some(Value::Object(headers)) = r.remove("headers") {
            let mut out = Map::new();
            for (name, h) in headers {
                let mut h = h.as_object().cloned().unwrap_or_default();
                let schema = take_schema(&mut h);
                if !schema.is_empty() {
                    h.insert("schema".into(), Value::Object(schema));
                }
                out.insert(name, Value::Object(h));
            }
            r.insert("headers".into(), Value::Object(out));
        }
        r.entry("description").or_insert_with(|| json!(""));
        Value::Object(r)
    }
}

/// The `collectionFormat` of a 2.0 parameter (or form field) that is an array: the declared one,
/// else 2.0's default, `csv`; none for a scalar.
fn collection_format(p: &Map<String, Value>) -> Option<&'static str> {
    if p.get("type").and_then(Value::as_str) != Some("array") {
        return None;
    }
    Some(match p.get("collectionFormat").and_then(Value::as_str) {
        Some("ssv") => "ssv",
        Some("tsv") => "tsv",
        Some("pipes") => "pipes",
        Some("multi") => "multi",
        _ => "csv",
    })
}

/// The 3.0 `style` and `explode` of a 2.0 `collectionFormat` in `location`, none where 3.0 has
/// no such style (`tsv` anywhere; `ssv` and `pipes` outside a query). `multi` is 2.0's for a
/// query or form field only; elsewhere it is read as the default, `csv`.
fn collection_style(format: &str, location: &str) -> Option<(&'static str, bool)> {
    Some(match (format, location) {
        ("multi", "query") => ("form", true),
        ("ssv", "query") => ("spaceDelimited", false),
        ("pipes", "query") => ("pipeDelimited", false),
        ("tsv", _) | ("ssv" | "pipes", _) => return None,
        (_, "query" | "cookie") => ("form", false),
        _ => ("simple", false),
    })
}

/// A 2.0 array whose `collectionFormat` has no 3.0 style: a string the caller writes with the
/// items joined by its delimiter, as its description now says.
fn joined_by_hand(schema: &mut Map<String, Value>, p: &mut Map<String, Value>, format: &str) {
    let delimiter = match format {
        "ssv" => "spaces",
        "tsv" => "tabs",
        "pipes" => "`|`",
        _ => "commas",
    };
    let item = schema
        .get("items")
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("value")
        .to_string();
    schema.clear();
    schema.insert("type".into(), json!("string"));
    let note = format!(
        "One or more {item} values, separated by {delimiter} (Swagger 2.0 `collectionFormat: {format}`, which OpenAPI 3.0 has no style for here)."
    );
    let description = match p.get("description").and_then(Value::as_str) {
        Some(d) => format!("{d}\n\n{note}"),
        None => note,
    };
    p.insert("description".into(), Value::String(description));
}

/// `value` as `components.<section>.<name>`.
fn put(components: &mut Map<String, Value>, section: &str, name: String, value: Value) {
    if let Value::Object(s) = components
        .entry(section)
        .or_insert_with(|| Value::Object(Map::new()))
    {
        s.insert(name, value);
    }
}

fn is_form(media: &str) -> bool {
    media.starts_with("application/x-www-form-urlencoded")
        || media.starts_with("multipart/form-data")
}

/// Move a 2.0 parameter's (or header's) schema keywords into a schema of their own.
fn take_schema(p: &mut Map<String, Value>) -> Map<String, Value> {
    let mut schema = Map::new();
    for key in SCHEMA_KEYS {
        if let Some(v) = p.remove(*key)
            && *key != "collectionFormat"
        {
            schema.insert((*key).to_string(), v);
        }
    }
    if let Some(v) = p.remove("x-nullable") {
        schema.insert("x-nullable".into(), v);
    }
    // a parameter whose schema came in a `schema` already (not valid 2.0, but seen)
    if schema.is_empty()
        && let Some(Value::Object(s)) = p.remove("schema")
    {
        return s;
    }
    schema
}

fn security_scheme(scheme: Value) -> Value {
    let Value::Object(mut s) = scheme else {
        return scheme;
    };
    match s.get("type").and_then(Value::as_str) {
        Some("basic") => {
            s.insert("type".into(), json!("http"));
            s.insert("scheme".into(), json!("basic"));
        }
        Some("oauth2") => {
            let flow = s.remove("flow");
            let mut f = Map::new();
            for key in ["authorizationUrl", "tokenUrl"] {
                if let Some(v) = s.remove(key) {
                    f.insert(key.into(), v);
                }
            }
            f.insert(
                "scopes".into(),
                s.remove("scopes").unwrap_or_else(|| json!({})),
            );
            let name = match flow.as_ref().and_then(Value::as_str) {
                Some("implicit") => "implicit",
                Some("password") => "password",
                Some("application") => "clientCredentials",
                Some("accessCode") => "authorizationCode",
                _ => "clientCredentials",
            };
            let mut flows = Map::new();
            flows.insert(name.into(), Value::Object(f));
            s.insert("flows".into(), Value::Object(flows));
        }
        _ => {}
    }
    Value::Object(s)
}

/// Every `$ref` to a moved section follows it; in every object: `x-nullable` becomes
/// `nullable`, `type: file` a binary string, a string `discriminator` its 3.0 object. The walk
/// is [`crate::nav::walk_mut`]'s: examples and defaults are data (a `$ref` key in them is not a
/// reference), a response or property named `default` is not.
fn fix_schemas_and_refs(doc: &mut Value, parameters: &Map<String, Value>) {
    crate::nav::walk_mut(doc, "", &mut |map, _| {
        if let Some(Value::String(r)) = map.get("$ref")
            && let Some(to) = moved_ref(r, parameters)
        {
            map.insert("$ref".into(), Value::String(to));
        }
        if let Some(n) = map.remove("x-nullable") {
            map.insert("nullable".into(), n);
        }
        if map.get("type").and_then(Value::as_str) == Some("file") {
            map.insert("type".into(), json!("string"));
            map.insert("format".into(), json!("binary"));
        }
        if let Some(Value::String(d)) = map.get("discriminator") {
            let d = d.clone();
            map.insert("discriminator".into(), json!({"propertyName": d}));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(doc: Value) -> (Value, Upgraded) {
        let mut doc = doc;
        let u = upgrade(&mut doc, Path::new("t.json")).unwrap().unwrap();
        (doc, u)
    }

    #[test]
    fn a_3_0_document_is_left_alone() {
        let mut doc = json!({"openapi": "3.0.3", "paths": {}});
        let before = doc.clone();
        assert!(upgrade(&mut doc, Path::new("t")).unwrap().is_none());
        assert_eq!(doc, before);
    }

    #[test]
    fn other_swagger_versions_are_refused_with_the_pointer() {
        let mut doc = json!({"swagger": "1.2", "paths": {}});
        let e = upgrade(&mut doc, Path::new("t.json")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.pointer(), Some("/swagger"));
        assert!(
            e.message.contains("Swagger version \"1.2\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn servers_components_and_refs() {
        let (doc, u) = up(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "host": "api.example.com", "basePath": "/v1", "schemes": ["https", "http"],
            "definitions": {"Agent": {"type": "object", "properties": {
                "boss": {"$ref": "#/definitions/Agent"},
                "nick": {"type": "string", "x-nullable": true},
                "example": {"type": "string", "example": {"$ref": "#/definitions/Agent"}}
            }}},
            "securityDefinitions": {
                "basic": {"type": "basic"},
                "key": {"type": "apiKey", "name": "api_access_token", "in": "header"},
                "oauth": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t/token", "scopes": {"a": "b"}}
            },
            "security": [{"key": []}],
            "paths": {}
        }));
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc.get("swagger").is_none() && doc.get("definitions").is_none());
        assert_eq!(
            doc["servers"],
            json!([{"url": "https://api.example.com/v1"}, {"url": "http://api.example.com/v1"}])
        );
        let agent = &doc["components"]["schemas"]["Agent"];
        assert_eq!(
            agent["properties"]["boss"]["$ref"],
            "#/components/schemas/Agent"
        );
        assert_eq!(agent["properties"]["nick"]["nullable"], true);
        assert!(agent["properties"]["nick"].get("x-nullable").is_none());
        // an example is data: its `$ref` key is not a reference
        assert_eq!(
            agent["properties"]["example"]["example"]["$ref"],
            "#/definitions/Agent"
        );
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["basic"], json!({"type": "http", "scheme": "basic"}));
        assert_eq!(schemes["key"]["in"], "header");
        assert_eq!(
            schemes["oauth"]["flows"]["clientCredentials"]["tokenUrl"],
            "https://t/token"
        );
        assert_eq!(doc["security"], json!([{"key": []}]));
        assert_eq!(
            u.original("/components/schemas/Agent/properties/nick"),
            "/definitions/Agent/properties/nick"
        );
        assert_eq!(doc["components"].as_object().unwrap().len(), 2);
    }

    #[test]
    fn body_query_path_and_responses() {
        let (doc, u) = up(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "paths": {"/agents/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer"}],
                "patch": {
                    "operationId": "update",
                    "parameters": [
                        {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
                        {"name": "data", "in": "body", "required": true, "schema": {"type": "object", "properties": {"availability_status": {"type": "string", "enum": ["online", "busy"]}}}}
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Agent"},
                                "headers": {"X-Rate": {"type": "integer"}}},
                        "404": {"description": "missing"},
                        "default": {"description": "error", "schema": {"type": "object", "properties": {
                            "default": {"$ref": "#/definitions/Agent"}}}}
                    }
                }
            }},
            "definitions": {"Agent": {"type": "object"}}
        }));
        let item = &doc["paths"]["/agents/{id}"];
        assert_eq!(item["parameters"][0]["schema"], json!({"type": "integer"}));
        let op = &item["patch"];
        let q = &op["parameters"][0];
        assert_eq!(
            q["schema"],
            json!({"type": "array", "items": {"type": "string"}})
        );
        assert_eq!(
            (q["style"].as_str(), q["explode"].as_bool()),
            (Some("form"), Some(true))
        );
        assert_eq!(
            op["parameters"].as_array().unwrap().len(),
            1,
            "the body left the list"
        );
        let body = &op["requestBody"];
        assert_eq!(body["required"], true);
        assert_eq!(
            body["content"]["application/json"]["schema"]["properties"]["availability_status"]["enum"],
            json!(["online", "busy"])
        );
        let ok = &op["responses"]["200"];
        assert_eq!(
            ok["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Agent"
        );
        assert_eq!(ok["headers"]["X-Rate"]["schema"]["type"], "integer");
        assert_eq!(op["responses"]["404"], json!({"description": "missing"}));
        // a response and a property named `default` are names, not the `default` keyword
        assert_eq!(
            op["responses"]["default"]["content"]["application/json"]["schema"]["properties"]["default"]
                ["$ref"],
            "#/components/schemas/Agent"
        );
        // where the body's property was in the 2.0 file
        assert_eq!(
            u.original("/paths/~1agents~1{id}/patch/requestBody/content/application~1json/schema/properties/availability_status"),
            "/paths/~1agents~1{id}/patch/parameters/1/schema/properties/availability_status"
        );
        assert_eq!(
            u.original("/paths/~1agents~1{id}/patch/parameters/0/schema/type"),
            "/paths/~1agents~1{id}/patch/parameters/0/type"
        );
        assert_eq!(
            u.original(
                "/paths/~1agents~1{id}/patch/responses/200/content/application~1json/schema"
            ),
            "/paths/~1agents~1{id}/patch/responses/200/schema"
        );
    }

    #[test]
    fn every_collection_format_in_every_place() {
        let array = |name: &str, place: &str, format: Option<&str>| {
            let mut p =
                json!({"name": name, "in": place, "type": "array", "items": {"type": "integer"}});
            if let Some(f) = format {
                p["collectionFormat"] = json!(f);
            }
            if place == "path" {
                p["required"] = json!(true);
            }
            p
        };
        let mut parameters = Vec::new();
        for place in ["query", "header", "path"] {
            for format in [
                None,
                Some("csv"),
                Some("ssv"),
                Some("tsv"),
                Some("pipes"),
                Some("multi"),
            ] {
                parameters.push(array(
                    &format!("{place}-{}", format.unwrap_or("none")),
                    place,
                    format,
                ));
            }
        }
        let form: Vec<Value> = [
            None,
            Some("csv"),
            Some("ssv"),
            Some("tsv"),
            Some("pipes"),
            Some("multi"),
        ]
        .iter()
        .map(|f| array(&format!("f-{}", f.unwrap_or("none")), "formData", *f))
        .collect();
        let (doc, _) = up(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a": {"get": {"parameters": parameters, "responses": {"200": {"description": "ok"}}}},
                "/form": {"post": {"consumes": ["application/x-www-form-urlencoded"], "parameters": form.clone(), "responses": {"200": {"description": "ok"}}}},
                "/multipart": {"post": {"consumes": ["multipart/form-data"], "parameters": form, "responses": {"200": {"description": "ok"}}}}
            }
        }));
        let params = doc["paths"]["/a"]["get"]["parameters"].as_array().unwrap();
        let got = |name: &str| {
            let p = params.iter().find(|p| p["name"] == name).unwrap();
            (
                p["style"].as_str(),
                p["explode"].as_bool(),
                p["schema"]["type"].as_str().unwrap(),
            )
        };
        let styled = |style, explode| (Some(style), Some(explode), "array");
        let by_hand = (None, None, "string");
        for (name, want) in [
            ("query-none", styled("form", false)),
            ("query-csv", styled("form", false)),
            ("query-ssv", styled("spaceDelimited", false)),
            ("query-tsv", by_hand),
            ("query-pipes", styled("pipeDelimited", false)),
            ("query-multi", styled("form", true)),
            ("header-none", styled("simple", false)),
            ("header-csv", styled("simple", false)),
            ("header-ssv", by_hand),
            ("header-tsv", by_hand),
            ("header-pipes", by_hand),
            ("header-multi", styled("simple", false)),
            ("path-none", styled("simple", false)),
            ("path-csv", styled("simple", false)),
            ("path-ssv", by_hand),
            ("path-tsv", by_hand),
            ("path-pipes", by_hand),
            ("path-multi", styled("simple", false)),
        ] {
            assert_eq!(got(name), want, "{name}");
        }
        let tabs = params.iter().find(|p| p["name"] == "query-tsv").unwrap();
        assert!(
            tabs["description"]
                .as_str()
                .unwrap()
                .contains("separated by tabs"),
            "{tabs}"
        );
        let media = &doc["paths"]["/form"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"];
        assert_eq!(
            media["encoding"],
            json!({
                "f-none": {"style": "form", "explode": false},
                "f-csv": {"style": "form", "explode": false},
                "f-ssv": {"style": "spaceDelimited", "explode": false},
                "f-pipes": {"style": "pipeDelimited", "explode": false},
                "f-multi": {"style": "form", "explode": true},
            })
        );
        assert_eq!(media["schema"]["properties"]["f-tsv"]["type"], "string");
        let multipart =
            &doc["paths"]["/multipart"]["post"]["requestBody"]["content"]["multipart/form-data"];
        assert!(multipart.get("encoding").is_none(), "{multipart}");
        let props = &multipart["schema"]["properties"];
        assert_eq!(props["f-multi"]["type"], "array", "one part per item");
        for f in ["f-none", "f-csv", "f-ssv", "f-tsv", "f-pipes"] {
            assert_eq!(props[f]["type"], "string", "{f}: {props}");
        }
        assert!(
            props["f-pipes"]["description"]
                .as_str()
                .unwrap()
                .contains("separated by `|`")
        );
    }

    #[test]
    fn form_data_and_files() {
        let (doc, u) = up(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "parameters": {
                "Shared": {"name": "note", "in": "formData", "type": "string"},
                "Limit": {"name": "limit", "in": "query", "type": "integer"}
            },
            "paths": {
                "/files": {"post": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "file", "in": "formData", "type": "file", "required": true},
                        {"$ref": "#/parameters/Shared"},
                        {"$ref": "#/parameters/Limit"}
                    ],
                    "responses": {"201": {"description": "made"}}
                }},
                "/status": {"post": {
                    "parameters": [{"name": "status", "in": "formData", "type": "string", "enum": ["a", "b"]}],
                    "responses": {"200": {"description": "ok"}}
                }}
            }
        }));
        let files = &doc["paths"]["/files"]["post"];
        let schema = &files["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(
            schema["properties"]["file"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(schema["properties"]["note"], json!({"type": "string"}));
        assert_eq!(schema["required"], json!(["file"]));
        assert_eq!(
            files["parameters"],
            json!([{"$ref": "#/components/parameters/Limit"}])
        );
        let status = &doc["paths"]["/status"]["post"]["requestBody"]["content"];
        assert_eq!(
            status["application/x-www-form-urlencoded"]["schema"]["properties"]["status"]["enum"],
            json!(["a", "b"])
        );
        assert_eq!(
            doc["components"]["parameters"]["Limit"]["schema"]["type"],
            "integer"
        );
        assert_eq!(
            doc["components"]["requestBodies"]["Shared"]["content"]["application/x-www-form-urlencoded"]
                ["schema"]["properties"]["note"]["type"],
            "string"
        );
        assert_eq!(
            u.original("/paths/~1files/post/requestBody/content/multipart~1form-data/schema/properties/note/type"),
            "/parameters/Shared/type"
        );
    }

    #[test]
    fn a_converted_document_generates() {
        let (doc, _) = up(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "host": "example.com",
            "paths": {"/agents/{id}": {"get": {
                "operationId": "get_agent",
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "string"}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Agent"}}}
            }}},
            "definitions": {"Agent": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "x-nullable": true}}}}
        }));
        let code = crate::Codegen::document(doc, "t.json")
            .prepare()
            .unwrap()
            .generate()
            .unwrap()
            .code;
        assert!(code.contains("pub fn get_agent("), "{code}");
        // required but `x-nullable`: an Option
        assert!(
            code.contains("pub status: ::std::option::Option<::std::string::String>"),
            "{code}"
        );
    }
}
