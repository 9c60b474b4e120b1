//! The generated methods by the document's tags: a client of hundreds of operations is one
//! `impl Client` (progenitor's merged tag style), so a doc-only module, `tags`, lists each tag's
//! methods with their summaries, in the order of the document's `tags` list (then of first use).

use proc_macro2::TokenStream;
use serde_json::Value;

use crate::nav;

/// The method progenitor names an operation with id `id` (already a Rust identifier, see the
/// `operation-ids` pass): its `sanitize` in snake case.
fn method_name(id: &str) -> String {
    use heck::ToSnakeCase;
    let name = id.to_snake_case();
    let keyword = syn::parse_str::<syn::Ident>(&name).is_err();
    if keyword { format!("{name}_") } else { name }
}

/// One line of prose from the vendor's text (the doc-comment rewrite makes it inert), escaped
/// again once on one line (a reference definition it had on a line of its own is none now, so
/// its reference would be read as a link to an item: [`crate::prose::escape_vendor`]).
fn line(text: &str) -> String {
    crate::prose::escape_vendor(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `pub mod tags {}` with the index as its documentation, or nothing when no operation of `doc`
/// has a tag. rustdoc resolves the links of a module's outer documentation in the module that
/// holds it, where `Client` is (a vendor crate's `generated` module, or a `try` crate's root),
/// so they name `Client` as it is seen there.
pub(crate) fn index(doc: &Value) -> TokenStream {
    // tag -> its methods, in the document's order of tags, then of first use
    let mut tags: Vec<(String, Vec<String>)> = doc
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(|n| (n.to_string(), Vec::new()))
        .collect();
    let mut untagged = Vec::new();
    for (_, _, op) in nav::operations(doc) {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        let method = method_name(id);
        let summary = op
            .get("summary")
            .and_then(Value::as_str)
            .map(line)
            .filter(|s| !s.is_empty());
        let entry = match summary {
            Some(s) => format!("- [`{method}`](Client::{method}): {s}"),
            None => format!("- [`{method}`](Client::{method})"),
        };
        let names: Vec<&str> = op
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if names.is_empty() {
            untagged.push(entry.clone());
        }
        for name in names {
            match tags.iter_mut().find(|(t, _)| t == name) {
                Some((_, methods)) => methods.push(entry.clone()),
                None => tags.push((name.to_string(), vec![entry.clone()])),
            }
        }
    }
    tags.retain(|(_, methods)| !methods.is_empty());
    if tags.is_empty() {
        return TokenStream::new();
    }
    let described = |name: &str| {
        doc.get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|t| t.get("description").and_then(Value::as_str))
            .map(line)
            .filter(|d| !d.is_empty())
    };
    let mut text = vec!["The methods of [`Client`] by the document's tags.".to_string()];
    for (name, methods) in &tags {
        text.push(String::new());
        text.push(format!("## {}", line(name)));
        if let Some(d) = described(name) {
            text.push(String::new());
            text.push(d);
        }
        text.push(String::new());
        text.extend(methods.iter().cloned());
    }
    if !untagged.is_empty() {
        text.push(String::new());
        text.push("## Without a tag".to_string());
        text.push(String::new());
        text.extend(untagged);
    }
    let docs = text.iter().map(|l| format!(" {l}"));
    quote::quote! {
        #(#[doc = #docs])*
        pub mod tags {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_tag_s_words_are_never_a_link_to_an_item() {
        let doc = json!({
            "tags": [{"name": "[`Foo`]", "description": "See [x][r].\n\n[r]: https://x.example/r"}],
            "paths": {"/a": {"get": {"operationId": "a", "tags": ["[`Foo`]"], "summary": "[`Bar`]"}}}
        });
        let text = super::index(&doc).to_string();
        assert!(text.contains("## \\\\[`Foo`\\\\]"), "{text}");
        assert!(text.contains("See \\\\[x\\\\]\\\\[r\\\\]."), "{text}");
        assert!(text.contains("(Client::a): \\\\[`Bar`\\\\]"), "{text}");
    }

    #[test]
    fn methods_are_listed_under_their_tags_in_the_document_s_order() {
        let doc = json!({
            "tags": [{"name": "teams", "description": "Teams\nand members."}, {"name": "agents"}],
            "paths": {
                "/a": {"get": {"operationId": "getAgent", "tags": ["agents"], "summary": "One agent"}},
                "/b": {"put": {"operationId": "type", "tags": ["agents", "teams"]}},
                "/c": {"get": {"operationId": "ping"}}
            }
        });
        let docs: Vec<String> = super::index(&doc)
            .to_string()
            .split("# [doc = \" ")
            .skip(1)
            .map(|l| l.split("\"]").next().unwrap().to_string())
            .collect();
        assert_eq!(
            docs,
            [
                "The methods of [`Client`] by the document's tags.",
                "",
                "## teams",
                "",
                "Teams and members.",
                "",
                "- [`type_`](Client::type_)",
                "",
                "## agents",
                "",
                "- [`get_agent`](Client::get_agent): One agent",
                "- [`type_`](Client::type_)",
                "",
                "## Without a tag",
                "",
                "- [`ping`](Client::ping)",
            ]
        );
        assert!(
            super::index(&json!({"paths": {"/c": {"get": {"operationId": "ping"}}}})).is_empty()
        );
    }
}
