//! The authenticated constructors of a vendor client, from the effective document's
//! `components/securitySchemes` and `security` requirements.
//!
//! Each distinct security requirement object of the kept operations (an alternative: the schemes
//! it names are sent together) becomes one constructor on `Client`,
//! `with_<scheme>[_and_<scheme>...](base_url, <credentials>, config) -> Result<Self, BuildError>`,
//! built with `agentstatus_runtime::connect` and every credential in a sensitive default header:
//!
//! | scheme | parameters | sent as |
//! |---|---|---|
//! | `apiKey`, `in: header` | `<scheme_name>: SecretString` | the header `name`, verbatim |
//! | `http`, `scheme: basic` | `username: &str, password: SecretString` | `Authorization: Basic base64(username:password)` |
//! | `http`, `scheme: bearer` | `token: SecretString` | `Authorization: Bearer <token>` |
//! | `oauth2`, `flows.clientCredentials` | `client_id: &str, client_secret: SecretString` | `Authorization: Bearer <token from tokenUrl>` |
//!
//! An `oauth2` scheme with a `clientCredentials` flow (RFC 6749 §4.4) gets three items: the
//! constructor above (the flow's `tokenUrl` and the scopes the kept operations' requirements name
//! as defaults; if they name none, the scopes the flow declares), `<scheme>_credentials(client_id, client_secret) -> ClientCredentials` (those
//! defaults, to override with `with_token_url`/`with_scopes`), and
//! `with_<requirement>_credentials(base_url, credentials, ..., config)`, built with
//! `agentstatus_runtime::connect_oauth2`: the runtime fetches, caches and refreshes the token
//! (see `agentstatus_runtime::oauth2`). The other flows (authorizationCode, implicit, password)
//! need a user and get no constructor, with the reason.
//!
//! Some requirements get no constructor, and say why in the generated code's documentation (see
//! [`NotGenerated`]): an `apiKey` in the query or a cookie (project rule: secrets never appear in
//! URLs, which reqwest errors and logs carry; a credential cookie is for the document to declare
//! as a cookie parameter, which the `cookie-parameters` pass sends), and the
//! schemes that need more than a static credential or a client credentials grant (`oauth2`
//! without a `clientCredentials` flow, `openIdConnect`, `mutualTLS`, HTTP schemes other than
//! Basic and Bearer). An empty requirement (`{}`, anonymous access) needs
//! none: progenitor's `Client::new` is that constructor.
//!
//! Bad input is an [`Error`] at the JSON pointer of the offending node, never a panic: a scheme
//! type that OpenAPI 3.0 does not define, a scheme name that cannot become a Rust identifier, an
//! invalid header name, two schemes of one requirement sending the same header. A requirement
//! naming a scheme the document does not define (a misspelling, another case) gets no
//! constructor, with that reason, as the schemes above do.

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result, escape_token};

/// How one credential of a constructor is taken and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `apiKey` in a header: `param: SecretString`, sent as the header `header` verbatim.
    ApiKeyHeader {
        /// The constructor parameter's name.
        param: String,
        /// The header the key is sent in.
        header: String,
    },
    /// HTTP Basic: `username: &str, password: SecretString`.
    Basic {
        /// The username parameter's name.
        username: String,
        /// The password parameter's name.
        password: String,
    },
    /// HTTP Bearer: `token: SecretString`, sent as `Authorization: Bearer <token>`.
    Bearer {
        /// The token parameter's name.
        param: String,
    },
    /// OAuth 2.0 client credentials: `client_id: &str, client_secret: SecretString`; the token
    /// from `token_url` is sent as `Authorization: Bearer <token>`.
    OAuth2ClientCredentials {
        /// The client id parameter's name.
        client_id: String,
        /// The client secret parameter's name.
        client_secret: String,
        /// The flow's `tokenUrl`, as the document has it (the default).
        token_url: String,
        /// The scopes the kept operations' requirements name for the scheme, or if they name
        /// none, the scopes the flow declares (the default).
        scopes: Vec<String>,
    },
}

impl Credential {
    /// The header this credential is sent in, lower case.
    fn header(&self) -> String {
        match self {
            Credential::ApiKeyHeader { header, .. } => header.to_ascii_lowercase(),
            Credential::Basic { .. }
            | Credential::Bearer { .. }
            | Credential::OAuth2ClientCredentials { .. } => "authorization".into(),
        }
    }
}

/// One scheme of a requirement, as the constructor uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeUse {
    /// The scheme's name in `components/securitySchemes`.
    pub scheme: String,
    /// How its credential is taken and sent.
    pub credential: Credential,
    /// The scheme's `description`, if any.
    pub description: Option<String>,
}

impl SchemeUse {
    /// An OAuth 2.0 client credentials scheme.
    pub fn is_oauth2(&self) -> bool {
        matches!(self.credential, Credential::OAuth2ClientCredentials { .. })
    }
}

/// One generated constructor: one security requirement object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constructor {
    /// `with_<scheme names in snake_case joined by _and_>`.
    pub name: String,
    /// Where the requirement first appears, e.g. `/security/0`.
    pub pointer: String,
    /// The schemes of the requirement, in its order.
    pub schemes: Vec<SchemeUse>,
}

/// A requirement that gets no constructor, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotGenerated {
    /// The scheme names of the requirement.
    pub requirement: Vec<String>,
    /// The scheme that cannot be generated.
    pub scheme: String,
    /// Where that scheme is defined.
    pub pointer: String,
    /// Why (e.g. [`SECRET_IN_URL`]): one visible line ([`crate::reason::visible`]), whatever
    /// it quotes of the document.
    pub reason: String,
}

/// What the document's security becomes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    /// One per security requirement that can be generated.
    pub constructors: Vec<Constructor>,
    /// The requirements that cannot, with the reason.
    pub not_generated: Vec<NotGenerated>,
}

/// The reason an `apiKey` in the query or a cookie gets no constructor.
pub const SECRET_IN_URL: &str = "secrets never appear in URLs (reqwest errors and logs carry \
     them); the clients send credentials only in sensitive headers";

