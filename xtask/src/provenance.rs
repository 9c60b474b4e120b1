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
            let url = printable(&fetched_from.to_string_lossy());
            Some(match github_commit(&url) {
                Some((repo, commit, path)) => {
                    format!("{repo} {path} @ {commit} ({url}, fetched {date})")
                }
                None => format!("{url} (fetched {date})"),
            })
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
            let url = printable(&fetch::live_url(&direct, vendor, source)?);
            Some(match github_commit(&url) {
                Some((repo, commit, path)) => {
                    format!("{repo} {path} @ {commit} ({url}, fetched {date} through a mirror)")
                }
                None => format!("{url} (fetched {date} through a mirror)"),
            })
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

/// The repository, commit and path a `raw.githubusercontent.com` URL names when its ref is a
/// commit (40 hex digits): the commit a download came from is then known without asking
/// GitHub. A branch or tag URL names no commit (`None`).
pub fn github_commit(url: &str) -> Option<(String, String, String)> {
    let rest = url
        .strip_prefix("https://raw.githubusercontent.com/")
        .or_else(|| url.strip_prefix("http://raw.githubusercontent.com/"))?;
    let rest = rest.split(['?', '#']).next()?;
    let mut parts = rest.splitn(4, '/');
    let (owner, repo, commit, path) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && !owner.is_empty() && !repo.is_empty() && !path.is_empty()).then(|| {
        (
            format!("{owner}/{repo}"),
            commit.to_ascii_lowercase(),
            path.to_string(),
        )
    })
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
    #[serde(default)]
    sha256: Option<Spanned<String>>,
    #[serde(default)]
    files: Vec<FileLayout>,
}

#[derive(Deserialize)]
struct FileLayout {
    path: Spanned<String>,
    #[serde(default)]
    origin: Option<Spanned<String>>,
    #[serde(default)]
    sha256: Option<Spanned<String>>,
}

/// A value of sources.toml that `regen --live` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Where the pinned copy came from, and when.
    Origin,
    /// The SHA-256 of the pinned copy's bytes.
    Sha256,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Origin => "origin",
            Field::Sha256 => "sha256",
        }
    }
}

/// One value to record: of source number `source`, or of its file number `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub source: usize,
    pub file: Option<usize>,
    pub field: Field,
    pub value: String,
}

impl Layout {
    /// The anchor a new value goes after (`pinned` of a source, `path` of a file), and the
    /// value recorded now, if any.
    fn at(
        &self,
        source: usize,
        file: Option<usize>,
        field: Field,
    ) -> Option<(&Spanned<String>, Option<&Spanned<String>>)> {
        let s = self.sources.get(source)?;
        let (anchor, origin, sha) = match file {
            None => (&s.pinned, &s.origin, &s.sha256),
            Some(j) => {
                let f = s.files.get(j)?;
                (&f.path, &f.origin, &f.sha256)
            }
        };
        let value = match field {
            Field::Origin => origin.as_ref(),
            Field::Sha256 => sha.as_ref(),
        };
        Some((anchor, value))
    }
}

/// Where `source` (and `file`) `field` is in sources.toml (`text`): the 1-based line and column
/// of its value, for an error about it.
pub fn line_of(
    text: &str,
    source: usize,
    file: Option<usize>,
    field: Field,
) -> Option<(usize, usize)> {
    let layout: Layout = toml::from_str(text).ok()?;
    let (_, value) = layout.at(source, file, field)?;
    let start = value?.span().start;
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    Some((line, column))
}

/// The text of sources.toml (`text`, read from `path`) with the origin of each source
/// `(index, origin)` set, and what it parses to (see [`set_fields`]).
#[cfg(test)]
pub fn set_origins(
    text: &str,
    path: &Path,
    origins: &[(usize, String)],
) -> Result<(String, Sources), Error> {
    let edits: Vec<Edit> = origins
        .iter()
        .map(|(i, o)| Edit {
            source: *i,
            file: None,
            field: Field::Origin,
            value: o.clone(),
        })
        .collect();
    set_fields(text, path, &edits)
}

