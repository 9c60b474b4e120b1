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
//!
//! Links: the generator writes intra-doc links of its own (`[`Client::send`]`), and a vendor's
//! text in the same shape would be a link to an item that does not exist (a
//! `rustdoc::broken_intra_doc_links` warning, so a document could fail a `-D warnings` docs
//! build). So the vendor's prose is escaped before generation, where it is still told apart
//! from the generator's text ([`escape_document`], [`escape_vendor`]): only its links to URLs,
//! site paths and anchors stay links. Lines that continue a list item or a quote lazily are
//! indented or quoted as their container's text ([`continue_containers`]), which renders the
//! same and is what clippy's `doc_lazy_continuation` asks for.

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
    // a lazy continuation line indented as its list item's (or quoted as its quote's) text
    let Some(indented) = continue_containers(&linked) else {
        return plain_block(&visible(doc));
    };
    // none of them adds a line or an indentation that makes a code block: checked all the same
    if is_inert(&indented) {
        indented
    } else {
        plain_block(&visible(doc))
    }
}

/// Can rustdoc read the link destination `dest` as an intra-doc link (a path to a Rust item)?
/// It never does for a destination with a `/` (a URL, a site path) or one that is only an
/// anchor (`#section`); every other one it may try to resolve, and a failure is a
/// `rustdoc::broken_intra_doc_links` warning.
fn is_url(dest: &str) -> bool {
    dest.contains('/') || dest.starts_with('#')
}

/// Is the byte at `at` of `text` escaped (an odd number of backslashes before it)?
fn escaped_at(text: &str, at: usize) -> bool {
    text[..at].bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// A vendor's prose (a description, summary or title) as Markdown in which nothing is an
/// intra-doc link or can join the text around it: every `[` and `]` of its text is escaped
/// (`[`Foo`]`, `[x][y]` whose `y` is not defined, `[x](Foo)`, `[x][y]` with `[y]: Foo`, and
/// that definition), except those of a link to a URL, a site path or an anchor (kept, with
/// their reference definitions); and a backtick that opens no code span is escaped, so it
/// cannot pair with one of the text the generator writes around it. Code spans, code blocks
/// and HTML are left as they are. The generator's own intra-doc links (`[`Client::send`]`)
/// are written beside the vendor's prose once it is escaped, and stay links.
pub fn escape_vendor(text: &str) -> String {
    if !text.contains(['[', ']', '`']) {
        return text.to_string();
    }
    let parser = Parser::new_ext(text, options());
    // reference definitions that rustdoc could read as links to items: their labels escaped
    let mut escape: Vec<std::ops::Range<usize>> = parser
        .reference_definitions()
        .iter()
        .filter(|(_, def)| !is_url(&def.dest))
        .map(|(_, def)| {
            let label_end = (def.span.start + 1..def.span.end)
                .find(|&i| text.as_bytes()[i] == b']' && !escaped_at(text, i))
                .map_or(def.span.end, |i| i + 1);
            def.span.start..label_end
        })
        .collect();
    let mut keep: Vec<std::ops::Range<usize>> = Vec::new();
    let mut text_ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for (event, range) in parser.into_offset_iter() {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) if !is_url(&dest_url) => escape.push(range),
            Event::Text(_) => text_ranges.push(range),
            Event::Code(_)
            | Event::Html(_)
            | Event::InlineHtml(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_) => keep.push(range),
            Event::Start(Tag::CodeBlock(_) | Tag::HtmlBlock | Tag::MetadataBlock(_)) => {
                keep.push(range)
            }
            _ => {}
        }
    }
    let inside =
        |ranges: &[std::ops::Range<usize>], at: usize| ranges.iter().any(|r| r.contains(&at));
    let mut out = String::with_capacity(text.len() + 8);
    for (at, c) in text.char_indices() {
        if matches!(c, '[' | ']' | '`') && !escaped_at(text, at) && !inside(&keep, at) {
            let in_text = inside(&text_ranges, at);
            let escape_it = match c {
                '`' => in_text,
                _ => in_text || inside(&escape, at),
            };
            if escape_it {
                out.push('\\');
            }
        }
        out.push(c);
    }
    out
}

