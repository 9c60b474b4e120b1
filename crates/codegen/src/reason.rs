//! Why a part was left out, as one short line: what the generator said, without the `Debug`
//! dumps progenitor puts in its messages (a `MediaType { .. }` of 470 KB), and grouped by cause
//! for the summaries of `cargo xtask try`, `cargo xtask corpus` and the build's warnings.

use std::collections::BTreeMap;

/// The longest reason [`one_line`] keeps, in characters.
pub const MAX_REASON: usize = 200;

/// `text` as one line of at most [`MAX_REASON`] characters: line breaks and runs of spaces
/// become one space, a `Debug` dump (`MediaType {`, `Some(`, `{ "key": ...`) is cut off where
/// it starts, with `…`, and every other control, bidi or line-separator character is written
/// as a visible `\u{..}` escape ([`visible`]), never cut in half.
pub fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = dump_start(&flat).unwrap_or(flat.len());
    let head = visible(flat[..cut].trim_end().trim_end_matches([':', ',']));
    let mut out: String = head.chars().take(MAX_REASON).collect();
    let cut_short = out.len() < head.len();
    if cut_short
        && let Some(open) = out.rfind("\\u{")
        && !out[open..].contains('}')
    {
        // an escape the cut would break is left out whole
        out.truncate(open);
    }
    if cut < flat.len() || cut_short {
        out.push('…');
    }
    out
}

/// `text` (what a vendor names: a media type key, a path, a pointer, or a message that quotes
/// one) with every control character (line feed and tab included), bidi and line-separator
/// character written as a visible `\u{..}` escape: safe on one line of a terminal, a log or a
/// build script's output (`cargo::warning=`), where a line break could start a directive.
/// Every reason the passes and isolation give, and every operation label, is made this way
/// where it is made; callers printing a component's pointer (kept raw: it is how the
/// component is found) write it through this.
pub fn visible(text: &str) -> String {
    crate::prose::visible_line(text)
}

/// Where a `Debug` dump starts in `text`: a capitalised type name followed by ` {` or `(`
/// (`MediaType {`, `Some(`, `Item(`), or a `{` opening a map of quoted keys.
fn dump_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'{' {
            // `{ "key"` / `{"key"`: a map dump
            let rest = text[i + 1..].trim_start();
            if rest.starts_with('"') {
                return Some(i);
            }
            // `Name {`: a struct dump
            let before = text[..i].trim_end();
            if let Some(word) = before.rsplit([' ', ':', '(', '[', ',']).next()
                && word.len() > 1
                && word.starts_with(|c: char| c.is_ascii_uppercase())
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Some(i - (text[..i].len() - before.len()) - word.len());
            }
        }
        if b == b'(' {
            let word_start = text[..i]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let word = &text[word_start..i];
            if matches!(word, "Some" | "Item" | "Reference" | "Ok" | "Err") {
                return Some(word_start);
            }
        }
    }
    None
}

/// Reasons grouped by cause: `(cause, how many, the first part)`, most frequent first. The
/// cause is the reason as [`one_line`] writes it; `parts` are `(part, reason)` pairs
/// (`METHOD /path`, why).
pub fn by_cause<'a>(
    parts: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, usize, String)> {
    let mut groups: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (part, reason) in parts {
        let entry = groups
            .entry(one_line(reason))
            .or_insert_with(|| (0, part.to_string()));
        entry.0 += 1;
    }
    let mut out: Vec<(String, usize, String)> = groups
        .into_iter()
        .map(|(cause, (n, first))| (cause, n, first))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// One line of a summary by cause: `<cause>: N operations (first: <part>)`.
pub fn cause_line(cause: &str, count: usize, first: &str, noun: &str) -> String {
    format!(
        "{cause}: {count} {noun}{} (first: {first})",
        if count == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_dumps_are_cut_and_lines_joined() {
        let dump = format!(
            "generator panicked: not yet implemented: media type encoding not empty: MediaType {{\n    schema: Some(\n        Item(\n{}",
            "            x: 1,\n".repeat(10_000)
        );
        assert_eq!(
            one_line(&dump),
            "generator panicked: not yet implemented: media type encoding not empty…"
        );
        let map = "unexpected or unhandled format in the OpenAPI document unexpected content {     \"x-github-event\": MediaType {";
        assert_eq!(
            one_line(map),
            "unexpected or unhandled format in the OpenAPI document unexpected content…"
        );
        assert_eq!(
            one_line(
                "invalid schema for application/octet-stream: Reference { reference: \"#/x\" }"
            ),
            "invalid schema for application/octet-stream…"
        );
        assert_eq!(
            one_line(
                "generator panicked: assertion `left == right` failed\n  left: \"a\"\n right: \"body\""
            ),
            "generator panicked: assertion `left == right` failed left: \"a\" right: \"body\""
        );
        // what is no dump stays
        let plain =
            "its generated code does not compile (line 9782, in `PostX`: E0308: mismatched types)";
        assert_eq!(one_line(plain), plain);
        assert_eq!(
            one_line("unsupported style of query parameter DeepObject"),
            "unsupported style of query parameter DeepObject"
        );
        assert_eq!(
            one_line("reaches /components/schemas/a, which cannot be generated: typify: {}"),
            "reaches /components/schemas/a, which cannot be generated: typify: {}"
        );
    }

    #[test]
    fn hidden_characters_are_escaped_never_cut_in_half() {
        assert_eq!(
            one_line("request body x/y\u{1b}[2J\u{202e}z cannot be sent"),
            "request body x/y\\u{001b}[2J\\u{202e}z cannot be sent"
        );
        // a line separator or a next-line is a break: one space, like a line feed
        assert_eq!(one_line("a\u{2028}b\u{85}c"), "a b c");
        for pad in 0..12 {
            let text = format!("{}{}", "a".repeat(MAX_REASON - pad), "\u{1b}".repeat(20));
            let line = one_line(&text);
            assert!(line.ends_with('…'), "{line}");
            let body = line.trim_end_matches('…');
            assert!(body.chars().count() <= MAX_REASON, "{line}");
            // every escape kept is whole
            assert_eq!(
                body.matches("\\u{").count(),
                body.matches("\\u{001b}").count(),
                "{line}"
            );
        }
        assert_eq!(visible("/p\na\tb"), "/p\\u{000a}a\\u{0009}b");
    }

    #[test]
    fn long_reasons_are_cut_at_a_character() {
        let long = "é".repeat(500);
        let line = one_line(&long);
        assert_eq!(line.chars().count(), MAX_REASON + 1);
        assert!(line.ends_with('…'));
    }

    #[test]
    fn reasons_group_by_cause_most_frequent_first() {
        let skipped = [
            (
                "POST /v1/a",
                "unsupported style of query parameter DeepObject",
            ),
            ("GET /v1/b", "x: MediaType {\n a: 1 }"),
            (
                "GET /v1/c",
                "unsupported style of query parameter DeepObject",
            ),
            ("GET /v1/d", "x: MediaType {\n b: 2 }"),
            (
                "GET /v1/e",
                "unsupported style of query parameter DeepObject",
            ),
        ];
        let groups = by_cause(skipped);
        assert_eq!(
            groups,
            [
                (
                    "unsupported style of query parameter DeepObject".to_string(),
                    3,
                    "POST /v1/a".to_string()
                ),
                ("x…".to_string(), 2, "GET /v1/b".to_string()),
            ]
        );
        assert_eq!(
            cause_line(&groups[0].0, groups[0].1, &groups[0].2, "operation"),
            "unsupported style of query parameter DeepObject: 3 operations (first: POST /v1/a)"
        );
    }
}