/// The text of sources.toml (`text`, read from `path`) with each edit's value set, and what it
/// parses to. Only the value of each `origin = ...` / `sha256 = ...` is replaced (a source or
/// file without one gets it after its `pinned` line, or after the `path` of an inline table);
/// the result is checked to read exactly as the old text with those values set, else nothing
/// is returned but the error.
pub fn set_fields(text: &str, path: &Path, edits: &[Edit]) -> Result<(String, Sources), Error> {
    let fail = |message: String| Error::new(ErrorKind::Invalid, path, Location::File, message);
    let layout: Layout =
        toml::from_str(text).map_err(|e| fail(format!("cannot read: {}", e.message())))?;
    let mut expected: toml::Table =
        toml::from_str(text).map_err(|e| fail(format!("cannot read: {}", e.message())))?;
    let what = |e: &Edit| match e.file {
        None => format!("source number {}", e.source),
        Some(j) => format!("file number {j} of source number {}", e.source),
    };
    // each edit with where it lands, applied from the end of the file back so that every
    // span is still where it was
    let mut placed: Vec<(usize, &Edit)> = Vec::new();
    for e in edits {
        let Some((anchor, value)) = layout.at(e.source, e.file, e.field) else {
            return Err(fail(format!("no {}", what(e))));
        };
        let mut table = expected
            .get_mut("source")
            .and_then(|s| s.as_array_mut())
            .and_then(|a| a.get_mut(e.source))
            .and_then(|t| t.as_table_mut())
            .ok_or_else(|| fail(format!("no {}", what(e))))?;
        if let Some(j) = e.file {
            table = table
                .get_mut("files")
                .and_then(|f| f.as_array_mut())
                .and_then(|a| a.get_mut(j))
                .and_then(|t| t.as_table_mut())
                .ok_or_else(|| fail(format!("no {}", what(e))))?;
        }
        table.insert(e.field.key().into(), toml::Value::String(e.value.clone()));
        let at = value.map_or(anchor.span().end, |v| v.span().start);
        placed.push((at, e));
    }
    placed.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut new = text.to_string();
    for (_, e) in placed {
        // the spans of this edit in the text as edited so far (only later parts changed)
        let now: Layout = toml::from_str(&new)
            .map_err(|err| fail(format!("the edited text does not read: {}", err.message())))?;
        let (anchor, value) = now
            .at(e.source, e.file, e.field)
            .ok_or_else(|| fail(format!("no {}", what(e))))?;
        let quoted = basic_string(&e.value);
        let key = e.field.key();
        let candidates: Vec<(Range<usize>, String)> = match value {
            Some(old) => vec![(old.span(), quoted)],
            None => {
                let span = anchor.span();
                // a line of its own after the anchor's line (a `[[source]]` table), or after
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
                let line = (e.file.is_none()).then(|| {
                    (
                        eol..eol,
                        format!("{before}{indent}{key} = {quoted}{newline}"),
                    )
                });
                line.into_iter()
                    .chain([(span.end..span.end, format!(", {key} = {quoted}"))])
                    .collect()
            }
        };
        let edited = candidates.into_iter().find_map(|(range, with)| {
            let mut candidate = new.clone();
            candidate.replace_range(range, &with);
            let reads = toml::from_str::<Layout>(&candidate).ok()?;
            let (_, recorded) = reads.at(e.source, e.file, e.field)?;
            (recorded?.get_ref() == &e.value).then_some(candidate)
        });
        new = edited.ok_or_else(|| {
            fail(format!(
                "cannot record the {key} of {}: no edit of its `{key}` reads back",
                what(e)
            ))
        })?;
    }
    let reads: toml::Table = toml::from_str(&new)
        .map_err(|e| fail(format!("the edited text does not read: {}", e.message())))?;
    if reads != expected {
        return Err(fail(
            "the edited text reads differently from the old one with the new values".into(),
        ));
    }
    let sources = Sources::parse(&new, path)?;
    Ok((new, sources))
}