/// The prose of the document `doc` (every `description`, `summary` and `title` string, at
/// any depth) made [`escape_vendor`]; values (`example`, `examples`, `default`, `enum`,
/// `const`) and extensions (`x-...`) are left as they are. A title escaped keeps its type
/// name: typify turns every character that cannot be in an identifier into a word break.
pub fn escape_document(doc: &mut serde_json::Value) {
    use serde_json::Value;
    match doc {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("description" | "summary" | "title", Value::String(text)) => {
                        if text.contains(['[', ']', '`']) {
                            *text = escape_vendor(text);
                        }
                    }
                    // maps keyed by the document's names (a property or a component may be
                    // called `example` or `default`): every entry is walked
                    (k, Value::Object(named)) if NAMED_MAPS.contains(&k) => {
                        named.values_mut().for_each(escape_document);
                    }
                    ("example" | "examples" | "default" | "enum" | "const", _) => {}
                    (k, _) if k.starts_with("x-") => {}
                    (_, value) => escape_document(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(escape_document),
        _ => {}
    }
}

/// The keys of OpenAPI objects whose value is a map from the document's own names to objects
/// ([`escape_document`]).
const NAMED_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "securitySchemes",
    "paths",
    "content",
    "callbacks",
    "links",
    "encoding",
    "definitions",
];

/// The containers (list items, block quotes) a line of a paragraph continues, as clippy's
/// `doc_lazy_continuation` reads them: a list item's text starts this many bytes after its
/// marker; a quote needs its `>`.
#[derive(Clone, Copy, Debug)]
enum Container {
    List(usize),
    Quote,
}

/// `doc` with each line that continues a paragraph inside list items or quotes written with
/// the indentation and `>` markers of its containers (clippy's `doc_lazy_continuation`, which
/// also rejects a line indented further than its item's text). Markdown reads such a line as
/// the same continuation, so it renders the same: checked by comparing the parsed events;
/// `None` when they differ. (A line indented with a tab is left as it is: clippy does not
/// measure tab stops.)
pub fn continue_containers(doc: &str) -> Option<String> {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut containers: Vec<Container> = Vec::new();
    let mut footnote = false;
    let mut events = Parser::new_ext(doc, options())
        .into_offset_iter()
        .peekable();
    while let Some((event, range)) = events.next() {
        match event {
            Event::Start(Tag::Item) => {
                let indent = events
                    .peek()
                    .map_or(0, |(_, next)| next.start - range.start);
                containers.push(Container::List(indent));
            }
            Event::Start(Tag::BlockQuote(_)) => containers.push(Container::Quote),
            Event::End(pulldown_cmark::TagEnd::Item | pulldown_cmark::TagEnd::BlockQuote(_)) => {
                containers.pop();
            }
            Event::Start(Tag::FootnoteDefinition(_)) => footnote = true,
            Event::End(pulldown_cmark::TagEnd::FootnoteDefinition) => footnote = false,
            Event::SoftBreak | Event::HardBreak if !containers.is_empty() && !footnote => {
                let Some((next, next_range)) = events.peek() else {
                    continue;
                };
                if matches!(next, Event::End(_)) || next_range.start < range.end {
                    continue;
                }
                let gap = range.end..next_range.start;
                let written = &doc[gap.clone()];
                if written.contains('\t') {
                    // clippy does not measure tab stops, nor lints them
                    continue;
                }
                let quotes = containers
                    .iter()
                    .filter(|c| matches!(c, Container::Quote))
                    .count();
                let want: String = containers
                    .iter()
                    .map(|c| match c {
                        Container::Quote => "> ".to_string(),
                        Container::List(n) => " ".repeat(*n),
                    })
                    .collect();
                let lazy = if quotes > 0 {
                    written.matches('>').count() < quotes
                } else {
                    written.matches(' ').count() != want.len()
                };
                if lazy {
                    edits.push((gap, want));
                }
            }
            _ => {}
        }
    }
    if edits.is_empty() {
        return Some(doc.to_string());
    }
    let mut out = doc.to_string();
    for (range, with) in edits.into_iter().rev() {
        out.replace_range(range, &with);
    }
    let parsed = |text: &str| -> Vec<Event<'static>> {
        Parser::new_ext(text, options())
            .map(|e| e.into_static())
            .collect()
    };
    (parsed(&out) == parsed(doc)).then_some(out)
}

/// `text` with every [`is_hidden`] character written as `\u{...}`.
pub fn visible(text: &str) -> String {
    escape_where(text, is_hidden)
}

/// `text` as one visible line: every [`is_hidden`] character, and every other control
/// character (line feed and tab included), written as `\u{...}`. For what a vendor names (a
/// media type key, a path, a component's name) inside a one-line reason or a skip line: a
/// line break in it stays on the line, seen.
pub fn visible_line(text: &str) -> String {
    escape_where(text, |c| c.is_control() || is_hidden(c))
}