/// The distinct security requirement objects of the document's operations (their own `security`,
/// or the document's), in order of first appearance, each with the pointer where it first
/// appears. Scopes are ignored: two requirements naming the same schemes are one.
fn requirements(doc: &Value, file: &Path) -> Result<Vec<(String, Vec<String>)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut add = |list: &Value, at: String| -> Result<()> {
        let Some(list) = list.as_array() else {
            return Err(Error::at(
                ErrorKind::Invalid,
                file,
                at,
                "`security` must be a list of security requirement objects",
            ));
        };
        for (i, req) in list.iter().enumerate() {
            let at = format!("{at}/{i}");
            let Some(req) = req.as_object() else {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    file,
                    at,
                    "a security requirement must be an object {scheme name: [scopes]}",
                ));
            };
            let names: Vec<String> = req.keys().cloned().collect();
            let mut key = names.clone();
            key.sort();
            if seen.insert(key) {
                out.push((at, names));
            }
        }
        Ok(())
    };
    let root = doc.get("security");
    let mut any_operation = false;
    for (path, method, op) in crate::nav::operations(doc) {
        any_operation = true;
        match op.get("security") {
            Some(own) => add(
                own,
                format!("{}/security", crate::nav::operation_pointer(path, method)),
            )?,
            None => {
                if let Some(root) = root {
                    add(root, "/security".into())?;
                }
            }
        }
    }
    if !any_operation && let Some(root) = root {
        add(root, "/security".into())?;
    }
    Ok(out)
}

/// `name` in snake_case: `authToken` -> `auth_token`, `X-Api-Key` -> `x_api_key`. Only ASCII
/// letters, digits, `_`, `-`, `.` and spaces are accepted; `None` if the result cannot be a Rust
/// identifier (empty, starting with a digit, a keyword).
pub fn snake_case(name: &str) -> Option<String> {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if matches!(c, '_' | '-' | '.' | ' ') {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        } else {
            return None;
        }
    }
    let out = out.trim_end_matches('_').to_string();
    let valid = out
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && syn::parse_str::<syn::Ident>(&out).is_ok();
    valid.then_some(out)
}

/// A header name is an RFC 9110 token.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What a scheme definition is, before naming its parameters.
enum Kind {
    ApiKeyHeader(String),
    Basic,
    Bearer,
    /// `oauth2` with a `clientCredentials` flow: its `tokenUrl` and the scopes it declares.
    ClientCredentials(String, Vec<String>),
    /// Known, but gets no constructor: why.
    Skip(String),
}

fn scheme_kind(def: &Value, at: &str, file: &Path) -> Result<Kind> {
    let field = |key: &str| -> Result<&str> {
        def.get(key).and_then(Value::as_str).ok_or_else(|| {
            Error::at(
                ErrorKind::Invalid,
                file,
                format!("{at}/{key}"),
                format!("the security scheme has no string `{key}`"),
            )
        })
    };
    Ok(match field("type")? {
        "apiKey" => {
            let name = field("name")?;
            match field("in")? {
                "header" => {
                    if !is_header_name(name) {
                        return Err(Error::at(
                            ErrorKind::Invalid,
                            file,
                            format!("{at}/name"),
                            format!("`{name}` is not a valid HTTP header name"),
                        ));
                    }
                    Kind::ApiKeyHeader(name.to_string())
                }
                place @ ("query" | "cookie") => Kind::Skip(format!(
                    "an API key in the {place} (`{name}`) gets no constructor: {SECRET_IN_URL}"
                )),
                other => {
                    return Err(Error::at(
                        ErrorKind::Invalid,
                        file,
                        format!("{at}/in"),
                        format!(
                            "unknown API key location `{other}` (expected header, query or cookie)"
                        ),
                    ));
                }
            }
        }
        "http" => {
            let scheme = field("scheme")?;
            match scheme.to_ascii_lowercase().as_str() {
                "basic" => Kind::Basic,
                "bearer" => Kind::Bearer,
                _ => Kind::Skip(format!(
                    "HTTP authentication scheme `{scheme}` is not supported (only Basic and Bearer)"
                )),
            }
        }
        "oauth2" => oauth2_kind(def, at, file)?,
        kind @ ("openIdConnect" | "mutualTLS") => Kind::Skip(format!(
            "`{kind}` needs more than a static credential and is not supported"
        )),
        other => {
            return Err(Error::at(
                ErrorKind::Invalid,
                file,
                format!("{at}/type"),
                format!(
                    "unknown security scheme type `{other}` (expected apiKey, http, oauth2, \
                     openIdConnect or mutualTLS)"
                ),
            ));
        }
    })
}

/// An `oauth2` scheme: its `clientCredentials` flow's `tokenUrl`, or why none is generated.
fn oauth2_kind(def: &Value, at: &str, file: &Path) -> Result<Kind> {
    let Some(flows) = def.get("flows").and_then(Value::as_object) else {
        return Err(Error::at(
            ErrorKind::Invalid,
            file,
            format!("{at}/flows"),
            "the oauth2 security scheme has no `flows` object",
        ));
    };
    let Some(flow) = flows.get("clientCredentials") else {
        let names: Vec<&str> = flows.keys().map(String::as_str).collect();
        let reason = if names.is_empty() {
            "the oauth2 scheme declares no flow".to_string()
        } else {
            format!(
                "OAuth 2.0 flow `{}` needs a user (a browser redirect or the user's password); \
                 only `clientCredentials` is generated",
                names.join("`, `")
            )
        };
        return Ok(Kind::Skip(reason));
    };
    let at = format!("{at}/flows/clientCredentials/tokenUrl");
    match flow.get("tokenUrl").and_then(Value::as_str) {
        Some(url) if !url.trim().is_empty() && url.trim() == url => {
            let declared = flow
                .get("scopes")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            Ok(Kind::ClientCredentials(url.to_string(), declared))
        }
        _ => Err(Error::at(
            ErrorKind::Invalid,
            file,
            at,
            "the clientCredentials flow needs a `tokenUrl` (a URL, without surrounding spaces)",
        )),
    }
}

/// The scopes the document's operations require of scheme `name` (their own `security`, or the
/// document's), in order of first appearance, each once.
fn required_scopes(doc: &Value, name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |list: Option<&Value>| {
        for req in list.and_then(Value::as_array).into_iter().flatten() {
            let scopes = req.get(name).and_then(Value::as_array);
            for s in scopes.into_iter().flatten().filter_map(Value::as_str) {
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_string());
                }
            }
        }
    };
    let root = doc.get("security");
    let mut any_operation = false;
    for (_, _, op) in crate::nav::operations(doc) {
        any_operation = true;
        add(op.get("security").or(root));
    }
    if !any_operation {
        add(root);
    }
    out
}

