//! The generated-code passes: token rewrites of what progenitor generates for every document,
//! caused by no document pass and changing no document
//! ([`Stage::Generated`](super::Stage::Generated)): requests whose
//! HTTP method reqwest has no method for, progenitor's calls that go through the runtime, and
//! the authenticated constructors of the document's security schemes.

use std::path::Path;

use proc_macro2::TokenStream;
use serde_json::Value;

use super::Pass;
use crate::error::Result;

/// The `methods-by-name` pass ([`methods_by_name`]).
pub(crate) const METHODS_BY_NAME: Pass = Pass::generated(
    "methods-by-name",
    "A request whose HTTP method reqwest has no method for (OPTIONS, TRACE: Box's `OPTIONS /events`) is built with `client.request(reqwest::Method::OPTIONS, url)`.",
    |doc, _, tokens| {
        let named = crate::nav::operations(doc)
            .iter()
            .any(|(_, m, _)| matches!(*m, "options" | "trace"));
        Ok(if named {
            methods_by_name(tokens)
        } else {
            tokens
        })
    },
);

/// The `runtime-calls` pass ([`runtime_calls`]).
pub(crate) const RUNTIME_CALLS: Pass = Pass::generated(
    "runtime-calls",
    "Every path parameter becomes exactly one URL segment: progenitor's `encode_path(x)` (which leaves `\\`, `.` and `..`) becomes `agentstatus_runtime::path_segment(x)?`, refused before anything is sent; and `Client::new` builds its HTTP client with `agentstatus_runtime::generated_http_client` (the TLS of the crate's feature, no redirects) instead of `build().unwrap()`.",
    |_, _, tokens| Ok(runtime_calls(tokens)),
);

/// The `open-enum-turbofish` pass ([`open_enum_turbofish`]).
pub(crate) const OPEN_ENUM_TURBOFISH: Pass = Pass::generated(
    "open-enum-turbofish",
    "typify names a generic `x-rust-type` without its parameter in a turbofish, the default of a union one of whose members is an open enum (OpenAI's `learning_rate_multiplier: oneOf [auto, number], default: auto`): `serde_json::from_str::<::agentstatus_runtime::OpenEnum>` (E0107) becomes `...::OpenEnum<_>>`, the parameter inferred from the variant it fills.",
    |doc, _, tokens| {
        // only a document with open enums has them: the walk is skipped for the others
        let has_open_enums = doc
            .pointer("/components/schemas")
            .is_some_and(|s| s.to_string().contains(super::open_enums::PATH));
        Ok(if has_open_enums {
            open_enum_turbofish(tokens)
        } else {
            tokens
        })
    },
);

/// `::agentstatus_runtime::OpenEnum` directly before a `>` (the end of a turbofish or of a
/// generic argument list: a type without its parameter) gets `<_>`.
fn open_enum_turbofish(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let runtime = super::RUNTIME_CRATE.replace('-', "_");
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    for i in 0..trees.len() {
        // the tokens before this one are already moved to `out`
        let n = out.len();
        let bare = matches!(&trees[i], TokenTree::Ident(id) if id == "OpenEnum")
            && n >= 3
            && matches!(&out[n - 3], TokenTree::Ident(id) if *id == runtime)
            && matches!((&out[n - 2], &out[n - 1]),
                (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':')
            && matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '>');
        match take(&mut trees[i]) {
            TokenTree::Group(g) => {
                let (delimiter, span) = (g.delimiter(), g.span());
                let mut inner = Group::new(
                    delimiter,
                    open_enum_turbofish(group_stream(TokenTree::Group(g))),
                );
                inner.set_span(span);
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
        if bare {
            out.extend(quote::quote! { <_> });
        }
    }
    out.into_iter().collect()
}

/// The `path-fragments` pass ([`path_fragments`]).
pub(crate) const PATH_FRAGMENTS: Pass = Pass::generated(
    "path-fragments",
    "A path key with a fragment (Mistral's `/v1/chat/completions#stream`: a second operation on one path, told apart by its `#`) keeps its operation, with a method of its own (its operationId, or one derived from the whole key); its request URL and its docs are written without the fragment, which an HTTP client never sends (the request is the same). A query in a path key is kept: it is sent.",
    path_fragments,
);

/// For each operation whose path key has a fragment: in its `send()`, the URL's format string
/// loses the fragment; in every doc string, the key in backticks (progenitor's "Sends a `POST`
/// request to `/v1/chat/completions#stream`") becomes the path without it. A fragment holding a
/// `{parameter}` is left as it is (its format arguments would no longer match).
fn path_fragments(doc: &Value, _: &Path, tokens: TokenStream) -> Result<TokenStream> {
    let mut marks: std::collections::BTreeMap<String, Value> = Default::default();
    let mut keys: Vec<(String, String)> = Vec::new();
    for (path, _, op) in crate::nav::operations(doc) {
        let Some((clean, fragment)) = path.split_once('#') else {
            continue;
        };
        if fragment.contains('{') {
            continue;
        }
        if let Some(id) = op.get("operationId").and_then(Value::as_str) {
            marks.insert(
                super::bodies::id_key(id),
                Value::String(format!("#{fragment}")),
            );
        }
        if !keys.iter().any(|(k, _)| k == path) {
            keys.push((path.to_string(), clean.to_string()));
        }
    }
    if keys.is_empty() {
        return Ok(tokens);
    }
    let tokens = super::forms::in_marked_sends(tokens, &marks, &|body, mark| {
        let fragment = mark.as_str().unwrap_or_default();
        edit_literals(body, &|text| {
            text.strip_suffix(fragment)
                .filter(|_| !fragment.is_empty())
                .map(str::to_string)
        })
    });
    Ok(edit_literals(tokens, &|text| {
        let mut out = text.to_string();
        for (key, clean) in &keys {
            out = out.replace(&format!("`{key}`"), &format!("`{clean}`"));
        }
        (out != text).then_some(out)
    }))
}

/// Every string literal of `tokens` that `edit` changes, written anew.
fn edit_literals(tokens: TokenStream, edit: &dyn Fn(&str) -> Option<String>) -> TokenStream {
    use proc_macro2::{Group, Literal, TokenTree};
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), edit_literals(g.stream(), edit));
                inner.set_span(g.span());
                TokenTree::Group(inner)
            }
            TokenTree::Literal(l) => match super::forms::literal_text(&l).and_then(|s| edit(&s)) {
                Some(text) => {
                    let mut new = Literal::string(&text);
                    new.set_span(l.span());
                    TokenTree::Literal(new)
                }
                None => TokenTree::Literal(l),
            },
            other => other,
        })
        .collect()
}