/// `text` with every character `escape` selects written as `\u{...}` (at least four hex digits).
fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> String {
    if !text.chars().any(&escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
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
    // each token is moved, never cloned (`recurse`): a clone of every identifier and literal
    // of the file was most of this rewrite's cost
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if attribute_len(&trees[i..]).is_some() {
            // a run of attributes: one item's (or one module's inner) attributes
            // the doc comment takes the place of the first doc attribute
            let mut docs: Vec<String> = Vec::new();
            let mut first: Option<(usize, bool, Span)> = None;
            while let Some(len) = attribute_len(&trees[i..]) {
                match doc_literal(&trees[i..i + len]) {
                    Some((text, is_inner, at)) => {
                        first.get_or_insert((out.len(), is_inner, at));
                        docs.push(text);
                    }
                    None => {
                        for tree in &mut trees[i..i + len] {
                            out.push(recurse(take(tree)));
                        }
                    }
                }
                i += len;
            }
            if let Some((at, is_inner, span)) = first {
                let attrs = doc_attributes(&render(&rustdoc_text(&docs)), is_inner, span);
                out.splice(at..at, attrs);
            }
            continue;
        }
        out.push(recurse(take(&mut trees[i])));
        i += 1;
    }
    out.into_iter().collect()
}

/// Take the token at `slot`, leaving a cheap placeholder (a `,`, never read again).
fn take(slot: &mut TokenTree) -> TokenTree {
    std::mem::replace(slot, TokenTree::Punct(Punct::new(',', Spacing::Alone)))
}

