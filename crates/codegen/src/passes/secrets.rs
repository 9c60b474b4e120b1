//! Secrets in generated types: a string schema with `format: password` is generated as
//! `agentstatus_runtime::SecretText` (its `Debug` is a redaction, on the wire it is the plain
//! string), never a `String` that `{:?}` of a request, an answer or a builder would show.
//!
//! The type itself is chosen by the generator's settings (`generate::settings`: progenitor's
//! `with_conversion`, typify's schema cache). typify matches a conversion by comparing the whole
//! schema except its metadata (title, description, default, examples, `readOnly`/`writeOnly`,
//! deprecated: `typify-impl` 0.8.0 `src/conversions.rs`, `SchemaCache::lookup`), so a secret
//! with a description matches, one with a `nullable` becomes `Option<SecretText>`, but one with a
//! `pattern`, a length bound or a vendor extension beside the format would silently stay a
//! `String`. This pass makes every such schema the one the conversion matches, and writes the
//! secret where progenitor would call `to_string()` on it (a path segment, a header value).

use serde_json::{Map, Value};

use super::{Changes, Pass, Stage};

/// The `secret-strings` pass ([`secret_strings`]).
pub(crate) const SECRET_STRINGS: Pass = Pass::new(
    "secret-strings",
    Stage::Fix,
    "A `format: password` string, and a header or query parameter that names a credential (`Authorization`, `X-Api-Key`, `?api_key=`, `?access_token=`; not a page token), is generated as `agentstatus_runtime::SecretText` (`Debug` redacts it; the plain string on the wire): what would keep its schema from matching that type (`pattern`, length bounds, vendor extensions) is removed; a secret path or header parameter, which progenitor writes with `to_string()`, is written from the secret (a header marked sensitive); a call whose URL carries a secret (path or query) redacts it from every error it returns (`without_url_secrets`: a transport error's URL, an unexpected answer's).",
    secret_strings,
)
.with_rewrite(rewrite_secret_parameters)
.with_restore(restore_secret_parameters);

/// Where [`secret_strings`] records an operation's secret path and header parameters for
/// [`rewrite_secret_parameters`]: `{"path": [i, ...], "header": ["X-Api-Key", ...]}`, the
/// places in the path template (counting from 0) and the names sent.
pub(crate) const SECRET_PARAMETERS: &str = "x-agentstatus-secret-parameters";

/// The type `format: password` strings are generated as.
pub(crate) const SECRET_TYPE: &str = "::agentstatus_runtime::SecretText";

/// The schema the generator converts to [`SECRET_TYPE`]: `{type: string, format: password}`,
/// whatever its metadata.
pub(crate) fn secret_string_schema() -> schemars::schema::SchemaObject {
    schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::String.into()),
        format: Some("password".to_string()),
        ..Default::default()
    }
}

/// Is `schema` a string with `format: password` (not an enum: its values are in the document,
/// no secret, and typify makes an enum of them)?
fn is_secret_string(schema: &Map<String, Value>) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("password")
        && schema.get("type").and_then(Value::as_str) == Some("string")
        && !schema.contains_key("enum")
}

/// The keywords beside `type`, `format` and `nullable` that typify compares (so that a schema
/// with them does not match the conversion) and that mean nothing for a secret the generated
/// code does not check.
const UNMATCHED: &[&str] = &["pattern", "minLength", "maxLength"];

/// The prefix of the marks this workspace's passes leave for the generator.
const OWN_MARKS: &str = "x-agentstatus-";