/// The `unused-types-import` pass ([`unused_types_import`]).
pub(crate) const UNUSED_TYPES_IMPORT: Pass = Pass::generated(
    "unused-types-import",
    "progenitor opens its `builder` module with `use super::types;` whatever the builders use (its other imports there are `#[allow(unused_imports)]`, this one is not): in a client whose builders name no generated type (operations without parameters, bodies or typed answers) the import is removed, so the crate compiles without an `unused import` warning.",
    |_, _, tokens| Ok(unused_types_import(tokens)),
);

/// In the top-level `mod builder { .. }`: `use super :: types ;` removed when nothing else in
/// the module names `types`. Everything else is as it was.
fn unused_types_import(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    let at = trees.windows(3).position(|w| {
        matches!(&w[0], TokenTree::Ident(m) if m == "mod")
            && matches!(&w[1], TokenTree::Ident(b) if b == "builder")
            && matches!(&w[2], TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace)
    });
    let Some(at) = at.map(|i| i + 2) else {
        return trees.into_iter().collect();
    };
    let TokenTree::Group(module) = &trees[at] else {
        return trees.into_iter().collect();
    };
    let body: Vec<TokenTree> = module.stream().into_iter().collect();
    let is_import = |w: &[TokenTree]| {
        matches!(&w[0], TokenTree::Ident(u) if u == "use")
            && matches!(&w[1], TokenTree::Ident(s) if s == "super")
            && matches!(&w[2], TokenTree::Punct(c) if c.as_char() == ':')
            && matches!(&w[3], TokenTree::Punct(c) if c.as_char() == ':')
            && matches!(&w[4], TokenTree::Ident(t) if t == "types")
            && matches!(&w[5], TokenTree::Punct(p) if p.as_char() == ';')
    };
    let Some(import) = body.windows(6).position(is_import) else {
        return trees.into_iter().collect();
    };
    fn names_types(tokens: &[TokenTree]) -> bool {
        tokens.iter().any(|t| match t {
            TokenTree::Ident(i) => i == "types",
            TokenTree::Group(g) => names_types(&g.stream().into_iter().collect::<Vec<_>>()),
            _ => false,
        })
    }
    if names_types(&body[..import]) || names_types(&body[import + 6..]) {
        return trees.into_iter().collect();
    }
    let kept: TokenStream = body[..import]
        .iter()
        .chain(&body[import + 6..])
        .cloned()
        .collect();
    let mut group = Group::new(module.delimiter(), kept);
    group.set_span(module.span());
    trees[at] = TokenTree::Group(group);
    trees.into_iter().collect()
}

