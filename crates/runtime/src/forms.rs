//! The query parameter styles and request bodies progenitor 0.15 cannot send, serialised for the
//! generated clients: `style`/`explode` of query parameters (`deepObject`, `form` with
//! `explode: false`, `spaceDelimited`, `pipeDelimited`), JSON in a query parameter (`content:`),
//! `application/x-www-form-urlencoded` bodies with an `encoding` map, and `multipart/form-data`
//! bodies with files ([`File`]: bytes or a stream, a file name and a content type), and cookie
//! parameters ([`Cookies`]: one `Cookie` header, each value percent-encoded to RFC 6265's cookie
//! octets).
//!
//! codegen hands progenitor such an operation in a form it can generate (the parameter as
//! `style: form`, the multipart body as JSON) and then swaps progenitor's serialisation in the
//! generated `send()` for these functions: the method keeps progenitor's builder, hooks, auth,
//! retries and errors. Every function works on the value's JSON form (`serde_json::Value`), so
//! any generated type serialises the way the document describes it, and fails with a
//! [`FormError`] (`Error::InvalidRequest` in a generated client) instead of sending what the
//! server would misread.
//!
//! What the OpenAPI 3.0 specification (4.7.12.4, "Style Examples") leaves open is decided so:
//! object keys (a struct's fields, a map's keys, a body's properties) are written in name order,
//! so a request is the same every time whatever map type holds them, arrays inside a `deepObject` are indexed
//! (`a[b][0]=x`, as Stripe and Rails read them), and `null` (an unset optional value) sends
//! nothing. Names and values are percent-encoded by the URL's own form encoding (`[`/`]` as
//! `%5B`/`%5D`, a space as `+`), which every form decoder reads back.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

/// How a query parameter (or a form property) is written (OpenAPI's `style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `name=a&name=b` (explode) or `name=a,b` (not).
    Form,
    /// `name=a b` (arrays; objects `name=k v`).
    SpaceDelimited,
    /// `name=a|b` (arrays; objects `name=k|v`).
    PipeDelimited,
    /// `name[key]=value`, nested `name[a][b]=value`.
    DeepObject,
}

/// A value the style cannot write (an object inside a `form` array, say), or a body that is not
/// an object: the request is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    message: String,
}

impl FormError {
    fn new(message: impl Into<String>) -> Self {
        FormError {
            message: message.into(),
        }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormError {}

impl<E> From<FormError> for progenitor_client::Error<E> {
    fn from(e: FormError) -> Self {
        progenitor_client::Error::InvalidRequest(e.to_string())
    }
}

/// A scalar as the text a query or form carries; `None` for `null`, arrays and objects.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn scalars<'a>(
    name: &str,
    items: impl Iterator<Item = &'a Value>,
) -> Result<Vec<String>, FormError> {
    items
        .filter(|v| !v.is_null())
        .map(|v| {
            scalar(v).ok_or_else(|| {
                FormError::new(format!(
                    "query parameter `{name}`: a nested array or object cannot be written in this style (only `deepObject` nests)"
                ))
            })
        })
        .collect()
}

/// The `(name, value)` pairs of the query parameter `name` holding `value`, written in `style`
/// with `explode` (OpenAPI 3.0's "Style Values" table).
///
/// ```
/// use agentstatus_runtime::forms::{Style, query_pairs};
/// let v = serde_json::json!({"role": "admin", "first": "Alex"});
/// assert_eq!(
///     query_pairs("id", &v, Style::DeepObject, true).unwrap(),
///     [("id[first]".to_string(), "Alex".to_string()), ("id[role]".into(), "admin".into())]
/// );
/// ```
pub fn query_pairs(
    name: &str,
    value: &Value,
    style: Style,
    explode: bool,
) -> Result<Vec<(String, String)>, FormError> {
    if style == Style::DeepObject {
        let mut out = Vec::new();
        deep(name, value, &mut out);
        return Ok(out);
    }
    let one = |v: String| vec![(name.to_string(), v)];
    let delimiter = match style {
        Style::Form => ",",
        Style::SpaceDelimited => " ",
        Style::PipeDelimited => "|",
        Style::DeepObject => unreachable!("handled above"),
    };
    Ok(match value {
        Value::Null => Vec::new(),
        Value::Array(items) => {
            let items = scalars(name, items.iter())?;
            if explode {
                items.into_iter().map(|v| (name.to_string(), v)).collect()
            } else if items.is_empty() {
                Vec::new()
            } else {
                one(items.join(delimiter))
            }
        }
        Value::Object(map) => {
            let mut pairs = Vec::new();
            for (k, v) in sorted(map) {
                if v.is_null() {
                    continue;
                }
                let v = match v {
                    Value::Array(items) => scalars(name, items.iter())?.join(","),
                    v => scalar(v).ok_or_else(|| {
                        FormError::new(format!(
                            "query parameter `{name}`: property `{k}` is an object, which only `deepObject` can write"
                        ))
                    })?,
                };
                pairs.push((k.clone(), v));
            }
            if explode {
                pairs
            } else if pairs.is_empty() {
                Vec::new()
            } else {
                let flat: Vec<String> = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
                one(flat.join(delimiter))
            }
        }
        scalar_value => one(scalar(scalar_value).expect("a scalar")),
    })
}

/// The entries of `map` in key order (serde_json's map keeps insertion order when another crate
/// of the build turns on its `preserve_order`).
fn sorted(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// `deepObject`: `prefix[key]...=value`, arrays indexed, object keys sorted.
fn deep(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in sorted(map) {
                deep(&format!("{prefix}[{k}]"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                deep(&format!("{prefix}[{i}]"), v, out);
            }
        }
        v => out.push((prefix.to_string(), scalar(v).expect("a scalar"))),
    }
}

/// The pair of a query parameter whose value is JSON text (`content: {application/json: ...}`);
/// none for `null`.
pub fn json_query_pairs(name: &str, value: &Value) -> Vec<(String, String)> {
    if value.is_null() {
        return Vec::new();
    }
    vec![(name.to_string(), value.to_string())]
}

/// One query parameter in its style, for `reqwest::RequestBuilder::query` (which the generated
/// code calls with progenitor's `QueryParam` for the styles progenitor can write).
#[derive(Debug)]
pub struct StyledQuery<'a, T: ?Sized> {
    name: &'a str,
    value: &'a T,
    how: How,
}

#[derive(Debug, Clone, Copy)]
enum How {
    Style(Style, bool),
    Json,
}

impl<'a, T: ?Sized> StyledQuery<'a, T> {
    /// `name` holding `value`, in `style` with `explode`.
    pub fn new(name: &'a str, value: &'a T, style: Style, explode: bool) -> Self {
        StyledQuery {
            name,
            value,
            how: How::Style(style, explode),
        }
    }