/// Does a header's or a query parameter's name say it carries a credential? Such a parameter
/// (a plain string: no format, no enum) is a secret whatever its schema's format. Its name,
/// letters and digits only, lower-cased:
///
/// - is `authorization`, `proxyauthorization`, `cookie`, `auth` (Firebase's `?auth=`) or `sig`
///   (an Azure shared access signature's `?sig=`, which grants access by itself);
/// - or holds `apikey` (`X-Api-Key`, `?api_key=`, `?apiKey=`), `secret` (`?client_secret=`:
///   Slack, Stripe), `password`, `passwd`, `credential`, `sessionid`, `signature`
///   (`X-Amz-Signature`), or `token` (`?access_token=`, RFC 6750 §2.3: Box, Engage Digital;
///   `?token=`: Slack, Rocket.Chat's visitor token; Unblu's `authenticationToken`) unless the
///   name says the token is a position in a list (`page`, `next`, `cursor`, `continuation`,
///   `sync`, `truncated`: Twilio's `PageToken`, RingCentral's `syncToken`, PagerDuty's
///   `method_truncated_token` filter), which is no credential and which a caller reads back.
///
/// `key` alone is not one: Rocket.Chat's and Engage Digital's `?key=` are a filter and a custom
/// field's name. Checked on the query parameters of the corpus (`corpus/`): every credential
/// there matches, and of the strings that match one is not a credential, RingCentral's
/// `?sessionId=` (a call-log filter; `sessionid` stays for the headers that carry a session):
/// a false positive costs only its value in `Debug` and errors, sent as it is.
pub(super) fn names_a_credential(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let position = [
        "page",
        "next",
        "cursor",
        "continuation",
        "sync",
        "truncated",
    ]
    .iter()
    .any(|w| key.contains(w));
    matches!(
        key.as_str(),
        "authorization" | "proxyauthorization" | "cookie" | "auth" | "sig"
    ) || [
        "apikey",
        "secret",
        "password",
        "passwd",
        "credential",
        "sessionid",
        "signature",
    ]
    .iter()
    .any(|w| key.contains(w))
        || (key.contains("token") && !position)
}

/// `format: password` strings become what the conversion to [`SECRET_TYPE`] matches. A path or
/// header parameter's secret (or a header that names a credential, [`names_a_credential`]) is
/// written into the parameter (a `$ref`'d component stays as it is for its other uses) and its
/// operation marked ([`SECRET_PARAMETERS`]): progenitor writes such a value with
/// `to_string()`, which the secret type does not offer, and [`rewrite_secret_parameters`]
/// writes it from the secret instead. A cookie parameter is generated as a header by then
/// (`cookie-parameters`) and is a secret by the same rules (its name or its format); the
/// runtime writes it into the sensitive `Cookie` header.
pub(crate) fn secret_strings(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    // the names sent of the parameters `colliding-parameters` renamed, by pointer
    let mut sent: std::collections::BTreeMap<String, String> = Default::default();
    for (path, method, op) in crate::nav::operations(&snapshot) {
        let Some(wire) = op.get(super::parameters::WIRE_NAMES) else {
            continue;
        };
        let at = crate::nav::operation_pointer(path, method);
        for (i, p) in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(real) = p
                .get("name")
                .and_then(Value::as_str)
                .and_then(|n| wire.get(n))
                .and_then(Value::as_str)
            {
                sent.insert(format!("{at}/parameters/{i}"), real.to_string());
            }
        }
    }
    super::parameters::for_each_parameter(doc, &mut |map, at| {
        let place = map
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !matches!(place.as_str(), "path" | "header" | "query") {
            return;
        }
        let name = sent.get(at).cloned().unwrap_or_else(|| {
            map.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        });
        let cookie = map.contains_key(super::cookies::COOKIE);
        let Some(schema) = map.get_mut("schema") else {
            return;
        };
        let (resolved, from) = crate::nav::resolve_at(&snapshot, schema, &format!("{at}/schema"));
        let Some(resolved) = resolved.as_object() else {
            return;
        };
        let here = from == format!("{at}/schema");
        // a cookie parameter `cookie-parameters` generates as a header
        let place = if cookie { "cookie".to_string() } else { place };
        let credential = matches!(place.as_str(), "header" | "cookie" | "query")
            && names_a_credential(&name)
            && resolved.get("type").and_then(Value::as_str) == Some("string")
            && !resolved.contains_key("enum")
            && !resolved.contains_key("format");
        if credential {
            let mut secret = resolved.clone();
            secret.insert("format".into(), Value::String("password".into()));
            *schema = Value::Object(secret);
            changes.push(
                format!("{at}/schema"),
                if place == "query" {
                    format!("query parameter {name:?} names a credential: generated as `SecretText` (`Debug` redacts it), redacted from the URL of every error")
                } else {
                    format!("{place} parameter {name:?} names a credential: generated as `SecretText` (`Debug` redacts it), sent in a sensitive header")
                },
            );
        } else if is_secret_string(resolved) && !here {
            *schema = Value::Object(resolved.clone());
            changes.push(
                format!("{at}/schema"),
                format!("`{from}` (`format: password`) written here: the {place} parameter is a `SecretText`, written from the secret"),
            );
        }
    });
    mark_secret_parameters(doc, changes);
    crate::nav::walk_mut(doc, "", &mut |map, at| {
        if !is_secret_string(map) {
            return;
        }
        let mut removed: Vec<String> = UNMATCHED
            .iter()
            .filter(|k| map.remove(**k).is_some())
            .map(|k| format!("`{k}`"))
            .collect();
        let extensions: Vec<String> = map
            .keys()
            .filter(|k| k.starts_with("x-") && !k.starts_with(OWN_MARKS))
            .cloned()
            .collect();
        for k in extensions {
            map.remove(&k);
            removed.push(format!("`{k}`"));
        }
        // a mark of an earlier pass (`colliding-properties`' JSON name) stays where its pass
        // reads it, beside the secret, which moves into an `allOf` of its own to match
        let marks: Vec<String> = map
            .keys()
            .filter(|k| k.starts_with(OWN_MARKS))
            .cloned()
            .collect();
        if !marks.is_empty() {
            let secret: Map<String, Value> = std::mem::take(map)
                .into_iter()
                .filter_map(|(k, v)| {
                    if marks.contains(&k) {
                        map.insert(k, v);
                        None
                    } else {
                        Some((k, v))
                    }
                })
                .collect();
            map.insert("allOf".into(), Value::Array(vec![Value::Object(secret)]));
            changes.push(
                at.to_string(),
                format!(
                    "a `format: password` string with this workspace's {} beside it: the secret \
                     moved into an `allOf` of its own, so that it is generated as `SecretText`",
                    marks.join(", ")
                ),
            );
        }
        if !removed.is_empty() {
            changes.push(
                at.to_string(),
                format!(
                    "a `format: password` string is generated as `SecretText`, which is not \
                     checked: {} removed so that the schema matches it",
                    removed.join(", ")
                ),
            );
        }
    });
}