/// The scheme definition named `name`, following one local `$ref`, with its pointer.
fn scheme_def<'a>(
    doc: &'a Value,
    name: &str,
    used_at: &str,
    file: &Path,
) -> Result<(&'a Value, String)> {
    let at = format!("/components/securitySchemes/{}", escape_token(name));
    let def = doc.pointer(&at).ok_or_else(|| {
        Error::at(
            ErrorKind::Invalid,
            file,
            format!("{used_at}/{}", escape_token(name)),
            format!("the security requirement names `{name}`, which components/securitySchemes does not define"),
        )
    })?;
    match def.get("$ref").and_then(Value::as_str) {
        None => Ok((def, at)),
        Some(reference) => {
            let target = crate::nav::ref_pointer(reference)
                .and_then(|p| doc.pointer(&p).map(|v| (v, p)))
                .filter(|(v, _)| v.get("$ref").is_none());
            target.ok_or_else(|| {
                Error::at(
                    ErrorKind::BrokenRef,
                    file,
                    format!("{at}/$ref"),
                    format!("`$ref: {reference}` does not point at a security scheme"),
                )
            })
        }
    }
}

/// Read the document's security: which constructors to generate, which requirements get none.
pub fn plan(doc: &Value, file: &Path) -> Result<Auth> {
    let mut auth = Auth::default();
    let mut names_seen: Vec<(String, String)> = Vec::new(); // (snake, scheme)
    for (at, names) in requirements(doc, file)? {
        if names.is_empty() {
            continue; // anonymous access: `Client::new`
        }
        let mut kinds = Vec::new();
        let mut skipped = None;
        for name in &names {
            // a requirement naming no scheme (Zulip's `basicAuth` beside its `BasicAuth`) gets
            // no constructor, said so; the rest of the document is generated
            if doc
                .pointer(&format!(
                    "/components/securitySchemes/{}",
                    escape_token(name)
                ))
                .is_none()
            {
                let other_case = doc
                    .pointer("/components/securitySchemes")
                    .and_then(Value::as_object)
                    .and_then(|s| s.keys().find(|k| k.eq_ignore_ascii_case(name)));
                skipped.get_or_insert(NotGenerated {
                    requirement: names.clone(),
                    scheme: name.clone(),
                    pointer: format!("{at}/{}", escape_token(name)),
                    reason: crate::reason::visible(&match other_case {
                        Some(k) => format!(
                            "components/securitySchemes defines no `{name}` (it defines `{k}`, \
                             in another case: name it in the requirement, with an overlay)"
                        ),
                        None => format!("components/securitySchemes defines no `{name}`"),
                    }),
                });
                continue;
            }
            let (def, def_at) = scheme_def(doc, name, &at, file)?;
            let kind = scheme_kind(def, &def_at, file)?;
            if let Kind::Skip(reason) = kind {
                skipped.get_or_insert(NotGenerated {
                    requirement: names.clone(),
                    scheme: name.clone(),
                    pointer: def_at,
                    // it quotes the document (an HTTP scheme, a flow's name): one visible line
                    reason: crate::reason::visible(&reason),
                });
                continue;
            }
            let snake = snake_case(name).ok_or_else(|| {
                Error::at(
                    ErrorKind::Invalid,
                    file,
                    format!("/components/securitySchemes/{}", escape_token(name)),
                    format!(
                        "security scheme name `{name}` cannot become a Rust identifier (use \
                         ASCII letters, digits, `_`, `-`; not a keyword; not starting with a digit)"
                    ),
                )
            })?;
            if let Some((_, other)) = names_seen.iter().find(|(s, n)| *s == snake && n != name) {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    file,
                    format!("/components/securitySchemes/{}", escape_token(name)),
                    format!(
                        "security schemes `{other}` and `{name}` have the same Rust name `{snake}`"
                    ),
                ));
            }
            names_seen.push((snake.clone(), name.clone()));
            let description = def
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string);
            kinds.push((name.clone(), snake, kind, description));
        }
        if let Some(s) = skipped {
            auth.not_generated.push(s);
            continue;
        }
        // parameter names: the scheme's (`username`/`password` for Basic, `token` for Bearer),
        // prefixed with the scheme's name if taken
        let mut taken: Vec<String> = vec!["base_url".into(), "config".into()];
        let mut param = |wanted: &str, snake: &str| {
            let mut p = wanted.to_string();
            if taken.contains(&p) {
                p = format!("{snake}_{wanted}");
            }
            let base = p.clone();
            let mut n = 2;
            while taken.contains(&p) {
                p = format!("{base}_{n}");
                n += 1;
            }
            taken.push(p.clone());
            p
        };
        let mut schemes = Vec::new();
        let mut headers: Vec<(String, &String)> = Vec::new();
        for (name, snake, kind, description) in &kinds {
            let credential = match kind {
                Kind::ApiKeyHeader(header) => Credential::ApiKeyHeader {
                    param: param(snake, snake),
                    header: header.clone(),
                },
                Kind::Basic => Credential::Basic {
                    username: param("username", snake),
                    password: param("password", snake),
                },
                Kind::Bearer => Credential::Bearer {
                    param: param("token", snake),
                },
                Kind::ClientCredentials(token_url, declared) => {
                    // what the operations require; if they name none, what the flow declares
                    let required = required_scopes(doc, name);
                    Credential::OAuth2ClientCredentials {
                        client_id: param("client_id", snake),
                        client_secret: param("client_secret", snake),
                        token_url: token_url.clone(),
                        scopes: if required.is_empty() {
                            declared.clone()
                        } else {
                            required
                        },
                    }
                }
                Kind::Skip(_) => unreachable!("skipped above"),
            };
            let header = credential.header();
            if let Some((_, other)) = headers.iter().find(|(h, _)| *h == header) {
                return Err(Error::at(
                    ErrorKind::Invalid,
                    file,
                    at,
                    format!(
                        "security schemes `{other}` and `{name}` of one requirement both send the \
                         `{header}` header"
                    ),
                ));
            }
            headers.push((header, name));
            schemes.push(SchemeUse {
                scheme: name.clone(),
                credential,
                description: description.clone(),
            });
        }
        let snakes: Vec<&str> = kinds.iter().map(|(_, s, _, _)| s.as_str()).collect();
        auth.constructors.push(Constructor {
            name: format!("with_{}", snakes.join("_and_")),
            pointer: at,
            schemes,
        });
    }
    // the oauth2 constructors' further functions must not collide with another constructor
    let mut fns: BTreeSet<String> = auth.constructors.iter().map(|c| c.name.clone()).collect();
    let mut helpers: Vec<(String, &str)> = Vec::new();
    for c in &auth.constructors {
        let Some(oauth) = c.schemes.iter().find(|s| s.is_oauth2()) else {
            continue;
        };
        let with = format!("{}_credentials", c.name);
        let helper = format!(
            "{}_credentials",
            snake_case(&oauth.scheme).unwrap_or_default()
        );
        if !fns.insert(with.clone()) {
            return Err(Error::at(
                ErrorKind::Invalid,
                file,
                c.pointer.clone(),
                format!("the OAuth 2.0 constructor `{with}` collides with another constructor"),
            ));
        }
        if !helpers.iter().any(|(h, _)| *h == helper) {
            helpers.push((helper, c.pointer.as_str()));
        }
    }
    if let Some((h, at)) = helpers.iter().find(|(h, _)| fns.contains(h)) {
        return Err(Error::at(
            ErrorKind::Invalid,
            file,
            at.to_string(),
            format!("the OAuth 2.0 credentials function `{h}` collides with a constructor"),
        ));
    }
    Ok(auth)
}