/// The `authenticated-constructors` pass ([`crate::auth`]).
pub(crate) const AUTHENTICATED_CONSTRUCTORS: Pass = Pass::generated(
    "authenticated-constructors",
    "One constructor per security requirement of the document (`Client::with_<scheme>`: an API key in a header, HTTP Basic, Bearer, OAuth 2.0 client credentials, several schemes together), each credential in a sensitive header (an OAuth 2.0 token fetched, cached and refreshed by the runtime); an API key in a query or cookie and the OAuth 2.0 flows that need a user get none, said in the generated docs.",
    authenticated_constructors,
);

/// The constructors [`crate::auth::plan`] reads from `doc`'s security, after `tokens`.
fn authenticated_constructors(
    doc: &Value,
    file: &Path,
    mut tokens: TokenStream,
) -> Result<TokenStream> {
    let auth = crate::auth::plan(doc, file)?;
    tokens.extend(crate::auth::tokens(&auth));
    Ok(tokens)
}

/// Replace every call of progenitor's `encode_path(x)` by
/// `agentstatus_runtime::path_segment(x)?`: progenitor leaves `\\` (which URL parsers read as
/// `/`) and the dot-segments `.` and `..` as they are, so an id could address another path on
/// the server. `path_segment` makes every path parameter exactly one segment, or fails the call
/// with `Error::InvalidRequest` before anything is sent.
///
/// Also replace progenitor's `client.build().unwrap()` in `Client::new` by
/// `agentstatus_runtime::generated_http_client(client)`: the TLS provider of the crate's TLS
/// feature, no redirects followed, no `Referer`, as every other constructor.
fn runtime_calls(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    // the two paths are made once: made in every group, they cost a fifth of a small
    // document's generation (BENCHMARKS.md, "Codegen at scale")
    let segment = crate::generate::runtime_item("path_segment");
    let http_client = crate::generate::runtime_item("generated_http_client");
    runtime_calls_in(tokens, &segment, &http_client)
}