    /// `name` holding `value` as JSON text.
    pub fn json(name: &'a str, value: &'a T) -> Self {
        StyledQuery {
            name,
            value,
            how: How::Json,
        }
    }
}

impl<T: Serialize + ?Sized> Serialize for StyledQuery<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let value = serde_json::to_value(self.value).map_err(S::Error::custom)?;
        let pairs = match self.how {
            How::Style(style, explode) => {
                query_pairs(self.name, &value, style, explode).map_err(S::Error::custom)?
            }
            How::Json => json_query_pairs(self.name, &value),
        };
        pairs.serialize(serializer)
    }
}

/// How a path parameter is written (OpenAPI's `style` for `in: path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// `5`, `3,4,5`, objects `k,v,k2,v2` (explode `k=v,k2=v2`).
    Simple,
    /// `.5`, `.3,4,5` (explode `.3.4.5`), objects `.k,v,k2,v2` (explode `.k=v.k2=v2`).
    Label,
    /// `;id=5`, `;id=3,4,5` (explode `;id=3;id=4;id=5`), objects `;id=k,v,k2,v2` (explode
    /// `;k=v;k2=v2`).
    Matrix,
}

/// What RFC 6570 leaves unencoded in a simple, label or matrix expansion: its unreserved
/// characters only. A `/`, `?`, `#`, `;`, `,`, `=` or `%` in a value is percent-encoded, so a
/// value never changes the path or reads as a separator.
const PATH_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn path_text(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_VALUE).to_string()
}

/// The path parameter `name` holding `value`, written in `style` with `explode` (OpenAPI 3.0's
/// "Style Values" table, RFC 6570's simple, label and path-style expansions), for the place of
/// `{name}` in the path template. Names and values are percent-encoded to RFC 3986's unreserved
/// characters, the separators (`,`, `.`, `;`, `=`) are not; object keys go out in name order,
/// `null` items and properties are left out. `null`, an empty array or object, a nested array
/// or object, and a result that is no URL path segment (`""`, `.`, `..`) are errors naming the
/// parameter: the request is not sent.
///
/// ```
/// use agentstatus_runtime::forms::{PathStyle, path_value};
/// use serde_json::json;
/// assert_eq!(path_value("id", &json!([3, 4]), PathStyle::Label, true).unwrap(), ".3.4");
/// assert_eq!(path_value("id", &json!([3, 4]), PathStyle::Matrix, true).unwrap(), ";id=3;id=4");
/// assert_eq!(path_value("c", &json!({"R": 1, "G": 2}), PathStyle::Simple, true).unwrap(), "G=2,R=1");
/// assert_eq!(path_value("id", &"a/b?c", PathStyle::Simple, false).unwrap(), "a%2Fb%3Fc");
/// ```
pub fn path_value<T: Serialize + ?Sized>(
    name: &str,
    value: &T,
    style: PathStyle,
    explode: bool,
) -> Result<String, FormError> {
    let value = serde_json::to_value(value)
        .map_err(|e| FormError::new(format!("path parameter `{name}`: {e}")))?;
    let item = |v: &Value| {
        scalar(v).map(|s| path_text(&s)).ok_or_else(|| {
            FormError::new(format!(
                "path parameter `{name}`: a nested array or object has no path form"
            ))
        })
    };
    let key = path_text(name);
    // (items, pairs): an array's items, or an object's `(key, value)`s; a scalar is one item
    let (items, pairs): (Vec<String>, Option<Vec<(String, String)>>) = match &value {
        Value::Null => {
            return Err(FormError::new(format!(
                "path parameter `{name}` has no value"
            )));
        }
        Value::Array(values) => (
            values
                .iter()
                .filter(|v| !v.is_null())
                .map(item)
                .collect::<Result<_, _>>()?,
            None,
        ),
        Value::Object(map) => {
            let mut pairs = Vec::new();
            for (k, v) in sorted(map) {
                if !v.is_null() {
                    pairs.push((path_text(k), item(v)?));
                }
            }
            (Vec::new(), Some(pairs))
        }
        v => {
            let text = item(v)?;
            let out = match style {
                PathStyle::Simple => text,
                PathStyle::Label => format!(".{text}"),
                PathStyle::Matrix if text.is_empty() => format!(";{key}"),
                PathStyle::Matrix => format!(";{key}={text}"),
            };
            return segment_or_refused(name, out);
        }
    };
    let empty = match &pairs {
        Some(p) => p.is_empty(),
        None => items.is_empty(),
    };
    if empty {
        return Err(FormError::new(format!(
            "path parameter `{name}`: an empty array or object has no path form"
        )));
    }
    let out = match (style, pairs) {
        (PathStyle::Simple, None) => items.join(","),
        (PathStyle::Label, None) => {
            format!(".{}", items.join(if explode { "." } else { "," }))
        }
        (PathStyle::Matrix, None) if explode => items
            .iter()
            .map(|v| format!(";{key}={v}"))
            .collect::<String>(),
        (PathStyle::Matrix, None) => format!(";{key}={}", items.join(",")),
        (style, Some(pairs)) => {
            let joined = |sep: &str| {
                if explode {
                    pairs
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(sep)
                } else {
                    pairs
                        .iter()
                        .flat_map(|(k, v)| [k.as_str(), v.as_str()])
                        .collect::<Vec<_>>()
                        .join(",")
                }
            };
            match style {
                PathStyle::Simple => joined(","),
                PathStyle::Label => format!(".{}", joined(".")),
                PathStyle::Matrix if explode => format!(";{}", joined(";")),
                PathStyle::Matrix => format!(";{key}={}", joined(",")),
            }
        }
    };
    segment_or_refused(name, out)
}

