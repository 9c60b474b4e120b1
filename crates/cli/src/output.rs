//! Table and JSON output, safe for any server data: a table cell cannot carry a control
//! character, an escape sequence, a line or paragraph separator or a bidi override to the
//! terminal (they are shown as `\u{..}` escapes, so a CR or a U+2028 in a name cannot forge a
//! row), and JSON escapes the same characters as `\uXXXX`. Rendering never fails on any string
//! and never needs more than the rows themselves: JSON rows are written one by one.

use std::io::{self, Write};

use agentstatus::{AgentPresence, Vendor};
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned columns for people; control characters escaped.
    Table,
    /// JSON for programs: one object for one agent, JSON lines (one compact object per line,
    /// written as produced) for lists.
    Json,
}

/// Characters that never reach the output raw, whatever the format: exactly those the presence
/// layer escapes in vendor text ([`agentstatus::is_unsafe_char`]: Unicode's controls, format
/// characters (bidi controls, zero-width characters, tags) and line and paragraph separators).
/// Table cells and messages ([`sanitize`]) and JSON strings ([`write_json`]) escape these.
pub use agentstatus::is_unsafe_char;

/// `text` with every [`is_unsafe_char`] written as a visible `\u{..}` escape, nothing else
/// changed: for table cells, plain progress lines and error messages, which may all carry a
/// server's text.
pub use agentstatus::escape_controls as sanitize;

fn row(p: &AgentPresence) -> [String; 4] {
    let mut status = p.detail.vendor_status.clone();
    if let Some(c) = &p.detail.custom_status_id {
        status.push_str(&format!(" (custom {c})"));
    }
    if !p.detail.channels.is_empty() {
        let channels: Vec<String> = p
            .detail
            .channels
            .iter()
            .map(|c| format!("{}={}", c.name.as_deref().unwrap_or(&c.id), c.status))
            .collect();
        status.push_str(&format!(" [{}]", channels.join(", ")));
    }
    [
        sanitize(&p.agent_id),
        p.name.as_deref().map_or_else(|| "-".into(), sanitize),
        p.availability.to_string(),
        sanitize(&status),
    ]
}

#[derive(Serialize)]
struct Row<'a> {
    vendor: Vendor,
    agent: &'a AgentPresence,
}

/// serde_json's pretty (or compact) printer, also escaping every other [`is_unsafe_char`] (serde_json
/// escapes only C0 controls, `"` and `\`; not DEL, C1, U+2028/U+2029 or format characters), so
/// JSON printed to a terminal cannot drive it, a line-oriented reader sees one line per line,
/// and the document still parses back to the same strings.
struct SafeJson<F>(F);

impl<F: Formatter> Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                // JSON's `\uXXXX` is UTF-16: a character beyond the BMP (a tag character) is
                // written as its surrogate pair
                for unit in c.encode_utf16(&mut [0; 2]) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Write `value` as pretty JSON with the terminal-safe escapes.
