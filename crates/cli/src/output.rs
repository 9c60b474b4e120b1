//! Table and JSON output, safe for any server data: a table cell cannot carry a control
//! character, an escape sequence or a bidi override to the terminal (they are shown as `\u{..}`
//! escapes, so a CR in a name cannot forge a row), and JSON escapes the same characters as
//! `\uXXXX`. Rendering never fails on any string and never needs more than the rows themselves:
//! JSON rows are written one by one.

use std::io::{self, Write};

use agentstatus::{AgentPresence, Vendor, is_unsafe_char};
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

/// `text` with every character that could drive a terminal written as a visible escape.
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

/// serde_json's pretty printer, also escaping DEL, C1 controls and bidi controls (serde_json
/// escapes only C0 controls), so JSON printed to a terminal cannot drive it either.
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
                // every unsafe character is in the Basic Multilingual Plane
                write!(writer, "\\u{:04x}", c as u32)?;
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