/// Mark each operation with its secret path and header parameters ([`SECRET_PARAMETERS`]),
/// its own and its path item's (those of the operation's own name override them, as progenitor
/// merges the two lists).
fn mark_secret_parameters(doc: &mut Value, changes: &mut Changes) {
    let snapshot = doc.clone();
    for (path, method, op) in crate::nav::operations_mut(doc) {
        let item = crate::nav::path_item(&snapshot, &path);
        let own: Vec<&Value> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let own: Vec<Value> = own
            .into_iter()
            .map(|p| crate::nav::resolve(&snapshot, p).clone())
            .collect();
        let mut params = own.clone();
        for p in item
            .and_then(|i| i.get("parameters"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let p = crate::nav::resolve(&snapshot, p);
            if !own.iter().any(|q| q.get("name") == p.get("name")) {
                params.push(p.clone());
            }
        }
        let wire = op.get(super::parameters::WIRE_NAMES).cloned();
        let template = template_places(&path);
        let mut places: Vec<usize> = Vec::new();
        let mut headers: Vec<String> = Vec::new();
        let mut query: Vec<String> = Vec::new();
        let mut secret_names: Vec<&str> = Vec::new();
        for p in &params {
            let secret = p
                .get("schema")
                .map(|s| crate::nav::resolve(&snapshot, s))
                .and_then(Value::as_object)
                .is_some_and(is_secret_string);
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            // a cookie's header is the runtime's `Cookie`, sensitive: nothing to rewrite
            if !secret || p.get(super::cookies::COOKIE).is_some() {
                continue;
            }
            let sent = || {
                wire.as_ref()
                    .and_then(|w| w.get(name))
                    .and_then(Value::as_str)
                    .unwrap_or(name)
                    .to_string()
            };
            match p.get("in").and_then(Value::as_str) {
                Some("path") => {
                    places.extend(
                        template
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| **n == name)
                            .map(|(i, _)| i),
                    );
                    secret_names.push(name);
                }
                Some("header") => headers.push(sent()),
                Some("query") => query.push(sent()),
                _ => {}
            }
        }
        if places.is_empty() && headers.is_empty() && query.is_empty() {
            continue;
        }
        places.sort_unstable();
        let segments = secret_segments(&path, &secret_names);
        let at = crate::nav::operation_pointer(&path, &method);
        changes.push(
            at,
            format!(
                "secret path, header and query parameters (path places {places:?}, headers {headers:?}, query {query:?}): written from the `SecretText` (`expose()`), each header marked sensitive; the URL's secrets (path segments {segments:?} from its end, the query values) redacted from every error the call returns"
            ),
        );
        op.insert(
            SECRET_PARAMETERS.into(),
            serde_json::json!({"path": places, "header": headers, "query": query, "segments": segments}),
        );
    }
}