/// The value of the header parameter `name` holding `value`, in its one style, `simple`
/// (OpenAPI 3.0's "Style Values" table): a scalar as its text, an array's items joined by `,`,
/// an object's keys and values `k,v,k2,v2` (exploded `k=v,k2=v2`), keys in name order, `null`
/// items and properties left out. A nested array or object and `null` are errors naming the
/// header; a value that is no header value (a line break) is refused by `HeaderValue`.
///
/// ```
/// use agentstatus_runtime::forms::header_value;
/// use serde_json::json;
/// assert_eq!(header_value("X-Ids", &json!([3, 4]), false).unwrap(), "3,4");
/// assert_eq!(header_value("X-C", &json!({"R": 1, "G": 2}), true).unwrap(), "G=2,R=1");
/// assert_eq!(header_value("X-C", &json!({"R": 1, "G": 2}), false).unwrap(), "G,2,R,1");
/// ```
pub fn header_value<T: Serialize + ?Sized>(
    name: &str,
    value: &T,
    explode: bool,
) -> Result<String, FormError> {
    let value =
        serde_json::to_value(value).map_err(|e| FormError::new(format!("header `{name}`: {e}")))?;
    let item = |v: &Value| {
        scalar(v).ok_or_else(|| {
            FormError::new(format!(
                "header `{name}`: a nested array or object has no header form"
            ))
        })
    };
    Ok(match &value {
        Value::Null => return Err(FormError::new(format!("header `{name}` has no value"))),
        Value::Array(values) => values
            .iter()
            .filter(|v| !v.is_null())
            .map(item)
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        Value::Object(map) => {
            let mut out = Vec::new();
            for (k, v) in sorted(map) {
                if v.is_null() {
                    continue;
                }
                let v = item(v)?;
                if explode {
                    out.push(format!("{k}={v}"));
                } else {
                    out.push(k.clone());
                    out.push(v);
                }
            }
            out.join(",")
        }
        v => item(v)?,
    })
}

/// `text` unless it is no URL path segment of its own (`""`, `.`, `..`, which URLs resolve as
/// "this" and "parent" directory).
fn segment_or_refused(name: &str, text: String) -> Result<String, FormError> {
    if matches!(text.as_str(), "" | "." | "..") {
        return Err(FormError::new(format!(
            "path parameter `{name}` is {text:?}: an empty value, `.` and `..` cannot be sent as one URL path segment"
        )));
    }
    Ok(text)
}

/// A query parameter whose value is a structure (an object with properties): progenitor 0.15
/// writes builder setters for scalars, lists, maps and enums only, so the generated setter takes
/// `Param<T>`, which any `T` converts into (`.filter(types::Filter { .. })`). Serialised as `T`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Param<T>(pub T);

impl<T> From<T> for Param<T> {
    fn from(value: T) -> Self {
        Param(value)
    }
}

impl<T> std::ops::Deref for Param<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// How one property of a form or multipart body is written (OpenAPI's Encoding Object).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Encoding {
    /// `contentType`: a JSON type writes the property as JSON text; in a multipart body, the
    /// part's `Content-Type`.
    pub content_type: Option<&'static str>,
    /// `style` (form bodies): `form` unless given.
    pub style: Option<Style>,
    /// `explode` (form bodies): true for `form` unless given, false for the others.
    pub explode: Option<bool>,
}

fn is_json(media: &str) -> bool {
    let base = media.split(';').next().unwrap_or("").trim();
    base == "application/json" || base.ends_with("+json")
}

fn encoding_of<'a>(encodings: &'a [(&str, Encoding)], property: &str) -> Option<&'a Encoding> {
    encodings
        .iter()
        .find(|(name, _)| *name == property)
        .map(|(_, e)| e)
}