fn runtime_calls_in(
    tokens: proc_macro2::TokenStream,
    segment: &proc_macro2::TokenStream,
    http_client: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let runtime_calls = |t| runtime_calls_in(t, segment, http_client);
    // each token is moved, never cloned: a group taken out of `trees` is its stream's only
    // owner, so walking it moves its tokens too (a clone of every identifier and literal
    // was most of this pass's cost)
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        // progenitor's `Client::new`: `client.build().unwrap()` on a plain reqwest builder
        if let Some(builder) = unwrapped_build(&trees[i..]) {
            out.extend(http_client.clone());
            out.push(TokenTree::Group(Group::new(
                Delimiter::Parenthesis,
                TokenTree::Ident(builder).into(),
            )));
            i += 7;
            continue;
        }
        let call = matches!(&trees[i], TokenTree::Ident(ident) if ident == "encode_path")
            && matches!(trees.get(i + 1),
                Some(TokenTree::Group(args)) if args.delimiter() == Delimiter::Parenthesis);
        if call {
            let args = take(&mut trees[i + 1]);
            out.extend(segment.clone());
            out.push(TokenTree::Group(Group::new(
                Delimiter::Parenthesis,
                runtime_calls(group_stream(args)),
            )));
            out.extend(quote::quote! { ? });
            i += 2;
            continue;
        }
        match take(&mut trees[i]) {
            TokenTree::Group(g) => {
                let (delimiter, span) = (g.delimiter(), g.span());
                let mut inner =
                    Group::new(delimiter, runtime_calls(group_stream(TokenTree::Group(g))));
                inner.set_span(span);
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Take the token at `slot`, leaving a cheap placeholder (a `,`, never read again).
fn take(slot: &mut proc_macro2::TokenTree) -> proc_macro2::TokenTree {
    let comma = proc_macro2::Punct::new(',', proc_macro2::Spacing::Alone);
    std::mem::replace(slot, proc_macro2::TokenTree::Punct(comma))
}

/// The stream of a group (of `tree`, which must be one) as its only owner: the group is
/// dropped first, so walking the stream moves its tokens instead of cloning them.
fn group_stream(tree: proc_macro2::TokenTree) -> proc_macro2::TokenStream {
    match tree {
        proc_macro2::TokenTree::Group(g) => g.stream(),
        other => other.into(),
    }
}

/// `x . build () . unwrap ()` at the start of `trees`: the `x`.
fn unwrapped_build(trees: &[proc_macro2::TokenTree]) -> Option<proc_macro2::Ident> {
    use proc_macro2::{Delimiter, TokenTree};
    let [
        TokenTree::Ident(builder),
        TokenTree::Punct(dot1),
        TokenTree::Ident(build),
        TokenTree::Group(args1),
        TokenTree::Punct(dot2),
        TokenTree::Ident(unwrap),
        TokenTree::Group(args2),
        ..,
    ] = trees
    else {
        return None;
    };
    let empty =
        |g: &proc_macro2::Group| g.delimiter() == Delimiter::Parenthesis && g.stream().is_empty();
    (dot1.as_char() == '.'
        && dot2.as_char() == '.'
        && build == "build"
        && unwrap == "unwrap"
        && empty(args1)
        && empty(args2))
    .then(|| builder.clone())
}

/// progenitor builds a request with the `reqwest::Client` method named like the HTTP method;
/// reqwest has none for OPTIONS and TRACE (Box's `OPTIONS /events`), so those become
/// `client.request(reqwest::Method::OPTIONS, url)`.
fn methods_by_name(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let (
            TokenTree::Ident(client),
            Some(TokenTree::Punct(dot)),
            Some(TokenTree::Ident(method)),
            Some(TokenTree::Group(args)),
        ) = (
            &trees[i],
            trees.get(i + 1),
            trees.get(i + 2),
            trees.get(i + 3),
        ) && client == "client"
            && dot.as_char() == '.'
            && (method == "options" || method == "trace")
            && args.delimiter() == Delimiter::Parenthesis
        {
            let name = proc_macro2::Ident::new(&method.to_string().to_uppercase(), method.span());
            let inner = args.stream();
            out.push(trees[i].clone());
            out.push(trees[i + 1].clone());
            out.extend(quote::quote! { request });
            out.push(TokenTree::Group(Group::new(
                Delimiter::Parenthesis,
                quote::quote! { ::reqwest::Method::#name, #inner },
            )));
            i += 4;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), methods_by_name(g.stream()));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod path_segment_tests {
    #[test]
    fn every_encode_path_call_becomes_a_checked_path_segment() {
        let tokens = quote::quote! {
            use progenitor_client::{encode_path, ClientHooks};
            fn send() {
                let url = format!("{}/a/{}/{}", base, encode_path(&x.to_string()), encode_path(&y));
            }
        };
        let out = super::runtime_calls(tokens).to_string();
        assert_eq!(out.matches("path_segment").count(), 2, "{out}");
        assert!(
            out.contains(":: agentstatus_runtime :: path_segment (& x . to_string ()) ?"),
            "{out}"
        );
        assert!(
            out.contains("use progenitor_client :: { encode_path , ClientHooks }"),
            "{out}"
        );
    }

    #[test]
    fn the_generated_new_builds_its_http_client_through_the_runtime() {
        let tokens = quote::quote! {
            pub fn new(baseurl: &str) -> Self {
                let client = reqwest::ClientBuilder::new();
                Self::new_with_client(baseurl, client.build().unwrap())
            }
            fn other() { let x = y.build()?; z.build().expect("no"); }
        };
        let out = super::runtime_calls(tokens).to_string();
        assert!(
            out.contains("Self :: new_with_client (baseurl , :: agentstatus_runtime :: generated_http_client (client))"),
            "{out}"
        );
        assert!(!out.contains("unwrap"), "{out}");
        assert!(
            out.contains("y . build () ?") && out.contains("z . build () . expect"),
            "{out}"
        );
    }
}

#[cfg(test)]
mod method_tests {
    #[test]
    fn options_and_trace_requests_name_their_method() {
        let tokens = quote::quote! {
            let request = self.client.options(url).build()?;
            let other = client.client.get(url).build()?;
            let traced = client.client.trace(url).build()?;
        };
        let out = super::methods_by_name(tokens).to_string();
        assert!(
            out.contains("self . client . request (:: reqwest :: Method :: OPTIONS , url)"),
            "{out}"
        );
        assert!(
            out.contains("client . client . request (:: reqwest :: Method :: TRACE , url)"),
            "{out}"
        );
        assert!(out.contains("client . client . get (url)"), "{out}");
    }

    #[test]
    fn the_types_import_goes_only_when_no_builder_names_a_type() {
        let unused = quote::quote! {
            pub mod types { pub struct A; }
            pub mod builder {
                use super::types;
                #[allow(unused_imports)]
                use super::{encode_path, Error};
                pub struct Ping<'a> { client: &'a super::Client }
            }
        };
        let out = super::unused_types_import(unused).to_string();
        assert!(!out.contains("use super :: types ;"), "{out}");
        assert!(
            out.contains("use super :: { encode_path , Error } ;"),
            "{out}"
        );
        assert!(out.contains("pub struct Ping"), "{out}");
        let used = quote::quote! {
            pub mod builder {
                use super::types;
                pub struct Get<'a> { body: Result<types::A, String>, client: &'a super::Client }
            }
        };
        let out = super::unused_types_import(used).to_string();
        assert!(out.contains("use super :: types ;"), "{out}");
    }
}
