//! Where a pinned copy came from: when `regen --live` (and `update --live`) pins a document it
//! downloaded, the `origin` of that source in sources.toml names where the bytes were fetched
//! from, and when. Only that one value of sources.toml is rewritten; every other byte and
//! comment stays as it is.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use agentstatus_codegen::sources::{Source, SourceKind, Sources};
use agentstatus_codegen::{Error, ErrorKind, Location};
use serde::Deserialize;
use toml::Spanned;

use crate::fetch::{self, Current};

/// The origin to record for `source` whose pinned copy now holds what [`fetch::current`] named
/// `fetched_from`, on `date`: the final URL (after redirects) when it was downloaded from the
/// source's own URL; the source's URL, said to have come through a mirror, when a `--mirror`
/// served it (a mirror's address is never recorded: it is not the vendor's); the source's URL,
/// said to be a copy, when a `--sources` folder gave it (the old origin, naming an older commit,
/// would be false). `None` for a hand-written source (ours): the origin stays.
pub fn fetched_origin(
    current: &Current,
    vendor: &str,
    source: &Source,
    fetched_from: &Path,
    date: &str,
) -> Option<String> {
    if source.kind == SourceKind::HandWritten {
        return None;
    }
    match current {
        Current::Live { mirror: None, .. } => {
            // fetch names a download by its final URL, without user name or password
            Some(format!(
                "{} (fetched {date})",
                printable(&fetched_from.to_string_lossy())
            ))
        }
        Current::Live {
            mirror: Some(_),
            timeout,
        } => {
            // the source's own URL as a download from it would name it (no user name or
            // password), not the mirror's
            let direct = Current::Live {
                mirror: None,
                timeout: *timeout,
            };
            let url = fetch::live_url(&direct, vendor, source)?;
            Some(format!(
                "{} (fetched {date} through a mirror)",
                printable(&url)
            ))
        }
        Current::Dir(_) => {
            // a copy someone else downloaded: the vendor's URL it stands for, and that its
            // commit is not known here (the folder's path is ours, not the vendor's)
            let direct = Current::Live {
                mirror: None,
                timeout: std::time::Duration::ZERO,
            };
            let url = fetch::live_url(&direct, vendor, source)?;
            Some(format!(
                "{} (pinned {date} from a copy given with --sources, not downloaded: the commit it \
                 was published at is not known)",
                printable(&url)
            ))
        }
    }
}

