//! Vendor prose in generated code is text, never code.
//!
//! Descriptions, summaries and titles of a vendor document become doc comments, and rustdoc
//! compiles and runs the Rust code blocks of doc comments as doctests: a fence without a
//! language, ```` ```rust ````, ```` ```should_panic ````, ```` ```ignore ```` (run by
//! `--include-ignored`), `~~~` fences, four-space indented blocks, and any of them inside a
//! `> ` quote or a list item. [`doc_comments`] is the last rewrite of the generated tokens:
//! every item's doc comment is read the way rustdoc reads it (its doc attributes joined, the
//! common indentation removed, parsed with rustdoc's Markdown parser and options), and every code
//! block in it is made a block rustdoc never compiles (a fence whose language is plain text or a
//! known non-Rust language). The result is checked by parsing it again; a doc comment that
//! still holds a code block rustdoc could compile is written as one plain-text block instead.
//! Control and bidirectional-formatting characters are written as visible `\u{...}` escapes
//! (rustc rejects bidi characters in comments and doc comments: `text_direction_codepoint_*`),
//! bare URLs become links and brackets that are no links are escaped ([`render`]),
//! and the doc comment is emitted one `///` line per line, never as a `/** */` block (whose
//! leading `*`s rustdoc strips, which can turn text into an indented code block).