fn body_object(value: Value, what: &str) -> Result<serde_json::Map<String, Value>, FormError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(FormError::new(format!(
            "a {what} body is an object of properties, not {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body: each property written as its
/// [`Encoding`] says (JSON text for a JSON `contentType`, else its style).
pub fn form_pairs<T: Serialize + ?Sized>(
    body: &T,
    encodings: &[(&str, Encoding)],
) -> Result<Vec<(String, String)>, FormError> {
    let value = serde_json::to_value(body)
        .map_err(|e| FormError::new(format!("the form body cannot be serialised: {e}")))?;
    let mut out = Vec::new();
    let body = body_object(value, "form")?;
    for (name, v) in sorted(&body) {
        let (name, v) = (name.clone(), v.clone());
        let encoding = encoding_of(encodings, &name).copied().unwrap_or_default();
        if encoding.content_type.is_some_and(is_json) {
            out.extend(json_query_pairs(&name, &v));
            continue;
        }
        let style = encoding.style.unwrap_or(Style::Form);
        let explode = encoding.explode.unwrap_or(style == Style::Form);
        out.extend(query_pairs(&name, &v, style, explode)?);
    }
    Ok(out)
}

/// An `application/x-www-form-urlencoded` body ([`form_pairs`], encoded).
///
/// ```
/// use agentstatus_runtime::forms::{Encoding, Style, form_body};
/// let body = serde_json::json!({"amount": 5, "metadata": {"order": "7"}, "tags": ["a", "b"]});
/// let deep = Encoding { style: Some(Style::DeepObject), explode: Some(true), ..Encoding::default() };
/// assert_eq!(
///     form_body(&body, &[("metadata", deep)]).unwrap(),
///     "amount=5&metadata%5Border%5D=7&tags=a&tags=b"
/// );
/// ```
pub fn form_body<T: Serialize + ?Sized>(
    body: &T,
    encodings: &[(&str, Encoding)],
) -> Result<String, FormError> {
    let pairs = form_pairs(body, encodings)?;
    Ok(url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish())
}

/// A file in a `multipart/form-data` body: its content (bytes, or a stream sent as it is read),
/// its file name and its content type (`application/octet-stream` unless given or encoded).
///
/// The generated body types hold one for every `format: binary` property. A file made from a
/// stream can be sent once: a clone shares the stream, and a request whose body is a stream is
/// never retried (it cannot be replayed).
#[derive(Clone)]
pub struct File {
    content: Content,
    file_name: Option<String>,
    content_type: Option<String>,
}

type SharedBody = Arc<Mutex<Option<reqwest::Body>>>;

#[derive(Clone)]
enum Content {
    Bytes(bytes::Bytes),
    Stream(SharedBody),
}

impl File {
    /// A file of these bytes.
    pub fn from_bytes(bytes: impl Into<bytes::Bytes>) -> Self {
        File {
            content: Content::Bytes(bytes.into()),
            file_name: None,
            content_type: None,
        }
    }

    /// A file read from `stream` while the request is sent.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: futures_util::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        bytes::Bytes: From<S::Ok>,
    {
        File {
            content: Content::Stream(Arc::new(Mutex::new(Some(reqwest::Body::wrap_stream(
                stream,
            ))))),
            file_name: None,
            content_type: None,
        }
    }

    /// With the file name the part carries (`Content-Disposition: ...; filename="..."`).
    pub fn with_file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// With the part's `Content-Type` (over the document's `encoding`).
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name, if given.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The content type, if given.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("File");
        match &self.content {
            Content::Bytes(b) => d.field("bytes", &b.len()),
            Content::Stream(_) => d.field("stream", &".."),
        };
        d.field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl PartialEq for File {
    fn eq(&self, other: &Self) -> bool {
        let content = match (&self.content, &other.content) {
            (Content::Bytes(a), Content::Bytes(b)) => a == b,
            (Content::Stream(a), Content::Stream(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        content && self.file_name == other.file_name && self.content_type == other.content_type
    }
}

impl From<Vec<u8>> for File {
    fn from(bytes: Vec<u8>) -> Self {
        File::from_bytes(bytes)
    }
}

impl From<&'static [u8]> for File {
    fn from(bytes: &'static [u8]) -> Self {
        File::from_bytes(bytes)
    }
}

impl From<bytes::Bytes> for File {
    fn from(bytes: bytes::Bytes) -> Self {
        File::from_bytes(bytes)
    }
}

/// The key of the JSON object a [`File`] serialises to while [`multipart_form`] collects files.
const FILE_KEY: &str = "$agentstatus_runtime::forms::File";

thread_local! {
    /// The files of the body [`multipart_form`] is serialising on this thread.
    static COLLECTED: RefCell<Option<Vec<File>>> = const { RefCell::new(None) };
}

impl Serialize for File {
    /// Within [`multipart_form`], a reference to the file it collects; elsewhere (a JSON dump of
    /// a body) its file name, or `""`: the content is never serialised.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index = COLLECTED.with(|c| {
            c.borrow_mut().as_mut().map(|files| {
                files.push(self.clone());
                files.len() - 1
            })
        });
        match index {
            Some(i) => {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(FILE_KEY, &i)?;
                map.end()
            }
            None => serializer.serialize_str(self.file_name.as_deref().unwrap_or("")),
        }
    }
}

impl<'de> serde::Deserialize<'de> for File {
    /// A file whose content is the string (a `format: binary` value in a JSON document).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(File::from_bytes(text.into_bytes()))
    }
}

/// Serialise `body` with its files collected, whatever happens (a panic included).
fn collect_files<T: Serialize + ?Sized>(body: &T) -> Result<(Value, Vec<File>), FormError> {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            COLLECTED.with(|c| c.borrow_mut().take());
        }
    }
    COLLECTED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let _reset = Reset;
    let value = serde_json::to_value(body)
        .map_err(|e| FormError::new(format!("the multipart body cannot be serialised: {e}")))?;
    let files = COLLECTED
        .with(|c| c.borrow_mut().take())
        .unwrap_or_default();
    Ok((value, files))
}

fn file_index(v: &Value) -> Option<usize> {
    let map = v.as_object().filter(|m| m.len() == 1)?;
    map.get(FILE_KEY)?.as_u64().map(|i| i as usize)
}

fn file_part(
    name: &str,
    file: &File,
    encoding: Option<&Encoding>,
) -> Result<reqwest::multipart::Part, FormError> {
    let part = match &file.content {
        Content::Bytes(b) => reqwest::multipart::Part::stream(reqwest::Body::from(b.clone())),
        Content::Stream(shared) => {
            let body = shared
                .lock()
                .map_err(|_| FormError::new(format!("the stream of file `{name}` was poisoned")))?
                .take()
                .ok_or_else(|| {
                    FormError::new(format!(
                        "the stream of file `{name}` was already sent (a stream is read once)"
                    ))
                })?;
            reqwest::multipart::Part::stream(body)
        }
    };
    let part = match &file.file_name {
        Some(n) => part.file_name(n.clone()),
        None => part.file_name(name.to_string()),
    };
    let content_type = file
        .content_type
        .as_deref()
        .or(encoding.and_then(|e| e.content_type))
        .unwrap_or("application/octet-stream");
    part.mime_str(content_type).map_err(|_| {
        FormError::new(format!(
            "file `{name}`: {content_type:?} is not a content type"
        ))
    })
}