/// `text`, a document's word, as one Markdown code span whatever it holds: fenced by more
/// backticks than its longest run of them (CommonMark), on one line, its hidden characters
/// visible, so it can neither end the span early nor become a link.
fn code(text: &str) -> String {
    let text = crate::prose::visible(&text.replace(['\n', '\r'], " "));
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text` (holding the document's scheme names, URLs and scopes) as doc attributes, rendered as
/// every doc comment from a document is ([`crate::prose::render`]): inert, brackets escaped, so
/// no text of the document becomes a link, a doctest or a rustdoc warning.
fn doc_lines(text: &str) -> TokenStream {
    let text = crate::prose::render(text);
    let lines = text.lines().map(|l| format!(" {l}").trim_end().to_string());
    quote! { #(#[doc = #lines])* }
}

fn wire_form(s: &SchemeUse) -> String {
    match &s.credential {
        Credential::ApiKeyHeader { param, header } => {
            format!(
                "`{param}`: sent as the `{header}` header (apiKey `{}`)",
                s.scheme
            )
        }
        Credential::Basic { username, password } => format!(
            "`{username}`, `{password}`: sent as `Authorization: Basic base64({username}:{password})` \
             (http basic `{}`); only visible ASCII is accepted, and no `:` in `{username}`",
            s.scheme
        ),
        Credential::Bearer { param } => format!(
            "`{param}`: sent as `Authorization: Bearer <{param}>` (http bearer `{}`)",
            s.scheme
        ),
        Credential::OAuth2ClientCredentials {
            client_id,
            client_secret,
            token_url,
            scopes,
        } => format!(
            "`{client_id}`, `{client_secret}`: OAuth 2.0 client credentials (oauth2 {}), sent \
             only to the token URL {}{}; the token is cached, refreshed before it \
             expires and once on a 401, and sent as `Authorization: Bearer <token>` only to \
             `base_url`'s origin",
            code(&s.scheme),
            code(token_url),
            if scopes.is_empty() {
                String::from(" (no scope asked for)")
            } else {
                format!(" with the scopes {}", code(&scopes.join(" ")))
            }
        ),
    }
}

/// The `<scheme>_credentials` function of an OAuth 2.0 scheme: the document's defaults.
fn credentials_fn(runtime: &proc_macro2::Ident, s: &SchemeUse) -> TokenStream {
    let Credential::OAuth2ClientCredentials {
        token_url, scopes, ..
    } = &s.credential
    else {
        return TokenStream::new();
    };
    let name = format_ident!("{}_credentials", snake_case(&s.scheme).unwrap_or_default());
    let doc = doc_lines(&format!(
        "The OAuth 2.0 client credentials of security scheme {} with the document's defaults: \
         the token URL {} and {}. Override them with \
         `with_token_url` (a tenant in the path, say) and `with_scopes`, then pass the result to \
         the scheme's `with_..._credentials` constructor.",
        code(&s.scheme),
        code(token_url),
        if scopes.is_empty() {
            String::from("no scope")
        } else {
            format!(
                "the scopes {}",
                scopes
                    .iter()
                    .map(|x| code(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ));
    let scopes = (!scopes.is_empty()).then(|| quote! { .with_scopes([#(#scopes),*]) });
    quote! {
        #doc
        pub fn #name(
            client_id: &str,
            client_secret: ::#runtime::SecretString,
        ) -> ::#runtime::ClientCredentials {
            ::#runtime::ClientCredentials::new(client_id, client_secret, #token_url) #scopes
        }
    }
}

/// The `impl Client` block of the constructors, documented with what is not generated.
pub fn tokens(auth: &Auth) -> TokenStream {
    if auth.constructors.is_empty() && auth.not_generated.is_empty() {
        return TokenStream::new();
    }
    let runtime = format_ident!("{}", crate::passes::RUNTIME_CRATE.replace('-', "_"));
    let mut impl_doc = String::from(
        "Authenticated constructors, generated from the document's `securitySchemes` and \
         `security`: one per security requirement.",
    );
    for n in &auth.not_generated {
        // the document's names, each one visible line: a line break in a scheme's name would
        // start a paragraph (or a code block) of its own in the docs
        impl_doc.push_str(&format!(
            "\n\nNo constructor for the requirement `{}`: security scheme `{}` ({}): {}.",
            crate::reason::visible(&n.requirement.join("` + `")),
            crate::reason::visible(&n.scheme),
            crate::reason::visible(&n.pointer),
            crate::reason::visible(&n.reason)
        ));
    }
    let impl_doc = doc_lines(&impl_doc);
    let constructors = auth.constructors.iter().map(|c| {
        let name = format_ident!("{}", c.name);
        let names: Vec<String> = c.schemes.iter().map(|s| format!("`{}`", s.scheme)).collect();
        let mut doc = if c.schemes.iter().any(SchemeUse::is_oauth2) {
            format!(
                "A client authenticating with the security requirement {}: the OAuth 2.0 client \
                 secret is sent only to the token URL and the token only to `base_url`'s origin, \
                 every credential in a sensitive header, never shown in `Debug` output, errors \
                 or logs.\n",
                names.join(" + "),
            )
        } else {
            format!(
                "A client authenticating with the security requirement {}: every credential is a \
                 sensitive default header, never shown in `Debug` output, errors or logs.\n",
                names.join(" + "),
            )
        };
        for s in &c.schemes {
            doc.push_str(&format!("\n- {}.", wire_form(s)));
            if let Some(d) = &s.description {
                let d = d.trim().replace('\n', "\n  ");
                doc.push_str(&format!("\n  {d}"));
            }
        }
        doc.push_str("\n\nFails if `base_url` is not a usable base URL (see `agentstatus_runtime::connect`) or a credential cannot be sent in a header.");
        let mut params = Vec::new();
        let mut headers = Vec::new();
        for s in &c.schemes {
            match &s.credential {
                Credential::ApiKeyHeader { param, header } => {
                    let p = format_ident!("{}", param);
                    let lower = header.to_ascii_lowercase();
                    let what = format!("the `{header}` header (security scheme `{}`)", s.scheme);
                    params.push(quote! { #p: ::#runtime::SecretString });
                    headers.push(quote! {
                        (
                            ::reqwest::header::HeaderName::from_static(#lower),
                            ::#runtime::sensitive_header(#p.expose_secret(), #what)?,
                        )
                    });
                }
                Credential::Basic { username, password } => {
                    let u = format_ident!("{}", username);
                    let p = format_ident!("{}", password);
                    let what = format!("the Basic credentials (security scheme `{}`)", s.scheme);
                    params.push(quote! { #u: &str });
                    params.push(quote! { #p: ::#runtime::SecretString });
                    headers.push(quote! {
                        (
                            ::reqwest::header::AUTHORIZATION,
                            ::#runtime::basic_auth(#u, #p.expose_secret(), #what)?,
                        )
                    });
                }
                Credential::OAuth2ClientCredentials { .. } => {}
                Credential::Bearer { param } => {
                    let p = format_ident!("{}", param);
                    let what = format!("the Bearer token (security scheme `{}`)", s.scheme);
                    params.push(quote! { #p: ::#runtime::SecretString });
                    headers.push(quote! {
                        (
                            ::reqwest::header::AUTHORIZATION,
                            ::#runtime::sensitive_header(
                                &["Bearer ", #p.expose_secret()].concat(),
                                #what,
                            )?,
                        )
                    });
                }
            }
        }
        if let Some(oauth) = c.schemes.iter().find(|s| s.is_oauth2()) {
            return oauth2_constructor(&runtime, c, oauth, &doc, &params, &headers);
        }
        let doc = doc_lines(&doc);
        quote! {
            #doc
            pub fn #name(
                base_url: &str,
                #(#params,)*
                config: &::#runtime::ClientConfig,
            ) -> ::std::result::Result<Self, ::#runtime::BuildError> {
                use ::#runtime::ExposeSecret as _;
                let headers = ::std::vec::Vec::from([#(#headers),*]);
                let (base, http, inner) = ::#runtime::connect(base_url, headers, config)?;
                Ok(Self::new_with_client(&base, http, inner))
            }
        }
    });
    let mut helpers_seen = BTreeSet::new();
    let helpers: Vec<TokenStream> = auth
        .constructors
        .iter()
        .flat_map(|c| c.schemes.iter())
        .filter(|s| s.is_oauth2() && helpers_seen.insert(s.scheme.clone()))
        .map(|s| credentials_fn(&runtime, s))
        .collect();
    quote! {
        #impl_doc
        impl Client {
            #(#constructors)*
            #(#helpers)*
        }
    }
}

/// The two constructors of a requirement with an OAuth 2.0 client credentials scheme:
/// `with_<requirement>(base_url, client_id, client_secret, ..., config)` with the document's
/// defaults, and `with_<requirement>_credentials(base_url, credentials, ..., config)`.
fn oauth2_constructor(
    runtime: &proc_macro2::Ident,
    c: &Constructor,
    oauth: &SchemeUse,
    doc: &str,
    params: &[TokenStream],
    headers: &[TokenStream],
) -> TokenStream {
    let Credential::OAuth2ClientCredentials {
        client_id,
        client_secret,
        ..
    } = &oauth.credential
    else {
        return TokenStream::new();
    };
    let name = format_ident!("{}", c.name);
    let with_credentials = format_ident!("{}_credentials", c.name);
    let helper = format_ident!(
        "{}_credentials",
        snake_case(&oauth.scheme).unwrap_or_default()
    );
    let id = format_ident!("{}", client_id);
    let secret = format_ident!("{}", client_secret);
    // the other schemes' parameter names, passed on as they are
    let args: Vec<TokenStream> = params
        .iter()
        .map(|p| {
            let mut it = p.clone().into_iter();
            let ident = it.next();
            quote! { #ident }
        })
        .collect();
    let doc_defaults = doc_lines(&format!(
        "{doc}\n\nThe token URL and scopes are the document's (see `{helper}`); \
         `{with_credentials}` takes others. Fails also if the token URL is not usable (not \
         https to a host that is not loopback, a `{{variable}}` left in it)."
    ));
    let doc_credentials = doc_lines(&format!(
        "`{name}` with the client credentials given: build them with `Client::{helper}(client_id, \
         client_secret)` and override its token URL or scopes."
    ));
    let use_expose = (!headers.is_empty()).then(|| quote! { use ::#runtime::ExposeSecret as _; });
    quote! {
        #doc_defaults
        pub fn #name(
            base_url: &str,
            #id: &str,
            #secret: ::#runtime::SecretString,
            #(#params,)*
            config: &::#runtime::ClientConfig,
        ) -> ::std::result::Result<Self, ::#runtime::BuildError> {
            Self::#with_credentials(base_url, Self::#helper(#id, #secret), #(#args,)* config)
        }

        #doc_credentials
        pub fn #with_credentials(
            base_url: &str,
            credentials: ::#runtime::ClientCredentials,
            #(#params,)*
            config: &::#runtime::ClientConfig,
        ) -> ::std::result::Result<Self, ::#runtime::BuildError> {
            #use_expose
            let headers: ::std::vec::Vec<(
                ::reqwest::header::HeaderName,
                ::reqwest::header::HeaderValue,
            )> = ::std::vec::Vec::from([#(#headers),*]);
            let (base, http, inner) =
                ::#runtime::connect_oauth2(base_url, headers, credentials, config)?;
            Ok(Self::new_with_client(&base, http, inner))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> &'static Path {
        Path::new("spec.yaml")
    }

    fn doc(schemes: Value, security: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "security": security,
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
            "components": {"securitySchemes": schemes}
        })
    }

    fn err(d: &Value) -> Error {
        plan(d, file()).unwrap_err()
    }

    #[test]
    fn api_key_header_schemes_combine_into_one_constructor() {
        let d = doc(
            json!({
                "authToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                              "description": "A personal access token."},
                "userId": {"type": "apiKey", "in": "header", "name": "X-User-Id"}
            }),
            json!([{"authToken": [], "userId": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        assert!(auth.not_generated.is_empty());
        assert_eq!(auth.constructors.len(), 1);
        let c = &auth.constructors[0];
        assert_eq!(c.name, "with_auth_token_and_user_id");
        assert_eq!(c.pointer, "/security/0");
        assert_eq!(
            c.schemes[0].credential,
            Credential::ApiKeyHeader {
                param: "auth_token".into(),
                header: "X-Auth-Token".into()
            }
        );
        assert_eq!(
            c.schemes[0].description.as_deref(),
            Some("A personal access token.")
        );
        assert_eq!(
            c.schemes[1].credential,
            Credential::ApiKeyHeader {
                param: "user_id".into(),
                header: "X-User-Id".into()
            }
        );
        let code = tokens(&auth).to_string();
        assert!(code.contains("pub fn with_auth_token_and_user_id (base_url : & str , auth_token : :: agentstatus_runtime :: SecretString , user_id : :: agentstatus_runtime :: SecretString , config : & :: agentstatus_runtime :: ClientConfig"), "{code}");
        assert!(
            code.contains("HeaderName :: from_static (\"x-auth-token\")"),
            "{code}"
        );
        assert!(
            code.contains("sensitive_header (auth_token . expose_secret ()"),
            "{code}"
        );
        assert!(code.contains("A personal access token."), "{code}");
    }

    #[test]
    fn alternatives_are_one_constructor_each_basic_and_header() {
        let d = doc(
            json!({
                "basicAuth": {"type": "http", "scheme": "basic", "description": "Key and secret."},
                "tokenAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}
            }),
            json!([{"basicAuth": []}, {"tokenAuth": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        let names: Vec<_> = auth.constructors.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["with_basic_auth", "with_token_auth"]);
        assert_eq!(
            auth.constructors[0].schemes[0].credential,
            Credential::Basic {
                username: "username".into(),
                password: "password".into()
            }
        );
        let code = tokens(&auth).to_string();
        assert!(
            code.contains("username : & str , password : :: agentstatus_runtime :: SecretString"),
            "{code}"
        );
        assert!(
            code.contains("basic_auth (username , password . expose_secret ()"),
            "{code}"
        );
        assert!(
            code.contains("HeaderName :: from_static (\"authorization\")"),
            "{code}"
        );
    }

    #[test]
    fn bearer_takes_a_token_sent_as_authorization_bearer() {
        let d = doc(
            json!({"bearerAuth": {"type": "http", "scheme": "Bearer"}}),
            json!([{"bearerAuth": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        let c = &auth.constructors[0];
        assert_eq!(c.name, "with_bearer_auth");
        assert_eq!(
            c.schemes[0].credential,
            Credential::Bearer {
                param: "token".into()
            }
        );
        let code = tokens(&auth).to_string();
        assert!(
            code.contains("[\"Bearer \" , token . expose_secret ()] . concat ()"),
            "{code}"
        );
        assert!(
            code.contains(":: reqwest :: header :: AUTHORIZATION"),
            "{code}"
        );
    }

    #[test]
    fn operation_security_overrides_the_root_and_requirements_are_deduplicated() {
        let mut d = doc(
            json!({
                "a": {"type": "http", "scheme": "bearer"},
                "b": {"type": "apiKey", "in": "header", "name": "X-B"},
                "c": {"type": "apiKey", "in": "header", "name": "X-C"}
            }),
            json!([{"a": []}]),
        );
        d["paths"]["/a"]["post"] = json!({"security": [{"b": ["scope"]}, {}], "responses": {}});
        d["paths"]["/b"] = json!({"get": {"security": [{"b": []}], "responses": {}},
                                  "put": {"responses": {}}});
        let auth = plan(&d, file()).unwrap();
        let got: Vec<_> = auth
            .constructors
            .iter()
            .map(|c| (c.name.as_str(), c.pointer.as_str()))
            .collect();
        // `c` is defined but required by nothing; `{}` is anonymous access (Client::new)
        assert_eq!(
            got,
            [
                ("with_a", "/security/0"),
                ("with_b", "/paths/~1a/post/security/0")
            ]
        );
    }

    #[test]
    fn api_keys_in_the_query_or_a_cookie_get_no_constructor_and_say_why() {
        for place in ["query", "cookie"] {
            let d = doc(
                json!({
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "access_token": {"type": "apiKey", "in": place, "name": "access_token"}
                }),
                json!([{"bearer": []}, {"access_token": []}]),
            );
            let auth = plan(&d, file()).unwrap();
            assert_eq!(auth.constructors.len(), 1, "{place}");
            assert_eq!(
                auth.not_generated,
                [NotGenerated {
                    requirement: vec!["access_token".into()],
                    scheme: "access_token".into(),
                    pointer: "/components/securitySchemes/access_token".into(),
                    reason: format!(
                        "an API key in the {place} (`access_token`) gets no constructor: {SECRET_IN_URL}"
                    ),
                }]
            );
            let code = tokens(&auth).to_string();
            assert!(
                code.contains("No constructor for the requirement `access_token`"),
                "{code}"
            );
            assert!(code.contains("secrets never appear in URLs"), "{code}");
            assert!(!code.contains("fn with_access_token"), "{code}");
        }
    }

    #[test]
    fn a_requirement_with_one_unsupported_scheme_gets_no_constructor() {
        let d = doc(
            json!({
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                "oauth": {"type": "oauth2", "flows": {}},
                "digest": {"type": "http", "scheme": "digest"}
            }),
            json!([{"key": [], "oauth": []}, {"digest": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        assert!(auth.constructors.is_empty());
        let skipped: Vec<_> = auth
            .not_generated
            .iter()
            .map(|n| n.scheme.as_str())
            .collect();
        assert_eq!(skipped, ["oauth", "digest"]);
    }

    #[test]
    fn oauth2_client_credentials_takes_an_id_and_a_secret_with_the_documents_defaults() {
        let mut d = doc(
            json!({
                "aad": {"type": "oauth2", "flows": {
                    "authorizationCode": {"authorizationUrl": "https://l.example/a",
                                          "tokenUrl": "https://l.example/t", "scopes": {}},
                    "clientCredentials": {"tokenUrl": "https://l.example/{tenant}/token",
                                          "scopes": {"a": "", "b": "", "unused": ""}}}},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"}
            }),
            json!([{"aad": ["a"]}]),
        );
        d["paths"]["/b"] = json!({"get": {"security": [{"aad": ["b", "a"], "key": []}],
                                          "responses": {}}});
        let auth = plan(&d, file()).unwrap();
        assert!(auth.not_generated.is_empty(), "{:?}", auth.not_generated);
        let names: Vec<_> = auth.constructors.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["with_aad", "with_aad_and_key"]);
        assert_eq!(
            auth.constructors[0].schemes[0].credential,
            Credential::OAuth2ClientCredentials {
                client_id: "client_id".into(),
                client_secret: "client_secret".into(),
                token_url: "https://l.example/{tenant}/token".into(),
                // what the operations require, not every scope the flow lists
                scopes: vec!["a".into(), "b".into()],
            }
        );
        let code = tokens(&auth);
        let text = prettyplease::unparse(&syn::parse2(code.clone()).unwrap());
        let flat: String = text.split_whitespace().collect();
        for shows in [
            "pub fn with_aad(base_url: &str, client_id: &str, client_secret: ::agentstatus_runtime::SecretString, config",
            "Self::with_aad_credentials(base_url, Self::aad_credentials(client_id, client_secret), config",
            "pub fn with_aad_and_key(base_url: &str, client_id: &str, client_secret: ::agentstatus_runtime::SecretString, key: ::agentstatus_runtime::SecretString, config",
            "Self::with_aad_and_key_credentials(base_url, Self::aad_credentials(client_id, client_secret), key, config",
            "pub fn with_aad_and_key_credentials(base_url: &str, credentials: ::agentstatus_runtime::ClientCredentials, key: ::agentstatus_runtime::SecretString, config",
            "pub fn aad_credentials(client_id: &str, client_secret: ::agentstatus_runtime::SecretString,) -> ::agentstatus_runtime::ClientCredentials",
            "connect_oauth2(base_url, headers, credentials, config",
        ] {
            let shows: String = shows.split_whitespace().collect();
            assert!(flat.contains(&shows), "no `{shows}` in\n{text}");
        }
        // one credentials function for the scheme, however many requirements use it
        assert_eq!(text.matches("pub fn aad_credentials(").count(), 1, "{text}");

        // requirements naming no scope: the flow's declared scopes (Graph's `.default`)
        let d = doc(
            json!({"aad": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "https://l.example/t",
                "scopes": {"https://graph.example.com/.default": "all granted"}}}}}),
            json!([{"aad": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        let Credential::OAuth2ClientCredentials { scopes, .. } =
            &auth.constructors[0].schemes[0].credential
        else {
            panic!("{auth:?}")
        };
        assert_eq!(scopes, &["https://graph.example.com/.default"]);
    }

    #[test]
    fn oauth2_without_client_credentials_says_why_and_bad_flows_are_errors() {
        for (flows, says) in [
            (json!({}), "declares no flow"),
            (
                json!({"password": {"tokenUrl": "https://x/t", "scopes": {}}}),
                "flow `password` needs a user",
            ),
        ] {
            let d = doc(
                json!({"o": {"type": "oauth2", "flows": flows}}),
                json!([{"o": []}]),
            );
            let auth = plan(&d, file()).unwrap();
            assert!(auth.constructors.is_empty());
            assert!(auth.not_generated[0].reason.contains(says), "{auth:?}");
        }
        for (def, at) in [
            (
                json!({"type": "oauth2"}),
                "/components/securitySchemes/o/flows",
            ),
            (
                json!({"type": "oauth2", "flows": {"clientCredentials": {"scopes": {}}}}),
                "/components/securitySchemes/o/flows/clientCredentials/tokenUrl",
            ),
            (
                json!({"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": " ", "scopes": {}}}}),
                "/components/securitySchemes/o/flows/clientCredentials/tokenUrl",
            ),
        ] {
            let d = doc(json!({"o": def}), json!([{"o": []}]));
            assert_eq!(err(&d).pointer(), Some(at));
        }
        // an oauth2 and a bearer scheme of one requirement both send Authorization
        let d = doc(
            json!({"o": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://x/t"}}},
                   "b": {"type": "http", "scheme": "bearer"}}),
            json!([{"o": [], "b": []}]),
        );
        assert!(
            err(&d)
                .message
                .contains("both send the `authorization` header")
        );
    }

    #[test]
    fn no_security_generates_nothing() {
        let mut d = doc(json!({}), json!([]));
        d.as_object_mut().unwrap().remove("security");
        let auth = plan(&d, file()).unwrap();
        assert_eq!(auth, Auth::default());
        assert!(tokens(&auth).is_empty());
    }

    #[test]
    fn parameter_names_are_deduplicated() {
        let d = doc(
            json!({
                "token": {"type": "apiKey", "in": "header", "name": "X-Token"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "config": {"type": "apiKey", "in": "header", "name": "X-Config"}
            }),
            json!([{"token": [], "bearer": [], "config": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        let c = &auth.constructors[0];
        assert_eq!(c.name, "with_token_and_bearer_and_config");
        let params: Vec<_> = c
            .schemes
            .iter()
            .map(|s| match &s.credential {
                Credential::ApiKeyHeader { param, .. } | Credential::Bearer { param } => {
                    param.as_str()
                }
                Credential::Basic { .. } | Credential::OAuth2ClientCredentials { .. } => {
                    unreachable!()
                }
            })
            .collect();
        assert_eq!(params, ["token", "bearer_token", "config_config"]);
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("authToken").as_deref(), Some("auth_token"));
        assert_eq!(snake_case("X-Api-Key").as_deref(), Some("x_api_key"));
        assert_eq!(snake_case("APIKey").as_deref(), Some("api_key"));
        assert_eq!(snake_case("basic_auth").as_deref(), Some("basic_auth"));
        assert_eq!(snake_case("oauth2Token").as_deref(), Some("oauth2_token"));
        // a document's word stays one code span, whatever backticks or brackets it holds
        assert_eq!(code("https://x/.default"), "`https://x/.default`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`[x](y)`"), "`` `[x](y)` ``");
        assert_eq!(code("a\nb"), "`a b`");
        for bad in ["", "2fa", "type", "self", "tök€n", "a/b", "-", "_"] {
            assert_eq!(snake_case(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_unknown_scheme_type_is_an_error_at_its_type() {
        let d = doc(
            json!({"magic": {"type": "magicLink"}}),
            json!([{"magic": []}]),
        );
        let e = err(&d);
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.pointer(), Some("/components/securitySchemes/magic/type"));
        assert!(
            e.message
                .contains("unknown security scheme type `magicLink`"),
            "{e}"
        );
    }

    #[test]
    fn a_requirement_naming_an_undefined_scheme_gets_no_constructor_said_at_the_requirement() {
        // Zulip's published document: `security: [basicAuth]` beside the scheme `BasicAuth`
        let d = doc(
            json!({"BasicAuth": {"type": "http", "scheme": "basic"}}),
            json!([{"basicAuth": []}, {"BasicAuth": []}]),
        );
        let auth = plan(&d, file()).unwrap();
        assert_eq!(auth.not_generated.len(), 1, "{auth:?}");
        let s = &auth.not_generated[0];
        assert_eq!(s.pointer, "/security/0/basicAuth");
        assert!(s.reason.contains("defines no `basicAuth`"), "{}", s.reason);
        assert!(s.reason.contains("it defines `BasicAuth`"), "{}", s.reason);
        // the defined one still gets its constructor
        assert_eq!(auth.constructors.len(), 1);
        assert_eq!(auth.constructors[0].name, "with_basic_auth");
        let mut d = doc(json!({}), json!([]));
        d["paths"]["/a"]["get"]["security"] = json!([{"a/b": []}]);
        let auth = plan(&d, file()).unwrap();
        assert_eq!(
            auth.not_generated[0].pointer,
            "/paths/~1a/get/security/0/a~1b"
        );
        assert!(auth.not_generated[0].reason.ends_with("defines no `a/b`"));
    }

    #[test]
    fn a_name_that_cannot_be_an_identifier_is_an_error_at_the_scheme() {
        for name in ["2fa", "type", "k€y"] {
            let d = doc(
                json!({name: {"type": "apiKey", "in": "header", "name": "X-Key"}}),
                json!([{name: []}]),
            );
            let e = err(&d);
            assert_eq!(
                e.pointer(),
                Some(format!("/components/securitySchemes/{name}").as_str())
            );
            assert!(e.message.contains("cannot become a Rust identifier"), "{e}");
        }
        let d = doc(
            json!({
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-A"},
                "api_key": {"type": "apiKey", "in": "header", "name": "X-B"}
            }),
            json!([{"apiKey": []}, {"api_key": []}]),
        );
        let e = err(&d);
        assert_eq!(e.pointer(), Some("/components/securitySchemes/api_key"));
        assert!(e.message.contains("same Rust name `api_key`"), "{e}");
    }

    #[test]
    fn malformed_schemes_are_errors_at_the_field() {
        let cases = [
            (
                json!({"type": "apiKey", "in": "header"}),
                "/name",
                "no string `name`",
            ),
            (
                json!({"type": "apiKey", "in": "body", "name": "k"}),
                "/in",
                "unknown API key location",
            ),
            (
                json!({"type": "apiKey", "in": "header", "name": "X Key"}),
                "/name",
                "not a valid HTTP header name",
            ),
            (json!({"type": "http"}), "/scheme", "no string `scheme`"),
            (json!({"scheme": "basic"}), "/type", "no string `type`"),
        ];
        for (def, field, message) in cases {
            let d = doc(json!({"s": def}), json!([{"s": []}]));
            let e = err(&d);
            assert_eq!(
                e.pointer(),
                Some(format!("/components/securitySchemes/s{field}").as_str()),
                "{e}"
            );
            assert!(e.message.contains(message), "{e}");
        }
        let d = doc(json!({}), json!({"s": []}));
        assert_eq!(err(&d).pointer(), Some("/security"));
        let d = doc(json!({}), json!(["s"]));
        assert_eq!(err(&d).pointer(), Some("/security/0"));
    }

    #[test]
    fn two_schemes_of_one_requirement_in_the_same_header_are_an_error() {
        let d = doc(
            json!({
                "basic": {"type": "http", "scheme": "basic"},
                "token": {"type": "apiKey", "in": "header", "name": "authorization"}
            }),
            json!([{"basic": [], "token": []}]),
        );
        let e = err(&d);
        assert_eq!(e.pointer(), Some("/security/0"));
        assert!(
            e.message.contains("both send the `authorization` header"),
            "{e}"
        );
    }

    #[test]
    fn a_scheme_ref_is_followed_and_a_broken_one_is_an_error() {
        let mut d = doc(
            json!({
                "a": {"$ref": "#/components/securitySchemes/b"},
                "b": {"type": "http", "scheme": "bearer"}
            }),
            json!([{"a": []}]),
        );
        assert_eq!(plan(&d, file()).unwrap().constructors[0].name, "with_a");
        d["components"]["securitySchemes"]["a"]["$ref"] = json!("#/components/securitySchemes/zz");
        let e = err(&d);
        assert_eq!(e.kind, ErrorKind::BrokenRef);
        assert_eq!(e.pointer(), Some("/components/securitySchemes/a/$ref"));
    }

    #[test]
    fn the_generated_code_parses() {
        let d = doc(
            json!({
                "basicAuth": {"type": "http", "scheme": "basic", "description": "line 1\nline 2"},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                "q": {"type": "apiKey", "in": "query", "name": "key"}
            }),
            json!([{"basicAuth": [], "key": []}, {"q": []}]),
        );
        let code = tokens(&plan(&d, file()).unwrap());
        let file: syn::File = syn::parse2(code).unwrap();
        let text = prettyplease::unparse(&file);
        assert!(text.contains("pub fn with_basic_auth_and_key("), "{text}");
        assert!(text.contains("    ///   line 2"), "{text}");
    }
}