use proc_macro2::{Delimiter, Group, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

/// Code-block languages rustdoc never compiles and that render usefully. Any other info
/// string (`rust`, `ignore`, `should_panic`, `edition2021`, `{.rust}`, an empty one, two
/// words ...) becomes `text`.
pub const SAFE_LANGUAGES: &[&str] = &[
    "text",
    "json",
    "yaml",
    "yml",
    "xml",
    "html",
    "http",
    "sh",
    "bash",
    "shell",
    "console",
    "js",
    "javascript",
    "python",
    "curl",
    "csv",
    "toml",
];

/// The Markdown extensions rustdoc enables (`main_body_opts`), so blocks are found where
/// rustdoc finds them.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Is `c` written as a visible escape in generated comments and doc comments: a control
/// character other than newline and tab, a line or paragraph separator, or a bidirectional
/// formatting character.
pub fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// The doc comment `doc` (as rustdoc reads it) as it is written into the generated code: made
/// [`inert`], its bare URLs made links and its brackets that are no links escaped, so it renders
/// as the vendor wrote it without a rustdoc warning.
pub fn render(doc: &str) -> String {
    let text = inert(doc);
    let linked = escape_brackets(&autolink(&text));
    // neither adds a line or an indentation, so no code block: checked all the same
    if is_inert(&linked) { linked } else { text }
}

/// `text` with every [`is_hidden`] character written as `\u{...}`.
pub fn visible(text: &str) -> String {
    if !text.chars().any(is_hidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` as one line of a plain comment (`// ...`): visible, no line breaks.
pub fn comment_line(text: &str) -> String {
    visible(&text.replace(['\n', '\r'], " "))
}

/// Is every code block of the Markdown `doc` a fence in a [`SAFE_LANGUAGES`] language?
pub fn is_inert(doc: &str) -> bool {
    Parser::new_ext(doc, options()).all(|event| match event {
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
            SAFE_LANGUAGES.contains(&info.as_ref())
        }
        Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => false,
        _ => true,
    })
}

/// The doc comment `doc` (as rustdoc reads it) with every code block made inert: a fence keeps
/// its place and content and gets a safe language; an indented block at the top level becomes
/// a `text` fence; anything else, or a result that still does not pass [`is_inert`], makes
/// the whole comment one `text` block.
pub fn inert(doc: &str) -> String {
    let doc = visible(doc);
    if is_inert(&doc) {
        return doc;
    }
    let rewritten = rewrite_blocks(&doc);
    if let Some(text) = rewritten.filter(|t| is_inert(t)) {
        return text;
    }
    let text = plain_block(&doc);
    debug_assert!(is_inert(&text));
    text
}

/// The whole of `doc` as one fenced `text` block, its fence longer than any run of backticks
/// in it (so no line of it can close the fence).
fn plain_block(doc: &str) -> String {
    let longest = doc.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{doc}\n{fence}")
}

/// Rewrite the code blocks of `doc` in place (see [`inert`]); `None` where one cannot be
/// rewritten in place.
fn rewrite_blocks(doc: &str) -> Option<String> {
    // (byte range of the opening line's info string to replace, replacement) or an indented
    // block's (first line start, end)
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (event, range) in Parser::new_ext(doc, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                if SAFE_LANGUAGES.contains(&info.as_ref()) {
                    continue;
                }
                // the opening fence: its characters, then the info string to the end of line
                let open = &doc[range.start..];
                let fence_char = open.chars().next()?;
                if fence_char != '`' && fence_char != '~' {
                    return None;
                }
                let fence_len = open.chars().take_while(|&c| c == fence_char).count();
                let info_start = range.start + fence_len;
                let info_end = doc[info_start..]
                    .find('\n')
                    .map_or(doc.len(), |n| info_start + n);
                edits.push((info_start..info_end, "text".into()));
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => {
                let line_start = doc[..range.start].rfind('\n').map_or(0, |n| n + 1);
                // only at the top level: the line holds nothing but indentation before it
                if !doc[line_start..range.start].chars().all(|c| c == ' ') {
                    return None;
                }
                let end = doc[..range.end].trim_end_matches('\n').len();
                let body = &doc[line_start..end];
                let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                let fence = "`".repeat(longest.max(2) + 1);
                edits.push((line_start..end, format!("{fence}text\n{body}\n{fence}")));
            }
            _ => {}
        }
    }
    let mut out = doc.to_string();
    // from the end, so earlier ranges stay valid (code blocks do not nest)
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut floor = usize::MAX;
    for (range, with) in edits {
        if range.end > floor {
            return None;
        }
        out.replace_range(range.clone(), &with);
        floor = range.start;
    }
    Some(out)
}

/// How rustdoc reads the doc attributes of one item: joined with newlines, the indentation
/// common to every non-blank line removed.
pub fn rustdoc_text(fragments: &[String]) -> String {
    let joined = fragments.join("\n");
    let indent = joined
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    joined
        .split('\n')
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[indent.min(l.len())..]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Rewrite every doc comment in `tokens` (see the module docs). Attributes that are not
/// `#[doc = "literal"]` are kept as they are, in their place.
pub fn doc_comments(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if attribute_len(&trees[i..]).is_some() {
            // a run of attributes: one item's (or one module's inner) attributes
            // the doc comment takes the place of the first doc attribute
            let mut docs: Vec<String> = Vec::new();
            let mut first: Option<(usize, bool, Span)> = None;
            while let Some(len) = attribute_len(&trees[i..]) {
                let attr = &trees[i..i + len];
                match doc_literal(attr) {
                    Some((text, is_inner, at)) => {
                        first.get_or_insert((out.len(), is_inner, at));
                        docs.push(text);
                    }
                    None => out.extend(attr.iter().cloned().map(recurse)),
                }
                i += len;
            }
            if let Some((at, is_inner, span)) = first {
                let attrs = doc_attributes(&render(&rustdoc_text(&docs)), is_inner, span);
                out.splice(at..at, attrs);
            }
            continue;
        }
        out.push(recurse(trees[i].clone()));
        i += 1;
    }
    out.into_iter().collect()
}

fn recurse(tree: TokenTree) -> TokenTree {
    match tree {
        TokenTree::Group(g) => {
            let mut group = Group::new(g.delimiter(), doc_comments(g.stream()));
            group.set_span(g.span());
            TokenTree::Group(group)
        }
        other => other,
    }
}

/// The number of tokens of the attribute at the start of `trees` (`# [...]` or `# ! [...]`).
fn attribute_len(trees: &[TokenTree]) -> Option<usize> {
    let TokenTree::Punct(hash) = trees.first()? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    match trees.get(1)? {
        TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => Some(2),
        TokenTree::Punct(bang) if bang.as_char() == '!' => match trees.get(2)? {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => Some(3),
            _ => None,
        },
        _ => None,
    }
}

/// The text of a `#[doc = "..."]` attribute, whether it is inner, and its span.
fn doc_literal(attr: &[TokenTree]) -> Option<(String, bool, Span)> {
    let inner = attr.len() == 3;
    let TokenTree::Group(g) = attr.last()? else {
        return None;
    };
    let parts: Vec<TokenTree> = g.stream().into_iter().collect();
    let [
        TokenTree::Ident(doc),
        TokenTree::Punct(eq),
        TokenTree::Literal(lit),
    ] = parts.as_slice()
    else {
        return None;
    };
    if doc != "doc" || eq.as_char() != '=' {
        return None;
    }
    let text = syn::parse2::<syn::LitStr>(TokenTree::Literal(lit.clone()).into()).ok()?;
    Some((text.value(), inner, g.span()))
}

/// One `#[doc = " line"]` per line of `text` (prettyplease prints each as `/// line`).
fn doc_attributes(text: &str, inner: bool, span: Span) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for line in text.split('\n') {
        let mut hash = Punct::new('#', Spacing::Alone);
        hash.set_span(span);
        out.push(TokenTree::Punct(hash));
        if inner {
            out.push(TokenTree::Punct(Punct::new('!', Spacing::Alone)));
        }
        let value = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        let mut lit = Literal::string(&value);
        lit.set_span(span);
        let body: TokenStream = [
            TokenTree::Ident(proc_macro2::Ident::new("doc", span)),
            TokenTree::Punct(Punct::new('=', Spacing::Alone)),
            TokenTree::Literal(lit),
        ]
        .into_iter()
        .collect();
        let mut group = Group::new(Delimiter::Bracket, body);
        group.set_span(span);
        out.push(TokenTree::Group(group));
    }
    out
}