pub fn write_json<W: Write, T: Serialize + ?Sized>(w: &mut W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeJson(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// Write `value` as one line of JSON (compact, the terminal-safe escapes, a line feed at the
/// end): a line of JSON lines.
pub fn write_json_line<W: Write, T: Serialize + ?Sized>(w: &mut W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, SafeJson(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

/// Write agents as an aligned table, or JSON (one pretty object when `single`, else JSON lines:
/// one compact object per agent, written row by row).
pub fn write<W: Write>(
    w: &mut W,
    vendor: Vendor,
    list: &[AgentPresence],
    output: Output,
    single: bool,
) -> io::Result<()> {
    match output {
        Output::Json if single && !list.is_empty() => {
            write_json(
                w,
                &Row {
                    vendor,
                    agent: &list[0],
                },
            )?;
            w.write_all(b"\n")
        }
        // JSON lines: one compact object per agent, each written as soon as it is serialised
        Output::Json => list
            .iter()
            .try_for_each(|agent| write_json_line(w, &Row { vendor, agent })),
        Output::Table => {
            let header = ["AGENT", "NAME", "AVAILABILITY", "VENDOR STATUS"].map(String::from);
            let rows: Vec<[String; 4]> = std::iter::once(header)
                .chain(list.iter().map(row))
                .collect();
            write_table(w, &rows)
        }
    }
}

/// Rows of already-sanitised cells (the first row is the header) as aligned columns, two spaces
/// apart, one line per row, laid out by [`tabled`]: no borders, no wrapping or truncation (a cell
/// of any length stays whole on its line), trailing blanks trimmed. A line break left in a cell
/// would split its row: callers pass [`sanitize`]d text, and any line break left is escaped here.
pub fn write_table<W: Write, const N: usize>(w: &mut W, rows: &[[String; N]]) -> io::Result<()> {
    use tabled::settings::object::{Columns, Segment};
    use tabled::settings::{Padding, Style};
    if rows.is_empty() {
        return Ok(());
    }
    let cell = |c: &String| -> String {
        if c.contains(['\n', '\r']) {
            sanitize(c)
        } else {
            c.clone()
        }
    };
    let mut table =
        tabled::builder::Builder::from_iter(rows.iter().map(|r| r.iter().map(cell))).build();
    table
        .with(Style::empty())
        // two spaces between columns, none before the first
        .modify(Segment::all(), Padding::new(1, 1, 0, 0))
        .modify(Columns::first(), Padding::new(0, 1, 0, 0));
    for line in table.to_string().lines() {
        w.write_all(line.trim_end().as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// [`write()`] into a string.
pub fn render(vendor: Vendor, list: &[AgentPresence], output: Output, single: bool) -> String {
    let mut out = Vec::new();
    write(&mut out, vendor, list, output, single).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the output is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentstatus::{Availability, Detail};

    fn agent(id: &str, name: &str) -> AgentPresence {
        AgentPresence::new(
            id,
            Some(name.into()),
            Availability::Available,
            Detail::new("available"),
        )
    }

    #[test]
    fn a_huge_name_renders_without_panicking() {
        let name = "x".repeat(70_000);
        let out = render(
            Vendor::new("rocketchat"),
            &[agent("a", &name)],
            Output::Table,
            false,
        );
        assert!(out.contains(&name));
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let evil = "Ada\r\nforged  row\u{1b}[2J\u{9b}31m\u{7f}\u{202e}gnp.exe";
        let list = [agent("a\u{1b}]0;title\u{7}", evil)];
        let table = render(Vendor::new("rocketchat"), &list, Output::Table, false);
        assert_eq!(table.lines().count(), 2, "{table}");
        let json = render(Vendor::new("rocketchat"), &list, Output::Json, false);
        for out in [&table, &json] {
            assert!(
                !out.chars().any(|c| is_unsafe_char(c) && c != '\n'),
                "{out:?}"
            );
        }
        assert!(table.contains("Ada\\u{d}\\u{a}forged"), "{table}");
        let back = json_lines(&json);
        assert_eq!(
            back[0]["agent"]["name"], evil,
            "JSON keeps the data exactly"
        );
    }

    /// At least one character of every class the command escapes: Cc (C0, DEL, C1 with NEL),
    /// Zl, Zp, and Cf (bidi marks and controls, zero-width characters, the BOM, tags, ...).
    const ESCAPED: &[char] = &[
        '\0',
        '\u{7}',
        '\t',
        '\n',
        '\u{b}',
        '\u{c}',
        '\r',
        '\u{1b}',
        '\u{1c}',
        '\u{1f}',
        '\u{7f}',
        '\u{80}',
        '\u{85}',
        '\u{9b}',
        '\u{9f}',
        '\u{2028}',
        '\u{2029}',
        '\u{ad}',
        '\u{600}',
        '\u{61c}',
        '\u{6dd}',
        '\u{70f}',
        '\u{180e}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{200e}',
        '\u{200f}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{202e}',
        '\u{2060}',
        '\u{2064}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{206a}',
        '\u{206f}',
        '\u{feff}',
        '\u{fff9}',
        '\u{fffb}',
        '\u{110bd}',
        '\u{1d173}',
        '\u{e0001}',
        '\u{e0041}',
        '\u{e007f}',
    ];

    #[test]
    fn separators_controls_and_format_characters_are_escaped_in_every_format() {
        for &c in ESCAPED {
            assert!(is_unsafe_char(c), "{c:?}");
            let name = format!("Ada{c}Lovelace");
            let escaped = format!("Ada{}Lovelace", c.escape_unicode());
            assert_eq!(sanitize(&name), escaped);
            let list = [agent(&format!("id{c}"), &name)];
            let table = render(Vendor::new("chatwoot"), &list, Output::Table, false);
            assert_eq!(table.lines().count(), 2, "{c:?}: {table:?}");
            // the only raw line feeds are the ends of the lines
            assert!(c == '\n' || !table.contains(c), "{c:?}: {table:?}");
            assert!(table.contains(&escaped), "{c:?}: {table:?}");
            for single in [false, true] {
                let json = render(Vendor::new("chatwoot"), &list, Output::Json, single);
                assert!(c == '\n' || !json.contains(c), "{c:?}: {json:?}");
                assert!(
                    !json.chars().any(|c| c != '\n' && is_unsafe_char(c)),
                    "{json:?}"
                );
                // a line-oriented reader sees the lines the printer wrote
                assert_eq!(
                    json.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
                        .count(),
                    json.split('\n').count(),
                    "{c:?}: {json:?}"
                );
                let back: serde_json::Value = serde_json::from_str(&json).unwrap();
                let back = &back;
                assert_eq!(
                    back["agent"]["name"],
                    name.as_str(),
                    "{c:?}: the data is kept"
                );
                assert_eq!(back["agent"]["agent_id"], format!("id{c}"), "{c:?}");
            }
        }
    }

    #[test]
    fn json_escapes_are_utf16_like_json_itself() {
        let json = render(
            Vendor::new("chatwoot"),
            &[agent("a", "x\u{2028}y\u{2029}z\u{202e}\u{85}\u{e0041}")],
            Output::Json,
            true,
        );
        assert!(
            json.contains(r#""x\u2028y\u2029z\u202e\u0085\udb40\udc41""#),
            "{json}"
        );
    }

    #[test]
    fn text_that_is_not_a_control_is_left_alone() {
        let text = "Zoë Ådahl-Núñez 日本語 😀 שלום مرحبا \u{a0}«»";
        assert!(!text.chars().any(is_unsafe_char));
        assert_eq!(sanitize(text), text);
        let list = [agent("a", text)];
        let table = render(Vendor::new("chatwoot"), &list, Output::Table, false);
        assert!(table.contains(text), "{table}");
        let json = render(Vendor::new("chatwoot"), &list, Output::Json, false);
        assert!(json.contains(text), "{json}");
    }

    /// Parse JSON lines: one value per line.
    fn json_lines(text: &str) -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn json_rows_are_json_lines() {
        let list = [agent("a", "A"), agent("b", "B")];
        let json = render(Vendor::new("libredesk"), &list, Output::Json, false);
        assert_eq!(json.lines().count(), 2, "{json}");
        let back = json_lines(&json);
        assert_eq!(back.len(), 2);
        assert_eq!(back[1]["agent"]["agent_id"], "b");
        assert_eq!(back[1]["vendor"], "libredesk");
        let empty = render(Vendor::new("libredesk"), &[], Output::Json, false);
        assert_eq!(empty, "");
        let one = render(Vendor::new("libredesk"), &list[..1], Output::Json, true);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&one).unwrap()["agent"]["agent_id"],
            "a"
        );
    }

    #[test]
    fn tables_are_columns_two_spaces_apart() {
        let rows = [
            ["AGENT", "NAME", "X"].map(String::from),
            ["ada", "Ada Lovelace", ""].map(String::from),
            ["a-much-longer-id", "G", "y"].map(String::from),
        ];
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "AGENT             NAME          X\n\
             ada               Ada Lovelace\n\
             a-much-longer-id  G             y\n"
        );
        // a raw line break left in a cell cannot split its row
        let rows = [
            ["A", "B"].map(String::from),
            ["x\ny", "z\r"].map(String::from),
        ];
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.contains("x\\u{a}y"), "{out}");
    }
}
