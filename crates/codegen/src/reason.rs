//! Why a part was left out, as one short line: what the generator said, without the `Debug`
//! dumps progenitor puts in its messages (a `MediaType { .. }` of 470 KB), and grouped by cause
//! for the summaries of `cargo xtask try`, `cargo xtask corpus` and the build's warnings.

use std::collections::BTreeMap;

/// The longest reason [`one_line`] keeps, in characters.
pub const MAX_REASON: usize = 200;

/// `text` as one line of at most [`MAX_REASON`] characters: line breaks and runs of spaces
/// become one space, and a `Debug` dump (`MediaType {`, `Some(`, `{ "key": ...`) is cut off
/// where it starts, with `…`.
pub fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = dump_start(&flat).unwrap_or(flat.len());
    let head = flat[..cut].trim_end().trim_end_matches([':', ',']);
    let mut out: String = head.chars().take(MAX_REASON).collect();
    if cut < flat.len() || head.chars().count() > MAX_REASON {
        out.push('…');
    }
    out
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