/// The SHA-256 of `bytes`, as sources.toml records it (64 lower-case hex digits).
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Each pinned copy read (`(source as read, bytes)`) against the `sha256` sources.toml
/// (`text`, at `path`) records for it: a copy whose bytes are not those is an error at the
/// line of the recorded hash. A copy without a recorded hash is not checked.
pub fn verify_pinned(
    text: &str,
    path: &Path,
    sources: &Sources,
    read: &[(Source, Vec<u8>)],
    vendor_dir: &Path,
) -> Result<(), Error> {
    for (source, bytes) in read {
        let Some(expected) = &source.sha256 else {
            continue;
        };
        let actual = sha256(bytes);
        if &actual == expected {
            continue;
        }
        let (i, j) = sources.position_of(source).unwrap_or((0, None));
        let location = line_of(text, i, j, Field::Sha256)
            .map(|(line, column)| Location::LineColumn { line, column })
            .unwrap_or(Location::File);
        return Err(Error::new(
            ErrorKind::Invalid,
            path,
            location,
            format!(
                "the pinned copy {} has sha256 {actual}, not the {expected} recorded when it was \
                 fetched: it changed since (restore it, or pin it again with `cargo xtask regen --live`)",
                vendor_dir.join(&source.pinned).display()
            ),
        ));
    }
    Ok(())
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
    fn hashes_and_the_origins_of_files_go_next_to_their_anchor() {
        let text = "vendor = \"v\"\n\n[[source]]\nname = \"api\"\nkind = \"openapi\"\nurl = \"https://example.com/src/\"\npinned = \"upstream/src\"\njoin = \"concatenate\"\nfiles = [\n    { path = \"a.yaml\", origin = \"old a\" },\n    { path = \"schemas/b.yaml\" },\n]\noperations = [\"GET /a\"]\n\n[[source]]\nname = \"one\"\nkind = \"openapi\"\nurl = \"u\"\npinned = \"upstream/one.json\"\norigin = \"o\"\noperations = []\n";
        let h = |c: char| c.to_string().repeat(64);
        let edit = |source, file, field, value: String| Edit {
            source,
            file,
            field,
            value,
        };
        let edits = [
            edit(0, Some(0), Field::Origin, "new a".into()),
            edit(0, Some(0), Field::Sha256, h('a')),
            edit(0, Some(1), Field::Sha256, h('b')),
            edit(0, Some(1), Field::Origin, "b's own".into()),
            edit(1, None, Field::Sha256, h('c')),
            edit(1, None, Field::Origin, "o2".into()),
        ];
        let (new, sources) = set_fields(text, Path::new("sources.toml"), &edits).unwrap();
        let files = &sources.sources[0].files;
        assert_eq!(files[0].origin.as_deref(), Some("new a"));
        assert_eq!(files[0].sha256, Some(h('a')));
        assert_eq!(files[1].origin.as_deref(), Some("b's own"));
        assert_eq!(files[1].sha256, Some(h('b')));
        assert_eq!(sources.sources[1].sha256, Some(h('c')));
        assert_eq!(sources.sources[1].origin.as_deref(), Some("o2"));
        // the files stay one line each; the source's hash is a line after `pinned`
        assert!(
            new.contains(&format!(
                "    {{ path = \"a.yaml\", sha256 = \"{}\", origin = \"new a\" }},\n",
                h('a')
            )),
            "{new}"
        );
        assert!(
            new.contains(&format!(
                "pinned = \"upstream/one.json\"\nsha256 = \"{}\"\norigin = \"o2\"\n",
                h('c')
            )),
            "{new}"
        );
        // where a recorded hash is, for an error about it
        assert_eq!(line_of(&new, 1, None, Field::Sha256), Some((20, 10)));
        assert_eq!(
            line_of(&new, 0, Some(0), Field::Sha256).map(|p| p.0),
            Some(10)
        );
        assert_eq!(line_of(text, 1, None, Field::Sha256), None);
    }

    #[test]
    fn a_commit_is_known_from_a_raw_github_url_that_names_one() {
        let sha = "0917e1a6466d10c9e69dd498fa447ed16fa486a4";
        assert_eq!(
            github_commit(&format!(
                "https://raw.githubusercontent.com/chatwoot/chatwoot/{sha}/swagger/swagger.json"
            )),
            Some((
                "chatwoot/chatwoot".into(),
                sha.into(),
                "swagger/swagger.json".into()
            ))
        );
        for branch in [
            "https://raw.githubusercontent.com/chatwoot/chatwoot/develop/swagger/swagger.json",
            "https://example.com/0917e1a6466d10c9e69dd498fa447ed16fa486a4/a.json",
            "https://raw.githubusercontent.com/o/r/0917e1a6466d10c9e69dd498fa447ed16fa486a4",
        ] {
            assert_eq!(github_commit(branch), None, "{branch}");
        }
        let source = Sources::parse(TEXT, Path::new("s")).unwrap().sources[0].clone();
        let live = Current::Live {
            mirror: None,
            timeout: Duration::from_secs(1),
        };
        let from = format!("https://raw.githubusercontent.com/o/r/{sha}/api/a.json");
        assert_eq!(
            fetched_origin(&live, "v", &source, Path::new(&from), "2026-12-06").unwrap(),
            format!("o/r api/a.json @ {sha} ({from}, fetched 2026-12-06)")
        );
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