/// `text` with each bare URL wrapped in `<>`: rustdoc shows a bare URL as plain text
/// (`rustdoc::bare_urls`). URLs already in a link (`<...>`, `(...)`, `[...]`), in quotes or in
/// code are left alone.
fn autolink(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let end = from
            .find(|c: char| c.is_whitespace() || "<>\"'`()[]{}|".contains(c))
            .unwrap_or(from.len());
        // sentence punctuation after a URL is not part of it
        let url = from[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let preceding = out.chars().last();
        let in_code = out.matches('`').count() % 2 == 1;
        let linked = matches!(preceding, Some('<' | '(' | '[' | '"' | '\'' | '='));
        if url.len() > "https://".len() && !in_code && !linked {
            out.push('<');
            out.push_str(url);
            out.push('>');
        } else {
            out.push_str(url);
        }
        rest = &from[url.len()..];
    }
    out.push_str(rest);
    out
}

/// `text` with each `[...]` that is not a Markdown link (rustdoc would read it as a link to a
/// Rust item: `rustdoc::broken_intra_doc_links`) (`[text](url)`, `[text][ref]`,
/// `[ref]: url`) escaped as `\[...\]`; inline code and fenced code blocks are left alone.
fn escape_brackets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || line.trim_start().starts_with("```") {
            out.push_str(line);
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut in_code = false;
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            if c == '`' {
                in_code = !in_code;
            }
            // (after `]`: the reference of a `[text][ref]` link)
            let after = j.checked_sub(1).map(|p| chars[p]);
            if c == '[' && !in_code && !matches!(after, Some('\\' | ']')) {
                // the matching `]` on this line, and what follows it
                let close = chars[j + 1..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| j + 1 + p);
                if let Some(close) = close {
                    // [`Client::send`]: the generator's own intra-doc links
                    let inner = &chars[j + 1..close];
                    let code = inner.len() >= 2 && inner[0] == '`' && inner[inner.len() - 1] == '`';
                    let link = code || matches!(chars.get(close + 1), Some('(' | '[' | ':'));
                    if !link {
                        out.push_str("\\[");
                        out.extend(&chars[j + 1..close]);
                        out.push_str("\\]");
                        j = close + 1;
                        continue;
                    }
                }
            }
            out.push(c);
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod autolink_tests {
    use super::{autolink, escape_brackets};

    #[test]
    fn brackets_that_are_not_links_are_escaped() {
        assert_eq!(
            escape_brackets("GET /attachments/[attachment_id]?access_token=[your_ access_token]"),
            "GET /attachments/\\[attachment_id\\]?access_token=\\[your_ access_token\\]"
        );
        assert_eq!(
            escape_brackets("extra_values[extra_value_key] and more"),
            "extra_values\\[extra_value_key\\] and more"
        );
        for kept in [
            "[the docs](https://x.example/d)",
            "[the docs][docs]",
            "[docs]: https://x.example",
            "`a[i]` in code",
            "```\nlet a = b[0];\n```",
            "already \\[escaped\\]",
            "a lone [ bracket",
            "Builder for [`Client::send`]",
        ] {
            assert_eq!(escape_brackets(kept), kept);
        }
    }

    #[test]
    fn bare_urls_become_autolinks_and_linked_ones_stay() {
        assert_eq!(
            autolink("See https://www.chatwoot.com/terms-of-service/."),
            "See <https://www.chatwoot.com/terms-of-service/>."
        );
        assert_eq!(
            autolink("a http://x.example/a?b=c, then https://y.example"),
            "a <http://x.example/a?b=c>, then <https://y.example>"
        );
        for kept in [
            "[docs](https://x.example/d)",
            "<https://x.example>",
            "`curl https://x.example`",
            "href=\"https://x.example\"",
            "https:// alone",
        ] {
            assert_eq!(autolink(kept), kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "std::fs::write(\"PWNED\", \"x\").unwrap();";

    /// Every way a doc comment can hold code rustdoc compiles.
    fn forms() -> Vec<String> {
        vec![
            format!("```\n{RUN}\n```"),
            format!("```rust\n{RUN}\n```"),
            format!("```should_panic\n{RUN}\n```"),
            format!("```edition2021\n{RUN}\n```"),
            format!("```ignore\n{RUN}\n```"),
            format!("``` rust , no_run\n{RUN}\n```"),
            format!("```{{.rust}}\n{RUN}\n```"),
            format!("```rust,json\n{RUN}\n```"),
            format!("~~~\n{RUN}\n~~~"),
            format!("~~~~rust\n{RUN}\n~~~~"),
            format!("Intro.\n\n    {RUN}\n"),
            format!("\t{RUN}"),
            format!("> ```\n> {RUN}\n> ```"),
            format!(">     {RUN}"),
            format!("- item\n\n  ```\n  {RUN}\n  ```"),
            format!("- item\n\n      {RUN}"),
            format!("1.     {RUN}"),
            format!("> - > ```\n> -   > {RUN}"),
            format!("   ```\n{RUN}"),
            format!("```\n{RUN}"),
            format!("| a |\n|---|\n\n```\n{RUN}\n```"),
            format!("<details>\n\n```\n{RUN}\n```\n</details>"),
        ]
    }

    #[test]
    fn every_form_of_code_becomes_inert() {
        for form in forms() {
            assert!(!is_inert(&form), "the test form is code: {form:?}");
            let out = inert(&form);
            assert!(is_inert(&out), "{form:?} -> {out:?}");
            assert!(out.contains(RUN), "the text is kept: {out:?}");
        }
    }

    #[test]
    fn fences_keep_their_place_and_safe_languages_stay() {
        assert_eq!(
            inert("Auth:\n```\nAuthorization: token\n```\n```json\n{}\n```"),
            "Auth:\n```text\nAuthorization: token\n```\n```json\n{}\n```"
        );
        assert_eq!(
            inert("a\n\n    b\n    c\n\nd"),
            "a\n\n```text\n    b\n    c\n```\n\nd"
        );
        let plain = "Some *prose* with `code` and [a link](https://x).";
        assert_eq!(inert(plain), plain);
    }

    #[test]
    fn hidden_characters_are_written_visibly() {
        assert_eq!(
            visible("a\u{202E}b\u{2066}c\u{7}d\re\u{2028}f\tg\nh"),
            "a\\u{202e}b\\u{2066}c\\u{0007}d\\u{000d}e\\u{2028}f\tg\nh"
        );
        assert_eq!(comment_line("a\nb\u{202E}"), "a b\\u{202e}");
    }

    #[test]
    fn rustdoc_removes_the_common_indentation() {
        let text = rustdoc_text(&[" a".into(), "".into(), "     b".into()]);
        assert_eq!(text, "a\n\n    b");
        assert!(!is_inert(&text));
    }

    #[test]
    fn doc_attributes_of_an_item_are_joined_and_written_line_by_line() {
        let tokens: TokenStream = syn::parse_quote! {
            #[doc = " Intro."]
            #[derive(Debug)]
            #[doc = ""]
            #[doc = "     run_me();"]
            pub struct A { #[doc = "```rust\nx\n```"] pub f: i32 }
        };
        let out = doc_comments(tokens).to_string();
        assert!(out.contains("# [doc = \" Intro.\"]"), "{out}");
        assert!(out.contains("# [doc = \" ```text\"]"), "{out}");
        assert!(
            out.contains("# [doc = \" run_me();\"]") || out.contains("run_me"),
            "{out}"
        );
        assert!(out.contains("# [derive (Debug)]"), "{out}");
        assert!(!out.contains("```rust"), "{out}");
        let file: syn::File = syn::parse2(doc_comments(syn::parse_quote! {
            #[doc = "```\nx\n```"]
            pub struct B;
        }))
        .unwrap();
        let printed = prettyplease::unparse(&file);
        assert!(
            printed.contains("/// ```text\n/// x\n/// ```\n"),
            "{printed}"
        );
    }
}