fn text_part(
    name: &str,
    text: String,
    content_type: Option<&str>,
) -> Result<reqwest::multipart::Part, FormError> {
    let part = reqwest::multipart::Part::text(text);
    match content_type {
        Some(ct) => part.mime_str(ct).map_err(|_| {
            FormError::new(format!("property `{name}`: {ct:?} is not a content type"))
        }),
        None => Ok(part),
    }
}

/// The parts of a `multipart/form-data` body: a [`File`] property is a file part (its name, file
/// name and content type), an array one part per item under the same name, an object (or a JSON
/// `contentType`) a JSON part, anything else a text part; `null` sends nothing.
pub fn multipart_form<T: Serialize + ?Sized>(
    body: &T,
    encodings: &[(&str, Encoding)],
) -> Result<reqwest::multipart::Form, FormError> {
    let (value, files) = collect_files(body)?;
    let mut form = reqwest::multipart::Form::new();
    let body = body_object(value, "multipart")?;
    for (name, v) in sorted(&body) {
        let encoding = encoding_of(encodings, name);
        let items = match v {
            Value::Array(items) => items.clone(),
            v => vec![v.clone()],
        };
        for item in items {
            let part = if let Some(i) = file_index(&item) {
                let file = files.get(i).ok_or_else(|| {
                    FormError::new(format!("property `{name}`: not a file of this body"))
                })?;
                file_part(name, file, encoding)?
            } else {
                let content_type = encoding.and_then(|e| e.content_type);
                match item {
                    Value::Null => continue,
                    Value::Object(_) | Value::Array(_) => text_part(
                        name,
                        item.to_string(),
                        Some(content_type.unwrap_or("application/json")),
                    )?,
                    v if content_type.is_some_and(is_json) => {
                        text_part(name, v.to_string(), content_type)?
                    }
                    v => text_part(name, scalar(&v).expect("a scalar"), content_type)?,
                }
            };
            form = form.part(name.clone(), part);
        }
    }
    Ok(form)
}

/// The bytes a cookie value may hold as they are (RFC 6265 §4.1.1 `cookie-octet`: visible
/// ASCII but `"`, `,`, `;` and `\`), less `%`, which starts an escape: every other byte is
/// percent-encoded.
const COOKIE_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'%')
    .add(b',')
    .add(b';')
    .add(b'\\');

/// `text` as cookie octets: a byte that is no `cookie-octet` of RFC 6265 (a space, `"`, `,`,
/// `;`, `\`, a control character, non-ASCII text) and `%` itself become `%XX` (UTF-8 bytes, as
/// JavaScript's `encodeURIComponent` writes them and server frameworks decode them); the rest
/// (`=`, `/`, `+`, base64 and tokens) is sent as it is.
///
/// ```
/// use agentstatus_runtime::forms::cookie_octets;
/// assert_eq!(cookie_octets("a b;c=d,é%"), "a%20b%3Bc=d%2C%C3%A9%25");
/// ```
pub fn cookie_octets(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, COOKIE_ESCAPED).to_string()
}

/// Is `name` a cookie name (RFC 6265 §4.1.1: an RFC 2616 `token`)?
pub fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The `name=value` of one cookie parameter holding `value` (OpenAPI's `style: form`, the only
/// style of a cookie parameter): a scalar as its text; an array unexploded as `name=a,b`, an
/// object unexploded as `name=k1,v1,k2,v2` (keys in name order), each item encoded on its own
/// ([`cookie_octets`]), so a `,` inside an item never reads as a separator; `null` (an unset
/// optional parameter), an empty array and an empty object send nothing. An array or object with
/// `explode: true` has no cookie form (the specification's `name=a&name=b` is no cookie), nor
/// has a nested one: an error naming the cookie.
///
/// ```
/// use agentstatus_runtime::forms::cookie_pair;
/// use serde_json::json;
/// assert_eq!(cookie_pair("ids", &json!([1, "a,b"]), false).unwrap().unwrap(), "ids=1,a%2Cb");
/// assert_eq!(cookie_pair("c", &json!({"R": 1, "G": 2}), false).unwrap().unwrap(), "c=G,2,R,1");
/// assert!(cookie_pair("ids", &json!([1]), true).is_err());
/// ```
pub fn cookie_pair(name: &str, value: &Value, explode: bool) -> Result<Option<String>, FormError> {
    if !is_cookie_name(name) {
        return Err(FormError::new(format!(
            "cookie name {:?} is no RFC 6265 token",
            name.chars()
                .flat_map(char::escape_debug)
                .take(80)
                .collect::<String>()
        )));
    }
    let nested = || {
        FormError::new(format!(
            "cookie `{name}`: a nested array or object has no cookie form"
        ))
    };
    let item = |v: &Value| scalar(v).map(|s| cookie_octets(&s)).ok_or_else(nested);
    let items: Vec<String> = match value {
        Value::Null => return Ok(None),
        Value::Array(_) | Value::Object(_) if explode => {
            return Err(FormError::new(format!(
                "cookie `{name}`: an array or object with `explode: true` has no cookie form (send it with `explode: false`: `{name}=a,b`)"
            )));
        }
        Value::Array(values) => values
            .iter()
            .filter(|v| !v.is_null())
            .map(item)
            .collect::<Result<_, _>>()?,
        Value::Object(map) => {
            let mut out = Vec::new();
            for (k, v) in sorted(map) {
                if v.is_null() {
                    continue;
                }
                out.push(cookie_octets(k));
                out.push(item(v)?);
            }
            out
        }
        v => vec![item(v)?],
    };
    if items.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("{name}={}", items.join(","))))
}