/// The segments of `path` (a template, its query or fragment left out) that hold one of
/// `names`, counted from its end (0 is the last): where a secret path parameter is in the URL
/// whatever the base URL's own path (`agentstatus_runtime::UrlSecrets`).
fn secret_segments(path: &str, names: &[&str]) -> Vec<usize> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let n = segments.len();
    segments
        .iter()
        .enumerate()
        .filter(|(_, s)| template_places(s).iter().any(|p| names.contains(p)))
        .map(|(i, _)| n - 1 - i)
        .collect()
}

/// The parameters of a path template, in order, each time it occurs (progenitor writes one
/// `encode_path(..)` per occurrence, in this order).
pub(super) fn template_places(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n))
        .collect()
}

/// In the `send()` of an operation [`secret_strings`] marked: the `encode_path(&x.to_string())`
/// of a secret path parameter becomes `encode_path(&x.expose())`, and a secret header's
/// `header_map.append("X-Api-Key", value.to_string().try_into()?)` appends the secret as a
/// sensitive `HeaderValue` (which `Debug` of the request redacts).
fn rewrite_secret_parameters(
    doc: &Value,
    _: &std::path::Path,
    tokens: proc_macro2::TokenStream,
) -> crate::error::Result<proc_macro2::TokenStream> {
    fn edit(tokens: proc_macro2::TokenStream, mark: &Value) -> proc_macro2::TokenStream {
        let mut place = 0usize;
        without_url_secrets(edit_in(tokens, mark, &mut place), mark)
    }
    Ok(super::forms::in_marked_sends(
        tokens,
        &super::forms::marks_of(doc, SECRET_PARAMETERS),
        &edit,
    ))
}