fn recurse(tree: TokenTree) -> TokenTree {
    match tree {
        TokenTree::Group(g) => {
            let (delimiter, span) = (g.delimiter(), g.span());
            // the group dropped before its stream is walked: the stream's only owner moves
            // its tokens instead of cloning them
            let stream = g.stream();
            drop(g);
            let mut group = Group::new(delimiter, doc_comments(stream));
            group.set_span(span);
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
    // the literal read as it is (no parse buffer for one token)
    let syn::Lit::Str(text) = syn::Lit::new(lit.clone()) else {
        return None;
    };
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
        let mut back = out.chars().rev();
        let (preceding, before_that) = (back.next(), back.next());
        let in_code = out.matches('`').count() % 2 == 1;
        // `(` is a link's destination only after `]` (`[text](url)`); in prose, `(url)` is a
        // parenthesis around a bare URL
        let linked = match preceding {
            Some('<' | '[' | '"' | '\'' | '=') => true,
            Some('(') => before_that == Some(']'),
            _ => false,
        };
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
        // a parenthesis around a bare URL is no link (Graph's subscription `resource`)
        assert_eq!(
            autolink("Do not include the base URL (https://x.example/beta/). See"),
            "Do not include the base URL (<https://x.example/beta/>). See"
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
        assert_eq!(
            visible_line("a\u{202E}b\u{1b}[31mc\rd\ne\tf\u{2029}g\u{85}h"),
            "a\\u{202e}b\\u{001b}[31mc\\u{000d}d\\u{000a}e\\u{0009}f\\u{2029}g\\u{0085}h"
        );
        assert_eq!(visible_line("application/json"), "application/json");
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

#[cfg(test)]
mod vendor_prose_tests {
    use super::*;
    use pulldown_cmark::{BrokenLink, CowStr};

    /// What rustdoc would try to resolve as a path to an item in `doc`: links whose destination
    /// is no URL, and references without a definition (rustdoc's broken-link callback).
    fn intra_doc_candidates(doc: &str) -> Vec<String> {
        let broken = std::cell::RefCell::new(Vec::new());
        let mut callback = |link: BrokenLink<'_>| {
            broken.borrow_mut().push(link.reference.to_string());
            Some((CowStr::from("BROKEN"), CowStr::from("")))
        };
        let mut found: Vec<String> =
            Parser::new_with_broken_link_callback(doc, options(), Some(&mut callback))
                .filter_map(|e| match e {
                    Event::Start(Tag::Link { dest_url, .. }) if !is_url(&dest_url) => {
                        Some(dest_url.to_string())
                    }
                    _ => None,
                })
                .collect();
        found.extend(broken.into_inner());
        found
    }

    const HOSTILE: &[&str] = &[
        "See [`Foo`] and [`Client::nothing`].",
        "[x][y] and [z][] and [w]",
        "[x](Foo) and [y](crate::Bar)",
        "A [reference][r] link.\n\n[r]: Foo",
        "[`Foo`]: crate::Foo\n\n[`Foo`]",
        "a [nested [`Foo`]](https://x.example/a) link",
        "[`Foo`] then an unbalanced ` backtick",
    ];

    #[test]
    fn vendor_prose_is_never_an_intra_doc_link() {
        for text in HOSTILE {
            assert!(
                !intra_doc_candidates(text).is_empty(),
                "the case is a link: {text:?}"
            );
            let escaped = escape_vendor(text);
            assert_eq!(
                intra_doc_candidates(&escaped),
                Vec::<String>::new(),
                "{text:?} -> {escaped:?}"
            );
            // and after the generator's own rendering, beside its own links
            let doc = format!(
                "{escaped}\n\nSends a request: [`Client::send`]\n\n[`Client::send`]: super::Client::send"
            );
            let rendered = render(&doc);
            assert_eq!(
                intra_doc_candidates(&rendered),
                vec!["super::Client::send".to_string()],
                "{rendered:?}"
            );
        }
    }

    #[test]
    fn links_to_urls_stay_links_and_code_stays_code() {
        for kept in [
            "[the docs](https://x.example/d)",
            "[`POST /register`](/api/register-queue) response",
            "[capabilities][c]\n\n[c]: /api/register-queue#parameter",
            "[top](#top)",
            "`a[i]` in code and `[`",
            "```\nlet a = b[0];\n```",
            "already \\[escaped\\]",
            "- [ ] a task",
        ] {
            assert_eq!(escape_vendor(kept), kept);
        }
        assert_eq!(escape_vendor("[`Foo`]"), "\\[`Foo`\\]");
        assert_eq!(escape_vendor("[x][y]"), "\\[x\\]\\[y\\]");
        assert_eq!(
            escape_vendor("[a][r]\n\n[r]: Foo"),
            "\\[a\\]\\[r\\]\n\n\\[r\\]: Foo"
        );
        assert_eq!(escape_vendor("a ` b"), "a \\` b");
    }

    #[test]
    fn a_document_s_prose_is_escaped_and_its_values_are_not() {
        let mut doc = serde_json::json!({
            "info": {"title": "[`T`]", "description": "[`D`]"},
            "components": {"schemas": {"A": {
                "description": "[`A`]",
                "default": {"description": "[`kept`]"},
                "example": {"title": "[`kept`]"},
                "enum": ["[`kept`]"],
                "x-note": {"description": "[`kept`]"},
                "properties": {
                    "description": {"type": "string", "description": "[`P`]"},
                    "example": {"type": "string", "description": "[`E`]"}
                }
            }, "default": {"type": "object", "description": "[`C`]"}}}
        });
        escape_document(&mut doc);
        let s = &doc["components"]["schemas"]["A"];
        assert_eq!(doc["info"]["title"], "\\[`T`\\]");
        assert_eq!(doc["info"]["description"], "\\[`D`\\]");
        assert_eq!(s["description"], "\\[`A`\\]");
        assert_eq!(s["properties"]["description"]["description"], "\\[`P`\\]");
        // a property and a component named like a value keyword are walked all the same
        assert_eq!(s["properties"]["example"]["description"], "\\[`E`\\]");
        assert_eq!(
            doc["components"]["schemas"]["default"]["description"],
            "\\[`C`\\]"
        );
        for kept in [
            &s["default"]["description"],
            &s["example"]["title"],
            &s["enum"][0],
            &s["x-note"]["description"],
        ] {
            assert_eq!(kept, "[`kept`]");
        }
    }

    #[test]
    fn lazy_continuations_are_indented_as_their_containers() {
        for (lazy, fixed) in [
            ("- item\ncontinued", "- item\n  continued"),
            ("1. item\n   two\nthree", "1. item\n   two\n   three"),
            ("- item\n     over", "- item\n  over"),
            ("- a\n  - b\nc", "- a\n  - b\n    c"),
            ("> quote\nlazy", "> quote\n> lazy"),
            ("* a  \nhard break", "* a  \n  hard break"),
        ] {
            assert_eq!(
                continue_containers(lazy).as_deref(),
                Some(fixed),
                "{lazy:?}"
            );
            assert_eq!(render(lazy), fixed);
        }
        for kept in [
            "- item\n  continued",
            "- a\n\nnot in the list",
            "plain\nlines",
            "- a\n- b",
        ] {
            assert_eq!(continue_containers(kept).as_deref(), Some(kept));
        }
    }
}
