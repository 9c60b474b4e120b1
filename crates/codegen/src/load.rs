//! Loading JSON or YAML documents as published: byte-order marks, CRLF line endings, zero-width
//! spaces and UTF-16 surrogate escapes are all dealt with before parsing.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Location, Result};

/// Characters that are invisible, carry no meaning in an API description and break lookups when
/// they land in a key (Engage Digital's spec has 146 U+200B in its text).
const INVISIBLE: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Read a file; the error names it.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            path,
            Location::File,
            format!("cannot read: {e}"),
        )
    })
}

/// Read and parse a JSON or YAML file.
pub fn load_file(path: &Path) -> Result<Value> {
    parse_bytes(&read(path)?, path)
}

/// Parse JSON or YAML from bytes; `origin` names the source in errors.
pub fn parse_bytes(bytes: &[u8], origin: &Path) -> Result<Value> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(&String::from_utf8_lossy(&bytes[..e.valid_up_to()]));
        Error::new(
            ErrorKind::Syntax,
            origin,
            Location::LineColumn { line, column },
            "not valid UTF-8",
        )
    })?;
    parse_str(text, origin)
}

/// Parse JSON or YAML text. JSON is recognised by its first significant character.
pub fn parse_str(text: &str, origin: &Path) -> Result<Value> {
    let text = clean(text);
    let first = text.trim_start().chars().next();
    if matches!(first, Some('{') | Some('[')) {
        parse_json(&text, origin)
    } else {
        parse_yaml(&text, origin)
    }
}

/// Remove what is invisible and normalise line endings. Line numbers are preserved.
pub fn clean(text: &str) -> String {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push('\n'),
            c if INVISIBLE.contains(&c) => {}
            c => out.push(c),
        }
    }
    out
}

fn parse_json(text: &str, origin: &Path) -> Result<Value> {
    let fixed = fix_lone_surrogates(text);
    serde_json::from_str(&fixed).map_err(|e| {
        Error::new(
            ErrorKind::Syntax,
            origin,
            Location::LineColumn {
                line: e.line(),
                column: e.column(),
            },
            format!("invalid JSON: {}", strip_position(&e.to_string())),
        )
    })
}

fn parse_yaml(text: &str, origin: &Path) -> Result<Value> {
    let fixed = join_surrogate_escapes(text);
    // OpenAPI documents are YAML 1.2: `no`, `on`, `yes` are strings, not booleans.
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<Value>(&fixed, options).map_err(|e| {
        let location = e
            .location()
            .map(|l| Location::LineColumn {
                line: l.line() as usize,
                column: l.column() as usize,
            })
            .unwrap_or(Location::File);
        let message = e.to_string();
        let first = message.lines().next().unwrap_or("").to_string();
        Error::new(
            ErrorKind::Syntax,
            origin,
            location,
            format!("invalid YAML: {first}"),
        )
    })
}

fn strip_position(msg: &str) -> &str {
    msg.rsplit_once(" at line ").map_or(msg, |(m, _)| m)
}

/// 1-based line and column of the end of `prefix`.
pub fn line_col(prefix: &str) -> (usize, usize) {
    let line = prefix.matches('\n').count() + 1;
    let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parse `\uXXXX` at `s[i..]`, returning the code unit.
fn escape_at(s: &str, i: usize) -> Option<u16> {
    let rest = s.get(i..)?;
    let hex = rest.strip_prefix("\\u")?.get(..4)?;
    u16::from_str_radix(hex, 16).ok()
}

/// Is the backslash at byte `i` itself escaped (preceded by an odd number of backslashes)?
fn is_escaped(s: &str, i: usize) -> bool {
    s.as_bytes()[..i]
        .iter()
        .rev()
        .take_while(|b| **b == b'\\')
        .count()
        % 2
        == 1
}

/// YAML double-quoted strings have `\U` for characters beyond the BMP; some loaders reject the
/// JSON-style surrogate pair `\ud83d\udee0`. Join such pairs into one `\UXXXXXXXX` escape and
/// replace lone surrogates by U+FFFD.
fn join_surrogate_escapes(text: &str) -> String {
    rewrite_surrogates(text, |c| format!("\\U{:08X}", c as u32), "\\uFFFD")
}

/// serde_json handles surrogate pairs but rejects lone surrogates: replace them by U+FFFD.
fn fix_lone_surrogates(text: &str) -> String {
    rewrite_surrogates(text, |c| c.to_string(), "\\uFFFD")
}

fn rewrite_surrogates(text: &str, pair: impl Fn(char) -> String, lone: &str) -> String {
    if !text.contains("\\u") && !text.contains("\\U") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escape = (text.as_bytes()[i] == b'\\' && !is_escaped(text, i))
            .then(|| escape_at(text, i))
            .flatten();
        if let Some(hi) = escape.filter(|u| (0xD800..0xE000).contains(u)) {
            let lo = escape_at(text, i + 6).filter(|lo| (0xDC00..0xE000).contains(lo));
            match lo {
                Some(lo) if hi < 0xDC00 => {
                    let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                    out.push_str(&pair(char::from_u32(c).unwrap_or('\u{FFFD}')));
                    i += 12;
                }
                _ => {
                    out.push_str(lone);
                    i += 6;
                }
            }
            continue;
        }
        let c = text[i..].chars().next().expect("i is on a char boundary");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Value> {
        parse_str(s, Path::new("t.yaml"))
    }

    #[test]
    fn bom_crlf_and_zero_width_spaces() {
        let v = p("\u{FEFF}a:\r\n  b\u{200B}: \"x\u{200B}y\"\r\n").unwrap();
        assert_eq!(v, serde_json::json!({"a": {"b": "xy"}}));
    }

    #[test]
    fn yaml_1_1_booleans_are_strings() {
        let v = p("description: no\nflag: on\nreal: true\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"description": "no", "flag": "on", "real": true})
        );
    }

    #[test]
    fn surrogate_pair_in_yaml_and_json() {
        let v = p("emoji: \"\\ud83d\\udee0\\ufe0f\"\n").unwrap();
        assert_eq!(v["emoji"], "\u{1F6E0}\u{FE0F}");
        let v = p("{\"emoji\": \"\\ud83d\\udee0\\ufe0f\"}").unwrap();
        assert_eq!(v["emoji"], "\u{1F6E0}\u{FE0F}");
    }

    #[test]
    fn lone_surrogate_becomes_replacement_char() {
        let v = p("{\"x\": \"a\\ud83db\"}").unwrap();
        assert_eq!(v["x"], "a\u{FFFD}b");
        // an escaped backslash is not an escape
        let v = p("{\"x\": \"\\\\ud83d\"}").unwrap();
        assert_eq!(v["x"], "\\ud83d");
    }

    #[test]
    fn json_syntax_error_has_line_and_column() {
        let e = p("{\n  \"a\": 1,\n  \"b\": }\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.location, Location::LineColumn { line: 3, column: 8 });
        assert!(e.to_string().starts_with("t.yaml:3:8: invalid JSON"), "{e}");
    }

    #[test]
    fn yaml_syntax_error_has_line() {
        let e = p("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert!(matches!(e.location, Location::LineColumn { .. }), "{e:?}");
    }
}