/// A `send()` body whose URL carries a secret (the mark's `segments` or `query` not empty) runs
/// inside `agentstatus_runtime::without_url_secrets`, which redacts them from the URL of every
/// error it returns (a transport error's, an unexpected answer's): `reqwest::Error` and
/// `reqwest::Response` print their URL in `Display` and `Debug`. Any other body is as it was.
fn without_url_secrets(body: proc_macro2::TokenStream, mark: &Value) -> proc_macro2::TokenStream {
    let list = |key: &str| -> Vec<Value> {
        mark.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let segments: Vec<usize> = list("segments")
        .iter()
        .filter_map(Value::as_u64)
        .filter_map(|n| usize::try_from(n).ok())
        .collect();
    let query: Vec<String> = list("query")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if segments.is_empty() && query.is_empty() {
        return body;
    }
    let run = crate::generate::runtime_item("without_url_secrets");
    let secrets = crate::generate::runtime_item("UrlSecrets");
    quote::quote! {
        #run(
            #secrets { segments_from_end: &[#(#segments),*], query: &[#(#query),*] },
            async move { #body },
        )
        .await
    }
}

/// `x . to_string ( )` in `tokens`: the `x`.
fn to_string_of(tokens: &[proc_macro2::TokenTree]) -> Option<proc_macro2::Ident> {
    use proc_macro2::{Delimiter, TokenTree};
    match tokens {
        [
            TokenTree::Ident(x),
            TokenTree::Punct(dot),
            TokenTree::Ident(to_string),
            TokenTree::Group(args),
            ..,
        ] if dot.as_char() == '.'
            && to_string == "to_string"
            && args.delimiter() == Delimiter::Parenthesis
            && args.stream().is_empty() =>
        {
            Some(x.clone())
        }
        _ => None,
    }
}

fn edit_in(
    tokens: proc_macro2::TokenStream,
    mark: &Value,
    place: &mut usize,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let in_list = |key: &str, v: &Value| {
        mark.get(key)
            .and_then(Value::as_array)
            .is_some_and(|l| l.contains(v))
    };
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        let next = trees.get(i + 1);
        // a place `path-parameter-styles` writes (its rewrite runs first): counted, not secret
        if let (TokenTree::Ident(f), Some(TokenTree::Group(args))) = (&trees[i], next)
            && f == "path_value"
            && args.delimiter() == Delimiter::Parenthesis
        {
            *place += 1;
        }
        // `encode_path ( & x . to_string ( ) )`, the `place`-th of the template
        if let (TokenTree::Ident(f), Some(TokenTree::Group(args))) = (&trees[i], next)
            && f == "encode_path"
            && args.delimiter() == Delimiter::Parenthesis
        {
            let inner: Vec<TokenTree> = args.stream().into_iter().collect();
            let secret = in_list("path", &Value::from(*place));
            *place += 1;
            if secret
                && let [TokenTree::Punct(amp), rest @ ..] = inner.as_slice()
                && amp.as_char() == '&'
                && rest.len() == 4
                && let Some(x) = to_string_of(rest)
            {
                out.push(trees[i].clone());
                let mut g = Group::new(Delimiter::Parenthesis, quote::quote! { &#x.expose() });
                g.set_span(args.span());
                out.push(TokenTree::Group(g));
                i += 2;
                continue;
            }
        }
        // `append ( "X-Api-Key" , v . to_string ( ) . try_into ( ) ? )`
        if let (TokenTree::Ident(f), Some(TokenTree::Group(args))) = (&trees[i], next)
            && f == "append"
            && args.delimiter() == Delimiter::Parenthesis
        {
            let inner: Vec<TokenTree> = args.stream().into_iter().collect();
            if let [TokenTree::Literal(name), TokenTree::Punct(comma), rest @ ..] = inner.as_slice()
                && comma.as_char() == ','
                && let Some(name) = super::forms::literal_text(name)
                && in_list("header", &Value::from(name.as_str()))
                && rest.len() == 8
                && let Some(x) = to_string_of(rest)
                && matches!(&rest[5], TokenTree::Ident(t) if t == "try_into")
                && matches!(&rest[7], TokenTree::Punct(q) if q.as_char() == '?')
            {
                out.push(trees[i].clone());
                let mut g = Group::new(
                    Delimiter::Parenthesis,
                    quote::quote! {
                        #name,
                        {
                            let mut secret = ::reqwest::header::HeaderValue::try_from(#x.expose())?;
                            secret.set_sensitive(true);
                            secret
                        }
                    },
                );
                g.set_span(args.span());
                out.push(TokenTree::Group(g));
                i += 2;
                continue;
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), edit_in(g.stream(), mark, place));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Undo [`secret_strings`]' marks for an exported document.
fn restore_secret_parameters(doc: &mut Value) {
    for (_, _, op) in crate::nav::operations_mut(doc) {
        op.remove(SECRET_PARAMETERS);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(mut doc: Value) -> (Value, Vec<super::super::Change>) {
        let changes = super::super::run_passes([&SECRET_STRINGS], &mut doc);
        (doc, changes)
    }

    #[test]
    fn what_keeps_a_secret_from_matching_is_removed_and_said() {
        let (doc, changes) = run(json!({
            "openapi": "3.0.0",
            "components": {"schemas": {"Login": {"type": "object", "properties": {
                "password": {"type": "string", "format": "password", "description": "d",
                             "minLength": 8, "pattern": "^.+$", "x-vendor": 1, "nullable": true},
                "plain": {"type": "string", "format": "password", "title": "t"},
                "known": {"type": "string", "format": "password", "enum": ["a"], "maxLength": 3},
                "name": {"type": "string", "maxLength": 3}
            }}}}
        }));
        let props = &doc["components"]["schemas"]["Login"]["properties"];
        assert_eq!(
            props["password"],
            json!({"type": "string", "format": "password", "description": "d", "nullable": true})
        );
        assert_eq!(
            props["plain"],
            json!({"type": "string", "format": "password", "title": "t"})
        );
        // an enum is no secret, a string without the format is left alone
        assert_eq!(props["known"]["maxLength"], 3);
        assert_eq!(props["name"]["maxLength"], 3);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            changes[0].pointer,
            "/components/schemas/Login/properties/password"
        );
        for k in ["`minLength`", "`pattern`", "`x-vendor`"] {
            assert!(changes[0].message.contains(k), "{changes:?}");
        }
    }

    #[test]
    fn path_and_header_secrets_are_secrets_written_from_the_secret() {
        let (doc, changes) = run(json!({
            "openapi": "3.0.0",
            "paths": {"/a/{key}/b/{key}": {
                "parameters": [{"name": "X-Api-Key", "in": "header",
                                "schema": {"type": "string"}}],
                "get": {"parameters": [
                    {"name": "key", "in": "path", "required": true,
                     "schema": {"type": "string", "format": "password"}},
                    {"name": "X-Secret", "in": "header",
                     "schema": {"$ref": "#/components/schemas/Secret"}},
                    {"name": "token", "in": "query",
                     "schema": {"type": "string", "format": "password"}},
                    {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie",
                     "schema": {"type": "string", "format": "password"}},
                    // renamed by `colliding-parameters`: its name sent names a credential
                    {"name": "x_dot_api_dot_key", "in": "header", "schema": {"type": "string"}}
                ],
                "x-agentstatus-wire-names": {"x_dot_api_dot_key": "x.api.key"}}
            }},
            "components": {"schemas": {"Secret": {"type": "string", "format": "password",
                                                  "description": "s", "pattern": "^s"}}}
        }));
        let item = &doc["paths"]["/a/{key}/b/{key}"];
        let params = &item["get"]["parameters"];
        let secret = json!({"type": "string", "format": "password"});
        assert_eq!(params[0]["schema"], secret);
        // a `$ref`'d secret is written into the parameter (matching the conversion), the
        // component stays a secret for its other uses
        assert_eq!(
            params[1]["schema"],
            json!({"type": "string", "format": "password", "description": "s"})
        );
        assert_eq!(params[2]["schema"], secret);
        // a header that names a credential is one; another header is not
        assert_eq!(item["parameters"][0]["schema"], secret);
        assert_eq!(params[3]["schema"], json!({"type": "string"}));
        // a cookie parameter is `cookie-parameters`' until it is generated as a header
        assert_eq!(params[4]["schema"], secret);
        assert_eq!(params[5]["schema"], secret);
        assert_eq!(doc["components"]["schemas"]["Secret"]["format"], "password");
        assert_eq!(
            item["get"][SECRET_PARAMETERS],
            json!({"path": [0, 1], "header": ["X-Secret", "x.api.key", "X-Api-Key"],
                   "query": ["token"], "segments": [2, 0]})
        );
        assert!(
            changes
                .iter()
                .any(|c| c.pointer == "/paths/~1a~1{key}~1b~1{key}/get"
                    && c.message.contains("sensitive")),
            "{changes:?}"
        );
    }

    #[test]
    fn credential_names() {
        for name in [
            "Authorization",
            "X-Api-Key",
            "api_key",
            "X-Auth-Token",
            "X-Client-Secret",
            "Cookie",
            "X-Csrf-Token",
            // query parameters of the corpus that are credentials
            "access_token",
            "apiKey",
            "authenticationToken",
            "client_secret",
            "token",
            "verify_token",
            "imap_oauth_refresh_token",
            "secret",
            "smtp[password]",
            // and of other public APIs: Firebase, Azure SAS, AWS presigned URLs
            "auth",
            "sig",
            "X-Amz-Signature",
            "X-Amz-Security-Token",
        ] {
            assert!(names_a_credential(name), "{name}");
        }
        for name in [
            "X-Request-Id",
            "If-Match",
            "X-User-Id",
            "Accept",
            "X-Page",
            // query parameters of the corpus that are not
            "PageToken",
            "page_token",
            "pageToken",
            "syncToken",
            "next_token",
            "cursor",
            "method_truncated_token",
            "key",
            "alert_key",
            "lookup_keys",
            "author_id",
        ] {
            assert!(!names_a_credential(name), "{name}");
        }
    }

    #[test]
    fn the_rewrite_writes_secret_parameters_from_the_secret() {
        let code: proc_macro2::TokenStream = quote::quote! {
            let url = format!("{}/a/{}/b/{}", client.baseurl, encode_path(&id.to_string()), encode_path(&key.to_string()));
            header_map.append("X-Plain", plain.to_string().try_into()?);
            if let Some(value) = x_api_key {
                header_map.append("X-Api-Key", value.to_string().try_into()?);
            }
        };
        let mark = json!({"path": [1], "header": ["X-Api-Key"]});
        let out = edit_in(code, &mark, &mut 0).to_string();
        let flat: String = out.split_whitespace().collect();
        assert!(flat.contains("encode_path(&id.to_string())"), "{out}");
        assert!(flat.contains("encode_path(&key.expose())"), "{out}");
        assert!(
            flat.contains("append(\"X-Plain\",plain.to_string().try_into()?)"),
            "{out}"
        );
        assert!(
            flat.contains("::reqwest::header::HeaderValue::try_from(value.expose())?;secret.set_sensitive(true);"),
            "{out}"
        );
    }
}