/// The one `Cookie` header of a request (RFC 6265 §5.4: a client sends one), built from the
/// operation's cookie parameters by the generated `send()`: `Cookies::new(header_map)`, one
/// [`add`](Self::add) per cookie parameter, then [`into_headers`](Self::into_headers), the
/// headers the request is sent with.
///
/// A `Cookie` the headers already hold (a header parameter of that name) comes first, the
/// parameters after it, in the document's order, joined by `; `. The header is marked sensitive
/// (`Debug` of the request shows no cookie: a cookie is as often a session as anything else, and
/// this workspace reads a header named `Cookie` as a credential). No cookie set, no header: a
/// `Cookie` among the client's default headers is then sent as it is, and replaced (not merged:
/// reqwest fills in a default header only where the request has none) when the request carries
/// one.
#[derive(Debug)]
pub struct Cookies {
    headers: reqwest::header::HeaderMap,
    pairs: Vec<String>,
    error: Option<FormError>,
}

impl Cookies {
    /// The request's other headers, which may hold a `Cookie` already.
    pub fn new(headers: reqwest::header::HeaderMap) -> Self {
        Cookies {
            headers,
            pairs: Vec::new(),
            error: None,
        }
    }

    /// The cookie parameter `name` holding `value` ([`cookie_pair`]); the first error is kept
    /// for [`into_headers`](Self::into_headers).
    pub fn add<T: Serialize + ?Sized>(mut self, name: &str, value: &T, explode: bool) -> Self {
        if self.error.is_some() {
            return self;
        }
        let pair = serde_json::to_value(value)
            .map_err(|e| FormError::new(format!("cookie `{name}` cannot be serialised: {e}")))
            .and_then(|v| cookie_pair(name, &v, explode));
        match pair {
            Ok(Some(pair)) => self.pairs.push(pair),
            Ok(None) => {}
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// The headers with the one `Cookie` header, or the first cookie that could not be written.
    pub fn into_headers(mut self) -> Result<reqwest::header::HeaderMap, FormError> {
        use reqwest::header::{COOKIE, Entry, HeaderValue};
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.pairs.is_empty() {
            return Ok(self.headers);
        }
        let mut value: Vec<u8> = Vec::new();
        if let Entry::Occupied(given) = self.headers.entry(COOKIE) {
            for v in given.remove_entry_mult().1 {
                if !value.is_empty() {
                    value.extend_from_slice(b"; ");
                }
                value.extend_from_slice(v.as_bytes());
            }
        }
        for pair in &self.pairs {
            if !value.is_empty() {
                value.extend_from_slice(b"; ");
            }
            value.extend_from_slice(pair.as_bytes());
        }
        // every byte is a token's, a cookie octet's, `=`, `,`, `;` or a space, or a header
        // value's already: never a CR, LF or NUL
        let mut header = HeaderValue::from_bytes(&value)
            .map_err(|_| FormError::new("the Cookie header cannot be written"))?;
        header.set_sensitive(true);
        self.headers.insert(COOKIE, header);
        Ok(self.headers)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pairs(v: &[(String, String)]) -> Vec<String> {
        v.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn path_styles_of_the_specification_table() {
        // OpenAPI 3.0.4 / 3.1.1, "Style Examples" (RFC 6570: an unexploded label list is
        // `.a,b`, which the 3.0.3 table misprinted as `.a.b`)
        let (s, a, o) = (
            json!("blue"),
            json!(["blue", "black", "brown"]),
            json!({"R": 100, "G": 200, "B": 150}),
        );
        let cases: [(PathStyle, bool, [&str; 3]); 6] = [
            (
                PathStyle::Simple,
                false,
                ["blue", "blue,black,brown", "B,150,G,200,R,100"],
            ),
            (
                PathStyle::Simple,
                true,
                ["blue", "blue,black,brown", "B=150,G=200,R=100"],
            ),
            (
                PathStyle::Label,
                false,
                [".blue", ".blue,black,brown", ".B,150,G,200,R,100"],
            ),
            (
                PathStyle::Label,
                true,
                [".blue", ".blue.black.brown", ".B=150.G=200.R=100"],
            ),
            (
                PathStyle::Matrix,
                false,
                [
                    ";color=blue",
                    ";color=blue,black,brown",
                    ";color=B,150,G,200,R,100",
                ],
            ),
            (
                PathStyle::Matrix,
                true,
                [
                    ";color=blue",
                    ";color=blue;color=black;color=brown",
                    ";B=150;G=200;R=100",
                ],
            ),
        ];
        for (style, explode, want) in cases {
            for (value, want) in [&s, &a, &o].into_iter().zip(want) {
                assert_eq!(
                    path_value("color", value, style, explode).unwrap(),
                    want,
                    "{style:?} explode {explode} of {value}"
                );
            }
        }
        assert_eq!(
            path_value("color", &json!(""), PathStyle::Matrix, false).unwrap(),
            ";color"
        );
    }

    #[test]
    fn a_path_value_never_changes_the_path() {
        let base = reqwest::Url::parse("https://h.example/api/v1/users/").unwrap();
        for style in [PathStyle::Simple, PathStyle::Label, PathStyle::Matrix] {
            for explode in [false, true] {
                for v in [
                    json!("a/b"),
                    json!("../x?y#z"),
                    json!(["a,b", "c;d=e", "%2F", "f\\g"]),
                    json!({"k/1": "v?", "k;2": "v#=,"}),
                    json!("é \r\n"),
                ] {
                    let seg = path_value("i d", &v, style, explode).unwrap();
                    let url = base.join(&seg).unwrap();
                    let segments: Vec<&str> = url.path_segments().unwrap().collect();
                    assert_eq!(segments.len(), 4, "{v} {style:?} -> {url}");
                    assert!(url.query().is_none() && url.fragment().is_none(), "{url}");
                    assert!(!seg.contains(['/', '?', '#', '\\'].as_slice()), "{seg}");
                }
            }
        }
        // a `,` inside an item is no separator; the matrix name is encoded too
        assert_eq!(
            path_value("a b", &json!(["x,y", "z"]), PathStyle::Matrix, false).unwrap(),
            ";a%20b=x%2Cy,z"
        );
    }

    #[test]
    fn header_styles_of_the_specification_table() {
        let (a, o) = (
            json!(["blue", "black", "brown"]),
            json!({"R": 100, "G": 200, "B": 150}),
        );
        for explode in [false, true] {
            assert_eq!(
                header_value("X-Color", &json!("blue"), explode).unwrap(),
                "blue"
            );
            assert_eq!(
                header_value("X-Color", &a, explode).unwrap(),
                "blue,black,brown"
            );
        }
        assert_eq!(
            header_value("X-Color", &o, false).unwrap(),
            "B,150,G,200,R,100"
        );
        assert_eq!(
            header_value("X-Color", &o, true).unwrap(),
            "B=150,G=200,R=100"
        );
        for bad in [json!(null), json!([[1]]), json!({"a": {"b": 1}})] {
            let e = header_value("X-Color", &bad, false)
                .unwrap_err()
                .to_string();
            assert!(e.contains("header `X-Color`"), "{e}");
        }
    }

    #[test]
    fn path_values_without_a_path_form_are_refused() {
        for (v, style, why) in [
            (json!(null), PathStyle::Simple, "has no value"),
            (json!([]), PathStyle::Label, "empty array or object"),
            (json!({}), PathStyle::Matrix, "empty array or object"),
            (json!([[1]]), PathStyle::Simple, "nested"),
            (json!({"a": {"b": 1}}), PathStyle::Label, "nested"),
            (json!(""), PathStyle::Simple, "cannot be sent"),
            (json!("."), PathStyle::Simple, "cannot be sent"),
            (json!(".."), PathStyle::Simple, "cannot be sent"),
            (json!("."), PathStyle::Label, "cannot be sent"),
            (json!(""), PathStyle::Label, "cannot be sent"),
        ] {
            let e = path_value("id", &v, style, false).unwrap_err().to_string();
            assert!(
                e.contains("path parameter `id`") && e.contains(why),
                "{v}: {e}"
            );
        }
    }

    #[test]
    fn the_styles_of_the_specification_table() {
        // OpenAPI 3.0.3, 4.7.12.4: color = ["blue","black","brown"] / {R:100,G:200,B:150}
        let array = json!(["blue", "black", "brown"]);
        let object = json!({"R": 100, "G": 200, "B": 150});
        let q = |v: &Value, s, e| pairs(&query_pairs("color", v, s, e).unwrap());
        assert_eq!(
            q(&array, Style::Form, true),
            ["color=blue", "color=black", "color=brown"]
        );
        assert_eq!(q(&array, Style::Form, false), ["color=blue,black,brown"]);
        assert_eq!(
            q(&array, Style::SpaceDelimited, false),
            ["color=blue black brown"]
        );
        assert_eq!(
            q(&array, Style::PipeDelimited, false),
            ["color=blue|black|brown"]
        );
        // keys in name order (the specification's example lists R, G, B)
        assert_eq!(q(&object, Style::Form, true), ["B=150", "G=200", "R=100"]);
        assert_eq!(q(&object, Style::Form, false), ["color=B,150,G,200,R,100"]);
        assert_eq!(
            q(&object, Style::DeepObject, true),
            ["color[B]=150", "color[G]=200", "color[R]=100"]
        );
        assert_eq!(q(&json!("blue"), Style::Form, false), ["color=blue"]);
        assert!(q(&Value::Null, Style::DeepObject, true).is_empty());
        assert!(q(&json!([]), Style::PipeDelimited, false).is_empty());
    }

    #[test]
    fn deep_objects_nest_and_index_arrays() {
        let v = json!({"card": {"exp": {"month": 1}, "tags": ["a", {"b": true}]}, "gone": null});
        assert_eq!(
            pairs(&query_pairs("p", &v, Style::DeepObject, true).unwrap()),
            [
                "p[card][exp][month]=1",
                "p[card][tags][0]=a",
                "p[card][tags][1][b]=true"
            ]
        );
    }

    #[test]
    fn what_a_flat_style_cannot_write_is_an_error_naming_the_parameter() {
        let e = query_pairs("ids", &json!([[1]]), Style::Form, false).unwrap_err();
        assert!(e.to_string().contains("`ids`"), "{e}");
        let e = query_pairs("f", &json!({"a": {"b": 1}}), Style::Form, true).unwrap_err();
        assert!(e.to_string().contains("`a`"), "{e}");
    }

    #[test]
    fn json_in_a_query_is_one_pair_of_json_text() {
        assert_eq!(
            pairs(&json_query_pairs("filter", &json!({"a": [1, "x"]}))),
            [r#"filter={"a":[1,"x"]}"#]
        );
        assert!(json_query_pairs("filter", &Value::Null).is_empty());
    }

    #[test]
    fn styled_query_is_what_reqwest_puts_in_the_url() {
        let mut status = std::collections::HashMap::new();
        status.insert("b 2", "away");
        status.insert("a", "available");
        let client = crate::generated_http_client(reqwest::Client::builder());
        let request = client
            .get("http://127.0.0.1/x")
            .query(&StyledQuery::new(
                "status",
                &status,
                Style::DeepObject,
                true,
            ))
            .query(&StyledQuery::json("q", &json!({"k": "v w"})))
            .query(&StyledQuery::new(
                "ids",
                &Some(vec![1, 2]),
                Style::PipeDelimited,
                false,
            ))
            .query(&StyledQuery::new(
                "none",
                &None::<Vec<i32>>,
                Style::Form,
                false,
            ))
            .build()
            .unwrap();
        assert_eq!(
            request.url().query(),
            Some(
                "status%5Ba%5D=available&status%5Bb+2%5D=away&q=%7B%22k%22%3A%22v+w%22%7D&ids=1%7C2"
            )
        );
        let bad = client
            .get("http://127.0.0.1/x")
            .query(&StyledQuery::new("x", &json!([{}]), Style::Form, true))
            .build();
        assert!(bad.is_err());
    }

    #[test]
    fn form_bodies_follow_each_property_encoding() {
        #[derive(Serialize)]
        struct Body {
            name: String,
            meta: serde_json::Value,
            filter: serde_json::Value,
            ids: Vec<u32>,
            opt: Option<String>,
        }
        let body = Body {
            name: "a&b=c".into(),
            meta: json!({"k": "v"}),
            filter: json!({"x": 1}),
            ids: vec![1, 2],
            opt: None,
        };
        let enc = [
            (
                "meta",
                Encoding {
                    style: Some(Style::DeepObject),
                    explode: Some(true),
                    ..Encoding::default()
                },
            ),
            (
                "filter",
                Encoding {
                    content_type: Some("application/json"),
                    ..Encoding::default()
                },
            ),
            (
                "ids",
                Encoding {
                    style: Some(Style::Form),
                    explode: Some(false),
                    ..Encoding::default()
                },
            ),
        ];
        assert_eq!(
            form_body(&body, &enc).unwrap(),
            "filter=%7B%22x%22%3A1%7D&ids=1%2C2&meta%5Bk%5D=v&name=a%26b%3Dc"
        );
        // without an encoding, an object property is written as `form`, exploded
        assert_eq!(form_body(&json!({"meta": {"k": "v"}}), &[]).unwrap(), "k=v");
        let e = form_body(&json!([1]), &[]).unwrap_err();
        assert!(e.to_string().contains("not an array"), "{e}");
    }

    #[test]
    fn files_serialise_as_their_name_outside_a_multipart_body_and_never_their_content() {
        let f = File::from_bytes(&b"secret"[..]).with_file_name("a.txt");
        assert_eq!(serde_json::to_value(&f).unwrap(), json!("a.txt"));
        assert!(!format!("{f:?}").contains("secret"));
        let back: File = serde_json::from_value(json!("xyz")).unwrap();
        assert_eq!(back, File::from_bytes(&b"xyz"[..]));
    }

    #[test]
    fn a_stream_is_sent_once() {
        let stream =
            futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("abc"))]);
        #[derive(Serialize)]
        struct B {
            file: File,
        }
        let b = B {
            file: File::from_stream(stream),
        };
        multipart_form(&b, &[]).unwrap();
        let e = multipart_form(&b, &[]).unwrap_err();
        assert!(e.to_string().contains("already sent"), "{e}");
        // nothing is left collecting on this thread
        assert_eq!(serde_json::to_value(&b.file).unwrap(), json!(""));
    }

    #[test]
    fn cookie_values_never_split_or_inject() {
        let hostile = "a; b=c, d\r\nX-Evil: 1 \"é\\%";
        let pair = cookie_pair("s", &json!(hostile), false).unwrap().unwrap();
        assert_eq!(
            pair,
            "s=a%3B%20b=c%2C%20d%0D%0AX-Evil:%201%20%22%C3%A9%5C%25"
        );
        assert!(
            pair.bytes()
                .all(|b| (0x21..0x7f).contains(&b) && !b";,\" \\".contains(&b))
        );
        // and back: percent-decoding gives the value
        let (_, v) = pair.split_once('=').unwrap();
        assert_eq!(
            percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .unwrap(),
            hostile
        );
        // a name that is no token is refused, never sent
        for name in ["a b", "a;b", "a=b", "", "é", "a\r\nb"] {
            assert!(cookie_pair(name, &json!("v"), false).is_err(), "{name:?}");
        }
    }

    #[test]
    fn cookie_forms() {
        let c = |v: Value, e| cookie_pair("c", &v, e).unwrap();
        assert_eq!(c(json!(5), true).as_deref(), Some("c=5"));
        assert_eq!(c(json!(true), false).as_deref(), Some("c=true"));
        assert_eq!(c(json!(["a b", "c"]), false).as_deref(), Some("c=a%20b,c"));
        assert_eq!(
            c(json!({"k,": "v", "n": null}), false).as_deref(),
            Some("c=k%2C,v")
        );
        assert_eq!(c(Value::Null, true), None);
        assert_eq!(c(json!([]), false), None);
        let e = cookie_pair("c", &json!({"a": 1}), true).unwrap_err();
        assert!(e.to_string().contains("explode"), "{e}");
        let e = cookie_pair("c", &json!([[1]]), false).unwrap_err();
        assert!(e.to_string().contains("nested"), "{e}");
    }

    #[test]
    fn one_sensitive_cookie_header_after_a_given_one() {
        use reqwest::header::{COOKIE, HeaderMap, HeaderValue};
        let mut given = HeaderMap::new();
        given.append(COOKIE, HeaderValue::from_static("sid=1"));
        given.append("x-other", HeaderValue::from_static("o"));
        let headers = Cookies::new(given)
            .add("a", &Some("x y"), false)
            .add("b", &None::<String>, false)
            .add("c", &vec![1, 2], false)
            .into_headers()
            .unwrap();
        let all: Vec<_> = headers.get_all(COOKIE).iter().collect();
        assert_eq!(all, ["sid=1; a=x%20y; c=1,2"]);
        assert!(all[0].is_sensitive());
        assert_eq!(headers.get("x-other").unwrap(), "o");
        // nothing set: the headers as they were, no Cookie
        let headers = Cookies::new(HeaderMap::new())
            .add("b", &None::<String>, false)
            .into_headers()
            .unwrap();
        assert!(headers.is_empty());
        // the first error is the answer
        let e = Cookies::new(HeaderMap::new())
            .add("a", &vec![1], true)
            .add("b", &"x", false)
            .into_headers()
            .unwrap_err();
        assert!(e.to_string().contains("cookie `a`"), "{e}");
    }
}