/// `url` with every character that is not a visible ASCII character percent-encoded (UTF-8),
/// so the origin is one line of plain text in sources.toml and in openapi.yaml's header. A
/// parsed URL has none.
fn printable(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `s` as a TOML basic string: quotes and backslashes escaped, and everything that is not
/// visible ASCII or a space as a `\u` escape (the file stays ASCII, no control or bidi
/// character is written raw).
pub fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Where a source's values are in the text of sources.toml.
#[derive(Deserialize)]
struct Layout {
    #[serde(rename = "source", default)]
    sources: Vec<SourceLayout>,
}

#[derive(Deserialize)]
struct SourceLayout {
    pinned: Spanned<String>,
    #[serde(default)]
    origin: Option<Spanned<String>>,
}

/// The text of sources.toml (`text`, read from `path`) with the origin of each source
/// `(index, origin)` set, and what it parses to. Only the value of each `origin = ...` is
/// replaced (a source without one gets an `origin` line after its `pinned` line); the result
/// is checked to read exactly as the old text with those origins set, else nothing is
/// returned but the error.
pub fn set_origins(
    text: &str,
    path: &Path,
    origins: &[(usize, String)],
) -> Result<(String, Sources), Error> {
    let fail = |message: String| Error::new(ErrorKind::Invalid, path, Location::File, message);
    let layout: Layout =
        toml::from_str(text).map_err(|e| fail(format!("cannot read: {}", e.message())))?;
    let mut expected: toml::Table =
        toml::from_str(text).map_err(|e| fail(format!("cannot read: {}", e.message())))?;
    // the edits from the end of the file back, so each span is still where it was
    let mut edits: Vec<(&SourceLayout, usize, &str)> = Vec::new();
    for (i, origin) in origins {
        let Some(source) = layout.sources.get(*i) else {
            return Err(fail(format!("no source number {i}")));
        };
        let table = expected
            .get_mut("source")
            .and_then(|s| s.as_array_mut())
            .and_then(|a| a.get_mut(*i))
            .and_then(|t| t.as_table_mut())
            .ok_or_else(|| fail(format!("no source number {i}")))?;
        table.insert("origin".into(), toml::Value::String(origin.clone()));
        edits.push((source, *i, origin));
    }
    edits.sort_by_key(|(s, _, _)| std::cmp::Reverse(s.pinned.span().start));
    let mut new = text.to_string();
    for (source, i, origin) in edits {
        let quoted = basic_string(origin);
        let candidates: Vec<(Range<usize>, String)> = match &source.origin {
            Some(old) => vec![(old.span(), quoted)],
            None => {
                let span = source.pinned.span();
                // a line of its own after the `pinned` line (a `[[source]]` table), or after
                // the value in an inline table
                let eol = new[span.end..]
                    .find('\n')
                    .map_or(new.len(), |n| span.end + n + 1);
                let start = new[..span.start].rfind('\n').map_or(0, |n| n + 1);
                let indent: String = new[start..]
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                // the line's own line ending, else the file's
                let crlf = if new[..eol].ends_with('\n') {
                    new[..eol].ends_with("\r\n")
                } else {
                    new.contains("\r\n")
                };
                let newline = if crlf { "\r\n" } else { "\n" };
                let before = if new[..eol].ends_with('\n') {
                    ""
                } else {
                    newline
                };
                vec![
                    (
                        eol..eol,
                        format!("{before}{indent}origin = {quoted}{newline}"),
                    ),
                    (span.end..span.end, format!(", origin = {quoted}")),
                ]
            }
        };
        let edited = candidates.into_iter().find_map(|(range, with)| {
            let mut candidate = new.clone();
            candidate.replace_range(range, &with);
            let reads = toml::from_str::<Layout>(&candidate).ok()?;
            let recorded = reads.sources.get(i)?.origin.as_ref()?;
            (recorded.get_ref() == origin).then_some(candidate)
        });
        new = edited.ok_or_else(|| {
            fail(format!(
                "cannot record the origin of source number {i}: no edit of its `origin` reads back"
            ))
        })?;
    }
    let reads: toml::Table = toml::from_str(&new)
        .map_err(|e| fail(format!("the edited text does not read: {}", e.message())))?;
    if reads != expected {
        return Err(fail(
            "the edited text reads differently from the old one with the new origins".into(),
        ));
    }
    let sources = Sources::parse(&new, path)?;
    Ok((new, sources))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TEXT: &str = "# a comment\nvendor = \"v\"\n\n[[source]]\nname = \"a\"\nkind = \"openapi\" # kind\nurl = \"https://example.com/a.json\"\npinned = \"upstream/a.json\"\norigin = 'old a' # kept comment\noperations = [\"GET /a\"]\n\n[[source]]\n# b has no origin\nname = \"b\"\nkind = \"openapi\"\nurl = \"https://example.com/b.json\"\n  pinned = \"upstream/b.json\"   # pinned b\noperations = [\"GET /b\"]\n\n[[source]]\nname = \"c\"\nkind = \"openapi\"\nurl = \"https://example.com/c.json\"\npinned = \"upstream/c.json\"\norigin = \"\"\"old\nc\"\"\"\noperations = [\"GET /c\"]\n";

    #[test]
    fn only_the_origin_values_change() {
        let origins = [
            (
                0,
                "https://example.com/x\"y\\z (fetched 2026-01-02)".to_string(),
            ),
            (1, "b \u{202e}\u{1F600}\n".to_string()),
            (2, "c".to_string()),
        ];
        let (new, sources) = set_origins(TEXT, Path::new("sources.toml"), &origins).unwrap();
        assert_eq!(
            new,
            TEXT.replace(
                "'old a'",
                r#""https://example.com/x\"y\\z (fetched 2026-01-02)""#
            )
            .replace(
                "  pinned = \"upstream/b.json\"   # pinned b\n",
                "  pinned = \"upstream/b.json\"   # pinned b\n  origin = \"b \\u202E\\U0001F600\\u000A\"\n"
            )
            .replace("\"\"\"old\nc\"\"\"", "\"c\"")
        );
        let got: Vec<_> = sources.sources.iter().map(|s| s.origin.clone()).collect();
        let want: Vec<_> = origins.iter().map(|(_, o)| Some(o.clone())).collect();
        assert_eq!(got, want);

        // one source, the others untouched
        let (new, _) = set_origins(TEXT, Path::new("s"), &origins[2..]).unwrap();
        assert_eq!(new, TEXT.replace("\"\"\"old\nc\"\"\"", "\"c\""));
    }

    #[test]
    fn inline_tables_and_a_last_line_without_newline() {
        let text = "vendor = \"v\"\nsource = [{ name = \"a\", kind = \"openapi\", url = \"u\", pinned = \"p\", operations = [] }]";
        let (new, _) = set_origins(text, Path::new("s"), &[(0, "o".into())]).unwrap();
        assert_eq!(new, text.replace("\"p\"", "\"p\", origin = \"o\""));
        let text = "vendor = \"v\"\r\n[[source]]\r\nname = \"a\"\r\nkind = \"openapi\"\r\nurl = \"u\"\r\noperations = []\r\npinned = \"p\"";
        let (new, _) = set_origins(text, Path::new("s"), &[(0, "o".into())]).unwrap();
        assert_eq!(new, format!("{text}\r\norigin = \"o\"\r\n"));
    }

    #[test]
    fn the_recorded_url_is_the_final_one_or_the_sources_own_through_a_mirror() {
        let source = Sources::parse(TEXT, Path::new("s")).unwrap().sources[0].clone();
        let live = |mirror: Option<&str>| Current::Live {
            mirror: mirror.map(str::to_string),
            timeout: Duration::from_secs(1),
        };
        let from = Path::new("https://example.com/moved/a.json");
        assert_eq!(
            fetched_origin(&live(None), "v", &source, from, "2026-12-06").unwrap(),
            "https://example.com/moved/a.json (fetched 2026-12-06)"
        );
        let mirrored = Path::new("http://127.0.0.1:9/v/a.json");
        assert_eq!(
            fetched_origin(
                &live(Some("http://127.0.0.1:9")),
                "v",
                &source,
                mirrored,
                "2026-12-06"
            )
            .unwrap(),
            "https://example.com/a.json (fetched 2026-12-06 through a mirror)"
        );
        let mut with_password = source.clone();
        with_password.url = "https://user:secret@example.com/a b.json".into();
        assert_eq!(
            fetched_origin(
                &live(Some("http://127.0.0.1:9")),
                "v",
                &with_password,
                mirrored,
                "2026-12-06"
            )
            .unwrap(),
            "https://example.com/a%20b.json (fetched 2026-12-06 through a mirror)"
        );
        assert_eq!(
            fetched_origin(&Current::Dir("d".into()), "v", &source, from, "2026-12-06").unwrap(),
            "https://example.com/a.json (pinned 2026-12-06 from a copy given with --sources, not \
             downloaded: the commit it was published at is not known)"
        );
        let mut hand = source;
        hand.kind = SourceKind::HandWritten;
        assert_eq!(
            fetched_origin(&live(None), "v", &hand, from, "2026-12-06"),
            None
        );
    }
}
