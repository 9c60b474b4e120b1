//! Table and JSON output, safe for any server data: a table cell cannot carry a control
//! character, an escape sequence, a line or paragraph separator or a bidi override to the
//! terminal (they are shown as `\u{..}` escapes, so a CR or a U+2028 in a name cannot forge a
//! row), and JSON escapes the same characters as `\uXXXX`. Rendering never fails on any string
//! and never needs more than the rows themselves: JSON rows are written one by one.

use std::io::{self, Write};

use agentstatus::{AgentPresence, Vendor};
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned columns for people; control characters escaped.
    Table,
    /// One JSON document (one value per line for lists), for programs.
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

/// serde_json's pretty printer, also escaping every other [`is_unsafe_char`] (serde_json
/// escapes only C0 controls, `"` and `\`; not DEL, C1, U+2028/U+2029 or format characters), so
/// JSON printed to a terminal cannot drive it, a line-oriented reader sees one line per line,
/// and the document still parses back to the same strings.
struct SafeJson<'a>(PrettyFormatter<'a>);

impl Formatter for SafeJson<'_> {
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

/// Write agents as an aligned table, or JSON (one object when `single`, else an array written
/// row by row).
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
        Output::Json => {
            w.write_all(b"[")?;
            for (i, agent) in list.iter().enumerate() {
                w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                // each row is its own pretty document, indented like an array element
                let mut one = Vec::new();
                write_json(&mut one, &Row { vendor, agent })?;
                for (n, line) in one.split(|b| *b == b'\n').enumerate() {
                    if n > 0 {
                        w.write_all(b"\n")?;
                    }
                    w.write_all(b"  ")?;
                    w.write_all(line)?;
                }
            }
            w.write_all(if list.is_empty() { b"]\n" } else { b"\n]\n" })
        }
        Output::Table => {
            let header = ["AGENT", "NAME", "AVAILABILITY", "VENDOR STATUS"].map(String::from);
            let rows: Vec<[String; 4]> = std::iter::once(header)
                .chain(list.iter().map(row))
                .collect();
            write_table(w, &rows)
        }
    }
}

/// Rows of already-sanitised cells as aligned columns, two spaces apart, one line per row.
pub fn write_table<W: Write, const N: usize>(w: &mut W, rows: &[[String; N]]) -> io::Result<()> {
    let widths: Vec<usize> = (0..N)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut line = String::new();
    for r in rows {
        line.clear();
        for (i, cell) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            // padded by hand: `{:<w$}` panics for widths over 65,535
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
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
            Detail {
                vendor_status: "available".into(),
                ..Detail::default()
            },
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
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
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
                let back = if single { &back } else { &back[0] };
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

    #[test]
    fn json_rows_are_one_array() {
        let list = [agent("a", "A"), agent("b", "B")];
        let json = render(Vendor::new("libredesk"), &list, Output::Json, false);
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_array().unwrap().len(), 2);
        assert_eq!(back[1]["agent"]["agent_id"], "b");
        assert_eq!(back[1]["vendor"], "libredesk");
        let empty = render(Vendor::new("libredesk"), &[], Output::Json, false);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
        let one = render(Vendor::new("libredesk"), &list[..1], Output::Json, true);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&one).unwrap()["agent"]["agent_id"],
            "a"
        );
    }
}
